/*
 * fs_ctx.c -- the context, its state machine (fsops.h STATES) and errors;
 * see fsops.h (states, contracts) and fs_int.h (the core's shared
 * internals).
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

/* The moves fsops.h's STATES table allows: allowed[from] has bit `to`. */
#define ST(x) (1u << FS_ST_##x)
static const unsigned fs_state_moves[] = {
    [FS_ST_NEW] = ST(STARTING) | ST(ENDED),
    [FS_ST_STARTING] = ST(DATABASES) | ST(LOGS) | ST(ENDED),
    [FS_ST_DATABASES] = ST(LOGS) | ST(FAILED) | ST(STOPPING) | ST(DECIDING),
    [FS_ST_LOGS] = ST(COMPLETE) | ST(FAILED) | ST(STOPPING) | ST(DECIDING),
    [FS_ST_COMPLETE] = ST(FAILED) | ST(DECIDING),
    [FS_ST_STOPPING] = ST(FAILED) | ST(DECIDING),
    [FS_ST_FAILED] = ST(DECIDING),
    [FS_ST_DECIDING] = ST(ENDED),
    [FS_ST_ENDED] = 0,
};
#undef ST

static const char *const fs_state_names[] = {
    [FS_ST_NEW] = "NEW",       [FS_ST_STARTING] = "STARTING", [FS_ST_DATABASES] = "DATABASES",
    [FS_ST_LOGS] = "LOGS",     [FS_ST_COMPLETE] = "COMPLETE", [FS_ST_STOPPING] = "STOPPING",
    [FS_ST_FAILED] = "FAILED", [FS_ST_DECIDING] = "DECIDING", [FS_ST_ENDED] = "ENDED",
};

/* See fsops.h. */
const char *fs_state_name(enum fs_state st)
{
    return (unsigned)st < sizeof fs_state_names / sizeof fs_state_names[0] ? fs_state_names[st]
                                                                           : "?";
}

/* Is the move from ctx->state to `to` in the STATES table? */
static bool may_move(const fs_ctx *ctx, enum fs_state to)
{
    return (fs_state_moves[ctx->state] >> to) & 1u;
}

/* See fs_int.h. */
bool fs_set_state_at(fs_ctx *ctx, enum fs_state to, const char *file, int line)
{
    if (!may_move(ctx, to)) {
        fs_log(FS_LOG_ERR, "%s:%d: state move %s -> %s refused (not in fsops.h's table)", file,
               line, fs_state_name(ctx->state), fs_state_name(to));
        return false;
    }
    ctx->state = to;
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod);
    fs_cond_broadcast(ctx->cv_guard);
    return true;
}

/* See fs_int.h. */
bool fs_halted(const fs_ctx *ctx)
{
    return ctx->state == FS_ST_FAILED || ctx->state == FS_ST_STOPPING ||
           ctx->state == FS_ST_DECIDING || ctx->state == FS_ST_ENDED;
}

/* See fs_int.h. */
bool fs_failed(const fs_ctx *ctx)
{
    return ctx->error.kind != FS_ERR_NONE;
}

/* See fs_int.h. */
bool fs_complete(const fs_ctx *ctx)
{
    return ctx->manifest != NULL;
}

/* See fs_int.h. */
bool fs_decided(const fs_ctx *ctx)
{
    return ctx->state == FS_ST_DECIDING || ctx->state == FS_ST_ENDED;
}

/* See fsops.h. */
fs_error fs_err_jet(long jet_err)
{
    return (fs_error){ .kind = FS_ERR_JET, .code = jet_err };
}

/* See fsops.h. */
fs_error fs_err_errno(int err)
{
    return (fs_error){ .kind = FS_ERR_ERRNO, .code = err };
}

/* See fsops.h. */
void fs_err_format(fs_error e, char *buf, size_t cb)
{
    switch (e.kind) {
    case FS_ERR_JET:
        snprintf(buf, cb, "%s (%ld)", bkc_err_name((JET_ERR)e.code), e.code);
        break;
    case FS_ERR_ERRNO:
        snprintf(buf, cb, "errno %ld (%s)", e.code, strerror((int)e.code));
        break;
    default:
        snprintf(buf, cb, "none");
    }
}

/* See fs_int.h. */
void fs_fail(fs_ctx *ctx, fs_error err, const char *fmt, ...)
{
    va_list ap;

    if (!fs_failed(ctx)) {
        ctx->error = err;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
        fs_log(FS_LOG_ERR, "backup failed: %s", ctx->errmsg);
    }
    if (ctx->state != FS_ST_FAILED && may_move(ctx, FS_ST_FAILED))
        (void)fs_set_state(ctx, FS_ST_FAILED);
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod);
}

/* See fs_int.h. */
void fs_jet_name(JET_ERR err, char *buf, size_t cb)
{
    snprintf(buf, cb, "%s (%ld)", bkc_err_name(err), (long)err);
}

/* See fsops.h. */
int fs_ctx_new(const fs_config *cfg, const bkc_source *be, fs_ctx **pctx)
{
    fs_ctx *ctx = calloc(1, sizeof *ctx);
    int rc;

    if (!ctx)
        return -ENOMEM;
    ctx->cfg = *cfg;
    fs_throttle_init(&ctx->throttle, cfg->max_rate);
    ctx->be = *be;
    ctx->state = FS_ST_NEW;
    rc = fs_mutex_new(&ctx->mu);
    if (rc >= 0)
        rc = fs_cond_new(&ctx->cv_prod);
    if (rc >= 0)
        rc = fs_cond_new(&ctx->cv_data);
    if (rc >= 0)
        rc = fs_cond_new(&ctx->cv_guard);
    if (rc < 0) {
        fs_cond_free(ctx->cv_data);
        fs_cond_free(ctx->cv_prod);
        fs_mutex_free(ctx->mu);
        free(ctx);
        return rc;
    }
    *pctx = ctx;
    return 0;
}

/* See fs_int.h. */
int fs_add_file(fs_ctx *ctx, const char *engine_path, enum fs_kind kind)
{
    fs_file *f;
    uint64_t ino;
    const char *base = fs_basename(engine_path);

    if (!base[0] || !strcmp(base, ".") || !strcmp(base, ".."))
        return -EINVAL;
    for (int i = 0; i < ctx->nfiles; i++)
        if (ctx->files[i]->kind == kind && !strcmp(ctx->files[i]->name, base))
            return -EEXIST;
    if (kind == FS_K_DB && (!strcmp(base, FS_LABEL_NAME) || !strcmp(base, FS_LOGS_NAME) ||
                            !strcmp(base, FS_MANIFEST_NAME)))
        return -EEXIST;
    if (kind == FS_K_LOG && !strcmp(base, FS_MANIFEST_NAME))
        return -EEXIST;
    if (ctx->nfiles >= FS_MAX_FILES)
        return -EFBIG;
    /* databases take inodes 3.. and logs/ the next one, all below the
     * first log's: inode order = tree order (D2) */
    if (kind == FS_K_DB && FS_INO_FIRST_DB + (uint64_t)ctx->nfiles + 1 >= FS_INO_FIRST_LOG)
        return -EFBIG;
    if (ctx->nfiles == ctx->cap_files) {
        int ncap = ctx->cap_files ? ctx->cap_files * 2 : 16;
        fs_file **n = realloc(ctx->files, (size_t)ncap * sizeof *n);
        if (!n)
            return -ENOMEM;
        ctx->files = n;
        ctx->cap_files = ncap;
    }
    ino = kind == FS_K_DB ? FS_INO_FIRST_DB + (uint64_t)ctx->nfiles
                          : FS_INO_FIRST_LOG + (uint64_t)(ctx->nfiles - ctx->ndb);
    f = fs_file_new(engine_path, kind, ctx->nfiles, ino);
    if (!f)
        return -ENOMEM;
    ctx->files[ctx->nfiles++] = f;
    return 0;
}

/* See fsops.h.  DATABASES/LOGS -> STOPPING; in any other state the signal
 * has nothing left to stop. */
void fs_ctx_interrupt(fs_ctx *ctx, int sig)
{
    fs_mutex_lock(ctx->mu);
    if (ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) {
        (void)fs_set_state(ctx, FS_ST_STOPPING);
        fs_log(FS_LOG_NOTICE, "signal %d: stop pulling, requests that wait for the engine get EIO",
               sig);
    }
    fs_cond_broadcast(ctx->cv_prod);
    fs_cond_broadcast(ctx->cv_data);
    fs_mutex_unlock(ctx->mu);
}

/* See fsops.h. */
void fs_ctx_free(fs_ctx *ctx)
{
    if (!ctx)
        return;
    (void)fs_ctx_finish(ctx);
    fs_guard_join(ctx); /* a failed start ended without the finish's join */
    for (int i = 0; i < ctx->nfiles; i++)
        fs_file_free(ctx->files[i]);
    free(ctx->files);
    if (ctx->be.ops) {
        const char *name = ctx->be.ops->name;
        JET_ERR trc = bkc_close(&ctx->be);
        if (trc < 0)
            fs_log(FS_LOG_ERR, "closing the %s source: JetTerm2(Complete) failed: %s (%ld)", name,
                   bkc_err_name(trc), (long)trc);
        else
            fs_log(FS_LOG_INFO, "%s source closed", name);
    }
    fs_window_free(&ctx->win);
    fs_aligned_free(ctx->buf);
    free(ctx->label);
    free(ctx->manifest);
    free(ctx->logman);
    fs_file_free(ctx->man[0]);
    fs_file_free(ctx->man[1]);
    fs_cond_free(ctx->cv_prod);
    fs_cond_free(ctx->cv_data);
    fs_cond_free(ctx->cv_guard);
    fs_mutex_free(ctx->mu);
    free(ctx);
}

/* Have the hasher and the spooler caught up with the producer (or
 * stopped)?  ctx->mu held. */
static bool hash_settled(const fs_ctx *ctx)
{
    if (ctx->state != FS_ST_DATABASES && ctx->state != FS_ST_LOGS)
        return true;
    for (int i = 0; i < ctx->nfiles; i++)
        if (fs_taken(ctx->files[i]) < ctx->files[i]->produced)
            return false;
    return true;
}

/* See fsops.h. */
uint64_t fs_spool_bytes(fs_ctx *ctx)
{
    uint64_t n;

    fs_mutex_lock(ctx->mu);
    while (!hash_settled(ctx))
        fs_cond_wait(ctx->cv_data, ctx->mu);
    n = ctx->spool_written;
    fs_mutex_unlock(ctx->mu);
    return n;
}

/* See fsops.h. */
enum fs_state fs_ctx_state(fs_ctx *ctx, fs_error *err)
{
    enum fs_state st;

    fs_mutex_lock(ctx->mu);
    st = ctx->state;
    if (err)
        *err = ctx->error;
    fs_mutex_unlock(ctx->mu);
    return st;
}
