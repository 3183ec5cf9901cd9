/*
 * bk_jet.c -- the backup-source table over libjet in-process (jet.h): on
 * an instance this module hosts (bkc_jet_open: JetInit runs soft
 * recovery; the instance lock refuses an instance another process has
 * open) or one the caller hosts (bkc_jet_borrow).  On Windows the same
 * table over ESENT.DLL would look identical.
 */
#include "config.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bkclient.h"
#include "jetlib.h"

#define JB_MAX_DBS 16

typedef struct jet_ctx {
    JET_INSTANCE inst;
    JET_SESID ses;
    bool owned;            /* hosted here: terminate on destroy */
    char *dbs[JB_MAX_DBS]; /* attached databases (owned copies) */
    size_t attached;
    char name[64];
} jet_ctx;

/* Instance facts from the parameters. */
static JET_ERR jb_info(void *p, bkc_info *info)
{
    static const unsigned long ids[] = { JET_paramDatabasePageSize, JET_paramCircularLog,
                                         JET_paramLegacyFileNames, JET_paramLogFileSize };
    jet_ctx *j = p;
    JET_API_PTR v[4] = { 0, 0, 0, 0 };
    char base[16] = "";
    JET_ERR rc = 0;

    for (size_t i = 0; rc >= 0 && i < 4; i++)
        rc = JetGetSystemParameter(j->inst, JET_sesidNil, ids[i], &v[i], NULL, 0);
    if (rc >= 0)
        rc = JetGetSystemParameter(j->inst, JET_sesidNil, JET_paramBaseName, NULL, base,
                                   sizeof base);
    if (rc < 0)
        return rc;
    memset(info, 0, sizeof *info);
    info->cb_page = (unsigned long)v[0];
    info->circular = v[1] != 0;
    info->legacy = (unsigned long)v[2];
    info->log_kib = (unsigned long)v[3];
    snprintf(info->instance, sizeof info->instance, "%s", j->name);
    snprintf(info->base_name, sizeof info->base_name, "%.3s", base);
    return 0;
}

/* JetBeginExternalBackupInstance. */
static JET_ERR jb_begin(void *p, JET_GRBIT grbit)
{
    return JetBeginExternalBackupInstance(((jet_ctx *)p)->inst, grbit);
}

/* JetGetAttachInfoInstance. */
static JET_ERR jb_attach_info(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    return JetGetAttachInfoInstance(((jet_ctx *)p)->inst, szz, cb, pcb);
}

/* JetOpenFileInstance; *psize = the 64-bit stream size. */
static JET_ERR jb_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    unsigned long lo = 0, hi = 0;
    JET_ERR rc = JetOpenFileInstance(((jet_ctx *)p)->inst, name, ph, &lo, &hi);

    if (rc >= 0)
        *psize = ((uint64_t)(hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
    return rc;
}

/* JetReadFileInstance. */
static JET_ERR jb_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    return JetReadFileInstance(((jet_ctx *)p)->inst, h, pv, cb, pcb);
}

/* JetCloseFileInstance. */
static JET_ERR jb_close(void *p, JET_HANDLE h)
{
    return JetCloseFileInstance(((jet_ctx *)p)->inst, h);
}

/* JetGetLogInfoInstance2 (rolls the log). */
static JET_ERR jb_log_info(void *p, char *szz, unsigned long cb, unsigned long *pcb,
                           JET_LOGINFO_A *li)
{
    return JetGetLogInfoInstance2(((jet_ctx *)p)->inst, szz, cb, pcb, li);
}

/* JetGetTruncateLogInfoInstance. */
static JET_ERR jb_trunc_info(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    return JetGetTruncateLogInfoInstance(((jet_ctx *)p)->inst, szz, cb, pcb);
}

/* JetTruncateLogInstance. */
static JET_ERR jb_truncate(void *p)
{
    return JetTruncateLogInstance(((jet_ctx *)p)->inst);
}

/* JetEndExternalBackupInstance2. */
static JET_ERR jb_end(void *p, JET_GRBIT grbit)
{
    return JetEndExternalBackupInstance2(((jet_ctx *)p)->inst, grbit);
}

/* Detach, end the session, terminate a hosted instance (bkc_host_term).
 * Safe with a partly opened j. */
static JET_ERR jb_destroy(void *p)
{
    jet_ctx *j = p;
    JET_ERR rc = 0;

    if (!j)
        return 0;
    for (size_t i = 0; i < j->attached; i++) {
        (void)JetDetachDatabase(j->ses, j->dbs[i]);
        free(j->dbs[i]);
    }
    if (j->ses != JET_sesidNil)
        (void)JetEndSession(j->ses, 0);
    if (j->owned)
        rc = bkc_host_term(j->inst);
    free(j);
    return rc;
}

/* JetLibCheckBackup: the engine's answer, nothing begun. */
static JET_ERR jb_check_begin(void *p, JET_GRBIT grbit, uint64_t *pcb_dbs)
{
    unsigned long long cb = 0;
    JET_ERR rc = JetLibCheckBackup(((jet_ctx *)p)->inst, grbit, &cb, NULL);

    *pcb_dbs = cb;
    return rc;
}

static const bkc_ops jet_ops = {
    .name = "libjet in-process",
    .info = jb_info,
    .begin = jb_begin,
    .attach_info = jb_attach_info,
    .open = jb_open,
    .read = jb_read,
    .close = jb_close,
    .log_info = jb_log_info,
    .trunc_info = jb_trunc_info,
    .truncate = jb_truncate,
    .end = jb_end,
    .committed_at_roll = NULL,
    .destroy = jb_destroy,
    .check_begin = jb_check_begin,
};

/* Session + attach every database of dbs; err names a failing attach. */
static JET_ERR jb_attach_all(jet_ctx *j, const char *const *dbs, size_t ndbs, char *err,
                             size_t cb_err)
{
    JET_ERR rc = JetBeginSession(j->inst, &j->ses, "", "");

    if (rc < 0) {
        snprintf(err, cb_err, "JetBeginSession failed: %s (%ld)", JetLibErrorName(rc), (long)rc);
        return rc;
    }
    for (size_t i = 0; i < ndbs; i++) {
        if (i >= JB_MAX_DBS)
            rc = JET_errTooManyAttachedDatabases;
        else
            rc = JetAttachDatabase(j->ses, dbs[i], 0);
        if (rc < 0) {
            snprintf(err, cb_err, "JetAttachDatabase(%s) failed: %s (%ld)", dbs[i],
                     JetLibErrorName(rc), (long)rc);
            return rc;
        }
        j->dbs[j->attached] = strdup(dbs[i]);
        if (!j->dbs[j->attached]) {
            (void)JetDetachDatabase(j->ses, dbs[i]);
            snprintf(err, cb_err, "out of memory");
            return JET_errOutOfMemory;
        }
        j->attached++;
    }
    return 0;
}

/* See bkclient.h. */
JET_ERR bkc_jet_open(const bkc_host_params *p, const char *const *dbs, size_t ndbs, bkc_source *src,
                     char *err, size_t cb_err)
{
    jet_ctx *j = calloc(1, sizeof *j);
    const char *step = "JetCreateInstance";
    JET_ERR rc;

    err[0] = 0;
    if (!j) {
        snprintf(err, cb_err, "out of memory");
        return JET_errOutOfMemory;
    }
    j->ses = JET_sesidNil;
    snprintf(j->name, sizeof j->name, "%s", p->instance ? p->instance : "");
    rc = bkc_host_init(p, &j->inst, &step);
    if (rc < 0) {
        snprintf(err, cb_err, "%s (in-process instance %s) failed: %s (%ld)%s", step, p->log_path,
                 JetLibErrorName(rc), (long)rc,
                 rc == JET_errFileAccessDenied
                     ? ": another process has the instance open (mount through its "
                       "[source] endpoint instead)"
                     : "");
        free(j);
        return rc;
    }
    j->owned = true;
    rc = jb_attach_all(j, dbs, ndbs, err, cb_err);
    if (rc < 0) {
        (void)jb_destroy(j);
        return rc;
    }
    src->ops = &jet_ops;
    src->ctx = j;
    return 0;
}

/* See bkclient.h. */
JET_ERR bkc_jet_borrow(JET_INSTANCE inst, const char *name, bkc_source *src)
{
    jet_ctx *j = calloc(1, sizeof *j);

    if (!j)
        return JET_errOutOfMemory;
    j->inst = inst;
    j->ses = JET_sesidNil;
    snprintf(j->name, sizeof j->name, "%s", name ? name : "");
    src->ops = &jet_ops;
    src->ctx = j;
    return 0;
}
