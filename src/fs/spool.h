/*
 * spool.h -- where bytes pulled from the engine are kept.
 *
 * fs_spool: one file in the spool directory (plat.h's spool file: on Linux
 * O_TMPFILE, so nothing is left behind even after SIGKILL), created lazily on the first write so that a
 * mount whose readers never need it writes nothing.  Every engine file has
 * a fixed region (base offset assigned by the caller); regions are written
 * once and never rewritten, so readers may pread without a lock.  A cap
 * bounds the bytes written; going over it (or ENOSPC) fails the write.
 *
 * fs_window: a memory ring holding the last `size` bytes produced of the
 * file currently being produced (the stream policy's window for in-order
 * readers).
 *
 * Thread safety: fs_spool_write/fs_spool_read may run concurrently on
 * disjoint ranges; counters are read under the caller's lock.  fs_window
 * is protected by the caller's lock.
 */
#ifndef FS_SPOOL_H
#define FS_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fs_spool {
    char dir[1024];
    struct fs_sfile *file; /* NULL until the first write */
    uint64_t cap;          /* 0 = unlimited */
    uint64_t written;      /* bytes written so far */
} fs_spool;

/* Remember the directory and the cap; creates nothing yet.  0 or -errno
 * (the directory must exist and be a writable directory). */
int fs_spool_init(fs_spool *sp, const char *dir, uint64_t cap);
/* Write n bytes at off; cold as for fs_sfile_pwrite (not read back soon).
 * 0, -ENOSPC (cap reached or device full: nothing counted), or another
 * -errno. */
int fs_spool_write(fs_spool *sp, uint64_t off, const void *buf, size_t n, bool cold);
/* Read exactly n bytes at off (written earlier).  0 or -EIO. */
int fs_spool_read(fs_spool *sp, uint64_t off, void *buf, size_t n);
/* Close and remove the spool.  Idempotent. */
void fs_spool_close(fs_spool *sp);

typedef struct fs_window {
    unsigned char *buf;
    size_t size;
    uint64_t lo, hi; /* file offsets held: [lo, hi) */
    int file;        /* file index the window holds, -1 none */
} fs_window;

/* Allocate a window of size bytes (0 = no window).  0 or -ENOMEM. */
int fs_window_init(fs_window *w, size_t size);
/* Append bytes [off, off+n) of file `file` (off must equal hi unless the
 * file changes, which resets the window). */
void fs_window_put(fs_window *w, int file, uint64_t off, const void *p, size_t n);
/* Zero-copy append: the place in the ring where bytes [off, off+n) of
 * file will be written directly (by the engine read), or NULL when they
 * would not be contiguous and page-aligned there (then use fs_window_put).
 * Bytes the write will overwrite are dropped from the window first, so
 * readers (under the caller's lock) never see a half-written region.
 * Follow with fs_window_commit for the bytes actually written. */
unsigned char *fs_window_reserve(fs_window *w, int file, uint64_t off, size_t n);
void fs_window_commit(fs_window *w, int file, uint64_t off, size_t n);
/* Copy [off, off+n) of file out if the window holds all of it: 1, else 0. */
int fs_window_get(const fs_window *w, int file, uint64_t off, void *p, size_t n);
void fs_window_free(fs_window *w);

#endif
