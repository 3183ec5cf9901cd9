/*
 * backend_jet.c -- the backup-call table over libjet in-process (jet.h):
 * the driver itself opens the instance named by the INI file's [source]
 * directories (JetInit runs soft recovery; the instance lock makes this
 * refuse an instance another process has open), attaches the databases and
 * runs the external backup calls on it.  On Windows the same table over
 * ESENT.DLL would look identical.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "jetlib.h"
#include "backend.h"
#include "conf.h"
#include "plat.h"

typedef struct jet_ctx {
    JET_INSTANCE inst;
    JET_SESID ses;
    int created, inited;
    char dbs[FS_CONF_MAX_DBS][FS_CONF_PATH];
    int ndbs, attached;
    char name[64];
    char base[8];
} jet_ctx;

/* Instance facts from the parameters. */
static JET_ERR jb_info(void *p, fs_source_info *info)
{
    jet_ctx *j = p;
    JET_API_PTR v = 0;
    JET_ERR rc;

    rc = JetGetSystemParameter(j->inst, JET_sesidNil, JET_paramDatabasePageSize, &v, NULL, 0);
    if (rc < 0)
        return rc;
    info->cb_page = (unsigned long)v;
    v = 0;
    rc = JetGetSystemParameter(j->inst, JET_sesidNil, JET_paramCircularLog, &v, NULL, 0);
    if (rc < 0)
        return rc;
    info->circular = v != 0;
    snprintf(info->instance, sizeof info->instance, "%s", j->name);
    snprintf(info->base_name, sizeof info->base_name, "%.3s", j->base);
    return 0;
}

/* JetBeginExternalBackupInstance on the hosted instance. */
static JET_ERR jb_begin(void *p, JET_GRBIT grbit)
{
    return JetBeginExternalBackupInstance(((jet_ctx *)p)->inst, grbit);
}

/* JetGetAttachInfoInstance: the database list (size-first multi-string). */
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

/* JetReadFileInstance: the next bytes of the open file. */
static JET_ERR jb_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    return JetReadFileInstance(((jet_ctx *)p)->inst, h, pv, cb, pcb);
}

/* JetCloseFileInstance. */
static JET_ERR jb_close(void *p, JET_HANDLE h)
{
    return JetCloseFileInstance(((jet_ctx *)p)->inst, h);
}

/* JetGetLogInfoInstance2: the log list (rolls the log). */
static JET_ERR jb_log_info(void *p, char *szz, unsigned long cb, unsigned long *pcb,
                           JET_LOGINFO_A *li)
{
    return JetGetLogInfoInstance2(((jet_ctx *)p)->inst, szz, cb, pcb, li);
}

/* JetTruncateLogInstance. */
static JET_ERR jb_truncate(void *p)
{
    return JetTruncateLogInstance(((jet_ctx *)p)->inst);
}

/* JetEndExternalBackupInstance2 with Normal or Abort. */
static JET_ERR jb_end(void *p, JET_GRBIT grbit)
{
    return JetEndExternalBackupInstance2(((jet_ctx *)p)->inst, grbit);
}

/* Detach, end the session and terminate the instance cleanly (a failing
 * JetTerm2(Complete) is logged and followed by a plain JetTerm, which still
 * releases the instance and its lock).  Safe with a partly opened j. */
static void jb_destroy(void *p)
{
    jet_ctx *j = p;
    JET_ERR rc;

    if (!j)
        return;
    for (int i = 0; i < j->attached; i++)
        (void)JetDetachDatabase(j->ses, j->dbs[i]);
    if (j->ses != JET_sesidNil)
        (void)JetEndSession(j->ses, 0);
    if (j->inited) {
        rc = JetTerm2(j->inst, JET_bitTermComplete);
        if (rc < 0) {
            fs_log(FS_LOG_ERR, "JetTerm2(Complete) of the in-process instance failed: %s (%ld)",
                   JetLibErrorName(rc), (long)rc);
            (void)JetTerm(j->inst);
        } else {
            fs_log(FS_LOG_INFO, "in-process instance terminated cleanly (JetTerm2)");
        }
    }
    free(j);
}

/* The log file size to configure when the INI gives none: the size of the
 * instance's current log file (<log_path>/<base>.log, or .jtx without
 * ESE98 names), so that hosting the instance for a backup never changes
 * its log file size.  Returns KiB, or 0 (engine default) when there is no
 * usable current log (a new instance). */
static unsigned long jb_current_log_kib(const fs_config *cfg)
{
    static const char *const ext[] = { ".log", ".jtx" };
    char path[FS_CONF_PATH + 16];
    struct stat st;

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(path, sizeof path, "%s/%s%s", cfg->log_path, cfg->base_name, ext[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (64 << 10) &&
            st.st_size <= (1 << 30) && st.st_size % 4096 == 0)
            return (unsigned long)(st.st_size >> 10);
    }
    return 0;
}

static const fs_backend_ops jet_ops = {
    "libjet in-process", jb_info, jb_begin, jb_attach_info, jb_open, jb_read, jb_close,
    jb_log_info, jb_truncate, jb_end, NULL, jb_destroy,
};

/* See backend.h. */
JET_ERR fs_backend_jet_open(const fs_config *cfg, fs_backend *be, char *err, size_t cb_err)
{
    jet_ctx *j = calloc(1, sizeof *j);
    char sys[FS_CONF_PATH + 2], logp[FS_CONF_PATH + 2];
    const char *step = "JetCreateInstance";
    unsigned long log_kib;
    JET_ERR rc;

    if (!j) {
        snprintf(err, cb_err, "out of memory");
        return JET_errOutOfMemory;
    }
    err[0] = 0;
    j->ses = JET_sesidNil;
    snprintf(j->name, sizeof j->name, "%s", cfg->instance);
    snprintf(j->base, sizeof j->base, "%s", cfg->base_name);
    snprintf(sys, sizeof sys, "%s/", cfg->system_path);
    snprintf(logp, sizeof logp, "%s/", cfg->log_path);
    rc = JetCreateInstance(&j->inst, cfg->instance);
    if (rc < 0)
        goto out;
    j->created = 1;
    step = "JetSetSystemParameter";
    rc = JetSetSystemParameter(&j->inst, JET_sesidNil, JET_paramSystemPath, 0, sys);
    if (rc >= 0)
        rc = JetSetSystemParameter(&j->inst, JET_sesidNil, JET_paramLogFilePath, 0, logp);
    if (rc >= 0)
        rc = JetSetSystemParameter(&j->inst, JET_sesidNil, JET_paramBaseName, 0, cfg->base_name);
    if (rc >= 0 && cfg->page_size)
        rc = JetSetSystemParameter(&j->inst, JET_sesidNil, JET_paramDatabasePageSize,
                                   cfg->page_size, NULL);
    log_kib = cfg->log_file_size_kib ? cfg->log_file_size_kib : jb_current_log_kib(cfg);
    if (rc >= 0 && log_kib)
        rc = JetSetSystemParameter(&j->inst, JET_sesidNil, JET_paramLogFileSize, log_kib, NULL);
    if (rc < 0)
        goto out;
    step = "JetInit";
    rc = JetInit(&j->inst);
    if (rc < 0)
        goto out;
    j->inited = 1;
    step = "JetBeginSession";
    rc = JetBeginSession(j->inst, &j->ses, "", "");
    if (rc < 0)
        goto out;
    step = "JetAttachDatabase";
    for (int i = 0; i < cfg->ndatabases; i++) {
        rc = JetAttachDatabase(j->ses, cfg->databases[i], 0);
        if (rc < 0) {
            snprintf(err, cb_err, "JetAttachDatabase(%s) failed: %s (%ld)", cfg->databases[i],
                     JetLibErrorName(rc), (long)rc);
            goto out;
        }
        snprintf(j->dbs[j->attached++], FS_CONF_PATH, "%s", cfg->databases[i]);
    }
    be->ops = &jet_ops;
    be->ctx = j;
    j = NULL;
    rc = 0;
out:
    if (rc < 0 && !err[0])
        snprintf(err, cb_err, "%s (in-process instance %s) failed: %s (%ld)%s", step,
                 cfg->log_path, JetLibErrorName(rc), (long)rc,
                 rc == JET_errFileAccessDenied
                     ? ": another process has the instance open (mount through its "
                       "[source] endpoint instead)" : "");
    if (j) {
        if (j->created && !j->inited)
            (void)JetTerm(j->inst);
        jb_destroy(j);
    }
    return rc;
}
