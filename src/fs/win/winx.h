/*
 * winx.h -- the Windows adapter's own declarations (src/fs/win): logging
 * set-up, UTF-8 <-> UTF-16 conversion, the INI reader, the control pipe,
 * the service wrapper.
 *
 * Thread safety: winx_log_setup once, before threads start; the other
 * functions have no shared state.
 */
#ifndef FS_WINX_H
#define FS_WINX_H

#include <stddef.h>
#include <wchar.h>
#include "conf.h"

/* The event ID of every line in the event log: the message "%1" of the
 * executable's message table (esebackupfs_msg.mc, which has the same
 * number). */
#define WINX_MSG_LINE 1

/* Log to stderr as "ident: line" (quiet: drop info/debug) and, when
 * event_source is not NULL, to the Windows event log as well under that
 * source (RegisterEventSourceW/ReportEventW: errors as
 * EVENTLOG_ERROR_TYPE, warnings as EVENTLOG_WARNING_TYPE, the rest as
 * EVENTLOG_INFORMATION_TYPE; event ID WINX_MSG_LINE, the line as its one
 * insertion string).  0, or -1 when the event source cannot be
 * registered (stderr only then).  Not thread-safe (before threads). */
int winx_log_setup(const char *ident, const char *event_source, int quiet);
/* Release the event source.  Not thread-safe (after threads stop). */
void winx_log_close(void);

/* A newly allocated UTF-16 copy of UTF-8 s (free()), or NULL (invalid
 * UTF-8 or no memory). */
wchar_t *winx_wide(const char *s);
/* UTF-16 w into UTF-8 out (size cb).  0, or -1 (invalid or too long). */
int winx_utf8(const wchar_t *w, char *out, size_t cb);

/* Read the INI file path with the Win32 profile API and validate it with
 * the core (fs_conf_*).  0, or -1 with "FILE:LINE: what is wrong" in err
 * (the line found by scanning the file text; see conf_win.c). */
int winx_conf_load(const char *path, fs_config *cfg, char *err, size_t cb_err);

/* ---- status / commit over a named pipe (control_win.c) ---- */

typedef struct winx_control winx_control;
struct fs_ctx;

/* Serve `status` / `commit` for the mount on mountpoint over
 * \\.\pipe\esebackupfs-<hash>, readable only by SYSTEM and this user,
 * on a thread of its own.  0, or -1 (logged; the mount goes on without
 * it). */
int winx_control_start(struct fs_ctx *ctx, const char *mountpoint, winx_control **pc);
/* Stop serving and free c (after the loop ends, before fs_ctx_finish, so
 * that a commit either precedes the decision or is refused by the core).
 * Safe with NULL. */
void winx_control_stop(winx_control *c);
/* The client: send cmd ("status" or "commit") to the mount on mountpoint,
 * print the answer.  Exit status: 0 healthy / commit counted, 1 failed /
 * not counted, 2 the mount cannot be reached. */
int winx_control_client(const char *prog, const char *mountpoint, const char *cmd);

/* ---- the service wrapper (service_win.c) ---- */

/* esebackupfs.exe --service NAME CONFIG MOUNTPOINT, started by the Service
 * Control Manager: run the service NAME (StartServiceCtrlDispatcherW) whose
 * mount runs in a child process (`--service-mount`, below, because
 * WinFsp's FUSE loop runs a service dispatcher of its own in the process
 * that mounts); SERVICE_CONTROL_STOP / SHUTDOWN unmount it as Ctrl-C does
 * and the service stops after the umount decision, exit code 0 or the
 * service-specific code 1 (the decision aborted, or the mount failed).
 * Logs to the event log under source NAME as well.  Returns the process
 * exit status: 0, 1 (failed), 2 (not started by the SCM). */
int winx_service_run(const char *prog, const char *name, const char *config,
                     const char *mountpoint);
/* esebackupfs.exe --service-mount NAME STOP READY CONFIG MOUNTPOINT: the
 * service's child (internal): STOP and READY are inherited event handles
 * in decimal (winx_mount_hooks); logs to the event log as source NAME as
 * well.  Exit status 0 or 1, as for a mount from the console. */
int winx_service_child(const char *prog, char **argv);

#endif
