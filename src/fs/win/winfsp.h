/*
 * winfsp.h -- the project's own declarations of the part of WinFsp's
 * FUSE3 ABI (winfsp-x64.dll, 64-bit Windows, the "W" environment) that
 * fuse_win.c uses.  Written from WinFsp's documentation and public
 * headers (inc/fuse3/fuse.h, inc/fuse3/fuse_common.h, inc/fuse/
 * winfsp_fuse.h); names carry a wfs_ prefix so that nothing here can be
 * mistaken for, or clash with, WinFsp's own header.  WinFsp - Windows
 * File System Proxy, Copyright (C) Bill Zissimopoulos,
 * https://github.com/winfsp/winfsp.
 *
 * ABI facts relied on (to re-check against each WinFsp release):
 *   - every fsp_fuse3_* entry point takes the caller's environment
 *     (struct wfs_env, 'W' = native Windows) as its first argument;
 *   - struct wfs_stat: 64-bit sizes and times (fuse_off_t is int64_t);
 *   - struct wfs_file_info / wfs_conn_info / wfs_config / wfs_operations
 *     follow libfuse 3.2's order, with ioctl taking an int command;
 *   - WFS_CAP_READ_ONLY is FSP_FUSE_CAP_READ_ONLY (see the risk note in
 *     README "Windows").
 *
 * Thread safety: declarations only.
 */
#ifndef FS_WINFSP_H
#define FS_WINFSP_H

#include <stddef.h>
#include <stdint.h>

struct wfs_timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};

struct wfs_stat {
    uint32_t st_dev;
    uint64_t st_ino;
    uint32_t st_mode;
    uint16_t st_nlink;
    uint32_t st_uid;
    uint32_t st_gid;
    uint32_t st_rdev;
    int64_t st_size;
    struct wfs_timespec st_atim, st_mtim, st_ctim;
    int32_t st_blksize;
    int64_t st_blocks;
    struct wfs_timespec st_birthtim;
};

struct wfs_statvfs {
    uint64_t f_bsize, f_frsize;
    uint64_t f_blocks, f_bfree, f_bavail;
    uint64_t f_files, f_ffree, f_favail;
    uint64_t f_fsid, f_flag, f_namemax;
};

/* The caller's environment handed to every entry point. */
struct wfs_env {
    unsigned environment; /* 'W' */
    void *(*memalloc)(size_t);
    void (*memfree)(void *);
    int (*daemonize)(int);
    int (*set_signal_handlers)(void *);
    char *(*conv_to_win_path)(const char *); /* Cygwin only: NULL */
    int32_t (*winpid_to_pid)(uint32_t);      /* Cygwin only: NULL */
    void (*reserved[2])(void);               /* NULL */
};

struct wfs_args {
    int argc;
    char **argv;
    int allocated;
};

struct wfs_file_info {
    int flags;
    unsigned int writepage : 1;
    unsigned int direct_io : 1;
    unsigned int keep_cache : 1;
    unsigned int flush : 1;
    unsigned int nonseekable : 1;
    unsigned int flock_release : 1;
    unsigned int padding : 27;
    uint64_t fh;
    uint64_t lock_owner;
    uint32_t poll_events;
};

struct wfs_conn_info {
    unsigned proto_major, proto_minor, max_write, max_read, max_readahead;
    unsigned capable, want;
    unsigned max_background, congestion_threshold, time_gran;
    unsigned reserved[22];
};

struct wfs_config {
    int set_gid;
    unsigned int gid;
    int set_uid;
    unsigned int uid;
    int set_mode;
    unsigned int umask;
    double entry_timeout, negative_timeout, attr_timeout;
    int intr, intr_signal, remember, hard_remove, use_ino, readdir_ino;
    int direct_io, kernel_cache, auto_cache, ac_attr_timeout_set;
    double ac_attr_timeout;
    int nullpath_ok;
    int show_help;
    char *modules;
    int debug;
};

struct wfs_loop_config {
    int clone_fd;
    unsigned int max_idle_threads;
};

#define WFS_CAP_READ_ONLY (1u << 22)

typedef int (*wfs_fill_dir_t)(void *buf, const char *name, const struct wfs_stat *st, int64_t off,
                              int flags);

/* Unused slots are NULL; the order is the ABI. */
struct wfs_operations {
    int (*getattr)(const char *, struct wfs_stat *, struct wfs_file_info *);
    int (*readlink)(const char *, char *, size_t);
    int (*mknod)(const char *, uint32_t, uint32_t);
    int (*mkdir)(const char *, uint32_t);
    int (*unlink)(const char *);
    int (*rmdir)(const char *);
    int (*symlink)(const char *, const char *);
    int (*rename)(const char *, const char *, unsigned int);
    int (*link)(const char *, const char *);
    int (*chmod)(const char *, uint32_t, struct wfs_file_info *);
    int (*chown)(const char *, uint32_t, uint32_t, struct wfs_file_info *);
    int (*truncate)(const char *, int64_t, struct wfs_file_info *);
    int (*open)(const char *, struct wfs_file_info *);
    int (*read)(const char *, char *, size_t, int64_t, struct wfs_file_info *);
    int (*write)(const char *, const char *, size_t, int64_t, struct wfs_file_info *);
    int (*statfs)(const char *, struct wfs_statvfs *);
    int (*flush)(const char *, struct wfs_file_info *);
    int (*release)(const char *, struct wfs_file_info *);
    int (*fsync)(const char *, int, struct wfs_file_info *);
    int (*setxattr)(const char *, const char *, const char *, size_t, int);
    int (*getxattr)(const char *, const char *, char *, size_t);
    int (*listxattr)(const char *, char *, size_t);
    int (*removexattr)(const char *, const char *);
    int (*opendir)(const char *, struct wfs_file_info *);
    int (*readdir)(const char *, void *, wfs_fill_dir_t, int64_t, struct wfs_file_info *, int);
    int (*releasedir)(const char *, struct wfs_file_info *);
    int (*fsyncdir)(const char *, int, struct wfs_file_info *);
    void *(*init)(struct wfs_conn_info *, struct wfs_config *);
    void (*destroy)(void *);
    int (*access)(const char *, int);
    int (*create)(const char *, uint32_t, struct wfs_file_info *);
    void *lock;
    int (*utimens)(const char *, const struct wfs_timespec *, struct wfs_file_info *);
    void *bmap;
    int (*ioctl)(const char *, int, void *, struct wfs_file_info *, unsigned int, void *);
    void *poll, *write_buf, *read_buf, *flock;
    int (*fallocate)(const char *, int, int64_t, int64_t, struct wfs_file_info *);
};

struct wfs_fuse; /* WinFsp's struct fuse3 */

struct wfs_context {
    struct wfs_fuse *fuse;
    uint32_t uid, gid;
    int32_t pid;
    void *private_data;
    uint32_t umask;
};

/* The entry points, resolved with GetProcAddress by these names. */
typedef struct wfs_fuse *(*wfs_new_fn)(struct wfs_env *, struct wfs_args *,
                                       const struct wfs_operations *, size_t, void *);
typedef int (*wfs_mount_fn)(struct wfs_env *, struct wfs_fuse *, const char *);
typedef void (*wfs_void_fn)(struct wfs_env *, struct wfs_fuse *);
typedef int (*wfs_loop_mt_fn)(struct wfs_env *, struct wfs_fuse *, struct wfs_loop_config *);
typedef struct wfs_context *(*wfs_get_context_fn)(struct wfs_env *);

#endif
