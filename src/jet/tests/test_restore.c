/*
 * test_restore.c -- JetExternalRestore2A (src/jet/restore.c, spec 7.1/7.2):
 * full and full+incremental backups taken with the streaming API are
 * restored into a new directory, then JetInit + JetAttachDatabase on the
 * result shows every committed write; bad backup sets are refused with
 * the spec's error and leave the target untouched.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "jet.h"
#include "jetlib.h"
#include "jet_int.h"
#include "format.h"

#define CBP 4096u
#define BUFPAGES 16u
#define NREC 300u

typedef struct env {
    char dir[256];
    JET_INSTANCE inst;
    JET_SESID ses;
    JET_DBID dbid;
    char db[300];
    unsigned char *buf;
} env;

/* Expected content: value of each record (tag 0 = never written). */
typedef struct model {
    unsigned tag[NREC];
} model;

static void sub(char *out, size_t cb, const char *dir, const char *name)
{
    int n = snprintf(out, cb, "%s/%s", dir, name);
    ck_assert(n > 0 && (size_t)n < cb);
}

static void xmkdir(const char *p)
{
    ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s", p);
}

/* Start an instance whose system and log directory is dir. */
static void inst_start(JET_INSTANCE *pinst, JET_SESID *pses, const char *name, const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s/", dir);
    ck_assert_int_eq(JetCreateInstanceA(pinst, name), 0);
    ck_assert_int_eq(JetSetSystemParameterA(pinst, 0, JET_paramSystemPath, 0, p), 0);
    ck_assert_int_eq(JetSetSystemParameterA(pinst, 0, JET_paramLogFilePath, 0, p), 0);
    ck_assert_int_eq(JetSetSystemParameterA(pinst, 0, JET_paramBaseName, 0, "edb"), 0);
    ck_assert_int_eq(JetSetSystemParameterA(pinst, 0, JET_paramLogFileSize, 128, NULL), 0);
    ck_assert_int_eq(JetSetSystemParameterA(pinst, 0, JETLIB_paramCheckpointKiB, 1u << 20, NULL),
                     0);
    ck_assert_int_eq(JetInit(pinst), 0);
    ck_assert_int_eq(JetBeginSessionA(*pinst, pses, NULL, NULL), 0);
}

static void env_start(env *e, const char *root, const char *name)
{
    char dir[sizeof e->dir];
    memset(e, 0, sizeof *e);
    sub(e->dir, sizeof e->dir, root, name);
    memcpy(dir, e->dir, sizeof dir);
    xmkdir(dir);
    inst_start(&e->inst, &e->ses, name, dir);
    sub(e->db, sizeof e->db, dir, "main.edb");
    ck_assert_int_eq(JetCreateDatabaseA(e->ses, e->db, NULL, &e->dbid, 0), 0);
    e->buf = aligned_alloc(4096, BUFPAGES * CBP);
    ck_assert_ptr_nonnull(e->buf);
}

static void env_stop(env *e)
{
    ck_assert_int_eq(JetEndSession(e->ses, 0), 0);
    (void)JetTerm(e->inst);
    free(e->buf);
}

static void make_rec(unsigned char *rec, unsigned r, unsigned tag)
{
    memset(rec, 0, 64);
    snprintf((char *)rec, 64, "rec %u tag %u", r, tag);
}

/* Committed writes [first, first+count) with tag, recorded in m. */
static void write_recs(env *e, model *m, unsigned first, unsigned count, unsigned tag)
{
    unsigned char rec[64];
    ck_assert_int_eq(JetBeginTransaction(e->ses), 0);
    for (unsigned r = first; r < first + count; r++) {
        make_rec(rec, r, tag);
        ck_assert_int_eq(JetLibWriteRecord(e->ses, e->dbid, r, rec, sizeof rec), 0);
        if (m)
            m->tag[r] = tag;
    }
    ck_assert_int_eq(JetCommitTransaction(e->ses, 0), 0);
}

/* An uncommitted (rolled back) write: must never appear. */
static void write_rollback(env *e, unsigned r)
{
    unsigned char rec[64];
    make_rec(rec, r, 999);
    ck_assert_int_eq(JetBeginTransaction(e->ses), 0);
    ck_assert_int_eq(JetLibWriteRecord(e->ses, e->dbid, r, rec, sizeof rec), 0);
    ck_assert_int_eq(JetRollback(e->ses, 0), 0);
}

/* Copy one backup file into outdir/<basename>. */
static void copy_file(env *e, const char *name, const char *outdir)
{
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    unsigned long long size, total = 0;
    char out[PATH_MAX + 300];
    FILE *f;
    ck_assert_int_eq(JetOpenFileInstanceA(e->inst, name, &h, &lo, &hi), 0);
    size = ((unsigned long long)hi << 32) | lo;
    snprintf(out, sizeof out, "%s/%s", outdir, strrchr(name, '/') + 1);
    f = fopen(out, "wb");
    ck_assert_ptr_nonnull(f);
    do {
        ck_assert_int_eq(JetReadFileInstance(e->inst, h, e->buf, BUFPAGES * CBP, &cb), 0);
        ck_assert_uint_eq(fwrite(e->buf, 1, cb, f), cb);
        total += cb;
    } while (cb != 0 && total < size);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_uint_eq(total, size);
    ck_assert_int_eq(JetCloseFileInstance(e->inst, h), 0);
}

/* Copy every log listed by GetLogInfo2 into outdir. */
static void copy_logs(env *e, const char *outdir, JET_LOGINFO_A *li)
{
    char *szz = malloc(1 << 16);
    unsigned long cb;
    li->cbSize = sizeof *li;
    ck_assert_int_eq(JetGetLogInfoInstance2A(e->inst, szz, 1 << 16, &cb, li), 0);
    for (const char *p = szz; *p; p += strlen(p) + 1)
        copy_file(e, p, outdir);
    free(szz);
}

/* Full backup into bk/ (db) and bk/logs/; writes during the backup. */
static void full_backup(env *e, model *m, const char *bk, bool truncate, JET_LOGINFO_A *li)
{
    char logs[PATH_MAX];
    sub(logs, sizeof logs, bk, "logs");
    xmkdir(bk);
    xmkdir(logs);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e->inst, 0), 0);
    write_recs(e, m, 10, 20, 50); /* after Begin, before the copy */
    copy_file(e, e->db, bk);
    write_recs(e, m, 20, 30, 51); /* after the copy: only in the logs */
    write_rollback(e, 5);
    copy_logs(e, logs, li);
    if (truncate)
        ck_assert_int_eq(JetTruncateLogInstance(e->inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e->inst), 0);
}

/* Open the restored database in a new instance and compare with m. */
static void verify_restored(const char *root, const char *newdir, const char *dbpath,
                            const model *m)
{
    JET_INSTANCE inst;
    JET_SESID ses;
    JET_DBID dbid;
    unsigned char rec[64], want[64];
    (void)root;
    inst_start(&inst, &ses, "verify", newdir);
    ck_assert_int_eq(JetAttachDatabaseA(ses, dbpath, 0), 0);
    ck_assert_int_eq(JetOpenDatabaseA(ses, dbpath, NULL, &dbid, 0), 0);
    for (unsigned r = 0; r < NREC; r++) {
        ck_assert_int_eq(JetLibReadRecord(ses, dbid, r, rec, sizeof rec), 0);
        if (m->tag[r] == 0) {
            memset(want, 0, sizeof want);
        } else {
            make_rec(want, r, m->tag[r]);
        }
        ck_assert_msg(memcmp(rec, want, sizeof rec) == 0, "record %u: got '%.20s' want tag %u", r,
                      (const char *)rec, m->tag[r]);
    }
    ck_assert_int_eq(JetEndSession(ses, 0), 0);
    ck_assert_int_eq(JetTerm(inst), 0);
}

/* Root temp dir for one test (root: 64 bytes, as every caller declares). */
static void mkroot(char *root)
{
    ck_assert_int_eq(th_tmpdir(root, 64, "jetrs"), 0);
}

static JET_ERR restore(const char *root, const char *orig, const char *bk, JET_LOGINFO_A *li)
{
    char newdir[PATH_MAX], logs[PATH_MAX], target[PATH_MAX];
    JET_RSTMAP_A map;
    sub(newdir, sizeof newdir, root, "new");
    sub(logs, sizeof logs, bk, "logs");
    sub(target, sizeof target, bk, "main.edb");
    map.szDatabaseName = (char *)orig;
    map.szNewDatabaseName = target;
    return JetExternalRestore2A(newdir, newdir, &map, 1, logs, li, NULL, NULL, NULL, NULL);
}

/* Contents of a file (for "untouched" checks); caller frees. */
static unsigned char *slurp(const char *path, size_t *pcb)
{
    FILE *f = fopen(path, "rb");
    unsigned char *b;
    long n;
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    rewind(f);
    b = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *pcb = (size_t)n;
    return b;
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Prepare a standard full backup with several generations. */
static void standard_backup(env *e, model *m, char *root, char *bk, JET_LOGINFO_A *li)
{
    unsigned long g;
    mkroot(root);
    env_start(e, root, "src");
    write_recs(e, m, 0, 100, 1);
    ck_assert_int_eq(JetLibRollLog(e->inst, &g), 0);
    write_recs(e, m, 100, 50, 2);
    ck_assert_int_eq(JetLibRollLog(e->inst, &g), 0);
    write_recs(e, m, 150, 50, 3);
    sub(bk, PATH_MAX, root, "bk");
    full_backup(e, m, bk, false, li);
    ck_assert_uint_ge(li->ulGenHigh - li->ulGenLow, 2);
}

/* Assert the target of a refused restore is untouched. */
static void assert_untouched(const char *root, const char *bk, const unsigned char *before,
                             size_t cb_before)
{
    char target[PATH_MAX], newdir[PATH_MAX], p[PATH_MAX + 16];
    size_t cb;
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *after = slurp(target, &cb);
    ck_assert_uint_eq(cb, cb_before);
    ck_assert_int_eq(memcmp(after, before, cb), 0);
    free(after);
    sub(newdir, sizeof newdir, root, "new");
    sub(p, sizeof p, newdir, "edb.log");
    ck_assert(!exists(p));
    sub(p, sizeof p, newdir, "edb.chk");
    ck_assert(!exists(p));
}

/* ---------------------------------------------------------------- */

START_TEST(full_restore)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], newdir[PATH_MAX], target[PATH_MAX];
    JET_LOGINFO_A li;
    standard_backup(&e, &m, root, bk, &li);
    write_recs(&e, NULL, 0, 10, 77); /* after the backup: not in it */
    ck_assert_int_eq(restore(root, e.db, bk, &li), 0);
    sub(newdir, sizeof newdir, root, "new");
    sub(target, sizeof target, bk, "main.edb");
    /* trailer dropped; bkinfoFullCur completed */
    struct stat st;
    ck_assert_int_eq(stat(target, &st), 0);
    ck_assert_uint_eq(st.st_size % CBP, 0);
    env_stop(&e);
    verify_restored(root, newdir, target, &m);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(full_incremental_restore)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], logs[PATH_MAX], newdir[PATH_MAX], target[PATH_MAX];
    JET_LOGINFO_A li, li2;
    unsigned long g;
    mkroot(root);
    env_start(&e, root, "src");
    write_recs(&e, &m, 0, 100, 1);
    ck_assert_int_eq(JetLibRollLog(e.inst, &g), 0);
    sub(bk, sizeof bk, root, "bk");
    full_backup(&e, &m, bk, true, &li);
    write_recs(&e, &m, 100, 100, 4);
    ck_assert_int_eq(JetLibRollLog(e.inst, &g), 0);
    write_recs(&e, &m, 50, 100, 5);
    sub(logs, sizeof logs, bk, "logs");
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    copy_logs(&e, logs, &li2);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    ck_assert_uint_le(li2.ulGenLow, li.ulGenHigh + 1);
    ck_assert_uint_gt(li2.ulGenHigh, li.ulGenHigh);
    write_recs(&e, NULL, 0, 10, 78);
    JET_LOGINFO_A all = li;
    all.ulGenHigh = li2.ulGenHigh;
    ck_assert_int_eq(restore(root, e.db, bk, &all), 0);
    env_stop(&e);
    sub(newdir, sizeof newdir, root, "new");
    sub(target, sizeof target, bk, "main.edb");
    verify_restored(root, newdir, target, &m);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(missing_log)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], target[PATH_MAX], lp[2 * PATH_MAX], name[64];
    JET_LOGINFO_A li;
    size_t cb;
    standard_backup(&e, &m, root, bk, &li);
    env_stop(&e);
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *before = slurp(target, &cb);
    ck_assert_int_ge(jf_log_name(name, sizeof name, "edb", (uint32_t)li.ulGenLow + 1, 3), 0);
    snprintf(lp, sizeof lp, "%s/logs/%s", bk, name);
    ck_assert_int_eq(unlink(lp), 0);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errMissingRestoreLogFiles);
    assert_untouched(root, bk, before, cb);
    /* no log at all */
    JET_LOGINFO_A far = li;
    far.ulGenLow = 0x900;
    far.ulGenHigh = 0x901;
    ck_assert_int_eq(restore(root, e.db, bk, &far), JET_errFileNotFound);
    assert_untouched(root, bk, before, cb);
    free(before);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(foreign_log)
{
    env e, o;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], target[PATH_MAX], lp[2 * PATH_MAX], op[2 * PATH_MAX], name[64];
    JET_LOGINFO_A li;
    unsigned long g;
    size_t cb, cbo;
    standard_backup(&e, &m, root, bk, &li);
    env_stop(&e);
    /* another instance with the same generations */
    env_start(&o, root, "other");
    for (unsigned i = 0; i <= li.ulGenHigh; i++) {
        write_recs(&o, NULL, 0, 5, 9);
        ck_assert_int_eq(JetLibRollLog(o.inst, &g), 0);
    }
    env_stop(&o);
    uint32_t victim = (uint32_t)li.ulGenLow + 1;
    ck_assert_int_ge(jf_log_name(name, sizeof name, "edb", victim, 3), 0);
    snprintf(lp, sizeof lp, "%s/logs/%s", bk, name);
    snprintf(op, sizeof op, "%s/other/%s", root, name);
    unsigned char *foreign = slurp(op, &cbo);
    FILE *f = fopen(lp, "wb");
    ck_assert_uint_eq(fwrite(foreign, 1, cbo, f), cbo);
    fclose(f);
    free(foreign);
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *before = slurp(target, &cb);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errGivenLogFileHasBadSignature);
    assert_untouched(root, bk, before, cb);
    free(before);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(non_contiguous)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], target[PATH_MAX], lp[2 * PATH_MAX], name[64];
    unsigned char blk[JF_LOG_HDR];
    JET_LOGINFO_A li;
    jf_loghdr h;
    size_t cb;
    standard_backup(&e, &m, root, bk, &li);
    env_stop(&e);
    ck_assert_int_ge(jf_log_name(name, sizeof name, "edb", (uint32_t)li.ulGenLow + 1, 3), 0);
    snprintf(lp, sizeof lp, "%s/logs/%s", bk, name);
    int fd = open(lp, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, blk, sizeof blk, 0), (ssize_t)sizeof blk);
    ck_assert_int_eq(jf_loghdr_decode(blk, sizeof blk, &h), 0);
    h.time_prev_gen.sec = (uint8_t)((h.time_prev_gen.sec + 1) % 60);
    h.time_prev_gen.min = (uint8_t)((h.time_prev_gen.min + 1) % 60);
    jf_loghdr_encode(&h, blk);
    ck_assert_int_eq(pwrite(fd, blk, sizeof blk, 0), (ssize_t)sizeof blk);
    close(fd);
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *before = slurp(target, &cb);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errGivenLogFileIsNotContiguous);
    assert_untouched(root, bk, before, cb);
    free(before);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(non_backup_db)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], target[PATH_MAX];
    JET_LOGINFO_A li;
    size_t cb;
    standard_backup(&e, &m, root, bk, &li);
    env_stop(&e); /* clean shutdown of the live db */
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *live = slurp(e.db, &cb);
    FILE *f = fopen(target, "wb");
    ck_assert_uint_eq(fwrite(live, 1, cb, f), cb);
    fclose(f);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errRestoreOfNonBackupDatabase);
    assert_untouched(root, bk, live, cb);
    free(live);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(bad_trailer)
{
    env e;
    model m = { { 0 } };
    char root[64], bk[PATH_MAX], target[PATH_MAX];
    JET_LOGINFO_A li;
    size_t cb;
    unsigned char c;
    standard_backup(&e, &m, root, bk, &li);
    env_stop(&e);
    sub(target, sizeof target, bk, "main.edb");
    unsigned char *orig = slurp(target, &cb);
    /* flipped byte in the trailer: -535 */
    int fd = open(target, O_RDWR);
    ck_assert_int_eq(pread(fd, &c, 1, (off_t)(cb - CBP + 50)), 1);
    c ^= 0x11;
    ck_assert_int_eq(pwrite(fd, &c, 1, (off_t)(cb - CBP + 50)), 1);
    close(fd);
    unsigned char *before = slurp(target, &cb);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errBadPatchPage);
    assert_untouched(root, bk, before, cb);
    free(before);
    /* shorter than 3 pages: -1206 */
    ck_assert_int_eq(truncate(target, 2 * CBP), 0);
    ck_assert_int_eq(restore(root, e.db, bk, &li), JET_errDatabaseCorrupted);
    /* range: the set starts after the backup's genLow: -554 */
    FILE *f = fopen(target, "wb");
    ck_assert_uint_eq(fwrite(orig, 1, cb, f), cb);
    fclose(f);
    JET_LOGINFO_A late = li;
    late.ulGenLow = li.ulGenLow + 1;
    ck_assert_int_eq(restore(root, e.db, bk, &late), JET_errStartingRestoreLogTooHigh);
    free(orig);
    (void)th_rm_tree(root);
}
END_TEST

START_TEST(bad_arguments)
{
    JET_LOGINFO_A li = { .cbSize = sizeof li, .ulGenLow = 1, .ulGenHigh = 2, .szBaseName = "edb" };
    JET_RSTMAP_A map = { "/x/a.edb", "/x/b.edb" };
    li.cbSize = 4;
    ck_assert_int_eq(
        JetExternalRestore2A("/tmp", "/tmp", &map, 1, "/tmp", &li, NULL, NULL, NULL, NULL),
        JET_errInvalidParameter);
    li.cbSize = sizeof li;
    ck_assert_int_eq(
        JetExternalRestore2A("/tmp", "/tmp", &map, 1, "/tmp", NULL, NULL, NULL, NULL, NULL),
        JET_errInvalidParameter);
    ck_assert_int_eq(
        JetExternalRestore2A("/tmp", "/tmp", &map, 1, "/tmp", &li, NULL, "/tmp", NULL, NULL),
        JET_errInvalidParameter);
    ck_assert_int_eq(
        JetExternalRestore2A("/tmp", "/tmp", &map, -1, "/tmp", &li, NULL, NULL, NULL, NULL),
        JET_errInvalidParameter);
    ck_assert_int_eq(JetExternalRestoreA("/tmp", "/tmp", &map, 1, "/tmp", 0, 2, NULL),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetExternalRestoreA("/tmp", "/tmp", &map, 1, "/tmp", 3, 2, NULL),
                     JET_errInvalidParameter);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("restore");
    TCase *tc = tcase_create("restore");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, full_restore);
    tcase_add_test(tc, full_incremental_restore);
    tcase_add_test(tc, missing_log);
    tcase_add_test(tc, foreign_log);
    tcase_add_test(tc, non_contiguous);
    tcase_add_test(tc, non_backup_db);
    tcase_add_test(tc, bad_trailer);
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(suite)
