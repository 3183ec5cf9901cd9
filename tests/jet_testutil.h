/*
 * jet_testutil.h -- helpers shared by the libjet engine tests: an instance
 * configured on a private temporary directory (th_tmpdir, harness.h).  Plain
 * functions (no Check asserts) so forked children can use them too.
 */
#ifndef JET_TESTUTIL_H
#define JET_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "harness.h" /* th_tmpdir, th_rm_tree */
#include "jetlib.h"

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
