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
 */
#include "config.h"

#include <stdint.h>
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
