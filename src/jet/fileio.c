/*
 * fileio.c -- whole-buffer positional I/O shared by the engine modules
 * (log_*.c, checkpoint.c, db.c, recovery.c): loops over short transfers and EINTR so that
 * callers see all-or-error, and the directory fsync that makes a create,
 * rename or unlink durable.  Every call goes through the os.h table.
 * Thread-safe (no state).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "jet_int.h"

/* jio_pwrite -- write all cb bytes at off.  0, or the errno of the
 * failing write. */
int jio_pwrite(int fd, const void *buf, size_t cb, off_t off)
{
    const uint8_t *p = buf;
    while (cb > 0) {
        ssize_t n = jos_pwrite(fd, p, cb, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        cb -= (size_t)n;
        off += n;
    }
    return 0;
}

/* jio_pread -- read cb bytes at off; bytes past the end of the file read
 * as zeros.  *pgot (optional) gets the bytes that came from the file.
 * 0, or the errno of the failing read. */
int jio_pread(int fd, void *buf, size_t cb, off_t off, size_t *pgot)
{
    uint8_t *p = buf;
    size_t got = 0;
    while (cb > 0) {
        ssize_t n = jos_pread(fd, p, cb, off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (n == 0) {
            memset(p, 0, cb);
            break;
        }
        p += n;
        cb -= (size_t)n;
        off += n;
        got += (size_t)n;
    }
    if (pgot != NULL)
        *pgot = got;
    return 0;
}

/* jio_err -- the Jet error for a data-file errno: JET_errDiskFull for
 * ENOSPC/EDQUOT, JET_errDiskIO otherwise (0 for 0). */
JET_ERR jio_err(int e)
{
    if (e == 0)
        return JET_errSuccess;
    return e == ENOSPC || e == EDQUOT ? JET_errDiskFull : JET_errDiskIO;
}

/* jio_log_err -- the Jet error for a log-file errno: JET_errLogDiskFull for
 * ENOSPC/EDQUOT, JET_errLogWriteFail otherwise (0 for 0). */
JET_ERR jio_log_err(int e)
{
    if (e == 0)
        return JET_errSuccess;
    return e == ENOSPC || e == EDQUOT ? JET_errLogDiskFull : JET_errLogWriteFail;
}

/* jio_fsync_dir -- fsync the directory holding the file at path (so that
 * its creation, rename or removal is durable).  0, or the errno of the
 * failing open/fsync/close. */
int jio_fsync_dir(const char *path)
{
    char dir[JF_PATH_MAX + 64];
    const char *slash = strrchr(path, '/');
    int fd, e = 0;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    fd = jos_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    if (jos_fsync(fd) != 0)
        e = errno;
    if (jos_close(fd) != 0 && e == 0)
        e = errno;
    return e;
}
