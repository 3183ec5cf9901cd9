/*
 * util.c -- jetutil helpers: error messages, number parsing, directory and
 * file utilities, clock, PRNG.  No global state.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkformat.h"
#include "jetutil.h"

/* One line `jetutil CMD: WHAT: JET_errName (code)` on stderr. */
void ju_jet_error(const char *cmd, const char *what, JET_ERR err)
{
    fprintf(stderr, "jetutil %s: %s: %s (%ld)\n", cmd, what, JetLibErrorName(err), (long)err);
}

/* One line `jetutil CMD: message` on stderr. */
void ju_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "jetutil %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Strict unsigned decimal in [lo, hi]; prints a usage error on failure. */
int ju_parse_ulong(const char *cmd, const char *opt, const char *val, unsigned long lo,
                   unsigned long hi, unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    if (!val || !*val || val[0] == '-' || val[0] == '+')
        goto bad;
    errno = 0;
    v = strtoul(val, &end, 10);
    if (errno || *end || v < lo || v > hi)
        goto bad;
    *out = v;
    return 0;
bad:
    ju_error(cmd, "%s: '%s' is not a number in %lu..%lu", opt, val ? val : "", lo, hi);
    return -1;
}

/* realpath(dir) + '/'; -1 with errno if it does not resolve or is too long. */
int ju_absdir(const char *dir, char *out, size_t cb)
{
    char *r = realpath(dir, NULL);
    size_t n;

    if (!r)
        return -1;
    n = strlen(r);
    if (n + 2 > cb) {
        free(r);
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(out, r, n);
    if (n == 0 || out[n - 1] != '/')
        out[n++] = '/';
    out[n] = '\0';
    free(r);
    return 0;
}

/* 0 if path is absent (*existed=false) or an empty directory (true). */
int ju_dir_absent_or_empty(const char *path, bool *existed)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) < 0) {
        if (errno != ENOENT)
            return -1;
        *existed = false;
        return 0;
    }
    *existed = true;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            errno = ENOTEMPTY;
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

/* Recursive removal without following symlinks; -1 on the first failure. */
int ju_rm_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    d = opendir(path);
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char sub[JU_PATH];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) {
            errno = ENAMETOOLONG;
            rc = -1;
            break;
        }
        if (ju_rm_tree(sub) < 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc == 0)
        rc = rmdir(path);
    return rc;
}

/* Copy src to dst with fsync; dst must not exist unless overwrite. */
int ju_copy_file(const char *src, const char *dst, bool overwrite)
{
    int in = -1, out = -1, rc = -1, saved = 0;
    mode_t kind = 0;
    static const size_t cb = 1 << 20;
    char *buf = malloc(cb);

    if (!buf)
        goto out;
    in = ju_open_regular(src, O_RDONLY, 0, &kind);
    if (in < 0)
        goto out;
    out = ju_open_regular(dst, O_WRONLY | O_CREAT | (overwrite ? O_TRUNC : O_EXCL), 0644, &kind);
    if (out < 0)
        goto out;
    for (;;) {
        ssize_t n = read(in, buf, cb);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                goto out;
            }
            off += w;
        }
    }
    if (fsync(out) < 0)
        goto out;
    rc = 0;
out:
    saved = errno;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    free(buf);
    errno = saved;
    return rc;
}

/* See jetutil.h. */
const char *ju_file_kind(mode_t mode)
{
    return bkf_file_kind((unsigned)mode);
}

/* See jetutil.h. */
int ju_open_regular(const char *path, int flags, mode_t mode, mode_t *pmode)
{
    unsigned m = 0;
    int fd = bkf_open_regular(path, flags, (unsigned)mode, &m);

    *pmode = (mode_t)m;
    return fd;
}

/* See jetutil.h. */
FILE *ju_fopen_read(const char *path, mode_t *pmode)
{
    unsigned m = 0;
    FILE *f = bkf_fopen_read(path, &m);

    *pmode = (mode_t)m;
    return f;
}

/* See jetutil.h. */
void ju_open_error(const char *cmd, const char *path, mode_t mode, const char *hint)
{
    if (mode)
        ju_error(cmd, "%s: %s, not a regular file%s%s%s", path, ju_file_kind(mode),
                 hint ? " (" : "", hint ? hint : "", hint ? ")" : "");
    else
        ju_error(cmd, "%s: %s%s%s%s", path, strerror(errno), hint ? " (" : "", hint ? hint : "",
                 hint ? ")" : "");
}

/* True when name is one of the files an instance with log base `base`
 * opens: jetutil.conf, bank.edb, BASE.chk/.jcp/.jlk, BASE*.log/.jtx. */
static bool instance_file_name(const char *name, const char *base)
{
    size_t n = strlen(name), nb = strlen(base);
    const char *ext;

    if (!strcmp(name, JU_SETTINGS) || !strcmp(name, JU_DBNAME))
        return true;
    if (n < nb + 4 || strncasecmp(name, base, nb) != 0)
        return false;
    ext = name + n - 4;
    if (!strcasecmp(ext, ".log") || !strcasecmp(ext, ".jtx"))
        return true;
    return n == nb + 4 &&
           (!strcasecmp(ext, ".chk") || !strcasecmp(ext, ".jcp") || !strcasecmp(ext, ".jlk"));
}

/* See jetutil.h. */
int ju_check_instance_files(const char *cmd, const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return 0; /* the engine reports a missing or unreadable directory */
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char path[JU_PATH + 512], what[JU_PATH + 600];
        struct stat st;

        if (!instance_file_name(e->d_name, base))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        /* stat follows a symlink to its target (which is what the engine
         * opens); neither lstat nor stat blocks on a FIFO */
        if (lstat(path, &st) < 0)
            continue;
        if (S_ISLNK(st.st_mode) && stat(path, &st) < 0)
            continue;
        if (S_ISREG(st.st_mode))
            continue;
        snprintf(what, sizeof what, "%s (%s, not a regular file)", path, ju_file_kind(st.st_mode));
        ju_jet_error(cmd, what, JET_errFileInvalidType);
        rc = -1;
    }
    closedir(d);
    return rc;
}

/* fsync(dir). */
int ju_fsync_dir(const char *dir)
{
    return bkf_fsync_dir(dir);
}

/* See jetutil.h. */
int ju_flush_behind(ju_flush *fl, int fd, uint64_t written)
{
#ifdef HAVE_SYNC_FILE_RANGE
    if (fl->off || written - fl->started < JU_FLUSH_CHUNK)
        return 0;
    if (sync_file_range(fd, (off_t)fl->started, (off_t)(written - fl->started),
                        SYNC_FILE_RANGE_WRITE) < 0)
        goto fail;
    if (fl->started > fl->waited &&
        sync_file_range(fd, (off_t)fl->waited, (off_t)(fl->started - fl->waited),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                            SYNC_FILE_RANGE_WAIT_AFTER) < 0)
        goto fail;
    fl->waited = fl->started;
    fl->started = written;
    return 0;
fail:
    if (errno == EINVAL || errno == ESPIPE || errno == ENOSYS || errno == EOPNOTSUPP) {
        fl->off = true; /* not here: the final fsync does it all */
        return 0;
    }
    return -1;
#else
    (void)fd;
    (void)written;
    fl->off = true;
    return 0;
#endif
}

/* CLOCK_MONOTONIC in seconds. */
double ju_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*; state must be non-zero. */
uint64_t ju_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* Remove every entry of dir (recursively), keep dir. */
int ju_rm_contents(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        char sub[JU_PATH];
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub ||
            ju_rm_tree(sub) < 0) {
            rc = -1;
            break;
        }
    }
    closedir(d);
    return rc;
}

/* ju_kv_next -- see jetutil.h (bkf_kv_next, with the message printed). */
int ju_kv_next(FILE *f, const char *cmd, const char *path, int *lineno, char *line, size_t cbline,
               char **key, char **val)
{
    char msg[512];
    unsigned n = (unsigned)*lineno;
    int k = bkf_kv_next(f, path, &n, line, cbline, key, val, msg, sizeof msg);

    *lineno = (int)n;
    if (k < 0)
        ju_error(cmd, "%s", msg);
    return k;
}
