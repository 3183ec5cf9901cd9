/*
 * plat_posix.c -- plat.h on POSIX: pthreads, clock_gettime, the O_TMPFILE
 * spool file, OpenSSL SHA-256.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "fsx.h"
#include "plat.h"

struct fs_mutex {
    pthread_mutex_t m;
};

struct fs_cond {
    pthread_cond_t c;
};

struct fs_thread {
    pthread_t t;
    void (*fn)(void *);
    void *arg;
};

struct fs_sfile {
    int fd;          /* read/write, through the page cache */
    int dfd;         /* the same file opened O_DIRECT for writes, or -1 */
    char path[1100]; /* named fallback to unlink at close, or "" */
};

/* O_DIRECT alignment of buffer, offset and length (the largest logical
 * block size in use). */
#define SFILE_DIO_ALIGN 4096u

/* A pthread call that cannot fail when used correctly did: a bug.  Say so
 * and stop (continuing would corrupt the backup's state). */
static void plat_die(const char *what, int err)
{
    fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, what, strerror(err));
    abort();
}

/* See plat.h. */
int fs_mutex_new(fs_mutex **pm)
{
    fs_mutex *m = malloc(sizeof *m);
    int rc;

    if (!m)
        return -ENOMEM;
    rc = pthread_mutex_init(&m->m, NULL);
    if (rc) {
        free(m);
        return -rc;
    }
    *pm = m;
    return 0;
}

/* See plat.h. */
void fs_mutex_free(fs_mutex *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->m);
    free(m);
}

/* See plat.h. */
void fs_mutex_lock(fs_mutex *m)
{
    int rc = pthread_mutex_lock(&m->m);

    if (rc)
        plat_die("pthread_mutex_lock", rc);
}

/* See plat.h. */
void fs_mutex_unlock(fs_mutex *m)
{
    int rc = pthread_mutex_unlock(&m->m);

    if (rc)
        plat_die("pthread_mutex_unlock", rc);
}

/* See plat.h.  The condition variable waits on CLOCK_MONOTONIC. */
int fs_cond_new(fs_cond **pc)
{
    fs_cond *c = malloc(sizeof *c);
    pthread_condattr_t ca;
    int rc;

    if (!c)
        return -ENOMEM;
    rc = pthread_condattr_init(&ca);
    if (rc)
        goto out;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!rc)
        rc = pthread_cond_init(&c->c, &ca);
    pthread_condattr_destroy(&ca);
out:
    if (rc) {
        free(c);
        return -rc;
    }
    *pc = c;
    return 0;
}

/* See plat.h. */
void fs_cond_free(fs_cond *c)
{
    if (!c)
        return;
    pthread_cond_destroy(&c->c);
    free(c);
}

/* See plat.h. */
void fs_cond_wait(fs_cond *c, fs_mutex *m)
{
    int rc = pthread_cond_wait(&c->c, &m->m);

    if (rc)
        plat_die("pthread_cond_wait", rc);
}

/* See plat.h. */
int fs_cond_timedwait(fs_cond *c, fs_mutex *m, uint64_t timeout_ms)
{
    struct timespec ts;
    int rc;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        plat_die("clock_gettime", errno);
    ts.tv_sec += (time_t)(timeout_ms / 1000);
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
    if (rc == ETIMEDOUT)
        return -ETIMEDOUT;
    if (rc)
        plat_die("pthread_cond_timedwait", rc);
    return 0;
}

/* See plat.h. */
void fs_cond_broadcast(fs_cond *c)
{
    int rc = pthread_cond_broadcast(&c->c);

    if (rc)
        plat_die("pthread_cond_broadcast", rc);
}

/* pthread entry: run the core's function. */
static void *thread_main(void *arg)
{
    fs_thread *t = arg;

    t->fn(t->arg);
    return NULL;
}

/* See plat.h. */
int fs_thread_start(fs_thread **pt, void (*fn)(void *), void *arg)
{
    fs_thread *t = malloc(sizeof *t);
    int rc;

    if (!t)
        return -ENOMEM;
    t->fn = fn;
    t->arg = arg;
    rc = pthread_create(&t->t, NULL, thread_main, t);
    if (rc) {
        free(t);
        return -rc;
    }
    *pt = t;
    return 0;
}

/* See plat.h. */
void fs_thread_join(fs_thread *t)
{
    int rc = pthread_join(t->t, NULL);

    if (rc)
        plat_die("pthread_join", rc);
    free(t);
}

/* See plat.h. */
void fs_clock_real(fs_time *t)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
        plat_die("clock_gettime", errno);
    t->sec = (int64_t)ts.tv_sec;
    t->nsec = (int32_t)ts.tv_nsec;
}

/* See plat.h. */
uint64_t fs_clock_mono_ns(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        plat_die("clock_gettime", errno);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* See plat.h. */
void fs_sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* See plat.h. */
int fs_time_utc(const fs_time *t, struct tm *tm)
{
    time_t sec = (time_t)t->sec;

    if ((int64_t)sec != t->sec || !gmtime_r(&sec, tm))
        return -EOVERFLOW;
    return 0;
}

/* See plat.h: the POSIX build serves libjet. */
int fs_plat_windows(void)
{
    return 0;
}

/* See plat.h. */
size_t fs_page_size(void)
{
    long n = sysconf(_SC_PAGESIZE);

    return n > 0 ? (size_t)n : 4096;
}

/* See plat.h. */
void *fs_aligned_alloc(size_t align, size_t size)
{
    return aligned_alloc(align, size);
}

/* See plat.h. */
void fs_aligned_free(void *p)
{
    free(p);
}

/* See plat.h. */
int fs_sfile_dir_ok(const char *dir)
{
    struct stat st;

    if (stat(dir, &st) < 0)
        return -errno;
    if (!S_ISDIR(st.st_mode))
        return -ENOTDIR;
    if (access(dir, W_OK | X_OK) < 0)
        return -errno;
    return 0;
}

/* See plat.h.  O_TMPFILE, else mkstemp (the name is unlinked at close).
 * Cold aligned writes go through a second, O_DIRECT descriptor when the
 * file system allows it: with policy = keep and in-order readers the spool
 * is written once and mostly never read, so copying it into the page
 * cache only costs CPU (measured: that copy was half of the driver's
 * samples for a 2 GiB `cat` under keep) and memory; bytes that will be
 * read back soon (rsync's, restic's) stay buffered, and so do all reads
 * (the kernel keeps the two descriptors coherent). */
int fs_sfile_create(const char *dir, fs_sfile **pf)
{
    fs_sfile *f = calloc(1, sizeof *f);
    char self[64];
    int rc = 0;

    if (!f)
        return -ENOMEM;
    f->dfd = -1;
    f->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (f->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        rc = snprintf(f->path, sizeof f->path, "%s/esebackupfs-spool.XXXXXX", dir);
        if (rc < 0 || (size_t)rc >= sizeof f->path) {
            f->path[0] = 0;
            rc = -ENAMETOOLONG;
            goto out;
        }
        rc = 0;
        f->fd = mkstemp(f->path);
        if (f->fd < 0)
            f->path[0] = 0;
        else if (fcntl(f->fd, F_SETFD, FD_CLOEXEC) < 0)
            rc = -errno;
    }
    if (f->fd < 0) {
        rc = -errno;
        goto out;
    }
    /* no O_DIRECT (tmpfs on older kernels, some FUSE or network file
     * systems): every write is buffered */
    snprintf(self, sizeof self, "/proc/self/fd/%d", f->fd);
    f->dfd = open(self, O_WRONLY | O_DIRECT | O_CLOEXEC);
out:
    if (rc < 0) {
        fs_sfile_close(f);
        return rc;
    }
    *pf = f;
    return 0;
}

/* See plat.h.  Cold aligned requests through the O_DIRECT descriptor;
 * the rest, and any the file system refuses (EINVAL), buffered. */
int fs_sfile_pwrite(fs_sfile *f, uint64_t off, const void *buf, size_t n, bool cold)
{
    const unsigned char *p = buf;
    size_t done = 0;
    int fd = f->fd;

    if (cold && f->dfd >= 0 && off % SFILE_DIO_ALIGN == 0 && n % SFILE_DIO_ALIGN == 0 &&
        (uintptr_t)buf % SFILE_DIO_ALIGN == 0)
        fd = f->dfd;
    while (done < n) {
        ssize_t w = pwrite(fd, p + done, n - done, (off_t)(off + done));
        if (w < 0 && errno == EINVAL && fd == f->dfd) {
            fd = f->fd; /* not for this request: buffered */
            continue;
        }
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EDQUOT ? -ENOSPC : -errno;
        }
        done += (size_t)w;
    }
    return 0;
}

/* See plat.h. */
int fs_sfile_pread(fs_sfile *f, uint64_t off, void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t done = 0;

    while (done < n) {
        ssize_t r = pread(f->fd, p + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -EIO;
        }
        if (r == 0)
            return -EIO;
        done += (size_t)r;
    }
    return 0;
}

/* See plat.h. */
void fs_sfile_close(fs_sfile *f)
{
    if (!f)
        return;
    if (f->dfd >= 0)
        close(f->dfd);
    if (f->fd >= 0)
        close(f->fd);
    if (f->path[0])
        unlink(f->path);
    free(f);
}

/* See plat.h.  The digest object is OpenSSL's EVP_MD_CTX. */
int fs_sha256_new(fs_sha256 **pd)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();

    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        return -ENOMEM;
    }
    *pd = (fs_sha256 *)c;
    return 0;
}

/* See plat.h. */
int fs_sha256_update(fs_sha256 *d, const void *p, size_t n)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)d, p, n) == 1 ? 0 : -ENOMEM;
}

/* See plat.h. */
int fs_sha256_final(fs_sha256 *d, unsigned char out[32])
{
    unsigned int n = 0;

    if (EVP_DigestFinal_ex((EVP_MD_CTX *)d, out, &n) != 1 || n != 32)
        return -ENOMEM;
    return 0;
}

/* See plat.h. */
void fs_sha256_free(fs_sha256 *d)
{
    EVP_MD_CTX_free((EVP_MD_CTX *)d);
}

/* See plat.h. */
int fs_sha256_buf(const void *p, size_t n, unsigned char out[32])
{
    return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
}

/* See fsx.h. */
void fsx_attr_to_stat(const fs_attr *a, struct stat *st)
{
    struct timespec t = { .tv_sec = (time_t)a->time.sec, .tv_nsec = a->time.nsec };

    memset(st, 0, sizeof *st);
    st->st_ino = (ino_t)a->ino;
    st->st_mode = (a->is_dir ? S_IFDIR : S_IFREG) | (mode_t)a->mode;
    st->st_nlink = (nlink_t)a->nlink;
    st->st_uid = getuid();
    st->st_gid = getgid();
    st->st_size = (off_t)a->size;
    st->st_blksize = (blksize_t)a->blksize;
    st->st_blocks = (blkcnt_t)a->blocks;
    st->st_atim = t;
    st->st_mtim = t;
    st->st_ctim = t;
}

/* See fsx.h. */
void fsx_statfs_to_statvfs(const fs_statfs *s, struct statvfs *sv)
{
    memset(sv, 0, sizeof *sv);
    sv->f_bsize = (unsigned long)s->bsize;
    sv->f_frsize = (unsigned long)s->frsize;
    sv->f_blocks = (fsblkcnt_t)s->blocks;
    sv->f_files = (fsfilcnt_t)s->files;
    sv->f_namemax = (unsigned long)s->namemax;
    sv->f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
}
