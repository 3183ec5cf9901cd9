#!/bin/sh
# fs_remount.sh -- umount means the backup has ended (issue 7 item 7):
# 100 times umount, then at once mount the same source again (alternating
# between two mount points, so that both "same mount point" and "another
# mount point" follow an umount): every mount must begin a backup.  The
# previous driver is never waited for by the test.  Small database, no
# reads, so the 100 rounds take seconds.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
FS_ACCOUNTS=2000 fs_instance "$I"
fs_serve "$I" "$EPS" 0
fs_ini "$T/a.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T"
mkdir -p "$T/m0" "$T/m1"
FS_MOUNTS="$T/m0 $T/m1"

step "100 x umount, then mount at once"
i=0
while [ $i -lt 100 ]; do
    m=$T/m$((i % 3 == 2))
    "$FS" "$T/a.ini" "$m" 2>"$T/mount.err" ||
        fail "round $i: mount right after umount: $(cat "$T/mount.err")"
    umount "$m" || fail "round $i: umount $m"
    i=$((i + 1))
done
begun=$(grep -c "backup begun" "$I.serve.out")
[ "$begun" -eq 100 ] || fail "host saw $begun backups begun, want 100"
echo "   100 of 100 mounts began a backup"
