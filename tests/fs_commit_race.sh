#!/bin/sh
# fs_commit_race.sh -- `esebackupfs commit` tells the truth (issue 7 item
# 6): exit 0 only when the commit can still change the umount decision,
# and then the host ends the backup Normal (logs truncated, truncate =
# commit); otherwise non-zero, naming the decision taken, and the host
# ends it with Abort.  The host's own log ("backup ended (grbit 0x1)" =
# Normal, 0x2 = Abort) is the judge.
#  1. deterministic: the host is stopped (SIGSTOP) while umount decides,
#     so the driver sits in End with the decision taken; a commit then
#     must exit 1 naming Abort.
#  2. race: 30 rounds of `commit` started together with `umount`.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
FS_ACCOUNTS=2000 fs_instance "$I"
fs_serve "$I" "$EPS" 0
fs_ini "$T/a.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = commit" \
    "[spool]" "directory = $T"

# the End grbit of the host's Nth "backup ended" line (1 = Normal, 2 = Abort)
host_end() {
    n=0
    while [ "$(grep -c "backup ended" "$I.serve.out")" -lt "$1" ]; do
        n=$((n + 1))
        [ $n -gt 600 ] && fail "host did not end backup $1"
        sleep 0.05
    done
    grep "backup ended" "$I.serve.out" | sed -n "$1s/.*grbit 0x\([0-9]*\)).*/\1/p"
}

# copy everything so that only the commit decides
copy_all() {
    rm -rf "$T/copy"
    cp -a "$1" "$T/copy" || fail "cp -a"
}

step "commit while umount is deciding (host stopped in End): exit 1, names Abort"
fs_mount "$T/a.ini" "$T/mnt"
copy_all "$T/mnt"
kill -STOP "$SERVE_PID"
umount "$T/mnt" || { kill -CONT "$SERVE_PID"; fail "umount"; }
n=0
until "$FS" status "$T/mnt" 2>/dev/null | grep -q "^umount: deciding\|^umount: done"; do
    n=$((n + 1))
    [ $n -gt 600 ] && { kill -CONT "$SERVE_PID"; fail "driver never started the decision"; }
    sleep 0.05
done
"$FS" commit "$T/mnt" >"$T/late.out" 2>&1
rc=$?
kill -CONT "$SERVE_PID"
[ $rc -ne 0 ] || { cat "$T/late.out"; fail "late commit exit 0"; }
grep -q "Abort" "$T/late.out" || { cat "$T/late.out"; fail "late commit does not name Abort"; }
grep -q "will truncate" "$T/late.out" && fail "late commit promises truncation"
[ "$(host_end 1)" = 2 ] || fail "host did not abort"
echo "   late commit: exit $rc: $(head -1 "$T/late.out")"

step "30 rounds of commit racing umount: exit status always matches the host"
ends=1
ok=0
late=0
r=0
while [ $r -lt 30 ]; do
    fs_mount "$T/a.ini" "$T/mnt"
    copy_all "$T/mnt"
    "$FS" commit "$T/mnt" >"$T/c.out" 2>&1 &
    cpid=$!
    umount "$T/mnt" || fail "round $r: umount"
    wait $cpid
    rc=$?
    # the host's "backup ended" line is the end of this round (the next
    # mount would wait for the driver anyway: its claim on the source)
    ends=$((ends + 1))
    g=$(host_end $ends)
    if [ $rc -eq 0 ]; then
        [ "$g" = 1 ] || { cat "$T/c.out"; fail "round $r: commit exit 0 but host grbit 0x$g"; }
        grep -q "will truncate" "$T/c.out" || { cat "$T/c.out"; fail "round $r: text"; }
        ok=$((ok + 1))
    else
        [ "$g" = 2 ] || { cat "$T/c.out"; fail "round $r: commit exit $rc but host grbit 0x$g"; }
        grep -q "will truncate" "$T/c.out" && { cat "$T/c.out"; fail "round $r: text"; }
        late=$((late + 1))
    fi
    r=$((r + 1))
done
echo "   $ok commits counted (host ended Normal), $late too late (host aborted)"
