/*
 * fs_producer.c -- the producer thread: the only thread that calls the
 * engine while mounted; it pulls into the window and leaves SHA-256 and
 * the spool to the hasher and the spooler (fs_hasher.c).  See fsops.h (states, contracts)
 * and fs_int.h (the core's shared internals, THE PIPELINE).
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bkformat.h"
#include "plat.h"
#include "spool.h"
#include "tree.h"
#include "fs_int.h"

/* Does the producer need to pull more bytes of f now?  ctx->mu held. */
static int want_bytes(const fs_ctx *ctx, const fs_file *f)
{
    uint64_t ra = 2 * ctx->cfg.read_size;

    if (ctx->pull_all || f->index < ctx->pull_to)
        return 1;
    if (ctx->cfg.policy == FS_SPOOL_STREAM && ra > ctx->cfg.window / 2)
        ra = ctx->cfg.window / 2;
    return f->demand_hi > 0 && f->produced < f->demand_hi + ra;
}

/* See fs_int.h. */
int fs_self_pull(const fs_ctx *ctx, const fs_file *f)
{
    return ctx->pull_all || f->index < ctx->pull_to;
}

/* Is a reader waiting whose bytes are all produced but not yet copied?
 * Under stream the producer then leaves the window alone until the reader
 * has taken them (its range cannot be overwritten between the wake-up and
 * the copy).  ctx->mu held. */
static int ready_waiter(const fs_ctx *ctx)
{
    for (const fs_rwait *w = ctx->waiters; w; w = w->next)
        if (ctx->files[w->file]->produced >= w->hi)
            return 1;
    return 0;
}

/* Count got bytes of f at off for the spool before they are published:
 * over the [spool] cap fails the backup here, so no reader gets bytes the
 * spool cannot keep.  true when within the cap.  ctx->mu held. */
static bool spool_reserve(fs_ctx *ctx, fs_file *f, uint64_t off, uint64_t got)
{
    if (ctx->cfg.spool_cap && ctx->spool_reserved + got > ctx->cfg.spool_cap) {
        fs_spool_failed(ctx, f, off, -ENOSPC);
        return false;
    }
    ctx->spool_reserved += got;
    return true;
}

/* Wait until the window may take bytes of f (the followers are done with
 * the previous file).  false when the backup stopped meanwhile.  ctx->mu held;
 * released while waiting. */
static bool wait_window(fs_ctx *ctx, const fs_file *f)
{
    while (fs_window_busy(ctx, f) && !fs_halted(ctx))
        fs_cond_wait(ctx->cv_prod, ctx->mu);
    return !fs_halted(ctx);
}

/* Read one chunk of the current file into the window and publish it (the
 * hasher digests it, the spooler spools it, fs_hasher.c).  Called with ctx->mu held
 * and fs_window_room true; drops it around the engine call. */
static void produce_chunk(fs_ctx *ctx, fs_file *f)
{
    unsigned long got = 0;
    uint64_t off = f->produced, remain = f->size - f->produced;
    int self = fs_self_pull(ctx, f);
    JET_HANDLE h = ctx->h;
    JET_ERR rc;
    char en[96];
    /* the engine reads straight into the window, so an in-order reader's
     * bytes are copied once (window -> reply); ctx->buf when it would wrap
     * or the window still holds the previous file's untaken tail */
    unsigned char *dst = fs_window_busy(ctx, f)
                             ? NULL
                             : fs_window_reserve(&ctx->win, f->index, off, ctx->cfg.read_size);
    int direct = dst != NULL;

    if (!direct)
        dst = ctx->buf;
    fs_mutex_unlock(ctx->mu);
    rc = ctx->be.ops->read(ctx->be.ctx, h, dst, (unsigned long)ctx->cfg.read_size, &got);
    if (rc >= 0 && (got == 0 || got > remain))
        rc = JET_errFileIOBeyondEOF;
    fs_mutex_lock(ctx->mu);
    if (rc < 0) {
        fs_jet_name(rc, en, sizeof en);
        f->fail_at = off;
        f->open = false; /* the engine closed (db) or aborted (log) it */
        fs_fail(ctx, fs_err_jet(rc), "JetReadFileInstance(%s) at offset %" PRIu64 ": %s%s", f->name,
                off, en,
                rc == JET_errFileIOBeyondEOF ? " (stream length differs from its size)" : "");
        return;
    }
    if ((ctx->cfg.policy == FS_SPOOL_KEEP || self) && !spool_reserve(ctx, f, off, got))
        return;
    if (direct)
        fs_window_commit(&ctx->win, f->index, off, got);
    else if (wait_window(ctx, f))
        fs_window_put(&ctx->win, f->index, off, ctx->buf, got);
    else
        return;
    if (ctx->cfg.policy == FS_SPOOL_STREAM && self && f->spooled_from == FS_NONE)
        f->spooled_from = off;
    f->produced += got;
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod); /* the followers */
}

/* Close the fully read current file and move on (the hasher finishes its
 * digest, the file is done once the spooler is through it too).  ctx->mu
 * held; dropped around the engine call. */
static void finish_file(fs_ctx *ctx, fs_file *f)
{
    JET_HANDLE h = ctx->h;
    JET_ERR rc;
    char en[96];

    fs_mutex_unlock(ctx->mu);
    rc = ctx->be.ops->close(ctx->be.ctx, h);
    fs_mutex_lock(ctx->mu);
    f->open = false;
    if (rc < 0) {
        fs_jet_name(rc, en, sizeof en);
        fs_fail(ctx, fs_err_jet(rc), "JetCloseFileInstance(%s): %s", f->name, en);
        return;
    }
    ctx->cur++;
    fs_log(FS_LOG_DEBUG, "%s: %" PRIu64 " bytes pulled", f->name, f->size);
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod); /* the followers */
}

/* May the producer pull the next chunk of f now (demand, room in the
 * window, stream's ready waiters)?  ctx->mu held. */
static bool may_produce(const fs_ctx *ctx, const fs_file *f)
{
    if (!want_bytes(ctx, f) || !fs_window_room(ctx, f))
        return false;
    return !(ctx->cfg.policy == FS_SPOOL_STREAM && ready_waiter(ctx));
}

/* Build the manifests once every file is done and move to COMPLETE.
 * false when the backup failed (the producer stops).  ctx->mu held. */
static bool complete(fs_ctx *ctx)
{
    int mrc = fs_build_manifest(ctx);

    if (mrc < 0) {
        fs_fail(ctx, fs_err_errno(-mrc), "building the manifest: %s",
                mrc == -ENOMEM ? "out of memory"
                               : "its size differs from the size announced (bug)");
        return false;
    }
    (void)fs_set_state(ctx, FS_ST_COMPLETE);
    fs_log(FS_LOG_INFO, "every backup byte pulled from the engine; manifest ready");
    return true;
}

/* See fs_int.h. */
void fs_producer_main(void *arg)
{
    fs_ctx *ctx = arg;
    JET_ERR rc;
    char en[96];

    fs_mutex_lock(ctx->mu);
    while (ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) {
        fs_file *f = ctx->cur < ctx->nfiles ? ctx->files[ctx->cur] : NULL;

        if (f && f->open && f->produced < f->size) {
            if (!may_produce(ctx, f)) {
                fs_cond_wait(ctx->cv_prod, ctx->mu);
                continue;
            }
            uint64_t n = f->size - f->produced; /* [backup] max_rate: pace the pull */
            if (fs_throttle_gate(&ctx->throttle, n < ctx->cfg.read_size ? n : ctx->cfg.read_size,
                                 ctx->cv_prod, ctx->mu))
                continue; /* waited: re-check the state and the demand */
            produce_chunk(ctx, f);
        } else if (f && f->open) {
            finish_file(ctx, f);
        } else if (f) {
            fs_mutex_unlock(ctx->mu);
            rc = fs_open_file(ctx, f);
            fs_mutex_lock(ctx->mu);
            if (rc < 0) {
                fs_jet_name(rc, en, sizeof en);
                f->fail_at = 0;
                fs_fail(ctx, fs_err_jet(rc), "JetOpenFileInstance(%s): %s", f->engine_path, en);
            }
        } else if (!ctx->logs_known) {
            fs_mutex_unlock(ctx->mu);
            rc = fs_get_logs(ctx);
            fs_mutex_lock(ctx->mu);
            if (rc < 0) {
                fs_jet_name(rc, en, sizeof en);
                fs_fail(ctx, fs_err_jet(rc), "JetGetLogInfoInstance2: %s", en);
            }
        } else if (ctx->hcur < ctx->nfiles || ctx->scur < ctx->nfiles) {
            fs_cond_wait(ctx->cv_prod, ctx->mu); /* the followers finish */
        } else if (!complete(ctx)) {
            break;
        }
    }
    fs_mutex_unlock(ctx->mu);
}
