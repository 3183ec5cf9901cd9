/* test_fs_fake.c -- see test_fs_fake.h. */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "test_fs_fake.h"

/* See test_fs_fake.h. */
void fake_init(fake_engine *e, unsigned long cb_page, int ndb, const uint64_t *db_sizes, int nlog,
               uint64_t log_size)
{
    memset(e, 0, sizeof *e);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv, NULL);
    e->cb_page = cb_page;
    e->ndb = ndb;
    e->nlog = nlog;
    for (int i = 0; i < ndb; i++) {
        snprintf(e->db[i].path, sizeof e->db[i].path, "/srv/inst/db%d.edb", i);
        e->db[i].size = db_sizes[i];
    }
    for (int i = 0; i < nlog; i++) {
        snprintf(e->log[i].path, sizeof e->log[i].path, "/srv/inst/logs/edb%05X.log", 10 + i);
        e->log[i].size = log_size;
    }
    e->committed = 4242;
}

/* See test_fs_fake.h. */
void fake_wait_stalled(fake_engine *e)
{
    pthread_mutex_lock(&e->mu);
    while (!e->stalled)
        pthread_cond_wait(&e->cv, &e->mu);
    pthread_mutex_unlock(&e->mu);
}

/* See test_fs_fake.h. */
void fake_release(fake_engine *e)
{
    pthread_mutex_lock(&e->mu);
    e->released = 1;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
}

/* See test_fs_fake.h. */
unsigned char fake_byte(int is_log, int i, uint64_t off)
{
    uint64_t x = off * 0x9E3779B97F4A7C15ull + (uint64_t)(i + 1) * 0x632BE59BD9B4E019ull +
                 (uint64_t)is_log * 0x85EBCA6Bull;
    x ^= x >> 29;
    return (unsigned char)(x ^ (x >> 17));
}

/* Record a rule violation (first one kept). e->mu held. */
static JET_ERR violate(fake_engine *e, JET_ERR err, const char *what)
{
    if (!e->violations++)
        snprintf(e->violation, sizeof e->violation, "%s", what);
    return err;
}

/* Pack names into a multi-string; *pcb gets the size. */
static JET_ERR put_szz(fake_file *files, int n, char *szz, unsigned long cb, unsigned long *pcb)
{
    unsigned long need = 1;

    for (int i = 0; i < n; i++)
        need += (unsigned long)strlen(files[i].path) + 1;
    if (pcb)
        *pcb = need;
    if (!szz)
        return 0;
    if (cb < need)
        return JET_errBufferTooSmall;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(files[i].path) + 1;
        memcpy(szz, files[i].path, l);
        szz += l;
    }
    *szz = 0;
    return 0;
}

static JET_ERR f_info(void *p, bkc_info *info)
{
    fake_engine *e = p;
    snprintf(info->instance, sizeof info->instance, "fake");
    snprintf(info->base_name, sizeof info->base_name, "edb");
    info->cb_page = e->cb_page;
    return 0;
}

static JET_ERR f_begin(void *p, JET_GRBIT grbit)
{
    fake_engine *e = p;
    JET_ERR rc = 0;

    pthread_mutex_lock(&e->mu);
    e->nbegin++;
    if (e->fail_begin)
        rc = e->fail_begin;
    else if (e->in_backup)
        rc = JET_errBackupInProgress;
    else {
        e->in_backup = 1;
        e->incremental = (grbit & JET_bitBackupIncremental) != 0;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_attach(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    fake_engine *e = p;
    JET_ERR rc;

    pthread_mutex_lock(&e->mu);
    if (!e->in_backup)
        rc = violate(e, JET_errNoBackup, "attach info without backup");
    else if (e->incremental)
        rc = violate(e, JET_errInvalidBackupSequence, "attach info in incremental");
    else
        rc = put_szz(e->db, e->ndb, szz, cb, pcb);
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    fake_engine *e = p;
    JET_ERR rc = 0;

    pthread_mutex_lock(&e->mu);
    if (!e->in_backup) {
        rc = violate(e, JET_errNoBackup, "open without backup");
        goto out;
    }
    if (e->open_kind) {
        rc = violate(e, JET_errOutOfMemory, "second open file");
        goto out;
    }
    if (e->fail_open_err && !strcmp(name, e->fail_open_path)) {
        rc = e->fail_open_err;
        goto out;
    }
    for (int i = 0; i < e->ndb; i++)
        if (!strcmp(e->db[i].path, name)) {
            if (e->loginfo_done || e->incremental) {
                rc = violate(e, JET_errInvalidBackupSequence, "db open in log phase");
                goto out;
            }
            e->open_kind = 1;
            e->open_idx = i;
            e->pos = 0;
            *ph = 0;
            *psize = e->db[i].size;
            goto out;
        }
    for (int i = 0; i < e->nlog; i++)
        if (!strcmp(e->log[i].path, name)) {
            if (!e->loginfo_done) {
                rc = violate(e, JET_errDatabaseNotFound, "log open before GetLogInfo");
                goto out;
            }
            e->open_kind = 2;
            e->open_idx = i;
            e->pos = 0;
            *ph = 0;
            *psize = e->log[i].size;
            goto out;
        }
    rc = violate(e, JET_errFileNotFound, "open of an unknown file");
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    fake_engine *e = p;
    JET_ERR rc = 0;
    fake_file *f;
    uint64_t n;

    (void)h;
    pthread_mutex_lock(&e->mu);
    e->nreads++;
    if (!e->open_kind) {
        rc = violate(e, JET_errInvalidParameter, "read without open file");
        goto out;
    }
    if ((uintptr_t)pv % 4096 || cb % e->cb_page) {
        rc = violate(e, JET_errInvalidParameter, "unaligned buffer or size");
        goto out;
    }
    if (e->pos == 0 && cb < (e->open_kind == 1 ? 3 : 2) * e->cb_page) {
        rc = violate(e, JET_errInvalidParameter, "first read too small");
        goto out;
    }
    if (e->stall_read_n && e->nreads == e->stall_read_n) {
        e->stalled = 1;
        pthread_cond_broadcast(&e->cv);
        while (!e->released)
            pthread_cond_wait(&e->cv, &e->mu);
        e->stalled = 0;
    }
    if (e->fail_read_n && e->nreads == e->fail_read_n) {
        rc = e->fail_read_err;
        if (e->open_kind == 2)
            e->in_backup = 0; /* log-phase errors abort the backup */
        e->open_kind = 0;     /* the handle is closed */
        goto out;
    }
    f = e->open_kind == 1 ? &e->db[e->open_idx] : &e->log[e->open_idx];
    n = f->size - e->pos;
    if (n > cb)
        n = cb;
    for (uint64_t i = 0; i < n; i++)
        ((unsigned char *)pv)[i] = fake_byte(e->open_kind == 2, e->open_idx, e->pos + i);
    e->pos += n;
    if (pcb)
        *pcb = (unsigned long)n;
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_close(void *p, JET_HANDLE h)
{
    fake_engine *e = p;
    JET_ERR rc = 0;

    (void)h;
    pthread_mutex_lock(&e->mu);
    if (!e->open_kind) {
        rc = violate(e, JET_errInvalidParameter, "close without open file");
    } else {
        fake_file *f = e->open_kind == 1 ? &e->db[e->open_idx] : &e->log[e->open_idx];
        if (e->pos == f->size)
            f->read_done = 1;
        e->open_kind = 0;
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_loginfo(void *p, char *szz, unsigned long cb, unsigned long *pcb,
                         JET_LOGINFO_A *li)
{
    fake_engine *e = p;
    JET_ERR rc;

    pthread_mutex_lock(&e->mu);
    if (!e->in_backup) {
        rc = violate(e, JET_errNoBackup, "loginfo without backup");
        goto out;
    }
    if (e->open_kind) {
        rc = violate(e, JET_errInvalidBackupSequence, "loginfo with an open file");
        goto out;
    }
    if (!e->incremental)
        for (int i = 0; i < e->ndb; i++)
            if (!e->db[i].read_done) {
                rc = violate(e, JET_errInvalidBackupSequence, "loginfo before every db was read");
                goto out;
            }
    e->loginfo_done = 1;
    if (li) {
        li->ulGenLow = 10;
        li->ulGenHigh = 10 + (unsigned long)e->nlog - 1;
        snprintf(li->szBaseName, sizeof li->szBaseName, "edb");
    }
    rc = put_szz(e->log, e->nlog, szz, cb, pcb);
out:
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_truncate(void *p)
{
    fake_engine *e = p;
    JET_ERR rc = 0;

    pthread_mutex_lock(&e->mu);
    if (!e->in_backup)
        rc = violate(e, JET_errNoBackup, "truncate without backup");
    else
        for (int i = 0; i < e->nlog; i++)
            if (!e->log[i].read_done)
                rc = violate(e, JET_errLogFileNotCopied, "truncate before every log was read");
    if (rc == 0)
        e->ntruncate++;
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_end(void *p, JET_GRBIT grbit)
{
    fake_engine *e = p;
    JET_ERR rc = 0;

    pthread_mutex_lock(&e->mu);
    e->nend++;
    e->end_grbit = grbit;
    if (!e->in_backup)
        rc = JET_errNoBackup;
    e->in_backup = 0;
    pthread_mutex_unlock(&e->mu);
    return rc;
}

static JET_ERR f_committed(void *p, unsigned long long *pn)
{
    fake_engine *e = p;
    *pn = e->committed;
    return e->loginfo_done ? 0 : JET_errInvalidBackupSequence;
}

static JET_ERR f_destroy(void *p)
{
    (void)p;
    return 0;
}

static const bkc_ops fake_ops = {
    .name = "fake",
    .info = f_info,
    .begin = f_begin,
    .attach_info = f_attach,
    .open = f_open,
    .read = f_read,
    .close = f_close,
    .log_info = f_loginfo,
    .trunc_info = NULL,
    .truncate = f_truncate,
    .end = f_end,
    .committed_at_roll = f_committed,
    .destroy = f_destroy,
};

/* See test_fs_fake.h. */
void fake_backend(fake_engine *e, bkc_source *be)
{
    be->ops = &fake_ops;
    be->ctx = e;
}
