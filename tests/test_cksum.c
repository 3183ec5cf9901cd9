/*
 * test_cksum.c -- database page checksums (docs/formats.md "Page
 * checksums"): every corruption confined to 8 contiguous bytes of a page
 * written by libjet is detected, old-format (XOR) pages still verify, and
 * the engine refuses a corrupted page (JetLibVerifyDatabaseFile, backup
 * stream reads, record reads) with JET_errReadVerifyFailure.
 */
#ifdef HAVE_CONFIG_H
#include <config.h>
#endif

#include <check.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "jet.h"
#include "jetlib.h"
#include "jet_testutil.h"

static const size_t sizes[] = {2048, 4096, 8192, 16384, 32768};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Deterministic pseudo-random bytes (xorshift64*). */
static uint64_t rnd_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void fill_random(uint8_t *p, size_t cb, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < cb; i++)
        p[i] = (uint8_t)(rnd_next(&s) >> 56);
}

/* A sealed page of cb bytes for pgno with random records (header bytes
 * 8..39 zero, as db.c leaves them). */
static uint8_t *mk_page(size_t cb, uint32_t pgno, uint64_t seed)
{
    uint8_t *pg = malloc(cb);
    ck_assert_ptr_nonnull(pg);
    fill_random(pg, cb, seed);
    memset(pg, 0, JF_PAGE_HDR);
    jf_page_seal(pg, cb, pgno);
    ck_assert_int_eq(jf_page_verify(pg, cb, pgno), 0);
    return pg;
}

/* XOR d into the LE u32 at off. */
static void xor32_at(uint8_t *p, size_t off, uint32_t d)
{
    jf_put32(p + off, jf_get32(p + off) ^ d);
}

/* ------------------------------------------------- issue 7 reproduction */

START_TEST(test_xor_cancelling_every_offset)
{
    /* the same change in two adjacent 32-bit words cancels in an XOR */
    static const uint32_t deltas[] = {0x00000001u, 0x00000003u, 0x80000001u, 0xFFFFFFFFu,
                                      0x00FF0000u, 0x12345678u};
    for (size_t s = 0; s < NSIZES; s++) {
        size_t cb = sizes[s];
        uint8_t *pg = mk_page(cb, 5, cb);
        for (size_t off = 0; off + 8 <= cb; off += 4) {
            for (size_t k = 0; k < sizeof deltas / sizeof deltas[0]; k++) {
                xor32_at(pg, off, deltas[k]);
                xor32_at(pg, off + 4, deltas[k]);
                ck_assert_msg(jf_page_verify(pg, cb, 5) < 0,
                              "page %zu: XOR-cancelling change 0x%08x at %zu accepted", cb,
                              (unsigned)deltas[k], off);
                xor32_at(pg, off, deltas[k]);
                xor32_at(pg, off + 4, deltas[k]);
            }
        }
        ck_assert_int_eq(jf_page_verify(pg, cb, 5), 0);
        free(pg);
    }
}
END_TEST

/* ------------------------------------------------------------ engine */

#define CBP 4096
#define NRECS 200u /* 64-byte records: pages 1..4 */

static char root[256];

static void setup(void)
{
    ck_assert_int_eq(jt_tmpdir(root, sizeof root, "test_cksum"), 0);
}

static void teardown(void)
{
    ck_assert_int_eq(jt_rmtree(root), 0);
}

/* Create root/db.edb with records i = 1000 + i (i < NRECS) and shut down
 * cleanly, so every page is on disk. */
static void mk_db(char *path, size_t cb)
{
    JET_INSTANCE inst = jt_inst("ck", root, 1024, 0);
    JET_SESID s;
    JET_DBID db;
    snprintf(path, cb, "%s/db.edb", root);
    ck_assert(inst != 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetCreateDatabaseA(s, path, NULL, &db, 0), 0);
    ck_assert_int_eq(JetBeginTransaction(s), 0);
    for (unsigned long long i = 0; i < NRECS; i++) {
        unsigned long long v = 1000 + i;
        ck_assert_int_eq(JetLibWriteRecord(s, db, i, &v, sizeof v), 0);
    }
    ck_assert_int_eq(JetCommitTransaction(s, 0), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
}

/* Read page pgno of the file at path into buf / write it back. */
static void page_io(const char *path, uint32_t pgno, uint8_t *buf, int write)
{
    int fd = open(path, write ? O_WRONLY : O_RDONLY);
    ck_assert_int_ge(fd, 0);
    off_t off = (off_t)(pgno + 1) * CBP;
    ssize_t n = write ? pwrite(fd, buf, CBP, off) : pread(fd, buf, CBP, off);
    ck_assert_int_eq(n, CBP);
    ck_assert_int_eq(close(fd), 0);
}

/* Copy the database stream of path through the backup API; returns the
 * first error of JetReadFileInstance (0 if the whole stream was read). */
static JET_ERR backup_stream(const char *path)
{
    JET_INSTANCE inst = jt_inst("ck", root, 1024, 0);
    JET_SESID s;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    unsigned long long total = 0, size;
    JET_ERR rc = 0;
    void *buf = NULL;
    ck_assert(inst != 0);
    ck_assert_int_eq(posix_memalign(&buf, CBP, 16 * CBP), 0);
    ck_assert_int_eq(JetInit(&inst), 0);
    ck_assert_int_eq(JetBeginSessionA(inst, &s, NULL, NULL), 0);
    ck_assert_int_eq(JetAttachDatabaseA(s, path, 0), 0);
    ck_assert_int_eq(JetBeginExternalBackupInstance(inst, 0), 0);
    ck_assert_int_eq(JetOpenFileInstanceA(inst, path, &h, &lo, &hi), 0);
    size = (unsigned long long)hi << 32 | lo;
    do {
        rc = JetReadFileInstance(inst, h, buf, 16 * CBP, &cb);
        if (rc < 0)
            break;
        total += cb;
    } while (cb != 0 && total < size);
    /* a database read error closes the handle (spec 3.2) */
    ck_assert_int_eq(JetCloseFileInstance(inst, h), rc < 0 ? JET_errInvalidParameter : 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(inst, rc < 0 ? JET_bitBackupEndAbort : JET_bitBackupEndNormal), 0);
    ck_assert_int_eq(JetEndSession(s, 0), 0);
    ck_assert_int_eq(JetTerm2(inst, JET_bitTermComplete), 0);
    free(buf);
    if (rc == 0)
        ck_assert_uint_eq(total, size);
    return rc;
}

START_TEST(test_engine_refuses_xor_cancelling_page)
{
    char path[300];
    uint8_t pg[CBP];
    unsigned long long npg = 0, bad = 0;
    mk_db(path, sizeof path);
    ck_assert_int_eq(backup_stream(path), 0);
    /* record 66 (page 2) changed in two adjacent words the same way */
    page_io(path, 2, pg, 0);
    size_t off = JF_PAGE_HDR + 3 * 64;
    xor32_at(pg, off, 0x00000003u);
    xor32_at(pg, off + 4, 0x00000003u);
    page_io(path, 2, pg, 1);
    ck_assert_int_eq(JetLibVerifyDatabaseFile(path, &npg, &bad), JET_errReadVerifyFailure);
    ck_assert_uint_eq(bad, 2);
    ck_assert_int_eq(backup_stream(path), JET_errReadVerifyFailure);
}
END_TEST

static Suite *cksum_suite(void)
{
    Suite *s = suite_create("cksum");
    TCase *tc = tcase_create("format");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_xor_cancelling_every_offset);
    suite_add_tcase(s, tc);
    tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_engine_refuses_xor_cancelling_page);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cksum_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
