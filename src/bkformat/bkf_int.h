/*
 * bkf_int.h -- private helpers of the bkformat module: the error line and
 * opening files that must be regular without blocking (a FIFO or device in
 * a backup directory is refused, never opened for reading).
 * Thread safety: no shared state.
 */
#ifndef BKF_INT_H
#define BKF_INT_H

#include <stdio.h>
#include <sys/types.h>

#define BKF_GEN_MAX 0x7FFFF800ul /* lGenerationMax */

/* Where a reader or writer puts its one error line. */
typedef struct bkf_err {
    char *buf;
    size_t cb;
} bkf_err;

/* Format the error line into e (the first one wins). */
void bkf_fail(bkf_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "PATH: what kind, not a regular file (hint)" when mode != 0, else
 * "PATH: strerror(errno) (hint)"; hint may be NULL. */
void bkf_open_fail(bkf_err *e, const char *path, mode_t mode, const char *hint);
/* open(2) that refuses anything but a regular file without blocking: -1
 * with *pmode = the file's mode (0 when errno tells the reason). */
int bkf_open_regular(const char *path, int flags, mode_t mode, mode_t *pmode);
/* bkf_open_regular + fdopen("r"); NULL as bkf_open_regular. */
FILE *bkf_fopen_read(const char *path, mode_t *pmode);
/* fsync a directory; 0 or -1 (errno). */
int bkf_fsync_dir(const char *dir);

#endif /* BKF_INT_H */
