/*
 * os.c -- the engine's table of file system calls (see os.h): real
 * system calls by default, replaceable by tests, with Nth-call fault
 * injection.  All mutable state is in the one context struct jos_ctx.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "os.h"

/* open(2) with its optional mode made explicit. */
static int sys_open(const char *path, int flags, mode_t mode)
{
    return open(path, flags, mode);
}

static const jos_vtab jos_sys = {
    .xopen = sys_open,
    .xclose = close,
    .xpread = pread,
    .xpwrite = pwrite,
    .xfsync = fsync,
    .xfdatasync = fdatasync,
    .xrename = rename,
    .xunlink = unlink,
    .xftruncate = ftruncate,
    .xfstat = fstat,
    .xstat = stat,
    .xmkdir = mkdir,
    .xflock = flock,
    .xopendir = opendir,
    .xreaddir = readdir,
    .xclosedir = closedir,
    .xrealpath = realpath,
    .xlink = link,
};

/* The process-wide context: the table in use, call counters and the
 * armed fault. */
static struct jos_context {
    _Atomic(const jos_vtab *) vt;     /* NULL = jos_sys */
    atomic_ulong count[JOS_NOPS + 1]; /* [JOS_ANY] counts every call */
    atomic_bool armed;
    atomic_int fault_op;
    atomic_ulong fault_nth;
    atomic_int fault_err;
    atomic_bool fault_sticky;
    atomic_ulong fired;
    atomic_int fired_op; /* kind of the first failed call */
} jos_ctx;

static const char *const op_names[JOS_NOPS + 1] = {
    "open",    "close",     "pread",    "pwrite", "fsync", "fdatasync", "rename",
    "unlink",  "ftruncate", "fstat",    "stat",   "mkdir", "flock",     "opendir",
    "readdir", "closedir",  "realpath", "link",   "any",
};

/* jos_op_name -- see os.h. */
const char *jos_op_name(jos_op op)
{
    return (unsigned)op <= JOS_NOPS ? op_names[op] : "?";
}

/* The table in use (never NULL). */
static const jos_vtab *vt(void)
{
    const jos_vtab *v = atomic_load(&jos_ctx.vt);
    return v != NULL ? v : &jos_sys;
}

/* Count a call of kind op; true (errno set) if it must fail. */
static bool fault(jos_op op)
{
    unsigned long n_op = atomic_fetch_add(&jos_ctx.count[op], 1) + 1;
    unsigned long n_any = atomic_fetch_add(&jos_ctx.count[JOS_ANY], 1) + 1;
    unsigned long n, nth;
    int fop;
    if (!atomic_load(&jos_ctx.armed))
        return false;
    fop = atomic_load(&jos_ctx.fault_op);
    if (fop == JOS_ANY)
        n = n_any;
    else if (fop == (int)op)
        n = n_op;
    else
        return false;
    nth = atomic_load(&jos_ctx.fault_nth);
    if (n != nth && !(atomic_load(&jos_ctx.fault_sticky) && n > nth))
        return false;
    if (atomic_fetch_add(&jos_ctx.fired, 1) == 0)
        atomic_store(&jos_ctx.fired_op, (int)op);
    errno = atomic_load(&jos_ctx.fault_err);
    return true;
}

/* jos_default -- see os.h. */
const jos_vtab *jos_default(void)
{
    return &jos_sys;
}

/* jos_current -- see os.h. */
const jos_vtab *jos_current(void)
{
    return vt();
}

/* jos_set_vtab -- see os.h. */
int jos_set_vtab(const jos_vtab *v)
{
    if (v != NULL && (!v->xopen || !v->xclose || !v->xpread || !v->xpwrite || !v->xfsync ||
                      !v->xfdatasync || !v->xrename || !v->xunlink || !v->xftruncate ||
                      !v->xfstat || !v->xstat || !v->xmkdir || !v->xflock || !v->xopendir ||
                      !v->xreaddir || !v->xclosedir || !v->xrealpath || !v->xlink)) {
        errno = EINVAL;
        return -1;
    }
    atomic_store(&jos_ctx.vt, v);
    return 0;
}

/* jos_count_reset -- see os.h. */
void jos_count_reset(void)
{
    for (int i = 0; i <= JOS_NOPS; i++)
        atomic_store(&jos_ctx.count[i], 0);
}

/* jos_fault_arm -- see os.h. */
void jos_fault_arm(jos_op op, unsigned long nth, int err, bool sticky)
{
    atomic_store(&jos_ctx.armed, false);
    jos_count_reset();
    atomic_store(&jos_ctx.fired, 0);
    atomic_store(&jos_ctx.fault_op, (int)op);
    atomic_store(&jos_ctx.fault_nth, nth);
    atomic_store(&jos_ctx.fault_err, err);
    atomic_store(&jos_ctx.fault_sticky, sticky);
    atomic_store(&jos_ctx.armed, true);
}

/* jos_fault_disarm -- see os.h. */
void jos_fault_disarm(void)
{
    atomic_store(&jos_ctx.armed, false);
}

/* jos_fault_fired -- see os.h. */
unsigned long jos_fault_fired(void)
{
    return atomic_load(&jos_ctx.fired);
}

/* jos_fault_op -- see os.h. */
jos_op jos_fault_op(void)
{
    return atomic_load(&jos_ctx.fired) > 0 ? (jos_op)atomic_load(&jos_ctx.fired_op) : JOS_ANY;
}

/* jos_count -- see os.h. */
unsigned long jos_count(jos_op op)
{
    return (unsigned)op <= JOS_NOPS ? atomic_load(&jos_ctx.count[op]) : 0;
}

/* ---- the wrappers ---- */

/* jos_open -- open through the table: its return value and errno, or an
 * injected failure (os.h).  mode is read only with O_CREAT or O_TMPFILE. */
int jos_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
#ifdef O_TMPFILE
    bool has_mode = (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
#else
    bool has_mode = (flags & O_CREAT) != 0;
#endif
    if (has_mode) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, unsigned int);
        va_end(ap);
    }
    if (fault(JOS_OPEN))
        return -1;
    return vt()->xopen(path, flags, mode);
}

/* jos_close -- close through the table: its return value and errno, or an
 * injected failure (os.h).  An injected failure still releases the descriptor. */
int jos_close(int fd)
{
    if (fault(JOS_CLOSE)) {
        int e = errno;
        (void)vt()->xclose(fd); /* the descriptor is released all the same */
        errno = e;
        return -1;
    }
    return vt()->xclose(fd);
}

/* jos_pread -- pread through the table: its return value and errno, or an
 * injected failure (os.h). */
ssize_t jos_pread(int fd, void *buf, size_t cb, off_t off)
{
    return fault(JOS_PREAD) ? -1 : vt()->xpread(fd, buf, cb, off);
}

/* jos_pwrite -- pwrite through the table: its return value and errno, or an
 * injected failure (os.h). */
ssize_t jos_pwrite(int fd, const void *buf, size_t cb, off_t off)
{
    return fault(JOS_PWRITE) ? -1 : vt()->xpwrite(fd, buf, cb, off);
}

/* jos_fsync -- fsync through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_fsync(int fd)
{
    return fault(JOS_FSYNC) ? -1 : vt()->xfsync(fd);
}

/* jos_fdatasync -- fdatasync through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_fdatasync(int fd)
{
    return fault(JOS_FDATASYNC) ? -1 : vt()->xfdatasync(fd);
}

/* jos_rename -- rename through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_rename(const char *from, const char *to)
{
    return fault(JOS_RENAME) ? -1 : vt()->xrename(from, to);
}

/* jos_unlink -- unlink through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_unlink(const char *path)
{
    return fault(JOS_UNLINK) ? -1 : vt()->xunlink(path);
}

/* jos_ftruncate -- ftruncate through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_ftruncate(int fd, off_t size)
{
    return fault(JOS_FTRUNCATE) ? -1 : vt()->xftruncate(fd, size);
}

/* jos_fstat -- fstat through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_fstat(int fd, struct stat *st)
{
    return fault(JOS_FSTAT) ? -1 : vt()->xfstat(fd, st);
}

/* jos_stat -- stat through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_stat(const char *path, struct stat *st)
{
    return fault(JOS_STAT) ? -1 : vt()->xstat(path, st);
}

/* jos_mkdir -- mkdir through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_mkdir(const char *path, mode_t mode)
{
    return fault(JOS_MKDIR) ? -1 : vt()->xmkdir(path, mode);
}

/* jos_flock -- flock through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_flock(int fd, int op)
{
    return fault(JOS_FLOCK) ? -1 : vt()->xflock(fd, op);
}

/* jos_opendir -- opendir through the table: its return value and errno, or an
 * injected failure (os.h). */
DIR *jos_opendir(const char *path)
{
    return fault(JOS_OPENDIR) ? NULL : vt()->xopendir(path);
}

/* jos_readdir -- readdir through the table: its return value and errno, or an
 * injected failure (os.h).  NULL with errno 0 at the end. */
struct dirent *jos_readdir(DIR *d)
{
    return fault(JOS_READDIR) ? NULL : vt()->xreaddir(d);
}

/* jos_closedir -- closedir through the table: its return value and errno, or an
 * injected failure (os.h).  An injected failure still releases the descriptor. */
int jos_closedir(DIR *d)
{
    if (fault(JOS_CLOSEDIR)) {
        int e = errno;
        (void)vt()->xclosedir(d);
        errno = e;
        return -1;
    }
    return vt()->xclosedir(d);
}

/* jos_realpath -- realpath through the table: its return value and errno, or an
 * injected failure (os.h). */
char *jos_realpath(const char *path, char *resolved)
{
    return fault(JOS_REALPATH) ? NULL : vt()->xrealpath(path, resolved);
}

/* jos_link -- link through the table: its return value and errno, or an
 * injected failure (os.h). */
int jos_link(const char *from, const char *to)
{
    return fault(JOS_LINK) ? -1 : vt()->xlink(from, to);
}
