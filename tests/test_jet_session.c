/*
 * test_jet_session.c -- sessions and transactions (session.c): write
 * conflicts between sessions, dead session handles, JetTerm with open
 * sessions and transactions.
 */
#include "config.h"

#include "jet_fixture.h"

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

/* The suite: every test case of this file. */
static Suite *jet_session_suite(void)
{
    Suite *su = suite_create("jet_session");
    TCase *tc = tcase_create("session");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, write_conflict);
    tcase_add_test(tc, term_with_open_sessions);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(jet_session_suite)
