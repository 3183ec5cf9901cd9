/*
 * fuse_ops.c -- the libfuse operations of esebackupfs: each forwards to the
 * core (fsops.h) and converts its attributes (fs_attr -> struct stat).
 * Thread safety: libfuse calls these from its worker threads; the core is
 * thread-safe and nothing here keeps state.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fsx.h"
#include "fuse_settings.h"

static fs_ctx *op_ctx(void)
{
    return fuse_get_context()->private_data;
}

/* init: frozen attributes cached, no kernel read-ahead (every file is
 * direct I/O, see op_open), no async direct I/O, no splice/readdirplus. */
static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    /* fuse_new got the fs_main (the core did not exist yet); from here on
     * the private data of every operation is the core's context */
    fsx_main *m = fuse_get_context()->private_data;
    fs_ctx *ctx = m->ctx;

    cfg->use_ino = 1;
    cfg->readdir_ino = 1;
    cfg->negative_timeout = 1.0;
    fsx_fuse_settings(conn, cfg);
    return ctx;
}

/* destroy: the umount decision (idempotent; main() also calls it). */
static void op_destroy(void *private_data)
{
    (void)fs_ctx_finish(private_data);
}

/* getattr: frozen attributes; may block under logs/ (fs_op_getattr). */
static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    fs_attr a;
    int rc = fs_op_getattr(op_ctx(), path, &a);

    (void)fi;
    if (rc >= 0)
        fsx_attr_to_stat(&a, st);
    return rc;
}

/* Adapter from the core's fill callback to libfuse's filler. */
typedef struct fill_arg {
    void *buf;
    fuse_fill_dir_t filler;
} fill_arg;

/* fs_fill_fn over libfuse's filler (offset 0: the whole listing). */
static int fill_adapter(void *p, const char *name, const fs_attr *a)
{
    fill_arg *fa = p;
    struct stat st;

    memset(&st, 0, sizeof st);
    st.st_ino = (ino_t)a->ino;
    st.st_mode = a->is_dir ? S_IFDIR : S_IFREG;
    return fa->filler(fa->buf, name, &st, 0, 0);
}

/* readdir: the whole directory at once; logs/ blocks (fs_op_readdir). */
static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    fill_arg fa = { buf, filler };
    (void)off;
    (void)fi;
    (void)flags;
    return fs_op_readdir(op_ctx(), path, &fa, fill_adapter);
}

/* opendir: directories only, read-only. */
static int op_opendir(const char *path, struct fuse_file_info *fi)
{
    fs_attr a;
    int rc = fs_op_getattr(op_ctx(), path, &a);

    if (rc < 0)
        return rc;
    if (!a.is_dir)
        return -ENOTDIR;
    if ((fi->flags & O_ACCMODE) != O_RDONLY)
        return -EROFS;
    return 0;
}

/* open: read-only, no flush, and always direct_io (FOPEN_DIRECT_IO): every
 * read(2) reaches fs_op_read as it is (no page cache, no kernel
 * read-ahead), so what the umount decision counts as delivered is what a
 * reader got, and no read is ever split between the page cache and the
 * driver (which returned short reads when the driver's part failed). */
static int op_open(const char *path, struct fuse_file_info *fi)
{
    fs_ctx *ctx = op_ctx();
    uint64_t fh = 0;
    unsigned flags = ((fi->flags & O_ACCMODE) != O_RDONLY ? FS_OPEN_WRITE : 0) |
                     ((fi->flags & O_TRUNC) ? FS_OPEN_TRUNC : 0) |
                     ((fi->flags & O_CREAT) ? FS_OPEN_CREATE : 0);
    int rc = fs_op_open(ctx, path, flags, &fh);

    if (rc < 0)
        return rc;
    fi->fh = fh;
    fi->keep_cache = 0;
    fi->noflush = 1;
    fi->direct_io = 1;
    return 0;
}

/* read: exactly the bytes asked for up to EOF, or -EIO (fs_op_read). */
static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)path;
    if (off < 0)
        return -EINVAL;
    return fs_op_read(op_ctx(), fi->fh, buf, size, (uint64_t)off);
}

/* release: nothing to free (handles are indexes). */
static int op_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    return fs_op_release(op_ctx(), fi->fh);
}

/* statfs: read-only totals (fs_op_statfs). */
static int op_statfs(const char *path, struct statvfs *sv)
{
    fs_statfs s;
    int rc = fs_op_statfs(op_ctx(), &s);

    (void)path;
    if (rc >= 0)
        fsx_statfs_to_statvfs(&s, sv);
    return rc;
}

/* getxattr: ENODATA; listxattr: empty (D8). */
static int op_getxattr(const char *path, const char *name, char *value, size_t size)
{
    return fs_op_getxattr(op_ctx(), path, name, value, size);
}

static int op_listxattr(const char *path, char *list, size_t size)
{
    return fs_op_listxattr(op_ctx(), path, list, size);
}

/* ioctl: ENOTTY for everything (borg's FS_IOC_GETFLAGS). */
static int op_ioctl(const char *path, unsigned int cmd, void *arg, struct fuse_file_info *fi,
                    unsigned int flags, void *data)
{
    (void)arg;
    (void)fi;
    (void)flags;
    (void)data;
    return fs_op_ioctl(op_ctx(), path, cmd);
}

/* access: -EROFS for W_OK, else 0 for existing names. */
static int op_access(const char *path, int mask)
{
    fs_attr a;
    int rc = fs_op_getattr(op_ctx(), path, &a);

    if (rc < 0)
        return rc;
    return (mask & W_OK) ? -EROFS : 0;
}

/* Every write path: EROFS (one-line forwarders). */
static int op_mknod(const char *p, mode_t m, dev_t d)
{
    (void)p;
    (void)m;
    (void)d;
    return fs_op_rofs();
}
static int op_mkdir(const char *p, mode_t m)
{
    (void)p;
    (void)m;
    return fs_op_rofs();
}
static int op_unlink(const char *p)
{
    (void)p;
    return fs_op_rofs();
}
static int op_rmdir(const char *p)
{
    (void)p;
    return fs_op_rofs();
}
static int op_symlink(const char *a, const char *b)
{
    (void)a;
    (void)b;
    return fs_op_rofs();
}
static int op_rename(const char *a, const char *b, unsigned int f)
{
    (void)a;
    (void)b;
    (void)f;
    return fs_op_rofs();
}
static int op_link(const char *a, const char *b)
{
    (void)a;
    (void)b;
    return fs_op_rofs();
}
static int op_chmod(const char *p, mode_t m, struct fuse_file_info *fi)
{
    (void)p;
    (void)m;
    (void)fi;
    return fs_op_rofs();
}
static int op_chown(const char *p, uid_t u, gid_t g, struct fuse_file_info *fi)
{
    (void)p;
    (void)u;
    (void)g;
    (void)fi;
    return fs_op_rofs();
}
static int op_truncate(const char *p, off_t o, struct fuse_file_info *fi)
{
    (void)p;
    (void)o;
    (void)fi;
    return fs_op_rofs();
}
static int op_write(const char *p, const char *b, size_t s, off_t o, struct fuse_file_info *fi)
{
    (void)p;
    (void)b;
    (void)s;
    (void)o;
    (void)fi;
    return fs_op_rofs();
}
static int op_setxattr(const char *p, const char *n, const char *v, size_t s, int f)
{
    (void)p;
    (void)n;
    (void)v;
    (void)s;
    (void)f;
    return fs_op_rofs();
}
static int op_removexattr(const char *p, const char *n)
{
    (void)p;
    (void)n;
    return fs_op_rofs();
}
static int op_create(const char *p, mode_t m, struct fuse_file_info *fi)
{
    (void)p;
    (void)m;
    (void)fi;
    return fs_op_rofs();
}
static int op_utimens(const char *p, const struct timespec tv[2], struct fuse_file_info *fi)
{
    (void)p;
    (void)tv;
    (void)fi;
    return fs_op_rofs();
}
static int op_fallocate(const char *p, int m, off_t o, off_t l, struct fuse_file_info *fi)
{
    (void)p;
    (void)m;
    (void)o;
    (void)l;
    (void)fi;
    return fs_op_rofs();
}

/* See fsx.h: every path of the filesystem, designated initializers. */
const struct fuse_operations fsx_fuse_ops = {
    .init = op_init,
    .destroy = op_destroy,
    .getattr = op_getattr,
    .readdir = op_readdir,
    .opendir = op_opendir,
    .open = op_open,
    .read = op_read,
    .release = op_release,
    .statfs = op_statfs,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .ioctl = op_ioctl,
    .access = op_access,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .chmod = op_chmod,
    .chown = op_chown,
    .truncate = op_truncate,
    .write = op_write,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
    .create = op_create,
    .utimens = op_utimens,
    .fallocate = op_fallocate,
};
