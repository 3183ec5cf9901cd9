/*
 * fs_int.h -- the esebackupfs core's internals shared by its files
 * (fs_ctx.c, fs_start.c, fs_producer.c, fs_ops.c, fs_status.c): the
 * context struct and the helpers more than one of them calls.  Private
 * to src/fs; the public contract is fsops.h.
 *
 * THREAD SAFETY NOTES.  Threads: the producer (engine calls), the
 * hasher (SHA-256) and the spooler (spool writes) beside it (fs_hasher.c),
 * the adapter's request threads (fs_op_*), the adapter's status/signal
 * threads, the guards' watchdog (fs_guard.c, only when a guard is set).
 * LOCK ORDER: there is one lock, ctx->mu; it guards every field of fs_ctx
 * and of the fs_file entries.  Nothing else is locked while it
 * is held, and nobody holds it across engine calls, SHA-256 updates or
 * spool I/O: the producer drops it around engine calls, the hasher around
 * SHA-256 updates, the spooler around spool writes, readers around spool
 * preads.
 *
 * THE PIPELINE.  The producer reads chunk N+1 from the engine straight
 * into the window (a memory ring, both policies) while the hasher hashes
 * chunk N there and the spooler writes it to the spool where it belongs
 * (keep: every byte; stream: self-pulled bytes).  Per file, hashed and
 * spooled are <= produced; the window never drops bytes at or above
 * fs_taken (the lower of the two: the producer waits for room), and it
 * changes file only once the previous file is all taken.  So a produced
 * byte is in the window or (below `spooled`) in the spool when its policy
 * spools it; spool regions are written once, before `spooled` covers
 * them, and never again, so readers pread them without the lock.  The
 * window bytes in [fs_taken, produced) are read by the followers without
 * the lock (nobody writes them until both marks pass).  A file is done
 * (digest set) once both followers are through it; the manifest is built
 * only when every file is done.  cv_prod wakes the producer and the
 * followers (new demand, bytes produced or taken, stop); cv_data wakes
 * waiters (bytes produced or spooled, file opened, log list known,
 * failure, end); cv_guard wakes the watchdog (every state change, the
 * end).  The watchdog takes only ctx->mu.  The guard clock
 * (fs_ctx_set_clock) is called with ctx->mu held: an injected clock may
 * take a lock of its own, never one held while calling the core.
 */
#ifndef FS_INT_H
#define FS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "fsops.h"
#include "bkformat.h"
#include "plat.h"
#include "spool.h"
#include "tree.h"
#include "throttle.h"

#define FS_FH_LABEL 1
#define FS_FH_MANIFEST 2
#define FS_FH_LOGMAN 3
#define FS_FH_FILE0 16
#define FS_MAX_FILES 100000
/* The largest read request the kernel sends to a FUSE daemon: 256 pages
 * (FUSE_MAX_MAX_PAGES; libfuse's buffer).  With direct_io every read(2)
 * arrives in requests of at most this size. */

#define FS_MAX_REQ_PAGES 256

/* A reader waiting for bytes [lo, hi) of file `file` (on its stack),
 * linked in fs_ctx.waiters: the producer does not touch the stream window
 * while a waiter's bytes are ready but not yet copied (see ready_waiter). */
typedef struct fs_rwait {
    int file;
    uint64_t lo, hi;
    struct fs_rwait *next;
} fs_rwait;

/* ==== 1. context ======================================================= */

struct fs_ctx {
    fs_config cfg;
    bkc_source be;
    bkc_info info;

    fs_mutex *mu;
    fs_cond *cv_prod;
    fs_cond *cv_data;
    fs_thread *producer; /* non-NULL from its start until joined */
    fs_cond *cv_guard;   /* wakes the watchdog */
    fs_thread *watchdog; /* guards on: non-NULL from its start until joined */
    fs_thread *hasher;   /* non-NULL from its start until joined */
    fs_thread *spooler;  /* non-NULL from its start until joined */
    int hcur;            /* file being hashed (files < hcur are hashed) */
    int scur;            /* file being spooled (files < scur are spooled) */

    enum fs_state state; /* see fsops.h STATES; only set_state changes it */
    fs_error error;      /* first error (kind NONE until one happens) */
    char errmsg[512];    /* its one-line description */
    fs_time start;       /* backup start = every timestamp */
    fs_time end;         /* the decision carried out (set with ENDED) */
    uint64_t start_ns;   /* monotonic clock at the start (rate, ETA) */
    uint64_t last_ns;    /* monotonic clock at the last delivery */
    fs_file **files;     /* engine files in production order */
    int nfiles, cap_files;
    int ndb;
    bool logs_known; /* the log list is in files[ndb..] */
    int cur;         /* file being produced */
    int pull_to;     /* files < pull_to must be produced */
    bool pull_all;   /* pull everything (manifest wanted) */
    JET_HANDLE h;    /* engine handle of the open file */
    unsigned long log_gen_low, log_gen_high;
    bool have_committed;
    unsigned long long committed; /* host committed counter at the roll */
    bool commit_requested;
    enum fs_decision decision;   /* valid from DECIDING (updated by fallbacks) */
    const char *decision_reason; /* static string, valid from DECIDING */

    char *label;
    size_t label_len;
    char *manifest;      /* root manifest text (NULL until complete) */
    size_t manifest_len; /* its size, fixed at start */
    char *logman;        /* logs/manifest text (NULL until complete) */
    size_t logman_len;   /* its size, fixed with the log list */
    unsigned char logman_digest[32];
    fs_file *man[2];   /* delivery of [0] manifest, [1] logs/manifest */
    fs_rwait *waiters; /* readers waiting for engine bytes */
    uint64_t max_req;  /* largest request size served under stream */

    fs_spool spool;
    fs_window win;
    unsigned char *buf;      /* producer's page-aligned read buffer (when the
                             * next chunk would wrap in the window) */
    uint64_t spool_next;     /* next free spool region */
    uint64_t dropped_reads;  /* stream policy: re-reads refused */
    uint64_t spool_written;  /* bytes written to the spool (under mu) */
    uint64_t spool_reserved; /* bytes the producer published for the spool */
    bool pipe_failed;        /* the hasher or the spooler failed */
    int nwaiting;            /* requests blocked waiting for the engine */

    /* guards (fs_guard.c): [backup] max_duration, idle_timeout */
    fs_clock_fn clock;       /* monotonic ns; NULL = fs_clock_mono_ns (tests inject one) */
    void *clock_arg;         /* its argument */
    uint64_t guard_start_ns; /* clock at Begin */
    uint64_t active_ns;      /* clock at the last start or end of a read/list operation */
    int nactive;             /* read/list operations in progress (idle_timeout on) */
    bool guard_fired;        /* a guard failed the backup: open/read/readdir -> EIO */
    fs_throttle throttle;    /* [backup] max_rate pacing of engine pulls */
};

#define fs_set_state(ctx, to) fs_set_state_at((ctx), (to), __FILE__, __LINE__)

/* The one place the state changes: move to `to` if the STATES table
 * allows it and wake every waiter.  A move not in the table is a bug: it
 * is logged with the caller's FILE:LINE and refused (state unchanged).
 * Returns whether it moved.  ctx->mu held (or ctx not shared yet).  Call
 * it as fs_set_state(ctx, to). */
bool fs_set_state_at(fs_ctx *ctx, enum fs_state to, const char *file, int line);

/* Must the producer and every waiter stop (failed, signal, umount)?
 * ctx->mu held. */
bool fs_halted(const fs_ctx *ctx);

/* Has the backup failed (an error is recorded)?  ctx->mu held. */
bool fs_failed(const fs_ctx *ctx);

/* Are the manifests built (every engine file pulled)?  Stays true after
 * COMPLETE (a later failure or the decision keeps them).  ctx->mu held. */
bool fs_complete(const fs_ctx *ctx);

/* Has fs_ctx_finish taken the umount decision?  ctx->mu held. */
bool fs_decided(const fs_ctx *ctx);

/* Record the first failure of the backup: remember the error and its
 * text, log it, move to FAILED where the STATES table allows (after the
 * decision the error is only recorded) and wake everybody.  ctx->mu held. */
void fs_fail(fs_ctx *ctx, fs_error err, const char *fmt, ...) FS_PRINTF(3, 4);

/* Name of a Jet error or errno for messages ("JET_errDiskIO (-1022)"). */
void fs_jet_name(JET_ERR err, char *buf, size_t cb);

/* Append an engine file entry.  0, or -ENOMEM, -EEXIST (name clash),
 * -EINVAL (no usable base name), -EFBIG (too many files).
 * ctx->mu held or not yet shared. */
int fs_add_file(fs_ctx *ctx, const char *engine_path, enum fs_kind kind);

/* Build both manifests once every engine file is done: logs/manifest,
 * its digest, then the root one.  Each must have the size announced
 * earlier.  0, -ENOMEM, or -EPROTO (size differs: a bug, fail loudly);
 * ctx->manifest and ctx->logman are set only on success (fs_complete()).
 * ctx->mu held. */
int fs_build_manifest(fs_ctx *ctx);

/* Open engine file f (producer or start; ctx->mu NOT held by the caller
 * for the engine call: we take and drop it here).  Returns the Jet error. */
JET_ERR fs_open_file(fs_ctx *ctx, fs_file *f);

/* Ask for the log list, record the logs (GetLogInfo rolls the log) and
 * the committed counter.  Caller does not hold ctx->mu. */
JET_ERR fs_get_logs(fs_ctx *ctx);

/* Are bytes of f being pulled ahead of every reader (self-pull)?
 * ctx->mu held. */
int fs_self_pull(const fs_ctx *ctx, const fs_file *f);

/* Note the start of the guard clocks (now) and start the watchdog thread
 * when a guard is on (it watches from DATABASES/LOGS until the decision).
 * 0 or -errno (no thread started).  Without ctx->mu; STARTING. */
int fs_guard_start(fs_ctx *ctx);
/* Wake and join the watchdog, if one runs.  Call it once the state is
 * DECIDING or ENDED (the watchdog returns then), without ctx->mu. */
void fs_guard_join(fs_ctx *ctx);
/* A read/list operation (open, read, readdir) begins: activity for
 * idle_timeout, and in progress until fs_guard_leave.  Returns -EIO when
 * a guard fired (the operation must answer it; still call leave), else
 * 0.  ctx->mu held. */
int fs_guard_enter(fs_ctx *ctx);
/* The operation begun with fs_guard_enter ends (activity).  mu held. */
void fs_guard_leave(fs_ctx *ctx);
/* The guards' members of a status snapshot (limits, time running, time
 * idle, whether one fired).  ctx->mu held. */
void fs_guard_snapshot(const fs_ctx *ctx, fs_snapshot *snap);

/* The producer: the only thread that calls the engine while mounted.
 * Runs until everything is produced, the backup failed, or stop. */
void fs_producer_main(void *arg);

/* Bytes of f both followers took: the lower of hashed and spooled.
 * ctx->mu held. */
uint64_t fs_taken(const fs_file *f);

/* May the producer pull bytes [f->produced, +read_size) of f now?  No
 * while putting them in the window would drop bytes not yet taken.  When
 * the window holds another file, yes: see fs_window_busy.  ctx->mu held. */
bool fs_window_room(const fs_ctx *ctx, const fs_file *f);

/* Does the window still hold another file than f whose bytes are not all
 * taken?  Then f's first chunk is pulled into ctx->buf and put in the
 * window once the followers are done with that file (the pull of the
 * next file overlaps the hash of the last one).  ctx->mu held. */
bool fs_window_busy(const fs_ctx *ctx, const fs_file *f);

/* Does the spool hold (or will the spooler write there) bytes from off
 * of f?  keep: always; stream: self-pulled bytes.  ctx->mu held. */
bool fs_spools(const fs_ctx *ctx, const fs_file *f, uint64_t off);

/* Record a spool failure (erc: -ENOSPC = cap or device full, or another
 * -errno) writing f at off: fails the backup with one line.  ctx->mu held. */
void fs_spool_failed(fs_ctx *ctx, fs_file *f, uint64_t off, int erc);

/* The hasher (fs_hasher.c): hashes every produced byte in order from the
 * window and finishes each file's digest once its last byte is hashed and
 * its handle closed.  The spooler: writes every produced byte that
 * fs_spools names to the spool, in order, from the window.  Each runs
 * until every file is taken, the backup failed, or stop; any failure
 * (digest, spool) fails the backup. */
void fs_hasher_main(void *arg);
void fs_spooler_main(void *arg);

#endif
