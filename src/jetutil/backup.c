/*
 * backup.c -- `jetutil backup (--endpoint SOCKET | DIR) DEST [--incremental]
 * [--truncate] [--max-rate RATE] [--pause-before-logs FIFO]`: the reference streaming backup
 * client (spec section 2.2/2.3), over a backup endpoint or in-process.
 *
 * Full: DEST must be absent or empty; every attached database stream is
 * written to DEST/<db file name>, then the logs of JetGetLogInfoInstance2
 * to DEST/<base>XXXXX.log (the layout of JetBackupInstance, spec 6.3),
 * then, with --truncate, JetTruncateLogInstance; End(Normal); finally the
 * label DEST/jetutil-backup.label.  Incremental: DEST holds an earlier
 * backup (label); the logs are added (overwriting duplicates) and the label
 * updated.  On any error: End(Abort), files of this run removed (a full's
 * DEST emptied; an incremental leaves the label unchanged), one line naming
 * the Jet error, exit 1.
 *
 * --max-rate RATE (bytes/s, suffixes K M G; 0 = unlimited, else >= 64K)
 * paces the reads from the engine with the driver's throttle (throttle.h);
 * the summary line then adds the cap and how often a read waited.
 *
 * Test hook --pause-before-logs FIFO: after GetLogInfo (log roll, ranges
 * fixed) and before the first log is opened, write "paused\n" into FIFO
 * and wait for a signal; lets a test SIGKILL the client at a deterministic
 * point of the backup.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"
#include "conf.h"
#include "throttle.h"

#define USAGE JU_USAGE_BACKUP
#define BUFSZ (1UL << 20)

/* ---- the source ---- */

/* Open the source and fetch its info; prints one error line on failure. */
JET_ERR bk_src_open(const char *cmd, bk_src *s, const char *endpoint, const char *dir)
{
    char err[512];
    ju_settings st;
    JET_ERR rc;

    memset(s, 0, sizeof *s);
    if (endpoint) {
        rc = bkc_ep_open(endpoint, &s->src, err, sizeof err);
        if (rc < 0) {
            ju_jet_error(cmd, endpoint, rc);
            return rc;
        }
    } else {
        if (ju_settings_read(cmd, dir, &st) < 0)
            return JET_errInvalidPath;
        rc = ju_inst_open(&s->ji, dir, &st);
        if (rc < 0) {
            ju_jet_error(cmd, dir, rc);
            return rc;
        }
        s->have_inst = true;
        /* after JetInit nothing is attached: attach the bank for the backup */
        rc = ju_bank_open(&s->ji, &s->bank);
        if (rc >= 0)
            rc = bkc_jet_borrow(s->ji.inst, "jetutil", &s->src);
        if (rc < 0) {
            ju_jet_error(cmd, s->ji.dbpath, rc);
            bk_src_close(s);
            return rc;
        }
    }
    rc = s->src.ops->info(s->src.ctx, &s->info);
    if (rc < 0) {
        ju_jet_error(cmd, endpoint ? endpoint : dir, rc);
        bk_src_close(s);
    }
    return rc;
}

/* Release the table, then the hosted instance. */
void bk_src_close(bk_src *s)
{
    (void)bkc_close(&s->src);
    if (s->have_inst) {
        ju_bank_close(&s->bank);
        ju_inst_close(&s->ji);
    }
    s->have_inst = false;
}

/* ---- copying one backup file ---- */

/* Open name on the source, stream it into dst (created/truncated, fsync).
 * Reads until the reported size or a 0-byte read; stores exactly what the
 * reads return.  *what names the failing step for the error line. */
static JET_ERR copy_stream(bk_src *s, fs_throttle *thr, const char *name, const char *dst,
                           void *buf, unsigned long long *pbytes, const char **what)
{
    JET_ERR rc;
    JET_HANDLE h = 0;
    unsigned long cb = 0;
    uint64_t size = 0;
    unsigned long long done = 0;
    ju_flush fl = { 0, 0, false };
    bool open_h = false;
    int fd = -1;
    mode_t kind;

    *what = name;
    JCALL(s->src.ops->open(s->src.ctx, name, &h, &size));
    open_h = true;
    fd = ju_open_regular(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644, &kind);
    if (fd < 0) {
        *what = dst;
        rc = kind ? JET_errFileInvalidType : errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
        goto out;
    }
    while (done < size) {
        /* --max-rate (never waits without one): charge what this read asks */
        fs_throttle_pace(thr, size - done < BUFSZ ? size - done : BUFSZ);
        rc = s->src.ops->read(s->src.ctx, h, buf, BUFSZ, &cb);
        if (rc < 0) {
            open_h = false; /* a failed read closed (db) or aborted (log) */
            goto out;
        }
        if (cb == 0)
            break;
        for (unsigned long off = 0; off < cb;) {
            ssize_t w = write(fd, (char *)buf + off, cb - off);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                *what = dst;
                rc = errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
                goto out;
            }
            off += (unsigned long)w;
        }
        done += cb;
        if (ju_flush_behind(&fl, fd, done) < 0) {
            *what = dst;
            rc = errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
            goto out;
        }
    }
    if (done != size) {
        rc = JET_errFileIOBeyondEOF; /* stream ended early: never store a short file */
        goto out;
    }
    if (fsync(fd) < 0) {
        *what = dst;
        rc = JET_errDiskIO;
        goto out;
    }
    open_h = false;
    JCALL(s->src.ops->close(s->src.ctx, h));
    *pbytes += done;
    rc = 0;
out:
    if (open_h)
        s->src.ops->close(s->src.ctx, h);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* Base name of a path (pointer into it). */
static const char *base_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Test hook: announce on the FIFO, then wait to be killed. */
static void pause_hook(const char *fifo)
{
    int fd = open(fifo, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t n = write(fd, "paused\n", 7);
        (void)n;
        close(fd);
    }
    for (;;)
        pause();
}

typedef struct bk_run {
    const char *dest;
    bool incremental, truncate;
    const char *pause_fifo;
    bkf_label label;        /* incremental: read from DEST first */
    char created[64][256];  /* files this run created (full: all) */
    char what[JU_PATH * 2]; /* the failing step/file, for the message */
    unsigned ncreated;
    fs_throttle throttle; /* --max-rate pacing of the engine reads */
} bk_run;

/* On failure, copy the step/file *what names into r->what (it may point
 * into a local buffer or a list about to be freed). */
static void keep_what(bk_run *r, JET_ERR rc, const char **what)
{
    if (rc < 0 && *what != r->what) {
        snprintf(r->what, sizeof r->what, "%s", *what);
        *what = r->what;
    }
}

/* Full: stream every attached database into DEST (the list in *pdbs,
 * freed by the caller, which *what may point into). */
static JET_ERR copy_dbs(bk_src *s, bk_run *r, void *buf, unsigned long long *pbytes, char **pdbs,
                        const char **what)
{
    char dst[JU_PATH * 2];
    bkf_label *l = &r->label;
    JET_ERR rc;

    memset(l, 0, sizeof *l);
    *what = "JetGetAttachInfoInstance";
    JCALL(bkc_get_list(&s->src, BKC_LIST_ATTACH, pdbs, NULL));
    for (const char *p = bkc_szz_first(*pdbs); p; p = bkc_szz_next(p)) {
        if (l->ndb >= BKF_MAX_DBS || strlen(p) >= JU_PATH || strlen(base_of(p)) >= 256) {
            rc = JET_errTooManyAttachedDatabases;
            goto out;
        }
        snprintf(dst, sizeof dst, "%s/%s", r->dest, base_of(p));
        strcpy(r->created[r->ncreated++], base_of(p));
        JCALL(copy_stream(s, &r->throttle, p, dst, buf, pbytes, what));
        strcpy(l->db_orig[l->ndb], p);
        strcpy(l->db_file[l->ndb], base_of(p));
        l->ndb++;
    }
    rc = 0;
out:
    keep_what(r, rc, what);
    return rc;
}

/* Stream every log of the list into DEST (through a temp name), then
 * fsync DEST.  *pnlog counts them. */
static JET_ERR copy_logs(bk_src *s, bk_run *r, const char *logs, void *buf,
                         unsigned long long *pbytes, unsigned *pnlog, const char **what)
{
    char dst[JU_PATH * 2], tmp[JU_PATH * 2];
    bkf_label *l = &r->label;
    struct stat st;
    JET_ERR rc;

    for (const char *p = bkc_szz_first(logs); p; p = bkc_szz_next(p)) {
        snprintf(dst, sizeof dst, "%s/%s", r->dest, base_of(p));
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->dest, base_of(p));
        if (r->ncreated < 64 && strlen(base_of(p)) + 6 < 256) {
            int n = snprintf(r->created[r->ncreated], 256, ".%s.tmp", base_of(p));
            if (n > 0 && n < 256)
                r->ncreated++;
        }
        JCALL(copy_stream(s, &r->throttle, p, tmp, buf, pbytes, what));
        if (stat(tmp, &st) == 0 && !l->log_kib)
            l->log_kib = (unsigned long)(st.st_size / 1024);
        if (!r->incremental && r->ncreated < 64)
            strcpy(r->created[r->ncreated++], base_of(p));
        if (rename(tmp, dst) < 0) {
            *what = dst;
            rc = JET_errDiskIO;
            goto out;
        }
        (*pnlog)++;
    }
    rc = 0;
    if (ju_fsync_dir(r->dest) < 0) {
        *what = r->dest;
        rc = JET_errDiskIO;
    }
out:
    keep_what(r, rc, what);
    return rc;
}

/* --truncate: print what truncation deletes, then truncate. */
static JET_ERR truncate_logs(bk_src *s, char **ptrunc, unsigned *pntrunc, const char **what)
{
    JET_ERR rc;

    *what = "JetGetTruncateLogInfoInstance";
    JCALL(bkc_get_list(&s->src, BKC_LIST_TRUNCATE, ptrunc, NULL));
    for (const char *p = bkc_szz_first(*ptrunc); p; p = bkc_szz_next(p)) {
        printf("truncate %s\n", p);
        (*pntrunc)++;
    }
    *what = "JetTruncateLogInstance";
    JCALL(s->src.ops->truncate(s->src.ctx));
out:
    return rc;
}

/* Fill the label of a finished run. */
static void label_fill(const bk_src *s, bk_run *r, const JET_LOGINFO_A *li, bool have_committed,
                       unsigned long long committed)
{
    bkf_label *l = &r->label;

    if (!r->incremental) {
        l->gen_low = li->ulGenLow;
        l->backups = 1;
        strcpy(l->type, r->truncate ? "full" : "copy");
    } else {
        l->backups++;
        strcpy(l->type, r->truncate ? "incremental" : "differential");
    }
    l->gen_high = li->ulGenHigh;
    memcpy(l->base, li->szBaseName[0] ? li->szBaseName : s->info.base_name, sizeof l->base);
    l->base[JET_BASE_NAME_LENGTH] = '\0';
    l->page_size = s->info.cb_page;
    l->legacy = s->info.legacy;
    if (!l->log_kib)
        l->log_kib = s->info.log_kib;
    l->have_committed = have_committed;
    l->committed_at_roll = committed;
}

/* The backup sequence; rc < 0 with *what naming the step/file. */
static JET_ERR run_backup(bk_src *s, bk_run *r, const char **what)
{
    JET_ERR rc;
    char *dbs = NULL, *logs = NULL, *trunc = NULL;
    JET_LOGINFO_A li;
    void *buf = aligned_alloc(65536, BUFSZ);
    unsigned long long bytes = 0, committed = 0;
    bool have_committed = false, began = false;
    unsigned nlog = 0, ntrunc = 0;

    if (!buf)
        return JET_errOutOfMemory;
    *what = "JetBeginExternalBackupInstance";
    JCALL(s->src.ops->begin(s->src.ctx, r->incremental ? JET_bitBackupIncremental : 0));
    began = true;
    if (!r->incremental)
        JCALL(copy_dbs(s, r, buf, &bytes, &dbs, what));
    *what = "JetGetLogInfoInstance2";
    JCALL(bkc_get_list(&s->src, BKC_LIST_LOGS, &logs, &li));
    if (s->src.ops->committed_at_roll) {
        *what = "JepGetCommittedAtRoll";
        rc = s->src.ops->committed_at_roll(s->src.ctx, &committed);
        if (rc >= 0)
            have_committed = true;
        else if (rc != JET_errInvalidParameter)
            goto out; /* no counter registered: fine */
    }
    if (r->pause_fifo)
        pause_hook(r->pause_fifo);
    JCALL(copy_logs(s, r, logs, buf, &bytes, &nlog, what));
    if (r->truncate)
        JCALL(truncate_logs(s, &trunc, &ntrunc, what));
    *what = "JetEndExternalBackupInstance2";
    began = false;
    JCALL(s->src.ops->end(s->src.ctx, JET_bitBackupEndNormal));
    label_fill(s, r, &li, have_committed, committed);
    *what = r->dest;
    if (bkf_julabel_write(r->dest, &r->label, r->what, sizeof r->what) < 0) {
        ju_error("backup", "%s", r->what);
        rc = JET_errDiskIO;
        goto out;
    }
    printf("backup %s: %u database(s), %u log(s) 0x%lX-0x%lX, %llu bytes, %u truncated",
           r->label.type, r->label.ndb, nlog, li.ulGenLow, li.ulGenHigh, bytes, ntrunc);
    if (have_committed)
        printf(", committed_at_roll %llu", committed);
    if (r->throttle.rate)
        printf(", max_rate %llu bytes/s, %llu throttle waits, pulled at %llu bytes/s",
               (unsigned long long)r->throttle.rate, (unsigned long long)r->throttle.waits,
               (unsigned long long)fs_throttle_avg(&r->throttle));
    printf("\n");
    rc = 0;
out:
    keep_what(r, rc, what); /* *what may point into a list freed below */
    if (rc < 0 && began) {
        JET_ERR e = s->src.ops->end(s->src.ctx, JET_bitBackupEndAbort);
        (void)e; /* -520: already ended by the engine */
    }
    free(dbs);
    free(logs);
    free(trunc);
    free(buf);
    return rc;
}

/*
 * Parses argv into run (dest, incremental, truncate, pause_fifo), *endpoint
 * (NULL without --endpoint) and *dir (NULL with it).  Returns true when the
 * command is to run; false when it is to exit with *status (0 after --help,
 * JU_EXIT_USAGE after a message on stderr).
 */
static bool parse_backup_args(int argc, char **argv, bk_run *run, const char **endpoint,
                              const char **dir, int *status)
{
    const char *pos[2], *o_ep = NULL, *o_pause = NULL, *o_rate = NULL;
    uint64_t rate = 0;
    bool o_inc = false, o_trunc = false;
    ju_opt opts[] = {
        { "--endpoint", true, &o_ep, NULL },     { "--incremental", false, NULL, &o_inc },
        { "--truncate", false, NULL, &o_trunc }, { "--pause-before-logs", true, &o_pause, NULL },
        { "--max-rate", true, &o_rate, NULL },   { NULL, false, NULL, NULL },
    };
    int npos, r;

    r = ju_parse(argc, argv, opts, pos, 2, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos != (o_ep ? 1 : 2)) {
        fprintf(stderr, "jetutil backup: need %s (usage: %s)\n",
                o_ep ? "DEST (and no DIR with --endpoint)"
                     : "DIR and DEST, or --endpoint SOCKET DEST",
                USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_rate && (fs_conf_parse_size(o_rate, &rate) < 0 || (rate && rate < FS_MIN_RATE))) {
        fprintf(stderr,
                "jetutil backup: --max-rate: '%s' is not 0 or a rate of at least 64K bytes/s "
                "(e.g. 200M)\n",
                o_rate);
        *status = JU_EXIT_USAGE;
        return false;
    }
    fs_throttle_init(&run->throttle, rate);
    run->dest = pos[npos - 1];
    run->incremental = o_inc;
    run->truncate = o_trunc;
    run->pause_fifo = o_pause;
    *endpoint = o_ep;
    *dir = o_ep ? NULL : pos[0];
    return true;
}

/*
 * Readies run->dest: an incremental reads its label into run->label; a
 * full needs it absent or empty (*existed: it exists) and creates it
 * (*made).  Returns 0, or -1 after printing one line (nothing written).
 */
static int backup_prepare_dest(bk_run *run, bool *existed, bool *made)
{
    if (run->incremental) {
        char err[JU_PATH + 256];
        if (bkf_julabel_read(run->dest, &run->label, err, sizeof err) < 0) {
            ju_error("backup", "%s", err);
            return -1;
        }
        return 0;
    }
    if (ju_dir_absent_or_empty(run->dest, existed) < 0) {
        ju_error("backup", "%s: %s (DEST must not exist or be empty for a full backup)", run->dest,
                 strerror(errno));
        return -1;
    }
    if (!*existed) {
        if (mkdir(run->dest, 0755) < 0) {
            ju_error("backup", "%s: %s", run->dest, strerror(errno));
            return -1;
        }
        *made = true;
    }
    return 0;
}

/*
 * Removes what a failed run wrote: a full's DEST removed (made) or emptied
 * (existed); an incremental's files of this run unlinked (the label stays
 * as it was).  Errors ignored: teardown.
 */
static void backup_undo(const bk_run *run, bool existed, bool made)
{
    if (!run->incremental) {
        if (made)
            ju_rm_tree(run->dest);
        else if (existed)
            ju_rm_contents(run->dest);
    } else {
        for (unsigned i = 0; i < run->ncreated; i++) {
            char p[JU_PATH];
            snprintf(p, sizeof p, "%s/%s", run->dest, run->created[i]);
            unlink(p);
        }
    }
}

/*
 * Opens the source (endpoint, else the instance in dir) and runs the
 * backup into run.  Returns 0, or a JET_ERR after printing one line.
 */
static JET_ERR backup_from(bk_run *run, const char *endpoint, const char *dir)
{
    const char *what = "backup";
    bk_src src;
    JET_ERR rc;

    rc = bk_src_open("backup", &src, endpoint, dir);
    if (rc < 0)
        return rc;
    rc = run_backup(&src, run, &what);
    bk_src_close(&src);
    if (rc < 0)
        ju_jet_error("backup", what, rc);
    return rc;
}

/* Exit 0 on success, 1 with one line naming the Jet error, 2 usage. */
int cmd_backup(int argc, char **argv)
{
    const char *endpoint = NULL, *dir = NULL;
    bool existed = false, made = false;
    int status = JU_EXIT_FAIL;
    bk_run *run = calloc(1, sizeof *run);
    JET_ERR rc;

    if (!run)
        return JU_EXIT_FAIL;
    if (!parse_backup_args(argc, argv, run, &endpoint, &dir, &status))
        goto out;
    if (backup_prepare_dest(run, &existed, &made) < 0)
        goto out;
    rc = backup_from(run, endpoint, dir);
    if (rc < 0) {
        backup_undo(run, existed, made);
        goto out;
    }
    status = 0;
out:
    free(run);
    return status;
}
