/*
 * jet_api_check.c -- compiled by the cross build only: every code of
 * jet_errors.def is defined on Windows (by mingw's esent.h, or by
 * jet_api.h where esent.h lacks it) with the same value.  A missing name
 * or a different value stops the build.
 */
#include "config.h"
#include "jet_api.h"

#define JET_ERRDEF(name, value) \
    _Static_assert((name) == (value), #name " differs from jet_errors.def");
#define JET_ERRALIAS(name, target)
#include "jet_errors.def"
#undef JET_ERRDEF
#undef JET_ERRALIAS

_Static_assert(JET_bitBackupEndAbort == 2 && JET_bitBackupEndNormal == 1 &&
                   JET_bitBackupTruncateDone == 0x100 && JET_bitBackupIncremental == 1,
               "backup grbits differ from ese-backup-spec.md 1.1");
