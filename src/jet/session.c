/*
 * session.c -- sessions, transactions, record locks and libjet's record
 * API (jetlib.h).
 *
 * A transaction keeps its writes private (full-record after-images) until
 * commit; commit appends one COMMIT record with all of them and applies them
 * to the cache under the log lock, releases the record locks, and then waits
 * for the log to be durable unless JET_bitCommitLazyFlush.  Releasing locks
 * before the flush is safe: a later transaction that saw these writes
 * commits at a later LSN, so it cannot be durable before this one.
 * Transactions do not nest (a second JetBeginTransaction gives
 * JET_errTransTooDeep).
 *
 * Record locks: a per-instance hash of (dbid, recno) -> owner, no waiting
 * (JET_errWriteConflict), released at commit/rollback.
 *
 * Thread safety: a session is used by one thread at a time; the lock table
 * has its own mutex; everything else is in the modules called.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "jet_int.h"

#define SESSION_MAGIC 0x5E551011u
#define LOCK_BUCKETS 8192u

typedef struct lnode {
    struct lnode *next;
    uint32_t dbid;
    uint64_t recno;
    jet_session *owner;
} lnode;

struct jet_locktab {
    pthread_mutex_t mu;
    lnode *b[LOCK_BUCKETS];
};

typedef struct wentry {
    uint32_t dbid;
    uint64_t recno;
    size_t off;          /* of the after-image in sess->arena */
} wentry;

typedef struct lentry {
    uint32_t dbid;
    uint64_t recno;
} lentry;

struct jet_session {
    uint32_t magic;
    jet_inst *inst;
    bool in_txn;
    bool dbopen[JF_MAX_DBS + 1];
    wentry *w;
    size_t nw, capw;
    uint8_t *arena;
    size_t cbarena, caparena;
    lentry *l;
    size_t nl, capl;
    JET_ERR apply_err;
};

/* ---- lock table ---- */

/* jlt_create -- lock table for an instance. */
struct jet_locktab *jlt_create(void)
{
    struct jet_locktab *t = calloc(1, sizeof *t);
    if (t != NULL)
        pthread_mutex_init(&t->mu, NULL);
    return t;
}

/* jlt_destroy -- free the table (no session may hold locks). */
void jlt_destroy(struct jet_locktab *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i < LOCK_BUCKETS; i++) {
        lnode *n = t->b[i];
        while (n != NULL) {
            lnode *x = n->next;
            free(n);
            n = x;
        }
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

static unsigned lhash(uint32_t dbid, uint64_t recno)
{
    uint64_t h = (recno ^ ((uint64_t)dbid << 40)) * 0x9E3779B97F4A7C15ull;
    return (unsigned)(h >> 40) % LOCK_BUCKETS;
}

/* Take the lock for s; 0, 1 if s already held it, JET_errWriteConflict,
 * JET_errOutOfMemory. */
static JET_ERR lock_take(jet_session *s, uint32_t dbid, uint64_t recno)
{
    struct jet_locktab *t = s->inst->locks;
    unsigned h = lhash(dbid, recno);
    JET_ERR rc = JET_errSuccess;
    lnode *n;
    if (s->nl == s->capl) {
        size_t cap = s->capl ? 2 * s->capl : 16;
        lentry *v = realloc(s->l, cap * sizeof *v);
        if (v == NULL)
            return JET_errOutOfMemory;
        s->l = v;
        s->capl = cap;
    }
    pthread_mutex_lock(&t->mu);
    for (n = t->b[h]; n != NULL; n = n->next)
        if (n->dbid == dbid && n->recno == recno)
            break;
    if (n != NULL) {
        rc = n->owner == s ? 1 : JET_errWriteConflict;
    } else if ((n = malloc(sizeof *n)) == NULL) {
        rc = JET_errOutOfMemory;
    } else {
        n->dbid = dbid;
        n->recno = recno;
        n->owner = s;
        n->next = t->b[h];
        t->b[h] = n;
        s->l[s->nl++] = (lentry){ dbid, recno };
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

/* Release every lock s holds. */
static void lock_release_all(jet_session *s)
{
    struct jet_locktab *t = s->inst->locks;
    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < s->nl; i++) {
        lnode **pp = &t->b[lhash(s->l[i].dbid, s->l[i].recno)];
        while (*pp != NULL) {
            lnode *n = *pp;
            if (n->dbid == s->l[i].dbid && n->recno == s->l[i].recno && n->owner == s) {
                *pp = n->next;
                free(n);
                break;
            }
            pp = &n->next;
        }
    }
    pthread_mutex_unlock(&t->mu);
    s->nl = 0;
}

/* ---- sessions ---- */

/* jsess_get -- validate a session handle (NULL if invalid). */
jet_session *jsess_get(JET_SESID sesid)
{
    jet_session *s = (jet_session *)sesid;
    if (sesid == 0 || sesid == JET_sesidNil || s->magic != SESSION_MAGIC)
        return NULL;
    return s;
}

/* jsess_inst -- the instance of a session. */
jet_inst *jsess_inst(jet_session *s)
{
    return s->inst;
}

/* jsess_db_open / jsess_db_close -- per-session open flag of a dbid. */
void jsess_set_open(jet_session *s, uint32_t dbid, bool open)
{
    if (dbid >= 1 && dbid <= JF_MAX_DBS)
        s->dbopen[dbid] = open;
}

bool jsess_is_open(jet_session *s, uint32_t dbid)
{
    return dbid >= 1 && dbid <= JF_MAX_DBS && s->dbopen[dbid];
}

/*
 * JetBeginSessionA -- new session on a running instance.
 * Errors: JET_errInvalidInstance, JET_errNotInitialized,
 * JET_errOutOfMemory, JET_errInvalidParameter (psesid NULL).
 */
JET_ERR JET_API JetBeginSessionA(JET_INSTANCE instance, JET_SESID *psesid,
                                 JET_PCSTR szUserName, JET_PCSTR szPassword)
{
    jet_inst *inst = jinst_get(instance);
    jet_session *s;
    JET_ERR rc = JET_errSuccess;
    if (inst == NULL)
        return JET_errInvalidInstance;
    if (psesid == NULL)
        return JET_errInvalidParameter;
    s = calloc(1, sizeof *s);
    if (s == NULL)
        return JET_errOutOfMemory;
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_RUNNING) {
        rc = JET_errNotInitialized;
    } else {
        inst->nsessions++;
        s->magic = SESSION_MAGIC;
        s->inst = inst;
        *psesid = (JET_SESID)s;
    }
    pthread_mutex_unlock(&inst->lock);
    if (rc < 0)
        free(s);
    return rc;
}

/* Drop the transaction's private state. */
static void txn_clear(jet_session *s)
{
    lock_release_all(s);
    s->nw = 0;
    s->cbarena = 0;
    s->in_txn = false;
}

/*
 * JetEndSession -- roll back an open transaction, close the session's
 * databases, free it.  Errors: JET_errInvalidSesid.
 */
JET_ERR JET_API JetEndSession(JET_SESID sesid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    jet_inst *inst;
    if (s == NULL)
        return JET_errInvalidSesid;
    inst = s->inst;
    txn_clear(s);
    pthread_mutex_lock(&inst->lock);
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++)
        if (s->dbopen[d] && inst->dbs[d] != NULL && inst->dbs[d]->nopen > 0)
            inst->dbs[d]->nopen--;
    inst->nsessions--;
    pthread_mutex_unlock(&inst->lock);
    s->magic = 0;
    free(s->w);
    free(s->arena);
    free(s->l);
    free(s);
    return JET_errSuccess;
}

/* JetBeginTransaction -- start a transaction.  JET_errTransTooDeep if
 * one is open already. */
JET_ERR JET_API JetBeginTransaction(JET_SESID sesid)
{
    return JetBeginTransaction2(sesid, 0);
}

JET_ERR JET_API JetBeginTransaction2(JET_SESID sesid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    if (s == NULL)
        return JET_errInvalidSesid;
    if (s->in_txn)
        return JET_errTransTooDeep;
    s->in_txn = true;
    s->apply_err = 0;
    return JET_errSuccess;
}

/* JetRollback -- discard the transaction. */
JET_ERR JET_API JetRollback(JET_SESID sesid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    if (s == NULL)
        return JET_errInvalidSesid;
    if (!s->in_txn)
        return JET_errNotInTransaction;
    txn_clear(s);
    return JET_errSuccess;
}

/* Resolve dbid for s (must be open by the session). */
static JET_ERR get_db(jet_session *s, JET_DBID dbid, jet_db **pdb)
{
    jet_db *db = NULL;
    if (!jsess_is_open(s, (uint32_t)dbid))
        return JET_errInvalidDatabaseId;
    pthread_mutex_lock(&s->inst->lock);
    db = s->inst->dbs[dbid];
    pthread_mutex_unlock(&s->inst->lock);
    if (db == NULL)
        return JET_errInvalidDatabaseId;
    *pdb = db;
    return JET_errSuccess;
}

/* Find the write-set entry for (dbid, recno), or NULL. */
static wentry *wfind(jet_session *s, uint32_t dbid, uint64_t recno)
{
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].dbid == dbid && s->w[i].recno == recno)
            return &s->w[i];
    return NULL;
}

/* Called under the log lock: apply the write set to the cache. */
static void apply_cb(void *arg, uint64_t lsn)
{
    jet_session *s = arg;
    for (size_t i = 0; i < s->nw; i++) {
        jet_db *db = s->inst->dbs[s->w[i].dbid];
        JET_ERR rc = db == NULL ? JET_errInvalidDatabaseId
                     : jdb_apply_write(db, s->w[i].recno, s->arena + s->w[i].off,
                                       db->cb_record, lsn);
        if (rc < 0 && s->apply_err == 0)
            s->apply_err = rc;
    }
}

/*
 * JetCommitTransaction -- make the transaction's writes durable (or, with
 * JET_bitCommitLazyFlush, durable at the next flush).  Errors:
 * JET_errInvalidSesid, JET_errNotInTransaction, JET_errLogWriteFail,
 * JET_errLogDiskFull, JET_errOutOfMemory.  On error the transaction is
 * rolled back (nothing of it is durable unless the log write succeeded).
 */
JET_ERR JET_API JetCommitTransaction(JET_SESID sesid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    JET_ERR rc = JET_errSuccess;
    uint8_t *body = NULL;
    size_t cb = 4, off;
    uint64_t lsn = 0;
    if (s == NULL)
        return JET_errInvalidSesid;
    if (!s->in_txn)
        return JET_errNotInTransaction;
    if (s->nw == 0)
        goto out;
    for (size_t i = 0; i < s->nw; i++)
        cb += 14 + s->inst->dbs[s->w[i].dbid]->cb_record;
    body = malloc(cb);
    if (body == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    jf_put32(body, (uint32_t)s->nw);
    off = 4;
    for (size_t i = 0; i < s->nw; i++) {
        uint32_t cbr = s->inst->dbs[s->w[i].dbid]->cb_record;
        jf_put32(body + off, s->w[i].dbid);
        jf_put64(body + off + 4, s->w[i].recno);
        jf_put16(body + off + 12, (uint16_t)cbr);
        memcpy(body + off + 14, s->arena + s->w[i].off, cbr);
        off += 14 + cbr;
    }
    s->apply_err = 0;
    JCALL(jlog_append_fn(s->inst->log, JF_LR_COMMIT, body, (uint32_t)cb, apply_cb, s,
                         NULL, &lsn));
    rc = s->apply_err;
out:
    txn_clear(s);
    if (rc == 0 && lsn != 0 && !(grbit & JET_bitCommitLazyFlush))
        rc = jlog_flush_to(s->inst->log, lsn);
    free(body);
    return rc;
}

/* Validate a record call's arguments and resolve the database. */
static JET_ERR rec_args(jet_session *s, JET_DBID dbid, unsigned long long recno,
                        unsigned long cb, jet_db **pdb)
{
    JET_ERR rc = get_db(s, dbid, pdb);
    if (rc < 0)
        return rc;
    if (recno >= JETLIB_MAX_RECORDS)
        return JET_errRecordNotFound;
    if (cb > (*pdb)->cb_record)
        return JET_errInvalidParameter;
    return JET_errSuccess;
}

/* JetLibReadRecord -- see jetlib.h. */
JET_ERR JetLibReadRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno,
                         void *pv, unsigned long cb)
{
    jet_session *s = jsess_get(sesid);
    jet_db *db;
    wentry *w;
    JET_ERR rc;
    if (s == NULL)
        return JET_errInvalidSesid;
    rc = rec_args(s, dbid, recno, cb, &db);
    if (rc < 0)
        return rc;
    if (pv == NULL && cb > 0)
        return JET_errInvalidParameter;
    if (s->in_txn && (w = wfind(s, (uint32_t)dbid, recno)) != NULL) {
        memcpy(pv, s->arena + w->off, cb);
        return JET_errSuccess;
    }
    return jdb_read_record(db, recno, pv, (uint32_t)cb);
}

/* JetLibLockRecord -- see jetlib.h. */
JET_ERR JetLibLockRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno)
{
    jet_session *s = jsess_get(sesid);
    jet_db *db;
    JET_ERR rc;
    if (s == NULL)
        return JET_errInvalidSesid;
    rc = rec_args(s, dbid, recno, 0, &db);
    if (rc < 0)
        return rc;
    if (!s->in_txn)
        return JET_errNotInTransaction;
    rc = lock_take(s, (uint32_t)dbid, recno);
    return rc < 0 ? rc : JET_errSuccess;
}

/* JetLibWriteRecord -- see jetlib.h.  The after-image is the whole record:
 * bytes beyond cb keep their current value. */
JET_ERR JetLibWriteRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno,
                          const void *pv, unsigned long cb)
{
    jet_session *s = jsess_get(sesid);
    jet_db *db;
    wentry *w;
    JET_ERR rc;
    if (s == NULL)
        return JET_errInvalidSesid;
    rc = rec_args(s, dbid, recno, cb, &db);
    if (rc < 0)
        return rc;
    if (pv == NULL && cb > 0)
        return JET_errInvalidParameter;
    if (!s->in_txn)
        return JET_errNotInTransaction;
    rc = lock_take(s, (uint32_t)dbid, recno);
    if (rc < 0)
        return rc;
    w = wfind(s, (uint32_t)dbid, recno);
    if (w == NULL) {
        if (s->nw == s->capw) {
            size_t cap = s->capw ? 2 * s->capw : 16;
            wentry *v = realloc(s->w, cap * sizeof *v);
            if (v == NULL)
                return JET_errOutOfMemory;
            s->w = v;
            s->capw = cap;
        }
        if (s->cbarena + db->cb_record > s->caparena) {
            size_t cap = s->caparena ? 2 * s->caparena : 4096;
            uint8_t *a;
            while (cap < s->cbarena + db->cb_record)
                cap *= 2;
            a = realloc(s->arena, cap);
            if (a == NULL)
                return JET_errOutOfMemory;
            s->arena = a;
            s->caparena = cap;
        }
        rc = jdb_read_record(db, recno, s->arena + s->cbarena, db->cb_record);
        if (rc < 0)
            return rc;
        w = &s->w[s->nw++];
        w->dbid = (uint32_t)dbid;
        w->recno = recno;
        w->off = s->cbarena;
        s->cbarena += db->cb_record;
    }
    memcpy(s->arena + w->off, pv, cb);
    return JET_errSuccess;
}

/* JetLibGetRecordSize -- record size of an open database. */
JET_ERR JetLibGetRecordSize(JET_SESID sesid, JET_DBID dbid, unsigned long *pcb)
{
    jet_session *s = jsess_get(sesid);
    jet_db *db;
    JET_ERR rc;
    if (s == NULL)
        return JET_errInvalidSesid;
    rc = get_db(s, dbid, &db);
    if (rc == 0)
        *pcb = db->cb_record;
    return rc;
}
