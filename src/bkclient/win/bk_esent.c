/*
 * bk_esent.c -- the backup-source table over ESENT.DLL in-process: the
 * driver hosts the instance itself (JetCreateInstance2W, system
 * parameters, JetInit3W runs soft recovery, a session attaches the
 * databases) with the wide calls, like bk_jet.c over libjet.  ESENT.DLL
 * ships with every Windows, so it is imported (libesent.a).  Reads go
 * through the bounce buffer of winbk.c, so every JetReadFileInstance
 * obeys ESE's rules whatever the caller's buffer.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "winbk.h"

#define EB_MAX_DBS 16

typedef struct esent_ctx {
    JET_INSTANCE inst;
    JET_SESID ses;
    char name[64];
    char *logs; /* log list (fetched once: the call rolls the log) */
    unsigned long cb_logs;
    JET_LOGINFO_A li;
    JET_HANDLE h;
    bool file_open;
    wb_bounce bounce;
    char detail[256];
} esent_ctx;

/* Keep "call: JET_errX" in detail and return rc. */
static JET_ERR eb_fail(esent_ctx *c, const char *call, JET_ERR rc)
{
    snprintf(c->detail, sizeof c->detail, "%s: %s (%ld)", call, bkc_err_name(rc), (long)rc);
    return rc;
}

static JET_ERR eb_info(void *p, bkc_info *info)
{
    static const unsigned long ids[] = { JET_paramDatabasePageSize, JET_paramCircularLog,
                                         JET_paramLegacyFileNames, JET_paramLogFileSize };
    esent_ctx *c = p;
    JET_API_PTR v[4] = { 0, 0, 0, 0 };
    WCHAR base[16] = L"";
    JET_ERR rc = 0;

    for (size_t i = 0; rc >= 0 && i < 4; i++)
        rc = JetGetSystemParameterW(c->inst, JET_sesidNil, ids[i], &v[i], NULL, 0);
    if (rc >= 0)
        rc = JetGetSystemParameterW(c->inst, JET_sesidNil, JET_paramBaseName, NULL, base,
                                    sizeof base);
    if (rc < 0)
        return eb_fail(c, "JetGetSystemParameterW", rc);
    memset(info, 0, sizeof *info);
    info->cb_page = (unsigned long)v[0];
    info->circular = v[1] != 0;
    info->legacy = (unsigned long)v[2];
    info->log_kib = (unsigned long)v[3];
    snprintf(info->instance, sizeof info->instance, "%s", c->name);
    for (size_t i = 0; i < JET_BASE_NAME_LENGTH && base[i]; i++)
        info->base_name[i] = base[i] < 0x80 ? (char)base[i] : '?';
    return 0;
}

static JET_ERR eb_begin(void *p, JET_GRBIT grbit)
{
    esent_ctx *c = p;
    JET_ERR rc = JetBeginExternalBackupInstance(c->inst, grbit);

    free(c->logs);
    c->logs = NULL;
    c->file_open = false;
    return rc < 0 ? eb_fail(c, "JetBeginExternalBackupInstance", rc) : rc;
}

/* A W list call: size first (the W forms never report a short buffer),
 * fetch, convert to UTF-8. */
static JET_ERR eb_wlist(esent_ctx *c, const char *call,
                        JET_ERR(JET_API *fn)(JET_INSTANCE, WCHAR *, unsigned long, unsigned long *),
                        char **pszz, unsigned long *pcb)
{
    unsigned long cb = 0, cb2 = 0;
    WCHAR *w = NULL;
    JET_ERR rc = fn(c->inst, NULL, 0, &cb);

    if (rc < 0)
        return eb_fail(c, call, rc);
    w = calloc(1, cb + 2 * sizeof *w);
    if (!w)
        return JET_errOutOfMemory;
    rc = fn(c->inst, w, cb, &cb2);
    if (rc < 0)
        rc = eb_fail(c, call, rc);
    else
        rc = wb_szz_from_wide(w, cb2 < cb ? cb2 : cb, NULL, pszz, pcb);
    free(w);
    return rc;
}

static JET_ERR eb_attach_info(void *p, char *szz, unsigned long cb_max, unsigned long *pcb)
{
    esent_ctx *c = p;
    char *list = NULL;
    unsigned long cb = 0;
    JET_ERR rc = eb_wlist(c, "JetGetAttachInfoInstanceW", JetGetAttachInfoInstanceW, &list, &cb);

    if (rc >= 0)
        rc = wb_szz_out(list, cb, szz, cb_max, pcb);
    free(list);
    return rc;
}

static JET_ERR eb_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    esent_ctx *c = p;
    unsigned long lo = 0, hi = 0;
    wchar_t *w = wb_wide(name);
    JET_ERR rc;

    if (!w)
        return JET_errOutOfMemory;
    rc = JetOpenFileInstanceW(c->inst, w, &c->h, &lo, &hi);
    free(w);
    if (rc < 0)
        return eb_fail(c, "JetOpenFileInstanceW", rc);
    c->file_open = true;
    wb_bounce_reset(&c->bounce);
    *ph = c->h;
    *psize = ((uint64_t)hi << 32) | lo;
    return 0;
}

static JET_ERR eb_raw_read(void *p, void *buf, unsigned long cb, unsigned long *pcb)
{
    esent_ctx *c = p;
    unsigned long n = 0;
    JET_ERR rc = JetReadFileInstance(c->inst, c->h, buf, cb, &n);

    *pcb = 0;
    if (rc < 0) {
        c->file_open = false; /* ESE closed the file or ended the backup */
        return eb_fail(c, "JetReadFileInstance", rc);
    }
    *pcb = n;
    return 0;
}

static JET_ERR eb_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    esent_ctx *c = p;

    *pcb = 0;
    if (!c->file_open || h != c->h)
        return JET_errInvalidParameter;
    return wb_bounce_read(&c->bounce, eb_raw_read, c, pv, cb, pcb);
}

static JET_ERR eb_close(void *p, JET_HANDLE h)
{
    esent_ctx *c = p;
    JET_ERR rc;

    if (!c->file_open || h != c->h)
        return JET_errInvalidParameter;
    c->file_open = false;
    rc = JetCloseFileInstance(c->inst, h);
    return rc < 0 ? eb_fail(c, "JetCloseFileInstance", rc) : rc;
}

/* JetGetLogInfoInstance2W, called once per backup (it rolls the log). */
static JET_ERR eb_log_info(void *p, char *szz, unsigned long cb_max, unsigned long *pcb,
                           JET_LOGINFO_A *li)
{
    esent_ctx *c = p;
    unsigned long cb = 0, cb2 = 0;
    JET_LOGINFO_W lw;
    WCHAR *w = NULL;
    JET_ERR rc = 0;

    if (!c->logs) {
        memset(&lw, 0, sizeof lw);
        lw.cbSize = sizeof lw;
        rc = JetGetLogInfoInstance2W(c->inst, NULL, 0, &cb, &lw);
        if (rc < 0)
            return eb_fail(c, "JetGetLogInfoInstance2W", rc);
        w = calloc(1, cb + 2 * sizeof *w);
        if (!w)
            return JET_errOutOfMemory;
        rc = JetGetLogInfoInstance2W(c->inst, w, cb, &cb2, &lw);
        if (rc < 0)
            rc = eb_fail(c, "JetGetLogInfoInstance2W", rc);
        else
            rc = wb_szz_from_wide(w, cb2 < cb ? cb2 : cb, NULL, &c->logs, &c->cb_logs);
        free(w);
        if (rc < 0)
            return rc;
        c->li.ulGenLow = lw.ulGenLow;
        c->li.ulGenHigh = lw.ulGenHigh;
        for (size_t i = 0; i < JET_BASE_NAME_LENGTH && lw.szBaseName[i]; i++)
            c->li.szBaseName[i] = lw.szBaseName[i] < 0x80 ? (char)lw.szBaseName[i] : '?';
    }
    if (li) {
        li->ulGenLow = c->li.ulGenLow;
        li->ulGenHigh = c->li.ulGenHigh;
        memcpy(li->szBaseName, c->li.szBaseName, sizeof li->szBaseName);
    }
    return wb_szz_out(c->logs, c->cb_logs, szz, cb_max, pcb);
}

static JET_ERR eb_trunc_info(void *p, char *szz, unsigned long cb_max, unsigned long *pcb)
{
    esent_ctx *c = p;
    char *list = NULL;
    unsigned long cb = 0;
    JET_ERR rc =
        eb_wlist(c, "JetGetTruncateLogInfoInstanceW", JetGetTruncateLogInfoInstanceW, &list, &cb);

    if (rc >= 0)
        rc = wb_szz_out(list, cb, szz, cb_max, pcb);
    free(list);
    return rc;
}

static JET_ERR eb_truncate(void *p)
{
    esent_ctx *c = p;
    JET_ERR rc = JetTruncateLogInstance(c->inst);

    return rc < 0 ? eb_fail(c, "JetTruncateLogInstance", rc) : rc;
}

static JET_ERR eb_end(void *p, JET_GRBIT grbit)
{
    esent_ctx *c = p;
    JET_ERR rc = JetEndExternalBackupInstance2(c->inst, grbit);

    c->file_open = false;
    return rc < 0 ? eb_fail(c, "JetEndExternalBackupInstance2", rc) : rc;
}

static const char *eb_detail(void *p)
{
    return ((esent_ctx *)p)->detail;
}

/* End the session, JetTerm2(Complete), JetTerm if that fails. */
static JET_ERR eb_release(esent_ctx *c)
{
    JET_ERR rc = 0;

    if (c->ses != JET_sesidNil)
        (void)JetEndSession(c->ses, 0);
    if (c->inst != JET_instanceNil) {
        rc = JetTerm2(c->inst, JET_bitTermComplete);
        if (rc < 0)
            (void)JetTerm(c->inst);
    }
    wb_bounce_free(&c->bounce);
    free(c->logs);
    free(c);
    return rc;
}

static JET_ERR eb_destroy(void *p)
{
    return eb_release(p);
}

static const bkc_ops esent_ops = {
    .name = "ESENT in-process",
    .info = eb_info,
    .begin = eb_begin,
    .attach_info = eb_attach_info,
    .open = eb_open,
    .read = eb_read,
    .close = eb_close,
    .log_info = eb_log_info,
    .trunc_info = eb_trunc_info,
    .truncate = eb_truncate,
    .end = eb_end,
    .committed_at_roll = NULL,
    .destroy = eb_destroy,
    .detail = eb_detail,
};

/* JetSetSystemParameterW with a string (s) or a number. */
static JET_ERR eb_param(esent_ctx *c, unsigned long id, JET_API_PTR v, const char *s)
{
    wchar_t *w = NULL;
    JET_ERR rc;

    if (s) {
        w = wb_wide(s);
        if (!w)
            return JET_errInvalidParameter;
    }
    rc = JetSetSystemParameterW(&c->inst, JET_sesidNil, id, v, w);
    free(w);
    return rc;
}

/* Set the instance's system parameters from p (log and system path, base
 * name, recovery on, circular logging off, page and log size, legacy
 * names, the extra ones), stopping at the first failure; *pstep names the
 * call.  0 or the Jet error.  Before JetInit3W only. */
static JET_ERR eb_set_params(esent_ctx *c, const bkc_host_params *p, const char **pstep)
{
    JET_ERR rc;

    *pstep = "JetSetSystemParameterW(LogFilePath)";
    rc = eb_param(c, JET_paramLogFilePath, 0, p->log_path);
    if (rc >= 0 && p->system_path) {
        *pstep = "JetSetSystemParameterW(SystemPath)";
        rc = eb_param(c, JET_paramSystemPath, 0, p->system_path);
    }
    if (rc >= 0 && p->base_name && *p->base_name) {
        *pstep = "JetSetSystemParameterW(BaseName)";
        rc = eb_param(c, JET_paramBaseName, 0, p->base_name);
    }
    if (rc >= 0) {
        *pstep = "JetSetSystemParameterW(Recovery)";
        rc = eb_param(c, JET_paramRecovery, 0, "On");
    }
    if (rc >= 0) {
        *pstep = "JetSetSystemParameterW(CircularLog)";
        rc = eb_param(c, JET_paramCircularLog, 0, NULL);
    }
    if (rc >= 0 && p->page_size) {
        *pstep = "JetSetSystemParameterW(DatabasePageSize)";
        rc = eb_param(c, JET_paramDatabasePageSize, p->page_size, NULL);
    }
    if (rc >= 0 && p->log_kib) {
        *pstep = "JetSetSystemParameterW(LogFileSize)";
        rc = eb_param(c, JET_paramLogFileSize, p->log_kib, NULL);
    }
    if (rc >= 0 && p->legacy >= 0) {
        *pstep = "JetSetSystemParameterW(LegacyFileNames)";
        rc = eb_param(c, JET_paramLegacyFileNames, (JET_API_PTR)p->legacy, NULL);
    }
    for (size_t i = 0; rc >= 0 && i < p->nextra; i++) {
        *pstep = "JetSetSystemParameterW";
        rc = eb_param(c, p->extra[i].id, p->extra[i].value, NULL);
    }
    return rc;
}

/* See bkclient.h. */
JET_ERR bkc_esent_open(const bkc_host_params *p, const char *const *dbs, size_t ndbs,
                       bkc_source *src, char *err, size_t cb_err)
{
    esent_ctx *c = calloc(1, sizeof *c);
    const char *step = "calloc";
    wchar_t *w = NULL;
    JET_ERR rc = JET_errOutOfMemory;

    if (!c)
        goto out;
    c->inst = JET_instanceNil;
    c->ses = JET_sesidNil;
    snprintf(c->name, sizeof c->name, "%s", p->instance ? p->instance : "");
    step = "VirtualAlloc";
    rc = wb_bounce_init(&c->bounce);
    if (rc < 0)
        goto out;
    step = "JetCreateInstance2W";
    w = wb_wide(c->name);
    rc = w ? JetCreateInstance2W(&c->inst, w, w, 0) : JET_errInvalidParameter;
    free(w);
    w = NULL;
    if (rc < 0) {
        c->inst = JET_instanceNil;
        goto out;
    }
    rc = eb_set_params(c, p, &step);
    if (rc < 0)
        goto out;
    step = "JetInit3W";
    rc = JetInit3W(&c->inst, NULL, 0);
    if (rc < 0)
        goto out;
    step = "JetBeginSessionW";
    rc = JetBeginSessionW(c->inst, &c->ses, NULL, NULL);
    if (rc < 0) {
        c->ses = JET_sesidNil;
        goto out;
    }
    for (size_t i = 0; rc >= 0 && i < ndbs; i++) {
        step = "JetAttachDatabase2W";
        w = wb_wide(dbs[i]);
        rc = w ? JetAttachDatabase2W(c->ses, w, 0, 0) : JET_errInvalidParameter;
        free(w);
        w = NULL;
    }
out:
    if (rc < 0) {
        snprintf(err, cb_err, "ESENT: %s: %s (%ld)", step, bkc_err_name(rc), (long)rc);
        if (c)
            (void)eb_release(c);
        return rc;
    }
    src->ops = &esent_ops;
    src->ctx = c;
    return 0;
}
