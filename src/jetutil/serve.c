/*
 * serve.c -- `jetutil serve DIR --endpoint SOCKET [--threads T]`: host the
 * instance, run the bank workload on T threads, serve the backup API on
 * SOCKET (JepServerStart) with the committed-transfer counter, print
 * `serving SOCKET` once and then `committed N` and `tx/s M` every second;
 * SIGTERM/SIGINT stop the workers, the endpoint (aborting a backup in
 * progress) and the instance cleanly.
 *
 * `committed N` = the database's transfer counter at start + transfers
 * whose JetCommitTransaction has returned since, i.e. durably committed.
 */
#include "config.h"

#include <string.h>

#include "endpoint.h"
#include "jetutil.h"

#define USAGE JU_USAGE_SERVE
typedef struct serve_ctx {
    uint64_t base; /* transfers in the database at start */
    ju_runner *run;
} serve_ctx;

/* Endpoint counter callback: called from the server thread. */
static unsigned long long counter_cb(void *arg)
{
    serve_ctx *c = arg;
    return c->base + ju_runner_committed(c->run);
}

/* Endpoint log callback: one line to stderr. */
static void log_cb(void *arg, const char *msg)
{
    (void)arg;
    fprintf(stderr, "jetutil serve: endpoint: %s\n", msg);
}

/* Exit 0 after a clean stop; 1 on engine/endpoint errors; 2 usage. */
int cmd_serve(int argc, char **argv)
{
    const char *pos[1], *o_thr = NULL, *o_ep = NULL;
    ju_opt opts[] = {
        { "--threads", true, &o_thr, NULL },
        { "--endpoint", true, &o_ep, NULL },
        { NULL, false, NULL, NULL },
    };
    unsigned long threads = 4;
    int npos, r, status = JU_EXIT_FAIL;
    ju_settings s;
    ju_inst ji;
    serve_ctx ctx = { 0, NULL };
    jep_server *srv = NULL;
    jep_server_config cfg;
    JET_ERR rc;
    double tlast;
    uint64_t last = 0;

    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r)
        return r > 0 ? 0 : JU_EXIT_USAGE;
    if (npos != 1 || !o_ep) {
        fprintf(stderr, "jetutil serve: DIR and --endpoint SOCKET are required (usage: %s)\n",
                USAGE);
        return JU_EXIT_USAGE;
    }
    if (o_thr && ju_parse_ulong("serve", "--threads", o_thr, 0, 256, &threads) < 0)
        return JU_EXIT_USAGE;
    if (ju_settings_read("serve", pos[0], &s) < 0)
        return JU_EXIT_FAIL;
    if (ju_block_signals() < 0)
        return JU_EXIT_FAIL;
    rc = ju_inst_open(&ji, pos[0], &s);
    if (rc < 0) {
        ju_jet_error("serve", pos[0], rc);
        return JU_EXIT_FAIL;
    }
    {
        ju_bank b;
        rc = ju_bank_open(&ji, &b);
        if (rc >= 0) {
            rc = ju_bank_transfers(&b, &ctx.base);
            ju_bank_close(&b);
        }
        if (rc < 0) {
            ju_jet_error("serve", ji.dbpath, rc);
            goto out;
        }
    }
    rc = ju_runner_start(&ji, (unsigned)threads, &ctx.run);
    if (rc < 0) {
        ju_jet_error("serve", ji.dbpath, rc);
        goto out;
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.socket_path = o_ep;
    cfg.group = (gid_t)-1;
    cfg.counter = counter_cb;
    cfg.counter_arg = &ctx;
    cfg.log = log_cb;
    rc = JepServerStart(ji.inst, &cfg, &srv);
    if (rc < 0) {
        ju_jet_error("serve", o_ep, rc);
        goto out;
    }
    printf("serving %s\n", o_ep);
    printf("committed %llu\n", (unsigned long long)ctx.base);
    tlast = ju_now();
    for (;;) {
        double now;
        uint64_t c;
        if (ju_wait_signal(250))
            break;
        rc = ju_runner_error(ctx.run);
        if (rc < 0) {
            ju_jet_error("serve", "transfer", rc);
            goto out;
        }
        now = ju_now();
        c = ju_runner_committed(ctx.run);
        printf("committed %llu\n", (unsigned long long)(ctx.base + c));
        if (now - tlast >= 0.99) {
            printf("tx/s %.0f\n", (double)(c - last) / (now - tlast));
            last = c;
            tlast = now;
        }
    }
    JepServerStop(srv);
    srv = NULL;
    ju_runner_stop_workers(ctx.run);
    printf("committed %llu\n", (unsigned long long)(ctx.base + ju_runner_committed(ctx.run)));
    printf("stopped\n");
    status = 0;
out:
    JepServerStop(srv);
    ju_runner_stop(ctx.run);
    rc = ju_inst_close(&ji);
    if (rc < 0) {
        ju_jet_error("serve", "JetTerm", rc);
        status = JU_EXIT_FAIL;
    }
    return status;
}
