/*
 * plat.h -- the platform services the esebackupfs core needs, declared by
 * the core and implemented by an adapter (src/fs/posix/plat_posix.c for
 * Linux/libfuse; a Windows/WinFsp adapter implements the same list).
 *
 * The core (the .c files of src/fs) includes only ISO C headers, errno.h, the public
 * headers (include/) and its own headers: everything that needs an
 * operating system goes through this file.  Errors are -errno values
 * (errno.h names, which every platform's C library provides).
 *
 * Thread safety: every function may be called from any thread; an object
 * (mutex, condition variable, thread, spool file, digest) is used as its
 * own notes say.  Nothing here keeps global mutable state except the
 * adapter's logging context (set once, before threads, by the adapter).
 */
#ifndef FS_PLAT_H
#define FS_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* printf-style argument checking (MinGW: the format its stdio implements,
 * C99 with __USE_MINGW_ANSI_STDIO=1, which a Windows build defines). */
#if defined(__MINGW32__)
#define FS_PRINTF(f, a) __attribute__((format(__MINGW_PRINTF_FORMAT, f, a)))
#elif defined(__GNUC__)
#define FS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FS_PRINTF(f, a)
#endif

/* ---- mutex and condition variable (opaque, allocated by the adapter) -- */

typedef struct fs_mutex fs_mutex;
typedef struct fs_cond fs_cond;

/* Create a (non-recursive) mutex.  0 or -ENOMEM/-EAGAIN. */
int fs_mutex_new(fs_mutex **pm);
/* Destroy an unlocked mutex.  Safe with NULL. */
void fs_mutex_free(fs_mutex *m);
/* Lock / unlock.  Cannot fail for a valid, correctly used mutex (the
 * adapter aborts with a message on an impossible error). */
void fs_mutex_lock(fs_mutex *m);
void fs_mutex_unlock(fs_mutex *m);

/* Create a condition variable.  0 or -ENOMEM/-EAGAIN. */
int fs_cond_new(fs_cond **pc);
/* Destroy a condition variable nobody waits on.  Safe with NULL. */
void fs_cond_free(fs_cond *c);
/* Wait (m held; released while waiting, held again on return).  Spurious
 * wake-ups are possible: callers loop on their predicate. */
void fs_cond_wait(fs_cond *c, fs_mutex *m);
/* As fs_cond_wait, for at most timeout_ms milliseconds (monotonic clock).
 * 0 when woken (or spuriously), -ETIMEDOUT when the time passed. */
int fs_cond_timedwait(fs_cond *c, fs_mutex *m, uint64_t timeout_ms);
/* Wake every waiter. */
void fs_cond_broadcast(fs_cond *c);

/* ---- threads ------------------------------------------------------------ */

typedef struct fs_thread fs_thread;

/* Start fn(arg) on a new thread.  0, or -errno (nothing started). */
int fs_thread_start(fs_thread **pt, void (*fn)(void *), void *arg);
/* Wait for the thread to return and free it.  Exactly once per thread. */
void fs_thread_join(fs_thread *t);

/* ---- clocks and sizes --------------------------------------------------- */

/* A point in time: seconds and nanoseconds since the Unix epoch (UTC). */
typedef struct fs_time {
    int64_t sec;
    int32_t nsec;
} fs_time;

/* The real-time (wall) clock. */
void fs_clock_real(fs_time *t);
/* A monotonic clock in nanoseconds (arbitrary origin). */
uint64_t fs_clock_mono_ns(void);
/* Sleep for about ns nanoseconds (at least ns; interruptions resumed). */
void fs_sleep_ns(uint64_t ns);
/* Break t down as UTC.  0, or -EOVERFLOW (out of range). */
int fs_time_utc(const fs_time *t, struct tm *tm);
/* The virtual-memory page size in bytes (a power of two). */
size_t fs_page_size(void);
/* Allocate size bytes aligned to align (a power of two that divides
 * size), freed with fs_aligned_free.  NULL on out of memory. */
void *fs_aligned_alloc(size_t align, size_t size);
void fs_aligned_free(void *p);

/* ---- the spool file ------------------------------------------------------ */

typedef struct fs_sfile fs_sfile;

/* Check that dir exists, is a directory and that we may create files in
 * it.  0 or -errno (-ENOENT, -ENOTDIR, -EACCES, ...). */
int fs_sfile_dir_ok(const char *dir);
/* Create an anonymous file in dir that disappears when closed, even after
 * a crash where the platform allows (Linux: O_TMPFILE; otherwise a named
 * temporary file removed at close).  0 or -errno. */
int fs_sfile_create(const char *dir, fs_sfile **pf);
/* Write all n bytes at off.  cold: nobody is expected to read them back
 * soon, so the platform may write them around its cache (Linux: O_DIRECT
 * when buf, off and n are aligned; reads stay coherent).  0, -ENOSPC
 * (device full or over quota), or another -errno.  Concurrent calls on
 * disjoint ranges are allowed. */
int fs_sfile_pwrite(fs_sfile *f, uint64_t off, const void *buf, size_t n, bool cold);
/* Read exactly n bytes at off.  0, or -EIO (error or end of file).
 * Concurrent calls are allowed. */
int fs_sfile_pread(fs_sfile *f, uint64_t off, void *buf, size_t n);
/* Close (and remove) the file.  Safe with NULL. */
void fs_sfile_close(fs_sfile *f);

/* ---- SHA-256 (OpenSSL on POSIX; CNG on Windows) -------------------------- */

typedef struct fs_sha256 fs_sha256;

/* Start a digest.  0 or -ENOMEM. */
int fs_sha256_new(fs_sha256 **pd);
/* Add n bytes.  0 or -ENOMEM. */
int fs_sha256_update(fs_sha256 *d, const void *p, size_t n);
/* Finish into out (32 bytes).  0 or -ENOMEM.  Free d afterwards. */
int fs_sha256_final(fs_sha256 *d, unsigned char out[32]);
/* Free a digest (finished or not).  Safe with NULL. */
void fs_sha256_free(fs_sha256 *d);
/* One-shot digest of a buffer.  0 or -ENOMEM. */
int fs_sha256_buf(const void *p, size_t n, unsigned char out[32]);

/* ---- the platform ------------------------------------------------------ */

/* 1 when this build serves the Windows backup sources (ESENT, DsBackup,
 * CertSrvBackup), 0 when it serves libjet (endpoint, in-process).  The
 * configuration refuses the other kind with one line.  Pure. */
int fs_plat_windows(void);

/* ---- logging ------------------------------------------------------------- */

/* Severities, in syslog order (the adapter maps them). */
enum fs_log_level {
    FS_LOG_ERR = 3,
    FS_LOG_WARNING = 4,
    FS_LOG_NOTICE = 5,
    FS_LOG_INFO = 6,
    FS_LOG_DEBUG = 7
};

/* Log one line (no trailing newline).  Thread-safe; never fails (a line
 * that cannot be written is dropped). */
void fs_log(enum fs_log_level level, const char *fmt, ...) FS_PRINTF(2, 3);

#endif
