#!/bin/sh
# fs_inprocess.sh -- the in-process backend ([source] with the instance's
# directories, no endpoint) on a real mount.  The driver hosts the
# instance itself for the mount's life: JetInit and the instance lock in
# the daemon (after the fork, so the lock outlives the mount command),
# JetTerm at umount.  Checked: an instance held by another process is
# refused with one line naming JET_errFileAccessDenied; while mounted
# nobody else can open the instance; cp -a of the mount restores and
# verifies with exactly the source's transfers; truncate = complete
# deletes exactly the logs below the full backup's genLow; the log file
# size of the instance is kept (not the engine default); SIGTERM of the
# daemon unmounts, aborts the backup and releases the instance.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
fs_instance "$I"
"$JU" workload "$I" --threads 2 --seconds 1 >"$T/workload.out" || fail "jetutil workload"
"$JU" verify "$I" >"$T/src.verify" || { cat "$T/src.verify"; fail "verify of the source"; }
want=$(sed -n 's/^transfers \([0-9]*\)$/\1/p' "$T/src.verify")
[ -n "$want" ] && [ "$want" -gt 0 ] || fail "the workload committed nothing"
logsize=$(stat -c %s "$I/edb.log")
fs_ini "$T/ip.ini" "[source]" "system_path = $I" "log_path = $I" "databases = $I/bank.edb" \
    "[backup]" "truncate = complete" "[spool]" "directory = $T"

# archived log generations present in the instance, decimal, one a line
gens() {
    for f in "$I"/edb*.log; do
        h=$(basename "$f" | sed -n 's/^edb\([0-9A-F]\{5,8\}\)\.log$/\1/p')
        [ -n "$h" ] && printf '%d\n' "0x$h"
    done | LC_ALL=C sort
}

step "instance held by another process: refused, one line naming the Jet error"
fs_serve "$I" "$T/ep.sock" 0
expect_refused "$T/ip.ini" "JetInit .*JET_errFileAccessDenied"
fs_serve_stop

step "in-process mount: the daemon hosts the instance"
gens >"$T/before"
fs_mount "$T/ip.ini" "$T/mnt"
grep -q "^source: in-process $I\$" "$T/mnt/backup_label" || fail "label source"
if "$JU" workload "$I" --seconds 1 >/dev/null 2>"$T/locked.err"; then
    fail "the instance could be opened while mounted (lock not held by the daemon)"
fi
grep -q JET_errFileAccessDenied "$T/locked.err" || { cat "$T/locked.err"; fail "lock error"; }
cp -a "$T/mnt" "$T/copy" || fail "cp -a"
"$FS" status "$T/mnt" >"$T/status" || { cat "$T/status"; fail "status not healthy"; }
grep -q "^umount now would: JetTruncateLogInstance" "$T/status" || { cat "$T/status"; fail "decision"; }
for l in "$T"/copy/logs/*.log; do
    [ "$(stat -c %s "$l")" = "$logsize" ] ||
        fail "$(basename "$l"): $(stat -c %s "$l") bytes, the instance's logs have $logsize"
done
fs_umount "$T/mnt"
mountpoint -q "$T/mnt" && fail "still mounted"
gens >"$T/after"

step "umount ended the backup (full, truncated) and terminated the instance"
low=$(fs_dump_field "$I/bank.edb" "full backup" | sed -n 's/^genLow 0x\([0-9A-Fa-f]*\) .*/\1/p')
[ -n "$low" ] || fail "no full backup recorded in the header"
awk -v low="$(printf '%d' "0x$low")" '$1 + 0 < low + 0' "$T/before" >"$T/expect-gone"
[ -s "$T/expect-gone" ] || fail "test needs archived logs below genLow $low"
LC_ALL=C comm -23 "$T/before" "$T/after" >"$T/gone"
cmp -s "$T/expect-gone" "$T/gone" ||
    fail "deleted $(tr '\n' ' ' <"$T/gone") expected $(tr '\n' ' ' <"$T/expect-gone")"
echo "   deleted exactly the $(wc -l <"$T/gone") generations below 0x$low"
"$JU" verify "$I" >"$T/src.verify2" 2>&1 || { cat "$T/src.verify2"; fail "instance not released"; }

step "the copy restores and verifies"
grep -q "^# committed-at-roll unknown" "$T/copy/logs/manifest" || fail "manifest committed line"
fs_check_copy "$T/copy" "$I" "cp -a (in-process)" "$want"
got=$(sed -n 's/^transfers \([0-9]*\)$/\1/p' "$T/verify.out")
[ "$got" = "$want" ] || fail "restored transfers $got, the quiet source has $want"

step "SIGTERM of the daemon: unmounted, backup aborted, instance released"
full_before=$(fs_dump_field "$I/bank.edb" "full backup")
fs_mount "$T/ip.ini" "$T/mnt2"
head -c 50000 "$T/mnt2/bank.edb" >/dev/null || fail "head"
kill -TERM "$DRIVER_PID"
fs_wait_gone "$DRIVER_PID" || fail "driver ignored SIGTERM"
mountpoint -q "$T/mnt2" && fail "still mounted after SIGTERM"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "$full_before" ] || fail "SIGTERM: recorded"
"$JU" verify "$I" >"$T/src.verify3" 2>&1 || { cat "$T/src.verify3"; fail "not released after SIGTERM"; }
echo "PASS"
