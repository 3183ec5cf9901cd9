/*
 * fuzz_endpoint.c -- optional libFuzzer target for the backup endpoint's
 * wire decoders (src/endpoint/ep_proto.c).  Not built by `make`; build and run:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -DHAVE_CONFIG_H \
 *     -I build -I include -I src/endpoint tests/fuzz_endpoint.c src/endpoint/ep_proto.c -o fuzz_ep
 *   ./fuzz_ep -max_len=20000
 *
 * Input: byte 0 selects the direction (even: request, odd: response), the
 * rest is a frame (header + payload).  Properties checked: the decoders
 * never read outside the buffer (ASan), and whatever decodes re-encodes to
 * the same bytes (the codec is canonical).  Every opcode up to EP_OP_LAST
 * is reached, CHECKBEGIN (13) included; seeds for it: a request
 * {08 00 00 00 0d 00 00 00, u64 grbit} after a 00 byte, a response
 * {10 00 00 00 0d 00 00 80, i32 err, u32 cdb, u64 cb} after a 01 byte.
 *
 * make check builds it without libFuzzer (-DFUZZ_STANDALONE, a main of its
 * own) and runs it as tests/fuzz_endpoint: it replays the files named on
 * its command line, or with none a seed set -- every request and response
 * opcode as the codec encodes it (READFILE with data, as pipelined replies
 * carry it), each cut at every length and with one byte flipped -- so the
 * target keeps building and its properties hold on the seeds.  The wire is
 * unchanged by ReadFile pipelining (docs/endpoint-protocol.md).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ep_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer entry point: decode one frame, re-encode, compare. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out[EP_HDR + EP_MAX_RESP_PAYLOAD];
    const char *why;
    uint32_t len, op;
    int resp;

    if (size < 1 + EP_HDR)
        return 0;
    resp = data[0] & 1;
    data++;
    size--;
    if (ep_hdr_get(data, resp, resp ? EP_MAX_RESP_PAYLOAD : EP_MAX_REQ_PAYLOAD, &len, &op, &why) <
            0 ||
        len != size - EP_HDR)
        return 0;
    if (!resp) {
        ep_req r;
        size_t n;
        if (ep_req_decode(op, data + EP_HDR, len, &r, &why) < 0)
            return 0;
        n = ep_req_encode(&r, out, sizeof out);
        if (n != size || memcmp(out, data, size) != 0)
            abort();
    } else {
        ep_resp r;
        size_t n;
        if (ep_resp_decode(op & ~EP_RESP, data + EP_HDR, len, &r, &why) < 0)
            return 0;
        n = ep_resp_encode(&r, out, sizeof out);
        /* padding bytes inside fixed string fields are not canonical:
         * compare sizes only, then decode the re-encoding again */
        if (n != size)
            abort();
        if (ep_resp_decode(op & ~EP_RESP, out + EP_HDR, len, &r, &why) < 0)
            abort();
    }
    return 0;
}

#ifdef FUZZ_STANDALONE
/* Feed dir (0 request, 1 response) + frame f[n], every prefix of it, and
 * every single-byte flip of its first 64 bytes. */
static void replay(int dir, const uint8_t *f, size_t n)
{
    static uint8_t b[1 + EP_HDR + EP_MAX_RESP_PAYLOAD];

    b[0] = (uint8_t)dir;
    memcpy(b + 1, f, n);
    for (size_t k = 0; k <= n; k++)
        LLVMFuzzerTestOneInput(b, 1 + k);
    for (size_t k = 0; k < n && k < 64; k++) {
        b[1 + k] ^= 0x5A;
        LLVMFuzzerTestOneInput(b, 1 + n);
        b[1 + k] ^= 0x5A;
    }
}

/* The seed set: one valid frame per opcode and direction. */
static void seeds(void)
{
    static uint8_t f[EP_HDR + EP_MAX_REQ_PAYLOAD + 2 * 4096 + 64], data[2 * 4096];
    size_t n;

    for (uint32_t op = EP_OP_HELLO; op <= EP_OP_LAST; op++) {
        ep_req q;
        ep_resp r;
        memset(&q, 0, sizeof q);
        q.op = op;
        q.magic = EP_MAGIC;
        q.version = EP_VERSION;
        q.cb = op == EP_OP_READFILE ? sizeof data : 4096;
        q.hf = 3;
        q.loginfo_cb = 40;
        q.flags = op == EP_OP_OPENFILE      ? EP_F_NAME
                  : op == EP_OP_GETLOGINFO2 ? EP_F_BUF | EP_F_PCB | EP_F_LOGINFO
                  : op == EP_OP_GETATTACHINFO || op == EP_OP_GETTRUNCATELOGINFO
                      ? EP_F_BUF | EP_F_PCB
                      : 0;
        q.name = "/srv/i/bank.edb";
        q.cb_name = (uint32_t)strlen(q.name);
        n = ep_req_encode(&q, f, sizeof f);
        if (n)
            replay(0, f, n);
        memset(&r, 0, sizeof r);
        r.op = op;
        r.magic = EP_MAGIC;
        r.version = EP_VERSION;
        r.info.cb_page = 4096;
        memcpy(r.info.base_name, "edb", 4);
        r.oflags = EP_O_PCB;
        r.cb_actual = 10;
        for (size_t k = 0; k < sizeof data; k++)
            data[k] = (uint8_t)(k * 7);
        if (op == EP_OP_READFILE || op == EP_OP_GETATTACHINFO) {
            r.data = data;
            r.cb_data = op == EP_OP_READFILE ? sizeof data : 10;
        }
        n = ep_resp_encode(&r, f, sizeof f);
        if (n)
            replay(1, f, n);
    }
}

/* Replay argv[1..] (files), or the seed set.  0, or 1 when a file cannot
 * be read; a property violation aborts. */
int main(int argc, char **argv)
{
    static uint8_t b[1 + EP_HDR + EP_MAX_RESP_PAYLOAD];

    if (argc < 2) {
        seeds();
        printf("fuzz_endpoint: seed set replayed\n");
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        FILE *fp = fopen(argv[i], "rb");
        size_t n;
        if (!fp) {
            perror(argv[i]);
            return 1;
        }
        n = fread(b, 1, sizeof b, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(b, n);
    }
    return 0;
}
#endif
