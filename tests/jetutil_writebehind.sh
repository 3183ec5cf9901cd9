#!/bin/bash
# jetutil backup writes behind (issue 10: a throttled backup keeps its rate):
# while it copies a database larger than two JU_FLUSH_CHUNKs (8 MiB), it
# starts the write-back of each chunk written (sync_file_range WRITE) and
# waits for the chunk before (WAIT_BEFORE|WRITE|WAIT_AFTER), so the fsync at
# the end of the file finds little to do; the copy still restores and
# verifies.  Needs strace (installed by .ci/run; skipped elsewhere, exit 77).
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

command -v strace >/dev/null || { echo "SKIP: strace is not installed"; exit 77; }
D="$T/inst"
"$JETUTIL" create "$D" --accounts 400000 >/dev/null || fail "create"
db=$(stat -c %s "$D/bank.edb")
[ "$db" -gt $((3 * 8 << 20)) ] || fail "bank.edb is only $db bytes: not above three chunks"
# LeakSanitizer cannot run under ptrace (a sanitizer build)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    strace -f -qq -e trace=sync_file_range -o "$T/trace" "$JETUTIL" backup "$D" "$T/b" >/dev/null ||
    fail "jetutil backup"
starts=$(grep -c 'SYNC_FILE_RANGE_WRITE)' "$T/trace")
waits=$(grep -c 'SYNC_FILE_RANGE_WAIT_BEFORE|SYNC_FILE_RANGE_WRITE|SYNC_FILE_RANGE_WAIT_AFTER)' "$T/trace")
# one start per chunk of the database (and of any log above a chunk), one
# wait per chunk after the first
[ "$starts" -ge $((db / (8 << 20))) ] || fail "$starts write-back starts for $db bytes"
[ "$waits" -ge $((db / (8 << 20) - 1)) ] || fail "$waits write-back waits for $db bytes"
grep -q ' = -1 ' "$T/trace" && fail "a sync_file_range call failed: $(grep ' = -1 ' "$T/trace")"
"$JETUTIL" restore "$T/b" "$T/r" >/dev/null || fail "restore"
"$JETUTIL" verify "$T/r" >/dev/null || fail "verify"
note "write-behind: $starts starts, $waits waits for a $db-byte database; restored and verified"
