/*
 * main.c -- jetutil entry point: dispatches to the subcommands.
 * jetutil is the admin tool of libjet in the spirit of esentutl; see
 * docs/jetutil.1 for the interface.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "jetutil.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary; /* NULL: hidden */
} cmds[] = {
    { "create", cmd_create, JU_USAGE_CREATE + sizeof "jetutil" },
    { "workload", cmd_workload, JU_USAGE_WORKLOAD + sizeof "jetutil" },
    { "verify", cmd_verify, JU_USAGE_VERIFY + sizeof "jetutil" },
    { "dump", cmd_dump, JU_USAGE_DUMP + sizeof "jetutil" },
    { "serve", cmd_serve, JU_USAGE_SERVE + sizeof "jetutil" },
    { "backup", cmd_backup, JU_USAGE_BACKUP + sizeof "jetutil" },
    { "restore", cmd_restore, JU_USAGE_RESTORE + sizeof "jetutil" },
    { "bench-read", cmd_bench_read, NULL },
};

/* Print the command list to f. */
static void usage(FILE *f)
{
    fprintf(f, "usage: jetutil COMMAND [ARGS]   (jetutil COMMAND --help for details)\n");
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (cmds[i].summary)
            fprintf(f, "  jetutil %s\n", cmds[i].summary);
}

/* Exit status: 0 success, 1 failure, 2 usage error. */
int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: jetutil COMMAND [ARGS] (jetutil --help lists the commands)\n");
        return JU_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
        if (!strcmp(argv[1], cmds[i].name))
            return cmds[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "jetutil: unknown command '%s' (jetutil --help lists the commands)\n", argv[1]);
    return JU_EXIT_USAGE;
}
