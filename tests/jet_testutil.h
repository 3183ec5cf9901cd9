/*
 * jet_testutil.h -- helpers shared by the libjet engine tests: an instance
 * configured on a private temporary directory (th_tmpdir, harness.h).  Plain
 * functions (no Check asserts) so forked children can use them too.
 */
#ifndef JET_TESTUTIL_H
#define JET_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

#include "bkclient.h"
#include "harness.h" /* th_tmpdir, th_rm_tree */
#include "jetlib.h"

/* An instance whose logs and checkpoint live in dir, log_kib KiB logs
 * (created and configured through the shared in-process hosting,
 * bkc_host_create; not yet JetInit'ed); 0 if any call fails. */
static inline JET_INSTANCE jt_inst(const char *name, const char *dir, long log_kib, long circular)
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
