/*
 * jetlib.h -- libjet's own extensions to the Jet API (not in esent.h).
 *
 * Real Jet tables are out of scope: a database holds fixed-size records
 * addressed by number (0 .. count-1).  The record size is chosen when the
 * database is created (JETLIB_paramRecordSize, default 64 bytes) and stored
 * in the database header.  Records that were never written read as zeros.
 *
 * Concurrency control is strict two-phase locking with no waiting, as ESE
 * reports write conflicts: JetLibLockRecord / JetLibWriteRecord take an
 * exclusive record lock held until commit or rollback; if another session
 * holds it they fail at once with JET_errWriteConflict and the caller rolls
 * back and retries.  JetLibReadRecord returns the latest committed value, or
 * the session's own uncommitted write; lock a record before reading it to get
 * a serialisable read-modify-write.
 *
 * Thread safety: as jet.h.  A session is used by one thread at a time.
 */
#ifndef JETLIB_H
#define JETLIB_H

#include "jet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* libjet-only system parameters (ids far from esent.h's) */
#define JETLIB_paramRecordSize 0x10001    /* bytes per record for new databases, 8..1024 */
#define JETLIB_paramCheckpointKiB 0x10002 /* log bytes between checkpoints (default 4 x log size) */

/* ESE's recovery-only parameter (esent.h id 113), a directory: soft
 * recovery opens every database recorded in the logs under its file name in
 * this directory instead of the recorded path (docs/architecture.md,
 * "Recovery opens only the instance's own databases"). */
#ifndef JET_paramAlternateDatabaseRecoveryPath
#define JET_paramAlternateDatabaseRecoveryPath 113
#endif

/* Records.  Errors: JET_errInvalidSesid, JET_errInvalidDatabaseId,
 * JET_errNotInTransaction (write/lock outside a transaction),
 * JET_errWriteConflict, JET_errInvalidParameter (cb > record size),
 * JET_errRecordNotFound (recno beyond JETLIB_MAX_RECORDS), JET_errDiskIO. */
#define JETLIB_MAX_RECORDS (1ULL << 36)
JET_ERR JetLibReadRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno, void *pv,
                         unsigned long cb);
JET_ERR JetLibWriteRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno, const void *pv,
                          unsigned long cb);
JET_ERR JetLibLockRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno);

/* "JET_errBackupInProgress" for -505; "JET_errUnknown" when unknown.
 * The returned string is static. */
const char *JetLibErrorName(JET_ERR err);
/* The name table (jet_errors.def without its aliases): its size, and entry
 * i's code and name (*pname = NULL and 0 when i is out of range).  For
 * tests and tools that list every code.  Pure, thread-safe. */
size_t JetLibErrorCount(void);
JET_ERR JetLibErrorAt(size_t i, const char **pname);

/* Offline check of a database file: header (either copy) and every page's
 * checksum and page number.  Returns 0 or the first error; *pcpages gets
 * the number of data pages checked, *pbadpgno the first bad page (0 if
 * none).  Errors: JET_errFileNotFound, JET_errDatabaseCorrupted,
 * JET_errReadVerifyFailure, JET_errReadPgnoVerifyFailure, JET_errDiskIO. */
JET_ERR JetLibVerifyDatabaseFile(const char *path, unsigned long long *pcpages,
                                 unsigned long long *pbadpgno);

/* Force a checkpoint now (flush dirty pages, write the checkpoint file,
 * apply circular logging).  For tests and tools. */
JET_ERR JetLibCheckpoint(JET_INSTANCE instance);

/* Roll the log now (the current generation is archived).  For tests. */
JET_ERR JetLibRollLog(JET_INSTANCE instance, unsigned long *pgenNew);

/* The instance's name as given to JetCreateInstance ("" when none), copied
 * NUL-terminated into sz[cbMax].  Errors: JET_errInvalidInstance,
 * JET_errInvalidParameter (sz NULL or cbMax 0), JET_errBufferTooSmall
 * (nothing copied).  Takes the instance lock briefly; thread-safe. */
JET_ERR JetLibGetInstanceName(JET_INSTANCE instance, char *sz, unsigned long cbMax);

/* "Could a backup begin now?": the checks JetBeginExternalBackupInstance
 * would make with grbit, in its order, changing nothing (no backup begun,
 * no log record, no header written).  Returns what a Begin now would
 * return up to its first change: JET_errSuccess, or -1115 bad instance,
 * -523 not initialised, -516 recovery off, -900 bad grbit, -526
 * incremental with circular logging, -505 backup in progress, -560
 * incremental without a previous full of every attached database.  A
 * Begin that follows may still fail (state changes; checkpoint or log
 * errors).  When the instance is valid *pcbDatabases gets the sum of the
 * attached databases' stream sizes a full backup would open ((pages + 3)
 * x page size) and *pcDatabases their count (either may be NULL), also
 * when the answer is an error.  Takes the instance's backup lock briefly;
 * thread-safe. */
JET_ERR JetLibCheckBackup(JET_INSTANCE instance, JET_GRBIT grbit, unsigned long long *pcbDatabases,
                          unsigned long *pcDatabases);

/* Generation numbers now: current log, checkpoint on disk. */
JET_ERR JetLibGetLogState(JET_INSTANCE instance, unsigned long *pgenCurrent,
                          unsigned long *pgenCheckpoint);

#ifdef __cplusplus
}
#endif
#endif /* JETLIB_H */
