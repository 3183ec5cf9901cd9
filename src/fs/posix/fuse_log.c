/* fuse_log.c -- libfuse's log messages into ours; see fsx.h. */
#include "config.h"
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "fsx.h"
#include "plat.h"

/* libfuse's messages.  Until the mount is ready (capturing), errors are
 * kept, not printed, so that a failed mount says one line that includes
 * them; everything else, and everything later, goes to our log.  libfuse
 * writes a line in several calls, so pieces are joined up to the newline.
 * Its log callback has no user pointer: process-wide state, this struct
 * (mu guards it; libfuse logs from its worker threads). */
static struct fs_fuse_log_ctx {
    pthread_mutex_t mu;
    int capturing;
    char cur[512];  /* line being assembled */
    char last[512]; /* last error line while capturing */
} fs_fuse_log_state = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The core's level of a libfuse level (libfuse uses syslog's numbers;
 * emergency, alert and critical are errors to us). */
static enum fs_log_level fuse_level(enum fuse_log_level level)
{
    if (level <= FUSE_LOG_ERR)
        return FS_LOG_ERR;
    if (level == FUSE_LOG_WARNING)
        return FS_LOG_WARNING;
    if (level == FUSE_LOG_NOTICE)
        return FS_LOG_NOTICE;
    if (level == FUSE_LOG_INFO)
        return FS_LOG_INFO;
    return FS_LOG_DEBUG;
}

/* fuse_set_log_func callback (see above). */
static void fuse_log_capture(enum fuse_log_level level, const char *fmt, va_list ap)
{
    struct fs_fuse_log_ctx *st = &fs_fuse_log_state;
    size_t n;
    char *nl;

    pthread_mutex_lock(&st->mu);
    n = strlen(st->cur);
    if (n < sizeof st->cur - 1)
        vsnprintf(st->cur + n, sizeof st->cur - n, fmt, ap);
    while ((nl = strchr(st->cur, '\n')) != NULL || strlen(st->cur) >= sizeof st->cur - 1) {
        if (nl)
            *nl = 0;
        if (st->cur[0]) {
            if (st->capturing && level <= FUSE_LOG_ERR)
                snprintf(st->last, sizeof st->last, "%s", st->cur);
            else
                fs_log(fuse_level(level), "%s", st->cur);
        }
        if (nl)
            memmove(st->cur, nl + 1, strlen(nl + 1) + 1);
        else
            st->cur[0] = 0;
    }
    pthread_mutex_unlock(&st->mu);
}

/* See fsx.h. */
void fsx_with_fuse_error(char *buf, size_t cb, const char *msg)
{
    if (fs_fuse_log_state.last[0])
        snprintf(buf, cb, "%s (%s)", msg, fs_fuse_log_state.last);
    else
        snprintf(buf, cb, "%s", msg);
}

/* See fsx.h. */
void fsx_fuse_log_capture(int on)
{
    pthread_mutex_lock(&fs_fuse_log_state.mu);
    fs_fuse_log_state.capturing = on;
    pthread_mutex_unlock(&fs_fuse_log_state.mu);
    if (on)
        fuse_set_log_func(fuse_log_capture);
}
