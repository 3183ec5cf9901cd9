/*
 * bkf_int.h -- private helpers of the bkformat module: the error line.
 * Thread safety: no shared state.
 */
#ifndef BKF_INT_H
#define BKF_INT_H

#include <stdio.h>
#include "bkformat.h"

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
void bkf_open_fail(bkf_err *e, const char *path, unsigned mode, const char *hint);

/* Parse DIR/jetutil-backup.label into l (bkf_julabel_read without the
 * buffer set-up; bkf_set_load uses it).  0, or -1 (e). */
int bkf_julabel_parse(bkf_err *e, const char *dir, bkf_label *l);

#endif /* BKF_INT_H */
