/* tree.c -- see tree.h. */
#include "config.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plat.h"
#include "tree.h"

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

/* See tree.h.  Frees an unfinished digest too. */
void fs_file_free(fs_file *f)
{
    if (!f)
        return;
    fs_sha256_free(f->sha);
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
    /* the Windows engines report C:\dir\name: '\' separates there too */
    if (fs_plat_windows()) {
        const char *b = strrchr(path, '\\');
        if (b && (!s || b > s))
            s = b;
    }
    return s ? s + 1 : path;
}

/* See tree.h. */
void fs_attr_fill(fs_attr *a, uint64_t ino, bool is_dir, uint64_t size, uint32_t nlink,
                  const fs_time *t)
{
    memset(a, 0, sizeof *a);
    a->ino = ino;
    a->is_dir = is_dir;
    a->mode = is_dir ? 0555 : 0444;
    a->nlink = nlink;
    a->size = size;
    a->blksize = FS_BLKSIZE;
    a->blocks = (size + 511) / 512;
    a->time = *t;
}

/* See tree.h. */
void fs_time_iso(const fs_time *t, char *buf, size_t cb)
{
    struct tm tm;
    char s[64];

    if (fs_time_utc(t, &tm) < 0 || !strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm)) {
        snprintf(buf, cb, "?");
        return;
    }
    snprintf(buf, cb, "%s.%09ldZ", s, (long)t->nsec);
}
