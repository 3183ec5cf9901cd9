/*
 * ep_server.c -- backup endpoint server (endpoint.h; wire format in
 * ep_proto.h and docs/endpoint-protocol.md).
 *
 * Threads: one accept thread (poll on the listening socket and a wake-up
 * pipe) and one thread per accepted connection (at most EP_MAX_CONNS).
 * Shared state lives in struct jep_server under s->mu:
 *   - the connection list (the accept thread adds, JepServerStop and the
 *     accept thread reap finished ones with pthread_join);
 *   - s->owner: the connection whose Begin succeeded and whose backup has
 *     not ended.  Only the owner may make backup calls; other connections
 *     get JET_errBackupInProgress on Begin and JET_errNoBackup otherwise.
 * Begin, End and the abort on disconnect run with s->mu held so that
 * ownership changes atomically with the engine's state; the other engine
 * calls run without it.  Lock order: s->mu -> engine locks (the engine never
 * calls back into this file).
 * A connection that ends (EOF, error, malformed frame, JepServerStop) while
 * owning the backup makes its thread call
 * JetEndExternalBackupInstance2(JET_bitBackupEndAbort) -- never a truncation.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "endpoint.h"
#include "ep_proto.h"
#include "jetlib.h"

#define EP_MAX_CONNS 8
#define EP_HELLO_TIMEOUT_S 10

typedef struct jep_conn jep_conn;

struct jep_conn {
    jep_server *s;
    jep_conn *next;
    int fd;
    unsigned id;
    pid_t pid;
    uid_t uid;
    gid_t gid;
    pthread_t thr;
    bool done; /* thread finished (s->mu) */
    /* owned by the connection thread */
    bool rolled;                  /* the backup's log roll call has run */
    unsigned long long committed; /* counter sampled before that call */
    uint8_t *rbuf;                /* request payloads */
    size_t rcap;
    void *iobuf; /* ReadFile buffer, 4096-aligned */
    size_t iocap;
    uint8_t *lbuf; /* list buffers */
    size_t lcap;
};

struct jep_server {
    JET_INSTANCE inst;
    char *path;
    gid_t group;
    unsigned long long (*counter)(void *arg);
    void *counter_arg;
    void (*log)(void *arg, const char *msg);
    void *log_arg;
    ep_wire_info info; /* instance parameters, fixed at start */
    int lfd;
    int wake[2]; /* [0] read end polled by the accept thread */
    dev_t dev;
    ino_t ino;
    pthread_t accept_thr;
    bool accept_started;
    pthread_mutex_t mu;
    jep_conn *conns;  /* s->mu */
    unsigned next_id; /* s->mu */
    jep_conn *owner;  /* s->mu */
    bool stopping;    /* s->mu */
};

/* Emit one log line (printf format) through cfg->log, or to stderr when the
 * host registered no logger.  Thread-safe as far as the callback is. */
static void srv_log(jep_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void srv_log(jep_server *s, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->log)
        s->log(s->log_arg, msg);
    else
        fprintf(stderr, "jep: %s\n", msg);
}

/* Wake the accept thread (one byte on the wake pipe; a full pipe already
 * guarantees a wake-up).  No errors. */
static void srv_wake(jep_server *s)
{
    char b = 1;
    ssize_t k;

    do
        k = write(s->wake[1], &b, 1);
    while (k < 0 && errno == EINTR);
}

/* Send a greeting {err, magic, version} on a fresh connection.  0 or -1. */
static int send_hello(int fd, JET_ERR err)
{
    uint8_t f[EP_HDR + 16];
    ep_resp r;
    size_t n;

    memset(&r, 0, sizeof r);
    r.op = EP_OP_HELLO;
    r.err = (int32_t)err;
    r.magic = EP_MAGIC;
    r.version = EP_VERSION;
    n = ep_resp_encode(&r, f, sizeof f);
    if (!n)
        return -1;
    return ep_send_all(fd, f, n);
}

/* Send response r (header, fixed part, then r->data).  0 or -1/errno. */
static int send_resp(int fd, const ep_resp *r)
{
    uint8_t head[EP_HDR + 128];
    size_t n = ep_resp_encode_head(r, head, sizeof head);

    if (!n) {
        errno = EINVAL;
        return -1;
    }
    return ep_send2(fd, head, n, r->data, r->cb_data);
}

/* Grow a plain buffer to at least cb bytes (zeroed).  0 or -1 (ENOMEM). */
static int grow_buf(uint8_t **pb, size_t *pcap, size_t cb)
{
    if (cb == 0)
        cb = 1;
    if (*pcap < cb) {
        uint8_t *nb = realloc(*pb, cb);
        if (!nb)
            return -1;
        *pb = nb;
        *pcap = cb;
    }
    memset(*pb, 0, cb);
    return 0;
}

/* Size fd's send buffer for READFILE replies of cb bytes: room for two
 * whole replies, so a reply is handed to the kernel in one call and the
 * next (the client pipelines one READFILE ahead) follows without waiting
 * for the client to drain the first.  SO_SNDBUF is capped by
 * net.core.wmem_max; a host with CAP_NET_ADMIN gets the size anyway
 * (SO_SNDBUFFORCE).  Best effort: the default buffer still works, only
 * in more, smaller transfers. */
static void size_sndbuf(int fd, size_t cb)
{
    int want = (int)(2 * (cb + EP_HDR + 64)), have = 0;
    socklen_t len = sizeof have;

    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &len) == 0 && have >= want)
        return; /* Linux reports twice the value set (bookkeeping) */
#ifdef SO_SNDBUFFORCE
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof want);
#endif
}

/* Make c->iobuf a 4096-aligned buffer of at least cb bytes (rounded up to
 * 4096, minimum 4096), sizing the socket's send buffer to it when it
 * grows.  0 or -1 (ENOMEM). */
static int grow_iobuf(jep_conn *c, size_t cb)
{
    size_t want = (cb + EP_PAGE_ALIGN - 1) / EP_PAGE_ALIGN * EP_PAGE_ALIGN;
    void *p = NULL;

    if (want == 0)
        want = EP_PAGE_ALIGN;
    if (c->iocap >= want)
        return 0;
    if (posix_memalign(&p, EP_PAGE_ALIGN, want) != 0)
        return -1;
    free(c->iobuf);
    c->iobuf = p;
    c->iocap = want;
    size_sndbuf(c->fd, want);
    return 0;
}

/* true if c owns the backup now.  Takes s->mu. */
static bool is_owner(jep_conn *c)
{
    bool r;

    pthread_mutex_lock(&c->s->mu);
    r = c->s->owner == c;
    pthread_mutex_unlock(&c->s->mu);
    return r;
}

/* The engine says no backup is running (-520): c no longer owns one.
 * Takes s->mu. */
static void note_result(jep_conn *c, JET_ERR err)
{
    if (err != JET_errNoBackup)
        return;
    pthread_mutex_lock(&c->s->mu);
    if (c->s->owner == c)
        c->s->owner = NULL;
    pthread_mutex_unlock(&c->s->mu);
}

/* true if a list call that returned err may have rolled the log (it got
 * past the precondition checks that return before the roll). */
static bool may_have_rolled(JET_ERR err)
{
    return !(err == JET_errNoBackup || err == JET_errBackupAbortByServer ||
             err == JET_errInvalidBackupSequence || err == JET_errInvalidParameter);
}

/* Run one of the three list calls for request q into response r (buffer
 * in c->lbuf).  Returns 0, or -1 when out of memory (connection closes). */
static int do_list(jep_conn *c, const ep_req *q, ep_resp *r)
{
    jep_server *s = c->s;
    unsigned long cbmax = q->cb > EP_MAX_LIST ? EP_MAX_LIST : (unsigned long)q->cb;
    unsigned long cbact = ULONG_MAX;
    JET_LOGINFO_A li, li0;
    bool buf = q->flags & EP_F_BUF, pcb = q->flags & EP_F_PCB;
    bool roll = q->op != EP_OP_GETATTACHINFO;
    unsigned long long sample = 0;
    JET_ERR err;

    if (!is_owner(c)) {
        r->err = JET_errNoBackup;
        return 0;
    }
    if (buf && grow_buf(&c->lbuf, &c->lcap, cbmax) < 0)
        return -1;
    memset(&li, 0xFF, sizeof li);
    li.cbSize = (unsigned long)q->loginfo_cb;
    memcpy(&li0, &li, sizeof li);
    if (roll && !c->rolled && s->counter)
        sample = s->counter(s->counter_arg);
    switch (q->op) {
    case EP_OP_GETATTACHINFO:
        err = JetGetAttachInfoInstanceA(s->inst, buf ? (char *)c->lbuf : NULL,
                                        buf ? cbmax : (unsigned long)q->cb, pcb ? &cbact : NULL);
        break;
    case EP_OP_GETLOGINFO2:
        err = JetGetLogInfoInstance2A(s->inst, buf ? (char *)c->lbuf : NULL,
                                      buf ? cbmax : (unsigned long)q->cb, pcb ? &cbact : NULL,
                                      (q->flags & EP_F_LOGINFO) ? &li : NULL);
        break;
    default:
        err =
            JetGetTruncateLogInfoInstanceA(s->inst, buf ? (char *)c->lbuf : NULL,
                                           buf ? cbmax : (unsigned long)q->cb, pcb ? &cbact : NULL);
        break;
    }
    if (roll && !c->rolled && may_have_rolled(err)) {
        c->rolled = true;
        c->committed = sample;
    }
    note_result(c, err);
    r->err = (int32_t)err;
    if (pcb && cbact != ULONG_MAX) {
        r->oflags |= EP_O_PCB;
        r->cb_actual = cbact;
    }
    if ((q->flags & EP_F_LOGINFO) && memcmp(&li, &li0, sizeof li) != 0) {
        r->oflags |= EP_O_LOGINFO;
        r->li_cb = li.cbSize;
        r->li_low = li.ulGenLow;
        r->li_high = li.ulGenHigh;
        memcpy(r->li_base, li.szBaseName, sizeof r->li_base);
        r->li_base[3] = 0;
    }
    if (err >= 0 && buf) {
        unsigned long n = cbmax;
        if ((r->oflags & EP_O_PCB) && cbact < n)
            n = cbact;
        r->data = c->lbuf;
        r->cb_data = (uint32_t)n;
    }
    return 0;
}

/* EP_OP_BEGIN: begin the backup and make c its owner, unless another
 * connection owns one.  Takes s->mu around the engine call. */
static JET_ERR op_begin(jep_conn *c, const ep_req *q)
{
    jep_server *s = c->s;
    JET_ERR err;

    pthread_mutex_lock(&s->mu);
    if (s->owner && s->owner != c) {
        err = JET_errBackupInProgress;
    } else {
        err = JetBeginExternalBackupInstance(s->inst, (JET_GRBIT)q->grbit);
        if (err >= 0) {
            s->owner = c;
            c->rolled = false;
            c->committed = 0;
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (err >= 0)
        srv_log(s, "connection %u (pid %ld uid %ld): backup begun (grbit 0x%llx)", c->id,
                (long)c->pid, (long)c->uid, (unsigned long long)q->grbit);
    return err;
}

/* EP_OP_CHECKBEGIN: what a Begin of q->grbit would return now, with the
 * attached databases' stream sizes; changes nothing (JetLibCheckBackup).
 * A backup owned by any connection is JET_errBackupInProgress, as Begin
 * would find it.  Takes s->mu around the engine call (as op_begin). */
static JET_ERR op_checkbegin(jep_conn *c, const ep_req *q, ep_resp *r)
{
    jep_server *s = c->s;
    unsigned long long cb = 0;
    unsigned long n = 0;
    JET_ERR err;

    pthread_mutex_lock(&s->mu);
    err = JetLibCheckBackup(s->inst, (JET_GRBIT)q->grbit, &cb, &n);
    if (err >= 0 && s->owner)
        err = JET_errBackupInProgress;
    pthread_mutex_unlock(&s->mu);
    r->cdb = (uint32_t)n;
    r->cb_dbs = cb;
    srv_log(s,
            "connection %u (pid %ld uid %ld): begin check (grbit 0x%llx): %s (%ld), nothing begun",
            c->id, (long)c->pid, (long)c->uid, (unsigned long long)q->grbit, JetLibErrorName(err),
            (long)err);
    return err;
}

/* EP_OP_OPENFILE for the owner.  *perr = the engine's result; returns -1
 * (close the connection) only when out of memory. */
static int op_openfile(jep_conn *c, const ep_req *q, ep_resp *r, JET_ERR *perr)
{
    JET_HANDLE hf = 0;
    unsigned long lo = 0, hi = 0;
    char *name = NULL;
    JET_ERR err;

    if (!is_owner(c)) {
        *perr = JET_errNoBackup;
        return 0;
    }
    if (q->flags & EP_F_NAME) {
        name = malloc(q->cb_name + 1);
        if (!name)
            return -1;
        memcpy(name, q->name, q->cb_name);
        name[q->cb_name] = 0;
    }
    err = JetOpenFileInstanceA(c->s->inst, name, &hf, &lo, &hi);
    free(name);
    note_result(c, err);
    if (err >= 0) {
        r->hf = hf;
        r->size_low = lo;
        r->size_high = hi;
    }
    *perr = err;
    return 0;
}

/* EP_OP_READFILE for the owner into c->iobuf.  *perr = the engine's result
 * (JET_errInternalError if it claims more bytes than asked); returns -1
 * (close the connection) only when out of memory. */
static int op_readfile(jep_conn *c, const ep_req *q, ep_resp *r, JET_ERR *perr)
{
    unsigned long got = 0;
    JET_ERR err;

    if (!is_owner(c)) {
        *perr = JET_errNoBackup;
        return 0;
    }
    if (grow_iobuf(c, q->cb) < 0)
        return -1;
    err = JetReadFileInstance(c->s->inst, (JET_HANDLE)q->hf, c->iobuf, (unsigned long)q->cb, &got);
    note_result(c, err);
    if (err >= 0 && got > q->cb) {
        srv_log(c->s, "connection %u: engine returned %lu bytes for a %llu-byte read", c->id, got,
                (unsigned long long)q->cb);
        err = JET_errInternalError;
    } else if (err >= 0) {
        r->data = c->iobuf;
        r->cb_data = (uint32_t)got;
    }
    *perr = err;
    return 0;
}

/* EP_OP_ENDBACKUP2 by the owner; ownership ends with the backup.  Takes
 * s->mu around the engine call. */
static JET_ERR op_end(jep_conn *c, const ep_req *q)
{
    jep_server *s = c->s;
    JET_ERR err;

    pthread_mutex_lock(&s->mu);
    if (s->owner != c) {
        err = JET_errNoBackup;
    } else {
        err = JetEndExternalBackupInstance2(s->inst, (JET_GRBIT)q->grbit);
        if (err >= 0 || err == JET_errNoBackup)
            s->owner = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    if (err >= 0)
        srv_log(s, "connection %u: backup ended (grbit 0x%llx)", c->id,
                (unsigned long long)q->grbit);
    return err;
}

/* Execute request q for connection c, filling r.  Returns 0, or -1 when
 * the connection must close (out of memory, engine misbehaving). */
static int dispatch(jep_conn *c, const ep_req *q, ep_resp *r)
{
    jep_server *s = c->s;
    JET_ERR err = 0;

    memset(r, 0, sizeof *r);
    r->op = q->op;
    switch (q->op) {
    case EP_OP_GETINFO:
        r->info = s->info;
        return 0;
    case EP_OP_BEGIN:
        err = op_begin(c, q);
        break;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETLOGINFO2:
    case EP_OP_GETTRUNCATELOGINFO:
        return do_list(c, q, r);
    case EP_OP_OPENFILE:
        if (op_openfile(c, q, r, &err) < 0)
            return -1;
        break;
    case EP_OP_READFILE:
        if (op_readfile(c, q, r, &err) < 0)
            return -1;
        break;
    case EP_OP_CLOSEFILE:
    case EP_OP_TRUNCATELOG:
        if (!is_owner(c)) {
            err = JET_errNoBackup;
            break;
        }
        if (q->op == EP_OP_CLOSEFILE)
            err = JetCloseFileInstance(s->inst, (JET_HANDLE)q->hf);
        else
            err = JetTruncateLogInstance(s->inst);
        note_result(c, err);
        break;
    case EP_OP_ENDBACKUP2:
        err = op_end(c, q);
        break;
    case EP_OP_CHECKBEGIN:
        err = op_checkbegin(c, q, r);
        break;
    case EP_OP_GETCOMMITTED:
        if (!s->counter)
            err = JET_errInvalidParameter;
        else if (!c->rolled)
            err = JET_errInvalidBackupSequence;
        else
            r->n = c->committed;
        break;
    default:
        return -1;
    }
    r->err = (int32_t)err;
    return 0;
}

/* Receive and check the client's hello (bounded by a receive timeout).
 * 0, or -1 after logging why. */
static int recv_hello(jep_conn *c)
{
    struct timeval tv = { EP_HELLO_TIMEOUT_S, 0 }, tv0 = { 0, 0 };
    const char *why = "bad hello";
    uint32_t op, len;
    ep_req q;
    int rc;

    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        goto bad;
    rc = ep_recv_frame(c->fd, 0, EP_MAX_REQ_PAYLOAD, &op, &c->rbuf, &c->rcap, &len, &why);
    if (rc == 0)
        why = "closed before hello";
    if (rc <= 0)
        goto bad;
    if (op != EP_OP_HELLO) {
        why = "first request is not a hello";
        goto bad;
    }
    if (ep_req_decode(op, c->rbuf, len, &q, &why) < 0)
        goto bad;
    if (q.magic != EP_MAGIC || q.version != EP_VERSION) {
        why = "protocol mismatch (magic or version)";
        goto bad;
    }
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv0, sizeof tv0) < 0)
        goto bad;
    return 0;
bad:
    srv_log(c->s, "connection %u (pid %ld uid %ld): bad hello: %s; closing", c->id, (long)c->pid,
            (long)c->uid, why);
    return -1;
}

/* Connection thread: greet, check the hello, serve requests until EOF or
 * error, then abort an owned backup, shut the socket down and mark the
 * connection done (the fd is closed by whoever joins the thread). */
static void *conn_main(void *arg)
{
    jep_conn *c = arg;
    jep_server *s = c->s;
    const char *why = NULL;
    uint32_t op, len;
    ep_req q;
    ep_resp r;
    int rc;

    if (send_hello(c->fd, JET_errSuccess) < 0)
        goto out;
    if (recv_hello(c) < 0)
        goto out;
    for (;;) {
        rc = ep_recv_frame(c->fd, 0, EP_MAX_REQ_PAYLOAD, &op, &c->rbuf, &c->rcap, &len, &why);
        if (rc == 0) {
            srv_log(s, "connection %u closed by the peer", c->id);
            break;
        }
        if (rc == -1) {
            srv_log(s, "connection %u (pid %ld uid %ld): %s (%s); closing", c->id, (long)c->pid,
                    (long)c->uid, why, strerror(errno));
            break;
        }
        if (rc < 0 || ep_req_decode(op, c->rbuf, len, &q, &why) < 0 || op == EP_OP_HELLO) {
            if (rc > 0 && op == EP_OP_HELLO)
                why = "unexpected hello";
            srv_log(s, "connection %u (pid %ld uid %ld): malformed request: %s; closing", c->id,
                    (long)c->pid, (long)c->uid, why);
            break;
        }
        if (dispatch(c, &q, &r) < 0) {
            srv_log(s, "connection %u: cannot serve opcode %u (out of memory); closing", c->id, op);
            break;
        }
        if (send_resp(c->fd, &r) < 0) {
            srv_log(s, "connection %u: send failed (%s); closing", c->id, strerror(errno));
            break;
        }
    }
out:
    pthread_mutex_lock(&s->mu);
    if (s->owner == c) {
        JET_ERR err = JetEndExternalBackupInstance2(s->inst, JET_bitBackupEndAbort);
        s->owner = NULL;
        pthread_mutex_unlock(&s->mu);
        srv_log(s,
                "connection %u (pid %ld uid %ld) ended with a backup in progress: "
                "backup aborted (%ld)",
                c->id, (long)c->pid, (long)c->uid, (long)err);
        pthread_mutex_lock(&s->mu);
    }
    shutdown(c->fd, SHUT_RDWR);
    c->done = true;
    pthread_mutex_unlock(&s->mu);
    srv_wake(s);
    return NULL;
}

/* Free a joined connection.  No errors. */
static void conn_free(jep_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->rbuf);
    free(c->iobuf);
    free(c->lbuf);
    free(c);
}

/* Join and free every finished connection (all of them with all = true,
 * after they were shut down).  Must be called without s->mu. */
static void reap(jep_server *s, bool all)
{
    for (;;) {
        jep_conn **pp, *c = NULL;
        pthread_mutex_lock(&s->mu);
        for (pp = &s->conns; *pp; pp = &(*pp)->next)
            if ((*pp)->done || all) {
                c = *pp;
                *pp = c->next;
                break;
            }
        pthread_mutex_unlock(&s->mu);
        if (!c)
            return;
        pthread_join(c->thr, NULL);
        conn_free(c);
    }
}

/* true if the peer with credentials uc (connected on fd) may use the
 * endpoint: root, the host's euid, or a member of s->group (primary gid or
 * supplementary groups via SO_PEERGROUPS). */
static bool peer_allowed(jep_server *s, int fd, const struct ucred *uc)
{
    if (uc->uid == 0 || uc->uid == geteuid())
        return true;
    if (s->group == (gid_t)-1)
        return false;
    if (uc->gid == s->group)
        return true;
#ifdef SO_PEERGROUPS
    {
        gid_t small[64], *g = small;
        socklen_t len = sizeof small;
        bool ok = false;
        int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);
        if (rc < 0 && errno == ERANGE) {
            g = malloc(len);
            if (!g)
                return false;
            rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len);
        }
        if (rc == 0)
            for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (g[i] == s->group)
                    ok = true;
        if (g != small)
            free(g);
        return ok;
    }
#else
    return false;
#endif
}

/* Handle one accepted socket: check credentials and the connection limit,
 * then start its thread.  Takes ownership of fd. */
static void admit(jep_server *s, int fd)
{
    struct ucred uc;
    socklen_t len = sizeof uc;
    unsigned active = 0, id;
    jep_conn *c;

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
        srv_log(s, "accept: SO_PEERCRED failed (%s); closing", strerror(errno));
        close(fd);
        return;
    }
    pthread_mutex_lock(&s->mu);
    id = ++s->next_id;
    for (c = s->conns; c; c = c->next)
        active += !c->done;
    pthread_mutex_unlock(&s->mu);
    if (!peer_allowed(s, fd, &uc)) {
        srv_log(s, "connection %u refused: pid %ld uid %ld gid %ld not authorised", id,
                (long)uc.pid, (long)uc.uid, (long)uc.gid);
        (void)send_hello(fd, JET_errAccessDenied);
        close(fd);
        return;
    }
    if (active >= EP_MAX_CONNS) {
        srv_log(s, "connection %u refused: %u connections already open", id, active);
        (void)send_hello(fd, JET_errInstanceUnavailable);
        close(fd);
        return;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        srv_log(s, "connection %u refused: out of memory", id);
        (void)send_hello(fd, JET_errInstanceUnavailable);
        close(fd);
        return;
    }
    c->s = s;
    c->fd = fd;
    c->id = id;
    c->pid = uc.pid;
    c->uid = uc.uid;
    c->gid = uc.gid;
    pthread_mutex_lock(&s->mu);
    if (pthread_create(&c->thr, NULL, conn_main, c) != 0) {
        pthread_mutex_unlock(&s->mu);
        srv_log(s, "connection %u refused: cannot start a thread", id);
        (void)send_hello(fd, JET_errInstanceUnavailable);
        conn_free(c);
        return;
    }
    c->next = s->conns;
    s->conns = c;
    pthread_mutex_unlock(&s->mu);
    srv_log(s, "connection %u accepted: pid %ld uid %ld gid %ld", id, (long)uc.pid, (long)uc.uid,
            (long)uc.gid);
}

/* Accept thread: poll the listening socket and the wake pipe; admit new
 * connections, reap finished ones, exit when s->stopping is set.  After a
 * resource failure of accept it waits (poll timeout on the wake pipe only)
 * instead of spinning. */
static void *accept_main(void *arg)
{
    jep_server *s = arg;
    int backoff = 0;

    for (;;) {
        struct pollfd p[2] = { { s->wake[0], POLLIN, 0 }, { s->lfd, POLLIN, 0 } };
        bool stop;
        int n = poll(p, backoff ? 1 : 2, backoff ? 200 : -1);
        backoff = 0;
        if (n < 0 && errno != EINTR) {
            srv_log(s, "accept loop: poll failed (%s)", strerror(errno));
            backoff = 1;
            continue;
        }
        if (n > 0 && (p[0].revents & POLLIN)) {
            char drain[64];
            while (read(s->wake[0], drain, sizeof drain) > 0)
                ;
        }
        pthread_mutex_lock(&s->mu);
        stop = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stop)
            break;
        reap(s, false);
        if (n > 0 && (p[1].revents & POLLIN)) {
            int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                    srv_log(s, "accept failed (%s); retrying", strerror(errno));
                    backoff = 1;
                }
                continue;
            }
            admit(s, fd);
        }
    }
    return NULL;
}

/* Map an errno of socket-path handling to a Jet error. */
static JET_ERR path_err(int e)
{
    return (e == EACCES || e == EPERM || e == EROFS) ? JET_errAccessDenied : JET_errInvalidPath;
}

/* Remove a stale socket at path: refuse anything that is not a socket and
 * a socket with a live listener.  0 (path free) or a Jet error (logged). */
static JET_ERR clear_path(jep_server *s, const struct sockaddr_un *sa)
{
    struct stat st;
    int fd, rc;

    if (lstat(sa->sun_path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        srv_log(s, "socket path %s: %s", sa->sun_path, strerror(errno));
        return path_err(errno);
    }
    if (!S_ISSOCK(st.st_mode)) {
        srv_log(s, "socket path %s exists and is not a socket; refusing", sa->sun_path);
        return JET_errInvalidPath;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return JET_errOutOfMemory;
    do
        rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
    while (rc < 0 && errno == EINTR);
    close(fd);
    if (rc == 0) {
        srv_log(s, "socket path %s is in use by a live server; refusing", sa->sun_path);
        return JET_errInvalidPath;
    }
    if (unlink(sa->sun_path) < 0 && errno != ENOENT) {
        srv_log(s, "cannot remove stale socket %s: %s", sa->sun_path, strerror(errno));
        return path_err(errno);
    }
    return 0;
}

/* Create the listening socket s->lfd at sa (s->path): the socket inode
 * gets mode before bind creates the file, the group (s->group) is set
 * before listen.  *pbound is true once the file exists (the caller removes
 * it on a later failure).  Errors: JET_errInvalidPath, JET_errAccessDenied,
 * JET_errOutOfMemory (logged through srv_log). */
static JET_ERR listen_socket(jep_server *s, const struct sockaddr_un *sa, mode_t mode, bool *pbound)
{
    struct stat st;

    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->lfd < 0)
        return JET_errOutOfMemory;
    /* the bound file takes the socket inode's mode (& ~umask): set it first */
    if (fchmod(s->lfd, mode) < 0) {
        srv_log(s, "fchmod on the socket: %s", strerror(errno));
        return JET_errAccessDenied;
    }
    if (bind(s->lfd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        srv_log(s, "bind %s: %s", s->path, strerror(errno));
        return path_err(errno);
    }
    *pbound = true;
    if (lstat(s->path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
        srv_log(s, "socket %s vanished after bind", s->path);
        *pbound = false;
        return JET_errInvalidPath;
    }
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if (s->group != (gid_t)-1 && lchown(s->path, (uid_t)-1, s->group) < 0) {
        srv_log(s, "chown %s to group %ld: %s", s->path, (long)s->group, strerror(errno));
        return JET_errAccessDenied;
    }
    if (chmod(s->path, mode) < 0) {
        srv_log(s, "chmod %s: %s", s->path, strerror(errno));
        return JET_errAccessDenied;
    }
    if (listen(s->lfd, 16) < 0) {
        srv_log(s, "listen %s: %s", s->path, strerror(errno));
        return JET_errInvalidPath;
    }
    return JET_errSuccess;
}

/* The instance facts clients ask for (JepGetInfo), through public calls.
 * Errors: JET_errInvalidInstance, those of JetGetSystemParameter. */
static JET_ERR read_info(JET_INSTANCE instance, ep_wire_info *info)
{
    JET_API_PTR v = 0;
    JET_ERR rc;

    rc = JetLibGetInstanceName(instance, info->instance_name, sizeof info->instance_name);
    if (rc < 0)
        return rc;
    rc = JetGetSystemParameter(instance, JET_sesidNil, JET_paramBaseName, NULL, info->base_name,
                               sizeof info->base_name);
    if (rc < 0)
        return rc;
    rc = JetGetSystemParameter(instance, JET_sesidNil, JET_paramDatabasePageSize, &v, NULL, 0);
    if (rc < 0)
        return rc;
    info->cb_page = (unsigned long)v;
    rc = JetGetSystemParameter(instance, JET_sesidNil, JET_paramLegacyFileNames, &v, NULL, 0);
    if (rc < 0)
        return rc;
    info->legacy = (unsigned long)v;
    rc = JetGetSystemParameter(instance, JET_sesidNil, JET_paramCircularLog, &v, NULL, 0);
    if (rc < 0)
        return rc;
    info->circular = v != 0;
    return JET_errSuccess;
}

/* Start serving instance on cfg->socket_path (see endpoint.h).  The socket
 * inode gets its mode (0600, or 0660 with a group) before bind creates the
 * file, the group is set before listen.  Errors: JET_errInvalidPath,
 * JET_errAccessDenied, JET_errOutOfMemory, JET_errInvalidInstance;
 * nothing is left behind on failure. */
JET_ERR JepServerStart(JET_INSTANCE instance, const jep_server_config *cfg, jep_server **ps)
{
    struct sockaddr_un sa;
    jep_server *s = NULL;
    mode_t mode;
    bool bound = false, mu_init = false;
    JET_ERR rc = 0;

    if (ps)
        *ps = NULL;
    if (!cfg || !ps || !cfg->socket_path || !cfg->socket_path[0])
        return JET_errInvalidPath;
    if (strlen(cfg->socket_path) >= sizeof sa.sun_path)
        return JET_errInvalidPath;
    s = calloc(1, sizeof *s);
    if (!s)
        return JET_errOutOfMemory;
    s->lfd = s->wake[0] = s->wake[1] = -1;
    s->inst = instance;
    s->group = cfg->group;
    s->counter = cfg->counter;
    s->counter_arg = cfg->counter_arg;
    s->log = cfg->log;
    s->log_arg = cfg->log_arg;
    s->path = strdup(cfg->socket_path);
    if (!s->path) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    rc = read_info(instance, &s->info);
    if (rc < 0)
        goto out;
    if (pthread_mutex_init(&s->mu, NULL) != 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    mu_init = true;

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
    rc = clear_path(s, &sa);
    if (rc < 0)
        goto out;
    mode = s->group == (gid_t)-1 ? 0600 : 0660;
    rc = listen_socket(s, &sa, mode, &bound);
    if (rc < 0)
        goto out;
    if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    if (pthread_create(&s->accept_thr, NULL, accept_main, s) != 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    s->accept_started = true;
    srv_log(s, "serving instance \"%s\" on %s (mode %04o)", s->info.instance_name, s->path,
            (unsigned)mode);
    *ps = s;
    return JET_errSuccess;
out:
    if (bound)
        unlink(s->path);
    if (s->lfd >= 0)
        close(s->lfd);
    if (s->wake[0] >= 0)
        close(s->wake[0]);
    if (s->wake[1] >= 0)
        close(s->wake[1]);
    if (mu_init)
        pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
    return rc;
}

/* Stop serving (see endpoint.h): stop the accept thread, shut every
 * connection down and join it (each aborts the backup it owns), remove the
 * socket file if it is still ours.  Safe with NULL; call once. */
void JepServerStop(jep_server *s)
{
    struct stat st;
    jep_conn *c;

    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_mutex_unlock(&s->mu);
    srv_wake(s);
    if (s->accept_started)
        pthread_join(s->accept_thr, NULL);
    pthread_mutex_lock(&s->mu);
    for (c = s->conns; c; c = c->next)
        shutdown(c->fd, SHUT_RDWR);
    pthread_mutex_unlock(&s->mu);
    reap(s, true);
    if (s->owner) { /* not reached: connection threads abort what they own */
        (void)JetEndExternalBackupInstance2(s->inst, JET_bitBackupEndAbort);
        s->owner = NULL;
    }
    close(s->lfd);
    if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
        unlink(s->path);
    close(s->wake[0]);
    close(s->wake[1]);
    srv_log(s, "stopped serving on %s", s->path);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}
