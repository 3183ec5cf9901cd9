/*
 * test_engine_powerloss.c -- power loss at thousands of random moments,
 * in process (src/jet/tests/jet_testvfs.c): a writer commits transactions (each
 * writes a counter record and three of 63 slot records), rolls the log and
 * checkpoints, with the simulator capturing, before every mutating file
 * call, a directory a power loss there could leave (unsynced writes lost,
 * kept, torn at 512-byte sectors and reordered; unsynced renames, creates
 * and unlinks kept as a random prefix).  Each image is then recovered by
 * JetInit, which must succeed, and must hold every transaction whose
 * JetCommitTransaction (without LazyFlush) had returned at the capture,
 * nothing torn (the state is exactly a prefix of the commit sequence), a
 * database every page of which verifies, and logs every segment of which
 * verifies (a backup copies them next).
 *
 * Every third run starts from an empty directory and creates the instance
 * and the database inside the window: an image of such a run may lack the
 * database only if JetCreateDatabase had not returned.
 *
 * One image in 32 is recovered under the simulator too, and every power
 * loss during that recovery is recovered and checked in turn.
 *
 * TEST_POWERLOSS_IMAGES overrides the number of images (default 5000);
 * TEST_POWERLOSS_SEED the first seed; TEST_POWERLOSS_DEBUG=DIR leaves an
 * image JetInit refused in DIR; TEST_POWERLOSS_ATOMIC_PAGES tears database
 * files only at 4 KiB (page) granularity.
 */
#include "config.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "jet_int.h"
#include "jet_testutil.h"
#include "jet_testvfs.h"

#define NSLOT 63
#define NTX 24
#define MAXIMG 256

typedef struct run_ctx {
    atomic_ulong acked;   /* last transaction acknowledged durable */
    atomic_ulong created; /* JetCreateDatabase returned (runs that create) */
    uint64_t seed;
    tv_image img[MAXIMG];
    int nimg;
    int max;        /* capture at most this many images ... */
    unsigned every; /* ... at one crash point in this many */
    pthread_mutex_t mu;
} run_ctx;

static char dir[256];
static long nested_images; /* images of power losses during recovery */

/* Capture one image per crash point (the simulator's callback). */
static void on_point(void *arg)
{
    run_ctx *c = arg;
    static const unsigned keep[] = { 0, 25, 50, 75, 100 };
    pthread_mutex_lock(&c->mu);
    if (c->nimg < c->max && (c->every <= 1 || tv_rand(&c->seed) % c->every == 0)) {
        unsigned long tag = atomic_load(&c->acked), tag2 = atomic_load(&c->created);
        unsigned kp = keep[tv_rand(&c->seed) % 5];
        if (tvfs_capture(&c->seed, kp, &c->img[c->nimg]) == 0) {
            c->img[c->nimg].tag = tag;
            c->img[c->nimg].tag2 = tag2;
            c->nimg++;
        }
    }
    pthread_mutex_unlock(&c->mu);
}

static void dbpath(char *buf, size_t cb)
{
    snprintf(buf, cb, "%s/t.edb", dir);
}

/* Does commit k write slot j (1..NSLOT)? */
static bool writes_slot(unsigned long long k, unsigned j)
{
    return j == 1 + k % NSLOT || j == 1 + (k + 21) % NSLOT || j == 1 + (k + 42) % NSLOT;
}

/* Commit k: counter = k and three slots = k (512-byte records: a commit
 * spans several sectors, so its flush can tear). */
static JET_ERR tx(JET_SESID s, JET_DBID db, unsigned long long k)
{
    JET_ERR rc = JetBeginTransaction(s);
    if (rc < 0)
        return rc;
    rc = JetLibWriteRecord(s, db, 0, &k, sizeof k);
    for (unsigned j = 1; rc == 0 && j <= NSLOT; j++)
        if (writes_slot(k, j))
            rc = JetLibWriteRecord(s, db, j, &k, sizeof k);
    if (rc < 0) {
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
    ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JETLIB_paramRecordSize, 512, NULL), 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, p, NULL, &db, 0), 0);
    ck_assert_int_eq(tx(s, db, 0), 0);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(tv_image_load(dir, base), 0);
}

/* Every segment of every log file in dir verifies (as a backup requires). */
static void check_logs(uint64_t seed, int i)
{
    tv_image logs;
    ck_assert_int_eq(tv_image_load(dir, &logs), 0);
    for (int f = 0; f < logs.n; f++) {
        size_t len = strlen(logs.name[f]);
        if (len < 4 || strcmp(logs.name[f] + len - 4, ".log") != 0)
            continue;
        for (size_t s = 1; s < logs.cb[f] / JF_SEGMENT; s++)
            ck_assert_msg(jf_seg_verify(logs.data[f] + s * JF_SEGMENT, (uint16_t)s, NULL) == 0,
                          "seed %llu image %d: %s segment %zu does not verify",
                          (unsigned long long)seed, i, logs.name[f], s);
    }
    tv_image_free(&logs);
}

/* Recover image i and check it; returns the counter found.  With
 * nested, recovery itself runs under the simulator and every image of a
 * power loss during it is recovered and checked too. */
static unsigned long long check_image(const tv_image *img, long circular, uint64_t seed, int i,
                                      bool nested)
{
    run_ctx *nc = NULL;
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
    if (nested) {
        nc = calloc(1, sizeof *nc);
        ck_assert(nc != NULL);
        pthread_mutex_init(&nc->mu, NULL);
        nc->seed = seed * 31 + (uint64_t)i;
        nc->max = 6;
        nc->every = 8;
        atomic_store(&nc->acked, img->tag);
        atomic_store(&nc->created, img->tag2);
        ck_assert_int_eq(tvfs_start(dir, on_point, nc), 0);
    }
    rc = JetInit(&inst);
    if (rc < 0 && getenv("TEST_POWERLOSS_DEBUG") != NULL) {
        tv_image_store(getenv("TEST_POWERLOSS_DEBUG"), img);
    }
    ck_assert_msg(rc == 0, "seed %llu image %d (acked %lu): JetInit: %s", (unsigned long long)seed,
                  i, img->tag, JetLibErrorName(rc));
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    if (access(p, F_OK) != 0) {
        /* a run that creates the database, cut before the create returned */
        ck_assert_msg(img->tag2 == 0 && img->tag == 0,
                      "seed %llu image %d: acknowledged database creation lost",
                      (unsigned long long)seed, i);
        ck_assert_int_eq(JetTerm(inst), 0);
        check_logs(seed, i);
        goto nested;
    }
    ck_assert_int_eq(JetAttachDatabaseA(s, p, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, p, NULL, &db, 0), 0);
    ck_assert_int_eq(JetLibReadRecord(s, db, 0, &c, sizeof c), 0);
    ck_assert_msg(c >= img->tag, "seed %llu image %d: acknowledged commit %lu lost (counter %llu)",
                  (unsigned long long)seed, i, img->tag, c);
    ck_assert_msg(c <= NTX, "counter %llu", c);
    for (unsigned j = 1; j <= NSLOT; j++) {
        unsigned long long want = 0;
        for (unsigned long long k = 1; k <= c; k++)
            if (writes_slot(k, j))
                want = k;
        ck_assert_int_eq(JetLibReadRecord(s, db, j, &v, sizeof v), 0);
        ck_assert_msg(v == want, "seed %llu image %d: slot %u = %llu, want %llu",
                      (unsigned long long)seed, i, j, v, want);
    }
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(p, &cp, &bad), 0);
    check_logs(seed, i);
nested:
    if (nc != NULL) {
        tvfs_stop();
        for (int j = 0; j < nc->nimg; j++) {
            nc->img[j].tag = img->tag;
            nc->img[j].tag2 = img->tag2;
            (void)check_image(&nc->img[j], circular, seed, i * 1000 + j, false);
            tv_image_free(&nc->img[j]);
        }
        nested_images += nc->nimg;
        pthread_mutex_destroy(&nc->mu);
        free(nc);
    }
    return c;
}

START_TEST(test_powerloss_random)
{
    const char *e = getenv("TEST_POWERLOSS_IMAGES");
    const char *es = getenv("TEST_POWERLOSS_SEED");
    long want = e ? atol(e) : 5000;
    uint64_t seed0 = es ? strtoull(es, NULL, 0) : 1;
    long total = 0;
    const tv_image empty = { 0 };
    tv_image base[2];
    for (int circ = 0; circ < 2; circ++) {
        make_base(&base[circ], circ);
        ck_assert_int_eq(tv_image_store(dir, &base[circ]), 0);
    }
    tvfs_set_atomic_edb(getenv("TEST_POWERLOSS_ATOMIC_PAGES") != NULL ? 4096 : 0);
    for (uint64_t run = 0; total < want; run++) {
        long circular = (long)(run & 1);
        bool create = run % 3 == 2; /* the database is created inside the window */
        uint64_t seed = seed0 + run;
        char p[PATH_MAX];
        run_ctx *c = calloc(1, sizeof *c);
        JET_INSTANCE inst;
        JET_SESID s;
        JET_DBID db;
        ck_assert(c != NULL);
        pthread_mutex_init(&c->mu, NULL);
        c->seed = seed * 0x9E3779B97F4A7C15ULL + 7;
        c->max = MAXIMG;
        c->every = 1;
        dbpath(p, sizeof p);
        ck_assert_int_eq(tv_image_store(dir, create ? &empty : &base[circular]), 0);
        ck_assert_int_eq(tvfs_start(dir, on_point, c), 0);
        inst = jt_inst("pl", dir, 64, circular);
        ck_assert(inst != 0);
        ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JETLIB_paramRecordSize, 512, NULL), 0);
        ck_assert_int_eq(JetInit(&inst), 0);
        ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
        if (create) {
            ck_assert_int_eq(JetCreateDatabaseA(s, p, NULL, &db, 0), 0);
            atomic_store(&c->created, 1);
        } else {
            ck_assert_int_eq(JetAttachDatabaseA(s, p, 0), 0);
            ck_assert_int_eq(JetOpenDatabaseA(s, p, NULL, &db, 0), 0);
        }
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
            (void)check_image(&c->img[i], circular, seed, i, i % 32 == 0);
            tv_image_free(&c->img[i]);
        }
        total += c->nimg;
        pthread_mutex_destroy(&c->mu);
        free(c);
    }
    tv_image_free(&base[0]);
    tv_image_free(&base[1]);
    fprintf(stderr,
            "power loss: %ld crash images recovered and checked, %ld more of power "
            "losses during recovery\n",
            total, nested_images);
    ck_assert_int_gt(nested_images, 0);
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
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* The suite: every test case of this file. */
static Suite *engine_powerloss_suite(void)
{
    Suite *su = suite_create("engine_powerloss");
    TCase *tc = tcase_create("powerloss");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_powerloss_random);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(engine_powerloss_suite)
