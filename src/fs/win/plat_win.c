/*
 * plat_win.c -- plat.h on Windows: SRWLOCK / CONDITION_VARIABLE, threads
 * (_beginthreadex), clocks, the spool file (a CreateFileW temporary file
 * with FILE_FLAG_DELETE_ON_CLOSE: gone on close and when the process dies),
 * SHA-256 through bkformat's CNG hook, logging to stderr or the event log.
 */
#include "config.h"
#include <errno.h>
#include <process.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "bkformat.h"
#include "plat.h"
#include "winx.h"

struct fs_mutex {
    SRWLOCK lock;
};

struct fs_cond {
    CONDITION_VARIABLE cv;
};

struct fs_thread {
    HANDLE h;
    void (*fn)(void *);
    void *arg;
};

struct fs_sfile {
    HANDLE h;
};

/* See plat.h: the Windows build serves the Windows sources. */
int fs_plat_windows(void)
{
    return 1;
}

/* See plat.h. */
int fs_mutex_new(fs_mutex **pm)
{
    fs_mutex *m = malloc(sizeof *m);

    if (!m)
        return -ENOMEM;
    InitializeSRWLock(&m->lock);
    *pm = m;
    return 0;
}

/* See plat.h. */
void fs_mutex_free(fs_mutex *m)
{
    free(m);
}

/* See plat.h. */
void fs_mutex_lock(fs_mutex *m)
{
    AcquireSRWLockExclusive(&m->lock);
}

/* See plat.h. */
void fs_mutex_unlock(fs_mutex *m)
{
    ReleaseSRWLockExclusive(&m->lock);
}

/* See plat.h. */
int fs_cond_new(fs_cond **pc)
{
    fs_cond *c = malloc(sizeof *c);

    if (!c)
        return -ENOMEM;
    InitializeConditionVariable(&c->cv);
    *pc = c;
    return 0;
}

/* See plat.h. */
void fs_cond_free(fs_cond *c)
{
    free(c);
}

/* See plat.h.  An INFINITE wait fails only for an invalid lock: abort. */
void fs_cond_wait(fs_cond *c, fs_mutex *m)
{
    if (!SleepConditionVariableSRW(&c->cv, &m->lock, INFINITE, 0)) {
        fprintf(stderr, "esebackupfs: SleepConditionVariableSRW failed: error %lu\n",
                (unsigned long)GetLastError());
        abort();
    }
}

/* See plat.h. */
int fs_cond_timedwait(fs_cond *c, fs_mutex *m, uint64_t timeout_ms)
{
    DWORD ms = timeout_ms >= INFINITE ? INFINITE - 1 : (DWORD)timeout_ms;

    if (SleepConditionVariableSRW(&c->cv, &m->lock, ms, 0))
        return 0;
    if (GetLastError() == ERROR_TIMEOUT)
        return -ETIMEDOUT;
    fprintf(stderr, "esebackupfs: SleepConditionVariableSRW failed: error %lu\n",
            (unsigned long)GetLastError());
    abort();
}

/* See plat.h. */
void fs_cond_broadcast(fs_cond *c)
{
    WakeAllConditionVariable(&c->cv);
}

/* The thread entry: run the core's function. */
static unsigned __stdcall thread_main(void *arg)
{
    fs_thread *t = arg;

    t->fn(t->arg);
    return 0;
}

/* See plat.h. */
int fs_thread_start(fs_thread **pt, void (*fn)(void *), void *arg)
{
    fs_thread *t = malloc(sizeof *t);
    uintptr_t h;

    if (!t)
        return -ENOMEM;
    t->fn = fn;
    t->arg = arg;
    h = _beginthreadex(NULL, 0, thread_main, t, 0, NULL);
    if (!h) {
        int e = errno ? errno : EAGAIN;
        free(t);
        return -e;
    }
    t->h = (HANDLE)h;
    *pt = t;
    return 0;
}

/* See plat.h. */
void fs_thread_join(fs_thread *t)
{
    if (WaitForSingleObject(t->h, INFINITE) != WAIT_OBJECT_0) {
        fprintf(stderr, "esebackupfs: WaitForSingleObject(thread) failed: error %lu\n",
                (unsigned long)GetLastError());
        abort();
    }
    CloseHandle(t->h);
    free(t);
}

/* 100 ns intervals between 1601-01-01 and 1970-01-01. */
#define WIN_EPOCH_DIFF 116444736000000000ULL

/* See plat.h. */
void fs_clock_real(fs_time *t)
{
    FILETIME ft;
    ULARGE_INTEGER u;

    GetSystemTimePreciseAsFileTime(&ft);
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    uint64_t v = u.QuadPart - WIN_EPOCH_DIFF;
    t->sec = (int64_t)(v / 10000000u);
    t->nsec = (int32_t)(v % 10000000u) * 100;
}

/* See plat.h. */
uint64_t fs_clock_mono_ns(void)
{
    LARGE_INTEGER c, f;

    /* cannot fail on Windows XP and later (documented) */
    QueryPerformanceCounter(&c);
    QueryPerformanceFrequency(&f);
    uint64_t q = (uint64_t)c.QuadPart, hz = (uint64_t)f.QuadPart;
    return q / hz * 1000000000u + q % hz * 1000000000u / hz;
}

/* See plat.h. */
void fs_sleep_ns(uint64_t ns)
{
    uint64_t ms = (ns + 999999u) / 1000000u; /* whole milliseconds, rounded up */

    Sleep(ms >= INFINITE ? INFINITE - 1 : (DWORD)ms);
}

/* See plat.h. */
int fs_time_utc(const fs_time *t, struct tm *tm)
{
    __time64_t s = (__time64_t)t->sec;

    return _gmtime64_s(tm, &s) == 0 ? 0 : -EOVERFLOW;
}

/* See plat.h. */
size_t fs_page_size(void)
{
    SYSTEM_INFO si;

    GetSystemInfo(&si);
    return si.dwPageSize;
}

/* See plat.h. */
void *fs_aligned_alloc(size_t align, size_t size)
{
    return _aligned_malloc(size, align);
}

/* See plat.h. */
void fs_aligned_free(void *p)
{
    _aligned_free(p);
}

/* -errno of a Win32 error code. */
static int win_errno(DWORD e)
{
    switch (e) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
        return -ENOENT;
    case ERROR_ACCESS_DENIED:
        return -EACCES;
    case ERROR_DIRECTORY:
        return -ENOTDIR;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return -ENOSPC;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return -ENOMEM;
    default:
        return -EIO;
    }
}

/* See plat.h. */
int fs_sfile_dir_ok(const char *dir)
{
    wchar_t *w = winx_wide(dir);
    DWORD a;
    int rc = 0;

    if (!w)
        return -EINVAL;
    a = GetFileAttributesW(w);
    if (a == INVALID_FILE_ATTRIBUTES)
        rc = win_errno(GetLastError());
    else if (!(a & FILE_ATTRIBUTE_DIRECTORY))
        rc = -ENOTDIR;
    else if (a & FILE_ATTRIBUTE_READONLY)
        rc = -EACCES;
    free(w);
    return rc;
}

/* See plat.h: GetTempFileNameW makes a unique name (and the file), which
 * is then opened FILE_FLAG_DELETE_ON_CLOSE, so it goes away on close or
 * when the process dies. */
int fs_sfile_create(const char *dir, fs_sfile **pf)
{
    wchar_t *w = winx_wide(dir), name[MAX_PATH + 16];
    fs_sfile *f = NULL;
    HANDLE h = INVALID_HANDLE_VALUE;
    int rc = 0;

    if (!w) {
        rc = -EINVAL;
        goto out;
    }
    if (!GetTempFileNameW(w, L"esf", 0, name)) {
        rc = win_errno(GetLastError());
        goto out;
    }
    h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        rc = win_errno(GetLastError());
        DeleteFileW(name);
        goto out;
    }
    f = malloc(sizeof *f);
    if (!f) {
        rc = -ENOMEM;
        CloseHandle(h);
        goto out;
    }
    f->h = h;
    *pf = f;
out:
    free(w);
    return rc;
}

/* See plat.h: positioned writes (an OVERLAPPED offset on a synchronous
 * handle), so concurrent calls do not share a file pointer. */
int fs_sfile_pwrite(fs_sfile *f, uint64_t off, const void *buf, size_t n, bool cold)
{
    const char *p = buf;

    (void)cold; /* always through the cache manager */
    while (n) {
        OVERLAPPED ov = { 0 };
        DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, done = 0;
        ov.Offset = (DWORD)off;
        ov.OffsetHigh = (DWORD)(off >> 32);
        if (!WriteFile(f->h, p, chunk, &done, &ov))
            return win_errno(GetLastError());
        if (!done)
            return -EIO;
        p += done;
        off += done;
        n -= done;
    }
    return 0;
}

/* See plat.h. */
int fs_sfile_pread(fs_sfile *f, uint64_t off, void *buf, size_t n)
{
    char *p = buf;

    while (n) {
        OVERLAPPED ov = { 0 };
        DWORD chunk = n > (1u << 30) ? (1u << 30) : (DWORD)n, done = 0;
        ov.Offset = (DWORD)off;
        ov.OffsetHigh = (DWORD)(off >> 32);
        if (!ReadFile(f->h, p, chunk, &done, &ov) || !done)
            return -EIO;
        p += done;
        off += done;
        n -= done;
    }
    return 0;
}

/* See plat.h. */
void fs_sfile_close(fs_sfile *f)
{
    if (!f)
        return;
    CloseHandle(f->h);
    free(f);
}

/* A digest: bkformat's CNG hook, whose final call also frees it (NULL
 * after final). */
struct fs_sha256 {
    bkf_sha256 *h;
};

/* See plat.h: bkformat's CNG digest. */
int fs_sha256_new(fs_sha256 **pd)
{
    fs_sha256 *d = malloc(sizeof *d);

    if (!d)
        return -ENOMEM;
    d->h = bkf_sha256_new();
    if (!d->h) {
        free(d);
        return -ENOMEM;
    }
    *pd = d;
    return 0;
}

/* See plat.h. */
int fs_sha256_update(fs_sha256 *d, const void *p, size_t n)
{
    if (!d->h)
        return -ENOMEM;
    return bkf_sha256_update(d->h, p, n) == 0 ? 0 : -ENOMEM;
}

/* See plat.h. */
int fs_sha256_final(fs_sha256 *d, unsigned char out[32])
{
    int rc;

    if (!d->h)
        return -ENOMEM;
    rc = bkf_sha256_final(d->h, out);
    d->h = NULL;
    return rc == 0 ? 0 : -ENOMEM;
}

/* See plat.h. */
void fs_sha256_free(fs_sha256 *d)
{
    unsigned char junk[32];

    if (!d)
        return;
    if (d->h)
        (void)bkf_sha256_final(d->h, junk); /* frees it; the value is not wanted */
    free(d);
}

/* See plat.h. */
int fs_sha256_buf(const void *p, size_t n, unsigned char out[32])
{
    bkf_sha256 *h = bkf_sha256_new();

    if (!h)
        return -ENOMEM;
    if (bkf_sha256_update(h, p, n) < 0) {
        unsigned char junk[32];
        bkf_sha256_final(h, junk);
        return -ENOMEM;
    }
    return bkf_sha256_final(h, out) == 0 ? 0 : -ENOMEM;
}
