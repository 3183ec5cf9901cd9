/*
 * fs_hasher.c -- the hasher and spooler threads beside the producer: the
 * hasher hashes chunk N from the window and the spooler writes it to the
 * spool while the producer pulls chunk N+1; see fs_int.h (THE PIPELINE,
 * lock notes).
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

/* The two followers of the producer: the hasher (SHA-256) and the
 * spooler (spool writes).  Each has its own mark in every file (bytes it
 * took) and its own cursor (file it is on). */
enum follower { HASHER, SPOOLER };

/* One run of produced bytes a follower has not taken yet: where it is in
 * the window, how long, and whether it goes to the spool. */
typedef struct hrun {
    const unsigned char *p;
    size_t n;
    bool spool;
} hrun;

/* The follower's mark in f.  ctx->mu held. */
static uint64_t *mark(fs_file *f, enum follower who)
{
    return who == HASHER ? &f->hashed : &f->spooled;
}

/* The follower's cursor.  ctx->mu held. */
static int *cursor(fs_ctx *ctx, enum follower who)
{
    return who == HASHER ? &ctx->hcur : &ctx->scur;
}

/* See fs_int.h. */
uint64_t fs_taken(const fs_file *f)
{
    return f->hashed < f->spooled ? f->hashed : f->spooled;
}

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
    return fs_taken(prev) < prev->size;
}

/* See fs_int.h. */
bool fs_window_room(const fs_ctx *ctx, const fs_file *f)
{
    const fs_window *w = &ctx->win;

    if (w->file >= 0 && w->file != f->index)
        return true; /* f's first chunk waits in ctx->buf if need be */
    return f->produced + ctx->cfg.read_size <= fs_taken(f) + w->size;
}

/* The next run of f for `who`: from its mark, contiguous in the window, at
 * most read_size, not across the offset where spooling starts.  0, or
 * -EPROTO when the window does not hold the bytes (a bug: the producer
 * must not drop bytes not taken).  mark < f->produced.  ctx->mu held. */
static int next_run(const fs_ctx *ctx, fs_file *f, enum follower who, hrun *r)
{
    const fs_window *w = &ctx->win;
    uint64_t off = *mark(f, who), n = f->produced - off;
    size_t pos;

    if (w->file != f->index || off < w->lo || f->produced > w->hi)
        return -EPROTO;
    pos = (size_t)(off % w->size);
    if (n > w->size - pos)
        n = w->size - pos;
    if (n > ctx->cfg.read_size)
        n = ctx->cfg.read_size;
    r->spool = who == SPOOLER && fs_spools(ctx, f, off);
    if (who == SPOOLER && !r->spool && f->spooled_from != FS_NONE && f->spooled_from - off < n)
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

/* Record a follower's failure at off of f (rc: 1 = the digest, else the
 * spool's -errno, or -EPROTO for a window bug).  ctx->mu held. */
static void run_failed(fs_ctx *ctx, fs_file *f, uint64_t off, int rc)
{
    ctx->pipe_failed = true;
    if (rc == 1) {
        f->fail_at = off;
        fs_fail(ctx, fs_err_errno(ENOMEM), "SHA-256 of %s failed at offset %" PRIu64, f->name, off);
    } else if (rc == -EPROTO) {
        fs_fail(ctx, fs_err_errno(EPROTO),
                "%s: bytes %" PRIu64 "-%" PRIu64 " left the window before they were taken (bug)",
                f->name, off, f->produced);
    } else {
        fs_spool_failed(ctx, f, off, rc);
    }
}

/* Take the next run of f: hash it (hasher) or write it to the spool where
 * the policy spools it (spooler).  ctx->mu held; dropped around the
 * digest update and the spool write. */
static void take_run(fs_ctx *ctx, fs_file *f, enum follower who)
{
    uint64_t off = *mark(f, who);
    hrun r;
    int rc = next_run(ctx, f, who, &r);
    /* keep, nobody pulling ahead: the spool is only there for re-reads */
    bool cold = ctx->cfg.policy == FS_SPOOL_KEEP && !fs_self_pull(ctx, f);

    if (rc < 0) {
        run_failed(ctx, f, off, rc);
        return;
    }
    if (who == HASHER || r.spool) {
        fs_mutex_unlock(ctx->mu);
        if (who == HASHER)
            rc = fs_sha256_update(f->sha, r.p, r.n) < 0 ? 1 : 0;
        else
            rc = fs_spool_write(&ctx->spool, f->spool_base + off, r.p, r.n, cold);
        fs_mutex_lock(ctx->mu);
    }
    if (rc != 0) {
        run_failed(ctx, f, off, rc);
        return;
    }
    *mark(f, who) += r.n;
    if (r.spool)
        ctx->spool_written += r.n;
    fs_cond_broadcast(ctx->cv_prod); /* room in the window */
    fs_cond_broadcast(ctx->cv_data); /* spooled bytes readable */
}

/* f is all taken by `who` and its engine handle closed: the hasher
 * finishes the digest; f is done once both followers are through it.
 * ctx->mu held (the final step is short). */
static void finish_file(fs_ctx *ctx, fs_file *f, enum follower who)
{
    if (who == HASHER) {
        if (fs_sha256_final(f->sha, f->digest) < 0) {
            ctx->pipe_failed = true;
            fs_fail(ctx, fs_err_errno(ENOMEM), "SHA-256 of %s failed", f->name);
            return;
        }
        fs_sha256_free(f->sha);
        f->sha = NULL;
        fs_log(FS_LOG_DEBUG, "%s: %" PRIu64 " bytes hashed", f->name, f->size);
    }
    (*cursor(ctx, who))++;
    f->done = !f->sha && f->spooled == f->size;
    fs_cond_broadcast(ctx->cv_prod);
    fs_cond_broadcast(ctx->cv_data);
}

/* Run one follower until every file is taken, the backup failed or stop. */
static void follow(fs_ctx *ctx, enum follower who)
{
    int *cur = cursor(ctx, who);

    fs_mutex_lock(ctx->mu);
    while ((ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) &&
           !(ctx->logs_known && *cur >= ctx->nfiles)) {
        fs_file *f = *cur < ctx->nfiles ? ctx->files[*cur] : NULL;

        if (f && f->size_known && *mark(f, who) < f->produced)
            take_run(ctx, f, who);
        else if (f && f->size_known && *mark(f, who) == f->size && !f->open)
            finish_file(ctx, f, who);
        else
            fs_cond_wait(ctx->cv_prod, ctx->mu);
    }
    fs_mutex_unlock(ctx->mu);
}

/* See fs_int.h. */
void fs_hasher_main(void *arg)
{
    follow(arg, HASHER);
}

/* See fs_int.h. */
void fs_spooler_main(void *arg)
{
    follow(arg, SPOOLER);
}
