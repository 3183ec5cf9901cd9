/*
 * opts.c -- jetutil's small command-line parser: long options (with or
 * without a value, `--opt VALUE` or `--opt=VALUE`), positional arguments,
 * `--help`.  No global state.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jetutil.h"

/* Parse argv[1..argc-1] against opts (NULL-name terminated); see jetutil.h
 * for the contract.  Prints the usage line on errors and for --help. */
int ju_parse(int argc, char **argv, const ju_opt *opts, const char **pos, int npos_max, int *npos,
             const char *usage)
{
    int n = 0;
    bool dashdash = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!dashdash && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            printf("usage: %s\n", usage);
            return 1;
        }
        if (!dashdash && strcmp(a, "--") == 0) {
            dashdash = true;
            continue;
        }
        if (!dashdash && a[0] == '-' && a[1] != '\0') {
            const ju_opt *o = NULL;
            const char *eq = strchr(a, '=');
            size_t len = eq ? (size_t)(eq - a) : strlen(a);
            for (const ju_opt *p = opts; p && p->name; p++) {
                if (strlen(p->name) == len && strncmp(p->name, a, len) == 0) {
                    o = p;
                    break;
                }
            }
            if (!o) {
                fprintf(stderr, "jetutil %s: unknown option '%s' (usage: %s)\n", argv[0], a, usage);
                return -1;
            }
            if (o->has_arg) {
                if (eq) {
                    *o->value = eq + 1;
                } else if (i + 1 < argc) {
                    *o->value = argv[++i];
                } else {
                    fprintf(stderr, "jetutil %s: option '%s' needs a value (usage: %s)\n", argv[0],
                            o->name, usage);
                    return -1;
                }
            } else {
                if (eq) {
                    fprintf(stderr, "jetutil %s: option '%s' takes no value (usage: %s)\n", argv[0],
                            o->name, usage);
                    return -1;
                }
                *o->flag = true;
            }
            continue;
        }
        if (n >= npos_max) {
            fprintf(stderr, "jetutil %s: unexpected argument '%s' (usage: %s)\n", argv[0], a,
                    usage);
            return -1;
        }
        pos[n++] = a;
    }
    *npos = n;
    return 0;
}
