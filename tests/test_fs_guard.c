/*
 * test_fs_guard.c -- Check unit tests of the guards (src/fs/fs_guard.c:
 * [backup] max_duration and idle_timeout) over the fault-injecting fake
 * engine (test_fs_fake.c), without mounting.  Time is an injected clock
 * (fs_ctx_set_clock) the tests move by hand; one test runs the real
 * watchdog on the platform clock and synchronises on a blocked reader.
 */
#include "config.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "jetlib.h"
#include "fsops.h"
#include "plat.h"
#include "test_fs_fake.h"

#define PAGE 8192
#define MIB (1u << 20)
#define SEC 1000000000ull

/* One test's world: engine, config, context, spool directory, clock. */
typedef struct world {
    fake_engine e;
    fs_config cfg;
    fs_ctx *ctx;
    char spool[64];
    pthread_mutex_t clock_mu;
    uint64_t now_ns; /* the injected clock */
} world;

/* The injected clock (thread-safe: the watchdog reads it too). */
static uint64_t world_clock(void *arg)
{
    world *w = arg;
    uint64_t t;

    pthread_mutex_lock(&w->clock_mu);
    t = w->now_ns;
    pthread_mutex_unlock(&w->clock_mu);
    return t;
}

/* Move the injected clock on by secs seconds. */
static void world_advance(world *w, uint64_t secs)
{
    pthread_mutex_lock(&w->clock_mu);
    w->now_ns += secs * SEC;
    pthread_mutex_unlock(&w->clock_mu);
}

/* A world with one 1 MiB database and two logs, truncate = trunc, the
 * guards given (seconds, 0 = off); fake_clock: inject the clock.  Does not
 * start the backup. */
static void world_init(world *w, enum fs_truncate trunc, uint64_t max_s, uint64_t idle_s,
                       int fake_clock, int stall_read_n)
{
    uint64_t size = MIB;
    bkc_source be;

    memset(w, 0, sizeof *w);
    ck_assert_int_eq(pthread_mutex_init(&w->clock_mu, NULL), 0);
    w->now_ns = 1000 * SEC;
    fake_init(&w->e, PAGE, 1, &size, 2, 256 * 1024);
    w->e.stall_read_n = stall_read_n;
    fs_conf_defaults(&w->cfg);
    snprintf(w->cfg.file, sizeof w->cfg.file, "test.ini");
    snprintf(w->cfg.endpoint, sizeof w->cfg.endpoint, "/fake");
    w->cfg.truncate = trunc;
    w->cfg.read_size = 256 * 1024;
    w->cfg.max_duration_s = max_s;
    w->cfg.idle_timeout_s = idle_s;
    snprintf(w->spool, sizeof w->spool, "/tmp/fsguard-spool.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(w->spool));
    snprintf(w->cfg.spool_dir, sizeof w->cfg.spool_dir, "%s", w->spool);
    fake_backend(&w->e, &be);
    ck_assert_int_eq(fs_ctx_new(&w->cfg, &be, &w->ctx), 0);
    if (fake_clock)
        fs_ctx_set_clock(w->ctx, world_clock, w);
}

/* world_init, then start the backup; must succeed. */
static void world_start(world *w, enum fs_truncate trunc, uint64_t max_s, uint64_t idle_s,
                        int fake_clock, int stall_read_n)
{
    char err[512];
    JET_ERR rc;

    world_init(w, trunc, max_s, idle_s, fake_clock, stall_read_n);
    rc = fs_ctx_start(w->ctx, err, sizeof err);
    ck_assert_msg(rc == 0, "start failed: %s", err);
}

/* Free everything; the spool directory must be empty again. */
static void world_free(world *w)
{
    fs_ctx_free(w->ctx);
    ck_assert_int_eq(rmdir(w->spool), 0);
    ck_assert_msg(w->e.violations == 0, "engine rule violated: %s", w->e.violation);
    pthread_mutex_destroy(&w->clock_mu);
}

/* Read path whole in 64 KiB requests; bytes read or -errno. */
static int64_t read_whole(world *w, const char *path)
{
    static char buf[65536];
    uint64_t fh, off = 0;
    int rc = fs_op_open(w->ctx, path, 0, &fh);

    while (rc >= 0) {
        rc = fs_op_read(w->ctx, fh, buf, sizeof buf, off);
        if (rc > 0)
            off += (uint64_t)rc;
        if (rc == 0)
            return (int64_t)off;
    }
    return rc;
}

/* readdir callback that only counts. */
static int count_names(void *p, const char *name, const fs_attr *a)
{
    (void)name;
    (void)a;
    ++*(int *)p;
    return 0;
}

/* Deliver everything (what cp -r does): db, logs/ list, logs, manifests. */
static void deliver_everything(world *w)
{
    int n = 0;

    ck_assert_int_eq(read_whole(w, "/db0.edb"), MIB);
    ck_assert_int_eq(fs_op_readdir(w->ctx, "/logs", &n, count_names), 0);
    ck_assert_int_eq(read_whole(w, "/logs/edb0000A.log"), 256 * 1024);
    ck_assert_int_eq(read_whole(w, "/logs/edb0000B.log"), 256 * 1024);
    ck_assert_int_gt(read_whole(w, "/logs/manifest"), 0);
    ck_assert_int_gt(read_whole(w, "/manifest"), 0);
}

/* max_duration fires after every byte was delivered (and, for truncate
 * = commit, committed): FAILED with "max_duration 2h exceeded", status
 * exits 1 and says why, reads of delivered bytes get EIO, umount aborts
 * and nothing is truncated (_i: 0 = complete, 1 = commit). */
START_TEST(max_duration_aborts_complete_backup)
{
    world w;
    char st[8192], msg[512];
    fs_error err;

    world_start(&w, _i ? FS_TRUNC_COMMIT : FS_TRUNC_COMPLETE, 2 * 3600, 0, 1, 0);
    deliver_everything(&w);
    if (_i)
        ck_assert_int_eq(fs_commit(w.ctx, msg, sizeof msg), 0);
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_COMPLETE);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_msg(strstr(st, "guards: max_duration 2h, running 0; idle_timeout off") != NULL,
                  "status: %s", st);
    ck_assert_ptr_nonnull(strstr(st, "would: JetTruncateLogInstance"));
    world_advance(&w, 2 * 3600 - 1);
    ck_assert(!fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_COMPLETE);
    world_advance(&w, 1);
    ck_assert(fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(fs_ctx_state(w.ctx, &err), FS_ST_FAILED);
    ck_assert_int_eq(err.kind, FS_ERR_JET);
    ck_assert_int_eq(err.code, JET_errBackupAbortByServer);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, "\nerror: max_duration 2h exceeded") != NULL, "status: %s", st);
    ck_assert_ptr_nonnull(strstr(st, "would: JetEndExternalBackupInstance2(Abort)"));
    ck_assert_int_eq(read_whole(&w, "/db0.edb"), -EIO);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* idle_timeout: reads keep resetting it (an active reader is never
 * stopped), and it fires once nobody reads or lists for that long. */
START_TEST(idle_timeout_reset_by_reads)
{
    world w;
    char buf[65536], st[8192];
    uint64_t fh;

    world_start(&w, FS_TRUNC_COMPLETE, 0, 30 * 60, 1, 0);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    for (uint64_t off = 0; off < MIB; off += sizeof buf) {
        world_advance(&w, 29 * 60); /* a slow reader: 29 min between requests */
        ck_assert(!fs_ctx_check_guards(w.ctx));
        ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, sizeof buf, off), (int)sizeof buf);
    }
    world_advance(&w, 29 * 60);
    ck_assert(!fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_msg(strstr(st, "idle_timeout 30m, idle 29m\n") != NULL, "status: %s", st);
    world_advance(&w, 60);
    ck_assert(fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, "\nerror: idle for 30m (idle_timeout)") != NULL, "status: %s", st);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, sizeof buf, 0), -EIO);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), -EIO);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    world_free(&w);
}
END_TEST

/* A reader blocked waiting for the engine. */
typedef struct blocked {
    world *w;
    int64_t rc;
} blocked;

static void *read_db(void *p)
{
    blocked *b = p;

    b->rc = read_whole(b->w, "/db0.edb");
    return NULL;
}

/* A request waiting for a stalled engine is not idle (idle_timeout does
 * not fire however long it waits); max_duration wakes it with EIO. */
START_TEST(waiting_reader_woken_with_eio)
{
    world w;
    blocked b = { &w, 1 };
    pthread_t th;

    world_start(&w, FS_TRUNC_COMPLETE, 6 * 3600, 30 * 60, 1, 2);
    ck_assert_int_eq(pthread_create(&th, NULL, read_db, &b), 0);
    fake_wait_stalled(&w.e);
    world_advance(&w, 6 * 3600 - 1);
    ck_assert(!fs_ctx_check_guards(w.ctx)); /* waiting 6 h: busy, not idle */
    world_advance(&w, 1);
    ck_assert(fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(pthread_join(th, NULL), 0); /* the engine is still stalled */
    ck_assert_int_eq(b.rc, -EIO);
    fake_release(&w.e);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* The real watchdog on the platform clock: max_duration = 1s fires by
 * itself and wakes a reader blocked on a stalled engine (the join is the
 * synchronisation; Check's timeout bounds it). */
START_TEST(watchdog_fires_on_real_clock)
{
    world w;
    blocked b = { &w, 1 };
    pthread_t th;
    char st[8192];

    world_start(&w, FS_TRUNC_COMPLETE, 1, 0, 0, 2);
    ck_assert_int_eq(pthread_create(&th, NULL, read_db, &b), 0);
    fake_wait_stalled(&w.e);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_int_eq(b.rc, -EIO);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, "\nerror: max_duration 1s exceeded") != NULL, "status: %s", st);
    fake_release(&w.e);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    world_free(&w);
}
END_TEST

/* Guards off: no guard line, nothing fires however much time passes. */
START_TEST(guards_off)
{
    world w;
    char st[8192];

    world_start(&w, FS_TRUNC_COMPLETE, 0, 0, 1, 0);
    world_advance(&w, 3650ull * 86400);
    ck_assert(!fs_ctx_check_guards(w.ctx));
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_ptr_null(strstr(st, "guards:"));
    deliver_everything(&w);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

/* A start that fails after the watchdog began (the first open is
 * refused) ends the backup and joins the watchdog: nothing hangs, no
 * thread is left (Check's timeout bounds it). */
START_TEST(start_failure_joins_watchdog)
{
    world w;
    char err[512];

    world_init(&w, FS_TRUNC_COMPLETE, 3600, 60, 1, 0);
    w.e.fail_open_err = JET_errFileAccessDenied;
    snprintf(w.e.fail_open_path, sizeof w.e.fail_open_path, "%s", w.e.db[0].path);
    ck_assert_int_eq(fs_ctx_start(w.ctx, err, sizeof err), JET_errFileAccessDenied);
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_ENDED);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *fs_guard_suite(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");

    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, max_duration_aborts_complete_backup, 0, 2);
    tcase_add_test(tc, idle_timeout_reset_by_reads);
    tcase_add_test(tc, waiting_reader_woken_with_eio);
    tcase_add_test(tc, watchdog_fires_on_real_clock);
    tcase_add_test(tc, guards_off);
    tcase_add_test(tc, start_failure_joins_watchdog);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(fs_guard_suite)
