/*
 * test_errname.c -- the Jet error list (jet_errors.def) and its names:
 * every code has exactly one name, names round-trip through
 * JetLibErrorName, aliases resolve to the first-listed name, and the
 * enumeration constants of jet.h are the listed values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jetlib.h"

START_TEST(test_every_code_has_its_name)
{
    size_t i, j, n = JetLibErrorCount();
    const char *name, *other;
    JET_ERR err;

    ck_assert_uint_gt(n, 100);
    for (i = 0; i < n; i++) {
        err = JetLibErrorAt(i, &name);
        ck_assert_ptr_nonnull(name);
        ck_assert_msg(strncmp(name, "JET_err", 7) == 0 || strncmp(name, "JET_wrn", 7) == 0,
                      "%s: not a Jet error name", name);
        ck_assert_str_eq(JetLibErrorName(err), name);
        /* errors are negative, warnings positive (JET_wrnNyi is ESE's -1) */
        if (strncmp(name, "JET_err", 7) == 0)
            ck_assert_msg(err <= 0, "%s = %ld", name, (long)err);
        for (j = 0; j < i; j++) {
            ck_assert_int_ne(JetLibErrorAt(j, &other), err);
            ck_assert_str_ne(other, name);
        }
    }
    ck_assert_ptr_null((JetLibErrorAt(n, &name), name));
}
END_TEST

START_TEST(test_constants_are_the_list)
{
    /* A few constants as ESE defines them (esent.h), through the enum. */
    ck_assert_int_eq(JET_errSuccess, 0);
    ck_assert_int_eq(JET_wrnNyi, -1);
    ck_assert_int_eq(JET_errBackupInProgress, -505);
    ck_assert_int_eq(JET_errMissingLogFile, -528);
    ck_assert_int_eq(JET_errReadVerifyFailure, -1018);
    ck_assert_int_eq(JET_errFileAccessDenied, -1032);
    ck_assert_int_eq(JET_wrnDatabaseAttached, 1007);
    ck_assert_str_eq(JetLibErrorName(-505), "JET_errBackupInProgress");
    ck_assert_str_eq(JetLibErrorName(-4001), "JET_errFileIOBeyondEOF");
}
END_TEST

START_TEST(test_alias_and_unknown)
{
    ck_assert_int_eq(JET_errDatabaseInconsistent, JET_errDatabaseDirtyShutdown);
    ck_assert_str_eq(JetLibErrorName(JET_errDatabaseInconsistent), "JET_errDatabaseDirtyShutdown");
    ck_assert_str_eq(JetLibErrorName(-2), "JET_errUnknown");
    ck_assert_str_eq(JetLibErrorName(123456), "JET_errUnknown");
}
END_TEST

/* The suite: every test case of this file. */
static Suite *errname_suite(void)
{
    Suite *s = suite_create("errname");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_every_code_has_its_name);
    tcase_add_test(tc, test_constants_are_the_list);
    tcase_add_test(tc, test_alias_and_unknown);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(errname_suite)
