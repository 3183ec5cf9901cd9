/*
 * fsx.h -- the POSIX/libfuse adapter of esebackupfs (src/fs/posix): what
 * its files share.  The core (src/fs) knows none of this; it reaches the
 * platform through plat.h, which plat_posix.c implements.
 *
 * Files: main.c (options, argv, the mount), fuse_ops.c (the libfuse ops
 * table), daemon.c (fork with a readiness pipe), signals.c (signal
 * watcher thread), readahead.c (bdi read_ahead_kb), log_posix.c (syslog or
 * stderr), fuse_log.c (libfuse log capture), control.c (control socket, claim lock,
 * mountinfo), spool_posix.c (spool directory pre-check), check.c (the
 * `check` command), conf_ini.c (INI
 * file reading with inih), plat_posix.c (plat.h).
 *
 * Thread safety: stated per function; the logging context is set once
 * before threads start.
 */
#ifndef FSX_H
#define FSX_H

#define FUSE_USE_VERSION 35
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <fuse.h>
#include <fuse_log.h>
#include "conf.h"
#include "fsops.h"

#define PROG "esebackupfs"

/* Command-line and mount state (one per process run, main.c). */
typedef struct fsx_main {
    const char *config;
    const char *mountpoint;
    char realmnt[PATH_MAX];
    char realcfg[PATH_MAX]; /* absolute CONFIG (fsname; we chdir to /) */
    int foreground, debug, single;
    char fuse_opts[4096]; /* -o options passed through to libfuse */
    fs_config cfg;
    fs_ctx *ctx;
    int notify_fd;    /* readiness pipe to the parent, -1 */
    int sigpipe[2];   /* signal handler -> watcher thread */
    pthread_t sigthr; /* the watcher (signals.c) */
    int sig_watching; /* watcher running, handlers installed */
} fsx_main;

/* fuse_ops.c: the libfuse operations (fuse_new's private data is the
 * fsx_main; init switches it to the core's fs_ctx). */
extern const struct fuse_operations fsx_fuse_ops;

/* daemon.c.  Fork: the parent waits for the child's readiness line and
 * returns the exit status (0 mounted, 1 failed; *child = 0); the child
 * detaches (setsid, chdir /), keeps the pipe in m->notify_fd and returns 0
 * with *child = 1.  1 (*child = 0) when pipe/fork fail (message on
 * stderr).  Call before any thread starts. */
int fsx_daemonize(fsx_main *m, int *child);
/* Report readiness ("OK") or a one-line failure to the waiting parent
 * (stderr in the foreground), then close the pipe.  Main thread. */
void fsx_notify(fsx_main *m, const char *msg);
/* Point stdin/stdout/stderr at /dev/null (a detached daemon). */
void fsx_detach_stdio(void);

/* signals.c.  Wrap libfuse's SIGHUP/SIGINT/SIGTERM handlers (installed
 * just before) so that a signal also calls fs_ctx_interrupt(m->ctx) from
 * a watcher thread.  0, or -1 with a message in err (nothing changed).
 * Main thread; fsx_sig_watch_stop undoes it (safe if never started). */
int fsx_sig_watch_start(fsx_main *m, char *err, size_t cb);
void fsx_sig_watch_stop(fsx_main *m);

/* readahead.c.  Set the mount's bdi read_ahead_kb (found in
 * /proc/self/mountinfo); failures are logged warnings.  Main thread. */
void fsx_tune_readahead(const char *realmnt, unsigned kb);

/* fuse_log.c.  on = 1: install libfuse's log callback and keep its error
 * lines (for fsx_with_fuse_error) instead of logging them; on = 0: log
 * everything from now on.  Thread-safe. */
void fsx_fuse_log_capture(int on);
/* "MSG (<libfuse's last error>)" or "MSG" into buf. */
void fsx_with_fuse_error(char *buf, size_t cb, const char *msg);

/* Logging destination: use_syslog -> syslog(LOG_DAEMON, ident), else
 * stderr; quiet drops FS_LOG_INFO/FS_LOG_DEBUG on stderr.  Call once at
 * start-up, before threads. */
void fsx_log_setup(const char *ident, int use_syslog, int quiet);

/* Convert the core's attributes to a struct stat (uid/gid = ours). */
void fsx_attr_to_stat(const fs_attr *a, struct stat *st);
/* Convert the core's filesystem totals to a struct statvfs. */
void fsx_statfs_to_statvfs(const fs_statfs *s, struct statvfs *sv);

/* conf_ini.c.  Check that path is a regular file
 * owned by root or the caller and not writable by group/other.  0, or -1
 * with "FILE: what is wrong" in err. */
int fsx_conf_check_file(const char *path, char *err, size_t cb_err);

/* conf_ini.c.  Parse an INI text (name is used in messages).  0, or -1 with
 * "NAME:LINE: what is wrong" in err; cfg is then unspecified. */
int fsx_conf_parse_string(const char *name, const char *text, fs_config *cfg, char *err,
                          size_t cb_err);

/* conf_ini.c.  fsx_conf_check_file + read + fsx_conf_parse_string. */
int fsx_conf_load(const char *path, fs_config *cfg, char *err, size_t cb_err);

/* Check, before any backup begins, that dir can hold a spool: it exists,
 * is a directory, the calling (mounting) uid can create a file in it on a
 * writable filesystem (probed with an unnamed O_TMPFILE that is closed at
 * once; a named probe file is unlinked at once where O_TMPFILE is not
 * supported), and its filesystem has at least `need` bytes available to
 * that uid.  0, or -errno with a one-line reason in why (without the
 * directory name).  Thread-safe. */
int fsx_spool_check(const char *dir, uint64_t need, char *why, size_t cb_why);

/* main.c.  The in-process source checks that need no engine (run before
 * JetInit): system_path and log_path are directories, every database is
 * an existing regular file; nothing for an endpoint.  0, or -1 with
 * "FILE:LINE: ..." in err. */
int fsx_source_precheck(const fs_config *cfg, char *err, size_t cb);

/* check.c.  `esebackupfs check CONFIG [MOUNTPOINT]`: the preflight that
 * begins nothing -- one line per check on stdout (configuration, source,
 * whether a backup could begin now, spool, mount point when given).
 * Returns the exit status: 0 when every check is ok (a mount would
 * succeed), else 1.  Main thread, before anything else runs. */
int fsx_check(const char *config, const char *mountpoint);

#endif
