/*
 * fs_guard.c -- the guards against a backup that never ends ([backup]
 * max_duration and idle_timeout): a watchdog thread that waits on
 * ctx->cv_guard with a deadline and fails the backup when a guard is
 * exceeded; see fsops.h (states, GUARDS) and fs_int.h (fields, locking).
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plat.h"
#include "fs_int.h"

#define NS_PER_S 1000000000ull

/* The default clock: plat.h's monotonic clock. */
static uint64_t guard_mono_clock(void *arg)
{
    (void)arg;
    return fs_clock_mono_ns();
}

/* The guard clock now.  ctx->mu held (the clock itself is thread-safe). */
static uint64_t guard_now(const fs_ctx *ctx)
{
    return ctx->clock ? ctx->clock(ctx->clock_arg) : guard_mono_clock(NULL);
}

/* Is a guard on? */
static bool guard_on(const fs_ctx *ctx)
{
    return ctx->cfg.max_duration_s || ctx->cfg.idle_timeout_s;
}

/* Do the guards watch the backup in its current state?  From the start of
 * the producer until the umount decision, unless it failed already.
 * ctx->mu held. */
static bool guard_watching(const fs_ctx *ctx)
{
    return !fs_failed(ctx) && (ctx->state == FS_ST_DATABASES || ctx->state == FS_ST_LOGS ||
                               ctx->state == FS_ST_COMPLETE || ctx->state == FS_ST_STOPPING);
}

/* Fail the backup because guard `what` fired.  ctx->mu held. */
static void guard_fire(fs_ctx *ctx, bool idle)
{
    char d[32];

    ctx->guard_fired = true;
    if (idle) {
        fs_conf_duration_name(ctx->cfg.idle_timeout_s, d, sizeof d);
        fs_fail(ctx, fs_err_jet(JET_errBackupAbortByServer),
                "idle for %s (idle_timeout): no read or listing of the mount for that long; "
                "readers get EIO, umount aborts (nothing truncated)",
                d);
    } else {
        fs_conf_duration_name(ctx->cfg.max_duration_s, d, sizeof d);
        fs_fail(ctx, fs_err_jet(JET_errBackupAbortByServer),
                "max_duration %s exceeded: readers get EIO, umount aborts (nothing truncated)", d);
    }
}

/* Check both guards at time now; fire the first one exceeded.  Sets
 * *wait_ns to the time until the next deadline, or 0 when there is none
 * to wait for (guards off, fired, not watching).  ctx->mu held. */
static void guard_check(fs_ctx *ctx, uint64_t now, uint64_t *wait_ns)
{
    uint64_t max_ns = ctx->cfg.max_duration_s * NS_PER_S;
    uint64_t idle_ns = ctx->cfg.idle_timeout_s * NS_PER_S;
    uint64_t wait = 0, end;

    *wait_ns = 0;
    if (!guard_watching(ctx))
        return;
    if (max_ns) {
        end = ctx->guard_start_ns + max_ns;
        if (now >= end) {
            guard_fire(ctx, false);
            return;
        }
        wait = end - now;
    }
    if (idle_ns) {
        /* a request in progress (or waiting for the engine) is activity:
         * the idle time counts from the end of the last one */
        if (ctx->nactive > 0 || ctx->nwaiting > 0) {
            end = now + idle_ns;
        } else {
            end = ctx->active_ns + idle_ns;
            if (now >= end) {
                guard_fire(ctx, true);
                return;
            }
        }
        if (!wait || end - now < wait)
            wait = end - now;
    }
    *wait_ns = wait;
}

/* The watchdog: check, wait until the next deadline (or a state change),
 * again, until the umount decision. */
static void guard_main(void *arg)
{
    fs_ctx *ctx = arg;
    uint64_t wait_ns;

    fs_mutex_lock(ctx->mu);
    while (!fs_decided(ctx)) {
        guard_check(ctx, guard_now(ctx), &wait_ns);
        if (!wait_ns)
            fs_cond_wait(ctx->cv_guard, ctx->mu);
        else /* round up: never wake before the deadline and spin */
            (void)fs_cond_timedwait(ctx->cv_guard, ctx->mu, (wait_ns + 999999) / 1000000);
    }
    fs_mutex_unlock(ctx->mu);
}

/* See fs_int.h. */
int fs_guard_start(fs_ctx *ctx)
{
    int rc = 0;

    fs_mutex_lock(ctx->mu);
    ctx->guard_start_ns = guard_now(ctx);
    ctx->active_ns = ctx->guard_start_ns;
    fs_mutex_unlock(ctx->mu);
    if (guard_on(ctx))
        rc = fs_thread_start(&ctx->watchdog, guard_main, ctx);
    if (rc < 0)
        ctx->watchdog = NULL;
    return rc;
}

/* See fs_int.h. */
void fs_guard_join(fs_ctx *ctx)
{
    if (!ctx->watchdog)
        return;
    fs_mutex_lock(ctx->mu);
    fs_cond_broadcast(ctx->cv_guard);
    fs_mutex_unlock(ctx->mu);
    fs_thread_join(ctx->watchdog);
    ctx->watchdog = NULL;
}

/* See fs_int.h. */
int fs_guard_enter(fs_ctx *ctx)
{
    if (ctx->cfg.idle_timeout_s) {
        ctx->nactive++;
        ctx->active_ns = guard_now(ctx);
    }
    return ctx->guard_fired ? -EIO : 0;
}

/* See fs_int.h. */
void fs_guard_leave(fs_ctx *ctx)
{
    if (ctx->cfg.idle_timeout_s) {
        ctx->nactive--;
        ctx->active_ns = guard_now(ctx);
    }
}

/* See fs_int.h. */
void fs_guard_snapshot(const fs_ctx *ctx, fs_snapshot *snap)
{
    uint64_t now = guard_now(ctx);

    snap->max_duration_s = ctx->cfg.max_duration_s;
    snap->idle_timeout_s = ctx->cfg.idle_timeout_s;
    snap->guard_fired = ctx->guard_fired;
    snap->running_s = (now - ctx->guard_start_ns) / NS_PER_S;
    snap->idle_s = 0;
    if (!ctx->nactive && !ctx->nwaiting)
        snap->idle_s = (now - ctx->active_ns) / NS_PER_S;
}

/* See fsops.h. */
void fs_ctx_set_clock(fs_ctx *ctx, fs_clock_fn clock, void *arg)
{
    ctx->clock = clock;
    ctx->clock_arg = arg;
}

/* See fsops.h. */
bool fs_ctx_check_guards(fs_ctx *ctx)
{
    uint64_t wait_ns;
    bool fired;

    fs_mutex_lock(ctx->mu);
    guard_check(ctx, guard_now(ctx), &wait_ns);
    fired = ctx->guard_fired;
    fs_mutex_unlock(ctx->mu);
    return fired;
}
