# fs_lib.sh -- helpers for the esebackupfs integration tests (sourced).
#
# Real FUSE mounts need root and /dev/fuse; without them the tests skip
# (exit 77).  Every test works in its own directory $T, and the EXIT trap
# unmounts what it mounted and stops the processes it started, by pid.

B=${top_builddir:-$(pwd)}
S=${top_srcdir:-$(dirname "$0")/..}
JU=$B/src/jetutil/jetutil
FS=$B/esebackupfs

if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
    echo "SKIP: needs root and /dev/fuse"
    exit 77
fi
[ -x "$JU" ] && [ -x "$FS" ] || { echo "FAIL: build jetutil and esebackupfs first"; exit 1; }

T=$(mktemp -d /tmp/esebackupfs-test.XXXXXX)
FS_MOUNTS=""
FS_PIDS=""

fs_cleanup() {
    for m in $FS_MOUNTS; do
        mountpoint -q "$m" 2>/dev/null && { umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
    done
    for p in $FS_PIDS; do
        kill "$p" 2>/dev/null
    done
    for p in $FS_PIDS; do
        fs_wait_gone "$p" 2>/dev/null
    done
    rm -rf "$T"
}
trap fs_cleanup EXIT
# a signal exits through the EXIT trap too (sh runs it only on exit)
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

# fs_alive PID: the process exists and has not exited.  An exited daemon
# (the driver forks away from the shell) stays a zombie until PID 1 reaps
# it, which some inits do only about once a second; kill -0 succeeds on a
# zombie, so the state is read instead.
fs_alive() {
    st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Wait (bounded, 60 s) until process $1 has exited.
fs_wait_gone() {
    n=0
    while fs_alive "$1"; do
        n=$((n + 1))
        [ $n -gt 600 ] && return 1
        sleep 0.1
    done
    return 0
}

# fs_instance DIR: a small instance (a few MiB, 256 KiB logs).
fs_instance() {
    "$JU" create "$1" --accounts "${FS_ACCOUNTS:-20000}" --log-size 256 >/dev/null ||
        fail "jetutil create $1"
}

# fs_serve DIR SOCKET [THREADS]: host the instance with a workload;
# returns once the endpoint socket exists.  Sets SERVE_PID.  Extra serve
# options in $FS_SERVE_ARGS (e.g. --circular).
fs_serve() {
    # shellcheck disable=SC2086 # FS_SERVE_ARGS is a list of words
    "$JU" serve "$1" --endpoint "$2" --threads "${3:-4}" ${FS_SERVE_ARGS:-} >"$1.serve.out" 2>&1 &
    SERVE_PID=$!
    FS_PIDS="$FS_PIDS $SERVE_PID"
    n=0
    until [ -S "$2" ]; do
        fs_alive "$SERVE_PID" || { cat "$1.serve.out"; fail "jetutil serve died"; }
        n=$((n + 1))
        [ $n -gt 200 ] && fail "endpoint $2 did not appear"
        sleep 0.05
    done
}

# fs_serve_stop: SIGTERM the host and wait for it.
fs_serve_stop() {
    kill "$SERVE_PID" 2>/dev/null
    fs_wait_gone "$SERVE_PID" || fail "jetutil serve did not stop"
}

# fs_ini FILE LINES...: write an INI (mode 0600), one argument per line.
fs_ini() {
    f=$1
    shift
    printf '%s\n' "$@" >"$f"
    chmod 600 "$f"
}

# fs_mount INI MNT: mount (daemon mode); sets DRIVER_PID.
fs_mount() {
    mkdir -p "$2"
    "$FS" "$1" "$2" || fail "mount $1 on $2"
    FS_MOUNTS="$FS_MOUNTS $2"
    mountpoint -q "$2" || fail "$2 not mounted after esebackupfs returned"
    DRIVER_PID=$(pgrep -f -x "$FS $1 $2" | head -1)
    [ -n "$DRIVER_PID" ] || fail "driver process for $2 not found"
}

# expect_refused INI NEEDLE: mount fails with exactly one line naming
# NEEDLE, and nothing is left mounted.
expect_refused() {
    mkdir -p "$T/mnt-refused"
    if "$FS" "$1" "$T/mnt-refused" 2>"$T/refused.err"; then
        FS_MOUNTS="$FS_MOUNTS $T/mnt-refused"
        fail "mount with $1 succeeded"
    fi
    [ "$(wc -l <"$T/refused.err")" -eq 1 ] || { cat "$T/refused.err"; fail "not one line"; }
    grep -q -- "$2" "$T/refused.err" || { cat "$T/refused.err"; fail "message lacks $2"; }
    mountpoint -q "$T/mnt-refused" && fail "something left mounted"
    echo "   refused: $(cat "$T/refused.err")"
}

# fs_umount MNT: unmount and wait until the driver has ended the backup.
fs_umount() {
    umount "$1" || fail "umount $1"
    fs_wait_gone "$DRIVER_PID" || fail "driver did not exit after umount"
}

# fs_committed COPY: committed-at-roll from the copy's logs/manifest.
fs_committed() {
    sed -n 's/^# committed-at-roll \([0-9][0-9]*\)$/\1/p' "$1/logs/manifest"
}

# fs_restore COPY TARGET: jetutil restore of an esebackupfs copy as it is
# (backup_label, database stream, logs/, manifest; verified against the
# manifest before anything is written).
fs_restore() {
    "$JU" restore "$1" "$2" >"$T/restore.out" 2>&1 || { cat "$T/restore.out"; return 1; }
}

# fs_check_copy COPY SRCINST NAME [MIN]: sha256sum -c of the manifest,
# restore, verify, and transfers >= committed-at-roll (or >= MIN when
# given: an in-process mount has no host counter, the manifest says
# "committed-at-roll unknown").
fs_check_copy() {
    (cd "$1" && sha256sum -c --quiet manifest logs/manifest 2>/dev/null) ||
        fail "$3: manifest check"
    committed=${4:-$(fs_committed "$1")}
    [ -n "$committed" ] || fail "$3: no committed-at-roll in the manifest"
    rm -rf "$T/restored"
    fs_restore "$1" "$T/restored" || fail "$3: jetutil restore"
    "$JU" verify "$T/restored" >"$T/verify.out" 2>&1 || { cat "$T/verify.out"; fail "$3: verify"; }
    transfers=$(sed -n 's/^transfers \([0-9]*\)$/\1/p' "$T/verify.out")
    [ -n "$transfers" ] && [ "$transfers" -ge "$committed" ] ||
        fail "$3: transfers $transfers < committed-at-roll $committed"
    echo "   $3: restored and verified, transfers $transfers >= committed $committed"
}

# fs_dump_field DB WHAT: one line of `jetutil dump` (e.g. "full backup").
fs_dump_field() {
    "$JU" dump "$1" | sed -n "s/^ *$2: *//p"
}
