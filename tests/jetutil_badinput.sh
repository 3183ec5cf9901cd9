#!/bin/bash
# Bad input (issue 2 item 8): a missing, truncated or corrupt database, log
# or checkpoint file gives a specific Jet error and a one-line message
# naming the file, a non-zero exit, and leaves the file as it was.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

P="$T/pristine"
D="$T/db"
"$JETUTIL" create "$P" --accounts 400 --log-size 128 >/dev/null || fail "create"
for i in $(seq 1 20); do
    [ -n "$(log_list "$P")" ] && break
    "$JETUTIL" workload "$P" --threads 2 --seconds 1 >/dev/null || fail "workload"
done
ARCH=$(log_list "$P" | head -n 1)
[ -n "$ARCH" ] || fail "no archived log was produced"
PAGE=4096

fresh() { rm -rf "$D" && cp -a "$P" "$D" || fail "copy"; }

# flip FILE OFFSET: invert one byte.
flip() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "$(printf '\\%03o' $((255 - b)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# expect WANT_ERR FILE CMD...: the command fails (exit 1) with exactly one
# stderr line naming FILE and the Jet error name WANT_ERR; FILE unchanged.
expect() {
    local want=$1 file=$2; shift 2
    local before="" after="" rc=0 err
    [ -e "$file" ] && before=$(sha "$file")
    err=$("$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 1 ] || fail "$*: exit $rc, expected 1 ($err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$*: not one line: $err"
    case "$err" in *"$file"*"$want ("*) ;; *) fail "$*: '$err' does not name $file and $want" ;; esac
    [ -e "$file" ] && after=$(sha "$file")
    [ "$before" = "$after" ] || fail "$*: $file was modified"
    note "ok: $* -> $err"
}

# --- database ---
fresh; rm "$D/bank.edb"
expect JET_errFileNotFound "$D/bank.edb" "$JETUTIL" dump "$D/bank.edb"
expect JET_errFileNotFound "$D/bank.edb" "$JETUTIL" verify "$D"
fresh; truncate -s 100 "$D/bank.edb"
expect JET_errDatabaseCorrupted "$D/bank.edb" "$JETUTIL" dump "$D/bank.edb"
expect JET_errDatabaseCorrupted "$D/bank.edb" "$JETUTIL" verify "$D"
fresh; flip "$D/bank.edb" 300; flip "$D/bank.edb" $((PAGE + 300))
expect JET_errDatabaseCorrupted "$D/bank.edb" "$JETUTIL" dump "$D/bank.edb"
expect JET_errDatabaseCorrupted "$D/bank.edb" "$JETUTIL" verify "$D"
# one damaged header copy: the shadow copy serves, dump says so
fresh; flip "$D/bank.edb" 300
"$JETUTIL" dump "$D/bank.edb" | grep -q 'copy 0 BAD, shadow copy 1 ok' || fail "shadow header"
# a damaged data page: found by verify (read through the engine or the
# offline page check); the damaged bytes stay as they were
fresh; off=$((4 * PAGE + 1000)); flip "$D/bank.edb" $off
pg_before=$(dd if="$D/bank.edb" bs=$PAGE skip=4 count=1 status=none | sha256sum)
rc=0; err=$("$JETUTIL" verify "$D" 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] || fail "verify of a corrupt page: exit $rc"
case "$err" in *"$D/bank.edb"*JET_errRead*VerifyFailure*) ;; *) fail "corrupt page: '$err'" ;; esac
[ "$(dd if="$D/bank.edb" bs=$PAGE skip=4 count=1 status=none | sha256sum)" = "$pg_before" ] ||
    fail "the corrupt page was rewritten"
note "ok: corrupt page -> $err"
# an in-process backup of it fails the same way (one line), ends the
# backup, leaves no DEST and does not touch the damaged page
fresh; flip "$D/bank.edb" $off
rc=0; err=$("$JETUTIL" backup "$D" "$T/bk" 2>&1 >/dev/null) || rc=$?
[ $rc -eq 1 ] && [ "$err" = "jetutil backup: $D/bank.edb: JET_errReadVerifyFailure (-1018)" ] ||
    fail "backup of a corrupt page: exit $rc: '$err'"
[ ! -e "$T/bk" ] || fail "a failed backup left $T/bk behind"
[ "$(dd if="$D/bank.edb" bs=$PAGE skip=4 count=1 status=none | sha256sum)" = "$pg_before" ] ||
    fail "the backup rewrote the corrupt page"
note "ok: backup of a corrupt page -> $err"

# --- logs ---
fresh; rm "$D/$ARCH"
expect JET_errFileNotFound "$D/$ARCH" "$JETUTIL" dump "$D/$ARCH"
fresh; truncate -s 1000 "$D/edb.log"
expect JET_errLogFileCorrupt "$D/edb.log" "$JETUTIL" dump "$D/edb.log"
expect JET_errLogFileCorrupt "$D/edb.log" "$JETUTIL" verify "$D"
fresh; truncate -s 20000 "$D/$ARCH"
expect JET_errLogFileCorrupt "$D/$ARCH" "$JETUTIL" dump "$D/$ARCH"
fresh; flip "$D/$ARCH" 100
expect JET_errLogFileCorrupt "$D/$ARCH" "$JETUTIL" dump "$D/$ARCH"
fresh; flip "$D/$ARCH" $((4096 + 200))
expect JET_errLogFileCorrupt "$D/$ARCH" "$JETUTIL" dump "$D/$ARCH"
fresh; flip "$D/edb.log" 100
expect JET_errLogFileCorrupt "$D/edb.log" "$JETUTIL" verify "$D"

# --- checkpoint ---
fresh; rm "$D/edb.chk"
expect JET_errFileNotFound "$D/edb.chk" "$JETUTIL" dump "$D/edb.chk"
fresh; truncate -s 100 "$D/edb.chk"
expect JET_errCheckpointCorrupt "$D/edb.chk" "$JETUTIL" dump "$D/edb.chk"
expect JET_errCheckpointCorrupt "$D/edb.chk" "$JETUTIL" verify "$D"
fresh; flip "$D/edb.chk" 20; flip "$D/edb.chk" $((4096 + 20))
expect JET_errCheckpointCorrupt "$D/edb.chk" "$JETUTIL" dump "$D/edb.chk"
expect JET_errCheckpointCorrupt "$D/edb.chk" "$JETUTIL" verify "$D"

# --- other ---
# not a Jet file: fixed bytes, so no run can look like a header by chance
head -c 5000 /dev/zero | tr '\0' '\125' >"$T/noise.bin"
expect JET_errFileInvalidType "$T/noise.bin" "$JETUTIL" dump "$T/noise.bin"
fresh; rm "$D/jetutil.conf"
rc=0; err=$("$JETUTIL" verify "$D" 2>&1) || rc=$?
[ $rc -eq 1 ] && case "$err" in *"$D/jetutil.conf"*) true ;; *) false ;; esac ||
    fail "verify without settings: $err"
# --- a FIFO, a device or a directory where a file is expected (issue 7
# item 10): every command that opens files refuses at once with one line
# naming the file, exit 1.  `timeout 10` turns a command blocked in open()
# into a failure (exit 124) instead of a hung test.
# expect_nonreg FILE WHAT CMD...: WHAT is "a FIFO", "a character device",
# "a directory".
expect_nonreg() {
    local file=$1 what=$2 rc=0 err
    shift 2
    err=$(timeout 10 "$@" 2>&1 >/dev/null </dev/null) || rc=$?
    [ "$rc" -ne 124 ] || fail "$*: blocked on $file (killed after 10 s)"
    [ "$rc" -eq 1 ] || fail "$*: exit $rc, expected 1 ($err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$*: not one line: $err"
    case "$err" in
        *"$file"*"$what, not a regular file"*) ;;
        *) fail "$*: '$err' does not name $file as $what" ;;
    esac
    note "ok: $* -> $err"
}
# nonreg_dir NAME KIND: a fresh copy of the pristine instance with NAME
# replaced by a FIFO (KIND fifo) or a directory (KIND dir); echoes the path.
nonreg() {
    fresh
    rm -f "$D/$1"
    case $2 in
        fifo) mkfifo "$D/$1" ;;
        dir) mkdir "$D/$1" ;;
    esac
}
mkfifo "$T/plain.fifo"
expect_nonreg "$T/plain.fifo" "a FIFO" "$JETUTIL" dump "$T/plain.fifo"
expect_nonreg /dev/null "a character device" "$JETUTIL" dump /dev/null
mkdir "$T/adir"
expect_nonreg "$T/adir" "a directory" "$JETUTIL" dump "$T/adir"
for f in jetutil.conf edb.chk edb.log bank.edb "$ARCH"; do
    nonreg "$f" fifo
    expect_nonreg "$D/$f" "a FIFO" "$JETUTIL" verify "$D"
done
nonreg bank.edb fifo
expect_nonreg "$D/bank.edb" "a FIFO" "$JETUTIL" workload "$D" --seconds 1
expect_nonreg "$D/bank.edb" "a FIFO" "$JETUTIL" backup "$D" "$T/bk-fifo"
[ ! -e "$T/bk-fifo" ] || fail "a refused backup left $T/bk-fifo behind"
expect_nonreg "$D/bank.edb" "a FIFO" "$JETUTIL" serve "$D" --endpoint "$T/fifo.sock"
[ ! -e "$T/fifo.sock" ] || fail "a refused serve left its socket"
nonreg edb.chk dir
expect_nonreg "$D/edb.chk" "a directory" "$JETUTIL" verify "$D"
nonreg edb.jlk fifo
expect_nonreg "$D/edb.jlk" "a FIFO" "$JETUTIL" verify "$D"

# restore: a backup directory whose label, database or log is a FIFO
G="$T/good-backup"
"$JETUTIL" backup "$P" "$G" >/dev/null || fail "backup of the pristine instance"
GLOG=$(cd "$G" && ls | grep -E '^edb[0-9A-F]{5,8}\.log$' | head -n 1)
[ -n "$GLOG" ] || fail "the backup holds no log"
for f in jetutil-backup.label bank.edb "$GLOG"; do
    rm -rf "$T/bkf" && cp -a "$G" "$T/bkf" && rm "$T/bkf/$f" && mkfifo "$T/bkf/$f" || fail "bkf"
    rm -rf "$T/r-fifo"
    expect_nonreg "$T/bkf/$f" "a FIFO" "$JETUTIL" restore "$T/bkf" "$T/r-fifo"
    [ ! -e "$T/r-fifo" ] || fail "restore with a FIFO $f left $T/r-fifo behind"
done
# an esebackupfs-copy layout whose backup_label is a FIFO
mkdir "$T/fscopy" && mkfifo "$T/fscopy/backup_label"
expect_nonreg "$T/fscopy/backup_label" "a FIFO" "$JETUTIL" restore --check "$T/fscopy"

# restore never writes inside a backup directory: the target may not be
# the backup directory, inside it (also through a symlink or a relative
# path), or contain it; the backup directory is left exactly as it was.
(cd "$G" && find . -printf '%p %s %T@\n' | sort) >"$T/g.before"
expect_inside() {
    local rc=0 err
    err=$(timeout 10 "$JETUTIL" restore "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 1 ] || fail "restore $*: exit $rc, expected 1 ($err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "restore $*: not one line: $err"
    case "$err" in *"inside the backup directory"*|*"contains the backup directory"*|\
        *"is the backup directory"*) ;;
        *) fail "restore $*: '$err' does not say why" ;; esac
    note "ok: restore $* -> $err"
}
expect_inside "$G" "$G/sub"
expect_inside "$G" "$G/sub/"
expect_inside "$G" "$G/../good-backup/sub"
ln -s "$G" "$T/glink"
expect_inside "$G" "$T/glink/sub"
expect_inside "$T/glink" "$G/sub"
(cd "$T" && expect_inside good-backup good-backup/sub)
expect_inside "$G" "$G"
expect_inside "$G" "$T/glink"
expect_inside "$G" "$T"
# an existing empty directory inside it, and an incremental set (a later
# BACKUPDIR): backup directories too
cp -a "$G" "$T/g2" || fail "copy of the backup"
mkdir "$T/g2/empty"
expect_inside "$T/g2" "$T/g2/empty"
expect_inside "$G" "$T/g2" "$T/g2/sub"
[ ! -e "$G/sub" ] || fail "restore created $G/sub"
(cd "$G" && find . -printf '%p %s %T@\n' | sort) >"$T/g.after"
cmp -s "$T/g.before" "$T/g.after" || fail "the backup directory was changed"
# and a target beside it works
"$JETUTIL" restore "$G" "$T/beside" >/dev/null || fail "restore beside the backup"

# the pristine instance is still fine
verify_dir "$P" >/dev/null
echo "ok"
