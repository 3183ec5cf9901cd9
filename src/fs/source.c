/*
 * source.c -- the configuration's [source] as a bkclient backup source.
 */
#include "config.h"
#include "bkclient.h"
#include "fsops.h"

/* See fsops.h. */
JET_ERR fs_source_open(const fs_config *cfg, bkc_source *src, char *err, size_t cb_err)
{
    const char *dbs[FS_CONF_MAX_DBS];
    bkc_host_params p;
    size_t ndbs = fs_source_params(cfg, &p, dbs);

    if (cfg->endpoint[0])
        return bkc_ep_open(cfg->endpoint, src, err, cb_err);
    return bkc_jet_open(&p, dbs, ndbs, src, err, cb_err);
}
