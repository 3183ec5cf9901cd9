/*
 * format.h -- libjet's on-disk formats (private; the read-only part that tools
 * may use -- layouts, decoders, file names, the log reader -- is the public
 * include/jetfmt.h, included here): checksums, database header, trailer
 * page, log file header and segments, log records, checkpoint file, and the
 * ESE file-name rules.  Pure functions over byte buffers: no I/O, no state,
 * safe from any thread.
 *
 * Layouts follow shared/ese-backup-spec.md section 6 (offsets of DBFILEHDR,
 * LGFILEHDR, CHECKPOINT, PATCHHDR, BKINFO, SIGNATURE).  All integers are
 * little-endian on disk.  Fields ESE has but libjet does not use are zero.
 * libjet's own fields live in an "extension area" that ESE leaves zero; see
 * docs/formats.md.
 *
 * Checksums (docs/formats.md "Checksums"):
 *  - header blocks (DB header, trailer, log header, checkpoint): u32 at
 *    offset 0 = 0x89ABCDEF ^ XOR of every other LE u32 word of the block
 *    (spec 6.2, "old format");
 *  - log segments, and DB pages written by older libjet ("XOR format"):
 *    u64 at offset 0 = (pgno << 32) | xor32 where xor32 = 0x89ABCDEF ^ XOR
 *    of the LE u32 words from offset 8 to the end; for log segments "pgno"
 *    is the segment index in the file;
 *  - DB pages written now ("CRC format", JF_PG_*): four CRC-32C values at
 *    offsets 0..15, one per 4-byte lane (words 4+s, 8+s, 12+s, ... for lane
 *    s), the page number at 16 and the format mark at 20 and at 36.  Any
 *    change confined to 8 contiguous bytes of such a page is detected.
 *    An all-zero page or segment is "blank" and always verifies.
 *
 * The CRC-32C code uses the SSE4.2 instruction when the CPU has it and a
 * table otherwise (same results); the choice is made per call, no state.
 *
 * Decoders never trust their input: every length and count is checked
 * against the buffer, and a failure returns a Jet error, never crashes.
 */
#ifndef JET_FORMAT_H
#define JET_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jetfmt.h" /* the read-only part: layouts, decoders, names */

#define JF_SEED 0x89ABCDEFu
#define JF_DB_MAGIC 0x89ABCDEFu
#define JF_DB_VERSION 0x620u
#define JF_DB_RESERVED_PAGES 2 /* cpgDBReserved: pages 0 and 1 = header */
#define JF_PAGE_HDR 40         /* PGHDR; libjet records start after it */

/* ---- small helpers ---- */
int jf_lgpos_cmp(jf_lgpos a, jf_lgpos b); /* <0, 0, >0 */
uint64_t jf_lgpos_u64(jf_lgpos p);        /* order-preserving */
jf_lgpos jf_lgpos_from_u64(uint64_t v);
void jf_logtime_from_time(jf_logtime *lt, int64_t unix_seconds); /* UTC */
int64_t jf_logtime_to_time(const jf_logtime *lt);
bool jf_logtime_eq(const jf_logtime *a, const jf_logtime *b);
bool jf_sig_eq(const jf_sig *a, const jf_sig *b);
/* True for the page sizes libjet supports: 2, 4, 8, 16 and 32 KiB.  Pure. */
bool jf_page_size_ok(uint32_t cb);

/* A fresh signature: random from /dev/urandom (fallback: time^pid), now,
 * and the host name truncated to 15 chars. */
void jf_sig_new(jf_sig *s);
bool jf_is_blank(const void *p, size_t cb);

/* ---- checksums ---- */
uint32_t jf_xor32(const void *p, size_t cb); /* XOR of LE u32 words, cb % 4 == 0 */
uint32_t jf_hdr_checksum(const void *blk, size_t cb);
void jf_hdr_seal(void *blk, size_t cb);
bool jf_hdr_ok(const void *blk, size_t cb);

/* CRC-32C (Castagnoli, reflected, init and final XOR 0xFFFFFFFF; RFC 3720
 * B.4).  impl selects the code path: JF_CRC_AUTO (hardware if available),
 * JF_CRC_SW (table) or JF_CRC_HW (SSE4.2 crc32).  Both functions return
 * false, and leave the output untouched, only for JF_CRC_HW on a CPU (or
 * build) without the instruction. */
enum { JF_CRC_AUTO = 0, JF_CRC_SW = 1, JF_CRC_HW = 2 };
bool jf_crc_hw_available(void);
bool jf_crc32c(int impl, const void *p, size_t cb, uint32_t *crc);

/* ---- database page checksums ----
 * CRC format layout (the 40-byte page header; records start at 40): */
#define JF_PG_CRC 0 /* 4 x u32: CRC-32C of lanes 0..3 */
#define JF_PG_LANES 4
#define JF_PG_PGNO 16           /* u32 page number */
#define JF_PG_MARK1 20          /* u32 JF_PG_MAGIC */
#define JF_PG_MARK2 36          /* u32 JF_PG_MAGIC (ESE's fFlags field; bit 0x2000 clear) */
#define JF_PG_MAGIC 0x32435243u /* "CRC2" */
/* Lane CRCs of a page (cb a multiple of 16, >= 32): out[s] = CRC-32C of
 * the bytes of words 4+s, 8+s, ... in address order.  false only as for
 * jf_crc32c. */
bool jf_page_crc_lanes(int impl, const void *page, size_t cb, uint32_t out[JF_PG_LANES]);
/* XOR-format checksum value (pgno << 32 | xor32) of a page or segment. */
uint64_t jf_page_checksum(const void *page, size_t cb, uint32_t pgno);
/* Seal a database page for pgno in the CRC format: writes the page number,
 * both format marks and the lane CRCs (bytes 0..23 and 36..39; bytes 24..35
 * and the records are covered, not changed).  Does nothing unless cb is a
 * supported page size (2..32 KiB, a power of two). */
void jf_page_seal(void *page, size_t cb, uint32_t pgno);
/* Seal in the XOR format (what libjet wrote before the CRC format; kept
 * for log segments and for tests of old files). */
void jf_page_seal_xor(void *page, size_t cb, uint32_t pgno);
/* Format of a page: blank, XOR, CRC, or bad (the two marks disagree). */
enum { JF_PGFMT_BAD = -1, JF_PGFMT_BLANK = 0, JF_PGFMT_XOR = 1, JF_PGFMT_CRC = 2 };
int jf_page_format(const void *page, size_t cb);
/* 0 if the page verifies for pgno (in the format its marks name) or is
 * blank; JET_errReadPgnoVerifyFailure (-1118) if it verifies but holds
 * another pgno; JET_errReadVerifyFailure (-1018) otherwise (also for marks
 * that disagree, or an unsupported cb). */
long jf_page_verify(const void *page, size_t cb, uint32_t pgno);

/* Encode into a cb_page block (zero-filled first), filetype 1 @667, sealed
 * with the header checksum.  cb_page must be a supported page size. */
void jf_dbhdr_encode(const jf_dbhdr *h, void *blk, size_t cb_page);

/* ---- database header encoder (struct and decoder: jetfmt.h) ---- */
/* ---- trailer page of a backup stream (PATCHHDR, spec 6.2 / 3.2) ---- */
typedef struct jf_trailer {
    jf_bkinfo bkinfo;          /* @40 */
    jf_sig sign_db;            /* @64 */
    jf_sig sign_log;           /* @92 */
    int32_t gen_min_req;       /* @120 */
    int32_t gen_max_req;       /* @124 */
    int32_t gen_max_committed; /* @128 */
    jf_logtime time_min_req;   /* @132 */
    jf_logtime time_max_req;   /* @140 */
} jf_trailer;
void jf_trailer_encode(const jf_trailer *t, void *page, size_t cb_page);
/* JET_errBadPatchPage on a bad checksum. */
long jf_trailer_decode(const void *page, size_t cb_page, jf_trailer *t);

void jf_loghdr_encode(const jf_loghdr *h, void *blk /* JF_LOG_HDR bytes */);

/* ---- log segments ---- */
/* Segment header flags (@36, docs/formats.md): a segment written by a
 * flush carries JF_SEGF_FLUSH and, in the low 16 bits, the index of that
 * flush's first segment (the reader's torn-tail rule). */
#define JF_SEGF_FLUSH 0x80000000u
#define JF_SEG_FLAGS_OFF 36
#define JF_TORN_SECTOR 512 /* the unit a power loss may tear writes into */
typedef struct jf_seghdr {
    jf_lgpos lgpos;  /* @8  position of the segment (ib = 0) */
    jf_logtime time; /* @16 */
    uint32_t flags;  /* @36 */
} jf_seghdr;
/* Writes the header fields and seals the segment (checksum pgno = isec). */
void jf_seg_seal(void *seg, const jf_seghdr *h);

void jf_chk_encode(const jf_chk *c, void *blk /* JF_CHK_BLOCK */);

/* ---- little-endian access ---- */
static inline uint16_t jf_get16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}
static inline uint32_t jf_get32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint64_t jf_get64(const void *p)
{
    const uint8_t *b = p;
    return (uint64_t)jf_get32(b) | (uint64_t)jf_get32(b + 4) << 32;
}
static inline void jf_put16(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
}
static inline void jf_put32(void *p, uint32_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}
static inline void jf_put64(void *p, uint64_t v)
{
    jf_put32(p, (uint32_t)v);
    jf_put32((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

#endif /* JET_FORMAT_H */
