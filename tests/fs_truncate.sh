#!/bin/sh
# fs_truncate.sh -- the umount decision per truncation policy, on a quiet
# host (no writer threads, so the checkpoint stays put and the expected
# set of deleted logs is exact): never -> copy backup, nothing deleted;
# complete -> full backup, every log below its genLow deleted, all others
# kept; commit without `esebackupfs commit` -> aborted, nothing recorded
# or deleted; commit with it -> full backup and truncation; incremental
# without truncation -> differential.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0

# archived log generations present in the instance, decimal, one a line
gens() {
    for f in "$I"/edb*.log; do
        h=$(basename "$f" | sed -n 's/^edb\([0-9A-F]\{5,8\}\)\.log$/\1/p')
        [ -n "$h" ] && printf '%d\n' "0x$h"
    done | LC_ALL=C sort
}

# one backup: NAME TRUNCATE [commit] -> copies with rsync and unmounts
backup() {
    fs_ini "$T/$1.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = $2" \
        "[spool]" "directory = $T"
    gens >"$T/$1.before"
    fs_mount "$T/$1.ini" "$T/mnt-$1"
    rsync -a "$T/mnt-$1/" "$T/copy-$1/" || fail "$1: rsync"
    if [ "${3:-}" = commit ]; then
        "$FS" commit "$T/mnt-$1" >"$T/$1.commit" || fail "$1: commit exit $?"
        grep -q "will truncate" "$T/$1.commit" || { cat "$T/$1.commit"; fail "$1: commit answer"; }
    fi
    "$FS" status "$T/mnt-$1" >"$T/$1.status" || fail "$1: status"
    fs_umount "$T/mnt-$1"
    gens >"$T/$1.after"
}

# nothing of before may be missing after
nothing_deleted() {
    missing=$(LC_ALL=C comm -23 "$T/$1.before" "$T/$1.after" | tr '\n' ' ')
    [ -z "$missing" ] || fail "$1: logs deleted although no truncation: $missing"
}

# exactly the generations below LOW are gone, every other one is kept
deleted_below() {
    awk -v low="$2" '$1 + 0 < low + 0' "$T/$1.before" >"$T/$1.expect-gone"
    [ -s "$T/$1.expect-gone" ] || fail "$1: test needs logs below genLow $2"
    LC_ALL=C comm -23 "$T/$1.before" "$T/$1.after" >"$T/$1.gone"
    cmp -s "$T/$1.expect-gone" "$T/$1.gone" ||
        fail "$1: deleted $(tr '\n' ' ' <"$T/$1.gone") expected $(tr '\n' ' ' <"$T/$1.expect-gone")"
    echo "   $1: deleted exactly the $(wc -l <"$T/$1.gone") generations below $2, kept the rest"
}

genlow() { fs_dump_field "$I/bank.edb" "$1" | sed -n 's/^genLow 0x\([0-9A-Fa-f]*\) .*/\1/p'; }

step "truncate = never: a copy backup"
backup never never
grep -q "without truncation" "$T/never.status" || fail "never: status decision"
nothing_deleted never
[ -n "$(genlow "copy backup")" ] || fail "never: no copy backup in the header"
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "(none)" ] || fail "never: full backup recorded"

step "truncate = commit without commit: aborted"
backup nocommit commit
grep -q "no .esebackupfs commit. was given" "$T/nocommit.status" || fail "nocommit: status"
nothing_deleted nocommit
[ "$(fs_dump_field "$I/bank.edb" "full backup")" = "(none)" ] || fail "nocommit: recorded as full"

step "truncate = complete: full backup, logs truncated"
backup complete complete
low=$(genlow "full backup")
[ -n "$low" ] || fail "complete: no full backup recorded"
deleted_below complete "$(printf '%d' "0x$low")"

step "truncate = commit with commit: full backup, logs truncated"
# advance the log and the checkpoint so that there is something to delete
fs_serve_stop
"$JU" workload "$I" --threads 2 --seconds 1 >/dev/null || fail "workload"
fs_serve "$I" "$EPS" 0
backup commit commit commit
low2=$(genlow "full backup")
[ "$low2" != "$low" ] || fail "commit: full backup not updated ($low2)"
deleted_below commit "$(printf '%d' "0x$low2")"

step "incremental, truncate = never: a differential backup"
fs_ini "$T/diff.ini" "[source]" "endpoint = $EPS" "[backup]" "type = incremental" \
    "[spool]" "directory = $T"
gens >"$T/diff.before"
fs_mount "$T/diff.ini" "$T/mnt-diff"
cp -a "$T/mnt-diff" "$T/copy-diff" || fail "diff: cp"
fs_umount "$T/mnt-diff"
gens >"$T/diff.after"
nothing_deleted diff
[ -n "$(genlow "differential backup")" ] || fail "diff: no differential backup recorded"
fs_serve_stop
echo "PASS"
