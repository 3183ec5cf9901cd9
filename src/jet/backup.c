/*
 * backup.c -- ESE's external (streaming) backup API for libjet:
 * JetBeginExternalBackupInstance .. JetEndExternalBackupInstance2,
 * JetStopBackupInstance, and the engine hooks jbk_*.
 *
 * Behaviour follows /work/shared/ese-backup-spec.md sections 2-5 (cited as
 * "spec 2.6" etc.); the state machine and every deliberate difference from
 * ESE are described in docs/backup.md.
 *
 * Locking: every API call takes inst->bk_lock for its whole duration (the
 * backup calls of one instance serialise).  bk_lock is outermost; inside
 * it we take inst->lock (dbs[], bk_active, parameters), db->hdr_lock (via
 * jdb_header_snapshot / jdb_update_header), the range lock (via
 * jdb_read_pages_raw) and the log lock (via jlog_*), never the other way
 * round.  The engine never takes bk_lock; it only reads inst->bk_active
 * (written here under inst->lock, atomically).
 *
 * Databases cannot be attached or detached while inst->bk_active is set,
 * so the jet_db pointers seen at Begin stay valid until the backup ends.
 */
#include "config.h"

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

#define BK_ALIGN 4096u     /* OS page: required alignment of pv */
#define BK_CHUNK_PAGES 64u /* pages per jdb_read_pages_raw call */

enum bk_phase { BK_NONE, BK_DATABASES, BK_LOGS };

/* The single open backup file (ESE crhfMax = 1: the handle is always 0). */
struct bk_file {
    bool in_use;
    bool is_db;
    jet_db *db;              /* is_db */
    int fd;                  /* !is_db, else -1 */
    uint64_t ib;             /* next stream offset */
    uint64_t size;           /* stream size, fixed at open */
    uint32_t cb_page;        /* db: page size of the database */
    uint32_t pgno_last;      /* db: N at open */
    uint8_t *hdr_page;       /* db: encoded header snapshot (cb_page) */
    uint32_t gen;            /* log: generation from the name, 0 = other */
    uint8_t seg[JF_SEGMENT]; /* log: partial segment being verified */
    uint32_t seg_fill;
    uint64_t verified; /* log: bytes verified so far */
};

struct jet_backup {
    bool in_progress;
    bool full;
    bool stop; /* JetStopBackupInstance was called */
    enum bk_phase phase;
    bool logs_prepared; /* GetLogInfo rolled the log (spec 2.2 step 6) */
    bool truncated;     /* JetTruncateLogInstance succeeded */
    jf_lgpos mark;      /* backup mark (log tip at Begin) */
    jf_logtime mark_time;
    jf_lgpos prep_mark; /* position of the PrepareLogs record */
    jf_logtime prep_time;
    uint32_t copy_mic, copy_mac;
    uint32_t delete_mic, delete_mac;
    uint64_t gen_copy_done; /* sum of the generations fully read */
    struct bk_file f;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                        */

/* Current time as a LOGTIME.  No errors. */
static jf_logtime bk_now(void)
{
    jf_logtime lt;
    jf_logtime_from_time(&lt, (int64_t)time(NULL));
    return lt;
}

/* Write inst->bk_active under inst->lock (the engine reads it there or
 * atomically).  Takes inst->lock; caller holds bk_lock. */
static void bk_set_active(jet_inst *inst, bool v)
{
    pthread_mutex_lock(&inst->lock);
    __atomic_store_n(&inst->bk_active, v, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&inst->lock);
}

/* Copy the attached databases (dbid order) into out[]; returns the count.
 * Takes inst->lock. */
static unsigned bk_dbs(jet_inst *inst, jet_db **out)
{
    unsigned n = 0;
    pthread_mutex_lock(&inst->lock);
    for (unsigned i = 1; i <= JF_MAX_DBS; i++)
        if (inst->dbs[i] != NULL)
            out[n++] = inst->dbs[i];
    pthread_mutex_unlock(&inst->lock);
    return n;
}

/* Append an informational JF_LR_BACKUP record (best effort is the
 * caller's choice).  *ppos gets its position if ppos != NULL.
 * Errors: those of jlog_append. */
static JET_ERR bk_log_event(jet_inst *inst, uint32_t event, jf_lgpos *ppos)
{
    uint8_t body[4];
    jf_lgpos pos;
    uint64_t lsn;
    JET_ERR rc;

    if (inst->log == NULL)
        return JET_errLogWriteFail;
    jf_put32(body, event);
    rc = jlog_append(inst->log, JF_LR_BACKUP, body, sizeof body, &pos, &lsn);
    if (rc >= 0 && ppos != NULL)
        *ppos = pos;
    return rc;
}

/* Release the open backup file (if any).  A database handle leaves the
 * database's session flags alone; the caller decides.  No errors. */
static void bk_file_release(struct bk_file *f)
{
    if (f->fd >= 0)
        jos_close(f->fd);
    free(f->hdr_page);
    memset(f, 0, sizeof *f);
    f->fd = -1;
}

/* Forget every per-backup field and mark the context idle.  Does not
 * touch inst->bk_active.  Caller holds bk_lock. */
static void bk_reset(jet_backup *bk)
{
    bk_file_release(&bk->f);
    struct bk_file keep = bk->f;
    memset(bk, 0, sizeof *bk);
    bk->f = keep;
    bk->phase = BK_NONE;
}

/* End the running backup without any header update (spec 2.7 "abort"):
 * close the file, log an Abort record (best effort), reset the context,
 * clear inst->bk_active.  Caller holds bk_lock. */
static void bk_abort(jet_inst *inst, jet_backup *bk)
{
    jet_db *dbs[JF_MAX_DBS];
    unsigned n = bk_dbs(inst, dbs);

    for (unsigned i = 0; i < n; i++) {
        dbs[i]->bk_in_session = false;
        dbs[i]->bk_copy_done = false;
    }
    (void)bk_log_event(inst, JF_BK_ABORT, NULL);
    bk_reset(bk);
    bk_set_active(inst, false);
}

/* Resolve an instance handle and take its backup lock.  On success the
 * caller owns (*pinst)->bk_lock.  Errors: JET_errInvalidInstance (not a
 * live instance), JET_errNotInitialized (no backup context). */
static JET_ERR bk_enter(JET_INSTANCE instance, jet_inst **pinst)
{
    jet_inst *inst = jinst_get(instance);

    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->bk_lock);
    if (inst->bk == NULL) {
        pthread_mutex_unlock(&inst->bk_lock);
        return JET_errNotInitialized;
    }
    *pinst = inst;
    return JET_errSuccess;
}

/* The common entry checks of the calls that need a backup in progress
 * and not stopped: -520 (none), -801 (stopped).  Caller holds bk_lock. */
static JET_ERR bk_check_running(const jet_backup *bk)
{
    if (!bk->in_progress)
        return JET_errNoBackup;
    if (bk->stop)
        return JET_errBackupAbortByServer;
    return JET_errSuccess;
}

/* Return a multi-string in the ANSI-variant convention (spec 4.1): a size
 * query when szz is NULL or cbMax is 0 (*pcb = size, success); a buffer
 * smaller than the list gives JET_errBufferTooSmall (*pcb = size, buffer
 * untouched); otherwise the list is copied and *pcb = size. */
static JET_ERR bk_put_list(const char *list, size_t cb_list, char *szz, unsigned long cb_max,
                           unsigned long *pcb)
{
    if (pcb != NULL)
        *pcb = (unsigned long)cb_list;
    if (szz == NULL || cb_max == 0)
        return JET_errSuccess;
    if (cb_max < cb_list)
        return JET_errBufferTooSmall;
    memcpy(szz, list, cb_list);
    return JET_errSuccess;
}

/* Make name absolute (relative to the working directory) and resolve the
 * directory part with realpath when it exists.  Errors:
 * JET_errInvalidPath (too long / no cwd). */
static JET_ERR bk_abspath(const char *name, char *out, size_t cb)
{
    char tmp[JF_PATH_MAX], dir[PATH_MAX];
    int n;

    if (name[0] == '/') {
        n = snprintf(tmp, sizeof tmp, "%s", name);
    } else {
        char cwd[JF_PATH_MAX];
        if (getcwd(cwd, sizeof cwd) == NULL)
            return JET_errInvalidPath;
        n = snprintf(tmp, sizeof tmp, "%s/%s", cwd, name);
    }
    if (n < 0 || (size_t)n >= sizeof tmp)
        return JET_errInvalidPath;
    char *slash = strrchr(tmp, '/');
    *slash = '\0';
    const char *d = tmp[0] != '\0' ? tmp : "/";
    if (jos_realpath(d, dir) != NULL) {
        n = snprintf(out, cb, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", slash + 1);
    } else {
        n = snprintf(out, cb, "%s/%s", tmp, slash + 1);
    }
    if (n < 0 || (size_t)n >= cb)
        return JET_errInvalidPath;
    return JET_errSuccess;
}

/* ------------------------------------------------------------------ */
/* engine hooks                                                         */

/* Allocate the backup context.  Called once at JetCreateInstance before
 * the instance is visible to other threads; inst->bk_lock is initialised
 * (and destroyed) by instance.c.  Errors: JET_errOutOfMemory. */
JET_ERR jbk_create(jet_inst *inst)
{
    jet_backup *bk = calloc(1, sizeof *bk);

    if (bk == NULL)
        return JET_errOutOfMemory;
    bk->f.fd = -1;
    inst->bk = bk;
    inst->bk_active = false;
    return JET_errSuccess;
}

/* Free the backup context (closing any open file).  The instance must no
 * longer be reachable by other threads. */
void jbk_destroy(jet_inst *inst)
{
    if (inst->bk == NULL)
        return;
    bk_file_release(&inst->bk->f);
    free(inst->bk);
    inst->bk = NULL;
}

/* JetTerm hook (spec 2.5).  With stop, a running backup is ended as an
 * abort (no header update, nothing truncated) and JET_errSuccess is
 * returned; without stop a running backup gives JET_errBackupInProgress
 * and nothing changes.  Takes bk_lock (the caller must not hold
 * inst->lock). */
JET_ERR jbk_on_term(jet_inst *inst, bool stop)
{
    JET_ERR rc = JET_errSuccess;

    if (inst->bk == NULL)
        return JET_errSuccess;
    pthread_mutex_lock(&inst->bk_lock);
    if (inst->bk->in_progress) {
        if (!stop)
            rc = JET_errBackupInProgress;
        else
            bk_abort(inst, inst->bk);
    }
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* true while a backup is in progress.  Lock-free read of inst->bk_active
 * (the caller may hold inst->lock, which makes it consistent with Begin). */
bool jbk_in_progress(jet_inst *inst)
{
    return __atomic_load_n(&inst->bk_active, __ATOMIC_ACQUIRE);
}

/* ------------------------------------------------------------------ */
/* Begin                                                                */

/* true if the database has a usable previous full backup (spec 2.3). */
static bool bk_has_full(jet_db *db)
{
    jf_dbhdr h;
    jdb_header_snapshot(db, &h);
    return h.full_prev.gen_low != 0 && h.type_full_prev == JF_BKTYPE_NORMAL;
}

/* The checks of JetBeginExternalBackupInstance before anything changes,
 * in its order: -523 not initialised/terminating, -516 recovery off, -900
 * grbit not in {0, Incremental}, -526 incremental with circular logging,
 * -505 backup running.  JET_errSuccess, or that error.  Called with
 * inst->bk_lock held; takes and releases inst->lock. */
static JET_ERR bk_begin_check(jet_inst *inst, JET_GRBIT grbit)
{
    bool allowed, recovery, circular, incremental = (grbit & JET_bitBackupIncremental) != 0;

    pthread_mutex_lock(&inst->lock);
    allowed = inst->bk_allowed;
    recovery = inst->recovery;
    circular = inst->circular;
    pthread_mutex_unlock(&inst->lock);

    if (!allowed || inst->log == NULL)
        return JET_errBackupNotAllowedYet;
    if (!recovery)
        return JET_errLoggingDisabled;
    if ((grbit & ~(JET_GRBIT)JET_bitBackupIncremental) != 0)
        return JET_errInvalidGrbit;
    if (incremental && circular)
        return JET_errInvalidBackup;
    if (inst->bk->in_progress)
        return JET_errBackupInProgress;
    return JET_errSuccess;
}

/* JetBeginExternalBackupInstance (spec 2.2 step 1, 2.3).  Errors in this
 * order: -1115 bad instance, -523 not initialised/terminating, -516
 * recovery off, -900 grbit not in {0, Incremental}, -526 incremental with
 * circular logging, -505 backup running, -560 incremental without a
 * previous full of every attached db, -533/-542 checkpoint unreadable,
 * log append errors.  On error nothing stays changed. */
JET_ERR JET_API JetBeginExternalBackupInstance(JET_INSTANCE instance, JET_GRBIT grbit)
{
    jet_inst *inst;
    jet_backup *bk;
    jet_db *dbs[JF_MAX_DBS];
    bool incremental = (grbit & JET_bitBackupIncremental) != 0;
    bool activated = false;
    unsigned n = 0;
    jf_chk chk;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    bk = inst->bk;
    JCALL(bk_begin_check(inst, grbit));
    n = bk_dbs(inst, dbs);
    if (incremental) {
        for (unsigned i = 0; i < n; i++)
            if (!bk_has_full(dbs[i])) {
                rc = JET_errMissingFullBackup;
                goto out;
            }
    }
    bk_reset(bk);
    bk->full = !incremental;
    for (unsigned i = 0; i < n; i++) {
        dbs[i]->bk_in_session = incremental; /* full: a db joins when opened */
        dbs[i]->bk_copy_done = false;
    }
    /* Pin the logs before reading the checkpoint (circular logging). */
    bk_set_active(inst, true);
    activated = true;

    bk->mark = jlog_tip(inst->log);
    bk->mark_time = bk_now();
    if (!incremental) {
        JCALL(jinst_read_checkpoint(inst, &chk));
        bk->copy_mic = (uint32_t)chk.lgpos_checkpoint.gen;
    }
    JCALL(bk_log_event(inst, JF_BK_BEGIN, NULL));
    bk->in_progress = true;
    bk->stop = false;
    bk->phase = incremental ? BK_LOGS : BK_DATABASES;
    rc = JET_errSuccess;
out:
    if (rc < 0 && activated) {
        for (unsigned i = 0; i < n; i++)
            dbs[i]->bk_in_session = false;
        bk_reset(bk);
        bk_set_active(inst, false);
    }
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* JetLibCheckBackup (jetlib.h): the checks of JetBeginExternalBackupInstance
 * in its order, and the databases' stream sizes, with nothing changed (no
 * log record, no pin, no header write).  Takes bk_lock like Begin, and
 * reads the attached databases the way Begin does. */
JET_ERR JetLibCheckBackup(JET_INSTANCE instance, JET_GRBIT grbit, unsigned long long *pcbDatabases,
                          unsigned long *pcDatabases)
{
    jet_inst *inst;
    jet_db *dbs[JF_MAX_DBS];
    unsigned long long cb = 0;
    unsigned n;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    n = bk_dbs(inst, dbs);
    for (unsigned i = 0; i < n; i++)
        cb += ((unsigned long long)jdb_pgno_last(dbs[i]) + 3) * dbs[i]->cb_page;
    if (pcbDatabases != NULL)
        *pcbDatabases = cb;
    if (pcDatabases != NULL)
        *pcDatabases = n;
    JCALL(bk_begin_check(inst, grbit));
    if (grbit & JET_bitBackupIncremental) {
        for (unsigned i = 0; i < n; i++)
            if (!bk_has_full(dbs[i])) {
                rc = JET_errMissingFullBackup;
                goto out;
            }
    }
    rc = JET_errSuccess;
out:
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Attach info                                                          */

/* JetGetAttachInfoInstanceA (spec 4.1, ANSI size semantics).  Lists the
 * absolute paths of the attached databases in dbid order as a
 * multi-string.  Errors (no abort): -520, -801, -521 for an incremental
 * backup, -1038 buffer too small (cbMax != 0). */
JET_ERR JET_API JetGetAttachInfoInstanceA(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                          unsigned long *pcbActual)
{
    jet_inst *inst;
    jet_db *dbs[JF_MAX_DBS];
    char *list = NULL;
    size_t cb = 0;
    unsigned n;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    JCALL(bk_check_running(inst->bk));
    if (!inst->bk->full) {
        rc = JET_errInvalidBackupSequence;
        goto out;
    }
    n = bk_dbs(inst, dbs);
    list = malloc((size_t)n * JF_PATH_MAX + 1);
    if (list == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    for (unsigned i = 0; i < n; i++) {
        size_t len = strlen(dbs[i]->path);
        memcpy(list + cb, dbs[i]->path, len + 1);
        cb += len + 1;
    }
    list[cb++] = '\0';
    rc = bk_put_list(list, cb, szz, cbMax, pcbActual);
out:
    free(list);
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Open / Read / Close                                                  */

/* Open a database stream (spec 3.1): header snapshot with bkinfoFullCur,
 * size (N+3)*cbPage fixed now, the db joins the session.  Caller holds
 * bk_lock, the slot is free, phase is BK_DATABASES of a full backup.
 * Errors: JET_errOutOfMemory. */
static JET_ERR bk_open_db(jet_backup *bk, jet_db *db, uint64_t *psize)
{
    struct bk_file *f = &bk->f;
    jf_dbhdr h;

    f->hdr_page = calloc(1, db->cb_page);
    if (f->hdr_page == NULL)
        return JET_errOutOfMemory;
    jdb_header_snapshot(db, &h);
    h.full_cur.mark = bk->mark;
    h.full_cur.time = bk->mark_time;
    h.full_cur.gen_low = bk->copy_mic;
    h.full_cur.gen_high = 0;
    jf_dbhdr_encode(&h, f->hdr_page, db->cb_page);
    f->in_use = true;
    f->is_db = true;
    f->db = db;
    f->fd = -1;
    f->ib = 0;
    f->cb_page = db->cb_page;
    f->pgno_last = jdb_pgno_last(db); /* after the snapshot (spec 3.1) */
    f->size = ((uint64_t)f->pgno_last + 3) * db->cb_page;
    db->bk_in_session = true;
    db->bk_copy_done = false;
    *psize = f->size;
    return JET_errSuccess;
}

/* Open a log (or other) file in the log phase (spec 3.1): names with the
 * instance's log extension must parse as archived logs (else -1003);
 * missing / not a regular file -> -569.  Caller holds bk_lock; the caller
 * aborts the backup on any error. */
static JET_ERR bk_open_log(jet_inst *inst, jet_backup *bk, const char *abspath, uint64_t *psize)
{
    struct bk_file *f = &bk->f;
    const char *ext = jf_log_ext(inst->legacy);
    const char *base = strrchr(abspath, '/') + 1;
    size_t lb = strlen(base), le = strlen(ext);
    uint32_t gen = 0;
    struct stat st;
    int fd;

    if (lb >= le && strcasecmp(base + lb - le, ext) == 0) {
        if (jf_log_parse(base, inst->base, ext, &gen) < 0)
            return JET_errInvalidParameter;
    }
    fd = jos_open(abspath, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? JET_errMissingFileToBackup
               : errno == EACCES                   ? JET_errFileAccessDenied
                                                   : JET_errDiskIO;
    if (jos_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        jos_close(fd);
        return JET_errMissingFileToBackup;
    }
    f->in_use = true;
    f->is_db = false;
    f->fd = fd;
    f->ib = 0;
    f->size = (uint64_t)st.st_size;
    f->gen = gen;
    f->seg_fill = 0;
    f->verified = 0;
    *psize = f->size;
    return JET_errSuccess;
}

/* JetOpenFileInstanceA (spec 3.1, 2.6, 2.7).  The handle is always 0.
 * Errors without abort: -520, -801, -1003 (NULL/empty name or NULL out
 * pointer), -1011 (a file is already open), -1203 (not an attached db in
 * the DB phase), -1023 (path too long).  Errors that abort the backup:
 * -521 (db outside the DB phase of a full backup), and in the log phase
 * -1003 (bad log name), -569 (missing), -1032, -1022. */
JET_ERR JET_API JetOpenFileInstanceA(JET_INSTANCE instance, JET_PCSTR szFileName,
                                     JET_HANDLE *phfFile, unsigned long *pulFileSizeLow,
                                     unsigned long *pulFileSizeHigh)
{
    jet_inst *inst;
    jet_backup *bk;
    jet_db *db;
    char path[JF_PATH_MAX];
    uint64_t size = 0;
    bool abort_on_error = false;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    bk = inst->bk;
    JCALL(bk_check_running(bk));
    if (szFileName == NULL || szFileName[0] == '\0' || phfFile == NULL || pulFileSizeLow == NULL ||
        pulFileSizeHigh == NULL) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    if (bk->f.in_use) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    JCALL(bk_abspath(szFileName, path, sizeof path));

    pthread_mutex_lock(&inst->lock);
    db = jinst_find_db(inst, path);
    pthread_mutex_unlock(&inst->lock);

    if (db != NULL) {
        if (!bk->full || bk->phase != BK_DATABASES) {
            abort_on_error = true;
            rc = JET_errInvalidBackupSequence;
            goto out;
        }
        JCALL(bk_open_db(bk, db, &size));
    } else {
        if (bk->phase == BK_DATABASES) {
            rc = JET_errDatabaseNotFound;
            goto out;
        }
        abort_on_error = true;
        JCALL(bk_open_log(inst, bk, path, &size));
    }
    *phfFile = 0;
    *pulFileSizeLow = (unsigned long)(size & 0xFFFFFFFFu);
    *pulFileSizeHigh = (unsigned long)(size >> 32);
    rc = JET_errSuccess;
out:
    if (rc < 0 && abort_on_error)
        bk_abort(inst, bk);
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* Build the trailer page (spec 3.2 "Trailer") into page.  genHigh = the
 * current log generation now, max'ed with the live gen_max_committed. */
static void bk_make_trailer(jet_inst *inst, jet_backup *bk, jet_db *db, void *page)
{
    jf_dbhdr live;
    jf_trailer t;
    uint32_t gen_high = jlog_current_gen(inst->log);

    jdb_header_snapshot(db, &live);
    if (live.gen_max_committed > 0 && (uint32_t)live.gen_max_committed > gen_high)
        gen_high = (uint32_t)live.gen_max_committed;
    memset(&t, 0, sizeof t);
    t.bkinfo.mark = bk->mark;
    t.bkinfo.time = bk->mark_time;
    t.bkinfo.gen_low = bk->copy_mic;
    t.bkinfo.gen_high = gen_high;
    t.sign_db = live.sign_db;
    t.sign_log = live.sign_log;
    t.gen_min_req = live.gen_min_req;
    t.gen_max_req = live.gen_max_req;
    t.gen_max_committed = live.gen_max_committed;
    jf_trailer_encode(&t, page, db->cb_page);
}

/* Produce the next k pages of a database stream into out (spec 3.2):
 * stream page 0 and 1 = header snapshot, 2..N+1 = pgno 1..N straight from
 * the file (verified), N+2 = trailer built now.  Errors: those of
 * jdb_read_pages_raw (-1018, -1118, -1022). */
static JET_ERR bk_read_db(jet_inst *inst, jet_backup *bk, uint8_t *out, uint32_t k)
{
    struct bk_file *f = &bk->f;
    uint32_t cbp = f->cb_page, done = 0;
    uint64_t idx = f->ib / cbp;
    JET_ERR rc = JET_errSuccess;

    while (done < k) {
        uint64_t i = idx + done;
        uint8_t *dst = out + (size_t)done * cbp;
        if (i < JF_DB_RESERVED_PAGES) {
            memcpy(dst, f->hdr_page, cbp);
            done++;
        } else if (i <= (uint64_t)f->pgno_last + 1) {
            uint64_t run = (uint64_t)f->pgno_last + 2 - i;
            if (run > k - done)
                run = k - done;
            if (run > BK_CHUNK_PAGES)
                run = BK_CHUNK_PAGES;
            JCALL(jdb_read_pages_raw(f->db, (uint32_t)(i - 1), (uint32_t)run, dst));
            done += (uint32_t)run;
        } else {
            bk_make_trailer(inst, bk, f->db, dst);
            done++;
        }
    }
out:
    return rc;
}

/* Verify n more bytes of a log stream incrementally (spec 3.3): the
 * 4096-byte header (and its generation against the name), then every
 * segment.  last = these bytes end the file.  Errors: -612. */
static JET_ERR bk_verify_log(struct bk_file *f, const uint8_t *p, size_t n, bool last)
{
    while (n > 0) {
        size_t take = JF_SEGMENT - f->seg_fill;
        if (take > n)
            take = n;
        memcpy(f->seg + f->seg_fill, p, take);
        f->seg_fill += (uint32_t)take;
        p += take;
        n -= take;
        if (f->seg_fill < JF_SEGMENT)
            break;
        if (f->verified == 0) {
            jf_loghdr h;
            if (jf_loghdr_decode(f->seg, JF_SEGMENT, &h) < 0)
                return JET_errLogReadVerifyFailure;
            if (f->gen != 0 && (uint32_t)h.gen != f->gen)
                return JET_errLogReadVerifyFailure;
        } else {
            bool blank;
            uint64_t isec = f->verified / JF_SEGMENT;
            if (isec > UINT16_MAX || jf_seg_verify(f->seg, (uint16_t)isec, &blank) < 0)
                return JET_errLogReadVerifyFailure;
        }
        f->verified += JF_SEGMENT;
        f->seg_fill = 0;
    }
    if (last && f->seg_fill != 0)
        return JET_errLogReadVerifyFailure; /* not a whole number of segments */
    return JET_errSuccess;
}

/* Read n bytes of the open log at f->ib into out and verify them.
 * Errors: -612 (verification), -1022 (I/O, file shrank). */
static JET_ERR bk_read_log(struct bk_file *f, uint8_t *out, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = jos_pread(f->fd, out + got, n - got, (off_t)(f->ib + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return JET_errDiskIO;
        got += (size_t)r;
    }
    return bk_verify_log(f, out, n, f->ib + n == f->size);
}

/* JetReadFileInstance (spec 3.2, 3.3).  Errors without abort: -520, -801,
 * -1003 (no open file / handle != 0 / pv not 4096-aligned / cb not a
 * multiple of the page size / first read of a db < 3 pages or of a log
 * < 2 pages).  DB read errors (-1018, -1118, -1022) drop that db: the
 * handle is closed, the backup continues.  Log read errors (-612, -1022)
 * abort the backup.  After the end of the stream: success, 0 bytes. */
JET_ERR JET_API JetReadFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile, void *pv,
                                    unsigned long cb, unsigned long *pcb)
{
    jet_inst *inst;
    jet_backup *bk;
    struct bk_file *f;
    uint32_t cbp;
    uint64_t n = 0;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    bk = inst->bk;
    f = &bk->f;
    if (pcb != NULL)
        *pcb = 0;
    JCALL(bk_check_running(bk));
    if (!f->in_use || hfFile != 0 || (pv == NULL && cb != 0)) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    cbp = f->is_db ? f->cb_page : inst->cb_page;
    if (((uintptr_t)pv % BK_ALIGN) != 0 || cb % cbp != 0 ||
        (f->ib == 0 && cb / cbp < (f->is_db ? 3u : 2u))) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    n = f->size - f->ib;
    if (n > cb)
        n = cb;
    if (n == 0)
        goto out;
    if (f->is_db) {
        rc = bk_read_db(inst, bk, pv, (uint32_t)(n / cbp));
        if (rc < 0) {
            f->db->bk_in_session = false; /* drop this db (spec 2.7) */
            f->db->bk_copy_done = false;
            bk_file_release(f);
            n = 0;
            goto out;
        }
    } else {
        rc = bk_read_log(f, pv, (size_t)n);
        if (rc < 0) {
            n = 0;
            bk_abort(inst, bk);
            goto out;
        }
    }
    f->ib += n;
    if (pcb != NULL)
        *pcb = (unsigned long)n;
    rc = JET_errSuccess;
out:
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* JetCloseFileInstance (spec 3.4).  Works after Stop.  Errors: -520,
 * -1003 (no open file or handle != 0).  A fully read db is marked "copy
 * done"; a fully read log in [CopyMic, CopyMac-1] adds its generation to
 * the copy sum. */
JET_ERR JET_API JetCloseFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile)
{
    jet_inst *inst;
    jet_backup *bk;
    struct bk_file *f;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    bk = inst->bk;
    f = &bk->f;
    if (!bk->in_progress) {
        rc = JET_errNoBackup;
        goto out;
    }
    if (!f->in_use || hfFile != 0) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    if (f->ib == f->size) {
        if (f->is_db)
            f->db->bk_copy_done = true;
        else if (bk->logs_prepared && f->gen >= bk->copy_mic && f->gen < bk->copy_mac &&
                 f->gen != 0)
            bk->gen_copy_done += f->gen;
    }
    bk_file_release(f);
    rc = JET_errSuccess;
out:
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Log info / truncation                                                */

/* First GetLogInfo/GetTruncateLogInfo call: PrepareLogs record, log roll,
 * copy and delete ranges (spec 2.2 step 6, 2.3).  Caller holds bk_lock,
 * no file is open.  Errors (no abort, spec 2.7): log append/roll errors,
 * -1811 (no archived log on disk), -569 (incremental gap), -533/-542. */
static JET_ERR bk_prepare_logs(jet_inst *inst, jet_backup *bk)
{
    jet_db *dbs[JF_MAX_DBS];
    unsigned n = bk_dbs(inst, dbs);
    uint32_t gen, oldest, del_mac;
    jf_chk chk;
    jf_dbhdr h;
    JET_ERR rc;

    JCALL(bk_log_event(inst, JF_BK_PREPARE_LOGS, &bk->prep_mark));
    bk->prep_time = bk_now();
    JCALL(jlog_roll(inst->log, &gen));
    bk->copy_mac = gen;
    JCALL(jlog_oldest_gen(inst, &oldest));
    if (!bk->full) {
        bk->copy_mic = oldest;
        for (unsigned i = 0; i < n; i++) {
            uint32_t hi;
            jdb_header_snapshot(dbs[i], &h);
            hi = h.full_prev.gen_high > h.inc_prev.gen_high ? h.full_prev.gen_high
                                                            : h.inc_prev.gen_high;
            if ((uint64_t)oldest > (uint64_t)hi + 1) {
                rc = JET_errMissingFileToBackup;
                goto out;
            }
        }
    }
    JCALL(jinst_read_checkpoint(inst, &chk));
    del_mac = (uint32_t)chk.lgpos_checkpoint.gen;
    if (del_mac > bk->copy_mac)
        del_mac = bk->copy_mac;
    if (bk->full) {
        for (unsigned i = 0; i < n; i++) {
            if (dbs[i]->bk_in_session && dbs[i]->bk_copy_done)
                continue;
            jdb_header_snapshot(dbs[i], &h);
            if (h.full_prev.gen_high < del_mac)
                del_mac = h.full_prev.gen_high;
        }
    }
    bk->delete_mac = del_mac;
    bk->delete_mic = oldest < del_mac ? oldest : del_mac;
    bk->phase = BK_LOGS;
    bk->logs_prepared = true;
    rc = JET_errSuccess;
out:
    return rc;
}

/* Common part of the three list calls: checks, first-call preparation,
 * then the names of [lo, hi) as absolute paths.  which: 0 = copy range,
 * 1 = delete range.  Errors: -520, -801, -521 (file open), preparation
 * errors; -1003 bad LOGINFO size; -1038 buffer too small. */
static JET_ERR bk_log_list(JET_INSTANCE instance, int which, char *szz, unsigned long cbMax,
                           unsigned long *pcbActual, JET_LOGINFO_A *pli)
{
    jet_inst *inst;
    jet_backup *bk;
    char *list = NULL;
    size_t cb = 0;
    uint32_t lo, hi;
    JET_ERR rc;

    if (pli != NULL && pli->cbSize != sizeof(JET_LOGINFO_A))
        return JET_errInvalidParameter;
    rc = bk_enter(instance, &inst);
    if (rc < 0)
        return rc;
    bk = inst->bk;
    JCALL(bk_check_running(bk));
    if (bk->f.in_use) {
        rc = JET_errInvalidBackupSequence;
        goto out;
    }
    if (!bk->logs_prepared)
        JCALL(bk_prepare_logs(inst, bk));
    lo = which == 0 ? bk->copy_mic : bk->delete_mic;
    hi = which == 0 ? bk->copy_mac : bk->delete_mac;
    list = malloc((size_t)(hi > lo ? hi - lo : 0) * JF_PATH_MAX + 1);
    if (list == NULL) {
        rc = JET_errOutOfMemory;
        bk_abort(inst, bk); /* list building failure aborts (spec 2.7) */
        goto out;
    }
    for (uint32_t g = lo; g < hi; g++) {
        jinst_log_path(inst, g, list + cb, JF_PATH_MAX);
        cb += strlen(list + cb) + 1;
    }
    list[cb++] = '\0';
    if (pli != NULL) {
        pli->ulGenLow = bk->copy_mic;
        pli->ulGenHigh = bk->copy_mac - 1;
        memset(pli->szBaseName, 0, sizeof pli->szBaseName);
        memcpy(pli->szBaseName, inst->base, strnlen(inst->base, JET_BASE_NAME_LENGTH));
    }
    rc = bk_put_list(list, cb, szz, cbMax, pcbActual);
out:
    free(list);
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* JetGetLogInfoInstanceA (spec 4.2): logs CopyMic..CopyMac-1. */
JET_ERR JET_API JetGetLogInfoInstanceA(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                       unsigned long *pcbActual)
{
    return bk_log_list(instance, 0, szz, cbMax, pcbActual, NULL);
}

/* JetGetLogInfoInstance2A (spec 4.2): as above plus JET_LOGINFO (cbSize
 * must be sizeof(JET_LOGINFO_A), else -1003 before anything else). */
JET_ERR JET_API JetGetLogInfoInstance2A(JET_INSTANCE instance, char *szz, unsigned long cbMax,
                                        unsigned long *pcbActual, JET_LOGINFO_A *pLogInfo)
{
    return bk_log_list(instance, 0, szz, cbMax, pcbActual, pLogInfo);
}

/* JetGetTruncateLogInfoInstanceA (spec 4.3): logs DeleteMic..DeleteMac-1
 * (possibly the empty list "\0"). */
JET_ERR JET_API JetGetTruncateLogInfoInstanceA(JET_INSTANCE instance, char *szz,
                                               unsigned long cbMax, unsigned long *pcbActual)
{
    return bk_log_list(instance, 1, szz, cbMax, pcbActual, NULL);
}

/* JetTruncateLogInstance (spec 5.1).  Errors in order: -520, -801, -521
 * (file open), -521 (GetLogInfo not called), -616 (not every log in
 * [CopyMic, CopyMac-1] was fully read; nothing deleted, no abort), then
 * the first deletion failure (-1022).  Deletes DeleteMic..DeleteMac-1. */
JET_ERR JET_API JetTruncateLogInstance(JET_INSTANCE instance)
{
    jet_inst *inst;
    jet_backup *bk;
    uint64_t need = 0;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    bk = inst->bk;
    JCALL(bk_check_running(bk));
    if (bk->f.in_use || !bk->logs_prepared || bk->copy_mic == 0 || bk->copy_mac == 0) {
        rc = JET_errInvalidBackupSequence;
        goto out;
    }
    for (uint32_t g = bk->copy_mic; g < bk->copy_mac; g++)
        need += g;
    if (bk->gen_copy_done < need) {
        rc = JET_errLogFileNotCopied;
        goto out;
    }
    bk->truncated = true;
    (void)bk_log_event(inst, JF_BK_TRUNCATE, NULL);
    if (bk->delete_mic < bk->delete_mac)
        JCALL(jlog_delete_range(inst, bk->delete_mic, bk->delete_mac));
    rc = JET_errSuccess;
out:
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* ------------------------------------------------------------------ */
/* End / Stop                                                           */

enum { SLOT_FULL, SLOT_COPY, SLOT_INC, SLOT_DIFF };

struct bk_hdr_update {
    int slot;
    jf_bkinfo info;
    bool truncated;
};

/* jdb_update_header callback: record one backup in the header's history
 * (spec 5.2): only if the new mark is >= the slot's; a truncated full
 * clears the incremental and differential slots; any truncated backup
 * clears bkinfoSnapshotCur. */
static void bk_hdr_update_fn(jf_dbhdr *h, void *arg)
{
    const struct bk_hdr_update *u = arg;
    jf_bkinfo *slot;
    uint32_t *type;

    switch (u->slot) {
    case SLOT_FULL:
        slot = &h->full_prev;
        type = &h->type_full_prev;
        break;
    case SLOT_COPY:
        slot = &h->copy_prev;
        type = &h->type_copy_prev;
        break;
    case SLOT_INC:
        slot = &h->inc_prev;
        type = &h->type_inc_prev;
        break;
    default:
        slot = &h->diff_prev;
        type = &h->type_diff_prev;
        break;
    }
    if (jf_lgpos_cmp(u->info.mark, slot->mark) < 0)
        return;
    *slot = u->info;
    *type = JF_BKTYPE_NORMAL;
    if (u->slot == SLOT_FULL) {
        memset(&h->inc_prev, 0, sizeof h->inc_prev);
        memset(&h->diff_prev, 0, sizeof h->diff_prev);
        h->type_inc_prev = JF_BKTYPE_NORMAL;
        h->type_diff_prev = JF_BKTYPE_NORMAL;
    }
    if (u->truncated)
        memset(&h->snapshot_cur, 0, sizeof h->snapshot_cur);
}

/* Normal completion: write the backup history into every db of the
 * session (spec 5.2).  Caller holds bk_lock.  Returns the first header
 * write error (the caller still reports success, as ESE does). */
static JET_ERR bk_update_headers(jet_inst *inst, jet_backup *bk, bool truncated)
{
    jet_db *dbs[JF_MAX_DBS];
    unsigned n = bk_dbs(inst, dbs);
    JET_ERR rc = JET_errSuccess;

    for (unsigned i = 0; i < n; i++) {
        struct bk_hdr_update u;
        JET_ERR r;
        if (!dbs[i]->bk_in_session)
            continue;
        memset(&u, 0, sizeof u);
        u.truncated = truncated;
        if (bk->full) {
            if (!dbs[i]->bk_copy_done)
                continue;
            u.slot = truncated ? SLOT_FULL : SLOT_COPY;
            u.info.mark = bk->mark;
            u.info.time = bk->mark_time;
        } else {
            u.slot = truncated ? SLOT_INC : SLOT_DIFF;
            u.info.mark = bk->prep_mark;
            u.info.time = bk->prep_time;
        }
        u.info.gen_low = bk->copy_mic;
        u.info.gen_high = bk->copy_mac - 1;
        (void)bk_log_event(inst, JF_BK_UPDATE, NULL);
        r = jdb_update_header(dbs[i], bk_hdr_update_fn, &u);
        if (r < 0 && rc >= 0)
            rc = r;
    }
    return rc;
}

/* JetEndExternalBackupInstance2 (spec 5.2).  Errors: -1003 unless exactly
 * one of EndNormal/EndAbort is set; -520 no backup.  Otherwise always
 * JET_errSuccess.  Normal completion (header history) happens only in the
 * log phase after GetLogInfo and without Stop; anything else is an abort.
 * Always closes the open file, ends the backup and unpins the logs. */
JET_ERR JET_API JetEndExternalBackupInstance2(JET_INSTANCE instance, JET_GRBIT grbit)
{
    jet_inst *inst;
    jet_backup *bk;
    jet_db *dbs[JF_MAX_DBS];
    bool normal = (grbit & JET_bitBackupEndNormal) != 0;
    bool abrt = (grbit & JET_bitBackupEndAbort) != 0;
    unsigned n;
    JET_ERR rc;

    if (normal == abrt)
        return JET_errInvalidParameter;
    rc = bk_enter(instance, &inst);
    if (rc < 0)
        return rc;
    bk = inst->bk;
    if (!bk->in_progress) {
        rc = JET_errNoBackup;
        goto out;
    }
    bk_file_release(&bk->f);
    if (normal && !bk->stop && bk->phase == BK_LOGS && bk->logs_prepared) {
        bool truncated = bk->truncated || (grbit & JET_bitBackupTruncateDone) != 0;
        (void)bk_update_headers(inst, bk, truncated);
        (void)bk_log_event(inst, JF_BK_STOP, NULL);
        n = bk_dbs(inst, dbs);
        for (unsigned i = 0; i < n; i++) {
            dbs[i]->bk_in_session = false;
            dbs[i]->bk_copy_done = false;
        }
        bk_reset(bk);
        bk_set_active(inst, false);
    } else {
        bk_abort(inst, bk);
    }
    rc = JET_errSuccess;
out:
    pthread_mutex_unlock(&inst->bk_lock);
    return rc;
}

/* JetEndExternalBackupInstance == ...2(JET_bitBackupEndNormal). */
JET_ERR JET_API JetEndExternalBackupInstance(JET_INSTANCE instance)
{
    return JetEndExternalBackupInstance2(instance, JET_bitBackupEndNormal);
}

/* JetStopBackupInstance (spec 2.5): marks a running backup stopped; later
 * calls other than Close/End give -801.  Succeeds with no backup too
 * (nothing changes then).  Errors: -1115 bad instance. */
JET_ERR JET_API JetStopBackupInstance(JET_INSTANCE instance)
{
    jet_inst *inst;
    JET_ERR rc = bk_enter(instance, &inst);

    if (rc < 0)
        return rc;
    if (inst->bk->in_progress)
        inst->bk->stop = true;
    pthread_mutex_unlock(&inst->bk_lock);
    return JET_errSuccess;
}
