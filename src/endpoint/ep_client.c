/*
 * ep_client.c -- backup endpoint client (endpoint.h; wire format in
 * ep_proto.h and docs/endpoint-protocol.md).
 *
 * A jep_client is one connection, used by one thread at a time (no
 * internal locking).  Any transport or protocol failure marks the client
 * broken: the socket is shut down (so the server aborts a backup in
 * progress) and every later call returns JET_errInstanceUnavailable.
 *
 * ReadFile pipelining (docs/endpoint-protocol.md, "Pipelining"): after a
 * full read of the file last opened, while its size is not reached, the
 * client sends the next READFILE (same handle, same size) before
 * returning, so the server reads the engine while the caller processes
 * the data.  The reply stays in the socket until the caller's next
 * JepReadFile of that size receives it straight into its buffer.  Any
 * other call first receives the reply into the stash (c->stash), from
 * which a later read of that handle is served before anything else is
 * asked of the server: the bytes the engine delivered reach the caller
 * in order, exactly once, and an error of the read sent ahead is the
 * error of the caller's next read of that handle.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "endpoint.h"
#include "ep_proto.h"

#define EP_GREETING_TIMEOUT_MS 10000

struct jep_client {
    int fd;
    bool broken;
    jep_info info;
    uint8_t *buf; /* response payloads */
    size_t cap;
    uint8_t req[EP_HDR + EP_MAX_REQ_PAYLOAD];
    /* pipelining (see the top of the file) */
    JET_HANDLE cur_hf; /* file last opened (its reads may go ahead) */
    uint64_t cur_size; /* its size (OPENFILE) */
    uint64_t cur_pos;  /* bytes the engine delivered for it so far */
    bool ahead;        /* a READFILE(ahead_hf, ahead_cb) is in flight */
    JET_HANDLE ahead_hf;
    unsigned long ahead_cb;
    bool stashed; /* the reply of a read sent ahead, not yet asked for */
    JET_HANDLE stash_hf;
    JET_ERR stash_err;      /* its JET_ERR */
    unsigned long stash_cb; /* bytes asked */
    uint8_t *stash;         /* its data [stash_off, stash_n) */
    unsigned long stash_n, stash_off, stash_cap;
    int rcvbuf;    /* SO_RCVBUF set so far (0: default) */
    bool cur_open; /* cur_hf is valid */
};

/* Mark c broken: shut the socket down so the server sees EOF.  Returns
 * JET_errInstanceUnavailable for the caller to pass on. */
static JET_ERR cl_break(jep_client *c)
{
    if (!c->broken) {
        c->broken = true;
        shutdown(c->fd, SHUT_RDWR);
    }
    return JET_errInstanceUnavailable;
}

static JET_ERR cl_stash_ahead(jep_client *c);

/* Encode and send request q, after receiving the reply of a READFILE
 * sent ahead into the stash.  0, JET_errInstanceUnavailable (c already
 * broken, or the send or the stash failed: c is now broken), or
 * JET_errInvalidParameter (q cannot be encoded; nothing sent). */
static JET_ERR cl_send(jep_client *c, const ep_req *q)
{
    size_t n;
    JET_ERR rc;

    if (c->broken)
        return JET_errInstanceUnavailable;
    if (c->ahead) {
        /* a READFILE went ahead: its reply comes first */
        rc = cl_stash_ahead(c);
        if (rc < 0)
            return rc;
    }
    n = ep_req_encode(q, c->req, sizeof c->req);
    if (!n)
        return JET_errInvalidParameter;
    if (ep_send_all(c->fd, c->req, n) < 0)
        return cl_break(c);
    return 0;
}

/* Send request q and receive its response into r (r->data points into
 * c->buf until the next call).  0 with r->err the server's JET_ERR, or
 * JET_errInstanceUnavailable (transport/protocol failure; c is broken),
 * or JET_errInvalidParameter (q cannot be encoded; nothing sent). */
static JET_ERR cl_call(jep_client *c, const ep_req *q, ep_resp *r)
{
    const char *why;
    uint32_t op, len;
    JET_ERR rc;

    rc = cl_send(c, q);
    if (rc < 0)
        return rc;
    if (ep_recv_frame(c->fd, 1, EP_MAX_RESP_PAYLOAD, &op, &c->buf, &c->cap, &len, &why) != 1)
        return cl_break(c);
    if (op != (q->op | EP_RESP) || ep_resp_decode(q->op, c->buf, len, r, &why) < 0)
        return cl_break(c);
    return 0;
}

/* Receive and discard n bytes of the current frame.  0, or
 * JET_errInstanceUnavailable (short or failed; c is broken). */
static JET_ERR cl_skip(jep_client *c, size_t n)
{
    uint8_t sink[4096];

    while (n > 0) {
        size_t k = n < sizeof sink ? n : sizeof sink;
        if (ep_recv_all(c->fd, sink, k) != 1)
            return cl_break(c);
        n -= k;
    }
    return 0;
}

/* Receive a READFILE response's header and fixed part (nfixed bytes) into
 * b with as few recv calls as the socket allows (usually one), checking
 * the header -- length within EP_MAX_RESP_PAYLOAD, opcode, length >= nfixed
 * -- as soon as its 8 bytes are in, so a bad header breaks at once rather
 * than waiting for bytes that will not come.  0 with *plen, or
 * JET_errInstanceUnavailable (c is broken). */
static JET_ERR cl_recv_read_head(jep_client *c, uint8_t *b, uint32_t nfixed, uint32_t *plen)
{
    size_t got = 0, want = EP_HDR + nfixed;
    const char *why;
    uint32_t op;

    while (got < want) {
        ssize_t k = recv(c->fd, b + got, want - got, 0);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return cl_break(c);
        if (got < EP_HDR && got + (size_t)k >= EP_HDR &&
            (ep_hdr_get(b, 1, EP_MAX_RESP_PAYLOAD, plen, &op, &why) < 0 ||
             op != (EP_OP_READFILE | EP_RESP) || *plen < nfixed))
            return cl_break(c);
        got += (size_t)k;
    }
    return 0;
}

/* Send READFILE(hf, chunk) (chunk <= EP_MAX_READ).  0, the errors of
 * cl_send, or JET_errInternalError (the codec's READFILE layout does not
 * fit cl_recv_read: a build bug; nothing sent). */
static JET_ERR cl_send_read(jep_client *c, JET_HANDLE hf, unsigned long chunk)
{
    uint32_t nfixed = ep_resp_fixed_size(EP_OP_READFILE);
    ep_req q;

    if (nfixed == 0 || nfixed > 16)
        return JET_errInternalError; /* codec and client disagree: a build bug */
    memset(&q, 0, sizeof q);
    q.op = EP_OP_READFILE;
    q.hf = hf;
    q.cb = chunk;
    return cl_send(c, &q);
}

/* Receive the reply to a READFILE of hf for chunk (<= EP_MAX_READ) bytes,
 * its data part straight into dst -- no staging in c->buf.  The frame is
 * checked as cl_call + ep_resp_decode check it (length against
 * EP_MAX_RESP_PAYLOAD, opcode, fixed part, cb_data against the maximum and
 * the frame length) before any data byte is read, and cb_data > chunk
 * with a success/warning code is refused before dst is touched.  An error
 * response (r->err < 0) leaves dst alone: data it carries is discarded.
 * Bytes delivered for the file last opened advance c->cur_pos.  Returns 0
 * with r filled (r->data NULL; r->cb_data bytes are in dst when
 * r->err >= 0), or JET_errInstanceUnavailable (transport or protocol
 * failure: c is broken; dst may hold part of the data). */
static JET_ERR cl_recv_read(jep_client *c, JET_HANDLE hf, uint8_t *dst, unsigned long chunk,
                            ep_resp *r)
{
    uint8_t head[EP_HDR + 16];
    uint32_t len, nfixed = ep_resp_fixed_size(EP_OP_READFILE);
    const char *why;
    JET_ERR rc;

    if (nfixed == 0 || nfixed > sizeof head - EP_HDR)
        return cl_break(c); /* cl_send_read refused to send: unreachable */
    rc = cl_recv_read_head(c, head, nfixed, &len);
    if (rc < 0)
        return rc;
    if (ep_resp_decode_head(EP_OP_READFILE, head + EP_HDR, len, r, &why) < 0)
        return cl_break(c);
    if (r->err < 0)
        return cl_skip(c, r->cb_data);
    if (r->cb_data > chunk)
        return cl_break(c);
    if (r->cb_data && ep_recv_all(c->fd, dst, r->cb_data) != 1)
        return cl_break(c);
    if (c->cur_open && hf == c->cur_hf)
        c->cur_pos += r->cb_data;
    return 0;
}

/* Receive the reply of the READFILE sent ahead into the stash (see the
 * top of the file).  0 (c->stashed), or JET_errInstanceUnavailable
 * (transport or protocol failure, or no memory for the stash: c is
 * broken, as the reply cannot be kept in step otherwise). */
static JET_ERR cl_stash_ahead(jep_client *c)
{
    ep_resp r;
    JET_ERR rc;

    c->ahead = false;
    if (c->stash_cap < c->ahead_cb) {
        uint8_t *p = realloc(c->stash, c->ahead_cb);
        if (!p)
            return cl_break(c);
        c->stash = p;
        c->stash_cap = c->ahead_cb;
    }
    rc = cl_recv_read(c, c->ahead_hf, c->stash, c->ahead_cb, &r);
    if (rc < 0)
        return rc;
    c->stashed = true;
    c->stash_hf = c->ahead_hf;
    c->stash_err = r.err;
    c->stash_cb = c->ahead_cb;
    c->stash_n = r.err < 0 ? 0 : r.cb_data;
    c->stash_off = 0;
    return 0;
}

/* Serve a read of chunk bytes of hf from the stash (c->stash_hf == hf):
 * its error, or its next bytes, and when the stash runs out in the middle
 * of a chunk that a full stashed read does not end, the rest from the
 * server.  0 with r as cl_recv_read fills it, or the errors of
 * cl_send_read/cl_recv_read. */
static JET_ERR cl_read_stash(jep_client *c, JET_HANDLE hf, uint8_t *dst, unsigned long chunk,
                             ep_resp *r)
{
    unsigned long k = c->stash_n - c->stash_off;
    ep_resp r2;
    JET_ERR rc;

    memset(r, 0, sizeof *r);
    r->op = EP_OP_READFILE;
    r->err = c->stash_err;
    if (c->stash_err < 0) {
        c->stashed = false;
        return 0;
    }
    if (k > chunk)
        k = chunk;
    memcpy(dst, c->stash + c->stash_off, k);
    c->stash_off += k;
    r->cb_data = (uint32_t)k;
    if (c->stash_off < c->stash_n)
        return 0; /* chunk filled; more stashed */
    c->stashed = false;
    if (k == chunk || c->stash_n < c->stash_cb)
        return 0; /* filled, or the engine's stream ended there */
    rc = cl_send_read(c, hf, chunk - k);
    if (rc >= 0)
        rc = cl_recv_read(c, hf, dst + k, chunk - k, &r2);
    if (rc < 0)
        return rc;
    if (r2.err < 0) {
        *r = r2;
        return 0;
    }
    r->cb_data = (uint32_t)(k + r2.cb_data);
    r->err = r2.err;
    return 0;
}

/* One part (chunk <= EP_MAX_READ bytes) of a JepReadFile into dst: the
 * reply of the read sent ahead when it asked for exactly this, else the
 * stash of hf, else a round trip.  0 with r as cl_recv_read fills it, or
 * JET_errInstanceUnavailable, JET_errInvalidParameter or
 * JET_errInternalError as cl_send_read and cl_recv_read return them. */
static JET_ERR cl_read_part(jep_client *c, JET_HANDLE hf, uint8_t *dst, unsigned long chunk,
                            ep_resp *r)
{
    JET_ERR rc;

    if (c->broken)
        return JET_errInstanceUnavailable;
    if (c->ahead && c->ahead_hf == hf && c->ahead_cb == chunk) {
        c->ahead = false;
        return cl_recv_read(c, hf, dst, chunk, r);
    }
    if (c->ahead) {
        rc = cl_stash_ahead(c);
        if (rc < 0)
            return rc;
    }
    if (c->stashed && c->stash_hf == hf)
        return cl_read_stash(c, hf, dst, chunk, r);
    rc = cl_send_read(c, hf, chunk);
    if (rc < 0)
        return rc;
    return cl_recv_read(c, hf, dst, chunk, r);
}

/* After a full read of chunk bytes of hf: send the next READFILE now when
 * hf is the file last opened, its size is not reached and nothing is in
 * flight or stashed.  A failed send leaves c broken for the next call. */
static void cl_read_ahead(jep_client *c, JET_HANDLE hf, unsigned long chunk)
{
    if (c->broken || c->ahead || c->stashed || !c->cur_open || hf != c->cur_hf ||
        c->cur_pos >= c->cur_size)
        return;
    if (cl_send_read(c, hf, chunk) < 0)
        return;
    c->ahead = true;
    c->ahead_hf = hf;
    c->ahead_cb = chunk;
}

/* Ask for a receive buffer of two READFILE replies of chunk bytes (best
 * effort: Linux sizes an AF_UNIX stream by the sender's buffer, which the
 * server sets; other systems use this one). */
static void cl_size_rcvbuf(jep_client *c, unsigned long chunk)
{
    int want = (int)(2 * (chunk + EP_HDR + 64));

    if (c->rcvbuf >= want)
        return;
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want) == 0)
        c->rcvbuf = want;
}

/* Map a connect() errno to the Jet error endpoint.h promises. */
static JET_ERR connect_err(int e)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
        return JET_errFileNotFound;
    case EACCES:
    case EPERM:
        return JET_errAccessDenied;
    default:
        return JET_errInstanceUnavailable;
    }
}

/* connect() fd to sa, finishing an EINTR-interrupted connect with poll.
 * 0 or -1 with errno. */
static int do_connect(int fd, const struct sockaddr_un *sa)
{
    struct pollfd p = { fd, POLLOUT, 0 };
    socklen_t len = sizeof(int);
    int e = 0;

    if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
        return 0;
    if (errno != EINTR && errno != EINPROGRESS)
        return -1;
    while (poll(&p, 1, -1) < 0)
        if (errno != EINTR)
            return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        return -1;
    if (e) {
        errno = e;
        return -1;
    }
    return 0;
}

/* The opening exchange on a connected socket: the server speaks first
 * (its greeting says accepted or refused), then the client's hello.
 * Errors: JET_errAccessDenied (refused), JET_errInstanceUnavailable
 * (silent, malformed or another protocol version). */
static JET_ERR handshake(jep_client *c)
{
    struct pollfd p;
    const char *why;
    uint32_t op, len;
    ep_req q;
    ep_resp r;
    int n;

    /* the server speaks first: its greeting says accepted or refused */
    p.fd = c->fd;
    p.events = POLLIN;
    do
        n = poll(&p, 1, EP_GREETING_TIMEOUT_MS);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        return JET_errInstanceUnavailable;
    }
    if (ep_recv_frame(c->fd, 1, 64, &op, &c->buf, &c->cap, &len, &why) != 1 ||
        op != (EP_OP_HELLO | EP_RESP) || ep_resp_decode(EP_OP_HELLO, c->buf, len, &r, &why) < 0) {
        return JET_errInstanceUnavailable;
    }
    if (r.err == JET_errAccessDenied) {
        return JET_errAccessDenied;
    }
    if (r.err < 0 || r.magic != EP_MAGIC || r.version != EP_VERSION) {
        return JET_errInstanceUnavailable;
    }
    memset(&q, 0, sizeof q);
    q.op = EP_OP_HELLO;
    q.magic = EP_MAGIC;
    q.version = EP_VERSION;
    n = (int)ep_req_encode(&q, c->req, sizeof c->req);
    if (ep_send_all(c->fd, c->req, (size_t)n) < 0) {
        return JET_errInstanceUnavailable;
    }
    return JET_errSuccess;
}

/* Connect to the endpoint at socket_path (see endpoint.h): greeting,
 * hello, instance info.  Errors: JET_errInvalidParameter (NULL args),
 * JET_errInvalidPath (path too long), JET_errFileNotFound,
 * JET_errAccessDenied, JET_errInstanceUnavailable, JET_errOutOfMemory. */
JET_ERR JepConnect(const char *socket_path, jep_client **pc)
{
    struct sockaddr_un sa;
    jep_client *c = NULL;
    ep_req q;
    ep_resp r;
    JET_ERR rc = 0;

    if (pc)
        *pc = NULL;
    if (!socket_path || !pc)
        return JET_errInvalidParameter;
    if (strlen(socket_path) >= sizeof sa.sun_path)
        return JET_errInvalidPath;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
    c = calloc(1, sizeof *c);
    if (!c)
        return JET_errOutOfMemory;
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    if (do_connect(c->fd, &sa) < 0) {
        rc = connect_err(errno);
        goto out;
    }
    {
        /* a host that stops answering (SIGSTOP, hang) must not hold the
         * client forever: a reply that does not come within
         * JEP_IO_TIMEOUT_S breaks the connection (JET_errInstanceUnavailable) */
        struct timeval tv = { JEP_IO_TIMEOUT_S, 0 };
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
            setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
            rc = JET_errInstanceUnavailable;
            goto out;
        }
    }
    rc = handshake(c);
    if (rc < 0)
        goto out;
    memset(&q, 0, sizeof q);
    q.op = EP_OP_GETINFO;
    rc = cl_call(c, &q, &r);
    if (rc < 0)
        goto out;
    if (r.err < 0 || r.info.cb_page == 0) {
        rc = JET_errInstanceUnavailable;
        goto out;
    }
    memset(&c->info, 0, sizeof c->info);
    memcpy(c->info.instance_name, r.info.instance_name, sizeof c->info.instance_name);
    memcpy(c->info.base_name, r.info.base_name, sizeof c->info.base_name);
    c->info.cb_page = r.info.cb_page;
    c->info.legacy = r.info.legacy;
    c->info.circular = (int)r.info.circular;
    *pc = c;
    return JET_errSuccess;
out:
    JepDisconnect(c);
    return rc;
}

/* Close the connection and free c (the server aborts a backup this
 * connection still owns).  Safe with NULL. */
void JepDisconnect(jep_client *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c->stash);
    free(c);
}

/* Instance parameters as fetched at connect time.  Errors:
 * JET_errInvalidParameter (NULL), JET_errInstanceUnavailable (broken). */
JET_ERR JepGetInfo(jep_client *c, jep_info *info)
{
    if (!c || !info)
        return JET_errInvalidParameter;
    if (c->broken)
        return JET_errInstanceUnavailable;
    *info = c->info;
    return JET_errSuccess;
}

/* Run a request that returns only an error code.  Errors: the server's
 * JET_ERR, or those of cl_call. */
static JET_ERR cl_simple(jep_client *c, ep_req *q)
{
    ep_resp r;
    JET_ERR rc;

    if (!c)
        return JET_errInvalidParameter;
    rc = cl_call(c, q, &r);
    if (rc < 0)
        return rc;
    return r.err;
}

/* Forget the stash (and the file last opened when hf is it, or always
 * when all is set): its handle is closed or the backup ended. */
static void cl_forget(jep_client *c, JET_HANDLE hf, bool all)
{
    if (c->stashed && (all || c->stash_hf == hf))
        c->stashed = false;
    if (c->cur_open && (all || c->cur_hf == hf))
        c->cur_open = false;
}

/* JetBeginExternalBackupInstance over the endpoint. */
JET_ERR JepBeginExternalBackup(jep_client *c, JET_GRBIT grbit)
{
    ep_req q;

    memset(&q, 0, sizeof q);
    q.op = EP_OP_BEGIN;
    q.grbit = grbit;
    if (c)
        cl_forget(c, 0, true);
    return cl_simple(c, &q);
}

/* Common part of the three list calls: send the request, copy the bytes
 * the engine produced into szz and the outputs the engine wrote.  A
 * response with more data than cbMax is a protocol error.  Errors: the
 * server's JET_ERR, JET_errInstanceUnavailable. */
static JET_ERR cl_list(jep_client *c, uint32_t op, char *szz, unsigned long cbMax,
                       unsigned long *pcbActual, JET_LOGINFO_A *pLogInfo)
{
    ep_req q;
    ep_resp r;
    JET_ERR rc;

    if (!c)
        return JET_errInvalidParameter;
    memset(&q, 0, sizeof q);
    q.op = op;
    q.flags = (szz ? EP_F_BUF : 0) | (pcbActual ? EP_F_PCB : 0) | (pLogInfo ? EP_F_LOGINFO : 0);
    q.cb = cbMax;
    q.loginfo_cb = pLogInfo ? pLogInfo->cbSize : 0;
    rc = cl_call(c, &q, &r);
    if (rc < 0)
        return rc;
    if (r.cb_data > (szz ? cbMax : 0))
        return cl_break(c);
    if (r.cb_data)
        memcpy(szz, r.data, r.cb_data);
    if (pcbActual && (r.oflags & EP_O_PCB))
        *pcbActual = (unsigned long)r.cb_actual;
    if (pLogInfo && (r.oflags & EP_O_LOGINFO)) {
        pLogInfo->cbSize = (unsigned long)r.li_cb;
        pLogInfo->ulGenLow = (unsigned long)r.li_low;
        pLogInfo->ulGenHigh = (unsigned long)r.li_high;
        memcpy(pLogInfo->szBaseName, r.li_base, sizeof pLogInfo->szBaseName);
    }
    return r.err;
}

/* JetGetAttachInfoInstanceA over the endpoint (server buffer capped at
 * EP_MAX_LIST bytes). */
JET_ERR JepGetAttachInfo(jep_client *c, char *szz, unsigned long cbMax, unsigned long *pcbActual)
{
    return cl_list(c, EP_OP_GETATTACHINFO, szz, cbMax, pcbActual, NULL);
}

/* JetOpenFileInstanceA over the endpoint.  Outputs are written only on
 * success; like the engine, NULL output pointers give
 * JET_errInvalidParameter (checked locally).  Extra error:
 * JET_errInvalidPath (name over EP_MAX_NAME). */
JET_ERR JepOpenFile(jep_client *c, const char *szFileName, JET_HANDLE *phf,
                    unsigned long *pulSizeLow, unsigned long *pulSizeHigh)
{
    ep_req q;
    ep_resp r;
    JET_ERR rc;

    if (!c || !phf || !pulSizeLow || !pulSizeHigh)
        return JET_errInvalidParameter;
    memset(&q, 0, sizeof q);
    q.op = EP_OP_OPENFILE;
    if (szFileName) {
        size_t n = strlen(szFileName);
        if (n > EP_MAX_NAME)
            return JET_errInvalidPath;
        q.flags = EP_F_NAME;
        q.name = szFileName;
        q.cb_name = (uint32_t)n;
    }
    rc = cl_call(c, &q, &r);
    if (rc < 0)
        return rc;
    if (r.err >= 0) {
        c->cur_open = true; /* its reads may go ahead */
        c->cur_hf = (JET_HANDLE)r.hf;
        c->cur_size = r.size_low | r.size_high << 32;
        c->cur_pos = 0;
        if (phf)
            *phf = (JET_HANDLE)r.hf;
        if (pulSizeLow)
            *pulSizeLow = (unsigned long)r.size_low;
        if (pulSizeHigh)
            *pulSizeHigh = (unsigned long)r.size_high;
    }
    return r.err;
}

/* JetReadFileInstance over the endpoint.  Local checks as ESE does them
 * (JET_errInvalidParameter: pv not 4096-aligned, cb not a multiple of the
 * instance page size, pv NULL with cb > 0).  A request above EP_MAX_READ
 * is split into consecutive reads of EP_MAX_READ bytes, stopping at the
 * first short one; an error in any part is returned as the call's error
 * (never a short read) and *pcb is then 0.  A full read of the file last
 * opened sends the next read ahead (see the top of the file). */
JET_ERR JepReadFile(jep_client *c, JET_HANDLE hf, void *pv, unsigned long cb, unsigned long *pcb)
{
    unsigned long total = 0;
    JET_ERR err = 0, rc;
    ep_resp r;

    if (!c)
        return JET_errInvalidParameter;
    if (((uintptr_t)pv % EP_PAGE_ALIGN) != 0 || cb % c->info.cb_page != 0 || (!pv && cb))
        return JET_errInvalidParameter;
    if (pcb)
        *pcb = 0;
    cl_size_rcvbuf(c, cb > EP_MAX_READ ? EP_MAX_READ : cb);
    do {
        unsigned long chunk = cb - total > EP_MAX_READ ? EP_MAX_READ : cb - total;
        rc = cl_read_part(c, hf, pv ? (uint8_t *)pv + total : NULL, chunk, &r);
        if (rc < 0)
            return rc;
        if (r.err < 0)
            return r.err;
        total += r.cb_data;
        err = r.err;
        if (r.cb_data < chunk)
            break;
    } while (total < cb);
    if (cb > 0 && total == cb)
        cl_read_ahead(c, hf, cb > EP_MAX_READ ? EP_MAX_READ : cb);
    if (pcb)
        *pcb = total;
    return err;
}

/* JetCloseFileInstance over the endpoint. */
JET_ERR JepCloseFile(jep_client *c, JET_HANDLE hf)
{
    ep_req q;
    JET_ERR rc;

    memset(&q, 0, sizeof q);
    q.op = EP_OP_CLOSEFILE;
    q.hf = hf;
    rc = cl_simple(c, &q); /* receives a read sent ahead first */
    if (c)
        cl_forget(c, hf, false);
    return rc;
}

/* JetGetLogInfoInstance2A over the endpoint (buffer cap EP_MAX_LIST). */
JET_ERR JepGetLogInfo2(jep_client *c, char *szz, unsigned long cbMax, unsigned long *pcbActual,
                       JET_LOGINFO_A *pLogInfo)
{
    return cl_list(c, EP_OP_GETLOGINFO2, szz, cbMax, pcbActual, pLogInfo);
}

/* JetGetTruncateLogInfoInstanceA over the endpoint (cap EP_MAX_LIST). */
JET_ERR JepGetTruncateLogInfo(jep_client *c, char *szz, unsigned long cbMax,
                              unsigned long *pcbActual)
{
    return cl_list(c, EP_OP_GETTRUNCATELOGINFO, szz, cbMax, pcbActual, NULL);
}

/* JetTruncateLogInstance over the endpoint. */
JET_ERR JepTruncateLog(jep_client *c)
{
    ep_req q;

    memset(&q, 0, sizeof q);
    q.op = EP_OP_TRUNCATELOG;
    return cl_simple(c, &q);
}

/* JetEndExternalBackupInstance2 over the endpoint. */
JET_ERR JepEndExternalBackup2(jep_client *c, JET_GRBIT grbit)
{
    ep_req q;
    JET_ERR rc;

    memset(&q, 0, sizeof q);
    q.op = EP_OP_ENDBACKUP2;
    q.grbit = grbit;
    rc = cl_simple(c, &q); /* receives a read sent ahead first */
    if (c)
        cl_forget(c, 0, true);
    return rc;
}

/* The host's committed-transaction count sampled before the backup's log
 * roll (see endpoint.h).  Errors: JET_errInvalidParameter (NULL, or no
 * counter registered), JET_errInvalidBackupSequence, transport errors. */
JET_ERR JepGetCommittedAtRoll(jep_client *c, unsigned long long *pn)
{
    ep_req q;
    ep_resp r;
    JET_ERR rc;

    if (!c || !pn)
        return JET_errInvalidParameter;
    memset(&q, 0, sizeof q);
    q.op = EP_OP_GETCOMMITTED;
    rc = cl_call(c, &q, &r);
    if (rc < 0)
        return rc;
    if (r.err >= 0)
        *pn = r.n;
    return r.err;
}

/* "Could a backup begin now?" over the endpoint (see endpoint.h): the
 * server's JetLibCheckBackup answer, nothing begun.  Errors: the Jet
 * error a Begin would return, JET_errInvalidParameter (c NULL), transport
 * errors. */
JET_ERR JepCheckBackup(jep_client *c, JET_GRBIT grbit, unsigned long long *pcbDatabases,
                       unsigned long *pcDatabases)
{
    ep_req q;
    ep_resp r;
    JET_ERR rc;

    if (!c)
        return JET_errInvalidParameter;
    memset(&q, 0, sizeof q);
    q.op = EP_OP_CHECKBEGIN;
    q.grbit = grbit;
    rc = cl_call(c, &q, &r);
    if (rc < 0)
        return rc;
    if (pcbDatabases)
        *pcbDatabases = r.cb_dbs;
    if (pcDatabases)
        *pcDatabases = r.cdb;
    return r.err;
}
