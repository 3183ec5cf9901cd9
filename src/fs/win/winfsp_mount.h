/*
 * winfsp_mount.h -- the WinFsp adapter's entry point (fuse_win.c).
 * Thread safety: call once, from main (or the service's child process).
 */
#ifndef FS_WINFSP_MOUNT_H
#define FS_WINFSP_MOUNT_H

#include "conf.h"

/* What the service wrapper (service_win.c) hands the mount: two event
 * HANDLEs (void * here so that this header needs no windows.h), either
 * NULL.  stop: when set, unmount as Ctrl-C does (the umount decision
 * follows); ready: set once mounted and serving. */
typedef struct winx_mount_hooks {
    void *stop;
    void *ready;
} winx_mount_hooks;

/* Load WinFsp (registry InstallDir -> bin\winfsp-x64.dll), open the
 * configuration's source, start the backup, mount read-only on
 * mountpoint (a drive letter "X:" or a directory), serve until Ctrl-C /
 * Ctrl-Break / console close / WinFsp's unmount / hooks->stop (hooks may
 * be NULL), then take the umount decision as on Linux.  0 (the backup
 * ended with a Normal End), or -1 after one line logged (fs_log; WinFsp
 * missing: "WinFsp is not installed ...") or when the decision aborted. */
int winx_mount(const fs_config *cfg, const char *mountpoint, const winx_mount_hooks *hooks);

#endif
