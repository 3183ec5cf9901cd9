/*
 * test_jet_db.c -- databases (db.c, attach.c): create, write, roll back,
 * reopen and verify; bad files (corrupt checkpoint, missing database,
 * truncated header).
 */
#include "config.h"

#include <fcntl.h>
#include <unistd.h>

#include "jet_fixture.h"

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

/* The suite: every test case of this file. */
static Suite *jet_db_suite(void)
{
    Suite *su = suite_create("jet_db");
    TCase *tc = tcase_create("db");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_write_reopen);
    tcase_add_test(tc, bad_files);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(jet_db_suite)
