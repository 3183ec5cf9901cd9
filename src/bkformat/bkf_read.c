/*
 * bkf_read.c -- the backup-directory format, reading side: a backup
 * directory as `jetutil restore` reads it (jetutil's label: bkf_julabel.c).
 * The jetutil layout (DIR/jetutil-backup.label, databases and logs side by
 * side) and a copy of an esebackupfs mount:
 *
 *   DIR/backup_label     "key: value" lines (docs/formats.md)
 *   DIR/<database>       the database stream(s)
 *   DIR/logs/<log>       the archived logs
 *   DIR/manifest         sha256sum text format ("HEX  REL"), plus '#' lines
 *   DIR/logs/manifest    the same format for the logs, with the generation
 *                        range and the committed counter
 *                        (older copies have one manifest listing it all)
 *
 * Version 1 (no version line) and version 2 are read; see bkformat.h.
 * A set is normalised to a bkf_label plus the list of manifest entries,
 * and bkf_set_verify checks every listed file's size and SHA-256 (OpenSSL
 * libcrypto) without writing anything.
 *
 * Thread safety: no shared state; one bkf_set per thread.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <stdarg.h>
#include <stdio.h>
#include "bkformat.h"
#include "bkf_int.h"

#define LOGS_DIR BKF_LOGS_DIR "/"

/* Free the entry table of s (the set itself is the caller's).  Safe twice. */
void bkf_set_free(bkf_set *s)
{
    free(s->ent);
    s->ent = NULL;
    s->nent = s->cap = 0;
}

/* Entry of s named rel (relative path), or NULL. */
const bkf_entry *bkf_set_find(const bkf_set *s, const char *rel)
{
    for (size_t i = 0; i < s->nent; i++)
        if (strcmp(s->ent[i].rel, rel) == 0)
            return &s->ent[i];
    return NULL;
}

/* Entry named rel, created (zeroed, line recorded) if absent.  NULL on out
 * of memory (errno ENOMEM). */
static bkf_entry *entry_get(bkf_set *s, const char *rel, unsigned line)
{
    bkf_entry *e = (bkf_entry *)bkf_set_find(s, rel);

    if (e)
        return e;
    if (s->nent == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        bkf_entry *n = realloc(s->ent, cap * sizeof *n);
        if (!n)
            return NULL;
        s->ent = n;
        s->cap = cap;
    }
    e = &s->ent[s->nent++];
    memset(e, 0, sizeof *e);
    snprintf(e->rel, sizeof e->rel, "%s", rel);
    e->line = line;
    return e;
}

/* Relative path (within s's directory) of log generation gen into rel.
 * 0, or -1 when the name does not fit or the base name is bad. */
int bkf_set_log_rel(const bkf_set *s, unsigned long gen, char *rel, size_t cb)
{
    char name[64];

    if (bkf_log_name(name, sizeof name, s->l.base, gen, s->l.legacy) < 0)
        return -1;
    if ((size_t)snprintf(rel, cb, "%s%s", s->esefs ? LOGS_DIR : "", name) >= cb)
        return -1;
    return 0;
}

/* Relative path of database i of s (the file name in the directory). */
const char *bkf_set_db_rel(const bkf_set *s, unsigned i)
{
    return s->l.db_file[i];
}

/* A manifest path must be NAME or logs/NAME (no '/', not "." or ".."). */
static bool rel_ok(const char *rel)
{
    const char *name = strncmp(rel, LOGS_DIR, strlen(LOGS_DIR)) == 0 ? rel + strlen(LOGS_DIR) : rel;

    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(rel) < sizeof((bkf_entry *)0)->rel;
}

/* Hex digit value or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse one '#' line of the manifest into s (unknown ones are comments).
 * 0, or -1 after printing `jetutil CMD: FILE:LINE: what`. */
static int manifest_hash_line(bkf_err *er, const char *path, unsigned lineno, char *line,
                              bkf_set *s, bool *have_gens)
{
    unsigned long lo, hi;
    unsigned long long v;
    char rel[512];
    int used = 0;

    if (sscanf(line, "# log-generations %lu-%lu%n", &lo, &hi, &used) == 2 && !line[used]) {
        if (lo < 1 || hi < lo || hi > BKF_GEN_MAX) {
            bkf_fail(er, "%s:%u: bad log generation range %lu-%lu", path, lineno, lo, hi);
            return -1;
        }
        s->l.gen_low = lo;
        s->l.gen_high = hi;
        *have_gens = true;
    } else if (sscanf(line, "# committed-at-roll %llu%n", &v, &used) == 1 && !line[used]) {
        s->l.committed_at_roll = v;
        s->l.have_committed = true;
    } else if (strncmp(line, "# size ", 7) == 0 && strrchr(line + 7, ' ') &&
               (size_t)(strrchr(line + 7, ' ') - (line + 7)) < sizeof rel &&
               sscanf(strrchr(line + 7, ' '), " %llu%n", &v, &used) == 1 &&
               !strrchr(line + 7, ' ')[used]) {
        /* "# size REL BYTES": REL may contain spaces, BYTES is the last word */
        const char *sp = strrchr(line + 7, ' ');
        bkf_entry *e;
        memcpy(rel, line + 7, (size_t)(sp - (line + 7)));
        rel[sp - (line + 7)] = '\0';
        if (!rel_ok(rel)) {
            bkf_fail(er, "%s:%u: unexpected path '%s' (a manifest lists NAME or logs/NAME)", path,
                     lineno, rel);
            return -1;
        }
        e = entry_get(s, rel, lineno);
        if (!e) {
            bkf_fail(er, "%s: %s", path, strerror(ENOMEM));
            return -1;
        }
        if (e->have_size && e->size != v) {
            bkf_fail(er, "%s:%u: %s listed with two different sizes", path, lineno, rel);
            return -1;
        }
        e->size = v;
        e->have_size = true;
    }
    return 0;
}

/* The version line of a manifest (line 1): none = version 1, "# esebackupfs-
 * manifest 2" = version 2; any other version is refused.  0 or -1. */
static int manifest_version(bkf_err *er, const char *path, const char *line)
{
    static const char tag[] = "# esebackupfs-manifest ";
    unsigned long v;
    int used = 0;

    if (strncmp(line, tag, sizeof tag - 1) != 0)
        return 0;
    if (sscanf(line + sizeof tag - 1, "%lu%n", &v, &used) != 1 || line[sizeof tag - 1 + used] ||
        v < 1 || v > BKF_VERSION) {
        bkf_fail(er, "%s:1: unknown manifest version '%s' (this release reads versions 1 to %d)",
                 path, line + sizeof tag - 1, BKF_VERSION);
        return -1;
    }
    return 0;
}

/* Parse line LINENO of manifest PATH, a checksum line of LEN bytes
 * (sha256sum text or binary format: 64 hex, ' ', ' ' or '*', path), into
 * the entry of its file in s.  0, or -1 after printing one line. */
static int manifest_sha_line(bkf_err *er, bkf_set *s, const char *path, unsigned lineno,
                             const char *line, ssize_t len)
{
    unsigned char sha[32];
    const char *rel;
    bkf_entry *e;

    if (len < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
        goto bad;
    for (int i = 0; i < 32; i++) {
        int h = hexval(line[2 * i]), l = hexval(line[2 * i + 1]);
        if (h < 0 || l < 0)
            goto bad;
        sha[i] = (unsigned char)(h << 4 | l);
    }
    rel = line + 66;
    if (strncmp(rel, "./", 2) == 0)
        rel += 2;
    if (!rel_ok(rel)) {
        bkf_fail(er, "%s:%u: unexpected path '%s' (a manifest lists NAME or logs/NAME)", path,
                 lineno, rel);
        return -1;
    }
    e = entry_get(s, rel, lineno);
    if (!e) {
        bkf_fail(er, "%s: %s", path, strerror(ENOMEM));
        return -1;
    }
    if (e->have_sha && memcmp(e->sha, sha, sizeof sha) != 0) {
        bkf_fail(er, "%s:%u: %s listed twice with different SHA-256", path, lineno, rel);
        return -1;
    }
    if (!e->have_sha)
        e->line = lineno;
    memcpy(e->sha, sha, sizeof sha);
    e->have_sha = true;
    return 0;
bad:
    bkf_fail(er, "%s:%u: expected 'SHA256  PATH' (sha256sum format) or a '#' line", path, lineno);
    return -1;
}

/* Parse the manifest DIR/REL into s: checksums, sizes, range, committed
 * counter (*have_gens set by a range line).  A missing file, a FIFO or
 * device is refused without blocking.  0, or -1 after printing one line. */
static int manifest_parse(bkf_err *er, bkf_set *s, const char *rel_file, bool *have_gens)
{
    char path[BKF_PATH + 32];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = -1;
    FILE *f;
    unsigned kind;

    snprintf(path, sizeof path, "%s/%s", s->dir, rel_file);
    f = bkf_fopen_read(path, &kind);
    if (!f) {
        bkf_open_fail(er, path, kind,
                      kind ? NULL : "an esebackupfs copy must hold both manifests, copied last");
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (line[0] == '\0')
            continue;
        if (lineno == 1 && manifest_version(er, path, line) < 0)
            goto out;
        if (line[0] == '#') {
            if (manifest_hash_line(er, path, lineno, line, s, have_gens) < 0)
                goto out;
            continue;
        }
        if (manifest_sha_line(er, s, path, lineno, line, len) < 0)
            goto out;
    }
    if (ferror(f)) {
        bkf_fail(er, "%s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

/* Parse DIR/manifest, and DIR/logs/manifest when the first lists it (the
 * current layout: the root manifest's size is known at mount, the logs'
 * digests live in logs/manifest), into s.  0, or -1 after printing one
 * line. */
static int manifest_read(bkf_err *er, bkf_set *s)
{
    char path[BKF_PATH + 32];
    bool have_gens = false;

    if (manifest_parse(er, s, BKF_MANIFEST_NAME, &have_gens) < 0)
        return -1;
    if (bkf_set_find(s, LOGS_DIR BKF_MANIFEST_NAME) &&
        manifest_parse(er, s, LOGS_DIR BKF_MANIFEST_NAME, &have_gens) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", s->dir, BKF_MANIFEST_NAME);
    if (!have_gens) {
        bkf_fail(er, "%s: no '# log-generations LOW-HIGH' line (not an esebackupfs manifest?)",
                 path);
        return -1;
    }
    for (size_t i = 0; i < s->nent; i++) {
        if (!s->ent[i].have_sha) {
            bkf_fail(er, "%s:%u: %s has a size line but no SHA-256 line", path, s->ent[i].line,
                     s->ent[i].rel);
            return -1;
        }
    }
    return 0;
}

/* A decimal unsigned long in val (all of it) into *pv; 0 or -1. */
static int parse_ulong(const char *val, unsigned long *pv)
{
    char *end;

    errno = 0;
    *pv = strtoul(val, &end, 10);
    return *val && !*end && !errno ? 0 : -1;
}

/* Apply one "key: value" line of backup_label to s->l.  Unknown keys
 * (start-time, instance, source, truncate, ...) are informative.  0, or -1
 * after one FILE:LINE error. */
static int fslabel_kv(bkf_err *er, const char *path, unsigned lineno, const char *key,
                      const char *val, bkf_label *l)
{
    const char *b;

    if (!strcmp(key, "format")) {
        if (lineno != 1 || strcmp(val, "2") != 0) {
            bkf_fail(er,
                     "%s:%u: unknown label format '%s' (this release reads format 2 on "
                     "line 1, and labels without a format line as format 1)",
                     path, lineno, val);
            return -1;
        }
        l->version = 2;
    } else if (!strcmp(key, "legacy-file-names")) {
        if (parse_ulong(val, &l->legacy) < 0 || l->legacy > 3)
            goto bad;
        l->have_legacy = true;
    } else if (!strcmp(key, "backup-type")) {
        if (strlen(val) >= sizeof l->type)
            goto bad;
        strcpy(l->type, val);
    } else if (!strcmp(key, "page-size")) {
        if (parse_ulong(val, &l->page_size) < 0 || !l->page_size)
            goto bad;
    } else if (!strcmp(key, "log-base-name")) {
        if (strlen(val) != BKF_BASE_LEN)
            goto bad;
        strcpy(l->base, val);
    } else if (!strcmp(key, "database")) {
        /* An absolute POSIX path, or a Windows one as the Windows
         * backends record it (X:\..., \\server\...): the file is the last
         * component. */
        bool win = (((val[0] | 0x20) >= 'a' && (val[0] | 0x20) <= 'z' && val[1] == ':' &&
                     val[2] == '\\') ||
                    (val[0] == '\\' && val[1] == '\\'));
        b = strrchr(val, win ? '\\' : '/');
        b = b ? b + 1 : val;
        if (l->ndb >= BKF_MAX_DBS || (val[0] != '/' && !win) || strlen(val) >= BKF_PATH || !*b ||
            strlen(b) >= sizeof l->db_file[0])
            goto bad;
        strcpy(l->db_orig[l->ndb], val);
        strcpy(l->db_file[l->ndb], b);
        l->ndb++;
    }
    return 0;
bad:
    bkf_fail(er, "%s:%u: bad value '%s' for %s", path, lineno, val, key);
    return -1;
}

/* Parse DIR/backup_label ("key: value"; version line first in version 2)
 * into s->l.  0, or -1 (er). */
static int fslabel_read(bkf_err *er, bkf_set *s)
{
    char path[BKF_PATH + 32];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = -1;
    FILE *f;
    unsigned kind;

    snprintf(path, sizeof path, "%s/%s", s->dir, BKF_LABEL_NAME);
    f = bkf_fopen_read(path, &kind);
    if (!f) {
        bkf_open_fail(er, path, kind, NULL);
        return -1;
    }
    s->l.version = 1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *val;
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        val = strstr(line, ": ");
        if (!val) {
            bkf_fail(er, "%s:%u: expected 'key: value'", path, lineno);
            goto out;
        }
        *val = '\0';
        if (fslabel_kv(er, path, lineno, line, val + 2, &s->l) < 0)
            goto out;
    }
    if (!s->l.type[0] || !s->l.page_size || !s->l.base[0] ||
        (s->l.version >= 2 && !s->l.have_legacy)) {
        bkf_fail(er, "%s: incomplete label (backup-type, page-size, log-base-name%s required)",
                 path, s->l.version >= 2 ? ", legacy-file-names" : "");
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

/* Legacy file-name bits and log size of an esebackupfs set, from the log
 * names and sizes its manifest lists.  0, or -1 (printed). */
static int fs_infer_logs(bkf_err *er, bkf_set *s)
{
    /* version 2 names its style; version 1: ESE98 + 8.3 first, as written */
    static const unsigned long cand[] = { 0x3, 0x1, 0x2, 0 };
    size_t ncand = s->l.have_legacy ? 1 : sizeof cand / sizeof cand[0];
    char rel[320];

    for (unsigned long g = s->l.gen_low; g <= s->l.gen_high; g++) {
        for (size_t i = 0; i < ncand; i++) {
            const bkf_entry *e;
            if (!s->l.have_legacy)
                s->l.legacy = cand[i];
            if (bkf_set_log_rel(s, g, rel, sizeof rel) < 0)
                continue;
            e = bkf_set_find(s, rel);
            if (e) {
                s->l.log_kib = e->have_size ? (unsigned long)(e->size / 1024) : 0;
                return 0;
            }
        }
    }
    if (!s->l.have_legacy)
        s->l.legacy = cand[0];
    if (bkf_set_log_rel(s, s->l.gen_low, rel, sizeof rel) < 0)
        rel[0] = '\0';
    bkf_fail(er,
             "%s/%s: lists no log of generations %lu-%lu (e.g. %s): JET_errMissingLogFile (-528)",
             s->dir, BKF_MANIFEST_NAME, s->l.gen_low, s->l.gen_high, rel);
    return -1;
}

/* Load the backup directory dir into s (zeroed first).  0, or -1 after
 * printing one line: neither layout, a malformed label or manifest. */
static int set_load(bkf_err *er, const char *dir, bkf_set *s)
{
    char path[BKF_PATH + 32];
    struct stat st;

    memset(s, 0, sizeof *s);
    if (strlen(dir) >= sizeof s->dir - 1) {
        bkf_fail(er, "%s: path too long", dir);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/%s", dir, BKF_JU_LABEL_NAME);
    if (stat(path, &st) == 0)
        return bkf_julabel_parse(er, dir, &s->l);
    snprintf(path, sizeof path, "%s/%s", dir, BKF_LABEL_NAME);
    if (stat(path, &st) != 0) {
        if (stat(dir, &st) != 0)
            bkf_fail(er, "%s: %s", dir, strerror(errno));
        else
            bkf_fail(er,
                     "%s: not a backup directory (neither a jetutil backup with %s nor a copy "
                     "of an esebackupfs mount with %s and %s)",
                     dir, BKF_JU_LABEL_NAME, BKF_LABEL_NAME, BKF_MANIFEST_NAME);
        return -1;
    }
    s->esefs = true;
    if (fslabel_read(er, s) < 0)
        goto fail;
    if (manifest_read(er, s) < 0)
        goto fail;
    if (fs_infer_logs(er, s) < 0)
        goto fail;
    for (unsigned i = 0; i < s->l.ndb; i++) {
        if (!bkf_set_find(s, s->l.db_file[i])) {
            bkf_fail(er, "%s/%s: database %s of %s is not listed, it cannot be verified", dir,
                     BKF_MANIFEST_NAME, s->l.db_file[i], BKF_LABEL_NAME);
            goto fail;
        }
    }
    return 0;
fail:
    bkf_set_free(s);
    return -1;
}

/* SHA-256 and size of the open file fd into md/psize.  0, or -1 with
 * errno (EIO for a libcrypto failure). */
static int sha256_fd(int fd, unsigned char md[32], unsigned long long *psize)
{
    static const size_t cb = 1 << 20;
    unsigned char *buf = malloc(cb);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned long long total = 0;
    unsigned int mdlen = 0;
    int rc = -1;

    if (!buf || !ctx) {
        errno = ENOMEM;
        goto out;
    }
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto crypto;
    for (;;) {
        ssize_t n = read(fd, buf, cb);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if (n == 0)
            break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto crypto;
        total += (unsigned long long)n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto crypto;
    *psize = total;
    rc = 0;
    goto out;
crypto:
    errno = EIO;
out:
    EVP_MD_CTX_free(ctx);
    free(buf);
    return rc;
}

/* Check every file the manifest of s lists: present, a regular file, the
 * size of its "# size" line, the SHA-256 of its checksum line.  Nothing is
 * written.  Returns the number of files checked (0 for a jetutil-layout
 * set, which has no manifest), or -1 after printing one line naming the
 * first bad file. */
static long set_verify(bkf_err *er, const bkf_set *s)
{
    char path[BKF_PATH + 512];
    long n = 0;

    for (size_t i = 0; i < s->nent; i++) {
        const bkf_entry *e = &s->ent[i];
        unsigned char md[32];
        unsigned long long size = 0;
        struct stat st;
        unsigned kind;
        int fd, r;

        snprintf(path, sizeof path, "%s/%s", s->dir, e->rel);
        fd = bkf_open_regular(path, O_RDONLY, 0, &kind);
        if (fd < 0) {
            if (!kind && errno == ENOENT)
                bkf_fail(er, "%s: missing (listed in %s/%s:%u)", path, s->dir, BKF_MANIFEST_NAME,
                         e->line);
            else
                bkf_open_fail(er, path, kind, NULL);
            return -1;
        }
        if (fstat(fd, &st) < 0) {
            bkf_fail(er, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (e->have_size && (unsigned long long)st.st_size != e->size) {
            bkf_fail(er, "%s: size %llu, the manifest says %llu (%s/%s)", path,
                     (unsigned long long)st.st_size, e->size, s->dir, BKF_MANIFEST_NAME);
            close(fd);
            return -1;
        }
        r = sha256_fd(fd, md, &size);
        close(fd);
        if (r < 0) {
            bkf_fail(er, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (e->have_size && size != e->size) {
            bkf_fail(er, "%s: %llu bytes read, the manifest says %llu (%s/%s)", path, size, e->size,
                     s->dir, BKF_MANIFEST_NAME);
            return -1;
        }
        if (memcmp(md, e->sha, sizeof md) != 0) {
            bkf_fail(er, "%s: SHA-256 does not match the manifest (%s/%s:%u)", path, s->dir,
                     BKF_MANIFEST_NAME, e->line);
            return -1;
        }
        n++;
    }
    return n;
}

/* See bkformat.h. */
int bkf_set_load(const char *dir, bkf_set *s, char *err, size_t cb_err)
{
    bkf_err er = { err, cb_err };

    if (cb_err)
        err[0] = '\0';
    return set_load(&er, dir, s);
}

/* See bkformat.h. */
long bkf_set_verify(const bkf_set *s, char *err, size_t cb_err)
{
    bkf_err er = { err, cb_err };

    if (cb_err)
        err[0] = '\0';
    return set_verify(&er, s);
}
