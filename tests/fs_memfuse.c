/*
 * fs_memfuse.c -- the FUSE ceiling for tests/bench_fs.sh: one read-only
 * file "/data" of SIZE bytes served from memory with the same libfuse
 * settings as esebackupfs (src/fs/posix/fuse_settings.h, applied by both;
 * high-level API, direct_io on every open, no kernel read-ahead, no async
 * direct I/O, no splice, frozen attributes, st_blksize 1 MiB), so that a
 * ratio against it measures the driver and not a difference in settings.
 * Usage: fs_memfuse SIZE MOUNTPOINT [-f].
 *
 * With FS_MEMFUSE_FILE=PATH the bytes come from that file instead (as the
 * driver's spool re-reads do): FS_MEMFUSE_SPLICE=1 replies with an
 * fd-backed buffer (read_buf, FUSE_BUF_IS_FD, splice to /dev/fuse),
 * otherwise pread into the reply buffer -- the benchmark's splice
 * measurement (issue 10 part 2).
 */
#include "config.h"
#define FUSE_USE_VERSION 35
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fuse_settings.h"

/* The one context of this tiny program. */
static struct mem_ctx {
    char *data;
    size_t size;
    int fd;     /* FS_MEMFUSE_FILE, or -1 */
    int splice; /* FS_MEMFUSE_SPLICE=1: read_buf from fd */
} mem;

static void *m_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    fsx_fuse_settings(conn, cfg);
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
    if (mem.fd < 0) {
        memcpy(buf, mem.data + off, n);
        return (int)n;
    }
    ssize_t r = pread(mem.fd, buf, n, off);
    return r < 0 ? -errno : (int)r;
}

/* splice mode: an fd-backed reply; libfuse splices it into /dev/fuse */
static int m_read_buf(const char *p, struct fuse_bufvec **bufp, size_t n, off_t off,
                      struct fuse_file_info *fi)
{
    struct fuse_bufvec *bv = malloc(sizeof *bv);

    (void)p;
    (void)fi;
    if (!bv)
        return -ENOMEM;
    if ((size_t)off >= mem.size)
        n = 0;
    else if (n > mem.size - (size_t)off)
        n = mem.size - (size_t)off;
    *bv = (struct fuse_bufvec)FUSE_BUFVEC_INIT(n);
    bv->buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv->buf[0].fd = mem.fd;
    bv->buf[0].pos = off;
    *bufp = bv;
    return 0;
}

static struct fuse_operations m_ops = {
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
    mem.fd = -1;
    if (getenv("FS_MEMFUSE_FILE")) {
        mem.fd = open(getenv("FS_MEMFUSE_FILE"), O_RDONLY | O_CLOEXEC);
        if (mem.fd < 0)
            return 1;
        mem.splice = getenv("FS_MEMFUSE_SPLICE") && !strcmp(getenv("FS_MEMFUSE_SPLICE"), "1");
        if (mem.splice)
            m_ops.read_buf = m_read_buf;
    } else {
        mem.data = malloc(mem.size);
        if (!mem.data)
            return 1;
        for (size_t i = 0; i < mem.size; i++)
            mem.data[i] = (char)(i * 131 + (i >> 12));
    }
    fargv[fargc++] = argv[0];
    fargv[fargc++] = argv[2];
    fargv[fargc++] = (char *)"-oro,default_permissions,fsname=memfuse";
    if (argc > 3)
        fargv[fargc++] = argv[3];
    fargv[fargc] = NULL;
    return fuse_main(fargc, fargv, &m_ops, NULL);
}
