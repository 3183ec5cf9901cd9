/*
 * main.c -- esebackupfs on Linux/libfuse: the command line and the mount
 * (the other jobs of the adapter are in the files fsx.h lists).
 *
 *   esebackupfs [options] CONFIG MOUNTPOINT      mount = start the backup
 *   esebackupfs status MOUNTPOINT                progress (control.c)
 *   esebackupfs status --json [MOUNTPOINT]       the same as JSON (status_cli.c)
 *   esebackupfs status --watch MOUNTPOINT        a progress line a second
 *   esebackupfs commit MOUNTPOINT                allow truncation
 *   esebackupfs check CONFIG [MOUNTPOINT]        preflight, begins nothing
 *
 * The mount command returns only once the backup has begun and the
 * filesystem is mounted (daemon.c); on error nothing is left mounted and
 * the exit status is 1.
 */
#include "config.h"
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "conf.h"
#include "control.h"
#include "fsx.h"
#include "plat.h"
#include "report.h"

/* How long a mount waits for the previous driver of its source to end
 * that backup after its umount (see fsx_claim_take). */
#define FS_CLAIM_WAIT_S 30

/* ---- command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [options] CONFIG MOUNTPOINT   mount: start a live backup\n"
            "       " PROG " status MOUNTPOINT             progress, errors, umount decision\n"
            "       " PROG " status --json [MOUNTPOINT]    the same as JSON (every mount without\n"
            "                                           MOUNTPOINT)\n"
            "       " PROG " status --watch MOUNTPOINT     a progress line a second until the end\n"
            "       " PROG
            " commit MOUNTPOINT             allow log truncation (truncate = commit)\n"
            "       " PROG " check CONFIG [MOUNTPOINT]     preflight, begins nothing\n"
            "\n"
            "Mounting starts an external backup of the Jet instance that CONFIG (an INI\n"
            "file, see esebackupfs.ini(5)) names; umount ends it and, if CONFIG says so,\n"
            "truncates the logs.\n"
            "\n"
            "options:\n"
            "  -f            stay in the foreground, log to stderr\n"
            "  -d            foreground with libfuse debug output\n"
            "  -s            single-threaded FUSE loop\n"
            "  -o OPT[,OPT]  mount options (allow_other, max_threads... ; ro, nodev, nosuid,\n"
            "                default_permissions are always set; dev, suid, rw are ignored)\n"
            "  -h, --help    this text\n"
            "  -V, --version version\n");
}

/* Append one -o option (escaping commas) unless it is one we drop. */
static int add_opt(fsx_main *m, const char *opt)
{
    static const char *const drop[] = { "rw",     "ro",           "dev",     "suid",   "nodev",
                                        "nosuid", "defaults",     "_netdev", "nofail", "auto",
                                        "noauto", "user",         "nouser",  "users",  "exec",
                                        "noexec", "auto_unmount", NULL };
    size_t n = strlen(m->fuse_opts);

    for (int i = 0; drop[i]; i++)
        if (!strcmp(opt, drop[i]))
            return 0;
    if (!strncmp(opt, "x-", 2) || !opt[0])
        return 0;
    if (!strcmp(opt, "allow_other")) {
        m->cfg.allow_other = 1;
        return 0;
    }
    if (n + strlen(opt) + 2 >= sizeof m->fuse_opts)
        return -1;
    if (n)
        m->fuse_opts[n++] = ',';
    strcpy(m->fuse_opts + n, opt);
    return 0;
}

/* Split a -o argument. */
static int add_opts(fsx_main *m, const char *list)
{
    char buf[4096], *save = NULL;

    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (add_opt(m, t) < 0)
            return -1;
    return 0;
}

/* Parse argv into m (options may follow the positionals, as mount.fuse3
 * passes them).  0, 1 = done (help/version), -1 = usage error. */
static int parse_args(fsx_main *m, int argc, char **argv, char *saved_opts, size_t cb)
{
    saved_opts[0] = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf(PROG " %s (libfuse %d.%d)\n", PACKAGE_VERSION, fuse_version() / 100,
                   fuse_version() % 100);
            return 1;
        }
        if (!strcmp(a, "-f")) {
            m->foreground = 1;
        } else if (!strcmp(a, "-d")) {
            m->foreground = m->debug = 1;
        } else if (!strcmp(a, "-s")) {
            m->single = 1;
        } else if (!strncmp(a, "-o", 2)) {
            const char *v = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) {
                fprintf(stderr, PROG ": -o needs an argument\n");
                return -1;
            }
            if (strlen(saved_opts) + strlen(v) + 2 >= cb) {
                fprintf(stderr, PROG ": -o options too long\n");
                return -1;
            }
            if (saved_opts[0])
                strcat(saved_opts, ",");
            strcat(saved_opts, v);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", a);
            return -1;
        } else if (!m->config) {
            m->config = a;
        } else if (!m->mountpoint) {
            m->mountpoint = a;
        } else {
            fprintf(stderr, PROG ": unexpected argument '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (!m->config || !m->mountpoint) {
        usage(stderr);
        return -1;
    }
    return 0;
}

/* ---- running the mount ---- */

/* Control-channel handler. */
static int control_handler(void *arg, const char *cmd, char *buf, size_t cb)
{
    fsx_main *m = arg;

    if (!strcmp(cmd, "commit"))
        return fs_commit(m->ctx, buf, cb);
    if (!strcmp(cmd, "status-json"))
        return fsx_status_json(m->ctx, &m->cfg, m->realmnt, buf, cb);
    return fs_status(m->ctx, buf, cb);
}

/* Prepare libfuse (a bad -o option starts nothing), claim the source,
 * open the backend and begin the backup.  0, or -1 after notifying the
 * error; the caller cleans up. */
static int run_begin(fsx_main *m, struct fuse_args *args, struct fuse **pf, fsx_claim **claim)
{
    char err[1024] = "", opts[8192], fsname[PATH_MAX * 2];
    char source[sizeof m->cfg.endpoint + sizeof m->cfg.system_path + sizeof m->cfg.log_path + 32];
    bkc_source be = { NULL, NULL };
    size_t k = 0;
    int rc;

    /* fsname = the config's absolute path, commas escaped for fuse_opt */
    for (const char *s = m->realcfg; *s && k + 3 < sizeof fsname; s++) {
        if (*s == ',' || *s == '\\')
            fsname[k++] = '\\';
        fsname[k++] = *s;
    }
    fsname[k] = 0;
    snprintf(opts, sizeof opts,
             "ro,nodev,nosuid,default_permissions,fsname=%.4000s,subtype=" PROG "%s%s%s", fsname,
             m->cfg.allow_other ? ",allow_other" : "", m->fuse_opts[0] ? "," : "", m->fuse_opts);
    if (fuse_opt_add_arg(args, PROG) || fuse_opt_add_arg(args, "-o") ||
        fuse_opt_add_arg(args, opts) || (m->debug && fuse_opt_add_arg(args, "-d"))) {
        fsx_notify(m, "out of memory");
        return -1;
    }
    *pf = fuse_new(args, &fsx_fuse_ops, sizeof fsx_fuse_ops, m);
    if (!*pf) {
        fsx_with_fuse_error(err, sizeof err, "bad mount options; no backup started");
        fsx_notify(m, err);
        return -1;
    }
    /* one driver per source at a time: wait here (bounded) while the
     * driver of a just unmounted mount of it is still ending its backup */
    if (m->cfg.endpoint[0])
        snprintf(source, sizeof source, "endpoint %s", m->cfg.endpoint);
    else
        snprintf(source, sizeof source, "instance %s %s", m->cfg.system_path, m->cfg.log_path);
    rc = fsx_claim_take(source, FS_CLAIM_WAIT_S, claim, err, sizeof err);
    if (rc >= 0)
        rc = fs_source_open(&m->cfg, &be, err, sizeof err);
    if (rc < 0) {
        fsx_notify(m, err);
        return -1;
    }
    if (fs_ctx_new(&m->cfg, &be, &m->ctx) < 0) {
        (void)bkc_close(&be);
        fsx_notify(m, "out of memory");
        return -1;
    }
    rc = fs_ctx_start(m->ctx, err, sizeof err);
    if (rc < 0) {
        fsx_notify(m, err);
        return -1;
    }
    return 0;
}

/* Mount, wrap the signals, serve the control socket, tune readahead and
 * tell the parent "OK".  0, or -1 after notifying the error; *mounted and
 * *sig_set say what the caller must undo. */
static int run_mount(fsx_main *m, struct fuse *f, fsx_claim *claim, fsx_control **ctl, int *mounted,
                     int *sig_set)
{
    char err[1024] = "";
    int rc;

    if (fuse_mount(f, m->realmnt) != 0) {
        char what[PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot mount on %s; backup aborted", m->realmnt);
        fsx_with_fuse_error(err, sizeof err, what);
        fsx_notify(m, err);
        return -1;
    }
    *mounted = 1;
    rc = fsx_claim_mounted(claim, m->realmnt);
    if (rc < 0)
        fs_log(FS_LOG_WARNING, "cannot record the mount point in the claim: %s", strerror(-rc));
    if (fuse_set_signal_handlers(fuse_get_session(f)) != 0) {
        fsx_notify(m, "cannot install signal handlers; backup aborted");
        return -1;
    }
    *sig_set = 1;
    rc = fsx_sig_watch_start(m, err, sizeof err);
    if (rc >= 0)
        rc = fsx_control_start(m->realmnt, control_handler, m, ctl, err, sizeof err);
    if (rc < 0) {
        fsx_notify(m, err);
        return -1;
    }
    fsx_tune_readahead(m->realmnt, 0);
    fs_log(FS_LOG_NOTICE, "mounted %s on %s", m->config, m->realmnt);
    fsx_fuse_log_capture(0);
    fsx_notify(m, "OK");
    if (!m->foreground)
        fsx_detach_stdio();
    return 0;
}

/* Begin the backup, mount, serve until unmounted, decide.  Returns the
 * process exit status. */
static int run(fsx_main *m)
{
    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    struct fuse *f = NULL;
    fsx_control *ctl = NULL;
    fsx_claim *claim = NULL;
    int rc, mounted = 0, status = 1, sig_set = 0;

    fsx_fuse_log_capture(1);
    if (run_begin(m, &args, &f, &claim) < 0 || run_mount(m, f, claim, &ctl, &mounted, &sig_set) < 0)
        goto out;
    if (m->single) {
        rc = fuse_loop(f);
    } else {
        struct fuse_loop_config lc;
        memset(&lc, 0, sizeof lc);
        lc.clone_fd = 0;
        lc.max_idle_threads = 10;
        rc = fuse_loop_mt(f, &lc);
    }
    if (rc > 0)
        fs_log(FS_LOG_NOTICE, "signal %d: unmounting", rc);
    else if (rc < 0)
        fs_log(FS_LOG_ERR, "FUSE loop failed: %s", strerror(-rc));
    status = 0;
out:
    fsx_sig_watch_stop(m);
    if (sig_set)
        fuse_remove_signal_handlers(fuse_get_session(f));
    if (mounted)
        fuse_unmount(f);
    if (m->ctx) {
        (void)fs_ctx_finish(m->ctx);
        (void)fsx_report_write(&m->cfg, m->ctx); /* logs its own failure */
    }
    fsx_control_stop(ctl);
    if (f)
        fuse_destroy(f);
    fuse_opt_free_args(&args);
    fs_ctx_free(m->ctx);
    m->ctx = NULL;
    /* the backup has ended and the engine is closed: a waiting mount of
     * the same source may begin now */
    fsx_claim_release(claim);
    return status;
}

/* The spool checks that need no host, run before anything else (no
 * connection to an endpoint, no JetInit, no backup begun): the spool
 * directory exists, is a directory, the mounting uid can create a file in
 * it on a writable filesystem, and it has room for one engine read -- and,
 * for an in-process source with policy = keep (every byte is spooled), for
 * the databases' current size, which must also fit the cap (the logs and
 * the growth while mounted come on top and are only known after the backup
 * began; running out then fails the backup: EIO, Abort, no truncation).
 * 0, or -1 with "FILE:LINE: ..." in err. */
static int spool_precheck(const fs_config *cfg, char *err, size_t cb)
{
    char why[512], where[FS_CONF_PATH + 64];
    uint64_t need = cfg->read_size, dbs = 0;
    int rc;

    if (!cfg->endpoint[0] && cfg->policy == FS_SPOOL_KEEP) {
        for (int i = 0; i < cfg->ndatabases; i++) {
            struct stat st;
            /* a missing database is the engine's to report (JetInit) */
            if (stat(cfg->databases[i], &st) == 0 && S_ISREG(st.st_mode))
                dbs += (uint64_t)st.st_size;
        }
        if (dbs > need)
            need = dbs;
    }
    /* keep spools every byte it pulls: a cap below the databases alone
     * fails for sure */
    if (cfg->spool_cap && dbs > cfg->spool_cap) {
        snprintf(err, cb,
                 "%s:%d: cap %" PRIu64 " is less than the databases' %" PRIu64
                 " bytes, which policy = keep spools; no backup begun",
                 cfg->file, cfg->spool_cap_line, cfg->spool_cap, dbs);
        return -1;
    }
    rc = fsx_spool_check(cfg->spool_dir, need, why, sizeof why);
    if (rc == 0)
        return 0;
    if (cfg->spool_dir_line)
        snprintf(where, sizeof where, "%s:%d", cfg->file, cfg->spool_dir_line);
    else
        snprintf(where, sizeof where, "%s:1: (no [spool] directory, default)", cfg->file);
    if (rc == -ENOSPC && need > cfg->read_size)
        snprintf(err, cb,
                 "%s: spool directory %s: %s (policy = keep spools the databases, %" PRIu64
                 " bytes); no backup begun",
                 where, cfg->spool_dir, why, dbs);
    else
        snprintf(err, cb, "%s: spool directory %s: %s; no backup begun", where, cfg->spool_dir,
                 why);
    return -1;
}

/* See fsx.h.  The in-process source checks that need no engine, run before JetInit
 * (which would create a new log set in a wrong directory before failing
 * to attach a missing database): system_path and log_path are
 * directories, every database is an existing regular file.  0, or -1 with
 * "FILE:LINE: ..." in err. */
int fsx_source_precheck(const fs_config *cfg, char *err, size_t cb)
{
    const struct {
        const char *key, *path;
        int line;
    } dirs[] = { { "system_path", cfg->system_path, cfg->system_path_line },
                 { "log_path", cfg->log_path, cfg->log_path_line } };
    struct stat st;
    int r;

    if (cfg->endpoint[0])
        return 0;
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        r = stat(dirs[i].path, &st);
        if (r < 0 || !S_ISDIR(st.st_mode)) {
            snprintf(err, cb, "%s:%d: %s %s: %s; no backup begun", cfg->file, dirs[i].line,
                     dirs[i].key, dirs[i].path, r < 0 ? strerror(errno) : "not a directory");
            return -1;
        }
    }
    for (int i = 0; i < cfg->ndatabases; i++) {
        r = stat(cfg->databases[i], &st);
        if (r < 0 || !S_ISREG(st.st_mode)) {
            snprintf(err, cb, "%s:%d: database %s: %s; no backup begun", cfg->file,
                     cfg->databases_line, cfg->databases[i],
                     r < 0 ? strerror(errno) : "not a regular file");
            return -1;
        }
    }
    return 0;
}

/* esebackupfs [options] CONFIG MOUNTPOINT | status|commit MOUNTPOINT.
 * Exit status: 0 mounted / done, 1 refused or failed, 2 (status, commit)
 * the mount cannot be reached. */
int main(int argc, char **argv)
{
    fsx_main m;
    char err[4096], saved[4096];
    struct stat st;
    int rc, child = 0;

    memset(&m, 0, sizeof m);
    m.notify_fd = -1;
    if (argc == 3 && (!strcmp(argv[1], "status") || !strcmp(argv[1], "commit")) &&
        argv[2][0] != '-')
        return fsx_control_client(PROG, argv[2], argv[1]);
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "check"))
        return fsx_check(argv[2], argc == 4 ? argv[3] : NULL);
    if (argc >= 3 && argc <= 4 && !strcmp(argv[1], "status") && !strcmp(argv[2], "--json"))
        return fsx_status_json_client(PROG, argc == 4 ? argv[3] : NULL);
    if (argc == 4 && !strcmp(argv[1], "status") && !strcmp(argv[2], "--watch"))
        return fsx_status_watch(PROG, argv[3]);
    rc = parse_args(&m, argc, argv, saved, sizeof saved);
    if (rc)
        return rc > 0 ? 0 : 1;
    if (fsx_conf_load(m.config, &m.cfg, err, sizeof err) < 0 ||
        fsx_source_precheck(&m.cfg, err, sizeof err) < 0 ||
        spool_precheck(&m.cfg, err, sizeof err) < 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return 1;
    }
    if (!realpath(m.config, m.realcfg)) {
        fprintf(stderr, PROG ": %s: %s\n", m.config, strerror(errno));
        return 1;
    }
    if (saved[0] && add_opts(&m, saved) < 0) {
        fprintf(stderr, PROG ": -o options too long\n");
        return 1;
    }
    if (!realpath(m.mountpoint, m.realmnt) || stat(m.realmnt, &st) < 0) {
        fprintf(stderr, PROG ": mount point %s: %s\n", m.mountpoint, strerror(errno));
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, PROG ": mount point %s: not a directory\n", m.mountpoint);
        return 1;
    }
    /* the control socket is named after the mount point: a second mount
     * on top would take it over, so it is refused before anything starts */
    if (fsx_control_is_mounted(m.realmnt) == 1) {
        fprintf(stderr,
                PROG ": mount point %s is already an esebackupfs mount; refusing to "
                     "mount on top of it\n",
                m.mountpoint);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (m.foreground) {
        fsx_log_setup(PROG, 0, !m.debug);
        return run(&m);
    }
    rc = fsx_daemonize(&m, &child);
    if (!child)
        return rc;
    fsx_log_setup(PROG, 1, 0);
    exit(run(&m));
}
