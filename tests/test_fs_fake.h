/*
 * test_fs_fake.h -- a fault-injecting fake engine behind the fs backend
 * table, for the esebackupfs unit tests (no libjet instance, no mount).
 *
 * It enforces the engine's rules that the driver must respect (one open
 * file, page-aligned buffers, page-multiple sizes, first read >= 3/2
 * pages, databases before GetLogInfo, no GetLogInfo with an open handle,
 * TruncateLog only after every log was read) and counts violations.  It
 * can fail Begin, or the Nth ReadFile with a chosen Jet error.
 * Contents are a deterministic function of (file, offset): fake_byte().
 *
 * Thread safety: one mutex; the driver calls from one thread at a time.
 */
#ifndef TEST_FS_FAKE_H
#define TEST_FS_FAKE_H

#include <pthread.h>
#include <stdint.h>
#include "bkclient.h"

#define FAKE_MAX 16

typedef struct fake_file {
    char path[256];
    uint64_t size;
    int read_done; /* read to the end and closed */
} fake_file;

typedef struct fake_engine {
    pthread_mutex_t mu;
    unsigned long cb_page;
    int ndb, nlog;
    fake_file db[FAKE_MAX];
    fake_file log[FAKE_MAX];
    /* injection */
    JET_ERR fail_begin; /* Begin returns this if != 0 */
    int fail_read_n;    /* fail the Nth ReadFile (1-based), 0 = never */
    JET_ERR fail_read_err;
    JET_ERR fail_open_err; /* fail the open of fail_open_path */
    char fail_open_path[256];
    int stall_read_n; /* the Nth ReadFile blocks until fake_release() */
    int stalled;      /* a read is blocked in the stall (cv signalled) */
    int released;
    pthread_cond_t cv;
    /* state */
    int in_backup, incremental, loginfo_done;
    int open_kind; /* 0 none, 1 db, 2 log */
    int open_idx;
    uint64_t pos;
    int nreads, nbegin, nend, ntruncate;
    JET_GRBIT end_grbit;
    int violations;
    char violation[256];
    unsigned long long committed;
} fake_engine;

/* Set up an engine with databases of the given sizes (bytes, multiples
 * of cb_page) and nlog logs of log_size bytes each. */
void fake_init(fake_engine *e, unsigned long cb_page, int ndb, const uint64_t *db_sizes, int nlog,
               uint64_t log_size);
/* The byte at offset off of database (is_log = 0) or log i. */
unsigned char fake_byte(int is_log, int i, uint64_t off);
/* Wait until a read is blocked by stall_read_n (no timeout: Check's
 * test timeout bounds it). */
void fake_wait_stalled(fake_engine *e);
/* Let the stalled read (and any later one) go on. */
void fake_release(fake_engine *e);
/* A bkclient table (bkc_ops) over e (destroy does not free e). */
void fake_backend(fake_engine *e, bkc_source *be);

#endif
