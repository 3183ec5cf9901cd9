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
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "bkformat.h"
#include "jetlib.h"
#include "fs/fsops.h"
#include "fs/log.h"
#include "fs/spool.h"
#include "fs/tree.h"

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

    pthread_mutex_t mu;
    pthread_cond_t cv_prod;
    pthread_cond_t cv_data;
    pthread_t producer;
    int producer_running;

    struct timespec start;          /* backup start = every timestamp */
    int started;                    /* backup begun (needs an End) */
    fs_file **files;                /* engine files in production order */
    int nfiles, cap_files;
    int ndb;
    int logs_known;
    int cur;                        /* file being produced */
    int pull_to;                    /* files < pull_to must be produced */
    int pull_all;                   /* pull everything (manifest wanted) */
    int complete;                   /* every engine file produced, manifest built */
    int stop;
    int failed;
    JET_ERR err;                    /* first error (Jet error or -errno) */
    char errmsg[512];
    JET_HANDLE h;                   /* engine handle of the open file */
    unsigned long log_gen_low, log_gen_high;
    int have_committed;
    unsigned long long committed;   /* host committed counter at the roll */
    int commit_requested;
    int finished;                   /* the umount decision is taken (commit too late) */
    int ended;                      /* ... and the backup was ended on the engine */
    enum fs_decision decision;      /* valid once finished (updated by fallbacks) */
    const char *decision_reason;    /* static string, valid once finished */

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

/* Record the first failure of the backup: mark it failed, remember the
 * error text, log it and wake everybody.  ctx->mu held. */
static void ctx_fail(fs_ctx *ctx, JET_ERR err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void ctx_fail(fs_ctx *ctx, JET_ERR err, const char *fmt, ...)
{
    va_list ap;

    if (!ctx->failed) {
        ctx->failed = 1;
        ctx->err = err;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
        fs_log(LOG_ERR, "backup failed: %s", ctx->errmsg);
    }
    pthread_cond_broadcast(&ctx->cv_data);
    pthread_cond_broadcast(&ctx->cv_prod);
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

    if (!ctx)
        return -ENOMEM;
    ctx->cfg = *cfg;
    ctx->be = *be;
    ctx->spool.fd = -1;
    pthread_mutex_init(&ctx->mu, NULL);
    pthread_cond_init(&ctx->cv_prod, NULL);
    pthread_cond_init(&ctx->cv_data, NULL);
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
        .start_sec = (long long)ctx->start.tv_sec,
        .start_nsec = (long)ctx->start.tv_nsec,
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
 * earlier.  0, -ENOMEM, or -EPROTO (size differs: a bug, fail loudly).
 * ctx->mu held. */
static int build_manifest(fs_ctx *ctx)
{
    size_t n1 = 0, n0 = 0;
    int rc;

    rc = manifest_text(ctx, 1, &ctx->logman, &n1);
    if (rc < 0)
        goto out;
    if (EVP_Digest(ctx->logman, n1, ctx->logman_digest, NULL, EVP_sha256(), NULL) != 1) {
        rc = -ENOMEM;
        goto out;
    }
    rc = manifest_text(ctx, 0, &ctx->manifest, &n0);
    if (rc < 0)
        goto out;
    if (n0 != ctx->manifest_len || n1 != ctx->logman_len)
        rc = -EPROTO;
out:
    return rc;
}

/* Open engine file f (producer or start; ctx->mu NOT held by the caller
 * for the engine call: we take and drop it here).  Returns the Jet error. */
static JET_ERR open_file(fs_ctx *ctx, fs_file *f)
{
    JET_HANDLE h = 0;
    uint64_t size = 0;
    JET_ERR rc;
    EVP_MD_CTX *sha;

    rc = ctx->be.ops->open(ctx->be.ctx, f->engine_path, &h, &size);
    pthread_mutex_lock(&ctx->mu);
    if (rc < 0)
        goto out;
    sha = EVP_MD_CTX_new();
    if (!sha || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(sha);
        rc = JET_errOutOfMemory;
        goto out;
    }
    f->sha = sha;
    ctx->h = h;
    f->size = size;
    f->size_known = 1;
    f->open = 1;
    f->spool_base = ctx->spool_next;
    ctx->spool_next += size;
out:
    pthread_cond_broadcast(&ctx->cv_data);
    pthread_mutex_unlock(&ctx->mu);
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
    pthread_mutex_lock(&ctx->mu);
    for (const char *p = bkc_szz_first(szz); p; p = bkc_szz_next(p)) {
        erc = ctx_add_file(ctx, p, FS_K_LOG);
        if (erc < 0) {
            pthread_mutex_unlock(&ctx->mu);
            rc = erc == -ENOMEM ? JET_errOutOfMemory : JET_errInvalidName;
            fs_log(LOG_ERR, "log list entry '%s' refused (%s)", p, strerror(-erc));
            goto out;
        }
    }
    ctx->log_gen_low = li.ulGenLow;
    ctx->log_gen_high = li.ulGenHigh;
    ctx->have_committed = have_committed;
    ctx->committed = committed;
    erc = manifest_size(ctx, 1, &ctx->logman_len);
    if (erc < 0) {
        pthread_mutex_unlock(&ctx->mu);
        rc = JET_errOutOfMemory;
        goto out;
    }
    ctx->logs_known = 1;
    fs_log(LOG_INFO, "log list known: %d log files, generations %lu-%lu%s", ctx->nfiles - ctx->ndb,
           li.ulGenLow, li.ulGenHigh, have_committed ? "" : " (no committed counter)");
    pthread_cond_broadcast(&ctx->cv_data);
    pthread_mutex_unlock(&ctx->mu);
out:
    free(szz);
    return rc;
}

static void *producer_main(void *arg);

/* See fsops.h. */
JET_ERR fs_ctx_start(fs_ctx *ctx, char *err, size_t cb_err)
{
    const bkc_ops *ops = ctx->be.ops;
    char *szz = NULL;
    char en[96];
    JET_ERR rc;
    int erc;

    err[0] = 0;
    memset(&ctx->info, 0, sizeof ctx->info);
    rc = ops->info(ctx->be.ctx, &ctx->info);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        snprintf(err, cb_err, "cannot query the instance: %s", en);
        goto out;
    }
    if (!ctx->info.cb_page || ctx->cfg.read_size % ctx->info.cb_page ||
        ctx->cfg.read_size < 3 * ctx->info.cb_page) {
        snprintf(err, cb_err, "%s:%d: read_size %" PRIu64 " must be a multiple of the instance's "
                 "page size %lu and at least 3 pages", ctx->cfg.file, ctx->cfg.read_size_line,
                 ctx->cfg.read_size, ctx->info.cb_page);
        rc = JET_errInvalidParameter;
        goto out;
    }
    if (ctx->cfg.page_size && ctx->cfg.page_size != ctx->info.cb_page) {
        snprintf(err, cb_err, "page_size %lu in %s does not match the instance's %lu",
                 ctx->cfg.page_size, ctx->cfg.file, ctx->info.cb_page);
        rc = JET_errInvalidParameter;
        goto out;
    }
    clock_gettime(CLOCK_REALTIME, &ctx->start);
    rc = ops->begin(ctx->be.ctx, ctx->cfg.type == FS_BACKUP_INCREMENTAL ? JET_bitBackupIncremental
                                                                        : 0);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        snprintf(err, cb_err, "JetBeginExternalBackupInstance (%s backup) failed: %s",
                 fs_conf_type_name(ctx->cfg.type), en);
        goto out;
    }
    ctx->started = 1;
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
        rc = open_file(ctx, ctx->files[0]);
        if (rc < 0) {
            err_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetOpenFileInstance(%s) failed: %s", ctx->files[0]->engine_path,
                     en);
            goto out;
        }
    } else {
        rc = get_logs(ctx);
        if (rc < 0) {
            err_name(rc, en, sizeof en);
            snprintf(err, cb_err, "JetGetLogInfoInstance2 failed: %s", en);
            goto out;
        }
        if (ctx->nfiles) {
            rc = open_file(ctx, ctx->files[0]);
            if (rc < 0) {
                err_name(rc, en, sizeof en);
                snprintf(err, cb_err, "JetOpenFileInstance(%s) failed: %s",
                         ctx->files[0]->engine_path, en);
                goto out;
            }
        }
    }
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
        rc = JET_errOutOfMemory;
        goto out;
    }
    erc = fs_spool_init(&ctx->spool, ctx->cfg.spool_dir, ctx->cfg.spool_cap);
    if (erc < 0) {
        snprintf(err, cb_err, "spool directory %s: %s", ctx->cfg.spool_dir, strerror(-erc));
        rc = JET_errInvalidPath;
        goto out;
    }
    /* stream: the window must hold the largest request plus the chunk the
     * producer writes past it (and one more chunk of read-ahead), or an
     * in-order reader's bytes could be overwritten before it copies them */
    ctx->max_req = (uint64_t)FS_MAX_REQ_PAGES * (uint64_t)sysconf(_SC_PAGESIZE);
    if (ctx->cfg.policy == FS_SPOOL_STREAM &&
        ctx->cfg.window < ctx->max_req + 2 * ctx->cfg.read_size) {
        fs_log(LOG_NOTICE, "%s: [spool] window %" PRIu64 " raised to %" PRIu64 " (largest "
               "read request %" PRIu64 " + 2 x read_size)", ctx->cfg.file, ctx->cfg.window,
               ctx->max_req + 2 * ctx->cfg.read_size, ctx->max_req);
        ctx->cfg.window = ctx->max_req + 2 * ctx->cfg.read_size;
    }
    erc = fs_window_init(&ctx->win, ctx->cfg.policy == FS_SPOOL_STREAM ? ctx->cfg.window : 0);
    if (erc >= 0) {
        ctx->buf = aligned_alloc(4096, ctx->cfg.read_size);
        if (!ctx->buf)
            erc = -ENOMEM;
    }
    if (erc < 0) {
        snprintf(err, cb_err, "out of memory for the read buffer/window");
        rc = JET_errOutOfMemory;
        goto out;
    }
    erc = pthread_create(&ctx->producer, NULL, producer_main, ctx);
    if (erc) {
        snprintf(err, cb_err, "cannot start the producer thread: %s", strerror(erc));
        rc = JET_errOutOfMemory;
        goto out;
    }
    ctx->producer_running = 1;
    fs_log(LOG_INFO, "%s backup started (%s, %d database(s), truncate=%s, spool=%s)",
           fs_conf_type_name(ctx->cfg.type), ops->name, ctx->ndb,
           fs_conf_truncate_name(ctx->cfg.truncate), fs_conf_policy_name(ctx->cfg.policy));
    rc = 0;
out:
    free(szz);
    if (rc < 0 && ctx->started) {
        JET_ERR erc2 = ops->end(ctx->be.ctx, JET_bitBackupEndAbort);
        ctx->started = 0;
        ctx->finished = 1;
        ctx->decision = FS_DECIDE_ABORT;
        if (erc2 < 0 && erc2 != JET_errNoBackup)
            fs_log(LOG_WARNING, "JetEndExternalBackupInstance2(Abort) after a failed start: %s",
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
    void *sha = f->sha;
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
    pthread_mutex_unlock(&ctx->mu);
    rc = ctx->be.ops->read(ctx->be.ctx, h, dst, (unsigned long)ctx->cfg.read_size, &got);
    if (rc >= 0 && (got == 0 || got > remain))
        rc = JET_errFileIOBeyondEOF;
    if (rc >= 0 && EVP_DigestUpdate(sha, dst, got) != 1)
        rc = JET_errOutOfMemory;
    if (rc >= 0 && (keep || self))
        erc = fs_spool_write(&ctx->spool, base + off, dst, got);
    pthread_mutex_lock(&ctx->mu);
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        f->fail_at = off;
        f->open = 0; /* the engine closed (db) or aborted (log) it */
        ctx_fail(ctx, rc, "JetReadFileInstance(%s) at offset %" PRIu64 ": %s%s", f->name, off, en,
                 rc == JET_errFileIOBeyondEOF ? " (stream length differs from its size)" : "");
        return;
    }
    if (erc < 0) {
        f->fail_at = off;
        if (erc == -ENOSPC)
            ctx_fail(ctx, JET_errDiskFull, "spool full writing %s at offset %" PRIu64
                     " (%s; cap %" PRIu64 " bytes, %" PRIu64 " written): raise [spool] cap or "
                     "free space in %s", f->name, off, strerror(-erc), ctx->cfg.spool_cap,
                     ctx->spool_written, ctx->cfg.spool_dir);
        else
            ctx_fail(ctx, JET_errDiskIO, "spool write for %s at offset %" PRIu64 ": %s", f->name,
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
    pthread_cond_broadcast(&ctx->cv_data);
}

/* Close the fully read current file, finish its digest, move on.
 * ctx->mu held; dropped around the engine call. */
static void finish_file(fs_ctx *ctx, fs_file *f)
{
    JET_HANDLE h = ctx->h;
    unsigned int n = 0;
    JET_ERR rc;
    char en[96];

    pthread_mutex_unlock(&ctx->mu);
    rc = ctx->be.ops->close(ctx->be.ctx, h);
    pthread_mutex_lock(&ctx->mu);
    f->open = 0;
    if (rc < 0) {
        err_name(rc, en, sizeof en);
        ctx_fail(ctx, rc, "JetCloseFileInstance(%s): %s", f->name, en);
        return;
    }
    if (EVP_DigestFinal_ex(f->sha, f->digest, &n) != 1 || n != 32) {
        ctx_fail(ctx, JET_errOutOfMemory, "SHA-256 of %s failed", f->name);
        return;
    }
    EVP_MD_CTX_free(f->sha);
    f->sha = NULL;
    f->done = 1;
    ctx->cur++;
    fs_log(LOG_DEBUG, "%s: %" PRIu64 " bytes pulled", f->name, f->size);
    pthread_cond_broadcast(&ctx->cv_data);
}

/* The producer: the only thread that calls the engine while mounted.
 * Runs until everything is produced, the backup failed, or stop. */
static void *producer_main(void *arg)
{
    fs_ctx *ctx = arg;
    JET_ERR rc;
    char en[96];

    pthread_mutex_lock(&ctx->mu);
    while (!ctx->stop && !ctx->failed && !ctx->complete) {
        fs_file *f = ctx->cur < ctx->nfiles ? ctx->files[ctx->cur] : NULL;

        if (f && f->open && f->produced < f->size) {
            if (!want_bytes(ctx, f) ||
                (ctx->cfg.policy == FS_SPOOL_STREAM && ready_waiter(ctx))) {
                pthread_cond_wait(&ctx->cv_prod, &ctx->mu);
                continue;
            }
            produce_chunk(ctx, f);
        } else if (f && f->open) {
            finish_file(ctx, f);
        } else if (f) {
            pthread_mutex_unlock(&ctx->mu);
            rc = open_file(ctx, f);
            pthread_mutex_lock(&ctx->mu);
            if (rc < 0) {
                err_name(rc, en, sizeof en);
                f->fail_at = 0;
                ctx_fail(ctx, rc, "JetOpenFileInstance(%s): %s", f->engine_path, en);
            }
        } else if (!ctx->logs_known) {
            pthread_mutex_unlock(&ctx->mu);
            rc = get_logs(ctx);
            pthread_mutex_lock(&ctx->mu);
            if (rc < 0) {
                err_name(rc, en, sizeof en);
                ctx_fail(ctx, rc, "JetGetLogInfoInstance2: %s", en);
            }
        } else {
            int mrc = build_manifest(ctx);
            if (mrc < 0) {
                ctx_fail(ctx, mrc == -ENOMEM ? JET_errOutOfMemory : JET_errInternalError,
                         "building the manifest: %s", mrc == -ENOMEM ? "out of memory"
                         : "its size differs from the size announced (bug)");
                break;
            }
            ctx->complete = 1;
            fs_log(LOG_INFO, "every backup byte pulled from the engine; manifest ready");
            pthread_cond_broadcast(&ctx->cv_data);
        }
    }
    pthread_mutex_unlock(&ctx->mu);
    return NULL;
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
    pthread_cond_wait(&ctx->cv_data, &ctx->mu);
    ctx->nwaiting--;
}

/* A request that waited for the engine is answered EIO because the
 * mount is being stopped: that is a failure a reader sees, so it fails
 * the backup (umount aborts).  Returns -EIO.  ctx->mu held. */
static int waiter_eio(fs_ctx *ctx, const char *what)
{
    if (!ctx->failed)
        ctx_fail(ctx, JET_errTermInProgress, "%s: EIO returned to a reader (the mount is "
                 "stopping)", what);
    return -EIO;
}

/* Wait until the log list is known (pulling the databases meanwhile).
 * 0 or -EIO.  ctx->mu held. */
static int wait_logs(fs_ctx *ctx)
{
    while (!ctx->logs_known && !ctx->failed && !ctx->stop) {
        if (ctx->pull_to < ctx->ndb)
            ctx->pull_to = ctx->ndb;
        pthread_cond_broadcast(&ctx->cv_prod);
        wait_data(ctx);
    }
    return ctx->logs_known ? 0 : waiter_eio(ctx, "logs/ (waiting for the log list)");
}

/* Wait until f's size is known.  0 or -EIO.  ctx->mu held. */
static int wait_size(fs_ctx *ctx, fs_file *f)
{
    while (!f->size_known && !ctx->failed && !ctx->stop) {
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        pthread_cond_broadcast(&ctx->cv_prod);
        wait_data(ctx);
    }
    return f->size_known ? 0 : waiter_eio(ctx, f->name);
}

/* Wait until the manifest exists (everything pulled).  0 or -EIO.
 * ctx->mu held. */
static int wait_complete(fs_ctx *ctx)
{
    while (!ctx->complete && !ctx->failed && !ctx->stop) {
        ctx->pull_all = 1;
        pthread_cond_broadcast(&ctx->cv_prod);
        wait_data(ctx);
    }
    return ctx->complete ? 0 : waiter_eio(ctx, FS_MANIFEST_NAME " (waiting for the end)");
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
static int node_stat(fs_ctx *ctx, const fs_node *n, struct stat *st)
{
    int rc;

    switch (n->kind) {
    case FS_K_ROOT:
        fs_stat_fill(st, FS_INO_ROOT, 1, 0, 3, &ctx->start);
        return 0;
    case FS_K_LOGSDIR:
        fs_stat_fill(st, FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1, 0, 2, &ctx->start);
        return 0;
    case FS_K_LABEL:
        fs_stat_fill(st, FS_INO_LABEL, 0, ctx->label_len, 1, &ctx->start);
        return 0;
    case FS_K_MANIFEST:
        /* size fixed at mount: a stat (ls -l) never waits or pulls */
        fs_stat_fill(st, FS_INO_MANIFEST, 0, ctx->manifest_len, 1, &ctx->start);
        return 0;
    case FS_K_LOGMAN:
        /* size fixed with the log list (resolve waited for it) */
        fs_stat_fill(st, FS_INO_LOGMAN, 0, ctx->logman_len, 1, &ctx->start);
        return 0;
    case FS_K_DB:
    case FS_K_LOG:
        rc = wait_size(ctx, n->f);
        if (rc < 0)
            return rc;
        fs_stat_fill(st, n->f->ino, 0, n->f->size, 1, &ctx->start);
        return 0;
    default:
        return -ENOENT;
    }
}

/* See fsops.h. */
int fs_op_getattr(fs_ctx *ctx, const char *path, struct stat *st)
{
    fs_node n;
    int rc;

    pthread_mutex_lock(&ctx->mu);
    rc = resolve(ctx, path, &n);
    if (rc >= 0)
        rc = node_stat(ctx, &n, st);
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}

/* Emit one readdir entry with only d_ino/d_type information. */
static int fill_one(void *buf, fs_fill_fn fill, const char *name, uint64_t ino, int dir)
{
    struct stat st;

    memset(&st, 0, sizeof st);
    st.st_ino = (ino_t)ino;
    st.st_mode = dir ? S_IFDIR : S_IFREG;
    return fill(buf, name, &st);
}

/* See fsops.h.  Root: ".", "..", label, databases, logs, manifest (never
 * blocks).  logs/: blocks until the log list is known. */
int fs_op_readdir(fs_ctx *ctx, const char *path, void *buf, fs_fill_fn fill)
{
    fs_node n;
    int rc;

    pthread_mutex_lock(&ctx->mu);
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
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}

/* See fsops.h. */
int fs_op_open(fs_ctx *ctx, const char *path, int flags, uint64_t *fh)
{
    fs_node n;
    int rc;

    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT)))
        return -EROFS;
    pthread_mutex_lock(&ctx->mu);
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
    pthread_mutex_unlock(&ctx->mu);
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
            pthread_cond_broadcast(&ctx->cv_prod);
            return;
        }
}

/* See fsops.h.  Every failure answered to a reader fails the backup
 * (ctx_fail): umount then aborts whatever the policy. */
int fs_op_read(fs_ctx *ctx, uint64_t fh, char *buf, size_t size, uint64_t off)
{
    fs_file *f = NULL;
    fs_rwait me = { 0, 0, 0, NULL };
    int waiting = 0;
    uint64_t end = off;
    int rc = 0, from_spool = 0;
    uint64_t spool_off = 0;

    if (size > INT32_MAX)
        size = INT32_MAX;
    pthread_mutex_lock(&ctx->mu);
    if (fh == FS_FH_LABEL) {
        if (off < ctx->label_len) {
            rc = (int)(size < ctx->label_len - off ? size : ctx->label_len - off);
            memcpy(buf, ctx->label + off, (size_t)rc);
        }
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
    if (rc < 0)
        goto out;
    if (off >= f->size)
        goto out;
    if (size > f->size - off)
        size = (size_t)(f->size - off);
    end = off + size;
    if (f->produced < end && ctx->cfg.policy == FS_SPOOL_STREAM) {
        if (stream_lost(ctx, f, off)) {
            rc = -EIO; /* a re-read: refused below, without waiting */
            goto refused;
        }
        if (size + ctx->cfg.read_size > ctx->win.size && !self_pull(ctx, f)) {
            ctx_fail(ctx, JET_errInvalidParameter, "%s: a read request of %zu bytes does not fit "
                     "the [spool] window of %zu bytes (policy = stream): EIO returned to a "
                     "reader", f->name, size, ctx->win.size);
            rc = -EIO;
            goto out;
        }
    }
    if (f->produced < end) {
        me.file = f->index;
        me.lo = off;
        me.hi = end;
        me.next = ctx->waiters;
        ctx->waiters = &me;
        waiting = 1;
    }
    while (f->produced < end && !ctx->failed && !ctx->stop) {
        if (f->demand_hi < end)
            f->demand_hi = end;
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        pthread_cond_broadcast(&ctx->cv_prod);
        wait_data(ctx);
    }
    if (f->produced < end) {
        rc = ctx->failed ? -EIO : waiter_eio(ctx, f->name);
        goto out;
    }
    if (ctx->cfg.policy == FS_SPOOL_KEEP) {
        from_spool = 1;
        spool_off = f->spool_base + off;
    } else if (fs_window_get(&ctx->win, f->index, off, buf, size)) {
        rc = (int)size;
    } else if (f->spooled_from != FS_NONE && off >= f->spooled_from) {
        from_spool = 1;
        spool_off = f->spool_base + off;
    } else {
        rc = -EIO;
        goto refused;
    }
    if (waiting) {
        waiter_remove(ctx, &me); /* copied (window) or in the spool: free to go on */
        waiting = 0;
    }
    if (from_spool) {
        pthread_mutex_unlock(&ctx->mu);
        rc = fs_spool_read(&ctx->spool, spool_off, buf, size);
        pthread_mutex_lock(&ctx->mu);
        if (rc < 0) {
            ctx_fail(ctx, JET_errDiskIO, "%s: spool read at offset %" PRIu64 " failed: EIO "
                     "returned to a reader", f->name, off);
            goto out;
        }
        rc = (int)size;
    }
    if (fs_file_deliver(f, off, end) < 0)
        rc = -ENOMEM;
    goto out;
refused:
    ctx->dropped_reads++;
    ctx_fail(ctx, JET_errDiskIO, "%s: re-read of bytes %" PRIu64 "-%" PRIu64 " no longer kept by "
             "[spool] policy = stream: EIO returned to a reader (use policy = keep for tools "
             "that re-read)", f->name, off, end);
out:
    if (waiting)
        waiter_remove(ctx, &me);
    if (rc < 0 && rc != -EBADF && !ctx->failed)
        ctx_fail(ctx, rc == -ENOMEM ? JET_errOutOfMemory : JET_errDiskIO, "%s: %s returned to "
                 "a reader", f ? f->name : FS_MANIFEST_NAME, strerror(-rc));
    pthread_mutex_unlock(&ctx->mu);
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
int fs_op_statfs(fs_ctx *ctx, struct statvfs *sv)
{
    uint64_t total = 0;

    pthread_mutex_lock(&ctx->mu);
    for (int i = 0; i < ctx->nfiles; i++)
        total += ctx->files[i]->size;
    total += ctx->label_len + ctx->manifest_len + ctx->logman_len;
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = FS_BLKSIZE;
    sv->f_frsize = 4096;
    sv->f_blocks = (fsblkcnt_t)((total + 4095) / 4096);
    sv->f_files = (fsfilcnt_t)(ctx->nfiles + 5);
    sv->f_namemax = 255;
    sv->f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
    pthread_mutex_unlock(&ctx->mu);
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
    if (!ctx->complete)
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
    if (ctx->failed) {
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

/* See fsops.h. */
enum fs_decision fs_would_decide(fs_ctx *ctx, const char **reason)
{
    enum fs_decision d;

    pthread_mutex_lock(&ctx->mu);
    d = decide_locked(ctx, reason);
    pthread_mutex_unlock(&ctx->mu);
    return d;
}

/* The Jet calls a decision makes, for logs and status (static string). */
static const char *decision_text(enum fs_decision d)
{
    return d == FS_DECIDE_TRUNCATE ? "JetTruncateLogInstance + JetEndExternalBackupInstance2(Normal)"
         : d == FS_DECIDE_COPY ? "JetEndExternalBackupInstance2(Normal) without truncation"
                               : "JetEndExternalBackupInstance2(Abort)";
}

/* See fsops.h. */
enum fs_decision fs_ctx_finish(fs_ctx *ctx)
{
    const char *reason = "";
    enum fs_decision d;
    JET_ERR rc;

    pthread_mutex_lock(&ctx->mu);
    if (ctx->finished) {
        d = ctx->decision;
        pthread_mutex_unlock(&ctx->mu);
        return d;
    }
    ctx->finished = 1;
    d = decide_locked(ctx, &reason);
    if (!ctx->started) {
        d = FS_DECIDE_ABORT;
        reason = "the backup never began";
    }
    ctx->decision = d;
    ctx->decision_reason = reason;
    ctx->stop = 1;
    pthread_cond_broadcast(&ctx->cv_prod);
    pthread_cond_broadcast(&ctx->cv_data);
    pthread_mutex_unlock(&ctx->mu);
    if (ctx->producer_running) {
        pthread_join(ctx->producer, NULL);
        ctx->producer_running = 0;
    }
    if (!ctx->started) {
        d = FS_DECIDE_ABORT;
        goto out;
    }
    fs_log(LOG_NOTICE, "umount: %s -> %s", reason, decision_text(d));
    if (d == FS_DECIDE_TRUNCATE) {
        rc = ctx->be.ops->truncate(ctx->be.ctx);
        if (rc < 0) {
            fs_log(LOG_ERR, "JetTruncateLogInstance failed: %s (%ld); ending without truncation "
                   "(recorded as a copy)", JetLibErrorName(rc), (long)rc);
            d = FS_DECIDE_COPY;
        }
    }
    rc = ctx->be.ops->end(ctx->be.ctx, d == FS_DECIDE_ABORT ? JET_bitBackupEndAbort
                                                            : JET_bitBackupEndNormal);
    if (rc < 0 && !(d == FS_DECIDE_ABORT && rc == JET_errNoBackup)) {
        fs_log(LOG_ERR, "JetEndExternalBackupInstance2 failed: %s (%ld)", JetLibErrorName(rc),
               (long)rc);
        if (d != FS_DECIDE_ABORT) {
            (void)ctx->be.ops->end(ctx->be.ctx, JET_bitBackupEndAbort);
            d = FS_DECIDE_ABORT;
        }
    }
    ctx->started = 0;
    fs_log(LOG_NOTICE, "backup ended: %s", d == FS_DECIDE_TRUNCATE ? "logs truncated"
                                            : d == FS_DECIDE_COPY ? "normal (no truncation)"
                                                                  : "aborted");
out:
    pthread_mutex_lock(&ctx->mu);
    ctx->decision = d;
    ctx->ended = 1;
    pthread_mutex_unlock(&ctx->mu);
    fs_spool_close(&ctx->spool);
    return d;
}

/* See fsops.h. */
void fs_ctx_interrupt(fs_ctx *ctx, int sig)
{
    pthread_mutex_lock(&ctx->mu);
    if (!ctx->stop && !ctx->finished) {
        ctx->stop = 1;
        fs_log(LOG_NOTICE, "signal %d: stop pulling, requests that wait for the engine get EIO",
               sig);
    }
    pthread_cond_broadcast(&ctx->cv_prod);
    pthread_cond_broadcast(&ctx->cv_data);
    pthread_mutex_unlock(&ctx->mu);
}

/* See fsops.h. */
void fs_ctx_free(fs_ctx *ctx)
{
    if (!ctx)
        return;
    (void)fs_ctx_finish(ctx);
    for (int i = 0; i < ctx->nfiles; i++) {
        EVP_MD_CTX_free(ctx->files[i]->sha);
        fs_file_free(ctx->files[i]);
    }
    free(ctx->files);
    if (ctx->be.ops) {
        const char *name = ctx->be.ops->name;
        JET_ERR trc = bkc_close(&ctx->be);
        if (trc < 0)
            fs_log(LOG_ERR, "closing the %s source: JetTerm2(Complete) failed: %s (%ld)", name,
                   JetLibErrorName(trc), (long)trc);
        else
            fs_log(LOG_INFO, "%s source closed", name);
    }
    fs_window_free(&ctx->win);
    free(ctx->buf);
    free(ctx->label);
    free(ctx->manifest);
    free(ctx->logman);
    fs_file_free(ctx->man[0]);
    fs_file_free(ctx->man[1]);
    pthread_cond_destroy(&ctx->cv_prod);
    pthread_cond_destroy(&ctx->cv_data);
    pthread_mutex_destroy(&ctx->mu);
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

#define ST(...) do { if (n < cb) n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); } while (0)
    pthread_mutex_lock(&ctx->mu);
    d = ctx->finished ? ctx->decision : decide_locked(ctx, &reason);
    phase = ctx->failed ? "failed" : ctx->finished ? "ended" : ctx->complete ? "complete"
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
    ST("error: %s\n", ctx->failed ? ctx->errmsg : "none");
    if (ctx->ended)
        ST("umount: done: %s\n", decision_text(d));
    else if (ctx->finished)
        ST("umount: deciding: %s (%s)\n", decision_text(d), ctx->decision_reason);
    else
        ST("umount now would: %s (%s)\n", decision_text(d), reason);
    healthy = !ctx->failed;
    pthread_mutex_unlock(&ctx->mu);
#undef ST
    return healthy ? 0 : 1;
}

/* See fsops.h. */
int fs_commit(fs_ctx *ctx, char *buf, size_t cb)
{
    int rc;

    pthread_mutex_lock(&ctx->mu);
    if (ctx->finished) {
        /* the decision is taken (under mu, so it cannot have seen this
         * commit): say which, and do not pretend the commit counts */
        snprintf(buf, cb, "commit refused: umount has already decided: %s (%s)%s\n",
                 decision_text(ctx->decision), ctx->decision_reason,
                 ctx->ended ? "" : "; ending the backup now");
        fs_log(LOG_NOTICE, "commit refused: the umount decision was already taken");
        pthread_mutex_unlock(&ctx->mu);
        return 1;
    }
    ctx->commit_requested = 1;
    if (ctx->failed) {
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
    fs_log(LOG_NOTICE, "commit requested");
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}

/* See fsops.h. */
uint64_t fs_spool_bytes(fs_ctx *ctx)
{
    uint64_t n;

    pthread_mutex_lock(&ctx->mu);
    n = ctx->spool_written;
    pthread_mutex_unlock(&ctx->mu);
    return n;
}

/* See fsops.h. */
int fs_wait_settled(fs_ctx *ctx)
{
    int rc;

    pthread_mutex_lock(&ctx->mu);
    rc = wait_complete(ctx);
    pthread_mutex_unlock(&ctx->mu);
    return rc;
}
