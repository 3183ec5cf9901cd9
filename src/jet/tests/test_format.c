/*
 * test_format.c -- unit tests for src/jet/format.c (format.h): file names, checksums, encode/decode round trips,
 * rejection of truncated/corrupt blocks, lgpos and logtime helpers.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "format.h"
#include "jet.h"
#include "jetlib.h"

#define ESE98 JET_bitESE98FileNames
#define SOFT JET_bitEightDotThreeSoftCompat

/* ---------------------------------------------------------------- names */

START_TEST(test_log_name_widths)
{
    char buf[64];
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 1, ESE98 | SOFT), 12);
    ck_assert_str_eq(buf, "edb00001.log");
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 0xABCDE, ESE98 | SOFT), 12);
    ck_assert_str_eq(buf, "edbABCDE.log");
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 0xFFFFF, ESE98 | SOFT), 12);
    ck_assert_str_eq(buf, "edbFFFFF.log");
    /* the switch to 8 digits after 0xFFFFF */
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 0x100000, ESE98 | SOFT), 15);
    ck_assert_str_eq(buf, "edb00100000.log");
    /* without EightDotThreeSoftCompat: always 8 */
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "E00", 1, ESE98), 15);
    ck_assert_str_eq(buf, "E0000000001.log");
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "E00", 0x7FFFF800, ESE98), 15);
    ck_assert_str_eq(buf, "E007FFFF800.log");
    /* without ESE98FileNames: .jtx */
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 0x2a, 0), 15);
    ck_assert_str_eq(buf, "edb0000002A.jtx");
    ck_assert_int_eq(jf_log_name(buf, sizeof buf, "edb", 0x2a, SOFT), 12);
    ck_assert_str_eq(buf, "edb0002A.jtx");
}
END_TEST

START_TEST(test_other_names)
{
    char buf[64];
    ck_assert_int_eq(jf_cur_log_name(buf, sizeof buf, "edb", ESE98), 7);
    ck_assert_str_eq(buf, "edb.log");
    ck_assert_int_eq(jf_tmp_log_name(buf, sizeof buf, "edb", ESE98), 10);
    ck_assert_str_eq(buf, "edbtmp.log");
    ck_assert_int_eq(jf_chk_name(buf, sizeof buf, "edb", ESE98), 7);
    ck_assert_str_eq(buf, "edb.chk");
    ck_assert_int_eq(jf_cur_log_name(buf, sizeof buf, "edb", 0), 7);
    ck_assert_str_eq(buf, "edb.jtx");
    ck_assert_int_eq(jf_tmp_log_name(buf, sizeof buf, "edb", SOFT), 10);
    ck_assert_str_eq(buf, "edbtmp.jtx");
    ck_assert_int_eq(jf_chk_name(buf, sizeof buf, "edb", 0), 7);
    ck_assert_str_eq(buf, "edb.jcp");
    ck_assert_str_eq(jf_log_ext(ESE98), ".log");
    ck_assert_str_eq(jf_log_ext(0), ".jtx");
    ck_assert_str_eq(jf_chk_ext(ESE98 | SOFT), ".chk");
    ck_assert_str_eq(jf_chk_ext(SOFT), ".jcp");
}
END_TEST

START_TEST(test_name_too_small)
{
    char buf[16];
    memset(buf, 'X', sizeof buf);
    /* "edb00001.log" needs 13 bytes with the NUL */
    ck_assert_int_eq(jf_log_name(buf, 12, "edb", 1, ESE98 | SOFT), -1);
    ck_assert_int_eq(buf[0], 'X'); /* untouched */
    ck_assert_int_eq(jf_log_name(buf, 13, "edb", 1, ESE98 | SOFT), 12);
    ck_assert_str_eq(buf, "edb00001.log");
    memset(buf, 'X', sizeof buf);
    ck_assert_int_eq(jf_cur_log_name(buf, 7, "edb", ESE98), -1);
    ck_assert_int_eq(jf_tmp_log_name(buf, 10, "edb", ESE98), -1);
    ck_assert_int_eq(jf_chk_name(buf, 0, "edb", ESE98), -1);
    ck_assert_int_eq(buf[0], 'X');
}
END_TEST

START_TEST(test_log_parse_accepts)
{
    uint32_t gen = 0;
    ck_assert_int_eq(jf_log_parse("edb00001.log", "edb", ".log", &gen), 0);
    ck_assert_uint_eq(gen, 1);
    ck_assert_int_eq(jf_log_parse("edbABCDE.log", "edb", ".log", &gen), 0);
    ck_assert_uint_eq(gen, 0xABCDE);
    ck_assert_int_eq(jf_log_parse("edbabcde.log", "edb", ".log", &gen), 0);
    ck_assert_uint_eq(gen, 0xABCDE);
    ck_assert_int_eq(jf_log_parse("EDB0000002a.LOG", "edb", ".log", &gen), 0);
    ck_assert_uint_eq(gen, 0x2A);
    ck_assert_int_eq(jf_log_parse("edb00100000.log", "EDB", ".LOG", &gen), 0);
    ck_assert_uint_eq(gen, 0x100000);
    ck_assert_int_eq(jf_log_parse("edb7FFFF800.jtx", "edb", ".jtx", &gen), 0);
    ck_assert_uint_eq(gen, JF_GEN_MAX);
    /* ext NULL: either extension */
    ck_assert_int_eq(jf_log_parse("edb00003.jtx", "edb", NULL, &gen), 0);
    ck_assert_uint_eq(gen, 3);
    ck_assert_int_eq(jf_log_parse("edb00004.log", "edb", NULL, &gen), 0);
    ck_assert_uint_eq(gen, 4);
    /* round trip through the formatter, both widths */
    for (uint32_t g = 1; g < 0x300000; g = g * 3 + 7) {
        char buf[32];
        for (unsigned legacy = 0; legacy < 4; legacy++) {
            ck_assert_int_gt(jf_log_name(buf, sizeof buf, "E01", g, legacy), 0);
            ck_assert_int_eq(jf_log_parse(buf, "e01", NULL, &gen), 0);
            ck_assert_uint_eq(gen, g);
        }
    }
}
END_TEST

START_TEST(test_log_parse_rejects)
{
    static const char *const bad[] = {
        "edb.log",                          /* current log */
        "edbtmp.log",                       /* next log */
        "edbres00001.jrs",                  /* reserve log */
        "edb.chk",          "edb0001.log",  /* 4 digits */
        "edb000001.log",                    /* 6 digits */
        "edb0000001.log",                   /* 7 digits */
        "edb000000001.log",                 /* 9 digits */
        "edb00000.log",                     /* gen 0 */
        "edb00000000.log",                  /* gen 0 */
        "edb7FFFF801.log",                  /* > JF_GEN_MAX */
        "edbFFFFFFFF.log",  "edb00001.jtx", /* wrong ext */
        "edb00001.log.bak",                 /* trailing junk */
        "edb00001.lo",      "edb00001",
        "e0100001.log",                     /* wrong base */
        "ed00001.log",      "edb0000G.log", /* not hex */
        "edb 0001.log",     "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t gen = 777;
        ck_assert_msg(jf_log_parse(bad[i], "edb", ".log", &gen) == -1, "accepted %s", bad[i]);
        ck_assert_uint_eq(gen, 777);
    }
    uint32_t gen = 777;
    ck_assert_int_eq(jf_log_parse("edb00001.chk", "edb", NULL, &gen), -1);
    ck_assert_int_eq(jf_log_parse("edb00001.jrs", "edb", NULL, &gen), -1);
    ck_assert_int_eq(jf_log_parse(NULL, "edb", NULL, &gen), -1);
    ck_assert_uint_eq(gen, 777);
}
END_TEST

/* ------------------------------------------------------------ checksums */

/* Reference XOR of LE u32 words, byte by byte. */
static uint32_t ref_xor32(const uint8_t *p, size_t cb)
{
    uint32_t x = 0;
    for (size_t i = 0; i + 4 <= cb; i += 4)
        x ^= (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
             (uint32_t)p[i + 3] << 24;
    return x;
}

static void fill_random(uint8_t *p, size_t cb, unsigned seed)
{
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < cb; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (uint8_t)(s >> 16);
    }
}

START_TEST(test_xor32)
{
    uint8_t buf[4096 + 64];
    fill_random(buf, sizeof buf, 1);
    for (size_t off = 0; off < 8; off++)
        for (size_t cb = 0; cb <= 200; cb += 4)
            ck_assert_uint_eq(jf_xor32(buf + off, cb), ref_xor32(buf + off, cb));
    ck_assert_uint_eq(jf_xor32(buf + 3, 4096), ref_xor32(buf + 3, 4096));
    uint8_t w[8] = { 0x01, 0x02, 0x03, 0x04, 0x10, 0x20, 0x30, 0x40 };
    ck_assert_uint_eq(jf_xor32(w, 8), 0x04030201u ^ 0x40302010u);
}
END_TEST

START_TEST(test_hdr_checksum)
{
    uint8_t blk[4096];
    fill_random(blk, sizeof blk, 2);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_uint_eq(jf_get32(blk), JF_SEED ^ ref_xor32(blk + 4, sizeof blk - 4));
    ck_assert(jf_hdr_ok(blk, sizeof blk));
    blk[1234] ^= 0x10;
    ck_assert(!jf_hdr_ok(blk, sizeof blk));
    blk[1234] ^= 0x10;
    ck_assert(jf_hdr_ok(blk, sizeof blk));
    blk[0] ^= 1; /* the checksum itself */
    ck_assert(!jf_hdr_ok(blk, sizeof blk));
    memset(blk, 0, sizeof blk); /* a zero header block is not valid */
    ck_assert(!jf_hdr_ok(blk, sizeof blk));
}
END_TEST

/* The XOR format (older libjet pages; src/jet/tests/test_cksum.c has the CRC
 * format).  Its marks (JF_PG_MARK1/2) are zero on every page it sealed. */
START_TEST(test_page_checksum)
{
    static const size_t sizes[] = { 2048, 4096, 8192, 16384, 32768 };
    for (size_t s = 0; s < 5; s++) {
        size_t cb = sizes[s];
        uint8_t *pg = malloc(cb);
        ck_assert_ptr_nonnull(pg);
        fill_random(pg, cb, (unsigned)cb);
        memset(pg, 0, JF_PAGE_HDR);
        jf_page_seal_xor(pg, cb, 77);
        ck_assert_int_eq(jf_page_format(pg, cb), JF_PGFMT_XOR);
        ck_assert_uint_eq(jf_get32(pg + 4), 77);
        ck_assert_uint_eq(jf_get32(pg), JF_SEED ^ ref_xor32(pg + 8, cb - 8));
        ck_assert_uint_eq(jf_get64(pg), jf_page_checksum(pg, cb, 77));
        ck_assert_int_eq(jf_page_verify(pg, cb, 77), 0);
        ck_assert_int_eq(jf_page_verify(pg, cb, 78), JET_errReadPgnoVerifyFailure);
        ck_assert_int_eq(jf_page_verify(pg, cb, 78), -1118);
        pg[cb - 1] ^= 0x80;
        ck_assert_int_eq(jf_page_verify(pg, cb, 77), JET_errReadVerifyFailure);
        ck_assert_int_eq(jf_page_verify(pg, cb, 78), JET_errReadVerifyFailure);
        pg[cb - 1] ^= 0x80;
        pg[5] ^= 1; /* stored pgno changed, xor still fine */
        ck_assert_int_eq(jf_page_verify(pg, cb, 77), JET_errReadPgnoVerifyFailure);
        memset(pg, 0, cb);
        ck_assert(jf_is_blank(pg, cb));
        ck_assert_int_eq(jf_page_verify(pg, cb, 77), 0);
        pg[cb / 2] = 1; /* not blank, no checksum */
        ck_assert(!jf_is_blank(pg, cb));
        ck_assert_int_eq(jf_page_verify(pg, cb, 77), JET_errReadVerifyFailure);
        free(pg);
    }
}
END_TEST

START_TEST(test_page_checksum_speed)
{
    /* A 4 KiB page verify should cost well under a microsecond; assert a
     * generous 20 us average so that sanitizer builds pass too. */
    static uint8_t pg[4096];
    fill_random(pg, sizeof pg, 3);
    jf_page_seal(pg, sizeof pg, 9);
    struct timespec t0, t1;
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t0), 0);
    long bad = 0;
    for (int i = 0; i < 20000; i++)
        bad += jf_page_verify(pg, sizeof pg, 9) != 0;
    ck_assert_int_eq(clock_gettime(CLOCK_MONOTONIC, &t1), 0);
    ck_assert_int_eq(bad, 0);
    double ns = (double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec);
    ck_assert_msg(ns / 20000 < 20000, "page verify took %.0f ns", ns / 20000);
}
END_TEST

START_TEST(test_segment_checksum)
{
    uint8_t seg[JF_SEGMENT];
    fill_random(seg, sizeof seg, 4);
    jf_seghdr h = { .lgpos = { .ib = 0, .isec = 5, .gen = 42 }, .flags = 0x11 };
    jf_logtime_from_time(&h.time, 1700000000);
    jf_seg_seal(seg, &h);
    ck_assert_uint_eq(jf_get16(seg + 8), 0);
    ck_assert_uint_eq(jf_get16(seg + 10), 5);
    ck_assert_uint_eq(jf_get32(seg + 12), 42);
    ck_assert_uint_eq(seg[16 + 5], h.time.year);
    ck_assert_uint_eq(jf_get32(seg + 36), 0x11);
    ck_assert_uint_eq(jf_get32(seg + 4), 5); /* pgno = isec */
    for (int i = 24; i < 36; i++)
        ck_assert_uint_eq(seg[i], 0);
    bool blank = true;
    ck_assert_int_eq(jf_seg_verify(seg, 5, &blank), 0);
    ck_assert(!blank);
    ck_assert_int_eq(jf_seg_verify(seg, 6, &blank), JET_errLogReadVerifyFailure);
    seg[2000] ^= 4;
    ck_assert_int_eq(jf_seg_verify(seg, 5, &blank), JET_errLogReadVerifyFailure);
    ck_assert_int_eq(jf_seg_verify(seg, 5, NULL), JET_errLogReadVerifyFailure);
    memset(seg, 0, sizeof seg);
    blank = false;
    ck_assert_int_eq(jf_seg_verify(seg, 5, &blank), 0);
    ck_assert(blank);
}
END_TEST

/* ------------------------------------------------------- helpers/values */

static jf_sig mk_sig(uint32_t r, int64_t t, const char *name)
{
    jf_sig s;
    memset(&s, 0, sizeof s);
    s.random = r;
    jf_logtime_from_time(&s.create, t);
    strncpy(s.computer, name, sizeof s.computer - 1);
    return s;
}

static jf_bkinfo mk_bk(int k)
{
    jf_bkinfo b;
    b.mark.ib = (uint16_t)(k * 3 + 1);
    b.mark.isec = (uint16_t)(k * 5 + 2);
    b.mark.gen = k * 7 + 3;
    jf_logtime_from_time(&b.time, 1600000000 + k * 1000);
    b.gen_low = (uint32_t)k * 11 + 4;
    b.gen_high = (uint32_t)k * 13 + 5;
    return b;
}

static void assert_bk_eq(const jf_bkinfo *a, const jf_bkinfo *b)
{
    ck_assert_int_eq(jf_lgpos_cmp(a->mark, b->mark), 0);
    ck_assert(jf_logtime_eq(&a->time, &b->time));
    ck_assert_uint_eq(a->gen_low, b->gen_low);
    ck_assert_uint_eq(a->gen_high, b->gen_high);
}

/* ------------------------------------------------------------ DB header */

static jf_dbhdr mk_dbhdr(void)
{
    jf_dbhdr h;
    memset(&h, 0, sizeof h);
    h.magic = JF_DB_MAGIC;
    h.version = JF_DB_VERSION;
    h.dbtime_dirtied = 0x123456789ABCull;
    h.sign_db = mk_sig(0xDEADBEEF, 1650000000, "hostA");
    h.dbstate = JF_DBSTATE_DIRTY;
    h.lgpos_consistent = (jf_lgpos){ 10, 2, 7 };
    jf_logtime_from_time(&h.time_consistent, 1650000100);
    jf_logtime_from_time(&h.time_attach, 1650000200);
    h.lgpos_attach = (jf_lgpos){ 11, 3, 8 };
    jf_logtime_from_time(&h.time_detach, 1650000300);
    h.lgpos_detach = (jf_lgpos){ 12, 4, 9 };
    h.dbid = 3;
    h.sign_log = mk_sig(0xCAFEF00D, 1650000400, "hostB");
    h.full_prev = mk_bk(1);
    h.inc_prev = mk_bk(2);
    h.full_cur = mk_bk(3);
    h.flags = 0x5A5A;
    h.cb_page = 8192;
    h.gen_min_req = 17;
    h.gen_max_req = 19;
    h.snapshot_cur = mk_bk(4);
    jf_logtime_from_time(&h.time_gen_max_create, 1650000500);
    h.type_full_prev = 1;
    h.type_inc_prev = 2;
    h.gen_max_committed = 18;
    h.copy_prev = mk_bk(5);
    h.diff_prev = mk_bk(6);
    h.type_copy_prev = 3;
    h.type_diff_prev = 4;
    h.gen_min_consistent = 16;
    h.cb_record = 64;
    h.pgno_last = 1000;
    return h;
}

START_TEST(test_dbhdr_roundtrip)
{
    static uint8_t blk[8192];
    jf_dbhdr h = mk_dbhdr(), d;
    memset(blk, 0xAA, sizeof blk);
    jf_dbhdr_encode(&h, blk, sizeof blk);
    /* raw offsets */
    ck_assert(jf_hdr_ok(blk, sizeof blk));
    ck_assert_uint_eq(jf_get32(blk + 4), JF_DB_MAGIC);
    ck_assert_uint_eq(jf_get32(blk + 8), JF_DB_VERSION);
    ck_assert_uint_eq(jf_get32(blk + 12), 0);
    ck_assert_uint_eq(jf_get64(blk + 16), 0x123456789ABCull);
    ck_assert_uint_eq(jf_get32(blk + 24), 0xDEADBEEF);
    ck_assert_mem_eq(blk + 24 + 12, "hostA", 6);
    ck_assert_uint_eq(jf_get32(blk + 52), JF_DBSTATE_DIRTY);
    ck_assert_uint_eq(jf_get32(blk + 60), 7);
    ck_assert_uint_eq(jf_get32(blk + 104), 3);
    ck_assert_uint_eq(jf_get32(blk + 108), 0xCAFEF00D);
    ck_assert_uint_eq(jf_get32(blk + 184 + 16), h.full_cur.gen_low);
    ck_assert_uint_eq(jf_get32(blk + 184 + 20), h.full_cur.gen_high);
    ck_assert_uint_eq(jf_get32(blk + 208), 0x5A5A);
    ck_assert_uint_eq(jf_get32(blk + 236), 8192);
    ck_assert_uint_eq(jf_get32(blk + 296), 17);
    ck_assert_uint_eq(jf_get32(blk + 300), 19);
    ck_assert_uint_eq(jf_get32(blk + 416), 18);
    ck_assert_uint_eq(jf_get32(blk + 640), 16);
    ck_assert_uint_eq(jf_get32(blk + 667), JF_FILETYPE_DB);
    ck_assert_uint_eq(jf_get32(blk + 1024), 64);
    ck_assert_uint_eq(jf_get32(blk + 1028), 1000);
    ck_assert(jf_is_blank(blk + 1032, sizeof blk - 1032));
    ck_assert_uint_eq(jf_dbhdr_peek_page_size(blk, sizeof blk), 8192);

    memset(&d, 0x55, sizeof d);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), 0);
    ck_assert_uint_eq(d.magic, h.magic);
    ck_assert_uint_eq(d.version, h.version);
    ck_assert_uint_eq(d.dbtime_dirtied, h.dbtime_dirtied);
    ck_assert(jf_sig_eq(&d.sign_db, &h.sign_db));
    ck_assert_uint_eq(d.dbstate, h.dbstate);
    ck_assert_int_eq(jf_lgpos_cmp(d.lgpos_consistent, h.lgpos_consistent), 0);
    ck_assert(jf_logtime_eq(&d.time_consistent, &h.time_consistent));
    ck_assert(jf_logtime_eq(&d.time_attach, &h.time_attach));
    ck_assert_int_eq(jf_lgpos_cmp(d.lgpos_attach, h.lgpos_attach), 0);
    ck_assert(jf_logtime_eq(&d.time_detach, &h.time_detach));
    ck_assert_int_eq(jf_lgpos_cmp(d.lgpos_detach, h.lgpos_detach), 0);
    ck_assert_uint_eq(d.dbid, h.dbid);
    ck_assert(jf_sig_eq(&d.sign_log, &h.sign_log));
    ck_assert(!jf_sig_eq(&d.sign_log, &h.sign_db));
    assert_bk_eq(&d.full_prev, &h.full_prev);
    assert_bk_eq(&d.inc_prev, &h.inc_prev);
    assert_bk_eq(&d.full_cur, &h.full_cur);
    ck_assert_uint_eq(d.flags, h.flags);
    ck_assert_uint_eq(d.cb_page, 8192);
    ck_assert_int_eq(d.gen_min_req, h.gen_min_req);
    ck_assert_int_eq(d.gen_max_req, h.gen_max_req);
    assert_bk_eq(&d.snapshot_cur, &h.snapshot_cur);
    ck_assert(jf_logtime_eq(&d.time_gen_max_create, &h.time_gen_max_create));
    ck_assert_uint_eq(d.type_full_prev, h.type_full_prev);
    ck_assert_uint_eq(d.type_inc_prev, h.type_inc_prev);
    ck_assert_int_eq(d.gen_max_committed, h.gen_max_committed);
    assert_bk_eq(&d.copy_prev, &h.copy_prev);
    assert_bk_eq(&d.diff_prev, &h.diff_prev);
    ck_assert_uint_eq(d.type_copy_prev, h.type_copy_prev);
    ck_assert_uint_eq(d.type_diff_prev, h.type_diff_prev);
    ck_assert_int_eq(d.gen_min_consistent, h.gen_min_consistent);
    ck_assert_uint_eq(d.cb_record, h.cb_record);
    ck_assert_uint_eq(d.pgno_last, h.pgno_last);
}
END_TEST

START_TEST(test_dbhdr_sizes)
{
    static uint8_t blk[JF_MAX_PAGE];
    jf_dbhdr h = mk_dbhdr(), d;
    for (uint32_t cb = JF_MIN_PAGE; cb <= JF_MAX_PAGE; cb *= 2) {
        jf_dbhdr_encode(&h, blk, cb);
        ck_assert_int_eq(jf_dbhdr_decode(blk, cb, &d), 0);
        ck_assert_uint_eq(d.cb_page, cb);
        /* extra bytes after the header are fine */
        ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), 0);
    }
    /* @236 = 0 means 4 KiB */
    memset(blk, 0, sizeof blk);
    ck_assert_uint_eq(jf_dbhdr_peek_page_size(blk, 4096), 4096);
    jf_put32(blk + 236, 3000);
    ck_assert_uint_eq(jf_dbhdr_peek_page_size(blk, 4096), 0);
    jf_put32(blk + 236, 65536);
    ck_assert_uint_eq(jf_dbhdr_peek_page_size(blk, 4096), 0);
    ck_assert_uint_eq(jf_dbhdr_peek_page_size(blk, 239), 0);
}
END_TEST

START_TEST(test_dbhdr_rejects)
{
    static uint8_t blk[8192];
    jf_dbhdr h = mk_dbhdr(), d;
    memset(&d, 0x5C, sizeof d);
    jf_dbhdr_encode(&h, blk, sizeof blk);
    /* truncated buffers */
    ck_assert_int_eq(jf_dbhdr_decode(blk, 8191, &d), JET_errDatabaseCorrupted);
    ck_assert_int_eq(jf_dbhdr_decode(blk, 4096, &d), JET_errDatabaseCorrupted);
    ck_assert_int_eq(jf_dbhdr_decode(blk, 100, &d), JET_errDatabaseCorrupted);
    ck_assert_int_eq(jf_dbhdr_decode(blk, 0, &d), JET_errDatabaseCorrupted);
    /* flipped byte anywhere, including the zero tail */
    static const size_t where[] = { 5, 52, 300, 1025, 5000, 8191 };
    for (size_t i = 0; i < 6; i++) {
        blk[where[i]] ^= 0x01;
        ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
        blk[where[i]] ^= 0x01;
    }
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), 0);
    /* wrong magic, filetype, page size -- resealed so only the field is bad */
    memset(&d, 0x5C, sizeof d);
    jf_put32(blk + 4, 0x12345678);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
    jf_dbhdr_encode(&h, blk, sizeof blk);
    jf_put32(blk + 667, JF_FILETYPE_LOG);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
    jf_dbhdr_encode(&h, blk, sizeof blk);
    blk[6000] = 1; /* claims 4 KiB but sealed over 8 KiB with data in 4K..8K */
    jf_put32(blk + 236, 4096);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
    jf_put32(blk + 236, 5000);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
    memset(blk, 0, sizeof blk);
    ck_assert_int_eq(jf_dbhdr_decode(blk, sizeof blk, &d), JET_errDatabaseCorrupted);
    /* output untouched by every failure */
    uint8_t ref[sizeof d];
    memset(ref, 0x5C, sizeof ref);
    ck_assert_mem_eq(&d, ref, sizeof d);
}
END_TEST

/* -------------------------------------------------------------- trailer */

START_TEST(test_trailer)
{
    static uint8_t pg[4096];
    jf_trailer t, d;
    memset(&t, 0, sizeof t);
    t.bkinfo = mk_bk(9);
    t.sign_db = mk_sig(1, 1500000000, "db");
    t.sign_log = mk_sig(2, 1500000001, "log");
    t.gen_min_req = 5;
    t.gen_max_req = 8;
    t.gen_max_committed = 7;
    jf_logtime_from_time(&t.time_min_req, 1500000002);
    jf_logtime_from_time(&t.time_max_req, 1500000003);
    memset(pg, 0xEE, sizeof pg);
    jf_trailer_encode(&t, pg, sizeof pg);
    ck_assert(jf_is_blank(pg + 4, 36)); /* PGHDR after the checksum */
    ck_assert_uint_eq(jf_get32(pg + 40 + 16), t.bkinfo.gen_low);
    ck_assert_uint_eq(jf_get32(pg + 64), 1);
    ck_assert_uint_eq(jf_get32(pg + 92), 2);
    ck_assert_uint_eq(jf_get32(pg + 120), 5);
    ck_assert_uint_eq(jf_get32(pg + 124), 8);
    ck_assert_uint_eq(jf_get32(pg + 128), 7);
    ck_assert_uint_eq(pg[132 + 5], t.time_min_req.year);
    ck_assert(jf_is_blank(pg + 148, sizeof pg - 148));
    ck_assert_int_eq(jf_trailer_decode(pg, sizeof pg, &d), 0);
    assert_bk_eq(&d.bkinfo, &t.bkinfo);
    ck_assert(jf_sig_eq(&d.sign_db, &t.sign_db));
    ck_assert(jf_sig_eq(&d.sign_log, &t.sign_log));
    ck_assert_int_eq(d.gen_min_req, 5);
    ck_assert_int_eq(d.gen_max_req, 8);
    ck_assert_int_eq(d.gen_max_committed, 7);
    ck_assert(jf_logtime_eq(&d.time_min_req, &t.time_min_req));
    ck_assert(jf_logtime_eq(&d.time_max_req, &t.time_max_req));

    memset(&d, 0x33, sizeof d);
    pg[3000] ^= 2;
    ck_assert_int_eq(jf_trailer_decode(pg, sizeof pg, &d), JET_errBadPatchPage);
    pg[3000] ^= 2;
    ck_assert_int_eq(jf_trailer_decode(pg, 4092, &d), JET_errBadPatchPage);
    ck_assert_int_eq(jf_trailer_decode(pg, 3072, &d), JET_errBadPatchPage);
    ck_assert_int_eq(jf_trailer_decode(pg, 0, &d), JET_errBadPatchPage);
    memset(pg, 0, sizeof pg);
    ck_assert_int_eq(jf_trailer_decode(pg, sizeof pg, &d), JET_errBadPatchPage);
    uint8_t ref[sizeof d];
    memset(ref, 0x33, sizeof ref);
    ck_assert_mem_eq(&d, ref, sizeof d);
}
END_TEST

/* ----------------------------------------------------------- log header */

static jf_loghdr *mk_loghdr(void)
{
    jf_loghdr *h = calloc(1, sizeof *h);
    ck_assert_ptr_nonnull(h);
    h->gen = 0x1234;
    h->cb_sec = JF_SEGMENT;
    h->csec_header = 1;
    h->csec_file = 256;
    h->cb_page_db = 8192;
    jf_logtime_from_time(&h->time_create, 1700000000);
    jf_logtime_from_time(&h->time_prev_gen, 1699999000);
    h->sign_log = mk_sig(0x11223344, 1600000000, "loghost");
    h->lgpos_checkpoint = (jf_lgpos){ 100, 3, 0x1233 };
    h->attach.count = 2;
    h->attach.db[0].dbid = 1;
    strcpy(h->attach.db[0].path, "/srv/ese/one.edb");
    h->attach.db[1].dbid = 7;
    strcpy(h->attach.db[1].path, "/srv/ese/seven.edb");
    return h;
}

START_TEST(test_loghdr_roundtrip)
{
    static uint8_t blk[JF_LOG_HDR];
    jf_loghdr *h = mk_loghdr();
    jf_loghdr *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(d);
    memset(blk, 0x77, sizeof blk);
    jf_loghdr_encode(h, blk);
    ck_assert(jf_hdr_ok(blk, sizeof blk));
    ck_assert_uint_eq(jf_get32(blk + 4), 0x1234);
    ck_assert_uint_eq(jf_get16(blk + 8), 4096);
    ck_assert_uint_eq(jf_get16(blk + 10), 1);
    ck_assert_uint_eq(jf_get16(blk + 12), 256);
    ck_assert_uint_eq(jf_get16(blk + 14), 8192);
    ck_assert_uint_eq(blk[16 + 5], h->time_create.year);
    ck_assert_uint_eq(jf_get32(blk + 44), 0x11223344);
    ck_assert_uint_eq(jf_get32(blk + 640 + 4), 0x1233);
    ck_assert_uint_eq(jf_get32(blk + 667), JF_FILETYPE_LOG);
    /* attach list encoding: u8 count, {u32 dbid, u16 len, bytes} */
    ck_assert_uint_eq(blk[671], 2);
    ck_assert_uint_eq(jf_get32(blk + 672), 1);
    ck_assert_uint_eq(jf_get16(blk + 676), 16);
    ck_assert_mem_eq(blk + 678, "/srv/ese/one.edb", 16);
    ck_assert_uint_eq(jf_get32(blk + 694), 7);
    ck_assert_uint_eq(jf_get16(blk + 698), 18);

    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), 0);
    ck_assert_int_eq(d->gen, h->gen);
    ck_assert_uint_eq(d->cb_sec, 4096);
    ck_assert_uint_eq(d->csec_header, 1);
    ck_assert_uint_eq(d->csec_file, 256);
    ck_assert_uint_eq(d->cb_page_db, 8192);
    ck_assert(jf_logtime_eq(&d->time_create, &h->time_create));
    ck_assert(jf_logtime_eq(&d->time_prev_gen, &h->time_prev_gen));
    ck_assert(jf_sig_eq(&d->sign_log, &h->sign_log));
    ck_assert_int_eq(jf_lgpos_cmp(d->lgpos_checkpoint, h->lgpos_checkpoint), 0);
    ck_assert_uint_eq(d->attach.count, 2);
    ck_assert_uint_eq(d->attach.db[0].dbid, 1);
    ck_assert_str_eq(d->attach.db[0].path, "/srv/ese/one.edb");
    ck_assert_uint_eq(d->attach.db[1].dbid, 7);
    ck_assert_str_eq(d->attach.db[1].path, "/srv/ese/seven.edb");

    /* empty list; a full list of 8 that fits in 2048 bytes */
    h->attach.count = 0;
    jf_loghdr_encode(h, blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), 0);
    ck_assert_uint_eq(d->attach.count, 0);
    h->attach.count = JF_MAX_DBS;
    for (int i = 0; i < JF_MAX_DBS; i++) {
        h->attach.db[i].dbid = (uint32_t)i + 1;
        memset(h->attach.db[i].path, 'a' + i, 249);
        h->attach.db[i].path[249] = '\0';
    }
    ck_assert_uint_le(1 + JF_MAX_DBS * (6 + 249), JF_ATTACH_MAX);
    jf_loghdr_encode(h, blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), 0);
    ck_assert_uint_eq(d->attach.count, JF_MAX_DBS);
    for (int i = 0; i < JF_MAX_DBS; i++) {
        ck_assert_uint_eq(d->attach.db[i].dbid, (uint32_t)i + 1);
        ck_assert_str_eq(d->attach.db[i].path, h->attach.db[i].path);
    }
    free(h);
    free(d);
}
END_TEST

START_TEST(test_loghdr_rejects)
{
    static uint8_t blk[JF_LOG_HDR], good[JF_LOG_HDR];
    jf_loghdr *h = mk_loghdr();
    jf_loghdr *d = malloc(sizeof *d);
    ck_assert_ptr_nonnull(d);
    memset(d, 0x66, sizeof *d);
    jf_loghdr_encode(h, good);

    ck_assert_int_eq(jf_loghdr_decode(good, JF_LOG_HDR - 1, d), JET_errLogFileCorrupt);
    ck_assert_int_eq(jf_loghdr_decode(good, 0, d), JET_errLogFileCorrupt);
    memcpy(blk, good, sizeof blk);
    blk[2500] ^= 0x40;
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);
    memset(blk, 0, sizeof blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);

#define RESEAL_REJECT(stmt) \
    do { \
        memcpy(blk, good, sizeof blk); \
        stmt; \
        jf_hdr_seal(blk, sizeof blk); \
        ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt); \
    } while (0)
    RESEAL_REJECT(jf_put32(blk + 667, JF_FILETYPE_CHK));
    RESEAL_REJECT(jf_put16(blk + 8, 512));
    RESEAL_REJECT(jf_put16(blk + 10, 2));
    RESEAL_REJECT(jf_put16(blk + 12, 1));
    RESEAL_REJECT(jf_put16(blk + 14, 3000));
    RESEAL_REJECT(jf_put32(blk + 4, 0));
    RESEAL_REJECT(jf_put32(blk + 4, JF_GEN_MAX + 1));
    RESEAL_REJECT(blk[671] = JF_MAX_DBS + 1); /* count too big */
    RESEAL_REJECT(blk[671] = 0xFF);
    RESEAL_REJECT(blk[671] = 3);                       /* 3rd entry is zeros: len 0 */
    RESEAL_REJECT(jf_put16(blk + 676, 0));             /* empty path */
    RESEAL_REJECT(jf_put16(blk + 676, JF_ATTACH_MAX)); /* overruns the area */
    RESEAL_REJECT(jf_put16(blk + 676, JF_ATTACH_MAX - 1 - 6 + 1));
    RESEAL_REJECT(blk[680] = '\0'); /* embedded NUL */
    RESEAL_REJECT(jf_put16(blk + 698, 0xFFFF));
#undef RESEAL_REJECT
    /* two entries ending exactly at the area end are fine; one byte more
     * overruns */
    memcpy(blk, good, sizeof blk);
    memset(blk + 671, 0, JF_ATTACH_MAX);
    blk[671] = 2;
    jf_put32(blk + 672, 9);
    jf_put16(blk + 676, JF_PATH_MAX - 1);
    memset(blk + 678, 'p', JF_PATH_MAX - 1);
    size_t off2 = 678 + JF_PATH_MAX - 1;
    size_t len2 = 671 + JF_ATTACH_MAX - (off2 + 6);
    jf_put32(blk + off2, 10);
    jf_put16(blk + off2 + 4, (uint16_t)len2);
    memset(blk + off2 + 6, 'q', len2);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), 0);
    ck_assert_uint_eq(d->attach.count, 2);
    ck_assert_uint_eq(strlen(d->attach.db[0].path), JF_PATH_MAX - 1);
    ck_assert_uint_eq(strlen(d->attach.db[1].path), len2);
    ck_assert_uint_eq(d->attach.db[1].dbid, 10);
    memset(d, 0x66, sizeof *d);
    jf_put16(blk + off2 + 4, (uint16_t)(len2 + 1));
    blk[off2 + 6 + len2] = 'q'; /* byte just past the area */
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);
    /* a path of JF_PATH_MAX bytes does not fit jf_attach */
    memcpy(blk, good, sizeof blk);
    jf_put16(blk + 676, JF_PATH_MAX);
    memset(blk + 678, 'p', JF_PATH_MAX);
    blk[671] = 1;
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);

    /* a list too big to encode is marked, and fails to decode */
    h->attach.count = JF_MAX_DBS;
    for (int i = 0; i < JF_MAX_DBS; i++) {
        h->attach.db[i].dbid = (uint32_t)i + 1;
        memset(h->attach.db[i].path, 'x', 1000);
        h->attach.db[i].path[1000] = '\0';
    }
    jf_loghdr_encode(h, blk);
    ck_assert(jf_hdr_ok(blk, sizeof blk));
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);
    h->attach.count = JF_MAX_DBS + 1;
    jf_loghdr_encode(h, blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, d), JET_errLogFileCorrupt);

    jf_loghdr *ref = malloc(sizeof *ref);
    ck_assert_ptr_nonnull(ref);
    memset(ref, 0x66, sizeof *ref);
    ck_assert_mem_eq(d, ref, sizeof *d);
    free(ref);
    free(h);
    free(d);
}
END_TEST

/* ----------------------------------------------------------- checkpoint */

START_TEST(test_chk)
{
    static uint8_t blk[JF_CHK_BLOCK], good[JF_CHK_BLOCK];
    jf_chk *c = calloc(1, sizeof *c), *d = calloc(1, sizeof *d);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(d);
    c->lgpos_last_full_backup = (jf_lgpos){ 1, 2, 3 };
    c->lgpos_checkpoint = (jf_lgpos){ 400, 5, 6 };
    c->sign_log = mk_sig(99, 1700000000, "chkhost");
    c->lgpos_db_consistency = (jf_lgpos){ 7, 8, 9 };
    /* 3 x 1000-byte paths: too big for a log header, fits a checkpoint */
    c->attach.count = 3;
    for (int i = 0; i < 3; i++) {
        c->attach.db[i].dbid = (uint32_t)(i + 1) * 10;
        memset(c->attach.db[i].path, '0' + i, 1000);
    }
    jf_chk_encode(c, good);
    ck_assert(jf_hdr_ok(good, sizeof good));
    ck_assert_uint_eq(jf_get16(good + 4), 1);
    ck_assert_uint_eq(jf_get32(good + 8), 3);
    ck_assert_uint_eq(jf_get16(good + 12), 400);
    ck_assert_uint_eq(jf_get32(good + 16), 6);
    ck_assert_uint_eq(jf_get32(good + 20), 99);
    ck_assert_uint_eq(jf_get32(good + 648 + 4), 9);
    ck_assert_uint_eq(jf_get32(good + 667), JF_FILETYPE_CHK);
    ck_assert_uint_eq(good[679], 3);
    ck_assert_uint_eq(jf_get32(good + 680), 10);
    ck_assert_int_eq(jf_chk_decode(good, sizeof good, d), 0);
    ck_assert_int_eq(jf_lgpos_cmp(d->lgpos_last_full_backup, c->lgpos_last_full_backup), 0);
    ck_assert_int_eq(jf_lgpos_cmp(d->lgpos_checkpoint, c->lgpos_checkpoint), 0);
    ck_assert(jf_sig_eq(&d->sign_log, &c->sign_log));
    ck_assert_int_eq(jf_lgpos_cmp(d->lgpos_db_consistency, c->lgpos_db_consistency), 0);
    ck_assert_uint_eq(d->attach.count, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(d->attach.db[i].dbid, (uint32_t)(i + 1) * 10);
        ck_assert_uint_eq(strlen(d->attach.db[i].path), 1000);
        ck_assert_int_eq(d->attach.db[i].path[999], '0' + i);
    }

    memset(d, 0x21, sizeof *d);
    ck_assert_int_eq(jf_chk_decode(good, JF_CHK_BLOCK - 4, d), JET_errCheckpointCorrupt);
    memcpy(blk, good, sizeof blk);
    blk[4000] ^= 1;
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    memset(blk, 0, sizeof blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    memcpy(blk, good, sizeof blk);
    jf_put32(blk + 667, JF_FILETYPE_LOG);
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    memcpy(blk, good, sizeof blk);
    blk[679] = 9;
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    memcpy(blk, good, sizeof blk);
    blk[679] = 4; /* 4th entry would start at 679+1+3*1006 = 3698, zero len */
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    memcpy(blk, good, sizeof blk);
    jf_put16(blk + 680 + 4 + 2 * 1006, 1023); /* 3rd path runs past the block end */
    jf_hdr_seal(blk, sizeof blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    /* 4 x 1000 does not fit in 3417 bytes: marked overflow */
    c->attach.count = 4;
    memset(c->attach.db[3].path, 'z', 1000);
    jf_chk_encode(c, blk);
    ck_assert_int_eq(jf_chk_decode(blk, sizeof blk, d), JET_errCheckpointCorrupt);
    jf_chk *ref = malloc(sizeof *ref);
    ck_assert_ptr_nonnull(ref);
    memset(ref, 0x21, sizeof *ref);
    ck_assert_mem_eq(d, ref, sizeof *d);
    free(ref);
    free(c);
    free(d);
}
END_TEST

/* Resealed random corruption of the attach areas and size fields: every
 * decode must either succeed with sane output or fail with the module's
 * error (run under ASan to catch overruns). */
START_TEST(test_decoders_fuzz)
{
    static uint8_t good_lh[JF_LOG_HDR], good_ck[JF_CHK_BLOCK], blk[JF_CHK_BLOCK];
    jf_loghdr *h = mk_loghdr();
    jf_loghdr *d = malloc(sizeof *d);
    jf_chk *c = calloc(1, sizeof *c), *cd = malloc(sizeof *cd);
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(cd);
    jf_loghdr_encode(h, good_lh);
    c->attach = h->attach;
    jf_chk_encode(c, good_ck);
    uint32_t seed = 12345;
    for (int it = 0; it < 3000; it++) {
        int nflip = 1 + it % 4;
        const bool lh = it % 2 == 0;
        memcpy(blk, lh ? good_lh : good_ck, JF_CHK_BLOCK);
        size_t base = lh ? 671 : 679;
        for (int k = 0; k < nflip; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t off = base + (seed >> 8) % 48;
            seed = seed * 1103515245u + 12345u;
            blk[off] = (uint8_t)(seed >> 16);
        }
        jf_hdr_seal(blk, JF_CHK_BLOCK);
        long rc;
        const jf_attach_list *al;
        if (lh) {
            rc = jf_loghdr_decode(blk, JF_LOG_HDR, d);
            ck_assert(rc == 0 || rc == JET_errLogFileCorrupt);
            al = &d->attach;
        } else {
            rc = jf_chk_decode(blk, JF_CHK_BLOCK, cd);
            ck_assert(rc == 0 || rc == JET_errCheckpointCorrupt);
            al = &cd->attach;
        }
        if (rc == 0) {
            ck_assert_uint_le(al->count, JF_MAX_DBS);
            for (uint32_t i = 0; i < al->count; i++) {
                size_t n = strnlen(al->db[i].path, JF_PATH_MAX);
                ck_assert_uint_gt(n, 0);
                ck_assert_uint_lt(n, JF_PATH_MAX);
            }
        }
    }
    free(h);
    free(d);
    free(c);
    free(cd);
}
END_TEST

/* -------------------------------------------------------- lgpos/logtime */

START_TEST(test_lgpos)
{
    jf_lgpos a = { 10, 2, 5 }, b = { 11, 2, 5 }, c = { 0, 3, 5 }, e = { 0, 1, 6 };
    ck_assert_int_lt(jf_lgpos_cmp(a, b), 0);
    ck_assert_int_gt(jf_lgpos_cmp(b, a), 0);
    ck_assert_int_lt(jf_lgpos_cmp(b, c), 0);
    ck_assert_int_lt(jf_lgpos_cmp(c, e), 0);
    ck_assert_int_eq(jf_lgpos_cmp(a, a), 0);
    jf_lgpos z = { 0, 0, 0 };
    ck_assert_uint_eq(jf_lgpos_u64(z), 0);
    ck_assert_uint_eq(jf_lgpos_u64(a), (5ull << 32) | (2u << 16) | 10u);
    jf_lgpos v[] = { { 0, 0, 0 },           { 1, 0, 0 },         { 0xFFFF, 0, 0 }, { 0, 1, 0 },
                     { 5, 1, 0 },           { 0, 0xFFFF, 0 },    { 0, 0, 1 },      { 3, 7, 1 },
                     { 0xFFFF, 0xFFFF, 1 }, { 0, 1, 0x7FFFF800 } };
    size_t n = sizeof v / sizeof v[0];
    for (size_t i = 0; i < n; i++) {
        jf_lgpos r = jf_lgpos_from_u64(jf_lgpos_u64(v[i]));
        ck_assert_int_eq(jf_lgpos_cmp(r, v[i]), 0);
        ck_assert_uint_eq(r.ib, v[i].ib);
        ck_assert_uint_eq(r.isec, v[i].isec);
        ck_assert_int_eq(r.gen, v[i].gen);
        for (size_t j = 0; j < n; j++) {
            int c1 = jf_lgpos_cmp(v[i], v[j]);
            uint64_t x = jf_lgpos_u64(v[i]), y = jf_lgpos_u64(v[j]);
            ck_assert_int_eq(c1 < 0, x < y);
            ck_assert_int_eq(c1 == 0, x == y);
        }
    }
}
END_TEST

START_TEST(test_logtime)
{
    jf_logtime t;
    jf_logtime_from_time(&t, 0);
    ck_assert_uint_eq(t.year, 70);
    ck_assert_uint_eq(t.mon, 1);
    ck_assert_uint_eq(t.day, 1);
    ck_assert_uint_eq(t.hour, 0);
    ck_assert_int_eq(jf_logtime_to_time(&t), 0);
    /* 2024-02-29 12:34:56 UTC */
    jf_logtime_from_time(&t, 1709210096);
    ck_assert_uint_eq(t.year, 124);
    ck_assert_uint_eq(t.mon, 2);
    ck_assert_uint_eq(t.day, 29);
    ck_assert_uint_eq(t.hour, 12);
    ck_assert_uint_eq(t.min, 34);
    ck_assert_uint_eq(t.sec, 56);
    ck_assert_int_eq(jf_logtime_to_time(&t), 1709210096);
    /* agrees with gmtime_r over a range of times */
    for (int64_t s = -2000000000LL; s < 4000000000LL; s += 86399 * 997 + 13) {
        time_t tt = (time_t)s;
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
        jf_logtime_from_time(&t, s);
        ck_assert_uint_eq(t.year, (unsigned)tm.tm_year);
        ck_assert_uint_eq(t.mon, (unsigned)tm.tm_mon + 1);
        ck_assert_uint_eq(t.day, (unsigned)tm.tm_mday);
        ck_assert_uint_eq(t.hour, (unsigned)tm.tm_hour);
        ck_assert_uint_eq(t.min, (unsigned)tm.tm_min);
        ck_assert_uint_eq(t.sec, (unsigned)tm.tm_sec);
        ck_assert_int_eq(jf_logtime_to_time(&t), s);
    }
    /* all-zero logtime = "none" = 0 */
    memset(&t, 0, sizeof t);
    ck_assert_int_eq(jf_logtime_to_time(&t), 0);
    /* clamping to 1900..2155 */
    jf_logtime_from_time(&t, 10000000000LL);
    ck_assert_uint_eq(t.year, 255);
    ck_assert_uint_eq(t.mon, 12);
    ck_assert_uint_eq(t.day, 31);
    jf_logtime_from_time(&t, -5000000000LL);
    ck_assert_uint_eq(t.year, 0);
    ck_assert_uint_eq(t.mon, 1);
    /* eq */
    jf_logtime a, b;
    jf_logtime_from_time(&a, 1234567890);
    jf_logtime_from_time(&b, 1234567890);
    ck_assert(jf_logtime_eq(&a, &b));
    b.sec++;
    ck_assert(!jf_logtime_eq(&a, &b));
    b = a;
    b.filler2 = 1;
    ck_assert(!jf_logtime_eq(&a, &b));
}
END_TEST

START_TEST(test_sig)
{
    jf_sig a, b;
    int64_t before = (int64_t)time(NULL);
    jf_sig_new(&a);
    jf_sig_new(&b);
    int64_t after = (int64_t)time(NULL);
    ck_assert(!jf_sig_eq(&a, &b)); /* random differs (p = 2^-32) */
    int64_t t = jf_logtime_to_time(&a.create);
    ck_assert_int_ge(t, before);
    ck_assert_int_le(t, after);
    ck_assert_int_eq(a.computer[15], '\0');
    ck_assert_mem_eq(a.computer, b.computer, 16);
    b = a;
    ck_assert(jf_sig_eq(&a, &b));
    b.computer[14] ^= 1;
    ck_assert(!jf_sig_eq(&a, &b));
    b = a;
    b.create.filler1 ^= 1;
    ck_assert(!jf_sig_eq(&a, &b));
}
END_TEST

static Suite *format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, test_log_name_widths);
    tcase_add_test(tc, test_other_names);
    tcase_add_test(tc, test_name_too_small);
    tcase_add_test(tc, test_log_parse_accepts);
    tcase_add_test(tc, test_log_parse_rejects);
    suite_add_tcase(s, tc);
    tc = tcase_create("checksums");
    tcase_add_test(tc, test_xor32);
    tcase_add_test(tc, test_hdr_checksum);
    tcase_add_test(tc, test_page_checksum);
    tcase_add_test(tc, test_page_checksum_speed);
    tcase_add_test(tc, test_segment_checksum);
    suite_add_tcase(s, tc);
    tc = tcase_create("blocks");
    tcase_add_test(tc, test_dbhdr_roundtrip);
    tcase_add_test(tc, test_dbhdr_sizes);
    tcase_add_test(tc, test_dbhdr_rejects);
    tcase_add_test(tc, test_trailer);
    tcase_add_test(tc, test_loghdr_roundtrip);
    tcase_add_test(tc, test_loghdr_rejects);
    tcase_add_test(tc, test_chk);
    tcase_add_test(tc, test_decoders_fuzz);
    suite_add_tcase(s, tc);
    tc = tcase_create("helpers");
    tcase_add_test(tc, test_lgpos);
    tcase_add_test(tc, test_logtime);
    tcase_add_test(tc, test_sig);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(format_suite)
