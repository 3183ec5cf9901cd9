/*
 * throttle.c -- pacing of engine pulls to [backup] max_rate; see
 * throttle.h (algorithm, contracts, thread safety).
 */
#include "config.h"
#include <stdint.h>
#include <string.h>
#include "plat.h"
#include "throttle.h"

/* See throttle.h. */
void fs_throttle_init(fs_throttle *t, uint64_t rate)
{
    memset(t, 0, sizeof *t);
    t->rate = rate;
}

/* Charge n bytes at now_ns to the measuring window, closing the window
 * when it is a full FS_THROTTLE_WINDOW_NS old. */
static void note_bytes(fs_throttle *t, uint64_t n, uint64_t now_ns)
{
    uint64_t el = now_ns - t->win_t0;

    if (el >= FS_THROTTLE_WINDOW_NS) {
        t->last_rate = (uint64_t)((double)t->win_bytes * 1e9 / (double)el);
        t->win_t0 = now_ns;
        t->win_bytes = 0;
    }
    t->win_bytes += n;
    t->total += n;
}

/* See throttle.h. */
uint64_t fs_throttle_take(fs_throttle *t, uint64_t n, uint64_t now_ns)
{
    uint64_t floor_ns;

    if (!t->started) {
        t->started = 1;
        t->tat_ns = now_ns;
        t->win_t0 = now_ns;
    }
    if (t->rate) {
        /* idle time earns at most FS_THROTTLE_BURST_NS of credit */
        floor_ns = now_ns > FS_THROTTLE_BURST_NS ? now_ns - FS_THROTTLE_BURST_NS : 0;
        if (t->tat_ns < floor_ns)
            t->tat_ns = floor_ns;
        if (t->tat_ns > now_ns) {
            uint64_t w = t->tat_ns - now_ns;
            if (!t->pending) {
                t->waits++;
                t->wait_ns += w;
                t->pending = 1;
            }
            return w;
        }
        /* n bytes take n / rate seconds of the virtual clock; n <= 2^32
         * and 1e9 < 2^30, so the product fits in 64 bits */
        t->tat_ns += n * 1000000000u / t->rate;
    }
    t->pending = 0;
    if (t->total == 0)
        t->first_ns = now_ns;
    t->last_ns = now_ns;
    t->last_n = n;
    note_bytes(t, n, now_ns);
    return 0;
}

/* See throttle.h. */
uint64_t fs_throttle_avg(const fs_throttle *t)
{
    if (t->last_ns <= t->first_ns || t->total <= t->last_n)
        return 0;
    return (uint64_t)((double)(t->total - t->last_n) * 1e9 / (double)(t->last_ns - t->first_ns));
}

/* See throttle.h. */
uint64_t fs_throttle_rate(const fs_throttle *t, uint64_t now_ns)
{
    uint64_t el;

    if (!t->started)
        return 0;
    el = now_ns - t->win_t0;
    if (el >= 2 * (uint64_t)FS_THROTTLE_WINDOW_NS)
        return (uint64_t)((double)t->win_bytes * 1e9 / (double)el);
    if (t->last_rate == 0) /* first window: wait for a tenth of it */
        return el >= FS_THROTTLE_WINDOW_NS / 10
                   ? (uint64_t)((double)t->win_bytes * 1e9 / (double)el)
                   : 0;
    return t->last_rate;
}

/* See throttle.h. */
int fs_throttle_gate(fs_throttle *t, uint64_t n, fs_cond *cv, fs_mutex *mu)
{
    uint64_t w = fs_throttle_take(t, n, fs_clock_mono_ns());

    if (w == 0)
        return 0;
    /* whole milliseconds, rounded up: never wake before the pull is due */
    (void)fs_cond_timedwait(cv, mu, (w + 999999u) / 1000000u);
    return 1;
}

/* See throttle.h. */
void fs_throttle_pace(fs_throttle *t, uint64_t n)
{
    uint64_t w;

    while ((w = fs_throttle_take(t, n, fs_clock_mono_ns())) != 0)
        fs_sleep_ns(w);
}
