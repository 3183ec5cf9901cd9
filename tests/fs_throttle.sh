#!/bin/sh
# fs_throttle.sh -- issue 10 part 5: [backup] max_rate and `jetutil backup
# --max-rate` are applied (not timed: the assertions are on what the
# throttle recorded, never on wall-clock durations):
#  - a mount with max_rate = 512K and read_size = 256K: status shows the
#    cap, and after reading 1 MiB (four engine pulls) the producer has
#    been held back ("throttle waits" > 0);
#  - the same read without max_rate: status says unlimited, 0 waits;
#  - jetutil backup --endpoint --max-rate 4M: the backup is complete and
#    its summary reports the cap and waits > 0; a bad RATE is refused with
#    one line and exit 2, before anything is written.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0

# waits FILE: the throttle waits of a status output
waits() { sed -n 's/^rate: .* \([0-9][0-9]*\) throttle waits$/\1/p' "$1"; }

step "max_rate = 512K: status shows the cap and the producer waited"
fs_ini "$T/capped.ini" "[source]" "endpoint = $EPS" "[backup]" "max_rate = 512K" \
    "[spool]" "directory = $T" "policy = stream" "[mount]" "read_size = 256K"
M=$T/mnt-capped
fs_mount "$T/capped.ini" "$M"
head -c 1048576 "$M/bank.edb" >"$T/capped.head" || fail "capped: read 1 MiB"
[ "$(stat -c %s "$T/capped.head")" -eq 1048576 ] || fail "capped: short read"
"$FS" status "$M" >"$T/capped.status" || { cat "$T/capped.status"; fail "capped: status exit"; }
grep -q "^rate: [0-9]* bytes/s pulled, max_rate 524288, [0-9]* throttle waits$" \
    "$T/capped.status" || { cat "$T/capped.status"; fail "capped: status lacks the cap"; }
w=$(waits "$T/capped.status")
[ -n "$w" ] && [ "$w" -gt 0 ] || { cat "$T/capped.status"; fail "capped: no throttle wait"; }
echo "   capped: $(grep '^rate:' "$T/capped.status")"
fs_umount "$M"

step "no max_rate: unlimited, no wait"
fs_ini "$T/free.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T" "policy = stream" \
    "[mount]" "read_size = 256K"
M=$T/mnt-free
fs_mount "$T/free.ini" "$M"
head -c 1048576 "$M/bank.edb" >"$T/free.head" || fail "free: read 1 MiB"
"$FS" status "$M" >"$T/free.status" || { cat "$T/free.status"; fail "free: status exit"; }
grep -q "^rate: [0-9]* bytes/s pulled, max_rate 0 (unlimited), 0 throttle waits$" \
    "$T/free.status" || { cat "$T/free.status"; fail "free: status"; }
fs_umount "$M"

step "jetutil backup --max-rate 4M: complete, the summary shows the cap and waits"
"$JU" backup --endpoint "$EPS" "$T/bk" --max-rate 4M >"$T/bk.out" 2>&1 ||
    { cat "$T/bk.out"; fail "jetutil backup --max-rate"; }
w=$(sed -n 's/.*, max_rate 4194304 bytes\/s, \([0-9][0-9]*\) throttle waits, pulled at [0-9]* bytes\/s$/\1/p' \
    "$T/bk.out")
[ -n "$w" ] && [ "$w" -gt 0 ] || { cat "$T/bk.out"; fail "jetutil: no cap or no wait reported"; }
"$JU" restore "$T/bk" "$T/restored" >"$T/restore.out" 2>&1 ||
    { cat "$T/restore.out"; fail "jetutil restore of the throttled backup"; }
"$JU" verify "$T/restored" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "verify"; }
echo "   $(cat "$T/bk.out")"

step "jetutil backup --max-rate: bad values refused with one line, exit 2"
for bad in fast 1000 -1M; do
    st=0
    "$JU" backup --endpoint "$EPS" "$T/bad" --max-rate "$bad" >"$T/bad.out" 2>&1 || st=$?
    [ "$st" -eq 2 ] || { cat "$T/bad.out"; fail "--max-rate $bad: exit $st, not 2"; }
    [ "$(wc -l <"$T/bad.out")" -eq 1 ] && grep -q -- "--max-rate: '$bad'" "$T/bad.out" ||
        { cat "$T/bad.out"; fail "--max-rate $bad: message"; }
    [ ! -e "$T/bad" ] || fail "--max-rate $bad: DEST created"
done
fs_serve_stop
echo "PASS"
