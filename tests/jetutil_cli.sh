#!/bin/bash
# jetutil command line: --help everywhere, one-line usage errors with exit
# status 2, create/verify round trip, dump of each file kind.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

"$JETUTIL" --help | grep -q '^usage: jetutil' || fail "jetutil --help"
for c in create workload verify dump serve backup restore; do
    "$JETUTIL" "$c" --help | grep -q "^usage: jetutil $c" || fail "jetutil $c --help"
done

usage_err() { # expected-substring cmd...
    local want=$1; shift
    local err rc=0
    err=$("$JETUTIL" "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq 2 ] || fail "jetutil $*: exit $rc, expected 2"
    echo "$err" | grep -q -- "$want" || fail "jetutil $*: message '$err' lacks '$want'"
}
usage_err "unknown command" frobnicate
usage_err "DIR is required" create
usage_err "unknown option '--bogus'" create "$T/x" --bogus
usage_err "--accounts: 'ten' is not a number" create "$T/x" --accounts ten
usage_err "--page-size: 3000 is not one of" create "$T/x" --page-size 3000
usage_err "needs a value" workload "$T/x" --threads
usage_err "--endpoint SOCKET are required" serve "$T/x"
usage_err "DIR and DEST" backup "$T/x"
usage_err "BACKUPDIR and TARGETDIR" restore "$T/x"
[ ! -e "$T/x" ] || fail "a usage error created $T/x"

"$JETUTIL" create "$T/db" --accounts 500 --log-size 256 >/dev/null || fail "create"
rc=0; "$JETUTIL" create "$T/db" 2>"$T/err" || rc=$?
[ $rc -eq 1 ] && grep -q "must not exist or be empty" "$T/err" || fail "create over an instance"
n=$(verify_dir "$T/db")
[ "$n" = 0 ] || fail "fresh bank has $n transfers"
"$JETUTIL" workload "$T/db" --threads 2 --seconds 1 >"$T/wl" || fail "workload"
grep -q '^started 2 threads' "$T/wl" || fail "workload did not start"
n=$(verify_dir "$T/db")
[ "$n" -gt 0 ] || fail "workload committed nothing"
c=$(last_value "$T/wl" committed)
[ -z "$c" ] || [ "$n" -ge "$c" ] || fail "verify shows $n transfers, workload reported committed $c"

"$JETUTIL" dump "$T/db/bank.edb" | grep -q '^Type: database' || fail "dump database"
"$JETUTIL" dump "$T/db/edb.chk" | grep -q '^Type: checkpoint' || fail "dump checkpoint"
"$JETUTIL" dump "$T/db/edb.log" >"$T/dl" || fail "dump log: $(cat "$T/dl")"
grep -q '^Type: log' "$T/dl" && grep -q 'records:' "$T/dl" || fail "dump log output"
rc=0; err=$("$JETUTIL" backup --endpoint "$T/no.sock" "$T/bk" 2>&1) || rc=$?
[ $rc -eq 1 ] && [ "$err" = "jetutil backup: $T/no.sock: JET_errFileNotFound (-1811)" ] ||
    fail "backup from a missing endpoint: $err"
[ ! -e "$T/bk" ] || fail "a failed backup left $T/bk behind"
rc=0; err=$("$JETUTIL" backup "$T/db" "$T/db" --incremental 2>&1) || rc=$?
[ $rc -eq 1 ] && case "$err" in *"not a jetutil backup directory"*) true ;; *) false ;; esac ||
    fail "incremental into a non-backup: $err"
rc=0; err=$("$JETUTIL" restore "$T/db" "$T/r" 2>&1) || rc=$?
[ $rc -eq 1 ] && [ ! -e "$T/r" ] || fail "restore of a non-backup: $err"
echo "ok"
