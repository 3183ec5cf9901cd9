/*
 * jet_testutil.h -- helpers shared by the libjet engine tests: a private
 * temporary directory per test, and an instance configured on it.  Plain
 * functions (no Check asserts) so forked children can use them too.
 */
#ifndef JET_TESTUTIL_H
#define JET_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

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

/* An instance whose logs and checkpoint live in dir, log_kib KiB logs;
 * 0 if any call fails. */
static inline JET_INSTANCE jt_inst(const char *name, const char *dir, long log_kib,
                                   long circular)
{
    JET_INSTANCE inst = 0;
    if (JetCreateInstance2A(&inst, name, NULL, 0) < 0)
        return 0;
    if (JetSetSystemParameterA(&inst, 0, JET_paramLogFilePath, 0, dir) < 0 ||
        JetSetSystemParameterA(&inst, 0, JET_paramSystemPath, 0, dir) < 0 ||
        JetSetSystemParameterA(&inst, 0, JET_paramLogFileSize, (JET_API_PTR)log_kib, NULL) < 0 ||
        JetSetSystemParameterA(&inst, 0, JET_paramCircularLog, (JET_API_PTR)circular, NULL) < 0) {
        (void)JetTerm(inst);
        return 0;
    }
    return inst;
}

#endif /* JET_TESTUTIL_H */
