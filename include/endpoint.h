/*
 * endpoint.h -- libjet's backup endpoint: the external backup API of a live
 * instance served on a local UNIX-domain socket, the way Active Directory
 * serves DsBackup* over RPC (shared/ese-backup-spec.md section 8).
 *
 * The host process owns the instance and calls JepServerStart; a backup
 * tool in another process calls JepConnect and then the Jep* calls, which
 * mirror the Jet backup calls one for one, with the same arguments, buffer
 * rules and error codes (the server runs the real Jet call on its side).
 * The wire protocol is documented in docs/endpoint-protocol.md.
 *
 * Server guarantees: socket mode 0600 (0660 with a group); peers are
 * accepted only if SO_PEERCRED says root, the host's uid, or (with a group)
 * a member gid; one backup at a time (a second client's Begin gets
 * JET_errBackupInProgress from the engine); a client that disconnects or
 * dies with a backup in progress makes the server call
 * JetEndExternalBackupInstance2(JET_bitBackupEndAbort) -- never a
 * truncation; a malformed request closes that connection only.
 *
 * Thread safety: a jep_client is used by one thread at a time.  The server
 * runs its own thread(s); JepServerStop may be called from any thread once.
 * The host must call JepServerStop before JetTerm of the served instance.
 * The cfg->counter and cfg->log callbacks are called from server threads
 * (several may run at once) and must be thread-safe.
 */
#ifndef JET_ENDPOINT_H
#define JET_ENDPOINT_H

#include <sys/types.h>
#include "jet.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Seconds a client waits for the server to accept a request or send a
 * reply before it gives up on the connection (JET_errInstanceUnavailable;
 * the server then aborts the backup). */
#define JEP_IO_TIMEOUT_S 120

typedef struct jep_client jep_client;
typedef struct jep_server jep_server;

typedef struct jep_info {
    char instance_name[64];
    char base_name[JET_BASE_NAME_LENGTH + 1];
    unsigned long cb_page; /* JET_paramDatabasePageSize of the instance */
    unsigned long legacy;  /* JET_paramLegacyFileNames */
    int circular;          /* JET_paramCircularLog */
} jep_info;

/* Connect.  Errors: JET_errFileNotFound (no such socket),
 * JET_errAccessDenied (refused by peer-credential check or socket mode),
 * JET_errInstanceUnavailable (nothing listening / protocol mismatch). */
JET_ERR JepConnect(const char *socket_path, jep_client **pc);
/* Close the connection; a backup still in progress is aborted by the
 * server.  Safe with NULL. */
void JepDisconnect(jep_client *c);
/* Instance parameters (fetched once by JepConnect).  Errors:
 * JET_errInvalidParameter, JET_errInstanceUnavailable (broken). */
JET_ERR JepGetInfo(jep_client *c, jep_info *info);

/* The backup calls: same semantics and errors as the Jet calls of the
 * same name (jet.h); a broken connection gives JET_errInstanceUnavailable
 * (the server then aborts the backup).  JepReadFile enforces the buffer
 * rules locally as ESE does (pv page-aligned, cb a multiple of the page
 * size) and caps one request at 16 MiB (a bigger JepReadFile is sent as
 * consecutive 16 MiB requests and returns as one read; an error in any
 * part is the call's error, never a short read).  Only the connection that
 * began the backup may use it: other connections get
 * JET_errBackupInProgress from Begin and JET_errNoBackup from the rest.
 * The list calls use at most a 4 MiB buffer on the server side. */
JET_ERR JepBeginExternalBackup(jep_client *c, JET_GRBIT grbit);
JET_ERR JepGetAttachInfo(jep_client *c, char *szz, unsigned long cbMax, unsigned long *pcbActual);
JET_ERR JepOpenFile(jep_client *c, const char *szFileName, JET_HANDLE *phf,
                    unsigned long *pulSizeLow, unsigned long *pulSizeHigh);
JET_ERR JepReadFile(jep_client *c, JET_HANDLE hf, void *pv, unsigned long cb, unsigned long *pcb);
JET_ERR JepCloseFile(jep_client *c, JET_HANDLE hf);
JET_ERR JepGetLogInfo2(jep_client *c, char *szz, unsigned long cbMax, unsigned long *pcbActual,
                       JET_LOGINFO_A *pLogInfo);
JET_ERR JepGetTruncateLogInfo(jep_client *c, char *szz, unsigned long cbMax,
                              unsigned long *pcbActual);
JET_ERR JepTruncateLog(jep_client *c);
JET_ERR JepEndExternalBackup2(jep_client *c, JET_GRBIT grbit);
/* The host's committed-transaction counter as sampled by the server just
 * before it ran the backup's first GetLogInfo/GetTruncateLogInfo (the log
 * roll): every transaction counted there is in the backup's logs.
 * JET_errInvalidBackupSequence before that call; JET_errInvalidParameter
 * if the host registered no counter. */
JET_ERR JepGetCommittedAtRoll(jep_client *c, unsigned long long *pn);

/* "Could a backup begin now?" (JetLibCheckBackup on the host, jetlib.h):
 * the error JepBeginExternalBackup with grbit would return now --
 * JET_errBackupInProgress when any connection (this one included) owns a
 * backup, JET_errMissingFullBackup, JET_errInvalidBackup (incremental with
 * circular logging), ... -- and the attached databases' summed stream
 * sizes and count (either pointer may be NULL; filled whenever the server
 * answered).  Begins nothing, changes nothing on the host; the server logs
 * one line.  Errors: as above, transport errors. */
JET_ERR JepCheckBackup(jep_client *c, JET_GRBIT grbit, unsigned long long *pcbDatabases,
                       unsigned long *pcDatabases);

typedef struct jep_server_config {
    const char *socket_path;
    gid_t group; /* (gid_t)-1: none, mode 0600; else 0660 */
    /* optional: committed-transaction counter of the host */
    unsigned long long (*counter)(void *arg);
    void *counter_arg;
    /* optional: one-line log messages (connections, refusals, aborts) */
    void (*log)(void *arg, const char *msg);
    void *log_arg;
} jep_server_config;

/* Create the socket (an existing stale socket file is replaced; anything
 * else at the path is refused with JET_errInvalidPath) and start serving
 * instance.  Errors: JET_errInvalidPath, JET_errAccessDenied,
 * JET_errOutOfMemory, JET_errInvalidInstance. */
JET_ERR JepServerStart(JET_INSTANCE instance, const jep_server_config *cfg, jep_server **ps);
/* Stop serving: aborts a backup in progress, closes connections, joins the
 * server thread, removes the socket.  Safe with NULL. */
void JepServerStop(jep_server *s);

#ifdef __cplusplus
}
#endif
#endif /* JET_ENDPOINT_H */
