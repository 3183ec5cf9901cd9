#!/bin/sh
# fs_guards.sh -- issue 11 part 6: [backup] max_duration and idle_timeout
# on real mounts over a real libjet host.  max_duration fails a backup
# whose every byte was delivered (truncate = complete) or delivered and
# committed (truncate = commit); idle_timeout fails a backup nobody reads;
# each time: status says why and exits 1, readers get EIO, the log says
# why, umount aborts and no log file is deleted, no full backup recorded.
# A slow reader that keeps reading is not stopped by idle_timeout.  The
# waits are bounded polls of `esebackupfs status` for the failure (the
# guard's own short real timeouts: 1-5 s).
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0

# archived log generations present in the instance, one a line
gens() {
    ls "$I" | grep '^edb[0-9A-F]*\.log$' | LC_ALL=C sort
}

# mount_fg NAME: mount $T/NAME.ini on $T/mnt-NAME in the foreground,
# its log lines in $T/NAME.log; sets DRIVER_PID.
mount_fg() {
    mkdir -p "$T/mnt-$1"
    "$FS" -f "$T/$1.ini" "$T/mnt-$1" 2>"$T/$1.log" &
    DRIVER_PID=$!
    FS_PIDS="$FS_PIDS $DRIVER_PID"
    FS_MOUNTS="$FS_MOUNTS $T/mnt-$1"
    n=0
    until mountpoint -q "$T/mnt-$1"; do
        fs_alive "$DRIVER_PID" || { cat "$T/$1.log"; fail "$1: mount failed"; }
        n=$((n + 1))
        [ $n -gt 300 ] && fail "$1: not mounted"
        sleep 0.05
    done
}

# wait_failed NAME: poll status (bounded, 60 s) until the backup failed;
# status must then exit 1.  The status text is left in $T/NAME.status.
wait_failed() {
    n=0
    until "$FS" status "$T/mnt-$1" >"$T/$1.status" 2>&1; [ $? -eq 1 ] &&
        grep -q '^phase: failed' "$T/$1.status"; do
        n=$((n + 1))
        [ $n -gt 600 ] && { cat "$T/$1.status"; fail "$1: the guard never fired"; }
        sleep 0.1
    done
}

# aborted NAME WHY: after the guard fired: status and log say WHY, reads
# and listings get EIO, umount aborts, nothing deleted, nothing recorded.
aborted() {
    grep -q "^error: $2" "$T/$1.status" || { cat "$T/$1.status"; fail "$1: status lacks $2"; }
    grep -q "would: JetEndExternalBackupInstance2(Abort)" "$T/$1.status" ||
        fail "$1: status decision"
    if cat "$T/mnt-$1/bank.edb" >/dev/null 2>"$T/$1.cat"; then fail "$1: read after the guard"; fi
    grep -q "Input/output error" "$T/$1.cat" || { cat "$T/$1.cat"; fail "$1: read not EIO"; }
    if ls "$T/mnt-$1/logs" >/dev/null 2>"$T/$1.ls"; then fail "$1: listing after the guard"; fi
    grep -q "Input/output error" "$T/$1.ls" || { cat "$T/$1.ls"; fail "$1: ls not EIO"; }
    umount "$T/mnt-$1" || fail "$1: umount"
    fs_wait_gone "$DRIVER_PID" || fail "$1: driver did not exit"
    grep -q "backup failed: $2" "$T/$1.log" || { cat "$T/$1.log"; fail "$1: log lacks $2"; }
    grep -q "umount: the backup failed ($2.*-> JetEndExternalBackupInstance2(Abort)" \
        "$T/$1.log" || { cat "$T/$1.log"; fail "$1: umount line"; }
    grep -q "backup ended: aborted" "$T/$1.log" || fail "$1: not aborted"
    gens >"$T/$1.after"
    missing=$(LC_ALL=C comm -23 "$T/$1.before" "$T/$1.after" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$1: logs deleted although the backup failed: $missing"
    [ "$(fs_dump_field "$I/bank.edb" "full backup")" = "(none)" ] || fail "$1: recorded as full"
    echo "   $1: $(grep '^error:' "$T/$1.status" | cut -c1-60)...; nothing deleted"
}

# guarded NAME TRUNCATE KEY=VALUE: the INI of one guarded backup
guarded() {
    fs_ini "$T/$1.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = $2" "$3" \
        "[spool]" "directory = $T"
    gens >"$T/$1.before"
}

for trunc in complete commit; do
    step "max_duration after a complete copy, truncate = $trunc: aborted, nothing truncated"
    guarded "max-$trunc" "$trunc" "max_duration = 5s"
    mount_fg "max-$trunc"
    rsync -a "$T/mnt-max-$trunc/" "$T/copy-max-$trunc/" ||
        fail "max-$trunc: rsync (did the copy take longer than max_duration 5s?)"
    if [ "$trunc" = commit ]; then
        "$FS" commit "$T/mnt-max-$trunc" >"$T/max-commit.answer" || fail "commit exit $?"
        grep -q "will truncate" "$T/max-commit.answer" || fail "commit answer"
    fi
    "$FS" status "$T/mnt-max-$trunc" >"$T/max-$trunc.pre" ||
        { cat "$T/max-$trunc.pre"; fail "max-$trunc: failed before the deadline"; }
    grep -q "would: JetTruncateLogInstance" "$T/max-$trunc.pre" ||
        { cat "$T/max-$trunc.pre"; fail "max-$trunc: not complete before the guard"; }
    grep -q "^guards: max_duration 5s, running" "$T/max-$trunc.pre" || fail "guards line"
    wait_failed "max-$trunc"
    aborted "max-$trunc" "max_duration 5s exceeded"
done

step "idle_timeout: a reader that stops halfway; aborted, nothing truncated"
guarded idle complete "idle_timeout = 1s"
mount_fg idle
head -c 300000 "$T/mnt-idle/bank.edb" >/dev/null || fail "idle: head"
wait_failed idle
aborted idle "idle for 1s (idle_timeout)"

step "idle_timeout: a slow reader that keeps reading is not stopped"
guarded slow complete "idle_timeout = 2s"
mount_fg slow
# the pacing is the workload (a reader slower than idle_timeout overall),
# not a synchronisation: 24 requests 0.25 s apart, 6 s in all
for i in $(seq 0 23); do
    dd if="$T/mnt-slow/bank.edb" of=/dev/null bs=16k skip="$i" count=1 2>"$T/slow.dd" ||
        { cat "$T/slow.dd"; "$FS" status "$T/mnt-slow"; fail "slow: read $i failed"; }
    sleep 0.25
done
"$FS" status "$T/mnt-slow" >"$T/slow.status" || { cat "$T/slow.status"; fail "slow: stopped"; }
rsync -a "$T/mnt-slow/" "$T/copy-slow/" || fail "slow: rsync"
umount "$T/mnt-slow" || fail "slow: umount"
fs_wait_gone "$DRIVER_PID" || fail "slow: driver did not exit"
grep -q "backup ended: logs truncated" "$T/slow.log" || { cat "$T/slow.log"; fail "slow: not truncated"; }
[ "$(fs_dump_field "$I/bank.edb" "full backup")" != "(none)" ] || fail "slow: no full backup"
echo "   slow: read for 6 s with idle_timeout 2s, then a full backup with truncation"
fs_serve_stop
echo "PASS"
