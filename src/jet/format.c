/*
 * format.c -- libjet's on-disk formats (see format.h and docs/formats.md).
 *
 * Everything here is a pure function over caller-supplied buffers: no I/O
 * (except jf_sig_new, which reads the clock, the host name and the kernel
 * random source), no global mutable state, safe from any thread.
 * Decoders validate every length/count against the buffer before use and
 * write their output only on success.
 */
#include "config.h"

#include "format.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "jet.h"

/* ---- field offsets (spec 6.2) ---- */
#define OFF_FILETYPE 667 /* u32 in DB header, log header, checkpoint */

/* DBFILEHDR */
#define DB_CHECKSUM 0
#define DB_MAGIC 4
#define DB_VERSION 8
#define DB_ATTRIB 12
#define DB_DBTIME 16
#define DB_SIGNDB 24
#define DB_DBSTATE 52
#define DB_LGPOS_CONS 56
#define DB_TIME_CONS 64
#define DB_TIME_ATTACH 72
#define DB_LGPOS_ATTACH 80
#define DB_TIME_DETACH 88
#define DB_LGPOS_DETACH 96
#define DB_DBID 104
#define DB_SIGNLOG 108
#define DB_BK_FULL_PREV 136
#define DB_BK_INC_PREV 160
#define DB_BK_FULL_CUR 184
#define DB_FLAGS 208
#define DB_CBPAGE 236
#define DB_GEN_MIN_REQ 296
#define DB_GEN_MAX_REQ 300
#define DB_BK_SNAP_CUR 316
#define DB_TIME_GENMAX_CREATE 348
#define DB_TYPE_FULL_PREV 356
#define DB_TYPE_INC_PREV 360
#define DB_GEN_MAX_COMMITTED 416
#define DB_BK_COPY_PREV 420
#define DB_BK_DIFF_PREV 444
#define DB_TYPE_COPY_PREV 468
#define DB_TYPE_DIFF_PREV 472
#define DB_GEN_MIN_CONS 640
#define DB_EXT_CB_RECORD 1024
#define DB_EXT_PGNO_LAST 1028

/* PATCHHDR */
#define TR_BKINFO 40
#define TR_SIGNDB 64
#define TR_SIGNLOG 92
#define TR_GEN_MIN_REQ 120
#define TR_GEN_MAX_REQ 124
#define TR_GEN_MAX_COMMITTED 128
#define TR_TIME_MIN_REQ 132
#define TR_TIME_MAX_REQ 140

/* LGFILEHDR */
#define LH_GEN 4
#define LH_CBSEC 8
#define LH_CSEC_HEADER 10
#define LH_CSEC_FILE 12
#define LH_CBPAGE 14
#define LH_TIME_CREATE 16
#define LH_TIME_PREV 24
#define LH_SIGNLOG 44
#define LH_LGPOS_CHK 640
#define LH_ATTACH 671

/* LGSEGHDR */
#define SEG_LGPOS 8
#define SEG_TIME 16
#define SEG_FLAGS 36

/* CHECKPOINT */
#define CK_LGPOS_FULL 4
#define CK_LGPOS_CHK 12
#define CK_SIGNLOG 20
#define CK_LGPOS_DBCONS 648
#define CK_ATTACH 679

#define SIG_SIZE 28
#define BKINFO_SIZE 24

/* ================================================================ */
/* small helpers                                                     */
/* ================================================================ */

/* Compare two log positions by (gen, isec, ib); gen compares signed.
 * Returns <0, 0 or >0.  No errors, no locking. */
int jf_lgpos_cmp(jf_lgpos a, jf_lgpos b)
{
    if (a.gen != b.gen)
        return a.gen < b.gen ? -1 : 1;
    if (a.isec != b.isec)
        return a.isec < b.isec ? -1 : 1;
    if (a.ib != b.ib)
        return a.ib < b.ib ? -1 : 1;
    return 0;
}

/* Pack a log position as gen<<32 | isec<<16 | ib (ESE's LGPOS::qw layout).
 * Order-preserving for gen >= 0 (every valid position); the zero lgpos maps
 * to 0.  No errors. */
uint64_t jf_lgpos_u64(jf_lgpos p)
{
    return (uint64_t)(uint32_t)p.gen << 32 | (uint64_t)p.isec << 16 | p.ib;
}

/* Inverse of jf_lgpos_u64.  No errors. */
jf_lgpos jf_lgpos_from_u64(uint64_t v)
{
    jf_lgpos p;
    p.ib = (uint16_t)v;
    p.isec = (uint16_t)(v >> 16);
    p.gen = (int32_t)(uint32_t)(v >> 32);
    return p;
}

/* Days since 1970-01-01 of a proleptic Gregorian civil date (Howard
 * Hinnant's days_from_civil).  m is 1..12.  No errors. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Civil date of a day count since 1970-01-01 (inverse of the above).
 * No errors. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Fill *lt with the UTC broken-down time of unix_seconds, ESE style:
 * year = years since 1900 (u8, so 1900..2155; values outside are clamped),
 * month 1..12, day 1..31, filler1 = 1 (ESE's fTimeIsUTC bit, 0 ms),
 * filler2 = 0.  No errors, no locking. */
void jf_logtime_from_time(jf_logtime *lt, int64_t unix_seconds)
{
    const int64_t min_t = days_from_civil(1900, 1, 1) * 86400;
    const int64_t max_t = days_from_civil(2156, 1, 1) * 86400 - 1;
    if (unix_seconds < min_t)
        unix_seconds = min_t;
    if (unix_seconds > max_t)
        unix_seconds = max_t;
    int64_t days = unix_seconds / 86400, secs = unix_seconds % 86400;
    if (secs < 0) {
        secs += 86400;
        days -= 1;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    lt->sec = (uint8_t)(secs % 60);
    lt->min = (uint8_t)(secs / 60 % 60);
    lt->hour = (uint8_t)(secs / 3600);
    lt->day = (uint8_t)d;
    lt->mon = (uint8_t)m;
    lt->year = (uint8_t)(y - 1900);
    lt->filler1 = 1;
    lt->filler2 = 0;
}

/* Seconds since the epoch (UTC) of *lt; the fillers are ignored.  An
 * all-zero logtime (ESE's "no time") gives 0.  Out-of-range fields (month 0,
 * day 0) are normalised arithmetically, never rejected.  No errors. */
int64_t jf_logtime_to_time(const jf_logtime *lt)
{
    if (!lt->sec && !lt->min && !lt->hour && !lt->day && !lt->mon && !lt->year)
        return 0;
    unsigned m = lt->mon ? lt->mon : 1;
    if (m > 12)
        m = 12;
    unsigned d = lt->day ? lt->day : 1;
    int64_t days = days_from_civil(1900 + (int64_t)lt->year, m, d);
    return days * 86400 + (int64_t)lt->hour * 3600 + (int64_t)lt->min * 60 + lt->sec;
}

/* True if the two logtimes are byte-for-byte equal (ESE compares LOGTIMEs
 * with memcmp).  No errors. */
bool jf_logtime_eq(const jf_logtime *a, const jf_logtime *b)
{
    return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
           a->mon == b->mon && a->year == b->year && a->filler1 == b->filler1 &&
           a->filler2 == b->filler2;
}

/* True if two signatures are equal (random, creation time and all 16
 * computer-name bytes).  No errors. */
bool jf_sig_eq(const jf_sig *a, const jf_sig *b)
{
    return a->random == b->random && jf_logtime_eq(&a->create, &b->create) &&
           memcmp(a->computer, b->computer, sizeof a->computer) == 0;
}

/* A fresh signature: random from getrandom(2) (fallback: time ^ pid ^ the
 * address of a local), creation time now (UTC), host name truncated to 15
 * bytes and zero padded (empty if gethostname fails).  Never fails. */
void jf_sig_new(jf_sig *s)
{
    memset(s, 0, sizeof *s);
    uint32_t r = 0;
    ssize_t n;
    do {
        n = getrandom(&r, sizeof r, 0);
    } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof r) {
        struct timespec ts;
        if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
            ts.tv_sec = ts.tv_nsec = 0;
        r = (uint32_t)ts.tv_sec ^ (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() << 16 ^
            (uint32_t)(uintptr_t)&ts;
    }
    s->random = r;
    jf_logtime_from_time(&s->create, (int64_t)time(NULL));
    char host[256];
    if (gethostname(host, sizeof host) == 0) {
        host[sizeof host - 1] = '\0';
        size_t len = strnlen(host, sizeof s->computer - 1);
        memcpy(s->computer, host, len);
    }
}

/* ================================================================ */
/* shared sub-structures                                             */
/* ================================================================ */

static void put_lgpos(uint8_t *p, jf_lgpos l)
{
    jf_put16(p, l.ib);
    jf_put16(p + 2, l.isec);
    jf_put32(p + 4, (uint32_t)l.gen);
}

static jf_lgpos get_lgpos(const uint8_t *p)
{
    jf_lgpos l;
    l.ib = jf_get16(p);
    l.isec = jf_get16(p + 2);
    l.gen = (int32_t)jf_get32(p + 4);
    return l;
}

static void put_logtime(uint8_t *p, const jf_logtime *t)
{
    p[0] = t->sec;
    p[1] = t->min;
    p[2] = t->hour;
    p[3] = t->day;
    p[4] = t->mon;
    p[5] = t->year;
    p[6] = t->filler1;
    p[7] = t->filler2;
}

static jf_logtime get_logtime(const uint8_t *p)
{
    jf_logtime t;
    t.sec = p[0];
    t.min = p[1];
    t.hour = p[2];
    t.day = p[3];
    t.mon = p[4];
    t.year = p[5];
    t.filler1 = p[6];
    t.filler2 = p[7];
    return t;
}

static void put_sig(uint8_t *p, const jf_sig *s)
{
    jf_put32(p, s->random);
    put_logtime(p + 4, &s->create);
    memcpy(p + 12, s->computer, 16);
}

static jf_sig get_sig(const uint8_t *p)
{
    jf_sig s;
    s.random = jf_get32(p);
    s.create = get_logtime(p + 4);
    memcpy(s.computer, p + 12, 16);
    return s;
}

static void put_bkinfo(uint8_t *p, const jf_bkinfo *b)
{
    put_lgpos(p, b->mark);
    put_logtime(p + 8, &b->time);
    jf_put32(p + 16, b->gen_low);
    jf_put32(p + 20, b->gen_high);
}

static jf_bkinfo get_bkinfo(const uint8_t *p)
{
    jf_bkinfo b;
    b.mark = get_lgpos(p);
    b.time = get_logtime(p + 8);
    b.gen_low = jf_get32(p + 16);
    b.gen_high = jf_get32(p + 20);
    return b;
}

/* True for 2, 4, 8, 16 and 32 KiB (format.h).  Pure. */
bool jf_page_size_ok(uint32_t cb)
{
    return cb >= JF_MIN_PAGE && cb <= JF_MAX_PAGE && (cb & (cb - 1)) == 0;
}

/* ---- attach list: u8 count, then per database
 *      { u32 dbid; u16 len; len path bytes (no NUL) } ----
 * JF_ATTACH_OVERFLOW in the count byte marks a list that did not fit when
 * it was encoded; decoders reject it. */
#define JF_ATTACH_OVERFLOW 0xFF

/* Encode list into area[0..cb) (already zeroed).  If the list has more than
 * JF_MAX_DBS entries or does not fit, writes the overflow marker instead so
 * that the block fails to decode rather than silently losing a database.
 * No errors returned (format.h's encoders are void). */
static void attach_encode(uint8_t *area, size_t cb, const jf_attach_list *l)
{
    size_t off = 1;
    if (l->count > JF_MAX_DBS)
        goto overflow;
    for (uint32_t i = 0; i < l->count; i++) {
        size_t len = strnlen(l->db[i].path, JF_PATH_MAX - 1);
        if (off + 6 + len > cb)
            goto overflow;
        jf_put32(area + off, l->db[i].dbid);
        jf_put16(area + off + 4, (uint16_t)len);
        memcpy(area + off + 6, l->db[i].path, len);
        off += 6 + len;
    }
    area[0] = (uint8_t)l->count;
    return;
overflow:
    memset(area, 0, cb);
    area[0] = JF_ATTACH_OVERFLOW;
}

/* Decode an attach list from area[0..cb).  Returns 0, or -1 if the count
 * exceeds JF_MAX_DBS, an entry or its path overruns the area, a path is
 * empty, not shorter than JF_PATH_MAX or contains a NUL byte.  *l is
 * written in full (paths NUL-terminated, unused entries zero); callers
 * decode into a temporary. */
static int attach_decode(const uint8_t *area, size_t cb, jf_attach_list *l)
{
    memset(l, 0, sizeof *l);
    if (cb < 1)
        return -1;
    uint32_t count = area[0];
    if (count > JF_MAX_DBS)
        return -1;
    size_t off = 1;
    for (uint32_t i = 0; i < count; i++) {
        if (cb - off < 6)
            return -1;
        uint32_t dbid = jf_get32(area + off);
        size_t len = jf_get16(area + off + 4);
        off += 6;
        if (len == 0 || len >= JF_PATH_MAX || len > cb - off)
            return -1;
        if (memchr(area + off, 0, len) != NULL)
            return -1;
        l->db[i].dbid = dbid;
        memcpy(l->db[i].path, area + off, len);
        l->db[i].path[len] = '\0';
        off += len;
    }
    l->count = count;
    return 0;
}

/* ================================================================ */
/* database header                                                   */
/* ================================================================ */

/* Encode *h into blk[0..cb_page): zero fill, all fields at their DBFILEHDR
 * offsets, magic/version from h, attrib 0, filetype 1 @667, page size @236 =
 * cb_page (the block size argument; h->cb_page is not consulted), libjet
 * extension fields @1024, then the header checksum.  cb_page must be a
 * supported page size (caller's bug otherwise; the block is still sealed).
 * No errors. */
void jf_dbhdr_encode(const jf_dbhdr *h, void *blk, size_t cb_page)
{
    uint8_t *b = blk;
    memset(b, 0, cb_page);
    if (cb_page < DB_EXT_PGNO_LAST + 4)
        return;
    jf_put32(b + DB_MAGIC, h->magic);
    jf_put32(b + DB_VERSION, h->version);
    jf_put64(b + DB_DBTIME, h->dbtime_dirtied);
    put_sig(b + DB_SIGNDB, &h->sign_db);
    jf_put32(b + DB_DBSTATE, h->dbstate);
    put_lgpos(b + DB_LGPOS_CONS, h->lgpos_consistent);
    put_logtime(b + DB_TIME_CONS, &h->time_consistent);
    put_logtime(b + DB_TIME_ATTACH, &h->time_attach);
    put_lgpos(b + DB_LGPOS_ATTACH, h->lgpos_attach);
    put_logtime(b + DB_TIME_DETACH, &h->time_detach);
    put_lgpos(b + DB_LGPOS_DETACH, h->lgpos_detach);
    jf_put32(b + DB_DBID, h->dbid);
    put_sig(b + DB_SIGNLOG, &h->sign_log);
    put_bkinfo(b + DB_BK_FULL_PREV, &h->full_prev);
    put_bkinfo(b + DB_BK_INC_PREV, &h->inc_prev);
    put_bkinfo(b + DB_BK_FULL_CUR, &h->full_cur);
    jf_put32(b + DB_FLAGS, h->flags);
    jf_put32(b + DB_CBPAGE, (uint32_t)cb_page);
    jf_put32(b + DB_GEN_MIN_REQ, (uint32_t)h->gen_min_req);
    jf_put32(b + DB_GEN_MAX_REQ, (uint32_t)h->gen_max_req);
    put_bkinfo(b + DB_BK_SNAP_CUR, &h->snapshot_cur);
    put_logtime(b + DB_TIME_GENMAX_CREATE, &h->time_gen_max_create);
    jf_put32(b + DB_TYPE_FULL_PREV, h->type_full_prev);
    jf_put32(b + DB_TYPE_INC_PREV, h->type_inc_prev);
    jf_put32(b + DB_GEN_MAX_COMMITTED, (uint32_t)h->gen_max_committed);
    put_bkinfo(b + DB_BK_COPY_PREV, &h->copy_prev);
    put_bkinfo(b + DB_BK_DIFF_PREV, &h->diff_prev);
    jf_put32(b + DB_TYPE_COPY_PREV, h->type_copy_prev);
    jf_put32(b + DB_TYPE_DIFF_PREV, h->type_diff_prev);
    jf_put32(b + DB_GEN_MIN_CONS, (uint32_t)h->gen_min_consistent);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_DB);
    jf_put32(b + DB_EXT_CB_RECORD, h->cb_record);
    jf_put32(b + DB_EXT_PGNO_LAST, h->pgno_last);
    jf_hdr_seal(b, cb_page);
}

/* Page size recorded at @236 of a raw header (0 there means 4096, as in
 * ESE); returns 0 if cb < 240 or the value is not 2/4/8/16/32 KiB.
 * No checksum check.  No errors. */
uint32_t jf_dbhdr_peek_page_size(const void *blk, size_t cb)
{
    if (cb < DB_CBPAGE + 4)
        return 0;
    uint32_t v = jf_get32((const uint8_t *)blk + DB_CBPAGE);
    if (v == 0)
        v = 4096;
    return jf_page_size_ok(v) ? v : 0;
}

/* Decode and verify one header copy (blk has cb bytes, at least the page
 * size recorded in it).  Errors (JET_errDatabaseCorrupted, *h untouched):
 * implausible page size, cb < page size, bad checksum, wrong magic or
 * filetype.  The version is returned, not checked. */
long jf_dbhdr_decode(const void *blk, size_t cb, jf_dbhdr *h)
{
    const uint8_t *b = blk;
    uint32_t cb_page = jf_dbhdr_peek_page_size(blk, cb);
    if (cb_page == 0 || cb < cb_page)
        return JET_errDatabaseCorrupted;
    if (!jf_hdr_ok(b, cb_page))
        return JET_errDatabaseCorrupted;
    if (jf_get32(b + DB_MAGIC) != JF_DB_MAGIC || jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_DB)
        return JET_errDatabaseCorrupted;
    jf_dbhdr t;
    memset(&t, 0, sizeof t);
    t.magic = jf_get32(b + DB_MAGIC);
    t.version = jf_get32(b + DB_VERSION);
    t.dbtime_dirtied = jf_get64(b + DB_DBTIME);
    t.sign_db = get_sig(b + DB_SIGNDB);
    t.dbstate = jf_get32(b + DB_DBSTATE);
    t.lgpos_consistent = get_lgpos(b + DB_LGPOS_CONS);
    t.time_consistent = get_logtime(b + DB_TIME_CONS);
    t.time_attach = get_logtime(b + DB_TIME_ATTACH);
    t.lgpos_attach = get_lgpos(b + DB_LGPOS_ATTACH);
    t.time_detach = get_logtime(b + DB_TIME_DETACH);
    t.lgpos_detach = get_lgpos(b + DB_LGPOS_DETACH);
    t.dbid = jf_get32(b + DB_DBID);
    t.sign_log = get_sig(b + DB_SIGNLOG);
    t.full_prev = get_bkinfo(b + DB_BK_FULL_PREV);
    t.inc_prev = get_bkinfo(b + DB_BK_INC_PREV);
    t.full_cur = get_bkinfo(b + DB_BK_FULL_CUR);
    t.flags = jf_get32(b + DB_FLAGS);
    t.cb_page = cb_page;
    t.gen_min_req = (int32_t)jf_get32(b + DB_GEN_MIN_REQ);
    t.gen_max_req = (int32_t)jf_get32(b + DB_GEN_MAX_REQ);
    t.snapshot_cur = get_bkinfo(b + DB_BK_SNAP_CUR);
    t.time_gen_max_create = get_logtime(b + DB_TIME_GENMAX_CREATE);
    t.type_full_prev = jf_get32(b + DB_TYPE_FULL_PREV);
    t.type_inc_prev = jf_get32(b + DB_TYPE_INC_PREV);
    t.gen_max_committed = (int32_t)jf_get32(b + DB_GEN_MAX_COMMITTED);
    t.copy_prev = get_bkinfo(b + DB_BK_COPY_PREV);
    t.diff_prev = get_bkinfo(b + DB_BK_DIFF_PREV);
    t.type_copy_prev = jf_get32(b + DB_TYPE_COPY_PREV);
    t.type_diff_prev = jf_get32(b + DB_TYPE_DIFF_PREV);
    t.gen_min_consistent = (int32_t)jf_get32(b + DB_GEN_MIN_CONS);
    t.cb_record = jf_get32(b + DB_EXT_CB_RECORD);
    t.pgno_last = jf_get32(b + DB_EXT_PGNO_LAST);
    *h = t;
    return 0;
}

/* ================================================================ */
/* trailer (PATCHHDR)                                                */
/* ================================================================ */

/* Encode *t into page[0..cb_page): zero fill (the 40-byte PGHDR stays
 * zero), fields at their PATCHHDR offsets, header checksum at 0.
 * No errors. */
void jf_trailer_encode(const jf_trailer *t, void *page, size_t cb_page)
{
    uint8_t *b = page;
    memset(b, 0, cb_page);
    if (cb_page < TR_TIME_MAX_REQ + 8)
        return;
    put_bkinfo(b + TR_BKINFO, &t->bkinfo);
    put_sig(b + TR_SIGNDB, &t->sign_db);
    put_sig(b + TR_SIGNLOG, &t->sign_log);
    jf_put32(b + TR_GEN_MIN_REQ, (uint32_t)t->gen_min_req);
    jf_put32(b + TR_GEN_MAX_REQ, (uint32_t)t->gen_max_req);
    jf_put32(b + TR_GEN_MAX_COMMITTED, (uint32_t)t->gen_max_committed);
    put_logtime(b + TR_TIME_MIN_REQ, &t->time_min_req);
    put_logtime(b + TR_TIME_MAX_REQ, &t->time_max_req);
    jf_hdr_seal(b, cb_page);
}

/* Decode a trailer page of cb_page bytes.  Errors (JET_errBadPatchPage, *t
 * untouched): unsupported cb_page, bad checksum (an all-zero page has a bad
 * checksum). */
long jf_trailer_decode(const void *page, size_t cb_page, jf_trailer *t)
{
    const uint8_t *b = page;
    if (cb_page > UINT32_MAX || !jf_page_size_ok((uint32_t)cb_page) || !jf_hdr_ok(b, cb_page))
        return JET_errBadPatchPage;
    jf_trailer r;
    r.bkinfo = get_bkinfo(b + TR_BKINFO);
    r.sign_db = get_sig(b + TR_SIGNDB);
    r.sign_log = get_sig(b + TR_SIGNLOG);
    r.gen_min_req = (int32_t)jf_get32(b + TR_GEN_MIN_REQ);
    r.gen_max_req = (int32_t)jf_get32(b + TR_GEN_MAX_REQ);
    r.gen_max_committed = (int32_t)jf_get32(b + TR_GEN_MAX_COMMITTED);
    r.time_min_req = get_logtime(b + TR_TIME_MIN_REQ);
    r.time_max_req = get_logtime(b + TR_TIME_MAX_REQ);
    *t = r;
    return 0;
}

/* ================================================================ */
/* log file header                                                   */
/* ================================================================ */

/* Encode *h into blk[0..JF_LOG_HDR): zero fill, LGFILEHDR fields, filetype
 * 3 @667, attach list @671 (at most JF_ATTACH_MAX bytes; a list that does
 * not fit is encoded as the overflow marker, see attach_encode), header
 * checksum.  No errors. */
void jf_loghdr_encode(const jf_loghdr *h, void *blk)
{
    uint8_t *b = blk;
    memset(b, 0, JF_LOG_HDR);
    jf_put32(b + LH_GEN, (uint32_t)h->gen);
    jf_put16(b + LH_CBSEC, h->cb_sec);
    jf_put16(b + LH_CSEC_HEADER, h->csec_header);
    jf_put16(b + LH_CSEC_FILE, h->csec_file);
    jf_put16(b + LH_CBPAGE, h->cb_page_db);
    put_logtime(b + LH_TIME_CREATE, &h->time_create);
    put_logtime(b + LH_TIME_PREV, &h->time_prev_gen);
    put_sig(b + LH_SIGNLOG, &h->sign_log);
    put_lgpos(b + LH_LGPOS_CHK, h->lgpos_checkpoint);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_LOG);
    attach_encode(b + LH_ATTACH, JF_ATTACH_MAX, &h->attach);
    jf_hdr_seal(b, JF_LOG_HDR);
}

/* Decode a log file header (first JF_LOG_HDR bytes of blk).  Errors
 * (JET_errLogFileCorrupt, *h untouched): cb < JF_LOG_HDR, bad checksum,
 * filetype != 3, cb_sec != 4096, csec_header != 1, csec_file < 2, gen not in
 * 1..JF_GEN_MAX, page size neither 0 nor 2..32 KiB, bad attach list. */
long jf_loghdr_decode(const void *blk, size_t cb, jf_loghdr *h)
{
    const uint8_t *b = blk;
    if (cb < JF_LOG_HDR || !jf_hdr_ok(b, JF_LOG_HDR))
        return JET_errLogFileCorrupt;
    if (jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_LOG)
        return JET_errLogFileCorrupt;
    jf_loghdr t;
    t.gen = (int32_t)jf_get32(b + LH_GEN);
    t.cb_sec = jf_get16(b + LH_CBSEC);
    t.csec_header = jf_get16(b + LH_CSEC_HEADER);
    t.csec_file = jf_get16(b + LH_CSEC_FILE);
    t.cb_page_db = jf_get16(b + LH_CBPAGE);
    if (t.gen < 1 || (uint32_t)t.gen > JF_GEN_MAX || t.cb_sec != JF_SEGMENT || t.csec_header != 1 ||
        t.csec_file < 2 || (t.cb_page_db != 0 && !jf_page_size_ok(t.cb_page_db)))
        return JET_errLogFileCorrupt;
    t.time_create = get_logtime(b + LH_TIME_CREATE);
    t.time_prev_gen = get_logtime(b + LH_TIME_PREV);
    t.sign_log = get_sig(b + LH_SIGNLOG);
    t.lgpos_checkpoint = get_lgpos(b + LH_LGPOS_CHK);
    if (attach_decode(b + LH_ATTACH, JF_ATTACH_MAX, &t.attach) < 0)
        return JET_errLogFileCorrupt;
    *h = t;
    return 0;
}

/* ================================================================ */
/* log segments                                                      */
/* ================================================================ */

/* Write the LGSEGHDR fields of *h into seg (JF_SEGMENT bytes; reserved
 * bytes 24..35 zeroed; payload untouched) and seal with the page checksum
 * using pgno = h->lgpos.isec.  No errors. */
void jf_seg_seal(void *seg, const jf_seghdr *h)
{
    uint8_t *b = seg;
    put_lgpos(b + SEG_LGPOS, h->lgpos);
    put_logtime(b + SEG_TIME, &h->time);
    memset(b + 24, 0, 12);
    jf_put32(b + SEG_FLAGS, h->flags);
    jf_page_seal_xor(b, JF_SEGMENT, h->lgpos.isec);
}

/* Verify a JF_SEGMENT-byte segment for index isec.  Returns 0 if blank
 * (*blank = true) or the checksum matches isec (*blank = false);
 * JET_errLogReadVerifyFailure otherwise (also for a checksum that is valid
 * for another index).  blank may be NULL. */
long jf_seg_verify(const void *seg, uint16_t isec, bool *blank)
{
    bool is_blank = jf_is_blank(seg, JF_SEGMENT);
    long rc = 0;
    if (!is_blank && jf_get64(seg) != jf_page_checksum(seg, JF_SEGMENT, isec))
        rc = JET_errLogReadVerifyFailure;
    if (blank)
        *blank = is_blank;
    return rc;
}

/* ================================================================ */
/* checkpoint                                                        */
/* ================================================================ */

/* Encode *c into blk[0..JF_CHK_BLOCK): zero fill, CHECKPOINT fields,
 * filetype 4 @667, attach list @679 up to the block end, header checksum.
 * No errors. */
void jf_chk_encode(const jf_chk *c, void *blk)
{
    uint8_t *b = blk;
    memset(b, 0, JF_CHK_BLOCK);
    put_lgpos(b + CK_LGPOS_FULL, c->lgpos_last_full_backup);
    put_lgpos(b + CK_LGPOS_CHK, c->lgpos_checkpoint);
    put_sig(b + CK_SIGNLOG, &c->sign_log);
    put_lgpos(b + CK_LGPOS_DBCONS, c->lgpos_db_consistency);
    jf_put32(b + OFF_FILETYPE, JF_FILETYPE_CHK);
    attach_encode(b + CK_ATTACH, JF_CHK_BLOCK - CK_ATTACH, &c->attach);
    jf_hdr_seal(b, JF_CHK_BLOCK);
}

/* Decode one checkpoint block.  Errors (JET_errCheckpointCorrupt, *c
 * untouched): cb < JF_CHK_BLOCK, bad checksum, filetype != 4, bad attach
 * list. */
long jf_chk_decode(const void *blk, size_t cb, jf_chk *c)
{
    const uint8_t *b = blk;
    if (cb < JF_CHK_BLOCK || !jf_hdr_ok(b, JF_CHK_BLOCK))
        return JET_errCheckpointCorrupt;
    if (jf_get32(b + OFF_FILETYPE) != JF_FILETYPE_CHK)
        return JET_errCheckpointCorrupt;
    jf_chk t;
    t.lgpos_last_full_backup = get_lgpos(b + CK_LGPOS_FULL);
    t.lgpos_checkpoint = get_lgpos(b + CK_LGPOS_CHK);
    t.sign_log = get_sig(b + CK_SIGNLOG);
    t.lgpos_db_consistency = get_lgpos(b + CK_LGPOS_DBCONS);
    if (attach_decode(b + CK_ATTACH, JF_CHK_BLOCK - CK_ATTACH, &t.attach) < 0)
        return JET_errCheckpointCorrupt;
    *c = t;
    return 0;
}

/* ================================================================ */
/* file names                                                        */
/* ================================================================ */

/* ".log" with JET_bitESE98FileNames, else ".jtx".  Static string. */
const char *jf_log_ext(unsigned legacy)
{
    return (legacy & JET_bitESE98FileNames) ? ".log" : ".jtx";
}

/* ".chk" with JET_bitESE98FileNames, else ".jcp".  Static string. */
const char *jf_chk_ext(unsigned legacy)
{
    return (legacy & JET_bitESE98FileNames) ? ".chk" : ".jcp";
}

/* Write "<a><b><c>" into buf if it fits with its NUL; returns the length or
 * -1 (buf untouched) if it does not fit or an argument is NULL. */
static int name3(char *buf, size_t cb, const char *a, const char *b, const char *c)
{
    if (!buf || !a || !b || !c)
        return -1;
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    size_t n = la + lb + lc;
    if (n >= cb || n > (size_t)INT32_MAX)
        return -1;
    memcpy(buf, a, la);
    memcpy(buf + la, b, lb);
    memcpy(buf + la + lb, c, lc);
    buf[n] = '\0';
    return (int)n;
}

/* "<base><GEN><ext>": GEN is uppercase hex, 5 digits when
 * JET_bitEightDotThreeSoftCompat is set and gen <= 0xFFFFF, else 8.  Any
 * u32 gen is formatted (validity is the caller's business).  Returns the
 * length or -1 (buf untouched) if it does not fit. */
int jf_log_name(char *buf, size_t cb, const char *base, uint32_t gen, unsigned legacy)
{
    char digits[16];
    int n;
    if ((legacy & JET_bitEightDotThreeSoftCompat) && gen <= 0xFFFFFu)
        n = snprintf(digits, sizeof digits, "%05X", (unsigned)gen);
    else
        n = snprintf(digits, sizeof digits, "%08X", (unsigned)gen);
    if (n < 0 || (size_t)n >= sizeof digits)
        return -1;
    return name3(buf, cb, base, digits, jf_log_ext(legacy));
}

/* "<base><ext>" (the current log, edb.log).  Length or -1. */
int jf_cur_log_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "", jf_log_ext(legacy));
}

/* "<base>tmp<ext>" (the next log being prepared).  Length or -1. */
int jf_tmp_log_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "tmp", jf_log_ext(legacy));
}

/* "<base><chkext>" (the checkpoint file).  Length or -1. */
int jf_chk_name(char *buf, size_t cb, const char *base, unsigned legacy)
{
    return name3(buf, cb, base, "", jf_chk_ext(legacy));
}

/* Value of a hex digit (either case), or -1. */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Parse an archived log file name (a bare name, no directory):
 * "<base><5 or 8 hex digits><ext>", base and ext case-insensitive, digits
 * either case; ext NULL accepts ".log" or ".jtx".  Returns 0 and *gen, or -1
 * (*gen untouched) for anything else, including edb.log, edbtmp.log, other
 * digit counts, gen 0 and gen > JF_GEN_MAX. */
int jf_log_parse(const char *name, const char *base, const char *ext, uint32_t *gen)
{
    if (!name || !base)
        return -1;
    size_t lb = strlen(base);
    if (strncasecmp(name, base, lb) != 0)
        return -1;
    const char *p = name + lb;
    uint32_t v = 0;
    size_t nd = 0;
    while (nd < 9 && hexval(p[nd]) >= 0) {
        if (nd < 8)
            v = v << 4 | (uint32_t)hexval(p[nd]);
        nd++;
    }
    if (nd != 5 && nd != 8)
        return -1;
    const char *rest = p + nd;
    if (ext) {
        if (strcasecmp(rest, ext) != 0)
            return -1;
    } else if (strcasecmp(rest, ".log") != 0 && strcasecmp(rest, ".jtx") != 0) {
        return -1;
    }
    if (v == 0 || v > JF_GEN_MAX)
        return -1;
    if (gen)
        *gen = v;
    return 0;
}
