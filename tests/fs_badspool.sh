#!/bin/sh
# fs_badspool.sh -- issue 7 item 10: a spool directory that cannot work is
# refused before anything happens on the host.  For a missing directory, a
# regular file, a read-only filesystem, a directory the mounting uid
# cannot write (run as nobody) and a filesystem without room, the
# mount fails with one line "FILE:LINE: spool directory ..." naming the
# line of [spool] directory, nothing is mounted, and the host shows that
# nothing was begun: `jetutil serve`'s endpoint log has no new connection
# and no "backup begun" (a good mount afterwards adds exactly one, so the
# check can see one).  In-process: a spool without room for the databases
# under policy = keep is refused before JetInit (the instance's files are
# byte-for-byte unchanged), and so is a cap below the databases' size, a
# missing database (JetInit used to create a new log set first) and a
# log_path that is not a directory.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0
LOG=$I.serve.out

begun() { grep -c "backup begun" "$LOG"; }
accepted() { grep -c "connection [0-9]* accepted" "$LOG"; }

# refused_before_begin NAME SPOOLDIR NEEDLE: an endpoint INI whose line 4
# is "directory = SPOOLDIR" is refused with NAME.ini:4 and NEEDLE, and the
# host saw no connection and no begin.
refused_before_begin() {
    fs_ini "$T/$1.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $2"
    b=$(begun)
    a=$(accepted)
    expect_refused "$T/$1.ini" "^esebackupfs: $T/$1.ini:4: spool directory $2: $3; no backup begun\$"
    [ "$(begun)" = "$b" ] || { cat "$LOG"; fail "$1: a backup was begun on the host"; }
    [ "$(accepted)" = "$a" ] || { cat "$LOG"; fail "$1: the driver connected to the host"; }
}

step "missing spool directory"
refused_before_begin missing "$T/nope" "No such file or directory"

step "spool directory is a regular file"
: >"$T/plain"
refused_before_begin notdir "$T/plain" "not a directory"

step "spool directory on a read-only filesystem"
mkdir -p "$T/ro"
if mount -t tmpfs -o ro,size=4m tmpfs "$T/ro" 2>"$T/mount.err"; then
    FS_MOUNTS="$T/ro $FS_MOUNTS"
    refused_before_begin readonly "$T/ro" "cannot create a file there: Read-only file system"
else
    echo "   (cannot mount a tmpfs here: $(cat "$T/mount.err")); read-only case not run"
fi

step "spool directory without room for one engine read (read_size 1M)"
mkdir -p "$T/small"
if mount -t tmpfs -o size=256k tmpfs "$T/small" 2>"$T/mount.err"; then
    FS_MOUNTS="$T/small $FS_MOUNTS"
    refused_before_begin full "$T/small" "[0-9]* bytes available, at least 1048576 needed"
else
    echo "   (cannot mount a tmpfs here: $(cat "$T/mount.err")); no-room case not run"
fi

step "spool directory not writable by the mounting uid (nobody)"
if command -v setpriv >/dev/null; then
    chmod 711 "$T"
    mkdir -p "$T/rootonly" && chmod 755 "$T/rootonly"
    fs_ini "$T/nobody.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T/rootonly"
    chmod 644 "$T/nobody.ini"
    b=$(begun)
    a=$(accepted)
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$FS" "$T/nobody.ini" "$T/mnt-nobody" \
        2>"$T/nobody.err" || rc=$?
    [ "$rc" -eq 1 ] || { cat "$T/nobody.err"; fail "nobody: exit $rc"; }
    grep -qx "esebackupfs: $T/nobody.ini:4: spool directory $T/rootonly: cannot create a file there: Permission denied; no backup begun" \
        "$T/nobody.err" || { cat "$T/nobody.err"; fail "nobody: message"; }
    [ "$(begun)" = "$b" ] && [ "$(accepted)" = "$a" ] || { cat "$LOG"; fail "nobody: the host was reached"; }
    echo "   refused: $(cat "$T/nobody.err")"
    chmod 700 "$T"
else
    echo "   (no setpriv); uid case not run"
fi

step "a good spool directory: the host shows exactly one begin"
b=$(begun)
fs_ini "$T/ok.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T"
fs_mount "$T/ok.ini" "$T/mnt"
fs_umount "$T/mnt"
[ "$(begun)" = $((b + 1)) ] || { cat "$LOG"; fail "the good mount was not seen as one begin"; }
fs_serve_stop

step "in-process, policy = keep, no room for the databases: refused before JetInit"
if mountpoint -q "$T/small"; then
    dbsize=$(stat -c %s "$I/bank.edb")
    [ "$dbsize" -gt 262144 ] || fail "the test database ($dbsize bytes) fits the 256 KiB tmpfs"
    fs_ini "$T/ip.ini" "[source]" "system_path = $I" "log_path = $I" "databases = $I/bank.edb" \
        "[mount]" "read_size = 64K" "[spool]" "directory = $T/small"
    (cd "$I" && sha256sum -- * | sort) >"$T/inst.before"
    expect_refused "$T/ip.ini" \
        "^esebackupfs: $T/ip.ini:8: spool directory $T/small: [0-9]* bytes available, at least $dbsize needed (policy = keep spools the databases, $dbsize bytes); no backup begun\$"
    (cd "$I" && sha256sum -- * | sort) >"$T/inst.after"
    cmp -s "$T/inst.before" "$T/inst.after" || {
        diff "$T/inst.before" "$T/inst.after"
        fail "the instance was touched (JetInit ran)"
    }
else
    echo "   (no tmpfs); in-process case not run"
fi

step "in-process, policy = keep, cap below the databases' size: refused before JetInit"
dbsize=$(stat -c %s "$I/bank.edb")
fs_ini "$T/ipcap.ini" "[source]" "system_path = $I" "log_path = $I" "databases = $I/bank.edb" \
    "[spool]" "directory = $T" "cap = 64K"
(cd "$I" && sha256sum -- * | sort) >"$T/inst.before"
expect_refused "$T/ipcap.ini" \
    "^esebackupfs: $T/ipcap.ini:7: cap 65536 is less than the databases' $dbsize bytes, which policy = keep spools; no backup begun\$"
(cd "$I" && sha256sum -- * | sort) >"$T/inst.after"
cmp -s "$T/inst.before" "$T/inst.after" || fail "cap: the instance was touched (JetInit ran)"

step "in-process source: a missing database, a log_path that is no directory: refused before JetInit"
mkdir "$T/empty"
fs_ini "$T/nodb.ini" "[source]" "system_path = $T/empty" "log_path = $T/empty" \
    "database = $T/empty/bank.edb" "[spool]" "directory = $T"
expect_refused "$T/nodb.ini" \
    "^esebackupfs: $T/nodb.ini:4: database $T/empty/bank.edb: No such file or directory; no backup begun\$"
[ -z "$(ls -A "$T/empty")" ] || { ls -l "$T/empty"; fail "nodb: files were created (JetInit ran)"; }
fs_ini "$T/nolog.ini" "[source]" "system_path = $I" "log_path = $I/bank.edb" \
    "databases = $I/bank.edb" "[spool]" "directory = $T"
(cd "$I" && sha256sum -- * | sort) >"$T/inst.before"
expect_refused "$T/nolog.ini" \
    "^esebackupfs: $T/nolog.ini:3: log_path $I/bank.edb: not a directory; no backup begun\$"
(cd "$I" && sha256sum -- * | sort) >"$T/inst.after"
cmp -s "$T/inst.before" "$T/inst.after" || fail "nolog: the instance was touched"
echo "ok"
