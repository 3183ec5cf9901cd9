/*
 * jet_testvfs.c -- the power-loss simulator (see jet_testvfs.h).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os.h"
#include "jet_testvfs.h"

#define TV_SECTOR 512
#define TV_MAXFD 4096

typedef struct tv_op { /* a pending data operation */
    bool trunc;
    off_t off; /* write offset, or the new size */
    size_t cb;
    uint8_t *data;
} tv_op;

typedef struct tv_file {
    uint8_t *dur; /* durable bytes */
    size_t dur_cb;
    tv_op *ops; /* pending since the last sync */
    size_t nops, capops;
} tv_file;

typedef struct tv_ent {
    char name[64];
    int file;
} tv_ent;

enum { NS_CREATE, NS_RENAME, NS_UNLINK, NS_LINK };
typedef struct tv_nsop {
    int kind;
    char a[64], b[64];
    int file;
} tv_nsop;

typedef struct tv_ns {
    tv_ent *e;
    int n, cap;
} tv_ns;

/* The simulator's context (the only mutable state of this module). */
static struct tvfs {
    pthread_mutex_t mu;
    bool active;
    char root[PATH_MAX];
    size_t rootlen;
    tv_file *files;
    int nfiles, capfiles;
    tv_ns cur, dur;
    tv_nsop *ns;
    int nns, capns;
    int fdmap[TV_MAXFD]; /* 0 untracked, -1 the directory, else file + 1 */
    tv_point_fn point;
    void *arg;
    unsigned long points;
    size_t atomic_edb; /* != 0: *.edb writes are atomic in these units */
    jos_vtab vt;
} tv = { .mu = PTHREAD_MUTEX_INITIALIZER };

static const jos_vtab *real(void)
{
    return jos_default();
}

/* tv_rand -- see jet_testvfs.h. */
uint64_t tv_rand(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void *xgrow(void *p, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return p;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(p, (size_t)nc * elem);
    if (q == NULL)
        abort(); /* test helper: out of memory is fatal */
    *cap = nc;
    return q;
}

/* The name of path inside the tracked directory, or NULL. */
static const char *tracked_name(const char *path)
{
    const char *n;
    if (!tv.active || strncmp(path, tv.root, tv.rootlen) != 0 || path[tv.rootlen] != '/')
        return NULL;
    n = path + tv.rootlen + 1;
    if (*n == '\0' || strchr(n, '/') != NULL || strlen(n) >= 64)
        return NULL;
    return n;
}

static int ns_find(const tv_ns *ns, const char *name)
{
    for (int i = 0; i < ns->n; i++)
        if (strcmp(ns->e[i].name, name) == 0)
            return i;
    return -1;
}

static void ns_set(tv_ns *ns, const char *name, int file)
{
    int i = ns_find(ns, name);
    if (i < 0) {
        ns->e = xgrow(ns->e, &ns->cap, ns->n + 1, sizeof *ns->e);
        i = ns->n++;
        snprintf(ns->e[i].name, sizeof ns->e[i].name, "%s", name);
    }
    ns->e[i].file = file;
}

static void ns_del(tv_ns *ns, const char *name)
{
    int i = ns_find(ns, name);
    if (i >= 0)
        ns->e[i] = ns->e[--ns->n];
}

static void ns_apply(tv_ns *ns, const tv_nsop *op)
{
    int i;
    switch (op->kind) {
    case NS_CREATE:
        ns_set(ns, op->a, op->file);
        break;
    case NS_LINK:
        i = ns_find(ns, op->a);
        if (i >= 0)
            ns_set(ns, op->b, ns->e[i].file);
        break;
    case NS_RENAME:
        i = ns_find(ns, op->a);
        if (i >= 0) {
            int f = ns->e[i].file;
            ns_del(ns, op->a);
            ns_set(ns, op->b, f);
        }
        break;
    default:
        ns_del(ns, op->a);
    }
}

static void ns_log(int kind, const char *a, const char *b, int file)
{
    tv.ns = xgrow(tv.ns, &tv.capns, tv.nns + 1, sizeof *tv.ns);
    tv_nsop *op = &tv.ns[tv.nns++];
    op->kind = kind;
    snprintf(op->a, sizeof op->a, "%s", a);
    snprintf(op->b, sizeof op->b, "%s", b ? b : "");
    op->file = file;
    ns_apply(&tv.cur, op);
}

static int new_file(void)
{
    tv.files = xgrow(tv.files, &tv.capfiles, tv.nfiles + 1, sizeof *tv.files);
    memset(&tv.files[tv.nfiles], 0, sizeof tv.files[0]);
    return tv.nfiles++;
}

static void file_op(int f, bool trunc, off_t off, const void *data, size_t cb)
{
    tv_file *fi = &tv.files[f];
    if (fi->nops == fi->capops) {
        fi->capops = fi->capops ? fi->capops * 2 : 16;
        fi->ops = realloc(fi->ops, fi->capops * sizeof *fi->ops);
        if (fi->ops == NULL)
            abort();
    }
    tv_op *op = &fi->ops[fi->nops++];
    op->trunc = trunc;
    op->off = off;
    op->cb = cb;
    op->data = NULL;
    if (!trunc && cb > 0) {
        op->data = malloc(cb);
        if (op->data == NULL)
            abort();
        memcpy(op->data, data, cb);
    }
}

static void file_clear_ops(tv_file *fi)
{
    for (size_t i = 0; i < fi->nops; i++)
        free(fi->ops[i].data);
    fi->nops = 0;
}

/* Read the whole file behind fd into fi->dur (it is now durable). */
static int file_sync(int fd, int f)
{
    tv_file *fi = &tv.files[f];
    struct stat st;
    uint8_t *b;
    char self[64];
    int rfd;
    /* fd may be write-only: read through a second, read-only descriptor */
    snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
    rfd = real()->xopen(self, O_RDONLY | O_CLOEXEC, 0);
    if (rfd < 0)
        return -1;
    if (real()->xfstat(rfd, &st) != 0 || (b = malloc((size_t)st.st_size + 1)) == NULL) {
        real()->xclose(rfd);
        return -1;
    }
    for (size_t got = 0; got < (size_t)st.st_size;) {
        ssize_t n = real()->xpread(rfd, b + got, (size_t)st.st_size - got, (off_t)got);
        if (n <= 0) {
            free(b);
            real()->xclose(rfd);
            return -1;
        }
        got += (size_t)n;
    }
    real()->xclose(rfd);
    free(fi->dur);
    fi->dur = b;
    fi->dur_cb = (size_t)st.st_size;
    file_clear_ops(fi);
    return 0;
}

static void point(void)
{
    tv_point_fn fn;
    void *arg;
    pthread_mutex_lock(&tv.mu);
    fn = tv.active ? tv.point : NULL;
    arg = tv.arg;
    if (fn != NULL)
        tv.points++;
    pthread_mutex_unlock(&tv.mu);
    if (fn != NULL)
        fn(arg);
}

static int tracked_fd(int fd)
{
    return fd >= 0 && fd < TV_MAXFD ? tv.fdmap[fd] : 0;
}

/* ---- the table ---- */

static int v_open(const char *path, int flags, mode_t mode)
{
    const char *name = tracked_name(path);
    int fd, i, f;
    if (name != NULL && (flags & (O_CREAT | O_TRUNC)))
        point();
    pthread_mutex_lock(&tv.mu);
    fd = real()->xopen(path, flags, mode);
    name = tracked_name(path);
    if (fd >= 0 && fd < TV_MAXFD &&
        (name != NULL || strcmp(path, tv.root) == 0 ||
         (strncmp(path, tv.root, tv.rootlen) == 0 && strcmp(path + tv.rootlen, "/") == 0))) {
        if (name == NULL) {
            tv.fdmap[fd] = tv.active ? -1 : 0;
        } else {
            i = ns_find(&tv.cur, name);
            if (i < 0) {
                f = new_file();
                ns_log(NS_CREATE, name, NULL, f);
            } else {
                f = tv.cur.e[i].file;
            }
            if ((flags & O_TRUNC) && (flags & O_ACCMODE) != O_RDONLY)
                file_op(f, true, 0, NULL, 0);
            tv.fdmap[fd] = f + 1;
        }
    }
    pthread_mutex_unlock(&tv.mu);
    return fd;
}

static int v_close(int fd)
{
    pthread_mutex_lock(&tv.mu);
    if (fd >= 0 && fd < TV_MAXFD)
        tv.fdmap[fd] = 0;
    int r = real()->xclose(fd);
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static ssize_t v_pwrite(int fd, const void *buf, size_t cb, off_t off)
{
    ssize_t n;
    int t;
    if (tracked_fd(fd) > 0)
        point();
    pthread_mutex_lock(&tv.mu);
    n = real()->xpwrite(fd, buf, cb, off);
    t = tracked_fd(fd);
    if (n > 0 && t > 0)
        file_op(t - 1, false, off, buf, (size_t)n);
    pthread_mutex_unlock(&tv.mu);
    return n;
}

static int v_ftruncate(int fd, off_t size)
{
    int r, t;
    if (tracked_fd(fd) > 0)
        point();
    pthread_mutex_lock(&tv.mu);
    r = real()->xftruncate(fd, size);
    t = tracked_fd(fd);
    if (r == 0 && t > 0)
        file_op(t - 1, true, size, NULL, 0);
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static int do_sync(int fd, int (*sys)(int))
{
    int r, t;
    if (tracked_fd(fd) != 0)
        point();
    pthread_mutex_lock(&tv.mu);
    r = sys(fd);
    t = tracked_fd(fd);
    if (r == 0 && t > 0) {
        r = file_sync(fd, t - 1);
    } else if (r == 0 && t < 0) {
        /* the directory: every name operation so far is durable */
        tv.dur.n = 0;
        for (int i = 0; i < tv.cur.n; i++)
            ns_set(&tv.dur, tv.cur.e[i].name, tv.cur.e[i].file);
        tv.nns = 0;
    }
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static int v_fsync(int fd)
{
    return do_sync(fd, real()->xfsync);
}

static int v_fdatasync(int fd)
{
    return do_sync(fd, real()->xfdatasync);
}

static int v_rename(const char *from, const char *to)
{
    int r;
    bool tf = tracked_name(from) != NULL, tt = tracked_name(to) != NULL;
    if (tf || tt)
        point();
    pthread_mutex_lock(&tv.mu);
    r = real()->xrename(from, to);
    if (r == 0 && tracked_name(from) && tracked_name(to))
        ns_log(NS_RENAME, tracked_name(from), tracked_name(to), -1);
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static int v_unlink(const char *path)
{
    int r;
    if (tracked_name(path) != NULL)
        point();
    pthread_mutex_lock(&tv.mu);
    r = real()->xunlink(path);
    if (r == 0 && tracked_name(path) != NULL)
        ns_log(NS_UNLINK, tracked_name(path), NULL, -1);
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static int v_link(const char *from, const char *to)
{
    int r;
    if (tracked_name(to) != NULL)
        point();
    pthread_mutex_lock(&tv.mu);
    r = real()->xlink(from, to);
    if (r == 0 && tracked_name(from) && tracked_name(to))
        ns_log(NS_LINK, tracked_name(from), tracked_name(to), -1);
    pthread_mutex_unlock(&tv.mu);
    return r;
}

static ssize_t v_pread(int fd, void *buf, size_t cb, off_t off)
{
    return real()->xpread(fd, buf, cb, off);
}
static int v_fstat(int fd, struct stat *st)
{
    return real()->xfstat(fd, st);
}
static int v_stat(const char *p, struct stat *st)
{
    return real()->xstat(p, st);
}
static int v_mkdir(const char *p, mode_t m)
{
    return real()->xmkdir(p, m);
}
static int v_flock(int fd, int op)
{
    return real()->xflock(fd, op);
}
static DIR *v_opendir(const char *p)
{
    return real()->xopendir(p);
}
static struct dirent *v_readdir(DIR *d)
{
    return real()->xreaddir(d);
}
static int v_closedir(DIR *d)
{
    return real()->xclosedir(d);
}
static char *v_realpath(const char *p, char *r)
{
    return real()->xrealpath(p, r);
}

static void forget(void)
{
    for (int i = 0; i < tv.nfiles; i++) {
        file_clear_ops(&tv.files[i]);
        free(tv.files[i].ops);
        free(tv.files[i].dur);
    }
    free(tv.files);
    free(tv.cur.e);
    free(tv.dur.e);
    free(tv.ns);
    tv.files = NULL;
    tv.nfiles = tv.capfiles = 0;
    memset(&tv.cur, 0, sizeof tv.cur);
    memset(&tv.dur, 0, sizeof tv.dur);
    tv.ns = NULL;
    tv.nns = tv.capns = 0;
    memset(tv.fdmap, 0, sizeof tv.fdmap);
}

/* tvfs_start -- see jet_testvfs.h. */
int tvfs_start(const char *dir, tv_point_fn fn, void *arg)
{
    tv_image img = { 0 };
    if (tv_image_load(dir, &img) != 0)
        return -1;
    pthread_mutex_lock(&tv.mu);
    forget();
    snprintf(tv.root, sizeof tv.root, "%s", dir);
    tv.rootlen = strlen(tv.root);
    for (int i = 0; i < img.n; i++) {
        int f = new_file();
        tv.files[f].dur = img.data[i];
        tv.files[f].dur_cb = img.cb[i];
        img.data[i] = NULL;
        ns_set(&tv.cur, img.name[i], f);
        ns_set(&tv.dur, img.name[i], f);
    }
    tv.point = fn;
    tv.arg = arg;
    tv.points = 0;
    tv.vt = (jos_vtab){ v_open,   v_close,   v_pread,     v_pwrite,   v_fsync,    v_fdatasync,
                        v_rename, v_unlink,  v_ftruncate, v_fstat,    v_stat,     v_mkdir,
                        v_flock,  v_opendir, v_readdir,   v_closedir, v_realpath, v_link };
    tv.active = true;
    pthread_mutex_unlock(&tv.mu);
    tv_image_free(&img);
    return jos_set_vtab(&tv.vt);
}

/* tvfs_stop -- see jet_testvfs.h. */
void tvfs_stop(void)
{
    (void)jos_set_vtab(NULL);
    pthread_mutex_lock(&tv.mu);
    tv.active = false;
    forget();
    pthread_mutex_unlock(&tv.mu);
}

/* tvfs_set_atomic_edb -- see jet_testvfs.h. */
void tvfs_set_atomic_edb(size_t unit)
{
    pthread_mutex_lock(&tv.mu);
    tv.atomic_edb = unit;
    pthread_mutex_unlock(&tv.mu);
}

/* tvfs_points -- see jet_testvfs.h. */
unsigned long tvfs_points(void)
{
    unsigned long n;
    pthread_mutex_lock(&tv.mu);
    n = tv.points;
    pthread_mutex_unlock(&tv.mu);
    return n;
}

typedef struct frag {
    off_t off;
    size_t cb;
    const uint8_t *p;
} frag;

/* Put cb bytes at off into *buf (size *pcb, grown with zeros). */
static int put(uint8_t **buf, size_t *pcb, off_t off, const uint8_t *p, size_t cb)
{
    size_t end = (size_t)off + cb;
    if (end > *pcb) {
        uint8_t *nb = realloc(*buf, end ? end : 1);
        if (nb == NULL)
            return -1;
        memset(nb + *pcb, 0, end - *pcb);
        *buf = nb;
        *pcb = end;
    }
    memcpy(*buf + off, p, cb);
    return 0;
}

/* tvfs_capture -- see jet_testvfs.h. */
int tvfs_capture(uint64_t *seed, unsigned keep_pct, tv_image *img)
{
    tv_ns ns = { 0 };
    frag *fr = NULL;
    int nfr = 0, capfr = 0, rc = 0, k;
    memset(img, 0, sizeof *img);
    pthread_mutex_lock(&tv.mu);
    for (int i = 0; i < tv.dur.n; i++)
        ns_set(&ns, tv.dur.e[i].name, tv.dur.e[i].file);
    k = (int)(tv_rand(seed) % (uint64_t)(tv.nns + 1));
    for (int i = 0; i < k; i++) {
        tv_nsop op = tv.ns[i];
        ns_apply(&ns, &op);
    }
    img->name = calloc((size_t)ns.n + 1, sizeof *img->name);
    img->data = calloc((size_t)ns.n + 1, sizeof *img->data);
    img->cb = calloc((size_t)ns.n + 1, sizeof *img->cb);
    if (img->name == NULL || img->data == NULL || img->cb == NULL) {
        rc = -1;
        goto out;
    }
    for (int i = 0; i < ns.n && rc == 0; i++) {
        const tv_file *fi = &tv.files[ns.e[i].file];
        uint8_t *b = malloc(fi->dur_cb + 1);
        size_t cb = fi->dur_cb;
        if (b == NULL) {
            rc = -1;
            break;
        }
        size_t unit =
            tv.atomic_edb && strstr(ns.e[i].name, ".edb") != NULL ? tv.atomic_edb : TV_SECTOR;
        if (cb > 0)
            memcpy(b, fi->dur, cb);
        nfr = 0;
        for (size_t o = 0; o < fi->nops; o++) {
            const tv_op *op = &fi->ops[o];
            if (op->trunc) {
                if ((size_t)op->off < cb) {
                    cb = (size_t)op->off;
                } else if ((size_t)op->off > cb) {
                    uint8_t *nb = realloc(b, (size_t)op->off);
                    if (nb == NULL) {
                        rc = -1;
                        break;
                    }
                    memset(nb + cb, 0, (size_t)op->off - cb);
                    b = nb;
                    cb = (size_t)op->off;
                }
                continue;
            }
            for (size_t at = 0; at < op->cb;) {
                off_t fo = op->off + (off_t)at;
                size_t n = unit - (size_t)(fo % unit);
                if (n > op->cb - at)
                    n = op->cb - at;
                if (tv_rand(seed) % 100 < keep_pct) {
                    fr = xgrow(fr, &capfr, nfr + 1, sizeof *fr);
                    fr[nfr++] = (frag){ fo, n, op->data + at };
                }
                at += n;
            }
        }
        for (int j = nfr - 1; j > 0; j--) { /* reorder */
            int r = (int)(tv_rand(seed) % (uint64_t)(j + 1));
            frag t = fr[j];
            fr[j] = fr[r];
            fr[r] = t;
        }
        for (int j = 0; j < nfr && rc == 0; j++)
            rc = put(&b, &cb, fr[j].off, fr[j].p, fr[j].cb);
        snprintf(img->name[i], 64, "%s", ns.e[i].name);
        img->data[i] = b;
        img->cb[i] = cb;
        img->n = i + 1;
    }
out:
    pthread_mutex_unlock(&tv.mu);
    free(ns.e);
    free(fr);
    if (rc != 0)
        tv_image_free(img);
    return rc;
}

/* tv_image_load -- see jet_testvfs.h. */
int tv_image_load(const char *dir, tv_image *img)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0, cap = 0;
    memset(img, 0, sizeof *img);
    if (d == NULL)
        return -1;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char p[PATH_MAX];
        struct stat st;
        FILE *f;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode) || strlen(e->d_name) >= 64)
            continue;
        if (img->n + 1 > cap) {
            int nc = cap ? cap * 2 : 16;
            img->name = realloc(img->name, (size_t)nc * sizeof *img->name);
            img->data = realloc(img->data, (size_t)nc * sizeof *img->data);
            img->cb = realloc(img->cb, (size_t)nc * sizeof *img->cb);
            if (img->name == NULL || img->data == NULL || img->cb == NULL)
                abort();
            cap = nc;
        }
        img->data[img->n] = malloc((size_t)st.st_size + 1);
        img->cb[img->n] = (size_t)st.st_size;
        snprintf(img->name[img->n], 64, "%s", e->d_name);
        f = fopen(p, "rb");
        if (img->data[img->n] == NULL || f == NULL ||
            fread(img->data[img->n], 1, (size_t)st.st_size, f) != (size_t)st.st_size)
            rc = -1;
        if (f != NULL)
            fclose(f);
        img->n++;
    }
    closedir(d);
    if (rc != 0)
        tv_image_free(img);
    return rc;
}

/* tv_image_store -- see jet_testvfs.h. */
int tv_image_store(const char *dir, const tv_image *img)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[PATH_MAX];
    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && unlink(p) != 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    for (int i = 0; i < img->n; i++) {
        FILE *f;
        snprintf(p, sizeof p, "%s/%s", dir, img->name[i]);
        f = fopen(p, "wb");
        if (f == NULL)
            return -1;
        if (img->cb[i] > 0 && fwrite(img->data[i], 1, img->cb[i], f) != img->cb[i]) {
            fclose(f);
            return -1;
        }
        if (fclose(f) != 0)
            return -1;
    }
    return 0;
}

/* tv_image_free -- see jet_testvfs.h. */
void tv_image_free(tv_image *img)
{
    if (img->data != NULL)
        for (int i = 0; i < img->n; i++)
            free(img->data[i]);
    free(img->data);
    free(img->name);
    free(img->cb);
    memset(img, 0, sizeof *img);
}
