/*
 * check.c -- `esebackupfs check CONFIG [MOUNTPOINT]`: the preflight that
 * begins nothing (fsx.h).  One line per check, "ok", "FAIL" or "skip" in
 * the first 8 columns, then what was checked and the finding:
 *
 *   configuration  the INI file, with the mount's parser and rules
 *   endpoint       connected and this uid accepted (JepConnect: the
 *   / instance     server's SO_PEERCRED rules); in-process: the paths,
 *                  and no other process holds the instance (/proc/locks)
 *   begin          the Jet error a Begin of the configured type would
 *                  get now (bkc_ops.check_begin: JetLibCheckBackup on
 *                  the engine, no backup begun; in-process from the files)
 *   spool          the directory as mount checks it, with room for the
 *                  policy and the database size
 *   control        the control directory (status/commit socket, claim)
 *                  is trusted, or does not exist yet
 *   mount point    an empty directory, not a mount (when given)
 *
 * Exit status 0 only when every line is "ok".  Single-threaded.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bkclient.h"
#include "conf.h"
#include "control.h"
#include "fsx.h"

/* The state of one check run. */
typedef struct chk_run {
    fs_config cfg;
    bool config_ok; /* the configuration parsed */
    bool source_ok; /* the source line was ok */
    bool failed;    /* some line said FAIL */
    bool dbs_known; /* dbs holds the databases' size */
    uint64_t dbs;   /* bytes a full backup streams (or the files' sizes) */
    bkc_source src; /* the endpoint connection, while checking */
} chk_run;

/* Print one result line: "ok", "FAIL" or "skip", then fmt.  FAIL marks
 * the run failed.  No errors. */
static void chk_line(chk_run *r, const char *word, const char *fmt, ...) FS_PRINTF(3, 4);
static void chk_line(chk_run *r, const char *word, const char *fmt, ...)
{
    va_list ap;

    if (!strcmp(word, "FAIL"))
        r->failed = true;
    printf("%-8s", word);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* Bytes for people: "512 B", "1.2 KiB" ... "3.4 TiB" into buf.  Returns
 * buf.  No errors. */
static const char *human(uint64_t v, char *buf, size_t cb)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    double d = (double)v;
    int u = 0;

    while (d >= 1024.0 && u < 4) {
        d /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, cb, "%" PRIu64 " B", v);
    else
        snprintf(buf, cb, "%.1f %s", d, unit[u]);
    return buf;
}

/* What an error of a Begin means to an administrator ("" if nothing to
 * add).  Pure. */
static const char *begin_why(JET_ERR rc)
{
    switch (rc) {
    case JET_errBackupInProgress:
        return ": a backup is in progress on the instance";
    case JET_errMissingFullBackup:
        return ": no full backup before this incremental one";
    case JET_errInvalidBackup:
        return ": circular logging is on, an incremental backup is impossible";
    case JET_errLoggingDisabled:
        return ": the instance runs without recovery logging";
    case JET_errBackupNotAllowedYet:
        return ": the instance is not initialised yet or terminating";
    default:
        return "";
    }
}

/* The configuration line.  Sets r->config_ok. */
static void check_config(chk_run *r, const char *config)
{
    char err[4096], real[PATH_MAX];

    if (fsx_conf_load(config, &r->cfg, err, sizeof err) < 0) {
        chk_line(r, "FAIL", "configuration %s", err);
        return;
    }
    r->config_ok = true;
    chk_line(r, "ok", "configuration %s", realpath(config, real) ? real : config);
}

/* The endpoint line: connect (the server's credential rules) and keep the
 * connection for the begin line in r->src.  Sets r->source_ok. */
static void check_endpoint(chk_run *r)
{
    char err[1024];
    bkc_info info;
    JET_ERR rc = bkc_ep_open(r->cfg.endpoint, &r->src, err, sizeof err);

    if (rc == JET_errAccessDenied) {
        chk_line(r, "FAIL", "endpoint %s: %s (%ld): uid %ld refused by the host", r->cfg.endpoint,
                 bkc_err_name(rc), (long)rc, (long)geteuid());
        return;
    }
    if (rc < 0) {
        chk_line(r, "FAIL", "endpoint %s: %s (%ld): not reachable", r->cfg.endpoint,
                 bkc_err_name(rc), (long)rc);
        return;
    }
    memset(&info, 0, sizeof info);
    rc = r->src.ops->info(r->src.ctx, &info);
    if (rc < 0) {
        chk_line(r, "FAIL", "endpoint %s: %s (%ld)", r->cfg.endpoint, bkc_err_name(rc), (long)rc);
        return;
    }
    r->source_ok = true;
    chk_line(r, "ok", "endpoint %s: uid %ld accepted, instance \"%s\"", r->cfg.endpoint,
             (long)geteuid(), info.instance);
}

/* The in-process source line: the paths (as mount checks them) and no
 * other process holding the instance.  Sets r->source_ok and, from the
 * files, r->dbs. */
static void check_instance(chk_run *r)
{
    const char *dbs[FS_CONF_MAX_DBS];
    char err[4096];
    bkc_host_params p;
    size_t n = fs_source_params(&r->cfg, &p, dbs);
    JET_ERR rc;

    if (fsx_source_precheck(&r->cfg, err, sizeof err) < 0) {
        chk_line(r, "FAIL", "instance %s", err);
        return;
    }
    rc = bkc_jet_precheck(&p, dbs, n, 0, &r->dbs, err, sizeof err);
    r->dbs_known = true;
    if (rc < 0) {
        chk_line(r, "FAIL", "instance %s: %s (%ld): %s", r->cfg.system_path, bkc_err_name(rc),
                 (long)rc, err);
        return;
    }
    r->source_ok = true;
    if (rc > 0)
        chk_line(r, "skip", "instance %s: %s", r->cfg.system_path, err);
    else
        chk_line(r, "ok", "instance %s: %d database(s), not held by another process",
                 r->cfg.system_path, r->cfg.ndatabases);
}

/* The begin line: the Jet error a Begin of the configured type would get
 * now, nothing begun. */
static void check_begin(chk_run *r)
{
    JET_GRBIT grbit = r->cfg.type == FS_BACKUP_INCREMENTAL ? JET_bitBackupIncremental : 0;
    const char *type = fs_conf_type_name(r->cfg.type);
    char err[4096], h[32];
    JET_ERR rc;

    if (!r->source_ok) {
        chk_line(r, "skip", "begin %s backup: the source is not usable", type);
        return;
    }
    if (!r->cfg.endpoint[0]) {
        const char *dbs[FS_CONF_MAX_DBS];
        bkc_host_params p;
        size_t n = fs_source_params(&r->cfg, &p, dbs);
        rc = bkc_jet_precheck(&p, dbs, n, grbit, &r->dbs, err, sizeof err);
        if (rc < 0)
            chk_line(r, "FAIL", "begin %s backup: %s (%ld): %s", type, bkc_err_name(rc), (long)rc,
                     err);
        else
            chk_line(r, "ok", "begin %s backup: possible (in-process, from the files: %s)", type,
                     human(r->dbs, h, sizeof h));
        return;
    }
    if (!r->src.ops->check_begin) {
        chk_line(r, "skip", "begin %s backup: the %s source cannot check", type, r->src.ops->name);
        return;
    }
    rc = r->src.ops->check_begin(r->src.ctx, grbit, &r->dbs);
    r->dbs_known = r->dbs > 0;
    if (rc < 0)
        chk_line(r, "FAIL", "begin %s backup: %s (%ld)%s", type, bkc_err_name(rc), (long)rc,
                 begin_why(rc));
    else
        chk_line(r, "ok", "begin %s backup: possible now (databases %s), nothing begun", type,
                 human(r->dbs, h, sizeof h));
}

/* The spool line: the directory as mount checks it (exists, a directory,
 * this uid can create a file on a writable filesystem) with room for what
 * the policy spools: keep a full backup's databases (within the cap),
 * stream its window; logs come on top and are known only after the
 * begin. */
static void check_spool(chk_run *r)
{
    const fs_config *c = &r->cfg;
    bool keep = c->policy == FS_SPOOL_KEEP, full = c->type == FS_BACKUP_FULL;
    uint64_t need = c->read_size;
    char why[512], h1[32], h2[32], what[64];
    struct statvfs sv;
    int rc;

    if (keep && full && r->dbs_known && r->dbs > need)
        need = r->dbs;
    if (!keep && c->window > need)
        need = c->window;
    if (keep && full && c->spool_cap && r->dbs_known && r->dbs > c->spool_cap) {
        chk_line(r, "FAIL",
                 "spool %s: cap %s (line %d) is less than the databases' %s, which keep spools",
                 c->spool_dir, human(c->spool_cap, h1, sizeof h1), c->spool_cap_line,
                 human(r->dbs, h2, sizeof h2));
        return;
    }
    snprintf(what, sizeof what, "%s needs %s%s", keep ? "keep" : "stream",
             human(need, h1, sizeof h1),
             keep && full && !r->dbs_known ? " (database size unknown)" : "");
    rc = fsx_spool_check(c->spool_dir, need, why, sizeof why);
    if (rc == -ENOSPC && statvfs(c->spool_dir, &sv) == 0)
        chk_line(r, "FAIL", "spool %s: %s free, %s", c->spool_dir,
                 human((uint64_t)sv.f_bavail * (uint64_t)sv.f_frsize, h2, sizeof h2), what);
    else if (rc == -ENOSPC)
        chk_line(r, "FAIL", "spool %s: %s, %s", c->spool_dir, why, what);
    else if (rc < 0)
        chk_line(r, "FAIL", "spool %s: %s", c->spool_dir, why);
    else
        chk_line(r, "ok", "spool %s: usable, %s", c->spool_dir, what);
}

/* The control directory line: the mount refuses one that is not trusted
 * before it begins. */
static void check_control(chk_run *r)
{
    char dir[PATH_MAX], err[1024];
    int rc = fsx_control_dir_check(dir, sizeof dir, err, sizeof err);

    if (rc < 0)
        chk_line(r, "FAIL", "%s", err); /* "control directory DIR ..." */
    else if (rc > 0)
        chk_line(r, "ok", "control %s: absent, the mount creates it (mode 0700)", dir);
    else
        chk_line(r, "ok", "control %s: owned by uid %ld, mode 0700", dir, (long)getuid());
}

/* The mount point line: an existing empty directory, not a mount. */
static void check_mountpoint(chk_run *r, const char *mnt)
{
    char real[PATH_MAX], parent[PATH_MAX + 4];
    struct stat st, pst;
    struct dirent *e;
    DIR *d;
    int n = 0;

    if (!realpath(mnt, real) || stat(real, &st) < 0) {
        chk_line(r, "FAIL", "mount point %s: %s", mnt, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        chk_line(r, "FAIL", "mount point %s: not a directory", mnt);
        return;
    }
    snprintf(parent, sizeof parent, "%s/..", real);
    /* a mount's root has another device than its parent (or is "/") */
    if (fsx_control_is_mounted(real) == 1 || stat(parent, &pst) < 0 || pst.st_dev != st.st_dev ||
        pst.st_ino == st.st_ino) {
        chk_line(r, "FAIL", "mount point %s: already a mount", mnt);
        return;
    }
    d = opendir(real);
    if (!d) {
        chk_line(r, "FAIL", "mount point %s: %s", mnt, strerror(errno));
        return;
    }
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    if (closedir(d) < 0 || n) {
        chk_line(r, "FAIL", "mount point %s: %s", mnt, n ? "not empty" : strerror(errno));
        return;
    }
    chk_line(r, "ok", "mount point %s: empty directory", real);
}

/* See fsx.h. */
int fsx_check(const char *config, const char *mountpoint)
{
    chk_run *r = calloc(1, sizeof *r);
    int status;

    if (!r) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    check_config(r, config);
    if (r->config_ok) {
        if (r->cfg.endpoint[0])
            check_endpoint(r);
        else
            check_instance(r);
        check_begin(r);
        (void)bkc_close(&r->src);
        check_spool(r);
    }
    check_control(r);
    if (mountpoint)
        check_mountpoint(r, mountpoint);
    status = r->failed || !r->config_ok ? 1 : 0;
    if (fflush(stdout) != 0)
        status = 1;
    free(r);
    return status;
}
