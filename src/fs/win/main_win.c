/*
 * main_win.c -- esebackupfs.exe: the Windows command line.
 *
 *   esebackupfs.exe CONFIG X:      mount (drive letter or directory)
 *   esebackupfs.exe status|commit X:   ask the mount (named pipe)
 *   esebackupfs.exe --service NAME CONFIG X:   the same mount as the
 *       Windows service NAME (service_win.c; the SCM starts it)
 *   esebackupfs.exe --version
 *
 * The configuration is read and validated first (conf_win.c), so a bad
 * INI is refused with "FILE:LINE: ..." before anything else happens; the
 * mount itself is fuse_win.c's (WinFsp, resolved at run time).
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "fsops.h"
#include "winx.h"
#include "winfsp_mount.h"

#define PROG "esebackupfs"

/* The usage text. */
static void usage(FILE *out)
{
    fprintf(out, "usage: " PROG ".exe CONFIG X:     mount on a drive letter (or a directory):\n"
                 "                                 start a live backup; Ctrl-C ends it\n"
                 "       " PROG ".exe status X:       progress, errors, umount decision\n"
                 "       " PROG ".exe commit X:       allow log truncation (truncate = commit)\n"
                 "       " PROG ".exe --service NAME CONFIG X:\n"
                 "                                 the same mount as the Windows service NAME\n"
                 "                                 (sc create NAME binPath= \"...\"; net start /\n"
                 "                                 net stop NAME; logs to the event log too)\n"
                 "       " PROG ".exe --version\n"
                 "\n"
                 "CONFIG is an INI file (esebackupfs.ini(5)); its [source] names ESENT\n"
                 "in-process, dsbackup = SERVER or certsrv = SERVER.\n");
}

/* esebackupfs.exe CONFIG MOUNTPOINT | status|commit MOUNTPOINT |
 * --service NAME CONFIG MOUNTPOINT | --version | --help.  Exit status: 0
 * done, 1 refused, failed or a usage error (and see winx_control_client,
 * winx_service_run). */
int main(int argc, char **argv)
{
    fs_config cfg;
    char err[4096];

    if (argc == 2 && (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))) {
        printf(PROG " %s (Windows, WinFsp FUSE3 API)\n", PACKAGE_VERSION);
        return 0;
    }
    if (argc >= 3 && !strcmp(argv[1], "status") &&
        (!strcmp(argv[2], "--json") || !strcmp(argv[2], "--watch"))) {
        fprintf(stderr, PROG ": status %s is not available in this Windows build (use status X:)\n",
                argv[2]);
        return 2;
    }
    if (argc == 3 && (!strcmp(argv[1], "status") || !strcmp(argv[1], "commit")))
        return winx_control_client(PROG, argv[2], argv[1]);
    if (argc == 5 && !strcmp(argv[1], "--service"))
        return winx_service_run(PROG, argv[2], argv[3], argv[4]);
    if (argc == 7 && !strcmp(argv[1], "--service-mount"))
        return winx_service_child(PROG, argv + 2);
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 3) {
        usage(stderr);
        return 1;
    }
    if (winx_conf_load(argv[1], &cfg, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    (void)winx_log_setup(PROG, NULL, 0); /* stderr: cannot fail */
    return winx_mount(&cfg, argv[2], NULL) == 0 ? 0 : 1;
}
