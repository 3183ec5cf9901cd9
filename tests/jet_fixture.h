/*
 * jet_fixture.h -- the Check fixture shared by the engine module tests
 * (tests/test_jet_*.c): a private directory per test (dir), an instance on
 * it with 64 KiB logs, and record helpers.  Each test file gets its own
 * copy of these statics.  Uses Check asserts: not for forked children
 * (jet_testutil.h is).
 */
#ifndef JET_FIXTURE_H
#define JET_FIXTURE_H

#include <stdio.h>

#include "harness.h"
#include "jet_testutil.h"

static char dir[256];

/* Checked fixture: a fresh dir for each test. */
static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_jet"), 0);
}

/* Checked fixture: remove dir and everything in it. */
static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* Instance on dir with small logs. */
static inline JET_INSTANCE mk_inst(const char *name, long circular)
{
    JET_INSTANCE inst = jt_inst(name, dir, 64, circular);
    ck_assert_uint_ne(inst, 0);
    return inst;
}

/* The test database's path: <dir>/t.edb. */
static inline void db_path(char *buf, size_t cb)
{
    snprintf(buf, cb, "%s/t.edb", dir);
}

/* Write value v + i into records i in [0, n), one transaction per record. */
static inline void write_recs(JET_SESID s, JET_DBID db, unsigned n, unsigned long long v)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned long long x = v + i;
        ck_assert_int_eq(JetBeginTransaction(s), 0);
        ck_assert_int_eq(JetLibWriteRecord(s, db, i, &x, sizeof x), 0);
        ck_assert_int_eq(JetCommitTransaction(s, 0), 0);
    }
}

/* Assert records i in [0, n) hold v + i. */
static inline void check_recs(JET_SESID s, JET_DBID db, unsigned n, unsigned long long v)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned long long x = 0;
        ck_assert_int_eq(JetLibReadRecord(s, db, i, &x, sizeof x), 0);
        ck_assert_uint_eq(x, v + i);
    }
}

#endif /* JET_FIXTURE_H */
