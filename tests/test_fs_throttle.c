/*
 * test_fs_throttle.c -- Check unit tests of the max_rate pacing
 * (src/fs/throttle.c) with a fake clock: the waits it computes hold the
 * pull rate at the cap, idle time earns only the burst credit, rate 0
 * never waits, and the measured rate is what was pulled.
 */
#include "config.h"
#include <stdint.h>
#include "harness.h"
#include "throttle.h"

#define MiB (1u << 20)
#define SEC 1000000000ull

/* Pull `chunks` chunks of n bytes as fast as the throttle allows,
 * advancing the fake clock by exactly each computed wait.  Returns the
 * fake time at which the last pull started. */
static uint64_t pull_all(fs_throttle *t, uint64_t n, int chunks, uint64_t now, uint64_t *slept)
{
    *slept = 0;
    for (int i = 0; i < chunks; i++) {
        uint64_t w;
        while ((w = fs_throttle_take(t, n, now)) != 0) {
            now += w;
            *slept += w;
        }
    }
    return now;
}

/* A 10 MiB/s cap on 1 MiB pulls: the first starts at once, each next one
 * waits exactly 100 ms (1 MiB / 10 MiB/s), so 101 pulls take 10 s. */
START_TEST(sleeps_match_cap)
{
    fs_throttle t;
    uint64_t slept, end, t0 = 5 * SEC;

    fs_throttle_init(&t, 10 * MiB);
    ck_assert_uint_eq(fs_throttle_take(&t, MiB, t0), 0);
    ck_assert_uint_eq(fs_throttle_take(&t, MiB, t0), SEC / 10);
    ck_assert_uint_eq(fs_throttle_take(&t, MiB, t0 + SEC / 20), SEC / 20); /* half-way there */
    ck_assert_uint_eq(fs_throttle_take(&t, MiB, t0 + SEC / 10), 0);
    ck_assert_uint_eq(t.waits, 1); /* one pull was held back (asked twice) */
    fs_throttle_init(&t, 10 * MiB);
    end = pull_all(&t, MiB, 101, t0, &slept);
    ck_assert_uint_eq(end - t0, 10 * SEC);
    ck_assert_uint_eq(slept, 10 * SEC);
    ck_assert_uint_eq(t.total, 101ull * MiB);
    ck_assert_uint_eq(t.waits, 100);
    /* the achieved rate over the run is the cap (within one chunk) */
    ck_assert_uint_eq((t.total - MiB) / ((end - t0) / SEC), 10 * MiB);
}
END_TEST

/* An odd cap and chunk: the waits add up to bytes / rate, no drift. */
START_TEST(no_drift)
{
    fs_throttle t;
    uint64_t slept, end;
    const uint64_t rate = 3000000, n = 192 * 1024; /* 65.536 ms per pull */

    fs_throttle_init(&t, rate);
    end = pull_all(&t, n, 1001, 0, &slept);
    /* 1000 pulls after the first: 1000 * n / rate s, to within 1 us */
    ck_assert_uint_le(end > 1000 * n * SEC / rate ? end - 1000 * n * SEC / rate
                                                  : 1000 * n * SEC / rate - end,
                      1000);
    ck_assert_uint_eq(slept, end);
}
END_TEST

/* A producer that was idle (slow readers) gets at most the burst credit:
 * after a 5 s pause, only FS_THROTTLE_BURST_NS worth of pulls go at once. */
START_TEST(idle_credit_is_bounded)
{
    fs_throttle t;
    uint64_t now = SEC;
    int free_pulls = 0;

    fs_throttle_init(&t, 100 * MiB); /* 10 ms per MiB */
    ck_assert_uint_eq(fs_throttle_take(&t, MiB, now), 0);
    now += 5 * SEC;
    while (free_pulls < 1000 && fs_throttle_take(&t, MiB, now) == 0)
        free_pulls++;
    /* the burst credit's worth of pulls, plus the one due now */
    ck_assert_int_eq(free_pulls, (int)(FS_THROTTLE_BURST_NS / (SEC / 100)) + 1);
}
END_TEST

/* Rate 0: no waits, but the rate is measured. */
START_TEST(unlimited_measures)
{
    fs_throttle t;
    uint64_t now = 0;

    fs_throttle_init(&t, 0);
    ck_assert_uint_eq(fs_throttle_rate(&t, now), 0);
    for (int i = 0; i < 300; i++) {
        ck_assert_uint_eq(fs_throttle_take(&t, MiB, now), 0);
        now += SEC / 100; /* 100 MiB/s */
    }
    ck_assert_uint_eq(t.waits, 0);
    ck_assert_uint_eq(fs_throttle_rate(&t, now), 100 * MiB);
    /* idle for longer than two windows: the rate decays */
    ck_assert_uint_lt(fs_throttle_rate(&t, now + 10 * SEC), 10 * MiB);
}
END_TEST

/* Under a cap the measured rate is the cap. */
START_TEST(capped_rate_measured)
{
    fs_throttle t;
    uint64_t slept;

    fs_throttle_init(&t, 4 * MiB);
    uint64_t end = pull_all(&t, 256 * 1024, 64, 0, &slept);
    ck_assert_uint_eq(fs_throttle_rate(&t, end), 4 * MiB);
    ck_assert_uint_eq(fs_throttle_avg(&t), 4 * MiB); /* over the whole run */
}
END_TEST

static Suite *throttle_suite(void)
{
    Suite *s = suite_create("fs_throttle");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, sleeps_match_cap);
    tcase_add_test(tc, no_drift);
    tcase_add_test(tc, idle_credit_is_bounded);
    tcase_add_test(tc, unlimited_measures);
    tcase_add_test(tc, capped_rate_measured);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(throttle_suite)
