/*
 * errname.c -- JetLibErrorName: the symbolic name of a Jet error/warning.
 *
 * The names come from the one list, jet_errors.def.  Where the list gives
 * two names for one value (JET_errDatabaseInconsistent is an alias of
 * JET_errDatabaseDirtyShutdown) the first-listed name is returned.  An
 * unknown code returns "JET_errUnknown": formatting the number would need
 * a caller buffer or global mutable state.
 */
#include "config.h"

#include <stddef.h>

#include "jetlib.h"

struct jet_err_name {
    JET_ERR err;
    const char *name;
};

/* Aliases are left out: they share the value of a name listed earlier. */
static const struct jet_err_name jet_err_names[] = {
#define JET_ERRDEF(name, value) { (value), #name },
#define JET_ERRALIAS(name, target)
#include "jet_errors.def"
#undef JET_ERRDEF
#undef JET_ERRALIAS
};

/* Name of err as a static string; "JET_errUnknown" if jet_errors.def does
 * not list it.  Pure, thread-safe. */
const char *JetLibErrorName(JET_ERR err)
{
    size_t i;

    for (i = 0; i < sizeof jet_err_names / sizeof jet_err_names[0]; i++) {
        if (jet_err_names[i].err == err)
            return jet_err_names[i].name;
    }
    return "JET_errUnknown";
}

/* The number of entries of the name table (tests: every code has a name,
 * and the list agrees with esent.h).  Pure, thread-safe. */
size_t JetLibErrorCount(void)
{
    return sizeof jet_err_names / sizeof jet_err_names[0];
}

/* Entry i of the name table: its code, and its name in *pname (NULL and
 * 0 when i >= JetLibErrorCount()).  Pure, thread-safe. */
JET_ERR JetLibErrorAt(size_t i, const char **pname)
{
    if (i >= JetLibErrorCount()) {
        *pname = NULL;
        return 0;
    }
    *pname = jet_err_names[i].name;
    return jet_err_names[i].err;
}
