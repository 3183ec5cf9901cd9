#!/bin/sh
# fs_control.sh -- the status/commit channel cannot be spoofed or lost.
#
# A non-root victim (uid 65534) mounts with XDG_RUNTIME_DIR in a directory
# every uid can write (as /tmp); an attacker (uid 4343) plays the tricks of
# issue 7:
#  * pre-creates the control directory with mode 0777 (or as a symlink to
#    its own directory): the mount is refused with one line, nothing is
#    mounted and no backup is left begun;
#  * serves a fake socket there answering "umount will truncate the logs":
#    `esebackupfs commit` refuses to talk to it (exit 2, fake text never
#    printed); likewise for a fake socket inside the victim's own 0700
#    directory (owner check) and for one chowned to the victim but served
#    by the attacker (SO_PEERCRED check).
# Then, as root: a second esebackupfs mounted on top of a live one is
# refused with one line, and the first mount's socket keeps answering.
#
# The victim gets ambient CAP_SYS_ADMIN + CAP_DAC_OVERRIDE only so that it
# can open /dev/fuse (0600 here) and mount without fusermount3; its uid,
# and so every file it creates and every check the driver makes, is 65534.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

VU=65534
AU=4343
command -v setpriv >/dev/null || { echo "SKIP: needs setpriv"; exit 77; }
command -v perl >/dev/null || { echo "SKIP: needs perl"; exit 77; }
# prefixes, not functions: "$VICTIM cmd &" leaves $! = the command's pid
# (setpriv execs it), so the EXIT trap can stop it
VICTIM="setpriv --reuid=$VU --regid=$VU --clear-groups --inh-caps=+sys_admin,+dac_override
    --ambient-caps=+sys_admin,+dac_override"
ATTACKER="setpriv --reuid=$AU --regid=$AU --clear-groups"
as_victim() { $VICTIM "$@"; }
as_attacker() { $ATTACKER "$@"; }
# root cannot stat another uid's FUSE mount (no allow_other): mountinfo
victim_mounted() { awk -v m="$V/mnt" '$5 == m' /proc/self/mountinfo | grep -q " - fuse.esebackupfs "; }
trap 'victim_mounted && umount "$V/mnt"; fs_cleanup' EXIT

chmod 755 "$T"
V=$T/v
mkdir -p "$V/mnt" "$T/run" "$T/att"
chown -R $VU:$VU "$V"
chown $AU:$AU "$T/att"
chmod 1777 "$T/run"
export XDG_RUNTIME_DIR="$T/run"
CD=$T/run/esebackupfs

# the victim's host and INI (everything owned by the victim)
as_victim "$JU" create "$V/inst" --accounts 2000 --log-size 256 >/dev/null || fail "create"
$VICTIM "$JU" serve "$V/inst" --endpoint "$V/ep.sock" --threads 0 >"$T/serve.out" 2>&1 &
SERVE_PID=$!
FS_PIDS="$FS_PIDS $SERVE_PID"
n=0
until [ -S "$V/ep.sock" ]; do
    n=$((n + 1))
    [ $n -gt 200 ] && fail "victim endpoint did not appear"
    sleep 0.05
done
printf '[source]\nendpoint = %s\n[backup]\ntruncate = commit\n[spool]\ndirectory = %s\n' \
    "$V/ep.sock" "$V" >"$V/a.ini"
chown $VU:$VU "$V/a.ini"
chmod 600 "$V/a.ini"

# fake_server SOCKET READY: as the attacker, serve SOCKET answering every
# request with exit 0 and "umount will truncate the logs"; READY appears
# once it listens.  Sets FAKE_PID.
fake_server() {
    $ATTACKER perl -MIO::Socket::UNIX -e '
        my ($path, $ready) = @ARGV;
        my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 5)
            or die "fake: $path: $!\n";
        chmod 0777, $path;
        open(my $r, ">", $ready) or die; close($r);
        while (my $c = $s->accept) {
            my $req = <$c>;
            print $c "0\ncommit recorded: umount will truncate the logs\n";
            close($c);
        }' "$1" "$2" &
    FAKE_PID=$!
    FS_PIDS="$FS_PIDS $FAKE_PID"
    n=0
    until [ -e "$2" ]; do
        n=$((n + 1))
        [ $n -gt 200 ] && fail "fake server did not start"
        sleep 0.05
    done
}
fake_stop() { kill "$FAKE_PID" 2>/dev/null; fs_wait_gone "$FAKE_PID"; }

# victim_refused NEEDLE: the victim's mount fails with one line naming
# NEEDLE and nothing is mounted
victim_refused() {
    if as_victim "$FS" "$V/a.ini" "$V/mnt" 2>"$T/refused.err"; then
        fail "victim mounted over a control directory it does not own ($1)"
    fi
    [ "$(wc -l <"$T/refused.err")" -eq 1 ] || { cat "$T/refused.err"; fail "not one line"; }
    grep -q -- "$1" "$T/refused.err" || { cat "$T/refused.err"; fail "message lacks $1"; }
    victim_mounted && fail "something left mounted"
    echo "   refused: $(cat "$T/refused.err")"
}

# client_refuses NEEDLE: `esebackupfs commit` as the victim exits 2 naming
# NEEDLE and never prints the fake answer
client_refuses() {
    as_victim "$FS" commit "$V/mnt" >"$T/commit.out" 2>"$T/commit.err"
    rc=$?
    grep -q "will truncate" "$T/commit.out" && fail "commit trusted a spoofed socket ($1)"
    [ $rc -eq 2 ] || { cat "$T/commit.out" "$T/commit.err"; fail "commit exit $rc, want 2 ($1)"; }
    grep -q -- "$1" "$T/commit.err" || { cat "$T/commit.err"; fail "commit message lacks $1"; }
    echo "   commit refused: $(cat "$T/commit.err")"
}

step "another uid's control directory (0777): mount refused, nothing begun"
as_attacker mkdir -m 0777 "$CD" || fail "attacker mkdir"
as_attacker chmod 0777 "$CD"
victim_refused "not owned by uid $VU"
step "... and a fake socket in it: commit does not trust it"
sock=$CD/$(printf '%s' "$(realpath "$V/mnt")" | sha256sum | cut -c1-16).sock
fake_server "$sock" "$T/att/ready1"
client_refuses "not owned by uid $VU"
fake_stop
as_attacker rm -rf "$CD"

step "a symlink planted as the control directory: refused, not followed"
as_attacker ln -s "$T/att" "$CD" || fail "attacker ln"
victim_refused "$CD"
rm -f "$CD" "$T/att/ready1"

step "the victim's own 0700 directory with a socket of another uid: not trusted"
mkdir -m 0700 "$CD" && chown $VU:$VU "$CD"
chmod 0777 "$T/att"
fake_server "$T/att/fake.sock" "$T/att/ready2"
mv "$T/att/fake.sock" "$sock" || fail "mv fake socket"
client_refuses "not owned by uid $VU"
step "... chowned to the victim but served by the attacker: SO_PEERCRED refuses it"
chown $VU:$VU "$sock" && chmod 600 "$sock"
client_refuses "uid $AU"
fake_stop
rm -f "$sock"

step "the victim's real mount with a clean control directory: works, socket 0600"
as_victim "$FS" "$V/a.ini" "$V/mnt" || fail "victim mount with a clean control directory"
as_victim "$FS" status "$V/mnt" >"$T/status" || { cat "$T/status"; fail "victim status"; }
ls -ln "$CD" | grep -q "^srw------- 1 $VU $VU " || { ls -ln "$CD"; fail "socket not 0600 $VU"; }
umount "$V/mnt" || fail "umount victim"

step "an esebackupfs mounted on top of a live one: refused, the first keeps its socket"
unset XDG_RUNTIME_DIR
I=$T/inst
I2=$T/inst2
EPS=$T/ep.sock
EPS2=$T/ep2.sock
FS_ACCOUNTS=2000 fs_instance "$I"
FS_ACCOUNTS=2000 fs_instance "$I2"
fs_serve "$I" "$EPS" 0
fs_serve "$I2" "$EPS2" 0
fs_ini "$T/one.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T"
fs_ini "$T/two.ini" "[source]" "endpoint = $EPS2" "[spool]" "directory = $T"
fs_mount "$T/one.ini" "$T/mnt"
first=$DRIVER_PID
if "$FS" "$T/two.ini" "$T/mnt" 2>"$T/over.err"; then
    fail "a second esebackupfs was mounted on top of a live one"
fi
[ "$(wc -l <"$T/over.err")" -eq 1 ] || { cat "$T/over.err"; fail "not one line"; }
grep -q "already an esebackupfs mount" "$T/over.err" || { cat "$T/over.err"; fail "message"; }
echo "   refused: $(cat "$T/over.err")"
"$FS" status "$T/mnt" >"$T/status1" || fail "first mount's status after the refused mount"
grep -q "^backup: full" "$T/status1" || fail "first mount's status content"
# the refused mount began no backup on its host: a mount of it elsewhere works
fs_mount "$T/two.ini" "$T/mnt2"
fs_umount "$T/mnt2"
DRIVER_PID=$first
fs_umount "$T/mnt"
echo "ok"
