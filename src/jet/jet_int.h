/*
 * jet_int.h -- libjet's internal interfaces, shared by the engine modules
 * (instance.c, session.c, db.c, log_*.c, recovery.c) and the backup/restore
 * modules (backup.c, restore.c).  Not installed; not for applications.
 *
 * Module map (one subsystem per file):
 *   format.c    on-disk formats (format.h)
 *   rangelock.c page-range locks between backup readers and page writers
 *   fileio.c    whole-buffer positional I/O, errno -> Jet error
 *   log_write.c log writer: generations, append, group commit, roll,
 *               archived generations on disk
 *   log_read.c  sequential log reader (jlr_*, public in jetfmt.h),
 *               torn-tail repair
 *   checkpoint.c the checkpoint file (jchk_*)
 *   db.c        database files: header, page cache, record access,
 *               raw page reads for backup
 *   session.c   sessions, transactions, record locks, the record API
 *   instance.c  instances, parameters, JetInit/JetTerm, checkpointer,
 *               circular logging
 *   recovery.c  soft recovery's driver (jinst_recover) and the redo of log
 *               records (soft recovery and restore)
 *   backup.c    external backup API (spec sections 2-5)
 *   restore.c   JetExternalRestore / hard recovery (spec section 7)
 *   attach.c    create/attach/detach/open/close database
 *   errname.c   JetLibErrorName
 * The endpoint (src/endpoint) is not an engine module: it uses the public
 * headers only.
 *
 * Lock order (outer to inner), never taken the other way round:
 *   inst->bk_lock -> inst->ckpt_lock -> inst->lock -> db->hdr_lock
 *   -> log lock -> db cache lock -> rangelock.
 * Commits apply their after-images to the cache while holding the log lock
 * (cache order = log order); nothing takes the log lock while holding a
 * cache lock.
 * The backup context lock is outermost because backup calls read pages and
 * roll the log while holding it; no engine path takes it.
 */
#ifndef JET_INT_H
#define JET_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "format.h"
#include "jetlib.h"
#include "os.h"

typedef struct jet_inst jet_inst;
typedef struct jet_db jet_db;
typedef struct jet_log jet_log;
typedef struct jet_cache jet_cache;
typedef struct jet_backup jet_backup;
typedef struct jet_session jet_session;

/* Propagate: rc = f(); if (rc < 0) goto out;  (warnings are >= 0) */
#define JCALL(expr) \
    do { \
        rc = (expr); \
        if (rc < 0) \
            goto out; \
    } while (0)

/* ---- fileio.c: whole-buffer positional I/O ---- */
#include <sys/types.h>
int jio_pwrite(int fd, const void *buf, size_t cb, off_t off);        /* 0 or errno */
int jio_pread(int fd, void *buf, size_t cb, off_t off, size_t *pgot); /* zero-fills past EOF */
int jio_fsync_dir(const char *path); /* fsync path's directory: 0 or errno */
JET_ERR jio_err(int e);              /* ENOSPC/EDQUOT -> JET_errDiskFull, else JET_errDiskIO */
JET_ERR jio_log_err(int e); /* ENOSPC/EDQUOT -> JET_errLogDiskFull, else JET_errLogWriteFail */

/* ---- rangelock.c: exclusive locks on page ranges [lo, hi] ---- */
typedef struct jet_rangelock {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct {
        uint32_t lo, hi;
        bool used;
    } held[16];
} jet_rangelock;
void jrl_init(jet_rangelock *rl);
void jrl_destroy(jet_rangelock *rl);
void jrl_lock(jet_rangelock *rl, uint32_t lo, uint32_t hi); /* blocks on overlap */
void jrl_unlock(jet_rangelock *rl, uint32_t lo, uint32_t hi);

/* ---- instance ---- */
enum jet_inst_state { JI_CREATED, JI_RUNNING, JI_TERMINATING };

struct jet_inst {
    pthread_mutex_t lock; /* state, dbs[], sessions, params */
    enum jet_inst_state state;
    char name[64];
    /* parameters (absolute paths with a trailing '/') */
    char sys_path[JF_PATH_MAX];
    char log_path[JF_PATH_MAX];
    /* JET_paramAlternateDatabaseRecoveryPath ("" = unset).  Soft recovery
     * opens only the instance's own database files: a database recorded in
     * the logs is used at its recorded path when that path is in sys_path or
     * log_path, else the file of the same name in log_path (a copied or
     * moved instance directory recovers its own copy); with this parameter
     * always the file of that name in alt_db_path. */
    char alt_db_path[JF_PATH_MAX];
    char base[JET_BASE_NAME_LENGTH + 1];
    unsigned log_kib; /* JET_paramLogFileSize */
    bool circular;
    unsigned cb_page; /* JET_paramDatabasePageSize */
    unsigned legacy;  /* JET_paramLegacyFileNames */
    bool create_path;
    bool recovery;      /* JET_paramRecovery ("On") */
    unsigned cb_record; /* JETLIB_paramRecordSize */
    unsigned checkpoint_kib;
    int lock_fd; /* flock on <sys>/<base>.chk.lock: one process */

    jet_log *log;
    jet_db *dbs[JF_MAX_DBS + 1]; /* by dbid, 1..JF_MAX_DBS; NULL = free */
    unsigned nsessions;

    /* checkpointer (instance.c) */
    pthread_mutex_t ckpt_lock; /* one checkpoint at a time; attach/detach */
    pthread_t ckpt_thread;
    bool ckpt_running, ckpt_stop;
    pthread_cond_t ckpt_cv;
    jf_lgpos ckpt_lgpos; /* checkpoint last written to disk */

    /* record locks (session.c) */
    struct jet_locktab *locks;

    /* backup (backup.c); bk_lock outermost, see above */
    pthread_mutex_t bk_lock;
    jet_backup *bk;
    bool bk_active;  /* a backup is in progress: pin all logs */
    bool bk_allowed; /* JetInit completed, not terminating */

    /* ---- added by the engine (session.c / instance.c own these) ---- */
    jet_session *sessions; /* live sessions of the instance (inst->lock) */
    /* Test-only fault hook (jinst_set_fault_hook): NULL in production. */
    void (*fault)(void *arg, const char *point);
    void *fault_arg;
};

/* Resolve a handle; NULL if it is not a live instance. */
jet_inst *jinst_get(JET_INSTANCE instance);
/* Checkpoint generation on disk now (what Begin uses for CopyMic). */
JET_ERR jinst_read_checkpoint(jet_inst *inst, jf_chk *chk);
/* Full checkpoint: flush every dirty page, write the checkpoint file,
 * then (circular logging, no backup active) delete logs below it. */
JET_ERR jinst_checkpoint(jet_inst *inst);
/* Path of the checkpoint file (<system path><base>.chk). */
void jinst_chk_path(const jet_inst *inst, char *buf, size_t cb);
/* Absolute path of archived generation gen in the log directory. */
void jinst_log_path(const jet_inst *inst, uint32_t gen, char *buf, size_t cb);
/* Test-only fault injection.  The engine calls jinst_fault(inst, POINT)
 * at named crash windows; it does nothing unless a test installed a hook
 * with jinst_set_fault_hook before JetInit (production code never does:
 * the cost is one NULL test per point).  A hook typically SIGKILLs the
 * process to simulate a crash exactly there.  Install it only while no
 * thread uses the instance.  Errors: JET_errInvalidInstance.  Points:
 *   log.roll.archived    <base>.log renamed to <base><GEN>.log, the new
 *                        generation not yet renamed in (only tmp exists)
 *   log.roll.tmp_written new generation written as <base>tmp.log, not
 *                        yet renamed to <base>.log (also at JetInit)
 *   chk.new_written      new checkpoint in <chk>.new, not yet renamed
 *   ckpt.flushed         checkpoint: pages flushed, checkpoint not written
 *   ckpt.written         checkpoint written, circular deletion not done
 *   ckpt.deleting        circular deletion: oldest log deleted, others not
 *   db.hdr.copy0         database header copy 0 written, copy 1 not yet
 *   init.archived        JetInit: recovered <base>.log archived (hard
 *                        link: <base>.log still there), the new
 *                        generation not created yet
 * src/jet/tests/test_engine_crash.c kills a writer at each of them. */
JET_ERR jinst_set_fault_hook(JET_INSTANCE instance, void (*fn)(void *arg, const char *point),
                             void *arg);
void jinst_fault(jet_inst *inst, const char *point);
/* Find the attached database whose absolute path equals path (exact
 * match after realpath of the directory); NULL if none.  inst->lock held. */
jet_db *jinst_find_db(jet_inst *inst, const char *abspath);

/* ---- log_write.c, log_read.c, checkpoint.c ---- */
/* Open the log for appending after recovery: makes <base>.log the current
 * generation `gen` (creating it), pre-creates <base>tmp.log. */
JET_ERR jlog_open(jet_inst *inst, uint32_t gen, jf_logtime time_prev, const jf_sig *sign_log,
                  jet_log **plog);
/* The attach list and checkpoint recorded in the header of the next
 * generation; attach/detach and the checkpointer keep it current. */
void jlog_set_attach(jet_log *log, const jf_attach_list *attach);
void jlog_set_checkpoint(jet_log *log, jf_lgpos chk);
/* Log bytes appended since the last jlog_set_checkpoint. */
uint64_t jlog_bytes_since_checkpoint(jet_log *log);
void jlog_close(jet_log *log); /* flushes; leaves files in place */
/* Append one record; returns its start position in *ppos and an opaque
 * end-LSN in *plsn for jlog_flush_to.  Rolls the log when the current file
 * is full.  Errors: JET_errLogWriteFail, JET_errLogDiskFull. */
JET_ERR jlog_append(jet_log *log, uint8_t type, const void *body, uint32_t cb, jf_lgpos *ppos,
                    uint64_t *plsn);
/* Like jlog_append but calls fn(arg) while the log lock is held, after the
 * record has its position: commits apply their writes to the cache there so
 * that cache order equals log order. */
JET_ERR jlog_append_fn(jet_log *log, uint8_t type, const void *body, uint32_t cb,
                       void (*fn)(void *arg, uint64_t lsn), void *arg, jf_lgpos *ppos,
                       uint64_t *plsn);
JET_ERR jlog_flush_to(jet_log *log, uint64_t lsn); /* group commit */
JET_ERR jlog_flush_all(jet_log *log);
/* Pre-create <base>tmp.log for the next generation (zero-filled) if it
 * is not ready, without holding the log lock during the I/O.  Called by
 * the checkpointer thread after a roll wakes it. */
void jlog_prepare_next(jet_log *log);
/* Make the log refuse every later append and flush with err (a fatal
 * engine error, e.g. JET_errInstanceUnavailable). */
void jlog_poison(jet_log *log, JET_ERR err);
/* Archive the current generation and start the next; *pgen = new current. */
JET_ERR jlog_roll(jet_log *log, uint32_t *pgen);
uint32_t jlog_current_gen(jet_log *log);
jf_lgpos jlog_tip(jet_log *log); /* next append position */
jf_sig jlog_signature(jet_log *log);
/* Oldest archived generation present in the log directory.
 * JET_errFileNotFound if there is none. */
JET_ERR jlog_oldest_gen(const jet_inst *inst, uint32_t *pgen);
/* Highest archived generation present (0 if none). */
JET_ERR jlog_newest_gen(const jet_inst *inst, uint32_t *pgen);
/* Delete archived generations lo..hi-1 in increasing order; missing files
 * are skipped; the first other failure is returned (JET_errDiskIO). */
JET_ERR jlog_delete_range(const jet_inst *inst, uint32_t lo, uint32_t hi);

/* Write a brand-new, empty log file (header + zero segments), fsynced.
 * Used by log_write.c itself and by restore.c. */
JET_ERR jlog_create_file(const char *path, const jf_loghdr *hdr, unsigned log_kib);

/* The sequential log reader (jlr_open/next/close) is public: jetfmt.h. */
/* Blank every segment of the log at path past the end of its data (the
 * torn tail of an interrupted flush) and fdatasync; see log_read.c. */
JET_ERR jlog_repair_tail(const char *path);
/* Position just after the last record returned by jlr_next. */
jf_lgpos jlr_tell(const jet_logreader *r);

/* Checkpoint file I/O (shadowed: both copies written, either one read). */
JET_ERR jchk_write(const char *path, const jf_chk *chk);
/* jchk_write with the instance's fault points ("chk.new_written"). */
JET_ERR jchk_write_inst(jet_inst *inst, const char *path, const jf_chk *chk);
/* JET_errCheckpointFileNotFound if missing, JET_errCheckpointCorrupt if
 * neither copy verifies. */
JET_ERR jchk_read(const char *path, jf_chk *chk);

/* ---- db.c ---- */
struct jet_db {
    jet_inst *inst;
    uint32_t dbid;
    char path[JF_PATH_MAX]; /* absolute */
    int fd;
    uint32_t cb_page, cb_record, recs_per_page;
    pthread_mutex_t hdr_lock; /* hdr and header writes */
    jf_dbhdr hdr;
    jet_cache *cache;
    jet_rangelock rl; /* page I/O: backup reads vs page writes */
    unsigned nopen;   /* sessions that opened it (inst->lock) */
    /* backup session state, owned by backup.c under inst->bk_lock */
    bool bk_in_session, bk_copy_done;
};

/* Database file ownership: every database file an instance attaches or
 * recovery/restore replays into is held open with an exclusive flock
 * (jdb_lock_open) for the life of that use, so a second holder -- another
 * process, another instance of this process, a recovery run from a copied
 * instance directory -- gets JET_errFileAccessDenied before it reads or
 * writes anything.  Plain reads (backup page reads through the holder's
 * descriptor, JetLibVerifyDatabaseFile, header peeks) take no lock. */
/* Open path O_RDWR (create: O_CREAT, never truncating) and flock it
 * LOCK_EX|LOCK_NB; *pfd gets the descriptor.  Errors: JET_errFileNotFound,
 * JET_errInvalidPath, JET_errFileAccessDenied, JET_errDiskIO. */
JET_ERR jdb_lock_open(const char *path, bool create, int *pfd);
/* Truncate the locked file fd and write a new JustCreated header (both
 * copies, fsynced).  Errors: JET_errDiskIO, JET_errDiskFull. */
JET_ERR jdb_init_fd(int fd, uint32_t cb_page, uint32_t cb_record, const jf_sig *sign_db,
                    const jf_sig *sign_log, uint32_t dbid);
/* Create a new database file (JustCreated header, no data pages), locked
 * before anything is written; with pfd the locked descriptor is returned
 * (pass it to jdb_open), else it is closed.  Errors:
 * JET_errDatabaseDuplicate, JET_errFileAccessDenied, JET_errInvalidPath,
 * JET_errDiskIO, JET_errDiskFull. */
JET_ERR jdb_create_file(const char *path, uint32_t cb_page, uint32_t cb_record,
                        const jf_sig *sign_db, const jf_sig *sign_log, uint32_t dbid,
                        bool overwrite, int *pfd);
/* Open an existing database file (fd: a locked descriptor from
 * jdb_create_file/jdb_lock_open, owned from here on, or -1 to open and
 * lock abspath); reads and verifies the header (either copy).  The lock is
 * held until jdb_close.  Errors: JET_errFileNotFound,
 * JET_errDatabaseCorrupted, JET_errFileAccessDenied (also: locked by
 * another holder), JET_errDiskIO. */
JET_ERR jdb_open(jet_inst *inst, const char *abspath, int fd, uint32_t dbid, jet_db **pdb);
void jdb_close(jet_db *db);
/* Read and verify the header of a database file without opening it as a
 * database.  Errors: JET_errFileNotFound, JET_errFileAccessDenied,
 * JET_errDatabaseCorrupted, JET_errDiskIO. */
JET_ERR jdb_read_header_file(const char *path, jf_dbhdr *h); /* caller flushed; frees the cache */
/* Last owned page now (logical size; may exceed the file on disk). */
uint32_t jdb_pgno_last(jet_db *db);
void jdb_header_snapshot(jet_db *db, jf_dbhdr *out);
/* Apply fn to the in-memory header and write both copies (fsync). */
JET_ERR jdb_update_header(jet_db *db, void (*fn)(jf_dbhdr *h, void *arg), void *arg);
/* Read cpg pages starting at pgno straight from the file (not the cache)
 * under the range lock, verifying each (blank pages pass; pages beyond the
 * end of the file read as blank).  Retries a failing chunk a few times.
 * Errors: JET_errReadVerifyFailure, JET_errReadPgnoVerifyFailure,
 * JET_errDiskIO. */
JET_ERR jdb_read_pages_raw(jet_db *db, uint32_t pgno, uint32_t cpg, void *buf);
/* Record access through the cache (session.c uses these). */
JET_ERR jdb_read_record(jet_db *db, uint64_t recno, void *pv, uint32_t cb);
/* Apply a committed write to the cache; called in log order under the log
 * lock (via jlog_append_fn); lsn = end of the commit record. */
JET_ERR jdb_apply_write(jet_db *db, uint64_t recno, const void *pv, uint32_t cb, uint64_t lsn);
/* Write every dirty page (WAL: log flushed first), fsync the file. */
JET_ERR jdb_flush(jet_db *db);
/* Load the page holding record recno into the cache (verified) and pin
 * it: a pinned page is never evicted, so jdb_apply_write on that record
 * cannot fail for want of memory or I/O.  Each pin is undone by one
 * jdb_unpin_record.  Errors: those of the page read, JET_errOutOfMemory,
 * JET_errRecordNotFound. */
JET_ERR jdb_pin_record(jet_db *db, uint64_t recno);
void jdb_unpin_record(jet_db *db, uint64_t recno);

/* ---- session.c ---- */
struct jet_locktab *jlt_create(void);
void jlt_destroy(struct jet_locktab *t);
jet_session *jsess_get(JET_SESID sesid);
jet_inst *jsess_inst(jet_session *s);
/* Called with inst->lock held (attach.c); the session remembers the
 * jet_db of an open dbid, which stays attached while it is open. */
void jsess_set_open(jet_session *s, uint32_t dbid, bool open);
bool jsess_is_open(jet_session *s, uint32_t dbid);
/* true if s has an open transaction with writes to dbid (closing or
 * detaching that database is refused with JET_errInTransaction). */
bool jsess_txn_touches(jet_session *s, uint32_t dbid);
/* JetTerm: free every session of inst (open transactions are rolled back,
 * their handles become invalid: later calls get JET_errInvalidSesid).
 * inst->lock held. */
void jsess_term_all(jet_inst *inst);

/* ---- attach.c ---- */
/* Canonical absolute path of a file whose directory exists (the file need
 * not).  JET_errInvalidPath. */
JET_ERR jet_abspath(const char *in, char *out, size_t cb);
/* Detach every database (flush, DETACH record, clean header); force
 * ignores open sessions.  inst->lock held. */
JET_ERR jinst_detach_all(jet_inst *inst, bool force);
/* Current attach list of the instance.  inst->lock held. */
void jinst_attach_list(jet_inst *inst, jf_attach_list *out);

/* ---- recovery.c: soft recovery and redo ---- */
/* Soft recovery, JetInit's part.  Everything is checked before anything is
 * changed (the checkpoint, the current log or the <base>tmp.log of an
 * interrupted roll, and in jet_redo's first pass every log from the
 * checkpoint on).  On success *pgen_next is the generation to start,
 * *ptprev the creation time of the one before it, *psig the log stream's
 * signature, and the recovered <base>.log is archived (hard link; jlog_open
 * replaces <base>.log).  Errors: JET_errCheckpointCorrupt,
 * JET_errLogFileCorrupt, JET_errMissingLogFile,
 * JET_errBadCheckpointSignature, JET_errInvalidLogSequence,
 * JET_errLogFileSizeMismatch, JET_errLogWriteFail, JET_errOutOfMemory,
 * JET_errSoftRecoveryOnBackupDatabase and those of jet_redo.  Caller holds
 * inst->ckpt_lock and inst->lock (JetInit); the instance serves no one. */
JET_ERR jinst_recover(jet_inst *inst, uint32_t *pgen_next, jf_logtime *ptprev, jf_sig *psig);
typedef struct jet_redo_args {
    const char *log_dir; /* directory holding the logs (trailing '/') */
    const char *base;
    unsigned legacy;
    uint32_t gen_first, gen_last; /* archived generations to replay */
    bool include_current;         /* then <base>.log if its gen == gen_last+1 */
    jf_lgpos start;               /* records before this are skipped */
    const jf_attach_list *attach; /* databases attached at start */
    /* orig -> path to apply to; NULL means skip this database */
    const char *(*map)(void *arg, const char *orig_path);
    void *map_arg;
    const jf_sig *sign_log; /* expected log signature (NULL: take first) */
    const char *cur_path;   /* the current log (NULL: <log_dir><base>.log) */
    unsigned cb_page_default;
    /* results */
    jf_lgpos end;               /* position after the last record */
    uint32_t gen_end;           /* last generation read */
    jf_logtime time_create_end; /* tmCreate of that generation */
    jf_sig sign_log_seen;
    jf_attach_list attach_end; /* attachments at the end */
} jet_redo_args;
/* Two passes.  The first only reads: every log file of the range must be
 * present (else JET_errMissingLogFile), carry its generation and the
 * stream's signature (JET_errBadLogSignature), chain to the one before by
 * tmPrevGen (JET_errInvalidLogSequence) and parse to its end
 * (JET_errLogFileCorrupt), a file where the logs create a database must be
 * one they create there (JET_errBadDbSignature), and one they attach must
 * not be dirty under another stream (JET_errBadLogSignature) -- so a
 * missing, foreign or damaged log or database changes nothing.  The second replays committed records into the database files
 * directly (pread / pwrite of whole pages, page checksums recomputed),
 * fsyncs them, and marks every database it touched clean (dbstate CLEAN,
 * lgpos_consistent = end).  Each database is opened through map and locked
 * (jdb_lock_open) for the whole replay.  Before the first record is
 * replayed, every database attached at the start position is opened and
 * its header's log signature compared with the stream's
 * (JET_errBadLogSignature: the file belongs to another log stream); a
 * database the logs need that is missing gives
 * JET_errAttachedDatabaseMismatch (ESE's name), also for a database the
 * logs create when map relocates it and nothing is there (checked in the
 * first pass: recovery creates files only where the logs named them).  Refuses an un-restored
 * backup copy (full_cur.gen_low != 0 and gen_high == 0) with
 * JET_errSoftRecoveryOnBackupDatabase.
 * Errors also: JET_errFileAccessDenied (another holder has a database),
 * JET_errDatabaseCorrupted, JET_errDiskIO. */
JET_ERR jet_redo(jet_redo_args *a);

/* ---- backup.c hooks called by the engine ---- */
JET_ERR jbk_create(jet_inst *inst); /* at JetCreateInstance */
void jbk_destroy(jet_inst *inst);
/* JetTerm2: with stop (TermStopBackup/TermAbrupt) a running backup is
 * ended with abort; without it, a running backup gives
 * JET_errBackupInProgress.  Takes bk_lock. */
JET_ERR jbk_on_term(jet_inst *inst, bool stop);
/* true while a backup is in progress (attach/detach refuse with -505). */
bool jbk_in_progress(jet_inst *inst);

#endif /* JET_INT_H */
