/*
 * manifest.c -- backup directories as `jetutil restore` reads them: the
 * jetutil layout (DIR/jetutil-backup.label, databases and logs side by
 * side) and a copy of an esebackupfs mount (docs/fs-design.md):
 *
 *   DIR/backup_label     "key: value" lines: backup-type, page-size,
 *                        log-base-name, database: ORIGINAL-PATH (full)...
 *   DIR/<database>       the database stream(s)
 *   DIR/logs/<log>       the archived logs
 *   DIR/manifest         sha256sum text format ("HEX  REL"), plus '#' lines:
 *                        "# size REL BYTES", "# backup-type T", ...; lists
 *                        the databases and logs/manifest
 *   DIR/logs/manifest    the same format for the logs, with
 *                        "# log-generations LOW-HIGH" (decimal) and
 *                        "# committed-at-roll N|unknown"
 *                        (older copies have one manifest listing it all)
 *
 * A set is normalised to a bk_label plus the list of manifest entries, and
 * bk_set_verify checks every listed file's size and SHA-256 (OpenSSL
 * libcrypto) without writing anything.
 *
 * Thread safety: no shared state; one bk_set per thread.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "backup.h"
#include "jetfmt.h"

#define LOGS_DIR "logs/"

/* Free the entry table of s (the set itself is the caller's).  Safe twice. */
void bk_set_free(bk_set *s)
{
    free(s->ent);
    s->ent = NULL;
    s->nent = s->cap = 0;
}

/* Entry of s named rel (relative path), or NULL. */
const bk_entry *bk_set_find(const bk_set *s, const char *rel)
{
    for (size_t i = 0; i < s->nent; i++)
        if (strcmp(s->ent[i].rel, rel) == 0) return &s->ent[i];
    return NULL;
}

/* Entry named rel, created (zeroed, line recorded) if absent.  NULL on out
 * of memory (errno ENOMEM). */
static bk_entry *entry_get(bk_set *s, const char *rel, unsigned line)
{
    bk_entry *e = (bk_entry *)bk_set_find(s, rel);

    if (e) return e;
    if (s->nent == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        bk_entry *n = realloc(s->ent, cap * sizeof *n);
        if (!n) return NULL;
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
int bk_set_log_rel(const bk_set *s, unsigned long gen, char *rel, size_t cb)
{
    char name[64];

    if (jf_log_name(name, sizeof name, s->l.base, (uint32_t)gen, (unsigned)s->l.legacy) < 0)
        return -1;
    if ((size_t)snprintf(rel, cb, "%s%s", s->esefs ? LOGS_DIR : "", name) >= cb) return -1;
    return 0;
}

/* Relative path of database i of s (the file name in the directory). */
const char *bk_set_db_rel(const bk_set *s, unsigned i)
{
    return s->l.db_file[i];
}

/* A manifest path must be NAME or logs/NAME (no '/', not "." or ".."). */
static bool rel_ok(const char *rel)
{
    const char *name = strncmp(rel, LOGS_DIR, strlen(LOGS_DIR)) == 0 ? rel + strlen(LOGS_DIR) : rel;

    return *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strlen(rel) < sizeof ((bk_entry *)0)->rel;
}

/* Hex digit value or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse one '#' line of the manifest into s (unknown ones are comments).
 * 0, or -1 after printing `jetutil CMD: FILE:LINE: what`. */
static int manifest_hash_line(const char *cmd, const char *path, unsigned lineno, char *line,
                              bk_set *s, bool *have_gens)
{
    unsigned long lo, hi;
    unsigned long long v;
    char rel[512];
    int used = 0;

    if (sscanf(line, "# log-generations %lu-%lu%n", &lo, &hi, &used) == 2 && !line[used]) {
        if (lo < 1 || hi < lo || hi > JF_GEN_MAX) {
            ju_error(cmd, "%s:%u: bad log generation range %lu-%lu", path, lineno, lo, hi);
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
        bk_entry *e;
        memcpy(rel, line + 7, (size_t)(sp - (line + 7)));
        rel[sp - (line + 7)] = '\0';
        if (!rel_ok(rel)) {
            ju_error(cmd, "%s:%u: unexpected path '%s' (a manifest lists NAME or logs/NAME)", path,
                     lineno, rel);
            return -1;
        }
        e = entry_get(s, rel, lineno);
        if (!e) {
            ju_error(cmd, "%s: %s", path, strerror(ENOMEM));
            return -1;
        }
        if (e->have_size && e->size != v) {
            ju_error(cmd, "%s:%u: %s listed with two different sizes", path, lineno, rel);
            return -1;
        }
        e->size = v;
        e->have_size = true;
    }
    return 0;
}

/* Parse the manifest DIR/REL into s: checksums, sizes, range, committed
 * counter (*have_gens set by a range line).  A missing file, a FIFO or
 * device is refused without blocking.  0, or -1 after printing one line. */
static int manifest_parse(const char *cmd, bk_set *s, const char *rel_file, bool *have_gens)
{
    char path[JU_PATH + 32];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = -1;
    FILE *f;
    mode_t kind;

    snprintf(path, sizeof path, "%s/%s", s->dir, rel_file);
    f = ju_fopen_read(path, &kind);
    if (!f) {
        ju_open_error(cmd, path, kind,
                      kind ? NULL : "an esebackupfs copy must hold both manifests, copied last");
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        unsigned char sha[32];
        const char *rel;
        bk_entry *e;
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (line[0] == '\0') continue;
        if (line[0] == '#') {
            if (manifest_hash_line(cmd, path, lineno, line, s, have_gens) < 0) goto out;
            continue;
        }
        /* sha256sum text or binary format: 64 hex, ' ', ' ' or '*', path */
        if (len < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*')) goto bad;
        for (int i = 0; i < 32; i++) {
            int h = hexval(line[2 * i]), l = hexval(line[2 * i + 1]);
            if (h < 0 || l < 0) goto bad;
            sha[i] = (unsigned char)(h << 4 | l);
        }
        rel = line + 66;
        if (strncmp(rel, "./", 2) == 0) rel += 2;
        if (!rel_ok(rel)) {
            ju_error(cmd, "%s:%u: unexpected path '%s' (a manifest lists NAME or logs/NAME)", path,
                     lineno, rel);
            goto out;
        }
        e = entry_get(s, rel, lineno);
        if (!e) {
            ju_error(cmd, "%s: %s", path, strerror(ENOMEM));
            goto out;
        }
        if (e->have_sha && memcmp(e->sha, sha, sizeof sha) != 0) {
            ju_error(cmd, "%s:%u: %s listed twice with different SHA-256", path, lineno, rel);
            goto out;
        }
        if (!e->have_sha) e->line = lineno;
        memcpy(e->sha, sha, sizeof sha);
        e->have_sha = true;
        continue;
    bad:
        ju_error(cmd, "%s:%u: expected 'SHA256  PATH' (sha256sum format) or a '#' line", path,
                 lineno);
        goto out;
    }
    if (ferror(f)) {
        ju_error(cmd, "%s: %s", path, strerror(errno));
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
static int manifest_read(const char *cmd, bk_set *s)
{
    char path[JU_PATH + 32];
    bool have_gens = false;

    if (manifest_parse(cmd, s, BK_FS_MANIFEST, &have_gens) < 0) return -1;
    if (bk_set_find(s, LOGS_DIR BK_FS_MANIFEST) &&
        manifest_parse(cmd, s, LOGS_DIR BK_FS_MANIFEST, &have_gens) < 0)
        return -1;
    snprintf(path, sizeof path, "%s/%s", s->dir, BK_FS_MANIFEST);
    if (!have_gens) {
        ju_error(cmd, "%s: no '# log-generations LOW-HIGH' line (not an esebackupfs manifest?)",
                 path);
        return -1;
    }
    for (size_t i = 0; i < s->nent; i++) {
        if (!s->ent[i].have_sha) {
            ju_error(cmd, "%s:%u: %s has a size line but no SHA-256 line", path, s->ent[i].line,
                     s->ent[i].rel);
            return -1;
        }
    }
    return 0;
}

/* Parse DIR/backup_label ("key: value") into s->l.  0, or -1 (printed). */
static int fslabel_read(const char *cmd, bk_set *s)
{
    char path[JU_PATH + 32];
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = -1;
    FILE *f;
    mode_t kind;

    snprintf(path, sizeof path, "%s/%s", s->dir, BK_FS_LABEL);
    f = ju_fopen_read(path, &kind);
    if (!f) {
        ju_open_error(cmd, path, kind, NULL);
        return -1;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        char *val;
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = '\0';
        if (line[0] == '#' || line[0] == '\0') continue;
        val = strstr(line, ": ");
        if (!val) {
            ju_error(cmd, "%s:%u: expected 'key: value'", path, lineno);
            goto out;
        }
        *val = '\0';
        val += 2;
        if (!strcmp(line, "backup-type")) {
            if (strlen(val) >= sizeof s->l.type) goto bad;
            strcpy(s->l.type, val);
        } else if (!strcmp(line, "page-size")) {
            char *end;
            errno = 0;
            s->l.page_size = strtoul(val, &end, 10);
            if (!*val || *end || errno || !s->l.page_size) goto bad;
        } else if (!strcmp(line, "log-base-name")) {
            if (strlen(val) != JET_BASE_NAME_LENGTH) goto bad;
            strcpy(s->l.base, val);
        } else if (!strcmp(line, "database")) {
            const char *b = strrchr(val, '/');
            b = b ? b + 1 : val;
            if (s->l.ndb >= BK_MAX_DBS || val[0] != '/' || strlen(val) >= JU_PATH || !*b ||
                strlen(b) >= sizeof s->l.db_file[0])
                goto bad;
            strcpy(s->l.db_orig[s->l.ndb], val);
            strcpy(s->l.db_file[s->l.ndb], b);
            s->l.ndb++;
        }
        /* other keys (start-time, instance, source, truncate, ...) are informative */
        continue;
    bad:
        ju_error(cmd, "%s:%u: bad value '%s' for %s", path, lineno, val, line);
        goto out;
    }
    if (!s->l.type[0] || !s->l.page_size || !s->l.base[0]) {
        ju_error(cmd, "%s: incomplete label (backup-type, page-size, log-base-name required)", path);
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
static int fs_infer_logs(const char *cmd, bk_set *s)
{
    static const unsigned long cand[] = { JET_bitESE98FileNames | JET_bitEightDotThreeSoftCompat,
                                          JET_bitESE98FileNames, JET_bitEightDotThreeSoftCompat, 0 };
    char rel[320];

    for (unsigned long g = s->l.gen_low; g <= s->l.gen_high; g++) {
        for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++) {
            const bk_entry *e;
            s->l.legacy = cand[i];
            if (bk_set_log_rel(s, g, rel, sizeof rel) < 0) continue;
            e = bk_set_find(s, rel);
            if (e) {
                s->l.log_kib = e->have_size ? (unsigned long)(e->size / 1024) : 0;
                return 0;
            }
        }
    }
    s->l.legacy = cand[0];
    if (bk_set_log_rel(s, s->l.gen_low, rel, sizeof rel) < 0) rel[0] = '\0';
    ju_error(cmd, "%s/%s: lists no log of generations %lu-%lu (e.g. %s): %s (-528)", s->dir,
             BK_FS_MANIFEST, s->l.gen_low, s->l.gen_high, rel,
             JetLibErrorName(JET_errMissingLogFile));
    return -1;
}

/* Load the backup directory dir into s (zeroed first).  0, or -1 after
 * printing one line: neither layout, a malformed label or manifest. */
int bk_set_load(const char *cmd, const char *dir, bk_set *s)
{
    char path[JU_PATH + 32];
    struct stat st;

    memset(s, 0, sizeof *s);
    if (strlen(dir) >= sizeof s->dir - 1) {
        ju_error(cmd, "%s: path too long", dir);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(path, sizeof path, "%s/%s", dir, JU_LABEL);
    if (stat(path, &st) == 0) return bk_label_read(cmd, dir, &s->l);
    snprintf(path, sizeof path, "%s/%s", dir, BK_FS_LABEL);
    if (stat(path, &st) != 0) {
        if (stat(dir, &st) != 0)
            ju_error(cmd, "%s: %s", dir, strerror(errno));
        else
            ju_error(cmd, "%s: not a backup directory (neither a jetutil backup with %s nor a copy "
                          "of an esebackupfs mount with %s and %s)",
                     dir, JU_LABEL, BK_FS_LABEL, BK_FS_MANIFEST);
        return -1;
    }
    s->esefs = true;
    if (fslabel_read(cmd, s) < 0) goto fail;
    if (manifest_read(cmd, s) < 0) goto fail;
    if (fs_infer_logs(cmd, s) < 0) goto fail;
    for (unsigned i = 0; i < s->l.ndb; i++) {
        if (!bk_set_find(s, s->l.db_file[i])) {
            ju_error(cmd, "%s/%s: database %s of %s is not listed, it cannot be verified", dir,
                     BK_FS_MANIFEST, s->l.db_file[i], BK_FS_LABEL);
            goto fail;
        }
    }
    return 0;
fail:
    bk_set_free(s);
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
    if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) goto crypto;
    for (;;) {
        ssize_t n = read(fd, buf, cb);
        if (n < 0) {
            if (errno == EINTR) continue;
            goto out;
        }
        if (n == 0) break;
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) goto crypto;
        total += (unsigned long long)n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32) goto crypto;
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
long bk_set_verify(const char *cmd, const bk_set *s)
{
    char path[JU_PATH + 512];
    long n = 0;

    for (size_t i = 0; i < s->nent; i++) {
        const bk_entry *e = &s->ent[i];
        unsigned char md[32];
        unsigned long long size = 0;
        struct stat st;
        mode_t kind;
        int fd, r;

        snprintf(path, sizeof path, "%s/%s", s->dir, e->rel);
        fd = ju_open_regular(path, O_RDONLY, 0, &kind);
        if (fd < 0) {
            if (!kind && errno == ENOENT)
                ju_error(cmd, "%s: missing (listed in %s/%s:%u)", path, s->dir, BK_FS_MANIFEST,
                         e->line);
            else
                ju_open_error(cmd, path, kind, NULL);
            return -1;
        }
        if (fstat(fd, &st) < 0) {
            ju_error(cmd, "%s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        if (e->have_size && (unsigned long long)st.st_size != e->size) {
            ju_error(cmd, "%s: size %llu, the manifest says %llu (%s/%s)", path,
                     (unsigned long long)st.st_size, e->size, s->dir, BK_FS_MANIFEST);
            close(fd);
            return -1;
        }
        r = sha256_fd(fd, md, &size);
        close(fd);
        if (r < 0) {
            ju_error(cmd, "%s: %s", path, strerror(errno));
            return -1;
        }
        if (e->have_size && size != e->size) {
            ju_error(cmd, "%s: %llu bytes read, the manifest says %llu (%s/%s)", path, size,
                     e->size, s->dir, BK_FS_MANIFEST);
            return -1;
        }
        if (memcmp(md, e->sha, sizeof md) != 0) {
            ju_error(cmd, "%s: SHA-256 does not match the manifest (%s/%s:%u)", path, s->dir,
                     BK_FS_MANIFEST, e->line);
            return -1;
        }
        n++;
    }
    return n;
}
