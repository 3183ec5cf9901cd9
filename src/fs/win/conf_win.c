/*
 * conf_win.c -- the INI file on Windows: read with the Win32 profile API
 * (GetPrivateProfileSectionNamesW, GetPrivateProfileSectionW) and fed to
 * the core's validation (fs_conf_begin / section_line / key / end), like
 * src/fs/posix/conf_ini.c feeds it from inih.
 *
 * Line numbers: the profile API reports none.  For FILE:LINE messages the
 * file's text is scanned: a section's line is the first header line
 * "[name]" (case-insensitive, after blanks); a key's line is the n-th line
 * of that section whose text before '=' is the key (n counting repeated
 * keys), so a duplicate key is reported at its own line.  The profile API
 * returns comment lines (';' or '#') as entries: they are skipped, as is
 * an inline comment after a blank (" ; ...", inih's rule).
 */
#include "config.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include "conf.h"
#include "winx.h"

#define CONF_BUF 65536

/* Lower-case ASCII comparison of n bytes; 0 when equal. */
static int ci_ncmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int x = tolower((unsigned char)a[i]), y = tolower((unsigned char)b[i]);
        if (x != y)
            return x - y;
        if (!x)
            return 0;
    }
    return 0;
}

/* The text of line `line` (1-based) of text: start in *ps, length in *pn
 * without the end of line; 0, or -1 past the end. */
static int text_line(const char *text, int line, const char **ps, size_t *pn)
{
    const char *p = text;

    for (int l = 1; l < line; l++) {
        p = strchr(p, '\n');
        if (!p)
            return -1;
        p++;
    }
    if (!*p)
        return -1;
    *ps = p;
    *pn = strcspn(p, "\r\n");
    return 0;
}

/* Skip blanks of a line. */
static const char *skip_blank(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* The line of header [name] in text, or 0. */
static int find_section(const char *text, const char *name)
{
    const char *s;
    size_t n, nl = strlen(name);

    for (int l = 1; text_line(text, l, &s, &n) == 0; l++) {
        const char *b = skip_blank(s, s + n);
        if (b < s + n && *b == '[' && (size_t)(s + n - b) > nl + 1 && !ci_ncmp(b + 1, name, nl) &&
            b[nl + 1] == ']')
            return l;
    }
    return 0;
}

/* The line of the nth (0-based) "key =" after the header at sline, before
 * the next header, or 0. */
static int find_key(const char *text, int sline, const char *key, int nth)
{
    const char *s;
    size_t n, kl = strlen(key);

    for (int l = sline + 1; text_line(text, l, &s, &n) == 0; l++) {
        const char *b = skip_blank(s, s + n), *e = s + n;
        if (b < e && *b == '[')
            break;
        if ((size_t)(e - b) < kl || ci_ncmp(b, key, kl))
            continue;
        const char *q = skip_blank(b + kl, e);
        if (q < e && *q == '=' && nth-- == 0)
            return l;
    }
    return 0;
}

/* Trim blanks at both ends of s in place. */
static char *trim(char *s)
{
    char *e = s + strlen(s);

    while (*s == ' ' || *s == '\t')
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        *--e = 0;
    return s;
}

/* Read the whole file (UTF-8 text, for line numbers) into *ptext. */
static int read_text(const wchar_t *wpath, const char *path, char **ptext, char *err, size_t cb)
{
    HANDLE h = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
    LARGE_INTEGER sz;
    DWORD got = 0;
    char *text = NULL;
    int rc = -1;

    if (h == INVALID_HANDLE_VALUE) {
        snprintf(err, cb, "%s: cannot open (Windows error %lu)", path,
                 (unsigned long)GetLastError());
        return -1;
    }
    if (!GetFileSizeEx(h, &sz) || sz.QuadPart > FS_CONF_MAX_TEXT) {
        snprintf(err, cb, "%s: cannot read, or larger than %d bytes", path, FS_CONF_MAX_TEXT);
        goto out;
    }
    text = malloc((size_t)sz.QuadPart + 1);
    if (!text) {
        snprintf(err, cb, "%s: out of memory", path);
        goto out;
    }
    if (!ReadFile(h, text, (DWORD)sz.QuadPart, &got, NULL) || got != (DWORD)sz.QuadPart) {
        snprintf(err, cb, "%s: read failed (Windows error %lu)", path,
                 (unsigned long)GetLastError());
        goto out;
    }
    text[got] = 0;
    if (strlen(text) != got) {
        snprintf(err, cb, "%s: not a text file (NUL byte; UTF-16 files are not supported)", path);
        goto out;
    }
    *ptext = text;
    text = NULL;
    rc = 0;
out:
    free(text);
    CloseHandle(h);
    return rc;
}

/* Feed one section's entries (the profile API's "key=value\0...\0\0")
 * to the core. */
static void feed_section(fs_conf_parse *cp, const char *text, const char *section, int sline,
                         const wchar_t *entries)
{
    char keys[FS_CONF_MAX_KEYS][48];
    int counts[FS_CONF_MAX_KEYS], nkeys = 0;
    char entry[4096];

    for (const wchar_t *e = entries; *e && !cp->failed; e += wcslen(e) + 1) {
        char *k, *v, *eq;
        int nth = 0, i;
        if (winx_utf8(e, entry, sizeof entry) < 0) {
            fs_conf_fail(cp, sline, "[%s]: an entry is too long or not valid text", section);
            return;
        }
        k = trim(entry);
        if (!*k || *k == ';' || *k == '#')
            continue;
        eq = strchr(k, '=');
        if (!eq) {
            fs_conf_fail(cp, sline, "[%s]: syntax error ('%s' has no '=')", section, k);
            return;
        }
        *eq = 0;
        v = eq + 1;
        for (char *c = v; *c; c++)
            if ((*c == ';' || *c == '#') && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
                *c = 0;
                break;
            }
        k = trim(k);
        v = trim(v);
        for (i = 0; i < nkeys && ci_ncmp(keys[i], k, sizeof keys[0]); i++)
            ;
        if (i < nkeys)
            nth = counts[i]++;
        else if (nkeys < FS_CONF_MAX_KEYS) {
            snprintf(keys[nkeys], sizeof keys[0], "%s", k);
            counts[nkeys++] = 1;
        }
        cp->line = find_key(text, sline, k, nth);
        if (!cp->line)
            cp->line = sline;
        fs_conf_key(cp, section, k, v);
    }
}

/* See winx.h. */
int winx_conf_load(const char *path, fs_config *cfg, char *err, size_t cb_err)
{
    fs_conf_parse cp;
    wchar_t *wpath = winx_wide(path), *names = NULL, *entries = NULL;
    char *text = NULL, section[64], header[80];
    int rc = -1;

    if (!wpath) {
        snprintf(err, cb_err, "%s: not a valid file name", path);
        goto out;
    }
    if (read_text(wpath, path, &text, err, cb_err) < 0)
        goto out;
    names = malloc(CONF_BUF * sizeof *names);
    entries = malloc(CONF_BUF * sizeof *entries);
    if (!names || !entries) {
        snprintf(err, cb_err, "%s: out of memory", path);
        goto out;
    }
    fs_conf_begin(&cp, path, cfg, err, cb_err);
    /* the Windows default spool directory: the user's %TEMP% (the core's
     * default, /var/tmp, is a POSIX path) */
    {
        wchar_t tmp[MAX_PATH + 1];
        DWORD n = GetTempPathW(MAX_PATH + 1, tmp);
        if (n > 3 && n <= MAX_PATH && tmp[n - 1] == L'\\')
            tmp[n - 1] = 0; /* the core's form: no trailing '\\' */
        if (!n || n > MAX_PATH || winx_utf8(tmp, cfg->spool_dir, sizeof cfg->spool_dir) < 0) {
            fs_conf_fail(&cp, 1,
                         "cannot find the temporary directory (GetTempPathW): set "
                         "[spool] directory");
            goto end;
        }
    }
    if (GetPrivateProfileSectionNamesW(names, CONF_BUF, wpath) >= CONF_BUF - 2) {
        fs_conf_fail(&cp, 1, "too many sections");
        goto end;
    }
    for (const wchar_t *n = names; *n && !cp.failed; n += wcslen(n) + 1) {
        const char *s;
        size_t len;
        if (winx_utf8(n, section, sizeof section) < 0) {
            fs_conf_fail(&cp, 1, "a section name is too long or not valid text");
            break;
        }
        cp.line = find_section(text, section);
        if (!cp.line)
            cp.line = 1;
        /* the header as written (text after ']' is the core's to refuse) */
        if (text_line(text, cp.line, &s, &len) == 0) {
            const char *b = skip_blank(s, s + len);
            len = (size_t)(s + len - b);
            snprintf(header, sizeof header, "%.*s", (int)(len < sizeof header ? len : 79), b);
        } else
            snprintf(header, sizeof header, "[%s]", section);
        fs_conf_section_line(&cp, trim(header));
        if (GetPrivateProfileSectionW(n, entries, CONF_BUF, wpath) >= CONF_BUF - 2) {
            fs_conf_fail(&cp, cp.line, "[%s] is too long", section);
            break;
        }
        feed_section(&cp, text, section, cp.line, entries);
    }
end:
    rc = fs_conf_end(&cp);
out:
    free(entries);
    free(names);
    free(text);
    free(wpath);
    return rc;
}
