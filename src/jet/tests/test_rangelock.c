/*
 * test_rangelock.c -- unit tests for src/jet/rangelock.c (jrl_*).
 *
 * Blocking is shown with flags under a test mutex/condvar: a waiter thread
 * records whether the holder had already released when its jrl_lock
 * returned, which must always be the case for an overlapping request.  The
 * only timed wait is a short window in which an (incorrect) early
 * acquisition would be noticed; passing never depends on timing.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "harness.h"
#include "jet_int.h"

/* Shared state between the test and its waiter threads, under mu. */
typedef struct sync_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool released;   /* the holder has begun releasing the blocking range */
    int started;     /* waiters about to call jrl_lock */
    int acquired;    /* waiters whose jrl_lock returned */
    int early;       /* waiters that acquired before `released` */
    bool may_unlock; /* waiters may release their range */
} sync_ctx;

typedef struct waiter {
    jet_rangelock *rl;
    sync_ctx *sc;
    uint32_t lo, hi;
    pthread_t th;
} waiter;

static void sc_init(sync_ctx *sc)
{
    ck_assert_int_eq(pthread_mutex_init(&sc->mu, NULL), 0);
    ck_assert_int_eq(pthread_cond_init(&sc->cv, NULL), 0);
    sc->released = false;
    sc->started = sc->acquired = sc->early = 0;
    sc->may_unlock = false;
}

static void sc_destroy(sync_ctx *sc)
{
    ck_assert_int_eq(pthread_cond_destroy(&sc->cv), 0);
    ck_assert_int_eq(pthread_mutex_destroy(&sc->mu), 0);
}

static void *waiter_main(void *arg)
{
    waiter *w = arg;
    sync_ctx *sc = w->sc;
    ck_assert_int_eq(pthread_mutex_lock(&sc->mu), 0);
    sc->started++;
    ck_assert_int_eq(pthread_cond_broadcast(&sc->cv), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc->mu), 0);

    jrl_lock(w->rl, w->lo, w->hi);

    ck_assert_int_eq(pthread_mutex_lock(&sc->mu), 0);
    sc->acquired++;
    if (!sc->released)
        sc->early++;
    ck_assert_int_eq(pthread_cond_broadcast(&sc->cv), 0);
    while (!sc->may_unlock)
        ck_assert_int_eq(pthread_cond_wait(&sc->cv, &sc->mu), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc->mu), 0);

    jrl_unlock(w->rl, w->lo, w->hi);
    return NULL;
}

static void start_waiter(waiter *w, jet_rangelock *rl, sync_ctx *sc, uint32_t lo, uint32_t hi)
{
    w->rl = rl;
    w->sc = sc;
    w->lo = lo;
    w->hi = hi;
    ck_assert_int_eq(pthread_create(&w->th, NULL, waiter_main, w), 0);
}

/* Wait (test mutex held) until *counter >= n; untimed. */
static void wait_count(sync_ctx *sc, const int *counter, int n)
{
    while (*counter < n)
        ck_assert_int_eq(pthread_cond_wait(&sc->cv, &sc->mu), 0);
}

/* Give an incorrect lock up to 100 ms to let a waiter through early: waits
 * on the condvar for sc->acquired to exceed `expect`.  Returns the count
 * seen.  (A detection window only: a correct lock passes regardless.) */
static int window_acquired(sync_ctx *sc, int expect)
{
    struct timespec dl;
    ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &dl), 0);
    dl.tv_nsec += 100 * 1000 * 1000;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    while (sc->acquired <= expect) {
        int rc = pthread_cond_timedwait(&sc->cv, &sc->mu, &dl);
        if (rc == ETIMEDOUT)
            break;
        ck_assert_int_eq(rc, 0);
    }
    return sc->acquired;
}

/* Hold [lo, hi], start one waiter for [wlo, whi] that must block until the
 * holder releases, then check it acquired only after the release. */
static void check_blocks(uint32_t lo, uint32_t hi, uint32_t wlo, uint32_t whi)
{
    jet_rangelock rl;
    sync_ctx sc;
    waiter w;
    jrl_init(&rl);
    sc_init(&sc);
    jrl_lock(&rl, lo, hi);
    start_waiter(&w, &rl, &sc, wlo, whi);

    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.started, 1);
    ck_assert_int_eq(window_acquired(&sc, 0), 0);
    sc.released = true;
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);

    jrl_unlock(&rl, lo, hi);

    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.acquired, 1);
    ck_assert_int_eq(sc.early, 0);
    sc.may_unlock = true;
    ck_assert_int_eq(pthread_cond_broadcast(&sc.cv), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    ck_assert_int_eq(pthread_join(w.th, NULL), 0);
    /* the waiter released: the whole space is free again */
    jrl_lock(&rl, 0, UINT32_MAX);
    jrl_unlock(&rl, 0, UINT32_MAX);
    sc_destroy(&sc);
    jrl_destroy(&rl);
}

START_TEST(test_overlap_blocks)
{
    check_blocks(10, 20, 15, 25); /* partial overlap */
    check_blocks(10, 20, 20, 20); /* single shared page at the end */
    check_blocks(10, 20, 0, 10);  /* single shared page at the start */
    check_blocks(10, 20, 12, 13); /* contained */
    check_blocks(10, 20, 0, 100); /* containing */
    check_blocks(10, 20, 25, 5);  /* lo > hi is swapped: [5, 25] */
}
END_TEST

START_TEST(test_disjoint_does_not_block)
{
    jet_rangelock rl;
    sync_ctx sc;
    waiter w[2];
    jrl_init(&rl);
    sc_init(&sc);
    jrl_lock(&rl, 10, 20);
    start_waiter(&w[0], &rl, &sc, 21, 30);
    start_waiter(&w[1], &rl, &sc, 0, 9);
    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.acquired, 2); /* would hang (test timeout) if blocked */
    ck_assert_int_eq(sc.early, 2);    /* both got in while [10,20] was held */
    sc.may_unlock = true;
    ck_assert_int_eq(pthread_cond_broadcast(&sc.cv), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(w[i].th, NULL), 0);
    jrl_unlock(&rl, 10, 20);
    sc_destroy(&sc);
    jrl_destroy(&rl);
}
END_TEST

START_TEST(test_full_table_blocks)
{
    jet_rangelock rl;
    sync_ctx sc;
    waiter w;
    jrl_init(&rl);
    sc_init(&sc);
    for (uint32_t i = 0; i < 16; i++)
        jrl_lock(&rl, i * 10, i * 10 + 5);
    start_waiter(&w, &rl, &sc, 1000, 1000); /* disjoint, but no slot */
    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.started, 1);
    ck_assert_int_eq(window_acquired(&sc, 0), 0);
    sc.released = true;
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    jrl_unlock(&rl, 70, 75);
    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.acquired, 1);
    ck_assert_int_eq(sc.early, 0);
    sc.may_unlock = true;
    ck_assert_int_eq(pthread_cond_broadcast(&sc.cv), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    ck_assert_int_eq(pthread_join(w.th, NULL), 0);
    for (uint32_t i = 0; i < 16; i++)
        if (i != 7)
            jrl_unlock(&rl, i * 10, i * 10 + 5);
    sc_destroy(&sc);
    jrl_destroy(&rl);
}
END_TEST

START_TEST(test_unlock_wakes_all)
{
    jet_rangelock rl;
    sync_ctx sc;
    waiter w[4];
    jrl_init(&rl);
    sc_init(&sc);
    jrl_lock(&rl, 0, 1000);
    for (uint32_t i = 0; i < 4; i++)
        start_waiter(&w[i], &rl, &sc, i * 100, i * 100 + 50);
    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.started, 4);
    ck_assert_int_eq(window_acquired(&sc, 0), 0);
    sc.released = true;
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    jrl_unlock(&rl, 0, 1000);
    ck_assert_int_eq(pthread_mutex_lock(&sc.mu), 0);
    wait_count(&sc, &sc.acquired, 4); /* all four hold their ranges at once */
    ck_assert_int_eq(sc.early, 0);
    sc.may_unlock = true;
    ck_assert_int_eq(pthread_cond_broadcast(&sc.cv), 0);
    ck_assert_int_eq(pthread_mutex_unlock(&sc.mu), 0);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(w[i].th, NULL), 0);
    sc_destroy(&sc);
    jrl_destroy(&rl);
}
END_TEST

/* ---- stress: exclusivity of every page under contention ---- */
#define NPAGES 64
#define NTHREADS 6
#define NITER 3000

typedef struct stress {
    jet_rangelock rl;
    atomic_int owner[NPAGES];
    atomic_int violations;
} stress;

typedef struct stress_arg {
    stress *st;
    int id;
} stress_arg;

static void *stress_main(void *arg)
{
    stress_arg *a = arg;
    stress *st = a->st;
    uint32_t seed = (uint32_t)a->id * 7919u + 1;
    for (int it = 0; it < NITER; it++) {
        seed = seed * 1103515245u + 12345u;
        uint32_t lo = (seed >> 8) % NPAGES;
        seed = seed * 1103515245u + 12345u;
        uint32_t hi = lo + (seed >> 8) % 8;
        if (hi >= NPAGES)
            hi = NPAGES - 1;
        jrl_lock(&st->rl, lo, hi);
        for (uint32_t p = lo; p <= hi; p++)
            if (atomic_exchange(&st->owner[p], a->id) != 0)
                atomic_fetch_add(&st->violations, 1);
        for (uint32_t p = lo; p <= hi; p++)
            if (atomic_exchange(&st->owner[p], 0) != a->id)
                atomic_fetch_add(&st->violations, 1);
        jrl_unlock(&st->rl, lo, hi);
    }
    return NULL;
}

START_TEST(test_stress_exclusive)
{
    stress *st = calloc(1, sizeof *st);
    ck_assert_ptr_nonnull(st);
    jrl_init(&st->rl);
    for (int i = 0; i < NPAGES; i++)
        atomic_init(&st->owner[i], 0);
    atomic_init(&st->violations, 0);
    pthread_t th[NTHREADS];
    stress_arg args[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        args[i].st = st;
        args[i].id = i + 1;
        ck_assert_int_eq(pthread_create(&th[i], NULL, stress_main, &args[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    ck_assert_int_eq(atomic_load(&st->violations), 0);
    jrl_destroy(&st->rl);
    free(st);
}
END_TEST

static Suite *rangelock_suite(void)
{
    Suite *s = suite_create("rangelock");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_overlap_blocks);
    tcase_add_test(tc, test_disjoint_does_not_block);
    tcase_add_test(tc, test_full_table_blocks);
    tcase_add_test(tc, test_unlock_wakes_all);
    tcase_add_test(tc, test_stress_exclusive);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(rangelock_suite)
