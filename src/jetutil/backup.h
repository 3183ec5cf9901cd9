/*
 * backup.h -- jetutil's backup source (a bkclient.h source: in-process on
 * an instance hosted by jetutil, or over a backup endpoint) and the
 * backup directories of `jetutil restore`.
 *
 * Thread safety: one bk_src per thread (see bkclient.h).
 */
#ifndef JETUTIL_BACKUP_H
#define JETUTIL_BACKUP_H

#include "bkclient.h"
#include "bkformat.h"
#include "jetutil.h"

/* jetutil's backup source: a bkclient source (include/bkclient.h) over
 * the endpoint SOCKET, or over the instance in DIR hosted here (with the
 * bank attached, so that it is backed up). */
typedef struct bk_src {
    bkc_source src; /* the one backup-call table */
    bkc_info info;  /* instance facts (info call at open) */
    ju_inst ji;     /* in-process: the hosted instance */
    bool have_inst;
    ju_bank bank; /* in-process: keeps the database attached */
} bk_src;

/* Connect to SOCKET (remote) or open the instance in DIR in-process, and
 * fetch its info.  Prints one error line on failure (prefix cmd). */
JET_ERR bk_src_open(const char *cmd, bk_src *s, const char *endpoint, const char *dir);
/* Release the source and the hosted instance.  Safe twice. */
void bk_src_close(bk_src *s);

/* The backup directories of `jetutil restore` and jetutil's label are
 * the backup-directory format's (bkformat.h). */
#define BK_MAX_SETS 16

#endif /* JETUTIL_BACKUP_H */
