#!/bin/sh
# fs_mount_helper.sh -- the command line and the mount(8) paths:
# --help/--version, usage errors and bad -o options as one line with
# nothing started, `status` exit codes and content, then
# `mount -t fuse.esebackupfs CONFIG MOUNTPOINT` and an fstab line (through
# `mount -T` with a private fstab, so /etc/fstab is not touched).
# mount.fuse3 runs helpers with a fixed PATH, so the built binary is made
# visible as /usr/sbin/esebackupfs by a temporary symlink that the EXIT
# trap removes (the helper part is skipped when /sbin/mount.fuse3 is
# missing or an esebackupfs is installed there already).
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
FS_ACCOUNTS=2000 fs_instance "$I"
fs_serve "$I" "$EPS" 0
fs_ini "$T/ok.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T"
mkdir -p "$T/mnt"

# one_line_fail NEEDLE CMD...: CMD exits 1 with one stderr line naming NEEDLE
one_line_fail() {
    needle=$1
    shift
    "$@" >"$T/cmd.out" 2>"$T/cmd.err" && fail "$* succeeded"
    rc=$?
    [ $rc -eq 1 ] || { cat "$T/cmd.err"; fail "$*: exit $rc, want 1"; }
    [ "$(wc -l <"$T/cmd.err")" -eq 1 ] || { cat "$T/cmd.err"; fail "$*: not one line"; }
    grep -q -- "$needle" "$T/cmd.err" || { cat "$T/cmd.err"; fail "$*: lacks $needle"; }
    mountpoint -q "$T/mnt" && fail "$*: something mounted"
    echo "   $(cat "$T/cmd.err")"
}

step "--help, --version, usage errors"
"$FS" --help >"$T/help" || fail "--help exit $?"
grep -q "^usage: esebackupfs \[options\] CONFIG MOUNTPOINT" "$T/help" || fail "--help text"
"$FS" -h | cmp -s - "$T/help" || fail "-h differs from --help"
"$FS" --version >"$T/version" || fail "--version exit $?"
grep -q "^esebackupfs [0-9]" "$T/version" || fail "--version text: $(cat "$T/version")"
"$FS" >/dev/null 2>&1 && fail "no arguments accepted"
one_line_fail "unknown option '--bogus'" "$FS" --bogus "$T/ok.ini" "$T/mnt"
one_line_fail "unexpected argument 'extra'" "$FS" "$T/ok.ini" "$T/mnt" extra
one_line_fail "nothing.ini: No such file" "$FS" "$T/nothing.ini" "$T/mnt"
one_line_fail "mount point .*nodir: No such file" "$FS" "$T/ok.ini" "$T/nodir"
one_line_fail "not a directory" "$FS" "$T/ok.ini" "$T/ok.ini"

step "bad -o options: one line, no backup started"
one_line_fail "bad mount options; no backup started (fuse: unknown option(s): .-o bogus_opt" \
    "$FS" -o bogus_opt "$T/ok.ini" "$T/mnt"
# no backup was begun by the refused mounts: a mount works at once
fs_mount "$T/ok.ini" "$T/mnt"

step "status: exit 0 and content while healthy, 2 for a non-mount"
"$FS" status "$T/mnt" >"$T/status" || fail "status exit $?"
for l in "^phase: databases$" "^backup: full, truncate = never, spool policy = keep$" \
    "^commit: not given$" "^file bank.edb: delivered 0 / [1-9][0-9]*, pulled " \
    "^logs: list not known yet$" "^spool: 0 bytes written" "^waiting requests: 0$" \
    "^error: none$" "^umount now would: JetEndExternalBackupInstance2(Abort) (not every byte"; do
    grep -q "$l" "$T/status" || { cat "$T/status"; fail "status lacks $l"; }
done
# truncate = never: the commit cannot change the decision, so exit 1
"$FS" commit "$T/mnt" >"$T/commit" && fail "commit with truncate = never exit 0"
grep -q "truncate = never, so it does not change" "$T/commit" || fail "commit answer"
"$FS" status "$T/mnt" | grep -q "^commit: given$" || fail "commit not shown"
"$FS" status "$T" >/dev/null 2>"$T/status.err" && fail "status of a non-mount succeeded"
rc=$?
[ $rc -eq 2 ] || fail "status of a non-mount: exit $rc, want 2"
grep -q "is not an esebackupfs mount" "$T/status.err" || fail "status error text"
fs_umount "$T/mnt"

# ---- mount(8) paths ----
HELPER=/sbin/mount.fuse3
[ -x "$HELPER" ] || { echo "SKIP: no $HELPER (mount -t fuse.esebackupfs untested)"; exit 77; }
for d in /sbin /bin /usr/sbin /usr/bin; do
    if [ -e "$d/esebackupfs" ] && [ "$(readlink "$d/esebackupfs")" != "$FS" ]; then
        echo "SKIP: $d/esebackupfs is installed; not shadowing it"
        exit 77
    fi
done
LINK=/usr/sbin/esebackupfs
# serialise with a concurrent run of this test in another build directory
# (a lock on the directory itself: no lock file is left behind)
exec 9</usr/sbin
flock -w 120 9 || fail "cannot lock /usr/sbin"
[ -L "$LINK" ] && rm -f "$LINK" # our own, left by a killed run (checked above)
ln -s "$FS" "$LINK" || fail "cannot link $LINK"
trap 'rm -f "$LINK"; fs_cleanup' EXIT

# helper_mount MOUNT-ARGS...: mount through mount(8); sets DRIVER_PID
helper_mount() {
    mount "$@" || fail "mount $*"
    FS_MOUNTS="$FS_MOUNTS $T/mnt"
    mountpoint -q "$T/mnt" || fail "not mounted after mount $*"
    DRIVER_PID=$(pgrep -f "^esebackupfs $T/ok.ini $T/mnt" | head -1)
    [ -n "$DRIVER_PID" ] || fail "driver process not found"
}

# check_mounted OPTS...: /proc/mounts shows our type, source and options
check_mounted() {
    line=$(awk -v m="$T/mnt" '$2 == m' /proc/mounts)
    case "$line" in
    "$T/ok.ini $T/mnt fuse.esebackupfs "*) ;;
    *) fail "mount entry: $line" ;;
    esac
    for o in ro nosuid nodev default_permissions "$@"; do
        echo "$line" | cut -d' ' -f4 | tr ',' '\n' | grep -qx "$o" || fail "option $o missing: $line"
    done
}

step "mount -t fuse.esebackupfs CONFIG MOUNTPOINT"
helper_mount -t fuse.esebackupfs "$T/ok.ini" "$T/mnt"
check_mounted
grep -q "^backup-type: full$" "$T/mnt/backup_label" || fail "label through mount -t"
cp -a "$T/mnt" "$T/copy-t" || fail "cp -a through mount -t"
fs_umount "$T/mnt"
fs_check_copy "$T/copy-t" "$I" "mount -t"

step "an fstab line (mount -T private fstab)"
printf '%s %s fuse.esebackupfs noauto,nofail,_netdev,allow_other,x-systemd.automount 0 0\n' \
    "$T/ok.ini" "$T/mnt" >"$T/fstab"
helper_mount -T "$T/fstab" "$T/mnt"
check_mounted allow_other
fs_umount "$T/mnt"
fs_serve_stop
echo "PASS"
