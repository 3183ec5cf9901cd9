/*
 * tree.h -- the esebackupfs namespace: what files exist, their fixed
 * attributes, and the derived label and manifest texts.
 *
 *   /backup_label       fixed at mount                 ino 2
 *   /<database>...      the database streams           ino 3..
 *   /logs/              the log files (after the dbs)  ino 3+ndb
 *   /logs/<log>...                                     ino 1000..
 *   /logs/manifest      log sizes + SHA-256, last      ino 0x7FFFFFFE
 *   /manifest           db sizes + SHA-256 (and that   ino 0x7FFFFFFF
 *                       of logs/manifest), comes last
 * Both manifests have a size known before their contents (fixed-width
 * fields): the root one at mount, logs/manifest with the log list, so a
 * stat never waits for the end of the backup.
 * readdir order, inode order and byte/locale name order all put the
 * databases before logs/ and the manifest last (database names are
 * expected to sort before "logs"; the label sorts first).
 *
 * Every attribute is frozen for the mount: times = backup start, mode
 * 0444/0555, blocks = ceil(size/512), blksize = 1 MiB (fs_attr).
 *
 * Thread safety: the caller (the core, fs_int.h) holds ctx->mu around
 * every call that touches an fs_file's mutable fields.
 */
#ifndef FS_TREE_H
#define FS_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bkformat.h"
#include "plat.h"

#define FS_INO_ROOT 1
#define FS_INO_LABEL 2
#define FS_INO_FIRST_DB 3
#define FS_INO_FIRST_LOG 1000
#define FS_INO_MANIFEST 0x7FFFFFFFu
#define FS_INO_LOGMAN 0x7FFFFFFEu
/* the file names are the backup-directory format's (bkformat.h) */
#define FS_LABEL_NAME BKF_LABEL_NAME
#define FS_MANIFEST_NAME BKF_MANIFEST_NAME
#define FS_LOGS_NAME BKF_LOGS_DIR
#define FS_NONE UINT64_MAX
#define FS_BLKSIZE (1u << 20)

enum fs_kind {
    FS_K_NONE,
    FS_K_ROOT,
    FS_K_LOGSDIR,
    FS_K_LABEL,
    FS_K_DB,
    FS_K_LOG,
    FS_K_MANIFEST,
    FS_K_LOGMAN
};

typedef struct fs_range {
    uint64_t lo, hi;
} fs_range;

/* One engine file (database stream or log), in production order. */
typedef struct fs_file {
    char name[256];         /* name in the tree (basename) */
    char engine_path[1024]; /* name given to the engine's OpenFile */
    enum fs_kind kind;      /* FS_K_DB or FS_K_LOG */
    int index;              /* production order */
    uint64_t ino;
    uint64_t size; /* valid when size_known */
    bool size_known;
    bool open;                /* engine handle open (producer) */
    bool done;                /* fully produced, closed, hashed (digest set), spooled */
    uint64_t produced;        /* bytes pulled from the engine */
    uint64_t hashed;          /* bytes hashed (the hasher) */
    uint64_t spooled;         /* bytes the spooler took (written where they spool) */
    uint64_t demand_hi;       /* highest end offset a reader asked for */
    uint64_t spool_base;      /* region in the spool file */
    uint64_t spooled_from;    /* stream policy: spool holds [from, produced) */
    uint64_t fail_at;         /* engine/spool error at this offset, FS_NONE */
    unsigned char digest[32]; /* SHA-256 when done */
    fs_sha256 *sha;           /* digest state while producing (plat.h) */
    fs_range *dl;             /* delivered ranges, sorted, disjoint */
    int ndl, cap_dl;
    uint64_t delivered; /* bytes delivered at least once */
} fs_file;

/* Allocate an engine file entry.  NULL on out of memory. */
fs_file *fs_file_new(const char *engine_path, enum fs_kind kind, int index, uint64_t ino);
/* Free an entry (and its digest state, if any).  Safe with NULL. */
void fs_file_free(fs_file *f);
/* Record [lo, hi) as delivered to a reader.  0 or -ENOMEM. */
int fs_file_deliver(fs_file *f, uint64_t lo, uint64_t hi);
/* Basename of a path (pointer into path); on a Windows build (fs_plat_windows)
 * a backslash separates as well as '/'. */
const char *fs_basename(const char *path);

/* The attributes of a node, the core's own (the adapter converts them:
 * struct stat on POSIX, struct fuse_stat on WinFsp).  Owner = the mounting
 * user, filled in by the adapter. */
typedef struct fs_attr {
    uint64_t ino;
    uint64_t size;    /* bytes */
    uint64_t blocks;  /* 512-byte blocks: ceil(size / 512) */
    uint32_t blksize; /* preferred I/O size */
    uint32_t nlink;
    uint32_t mode; /* permission bits only (0444, 0555) */
    bool is_dir;   /* directory, else regular file */
    fs_time time;  /* access = modification = change time */
} fs_attr;

/* Filesystem totals for statfs (read-only, no-suid, no-dev always). */
typedef struct fs_statfs {
    uint64_t bsize;   /* preferred block size */
    uint64_t frsize;  /* fundamental block size */
    uint64_t blocks;  /* size in frsize units */
    uint64_t files;   /* number of nodes */
    uint64_t namemax; /* longest name */
} fs_statfs;

/* Fill frozen attributes for a regular file or directory. */
void fs_attr_fill(fs_attr *a, uint64_t ino, bool is_dir, uint64_t size, uint32_t nlink,
                  const fs_time *t);

/* Format a UTC ISO-8601 time with nanoseconds into buf ("?" when the
 * time cannot be broken down). */
void fs_time_iso(const fs_time *t, char *buf, size_t cb);

#endif
