/*
 * bk_ep.c -- the backup-source table over libjet's backup endpoint
 * (endpoint.h): every call is the Jep* mirror of the Jet call.  A broken
 * connection yields JET_errInstanceUnavailable and the host aborts the
 * backup; so does our death (SIGKILL).  The endpoint's wire jep_info is
 * converted into the one bkc_info here and nowhere else.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bkclient.h"
#include "endpoint.h"
#include "jetlib.h"

typedef struct ep_ctx {
    jep_client *c;
} ep_ctx;

/* Instance facts from JepGetInfo (log size: unknown). */
static JET_ERR ep_info(void *p, bkc_info *info)
{
    jep_info ji;
    JET_ERR rc;

    memset(&ji, 0, sizeof ji);
    rc = JepGetInfo(((ep_ctx *)p)->c, &ji);
    if (rc < 0)
        return rc;
    memset(info, 0, sizeof *info);
    snprintf(info->instance, sizeof info->instance, "%s", ji.instance_name);
    snprintf(info->base_name, sizeof info->base_name, "%s", ji.base_name);
    info->cb_page = ji.cb_page;
    info->circular = ji.circular != 0;
    info->legacy = ji.legacy;
    info->log_kib = 0;
    return rc;
}

/* JepBeginExternalBackup. */
static JET_ERR ep_begin(void *p, JET_GRBIT grbit)
{
    return JepBeginExternalBackup(((ep_ctx *)p)->c, grbit);
}

/* JepGetAttachInfo. */
static JET_ERR ep_attach_info(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    return JepGetAttachInfo(((ep_ctx *)p)->c, szz, cb, pcb);
}

/* JepOpenFile; combine the two 32-bit size halves. */
static JET_ERR ep_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    unsigned long lo = 0, hi = 0;
    JET_ERR rc = JepOpenFile(((ep_ctx *)p)->c, name, ph, &lo, &hi);

    if (rc >= 0)
        *psize = ((uint64_t)(hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
    return rc;
}

/* JepReadFile. */
static JET_ERR ep_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    return JepReadFile(((ep_ctx *)p)->c, h, pv, cb, pcb);
}

/* JepCloseFile. */
static JET_ERR ep_close(void *p, JET_HANDLE h)
{
    return JepCloseFile(((ep_ctx *)p)->c, h);
}

/* JepGetLogInfo2 (rolls the log on the host). */
static JET_ERR ep_log_info(void *p, char *szz, unsigned long cb, unsigned long *pcb,
                           JET_LOGINFO_A *li)
{
    return JepGetLogInfo2(((ep_ctx *)p)->c, szz, cb, pcb, li);
}

/* JepGetTruncateLogInfo. */
static JET_ERR ep_trunc_info(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    return JepGetTruncateLogInfo(((ep_ctx *)p)->c, szz, cb, pcb);
}

/* JepTruncateLog. */
static JET_ERR ep_truncate(void *p)
{
    return JepTruncateLog(((ep_ctx *)p)->c);
}

/* JepEndExternalBackup2. */
static JET_ERR ep_end(void *p, JET_GRBIT grbit)
{
    return JepEndExternalBackup2(((ep_ctx *)p)->c, grbit);
}

/* JepGetCommittedAtRoll. */
static JET_ERR ep_committed(void *p, unsigned long long *pn)
{
    return JepGetCommittedAtRoll(((ep_ctx *)p)->c, pn);
}

/* JepCheckBackup: the host's answer, nothing begun. */
static JET_ERR ep_check_begin(void *p, JET_GRBIT grbit, uint64_t *pcb_dbs)
{
    unsigned long long cb = 0;
    JET_ERR rc = JepCheckBackup(((ep_ctx *)p)->c, grbit, &cb, NULL);

    *pcb_dbs = cb;
    return rc;
}

/* Disconnect (the server aborts a backup still in progress). */
static JET_ERR ep_destroy(void *p)
{
    ep_ctx *e = p;

    if (e) {
        JepDisconnect(e->c);
        free(e);
    }
    return 0;
}

static const bkc_ops ep_ops = {
    .name = "endpoint",
    .info = ep_info,
    .begin = ep_begin,
    .attach_info = ep_attach_info,
    .open = ep_open,
    .read = ep_read,
    .close = ep_close,
    .log_info = ep_log_info,
    .trunc_info = ep_trunc_info,
    .truncate = ep_truncate,
    .end = ep_end,
    .committed_at_roll = ep_committed,
    .destroy = ep_destroy,
    .check_begin = ep_check_begin,
};

/* See bkclient.h. */
JET_ERR bkc_ep_open(const char *socket_path, bkc_source *src, char *err, size_t cb_err)
{
    ep_ctx *e = calloc(1, sizeof *e);
    JET_ERR rc;

    err[0] = 0;
    if (!e) {
        snprintf(err, cb_err, "out of memory");
        return JET_errOutOfMemory;
    }
    rc = JepConnect(socket_path, &e->c);
    if (rc < 0) {
        snprintf(err, cb_err, "cannot connect to the backup endpoint %s: %s (%ld)", socket_path,
                 JetLibErrorName(rc), (long)rc);
        free(e);
        return rc;
    }
    src->ops = &ep_ops;
    src->ctx = e;
    return 0;
}
