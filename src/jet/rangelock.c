/*
 * rangelock.c -- exclusive locks on inclusive page ranges [lo, hi]
 * (jet_int.h).  Backup page reads and page writes take the range they
 * touch so that a backup never sees a torn page.
 *
 * A lock table of 16 slots guarded by one mutex; a request waits on the
 * condition variable while it overlaps a held range or while every slot is
 * in use.  Each unlock broadcasts.  Ranges are not re-entrant: a thread that
 * locks a range overlapping one it already holds deadlocks.  pthread
 * failures are unrecoverable programming or resource errors and abort.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jet_int.h"

#define JRL_SLOTS \
    ((int)(sizeof(((jet_rangelock *)0)->held) / sizeof(((jet_rangelock *)0)->held[0])))

/* Abort with a one-line message naming the failed call.  Never returns. */
static void jrl_die(const char *what, int err)
{
    fprintf(stderr, "libjet: rangelock: %s failed: %s\n", what, strerror(err));
    abort();
}

/* Initialise rl: no ranges held.  Aborts if the mutex or condvar cannot be
 * created.  Not thread-safe (rl must not be in use). */
void jrl_init(jet_rangelock *rl)
{
    int rc;
    memset(rl->held, 0, sizeof rl->held);
    rc = pthread_mutex_init(&rl->mu, NULL);
    if (rc != 0)
        jrl_die("pthread_mutex_init", rc);
    rc = pthread_cond_init(&rl->cv, NULL);
    if (rc != 0)
        jrl_die("pthread_cond_init", rc);
}

/* Destroy rl.  No range may be held and no thread may be waiting. */
void jrl_destroy(jet_rangelock *rl)
{
    int rc = pthread_cond_destroy(&rl->cv);
    if (rc != 0)
        jrl_die("pthread_cond_destroy", rc);
    rc = pthread_mutex_destroy(&rl->mu);
    if (rc != 0)
        jrl_die("pthread_mutex_destroy", rc);
}

/* True if [lo, hi] overlaps a held range; *free_slot gets a free slot
 * index or -1.  Caller holds rl->mu. */
static bool jrl_conflict(const jet_rangelock *rl, uint32_t lo, uint32_t hi, int *free_slot)
{
    *free_slot = -1;
    for (int i = 0; i < JRL_SLOTS; i++) {
        if (!rl->held[i].used) {
            if (*free_slot < 0)
                *free_slot = i;
            continue;
        }
        if (rl->held[i].lo <= hi && lo <= rl->held[i].hi)
            return true;
    }
    return false;
}

/* Lock [lo, hi] (swapped if lo > hi), blocking while it overlaps a held
 * range or the table is full.  Takes and releases rl->mu. */
void jrl_lock(jet_rangelock *rl, uint32_t lo, uint32_t hi)
{
    if (lo > hi) {
        uint32_t t = lo;
        lo = hi;
        hi = t;
    }
    int rc = pthread_mutex_lock(&rl->mu);
    if (rc != 0)
        jrl_die("pthread_mutex_lock", rc);
    int slot;
    while (jrl_conflict(rl, lo, hi, &slot) || slot < 0) {
        rc = pthread_cond_wait(&rl->cv, &rl->mu);
        if (rc != 0)
            jrl_die("pthread_cond_wait", rc);
    }
    rl->held[slot].lo = lo;
    rl->held[slot].hi = hi;
    rl->held[slot].used = true;
    rc = pthread_mutex_unlock(&rl->mu);
    if (rc != 0)
        jrl_die("pthread_mutex_unlock", rc);
}

/* Release the held range [lo, hi] (exactly as locked; swapped if lo > hi)
 * and wake all waiters.  Unlocking a range that is not held is a
 * programming error and aborts.  Takes and releases rl->mu. */
void jrl_unlock(jet_rangelock *rl, uint32_t lo, uint32_t hi)
{
    if (lo > hi) {
        uint32_t t = lo;
        lo = hi;
        hi = t;
    }
    int rc = pthread_mutex_lock(&rl->mu);
    if (rc != 0)
        jrl_die("pthread_mutex_lock", rc);
    int i;
    for (i = 0; i < JRL_SLOTS; i++)
        if (rl->held[i].used && rl->held[i].lo == lo && rl->held[i].hi == hi)
            break;
    if (i == JRL_SLOTS) {
        fprintf(stderr, "libjet: rangelock: unlock of [%u, %u] which is not held\n", (unsigned)lo,
                (unsigned)hi);
        abort();
    }
    rl->held[i].used = false;
    rc = pthread_cond_broadcast(&rl->cv);
    if (rc != 0)
        jrl_die("pthread_cond_broadcast", rc);
    rc = pthread_mutex_unlock(&rl->mu);
    if (rc != 0)
        jrl_die("pthread_mutex_unlock", rc);
}
