/*
 * test_engine_backup.c -- full external backups taken while 4 writer
 * threads commit transactions, each restored with JetExternalRestore2A:
 * every transaction acknowledged before the backup's JetGetLogInfo call
 * (which rolls the log) must be in the restored database, and the data
 * must be transaction-consistent.
 *
 * Data: writer w increments its counter record w and, in the same
 * transaction, a mirror copy of it on another page (MIRROR + w) and the
 * shared total (TOTAL, contended: write conflicts are retried).  A
 * consistent database has rec[w] == rec[MIRROR + w] for every w and
 * rec[TOTAL] == sum of rec[w].
 */
#include "config.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "jetlib.h"
#include "jet_testutil.h"

#define NWRITERS 4
#define MIRROR 5000ULL /* another page than the counters */
#define TOTAL 100ULL
#define CBP 4096
#define BUFPAGES 16
#define NBACKUPS 3

static char root[256];

typedef struct shared {
    JET_INSTANCE inst;
    char dbpath[PATH_MAX];
    atomic_ullong acked[NWRITERS]; /* transactions acknowledged per writer */
    atomic_bool stop;
    atomic_int err; /* first unexpected engine error */
} shared;

typedef struct writer {
    shared *sh;
    unsigned w;
} writer;

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(root, sizeof root, "test_engine_backup"), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(root), 0);
}

static void sub(char *buf, size_t cb, const char *name)
{
    snprintf(buf, cb, "%s/%s", root, name);
}

static void xmkdir(const char *p)
{
    ck_assert_int_eq(mkdir(p, 0755), 0);
}

/* Record an unexpected error (first one wins) and stop everybody. */
static void fail_with(shared *sh, JET_ERR rc)
{
    int zero = 0;
    atomic_compare_exchange_strong(&sh->err, &zero, rc);
    atomic_store(&sh->stop, true);
}

/* One increment transaction; 1 done, 0 write conflict (rolled back). */
static JET_ERR one_txn(JET_SESID s, JET_DBID db, unsigned w)
{
    unsigned long long c = 0, t = 0;
    JET_ERR rc = JetBeginTransaction(s);
    if (rc < 0)
        return rc;
    rc = JetLibLockRecord(s, db, TOTAL);
    if (rc == 0)
        rc = JetLibReadRecord(s, db, w, &c, sizeof c);
    if (rc == 0)
        rc = JetLibReadRecord(s, db, TOTAL, &t, sizeof t);
    c++;
    t++;
    if (rc == 0)
        rc = JetLibWriteRecord(s, db, w, &c, sizeof c);
    if (rc == 0)
        rc = JetLibWriteRecord(s, db, MIRROR + w, &c, sizeof c);
    if (rc == 0)
        rc = JetLibWriteRecord(s, db, TOTAL, &t, sizeof t);
    if (rc < 0) {
        (void)JetRollback(s, 0);
        return rc == JET_errWriteConflict ? 0 : rc;
    }
    rc = JetCommitTransaction(s, 0);
    return rc < 0 ? rc : 1;
}

/* Writer thread: increments until told to stop. */
static void *writer_main(void *arg)
{
    writer *wr = arg;
    shared *sh = wr->sh;
    JET_SESID s;
    JET_DBID db;
    JET_ERR rc = JetBeginSessionA(sh->inst, &s, NULL, NULL);
    if (rc == 0)
        rc = JetOpenDatabaseA(s, sh->dbpath, NULL, &db, 0);
    while (rc >= 0 && !atomic_load(&sh->stop)) {
        rc = one_txn(s, db, wr->w);
        if (rc == 1)
            atomic_fetch_add(&sh->acked[wr->w], 1);
        else if (rc == 0)
            sched_yield();
    }
    if (rc < 0)
        fail_with(sh, rc);
    (void)JetEndSession(s, 0);
    return NULL;
}

/* Transactions acknowledged by all writers so far. */
static unsigned long long acked_sum(shared *sh)
{
    unsigned long long n = 0;
    for (unsigned w = 0; w < NWRITERS; w++)
        n += atomic_load(&sh->acked[w]);
    return n;
}

/* Copy backup file name into outdir/<basename> through the Jet calls. */
static void copy_file(shared *sh, const char *name, const char *outdir, void *buf)
{
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    unsigned long long size, total = 0;
    char out[PATH_MAX + 300];
    FILE *f;
    ck_assert_int_eq(JetOpenFileInstanceA(sh->inst, name, &h, &lo, &hi), 0);
    size = ((unsigned long long)hi << 32) | lo;
    snprintf(out, sizeof out, "%s/%s", outdir, strrchr(name, '/') + 1);
    f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    do {
        ck_assert_int_eq(JetReadFileInstance(sh->inst, h, buf, BUFPAGES * CBP, &cb), 0);
        ck_assert_uint_eq(fwrite(buf, 1, cb, f), cb);
        total += cb;
    } while (cb != 0 && total < size);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(total, size);
    ck_assert_int_eq(JetCloseFileInstance(sh->inst, h), 0);
}

/* Full backup number k into root/bkK/{db,logs}; need[] gets the
 * acknowledged counts just before GetLogInfo. */
static void backup(shared *sh, unsigned k, unsigned long long need[NWRITERS], JET_LOGINFO_A *li)
{
    char bk[PATH_MAX], logs[PATH_MAX + 8], name[32];
    char *szz = malloc(1 << 16);
    unsigned long cb;
    void *buf = NULL;
    ck_assert_ptr_nonnull(szz);
    ck_assert_int_eq(posix_memalign(&buf, CBP, BUFPAGES * CBP), 0);
    snprintf(name, sizeof name, "bk%u", k);
    sub(bk, sizeof bk, name);
    snprintf(logs, sizeof logs, "%s/logs", bk);
    xmkdir(bk);
    xmkdir(logs);
    ck_assert_int_eq(JetBeginExternalBackupInstance(sh->inst, 0), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(sh->inst, szz, 1 << 16, &cb), 0);
    ck_assert_str_eq(szz, sh->dbpath);
    {
        /* writers commit while the database stream is copied and before
         * the log roll, so the backup needs its logs */
        unsigned long long a0 = acked_sum(sh);
        copy_file(sh, szz, bk, buf);
        while (acked_sum(sh) < a0 + 100 && !atomic_load(&sh->stop))
            sched_yield();
    }
    for (unsigned w = 0; w < NWRITERS; w++)
        need[w] = atomic_load(&sh->acked[w]);
    li->cbSize = sizeof *li;
    ck_assert_int_eq(JetGetLogInfoInstance2A(sh->inst, szz, 1 << 16, &cb, li), 0);
    for (const char *p = szz; *p; p += strlen(p) + 1)
        copy_file(sh, p, logs, buf);
    ck_assert_int_eq(JetEndExternalBackupInstance(sh->inst), 0);
    free(buf);
    free(szz);
}

/* Restore backup k into root/rsK and check it against need[]. */
static void restore_and_check(shared *sh, unsigned k, const unsigned long long need[NWRITERS],
                              JET_LOGINFO_A *li)
{
    char bk[PATH_MAX], logs[PATH_MAX + 8], copy[PATH_MAX + 16], rs[PATH_MAX], name[32];
    JET_RSTMAP_A map;
    JET_INSTANCE inst = 0;
    JET_SESID s;
    JET_DBID db;
    unsigned long long c[NWRITERS], m, t, sum = 0;
    snprintf(name, sizeof name, "bk%u", k);
    sub(bk, sizeof bk, name);
    snprintf(logs, sizeof logs, "%s/logs", bk);
    snprintf(copy, sizeof copy, "%s/%s", bk, strrchr(sh->dbpath, '/') + 1);
    snprintf(name, sizeof name, "rs%u", k);
    sub(rs, sizeof rs, name);
    xmkdir(rs);
    map.szDatabaseName = sh->dbpath;
    map.szNewDatabaseName = copy;
    ck_assert_int_eq(JetExternalRestore2A(rs, rs, &map, 1, logs, li, NULL, NULL, NULL, NULL), 0);

    snprintf(name, sizeof name, "verify%u", k);
    inst = jt_inst(name, rs, 64, 0);
    ck_assert_uint_ne(inst, 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, copy, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, copy, NULL, &db, 0), 0);
    for (unsigned w = 0; w < NWRITERS; w++) {
        ck_assert_int_eq(JetLibReadRecord(s, db, w, &c[w], sizeof c[w]), 0);
        ck_assert_int_eq(JetLibReadRecord(s, db, MIRROR + w, &m, sizeof m), 0);
        ck_assert_msg(c[w] == m, "backup %u writer %u: counter %llu mirror %llu", k, w, c[w], m);
        ck_assert_msg(c[w] >= need[w], "backup %u writer %u: %llu < acknowledged %llu", k, w, c[w],
                      need[w]);
        ck_assert_uint_le(c[w], atomic_load(&sh->acked[w]) + 1);
        sum += c[w];
    }
    ck_assert_int_eq(JetLibReadRecord(s, db, TOTAL, &t, sizeof t), 0);
    ck_assert_uint_eq(t, sum);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(copy, NULL, NULL), 0);
}

START_TEST(backup_during_writers)
{
    static shared sh;
    writer wr[NWRITERS];
    pthread_t th[NWRITERS];
    char src[512];
    JET_SESID s;
    JET_DBID db;
    unsigned long long need[NBACKUPS][NWRITERS];
    JET_LOGINFO_A li[NBACKUPS];

    memset(&sh, 0, sizeof sh);
    sub(src, sizeof src, "src");
    xmkdir(src);
    snprintf(sh.dbpath, sizeof sh.dbpath, "%s/bank.edb", src);
    sh.inst = jt_inst("src", src, 64, 0);
    ck_assert_uint_ne(sh.inst, 0);
    ck_assert_int_eq(JetInit(&sh.inst), 0);
    ck_assert_int_eq(JetBeginSessionA(sh.inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, sh.dbpath, NULL, &db, 0), 0);
    {
        /* realpath form, as the engine reports it */
        char real[PATH_MAX];
        ck_assert_ptr_nonnull(realpath(sh.dbpath, real));
        snprintf(sh.dbpath, sizeof sh.dbpath, "%s", real);
    }
    for (unsigned w = 0; w < NWRITERS; w++) {
        wr[w] = (writer){ &sh, w };
        ck_assert_int_eq(pthread_create(&th[w], NULL, writer_main, &wr[w]), 0);
    }
    for (unsigned k = 0; k < NBACKUPS; k++) {
        /* let the writers commit something before each backup */
        unsigned long long start = acked_sum(&sh);
        while (acked_sum(&sh) < start + 400 && !atomic_load(&sh.stop))
            sched_yield();
        backup(&sh, k, need[k], &li[k]);
    }
    atomic_store(&sh.stop, true);
    for (unsigned w = 0; w < NWRITERS; w++)
        ck_assert_int_eq(pthread_join(th[w], NULL), 0);
    ck_assert_int_eq(atomic_load(&sh.err), 0);
    for (unsigned w = 0; w < NWRITERS; w++)
        ck_assert_uint_gt(atomic_load(&sh.acked[w]), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(sh.inst, JET_bitTermComplete), 0);
    for (unsigned k = 0; k < NBACKUPS; k++)
        restore_and_check(&sh, k, need[k], &li[k]);
    if (getenv("TEST_ENGINE_BACKUP_VERBOSE") != NULL)
        for (unsigned k = 0; k < NBACKUPS; k++)
            fprintf(stderr, "backup %u: need %llu %llu %llu %llu gen %lu..%lu\n", k, need[k][0],
                    need[k][1], need[k][2], need[k][3], li[k].ulGenLow, li[k].ulGenHigh);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *engine_backup_suite(void)
{
    Suite *su = suite_create("engine_backup");
    TCase *tc = tcase_create("concurrent");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, backup_during_writers);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(engine_backup_suite)
