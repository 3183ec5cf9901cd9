#!/bin/sh
# fs_status_json.sh -- issue 11 parts 4-5: `status --json` says what the
# text status says (parsed by a JSON parser and compared field by field,
# for one mount and in the every-mount array); `status --watch` prints one
# parseable line a second, never going backwards, and exits 0 once the
# backup ends; the [report] metrics_file (Prometheus text, parsed here)
# and json_file hold what the backup did -- bytes delivered, decision,
# success, start <= end, the error -- for a commit run, an abort run and a
# failed run, replaced atomically (no temporary file left).
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
R=$T/reports
fs_instance "$I"
fs_serve "$I" "$EPS" 0
mkdir -p "$R"

# report INI NAME TRUNCATE
report_ini() {
    fs_ini "$T/$1.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = $2" \
        "max_duration = 1d" "[spool]" "directory = $T" "[report]" "metrics_file = $R/esebackupfs.prom" \
        "json_file = $R/esebackupfs.json"
}

# compare_status MNT: the text status and status --json, field by field
compare_status() {
    "$FS" status "$1" >"$T/st.txt"
    trc=$?
    "$FS" status --json "$1" >"$T/st.json"
    jrc=$?
    [ "$trc" = "$jrc" ] || fail "status exit $trc, status --json exit $jrc"
    # (other mounts of this host may be unreachable: exit 2 is allowed here)
    "$FS" status --json >"$T/st-all.json"
    [ $? -le 2 ] || fail "status --json (every mount) exit $?"
    python3 - "$T/st.txt" "$T/st.json" "$T/st-all.json" "$1" <<'EOF' || fail "text and JSON differ"
import json, re, sys, os
text = open(sys.argv[1]).read().splitlines()
j = json.load(open(sys.argv[2]))
every = json.load(open(sys.argv[3]))
mnt = os.path.realpath(sys.argv[4])
def eq(what, a, b):
    if a != b:
        sys.exit("%s: text %r, json %r" % (what, a, b))
eq("mountpoint", mnt, j["mountpoint"])
mine = [o for o in every if o.get("mountpoint") == mnt]
eq("in the every-mount array", 1, len(mine))
eq("every-mount object", j["files"], mine[0]["files"])
files = {f["name"]: f for f in j["files"]}
seen = set()
for l in text:
    k, _, v = l.partition(": ")
    if k == "phase": eq(k, v, j["phase"])
    elif k == "backup":
        m = re.fullmatch(r"(\w+), truncate = (\w+), spool policy = (\w+)", v)
        b = j["backup"]
        eq(k, m.groups(), (b["type"], b["truncate"], b["spool_policy"]))
    elif k == "commit": eq(k, v == "given", j["commit_given"])
    elif k.startswith("file "):
        f = files[k[5:]]
        seen.add(k[5:])
        m = re.fullmatch(r"delivered (\d+) / (\d+)(?:, pulled (\d+))?", v)
        eq(l, (int(m[1]), int(m[2]), int(m[3]) if m[3] else None),
           (f["delivered"], f["size"], f["pulled"]))
    elif k == "progress":
        m = re.fullmatch(r"delivered (\d+) / (\d+)(\+?) bytes \(([\d.]+)%\), rate (\d+) bytes/s, "
                         r"eta (\d+ s|unknown), elapsed ([\d.]+) s", v)
        p = j["progress"]
        eq(k, (int(m[1]), int(m[2]), m[3] == "", m[4], m[5], m[6], m[7]),
           (p["bytes_delivered"], p["bytes_total"], p["total_final"], "%.1f" % p["percent"],
            "%.0f" % p["rate_bytes_per_s"],
            "unknown" if p["eta_s"] is None else "%.0f s" % p["eta_s"], "%.1f" % p["elapsed_s"]))
        eq("bytes_delivered = sum over files", p["bytes_delivered"],
           sum(f["delivered"] for f in j["files"]))
    elif k == "log-generations":
        eq(k, v, "%d-%d" % (j["logs"]["generation_low"], j["logs"]["generation_high"]))
    elif k == "committed-at-roll": eq(k, int(v), j["committed_at_roll"])
    elif k == "spool":
        m = re.match(r"(\d+) bytes written, cap (\d+)(?: \(unlimited\))?, dir (.*)", v)
        s = j["spool"]
        eq(k, (int(m[1]), int(m[2]), m[3]), (s["bytes_written"], s["cap"], s["directory"]))
    elif k == "waiting requests": eq(k, int(v), j["waiting_requests"])
    elif k == "rate":
        # the pull rate moves between the two answers: compare the cap
        m = re.fullmatch(r"(\d+) bytes/s pulled, max_rate (\d+)(?: \(unlimited\))?, "
                         r"(\d+) throttle waits", v)
        eq(k, int(m[2]), j["pull"]["max_rate"])
        assert j["pull"]["throttle_waits"] >= int(m[3]), l
    elif k == "guards":
        # running and idle move between the two answers: compare the limits
        m = re.fullmatch(r"max_duration (\w+), running \w+; idle_timeout (\w+)(?:, idle \w+)?"
                         r"( \(a guard fired: see error\))?", v)
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}
        secs = lambda w: 0 if w == "off" else int(w[:-1]) * unit[w[-1]]
        g = j["guards"]
        eq(k, (secs(m[1]), secs(m[2]), bool(m[3])),
           (g["max_duration_s"], g["idle_timeout_s"], g["fired"]))
    elif k == "error":
        eq(k, v, "none" if j["error"] is None else j["error"]["message"])
    elif k == "error-code": eq(k, v, j["error"]["code"])
    elif k == "umount now would":
        u = j["umount"]
        eq(k, v, "%s (%s)" % (u["calls"], u["reason"]))
        eq("stage", u["stage"], "now would")
    elif k == "logs" and v == "list not known yet": eq(k, False, j["logs"]["known"])
    else:
        sys.exit("text line not compared: %r" % l)
eq("files", seen, set(files))
eq("healthy", j["healthy"], j["error"] is None)
print("   status and status --json agree on %d lines, %d files" % (len(text), len(files)))
EOF
}

# check_report NAME DECISION SUCCESS BYTES: both report files say so
check_report() {
    python3 - "$R/esebackupfs.prom" "$R/esebackupfs.json" "$@" <<'EOF' || fail "$1: report files"
import json, re, sys
prom, js, inst, decision, success, nbytes = sys.argv[1:]
metrics, helps, types = {}, set(), set()
for l in open(prom).read().splitlines():
    if l.startswith("# HELP "): helps.add(l.split()[2]); continue
    if l.startswith("# TYPE "):
        types.add(l.split()[2]); assert l.split()[3] == "gauge", l; continue
    m = re.fullmatch(r'([a-z_]+)\{([^}]*)\} (\S+)', l)
    assert m, "not an exposition line: %r" % l
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m[2]))
    assert labels.pop("instance") == inst, l
    metrics[(m[1], tuple(sorted(labels.items())))] = float(m[3])
def g(name, **lab):
    return metrics[("esebackupfs_" + name, tuple(sorted(lab.items())))]
names = {k[0] for k in metrics}
assert names == helps == types, (names, helps, types)
for d in ("truncate", "copy", "abort"):
    assert g("last_decision", decision=d) == (1 if d == decision else 0), d
assert g("last_success") == int(success), g("last_success")
assert g("last_bytes") == int(nbytes), (g("last_bytes"), nbytes)
st, en = g("last_start_timestamp_seconds"), g("last_end_timestamp_seconds")
assert 1e9 < st <= en, (st, en)
assert abs(g("last_duration_seconds") - (en - st)) < 0.01
j = json.load(open(js))
assert j["instance"] == inst and j["decision"] == decision, j
assert j["success"] == (success == "1") and j["bytes"] == int(nbytes), j
assert abs(j["start_timestamp"] - st) < 0.01 and abs(j["end_timestamp"] - en) < 0.01
assert j["status"]["state"] == "ENDED" and j["status"]["umount"]["stage"] == "done"
print("   %s: metrics and JSON report: decision %s, success %s, %s bytes" % (inst, decision, success, nbytes))
EOF
    left=$(find "$R" -name '.*' -type f)
    [ -z "$left" ] || fail "temporary report files left: $left"
    [ "$(stat -c %a "$R/esebackupfs.prom")" = 644 ] || fail "metrics file mode"
}

step "commit run: status --json = status, --watch until the end, report"
report_ini bank-commit commit
fs_mount "$T/bank-commit.ini" "$T/mnt"
"$FS" status --watch "$T/mnt" >"$T/watch.out" 2>"$T/watch.err" &
WATCH=$!
FS_PIDS="$FS_PIDS $WATCH"
n=0
until [ -s "$T/watch.out" ]; do
    n=$((n + 1))
    [ $n -gt 300 ] && fail "status --watch printed nothing"
    sleep 0.1
done
cp -a "$T/mnt" "$T/copy" || fail "cp -a"
# every byte delivered: the figures stay put, so the two answers must agree
compare_status "$T/mnt"
"$FS" commit "$T/mnt" >/dev/null || fail "commit"
compare_status "$T/mnt"
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["umount"]["decision"])' \
    "$T/st.json")" = truncate ] || fail "JSON decision after commit"
# the watch samples once a second: let it see the finished copy before
# the end (bounded), so that its last lines say complete and truncate
n=0
until grep -q "^phase=complete .* percent=100.0 .* decision=truncate$" "$T/watch.out"; do
    n=$((n + 1))
    [ $n -gt 300 ] && { cat "$T/watch.out"; fail "status --watch never showed the finished copy"; }
    sleep 0.1
done
bytes=$(find "$T/copy" -type f ! -name backup_label -printf '%s\n' | awk '{s += $1} END {print s}')
fs_umount "$T/mnt"
wait "$WATCH" || fail "status --watch exit $? ($(cat "$T/watch.err"))"
python3 - "$T/watch.out" <<'EOF' || fail "status --watch lines"
import re, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "" and "\r" not in "".join(lines), "not one line per status"
last = 0
for l in lines[:-1]:
    m = re.fullmatch(r"phase=(databases|logs|complete|failed|ended) delivered=(\d+) total=(\d+) "
                     r"total_final=(yes|no) percent=([\d.]+) rate=(\d+) eta=(\d+|unknown) "
                     r"decision=(truncate|copy|abort)", l)
    assert m, "line does not parse: %r" % l
    d, t = int(m[2]), int(m[3])
    assert last <= d <= t and 0 <= float(m[5]) <= 100, l
    last = d
assert m[1] in ("complete", "ended") and m[8] == "truncate" and m[5] == "100.0", l
print("   status --watch: %d lines, ended at %s" % (len(lines) - 1, l))
EOF
check_report bank-commit truncate 1 "$bytes"

step "abort run: only the database read, report says abort"
report_ini bank-abort commit
fs_mount "$T/bank-abort.ini" "$T/mnt"
cat "$T/mnt/bank.edb" >/dev/null || fail "read bank.edb"
dbsize=$(stat -c %s "$T/mnt/bank.edb")
umount "$T/mnt" || fail "umount"
# umount returns before the driver ends the backup; status --watch then
# returns only once the driver has ended it, written the report files and
# stopped answering (exit 0), or at once with 2 if it had already stopped
"$FS" status --watch "$T/mnt" >"$T/watch2.out" 2>&1
wrc=$?
[ $wrc = 0 ] || [ $wrc = 2 ] || fail "status --watch after umount: exit $wrc"
"$FS" status "$T/mnt" >/dev/null 2>&1
[ $? = 2 ] || fail "the driver still answers after status --watch returned"
check_report bank-abort abort 0 "$dbsize"
fs_wait_gone "$DRIVER_PID" || fail "driver did not exit after umount"

step "failed run (spool cap too small): the error in text, JSON and report"
fs_ini "$T/bank-fail.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = complete" \
    "[spool]" "directory = $T" "cap = 64K" "[report]" "metrics_file = $R/esebackupfs.prom" \
    "json_file = $R/esebackupfs.json"
fs_mount "$T/bank-fail.ini" "$T/mnt"
if cat "$T/mnt/bank.edb" >/dev/null 2>"$T/fail.err"; then fail "cat with a tiny spool cap worked"; fi
# failed: the figures stay put, both answers exit 1 and carry the error
compare_status "$T/mnt"
[ "$trc" = 1 ] || fail "status of a failed backup exit $trc"
grep -q "^error-code: " "$T/st.txt" || fail "no error-code line"
bytes=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["progress"]["bytes_delivered"])' \
    "$T/st.json")
cp "$T/st.json" "$T/fail-status.json"
# on a terminal (script(1) gives it one) the line is redrawn in place, and
# the watch of a failed backup exits 1 once the mount is gone
script -qfec "$FS status --watch $T/mnt" /dev/null >"$T/tty.out" 2>&1 &
TTYW=$!
FS_PIDS="$FS_PIDS $TTYW"
n=0
until grep -q "failed" "$T/tty.out"; do
    n=$((n + 1))
    [ $n -gt 300 ] && fail "status --watch on a terminal printed nothing"
    sleep 0.1
done
fs_umount "$T/mnt"
wait "$TTYW"
rc=$?
[ "$rc" = 1 ] || { cat -A "$T/tty.out"; fail "status --watch of a failed backup exit $rc"; }
python3 - "$T/tty.out" <<'EOF' || { cat -A "$T/tty.out"; fail "status --watch on a terminal"; }
import re, sys
out = open(sys.argv[1], newline="").read()
body = out.rstrip("\r\n")
assert body.startswith("\r\x1b[K") and "\n" not in body, "not redrawn in place: %r" % out
for l in body.split("\r\x1b[K")[1:]:
    assert re.fullmatch(r"failed +\d+(\.\d)? [KMG]?i?B / \S+ \S+\+? \([\d.]+%\)  \S+ \S+/s  ETA \S+  umount: abort", l), l
print("   status --watch on a terminal: %d redraws, exit 1" % body.count("\r"))
EOF
check_report bank-fail abort 0 "$bytes"
python3 - "$R/esebackupfs.json" "$T/fail-status.json" <<'EOF' || fail "failed run: report error"
import json, sys
r, st = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert r["error"] is not None and r["error"] == st["error"], (r["error"], st["error"])
assert r["status"]["healthy"] is False and r["decision_reason"] == "the backup failed", r
print("   report error: %s (%s)" % (r["error"]["message"], r["error"]["code"]))
EOF

step "status --watch of no mount: exit 2"
mkdir -p "$T/none"
"$FS" status --watch "$T/none" >/dev/null 2>"$T/none.err" && fail "watch of no mount exit 0"
[ -s "$T/none.err" ] || fail "watch of no mount: no message"
echo "PASS"
