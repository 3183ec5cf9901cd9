#!/bin/sh
# fs_check.sh -- `esebackupfs check CONFIG [MOUNTPOINT]`, the preflight
# that begins nothing (issue 11 part 3).  One case per line check can
# print as failing -- bad configuration, endpoint not reachable, uid
# refused, control directory not trusted, backup in progress (a check
# while a mount is active),
# incremental without a full, circular logging, spool missing / without
# room / cap below the databases, mount point not empty / not a directory
# / already a mount, in-process instance held by another process and
# in-process incremental without a full -- each exits 1 with exactly that
# line failing.  The all-ok case (endpoint and in-process) exits 0 with
# every line ok and a mount right after succeeds.  Throughout, the host's
# endpoint log shows that no check began a backup, and the instance's log
# generations and the database header's backup records are unchanged by
# the checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0
LOG=$I.serve.out
mkdir -p "$T/mnt" "$T/spool"

begun() { grep -c "backup begun" "$LOG"; }
gens() { ls "$I" | grep '^edb.*\.log$' | LC_ALL=C sort; }
hdr() { "$JU" dump "$I/bank.edb" | grep -i "backup"; }

# run_check NAME ARGS...: check ARGS into $T/NAME.out, exit code in $rc
run_check() {
    n=$1
    shift
    rc=0
    "$FS" check "$@" >"$T/$n.out" 2>"$T/$n.err" || rc=$?
    sed 's/^/   | /' "$T/$n.out"
    [ ! -s "$T/$n.err" ] || { cat "$T/$n.err"; fail "$n: wrote to stderr"; }
}

# expect_fail NAME REGEX ARGS...: exit 1, exactly one FAIL line, matching REGEX
expect_fail() {
    n=$1
    re=$2
    shift 2
    run_check "$n" "$@"
    [ "$rc" = 1 ] || fail "$n: exit $rc, expected 1"
    [ "$(grep -c '^FAIL' "$T/$n.out")" = 1 ] || fail "$n: not exactly one FAIL line"
    grep -q -- "$re" "$T/$n.out" || fail "$n: no line matching '$re'"
}

fs_ini "$T/ok.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T/spool"
gens >"$T/gens.before"
hdr >"$T/hdr.before"
b0=$(begun)

step "all ok: exit 0, every line ok, nothing begun on the host"
run_check ok "$T/ok.ini" "$T/mnt"
[ "$rc" = 0 ] || fail "ok: exit $rc"
[ "$(wc -l <"$T/ok.out")" = 6 ] || fail "ok: expected 6 lines"
[ "$(grep -vc '^ok ' "$T/ok.out")" = 0 ] || fail "ok: a line is not ok"
grep -q "^ok      configuration $T/ok.ini\$" "$T/ok.out" || fail "ok: configuration line"
grep -q "^ok      begin full backup: possible now" "$T/ok.out" || fail "ok: begin line"
grep -q "begin check (grbit 0x0): JET_errSuccess (0), nothing begun" "$LOG" ||
    fail "ok: the host did not answer the check"
[ "$(begun)" = "$b0" ] || { cat "$LOG"; fail "ok: the check began a backup"; }

step "bad configuration: FILE:LINE"
fs_ini "$T/bad.ini" "[source]" "endpoint = $EPS" "[spool]" "colour = blue"
expect_fail bad "^FAIL    configuration $T/bad.ini:4: " "$T/bad.ini"

step "endpoint not reachable"
fs_ini "$T/noep.ini" "[source]" "endpoint = $T/none.sock" "[spool]" "directory = $T/spool"
expect_fail noep "^FAIL    endpoint $T/none.sock: JET_errFileNotFound (-1811): not reachable" \
    "$T/noep.ini"
grep -q "^skip    begin" "$T/noep.out" || fail "noep: begin not skipped"

step "uid refused (a check run as nobody)"
# nobody may read the INI and reach the socket's directory; the host
# refuses uid 65534 (root and its own uid only)
chmod 755 "$T"
mkdir -p "$T/spool-nobody" && chmod 1777 "$T/spool-nobody"
printf '%s\n' "[source]" "endpoint = $EPS" "[spool]" "directory = $T/spool-nobody" >"$T/nobody.ini"
chmod 644 "$T/nobody.ini"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is needed to run a check as nobody"
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$FS" check "$T/nobody.ini" >"$T/nobody.out" 2>&1 ||
    rc=$?
sed 's/^/   | /' "$T/nobody.out"
[ "$rc" = 1 ] || fail "nobody: exit $rc"
grep -q "^FAIL    endpoint $EPS: JET_errAccessDenied (-1907): uid 65534 refused" "$T/nobody.out" ||
    fail "nobody: no refusal line"

step "control directory not trusted (nobody's, mode 0755)"
mkdir -p "$T/xdg/esebackupfs"
chown 65534:65534 "$T/xdg" "$T/xdg/esebackupfs"
chmod 755 "$T/xdg/esebackupfs"
rc=0
XDG_RUNTIME_DIR=$T/xdg setpriv --reuid=65534 --regid=65534 --clear-groups "$FS" check \
    "$T/nobody.ini" >"$T/ctl.out" 2>&1 || rc=$?
sed 's/^/   | /' "$T/ctl.out"
[ "$rc" = 1 ] || fail "ctl: exit $rc"
grep -q "^FAIL    control directory $T/xdg/esebackupfs is not owned by uid 65534 with mode 0700" \
    "$T/ctl.out" || fail "ctl: no control line"
chmod 700 "$T"

step "backup in progress: a check while a mount is active"
fs_mount "$T/ok.ini" "$T/mnt-active"
b1=$(begun)
expect_fail active "^FAIL    begin full backup: JET_errBackupInProgress (-505)" "$T/ok.ini"
[ "$(begun)" = "$b1" ] || fail "active: the check began a backup"
"$FS" status "$T/mnt-active" >"$T/active.status" || fail "active: the mount's backup failed"

step "mount point already a mount (the active esebackupfs mount)"
run_check mounted "$T/ok.ini" "$T/mnt-active"
[ "$rc" = 1 ] || fail "mounted: exit $rc"
grep -q "^FAIL    mount point $T/mnt-active: already a mount" "$T/mounted.out" ||
    fail "mounted: no mount point line"
fs_umount "$T/mnt-active"
# the mount above was the only backup: its umount aborted it (truncate =
# never by default, no copy)
gens >"$T/gens.after"
cmp -s "$T/gens.before" "$T/gens.after" || fail "logs changed"

step "mount point already a mount (a tmpfs)"
mkdir -p "$T/mnt-tmpfs"
mount -t tmpfs -o size=1m tmpfs "$T/mnt-tmpfs" || fail "mount tmpfs"
FS_MOUNTS="$T/mnt-tmpfs $FS_MOUNTS"
expect_fail tmpfs "^FAIL    mount point $T/mnt-tmpfs: already a mount" "$T/ok.ini" "$T/mnt-tmpfs"
umount "$T/mnt-tmpfs"

step "mount point not empty"
mkdir -p "$T/mnt-full" && : >"$T/mnt-full/x"
expect_fail notempty "^FAIL    mount point $T/mnt-full: not empty" "$T/ok.ini" "$T/mnt-full"

step "mount point not a directory"
: >"$T/mnt-file"
expect_fail notdir "^FAIL    mount point $T/mnt-file: not a directory" "$T/ok.ini" "$T/mnt-file"

step "incremental without a full backup"
fs_ini "$T/inc.ini" "[source]" "endpoint = $EPS" "[backup]" "type = incremental" \
    "[spool]" "directory = $T/spool"
expect_fail inc "^FAIL    begin incremental backup: JET_errMissingFullBackup (-560)" "$T/inc.ini"

step "spool directory missing"
fs_ini "$T/nospool.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T/nope"
expect_fail nospool "^FAIL    spool $T/nope: No such file or directory" "$T/nospool.ini"

step "spool without room for the databases (policy = keep)"
mkdir -p "$T/small"
mount -t tmpfs -o size=1200k tmpfs "$T/small" || fail "mount tmpfs"
FS_MOUNTS="$T/small $FS_MOUNTS"
fs_ini "$T/small.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T/small"
expect_fail small "^FAIL    spool $T/small: [0-9.]* [KM]iB free, keep needs [0-9.]* MiB$" \
    "$T/small.ini"
umount "$T/small"

step "spool cap below the databases (policy = keep)"
fs_ini "$T/cap.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T/spool" "cap = 64K"
expect_fail cap "^FAIL    spool $T/spool: cap 64.0 KiB (line 5) is less than the databases'" \
    "$T/cap.ini"

[ "$(begun)" = "$b1" ] || { cat "$LOG"; fail "a check began a backup"; }
hdr >"$T/hdr.after"
cmp -s "$T/hdr.before" "$T/hdr.after" || fail "database header's backup records changed"

step "in-process: instance held by another process (the host)"
fs_ini "$T/ip.ini" "[source]" "system_path = $I" "log_path = $I" "databases = $I/bank.edb" \
    "[spool]" "directory = $T/spool"
expect_fail held "^FAIL    instance $I: JET_errFileAccessDenied (-1032): .*edb.jlk is locked" \
    "$T/ip.ini"
fs_serve_stop

step "circular logging: an incremental is impossible"
FS_SERVE_ARGS=--circular fs_serve "$I" "$EPS" 0
expect_fail circ "^FAIL    begin incremental backup: JET_errInvalidBackup (-526)" "$T/inc.ini"
fs_serve_stop

step "in-process: incremental without a full backup"
fs_ini "$T/ipinc.ini" "[source]" "system_path = $I" "log_path = $I" "databases = $I/bank.edb" \
    "[backup]" "type = incremental" "[spool]" "directory = $T/spool"
expect_fail ipinc "^FAIL    begin incremental backup: JET_errMissingFullBackup (-560)" "$T/ipinc.ini"

step "in-process all ok: exit 0, the instance files unchanged, a mount succeeds"
sum_inst() { (cd "$I" && find . -type f ! -name '*.out' | LC_ALL=C sort | xargs sha256sum); }
sum_inst >"$T/inst.before"
run_check ipok "$T/ip.ini" "$T/mnt"
[ "$rc" = 0 ] || fail "ipok: exit $rc"
[ "$(grep -vc '^ok ' "$T/ipok.out")" = 0 ] || fail "ipok: a line is not ok"
sum_inst >"$T/inst.after"
cmp -s "$T/inst.before" "$T/inst.after" || fail "ipok: the check changed the instance's files"
fs_mount "$T/ip.ini" "$T/mnt"
fs_umount "$T/mnt"

step "endpoint all ok, then the mount succeeds"
fs_serve "$I" "$EPS" 0
run_check ok2 "$T/ok.ini" "$T/mnt"
[ "$rc" = 0 ] || fail "ok2: exit $rc"
fs_mount "$T/ok.ini" "$T/mnt"
cp -a "$T/mnt" "$T/copy" || fail "cp -a of the mount"
fs_umount "$T/mnt"
fs_serve_stop
echo "PASS"
