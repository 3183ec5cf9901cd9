/*
 * test_engine.c -- libjet engine core: instances, databases, transactions,
 * record locks, log roll, checkpoint advance, circular logging, recovery
 * after a SIGKILLed writer, bad files.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "jet_int.h"
#include "jet_testutil.h"

static char dir[256];

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_engine"), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* Instance on dir with small logs. */
static JET_INSTANCE mk_inst(const char *name, long circular)
{
    JET_INSTANCE inst = jt_inst(name, dir, 64, circular);
    ck_assert_uint_ne(inst, 0);
    return inst;
}

static void db_path(char *buf, size_t cb)
{
    snprintf(buf, cb, "%s/t.edb", dir);
}

/* Write value v into records [0, n) in one transaction per record. */
static void write_recs(JET_SESID s, JET_DBID db, unsigned n, unsigned long long v)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned long long x = v + i;
        ck_assert_int_eq(JetBeginTransaction(s), 0);
        ck_assert_int_eq(JetLibWriteRecord(s, db, i, &x, sizeof x), 0);
        ck_assert_int_eq(JetCommitTransaction(s, 0), 0);
    }
}

static void check_recs(JET_SESID s, JET_DBID db, unsigned n, unsigned long long v)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned long long x = 0;
        ck_assert_int_eq(JetLibReadRecord(s, db, i, &x, sizeof x), 0);
        ck_assert_uint_eq(x, v + i);
    }
}

START_TEST(create_write_reopen)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("a", 0);
    JET_SESID s;
    JET_DBID db;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), JET_errDatabaseDuplicate);
    write_recs(s, db, 500, 1000);
    check_recs(s, db, 500, 1000);
    /* rollback leaves nothing */
    {
        unsigned long long x = 7, y = 0;
        ck_assert_int_eq(JetBeginTransaction(s), 0);
        ck_assert_int_eq(JetLibWriteRecord(s, db, 3, &x, sizeof x), 0);
        ck_assert_int_eq(JetLibReadRecord(s, db, 3, &y, sizeof y), 0);
        ck_assert_uint_eq(y, 7);
        ck_assert_int_eq(JetRollback(s, 0), 0);
        ck_assert_int_eq(JetLibReadRecord(s, db, 3, &y, sizeof y), 0);
        ck_assert_uint_eq(y, 1003);
    }
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);

    inst = mk_inst("a", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, path, NULL, &db, 0), 0);
    check_recs(s, db, 500, 1000);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    {
        unsigned long long npg = 0, bad = 1;
        ck_assert_int_eq(JetLibVerifyDatabaseFile(path, &npg, &bad), 0);
        ck_assert_uint_gt(npg, 0);
        ck_assert_uint_eq(bad, 0);
    }
}
END_TEST

START_TEST(write_conflict)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("c", 0);
    JET_SESID s1, s2;
    JET_DBID d1, d2;
    unsigned long long x = 1;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s1, NULL, NULL), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s2, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s1, path, NULL, &d1, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s2, path, NULL, &d2, 0), 0);
    ck_assert_int_eq(JetLibWriteRecord(s1, d1, 1, &x, sizeof x), JET_errNotInTransaction);
    ck_assert_int_eq(JetBeginTransaction(s1), 0);
    ck_assert_int_eq(JetBeginTransaction(s1), JET_errTransTooDeep);
    ck_assert_int_eq(JetBeginTransaction(s2), 0);
    ck_assert_int_eq(JetLibLockRecord(s1, d1, 1), 0);
    ck_assert_int_eq(JetLibWriteRecord(s2, d2, 1, &x, sizeof x), JET_errWriteConflict);
    ck_assert_int_eq(JetLibWriteRecord(s2, d2, 2, &x, sizeof x), 0);
    ck_assert_int_eq(JetCommitTransaction(s1, 0), 0);
    ck_assert_int_eq(JetLibWriteRecord(s2, d2, 1, &x, sizeof x), 0);
    ck_assert_int_eq(JetCommitTransaction(s2, 0), 0);
    ck_assert_int_eq(JetDetachDatabaseA(s1, path), JET_errDatabaseInUse);
    ck_assert_int_eq(JetEndSession(s1, 0), 0);
    ck_assert_int_eq(JetEndSession(s2, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

/* Count archived logs edbNNNNN.log in dir; lowest in *plo. */
static unsigned count_logs(unsigned *plo, unsigned *phi)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    unsigned n = 0, lo = 0, hi = 0;
    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)) != NULL) {
        uint32_t g;
        if (jf_log_parse(e->d_name, "edb", ".log", &g) == 0) {
            n++;
            if (lo == 0 || g < lo)
                lo = g;
            if (g > hi)
                hi = g;
        }
    }
    closedir(d);
    if (plo)
        *plo = lo;
    if (phi)
        *phi = hi;
    return n;
}

START_TEST(roll_checkpoint_circular)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("r", 0);
    JET_SESID s;
    JET_DBID db;
    unsigned long gcur = 0, gchk = 0, g2 = 0;
    unsigned lo, hi;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    ck_assert_int_eq(JetLibGetLogState(inst, &gcur, &gchk), 0);
    /* explicit roll archives the current generation */
    ck_assert_int_eq(JetLibRollLog(inst, &g2), 0);
    ck_assert_uint_eq(g2, gcur + 1);
    ck_assert_uint_ge(count_logs(&lo, &hi), 1);
    ck_assert_uint_eq(hi, gcur);
    /* enough writes roll the 64 KiB log by themselves */
    write_recs(s, db, 3000, 5);
    ck_assert_int_eq(JetLibGetLogState(inst, &gcur, NULL), 0);
    ck_assert_uint_ge(gcur, g2 + 2);
    /* checkpoint advances to the current generation; non-circular keeps logs */
    ck_assert_int_eq(JetLibCheckpoint(inst), 0);
    ck_assert_int_eq(JetLibGetLogState(inst, &gcur, &gchk), 0);
    ck_assert_uint_eq(gchk, gcur);
    ck_assert_uint_eq(count_logs(&lo, &hi), gcur - 1 - (lo - 1));
    ck_assert_uint_eq(lo, 1);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);

    /* circular: logs below the checkpoint are deleted */
    inst = mk_inst("r", 1);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 2000, 9);
    ck_assert_int_eq(JetLibCheckpoint(inst), 0);
    ck_assert_int_eq(JetLibGetLogState(inst, &gcur, &gchk), 0);
    ck_assert_uint_eq(count_logs(&lo, &hi), 0);
    check_recs(s, db, 2000, 9);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

/* Child: write n committed transactions of record i = i + 100, then one
 * uncommitted write, report n on the pipe and wait to be killed. */
static void child_writer(int wfd, unsigned n)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("k", 0);
    JET_SESID s;
    JET_DBID db;
    unsigned long long x = 999999;
    db_path(path, sizeof path);
    if (JetInit(&inst) < 0 || JetBeginSessionA(inst, &s, NULL, NULL) < 0 ||
        JetCreateDatabaseA(s, path, NULL, &db, 0) < 0)
        _exit(2);
    for (unsigned i = 0; i < n; i++) {
        unsigned long long v = i + 100;
        if (JetBeginTransaction(s) < 0 || JetLibWriteRecord(s, db, i, &v, sizeof v) < 0 ||
            JetCommitTransaction(s, 0) < 0)
            _exit(3);
    }
    if (JetBeginTransaction(s) < 0 || JetLibWriteRecord(s, db, 0, &x, sizeof x) < 0)
        _exit(4);
    if (write(wfd, &n, sizeof n) != sizeof n)
        _exit(5);
    for (;;)
        pause();
}

START_TEST(crash_recovery)
{
    int p[2];
    pid_t pid;
    unsigned n = 0;
    char path[300];
    JET_INSTANCE inst;
    JET_SESID s;
    JET_DBID db;
    ck_assert_int_eq(pipe(p), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(p[0]);
        child_writer(p[1], 1500);
    }
    close(p[1]);
    ck_assert_int_eq(read(p[0], &n, sizeof n), sizeof n);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
    close(p[0]);
    ck_assert_uint_eq(n, 1500);

    db_path(path, sizeof path);
    inst = mk_inst("k", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, path, NULL, &db, 0), 0);
    check_recs(s, db, n, 100); /* record 0 is 100, not the uncommitted 999999 */
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(path, NULL, NULL), 0);
}
END_TEST

START_TEST(bad_files)
{
    char path[300], chk[300];
    JET_INSTANCE inst = mk_inst("b", 0);
    JET_SESID s;
    JET_DBID db;
    int fd;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 10, 1);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);

    /* corrupt checkpoint: JetInit refuses with -533 and leaves it alone */
    snprintf(chk, sizeof chk, "%s/edb.chk", dir);
    fd = open(chk, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 100), 4);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 4096 + 100), 4);
    close(fd);
    inst = mk_inst("b", 0);
    ck_assert_int_eq(JetInit(&inst), JET_errCheckpointCorrupt);
    ck_assert_int_eq(JetTerm(inst), 0);

    /* missing database: attach says file not found */
    ck_assert_int_eq(unlink(chk), 0);
    inst = mk_inst("b", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    {
        char other[320];
        snprintf(other, sizeof other, "%s/none.edb", dir);
        ck_assert_int_eq(JetAttachDatabaseA(s, other, 0), JET_errFileNotFound);
    }
    /* truncated database header */
    {
        char small[320];
        snprintf(small, sizeof small, "%s/small.edb", dir);
        fd = open(small, O_WRONLY | O_CREAT, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "abc", 3), 3);
        close(fd);
        ck_assert_int_eq(JetAttachDatabaseA(s, small, 0), JET_errDatabaseCorrupted);
    }
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

START_TEST(term_with_open_sessions)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("t", 0);
    JET_SESID s1, s2, s3;
    JET_DBID d1, d2;
    unsigned long long x = 42, y = 1;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s1, NULL, NULL), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s2, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s1, path, NULL, &d1, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s2, path, NULL, &d2, 0), 0);
    write_recs(s1, d1, 5, 10);
    /* an ended session's handle is dead at once */
    ck_assert_int_eq(JetBeginSessionA(inst, &s3, NULL, NULL), 0);
    ck_assert_int_eq(JetEndSession(s3, 0), 0);
    ck_assert_int_eq(JetEndSession(s3, 0), JET_errInvalidSesid);
    ck_assert_int_eq(JetBeginTransaction(s3), JET_errInvalidSesid);
    /* closing a database the open transaction wrote to is refused */
    ck_assert_int_eq(JetBeginTransaction(s2), 0);
    ck_assert_int_eq(JetLibWriteRecord(s2, d2, 0, &x, sizeof x), 0);
    ck_assert_int_eq(JetCloseDatabase(s2, d2, 0), JET_errInTransaction);
    ck_assert_int_eq(JetDetachDatabaseA(s2, path), JET_errInTransaction);
    /* s2 keeps its transaction open: complete term refuses, abrupt frees */
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), JET_errTooManyActiveUsers);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(JetCommitTransaction(s2, 0), JET_errInvalidSesid);
    ck_assert_int_eq(JetLibReadRecord(s1, d1, 0, &y, sizeof y), JET_errInvalidSesid);
    ck_assert_int_eq(JetEndSession(s1, 0), JET_errInvalidSesid);
    ck_assert_int_eq(JetEndSession(s2, 0), JET_errInvalidSesid);

    /* the uncommitted write is gone, the committed ones are there */
    inst = mk_inst("t", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s3, NULL, NULL), 0);
    ck_assert_int_ne(s3, s1);
    ck_assert_int_ne(s3, s2);
    ck_assert_int_eq(JetEndSession(s1, 0), JET_errInvalidSesid);
    ck_assert_int_eq(JetAttachDatabaseA(s3, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s3, path, NULL, &d1, 0), 0);
    check_recs(s3, d1, 5, 10);
    ck_assert_int_eq(JetEndSession(s3, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

START_TEST(poisoned_log_refuses_commits)
{
    /* once the cache may be behind the log the instance takes no commit */
    char path[300];
    JET_INSTANCE inst = mk_inst("p", 0);
    JET_SESID s;
    JET_DBID db;
    unsigned long long x = 5;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 3, 1);
    jlog_poison(jinst_get(inst)->log, JET_errInstanceUnavailable);
    ck_assert_int_eq(JetBeginTransaction(s), 0);
    ck_assert_int_eq(JetLibWriteRecord(s, db, 1, &x, sizeof x), 0);
    ck_assert_int_eq(JetCommitTransaction(s, 0), JET_errInstanceUnavailable);
    ck_assert_int_eq(JetBeginTransaction(s), 0);
    ck_assert_int_eq(JetLibWriteRecord(s, db, 2, &x, sizeof x), 0);
    ck_assert_int_eq(JetCommitTransaction(s, JET_bitCommitLazyFlush),
                     JET_errInstanceUnavailable);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_lt(JetTerm(inst), 0); /* cannot shut down cleanly */

    /* soft recovery brings back what was durable */
    inst = mk_inst("p", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, path, NULL, &db, 0), 0);
    check_recs(s, db, 3, 1);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

START_TEST(log_size_mismatch)
{
    char path[300], cur[300];
    JET_INSTANCE inst = mk_inst("m", 0);
    JET_SESID s;
    JET_DBID db;
    struct stat st0, st1;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 10, 1);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    snprintf(cur, sizeof cur, "%s/edb.log", dir);
    ck_assert_int_eq(stat(cur, &st0), 0);
    /* another log size than the existing stream's: refused, nothing changed */
    inst = mk_inst("m", 0);
    ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JET_paramLogFileSize, 128, NULL), 0);
    ck_assert_int_eq(JetInit(&inst), JET_errLogFileSizeMismatch);
    ck_assert_int_eq(JetTerm(inst), 0);
    ck_assert_int_eq(stat(cur, &st1), 0);
    ck_assert_int_eq(st1.st_size, st0.st_size);
    ck_assert_int_eq(st1.st_ino, st0.st_ino);
    /* the right size still works */
    inst = mk_inst("m", 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *engine_suite(void)
{
    Suite *su = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_write_reopen);
    tcase_add_test(tc, write_conflict);
    tcase_add_test(tc, roll_checkpoint_circular);
    tcase_add_test(tc, crash_recovery);
    tcase_add_test(tc, bad_files);
    tcase_add_test(tc, term_with_open_sessions);
    tcase_add_test(tc, poisoned_log_refuses_commits);
    tcase_add_test(tc, log_size_mismatch);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(engine_suite)
