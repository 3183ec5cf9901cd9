/*
 * bkformat.c -- the backup-directory format, writing side: log names,
 * esebackupfs's backup_label and manifests (docs/formats.md).  Reading
 * and jetutil's label: bkf_read.c.
 */
#include "config.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bkformat.h"

/* JET_paramLegacyFileNames bits (esent.h values). */
#define BKF_ESE98_NAMES 0x1u
#define BKF_EIGHT_DOT_THREE 0x2u

/* See bkformat.h. */
int bkf_log_name(char *buf, size_t cb, const char *base, unsigned long gen, unsigned long legacy)
{
    int n;

    if (!base || strlen(base) != BKF_BASE_LEN || gen > 0xFFFFFFFFul)
        return -1;
    n = snprintf(buf, cb,
                 (legacy & BKF_EIGHT_DOT_THREE) && gen <= 0xFFFFFul ? "%s%05lX%s" : "%s%08lX%s",
                 base, gen, (legacy & BKF_ESE98_NAMES) ? ".log" : ".jtx");
    return n < 0 || (size_t)n >= cb ? -1 : n;
}

/* A growing text buffer; err set once an allocation failed. */
typedef struct bkf_buf {
    char *s;
    size_t len, cap;
    int err;
} bkf_buf;

/* Append printf output to b. */
static void put(bkf_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->err)
        return;
    va_start(ap, fmt);
    n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = 1;
        return;
    }
    if (!b->s || b->len + (size_t)n >= b->cap) {
        size_t cap = (b->cap ? b->cap : 1024) * 2 + (size_t)n;
        char *s = realloc(b->s, cap);
        if (!s) {
            b->err = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->err = 1;
            return;
        }
    }
    b->len += (size_t)n;
}

/* Hand the text of b to the caller; 0 or -1 (b freed). */
static int take(bkf_buf *b, char **ps, size_t *plen)
{
    if (b->err || !b->s) {
        free(b->s);
        return -1;
    }
    *ps = b->s;
    *plen = b->len;
    return 0;
}

/* See bkformat.h. */
int bkf_fslabel_text(const bkf_fslabel *l, char **ps, size_t *plen)
{
    bkf_buf b = { NULL, 0, 0, 0 };

    put(&b, "format: %d\n", BKF_VERSION);
    put(&b, "# esebackupfs backup label (fixed for the life of the mount)\n");
    put(&b, "start-time: %s\n", l->start_time);
    put(&b, "start-epoch: %lld.%09ld\n", l->start_sec, l->start_nsec);
    put(&b, "source: %s\n", l->source);
    put(&b, "backend: %s\n", l->backend);
    put(&b, "instance: %s\n", l->instance);
    put(&b, "backup-type: %s\n", l->backup_type);
    put(&b, "page-size: %lu\n", l->page_size);
    put(&b, "log-base-name: %s\n", l->base_name);
    put(&b, "legacy-file-names: %lu\n", l->legacy);
    put(&b, "truncate: %s\n", l->truncate);
    put(&b, "spool-policy: %s\n", l->spool_policy);
    for (size_t i = 0; i < l->ndb; i++)
        put(&b, "database: %s\n", l->databases[i]);
    if (l->have_gens)
        put(&b, "log-generations: %lu-%lu\n", l->gen_low, l->gen_high);
    return take(&b, ps, plen);
}

/* "logs/" for a log entry, else "". */
static const char *dir_of(const bkf_mfile *f)
{
    return f->is_log ? BKF_LOGS_DIR "/" : "";
}

/* 64 hex digits of a 32-byte digest. */
static void put_sha(bkf_buf *b, const unsigned char *sha)
{
    for (int k = 0; k < 32; k++)
        put(b, "%02x", sha[k]);
}

/* See bkformat.h. */
int bkf_manifest_text(const bkf_manifest *m, char **ps, size_t *plen)
{
    bkf_buf b = { NULL, 0, 0, 0 };

    put(&b, "# esebackupfs-manifest %d\n", BKF_VERSION);
    if (!m->logs) {
        put(&b, "# esebackupfs manifest (check a copy with: sha256sum -c manifest "
                "logs/manifest)\n");
        put(&b, "# start-time %s\n", m->start_time);
        put(&b, "# backup-type %s\n", m->backup_type);
    } else {
        put(&b, "# esebackupfs log manifest (check a copy with: sha256sum -c manifest "
                "logs/manifest)\n");
        put(&b, "# log-generations %lu-%lu\n", m->gen_low, m->gen_high);
        if (m->have_committed)
            put(&b, "# committed-at-roll %llu\n", m->committed_at_roll);
        else
            put(&b, "# committed-at-roll unknown\n");
    }
    for (size_t i = 0; i < m->nfiles; i++)
        put(&b, "# size %s%s %020" PRIu64 "\n", dir_of(&m->files[i]), m->files[i].name,
            m->files[i].size);
    for (size_t i = 0; i < m->nfiles; i++) {
        put_sha(&b, m->files[i].sha);
        put(&b, "  %s%s\n", dir_of(&m->files[i]), m->files[i].name);
    }
    if (!m->logs) {
        put_sha(&b, m->logman_sha);
        put(&b, "  " BKF_LOGS_DIR "/" BKF_MANIFEST_NAME "\n");
    }
    return take(&b, ps, plen);
}
