# jetutil_lib.sh -- helpers sourced by the jetutil shell tests.
# Needs $top_builddir (set by automake's test harness).  Every helper fails
# the test (exit 1) with one line on stderr rather than returning garbage.

set -u
: "${top_builddir:?top_builddir must be set (run through make check)}"
: "${top_srcdir:=$top_builddir}"
JETUTIL="$top_builddir/src/jetutil/jetutil"
[ -x "$JETUTIL" ] || { echo "FAIL: $JETUTIL not built" >&2; exit 1; }

T=$(mktemp -d "${TMPDIR:-/tmp}/jetutil-test.XXXXXX")
BG_PIDS=""

# cleanup: kill the background processes this test started (by pid), then
# remove the scratch directory.
cleanup() {
    for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# bg_add PID: remember a background process for cleanup.
bg_add() { BG_PIDS="$BG_PIDS $1"; }

# wait_line FILE REGEX PID [TIMEOUT]: block until a line of FILE matches
# REGEX.  Follows the file with tail --pid, so it returns 1 as soon as PID
# dies without printing the line; no polling.
wait_line() {
    timeout "${4:-60}" grep -m1 -q -E "$2" <(tail -n +1 --pid="$3" -f "$1")
}

# last_value FILE KEY: the number after the last "KEY N" line of FILE.
last_value() { awk -v k="$2" '$1 == k { v = $2 } END { print v }' "$1"; }

# label_value DIR KEY: value of KEY in DIR/jetutil-backup.label.
label_value() { sed -n "s/^$2=//p" "$1/jetutil-backup.label" | tail -n 1; }

# log_list DIR: archived log file names (edbXXXXX.log), sorted.
log_list() { (cd "$1" && ls | grep -E '^edb[0-9A-F]{5,8}\.log$' | sort) || true; }

# gen_of NAME: generation number of edbXXXXX.log.
gen_of() { local g=${1#edb}; g=${g%.log}; echo $((16#$g)); }

# checkpoint_gen DIR: generation of the checkpoint, from jetutil dump.
checkpoint_gen() {
    local g
    g=$("$JETUTIL" dump "$1/edb.chk" | awk '$1 == "checkpoint:" { print $3 }' | tr -d ,)
    [ -n "$g" ] || fail "no checkpoint generation in $1/edb.chk"
    echo $((g))
}

# verify_dir DIR: jetutil verify must pass; echoes the transfer count.
verify_dir() {
    local out
    out=$("$JETUTIL" verify "$1" 2>&1) || fail "verify $1 failed: $out"
    echo "$out" | awk '$1 == "transfers" { print $2 }'
}

# sha FILE: content checksum.
sha() { sha256sum "$1" | cut -d' ' -f1; }
