#!/bin/bash
# esebackupfs.exe end to end under Wine (issue 9): the WinFsp adapter
# (src/fs/win) driven by the stand-in winfsp-x64.dll (tests/win/
# winfsp_standin.c: a copy tool in place of a mount: list, read every file
# in 1 MiB requests, the largest backwards while a second thread reads the
# next, write the copy to $ESEFS_COPY, then destroy/unmount as WinFsp does),
# over the engine stand-ins (esent.dll, ntdsbcli.dll, certadm.dll serving a
# recorded libjet backup stream).  For each backend (ESENT in-process,
# DsBackup, CertSrvBackup, configured as README "Windows" shows):
#   - truncate = never / complete / commit: the copy made under Wine
#     restores with `jetutil restore` and passes `jetutil verify`; the
#     engine stand-in records no truncation, End(Normal) / TruncateLog +
#     End(Normal) / the same after `esebackupfs.exe commit X:` (the named
#     pipe), run by the copy tool after its copy;
#   - the tree names are the basenames of the engines' C:\esefs\NAME paths
#     (the backslash rule of fs_basename on Windows);
#   - the first engine read fails: the copy tool sees EIO (5), the engine
#     stand-in End(Abort) and no truncation, esebackupfs.exe exits 1.
# Exits 77 (SKIP) only when mingw-w64 or Wine is missing.
. "${top_srcdir:-.}/tests/win_lib.sh"

# run_fs BACKEND POLICY NAME [FAIL]: esebackupfs.exe CONFIG X: with the
# stand-ins; the copy in $T/NAME, the records in $T/NAME.rec (engine) and
# $T/NAME.fsp (WinFsp), output in $T/NAME.out; returns its status.
run_fs() {
    rm -rf "$T/$3" "$T/$3.rec" "$T/$3.fsp"
    mkdir "$T/$3"
    write_ini "$1" "$2" "$T/$3.ini"
    local then=
    [ "$2" = commit ] && then="Z:${R//\//\\}\\esebackupfs.exe commit X:"
    ESEFS_RECORD="Z:$T/$3.rec" ESEFS_FAIL_READ="${4:-}" ESEFS_COPY="Z:$T/$3" \
        ESEFS_WINFSP_RECORD="Z:$T/$3.fsp" ESEFS_WINFSP_THEN="$then" \
        wine "$R/esebackupfs.exe" "Z:$T/$3.ini" X: >"$T/$3.out" 2>&1 </dev/null
}

# rec_is NAME EXPECTED: the engine stand-in's lines ("term" dropped) are
# exactly EXPECTED.
rec_is() {
    local got
    got=$(grep -v '^term ' "$T/$1.rec" 2>/dev/null | tr '\n' ';')
    [ "$got" = "$2" ] || fail "$1: stand-in record '$got', expected '$2' ($(cat "$T/$1.out"))"
}

for be in esent dsbackup certsrv; do
    for pol in never complete commit; do
        n="$be-$pol"
        run_fs $be $pol "$n" || fail "$n: exit status $? ($(cat "$T/$n.out"); copy tool: $(cat "$T/$n.fsp"))"
        # commit: `esebackupfs.exe commit X:` over the named pipe, run by the
        # copy tool after the copy, while mounted
        if [ $pol = commit ]; then
            grep -qx 'then 0' "$T/$n.fsp" || fail "$n: commit: $(cat "$T/$n.fsp")"
        fi
        grep -q '^init readonly=1$' "$T/$n.fsp" || fail "$n: read-only not asked: $(cat "$T/$n.fsp")"
        grep -q '^error' "$T/$n.fsp" && fail "$n: the copy tool saw: $(grep '^error' "$T/$n.fsp")"
        grep -q '^copied \([0-9]*\) of \1$' "$T/$n.fsp" || fail "$n: $(grep '^copied' "$T/$n.fsp")"
        # the copy tool ended (WinFsp's loop returned), then the adapter unmounted
        [ "$(tail -n 1 "$T/$n.fsp")" = unmount ] || fail "$n: no unmount: $(cat "$T/$n.fsp")"
        # the database (over 1 MiB) was read backwards, 1 MiB at a time
        grep -q "^file /$DBFILE [0-9]*$" "$T/$n.fsp" || fail "$n: no /$DBFILE: $(cat "$T/$n.fsp")"
        # the backslash basename rule (fs_basename on Windows): the engines
        # report C:\esefs\NAME; the tree shows /NAME and /logs/NAME, and no
        # name in it holds a backslash
        grep '^file ' "$T/$n.fsp" | grep -qF '\' &&
            fail "$n: a backslash in a tree name: $(grep '^file ' "$T/$n.fsp")"
        for l in "$REC"/*.log; do
            grep -q "^file /logs/${l##*/} [0-9]*$" "$T/$n.fsp" ||
                fail "$n: no /logs/${l##*/}: $(grep '^file ' "$T/$n.fsp")"
        done
        # the core truncates with TruncateLog, then End(Normal) (TruncateDone
        # is optional after TruncateLog: ese-backup-spec.md)
        if [ $pol = never ]; then
            rec_is "$n" "begin 0;end normal;"
        else
            rec_is "$n" "begin 0;truncate;end normal;"
        fi
        out=$("$JETUTIL" restore "$T/$n" "$T/r-$n" 2>&1) || fail "$n: restore: $out"
        out=$("$JETUTIL" verify "$T/r-$n" 2>&1) || fail "$n: verify: $out"
        echo "$out" | grep -qx ok || fail "$n: verify said: $out"
        rm -rf "$T/r-$n" "$T/$n"
    done
    note "$be: esebackupfs.exe copies (never/complete/commit) restore and verify; truncation as decided"

    # the first engine read fails: EIO to the copy tool, End(Abort), no truncation
    n="$be-eio"
    run_fs $be complete "$n" "1:-1022" && fail "$n: esebackupfs.exe exited 0 after a failed read"
    grep -qE '^error read [^ ]+ [0-9]+ 5$' "$T/$n.fsp" || fail "$n: no EIO seen: $(cat "$T/$n.fsp")"
    grep -q '^error short-read' "$T/$n.fsp" && fail "$n: a short read: $(cat "$T/$n.fsp")"
    grep -q 'JET_errDiskIO' "$T/$n.out" || fail "$n: no error name: $(cat "$T/$n.out")"
    rec_is "$n" "begin 0;read 1 failed -1022;end abort;"
    note "$be: a failing engine read reaches the copy tool as EIO; End(Abort), nothing truncated"
done
exit 0
