/*
 * format.h -- libjet's on-disk formats: checksums, database header, trailer
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

#define JF_SEED 0x89ABCDEFu
#define JF_DB_MAGIC 0x89ABCDEFu
#define JF_DB_VERSION 0x620u
#define JF_DB_RESERVED_PAGES 2 /* cpgDBReserved: pages 0 and 1 = header */
#define JF_PAGE_HDR 40         /* PGHDR; libjet records start after it */
#define JF_SEGMENT 4096        /* log segment size */
#define JF_SEG_HDR 40          /* LGSEGHDR */
#define JF_SEG_PAYLOAD (JF_SEGMENT - JF_SEG_HDR)
#define JF_LOG_HDR 4096        /* LGFILEHDR occupies segment 0 */
#define JF_CHK_BLOCK 4096      /* checkpoint block; file = 2 blocks */
#define JF_MIN_PAGE 2048
#define JF_MAX_PAGE 32768
#define JF_GEN_MAX 0x7FFFF800u /* lGenerationMax */
#define JF_ATTACH_MAX 2048     /* bytes of attach info in a log header */
#define JF_MAX_DBS 8           /* databases attached to one instance */
#define JF_PATH_MAX 1024

/* filetype codes at offset 667 */
#define JF_FILETYPE_DB 1
#define JF_FILETYPE_LOG 3
#define JF_FILETYPE_CHK 4

/* dbstate values (spec 6.2) */
#define JF_DBSTATE_JUST_CREATED 1
#define JF_DBSTATE_DIRTY 2
#define JF_DBSTATE_CLEAN 3

/* BKINFOTYPE */
#define JF_BKTYPE_NORMAL 0

typedef struct jf_lgpos {
    uint16_t ib;   /* byte offset inside the segment */
    uint16_t isec; /* segment index inside the log file (>= 1) */
    int32_t gen;   /* log generation */
} jf_lgpos;

typedef struct jf_logtime { /* JET_LOGTIME: 8 bytes */
    uint8_t sec, min, hour, day, mon, year, filler1, filler2;
} jf_logtime;

typedef struct jf_sig { /* JET_SIGNATURE: 28 bytes */
    uint32_t random;
    jf_logtime create;
    char computer[16];
} jf_sig;

typedef struct jf_bkinfo { /* BKINFO: 24 bytes */
    jf_lgpos mark;
    jf_logtime time;
    uint32_t gen_low;
    uint32_t gen_high;
} jf_bkinfo;

/* ---- small helpers ---- */
int jf_lgpos_cmp(jf_lgpos a, jf_lgpos b);      /* <0, 0, >0 */
uint64_t jf_lgpos_u64(jf_lgpos p);             /* order-preserving */
jf_lgpos jf_lgpos_from_u64(uint64_t v);
void jf_logtime_from_time(jf_logtime *lt, int64_t unix_seconds); /* UTC */
int64_t jf_logtime_to_time(const jf_logtime *lt);
bool jf_logtime_eq(const jf_logtime *a, const jf_logtime *b);
bool jf_sig_eq(const jf_sig *a, const jf_sig *b);
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
#define JF_PG_CRC 0       /* 4 x u32: CRC-32C of lanes 0..3 */
#define JF_PG_LANES 4
#define JF_PG_PGNO 16     /* u32 page number */
#define JF_PG_MARK1 20    /* u32 JF_PG_MAGIC */
#define JF_PG_MARK2 36    /* u32 JF_PG_MAGIC (ESE's fFlags field; bit 0x2000 clear) */
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

/* ---- database header (pages 0 and 1; spec 6.2 DBFILEHDR offsets) ---- */
typedef struct jf_dbhdr {
    uint32_t magic;           /* @4  */
    uint32_t version;         /* @8  */
    uint64_t dbtime_dirtied;  /* @16 */
    jf_sig sign_db;           /* @24 */
    uint32_t dbstate;         /* @52 */
    jf_lgpos lgpos_consistent;/* @56 */
    jf_logtime time_consistent;/* @64 */
    jf_logtime time_attach;   /* @72 */
    jf_lgpos lgpos_attach;    /* @80 */
    jf_logtime time_detach;   /* @88 */
    jf_lgpos lgpos_detach;    /* @96 */
    uint32_t dbid;            /* @104 */
    jf_sig sign_log;          /* @108 */
    jf_bkinfo full_prev;      /* @136 */
    jf_bkinfo inc_prev;       /* @160 */
    jf_bkinfo full_cur;       /* @184 */
    uint32_t flags;           /* @208 */
    uint32_t cb_page;         /* @236 */
    int32_t gen_min_req;      /* @296 */
    int32_t gen_max_req;      /* @300 */
    jf_bkinfo snapshot_cur;   /* @316 */
    jf_logtime time_gen_max_create; /* @348 */
    uint32_t type_full_prev;  /* @356 */
    uint32_t type_inc_prev;   /* @360 */
    int32_t gen_max_committed;/* @416 */
    jf_bkinfo copy_prev;      /* @420 */
    jf_bkinfo diff_prev;      /* @444 */
    uint32_t type_copy_prev;  /* @468 */
    uint32_t type_diff_prev;  /* @472 */
    int32_t gen_min_consistent; /* @640 */
    /* libjet extension area (@1024, ESE leaves it zero) */
    uint32_t cb_record;       /* @1024 fixed record size of the record API */
    uint32_t pgno_last;       /* @1028 last owned page at the last header write */
} jf_dbhdr;

/* Encode into a cb_page block (zero-filled first), filetype 1 @667, sealed
 * with the header checksum.  cb_page must be a supported page size. */
void jf_dbhdr_encode(const jf_dbhdr *h, void *blk, size_t cb_page);
/* Decode and verify one header copy.  Errors: JET_errDatabaseCorrupted
 * (bad checksum, magic, filetype or page size; cb < cb_page). */
long jf_dbhdr_decode(const void *blk, size_t cb, jf_dbhdr *h);
/* Page size stored at @236 of a raw header (0 if implausible). */
uint32_t jf_dbhdr_peek_page_size(const void *blk, size_t cb);

/* ---- trailer page of a backup stream (PATCHHDR, spec 6.2 / 3.2) ---- */
typedef struct jf_trailer {
    jf_bkinfo bkinfo;         /* @40 */
    jf_sig sign_db;           /* @64 */
    jf_sig sign_log;          /* @92 */
    int32_t gen_min_req;      /* @120 */
    int32_t gen_max_req;      /* @124 */
    int32_t gen_max_committed;/* @128 */
    jf_logtime time_min_req;  /* @132 */
    jf_logtime time_max_req;  /* @140 */
} jf_trailer;
void jf_trailer_encode(const jf_trailer *t, void *page, size_t cb_page);
/* JET_errBadPatchPage on a bad checksum. */
long jf_trailer_decode(const void *page, size_t cb_page, jf_trailer *t);

/* ---- attach info (in log headers and the checkpoint) ---- */
typedef struct jf_attach {
    uint32_t dbid;
    char path[JF_PATH_MAX]; /* absolute path as attached */
} jf_attach;
typedef struct jf_attach_list {
    uint32_t count;
    jf_attach db[JF_MAX_DBS];
} jf_attach_list;

/* ---- log file header (segment 0; LGFILEHDR offsets) ---- */
typedef struct jf_loghdr {
    int32_t gen;              /* @4  */
    uint16_t cb_sec;          /* @8  = 4096 */
    uint16_t csec_header;     /* @10 = 1 */
    uint16_t csec_file;       /* @12 segments in the file */
    uint16_t cb_page_db;      /* @14 database page size (0 = 32 KiB) */
    jf_logtime time_create;   /* @16 */
    jf_logtime time_prev_gen; /* @24 tmCreate of gen-1, zero for the first */
    jf_sig sign_log;          /* @44 */
    jf_lgpos lgpos_checkpoint;/* @640 checkpoint when the file was created */
    jf_attach_list attach;    /* @671, at most JF_ATTACH_MAX bytes */
} jf_loghdr;
void jf_loghdr_encode(const jf_loghdr *h, void *blk /* JF_LOG_HDR bytes */);
/* JET_errLogFileCorrupt (checksum, filetype, sizes, attach info). */
long jf_loghdr_decode(const void *blk, size_t cb, jf_loghdr *h);

/* ---- log segments ---- */
typedef struct jf_seghdr {
    jf_lgpos lgpos;           /* @8  position of the segment (ib = 0) */
    jf_logtime time;          /* @16 */
    uint32_t flags;           /* @36 */
} jf_seghdr;
/* Writes the header fields and seals the segment (checksum pgno = isec). */
void jf_seg_seal(void *seg, const jf_seghdr *h);
/* 0 if the segment verifies for index isec or is blank (*blank set);
 * JET_errLogReadVerifyFailure otherwise. */
long jf_seg_verify(const void *seg, uint16_t isec, bool *blank);

/* ---- log records: a byte stream across segment payloads ----
 * Each record = { u32 cb_total (header+body), u8 type, u8 0, u16 0 } + body.
 * cb_total == 0 where a record would start means "end of log data". */
#define JF_LR_HDR 8
enum {
    JF_LR_COMMIT = 1,   /* u32 nwrites; nwrites x {u32 dbid; u64 recno; u16 cb; cb bytes} */
    JF_LR_CREATEDB = 2, /* u32 dbid; u32 cb_record; u32 cb_page; sign_db (28: u32 random, 8 logtime, 16 name); u16 len; path */
    JF_LR_ATTACH = 3,   /* u32 dbid; u16 len; path */
    JF_LR_DETACH = 4,   /* u32 dbid */
    JF_LR_BACKUP = 5,   /* u32 event (JF_BK_*); informational */
    JF_LR_TERM = 6,     /* clean shutdown; no body */
};
enum { JF_BK_BEGIN = 1, JF_BK_PREPARE_LOGS, JF_BK_TRUNCATE, JF_BK_STOP, JF_BK_ABORT,
       JF_BK_UPDATE };
#define JF_LR_MAX (1u << 24) /* no record is larger */

/* ---- checkpoint file (2 shadowed 4096-byte blocks) ---- */
typedef struct jf_chk {
    jf_lgpos lgpos_last_full_backup; /* @4 */
    jf_lgpos lgpos_checkpoint;       /* @12 redo starts here */
    jf_sig sign_log;                 /* @20 */
    jf_lgpos lgpos_db_consistency;   /* @648 */
    jf_attach_list attach;           /* @679 */
} jf_chk;
void jf_chk_encode(const jf_chk *c, void *blk /* JF_CHK_BLOCK */);
/* JET_errCheckpointCorrupt on a bad checksum/filetype/attach info. */
long jf_chk_decode(const void *blk, size_t cb, jf_chk *c);

/* ---- file names (spec 6.1) ----
 * legacy = JET_paramLegacyFileNames bits.  ESE98FileNames selects
 * ".log"/".chk", otherwise ".jtx"/".jcp".  EightDotThreeSoftCompat gives 5
 * hex digits while gen <= 0xFFFFF, then 8; without it always 8.  Digits are
 * uppercase.  Return the length written, or -1 if it does not fit. */
const char *jf_log_ext(unsigned legacy);  /* ".log" or ".jtx" */
const char *jf_chk_ext(unsigned legacy);  /* ".chk" or ".jcp" */
int jf_log_name(char *buf, size_t cb, const char *base, uint32_t gen, unsigned legacy);
int jf_cur_log_name(char *buf, size_t cb, const char *base, unsigned legacy); /* edb.log */
int jf_tmp_log_name(char *buf, size_t cb, const char *base, unsigned legacy); /* edbtmp.log */
int jf_chk_name(char *buf, size_t cb, const char *base, unsigned legacy);     /* edb.chk */
/* Parse "<base><5 or 8 hex digits><ext>" (base and ext compared
 * case-insensitively, digits either case).  0 and *gen on success, -1 if the
 * name is not an archived log name (edb.log, edbtmp.log, wrong digit count,
 * gen 0 or > JF_GEN_MAX). ext may be NULL to accept ".log" or ".jtx". */
int jf_log_parse(const char *name, const char *base, const char *ext, uint32_t *gen);

/* ---- little-endian access ---- */
static inline uint16_t jf_get16(const void *p) { const uint8_t *b = p; return (uint16_t)(b[0] | b[1] << 8); }
static inline uint32_t jf_get32(const void *p) { const uint8_t *b = p; return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static inline uint64_t jf_get64(const void *p) { const uint8_t *b = p; return (uint64_t)jf_get32(b) | (uint64_t)jf_get32(b + 4) << 32; }
static inline void jf_put16(void *p, uint16_t v) { uint8_t *b = p; b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); }
static inline void jf_put32(void *p, uint32_t v) { uint8_t *b = p; b[0] = (uint8_t)v; b[1] = (uint8_t)(v >> 8); b[2] = (uint8_t)(v >> 16); b[3] = (uint8_t)(v >> 24); }
static inline void jf_put64(void *p, uint64_t v) { jf_put32(p, (uint32_t)v); jf_put32((uint8_t *)p + 4, (uint32_t)(v >> 32)); }

#endif /* JET_FORMAT_H */
