/* spool.c -- see spool.h. */
#include "config.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "plat.h"
#include "spool.h"

/* See spool.h. */
int fs_spool_init(fs_spool *sp, const char *dir, uint64_t cap)
{
    memset(sp, 0, sizeof *sp);
    sp->cap = cap;
    if (strlen(dir) >= sizeof sp->dir)
        return -ENAMETOOLONG;
    strcpy(sp->dir, dir);
    return fs_sfile_dir_ok(dir);
}

/* See spool.h.  The cap check and the counter are not atomic; the single
 * spooler thread is the only writer.  The file is created on first use. */
int fs_spool_write(fs_spool *sp, uint64_t off, const void *buf, size_t n, bool cold)
{
    int rc;

    if (sp->cap && sp->written + n > sp->cap)
        return -ENOSPC;
    if (!sp->file) {
        rc = fs_sfile_create(sp->dir, &sp->file);
        if (rc < 0)
            return rc;
    }
    rc = fs_sfile_pwrite(sp->file, off, buf, n, cold);
    if (rc < 0)
        return rc;
    sp->written += n;
    return 0;
}

/* See spool.h. */
int fs_spool_read(fs_spool *sp, uint64_t off, void *buf, size_t n)
{
    if (!sp->file)
        return -EIO;
    return fs_sfile_pread(sp->file, off, buf, n);
}

/* See spool.h. */
void fs_spool_close(fs_spool *sp)
{
    fs_sfile_close(sp->file);
    sp->file = NULL;
}

/* See spool.h. */
int fs_window_init(fs_window *w, size_t size)
{
    memset(w, 0, sizeof *w);
    w->file = -1;
    if (!size)
        return 0;
    size = (size + 4095) & ~(size_t)4095; /* page-aligned slots for direct reads */
    w->buf = fs_aligned_alloc(4096, size);
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
    fs_aligned_free(w->buf);
    w->buf = NULL;
    w->size = 0;
}
