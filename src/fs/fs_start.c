/*
 * fs_start.c -- the start: Begin, the files, the label and manifests, the
 * first open; see fsops.h (states, contracts) and fs_int.h (the core's
 * shared internals).
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

/* Build the label text (fixed at mount) through bkformat.  0 or -ENOMEM.
 * Not yet shared. */
static int build_label(fs_ctx *ctx)
{
    char t[64], src[FS_CONF_PATH + 32];
    const char **dbs = calloc((size_t)ctx->ndb + 1, sizeof *dbs);
    bkf_fslabel l = {
        .start_time = t,
        .start_sec = (long long)ctx->start.sec,
        .start_nsec = (long)ctx->start.nsec,
        .source = src,
        .backend = ctx->be.ops->name,
        .instance = ctx->info.instance,
        .backup_type = fs_conf_type_name(ctx->cfg.type),
        .page_size = ctx->info.cb_page,
        .base_name = ctx->info.base_name,
        .legacy = ctx->info.legacy,
        .truncate = fs_conf_truncate_name(ctx->cfg.truncate),
        .spool_policy = fs_conf_policy_name(ctx->cfg.policy),
        .databases = dbs,
        .ndb = (size_t)ctx->ndb,
        .have_gens = ctx->cfg.type == FS_BACKUP_INCREMENTAL,
        .gen_low = ctx->log_gen_low,
        .gen_high = ctx->log_gen_high,
    };
    int rc;

    if (!dbs)
        return -ENOMEM;
    fs_time_iso(&ctx->start, t, sizeof t);
    snprintf(src, sizeof src, "%s %s", ctx->cfg.endpoint[0] ? "endpoint" : "in-process",
             ctx->cfg.endpoint[0] ? ctx->cfg.endpoint : ctx->cfg.log_path);
    for (int i = 0; i < ctx->ndb; i++)
        dbs[i] = ctx->files[i]->engine_path;
    rc = bkf_fslabel_text(&l, &ctx->label, &ctx->label_len) < 0 ? -ENOMEM : 0;
    free(dbs);
    return rc;
}

/* Format one manifest through bkformat: which = 0 the root `manifest`
 * (databases, and the digest of logs/manifest), 1 `logs/manifest` (logs,
 * generations, committed counter).  Late values are fixed-width, so the
 * text made early has the length of the final one: the root manifest's
 * size is known at mount and logs/manifest's with the log list (stat
 * never waits).  0 or -ENOMEM; *ps is malloc'ed.  ctx->mu held or not
 * shared. */
static int manifest_text(const fs_ctx *ctx, int which, char **ps, size_t *plen)
{
    char t[64];
    int lo = which ? ctx->ndb : 0, hi = which ? ctx->nfiles : ctx->ndb;
    bkf_mfile *mf = calloc((size_t)(hi - lo) + 1, sizeof *mf);
    bkf_manifest m = {
        .logs = which != 0,
        .start_time = t,
        .backup_type = fs_conf_type_name(ctx->cfg.type),
        .gen_low = ctx->log_gen_low,
        .gen_high = ctx->log_gen_high,
        .have_committed = ctx->have_committed != 0,
        .committed_at_roll = ctx->committed,
        .files = mf,
        .nfiles = (size_t)(hi - lo),
        .logman_sha = ctx->logman_digest,
    };
    int rc;

    if (!mf)
        return -ENOMEM;
    fs_time_iso(&ctx->start, t, sizeof t);
    for (int i = lo; i < hi; i++) {
        const fs_file *f = ctx->files[i];
        mf[i - lo] = (bkf_mfile){ .name = f->name,
                                  .is_log = f->kind == FS_K_LOG,
                                  .size = f->size_known ? f->size : 0,
                                  .sha = f->digest };
    }
    rc = bkf_manifest_text(&m, ps, plen) < 0 ? -ENOMEM : 0;
    free(mf);
    return rc;
}

/* The size a manifest will have (see manifest_text).  0 or -ENOMEM. */
static int manifest_size(const fs_ctx *ctx, int which, size_t *plen)
{
    char *s = NULL;
    int rc = manifest_text(ctx, which, &s, plen);

    free(s);
    return rc;
}

/* See fs_int.h. */
int fs_build_manifest(fs_ctx *ctx)
{
    char *logman = NULL, *man = NULL;
    size_t n1 = 0, n0 = 0;
    int rc;

    rc = manifest_text(ctx, 1, &logman, &n1);
    if (rc < 0)
        goto out;
    rc = fs_sha256_buf(logman, n1, ctx->logman_digest);
    if (rc < 0)
        goto out;
    rc = manifest_text(ctx, 0, &man, &n0);
    if (rc < 0)
        goto out;
    if (n0 != ctx->manifest_len || n1 != ctx->logman_len) {
        rc = -EPROTO;
        goto out;
    }
    ctx->logman = logman;
    ctx->manifest = man;
    logman = man = NULL;
out:
    free(logman);
    free(man);
    return rc;
}

/* See fs_int.h. */
JET_ERR fs_open_file(fs_ctx *ctx, fs_file *f)
{
    JET_HANDLE h = 0;
    uint64_t size = 0;
    JET_ERR rc;
    fs_sha256 *sha = NULL;

    rc = ctx->be.ops->open(ctx->be.ctx, f->engine_path, &h, &size);
    fs_mutex_lock(ctx->mu);
    if (rc < 0)
        goto out;
    if (fs_sha256_new(&sha) < 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    f->sha = sha;
    ctx->h = h;
    f->size = size;
    f->size_known = true;
    f->open = true;
    f->spool_base = ctx->spool_next;
    ctx->spool_next += size;
out:
    fs_cond_broadcast(ctx->cv_data);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fs_int.h. */
JET_ERR fs_get_logs(fs_ctx *ctx)
{
    JET_LOGINFO_A li;
    char *szz = NULL;
    unsigned long long committed = 0;
    int have_committed = 0;
    JET_ERR rc;
    int erc;

    rc = bkc_get_list(&ctx->be, BKC_LIST_LOGS, &szz, &li);
    if (rc < 0)
        goto out;
    if (ctx->be.ops->committed_at_roll &&
        ctx->be.ops->committed_at_roll(ctx->be.ctx, &committed) >= 0)
        have_committed = 1;
    fs_mutex_lock(ctx->mu);
    for (const char *p = bkc_szz_first(szz); p; p = bkc_szz_next(p)) {
        erc = fs_add_file(ctx, p, FS_K_LOG);
        if (erc < 0) {
            fs_mutex_unlock(ctx->mu);
            rc = erc == -ENOMEM ? JET_errOutOfMemory : JET_errInvalidName;
            fs_log(FS_LOG_ERR, "log list entry '%s' refused (%s)", p, strerror(-erc));
            goto out;
        }
    }
    ctx->log_gen_low = li.ulGenLow;
    ctx->log_gen_high = li.ulGenHigh;
    ctx->have_committed = have_committed;
    ctx->committed = committed;
    erc = manifest_size(ctx, 1, &ctx->logman_len);
    if (erc < 0) {
        fs_mutex_unlock(ctx->mu);
        rc = JET_errOutOfMemory;
        goto out;
    }
    ctx->logs_known = true;
    if (ctx->state == FS_ST_DATABASES) /* else: start (incremental), or halted */
        (void)fs_set_state(ctx, FS_ST_LOGS);
    fs_log(FS_LOG_INFO, "log list known: %d log files, generations %lu-%lu%s",
           ctx->nfiles - ctx->ndb, li.ulGenLow, li.ulGenHigh,
           have_committed ? "" : " (no committed counter)");
    fs_cond_broadcast(ctx->cv_data);
    fs_mutex_unlock(ctx->mu);
out:
    free(szz);
    return rc;
}

/* Query the instance and check read_size/page_size against its page
 * size.  0 or a Jet error with one line in err.  Not yet shared. */
static JET_ERR start_check_instance(fs_ctx *ctx, char *err, size_t cb_err)
{
    char en[96];
    JET_ERR rc;

    memset(&ctx->info, 0, sizeof ctx->info);
    rc = ctx->be.ops->info(ctx->be.ctx, &ctx->info);
    if (rc < 0) {
        fs_jet_name(rc, en, sizeof en);
        snprintf(err, cb_err, "cannot query the instance: %s", en);
        return rc;
    }
    if (!ctx->info.cb_page || ctx->cfg.read_size % ctx->info.cb_page ||
        ctx->cfg.read_size < 3 * ctx->info.cb_page) {
        snprintf(err, cb_err,
                 "%s:%d: read_size %" PRIu64 " must be a multiple of the instance's "
                 "page size %lu and at least 3 pages",
                 ctx->cfg.file, ctx->cfg.read_size_line, ctx->cfg.read_size, ctx->info.cb_page);
        return JET_errInvalidParameter;
    }
    if (ctx->cfg.page_size && ctx->cfg.page_size != ctx->info.cb_page) {
        snprintf(err, cb_err, "page_size %lu in %s does not match the instance's %lu",
                 ctx->cfg.page_size, ctx->cfg.file, ctx->info.cb_page);
        return JET_errInvalidParameter;
    }
    return 0;
}

/* Learn the files after Begin: full = the attached databases (at least
 * one), incremental = the logs; then open the first one.  0 or a Jet
 * error with one line in err.  Not yet shared (STARTING). */
static JET_ERR start_files(fs_ctx *ctx, char *err, size_t cb_err)
{
    char *szz = NULL;
    char en[96];
    JET_ERR rc;
    int erc;

    if (ctx->cfg.type == FS_BACKUP_FULL) {
        rc = bkc_get_list(&ctx->be, BKC_LIST_ATTACH, &szz, NULL);
        if (rc < 0) {
            fs_jet_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetGetAttachInfoInstance failed: %s", en);
            goto out;
        }
        for (const char *p = bkc_szz_first(szz); p; p = bkc_szz_next(p)) {
            erc = fs_add_file(ctx, p, FS_K_DB);
            if (erc < 0) {
                snprintf(err, cb_err, "database '%s' cannot be exposed: %s", p,
                         erc == -EEXIST ? "its file name clashes with another entry"
                                        : strerror(-erc));
                rc = JET_errInvalidName;
                goto out;
            }
            ctx->ndb++;
        }
        if (!ctx->ndb) {
            snprintf(err, cb_err, "the instance has no attached database: %s",
                     bkc_err_name(JET_errDatabaseNotFound));
            rc = JET_errDatabaseNotFound;
            goto out;
        }
    } else {
        rc = fs_get_logs(ctx);
        if (rc < 0) {
            fs_jet_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetGetLogInfoInstance2 failed: %s", en);
            goto out;
        }
    }
    rc = 0;
    if (ctx->nfiles) {
        rc = fs_open_file(ctx, ctx->files[0]);
        if (rc < 0) {
            fs_jet_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetOpenFileInstance(%s) failed: %s", ctx->files[0]->engine_path,
                     en);
        }
    }
out:
    free(szz);
    return rc;
}

/* Build the label, size the root manifest, prepare the spool, the stream
 * window and the read buffer.  0 or a Jet error with one line in err.
 * Not yet shared (STARTING). */
static JET_ERR start_buffers(fs_ctx *ctx, char *err, size_t cb_err)
{
    int erc;

    erc = build_label(ctx);
    if (erc >= 0)
        erc = manifest_size(ctx, 0, &ctx->manifest_len);
    for (int i = 0; i < 2 && erc >= 0; i++) {
        ctx->man[i] = fs_file_new(FS_MANIFEST_NAME, i ? FS_K_LOGMAN : FS_K_MANIFEST, -1,
                                  i ? FS_INO_LOGMAN : FS_INO_MANIFEST);
        if (!ctx->man[i])
            erc = -ENOMEM;
    }
    if (erc < 0) {
        snprintf(err, cb_err, "out of memory for the label/manifest");
        return JET_errOutOfMemory;
    }
    erc = fs_spool_init(&ctx->spool, ctx->cfg.spool_dir, ctx->cfg.spool_cap);
    if (erc < 0) {
        snprintf(err, cb_err, "spool directory %s: %s", ctx->cfg.spool_dir, strerror(-erc));
        return JET_errInvalidPath;
    }
    /* the window (both policies: in-order readers are served from it) must
     * hold the largest request plus the chunk the producer writes past it
     * (and one more chunk of read-ahead), or an in-order reader's bytes
     * could be overwritten before it copies them (stream: lost) */
    ctx->max_req = (uint64_t)FS_MAX_REQ_PAGES * (uint64_t)fs_page_size();
    if (ctx->cfg.window < ctx->max_req + 2 * ctx->cfg.read_size) {
        fs_log(FS_LOG_NOTICE,
               "%s: [spool] window %" PRIu64 " raised to %" PRIu64 " (largest "
               "read request %" PRIu64 " + 2 x read_size)",
               ctx->cfg.file, ctx->cfg.window, ctx->max_req + 2 * ctx->cfg.read_size, ctx->max_req);
        ctx->cfg.window = ctx->max_req + 2 * ctx->cfg.read_size;
    }
    erc = fs_window_init(&ctx->win, ctx->cfg.window);
    if (erc >= 0) {
        ctx->buf = fs_aligned_alloc(4096, ctx->cfg.read_size);
        if (!ctx->buf)
            erc = -ENOMEM;
    }
    if (erc < 0) {
        snprintf(err, cb_err, "out of memory for the read buffer/window");
        return JET_errOutOfMemory;
    }
    return 0;
}

/* Start the hasher, the spooler and the producer; they wait for mu, then
 * run in DATABASES/LOGS, the state this sets once all three are started.
 * 0, or -errno with none left running.  ctx->mu not held (STARTING). */
static int start_threads(fs_ctx *ctx)
{
    int erc;

    fs_mutex_lock(ctx->mu);
    erc = fs_thread_start(&ctx->hasher, fs_hasher_main, ctx);
    if (erc < 0)
        ctx->hasher = NULL;
    if (erc >= 0) {
        erc = fs_thread_start(&ctx->spooler, fs_spooler_main, ctx);
        if (erc < 0)
            ctx->spooler = NULL;
    }
    if (erc >= 0) {
        erc = fs_thread_start(&ctx->producer, fs_producer_main, ctx);
        if (erc < 0)
            ctx->producer = NULL;
    }
    if (erc >= 0)
        (void)fs_set_state(ctx, ctx->logs_known ? FS_ST_LOGS : FS_ST_DATABASES);
    fs_mutex_unlock(ctx->mu);
    /* on failure the started ones saw STARTING and returned */
    if (erc < 0 && ctx->hasher) {
        fs_thread_join(ctx->hasher);
        ctx->hasher = NULL;
    }
    if (erc < 0 && ctx->spooler) {
        fs_thread_join(ctx->spooler);
        ctx->spooler = NULL;
    }
    return erc;
}

/* See fsops.h.  NEW -> STARTING (Begin) -> DATABASES or LOGS (producer
 * started); a failure after Begin ends the backup (Abort) -> ENDED. */
JET_ERR fs_ctx_start(fs_ctx *ctx, char *err, size_t cb_err)
{
    const bkc_ops *ops = ctx->be.ops;
    char en[96];
    JET_ERR rc;
    int erc;

    err[0] = 0;
    rc = start_check_instance(ctx, err, cb_err);
    if (rc < 0)
        goto out;
    fs_clock_real(&ctx->start);
    ctx->start_ns = ctx->last_ns = fs_clock_mono_ns();
    rc = ops->begin(ctx->be.ctx,
                    ctx->cfg.type == FS_BACKUP_INCREMENTAL ? JET_bitBackupIncremental : 0);
    if (rc < 0) {
        fs_jet_name(rc, en, sizeof en);
        snprintf(err, cb_err, "JetBeginExternalBackupInstance (%s backup) failed: %s",
                 fs_conf_type_name(ctx->cfg.type), en);
        goto out;
    }
    (void)fs_set_state(ctx, FS_ST_STARTING);
    erc = fs_guard_start(ctx);
    if (erc < 0) {
        snprintf(err, cb_err, "cannot start the guard thread: %s", strerror(-erc));
        rc = JET_errOutOfMemory;
        goto out;
    }
    rc = start_files(ctx, err, cb_err);
    if (rc < 0)
        goto out;
    rc = start_buffers(ctx, err, cb_err);
    if (rc < 0)
        goto out;
    erc = start_threads(ctx);
    if (erc < 0) {
        snprintf(err, cb_err, "cannot start the producer/hasher/spooler threads: %s",
                 strerror(-erc));
        rc = JET_errOutOfMemory;
        goto out;
    }
    fs_log(FS_LOG_INFO, "%s backup started (%s, %d database(s), truncate=%s, spool=%s)",
           fs_conf_type_name(ctx->cfg.type), ops->name, ctx->ndb,
           fs_conf_truncate_name(ctx->cfg.truncate), fs_conf_policy_name(ctx->cfg.policy));
    rc = 0;
out:
    if (rc < 0 && ctx->state != FS_ST_NEW) {
        JET_ERR erc2 = ops->end(ctx->be.ctx, JET_bitBackupEndAbort);
        fs_mutex_lock(ctx->mu); /* the watchdog (guards on) reads the state */
        ctx->decision = FS_DECIDE_ABORT;
        ctx->decision_reason = "the start failed";
        fs_clock_real(&ctx->end);
        (void)fs_set_state(ctx, FS_ST_ENDED);
        fs_mutex_unlock(ctx->mu);
        if (erc2 < 0 && erc2 != JET_errNoBackup)
            fs_log(FS_LOG_WARNING, "JetEndExternalBackupInstance2(Abort) after a failed start: %s",
                   bkc_err_name(erc2));
    }
    return rc;
}
