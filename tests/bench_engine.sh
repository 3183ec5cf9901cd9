#!/bin/bash
# bench_engine.sh -- libjet benchmark (run by `make bench`, not make check).
# Prints, for a bank database of BENCH_MB MiB (default 256):
#   - workload transactions/s with 1 and 4 threads;
#   - read throughput of the database file through the engine's page reader
#     (a backup stream: pread under range locks + per-page verification),
#     in-process and over the backup endpoint, versus raw pread and cat;
#   - full backup throughput (jetutil backup) over the endpoint and in-process;
#   - workload transactions/s (jetutil serve, 4 threads) without and with a
#     backup running.
set -u
: "${top_builddir:?run through make bench}"
J="$top_builddir/src/jetutil/jetutil"
MB=${BENCH_MB:-256}
SECS=${BENCH_SECONDS:-5}
T=$(mktemp -d "${TMPDIR:-/tmp}/jetutil-bench.XXXXXX")
SERVE=""
trap '[ -n "$SERVE" ] && kill -9 $SERVE 2>/dev/null; rm -rf "$T"' EXIT
fail() { echo "bench: $*" >&2; exit 1; }
now() { date +%s.%N; }
rate() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { printf "%.0f", (b - a) / t }'; }
mibs() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / 1048576 / t }'; }
last_committed() { awk '$1 == "committed" { v = $2 } END { print v }' "$T/serve.out"; }

D="$T/db"
ACC=$((MB * 1024 * 1024 / 4096 * 3))
echo "creating a $MB MiB bank ($ACC accounts of 1 KiB records, 4 KiB pages)..."
t0=$(now)
"$J" create "$D" --accounts $ACC --record-size 1024 --log-size 4096 >/dev/null || fail "create"
t1=$(now)
DBSIZE=$(stat -c %s "$D/bank.edb")
echo "create: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, database $((DBSIZE / 1048576)) MiB"

for th in 1 4; do
    "$J" workload "$D" --threads $th --seconds "$SECS" >"$T/wl" || fail "workload"
    echo "workload, $th thread(s): $(sed -n 's/^stopped: .*, \([0-9]*\) tx\/s$/\1/p' "$T/wl") tx/s"
done

# warm the page cache once so that both readers see the same cache state
cat "$D/bank.edb" >/dev/null
"$J" bench-read "$D" >"$T/br" || fail "bench-read"
echo "database read, engine page reader (in-process backup stream): $(sed -n 's/^stream-read MiB\/s \([0-9.]*\).*/\1/p' "$T/br") MiB/s"
echo "database read, raw pread of the file:                         $(sed -n 's/^raw-pread MiB\/s \([0-9.]*\).*/\1/p' "$T/br") MiB/s"
t0=$(now); cat "$D/bank.edb" >/dev/null; t1=$(now)
echo "database read, cat of the file:                               $(mibs "$DBSIZE" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')") MiB/s"

t0=$(now)
"$J" backup "$D" "$T/bk-inproc" >"$T/bo" || fail "in-process backup"
t1=$(now)
BK=$(du -sb "$T/bk-inproc" | cut -f1)
echo "full backup in-process (jetutil backup DIR): $(mibs "$BK" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')") MiB/s ($((BK / 1048576)) MiB)"
rm -rf "$T/bk-inproc"

: >"$T/serve.out"
"$J" serve "$D" --endpoint "$T/sock" --threads 4 >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
timeout 60 grep -m1 -q '^serving' <(tail -n +1 --pid=$SERVE -f "$T/serve.out") || fail "serve did not start"
"$J" bench-read --endpoint "$T/sock" >"$T/br" || fail "bench-read over the endpoint"
echo "database read, engine page reader over the endpoint (serve running 4 writers): $(sed -n 's/^stream-read MiB\/s \([0-9.]*\).*/\1/p' "$T/br") MiB/s"

c0=$(last_committed); t0=$(now)
sleep "$SECS"   # a measurement interval, not synchronisation
c1=$(last_committed); t1=$(now)
echo "serve, 4 threads, no backup:      $(rate "$c0" "$c1" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')") tx/s"
# back-to-back full backups over the endpoint for SECS seconds (at least one)
c0=$(last_committed); t0=$(now); BK=0; NB=0
while :; do
    "$J" backup --endpoint "$T/sock" "$T/bk-ep" >"$T/bo" || fail "endpoint backup: $(cat "$T/bo")"
    BK=$((BK + $(du -sb "$T/bk-ep" | cut -f1))); NB=$((NB + 1))
    rm -rf "$T/bk-ep"
    awk -v a="$t0" -v b="$(now)" -v s="$SECS" 'BEGIN { exit !(b - a >= s) }' && break
done
c1=$(last_committed); t1=$(now)
EL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "serve, 4 threads, backup running: $(rate "$c0" "$c1" "$EL") tx/s ($NB full backups back to back)"
echo "full backup over the endpoint:    $(mibs "$BK" "$EL") MiB/s ($((BK / 1048576)) MiB in $EL s)"
kill -TERM $SERVE
wait $SERVE || fail "serve did not stop cleanly"
SERVE=""
