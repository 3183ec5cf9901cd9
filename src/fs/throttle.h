/*
 * throttle.h -- the [backup] max_rate cap (and `jetutil backup
 * --max-rate`): paces the bytes pulled from the engine to at most `rate`
 * bytes per second, and measures the rate actually pulled.
 *
 * The pacing is a virtual-time token bucket (GCRA): every pull of n bytes
 * is charged n / rate seconds on a virtual clock `tat`; a pull may start
 * when tat is not ahead of now, so over any long run the bytes pulled are
 * at most rate x elapsed + one chunk.  Idle time earns at most burst_ns of
 * credit (FS_THROTTLE_BURST_NS): a stall shorter than that (a disk write,
 * a slow reader) is caught up, so the long-run rate stays at the cap, and
 * a longer idle does not turn into a long burst above it.  With rate 0 nothing ever waits,
 * but the rate is still measured (status shows it).
 *
 * fs_throttle_take and fs_throttle_rate are pure arithmetic on a caller's
 * monotonic clock in nanoseconds (unit-testable with a fake clock);
 * fs_throttle_gate and fs_throttle_pace wait with the plat.h services.
 *
 * Thread safety: none inside.  An fs_throttle is used by one thread, or
 * under its owner's lock (the driver's: ctx->mu, which fs_throttle_gate
 * releases while it waits).
 */
#ifndef FS_THROTTLE_H
#define FS_THROTTLE_H

#include <stdint.h>
#include "plat.h"

/* Idle credit kept: a pull may start up to this early on the virtual
 * clock (absorbs timer slack without letting a long idle turn into a
 * burst). */
#define FS_THROTTLE_BURST_NS 200000000u /* 200 ms */
/* Length of the window over which the current rate is measured. */
#define FS_THROTTLE_WINDOW_NS 1000000000u /* 1 s */

typedef struct fs_throttle {
    uint64_t rate;      /* cap, bytes per second; 0 = unlimited */
    int started;        /* first pull seen (tat, win_t0 valid) */
    uint64_t tat_ns;    /* virtual time at which the next pull is due */
    uint64_t total;     /* bytes charged so far */
    uint64_t waits;     /* pulls told to wait (> 0: the cap was applied) */
    uint64_t wait_ns;   /* sum of the first wait told to each such pull */
    uint64_t win_t0;    /* start of the current measuring window */
    uint64_t win_bytes; /* bytes charged in it */
    uint64_t last_rate; /* bytes/s of the last complete window */
    int pending;        /* the last take said wait: its pull is still due */
    uint64_t first_ns;  /* when the first pull was charged */
    uint64_t last_ns;   /* when the last pull was charged */
    uint64_t last_n;    /* its bytes */
} fs_throttle;

/* Set t up for a cap of rate bytes/s (0 = unlimited), nothing pulled. */
void fs_throttle_init(fs_throttle *t, uint64_t rate);

/* A pull of n bytes wants to start at now_ns (monotonic).  Returns 0 when
 * it may start now -- n is then charged (total, rate window) -- or the
 * nanoseconds to wait before asking again (nothing charged).  Pure. */
uint64_t fs_throttle_take(fs_throttle *t, uint64_t n, uint64_t now_ns);

/* The current pull rate in bytes/s at now_ns: the last complete window's,
 * or, when the producer has been idle longer than a window, what the open
 * window shows (so an idle pull decays to 0).  0 before the first pull. */
uint64_t fs_throttle_rate(const fs_throttle *t, uint64_t now_ns);

/* The average pull rate in bytes/s from the first pull to the start of
 * the last one (the bytes of the pulls before the last over that time):
 * what a cap achieved over a whole run.  0 before the second pull. */
uint64_t fs_throttle_avg(const fs_throttle *t);

/* The producer's gate, called with mu held before each pull of n bytes:
 * 0 when the pull may go ahead (charged), or 1 after waiting on cv
 * (mu released meanwhile) for at most the time the cap asks -- the caller
 * then re-checks its loop (the state or the demand may have changed while
 * it waited) and calls again. */
int fs_throttle_gate(fs_throttle *t, uint64_t n, fs_cond *cv, fs_mutex *mu);

/* For a single-threaded copier: sleep (fs_sleep_ns) until a pull of n
 * bytes may start, and charge it.  Never fails. */
void fs_throttle_pace(fs_throttle *t, uint64_t n);

#endif /* FS_THROTTLE_H */
