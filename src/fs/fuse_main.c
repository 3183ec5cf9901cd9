/*
 * fuse_main.c -- the thin libfuse adapter of esebackupfs: command line,
 * mount options, daemonizing with a readiness pipe, signals, readahead
 * tuning, and the fuse_operations that forward to the core (fsops.c).
 *
 *   esebackupfs [options] CONFIG MOUNTPOINT      mount = start the backup
 *   esebackupfs status MOUNTPOINT                progress (control.c)
 *   esebackupfs commit MOUNTPOINT                allow truncation
 *
 * The mount command returns only once the backup has begun and the
 * filesystem is mounted: the parent waits on a pipe for "OK" or for the
 * one-line error of the child (which names the Jet error); on error
 * nothing is left mounted and the exit status is 1.
 *
 * Platform specifics (Linux): /proc/self/mountinfo + /sys/class/bdi for
 * readahead, fork/setsid for daemonizing.  A WinFsp adapter would replace
 * this file only.
 */
#include "config.h"
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fuse.h>
#include <fuse_log.h>
#include "jetlib.h"
#include "fs/conf.h"
#include "fs/control.h"
#include "fs/fsops.h"
#include "fs/log.h"
#include "fs/spool.h"

#define PROG "esebackupfs"
/* How long a mount waits for the previous driver of its source to end
 * that backup after its umount (see fs_claim_take). */
#define FS_CLAIM_WAIT_S 30

/* Command-line state (one per process run). */
typedef struct fs_main {
    const char *config;
    const char *mountpoint;
    char realmnt[PATH_MAX];
    char realcfg[PATH_MAX];     /* absolute CONFIG (fsname; we chdir to /) */
    int foreground, debug, single;
    char fuse_opts[4096];       /* -o options passed through to libfuse */
    fs_config cfg;
    fs_ctx *ctx;
    int notify_fd;              /* readiness pipe to the parent, -1 */
    int sigpipe[2];             /* signal handler -> watcher thread */
    pthread_t sigthr;           /* the watcher (sig_watcher) */
    int sig_watching;           /* watcher running, handlers installed */
} fs_main;

/* ---- signals ----
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
#define FS_NSIGNALS 3
static const int fs_signals[FS_NSIGNALS] = { SIGHUP, SIGINT, SIGTERM };
static struct fs_signal_ctx {
    volatile sig_atomic_t wfd;                  /* pipe write end (non-blocking), -1 */
    struct sigaction old[FS_NSIGNALS];          /* libfuse's handlers */
    int wrapped[FS_NSIGNALS];                   /* old[i] replaced by ours */
} fs_signal_state = { .wfd = -1 };

/* ---- fuse_operations: forward to the core ---- */

static fs_ctx *op_ctx(void)
{
    return fuse_get_context()->private_data;
}

/* init: frozen attributes cached, no kernel read-ahead (every file is
 * direct I/O, see op_open), no async direct I/O, no splice/readdirplus. */
static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    /* fuse_new got the fs_main (the core did not exist yet); from here on
     * the private data of every operation is the core's context */
    fs_main *m = fuse_get_context()->private_data;
    fs_ctx *ctx = m->ctx;

    cfg->use_ino = 1;
    cfg->readdir_ino = 1;
    cfg->kernel_cache = 1;
    cfg->attr_timeout = 86400.0 * 365;
    cfg->entry_timeout = 86400.0 * 365;
    cfg->negative_timeout = 1.0;
    conn->max_readahead = 0;
    if (conn->max_background < 64)
        conn->max_background = 64;
    /* no async direct I/O: the parts of one large read(2) arrive one
     * after the other, in order (the stream window relies on it) */
    conn->want &= ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE |
                              FUSE_CAP_SPLICE_MOVE | FUSE_CAP_READDIRPLUS |
                              FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_ASYNC_DIO);
    return ctx;
}

/* destroy: the umount decision (idempotent; main() also calls it). */
static void op_destroy(void *private_data)
{
    (void)fs_ctx_finish(private_data);
}

/* getattr: frozen attributes; may block under logs/ (fs_op_getattr). */
static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    return fs_op_getattr(op_ctx(), path, st);
}

/* Adapter from the core's fill callback to libfuse's filler. */
typedef struct fill_arg {
    void *buf;
    fuse_fill_dir_t filler;
} fill_arg;

/* fs_fill_fn over libfuse's filler (offset 0: the whole listing). */
static int fill_adapter(void *p, const char *name, const struct stat *st)
{
    fill_arg *fa = p;
    return fa->filler(fa->buf, name, st, 0, 0);
}

/* readdir: the whole directory at once; logs/ blocks (fs_op_readdir). */
static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    fill_arg fa = { buf, filler };
    (void)off; (void)fi; (void)flags;
    return fs_op_readdir(op_ctx(), path, &fa, fill_adapter);
}

/* opendir: directories only, read-only. */
static int op_opendir(const char *path, struct fuse_file_info *fi)
{
    struct stat st;
    int rc = fs_op_getattr(op_ctx(), path, &st);

    if (rc < 0)
        return rc;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    return 0;
}

/* open: read-only, no flush, and always direct_io (FOPEN_DIRECT_IO): every
 * read(2) reaches fs_op_read as it is (no page cache, no kernel
 * read-ahead), so what the umount decision counts as delivered is what a
 * reader got, and no read is ever split between the page cache and the
 * driver (which returned short reads when the driver's part failed). */
static int op_open(const char *path, struct fuse_file_info *fi)
{
    fs_ctx *ctx = op_ctx();
    uint64_t fh = 0;
    int rc = fs_op_open(ctx, path, fi->flags, &fh);

    if (rc < 0)
        return rc;
    fi->fh = fh;
    fi->keep_cache = 0;
    fi->noflush = 1;
    fi->direct_io = 1;
    return 0;
}

/* read: exactly the bytes asked for up to EOF, or -EIO (fs_op_read). */
static int op_read(const char *path, char *buf, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
    (void)path;
    if (off < 0)
        return -EINVAL;
    return fs_op_read(op_ctx(), fi->fh, buf, size, (uint64_t)off);
}

/* release: nothing to free (handles are indexes). */
static int op_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    return fs_op_release(op_ctx(), fi->fh);
}

/* statfs: read-only totals (fs_op_statfs). */
static int op_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    return fs_op_statfs(op_ctx(), sv);
}

/* getxattr: ENODATA; listxattr: empty (D8). */
static int op_getxattr(const char *path, const char *name, char *value, size_t size)
{
    return fs_op_getxattr(op_ctx(), path, name, value, size);
}

static int op_listxattr(const char *path, char *list, size_t size)
{
    return fs_op_listxattr(op_ctx(), path, list, size);
}

/* ioctl: ENOTTY for everything (borg's FS_IOC_GETFLAGS). */
static int op_ioctl(const char *path, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                    unsigned int flags, void *data)
{
    (void)arg; (void)fi; (void)flags; (void)data;
    return fs_op_ioctl(op_ctx(), path, cmd);
}

/* access: -EROFS for W_OK, else 0 for existing names. */
static int op_access(const char *path, int mask)
{
    struct stat st;
    int rc = fs_op_getattr(op_ctx(), path, &st);

    if (rc < 0)
        return rc;
    return (mask & W_OK) ? -EROFS : 0;
}

/* Every write path: EROFS (one-line forwarders). */
static int op_mknod(const char *p, mode_t m, dev_t d) { (void)p; (void)m; (void)d; return fs_op_rofs(); }
static int op_mkdir(const char *p, mode_t m) { (void)p; (void)m; return fs_op_rofs(); }
static int op_unlink(const char *p) { (void)p; return fs_op_rofs(); }
static int op_rmdir(const char *p) { (void)p; return fs_op_rofs(); }
static int op_symlink(const char *a, const char *b) { (void)a; (void)b; return fs_op_rofs(); }
static int op_rename(const char *a, const char *b, unsigned int f) { (void)a; (void)b; (void)f; return fs_op_rofs(); }
static int op_link(const char *a, const char *b) { (void)a; (void)b; return fs_op_rofs(); }
static int op_chmod(const char *p, mode_t m, struct fuse_file_info *fi) { (void)p; (void)m; (void)fi; return fs_op_rofs(); }
static int op_chown(const char *p, uid_t u, gid_t g, struct fuse_file_info *fi) { (void)p; (void)u; (void)g; (void)fi; return fs_op_rofs(); }
static int op_truncate(const char *p, off_t o, struct fuse_file_info *fi) { (void)p; (void)o; (void)fi; return fs_op_rofs(); }
static int op_write(const char *p, const char *b, size_t s, off_t o, struct fuse_file_info *fi) { (void)p; (void)b; (void)s; (void)o; (void)fi; return fs_op_rofs(); }
static int op_setxattr(const char *p, const char *n, const char *v, size_t s, int f) { (void)p; (void)n; (void)v; (void)s; (void)f; return fs_op_rofs(); }
static int op_removexattr(const char *p, const char *n) { (void)p; (void)n; return fs_op_rofs(); }
static int op_create(const char *p, mode_t m, struct fuse_file_info *fi) { (void)p; (void)m; (void)fi; return fs_op_rofs(); }
static int op_utimens(const char *p, const struct timespec tv[2], struct fuse_file_info *fi) { (void)p; (void)tv; (void)fi; return fs_op_rofs(); }
static int op_fallocate(const char *p, int m, off_t o, off_t l, struct fuse_file_info *fi) { (void)p; (void)m; (void)o; (void)l; (void)fi; return fs_op_rofs(); }

static const struct fuse_operations fs_fuse_ops = {
    .init = op_init,
    .destroy = op_destroy,
    .getattr = op_getattr,
    .readdir = op_readdir,
    .opendir = op_opendir,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .ioctl = op_ioctl,
    .access = op_access,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .truncate = op_truncate,
    .write = op_write,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
    .create = op_create,
    .utimens = op_utimens,
    .fallocate = op_fallocate,
};

/* ---- command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
        "usage: " PROG " [options] CONFIG MOUNTPOINT   mount: start a live backup\n"
        "       " PROG " status MOUNTPOINT             progress, errors, umount decision\n"
        "       " PROG " commit MOUNTPOINT             allow log truncation (truncate = commit)\n"
        "\n"
        "Mounting starts an external backup of the Jet instance that CONFIG (an INI\n"
        "file, see esebackupfs.ini(5)) names; umount ends it and, if CONFIG says so,\n"
        "truncates the logs.\n"
        "\n"
        "options:\n"
        "  -f            stay in the foreground, log to stderr\n"
        "  -d            foreground with libfuse debug output\n"
        "  -s            single-threaded FUSE loop\n"
        "  -o OPT[,OPT]  mount options (allow_other, max_threads... ; ro, nodev, nosuid,\n"
        "                default_permissions are always set; dev, suid, rw are ignored)\n"
        "  -h, --help    this text\n"
        "  -V, --version version\n");
}

/* Append one -o option (escaping commas) unless it is one we drop. */
static int add_opt(fs_main *m, const char *opt)
{
    static const char *const drop[] = { "rw", "ro", "dev", "suid", "nodev", "nosuid", "defaults",
                                        "_netdev", "nofail", "auto", "noauto", "user", "nouser",
                                        "users", "exec", "noexec", "auto_unmount", NULL };
    size_t n = strlen(m->fuse_opts);

    for (int i = 0; drop[i]; i++)
        if (!strcmp(opt, drop[i]))
            return 0;
    if (!strncmp(opt, "x-", 2) || !opt[0])
        return 0;
    if (!strcmp(opt, "allow_other")) {
        m->cfg.allow_other = 1;
        return 0;
    }
    if (n + strlen(opt) + 2 >= sizeof m->fuse_opts)
        return -1;
    if (n)
        m->fuse_opts[n++] = ',';
    strcpy(m->fuse_opts + n, opt);
    return 0;
}

/* Split a -o argument. */
static int add_opts(fs_main *m, const char *list)
{
    char buf[4096], *save = NULL;

    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (add_opt(m, t) < 0)
            return -1;
    return 0;
}

/* Parse argv into m (options may follow the positionals, as mount.fuse3
 * passes them).  0, 1 = done (help/version), -1 = usage error. */
static int parse_args(fs_main *m, int argc, char **argv, char *saved_opts, size_t cb)
{
    saved_opts[0] = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf(PROG " %s (libfuse %d.%d)\n", PACKAGE_VERSION, fuse_version() / 100,
                   fuse_version() % 100);
            return 1;
        }
        if (!strcmp(a, "-f")) {
            m->foreground = 1;
        } else if (!strcmp(a, "-d")) {
            m->foreground = m->debug = 1;
        } else if (!strcmp(a, "-s")) {
            m->single = 1;
        } else if (!strncmp(a, "-o", 2)) {
            const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, PROG ": -o needs an argument\n");
                return -1;
            }
            if (strlen(saved_opts) + strlen(v) + 2 >= cb) {
                fprintf(stderr, PROG ": -o options too long\n");
                return -1;
            }
            if (saved_opts[0])
                strcat(saved_opts, ",");
            strcat(saved_opts, v);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", a);
            return -1;
        } else if (!m->config) {
            m->config = a;
        } else if (!m->mountpoint) {
            m->mountpoint = a;
        } else {
            fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (!m->config || !m->mountpoint) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- readahead ---- */

/* Find our mount's "maj:min" in /proc/self/mountinfo and set the bdi's
 * read_ahead_kb (fuse-notes b.5): 0, so that no read-ahead can fetch
 * bytes no reader asked for even on a page-cache path (every file is
 * direct I/O already; this is the second lock on the same door).
 * Reads no file on the mount itself (that would wait on ourselves). */
static void tune_readahead(const fs_main *m, unsigned kb)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096], dev[32] = "", path[256];
    int found = 0;

    if (!f) {
        fs_log(LOG_WARNING, "readahead: /proc/self/mountinfo: %s", strerror(errno));
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char mnt[PATH_MAX], majmin[32];
        unsigned id, parent;
        if (sscanf(line, "%u %u %31s %*s %4095s", &id, &parent, majmin, mnt) != 4)
            continue;
        /* mountinfo escapes spaces etc. as \040; compare escaped forms */
        char esc[PATH_MAX * 4];
        size_t k = 0;
        for (const char *s = m->realmnt; *s && k + 5 < sizeof esc; s++) {
            if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
                k += (size_t)snprintf(esc + k, sizeof esc - k, "\\%03o", (unsigned char)*s);
            else
                esc[k++] = *s;
        }
        esc[k] = 0;
        if (!strcmp(mnt, esc) && strstr(line, " - fuse." PROG " ")) {
            snprintf(dev, sizeof dev, "%s", majmin);
            found = 1;
        }
    }
    fclose(f);
    if (!found) {
        fs_log(LOG_WARNING, "readahead: mount not found in /proc/self/mountinfo");
        return;
    }
    snprintf(path, sizeof path, "/sys/class/bdi/%s/read_ahead_kb", dev);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%u\n", kb) < 0 || fclose(f) != 0) {
        fs_log(LOG_WARNING, "readahead: cannot write %s: %s", path,
               strerror(errno));
        return;
    }
    fs_log(LOG_DEBUG, "readahead: %s = %u", path, kb);
}

/* ---- running the mount ---- */

/* Report readiness or failure to the waiting parent (or stderr). */
static void notify(fs_main *m, const char *msg)
{
    if (m->notify_fd < 0) {
        if (strcmp(msg, "OK"))
            fprintf(stderr, PROG ": %s\n", msg);
        return;
    }
    if (dprintf(m->notify_fd, "%s\n", msg) < 0)
        fs_log(LOG_WARNING, "cannot notify the parent: %s", strerror(errno));
    close(m->notify_fd);
    m->notify_fd = -1;
}

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
    fs_main *m = arg;
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
 * message in err (nothing is left changed). */
static int sig_watch_start(fs_main *m, char *err, size_t cb)
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
 * recognises them), stop the watcher, close the pipe. */
static void sig_watch_stop(fs_main *m)
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

/* libfuse's messages.  Until the mount is ready (capturing), errors are
 * kept, not printed, so that a failed mount says one line that includes
 * them; everything else, and everything later, goes to our log.  libfuse
 * writes a line in several calls, so pieces are joined up to the newline.
 * Its log callback has no user pointer: process-wide state, this struct
 * (mu guards it; libfuse logs from its worker threads). */
static struct fs_fuse_log_ctx {
    pthread_mutex_t mu;
    int capturing;
    char cur[512];              /* line being assembled */
    char last[512];             /* last error line while capturing */
} fs_fuse_log_state = { .mu = PTHREAD_MUTEX_INITIALIZER };

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
                fs_log((int)level, "%s", st->cur);
        }
        if (nl)
            memmove(st->cur, nl + 1, strlen(nl + 1) + 1);
        else
            st->cur[0] = 0;
    }
    pthread_mutex_unlock(&st->mu);
}

/* "MSG: <libfuse's last error>" or "MSG" into buf. */
static void with_fuse_error(char *buf, size_t cb, const char *msg)
{
    if (fs_fuse_log_state.last[0])
        snprintf(buf, cb, "%s (%s)", msg, fs_fuse_log_state.last);
    else
        snprintf(buf, cb, "%s", msg);
}

/* Control-channel handler. */
static int control_handler(void *arg, const char *cmd, char *buf, size_t cb)
{
    fs_main *m = arg;

    if (!strcmp(cmd, "commit"))
        return fs_commit(m->ctx, buf, cb);
    return fs_status(m->ctx, buf, cb);
}

/* Begin the backup, mount, serve until unmounted, decide.  Returns the
 * process exit status. */
static int run(fs_main *m)
{
    char err[1024] = "", opts[8192], fsname[PATH_MAX * 2];
    bkc_source be = { NULL, NULL };
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse *f = NULL;
    fs_control *ctl = NULL;
    fs_claim *claim = NULL;
    char source[sizeof m->cfg.endpoint + sizeof m->cfg.system_path + sizeof m->cfg.log_path + 32];
    int rc, mounted = 0, status = 1, sig_set = 0;
    size_t k = 0;

    /* mount options first: a bad -o option starts nothing */
    fs_fuse_log_state.capturing = 1;
    fuse_set_log_func(fuse_log_capture);
    /* fsname = the config's absolute path, commas escaped for fuse_opt */
    for (const char *s = m->realcfg; *s && k + 3 < sizeof fsname; s++) {
        if (*s == ',' || *s == '\\')
            fsname[k++] = '\\';
        fsname[k++] = *s;
    }
    fsname[k] = 0;
    snprintf(opts, sizeof opts, "ro,nodev,nosuid,default_permissions,fsname=%.4000s,subtype=" PROG
             "%s%s%s", fsname, m->cfg.allow_other ? ",allow_other" : "",
             m->fuse_opts[0] ? "," : "", m->fuse_opts);
    if (fuse_opt_add_arg(&args, PROG) || fuse_opt_add_arg(&args, "-o") ||
        fuse_opt_add_arg(&args, opts) || (m->debug && fuse_opt_add_arg(&args, "-d"))) {
        notify(m, "out of memory");
        goto out;
    }
    f = fuse_new(&args, &fs_fuse_ops, sizeof fs_fuse_ops, m);
    if (!f) {
        with_fuse_error(err, sizeof err, "bad mount options; no backup started");
        notify(m, err);
        goto out;
    }
    /* one driver per source at a time: wait here (bounded) while the
     * driver of a just unmounted mount of it is still ending its backup */
    if (m->cfg.endpoint[0])
        snprintf(source, sizeof source, "endpoint %s", m->cfg.endpoint);
    else
        snprintf(source, sizeof source, "instance %s %s", m->cfg.system_path, m->cfg.log_path);
    rc = fs_claim_take(source, FS_CLAIM_WAIT_S, &claim, err, sizeof err);
    if (rc < 0) {
        notify(m, err);
        goto out;
    }
    rc = fs_source_open(&m->cfg, &be, err, sizeof err);
    if (rc < 0) {
        notify(m, err);
        goto out;
    }
    if (fs_ctx_new(&m->cfg, &be, &m->ctx) < 0) {
        (void)bkc_close(&be);
        notify(m, "out of memory");
        goto out;
    }
    rc = fs_ctx_start(m->ctx, err, sizeof err);
    if (rc < 0) {
        notify(m, err);
        goto out;
    }
    if (fuse_mount(f, m->realmnt) != 0) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot mount on %s; backup aborted", m->realmnt);
        with_fuse_error(err, sizeof err, what);
        notify(m, err);
        goto out;
    }
    mounted = 1;
    rc = fs_claim_mounted(claim, m->realmnt);
    if (rc < 0)
        fs_log(LOG_WARNING, "cannot record the mount point in the claim: %s", strerror(-rc));
    if (fuse_set_signal_handlers(fuse_get_session(f)) != 0) {
        notify(m, "cannot install signal handlers; backup aborted");
        goto out;
    }
    sig_set = 1;
    if (sig_watch_start(m, err, sizeof err) < 0) {
        notify(m, err);
        goto out;
    }
    rc = fs_control_start(m->realmnt, control_handler, m, &ctl, err, sizeof err);
    if (rc < 0) {
        notify(m, err);
        goto out;
    }
    tune_readahead(m, 0);
    fs_log(LOG_NOTICE, "mounted %s on %s", m->config, m->realmnt);
    pthread_mutex_lock(&fs_fuse_log_state.mu);
    fs_fuse_log_state.capturing = 0;
    pthread_mutex_unlock(&fs_fuse_log_state.mu);
    notify(m, "OK");
    if (!m->foreground) {
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0) {
            (void)dup2(nul, 0);
            (void)dup2(nul, 1);
            (void)dup2(nul, 2);
            if (nul > 2)
                close(nul);
        }
    }
    if (m->single) {
        rc = fuse_loop(f);
    } else {
        struct fuse_loop_config lc;
        memset(&lc, 0, sizeof lc);
        lc.clone_fd = 0;
        lc.max_idle_threads = 10;
        rc = fuse_loop_mt(f, &lc);
    }
    if (rc > 0)
        fs_log(LOG_NOTICE, "signal %d: unmounting", rc);
    else if (rc < 0)
        fs_log(LOG_ERR, "FUSE loop failed: %s", strerror(-rc));
    status = 0;
out:
    sig_watch_stop(m);
    if (sig_set)
        fuse_remove_signal_handlers(fuse_get_session(f));
    if (mounted)
        fuse_unmount(f);
    if (m->ctx)
        (void)fs_ctx_finish(m->ctx);
    fs_control_stop(ctl);
    if (f)
        fuse_destroy(f);
    fuse_opt_free_args(&args);
    fs_ctx_free(m->ctx);
    m->ctx = NULL;
    /* the backup has ended and the engine is closed: a waiting mount of
     * the same source may begin now */
    fs_claim_release(claim);
    return status;
}

/* The spool checks that need no host, run before anything else (no
 * connection to an endpoint, no JetInit, no backup begun): the spool
 * directory exists, is a directory, the mounting uid can create a file in
 * it on a writable filesystem, and it has room for one engine read -- and,
 * for an in-process source with policy = keep (every byte is spooled), for
 * the databases' current size, which must also fit the cap (the logs and
 * the growth while mounted come on top and are only known after the backup
 * began; running out then fails the backup: EIO, Abort, no truncation).
 * 0, or -1 with "FILE:LINE: ..." in err. */
static int spool_precheck(const fs_config *cfg, char *err, size_t cb)
{
    char why[512], where[FS_CONF_PATH + 64];
    uint64_t need = cfg->read_size, dbs = 0;
    int rc;

    if (!cfg->endpoint[0] && cfg->policy == FS_SPOOL_KEEP) {
        for (int i = 0; i < cfg->ndatabases; i++) {
            struct stat st;
            /* a missing database is the engine's to report (JetInit) */
            if (stat(cfg->databases[i], &st) == 0 && S_ISREG(st.st_mode))
                dbs += (uint64_t)st.st_size;
        }
        if (dbs > need)
            need = dbs;
    }
    /* keep spools every byte it pulls: a cap below the databases alone
     * fails for sure */
    if (cfg->spool_cap && dbs > cfg->spool_cap) {
        snprintf(err, cb, "%s:%d: cap %" PRIu64 " is less than the databases' %" PRIu64
                 " bytes, which policy = keep spools; no backup begun", cfg->file,
                 cfg->spool_cap_line, cfg->spool_cap, dbs);
        return -1;
    }
    rc = fs_spool_check(cfg->spool_dir, need, why, sizeof why);
    if (rc == 0)
        return 0;
    if (cfg->spool_dir_line)
        snprintf(where, sizeof where, "%s:%d", cfg->file, cfg->spool_dir_line);
    else
        snprintf(where, sizeof where, "%s:1: (no [spool] directory, default)", cfg->file);
    if (rc == -ENOSPC && need > cfg->read_size)
        snprintf(err, cb, "%s: spool directory %s: %s (policy = keep spools the databases, %" PRIu64
                 " bytes); no backup begun", where, cfg->spool_dir, why, dbs);
    else
        snprintf(err, cb, "%s: spool directory %s: %s; no backup begun", where, cfg->spool_dir,
                 why);
    return -1;
}

/* The in-process source checks that need no engine, run before JetInit
 * (which would create a new log set in a wrong directory before failing
 * to attach a missing database): system_path and log_path are
 * directories, every database is an existing regular file.  0, or -1 with
 * "FILE:LINE: ..." in err. */
static int source_precheck(const fs_config *cfg, char *err, size_t cb)
{
    const struct {
        const char *key, *path;
        int line;
    } dirs[] = { { "system_path", cfg->system_path, cfg->system_path_line },
                 { "log_path", cfg->log_path, cfg->log_path_line } };
    struct stat st;
    int r;

    if (cfg->endpoint[0])
        return 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        r = stat(dirs[i].path, &st);
        if (r < 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, cb, "%s:%d: %s %s: %s; no backup begun", cfg->file, dirs[i].line,
                     dirs[i].key, dirs[i].path, r < 0 ? strerror(errno) : "not a directory");
            return -1;
        }
    }
    for (int i = 0; i < cfg->ndatabases; i++) {
        r = stat(cfg->databases[i], &st);
        if (r < 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, cb, "%s:%d: database %s: %s; no backup begun", cfg->file,
                     cfg->databases_line, cfg->databases[i],
                     r < 0 ? strerror(errno) : "not a regular file");
            return -1;
        }
    }
    return 0;
}

/* Parent side of daemonizing: wait for "OK" or an error line. */
static int wait_child(int fd, pid_t pid)
{
    char buf[2048];
    size_t n = 0;
    ssize_t r;
    int st;

    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = 0;
    close(fd);
    if (!strcmp(buf, "OK\n"))
        return 0;
    if (n) {
        fprintf(stderr, PROG ": %s", buf);
        if (buf[n - 1] != '\n')
            fputc('\n', stderr);
    } else {
        fprintf(stderr, PROG ": the driver died before the mount was ready\n");
    }
    (void)waitpid(pid, &st, 0);
    return 1;
}

/* esebackupfs [options] CONFIG MOUNTPOINT | status|commit MOUNTPOINT.
 * Exit status: 0 mounted / done, 1 refused or failed, 2 (status, commit)
 * the mount cannot be reached. */
int main(int argc, char **argv)
{
    fs_main m;
    char err[4096], saved[4096];
    struct stat st;
    int rc, pfd[2];
    pid_t pid;

    memset(&m, 0, sizeof m);
    m.notify_fd = -1;
    if (argc == 3 && (!strcmp(argv[1], "status") || !strcmp(argv[1], "commit")))
        return fs_control_client(PROG, argv[2], argv[1]);
    rc = parse_args(&m, argc, argv, saved, sizeof saved);
    if (rc)
        return rc > 0 ? 0 : 1;
    if (fs_conf_load(m.config, &m.cfg, err, sizeof err) < 0 ||
        source_precheck(&m.cfg, err, sizeof err) < 0 ||
        spool_precheck(&m.cfg, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    if (!realpath(m.config, m.realcfg)) {
        fprintf(stderr, PROG ": %s: %s\n", m.config, strerror(errno));
        return 1;
    }
    if (saved[0] && add_opts(&m, saved) < 0) {
        fprintf(stderr, PROG ": -o options too long\n");
        return 1;
    }
    if (!realpath(m.mountpoint, m.realmnt) || stat(m.realmnt, &st) < 0) {
        fprintf(stderr, PROG ": mount point %s: %s\n", m.mountpoint, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, PROG ": mount point %s: not a directory\n", m.mountpoint);
        return 1;
    }
    /* the control socket is named after the mount point: a second mount
     * on top would take it over, so it is refused before anything starts */
    if (fs_control_is_mounted(m.realmnt) == 1) {
        fprintf(stderr, PROG ": mount point %s is already an esebackupfs mount; refusing to "
                "mount on top of it\n", m.mountpoint);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (m.foreground) {
        fs_log_setup(PROG, 0, !m.debug);
        return run(&m);
    }
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
        return 1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
        return 1;
    }
    if (pid > 0) {
        close(pfd[1]);
        return wait_child(pfd[0], pid);
    }
    close(pfd[0]);
    m.notify_fd = pfd[1];
    if (setsid() < 0 || chdir("/") < 0) {
        notify(&m, "cannot detach (setsid/chdir)");
        _exit(1);
    }
    fs_log_setup(PROG, 1, 0);
    exit(run(&m));
}
