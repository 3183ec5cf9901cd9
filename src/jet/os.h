/*
 * os.h -- libjet's one table of operating-system file calls (internal).
 *
 * Every file operation of the engine (src/jet: log, databases, checkpoint,
 * recovery, backup, restore; not the endpoint sockets) goes through the
 * jos_* wrappers below, which call the current table (jos_vtab).  As with
 * SQLite's os_unix.c aSyscall[], the table is per process and tests may
 * replace it (jos_set_vtab: e.g. src/jet/tests/jet_testvfs.c, a power-loss
 * simulator) or make the Nth call fail with a chosen errno
 * (jos_fault_arm).  Production code never changes either.
 *
 * Each wrapper has the contract of the POSIX call of the same name
 * (return value and errno); an injected fault returns that call's failure
 * value (-1, NULL) with errno set, and changes nothing -- except jos_close
 * and jos_closedir, which still release the descriptor (as POSIX close
 * does on EIO) so that a fault never leaks one.
 *
 * Thread safety: the wrappers are thread-safe (the counters and the fault
 * state are atomics).  jos_set_vtab, jos_fault_arm and jos_fault_disarm
 * must not race with engine I/O in flight: call them while no instance is
 * doing I/O, or accept that a call in flight uses the old setting.
 */
#ifndef JET_OS_H
#define JET_OS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The kinds of call, for counting and fault injection. */
typedef enum jos_op {
    JOS_OPEN,
    JOS_CLOSE,
    JOS_PREAD,
    JOS_PWRITE,
    JOS_FSYNC,
    JOS_FDATASYNC,
    JOS_RENAME,
    JOS_UNLINK,
    JOS_FTRUNCATE,
    JOS_FSTAT,
    JOS_STAT,
    JOS_MKDIR,
    JOS_FLOCK,
    JOS_OPENDIR,
    JOS_READDIR,
    JOS_CLOSEDIR,
    JOS_REALPATH,
    JOS_LINK,
    JOS_NOPS,
    JOS_ANY = JOS_NOPS /* any kind (fault injection, counting) */
} jos_op;

/* The table.  Every member is required (jos_set_vtab checks). */
typedef struct jos_vtab {
    int (*xopen)(const char *path, int flags, mode_t mode);
    int (*xclose)(int fd);
    ssize_t (*xpread)(int fd, void *buf, size_t cb, off_t off);
    ssize_t (*xpwrite)(int fd, const void *buf, size_t cb, off_t off);
    int (*xfsync)(int fd); /* also used on directories */
    int (*xfdatasync)(int fd);
    int (*xrename)(const char *from, const char *to);
    int (*xunlink)(const char *path);
    int (*xftruncate)(int fd, off_t size);
    int (*xfstat)(int fd, struct stat *st);
    int (*xstat)(const char *path, struct stat *st);
    int (*xmkdir)(const char *path, mode_t mode);
    int (*xflock)(int fd, int op);
    DIR *(*xopendir)(const char *path);
    struct dirent *(*xreaddir)(DIR *d);
    int (*xclosedir)(DIR *d);
    char *(*xrealpath)(const char *path, char *resolved);
    int (*xlink)(const char *from, const char *to);
} jos_vtab;

/* The wrappers the engine calls (POSIX contracts; see above). */
int jos_open(const char *path, int flags, ...); /* mode when O_CREAT */
int jos_close(int fd);
ssize_t jos_pread(int fd, void *buf, size_t cb, off_t off);
ssize_t jos_pwrite(int fd, const void *buf, size_t cb, off_t off);
int jos_fsync(int fd);
int jos_fdatasync(int fd);
int jos_rename(const char *from, const char *to);
int jos_unlink(const char *path);
int jos_ftruncate(int fd, off_t size);
int jos_fstat(int fd, struct stat *st);
int jos_stat(const char *path, struct stat *st);
int jos_mkdir(const char *path, mode_t mode);
int jos_flock(int fd, int op);
DIR *jos_opendir(const char *path);
struct dirent *jos_readdir(DIR *d);
int jos_closedir(DIR *d);
char *jos_realpath(const char *path, char *resolved);
int jos_link(const char *from, const char *to);

/* jos_default -- the table of the real system calls (immutable). */
const jos_vtab *jos_default(void);

/* jos_current -- the table in use now. */
const jos_vtab *jos_current(void);

/* jos_set_vtab -- use vt (NULL: the default table) for every later call.
 * vt must stay valid while it is in use.  Returns 0, or -1 (EINVAL) if a
 * member is NULL.  Tests only. */
int jos_set_vtab(const jos_vtab *vt);

/* jos_fault_arm -- count calls of kind op (JOS_ANY: every call) from now
 * on and make the nth one (1-based) fail with err; with sticky, every
 * later call of that kind fails too (a dead disk).  Resets the counters.
 * Tests only. */
void jos_fault_arm(jos_op op, unsigned long nth, int err, bool sticky);

/* jos_fault_disarm -- no more injected faults (counters keep counting). */
void jos_fault_disarm(void);

/* jos_fault_fired -- how many calls failed by injection since the last
 * jos_fault_arm. */
unsigned long jos_fault_fired(void);

/* jos_fault_op -- the kind of the first call that failed by injection
 * since the last jos_fault_arm (JOS_ANY if none). */
jos_op jos_fault_op(void);

/* jos_count -- calls of kind op (JOS_ANY: all) since the last
 * jos_count_reset or jos_fault_arm. */
unsigned long jos_count(jos_op op);

/* jos_count_reset -- zero the counters. */
void jos_count_reset(void);

/* jos_op_name -- "open", "pwrite", ... ("any" for JOS_ANY). Static. */
const char *jos_op_name(jos_op op);

#ifdef __cplusplus
}
#endif
#endif /* JET_OS_H */
