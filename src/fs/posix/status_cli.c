/* status_cli.c -- `esebackupfs status --json` and `status --watch` (the
 * client side of the "status-json" control request); see report.h. */
#include "config.h"
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include "control.h"
#include "report.h"

/* Ask mnt for its JSON status (messages to errf unless NULL).  *po = the
 * parsed object (NULL when the answer is not JSON).  Returns the exit
 * code of the answer, or 2 (not reachable, or no JSON). */
static int query_json(const char *prog, const char *mnt, FILE *errf, json_t **po)
{
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    FILE *mem = open_memstream(&text, &len);
    int rc;

    *po = NULL;
    if (!mem) {
        if (errf)
            fprintf(errf, "%s: %s: %s\n", prog, mnt, strerror(errno));
        return 2;
    }
    rc = fsx_control_query(prog, mnt, "status-json", mem, errf);
    if (fclose(mem) != 0 && rc != 2)
        rc = 2;
    if (rc != 2) {
        *po = json_loadb(text ? text : "", len, 0, &jerr);
        if (!*po) {
            if (errf)
                fprintf(errf, "%s: %s: %s", prog, mnt, text ? text : "no answer\n");
            rc = 2;
        }
    }
    free(text);
    return rc;
}

/* each-mount callback of the listing: append mnt's object to the array. */
static int list_one(const char *mnt, void *arg)
{
    json_t **acc = arg; /* [0] the array, [1] worst exit code as an integer */
    json_t *o = NULL;
    int rc = query_json("esebackupfs", mnt, NULL, &o);

    if (!o)
        o = json_pack("{s:s, s:b}", "mountpoint", mnt, "reachable", 0);
    if (!o || json_array_append_new(acc[0], o) != 0)
        return -ENOMEM;
    if (rc > json_integer_value(acc[1]))
        (void)json_integer_set(acc[1], rc);
    return 0;
}

/* See report.h. */
int fsx_status_json_client(const char *prog, const char *mountpoint)
{
    json_t *acc[2] = { NULL, NULL };
    json_t *o = NULL;
    int rc;

    if (mountpoint) {
        rc = query_json(prog, mountpoint, stderr, &o);
        if (o && json_dumpf(o, stdout, JSON_INDENT(2)) == 0 && printf("\n") > 0 &&
            fflush(stdout) == 0) {
            json_decref(o);
            return rc;
        }
        json_decref(o);
        return 2;
    }
    acc[0] = json_array();
    acc[1] = json_integer(0);
    rc = acc[0] && acc[1] ? fsx_control_each_mount(list_one, acc) : -ENOMEM;
    if (rc < 0 || json_dumpf(acc[0], stdout, JSON_INDENT(2)) != 0 || printf("\n") < 0 ||
        fflush(stdout) != 0) {
        fprintf(stderr, "%s: status --json: %s\n", prog, strerror(rc < 0 ? -rc : EIO));
        rc = 2;
    } else {
        rc = (int)json_integer_value(acc[1]);
    }
    json_decref(acc[0]);
    json_decref(acc[1]);
    return rc;
}

/* "1.5 GiB" into buf. */
static void human(double v, char *buf, size_t cb)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    int u = 0;

    while (v >= 1024 && u < 4) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cb, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* One progress line of status object o, without a newline: key=value
 * words (plain) or a line for the eye (tty). */
static void watch_line(json_t *o, bool tty, char *buf, size_t cb)
{
    json_t *p = json_object_get(o, "progress"), *um = json_object_get(o, "umount");
    double dl = (double)json_integer_value(json_object_get(p, "bytes_delivered"));
    double tot = (double)json_integer_value(json_object_get(p, "bytes_total"));
    double pct = json_number_value(json_object_get(p, "percent"));
    double rate = json_number_value(json_object_get(p, "rate_bytes_per_s"));
    json_t *eta = json_object_get(p, "eta_s");
    const char *phase = json_string_value(json_object_get(o, "phase"));
    const char *dec = json_string_value(json_object_get(um, "decision"));
    bool fin = json_is_true(json_object_get(p, "total_final"));
    char a[32], b[32], r[32], e[32] = "unknown";

    if (!tty) {
        if (json_is_number(eta))
            snprintf(e, sizeof e, "%.0f", json_number_value(eta));
        snprintf(buf, cb,
                 "phase=%s delivered=%.0f total=%.0f total_final=%s percent=%.1f rate=%.0f "
                 "eta=%s decision=%s",
                 phase ? phase : "?", dl, tot, fin ? "yes" : "no", pct, rate, e, dec ? dec : "?");
        return;
    }
    human(dl, a, sizeof a);
    human(tot, b, sizeof b);
    human(rate, r, sizeof r);
    if (json_is_number(eta)) {
        long s = (long)(json_number_value(eta) + 0.5);
        snprintf(e, sizeof e, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    snprintf(buf, cb, "%-9s %s / %s%s (%.1f%%)  %s/s  ETA %s  umount: %s", phase ? phase : "?", a,
             b, fin ? "" : "+", pct, r, e, dec ? dec : "?");
}

/* Sleep until *next (CLOCK_MONOTONIC), then advance it by one second. */
static void tick(struct timespec *next)
{
    next->tv_sec += 1;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR)
        ;
}

/* After ENDED: wait (up to a minute, polling every 100 ms) until the
 * driver stops answering, which it does only after writing the [report]
 * files, so that a script's next step finds them. */
static void wait_driver_gone(const char *prog, const char *mountpoint)
{
    struct timespec step = { 0, 100000000 };
    json_t *o;

    for (int i = 0; i < 600; i++) {
        int rc = query_json(prog, mountpoint, NULL, &o);
        json_decref(o);
        if (rc == 2)
            return;
        while (nanosleep(&step, &step) < 0 && errno == EINTR)
            ;
        step.tv_nsec = 100000000;
    }
}

/* See report.h. */
int fsx_status_watch(const char *prog, const char *mountpoint)
{
    bool tty = isatty(STDOUT_FILENO) == 1, seen = false, failed = false;
    struct timespec next;
    char line[512];
    json_t *o;
    int rc;

    if (clock_gettime(CLOCK_MONOTONIC, &next) < 0)
        return 2;
    for (;;) {
        /* once seen, the mount going away is the end, not an error */
        rc = query_json(prog, mountpoint, seen ? NULL : stderr, &o);
        if (rc == 2) {
            json_decref(o);
            break;
        }
        seen = true;
        failed = !json_is_true(json_object_get(o, "healthy"));
        watch_line(o, tty, line, sizeof line);
        if (tty)
            printf("\r\033[K%s", line);
        else
            printf("%s\n", line);
        rc = fflush(stdout);
        const char *st = json_string_value(json_object_get(o, "state"));
        bool ended = st && !strcmp(st, "ENDED");
        json_decref(o);
        if (ended)
            wait_driver_gone(prog, mountpoint);
        if (rc != 0 || ended)
            break;
        tick(&next);
    }
    if (tty && seen)
        printf("\n");
    if (!seen)
        return 2;
    return failed ? 1 : 0;
}
