#!/bin/sh
# fs_pipeline.sh -- issue 10 parts 1-3 on real mounts over `jetutil serve`
# (the producer pulls into the window, the hasher digests and spools
# beside it):
#  - policy = keep: cp -a reads the database in order (from the window);
#    re-reads with dd after the window (16 MiB) has moved on come from
#    the spool and return the same bytes (start, middle, an odd range
#    across chunk boundaries); every byte was spooled once; the copy's
#    manifest checks and it restores;
#  - policy = keep, rsync/restic order: a reader of the database runs
#    while a listing of logs/ waits for the whole database; both finish,
#    the bytes match and the manifest checks;
#  - policy = stream: tar writes no spool byte and its copy checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
FS_ACCOUNTS=600000 fs_instance "$I"
fs_serve "$I" "$EPS" 0
DBSIZE=$(stat -c %s "$I/bank.edb")
[ "$DBSIZE" -gt $((32 << 20)) ] || fail "the database ($DBSIZE bytes) does not exceed 2 windows"

# spool_bytes MNT: bytes written to the spool (status)
spool_bytes() { "$FS" status "$1" | sed -n 's/^spool: \([0-9]*\) bytes.*/\1/p'; }

# same MNT COPY SKIP COUNT BS: dd of the mount equals the copy's bytes
same() {
    dd if="$1/bank.edb" bs="$5" skip="$3" count="$4" 2>/dev/null >"$T/re.mnt" || fail "dd re-read"
    dd if="$2/bank.edb" bs="$5" skip="$3" count="$4" 2>/dev/null >"$T/re.copy" || fail "dd copy"
    [ -s "$T/re.mnt" ] || fail "empty re-read at $3 x $5"
    cmp -s "$T/re.mnt" "$T/re.copy" || fail "re-read at $3 x $5 differs from the first read"
}

step "keep: re-reads after the window moved return the bytes read first"
fs_ini "$T/keep.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = never" \
    "[spool]" "directory = $T" "policy = keep"
fs_mount "$T/keep.ini" "$T/mnt"
cp -a "$T/mnt" "$T/copy" || fail "cp -a of the mount"
same "$T/mnt" "$T/copy" 0 4 1048576
same "$T/mnt" "$T/copy" $((DBSIZE / 2 / 4096)) 300 4096
same "$T/mnt" "$T/copy" 7 5 1000003
[ "$(spool_bytes "$T/mnt")" -ge "$DBSIZE" ] || fail "keep spooled $(spool_bytes "$T/mnt") bytes"
fs_umount "$T/mnt"
fs_check_copy "$T/copy" "$I" "keep cp -a + re-reads"
rm -rf "$T/copy"

step "keep: the database is read while logs/ is being listed"
fs_mount "$T/keep.ini" "$T/mnt"
ls "$T/mnt/logs" >"$T/logs.list" &
LSPID=$!
mkdir -p "$T/copy/logs"
cat "$T/mnt/bank.edb" >"$T/copy/bank.edb" || fail "cat of the database"
wait "$LSPID" || fail "ls logs/"
grep -q '\.log$' "$T/logs.list" || fail "logs/ listed no log"
cp "$T/mnt/backup_label" "$T/mnt/manifest" "$T/copy/" || fail "cp label/manifest"
cp "$T/mnt/logs/"* "$T/copy/logs/" || fail "cp logs"
fs_umount "$T/mnt"
fs_check_copy "$T/copy" "$I" "keep cat while ls logs/"
rm -rf "$T/copy"

step "stream: tar writes no spool byte"
fs_ini "$T/stream.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = never" \
    "[spool]" "directory = $T" "policy = stream"
fs_mount "$T/stream.ini" "$T/mnt"
mkdir -p "$T/copy"
tar cf - -C "$T/mnt" . | tar xf - -C "$T/copy" || fail "tar of the mount"
[ "$(spool_bytes "$T/mnt")" = 0 ] || fail "stream tar spooled $(spool_bytes "$T/mnt") bytes"
fs_umount "$T/mnt"
fs_check_copy "$T/copy" "$I" "stream tar"
fs_serve_stop
exit 0
