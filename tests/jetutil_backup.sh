#!/bin/bash
# Live backups (issue 3): while `jetutil serve` runs 4 writer threads,
#  - full backups over the endpoint, each restored and verified; the
#    restored database holds at least committed_at_roll transfers;
#  - a full + incremental chain with --truncate, and a differential chain
#    (incrementals without --truncate), restored and verified after each link;
#  - truncation at shell level: with --truncate exactly the logs the engine
#    named are gone and all of them were below the checkpoint; without it
#    nothing is deleted; a client SIGKILLed mid-backup (deterministically, at
#    the --pause-before-logs hook) deletes nothing and the next backup works;
#  - an in-process backup of the stopped instance restores to the same count.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

D="$T/live"
S="$T/ep.sock"
"$JETUTIL" create "$D" --accounts 2000 --log-size 128 --checkpoint-kib 64 >/dev/null || fail "create"
: >"$T/serve.out"
: >"$T/serve.err"
"$JETUTIL" serve "$D" --endpoint "$S" --threads 4 >"$T/serve.out" 2>"$T/serve.err" &
SERVE=$!
bg_add $SERVE
wait_line "$T/serve.out" '^committed [0-9]+' $SERVE || fail "serve did not start: $(cat "$T/serve.err")"

# restore_check BACKUPDIR NAME: restore into $T/NAME, verify, check the count
# against the label's committed_at_roll; echoes the restored transfers.
restore_check() {
    local b=$1 r="$T/$2" out n c
    out=$("$JETUTIL" restore "$b" "$r" 2>&1) || fail "restore $b: $out"
    n=$(verify_dir "$r")
    c=$(label_value "$b" committed_at_roll)
    [ -n "$c" ] || fail "$b: label has no committed_at_roll"
    [ "$n" -ge "$c" ] || fail "$b: restored $n transfers < committed_at_roll $c"
    note "$2: restored transfers $n >= committed_at_roll $c ($(label_value "$b" type))" >&2
    rm -rf "$r"
    echo "$n"
}

# no_log_deleted BEFORE_LIST: every log listed before is still in the live dir.
no_log_deleted() {
    local l
    for l in $1; do [ -e "$D/$l" ] || fail "$2: $l was deleted"; done
}

# wait until the checkpoint has moved past the oldest live log, so that a
# truncating backup has something to delete (synchronises on the file)
wait_checkpoint_ahead() {
    local oldest i
    for i in $(seq 1 300); do
        oldest=$(log_list "$D" | head -n 1)
        [ -n "$oldest" ] && [ "$(checkpoint_gen "$D")" -gt $(( $(gen_of "$oldest") + 1 )) ] && return 0
        kill -0 $SERVE || fail "serve died"
        sleep 0.1
    done
    fail "the checkpoint did not advance"
}

# --- several full (copy) backups, no truncation: nothing deleted ---
for i in 1 2 3; do
    before=$(log_list "$D")
    "$JETUTIL" backup --endpoint "$S" "$T/full$i" >"$T/b.out" 2>&1 || fail "full backup $i: $(cat "$T/b.out")"
    grep -q '^truncate ' "$T/b.out" && fail "full backup $i truncated without --truncate"
    no_log_deleted "$before" "copy backup $i"
    [ "$(label_value "$T/full$i" type)" = copy ] || fail "backup $i: type $(label_value "$T/full$i" type)"
    [ -f "$T/full$i/bank.edb" ] || fail "backup $i: no database stream"
    restore_check "$T/full$i" "r-full$i" >/dev/null
done

# --- a client killed mid-backup deletes nothing; the next backup works ---
mkfifo "$T/pause"
wait_checkpoint_ahead
before=$(log_list "$D")
"$JETUTIL" backup --endpoint "$S" "$T/killed" --truncate --pause-before-logs "$T/pause" >"$T/k.out" 2>&1 &
KPID=$!
bg_add $KPID
read -r line <"$T/pause"
[ "$line" = paused ] || fail "pause hook said '$line'"
kill -9 $KPID
wait $KPID 2>/dev/null
no_log_deleted "$before" "killed backup"
# the server ends the dead client's backup with Abort when it sees the
# disconnect and logs it: wait for that line, then back up again
wait_line "$T/serve.err" 'backup aborted' $SERVE || fail "server did not abort the killed client's backup"
"$JETUTIL" backup --endpoint "$S" "$T/afterkill" >"$T/a.out" 2>&1 || fail "backup after the kill: $(cat "$T/a.out")"
no_log_deleted "$before" "copy backup after the kill"
restore_check "$T/afterkill" r-afterkill >/dev/null

# --- full + incremental chain with --truncate ---
# truncate_check OUT BEFORE: the logs named "truncate PATH" are gone, were
# all below the checkpoint, and no other log that existed before is gone.
truncate_check() {
    local out=$1 before=$2 ck p l names="" max=0
    ck=$(checkpoint_gen "$D")
    for p in $(sed -n 's/^truncate //p' "$out"); do
        l=$(basename "$p")
        names="$names $l"
        [ -e "$p" ] && fail "truncated log $p still exists"
        [ "$(gen_of "$l")" -lt "$ck" ] || fail "$l truncated but the checkpoint is at $ck"
        [ "$(gen_of "$l")" -gt "$max" ] && max=$(gen_of "$l")
    done
    for l in $before; do
        case " $names " in *" $l "*) continue ;; esac
        [ -e "$D/$l" ] || fail "$l deleted but not named by the truncate list"
    done
    # nothing older than the truncated range is left behind
    for l in $(log_list "$D"); do
        [ "$(gen_of "$l")" -gt "$max" ] || fail "$l is at or below the truncated range"
    done
    echo "$names" | wc -w
}
wait_checkpoint_ahead
before=$(log_list "$D")
"$JETUTIL" backup --endpoint "$S" "$T/chain" --truncate >"$T/c.out" 2>&1 || fail "chain full: $(cat "$T/c.out")"
nt=$(truncate_check "$T/c.out" "$before")
[ "$nt" -gt 0 ] || fail "a truncating full backup deleted no log although the checkpoint was ahead"
[ "$(label_value "$T/chain" type)" = full ] || fail "chain: type $(label_value "$T/chain" type)"
prev=$(restore_check "$T/chain" r-chain0)
for i in 1 2; do
    wait_checkpoint_ahead
    before=$(log_list "$D")
    "$JETUTIL" backup --endpoint "$S" "$T/chain" --incremental --truncate >"$T/c.out" 2>&1 ||
        fail "incremental $i: $(cat "$T/c.out")"
    truncate_check "$T/c.out" "$before" >/dev/null
    [ "$(label_value "$T/chain" type)" = incremental ] || fail "incremental $i: wrong type"
    n=$(restore_check "$T/chain" r-chain$i)
    [ "$n" -ge "$prev" ] || fail "incremental $i restores fewer transfers ($n) than before ($prev)"
    prev=$n
done

# --- differential: full --truncate, then incrementals without --truncate ---
"$JETUTIL" backup --endpoint "$S" "$T/diff" --truncate >"$T/d.out" 2>&1 || fail "diff full: $(cat "$T/d.out")"
prev=$(restore_check "$T/diff" r-diff0)
for i in 1 2; do
    before=$(log_list "$D")
    "$JETUTIL" backup --endpoint "$S" "$T/diff" --incremental >"$T/d.out" 2>&1 ||
        fail "differential $i: $(cat "$T/d.out")"
    no_log_deleted "$before" "differential $i"
    [ "$(label_value "$T/diff" type)" = differential ] || fail "differential $i: wrong type"
    n=$(restore_check "$T/diff" r-diff$i)
    [ "$n" -ge "$prev" ] || fail "differential $i restores fewer transfers ($n) than before ($prev)"
    prev=$n
done

# --- clean stop on SIGTERM ---
kill -TERM $SERVE
wait $SERVE || fail "serve exited with $? after SIGTERM: $(cat "$T/serve.err")"
grep -q '^stopped' "$T/serve.out" || fail "serve did not report a clean stop"
final=$(last_value "$T/serve.out" committed)
n=$(verify_dir "$D")
[ "$n" -ge "$final" ] || fail "live instance holds $n transfers < committed $final"

# --- in-process backup of the stopped instance: exact count ---
"$JETUTIL" backup "$D" "$T/inproc" --truncate >"$T/i.out" 2>&1 || fail "in-process backup: $(cat "$T/i.out")"
out=$("$JETUTIL" restore "$T/inproc" "$T/r-inproc" 2>&1) || fail "restore in-process backup: $out"
m=$(verify_dir "$T/r-inproc")
[ "$m" -eq "$n" ] || fail "in-process backup restored $m transfers, instance holds $n"

# --- a restore that fails leaves the target as it was and the backup intact ---
cp -a "$T/chain" "$T/broken"
lo=$(label_value "$T/broken" genLow); hi=$(label_value "$T/broken" genHigh)
[ "$hi" -gt "$lo" ] || fail "chain backup has a single log ($lo..$hi)"
victim=$(printf 'edb%05X.log' $(( (lo + hi) / 2 )))
rm "$T/broken/$victim" || fail "no $victim in the chain backup"
sums=$(cd "$T/broken" && sha256sum * | sha256sum)
mkdir "$T/r-broken"
rc=0; err=$("$JETUTIL" restore "$T/broken" "$T/r-broken" 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "restore without $victim: exit $rc ($err)"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && case "$err" in *JET_err*) true ;; *) false ;; esac ||
    fail "restore without $victim: '$err'"
[ -z "$(ls -A "$T/r-broken")" ] || fail "a failed restore left files in the target"
[ "$(cd "$T/broken" && sha256sum * | sha256sum)" = "$sums" ] || fail "restore modified the backup"
note "ok: restore without $victim -> $err"
echo "ok"
