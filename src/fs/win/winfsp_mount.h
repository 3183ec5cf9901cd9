/*
 * winfsp_mount.h -- the WinFsp adapter's entry point (fuse_win.c).
 * Thread safety: call once, from main.
 */
#ifndef FS_WINFSP_MOUNT_H
#define FS_WINFSP_MOUNT_H

#include "conf.h"

/* Load WinFsp (registry InstallDir -> bin\winfsp-x64.dll), open the
 * configuration's source, start the backup, mount read-only on
 * mountpoint (a drive letter "X:" or a directory), serve until Ctrl-C /
 * console close / WinFsp's unmount, then take the umount decision as on
 * Linux.  0, or -1 after one line on stderr (WinFsp missing: "WinFsp is
 * not installed ..."). */
int winx_mount(const fs_config *cfg, const char *mountpoint);

#endif
