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

#endif
