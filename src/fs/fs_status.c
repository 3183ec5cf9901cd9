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
 * the producer, the watchdog and every waiter), join the producer, the
 * hasher, the spooler and the watchdog, end the backup on the engine,
 * -> ENDED. */
enum fs_decision fs_ctx_finish(fs_ctx *ctx)
{
    const char *reason = "";
    char why[sizeof ctx->errmsg] = "";
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
        fs_clock_real(&ctx->end);
        (void)fs_set_state(ctx, FS_ST_ENDED);
        fs_mutex_unlock(ctx->mu);
        d = FS_DECIDE_ABORT;
        goto out;
    }
    d = decide_locked(ctx, &reason);
    if (fs_failed(ctx)) /* the syslog line says why */
        snprintf(why, sizeof why, "%s", ctx->errmsg);
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
    fs_guard_join(ctx);
    fs_log(FS_LOG_NOTICE, "umount: %s%s%s%s -> %s", reason, why[0] ? " (" : "", why,
           why[0] ? ")" : "", decision_text(d));
    d = end_backup(ctx, d);
    fs_mutex_lock(ctx->mu);
    ctx->decision = d;
    fs_clock_real(&ctx->end);
    (void)fs_set_state(ctx, FS_ST_ENDED);
    fs_mutex_unlock(ctx->mu);
out:
    fs_spool_close(&ctx->spool);
    return d;
}

/* The one-word name of a decision, for JSON and metrics (static). */
static const char *decision_word(enum fs_decision d)
{
    return d == FS_DECIDE_TRUNCATE ? "truncate" : d == FS_DECIDE_COPY ? "copy" : "abort";
}

/* Copy the files of ctx into snap->files (allocated), with the byte
 * totals.  0 or -ENOMEM.  ctx->mu held. */
static int snap_files(const fs_ctx *ctx, fs_snapshot *snap)
{
    int n = 0;

    snap->files = calloc((size_t)ctx->nfiles + 2, sizeof *snap->files);
    if (!snap->files)
        return -ENOMEM;
    for (int i = 0; i < ctx->nfiles; i++) {
        const fs_file *f = ctx->files[i];
        fs_snap_file *sf = &snap->files[n++];
        snprintf(sf->name, sizeof sf->name, "%s%s", f->kind == FS_K_LOG ? "logs/" : "", f->name);
        sf->kind = f->kind;
        sf->size_known = f->size_known;
        sf->delivered = f->delivered;
        sf->size = f->size_known ? f->size : 0;
        sf->pulled = f->produced;
    }
    for (int m = 0; m < 2; m++) {
        fs_snap_file *sf = &snap->files[n];
        if (m == 1 && !ctx->logs_known)
            break;
        snprintf(sf->name, sizeof sf->name, "%s", m ? "logs/manifest" : "manifest");
        sf->kind = m ? FS_K_LOGMAN : FS_K_MANIFEST;
        sf->size_known = true;
        sf->delivered = ctx->man[m] ? ctx->man[m]->delivered : 0;
        sf->size = m ? ctx->logman_len : ctx->manifest_len;
        n++;
    }
    snap->nfiles = n;
    snap->total_final = ctx->logs_known;
    for (int i = 0; i < n; i++) {
        snap->bytes_delivered += snap->files[i].delivered;
        snap->bytes_total += snap->files[i].size;
        if (!snap->files[i].size_known)
            snap->total_final = false;
    }
    return 0;
}

/* Rate and ETA (see fs_snapshot).  ctx->mu held. */
static void snap_rate(const fs_ctx *ctx, fs_snapshot *snap)
{
    bool all = all_delivered(ctx);
    bool frozen = all || fs_failed(ctx) || fs_decided(ctx);
    uint64_t to = frozen ? ctx->last_ns : fs_clock_mono_ns();

    snap->elapsed_s = ctx->start_ns && to > ctx->start_ns ? (double)(to - ctx->start_ns) / 1e9 : 0;
    snap->rate = snap->elapsed_s > 0 ? (double)snap->bytes_delivered / snap->elapsed_s : 0;
    if (all)
        snap->eta_s = 0;
    else if (frozen || snap->rate <= 0 || snap->bytes_total < snap->bytes_delivered)
        snap->eta_s = -1;
    else
        snap->eta_s = (double)(snap->bytes_total - snap->bytes_delivered) / snap->rate;
}

/* The decision, its reason and the umount stage.  ctx->mu held. */
static void snap_decision(const fs_ctx *ctx, fs_snapshot *snap)
{
    const char *reason = "";

    if (fs_decided(ctx)) {
        snap->decision = ctx->decision;
        reason = ctx->decision_reason ? ctx->decision_reason : "";
    } else {
        snap->decision = decide_locked(ctx, &reason);
    }
    snap->decision_word = decision_word(snap->decision);
    snap->decision_calls = decision_text(snap->decision);
    snap->decision_reason = reason;
    snap->umount = ctx->state == FS_ST_ENDED      ? "done"
                   : ctx->state == FS_ST_DECIDING ? "deciding"
                                                  : "now would";
    snap->ended = ctx->state == FS_ST_ENDED;
    snap->end = ctx->end;
    snap->start = ctx->start.sec || ctx->start.nsec || !snap->ended ? ctx->start : ctx->end;
}

/* See fsops.h. */
int fs_status_snapshot(fs_ctx *ctx, fs_snapshot *snap)
{
    int rc;

    memset(snap, 0, sizeof *snap);
    fs_mutex_lock(ctx->mu);
    rc = snap_files(ctx, snap);
    if (rc < 0)
        goto out;
    snap->state = ctx->state;
    snap->phase = fs_failed(ctx)        ? "failed"
                  : fs_decided(ctx)     ? "ended"
                  : fs_complete(ctx)    ? "complete"
                  : ctx->cur < ctx->ndb ? "databases"
                                        : "logs";
    snap->type = fs_conf_type_name(ctx->cfg.type);
    snap->truncate = fs_conf_truncate_name(ctx->cfg.truncate);
    snap->policy = fs_conf_policy_name(ctx->cfg.policy);
    snap->commit_given = ctx->commit_requested;
    snap->logs_known = ctx->logs_known;
    snap->log_gen_low = ctx->log_gen_low;
    snap->log_gen_high = ctx->log_gen_high;
    snap->have_committed = ctx->have_committed;
    snap->committed = ctx->committed;
    snap->spool_written = ctx->spool_written;
    snap->spool_cap = ctx->cfg.spool_cap;
    snprintf(snap->spool_dir, sizeof snap->spool_dir, "%s", ctx->cfg.spool_dir);
    snap->dropped_reads = ctx->dropped_reads;
    snap->pull_rate = fs_throttle_rate(&ctx->throttle, fs_clock_mono_ns());
    snap->max_rate = ctx->cfg.max_rate;
    snap->throttle_waits = ctx->throttle.waits;
    snap->nwaiting = ctx->nwaiting;
    fs_guard_snapshot(ctx, snap);
    snap->failed = fs_failed(ctx);
    if (snap->failed) {
        snprintf(snap->error, sizeof snap->error, "%s", ctx->errmsg);
        fs_err_format(ctx->error, snap->error_code, sizeof snap->error_code);
        snap->err = ctx->error;
    }
    snap_rate(ctx, snap);
    snap_decision(ctx, snap);
out:
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h. */
void fs_snapshot_free(fs_snapshot *snap)
{
    free(snap->files);
    snap->files = NULL;
    snap->nfiles = 0;
}

/* The per-file and progress lines of the status text. */
static size_t text_files(const fs_snapshot *sn, char *buf, size_t cb, size_t n)
{
#define ST(...) \
    do { \
        if (n < cb) \
            n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); \
    } while (0)
    for (int i = 0; i < sn->nfiles; i++) {
        const fs_snap_file *f = &sn->files[i];
        if (f->kind == FS_K_MANIFEST || f->kind == FS_K_LOGMAN)
            ST("file %s: delivered %" PRIu64 " / %" PRIu64 "\n", f->name, f->delivered, f->size);
        else if (f->size_known)
            ST("file %s: delivered %" PRIu64 " / %" PRIu64 ", pulled %" PRIu64 "\n", f->name,
               f->delivered, f->size, f->pulled);
        else
            ST("file %s: size not known yet\n", f->name);
    }
    ST("progress: delivered %" PRIu64 " / %" PRIu64 "%s bytes (%.1f%%), rate %.0f bytes/s, ",
       sn->bytes_delivered, sn->bytes_total, sn->total_final ? "" : "+",
       sn->bytes_total ? 100.0 * (double)sn->bytes_delivered / (double)sn->bytes_total : 0.0,
       sn->rate);
    if (sn->eta_s >= 0)
        ST("eta %.0f s, elapsed %.1f s\n", sn->eta_s, sn->elapsed_s);
    else
        ST("eta unknown, elapsed %.1f s\n", sn->elapsed_s);
#undef ST
    return n;
}

/* The guards line of the status text (none when both guards are off). */
static size_t text_guards(const fs_snapshot *sn, char *buf, size_t cb, size_t n)
{
    char max[32] = "off", idle[32] = "off", run[32], quiet[48] = "";

    if (!sn->max_duration_s && !sn->idle_timeout_s)
        return n;
    if (sn->max_duration_s)
        fs_conf_duration_name(sn->max_duration_s, max, sizeof max);
    fs_conf_duration_name(sn->running_s, run, sizeof run);
    if (sn->idle_timeout_s) {
        fs_conf_duration_name(sn->idle_timeout_s, idle, sizeof idle);
        memcpy(quiet, ", idle ", 8);
        fs_conf_duration_name(sn->idle_s, quiet + 7, sizeof quiet - 7);
    }
    if (n < cb)
        n += (size_t)snprintf(
            buf + n, cb - n, "guards: max_duration %s, running %s; idle_timeout %s%s%s\n", max, run,
            idle, quiet, sn->guard_fired ? " (a guard fired: see error)" : "");
    return n;
}

/* See fsops.h. */
int fs_status_text(const fs_snapshot *sn, char *buf, size_t cb)
{
    size_t n = 0;

#define ST(...) \
    do { \
        if (n < cb) \
            n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); \
    } while (0)
    if (cb)
        buf[0] = 0;
    ST("phase: %s\n", sn->phase);
    ST("backup: %s, truncate = %s, spool policy = %s\n", sn->type, sn->truncate, sn->policy);
    ST("commit: %s\n", sn->commit_given ? "given" : "not given");
    n = text_files(sn, buf, cb, n);
    if (!sn->logs_known)
        ST("logs: list not known yet\n");
    else
        ST("log-generations: %lu-%lu\n", sn->log_gen_low, sn->log_gen_high);
    if (sn->have_committed)
        ST("committed-at-roll: %llu\n", sn->committed);
    ST("spool: %" PRIu64 " bytes written, cap %" PRIu64 "%s, dir %s\n", sn->spool_written,
       sn->spool_cap, sn->spool_cap ? "" : " (unlimited)", sn->spool_dir);
    ST("rate: %" PRIu64 " bytes/s pulled, max_rate %" PRIu64 "%s, %" PRIu64 " throttle waits\n",
       sn->pull_rate, sn->max_rate, sn->max_rate ? "" : " (unlimited)", sn->throttle_waits);
    if (sn->dropped_reads)
        ST("stream re-reads refused: %" PRIu64 "\n", sn->dropped_reads);
    ST("waiting requests: %d\n", sn->nwaiting);
    n = text_guards(sn, buf, cb, n);
    ST("error: %s\n", sn->failed ? sn->error : "none");
    if (sn->failed)
        ST("error-code: %s\n", sn->error_code);
    if (!strcmp(sn->umount, "done"))
        ST("umount: done: %s\n", sn->decision_calls);
    else if (!strcmp(sn->umount, "deciding"))
        ST("umount: deciding: %s (%s)\n", sn->decision_calls, sn->decision_reason);
    else
        ST("umount now would: %s (%s)\n", sn->decision_calls, sn->decision_reason);
#undef ST
    return sn->failed ? 1 : 0;
}

/* See fsops.h. */
int fs_status(fs_ctx *ctx, char *buf, size_t cb)
{
    fs_snapshot snap;
    int rc;

    rc = fs_status_snapshot(ctx, &snap);
    if (rc < 0) {
        snprintf(buf, cb, "status: out of memory\n");
        return 1;
    }
    rc = fs_status_text(&snap, buf, cb);
    fs_snapshot_free(&snap);
    return rc;
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
