/*
 * fsops.h -- the platform-neutral esebackupfs core: one backup, its tree,
 * the producer thread and the filesystem operations.
 *
 * Life cycle:
 *   fs_ctx_new(cfg, source) -> fs_ctx_start() (begins the backup; from
 *   here the engine is in backup mode) -> operations from any number of
 *   threads -> fs_ctx_finish() (the umount decision: truncate+End(Normal),
 *   End(Normal) = copy, or End(Abort); removes the spool) -> fs_ctx_free().
 *
 * Read path: one producer thread reads the engine in the order it
 * requires (databases, then GetLogInfo, then logs; one open file at a
 * time; read_size-byte page-aligned buffers) into the spool (policy keep)
 * or a memory window plus the spool for bytes nobody asked for yet
 * (policy stream).  Readers wait until the producer has passed their
 * range.  Engine or spool errors fail the backup: EIO for every read of a
 * range not produced, never a short read.  Every EIO answered to a reader
 * (also a refused stream re-read or an interrupted wait) fails the backup
 * too.  Under stream, the producer leaves the window alone while a woken
 * reader has not copied its bytes yet.
 *
 * Delivery: the bytes returned by fs_op_read per file and per manifest;
 * the umount decision needs every database, log and manifest byte (the
 * FUSE adapter serves everything with direct I/O so that the kernel's
 * read-ahead and page cache cannot add to it).
 *
 * Blocking (D3): readdir/lookup under logs/ waits for the log list, stat
 * of a database whose size is unknown waits for its open, and reading a
 * manifest waits for the end (their sizes are known earlier: the root
 * manifest's at start, logs/manifest's with the log list, so stat never
 * waits for them); while they wait the producer pulls the remaining bytes
 * itself.
 *
 * Operations return >= 0 or -errno.  Thread safety: every operation may
 * be called concurrently; one mutex (fs_ctx.mu) guards all state, and is
 * never held across engine calls or spool I/O.
 *
 * Platform: this core includes only ISO C headers, errno.h, the public
 * headers and its own; threads, clocks, the spool file, SHA-256 and the
 * log are plat.h services that an adapter implements (src/fs/posix).
 *
 * STATES.  One backup is in exactly one state (enum fs_state, ctx->state);
 * every change goes through one function that refuses a move not listed
 * here (a bug: logged, state unchanged).
 *
 *   NEW        fs_ctx_new made it; nothing asked of the engine.
 *   STARTING   Begin succeeded: the engine is in backup mode and the
 *              backup needs an End.  fs_ctx_start is learning the files,
 *              opening the first, building the label; no producer yet.
 *   DATABASES  the producer runs and the log list is not known yet (full
 *              backup).  Readers wait for bytes; logs/ waits for the list.
 *   LOGS       the producer runs and the log list is known (logs_known);
 *              the databases may still be being pulled under demand.
 *   COMPLETE   every engine file was pulled and closed, both manifests
 *              are built; the producer has returned.
 *   STOPPING   a signal asked for the unmount: the producer stops, every
 *              request waiting for the engine gets EIO.
 *   FAILED     the first error is recorded (ctx->error, ctx->errmsg): the
 *              producer stops, every read of an unproduced range is EIO,
 *              and umount aborts.
 *   DECIDING   fs_ctx_finish took the umount decision (a commit is now
 *              refused) and is ending the backup on the engine.
 *   ENDED      the backup ended on the engine (or never began).  Final.
 *
 *   from        event                                        to
 *   NEW         Begin succeeded (fs_ctx_start)               STARTING
 *   NEW         fs_ctx_finish without a start                ENDED
 *   STARTING    producer started, full backup                DATABASES
 *   STARTING    producer started, incremental backup         LOGS
 *   STARTING    start failed, End(Abort) sent                ENDED
 *   DATABASES   GetLogInfo answered (log list known)         LOGS
 *   DATABASES,  engine/spool error, or EIO to a reader       FAILED
 *    LOGS,
 *    COMPLETE,
 *    STOPPING
 *   LOGS        last file closed, manifests built            COMPLETE
 *   DATABASES,  signal (fs_ctx_interrupt)                    STOPPING
 *    LOGS
 *   DATABASES,  fs_ctx_finish (umount)                       DECIDING
 *    LOGS, COMPLETE, STOPPING, FAILED
 *   DECIDING    End (or Truncate + End) returned             ENDED
 *
 * An error after the decision (a waiter woken by the stop) is recorded
 * for status but changes neither the state nor the decision.
 *
 * GUARDS ([backup] max_duration, idle_timeout; fs_guard.c).  A watchdog
 * thread (only when a guard is on) waits on a condition variable with the
 * next deadline on a monotonic clock (plat.h; a test may inject one).
 * From DATABASES/LOGS until the decision (COMPLETE and STOPPING
 * included), it fails the backup with JET_errBackupAbortByServer and the
 * message "max_duration 6h exceeded: ..." once the time since Begin
 * reaches max_duration, or "idle for 30m (idle_timeout): ..." once no
 * open, read or readdir has been in progress, and no request has waited
 * for the engine, for idle_timeout.  A fired guard is a failure like any
 * other (FAILED, waiters woken with EIO, umount aborts whatever the
 * truncation policy and whatever was delivered or committed), and from
 * then on every open, read and readdir answers EIO, even of bytes
 * already produced: the backup is over.
 */
#ifndef FS_FSOPS_H
#define FS_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bkclient.h"
#include "conf.h"
#include "tree.h"

typedef struct fs_ctx fs_ctx;

/* The backup's state; see STATES above. */
enum fs_state {
    FS_ST_NEW,
    FS_ST_STARTING,
    FS_ST_DATABASES,
    FS_ST_LOGS,
    FS_ST_COMPLETE,
    FS_ST_STOPPING,
    FS_ST_FAILED,
    FS_ST_DECIDING,
    FS_ST_ENDED
};

/* An error of the backup: a Jet error (from the engine) or an errno value
 * (from the platform: spool file, memory), never mixed in one int
 * (JET_wrnNyi is -1, the value of -EPERM). */
typedef struct fs_error {
    enum { FS_ERR_NONE = 0, FS_ERR_JET, FS_ERR_ERRNO } kind;
    long code; /* JET_ERR (< 0) or errno value (> 0) */
} fs_error;

/* Constructors of fs_error. */
fs_error fs_err_jet(long jet_err);
fs_error fs_err_errno(int err);
/* "JET_errDiskIO (-1022)" or "errno 28 (No space left on device)", or
 * "none".  Thread-safe (writes only buf). */
void fs_err_format(fs_error e, char *buf, size_t cb);

/* readdir callback: return non-zero to stop (buffer full).  Only ino and
 * is_dir of a are meaningful. */
typedef int (*fs_fill_fn)(void *buf, const char *name, const fs_attr *a);

/* fs_op_open flags (the adapter maps its platform's open flags). */
#define FS_OPEN_WRITE 1u  /* write access asked */
#define FS_OPEN_TRUNC 2u  /* truncation asked */
#define FS_OPEN_CREATE 4u /* creation asked */

enum fs_decision {
    FS_DECIDE_ABORT = 0,   /* End(Abort): incomplete, error, no commit */
    FS_DECIDE_COPY = 1,    /* End(Normal) without truncation */
    FS_DECIDE_TRUNCATE = 2 /* TruncateLog, then End(Normal) */
};

/* Open the backup source the configuration names ([source] endpoint =
 * SOCKET -> bkc_ep_open; otherwise the in-process libjet instance of the
 * [source] directories with its databases attached, bkc_jet_open).  On
 * failure returns the Jet error and writes one line to err.  Main thread,
 * before fs_ctx_new. */
JET_ERR fs_source_open(const fs_config *cfg, bkc_source *src, char *err, size_t cb_err);
/* The in-process hosting parameters of cfg (instance, paths, base name,
 * page and log size; circular and legacy left to the engine) into *p, and
 * cfg's database paths into dbs[FS_CONF_MAX_DBS]; returns their number.
 * The pointers stay valid while cfg does.  Pure; for fs_source_open of
 * each platform. */
size_t fs_source_params(const fs_config *cfg, bkc_host_params *p, const char **dbs);

/* Allocate a context; takes ownership of be (destroyed by fs_ctx_free).
 * 0 or -ENOMEM (or the platform's -errno creating its mutex/condition
 * variables). */
int fs_ctx_new(const fs_config *cfg, const bkc_source *be, fs_ctx **pctx);
/* Begin the backup, learn the databases (full) or the logs (incremental),
 * open the first database, build the label, prepare the spool and start
 * the producer.  Returns 0, or a JET_ERR < 0 with one line in err naming
 * the error; then nothing is left running and a begun backup has been
 * ended with Abort (state ENDED).  The result is always a Jet
 * error (a platform failure is reported as the Jet error that names it:
 * JET_errOutOfMemory, JET_errInvalidPath), never an errno. */
JET_ERR fs_ctx_start(fs_ctx *ctx, char *err, size_t cb_err);
/* Decide and end the backup (see enum fs_decision), stop the producer,
 * remove the spool, log the decision.  Idempotent: later calls return the
 * first decision. */
enum fs_decision fs_ctx_finish(fs_ctx *ctx);
/* Finish (if not yet), close the source (bkc_close), free everything.
 * Safe with NULL.  No other call may run concurrently. */
void fs_ctx_free(fs_ctx *ctx);
/* A signal asked for the unmount (SIGTERM/SIGINT/SIGHUP): stop pulling,
 * and make every operation that waits for the engine return -EIO now, so
 * that the FUSE loop can end promptly; the umount decision then sees what
 * was delivered (anything incomplete aborts).  Idempotent; thread-safe;
 * not async-signal-safe (call it from a thread, not a handler). */
void fs_ctx_interrupt(fs_ctx *ctx, int sig);

/* Operations (paths are absolute within the mount, "/" = root). */
/* Frozen attributes of path; waits under logs/ for the log list and for
 * a database's or log's open (D3).  0, -ENOENT, -ENOTDIR, or -EIO (the
 * wait ended by a failure or a signal). */
int fs_op_getattr(fs_ctx *ctx, const char *path, fs_attr *a);
/* List a directory through fill (the root never waits; logs/ waits for
 * the log list).  0, -ENOENT, -ENOTDIR or -EIO (also once a guard fired).
 * Activity for idle_timeout, as are open and read. */
int fs_op_readdir(fs_ctx *ctx, const char *path, void *buf, fs_fill_fn fill);
/* Open for reading; *fh identifies the file for read/release.  Any of
 * FS_OPEN_WRITE/TRUNC/CREATE -> -EROFS; directories -> -EISDIR; -EIO once
 * a guard fired. */
int fs_op_open(fs_ctx *ctx, const char *path, unsigned flags, uint64_t *fh);
/* Read exactly min(size, st_size - off) bytes, or -EIO (which fails the
 * backup; every read once a guard fired); 0 at/after EOF.  Never fewer
 * bytes. */
int fs_op_read(fs_ctx *ctx, uint64_t fh, char *buf, size_t size, uint64_t off);
/* Forget a handle (nothing to free).  0. */
int fs_op_release(fs_ctx *ctx, uint64_t fh);
/* Totals of the bytes exposed so far (read-only filesystem).  0. */
int fs_op_statfs(fs_ctx *ctx, fs_statfs *sv);
/* No extended attributes: an empty list (0), every name -ENODATA. */
int fs_op_listxattr(fs_ctx *ctx, const char *path, char *list, size_t size);
int fs_op_getxattr(fs_ctx *ctx, const char *path, const char *name, char *value, size_t size);
/* Every ioctl (borg's FS_IOC_GETFLAGS too): -ENOTTY. */
int fs_op_ioctl(fs_ctx *ctx, const char *path, unsigned int cmd);
/* Every write path (write, create, mkdir, unlink, rename, chmod, ...). */
int fs_op_rofs(void);

/* One file of a status snapshot: an engine file (database, log) or a
 * manifest (kind FS_K_MANIFEST / FS_K_LOGMAN: `pulled` is not meaningful). */
typedef struct fs_snap_file {
    char name[264]; /* path in the tree: "bank.edb", "logs/edb00001.log" */
    enum fs_kind kind;
    bool size_known;
    uint64_t delivered, size, pulled;
} fs_snap_file;

/* A status snapshot: everything `status` says, copied under ctx->mu at
 * one instant, so that the text (fs_status_text) and the adapters' other
 * renderings (JSON, the report files) say the same.  Strings are static
 * or copied.  A new status field is one member here plus its line in each
 * renderer.  Rate and ETA: bytes delivered since the start over the time
 * from the start to now, or to the last delivery once every byte was
 * delivered or the backup failed or was decided (so a finished backup's
 * figures stay put). */
typedef struct fs_snapshot {
    enum fs_state state;
    const char *phase;                    /* "databases", "logs", "complete", "failed", "ended" */
    const char *type, *truncate, *policy; /* the INI words */
    bool commit_given;
    fs_snap_file *files; /* engine files in order, then manifest, logs/manifest */
    int nfiles;
    bool logs_known;
    unsigned long log_gen_low, log_gen_high; /* valid with logs_known */
    bool have_committed;
    unsigned long long committed; /* host counter at the roll */
    uint64_t spool_written, spool_cap;
    char spool_dir[FS_CONF_PATH];
    uint64_t dropped_reads;
    uint64_t pull_rate;      /* bytes/s pulled from the engine, last second */
    uint64_t max_rate;       /* [backup] max_rate; 0 = unlimited */
    uint64_t throttle_waits; /* pulls the cap made wait */
    int nwaiting;
    uint64_t max_duration_s, idle_timeout_s; /* the guards ([backup]); 0 = off */
    uint64_t running_s;                      /* since the backup began, guard clock */
    uint64_t idle_s;                         /* without reader activity (0 while active) */
    bool guard_fired;                        /* a guard failed the backup */
    bool failed;
    char error[512];             /* the first error's one line ("" when none) */
    char error_code[128];        /* its Jet error or errno name ("" when none) */
    fs_error err;                /* the first error itself (kind NONE when none) */
    uint64_t bytes_delivered;    /* sum over files (manifests included) */
    uint64_t bytes_total;        /* sum of the sizes known so far */
    bool total_final;            /* every size is known (log list known) */
    double elapsed_s;            /* seconds the rate is computed over */
    double rate;                 /* bytes/s (0 before the first byte) */
    double eta_s;                /* seconds to go at that rate; < 0 unknown */
    enum fs_decision decision;   /* taken, or what umount would take now */
    const char *decision_word;   /* "truncate", "copy", "abort" */
    const char *decision_calls;  /* the Jet calls it makes */
    const char *decision_reason; /* why */
    const char *umount;          /* "now would", "deciding", "done" */
    fs_time start, end;          /* real clock; end valid when ended */
    bool ended;                  /* the decision was carried out */
} fs_snapshot;

/* Fill snap from ctx (takes ctx->mu).  0, or -ENOMEM (snap empty).  Free
 * with fs_snapshot_free. */
int fs_status_snapshot(fs_ctx *ctx, fs_snapshot *snap);
/* Free what a snapshot holds (not snap).  Safe on a zeroed snapshot. */
void fs_snapshot_free(fs_snapshot *snap);
/* The status text of a snapshot into buf (truncated to cb).  Returns 0
 * when healthy, 1 when the backup failed.  Pure. */
int fs_status_text(const fs_snapshot *snap, char *buf, size_t cb);

/* Status text for `esebackupfs status` (phase, per-file delivered/size,
 * progress, spool use, errors, what umount would do now): a snapshot
 * rendered by fs_status_text.  Returns 0 when healthy (no error), 1 when
 * the backup failed (or when out of memory, said in the text). */
int fs_status(fs_ctx *ctx, char *buf, size_t cb);
/* Record an explicit commit (truncate = commit).  Writes one line of
 * answer.  Returns 0 only when the commit is recorded and can still change
 * the umount decision (truncate = commit, no error, decision not taken);
 * 1 when it cannot: the backup failed or truncate is not commit (recorded,
 * no effect), or fs_ctx_finish already took the decision (not recorded;
 * the answer names the decision).  Takes ctx->mu, so a commit either
 * precedes the decision and counts, or follows it and is refused. */
int fs_commit(fs_ctx *ctx, char *buf, size_t cb);

/* A monotonic clock in nanoseconds for the guards (fs_clock_mono_ns by
 * default). */
typedef uint64_t (*fs_clock_fn)(void *arg);
/* For tests: drive the guards from clock(arg) instead of the platform's
 * monotonic clock.  Before fs_ctx_start; clock must be thread-safe. */
void fs_ctx_set_clock(fs_ctx *ctx, fs_clock_fn clock, void *arg);
/* Check the guards now (what the watchdog does at each deadline): fail
 * the backup if one is exceeded.  Returns whether a guard has failed the
 * backup (now or earlier).  Takes ctx->mu.  For tests with an injected
 * clock; harmless at any time. */
bool fs_ctx_check_guards(fs_ctx *ctx);

/* For tests and the benchmark: bytes written to the spool so far, once
 * the hasher and the spooler have caught up with the bytes produced so
 * far (it waits for that; no wait once the backup is complete, failed or
 * stopping). */
uint64_t fs_spool_bytes(fs_ctx *ctx);
/* For tests: the current state and the first error (ctx->mu taken). */
enum fs_state fs_ctx_state(fs_ctx *ctx, fs_error *err);
/* Name of a state ("DATABASES"), a static string. */
const char *fs_state_name(enum fs_state st);

#endif
