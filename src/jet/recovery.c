/*
 * recovery.c -- redo: replay committed log records into database files;
 * and soft recovery's driver (jinst_recover, JetInit's part), which finds
 * the logs and the checkpoint, checks them and runs the redo.
 *
 * Used by soft recovery (JetInit, identity path map) and by hard recovery
 * (restore.c, path map from JET_RSTMAP).  Redo is physical: a COMMIT record
 * holds whole-record after-images, so replaying from any position at or
 * before the checkpoint gives the right result, and a database page that
 * already holds a later version is simply overwritten again by the later
 * records.  No undo is needed: uncommitted work never reaches the log.
 *
 * Pages are read and written straight from/to the files through a small
 * private cache (flushed when it grows), with checksums recomputed.  At the
 * end every database still attached is flushed, fsynced and marked clean
 * at the end position.
 *
 * Thread safety: jet_redo is self-contained; callers run it before the
 * instance serves anyone.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

#define RPAGE_BUCKETS 1024u
#define RPAGE_MAX 8192u

typedef struct rpage {
    struct rpage *next;
    uint32_t pgno;
    uint8_t *data;
} rpage;

typedef struct rdb {
    bool skip; /* not in the map: records ignored */
    int fd;
    char path[JF_PATH_MAX];
    jf_dbhdr hdr;
    uint32_t cb_page, cb_record, rpp;
    uint32_t pgno_file, pgno_last;
    rpage *b[RPAGE_BUCKETS];
    uint32_t npages;
} rdb;

/* A CREATEDB (or, attach, an ATTACH) record seen by the first pass. */
typedef struct created {
    char orig[JF_PATH_MAX];
    jf_sig sign_db;
    bool attach;
} created;

typedef struct redo {
    jet_redo_args *a;
    bool dry;    /* first pass: read and check only */
    created *cr; /* CREATEDB records of the range (first pass) */
    size_t ncr, cap_cr;
    rdb *db[JF_MAX_DBS + 1];
    jf_lgpos pos; /* current position (for headers) */
} redo;

/* pwrite everything.  JET_errDiskIO / JET_errDiskFull. */
static JET_ERR wr(int fd, const void *buf, size_t cb, off_t off)
{
    return jio_err(jio_pwrite(fd, buf, cb, off));
}

/* Write every cached page of d and drop them. */
static JET_ERR rdb_flush(rdb *d)
{
    JET_ERR rc = JET_errSuccess;
    for (unsigned b = 0; b < RPAGE_BUCKETS; b++) {
        rpage *p = d->b[b];
        while (p != NULL) {
            rpage *n = p->next;
            if (rc == 0) {
                jf_page_seal(p->data, d->cb_page, p->pgno);
                rc = wr(d->fd, p->data, d->cb_page, (off_t)(p->pgno + 1) * d->cb_page);
                if (rc == 0 && p->pgno > d->pgno_file)
                    d->pgno_file = p->pgno;
            }
            free(p->data);
            free(p);
            p = n;
        }
        d->b[b] = NULL;
    }
    d->npages = 0;
    return rc;
}

/* Write both header copies of d from d->hdr. */
static JET_ERR rdb_write_header(rdb *d)
{
    uint8_t *blk = NULL;
    JET_ERR rc;
    if (posix_memalign((void **)&blk, 4096, d->cb_page) != 0)
        return JET_errOutOfMemory;
    jf_dbhdr_encode(&d->hdr, blk, d->cb_page);
    rc = wr(d->fd, blk, d->cb_page, 0);
    if (rc == 0 && jos_fdatasync(d->fd) != 0) /* copy 0 durable before copy 1 */
        rc = JET_errDiskIO;
    if (rc == 0)
        rc = wr(d->fd, blk, d->cb_page, d->cb_page);
    free(blk);
    return rc;
}

/* Flush, mark clean at pos, fsync and free d. */
static JET_ERR rdb_close(rdb *d, jf_lgpos pos, bool clean)
{
    JET_ERR rc = JET_errSuccess;
    if (d == NULL)
        return JET_errSuccess;
    if (!d->skip) {
        rc = rdb_flush(d);
        if (rc == 0 && clean) {
            d->hdr.dbstate = JF_DBSTATE_CLEAN;
            d->hdr.lgpos_consistent = pos;
            jf_logtime_from_time(&d->hdr.time_consistent, time(NULL));
            if (d->pgno_file > d->hdr.pgno_last)
                d->hdr.pgno_last = d->pgno_file;
            if (d->pgno_last > d->hdr.pgno_last)
                d->hdr.pgno_last = d->pgno_last;
            rc = rdb_write_header(d);
        }
        if (rc == 0 && jos_fsync(d->fd) != 0)
            rc = JET_errDiskIO;
        if (d->fd >= 0)
            jos_close(d->fd);
    }
    free(d);
    return rc;
}

/* Read a signature serialised by attach.c (28 bytes). */
static void get_sig(const uint8_t *p, jf_sig *s)
{
    s->random = jf_get32(p);
    memcpy(&s->create, p + 4, 8);
    memcpy(s->computer, p + 12, 16);
}

typedef struct create_info {
    uint32_t cb_record, cb_page;
    jf_sig sign_db;
} create_info;

/* Open (or, for CREATEDB, create) the database attached at orig as dbid,
 * mapped through a->map and locked for the rest of the replay.  start: it
 * is attached at the start position, so its header must carry the log
 * stream's signature (JET_errBadLogSignature).  A database the logs need
 * that is missing: JET_errAttachedDatabaseMismatch.  In the dry pass only
 * dbid is checked. */
static JET_ERR rdb_open(redo *r, uint32_t dbid, const char *orig, const create_info *ci, bool start)
{
    const char *path;
    rdb *d;
    struct stat st;
    JET_ERR rc = JET_errSuccess;
    if (dbid < 1 || dbid > JF_MAX_DBS)
        return JET_errLogFileCorrupt;
    if (r->dry)
        return JET_errSuccess;
    if (r->db[dbid] != NULL) {
        rc = rdb_close(r->db[dbid], r->pos, true);
        r->db[dbid] = NULL;
        if (rc < 0)
            return rc;
    }
    d = calloc(1, sizeof *d);
    if (d == NULL)
        return JET_errOutOfMemory;
    d->fd = -1;
    path = r->a->map(r->a->map_arg, orig);
    if (path == NULL) {
        d->skip = true;
        r->db[dbid] = d;
        return JET_errSuccess;
    }
    snprintf(d->path, sizeof d->path, "%s", path);
    /* lock first: nothing is read or written while another holds it */
    rc = jdb_lock_open(d->path, ci != NULL, &d->fd);
    if (rc == JET_errFileNotFound)
        rc = JET_errAttachedDatabaseMismatch;
    if (rc < 0)
        goto out;
    if (ci != NULL) {
        jf_dbhdr old;
        bool same =
            jdb_read_header_file(d->path, &old) == 0 && jf_sig_eq(&old.sign_db, &ci->sign_db);
        if (!same) {
            jf_sig sl = r->a->sign_log_seen;
            JCALL(jdb_init_fd(d->fd, ci->cb_page, ci->cb_record, &ci->sign_db, &sl, dbid));
        }
    }
    JCALL(jdb_read_header_file(d->path, &d->hdr));
    if (d->hdr.full_cur.gen_low != 0 && d->hdr.full_cur.gen_high == 0) {
        rc = JET_errSoftRecoveryOnBackupDatabase;
        goto out;
    }
    if (start && !jf_sig_eq(&d->hdr.sign_log, &r->a->sign_log_seen)) {
        rc = JET_errBadLogSignature; /* the file belongs to another log stream */
        goto out;
    }
    if (jos_fstat(d->fd, &st) != 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    d->cb_page = d->hdr.cb_page;
    d->cb_record = d->hdr.cb_record;
    if (d->cb_record < 8 || d->cb_record > d->cb_page - JF_PAGE_HDR) {
        rc = JET_errDatabaseCorrupted;
        goto out;
    }
    d->rpp = (d->cb_page - JF_PAGE_HDR) / d->cb_record;
    d->pgno_file = st.st_size / d->cb_page > 2 ? (uint32_t)(st.st_size / d->cb_page - 2) : 0;
    d->pgno_last = d->pgno_file;
    d->hdr.dbstate = JF_DBSTATE_DIRTY;
    r->db[dbid] = d;
    d = NULL;
out:
    if (d != NULL) {
        if (d->fd >= 0)
            jos_close(d->fd);
        free(d);
    }
    return rc;
}

/* Page pgno of d in the redo cache. */
static JET_ERR rdb_page(rdb *d, uint32_t pgno, uint8_t **pdata)
{
    rpage *p;
    JET_ERR rc = JET_errSuccess;
    for (p = d->b[pgno % RPAGE_BUCKETS]; p != NULL; p = p->next)
        if (p->pgno == pgno) {
            *pdata = p->data;
            return JET_errSuccess;
        }
    if (d->npages >= RPAGE_MAX) {
        rc = rdb_flush(d);
        if (rc < 0)
            return rc;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL || posix_memalign((void **)&p->data, 4096, d->cb_page) != 0) {
        free(p);
        return JET_errOutOfMemory;
    }
    memset(p->data, 0, d->cb_page);
    if (pgno <= d->pgno_file) {
        if (jio_pread(d->fd, p->data, d->cb_page, (off_t)(pgno + 1) * d->cb_page, NULL) != 0)
            rc = JET_errDiskIO; /* past EOF the page stays zero (blank) */
        if (rc == 0)
            rc = jf_page_verify(p->data, d->cb_page, pgno);
        /* A checksum failure here is the torn write of a checkpoint (or of
         * an earlier recovery) cut by a power loss: every record that
         * differs between the page's durable and its new image changed
         * after the checkpoint redo starts from, so redo rewrites it, and
         * the page is sealed again when written back (docs/formats.md,
         * "Torn writes").  A page number mismatch is not a tear. */
        if (rc == JET_errReadVerifyFailure)
            rc = JET_errSuccess;
    }
    if (rc < 0) {
        free(p->data);
        free(p);
        return rc;
    }
    p->pgno = pgno;
    p->next = d->b[pgno % RPAGE_BUCKETS];
    d->b[pgno % RPAGE_BUCKETS] = p;
    d->npages++;
    if (pgno > d->pgno_last)
        d->pgno_last = pgno;
    *pdata = p->data;
    return JET_errSuccess;
}

/* Apply one COMMIT record. */
static JET_ERR redo_commit(redo *r, const uint8_t *b, uint32_t cb)
{
    uint32_t n, off = 4;
    if (cb < 4)
        return JET_errLogFileCorrupt;
    n = jf_get32(b);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t dbid, cbr;
        uint64_t recno;
        rdb *d;
        uint8_t *page;
        JET_ERR rc;
        if (off + 14 > cb)
            return JET_errLogFileCorrupt;
        dbid = jf_get32(b + off);
        recno = jf_get64(b + off + 4);
        cbr = jf_get16(b + off + 12);
        if (off + 14 + cbr > cb || dbid < 1 || dbid > JF_MAX_DBS)
            return JET_errLogFileCorrupt;
        d = r->db[dbid];
        if (d != NULL && !d->skip) {
            uint64_t pg = 1 + recno / d->rpp;
            if (cbr > d->cb_record || pg > UINT32_MAX - 3)
                return JET_errLogFileCorrupt;
            rc = rdb_page(d, (uint32_t)pg, &page);
            if (rc < 0)
                return rc;
            memcpy(page + JF_PAGE_HDR + (recno % d->rpp) * d->cb_record, b + off + 14, cbr);
        }
        off += 14 + cbr;
    }
    return JET_errSuccess;
}

/* Copy a length-prefixed path out of a record body. */
static JET_ERR get_path(const uint8_t *b, uint32_t cb, uint32_t at, char *out)
{
    uint32_t len;
    if (at + 2 > cb)
        return JET_errLogFileCorrupt;
    len = jf_get16(b + at);
    if (len == 0 || len >= JF_PATH_MAX || at + 2 + len > cb)
        return JET_errLogFileCorrupt;
    memcpy(out, b + at + 2, len);
    out[len] = '\0';
    return JET_errSuccess;
}

/* First pass: remember that the logs create a database at orig with
 * signature sig, or (attach, sig NULL) attach one there.
 * JET_errOutOfMemory. */
static JET_ERR note_created(redo *r, const char *orig, const jf_sig *sig, bool attach)
{
    if (r->ncr == r->cap_cr) {
        size_t cap = r->cap_cr != 0 ? 2 * r->cap_cr : 8;
        created *n = realloc(r->cr, cap * sizeof *n);
        if (n == NULL)
            return JET_errOutOfMemory;
        r->cr = n;
        r->cap_cr = cap;
    }
    snprintf(r->cr[r->ncr].orig, sizeof r->cr[r->ncr].orig, "%s", orig);
    if (sig != NULL)
        r->cr[r->ncr].sign_db = *sig;
    r->cr[r->ncr].attach = attach;
    r->ncr++;
    return JET_errSuccess;
}

/* After the first pass, before anything is written: a file standing where
 * the logs create a database must be one of the databases the logs create
 * there (replaying the create re-initialises it), never another database
 * (JET_errBadDbSignature).  A database the map relocates (a copied
 * instance directory, JET_paramAlternateDatabaseRecoveryPath) must exist
 * there: recovery does not create files in a place the logs never named
 * (JET_errAttachedDatabaseMismatch).  A database the logs attach that is
 * in dirty state under another log stream is that stream's to recover
 * (JET_errBadLogSignature; attach needs a clean database, so no crash of
 * this stream leaves one).  Reads headers only. */
static JET_ERR check_created(redo *r)
{
    for (size_t i = 0; i < r->ncr; i++) {
        const char *path = r->a->map(r->a->map_arg, r->cr[i].orig);
        jf_dbhdr h;
        bool known = false;
        JET_ERR hrc;
        if (path == NULL)
            continue; /* not replayed */
        hrc = jdb_read_header_file(path, &h);
        if (r->cr[i].attach) {
            if (hrc == 0 && h.dbstate == JF_DBSTATE_DIRTY &&
                !jf_sig_eq(&h.sign_log, &r->a->sign_log_seen))
                return JET_errBadLogSignature;
            continue; /* a missing one fails when the replay reaches it */
        }
        if (hrc == JET_errFileNotFound && strcmp(path, r->cr[i].orig) != 0)
            return JET_errAttachedDatabaseMismatch;
        if (hrc != 0)
            continue; /* absent or not a database header: re-created */
        for (size_t j = 0; j < r->ncr && !known; j++)
            known = !r->cr[j].attach && strcmp(r->cr[j].orig, r->cr[i].orig) == 0 &&
                    jf_sig_eq(&r->cr[j].sign_db, &h.sign_db);
        if (!known)
            return JET_errBadDbSignature;
    }
    return JET_errSuccess;
}

/* Apply one record of any type. */
static JET_ERR redo_record(redo *r, uint8_t type, const uint8_t *b, uint32_t cb)
{
    char path[JF_PATH_MAX];
    JET_ERR rc = JET_errSuccess;
    switch (type) {
    case JF_LR_COMMIT:
        return redo_commit(r, b, cb);
    case JF_LR_CREATEDB: {
        create_info ci;
        if (cb < 42)
            return JET_errLogFileCorrupt;
        ci.cb_record = jf_get32(b + 4);
        ci.cb_page = jf_get32(b + 8);
        get_sig(b + 12, &ci.sign_db);
        JCALL(get_path(b, cb, 40, path));
        if (r->dry)
            JCALL(note_created(r, path, &ci.sign_db, false));
        return rdb_open(r, jf_get32(b), path, &ci, false);
    }
    case JF_LR_ATTACH:
        if (cb < 6)
            return JET_errLogFileCorrupt;
        JCALL(get_path(b, cb, 4, path));
        if (r->dry)
            JCALL(note_created(r, path, NULL, true));
        return rdb_open(r, jf_get32(b), path, NULL, false);
    case JF_LR_DETACH: {
        uint32_t dbid;
        if (cb < 4)
            return JET_errLogFileCorrupt;
        dbid = jf_get32(b);
        if (dbid < 1 || dbid > JF_MAX_DBS)
            return JET_errLogFileCorrupt;
        if (r->dry)
            return JET_errSuccess;
        rc = rdb_close(r->db[dbid], r->pos, true);
        r->db[dbid] = NULL;
        return rc;
    }
    default:
        return JET_errSuccess; /* BACKUP, TERM: informational */
    }
out:
    return rc;
}

/* Replay one log file. */
static JET_ERR redo_file(redo *r, const char *path, uint32_t gen, bool *pfirst, jf_logtime *ptprev)
{
    jet_redo_args *a = r->a;
    jet_logreader *lr = NULL;
    jf_loghdr h;
    JET_ERR rc = jlr_open(path, &lr, &h);
    if (rc == JET_errFileNotFound)
        rc = JET_errMissingLogFile;
    if (rc < 0)
        goto out;
    if ((uint32_t)h.gen != gen) {
        rc = JET_errInvalidLogSequence;
        goto out;
    }
    if (*pfirst) {
        if (a->sign_log == NULL)
            a->sign_log_seen = h.sign_log;
        else
            a->sign_log_seen = *a->sign_log;
    }
    if (!jf_sig_eq(&h.sign_log, &a->sign_log_seen)) {
        rc = JET_errBadLogSignature;
        goto out;
    }
    if (!*pfirst && !jf_logtime_eq(&h.time_prev_gen, ptprev)) {
        rc = JET_errInvalidLogSequence;
        goto out;
    }
    if (*pfirst) {
        /* databases attached at the start position */
        const jf_attach_list *al = a->attach != NULL ? a->attach : &h.attach;
        r->pos = a->start;
        for (uint32_t i = 0; i < al->count; i++)
            JCALL(rdb_open(r, al->db[i].dbid, al->db[i].path, NULL, true));
        *pfirst = false;
    }
    *ptprev = h.time_create;
    a->gen_end = gen;
    a->time_create_end = h.time_create;
    r->pos = (jf_lgpos){ JF_SEG_HDR, 1, (int32_t)gen };
    for (;;) {
        uint8_t type;
        const uint8_t *body;
        uint32_t cb;
        jf_lgpos pos;
        rc = jlr_next(lr, &type, &body, &cb, &pos);
        if (rc <= 0)
            break;
        r->pos = jlr_tell(lr);
        if (jf_lgpos_cmp(pos, a->start) < 0)
            continue;
        JCALL(redo_record(r, type, body, cb));
    }
    if (rc == 0)
        a->end = r->pos;
out:
    jlr_close(lr);
    return rc;
}

/* One pass over the whole range: the archived generations, then the
 * current log.  Dry: read and check only. */
static JET_ERR redo_pass(redo *r)
{
    jet_redo_args *a = r->a;
    JET_ERR rc = JET_errSuccess;
    bool first = true;
    jf_logtime tprev;
    char name[64], path[JF_PATH_MAX + 64];
    memset(&tprev, 0, sizeof tprev);
    a->end = a->start;
    for (uint32_t g = a->gen_first; g <= a->gen_last && g != 0; g++) {
        jf_log_name(name, sizeof name, a->base, g, a->legacy);
        snprintf(path, sizeof path, "%s%s", a->log_dir, name);
        JCALL(redo_file(r, path, g, &first, &tprev));
    }
    if (a->include_current) {
        uint32_t g = a->gen_last >= a->gen_first ? a->gen_last + 1 : a->gen_first;
        jf_cur_log_name(name, sizeof name, a->base, a->legacy);
        snprintf(path, sizeof path, "%s%s", a->log_dir, name);
        JCALL(redo_file(r, a->cur_path != NULL ? a->cur_path : path, g, &first, &tprev));
    }
out:
    return rc;
}

/* jet_redo -- see jet_int.h. */
JET_ERR jet_redo(jet_redo_args *a)
{
    redo r;
    JET_ERR rc = JET_errSuccess;
    memset(&r, 0, sizeof r);
    r.a = a;
    /* pass 1: every log present, one stream, contiguous, readable */
    r.dry = true;
    JCALL(redo_pass(&r));
    JCALL(check_created(&r));
    /* pass 2: replay */
    r.dry = false;
    JCALL(redo_pass(&r));
out:
    memset(&a->attach_end, 0, sizeof a->attach_end);
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++) {
        JET_ERR r2;
        if (r.db[d] == NULL)
            continue;
        if (!r.db[d]->skip && a->attach_end.count < JF_MAX_DBS) {
            a->attach_end.db[a->attach_end.count].dbid = d;
            snprintf(a->attach_end.db[a->attach_end.count].path, JF_PATH_MAX, "%s", r.db[d]->path);
            a->attach_end.count++;
        }
        r2 = rdb_close(r.db[d], a->end, rc == 0);
        if (rc == 0)
            rc = r2;
    }
    free(r.cr);
    return rc;
}

/* ---- soft recovery: JetInit's driver of the redo above ---- */

/* Read the header of the log file at path (does not keep it open). */
static JET_ERR log_header(const char *path, jf_loghdr *h)
{
    jet_logreader *r = NULL;
    JET_ERR rc = jlr_open(path, &r, h);
    jlr_close(r);
    return rc;
}

/* Soft recovery's path map: the instance's own database files only (see
 * jet_int.h, struct jet_inst, alt_db_path).  The result is valid until the
 * next call. */
typedef struct own_map {
    const jet_inst *inst;
    char buf[JF_PATH_MAX + 64];
} own_map;

/* orig -> the file recovery uses: with JET_paramAlternateDatabaseRecoveryPath
 * <alt>/<name>; else orig itself when its directory is the instance's system
 * or log directory; else <log directory>/<name> (a copied or moved
 * instance directory recovers its own copy). */
static const char *map_own(void *arg, const char *orig)
{
    own_map *m = arg;
    const char *slash = strrchr(orig, '/');
    const char *name = slash != NULL ? slash + 1 : orig;
    size_t dirlen = (size_t)(name - orig);
    const char *dir;
    if (m->inst->alt_db_path[0] != '\0') {
        dir = m->inst->alt_db_path;
    } else if ((dirlen == strlen(m->inst->sys_path) &&
                strncmp(orig, m->inst->sys_path, dirlen) == 0) ||
               (dirlen == strlen(m->inst->log_path) &&
                strncmp(orig, m->inst->log_path, dirlen) == 0)) {
        return orig;
    } else {
        dir = m->inst->log_path;
    }
    snprintf(m->buf, sizeof m->buf, "%s%s", dir, name);
    return m->buf;
}

/* true if the two log headers describe the same generation of the same
 * stream (gen, signature, creation time). */
static bool same_generation(const jf_loghdr *a, const jf_loghdr *b)
{
    return a->gen == b->gen && jf_sig_eq(&a->sign_log, &b->sign_log) &&
           jf_logtime_eq(&a->time_create, &b->time_create);
}

/* Archive the recovered current log `cur` as generation gen (path arc)
 * without ever leaving the directory without <base>.log: a hard link now,
 * replaced by jlog_open's atomic rename of the next generation over cur.
 * An existing arc that is the same generation (a crash in this window, or
 * a copy of it) is kept.  Errors: JET_errLogWriteFail,
 * JET_errInvalidLogSequence (arc is another generation). */
static JET_ERR archive_current(const char *cur, const char *arc, const jf_loghdr *ch)
{
    jf_loghdr ah;
    if (jos_link(cur, arc) == 0) /* durable before jlog_open replaces cur */
        return jio_fsync_dir(arc) == 0 ? JET_errSuccess : JET_errLogWriteFail;
    if (errno != EEXIST)
        return JET_errLogWriteFail;
    if (log_header(arc, &ah) != 0 || !same_generation(&ah, ch))
        return JET_errInvalidLogSequence;
    return JET_errSuccess;
}

/* What soft recovery found on disk (one JetInit; no locking needed: the
 * instance serves no one yet). */
typedef struct soft {
    jet_inst *inst;
    char cur[JF_PATH_MAX + 64];  /* <log path><base>.log */
    char tmp[JF_PATH_MAX + 64];  /* <log path><base>tmp.log */
    char path[JF_PATH_MAX + 64]; /* scratch */
    jf_chk chk;
    jf_loghdr ch; /* header of the current log */
    bool have_chk, have_cur, from_tmp, tmp_torn;
    uint32_t lo, hi, last; /* oldest/newest archived, last to replay */
} soft;

/* Read the checkpoint, the range of archived generations and the current
 * log's header into *s.  The current log may be <base>tmp.log: a roll
 * writes it (generation hi + 1, full size) with its final header, synced,
 * before it archives <base>.log, then renames it in.  Killed between the
 * two renames, the tmp file is the current log (from_tmp), and the roll is
 * finished once recovery succeeded.  A full-size tmp file whose header is
 * torn: nothing was ever logged to it, the archived logs end the stream
 * (tmp_torn).  Any other state (no tmp file, one cut short while being
 * pre-created, or the one pre-created for a later generation) means the
 * current log is gone.  Changes nothing.  Errors: those of jchk_read,
 * jlog_oldest_gen/newest_gen, jlr_open, JET_errLogFileSizeMismatch. */
static JET_ERR soft_scan(soft *s)
{
    jet_inst *inst = s->inst;
    char name[64];
    JET_ERR rc;

    jinst_chk_path(inst, s->path, sizeof s->path);
    rc = jchk_read(s->path, &s->chk);
    if (rc < 0 && rc != JET_errCheckpointFileNotFound)
        return rc;
    s->have_chk = rc == 0;
    rc = jlog_oldest_gen(inst, &s->lo);
    if (rc == JET_errFileNotFound)
        s->lo = 0;
    else if (rc < 0)
        return rc;
    rc = jlog_newest_gen(inst, &s->hi);
    if (rc < 0)
        return rc;
    jf_cur_log_name(name, sizeof name, inst->base, inst->legacy);
    snprintf(s->cur, sizeof s->cur, "%s%s", inst->log_path, name);
    jf_tmp_log_name(name, sizeof name, inst->base, inst->legacy);
    snprintf(s->tmp, sizeof s->tmp, "%s%s", inst->log_path, name);

    rc = log_header(s->cur, &s->ch);
    if (rc == JET_errFileNotFound && s->hi != 0) {
        struct stat st;
        JET_ERR trc = log_header(s->tmp, &s->ch);
        if (trc == 0 && (uint32_t)s->ch.gen == s->hi + 1) {
            s->from_tmp = true;
            rc = JET_errSuccess;
        } else if (trc == JET_errLogFileCorrupt && jos_stat(s->tmp, &st) == 0 &&
                   (uint64_t)st.st_size == (uint64_t)inst->log_kib * 1024) {
            s->tmp_torn = true;
        }
    }
    if (rc < 0 && rc != JET_errFileNotFound)
        return rc;
    s->have_cur = rc == 0;
    /* ESE refuses to continue a log stream with a different file size */
    if (s->have_cur && (uint64_t)s->ch.csec_file * JF_SEGMENT != (uint64_t)inst->log_kib * 1024)
        return JET_errLogFileSizeMismatch;
    return JET_errSuccess;
}

/* Decide the last generation to replay (s->last, s->ch = its header) and
 * check the archived logs end where the current one begins.  Returns 1 for
 * a brand-new log stream (no log, no checkpoint: nothing to replay; a stale
 * <base>tmp.log is removed), 0 otherwise.  Errors: JET_errMissingLogFile,
 * JET_errInvalidLogSequence, JET_errLogWriteFail, those of jlr_open. */
static JET_ERR soft_last(soft *s)
{
    jf_loghdr h;
    JET_ERR rc;

    if (!s->have_cur && s->tmp_torn) {
        /* the stream ends with archived generation hi */
        jinst_log_path(s->inst, s->hi, s->path, sizeof s->path);
        rc = log_header(s->path, &s->ch);
        if (rc < 0)
            return rc;
        s->last = s->hi;
    } else if (!s->have_cur) {
        /* the logs that follow the archived ones (or the checkpoint) are
         * gone: recovering without them would lose commits */
        if (s->hi != 0 || s->have_chk)
            return JET_errMissingLogFile;
        if (jos_unlink(s->tmp) != 0 && errno != ENOENT)
            return JET_errLogWriteFail;
        return 1;
    } else {
        s->last = (uint32_t)s->ch.gen;
    }
    if (s->hi > s->last)
        return JET_errInvalidLogSequence; /* archived logs newer than the current one */
    if (s->hi == s->last && s->have_cur) {
        /* only a crash right after archiving the recovered log by a hard
         * link leaves this: the archive must be that same generation */
        jinst_log_path(s->inst, s->last, s->path, sizeof s->path);
        if (log_header(s->path, &h) != 0 || !same_generation(&h, &s->ch))
            return JET_errInvalidLogSequence;
    }
    return JET_errSuccess;
}

/* Fill the redo arguments: start at the checkpoint (its signature must be
 * the stream's) or, without one, at the oldest log present; replay into
 * the instance's own files (map_own).  *psig = the stream's signature.
 * Errors: JET_errBadCheckpointSignature, JET_errMissingLogFile, those of
 * jlr_open. */
static JET_ERR soft_redo_args(soft *s, jet_redo_args *ra, own_map *map, jf_sig *psig)
{
    jet_inst *inst = s->inst;
    jf_loghdr h;
    JET_ERR rc;

    memset(ra, 0, sizeof *ra);
    if (s->have_chk) {
        if (!jf_sig_eq(&s->chk.sign_log, &s->ch.sign_log))
            return JET_errBadCheckpointSignature;
        ra->start = s->chk.lgpos_checkpoint;
        *psig = s->chk.sign_log;
    } else {
        uint32_t first = s->lo != 0 && s->lo < s->last ? s->lo : s->last;
        if (first == s->last) {
            h = s->ch;
        } else {
            jinst_log_path(inst, first, s->path, sizeof s->path);
            rc = log_header(s->path, &h);
            if (rc < 0)
                return rc;
        }
        ra->start = (jf_lgpos){ 0, 1, (int32_t)first };
        s->chk.attach = h.attach;
        *psig = s->ch.sign_log;
    }
    if ((uint32_t)ra->start.gen > s->last || ra->start.gen < 1)
        return JET_errMissingLogFile;
    ra->attach = &s->chk.attach;
    map->inst = inst;
    ra->log_dir = inst->log_path;
    ra->base = inst->base;
    ra->legacy = inst->legacy;
    ra->gen_first = (uint32_t)ra->start.gen;
    ra->gen_last = s->have_cur ? s->last - 1 : s->last;
    ra->include_current = s->have_cur;
    ra->cur_path = s->from_tmp ? s->tmp : s->cur;
    ra->map = map_own;
    ra->map_arg = map;
    ra->sign_log = psig;
    ra->cb_page_default = inst->cb_page;
    return JET_errSuccess;
}

/* After a successful redo: finish an interrupted roll (rename <base>tmp.log
 * in) or remove a stale one, blank the torn tail of the current log and
 * archive it.  Errors: JET_errLogWriteFail, those of jlog_repair_tail and
 * archive_current. */
static JET_ERR soft_finish(soft *s)
{
    JET_ERR rc = JET_errSuccess;

    if (s->from_tmp) {
        if (jos_rename(s->tmp, s->cur) != 0)
            return JET_errLogWriteFail;
    } else if (jos_unlink(s->tmp) != 0 && errno != ENOENT) {
        return JET_errLogWriteFail; /* stale or torn next generation */
    }
    if (s->have_cur) {
        /* blank the torn tail of an interrupted flush before archiving */
        JCALL(jlog_repair_tail(s->cur));
        jinst_log_path(s->inst, s->last, s->path, sizeof s->path);
        JCALL(archive_current(s->cur, s->path, &s->ch));
        jinst_fault(s->inst, "init.archived");
    }
out:
    return rc;
}

/*
 * jinst_recover -- soft recovery (JetInit; see jet_int.h).  Everything is
 * checked before anything is changed: the checkpoint, the current log (or
 * the pre-created <base>tmp.log of an interrupted roll), and in jet_redo's
 * first pass every log from the checkpoint on.  A missing current log, a
 * missing generation, a log or checkpoint of another stream fail with the
 * specific error and leave every file as it was.
 */
JET_ERR jinst_recover(jet_inst *inst, uint32_t *pgen_next, jf_logtime *ptprev, jf_sig *psig)
{
    soft *s = calloc(1, sizeof *s);
    jet_redo_args ra;
    own_map map;
    JET_ERR rc;

    if (s == NULL)
        return JET_errOutOfMemory;
    s->inst = inst;
    JCALL(soft_scan(s));
    JCALL(soft_last(s));
    if (rc == 1) { /* a brand-new log stream */
        jf_sig_new(psig);
        *pgen_next = 1;
        memset(ptprev, 0, sizeof *ptprev);
        rc = JET_errSuccess;
        goto out;
    }
    JCALL(soft_redo_args(s, &ra, &map, psig));
    JCALL(jet_redo(&ra));
    JCALL(soft_finish(s));
    *ptprev = s->ch.time_create;
    *pgen_next = s->last + 1;
out:
    free(s);
    return rc;
}
