/*
 * ep_proto.c -- codec and socket I/O helpers of the backup endpoint wire
 * protocol (ep_proto.h; docs/endpoint-protocol.md).  No state; thread-safe.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ep_proto.h"

/* Store v little-endian at p (4 bytes).  No errors. */
void ep_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* Store v little-endian at p (8 bytes).  No errors. */
void ep_put64(uint8_t *p, uint64_t v)
{
    ep_put32(p, (uint32_t)v);
    ep_put32(p + 4, (uint32_t)(v >> 32));
}

/* Load a little-endian u32 from p.  No errors. */
uint32_t ep_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Load a little-endian u64 from p.  No errors. */
uint64_t ep_get64(const uint8_t *p)
{
    return (uint64_t)ep_get32(p) | (uint64_t)ep_get32(p + 4) << 32;
}

/* Write a frame header {len, op} at p (8 bytes).  No errors. */
void ep_hdr_put(uint8_t *p, uint32_t len, uint32_t op)
{
    ep_put32(p, len);
    ep_put32(p + 4, op);
}

/* Validate a frame header: opcode known for the direction, length <= max.
 * 0 or -1 with a static reason in *why. */
int ep_hdr_get(const uint8_t *p, int resp, uint32_t max, uint32_t *plen, uint32_t *pop,
               const char **why)
{
    uint32_t len = ep_get32(p), op = ep_get32(p + 4), base;

    base = resp ? (op & ~EP_RESP) : op;
    if ((resp && !(op & EP_RESP)) || (!resp && (op & EP_RESP)) || base < 1 || base > EP_OP_LAST) {
        *why = "unknown opcode";
        return -1;
    }
    if (len > max) {
        *why = "frame length exceeds the maximum";
        return -1;
    }
    *plen = len;
    *pop = op;
    return 0;
}

/* Flags a request of op may carry.  No errors. */
static uint32_t req_flags_allowed(uint32_t op)
{
    switch (op) {
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        return EP_F_BUF | EP_F_PCB;
    case EP_OP_GETLOGINFO2:
        return EP_F_BUF | EP_F_PCB | EP_F_LOGINFO;
    case EP_OP_OPENFILE:
        return EP_F_NAME;
    default:
        return 0;
    }
}

/* Payload size of a request (fixed part; OPENFILE adds the name).
 * Returns -1 for an unknown op. */
static long req_fixed_size(uint32_t op)
{
    switch (op) {
    case EP_OP_HELLO:
        return 8;
    case EP_OP_GETINFO:
        return 0;
    case EP_OP_BEGIN:
        return 8;
    case EP_OP_GETATTACHINFO:
        return 12;
    case EP_OP_OPENFILE:
        return 8;
    case EP_OP_READFILE:
        return 12;
    case EP_OP_CLOSEFILE:
        return 8;
    case EP_OP_GETLOGINFO2:
        return 20;
    case EP_OP_GETTRUNCATELOGINFO:
        return 12;
    case EP_OP_TRUNCATELOG:
        return 0;
    case EP_OP_ENDBACKUP2:
        return 8;
    case EP_OP_GETCOMMITTED:
        return 0;
    case EP_OP_CHECKBEGIN:
        return 8;
    default:
        return -1;
    }
}

/* Encode request r as a complete frame into out[cap].  Returns the frame
 * size or 0 (invalid request, or cap too small). */
size_t ep_req_encode(const ep_req *r, uint8_t *out, size_t cap)
{
    long fixed = req_fixed_size(r->op);
    size_t len;
    uint8_t *p;

    if (fixed < 0 || (r->flags & ~req_flags_allowed(r->op)))
        return 0;
    len = (size_t)fixed;
    if (r->op == EP_OP_OPENFILE) {
        if (r->cb_name > EP_MAX_NAME || (!(r->flags & EP_F_NAME) && r->cb_name) ||
            (r->cb_name && (!r->name || memchr(r->name, 0, r->cb_name))))
            return 0;
        len += r->cb_name;
    }
    if (r->op == EP_OP_READFILE && r->cb > EP_MAX_READ)
        return 0;
    if (cap < EP_HDR + len)
        return 0;
    ep_hdr_put(out, (uint32_t)len, r->op);
    p = out + EP_HDR;
    switch (r->op) {
    case EP_OP_HELLO:
        ep_put32(p, r->magic);
        ep_put32(p + 4, r->version);
        break;
    case EP_OP_BEGIN:
    case EP_OP_ENDBACKUP2:
    case EP_OP_CHECKBEGIN:
        ep_put64(p, r->grbit);
        break;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        ep_put32(p, r->flags);
        ep_put64(p + 4, r->cb);
        break;
    case EP_OP_GETLOGINFO2:
        ep_put32(p, r->flags);
        ep_put64(p + 4, r->cb);
        ep_put64(p + 12, r->loginfo_cb);
        break;
    case EP_OP_OPENFILE:
        ep_put32(p, r->flags);
        ep_put32(p + 4, r->cb_name);
        if (r->cb_name)
            memcpy(p + 8, r->name, r->cb_name);
        break;
    case EP_OP_READFILE:
        ep_put64(p, r->hf);
        ep_put32(p + 8, (uint32_t)r->cb);
        break;
    case EP_OP_CLOSEFILE:
        ep_put64(p, r->hf);
        break;
    default:
        break;
    }
    return EP_HDR + len;
}

/* Decode a request payload p[len] of opcode op into r (r->name points into
 * p).  0, or -1 with a static reason in *why; r is then unspecified. */
int ep_req_decode(uint32_t op, const uint8_t *p, uint32_t len, ep_req *r, const char **why)
{
    long fixed = req_fixed_size(op);

    memset(r, 0, sizeof *r);
    r->op = op;
    if (fixed < 0) {
        *why = "unknown opcode";
        return -1;
    }
    if (len < (uint32_t)fixed) {
        *why = "truncated request";
        return -1;
    }
    if (op != EP_OP_OPENFILE && len != (uint32_t)fixed) {
        *why = "request longer than its opcode allows";
        return -1;
    }
    switch (op) {
    case EP_OP_HELLO:
        r->magic = ep_get32(p);
        r->version = ep_get32(p + 4);
        break;
    case EP_OP_BEGIN:
    case EP_OP_ENDBACKUP2:
    case EP_OP_CHECKBEGIN:
        r->grbit = ep_get64(p);
        break;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        r->flags = ep_get32(p);
        r->cb = ep_get64(p + 4);
        break;
    case EP_OP_GETLOGINFO2:
        r->flags = ep_get32(p);
        r->cb = ep_get64(p + 4);
        r->loginfo_cb = ep_get64(p + 12);
        break;
    case EP_OP_OPENFILE:
        r->flags = ep_get32(p);
        r->cb_name = ep_get32(p + 4);
        if (r->cb_name > EP_MAX_NAME) {
            *why = "file name too long";
            return -1;
        }
        if (r->cb_name != len - 8) {
            *why = "file name length does not match the frame";
            return -1;
        }
        if (!(r->flags & EP_F_NAME) && r->cb_name) {
            *why = "file name bytes without the name flag";
            return -1;
        }
        r->name = (const char *)p + 8;
        if (memchr(r->name, 0, r->cb_name)) {
            *why = "NUL inside the file name";
            return -1;
        }
        break;
    case EP_OP_READFILE:
        r->hf = ep_get64(p);
        r->cb = ep_get32(p + 8);
        if (r->cb > EP_MAX_READ) {
            *why = "read size exceeds the maximum";
            return -1;
        }
        break;
    case EP_OP_CLOSEFILE:
        r->hf = ep_get64(p);
        break;
    default:
        break;
    }
    if (r->flags & ~req_flags_allowed(op)) {
        *why = "unknown request flags";
        return -1;
    }
    return 0;
}

/* Fixed payload size of a response to op (data excluded); -1 if unknown. */
static long resp_fixed_size(uint32_t op)
{
    switch (op) {
    case EP_OP_HELLO:
        return 12;
    case EP_OP_GETINFO:
        return 4 + 64 + 4 + 12;
    case EP_OP_BEGIN:
    case EP_OP_CLOSEFILE:
    case EP_OP_TRUNCATELOG:
    case EP_OP_ENDBACKUP2:
        return 4;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        return 20;
    case EP_OP_GETLOGINFO2:
        return 48;
    case EP_OP_OPENFILE:
        return 28;
    case EP_OP_READFILE:
        return 8;
    case EP_OP_GETCOMMITTED:
        return 12;
    case EP_OP_CHECKBEGIN:
        return 16;
    default:
        return -1;
    }
}

/* Largest data part of a response to op.  No errors. */
static uint32_t resp_data_max(uint32_t op)
{
    switch (op) {
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
    case EP_OP_GETLOGINFO2:
        return EP_MAX_LIST;
    case EP_OP_READFILE:
        return EP_MAX_READ;
    default:
        return 0;
    }
}

/* Out-flags a response to op may carry.  No errors. */
static uint32_t resp_oflags_allowed(uint32_t op)
{
    if (op == EP_OP_GETLOGINFO2)
        return EP_O_PCB | EP_O_LOGINFO;
    if (op == EP_OP_GETATTACHINFO || op == EP_OP_GETTRUNCATELOGINFO)
        return EP_O_PCB;
    return 0;
}

/* true if the fixed-size string field s[cb] holds a NUL.  No errors. */
static int has_nul(const char *s, size_t cb)
{
    return memchr(s, 0, cb) != NULL;
}

/* Encode the header and fixed part of response r into out[cap]; the frame
 * length includes r->cb_data bytes the caller sends next.  Returns the
 * bytes written or 0 (invalid response or cap too small). */
size_t ep_resp_encode_head(const ep_resp *r, uint8_t *out, size_t cap)
{
    long fixed = resp_fixed_size(r->op);
    uint8_t *p;

    if (fixed < 0 || r->cb_data > resp_data_max(r->op) ||
        (r->oflags & ~resp_oflags_allowed(r->op)) || (r->cb_data && !r->data))
        return 0;
    if (r->op == EP_OP_GETINFO && (!has_nul(r->info.instance_name, sizeof r->info.instance_name) ||
                                   !has_nul(r->info.base_name, sizeof r->info.base_name)))
        return 0;
    if (r->op == EP_OP_GETLOGINFO2 && !has_nul(r->li_base, sizeof r->li_base))
        return 0;
    if (cap < EP_HDR + (size_t)fixed)
        return 0;
    ep_hdr_put(out, (uint32_t)fixed + r->cb_data, r->op | EP_RESP);
    p = out + EP_HDR;
    memset(p, 0, (size_t)fixed);
    ep_put32(p, (uint32_t)r->err);
    p += 4;
    switch (r->op) {
    case EP_OP_HELLO:
        ep_put32(p, r->magic);
        ep_put32(p + 4, r->version);
        break;
    case EP_OP_GETINFO:
        memcpy(p, r->info.instance_name, 64);
        memcpy(p + 64, r->info.base_name, 4);
        ep_put32(p + 68, r->info.cb_page);
        ep_put32(p + 72, r->info.legacy);
        ep_put32(p + 76, r->info.circular);
        break;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        ep_put32(p, r->oflags);
        ep_put64(p + 4, r->cb_actual);
        ep_put32(p + 12, r->cb_data);
        break;
    case EP_OP_GETLOGINFO2:
        ep_put32(p, r->oflags);
        ep_put64(p + 4, r->cb_actual);
        ep_put64(p + 12, r->li_cb);
        ep_put64(p + 20, r->li_low);
        ep_put64(p + 28, r->li_high);
        memcpy(p + 36, r->li_base, 4);
        ep_put32(p + 40, r->cb_data);
        break;
    case EP_OP_OPENFILE:
        ep_put64(p, r->hf);
        ep_put64(p + 8, r->size_low);
        ep_put64(p + 16, r->size_high);
        break;
    case EP_OP_READFILE:
        ep_put32(p, r->cb_data);
        break;
    case EP_OP_GETCOMMITTED:
        ep_put64(p, r->n);
        break;
    case EP_OP_CHECKBEGIN:
        ep_put32(p, r->cdb);
        ep_put64(p + 4, r->cb_dbs);
        break;
    default:
        break;
    }
    return EP_HDR + (size_t)fixed;
}

/* Encode response r with its data as one complete frame into out[cap].
 * Returns the frame size or 0. */
size_t ep_resp_encode(const ep_resp *r, uint8_t *out, size_t cap)
{
    size_t n = ep_resp_encode_head(r, out, cap);

    if (!n || cap - n < r->cb_data)
        return 0;
    if (r->cb_data)
        memcpy(out + n, r->data, r->cb_data);
    return n + r->cb_data;
}

/* Bytes of the fixed part of a response to op (its data excluded), or 0
 * for an unknown op.  No errors. */
uint32_t ep_resp_fixed_size(uint32_t op)
{
    long fixed = resp_fixed_size(op);

    return fixed < 0 ? 0 : (uint32_t)fixed;
}

/* Decode the fixed part of a response to request opcode op whose payload
 * is len bytes; p holds ep_resp_fixed_size(op) bytes and is read only when
 * len covers them.  All of ep_resp_decode's checks; r->data is NULL.  0, or
 * -1 with a static reason in *why.  (92 lines: one case per opcode, each a
 * few field reads in wire order beside its bounds check; split up, the
 * wire layout of a response would no longer read in one place.) */
int ep_resp_decode_head(uint32_t op, const uint8_t *p, uint32_t len, ep_resp *r, const char **why)
{
    long fixed = resp_fixed_size(op);
    uint32_t cb_data = 0, rest;

    memset(r, 0, sizeof *r);
    r->op = op;
    if (fixed < 0) {
        *why = "unknown opcode";
        return -1;
    }
    if (len < (uint32_t)fixed) {
        *why = "truncated response";
        return -1;
    }
    rest = len - (uint32_t)fixed;
    r->err = (int32_t)ep_get32(p);
    p += 4;
    switch (op) {
    case EP_OP_HELLO:
        r->magic = ep_get32(p);
        r->version = ep_get32(p + 4);
        break;
    case EP_OP_GETINFO:
        memcpy(r->info.instance_name, p, 64);
        memcpy(r->info.base_name, p + 64, 4);
        r->info.cb_page = ep_get32(p + 68);
        r->info.legacy = ep_get32(p + 72);
        r->info.circular = ep_get32(p + 76);
        if (!has_nul(r->info.instance_name, 64) || !has_nul(r->info.base_name, 4)) {
            *why = "unterminated string in instance info";
            return -1;
        }
        break;
    case EP_OP_GETATTACHINFO:
    case EP_OP_GETTRUNCATELOGINFO:
        r->oflags = ep_get32(p);
        r->cb_actual = ep_get64(p + 4);
        cb_data = ep_get32(p + 12);
        break;
    case EP_OP_GETLOGINFO2:
        r->oflags = ep_get32(p);
        r->cb_actual = ep_get64(p + 4);
        r->li_cb = ep_get64(p + 12);
        r->li_low = ep_get64(p + 20);
        r->li_high = ep_get64(p + 28);
        memcpy(r->li_base, p + 36, 4);
        cb_data = ep_get32(p + 40);
        if (!has_nul(r->li_base, 4)) {
            *why = "unterminated log base name";
            return -1;
        }
        break;
    case EP_OP_OPENFILE:
        r->hf = ep_get64(p);
        r->size_low = ep_get64(p + 8);
        r->size_high = ep_get64(p + 16);
        break;
    case EP_OP_READFILE:
        cb_data = ep_get32(p);
        break;
    case EP_OP_GETCOMMITTED:
        r->n = ep_get64(p);
        break;
    case EP_OP_CHECKBEGIN:
        r->cdb = ep_get32(p);
        r->cb_dbs = ep_get64(p + 4);
        break;
    default:
        break;
    }
    if (cb_data > resp_data_max(op)) {
        *why = "data length exceeds the maximum";
        return -1;
    }
    if (cb_data != rest) {
        *why = rest < cb_data ? "truncated response data" : "response longer than its data length";
        return -1;
    }
    if (r->oflags & ~resp_oflags_allowed(op)) {
        *why = "unknown response flags";
        return -1;
    }
    r->cb_data = cb_data;
    return 0;
}

/* Decode the payload p[len] of the response to request opcode op into r
 * (r->data points into p).  0, or -1 with a static reason in *why. */
int ep_resp_decode(uint32_t op, const uint8_t *p, uint32_t len, ep_resp *r, const char **why)
{
    if (ep_resp_decode_head(op, p, len, r, why) < 0)
        return -1;
    r->data = r->cb_data ? p + ep_resp_fixed_size(op) : NULL;
    return 0;
}

/* Send n bytes from p on fd, retrying EINTR and partial sends; never
 * raises SIGPIPE.  0, or -1 with errno. */
int ep_send_all(int fd, const void *p, size_t n)
{
    const uint8_t *q = p;

    while (n > 0) {
        ssize_t k = send(fd, q, n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        q += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Send a[na] then b[nb] (either may be empty), with one sendmsg when the
 * socket takes it all; retries EINTR and partial sends.  0 or -1/errno. */
int ep_send2(int fd, const void *a, size_t na, const void *b, size_t nb)
{
    struct iovec iov[2];
    struct msghdr mh;
    ssize_t k;

    for (;;) {
        memset(&mh, 0, sizeof mh);
        iov[0].iov_base = (void *)a;
        iov[0].iov_len = na;
        iov[1].iov_base = (void *)b;
        iov[1].iov_len = nb;
        mh.msg_iov = iov;
        mh.msg_iovlen = 2;
        k = sendmsg(fd, &mh, MSG_NOSIGNAL);
        if (k >= 0 || errno != EINTR)
            break;
    }
    if (k < 0)
        return -1;
    if ((size_t)k < na)
        return ep_send_all(fd, (const uint8_t *)a + k, na - (size_t)k) < 0 ||
                       ep_send_all(fd, b, nb) < 0
                   ? -1
                   : 0;
    return ep_send_all(fd, (const uint8_t *)b + ((size_t)k - na), nb - ((size_t)k - na));
}

/* Receive exactly n bytes into p.  1 done; 0 EOF before the first byte;
 * -1 error (errno; EPIPE for an EOF after some bytes). */
int ep_recv_all(int fd, void *p, size_t n)
{
    uint8_t *q = p;
    size_t got = 0;

    while (got < n) {
        ssize_t k = recv(fd, q + got, n - got, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (k == 0) {
            if (got == 0)
                return 0;
            errno = EPIPE;
            return -1;
        }
        got += (size_t)k;
    }
    return 1;
}

/* Receive one frame (see ep_proto.h).  1 frame; 0 clean EOF before the
 * header; -1 transport failure (errno; *why); -2 protocol violation
 * (header rejected, or EOF inside the frame; *why) -- the payload of a
 * rejected header is not read.  *pbuf is grown with realloc; the caller
 * owns it. */
int ep_recv_frame(int fd, int resp, uint32_t max, uint32_t *pop, uint8_t **pbuf, size_t *pcap,
                  uint32_t *plen, const char **why)
{
    uint8_t hdr[EP_HDR];
    uint32_t len, op;
    int rc;

    rc = ep_recv_all(fd, hdr, sizeof hdr);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        if (errno == EPIPE) {
            *why = "connection closed inside a frame header";
            return -2;
        }
        *why = "receive error";
        return -1;
    }
    if (ep_hdr_get(hdr, resp, max, &len, &op, why) < 0)
        return -2;
    if (*pcap < len || !*pbuf) {
        size_t cap = len ? len : 1;
        uint8_t *nb = realloc(*pbuf, cap);
        if (!nb) {
            errno = ENOMEM;
            *why = "out of memory for a frame";
            return -1;
        }
        *pbuf = nb;
        *pcap = cap;
    }
    if (len) {
        rc = ep_recv_all(fd, *pbuf, len);
        if (rc == 0 || (rc < 0 && errno == EPIPE)) {
            *why = "connection closed inside a frame";
            return -2;
        }
        if (rc < 0) {
            *why = "receive error";
            return -1;
        }
    }
    *pop = op;
    *plen = len;
    return 1;
}
