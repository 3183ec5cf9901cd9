/*
 * fs_ops.c -- the filesystem operations; see fsops.h (states, contracts)
 * and fs_int.h (the core's shared internals).
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bkformat.h"
#include "plat.h"
#include "spool.h"
#include "tree.h"
#include "fs_int.h"

/* Resolution of a path. */
typedef struct fs_node {
    enum fs_kind kind;
    fs_file *f;
} fs_node;

/* Wait once on cv_data, counted in ctx->nwaiting (shown by status).
 * ctx->mu held. */
static void wait_data(fs_ctx *ctx)
{
    ctx->nwaiting++;
    fs_cond_wait(ctx->cv_data, ctx->mu);
    ctx->nwaiting--;
}

/* A request that waited for the engine is answered EIO because the
 * mount is being stopped: that is a failure a reader sees, so it fails
 * the backup (umount aborts).  Returns -EIO.  ctx->mu held. */
static int waiter_eio(fs_ctx *ctx, const char *what)
{
    if (!fs_failed(ctx))
        fs_fail(ctx, fs_err_jet(JET_errTermInProgress),
                "%s: EIO returned to a reader (the mount is "
                "stopping)",
                what);
    return -EIO;
}

/* Wait until the log list is known (pulling the databases meanwhile).
 * 0 or -EIO.  ctx->mu held. */
static int wait_logs(fs_ctx *ctx)
{
    while (!ctx->logs_known && !fs_halted(ctx)) {
        if (ctx->pull_to < ctx->ndb)
            ctx->pull_to = ctx->ndb;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return ctx->logs_known ? 0 : waiter_eio(ctx, "logs/ (waiting for the log list)");
}

/* Wait until f's size is known.  0 or -EIO.  ctx->mu held. */
static int wait_size(fs_ctx *ctx, fs_file *f)
{
    while (!f->size_known && !fs_halted(ctx)) {
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return f->size_known ? 0 : waiter_eio(ctx, f->name);
}

/* Wait until the manifest exists (everything pulled).  0 or -EIO.
 * ctx->mu held. */
static int wait_complete(fs_ctx *ctx)
{
    while (!fs_complete(ctx) && !fs_halted(ctx)) {
        ctx->pull_all = true;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    return fs_complete(ctx) ? 0 : waiter_eio(ctx, FS_MANIFEST_NAME " (waiting for the end)");
}

/* Resolve path to a node; blocks for names under logs/.  0, -ENOENT,
 * -ENOTDIR or -EIO.  ctx->mu held. */
static int resolve(fs_ctx *ctx, const char *path, fs_node *n)
{
    const char *name;
    int rc;

    n->kind = FS_K_NONE;
    n->f = NULL;
    if (path[0] != '/')
        return -ENOENT;
    name = path + 1;
    if (!name[0]) {
        n->kind = FS_K_ROOT;
        return 0;
    }
    if (!strcmp(name, FS_LABEL_NAME)) {
        n->kind = FS_K_LABEL;
        return 0;
    }
    if (!strcmp(name, FS_MANIFEST_NAME)) {
        n->kind = FS_K_MANIFEST;
        return 0;
    }
    if (!strcmp(name, FS_LOGS_NAME)) {
        n->kind = FS_K_LOGSDIR;
        return 0;
    }
    if (!strncmp(name, FS_LOGS_NAME "/", sizeof FS_LOGS_NAME)) {
        name += sizeof FS_LOGS_NAME;
        if (strchr(name, '/'))
            return -ENOENT;
        rc = wait_logs(ctx);
        if (rc < 0)
            return rc;
        if (!strcmp(name, FS_MANIFEST_NAME)) {
            n->kind = FS_K_LOGMAN;
            return 0;
        }
        for (int i = ctx->ndb; i < ctx->nfiles; i++)
            if (!strcmp(ctx->files[i]->name, name)) {
                n->kind = FS_K_LOG;
                n->f = ctx->files[i];
                return 0;
            }
        return -ENOENT;
    }
    if (strchr(name, '/')) {
        for (int i = 0; i < ctx->ndb; i++) {
            size_t l = strlen(ctx->files[i]->name);
            if (!strncmp(name, ctx->files[i]->name, l) && name[l] == '/')
                return -ENOTDIR;
        }
        if (!strncmp(name, FS_LABEL_NAME "/", sizeof FS_LABEL_NAME) ||
            !strncmp(name, FS_MANIFEST_NAME "/", sizeof FS_MANIFEST_NAME))
            return -ENOTDIR;
        return -ENOENT;
    }
    for (int i = 0; i < ctx->ndb; i++)
        if (!strcmp(ctx->files[i]->name, name)) {
            n->kind = FS_K_DB;
            n->f = ctx->files[i];
            return 0;
        }
    return -ENOENT;
}

/* Fill st for a resolved node, blocking where D1/D3 say so.  ctx->mu held. */
static int node_stat(fs_ctx *ctx, const fs_node *n, fs_attr *st)
{
    int rc;

    switch (n->kind) {
    case FS_K_ROOT:
        fs_attr_fill(st, FS_INO_ROOT, 1, 0, 3, &ctx->start);
        return 0;
    case FS_K_LOGSDIR:
        fs_attr_fill(st, FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1, 0, 2, &ctx->start);
        return 0;
    case FS_K_LABEL:
        fs_attr_fill(st, FS_INO_LABEL, 0, ctx->label_len, 1, &ctx->start);
        return 0;
    case FS_K_MANIFEST:
        /* size fixed at mount: a stat (ls -l) never waits or pulls */
        fs_attr_fill(st, FS_INO_MANIFEST, 0, ctx->manifest_len, 1, &ctx->start);
        return 0;
    case FS_K_LOGMAN:
        /* size fixed with the log list (resolve waited for it) */
        fs_attr_fill(st, FS_INO_LOGMAN, 0, ctx->logman_len, 1, &ctx->start);
        return 0;
    case FS_K_DB:
    case FS_K_LOG:
        rc = wait_size(ctx, n->f);
        if (rc < 0)
            return rc;
        fs_attr_fill(st, n->f->ino, 0, n->f->size, 1, &ctx->start);
        return 0;
    default:
        return -ENOENT;
    }
}

/* See fsops.h. */
int fs_op_getattr(fs_ctx *ctx, const char *path, fs_attr *st)
{
    fs_node n;
    int rc;

    fs_mutex_lock(ctx->mu);
    rc = resolve(ctx, path, &n);
    if (rc >= 0)
        rc = node_stat(ctx, &n, st);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* Emit one readdir entry with only d_ino/d_type information. */
static int fill_one(void *buf, fs_fill_fn fill, const char *name, uint64_t ino, bool dir)
{
    fs_attr a;

    memset(&a, 0, sizeof a);
    a.ino = ino;
    a.is_dir = dir;
    return fill(buf, name, &a);
}

/* See fsops.h.  Root: ".", "..", label, databases, logs, manifest (never
 * blocks).  logs/: blocks until the log list is known. */
int fs_op_readdir(fs_ctx *ctx, const char *path, void *buf, fs_fill_fn fill)
{
    fs_node n;
    int rc;

    fs_mutex_lock(ctx->mu);
    rc = fs_guard_enter(ctx);
    if (rc >= 0)
        rc = resolve(ctx, path, &n);
    if (rc < 0)
        goto out;
    if (n.kind == FS_K_ROOT) {
        if (fill_one(buf, fill, ".", FS_INO_ROOT, 1) || fill_one(buf, fill, "..", 0, 1) ||
            fill_one(buf, fill, FS_LABEL_NAME, FS_INO_LABEL, 0))
            goto out;
        for (int i = 0; i < ctx->ndb; i++)
            if (fill_one(buf, fill, ctx->files[i]->name, ctx->files[i]->ino, 0))
                goto out;
        if (fill_one(buf, fill, FS_LOGS_NAME, FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1))
            goto out;
        (void)fill_one(buf, fill, FS_MANIFEST_NAME, FS_INO_MANIFEST, 0);
    } else if (n.kind == FS_K_LOGSDIR) {
        rc = wait_logs(ctx);
        if (rc < 0)
            goto out;
        if (fill_one(buf, fill, ".", FS_INO_FIRST_DB + (uint64_t)ctx->ndb, 1) ||
            fill_one(buf, fill, "..", FS_INO_ROOT, 1))
            goto out;
        for (int i = ctx->ndb; i < ctx->nfiles; i++)
            if (fill_one(buf, fill, ctx->files[i]->name, ctx->files[i]->ino, 0))
                goto out;
        (void)fill_one(buf, fill, FS_MANIFEST_NAME, FS_INO_LOGMAN, 0);
    } else {
        rc = -ENOTDIR;
    }
out:
    fs_guard_leave(ctx);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h. */
int fs_op_open(fs_ctx *ctx, const char *path, unsigned flags, uint64_t *fh)
{
    fs_node n;
    int rc;

    if (flags & (FS_OPEN_WRITE | FS_OPEN_TRUNC | FS_OPEN_CREATE))
        return -EROFS;
    fs_mutex_lock(ctx->mu);
    rc = fs_guard_enter(ctx);
    if (rc >= 0)
        rc = resolve(ctx, path, &n);
    if (rc < 0)
        goto out;
    switch (n.kind) {
    case FS_K_LABEL:
        *fh = FS_FH_LABEL;
        break;
    case FS_K_MANIFEST:
        *fh = FS_FH_MANIFEST;
        break;
    case FS_K_LOGMAN:
        *fh = FS_FH_LOGMAN;
        break;
    case FS_K_DB:
    case FS_K_LOG:
        *fh = FS_FH_FILE0 + (uint64_t)n.f->index;
        break;
    default:
        rc = -EISDIR;
    }
out:
    fs_guard_leave(ctx);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* Serve a manifest (which = 0 root, 1 logs/manifest): wait for the end,
 * copy, count the bytes as delivered.  Bytes or -errno.  ctx->mu held. */
static int read_manifest(fs_ctx *ctx, int which, char *buf, size_t size, uint64_t off)
{
    const char *text;
    size_t len;
    int rc = wait_complete(ctx);

    if (rc < 0)
        return rc;
    text = which ? ctx->logman : ctx->manifest;
    len = which ? ctx->logman_len : ctx->manifest_len;
    if (off >= len)
        return 0;
    if (size > len - off)
        size = (size_t)(len - off);
    memcpy(buf, text + off, size);
    if (fs_file_deliver(ctx->man[which], off, off + size) < 0)
        return -ENOMEM;
    ctx->last_ns = fs_clock_mono_ns();
    return (int)size;
}

/* Could bytes from off of f still be served under stream, once produced?
 * No when they were produced already and are neither in the window nor
 * in the spool (a re-read).  ctx->mu held. */
static int stream_lost(const fs_ctx *ctx, const fs_file *f, uint64_t off)
{
    if (ctx->cfg.policy != FS_SPOOL_STREAM || off >= f->produced)
        return 0;
    if (f->spooled_from != FS_NONE && off >= f->spooled_from)
        return 0;
    return !(ctx->win.file == f->index && off >= ctx->win.lo);
}

/* Unlink w from the waiter list and let the producer go on.  mu held. */
static void waiter_remove(fs_ctx *ctx, fs_rwait *w)
{
    for (fs_rwait **p = &ctx->waiters; *p; p = &(*p)->next)
        if (*p == w) {
            *p = w->next;
            fs_cond_broadcast(ctx->cv_prod);
            return;
        }
}

/* Refuse a stream re-read of bytes no longer kept: count it and fail the
 * backup.  Returns -EIO.  ctx->mu held. */
static int refuse_reread(fs_ctx *ctx, const fs_file *f, uint64_t off, uint64_t end)
{
    ctx->dropped_reads++;
    fs_fail(ctx, fs_err_errno(EIO),
            "%s: re-read of bytes %" PRIu64 "-%" PRIu64 " no longer kept "
            "by [spool] policy = stream: EIO returned to a reader (use policy = keep for tools "
            "that re-read)",
            f->name, off, end);
    return -EIO;
}

/* Stream policy checks before a reader waits for [off, end) of f: a
 * re-read of bytes gone is refused at once, and so is a request the
 * window cannot hold.  0, or -EIO after failing the backup.  mu held. */
static int stream_admit(fs_ctx *ctx, const fs_file *f, uint64_t off, size_t size, uint64_t end)
{
    if (f->produced >= end || ctx->cfg.policy != FS_SPOOL_STREAM)
        return 0;
    if (stream_lost(ctx, f, off))
        return refuse_reread(ctx, f, off, end);
    if (size + ctx->cfg.read_size > ctx->win.size && !fs_self_pull(ctx, f)) {
        fs_fail(ctx, fs_err_jet(JET_errInvalidParameter),
                "%s: a read request of %zu bytes does "
                "not fit the [spool] window of %zu bytes (policy = stream): EIO returned to a "
                "reader",
                f->name, size, ctx->win.size);
        return -EIO;
    }
    return 0;
}

/* Wait until f is produced up to end (asking the producer for it).  0, or
 * -EIO (failed, stopping: fails the backup).  ctx->mu held. */
static int wait_produced(fs_ctx *ctx, fs_file *f, uint64_t end)
{
    while (f->produced < end && !fs_halted(ctx)) {
        if (f->demand_hi < end)
            f->demand_hi = end;
        if (ctx->pull_to < f->index)
            ctx->pull_to = f->index;
        fs_cond_broadcast(ctx->cv_prod);
        wait_data(ctx);
    }
    if (f->produced < end)
        return fs_failed(ctx) ? -EIO : waiter_eio(ctx, f->name);
    return 0;
}

/* Wait until the spool holds [off, end) of f (the spooler writes it a
 * little after it is produced).  0, or -EIO (failed, stopping).  ctx->mu
 * held. */
static int wait_spooled(fs_ctx *ctx, fs_file *f, uint64_t end)
{
    while (f->spooled < end && !fs_halted(ctx))
        wait_data(ctx);
    if (f->spooled < end)
        return fs_failed(ctx) ? -EIO : waiter_eio(ctx, f->name);
    return 0;
}

/* Copy the produced bytes [off, off+size) of f into buf: from the window
 * (in-order readers, both policies), else from the spool where the policy
 * spools them (keep: every byte; stream: self-pulled bytes; waiting for
 * the spooler if needed), else a refused stream re-read.  Unlinks the
 * waiter me (if any) once its bytes are copied or safe in the spool.
 * Bytes or -EIO (the backup failed).  ctx->mu held; dropped around the
 * spool read. */
static int copy_produced(fs_ctx *ctx, fs_file *f, char *buf, size_t size, uint64_t off,
                         fs_rwait *me)
{
    int rc;

    /* after a hasher/spooler failure, bytes not taken are not served */
    if (ctx->pipe_failed && off + size > fs_taken(f)) {
        if (me)
            waiter_remove(ctx, me);
        return -EIO;
    }
    if (fs_window_get(&ctx->win, f->index, off, buf, size)) {
        if (me)
            waiter_remove(ctx, me);
        return (int)size;
    }
    if (me)
        waiter_remove(ctx, me); /* not in the window: the spool or nowhere */
    if (!fs_spools(ctx, f, off))
        return refuse_reread(ctx, f, off, off + size);
    rc = wait_spooled(ctx, f, off + size);
    if (rc < 0)
        return rc;
    fs_mutex_unlock(ctx->mu);
    rc = fs_spool_read(&ctx->spool, f->spool_base + off, buf, size);
    fs_mutex_lock(ctx->mu);
    if (rc < 0) {
        fs_fail(ctx, fs_err_errno(-rc),
                "%s: spool read at offset %" PRIu64 " failed: EIO "
                "returned to a reader",
                f->name, off);
        return rc;
    }
    return (int)size;
}

/* Serve the label (fixed text).  Bytes.  ctx->mu held. */
static int read_label(const fs_ctx *ctx, char *buf, size_t size, uint64_t off)
{
    size_t n;

    if (off >= ctx->label_len)
        return 0;
    n = size < ctx->label_len - off ? size : (size_t)(ctx->label_len - off);
    memcpy(buf, ctx->label + off, n);
    return (int)n;
}

/* See fsops.h.  Every failure answered to a reader fails the backup
 * (ctx_fail): umount then aborts whatever the policy. */
int fs_op_read(fs_ctx *ctx, uint64_t fh, char *buf, size_t size, uint64_t off)
{
    fs_file *f = NULL;
    fs_rwait me = { 0, 0, 0, NULL };
    bool waiting = false;
    uint64_t end;
    int rc = 0;

    if (size > INT32_MAX)
        size = INT32_MAX;
    fs_mutex_lock(ctx->mu);
    rc = fs_guard_enter(ctx);
    if (rc < 0)
        goto out;
    if (fh == FS_FH_LABEL) {
        rc = read_label(ctx, buf, size, off);
        goto out;
    }
    if (fh == FS_FH_MANIFEST || fh == FS_FH_LOGMAN) {
        rc = read_manifest(ctx, fh == FS_FH_LOGMAN, buf, size, off);
        goto out;
    }
    if (fh < FS_FH_FILE0 || fh - FS_FH_FILE0 >= (uint64_t)ctx->nfiles) {
        rc = -EBADF;
        goto out;
    }
    f = ctx->files[fh - FS_FH_FILE0];
    rc = wait_size(ctx, f);
    if (rc < 0 || off >= f->size)
        goto out;
    if (size > f->size - off)
        size = (size_t)(f->size - off);
    end = off + size;
    rc = stream_admit(ctx, f, off, size, end);
    if (rc < 0)
        goto out;
    if (f->produced < end) {
        me = (fs_rwait){ .file = f->index, .lo = off, .hi = end, .next = ctx->waiters };
        ctx->waiters = &me;
        waiting = true;
    }
    rc = wait_produced(ctx, f, end);
    if (rc < 0)
        goto out;
    rc = copy_produced(ctx, f, buf, size, off, waiting ? &me : NULL);
    waiting = false; /* copy_produced unlinked it */
    if (rc >= 0 && fs_file_deliver(f, off, end) < 0)
        rc = -ENOMEM;
    if (rc >= 0)
        ctx->last_ns = fs_clock_mono_ns();
out:
    if (waiting)
        waiter_remove(ctx, &me);
    if (rc < 0 && rc != -EBADF && !fs_failed(ctx))
        fs_fail(ctx, fs_err_errno(-rc), "%s: %s returned to a reader",
                f ? f->name : FS_MANIFEST_NAME, strerror(-rc));
    fs_guard_leave(ctx);
    fs_mutex_unlock(ctx->mu);
    return rc;
}

/* See fsops.h.  Nothing to free: handles are plain indexes. */
int fs_op_release(fs_ctx *ctx, uint64_t fh)
{
    (void)ctx;
    (void)fh;
    return 0;
}

/* See fsops.h.  Totals of the exposed bytes known so far, read-only. */
int fs_op_statfs(fs_ctx *ctx, fs_statfs *sv)
{
    uint64_t total = 0;

    fs_mutex_lock(ctx->mu);
    for (int i = 0; i < ctx->nfiles; i++)
        total += ctx->files[i]->size;
    total += ctx->label_len + ctx->manifest_len + ctx->logman_len;
    memset(sv, 0, sizeof *sv);
    sv->bsize = FS_BLKSIZE;
    sv->frsize = 4096;
    sv->blocks = (total + 4095) / 4096;
    sv->files = (uint64_t)ctx->nfiles + 5;
    sv->namemax = 255;
    fs_mutex_unlock(ctx->mu);
    return 0;
}

/* See fsops.h: no extended attributes at all (D8). */
int fs_op_listxattr(fs_ctx *ctx, const char *path, char *list, size_t size)
{
    (void)ctx;
    (void)path;
    (void)list;
    (void)size;
    return 0;
}

/* See fsops.h: no attribute exists (ENODATA). */
int fs_op_getxattr(fs_ctx *ctx, const char *path, const char *name, char *value, size_t size)
{
    (void)ctx;
    (void)path;
    (void)name;
    (void)value;
    (void)size;
    return -ENODATA;
}

/* See fsops.h: borg's FS_IOC_GETFLAGS and everything else -> ENOTTY. */
int fs_op_ioctl(fs_ctx *ctx, const char *path, unsigned int cmd)
{
    (void)ctx;
    (void)path;
    (void)cmd;
    return -ENOTTY;
}

/* See fsops.h: the answer of every write path. */
int fs_op_rofs(void)
{
    return -EROFS;
}
