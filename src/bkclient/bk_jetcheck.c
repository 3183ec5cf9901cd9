/*
 * bk_jetcheck.c -- bkc_jet_precheck (bkclient.h): the preflight of an
 * in-process libjet source, from the files alone.  Nothing is hosted,
 * nothing opened for writing, no lock taken: whether another process holds
 * the instance is read from /proc/locks (the flocks libjet takes on
 * <system_path>/<base>.jlk and on every attached database), and whether an
 * incremental backup has a full one before it from the database headers
 * (the rule of JetBeginExternalBackupInstance, spec 2.3).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "bkclient.h"
#include "jetfmt.h"
#include "jetlib.h"

/* true when /proc/locks text holds a lock (any kind, not a waiter "->") on
 * the file st.  No errors. */
static bool locks_hold(const char *text, const struct stat *st)
{
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char tok[8][64];
        unsigned maj, min;
        unsigned long long ino;
        int n = sscanf(l, "%63s %63s %63s %63s %63s %63s", tok[0], tok[1], tok[2], tok[3], tok[4],
                       tok[5]);
        if (n < 6 || !strcmp(tok[1], "->"))
            continue;
        if (sscanf(tok[5], "%x:%x:%llu", &maj, &min, &ino) == 3 && maj == major(st->st_dev) &&
            min == minor(st->st_dev) && ino == (unsigned long long)st->st_ino)
            return true;
    }
    return false;
}

/* Read /proc/locks into a malloc'ed NUL-terminated *ptext.  0, or -errno. */
static int read_locks(char **ptext)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);
    int fd = -1, rc = 0;
    ssize_t k;

    *ptext = NULL;
    if (!buf)
        return -ENOMEM;
    fd = open("/proc/locks", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    while ((k = read(fd, buf + len, cap - len)) != 0) {
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            goto out;
        }
        len += (size_t)k;
        if (len == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
    }
    buf[len] = 0;
    *ptext = buf;
    buf = NULL;
out:
    if (fd >= 0)
        close(fd);
    free(buf);
    return rc;
}

/* Whether a database header (either copy) records a previous full backup
 * (the engine's rule: full_prev.gen_low != 0 and of the normal type).
 * 0 with *pfull, or JET_errFileNotFound / JET_errDatabaseCorrupted. */
static JET_ERR header_has_full(const char *path, bool *pfull)
{
    size_t cb = 2 * JF_MAX_PAGE;
    uint8_t *buf = malloc(cb);
    uint32_t cb_page;
    jf_dbhdr h;
    ssize_t got = -1;
    JET_ERR rc = JET_errDatabaseCorrupted;
    int fd;

    if (!buf)
        return JET_errOutOfMemory;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = JET_errFileNotFound;
        goto out;
    }
    do
        got = pread(fd, buf, cb, 0);
    while (got < 0 && errno == EINTR);
    close(fd);
    if (got <= 0)
        goto out;
    cb_page = jf_dbhdr_peek_page_size(buf, (size_t)got);
    if (cb_page == 0)
        goto out;
    if (jf_dbhdr_decode(buf, (size_t)got, &h) < 0 &&
        ((size_t)got < 2 * (size_t)cb_page ||
         jf_dbhdr_decode(buf + cb_page, (size_t)got - cb_page, &h) < 0))
        goto out;
    *pfull = h.full_prev.gen_low != 0 && h.type_full_prev == JF_BKTYPE_NORMAL;
    rc = JET_errSuccess;
out:
    free(buf);
    return rc;
}

/* The lock check of bkc_jet_precheck: the instance lock file and every
 * database.  0, JET_errFileAccessDenied (line in err), or 1 when
 * /proc/locks is unreadable (line in err). */
static JET_ERR lock_check(const bkc_host_params *p, const char *const *dbs, size_t ndbs, char *err,
                          size_t cb_err)
{
    const char *base = p->base_name && p->base_name[0] ? p->base_name : "edb";
    size_t n = strlen(p->system_path);
    char lockf[4200], *text = NULL;
    struct stat st;
    JET_ERR rc = 0;
    int erc = read_locks(&text);

    if (erc < 0) {
        snprintf(err, cb_err, "/proc/locks: %s; whether another process holds it is unknown",
                 strerror(-erc));
        return 1;
    }
    snprintf(lockf, sizeof lockf, "%s%s%s.jlk", p->system_path,
             n && p->system_path[n - 1] == '/' ? "" : "/", base);
    if (stat(lockf, &st) == 0 && locks_hold(text, &st)) {
        snprintf(err, cb_err, "%s is locked: another process has the instance open", lockf);
        rc = JET_errFileAccessDenied;
        goto out;
    }
    for (size_t i = 0; i < ndbs; i++)
        if (stat(dbs[i], &st) == 0 && locks_hold(text, &st)) {
            snprintf(err, cb_err, "%s is locked: another process has it attached", dbs[i]);
            rc = JET_errFileAccessDenied;
            goto out;
        }
out:
    free(text);
    return rc;
}

/* See bkclient.h. */
JET_ERR bkc_jet_precheck(const bkc_host_params *p, const char *const *dbs, size_t ndbs,
                         JET_GRBIT grbit, uint64_t *pcb_dbs, char *err, size_t cb_err)
{
    bool incremental = (grbit & JET_bitBackupIncremental) != 0, full = false;
    struct stat st;
    JET_ERR rc;

    err[0] = 0;
    *pcb_dbs = 0;
    for (size_t i = 0; i < ndbs; i++)
        if (stat(dbs[i], &st) == 0)
            *pcb_dbs += (uint64_t)st.st_size;
    rc = lock_check(p, dbs, ndbs, err, cb_err);
    if (rc < 0)
        return rc;
    if (incremental && p->circular > 0) {
        snprintf(err, cb_err, "circular logging is on: an incremental backup is impossible");
        return JET_errInvalidBackup;
    }
    for (size_t i = 0; incremental && i < ndbs; i++) {
        JET_ERR hrc = header_has_full(dbs[i], &full);
        if (hrc < 0) {
            snprintf(err, cb_err, "%s: header unreadable: %s", dbs[i], JetLibErrorName(hrc));
            return hrc;
        }
        if (!full) {
            snprintf(err, cb_err, "%s has no full backup before an incremental", dbs[i]);
            return JET_errMissingFullBackup;
        }
    }
    return rc;
}
