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
/* Exit 0 after a clean stop; 1 on an engine error; 2 on usage errors. */
int cmd_workload(int argc, char **argv)
{
    const char *pos[1], *o_thr = NULL, *o_sec = NULL;
    ju_opt opts[] = {
        { "--threads", true, &o_thr, NULL },
        { "--seconds", true, &o_sec, NULL },
        { NULL, false, NULL, NULL },
    };
    unsigned long threads = 1, seconds = 0;
    int npos, r, status = JU_EXIT_FAIL;
    ju_settings s;
    ju_inst ji;
    ju_runner *run = NULL;
    JET_ERR rc;
    double t0, tlast;
    uint64_t last = 0, base = 0;

    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r)
        return r > 0 ? 0 : JU_EXIT_USAGE;
    if (npos != 1) {
        fprintf(stderr, "jetutil workload: DIR is required (usage: %s)\n", USAGE);
        return JU_EXIT_USAGE;
    }
    if (o_thr && ju_parse_ulong("workload", "--threads", o_thr, 1, 256, &threads) < 0)
        return JU_EXIT_USAGE;
    if (o_sec && ju_parse_ulong("workload", "--seconds", o_sec, 0, 1UL << 31, &seconds) < 0)
        return JU_EXIT_USAGE;
    if (ju_settings_read("workload", pos[0], &s) < 0)
        return JU_EXIT_FAIL;
    if (ju_block_signals() < 0)
        return JU_EXIT_FAIL;
    rc = ju_inst_open(&ji, pos[0], &s);
    if (rc < 0) {
        ju_jet_error("workload", pos[0], rc);
        return JU_EXIT_FAIL;
    }
    {
        ju_bank b;
        rc = ju_bank_open(&ji, &b);
        if (rc >= 0) {
            rc = ju_bank_transfers(&b, &base);
            ju_bank_close(&b);
        }
        if (rc < 0) {
            ju_jet_error("workload", ji.dbpath, rc);
            goto out;
        }
    }
    rc = ju_runner_start(&ji, (unsigned)threads, &run);
    if (rc < 0) {
        ju_jet_error("workload", ji.dbpath, rc);
        goto out;
    }
    printf("started %lu threads\n", threads);
    t0 = tlast = ju_now();
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
            goto out;
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
    {
        uint64_t c;
        double el;
        ju_runner_stop_workers(run);
        c = ju_runner_committed(run);
        el = ju_now() - t0;
        rc = ju_runner_error(run);
        if (rc < 0) {
            ju_jet_error("workload", "transfer", rc);
            goto out;
        }
        printf("stopped: %llu transfers in %.1f s, %.0f tx/s\n", (unsigned long long)c, el,
               el > 0 ? (double)c / el : 0.0);
    }
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
