/*
 * jetutil.h -- shared declarations of the jetutil admin tool.
 *
 * jetutil is a client of the public API only (include/: jet.h, jetlib.h,
 * endpoint.h); `dump` and `verify` additionally use the read-only on-disk
 * decoders of jetfmt.h (included only where needed), the way esentutl uses
 * ESE's own structure definitions.
 *
 * Instance directory layout (docs/jetutil.1, README.md):
 *   DIR/jetutil.conf   settings: page_size, log_kib, base, legacy
 *   DIR/bank.edb       the bank database
 *   DIR/edb.log, DIR/edbXXXXX.log, DIR/edbtmp.log   logs (base "edb")
 *   DIR/edb.chk        checkpoint
 *
 * Bank layout (fixed-size records, little-endian u64 fields):
 *   record 0           metadata: magic, accounts, total, shards
 *   records 1..S       transfer-counter shards (S = JU_SHARDS); the sum is
 *                      the number of transfers the database holds
 *   records S+1..S+N   account balances
 *
 * Thread safety: the helpers below keep no global state; a ju_bank (one
 * session) is used by one thread at a time.
 */
#ifndef JETUTIL_H
#define JETUTIL_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "jet.h"
#include "jetlib.h"

#define JU_SETTINGS "jetutil.conf"
#define JU_DBNAME "bank.edb"
#define JU_BASE "edb"
#define JU_LEGACY (JET_bitESE98FileNames | JET_bitEightDotThreeSoftCompat)
#define JU_SHARDS 64
#define JU_MAGIC 0x314B4E41424A554AULL /* "JUJBANK1" */
#define JU_INITIAL_BALANCE 1000ULL
#define JU_PATH 4096

/* Propagate: rc = f(); if (rc < 0) goto out;  (warnings are >= 0) */
#ifndef JCALL
#define JCALL(expr) \
    do { \
        rc = (expr); \
        if (rc < 0) \
            goto out; \
    } while (0)
#endif

/* Exit codes: 0 success, 1 failure (engine error, check failed), 2 usage. */
#define JU_EXIT_FAIL 1
#define JU_EXIT_USAGE 2

/* ---- instance settings (DIR/jetutil.conf) ---- */
typedef struct ju_settings {
    unsigned long page_size;   /* JET_paramDatabasePageSize */
    unsigned long log_kib;     /* JET_paramLogFileSize */
    unsigned long record_size; /* JETLIB_paramRecordSize for create */
    char base[JET_BASE_NAME_LENGTH + 1];
    unsigned long legacy;         /* JET_paramLegacyFileNames */
    unsigned long checkpoint_kib; /* JETLIB_paramCheckpointKiB, 0 = engine default */
    bool circular;                /* JET_paramCircularLog (serve --circular; not stored) */
} ju_settings;

/* Defaults: 4096-byte pages, 1024 KiB logs, 64-byte records, base edb. */
void ju_settings_default(ju_settings *s);
/* Read DIR/jetutil.conf.  Returns 0, or -1 after printing one line
 * (`jetutil CMD: PATH: what is wrong`) on a missing or malformed file. */
int ju_settings_read(const char *cmd, const char *dir, ju_settings *s);
/* Write DIR/jetutil.conf (temp file + rename, fsync).  0 or -1 (printed). */
int ju_settings_write(const char *cmd, const char *dir, const ju_settings *s);

/* ---- an instance hosted in this process ---- */
typedef struct ju_inst {
    JET_INSTANCE inst;
    bool created, inited;
    char dir[JU_PATH];         /* absolute, with a trailing '/' */
    char dbpath[JU_PATH + 16]; /* DIR/bank.edb, absolute */
    ju_settings s;
} ju_inst;

/* Create the instance for directory dir (must exist) with settings s, set
 * its parameters and run JetInit (soft recovery).  Returns a Jet error;
 * on failure everything is released.  Not thread-safe per ju_inst. */
JET_ERR ju_inst_open(ju_inst *ji, const char *dir, const ju_settings *s);
/* JetTerm2(TermComplete) (falls back to JetTerm) once; safe twice. */
JET_ERR ju_inst_close(ju_inst *ji);

/* ---- the bank ---- */
typedef struct ju_bank {
    JET_SESID ses;
    JET_DBID db;
    bool have_ses, have_db;
    uint64_t accounts, total, shards;
} ju_bank;

/* Begin a session and open (attaching if needed) the bank database; reads
 * and checks the metadata record (JET_errDatabaseCorrupted if the magic is
 * wrong).  On failure the session is ended. */
JET_ERR ju_bank_open(ju_inst *ji, ju_bank *b);
void ju_bank_close(ju_bank *b);
/* One random transfer using shard `shard` (0-based), retrying on
 * JET_errWriteConflict until it commits or `*stop` (a C11 atomic, read with
 * relaxed order: it only ends the loop) becomes true (then 1 is
 * returned and nothing was committed).  0 = committed durably. */
JET_ERR ju_bank_transfer(ju_bank *b, unsigned shard, uint64_t *rng, const atomic_bool *stop);
/* Sum of the shards (transfers) and of the balances, read in one
 * transaction. */
JET_ERR ju_bank_sums(ju_bank *b, uint64_t *ptransfers, uint64_t *pbalances);
/* Sum of the shards only (the transfer counter). */
JET_ERR ju_bank_transfers(ju_bank *b, uint64_t *ptransfers);
/* The bank's transfer counter as it stands before a run (open the bank of
 * ji, read, close) into *base.  0, or the JET_ERR after printing it
 * ("jetutil CMD: PATH: ...").  No locking: call before writers start. */
JET_ERR ju_bank_base(const char *cmd, ju_inst *ji, uint64_t *base);

/* ---- the workload runner (workload and serve) ---- */
typedef struct ju_runner ju_runner;
/* Start T worker threads (each its own session) on an open instance.
 * Must be called with SIGTERM/SIGINT blocked (threads inherit the mask). */
JET_ERR ju_runner_start(ju_inst *ji, unsigned threads, ju_runner **pr);
/* Transfers committed durably by the runner since start (thread-safe). */
uint64_t ju_runner_committed(ju_runner *r);
/* First worker error (0 if none) -- thread-safe. */
JET_ERR ju_runner_error(ju_runner *r);
/* Stop and join the workers (the counter is then final).  Safe twice. */
void ju_runner_stop_workers(ju_runner *r);
/* Stop and join the workers, end their sessions, free.  Safe with NULL. */
void ju_runner_stop(ju_runner *r);
/* Block SIGTERM/SIGINT in the calling thread (before starting threads). */
int ju_block_signals(void);
/* Wait up to ms milliseconds for SIGTERM/SIGINT (blocked beforehand):
 * 1 if one arrived, 0 on timeout. */
int ju_wait_signal(long ms);

/* ---- small helpers (util.c) ---- */
/* Print `jetutil CMD: WHAT: JET_errName (code)` to stderr. */
void ju_jet_error(const char *cmd, const char *what, JET_ERR err);
/* Print `jetutil CMD: ` + formatted message + newline to stderr. */
/* Usage line of each command: shown by the command on a usage error and
 * by `jetutil --help` (one definition, so the two cannot drift). */
#define JU_USAGE_CREATE \
    "jetutil create DIR [--accounts N] [--page-size BYTES] [--log-size KIB] [--record-size " \
    "BYTES] [--checkpoint-kib KIB]"
#define JU_USAGE_WORKLOAD "jetutil workload DIR [--threads T] [--seconds S]"
#define JU_USAGE_VERIFY "jetutil verify DIR"
#define JU_USAGE_DUMP "jetutil dump FILE"
#define JU_USAGE_SERVE "jetutil serve DIR --endpoint SOCKET [--threads T] [--circular]"
#define JU_USAGE_BACKUP \
    "jetutil backup (--endpoint SOCKET | DIR) DEST [--incremental] [--truncate] [--max-rate RATE]"
#define JU_USAGE_RESTORE "jetutil restore [--check] BACKUPDIR [INCRDIR...] TARGETDIR"

void ju_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Next "key=value" line of a small settings or label file ('#' comments and
 * blank lines skipped).  1 with *key and *val pointing into line, 0 at the end,
 * -1 after printing "PATH:LINE: ..." for a line without '=' or a read
 * error.  *lineno counts lines. */
int ju_kv_next(FILE *f, const char *cmd, const char *path, int *lineno, char *line, size_t cbline,
               char **key, char **val);
/* Parse an unsigned decimal in [lo, hi]; 0 or -1 (printed usage error). */
int ju_parse_ulong(const char *cmd, const char *opt, const char *val, unsigned long lo,
                   unsigned long hi, unsigned long *out);
/* Absolute path of dir with a trailing '/'; -1 if it does not resolve. */
int ju_absdir(const char *dir, char *out, size_t cb);
/* 0 if path does not exist or is an empty directory (*existed tells which),
 * -1 otherwise (errno set: ENOTEMPTY, ENOTDIR, ...). */
int ju_dir_absent_or_empty(const char *path, bool *existed);
/* Remove a directory tree (no symlink following).  0 or -1. */
int ju_rm_tree(const char *path);
/* Copy file src to dst (created, must not exist unless overwrite), fsync.
 * 0 or -1 with errno. */
int ju_copy_file(const char *src, const char *dst, bool overwrite);
/* fsync a directory.  0 or -1. */
int ju_fsync_dir(const char *dir);

/* Write-behind for a large file written front to back (jetutil backup):
 * once JU_FLUSH_CHUNK more bytes were written, start their writeback and
 * wait for the chunk before it, so at most two chunks are dirty and the
 * final fsync finds little to do -- a copy then paces itself at the
 * disk's speed instead of stalling for seconds at the end (which a
 * --max-rate cap could not catch up, and which hits the live engine's
 * log writes on the same disk as one burst).  Linux sync_file_range;
 * elsewhere, or on a file system that does not support it, nothing (the
 * fsync at the end does it all). */
#define JU_FLUSH_CHUNK (8u << 20)
typedef struct ju_flush {
    uint64_t started; /* writeback started for [0, started) */
    uint64_t waited;  /* writeback finished for [0, waited) */
    bool off;         /* not supported here: do nothing */
} ju_flush;
/* After written bytes of fd were written (a running total).  0, or -1
 * with errno (EIO, ENOSPC...: the write-back failed, as fsync would). */
int ju_flush_behind(ju_flush *fl, int fd, uint64_t written);

/* ---- files where a regular file is expected (issue 7 item 10) ----
 * jetutil never blocks on, reads or writes a FIFO, device, socket or
 * directory standing where a file is expected. */
/* "a FIFO", "a character device", "a block device", "a socket",
 * "a directory", "a symbolic link" or "not a regular file" (static). */
const char *ju_file_kind(mode_t mode);
/* open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode) -- so that
 * neither a FIFO nor a device can block the open -- then fstat: a regular
 * file gets O_NONBLOCK cleared and its fd returned.  Anything else is
 * closed and -1 returned with errno = EFTYPE_JU and *pmode = its st_mode
 * (for ju_file_kind); on an open/fstat error -1 with errno, *pmode = 0. */
#define EFTYPE_JU EINVAL
int ju_open_regular(const char *path, int flags, mode_t mode, mode_t *pmode);
/* ju_open_regular for reading as a stdio stream ("r").  NULL with errno
 * and *pmode as above. */
FILE *ju_fopen_read(const char *path, mode_t *pmode);
/* Print `jetutil CMD: PATH: <strerror or "a FIFO, not a regular file">`
 * (+ " (HINT)" when hint is not NULL) for a failed ju_open_regular. */
void ju_open_error(const char *cmd, const char *path, mode_t mode, const char *hint);
/* Before the engine opens an instance directory: every entry of dir that
 * is one of the instance's files (jetutil.conf, bank.edb, BASE.chk/.jcp,
 * BASE*.log/.jtx, BASE.jlk) must be a regular file, checked with lstat +
 * stat (neither blocks).  0, or -1 after printing
 * `jetutil CMD: PATH (a FIFO, not a regular file): JET_errFileInvalidType`.
 * A file replaced between this check and the engine's open is not caught
 * (the engine's opens are libjet's; its log reader opens read-only). */
int ju_check_instance_files(const char *cmd, const char *dir, const char *base);
double ju_now(void);               /* monotonic seconds */
uint64_t ju_rand(uint64_t *state); /* xorshift64* */

/* ---- offline file checks (dump.c) ----
 * Read and verify the header of a database (either shadow copy), log file
 * or checkpoint file (either copy).  Errors: JET_errFileNotFound,
 * JET_errDatabaseCorrupted / JET_errLogFileCorrupt / JET_errCheckpointCorrupt
 * (truncated, bad checksum, wrong file type), JET_errDiskIO.  Never writes.
 * The structs are jetfmt.h's (complete there; only pointers here). */
struct jf_dbhdr;
struct jf_loghdr;
struct jf_chk;
JET_ERR ju_check_db_header(const char *path, struct jf_dbhdr *h);
JET_ERR ju_check_log_header(const char *path, struct jf_loghdr *h);
JET_ERR ju_check_checkpoint(const char *path, struct jf_chk *c);
/* Empty directory dir (keep dir itself).  0 or -1. */
int ju_rm_contents(const char *dir);

/* ---- subcommands ---- */
int cmd_create(int argc, char **argv);
int cmd_workload(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_bench_read(int argc, char **argv);

/* ---- option parsing (opts.c) ---- */
typedef struct ju_opt {
    const char *name; /* "--threads" */
    bool has_arg;
    const char **value; /* set to the argument (has_arg) */
    bool *flag;         /* set true (!has_arg) */
} ju_opt;
/* Parse argv[1..] (argv[0] = subcommand): options from opts, positional
 * arguments collected into pos (at most npos_max).  `--help`/`-h` prints
 * usage to stdout and returns 1; errors print one usage line to stderr and
 * return -1; success returns 0 with *npos set. */
int ju_parse(int argc, char **argv, const ju_opt *opts, const char **pos, int npos_max, int *npos,
             const char *usage);

#endif /* JETUTIL_H */
