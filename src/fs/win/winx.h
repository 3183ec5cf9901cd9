/*
 * winx.h -- the Windows adapter's own declarations (src/fs/win): logging
 * set-up, UTF-8 <-> UTF-16 conversion, the INI reader.
 *
 * Thread safety: winx_log_setup once, before threads start; the other
 * functions have no shared state.
 */
#ifndef FS_WINX_H
#define FS_WINX_H

#include <stddef.h>
#include <wchar.h>
#include "conf.h"

/* Log to stderr as "ident: line" (quiet: drop info/debug), or, when
 * as_service, to the Windows event log under source ident (ReportEventW;
 * stderr when the event source cannot be registered).  Not thread-safe. */
void winx_log_setup(const char *ident, int as_service, int quiet);
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

#endif
