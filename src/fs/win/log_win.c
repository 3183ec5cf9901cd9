/*
 * log_win.c -- fs_log (plat.h) on Windows: stderr, and as well the
 * Windows event log (ReportEventW) when running as a service
 * (service_win.c); UTF-8/UTF-16 helpers.
 */
#include "config.h"
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "plat.h"
#include "winx.h"

/* The logging context (the adapter's only process-wide logging state; set
 * once by winx_log_setup before threads start). */
static struct winx_log_ctx {
    HANDLE event_source; /* NULL: stderr */
    int quiet;
    char ident[32];
} winx_log_state = { NULL, 0, "esebackupfs" };

/* See winx.h. */
wchar_t *winx_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (!w)
        return NULL;
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        return NULL;
    }
    return w;
}

/* See winx.h. */
int winx_utf8(const wchar_t *w, char *out, size_t cb)
{
    int n;

    if (cb > INT_MAX)
        cb = INT_MAX;
    n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, out, (int)cb, NULL, NULL);
    return n > 0 ? 0 : -1;
}

/* See winx.h. */
int winx_log_setup(const char *ident, const char *event_source, int quiet)
{
    wchar_t *w;

    snprintf(winx_log_state.ident, sizeof winx_log_state.ident, "%s", ident);
    winx_log_state.quiet = quiet;
    if (!event_source)
        return 0;
    w = winx_wide(event_source);
    if (!w)
        return -1;
    winx_log_state.event_source = RegisterEventSourceW(NULL, w);
    free(w);
    return winx_log_state.event_source ? 0 : -1;
}

/* See winx.h. */
void winx_log_close(void)
{
    if (winx_log_state.event_source)
        DeregisterEventSource(winx_log_state.event_source);
    winx_log_state.event_source = NULL;
}

/* The event type of a core level. */
static WORD event_type(enum fs_log_level level)
{
    switch (level) {
    case FS_LOG_ERR:
        return EVENTLOG_ERROR_TYPE;
    case FS_LOG_WARNING:
        return EVENTLOG_WARNING_TYPE;
    default:
        return EVENTLOG_INFORMATION_TYPE;
    }
}

/* See plat.h.  Formats and emits one line: to the event log when set up
 * (the event type from the level, event ID WINX_MSG_LINE, the line as
 * the one insertion string), and to stderr (quiet: errors and warnings only);
 * never fails (a line that cannot be converted or reported is dropped
 * there). */
void fs_log(enum fs_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (winx_log_state.event_source) {
        wchar_t *w = winx_wide(line);
        if (w) {
            LPCWSTR strs[1] = { w };
            (void)ReportEventW(winx_log_state.event_source, event_type(level), 0, WINX_MSG_LINE,
                               NULL, 1, 0, strs, NULL);
            free(w);
        }
    }
    if (winx_log_state.quiet && level >= FS_LOG_INFO)
        return;
    fprintf(stderr, "%s: %s\n", winx_log_state.ident, line);
}
