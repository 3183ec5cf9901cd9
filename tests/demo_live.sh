#!/bin/sh
# demo_live.sh -- the README's live demo (scripts/demo-live-backup.sh, run by
# `bash scripts/quickstart demo`) runs to its end against this build: serve,
# mount, rsync, commit, umount with truncation, restore, verify.  Needs root
# and /dev/fuse (skips otherwise, exit 77).
set -u
[ "$(id -u)" = 0 ] && [ -c /dev/fuse ] || { echo "SKIP: needs root and /dev/fuse"; exit 77; }
out=$(sh "$top_srcdir/scripts/demo-live-backup.sh" "$top_builddir" 2>&1)
rc=$?
printf '%s\n' "$out"
[ $rc -eq 0 ] || { echo "FAIL: the demo exited $rc"; exit 1; }
printf '%s\n' "$out" | grep -qx '# done: the live copy restored and verified' ||
    { echo "FAIL: the demo did not reach its end"; exit 1; }
printf '%s\n' "$out" | grep -qx 'ok' || { echo "FAIL: jetutil verify did not say ok"; exit 1; }
