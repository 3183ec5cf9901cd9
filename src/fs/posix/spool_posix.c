/* spool_posix.c -- the spool directory pre-check (fsx_spool_check); the
 * spool file itself is plat_posix.c's fs_sfile. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "fsx.h"

/* See fsx.h. */
int fsx_spool_check(const char *dir, uint64_t need, char *why, size_t cb_why)
{
    char probe[1100];
    struct stat st;
    struct statvfs sv;
    uint64_t avail;
    int fd = -1, rc;

    if (stat(dir, &st) < 0) {
        rc = -errno;
        snprintf(why, cb_why, "%s", strerror(errno));
        goto out;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = -ENOTDIR;
        snprintf(why, cb_why, "not a directory");
        goto out;
    }
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        rc = snprintf(probe, sizeof probe, "%s/esebackupfs-probe.XXXXXX", dir);
        if (rc < 0 || (size_t)rc >= sizeof probe) {
            rc = -ENAMETOOLONG;
            snprintf(why, cb_why, "%s", strerror(ENAMETOOLONG));
            goto out;
        }
        fd = mkstemp(probe);
        if (fd >= 0 && unlink(probe) < 0) {
            rc = -errno;
            snprintf(why, cb_why, "cannot remove the probe file %s: %s", probe, strerror(errno));
            goto out;
        }
    }
    if (fd < 0) {
        rc = -errno;
        snprintf(why, cb_why, "cannot create a file there: %s", strerror(errno));
        goto out;
    }
    if (fstatvfs(fd, &sv) < 0) {
        rc = -errno;
        snprintf(why, cb_why, "statvfs: %s", strerror(errno));
        goto out;
    }
    avail = (uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize;
    if (avail < need) {
        rc = -ENOSPC;
        snprintf(why, cb_why, "%" PRIu64 " bytes available, at least %" PRIu64 " needed", avail,
                 need);
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}
