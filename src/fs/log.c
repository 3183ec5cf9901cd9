/* log.c -- see log.h. */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fs/log.h"

/* The logging context (the only process-wide state of the fs module). */
static struct fs_log_ctx {
    int use_syslog;
    int quiet;
    char ident[32];
} fs_log_state = { 0, 0, "esebackupfs" };

/* Set the destination; not thread-safe (call before starting threads). */
void fs_log_setup(const char *ident, int use_syslog, int quiet)
{
    snprintf(fs_log_state.ident, sizeof fs_log_state.ident, "%s", ident);
    fs_log_state.use_syslog = use_syslog;
    fs_log_state.quiet = quiet;
    if (use_syslog)
        openlog(fs_log_state.ident, LOG_PID, LOG_DAEMON);
}

/* Format and emit one line; never fails (messages are dropped on error). */
void fs_log(int prio, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (fs_log_state.use_syslog) {
        syslog(prio, "%s", line);
        return;
    }
    if (fs_log_state.quiet && prio >= LOG_INFO)
        return;
    fprintf(stderr, "%s: %s\n", fs_log_state.ident, line);
}
