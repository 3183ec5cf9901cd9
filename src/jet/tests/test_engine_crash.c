/*
 * test_engine_crash.c -- crash windows of the engine, hit exactly: a child
 * process runs a writer with a test fault hook (jinst_set_fault_hook,
 * jet_int.h) that SIGKILLs it at one named point -- between the two
 * renames of a log roll, between writing a new checkpoint and renaming it,
 * after the pages of a checkpoint are flushed, halfway through circular
 * log deletion, between the two copies of a database header, and inside
 * JetInit's own recovery.  The parent then requires JetInit to recover
 * with every acknowledged transaction present, nothing else, and every
 * page checksum valid.  The point list is in jet_int.h (jinst_fault).
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "jet_int.h"
#include "jet_testutil.h"

#define CTR_REC 100000ULL /* counter record: number of transactions */
#define MARK_FAULT 0xFFFFFFFFu

static char dir[256];

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_engine_crash"), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

static void dir_file(char *buf, size_t cb, const char *name)
{
    snprintf(buf, cb, "%s/%s", dir, name);
}

static bool exists(const char *name)
{
    char p[400];
    struct stat st;
    dir_file(p, sizeof p, name);
    return stat(p, &st) == 0;
}

/* Instance on dir with 64 KiB logs (0 on failure: children use it). */
static JET_INSTANCE mk_inst(long circular)
{
    return jt_inst("crash", dir, 64, circular);
}

/* What a child does. */
typedef struct plan {
    const char *point; /* fault point (NULL: none) */
    unsigned skip;     /* hits of the point to let pass first */
    long circular;
    unsigned ntx;       /* transactions to run (then SIGKILL itself) */
    unsigned detach_at; /* after this many transactions detach (0: never) */
    bool attach;        /* database exists: attach instead of create */
    unsigned first;     /* number of the first transaction */
    int fd;             /* ack pipe */
} plan;

/* The fault hook: at the chosen hit of the point, tell the parent and die. */
static void hook(void *arg, const char *point)
{
    plan *p = arg;
    uint32_t m = MARK_FAULT;
    if (p->point == NULL || strcmp(point, p->point) != 0)
        return;
    if (p->skip > 0) {
        p->skip--;
        return;
    }
    if (write(p->fd, &m, sizeof m) != sizeof m)
        _exit(9);
    raise(SIGKILL);
}

/* Child: transaction i writes record i = i + 100 and the counter = i + 1,
 * acknowledges i on the pipe after the commit returns; rolls the log every
 * 40 transactions and checkpoints every 60.  Never returns. */
static void child(plan *p)
{
    char path[400];
    JET_INSTANCE inst = mk_inst(p->circular);
    JET_SESID s;
    JET_DBID db;
    dir_file(path, sizeof path, "t.edb");
    if (inst == 0 || jinst_set_fault_hook(inst, hook, p) < 0)
        _exit(2);
    if (JetInit(&inst) < 0 || JetBeginSessionA(inst, &s, NULL, NULL) < 0)
        _exit(3);
    if (p->attach
            ? JetAttachDatabaseA(s, path, 0) < 0 || JetOpenDatabaseA(s, path, NULL, &db, 0) < 0
            : JetCreateDatabaseA(s, path, NULL, &db, 0) < 0)
        _exit(4);
    for (unsigned i = p->first; i < p->first + p->ntx; i++) {
        unsigned long long v = i + 100, c = i + 1;
        uint32_t ack = i;
        if (JetBeginTransaction(s) < 0 || JetLibWriteRecord(s, db, i, &v, sizeof v) < 0 ||
            JetLibWriteRecord(s, db, CTR_REC, &c, sizeof c) < 0 || JetCommitTransaction(s, 0) < 0)
            _exit(5);
        if (write(p->fd, &ack, sizeof ack) != sizeof ack)
            _exit(6);
        if ((i + 1) % 40 == 0 && JetLibRollLog(inst, NULL) < 0)
            _exit(7);
        if ((i + 1) % 60 == 0 && JetLibCheckpoint(inst) < 0)
            _exit(8);
        if (p->detach_at != 0 && i + 1 == p->first + p->detach_at &&
            (JetCloseDatabase(s, db, 0) < 0 || JetDetachDatabaseA(s, path) < 0))
            _exit(10);
    }
    raise(SIGKILL);
    _exit(11);
}

/* Run p in a child; returns the number of transactions acknowledged (they
 * are first .. first+n-1) and whether the fault fired. */
static unsigned run_child(plan *p, bool *pfired)
{
    int fds[2], st;
    pid_t pid;
    uint32_t m, expect = p->first;
    unsigned n = 0;
    *pfired = false;
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        p->fd = fds[1];
        child(p);
    }
    close(fds[1]);
    while (read(fds[0], &m, sizeof m) == sizeof m) {
        if (m == MARK_FAULT) {
            *pfired = true;
            continue;
        }
        ck_assert_uint_eq(m, expect); /* acks arrive in order */
        expect++;
        n++;
    }
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL,
                  "child did not die by SIGKILL (status 0x%x)", st);
    return n;
}

/* Recover with a plain JetInit and check: transactions 0..nack-1 present,
 * transaction nack present or absent as a whole (it may have committed
 * without its ack), none later; pages verify. */
static void verify(unsigned nack)
{
    char path[400];
    JET_INSTANCE inst = mk_inst(0);
    JET_SESID s;
    JET_DBID db;
    unsigned long long v, c;
    ck_assert_int_ne(inst, 0);
    dir_file(path, sizeof path, "t.edb");
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, path, NULL, &db, 0), 0);
    for (unsigned i = 0; i < nack; i++) {
        ck_assert_int_eq(JetLibReadRecord(s, db, i, &v, sizeof v), 0);
        ck_assert_msg(v == i + 100, "record %u: %llu, want %u", i, v, i + 100);
    }
    ck_assert_int_eq(JetLibReadRecord(s, db, CTR_REC, &c, sizeof c), 0);
    ck_assert_int_eq(JetLibReadRecord(s, db, nack, &v, sizeof v), 0);
    if (c == nack + 1ULL)
        ck_assert_uint_eq(v, nack + 100); /* the unacknowledged one made it */
    else
        ck_assert_msg(c == nack && v == 0, "counter %llu record %llu after %u acks", c, v, nack);
    ck_assert_int_eq(JetLibReadRecord(s, db, nack + 1, &v, sizeof v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(path, NULL, NULL), 0);
}

/* Kill at point (after skip hits) during a fresh writer; recover. */
static unsigned crash_at(const char *point, unsigned skip, long circular, unsigned detach_at)
{
    plan p = { point, skip, circular, 400, detach_at, false, 0, -1 };
    bool fired;
    unsigned n = run_child(&p, &fired);
    ck_assert_msg(fired, "fault point %s was never reached", point);
    return n;
}

START_TEST(roll_between_renames)
{
    /* <base>.log archived, <base>tmp.log not yet renamed in */
    unsigned n = crash_at("log.roll.archived", 3, 0, 0);
    ck_assert(!exists("edb.log"));
    ck_assert(exists("edbtmp.log"));
    verify(n);
    ck_assert(exists("edb.log"));
}
END_TEST

START_TEST(roll_tmp_written)
{
    /* the new generation's file written as tmp, not renamed yet */
    unsigned n = crash_at("log.roll.tmp_written", 4, 0, 0);
    ck_assert(!exists("edb.log"));
    ck_assert(exists("edbtmp.log"));
    verify(n);
}
END_TEST

START_TEST(roll_tmp_torn)
{
    /* as above, and the tmp file is torn (header garbage): it is discarded
     * and recovery ends at the last archived generation */
    char p[400];
    int fd;
    unsigned n = crash_at("log.roll.tmp_written", 2, 0, 0);
    dir_file(p, sizeof p, "edbtmp.log");
    fd = open(p, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "torn", 4, 8), 4);
    close(fd);
    verify(n);
}
END_TEST

START_TEST(checkpoint_new_not_renamed)
{
    unsigned n = crash_at("chk.new_written", 2, 0, 0);
    ck_assert(exists("edb.chk.new"));
    verify(n);
}
END_TEST

START_TEST(checkpoint_pages_flushed)
{
    verify(crash_at("ckpt.flushed", 3, 0, 0));
}
END_TEST

START_TEST(checkpoint_written_circular)
{
    verify(crash_at("ckpt.written", 3, 1, 0));
}
END_TEST

START_TEST(circular_delete_halfway)
{
    verify(crash_at("ckpt.deleting", 2, 1, 0));
}
END_TEST

START_TEST(db_header_between_copies)
{
    /* hit 0 is the attach at create; hit 1 is the detach after 50 */
    unsigned n = crash_at("db.hdr.copy0", 1, 0, 50);
    ck_assert_uint_eq(n, 50);
    verify(n);
}
END_TEST

START_TEST(db_header_copy0_torn)
{
    /* copy 0 of the header torn while being written: copy 1 (the old
     * header) is used and the logs bring the database up to date */
    char p[400];
    int fd;
    unsigned n = crash_at("db.hdr.copy0", 1, 0, 70);
    dir_file(p, sizeof p, "t.edb");
    fd = open(p, O_WRONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pwrite(fd, "torn", 4, 200), 4);
    close(fd);
    verify(n);
}
END_TEST

START_TEST(init_recovery_interrupted)
{
    /* a writer dies, then JetInit dies inside recovery just after archiving
     * the recovered <base>.log; the next JetInit must still recover */
    plan p1 = { NULL, 0, 0, 130, 0, false, 0, -1 };
    plan p2 = { "init.archived", 0, 0, 1, 0, true, 130, -1 };
    bool fired;
    unsigned n = run_child(&p1, &fired);
    ck_assert_uint_eq(n, 130);
    ck_assert(exists("edb.log"));
    ck_assert_uint_eq(run_child(&p2, &fired), 0);
    ck_assert(fired);
    /* archived by a hard link: <base>.log never goes missing */
    ck_assert(exists("edb.log"));
    ck_assert(exists("edb00004.log"));
    verify(n);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *engine_crash_suite(void)
{
    Suite *su = suite_create("engine_crash");
    TCase *tc = tcase_create("windows");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roll_between_renames);
    tcase_add_test(tc, roll_tmp_written);
    tcase_add_test(tc, roll_tmp_torn);
    tcase_add_test(tc, checkpoint_new_not_renamed);
    tcase_add_test(tc, checkpoint_pages_flushed);
    tcase_add_test(tc, checkpoint_written_circular);
    tcase_add_test(tc, circular_delete_halfway);
    tcase_add_test(tc, db_header_between_copies);
    tcase_add_test(tc, db_header_copy0_torn);
    tcase_add_test(tc, init_recovery_interrupted);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(engine_crash_suite)
