/*
 * test_recovery.c -- an instance owns its files; missing logs are errors
 * (issue 7 items 1 and 2).
 *
 * A child process builds a crashed instance (it commits, rolls the log and
 * exits without JetTerm); the parent then damages or copies the directory
 * and runs soft recovery (JetInit) on it:
 *   - the current log missing, a generation missing between the checkpoint
 *     and the end, an archived log from another log stream, a database from
 *     another log stream: the specific Jet error, and the directory exactly
 *     as found (names, sizes, mtimes and contents hashed before and after);
 *   - a copy of a crashed instance directory recovers its own database file
 *     and leaves the original's, which a running instance holds, untouched;
 *   - JET_paramAlternateDatabaseRecoveryPath: the database is recovered
 *     where the parameter says;
 *   - a database file attached by one instance cannot be attached by
 *     another (JET_errFileAccessDenied), in this process or another one.
 */
#include "config.h"

#include <stdbool.h>
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

#define NTX 120       /* transactions of a crashed writer */
#define ROLL_EVERY 30 /* it rolls the log after every 30 */
#define CTR_REC 100000ULL

static char dir[256], dir2[256];

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_recovery"), 0);
    ck_assert_int_eq(th_tmpdir(dir2, sizeof dir2, "test_recovery2"), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
    ck_assert_int_eq(th_rm_tree(dir2), 0);
}

/* An instance on d with 64 KiB logs and no automatic checkpoint during the
 * test (0 on failure: children use it). */
static JET_INSTANCE mk_inst(const char *name, const char *d)
{
    JET_INSTANCE inst = jt_inst(name, d, 64, 0);
    if (inst != 0 &&
        JetSetSystemParameterA(&inst, 0, JETLIB_paramCheckpointKiB, 1 << 20, NULL) < 0) {
        (void)JetTerm(inst);
        return 0;
    }
    return inst;
}

/* Child: in directory d, create t.edb, commit NTX transactions (record i =
 * i + 100 + salt, counter = i + 1), roll the log every ROLL_EVERY, then
 * exit without JetTerm: a crashed instance whose logs hold every commit. */
static void crashed_instance_at(const char *d, const char *dbdir, unsigned salt, bool ckpt,
                                bool attach)
{
    pid_t pid = fork();
    int st;
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        char path[400];
        JET_INSTANCE inst = mk_inst("crashed", d);
        JET_SESID s;
        JET_DBID db;
        snprintf(path, sizeof path, "%s/t.edb", dbdir);
        if (inst == 0 || JetInit(&inst) < 0 || JetBeginSessionA(inst, &s, NULL, NULL) < 0 ||
            (attach
                 ? JetAttachDatabaseA(s, path, 0) < 0 || JetOpenDatabaseA(s, path, NULL, &db, 0) < 0
                 : JetCreateDatabaseA(s, path, NULL, &db, 0) < 0))
            _exit(2);
        if (ckpt && JetLibCheckpoint(inst) < 0)
            _exit(5);
        for (unsigned i = 0; i < NTX; i++) {
            unsigned long long v = i + 100 + salt, c = i + 1;
            if (JetBeginTransaction(s) < 0 || JetLibWriteRecord(s, db, i, &v, sizeof v) < 0 ||
                JetLibWriteRecord(s, db, CTR_REC, &c, sizeof c) < 0 ||
                JetCommitTransaction(s, 0) < 0)
                _exit(3);
            if ((i + 1) % ROLL_EVERY == 0 && JetLibRollLog(inst, NULL) < 0)
                _exit(4);
        }
        _exit(0); /* no JetTerm: a crash */
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer failed (status 0x%x)", st);
}

/* The same with the database in the instance directory. */
static void crashed_instance_ckpt(const char *d, unsigned salt, bool ckpt)
{
    crashed_instance_at(d, d, salt, ckpt, false);
}

/* The crashed instance, its database created after the last checkpoint
 * (the logs replayed hold its CREATEDB record). */
static void crashed_instance(const char *d, unsigned salt)
{
    crashed_instance_ckpt(d, salt, false);
}

/* Names, sizes, mtimes (ns) and contents of everything below d, hashed. */
static void dir_hash(const char *d, char *out, size_t cb)
{
    char cmd[700];
    FILE *f;
    size_t n;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && { find . -printf '%%p %%y %%s %%T@\\n' | LC_ALL=C sort; "
             "find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } | sha256sum",
             d);
    f = popen(cmd, "r");
    ck_assert_ptr_nonnull(f);
    n = fread(out, 1, cb - 1, f);
    out[n] = '\0';
    ck_assert_int_eq(pclose(f), 0);
    ck_assert_uint_ge(n, 64);
}

/* JetInit on d must fail with want and change nothing in d. */
static void init_fails_unchanged(const char *d, JET_ERR want)
{
    char before[128], after[128];
    JET_INSTANCE inst = mk_inst("victim", d);
    JET_ERR rc;
    ck_assert_int_ne(inst, 0);
    dir_hash(d, before, sizeof before);
    rc = JetInit(&inst);
    ck_assert_msg(rc == want, "JetInit: %s (%ld), want %s (%ld)", JetLibErrorName(rc), (long)rc,
                  JetLibErrorName(want), (long)want);
    ck_assert_int_eq(JetTerm(inst), 0);
    dir_hash(d, after, sizeof after);
    ck_assert_msg(strcmp(before, after) == 0, "JetInit changed %s after failing", d);
}

/* Path of name in d. */
static void in(char *buf, size_t cb, const char *d, const char *name)
{
    snprintf(buf, cb, "%s/%s", d, name);
}

/* Recover inst (configured, not initialised) and check that the database
 * at dbpath holds all NTX transactions with salt. */
static void recovers_all(JET_INSTANCE inst, const char *dbpath, unsigned salt)
{
    JET_SESID s;
    JET_DBID db;
    unsigned long long v;
    JET_ERR rc = JetInit(&inst);
    ck_assert_msg(rc == 0, "JetInit: %s (%ld)", JetLibErrorName(rc), (long)rc);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, dbpath, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(s, dbpath, NULL, &db, 0), 0);
    for (unsigned i = 0; i < NTX; i++) {
        ck_assert_int_eq(JetLibReadRecord(s, db, i, &v, sizeof v), 0);
        ck_assert_msg(v == i + 100 + salt, "record %u: %llu, want %u", i, v, i + 100 + salt);
    }
    ck_assert_int_eq(JetLibReadRecord(s, db, CTR_REC, &v, sizeof v), 0);
    ck_assert_uint_eq(v, NTX);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}

START_TEST(missing_current_log)
{
    char p[400];
    crashed_instance(dir, 0);
    in(p, sizeof p, dir, "edb.log");
    ck_assert_int_eq(unlink(p), 0);
    init_fails_unchanged(dir, JET_errMissingLogFile);
}
END_TEST

START_TEST(missing_log_in_the_middle)
{
    char p[400];
    crashed_instance(dir, 0);
    in(p, sizeof p, dir, "edb00002.log");
    ck_assert_int_eq(unlink(p), 0);
    init_fails_unchanged(dir, JET_errMissingLogFile);
}
END_TEST

START_TEST(log_from_another_stream)
{
    char a[400], b[400], cmd[900];
    crashed_instance(dir, 0);
    crashed_instance(dir2, 7);
    in(a, sizeof a, dir2, "edb00003.log");
    in(b, sizeof b, dir, "edb00003.log");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    init_fails_unchanged(dir, JET_errBadLogSignature);
}
END_TEST

/* The logs create t.edb, but the file there is another database. */
START_TEST(created_database_replaced)
{
    char a[400], b[400], cmd[900];
    crashed_instance(dir, 0);
    crashed_instance(dir2, 7);
    in(a, sizeof a, dir2, "t.edb");
    in(b, sizeof b, dir, "t.edb");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    init_fails_unchanged(dir, JET_errBadDbSignature);
}
END_TEST

/* t.edb is attached at the checkpoint, but the file there belongs to
 * another log stream. */
START_TEST(attached_database_from_another_stream)
{
    char a[400], b[400], cmd[900];
    crashed_instance_ckpt(dir, 0, true);
    crashed_instance_ckpt(dir2, 7, true);
    in(a, sizeof a, dir2, "t.edb");
    in(b, sizeof b, dir, "t.edb");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    init_fails_unchanged(dir, JET_errBadLogSignature);
}
END_TEST

/* The logs attach t.edb (ATTACH record after the checkpoint), but the
 * file there is a database left dirty by another log stream. */
START_TEST(attach_record_database_dirty_in_another_stream)
{
    char a[400], b[400], cmd[900];
    crashed_instance(dir, 0);
    in(b, sizeof b, dir, "t.edb");
    recovers_all(mk_inst("clean", dir), b, 0);     /* t.edb clean, detached */
    crashed_instance_at(dir, dir, 5, false, true); /* attach, commit, crash */
    crashed_instance(dir2, 7);                     /* its t.edb is dirty */
    in(a, sizeof a, dir2, "t.edb");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    init_fails_unchanged(dir, JET_errBadLogSignature);
}
END_TEST

/* t.edb is attached at the checkpoint and has been deleted. */
START_TEST(attached_database_missing)
{
    char p[400];
    crashed_instance_ckpt(dir, 0, true);
    in(p, sizeof p, dir, "t.edb");
    ck_assert_int_eq(unlink(p), 0);
    init_fails_unchanged(dir, JET_errAttachedDatabaseMismatch);
}
END_TEST

START_TEST(checkpoint_from_another_stream)
{
    char a[400], b[400], cmd[900];
    crashed_instance(dir, 0);
    crashed_instance(dir2, 7);
    in(a, sizeof a, dir2, "edb.chk");
    in(b, sizeof b, dir, "edb.chk");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", a, b);
    ck_assert_int_eq(system(cmd), 0);
    init_fails_unchanged(dir, JET_errBadCheckpointSignature);
}
END_TEST

/* cp -a of a crashed instance A to B; A starts and keeps its database
 * attached; recovery of B works on B/t.edb and never touches A/t.edb. */
START_TEST(copied_instance_recovers_its_own_files)
{
    char src[300], copy[300], cmd[900], dba[400], dbb[400], before[128], after[128];
    JET_INSTANCE a;
    JET_SESID s;
    snprintf(src, sizeof src, "%s/A", dir);
    snprintf(copy, sizeof copy, "%s/B", dir);
    ck_assert_int_eq(mkdir(src, 0755), 0);
    crashed_instance(src, 0);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", src, copy);
    ck_assert_int_eq(system(cmd), 0);
    in(dba, sizeof dba, src, "t.edb");
    in(dbb, sizeof dbb, copy, "t.edb");
    /* A runs with its database attached */
    a = mk_inst("A", src);
    ck_assert_int_ne(a, 0);
    ck_assert_int_eq(JetInit(&a), 0);
    ck_assert_int_eq(JetBeginSessionA(a, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, dba, 0), 0);
    dir_hash(src, before, sizeof before);
    /* B recovers on its own copy */
    recovers_all(mk_inst("B", copy), dbb, 0);
    dir_hash(src, after, sizeof after);
    ck_assert_msg(strcmp(before, after) == 0, "recovery of the copy changed the original");
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(a, JET_bitTermComplete), 0);
}
END_TEST

START_TEST(alternate_database_recovery_path)
{
    char alt[300], from[400], to[400];
    JET_INSTANCE inst;
    snprintf(alt, sizeof alt, "%s/alt", dir2);
    ck_assert_int_eq(mkdir(alt, 0755), 0);
    crashed_instance(dir, 0);
    in(from, sizeof from, dir, "t.edb");
    in(to, sizeof to, alt, "t.edb");
    ck_assert_int_eq(rename(from, to), 0);
    inst = mk_inst("alt", dir);
    ck_assert_int_ne(inst, 0);
    ck_assert_int_eq(
        JetSetSystemParameterA(&inst, 0, JET_paramAlternateDatabaseRecoveryPath, 0, alt), 0);
    recovers_all(inst, to, 0);
    ck_assert_int_ne(access(from, F_OK), 0); /* nothing created at the old place */
}
END_TEST

/* A database kept outside the instance's directories is not opened by
 * default (the logs could be a copy); the parameter names its directory. */
START_TEST(database_outside_needs_alternate_path)
{
    char db[400], h1[128], h2[128];
    JET_INSTANCE inst;
    crashed_instance_at(dir, dir2, 0, false, false);
    in(db, sizeof db, dir2, "t.edb");
    dir_hash(dir2, h1, sizeof h1);
    init_fails_unchanged(dir, JET_errAttachedDatabaseMismatch);
    dir_hash(dir2, h2, sizeof h2);
    ck_assert_str_eq(h1, h2);
    inst = mk_inst("outside", dir);
    ck_assert_int_ne(inst, 0);
    ck_assert_int_eq(
        JetSetSystemParameterA(&inst, 0, JET_paramAlternateDatabaseRecoveryPath, 0, dir2), 0);
    recovers_all(inst, db, 0);
}
END_TEST

/* The same, the database attached at the checkpoint. */
START_TEST(attached_database_outside_needs_alternate_path)
{
    char db[400];
    JET_INSTANCE inst;
    crashed_instance_at(dir, dir2, 0, true, false);
    in(db, sizeof db, dir2, "t.edb");
    init_fails_unchanged(dir, JET_errAttachedDatabaseMismatch);
    inst = mk_inst("outside", dir);
    ck_assert_int_ne(inst, 0);
    ck_assert_int_eq(
        JetSetSystemParameterA(&inst, 0, JET_paramAlternateDatabaseRecoveryPath, 0, dir2), 0);
    recovers_all(inst, db, 0);
}
END_TEST

/* One instance has t.edb attached; a second instance (other directory)
 * attaching the same file gets JET_errFileAccessDenied. */
START_TEST(attached_database_is_locked_in_process)
{
    char db[400];
    JET_INSTANCE a, b;
    JET_SESID sa, sb;
    JET_DBID id;
    JET_ERR rc;
    in(db, sizeof db, dir, "t.edb");
    a = mk_inst("lockA", dir);
    b = mk_inst("lockB", dir2);
    ck_assert(a != 0 && b != 0);
    ck_assert_int_eq(JetInit(&a), 0);
    ck_assert_int_eq(JetInit(&b), 0);
    ck_assert_int_eq(JetBeginSessionA(a, &sa, NULL, NULL), 0);
    ck_assert_int_eq(JetBeginSessionA(b, &sb, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(sa, db, NULL, &id, 0), 0);
    rc = JetAttachDatabaseA(sb, db, 0);
    ck_assert_msg(rc == JET_errFileAccessDenied, "second attach: %s (%ld)", JetLibErrorName(rc),
                  (long)rc);
    rc = JetCreateDatabaseA(sb, db, NULL, &id, JET_bitDbOverwriteExisting);
    ck_assert_msg(rc == JET_errFileAccessDenied, "overwrite by another instance: %s (%ld)",
                  JetLibErrorName(rc), (long)rc);
    ck_assert_int_eq(JetEndSession(sa, 0), 0);
    ck_assert_int_eq(JetTerm2(a, JET_bitTermComplete), 0);
    /* released with the detach */
    ck_assert_int_eq(JetAttachDatabaseA(sb, db, 0), 0);
    ck_assert_int_eq(JetEndSession(sb, 0), 0);
    ck_assert_int_eq(JetTerm2(b, JET_bitTermComplete), 0);
}
END_TEST

/* The same across processes: a child holds t.edb attached until the
 * parent closes the pipe. */
START_TEST(attached_database_is_locked_across_processes)
{
    char db[400], c;
    int go[2], ready[2], st;
    pid_t pid;
    JET_INSTANCE b;
    JET_SESID sb;
    JET_ERR rc;
    in(db, sizeof db, dir, "t.edb");
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(ready), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        JET_INSTANCE a = mk_inst("holder", dir);
        JET_SESID s;
        JET_DBID id;
        close(go[1]);
        close(ready[0]);
        if (a == 0 || JetInit(&a) < 0 || JetBeginSessionA(a, &s, NULL, NULL) < 0 ||
            JetCreateDatabaseA(s, db, NULL, &id, 0) < 0)
            _exit(2);
        if (write(ready[1], "r", 1) != 1)
            _exit(3);
        (void)read(go[0], &c, 1); /* until the parent closes it */
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    b = mk_inst("other", dir2);
    ck_assert_int_ne(b, 0);
    ck_assert_int_eq(JetInit(&b), 0);
    ck_assert_int_eq(JetBeginSessionA(b, &sb, NULL, NULL), 0);
    rc = JetAttachDatabaseA(sb, db, 0);
    close(go[1]);
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(rc == JET_errFileAccessDenied, "attach while another process has it: %s (%ld)",
                  JetLibErrorName(rc), (long)rc);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    ck_assert_int_eq(JetEndSession(sb, 0), 0);
    ck_assert_int_eq(JetTerm2(b, JET_bitTermComplete), 0);
}
END_TEST

/* Fault hook: SIGKILL at the second "log.roll.archived". */
static void kill_at_second_roll(void *arg, const char *point)
{
    int *hits = arg; /* rolls since it was set to 0; -1: not counting yet */
    if (*hits >= 0 && strcmp(point, "log.roll.archived") == 0 && ++*hits == 2)
        raise(SIGKILL);
}

/* Two rolls back to back (the next log file is not pre-created by the
 * checkpointer in between), killed between the renames of the second:
 * <base>.log is gone, but the roll wrote <base>tmp.log first, so recovery
 * finishes the roll rather than reporting a missing log. */
START_TEST(killed_in_back_to_back_rolls)
{
    char db[400];
    pid_t pid;
    int st;
    in(db, sizeof db, dir, "t.edb");
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int hits = -1; /* the NTX commits may roll too (a flush never rewrites a
                        * durable segment): count only the two rolls below */
        JET_INSTANCE inst = mk_inst("rolls", dir);
        JET_SESID s;
        JET_DBID id;
        if (inst == 0 || jinst_set_fault_hook(inst, kill_at_second_roll, &hits) < 0 ||
            JetInit(&inst) < 0 || JetBeginSessionA(inst, &s, NULL, NULL) < 0 ||
            JetCreateDatabaseA(s, db, NULL, &id, 0) < 0)
            _exit(2);
        for (unsigned i = 0; i < NTX; i++) {
            unsigned long long v = i + 100, c = i + 1;
            if (JetBeginTransaction(s) < 0 || JetLibWriteRecord(s, id, i, &v, sizeof v) < 0 ||
                JetLibWriteRecord(s, id, CTR_REC, &c, sizeof c) < 0 ||
                JetCommitTransaction(s, 0) < 0)
                _exit(3);
        }
        hits = 0;
        (void)JetLibRollLog(inst, NULL);
        (void)JetLibRollLog(inst, NULL);
        _exit(4);
    }
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status 0x%x", st);
    recovers_all(mk_inst("rolls", dir), db, 0);
}
END_TEST

/* The undamaged crashed instance still recovers (the checks above do not
 * refuse a good one). */
START_TEST(intact_crashed_instance_recovers)
{
    char db[400];
    crashed_instance(dir, 3);
    in(db, sizeof db, dir, "t.edb");
    recovers_all(mk_inst("intact", dir), db, 3);
}
END_TEST

static Suite *suite(void)
{
    Suite *su = suite_create("recovery");
    TCase *tc = tcase_create("recovery");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, missing_current_log);
    tcase_add_test(tc, missing_log_in_the_middle);
    tcase_add_test(tc, log_from_another_stream);
    tcase_add_test(tc, created_database_replaced);
    tcase_add_test(tc, attached_database_from_another_stream);
    tcase_add_test(tc, attached_database_missing);
    tcase_add_test(tc, attach_record_database_dirty_in_another_stream);
    tcase_add_test(tc, checkpoint_from_another_stream);
    tcase_add_test(tc, copied_instance_recovers_its_own_files);
    tcase_add_test(tc, alternate_database_recovery_path);
    tcase_add_test(tc, database_outside_needs_alternate_path);
    tcase_add_test(tc, attached_database_outside_needs_alternate_path);
    tcase_add_test(tc, attached_database_is_locked_in_process);
    tcase_add_test(tc, attached_database_is_locked_across_processes);
    tcase_add_test(tc, intact_crashed_instance_recovers);
    tcase_add_test(tc, killed_in_back_to_back_rolls);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(suite)
