/*
 * errlist.c -- print libjet's error table, one "NAME VALUE" line per code,
 * in the order of jet_errors.def (aliases left out).  Used by
 * tests/errlist_esent.sh to compare the list with mingw-w64's esent.h.
 */
#include "config.h"

#include <stdio.h>

#include "jetlib.h"

int main(void)
{
    size_t i;
    const char *name;
    JET_ERR err;

    for (i = 0; i < JetLibErrorCount(); i++) {
        err = JetLibErrorAt(i, &name);
        if (printf("%s %ld\n", name, (long)err) < 0)
            return 1;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
