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

/* The parsed command line of `jetutil serve`. */
struct serve_opts {
    const char *dir;
    const char *endpoint;
    unsigned long threads;
    bool circular; /* --circular: JET_paramCircularLog on */
};

/*
 * Parses argv into *o (default: 4 threads).  Returns true when the command
 * is to run; false when it is to exit with *status (0 after --help,
 * JU_EXIT_USAGE after a message on stderr).  No locking.
 */
static bool parse_serve_args(int argc, char **argv, struct serve_opts *o, int *status)
{
    const char *pos[1], *o_thr = NULL, *o_ep = NULL;
    ju_opt opts[] = {
        { "--threads", true, &o_thr, NULL },
        { "--endpoint", true, &o_ep, NULL },
        { "--circular", false, NULL, &o->circular },
        { NULL, false, NULL, NULL },
    };
    int npos, r;

    o->threads = 4;
    o->circular = false;
    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos != 1 || !o_ep) {
        fprintf(stderr, "jetutil serve: DIR and --endpoint SOCKET are required (usage: %s)\n",
                USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_thr && ju_parse_ulong("serve", "--threads", o_thr, 0, 256, &o->threads) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    o->dir = pos[0];
    o->endpoint = o_ep;
    return true;
}

/*
 * Starts the backup endpoint of ji on `socket` with ctx's counter into
 * *srv.  Returns 0, or JepServerStart's JET_ERR after printing it.  ctx
 * must outlive the server.
 */
static JET_ERR serve_start_endpoint(ju_inst *ji, const char *socket, serve_ctx *ctx,
                                    jep_server **srv)
{
    jep_server_config cfg;
    JET_ERR rc;

    memset(&cfg, 0, sizeof cfg);
    cfg.socket_path = socket;
    cfg.group = (gid_t)-1;
    cfg.counter = counter_cb;
    cfg.counter_arg = ctx;
    cfg.log = log_cb;
    rc = JepServerStart(ji->inst, &cfg, srv);
    if (rc < 0)
        ju_jet_error("serve", socket, rc);
    return rc;
}

/*
 * Prints `committed N` four times a second and `tx/s N` about every second
 * until a signal arrives.  Returns 0, or a worker's JET_ERR after printing
 * it.  Called by the thread that started ctx->run.
 */
static JET_ERR serve_loop(serve_ctx *ctx)
{
    double tlast = ju_now();
    uint64_t last = 0;
    JET_ERR rc;

    for (;;) {
        double now;
        uint64_t c;
        if (ju_wait_signal(250))
            break;
        rc = ju_runner_error(ctx->run);
        if (rc < 0) {
            ju_jet_error("serve", "transfer", rc);
            return rc;
        }
        now = ju_now();
        c = ju_runner_committed(ctx->run);
        printf("committed %llu\n", (unsigned long long)(ctx->base + c));
        if (now - tlast >= 0.99) {
            printf("tx/s %.0f\n", (double)(c - last) / (now - tlast));
            last = c;
            tlast = now;
        }
    }
    return 0;
}

/* Exit 0 after a clean stop; 1 on engine/endpoint errors; 2 usage. */
int cmd_serve(int argc, char **argv)
{
    struct serve_opts o;
    int status = JU_EXIT_FAIL;
    ju_settings s;
    ju_inst ji;
    serve_ctx ctx = { 0, NULL };
    jep_server *srv = NULL;
    JET_ERR rc;

    if (!parse_serve_args(argc, argv, &o, &status))
        return status;
    if (ju_settings_read("serve", o.dir, &s) < 0)
        return JU_EXIT_FAIL;
    s.circular = o.circular;
    if (ju_block_signals() < 0)
        return JU_EXIT_FAIL;
    rc = ju_inst_open(&ji, o.dir, &s);
    if (rc < 0) {
        ju_jet_error("serve", o.dir, rc);
        return JU_EXIT_FAIL;
    }
    rc = ju_bank_base("serve", &ji, &ctx.base);
    if (rc < 0)
        goto out;
    rc = ju_runner_start(&ji, (unsigned)o.threads, &ctx.run);
    if (rc < 0) {
        ju_jet_error("serve", ji.dbpath, rc);
        goto out;
    }
    rc = serve_start_endpoint(&ji, o.endpoint, &ctx, &srv);
    if (rc < 0)
        goto out;
    printf("serving %s\n", o.endpoint);
    printf("committed %llu\n", (unsigned long long)ctx.base);
    rc = serve_loop(&ctx);
    if (rc < 0)
        goto out;
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
