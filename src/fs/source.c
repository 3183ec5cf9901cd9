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
    bkc_host_params p = {
        .instance = cfg->instance,
        .system_path = cfg->system_path,
        .log_path = cfg->log_path,
        .base_name = cfg->base_name,
        .page_size = cfg->page_size,
        .log_kib = cfg->log_file_size_kib,
        .circular = -1,
        .legacy = -1,
        .extra = NULL,
        .nextra = 0,
    };

    if (cfg->endpoint[0])
        return bkc_ep_open(cfg->endpoint, src, err, cb_err);
    for (int i = 0; i < cfg->ndatabases; i++)
        dbs[i] = cfg->databases[i];
    return bkc_jet_open(&p, dbs, (size_t)cfg->ndatabases, src, err, cb_err);
}
