/*
 * test_fs_ops.c -- Check unit tests of the esebackupfs core (fsops.h):
 * the filesystem operations are called directly, without mounting, over
 * the fault-injecting fake engine (test_fs_fake.c).
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include "harness.h"
#include "jetlib.h"
#include "fsops.h"
#include "fsx.h"
#include "plat.h"
#include "test_fs_fake.h"

#define PAGE 8192
#define MIB (1u << 20)

/* One test's world: engine, config, context, spool directory. */
typedef struct world {
    fake_engine e;
    fs_config cfg;
    fs_ctx *ctx;
    char spool[64];
} world;

/* Build a world with ndb databases of db_size bytes and nlog logs of
 * 256 KiB; policy/truncate as given.  Does not start the backup. */
static void world_init(world *w, int ndb, uint64_t db_size, int nlog, enum fs_spool_policy policy,
                       enum fs_truncate trunc)
{
    uint64_t sizes[FAKE_MAX];
    bkc_source be;

    for (int i = 0; i < ndb; i++)
        sizes[i] = db_size + (uint64_t)i * 3 * PAGE;
    fake_init(&w->e, PAGE, ndb, sizes, nlog, 256 * 1024);
    fs_conf_defaults(&w->cfg);
    snprintf(w->cfg.file, sizeof w->cfg.file, "test.ini");
    snprintf(w->cfg.endpoint, sizeof w->cfg.endpoint, "/fake");
    w->cfg.policy = policy;
    w->cfg.truncate = trunc;
    w->cfg.read_size = 256 * 1024;
    w->cfg.window = 2 * MIB;
    snprintf(w->spool, sizeof w->spool, "/tmp/fsops-spool.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(w->spool));
    snprintf(w->cfg.spool_dir, sizeof w->cfg.spool_dir, "%s", w->spool);
    fake_backend(&w->e, &be);
    ck_assert_int_eq(fs_ctx_new(&w->cfg, &be, &w->ctx), 0);
}

/* Start the backup; must succeed. */
static void world_start(world *w)
{
    char err[512];
    JET_ERR rc = fs_ctx_start(w->ctx, err, sizeof err);
    ck_assert_msg(rc == 0, "start failed: %s", err);
}

/* Free everything; the spool directory must be empty again. */
static void world_free(world *w)
{
    fs_ctx_free(w->ctx);
    ck_assert_int_eq(rmdir(w->spool), 0); /* fails if a spool file was left */
    ck_assert_msg(w->e.violations == 0, "engine rule violated: %s", w->e.violation);
}

/* Read a whole file through fs_op_read in chunks of `chunk` bytes and
 * compare with the fake contents.  Returns bytes read or -errno. */
static int64_t read_all(world *w, const char *path, int is_log, int idx, size_t chunk)
{
    fs_attr st;
    uint64_t fh = 0, off = 0;
    char *buf = malloc(chunk);
    int rc;

    ck_assert_ptr_nonnull(buf);
    rc = fs_op_getattr(w->ctx, path, &st);
    if (rc < 0)
        goto out;
    rc = fs_op_open(w->ctx, path, 0, &fh);
    if (rc < 0)
        goto out;
    for (;;) {
        rc = fs_op_read(w->ctx, fh, buf, chunk, off);
        if (rc < 0)
            goto out;
        if (rc == 0)
            break;
        ck_assert_msg((size_t)rc == chunk || off + (uint64_t)rc == (uint64_t)st.size,
                      "short read %d at %llu", rc, (unsigned long long)off);
        /* one assertion per request: Check reports every assertion to its
         * parent process through a pipe, one per byte would dominate */
        int bad = -1;
        for (int i = 0; i < rc && bad < 0; i++)
            if ((unsigned char)buf[i] != fake_byte(is_log, idx, off + (uint64_t)i))
                bad = i;
        ck_assert_msg(bad < 0, "%s: wrong byte at %llu", path, (unsigned long long)(off + bad));
        off += (uint64_t)rc;
    }
    ck_assert_uint_eq(off, (uint64_t)st.size);
    fs_op_release(w->ctx, fh);
    rc = 0;
out:
    free(buf);
    return rc < 0 ? rc : (int64_t)off;
}

/* readdir collector */
typedef struct names {
    char n[64][64];
    ino_t ino[64];
    int count;
} names;

static int collect(void *p, const char *name, const fs_attr *st)
{
    names *ns = p;
    if (ns->count < 64) {
        snprintf(ns->n[ns->count], sizeof ns->n[0], "%s", name);
        ns->ino[ns->count++] = st->ino;
    }
    return 0;
}

static int read_text_file(world *w, const char *path, char *buf, size_t cb);

/* Read every db, log and both manifests in tree order (what tar/cp do). */
static void read_everything(world *w, size_t chunk)
{
    static char man[65536];

    names ns;
    char path[128];

    for (int i = 0; i < w->e.ndb; i++) {
        snprintf(path, sizeof path, "/db%d.edb", i);
        ck_assert_int_eq(read_all(w, path, 0, i, chunk), (int64_t)w->e.db[i].size);
    }
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w->ctx, "/logs", &ns, collect), 0);
    ck_assert_int_eq(ns.count, w->e.nlog + 3);
    ck_assert_str_eq(ns.n[ns.count - 1], "manifest");
    for (int i = 0; i < w->e.nlog; i++) {
        snprintf(path, sizeof path, "/logs/edb%05X.log", 10 + i);
        ck_assert_int_eq(read_all(w, path, 1, i, chunk), (int64_t)w->e.log[i].size);
    }
    ck_assert_int_gt(read_text_file(w, "/logs/manifest", man, sizeof man), 0);
    ck_assert_int_gt(read_text_file(w, "/manifest", man, sizeof man), 0);
}

/* Read a whole text file (a manifest) into buf, NUL-terminated, in
 * 100-byte requests; its length must equal its stat size.  Bytes or
 * -errno. */
static int read_text_file(world *w, const char *path, char *buf, size_t cb)
{
    fs_attr st;
    uint64_t fh, off = 0;
    int rc = fs_op_getattr(w->ctx, path, &st);

    if (rc < 0)
        return rc;
    rc = fs_op_open(w->ctx, path, 0, &fh);
    if (rc < 0)
        return rc;
    do {
        rc = fs_op_read(w->ctx, fh, buf + off, 100 < cb - 1 - off ? 100 : cb - 1 - off, off);
        if (rc < 0)
            return rc;
        off += (uint64_t)rc;
    } while (rc > 0 && off < cb - 1);
    buf[off] = 0;
    ck_assert_uint_eq(off, (uint64_t)st.size);
    return (int)off;
}

/* Read the root manifest text into buf. */
static int read_manifest(world *w, char *buf, size_t cb)
{
    return read_text_file(w, "/manifest", buf, cb);
}

START_TEST(full_backup_truncate_complete)
{
    world w;
    char man[8192], line[200];
    unsigned char md[32];
    unsigned char *data;

    world_init(&w, 1, 3 * MIB, 3, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    world_start(&w);
    read_everything(&w, 10240); /* tar's record size: not a page multiple */
    ck_assert_int_gt(read_manifest(&w, man, sizeof man), 0);
    /* the manifest's digest of db0 equals SHA-256 of the expected bytes */
    data = malloc(w.e.db[0].size);
    for (uint64_t i = 0; i < w.e.db[0].size; i++)
        data[i] = fake_byte(0, 0, i);
    EVP_Digest(data, w.e.db[0].size, md, NULL, EVP_sha256(), NULL);
    free(data);
    for (int k = 0; k < 32; k++)
        sprintf(line + 2 * k, "%02x", md[k]);
    strcat(line, "  db0.edb\n");
    ck_assert_ptr_nonnull(strstr(man, line));
    ck_assert_ptr_nonnull(strstr(man, "# size db0.edb 00000000000003145728\n"));
    ck_assert_ptr_nonnull(strstr(man, "  logs/manifest\n"));
    ck_assert_int_gt(read_text_file(&w, "/logs/manifest", man, sizeof man), 0);
    ck_assert_ptr_nonnull(strstr(man, "# committed-at-roll 4242\n"));
    ck_assert_ptr_nonnull(strstr(man, "# log-generations 10-12\n"));
    ck_assert_ptr_nonnull(strstr(man, "  logs/edb0000C.log\n"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    ck_assert_int_eq(w.e.ntruncate, 1);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndNormal);
    ck_assert_int_eq(w.e.nend, 1);
    world_free(&w);
}
END_TEST

START_TEST(never_gives_copy_and_commit_policy)
{
    world w;
    char msg[256];

    world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    world_start(&w);
    read_everything(&w, 65536);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_COPY);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndNormal);
    world_free(&w);

    /* commit policy without commit: abort */
    world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMMIT);
    world_start(&w);
    read_everything(&w, 65536);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);

    /* commit policy with commit: truncate */
    world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMMIT);
    world_start(&w);
    read_everything(&w, 65536);
    ck_assert_int_eq(fs_commit(w.ctx, msg, sizeof msg), 0);
    ck_assert_ptr_nonnull(strstr(msg, "will truncate"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE); /* idempotent */
    ck_assert_int_eq(w.e.ntruncate, 1);
    ck_assert_int_eq(w.e.nend, 1);
    world_free(&w);

    /* commit after the decision (Abort): refused, names the decision */
    world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMMIT);
    world_start(&w);
    read_everything(&w, 65536);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(fs_commit(w.ctx, msg, sizeof msg), 1);
    ck_assert_ptr_nonnull(strstr(msg, "already decided: JetEndExternalBackupInstance2(Abort)"));
    ck_assert_ptr_null(strstr(msg, "will truncate"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    world_free(&w);
}
END_TEST

START_TEST(partial_reader_aborts)
{
    world w;
    char buf[65536], st[4096];
    uint64_t fh;

    world_init(&w, 1, 2 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    world_start(&w);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    for (uint64_t off = 0; off < MIB; off += sizeof buf)
        ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, sizeof buf, off), (int)sizeof buf);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_ptr_nonnull(strstr(st, "delivered 1048576 / 2097152"));
    ck_assert_ptr_nonnull(strstr(st, "JetEndExternalBackupInstance2(Abort)"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* Fail the Nth engine read with a chosen error: EIO for that range and
 * every later one, earlier bytes still served, never a short read. */
START_TEST(fault_nth_read)
{
    static const JET_ERR errs[] = { JET_errReadVerifyFailure, JET_errDiskIO,
                                    JET_errBackupAbortByServer };
    world w;
    char *buf = malloc(MIB), st[4096];
    uint64_t fh;
    int rc;

    world_init(&w, 1, 4 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    w.e.fail_read_n = 3;
    w.e.fail_read_err = errs[_i];
    world_start(&w);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    /* read_size is 256 KiB: reads 1 and 2 cover [0, 512K) */
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, 512 * 1024, 0), 512 * 1024);
    rc = fs_op_read(w.ctx, fh, buf, 4096, 512 * 1024);
    ck_assert_int_eq(rc, -EIO);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, MIB, 2 * MIB), -EIO);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, 8192, 0), 8192); /* produced bytes still fine */
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/logs", NULL, collect), -EIO);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, JetLibErrorName(errs[_i])) != NULL, "status: %s", st);
    ck_assert_ptr_nonnull(strstr(st, "phase: failed"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    free(buf);
    world_free(&w);
}
END_TEST

START_TEST(fault_log_read)
{
    world w;
    char path[64];

    world_init(&w, 1, 1 * MIB, 3, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    /* db = 4 reads of 256 KiB; fail the first read of the second log */
    w.e.fail_read_n = 4 + 1 + 1;
    w.e.fail_read_err = JET_errLogReadVerifyFailure;
    world_start(&w);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), (int64_t)MIB);
    ck_assert_int_eq(read_all(&w, "/logs/edb0000A.log", 1, 0, 65536), 256 * 1024);
    snprintf(path, sizeof path, "/logs/edb0000B.log");
    ck_assert_int_eq(read_all(&w, path, 1, 1, 65536), -EIO);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/manifest", &(fs_attr){ .ino = 0 }), 0); /* size known */
    ck_assert_int_eq(read_manifest(&w, (char[8192]){ 0 }, 8192), -EIO);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    world_free(&w);
}
END_TEST

START_TEST(begin_failure_names_error)
{
    world w;
    char err[512];

    world_init(&w, 1, 1 * MIB, 1, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    w.e.fail_begin = JET_errBackupInProgress;
    ck_assert_int_eq(fs_ctx_start(w.ctx, err, sizeof err), JET_errBackupInProgress);
    ck_assert_msg(strstr(err, "JET_errBackupInProgress") != NULL, "message: %s", err);
    ck_assert_int_eq(w.e.nend, 0);
    world_free(&w);

    /* a failure after Begin ends the backup with Abort */
    world_init(&w, 1, 1 * MIB, 1, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    w.e.fail_open_err = JET_errFileAccessDenied;
    snprintf(w.e.fail_open_path, sizeof w.e.fail_open_path, "%s", w.e.db[0].path);
    ck_assert_int_eq(fs_ctx_start(w.ctx, err, sizeof err), JET_errFileAccessDenied);
    ck_assert_msg(strstr(err, "JET_errFileAccessDenied") != NULL, "message: %s", err);
    ck_assert_int_eq(w.e.nend, 1);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);

    /* read_size not a page multiple of the instance */
    world_init(&w, 1, 1 * MIB, 1, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    w.cfg.read_size = 0; /* ignored: the ctx copied cfg already */
    w.e.cb_page = 32768 * 3;
    ck_assert_int_lt(fs_ctx_start(w.ctx, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "read_size"));
    ck_assert_int_eq(w.e.nbegin, 0);
    world_free(&w);
}
END_TEST

/* rsync/restic list logs/ first: it blocks, the driver pulls the db into
 * the spool itself, and the later db read is served from the spool. */
START_TEST(logs_listing_blocks_and_self_pulls)
{
    static const enum fs_spool_policy pol[] = { FS_SPOOL_KEEP, FS_SPOOL_STREAM };
    world w;
    names ns;
    fs_attr st;

    world_init(&w, 2, 1 * MIB, 2, pol[_i], FS_TRUNC_COMPLETE);
    world_start(&w);
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/logs", &ns, collect), 0);
    ck_assert_int_eq(ns.count, 5);
    ck_assert_str_eq(ns.n[2], "edb0000A.log");
    ck_assert_str_eq(ns.n[4], "manifest");
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/logs/edb0000B.log", &st), 0);
    ck_assert_int_eq(st.size, 256 * 1024);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/logs/edb0000C.log", &st), -ENOENT);
    /* both databases were pulled into the spool (nobody read them), and
     * the first log too: the stat of the second log needs its open */
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), w.e.db[0].size + w.e.db[1].size + 256 * 1024);
    read_everything(&w, 131072);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

/* The stream policy: in-order readers (tar, cp, borg) cause no spool
 * writes at all; a re-read of dropped bytes gets EIO. */
START_TEST(stream_in_order_no_spool)
{
    world w;
    char buf[65536];
    uint64_t fh;

    world_init(&w, 1, 6 * MIB, 3, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    world_start(&w);
    read_everything(&w, 10240);
    ck_assert_int_gt(read_manifest(&w, (char[8192]){ 0 }, 8192), 0);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, sizeof buf, 0), -EIO);
    /* that EIO failed the backup (issue 7 item 8): no truncation */
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    world_free(&w);
}
END_TEST

/* keep: in-order readers are served from the window while the hasher
 * writes the spool beside them; a re-read after the window has moved on
 * (6 MiB read through a 2 MiB window) comes from the spool and returns
 * the same bytes, from the start, the middle and across the window's
 * last position; the backup still completes and truncates. */
START_TEST(keep_reread_after_window_moved)
{
    world w;

    world_init(&w, 1, 6 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    world_start(&w);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 131072), 6 * MIB);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 131072), 6 * MIB);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 1000 * 1000), 6 * MIB);
    read_everything(&w, 65536);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), 6 * MIB);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 6 * MIB + 2 * 256 * 1024);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

START_TEST(spool_cap_fails_backup)
{
    world w;
    char st[4096];

    world_init(&w, 1, 4 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    fs_ctx_free(w.ctx);
    w.cfg.spool_cap = MIB;
    {
        bkc_source be;
        fake_backend(&w.e, &be);
        ck_assert_int_eq(fs_ctx_new(&w.cfg, &be, &w.ctx), 0);
    }
    world_start(&w);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), -EIO);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_ptr_nonnull(strstr(st, "spool full"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* Concurrent, out-of-order, repeated readers get the same bytes. */
typedef struct reader_arg {
    world *w;
    int seed;
    int errors;
} reader_arg;

static void *random_reader(void *p)
{
    reader_arg *a = p;
    uint64_t size = a->w->e.db[0].size, fh;
    unsigned s = (unsigned)a->seed;
    char *buf = malloc(200000);

    if (fs_op_open(a->w->ctx, "/db0.edb", 0, &fh) < 0)
        a->errors++;
    for (int k = 0; k < 60; k++) {
        uint64_t off = (uint64_t)(rand_r(&s) % (int)size);
        size_t len = (size_t)(rand_r(&s) % 200000) + 1;
        int rc = fs_op_read(a->w->ctx, fh, buf, len, off);
        size_t want = off + len > size ? (size_t)(size - off) : len;
        if (rc != (int)want) {
            a->errors++;
            continue;
        }
        for (int i = 0; i < rc; i++)
            if ((unsigned char)buf[i] != fake_byte(0, 0, off + (uint64_t)i)) {
                a->errors++;
                break;
            }
    }
    free(buf);
    return NULL;
}

START_TEST(concurrent_random_readers)
{
    world w;
    pthread_t t[8];
    reader_arg a[8];

    world_init(&w, 1, 3 * MIB, 1, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    world_start(&w);
    for (int i = 0; i < 8; i++) {
        a[i].w = &w;
        a[i].seed = i + 1;
        a[i].errors = 0;
        ck_assert_int_eq(pthread_create(&t[i], NULL, random_reader, &a[i]), 0);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        ck_assert_int_eq(a[i].errors, 0);
    }
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT); /* logs never read */
    world_free(&w);
}
END_TEST

/* D1/D2: frozen attributes, orders, blocking stat of a db whose size is
 * not known yet (second database). */
START_TEST(tree_attributes_and_order)
{
    world w;
    names ns;
    fs_attr st, st2, root;

    world_init(&w, 2, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    world_start(&w);
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/", &ns, collect), 0);
    ck_assert_int_eq(ns.count, 7);
    ck_assert_str_eq(ns.n[2], "backup_label");
    ck_assert_str_eq(ns.n[3], "db0.edb");
    ck_assert_str_eq(ns.n[4], "db1.edb");
    ck_assert_str_eq(ns.n[5], "logs");
    ck_assert_str_eq(ns.n[6], "manifest");
    for (int i = 3; i < 7; i++) {
        ck_assert_uint_gt(ns.ino[i], ns.ino[i - 1]);       /* inode order = readdir order */
        ck_assert_int_lt(strcmp(ns.n[i - 1], ns.n[i]), 0); /* = name order */
    }
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/", &root), 0);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/db0.edb", &st), 0);
    ck_assert_int_eq(st.size, MIB);
    ck_assert_int_eq(st.blocks, MIB / 512);
    ck_assert_int_eq(st.blksize, MIB);
    ck_assert(!st.is_dir);
    ck_assert_int_eq(st.mode, 0444);
    ck_assert_int_eq(st.time.sec, root.time.sec);
    ck_assert_int_eq(st.time.nsec, root.time.nsec);
    /* db1's size is known only after db0 was pulled: stat blocks and pulls */
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/db1.edb", &st2), 0);
    ck_assert_int_eq(st2.size, MIB + 3 * PAGE);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), MIB);
    ck_assert_uint_gt(st2.ino, st.ino);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/nope", &st), -ENOENT);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/db0.edb/x", &st), -ENOTDIR);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/logs", &st), 0);
    ck_assert(st.is_dir);
    ck_assert_int_eq(st.mode, 0555);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/manifest", &st), 0);
    ck_assert_uint_eq(st.ino, 0x7FFFFFFFu);
    ck_assert_int_eq(st.time.nsec, root.time.nsec);
    /* attributes never change */
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/db0.edb", &st2), 0);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/db0.edb", &st), 0);
    ck_assert_mem_eq(&st, &st2, sizeof st);
    world_free(&w);
}
END_TEST

START_TEST(read_only_everywhere)
{
    world w;
    uint64_t fh;
    char buf[4096];
    char v[16];

    world_init(&w, 1, 1 * MIB, 1, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    world_start(&w);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", FS_OPEN_WRITE, &fh), -EROFS);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", FS_OPEN_WRITE, &fh), -EROFS);
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", FS_OPEN_TRUNC, &fh), -EROFS);
    ck_assert_int_eq(fs_op_open(w.ctx, "/logs", 0, &fh), -EISDIR);
    ck_assert_int_eq(fs_op_rofs(), -EROFS);
    ck_assert_int_eq(fs_op_listxattr(w.ctx, "/db0.edb", buf, sizeof buf), 0);
    ck_assert_int_eq(fs_op_getxattr(w.ctx, "/db0.edb", "system.posix_acl_access", v, sizeof v),
                     -ENODATA);
    ck_assert_int_eq(fs_op_ioctl(w.ctx, "/db0.edb", 0x80086601u), -ENOTTY);
    ck_assert_int_eq(fs_op_open(w.ctx, "/backup_label", 0, &fh), 0);
    ck_assert_int_gt(fs_op_read(w.ctx, fh, buf, sizeof buf - 1, 0), 0);
    ck_assert_ptr_nonnull(strstr(buf, "database: /srv/inst/db0.edb"));
    ck_assert_ptr_nonnull(strstr(buf, "page-size: 8192"));
    world_free(&w);
}
END_TEST

START_TEST(incremental_logs_only)
{
    world w;
    names ns;

    world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    w.e.ndb = 1;
    fs_ctx_free(w.ctx);
    w.cfg.type = FS_BACKUP_INCREMENTAL;
    {
        bkc_source be;
        fake_backend(&w.e, &be);
        ck_assert_int_eq(fs_ctx_new(&w.cfg, &be, &w.ctx), 0);
    }
    world_start(&w);
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/", &ns, collect), 0);
    ck_assert_int_eq(ns.count, 5); /* . .. label logs manifest */
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/logs", &(names){ 0 }, collect), 0);
    for (int i = 0; i < 2; i++) {
        char p[64];
        snprintf(p, sizeof p, "/logs/edb%05X.log", 10 + i);
        ck_assert_int_eq(read_all(&w, p, 1, i, 4096), 256 * 1024);
    }
    ck_assert_int_gt(read_text_file(&w, "/logs/manifest", (char[8192]){ 0 }, 8192), 0);
    ck_assert_int_gt(read_manifest(&w, (char[8192]){ 0 }, 8192), 0);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

/* A readdir of logs/ in its own thread (it blocks on the self-pull). */
typedef struct lister {
    world *w;
    int rc;
} lister;

static void *list_logs(void *p)
{
    lister *l = p;
    names ns;

    memset(&ns, 0, sizeof ns);
    l->rc = fs_op_readdir(l->w->ctx, "/logs", &ns, collect);
    return NULL;
}

/* A signal (fs_ctx_interrupt) while a readdir of logs/ waits for a stalled
 * engine read: the waiter gets EIO at once, the engine is not waited for,
 * and umount aborts (nothing was delivered). */
START_TEST(interrupt_fails_waiters)
{
    world w;
    lister l;
    pthread_t th;
    char st[4096];

    world_init(&w, 1, 2 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    w.e.stall_read_n = 2;
    world_start(&w);
    l.w = &w;
    l.rc = 1;
    ck_assert_int_eq(pthread_create(&th, NULL, list_logs, &l), 0);
    fake_wait_stalled(&w.e);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_msg(strstr(st, "waiting requests: 1\n") != NULL, "status: %s", st);
    fs_ctx_interrupt(w.ctx, 15);
    ck_assert_int_eq(pthread_join(th, NULL), 0); /* returns with the engine still stalled */
    ck_assert_int_eq(l.rc, -EIO);
    /* STOPPING, then the EIO answered to the lister failed the backup */
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_FAILED);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/logs/edb0000A.log", &(fs_attr){ .ino = 0 }), -EIO);
    fake_release(&w.e);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    ck_assert_int_eq(w.e.ntruncate, 0);
    world_free(&w);
}
END_TEST

/* Issue 7 item 5: "complete" needs every byte of both manifests too.  A
 * tool that copied every database and log byte but died before (or
 * inside) the manifest -> End(Abort), nothing truncated. */
START_TEST(complete_needs_manifests)
{
    world w;
    names ns;
    char man[65536], path[64], st[8192];
    fs_attr sb;
    uint64_t fh;

    for (int variant = 0; variant < 3; variant++) {
        world_init(&w, 1, 1 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
        world_start(&w);
        ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), (int64_t)MIB);
        memset(&ns, 0, sizeof ns);
        ck_assert_int_eq(fs_op_readdir(w.ctx, "/logs", &ns, collect), 0);
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "/logs/edb%05X.log", 10 + i);
            ck_assert_int_eq(read_all(&w, path, 1, i, 65536), 256 * 1024);
        }
        if (variant >= 1) /* logs/manifest whole */
            ck_assert_int_gt(read_text_file(&w, "/logs/manifest", man, sizeof man), 0);
        if (variant == 2) { /* the root manifest but its last byte */
            ck_assert_int_eq(fs_op_getattr(w.ctx, "/manifest", &sb), 0);
            ck_assert_int_eq(fs_op_open(w.ctx, "/manifest", 0, &fh), 0);
            ck_assert_int_eq(fs_op_read(w.ctx, fh, man, (size_t)sb.size - 1, 0), (int)sb.size - 1);
        }
        ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
        ck_assert_msg(strstr(st, "JetEndExternalBackupInstance2(Abort)") != NULL, "status: %s", st);
        ck_assert_ptr_nonnull(strstr(st, "file manifest: delivered"));
        ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
        ck_assert_int_eq(w.e.ntruncate, 0);
        ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
        world_free(&w);
    }
}
END_TEST

/* Issue 7 item 8: every EIO answered to a reader fails the backup, in
 * every policy: status exits 1 naming it, umount aborts even after every
 * byte was delivered (rsync -c's second pass under stream). */
START_TEST(reader_eio_fails_backup)
{
    world w;
    char buf[65536], st[8192], msg[512];
    uint64_t fh;

    world_init(&w, 1, 2 * MIB, 2, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    world_start(&w);
    read_everything(&w, 262144); /* rsync's first pass: all delivered */
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_ptr_nonnull(strstr(st, "JetTruncateLogInstance"));
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, sizeof buf, 0), -EIO); /* second pass */
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, "phase: failed") && strstr(st, "re-read of bytes 0-65536") &&
                      strstr(st, "JetEndExternalBackupInstance2(Abort)"),
                  "status: %s", st);
    ck_assert_int_eq(fs_commit(w.ctx, msg, sizeof msg), 1);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.ntruncate, 0);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);

    /* keep policy, truncate = never: an EIO (engine error) still aborts,
     * no copy backup is recorded */
    world_init(&w, 1, 2 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_NEVER);
    w.e.fail_read_n = 9; /* 8 reads of 256 KiB = db0, the 9th = first log */
    w.e.fail_read_err = JET_errLogReadVerifyFailure;
    world_start(&w);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), (int64_t)2 * MIB);
    ck_assert_int_eq(read_all(&w, "/logs/edb0000A.log", 1, 0, 65536), -EIO);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_ptr_nonnull(strstr(st, "JET_errLogReadVerifyFailure"));
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    ck_assert_int_eq(w.e.end_grbit, JET_bitBackupEndAbort);
    world_free(&w);
}
END_TEST

/* Issue 7 item 8: the smallest window the INI accepts (1 MiB) with the
 * default read_size (1 MiB) serves in-order readers of every request size
 * up to the largest FUSE request (cp's 128 KiB, dd bs=1M, tar's 10 KiB)
 * without EIO and without spooling. */
START_TEST(stream_min_window_in_order)
{
    static const size_t chunks[] = { 131072, MIB, 10240 };
    world w;

    world_init(&w, 1, 6 * MIB, 2, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    fs_ctx_free(w.ctx);
    w.cfg.window = MIB;
    w.cfg.read_size = MIB;
    {
        bkc_source be;
        fake_backend(&w.e, &be);
        ck_assert_int_eq(fs_ctx_new(&w.cfg, &be, &w.ctx), 0);
    }
    world_start(&w);
    read_everything(&w, chunks[_i]);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

/* Issue 7 item 9: stat of every entry of the root (ls -l) answers at once
 * and pulls nothing, under stream with a small cap, while the engine is
 * stalled: the manifest's size is known at mount.  (On a driver that
 * waits, this test blocks in the stalled engine and Check's timeout fails
 * it.)  The sizes stat gave are the sizes read later. */
START_TEST(stat_root_pulls_nothing)
{
    world w;
    names ns;
    fs_attr sb[8], lsb;
    char path[300], st[8192];
    static char man[65536];

    world_init(&w, 1, 4 * MIB, 2, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    fs_ctx_free(w.ctx);
    w.cfg.spool_cap = MIB;
    {
        bkc_source be;
        fake_backend(&w.e, &be);
        ck_assert_int_eq(fs_ctx_new(&w.cfg, &be, &w.ctx), 0);
    }
    w.e.stall_read_n = 1; /* the engine answers no read until released */
    world_start(&w);
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/", &ns, collect), 0);
    ck_assert_int_eq(ns.count, 6);
    for (int i = 0; i < ns.count; i++) {
        snprintf(path, sizeof path, "/%s", i < 2 ? "" : ns.n[i]);
        ck_assert_int_eq(fs_op_getattr(w.ctx, path, &sb[i]), 0);
    }
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 0);
    ck_assert_msg(strstr(st, "waiting requests: 0\n") != NULL, "status: %s", st);
    ck_assert_int_gt(sb[5].size, 0);
    fake_release(&w.e);
    read_everything(&w, 131072);
    ck_assert_int_eq(read_manifest(&w, man, sizeof man), (int)sb[5].size);
    ck_assert_int_eq(fs_op_getattr(w.ctx, "/logs/manifest", &lsb), 0);
    ck_assert_int_eq(read_text_file(&w, "/logs/manifest", man, sizeof man), (int)lsb.size);
    ck_assert_uint_eq(fs_spool_bytes(w.ctx), 0);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    world_free(&w);
}
END_TEST

/* A stream request the window cannot hold whole (larger than any FUSE
 * request: only a direct caller can make one) gets EIO for the whole
 * request and fails the backup: never a short read. */
START_TEST(stream_request_larger_than_window)
{
    world w;
    char *buf = malloc(8 * MIB), st[8192];
    uint64_t fh;

    ck_assert_ptr_nonnull(buf);
    world_init(&w, 1, 8 * MIB, 1, FS_SPOOL_STREAM, FS_TRUNC_COMPLETE);
    world_start(&w); /* window 2 MiB (>= 1 MiB + 2 x 256 KiB read_size: not raised) */
    ck_assert_int_eq(fs_op_open(w.ctx, "/db0.edb", 0, &fh), 0);
    ck_assert_int_eq(fs_op_read(w.ctx, fh, buf, 8 * MIB, 0), -EIO);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    ck_assert_msg(strstr(st, "does not fit the [spool] window") != NULL, "status: %s", st);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    free(buf);
    world_free(&w);
}
END_TEST

/* The state machine (fsops.h STATES) through a whole backup: NEW, then
 * DATABASES after the start (nothing pulled yet without a reader), LOGS
 * once logs/ was listed, COMPLETE when everything was read, ENDED after
 * the decision; ENDED is final (a late signal changes nothing). */
START_TEST(state_walk)
{
    world w;
    names ns;
    fs_error e;

    world_init(&w, 1, MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    ck_assert_int_eq(fs_ctx_state(w.ctx, &e), FS_ST_NEW);
    ck_assert_int_eq(e.kind, FS_ERR_NONE);
    world_start(&w);
    ck_assert_str_eq(fs_state_name(fs_ctx_state(w.ctx, NULL)), "DATABASES");
    memset(&ns, 0, sizeof ns);
    ck_assert_int_eq(fs_op_readdir(w.ctx, "/logs", &ns, collect), 0);
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_LOGS);
    read_everything(&w, 65536);
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_COMPLETE);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_TRUNCATE);
    ck_assert_int_eq(fs_ctx_state(w.ctx, &e), FS_ST_ENDED);
    ck_assert_int_eq(e.kind, FS_ERR_NONE);
    fs_ctx_interrupt(w.ctx, 15);
    ck_assert_int_eq(fs_ctx_state(w.ctx, NULL), FS_ST_ENDED);
    world_free(&w);
}
END_TEST

/* Jet errors and errno values are kept apart: an engine read failing with
 * JET_wrnNyi (-1, the value of -EPERM) is reported as that Jet error, and
 * a full spool as errno ENOSPC (not a Jet error), each named so by status
 * (error-code line) and by fs_ctx_state. */
START_TEST(error_kinds_apart)
{
    world w;
    char st[4096], want[128];
    fs_error e;

    world_init(&w, 1, 4 * MIB, 2, FS_SPOOL_KEEP, FS_TRUNC_COMPLETE);
    if (_i == 0) {
        w.e.fail_read_n = 1;
        w.e.fail_read_err = JET_wrnNyi;
    } else {
        bkc_source be;
        fs_ctx_free(w.ctx);
        w.cfg.spool_cap = MIB;
        fake_backend(&w.e, &be);
        ck_assert_int_eq(fs_ctx_new(&w.cfg, &be, &w.ctx), 0);
    }
    world_start(&w);
    ck_assert_int_eq(read_all(&w, "/db0.edb", 0, 0, 65536), -EIO);
    ck_assert_int_eq(fs_ctx_state(w.ctx, &e), FS_ST_FAILED);
    ck_assert_int_eq(fs_status(w.ctx, st, sizeof st), 1);
    if (_i == 0) {
        ck_assert_int_eq(e.kind, FS_ERR_JET);
        ck_assert_int_eq(e.code, JET_wrnNyi);
        snprintf(want, sizeof want, "\nerror-code: %s (-1)\n", JetLibErrorName(JET_wrnNyi));
    } else {
        ck_assert_int_eq(e.kind, FS_ERR_ERRNO);
        ck_assert_int_eq(e.code, ENOSPC);
        snprintf(want, sizeof want, "\nerror-code: errno %d (%s)\n", ENOSPC, strerror(ENOSPC));
    }
    ck_assert_msg(strstr(st, want) != NULL, "status lacks '%s': %s", want + 1, st);
    ck_assert_int_eq(fs_ctx_finish(w.ctx), FS_DECIDE_ABORT);
    world_free(&w);
}
END_TEST

static Suite *fsops_suite(void)
{
    Suite *s = suite_create("fsops");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, full_backup_truncate_complete);
    tcase_add_test(tc, never_gives_copy_and_commit_policy);
    tcase_add_test(tc, partial_reader_aborts);
    tcase_add_loop_test(tc, fault_nth_read, 0, 3);
    tcase_add_test(tc, fault_log_read);
    tcase_add_test(tc, begin_failure_names_error);
    tcase_add_loop_test(tc, logs_listing_blocks_and_self_pulls, 0, 2);
    tcase_add_test(tc, stream_in_order_no_spool);
    tcase_add_test(tc, keep_reread_after_window_moved);
    tcase_add_test(tc, spool_cap_fails_backup);
    tcase_add_test(tc, concurrent_random_readers);
    tcase_add_test(tc, tree_attributes_and_order);
    tcase_add_test(tc, read_only_everywhere);
    tcase_add_test(tc, incremental_logs_only);
    tcase_add_test(tc, interrupt_fails_waiters);
    tcase_add_test(tc, complete_needs_manifests);
    tcase_add_test(tc, reader_eio_fails_backup);
    tcase_add_loop_test(tc, stream_min_window_in_order, 0, 3);
    tcase_add_test(tc, stat_root_pulls_nothing);
    tcase_add_test(tc, stream_request_larger_than_window);
    tcase_add_test(tc, state_walk);
    tcase_add_loop_test(tc, error_kinds_apart, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

/* Process-wide setup before the suite runs. */
static void th_setup(void)
{
    fsx_log_setup("test_fs_ops", 0, 1);
}

TH_MAIN_SETUP(fsops_suite, th_setup)
