/* readahead.c -- the mount's bdi read_ahead_kb (Linux); see fsx.h. */
#include "config.h"
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include "fsx.h"
#include "plat.h"

/* Find our mount's "maj:min" in /proc/self/mountinfo and set the bdi's
 * read_ahead_kb (fuse-notes b.5): 0, so that no read-ahead can fetch
 * bytes no reader asked for even on a page-cache path (every file is
 * direct I/O already; this is the second lock on the same door).
 * Reads no file on the mount itself (that would wait on ourselves).
 * Failures are logged as warnings (the mount works without it).
 * Called from the mount's main thread. */
void fsx_tune_readahead(const char *realmnt, unsigned kb)
{
    FILE *f = fopen("/proc/self/mountinfo", "r");
    char line[4096], dev[32] = "", path[256];
    int found = 0;

    if (!f) {
        fs_log(FS_LOG_WARNING, "readahead: /proc/self/mountinfo: %s", strerror(errno));
        return;
    }
    while (fgets(line, sizeof line, f)) {
        char mnt[PATH_MAX], majmin[32];
        unsigned id, parent;
        if (sscanf(line, "%u %u %31s %*s %4095s", &id, &parent, majmin, mnt) != 4)
            continue;
        /* mountinfo escapes spaces etc. as \040; compare escaped forms */
        char esc[PATH_MAX * 4];
        size_t k = 0;
        for (const char *s = realmnt; *s && k + 5 < sizeof esc; s++) {
            if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
                k += (size_t)snprintf(esc + k, sizeof esc - k, "\\%03o", (unsigned char)*s);
            else
                esc[k++] = *s;
        }
        esc[k] = 0;
        if (!strcmp(mnt, esc) && strstr(line, " - fuse." PROG " ")) {
            snprintf(dev, sizeof dev, "%s", majmin);
            found = 1;
        }
    }
    fclose(f);
    if (!found) {
        fs_log(FS_LOG_WARNING, "readahead: mount not found in /proc/self/mountinfo");
        return;
    }
    snprintf(path, sizeof path, "/sys/class/bdi/%s/read_ahead_kb", dev);
    f = fopen(path, "w");
    if (!f || fprintf(f, "%u\n", kb) < 0 || fclose(f) != 0) {
        fs_log(FS_LOG_WARNING, "readahead: cannot write %s: %s", path, strerror(errno));
        return;
    }
    fs_log(FS_LOG_DEBUG, "readahead: %s = %u", path, kb);
}
