#!/bin/sh
# bench_fs.sh -- esebackupfs throughput (make bench; not part of make check).
#
# One instance, one set of bytes.  For each spool policy (keep, stream) and
# each reader (cat of every file, tar c | cat, rsync -a to a local dir) one
# fresh mount = one backup: seconds and MB/s, bytes written to the spool,
# and the driver's peak RSS (VmHWM).  Baselines on the same bytes: the
# same readers on a plain local copy, and cat of a trivial in-memory FUSE
# file of the database's size (tests/fs_memfuse: the FUSE ceiling).
# Page caches are dropped before each run.  BENCH_ACCOUNTS sets the size
# (default 34000000 accounts of 64 bytes: a database above 2 GiB).
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

ACC=${BENCH_ACCOUNTS:-34000000}
BT=${BENCH_DIR:-$T}
I=$BT/bench-inst
EPS=$T/ep.sock
step "creating an instance with $ACC accounts"
rm -rf "$I"
FS_ACCOUNTS=$ACC fs_instance "$I"
fs_serve "$I" "$EPS" 0
DBSIZE=$(stat -c %s "$I/bank.edb")
echo "   bank.edb: $DBSIZE bytes"

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
# rate BYTES START END -> "S s  R MB/s"
rate() { awk -v b="$1" -v s="$2" -v e="$3" 'BEGIN { d = e - s; printf "%7.2f s %8.1f MB/s", d, b / d / 1e6 }'; }

readers="cat tar rsync"
read_tree() { # $1 reader, $2 dir
    case $1 in
    cat) cat "$2"/backup_label "$2"/*.edb >/dev/null && cat "$2"/logs/* "$2"/manifest >/dev/null ;;
    tar) tar cf - -C "$2" . | cat >/dev/null ;;
    rsync) rm -rf "$T/rs" && rsync -a "$2"/ "$T/rs"/ ;;
    esac
}

printf '%-28s %-28s %14s %12s\n' "run" "time / rate" "spool bytes" "peak RSS kB" >"$T/table"
for pol in keep stream; do
    fs_ini "$T/$pol.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $BT" "policy = $pol"
    for r in $readers; do
        drop
        fs_mount "$T/$pol.ini" "$T/mnt"
        t0=$(now)
        read_tree "$r" "$T/mnt" || fail "$r of the mount"
        t1=$(now)
        total=$(du -sb --apparent-size "$T/mnt" 2>/dev/null | cut -f1)
        spool=$("$FS" status "$T/mnt" | sed -n 's/^spool: \([0-9]*\) bytes.*/\1/p')
        rss=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DRIVER_PID/status")
        [ "$r" = rsync ] && [ ! -d "$T/plain" ] && cp -a "$T/rs" "$T/plain"
        fs_umount "$T/mnt"
        printf '%-28s %-28s %14s %12s\n' "mount/$pol/$r" "$(rate "$total" "$t0" "$t1")" "$spool" \
            "$rss" >>"$T/table"
    done
done
fs_serve_stop
for r in $readers; do
    drop
    t0=$(now)
    read_tree "$r" "$T/plain" || fail "$r of the plain copy"
    t1=$(now)
    printf '%-28s %-28s %14s %12s\n' "plain copy/$r" "$(rate "$total" "$t0" "$t1")" - - >>"$T/table"
done
mkdir -p "$T/memmnt"
"$B/tests/fs_memfuse" "$DBSIZE" "$T/memmnt" || fail "fs_memfuse"
FS_MOUNTS="$FS_MOUNTS $T/memmnt"
echo 1024 >"/sys/class/bdi/$(mountpoint -d "$T/memmnt")/read_ahead_kb" 2>/dev/null
drop
t0=$(now)
cat "$T/memmnt/data" >/dev/null || fail "cat of fs_memfuse"
t1=$(now)
umount "$T/memmnt"
printf '%-28s %-28s %14s %12s\n' "in-memory FUSE file/cat" "$(rate "$DBSIZE" "$t0" "$t1")" - - \
    >>"$T/table"
echo
echo "esebackupfs benchmark: $total bytes per run (bank.edb $DBSIZE + logs + label + manifest)"
cat "$T/table"
[ -n "${BENCH_DIR:-}" ] && rm -rf "$I"
exit 0
