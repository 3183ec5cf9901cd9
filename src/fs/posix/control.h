/*
 * control.h -- the status/commit channel of a mounted esebackupfs, and the
 * per-source claim that makes "umount; mount" reliable.
 *
 * Progress must live outside the copied tree (a changing file inside it
 * would trip tar and borg), so each mount serves a UNIX-domain socket
 * named after its mount point:
 *     DIR/<16 hex digits of SHA-256(realpath(MOUNTPOINT))>.sock
 * DIR = /run/esebackupfs for root; otherwise $XDG_RUNTIME_DIR/esebackupfs
 * (absolute only), else /tmp/esebackupfs-<uid>.
 *
 * Trust (never follow or reuse another uid's path): DIR must be a real
 * directory (not a symlink) owned by the calling uid with mode 0700; it is
 * created so, and refused otherwise, by the server and by the client
 * alike.  Every name in it is reached through the opened directory
 * (/proc/self/fd/N/NAME), so the checked directory is the one used.  The
 * server refuses a socket path that a live server answers (another mount
 * of the same mount point) and removes only a stale socket or its own.
 * The client talks only to a socket owned by its uid with mode 0600 whose
 * server process runs as its uid (SO_PEERCRED); the server answers only
 * root and its own uid.  The request is one line, "status", "status-json"
 * or "commit"; the answer is "<exit code>\n<text>".
 *
 * Claim: DIR/<16 hex digits of SHA-256(source)>.lock, flock()ed by the
 * driver from before JetBeginExternalBackup until after the backup ended
 * and the engine connection or instance was closed; it holds the mount
 * point once mounted.  A new mount of the same source waits (bounded) for
 * a previous driver whose mount is gone (umount returned, the backup is
 * still being ended), and does not wait for one that is still mounted.
 *
 * Thread safety: the server runs one thread; the handler is called from
 * it.  The claim functions are called from one thread (the mount's main).
 */
#ifndef FSX_CONTROL_H
#define FSX_CONTROL_H

#include <stddef.h>
#include <stdio.h>

typedef struct fsx_control fsx_control;
typedef struct fsx_claim fsx_claim;

/* Request handler: write the answer text into buf, return the exit code. */
typedef int (*fsx_control_fn)(void *arg, const char *cmd, char *buf, size_t cb);

/* Create the socket and start serving; mountpoint must already be the
 * realpath (nothing under it is accessed).  Refuses (nothing created) a
 * control directory not owned by us with mode 0700, a symlink, a non-socket
 * at the socket path, and a socket another live server answers.
 * 0 or -errno (one-line message in err). */
int fsx_control_start(const char *mountpoint, fsx_control_fn fn, void *arg, fsx_control **pc,
                      char *err, size_t cb_err);
/* Stop serving and remove the socket if it is still ours.  Safe with NULL. */
void fsx_control_stop(fsx_control *c);
/* Client: send cmd to the mount's socket after the checks above, print the
 * answer text to stdout and return its exit code; 2 with a one-line
 * message on stderr when the mount cannot be reached or is not trusted. */
int fsx_control_client(const char *prog, const char *mountpoint, const char *cmd);
/* As fsx_control_client, with the answer text written to out and the
 * messages to errf (none when errf is NULL: a poller that expects the
 * mount to go away).  Returns the answer's exit code, or 2. */
int fsx_control_query(const char *prog, const char *mountpoint, const char *cmd, FILE *out,
                      FILE *errf);
/* Call fn(mountpoint, arg) for every esebackupfs mount in
 * /proc/self/mountinfo, in its order (mount points unescaped), until fn
 * returns non-zero.  0, or -errno when it cannot be read, or fn's first
 * non-zero return. */
int fsx_control_each_mount(int (*fn)(const char *mnt, void *arg), void *arg);

/* 1 if an esebackupfs filesystem is mounted exactly at realmnt (per
 * /proc/self/mountinfo), 0 if not, -errno when that cannot be read. */
int fsx_control_is_mounted(const char *realmnt);

/* The check of the control directory a mount makes before it begins,
 * creating nothing: its path into dir; 0 when it is trusted (a real
 * directory owned by us, mode 0700), 1 when it does not exist yet (the
 * mount creates it), -errno with one line in err when it would be refused.
 * Thread-safe. */
int fsx_control_dir_check(char *dir, size_t cbdir, char *err, size_t cb_err);

/* Claim the backup source `source` (a string naming it, e.g. the endpoint
 * path) for this driver: open DIR/<hash>.lock (same directory checks) and
 * take its lock.  While another driver holds it and that driver's mount is
 * gone or not made yet, wait up to wait_s seconds for it (woken by inotify
 * on the lock file, no polling); when it holds it with a live mount, or on
 * timeout, return at once without the lock (the engine's Begin then gives
 * the true answer, JET_errBackupInProgress).  *pc is set in both cases.
 * 0, or -errno with a one-line message in err (directory not trusted). */
int fsx_claim_take(const char *source, int wait_s, fsx_claim **pc, char *err, size_t cb_err);
/* Record the mount point in the claim once mounted (no-op without the
 * lock).  0 or -errno. */
int fsx_claim_mounted(fsx_claim *c, const char *realmnt);
/* Release the claim (after the backup ended and the engine was closed).
 * Safe with NULL. */
void fsx_claim_release(fsx_claim *c);

#endif
