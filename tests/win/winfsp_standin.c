/*
 * winfsp_standin.c -- the test suite's stand-in winfsp-x64.dll (mingw, run
 * under Wine by tests/win_fs.sh).  It exports the fsp_fuse3_* entry points
 * esebackupfs.exe resolves (src/fs/win/fuse_win.c), with the signatures of
 * the project's src/fs/win/winfsp.h.  Instead of mounting, its loop drives
 * the adapter's operations like a copy tool:
 *   - init (as WinFsp's loop does), recording whether read-only was asked;
 *   - list the tree from "/" (readdir, getattr), creating the directories
 *     under $ESEFS_COPY;
 *   - read every file in 1 MiB requests (open, read, release) and write it
 *     under $ESEFS_COPY: the largest file backwards (out of order) on one
 *     thread while a second thread reads the next largest, then the rest
 *     in listing order;
 *   - run $ESEFS_WINFSP_THEN (e.g. `esebackupfs.exe commit X:`), still
 *     mounted, and record its exit status; "{ppid}" in it stands for the
 *     id of the process that started this one (e.g. `taskkill /F /PID
 *     {ppid}`: under a service, the service process);
 *   - with $ESEFS_WINFSP_WAIT=1 (a mount that stays up until it is told
 *     to unmount, as a service's does): start $ESEFS_WINFSP_THEN (e.g.
 *     `net stop NAME`) without waiting for it, record `then started`, and
 *     serve until the adapter calls fsp_fuse3_exit (its unmount request),
 *     recorded as `exit`;
 *   - destroy (if the adapter set it) at the end of the loop, as WinFsp
 *     does when the file system is unmounted; then the adapter unmounts.
 * Every fact the test asserts goes to $ESEFS_WINFSP_RECORD, one a line:
 *   mount MOUNTPOINT | init readonly=0|1 | file PATH SIZE |
 *   error OP PATH OFFSET ERRNO | copied N of M | then STATUS |
 *   then started | exit | destroy | unmount
 * A read error (a negative errno, e.g. -5 EIO) stops the copy of that
 * file; the other files are still tried, as robocopy would.
 * Thread safety: the loop's reader threads share the record under a lock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <tlhelp32.h>

#include "winfsp.h"

#define CHUNK (1024 * 1024)
#define MAXFILES 256

/* The one mounted file system this stand-in serves. */
struct wfs_fuse {
    struct wfs_operations ops;
    void *priv;
    struct wfs_context ctx;
};

typedef struct file_ent {
    char path[MAX_PATH];
    int64_t size;
} file_ent;

typedef struct walk {
    file_ent files[MAXFILES];
    int n;
    int failed;
    char names[64][MAX_PATH];
    int nnames;
} walk;

/* The stand-in's one context (a DLL instance serves one mount). */
static struct {
    CRITICAL_SECTION lock;
    int lock_ready;
    struct wfs_fuse *fuse;
    HANDLE exited; /* set by fsp_fuse3_exit */
} sw;

static void rec(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void rec(const char *fmt, ...)
{
    const char *file = getenv("ESEFS_WINFSP_RECORD");
    va_list ap;

    if (!file)
        return;
    if (sw.lock_ready)
        EnterCriticalSection(&sw.lock);
    FILE *f = fopen(file, "ab");
    if (f) {
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
        fclose(f);
    }
    if (sw.lock_ready)
        LeaveCriticalSection(&sw.lock);
}

__declspec(dllexport) struct wfs_fuse *fsp_fuse3_new(struct wfs_env *env, struct wfs_args *args,
                                                     const struct wfs_operations *ops,
                                                     size_t opsize, void *priv);
__declspec(dllexport) int fsp_fuse3_mount(struct wfs_env *env, struct wfs_fuse *f,
                                          const char *mountpoint);
__declspec(dllexport) void fsp_fuse3_unmount(struct wfs_env *env, struct wfs_fuse *f);
__declspec(dllexport) void fsp_fuse3_destroy(struct wfs_env *env, struct wfs_fuse *f);
__declspec(dllexport) void fsp_fuse3_exit(struct wfs_env *env, struct wfs_fuse *f);
__declspec(dllexport) int fsp_fuse3_loop_mt(struct wfs_env *env, struct wfs_fuse *f,
                                            struct wfs_loop_config *cfg);
__declspec(dllexport) struct wfs_context *fsp_fuse3_get_context(struct wfs_env *env);

struct wfs_fuse *fsp_fuse3_new(struct wfs_env *env, struct wfs_args *args,
                               const struct wfs_operations *ops, size_t opsize, void *priv)
{
    struct wfs_fuse *f;

    (void)args;
    if (!env || env->environment != 'W' || opsize > sizeof *ops)
        return NULL;
    f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    memcpy(&f->ops, ops, opsize);
    f->priv = priv;
    f->ctx.fuse = f;
    f->ctx.private_data = priv;
    if (!sw.lock_ready) {
        InitializeCriticalSection(&sw.lock);
        sw.lock_ready = 1;
    }
    if (!sw.exited)
        sw.exited = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!sw.exited) {
        free(f);
        return NULL;
    }
    sw.fuse = f;
    return f;
}

int fsp_fuse3_mount(struct wfs_env *env, struct wfs_fuse *f, const char *mountpoint)
{
    (void)env;
    (void)f;
    rec("mount %s", mountpoint);
    return 0;
}

void fsp_fuse3_unmount(struct wfs_env *env, struct wfs_fuse *f)
{
    (void)env;
    (void)f;
    rec("unmount");
}

void fsp_fuse3_destroy(struct wfs_env *env, struct wfs_fuse *f)
{
    (void)env;
    if (sw.fuse == f)
        sw.fuse = NULL;
    free(f);
}

void fsp_fuse3_exit(struct wfs_env *env, struct wfs_fuse *f)
{
    (void)env;
    (void)f;
    SetEvent(sw.exited);
}

struct wfs_context *fsp_fuse3_get_context(struct wfs_env *env)
{
    (void)env;
    return sw.fuse ? &sw.fuse->ctx : NULL;
}

static int fill(void *buf, const char *name, const struct wfs_stat *st, int64_t off, int flags)
{
    walk *w = buf;

    (void)st;
    (void)off;
    (void)flags;
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    if (w->nnames >= 64 || strlen(name) >= MAX_PATH)
        return 1;
    strcpy(w->names[w->nnames++], name);
    return 0;
}

/* The local name of PATH under the copy directory. */
static int local_name(const char *path, char *out, size_t cb)
{
    const char *dir = getenv("ESEFS_COPY");
    int n = snprintf(out, cb, "%s%s", dir ? dir : ".", path);
    for (char *p = out; *p; p++)
        if (*p == '/')
            *p = '\\';
    return n < 0 || (size_t)n >= cb ? -1 : 0;
}

/* List DIR recursively into w->files. */
static void list_dir(struct wfs_fuse *f, const char *dir, walk *w)
{
    struct wfs_file_info fi;
    char names[64][MAX_PATH];
    int n, rc;

    memset(&fi, 0, sizeof fi);
    w->nnames = 0;
    rc = f->ops.readdir(dir, w, fill, 0, &fi, 0);
    if (rc < 0) {
        rec("error readdir %s 0 %d", dir, -rc);
        w->failed = 1;
        return;
    }
    n = w->nnames;
    memcpy(names, w->names, sizeof names);
    for (int i = 0; i < n; i++) {
        char path[MAX_PATH], local[MAX_PATH];
        struct wfs_stat st;

        snprintf(path, sizeof path, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", names[i]);
        memset(&st, 0, sizeof st);
        rc = f->ops.getattr(path, &st, NULL);
        if (rc < 0) {
            rec("error getattr %s 0 %d", path, -rc);
            w->failed = 1;
            continue;
        }
        if ((st.st_mode & 0170000) == 0040000) {
            if (local_name(path, local, sizeof local) < 0 || !CreateDirectoryA(local, NULL)) {
                rec("error mkdir %s 0 %lu", path, (unsigned long)GetLastError());
                w->failed = 1;
                continue;
            }
            list_dir(f, path, w);
        } else if (w->n < MAXFILES) {
            strcpy(w->files[w->n].path, path);
            w->files[w->n].size = st.st_size;
            w->n++;
            rec("file %s %lld", path, (long long)st.st_size);
        }
    }
}

/* Copy one file in 1 MiB requests; backwards: last chunk first.  0 or -1. */
static int copy_file(struct wfs_fuse *f, const file_ent *e, int backwards)
{
    struct wfs_file_info fi;
    char local[MAX_PATH];
    char *buf = NULL;
    FILE *out = NULL;
    int64_t nchunks = (e->size + CHUNK - 1) / CHUNK;
    int rc = -1, opened = 0;

    memset(&fi, 0, sizeof fi);
    if (local_name(e->path, local, sizeof local) < 0)
        goto out;
    buf = malloc(CHUNK);
    out = fopen(local, "wb");
    if (!buf || !out) {
        rec("error create %s 0 0", e->path);
        goto out;
    }
    int err = f->ops.open(e->path, &fi);
    if (err < 0) {
        rec("error open %s 0 %d", e->path, -err);
        goto out;
    }
    opened = 1;
    for (int64_t i = 0; i < nchunks; i++) {
        int64_t off = (backwards ? nchunks - 1 - i : i) * (int64_t)CHUNK;
        int64_t want = e->size - off < CHUNK ? e->size - off : CHUNK;
        int got = f->ops.read(e->path, buf, CHUNK, off, &fi);
        if (got < 0) {
            rec("error read %s %lld %d", e->path, (long long)off, -got);
            goto out;
        }
        if (got != want) {
            rec("error short-read %s %lld %d", e->path, (long long)off, got);
            goto out;
        }
        if (fseeko64(out, off, SEEK_SET) != 0 || fwrite(buf, 1, (size_t)got, out) != (size_t)got) {
            rec("error write %s %lld 0", e->path, (long long)off);
            goto out;
        }
    }
    /* EOF: a read at the end returns 0 */
    int end = f->ops.read(e->path, buf, CHUNK, e->size, &fi);
    if (end != 0) {
        rec("error eof %s %lld %d", e->path, (long long)e->size, end);
        goto out;
    }
    rc = 0;
out:
    if (opened)
        (void)f->ops.release(e->path, &fi);
    if (out && fclose(out) != 0)
        rc = -1;
    free(buf);
    return rc;
}

typedef struct job {
    struct wfs_fuse *f;
    const file_ent *e;
    int backwards;
    int rc;
} job;

static DWORD WINAPI copy_thread(void *arg)
{
    job *j = arg;
    j->rc = copy_file(j->f, j->e, j->backwards);
    return 0;
}

/* The id of the process that started this one, or 0. */
static DWORD parent_pid(void)
{
    PROCESSENTRY32 pe;
    DWORD self = GetCurrentProcessId(), ppid = 0;
    HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);

    if (snap == INVALID_HANDLE_VALUE)
        return 0;
    pe.dwSize = sizeof pe;
    for (BOOL ok = Process32First(snap, &pe); ok; ok = Process32Next(snap, &pe))
        if (pe.th32ProcessID == self) {
            ppid = pe.th32ParentProcessID;
            break;
        }
    CloseHandle(snap);
    return ppid;
}

/* $ESEFS_WINFSP_THEN, when set and not empty: a command line run (and waited for) after
 * the copy, while still mounted, e.g. `esebackupfs.exe commit X:`; its
 * exit status is recorded as `then N`.  With nowait, only started
 * (`then started`), e.g. `net stop NAME`, which waits for this unmount.
 * The first "{ppid}" in it becomes parent_pid(). */
static void run_then(int nowait)
{
    const char *cmd = getenv("ESEFS_WINFSP_THEN");
    const char *tok = cmd ? strstr(cmd, "{ppid}") : NULL;
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;
    DWORD code = 0;
    char line[1024];
    int n;

    if (!cmd || !*cmd)
        return;
    if (tok)
        n = snprintf(line, sizeof line, "%.*s%lu%s", (int)(tok - cmd), cmd,
                     (unsigned long)parent_pid(), tok + strlen("{ppid}"));
    else
        n = snprintf(line, sizeof line, "%s", cmd);
    if (n < 0 || n >= (int)sizeof line) {
        rec("error then - 0 0");
        return;
    }
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessA(NULL, line, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
        rec("error then - 0 %lu", (unsigned long)GetLastError());
        return;
    }
    if (nowait) {
        CloseHandle(pi.hThread);
        CloseHandle(pi.hProcess);
        rec("then started");
        return;
    }
    WaitForSingleObject(pi.hProcess, INFINITE);
    if (!GetExitCodeProcess(pi.hProcess, &code))
        code = 255;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    rec("then %lu", (unsigned long)code);
}

/* The copy tool: see the file comment.  Returns 0 as WinFsp's loop does
 * after an unmount. */
int fsp_fuse3_loop_mt(struct wfs_env *env, struct wfs_fuse *f, struct wfs_loop_config *cfg)
{
    struct wfs_conn_info conn;
    struct wfs_config conf;
    walk *w = calloc(1, sizeof *w);
    int big = -1, second = -1, copied = 0;

    (void)env;
    (void)cfg;
    memset(&conn, 0, sizeof conn);
    memset(&conf, 0, sizeof conf);
    if (!w)
        return -1;
    if (f->ops.init) {
        f->ctx.private_data = f->ops.init(&conn, &conf);
        rec("init readonly=%d", (conn.want & WFS_CAP_READ_ONLY) ? 1 : 0);
    }
    list_dir(f, "/", w);
    for (int i = 0; i < w->n; i++)
        if (big < 0 || w->files[i].size > w->files[big].size)
            big = i;
    for (int i = 0; i < w->n; i++)
        if (i != big && (second < 0 || w->files[i].size > w->files[second].size))
            second = i;
    if (big >= 0 && second >= 0) {
        job a = { f, &w->files[big], 1, -1 }, b = { f, &w->files[second], 0, -1 };
        HANDLE t = CreateThread(NULL, 0, copy_thread, &a, 0, NULL);
        if (!t) {
            rec("error thread / 0 %lu", (unsigned long)GetLastError());
            a.rc = copy_file(f, &w->files[big], 1);
        }
        copy_thread(&b);
        if (t) {
            WaitForSingleObject(t, INFINITE);
            CloseHandle(t);
        }
        copied += (a.rc == 0) + (b.rc == 0);
    }
    for (int i = 0; i < w->n; i++)
        if (i != big && i != second)
            copied += copy_file(f, &w->files[i], 0) == 0;
    rec("copied %d of %d", copied, w->n);
    const char *wait = getenv("ESEFS_WINFSP_WAIT");
    int serve = wait && !strcmp(wait, "1");
    run_then(serve);
    if (serve) {
        /* mounted until the adapter asks to unmount (fsp_fuse3_exit) */
        WaitForSingleObject(sw.exited, INFINITE);
        rec("exit");
    }
    /* WinFsp calls destroy when its dispatcher stops (the unmount) */
    if (f->ops.destroy) {
        f->ops.destroy(f->ctx.private_data);
        rec("destroy");
    }
    free(w);
    return 0;
}
