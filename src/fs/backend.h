/*
 * backend.h -- the one seam between the esebackupfs core and a backup
 * engine: a small table of the external backup calls.
 *
 * The filesystem core (fsops.c) reaches the engine only through this
 * table.  Today there are two implementations: backend_jet.c (libjet
 * in-process, jet.h calls) and backend_ep.c (libjet's backup endpoint,
 * endpoint.h Jep* calls over a UNIX socket).  ESENT.DLL in-process and
 * NTDS DsBackup* slot in later as further tables, without touching the
 * filesystem code.  Tests use a fault-injecting table (tests/test_fs_fake.c).
 *
 * Every call returns a JET_ERR (0 or a warning >= 0 on success, < 0 on
 * failure) with the semantics of the Jet call of the same name
 * (shared/ese-backup-spec.md sections 2-5).  Multi-string outputs follow
 * rule 8 of the spec: call with szz == NULL to learn the size.
 *
 * Thread safety: a backend is used by one thread at a time (the producer
 * thread while the filesystem runs, the main thread before and after).
 */
#ifndef FS_BACKEND_H
#define FS_BACKEND_H

#include <stdint.h>
#include "jet.h"

/* What the core needs to know about the source instance. */
typedef struct fs_source_info {
    char instance[64];                       /* instance name ("" if none) */
    char base_name[JET_BASE_NAME_LENGTH + 1]; /* log base name, e.g. "edb" */
    unsigned long cb_page;                   /* database page size */
    int circular;                            /* circular logging on */
} fs_source_info;

typedef struct fs_backend_ops {
    const char *name;                        /* "libjet", "endpoint", ... */
    JET_ERR (*info)(void *ctx, fs_source_info *info);
    JET_ERR (*begin)(void *ctx, JET_GRBIT grbit);
    JET_ERR (*attach_info)(void *ctx, char *szz, unsigned long cb_max,
                           unsigned long *pcb_actual);
    /* Open a backup file; *psize gets its 64-bit stream size. */
    JET_ERR (*open)(void *ctx, const char *name, JET_HANDLE *ph, uint64_t *psize);
    JET_ERR (*read)(void *ctx, JET_HANDLE h, void *pv, unsigned long cb,
                    unsigned long *pcb);
    JET_ERR (*close)(void *ctx, JET_HANDLE h);
    JET_ERR (*log_info)(void *ctx, char *szz, unsigned long cb_max,
                        unsigned long *pcb_actual, JET_LOGINFO_A *li);
    JET_ERR (*truncate)(void *ctx);
    JET_ERR (*end)(void *ctx, JET_GRBIT grbit);
    /* Optional (may be NULL): committed-transaction counter of the host,
     * sampled just before the backup's log roll (JepGetCommittedAtRoll). */
    JET_ERR (*committed_at_roll)(void *ctx, unsigned long long *pn);
    /* Release everything (a backup still running is aborted by the
     * implementation or its server).  Safe to call once. */
    void (*destroy)(void *ctx);
} fs_backend_ops;

typedef struct fs_backend {
    const fs_backend_ops *ops;
    void *ctx;
} fs_backend;

struct fs_config;  /* conf.h */

/* Open the backend the configuration names ([source] endpoint = SOCKET
 * -> endpoint; otherwise the in-process libjet instance).  On failure
 * returns the Jet error and writes one line to err (naming the error).
 * The endpoint variant only connects; the in-process variant runs JetInit
 * (recovery) and attaches the configured databases. */
JET_ERR fs_backend_open(const struct fs_config *cfg, fs_backend *be,
                        char *err, size_t cb_err);
JET_ERR fs_backend_jet_open(const struct fs_config *cfg, fs_backend *be,
                            char *err, size_t cb_err);
JET_ERR fs_backend_ep_open(const struct fs_config *cfg, fs_backend *be,
                           char *err, size_t cb_err);

#endif /* FS_BACKEND_H */
