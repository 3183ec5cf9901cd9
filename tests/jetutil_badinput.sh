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
head -c 5000 /dev/urandom >"$T/noise.bin"
expect JET_errFileInvalidType "$T/noise.bin" "$JETUTIL" dump "$T/noise.bin"
fresh; rm "$D/jetutil.conf"
rc=0; err=$("$JETUTIL" verify "$D" 2>&1) || rc=$?
[ $rc -eq 1 ] && case "$err" in *"$D/jetutil.conf"*) true ;; *) false ;; esac ||
    fail "verify without settings: $err"
# the pristine instance is still fine
verify_dir "$P" >/dev/null
echo "ok"
