/*
 * ep_proto.h -- wire protocol of the backup endpoint (endpoint.h), shared by
 * ep_server.c and ep_client.c.  docs/endpoint-protocol.md is the reference.
 *
 * A frame is { u32 length, u32 opcode, payload[length] }, little-endian,
 * where length counts the payload only.  Requests carry an EP_OP_* opcode,
 * responses the request's opcode | EP_RESP and start with the i32 JET_ERR.
 * The codec is pure (no I/O, no state, safe from any thread) and never
 * trusts its input: every decoder checks each length against the payload
 * it was given and against the protocol maxima, and rejects trailing bytes.
 * The I/O helpers at the end retry EINTR and partial transfers and never
 * raise SIGPIPE (MSG_NOSIGNAL).
 */
#ifndef EP_PROTO_H
#define EP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define EP_MAGIC 0x3150454Au /* "JEP1" little-endian */
#define EP_VERSION 1u
#define EP_HDR 8u               /* u32 length + u32 opcode */
#define EP_RESP 0x80000000u     /* response opcode bit */
#define EP_PAGE_ALIGN 4096u     /* JepReadFile buffer alignment */
#define EP_MAX_READ (16u << 20) /* bytes of one ReadFile request */
#define EP_MAX_LIST (4u << 20)  /* list buffer the server uses at most */
#define EP_MAX_NAME 4096u       /* OpenFile name bytes (no NUL) */
#define EP_MAX_REQ_PAYLOAD (16u + EP_MAX_NAME)
#define EP_MAX_RESP_PAYLOAD (EP_MAX_READ + 64u)

enum ep_op {
    EP_OP_HELLO = 1,
    EP_OP_GETINFO = 2,
    EP_OP_BEGIN = 3,
    EP_OP_GETATTACHINFO = 4,
    EP_OP_OPENFILE = 5,
    EP_OP_READFILE = 6,
    EP_OP_CLOSEFILE = 7,
    EP_OP_GETLOGINFO2 = 8,
    EP_OP_GETTRUNCATELOGINFO = 9,
    EP_OP_TRUNCATELOG = 10,
    EP_OP_ENDBACKUP2 = 11,
    EP_OP_GETCOMMITTED = 12,
    EP_OP_CHECKBEGIN = 13, /* could a Begin of grbit succeed now? (read-only) */
    EP_OP_LAST = 13
};

/* request flags: which caller pointers were non-NULL */
#define EP_F_BUF 0x1u     /* list calls: szz */
#define EP_F_PCB 0x2u     /* list calls: pcbActual */
#define EP_F_LOGINFO 0x4u /* GETLOGINFO2: pLogInfo */
#define EP_F_NAME 0x8u    /* OPENFILE: szFileName */
/* response out-flags: which outputs the engine wrote */
#define EP_O_PCB 0x1u
#define EP_O_LOGINFO 0x2u

typedef struct ep_req {
    uint32_t op;
    uint32_t flags;          /* EP_F_* allowed for op */
    uint32_t magic, version; /* HELLO */
    uint64_t grbit;          /* BEGIN, ENDBACKUP2, CHECKBEGIN */
    uint64_t hf;             /* READFILE, CLOSEFILE */
    uint64_t cb;             /* READFILE: bytes (<= EP_MAX_READ); lists: cbMax */
    uint64_t loginfo_cb;     /* GETLOGINFO2: pLogInfo->cbSize */
    const char *name;        /* OPENFILE: not NUL-terminated, no NUL inside */
    uint32_t cb_name;        /* <= EP_MAX_NAME */
} ep_req;

typedef struct ep_wire_info {
    char instance_name[64]; /* NUL-terminated */
    char base_name[4];      /* NUL-terminated */
    uint32_t cb_page, legacy, circular;
} ep_wire_info;

typedef struct ep_resp {
    uint32_t op; /* the request opcode (without EP_RESP) */
    int32_t err;
    uint32_t magic, version;         /* HELLO */
    ep_wire_info info;               /* GETINFO */
    uint32_t oflags;                 /* lists: EP_O_* */
    uint64_t cb_actual;              /* lists */
    uint64_t li_cb, li_low, li_high; /* GETLOGINFO2 */
    char li_base[4];
    uint64_t hf, size_low, size_high; /* OPENFILE */
    uint64_t n;                       /* GETCOMMITTED */
    uint32_t cdb;                     /* CHECKBEGIN: attached databases */
    uint64_t cb_dbs;                  /* CHECKBEGIN: their stream sizes, summed */
    const uint8_t *data;              /* lists (<= EP_MAX_LIST), READFILE (<= EP_MAX_READ) */
    uint32_t cb_data;
} ep_resp;

/* Little-endian helpers. */
void ep_put32(uint8_t *p, uint32_t v);
void ep_put64(uint8_t *p, uint64_t v);
uint32_t ep_get32(const uint8_t *p);
uint64_t ep_get64(const uint8_t *p);

/* Frame header.  ep_hdr_get returns 0, or -1 (and *why) when the opcode is
 * unknown for the direction (resp = 0 requests, 1 responses) or the length
 * exceeds max. */
void ep_hdr_put(uint8_t *p, uint32_t len, uint32_t op);
int ep_hdr_get(const uint8_t *p, int resp, uint32_t max, uint32_t *plen, uint32_t *pop,
               const char **why);

/* Encode a whole request frame (header included) into out[cap].  Returns
 * the frame size, or 0 if r is invalid (unknown op, bad flags, oversized
 * name or read) or cap is too small. */
size_t ep_req_encode(const ep_req *r, uint8_t *out, size_t cap);
/* Decode the payload p[len] of a request with opcode op.  0, or -1 with a
 * static reason in *why; r->name points into p. */
int ep_req_decode(uint32_t op, const uint8_t *p, uint32_t len, ep_req *r, const char **why);

/* Encode the header and fixed part of a response frame into out[cap]; the
 * frame length counts r->cb_data more bytes, which the caller sends right
 * after (r->data is not copied).  Returns the bytes written, 0 if invalid
 * (op, data size) or cap too small. */
size_t ep_resp_encode_head(const ep_resp *r, uint8_t *out, size_t cap);
/* Same, with the data appended: a complete frame. */
size_t ep_resp_encode(const ep_resp *r, uint8_t *out, size_t cap);
/* Decode the payload p[len] of the response to request opcode op.  0, or
 * -1 with *why; r->data points into p. */
int ep_resp_decode(uint32_t op, const uint8_t *p, uint32_t len, ep_resp *r, const char **why);
/* Bytes of the fixed part of a response to op (data excluded); 0 if op is
 * unknown. */
uint32_t ep_resp_fixed_size(uint32_t op);
/* Decode only the fixed part of a response whose payload is len bytes, for
 * a receiver that reads the data part itself (e.g. straight into the
 * caller's buffer): p holds ep_resp_fixed_size(op) bytes, read only when
 * len covers them.  Same checks and result as ep_resp_decode -- so
 * r->cb_data == len - fixed part on success -- except r->data is NULL.
 * 0, or -1 with *why. */
int ep_resp_decode_head(uint32_t op, const uint8_t *p, uint32_t len, ep_resp *r, const char **why);

/* ---- I/O over a connected SOCK_STREAM socket ---- */
/* Send all bytes (MSG_NOSIGNAL, EINTR retried).  0, or -1 with errno. */
int ep_send_all(int fd, const void *p, size_t n);
/* Send a then b in one sendmsg where possible.  0, or -1 with errno. */
int ep_send2(int fd, const void *a, size_t na, const void *b, size_t nb);
/* Receive exactly n bytes.  1 done; 0 clean EOF before the first byte;
 * -1 error (errno; EPIPE for EOF in the middle). */
int ep_recv_all(int fd, void *p, size_t n);
/* Receive one frame whose header passes ep_hdr_get(resp, max); the payload
 * goes to *pbuf (grown with realloc up to max; caller frees).  1 frame,
 * 0 clean EOF between frames, -1 transport failure (errno and *why set),
 * -2 protocol violation: header rejected or EOF inside the frame (*why);
 * the payload of a rejected header is not read. */
int ep_recv_frame(int fd, int resp, uint32_t max, uint32_t *pop, uint8_t **pbuf, size_t *pcap,
                  uint32_t *plen, const char **why);

#endif /* EP_PROTO_H */
