/*
 * checkpoint.c -- the checkpoint file: two shadowed 4096-byte copies of
 * the checkpoint (docs/formats.md), written to "<path>.new" and renamed
 * over the old file, read accepting either copy.
 *
 * Thread safety: none needed here; the instance serialises checkpoint
 * writes under inst->ckpt_lock (instance.c).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

/*
 * jchk_write -- write both shadow copies of the checkpoint into
 * "<path>.new", fsync it, rename it over path and fsync the directory, so
 * a crash leaves either the old or the new checkpoint (and the new one is
 * durable before any log below it is deleted).  Errors: JET_errDiskIO,
 * JET_errDiskFull.
 */
JET_ERR jchk_write(const char *path, const jf_chk *chk)
{
    return jchk_write_inst(NULL, path, chk);
}

/* jchk_write_inst -- jchk_write with inst's fault point "chk.new_written"
 * between writing the new file and renaming it (inst may be NULL). */
JET_ERR jchk_write_inst(jet_inst *inst, const char *path, const jf_chk *chk)
{
    uint8_t buf[2 * JF_CHK_BLOCK];
    char tmp[JF_PATH_MAX + 16];
    JET_ERR rc = JET_errSuccess;
    int fd;
    jf_chk_encode(chk, buf);
    memcpy(buf + JF_CHK_BLOCK, buf, JF_CHK_BLOCK);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    fd = jos_open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
    rc = jio_err(jio_pwrite(fd, buf, sizeof buf, 0));
    if (rc == 0 && jos_fdatasync(fd) != 0)
        rc = JET_errDiskIO;
    jos_close(fd);
    if (rc == 0 && inst != NULL)
        jinst_fault(inst, "chk.new_written");
    if (rc == 0 && jos_rename(tmp, path) != 0)
        rc = JET_errDiskIO;
    if (rc == 0 && jio_fsync_dir(path) != 0)
        rc = JET_errDiskIO;
    if (rc < 0)
        jos_unlink(tmp);
    return rc;
}

/*
 * jchk_read -- read the checkpoint, accepting either shadow copy.
 * Errors: JET_errCheckpointFileNotFound, JET_errCheckpointCorrupt,
 * JET_errDiskIO.
 */
JET_ERR jchk_read(const char *path, jf_chk *chk)
{
    uint8_t buf[2 * JF_CHK_BLOCK];
    ssize_t n;
    JET_ERR rc = JET_errCheckpointCorrupt;
    int fd = jos_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? JET_errCheckpointFileNotFound : JET_errDiskIO;
    memset(buf, 0, sizeof buf);
    n = jos_pread(fd, buf, sizeof buf, 0);
    jos_close(fd);
    if (n < 0)
        return JET_errDiskIO;
    if (n >= JF_CHK_BLOCK && jf_chk_decode(buf, JF_CHK_BLOCK, chk) == 0)
        rc = JET_errSuccess;
    else if (n >= 2 * JF_CHK_BLOCK && jf_chk_decode(buf + JF_CHK_BLOCK, JF_CHK_BLOCK, chk) == 0)
        rc = JET_errSuccess;
    return rc;
}
