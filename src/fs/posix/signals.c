/* signals.c -- signal wrapping and the watcher thread; see fsx.h.
 *
 * libfuse's handlers (fuse_set_signal_handlers) only mark the session as
 * exited; the loop then waits for every request in progress, and a request
 * blocked on the engine (a readdir of logs/ waiting for the self-pull of a
 * large database) would hold SIGTERM up until the engine is done.  So each
 * of those handlers is wrapped: the wrapper runs it and writes the signal
 * number to a pipe; a watcher thread reads it and calls fs_ctx_interrupt(),
 * which fails the waiting requests at once.  The wrapper can reach nothing
 * but process-wide state: this struct, set before the handlers are
 * installed and cleared after they are removed. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "fsx.h"

#define FS_NSIGNALS 3
static const int fs_signals[FS_NSIGNALS] = { SIGHUP, SIGINT, SIGTERM };
static struct fs_signal_ctx {
    volatile sig_atomic_t wfd;         /* pipe write end (non-blocking), -1 */
    struct sigaction old[FS_NSIGNALS]; /* libfuse's handlers */
    int wrapped[FS_NSIGNALS];          /* old[i] replaced by ours */
} fs_signal_state = { .wfd = -1 };

/* The wrapper handler (async-signal-safe): run libfuse's handler for sig,
 * then tell the watcher.  errno is preserved. */
static void sig_forward(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    int fd = fs_signal_state.wfd;

    for (int i = 0; i < FS_NSIGNALS; i++)
        if (fs_signals[i] == sig && fs_signal_state.wrapped[i])
            fs_signal_state.old[i].sa_handler(sig);
    if (fd >= 0 && write(fd, &c, 1) < 0) {
        /* pipe full: a signal is already pending for the watcher */
    }
    errno = saved;
}

/* Watcher thread: interrupt the core for every signal byte; a 0 byte (or
 * EOF) from sig_watch_stop ends it. */
static void *sig_watcher(void *arg)
{
    fsx_main *m = arg;
    unsigned char c;
    ssize_t r;

    for (;;) {
        r = read(m->sigpipe[0], &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || c == 0)
            break;
        fs_ctx_interrupt(m->ctx, c);
    }
    return NULL;
}

/* Wrap libfuse's handlers (installed just before) and start the watcher.
 * Signals libfuse left alone (ignored ones) stay alone.  0, or -1 with a
 * message in err (nothing is left changed).  See fsx.h. */
int fsx_sig_watch_start(fsx_main *m, char *err, size_t cb)
{
    struct sigaction sa;
    int rc;

    if (pipe2(m->sigpipe, O_CLOEXEC) < 0) {
        snprintf(err, cb, "pipe: %s; backup aborted", strerror(errno));
        return -1;
    }
    if (fcntl(m->sigpipe[1], F_SETFL, O_NONBLOCK) < 0) {
        snprintf(err, cb, "fcntl: %s; backup aborted", strerror(errno));
        goto fail;
    }
    rc = pthread_create(&m->sigthr, NULL, sig_watcher, m);
    if (rc) {
        snprintf(err, cb, "cannot start the signal thread: %s; backup aborted", strerror(rc));
        goto fail;
    }
    fs_signal_state.wfd = m->sigpipe[1];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sig_forward;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < FS_NSIGNALS; i++) {
        if (sigaction(fs_signals[i], NULL, &fs_signal_state.old[i]) < 0)
            continue;
        if (fs_signal_state.old[i].sa_handler == SIG_DFL ||
            fs_signal_state.old[i].sa_handler == SIG_IGN ||
            (fs_signal_state.old[i].sa_flags & SA_SIGINFO))
            continue;
        fs_signal_state.wrapped[i] = 1;
        if (sigaction(fs_signals[i], &sa, NULL) < 0)
            fs_signal_state.wrapped[i] = 0;
    }
    m->sig_watching = 1;
    return 0;
fail:
    close(m->sigpipe[0]);
    close(m->sigpipe[1]);
    return -1;
}

/* Put libfuse's handlers back (so that fuse_remove_signal_handlers
 * recognises them), stop the watcher, close the pipe.  See fsx.h. */
void fsx_sig_watch_stop(fsx_main *m)
{
    unsigned char zero = 0;

    if (!m->sig_watching)
        return;
    for (int i = 0; i < FS_NSIGNALS; i++)
        if (fs_signal_state.wrapped[i]) {
            (void)sigaction(fs_signals[i], &fs_signal_state.old[i], NULL);
            fs_signal_state.wrapped[i] = 0;
        }
    fs_signal_state.wfd = -1;
    (void)fcntl(m->sigpipe[1], F_SETFL, 0);
    while (write(m->sigpipe[1], &zero, 1) < 0 && errno == EINTR)
        ;
    pthread_join(m->sigthr, NULL);
    close(m->sigpipe[0]);
    close(m->sigpipe[1]);
    m->sig_watching = 0;
}
