/*
 * jet_api.h -- where the Jet types and constants come from: mingw-w64's
 * <esent.h> on Windows (the real ESENT.DLL's header), libjet's jet.h
 * elsewhere.  bkclient.h and every Windows backend include this header,
 * never <esent.h> or jet.h directly.
 *
 * mingw-w64's esent.h (10.0) lacks the backup grbits, the JetTerm2 and
 * LegacyFileNames bits and a few error codes libjet returns; they are
 * defined here, guarded, with ESE's values (shared/ese-backup-spec.md
 * section 1, jet_errors.def).  This is the only place in the tree that
 * defines them for Windows.
 *
 * Thread safety: declarations only.
 */
#ifndef JET_API_H
#define JET_API_H

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <esent.h>

/* grbits (esent.h of the Windows SDK; ese-backup-spec.md 1.1) */
#ifndef JET_bitBackupIncremental
#define JET_bitBackupIncremental 0x00000001
#endif
#ifndef JET_bitBackupAtomic
#define JET_bitBackupAtomic 0x00000004
#endif
#ifndef JET_bitBackupSnapshot
#define JET_bitBackupSnapshot 0x00000010
#endif
#ifndef JET_bitBackupEndNormal
#define JET_bitBackupEndNormal 0x0001
#endif
#ifndef JET_bitBackupEndAbort
#define JET_bitBackupEndAbort 0x0002
#endif
#ifndef JET_bitBackupTruncateDone
#define JET_bitBackupTruncateDone 0x0100
#endif
#ifndef JET_bitTermComplete
#define JET_bitTermComplete 0x00000001
#endif
#ifndef JET_bitTermAbrupt
#define JET_bitTermAbrupt 0x00000002
#endif
#ifndef JET_bitTermStopBackup
#define JET_bitTermStopBackup 0x00000004
#endif
#ifndef JET_bitESE98FileNames
#define JET_bitESE98FileNames 0x00000001
#endif
#ifndef JET_bitEightDotThreeSoftCompat
#define JET_bitEightDotThreeSoftCompat 0x00000002
#endif

/* error codes (jet_errors.def; ese-backup-spec.md 1.2) */
#ifndef JET_errSectorSizeNotSupported
#define JET_errSectorSizeNotSupported -583
#endif
#ifndef JET_errLogFileNotCopied
#define JET_errLogFileNotCopied -616
#endif
#ifndef JET_errSurrogateBackupInProgress
#define JET_errSurrogateBackupInProgress -617
#endif
#ifndef JET_errBackupAbortByServer
#define JET_errBackupAbortByServer -801
#endif
#ifndef JET_errDiskReadVerificationFailure
#define JET_errDiskReadVerificationFailure -1021
#endif
#ifndef JET_errReadPgnoVerifyFailure
#define JET_errReadPgnoVerifyFailure -1118
#endif
#ifndef JET_errReadLostFlushVerifyFailure
#define JET_errReadLostFlushVerifyFailure -1119
#endif
#ifndef JET_errDatabaseAttachedForRecovery
#define JET_errDatabaseAttachedForRecovery -1231
#endif

#else /* !_WIN32 */
#include "jet.h"
#endif

#endif /* JET_API_H */
