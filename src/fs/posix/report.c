/* report.c -- status as JSON, the [report] files; see report.h. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "report.h"
#include "plat.h"

/* Seconds since the epoch of t, as a JSON/metrics number. */
static double time_s(const fs_time *t)
{
    return (double)t->sec + (double)t->nsec / 1e9;
}

/* "2026-12-03T01:02:03Z" into buf ("" when out of range). */
static void time_iso(const fs_time *t, char *buf, size_t cb)
{
    struct tm tm;

    buf[0] = 0;
    if (fs_time_utc(t, &tm) == 0 && strftime(buf, cb, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        buf[0] = 0;
}

/* Set key of o to v (stolen); -ENOMEM when v is NULL or the set fails. */
static int jset(json_t *o, const char *key, json_t *v)
{
    return v && json_object_set_new(o, key, v) == 0 ? 0 : -ENOMEM;
}

/* A byte count (sizes stay far below 2^63). */
static json_t *jbytes(uint64_t v)
{
    return json_integer((json_int_t)v);
}

/* The "files" array of a snapshot. */
static json_t *files_json(const fs_snapshot *sn)
{
    json_t *a = json_array();

    for (int i = 0; a && i < sn->nfiles; i++) {
        const fs_snap_file *f = &sn->files[i];
        bool man = f->kind == FS_K_MANIFEST || f->kind == FS_K_LOGMAN;
        json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", f->name, "kind",
                              man                   ? "manifest"
                              : f->kind == FS_K_LOG ? "log"
                                                    : "database",
                              "delivered", jbytes(f->delivered), "size",
                              f->size_known ? jbytes(f->size) : json_null(), "pulled",
                              man || !f->size_known ? json_null() : jbytes(f->pulled));
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The "progress" object: bytes, percent, rate, ETA. */
static json_t *progress_json(const fs_snapshot *sn)
{
    double pct =
        sn->bytes_total ? 100.0 * (double)sn->bytes_delivered / (double)sn->bytes_total : 0.0;

    return json_pack("{s:o, s:o, s:b, s:f, s:f, s:o, s:f}", "bytes_delivered",
                     jbytes(sn->bytes_delivered), "bytes_total", jbytes(sn->bytes_total),
                     "total_final", sn->total_final, "percent", pct, "rate_bytes_per_s", sn->rate,
                     "eta_s", sn->eta_s >= 0 ? json_real(sn->eta_s) : json_null(), "elapsed_s",
                     sn->elapsed_s);
}

/* The "error" member: null, or the message with the Jet error (or errno). */
static json_t *error_json(const fs_snapshot *sn)
{
    if (!sn->failed)
        return json_null();
    return json_pack("{s:s, s:s, s:s, s:I}", "message", sn->error, "code", sn->error_code, "kind",
                     sn->err.kind == FS_ERR_JET ? "jet" : "errno", "value",
                     (json_int_t)sn->err.code);
}

/* The "guards" member: the limits in seconds (0 = off), the time running
 * and idle, whether one fired. */
static json_t *guards_json(const fs_snapshot *sn)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:b}", "max_duration_s", (json_int_t)sn->max_duration_s,
                     "idle_timeout_s", (json_int_t)sn->idle_timeout_s, "running_s",
                     (json_int_t)sn->running_s, "idle_s", (json_int_t)sn->idle_s, "fired",
                     sn->guard_fired);
}

/* The "logs", "spool", "pull", "guards" and "umount" members of o.  0 or -ENOMEM. */
static int more_json(const fs_snapshot *sn, json_t *o)
{
    json_t *logs = sn->logs_known ? json_pack("{s:b, s:I, s:I}", "known", 1, "generation_low",
                                              (json_int_t)sn->log_gen_low, "generation_high",
                                              (json_int_t)sn->log_gen_high)
                                  : json_pack("{s:b}", "known", 0);
    int rc = jset(o, "logs", logs);

    if (rc == 0)
        rc = jset(o, "committed_at_roll",
                  sn->have_committed ? json_integer((json_int_t)sn->committed) : json_null());
    if (rc == 0)
        rc = jset(o, "spool",
                  json_pack("{s:o, s:o, s:s}", "bytes_written", jbytes(sn->spool_written), "cap",
                            jbytes(sn->spool_cap), "directory", sn->spool_dir));
    if (rc == 0)
        rc = jset(o, "stream_rereads_refused", jbytes(sn->dropped_reads));
    if (rc == 0)
        rc = jset(o, "waiting_requests", json_integer(sn->nwaiting));
    if (rc == 0)
        rc =
            jset(o, "pull",
                 json_pack("{s:o, s:o, s:o}", "rate_bytes_per_s", jbytes(sn->pull_rate), "max_rate",
                           jbytes(sn->max_rate), "throttle_waits", jbytes(sn->throttle_waits)));
    if (rc == 0)
        rc = jset(o, "guards", guards_json(sn));
    if (rc == 0)
        rc = jset(o, "umount",
                  json_pack("{s:s, s:s, s:s, s:s}", "stage", sn->umount, "decision",
                            sn->decision_word, "calls", sn->decision_calls, "reason",
                            sn->decision_reason));
    return rc;
}

/* The status object of a snapshot (report.h).  NULL when out of memory. */
static json_t *snap_json(const fs_snapshot *sn, const fs_config *cfg)
{
    char inst[128], start[32];
    json_t *o;
    int rc;

    fsx_report_instance(cfg, inst, sizeof inst);
    time_iso(&sn->start, start, sizeof start);
    o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:f, s:b}", "version", 1, "instance", inst, "state",
                  fs_state_name(sn->state), "phase", sn->phase, "start", start, "start_timestamp",
                  time_s(&sn->start), "healthy", !sn->failed);
    rc = o ? 0 : -ENOMEM;
    if (rc == 0)
        rc = jset(o, "backup",
                  json_pack("{s:s, s:s, s:s}", "type", sn->type, "truncate", sn->truncate,
                            "spool_policy", sn->policy));
    if (rc == 0)
        rc = jset(o, "commit_given", json_boolean(sn->commit_given));
    if (rc == 0)
        rc = jset(o, "files", files_json(sn));
    if (rc == 0)
        rc = jset(o, "progress", progress_json(sn));
    if (rc == 0)
        rc = more_json(sn, o);
    if (rc == 0)
        rc = jset(o, "error", error_json(sn));
    if (rc < 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* See report.h. */
int fsx_status_json(fs_ctx *ctx, const fs_config *cfg, const char *mnt, char *buf, size_t cb)
{
    fs_snapshot sn;
    json_t *o = NULL;
    size_t n;
    int rc;

    rc = fs_status_snapshot(ctx, &sn);
    if (rc < 0)
        goto out;
    o = snap_json(&sn, cfg);
    rc = o && jset(o, "mountpoint", json_string(mnt)) == 0 ? 0 : -ENOMEM;
    if (rc < 0)
        goto out;
    n = json_dumpb(o, buf, cb > 0 ? cb - 1 : 0, JSON_COMPACT);
    if (n == 0 || n + 2 > cb) {
        rc = -EMSGSIZE;
        goto out;
    }
    buf[n] = '\n';
    buf[n + 1] = 0;
    rc = sn.failed ? 1 : 0;
out:
    json_decref(o);
    fs_snapshot_free(&sn);
    if (rc < 0) {
        snprintf(buf, cb, "status --json: %s\n", strerror(-rc));
        return 2;
    }
    return rc;
}

/* See report.h. */
void fsx_report_instance(const fs_config *cfg, char *buf, size_t cb)
{
    const char *base, *dot;

    if (cfg->instance_line) {
        snprintf(buf, cb, "%s", cfg->instance);
        return;
    }
    base = strrchr(cfg->file, '/');
    base = base ? base + 1 : cfg->file;
    dot = strrchr(base, '.');
    if (dot && !strcmp(dot, ".ini") && dot > base)
        snprintf(buf, cb, "%.*s", (int)(dot - base), base);
    else
        snprintf(buf, cb, "%s", base);
}

/* See report.h. */
int fsx_write_atomic(const char *path, const char *data, size_t len, char *err, size_t cb_err)
{
    char tmp[PATH_MAX], dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    int fd = -1, dfd = -1, rc = 0;
    size_t off = 0;

    tmp[0] = 0;
    if (!slash || snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path) >= (int)sizeof dir ||
        snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir[0] ? dir : "", slash + 1) >=
            (int)sizeof tmp) {
        tmp[0] = 0;
        rc = -ENAMETOOLONG;
        snprintf(err, cb_err, "%s: path too long", path);
        goto out;
    }
    if (!dir[0])
        snprintf(dir, sizeof dir, "/");
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        tmp[0] = 0;
        snprintf(err, cb_err, "%s: cannot create a temporary file: %s", path, strerror(-rc));
        goto out;
    }
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = w < 0 ? -errno : -EIO;
            snprintf(err, cb_err, "%s: write: %s", tmp, strerror(-rc));
            goto out;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "%s: %s", tmp, strerror(-rc));
        goto out;
    }
    rc = close(fd);
    fd = -1;
    if (rc < 0 || rename(tmp, path) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "%s: cannot replace %s: %s", tmp, path, strerror(-rc));
        goto out;
    }
    tmp[0] = 0; /* renamed: nothing to remove */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "%s: fsync of the directory: %s", dir, strerror(-rc));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        (void)close(fd);
    if (dfd >= 0)
        (void)close(dfd);
    if (tmp[0])
        (void)unlink(tmp);
    return rc;
}

/* instance as a Prometheus label value (\, " and newline escaped). */
static void prom_label(const char *s, char *buf, size_t cb)
{
    size_t k = 0;

    for (; *s && k + 3 < cb; s++) {
        if (*s == '\\' || *s == '"' || *s == '\n') {
            buf[k++] = '\\';
            buf[k++] = *s == '\n' ? 'n' : *s;
        } else {
            buf[k++] = *s;
        }
    }
    buf[k] = 0;
}

/* The metrics text of an ended backup (Prometheus text exposition
 * format) into buf.  0, or -EMSGSIZE. */
static int metrics_text(const fs_snapshot *sn, const char *inst, char *buf, size_t cb)
{
    static const struct {
        const char *name, *help;
    } m[] = {
        { "last_start_timestamp_seconds", "Start of the last backup (Unix time)." },
        { "last_end_timestamp_seconds",
          "End of the last backup: its umount decision carried out (Unix time)." },
        { "last_duration_seconds", "Duration of the last backup, start to end." },
        { "last_bytes",
          "Bytes of the last backup delivered to readers (databases, logs, manifests)." },
        { "last_success",
          "1 when the last backup ended normally (truncate or copy), 0 when it aborted." },
    };
    static const char *const words[] = { "truncate", "copy", "abort" };
    const double v[] = { time_s(&sn->start), time_s(&sn->end),
                         time_s(&sn->end) - time_s(&sn->start), (double)sn->bytes_delivered,
                         sn->decision != FS_DECIDE_ABORT ? 1 : 0 };
    char lab[512];
    size_t n = 0;

#define MT(...) \
    do { \
        if (n < cb) \
            n += (size_t)snprintf(buf + n, cb - n, __VA_ARGS__); \
    } while (0)
    prom_label(inst, lab, sizeof lab);
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        MT("# HELP esebackupfs_%s %s\n# TYPE esebackupfs_%s gauge\n", m[i].name, m[i].help,
           m[i].name);
        MT("esebackupfs_%s{instance=\"%s\"} %.*f\n", m[i].name, lab, i < 3 ? 3 : 0, v[i]);
    }
    MT("# HELP esebackupfs_last_decision The umount decision of the last backup (1 = taken).\n"
       "# TYPE esebackupfs_last_decision gauge\n");
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        MT("esebackupfs_last_decision{instance=\"%s\",decision=\"%s\"} %d\n", lab, words[i],
           !strcmp(sn->decision_word, words[i]));
#undef MT
    return n < cb ? 0 : -EMSGSIZE;
}

/* The json_file object of an ended backup.  NULL when out of memory. */
static json_t *report_json(const fs_snapshot *sn, const fs_config *cfg, const char *inst)
{
    char start[32], end[32];
    json_t *o;

    time_iso(&sn->start, start, sizeof start);
    time_iso(&sn->end, end, sizeof end);
    o = json_pack("{s:i, s:s, s:s, s:f, s:s, s:f, s:f, s:o, s:s, s:s, s:b}", "version", 1,
                  "instance", inst, "start", start, "start_timestamp", time_s(&sn->start), "end",
                  end, "end_timestamp", time_s(&sn->end), "duration_s",
                  time_s(&sn->end) - time_s(&sn->start), "bytes", jbytes(sn->bytes_delivered),
                  "decision", sn->decision_word, "decision_reason", sn->decision_reason, "success",
                  sn->decision != FS_DECIDE_ABORT);
    if (o && (jset(o, "error", error_json(sn)) < 0 || jset(o, "status", snap_json(sn, cfg)) < 0)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* Write one report file (what names it for messages).  0 or -errno,
 * logged. */
static int report_file(const char *what, const char *path, const char *data, size_t len)
{
    char err[PATH_MAX + 128];
    int rc;

    rc = data ? fsx_write_atomic(path, data, len, err, sizeof err) : -ENOMEM;
    if (rc < 0 && !data)
        snprintf(err, sizeof err, "%s: out of memory", path);
    if (rc < 0)
        fs_log(FS_LOG_ERR, "[report] %s not written: %s", what, err);
    else
        fs_log(FS_LOG_INFO, "[report] %s written: %s", what, path);
    return rc;
}

/* See report.h. */
int fsx_report_write(const fs_config *cfg, fs_ctx *ctx)
{
    char inst[128], *text = NULL, *js = NULL;
    fs_snapshot sn;
    json_t *o = NULL;
    int rc, rc2 = 0;
    size_t cb = 16384;

    if (!cfg->metrics_file[0] && !cfg->json_file[0])
        return 0;
    fsx_report_instance(cfg, inst, sizeof inst);
    rc = fs_status_snapshot(ctx, &sn);
    if (rc < 0) {
        fs_log(FS_LOG_ERR, "[report] not written: out of memory");
        return rc;
    }
    if (cfg->metrics_file[0]) {
        text = malloc(cb);
        if (text && metrics_text(&sn, inst, text, cb) < 0) {
            free(text);
            text = NULL;
        }
        rc = report_file("metrics_file", cfg->metrics_file, text, text ? strlen(text) : 0);
    }
    if (cfg->json_file[0]) {
        o = report_json(&sn, cfg, inst);
        js = o ? json_dumps(o, JSON_INDENT(2)) : NULL;
        char *t = js ? realloc(js, strlen(js) + 2) : NULL;
        if (t) {
            js = t;
            strcat(js, "\n");
        }
        rc2 = report_file("json_file", cfg->json_file, js, js ? strlen(js) : 0);
    }
    free(js);
    json_decref(o);
    free(text);
    fs_snapshot_free(&sn);
    return rc < 0 ? rc : rc2;
}
