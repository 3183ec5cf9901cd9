/*
 * service_win.c -- esebackupfs.exe as a Windows service (issue 9).
 *
 *   sc create NAME binPath= "esebackupfs.exe --service NAME CONFIG X:"
 *   net start NAME      mounts;   net stop NAME   unmounts (umount decision)
 *
 * Two processes.  The service process talks to the Service Control
 * Manager (StartServiceCtrlDispatcherW, RegisterServiceCtrlHandlerExW,
 * SetServiceStatus) and runs the mount as a child process,
 * `esebackupfs.exe --service-mount NAME STOP READY CONFIG X:`, handing it
 * two inheritable events.  The mount cannot live in the service process:
 * WinFsp's FUSE loop (fsp_fuse3_loop_mt) starts a service dispatcher of
 * its own (FspServiceRun), and a process can run only one, so under the
 * SCM WinFsp's would fail and end the loop at once.  In the child,
 * WinFsp's dispatcher finds no SCM and runs in console mode, as under
 * WinFsp's own launcher.
 *
 * Status: START_PENDING until the child has mounted (READY) -> RUNNING
 * (accepts STOP, PRESHUTDOWN and SHUTDOWN) -> STOP_PENDING on any (the STOP event:
 * the child unmounts exactly as on Ctrl-C, fuse_win.c request_unmount,
 * then takes the umount decision) -> STOPPED when the child has exited,
 * with exit code NO_ERROR (exit status 0) or ERROR_SERVICE_SPECIFIC_ERROR
 * and service-specific code 1 (the decision aborted or the mount failed).
 * Pending states are re-reported every WAIT_HINT_MS / 2 with a new
 * checkpoint while the child works (an engine End can take a while).
 * A child that exits on its own (WinFsp unmounted) stops the service too.
 * READY is set just before WinFsp's loop starts (the FUSE3 API has no
 * later hook; real WinFsp creates the volume and its mount point as the
 * loop starts): a mount point WinFsp then refuses ends the child, and the
 * service goes from RUNNING to STOPPED with code 1.
 *
 * The child runs in a job object that kills it when the job's last handle
 * closes, and only the service process holds one: if the service process
 * dies (killed, crashed), the mount dies with it instead of serving on
 * with nobody to stop it, and the engine's backup ends as after a crash of
 * the mount, without truncation.  Processes the child starts break away
 * from the job (SILENT_BREAKAWAY_OK).  A job that cannot be set up (the
 * service already runs in a job that forbids nesting) is a warning: the
 * mount runs without that guarantee.
 *
 * Logging: both processes log to stderr and to the event log under source
 * NAME (log_win.c), which the service registers with this executable's
 * message table (esebackupfs_msg.mc) when it starts.
 *
 * Threads and locking: the SCM calls service_main on a thread of its own
 * and handler on the main thread (inside StartServiceCtrlDispatcherW);
 * winx_svc.lock guards status (and the decision to signal STOP); the
 * other fields are set before the dispatcher starts and only read after.
 * No lock is held while waiting.
 */
#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "conf.h"
#include "plat.h"
#include "winfsp_mount.h"
#include "winx.h"

#define WAIT_HINT_MS 30000

/* The service's context (one per process: the SCM's ServiceMain takes no
 * context argument, so service_main reaches it through winx_svc_state). */
typedef struct winx_svc {
    const char *prog, *name, *config, *mountpoint; /* set once */
    wchar_t *wname;                                /* set once */
    HANDLE stop, ready;                            /* inheritable events, set once */
    HANDLE job;                                    /* the child's job (service_main's thread) */
    SERVICE_STATUS_HANDLE status_handle;           /* set by service_main before RUNNING */
    CRITICAL_SECTION lock;                         /* guards status */
    SERVICE_STATUS status;
    DWORD exit_status; /* the child's exit status (service_main's thread) */
} winx_svc;

static winx_svc winx_svc_state;

/* Report state to the SCM (lock held by the caller): controls accepted
 * only while RUNNING; a new checkpoint for pending states; exit status
 * (0 or not) for STOPPED. */
static void report_locked(winx_svc *s, DWORD state, DWORD exit_status)
{
    SERVICE_STATUS *st = &s->status;
    bool pending = state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING;

    st->dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    st->dwCurrentState = state;
    st->dwControlsAccepted =
        state == SERVICE_RUNNING
            ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_PRESHUTDOWN | SERVICE_ACCEPT_SHUTDOWN
            : 0;
    st->dwWin32ExitCode = exit_status ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
    st->dwServiceSpecificExitCode = exit_status;
    st->dwCheckPoint = pending ? st->dwCheckPoint + 1 : 0;
    st->dwWaitHint = pending ? WAIT_HINT_MS : 0;
    if (!SetServiceStatus(s->status_handle, st))
        fs_log(FS_LOG_ERR, "SetServiceStatus failed (Windows error %lu)",
               (unsigned long)GetLastError());
}

/* report_locked under the lock. */
static void report(winx_svc *s, DWORD state, DWORD exit_status)
{
    EnterCriticalSection(&s->lock);
    report_locked(s, state, exit_status);
    LeaveCriticalSection(&s->lock);
}

/* Re-report the current pending state with a new checkpoint. */
static void report_progress(winx_svc *s)
{
    EnterCriticalSection(&s->lock);
    if (s->status.dwCurrentState == SERVICE_START_PENDING ||
        s->status.dwCurrentState == SERVICE_STOP_PENDING)
        report_locked(s, s->status.dwCurrentState, 0);
    LeaveCriticalSection(&s->lock);
}

/* The SCM's control handler (the main thread): STOP, PRESHUTDOWN (sent
 * first at a system shutdown, which then waits for STOPPED: 3 minutes by
 * default, where SHUTDOWN gets about 20 s) and SHUTDOWN while RUNNING ->
 * STOP_PENDING and the child's STOP event (it unmounts as on Ctrl-C);
 * STOPPED follows from service_main once the child has exited. */
static DWORD WINAPI handler(DWORD control, DWORD type, void *data, void *arg)
{
    winx_svc *s = arg;

    (void)type;
    (void)data;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_PRESHUTDOWN:
    case SERVICE_CONTROL_SHUTDOWN:
        EnterCriticalSection(&s->lock);
        if (s->status.dwCurrentState == SERVICE_RUNNING) {
            fs_log(FS_LOG_NOTICE, "%s: unmounting %s (the umount decision follows)",
                   control == SERVICE_CONTROL_STOP ? "service stop" : "system shutdown",
                   s->mountpoint);
            report_locked(s, SERVICE_STOP_PENDING, 0);
            if (!SetEvent(s->stop))
                fs_log(FS_LOG_ERR, "cannot signal the mount (Windows error %lu)",
                       (unsigned long)GetLastError());
        }
        LeaveCriticalSection(&s->lock);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

/* Append arg to the command line cmd (size cb) as one argument, quoted by
 * the rules of CommandLineToArgvW (backslashes before a quote doubled).
 * 0, or -1 when it does not fit. */
static int append_arg(char *cmd, size_t cb, const char *arg)
{
    size_t n = strlen(cmd);
    size_t slashes = 0;

    if (n + 2 >= cb)
        return -1;
    if (n)
        cmd[n++] = ' ';
    cmd[n++] = '"';
    for (const char *p = arg;; p++) {
        if (*p == '\\') {
            slashes++;
            continue;
        }
        /* a run of backslashes: doubled before a quote or the closing one */
        size_t k = (*p == '"' || !*p) ? 2 * slashes : slashes;
        if (n + k + 3 >= cb)
            return -1;
        memset(cmd + n, '\\', k);
        n += k;
        slashes = 0;
        if (!*p)
            break;
        if (*p == '"')
            cmd[n++] = '\\';
        cmd[n++] = *p;
    }
    cmd[n++] = '"';
    cmd[n] = '\0';
    return 0;
}

/* A job that kills its processes when its last handle closes and lets
 * their own children break away, or NULL after a warning. */
static HANDLE kill_on_close_job(void)
{
    JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
    HANDLE job = CreateJobObjectW(NULL, NULL);

    if (!job)
        goto fail;
    memset(&li, 0, sizeof li);
    li.BasicLimitInformation.LimitFlags =
        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK;
    if (SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li, sizeof li))
        return job;
fail:
    fs_log(FS_LOG_WARNING,
           "no job object for the mount (Windows error %lu): it would outlive a crash of the "
           "service",
           (unsigned long)GetLastError());
    if (job)
        CloseHandle(job);
    return NULL;
}

/* Start the child `EXE --service-mount NAME STOP READY CONFIG MOUNTPOINT`
 * (no window, inheriting the two events), in s->job when there is one:
 * created suspended, assigned, then resumed.  0, or -1 after one line. */
static int spawn_child(winx_svc *s, PROCESS_INFORMATION *pi)
{
    char exe[MAX_PATH], hstop[24], hready[24], cmd[4096] = "";
    const char *args[] = {
        exe, "--service-mount", s->name, hstop, hready, s->config, s->mountpoint
    };
    STARTUPINFOA si;
    DWORD n = GetModuleFileNameA(NULL, exe, sizeof exe);
    int rc = -1;

    if (n == 0 || n >= sizeof exe) {
        fs_log(FS_LOG_ERR, "GetModuleFileName failed (Windows error %lu)",
               (unsigned long)GetLastError());
        goto out;
    }
    snprintf(hstop, sizeof hstop, "%llu", (unsigned long long)(uintptr_t)s->stop);
    snprintf(hready, sizeof hready, "%llu", (unsigned long long)(uintptr_t)s->ready);
    for (size_t i = 0; i < sizeof args / sizeof args[0]; i++)
        if (append_arg(cmd, sizeof cmd, args[i]) < 0) {
            fs_log(FS_LOG_ERR, "the mount's command line is too long");
            goto out;
        }
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessA(exe, cmd, NULL, NULL, TRUE, CREATE_NO_WINDOW | CREATE_SUSPENDED, NULL, NULL,
                        &si, pi)) {
        fs_log(FS_LOG_ERR, "cannot start the mount %s (Windows error %lu)", exe,
               (unsigned long)GetLastError());
        goto out;
    }
    if (s->job && !AssignProcessToJobObject(s->job, pi->hProcess)) {
        fs_log(FS_LOG_WARNING,
               "cannot put the mount in its job (Windows error %lu): it would outlive a crash "
               "of the service",
               (unsigned long)GetLastError());
        CloseHandle(s->job);
        s->job = NULL;
    }
    if (ResumeThread(pi->hThread) == (DWORD)-1) {
        fs_log(FS_LOG_ERR, "cannot start the mount (ResumeThread: Windows error %lu)",
               (unsigned long)GetLastError());
        if (!TerminateProcess(pi->hProcess, 1))
            fs_log(FS_LOG_ERR, "cannot end the suspended mount (Windows error %lu)",
                   (unsigned long)GetLastError());
        CloseHandle(pi->hProcess);
        pi->hProcess = NULL;
        goto out;
    }
    rc = 0;
out:
    if (pi->hThread)
        CloseHandle(pi->hThread);
    pi->hThread = NULL;
    return rc;
}

/* Wait for the child to mount (READY: 1) or to exit (0), reporting
 * START_PENDING progress meanwhile.  -1 when the wait fails. */
static int wait_mounted(winx_svc *s, HANDLE child)
{
    HANDLE h[2] = { s->ready, child };

    for (;;) {
        DWORD r = WaitForMultipleObjects(2, h, FALSE, WAIT_HINT_MS / 2);
        if (r == WAIT_OBJECT_0)
            return 1;
        if (r == WAIT_OBJECT_0 + 1)
            return 0;
        if (r != WAIT_TIMEOUT) {
            fs_log(FS_LOG_ERR, "waiting for the mount failed (Windows error %lu)",
                   (unsigned long)GetLastError());
            return -1;
        }
        report_progress(s);
    }
}

/* Wait for the child to exit, reporting pending progress meanwhile; its
 * exit status (1 when it cannot be had). */
static DWORD wait_exit(winx_svc *s, HANDLE child)
{
    DWORD r, code = 1;

    while ((r = WaitForSingleObject(child, WAIT_HINT_MS / 2)) == WAIT_TIMEOUT)
        report_progress(s);
    if (r != WAIT_OBJECT_0 || !GetExitCodeProcess(child, &code)) {
        fs_log(FS_LOG_ERR, "lost the mount process (Windows error %lu)",
               (unsigned long)GetLastError());
        code = 1;
    }
    return code;
}

/* Make NAME an event log source whose messages come from this executable
 * (HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\NAME:
 * EventMessageFile, TypesSupported), so that Event Viewer shows each line
 * as written (esebackupfs_msg.mc).  Needs administrator rights (a service
 * running as LocalSystem has them).  0, or -1 after a warning (the lines
 * reach the event log all the same, with Event Viewer's "description ...
 * cannot be found" preface). */
static int register_source(const winx_svc *s)
{
    const DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    wchar_t key[512], exe[MAX_PATH];
    DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
    HKEY k = NULL;
    LSTATUS ls = ERROR_BUFFER_OVERFLOW;

    if (n == 0 || n >= MAX_PATH ||
        _snwprintf(key, sizeof key / sizeof key[0],
                   L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\%ls",
                   s->wname) < 0)
        goto out;
    ls = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key, 0, NULL, 0, KEY_SET_VALUE, NULL, &k, NULL);
    if (ls != ERROR_SUCCESS)
        goto out;
    ls = RegSetValueExW(k, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe,
                        (n + 1) * sizeof exe[0]);
    if (ls == ERROR_SUCCESS)
        ls = RegSetValueExW(k, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof types);
out:
    if (k)
        RegCloseKey(k);
    if (ls != ERROR_SUCCESS)
        fs_log(FS_LOG_WARNING, "cannot register the event log source %s (Windows error %ld)",
               s->name, (long)ls);
    return ls == ERROR_SUCCESS ? 0 : -1;
}

/* The SCM's ServiceMain (a thread of the dispatcher): register the
 * handler, start the child, RUNNING once it has mounted, STOPPED with its
 * exit status once it has exited. */
static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
    winx_svc *s = &winx_svc_state;
    PROCESS_INFORMATION pi;
    DWORD code = 1;

    (void)argc;
    (void)argv;
    memset(&pi, 0, sizeof pi);
    s->status_handle = RegisterServiceCtrlHandlerExW(s->wname, handler, s);
    if (!s->status_handle) {
        fs_log(FS_LOG_ERR, "RegisterServiceCtrlHandlerExW failed (Windows error %lu)",
               (unsigned long)GetLastError());
        s->exit_status = 1;
        return;
    }
    report(s, SERVICE_START_PENDING, 0);
    (void)register_source(s);     /* warned; logging goes on without it */
    s->job = kill_on_close_job(); /* warned when NULL; the mount runs all the same */
    if (spawn_child(s, &pi) < 0)
        goto out;
    if (wait_mounted(s, pi.hProcess) == 1) {
        report(s, SERVICE_RUNNING, 0);
        fs_log(FS_LOG_NOTICE, "service %s running: %s mounted (net stop %s unmounts)", s->name,
               s->mountpoint, s->name);
    }
    code = wait_exit(s, pi.hProcess);
out:
    if (pi.hProcess)
        CloseHandle(pi.hProcess);
    if (s->job)
        CloseHandle(s->job); /* the child has exited (or is lost: then it ends here) */
    s->job = NULL;
    s->exit_status = code;
    fs_log(code ? FS_LOG_ERR : FS_LOG_NOTICE, "service %s stopped, exit status %lu%s", s->name,
           (unsigned long)code, code ? " (the backup was not completed)" : "");
    report(s, SERVICE_STOPPED, code);
}

/* An inheritable manual-reset event, or NULL. */
static HANDLE inheritable_event(void)
{
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };

    return CreateEventW(&sa, TRUE, FALSE, NULL);
}

/* See winx.h. */
int winx_service_run(const char *prog, const char *name, const char *config, const char *mountpoint)
{
    winx_svc *s = &winx_svc_state;
    SERVICE_TABLE_ENTRYW table[2];
    int rc = 1;

    memset(s, 0, sizeof *s);
    s->prog = prog;
    s->name = name;
    s->config = config;
    s->mountpoint = mountpoint;
    InitializeCriticalSection(&s->lock);
    s->wname = winx_wide(name);
    s->stop = inheritable_event();
    s->ready = inheritable_event();
    if (!s->wname || !s->stop || !s->ready) {
        fprintf(stderr, "%s: cannot set up the service %s (Windows error %lu)\n", prog, name,
                (unsigned long)GetLastError());
        goto out;
    }
    if (winx_log_setup(prog, name, 0) < 0)
        fprintf(stderr, "%s: no event log source %s (Windows error %lu): stderr only\n", prog, name,
                (unsigned long)GetLastError());
    table[0].lpServiceName = s->wname;
    table[0].lpServiceProc = service_main;
    table[1].lpServiceName = NULL;
    table[1].lpServiceProc = NULL;
    if (!StartServiceCtrlDispatcherW(table)) {
        DWORD e = GetLastError();
        if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
            fprintf(stderr,
                    "%s: --service is run by the Service Control Manager (sc create %s "
                    "binPath= \"...\\%s.exe --service %s CONFIG X:\", then net start %s); "
                    "from a console: %s.exe CONFIG X:\n",
                    prog, name, prog, name, name, prog);
            rc = 2;
        } else {
            fprintf(stderr, "%s: StartServiceCtrlDispatcherW failed (Windows error %lu)\n", prog,
                    (unsigned long)e);
        }
        goto out;
    }
    rc = s->exit_status ? 1 : 0;
out:
    winx_log_close();
    if (s->ready)
        CloseHandle(s->ready);
    if (s->stop)
        CloseHandle(s->stop);
    free(s->wname);
    DeleteCriticalSection(&s->lock);
    return rc;
}

/* A decimal handle value from the command line, or NULL. */
static HANDLE parse_handle(const char *text)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (errno || end == text || *end || v == 0 || v > UINTPTR_MAX)
        return NULL;
    return (HANDLE)(uintptr_t)v;
}

/* See winx.h.  argv: NAME STOP READY CONFIG MOUNTPOINT. */
int winx_service_child(const char *prog, char **argv)
{
    winx_mount_hooks hooks;
    fs_config cfg;
    char err[4096];
    int rc = 1;

    if (winx_log_setup(prog, argv[0], 0) < 0)
        fprintf(stderr, "%s: no event log source %s: stderr only\n", prog, argv[0]);
    hooks.stop = parse_handle(argv[1]);
    hooks.ready = parse_handle(argv[2]);
    if (!hooks.stop || !hooks.ready) {
        fs_log(FS_LOG_ERR, "--service-mount is started by --service, not by hand");
        goto out;
    }
    if (winx_conf_load(argv[3], &cfg, err, sizeof err) < 0) {
        fs_log(FS_LOG_ERR, "%s", err);
        goto out;
    }
    rc = winx_mount(&cfg, argv[4], &hooks) == 0 ? 0 : 1;
out:
    winx_log_close();
    return rc;
}
