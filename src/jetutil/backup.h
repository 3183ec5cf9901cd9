/*
 * backup.h -- the backup-call table jetutil's streaming client uses, with
 * two implementations: in-process (jet.h calls on an instance hosted by
 * jetutil) and over a backup endpoint (endpoint.h Jep* calls).  Also the
 * label file of a backup directory.
 *
 * Thread safety: one bk_src per thread.
 */
#ifndef JETUTIL_BACKUP_H
#define JETUTIL_BACKUP_H

#include "endpoint.h"
#include "jetutil.h"

typedef struct bk_src {
    bool remote;
    jep_client *cl;          /* remote */
    ju_inst ji;              /* in-process */
    bool have_inst;
    ju_bank bank;            /* in-process: keeps the database attached */
    unsigned long cb_page, legacy;
    char base[JET_BASE_NAME_LENGTH + 1];
    unsigned long log_kib;   /* 0 if unknown (remote) */
} bk_src;

/* Connect to SOCKET (remote) or open the instance in DIR in-process.
 * Prints one error line on failure. */
JET_ERR bk_src_open(const char *cmd, bk_src *s, const char *endpoint, const char *dir);
void bk_src_close(bk_src *s);

JET_ERR bk_begin(bk_src *s, JET_GRBIT grbit);
JET_ERR bk_attach_info(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb);
JET_ERR bk_open(bk_src *s, const char *name, JET_HANDLE *ph, unsigned long *lo, unsigned long *hi);
JET_ERR bk_read(bk_src *s, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb);
JET_ERR bk_close(bk_src *s, JET_HANDLE h);
JET_ERR bk_loginfo(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb, JET_LOGINFO_A *li);
JET_ERR bk_trunc_info(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb);
JET_ERR bk_truncate(bk_src *s);
JET_ERR bk_end(bk_src *s, JET_GRBIT grbit);

/* The label file DEST/jetutil-backup.label. */
#define BK_MAX_DBS 8
typedef struct bk_label {
    char type[16];               /* full, copy, incremental, differential */
    unsigned ndb;
    char db_orig[BK_MAX_DBS][JU_PATH]; /* original absolute paths */
    char db_file[BK_MAX_DBS][256];     /* file name inside the backup dir */
    char base[JET_BASE_NAME_LENGTH + 1];
    unsigned long page_size, legacy, log_kib;
    unsigned long gen_low, gen_high;
    unsigned long backups;       /* full + incrementals written here */
    bool have_committed;
    unsigned long long committed_at_roll;
} bk_label;
/* Read/write DEST/jetutil-backup.label; errors printed (prefix cmd). */
int bk_label_read(const char *cmd, const char *dir, bk_label *l);
int bk_label_write(const char *cmd, const char *dir, const bk_label *l);

/* ---- backup directories for restore (manifest.c) ----
 * A set = one backup directory: the jetutil layout (JU_LABEL, databases
 * and logs side by side, no checksums) or a copy of an esebackupfs mount
 * (BK_FS_LABEL, databases at the top, logs in logs/, BK_FS_MANIFEST with
 * the SHA-256 and size of every file and the log generation range). */
#define BK_FS_LABEL "backup_label"
#define BK_FS_MANIFEST "manifest"
#define BK_MAX_SETS 16
typedef struct bk_entry {
    char rel[320];               /* NAME or logs/NAME, relative to the set */
    unsigned char sha[32];
    bool have_sha, have_size;
    unsigned long long size;
    unsigned line;               /* manifest line of the checksum */
} bk_entry;
typedef struct bk_set {
    char dir[JU_PATH];           /* as given on the command line */
    bool esefs;                  /* esebackupfs copy (else jetutil layout) */
    bk_label l;                  /* normalised: type, base, page size, legacy,
                                    log_kib (0 = unknown), range, databases */
    bk_entry *ent;               /* manifest entries (esefs only) */
    size_t nent, cap;
} bk_set;
/* Load DIR (either layout) into s.  0, or -1 after printing one line. */
int bk_set_load(const char *cmd, const char *dir, bk_set *s);
void bk_set_free(bk_set *s);
/* Manifest entry named rel, or NULL. */
const bk_entry *bk_set_find(const bk_set *s, const char *rel);
/* Path of log generation gen relative to the set's directory; 0 or -1. */
int bk_set_log_rel(const bk_set *s, unsigned long gen, char *rel, size_t cb);
/* File name of database i in the set's directory. */
const char *bk_set_db_rel(const bk_set *s, unsigned i);
/* Size + SHA-256 of every manifest entry; read-only.  Number of files
 * checked (0 without a manifest), or -1 after one line naming the file. */
long bk_set_verify(const char *cmd, const bk_set *s);

#endif /* JETUTIL_BACKUP_H */
