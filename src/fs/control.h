/*
 * control.h -- the status/commit channel of a mounted esebackupfs.
 *
 * Progress must live outside the copied tree (a changing file inside it
 * would trip tar and borg), so each mount serves a UNIX-domain socket
 * named after its mount point:
 *     /run/esebackupfs/<16 hex digits of SHA-256(realpath(MOUNTPOINT))>.sock
 * (non-root: $XDG_RUNTIME_DIR/esebackupfs, else /tmp/esebackupfs-<uid>).
 * The directory is 0700, the socket 0600; peers other than root and the
 * mounting user are refused (SO_PEERCRED).  The request is one line,
 * "status" or "commit"; the answer is "<exit code>\n<text>".
 *
 * Thread safety: the server runs one thread; the handler is called from it.
 */
#ifndef FS_CONTROL_H
#define FS_CONTROL_H

#include <stddef.h>

typedef struct fs_control fs_control;

/* Request handler: write the answer text into buf, return the exit code. */
typedef int (*fs_control_fn)(void *arg, const char *cmd, char *buf, size_t cb);

/* Socket path for a mount point (realpath'ed).  0 or -errno. */
int fs_control_path(const char *mountpoint, char *buf, size_t cb);
/* Create the socket and start serving; mountpoint must already be the
 * realpath (nothing under it is accessed).  0 or -errno (message in err). */
int fs_control_start(const char *mountpoint, fs_control_fn fn, void *arg, fs_control **pc,
                     char *err, size_t cb_err);
/* Stop serving and remove the socket.  Safe with NULL. */
void fs_control_stop(fs_control *c);
/* Client: send cmd to the mount's socket, print the answer text to stdout
 * and return its exit code; 2 with a message on stderr when the mount
 * cannot be reached. */
int fs_control_client(const char *prog, const char *mountpoint, const char *cmd);

#endif
