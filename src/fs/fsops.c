/*
 * fsops.c -- the esebackupfs core; see fsops.h.
 *
 * Divisions:
 *   1. context, helpers
 *   2. start (begin backup, first open, label)
 *   3. producer thread
 *   4. operations
 *   5. status, commit, umount decision
 *
 * THREAD SAFETY NOTES.  ctx->mu guards every field of fs_ctx and of the
 * fs_file entries.  The producer drops it around engine calls, SHA-256
 * updates and spool writes; readers drop it around spool preads (spool
 * regions are written once, before `produced` covers them, and never
 * again).  cv_prod wakes the producer (new demand, stop); cv_data wakes
 * waiters (bytes produced, file opened, log list known, failure, end).
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
#include "jetlib.h"
#include "fsops.h"
#include "plat.h"
#include "spool.h"
#include "tree.h"

#define FS_FH_LABEL 1
#define FS_FH_MANIFEST 2
#define FS_FH_LOGMAN 3
#define FS_FH_FILE0 16
#define FS_MAX_FILES 100000
/* The largest read request the kernel sends to a FUSE daemon: 256 pages
 * (FUSE_MAX_MAX_PAGES; libfuse's buffer).  With direct_io every read(2)
 * arrives in requests of at most this size. */
#define FS_MAX_REQ_PAGES 256

/* A reader waiting for bytes [lo, hi) of file `file` (on its stack),
 * linked in fs_ctx.waiters: the producer does not touch the stream window
 * while a waiter's bytes are ready but not yet copied (see ready_waiter). */
typedef struct fs_rwait {
    int file;
    uint64_t lo, hi;
    struct fs_rwait *next;
} fs_rwait;

/* ==== 1. context ======================================================= */

struct fs_ctx {
    fs_config cfg;
    bkc_source be;
    bkc_info info;

    fs_mutex *mu;
    fs_cond *cv_prod;
    fs_cond *cv_data;
    fs_thread *producer;            /* non-NULL from its start until joined */

    enum fs_state state;            /* see fsops.h STATES; only set_state changes it */
    fs_error error;                 /* first error (kind NONE until one happens) */
    char errmsg[512];               /* its one-line description */
    fs_time start;                  /* backup start = every timestamp */
    fs_file **files;                /* engine files in production order */
    int nfiles, cap_files;
    int ndb;
    bool logs_known;                /* the log list is in files[ndb..] */
    int cur;                        /* file being produced */
    int pull_to;                    /* files < pull_to must be produced */
    bool pull_all;                  /* pull everything (manifest wanted) */
    JET_HANDLE h;                   /* engine handle of the open file */
    unsigned long log_gen_low, log_gen_high;
    bool have_committed;
    unsigned long long committed;   /* host committed counter at the roll */
    bool commit_requested;
    enum fs_decision decision;      /* valid from DECIDING (updated by fallbacks) */
    const char *decision_reason;    /* static string, valid from DECIDING */

    char *label;
    size_t label_len;
    char *manifest;                 /* root manifest text (NULL until complete) */
    size_t manifest_len;            /* its size, fixed at start */
    char *logman;                   /* logs/manifest text (NULL until complete) */
    size_t logman_len;              /* its size, fixed with the log list */
    unsigned char logman_digest[32];
    fs_file *man[2];                /* delivery of [0] manifest, [1] logs/manifest */
    fs_rwait *waiters;              /* readers waiting for engine bytes */
    uint64_t max_req;               /* largest request size served under stream */

    fs_spool spool;
    fs_window win;
    unsigned char *buf;             /* producer's page-aligned read buffer */
    uint64_t spool_next;            /* next free spool region */
    uint64_t dropped_reads;         /* stream policy: re-reads refused */
    uint64_t spool_written;         /* bytes written to the spool (under mu) */
    int nwaiting;                   /* requests blocked waiting for the engine */
};

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
    [FS_ST_NEW] = "NEW", [FS_ST_STARTING] = "STARTING", [FS_ST_DATABASES] = "DATABASES",
    [FS_ST_LOGS] = "LOGS", [FS_ST_COMPLETE] = "COMPLETE", [FS_ST_STOPPING] = "STOPPING",
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

/* The one place the state changes: move to `to` if the STATES table
 * allows it and wake every waiter.  A move not in the table is a bug: it
 * is logged with the caller's line and refused (state unchanged).
 * Returns whether it moved.  ctx->mu held (or ctx not shared yet).  Call
 * it as set_state(ctx, to). */
static bool set_state_at(fs_ctx *ctx, enum fs_state to, int line)
{
    if (!may_move(ctx, to)) {
        fs_log(FS_LOG_ERR, "%s:%d: state move %s -> %s refused (not in fsops.h's table)",
               __FILE__, line, fs_state_name(ctx->state), fs_state_name(to));
        return false;
    }
    ctx->state = to;
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod);
    return true;
}
#define set_state(ctx, to) set_state_at((ctx), (to), __LINE__)

/* Must the producer and every waiter stop (failed, signal, umount)?
 * ctx->mu held. */
static bool halted(const fs_ctx *ctx)
{
    return ctx->state == FS_ST_FAILED || ctx->state == FS_ST_STOPPING ||
           ctx->state == FS_ST_DECIDING || ctx->state == FS_ST_ENDED;
}

/* Has the backup failed (an error is recorded)?  ctx->mu held. */
static bool failed(const fs_ctx *ctx)
{
    return ctx->error.kind != FS_ERR_NONE;
}

/* Are the manifests built (every engine file pulled)?  Stays true after
 * COMPLETE (a later failure or the decision keeps them).  ctx->mu held. */
static bool complete(const fs_ctx *ctx)
{
    return ctx->manifest != NULL;
}

/* Has fs_ctx_finish taken the umount decision?  ctx->mu held. */
static bool decided(const fs_ctx *ctx)
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
        snprintf(buf, cb, "%s (%ld)", JetLibErrorName((JET_ERR)e.code), e.code);
        break;
    case FS_ERR_ERRNO:
        snprintf(buf, cb, "errno %ld (%s)", e.code, strerror((int)e.code));
        break;
    default:
        snprintf(buf, cb, "none");
    }
}

/* Record the first failure of the backup: remember the error and its
 * text, log it, move to FAILED where the STATES table allows (after the
 * decision the error is only recorded) and wake everybody.  ctx->mu held. */
static void ctx_fail(fs_ctx *ctx, fs_error err, const char *fmt, ...) FS_PRINTF(3, 4);
static void ctx_fail(fs_ctx *ctx, fs_error err, const char *fmt, ...)
{
    va_list ap;

    if (!failed(ctx)) {
        ctx->error = err;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
        fs_log(FS_LOG_ERR, "backup failed: %s", ctx->errmsg);
    }
    if (ctx->state != FS_ST_FAILED && may_move(ctx, FS_ST_FAILED))
        (void)set_state(ctx, FS_ST_FAILED);
    fs_cond_broadcast(ctx->cv_data);
    fs_cond_broadcast(ctx->cv_prod);
}

/* Name of a Jet error or errno for messages ("JET_errDiskIO (-1022)"). */
static void err_name(JET_ERR err, char *buf, size_t cb)
{
    snprintf(buf, cb, "%s (%ld)", JetLibErrorName(err), (long)err);
}

/* See fsops.h. */
int fs_ctx_new(const fs_config *cfg, const bkc_source *be, fs_ctx **pctx)
{
    fs_ctx *ctx = calloc(1, sizeof *ctx);
    int rc;

    if (!ctx)
        return -ENOMEM;
    ctx->cfg = *cfg;
    ctx->be = *be;
    ctx->state = FS_ST_NEW;
    rc = fs_mutex_new(&ctx->mu);
    if (rc >= 0)
        rc = fs_cond_new(&ctx->cv_prod);
    if (rc >= 0)
        rc = fs_cond_new(&ctx->cv_data);
    if (rc < 0) {
        fs_cond_free(ctx->cv_prod);
        fs_mutex_free(ctx->mu);
        free(ctx);
        return rc;
    }
    *pctx = ctx;
    return 0;
}

/* Append an engine file entry.  0, or -ENOMEM, -EEXIST (name clash),
 * -EINVAL (no usable base name), -EFBIG (too many files).
 * ctx->mu held or not yet shared. */
static int ctx_add_file(fs_ctx *ctx, const char *engine_path, enum fs_kind kind)
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

/* ==== 2. start ========================================================== */

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
        mf[i - lo] = (bkf_mfile){ .name = f->name, .is_log = f->kind == FS_K_LOG,
                                  .size = f->size_known ? f->size : 0, .sha = f->digest };
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

/* Build both manifests once every engine file is done: logs/manifest,
 * its digest, then the root one.  Each must have the size announced
 * earlier.  0, -ENOMEM, or -EPROTO (size differs: a bug, fail loudly);
 * ctx->manifest and ctx->logman are set only on success (complete()).
 * ctx->mu held. */
static int build_manifest(fs_ctx *ctx)
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

/* Open engine file f (producer or start; ctx->mu NOT held by the caller
 * for the engine call: we take and drop it here).  Returns the Jet error. */
static JET_ERR open_file(fs_ctx *ctx, fs_file *f)
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

/* Ask for the log list, record the logs (GetLogInfo rolls the log) and
 * the committed counter.  Caller does not hold ctx->mu. */
static JET_ERR get_logs(fs_ctx *ctx)
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
        erc = ctx_add_file(ctx, p, FS_K_LOG);
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
        (void)set_state(ctx, FS_ST_LOGS);
    fs_log(FS_LOG_INFO, "log list known: %d log files, generations %lu-%lu%s", ctx->nfiles - ctx->ndb,
           li.ulGenLow, li.ulGenHigh, have_committed ? "" : " (no committed counter)");
    fs_cond_broadcast(ctx->cv_data);
    fs_mutex_unlock(ctx->mu);
out:
    free(szz);
    return rc;
}

static void producer_main(void *arg);

/* Query the instance and check read_size/page_size against its page
 * size.  0 or a Jet error with one line in err.  Not yet shared. */
static JET_ERR start_check_instance(fs_ctx *ctx, char *err, size_t cb_err)
{
    char en[96];
    JET_ERR rc;

    memset(&ctx->info, 0, sizeof ctx->info);
    rc = ctx->be.ops->info(ctx->be.ctx, &ctx->info);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        snprintf(err, cb_err, "cannot query the instance: %s", en);
        return rc;
    }
    if (!ctx->info.cb_page || ctx->cfg.read_size % ctx->info.cb_page ||
        ctx->cfg.read_size < 3 * ctx->info.cb_page) {
        snprintf(err, cb_err, "%s:%d: read_size %" PRIu64 " must be a multiple of the instance's "
                 "page size %lu and at least 3 pages", ctx->cfg.file, ctx->cfg.read_size_line,
                 ctx->cfg.read_size, ctx->info.cb_page);
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
            err_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetGetAttachInfoInstance failed: %s", en);
            goto out;
        }
        for (const char *p = bkc_szz_first(szz); p; p = bkc_szz_next(p)) {
            erc = ctx_add_file(ctx, p, FS_K_DB);
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
                     JetLibErrorName(JET_errDatabaseNotFound));
            rc = JET_errDatabaseNotFound;
            goto out;
        }
    } else {
        rc = get_logs(ctx);
        if (rc < 0) {
            err_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetGetLogInfoInstance2 failed: %s", en);
            goto out;
        }
    }
    rc = 0;
    if (ctx->nfiles) {
        rc = open_file(ctx, ctx->files[0]);
        if (rc < 0) {
            err_name(rc, en, sizeof en);
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
    /* stream: the window must hold the largest request plus the chunk the
     * producer writes past it (and one more chunk of read-ahead), or an
     * in-order reader's bytes could be overwritten before it copies them */
    ctx->max_req = (uint64_t)FS_MAX_REQ_PAGES * (uint64_t)fs_page_size();
    if (ctx->cfg.policy == FS_SPOOL_STREAM &&
        ctx->cfg.window < ctx->max_req + 2 * ctx->cfg.read_size) {
        fs_log(FS_LOG_NOTICE, "%s: [spool] window %" PRIu64 " raised to %" PRIu64 " (largest "
               "read request %" PRIu64 " + 2 x read_size)", ctx->cfg.file, ctx->cfg.window,
               ctx->max_req + 2 * ctx->cfg.read_size, ctx->max_req);
        ctx->cfg.window = ctx->max_req + 2 * ctx->cfg.read_size;
    }
    erc = fs_window_init(&ctx->win, ctx->cfg.policy == FS_SPOOL_STREAM ? ctx->cfg.window : 0);
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
    rc = ops->begin(ctx->be.ctx, ctx->cfg.type == FS_BACKUP_INCREMENTAL ? JET_bitBackupIncremental
                                                                        : 0);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        snprintf(err, cb_err, "JetBeginExternalBackupInstance (%s backup) failed: %s",
                 fs_conf_type_name(ctx->cfg.type), en);
        goto out;
    }
    (void)set_state(ctx, FS_ST_STARTING);
    rc = start_files(ctx, err, cb_err);
    if (rc < 0)
        goto out;
    rc = start_buffers(ctx, err, cb_err);
    if (rc < 0)
        goto out;
    /* the producer runs only in DATABASES/LOGS: it waits for mu until
     * the state says so */
    fs_mutex_lock(ctx->mu);
    erc = fs_thread_start(&ctx->producer, producer_main, ctx);
    if (erc >= 0)
        (void)set_state(ctx, ctx->logs_known ? FS_ST_LOGS : FS_ST_DATABASES);
    fs_mutex_unlock(ctx->mu);
    if (erc < 0) {
        ctx->producer = NULL;
        snprintf(err, cb_err, "cannot start the producer thread: %s", strerror(-erc));
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
        ctx->decision = FS_DECIDE_ABORT;
        ctx->decision_reason = "the start failed";
        (void)set_state(ctx, FS_ST_ENDED);
        if (erc2 < 0 && erc2 != JET_errNoBackup)
            fs_log(FS_LOG_WARNING, "JetEndExternalBackupInstance2(Abort) after a failed start: %s",
                   JetLibErrorName(erc2));
    }
    return rc;
}

/* ==== 3. producer ======================================================= */

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

/* Are bytes of f being pulled ahead of every reader (self-pull)?
 * ctx->mu held. */
static int self_pull(const fs_ctx *ctx, const fs_file *f)
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

/* Read one chunk of the current file and publish it.  Called with ctx->mu
 * held; drops it around the engine call and the spool write. */
static void produce_chunk(fs_ctx *ctx, fs_file *f)
{
    unsigned long got = 0;
    uint64_t off = f->produced, remain = f->size - f->produced;
    int keep = ctx->cfg.policy == FS_SPOOL_KEEP;
    int self = self_pull(ctx, f);
    JET_HANDLE h = ctx->h;
    fs_sha256 *sha = f->sha;
    uint64_t base = f->spool_base;
    JET_ERR rc;
    int erc = 0;
    char en[96];
    unsigned char *dst = ctx->buf;
    int direct = 0;

    /* stream policy: the engine reads straight into the window, so an
     * in-order reader's bytes are copied once (window -> FUSE reply) */
    if (!keep) {
        unsigned char *w = fs_window_reserve(&ctx->win, f->index, off, ctx->cfg.read_size);
        if (w != NULL) {
            dst = w;
            direct = 1;
        }
    }
    fs_mutex_unlock(ctx->mu);
    rc = ctx->be.ops->read(ctx->be.ctx, h, dst, (unsigned long)ctx->cfg.read_size, &got);
    if (rc >= 0 && (got == 0 || got > remain))
        rc = JET_errFileIOBeyondEOF;
    if (rc >= 0 && fs_sha256_update(sha, dst, got) < 0)
        rc = JET_errOutOfMemory;
    if (rc >= 0 && (keep || self))
        erc = fs_spool_write(&ctx->spool, base + off, dst, got);
    fs_mutex_lock(ctx->mu);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        f->fail_at = off;
        f->open = false; /* the engine closed (db) or aborted (log) it */
        ctx_fail(ctx, fs_err_jet(rc), "JetReadFileInstance(%s) at offset %" PRIu64 ": %s%s", f->name, off, en,
                 rc == JET_errFileIOBeyondEOF ? " (stream length differs from its size)" : "");
        return;
    }
    if (erc < 0) {
        f->fail_at = off;
        if (erc == -ENOSPC)
            ctx_fail(ctx, fs_err_errno(-erc), "spool full writing %s at offset %" PRIu64
                     " (%s; cap %" PRIu64 " bytes, %" PRIu64 " written): raise [spool] cap or "
                     "free space in %s", f->name, off, strerror(-erc), ctx->cfg.spool_cap,
                     ctx->spool_written, ctx->cfg.spool_dir);
        else
            ctx_fail(ctx, fs_err_errno(-erc), "spool write for %s at offset %" PRIu64 ": %s", f->name,
                     off, strerror(-erc));
        return;
    }
    if (!keep) {
        if (direct)
            fs_window_commit(&ctx->win, f->index, off, got);
        else
            fs_window_put(&ctx->win, f->index, off, ctx->buf, got);
        if (self && f->spooled_from == FS_NONE)
            f->spooled_from = off;
    }
    if (keep || self)
        ctx->spool_written += got;
    f->produced += got;
    fs_cond_broadcast(ctx->cv_data);
}

/* Close the fully read current file, finish its digest, move on.
 * ctx->mu held; dropped around the engine call. */
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
        err_name(rc, en, sizeof en);
        ctx_fail(ctx, fs_err_jet(rc), "JetCloseFileInstance(%s): %s", f->name, en);
        return;
    }
    if (fs_sha256_final(f->sha, f->digest) < 0) {
        ctx_fail(ctx, fs_err_errno(ENOMEM), "SHA-256 of %s failed", f->name);
        return;
    }
    fs_sha256_free(f->sha);
    f->sha = NULL;
    f->done = true;
    ctx->cur++;
    fs_log(FS_LOG_DEBUG, "%s: %" PRIu64 " bytes pulled", f->name, f->size);
    fs_cond_broadcast(ctx->cv_data);
}

/* The producer: the only thread that calls the engine while mounted.
 * Runs until everything is produced, the backup failed, or stop. */
static void producer_main(void *arg)
{
    fs_ctx *ctx = arg;
    JET_ERR rc;
    char en[96];

    fs_mutex_lock(ctx->mu);
    while (ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) {
        fs_file *f = ctx->cur < ctx->nfiles ? ctx->files[ctx->cur] : NULL;

        if (f && f->open && f->produced < f->size) {
            if (!want_bytes(ctx, f) ||
                (ctx->cfg.policy == FS_SPOOL_STREAM && ready_waiter(ctx))) {
                fs_cond_wait(ctx->cv_prod, ctx->mu);
                continue;
            }
            produce_chunk(ctx, f);
        } else if (f && f->open) {
            finish_file(ctx, f);
        } else if (f) {
            fs_mutex_unlock(ctx->mu);
            rc = open_file(ctx, f);
            fs_mutex_lock(ctx->mu);
            if (rc < 0) {
                err_name(rc, en, sizeof en);
                f->fail_at = 0;
                ctx_fail(ctx, fs_err_jet(rc), "JetOpenFileInstance(%s): %s", f->engine_path, en);
            }
        } else if (!ctx->logs_known) {
            fs_mutex_unlock(ctx->mu);
            rc = get_logs(ctx);
            fs_mutex_lock(ctx->mu);
            if (rc < 0) {
                err_name(rc, en, sizeof en);
                ctx_fail(ctx, fs_err_jet(rc), "JetGetLogInfoInstance2: %s", en);
            }
        } else {
            int mrc = build_manifest(ctx);
            if (mrc < 0) {
                ctx_fail(ctx, fs_err_errno(-mrc), "building the manifest: %s",
                         mrc == -ENOMEM ? "out of memory"
                                        : "its size differs from the size announced (bug)");
                break;
            }
            (void)set_state(ctx, FS_ST_COMPLETE);
            fs_log(FS_LOG_INFO, "every backup byte pulled from the engine; manifest ready");
        }
    }
    fs_mutex_unlock(ctx->mu);
}

/* ==== 4. operations ===================================================== */

/* Resolution of a path. */
typedef struct fs_node {
    enum fs_kind kind;
    fs_file *f;
} fs_node;

/* Wait once on cv_data, counted in ctx->nwaiting (shown by status).
 * ctx->mu held. */
static void wait_data(fs_ctx *ctx)
{
    ctx->nwaiting++;
    fs_cond_wait(ctx->cv_data, ctx->mu);
    ctx->nwaiting--;
}

/* A request that waited for the engine is answered EIO because the
 * mount is being stopped: that is a failure a reader sees, so it fails
 * the backup (umount aborts).  Returns -EIO.  ctx->mu held. */
static int waiter_eio(fs_ctx *ctx, const char *what)
{
    if (!failed(ctx))
        ctx_fail(ctx, fs_err_jet(JET_errTermInProgress), "%s: EIO returned to a reader (the mount is "
                 "stopping)", what);
    return -EIO;
}

/* Wait until the log list is known (pulling the databases meanwhile).
 * 0 or -EIO.  ctx->mu held. */
static int wait_logs(fs_ctx *ctx)
{
    while (!ctx->logs_known && !halted(ctx)) {
        if (ctx->pull_to < ctx->ndb)
            ctx->pull_to = ctx->ndb;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return ctx->logs_known ? 0 : waiter_eio(ctx, "logs/ (waiting for the log list)");
}

/* Wait until f's size is known.  0 or -EIO.  ctx->mu held. */
static int wait_size(fs_ctx *ctx, fs_file *f)
{
    while (!f->size_known && !halted(ctx)) {
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return f->size_known ? 0 : waiter_eio(ctx, f->name);
}

/* Wait until the manifest exists (everything pulled).  0 or -EIO.
 * ctx->mu held. */
static int wait_complete(fs_ctx *ctx)
{
    while (!complete(ctx) && !halted(ctx)) {
        ctx->pull_all = true;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return complete(ctx) ? 0 : waiter_eio(ctx, FS_MANIFEST_NAME " (waiting for the end)");
}

/* Resolve path to a node; blocks for names under logs/.  0, -ENOENT,
 * -ENOTDIR or -EIO.  ctx->mu held. */
static int resolve(fs_ctx *ctx, const char *path, fs_node *n)
{
    const char *name;
    int rc;

    n->kind = FS_K_NONE;
    n->f = NULL;
    if (path[0] != '/')
        return -ENOENT;
    name = path + 1;
    if (!name[0]) {
        n->kind = FS_K_ROOT;
        return 0;
    }
    if (!strcmp(name, FS_LABEL_NAME)) {
        n->kind = FS_K_LABEL;
        return 0;
    }
    if (!strcmp(name, FS_MANIFEST_NAME)) {
        n->kind = FS_K_MANIFEST;
        return 0;
    }
    if (!strcmp(name, FS_LOGS_NAME)) {
        n->kind = FS_K_LOGSDIR;
        return 0;
    }
    if (!strncmp(name, FS_LOGS_NAME "/", sizeof FS_LOGS_NAME)) {
        name += sizeof FS_LOGS_NAME;
        if (strchr(name, '/'))
            return -ENOENT;
        rc = wait_logs(ctx);
        if (rc < 0)
            return rc;
        if (!strcmp(name, FS_MANIFEST_NAME)) {
            n->kind = FS_K_LOGMAN;
            return 0;
        }
        for (int i = ctx->ndb; i < ctx->nfiles; i++)
            if (!strcmp(ctx->files[i]->name, name)) {
                n->kind = FS_K_LOG;
                n->f = ctx->files[i];
                return 0;
            }
        return -ENOENT;
    }
    if (strchr(name, '/')) {
        for (int i = 0; i < ctx->ndb; i++) {
            size_t l = strlen(ctx->files[i]->name);
            if (!strncmp(name, ctx->files[i]->name, l) && name[l] == '/')
                return -ENOTDIR;
        }
        if (!strncmp(name, FS_LABEL_NAME "/", sizeof FS_LABEL_NAME) ||
            !strncmp(name, FS_MANIFEST_NAME "/", sizeof FS_MANIFEST_NAME))
            return -ENOTDIR;
        return -ENOENT;
    }
    for (int i = 0; i < ctx->ndb; i++)
        if (!strcmp(ctx->files[i]->name, name)) {
            n->kind = FS_K_DB;
            n->f = ctx->files[i];
            return 0;
        }
    return -ENOENT;
}

/* Fill st for a resolved node, blocking where D1/D3 say so.  ctx->mu held. */
static int node_stat(fs_ctx *ctx, const fs_node *n, fs_attr *st)
{
    int rc;

    switch (n->kind) {
    case FS_K_ROOT:
        fs_attr_fill(st, FS_INO_ROOT, 1, 0, 3, &ctx->start);
        return 0;
    case FS_K_LOGSDIR:
        fs_attr_fill(st, FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1, 0, 2, &ctx->start);
        return 0;
    case FS_K_LABEL:
        fs_attr_fill(st, FS_INO_LABEL, 0, ctx->label_len, 1, &ctx->start);
        return 0;
    case FS_K_MANIFEST:
        /* size fixed at mount: a stat (ls -l) never waits or pulls */
        fs_attr_fill(st, FS_INO_MANIFEST, 0, ctx->manifest_len, 1, &ctx->start);
        return 0;
    case FS_K_LOGMAN:
        /* size fixed with the log list (resolve waited for it) */
        fs_attr_fill(st, FS_INO_LOGMAN, 0, ctx->logman_len, 1, &ctx->start);
        return 0;
    case FS_K_DB:
    case FS_K_LOG:
        rc = wait_size(ctx, n->f);
        if (rc < 0)
            return rc;
        fs_attr_fill(st, n->f->ino, 0, n->f->size, 1, &ctx->start);
        return 0;
    default:
        return -ENOENT;
    }
}

/* See fsops.h. */
int fs_op_getattr(fs_ctx *ctx, const char *path, fs_attr *st)
{
    fs_node n;
    int rc;

    fs_mutex_lock(ctx->mu);
    rc = resolve(ctx, path, &n);
    if (rc >= 0)
        rc = node_stat(ctx, &n, st);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* Emit one readdir entry with only d_ino/d_type information. */
static int fill_one(void *buf, fs_fill_fn fill, const char *name, uint64_t ino, bool dir)
{
    fs_attr a;

    memset(&a, 0, sizeof a);
    a.ino = ino;
    a.is_dir = dir;
    return fill(buf, name, &a);
}

/* See fsops.h.  Root: ".", "..", label, databases, logs, manifest (never
 * blocks).  logs/: blocks until the log list is known. */
int fs_op_readdir(fs_ctx *ctx, const char *path, void *buf, fs_fill_fn fill)
{
    fs_node n;
    int rc;

    fs_mutex_lock(ctx->mu);
    rc = resolve(ctx, path, &n);
    if (rc < 0)
        goto out;
    if (n.kind == FS_K_ROOT) {
        if (fill_one(buf, fill, ".", FS_INO_ROOT, 1) || fill_one(buf, fill, "..", 0, 1) ||
            fill_one(buf, fill, FS_LABEL_NAME, FS_INO_LABEL, 0))
            goto out;
        for (int i = 0; i < ctx->ndb; i++)
            if (fill_one(buf, fill, ctx->files[i]->name, ctx->files[i]->ino, 0))
                goto out;
        if (fill_one(buf, fill, FS_LOGS_NAME, FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1))
            goto out;
        (void)fill_one(buf, fill, FS_MANIFEST_NAME, FS_INO_MANIFEST, 0);
    } else if (n.kind == FS_K_LOGSDIR) {
        rc = wait_logs(ctx);
        if (rc < 0)
            goto out;
        if (fill_one(buf, fill, ".", FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1) ||
            fill_one(buf, fill, "..", FS_INO_ROOT, 1))
            goto out;
        for (int i = ctx->ndb; i < ctx->nfiles; i++)
            if (fill_one(buf, fill, ctx->files[i]->name, ctx->files[i]->ino, 0))
                goto out;
        (void)fill_one(buf, fill, FS_MANIFEST_NAME, FS_INO_LOGMAN, 0);
    } else {
        rc = -ENOTDIR;
    }
out:
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h. */
int fs_op_open(fs_ctx *ctx, const char *path, unsigned flags, uint64_t *fh)
{
    fs_node n;
    int rc;

    if (flags & (FS_OPEN_WRITE | FS_OPEN_TRUNC | FS_OPEN_CREATE))
        return -EROFS;
    fs_mutex_lock(ctx->mu);
    rc = resolve(ctx, path, &n);
    if (rc < 0)
        goto out;
    switch (n.kind) {
    case FS_K_LABEL:
        *fh = FS_FH_LABEL;
        break;
    case FS_K_MANIFEST:
        *fh = FS_FH_MANIFEST;
        break;
    case FS_K_LOGMAN:
        *fh = FS_FH_LOGMAN;
        break;
    case FS_K_DB:
    case FS_K_LOG:
        *fh = FS_FH_FILE0 + (uint64_t)n.f->index;
        break;
    default:
        rc = -EISDIR;
    }
out:
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* Serve a manifest (which = 0 root, 1 logs/manifest): wait for the end,
 * copy, count the bytes as delivered.  Bytes or -errno.  ctx->mu held. */
static int read_manifest(fs_ctx *ctx, int which, char *buf, size_t size, uint64_t off)
{
    const char *text;
    size_t len;
    int rc = wait_complete(ctx);

    if (rc < 0)
        return rc;
    text = which ? ctx->logman : ctx->manifest;
    len = which ? ctx->logman_len : ctx->manifest_len;
    if (off >= len)
        return 0;
    if (size > len - off)
        size = (size_t)(len - off);
    memcpy(buf, text + off, size);
    if (fs_file_deliver(ctx->man[which], off, off + size) < 0)
        return -ENOMEM;
    return (int)size;
}

/* Could bytes from off of f still be served under stream, once produced?
 * No when they were produced already and are neither in the window nor
 * in the spool (a re-read).  ctx->mu held. */
static int stream_lost(const fs_ctx *ctx, const fs_file *f, uint64_t off)
{
    if (ctx->cfg.policy != FS_SPOOL_STREAM || off >= f->produced)
        return 0;
    if (f->spooled_from != FS_NONE && off >= f->spooled_from)
        return 0;
    return !(ctx->win.file == f->index && off >= ctx->win.lo);
}

/* Unlink w from the waiter list and let the producer go on.  mu held. */
static void waiter_remove(fs_ctx *ctx, fs_rwait *w)
{
    for (fs_rwait **p = &ctx->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            fs_cond_broadcast(ctx->cv_prod);
            return;
        }
}

/* Refuse a stream re-read of bytes no longer kept: count it and fail the
 * backup.  Returns -EIO.  ctx->mu held. */
static int refuse_reread(fs_ctx *ctx, const fs_file *f, uint64_t off, uint64_t end)
{
    ctx->dropped_reads++;
    ctx_fail(ctx, fs_err_errno(EIO), "%s: re-read of bytes %" PRIu64 "-%" PRIu64 " no longer kept "
             "by [spool] policy = stream: EIO returned to a reader (use policy = keep for tools "
             "that re-read)", f->name, off, end);
    return -EIO;
}

/* Stream policy checks before a reader waits for [off, end) of f: a
 * re-read of bytes gone is refused at once, and so is a request the
 * window cannot hold.  0, or -EIO after failing the backup.  mu held. */
static int stream_admit(fs_ctx *ctx, const fs_file *f, uint64_t off, size_t size, uint64_t end)
{
    if (f->produced >= end || ctx->cfg.policy != FS_SPOOL_STREAM)
        return 0;
    if (stream_lost(ctx, f, off))
        return refuse_reread(ctx, f, off, end);
    if (size + ctx->cfg.read_size > ctx->win.size && !self_pull(ctx, f)) {
        ctx_fail(ctx, fs_err_jet(JET_errInvalidParameter), "%s: a read request of %zu bytes does "
                 "not fit the [spool] window of %zu bytes (policy = stream): EIO returned to a "
                 "reader", f->name, size, ctx->win.size);
        return -EIO;
    }
    return 0;
}

/* Wait until f is produced up to end (asking the producer for it).  0, or
 * -EIO (failed, stopping: fails the backup).  ctx->mu held. */
static int wait_produced(fs_ctx *ctx, fs_file *f, uint64_t end)
{
    while (f->produced < end && !halted(ctx)) {
        if (f->demand_hi < end)
            f->demand_hi = end;
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    if (f->produced < end)
        return failed(ctx) ? -EIO : waiter_eio(ctx, f->name);
    return 0;
}

/* Copy the produced bytes [off, off+size) of f into buf: keep = from the
 * spool; stream = from the window, else from the spool when self-pulled,
 * else a refused re-read.  Unlinks the waiter me (if any) once its bytes
 * are copied or safe in the spool.  Bytes or -EIO (the backup failed).
 * ctx->mu held; dropped around the spool read. */
static int copy_produced(fs_ctx *ctx, fs_file *f, char *buf, size_t size, uint64_t off,
                         fs_rwait *me)
{
    bool from_spool = false;
    int rc;

    if (ctx->cfg.policy == FS_SPOOL_KEEP) {
        from_spool = true;
    } else if (fs_window_get(&ctx->win, f->index, off, buf, size)) {
        from_spool = false;
    } else if (f->spooled_from != FS_NONE && off >= f->spooled_from) {
        from_spool = true;
    } else {
        rc = refuse_reread(ctx, f, off, off + size);
        if (me)
            waiter_remove(ctx, me);
        return rc;
    }
    if (me)
        waiter_remove(ctx, me); /* copied (window) or in the spool: free to go on */
    if (!from_spool)
        return (int)size;
    fs_mutex_unlock(ctx->mu);
    rc = fs_spool_read(&ctx->spool, f->spool_base + off, buf, size);
    fs_mutex_lock(ctx->mu);
    if (rc < 0) {
        ctx_fail(ctx, fs_err_errno(-rc), "%s: spool read at offset %" PRIu64 " failed: EIO "
                 "returned to a reader", f->name, off);
        return rc;
    }
    return (int)size;
}

/* Serve the label (fixed text).  Bytes.  ctx->mu held. */
static int read_label(const fs_ctx *ctx, char *buf, size_t size, uint64_t off)
{
    size_t n;

    if (off >= ctx->label_len)
        return 0;
    n = size < ctx->label_len - off ? size : (size_t)(ctx->label_len - off);
    memcpy(buf, ctx->label + off, n);
    return (int)n;
}

/* See fsops.h.  Every failure answered to a reader fails the backup
 * (ctx_fail): umount then aborts whatever the policy. */
int fs_op_read(fs_ctx *ctx, uint64_t fh, char *buf, size_t size, uint64_t off)
{
    fs_file *f = NULL;
    fs_rwait me = { 0, 0, 0, NULL };
    bool waiting = false;
    uint64_t end;
    int rc = 0;

    if (size > INT32_MAX)
        size = INT32_MAX;
    fs_mutex_lock(ctx->mu);
    if (fh == FS_FH_LABEL) {
        rc = read_label(ctx, buf, size, off);
        goto out;
    }
    if (fh == FS_FH_MANIFEST || fh == FS_FH_LOGMAN) {
        rc = read_manifest(ctx, fh == FS_FH_LOGMAN, buf, size, off);
        goto out;
    }
    if (fh < FS_FH_FILE0 || fh - FS_FH_FILE0 >= (uint64_t)ctx->nfiles) {
        rc = -EBADF;
        goto out;
    }
    f = ctx->files[fh - FS_FH_FILE0];
    rc = wait_size(ctx, f);
    if (rc < 0 || off >= f->size)
        goto out;
    if (size > f->size - off)
        size = (size_t)(f->size - off);
    end = off + size;
    rc = stream_admit(ctx, f, off, size, end);
    if (rc < 0)
        goto out;
    if (f->produced < end) {
        me = (fs_rwait){ .file = f->index, .lo = off, .hi = end, .next = ctx->waiters };
        ctx->waiters = &me;
        waiting = true;
    }
    rc = wait_produced(ctx, f, end);
    if (rc < 0)
        goto out;
    rc = copy_produced(ctx, f, buf, size, off, waiting ? &me : NULL);
    waiting = false; /* copy_produced unlinked it */
    if (rc >= 0 && fs_file_deliver(f, off, end) < 0)
        rc = -ENOMEM;
out:
    if (waiting)
        waiter_remove(ctx, &me);
    if (rc < 0 && rc != -EBADF && !failed(ctx))
        ctx_fail(ctx, fs_err_errno(-rc), "%s: %s returned to a reader",
                 f ? f->name : FS_MANIFEST_NAME, strerror(-rc));
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h.  Nothing to free: handles are plain indexes. */
int fs_op_release(fs_ctx *ctx, uint64_t fh)
{
    (void)ctx;
    (void)fh;
    return 0;
}

/* See fsops.h.  Totals of the exposed bytes known so far, read-only. */
int fs_op_statfs(fs_ctx *ctx, fs_statfs *sv)
{
    uint64_t total = 0;

    fs_mutex_lock(ctx->mu);
    for (int i = 0; i < ctx->nfiles; i++)
        total += ctx->files[i]->size;
    total += ctx->label_len + ctx->manifest_len + ctx->logman_len;
    memset(sv, 0, sizeof *sv);
    sv->bsize = FS_BLKSIZE;
    sv->frsize = 4096;
    sv->blocks = (total + 4095) / 4096;
    sv->files = (uint64_t)ctx->nfiles + 5;
    sv->namemax = 255;
    fs_mutex_unlock(ctx->mu);
    return 0;
}

/* See fsops.h: no extended attributes at all (D8). */
int fs_op_listxattr(fs_ctx *ctx, const char *path, char *list, size_t size)
{
    (void)ctx; (void)path; (void)list; (void)size;
    return 0;
}

/* See fsops.h: no attribute exists (ENODATA). */
int fs_op_getxattr(fs_ctx *ctx, const char *path, const char *name, char *value, size_t size)
{
    (void)ctx; (void)path; (void)name; (void)value; (void)size;
    return -ENODATA;
}

/* See fsops.h: borg's FS_IOC_GETFLAGS and everything else -> ENOTTY. */
int fs_op_ioctl(fs_ctx *ctx, const char *path, unsigned int cmd)
{
    (void)ctx; (void)path; (void)cmd;
    return -ENOTTY;
}

/* See fsops.h: the answer of every write path. */
int fs_op_rofs(void)
{
    return -EROFS;
}

/* ==== 5. status, commit, decision ======================================= */

/* Is every byte of every engine file produced and returned to a read
 * call, and every byte of both manifests too?  (With direct_io every read
 * reaches the driver, so kernel read-ahead cannot count here.)  mu held. */
static int all_delivered(const fs_ctx *ctx)
{
    if (!complete(ctx))
        return 0;
    for (int i = 0; i < ctx->nfiles; i++)
        if (!ctx->files[i]->done || ctx->files[i]->delivered != ctx->files[i]->size)
            return 0;
    return ctx->man[0]->delivered == ctx->manifest_len &&
           ctx->man[1]->delivered == ctx->logman_len;
}

/* The decision for the current state.  ctx->mu held. */
static enum fs_decision decide_locked(const fs_ctx *ctx, const char **reason)
{
    if (failed(ctx)) {
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
    return d == FS_DECIDE_TRUNCATE ? "JetTruncateLogInstance + JetEndExternalBackupInstance2(Normal)"
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
            fs_log(FS_LOG_ERR, "JetTruncateLogInstance failed: %s (%ld); ending without truncation "
                   "(recorded as a copy)", JetLibErrorName(rc), (long)rc);
            d = FS_DECIDE_COPY;
        }
    }
    rc = ctx->be.ops->end(ctx->be.ctx, d == FS_DECIDE_ABORT ? JET_bitBackupEndAbort
                                                            : JET_bitBackupEndNormal);
    if (rc < 0 && !(d == FS_DECIDE_ABORT && rc == JET_errNoBackup)) {
        fs_log(FS_LOG_ERR, "JetEndExternalBackupInstance2 failed: %s (%ld)", JetLibErrorName(rc),
               (long)rc);
        if (d != FS_DECIDE_ABORT) {
            (void)ctx->be.ops->end(ctx->be.ctx, JET_bitBackupEndAbort);
            d = FS_DECIDE_ABORT;
        }
    }
    fs_log(FS_LOG_NOTICE, "backup ended: %s", d == FS_DECIDE_TRUNCATE ? "logs truncated"
                                            : d == FS_DECIDE_COPY ? "normal (no truncation)"
                                                                  : "aborted");
    return d;
}

/* See fsops.h.  NEW -> ENDED (never began); otherwise -> DECIDING (stops
 * the producer and every waiter), join the producer, end the backup on
 * the engine, -> ENDED. */
enum fs_decision fs_ctx_finish(fs_ctx *ctx)
{
    const char *reason = "";
    enum fs_decision d;

    fs_mutex_lock(ctx->mu);
    if (decided(ctx)) {
        d = ctx->decision;
        fs_mutex_unlock(ctx->mu);
        return d;
    }
    if (ctx->state == FS_ST_NEW) {
        ctx->decision = FS_DECIDE_ABORT;
        ctx->decision_reason = "the backup never began";
        (void)set_state(ctx, FS_ST_ENDED);
        fs_mutex_unlock(ctx->mu);
        d = FS_DECIDE_ABORT;
        goto out;
    }
    d = decide_locked(ctx, &reason);
    ctx->decision = d;
    ctx->decision_reason = reason;
    (void)set_state(ctx, FS_ST_DECIDING);
    fs_mutex_unlock(ctx->mu);
    if (ctx->producer) {
        fs_thread_join(ctx->producer);
        ctx->producer = NULL;
    }
    fs_log(FS_LOG_NOTICE, "umount: %s -> %s", reason, decision_text(d));
    d = end_backup(ctx, d);
    fs_mutex_lock(ctx->mu);
    ctx->decision = d;
    (void)set_state(ctx, FS_ST_ENDED);
    fs_mutex_unlock(ctx->mu);
out:
    fs_spool_close(&ctx->spool);
    return d;
}

/* See fsops.h.  DATABASES/LOGS -> STOPPING; in any other state the signal
 * has nothing left to stop. */
void fs_ctx_interrupt(fs_ctx *ctx, int sig)
{
    fs_mutex_lock(ctx->mu);
    if (ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS) {
        (void)set_state(ctx, FS_ST_STOPPING);
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
    for (int i = 0; i < ctx->nfiles; i++)
        fs_file_free(ctx->files[i]);
    free(ctx->files);
    if (ctx->be.ops) {
        const char *name = ctx->be.ops->name;
        JET_ERR trc = bkc_close(&ctx->be);
        if (trc < 0)
            fs_log(FS_LOG_ERR, "closing the %s source: JetTerm2(Complete) failed: %s (%ld)", name,
                   JetLibErrorName(trc), (long)trc);
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
    fs_mutex_free(ctx->mu);
    free(ctx);
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

#define ST(...) do { if (n < cb) n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); } while (0)
    fs_mutex_lock(ctx->mu);
    d = decided(ctx) ? ctx->decision : decide_locked(ctx, &reason);
    phase = failed(ctx) ? "failed" : decided(ctx) ? "ended" : complete(ctx) ? "complete"
          : ctx->cur < ctx->ndb ? "databases" : "logs";
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
    ST("error: %s\n", failed(ctx) ? ctx->errmsg : "none");
    if (failed(ctx)) {
        fs_err_format(ctx->error, en, sizeof en);
        ST("error-code: %s\n", en);
    }
    if (ctx->state == FS_ST_ENDED)
        ST("umount: done: %s\n", decision_text(d));
    else if (ctx->state == FS_ST_DECIDING)
        ST("umount: deciding: %s (%s)\n", decision_text(d), ctx->decision_reason);
    else
        ST("umount now would: %s (%s)\n", decision_text(d), reason);
    healthy = !failed(ctx);
    fs_mutex_unlock(ctx->mu);
#undef ST
    return healthy ? 0 : 1;
}

/* See fsops.h. */
int fs_commit(fs_ctx *ctx, char *buf, size_t cb)
{
    int rc;

    fs_mutex_lock(ctx->mu);
    if (decided(ctx)) {
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
    if (failed(ctx)) {
        snprintf(buf, cb, "commit recorded, but the backup failed (%s): umount will abort\n",
                 ctx->errmsg);
        rc = 1;
    } else if (ctx->cfg.truncate != FS_TRUNC_COMMIT) {
        snprintf(buf, cb, "commit recorded; truncate = %s, so it does not change the umount "
                 "decision\n", fs_conf_truncate_name(ctx->cfg.truncate));
        rc = 1;
    } else if (!all_delivered(ctx)) {
        snprintf(buf, cb, "commit recorded; not every byte was delivered yet: umount truncates "
                 "only if the copy completes\n");
        rc = 0;
    } else {
        snprintf(buf, cb, "commit recorded: umount will truncate the logs (unless the "
                 "engine refuses JetTruncateLogInstance; umount logs the outcome)\n");
        rc = 0;
    }
    fs_log(FS_LOG_NOTICE, "commit requested");
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h. */
uint64_t fs_spool_bytes(fs_ctx *ctx)
{
    uint64_t n;

    fs_mutex_lock(ctx->mu);
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
