/*
 * bench.c -- hidden `jetutil bench-read (DIR | --endpoint SOCKET)` for
 * tests/bench_engine.sh: reads the first attached database once through
 * the engine's backup page reader (a full backup stream, in-process or over
 * the endpoint, ended with Abort so nothing is recorded) and once with
 * plain pread of the same file, and prints both throughputs:
 *   stream-read MiB/s X (N bytes, T s)
 *   raw-pread MiB/s Y (N bytes, T s)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"

#define USAGE "jetutil bench-read (DIR | --endpoint SOCKET)"
#define BUFSZ (1UL << 20)

/* Stream the first attached database; *ppath gets its path (malloc). */
static JET_ERR stream_db(bk_src *s, void *buf, char **ppath, unsigned long long *pbytes,
                         double *psec)
{
    JET_ERR rc;
    unsigned long got;
    uint64_t size = 0;
    char *szz = NULL;
    JET_HANDLE h;
    bool began = false, open_h = false;
    double t0;

    JCALL(s->src.ops->begin(s->src.ctx, 0));
    began = true;
    JCALL(bkc_get_list(&s->src, BKC_LIST_ATTACH, &szz, NULL));
    if (!szz[0]) {
        rc = JET_errDatabaseNotFound;
        goto out;
    }
    t0 = ju_now();
    JCALL(s->src.ops->open(s->src.ctx, szz, &h, &size));
    open_h = true;
    *pbytes = 0;
    for (;;) {
        rc = s->src.ops->read(s->src.ctx, h, buf, BUFSZ, &got);
        if (rc < 0) {
            open_h = false;
            goto out;
        }
        if (got == 0)
            break;
        *pbytes += got;
    }
    open_h = false;
    JCALL(s->src.ops->close(s->src.ctx, h));
    *psec = ju_now() - t0;
    *ppath = strdup(szz);
    rc = *ppath ? 0 : JET_errOutOfMemory;
out:
    if (open_h)
        s->src.ops->close(s->src.ctx, h);
    if (began)
        s->src.ops->end(s->src.ctx, JET_bitBackupEndAbort);
    free(szz);
    return rc;
}

/* Exit 0 with the two figures; 1 on errors; 2 usage. */
int cmd_bench_read(int argc, char **argv)
{
    const char *pos[1], *o_ep = NULL;
    ju_opt opts[] = { { "--endpoint", true, &o_ep, NULL }, { NULL, false, NULL, NULL } };
    int npos, r, fd = -1, status = JU_EXIT_FAIL;
    bk_src s;
    void *buf = NULL;
    char *path = NULL;
    unsigned long long bytes = 0, raw = 0;
    double sec = 0, t0;
    mode_t kind;
    JET_ERR rc;

    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r)
        return r > 0 ? 0 : JU_EXIT_USAGE;
    if (npos != (o_ep ? 0 : 1)) {
        fprintf(stderr, "usage: %s\n", USAGE);
        return JU_EXIT_USAGE;
    }
    buf = aligned_alloc(65536, BUFSZ);
    if (!buf)
        return JU_EXIT_FAIL;
    rc = bk_src_open("bench-read", &s, o_ep, o_ep ? NULL : pos[0]);
    if (rc < 0)
        goto out;
    rc = stream_db(&s, buf, &path, &bytes, &sec);
    bk_src_close(&s);
    if (rc < 0) {
        ju_jet_error("bench-read", "database stream", rc);
        goto out;
    }
    printf("stream-read MiB/s %.1f (%llu bytes, %.3f s)\n", sec > 0 ? bytes / 1048576.0 / sec : 0,
           bytes, sec);
    fd = ju_open_regular(path, O_RDONLY, 0, &kind);
    if (fd < 0) {
        ju_open_error("bench-read", path, kind, NULL);
        goto out;
    }
    t0 = ju_now();
    for (off_t off = 0;;) {
        ssize_t n = pread(fd, buf, BUFSZ, off);
        if (n < 0) {
            ju_error("bench-read", "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        off += n;
        raw += (unsigned long long)n;
    }
    sec = ju_now() - t0;
    printf("raw-pread MiB/s %.1f (%llu bytes, %.3f s)\n", sec > 0 ? raw / 1048576.0 / sec : 0, raw,
           sec);
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    free(path);
    free(buf);
    return status;
}
