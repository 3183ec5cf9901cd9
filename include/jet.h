/*
 * jet.h -- the subset of esent.h that libjet implements.
 *
 * Names, grbit values, parameter ids and error codes are those of esent.h
 * (Windows SDK / mingw-w64 include/esent.h, plus the values mingw lacks, see
 * shared/ese-backup-spec.md section 1).  Integer types are spelled as esent.h
 * spells them (`long`, `unsigned long`) so that code written against this
 * header compiles unchanged against the real esent.h; on LP64 POSIX they are
 * wider than on Windows, which no caller may depend on.
 *
 * Strings are the ANSI (`char *`) variants; the unsuffixed names map to the
 * A functions as esent.h does when JET_UNICODE is not defined.
 *
 * Thread safety: every function may be called from any thread.  Calls on
 * different sessions run concurrently; one session must not be used by two
 * threads at once (as in ESE).  The backup calls of one instance serialise
 * on the instance's backup context.
 */
#ifndef JET_H
#define JET_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JET_API

typedef uintptr_t JET_API_PTR;
typedef long JET_ERR;
typedef JET_API_PTR JET_INSTANCE;
typedef JET_API_PTR JET_SESID;
typedef JET_API_PTR JET_HANDLE;
typedef JET_API_PTR JET_TABLEID;
typedef unsigned long JET_DBID;
typedef unsigned long JET_GRBIT;
typedef const char *JET_PCSTR;
typedef char *JET_PSTR;

#define JET_instanceNil (~(JET_INSTANCE)0)
#define JET_sesidNil (~(JET_SESID)0)
#define JET_dbidNil ((JET_DBID)0xFFFFFFFF)
#define JET_BASE_NAME_LENGTH 3
#define JET_MAX_COMPUTERNAME_LENGTH 15

typedef struct _JET_LGPOS {
    unsigned short ib;
    unsigned short isec;
    long lGeneration;
} JET_LGPOS;

typedef struct _JET_LOGTIME {
    char bSeconds;
    char bMinutes;
    char bHours;
    char bDay;
    char bMonth;
    char bYear; /* years since 1900 */
    char bFiller1;
    char bFiller2;
} JET_LOGTIME;

typedef struct _JET_SIGNATURE {
    unsigned long ulRandom;
    JET_LOGTIME logtimeCreate;
    char szComputerName[JET_MAX_COMPUTERNAME_LENGTH + 1];
} JET_SIGNATURE;

typedef struct _JET_BKINFO {
    JET_LGPOS lgposMark;
    JET_LOGTIME logtimeMark;
    unsigned long genLow;
    unsigned long genHigh;
} JET_BKINFO;

typedef struct _JET_LOGINFO_A {
    unsigned long cbSize;
    unsigned long ulGenLow;
    unsigned long ulGenHigh;
    char szBaseName[JET_BASE_NAME_LENGTH + 1];
} JET_LOGINFO_A;
#define JET_LOGINFO JET_LOGINFO_A

typedef struct _JET_RSTMAP_A {
    char *szDatabaseName;
    char *szNewDatabaseName;
} JET_RSTMAP_A;
#define JET_RSTMAP JET_RSTMAP_A

typedef enum _JET_SNP { JET_snpRestore = 8, JET_snpBackup = 9 } JET_SNP;
typedef enum _JET_SNT {
    JET_sntProgress = 0,
    JET_sntFail = 3,
    JET_sntBegin = 5,
    JET_sntComplete = 6,
    JET_sntRequirements = 7
} JET_SNT;
typedef JET_ERR(JET_API *JET_PFNSTATUS)(JET_SESID sesid, JET_SNP snp, JET_SNT snt, void *pv);

/* ---- system parameters ------------------------------------------------ */
#define JET_paramSystemPath 0
#define JET_paramTempPath 1
#define JET_paramLogFilePath 2
#define JET_paramBaseName 3
#define JET_paramMaxSessions 5
#define JET_paramLogFileSize 11
#define JET_paramCircularLog 17
#define JET_paramRecovery 34
#define JET_paramDatabasePageSize 64
#define JET_paramCreatePathIfNotExist 100
#define JET_paramLegacyFileNames 136

#define JET_bitESE98FileNames 0x00000001
#define JET_bitEightDotThreeSoftCompat 0x00000002

/* ---- grbits ------------------------------------------------------------ */
#define JET_bitDbReadOnly 0x00000001
#define JET_bitDbExclusive 0x00000002
#define JET_bitDbOverwriteExisting 0x00000200

#define JET_bitCommitLazyFlush 0x00000001
#define JET_bitWaitLastLevel0Commit 0x00000002
#define JET_bitRollbackAll 0x00000001

#define JET_bitTermComplete 0x00000001
#define JET_bitTermAbrupt 0x00000002
#define JET_bitTermStopBackup 0x00000004

#define JET_bitBackupIncremental 0x00000001
#define JET_bitBackupAtomic 0x00000004
#define JET_bitBackupSnapshot 0x00000010
#define JET_bitBackupEndNormal 0x0001
#define JET_bitBackupEndAbort 0x0002
#define JET_bitBackupTruncateDone 0x0100

/* ---- errors and warnings ----------------------------------------------- */
/* Enumeration constants made from the one list, jet_errors.def (where
 * esent.h has preprocessor macros of the same names and values). */
enum jet_error_code {
#define JET_ERRDEF(name, value) name = (value),
#define JET_ERRALIAS(name, target) name = target,
#include "jet_errors.def"
#undef JET_ERRDEF
#undef JET_ERRALIAS
};

/* ---- instance ----------------------------------------------------------- */
JET_ERR JET_API JetCreateInstanceA(JET_INSTANCE *pinstance, const char *szInstanceName);
JET_ERR JET_API JetCreateInstance2A(JET_INSTANCE *pinstance, const char *szInstanceName,
                                    const char *szDisplayName, JET_GRBIT grbit);
JET_ERR JET_API JetSetSystemParameterA(JET_INSTANCE *pinstance, JET_SESID sesid,
                                       unsigned long paramid, JET_API_PTR lParam,
                                       JET_PCSTR szParam);
JET_ERR JET_API JetGetSystemParameterA(JET_INSTANCE instance, JET_SESID sesid,
                                       unsigned long paramid, JET_API_PTR *plParam,
                                       JET_PSTR szParam, unsigned long cbMax);
JET_ERR JET_API JetInit(JET_INSTANCE *pinstance);
JET_ERR JET_API JetInit2(JET_INSTANCE *pinstance, JET_GRBIT grbit);
JET_ERR JET_API JetTerm(JET_INSTANCE instance);
JET_ERR JET_API JetTerm2(JET_INSTANCE instance, JET_GRBIT grbit);

/* ---- sessions, databases, transactions ---------------------------------- */
JET_ERR JET_API JetBeginSessionA(JET_INSTANCE instance, JET_SESID *psesid, JET_PCSTR szUserName,
                                 JET_PCSTR szPassword);
JET_ERR JET_API JetEndSession(JET_SESID sesid, JET_GRBIT grbit);
JET_ERR JET_API JetCreateDatabaseA(JET_SESID sesid, JET_PCSTR szFilename, JET_PCSTR szConnect,
                                   JET_DBID *pdbid, JET_GRBIT grbit);
JET_ERR JET_API JetAttachDatabaseA(JET_SESID sesid, const char *szFilename, JET_GRBIT grbit);
JET_ERR JET_API JetDetachDatabaseA(JET_SESID sesid, const char *szFilename);
JET_ERR JET_API JetOpenDatabaseA(JET_SESID sesid, const char *szFilename, const char *szConnect,
                                 JET_DBID *pdbid, JET_GRBIT grbit);
JET_ERR JET_API JetCloseDatabase(JET_SESID sesid, JET_DBID dbid, JET_GRBIT grbit);
JET_ERR JET_API JetBeginTransaction(JET_SESID sesid);
JET_ERR JET_API JetBeginTransaction2(JET_SESID sesid, JET_GRBIT grbit);
JET_ERR JET_API JetCommitTransaction(JET_SESID sesid, JET_GRBIT grbit);
JET_ERR JET_API JetRollback(JET_SESID sesid, JET_GRBIT grbit);

/* ---- external backup ---------------------------------------------------- */
JET_ERR JET_API JetBeginExternalBackupInstance(JET_INSTANCE instance, JET_GRBIT grbit);
JET_ERR JET_API JetGetAttachInfoInstanceA(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                          unsigned long *pcbActual);
JET_ERR JET_API JetOpenFileInstanceA(JET_INSTANCE instance, JET_PCSTR szFileName,
                                     JET_HANDLE *phfFile, unsigned long *pulFileSizeLow,
                                     unsigned long *pulFileSizeHigh);
JET_ERR JET_API JetReadFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile, void *pv,
                                    unsigned long cb, unsigned long *pcb);
JET_ERR JET_API JetCloseFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile);
JET_ERR JET_API JetGetLogInfoInstanceA(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                       unsigned long *pcbActual);
JET_ERR JET_API JetGetLogInfoInstance2A(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                        unsigned long *pcbActual, JET_LOGINFO_A *pLogInfo);
JET_ERR JET_API JetGetTruncateLogInfoInstanceA(JET_INSTANCE instance, char *szz,
                                               unsigned long cbMax, unsigned long *pcbActual);
JET_ERR JET_API JetTruncateLogInstance(JET_INSTANCE instance);
JET_ERR JET_API JetEndExternalBackupInstance(JET_INSTANCE instance);
JET_ERR JET_API JetEndExternalBackupInstance2(JET_INSTANCE instance, JET_GRBIT grbit);
JET_ERR JET_API JetStopBackupInstance(JET_INSTANCE instance);

/* ---- restore ------------------------------------------------------------ */
JET_ERR JET_API JetExternalRestoreA(JET_PSTR szCheckpointFilePath, JET_PSTR szLogPath,
                                    JET_RSTMAP_A *rgrstmap, long crstfilemap,
                                    JET_PSTR szBackupLogPath, long genLow, long genHigh,
                                    JET_PFNSTATUS pfn);
JET_ERR JET_API JetExternalRestore2A(JET_PSTR szCheckpointFilePath, JET_PSTR szLogPath,
                                     JET_RSTMAP_A *rgrstmap, long crstfilemap,
                                     JET_PSTR szBackupLogPath, JET_LOGINFO_A *pLogInfo,
                                     JET_PSTR szTargetInstanceName,
                                     JET_PSTR szTargetInstanceLogPath,
                                     JET_PSTR szTargetInstanceCheckpointPath, JET_PFNSTATUS pfn);

#ifndef JET_UNICODE
#define JetCreateInstance JetCreateInstanceA
#define JetCreateInstance2 JetCreateInstance2A
#define JetSetSystemParameter JetSetSystemParameterA
#define JetGetSystemParameter JetGetSystemParameterA
#define JetBeginSession JetBeginSessionA
#define JetCreateDatabase JetCreateDatabaseA
#define JetAttachDatabase JetAttachDatabaseA
#define JetDetachDatabase JetDetachDatabaseA
#define JetOpenDatabase JetOpenDatabaseA
#define JetGetAttachInfoInstance JetGetAttachInfoInstanceA
#define JetOpenFileInstance JetOpenFileInstanceA
#define JetGetLogInfoInstance JetGetLogInfoInstanceA
#define JetGetLogInfoInstance2 JetGetLogInfoInstance2A
#define JetGetTruncateLogInfoInstance JetGetTruncateLogInfoInstanceA
#define JetExternalRestore JetExternalRestoreA
#define JetExternalRestore2 JetExternalRestore2A
#endif

#ifdef __cplusplus
}
#endif
#endif /* JET_H */
