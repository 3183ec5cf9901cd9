/*
 * fs_memfuse.c -- the FUSE ceiling for tests/bench_fs.sh: one read-only
 * file "/data" of SIZE bytes served from memory with the same libfuse
 * settings as esebackupfs (src/fs/posix/fuse_ops.c: high-level API,
 * direct_io on every open, no kernel read-ahead, no async direct I/O, no
 * splice, frozen attributes, st_blksize 1 MiB), so that a ratio against it
 * measures the driver and not a difference in settings.
 * Usage: fs_memfuse SIZE MOUNTPOINT [-f].
 */
#include "config.h"
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>

/* The one context of this tiny program. */
static struct mem_ctx {
    char *data;
    size_t size;
} mem;

static void *m_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    cfg->kernel_cache = 1;
    cfg->attr_timeout = cfg->entry_timeout = 86400;
    conn->max_readahead = 0;
    if (conn->max_background < 64)
        conn->max_background = 64;
    conn->want &=
        ~(unsigned)(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE |
                    FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_ASYNC_DIO);
    return NULL;
}

static int m_getattr(const char *p, struct stat *st, struct fuse_file_info *fi)
{
    (void)fi;
    memset(st, 0, sizeof *st);
    if (!strcmp(p, "/")) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return 0;
    }
    if (strcmp(p, "/data"))
        return -ENOENT;
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = (off_t)mem.size;
    st->st_blksize = 1 << 20;
    st->st_blocks = (blkcnt_t)((mem.size + 511) / 512);
    return 0;
}

static int m_open(const char *p, struct fuse_file_info *fi)
{
    if (strcmp(p, "/data"))
        return -ENOENT;
    fi->keep_cache = 0;
    fi->direct_io = 1;
    return 0;
}

static int m_read(const char *p, char *buf, size_t n, off_t off, struct fuse_file_info *fi)
{
    (void)p;
    (void)fi;
    if ((size_t)off >= mem.size)
        return 0;
    if (n > mem.size - (size_t)off)
        n = mem.size - (size_t)off;
    memcpy(buf, mem.data + off, n);
    return (int)n;
}

static const struct fuse_operations m_ops = {
    .init = m_init,
    .getattr = m_getattr,
    .open = m_open,
    .read = m_read,
};

int main(int argc, char **argv)
{
    char *fargv[8];
    int fargc = 0;

    if (argc < 3)
        return 2;
    mem.size = strtoull(argv[1], NULL, 0);
    mem.data = malloc(mem.size);
    if (!mem.data)
        return 1;
    for (size_t i = 0; i < mem.size; i++)
        mem.data[i] = (char)(i * 131 + (i >> 12));
    fargv[fargc++] = argv[0];
    fargv[fargc++] = argv[2];
    fargv[fargc++] = (char *)"-oro,default_permissions,fsname=memfuse";
    if (argc > 3)
        fargv[fargc++] = argv[3];
    fargv[fargc] = NULL;
    return fuse_main(fargc, fargv, &m_ops, NULL);
}
