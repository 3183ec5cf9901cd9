/*
 * win_backup.c -- the Windows backend test program (cross-built, run under
 * Wine by tests/win_backends.sh).  Drives one backend table through a
 * whole backup like a copy tool and writes the copy as an esebackupfs
 * directory (backup_label, databases, logs/, both manifests, through
 * bkformat), then makes the truncate/end decision of the policy:
 *   never     End(Normal), no truncation;
 *   complete  TruncateLogs after every file was copied, End(Normal|TruncateDone);
 *   commit    the copy tool confirms its copy (here: the program itself,
 *             after the files and manifests are written), then as complete;
 *             the engine sees the same calls as for complete.
 * A failing read ends the backup with End(Abort) and truncates nothing.
 *
 * usage: win_backup esent|dsbackup|certsrv OUTDIR POLICY [PAGESIZE]
 *        (esent: LOGDIR and the databases come from the environment
 *         ESEFS_LOGDIR and ESEFS_DB; the stand-in engines ignore them)
 * Exit status: 0 copied, 1 failure (one line on stderr), 2 usage.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bkclient.h"
#include "bkformat.h"

#define CHUNK (1024ul * 1024ul)
#define MAXF 64

typedef struct copied {
    char name[260];
    bool is_log;
    uint64_t size;
    unsigned char sha[32];
} copied;

static const char *base_of(const char *p)
{
    const char *b = p;

    for (; *p; p++)
        if (*p == '\\' || *p == '/')
            b = p + 1;
    return b;
}

/* Write n bytes of s to DIR/rel; 0 or -1. */
static int put_file(const char *dir, const char *rel, const char *s, size_t n)
{
    char path[1024];
    FILE *f;
    int rc;

    snprintf(path, sizeof path, "%s/%s", dir, rel);
    f = fopen(path, "wb");
    if (!f)
        return -1;
    rc = fwrite(s, 1, n, f) == n ? 0 : -1;
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/* Copy one stream of src into DIR[/logs]/base(name). */
static JET_ERR copy_one(const bkc_source *src, const char *name, const char *dir, bool is_log,
                        void *buf, copied *c)
{
    char path[1024];
    JET_HANDLE h = 0;
    uint64_t size = 0, got = 0;
    unsigned long n;
    bkf_sha256 *sha = NULL;
    FILE *f = NULL;
    JET_ERR rc;

    snprintf(c->name, sizeof c->name, "%s", base_of(name));
    c->is_log = is_log;
    snprintf(path, sizeof path, "%s/%s%s", dir, is_log ? "logs/" : "", c->name);
    rc = src->ops->open(src->ctx, name, &h, &size);
    if (rc < 0)
        return rc;
    f = fopen(path, "wb");
    sha = bkf_sha256_new();
    if (!f || !sha) {
        fprintf(stderr, "win_backup: %s: cannot write\n", path);
        rc = JET_errDiskIO;
        goto out;
    }
    while (got < size) {
        n = 0;
        rc = src->ops->read(src->ctx, h, buf, CHUNK, &n);
        if (rc < 0)
            goto out;
        if (n == 0)
            break;
        if (fwrite(buf, 1, n, f) != n || bkf_sha256_update(sha, buf, n) < 0) {
            rc = JET_errDiskIO;
            goto out;
        }
        got += n;
    }
    if (got != size) {
        fprintf(stderr, "win_backup: %s: stream ended at %llu of %llu bytes\n", name,
                (unsigned long long)got, (unsigned long long)size);
        rc = JET_errDiskIO;
        goto out;
    }
    c->size = got;
    rc = bkf_sha256_final(sha, c->sha) < 0 ? JET_errDiskIO : 0;
    sha = NULL;
    if (rc >= 0)
        rc = src->ops->close(src->ctx, h);
out:
    if (sha) {
        unsigned char junk[32];
        (void)bkf_sha256_final(sha, junk);
    }
    if (f && fclose(f) != 0 && rc >= 0)
        rc = JET_errDiskIO;
    return rc;
}

/* Print the failure with the backend's detail. */
static void report(const bkc_source *src, const char *what, JET_ERR rc)
{
    const char *d = src->ops->detail ? src->ops->detail(src->ctx) : "";

    fprintf(stderr, "win_backup: %s: %s (%ld)%s%s\n", what, bkc_err_name(rc), (long)rc,
            d && *d ? ": " : "", d ? d : "");
}

/* Write the manifests and backup_label. */
static int write_meta(const char *dir, const bkc_info *info, const char *backend,
                      const char *policy, const copied *cp, size_t n, const JET_LOGINFO_A *li,
                      char **dbs, size_t ndb)
{
    bkf_mfile mf[MAXF];
    bkf_manifest m;
    bkf_fslabel l;
    unsigned char logsha[32];
    char *s = NULL, stamp[32];
    size_t len = 0, k = 0;
    bkf_sha256 *h;
    time_t now = time(NULL);
    struct tm *tm = gmtime(&now);
    int rc = -1;

    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", tm);
    memset(&m, 0, sizeof m);
    for (size_t i = 0; i < n; i++)
        if (cp[i].is_log)
            mf[k++] = (bkf_mfile){ cp[i].name, true, cp[i].size, cp[i].sha };
    m.logs = true;
    m.gen_low = li->ulGenLow;
    m.gen_high = li->ulGenHigh;
    m.files = mf;
    m.nfiles = k;
    if (bkf_manifest_text(&m, &s, &len) < 0 || put_file(dir, "logs/manifest", s, len) < 0)
        goto out;
    h = bkf_sha256_new();
    if (!h || bkf_sha256_update(h, s, len) < 0 || bkf_sha256_final(h, logsha) < 0)
        goto out;
    free(s);
    s = NULL;
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (!cp[i].is_log)
            mf[k++] = (bkf_mfile){ cp[i].name, false, cp[i].size, cp[i].sha };
    memset(&m, 0, sizeof m);
    m.start_time = stamp;
    m.backup_type = "full";
    m.files = mf;
    m.nfiles = k;
    m.logman_sha = logsha;
    if (bkf_manifest_text(&m, &s, &len) < 0 || put_file(dir, "manifest", s, len) < 0)
        goto out;
    free(s);
    s = NULL;
    memset(&l, 0, sizeof l);
    l.start_time = stamp;
    l.start_sec = (long long)now;
    l.source = backend;
    l.backend = backend;
    l.instance = info->instance;
    l.backup_type = "full";
    l.page_size = info->cb_page;
    l.base_name = info->base_name;
    l.legacy = info->legacy;
    l.truncate = policy;
    l.spool_policy = "none";
    l.databases = (const char *const *)dbs;
    l.ndb = ndb;
    l.have_gens = true;
    l.gen_low = li->ulGenLow;
    l.gen_high = li->ulGenHigh;
    if (bkf_fslabel_text(&l, &s, &len) < 0 || put_file(dir, "backup_label", s, len) < 0)
        goto out;
    rc = 0;
out:
    free(s);
    return rc;
}

int main(int argc, char **argv)
{
    static copied cp[MAXF];
    bkc_source src = { NULL, NULL };
    bkc_info info;
    JET_LOGINFO_A li;
    char err[512] = "", path[1024], *dbl = NULL, *logl = NULL, *dbs[BKF_MAX_DBS];
    const char *be, *dir, *policy;
    size_t n = 0, ndb = 0;
    unsigned long page = 0;
    bool begun = false, trunc = false;
    void *buf = NULL;
    JET_ERR rc;
    int status = 1;

    if (argc < 4 || argc > 5)
        return fprintf(stderr, "usage: win_backup esent|dsbackup|certsrv OUTDIR "
                               "never|complete|commit [PAGESIZE]\n"),
               2;
    be = argv[1];
    dir = argv[2];
    policy = argv[3];
    if (argc == 5)
        page = strtoul(argv[4], NULL, 10);
    if (strcmp(policy, "never") && strcmp(policy, "complete") && strcmp(policy, "commit"))
        return fprintf(stderr, "win_backup: unknown policy '%s'\n", policy), 2;
    if (!strcmp(be, "esent")) {
        bkc_host_params hp = { .instance = "esefs",
                               .log_path = getenv("ESEFS_LOGDIR"),
                               .system_path = getenv("ESEFS_LOGDIR"),
                               .circular = 0,
                               .legacy = -1 };
        const char *db = getenv("ESEFS_DB");
        rc = bkc_esent_open(&hp, &db, db ? 1 : 0, &src, err, sizeof err);
    } else if (!strcmp(be, "dsbackup")) {
        rc = bkc_dsbackup_open(NULL, page, &src, err, sizeof err);
    } else if (!strcmp(be, "certsrv")) {
        rc = bkc_certsrv_open(NULL, page, &src, err, sizeof err);
    } else {
        return fprintf(stderr, "win_backup: unknown backend '%s'\n", be), 2;
    }
    if (rc < 0) {
        fprintf(stderr, "win_backup: %s\n", err);
        return 1;
    }
    buf = VirtualAlloc(NULL, CHUNK, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    snprintf(path, sizeof path, "%s/logs", dir);
    if (!buf || (!CreateDirectoryA(dir, NULL) && GetLastError() != ERROR_ALREADY_EXISTS) ||
        (!CreateDirectoryA(path, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)) {
        fprintf(stderr, "win_backup: %s: cannot create the copy directory\n", dir);
        goto out;
    }
    rc = src.ops->begin(src.ctx, 0);
    if (rc < 0) {
        report(&src, "begin", rc);
        goto out;
    }
    begun = true;
    rc = bkc_get_list(&src, BKC_LIST_ATTACH, &dbl, NULL);
    if (rc < 0) {
        report(&src, "attach_info", rc);
        goto out;
    }
    for (const char *p = bkc_szz_first(dbl); p && n < MAXF; p = bkc_szz_next(p)) {
        rc = copy_one(&src, p, dir, false, buf, &cp[n]);
        if (rc < 0) {
            report(&src, p, rc);
            goto out;
        }
        if (ndb < BKF_MAX_DBS)
            dbs[ndb++] = (char *)p;
        n++;
    }
    memset(&li, 0, sizeof li);
    rc = bkc_get_list(&src, BKC_LIST_LOGS, &logl, &li);
    if (rc < 0) {
        report(&src, "log_info", rc);
        goto out;
    }
    for (const char *p = bkc_szz_first(logl); p && n < MAXF; p = bkc_szz_next(p)) {
        rc = copy_one(&src, p, dir, true, buf, &cp[n]);
        if (rc < 0) {
            report(&src, p, rc);
            goto out;
        }
        n++;
    }
    rc = src.ops->info(src.ctx, &info);
    if (rc < 0) {
        report(&src, "info", rc);
        goto out;
    }
    if (write_meta(dir, &info, src.ops->name, policy, cp, n, &li, dbs, ndb) < 0) {
        fprintf(stderr, "win_backup: %s: cannot write the label or manifests\n", dir);
        goto out;
    }
    if (strcmp(policy, "never")) {
        rc = src.ops->truncate(src.ctx);
        if (rc < 0) {
            report(&src, "truncate", rc);
            goto out;
        }
        trunc = true;
    }
    rc = src.ops->end(src.ctx, JET_bitBackupEndNormal | (trunc ? JET_bitBackupTruncateDone : 0));
    begun = false;
    if (rc < 0) {
        report(&src, "end", rc);
        goto out;
    }
    printf("copied %zu file(s), logs %lu-%lu, truncated %s\n", n, li.ulGenLow, li.ulGenHigh,
           trunc ? "yes" : "no");
    status = 0;
out:
    if (begun)
        (void)src.ops->end(src.ctx, JET_bitBackupEndAbort);
    if (buf)
        (void)VirtualFree(buf, 0, MEM_RELEASE);
    free(dbl);
    free(logl);
    rc = bkc_close(&src);
    if (rc < 0 && status == 0) {
        fprintf(stderr, "win_backup: destroy: %s (%ld)\n", bkc_err_name(rc), (long)rc);
        status = 1;
    }
    return status;
}
