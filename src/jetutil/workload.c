/*
 * workload.c -- `jetutil workload DIR [--threads T] [--seconds S]`: T
 * threads of random bank transfers on an instance hosted in this process;
 * prints `started T threads` once, then `tx/s N` every second and
 * `committed N` (transfer counter durably committed: at start + since) four
 * times a second; stops after
 * S seconds or at SIGTERM/SIGINT, ends the sessions and terminates the
 * instance cleanly.
 */
#include "config.h"

#include <string.h>

#include "jetutil.h"

#define USAGE JU_USAGE_WORKLOAD
/* The parsed command line of `jetutil workload`. */
struct workload_opts {
    const char *dir;
    unsigned long threads;
    unsigned long seconds;
};

/*
 * Parses argv into *o (defaults: 1 thread, no time limit).  Returns true
 * when the command is to run; false when it is to exit with *status (0
 * after --help, JU_EXIT_USAGE after a message on stderr).  No locking.
 */
static bool parse_workload_args(int argc, char **argv, struct workload_opts *o, int *status)
{
    const char *pos[1], *o_thr = NULL, *o_sec = NULL;
    ju_opt opts[] = {
        { "--threads", true, &o_thr, NULL },
        { "--seconds", true, &o_sec, NULL },
        { NULL, false, NULL, NULL },
    };
    int npos, r;

    o->threads = 1;
    o->seconds = 0;
    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos != 1) {
        fprintf(stderr, "jetutil workload: DIR is required (usage: %s)\n", USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_thr && ju_parse_ulong("workload", "--threads", o_thr, 1, 256, &o->threads) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_sec && ju_parse_ulong("workload", "--seconds", o_sec, 0, 1UL << 31, &o->seconds) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    o->dir = pos[0];
    return true;
}

/*
 * Prints `committed N` four times a second and `tx/s N` every second until
 * `seconds` have passed since t0 (never when 0) or a signal arrives.
 * Returns 0, or a worker's JET_ERR after printing it.  Called by the thread
 * that started `run`.
 */
static JET_ERR workload_loop(ju_runner *run, unsigned long seconds, uint64_t base, double t0)
{
    double tlast = t0;
    uint64_t last = 0;
    JET_ERR rc;

    for (;;) {
        double now;
        long wait_ms = 250;
        uint64_t c;
        if (seconds) {
            double left = t0 + (double)seconds - ju_now();
            if (left <= 0)
                break;
            if (left < 0.25)
                wait_ms = (long)(left * 1000) + 1;
        }
        if (ju_wait_signal(wait_ms))
            break;
        rc = ju_runner_error(run);
        if (rc < 0) {
            ju_jet_error("workload", "transfer", rc);
            return rc;
        }
        now = ju_now();
        c = ju_runner_committed(run);
        printf("committed %llu\n", (unsigned long long)(base + c));
        if (now - tlast >= 0.999) {
            printf("tx/s %.0f\n", (double)(c - last) / (now - tlast));
            last = c;
            tlast = now;
        }
    }
    return 0;
}

/*
 * Stops the workers of `run` and prints the `stopped:` summary of the run
 * that began at t0.  Returns 0, or a worker's JET_ERR after printing it
 * (then no summary).  Called by the thread that started `run`.
 */
static JET_ERR workload_finish(ju_runner *run, double t0)
{
    uint64_t c;
    double el;
    JET_ERR rc;

    ju_runner_stop_workers(run);
    c = ju_runner_committed(run);
    el = ju_now() - t0;
    rc = ju_runner_error(run);
    if (rc < 0) {
        ju_jet_error("workload", "transfer", rc);
        return rc;
    }
    printf("stopped: %llu transfers in %.1f s, %.0f tx/s\n", (unsigned long long)c, el,
           el > 0 ? (double)c / el : 0.0);
    return 0;
}

/* Exit 0 after a clean stop; 1 on an engine error; 2 on usage errors. */
int cmd_workload(int argc, char **argv)
{
    struct workload_opts o;
    int status = JU_EXIT_FAIL;
    ju_settings s;
    ju_inst ji;
    ju_runner *run = NULL;
    JET_ERR rc;
    double t0;
    uint64_t base = 0;

    if (!parse_workload_args(argc, argv, &o, &status))
        return status;
    if (ju_settings_read("workload", o.dir, &s) < 0)
        return JU_EXIT_FAIL;
    if (ju_block_signals() < 0)
        return JU_EXIT_FAIL;
    rc = ju_inst_open(&ji, o.dir, &s);
    if (rc < 0) {
        ju_jet_error("workload", o.dir, rc);
        return JU_EXIT_FAIL;
    }
    rc = ju_bank_base("workload", &ji, &base);
    if (rc < 0)
        goto out;
    rc = ju_runner_start(&ji, (unsigned)o.threads, &run);
    if (rc < 0) {
        ju_jet_error("workload", ji.dbpath, rc);
        goto out;
    }
    printf("started %lu threads\n", o.threads);
    t0 = ju_now();
    rc = workload_loop(run, o.seconds, base, t0);
    if (rc < 0)
        goto out;
    rc = workload_finish(run, t0);
    if (rc < 0)
        goto out;
    status = 0;
out:
    ju_runner_stop(run);
    rc = ju_inst_close(&ji);
    if (rc < 0) {
        ju_jet_error("workload", "JetTerm", rc);
        status = JU_EXIT_FAIL;
    }
    return status;
}
