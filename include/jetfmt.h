/*
 * jetfmt.h -- libjet's on-disk formats, read-only: the layouts of the
 * database header, log file header, log records and checkpoint file, their
 * decoders, the ESE file-name rules and a sequential log reader.  For tools
 * that inspect files offline (jetutil dump/verify), the way esentutl uses
 * ESE's own structure definitions.  Encoders, checksums and everything that
 * writes stay private to the engine (src/jet/format.h).
 *
 * Layouts follow shared/ese-backup-spec.md section 6 and docs/formats.md;
 * integers are little-endian on disk.  Decoders never trust their input:
 * every length and count is checked against the buffer, and a failure
 * returns a Jet error, never crashes.
 *
 * Thread safety: the decoders and name helpers are pure (no I/O, no state)
 * and safe from any thread; a jet_logreader is used by one thread at a time.
 */
#ifndef JETFMT_H
#define JETFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jet.h"

#define JF_SEGMENT 4096 /* log segment size */
#define JF_SEG_HDR 40   /* LGSEGHDR */
#define JF_SEG_PAYLOAD (JF_SEGMENT - JF_SEG_HDR)
#define JF_LOG_HDR 4096   /* LGFILEHDR occupies segment 0 */
#define JF_CHK_BLOCK 4096 /* checkpoint block; file = 2 blocks */
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

/* ---- database header (pages 0 and 1; spec 6.2 DBFILEHDR offsets) ---- */
typedef struct jf_dbhdr {
    uint32_t magic;                 /* @4  */
    uint32_t version;               /* @8  */
    uint64_t dbtime_dirtied;        /* @16 */
    jf_sig sign_db;                 /* @24 */
    uint32_t dbstate;               /* @52 */
    jf_lgpos lgpos_consistent;      /* @56 */
    jf_logtime time_consistent;     /* @64 */
    jf_logtime time_attach;         /* @72 */
    jf_lgpos lgpos_attach;          /* @80 */
    jf_logtime time_detach;         /* @88 */
    jf_lgpos lgpos_detach;          /* @96 */
    uint32_t dbid;                  /* @104 */
    jf_sig sign_log;                /* @108 */
    jf_bkinfo full_prev;            /* @136 */
    jf_bkinfo inc_prev;             /* @160 */
    jf_bkinfo full_cur;             /* @184 */
    uint32_t flags;                 /* @208 */
    uint32_t cb_page;               /* @236 */
    int32_t gen_min_req;            /* @296 */
    int32_t gen_max_req;            /* @300 */
    jf_bkinfo snapshot_cur;         /* @316 */
    jf_logtime time_gen_max_create; /* @348 */
    uint32_t type_full_prev;        /* @356 */
    uint32_t type_inc_prev;         /* @360 */
    int32_t gen_max_committed;      /* @416 */
    jf_bkinfo copy_prev;            /* @420 */
    jf_bkinfo diff_prev;            /* @444 */
    uint32_t type_copy_prev;        /* @468 */
    uint32_t type_diff_prev;        /* @472 */
    int32_t gen_min_consistent;     /* @640 */
    /* libjet extension area (@1024, ESE leaves it zero) */
    uint32_t cb_record; /* @1024 fixed record size of the record API */
    uint32_t pgno_last; /* @1028 last owned page at the last header write */
} jf_dbhdr;
/* Decode and verify one header copy.  Errors: JET_errDatabaseCorrupted
 * (bad checksum, magic, filetype or page size; cb < cb_page). */
long jf_dbhdr_decode(const void *blk, size_t cb, jf_dbhdr *h);
/* Page size stored at @236 of a raw header (0 if implausible). */
uint32_t jf_dbhdr_peek_page_size(const void *blk, size_t cb);

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
    int32_t gen;               /* @4  */
    uint16_t cb_sec;           /* @8  = 4096 */
    uint16_t csec_header;      /* @10 = 1 */
    uint16_t csec_file;        /* @12 segments in the file */
    uint16_t cb_page_db;       /* @14 database page size (0 = 32 KiB) */
    jf_logtime time_create;    /* @16 */
    jf_logtime time_prev_gen;  /* @24 tmCreate of gen-1, zero for the first */
    jf_sig sign_log;           /* @44 */
    jf_lgpos lgpos_checkpoint; /* @640 checkpoint when the file was created */
    jf_attach_list attach;     /* @671, at most JF_ATTACH_MAX bytes */
} jf_loghdr;
/* JET_errLogFileCorrupt (checksum, filetype, sizes, attach info). */
long jf_loghdr_decode(const void *blk, size_t cb, jf_loghdr *h);

/* ---- log segments ---- */
/* 0 if the segment verifies for index isec or is blank (*blank set);
 * JET_errLogReadVerifyFailure otherwise. */
long jf_seg_verify(const void *seg, uint16_t isec, bool *blank);

/* ---- log records: a byte stream across segment payloads ----
 * Each record = { u32 cb_total (header+body), u8 type, u8 0, u16 0 } + body.
 * cb_total == 0 where a record would start means "end of log data". */
#define JF_LR_HDR 8
enum {
    JF_LR_COMMIT = 1, /* u32 nwrites; nwrites x {u32 dbid; u64 recno; u16 cb; cb bytes} */
    JF_LR_CREATEDB =
        2, /* u32 dbid; u32 cb_record; u32 cb_page; sign_db (28: u32 random, 8 logtime, 16 name); u16 len; path */
    JF_LR_ATTACH = 3, /* u32 dbid; u16 len; path */
    JF_LR_DETACH = 4, /* u32 dbid */
    JF_LR_BACKUP = 5, /* u32 event (JF_BK_*); informational */
    JF_LR_TERM = 6,   /* clean shutdown; no body */
};
enum { JF_BK_BEGIN = 1, JF_BK_PREPARE_LOGS, JF_BK_TRUNCATE, JF_BK_STOP, JF_BK_ABORT, JF_BK_UPDATE };
#define JF_LR_MAX (1u << 24) /* no record is larger */

/* ---- checkpoint file (2 shadowed 4096-byte blocks) ---- */
typedef struct jf_chk {
    jf_lgpos lgpos_last_full_backup; /* @4 */
    jf_lgpos lgpos_checkpoint;       /* @12 redo starts here */
    jf_sig sign_log;                 /* @20 */
    jf_lgpos lgpos_db_consistency;   /* @648 */
    jf_attach_list attach;           /* @679 */
} jf_chk;
/* JET_errCheckpointCorrupt on a bad checksum/filetype/attach info. */
long jf_chk_decode(const void *blk, size_t cb, jf_chk *c);

/* ---- file names (spec 6.1) ----
 * legacy = JET_paramLegacyFileNames bits.  ESE98FileNames selects
 * ".log"/".chk", otherwise ".jtx"/".jcp".  EightDotThreeSoftCompat gives 5
 * hex digits while gen <= 0xFFFFF, then 8; without it always 8.  Digits are
 * uppercase.  Return the length written, or -1 if it does not fit. */
const char *jf_log_ext(unsigned legacy); /* ".log" or ".jtx" */
const char *jf_chk_ext(unsigned legacy); /* ".chk" or ".jcp" */
int jf_log_name(char *buf, size_t cb, const char *base, uint32_t gen, unsigned legacy);
int jf_cur_log_name(char *buf, size_t cb, const char *base, unsigned legacy); /* edb.log */
int jf_tmp_log_name(char *buf, size_t cb, const char *base, unsigned legacy); /* edbtmp.log */
int jf_chk_name(char *buf, size_t cb, const char *base, unsigned legacy);     /* edb.chk */
/* Parse "<base><5 or 8 hex digits><ext>" (base and ext compared
 * case-insensitively, digits either case).  0 and *gen on success, -1 if the
 * name is not an archived log name (edb.log, edbtmp.log, wrong digit count,
 * gen 0 or > JF_GEN_MAX). ext may be NULL to accept ".log" or ".jtx". */
int jf_log_parse(const char *name, const char *base, const char *ext, uint32_t *gen);

/* ---- sequential log reader over one log file ----
 * Verifies the header and every segment it reads. */
typedef struct jet_logreader jet_logreader;
/* Open path and decode its header into *hdr.  Errors: JET_errFileNotFound,
 * JET_errLogFileCorrupt (header), JET_errOutOfMemory. */
JET_ERR jlr_open(const char *path, jet_logreader **pr, jf_loghdr *hdr);
/* Next record: 1 and the record, 0 at the end of the log data (blank
 * segment or the torn tail of an interrupted flush), JET_errLogFileCorrupt
 * on a damaged record before the end.  *pbody is valid until the next
 * call. */
JET_ERR jlr_next(jet_logreader *r, uint8_t *ptype, const uint8_t **pbody, uint32_t *pcb,
                 jf_lgpos *ppos);
/* Close the file and free the reader (NULL is a no-op). */
void jlr_close(jet_logreader *r);

#endif /* JETFMT_H */
