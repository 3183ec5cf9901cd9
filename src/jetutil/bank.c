/*
 * bank.c -- jetutil's instance directory (settings file, instance
 * parameters) and the bank database (metadata, shards, accounts, random
 * transfers), plus the multi-threaded workload runner shared by `workload`
 * and `serve`.  State lives in ju_inst / ju_bank / ju_runner only.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bkclient.h"
#include "jetutil.h"

/* Fill s with the defaults used by `create`. */
void ju_settings_default(ju_settings *s)
{
    memset(s, 0, sizeof *s);
    s->page_size = 4096;
    s->log_kib = 1024;
    s->record_size = 64;
    strcpy(s->base, JU_BASE);
    s->legacy = JU_LEGACY;
}

/* Parse DIR/jetutil.conf ("key=value" lines, '#' comments).  Unknown keys,
 * bad values and missing required keys are errors (printed, -1). */
int ju_settings_read(const char *cmd, const char *dir, ju_settings *s)
{
    char path[JU_PATH], line[256];
    FILE *f = NULL;
    mode_t kind;
    int rc = -1, lineno = 0;
    bool have_page = false, have_log = false;

    ju_settings_default(s);
    snprintf(path, sizeof path, "%s/%s", dir, JU_SETTINGS);
    f = ju_fopen_read(path, &kind);
    if (!f) {
        ju_open_error(cmd, path, kind, kind ? NULL : "not a jetutil instance directory?");
        return -1;
    }
    for (;;) {
        char *key, *val;
        unsigned long v;
        int k = ju_kv_next(f, cmd, path, &lineno, line, sizeof line, &key, &val);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        if (!strcmp(key, "base")) {
            if (strlen(val) != JET_BASE_NAME_LENGTH) {
                ju_error(cmd, "%s:%d: base must be %d characters", path, lineno,
                         JET_BASE_NAME_LENGTH);
                goto out;
            }
            strcpy(s->base, val);
            continue;
        }
        errno = 0;
        {
            char *end;
            v = strtoul(val, &end, 10);
            if (errno || !*val || *end) {
                ju_error(cmd, "%s:%d: %s: '%s' is not a number", path, lineno, key, val);
                goto out;
            }
        }
        if (!strcmp(key, "page_size")) {
            s->page_size = v;
            have_page = true;
        } else if (!strcmp(key, "log_kib")) {
            s->log_kib = v;
            have_log = true;
        } else if (!strcmp(key, "record_size")) {
            s->record_size = v;
        } else if (!strcmp(key, "checkpoint_kib")) {
            s->checkpoint_kib = v;
        } else if (!strcmp(key, "legacy")) {
            s->legacy = v;
        } else {
            ju_error(cmd, "%s:%d: unknown key '%s'", path, lineno, key);
            goto out;
        }
    }
    if (!have_page || !have_log) {
        ju_error(cmd, "%s: page_size and log_kib are required", path);
        goto out;
    }
    /* the engine is about to open the instance's files: none may be a
     * FIFO, device or directory (issue 7 item 10) */
    if (ju_check_instance_files(cmd, dir, s->base) < 0)
        goto out;
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* Write DIR/jetutil.conf atomically (tmp + fsync + rename + dir fsync). */
int ju_settings_write(const char *cmd, const char *dir, const ju_settings *s)
{
    mode_t kind = 0;
    int fd;
    char path[JU_PATH], tmp[JU_PATH];
    FILE *f;
    int rc = -1;

    snprintf(path, sizeof path, "%s/%s", dir, JU_SETTINGS);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, JU_SETTINGS);
    fd = ju_open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &kind);
    f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        ju_open_error(cmd, tmp, kind, NULL);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f,
            "# jetutil instance settings (see jetutil(1))\n"
            "page_size=%lu\nlog_kib=%lu\nrecord_size=%lu\nbase=%s\nlegacy=%lu\n",
            s->page_size, s->log_kib, s->record_size, s->base, s->legacy);
    if (s->checkpoint_kib)
        fprintf(f, "checkpoint_kib=%lu\n", s->checkpoint_kib);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        ju_error(cmd, "%s: %s", tmp, strerror(errno));
        fclose(f);
        unlink(tmp);
        return -1;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0 || ju_fsync_dir(dir) != 0) {
        ju_error(cmd, "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* Create + configure + JetInit through the shared hosting (bkclient.h);
 * see jetutil.h. */
JET_ERR ju_inst_open(ju_inst *ji, const char *dir, const ju_settings *s)
{
    char name[64];
    bkc_param extra[2] = {
        { .id = JETLIB_paramRecordSize, .value = s->record_size },
        { .id = JETLIB_paramCheckpointKiB, .value = s->checkpoint_kib },
    };
    bkc_host_params p = {
        .instance = name,
        .system_path = ji->dir,
        .log_path = ji->dir,
        .base_name = s->base,
        .page_size = s->page_size,
        .log_kib = s->log_kib,
        .circular = s->circular ? 1 : 0,
        .legacy = (long)s->legacy,
        .extra = extra,
        .nextra = s->checkpoint_kib ? 2 : 1,
    };
    JET_ERR rc;

    memset(ji, 0, sizeof *ji);
    ji->s = *s;
    if (ju_absdir(dir, ji->dir, sizeof ji->dir - sizeof JU_DBNAME) < 0)
        return JET_errInvalidPath;
    snprintf(ji->dbpath, sizeof ji->dbpath, "%s%s", ji->dir, JU_DBNAME);
    /* unique per process and directory: the address of the context */
    snprintf(name, sizeof name, "jetutil-%d-%p", (int)getpid(), (void *)ji);
    rc = bkc_host_init(&p, &ji->inst, NULL);
    if (rc < 0)
        return rc;
    ji->created = ji->inited = true;
    return JET_errSuccess;
}

/* Clean termination; a failing TermComplete still releases the instance. */
JET_ERR ju_inst_close(ju_inst *ji)
{
    JET_ERR rc = JET_errSuccess;

    if (!ji->created)
        return rc;
    rc = bkc_host_term(ji->inst);
    ji->created = ji->inited = false;
    return rc;
}

/* Record numbers of the layout. */
static uint64_t shard_rec(unsigned i)
{
    return 1 + (uint64_t)i;
}
static uint64_t acct_rec(const ju_bank *b, uint64_t i)
{
    return 1 + b->shards + i;
}

/* Read a u64 stored little-endian at the start of record recno. */
static JET_ERR read_u64(ju_bank *b, uint64_t recno, uint64_t *v)
{
    uint8_t buf[8];
    JET_ERR rc = JetLibReadRecord(b->ses, b->db, recno, buf, sizeof buf);
    if (rc < 0)
        return rc;
    *v = 0;
    for (int i = 7; i >= 0; i--)
        *v = (*v << 8) | buf[i];
    return 0;
}

/* Write a u64 little-endian into record recno (in a transaction). */
static JET_ERR write_u64(ju_bank *b, uint64_t recno, uint64_t v)
{
    uint8_t buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
    return JetLibWriteRecord(b->ses, b->db, recno, buf, sizeof buf);
}

/* Session + attach (JET_wrnDatabaseAttached accepted) + open + metadata. */
JET_ERR ju_bank_open(ju_inst *ji, ju_bank *b)
{
    JET_ERR rc;
    uint8_t meta[32];

    memset(b, 0, sizeof *b);
    JCALL(JetBeginSession(ji->inst, &b->ses, NULL, NULL));
    b->have_ses = true;
    JCALL(JetAttachDatabase(b->ses, ji->dbpath, 0));
    JCALL(JetOpenDatabase(b->ses, ji->dbpath, NULL, &b->db, 0));
    b->have_db = true;
    JCALL(JetLibReadRecord(b->ses, b->db, 0, meta, sizeof meta));
    {
        uint64_t f[4];
        for (int k = 0; k < 4; k++) {
            f[k] = 0;
            for (int i = 7; i >= 0; i--)
                f[k] = (f[k] << 8) | meta[8 * k + i];
        }
        if (f[0] != JU_MAGIC || f[1] == 0 || f[3] != JU_SHARDS) {
            rc = JET_errDatabaseCorrupted;
            goto out;
        }
        b->accounts = f[1];
        b->total = f[2];
        b->shards = f[3];
    }
    rc = JET_errSuccess;
out:
    if (rc < 0)
        ju_bank_close(b);
    return rc;
}

/* Close the database and end the session (errors ignored: teardown). */
void ju_bank_close(ju_bank *b)
{
    if (b->have_db)
        JetCloseDatabase(b->ses, b->db, 0);
    if (b->have_ses)
        JetEndSession(b->ses, 0);
    b->have_db = b->have_ses = false;
}

/* One transfer with retry on write conflicts; see jetutil.h. */
JET_ERR ju_bank_transfer(ju_bank *b, unsigned shard, uint64_t *rng, const atomic_bool *stop)
{
    JET_ERR rc;

    for (;;) {
        uint64_t from = ju_rand(rng) % b->accounts, to = ju_rand(rng) % b->accounts;
        uint64_t bf, bt, cnt, amt;
        uint64_t rs = shard_rec(shard % JU_SHARDS);
        bool in_trx = false;

        if (atomic_load_explicit(stop, memory_order_relaxed))
            return 1;
        if (to == from)
            to = (from + 1) % b->accounts;
        JCALL(JetBeginTransaction(b->ses));
        in_trx = true;
        JCALL(JetLibLockRecord(b->ses, b->db, rs));
        JCALL(JetLibLockRecord(b->ses, b->db, acct_rec(b, from)));
        JCALL(JetLibLockRecord(b->ses, b->db, acct_rec(b, to)));
        JCALL(read_u64(b, rs, &cnt));
        JCALL(read_u64(b, acct_rec(b, from), &bf));
        JCALL(read_u64(b, acct_rec(b, to), &bt));
        amt = bf ? ju_rand(rng) % (bf < 100 ? bf + 1 : 101) : 0;
        JCALL(write_u64(b, acct_rec(b, from), bf - amt));
        JCALL(write_u64(b, acct_rec(b, to), bt + amt));
        JCALL(write_u64(b, rs, cnt + 1));
        rc = JetCommitTransaction(b->ses, 0);
        if (rc >= 0)
            return 0;
    out:
        if (in_trx && rc < 0)
            JetRollback(b->ses, 0);
        if (rc != JET_errWriteConflict)
            return rc;
        /* conflict: retry with new accounts; 2PL without waiting */
        sched_yield();
    }
}

/* Sums of shards and balances in one read-only transaction. */
JET_ERR ju_bank_sums(ju_bank *b, uint64_t *ptransfers, uint64_t *pbalances)
{
    JET_ERR rc;
    uint64_t t = 0, s = 0, v;
    bool in_trx = false;

    JCALL(JetBeginTransaction(b->ses));
    in_trx = true;
    for (unsigned i = 0; i < b->shards; i++) {
        JCALL(read_u64(b, shard_rec(i), &v));
        t += v;
    }
    for (uint64_t i = 0; i < b->accounts; i++) {
        JCALL(read_u64(b, acct_rec(b, i), &v));
        s += v;
    }
    *ptransfers = t;
    *pbalances = s;
    rc = JET_errSuccess;
out:
    if (in_trx)
        JetRollback(b->ses, 0);
    return rc;
}

/* Shard sum in one read-only transaction. */
JET_ERR ju_bank_transfers(ju_bank *b, uint64_t *ptransfers)
{
    JET_ERR rc;
    uint64_t t = 0, v;
    bool in_trx = false;

    JCALL(JetBeginTransaction(b->ses));
    in_trx = true;
    for (unsigned i = 0; i < b->shards; i++) {
        JCALL(read_u64(b, shard_rec(i), &v));
        t += v;
    }
    *ptransfers = t;
    rc = JET_errSuccess;
out:
    if (in_trx)
        JetRollback(b->ses, 0);
    return rc;
}

/* ---- runner ---- */
typedef struct ju_worker {
    struct ju_runner *r;
    unsigned idx;
    pthread_t th;
    bool started;
    ju_bank bank;
} ju_worker;

struct ju_runner {
    ju_inst *ji;
    unsigned nthreads;
    atomic_bool stop; /* read by workers; set once by stop (C11 atomic) */
    _Atomic uint64_t committed;
    _Atomic long err;
    ju_worker *w;
};

/* Worker: transfers until stop or an engine error (recorded in r->err). */
static void *worker_main(void *arg)
{
    ju_worker *w = arg;
    uint64_t rng = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^ ((uint64_t)w->idx + 1) << 17 ^
                   (uint64_t)getpid();

    if (!rng)
        rng = 1;
    while (!atomic_load_explicit(&w->r->stop, memory_order_relaxed)) {
        JET_ERR rc = ju_bank_transfer(&w->bank, w->idx, &rng, &w->r->stop);
        if (rc == 1)
            break;
        if (rc < 0) {
            long zero = 0;
            atomic_compare_exchange_strong(&w->r->err, &zero, rc);
            break;
        }
        atomic_fetch_add(&w->r->committed, 1);
    }
    return NULL;
}

/* Open T sessions, then start T threads; see jetutil.h. */
JET_ERR ju_runner_start(ju_inst *ji, unsigned threads, ju_runner **pr)
{
    JET_ERR rc;
    ju_runner *r = calloc(1, sizeof *r);

    if (!r)
        return JET_errOutOfMemory;
    atomic_init(&r->stop, false);
    atomic_init(&r->committed, 0);
    atomic_init(&r->err, 0);
    r->ji = ji;
    r->w = calloc(threads, sizeof *r->w);
    if (!r->w) {
        free(r);
        return JET_errOutOfMemory;
    }
    r->nthreads = threads;
    for (unsigned i = 0; i < threads; i++) {
        r->w[i].r = r;
        r->w[i].idx = i;
        JCALL(ju_bank_open(ji, &r->w[i].bank));
    }
    for (unsigned i = 0; i < threads; i++) {
        if (pthread_create(&r->w[i].th, NULL, worker_main, &r->w[i]) != 0) {
            rc = JET_errOutOfMemory;
            goto out;
        }
        r->w[i].started = true;
    }
    *pr = r;
    rc = JET_errSuccess;
out:
    if (rc < 0)
        ju_runner_stop(r);
    return rc;
}

/* Transactions the runner's writers committed so far (atomic read; any
 * thread). */
uint64_t ju_runner_committed(ju_runner *r)
{
    return atomic_load(&r->committed);
}

/* The first error a writer hit, 0 if none (atomic read; any thread). */
JET_ERR ju_runner_error(ju_runner *r)
{
    return atomic_load(&r->err);
}

/* Stop flag and join; idempotent. */
void ju_runner_stop_workers(ju_runner *r)
{
    atomic_store_explicit(&r->stop, true, memory_order_relaxed);
    for (unsigned i = 0; i < r->nthreads; i++) {
        if (r->w[i].started)
            pthread_join(r->w[i].th, NULL);
        r->w[i].started = false;
    }
}

/* Stop flag, join, close sessions, free. */
void ju_runner_stop(ju_runner *r)
{
    if (!r)
        return;
    ju_runner_stop_workers(r);
    for (unsigned i = 0; i < r->nthreads; i++)
        ju_bank_close(&r->w[i].bank);
    free(r->w);
    free(r);
}

/* Block SIGTERM/SIGINT for this thread and its future children. */
int ju_block_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    return pthread_sigmask(SIG_BLOCK, &set, NULL) == 0 ? 0 : -1;
}

/* sigtimedwait on SIGTERM/SIGINT for ms milliseconds. */
int ju_wait_signal(long ms)
{
    sigset_t set;
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    for (;;) {
        int s = sigtimedwait(&set, NULL, &ts);
        if (s >= 0)
            return 1;
        if (errno == EAGAIN)
            return 0;
        if (errno != EINTR)
            return 0;
    }
}

/* See jetutil.h. */
JET_ERR ju_bank_base(const char *cmd, ju_inst *ji, uint64_t *base)
{
    ju_bank b;
    JET_ERR rc;

    rc = ju_bank_open(ji, &b);
    if (rc >= 0) {
        rc = ju_bank_transfers(&b, base);
        ju_bank_close(&b);
    }
    if (rc < 0)
        ju_jet_error(cmd, ji->dbpath, rc);
    return rc;
}
