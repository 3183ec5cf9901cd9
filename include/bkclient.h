/*
 * bkclient.h -- the backup-source layer: the one table of the external
 * backup calls, the helpers every client of the table needs, and the
 * in-process hosting of an instance.
 *
 * Both the FUSE driver (src/fs) and `jetutil backup` reach an engine for a
 * backup only through a bkc_source.  Implementations (one table each):
 *
 *   bkc_jet_open / bkc_jet_borrow  libjet in-process (jet.h calls)   bk_jet.c
 *   bkc_ep_open                    libjet backup endpoint (Jep* calls) bk_ep.c
 *
 * The Windows backends (ESENT.DLL in-process, NTDS DsBackup*, CertSrv
 * Backup*) are further tables of the same shape: the table speaks only in
 * esent.h terms (JET_ERR, JET_GRBIT, JET_HANDLE, JET_LOGINFO_A).  The fs
 * unit tests add a fault-injecting table (tests/test_fs_fake.c).
 *
 * ERRORS.  Every call returns a JET_ERR: 0 or a warning (> 0) on success,
 * < 0 on failure, with the semantics of the esent.h call named beside it
 * (shared/ese-backup-spec.md sections 2-5).  Errors common to every call:
 *   JET_errInstanceUnavailable  endpoint: connection lost or host gone
 *                               (the host aborts the backup);
 *   JET_errOutOfMemory          no memory for the request.
 * Multi-string outputs (attach_info, log_info, trunc_info) follow rule 8
 * of the spec: called with szz == NULL they store the size needed in
 * *pcb_actual; a buffer too small gives JET_errBufferTooSmall.  Prefer
 * bkc_get_list(), which does the size query and the fetch.
 *
 * THREAD SAFETY.  A bkc_source is used by one thread at a time (the
 * caller serialises: the fs producer thread while mounted, the main
 * thread before and after).  Distinct sources are independent.  The
 * tables themselves are immutable.
 */
#ifndef BKCLIENT_H
#define BKCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "jet_api.h"

/* What a backup client needs to know about the source instance (the one
 * instance-info struct; the endpoint's wire jep_info converts into it in
 * bk_ep.c). */
typedef struct bkc_info {
    char instance[64];                        /* instance name ("" if none) */
    char base_name[JET_BASE_NAME_LENGTH + 1]; /* log base name, e.g. "edb" */
    unsigned long cb_page;                    /* JET_paramDatabasePageSize */
    bool circular;                            /* JET_paramCircularLog != 0 */
    unsigned long legacy;                     /* JET_paramLegacyFileNames */
    unsigned long log_kib;                    /* JET_paramLogFileSize, 0 = unknown */
} bkc_info;

/* The type of bkc_ops.log_info (JetGetLogInfoInstance2). */
typedef JET_ERR bkc_log_info_fn(void *ctx, char *szz, unsigned long cb_max,
                                unsigned long *pcb_actual, JET_LOGINFO_A *li);

/* The table of external backup calls.  ctx is the implementation's. */
typedef struct bkc_ops {
    const char *name; /* "libjet in-process", "endpoint", ... */
    /* Instance facts (no engine state changes). */
    JET_ERR (*info)(void *ctx, bkc_info *info);
    /* JetBeginExternalBackupInstance: grbit 0 or JET_bitBackupIncremental.
     * JET_errBackupInProgress if a backup is running already. */
    JET_ERR (*begin)(void *ctx, JET_GRBIT grbit);
    /* JetGetAttachInfoInstance: the databases to copy (multi-string). */
    JET_ERR (*attach_info)(void *ctx, char *szz, unsigned long cb_max, unsigned long *pcb_actual);
    /* JetOpenFileInstance; *psize gets the 64-bit stream size.
     * JET_errFileNotFound, JET_errNoBackup, JET_errTooManyOpenFiles. */
    JET_ERR (*open)(void *ctx, const char *name, JET_HANDLE *ph, uint64_t *psize);
    /* JetReadFileInstance: the next bytes.  pv 4096-aligned and cb a
     * multiple of the page size, else JET_errInvalidParameter; read up to
     * the size open gave.  A failing read of a database closes the
     * handle; of a log aborts the backup. */
    JET_ERR (*read)(void *ctx, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb);
    /* JetCloseFileInstance.  JET_errInvalidParameter for an unknown h. */
    JET_ERR (*close)(void *ctx, JET_HANDLE h);
    /* JetGetLogInfoInstance2: the logs to copy (rolls the log); li may be
     * NULL on the size query. */
    bkc_log_info_fn *log_info;
    /* JetGetTruncateLogInfoInstance: the logs truncate would delete.
     * Optional (NULL: JET_errInvalidParameter from bkc_get_list). */
    JET_ERR (*trunc_info)(void *ctx, char *szz, unsigned long cb_max, unsigned long *pcb_actual);
    /* JetTruncateLogInstance. */
    JET_ERR (*truncate)(void *ctx);
    /* JetEndExternalBackupInstance2: JET_bitBackupEndNormal or ...Abort.
     * JET_errNoBackup when no backup is running (already aborted). */
    JET_ERR (*end)(void *ctx, JET_GRBIT grbit);
    /* Optional (may be NULL): committed-transaction counter of the host,
     * sampled just before the backup's log roll (JepGetCommittedAtRoll);
     * JET_errInvalidParameter when the host registered no counter. */
    JET_ERR (*committed_at_roll)(void *ctx, unsigned long long *pn);
    /* Release everything (a backup still running is aborted by the
     * implementation or its server); ctx is invalid afterwards.  Returns
     * the result of terminating a hosted instance (JetTerm2 Complete;
     * on failure the instance was still released by JetTerm), else 0. */
    JET_ERR (*destroy)(void *ctx);
    /* Optional (may be NULL): one line about the last failing call beyond
     * its JET_ERR (the Windows backends: the call and its HRESULT by name,
     * bkc_hr_name); "" when there is none.  Valid until the next call. */
    const char *(*detail)(void *ctx);
    /* Optional (may be NULL: the source cannot answer, e.g. the Windows
     * backends): "could a backup begin now?" -- the error begin(grbit)
     * would return now (JET_errBackupInProgress, JET_errMissingFullBackup,
     * JET_errInvalidBackup for an incremental with circular logging, ...),
     * changing nothing on the engine (JetLibCheckBackup, JepCheckBackup);
     * *pcb_dbs gets the attached databases' summed stream sizes (0 when
     * unknown), also with an error answer. */
    JET_ERR (*check_begin)(void *ctx, JET_GRBIT grbit, uint64_t *pcb_dbs);
} bkc_ops;

/* A backup source: a table and its context. */
typedef struct bkc_source {
    const bkc_ops *ops;
    void *ctx;
} bkc_source;

/* ---- helpers over any table ---- */

/* Which multi-string bkc_get_list fetches. */
typedef enum bkc_list {
    BKC_LIST_ATTACH,   /* attach_info */
    BKC_LIST_LOGS,     /* log_info (fills *li, cbSize set by the helper) */
    BKC_LIST_TRUNCATE, /* trunc_info */
} bkc_list;

/* Ask for the size, then fetch the multi-string `which` into *pszz
 * (malloc'ed, two extra NUL bytes; the caller frees).  li: for
 * BKC_LIST_LOGS, else NULL.  Errors: the call's; JET_errOutOfMemory;
 * JET_errInvalidParameter when the table lacks the call.  *pszz is
 * NULL on failure.  Thread safety: as the source. */
JET_ERR bkc_get_list(const bkc_source *src, bkc_list which, char **pszz, JET_LOGINFO_A *li);

/* Iterate a multi-string: the string after p, or NULL after the last
 * (an empty string ends the list).  p must point into a multi-string.
 * Usage: for (p = bkc_szz_first(szz); p; p = bkc_szz_next(p)). */
const char *bkc_szz_first(const char *szz);
const char *bkc_szz_next(const char *p);

/* Name of a Jet error or warning from jet_errors.def ("JET_errUnknown"
 * for a code it does not list).  Pure, thread-safe. */
const char *bkc_err_name(long err);

/* Name of an HRESULT of the Windows backup clients (DsBackup*,
 * CertSrvBackup*): an ESE error they wrap (0xC8000000 | -err, 0x88000000
 * | -warn) is named as that Jet error and stored in *pjet (else *pjet =
 * 0); otherwise the ntdsbmsg.h / winerror.h name, "HRESULT_unknown" if
 * not listed.  Pure, thread-safe. */
const char *bkc_hr_name(uint32_t hr, long *pjet);

/* Release src (ops->destroy) and clear it; the destroy result, or 0 when
 * src is empty.  Safe twice. */
JET_ERR bkc_close(bkc_source *src);

/* ---- in-process instance hosting (host.c) ---- */

/* One extra JetSetSystemParameter (engine-specific ids allowed). */
typedef struct bkc_param {
    unsigned long id;
    JET_API_PTR value;
} bkc_param;

/* Parameters of an instance hosted in this process. */
typedef struct bkc_host_params {
    const char *instance;    /* JetCreateInstance name */
    const char *system_path; /* directory ('/' appended if missing) */
    const char *log_path;    /* directory ('/' appended if missing) */
    const char *base_name;   /* NULL or "" = engine default */
    unsigned long page_size; /* 0 = engine default */
    /* Log file size in KiB; 0 = the size of the instance's current log
     * file <log_path>/<base>.log (or .jtx) so hosting for a backup never
     * changes it, and the engine default when there is none. */
    unsigned long log_kib;
    int circular;           /* -1 = default, else JET_paramCircularLog */
    long legacy;            /* -1 = default, else JET_paramLegacyFileNames */
    const bkc_param *extra; /* further parameters, set last */
    size_t nextra;
} bkc_host_params;

/* JetCreateInstance + the parameters of p (no JetInit).  On failure
 * nothing is left and *pstep (if non-NULL) names the failing call.
 * Errors: those of JetCreateInstance / JetSetSystemParameter. */
JET_ERR bkc_host_create(const bkc_host_params *p, JET_INSTANCE *pinst, const char **pstep);

/* bkc_host_create + JetInit (soft recovery).  On failure the instance is
 * released.  JET_errFileAccessDenied: another process has it open. */
JET_ERR bkc_host_init(const bkc_host_params *p, JET_INSTANCE *pinst, const char **pstep);

/* JetTerm2(JET_bitTermComplete); if that fails, JetTerm still releases
 * the instance.  Returns the JetTerm2 result. */
JET_ERR bkc_host_term(JET_INSTANCE inst);

/* ---- opening a source ---- */

/* libjet in-process: host the instance of p (bkc_host_init), begin a
 * session and attach the ndbs databases.  On failure returns the Jet
 * error, writes one line to err naming the call and error, and releases
 * everything. */
JET_ERR bkc_jet_open(const bkc_host_params *p, const char *const *dbs, size_t ndbs, bkc_source *src,
                     char *err, size_t cb_err);

/* libjet in-process over an instance the caller hosts and keeps (it stays
 * up after destroy).  name: the instance name for info.  Errors:
 * JET_errOutOfMemory. */
JET_ERR bkc_jet_borrow(JET_INSTANCE inst, const char *name, bkc_source *src);

/* libjet backup endpoint: connect to socket_path (JepConnect).  On
 * failure one line in err (JET_errFileNotFound, JET_errAccessDenied,
 * JET_errInstanceUnavailable as JepConnect). */
JET_ERR bkc_ep_open(const char *socket_path, bkc_source *src, char *err, size_t cb_err);

/* libjet in-process, before anything is hosted (no JetInit, no file
 * opened for writing, no lock taken; for a preflight check): what a
 * Begin of grbit on the instance of p with the ndbs databases would meet
 * as far as the files tell.  JET_errFileAccessDenied when another process
 * holds the instance (a flock on <system_path>/<base_name>.jlk or on a
 * database, read from /proc/locks); JET_errInvalidBackup for an
 * incremental when p->circular > 0; JET_errMissingFullBackup for an
 * incremental when a database header records no previous full backup;
 * JET_errFileNotFound, JET_errDatabaseCorrupted (header unreadable).
 * Returns 1 (and a line in err) when /proc/locks cannot be read, so the
 * lock could not be checked.  *pcb_dbs gets the databases' file sizes
 * summed.  On failure one line in err naming the file.  Thread-safe. */
JET_ERR bkc_jet_precheck(const bkc_host_params *p, const char *const *dbs, size_t ndbs,
                         JET_GRBIT grbit, uint64_t *pcb_dbs, char *err, size_t cb_err);

/* ---- Windows backends (src/bkclient/win, built only for _WIN32) ---- */

/* ESENT.DLL in-process: host the instance of p (JetCreateInstance2W,
 * LogFilePath/SystemPath/BaseName, recovery on, circular off, JetInit3W),
 * begin a session and attach the ndbs databases (JetAttachDatabase2W).
 * Strings are UTF-8.  On failure the Jet error, one line in err naming
 * the call, everything released. */
JET_ERR bkc_esent_open(const bkc_host_params *p, const char *const *dbs, size_t ndbs,
                       bkc_source *src, char *err, size_t cb_err);

/* Active Directory DS: ntdsbcli.dll (DsBackup*) resolved at run time.
 * server: NULL/"" = the local computer (the only one current Windows
 * accepts).  page_size: recorded in the label (the API does not report
 * it; 0 = 8192, AD's).  JET_errFileNotFound with one line in err when the
 * DLL or an entry point is missing. */
JET_ERR bkc_dsbackup_open(const char *server, unsigned long page_size, bkc_source *src, char *err,
                          size_t cb_err);

/* AD Certificate Services: certadm.dll (CertSrvBackup*W) resolved at run
 * time; arguments and errors as bkc_dsbackup_open. */
JET_ERR bkc_certsrv_open(const char *server, unsigned long page_size, bkc_source *src, char *err,
                         size_t cb_err);

#endif /* BKCLIENT_H */
