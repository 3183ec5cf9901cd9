/*
 * db.c -- database files: header (two shadow copies in pages 0 and 1),
 * the page cache, record access, flushing, and raw page reads for backup.
 *
 * Page pgno >= 1 lives at file offset (pgno + 1) * cb_page.  A page is a
 * 40-byte header (checksum; see format.h) followed by fixed-size records.
 *
 * Cache: a hash of pages guarded by cache->mu.  Dirty pages carry the LSN
 * of the last commit applied to them; jdb_flush copies a dirty page under
 * the lock, makes the log durable up to that LSN (write-ahead rule), seals
 * the copy and writes it under the page range lock, so a backup reader that
 * holds the range lock never sees a half-written page.  Only clean pages
 * are evicted, and never one that is pinned (a commit about to apply to it)
 * or being written (its new contents are not in the file yet); when the
 * cache is over its budget with nothing evictable it grows until the next
 * checkpoint flushes.
 *
 * Thread safety: all functions are thread-safe.  Lock order: log lock ->
 * cache->mu -> rangelock (jdb_apply_write runs under the log lock).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

#define CACHE_BUCKETS 4096u
#define CACHE_MAX_PAGES 16384u /* budget per database; clean pages beyond it are evicted */

typedef struct cpage {
    struct cpage *next;
    uint32_t pgno;
    bool dirty;
    bool writing;  /* jdb_flush is writing a copy: not evictable */
    uint32_t pins; /* jdb_pin_record: not evictable */
    uint64_t lsn;
    uint8_t *data;
} cpage;

struct jet_cache {
    pthread_mutex_t mu;
    cpage *bucket[CACHE_BUCKETS];
    uint32_t npages;
    uint32_t ndirty;
    uint32_t pgno_last; /* logical size */
    uint32_t pgno_file; /* pages present in the file */
    uint32_t evict_hand;
};

/* Offset of page pgno in the file. */
static off_t pg_off(const jet_db *db, uint32_t pgno)
{
    return (off_t)(pgno + 1) * db->cb_page;
}

/* pread all of it; past EOF reads zeros.  JET_errDiskIO. */
static JET_ERR pread_full(int fd, void *buf, size_t cb, off_t off)
{
    return jio_pread(fd, buf, cb, off, NULL) == 0 ? JET_errSuccess : JET_errDiskIO;
}

/* pwrite all of it.  JET_errDiskIO / JET_errDiskFull. */
static JET_ERR pwrite_full(int fd, const void *buf, size_t cb, off_t off)
{
    return jio_err(jio_pwrite(fd, buf, cb, off));
}

/* Write both header copies from h and fsync (copy 0, fsync, copy 1,
 * fsync: a crash leaves at least one valid copy).  Caller holds hdr_lock
 * or owns the file exclusively.  inst (may be NULL) gives the fault point
 * "db.hdr.copy0" between the copies. */
static JET_ERR write_header(jet_inst *inst, int fd, const jf_dbhdr *h, uint32_t cb_page)
{
    JET_ERR rc;
    uint8_t *blk = NULL;
    if (posix_memalign((void **)&blk, 4096, cb_page) != 0)
        return JET_errOutOfMemory;
    jf_dbhdr_encode(h, blk, cb_page);
    rc = pwrite_full(fd, blk, cb_page, 0);
    if (rc == 0 && jos_fdatasync(fd) != 0)
        rc = JET_errDiskIO;
    if (rc == 0 && inst != NULL)
        jinst_fault(inst, "db.hdr.copy0");
    if (rc == 0)
        rc = pwrite_full(fd, blk, cb_page, cb_page);
    if (rc == 0 && jos_fdatasync(fd) != 0)
        rc = JET_errDiskIO;
    free(blk);
    return rc;
}

/*
 * jdb_lock_open -- open the database file at path read-write and take an
 * exclusive, non-blocking flock on it (ESE's exclusive file sharing: one
 * open file description, so one instance or recovery, in any process).
 * With create the file is created (mode 0644) if absent, never truncated.
 * The lock lives as long as *pfd is open.  Errors: JET_errFileNotFound,
 * JET_errInvalidPath (a directory of the path is missing),
 * JET_errFileAccessDenied (permission, read-only file system, or another
 * holder of the lock), JET_errDiskIO, JET_errDiskFull.
 */
JET_ERR jdb_lock_open(const char *path, bool create, int *pfd)
{
    JET_ERR rc = JET_errSuccess;
    int fd = jos_open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    *pfd = -1;
    if (fd < 0)
        return errno == ENOENT    ? (create ? JET_errInvalidPath : JET_errFileNotFound)
               : errno == ENOTDIR ? JET_errInvalidPath
               : errno == EACCES || errno == EROFS || errno == EPERM ? JET_errFileAccessDenied
                                                                     : jio_err(errno);
    if (jos_flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? JET_errFileAccessDenied : JET_errDiskIO;
        goto out;
    }
    *pfd = fd;
    fd = -1;
out:
    if (fd >= 0)
        jos_close(fd);
    return rc;
}

/*
 * jdb_init_fd -- make the open (locked) file fd a new, empty database:
 * truncate it and write both header copies (state JustCreated), fsynced.
 * Errors: JET_errDiskIO, JET_errDiskFull, JET_errOutOfMemory.
 */
JET_ERR jdb_init_fd(int fd, uint32_t cb_page, uint32_t cb_record, const jf_sig *sign_db,
                    const jf_sig *sign_log, uint32_t dbid)
{
    jf_dbhdr h;
    if (jos_ftruncate(fd, 0) != 0)
        return JET_errDiskIO;
    memset(&h, 0, sizeof h);
    h.magic = JF_DB_MAGIC;
    h.version = JF_DB_VERSION;
    h.sign_db = *sign_db;
    h.sign_log = *sign_log;
    h.dbstate = JF_DBSTATE_JUST_CREATED;
    h.dbid = dbid;
    h.cb_page = cb_page;
    h.cb_record = cb_record;
    jf_logtime_from_time(&h.time_attach, time(NULL));
    return write_header(NULL, fd, &h, cb_page);
}

/* Whether fd is the file that path names now (same device and inode). */
static bool same_file(int fd, const char *path)
{
    struct stat a, b;
    return jos_fstat(fd, &a) == 0 && jos_stat(path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

/*
 * jdb_create_file -- create a database file holding only its header
 * (state JustCreated), durable on return.  The header is written and
 * synced under "<path>.jnew" first and then linked (renamed when
 * overwrite, or without hard links) to path, and the directory synced:
 * path never names a file without a valid header, whatever fails or is
 * torn.  The .jnew file is locked (jdb_lock_open) before anything is
 * written to it and keeps that lock at path, so path never names an
 * unlocked new file; with overwrite an existing file at path is locked
 * first and left alone if another holder has it.  With pfd the locked
 * descriptor of the file now at path is returned (for jdb_open), else
 * closed.  Errors: JET_errDatabaseDuplicate (exists and not overwrite),
 * JET_errFileAccessDenied (path or its .jnew held by another holder),
 * JET_errInvalidPath, JET_errDiskIO, JET_errDiskFull.
 */
JET_ERR jdb_create_file(const char *path, uint32_t cb_page, uint32_t cb_record,
                        const jf_sig *sign_db, const jf_sig *sign_log, uint32_t dbid,
                        bool overwrite, int *pfd)
{
    char tmp[JF_PATH_MAX + 8];
    struct stat st;
    JET_ERR rc = JET_errSuccess;
    int fd = -1, old = -1;
    bool own_tmp = false, placed = false;
    if (pfd != NULL)
        *pfd = -1;
    if (!overwrite && jos_stat(path, &st) == 0)
        return JET_errDatabaseDuplicate;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.jnew", path) >= sizeof tmp)
        return JET_errInvalidPath;
    if (overwrite) {
        /* the file being replaced: nobody else may be using it */
        rc = jdb_lock_open(path, false, &old);
        if (rc == JET_errFileNotFound)
            rc = JET_errSuccess;
        if (rc < 0)
            goto out;
        /* a .jnew left linked to it by a crash is only a second name */
        if (old >= 0 && same_file(old, tmp) && jos_unlink(tmp) != 0) {
            rc = jio_err(errno);
            goto out;
        }
    }
    /* Lock the temporary before writing it (never O_TRUNC: a concurrent
     * creator holding it is refused, not clobbered), then make sure the
     * name still leads to the locked file (it was not placed meanwhile). */
    JCALL(jdb_lock_open(tmp, true, &fd));
    if (!same_file(fd, tmp)) {
        rc = JET_errFileAccessDenied;
        goto out;
    }
    own_tmp = true;
    JCALL(jdb_init_fd(fd, cb_page, cb_record, sign_db, sign_log, dbid));
    if (!overwrite) {
        if (jos_link(tmp, path) == 0) {
            placed = true;
        } else if (errno == EEXIST) {
            rc = JET_errDatabaseDuplicate;
            goto out;
        } else if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP) {
            rc = jio_err(errno);
            goto out;
        }
        /* else no hard links here: rename (checked absent above) */
    }
    if (!placed) {
        if (jos_rename(tmp, path) != 0) {
            rc = jio_err(errno);
            goto out;
        }
        placed = true;
        own_tmp = false; /* the name is gone */
    }
    rc = jio_err(jio_fsync_dir(path));
    if (rc == 0 && pfd != NULL) {
        *pfd = fd;
        fd = -1;
    }
out:
    if (own_tmp)
        (void)jos_unlink(tmp); /* best effort (still locked): only a temporary name */
    if (fd >= 0)
        jos_close(fd);
    if (old >= 0)
        jos_close(old);
    return rc;
}

/* Read the header of an open file: copy 0, else copy 1.  The page size is
 * taken from the header itself.  JET_errDatabaseCorrupted. */
static JET_ERR read_header(int fd, jf_dbhdr *h)
{
    uint8_t *buf = NULL;
    uint32_t cbp;
    JET_ERR rc = JET_errDatabaseCorrupted;
    if (posix_memalign((void **)&buf, 4096, 2 * JF_MAX_PAGE) != 0)
        return JET_errOutOfMemory;
    if (pread_full(fd, buf, 2 * JF_MAX_PAGE, 0) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    cbp = jf_dbhdr_peek_page_size(buf, JF_MAX_PAGE);
    if (cbp != 0 && jf_dbhdr_decode(buf, cbp, h) == 0) {
        rc = JET_errSuccess;
        goto out;
    }
    /* copy 0 damaged: try copy 1 at each plausible page size */
    for (uint32_t p = JF_MIN_PAGE; p <= JF_MAX_PAGE; p *= 2) {
        if (jf_dbhdr_peek_page_size(buf + p, p) == p && jf_dbhdr_decode(buf + p, p, h) == 0) {
            rc = JET_errSuccess;
            break;
        }
    }
out:
    free(buf);
    return rc;
}

/*
 * jdb_read_header_file -- read and verify the header of the database file
 * at path (either copy), without opening it as a database.  Errors:
 * JET_errFileNotFound, JET_errFileAccessDenied, JET_errDatabaseCorrupted,
 * JET_errDiskIO.
 */
JET_ERR jdb_read_header_file(const char *path, jf_dbhdr *h)
{
    JET_ERR rc;
    int fd = jos_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT   ? JET_errFileNotFound
               : errno == EACCES ? JET_errFileAccessDenied
                                 : JET_errDiskIO;
    rc = read_header(fd, h);
    jos_close(fd);
    return rc;
}

/*
 * jdb_open -- open an existing database file for use by inst under dbid.
 * fd is a descriptor from jdb_create_file/jdb_lock_open (ownership passes
 * to the jet_db, also on failure), or -1 to open and lock abspath here.
 * The flock is held until jdb_close.  Errors: JET_errFileNotFound,
 * JET_errFileAccessDenied (also: another instance or process has it),
 * JET_errDatabaseCorrupted, JET_errDiskIO, JET_errOutOfMemory.
 */
JET_ERR jdb_open(jet_inst *inst, const char *abspath, int fd, uint32_t dbid, jet_db **pdb)
{
    JET_ERR rc = JET_errSuccess;
    struct stat st;
    jet_db *db = calloc(1, sizeof *db);
    *pdb = NULL;
    if (db == NULL) {
        if (fd >= 0)
            jos_close(fd);
        return JET_errOutOfMemory;
    }
    db->fd = fd;
    db->inst = inst;
    db->dbid = dbid;
    snprintf(db->path, sizeof db->path, "%s", abspath);
    pthread_mutex_init(&db->hdr_lock, NULL);
    jrl_init(&db->rl);
    db->cache = calloc(1, sizeof *db->cache);
    if (db->cache == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    pthread_mutex_init(&db->cache->mu, NULL);
    if (db->fd < 0)
        JCALL(jdb_lock_open(abspath, false, &db->fd));
    JCALL(read_header(db->fd, &db->hdr));
    db->cb_page = db->hdr.cb_page;
    db->cb_record = db->hdr.cb_record;
    if (db->cb_record < 8 || db->cb_record > 1024 || db->cb_record > db->cb_page - JF_PAGE_HDR) {
        rc = JET_errDatabaseCorrupted;
        goto out;
    }
    db->recs_per_page = (db->cb_page - JF_PAGE_HDR) / db->cb_record;
    if (jos_fstat(db->fd, &st) != 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    {
        uint64_t pages = (uint64_t)st.st_size / db->cb_page;
        db->cache->pgno_file = pages > 2 ? (uint32_t)(pages - 2) : 0;
        db->cache->pgno_last = db->cache->pgno_file;
        if (db->hdr.pgno_last > db->cache->pgno_last)
            db->cache->pgno_last = db->hdr.pgno_last;
    }
    *pdb = db;
    db = NULL;
out:
    if (db != NULL)
        jdb_close(db);
    return rc;
}

/* jdb_close -- free the database (pages not flushed are lost: callers
 * flush first).  Safe on a partially opened db. */
void jdb_close(jet_db *db)
{
    if (db == NULL)
        return;
    if (db->cache != NULL) {
        for (unsigned b = 0; b < CACHE_BUCKETS; b++) {
            cpage *p = db->cache->bucket[b];
            while (p != NULL) {
                cpage *n = p->next;
                free(p->data);
                free(p);
                p = n;
            }
        }
        pthread_mutex_destroy(&db->cache->mu);
        free(db->cache);
    }
    if (db->fd >= 0)
        jos_close(db->fd);
    jrl_destroy(&db->rl);
    pthread_mutex_destroy(&db->hdr_lock);
    free(db);
}

/* jdb_pgno_last -- logical last page. */
uint32_t jdb_pgno_last(jet_db *db)
{
    uint32_t v;
    pthread_mutex_lock(&db->cache->mu);
    v = db->cache->pgno_last;
    pthread_mutex_unlock(&db->cache->mu);
    return v;
}

/* jdb_header_snapshot -- copy of the in-memory header. */
void jdb_header_snapshot(jet_db *db, jf_dbhdr *out)
{
    pthread_mutex_lock(&db->hdr_lock);
    *out = db->hdr;
    pthread_mutex_unlock(&db->hdr_lock);
}

/* jdb_update_header -- fn(h) then write both copies durably.  On a write
 * failure the in-memory header keeps the change (the file may hold either
 * copy); the error is returned. */
JET_ERR jdb_update_header(jet_db *db, void (*fn)(jf_dbhdr *h, void *arg), void *arg)
{
    JET_ERR rc;
    pthread_mutex_lock(&db->hdr_lock);
    if (fn != NULL)
        fn(&db->hdr, arg);
    db->hdr.pgno_last = jdb_pgno_last(db);
    rc = write_header(db->inst, db->fd, &db->hdr, db->cb_page);
    pthread_mutex_unlock(&db->hdr_lock);
    return rc;
}

/* Find page pgno in the cache.  cache->mu held. */
static cpage *cache_find(jet_cache *c, uint32_t pgno)
{
    cpage *p = c->bucket[pgno % CACHE_BUCKETS];
    while (p != NULL && p->pgno != pgno)
        p = p->next;
    return p;
}

/* Evict clean pages until under budget (or none clean).  cache->mu held. */
static void cache_trim(jet_cache *c)
{
    unsigned scanned = 0;
    while (c->npages > CACHE_MAX_PAGES && scanned < CACHE_BUCKETS) {
        unsigned b = c->evict_hand++ % CACHE_BUCKETS;
        cpage **pp = &c->bucket[b];
        scanned++;
        while (*pp != NULL && c->npages > CACHE_MAX_PAGES) {
            cpage *p = *pp;
            if (p->dirty || p->writing || p->pins > 0) {
                pp = &p->next;
                continue;
            }
            *pp = p->next;
            free(p->data);
            free(p);
            c->npages--;
        }
    }
}

/* Get page pgno into the cache, reading it from the file (verified) when
 * missing; pages past the end of the file start blank.  cache->mu held.
 * Errors: JET_errReadVerifyFailure, JET_errReadPgnoVerifyFailure,
 * JET_errDiskIO, JET_errOutOfMemory. */
static JET_ERR cache_get(jet_db *db, uint32_t pgno, cpage **pp)
{
    jet_cache *c = db->cache;
    JET_ERR rc = JET_errSuccess;
    cpage *p = cache_find(c, pgno);
    if (p != NULL) {
        *pp = p;
        return JET_errSuccess;
    }
    if (c->npages >= CACHE_MAX_PAGES)
        cache_trim(c); /* before inserting: never evicts the page returned */
    p = calloc(1, sizeof *p);
    if (p == NULL || posix_memalign((void **)&p->data, 4096, db->cb_page) != 0) {
        free(p);
        return JET_errOutOfMemory;
    }
    p->pgno = pgno;
    if (pgno <= c->pgno_file) {
        rc = pread_full(db->fd, p->data, db->cb_page, pg_off(db, pgno));
        if (rc == 0)
            rc = jf_page_verify(p->data, db->cb_page, pgno);
    } else {
        memset(p->data, 0, db->cb_page);
    }
    if (rc < 0) {
        free(p->data);
        free(p);
        return rc;
    }
    p->next = c->bucket[pgno % CACHE_BUCKETS];
    c->bucket[pgno % CACHE_BUCKETS] = p;
    c->npages++;
    if (pgno > c->pgno_last)
        c->pgno_last = pgno;
    *pp = p;
    return JET_errSuccess;
}

/*
 * jdb_read_record -- copy cb bytes of record recno (committed state as
 * applied to the cache).  Records past the end read as zeros.
 */
JET_ERR jdb_read_record(jet_db *db, uint64_t recno, void *pv, uint32_t cb)
{
    uint64_t pg = 1 + recno / db->recs_per_page;
    uint32_t off = JF_PAGE_HDR + (uint32_t)(recno % db->recs_per_page) * db->cb_record;
    cpage *p;
    JET_ERR rc;
    if (pg > UINT32_MAX - 3)
        return JET_errRecordNotFound;
    pthread_mutex_lock(&db->cache->mu);
    if (pg > db->cache->pgno_last && pg > db->cache->pgno_file) {
        memset(pv, 0, cb);
        rc = JET_errSuccess;
    } else {
        rc = cache_get(db, (uint32_t)pg, &p);
        if (rc == 0)
            memcpy(pv, p->data + off, cb);
    }
    pthread_mutex_unlock(&db->cache->mu);
    return rc;
}

/*
 * jdb_pin_record -- see jet_int.h.  Takes cache->mu.
 */
JET_ERR jdb_pin_record(jet_db *db, uint64_t recno)
{
    uint64_t pg = 1 + recno / db->recs_per_page;
    cpage *p;
    JET_ERR rc;
    if (pg > UINT32_MAX - 3)
        return JET_errRecordNotFound;
    pthread_mutex_lock(&db->cache->mu);
    rc = cache_get(db, (uint32_t)pg, &p);
    if (rc == 0)
        p->pins++;
    pthread_mutex_unlock(&db->cache->mu);
    return rc;
}

/* jdb_unpin_record -- undo one jdb_pin_record.  Takes cache->mu. */
void jdb_unpin_record(jet_db *db, uint64_t recno)
{
    uint64_t pg = 1 + recno / db->recs_per_page;
    cpage *p;
    pthread_mutex_lock(&db->cache->mu);
    p = pg <= UINT32_MAX - 3 ? cache_find(db->cache, (uint32_t)pg) : NULL;
    if (p != NULL && p->pins > 0)
        p->pins--;
    pthread_mutex_unlock(&db->cache->mu);
}

/*
 * jdb_apply_write -- store a committed after-image in the cache and mark
 * the page dirty with lsn.  Called under the log lock (log order).  When
 * the caller pinned the record's page (jdb_pin_record) this cannot fail:
 * the page is found in the cache and nothing is allocated or read.
 */
JET_ERR jdb_apply_write(jet_db *db, uint64_t recno, const void *pv, uint32_t cb, uint64_t lsn)
{
    uint64_t pg = 1 + recno / db->recs_per_page;
    uint32_t off = JF_PAGE_HDR + (uint32_t)(recno % db->recs_per_page) * db->cb_record;
    cpage *p;
    JET_ERR rc;
    if (pg > UINT32_MAX - 3 || cb > db->cb_record)
        return JET_errInvalidParameter;
    pthread_mutex_lock(&db->cache->mu);
    p = cache_find(db->cache, (uint32_t)pg);
    rc = p != NULL ? JET_errSuccess : cache_get(db, (uint32_t)pg, &p);
    if (rc == 0) {
        memcpy(p->data + off, pv, cb);
        if (!p->dirty)
            db->cache->ndirty++;
        p->dirty = true;
        if (lsn > p->lsn)
            p->lsn = lsn;
    }
    pthread_mutex_unlock(&db->cache->mu);
    return rc;
}

/* Collect the page numbers of dirty pages (caller frees).  cache->mu held. */
static uint32_t *dirty_list(jet_cache *c, uint32_t *pn)
{
    uint32_t n = 0, *v = malloc(((size_t)c->ndirty + 1) * sizeof *v);
    if (v == NULL)
        return NULL;
    for (unsigned b = 0; b < CACHE_BUCKETS && n < c->ndirty; b++)
        for (cpage *p = c->bucket[b]; p != NULL; p = p->next)
            if (p->dirty && n < c->ndirty)
                v[n++] = p->pgno;
    *pn = n;
    return v;
}

/* Ascending order for sequential writes. */
static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/*
 * jdb_flush -- write every dirty page (log made durable first up to each
 * page's LSN), fsync the file.  A page dirtied again while being written
 * stays dirty for the next flush.  Errors: JET_errDiskIO, JET_errDiskFull,
 * JET_errLogWriteFail, JET_errOutOfMemory.
 */
JET_ERR jdb_flush(jet_db *db)
{
    jet_cache *c = db->cache;
    uint32_t n = 0, *list = NULL;
    uint8_t *buf = NULL;
    JET_ERR rc = JET_errSuccess;

    if (posix_memalign((void **)&buf, 4096, db->cb_page) != 0)
        return JET_errOutOfMemory;
    pthread_mutex_lock(&c->mu);
    list = dirty_list(c, &n);
    pthread_mutex_unlock(&c->mu);
    if (list == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    qsort(list, n, sizeof *list, cmp_u32);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t lsn;
        cpage *p;
        pthread_mutex_lock(&c->mu);
        p = cache_find(c, list[i]);
        if (p == NULL || !p->dirty) {
            pthread_mutex_unlock(&c->mu);
            continue;
        }
        memcpy(buf, p->data, db->cb_page);
        lsn = p->lsn;
        p->dirty = false;
        p->writing = true; /* not evictable until the file holds this copy */
        c->ndirty--;
        pthread_mutex_unlock(&c->mu);

        rc = jlog_flush_to(db->inst->log, lsn);
        if (rc == 0) {
            jf_page_seal(buf, db->cb_page, list[i]);
            jrl_lock(&db->rl, list[i], list[i]);
            rc = pwrite_full(db->fd, buf, db->cb_page, pg_off(db, list[i]));
            jrl_unlock(&db->rl, list[i], list[i]);
        }
        pthread_mutex_lock(&c->mu);
        p = cache_find(c, list[i]); /* still there: writing pages stay */
        if (p != NULL) {
            p->writing = false;
            if (rc < 0 && !p->dirty) {
                p->dirty = true;
                c->ndirty++;
            }
        }
        /* the file holds the page now: a re-read after eviction must not
         * take it for a blank page past the end */
        if (rc == 0 && list[i] > c->pgno_file)
            c->pgno_file = list[i];
        pthread_mutex_unlock(&c->mu);
        if (rc < 0)
            goto out;
    }
    if (jos_fdatasync(db->fd) != 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    pthread_mutex_lock(&c->mu);
    cache_trim(c);
    pthread_mutex_unlock(&c->mu);
out:
    free(list);
    free(buf);
    return rc;
}

/*
 * jdb_read_pages_raw -- backup read of pages pgno..pgno+cpg-1 straight
 * from the file under the range lock; each page verified (blank passes).
 * A failing chunk is re-read up to 3 more times before giving up.
 */
JET_ERR jdb_read_pages_raw(jet_db *db, uint32_t pgno, uint32_t cpg, void *buf)
{
    JET_ERR rc = JET_errSuccess;
    uint8_t *b = buf;
    if (cpg == 0)
        return JET_errSuccess;
    for (int attempt = 0; attempt < 4; attempt++) {
        jrl_lock(&db->rl, pgno, pgno + cpg - 1);
        rc = pread_full(db->fd, b, (size_t)cpg * db->cb_page, pg_off(db, pgno));
        jrl_unlock(&db->rl, pgno, pgno + cpg - 1);
        if (rc < 0)
            continue;
        for (uint32_t i = 0; i < cpg; i++) {
            rc = jf_page_verify(b + (size_t)i * db->cb_page, db->cb_page, pgno + i);
            if (rc < 0)
                break;
        }
        if (rc == 0)
            break;
    }
    return rc;
}

/* JetLibVerifyDatabaseFile -- see jetlib.h. */
JET_ERR JetLibVerifyDatabaseFile(const char *path, unsigned long long *pcpages,
                                 unsigned long long *pbadpgno)
{
    jf_dbhdr h;
    struct stat st;
    uint8_t *buf = NULL;
    JET_ERR rc;
    int fd = -1;
    uint64_t npages, chunk = 256;
    if (pcpages)
        *pcpages = 0;
    if (pbadpgno)
        *pbadpgno = 0;
    JCALL(jdb_read_header_file(path, &h));
    fd = jos_open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || jos_fstat(fd, &st) != 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    npages = (uint64_t)st.st_size / h.cb_page;
    npages = npages > 2 ? npages - 2 : 0;
    if (posix_memalign((void **)&buf, 4096, chunk * h.cb_page) != 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    for (uint64_t pg = 1; pg <= npages; pg += chunk) {
        uint64_t n = npages - pg + 1 < chunk ? npages - pg + 1 : chunk;
        JCALL(pread_full(fd, buf, n * h.cb_page, (off_t)(pg + 1) * h.cb_page));
        for (uint64_t i = 0; i < n; i++) {
            rc = jf_page_verify(buf + i * h.cb_page, h.cb_page, (uint32_t)(pg + i));
            if (rc < 0) {
                if (pbadpgno)
                    *pbadpgno = pg + i;
                goto out;
            }
        }
    }
    if (pcpages)
        *pcpages = npages;
out:
    free(buf);
    if (fd >= 0)
        jos_close(fd);
    return rc;
}
