/*
 * test_jet_log.c -- the log (log_write.c, log_read.c) and the checkpoint
 * file (checkpoint.c): roll, checkpoint advance, circular logging; the
 * reader reads back what the writer wrote and refuses a damaged segment;
 * the checkpoint's shadow copies; a poisoned log; a log-size mismatch;
 * commits durable across a SIGKILLed writer.
 */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jet_int.h"
#include "jet_fixture.h"

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
    ck_assert_int_eq(JetCommitTransaction(s, JET_bitCommitLazyFlush), JET_errInstanceUnavailable);
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

/* Count the COMMIT records of archived generations lo..hi with the public
 * log reader (jetfmt.h); each reader must end cleanly (0). */
static unsigned count_commits(unsigned lo, unsigned hi)
{
    unsigned n = 0;
    for (unsigned g = lo; g <= hi; g++) {
        char path[300];
        jet_logreader *r = NULL;
        jf_loghdr h;
        uint8_t type;
        const uint8_t *body;
        uint32_t cb;
        JET_ERR rc;
        snprintf(path, sizeof path, "%s/edb%05X.log", dir, g);
        ck_assert_int_eq(jlr_open(path, &r, &h), 0);
        ck_assert_int_eq(h.gen, (int32_t)g);
        while ((rc = jlr_next(r, &type, &body, &cb, NULL)) == 1)
            n += type == JF_LR_COMMIT;
        ck_assert_int_eq(rc, 0);
        jlr_close(r);
    }
    return n;
}

/* log_write.c writes, log_read.c reads back: every commit is one COMMIT
 * record in the archived generations, in order, and each file ends
 * cleanly. */
START_TEST(reader_reads_back_commits)
{
    char path[300];
    JET_INSTANCE inst = mk_inst("w", 0);
    JET_SESID s;
    JET_DBID db;
    unsigned long gcur = 0;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 40, 1);
    ck_assert_int_eq(JetLibRollLog(inst, &gcur), 0);
    ck_assert_uint_eq(count_commits(1, (unsigned)gcur - 1), 40);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}
END_TEST

/* A damaged segment before the end of the data is corruption, not the
 * end of the log: jlr_next says JET_errLogFileCorrupt. */
START_TEST(reader_refuses_damaged_segment)
{
    char path[300], log1[300];
    JET_INSTANCE inst = mk_inst("d", 0);
    JET_SESID s;
    JET_DBID db;
    unsigned long gcur = 0;
    jet_logreader *r = NULL;
    jf_loghdr h;
    uint8_t type;
    const uint8_t *body;
    uint32_t cb;
    JET_ERR rc;
    int fd;
    db_path(path, sizeof path);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    write_recs(s, db, 5, 1);
    ck_assert_int_eq(JetLibRollLog(inst, &gcur), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    /* generation 1: one flush per commit, so segment 1 is followed by data */
    snprintf(log1, sizeof log1, "%s/edb00001.log", dir);
    fd = open(log1, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, JF_SEGMENT + JF_SEG_HDR + 16), 4);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(jlr_open(log1, &r, &h), 0);
    while ((rc = jlr_next(r, &type, &body, &cb, NULL)) == 1)
        ;
    ck_assert_int_eq(rc, JET_errLogFileCorrupt);
    jlr_close(r);
}
END_TEST

/* checkpoint.c: both shadow copies are written; either one is enough to
 * read; neither is JET_errCheckpointCorrupt; no file is
 * JET_errCheckpointFileNotFound; nothing is left in <path>.new. */
START_TEST(checkpoint_either_copy)
{
    char path[300], tmp[320];
    jf_chk c, got;
    struct stat st;
    int fd;
    memset(&c, 0, sizeof c);
    c.lgpos_checkpoint = (jf_lgpos){ 64, 3, 7 };
    jf_sig_new(&c.sign_log);
    snprintf(path, sizeof path, "%s/x.chk", dir);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    ck_assert_int_eq(jchk_read(path, &got), JET_errCheckpointFileNotFound);
    ck_assert_int_eq(jchk_write(path, &c), 0);
    ck_assert_int_eq(stat(tmp, &st), -1);
    ck_assert_int_eq(jchk_read(path, &got), 0);
    ck_assert_int_eq(jf_lgpos_cmp(got.lgpos_checkpoint, c.lgpos_checkpoint), 0);
    ck_assert(jf_sig_eq(&got.sign_log, &c.sign_log));
    fd = open(path, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, 100), 4);
    memset(&got, 0, sizeof got);
    ck_assert_int_eq(jchk_read(path, &got), 0); /* the second copy */
    ck_assert_int_eq(jf_lgpos_cmp(got.lgpos_checkpoint, c.lgpos_checkpoint), 0);
    ck_assert_int_eq(pwrite(fd, "XXXX", 4, JF_CHK_BLOCK + 100), 4);
    ck_assert_int_eq(close(fd), 0);
    ck_assert_int_eq(jchk_read(path, &got), JET_errCheckpointCorrupt);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *jet_log_suite(void)
{
    Suite *su = suite_create("jet_log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roll_checkpoint_circular);
    tcase_add_test(tc, crash_recovery);
    tcase_add_test(tc, poisoned_log_refuses_commits);
    tcase_add_test(tc, log_size_mismatch);
    tcase_add_test(tc, reader_reads_back_commits);
    tcase_add_test(tc, reader_refuses_damaged_segment);
    tcase_add_test(tc, checkpoint_either_copy);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(jet_log_suite)
