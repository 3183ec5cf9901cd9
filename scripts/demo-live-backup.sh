#!/bin/sh
# demo-live-backup.sh -- the whole esebackupfs live demo, each step printed:
# jetutil serve with a workload, mount, rsync -a to a directory,
# esebackupfs commit, umount (truncation happens), jetutil restore of the
# copy, jetutil verify.  Run as root from a build directory:
#     scripts/demo-live-backup.sh BUILDDIR     (or BUILD=BUILDDIR)
set -eu
B=$(cd "${1:-${BUILD:-.}}" && pwd)
JU=$B/src/jetutil/jetutil
FS=$B/esebackupfs
[ -x "$JU" ] && [ -x "$FS" ] || { echo "usage: $0 BUILDDIR (built jetutil and esebackupfs)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "$0: run as root (FUSE mount)" >&2; exit 2; }
D=$(mktemp -d /tmp/esebackupfs-demo.XXXXXX)
SERVE=
cleanup() {
    mountpoint -q "$D/mnt" 2>/dev/null && umount "$D/mnt"
    [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
    rm -rf "$D"
}
trap cleanup EXIT
run() { echo "\$ $*"; "$@"; }

echo "# 1. a Jet instance (a bank) served live, 4 writer threads"
run "$JU" create "$D/bank" --accounts 50000 --log-size 256
echo "\$ $JU serve $D/bank --endpoint $D/bank.sock --threads 4 &"
"$JU" serve "$D/bank" --endpoint "$D/bank.sock" --threads 4 >"$D/serve.log" 2>&1 &
SERVE=$!
while [ ! -S "$D/bank.sock" ]; do kill -0 "$SERVE"; sleep 0.1; done
echo "# 2. the esebackupfs configuration"
printf '%s\n' "[source]" "endpoint = $D/bank.sock" "[backup]" "type = full" "truncate = commit" \
    "[spool]" "directory = $D" >"$D/bank.ini"
chmod 600 "$D/bank.ini"
cat "$D/bank.ini"
echo "# 3. mount = the backup begins"
mkdir "$D/mnt"
run "$FS" "$D/bank.ini" "$D/mnt"
run ls -l "$D/mnt"
run cat "$D/mnt/backup_label"
echo "# 4. copy with an unmodified tool"
run rsync -a "$D/mnt/" "$D/copy/"
run ls -l "$D/copy" "$D/copy/logs"
echo "# 5. the copy succeeded: allow truncation"
run "$FS" commit "$D/mnt"
run "$FS" status "$D/mnt"
echo "# 6. umount = the backup ends; the logs are truncated"
echo "logs in the instance before: $(ls "$D/bank" | grep -c '^edb0.*\.log$')"
run umount "$D/mnt"
DRIVER_GONE=0
for i in $(seq 1 100); do
    "$FS" status "$D/mnt" >/dev/null 2>&1 || { DRIVER_GONE=1; break; }
    sleep 0.1
done
[ $DRIVER_GONE = 1 ]
echo "logs in the instance after:  $(ls "$D/bank" | grep -c '^edb0.*\.log$')"
run "$JU" dump "$D/bank/bank.edb" | grep -i "backup:"
echo "# 7. stop the host, restore the copy, verify it"
kill "$SERVE"
wait "$SERVE" || true
SERVE=
run sh -c "grep '^# committed-at-roll' '$D/copy/logs/manifest'"
run "$JU" restore "$D/copy" "$D/restored"
run "$JU" verify "$D/restored"
echo "# done: the live copy restored and verified"
