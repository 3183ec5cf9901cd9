/*
 * host.c -- hosting an instance in this process (JetCreateInstance, the
 * parameters, JetInit; clean termination): used by the libjet in-process
 * source, jetutil's instances and the engine tests.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "bkclient.h"

#define HOST_PATH 4096

/* dir with a trailing '/' into buf; JET_errInvalidPath if too long. */
static JET_ERR dir_slash(const char *dir, char *buf, size_t cb)
{
    size_t n = strlen(dir);
    int w = snprintf(buf, cb, "%s%s", dir, n && dir[n - 1] == '/' ? "" : "/");

    return w < 0 || (size_t)w >= cb ? JET_errInvalidPath : 0;
}

/* The size in KiB of the instance's current log file (<log>/<base>.log,
 * or .jtx without ESE98 names), or 0 when there is no usable one. */
static unsigned long current_log_kib(const char *log_dir, const char *base)
{
    static const char *const ext[] = { ".log", ".jtx" };
    char path[HOST_PATH + 16];
    struct stat st;

    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        snprintf(path, sizeof path, "%s%s%s", log_dir, base && *base ? base : "edb", ext[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= (64 << 10) &&
            st.st_size <= (1 << 30) && st.st_size % 4096 == 0)
            return (unsigned long)(st.st_size >> 10);
    }
    return 0;
}

/* Set the parameters of p on *pinst, in a fixed order. */
static JET_ERR set_params(const bkc_host_params *p, JET_INSTANCE *pinst)
{
    char sys[HOST_PATH], logp[HOST_PATH];
    unsigned long log_kib;
    JET_ERR rc;

    rc = dir_slash(p->system_path, sys, sizeof sys);
    if (rc >= 0)
        rc = dir_slash(p->log_path, logp, sizeof logp);
    if (rc >= 0)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramSystemPath, 0, sys);
    if (rc >= 0)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramLogFilePath, 0, logp);
    if (rc >= 0 && p->base_name && p->base_name[0])
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramBaseName, 0, p->base_name);
    log_kib = p->log_kib ? p->log_kib : current_log_kib(logp, p->base_name);
    if (rc >= 0 && log_kib)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramLogFileSize, log_kib, NULL);
    if (rc >= 0 && p->circular >= 0)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramCircularLog,
                                   (JET_API_PTR)p->circular, NULL);
    if (rc >= 0 && p->page_size)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramDatabasePageSize, p->page_size,
                                   NULL);
    if (rc >= 0 && p->legacy >= 0)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, JET_paramLegacyFileNames,
                                   (JET_API_PTR)p->legacy, NULL);
    for (size_t i = 0; rc >= 0 && i < p->nextra; i++)
        rc = JetSetSystemParameter(pinst, JET_sesidNil, p->extra[i].id, p->extra[i].value, NULL);
    return rc;
}

/* See bkclient.h. */
JET_ERR bkc_host_create(const bkc_host_params *p, JET_INSTANCE *pinst, const char **pstep)
{
    JET_ERR rc;

    if (pstep)
        *pstep = "JetCreateInstance";
    rc = JetCreateInstance(pinst, p->instance);
    if (rc < 0)
        return rc;
    if (pstep)
        *pstep = "JetSetSystemParameter";
    rc = set_params(p, pinst);
    if (rc < 0)
        (void)JetTerm(*pinst);
    return rc;
}

/* See bkclient.h. */
JET_ERR bkc_host_init(const bkc_host_params *p, JET_INSTANCE *pinst, const char **pstep)
{
    JET_ERR rc = bkc_host_create(p, pinst, pstep);

    if (rc < 0)
        return rc;
    if (pstep)
        *pstep = "JetInit";
    rc = JetInit(pinst);
    if (rc < 0)
        (void)JetTerm(*pinst);
    return rc;
}

/* See bkclient.h. */
JET_ERR bkc_host_term(JET_INSTANCE inst)
{
    JET_ERR rc = JetTerm2(inst, JET_bitTermComplete);

    if (rc < 0)
        (void)JetTerm(inst);
    return rc;
}
