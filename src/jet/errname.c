/*
 * errname.c -- JetLibErrorName: the symbolic name of a Jet error/warning.
 *
 * Every JET_err* and JET_wrn* code defined in jet.h has an entry.  Where
 * jet.h defines two names for one value (JET_errDatabaseInconsistent ==
 * JET_errDatabaseDirtyShutdown) the first-defined name is returned.  An
 * unknown code returns "JET_errUnknown": formatting the number would need a
 * caller buffer or global mutable state, so the number is not included
 * (jetlib.h's comment promising "JET_err(-12345)" predates this decision).
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include "jet_int.h"

/* Name of err as a static string; "JET_errUnknown" if jet.h does not
 * define it.  Pure, thread-safe. */
const char *JetLibErrorName(JET_ERR err)
{
    switch (err) {
    case JET_errFileIOBeyondEOF: return "JET_errFileIOBeyondEOF";
    case JET_errAccessDenied: return "JET_errAccessDenied";
    case JET_errInvalidOperation: return "JET_errInvalidOperation";
    case JET_errLogCorrupted: return "JET_errLogCorrupted";
    case JET_errAfterInitialization: return "JET_errAfterInitialization";
    case JET_errFileInvalidType: return "JET_errFileInvalidType";
    case JET_errFileNotFound: return "JET_errFileNotFound";
    case JET_errPermissionDenied: return "JET_errPermissionDenied";
    case JET_errDiskFull: return "JET_errDiskFull";
    case JET_errTooManyAttachedDatabases: return "JET_errTooManyAttachedDatabases";
    case JET_errRecordNotFound: return "JET_errRecordNotFound";
    case JET_errClientRequestToStopJetService: return "JET_errClientRequestToStopJetService";
    case JET_errInvalidSettings: return "JET_errInvalidSettings";
    case JET_errDatabaseAttachedForRecovery: return "JET_errDatabaseAttachedForRecovery";
    case JET_errAttachedDatabaseMismatch: return "JET_errAttachedDatabaseMismatch";
    case JET_errDatabaseSharingViolation: return "JET_errDatabaseSharingViolation";
    case JET_errInvalidDatabaseVersion: return "JET_errInvalidDatabaseVersion";
    case JET_errDatabaseLocked: return "JET_errDatabaseLocked";
    case JET_errDatabaseCorrupted: return "JET_errDatabaseCorrupted";
    case JET_errDatabaseInvalidName: return "JET_errDatabaseInvalidName";
    case JET_errDatabaseNotFound: return "JET_errDatabaseNotFound";
    case JET_errDatabaseInUse: return "JET_errDatabaseInUse";
    case JET_errDatabaseDuplicate: return "JET_errDatabaseDuplicate";
    case JET_errReadLostFlushVerifyFailure: return "JET_errReadLostFlushVerifyFailure";
    case JET_errReadPgnoVerifyFailure: return "JET_errReadPgnoVerifyFailure";
    case JET_errInvalidInstance: return "JET_errInvalidInstance";
    case JET_errInTransaction: return "JET_errInTransaction";
    case JET_errInvalidSesid: return "JET_errInvalidSesid";
    case JET_errTransTooDeep: return "JET_errTransTooDeep";
    case JET_errWriteConflict: return "JET_errWriteConflict";
    case JET_errOutOfSessions: return "JET_errOutOfSessions";
    case JET_errInstanceUnavailable: return "JET_errInstanceUnavailable";
    case JET_errInstanceNameInUse: return "JET_errInstanceNameInUse";
    case JET_errRunningInOneInstanceMode: return "JET_errRunningInOneInstanceMode";
    case JET_errTooManyActiveUsers: return "JET_errTooManyActiveUsers";
    case JET_errNotInTransaction: return "JET_errNotInTransaction";
    case JET_errInvalidBufferSize: return "JET_errInvalidBufferSize";
    case JET_errBufferTooSmall: return "JET_errBufferTooSmall";
    case JET_errFileAccessDenied: return "JET_errFileAccessDenied";
    case JET_errInitInProgress: return "JET_errInitInProgress";
    case JET_errAlreadyInitialized: return "JET_errAlreadyInitialized";
    case JET_errNotInitialized: return "JET_errNotInitialized";
    case JET_errInvalidDatabase: return "JET_errInvalidDatabase";
    case JET_errTooManyOpenDatabases: return "JET_errTooManyOpenDatabases";
    case JET_errRecordTooBig: return "JET_errRecordTooBig";
    case JET_errInvalidLogDirectory: return "JET_errInvalidLogDirectory";
    case JET_errInvalidPath: return "JET_errInvalidPath";
    case JET_errDiskIO: return "JET_errDiskIO";
    case JET_errDiskReadVerificationFailure: return "JET_errDiskReadVerificationFailure";
    case JET_errPageNotInitialized: return "JET_errPageNotInitialized";
    case JET_errReadVerifyFailure: return "JET_errReadVerifyFailure";
    case JET_errOutOfMemory: return "JET_errOutOfMemory";
    case JET_errInvalidDatabaseId: return "JET_errInvalidDatabaseId";
    case JET_errDatabaseFileReadOnly: return "JET_errDatabaseFileReadOnly";
    case JET_errInvalidParameter: return "JET_errInvalidParameter";
    case JET_errInvalidName: return "JET_errInvalidName";
    case JET_errTermInProgress: return "JET_errTermInProgress";
    case JET_errInvalidGrbit: return "JET_errInvalidGrbit";
    case JET_errBackupAbortByServer: return "JET_errBackupAbortByServer";
    case JET_errSurrogateBackupInProgress: return "JET_errSurrogateBackupInProgress";
    case JET_errLogFileNotCopied: return "JET_errLogFileNotCopied";
    case JET_errRestoreOfNonBackupDatabase: return "JET_errRestoreOfNonBackupDatabase";
    case JET_errLogReadVerifyFailure: return "JET_errLogReadVerifyFailure";
    case JET_errExistingLogFileIsNotContiguous: return "JET_errExistingLogFileIsNotContiguous";
    case JET_errExistingLogFileHasBadSignature: return "JET_errExistingLogFileHasBadSignature";
    case JET_errSectorSizeNotSupported: return "JET_errSectorSizeNotSupported";
    case JET_errBadRestoreTargetInstance: return "JET_errBadRestoreTargetInstance";
    case JET_errMissingFileToBackup: return "JET_errMissingFileToBackup";
    case JET_errMissingCurrentLogFiles: return "JET_errMissingCurrentLogFiles";
    case JET_errMissingFullBackup: return "JET_errMissingFullBackup";
    case JET_errMissingRestoreLogFiles: return "JET_errMissingRestoreLogFiles";
    case JET_errGivenLogFileIsNotContiguous: return "JET_errGivenLogFileIsNotContiguous";
    case JET_errGivenLogFileHasBadSignature: return "JET_errGivenLogFileHasBadSignature";
    case JET_errStartingRestoreLogTooHigh: return "JET_errStartingRestoreLogTooHigh";
    case JET_errEndingRestoreLogTooLow: return "JET_errEndingRestoreLogTooLow";
    case JET_errDatabasePatchFileMismatch: return "JET_errDatabasePatchFileMismatch";
    case JET_errDatabaseDirtyShutdown: return "JET_errDatabaseDirtyShutdown";
    case JET_errSoftRecoveryOnBackupDatabase: return "JET_errSoftRecoveryOnBackupDatabase";
    case JET_errRequiredLogFilesMissing: return "JET_errRequiredLogFilesMissing";
    case JET_errCheckpointFileNotFound: return "JET_errCheckpointFileNotFound";
    case JET_errLogFileSizeMismatch: return "JET_errLogFileSizeMismatch";
    case JET_errPatchFileMissing: return "JET_errPatchFileMissing";
    case JET_errBadPatchPage: return "JET_errBadPatchPage";
    case JET_errCheckpointCorrupt: return "JET_errCheckpointCorrupt";
    case JET_errBadCheckpointSignature: return "JET_errBadCheckpointSignature";
    case JET_errBadDbSignature: return "JET_errBadDbSignature";
    case JET_errBadLogSignature: return "JET_errBadLogSignature";
    case JET_errLogDiskFull: return "JET_errLogDiskFull";
    case JET_errMissingLogFile: return "JET_errMissingLogFile";
    case JET_errInvalidBackup: return "JET_errInvalidBackup";
    case JET_errMakeBackupDirectoryFail: return "JET_errMakeBackupDirectoryFail";
    case JET_errDeleteBackupFileFail: return "JET_errDeleteBackupFileFail";
    case JET_errBackupNotAllowedYet: return "JET_errBackupNotAllowedYet";
    case JET_errInvalidBackupSequence: return "JET_errInvalidBackupSequence";
    case JET_errNoBackup: return "JET_errNoBackup";
    case JET_errLogSequenceEnd: return "JET_errLogSequenceEnd";
    case JET_errLoggingDisabled: return "JET_errLoggingDisabled";
    case JET_errInvalidLogSequence: return "JET_errInvalidLogSequence";
    case JET_errBadLogVersion: return "JET_errBadLogVersion";
    case JET_errLogWriteFail: return "JET_errLogWriteFail";
    case JET_errMissingPreviousLogFile: return "JET_errMissingPreviousLogFile";
    case JET_errRestoreInProgress: return "JET_errRestoreInProgress";
    case JET_errBackupInProgress: return "JET_errBackupInProgress";
    case JET_errBackupDirectoryNotEmpty: return "JET_errBackupDirectoryNotEmpty";
    case JET_errNoBackupDirectory: return "JET_errNoBackupDirectory";
    case JET_errLogFileCorrupt: return "JET_errLogFileCorrupt";
    case JET_errInternalError: return "JET_errInternalError";
    case JET_wrnNyi: return "JET_wrnNyi";
    case JET_errSuccess: return "JET_errSuccess";
    case JET_wrnTargetInstanceRunning: return "JET_wrnTargetInstanceRunning";
    case JET_wrnDatabaseAttached: return "JET_wrnDatabaseAttached";
    default: return "JET_errUnknown";
    }
}
