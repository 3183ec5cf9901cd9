/*
 * backend_ep.c -- the backup-call table over libjet's backup endpoint
 * (endpoint.h): every call is the Jep* mirror of the Jet call.  A broken
 * connection yields JET_errInstanceUnavailable and the host aborts the
 * backup; so does our death (SIGKILL).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "endpoint.h"
#include "jetlib.h"
#include "backend.h"
#include "conf.h"

typedef struct ep_ctx {
    jep_client *c;
} ep_ctx;

/* Instance facts from JepGetInfo. */
static JET_ERR ep_info(void *p, fs_source_info *info)
{
    ep_ctx *e = p;
    jep_info ji;
    JET_ERR rc;

    memset(&ji, 0, sizeof ji);
    rc = JepGetInfo(e->c, &ji);
    if (rc < 0)
        return rc;
    snprintf(info->instance, sizeof info->instance, "%s", ji.instance_name);
    snprintf(info->base_name, sizeof info->base_name, "%s", ji.base_name);
    info->cb_page = ji.cb_page;
    info->circular = ji.circular;
    return rc;
}

/* JepBeginExternalBackup: the host enters backup mode (grbit as Jet). */
static JET_ERR ep_begin(void *p, JET_GRBIT grbit)
{
    return JepBeginExternalBackup(((ep_ctx *)p)->c, grbit);
}

/* JepGetAttachInfo: the database list (size-first multi-string). */
static JET_ERR ep_attach_info(void *p, char *szz, unsigned long cb, unsigned long *pcb)
{
    return JepGetAttachInfo(((ep_ctx *)p)->c, szz, cb, pcb);
}

/* Open; combine the two 32-bit size halves. */
static JET_ERR ep_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    unsigned long lo = 0, hi = 0;
    JET_ERR rc = JepOpenFile(((ep_ctx *)p)->c, name, ph, &lo, &hi);

    if (rc >= 0)
        *psize = ((uint64_t)(hi & 0xFFFFFFFFu) << 32) | (lo & 0xFFFFFFFFu);
    return rc;
}

/* JepReadFile: the next bytes of the open file (rules of JetReadFile). */
static JET_ERR ep_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    return JepReadFile(((ep_ctx *)p)->c, h, pv, cb, pcb);
}

/* JepCloseFile: close the open backup file. */
static JET_ERR ep_close(void *p, JET_HANDLE h)
{
    return JepCloseFile(((ep_ctx *)p)->c, h);
}

/* JepGetLogInfo2: the log list (rolls the log on the host). */
static JET_ERR ep_log_info(void *p, char *szz, unsigned long cb, unsigned long *pcb,
                           JET_LOGINFO_A *li)
{
    return JepGetLogInfo2(((ep_ctx *)p)->c, szz, cb, pcb, li);
}

/* JepTruncateLog: delete the logs the backup made unnecessary. */
static JET_ERR ep_truncate(void *p)
{
    return JepTruncateLog(((ep_ctx *)p)->c);
}

/* JepEndExternalBackup2: end with Normal or Abort. */
static JET_ERR ep_end(void *p, JET_GRBIT grbit)
{
    return JepEndExternalBackup2(((ep_ctx *)p)->c, grbit);
}

/* JepGetCommittedAtRoll: the host's committed counter at the roll. */
static JET_ERR ep_committed(void *p, unsigned long long *pn)
{
    return JepGetCommittedAtRoll(((ep_ctx *)p)->c, pn);
}

/* Disconnect (the server aborts a backup still in progress). */
static void ep_destroy(void *p)
{
    ep_ctx *e = p;

    if (!e)
        return;
    JepDisconnect(e->c);
    free(e);
}

static const fs_backend_ops ep_ops = {
    "endpoint", ep_info, ep_begin, ep_attach_info, ep_open, ep_read, ep_close,
    ep_log_info, ep_truncate, ep_end, ep_committed, ep_destroy,
};

/* See backend.h: connect to cfg->endpoint. */
JET_ERR fs_backend_ep_open(const fs_config *cfg, fs_backend *be, char *err, size_t cb_err)
{
    ep_ctx *e = calloc(1, sizeof *e);
    JET_ERR rc;

    if (!e) {
        snprintf(err, cb_err, "out of memory");
        return JET_errOutOfMemory;
    }
    rc = JepConnect(cfg->endpoint, &e->c);
    if (rc < 0) {
        snprintf(err, cb_err, "cannot connect to the backup endpoint %s: %s (%ld)", cfg->endpoint,
                 JetLibErrorName(rc), (long)rc);
        free(e);
        return rc;
    }
    be->ops = &ep_ops;
    be->ctx = e;
    return 0;
}

/* See backend.h. */
JET_ERR fs_backend_open(const fs_config *cfg, fs_backend *be, char *err, size_t cb_err)
{
    if (cfg->endpoint[0])
        return fs_backend_ep_open(cfg, be, err, cb_err);
    return fs_backend_jet_open(cfg, be, err, cb_err);
}
