#!/bin/bash
# Crash test (issue 2): SIGKILL a live `jetutil workload` (4 threads) at a
# random moment, 20 times; after each kill `jetutil verify` (soft recovery,
# page checksums, bank invariant) must pass, the transfer count must never
# go backwards, and it must cover every transfer the workload had reported
# as committed before it was killed.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

ROUNDS=${JETUTIL_CRASH_ROUNDS:-20}
D="$T/db"
"$JETUTIL" create "$D" --accounts 300 --log-size 128 --checkpoint-kib 64 >/dev/null || fail "create"
prev=0
for i in $(seq 1 "$ROUNDS"); do
    : >"$T/wl.$i"
    "$JETUTIL" workload "$D" --threads 4 >"$T/wl.$i" 2>&1 &
    pid=$!
    bg_add $pid
    wait_line "$T/wl.$i" '^started' $pid || fail "round $i: workload did not start: $(cat "$T/wl.$i")"
    # the moment of the kill: random, 0..1.5 s after the threads started
    sleep "$((RANDOM % 2)).$((RANDOM % 10))$((RANDOM % 10))"
    kill -9 $pid
    wait $pid 2>/dev/null
    reported=$(last_value "$T/wl.$i" committed)
    n=$(verify_dir "$D")
    [ -n "$n" ] || fail "round $i: verify printed no transfer count"
    [ "$n" -ge "$prev" ] || fail "round $i: transfers went backwards: $prev -> $n"
    [ -z "$reported" ] || [ "$n" -ge "$reported" ] ||
        fail "round $i: lost committed transfers: workload reported $reported, database holds $n"
    note "round $i: transfers $n (reported committed ${reported:-none})"
    prev=$n
done
[ "$prev" -gt 0 ] || fail "no transfer survived $ROUNDS rounds"
echo "ok: $ROUNDS crashes, $prev transfers"
