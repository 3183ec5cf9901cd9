/*
 * dump.c -- `jetutil dump FILE` (like esentutl /mh /ml /mk): prints a
 * database header, a log file (header, segment checks, record summary) or
 * a checkpoint file, detected from the file type byte (@667) or, for a
 * file too damaged to tell, from its extension.  Also the offline header
 * checks used by `verify`.  Files are opened read-only; nothing is written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jetfmt.h" /* decoders and the log reader (read-only) */
#include "jetutil.h"

#define USAGE JU_USAGE_DUMP
/* pread exactly cb bytes at off; 1 = ok, 0 = short (EOF), -1 = I/O error. */
static int read_at(int fd, void *buf, size_t cb, off_t off)
{
    size_t done = 0;
    while (done < cb) {
        ssize_t n = pread(fd, (char *)buf + done, cb - done, off + (off_t)done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (n == 0)
            return 0;
        done += (size_t)n;
    }
    return 1;
}

/* Open read-only without blocking on a FIFO or device (ju_open_regular):
 * JET_errFileNotFound / JET_errFileAccessDenied / JET_errFileInvalidType
 * (not a regular file: *pkind = its st_mode) / JET_errDiskIO. */
static JET_ERR open_ro_kind(const char *path, int *pfd, off_t *psize, mode_t *pkind)
{
    struct stat st;
    int fd = ju_open_regular(path, O_RDONLY, 0, pkind);

    if (fd < 0) {
        if (*pkind)
            return JET_errFileInvalidType;
        if (errno == ENOENT || errno == ENOTDIR)
            return JET_errFileNotFound;
        if (errno == EACCES || errno == EPERM)
            return JET_errFileAccessDenied;
        return JET_errDiskIO;
    }
    if (fstat(fd, &st) < 0) {
        close(fd);
        return JET_errDiskIO;
    }
    *pfd = fd;
    *psize = st.st_size;
    return 0;
}

/* open_ro_kind without the kind. */
static JET_ERR open_ro(const char *path, int *pfd, off_t *psize)
{
    mode_t kind;
    return open_ro_kind(path, pfd, psize, &kind);
}

/* Decode header copy 0, else copy 1 (at offset cb_page); *which = copy. */
static JET_ERR db_header_fd(int fd, off_t size, jf_dbhdr *h, int *which, int *bad0)
{
    static const uint32_t sizes[] = { 4096, 8192, 16384, 32768, 2048 };
    uint8_t *buf = malloc(JF_MAX_PAGE);
    JET_ERR rc = JET_errDatabaseCorrupted;
    int r;

    if (!buf)
        return JET_errOutOfMemory;
    *bad0 = 1;
    r = read_at(fd, buf, size < JF_MAX_PAGE ? (size_t)size : JF_MAX_PAGE, 0);
    if (r < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    {
        uint32_t cbp =
            jf_dbhdr_peek_page_size(buf, size < JF_MAX_PAGE ? (size_t)size : JF_MAX_PAGE);
        if (cbp && (off_t)cbp <= size && jf_dbhdr_decode(buf, cbp, h) == 0) {
            *which = 0;
            *bad0 = 0;
            rc = 0;
            goto out;
        }
    }
    /* copy 0 is damaged: try the shadow at each page size */
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t cbp = sizes[i];
        if ((off_t)cbp * 2 > size)
            continue;
        r = read_at(fd, buf, cbp, cbp);
        if (r < 0) {
            rc = JET_errDiskIO;
            goto out;
        }
        if (r == 1 && jf_dbhdr_decode(buf, cbp, h) == 0 && h->cb_page == cbp) {
            *which = 1;
            rc = 0;
            goto out;
        }
    }
out:
    free(buf);
    return rc;
}

/* Read and verify a database file: the header (either copy) into *h, opening path
 * without blocking (regular files only).  0 or the Jet error (the
 * dump command's checks share this with verify). */
JET_ERR ju_check_db_header(const char *path, jf_dbhdr *h)
{
    int fd, which, bad0;
    off_t size;
    JET_ERR rc = open_ro(path, &fd, &size);

    if (rc < 0)
        return rc;
    rc = db_header_fd(fd, size, h, &which, &bad0);
    close(fd);
    return rc;
}

/* Read and verify a log file: its header into *h, opening path
 * without blocking (regular files only).  0 or the Jet error (the
 * dump command's checks share this with verify). */
JET_ERR ju_check_log_header(const char *path, jf_loghdr *h)
{
    int fd, r;
    off_t size;
    uint8_t *buf;
    JET_ERR rc = open_ro(path, &fd, &size);

    if (rc < 0)
        return rc;
    buf = malloc(JF_LOG_HDR);
    if (!buf) {
        close(fd);
        return JET_errOutOfMemory;
    }
    r = read_at(fd, buf, JF_LOG_HDR, 0);
    if (r < 0)
        rc = JET_errDiskIO;
    else if (r == 0)
        rc = JET_errLogFileCorrupt;
    else
        rc = jf_loghdr_decode(buf, JF_LOG_HDR, h);
    if (rc == 0 && (off_t)h->csec_file * JF_SEGMENT != size)
        rc = JET_errLogFileCorrupt;
    free(buf);
    close(fd);
    return rc < 0 ? rc : 0;
}

/* Either checkpoint copy; *which gets the copy used. */
static JET_ERR chk_fd(int fd, jf_chk *c, int *which)
{
    uint8_t *buf = malloc(JF_CHK_BLOCK);
    JET_ERR rc = JET_errCheckpointCorrupt;

    if (!buf)
        return JET_errOutOfMemory;
    for (int i = 0; i < 2; i++) {
        int r = read_at(fd, buf, JF_CHK_BLOCK, (off_t)i * JF_CHK_BLOCK);
        if (r < 0) {
            rc = JET_errDiskIO;
            break;
        }
        if (r == 1 && jf_chk_decode(buf, JF_CHK_BLOCK, c) == 0) {
            *which = i;
            rc = 0;
            break;
        }
    }
    free(buf);
    return rc;
}

/* Read and verify a checkpoint file: the checkpoint (either copy) into *c, opening path
 * without blocking (regular files only).  0 or the Jet error (the
 * dump command's checks share this with verify). */
JET_ERR ju_check_checkpoint(const char *path, jf_chk *c)
{
    int fd, which;
    off_t size;
    JET_ERR rc = open_ro(path, &fd, &size);

    if (rc == JET_errFileNotFound)
        return JET_errCheckpointFileNotFound;
    if (rc < 0)
        return rc;
    rc = chk_fd(fd, c, &which);
    close(fd);
    return rc;
}

/* ---- printing ---- */
static void p_time(const char *label, const jf_logtime *t)
{
    if (!t->year && !t->mon && !t->day && !t->hour && !t->min && !t->sec) {
        printf("  %-26s (none)\n", label);
        return;
    }
    printf("  %-26s %04d-%02d-%02d %02d:%02d:%02d\n", label, 1900 + t->year, t->mon, t->day,
           t->hour, t->min, t->sec);
}
static void p_lgpos(const char *label, jf_lgpos p)
{
    printf("  %-26s (gen 0x%X, isec %u, ib %u)\n", label, (unsigned)p.gen, p.isec, p.ib);
}
static void p_sig(const char *label, const jf_sig *s)
{
    char comp[17];
    memcpy(comp, s->computer, 16);
    comp[16] = '\0';
    printf("  %-26s random 0x%08X, created %04d-%02d-%02d %02d:%02d:%02d, computer '%s'\n", label,
           s->random, 1900 + s->create.year, s->create.mon, s->create.day, s->create.hour,
           s->create.min, s->create.sec, comp);
}
static void p_bk(const char *label, const jf_bkinfo *b, int type)
{
    if (!b->gen_low && !b->gen_high && !b->mark.gen) {
        printf("  %-26s (none)\n", label);
        return;
    }
    printf("  %-26s genLow 0x%X genHigh 0x%X mark (gen 0x%X, isec %u, ib %u)", label, b->gen_low,
           b->gen_high, (unsigned)b->mark.gen, b->mark.isec, b->mark.ib);
    if (type >= 0)
        printf(" type %d", type);
    printf("\n");
}

static const char *dbstate_name(uint32_t s)
{
    switch (s) {
    case JF_DBSTATE_JUST_CREATED:
        return "Just Created";
    case JF_DBSTATE_DIRTY:
        return "Dirty Shutdown";
    case JF_DBSTATE_CLEAN:
        return "Clean Shutdown";
    default:
        return "unknown";
    }
}

/* esentutl /mh */
static JET_ERR dump_db(const char *path, int fd, off_t size)
{
    jf_dbhdr h;
    int which, bad0;
    JET_ERR rc = db_header_fd(fd, size, &h, &which, &bad0);

    if (rc < 0)
        return rc;
    printf("File: %s\nType: database\n", path);
    printf("  %-26s %s\n",
           "header checksum:", bad0 ? "copy 0 BAD, shadow copy 1 ok" : "ok (copy 0)");
    printf("  %-26s 0x%08X\n  %-26s 0x%X\n", "magic:", h.magic, "version:", h.version);
    printf("  %-26s %u\n  %-26s %u\n", "page size:", h.cb_page, "record size:", h.cb_record);
    printf("  %-26s %u\n", "last page (at header write):", h.pgno_last);
    printf("  %-26s %llu bytes (%llu pages)\n", "file size:", (unsigned long long)size,
           h.cb_page ? (unsigned long long)size / h.cb_page : 0ULL);
    printf("  %-26s %s (%u)\n", "state:", dbstate_name(h.dbstate), h.dbstate);
    printf("  %-26s %u\n  %-26s %llu\n", "dbid:", h.dbid,
           "dbtime dirtied:", (unsigned long long)h.dbtime_dirtied);
    p_sig("db signature:", &h.sign_db);
    p_sig("log signature:", &h.sign_log);
    p_lgpos("consistent position:", h.lgpos_consistent);
    p_time("consistent time:", &h.time_consistent);
    p_lgpos("attach position:", h.lgpos_attach);
    p_time("attach time:", &h.time_attach);
    p_lgpos("detach position:", h.lgpos_detach);
    p_time("detach time:", &h.time_detach);
    printf("  %-26s 0x%X-0x%X\n", "log required:", (unsigned)h.gen_min_req,
           (unsigned)h.gen_max_req);
    printf("  %-26s 0x%X\n  %-26s 0x%X\n", "log committed:", (unsigned)h.gen_max_committed,
           "log consistent:", (unsigned)h.gen_min_consistent);
    p_bk("full backup:", &h.full_prev, (int)h.type_full_prev);
    p_bk("incremental backup:", &h.inc_prev, (int)h.type_inc_prev);
    p_bk("copy backup:", &h.copy_prev, (int)h.type_copy_prev);
    p_bk("differential backup:", &h.diff_prev, (int)h.type_diff_prev);
    p_bk("current full backup:", &h.full_cur, -1);
    p_bk("current snapshot backup:", &h.snapshot_cur, -1);
    return 0;
}

static const char *lr_name(unsigned t)
{
    static const char *n[] = { "?", "commit", "createdb", "attach", "detach", "backup", "term" };
    return t < sizeof n / sizeof n[0] ? n[t] : "unknown";
}

/* Prints the header lines of log `path` (h, `size` bytes).  No errors. */
static void dump_log_header(const char *path, const jf_loghdr *h, off_t size)
{
    printf("File: %s\nType: log\n", path);
    printf("  %-26s 0x%X\n", "generation:", (unsigned)h->gen);
    printf("  %-26s %u x %u bytes (%llu KiB)\n", "segments:", h->csec_file, h->cb_sec,
           (unsigned long long)size / 1024);
    printf("  %-26s %u\n", "db page size:", h->cb_page_db ? h->cb_page_db : 32768);
    p_time("created:", &h->time_create);
    p_time("previous gen created:", &h->time_prev_gen);
    p_sig("log signature:", &h->sign_log);
    p_lgpos("checkpoint at creation:", h->lgpos_checkpoint);
    for (uint32_t i = 0; i < h->attach.count && i < JF_MAX_DBS; i++)
        printf("  %-26s dbid %u %s\n", i ? "" : "attached:", h->attach.db[i].dbid,
               h->attach.db[i].path);
}

/*
 * Reads and verifies segments 1.. of the log open on fd (header h) through
 * the JF_SEGMENT buffer seg, copying their payloads (zeros for a blank one)
 * into stream and counting the blank ones in *blank.  Returns >= 0, or
 * JET_errDiskIO / JET_errLogFileCorrupt (a checksum failure says which
 * segment in detail).
 */
static JET_ERR dump_log_segments(int fd, const jf_loghdr *h, uint8_t *seg, uint8_t *stream,
                                 char *detail, size_t cbd, unsigned long *blank)
{
    size_t nstream = 0;
    JET_ERR rc = 0;
    int r;

    for (uint16_t i = 1; i < h->csec_file; i++) {
        bool isblank = false;
        r = read_at(fd, seg, JF_SEGMENT, (off_t)i * JF_SEGMENT);
        if (r <= 0)
            return r < 0 ? JET_errDiskIO : JET_errLogFileCorrupt;
        rc = jf_seg_verify(seg, i, &isblank);
        if (rc < 0) {
            snprintf(detail, cbd, "segment %u fails its checksum", i);
            return JET_errLogFileCorrupt;
        }
        if (isblank) {
            (*blank)++;
            memset(stream + nstream, 0, JF_SEG_PAYLOAD);
        } else {
            memcpy(stream + nstream, seg + JF_SEG_HDR, JF_SEG_PAYLOAD);
        }
        nstream += JF_SEG_PAYLOAD;
    }
    return rc;
}

/*
 * Reads the records of log `path` as recovery reads them (log.c: a zero
 * header closes a segment, headers never straddle segments) and prints
 * their count and the count of each type.  Returns 0, or jlr_open's
 * JET_ERR, or JET_errLogFileCorrupt with the stream offset in detail.
 */
static JET_ERR dump_log_records(const char *path, char *detail, size_t cbd)
{
    unsigned long counts[8] = { 0 }, nrec = 0;
    size_t pos = 0;
    jet_logreader *lr = NULL;
    jf_loghdr lh;
    const uint8_t *body;
    uint32_t cb;
    uint8_t t;
    JET_ERR rc;
    int r;

    rc = jlr_open(path, &lr, &lh);
    while (rc == 0 && (r = jlr_next(lr, &t, &body, &cb, NULL)) == 1) {
        counts[t < 7 ? t : 7]++;
        nrec++;
        pos += cb + JF_LR_HDR;
    }
    jlr_close(lr);
    if (rc == 0 && r < 0) {
        snprintf(detail, cbd, "bad record after stream byte %zu", pos);
        rc = JET_errLogFileCorrupt;
    }
    if (rc < 0)
        return rc;
    printf("  %-26s %lu (%zu bytes)\n", "records:", nrec, pos);
    for (unsigned u = 1; u < 8; u++)
        if (counts[u])
            printf("    %-24s %lu\n", lr_name(u), counts[u]);
    return 0;
}

/* esentutl /ml: header, every segment verified, record summary. */
static JET_ERR dump_log(const char *path, int fd, off_t size, char *detail, size_t cbd)
{
    jf_loghdr *h = malloc(sizeof *h);
    uint8_t *seg = malloc(JF_SEGMENT), *stream = NULL;
    unsigned long blank = 0;
    JET_ERR rc;
    int r;

    if (!h || !seg) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    r = read_at(fd, seg, JF_LOG_HDR, 0);
    if (r <= 0) {
        rc = r < 0 ? JET_errDiskIO : JET_errLogFileCorrupt;
        goto out;
    }
    JCALL(jf_loghdr_decode(seg, JF_LOG_HDR, h));
    if ((off_t)h->csec_file * JF_SEGMENT != size) {
        snprintf(detail, cbd, "size %lld but the header says %u segments of %d bytes",
                 (long long)size, h->csec_file, JF_SEGMENT);
        rc = JET_errLogFileCorrupt;
        goto out;
    }
    dump_log_header(path, h, size);
    stream = malloc((size_t)h->csec_file * JF_SEG_PAYLOAD + 1);
    if (!stream) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    JCALL(dump_log_segments(fd, h, seg, stream, detail, cbd, &blank));
    printf("  %-26s all %u verified (%lu blank)\n", "segment checksums:", h->csec_file - 1u, blank);
    JCALL(dump_log_records(path, detail, cbd));
    rc = 0;
out:
    free(stream);
    free(seg);
    free(h);
    return rc;
}

/* esentutl /mk */
static JET_ERR dump_chk(const char *path, int fd, off_t size)
{
    jf_chk *c = malloc(sizeof *c);
    int which;
    JET_ERR rc;

    if (!c)
        return JET_errOutOfMemory;
    rc = chk_fd(fd, c, &which);
    if (rc < 0)
        goto out;
    printf("File: %s\nType: checkpoint\n", path);
    printf("  %-26s %s\n", "checksum:", which ? "copy 0 BAD, copy 1 ok" : "ok (copy 0)");
    printf("  %-26s %lld bytes\n", "file size:", (long long)size);
    p_lgpos("checkpoint:", c->lgpos_checkpoint);
    p_lgpos("last full backup:", c->lgpos_last_full_backup);
    p_lgpos("db consistency:", c->lgpos_db_consistency);
    p_sig("log signature:", &c->sign_log);
    for (uint32_t i = 0; i < c->attach.count && i < JF_MAX_DBS; i++)
        printf("  %-26s dbid %u %s\n", i ? "" : "attached:", c->attach.db[i].dbid,
               c->attach.db[i].path);
out:
    free(c);
    return rc;
}

enum { K_UNKNOWN, K_DB, K_LOG, K_CHK };

/* Kind by extension: .edb/.dat → db, .log/.jtx → log, .chk/.jcp → chk. */
static int kind_by_ext(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return K_UNKNOWN;
    if (!strcasecmp(dot, ".edb") || !strcasecmp(dot, ".dat"))
        return K_DB;
    if (!strcasecmp(dot, ".log") || !strcasecmp(dot, ".jtx"))
        return K_LOG;
    if (!strcasecmp(dot, ".chk") || !strcasecmp(dot, ".jcp"))
        return K_CHK;
    return K_UNKNOWN;
}

/* Exit 0 when the file was dumped and verifies; 1 with one error line. */
int cmd_dump(int argc, char **argv)
{
    const char *pos[1];
    ju_opt opts[] = { { NULL, false, NULL, NULL } };
    int npos, r, fd = -1, kind = K_UNKNOWN;
    off_t size = 0;
    JET_ERR rc;
    uint8_t b[JF_LOG_HDR];
    char detail[160] = "", what[JU_PATH + 200];
    mode_t nonreg = 0;

    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r)
        return r > 0 ? 0 : JU_EXIT_USAGE;
    if (npos != 1) {
        fprintf(stderr, "jetutil dump: FILE is required (usage: %s)\n", USAGE);
        return JU_EXIT_USAGE;
    }
    rc = open_ro_kind(pos[0], &fd, &size, &nonreg);
    if (rc < 0) {
        if (nonreg)
            snprintf(detail, sizeof detail, "%s, not a regular file", ju_file_kind(nonreg));
        goto out;
    }
    r = read_at(fd, b, sizeof b, 0);
    if (r < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    if (r == 1) {
        uint8_t ft = b[667];
        if (ft == JF_FILETYPE_DB)
            kind = K_DB;
        else if (ft == JF_FILETYPE_LOG)
            kind = K_LOG;
        else if (ft == JF_FILETYPE_CHK)
            kind = K_CHK;
    }
    if (kind == K_UNKNOWN)
        kind = kind_by_ext(pos[0]); /* too damaged or short to tell */
    switch (kind) {
    case K_DB:
        rc = dump_db(pos[0], fd, size);
        break;
    case K_LOG:
        rc = dump_log(pos[0], fd, size, detail, sizeof detail);
        break;
    case K_CHK:
        rc = dump_chk(pos[0], fd, size);
        break;
    default:
        rc = JET_errFileInvalidType;
        break;
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        snprintf(what, sizeof what, "%s%s%s", pos[0], detail[0] ? ": " : "", detail);
        ju_jet_error("dump", what, rc);
        return JU_EXIT_FAIL;
    }
    return 0;
}
