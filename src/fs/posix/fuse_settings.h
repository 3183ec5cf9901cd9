/*
 * fuse_settings.h -- the libfuse settings of an esebackupfs mount, in one
 * place: the driver's init (fuse_ops.c op_init) and the benchmark's FUSE
 * ceiling (tests/fs_memfuse.c) both apply them, so that a ratio against
 * the ceiling measures the driver and not a difference in settings.
 * Include after <fuse.h> (FUSE_USE_VERSION 35).  Every file is opened
 * direct_io as well (each caller's open sets it).
 */
#ifndef FSX_FUSE_SETTINGS_H
#define FSX_FUSE_SETTINGS_H

/* Frozen attributes cached, no kernel read-ahead (every file is direct
 * I/O), at least 64 requests in flight, no splice, no readdirplus, and no
 * async direct I/O: the parts of one large read(2) arrive one after the
 * other, in order (the driver's stream window relies on it). */
static inline void fsx_fuse_settings(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->kernel_cache = 1;
    cfg->attr_timeout = 86400.0 * 365;
    cfg->entry_timeout = 86400.0 * 365;
    conn->max_readahead = 0;
    if (conn->max_background < 64)
        conn->max_background = 64;
    conn->want &=
        ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                    FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_ASYNC_DIO);
}

#endif
