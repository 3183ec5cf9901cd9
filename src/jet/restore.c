/*
 * restore.c -- hard recovery from an external backup: JetExternalRestoreA
 * and JetExternalRestore2A (shared/ese-backup-spec.md section 7.1/7.2).
 *
 * Phases, each completed before the next starts:
 *   1. validate the backup log set genLow..genHigh in szBackupLogPath
 *      (present, one signature, contiguous tmPrevGen chain);
 *   2. validate every mapped database copy (backup header, trailer page,
 *      range) and the live log directory -- nothing is modified before
 *      phases 1 and 2 have passed;
 *   3. patch each database header (bkinfoFullCur.genHigh, required
 *      generations) and drop the trailer page (ftruncate to (N+2) pages);
 *   4. redo genLow..genHigh from the backup directory into the mapped
 *      databases (jet_redo; databases not in the map are ignored);
 *   5. mark the databases clean at the end of the replayed log;
 *   6. create a fresh current log (generation genHigh+1, same signature,
 *      chained to genHigh) in szLogPath and a checkpoint at its start with
 *      an empty attach list in szCheckpointFilePath, so that JetInit +
 *      JetAttachDatabase on the restored files works.
 * Files in szBackupLogPath are only read, never modified or deleted (a
 * deliberate difference from ESE, see docs/backup.md).
 *
 * No instance is involved: restore runs entirely on files.  Not
 * thread-safe against a running instance that uses the same directories.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

/* One database of the restore map. */
struct rs_db {
    const char *orig; /* szDatabaseName: path at backup time */
    const char *path; /* szNewDatabaseName: the copied stream */
    uint32_t cb_page;
    uint64_t size; /* stream size on entry */
    jf_dbhdr hdr;
};

/* The restore context (one per call, on the stack of the caller). */
struct rs_ctx {
    char backup_dir[JF_PATH_MAX]; /* trailing '/' */
    char log_dir[JF_PATH_MAX];
    char chk_dir[JF_PATH_MAX];
    char base[JET_BASE_NAME_LENGTH + 1];
    unsigned legacy;
    uint32_t gen_low, gen_high;
    jf_loghdr hdr_low, hdr_high; /* headers of genLow and genHigh */
    jf_sig sign_log;
    unsigned ndb;
    struct rs_db *dbs;
};

/* Directory name -> absolute path with a trailing '/' (NULL or "" means
 * the working directory, as ESE's ".\").  Errors: JET_errInvalidPath. */
static JET_ERR rs_dir(const char *in, char *out, size_t cb)
{
    char cwd[JF_PATH_MAX];
    int n;

    if (in == NULL || in[0] == '\0')
        in = ".";
    if (in[0] == '/') {
        n = snprintf(out, cb, "%s", in);
    } else {
        if (getcwd(cwd, sizeof cwd) == NULL)
            return JET_errInvalidPath;
        n = snprintf(out, cb, "%s/%s", cwd, in);
    }
    if (n < 0 || (size_t)n + 2 > cb)
        return JET_errInvalidPath;
    if (out[n - 1] != '/') {
        out[n] = '/';
        out[n + 1] = '\0';
    }
    return JET_errSuccess;
}

/* mkdir -p of an absolute directory path ending in '/'.  Errors:
 * JET_errInvalidPath (a component is not a directory / cannot be made). */
static JET_ERR rs_mkdirs(const char *dir)
{
    char tmp[JF_PATH_MAX];
    size_t len = strlen(dir);

    if (len >= sizeof tmp)
        return JET_errInvalidPath;
    memcpy(tmp, dir, len + 1);
    for (char *p = tmp + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (jos_mkdir(tmp, 0777) < 0 && errno != EEXIST)
            return JET_errInvalidPath;
        *p = '/';
    }
    return JET_errSuccess;
}

/* Path of archived generation gen in dir with the given naming rules.
 * Errors: JET_errInvalidPath. */
static JET_ERR rs_log_path(const char *dir, const char *base, uint32_t gen, unsigned legacy,
                           char *out, size_t cb)
{
    char name[64];
    int n;

    if (jf_log_name(name, sizeof name, base, gen, legacy) < 0)
        return JET_errInvalidPath;
    n = snprintf(out, cb, "%s%s", dir, name);
    return n < 0 || (size_t)n >= cb ? JET_errInvalidPath : JET_errSuccess;
}

/* true if path names an existing regular file. */
static bool rs_exists(const char *path)
{
    struct stat st;
    return jos_stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Read exactly cb bytes at off.  Errors: JET_errDiskIO (I/O error or
 * short file). */
static JET_ERR rs_pread(int fd, void *buf, size_t cb, uint64_t off)
{
    size_t got = 0;
    while (got < cb) {
        ssize_t r = jos_pread(fd, (uint8_t *)buf + got, cb - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return JET_errDiskIO;
        got += (size_t)r;
    }
    return JET_errSuccess;
}

/* Write exactly cb bytes at off.  Errors: JET_errDiskIO / JET_errDiskFull. */
static JET_ERR rs_pwrite(int fd, const void *buf, size_t cb, uint64_t off)
{
    size_t put = 0;
    while (put < cb) {
        ssize_t r = jos_pwrite(fd, (const uint8_t *)buf + put, cb - put, (off_t)(off + put));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
        put += (size_t)r;
    }
    return JET_errSuccess;
}

/* Read and decode the header of the log at path.  Errors:
 * JET_errMissingRestoreLogFiles (absent), JET_errLogFileCorrupt. */
static JET_ERR rs_read_loghdr(const char *path, jf_loghdr *h)
{
    uint8_t blk[JF_LOG_HDR];
    JET_ERR rc;
    int fd = jos_open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno == ENOENT ? JET_errMissingRestoreLogFiles : JET_errDiskIO;
    rc = rs_pread(fd, blk, sizeof blk, 0);
    jos_close(fd);
    if (rc < 0)
        return JET_errLogFileCorrupt;
    if (jf_loghdr_decode(blk, sizeof blk, h) < 0)
        return JET_errLogFileCorrupt;
    return JET_errSuccess;
}

/* Phase 1 (spec 7.1 step 1): choose the naming rules from the files
 * present, then check every generation genLow..genHigh: present (-557;
 * -1811 when not even genLow or genHigh exists under any naming), header
 * generation = name (-556), one signature (-555), tmPrevGen(g) ==
 * tmCreate(g-1) (-556); corrupt header -501.  Reads only. */
static JET_ERR rs_check_logs(struct rs_ctx *c)
{
    static const unsigned cand[] = { 3, 1, 0, 2 };
    char path[JF_PATH_MAX];
    jf_loghdr h, prev;
    bool found = false;
    JET_ERR rc = JET_errSuccess;

    for (int pass = 0; pass < 2 && !found; pass++) {
        uint32_t g = pass == 0 ? c->gen_low : c->gen_high;
        for (size_t i = 0; i < sizeof cand / sizeof cand[0] && !found; i++) {
            JCALL(rs_log_path(c->backup_dir, c->base, g, cand[i], path, sizeof path));
            if (rs_exists(path)) {
                c->legacy = cand[i];
                found = true;
            }
        }
    }
    if (!found) {
        rc = JET_errFileNotFound;
        goto out;
    }

    for (uint32_t g = c->gen_low; g <= c->gen_high; g++) {
        JCALL(rs_log_path(c->backup_dir, c->base, g, c->legacy, path, sizeof path));
        JCALL(rs_read_loghdr(path, &h));
        if (g == c->gen_low) {
            c->sign_log = h.sign_log;
            c->hdr_low = h;
        } else if (!jf_sig_eq(&h.sign_log, &c->sign_log)) {
            rc = JET_errGivenLogFileHasBadSignature;
            goto out;
        }
        if ((uint32_t)h.gen != g) {
            rc = JET_errGivenLogFileIsNotContiguous;
            goto out;
        }
        if (g > c->gen_low && !jf_logtime_eq(&h.time_prev_gen, &prev.time_create)) {
            rc = JET_errGivenLogFileIsNotContiguous;
            goto out;
        }
        prev = h;
        if (g == c->gen_high)
            c->hdr_high = h;
        if (g == UINT32_MAX)
            break;
    }
out:
    return rc;
}

/* Phase 2 for one database (spec 7.1 step 4, checks only): header (either
 * copy) -> -1206; bkinfoFullCur.genLow == 0 -> -615; < 3 pages or not a
 * page multiple -> -1206; trailer checksum -> -535; trailer vs header
 * (signDb, signLog, mark) -> -552; log signature vs the set -> -555;
 * trailer genLow < genLow -> -554; trailer genHigh > genHigh -> -553;
 * missing file -> -1811; not writable -> -1032. */
static JET_ERR rs_check_db(struct rs_ctx *c, struct rs_db *d)
{
    uint8_t *buf = NULL;
    struct stat st;
    jf_trailer t;
    uint32_t cbp;
    JET_ERR rc;
    int fd = jos_open(d->path, O_RDWR | O_CLOEXEC);

    if (fd < 0) {
        rc = errno == ENOENT                     ? JET_errFileNotFound
             : errno == EACCES || errno == EROFS ? JET_errFileAccessDenied
                                                 : JET_errDiskIO;
        goto out;
    }
    if (jos_fstat(fd, &st) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    d->size = (uint64_t)st.st_size;
    buf = malloc(2 * JF_MAX_PAGE);
    if (buf == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    memset(buf, 0, 2 * JF_MAX_PAGE);
    {
        size_t cb = d->size < 2 * JF_MAX_PAGE ? (size_t)d->size : 2 * JF_MAX_PAGE;
        JCALL(rs_pread(fd, buf, cb, 0));
    }
    cbp = jf_dbhdr_peek_page_size(buf, 2 * JF_MAX_PAGE);
    if (cbp == 0 ||
        (jf_dbhdr_decode(buf, cbp, &d->hdr) < 0 && jf_dbhdr_decode(buf + cbp, cbp, &d->hdr) < 0)) {
        rc = JET_errDatabaseCorrupted;
        goto out;
    }
    d->cb_page = cbp;
    if (d->hdr.full_cur.gen_low == 0) {
        rc = JET_errRestoreOfNonBackupDatabase;
        goto out;
    }
    if (d->size < 3ull * cbp || d->size % cbp != 0) {
        rc = JET_errDatabaseCorrupted;
        goto out;
    }
    JCALL(rs_pread(fd, buf, cbp, d->size - cbp));
    if (jf_trailer_decode(buf, cbp, &t) < 0) {
        rc = JET_errBadPatchPage;
        goto out;
    }
    if (!jf_sig_eq(&t.sign_db, &d->hdr.sign_db) || !jf_sig_eq(&t.sign_log, &d->hdr.sign_log) ||
        jf_lgpos_cmp(t.bkinfo.mark, d->hdr.full_cur.mark) != 0) {
        rc = JET_errDatabasePatchFileMismatch;
        goto out;
    }
    if (!jf_sig_eq(&d->hdr.sign_log, &c->sign_log)) {
        rc = JET_errGivenLogFileHasBadSignature;
        goto out;
    }
    if (t.bkinfo.gen_low < c->gen_low) {
        rc = JET_errStartingRestoreLogTooHigh;
        goto out;
    }
    if (t.bkinfo.gen_high > c->gen_high) {
        rc = JET_errEndingRestoreLogTooLow;
        goto out;
    }
    rc = JET_errSuccess;
out:
    free(buf);
    if (fd >= 0)
        jos_close(fd);
    return rc;
}

/* Phase 2, live log directory: this implementation does not roll forward
 * through logs already in szLogPath, so an existing current log there is
 * refused before anything changes: foreign signature -> -610, otherwise
 * -611.  Errors also: -1023. */
static JET_ERR rs_check_log_dir(struct rs_ctx *c)
{
    char name[64], path[JF_PATH_MAX];
    jf_loghdr h;
    int n;

    if (jf_cur_log_name(name, sizeof name, c->base, c->legacy) < 0)
        return JET_errInvalidPath;
    n = snprintf(path, sizeof path, "%s%s", c->log_dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return JET_errInvalidPath;
    if (!rs_exists(path))
        return JET_errSuccess;
    if (rs_read_loghdr(path, &h) >= 0 && !jf_sig_eq(&h.sign_log, &c->sign_log))
        return JET_errExistingLogFileHasBadSignature;
    return JET_errExistingLogFileIsNotContiguous;
}

/* Rewrite both header copies of an open database file and fsync.
 * Errors: JET_errOutOfMemory, JET_errDiskIO. */
static JET_ERR rs_write_hdr(int fd, const jf_dbhdr *h, uint32_t cbp)
{
    uint8_t *blk = calloc(1, cbp);
    JET_ERR rc;

    if (blk == NULL)
        return JET_errOutOfMemory;
    jf_dbhdr_encode(h, blk, cbp);
    JCALL(rs_pwrite(fd, blk, cbp, 0));
    JCALL(rs_pwrite(fd, blk, cbp, cbp));
    if (jos_fsync(fd) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    rc = JET_errSuccess;
out:
    free(blk);
    return rc;
}

/* Phase 3 (spec 7.1 step 4, writes): bkinfoFullCur.genHigh = genHigh,
 * raise gen_max_committed / gen_max_req to genHigh, drop the trailer page
 * (ftruncate to size - cbPage; ESE zeroes it instead).  Errors: -1022. */
static JET_ERR rs_patch_db(struct rs_ctx *c, struct rs_db *d)
{
    JET_ERR rc;
    int fd = jos_open(d->path, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return JET_errDiskIO;
    d->hdr.full_cur.gen_high = c->gen_high;
    if (d->hdr.gen_max_committed < (int32_t)c->gen_high)
        d->hdr.gen_max_committed = (int32_t)c->gen_high;
    if (d->hdr.gen_max_req < (int32_t)c->gen_high)
        d->hdr.gen_max_req = (int32_t)c->gen_high;
    JCALL(rs_write_hdr(fd, &d->hdr, d->cb_page));
    if (jos_ftruncate(fd, (off_t)(d->size - d->cb_page)) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    if (jos_fsync(fd) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    rc = JET_errSuccess;
out:
    jos_close(fd);
    return rc;
}

/* Phase 5: after redo, the database is consistent at end: dbstate clean,
 * lgposConsistent = end, pgno_last covers the file.  Errors: -1206, -1022. */
static JET_ERR rs_mark_clean(struct rs_db *d, jf_lgpos end)
{
    uint8_t *buf = NULL;
    struct stat st;
    jf_dbhdr h;
    uint64_t pages;
    JET_ERR rc;
    int fd = jos_open(d->path, O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return JET_errDiskIO;
    buf = malloc(2 * (size_t)d->cb_page);
    if (buf == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    JCALL(rs_pread(fd, buf, 2 * (size_t)d->cb_page, 0));
    if (jf_dbhdr_decode(buf, d->cb_page, &h) < 0 &&
        jf_dbhdr_decode(buf + d->cb_page, d->cb_page, &h) < 0) {
        rc = JET_errDatabaseCorrupted;
        goto out;
    }
    if (jos_fstat(fd, &st) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    pages = (uint64_t)st.st_size / d->cb_page;
    if (pages >= JF_DB_RESERVED_PAGES && pages - JF_DB_RESERVED_PAGES > h.pgno_last)
        h.pgno_last = (uint32_t)(pages - JF_DB_RESERVED_PAGES);
    h.dbstate = JF_DBSTATE_CLEAN;
    h.lgpos_consistent = end;
    jf_logtime_from_time(&h.time_consistent, (int64_t)time(NULL));
    JCALL(rs_write_hdr(fd, &h, d->cb_page));
    rc = JET_errSuccess;
out:
    free(buf);
    jos_close(fd);
    return rc;
}

/* jet_redo map callback: original path -> restore target, NULL if the
 * database is not in the map (ignored, spec 7.1 step 6). */
static const char *rs_map(void *arg, const char *orig)
{
    struct rs_ctx *c = arg;
    for (unsigned i = 0; i < c->ndb; i++)
        if (strcmp(c->dbs[i].orig, orig) == 0)
            return c->dbs[i].path;
    return NULL;
}

/* Phase 6: the new current log (genHigh+1, chained to genHigh) and the
 * checkpoint at its start with no attachments.  Errors: -1023, those of
 * jlog_create_file / jchk_write. */
static JET_ERR rs_new_log(struct rs_ctx *c)
{
    char name[64], path[JF_PATH_MAX];
    jf_loghdr h;
    jf_chk chk;
    jf_lgpos start = { .ib = 0, .isec = 1, .gen = (int32_t)(c->gen_high + 1) };
    int n;
    JET_ERR rc;

    JCALL(rs_mkdirs(c->log_dir));
    JCALL(rs_mkdirs(c->chk_dir));
    memset(&h, 0, sizeof h);
    h.gen = start.gen;
    h.cb_sec = JF_SEGMENT;
    h.csec_header = 1;
    h.csec_file = c->hdr_high.csec_file;
    h.cb_page_db = c->hdr_high.cb_page_db;
    jf_logtime_from_time(&h.time_create, (int64_t)time(NULL));
    h.time_prev_gen = c->hdr_high.time_create;
    h.sign_log = c->sign_log;
    h.lgpos_checkpoint = start;
    h.attach.count = 0;
    if (jf_cur_log_name(name, sizeof name, c->base, c->legacy) < 0) {
        rc = JET_errInvalidPath;
        goto out;
    }
    n = snprintf(path, sizeof path, "%s%s", c->log_dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        rc = JET_errInvalidPath;
        goto out;
    }
    JCALL(jlog_create_file(path, &h, (unsigned)c->hdr_high.csec_file * (JF_SEGMENT / 1024)));

    memset(&chk, 0, sizeof chk);
    chk.lgpos_checkpoint = start;
    chk.lgpos_db_consistency = start;
    chk.sign_log = c->sign_log;
    chk.attach.count = 0;
    if (jf_chk_name(name, sizeof name, c->base, c->legacy) < 0) {
        rc = JET_errInvalidPath;
        goto out;
    }
    n = snprintf(path, sizeof path, "%s%s", c->chk_dir, name);
    if (n < 0 || (size_t)n >= sizeof path) {
        rc = JET_errInvalidPath;
        goto out;
    }
    JCALL(jchk_write(path, &chk));
    rc = JET_errSuccess;
out:
    return rc;
}

/* Report to the status callback (best effort; its result is ignored). */
static void rs_status(JET_PFNSTATUS pfn, JET_SNT snt)
{
    if (pfn != NULL)
        (void)pfn(0, JET_snpRestore, snt, NULL);
}

/* Whether rs_restore's arguments are usable: a map of at most
 * 2 * JF_MAX_DBS entries with every name given, a base name of
 * JET_BASE_NAME_LENGTH characters, a generation range inside the log
 * space.  Pure. */
static bool rs_args_ok(const JET_RSTMAP_A *map, long cmap, const char *base, long gen_low,
                       long gen_high)
{
    if (cmap < 0 || (cmap > 0 && map == NULL) || cmap > 2 * JF_MAX_DBS || gen_low <= 0 ||
        gen_high < gen_low || (unsigned long)gen_high >= JF_GEN_MAX || base == NULL ||
        strlen(base) != JET_BASE_NAME_LENGTH)
        return false;
    for (long i = 0; i < cmap; i++) {
        if (map[i].szDatabaseName == NULL || map[i].szNewDatabaseName == NULL ||
            map[i].szDatabaseName[0] == '\0' || map[i].szNewDatabaseName[0] == '\0')
            return false;
    }
    return true;
}

/* The restore itself (see the file comment).  Errors: -1003 bad
 * arguments; phase 1/2 errors change nothing; later errors leave the
 * databases partially restored (they must be restored again). */
static JET_ERR rs_restore(const char *ckpt, const char *logp, JET_RSTMAP_A *map, long cmap,
                          const char *bkdir, const char *base, long gen_low, long gen_high,
                          JET_PFNSTATUS pfn)
{
    struct rs_ctx c;
    jet_redo_args a;
    JET_ERR rc;

    memset(&c, 0, sizeof c);
    if (!rs_args_ok(map, cmap, base, gen_low, gen_high)) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    JCALL(rs_dir(bkdir, c.backup_dir, sizeof c.backup_dir));
    JCALL(rs_dir(logp, c.log_dir, sizeof c.log_dir));
    JCALL(rs_dir(ckpt, c.chk_dir, sizeof c.chk_dir));
    memcpy(c.base, base, JET_BASE_NAME_LENGTH + 1);
    c.gen_low = (uint32_t)gen_low;
    c.gen_high = (uint32_t)gen_high;
    c.ndb = (unsigned)cmap;
    if (cmap > 0) {
        c.dbs = calloc((size_t)cmap, sizeof *c.dbs);
        if (c.dbs == NULL) {
            rc = JET_errOutOfMemory;
            goto out;
        }
    }
    for (long i = 0; i < cmap; i++) {
        c.dbs[i].orig = map[i].szDatabaseName;
        c.dbs[i].path = map[i].szNewDatabaseName;
    }
    rs_status(pfn, JET_sntBegin);

    /* phases 1 and 2: validation only */
    JCALL(rs_check_logs(&c));
    for (unsigned i = 0; i < c.ndb; i++)
        JCALL(rs_check_db(&c, &c.dbs[i]));
    JCALL(rs_check_log_dir(&c));

    /* phase 3 */
    for (unsigned i = 0; i < c.ndb; i++)
        JCALL(rs_patch_db(&c, &c.dbs[i]));
    rs_status(pfn, JET_sntProgress);

    /* phase 4 */
    memset(&a, 0, sizeof a);
    a.log_dir = c.backup_dir;
    a.base = c.base;
    a.legacy = c.legacy;
    a.gen_first = c.gen_low;
    a.gen_last = c.gen_high;
    a.include_current = false;
    a.start.gen = (int32_t)c.gen_low;
    a.start.isec = 1;
    a.start.ib = 0;
    a.attach = &c.hdr_low.attach;
    a.map = rs_map;
    a.map_arg = &c;
    a.sign_log = &c.sign_log;
    a.cb_page_default = c.ndb > 0 ? c.dbs[0].cb_page : 4096;
    JCALL(jet_redo(&a));

    /* phase 5 */
    for (unsigned i = 0; i < c.ndb; i++)
        JCALL(rs_mark_clean(&c.dbs[i], a.end));

    /* phase 6 */
    JCALL(rs_new_log(&c));
    rs_status(pfn, JET_sntComplete);
    rc = JET_errSuccess;
out:
    if (rc < 0 && c.gen_low != 0)
        rs_status(pfn, JET_sntFail);
    free(c.dbs);
    return rc;
}

/* JetExternalRestoreA (spec 7.2): base name "edb".  See rs_restore. */
JET_ERR JET_API JetExternalRestoreA(JET_PSTR szCheckpointFilePath, JET_PSTR szLogPath,
                                    JET_RSTMAP_A *rgrstmap, long crstfilemap,
                                    JET_PSTR szBackupLogPath, long genLow, long genHigh,
                                    JET_PFNSTATUS pfn)
{
    return rs_restore(szCheckpointFilePath, szLogPath, rgrstmap, crstfilemap, szBackupLogPath,
                      "edb", genLow, genHigh, pfn);
}

/* JetExternalRestore2A (spec 7.2): range and base name from pLogInfo
 * (cbSize must be sizeof(JET_LOGINFO_A), else -1003).  Target-instance
 * arguments: target log and checkpoint path must be both NULL or both set
 * (-1003); restoring into a target instance is not supported, so any
 * non-NULL target argument gives JET_errBadRestoreTargetInstance (-577). */
JET_ERR JET_API JetExternalRestore2A(JET_PSTR szCheckpointFilePath, JET_PSTR szLogPath,
                                     JET_RSTMAP_A *rgrstmap, long crstfilemap,
                                     JET_PSTR szBackupLogPath, JET_LOGINFO_A *pLogInfo,
                                     JET_PSTR szTargetInstanceName,
                                     JET_PSTR szTargetInstanceLogPath,
                                     JET_PSTR szTargetInstanceCheckpointPath, JET_PFNSTATUS pfn)
{
    char base[JET_BASE_NAME_LENGTH + 1];

    if (pLogInfo == NULL || pLogInfo->cbSize != sizeof(JET_LOGINFO_A))
        return JET_errInvalidParameter;
    if ((szTargetInstanceLogPath == NULL) != (szTargetInstanceCheckpointPath == NULL))
        return JET_errInvalidParameter;
    if (szTargetInstanceName != NULL || szTargetInstanceLogPath != NULL)
        return JET_errBadRestoreTargetInstance;
    memcpy(base, pLogInfo->szBaseName, JET_BASE_NAME_LENGTH);
    base[JET_BASE_NAME_LENGTH] = '\0';
    if (pLogInfo->ulGenLow > (unsigned long)LONG_MAX ||
        pLogInfo->ulGenHigh > (unsigned long)LONG_MAX)
        return JET_errInvalidParameter;
    return rs_restore(szCheckpointFilePath, szLogPath, rgrstmap, crstfilemap, szBackupLogPath, base,
                      (long)pLogInfo->ulGenLow, (long)pLogInfo->ulGenHigh, pfn);
}
