#!/bin/bash
# esebackupfs.exe as a Windows service under Wine's Service Control Manager
# (issue 9; src/fs/win/service_win.c), over the stand-ins of tests/win_fs.sh
# (tests/win_lib.sh): `sc create esefs binPath= "esebackupfs.exe --service
# esefs CONFIG X:"`, `net start esefs`; the service's mount (a child
# process) runs the stand-in winfsp-x64.dll's copy tool, which copies the
# tree and then runs `net stop esefs` and keeps the file system mounted
# until the adapter asks WinFsp to unmount (ESEFS_WINFSP_WAIT=1).  Asserted:
#   - truncate = complete (ESENT in-process) and never (DsBackup): net stop
#     reaches the mount (the copy tool records `exit`: the adapter's
#     unmount request, the path Ctrl-C takes), the umount decision follows:
#     TruncateLog + End(Normal) / End(Normal) only, in the engine stand-in's
#     record; the copy restores and verifies with jetutil;
#   - a failing engine read (CertSrvBackup): EIO to the copy tool, End(Abort),
#     no truncation, and the service stops with exit status 1;
#   - the event log: the service's and the mount's lines reach ReportEventW
#     (Wine prints them on its eventlog debug channel: errors as err:,
#     information as trace:), among them the umount decision and the
#     service's exit status, all as event ID 1 (the message table's "%1",
#     embedded in esebackupfs.exe); the service registers its source
#     (EventLog\Application\esefs: EventMessageFile = esebackupfs.exe);
#   - a bad configuration: FILE:LINE in the event log, the service never
#     RUNNING, exit status 1;
#   - the service process killed while mounted (taskkill /F, run by the
#     copy tool): the mount ends with it (its job object), the session
#     ends, nothing truncated, no End;
#   - `esebackupfs.exe --service ...` from a console (no SCM) exits 2 with
#     one line saying how to install it.
# The service's environment is the session's (Wine builds it from the
# registry's Session Manager\Environment when the session boots, as
# Windows does for services), so each run writes the stand-ins' settings
# there and starts a new Wine session.  Exits 77 (SKIP) only when
# mingw-w64 or Wine is missing.
. "${top_srcdir:-.}/tests/win_lib.sh"

ENVKEY='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'
# a directory with a space: the service re-quotes the path for its child
mkdir "$T/svc conf"
INI="$T/svc conf/svc.ini"
winpath() { echo "Z:${1//\//\\}"; }

# session_env NAME VALUE...: set the next session's environment (pairs).
# One `reg import` is the only command of a session of its own: the
# session before it has ended (wineserver -w), and it ends before the next
# one boots, so it never joins a session that is shutting down
# (tests/wine_hold.sh).
session_env() {
    local f="$T/env.reg" v rc
    {
        printf 'REGEDIT4\r\n\r\n[%s]\r\n' "HKEY_LOCAL_MACHINE${ENVKEY#HKLM}"
        while [ $# -ge 2 ]; do
            v=${2//\\/\\\\}
            printf '"%s"="%s"\r\n' "$1" "${v//\"/\\\"}"
            shift 2
        done
    } >"$f"
    wineserver -w
    wine reg import "$(winpath "$f")" >>"$T/reg.log" 2>&1 </dev/null
    rc=$?
    [ $rc = 0 ] || fail "registry environment: reg import exit status $rc: $(tail -n 3 "$T/reg.log")"
    wineserver -w # the session ends: the next one boots with that environment
}

# the console form refuses to run without the SCM
out=$(wine "$R/esebackupfs.exe" --service esefs "$(winpath "$INI")" X: 2>&1 </dev/null)
st=$?
[ $st = 2 ] || fail "--service from a console: exit status $st ($out)"
echo "$out" | grep -q 'Service Control Manager' || fail "--service from a console said: $out"
[ "$(echo "$out" | grep -c .)" = 1 ] || fail "--service from a console: not one line: $out"

wine sc create esefs binPath= "$(winpath "$R/esebackupfs.exe") --service esefs \"$(winpath "$INI")\" X:" \
    >"$T/sc.log" 2>&1 </dev/null || fail "sc create: $(cat "$T/sc.log")"
# from here each session is booted for one service run and ends with it
wine_release

# run_svc BACKEND POLICY NAME [FAIL [THEN [GUARD]]]: one service run in a
# new Wine session, the copy tool running THEN (default `net stop esefs`)
# after its copy; the copy in $T/NAME, records in $T/NAME.rec /
# $T/NAME.fsp, the session's output (the services' stderr, Wine's eventlog
# channel) in $T/NAME.session.
run_svc() {
    rm -rf "$T/$3" "$T/$3.rec" "$T/$3.fsp"
    mkdir "$T/$3"
    write_ini "$1" "$2" "$INI"
    session_env ESEFS_REC "Z:$REC" ESEFS_RECORD "Z:$T/$3.rec" ESEFS_FAIL_READ "${4:-none}" \
        ESEFS_COPY "Z:$T/$3" ESEFS_WINFSP_RECORD "Z:$T/$3.fsp" ESEFS_WINFSP_WAIT 1 \
        ESEFS_WINFSP_THEN "${5:-net stop esefs}"
    start_session "$3" "${6:-300}"
    grep -q 'started successfully' "$T/$3.net" || fail "$3: net start said: $(cat "$T/$3.net")"
}

# start_session NAME [GUARD]: net start esefs in a new session, wait for
# its end (at most GUARD seconds, default 300).
start_session() {
    WINEDEBUG=-all,err+eventlog,trace+eventlog,fixme+advapi wine net start esefs \
        >"$T/$1.net" 2>"$T/$1.session" </dev/null
    # the session ends when the service has stopped (a hang guard, not a timing)
    timeout "${2:-300}" wineserver -w ||
        fail "$1: the session did not end: $(cat "$T/$1.fsp" 2>/dev/null)"
}

# rec_is NAME EXPECTED: the engine stand-in's lines ("term" dropped).
rec_is() {
    local got
    got=$(grep -v '^term ' "$T/$1.rec" 2>/dev/null | tr '\n' ';')
    [ "$got" = "$2" ] || fail "$1: stand-in record '$got', expected '$2' ($(cat "$T/$1.session"))"
}

# event NAME TYPE TEXT: a ReportEventW line of TYPE (err/trace) with TEXT.
event() {
    grep "$2:eventlog:ReportEventW" "$T/$1.session" | grep -qF -- "$3" ||
        fail "$1: no $2 event '$3': $(grep eventlog:ReportEventW "$T/$1.session")"
}

# stopped_clean NAME: net stop reached the mount while it served (the copy
# tool started it, then WinFsp was asked to exit), then the unmount.
stopped_clean() {
    local f="$T/$1.fsp"
    grep -q '^init readonly=1$' "$f" || fail "$1: read-only not asked: $(cat "$f")"
    grep -qx 'then started' "$f" || fail "$1: net stop not started: $(cat "$f")"
    [ "$(tail -n 2 "$f" | tr '\n' ';')" = "exit;unmount;" ] ||
        fail "$1: no unmount request after net stop: $(cat "$f")"
    event "$1" trace "service esefs running: X: mounted"
    event "$1" trace "service stop: unmounting X:"
}

for run in "esent complete" "dsbackup never"; do
    set -- $run
    n="svc-$1-$2"
    run_svc "$1" "$2" "$n"
    stopped_clean "$n"
    grep -q '^error' "$T/$n.fsp" && fail "$n: the copy tool saw: $(grep '^error' "$T/$n.fsp")"
    grep -q '^copied \([0-9]*\) of \1$' "$T/$n.fsp" || fail "$n: $(grep '^copied' "$T/$n.fsp")"
    if [ "$2" = never ]; then
        rec_is "$n" "begin 0;end normal;"
        event "$n" trace "-> JetEndExternalBackupInstance2(Normal) without truncation"
    else
        rec_is "$n" "begin 0;truncate;end normal;"
        event "$n" trace "-> JetTruncateLogInstance + JetEndExternalBackupInstance2(Normal)"
    fi
    event "$n" trace "service esefs stopped, exit status 0"
    # every event is WINX_MSG_LINE (1), the message table's "%1"
    grep -q 'fixme:advapi:ReportEventW' "$T/$n.session" || fail "$n: no ReportEventW call seen"
    grep 'fixme:advapi:ReportEventW' "$T/$n.session" |
        grep -vqE 'ReportEventW \([0-9A-Fa-f]+,0x[0-9a-f]{4},0x[0-9a-f]{4},0x00000001,' &&
        fail "$n: an event ID other than 1: $(grep 'fixme:advapi:ReportEventW' "$T/$n.session")"
    out=$("$JETUTIL" restore "$T/$n" "$T/r-$n" 2>&1) || fail "$n: restore: $out"
    out=$("$JETUTIL" verify "$T/r-$n" 2>&1) || fail "$n: verify: $out"
    echo "$out" | grep -qx ok || fail "$n: verify said: $out"
    rm -rf "$T/r-$n" "$T/$n"
    note "$1/$2 as a service: net stop unmounts, the umount decision as configured; the copy restores"
done

# the service registered its event source with the executable's message table
out=$(wine reg query 'HKLM\System\CurrentControlSet\Services\EventLog\Application\esefs' 2>&1 </dev/null)
echo "$out" | grep -qiE "EventMessageFile +REG_EXPAND_SZ +.*esebackupfs\.exe" ||
    fail "event source esefs not registered: $out"
echo "$out" | grep -qiE "TypesSupported +REG_DWORD +0x7" || fail "event source types: $out"
x86_64-w64-mingw32-windres -i "$R/esebackupfs.exe" -O rc 2>/dev/null | grep -q messagetable ||
    fail "esebackupfs.exe has no message table"

# a configuration error: the mount refuses with FILE:LINE in the event log,
# the service never runs and stops with exit status 1
n=svc-badconf
printf '[source]\ncertsrv = .\n[backup]\ntruncate = sometimes\n' >"$INI"
start_session "$n"
event "$n" err "svc.ini:4: "
event "$n" err "service esefs stopped, exit status 1"
grep -q 'service esefs running' "$T/$n.session" && fail "$n: the service ran: $(cat "$T/$n.session")"
note "a bad configuration under the service: FILE:LINE in the event log, exit status 1"

n=svc-certsrv-eio
run_svc certsrv complete "$n" "1:-1022"
stopped_clean "$n"
grep -qE '^error read [^ ]+ [0-9]+ 5$' "$T/$n.fsp" || fail "$n: no EIO seen: $(cat "$T/$n.fsp")"
rec_is "$n" "begin 0;read 1 failed -1022;end abort;"
event "$n" err "JET_errDiskIO"
event "$n" trace "-> JetEndExternalBackupInstance2(Abort)"
event "$n" err "service esefs stopped, exit status 1"
note "a failing engine read under the service: EIO, End(Abort), the service stops with exit status 1"

# the service process dies (taskkill /F, as in a crash) while mounted: its
# job object ends the mount with it, so the session ends (a mount left
# behind would serve on with nobody to stop it: the guard fails); the
# backup was never completed: neither TruncateLog nor End(Normal)
n=svc-killed
run_svc esent complete "$n" none 'taskkill /F /PID {ppid}' 120
f="$T/$n.fsp"
grep -qx 'then started' "$f" || fail "$n: taskkill not started: $(cat "$f")"
grep -qE '^(exit|unmount)$' "$f" && fail "$n: the mount was unmounted, not ended: $(cat "$f")"
event "$n" trace "service esefs running: X: mounted"
grep -q 'service esefs stopped' "$T/$n.session" &&
    fail "$n: the service was not killed: $(grep eventlog:ReportEventW "$T/$n.session")"
rec_is "$n" "begin 0;"
note "the service process killed while mounted: the mount ends with it (job object), nothing truncated"
exit 0
