/*
 * fuse_win.c -- the WinFsp adapter: the operations of
 * src/fs/posix/fuse_ops.c over the core, through WinFsp's FUSE3 API
 * (winfsp.h), with winfsp-x64.dll resolved at run time so that neither
 * building nor starting needs WinFsp.
 *
 * Differences from the libfuse adapter (WinFsp's FUSE3 layer): read-only
 * is the capability WFS_CAP_READ_ONLY asked in init; attribute and
 * directory timeouts are the mount options FileInfoTimeout/DirInfoTimeout
 * (timeouts set in init are ignored); direct_io is set per open and in
 * the config; ioctl takes an int command.
 *
 * Unmount: Ctrl-C, Ctrl-Break (WinFsp's launcher stops a file system so)
 * or closing the console, and the service wrapper's stop event
 * (service_win.c: `net stop`), all take one path, request_unmount: it
 * interrupts the core (fs_ctx_interrupt: waiting readers get EIO) and
 * ends WinFsp's loop; then fs_ctx_finish takes the same umount decision
 * as on Linux.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <process.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "fsops.h"
#include "winfsp.h"
#include "winfsp_mount.h"
#include "winx.h"

/* The adapter's run-time state: the loaded DLL, its entry points, the
 * core's context and the mount.  One per process (the console handler
 * reaches it through winx_fsp_state). */
typedef struct winx_fsp {
    HMODULE dll;
    struct wfs_env env;
    wfs_new_fn fuse_new;
    wfs_mount_fn fuse_mount;
    wfs_void_fn fuse_unmount, fuse_destroy, fuse_exit;
    wfs_loop_mt_fn fuse_loop_mt;
    wfs_get_context_fn get_context;
    struct wfs_fuse *fuse;
    fs_ctx *ctx;
    int direct_io;
    HANDLE done;      /* set when the umount decision is taken and the backup ended */
    HANDLE loop_over; /* set when WinFsp's loop has returned (ends the stop watcher) */
    HANDLE stop;      /* the service wrapper's stop event (hooks), or NULL */
} winx_fsp;

static winx_fsp winx_fsp_state;

/* The core's context of the calling operation. */
static fs_ctx *op_ctx(void)
{
    return winx_fsp_state.ctx;
}

/* fs_attr -> WinFsp's 64-bit stat. */
static void attr_to_stat(const fs_attr *a, struct wfs_stat *st)
{
    memset(st, 0, sizeof *st);
    st->st_ino = a->ino;
    st->st_mode = (a->is_dir ? 0040000u : 0100000u) | a->mode;
    st->st_nlink = (uint16_t)(a->nlink > 0xffff ? 0xffff : a->nlink);
    st->st_size = (int64_t)a->size;
    st->st_blocks = (int64_t)a->blocks;
    st->st_blksize = (int32_t)a->blksize;
    st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = st->st_birthtim.tv_sec =
        a->time.sec;
    st->st_atim.tv_nsec = st->st_mtim.tv_nsec = st->st_ctim.tv_nsec = st->st_birthtim.tv_nsec =
        a->time.nsec;
}

static int op_getattr(const char *path, struct wfs_stat *st, struct wfs_file_info *fi)
{
    fs_attr a;
    int rc = fs_op_getattr(op_ctx(), path, &a);

    (void)fi;
    if (rc == 0)
        attr_to_stat(&a, st);
    return rc;
}

/* readdir's filler state. */
struct fill_state {
    void *buf;
    wfs_fill_dir_t fill;
};

static int fill_one(void *buf, const char *name, const fs_attr *a)
{
    struct fill_state *s = buf;
    struct wfs_stat st;

    attr_to_stat(a, &st);
    return s->fill(s->buf, name, &st, 0, 0);
}

static int op_readdir(const char *path, void *buf, wfs_fill_dir_t fill, int64_t off,
                      struct wfs_file_info *fi, int flags)
{
    struct fill_state s = { buf, fill };

    (void)off;
    (void)fi;
    (void)flags;
    return fs_op_readdir(op_ctx(), path, &s, fill_one);
}

static int op_open(const char *path, struct wfs_file_info *fi)
{
    unsigned fl = 0;
    /* WinFsp passes the C runtime's open flags (the same values as
     * mingw's fcntl.h) */
    if (fi->flags & (O_WRONLY | O_RDWR))
        fl |= FS_OPEN_WRITE;
    if (fi->flags & O_TRUNC)
        fl |= FS_OPEN_TRUNC;
    if (fi->flags & O_CREAT)
        fl |= FS_OPEN_CREATE;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    return fs_op_open(op_ctx(), path, fl, &fi->fh);
}

static int op_read(const char *path, char *buf, size_t size, int64_t off, struct wfs_file_info *fi)
{
    (void)path;
    if (off < 0)
        return -EINVAL;
    if (size > INT_MAX)
        size = (size_t)INT_MAX & ~(size_t)4095;
    return fs_op_read(op_ctx(), fi->fh, buf, size, (uint64_t)off);
}

static int op_release(const char *path, struct wfs_file_info *fi)
{
    (void)path;
    return fs_op_release(op_ctx(), fi->fh);
}

static int op_statfs(const char *path, struct wfs_statvfs *sv)
{
    fs_statfs s;
    int rc = fs_op_statfs(op_ctx(), &s);

    (void)path;
    if (rc < 0)
        return rc;
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = s.bsize;
    sv->f_frsize = s.frsize;
    sv->f_blocks = s.blocks;
    sv->f_files = s.files;
    sv->f_namemax = s.namemax;
    sv->f_flag = 1; /* ST_RDONLY */
    return 0;
}

static int op_getxattr(const char *path, const char *name, char *value, size_t size)
{
    return fs_op_getxattr(op_ctx(), path, name, value, size);
}

static int op_listxattr(const char *path, char *list, size_t size)
{
    return fs_op_listxattr(op_ctx(), path, list, size);
}

static int op_ioctl(const char *path, int cmd, void *arg, struct wfs_file_info *fi,
                    unsigned int flags, void *data)
{
    (void)arg;
    (void)fi;
    (void)flags;
    (void)data;
    return fs_op_ioctl(op_ctx(), path, (unsigned int)cmd);
}

static int op_rofs_path(const char *path)
{
    (void)path;
    return fs_op_rofs();
}

static int op_rofs_path2(const char *a, const char *b)
{
    (void)a;
    (void)b;
    return fs_op_rofs();
}

static int op_rofs_mkdir(const char *path, uint32_t mode)
{
    (void)path;
    (void)mode;
    return fs_op_rofs();
}

static int op_rofs_rename(const char *a, const char *b, unsigned int flags)
{
    (void)a;
    (void)b;
    (void)flags;
    return fs_op_rofs();
}

static int op_rofs_write(const char *path, const char *buf, size_t size, int64_t off,
                         struct wfs_file_info *fi)
{
    (void)path;
    (void)buf;
    (void)size;
    (void)off;
    (void)fi;
    return fs_op_rofs();
}

static int op_rofs_create(const char *path, uint32_t mode, struct wfs_file_info *fi)
{
    (void)path;
    (void)mode;
    (void)fi;
    return fs_op_rofs();
}

static int op_rofs_truncate(const char *path, int64_t size, struct wfs_file_info *fi)
{
    (void)path;
    (void)size;
    (void)fi;
    return fs_op_rofs();
}

static int op_rofs_chmod(const char *path, uint32_t mode, struct wfs_file_info *fi)
{
    (void)path;
    (void)mode;
    (void)fi;
    return fs_op_rofs();
}

static int op_rofs_utimens(const char *path, const struct wfs_timespec *tv,
                           struct wfs_file_info *fi)
{
    (void)path;
    (void)tv;
    (void)fi;
    return fs_op_rofs();
}

static void *op_init(struct wfs_conn_info *conn, struct wfs_config *conf)
{
    conn->want |= WFS_CAP_READ_ONLY;
    conf->direct_io = winx_fsp_state.direct_io;
    conf->kernel_cache = 0;
    conf->use_ino = 1;
    return winx_fsp_state.ctx;
}

static const struct wfs_operations winx_ops = {
    .getattr = op_getattr,
    .mkdir = op_rofs_mkdir,
    .unlink = op_rofs_path,
    .rmdir = op_rofs_path,
    .symlink = op_rofs_path2,
    .rename = op_rofs_rename,
    .link = op_rofs_path2,
    .chmod = op_rofs_chmod,
    .truncate = op_rofs_truncate,
    .open = op_open,
    .read = op_read,
    .write = op_rofs_write,
    .statfs = op_statfs,
    .release = op_release,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .readdir = op_readdir,
    .init = op_init,
    .create = op_rofs_create,
    .utimens = op_rofs_utimens,
    .ioctl = op_ioctl,
};

/* WinFsp's environment callbacks for a native Windows program. */
static int env_daemonize(int foreground)
{
    (void)foreground;
    return 0;
}

static int env_set_signal_handlers(void *se)
{
    (void)se;
    return 0;
}

/* The one unmount path (console events and the service's stop event):
 * interrupt the core (waiting readers get EIO) and end WinFsp's loop; the
 * umount decision follows in winx_mount.  Thread-safe (both calls are). */
static void request_unmount(winx_fsp *w, const char *why)
{
    fs_log(FS_LOG_NOTICE, "%s: unmounting", why);
    fs_ctx_interrupt(w->ctx, 2);
    w->fuse_exit(&w->env, w->fuse);
}

/* Ctrl-C, Ctrl-Break, console close, logoff, shutdown (this handler runs
 * on its own thread): request_unmount. */
static BOOL WINAPI on_console(DWORD type)
{
    winx_fsp *w = &winx_fsp_state;
    char why[32];

    if (!w->ctx || !w->fuse)
        return FALSE;
    snprintf(why, sizeof why, "console event %lu", (unsigned long)type);
    request_unmount(w, why);
    /* closing the console, logoff and shutdown end the process when the
     * handler returns: wait (Windows allows a few seconds) for the
     * decision so that the backup is ended on the engine, not left open */
    if (type == CTRL_CLOSE_EVENT || type == CTRL_LOGOFF_EVENT || type == CTRL_SHUTDOWN_EVENT)
        (void)WaitForSingleObject(w->done, INFINITE);
    return TRUE;
}

/* The stop watcher (a thread while mounted, when the service wrapper gave
 * a stop event): the event -> request_unmount; ends when the loop does. */
static unsigned __stdcall stop_watcher(void *arg)
{
    winx_fsp *w = arg;
    HANDLE h[2] = { w->stop, w->loop_over };

    if (WaitForMultipleObjects(2, h, FALSE, INFINITE) == WAIT_OBJECT_0)
        request_unmount(w, "service stop");
    return 0;
}

/* Load bin\winfsp-x64.dll from WinFsp's InstallDir (registry), then
 * resolve the entry points.  0, or -1 with one line in err. */
static int load_winfsp(winx_fsp *w, char *err, size_t cb)
{
    wchar_t dir[MAX_PATH], path[MAX_PATH + 32];
    DWORD size = sizeof dir;
    HKEY key;
    /* WinFsp's installer writes its key in the 32-bit registry view */
    LSTATUS ls = RegOpenKeyExW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\WinFsp", 0,
                               KEY_QUERY_VALUE | KEY_WOW64_32KEY, &key);

    if (ls == ERROR_SUCCESS) {
        ls = RegGetValueW(key, NULL, L"InstallDir", RRF_RT_REG_SZ, NULL, dir, &size);
        RegCloseKey(key);
    }
    if (ls != ERROR_SUCCESS) {
        snprintf(err, cb,
                 "WinFsp is not installed (no InstallDir under HKLM\\SOFTWARE\\WinFsp, error %ld): "
                 "install it from https://github.com/winfsp/winfsp/releases",
                 (long)ls);
        return -1;
    }
    size_t n = wcslen(dir);
    if (_snwprintf(path, sizeof path / sizeof path[0], L"%ls%lsbin\\winfsp-x64.dll", dir,
                   n && dir[n - 1] == L'\\' ? L"" : L"\\") < 0) {
        snprintf(err, cb, "WinFsp's InstallDir is too long");
        return -1;
    }
    w->dll = LoadLibraryW(path);
    if (!w->dll) {
        snprintf(err, cb, "WinFsp: cannot load %ls (Windows error %lu)", path,
                 (unsigned long)GetLastError());
        return -1;
    }
#define RESOLVE(field, type, name) \
    do { \
        FARPROC p_ = GetProcAddress(w->dll, name); \
        if (!p_) { \
            snprintf(err, cb, "WinFsp: winfsp-x64.dll has no %s (too old?)", name); \
            return -1; \
        } \
        w->field = (type)(void (*)(void))p_; \
    } while (0)
    RESOLVE(fuse_new, wfs_new_fn, "fsp_fuse3_new");
    RESOLVE(fuse_mount, wfs_mount_fn, "fsp_fuse3_mount");
    RESOLVE(fuse_unmount, wfs_void_fn, "fsp_fuse3_unmount");
    RESOLVE(fuse_destroy, wfs_void_fn, "fsp_fuse3_destroy");
    RESOLVE(fuse_exit, wfs_void_fn, "fsp_fuse3_exit");
    RESOLVE(fuse_loop_mt, wfs_loop_mt_fn, "fsp_fuse3_loop_mt");
    RESOLVE(get_context, wfs_get_context_fn, "fsp_fuse3_get_context");
#undef RESOLVE
    return 0;
}

/* Open the configured source, make the core's context (w->ctx, freed by
 * winx_mount's cleanup even when this fails later) and begin the backup.
 * 0, or -1 after one line logged (fs_log) naming the error. */
static int winx_begin(const fs_config *cfg, winx_fsp *w)
{
    char err[1024];
    bkc_source src;
    JET_ERR jrc;

    jrc = fs_source_open(cfg, &src, err, sizeof err);
    if (jrc < 0) {
        fs_log(FS_LOG_ERR, "%s", err);
        return -1;
    }
    if (fs_ctx_new(cfg, &src, &w->ctx) < 0) {
        (void)bkc_close(&src);
        fs_log(FS_LOG_ERR, "out of memory");
        return -1;
    }
    jrc = fs_ctx_start(w->ctx, err, sizeof err);
    if (jrc < 0) {
        fs_log(FS_LOG_ERR, "%s", err);
        return -1;
    }
    return 0;
}

/* Serve the mounted file system: Ctrl-C handler, control pipe, the stop
 * watcher and the ready event (hooks), then WinFsp's loop until an
 * unmount; unmount.  0 when the loop ended normally, else -1 (also when
 * the service wrapper's events cannot be served: then no loop at all, so
 * that the service cannot be left unstoppable). */
static int winx_serve(winx_fsp *w, const char *mountpoint, const winx_mount_hooks *hooks)
{
    struct wfs_loop_config loop = { 0, 16 };
    winx_control *ctl = NULL;
    uintptr_t watcher = 0;
    int rc = -1;

    if (!SetConsoleCtrlHandler(on_console, TRUE))
        fs_log(FS_LOG_WARNING, "SetConsoleCtrlHandler failed (Windows error %lu): Ctrl-C aborts",
               (unsigned long)GetLastError());
    if (winx_control_start(w->ctx, mountpoint, &ctl) < 0)
        fs_log(FS_LOG_WARNING, "status and commit are unavailable for this mount");
    if (w->stop) {
        watcher = _beginthreadex(NULL, 0, stop_watcher, w, 0, NULL);
        if (!watcher) {
            fs_log(FS_LOG_ERR, "cannot watch for the service stop (errno %d): not serving", errno);
            goto out;
        }
    }
    if (hooks && hooks->ready && !SetEvent(hooks->ready)) {
        fs_log(FS_LOG_ERR, "cannot tell the service it is mounted (Windows error %lu)",
               (unsigned long)GetLastError());
        goto out;
    }
    fs_log(FS_LOG_NOTICE, "mounted on %s; %s unmounts", mountpoint,
           w->stop ? "net stop" : "Ctrl-C");
    rc = w->fuse_loop_mt(&w->env, w->fuse, &loop) == 0 ? 0 : -1;
out:
    (void)SetEvent(w->loop_over);
    if (watcher) {
        (void)WaitForSingleObject((HANDLE)watcher, INFINITE);
        CloseHandle((HANDLE)watcher);
    }
    w->fuse_unmount(&w->env, w->fuse);
    winx_control_stop(ctl);
    return rc;
}

/* Set up w (environment, events) for winx_mount.  0, or -1 after one line
 * on stderr. */
static int winx_init(winx_fsp *w, const fs_config *cfg, const winx_mount_hooks *hooks)
{
    memset(w, 0, sizeof *w);
    w->env.environment = 'W';
    w->env.memalloc = malloc;
    w->env.memfree = free;
    w->env.daemonize = env_daemonize;
    w->env.set_signal_handlers = env_set_signal_handlers;
    /* conv_to_win_path, winpid_to_pid, reserved: NULL (native program) */
    w->direct_io = cfg->direct_io;
    w->stop = hooks ? hooks->stop : NULL;
    w->done = CreateEventW(NULL, TRUE, FALSE, NULL);
    w->loop_over = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!w->done || !w->loop_over) {
        fs_log(FS_LOG_ERR, "CreateEventW failed (Windows error %lu)",
               (unsigned long)GetLastError());
        return -1;
    }
    return 0;
}

/* See winfsp_mount.h. */
int winx_mount(const fs_config *cfg, const char *mountpoint, const winx_mount_hooks *hooks)
{
    winx_fsp *w = &winx_fsp_state;
    char err[1024], opts[256];
    char *argv[] = { "esebackupfs", "-o", opts, NULL };
    struct wfs_args args = { 3, argv, 0 };
    int rc = -1, mounted = 0;

    if (winx_init(w, cfg, hooks) < 0)
        goto out;
    if (load_winfsp(w, err, sizeof err) < 0) {
        fs_log(FS_LOG_ERR, "%s", err);
        goto out;
    }
    if (winx_begin(cfg, w) < 0)
        goto out;
    /* attributes are frozen: cache them for a second; read-only volume */
    snprintf(opts, sizeof opts,
             "FileInfoTimeout=1000,DirInfoTimeout=1000,VolumeInfoTimeout=1000,uid=-1,gid=-1,"
             "umask=0222,volname=esebackupfs");
    w->fuse = w->fuse_new(&w->env, &args, &winx_ops, sizeof winx_ops, w->ctx);
    if (!w->fuse) {
        fs_log(FS_LOG_ERR, "WinFsp refused the file system (fsp_fuse3_new)");
        goto out;
    }
    if (w->fuse_mount(&w->env, w->fuse, mountpoint) != 0) {
        fs_log(FS_LOG_ERR, "WinFsp cannot mount on %s", mountpoint);
        goto out;
    }
    mounted = 1;
    rc = winx_serve(w, mountpoint, hooks);
out:
    if (w->ctx) {
        enum fs_decision d = fs_ctx_finish(w->ctx);
        if (d == FS_DECIDE_ABORT && rc == 0)
            rc = -1;
    }
    if (w->done)
        (void)SetEvent(w->done); /* a waiting console handler may return now */
    if (mounted)
        (void)SetConsoleCtrlHandler(on_console, FALSE);
    if (w->fuse)
        w->fuse_destroy(&w->env, w->fuse);
    fs_ctx_free(w->ctx);
    w->ctx = NULL;
    w->fuse = NULL;
    if (w->dll)
        FreeLibrary(w->dll);
    w->dll = NULL;
    if (w->loop_over)
        CloseHandle(w->loop_over);
    if (w->done)
        CloseHandle(w->done);
    return rc;
}
