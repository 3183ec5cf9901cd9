/*
 * test_engine_powerloss.c -- power loss at thousands of random moments,
 * in process (tests/jet_testvfs.c): a writer commits transactions (each
 * writes a counter record and one of 63 slot records), rolls the log and
 * checkpoints, with the simulator capturing, before every mutating file
 * call, a directory a power loss there could leave (unsynced writes lost,
 * kept, torn at 512-byte sectors and reordered; unsynced renames, creates
 * and unlinks kept as a random prefix).  Each image is then recovered by
 * JetInit, which must succeed, and must hold every transaction whose
 * JetCommitTransaction (without LazyFlush) had returned at the capture,
 * nothing torn (the state is exactly a prefix of the commit sequence), and
 * a database every page of which verifies.
 *
 * Database page writes are torn only at page granularity (see the known
 * gap below); logs, checkpoint and headers at 512 bytes.
 *
 * TEST_POWERLOSS_IMAGES overrides the number of images (default 5000);
 * TEST_POWERLOSS_SEED the first seed; TEST_POWERLOSS_DEBUG=DIR leaves an
 * image JetInit refused in DIR.
 */
#include "config.h"

#include <check.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jet_int.h"
#include "jet_testutil.h"
#include "jet_testvfs.h"

#define NSLOT 63
#define NTX 24
#define MAXIMG 256

typedef struct run_ctx {
    atomic_ulong acked;        /* last transaction acknowledged durable */
    uint64_t seed;
    tv_image img[MAXIMG];
    int nimg;
    pthread_mutex_t mu;
} run_ctx;

static char dir[256];

/* Capture one image per crash point (the simulator's callback). */
static void on_point(void *arg)
{
    run_ctx *c = arg;
    static const unsigned keep[] = { 0, 25, 50, 75, 100 };
    pthread_mutex_lock(&c->mu);
    if (c->nimg < MAXIMG) {
        unsigned long tag = atomic_load(&c->acked);
        unsigned kp = keep[tv_rand(&c->seed) % 5];
        if (tvfs_capture(&c->seed, kp, &c->img[c->nimg]) == 0) {
            c->img[c->nimg].tag = tag;
            c->nimg++;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void dbpath(char *buf, size_t cb)
{
    snprintf(buf, cb, "%s/t.edb", dir);
}

/* Commit k: counter = k, slot 1 + k % NSLOT = k. */
static JET_ERR tx(JET_SESID s, JET_DBID db, unsigned long long k)
{
    JET_ERR rc = JetBeginTransaction(s);
    if (rc < 0)
        return rc;
    if ((rc = JetLibWriteRecord(s, db, 0, &k, sizeof k)) < 0 ||
        (rc = JetLibWriteRecord(s, db, 1 + k % NSLOT, &k, sizeof k)) < 0) {
        (void)JetRollback(s, 0);
        return rc;
    }
    return JetCommitTransaction(s, 0);
}

/* The base: a clean instance with an empty database. */
static void make_base(tv_image *base, long circular)
{
    char p[PATH_MAX];
    const tv_image empty = { 0 };
    JET_INSTANCE inst;
    JET_SESID s;
    JET_DBID db;
    dbpath(p, sizeof p);
    ck_assert_int_eq(tv_image_store(dir, &empty), 0);
    inst = jt_inst("pl", dir, 64, circular);
    ck_assert(inst != 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, p, NULL, &db, 0), 0);
    ck_assert_int_eq(tx(s, db, 0), 0);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(tv_image_load(dir, base), 0);
}

/* Recover image i and check it; returns the counter found. */
static unsigned long long check_image(const tv_image *img, long circular, uint64_t seed, int i)
{
    char p[PATH_MAX];
    JET_INSTANCE inst;
    JET_SESID s;
    JET_DBID db;
    JET_ERR rc;
    unsigned long long c = 0, v, cp = 0, bad = 0;
    dbpath(p, sizeof p);
    ck_assert_int_eq(tv_image_store(dir, img), 0);
    inst = jt_inst("pl", dir, 64, circular);
    ck_assert(inst != 0);
    rc = JetInit(&inst);
    if (rc < 0 && getenv("TEST_POWERLOSS_DEBUG") != NULL) {
        tv_image_store(getenv("TEST_POWERLOSS_DEBUG"), img);
    }
    ck_assert_msg(rc == 0, "seed %llu image %d (acked %lu): JetInit: %s", (unsigned long long)seed,
                  i, img->tag, JetLibErrorName(rc));
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, p, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, p, NULL, &db, 0), 0);
    ck_assert_int_eq(JetLibReadRecord(s, db, 0, &c, sizeof c), 0);
    ck_assert_msg(c >= img->tag, "seed %llu image %d: acknowledged commit %lu lost (counter %llu)",
                  (unsigned long long)seed, i, img->tag, c);
    ck_assert_msg(c <= NTX, "counter %llu", c);
    for (unsigned j = 1; j <= NSLOT; j++) {
        unsigned long long want = 0;
        for (unsigned long long k = 1; k <= c; k++)
            if (1 + k % NSLOT == j)
                want = k;
        ck_assert_int_eq(JetLibReadRecord(s, db, j, &v, sizeof v), 0);
        ck_assert_msg(v == want, "seed %llu image %d: slot %u = %llu, want %llu",
                      (unsigned long long)seed, i, j, v, want);
    }
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(p, &cp, &bad), 0);
    return c;
}

START_TEST(test_powerloss_random)
{
    const char *e = getenv("TEST_POWERLOSS_IMAGES");
    const char *es = getenv("TEST_POWERLOSS_SEED");
    long want = e ? atol(e) : 5000;
    uint64_t seed0 = es ? strtoull(es, NULL, 0) : 1;
    long total = 0, torn_tail_runs = 0;
    tv_image base[2];
    for (int circ = 0; circ < 2; circ++) {
        make_base(&base[circ], circ);
        ck_assert_int_eq(tv_image_store(dir, &base[circ]), 0);
    }
    /* Known gap (docs/architecture.md): a database page torn by a power
     * loss during a checkpoint is not repaired (JET_errReadVerifyFailure);
     * page writes are taken as atomic unless TEST_POWERLOSS_TORN_PAGES. */
    tvfs_set_atomic_edb(getenv("TEST_POWERLOSS_TORN_PAGES") != NULL ? 0 : 4096);
    for (uint64_t run = 0; total < want; run++) {
        long circular = (long)(run & 1);
        uint64_t seed = seed0 + run;
        char p[PATH_MAX];
        run_ctx *c = calloc(1, sizeof *c);
        JET_INSTANCE inst;
        JET_SESID s;
        JET_DBID db;
        unsigned long long maxc = 0;
        ck_assert(c != NULL);
        pthread_mutex_init(&c->mu, NULL);
        c->seed = seed * 0x9E3779B97F4A7C15ULL + 7;
        dbpath(p, sizeof p);
        ck_assert_int_eq(tv_image_store(dir, &base[circular]), 0);
        ck_assert_int_eq(tvfs_start(dir, on_point, c), 0);
        inst = jt_inst("pl", dir, 64, circular);
        ck_assert(inst != 0);
        ck_assert_int_eq(JetInit(&inst), 0);
        ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
        ck_assert_int_eq(JetAttachDatabaseA(s, p, 0), 0);
        ck_assert_int_eq(JetOpenDatabaseA(s, p, NULL, &db, 0), 0);
        for (unsigned long long k = 1; k <= NTX; k++) {
            ck_assert_int_eq(tx(s, db, k), 0);
            atomic_store(&c->acked, k);
            if (k % 7 == (run % 7) && JetLibCheckpoint(inst) < 0)
                ck_abort_msg("checkpoint");
            if (k % 9 == (run % 9))
                ck_assert_int_eq(JetLibRollLog(inst, NULL), 0);
        }
        ck_assert_int_eq(JetTerm(inst), 0);
        tvfs_stop();
        for (int i = 0; i < c->nimg; i++) {
            unsigned long long got = check_image(&c->img[i], circular, seed, i);
            if (got > maxc)
                maxc = got;
            tv_image_free(&c->img[i]);
        }
        total += c->nimg;
        torn_tail_runs += maxc == NTX;
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
    tv_image_free(&base[0]);
    tv_image_free(&base[1]);
    fprintf(stderr, "power loss: %ld crash images recovered and checked\n", total);
    ck_assert_int_ge(total, want);
}
END_TEST

static void setup(void)
{
    char real[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/test_powerloss.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ck_assert(mkdtemp(dir) != NULL);
    ck_assert(realpath(dir, real) != NULL && strlen(real) < sizeof dir);
    memcpy(dir, real, strlen(real) + 1);
}

static void teardown(void)
{
    ck_assert_int_eq(jt_rmtree(dir), 0);
}

int main(void)
{
    Suite *su = suite_create("engine_powerloss");
    TCase *tc = tcase_create("powerloss");
    SRunner *sr;
    int nf;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_powerloss_random);
    suite_add_tcase(su, tc);
    sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    nf = srunner_ntests_failed(sr);
    srunner_free(sr);
    return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
