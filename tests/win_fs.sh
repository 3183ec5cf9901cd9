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
#   - the first engine read fails: the copy tool sees EIO (5), the engine
#     stand-in End(Abort) and no truncation, esebackupfs.exe exits 1.
# Exits 77 (SKIP) only when mingw-w64 or Wine is missing.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

CROSS=x86_64-w64-mingw32
command -v "$CROSS-gcc" >/dev/null || { echo "SKIP: $CROSS-gcc not found (apt-get install gcc-mingw-w64-x86-64)"; exit 77; }
command -v wine >/dev/null || { echo "SKIP: wine not found (apt-get install wine wine64)"; exit 77; }

# --- the cross build (tests/win.mk runs this test after win_backends.sh,
# which builds the same tree: no concurrent make in it) ---
XB="$top_builddir/win-cross"
mkdir -p "$XB"
(cd "$XB" && { [ -f Makefile ] || "$top_srcdir/configure" -q --host=$CROSS; } &&
    make) >"$T/xbuild.log" 2>&1 || fail "cross build: $(tail -n 5 "$T/xbuild.log")"
[ -f "$XB/esebackupfs.exe" ] || fail "$XB/esebackupfs.exe not built"

# --- the stand-ins: engines beside the exe, WinFsp under InstallDir\bin ---
R="$T/run"
mkdir -p "$R/winfsp/bin"
cp "$XB/esebackupfs.exe" "$R/"
CFLAGS_W=(-std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wno-unused-parameter -D_WIN32_WINNT=0x0600 -shared)
for s in esent ntdsbcli certadm; do
    "$CROSS-gcc" "${CFLAGS_W[@]}" -o "$R/$s.dll" \
        "$top_srcdir/tests/win/${s}_standin.c" "$top_srcdir/tests/win/standin.c" \
        >"$T/$s.log" 2>&1 || fail "stand-in $s.dll: $(head -n 3 "$T/$s.log")"
    [ -s "$T/$s.log" ] && fail "stand-in $s.dll warnings: $(head -n 3 "$T/$s.log")"
done
"$CROSS-gcc" "${CFLAGS_W[@]}" -I"$top_srcdir/src/fs/win" -o "$R/winfsp/bin/winfsp-x64.dll" \
    "$top_srcdir/tests/win/winfsp_standin.c" >"$T/winfsp.log" 2>&1 ||
    fail "stand-in winfsp-x64.dll: $(head -n 3 "$T/winfsp.log")"
[ -s "$T/winfsp.log" ] && fail "stand-in winfsp-x64.dll warnings: $(head -n 3 "$T/winfsp.log")"

# --- the recording: a real libjet full backup stream ---
D="$T/inst"
REC="$T/rec"
"$JETUTIL" create "$D" --accounts 50000 --log-size 1024 >/dev/null || fail "create"
"$JETUTIL" workload "$D" --threads 1 --seconds 1 >/dev/null || fail "workload"
"$JETUTIL" backup "$D" "$REC" >/dev/null || fail "recording backup"
DBFILE=$(label_value "$REC" file)
{
    echo "page $(label_value "$REC" page_size)"
    echo "base $(label_value "$REC" base)"
    echo "gen $(label_value "$REC" genLow) $(label_value "$REC" genHigh)"
    echo "db C:\\esefs\\$DBFILE $DBFILE"
    for l in "$REC"/*.log; do echo "log C:\\esefs\\${l##*/} ${l##*/}"; done
} >"$REC/index"
PAGE=$(label_value "$REC" page_size)
[ "$(stat -c %s "$REC/$DBFILE")" -gt 2097152 ] || fail "the recorded database is under 2 MiB: no out-of-order 1 MiB reads"

export WINEPREFIX="$T/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="esent=n"
export ESEFS_REC="Z:$REC"
trap 'wineserver -k >/dev/null 2>&1; cleanup' EXIT
# WinFsp's installer writes InstallDir in the 32-bit view (Wow6432Node)
wine reg add 'HKLM\Software\Wow6432Node\WinFsp' /v InstallDir /t REG_SZ \
    /d "Z:${R//\//\\}\\winfsp\\" /f >"$T/reg.log" 2>&1 </dev/null ||
    fail "registry InstallDir: $(cat "$T/reg.log")"

# write_ini BACKEND POLICY FILE: the README's configuration for BACKEND.
write_ini() {
    case $1 in
    esent) printf '[source]\nesent_system_path = C:\\esefs\nesent_log_path = C:\\esefs\ndatabases = C:\\esefs\\%s\nbase_name = %s\n' \
        "$DBFILE" "$(label_value "$REC" base)" ;;
    dsbackup) printf '[source]\ndsbackup = .\npage_size = %s\n' "$PAGE" ;;
    certsrv) printf '[source]\ncertsrv = .\npage_size = %s\n' "$PAGE" ;;
    esac >"$3"
    printf '[backup]\ntruncate = %s\n' "$2" >>"$3"
}

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
