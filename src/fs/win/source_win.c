/*
 * source_win.c -- the configuration's [source] as a bkclient backup source
 * on Windows (the Windows build's fs_source_open; Linux builds use
 * src/fs/source.c): ESENT in-process, DsBackup or CertSrvBackup.  The
 * configuration has already refused the libjet sources (conf.c).
 */
#include "config.h"
#include <stdio.h>
#include "bkclient.h"
#include "fsops.h"

/* See fsops.h: bkc_esent_open / bkc_dsbackup_open / bkc_certsrv_open by
 * cfg->source; "." names this computer (NULL to the backends).  Errors:
 * the backend's, or JET_errInvalidParameter for a libjet source. */
JET_ERR fs_source_open(const fs_config *cfg, bkc_source *src, char *err, size_t cb_err)
{
    const char *dbs[FS_CONF_MAX_DBS];
    const char *server =
        cfg->server[0] && !(cfg->server[0] == '.' && !cfg->server[1]) ? cfg->server : NULL;
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

    switch (cfg->source) {
    case FS_SOURCE_ESENT:
        for (int i = 0; i < cfg->ndatabases; i++)
            dbs[i] = cfg->databases[i];
        return bkc_esent_open(&p, dbs, (size_t)cfg->ndatabases, src, err, cb_err);
    case FS_SOURCE_DSBACKUP:
        return bkc_dsbackup_open(server, cfg->page_size, src, err, cb_err);
    case FS_SOURCE_CERTSRV:
        return bkc_certsrv_open(server, cfg->page_size, src, err, cb_err);
    default:
        snprintf(err, cb_err, "%s: [source] is a libjet source, which a Windows build cannot open",
                 cfg->file);
        return JET_errInvalidParameter;
    }
}
