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
    bkc_host_params p;
    size_t ndbs = fs_source_params(cfg, &p, dbs);

    switch (cfg->source) {
    case FS_SOURCE_ESENT:
        return bkc_esent_open(&p, dbs, ndbs, src, err, cb_err);
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
