/*
 * test_engine_faults.c -- fault injection through the engine's syscall
 * table (src/jet/os.h): for each phase -- instance and database creation,
 * durable commits, a checkpoint, a log roll, a full external backup, soft
 * recovery of a crashed instance, and a clean JetTerm -- and for each errno
 * class (EIO, ENOSPC, and EIO that persists until the phase ends), the
 * Nth file operation of any kind fails, for N = 1, 2, ... until the phase
 * runs out of operations.  Each time the phase must end with success or a
 * named Jet error (no crash, hang or assertion), and afterwards, with the
 * faults off, the instance must recover, hold every acknowledged commit
 * and nothing torn, accept a new commit, and its database must verify.
 * A second test makes every call of one kind (pwrite, fdatasync, rename,
 * ...) fail through a whole workload, for each kind.
 *
 * TEST_FAULTS_PHASE=N runs only phase N of the first test;
 * TEST_FAULTS_DEBUG=DIR keeps the directory each check starts from.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "jet_int.h"
#include "jet_testutil.h"
#include "jet_testvfs.h"

#define NSLOT 15
#define MAXN 2000

enum phase {
    PH_CREATE,
    PH_COMMIT,
    PH_CHECKPOINT,
    PH_ROLL,
    PH_BACKUP,
    PH_RECOVERY,
    PH_TERM,
    PH_COUNT
};
static const char *const phase_name[PH_COUNT] = {
    "create", "commit", "checkpoint", "roll", "backup", "recovery", "term",
};

static char dir[256];
static tv_image base_clean;   /* clean instance, database, counter = 5 */
static tv_image base_crashed; /* the same after 5 more commits, killed */

static void dbpath(char *buf, size_t cb)
{
    snprintf(buf, cb, "%s/t.edb", dir);
}

/* Commit k: counter (record 0) = k, slot 1 + k % NSLOT = k. */
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

/* A Jet error the library can name (0 is fine too). */
static void assert_clean(JET_ERR rc, const char *what, int phase, int err, unsigned long n)
{
    ck_assert_msg(rc <= 0, "%s: positive %ld", what, (long)rc);
    ck_assert_msg(rc == 0 || strcmp(JetLibErrorName(rc), "JET_errUnknown") != 0,
                  "%s phase %s errno %d call %lu: unnamed error %ld", what, phase_name[phase], err,
                  n, (long)rc);
}

/* Start an instance on dir with the database attached and open (created
 * if create, or if missing after recovery and maybe_create). */
static JET_ERR open_all(JET_INSTANCE *pinst, JET_SESID *ps, JET_DBID *pdb, bool create,
                        bool maybe_create)
{
    char p[PATH_MAX];
    struct stat st;
    JET_ERR rc;
    dbpath(p, sizeof p);
    *pinst = jt_inst("flt", dir, 64, 0);
    if (*pinst == 0)
        return JET_errInvalidParameter;
    if ((rc = JetInit(pinst)) < 0)
        return rc;
    if ((rc = JetBeginSessionA(*pinst, ps, NULL, NULL)) < 0)
        return rc;
    if (create || (maybe_create && stat(p, &st) != 0))
        return JetCreateDatabaseA(*ps, p, NULL, pdb, 0);
    if ((rc = JetAttachDatabaseA(*ps, p, 0)) < 0)
        return rc;
    return JetOpenDatabaseA(*ps, p, NULL, pdb, 0);
}

/* Copy the instance's backup files (database, then logs) into memory and
 * throw them away; ends the backup (abort on failure). */
static JET_ERR do_backup(JET_INSTANCE inst)
{
    static char szz[1 << 14];
    static uint8_t buf[1 << 16];
    unsigned long cb;
    JET_ERR rc = JetBeginExternalBackupInstance(inst, 0);
    if (rc < 0)
        return rc;
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        rc = pass == 0 ? JetGetAttachInfoInstanceA(inst, szz, sizeof szz, &cb)
                       : JetGetLogInfoInstanceA(inst, szz, sizeof szz, &cb);
        for (const char *f = szz; rc == 0 && *f; f += strlen(f) + 1) {
            JET_HANDLE h;
            unsigned long lo, hi, got;
            JET_ERR rc2;
            if ((rc = JetOpenFileInstanceA(inst, f, &h, &lo, &hi)) < 0)
                break;
            do
                rc = JetReadFileInstance(inst, h, buf, sizeof buf, &got);
            while (rc == 0 && got != 0);
            rc2 = JetCloseFileInstance(inst, h);
            if (rc == 0)
                rc = rc2;
        }
    }
    if (rc == 0)
        rc = JetTruncateLogInstance(inst);
    if (rc == 0)
        return JetEndExternalBackupInstance(inst);
    (void)JetEndExternalBackupInstance2(inst, JET_bitBackupEndAbort);
    return rc;
}

/* With no faults: the instance recovers, holds counter >= acked and
 * consistent slots, takes one more commit, and its database verifies. */
static void check_intact(unsigned long long acked, int phase, int err, unsigned long n, JET_ERR prc)
{
    char p[PATH_MAX];
    JET_INSTANCE inst;
    JET_SESID s;
    JET_DBID db;
    JET_ERR rc;
    unsigned long long c = 0, v, pages = 0, bad = 0;
    dbpath(p, sizeof p);
    if (getenv("TEST_FAULTS_DEBUG") != NULL) {
        tv_image keep;
        ck_assert_int_eq(tv_image_load(dir, &keep), 0);
        ck_assert_int_eq(tv_image_store(getenv("TEST_FAULTS_DEBUG"), &keep), 0);
        tv_image_free(&keep);
    }
    rc = open_all(&inst, &s, &db, false, true);
    ck_assert_msg(rc == 0, "phase %s errno %d call %lu (%s, phase got %s): instance not intact: %s",
                  phase_name[phase], err, n, jos_op_name(jos_fault_op()), JetLibErrorName(prc),
                  JetLibErrorName(rc));
    ck_assert_int_eq(JetLibReadRecord(s, db, 0, &c, sizeof c), 0);
    ck_assert_msg(c >= acked, "phase %s errno %d call %lu: commit %llu lost (counter %llu)",
                  phase_name[phase], err, n, acked, c);
    for (unsigned j = 1; j <= NSLOT; j++) {
        unsigned long long want = 0;
        for (unsigned long long k = 1; k <= c; k++)
            if (1 + k % NSLOT == j)
                want = k;
        ck_assert_int_eq(JetLibReadRecord(s, db, j, &v, sizeof v), 0);
        ck_assert_msg(v == want, "phase %s errno %d call %lu: slot %u = %llu, want %llu",
                      phase_name[phase], err, n, j, v, want);
    }
    ck_assert_int_eq(tx(s, db, c + 1), 0);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(p, &pages, &bad), 0);
}

/* Run phase ph with call n failing with err; false once the phase ran
 * out of calls (nothing fired). */
static bool run_one(int ph, int err, bool sticky, unsigned long n)
{
    static const tv_image empty = { 0 };
    JET_INSTANCE inst = 0;
    JET_SESID s;
    JET_DBID db;
    JET_ERR rc = 0;
    unsigned long long acked = ph == PH_CREATE ? 0 : ph == PH_RECOVERY ? 10 : 5;
    bool fired;
    ck_assert_int_eq(tv_image_store(dir, ph == PH_CREATE     ? &empty
                                         : ph == PH_RECOVERY ? &base_crashed
                                                             : &base_clean),
                     0);
    if (ph == PH_CREATE || ph == PH_RECOVERY) {
        jos_fault_arm(JOS_ANY, n, err, sticky);
        rc = open_all(&inst, &s, &db, ph == PH_CREATE, false);
        if (rc == 0 && ph == PH_CREATE && (rc = tx(s, 0 + db, 1)) == 0)
            acked = 1;
    } else {
        ck_assert_int_eq(open_all(&inst, &s, &db, false, false), 0);
        jos_fault_arm(JOS_ANY, n, err, sticky);
        switch (ph) {
        case PH_COMMIT:
            for (unsigned long long k = 6; rc == 0 && k <= 10; k++)
                if ((rc = tx(s, db, k)) == 0)
                    acked = k;
            break;
        case PH_CHECKPOINT:
            rc = JetLibCheckpoint(inst);
            break;
        case PH_ROLL:
            rc = JetLibRollLog(inst, NULL);
            break;
        case PH_BACKUP:
            rc = do_backup(inst);
            break;
        case PH_TERM:
            rc = JetTerm(inst);
            inst = 0;
            break;
        default:
            break;
        }
    }
    jos_fault_disarm();
    fired = jos_fault_fired() > 0;
    assert_clean(rc, "phase", ph, err, n);
    if (inst != 0) {
        JET_ERR rt = JetTerm(inst);
        assert_clean(rt, "JetTerm", ph, err, n);
    }
    check_intact(acked, ph, err, n, rc);
    return fired;
}

START_TEST(test_fault_each_call)
{
    static const struct {
        int err;
        bool sticky;
    } kinds[] = {
        { EIO, false },
        { ENOSPC, false },
        { EIO, true },
    };
    int ph = _i;
    unsigned long total = 0;
    if (getenv("TEST_FAULTS_PHASE") != NULL && atoi(getenv("TEST_FAULTS_PHASE")) != ph)
        return;
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        unsigned long n = 1;
        while (run_one(ph, kinds[k].err, kinds[k].sticky, n)) {
            ck_assert_msg(n < MAXN, "phase %s: more than %d calls", phase_name[ph], MAXN);
            n++;
        }
        ck_assert_msg(n > 1, "phase %s made no file call", phase_name[ph]);
        total += n - 1;
    }
    fprintf(stderr, "faults: phase %s: %lu calls failed in turn\n", phase_name[ph], total);
}
END_TEST

/* Every call of one kind fails (from the first, until disarmed) while the
 * instance commits, rolls the log, checkpoints, is backed up and shut
 * down: each step ends in success or a named Jet error, and the instance
 * recovers intact afterwards. */
START_TEST(test_fault_each_kind)
{
    static const int errs[] = { EIO, ENOSPC };
    jos_op kind = (jos_op)_i;
    unsigned long fired = 0;
    for (size_t e = 0; e < sizeof errs / sizeof errs[0]; e++) {
        JET_INSTANCE inst;
        JET_SESID s;
        JET_DBID db;
        JET_ERR rc = 0;
        unsigned long long acked = 5;
        ck_assert_int_eq(tv_image_store(dir, &base_clean), 0);
        ck_assert_int_eq(open_all(&inst, &s, &db, false, false), 0);
        jos_fault_arm(kind, 1, errs[e], true);
        for (unsigned long long k = 6; rc == 0 && k <= 8; k++)
            if ((rc = tx(s, db, k)) == 0)
                acked = k;
        assert_clean(rc, "commit", PH_COMMIT, errs[e], 1);
        assert_clean(JetLibRollLog(inst, NULL), "roll", PH_ROLL, errs[e], 1);
        assert_clean(JetLibCheckpoint(inst), "checkpoint", PH_CHECKPOINT, errs[e], 1);
        assert_clean(do_backup(inst), "backup", PH_BACKUP, errs[e], 1);
        assert_clean(JetTerm(inst), "term", PH_TERM, errs[e], 1);
        jos_fault_disarm();
        fired += jos_fault_fired();
        check_intact(acked, PH_TERM, errs[e], 1, rc);
    }
    fprintf(stderr, "faults: every %s failing: %lu calls failed\n", jos_op_name(kind), fired);
}
END_TEST

static void setup(void)
{
    char real[PATH_MAX];
    JET_INSTANCE inst;
    JET_SESID s;
    JET_DBID db;
    snprintf(dir, sizeof dir, "%s/test_faults.XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    ck_assert(mkdtemp(dir) != NULL);
    ck_assert(realpath(dir, real) != NULL && strlen(real) < sizeof dir);
    memcpy(dir, real, strlen(real) + 1);
    /* the bases: clean after 5 commits; killed after 5 more */
    ck_assert_int_eq(open_all(&inst, &s, &db, true, false), 0);
    for (unsigned long long k = 1; k <= 5; k++)
        ck_assert_int_eq(tx(s, db, k), 0);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(tv_image_load(dir, &base_clean), 0);
    ck_assert_int_eq(open_all(&inst, &s, &db, false, false), 0);
    for (unsigned long long k = 6; k <= 10; k++)
        ck_assert_int_eq(tx(s, db, k), 0);
    ck_assert_int_eq(tv_image_load(dir, &base_crashed), 0); /* = a kill -9 now */
    ck_assert_int_eq(JetTerm(inst), 0);
}

static void teardown(void)
{
    tv_image_free(&base_clean);
    tv_image_free(&base_crashed);
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* The suite: every test case of this file. */
static Suite *engine_faults_suite(void)
{
    Suite *su = suite_create("engine_faults");
    TCase *tc = tcase_create("faults");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_fault_each_call, 0, PH_COUNT);
    tcase_add_loop_test(tc, test_fault_each_kind, 0, JOS_NOPS);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(engine_faults_suite)
