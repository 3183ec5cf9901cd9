/*
 * jet_testutil.h -- helpers shared by the libjet engine tests: a private
 * temporary directory per test, and an instance configured on it.  Plain
 * functions (no Check asserts) so forked children can use them too.
 */
#ifndef JET_TESTUTIL_H
#define JET_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "bkclient.h"
#include "jetlib.h"

/* mkdtemp "/tmp/<prefix>.XXXXXX" into dir; 0 or -1. */
static inline int jt_tmpdir(char *dir, size_t cb, const char *prefix)
{
    snprintf(dir, cb, "/tmp/%s.XXXXXX", prefix);
    return mkdtemp(dir) != NULL ? 0 : -1;
}

/* Remove dir and everything below it; the exit status of rm. */
static inline int jt_rmtree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

/* An instance whose logs and checkpoint live in dir, log_kib KiB logs
 * (created and configured through the shared in-process hosting,
 * bkc_host_create; not yet JetInit'ed); 0 if any call fails. */
static inline JET_INSTANCE jt_inst(const char *name, const char *dir, long log_kib,
                                   long circular)
{
    JET_INSTANCE inst = 0;
    bkc_host_params p = {
        .instance = name,
        .system_path = dir,
        .log_path = dir,
        .log_kib = (unsigned long)log_kib,
        .circular = (int)circular,
        .legacy = -1,
    };
    return bkc_host_create(&p, &inst, NULL) < 0 ? 0 : inst;
}

#endif /* JET_TESTUTIL_H */
