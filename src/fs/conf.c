/*
 * conf.c -- the esebackupfs INI file; see conf.h.
 *
 * inih is driven through ini_parse_stream with our own line reader, so the
 * reader knows the current line number for every handler call (Debian's
 * inih is built without INI_HANDLER_LINENO) and can also check section
 * headers, which inih does not report for empty sections.  Only the first
 * error is kept.
 */
#include "config.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "fsops.h"

enum {
    KL_ENDPOINT,
    KL_SYSTEM,
    KL_LOG,
    KL_DATABASES,
    KL_PAGE,
    KL_BASE,
    KL_LOGSIZE,
    KL_INSTANCE,
    KL_POLICY,
    KL_WINDOW,
    KL_ESENT_SYSTEM,
    KL_ESENT_LOG,
    KL_DSBACKUP,
    KL_CERTSRV,
    KL_METRICS,
    KL_JSON
};

/* Names of the keys, indexed by KL_*. */
static const char *const kl_names[] = {
    [KL_ENDPOINT] = "endpoint",
    [KL_SYSTEM] = "system_path",
    [KL_LOG] = "log_path",
    [KL_DATABASES] = "databases",
    [KL_PAGE] = "page_size",
    [KL_BASE] = "base_name",
    [KL_LOGSIZE] = "log_file_size",
    [KL_INSTANCE] = "instance",
    [KL_POLICY] = "policy",
    [KL_WINDOW] = "window",
    [KL_ESENT_SYSTEM] = "esent_system_path",
    [KL_ESENT_LOG] = "esent_log_path",
    [KL_DSBACKUP] = "dsbackup",
    [KL_CERTSRV] = "certsrv",
    [KL_METRICS] = "metrics_file",
    [KL_JSON] = "json_file",
};

static const char *const conf_sections[] = { "source", "backup", "spool", "mount", "report", NULL };

/* See conf.h: record the first error as "NAME:LINE: msg"; later errors
 * are ignored.  Always returns 0. */
int fs_conf_fail(fs_conf_parse *cp, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    if (cp->failed)
        return 0;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(cp->err, cp->cb_err, "%s:%d: %s", cp->name, line, msg);
    cp->failed = 1;
    return 0;
}

/* Defaults for every key (see conf.h). */
void fs_conf_defaults(fs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->base_name, sizeof cfg->base_name, "edb");
    snprintf(cfg->instance, sizeof cfg->instance, "esebackupfs");
    snprintf(cfg->spool_dir, sizeof cfg->spool_dir, "/var/tmp");
    cfg->type = FS_BACKUP_FULL;
    cfg->truncate = FS_TRUNC_NEVER;
    cfg->policy = FS_SPOOL_KEEP;
    cfg->window = 16u << 20;
    cfg->read_size = 1u << 20;
}

/* The decimal number s starts with (a digit first: no sign, no space)
 * into *v, *end past it.  0, or -1 (none, or over 64 bits). */
static int leading_number(const char *s, unsigned long long *v, char **end)
{
    if (!s || !isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    *v = strtoull(s, end, 10);
    return errno ? -1 : 0;
}

/* "123", "64K", "1M", "2G", "1T" (binary units, optional trailing 'B' or
 * "iB").  0 on success, -1 for anything else or overflow. */
int fs_conf_parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1;

    if (leading_number(s, &v, &end) < 0)
        return -1;
    switch (toupper((unsigned char)*end)) {
    case 0:
        break;
    case 'K':
        mul = 1ull << 10;
        end++;
        break;
    case 'M':
        mul = 1ull << 20;
        end++;
        break;
    case 'G':
        mul = 1ull << 30;
        end++;
        break;
    case 'T':
        mul = 1ull << 40;
        end++;
        break;
    default:
        return -1;
    }
    if (mul > 1 && (!strcmp(end, "iB") || !strcmp(end, "B")))
        end += strlen(end);
    if (*end)
        return -1;
    if (v > UINT64_MAX / mul)
        return -1;
    *out = v * mul;
    return 0;
}

/* See conf.h. */
int fs_conf_parse_duration(const char *s, uint64_t *secs)
{
    static const struct {
        char unit;
        uint64_t mul;
    } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 } };
    unsigned long long v;
    char *end;

    if (leading_number(s, &v, &end) < 0)
        return -1;
    if (!*end && v == 0) { /* "0" = off needs no unit */
        *secs = 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (end[0] != units[i].unit || end[1])
            continue;
        if (v > FS_CONF_MAX_DURATION / units[i].mul)
            return -2;
        *secs = v * units[i].mul;
        return 0;
    }
    return -1;
}

/* See conf.h. */
void fs_conf_duration_name(uint64_t secs, char *buf, size_t cb)
{
    if (!secs)
        snprintf(buf, cb, "0");
    else if (secs % 86400 == 0)
        snprintf(buf, cb, "%" PRIu64 "d", secs / 86400);
    else if (secs % 3600 == 0)
        snprintf(buf, cb, "%" PRIu64 "h", secs / 3600);
    else if (secs % 60 == 0)
        snprintf(buf, cb, "%" PRIu64 "m", secs / 60);
    else
        snprintf(buf, cb, "%" PRIu64 "s", secs);
}

/* A duration key's value into *dst; 1, or 0 after conf_fail. */
static int conf_duration(fs_conf_parse *cp, const char *key, const char *v, uint64_t *dst)
{
    int rc = fs_conf_parse_duration(v, dst);

    if (rc == -2)
        return fs_conf_fail(cp, cp->line, "%s: '%s' is out of range (at most %llud)", key, v,
                            FS_CONF_MAX_DURATION / 86400);
    if (rc < 0)
        return fs_conf_fail(cp, cp->line,
                            "%s: '%s' is not a duration (a number with one unit s, m, h or d, "
                            "e.g. 30m or 6h; 0 = off)",
                            key, v);
    return 1;
}

/* yes/no/true/false/on/off/1/0 -> 1/0; -1 if none. */
static int conf_bool(const char *v)
{
    static const char *const yes[] = { "yes", "true", "on", "1", NULL };
    static const char *const no[] = { "no", "false", "off", "0", NULL };
    for (int i = 0; yes[i]; i++)
        if (!strcasecmp(v, yes[i]))
            return 1;
    for (int i = 0; no[i]; i++)
        if (!strcasecmp(v, no[i]))
            return 0;
    return -1;
}

/* 1 when the absolute path v is normalised: no empty component ("//"),
 * no "." or ".." component, no trailing '/' (except "/" itself). */
static int conf_normalised(const char *v)
{
    const char *c = v + 1;

    if (!*c)
        return 1;
    for (;;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!slash)
            return 1;
        c = slash + 1;
    }
}

/* 1 if v is an absolute Windows path on a drive ("X:\\dir\\file"): no '/',
 * no empty, "." or ".." component, no trailing '\\' (the root "X:\\" aside). */
static int conf_win_path_ok(const char *v)
{
    const char *c = v + 3;

    if (!isalpha((unsigned char)v[0]) || v[1] != ':' || v[2] != '\\' || strchr(v, '/'))
        return 0;
    if (!*c)
        return 1;
    for (;;) {
        const char *bs = strchr(c, '\\');
        size_t n = bs ? (size_t)(bs - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return 0;
        if (!bs)
            return 1;
        c = bs + 1;
    }
}

/* 1 if v starts like a Windows drive path ("X:"). */
static int conf_win_like(const char *v)
{
    return isalpha((unsigned char)v[0]) && v[1] == ':';
}

/* Copy a Windows absolute path value into dst; 1, or 0 after conf_fail. */
static int conf_win_path(fs_conf_parse *cp, const char *key, const char *v, char *dst, size_t cb)
{
    if (strlen(v) >= cb)
        return fs_conf_fail(cp, cp->line, "%s: path too long", key);
    if (!conf_win_path_ok(v))
        return fs_conf_fail(cp, cp->line,
                            "%s: '%s' is not an absolute, normalised Windows path "
                            "(X:\\dir\\file, no '/', '.', '..' or trailing '\\')",
                            key, v);
    memcpy(dst, v, strlen(v) + 1);
    return 1;
}

/* A backup server name (DsBackup / CertSrvBackup): "." for the local
 * computer, else letters, digits, '-', '.', '_'.  1, or 0 after conf_fail. */
static int conf_server(fs_conf_parse *cp, const char *key, const char *v)
{
    fs_config *cfg = cp->cfg;

    if (!*v || strlen(v) >= sizeof cfg->server)
        return fs_conf_fail(cp, cp->line, "%s: server name empty or longer than %zu characters",
                            key, sizeof cfg->server - 1);
    for (const char *s = v; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.' && *s != '_')
            return fs_conf_fail(cp, cp->line,
                                "%s: '%s' is not a server name (letters, digits, '-', '.', '_'; "
                                "'.' = this computer)",
                                key, v);
    memcpy(cfg->server, v, strlen(v) + 1);
    return 1;
}

/* Copy an absolute, normalised path value into dst (size cb); error
 * message on failure.  Returns 1 on success, 0 after conf_fail. */
static int conf_path(fs_conf_parse *cp, const char *key, const char *v, char *dst, size_t cb)
{
    if (v[0] != '/')
        return fs_conf_fail(cp, cp->line, "%s: '%s' is not an absolute path", key, v);
    if (strlen(v) >= cb)
        return fs_conf_fail(cp, cp->line, "%s: path too long", key);
    if (!conf_normalised(v))
        return fs_conf_fail(cp, cp->line,
                            "%s: '%s' is not a normalised path (no '.', '..', '//' "
                            "or trailing '/')",
                            key, v);
    memcpy(dst, v, strlen(v) + 1);
    return 1;
}

/* Split a comma-separated database list; 1 on success, 0 after conf_fail. */
static int conf_databases(fs_conf_parse *cp, const char *v)
{
    char tok[FS_CONF_PATH];
    fs_config *cfg = cp->cfg;
    const char *p = v;

    cfg->ndatabases = 0;
    cp->win_dbs = 0;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n && isspace((unsigned char)*p)) {
            p++;
            n--;
        }
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (!n)
            return fs_conf_fail(cp, cp->line, "databases: empty entry in the list");
        if (n >= sizeof tok)
            return fs_conf_fail(cp, cp->line, "databases: path too long");
        memcpy(tok, p, n);
        tok[n] = 0;
        if (cfg->ndatabases == FS_CONF_MAX_DBS)
            return fs_conf_fail(cp, cp->line, "databases: more than %d databases", FS_CONF_MAX_DBS);
        if (conf_win_like(tok)) {
            if (!conf_win_path(cp, "databases", tok, cfg->databases[cfg->ndatabases], FS_CONF_PATH))
                return 0;
            cp->win_dbs++;
        } else if (!conf_path(cp, "databases", tok, cfg->databases[cfg->ndatabases], FS_CONF_PATH))
            return 0;
        for (int i = 0; i < cfg->ndatabases; i++)
            if (!strcmp(cfg->databases[i], tok))
                return fs_conf_fail(cp, cp->line, "databases: '%s' listed twice", tok);
        cfg->ndatabases++;
        if (!comma)
            break;
        p = comma + 1;
    }
    return 1;
}

/* Parse a size value with bounds; 1 on success, 0 after conf_fail. */
static int conf_size(fs_conf_parse *cp, const char *key, const char *v, uint64_t lo, uint64_t hi,
                     uint64_t *out)
{
    uint64_t n;
    if (fs_conf_parse_size(v, &n) < 0)
        return fs_conf_fail(cp, cp->line, "%s: '%s' is not a size (e.g. 1048576, 64K, 1M, 2G)", key,
                            v);
    if (n < lo || n > hi)
        return fs_conf_fail(cp, cp->line,
                            "%s: %s is out of range (%" PRIu64 " to %" PRIu64 " bytes)", key, v, lo,
                            hi);
    *out = n;
    return 1;
}

/* [source] keys. */
static int conf_source(fs_conf_parse *cp, const char *k, const char *v)
{
    fs_config *cfg = cp->cfg;
    uint64_t n;

    if (!strcmp(k, "endpoint")) {
        cp->key_lines[KL_ENDPOINT] = cp->line;
        return conf_path(cp, k, v, cfg->endpoint, sizeof cfg->endpoint);
    }
    if (!strcmp(k, "system_path")) {
        cp->key_lines[KL_SYSTEM] = cfg->system_path_line = cp->line;
        return conf_path(cp, k, v, cfg->system_path, sizeof cfg->system_path);
    }
    if (!strcmp(k, "log_path")) {
        cp->key_lines[KL_LOG] = cfg->log_path_line = cp->line;
        return conf_path(cp, k, v, cfg->log_path, sizeof cfg->log_path);
    }
    if (!strcmp(k, "esent_system_path")) {
        cp->key_lines[KL_ESENT_SYSTEM] = cfg->system_path_line = cp->line;
        return conf_win_path(cp, k, v, cfg->system_path, sizeof cfg->system_path);
    }
    if (!strcmp(k, "esent_log_path")) {
        cp->key_lines[KL_ESENT_LOG] = cfg->log_path_line = cp->line;
        return conf_win_path(cp, k, v, cfg->log_path, sizeof cfg->log_path);
    }
    if (!strcmp(k, "dsbackup")) {
        cp->key_lines[KL_DSBACKUP] = cp->line;
        return conf_server(cp, k, v);
    }
    if (!strcmp(k, "certsrv")) {
        cp->key_lines[KL_CERTSRV] = cp->line;
        return conf_server(cp, k, v);
    }
    if (!strcmp(k, "databases") || !strcmp(k, "database")) {
        cp->key_lines[KL_DATABASES] = cfg->databases_line = cp->line;
        return conf_databases(cp, v);
    }
    if (!strcmp(k, "base_name")) {
        cp->key_lines[KL_BASE] = cp->line;
        if (strlen(v) != 3)
            return fs_conf_fail(cp, cp->line, "base_name: '%s' must be exactly 3 characters", v);
        for (const char *s = v; *s; s++)
            if (!isalnum((unsigned char)*s))
                return fs_conf_fail(cp, cp->line, "base_name: '%s' must be letters and digits", v);
        strcpy(cfg->base_name, v);
        return 1;
    }
    if (!strcmp(k, "instance")) {
        cp->key_lines[KL_INSTANCE] = cp->line;
        if (strlen(v) >= sizeof cfg->instance)
            return fs_conf_fail(cp, cp->line, "instance: name longer than %zu characters",
                                sizeof cfg->instance - 1);
        strcpy(cfg->instance, v);
        return 1;
    }
    if (!strcmp(k, "page_size")) {
        cp->key_lines[KL_PAGE] = cp->line;
        if (fs_conf_parse_size(v, &n) < 0 ||
            (n != 2048 && n != 4096 && n != 8192 && n != 16384 && n != 32768))
            return fs_conf_fail(cp, cp->line,
                                "page_size: '%s' is not one of 2048, 4096, 8192, 16384, 32768", v);
        cfg->page_size = (unsigned long)n;
        return 1;
    }
    if (!strcmp(k, "log_file_size")) {
        cp->key_lines[KL_LOGSIZE] = cp->line;
        if (!conf_size(cp, k, v, 64 << 10, 1ull << 30, &n))
            return 0;
        if (n % 4096)
            return fs_conf_fail(cp, cp->line, "log_file_size: %s is not a multiple of 4 KiB", v);
        cfg->log_file_size_kib = (unsigned long)(n >> 10);
        return 1;
    }
    return fs_conf_fail(cp, cp->line, "unknown key '%s' in [source]", k);
}

/* [backup] keys. */
static int conf_backup(fs_conf_parse *cp, const char *k, const char *v)
{
    fs_config *cfg = cp->cfg;

    if (!strcmp(k, "type")) {
        if (!strcmp(v, "full"))
            cfg->type = FS_BACKUP_FULL;
        else if (!strcmp(v, "incremental"))
            cfg->type = FS_BACKUP_INCREMENTAL;
        else
            return fs_conf_fail(cp, cp->line, "type: '%s' is not full or incremental", v);
        return 1;
    }
    if (!strcmp(k, "truncate")) {
        if (!strcmp(v, "never"))
            cfg->truncate = FS_TRUNC_NEVER;
        else if (!strcmp(v, "complete"))
            cfg->truncate = FS_TRUNC_COMPLETE;
        else if (!strcmp(v, "commit"))
            cfg->truncate = FS_TRUNC_COMMIT;
        else
            return fs_conf_fail(cp, cp->line, "truncate: '%s' is not never, complete or commit", v);
        return 1;
    }
    if (!strcmp(k, "max_duration"))
        return conf_duration(cp, k, v, &cfg->max_duration_s);
    if (!strcmp(k, "idle_timeout"))
        return conf_duration(cp, k, v, &cfg->idle_timeout_s);
    if (!strcmp(k, "max_rate")) {
        if (!conf_size(cp, k, v, 0, UINT64_MAX, &cfg->max_rate))
            return 0;
        if (cfg->max_rate && cfg->max_rate < FS_MIN_RATE)
            return fs_conf_fail(cp, cp->line, "max_rate: %s is below 64K bytes/s (0 = unlimited)",
                                v);
        return 1;
    }
    return fs_conf_fail(cp, cp->line, "unknown key '%s' in [backup]", k);
}

/* [spool] keys. */
static int conf_spool(fs_conf_parse *cp, const char *k, const char *v)
{
    fs_config *cfg = cp->cfg;

    if (!strcmp(k, "directory")) {
        cfg->spool_dir_line = cp->line;
        if (cp->windows) /* a Windows build's spool is on a drive */
            return conf_win_path(cp, k, v, cfg->spool_dir, sizeof cfg->spool_dir);
        return conf_path(cp, k, v, cfg->spool_dir, sizeof cfg->spool_dir);
    }
    if (!strcmp(k, "policy")) {
        cp->key_lines[KL_POLICY] = cp->line;
        if (!strcmp(v, "keep"))
            cfg->policy = FS_SPOOL_KEEP;
        else if (!strcmp(v, "stream"))
            cfg->policy = FS_SPOOL_STREAM;
        else
            return fs_conf_fail(cp, cp->line, "policy: '%s' is not keep or stream", v);
        return 1;
    }
    if (!strcmp(k, "cap")) {
        cfg->spool_cap_line = cp->line;
        return conf_size(cp, k, v, 0, UINT64_MAX, &cfg->spool_cap);
    }
    if (!strcmp(k, "window")) {
        cp->key_lines[KL_WINDOW] = cp->line;
        return conf_size(cp, k, v, 1u << 20, 1ull << 30, &cfg->window);
    }
    return fs_conf_fail(cp, cp->line, "unknown key '%s' in [spool]", k);
}

/* [mount] keys. */
static int conf_mount(fs_conf_parse *cp, const char *k, const char *v)
{
    fs_config *cfg = cp->cfg;
    int b;

    if (!strcmp(k, "allow_other") || !strcmp(k, "direct_io")) {
        b = conf_bool(v);
        if (b < 0)
            return fs_conf_fail(cp, cp->line, "%s: '%s' is not yes or no", k, v);
        if (k[0] == 'a')
            cfg->allow_other = b;
        else
            cfg->direct_io = b;
        return 1;
    }
    if (!strcmp(k, "read_size")) {
        cfg->read_size_line = cp->line;
        if (!conf_size(cp, k, v, 64 << 10, 16u << 20, &cfg->read_size))
            return 0;
        if (cfg->read_size % 4096)
            return fs_conf_fail(cp, cp->line, "read_size: %s is not a multiple of 4 KiB", v);
        return 1;
    }
    return fs_conf_fail(cp, cp->line, "unknown key '%s' in [mount]", k);
}

/* [report] keys: absolute, normalised paths of files in an existing
 * directory we may create files in; metrics_file ends in ".prom" (the
 * only files node_exporter's textfile collector reads).  Not on a Windows
 * build (no JSON library there). */
static int conf_report(fs_conf_parse *cp, const char *k, const char *v)
{
    fs_config *cfg = cp->cfg;
    char dir[FS_CONF_PATH];
    int kl = !strcmp(k, kl_names[KL_METRICS]) ? KL_METRICS
             : !strcmp(k, kl_names[KL_JSON])  ? KL_JSON
                                              : -1;
    char *dst = kl == KL_METRICS ? cfg->metrics_file : cfg->json_file;
    const char *other = kl == KL_METRICS ? cfg->json_file : cfg->metrics_file;
    int ol = cp->key_lines[kl == KL_METRICS ? KL_JSON : KL_METRICS];
    size_t n;
    int rc;

    if (kl < 0)
        return fs_conf_fail(cp, cp->line, "unknown key '%s' in [report]", k);
    cp->key_lines[kl] = cp->line;
    if (cp->windows)
        return fs_conf_fail(cp, cp->line, "%s: [report] is not available in this Windows build", k);
    if (!conf_path(cp, k, v, dst, FS_CONF_PATH))
        return 0;
    n = strlen(v);
    if (kl == KL_METRICS && (n < 6 || strcmp(v + n - 5, ".prom")))
        return fs_conf_fail(cp, cp->line,
                            "metrics_file: '%s' does not end in .prom (node_exporter's textfile "
                            "collector reads only *.prom)",
                            v);
    if (!strcmp(v, other))
        return fs_conf_fail(cp, cp->line, "%s: the same file as %s (line %d)", k,
                            kl_names[kl == KL_METRICS ? KL_JSON : KL_METRICS], ol);
    n = (size_t)(strrchr(v, '/') - v);
    snprintf(dir, sizeof dir, "%.*s", (int)n, v);
    rc = fs_sfile_dir_ok(n ? dir : "/");
    if (rc < 0)
        return fs_conf_fail(cp, cp->line, "%s: directory %s: %s", k, n ? dir : "/", strerror(-rc));
    return 1;
}

/* See conf.h: dispatch one key (line cp->line).  Returns 1, or 0 after
 * recording the first error. */
int fs_conf_key(fs_conf_parse *cp, const char *section, const char *name, const char *value)
{
    char full[48];

    if (cp->failed)
        return 0;
    if (!section[0])
        return fs_conf_fail(cp, cp->line, "key '%s' outside any section", name);
    /* "database" is an alias of "databases": both set the same list */
    snprintf(full, sizeof full, "%s.%s", section,
             !strcmp(section, "source") && !strcmp(name, "database") ? "databases" : name);
    for (int i = 0; i < cp->nseen; i++) {
        if (strcmp(cp->seen[i], full))
            continue;
        if (!strcmp(cp->seen_as[i], name))
            return fs_conf_fail(cp, cp->line, "duplicate key '%s' in [%s] (first set on line %d)",
                                name, section, cp->seen_line[i]);
        return fs_conf_fail(cp, cp->line,
                            "'%s' conflicts with '%s' on line %d (the same setting "
                            "twice); keep one",
                            name, cp->seen_as[i], cp->seen_line[i]);
    }
    if (cp->nseen == FS_CONF_MAX_KEYS)
        return fs_conf_fail(cp, cp->line, "too many keys");
    snprintf(cp->seen[cp->nseen], sizeof cp->seen[0], "%s", full);
    snprintf(cp->seen_as[cp->nseen], sizeof cp->seen_as[0], "%s", name);
    cp->seen_line[cp->nseen++] = cp->line;
    if (!value[0])
        return fs_conf_fail(cp, cp->line, "empty value for '%s'", name);
    if (!strcmp(section, "source"))
        return conf_source(cp, name, value);
    if (!strcmp(section, "backup"))
        return conf_backup(cp, name, value);
    if (!strcmp(section, "spool"))
        return conf_spool(cp, name, value);
    if (!strcmp(section, "mount"))
        return conf_mount(cp, name, value);
    if (!strcmp(section, "report"))
        return conf_report(cp, name, value);
    return fs_conf_fail(cp, cp->line, "unknown section [%s]", section);
}

/* See conf.h: check a section header line (already trimmed, starts with
 * '['), line cp->line. */
void fs_conf_section_line(fs_conf_parse *cp, const char *s)
{
    const char *close = strchr(s, ']');
    char name[32];
    size_t n;
    int i;

    if (!close) {
        fs_conf_fail(cp, cp->line, "syntax error: section header without ']'");
        return;
    }
    n = (size_t)(close - s - 1);
    if (n >= sizeof name) {
        fs_conf_fail(cp, cp->line, "unknown section (name too long)");
        return;
    }
    memcpy(name, s + 1, n);
    name[n] = 0;
    /* inih ignores whatever follows ']': "[backup] truncate = complete"
     * would mount with the key silently dropped */
    for (const char *t = close + 1; *t && *t != ';' && *t != '#'; t++)
        if (!isspace((unsigned char)*t)) {
            fs_conf_fail(cp, cp->line,
                         "text after the section header [%s]; put each key = value "
                         "on its own line",
                         name);
            return;
        }
    for (i = 0; conf_sections[i]; i++)
        if (!strcmp(name, conf_sections[i]))
            break;
    if (!conf_sections[i]) {
        fs_conf_fail(cp, cp->line, "unknown section [%s]", name);
        return;
    }
    if (cp->seen_sections & (1 << i)) {
        fs_conf_fail(cp, cp->line, "duplicate section [%s]", name);
        return;
    }
    cp->seen_sections |= 1 << i;
    if (i == 0)
        cp->cfg->source_line = cp->line;
}

/* The checks of a Windows source chosen by key kl on line: DsBackup and
 * CertSrvBackup name their own databases and logs; ESENT in-process needs
 * both paths and absolute Windows database paths.  1 when an error was
 * recorded, else 0. */
static int conf_final_win_source(fs_conf_parse *cp, int kl, int line)
{
    fs_config *cfg = cp->cfg;

    if (cfg->source != FS_SOURCE_ESENT) {
        static const int only_esent[] = { KL_DATABASES, KL_BASE, KL_LOGSIZE, KL_INSTANCE };
        for (size_t i = 0; i < sizeof only_esent / sizeof only_esent[0]; i++) {
            int ol = cp->key_lines[only_esent[i]];
            if (ol) {
                fs_conf_fail(cp, ol > line ? ol : line,
                             "%s (line %d) and %s (line %d) exclude each other: the backup "
                             "server names its own databases and logs",
                             kl_names[kl], line, kl_names[only_esent[i]], ol);
                return 1;
            }
        }
        return 0;
    }
    if (!cfg->system_path[0] || !cfg->log_path[0]) {
        fs_conf_fail(cp, line,
                     "[source] ESENT in-process use needs both esent_system_path and "
                     "esent_log_path");
        return 1;
    }
    if (!cfg->ndatabases) {
        fs_conf_fail(cp, line, "[source] ESENT in-process use needs databases = X:\\PATH[, ...]");
        return 1;
    }
    if (cp->win_dbs != cfg->ndatabases) {
        fs_conf_fail(cp, cp->key_lines[KL_DATABASES],
                     "databases: ESENT needs absolute Windows paths (X:\\dir\\file.edb)");
        return 1;
    }
    return 0;
}

/* The source kind of the [source] keys: at most one of endpoint, libjet
 * in-process (system_path/log_path), ESENT in-process (esent_*_path),
 * dsbackup, certsrv; the kind must be one this build serves.  Sets
 * cfg->source.  1 when an error was recorded, else 0. */
static int conf_final_source(fs_conf_parse *cp)
{
    static const struct {
        int kl;
        enum fs_source_kind kind;
    } anchors[] = {
        { KL_ENDPOINT, FS_SOURCE_ENDPOINT }, { KL_SYSTEM, FS_SOURCE_LIBJET },
        { KL_LOG, FS_SOURCE_LIBJET },        { KL_ESENT_SYSTEM, FS_SOURCE_ESENT },
        { KL_ESENT_LOG, FS_SOURCE_ESENT },   { KL_DSBACKUP, FS_SOURCE_DSBACKUP },
        { KL_CERTSRV, FS_SOURCE_CERTSRV },
    };
    fs_config *cfg = cp->cfg;
    int first = -1; /* index into anchors of the first source key seen */

    for (size_t i = 0; i < sizeof anchors / sizeof anchors[0]; i++) {
        int l = cp->key_lines[anchors[i].kl];
        if (!l)
            continue;
        if (first < 0) {
            first = (int)i;
            continue;
        }
        if (anchors[i].kind != anchors[first].kind) {
            int fl = cp->key_lines[anchors[first].kl];
            fs_conf_fail(cp, l > fl ? l : fl,
                         "%s (line %d) and %s (line %d) exclude each other: give one source "
                         "(endpoint; system_path, log_path, databases; esent_system_path, "
                         "esent_log_path, databases; dsbackup; or certsrv)",
                         kl_names[anchors[first].kl], fl, kl_names[anchors[i].kl], l);
            return 1;
        }
    }
    if (first < 0) {
        cfg->source = FS_SOURCE_LIBJET;
        if (cp->windows && cp->key_lines[KL_DATABASES]) {
            fs_conf_fail(cp, cp->key_lines[KL_DATABASES],
                         "databases needs esent_system_path and esent_log_path");
            return 1;
        }
        return 0;
    }
    cfg->source = anchors[first].kind;
    int kl = anchors[first].kl, line = cp->key_lines[kl];
    int win = cfg->source == FS_SOURCE_ESENT || cfg->source == FS_SOURCE_DSBACKUP ||
              cfg->source == FS_SOURCE_CERTSRV;
    if (win && !cp->windows) {
        fs_conf_fail(cp, line,
                     "%s is a Windows source: this build serves libjet (endpoint = SOCKET, or "
                     "system_path, log_path and databases)",
                     kl_names[kl]);
        return 1;
    }
    if (!win && cp->windows) {
        fs_conf_fail(cp, line,
                     "%s is a libjet source: this Windows build serves esent_system_path, "
                     "esent_log_path and databases, dsbackup = SERVER or certsrv = SERVER",
                     kl_names[kl]);
        return 1;
    }
    if (!win) {
        if (cp->win_dbs) {
            fs_conf_fail(cp, cp->key_lines[KL_DATABASES],
                         "databases: a Windows path is not an absolute path of this system");
            return 1;
        }
        return 0;
    }
    return conf_final_win_source(cp, kl, line);
}

/* Whole-file rules checked after parsing. */
static void conf_final(fs_conf_parse *cp)
{
    fs_config *cfg = cp->cfg;
    int inproc = cp->key_lines[KL_SYSTEM] || cp->key_lines[KL_LOG] || cp->key_lines[KL_DATABASES] ||
                 cp->key_lines[KL_PAGE] || cp->key_lines[KL_BASE] || cp->key_lines[KL_LOGSIZE] ||
                 cp->key_lines[KL_INSTANCE];
    int srcline = cfg->source_line ? cfg->source_line : (cp->line ? cp->line : 1);

    if (cfg->endpoint[0] && inproc) {
        for (int i = KL_SYSTEM; i <= KL_INSTANCE; i++)
            if (cp->key_lines[i]) {
                int el = cp->key_lines[KL_ENDPOINT], kl = cp->key_lines[i];
                fs_conf_fail(cp, el > kl ? el : kl,
                             "endpoint (line %d) and %s (line %d) exclude each other: give "
                             "endpoint, or the in-process keys (system_path, log_path, databases, "
                             "base_name, page_size, log_file_size, instance)",
                             el, kl_names[i], kl);
                return;
            }
    }
    if (conf_final_source(cp))
        return;
    if (cp->key_lines[KL_WINDOW] && cfg->policy != FS_SPOOL_STREAM) {
        if (cp->key_lines[KL_POLICY])
            fs_conf_fail(cp,
                         cp->key_lines[KL_WINDOW] > cp->key_lines[KL_POLICY]
                             ? cp->key_lines[KL_WINDOW]
                             : cp->key_lines[KL_POLICY],
                         "window (line %d) applies only to policy = stream, and policy = keep "
                         "(line %d)",
                         cp->key_lines[KL_WINDOW], cp->key_lines[KL_POLICY]);
        else
            fs_conf_fail(cp, cp->key_lines[KL_WINDOW],
                         "window applies only to policy = stream, "
                         "and policy is keep (the default)");
        return;
    }
    if (!cfg->source_line) {
        fs_conf_fail(cp, srcline,
                     "missing [source] section (endpoint = SOCKET or the instance's "
                     "directories)");
        return;
    }
    if (cfg->source == FS_SOURCE_LIBJET) {
        if (!inproc) {
            fs_conf_fail(cp, srcline,
                         "[source] needs endpoint = SOCKET, or system_path, log_path "
                         "and databases");
            return;
        }
        if (!cfg->system_path[0] || !cfg->log_path[0]) {
            fs_conf_fail(cp, srcline,
                         "[source] in-process use needs both system_path and log_path");
            return;
        }
        if (!cfg->ndatabases) {
            fs_conf_fail(cp, srcline, "[source] in-process use needs databases = PATH[, PATH...]");
            return;
        }
    }
    if (cfg->page_size &&
        (cfg->read_size % cfg->page_size || cfg->read_size < 3 * cfg->page_size)) {
        int rl = cfg->read_size_line, pl = cp->key_lines[KL_PAGE];
        char where[48] = " (the default)";
        if (rl)
            snprintf(where, sizeof where, " (line %d)", rl);
        fs_conf_fail(cp, rl > pl ? rl : pl, "read_size %" PRIu64 "%s is %s page_size %lu (line %d)",
                     cfg->read_size, where,
                     cfg->read_size % cfg->page_size ? "not a multiple of" : "less than 3 pages of",
                     cfg->page_size, pl);
        return;
    }
}

/* See conf.h. */
void fs_conf_begin(fs_conf_parse *cp, const char *name, fs_config *cfg, char *err, size_t cb_err)
{
    memset(cp, 0, sizeof *cp);
    fs_conf_defaults(cfg);
    snprintf(cfg->file, sizeof cfg->file, "%s", name);
    cp->cfg = cfg;
    cp->name = name;
    cp->err = err;
    cp->cb_err = cb_err;
    cp->windows = fs_plat_windows();
}

/* See conf.h. */
int fs_conf_end(fs_conf_parse *cp)
{
    if (!cp->failed)
        conf_final(cp);
    cp->cfg->instance_line = cp->key_lines[KL_INSTANCE];
    return cp->failed ? -1 : 0;
}

/* Names of the enum values as written in the INI file (static strings). */
const char *fs_conf_truncate_name(enum fs_truncate t)
{
    return t == FS_TRUNC_COMPLETE ? "complete" : t == FS_TRUNC_COMMIT ? "commit" : "never";
}

/* The INI word of a spool policy ("keep", "stream"); static, pure. */
const char *fs_conf_policy_name(enum fs_spool_policy p)
{
    return p == FS_SPOOL_STREAM ? "stream" : "keep";
}

/* The INI word of a backup type ("full", "incremental"); static, pure. */
const char *fs_conf_type_name(enum fs_backup_type t)
{
    return t == FS_BACKUP_INCREMENTAL ? "incremental" : "full";
}

/* See fsops.h. */
size_t fs_source_params(const fs_config *cfg, bkc_host_params *p, const char **dbs)
{
    *p = (bkc_host_params){
        .instance = cfg->instance,
        .system_path = cfg->system_path,
        .log_path = cfg->log_path,
        .base_name = cfg->base_name,
        .page_size = cfg->page_size,
        .log_kib = cfg->log_file_size_kib,
        .circular = -1,
        .legacy = -1,
        .extra = NULL,
        .nextra = 0,
    };
    for (int i = 0; i < cfg->ndatabases; i++)
        dbs[i] = cfg->databases[i];
    return (size_t)cfg->ndatabases;
}
