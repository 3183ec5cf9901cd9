#!/bin/bash
# An instance owns its files; missing logs are errors (issue 7 items 1-2),
# through the real tools:
#  1. `cp -a` of a crashed instance directory A to B, `jetutil serve A`,
#     then `jetutil verify B`: B recovers its own bank.edb (every transfer
#     the workload reported committed), and A's files are not touched while
#     A runs; after A stops, `jetutil verify A` still holds the invariant.
#  2. A crashed instance whose edb.log is missing: `jetutil verify` fails
#     naming JET_errMissingLogFile, and the directory is exactly as found.
#  3. The same for an archived generation missing between the checkpoint
#     and the end.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

# dir_hash DIR: names, types, sizes, mtimes and contents of everything in DIR.
dir_hash() {
    (cd "$1" && { find . -printf '%p %y %s %T@\n' | LC_ALL=C sort
                  find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } |
        sha256sum | cut -d' ' -f1)
}

A="$T/A"
"$JETUTIL" create "$A" --accounts 200 --log-size 128 --checkpoint-kib 100000 >/dev/null ||
    fail "create"
# crash A: kill -9 a workload once it has committed transfers over a few
# log generations
: >"$T/wl"
"$JETUTIL" workload "$A" --threads 2 >"$T/wl" 2>&1 &
pid=$!
bg_add $pid
wait_line "$T/wl" '^committed [0-9]{4,}' $pid || fail "workload did not commit: $(cat "$T/wl")"
kill -9 $pid
wait $pid 2>/dev/null
reported=$(last_value "$T/wl" committed)
[ -n "$(log_list "$A")" ] || fail "the workload rolled no log"
cp -a "$A" "$T/B" || fail "cp -a"
cp -a "$A" "$T/C" || fail "cp -a"
cp -a "$A" "$T/D" || fail "cp -a"

# 1. serve A (no writer threads: its files stay still) while B recovers
S="$T/ep.sock"
: >"$T/serve.out"
"$JETUTIL" serve "$A" --endpoint "$S" --threads 0 >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
bg_add $SERVE
wait_line "$T/serve.out" '^committed [0-9]+' $SERVE || fail "serve did not start: $(cat "$T/serve.err")"
before=$(dir_hash "$A")
n=$(verify_dir "$T/B") || exit 1
[ "$n" -ge "$reported" ] || fail "B lost committed transfers: reported $reported, B holds $n"
after=$(dir_hash "$A")
[ "$before" = "$after" ] || fail "recovery of the copy B changed the running instance A"
kill -TERM $SERVE
wait $SERVE || fail "serve A exited with $?: $(cat "$T/serve.err")"
nA=$(verify_dir "$A") || exit 1
[ "$nA" -ge "$reported" ] || fail "A lost committed transfers: reported $reported, A holds $nA"
note "B recovered $n transfers on its own files; A untouched and holds $nA"

# 2. the current log missing
rm "$T/C/edb.log"
before=$(dir_hash "$T/C")
if out=$("$JETUTIL" verify "$T/C" 2>&1); then fail "verify passed without edb.log: $out"; fi
echo "$out" | grep -q 'JET_errMissingLogFile' || fail "verify without edb.log: $out"
[ "$before" = "$(dir_hash "$T/C")" ] || fail "the failed recovery changed $T/C"
note "missing edb.log: $(echo "$out" | tail -n 1)"

# 3. an archived generation missing after the checkpoint
cg=$(checkpoint_gen "$T/D")
victim=""
for f in $(log_list "$T/D"); do
    [ "$(gen_of "$f")" -ge "$cg" ] && { victim=$f; break; }
done
[ -n "$victim" ] || fail "no archived log at or after the checkpoint (generation $cg)"
rm "$T/D/$victim"
before=$(dir_hash "$T/D")
if out=$("$JETUTIL" verify "$T/D" 2>&1); then fail "verify passed without $victim: $out"; fi
echo "$out" | grep -q 'JET_errMissingLogFile' || fail "verify without $victim: $out"
[ "$before" = "$(dir_hash "$T/D")" ] || fail "the failed recovery changed $T/D"
note "missing $victim: $(echo "$out" | tail -n 1)"
echo "ok"
