# win_lib.sh -- the set-up shared by the esebackupfs.exe tests under Wine
# (tests/win_fs.sh, tests/win_service.sh), sourced after jetutil_lib.sh:
#   - the cross build in $top_builddir/win-cross (tests/win.mk orders the
#     tests so that only one of them makes in it at a time): $XB;
#   - the stand-ins: esent.dll, ntdsbcli.dll, certadm.dll beside
#     esebackupfs.exe in $R, winfsp-x64.dll under $R/winfsp/bin, found
#     through WinFsp's InstallDir registry value in a Wine prefix of the
#     test's own ($WINEPREFIX under $T);
#   - the recording: a real libjet full backup stream in $REC ($DBFILE,
#     $PAGE, $REC/index) served by the engine stand-ins;
#   - write_ini BACKEND POLICY FILE: the README's configuration;
#   - the session held (tests/wine_hold.sh) from before the first Wine
#     command: a test that needs the session to end calls wine_release.
# Exits 77 (SKIP) only when mingw-w64 or Wine is missing.
. "${top_srcdir:-.}/tests/jetutil_lib.sh"
. "${top_srcdir:-.}/tests/wine_hold.sh"

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
wine_hold
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
