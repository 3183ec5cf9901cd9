/* spool.c -- see spool.h. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "fs/spool.h"

/* See spool.h. */
int fs_spool_init(fs_spool *sp, const char *dir, uint64_t cap)
{
    struct stat st;

    memset(sp, 0, sizeof *sp);
    sp->fd = -1;
    sp->cap = cap;
    if (strlen(dir) >= sizeof sp->dir)
        return -ENAMETOOLONG;
    strcpy(sp->dir, dir);
    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (access(dir, W_OK | X_OK) < 0)
        return -errno;
    return 0;
}

/* See spool.h. */
int fs_spool_check(const char *dir, uint64_t need, char *why, size_t cb_why)
{
    char probe[1100];
    struct stat st;
    struct statvfs sv;
    uint64_t avail;
    int fd = -1, rc;

    if (stat(dir, &st) < 0) {
        rc = -errno;
        snprintf(why, cb_why, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        snprintf(why, cb_why, "not a directory");
        goto out;
    }
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        rc = snprintf(probe, sizeof probe, "%s/esebackupfs-probe.XXXXXX", dir);
        if (rc < 0 || (size_t)rc >= sizeof probe) {
            rc = -ENAMETOOLONG;
            snprintf(why, cb_why, "%s", strerror(ENAMETOOLONG));
            goto out;
        }
        fd = mkstemp(probe);
        if (fd >= 0 && unlink(probe) < 0) {
            rc = -errno;
            snprintf(why, cb_why, "cannot remove the probe file %s: %s", probe, strerror(errno));
            goto out;
        }
    }
    if (fd < 0) {
        rc = -errno;
        snprintf(why, cb_why, "cannot create a file there: %s", strerror(errno));
        goto out;
    }
    if (fstatvfs(fd, &sv) < 0) {
        rc = -errno;
        snprintf(why, cb_why, "statvfs: %s", strerror(errno));
        goto out;
    }
    avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (avail < need) {
        rc = -ENOSPC;
        snprintf(why, cb_why, "%" PRIu64 " bytes available, at least %" PRIu64 " needed",
                 avail, need);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Create the spool file on first use: O_TMPFILE, else mkstemp + unlink at
 * close.  0 or -errno. */
static int spool_create(fs_spool *sp)
{
    int fd;

    fd = open(sp->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        snprintf(sp->path, sizeof sp->path, "%s/esebackupfs-spool.XXXXXX", sp->dir);
        fd = mkstemp(sp->path);
        if (fd >= 0) {
            sp->created_named = 1;
            (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    if (fd < 0)
        return -errno;
    sp->fd = fd;
    return 0;
}

/* See spool.h.  The cap check and the counter are not atomic; the single
 * producer thread is the only writer. */
int fs_spool_write(fs_spool *sp, uint64_t off, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    size_t done = 0;
    int rc;

    if (sp->cap && sp->written + n > sp->cap)
        return -ENOSPC;
    if (sp->fd < 0) {
        rc = spool_create(sp);
        if (rc < 0)
            return rc;
    }
    while (done < n) {
        ssize_t w = pwrite(sp->fd, p + done, n - done, (off_t)(off + done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EDQUOT ? -ENOSPC : -errno;
        }
        done += (size_t)w;
    }
    sp->written += n;
    return 0;
}

/* See spool.h. */
int fs_spool_read(fs_spool *sp, uint64_t off, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;

    if (sp->fd < 0)
        return -EIO;
    while (done < n) {
        ssize_t r = pread(sp->fd, p + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        if (r == 0)
            return -EIO;
        done += (size_t)r;
    }
    return 0;
}

/* See spool.h. */
void fs_spool_close(fs_spool *sp)
{
    if (sp->fd >= 0) {
        close(sp->fd);
        sp->fd = -1;
    }
    if (sp->created_named) {
        unlink(sp->path);
        sp->created_named = 0;
    }
}

/* See spool.h. */
int fs_window_init(fs_window *w, size_t size)
{
    memset(w, 0, sizeof *w);
    w->file = -1;
    if (!size)
        return 0;
    size = (size + 4095) & ~(size_t)4095; /* page-aligned slots for direct reads */
    w->buf = aligned_alloc(4096, size);
    if (!w->buf)
        return -ENOMEM;
    w->size = size;
    return 0;
}

/* See spool.h.  Data older than size bytes falls out of the ring. */
void fs_window_put(fs_window *w, int file, uint64_t off, const void *p, size_t n)
{
    const unsigned char *src = p;

    if (!w->size)
        return;
    if (file != w->file || off != w->hi) {
        w->file = file;
        w->lo = w->hi = off;
    }
    if (n > w->size) {
        src += n - w->size;
        off += n - w->size;
        n = w->size;
        w->lo = w->hi = off;
    }
    for (size_t done = 0; done < n;) {
        size_t pos = (size_t)((off + done) % w->size);
        size_t k = w->size - pos;
        if (k > n - done)
            k = n - done;
        memcpy(w->buf + pos, src + done, k);
        done += k;
    }
    w->hi = off + n;
    if (w->hi - w->lo > w->size)
        w->lo = w->hi - w->size;
}

/* See spool.h. */
int fs_window_get(const fs_window *w, int file, uint64_t off, void *p, size_t n)
{
    unsigned char *dst = p;

    if (!w->size || file != w->file || off < w->lo || off + n > w->hi)
        return 0;
    for (size_t done = 0; done < n;) {
        size_t pos = (size_t)((off + done) % w->size);
        size_t k = w->size - pos;
        if (k > n - done)
            k = n - done;
        memcpy(dst + done, w->buf + pos, k);
        done += k;
    }
    return 1;
}

/* See spool.h.  The region is used only if it does not wrap and starts
 * on a page boundary (the engine wants page-aligned buffers). */
unsigned char *fs_window_reserve(fs_window *w, int file, uint64_t off, size_t n)
{
    size_t pos;

    if (!w->size || n > w->size)
        return NULL;
    pos = (size_t)(off % w->size);
    if (pos % 4096 != 0 || pos + n > w->size)
        return NULL;
    if (file != w->file || off != w->hi) {
        w->file = file;
        w->lo = w->hi = off;
    }
    if (off + n > w->size && w->lo < off + n - w->size)
        w->lo = off + n - w->size;
    if (w->lo > w->hi)
        w->lo = w->hi;
    return w->buf + pos;
}

/* See spool.h: bytes [off, off+n) are now in the reserved region. */
void fs_window_commit(fs_window *w, int file, uint64_t off, size_t n)
{
    if (!w->size || file != w->file || off != w->hi)
        return;
    w->hi = off + n;
}

/* See spool.h: free the ring; safe on an unused window. */
void fs_window_free(fs_window *w)
{
    free(w->buf);
    w->buf = NULL;
    w->size = 0;
}
