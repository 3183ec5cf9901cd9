/*
 * bkformat.h -- the backup-directory format: the one module that writes
 * and reads `backup_label`, `manifest` and `logs/manifest` (the layout of
 * an esebackupfs mount and of a copy of it) and jetutil's backup label
 * (`jetutil-backup.label`, the layout of `jetutil backup`).  docs/formats.md
 * documents every line.
 *
 * VERSIONS.  Version 2 (this release) puts a version line first:
 * `format: 2` in backup_label, `# esebackupfs-manifest 2` in both
 * manifests, `format=2` in jetutil-backup.label.  A file without one is
 * version 1 (copies made before the version line existed) and is still
 * read; the log-name style of a version-1 copy is inferred from the log
 * names its manifest lists.  Any other version is refused with one error.
 * The manifests stay `sha256sum -c` (and `--strict`) compatible: every
 * field that is not a checksum is a `#` line, which sha256sum ignores.
 *
 * ERRORS.  Readers and writers return 0, or -1 with one line in err
 * (`FILE:LINE: what` for content, `FILE: strerror` for I/O).  Nothing is
 * written by a reader; a writer replaces a file atomically or leaves it.
 *
 * THREAD SAFETY.  No shared state: distinct objects may be used from
 * distinct threads; one object is used by one thread at a time.
 */
#ifndef BKFORMAT_H
#define BKFORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- names (the one place that defines them) ---- */
#define BKF_LABEL_NAME "backup_label"            /* esebackupfs label */
#define BKF_MANIFEST_NAME "manifest"             /* root and logs/ manifests */
#define BKF_LOGS_DIR "logs"                      /* the logs of a mount/copy */
#define BKF_JU_LABEL_NAME "jetutil-backup.label" /* jetutil backup label */
#define BKF_VERSION 2                            /* what this module writes */
#define BKF_MAX_DBS 8
#define BKF_PATH 4096
#define BKF_BASE_LEN 3 /* JET_BASE_NAME_LENGTH */

/* Log file name of generation gen for base name `base` and the
 * JET_paramLegacyFileNames bits `legacy`: BASE + 5 hex digits with
 * JET_bitEightDotThreeSoftCompat (gen <= 0xFFFFF), else 8; ".log" with
 * JET_bitESE98FileNames, else ".jtx".  Length, or -1 if it does not fit. */
int bkf_log_name(char *buf, size_t cb, const char *base, unsigned long gen, unsigned long legacy);

/* ---- files of a backup directory: regular files only, never blocking ----
 * Every reader and writer of a backup or instance directory opens through
 * these, so that a FIFO, device, socket or directory standing where a file
 * is expected is refused and never blocks (modes are st_mode values). */

/* "a FIFO", "a character device", "a block device", "a socket",
 * "a directory", "a symbolic link" or "not a regular file" (static). */
const char *bkf_file_kind(unsigned mode);
/* open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode), then fstat:
 * a regular file gets O_NONBLOCK cleared and its fd returned.  Anything
 * else is closed and -1 returned with errno EINVAL and *pmode = its
 * st_mode; on an open/fstat error -1 with errno and *pmode = 0. */
int bkf_open_regular(const char *path, int flags, unsigned mode, unsigned *pmode);
/* bkf_open_regular(O_RDONLY) as a stdio stream; NULL as above. */
FILE *bkf_fopen_read(const char *path, unsigned *pmode);
/* fsync a directory (after a rename in it).  0, or -1 with errno. */
int bkf_fsync_dir(const char *dir);

/* ---- writing (esebackupfs) ---- */

/* The fields of an esebackupfs backup_label (fixed at mount). */
typedef struct bkf_fslabel {
    const char *start_time; /* ISO 8601 UTC */
    long long start_sec;    /* start-epoch seconds */
    long start_nsec;        /*   and nanoseconds */
    const char *source;     /* "endpoint SOCKET" or "in-process LOGDIR" */
    const char *backend;    /* bkc_ops.name */
    const char *instance;
    const char *backup_type; /* full, incremental */
    unsigned long page_size;
    const char *base_name;
    unsigned long legacy; /* JET_paramLegacyFileNames of the source */
    const char *truncate; /* truncate policy name */
    const char *spool_policy;
    const char *const *databases; /* original paths (full) */
    size_t ndb;
    bool have_gens; /* incremental: the range is known at mount */
    unsigned long gen_low, gen_high;
} bkf_fslabel;

/* Format backup_label (version 2) into *ps (malloc'ed, NUL-terminated),
 * *plen its length.  0 or -1 (out of memory). */
int bkf_fslabel_text(const bkf_fslabel *l, char **ps, size_t *plen);

/* One file a manifest lists. */
typedef struct bkf_mfile {
    const char *name;         /* file name (no directory) */
    bool is_log;              /* listed as logs/NAME */
    uint64_t size;            /* 0 until known */
    const unsigned char *sha; /* 32 bytes; all zero until known */
} bkf_mfile;

/* The fields of one manifest. */
typedef struct bkf_manifest {
    bool logs;                       /* false: root `manifest`, true: logs/manifest */
    const char *start_time;          /* root */
    const char *backup_type;         /* root */
    unsigned long gen_low, gen_high; /* logs */
    bool have_committed;             /* logs */
    unsigned long long committed_at_roll;
    const bkf_mfile *files;
    size_t nfiles;
    const unsigned char *logman_sha; /* root: digest of logs/manifest (32) */
} bkf_manifest;

/* Format a manifest (version 2) into *ps (malloc'ed), *plen its length.
 * Every late-known value is fixed-width (sizes 20 digits, digests 64
 * hex), so the text made before the values are known has the final
 * length.  0 or -1 (out of memory). */
int bkf_manifest_text(const bkf_manifest *m, char **ps, size_t *plen);

/* ---- the digest hook: SHA-256 of the manifests ----
 * OpenSSL on POSIX (bkf_sha.c), Windows CNG (bcrypt) on Windows
 * (win/bkf_sha_cng.c); the same calls on both. */
typedef struct bkf_sha256 bkf_sha256;
/* A new digest, or NULL (no memory, or the provider failed). */
bkf_sha256 *bkf_sha256_new(void);
/* Add n bytes.  0, or -1 (the provider failed). */
int bkf_sha256_update(bkf_sha256 *h, const void *p, size_t n);
/* Store the digest in out and free h (also on failure).  0 or -1. */
int bkf_sha256_final(bkf_sha256 *h, unsigned char out[32]);

/* ---- reading (jetutil restore) and jetutil's label ---- */

/* A backup label, normalised from either layout. */
typedef struct bkf_label {
    unsigned version; /* 1 or 2 */
    char type[16];    /* full, copy, incremental, differential */
    unsigned ndb;
    char db_orig[BKF_MAX_DBS][BKF_PATH]; /* original absolute paths */
    char db_file[BKF_MAX_DBS][256];      /* file name inside the directory */
    char base[BKF_BASE_LEN + 1];
    unsigned long page_size, legacy, log_kib;
    bool have_legacy; /* legacy given (else inferred) */
    unsigned long gen_low, gen_high;
    unsigned long backups; /* jetutil: full + incrementals written */
    bool have_committed;
    unsigned long long committed_at_roll;
} bkf_label;

/* Next "key=value" line of a small label or settings file ('#' comments and
 * blank lines skipped): 1 with *key and *val pointing into line, 0 at the
 * end, -1 with "PATH:LINE: expected key=value" or "PATH: read error" in
 * err.  *lineno counts the lines read.  Thread-safe (no shared state). */
int bkf_kv_next(FILE *f, const char *path, unsigned *lineno, char *line, size_t cbline, char **key,
                char **val, char *err, size_t cb_err);
/* Read DIR/jetutil-backup.label (version 1 or 2).  0 or -1 (err). */
int bkf_julabel_read(const char *dir, bkf_label *l, char *err, size_t cb_err);
/* Write DIR/jetutil-backup.label (version 2; temp file, fsync, rename,
 * fsync of DIR).  0 or -1 (err). */
int bkf_julabel_write(const char *dir, const bkf_label *l, char *err, size_t cb_err);

/* One file a manifest lists. */
typedef struct bkf_entry {
    char rel[320]; /* NAME or logs/NAME, relative to the set */
    unsigned char sha[32];
    bool have_sha, have_size;
    unsigned long long size;
    unsigned line; /* manifest line of the checksum */
} bkf_entry;

/* One backup directory: the jetutil layout (label, databases and logs side
 * by side, no checksums) or a copy of an esebackupfs mount (backup_label,
 * databases at the top, logs in logs/, both manifests). */
typedef struct bkf_set {
    char dir[BKF_PATH]; /* as given */
    bool esefs;         /* esebackupfs copy (else jetutil layout) */
    bkf_label l;        /* type, base, page size, legacy, log_kib
                                    (0 = unknown), range, databases */
    bkf_entry *ent;     /* manifest entries (esefs only) */
    size_t nent, cap;
} bkf_set;

/* Load DIR (either layout) into s (zeroed first).  0, or -1 (err):
 * neither layout, a malformed or incomplete label or manifest, an
 * unknown version. */
int bkf_set_load(const char *dir, bkf_set *s, char *err, size_t cb_err);
/* Free the entries of s.  Safe twice. */
void bkf_set_free(bkf_set *s);
/* Manifest entry named rel, or NULL. */
const bkf_entry *bkf_set_find(const bkf_set *s, const char *rel);
/* Path of log generation gen relative to the set's directory; 0 or -1. */
int bkf_set_log_rel(const bkf_set *s, unsigned long gen, char *rel, size_t cb);
/* File name of database i in the set's directory. */
const char *bkf_set_db_rel(const bkf_set *s, unsigned i);
/* Size + SHA-256 (OpenSSL) of every manifest entry; read-only.  Number of
 * files checked (0 without a manifest), or -1 (err names the file). */
long bkf_set_verify(const bkf_set *s, char *err, size_t cb_err);

#endif /* BKFORMAT_H */
