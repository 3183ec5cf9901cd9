/*
 * test_jet_instance.c -- instances (instance.c): system parameters read
 * back as set, and JetLibGetInstanceName (the call the endpoint uses
 * instead of reaching into the instance) with its errors.
 */
#include "config.h"

#include <string.h>

#include "jet_fixture.h"

/* The name given to JetCreateInstance comes back; "" when none was given;
 * a buffer one byte short is JET_errBufferTooSmall; a dead or bogus handle
 * is JET_errInvalidInstance; no buffer is JET_errInvalidParameter. */
START_TEST(instance_name)
{
    JET_INSTANCE inst = mk_inst("bank-7", 0), anon = 0;
    char buf[64];
    memset(buf, 'x', sizeof buf);
    ck_assert_int_eq(JetLibGetInstanceName(inst, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "bank-7");
    ck_assert_int_eq(JetLibGetInstanceName(inst, buf, 6), JET_errBufferTooSmall);
    ck_assert_int_eq(JetLibGetInstanceName(inst, buf, 7), 0);
    ck_assert_str_eq(buf, "bank-7");
    ck_assert_int_eq(JetLibGetInstanceName(inst, NULL, 7), JET_errInvalidParameter);
    ck_assert_int_eq(JetLibGetInstanceName(inst, buf, 0), JET_errInvalidParameter);
    ck_assert_int_eq(JetCreateInstanceA(&anon, NULL), 0);
    ck_assert_int_eq(JetLibGetInstanceName(anon, buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(JetTerm(anon), 0);
    ck_assert_int_eq(JetLibGetInstanceName(anon, buf, sizeof buf), JET_errInvalidInstance);
    ck_assert_int_eq(JetLibGetInstanceName((JET_INSTANCE)0x1234, buf, sizeof buf),
                     JET_errInvalidInstance);
    ck_assert_int_eq(JetTerm(inst), 0);
}
END_TEST

/* The facts the endpoint reports (JepGetInfo) read back through
 * JetGetSystemParameter as they were set. */
START_TEST(parameters_read_back)
{
    JET_INSTANCE inst = mk_inst("p", 1);
    JET_API_PTR v = 0;
    char base[8];
    ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JET_paramBaseName, 0, "abc"), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JET_paramDatabasePageSize, 8192, NULL), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&inst, 0, JET_paramLegacyFileNames, 1, NULL), 0);
    ck_assert_int_eq(JetGetSystemParameterA(inst, 0, JET_paramBaseName, NULL, base, sizeof base),
                     0);
    ck_assert_str_eq(base, "abc");
    ck_assert_int_eq(JetGetSystemParameterA(inst, 0, JET_paramBaseName, NULL, base, 3),
                     JET_errBufferTooSmall);
    ck_assert_int_eq(JetGetSystemParameterA(inst, 0, JET_paramDatabasePageSize, &v, NULL, 0), 0);
    ck_assert_uint_eq(v, 8192);
    ck_assert_int_eq(JetGetSystemParameterA(inst, 0, JET_paramLegacyFileNames, &v, NULL, 0), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(JetGetSystemParameterA(inst, 0, JET_paramCircularLog, &v, NULL, 0), 0);
    ck_assert_uint_eq(v, 1);
    ck_assert_int_eq(JetTerm(inst), 0);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *jet_instance_suite(void)
{
    Suite *su = suite_create("jet_instance");
    TCase *tc = tcase_create("instance");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, instance_name);
    tcase_add_test(tc, parameters_read_back);
    suite_add_tcase(su, tc);
    return su;
}

TH_MAIN(jet_instance_suite)
