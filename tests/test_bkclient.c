/*
 * test_bkclient.c -- Check unit tests of the backup-source layer
 * (include/bkclient.h): in-process hosting and the libjet table on a real
 * instance (a whole full backup through the table), the instance info,
 * the open errors (missing database, instance already open, no endpoint),
 * a borrowed instance outliving its source, and the multi-string helpers
 * (with a small fake table for the error paths only).
 */
#include "config.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "bkclient.h"
#include "jet_testutil.h"

static char dir[256], db[320];

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_bkclient"), 0);
    snprintf(db, sizeof db, "%s/t.edb", dir);
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* Hosting parameters on dir; log_kib 0 = inherit the current log's size. */
static bkc_host_params params(const char *name, unsigned long log_kib)
{
    bkc_host_params p = {
        .instance = name,
        .system_path = dir,
        .log_path = dir,
        .base_name = "edb",
        .page_size = 4096,
        .log_kib = log_kib,
        .circular = 0,
        .legacy = 3,
    };
    return p;
}

/* A clean instance on dir with 128 KiB logs and the database t.edb. */
static void make_instance(void)
{
    bkc_host_params p = params("mk", 128);
    JET_INSTANCE inst = 0;
    JET_SESID s;
    JET_DBID d;
    const char *step = NULL;

    ck_assert_int_eq(bkc_host_init(&p, &inst, &step), 0);
    ck_assert_int_eq(JetBeginSession(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabase(s, db, NULL, &d, 0), 0);
    ck_assert_int_eq(JetCloseDatabase(s, d, 0), 0);
    ck_assert_int_eq(JetDetachDatabase(s, db), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(bkc_host_term(inst), 0);
}

/* Stream file name of src to its size (every read gives bytes). */
static void stream_whole(const bkc_source *src, const char *name)
{
    static _Alignas(4096) char buf[1 << 16]; /* JetReadFile wants aligned buffers */
    JET_HANDLE h = 0;
    uint64_t size = 0, got = 0;
    unsigned long cb = 0;

    ck_assert_int_eq(src->ops->open(src->ctx, name, &h, &size), 0);
    ck_assert_uint_gt(size, 0);
    while (got < size) {
        ck_assert_int_eq(src->ops->read(src->ctx, h, buf, sizeof buf, &cb), 0);
        ck_assert_uint_gt(cb, 0);
        got += cb;
    }
    ck_assert_uint_eq(got, size);
    ck_assert_int_eq(src->ops->close(src->ctx, h), 0);
}

START_TEST(jet_full_backup_through_the_table)
{
    bkc_host_params p = params("src", 0);
    const char *dbs[] = { db };
    bkc_source src = { NULL, NULL };
    bkc_info info;
    JET_LOGINFO_A li;
    char err[512], *szz = NULL;
    const char *q;
    int nlog = 0;

    make_instance();
    ck_assert_msg(bkc_jet_open(&p, dbs, 1, &src, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(src.ops->info(src.ctx, &info), 0);
    ck_assert_str_eq(info.instance, "src");
    ck_assert_str_eq(info.base_name, "edb");
    ck_assert_uint_eq(info.cb_page, 4096);
    ck_assert_uint_eq(info.legacy, 3);
    ck_assert_int_eq(info.circular, 0);
    ck_assert_uint_eq(info.log_kib, 128); /* inherited from the current log */
    ck_assert_int_eq(src.ops->begin(src.ctx, 0), 0);
    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_ATTACH, &szz, NULL), 0);
    q = bkc_szz_first(szz);
    ck_assert_ptr_nonnull(q);
    ck_assert_str_eq(q, db);
    ck_assert_ptr_null(bkc_szz_next(q));
    stream_whole(&src, q);
    free(szz);
    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_LOGS, &szz, &li), 0);
    ck_assert_uint_ge(li.ulGenLow, 1);
    ck_assert_uint_ge(li.ulGenHigh, li.ulGenLow);
    for (q = bkc_szz_first(szz); q; q = bkc_szz_next(q)) {
        stream_whole(&src, q);
        nlog++;
    }
    ck_assert_int_eq(nlog, (int)(li.ulGenHigh - li.ulGenLow + 1));
    free(szz);
    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_TRUNCATE, &szz, NULL), 0);
    free(szz);
    ck_assert_int_eq(src.ops->end(src.ctx, JET_bitBackupEndNormal), 0);
    ck_assert_int_eq(bkc_close(&src), 0);
    ck_assert_ptr_null(src.ops);
    ck_assert_int_eq(bkc_close(&src), 0); /* safe twice */
}
END_TEST

START_TEST(jet_open_errors)
{
    bkc_host_params p = params("src", 0), p2;
    const char *dbs[] = { db };
    char missing[400], err[512];
    const char *bad[] = { missing };
    bkc_source a = { NULL, NULL }, b = { NULL, NULL };
    JET_ERR rc;

    make_instance();
    snprintf(missing, sizeof missing, "%s/none.edb", dir);
    rc = bkc_jet_open(&p, bad, 1, &a, err, sizeof err);
    ck_assert_int_lt(rc, 0);
    ck_assert_ptr_null(a.ops);
    ck_assert_msg(strstr(err, "JetAttachDatabase(") && strstr(err, "none.edb") &&
                      strstr(err, JetLibErrorName(rc)),
                  "%s", err);
    /* everything was released: the instance opens again */
    ck_assert_msg(bkc_jet_open(&p, dbs, 1, &a, err, sizeof err) == 0, "%s", err);
    p2 = params("src2", 0); /* another instance on the same directory */
    rc = bkc_jet_open(&p2, dbs, 1, &b, err, sizeof err);
    ck_assert_int_eq(rc, JET_errFileAccessDenied);
    ck_assert_msg(strstr(err, "JetInit") && strstr(err, "another process has the instance open"),
                  "%s", err);
    ck_assert_int_eq(bkc_close(&a), 0);
}
END_TEST

/* The preflight questions: bkc_jet_precheck from the files (nothing
 * hosted; the lock another holder has, a missing full backup, circular
 * logging) and the table's check_begin on a hosted instance (Begin's
 * answer, nothing begun). */
START_TEST(jet_check_begin_and_precheck)
{
    bkc_host_params p = params("src", 0), pc = params("src", 0);
    const char *dbs[] = { db };
    bkc_source src = { NULL, NULL };
    uint64_t cb = 0, cb2 = 0;
    struct stat st;
    char err[1024];

    make_instance();
    ck_assert_int_eq(stat(db, &st), 0);
    ck_assert_msg(bkc_jet_precheck(&p, dbs, 1, 0, &cb, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(cb, (uint64_t)st.st_size);
    ck_assert_int_eq(bkc_jet_precheck(&p, dbs, 1, JET_bitBackupIncremental, &cb, err, sizeof err),
                     JET_errMissingFullBackup);
    ck_assert_msg(strstr(err, db) != NULL, "%s", err);
    pc.circular = 1;
    ck_assert_int_eq(bkc_jet_precheck(&pc, dbs, 1, JET_bitBackupIncremental, &cb, err, sizeof err),
                     JET_errInvalidBackup);
    /* hosted (and so locked) here */
    ck_assert_msg(bkc_jet_open(&p, dbs, 1, &src, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(bkc_jet_precheck(&p, dbs, 1, 0, &cb, err, sizeof err),
                     JET_errFileAccessDenied);
    ck_assert_msg(strstr(err, "edb.jlk is locked") != NULL, "%s", err);
    ck_assert_ptr_nonnull(src.ops->check_begin);
    ck_assert_int_eq(src.ops->check_begin(src.ctx, 0, &cb), 0);
    ck_assert_uint_gt(cb, 0);
    ck_assert_int_eq(src.ops->check_begin(src.ctx, JET_bitBackupIncremental, &cb2),
                     JET_errMissingFullBackup);
    ck_assert_int_eq(src.ops->begin(src.ctx, 0), 0); /* nothing was begun */
    ck_assert_int_eq(src.ops->check_begin(src.ctx, 0, &cb2), JET_errBackupInProgress);
    ck_assert_uint_eq(cb2, cb);
    ck_assert_int_eq(src.ops->end(src.ctx, JET_bitBackupEndAbort), 0);
    ck_assert_int_eq(src.ops->check_begin(src.ctx, 0, &cb2), 0);
    ck_assert_int_eq(bkc_close(&src), 0);
    ck_assert_msg(bkc_jet_precheck(&p, dbs, 1, 0, &cb, err, sizeof err) == 0, "%s", err);
}
END_TEST

START_TEST(borrowed_instance_outlives_its_source)
{
    bkc_host_params p = params("own", 0);
    JET_INSTANCE inst = 0;
    bkc_source src = { NULL, NULL };
    bkc_info info;
    JET_SESID s;

    make_instance();
    ck_assert_int_eq(bkc_host_init(&p, &inst, NULL), 0);
    ck_assert_int_eq(bkc_jet_borrow(inst, "own", &src), 0);
    ck_assert_int_eq(src.ops->info(src.ctx, &info), 0);
    ck_assert_str_eq(info.instance, "own");
    ck_assert_int_eq(bkc_close(&src), 0);
    ck_assert_int_eq(JetBeginSession(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(bkc_host_term(inst), 0);
}
END_TEST

START_TEST(endpoint_not_listening)
{
    char sock[300], err[512];
    bkc_source src = { NULL, NULL };

    snprintf(sock, sizeof sock, "%s/none.sock", dir);
    ck_assert_int_eq(bkc_ep_open(sock, &src, err, sizeof err), JET_errFileNotFound);
    ck_assert_ptr_null(src.ops);
    ck_assert_msg(strstr(err, "cannot connect to the backup endpoint") && strstr(err, sock), "%s",
                  err);
}
END_TEST

/* ---- multi-string helpers over a fake table (error paths) ---- */

typedef struct fake {
    int calls;
    unsigned long asked; /* cb_max of the fetch */
    JET_ERR fail;
} fake;

static JET_ERR f_attach(void *ctx, char *szz, unsigned long cb, unsigned long *pcb)
{
    static const char list[] = "a\0bb\0";
    fake *f = ctx;

    f->calls++;
    if (f->fail)
        return f->fail;
    *pcb = sizeof list;
    if (!szz)
        return 0;
    f->asked = cb;
    if (cb < sizeof list)
        return JET_errBufferTooSmall;
    memcpy(szz, list, sizeof list);
    return 0;
}

static const bkc_ops fake_ops = {
    .name = "fake",
    .attach_info = f_attach,
    .trunc_info = NULL,
};

START_TEST(get_list_size_first_then_fetch)
{
    fake f = { 0, 0, 0 };
    bkc_source src = { &fake_ops, &f };
    char *szz = (char *)"x";
    const char *q;

    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_ATTACH, &szz, NULL), 0);
    ck_assert_int_eq(f.calls, 2);
    ck_assert_uint_eq(f.asked, 6);
    q = bkc_szz_first(szz);
    ck_assert_str_eq(q, "a");
    q = bkc_szz_next(q);
    ck_assert_str_eq(q, "bb");
    ck_assert_ptr_null(bkc_szz_next(q));
    free(szz);
    f.fail = JET_errNoBackup;
    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_ATTACH, &szz, NULL), JET_errNoBackup);
    ck_assert_ptr_null(szz);
    ck_assert_int_eq(bkc_get_list(&src, BKC_LIST_TRUNCATE, &szz, NULL), JET_errInvalidParameter);
    ck_assert_ptr_null(szz);
    ck_assert_ptr_null(bkc_szz_first("\0"));
    ck_assert_ptr_null(bkc_szz_first(NULL));
}
END_TEST

/* Codes reach logs by name: Jet errors from jet_errors.def, the Windows
 * clients' HRESULTs (an ESE error they wrap is named as that error). */
START_TEST(codes_by_name)
{
    long jet = 1;

    ck_assert_str_eq(bkc_err_name(JET_errDiskIO), "JET_errDiskIO");
    ck_assert_str_eq(bkc_err_name(JET_errBackupAbortByServer), "JET_errBackupAbortByServer");
    ck_assert_str_eq(bkc_err_name(-424242), "JET_errUnknown");
    ck_assert_str_eq(bkc_hr_name(0xC80003FEu, &jet), "JET_errDiskIO");
    ck_assert_int_eq(jet, JET_errDiskIO);
    ck_assert_str_eq(bkc_hr_name(0xC8000208u, &jet), "JET_errNoBackup");
    ck_assert_int_eq(jet, JET_errNoBackup);
    ck_assert_str_eq(bkc_hr_name(0xC7FF0007u, &jet), "hrCouldNotConnect");
    ck_assert_int_eq(jet, 0);
    ck_assert_str_eq(bkc_hr_name(0x8007000Eu, &jet), "E_OUTOFMEMORY");
    ck_assert_str_eq(bkc_hr_name(0x80001234u, &jet), "HRESULT_unknown");
    ck_assert_int_eq(jet, 0);
}
END_TEST

static Suite *bkclient_suite(void)
{
    Suite *s = suite_create("bkclient");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, jet_full_backup_through_the_table);
    tcase_add_test(tc, jet_open_errors);
    tcase_add_test(tc, borrowed_instance_outlives_its_source);
    tcase_add_test(tc, jet_check_begin_and_precheck);
    tcase_add_test(tc, endpoint_not_listening);
    tcase_add_test(tc, get_list_size_first_then_fetch);
    tcase_add_test(tc, codes_by_name);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(bkclient_suite)
