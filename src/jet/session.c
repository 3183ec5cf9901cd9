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
 * Commit pins the page of every record in the write set before it appends
 * the COMMIT record (jdb_pin_record), so applying the after-images under
 * the log lock cannot fail: once a commit is in the log, the cache has it.
 * If an apply fails all the same (a broken invariant), the log is poisoned
 * and the instance refuses every later commit with
 * JET_errInstanceUnavailable rather than run with a cache behind its log.
 *
 * Record locks: a per-instance hash of (dbid, recno) -> owner, no waiting
 * (JET_errWriteConflict), released at commit/rollback.
 *
 * Session handles: a JET_SESID is not a pointer but (generation << 32 |
 * slot + 1) in the process-wide session registry (jet_sessions), so a
 * handle that was ended, or freed by JetTerm, is recognised and refused
 * with JET_errInvalidSesid without touching freed memory.  Each instance
 * also keeps a list of its sessions (inst->sessions, inst->lock) that
 * JetTerm frees (jsess_term_all).
 *
 * Thread safety: a session is used by one thread at a time; the lock table
 * and the registry have their own mutexes; lock order inst->lock ->
 * registry mutex -> lock table mutex; everything else is in the modules
 * called.
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
    jet_db *db; /* open by the session while the entry exists */
    uint64_t recno;
    size_t off; /* of the after-image in sess->arena */
} wentry;

typedef struct lentry {
    uint32_t dbid;
    uint64_t recno;
} lentry;

struct jet_session {
    uint32_t magic;
    jet_inst *inst;
    JET_SESID handle;         /* registry handle */
    jet_session *prev, *next; /* inst->sessions list (inst->lock) */
    bool in_txn;
    bool dbopen[JF_MAX_DBS + 1];
    jet_db *db[JF_MAX_DBS + 1]; /* attached db of an open dbid */
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

/* ---- session registry (process-wide handle table) ---- */

#define SESSION_GEN_MAX 0x7FFFFFFFu

/* The process-wide table of live session handles.  slot[i].s is the
 * session with handle (slot[i].gen << 32 | i + 1), or NULL when free;
 * gen changes every time a slot is freed, so stale handles never match. */
static struct jet_session_registry {
    pthread_mutex_t mu;
    struct sess_slot {
        jet_session *s;
        uint32_t gen;
    } * slot;
    uint32_t nslot, cap;
} jet_sessions = { PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0 };

/* Register s and set s->handle.  JET_errOutOfMemory. */
static JET_ERR reg_add(jet_session *s)
{
    JET_ERR rc = JET_errSuccess;
    uint32_t i;
    pthread_mutex_lock(&jet_sessions.mu);
    for (i = 0; i < jet_sessions.nslot; i++)
        if (jet_sessions.slot[i].s == NULL)
            break;
    if (i == jet_sessions.nslot) {
        if (jet_sessions.nslot == jet_sessions.cap) {
            uint32_t cap = jet_sessions.cap ? 2 * jet_sessions.cap : 64;
            struct sess_slot *v =
                cap > (1u << 24) ? NULL : realloc(jet_sessions.slot, cap * sizeof *v);
            if (v == NULL) {
                rc = JET_errOutOfMemory;
                goto out;
            }
            jet_sessions.slot = v;
            jet_sessions.cap = cap;
        }
        jet_sessions.slot[i].gen = 1;
        jet_sessions.nslot++;
    }
    jet_sessions.slot[i].s = s;
    s->handle = ((JET_SESID)jet_sessions.slot[i].gen << 32) | (JET_SESID)(i + 1);
out:
    pthread_mutex_unlock(&jet_sessions.mu);
    return rc;
}

/* Remove s from the registry (its handle becomes invalid). */
static void reg_remove(jet_session *s)
{
    uint32_t i = (uint32_t)(s->handle & 0xFFFFFFFFu) - 1;
    pthread_mutex_lock(&jet_sessions.mu);
    if (i < jet_sessions.nslot && jet_sessions.slot[i].s == s) {
        jet_sessions.slot[i].s = NULL;
        jet_sessions.slot[i].gen = jet_sessions.slot[i].gen % SESSION_GEN_MAX + 1;
    }
    pthread_mutex_unlock(&jet_sessions.mu);
}

/* ---- sessions ---- */

/* jsess_get -- validate a session handle (NULL if it is not a live
 * session).  Never dereferences the handle.  Takes the registry mutex. */
jet_session *jsess_get(JET_SESID sesid)
{
    jet_session *s = NULL;
    uint64_t h = (uint64_t)sesid;
    uint32_t i = (uint32_t)(h & 0xFFFFFFFFu) - 1, gen = (uint32_t)(h >> 32);
    if (sesid == 0 || sesid == JET_sesidNil)
        return NULL;
    pthread_mutex_lock(&jet_sessions.mu);
    if (i < jet_sessions.nslot && jet_sessions.slot[i].gen == gen)
        s = jet_sessions.slot[i].s;
    pthread_mutex_unlock(&jet_sessions.mu);
    return s;
}

/* jsess_inst -- the instance of a session. */
jet_inst *jsess_inst(jet_session *s)
{
    return s->inst;
}

/* jsess_set_open -- per-session open flag of a dbid; remembers the
 * jet_db (inst->lock held by the caller, so inst->dbs is stable). */
void jsess_set_open(jet_session *s, uint32_t dbid, bool open)
{
    if (dbid >= 1 && dbid <= JF_MAX_DBS) {
        s->dbopen[dbid] = open && s->inst->dbs[dbid] != NULL;
        s->db[dbid] = s->dbopen[dbid] ? s->inst->dbs[dbid] : NULL;
    }
}

/* jsess_txn_touches -- see jet_int.h. */
bool jsess_txn_touches(jet_session *s, uint32_t dbid)
{
    if (!s->in_txn)
        return false;
    for (size_t i = 0; i < s->nw; i++)
        if (s->w[i].dbid == dbid)
            return true;
    return false;
}

/* Whether session s has database dbid open (JetOpenDatabase without a
 * matching close).  Caller holds the session (one thread at a time). */
bool jsess_is_open(jet_session *s, uint32_t dbid)
{
    return dbid >= 1 && dbid <= JF_MAX_DBS && s->dbopen[dbid];
}

/*
 * JetBeginSessionA -- new session on a running instance.
 * Errors: JET_errInvalidInstance, JET_errNotInitialized,
 * JET_errOutOfMemory, JET_errInvalidParameter (psesid NULL).
 */
JET_ERR JET_API JetBeginSessionA(JET_INSTANCE instance, JET_SESID *psesid, JET_PCSTR szUserName,
                                 JET_PCSTR szPassword)
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
    s->magic = SESSION_MAGIC;
    s->inst = inst;
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_RUNNING)
        rc = JET_errNotInitialized;
    else
        rc = reg_add(s);
    if (rc == 0) {
        inst->nsessions++;
        s->next = inst->sessions;
        if (s->next != NULL)
            s->next->prev = s;
        inst->sessions = s;
        *psesid = s->handle;
    }
    pthread_mutex_unlock(&inst->lock);
    if (rc < 0)
        free(s);
    return rc;
}

/* Unlink s from its instance's list and the registry.  inst->lock held. */
static void sess_unlink(jet_session *s)
{
    jet_inst *inst = s->inst;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        inst->sessions = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    inst->nsessions--;
    reg_remove(s);
}

/* Free a session's memory (unlinked already). */
static void sess_free(jet_session *s)
{
    s->magic = 0;
    free(s->w);
    free(s->arena);
    free(s->l);
    free(s);
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
    sess_unlink(s);
    pthread_mutex_unlock(&inst->lock);
    sess_free(s);
    return JET_errSuccess;
}

/* jsess_term_all -- see jet_int.h.  inst->lock held; the lock table is
 * still alive. */
void jsess_term_all(jet_inst *inst)
{
    while (inst->sessions != NULL) {
        jet_session *s = inst->sessions;
        txn_clear(s);
        for (uint32_t d = 1; d <= JF_MAX_DBS; d++)
            if (s->dbopen[d] && inst->dbs[d] != NULL && inst->dbs[d]->nopen > 0)
                inst->dbs[d]->nopen--;
        sess_unlink(s);
        sess_free(s);
    }
}

/* JetBeginTransaction -- start a transaction.  JET_errTransTooDeep if
 * one is open already. */
JET_ERR JET_API JetBeginTransaction(JET_SESID sesid)
{
    return JetBeginTransaction2(sesid, 0);
}

/* Begin a transaction on sesid (grbit is ignored, as ESE ignores the
 * bits it does not know).  Errors: JET_errInvalidSesid,
 * JET_errTransTooDeep (transactions do not nest).  Locking: the
 * session's own state only (one thread at a time per session). */
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

/* Resolve dbid for s (must be open by the session).  No lock: a database
 * a session has open stays attached (detach refuses while nopen > 0), and
 * s->db is only changed by the session's own thread. */
static JET_ERR get_db(jet_session *s, JET_DBID dbid, jet_db **pdb)
{
    if (!jsess_is_open(s, (uint32_t)dbid) || s->db[dbid] == NULL)
        return JET_errInvalidDatabaseId;
    *pdb = s->db[dbid];
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

/* Called under the log lock: apply the write set to the cache.  The
 * pages are pinned, so this does not fail; if it does anyway, the first
 * error is kept in s->apply_err. */
static void apply_cb(void *arg, uint64_t lsn)
{
    jet_session *s = arg;
    for (size_t i = 0; i < s->nw; i++) {
        jet_db *db = s->w[i].db;
        JET_ERR rc = jdb_apply_write(db, s->w[i].recno, s->arena + s->w[i].off, db->cb_record, lsn);
        if (rc < 0 && s->apply_err == 0)
            s->apply_err = rc;
    }
}

/* Undo the pins of the first n write-set entries. */
static void unpin_writes(jet_session *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        jdb_unpin_record(s->w[i].db, s->w[i].recno);
}

/*
 * JetCommitTransaction -- make the transaction's writes durable (or, with
 * JET_bitCommitLazyFlush, durable at the next flush).  Errors:
 * JET_errInvalidSesid, JET_errNotInTransaction, JET_errLogWriteFail,
 * JET_errLogDiskFull, JET_errOutOfMemory, a page read error
 * (JET_errReadVerifyFailure, JET_errDiskIO) while pinning,
 * JET_errInstanceUnavailable (an earlier commit could not be applied to
 * the cache; the instance takes no more commits).  On an error before the
 * log append the transaction is rolled back and nothing of it is logged.
 */
JET_ERR JET_API JetCommitTransaction(JET_SESID sesid, JET_GRBIT grbit)
{
    jet_session *s = jsess_get(sesid);
    JET_ERR rc = JET_errSuccess;
    uint8_t *body = NULL;
    size_t cb = 4, off, npinned = 0;
    uint64_t lsn = 0;
    if (s == NULL)
        return JET_errInvalidSesid;
    if (!s->in_txn)
        return JET_errNotInTransaction;
    if (s->nw == 0)
        goto out;
    for (size_t i = 0; i < s->nw; i++)
        cb += 14 + s->w[i].db->cb_record;
    body = malloc(cb);
    if (body == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    jf_put32(body, (uint32_t)s->nw);
    off = 4;
    for (size_t i = 0; i < s->nw; i++) {
        uint32_t cbr = s->w[i].db->cb_record;
        jf_put32(body + off, s->w[i].dbid);
        jf_put64(body + off + 4, s->w[i].recno);
        jf_put16(body + off + 12, (uint16_t)cbr);
        memcpy(body + off + 14, s->arena + s->w[i].off, cbr);
        off += 14 + cbr;
    }
    /* every page the apply touches is in the cache and stays there */
    for (; npinned < s->nw; npinned++)
        JCALL(jdb_pin_record(s->w[npinned].db, s->w[npinned].recno));
    s->apply_err = 0;
    JCALL(jlog_append_fn(s->inst->log, JF_LR_COMMIT, body, (uint32_t)cb, apply_cb, s, NULL, &lsn));
    if (s->apply_err < 0) {
        /* the log holds a commit the cache lacks: never run on like that */
        jlog_poison(s->inst->log, JET_errInstanceUnavailable);
        rc = JET_errInstanceUnavailable;
    }
out:
    unpin_writes(s, npinned);
    txn_clear(s);
    if (rc == 0 && lsn != 0 && !(grbit & JET_bitCommitLazyFlush))
        rc = jlog_flush_to(s->inst->log, lsn);
    free(body);
    return rc;
}

/* Validate a record call's arguments and resolve the database. */
static JET_ERR rec_args(jet_session *s, JET_DBID dbid, unsigned long long recno, unsigned long cb,
                        jet_db **pdb)
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

/* The checks every record call starts with: a valid session, the database
 * open in it, recno and cb in range, pv present when cb > 0, and (when
 * in_txn) a transaction open. */
static JET_ERR rec_enter(JET_SESID sesid, JET_DBID dbid, unsigned long long recno, const void *pv,
                         unsigned long cb, bool in_txn, jet_session **ps, jet_db **pdb)
{
    jet_session *s = jsess_get(sesid);
    JET_ERR rc;
    if (s == NULL)
        return JET_errInvalidSesid;
    rc = rec_args(s, dbid, recno, cb, pdb);
    if (rc < 0)
        return rc;
    if (pv == NULL && cb > 0)
        return JET_errInvalidParameter;
    if (in_txn && !s->in_txn)
        return JET_errNotInTransaction;
    *ps = s;
    return JET_errSuccess;
}

/* JetLibReadRecord -- see jetlib.h. */
JET_ERR JetLibReadRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno, void *pv,
                         unsigned long cb)
{
    jet_session *s;
    jet_db *db;
    wentry *w;
    JET_ERR rc = rec_enter(sesid, dbid, recno, pv, cb, false, &s, &db);
    if (rc < 0)
        return rc;
    if (s->in_txn && (w = wfind(s, (uint32_t)dbid, recno)) != NULL) {
        memcpy(pv, s->arena + w->off, cb);
        return JET_errSuccess;
    }
    return jdb_read_record(db, recno, pv, (uint32_t)cb);
}

/* JetLibLockRecord -- see jetlib.h. */
JET_ERR JetLibLockRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno)
{
    jet_session *s;
    jet_db *db;
    JET_ERR rc = rec_enter(sesid, dbid, recno, NULL, 0, true, &s, &db);
    if (rc < 0)
        return rc;
    rc = lock_take(s, (uint32_t)dbid, recno);
    return rc < 0 ? rc : JET_errSuccess;
}

/* JetLibWriteRecord -- see jetlib.h.  The after-image is the whole record:
 * bytes beyond cb keep their current value. */
JET_ERR JetLibWriteRecord(JET_SESID sesid, JET_DBID dbid, unsigned long long recno, const void *pv,
                          unsigned long cb)
{
    jet_session *s;
    jet_db *db;
    wentry *w;
    JET_ERR rc = rec_enter(sesid, dbid, recno, pv, cb, true, &s, &db);
    if (rc < 0)
        return rc;
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
        w->db = db;
        w->recno = recno;
        w->off = s->cbarena;
        s->cbarena += db->cb_record;
    }
    memcpy(s->arena + w->off, pv, cb);
    return JET_errSuccess;
}
