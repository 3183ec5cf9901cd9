#!/bin/sh
# systemd_units.sh -- the shipped systemd units and the backup wrapper
# esebackupfs@.service runs (systemd/*.in, generated here with this
# build's paths and a private configuration directory): systemd-analyze
# verify passes on each unit; the wrapper refuses bad usage, a missing or
# group-writable env file and a refused mount with nothing mounted; a copy
# command that fails unmounts without commit (aborted, no log deleted,
# exit 1); a copy that succeeds is committed, the logs are truncated, the
# wrapper returns only after the driver ended, and the copy restores; the
# wrapper also returns when nobody reaps the exited driver.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
mkdir -p "$T/etc/esebackupfs" "$T/libexec" "$T/units"
# the units and the wrapper as `make install` makes them, with test paths
edit() {
    sed -e "s|@sbindir@|$B|g" -e "s|@bindir@|$B/src/jetutil|g" -e "s|@sysconfdir@|$T/etc|g" \
        -e "s|@localstatedir@|$T/var|g" -e "s|@pkglibexecdir@|$T/libexec|g" "$S/systemd/$1.in" >"$2"
}
edit esebackupfs-backup "$T/libexec/esebackupfs-backup"
chmod 755 "$T/libexec/esebackupfs-backup"
WRAP=$T/libexec/esebackupfs-backup
for u in esebackupfs@.service esebackupfs@.timer jetutil-serve@.service; do
    edit "$u" "$T/units/$u"
done

step "systemd-analyze verify on every unit"
if command -v systemd-analyze >/dev/null; then
    for u in "$T"/units/*; do
        systemd-analyze verify --man=no "$u" >"$T/verify.out" 2>&1 ||
            { cat "$T/verify.out"; fail "systemd-analyze verify $(basename "$u")"; }
        [ -s "$T/verify.out" ] && { cat "$T/verify.out"; fail "$(basename "$u"): verify warns"; }
        echo "   $(basename "$u"): ok"
    done
else
    echo "   (no systemd-analyze: not verified)"
fi

fs_instance "$I"
fs_serve "$I" "$EPS" 0
CONF=$T/etc/esebackupfs/bank.ini
ENVF=$T/etc/esebackupfs/bank.env
MNT=$T/mnt
fs_ini "$CONF" "[source]" "endpoint = $EPS" "[backup]" "truncate = commit" "[spool]" "directory = $T"
# shellcheck disable=SC2034 # fs_lib.sh's cleanup unmounts these
FS_MOUNTS="$MNT"

# archived log generations present in the instance, one a line
gens() { (cd "$I" && ls edb0*.log 2>/dev/null | LC_ALL=C sort); }

# wrap_fail STATUS NEEDLE ARGS...: the wrapper exits STATUS, its last
# stderr line names NEEDLE, nothing is mounted and no driver is left
wrap_fail() {
    want=$1
    needle=$2
    shift 2
    rc=0
    "$WRAP" "$@" >"$T/wrap.out" 2>"$T/wrap.err" || rc=$?
    [ $rc -eq "$want" ] || { cat "$T/wrap.err"; fail "wrapper $*: exit $rc, want $want"; }
    tail -n 1 "$T/wrap.err" | grep -q -- "$needle" || { cat "$T/wrap.err"; fail "wrapper $*: lacks $needle"; }
    mountpoint -q "$MNT" && fail "wrapper $*: left a mount"
    pgrep -f "$B/esebackupfs $CONF" >/dev/null && fail "wrapper $*: left a driver"
    echo "   $(tail -n 1 "$T/wrap.err")"
}

step "bad usage, missing or unsafe env file, refused mount"
wrap_fail 2 "usage: esebackupfs-backup INSTANCE"
wrap_fail 2 "bad instance name '../bank'" ../bank "$MNT"
wrap_fail 1 "bank.env: No such file" bank "$MNT"
printf '%s\n' "COPY_COMMAND='true'" >"$ENVF"
chmod 620 "$ENVF"
wrap_fail 1 "bank.env: writable by group or others (mode 620)" bank "$MNT"
chmod 600 "$ENVF"
printf '%s\n' "# nothing set" >"$ENVF"
wrap_fail 1 "COPY_COMMAND is not set" bank "$MNT"
fs_ini "$T/etc/esebackupfs/bad.ini" "[source]" "endpoint = $T/nothing.sock"
printf '%s\n' "COPY_COMMAND='true'" >"$T/etc/esebackupfs/bad.env"
chmod 600 "$T/etc/esebackupfs/bad.env"
wrap_fail 1 "bad: mount refused; nothing begun" bad "$MNT"

step "the copy command fails: no commit, aborted, no log deleted"
# shellcheck disable=SC2016 # for the wrapper's sh -c
printf '%s\n' 'COPY_COMMAND='\''cp -a "$MOUNTPOINT/." "'"$T"'/copy-bad/" && exit 3'\' >"$ENVF"
gens >"$T/bad.before"
wrap_fail 1 "the copy command exited 3; no commit, the backup is aborted" bank "$MNT"
gens >"$T/bad.after"
[ -s "$T/bad.before" ] || fail "no archived logs to watch"
gone=$(LC_ALL=C comm -23 "$T/bad.before" "$T/bad.after" | tr '\n' ' ')
[ -z "$gone" ] || fail "logs deleted by an aborted backup: $gone"
[ -f "$T/copy-bad/manifest" ] || fail "the failing copy did not run"
grep -q "^commit: given" "$T/wrap.err" && fail "commit given after a failed copy"

step "the copy succeeds: commit, truncation, the driver has ended"
# shellcheck disable=SC2016
printf '%s\n' 'COPY_COMMAND='\''cp -a "$MOUNTPOINT/." "'"$T"'/copy-$INSTANCE/"'\' >"$ENVF"
"$WRAP" bank "$MNT" >"$T/wrap.out" 2>"$T/wrap.err" || { cat "$T/wrap.err"; fail "wrapper exit $?"; }
sed -n '/esebackupfs-backup:/p; /^umount now would/p' "$T/wrap.err" | sed 's/^/   /'
grep -q "^umount now would: JetTruncateLogInstance" "$T/wrap.err" || fail "status did not say truncate"
mountpoint -q "$MNT" && fail "left mounted"
pgrep -f "$B/esebackupfs $CONF" >/dev/null && fail "the driver still runs after the wrapper returned"
gens >"$T/ok.after"
[ -n "$(LC_ALL=C comm -23 "$T/bad.after" "$T/ok.after")" ] || fail "no log truncated"
fs_check_copy "$T/copy-bank" "$I" "wrapper copy"

step "nobody reaps the exited driver (a container's first process): the wrapper still returns"
# the wrapper runs under a child subreaper (prctl PR_SET_CHILD_SUBREAPER)
# that waits only for the wrapper: the daemonized driver, orphaned, is
# inherited by it and stays a zombie until the wrapper has returned
# shellcheck disable=SC2016
printf '%s\n' 'COPY_COMMAND='\''cp -a "$MOUNTPOINT/." "'"$T"'/copy-reap/"'\' >"$ENVF"
rc=0
python3 -c '
import ctypes, os, subprocess, sys
if ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_CHILD_SUBREAPER) failed")
rc = subprocess.run(sys.argv[1:]).returncode
zombies = 0
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        break
    zombies += 1
print("orphans reaped after the wrapper returned:", zombies)
sys.exit(rc)' "$WRAP" bank "$MNT" >"$T/wrap.out" 2>"$T/wrap.err" || rc=$?
[ "$rc" -eq 0 ] || { cat "$T/wrap.err"; fail "wrapper under a non-reaping parent: exit $rc"; }
grep -q "did not end" "$T/wrap.err" && { cat "$T/wrap.err"; fail "waited for a zombie"; }
grep -q "^orphans reaped after the wrapper returned: [1-9]" "$T/wrap.out" ||
    { cat "$T/wrap.out"; fail "the driver was not left a zombie: the case was not exercised"; }
mountpoint -q "$MNT" && fail "left mounted"
fs_check_copy "$T/copy-reap" "$I" "wrapper copy under a non-reaping parent"
fs_serve_stop
echo "PASS"
