/*
 * fs_status.c -- status, commit and the umount decision; see fsops.h
 * (states, contracts) and fs_int.h (the core's shared internals).
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

/* Is every byte of every engine file produced and returned to a read
 * call, and every byte of both manifests too?  (With direct_io every read
 * reaches the driver, so kernel read-ahead cannot count here.)  mu held. */
static int all_delivered(const fs_ctx *ctx)
{
    if (!fs_complete(ctx))
        return 0;
    for (int i = 0; i < ctx->nfiles; i++)
        if (!ctx->files[i]->done || ctx->files[i]->delivered != ctx->files[i]->size)
            return 0;
    return ctx->man[0]->delivered == ctx->manifest_len && ctx->man[1]->delivered == ctx->logman_len;
}

/* The decision for the current state.  ctx->mu held. */
static enum fs_decision decide_locked(const fs_ctx *ctx, const char **reason)
{
    if (fs_failed(ctx)) {
        *reason = "the backup failed";
        return FS_DECIDE_ABORT;
    }
    if (!all_delivered(ctx)) {
        *reason = "not every byte of every database, log and manifest was delivered";
        return FS_DECIDE_ABORT;
    }
    switch (ctx->cfg.truncate) {
    case FS_TRUNC_COMPLETE:
        *reason = "complete, truncate = complete";
        return FS_DECIDE_TRUNCATE;
    case FS_TRUNC_COMMIT:
        if (ctx->commit_requested) {
            *reason = "complete and committed, truncate = commit";
            return FS_DECIDE_TRUNCATE;
        }
        *reason = "complete but no `esebackupfs commit` was given (truncate = commit)";
        return FS_DECIDE_ABORT;
    default:
        *reason = "complete, truncate = never (copy backup)";
        return FS_DECIDE_COPY;
    }
}

/* The Jet calls a decision makes, for logs and status (static string). */
static const char *decision_text(enum fs_decision d)
{
    return d == FS_DECIDE_TRUNCATE
               ? "JetTruncateLogInstance + JetEndExternalBackupInstance2(Normal)"
           : d == FS_DECIDE_COPY ? "JetEndExternalBackupInstance2(Normal) without truncation"
                                 : "JetEndExternalBackupInstance2(Abort)";
}

/* Send the decision to the engine: TruncateLog first for TRUNCATE (a
 * refused truncation ends as a copy), then End (a refused End(Normal) is
 * followed by End(Abort)).  Returns the decision actually made.  Called
 * without ctx->mu, in DECIDING, by the one thread that took the decision. */
static enum fs_decision end_backup(fs_ctx *ctx, enum fs_decision d)
{
    JET_ERR rc;

    if (d == FS_DECIDE_TRUNCATE) {
        rc = ctx->be.ops->truncate(ctx->be.ctx);
        if (rc < 0) {
            fs_log(FS_LOG_ERR,
                   "JetTruncateLogInstance failed: %s (%ld); ending without truncation "
                   "(recorded as a copy)",
                   bkc_err_name(rc), (long)rc);
            d = FS_DECIDE_COPY;
        }
    }
    rc = ctx->be.ops->end(ctx->be.ctx,
                          d == FS_DECIDE_ABORT ? JET_bitBackupEndAbort : JET_bitBackupEndNormal);
    if (rc < 0 && !(d == FS_DECIDE_ABORT && rc == JET_errNoBackup)) {
        fs_log(FS_LOG_ERR, "JetEndExternalBackupInstance2 failed: %s (%ld)", bkc_err_name(rc),
               (long)rc);
        if (d != FS_DECIDE_ABORT) {
            (void)ctx->be.ops->end(ctx->be.ctx, JET_bitBackupEndAbort);
            d = FS_DECIDE_ABORT;
        }
    }
    fs_log(FS_LOG_NOTICE, "backup ended: %s",
           d == FS_DECIDE_TRUNCATE ? "logs truncated"
           : d == FS_DECIDE_COPY   ? "normal (no truncation)"
                                   : "aborted");
    return d;
}

/* See fsops.h.  NEW -> ENDED (never began); otherwise -> DECIDING (stops
 * the producer and every waiter), join the producer, the hasher and the spooler, end the backup on
 * the engine, -> ENDED. */
enum fs_decision fs_ctx_finish(fs_ctx *ctx)
{
    const char *reason = "";
    enum fs_decision d;

    fs_mutex_lock(ctx->mu);
    if (fs_decided(ctx)) {
        d = ctx->decision;
        fs_mutex_unlock(ctx->mu);
        return d;
    }
    if (ctx->state == FS_ST_NEW) {
        ctx->decision = FS_DECIDE_ABORT;
        ctx->decision_reason = "the backup never began";
        (void)fs_set_state(ctx, FS_ST_ENDED);
        fs_mutex_unlock(ctx->mu);
        d = FS_DECIDE_ABORT;
        goto out;
    }
    d = decide_locked(ctx, &reason);
    ctx->decision = d;
    ctx->decision_reason = reason;
    (void)fs_set_state(ctx, FS_ST_DECIDING);
    fs_mutex_unlock(ctx->mu);
    if (ctx->producer) {
        fs_thread_join(ctx->producer);
        ctx->producer = NULL;
    }
    if (ctx->hasher) {
        fs_thread_join(ctx->hasher);
        ctx->hasher = NULL;
    }
    if (ctx->spooler) {
        fs_thread_join(ctx->spooler);
        ctx->spooler = NULL;
    }
    fs_log(FS_LOG_NOTICE, "umount: %s -> %s", reason, decision_text(d));
    d = end_backup(ctx, d);
    fs_mutex_lock(ctx->mu);
    ctx->decision = d;
    (void)fs_set_state(ctx, FS_ST_ENDED);
    fs_mutex_unlock(ctx->mu);
out:
    fs_spool_close(&ctx->spool);
    return d;
}

/* See fsops.h. */
int fs_status(fs_ctx *ctx, char *buf, size_t cb)
{
    const char *reason = "";
    enum fs_decision d;
    const char *phase;
    size_t n = 0;
    int healthy;
    char en[128];

#define ST(...) \
    do { \
        if (n < cb) \
            n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); \
    } while (0)
    fs_mutex_lock(ctx->mu);
    d = fs_decided(ctx) ? ctx->decision : decide_locked(ctx, &reason);
    phase = fs_failed(ctx)        ? "failed"
            : fs_decided(ctx)     ? "ended"
            : fs_complete(ctx)    ? "complete"
            : ctx->cur < ctx->ndb ? "databases"
                                  : "logs";
    ST("phase: %s\n", phase);
    ST("backup: %s, truncate = %s, spool policy = %s\n", fs_conf_type_name(ctx->cfg.type),
       fs_conf_truncate_name(ctx->cfg.truncate), fs_conf_policy_name(ctx->cfg.policy));
    ST("commit: %s\n", ctx->commit_requested ? "given" : "not given");
    for (int i = 0; i < ctx->nfiles; i++) {
        fs_file *f = ctx->files[i];
        if (f->size_known)
            ST("file %s%s: delivered %" PRIu64 " / %" PRIu64 ", pulled %" PRIu64 "\n",
               f->kind == FS_K_LOG ? "logs/" : "", f->name, f->delivered, f->size, f->produced);
        else
            ST("file %s: size not known yet\n", f->name);
    }
    ST("file manifest: delivered %" PRIu64 " / %zu\n", ctx->man[0] ? ctx->man[0]->delivered : 0,
       ctx->manifest_len);
    if (ctx->logs_known)
        ST("file logs/manifest: delivered %" PRIu64 " / %zu\n",
           ctx->man[1] ? ctx->man[1]->delivered : 0, ctx->logman_len);
    if (!ctx->logs_known)
        ST("logs: list not known yet\n");
    else
        ST("log-generations: %lu-%lu\n", ctx->log_gen_low, ctx->log_gen_high);
    if (ctx->have_committed)
        ST("committed-at-roll: %llu\n", ctx->committed);
    ST("spool: %" PRIu64 " bytes written, cap %" PRIu64 "%s, dir %s\n", ctx->spool_written,
       ctx->cfg.spool_cap, ctx->cfg.spool_cap ? "" : " (unlimited)", ctx->cfg.spool_dir);
    if (ctx->dropped_reads)
        ST("stream re-reads refused: %" PRIu64 "\n", ctx->dropped_reads);
    ST("waiting requests: %d\n", ctx->nwaiting);
    ST("error: %s\n", fs_failed(ctx) ? ctx->errmsg : "none");
    if (fs_failed(ctx)) {
        fs_err_format(ctx->error, en, sizeof en);
        ST("error-code: %s\n", en);
    }
    if (ctx->state == FS_ST_ENDED)
        ST("umount: done: %s\n", decision_text(d));
    else if (ctx->state == FS_ST_DECIDING)
        ST("umount: deciding: %s (%s)\n", decision_text(d), ctx->decision_reason);
    else
        ST("umount now would: %s (%s)\n", decision_text(d), reason);
    healthy = !fs_failed(ctx);
    fs_mutex_unlock(ctx->mu);
#undef ST
    return healthy ? 0 : 1;
}

/* See fsops.h. */
int fs_commit(fs_ctx *ctx, char *buf, size_t cb)
{
    int rc;

    fs_mutex_lock(ctx->mu);
    if (fs_decided(ctx)) {
        /* the decision is taken (under mu, so it cannot have seen this
         * commit): say which, and do not pretend the commit counts */
        snprintf(buf, cb, "commit refused: umount has already decided: %s (%s)%s\n",
                 decision_text(ctx->decision), ctx->decision_reason,
                 ctx->state == FS_ST_ENDED ? "" : "; ending the backup now");
        fs_log(FS_LOG_NOTICE, "commit refused: the umount decision was already taken");
        fs_mutex_unlock(ctx->mu);
        return 1;
    }
    ctx->commit_requested = true;
    if (fs_failed(ctx)) {
        snprintf(buf, cb, "commit recorded, but the backup failed (%s): umount will abort\n",
                 ctx->errmsg);
        rc = 1;
    } else if (ctx->cfg.truncate != FS_TRUNC_COMMIT) {
        snprintf(buf, cb,
                 "commit recorded; truncate = %s, so it does not change the umount "
                 "decision\n",
                 fs_conf_truncate_name(ctx->cfg.truncate));
        rc = 1;
    } else if (!all_delivered(ctx)) {
        snprintf(buf, cb,
                 "commit recorded; not every byte was delivered yet: umount truncates "
                 "only if the copy completes\n");
        rc = 0;
    } else {
        snprintf(buf, cb,
                 "commit recorded: umount will truncate the logs (unless the "
                 "engine refuses JetTruncateLogInstance; umount logs the outcome)\n");
        rc = 0;
    }
    fs_log(FS_LOG_NOTICE, "commit requested");
    fs_mutex_unlock(ctx->mu);
    return rc;
}
