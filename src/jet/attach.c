/*
 * attach.c -- creating, attaching, detaching, opening and closing
 * databases (JetCreateDatabase, JetAttachDatabase, JetDetachDatabase,
 * JetOpenDatabase, JetCloseDatabase).
 *
 * Every attach-state change is logged (CREATEDB / ATTACH / DETACH records,
 * flushed before the call returns) and mirrored into the log manager's
 * attach list, which the header of every new log generation and every
 * checkpoint carry, so recovery and restore know which files to replay
 * into.  While a backup is in progress attach and detach fail with
 * JET_errBackupInProgress (spec 2.5).
 *
 * Thread safety: serialised by inst->ckpt_lock then inst->lock (the
 * checkpointer never sees a half-attached database).
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

/*
 * jet_abspath -- absolute, canonical form of a file path whose directory
 * exists (the file itself need not).  0, or JET_errInvalidPath.
 */
JET_ERR jet_abspath(const char *in, char *out, size_t cb)
{
    char dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
    int n;
    if (in == NULL || in[0] == '\0' || strlen(in) >= PATH_MAX)
        return JET_errInvalidPath;
    if (jos_realpath(in, real) != NULL) {
        n = snprintf(out, cb, "%s", real);
        return n < 0 || (size_t)n >= cb ? JET_errInvalidPath : JET_errSuccess;
    }
    snprintf(dir, sizeof dir, "%s", in);
    snprintf(base, sizeof base, "%s", in);
    if (jos_realpath(dirname(dir), real) == NULL)
        return JET_errInvalidPath;
    n = snprintf(out, cb, "%s/%s", strcmp(real, "/") == 0 ? "" : real, basename(base));
    return n < 0 || (size_t)n >= cb ? JET_errInvalidPath : JET_errSuccess;
}

/* A database path must fit the attach info of a log header with every
 * other database (8 x (6 + 249) + 1 <= 2048 bytes). */
static JET_ERR db_path(const char *in, char *out, size_t cb)
{
    JET_ERR rc = jet_abspath(in, out, cb);
    if (rc == 0 && strlen(out) > 249)
        rc = JET_errInvalidPath;
    return rc;
}

/* jinst_attach_list -- see jet_int.h. */
void jinst_attach_list(jet_inst *inst, jf_attach_list *out)
{
    memset(out, 0, sizeof *out);
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++) {
        if (inst->dbs[d] == NULL)
            continue;
        out->db[out->count].dbid = d;
        snprintf(out->db[out->count].path, sizeof out->db[0].path, "%s", inst->dbs[d]->path);
        out->count++;
    }
}

/* jinst_find_db -- see jet_int.h. */
jet_db *jinst_find_db(jet_inst *inst, const char *abspath)
{
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++)
        if (inst->dbs[d] != NULL && strcmp(inst->dbs[d]->path, abspath) == 0)
            return inst->dbs[d];
    return NULL;
}

/* Publish the attach list to the log manager.  inst->lock held. */
static void publish_attach(jet_inst *inst)
{
    jf_attach_list al;
    jinst_attach_list(inst, &al);
    jlog_set_attach(inst->log, &al);
}

/* Serialise a signature (28 bytes). */
static void put_sig(uint8_t *p, const jf_sig *s)
{
    jf_put32(p, s->random);
    memcpy(p + 4, &s->create, 8);
    memcpy(p + 12, s->computer, 16);
}

/* Append an attach-state record and make it durable. */
static JET_ERR log_durable(jet_inst *inst, uint8_t type, const void *body, uint32_t cb,
                           jf_lgpos *ppos)
{
    uint64_t lsn;
    JET_ERR rc = jlog_append(inst->log, type, body, cb, ppos, &lsn);
    if (rc == 0)
        rc = jlog_flush_to(inst->log, lsn);
    return rc;
}

struct attach_hdr {
    uint32_t dbid;
    jf_lgpos pos;
    jf_sig sign_log;
};

/* Header update for an attach: dirty, attached now. */
static void hdr_attach(jf_dbhdr *h, void *arg)
{
    struct attach_hdr *a = arg;
    h->dbstate = JF_DBSTATE_DIRTY;
    h->dbid = a->dbid;
    h->lgpos_attach = a->pos;
    jf_logtime_from_time(&h->time_attach, time(NULL));
    h->sign_log = a->sign_log;
}

/* Header update for a detach: clean and consistent at the position. */
static void hdr_detach(jf_dbhdr *h, void *arg)
{
    const jf_lgpos *pos = arg;
    h->dbstate = JF_DBSTATE_CLEAN;
    h->lgpos_consistent = *pos;
    h->lgpos_detach = *pos;
    jf_logtime_from_time(&h->time_consistent, time(NULL));
    h->time_detach = h->time_consistent;
}

/* Common checks; locks inst->ckpt_lock + inst->lock on success. */
static JET_ERR enter(JET_SESID sesid, jet_session **ps, jet_inst **pinst)
{
    jet_session *s = jsess_get(sesid);
    jet_inst *inst;
    if (s == NULL)
        return JET_errInvalidSesid;
    inst = jsess_inst(s);
    pthread_mutex_lock(&inst->ckpt_lock);
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_RUNNING) {
        pthread_mutex_unlock(&inst->lock);
        pthread_mutex_unlock(&inst->ckpt_lock);
        return JET_errNotInitialized;
    }
    *ps = s;
    *pinst = inst;
    return JET_errSuccess;
}

static void leave(jet_inst *inst)
{
    pthread_mutex_unlock(&inst->lock);
    pthread_mutex_unlock(&inst->ckpt_lock);
}

/* Lowest free dbid, or 0. inst->lock held. */
static uint32_t free_dbid(jet_inst *inst)
{
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++)
        if (inst->dbs[d] == NULL)
            return d;
    return 0;
}

/* Checks shared by create and attach: no backup running, a valid path
 * (canonical form into path), not attached yet (else `if_attached`), a
 * free dbid.  0 or the error/warning.  inst->lock held. */
static JET_ERR new_slot(jet_inst *inst, const char *name, char *path, size_t cb,
                        JET_ERR if_attached, uint32_t *pdbid)
{
    JET_ERR rc;
    if (jbk_in_progress(inst))
        return JET_errBackupInProgress;
    rc = db_path(name, path, cb);
    if (rc < 0)
        return rc;
    if (jinst_find_db(inst, path) != NULL)
        return if_attached;
    if ((*pdbid = free_dbid(inst)) == 0)
        return JET_errTooManyAttachedDatabases;
    return JET_errSuccess;
}

/* Open path as dbid (fd: its locked descriptor, or -1 to open and lock
 * it; consumed either way), log `type` with body, mark it attached.  The
 * file stays locked while it is attached.  inst->lock held. */
static JET_ERR attach_locked(jet_inst *inst, const char *path, int fd, uint32_t dbid, uint8_t type,
                             const uint8_t *body, uint32_t cb, bool check_state, jet_db **pdb)
{
    JET_ERR rc;
    jet_db *db = NULL;
    struct attach_hdr a;
    JCALL(jdb_open(inst, path, fd, dbid, &db));
    if (check_state) {
        if (db->hdr.full_cur.gen_low != 0 && db->hdr.full_cur.gen_high == 0) {
            rc = JET_errSoftRecoveryOnBackupDatabase;
            goto out;
        }
        if (db->hdr.dbstate == JF_DBSTATE_DIRTY) {
            rc = JET_errDatabaseDirtyShutdown;
            goto out;
        }
        if (db->hdr.cb_page != inst->cb_page) {
            rc = JET_errInvalidDatabaseVersion; /* page size differs */
            goto out;
        }
    }
    a.dbid = dbid;
    a.sign_log = jlog_signature(inst->log);
    JCALL(log_durable(inst, type, body, cb, &a.pos));
    rc = jdb_update_header(db, hdr_attach, &a);
    if (rc < 0) {
        /* the ATTACH record is durable, the header is not: only redo can
         * reconcile them, so no checkpoint may pass the record */
        jlog_poison(inst->log, JET_errInstanceUnavailable);
        goto out;
    }
    inst->dbs[dbid] = db;
    publish_attach(inst);
    *pdb = db;
    db = NULL;
out:
    if (db != NULL)
        jdb_close(db);
    return rc;
}

/*
 * JetCreateDatabaseA -- create and attach a new database and open it for
 * the session.  The file is locked (flock) before it is written and while
 * it stays attached.  Errors: JET_errInvalidSesid, JET_errNotInitialized,
 * JET_errBackupInProgress, JET_errInvalidPath, JET_errDatabaseDuplicate,
 * JET_errFileAccessDenied (with JET_bitDbOverwriteExisting: another
 * instance or process holds the file; it is left alone),
 * JET_errTooManyAttachedDatabases, JET_errDiskIO, JET_errLogWriteFail.
 */
JET_ERR JET_API JetCreateDatabaseA(JET_SESID sesid, JET_PCSTR szFilename, JET_PCSTR szConnect,
                                   JET_DBID *pdbid, JET_GRBIT grbit)
{
    jet_session *s;
    jet_inst *inst;
    char path[JF_PATH_MAX];
    uint8_t body[16 + 28 + 2 + JF_PATH_MAX];
    size_t len;
    uint32_t dbid;
    jf_sig sdb, slog;
    jet_db *db;
    int fd = -1;
    JET_ERR rc = enter(sesid, &s, &inst);
    if (rc < 0)
        return rc;
    if (pdbid == NULL) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    rc = new_slot(inst, szFilename, path, sizeof path, JET_errDatabaseDuplicate, &dbid);
    if (rc != 0)
        goto out;
    jf_sig_new(&sdb);
    slog = jlog_signature(inst->log);
    JCALL(jdb_create_file(path, inst->cb_page, inst->cb_record, &sdb, &slog, dbid,
                          (grbit & JET_bitDbOverwriteExisting) != 0, &fd));
    len = strlen(path);
    jf_put32(body, dbid);
    jf_put32(body + 4, inst->cb_record);
    jf_put32(body + 8, inst->cb_page);
    put_sig(body + 12, &sdb);
    jf_put16(body + 40, (uint16_t)len);
    memcpy(body + 42, path, len);
    rc =
        attach_locked(inst, path, fd, dbid, JF_LR_CREATEDB, body, (uint32_t)(42 + len), false, &db);
    if (rc < 0) {
        jos_unlink(path);
        goto out;
    }
    db->nopen++;
    jsess_set_open(s, dbid, true);
    *pdbid = dbid;
out:
    leave(inst);
    return rc;
}

/*
 * JetAttachDatabaseA -- attach an existing, cleanly shut down database and
 * lock it (exclusive flock, held until it is detached).
 * JET_wrnDatabaseAttached if it already is.  Errors: as create, plus
 * JET_errFileNotFound, JET_errDatabaseCorrupted, JET_errFileAccessDenied
 * (another instance, in this process or another, has it attached or is
 * recovering it; nothing is read or written),
 * JET_errSoftRecoveryOnBackupDatabase (an un-restored backup copy),
 * JET_errDatabaseDirtyShutdown, JET_errInvalidDatabaseVersion (page size
 * differs from the instance's).
 */
JET_ERR JET_API JetAttachDatabaseA(JET_SESID sesid, const char *szFilename, JET_GRBIT grbit)
{
    jet_session *s;
    jet_inst *inst;
    char path[JF_PATH_MAX];
    uint8_t body[6 + JF_PATH_MAX];
    size_t len;
    uint32_t dbid;
    jet_db *db;
    JET_ERR rc = enter(sesid, &s, &inst);
    if (rc < 0)
        return rc;
    rc = new_slot(inst, szFilename, path, sizeof path, JET_wrnDatabaseAttached, &dbid);
    if (rc != 0)
        goto out;
    len = strlen(path);
    jf_put32(body, dbid);
    jf_put16(body + 4, (uint16_t)len);
    memcpy(body + 6, path, len);
    rc = attach_locked(inst, path, -1, dbid, JF_LR_ATTACH, body, (uint32_t)(6 + len), true, &db);
out:
    leave(inst);
    return rc;
}

/* Detach one database.  inst->lock held. */
static JET_ERR detach_one(jet_inst *inst, jet_db *db)
{
    uint8_t body[4];
    jf_lgpos pos;
    JET_ERR rc;
    if (db->nopen > 0)
        return JET_errDatabaseInUse;
    JCALL(jdb_flush(db));
    jf_put32(body, db->dbid);
    JCALL(log_durable(inst, JF_LR_DETACH, body, sizeof body, NULL));
    pos = jlog_tip(inst->log);
    rc = jdb_update_header(db, hdr_detach, &pos);
    if (rc < 0) {
        /* the DETACH record is durable, the clean header is not: leave it
         * to redo (no checkpoint may pass the record) */
        jlog_poison(inst->log, JET_errInstanceUnavailable);
        goto out;
    }
    inst->dbs[db->dbid] = NULL;
    jdb_close(db);
    publish_attach(inst);
out:
    return rc;
}

/*
 * jinst_detach_all -- detach every database (flush, DETACH record, clean
 * header).  inst->lock held.  Used by JetTerm and JetDetachDatabase(NULL).
 */
JET_ERR jinst_detach_all(jet_inst *inst, bool force)
{
    JET_ERR rc = JET_errSuccess;
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++) {
        JET_ERR r;
        if (inst->dbs[d] == NULL)
            continue;
        if (force)
            inst->dbs[d]->nopen = 0;
        r = detach_one(inst, inst->dbs[d]);
        if (r < 0 && rc == 0)
            rc = r;
    }
    return rc;
}

/*
 * JetDetachDatabaseA -- detach one database (NULL or "" = all).  Errors:
 * JET_errInTransaction (the caller's open transaction wrote to it),
 * JET_errBackupInProgress, JET_errDatabaseNotFound, JET_errDatabaseInUse
 * (a session still has it open), JET_errDiskIO, JET_errLogWriteFail.
 */
JET_ERR JET_API JetDetachDatabaseA(JET_SESID sesid, const char *szFilename)
{
    jet_session *s;
    jet_inst *inst;
    char path[JF_PATH_MAX];
    jet_db *db;
    JET_ERR rc = enter(sesid, &s, &inst);
    if (rc < 0)
        return rc;
    if (jbk_in_progress(inst)) {
        rc = JET_errBackupInProgress;
        goto out;
    }
    if (szFilename == NULL || szFilename[0] == '\0') {
        rc = jinst_detach_all(inst, false);
        goto out;
    }
    JCALL(db_path(szFilename, path, sizeof path));
    db = jinst_find_db(inst, path);
    if (db == NULL) {
        rc = JET_errDatabaseNotFound;
        goto out;
    }
    if (jsess_txn_touches(s, db->dbid)) {
        rc = JET_errInTransaction; /* the open transaction wrote to it */
        goto out;
    }
    if (jsess_is_open(s, db->dbid)) {
        db->nopen--;
        jsess_set_open(s, db->dbid, false);
    }
    rc = detach_one(inst, db);
out:
    leave(inst);
    return rc;
}

/*
 * JetOpenDatabaseA -- open an attached database for the session.  Errors:
 * JET_errDatabaseNotFound (not attached), JET_errInvalidPath.
 */
JET_ERR JET_API JetOpenDatabaseA(JET_SESID sesid, const char *szFilename, const char *szConnect,
                                 JET_DBID *pdbid, JET_GRBIT grbit)
{
    jet_session *s;
    jet_inst *inst;
    char path[JF_PATH_MAX];
    jet_db *db;
    JET_ERR rc = enter(sesid, &s, &inst);
    if (rc < 0)
        return rc;
    if (pdbid == NULL) {
        rc = JET_errInvalidParameter;
        goto out;
    }
    JCALL(db_path(szFilename, path, sizeof path));
    db = jinst_find_db(inst, path);
    if (db == NULL) {
        rc = JET_errDatabaseNotFound;
        goto out;
    }
    if (!jsess_is_open(s, db->dbid)) {
        db->nopen++;
        jsess_set_open(s, db->dbid, true);
    }
    *pdbid = db->dbid;
out:
    leave(inst);
    return rc;
}

/* JetCloseDatabase -- close a database the session opened.  Errors:
 * JET_errInvalidSesid, JET_errInvalidDatabaseId, JET_errInTransaction
 * (the session's open transaction wrote to it: commit or roll back
 * first). */
JET_ERR JET_API JetCloseDatabase(JET_SESID sesid, JET_DBID dbid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    jet_inst *inst;
    JET_ERR rc = JET_errSuccess;
    if (s == NULL)
        return JET_errInvalidSesid;
    if (!jsess_is_open(s, (uint32_t)dbid))
        return JET_errInvalidDatabaseId;
    if (jsess_txn_touches(s, (uint32_t)dbid))
        return JET_errInTransaction; /* commit needs the database */
    inst = jsess_inst(s);
    pthread_mutex_lock(&inst->lock);
    if (inst->dbs[dbid] != NULL && inst->dbs[dbid]->nopen > 0)
        inst->dbs[dbid]->nopen--;
    jsess_set_open(s, (uint32_t)dbid, false);
    pthread_mutex_unlock(&inst->lock);
    return rc;
}
