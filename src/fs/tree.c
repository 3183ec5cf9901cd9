/* tree.c -- see tree.h. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fs/tree.h"

/* See tree.h. */
fs_file *fs_file_new(const char *engine_path, enum fs_kind kind, int index, uint64_t ino)
{
    fs_file *f = calloc(1, sizeof *f);

    if (!f)
        return NULL;
    snprintf(f->engine_path, sizeof f->engine_path, "%s", engine_path);
    snprintf(f->name, sizeof f->name, "%s", fs_basename(engine_path));
    f->kind = kind;
    f->index = index;
    f->ino = ino;
    f->spooled_from = FS_NONE;
    f->fail_at = FS_NONE;
    return f;
}

/* See tree.h.  The SHA context is freed by its owner (fsops.c). */
void fs_file_free(fs_file *f)
{
    if (!f)
        return;
    free(f->dl);
    free(f);
}

/* See tree.h.  Merge [lo, hi) into the sorted disjoint range list and
 * update the delivered byte count.  In-order readers keep one range. */
int fs_file_deliver(fs_file *f, uint64_t lo, uint64_t hi)
{
    int i, j;

    if (lo >= hi)
        return 0;
    /* first range that ends at or after lo */
    for (i = 0; i < f->ndl && f->dl[i].hi < lo; i++)
        ;
    if (i == f->ndl || f->dl[i].lo > hi) {
        /* no overlap or adjacency: insert a new range at i */
        if (f->ndl == f->cap_dl) {
            int ncap = f->cap_dl ? f->cap_dl * 2 : 4;
            fs_range *n = realloc(f->dl, (size_t)ncap * sizeof *n);
            if (!n)
                return -ENOMEM;
            f->dl = n;
            f->cap_dl = ncap;
        }
        memmove(f->dl + i + 1, f->dl + i, (size_t)(f->ndl - i) * sizeof *f->dl);
        f->dl[i].lo = lo;
        f->dl[i].hi = hi;
        f->ndl++;
        f->delivered += hi - lo;
        return 0;
    }
    /* merge ranges i..j-1 that touch [lo, hi) */
    for (j = i; j < f->ndl && f->dl[j].lo <= hi; j++) {
        f->delivered -= f->dl[j].hi - f->dl[j].lo;
        if (f->dl[j].lo < lo)
            lo = f->dl[j].lo;
        if (f->dl[j].hi > hi)
            hi = f->dl[j].hi;
    }
    f->dl[i].lo = lo;
    f->dl[i].hi = hi;
    f->delivered += hi - lo;
    memmove(f->dl + i + 1, f->dl + j, (size_t)(f->ndl - j) * sizeof *f->dl);
    f->ndl -= j - i - 1;
    return 0;
}

/* See tree.h. */
const char *fs_basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* See tree.h. */
void fs_stat_fill(struct stat *st, uint64_t ino, int is_dir, uint64_t size, int nlink,
                  const struct timespec *t)
{
    memset(st, 0, sizeof *st);
    st->st_ino = (ino_t)ino;
    st->st_mode = is_dir ? (S_IFDIR | 0555) : (S_IFREG | 0444);
    st->st_nlink = (nlink_t)nlink;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_size = (off_t)size;
    st->st_blksize = FS_BLKSIZE;
    st->st_blocks = (blkcnt_t)((size + 511) / 512);
    st->st_atim = *t;
    st->st_mtim = *t;
    st->st_ctim = *t;
}

/* See tree.h. */
void fs_time_iso(const struct timespec *t, char *buf, size_t cb)
{
    struct tm tm;
    char s[64];
    time_t sec = t->tv_sec;

    gmtime_r(&sec, &tm);
    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cb, "%s.%09ldZ", s, (long)t->tv_nsec);
}
