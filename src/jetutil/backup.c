/*
 * backup.c -- `jetutil backup (--endpoint SOCKET | DIR) DEST [--incremental]
 * [--truncate] [--pause-before-logs FIFO]`: the reference streaming backup
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
 * Test hook --pause-before-logs FIFO: after GetLogInfo (log roll, ranges
 * fixed) and before the first log is opened, write "paused\n" into FIFO
 * and wait for a signal; lets a test SIGKILL the client at a deterministic
 * point of the backup.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backup.h"

#define USAGE JU_USAGE_BACKUP
#define BUFSZ (1UL << 20)

/* ---- the call table ---- */

/* Open the source; prints one error line on failure. */
JET_ERR bk_src_open(const char *cmd, bk_src *s, const char *endpoint, const char *dir)
{
    JET_ERR rc;

    memset(s, 0, sizeof *s);
    if (endpoint) {
        jep_info info;
        s->remote = true;
        rc = JepConnect(endpoint, &s->cl);
        if (rc < 0) {
            ju_jet_error(cmd, endpoint, rc);
            return rc;
        }
        rc = JepGetInfo(s->cl, &info);
        if (rc < 0) {
            ju_jet_error(cmd, endpoint, rc);
            JepDisconnect(s->cl);
            s->cl = NULL;
            return rc;
        }
        s->cb_page = info.cb_page;
        s->legacy = info.legacy;
        memcpy(s->base, info.base_name, sizeof s->base);
        s->base[JET_BASE_NAME_LENGTH] = '\0';
        return 0;
    }
    {
        ju_settings st;
        if (ju_settings_read(cmd, dir, &st) < 0) return JET_errInvalidPath;
        rc = ju_inst_open(&s->ji, dir, &st);
        if (rc < 0) {
            ju_jet_error(cmd, dir, rc);
            return rc;
        }
        s->have_inst = true;
        /* after JetInit nothing is attached: attach the bank for the backup */
        rc = ju_bank_open(&s->ji, &s->bank);
        if (rc < 0) {
            ju_jet_error(cmd, s->ji.dbpath, rc);
            ju_inst_close(&s->ji);
            s->have_inst = false;
            return rc;
        }
        s->cb_page = st.page_size;
        s->legacy = st.legacy;
        s->log_kib = st.log_kib;
        memcpy(s->base, st.base, sizeof s->base);
    }
    return 0;
}

/* Disconnect / terminate the in-process instance. */
void bk_src_close(bk_src *s)
{
    if (s->remote) JepDisconnect(s->cl);
    s->cl = NULL;
    if (s->have_inst) {
        ju_bank_close(&s->bank);
        ju_inst_close(&s->ji);
    }
    s->have_inst = false;
}

JET_ERR bk_begin(bk_src *s, JET_GRBIT g)
{
    return s->remote ? JepBeginExternalBackup(s->cl, g) : JetBeginExternalBackupInstance(s->ji.inst, g);
}
JET_ERR bk_attach_info(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb)
{
    return s->remote ? JepGetAttachInfo(s->cl, szz, cb, pcb)
                     : JetGetAttachInfoInstanceA(s->ji.inst, szz, cb, pcb);
}
JET_ERR bk_open(bk_src *s, const char *name, JET_HANDLE *ph, unsigned long *lo, unsigned long *hi)
{
    return s->remote ? JepOpenFile(s->cl, name, ph, lo, hi)
                     : JetOpenFileInstanceA(s->ji.inst, name, ph, lo, hi);
}
JET_ERR bk_read(bk_src *s, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    return s->remote ? JepReadFile(s->cl, h, pv, cb, pcb)
                     : JetReadFileInstance(s->ji.inst, h, pv, cb, pcb);
}
JET_ERR bk_close(bk_src *s, JET_HANDLE h)
{
    return s->remote ? JepCloseFile(s->cl, h) : JetCloseFileInstance(s->ji.inst, h);
}
JET_ERR bk_loginfo(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb, JET_LOGINFO_A *li)
{
    return s->remote ? JepGetLogInfo2(s->cl, szz, cb, pcb, li)
                     : JetGetLogInfoInstance2A(s->ji.inst, szz, cb, pcb, li);
}
JET_ERR bk_trunc_info(bk_src *s, char *szz, unsigned long cb, unsigned long *pcb)
{
    return s->remote ? JepGetTruncateLogInfo(s->cl, szz, cb, pcb)
                     : JetGetTruncateLogInfoInstanceA(s->ji.inst, szz, cb, pcb);
}
JET_ERR bk_truncate(bk_src *s)
{
    return s->remote ? JepTruncateLog(s->cl) : JetTruncateLogInstance(s->ji.inst);
}
JET_ERR bk_end(bk_src *s, JET_GRBIT g)
{
    return s->remote ? JepEndExternalBackup2(s->cl, g) : JetEndExternalBackupInstance2(s->ji.inst, g);
}

/* ---- label ---- */

/* Write the label atomically (tmp + fsync + rename). */
int bk_label_write(const char *cmd, const char *dir, const bk_label *l)
{
    char path[JU_PATH], tmp[JU_PATH];
    FILE *f;
    mode_t kind = 0;
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, JU_LABEL);
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, JU_LABEL);
    fd = ju_open_regular(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644, &kind);
    f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        ju_open_error(cmd, tmp, kind, NULL);
        if (fd >= 0) close(fd);
        return -1;
    }
    fprintf(f, "# jetutil backup label (see jetutil(1))\nformat=1\ntype=%s\nbase=%s\n"
               "page_size=%lu\nlegacy=%lu\nlog_kib=%lu\ngenLow=%lu\ngenHigh=%lu\nbackups=%lu\n",
            l->type, l->base, l->page_size, l->legacy, l->log_kib, l->gen_low, l->gen_high,
            l->backups);
    if (l->have_committed) fprintf(f, "committed_at_roll=%llu\n", l->committed_at_roll);
    for (unsigned i = 0; i < l->ndb; i++)
        fprintf(f, "database=%s\nfile=%s\n", l->db_orig[i], l->db_file[i]);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        fclose(f);
        goto fail;
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0 || ju_fsync_dir(dir) != 0) goto fail;
    return 0;
fail:
    ju_error(cmd, "%s: %s", path, strerror(errno));
    unlink(tmp);
    return -1;
}

/* Parse the label; every required key must be present. */
int bk_label_read(const char *cmd, const char *dir, bk_label *l)
{
    char path[JU_PATH], line[JU_PATH + 64];
    FILE *f;
    mode_t kind;
    int lineno = 0, rc = -1;
    bool have_low = false, have_high = false;

    memset(l, 0, sizeof *l);
    snprintf(path, sizeof path, "%s/%s", dir, JU_LABEL);
    f = ju_fopen_read(path, &kind);
    if (!f) {
        ju_open_error(cmd, path, kind, kind ? NULL : "not a jetutil backup directory?");
        return -1;
    }
    for (;;) {
        char *key, *val;
        unsigned long long v = 0;
        bool num;
        int k = ju_kv_next(f, cmd, path, &lineno, line, sizeof line, &key, &val);
        if (k < 0)
            goto out;
        if (k == 0)
            break;
        {
            char *end;
            errno = 0;
            v = strtoull(val, &end, 10);
            num = *val && !*end && !errno;
        }
        if (!strcmp(key, "type") && strlen(val) < sizeof l->type) strcpy(l->type, val);
        else if (!strcmp(key, "base") && strlen(val) == JET_BASE_NAME_LENGTH) strcpy(l->base, val);
        else if (!strcmp(key, "format") && num) continue;
        else if (!strcmp(key, "page_size") && num) l->page_size = (unsigned long)v;
        else if (!strcmp(key, "legacy") && num) l->legacy = (unsigned long)v;
        else if (!strcmp(key, "log_kib") && num) l->log_kib = (unsigned long)v;
        else if (!strcmp(key, "genLow") && num) { l->gen_low = (unsigned long)v; have_low = true; }
        else if (!strcmp(key, "genHigh") && num) { l->gen_high = (unsigned long)v; have_high = true; }
        else if (!strcmp(key, "backups") && num) l->backups = (unsigned long)v;
        else if (!strcmp(key, "committed_at_roll") && num) {
            l->committed_at_roll = v;
            l->have_committed = true;
        } else if (!strcmp(key, "database") && l->ndb < BK_MAX_DBS && strlen(val) < JU_PATH) {
            strcpy(l->db_orig[l->ndb++], val);
        } else if (!strcmp(key, "file") && l->ndb > 0 && strlen(val) < 256 && !strchr(val, '/')) {
            strcpy(l->db_file[l->ndb - 1], val);
        } else {
            ju_error(cmd, "%s:%d: bad or unknown entry '%s'", path, lineno, key);
            goto out;
        }
    }
    if (!have_low || !have_high || !l->base[0] || !l->page_size || !l->type[0]) {
        ju_error(cmd, "%s: incomplete label (type, base, page_size, genLow, genHigh required)", path);
        goto out;
    }
    rc = 0;
out:
    fclose(f);
    return rc;
}

/* ---- copying one backup file ---- */

/* Open name on the source, stream it into dst (created/truncated, fsync).
 * Reads until the reported size or a 0-byte read; stores exactly what the
 * reads return.  *what names the failing step for the error line. */
static JET_ERR copy_stream(bk_src *s, const char *name, const char *dst, void *buf,
                           unsigned long long *pbytes, const char **what)
{
    JET_ERR rc;
    JET_HANDLE h = 0;
    unsigned long lo = 0, hi = 0, cb = 0;
    unsigned long long size, done = 0;
    bool open_h = false;
    int fd = -1;
    mode_t kind;

    *what = name;
    JCALL(bk_open(s, name, &h, &lo, &hi));
    open_h = true;
    size = (unsigned long long)hi << 32 | lo;
    fd = ju_open_regular(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644, &kind);
    if (fd < 0) {
        *what = dst;
        rc = kind ? JET_errFileInvalidType : errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
        goto out;
    }
    while (done < size) {
        rc = bk_read(s, h, buf, BUFSZ, &cb);
        if (rc < 0) {
            open_h = false; /* a failed read closed (db) or aborted (log) */
            goto out;
        }
        if (cb == 0) break;
        for (unsigned long off = 0; off < cb;) {
            ssize_t w = write(fd, (char *)buf + off, cb - off);
            if (w < 0) {
                if (errno == EINTR) continue;
                *what = dst;
                rc = errno == ENOSPC ? JET_errDiskFull : JET_errDiskIO;
                goto out;
            }
            off += (unsigned long)w;
        }
        done += cb;
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
    JCALL(bk_close(s, h));
    *pbytes += done;
    rc = 0;
out:
    if (open_h) bk_close(s, h);
    if (fd >= 0) close(fd);
    return rc;
}

/* Base name of a path (pointer into it). */
static const char *base_of(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* Fetch a multi-string list: size query first, then the call; *pszz is
 * malloc'ed.  which: 0 attach info, 1 log info (li filled), 2 truncate. */
static JET_ERR get_list(bk_src *s, int which, char **pszz, JET_LOGINFO_A *li)
{
    JET_ERR rc;
    unsigned long cb = 0, cb2 = 0;
    char *szz = NULL;

    if (which == 0) JCALL(bk_attach_info(s, NULL, 0, &cb));
    else if (which == 1) JCALL(bk_loginfo(s, NULL, 0, &cb, NULL));
    else JCALL(bk_trunc_info(s, NULL, 0, &cb));
    szz = calloc(1, cb + 2);
    if (!szz) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    if (which == 0) JCALL(bk_attach_info(s, szz, cb, &cb2));
    else if (which == 1) {
        memset(li, 0, sizeof *li);
        li->cbSize = sizeof *li;
        JCALL(bk_loginfo(s, szz, cb, &cb2, li));
    } else JCALL(bk_trunc_info(s, szz, cb, &cb2));
    *pszz = szz;
    szz = NULL;
    rc = 0;
out:
    free(szz);
    return rc;
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
    for (;;) pause();
}

typedef struct bk_run {
    const char *dest;
    bool incremental, truncate;
    const char *pause_fifo;
    bk_label label;              /* incremental: read from DEST first */
    char created[64][256];       /* files this run created (full: all) */
    char what[JU_PATH * 2];      /* the failing step/file, for the message */
    unsigned ncreated;
} bk_run;

/* The backup sequence; rc < 0 with *what naming the step/file. */
static JET_ERR run_backup(bk_src *s, bk_run *r, const char **what)
{
    JET_ERR rc;
    char *dbs = NULL, *logs = NULL, *trunc = NULL, dst[JU_PATH * 2];
    JET_LOGINFO_A li;
    void *buf = aligned_alloc(65536, BUFSZ);
    unsigned long long bytes = 0, committed = 0;
    bool have_committed = false, began = false;
    unsigned ndb = 0, nlog = 0, ntrunc = 0;
    bk_label *l = &r->label;

    if (!buf) return JET_errOutOfMemory;
    *what = "JetBeginExternalBackupInstance";
    JCALL(bk_begin(s, r->incremental ? JET_bitBackupIncremental : 0));
    began = true;
    if (!r->incremental) {
        memset(l, 0, sizeof *l);
        *what = "JetGetAttachInfoInstance";
        JCALL(get_list(s, 0, &dbs, NULL));
        for (char *p = dbs; *p; p += strlen(p) + 1) {
            if (ndb >= BK_MAX_DBS || strlen(p) >= JU_PATH || strlen(base_of(p)) >= 256) {
                rc = JET_errTooManyAttachedDatabases;
                goto out;
            }
            snprintf(dst, sizeof dst, "%s/%s", r->dest, base_of(p));
            strcpy(r->created[r->ncreated++], base_of(p));
            JCALL(copy_stream(s, p, dst, buf, &bytes, what));
            strcpy(l->db_orig[ndb], p);
            strcpy(l->db_file[ndb], base_of(p));
            ndb++;
        }
        l->ndb = ndb;
    }
    *what = "JetGetLogInfoInstance2";
    JCALL(get_list(s, 1, &logs, &li));
    if (s->remote) {
        *what = "JepGetCommittedAtRoll";
        rc = JepGetCommittedAtRoll(s->cl, &committed);
        if (rc >= 0) have_committed = true;
        else if (rc != JET_errInvalidParameter) goto out; /* no counter registered: fine */
    }
    if (r->pause_fifo) pause_hook(r->pause_fifo);
    for (char *p = logs; *p; p += strlen(p) + 1) {
        char tmp[JU_PATH * 2];
        struct stat st;
        snprintf(dst, sizeof dst, "%s/%s", r->dest, base_of(p));
        snprintf(tmp, sizeof tmp, "%s/.%s.tmp", r->dest, base_of(p));
        if (r->ncreated < 64 && strlen(base_of(p)) + 6 < 256)
            {
                int n = snprintf(r->created[r->ncreated], 256, ".%s.tmp", base_of(p));
                if (n > 0 && n < 256) r->ncreated++;
            }
        JCALL(copy_stream(s, p, tmp, buf, &bytes, what));
        if (stat(tmp, &st) == 0 && !l->log_kib) l->log_kib = (unsigned long)(st.st_size / 1024);
        if (!r->incremental && r->ncreated < 64) strcpy(r->created[r->ncreated++], base_of(p));
        if (rename(tmp, dst) < 0) {
            *what = dst;
            rc = JET_errDiskIO;
            goto out;
        }
        nlog++;
    }
    if (ju_fsync_dir(r->dest) < 0) {
        *what = r->dest;
        rc = JET_errDiskIO;
        goto out;
    }
    if (r->truncate) {
        *what = "JetGetTruncateLogInfoInstance";
        JCALL(get_list(s, 2, &trunc, NULL));
        for (char *p = trunc; *p; p += strlen(p) + 1) {
            printf("truncate %s\n", p);
            ntrunc++;
        }
        *what = "JetTruncateLogInstance";
        JCALL(bk_truncate(s));
    }
    *what = "JetEndExternalBackupInstance2";
    began = false;
    JCALL(bk_end(s, JET_bitBackupEndNormal));
    /* label */
    if (!r->incremental) {
        l->gen_low = li.ulGenLow;
        l->backups = 1;
        strcpy(l->type, r->truncate ? "full" : "copy");
    } else {
        l->backups++;
        strcpy(l->type, r->truncate ? "incremental" : "differential");
    }
    l->gen_high = li.ulGenHigh;
    memcpy(l->base, li.szBaseName[0] ? li.szBaseName : s->base, sizeof l->base);
    l->base[JET_BASE_NAME_LENGTH] = '\0';
    l->page_size = s->cb_page;
    l->legacy = s->legacy;
    if (!l->log_kib) l->log_kib = s->log_kib;
    l->have_committed = have_committed;
    l->committed_at_roll = committed;
    *what = r->dest;
    if (bk_label_write("backup", r->dest, l) < 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    printf("backup %s: %u database(s), %u log(s) 0x%lX-0x%lX, %llu bytes, %u truncated", l->type,
           ndb, nlog, li.ulGenLow, li.ulGenHigh, bytes, ntrunc);
    if (have_committed) printf(", committed_at_roll %llu", committed);
    printf("\n");
    rc = 0;
out:
    if (rc < 0) {
        /* *what may point into a list freed below: keep a copy */
        snprintf(r->what, sizeof r->what, "%s", *what);
        *what = r->what;
    }
    if (rc < 0 && began) {
        JET_ERR e = bk_end(s, JET_bitBackupEndAbort);
        (void)e; /* -520: already ended by the engine */
    }
    free(dbs);
    free(logs);
    free(trunc);
    free(buf);
    return rc;
}

/* Exit 0 on success, 1 with one line naming the Jet error, 2 usage. */
int cmd_backup(int argc, char **argv)
{
    const char *pos[2], *o_ep = NULL, *o_pause = NULL, *what = "backup";
    bool o_inc = false, o_trunc = false, existed = false, made = false;
    ju_opt opts[] = {
        { "--endpoint", true, &o_ep, NULL },
        { "--incremental", false, NULL, &o_inc },
        { "--truncate", false, NULL, &o_trunc },
        { "--pause-before-logs", true, &o_pause, NULL },
        { NULL, false, NULL, NULL },
    };
    int npos, r, status = JU_EXIT_FAIL;
    bk_src src;
    bk_run *run = calloc(1, sizeof *run);
    JET_ERR rc;

    if (!run) return JU_EXIT_FAIL;
    r = ju_parse(argc, argv, opts, pos, 2, &npos, USAGE);
    if (r) {
        free(run);
        return r > 0 ? 0 : JU_EXIT_USAGE;
    }
    if (npos != (o_ep ? 1 : 2)) {
        fprintf(stderr, "jetutil backup: need %s (usage: %s)\n",
                o_ep ? "DEST (and no DIR with --endpoint)" : "DIR and DEST, or --endpoint SOCKET DEST",
                USAGE);
        free(run);
        return JU_EXIT_USAGE;
    }
    run->dest = pos[npos - 1];
    run->incremental = o_inc;
    run->truncate = o_trunc;
    run->pause_fifo = o_pause;
    if (o_inc) {
        if (bk_label_read("backup", run->dest, &run->label) < 0) goto done;
    } else {
        if (ju_dir_absent_or_empty(run->dest, &existed) < 0) {
            ju_error("backup", "%s: %s (DEST must not exist or be empty for a full backup)",
                     run->dest, strerror(errno));
            goto done;
        }
        if (!existed) {
            if (mkdir(run->dest, 0755) < 0) {
                ju_error("backup", "%s: %s", run->dest, strerror(errno));
                goto done;
            }
            made = true;
        }
    }
    rc = bk_src_open("backup", &src, o_ep, o_ep ? NULL : pos[0]);
    if (rc < 0) goto cleanup;
    rc = run_backup(&src, run, &what);
    bk_src_close(&src);
    if (rc < 0) {
        ju_jet_error("backup", what, rc);
        goto cleanup;
    }
    status = 0;
    goto done;
cleanup:
    if (!o_inc) {
        if (made) ju_rm_tree(run->dest);
        else if (existed) ju_rm_contents(run->dest);
    } else {
        for (unsigned i = 0; i < run->ncreated; i++) {
            char p[JU_PATH];
            snprintf(p, sizeof p, "%s/%s", run->dest, run->created[i]);
            unlink(p);
        }
    }
done:
    free(run);
    return status;
}
