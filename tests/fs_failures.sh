#!/bin/sh
# fs_failures.sh -- what goes wrong must fail loudly and never truncate:
# refused mounts (one line naming the Jet error, nothing mounted), bad
# INI, a reader that stops halfway, a corrupt database page (EIO for the
# copy tool, error in status), a too small spool cap, SIGTERM and SIGKILL
# of the driver (also SIGTERM while a request waits on a stalled engine),
# and 8 concurrent readers getting identical bytes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 4
fs_ini "$T/ok.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = complete" \
    "[spool]" "directory = $T"

step "refused mounts"
fs_ini "$T/noep.ini" "[source]" "endpoint = $T/nothing.sock"
expect_refused "$T/noep.ini" "JET_err"
fs_ini "$T/bad.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = sometimes"
expect_refused "$T/bad.ini" "bad.ini:4: truncate"
cp "$T/ok.ini" "$T/open.ini" && chmod 666 "$T/open.ini"
expect_refused "$T/open.ini" "writable by group or others"
fs_ini "$T/inc.ini" "[source]" "endpoint = $EPS" "[backup]" "type = incremental"
expect_refused "$T/inc.ini" "JET_errMissingFullBackup"
fs_mount "$T/ok.ini" "$T/mnt-a"
expect_refused "$T/ok.ini" "JET_errBackupInProgress"

step "a reader that stops halfway, then umount: no truncation, not recorded"
head -c 300000 "$T/mnt-a/bank.edb" >/dev/null || fail "head"
"$FS" status "$T/mnt-a" >"$T/half.status" || fail "status"
grep -q "^file bank.edb: delivered [0-9]* / " "$T/half.status" || { cat "$T/half.status"; fail "half status"; }
grep -q "would: JetEndExternalBackupInstance2(Abort)" "$T/half.status" || fail "half decision"
ls "$I" >"$T/half.before"
fs_umount "$T/mnt-a"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "(none)" ] || fail "half: recorded as full"
for f in $(grep '^edb0.*log$' "$T/half.before"); do
    [ -e "$I/$f" ] || fail "half: $f was deleted"
done

step "8 concurrent cat of one file and of different files: identical bytes"
fs_mount "$T/ok.ini" "$T/mnt-b"
pids=""
for n in 1 2 3 4 5 6 7 8; do
    cat "$T/mnt-b/bank.edb" >"$T/cat.$n" &
    pids="$pids $!"
done
ls "$T/mnt-b/logs" >"$T/loglist" || fail "ls logs"
n=0
for l in $(head -4 "$T/loglist"); do
    n=$((n + 1))
    cat "$T/mnt-b/logs/$l" >"$T/logcat.$n" &
    pids="$pids $!"
done
for p in $pids; do wait "$p" || fail "a concurrent cat failed"; done
for n in 2 3 4 5 6 7 8; do cmp "$T/cat.1" "$T/cat.$n" || fail "cat $n differs"; done
cat "$T/mnt-b/manifest" "$T/mnt-b/logs/manifest" >"$T/manifest.b"
want=$(grep '  bank.edb$' "$T/manifest.b" | cut -d' ' -f1)
[ "$(sha256sum <"$T/cat.1" | cut -d' ' -f1)" = "$want" ] || fail "bank.edb digest"
n=0
for l in $(head -4 "$T/loglist"); do
    n=$((n + 1))
    want=$(grep "  logs/$l\$" "$T/manifest.b" | cut -d' ' -f1)
    [ "$(sha256sum <"$T/logcat.$n" | cut -d' ' -f1)" = "$want" ] || fail "$l digest"
done

step "SIGKILL of the driver mid-copy: the host aborts, a new mount works"
kill -9 "$DRIVER_PID"
fs_wait_gone "$DRIVER_PID"
umount "$T/mnt-b" 2>/dev/null || umount -l "$T/mnt-b" || fail "cannot clean the dead mount"
fs_mount "$T/ok.ini" "$T/mnt-c"
cp -a "$T/mnt-c" "$T/copy-c" || fail "cp after SIGKILL"

fs_umount "$T/mnt-c"
fs_check_copy "$T/copy-c" "$I" "copy after a SIGKILLed mount"

step "SIGTERM of the driver mid-copy: clean unmount, backup aborted"
full_before=$(fs_dump_field "$I/bank.edb" "full backup")
fs_mount "$T/ok.ini" "$T/mnt-f"
head -c 100000 "$T/mnt-f/bank.edb" >/dev/null || fail "head"
kill -TERM "$DRIVER_PID"
fs_wait_gone "$DRIVER_PID" || fail "driver ignored SIGTERM"
mountpoint -q "$T/mnt-f" && fail "still mounted after SIGTERM"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "$full_before" ] || fail "SIGTERM: recorded"

step "SIGTERM while a request waits on a stalled engine: prompt unmount"
# the host is stopped, so the self-pull behind `ls logs/` cannot progress;
# SIGTERM must fail the waiting request (EIO) and unmount at once, not
# wait for the engine; the backup ends (aborted) once the host resumes
fs_mount "$T/ok.ini" "$T/mnt-g"
kill -STOP "$SERVE_PID"
ls "$T/mnt-g/logs" >/dev/null 2>"$T/stall.err" &
lspid=$!
n=0
until "$FS" status "$T/mnt-g" 2>/dev/null | grep -q "^waiting requests: [1-9]"; do
    n=$((n + 1))
    [ $n -gt 200 ] && { kill -CONT "$SERVE_PID"; fail "ls logs/ never blocked"; }
    sleep 0.05
done
kill -TERM "$DRIVER_PID"
fs_wait_gone "$lspid" || { kill -CONT "$SERVE_PID"; fail "the waiting ls was not released"; }
wait "$lspid" && { kill -CONT "$SERVE_PID"; fail "ls of a stalled logs/ succeeded"; }
grep -q "Input/output error" "$T/stall.err" || { kill -CONT "$SERVE_PID"; cat "$T/stall.err"; fail "not EIO"; }
mountpoint -q "$T/mnt-g" && { kill -CONT "$SERVE_PID"; fail "still mounted with the engine stalled"; }
kill -CONT "$SERVE_PID"
fs_wait_gone "$DRIVER_PID" || fail "driver did not end after the host resumed"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "$full_before" ] || fail "stall: recorded"

step "spool cap too small: EIO, backup aborted"
fs_ini "$T/cap.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = complete" \
    "[spool]" "directory = $T" "cap = 64K"
fs_mount "$T/cap.ini" "$T/mnt-d"
if cat "$T/mnt-d/bank.edb" >/dev/null 2>"$T/cap.err"; then fail "cat with a tiny spool cap worked"; fi
grep -q "Input/output error" "$T/cap.err" || { cat "$T/cap.err"; fail "not EIO"; }
if "$FS" status "$T/mnt-d" >"$T/cap.status"; then fail "status healthy after spool full"; fi
grep -q "spool full" "$T/cap.status" || { cat "$T/cap.status"; fail "cap status"; }
fs_umount "$T/mnt-d"
fs_serve_stop

step "corrupt database page: copy tool gets EIO, status shows it, no truncation"
# page 20 of the file gets garbage while the host is down; no writers later
dd if=/dev/urandom of="$I/bank.edb" bs=4096 seek=20 count=1 conv=notrunc 2>/dev/null ||
    fail "corrupting"
fs_serve "$I" "$EPS" 0
ls "$I" >"$T/corrupt.before"
full_before=$(fs_dump_field "$I/bank.edb" "full backup")
fs_mount "$T/ok.ini" "$T/mnt-e"
if cp -a "$T/mnt-e" "$T/copy-e" 2>"$T/corrupt.err"; then fail "cp of a corrupt db succeeded"; fi
grep -q "Input/output error" "$T/corrupt.err" || { cat "$T/corrupt.err"; fail "cp not EIO"; }
if "$FS" status "$T/mnt-e" >"$T/corrupt.status"; then fail "status healthy after corruption"; fi
grep -q "error: .*JET_err" "$T/corrupt.status" || { cat "$T/corrupt.status"; fail "status error"; }
echo "   $(grep '^error:' "$T/corrupt.status")"
fs_umount "$T/mnt-e"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "$full_before" ] || fail "corrupt: recorded"
for f in $(grep '^edb0.*log$' "$T/corrupt.before"); do
    [ -e "$I/$f" ] || fail "corrupt: $f was deleted"
done
fs_serve_stop
echo "PASS"
