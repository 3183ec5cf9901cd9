/*
 * bkf_julabel.c -- jetutil's backup label, DIR/jetutil-backup.label
 * ("key=value" lines, version line format=2 first; format 1 still read):
 * read and written only here (docs/formats.md).
 * Thread safety: no shared state.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bkf_int.h"
#include "bkformat.h"

/* ---- jetutil-backup.label ("key=value" lines) ---- */

/* See bkformat.h. */
int bkf_kv_next(FILE *f, const char *path, unsigned *lineno, char *line, size_t cbline, char **key,
                char **val, char *err, size_t cb_err)
{
    bkf_err er = { err, cb_err };

    if (err && cb_err)
        err[0] = '\0';
    while (fgets(line, (int)cbline, f)) {
        char *nl = strchr(line, '\n'), *eq;
        (*lineno)++;
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        eq = strchr(line, '=');
        if (!eq) {
            bkf_fail(&er, "%s:%u: expected key=value", path, *lineno);
            return -1;
        }
        *eq = '\0';
        *key = line;
        *val = eq + 1;
        return 1;
    }
    if (ferror(f)) {
        bkf_fail(&er, "%s: read error", path);
        return -1;
    }
    return 0;
}

/* bkf_kv_next into er. */
static int kv_next(bkf_err *er, FILE *f, const char *path, unsigned *lineno, char *line,
                   size_t cbline, char **key, char **val)
{
    char msg[512];
    int k = bkf_kv_next(f, path, lineno, line, cbline, key, val, msg, sizeof msg);

    if (k < 0)
        bkf_fail(er, "%s", msg);
    return k;
}

/* Apply one key=value of a jetutil label to l.  0, or -1 (er). */
static int julabel_kv(bkf_err *er, const char *path, unsigned lineno, const char *key,
                      const char *val, bkf_label *l, unsigned *have)
{
    unsigned long long v = 0;
    bool num;
    char *end;

    errno = 0;
    v = strtoull(val, &end, 10);
    num = *val && !*end && !errno;
    if (!strcmp(key, "format") && num && (v == 1 || v == BKF_VERSION))
        l->version = (unsigned)v;
    else if (!strcmp(key, "format")) {
        bkf_fail(er, "%s:%u: unknown label format '%s' (this release reads formats 1 to %d)", path,
                 lineno, val, BKF_VERSION);
        return -1;
    } else if (!strcmp(key, "type") && strlen(val) < sizeof l->type)
        strcpy(l->type, val);
    else if (!strcmp(key, "base") && strlen(val) == BKF_BASE_LEN)
        strcpy(l->base, val);
    else if (!strcmp(key, "page_size") && num)
        l->page_size = (unsigned long)v;
    else if (!strcmp(key, "legacy") && num) {
        l->legacy = (unsigned long)v;
        l->have_legacy = true;
    } else if (!strcmp(key, "log_kib") && num)
        l->log_kib = (unsigned long)v;
    else if (!strcmp(key, "genLow") && num) {
        l->gen_low = (unsigned long)v;
        *have |= 1;
    } else if (!strcmp(key, "genHigh") && num) {
        l->gen_high = (unsigned long)v;
        *have |= 2;
    } else if (!strcmp(key, "backups") && num)
        l->backups = (unsigned long)v;
    else if (!strcmp(key, "committed_at_roll") && num) {
        l->committed_at_roll = v;
        l->have_committed = true;
    } else if (!strcmp(key, "database") && l->ndb < BKF_MAX_DBS && strlen(val) < BKF_PATH) {
        strcpy(l->db_orig[l->ndb++], val);
    } else if (!strcmp(key, "file") && l->ndb > 0 && strlen(val) < 256 && !strchr(val, '/')) {
        strcpy(l->db_file[l->ndb - 1], val);
    } else {
        bkf_fail(er, "%s:%u: bad or unknown entry '%s'", path, lineno, key);
        return -1;
    }
    return 0;
}

/* See bkf_int.h. */
int bkf_julabel_parse(bkf_err *er, const char *dir, bkf_label *l)
{
    char path[BKF_PATH + 32], line[BKF_PATH + 64];
    unsigned lineno = 0, have = 0;
    int rc = -1;
    unsigned kind;
    FILE *f;

    memset(l, 0, sizeof *l);
    l->version = 1;
    snprintf(path, sizeof path, "%s/%s", dir, BKF_JU_LABEL_NAME);
    f = bkf_fopen_read(path, &kind);
    if (!f) {
        bkf_open_fail(er, path, kind, kind ? NULL : "not a jetutil backup directory?");
        return -1;
    }
    for (;;) {
        char *key, *val;
        int k = kv_next(er, f, path, &lineno, line, sizeof line, &key, &val);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        if (julabel_kv(er, path, lineno, key, val, l, &have) < 0)
            goto out;
    }
    if (have != 3 || !l->base[0] || !l->page_size || !l->type[0]) {
        bkf_fail(er, "%s: incomplete label (type, base, page_size, genLow, genHigh required)",
                 path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* See bkformat.h. */
int bkf_julabel_read(const char *dir, bkf_label *l, char *err, size_t cb_err)
{
    bkf_err er = { err, cb_err };

    if (cb_err)
        err[0] = '\0';
    return bkf_julabel_parse(&er, dir, l);
}

/* The label text of l into f. */
static void julabel_print(FILE *f, const bkf_label *l)
{
    fprintf(f,
            "format=%d\n# jetutil backup label (see jetutil(1), docs/formats.md)\n"
            "type=%s\nbase=%s\npage_size=%lu\nlegacy=%lu\nlog_kib=%lu\ngenLow=%lu\n"
            "genHigh=%lu\nbackups=%lu\n",
            BKF_VERSION, l->type, l->base, l->page_size, l->legacy, l->log_kib, l->gen_low,
            l->gen_high, l->backups);
    if (l->have_committed)
        fprintf(f, "committed_at_roll=%llu\n", l->committed_at_roll);
    for (unsigned i = 0; i < l->ndb; i++)
        fprintf(f, "database=%s\nfile=%s\n", l->db_orig[i], l->db_file[i]);
}

/* See bkformat.h. */
int bkf_julabel_write(const char *dir, const bkf_label *l, char *err, size_t cb_err)
{
    bkf_err er = { err, cb_err };
    char path[BKF_PATH + 32], tmp[BKF_PATH + 32];
    unsigned kind = 0;
    FILE *f;
    int fd;

    if (cb_err)
        err[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, BKF_JU_LABEL_NAME);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, BKF_JU_LABEL_NAME);
    fd = bkf_open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &kind);
    f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        bkf_open_fail(&er, tmp, kind, NULL);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    julabel_print(f, l);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0 || bkf_fsync_dir(dir) != 0)
        goto fail;
    return 0;
fail:
    bkf_fail(&er, "%s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
}
