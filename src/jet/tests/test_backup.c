/*
 * test_backup.c -- the external backup API (src/jet/backup.c) against an
 * in-process engine: legal-call matrix (spec 2.6), abort rules (2.7),
 * buffer rules (3.2/3.3), stream layout (3.1/3.2), log lists (4.2/4.3),
 * truncation (5.1), backup history (5.2), corruption handling.
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

/* One test instance in its own temporary directory. */
typedef struct env {
    char dir[256];
    JET_INSTANCE inst;
    JET_SESID ses;
    JET_DBID dbid[2];
    char db[2][300];
    unsigned ndb;
    unsigned char *buf; /* BUFPAGES pages, 4096-aligned */
} env;

/* Create, configure and initialise an instance in a new temp dir. */
static void env_init(env *e, bool circular)
{
    char p[PATH_MAX + 8];
    memset(e, 0, sizeof *e);
    ck_assert_int_eq(th_tmpdir(e->dir, sizeof e->dir, "jetbk"), 0);
    ck_assert_int_eq(JetCreateInstanceA(&e->inst, strrchr(e->dir, '/') + 1), 0);
    snprintf(p, sizeof p, "%s/", e->dir);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JET_paramSystemPath, 0, p), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JET_paramLogFilePath, 0, p), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JET_paramBaseName, 0, "edb"), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JET_paramLogFileSize, 128, NULL), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JET_paramCircularLog, circular, NULL), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&e->inst, 0, JETLIB_paramCheckpointKiB, 1u << 20, NULL),
                     0);
    e->buf = aligned_alloc(4096, BUFPAGES * CBP + 4096);
    ck_assert_ptr_nonnull(e->buf);
}

static void env_start(env *e, bool circular)
{
    env_init(e, circular);
    ck_assert_int_eq(JetInit(&e->inst), 0);
    ck_assert_int_eq(JetBeginSessionA(e->inst, &e->ses, NULL, NULL), 0);
}

/* Create database i (db<i>.edb) and open it. */
static void env_add_db(env *e)
{
    unsigned i = e->ndb++;
    char dir[sizeof e->dir];
    memcpy(dir, e->dir, sizeof dir);
    int n = snprintf(e->db[i], sizeof e->db[i], "%.255s/db%u.edb", dir, i % 10);
    ck_assert(n > 0 && (size_t)n < sizeof e->db[i]);
    ck_assert_int_eq(JetCreateDatabaseA(e->ses, e->db[i], NULL, &e->dbid[i], 0), 0);
}

/* Write count records from first with a value derived from (recno, tag). */
static void write_recs(env *e, unsigned i, unsigned first, unsigned count, unsigned tag)
{
    unsigned char rec[64];
    ck_assert_int_eq(JetBeginTransaction(e->ses), 0);
    for (unsigned r = first; r < first + count; r++) {
        memset(rec, 0, sizeof rec);
        snprintf((char *)rec, sizeof rec, "rec %u tag %u", r, tag);
        ck_assert_int_eq(JetLibWriteRecord(e->ses, e->dbid[i], r, rec, sizeof rec), 0);
    }
    ck_assert_int_eq(JetCommitTransaction(e->ses, 0), 0);
}

static void env_stop(env *e)
{
    if (e->ses != 0)
        (void)JetEndSession(e->ses, 0);
    (void)JetTerm(e->inst);
    free(e->buf);
    (void)th_rm_tree(e->dir);
}

static void gens(env *e, unsigned long *cur, unsigned long *ckpt)
{
    ck_assert_int_eq(JetLibGetLogState(e->inst, cur, ckpt), 0);
}

static jet_inst *ji(env *e)
{
    return jinst_get(e->inst);
}

static void log_path(env *e, uint32_t gen, char *buf, size_t cb)
{
    jinst_log_path(ji(e), gen, buf, cb);
}

static bool exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* Read a whole backup file; returns the error of the first failing call.
 * *ptotal gets the bytes read; out (optional) receives the stream. */
static JET_ERR copy_file(env *e, const char *name, unsigned long cbuf, FILE *out,
                         unsigned long long *ptotal, unsigned long long *psize)
{
    JET_HANDLE h = 99;
    unsigned long lo = 0, hi = 0, cb;
    unsigned long long size, total = 0;
    JET_ERR err = JetOpenFileInstanceA(e->inst, name, &h, &lo, &hi);
    if (err < 0)
        return err;
    ck_assert_uint_eq(h, 0);
    size = ((unsigned long long)hi << 32) | lo;
    if (psize)
        *psize = size;
    do {
        err = JetReadFileInstance(e->inst, h, e->buf, cbuf, &cb);
        if (err < 0)
            return err;
        if (out)
            ck_assert_uint_eq(fwrite(e->buf, 1, cb, out), cb);
        total += cb;
    } while (cb != 0 && total < size);
    if (ptotal)
        *ptotal = total;
    ck_assert_uint_eq(total, size);
    return JetCloseFileInstance(e->inst, h);
}

/* Split a multi-string into at most max entries; returns the count. */
static unsigned split(const char *szz, char names[][PATH_MAX], unsigned max)
{
    unsigned n = 0;
    for (const char *p = szz; *p != '\0'; p += strlen(p) + 1) {
        size_t len = strlen(p);
        ck_assert_uint_lt(n, max);
        ck_assert_uint_lt(len, PATH_MAX);
        memcpy(names[n++], p, len + 1);
    }
    return n;
}

/* Full backup of every log listed (reads all of them). */
static void read_all_logs(env *e, JET_LOGINFO_A *li)
{
    static char names[64][PATH_MAX];
    char szz[64 * 256];
    unsigned long cb = 0;
    JET_LOGINFO_A tmp;
    if (li == NULL)
        li = &tmp;
    li->cbSize = sizeof *li;
    ck_assert_int_eq(JetGetLogInfoInstance2A(e->inst, szz, sizeof szz, &cb, li), 0);
    unsigned n = split(szz, names, 64);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(copy_file(e, names[i], BUFPAGES * CBP, NULL, NULL, NULL), 0);
}

/* Decode the live header of a database file (page 0). */
static void file_header(const char *path, jf_dbhdr *h)
{
    unsigned char *blk = malloc(CBP);
    int fd = open(path, O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, blk, CBP, 0), CBP);
    close(fd);
    ck_assert_int_eq(jf_dbhdr_decode(blk, CBP, h), 0);
    free(blk);
}

static void flip_byte(const char *path, off_t off)
{
    unsigned char c;
    int fd = open(path, O_RDWR);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, &c, 1, off), 1);
    c ^= 0x5A;
    ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
    close(fd);
}

/* A standard fixture: one database with records, several generations. */
static void fixture(env *e)
{
    unsigned long g;
    env_start(e, false);
    env_add_db(e);
    write_recs(e, 0, 0, 50, 1);
    ck_assert_int_eq(JetLibRollLog(e->inst, &g), 0);
    write_recs(e, 0, 50, 50, 1);
    ck_assert_int_eq(JetLibCheckpoint(e->inst), 0);
    ck_assert_int_eq(JetLibRollLog(e->inst, &g), 0);
    write_recs(e, 0, 100, 50, 1);
}

/* ---------------------------------------------------------------- */

START_TEST(no_backup_cells)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    fixture(&e);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), JET_errNoBackup);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb), JET_errNoBackup);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), JET_errNoBackup);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), JET_errNoBackup);
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errNoBackup);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), JET_errNoBackup);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), JET_errNoBackup);
    ck_assert_int_eq(JetStopBackupInstance(e.inst), 0);
    /* Stop with no backup does not affect the next one */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(begin_rules)
{
    env e;
    env_init(&e, false);
    /* not initialised */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), JET_errBackupNotAllowedYet);
    ck_assert_int_eq(JetInit(&e.inst), 0);
    ck_assert_int_eq(JetBeginSessionA(e.inst, &e.ses, NULL, NULL), 0);
    env_add_db(&e);
    write_recs(&e, 0, 0, 10, 1);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupAtomic),
                     JET_errInvalidGrbit);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0x2), JET_errInvalidGrbit);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupSnapshot),
                     JET_errInvalidGrbit);
    /* no previous full backup */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental),
                     JET_errMissingFullBackup);
    ck_assert(!jbk_in_progress(ji(&e)));
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert(jbk_in_progress(ji(&e)));
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), JET_errBackupInProgress);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental),
                     JET_errBackupInProgress);
    /* attach/detach refused, non-stop JetTerm refused */
    ck_assert_int_eq(JetEndSession(e.ses, 0), 0);
    e.ses = 0;
    ck_assert_int_eq(JetTerm2(e.inst, JET_bitTermComplete), JET_errBackupInProgress);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    ck_assert(!jbk_in_progress(ji(&e)));
    env_stop(&e);
}
END_TEST

START_TEST(circular_incremental)
{
    env e;
    env_start(&e, true);
    env_add_db(&e);
    write_recs(&e, 0, 0, 10, 1);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental),
                     JET_errInvalidBackup);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

/* Circular logging never deletes a log a running backup needs: the logs
 * from CopyMic on stay through checkpoints until the backup ends; after
 * End the next checkpoint removes them. */
START_TEST(circular_pins_logs)
{
    env e;
    jf_chk chk;
    unsigned long cur, ckpt;
    uint32_t copymic;
    char lp[PATH_MAX + 64];
    struct stat st;
    env_start(&e, true);
    env_add_db(&e);
    write_recs(&e, 0, 0, 10, 1);
    ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(jinst_read_checkpoint(ji(&e), &chk), 0);
    copymic = (uint32_t)chk.lgpos_checkpoint.gen;
    /* several generations and checkpoints while the backup runs */
    for (unsigned k = 0; k < 6; k++) {
        ck_assert_int_eq(JetLibRollLog(e.inst, NULL), 0);
        write_recs(&e, 0, 0, 20, 2 + k);
        ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    }
    gens(&e, &cur, &ckpt);
    ck_assert_uint_gt(ckpt, copymic + 3);
    for (uint32_t g = copymic; g < cur; g++) {
        log_path(&e, g, lp, sizeof lp);
        ck_assert_msg(stat(lp, &st) == 0, "log %u deleted during the backup", g);
    }
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    gens(&e, &cur, &ckpt);
    for (uint32_t g = copymic; g < ckpt; g++) {
        log_path(&e, g, lp, sizeof lp);
        ck_assert_msg(stat(lp, &st) != 0, "log %u kept after the backup", g);
    }
    env_stop(&e);
}
END_TEST

START_TEST(db_phase_cells)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    char other[PATH_MAX + 16], lp[PATH_MAX + 64];
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    /* truncate before GetLogInfo */
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errInvalidBackupSequence);
    /* non-attached files in the DB phase: -1203, no abort */
    snprintf(other, sizeof other, "%s/nothere.edb", e.dir);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, other, &h, &lo, &hi), JET_errDatabaseNotFound);
    log_path(&e, 1, lp, sizeof lp);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), JET_errDatabaseNotFound);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, NULL, &h, &lo, &hi), JET_errInvalidParameter);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, "", &h, &lo, &hi), JET_errInvalidParameter);
    /* read with nothing open */
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb), JET_errInvalidParameter);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), JET_errInvalidParameter);
    /* open the db; a second open is -1011 */
    h = 7;
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    ck_assert_uint_eq(h, 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), JET_errOutOfMemory);
    /* list calls and truncate with an open handle: -521, no abort */
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(e.inst, NULL, 0, &cb),
                     JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 1), JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb), 0);
    ck_assert_uint_eq(cb, 3 * CBP);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), JET_errInvalidParameter);
    /* re-open after close is allowed */
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    /* End(Normal) in the DB phase = abort: no history written */
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    jf_dbhdr hd;
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.copy_prev.gen_low, 0);
    ck_assert_uint_eq(hd.full_prev.gen_low, 0);
    env_stop(&e);
}
END_TEST

START_TEST(attach_info)
{
    env e;
    unsigned long cb = 0;
    char szz[2 * PATH_MAX + 8], small[8];
    char names[4][PATH_MAX];
    env_start(&e, false);
    env_add_db(&e);
    env_add_db(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    size_t want = strlen(e.db[0]) + 1 + strlen(e.db[1]) + 1 + 1;
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    ck_assert_uint_eq(cb, want);
    cb = 0;
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, szz, 0, &cb), 0);
    ck_assert_uint_eq(cb, want);
    memset(small, 'x', sizeof small);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, small, sizeof small, &cb),
                     JET_errBufferTooSmall);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, szz, sizeof szz, &cb), 0);
    ck_assert_uint_eq(cb, want);
    ck_assert_uint_eq(split(szz, names, 4), 2);
    ck_assert_str_eq(names[0], e.db[0]);
    ck_assert_str_eq(names[1], e.db[1]);
    /* still running after -1038 */
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(log_phase_cells)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    char lp[PATH_MAX + 64], bad[PATH_MAX + 64];
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    /* attach info is still fine for a full backup in the log phase */
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    /* TruncateLog with logs not read: -616, no abort */
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errLogFileNotCopied);
    /* open a db in the log phase: -521 and abort */
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi),
                     JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    ck_assert(!jbk_in_progress(ji(&e)));

    /* a name with the log extension that is not an archived log: -1003 + abort */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    snprintf(bad, sizeof bad, "%s/edb.log", e.dir);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, bad, &h, &lo, &hi), JET_errInvalidParameter);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), JET_errNoBackup);

    /* a missing log: -569 + abort */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), 0);
    log_path(&e, 0xFF, lp, sizeof lp);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), JET_errMissingFileToBackup);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb), JET_errNoBackup);

    /* log phase: second open -1011, close bad handle -1003 */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), 0);
    log_path(&e, (uint32_t)li.ulGenLow, lp, sizeof lp);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), 0);
    ck_assert_uint_eq(lo, 128 * 1024);
    ck_assert_uint_eq(hi, 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), JET_errOutOfMemory);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 3), JET_errInvalidParameter);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(incremental_cells)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    fixture(&e);
    /* a truncated full backup first */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, NULL);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    write_recs(&e, 0, 0, 10, 2);

    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi),
                     JET_errInvalidBackupSequence);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errNoBackup);
    env_stop(&e);
}
END_TEST

START_TEST(after_stop_cells)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    char lp[PATH_MAX + 64];
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    fixture(&e);
    /* stop in the DB phase with an open file */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    ck_assert_int_eq(JetStopBackupInstance(e.inst), 0);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), JET_errBackupInProgress);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(e.inst, NULL, 0, &cb), JET_errBackupAbortByServer);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi),
                     JET_errBackupAbortByServer);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb),
                     JET_errBackupAbortByServer);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errBackupAbortByServer);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li),
                     JET_errBackupAbortByServer);
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(e.inst, NULL, 0, &cb),
                     JET_errBackupAbortByServer);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errBackupAbortByServer);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);
    ck_assert(jbk_in_progress(ji(&e)));
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    ck_assert(!jbk_in_progress(ji(&e)));

    /* stop in the log phase after everything was read: nothing truncated,
     * no history */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetStopBackupInstance(e.inst), 0);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errBackupAbortByServer);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    for (unsigned long g = li.ulGenLow; g <= li.ulGenHigh; g++) {
        log_path(&e, (uint32_t)g, lp, sizeof lp);
        ck_assert_msg(exists(lp), "%s deleted", lp);
    }
    jf_dbhdr hd;
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.copy_prev.gen_low, 0);
    ck_assert_uint_eq(hd.full_prev.gen_low, 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), JET_errNoBackup);
    env_stop(&e);
}
END_TEST

START_TEST(end_grbits)
{
    env e;
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, 0), JET_errInvalidParameter);
    ck_assert_int_eq(
        JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndNormal | JET_bitBackupEndAbort),
        JET_errInvalidParameter);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupTruncateDone),
                     JET_errInvalidParameter);
    ck_assert(jbk_in_progress(ji(&e)));
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort | 0x1000), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), JET_errNoBackup);
    env_stop(&e);
}
END_TEST

START_TEST(buffer_rules)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    char lp[PATH_MAX + 64];
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf + 8, 4 * CBP, &cb),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf + 2048, 4 * CBP, &cb),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 4 * CBP + 512, &cb),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 2 * CBP, &cb), JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 0, &cb), JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 1, e.buf, 3 * CBP, &cb), JET_errInvalidParameter);
    /* none of that aborted or moved the stream */
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 3 * CBP, &cb), 0);
    ck_assert_uint_eq(cb, 3 * CBP);
    /* after the first read, smaller reads are fine */
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, CBP, &cb), 0);
    ck_assert_uint_eq(cb, CBP);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);

    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), 0);
    log_path(&e, (uint32_t)li.ulGenLow, lp, sizeof lp);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, CBP, &cb), JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf + 16, 2 * CBP, &cb),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 2 * CBP + 100, &cb),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 2 * CBP, &cb), 0);
    ck_assert_uint_eq(cb, 2 * CBP);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, CBP, &cb), 0);
    ck_assert_uint_eq(cb, CBP);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(stream_layout)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb, cur, ckpt, cur2, ck2;
    fixture(&e);
    gens(&e, &cur, &ckpt);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    uint32_t n = jdb_pgno_last(ji(&e)->dbs[e.dbid[0]]);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    unsigned long long size = ((unsigned long long)hi << 32) | lo;
    ck_assert_uint_eq(size, ((unsigned long long)n + 3) * CBP);
    size_t np = n + 3;
    unsigned char *s = aligned_alloc(4096, np * CBP);
    ck_assert_ptr_nonnull(s);
    /* exactly headers + data pages: the trailer must come alone next */
    unsigned char *big = aligned_alloc(4096, (n + 2) * (size_t)CBP);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, big, (n + 2) * CBP, &cb), 0);
    ck_assert_uint_eq(cb, (n + 2) * CBP);
    memcpy(s, big, cb);
    gens(&e, &cur2, &ck2);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 4 * CBP, &cb), 0);
    ck_assert_uint_eq(cb, CBP);
    memcpy(s + (n + 2) * (size_t)CBP, e.buf, CBP);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 4 * CBP, &cb), 0);
    ck_assert_uint_eq(cb, 0);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);

    /* header copies */
    jf_dbhdr hd, live;
    ck_assert_int_eq(memcmp(s, s + CBP, CBP), 0);
    ck_assert_int_eq(jf_dbhdr_decode(s, CBP, &hd), 0);
    file_header(e.db[0], &live);
    ck_assert(jf_sig_eq(&hd.sign_db, &live.sign_db));
    ck_assert_uint_eq(hd.full_cur.gen_low, ckpt);
    ck_assert_uint_eq(hd.full_cur.gen_high, 0);
    ck_assert_int_eq(hd.full_cur.mark.gen, (int32_t)cur);
    ck_assert_uint_eq(live.full_cur.gen_low, 0);
    /* data pages verify and equal the file (checkpointed, no writes since) */
    int fd = open(e.db[0], O_RDONLY);
    unsigned char *pg = malloc(CBP);
    for (uint32_t p = 1; p <= n; p++) {
        const unsigned char *sp = s + (size_t)(p + 1) * CBP;
        ck_assert_int_eq(jf_page_verify(sp, CBP, p), 0);
        ssize_t r = pread(fd, pg, CBP, (off_t)(p + 1) * CBP);
        if (r == (ssize_t)CBP)
            ck_assert_msg(memcmp(pg, sp, CBP) == 0 || jf_is_blank(sp, CBP), "page %u", p);
    }
    close(fd);
    free(pg);
    /* trailer */
    jf_trailer t;
    ck_assert_int_eq(jf_trailer_decode(s + (n + 2) * (size_t)CBP, CBP, &t), 0);
    ck_assert_uint_eq(t.bkinfo.gen_low, ckpt);
    ck_assert_uint_ge(t.bkinfo.gen_high, cur2);
    ck_assert_int_eq(jf_lgpos_cmp(t.bkinfo.mark, hd.full_cur.mark), 0);
    ck_assert(jf_sig_eq(&t.sign_db, &hd.sign_db));
    ck_assert(jf_sig_eq(&t.sign_log, &hd.sign_log));
    free(s);
    free(big);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(trailer_with_room)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    uint32_t n = jdb_pgno_last(ji(&e)->dbs[e.dbid[0]]);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    unsigned char *big = aligned_alloc(4096, (n + 10) * (size_t)CBP);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, big, (n + 10) * CBP, &cb), 0);
    ck_assert_uint_eq(cb, (n + 3) * CBP);
    jf_trailer t;
    ck_assert_int_eq(jf_trailer_decode(big + (n + 2) * (size_t)CBP, CBP, &t), 0);
    free(big);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(log_lists)
{
    env e;
    unsigned long cb = 0, cb2 = 0, cur, ckpt, cur2, ck2;
    static char names[64][PATH_MAX];
    char szz[64 * 256], szz2[64 * 256], lp[PATH_MAX + 64], small[16];
    JET_LOGINFO_A li = { .cbSize = sizeof li }, li2 = { .cbSize = sizeof li2 };
    fixture(&e);
    gens(&e, &cur, &ckpt);
    ck_assert_int_lt(ckpt, cur);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    /* bad LOGINFO size first: nothing happens (no roll) */
    li.cbSize = sizeof li + 4;
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), JET_errInvalidParameter);
    gens(&e, &cur2, &ck2);
    ck_assert_uint_eq(cur2, cur);
    li.cbSize = sizeof li;
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), 0);
    gens(&e, &cur2, &ck2);
    ck_assert_uint_eq(cur2, cur + 1); /* rolled */
    ck_assert_uint_eq(li.ulGenLow, ckpt);
    ck_assert_uint_eq(li.ulGenHigh, cur);
    ck_assert_str_eq(li.szBaseName, "edb");
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, small, sizeof small, &cb2, &li2),
                     JET_errBufferTooSmall);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, szz, sizeof szz, &cb2, &li2), 0);
    ck_assert_uint_eq(cb2, cb);
    ck_assert_uint_eq(li2.ulGenLow, li.ulGenLow);
    ck_assert_uint_eq(li2.ulGenHigh, li.ulGenHigh);
    gens(&e, &cur2, &ck2);
    ck_assert_uint_eq(cur2, cur + 1); /* rolled once only */
    unsigned n = split(szz, names, 64);
    ck_assert_uint_eq(n, li.ulGenHigh - li.ulGenLow + 1);
    for (unsigned i = 0; i < n; i++) {
        log_path(&e, (uint32_t)(li.ulGenLow + i), lp, sizeof lp);
        ck_assert_str_eq(names[i], lp);
        ck_assert(names[i][0] == '/');
    }
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, szz2, sizeof szz2, &cb2), 0);
    ck_assert_int_eq(memcmp(szz, szz2, cb), 0);
    /* truncate list: oldest on disk .. min(checkpoint, CopyMac)-1 */
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(e.inst, szz2, sizeof szz2, &cb2), 0);
    n = split(szz2, names, 64);
    unsigned long del_mac = ck2 < cur + 1 ? ck2 : cur + 1;
    ck_assert_uint_eq(n, del_mac - 1);
    for (unsigned i = 0; i < n; i++) {
        log_path(&e, 1 + i, lp, sizeof lp);
        ck_assert_str_eq(names[i], lp);
    }
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(truncate_range)
{
    env e;
    unsigned long cur, ckpt, cur2, ck2;
    char lp[PATH_MAX + 64];
    JET_LOGINFO_A li;
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    gens(&e, &cur, &ckpt);
    read_all_logs(&e, &li);
    gens(&e, &cur2, &ck2);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    unsigned long del_mac = ck2 < li.ulGenHigh + 1 ? ck2 : li.ulGenHigh + 1;
    ck_assert_uint_gt(del_mac, 1);
    for (unsigned long g = 1; g <= li.ulGenHigh; g++) {
        log_path(&e, (uint32_t)g, lp, sizeof lp);
        if (g < del_mac)
            ck_assert_msg(!exists(lp), "gen %lu not deleted", g);
        else
            ck_assert_msg(exists(lp), "gen %lu deleted", g);
    }
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    env_stop(&e);
}
END_TEST

START_TEST(truncate_refused)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    static char names[64][PATH_MAX];
    char szz[64 * 256], lp[PATH_MAX + 64];
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, szz, sizeof szz, &cb, &li), 0);
    unsigned n = split(szz, names, 64);
    ck_assert_uint_ge(n, 2);
    /* all but the last fully read; the last only partially */
    for (unsigned i = 0; i + 1 < n; i++)
        ck_assert_int_eq(copy_file(&e, names[i], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, names[n - 1], &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 2 * CBP, &cb), 0);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errLogFileNotCopied);
    /* reading one log twice does not make up for another */
    ck_assert_int_eq(copy_file(&e, names[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), JET_errLogFileNotCopied);
    for (unsigned long g = 1; g <= li.ulGenHigh; g++) {
        log_path(&e, (uint32_t)g, lp, sizeof lp);
        ck_assert_msg(exists(lp), "gen %lu deleted", g);
    }
    /* abort: nothing deleted, no history */
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    for (unsigned long g = 1; g <= li.ulGenHigh; g++) {
        log_path(&e, (uint32_t)g, lp, sizeof lp);
        ck_assert_msg(exists(lp), "gen %lu deleted", g);
    }
    jf_dbhdr hd;
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.copy_prev.gen_low, 0);
    env_stop(&e);
}
END_TEST

START_TEST(history_slots)
{
    env e;
    JET_LOGINFO_A li, li2;
    jf_dbhdr hd;
    fixture(&e);
    /* Copy: no truncation */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.copy_prev.gen_low, li.ulGenLow);
    ck_assert_uint_eq(hd.copy_prev.gen_high, li.ulGenHigh);
    ck_assert_uint_eq(hd.full_prev.gen_low, 0);
    ck_assert_uint_eq(hd.full_cur.gen_low, 0);
    /* a Copy is no base for an incremental */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental),
                     JET_errMissingFullBackup);

    /* Full via TruncateDone */
    write_recs(&e, 0, 0, 5, 3);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(
        JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndNormal | JET_bitBackupTruncateDone),
        0);
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.full_prev.gen_low, li.ulGenLow);
    ck_assert_uint_eq(hd.full_prev.gen_high, li.ulGenHigh);
    ck_assert_uint_eq(hd.type_full_prev, JF_BKTYPE_NORMAL);

    /* Differential: incremental without truncation */
    write_recs(&e, 0, 0, 5, 4);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    read_all_logs(&e, &li2);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.diff_prev.gen_low, li2.ulGenLow);
    ck_assert_uint_eq(hd.diff_prev.gen_high, li2.ulGenHigh);
    ck_assert_uint_eq(hd.inc_prev.gen_low, 0);

    /* Incremental: truncated */
    write_recs(&e, 0, 0, 5, 5);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    read_all_logs(&e, &li2);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.inc_prev.gen_low, li2.ulGenLow);
    ck_assert_uint_eq(hd.inc_prev.gen_high, li2.ulGenHigh);
    ck_assert_uint_ne(hd.diff_prev.gen_low, 0);

    /* Full with TruncateLog: clears incremental and differential */
    write_recs(&e, 0, 0, 5, 6);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    file_header(e.db[0], &hd);
    ck_assert_uint_eq(hd.full_prev.gen_low, li.ulGenLow);
    ck_assert_uint_eq(hd.full_prev.gen_high, li.ulGenHigh);
    ck_assert_uint_eq(hd.inc_prev.gen_low, 0);
    ck_assert_uint_eq(hd.diff_prev.gen_low, 0);
    ck_assert_uint_ne(hd.copy_prev.gen_low, 0);
    env_stop(&e);
}
END_TEST

START_TEST(incremental_lists)
{
    env e;
    JET_LOGINFO_A li, li2;
    unsigned long cur, ckpt;
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    write_recs(&e, 0, 200, 20, 2);
    gens(&e, &cur, &ckpt);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    read_all_logs(&e, &li2);
    uint32_t oldest;
    ck_assert_int_eq(jlog_oldest_gen(ji(&e), &oldest), 0);
    ck_assert_uint_eq(li2.ulGenLow, oldest);
    ck_assert_uint_eq(li2.ulGenHigh, cur);
    ck_assert_uint_le(li2.ulGenLow, li.ulGenHigh + 1);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    env_stop(&e);
}
END_TEST

START_TEST(corrupt_db_page)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    env_start(&e, false);
    env_add_db(&e);
    env_add_db(&e);
    write_recs(&e, 0, 0, 100, 1);
    write_recs(&e, 1, 0, 100, 1);
    ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    flip_byte(e.db[0], 2 * CBP + 200); /* pgno 1 of db0 */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, e.db[0], &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, BUFPAGES * CBP, &cb),
                     JET_errReadVerifyFailure);
    ck_assert_uint_eq(cb, 0);
    /* the handle was closed; the backup goes on */
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), JET_errInvalidParameter);
    ck_assert_int_eq(copy_file(&e, e.db[1], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    JET_LOGINFO_A li;
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    jf_dbhdr h0, h1;
    file_header(e.db[0], &h0);
    file_header(e.db[1], &h1);
    ck_assert_uint_eq(h0.copy_prev.gen_low, 0);
    ck_assert_uint_eq(h1.copy_prev.gen_low, li.ulGenLow);
    env_stop(&e);
}
END_TEST

START_TEST(corrupt_log)
{
    env e;
    JET_HANDLE h;
    unsigned long lo, hi, cb;
    char lp[PATH_MAX + 64];
    JET_LOGINFO_A li = { .cbSize = sizeof li };
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), 0);
    log_path(&e, (uint32_t)li.ulGenLow, lp, sizeof lp);
    flip_byte(lp, JF_SEGMENT + 100);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, BUFPAGES * CBP, &cb),
                     JET_errLogReadVerifyFailure);
    ck_assert_int_eq(JetCloseFileInstance(e.inst, 0), JET_errNoBackup);
    ck_assert(!jbk_in_progress(ji(&e)));

    /* a corrupt log header is caught by the first read as well */
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetGetLogInfoInstance2A(e.inst, NULL, 0, &cb, &li), 0);
    log_path(&e, (uint32_t)li.ulGenHigh, lp, sizeof lp);
    flip_byte(lp, 44);
    ck_assert_int_eq(JetOpenFileInstanceA(e.inst, lp, &h, &lo, &hi), 0);
    ck_assert_int_eq(JetReadFileInstance(e.inst, 0, e.buf, 2 * CBP, &cb),
                     JET_errLogReadVerifyFailure);
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), JET_errNoBackup);
    env_stop(&e);
}
END_TEST

START_TEST(term_ends_backup)
{
    env e;
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(JetEndSession(e.ses, 0), 0);
    e.ses = 0;
    ck_assert_int_eq(JetTerm2(e.inst, JET_bitTermComplete), JET_errBackupInProgress);
    ck_assert_int_eq(JetTerm(e.inst), 0); /* abrupt: silently ends the backup */
    free(e.buf);
    (void)th_rm_tree(e.dir);
}
END_TEST

START_TEST(incremental_gap)
{
    env e;
    JET_LOGINFO_A li;
    unsigned long g, cb, cur, ckpt;
    char lp[PATH_MAX + 64];
    fixture(&e);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    /* more generations, then lose every archived log up to the checkpoint */
    for (int i = 0; i < 3; i++) {
        write_recs(&e, 0, 0, 5, 7);
        ck_assert_int_eq(JetLibRollLog(e.inst, &g), 0);
    }
    ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    gens(&e, &cur, &ckpt);
    ck_assert_uint_gt(ckpt, li.ulGenHigh + 2);
    for (unsigned long x = 1; x < ckpt; x++) {
        log_path(&e, (uint32_t)x, lp, sizeof lp);
        (void)unlink(lp);
    }
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, JET_bitBackupIncremental), 0);
    ck_assert_int_eq(JetGetLogInfoInstanceA(e.inst, NULL, 0, &cb), JET_errMissingFileToBackup);
    /* not an abort (spec 2.7) */
    ck_assert(jbk_in_progress(ji(&e)));
    ck_assert_int_eq(JetEndExternalBackupInstance2(e.inst, JET_bitBackupEndAbort), 0);
    env_stop(&e);
}
END_TEST

START_TEST(truncate_keeps_uncopied_db_logs)
{
    env e;
    JET_LOGINFO_A li;
    unsigned long cb;
    char szz[4096], lp[PATH_MAX + 64];
    env_start(&e, false);
    env_add_db(&e);
    env_add_db(&e);
    write_recs(&e, 0, 0, 20, 1);
    write_recs(&e, 1, 0, 20, 1);
    unsigned long g;
    ck_assert_int_eq(JetLibRollLog(e.inst, &g), 0);
    ck_assert_int_eq(JetLibCheckpoint(e.inst), 0);
    ck_assert_int_eq(JetBeginExternalBackupInstance(e.inst, 0), 0);
    ck_assert_int_eq(copy_file(&e, e.db[0], BUFPAGES * CBP, NULL, NULL, NULL), 0);
    read_all_logs(&e, &li);
    /* db1 was never fully backed up and is not copied: nothing may go */
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(e.inst, szz, sizeof szz, &cb), 0);
    ck_assert_uint_eq(cb, 1);
    ck_assert_int_eq(szz[0], '\0');
    ck_assert_int_eq(JetTruncateLogInstance(e.inst), 0);
    for (unsigned long x = 1; x <= li.ulGenHigh; x++) {
        log_path(&e, (uint32_t)x, lp, sizeof lp);
        ck_assert_msg(exists(lp), "gen %lu deleted", x);
    }
    ck_assert_int_eq(JetEndExternalBackupInstance(e.inst), 0);
    env_stop(&e);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("backup");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, no_backup_cells);
    tcase_add_test(tc, begin_rules);
    tcase_add_test(tc, circular_incremental);
    tcase_add_test(tc, circular_pins_logs);
    tcase_add_test(tc, db_phase_cells);
    tcase_add_test(tc, attach_info);
    tcase_add_test(tc, log_phase_cells);
    tcase_add_test(tc, incremental_cells);
    tcase_add_test(tc, after_stop_cells);
    tcase_add_test(tc, end_grbits);
    tcase_add_test(tc, buffer_rules);
    tcase_add_test(tc, stream_layout);
    tcase_add_test(tc, trailer_with_room);
    tcase_add_test(tc, log_lists);
    tcase_add_test(tc, truncate_range);
    tcase_add_test(tc, truncate_refused);
    tcase_add_test(tc, history_slots);
    tcase_add_test(tc, incremental_lists);
    tcase_add_test(tc, corrupt_db_page);
    tcase_add_test(tc, corrupt_log);
    tcase_add_test(tc, term_ends_backup);
    tcase_add_test(tc, incremental_gap);
    tcase_add_test(tc, truncate_keeps_uncopied_db_logs);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(suite)
