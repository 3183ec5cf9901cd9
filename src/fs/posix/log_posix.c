/* log_posix.c -- fs_log (plat.h) on syslog or stderr; see fsx.h. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "fsx.h"
#include "plat.h"

/* The logging context (the only process-wide state of the adapter's
 * logging; set once by fsx_log_setup before threads start). */
static struct fsx_log_ctx {
    int use_syslog;
    int quiet;
    char ident[32];
} fsx_log_state = { 0, 0, "esebackupfs" };

/* See fsx.h.  Not thread-safe (call before starting threads). */
void fsx_log_setup(const char *ident, int use_syslog, int quiet)
{
    snprintf(fsx_log_state.ident, sizeof fsx_log_state.ident, "%s", ident);
    fsx_log_state.use_syslog = use_syslog;
    fsx_log_state.quiet = quiet;
    if (use_syslog)
        openlog(fsx_log_state.ident, LOG_PID, LOG_DAEMON);
}

/* The syslog priority of a core level (same numbers, named here). */
static int syslog_prio(enum fs_log_level level)
{
    switch (level) {
    case FS_LOG_ERR:
        return LOG_ERR;
    case FS_LOG_WARNING:
        return LOG_WARNING;
    case FS_LOG_NOTICE:
        return LOG_NOTICE;
    case FS_LOG_INFO:
        return LOG_INFO;
    default:
        return LOG_DEBUG;
    }
}

/* See plat.h.  Formats and emits one line; never fails (messages are
 * dropped on error).  Thread-safe (syslog/stdio lock internally). */
void fs_log(enum fs_log_level level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (fsx_log_state.use_syslog) {
        syslog(syslog_prio(level), "%s", line);
        return;
    }
    if (fsx_log_state.quiet && level >= FS_LOG_INFO)
        return;
    fprintf(stderr, "%s: %s\n", fsx_log_state.ident, line);
}
