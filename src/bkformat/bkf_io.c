/*
 * bkf_io.c -- error lines and careful opening for the bkformat module
 * (bkf_int.h).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bkf_int.h"

/* See bkf_int.h. */
void bkf_fail(bkf_err *e, const char *fmt, ...)
{
    va_list ap;

    if (!e->buf || !e->cb || e->buf[0])
        return;
    va_start(ap, fmt);
    (void)vsnprintf(e->buf, e->cb, fmt, ap);
    va_end(ap);
}

/* See bkformat.h. */
const char *bkf_file_kind(unsigned mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISLNK(mode))
        return "a symbolic link";
    return "not a regular file";
}

/* See bkf_int.h. */
void bkf_open_fail(bkf_err *e, const char *path, unsigned mode, const char *hint)
{
    if (mode)
        bkf_fail(e, "%s: %s, not a regular file%s%s%s", path, bkf_file_kind(mode), hint ? " (" : "",
                 hint ? hint : "", hint ? ")" : "");
    else
        bkf_fail(e, "%s: %s%s%s%s", path, strerror(errno), hint ? " (" : "", hint ? hint : "",
                 hint ? ")" : "");
}

/* See bkformat.h. */
int bkf_open_regular(const char *path, int flags, unsigned mode, unsigned *pmode)
{
    struct stat st;
    int fd, fl, saved;

    *pmode = 0;
    fd = open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, (mode_t)mode);
    if (fd < 0) {
        if (errno == EISDIR) {
            *pmode = S_IFDIR;
            errno = EINVAL;
        } else if (errno == ENXIO && stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
            *pmode = st.st_mode;
            errno = EINVAL;
        }
        return -1;
    }
    if (fstat(fd, &st) < 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        *pmode = st.st_mode;
        errno = EINVAL;
        goto fail;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
        goto fail;
    return fd;
fail:
    saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

/* See bkformat.h. */
FILE *bkf_fopen_read(const char *path, unsigned *pmode)
{
    int fd = bkf_open_regular(path, O_RDONLY, 0, pmode), saved;
    FILE *f;

    if (fd < 0)
        return NULL;
    f = fdopen(fd, "r");
    if (!f) {
        saved = errno;
        close(fd);
        errno = saved;
    }
    return f;
}

/* See bkformat.h. */
int bkf_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}
