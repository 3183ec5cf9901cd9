/*
 * conf_ini.c -- reading the INI file on POSIX: the owner/mode check, the
 * read, and inih feeding the core's key validation (conf.c); see conf.h.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ini.h>
#include "conf.h"
#include "fsx.h"

/* inih handler: hand one key to the core.  1, or 0 after an error. */
static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
    return fs_conf_key(user, section, name, value);
}

/* inih reader: hand out one line at a time and count lines.  A line longer
 * than num-2 characters is refused (inih would split it silently). */
static char *conf_reader(char *str, int num, void *stream)
{
    fs_conf_parse *cp = stream;
    const char *nl;
    size_t n;

    if (!*cp->p)
        return NULL;
    nl = strchr(cp->p, '\n');
    n = nl ? (size_t)(nl - cp->p + 1) : strlen(cp->p);
    cp->line++;
    if (n + 1 > (size_t)num - 1) {
        fs_conf_fail(cp, cp->line, "line longer than %d characters", num - 3);
        memcpy(str, "#", 2); /* feed a comment; the error is recorded */
        cp->p = nl ? nl + 1 : cp->p + strlen(cp->p);
        return str;
    }
    memcpy(str, cp->p, n);
    str[n] = 0;
    cp->p += n;
    {
        const char *s = str;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '[')
            fs_conf_section_line(cp, s);
    }
    return str;
}

/* Parse text; see conf.h. */
int fsx_conf_parse_string(const char *name, const char *text, fs_config *cfg, char *err,
                          size_t cb_err)
{
    fs_conf_parse cp;
    int rc;

    fs_conf_begin(&cp, name, cfg, err, cb_err);
    cp.p = text;
    if (!strncmp(text, "\xEF\xBB\xBF", 3))
        cp.p += 3; /* a UTF-8 byte order mark at the start is skipped */
    if (strlen(text) != strnlen(text, FS_CONF_MAX_TEXT) || strlen(text) >= FS_CONF_MAX_TEXT)
        return fs_conf_fail(&cp, 1, "file too large"), -1;
    rc = ini_parse_stream(conf_reader, &cp, conf_handler, &cp);
    if (rc > 0 && !cp.failed)
        fs_conf_fail(&cp, rc, "syntax error: expected [section], key = value or a comment");
    else if (rc < 0 && !cp.failed)
        fs_conf_fail(&cp, 0, "out of memory while parsing");
    return fs_conf_end(&cp);
}

/* See conf.h. */
int fsx_conf_check_file(const char *path, char *err, size_t cb_err)
{
    struct stat st;

    if (stat(path, &st) < 0) {
        snprintf(err, cb_err, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, cb_err, "%s: not a regular file", path);
        return -1;
    }
    if (st.st_uid != 0 && st.st_uid != getuid()) {
        snprintf(err, cb_err,
                 "%s: owned by uid %u, neither root nor you; refused (it controls "
                 "log deletion)",
                 path, (unsigned)st.st_uid);
        return -1;
    }
    if (st.st_mode & (S_IWGRP | S_IWOTH)) {
        snprintf(err, cb_err,
                 "%s: writable by group or others (mode %04o); refused (it controls "
                 "log deletion): chmod go-w",
                 path, (unsigned)(st.st_mode & 07777));
        return -1;
    }
    return 0;
}

/* See conf.h. */
int fsx_conf_load(const char *path, fs_config *cfg, char *err, size_t cb_err)
{
    char *text = NULL;
    FILE *f = NULL;
    size_t n;
    int rc = -1;

    if (fsx_conf_check_file(path, err, cb_err) < 0)
        goto out;
    f = fopen(path, "r");
    if (!f) {
        snprintf(err, cb_err, "%s: %s", path, strerror(errno));
        goto out;
    }
    text = malloc(FS_CONF_MAX_TEXT + 1);
    if (!text) {
        snprintf(err, cb_err, "%s: out of memory", path);
        goto out;
    }
    n = fread(text, 1, FS_CONF_MAX_TEXT + 1, f);
    if (ferror(f) || n > FS_CONF_MAX_TEXT) {
        snprintf(err, cb_err, "%s: %s", path, ferror(f) ? "read error" : "file too large");
        goto out;
    }
    text[n] = 0;
    if (memchr(text, 0, n)) {
        snprintf(err, cb_err, "%s:1: binary file (NUL byte)", path);
        goto out;
    }
    rc = fsx_conf_parse_string(path, text, cfg, err, cb_err);
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}
