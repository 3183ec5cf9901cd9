/*
 * test_ep_proto.c -- the backup endpoint wire codec (src/endpoint/ep_proto.c):
 * encode/decode round trips of every request and response, rejection of
 * every truncated, oversized or otherwise malformed frame, and the frame
 * I/O helpers over a socketpair (partial transfers, EOF inside a frame).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "ep_proto.h"

#define BUFCAP (EP_HDR + EP_MAX_REQ_PAYLOAD + 64)

/* One sample request per opcode.  Returns the number filled in. */
static int sample_reqs(ep_req *r)
{
    static const char name[] = "/var/lib/db/edb00000A.log";
    int n = 0;

    r[n++] = (ep_req){ .op = EP_OP_HELLO, .magic = EP_MAGIC, .version = EP_VERSION };
    r[n++] = (ep_req){ .op = EP_OP_GETINFO };
    r[n++] = (ep_req){ .op = EP_OP_BEGIN, .grbit = 0x1 };
    r[n++] =
        (ep_req){ .op = EP_OP_GETATTACHINFO, .flags = EP_F_BUF | EP_F_PCB, .cb = 0x123456789ull };
    r[n++] = (ep_req){
        .op = EP_OP_OPENFILE, .flags = EP_F_NAME, .name = name, .cb_name = (uint32_t)strlen(name)
    };
    r[n++] = (ep_req){ .op = EP_OP_OPENFILE, .flags = EP_F_NAME, .name = name, .cb_name = 0 };
    r[n++] = (ep_req){ .op = EP_OP_OPENFILE, .flags = 0 };
    r[n++] = (ep_req){ .op = EP_OP_READFILE, .hf = 7, .cb = EP_MAX_READ };
    r[n++] = (ep_req){ .op = EP_OP_CLOSEFILE, .hf = 0xFFFFFFFFFFFFFFFFull };
    r[n++] = (ep_req){
        .op = EP_OP_GETLOGINFO2, .flags = EP_F_BUF | EP_F_LOGINFO, .cb = 4096, .loginfo_cb = 16
    };
    r[n++] = (ep_req){ .op = EP_OP_GETTRUNCATELOGINFO, .flags = EP_F_PCB, .cb = 0 };
    r[n++] = (ep_req){ .op = EP_OP_TRUNCATELOG };
    r[n++] = (ep_req){ .op = EP_OP_ENDBACKUP2, .grbit = 0x0102 };
    r[n++] = (ep_req){ .op = EP_OP_GETCOMMITTED };
    r[n++] = (ep_req){ .op = EP_OP_CHECKBEGIN, .grbit = 0x1 };
    return n;
}

/* Field-by-field equality of two requests (name compared by content). */
static void assert_req_eq(const ep_req *a, const ep_req *b)
{
    ck_assert_uint_eq(a->op, b->op);
    ck_assert_uint_eq(a->flags, b->flags);
    ck_assert_uint_eq(a->magic, b->magic);
    ck_assert_uint_eq(a->version, b->version);
    ck_assert_uint_eq(a->grbit, b->grbit);
    ck_assert_uint_eq(a->hf, b->hf);
    ck_assert_uint_eq(a->cb, b->cb);
    ck_assert_uint_eq(a->loginfo_cb, b->loginfo_cb);
    ck_assert_uint_eq(a->cb_name, b->cb_name);
    if (a->cb_name)
        ck_assert_int_eq(memcmp(a->name, b->name, a->cb_name), 0);
}

START_TEST(req_round_trip)
{
    ep_req r[16], d;
    uint8_t *buf = malloc(BUFCAP);
    int n = sample_reqs(r);

    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < n; i++) {
        const char *why = NULL;
        uint32_t len, op;
        size_t cb = ep_req_encode(&r[i], buf, BUFCAP);
        ck_assert_uint_gt(cb, 0);
        ck_assert_int_eq(ep_hdr_get(buf, 0, EP_MAX_REQ_PAYLOAD, &len, &op, &why), 0);
        ck_assert_uint_eq(op, r[i].op);
        ck_assert_uint_eq(len + EP_HDR, cb);
        ck_assert_int_eq(ep_req_decode(op, buf + EP_HDR, len, &d, &why), 0);
        assert_req_eq(&r[i], &d);
        /* too small an output buffer is refused, not overrun */
        ck_assert_uint_eq(ep_req_encode(&r[i], buf, cb - 1), 0);
    }
    free(buf);
}
END_TEST

START_TEST(req_truncated_and_oversized)
{
    ep_req r[16], d;
    uint8_t *buf = malloc(BUFCAP + 1);
    int n = sample_reqs(r);

    ck_assert_ptr_nonnull(buf);
    for (int i = 0; i < n; i++) {
        const char *why = NULL;
        size_t cb = ep_req_encode(&r[i], buf, BUFCAP);
        uint32_t len = (uint32_t)(cb - EP_HDR);
        ck_assert_uint_gt(cb, 0);
        for (uint32_t k = 0; k < len; k++) {
            why = NULL;
            ck_assert_msg(ep_req_decode(r[i].op, buf + EP_HDR, k, &d, &why) < 0,
                          "op %u accepted a %u-byte prefix", r[i].op, k);
            ck_assert_ptr_nonnull(why);
        }
        buf[cb] = 'x'; /* one trailing byte */
        ck_assert_msg(ep_req_decode(r[i].op, buf + EP_HDR, len + 1, &d, &why) < 0,
                      "op %u accepted a trailing byte", r[i].op);
    }
    free(buf);
}
END_TEST

START_TEST(req_bad_fields)
{
    uint8_t buf[64 + EP_MAX_NAME + 16];
    const char *why;
    ep_req r, d;

    /* read size over the maximum: refused by encoder and decoder */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_READFILE;
    r.cb = EP_MAX_READ + 1;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);
    r.cb = 4096;
    ck_assert_uint_gt(ep_req_encode(&r, buf, sizeof buf), 0);
    ep_put32(buf + EP_HDR + 8, EP_MAX_READ + 1);
    ck_assert_int_lt(ep_req_decode(EP_OP_READFILE, buf + EP_HDR, 12, &d, &why), 0);
    ep_put32(buf + EP_HDR + 8, 0xFFFFFFFFu);
    ck_assert_int_lt(ep_req_decode(EP_OP_READFILE, buf + EP_HDR, 12, &d, &why), 0);

    /* name: NUL inside, length beyond the maximum, length != frame */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_OPENFILE;
    r.flags = EP_F_NAME;
    r.name = "ab\0cd";
    r.cb_name = 5;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);
    r.name = "abcde";
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), EP_HDR + 13);
    buf[EP_HDR + 8 + 2] = 0;
    ck_assert_int_lt(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    buf[EP_HDR + 8 + 2] = 'c';
    ep_put32(buf + EP_HDR + 4, 6);
    ck_assert_int_lt(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    ep_put32(buf + EP_HDR + 4, 4);
    ck_assert_int_lt(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    ep_put32(buf + EP_HDR + 4, EP_MAX_NAME + 1);
    ck_assert_int_lt(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    ep_put32(buf + EP_HDR + 4, 5);
    ck_assert_int_eq(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    ep_put32(buf + EP_HDR, 0); /* name bytes without the flag */
    ck_assert_int_lt(ep_req_decode(EP_OP_OPENFILE, buf + EP_HDR, 13, &d, &why), 0);
    r.cb_name = EP_MAX_NAME + 1;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);

    /* unknown flags */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_GETATTACHINFO;
    r.flags = EP_F_LOGINFO;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);
    r.flags = EP_F_BUF;
    ck_assert_uint_gt(ep_req_encode(&r, buf, sizeof buf), 0);
    ep_put32(buf + EP_HDR, 0x80);
    ck_assert_int_lt(ep_req_decode(EP_OP_GETATTACHINFO, buf + EP_HDR, 12, &d, &why), 0);

    /* unknown opcodes */
    memset(&r, 0, sizeof r);
    r.op = 0;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);
    r.op = EP_OP_LAST + 1;
    ck_assert_uint_eq(ep_req_encode(&r, buf, sizeof buf), 0);
    ck_assert_int_lt(ep_req_decode(0, buf, 0, &d, &why), 0);
    ck_assert_int_lt(ep_req_decode(EP_OP_LAST + 1, buf, 0, &d, &why), 0);
}
END_TEST

START_TEST(hdr_checks)
{
    uint8_t h[EP_HDR];
    uint32_t len, op;
    const char *why;

    ep_hdr_put(h, EP_MAX_REQ_PAYLOAD, EP_OP_OPENFILE);
    ck_assert_int_eq(ep_hdr_get(h, 0, EP_MAX_REQ_PAYLOAD, &len, &op, &why), 0);
    ep_hdr_put(h, EP_MAX_REQ_PAYLOAD + 1, EP_OP_OPENFILE);
    ck_assert_int_lt(ep_hdr_get(h, 0, EP_MAX_REQ_PAYLOAD, &len, &op, &why), 0);
    ep_hdr_put(h, 0xFFFFFFFFu, EP_OP_READFILE | EP_RESP);
    ck_assert_int_lt(ep_hdr_get(h, 1, EP_MAX_RESP_PAYLOAD, &len, &op, &why), 0);
    ep_hdr_put(h, 0, 0);
    ck_assert_int_lt(ep_hdr_get(h, 0, 100, &len, &op, &why), 0);
    ep_hdr_put(h, 0, EP_OP_LAST + 1);
    ck_assert_int_lt(ep_hdr_get(h, 0, 100, &len, &op, &why), 0);
    /* direction: a response opcode is not a request and vice versa */
    ep_hdr_put(h, 0, EP_OP_GETINFO | EP_RESP);
    ck_assert_int_lt(ep_hdr_get(h, 0, 100, &len, &op, &why), 0);
    ck_assert_int_eq(ep_hdr_get(h, 1, 100, &len, &op, &why), 0);
    ep_hdr_put(h, 0, EP_OP_GETINFO);
    ck_assert_int_lt(ep_hdr_get(h, 1, 100, &len, &op, &why), 0);
}
END_TEST

static const uint8_t list_data[] = "C:\\a.edb\0/b/c.edb\0";

/* One sample response per opcode (and the list calls with data). */
static int sample_resps(ep_resp *r, uint8_t *big)
{
    int n = 0;

    r[n++] = (ep_resp){ .op = EP_OP_HELLO, .magic = EP_MAGIC, .version = 9 };
    r[n++] = (ep_resp){ .op = EP_OP_GETINFO,
                        .err = 0,
                        .info = { .instance_name = "inst-x",
                                  .base_name = "edb",
                                  .cb_page = 8192,
                                  .legacy = 3,
                                  .circular = 1 } };
    r[n++] = (ep_resp){ .op = EP_OP_BEGIN, .err = -505 };
    r[n++] = (ep_resp){ .op = EP_OP_GETATTACHINFO,
                        .oflags = EP_O_PCB,
                        .cb_actual = sizeof list_data,
                        .data = list_data,
                        .cb_data = sizeof list_data };
    r[n++] = (ep_resp){ .op = EP_OP_GETATTACHINFO, .err = -1038 };
    r[n++] = (ep_resp){ .op = EP_OP_OPENFILE, .hf = 0, .size_low = 0xFFFFFFFFu, .size_high = 2 };
    r[n++] = (ep_resp){ .op = EP_OP_READFILE, .data = big, .cb_data = EP_MAX_READ };
    r[n++] = (ep_resp){ .op = EP_OP_READFILE, .err = -1018 };
    r[n++] = (ep_resp){ .op = EP_OP_CLOSEFILE, .err = -1003 };
    r[n++] = (ep_resp){ .op = EP_OP_GETLOGINFO2,
                        .oflags = EP_O_PCB | EP_O_LOGINFO,
                        .cb_actual = 5,
                        .li_cb = 16,
                        .li_low = 4,
                        .li_high = 0x7FFFF800,
                        .li_base = "edb",
                        .data = list_data,
                        .cb_data = 5 };
    r[n++] = (ep_resp){ .op = EP_OP_GETTRUNCATELOGINFO,
                        .oflags = EP_O_PCB,
                        .cb_actual = 1,
                        .data = list_data + 8,
                        .cb_data = 1 };
    r[n++] = (ep_resp){ .op = EP_OP_TRUNCATELOG, .err = -616 };
    r[n++] = (ep_resp){ .op = EP_OP_ENDBACKUP2 };
    r[n++] = (ep_resp){ .op = EP_OP_GETCOMMITTED, .n = 0xFEDCBA9876543210ull };
    r[n++] =
        (ep_resp){ .op = EP_OP_CHECKBEGIN, .err = -560, .cdb = 3, .cb_dbs = 0x0123456789ABCDEFull };
    return n;
}

START_TEST(resp_round_trip_and_rejects)
{
    size_t cap = EP_HDR + EP_MAX_RESP_PAYLOAD + 1;
    uint8_t *buf = malloc(cap), *big = malloc(EP_MAX_READ);
    ep_resp r[16], d;
    int n;

    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(big);
    for (size_t i = 0; i < EP_MAX_READ; i++)
        big[i] = (uint8_t)(i * 131 + 7);
    n = sample_resps(r, big);
    for (int i = 0; i < n; i++) {
        const char *why = NULL;
        uint32_t len, op;
        size_t cb = ep_resp_encode(&r[i], buf, cap);
        ck_assert_msg(cb > 0, "response %d not encoded", i);
        ck_assert_int_eq(ep_hdr_get(buf, 1, EP_MAX_RESP_PAYLOAD, &len, &op, &why), 0);
        ck_assert_uint_eq(op, r[i].op | EP_RESP);
        ck_assert_uint_eq(len + EP_HDR, cb);
        ck_assert_int_eq(ep_resp_decode(r[i].op, buf + EP_HDR, len, &d, &why), 0);
        ck_assert_int_eq(d.err, r[i].err);
        ck_assert_uint_eq(d.magic, r[i].magic);
        ck_assert_uint_eq(d.version, r[i].version);
        ck_assert_int_eq(memcmp(&d.info, &r[i].info, sizeof d.info), 0);
        ck_assert_uint_eq(d.oflags, r[i].oflags);
        ck_assert_uint_eq(d.cb_actual, r[i].cb_actual);
        ck_assert_uint_eq(d.li_cb, r[i].li_cb);
        ck_assert_uint_eq(d.li_low, r[i].li_low);
        ck_assert_uint_eq(d.li_high, r[i].li_high);
        ck_assert_int_eq(memcmp(d.li_base, r[i].li_base, 4), 0);
        ck_assert_uint_eq(d.hf, r[i].hf);
        ck_assert_uint_eq(d.size_low, r[i].size_low);
        ck_assert_uint_eq(d.size_high, r[i].size_high);
        ck_assert_uint_eq(d.n, r[i].n);
        ck_assert_uint_eq(d.cdb, r[i].cdb);
        ck_assert_uint_eq(d.cb_dbs, r[i].cb_dbs);
        ck_assert_uint_eq(d.cb_data, r[i].cb_data);
        if (d.cb_data)
            ck_assert_int_eq(memcmp(d.data, r[i].data, d.cb_data), 0);

        /* every truncation is rejected (sampled for the 16 MiB read) */
        for (uint32_t k = 0; k < len; k += (len > 4096 && k > 64) ? 4093 : 1) {
            why = NULL;
            ck_assert_msg(ep_resp_decode(r[i].op, buf + EP_HDR, k, &d, &why) < 0,
                          "response %d accepted a %u-byte prefix", i, k);
            ck_assert_ptr_nonnull(why);
        }
        if (len > 0)
            ck_assert_int_lt(ep_resp_decode(r[i].op, buf + EP_HDR, len - 1, &d, &why), 0);
        /* a trailing byte is rejected */
        buf[cb] = 0x5A;
        ck_assert_msg(ep_resp_decode(r[i].op, buf + EP_HDR, len + 1, &d, &why) < 0,
                      "response %d accepted a trailing byte", i);
    }
    free(buf);
    free(big);
}
END_TEST

START_TEST(resp_decode_head_matches_decode)
{
    size_t cap = EP_HDR + EP_MAX_RESP_PAYLOAD + 1;
    uint8_t *buf = malloc(cap), *big = malloc(EP_MAX_READ);
    ep_resp r[16], d, h;
    const char *why;
    int n;

    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(big);
    memset(big, 0x3C, EP_MAX_READ);
    ck_assert_uint_eq(ep_resp_fixed_size(0), 0);
    ck_assert_uint_eq(ep_resp_fixed_size(EP_OP_LAST + 1), 0);
    ck_assert_uint_eq(ep_resp_fixed_size(EP_OP_READFILE), 8);
    ck_assert_int_lt(ep_resp_decode_head(EP_OP_LAST + 1, buf, 0, &h, &why), 0);
    n = sample_resps(r, big);
    for (int i = 0; i < n; i++) {
        uint32_t len, op, fixed = ep_resp_fixed_size(r[i].op);
        size_t cb = ep_resp_encode(&r[i], buf, cap);
        uint8_t *head;
        ck_assert_uint_gt(cb, 0);
        ck_assert_int_eq(ep_hdr_get(buf, 1, EP_MAX_RESP_PAYLOAD, &len, &op, &why), 0);
        ck_assert_uint_eq(len, fixed + r[i].cb_data);
        /* only the fixed part is given (an over-read shows under ASan) */
        head = malloc(fixed);
        ck_assert_ptr_nonnull(head);
        memcpy(head, buf + EP_HDR, fixed);
        ck_assert_int_eq(ep_resp_decode(r[i].op, buf + EP_HDR, len, &d, &why), 0);
        ck_assert_int_eq(ep_resp_decode_head(r[i].op, head, len, &h, &why), 0);
        ck_assert_ptr_null(h.data);
        h.data = d.data;
        ck_assert_int_eq(memcmp(&h, &d, sizeof h), 0);
        /* the head decoder accepts exactly the lengths the full one does */
        for (uint32_t k = 0; k <= fixed + 2; k++) {
            int full = ep_resp_decode(r[i].op, buf + EP_HDR, k, &d, &why);
            ck_assert_int_eq(ep_resp_decode_head(r[i].op, head, k, &h, &why), full);
        }
        ck_assert_int_lt(ep_resp_decode_head(r[i].op, head, len + 1, &h, &why), 0);
        if (len > fixed)
            ck_assert_int_lt(ep_resp_decode_head(r[i].op, head, len - 1, &h, &why), 0);
        free(head);
    }
    free(buf);
    free(big);
}
END_TEST

START_TEST(resp_bad_fields)
{
    uint8_t buf[256];
    const char *why;
    ep_resp r, d;
    size_t cb;

    /* data over the list maximum */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_GETATTACHINFO;
    r.data = buf;
    r.cb_data = EP_MAX_LIST + 1;
    ck_assert_uint_eq(ep_resp_encode_head(&r, buf, sizeof buf), 0);
    r.cb_data = 0;
    r.data = NULL;
    cb = ep_resp_encode(&r, buf, sizeof buf);
    ck_assert_uint_eq(cb, EP_HDR + 20);
    ep_put32(buf + EP_HDR + 16, EP_MAX_LIST + 1); /* claimed data length */
    ck_assert_int_lt(ep_resp_decode(EP_OP_GETATTACHINFO, buf + EP_HDR, 20, &d, &why), 0);
    ep_put32(buf + EP_HDR + 16, 0xFFFFFFFFu);
    ck_assert_int_lt(ep_resp_decode(EP_OP_GETATTACHINFO, buf + EP_HDR, 20, &d, &why), 0);
    ep_put32(buf + EP_HDR + 16, 0);
    ep_put32(buf + EP_HDR + 4, 0x40); /* unknown out-flag */
    ck_assert_int_lt(ep_resp_decode(EP_OP_GETATTACHINFO, buf + EP_HDR, 20, &d, &why), 0);

    /* read data length field must equal the bytes present */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_READFILE;
    r.data = (const uint8_t *)"abcdefgh";
    r.cb_data = 8;
    cb = ep_resp_encode(&r, buf, sizeof buf);
    ck_assert_uint_eq(cb, EP_HDR + 16);
    ep_put32(buf + EP_HDR + 4, 9);
    ck_assert_int_lt(ep_resp_decode(EP_OP_READFILE, buf + EP_HDR, 16, &d, &why), 0);
    ep_put32(buf + EP_HDR + 4, 7);
    ck_assert_int_lt(ep_resp_decode(EP_OP_READFILE, buf + EP_HDR, 16, &d, &why), 0);
    ep_put32(buf + EP_HDR + 4, EP_MAX_READ + 1);
    ck_assert_int_lt(ep_resp_decode(EP_OP_READFILE, buf + EP_HDR, 16, &d, &why), 0);

    /* unterminated strings */
    memset(&r, 0, sizeof r);
    r.op = EP_OP_GETINFO;
    memset(r.info.instance_name, 'a', sizeof r.info.instance_name);
    ck_assert_uint_eq(ep_resp_encode(&r, buf, sizeof buf), 0);
    r.info.instance_name[63] = 0;
    cb = ep_resp_encode(&r, buf, sizeof buf);
    ck_assert_uint_gt(cb, 0);
    buf[EP_HDR + 4 + 63] = 'a';
    ck_assert_int_lt(ep_resp_decode(EP_OP_GETINFO, buf + EP_HDR, (uint32_t)cb - EP_HDR, &d, &why),
                     0);
    buf[EP_HDR + 4 + 63] = 0;
    memset(buf + EP_HDR + 4 + 64, 'e', 4);
    ck_assert_int_lt(ep_resp_decode(EP_OP_GETINFO, buf + EP_HDR, (uint32_t)cb - EP_HDR, &d, &why),
                     0);

    memset(&r, 0, sizeof r);
    r.op = EP_OP_GETLOGINFO2;
    memcpy(r.li_base, "edbx", 4);
    ck_assert_uint_eq(ep_resp_encode(&r, buf, sizeof buf), 0);
}
END_TEST

/* ---- frame I/O over a socketpair ---- */

struct sink {
    int fd;
    size_t n;
    uint8_t *got;
};

/* Thread: read n bytes slowly (small recv sizes) into got. */
static void *sink_main(void *arg)
{
    struct sink *s = arg;
    size_t off = 0;

    while (off < s->n) {
        size_t want = s->n - off < 777 ? s->n - off : 777;
        ssize_t k = recv(s->fd, s->got + off, want, 0);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    s->n = off;
    return NULL;
}

START_TEST(io_partial_transfers)
{
    int sv[2];
    size_t n = 3u << 20;
    uint8_t *a = malloc(100), *b = malloc(n);
    struct sink s;
    pthread_t t;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    for (size_t i = 0; i < 100; i++)
        a[i] = (uint8_t)i;
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i ^ (i >> 9));
    s.fd = sv[1];
    s.n = 100 + n;
    s.got = malloc(s.n);
    ck_assert_int_eq(pthread_create(&t, NULL, sink_main, &s), 0);
    ck_assert_int_eq(ep_send2(sv[0], a, 100, b, n), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_eq(s.n, 100 + n);
    ck_assert_int_eq(memcmp(s.got, a, 100), 0);
    ck_assert_int_eq(memcmp(s.got + 100, b, n), 0);
    close(sv[0]);
    close(sv[1]);
    free(a);
    free(b);
    free(s.got);
}
END_TEST

START_TEST(io_recv_frame_cases)
{
    int sv[2];
    uint8_t f[64], *buf = NULL;
    size_t cap = 0;
    uint32_t op, len;
    const char *why;
    ep_req r;
    size_t cb;

    /* a good frame, then clean EOF */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    memset(&r, 0, sizeof r);
    r.op = EP_OP_BEGIN;
    r.grbit = 1;
    cb = ep_req_encode(&r, f, sizeof f);
    ck_assert_int_eq(ep_send_all(sv[0], f, cb), 0);
    close(sv[0]);
    ck_assert_int_eq(ep_recv_frame(sv[1], 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why), 1);
    ck_assert_uint_eq(op, EP_OP_BEGIN);
    ck_assert_uint_eq(len, 8);
    ck_assert_int_eq(ep_recv_frame(sv[1], 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why), 0);
    close(sv[1]);

    /* EOF inside the header */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ep_send_all(sv[0], f, 5), 0);
    close(sv[0]);
    ck_assert_int_eq(ep_recv_frame(sv[1], 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why), -2);
    close(sv[1]);

    /* EOF inside the payload */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(ep_send_all(sv[0], f, cb - 1), 0);
    close(sv[0]);
    ck_assert_int_eq(ep_recv_frame(sv[1], 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why), -2);
    close(sv[1]);

    /* oversized length: rejected from the header alone (nothing else sent) */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ep_hdr_put(f, 0x7FFFFFFFu, EP_OP_OPENFILE);
    ck_assert_int_eq(ep_send_all(sv[0], f, EP_HDR), 0);
    why = NULL;
    ck_assert_int_eq(ep_recv_frame(sv[1], 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why), -2);
    ck_assert_ptr_nonnull(why);
    close(sv[0]);
    close(sv[1]);

    /* send to a closed peer: error (EPIPE), no SIGPIPE */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    errno = 0;
    ck_assert_int_eq(ep_send_all(sv[0], f, 8), -1);
    ck_assert_int_eq(errno, EPIPE);
    close(sv[0]);
    free(buf);
}
END_TEST

/* Build the suite. */
static Suite *ep_proto_suite(void)
{
    Suite *s = suite_create("ep_proto");
    TCase *tc = tcase_create("codec");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, req_round_trip);
    tcase_add_test(tc, req_truncated_and_oversized);
    tcase_add_test(tc, req_bad_fields);
    tcase_add_test(tc, hdr_checks);
    tcase_add_test(tc, resp_round_trip_and_rejects);
    tcase_add_test(tc, resp_decode_head_matches_decode);
    tcase_add_test(tc, resp_bad_fields);
    tcase_add_test(tc, io_partial_transfers);
    tcase_add_test(tc, io_recv_frame_cases);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(ep_proto_suite)
