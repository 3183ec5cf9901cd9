/*
 * bkclient.c -- helpers over any backup-source table: the size-first
 * multi-string fetch, multi-string iteration, closing a source.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "bkclient.h"

/* One multi-string call of the table; szz NULL = size query. */
static JET_ERR list_call(const bkc_source *src, bkc_list which, char *szz, unsigned long cb,
                         unsigned long *pcb, JET_LOGINFO_A *li)
{
    switch (which) {
    case BKC_LIST_ATTACH:
        return src->ops->attach_info(src->ctx, szz, cb, pcb);
    case BKC_LIST_LOGS:
        return src->ops->log_info(src->ctx, szz, cb, pcb, li);
    case BKC_LIST_TRUNCATE:
        if (!src->ops->trunc_info)
            return JET_errInvalidParameter;
        return src->ops->trunc_info(src->ctx, szz, cb, pcb);
    }
    return JET_errInvalidParameter;
}

/* See bkclient.h. */
JET_ERR bkc_get_list(const bkc_source *src, bkc_list which, char **pszz, JET_LOGINFO_A *li)
{
    unsigned long cb = 0, cb2 = 0;
    char *szz = NULL;
    JET_ERR rc;

    *pszz = NULL;
    rc = list_call(src, which, NULL, 0, &cb, NULL);
    if (rc < 0)
        goto out;
    szz = calloc(1, (size_t)cb + 2);
    if (!szz) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    if (li) {
        memset(li, 0, sizeof *li);
        li->cbSize = sizeof *li;
    }
    rc = list_call(src, which, szz, cb, &cb2, li);
    if (rc < 0)
        goto out;
    *pszz = szz;
    szz = NULL;
out:
    free(szz);
    return rc;
}

/* See bkclient.h. */
const char *bkc_szz_first(const char *szz)
{
    return szz && *szz ? szz : NULL;
}

/* See bkclient.h. */
const char *bkc_szz_next(const char *p)
{
    p += strlen(p) + 1;
    return *p ? p : NULL;
}

/* See bkclient.h. */
JET_ERR bkc_close(bkc_source *src)
{
    JET_ERR rc = 0;

    if (src->ops && src->ops->destroy)
        rc = src->ops->destroy(src->ctx);
    src->ops = NULL;
    src->ctx = NULL;
    return rc;
}
