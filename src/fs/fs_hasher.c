/*
 * fs_hasher.c -- the hasher thread: SHA-256 and spool writes beside the
 * producer (it hashes chunk N from the window while the producer pulls
 * chunk N+1); see fs_int.h (THE PIPELINE, lock notes).
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "plat.h"
#include "spool.h"
#include "tree.h"
#include "fs_int.h"

/* One run of produced, unhashed bytes of a file: where it is in the
 * window, how long, and whether it goes to the spool. */
typedef struct hrun {
    const unsigned char *p;
    size_t n;
    bool spool;
} hrun;

/* See fs_int.h. */
bool fs_spools(const fs_ctx *ctx, const fs_file *f, uint64_t off)
{
    if (ctx->cfg.policy == FS_SPOOL_KEEP)
        return true;
    return f->spooled_from != FS_NONE && off >= f->spooled_from;
}

/* See fs_int.h. */
bool fs_window_busy(const fs_ctx *ctx, const fs_file *f)
{
    const fs_window *w = &ctx->win;
    const fs_file *prev;

    if (w->file < 0 || w->file == f->index)
        return false;
    prev = ctx->files[w->file];
    return prev->hashed < prev->size;
}

/* See fs_int.h. */
bool fs_window_room(const fs_ctx *ctx, const fs_file *f)
{
    const fs_window *w = &ctx->win;

    if (w->file >= 0 && w->file != f->index)
        return true; /* f's first chunk waits in ctx->buf if need be */
    return f->produced + ctx->cfg.read_size <= f->hashed + w->size;
}

/* The next run of f to hash: from f->hashed, contiguous in the window, at
 * most read_size, not across the offset where spooling starts.  0, or
 * -EPROTO when the window does not hold the bytes (a bug: the producer
 * must not drop unhashed bytes).  f->hashed < f->produced.  ctx->mu held. */
static int next_run(const fs_ctx *ctx, const fs_file *f, hrun *r)
{
    const fs_window *w = &ctx->win;
    uint64_t off = f->hashed, n = f->produced - off;
    size_t pos;

    if (w->file != f->index || off < w->lo || f->produced > w->hi)
        return -EPROTO;
    pos = (size_t)(off % w->size);
    if (n > w->size - pos)
        n = w->size - pos;
    if (n > ctx->cfg.read_size)
        n = ctx->cfg.read_size;
    r->spool = fs_spools(ctx, f, off);
    if (!r->spool && f->spooled_from != FS_NONE && f->spooled_from - off < n)
        n = f->spooled_from - off;
    r->p = w->buf + pos;
    r->n = (size_t)n;
    return 0;
}

/* See fs_int.h. */
void fs_spool_failed(fs_ctx *ctx, fs_file *f, uint64_t off, int erc)
{
    f->fail_at = off;
    if (erc == -ENOSPC)
        fs_fail(ctx, fs_err_errno(-erc),
                "spool full writing %s at offset %" PRIu64 " (%s; cap %" PRIu64 " bytes, %" PRIu64
                " written): raise [spool] cap or free space in %s",
                f->name, off, strerror(-erc), ctx->cfg.spool_cap, ctx->spool_reserved,
                ctx->cfg.spool_dir);
    else
        fs_fail(ctx, fs_err_errno(-erc), "spool write for %s at offset %" PRIu64 ": %s", f->name,
                off, strerror(-erc));
}

/* Hash (and spool) the next run of f.  ctx->mu held; dropped around the
 * digest update and the spool write. */
static void hash_run(fs_ctx *ctx, fs_file *f)
{
    uint64_t off = f->hashed;
    hrun r;
    int rc = next_run(ctx, f, &r);

    if (rc < 0) {
        ctx->hash_failed = true;
        fs_fail(ctx, fs_err_errno(EPROTO),
                "%s: bytes %" PRIu64 "-%" PRIu64 " left the window before they were hashed (bug)",
                f->name, off, f->produced);
        return;
    }
    fs_mutex_unlock(ctx->mu);
    rc = fs_sha256_update(f->sha, r.p, r.n);
    if (rc >= 0 && r.spool)
        rc = fs_spool_write(&ctx->spool, f->spool_base + off, r.p, r.n);
    else if (rc < 0)
        rc = 1; /* the digest failed */
    fs_mutex_lock(ctx->mu);
    if (rc != 0)
        ctx->hash_failed = true;
    if (rc == 1) {
        f->fail_at = off;
        fs_fail(ctx, fs_err_errno(ENOMEM), "SHA-256 of %s failed at offset %" PRIu64, f->name, off);
        return;
    }
    if (rc < 0) {
        fs_spool_failed(ctx, f, off, rc);
        return;
    }
    f->hashed += r.n;
    if (r.spool)
        ctx->spool_written += r.n;
    fs_cond_broadcast(ctx->cv_prod); /* room in the window */
    fs_cond_broadcast(ctx->cv_data); /* spooled bytes readable */
}

/* Finish f's digest (every byte hashed, engine handle closed): f is done.
 * ctx->mu held (the final step is short). */
static void finish_digest(fs_ctx *ctx, fs_file *f)
{
    if (fs_sha256_final(f->sha, f->digest) < 0) {
        ctx->hash_failed = true;
        fs_fail(ctx, fs_err_errno(ENOMEM), "SHA-256 of %s failed", f->name);
        return;
    }
    fs_sha256_free(f->sha);
    f->sha = NULL;
    f->done = true;
    ctx->hcur++;
    fs_log(FS_LOG_DEBUG, "%s: %" PRIu64 " bytes hashed", f->name, f->size);
    fs_cond_broadcast(ctx->cv_prod);
    fs_cond_broadcast(ctx->cv_data);
}

/* Is there nothing left to hash (every file done, the list final)?
 * ctx->mu held. */
static bool all_hashed(const fs_ctx *ctx)
{
    return ctx->logs_known && ctx->hcur >= ctx->nfiles;
}

/* See fs_int.h. */
void fs_hasher_main(void *arg)
{
    fs_ctx *ctx = arg;

    fs_mutex_lock(ctx->mu);
    while ((ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) && !all_hashed(ctx)) {
        fs_file *f = ctx->hcur < ctx->nfiles ? ctx->files[ctx->hcur] : NULL;

        if (f && f->size_known && f->hashed < f->produced)
            hash_run(ctx, f);
        else if (f && f->size_known && f->hashed == f->size && !f->open && f->sha)
            finish_digest(ctx, f);
        else
            fs_cond_wait(ctx->cv_prod, ctx->mu);
    }
    fs_mutex_unlock(ctx->mu);
}
