#!/bin/bash
# The Windows backends (issue 9) under Wine: cross-build the mingw tree
# (configure --host=x86_64-w64-mingw32, warning-free), build the engine
# stand-ins esent.dll / ntdsbcli.dll / certadm.dll, record a real libjet
# backup stream on Linux (jetutil create + workload + backup), and for each
# backend (ESENT in-process, DsBackup, CertSrvBackup) run the Windows test
# program like a copy tool:
#   - policies never / complete / commit: the copy restores with
#     `jetutil restore` and passes `jetutil verify`; the stand-in's record
#     shows the expected TruncateLog / End calls;
#   - a failing database read (ESEFS_FAIL_READ=1) and a failing log read: the error by name, End(Abort) or the engine's abort, nothing
#     truncated;
#   - a missing client DLL is a clear error, never a crash;
#   - esebackupfs.exe (src/fs/win) is built too and, under Wine, reports its
#     version and refuses a bad INI, a libjet source and a missing WinFsp.
# Exits 77 (SKIP) only when mingw-w64 or Wine is missing.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"
. "${top_srcdir:-.}/tests/wine_hold.sh"

CROSS=x86_64-w64-mingw32
command -v "$CROSS-gcc" >/dev/null || { echo "SKIP: $CROSS-gcc not found (apt-get install gcc-mingw-w64-x86-64)"; exit 77; }
command -v wine >/dev/null || { echo "SKIP: wine not found (apt-get install wine wine64)"; exit 77; }

# --- the cross build, in a subdirectory of the build tree ---
XB="$top_builddir/win-cross"
mkdir -p "$XB"
# plain make: under `make -j2 check` it shares the parent's job slots
(cd "$XB" && { [ -f Makefile ] || "$top_srcdir/configure" -q --host=$CROSS; } &&
    make) >"$T/xbuild.log" 2>&1 || fail "cross build: $(tail -n 5 "$T/xbuild.log")"
W='\.[ch]:[0-9]+:[0-9]+: warning:'
grep -qE "$W" "$T/xbuild.log" && fail "cross build warnings: $(grep -E "$W" "$T/xbuild.log" | head -n 3)"
EXE="$XB/tests/win/win_backup.exe"
[ -f "$EXE" ] || fail "$EXE not built"

# --- the stand-ins (esent.h / ntdsbcli.h / certbcli.h signatures) ---
R="$T/run"
mkdir -p "$R"
cp "$EXE" "$R/"
for s in esent ntdsbcli certadm; do
    "$CROSS-gcc" -std=c11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wno-unused-parameter -D_WIN32_WINNT=0x0600 -shared -o "$R/$s.dll" \
        "$top_srcdir/tests/win/${s}_standin.c" "$top_srcdir/tests/win/standin.c" \
        >"$T/$s.log" 2>&1 || fail "stand-in $s.dll: $(head -n 3 "$T/$s.log")"
    [ -s "$T/$s.log" ] && fail "stand-in $s.dll warnings: $(head -n 3 "$T/$s.log")"
done

# --- the recording: a real libjet full backup stream ---
D="$T/inst"
REC="$T/rec"
"$JETUTIL" create "$D" --accounts 200 --log-size 128 >/dev/null || fail "create"
"$JETUTIL" workload "$D" --threads 1 --seconds 1 >/dev/null || fail "workload"
"$JETUTIL" backup "$D" "$REC" >/dev/null || fail "recording backup"
{
    echo "page $(label_value "$REC" page_size)"
    echo "base $(label_value "$REC" base)"
    echo "gen $(label_value "$REC" genLow) $(label_value "$REC" genHigh)"
    echo "db C:\\esefs\\$(label_value "$REC" file) $(label_value "$REC" file)"
    for l in "$REC"/*.log; do echo "log C:\\esefs\\${l##*/} ${l##*/}"; done
} >"$REC/index"
PAGE=$(label_value "$REC" page_size)
# The backends read 1 MiB at a time until the engine returns 0 bytes: the
# first log read is the one after the database's reads.
DBSIZE=$(stat -c %s "$REC/$(label_value "$REC" file)")
LOGREAD=$(( (DBSIZE + 1048575) / 1048576 + 2 ))

export WINEPREFIX="$T/wineprefix" WINEDEBUG=-all WINEDLLOVERRIDES="esent=n"
export ESEFS_REC="Z:$REC"
# Stop this prefix's wineserver (only ours: WINEPREFIX is the test's own)
# before the scratch directory goes.
trap 'wineserver -k >/dev/null 2>&1; cleanup' EXIT
# every Wine command below joins one live session
wine_hold

# run_backup BACKEND POLICY NAME [FAIL]: run the test program; its record in
# $T/NAME.rec, output in $T/NAME.out; returns its status.
run_backup() {
    rm -f "$T/$3.rec"
    ESEFS_RECORD="Z:$T/$3.rec" ESEFS_FAIL_READ="${4:-}" \
        wine "$R/win_backup.exe" "$1" "Z:$T/$3" "$2" "$PAGE" >"$T/$3.out" 2>&1 </dev/null
}

# rec_is NAME EXPECTED: the record's lines (begin/truncate/end/abort/read
# failures; "term" dropped) are exactly EXPECTED; no violation.
rec_is() {
    local got
    got=$(grep -v '^term ' "$T/$1.rec" 2>/dev/null | tr '\n' ';')
    [ "$got" = "$2" ] || fail "$1: stand-in record '$got', expected '$2' ($(cat "$T/$1.out"))"
}

for be in esent dsbackup certsrv; do
    for pol in never complete commit; do
        run_backup $be $pol "$be-$pol" || fail "$be $pol: $(cat "$T/$be-$pol.out")"
        if [ $pol = never ]; then
            rec_is "$be-$pol" "begin 0;end normal;"
        elif [ $be = esent ]; then
            rec_is "$be-$pol" "begin 0;truncate;end normal truncatedone;"
        else
            rec_is "$be-$pol" "begin 0;truncate;end normal;"
        fi
        out=$("$JETUTIL" restore "$T/$be-$pol" "$T/r-$be-$pol" 2>&1) || fail "$be $pol: restore: $out"
        out=$("$JETUTIL" verify "$T/r-$be-$pol" 2>&1) || fail "$be $pol: verify: $out"
        echo "$out" | grep -qx ok || fail "$be $pol: verify said: $out"
        rm -rf "$T/r-$be-$pol"
    done
    note "$be: never/complete/commit copies restore and verify"

    # a failing database read: the error by name, End(Abort), no truncation
    run_backup $be complete "$be-faildb" "1:-1022" && fail "$be: a failing read succeeded"
    grep -q 'JET_errDiskIO' "$T/$be-faildb.out" || fail "$be: no error name: $(cat "$T/$be-faildb.out")"
    rec_is "$be-faildb" "begin 0;read 1 failed -1022;end abort;"
    # a failing log read: the engine aborts the backup, nothing truncated
    run_backup $be complete "$be-faillog" "$LOGREAD:-1022" && fail "$be: a failing log read succeeded"
    grep -q 'JET_errDiskIO' "$T/$be-faillog.out" || fail "$be: no error name: $(cat "$T/$be-faillog.out")"
    rec_is "$be-faillog" "begin 0;read $LOGREAD failed -1022;abort by engine;"
    note "$be: failing reads end the backup without truncation"
done

# esebackupfs.exe (the WinFsp adapter): built warning-free above; under
# Wine it reports its version, refuses a bad INI with FILE:LINE through the
# Win32 profile API reader (conf_win.c), refuses a libjet source, and
# without WinFsp says so in one line (nothing mounted, no backup begun).
[ -f "$XB/esebackupfs.exe" ] || fail "$XB/esebackupfs.exe not built"
cp "$XB/esebackupfs.exe" "$R/"
FSEXE="$R/esebackupfs.exe"
out=$(wine "$FSEXE" --version 2>&1 </dev/null) || fail "esebackupfs.exe --version: $out"
echo "$out" | grep -q '^esebackupfs [0-9.]* (Windows' || fail "esebackupfs.exe --version said: $out"
printf '; esebackupfs.exe\n[source]\ndsbackup = .\n\n[backup]\ntruncate = sometimes\n' >"$T/bad.ini"
out=$(wine "$FSEXE" "Z:$T/bad.ini" X: 2>&1 </dev/null) && fail "esebackupfs.exe accepted a bad INI"
echo "$out" | grep -q "bad.ini:6: truncate: 'sometimes' is not never, complete or commit" ||
    fail "bad INI: $out"
printf '[source]\n\nendpoint = /run/x.sock\n' >"$T/ep.ini"
out=$(wine "$FSEXE" "Z:$T/ep.ini" X: 2>&1 </dev/null) && fail "esebackupfs.exe accepted a libjet source"
echo "$out" | grep -q 'ep.ini:3: endpoint is a libjet source' || fail "libjet source: $out"
printf '[source]\ndsbackup = .\n' >"$T/ds.ini"
rm -f "$T/nowinfsp.rec"
out=$(ESEFS_RECORD="Z:$T/nowinfsp.rec" wine "$FSEXE" "Z:$T/ds.ini" X: 2>&1 </dev/null) &&
    fail "esebackupfs.exe mounted without WinFsp"
[ "$(echo "$out" | grep -c .)" = 1 ] && echo "$out" | grep -q '^esebackupfs: WinFsp is not installed' ||
    fail "without WinFsp: $out"
[ -s "$T/nowinfsp.rec" ] && fail "without WinFsp a backup began: $(cat "$T/nowinfsp.rec")"
for c in status commit; do
    out=$(wine "$FSEXE" $c X: 2>&1 </dev/null)
    st=$?
    [ $st = 2 ] || fail "esebackupfs.exe $c X: without a mount exited $st: $out"
    echo "$out" | grep -q '^esebackupfs: X: is not an esebackupfs mount of this user' ||
        fail "esebackupfs.exe $c X: said: $out"
done
note "esebackupfs.exe: version, bad INI, libjet source, missing WinFsp and status/commit without a mount refused in one line"

# a missing client DLL: one clear line, no crash
rm -f "$R/ntdsbcli.dll"
run_backup dsbackup never nodll && fail "dsbackup without ntdsbcli.dll succeeded"
grep -q '^win_backup: ntdsbcli.dll: cannot load' "$T/nodll.out" || fail "missing DLL: $(cat "$T/nodll.out")"
note "missing ntdsbcli.dll: $(cat "$T/nodll.out")"
exit 0
