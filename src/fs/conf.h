/*
 * conf.h -- the esebackupfs INI file (parsed with inih).
 *
 * Sections and keys (docs/esebackupfs.ini.5 is the reference):
 *   [source]  endpoint = SOCKET            (libjet backup endpoint), or the
 *             in-process instance: system_path, log_path, databases
 *             (comma-separated), base_name, page_size, log_file_size,
 *             instance; on Windows builds instead: esent_system_path,
 *             esent_log_path, databases (X:\ paths; ESENT in-process),
 *             dsbackup = SERVER, or certsrv = SERVER (page_size allowed).
 *             Each build refuses the other platform's sources.
 *   [backup]  type = full|incremental, truncate = never|complete|commit,
 *             max_duration, idle_timeout (durations: 45s, 30m, 6h, 2d; 0 = off)
 *             max_rate (bytes/s, size suffixes; 0 = unlimited, else >= 64K)
 *   [spool]   directory, policy = keep|stream, cap, window
 *   [mount]   allow_other = yes|no, read_size, direct_io = yes|no
 *   [report]  metrics_file = /PATH.prom, json_file = /PATH (absolute,
 *             normalised, in an existing directory; POSIX builds only)
 * Unknown sections or keys, bad values, duplicate or conflicting keys
 * (database/databases, endpoint/in-process keys, window without policy =
 * stream, read_size/page_size), text after a section header and paths that
 * are not absolute and normalised are refused with "FILE:LINE: what is
 * wrong" (naming both lines for a pair).  A UTF-8 BOM at the start is
 * skipped.  The file must be owned by root or the
 * caller and not writable by group or others (it controls log deletion).
 *
 * Thread safety: none needed (parsed once at start-up).
 */
#ifndef FS_CONF_H
#define FS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include "plat.h"

#define FS_CONF_MAX_DBS 8
#define FS_CONF_PATH 1024

enum fs_backup_type { FS_BACKUP_FULL = 0, FS_BACKUP_INCREMENTAL = 1 };
enum fs_truncate { FS_TRUNC_NEVER = 0, FS_TRUNC_COMPLETE = 1, FS_TRUNC_COMMIT = 2 };
enum fs_spool_policy { FS_SPOOL_KEEP = 0, FS_SPOOL_STREAM = 1 };
/* The backup source: libjet (Linux builds) or a Windows backend (Windows
 * builds; the other kind is refused by fs_conf_end on each platform). */
enum fs_source_kind {
    FS_SOURCE_LIBJET = 0, /* in-process libjet: system_path, log_path, databases */
    FS_SOURCE_ENDPOINT,   /* libjet backup endpoint: endpoint = SOCKET */
    FS_SOURCE_ESENT,      /* ESENT.DLL in-process: esent_system_path, esent_log_path, databases */
    FS_SOURCE_DSBACKUP,   /* Active Directory DS: dsbackup = SERVER ("." = this computer) */
    FS_SOURCE_CERTSRV     /* AD Certificate Services: certsrv = SERVER */
};

typedef struct fs_config {
    char file[FS_CONF_PATH]; /* the INI file, for messages */
    /* [source] */
    enum fs_source_kind source;
    char endpoint[FS_CONF_PATH]; /* "" = in-process */
    char server[256];            /* dsbackup / certsrv SERVER */
    char system_path[FS_CONF_PATH];
    char log_path[FS_CONF_PATH];
    char base_name[8]; /* default "edb" */
    char instance[64]; /* default "esebackupfs" */
    char databases[FS_CONF_MAX_DBS][FS_CONF_PATH];
    int ndatabases;
    unsigned long page_size;         /* 0 = engine default */
    unsigned long log_file_size_kib; /* 0 = engine default */
    /* [backup] */
    enum fs_backup_type type;
    enum fs_truncate truncate;
    uint64_t max_duration_s; /* fail the backup after this long, 0 = off */
    uint64_t idle_timeout_s; /* fail it after this long without a read or list, 0 = off */
    uint64_t max_rate;       /* bytes/s pulled from the engine, 0 = unlimited */
    /* [spool] */
    char spool_dir[FS_CONF_PATH]; /* default /var/tmp */
    enum fs_spool_policy policy;
    uint64_t spool_cap; /* bytes, 0 = unlimited */
    uint64_t window;    /* stream window bytes */
    /* [mount] */
    int allow_other;
    int direct_io;
    uint64_t read_size;                  /* bytes per engine read */
    int read_size_line;                  /* line of read_size (0 = default) */
    int spool_dir_line;                  /* line of [spool] directory (0 = default) */
    int spool_cap_line;                  /* line of [spool] cap (0 = default) */
    int system_path_line, log_path_line; /* lines of those keys (0 = absent) */
    int databases_line;                  /* line of databases/database */
    int source_line;                     /* line of [source] */
    int instance_line;                   /* line of [source] instance (0 = default) */
    /* [report] ("" = not written) */
    char metrics_file[FS_CONF_PATH]; /* Prometheus text, written at the end */
    char json_file[FS_CONF_PATH];    /* the same as JSON */
} fs_config;

/* The smallest max_rate accepted (bytes/s; 0 = unlimited). */
#define FS_MIN_RATE (64u << 10)

/* Defaults for every key. */
void fs_conf_defaults(fs_config *cfg);

#define FS_CONF_MAX_KEYS 64
#define FS_CONF_MAX_TEXT (1 << 20)

/* The state of one parse.  The key validation is the core's (conf.c); the
 * reading of the file is the adapter's (src/fs/posix/conf_ini.c, with
 * inih), which feeds it: fs_conf_begin, then for every line it reads
 * (setting `line`) fs_conf_section_line for a section header and
 * fs_conf_key for a key, then fs_conf_end.  A Windows adapter feeds the
 * same calls from its own reader. */
typedef struct fs_conf_parse {
    fs_config *cfg;
    const char *name; /* file name for messages */
    const char *p;    /* reader position in the text (the reader's) */
    int line;         /* line number of the line last read (reader sets) */
    int failed;       /* first error recorded */
    char *err;
    size_t cb_err;
    char seen[FS_CONF_MAX_KEYS][48];    /* "section.key" already set (canonical) */
    char seen_as[FS_CONF_MAX_KEYS][32]; /* the key as written */
    int seen_line[FS_CONF_MAX_KEYS];    /* its line */
    int nseen;
    int seen_sections; /* bit per known section */
    int key_lines[32]; /* line of selected keys, see KL_* in conf.c */
    int win_dbs;       /* how many databases are Windows paths */
    int windows;       /* this build serves the Windows sources (fs_plat_windows) */
} fs_conf_parse;

/* Start a parse: defaults into cfg, errors into err. */
void fs_conf_begin(fs_conf_parse *cp, const char *name, fs_config *cfg, char *err, size_t cb_err);
/* A section header line s (trimmed, starting with '['), at cp->line:
 * known, not repeated, nothing after ']'.  Errors are recorded in cp. */
void fs_conf_section_line(fs_conf_parse *cp, const char *s);
/* One key = value of section at cp->line.  1, or 0 after recording the
 * first error (the inih handler convention). */
int fs_conf_key(fs_conf_parse *cp, const char *section, const char *key, const char *value);
/* Record an error "NAME:LINE: msg" unless one is recorded.  Returns 0. */
int fs_conf_fail(fs_conf_parse *cp, int line, const char *fmt, ...) FS_PRINTF(3, 4);
/* Whole-file rules.  0, or -1 with "NAME:LINE: what is wrong" in err. */
int fs_conf_end(fs_conf_parse *cp);

/* Parse "123", "64K", "1M", "2G" (binary units) into bytes; 0 or -1. */
int fs_conf_parse_size(const char *s, uint64_t *out);

/* Parse a duration: "0", or digits with one unit s, m, h or d ("45s",
 * "30m", "6h", "2d") into seconds; at most FS_CONF_MAX_DURATION.  0, -1
 * (not a duration) or -2 (out of range).  Pure. */
int fs_conf_parse_duration(const char *s, uint64_t *secs);
#define FS_CONF_MAX_DURATION (3650ull * 86400) /* ten years */
/* Write secs as the INI spells it, in the largest unit that divides it
 * ("6h", "90m", "45s", "0") into buf.  Pure (writes only buf). */
void fs_conf_duration_name(uint64_t secs, char *buf, size_t cb);

const char *fs_conf_truncate_name(enum fs_truncate t);
const char *fs_conf_policy_name(enum fs_spool_policy p);
const char *fs_conf_type_name(enum fs_backup_type t);

#endif
