/*
 * log_write.c -- the log writer: log generations, append, group commit,
 * roll, and the archived generations on disk.  The sequential reader is
 * log_read.c, the checkpoint file checkpoint.c.
 *
 * The current generation lives in <base>.log; when it is full (or on
 * request) it is renamed <base><GEN>.log and the pre-created
 * <base>tmp.log becomes the new <base>.log (spec 6.1).  The whole current
 * file is mirrored in memory (at most JET_paramLogFileSize, 32 MiB), so a
 * flush seals and writes the segments appended since the last flush.
 *
 * Torn writes (docs/formats.md): a flush writes only segments that hold
 * no durable data -- when it ends inside a segment, the next record starts
 * in the next segment (seal_range), as ESE's fLGFillPartialSector does --
 * and marks each with its first segment; the reader ends the data at a
 * blank or torn segment only the interrupted flush could have written
 * (torn_tail), and recovery blanks that tail (jlog_repair_tail).
 *
 * Log files are written in full (zeros) when created, not left sparse: an
 * fdatasync after appending into allocated blocks is ~25% cheaper than
 * one that also commits block allocations.  <base>tmp.log for the next
 * generation is pre-created that way outside the log lock by the
 * checkpointer thread (jlog_prepare_next, woken after a roll), so a roll
 * under the lock only rewrites its header; if it is not ready yet the roll
 * creates a sparse one (fast) instead.
 *
 * Group commit: appenders copy their record into the image under log->mu
 * and get an LSN; jlog_flush_to makes one thread the flusher, which seals
 * the dirty segments into a private buffer, drops the lock for pwrite +
 * fdatasync, and wakes everyone whose LSN is now durable.  Records never
 * straddle two generations: a record that does not fit in the rest of the
 * current file rolls the log first.
 *
 * Thread safety: all jlog_* calls here are thread-safe (log->mu).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

struct jet_log {
    jet_inst *inst;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd; /* current <base>.log */
    uint32_t gen;
    jf_logtime time_create; /* tmCreate of gen */
    jf_sig sign;
    unsigned csec;         /* segments in a file (incl. header) */
    uint8_t *img;          /* csec * JF_SEGMENT bytes: the current file */
    uint16_t isec;         /* append position: segment ... */
    uint16_t ib;           /* ... and byte offset in it */
    uint16_t isec_flushed; /* first segment not yet durable in full */
    uint64_t durable;      /* LSN durable on disk */
    bool flushing;
    bool failed;     /* a write failed: the log is read-only now */
    JET_ERR fail_rc; /* error later calls get (JET_errLogWriteFail) */
    uint8_t *wbuf;   /* flusher's private copy */
    bool tmp_ready;  /* <base>tmp.log pre-created for gen + 1 */
    bool tmp_busy;   /* a thread is pre-creating it (no lock) */
    jf_attach_list attach;
    jf_lgpos chk;
    uint64_t bytes_since_chk;
};

/* Build "<dir><name>" into buf. */
static void path_join(char *buf, size_t cb, const char *dir, const char *name)
{
    snprintf(buf, cb, "%s%s", dir, name);
}

/* Current position as an LSN.  log->mu held. */
static uint64_t tip_lsn(const jet_log *log)
{
    jf_lgpos p = { log->ib, log->isec, (int32_t)log->gen };
    return jf_lgpos_u64(p);
}

/* Write all of buf at off; JET_errLogWriteFail / JET_errLogDiskFull. */
static JET_ERR pwrite_all(int fd, const void *buf, size_t cb, off_t off)
{
    return jio_log_err(jio_pwrite(fd, buf, cb, off));
}

/* fsync the directory holding path (renames durable).  Best effort is not
 * good enough for a log: failure is JET_errLogWriteFail. */
static JET_ERR fsync_dir(const char *dir)
{
    int fd = jos_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    JET_ERR rc = JET_errSuccess;
    if (fd < 0)
        return JET_errLogWriteFail;
    if (jos_fsync(fd) != 0)
        rc = JET_errLogWriteFail;
    jos_close(fd);
    return rc;
}

static JET_ERR create_file(const char *path, const jf_loghdr *hdr, unsigned log_kib, bool fill);

/*
 * jlog_create_file -- write a new empty log file: header segment, then
 * zero (blank) segments up to log_kib KiB, all actually written (no
 * holes) so later appends need no block allocation.  Written to path
 * directly and fsynced.  Errors: JET_errLogWriteFail, JET_errLogDiskFull,
 * JET_errOutOfMemory.
 */
JET_ERR jlog_create_file(const char *path, const jf_loghdr *hdr, unsigned log_kib)
{
    return create_file(path, hdr, log_kib, true);
}

/* jlog_create_file, or with fill false a sparse file (ftruncate): fast,
 * for rolls under the log lock. */
static JET_ERR create_file(const char *path, const jf_loghdr *hdr, unsigned log_kib, bool fill)
{
    enum { CHUNK = 256 * 1024 };
    uint8_t blk[JF_LOG_HDR];
    uint8_t *zero = NULL;
    off_t size = (off_t)log_kib * 1024, off;
    JET_ERR rc = JET_errSuccess;
    int fd = jos_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == ENOSPC ? JET_errLogDiskFull : JET_errLogWriteFail;
    jf_loghdr_encode(hdr, blk);
    JCALL(pwrite_all(fd, blk, sizeof blk, 0));
    if (!fill) {
        if (jos_ftruncate(fd, size) != 0)
            rc = JET_errLogWriteFail;
        off = size;
    } else if ((zero = calloc(1, CHUNK)) == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    } else {
        off = sizeof blk;
    }
    for (; rc == 0 && off < size; off += CHUNK) {
        size_t n = size - off < CHUNK ? (size_t)(size - off) : CHUNK;
        JCALL(pwrite_all(fd, zero, n, off));
    }
    if (jos_fdatasync(fd) != 0)
        rc = JET_errLogWriteFail;
out:
    free(zero);
    jos_close(fd);
    return rc;
}

/* Rewrite only the header of the pre-created file at path (same size,
 * zero segments) and fsync it.  JET_errLogWriteFail. */
static JET_ERR rewrite_header(const char *path, const jf_loghdr *hdr)
{
    uint8_t blk[JF_LOG_HDR];
    JET_ERR rc;
    int fd = jos_open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return JET_errLogWriteFail;
    jf_loghdr_encode(hdr, blk);
    rc = pwrite_all(fd, blk, sizeof blk, 0);
    if (rc == 0 && jos_fdatasync(fd) != 0)
        rc = JET_errLogWriteFail;
    jos_close(fd);
    return rc;
}

/* Header for generation gen of this log.  log->mu held or log private. */
static void make_header(const jet_log *log, uint32_t gen, jf_logtime tprev, jf_loghdr *h)
{
    memset(h, 0, sizeof *h);
    h->gen = (int32_t)gen;
    h->cb_sec = JF_SEGMENT;
    h->csec_header = 1;
    h->csec_file = (uint16_t)log->csec;
    h->cb_page_db = (uint16_t)(log->inst->cb_page == 32768 ? 0 : log->inst->cb_page);
    jf_logtime_from_time(&h->time_create, time(NULL));
    h->time_prev_gen = tprev;
    h->sign_log = log->sign;
    h->lgpos_checkpoint = log->chk;
    h->attach = log->attach;
}

/* Pre-create <base>tmp.log for generation gen+1 (its header is rewritten
 * when it is used).  Called without log->mu by the thread that set
 * tmp_busy, or with the log private (jlog_open). */
static JET_ERR precreate_tmp(jet_log *log, uint32_t gen, jf_logtime tcreate)
{
    char name[64], path[JF_PATH_MAX + 64];
    jf_loghdr h;
    jf_tmp_log_name(name, sizeof name, log->inst->base, log->inst->legacy);
    path_join(path, sizeof path, log->inst->log_path, name);
    pthread_mutex_lock(&log->mu);
    make_header(log, gen + 1, tcreate, &h);
    pthread_mutex_unlock(&log->mu);
    return jlog_create_file(path, &h, log->inst->log_kib);
}

/* jlog_prepare_next -- see jet_int.h.  Pre-creates the next tmp file
 * outside the lock unless it is ready or another thread is at it.  A
 * failure is not an error here: the next roll creates the file under the
 * lock instead.  Takes log->mu. */
void jlog_prepare_next(jet_log *log)
{
    uint32_t gen;
    jf_logtime tcreate;
    JET_ERR rc;
    pthread_mutex_lock(&log->mu);
    if (log->tmp_ready || log->tmp_busy || log->failed) {
        pthread_mutex_unlock(&log->mu);
        return;
    }
    log->tmp_busy = true;
    gen = log->gen;
    tcreate = log->time_create;
    pthread_mutex_unlock(&log->mu);
    rc = precreate_tmp(log, gen, tcreate);
    pthread_mutex_lock(&log->mu);
    log->tmp_busy = false;
    if (rc == 0 && log->gen == gen)
        log->tmp_ready = true;
    pthread_cond_broadcast(&log->cv);
    pthread_mutex_unlock(&log->mu);
}

/* Make <base>.log generation gen the current file (creating it via the
 * tmp file when needed) and reset the in-memory image.  ready: the tmp
 * file already holds this final header for gen (a roll wrote it before
 * archiving), else NULL.  log->mu held or log private. */
static JET_ERR start_generation(jet_log *log, uint32_t gen, jf_logtime tprev,
                                const jf_loghdr *ready)
{
    char name[64], cur[JF_PATH_MAX + 64], tmp[JF_PATH_MAX + 64];
    jf_loghdr h;
    JET_ERR rc = JET_errSuccess;
    uint8_t blk[JF_LOG_HDR];

    jf_cur_log_name(name, sizeof name, log->inst->base, log->inst->legacy);
    path_join(cur, sizeof cur, log->inst->log_path, name);
    jf_tmp_log_name(name, sizeof name, log->inst->base, log->inst->legacy);
    path_join(tmp, sizeof tmp, log->inst->log_path, name);

    /* Write a fresh header for gen into the tmp file and rename it in:
     * the header must carry the attach list and checkpoint as of now.  A
     * pre-created tmp file only needs the header. */
    if (ready != NULL) {
        h = *ready;
    } else {
        make_header(log, gen, tprev, &h);
        if (log->tmp_ready)
            rc = rewrite_header(tmp, &h);
        if (!log->tmp_ready || rc < 0)
            rc = create_file(tmp, &h, log->inst->log_kib, false);
    }
    log->tmp_ready = false;
    if (rc < 0)
        goto out;
    jinst_fault(log->inst, "log.roll.tmp_written");
    if (jos_rename(tmp, cur) != 0) {
        rc = JET_errLogWriteFail;
        goto out;
    }
    JCALL(fsync_dir(log->inst->log_path));
    if (log->fd >= 0)
        jos_close(log->fd);
    log->fd = jos_open(cur, O_RDWR | O_CLOEXEC);
    if (log->fd < 0) {
        rc = JET_errLogWriteFail;
        goto out;
    }
    log->gen = gen;
    log->time_create = h.time_create;
    memset(log->img, 0, (size_t)log->csec * JF_SEGMENT);
    jf_loghdr_encode(&h, blk);
    memcpy(log->img, blk, sizeof blk);
    log->isec = 1;
    log->ib = JF_SEG_HDR;
    log->isec_flushed = 1;
    log->durable = tip_lsn(log);
out:
    return rc;
}

/*
 * jlog_open -- open the log for appending: generation gen becomes the
 * current <base>.log (created fresh; any previous <base>.log must already
 * have been archived by the caller).  time_prev = tmCreate of gen-1.
 * Errors: JET_errOutOfMemory, JET_errLogWriteFail.
 */
JET_ERR jlog_open(jet_inst *inst, uint32_t gen, jf_logtime time_prev, const jf_sig *sign_log,
                  jet_log **plog)
{
    JET_ERR rc = JET_errSuccess;
    jet_log *log = calloc(1, sizeof *log);
    *plog = NULL;
    if (log == NULL)
        return JET_errOutOfMemory;
    log->inst = inst;
    log->fd = -1;
    log->sign = *sign_log;
    log->csec = inst->log_kib * 1024u / JF_SEGMENT;
    pthread_mutex_init(&log->mu, NULL);
    pthread_cond_init(&log->cv, NULL);
    log->img = calloc(log->csec, JF_SEGMENT);
    log->wbuf = malloc((size_t)log->csec * JF_SEGMENT);
    if (log->img == NULL || log->wbuf == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    log->chk = (jf_lgpos){ JF_SEG_HDR, 1, (int32_t)gen };
    JCALL(start_generation(log, gen, time_prev, NULL));
    JCALL(precreate_tmp(log, log->gen, log->time_create));
    log->tmp_ready = true;
    *plog = log;
    log = NULL;
out:
    if (log != NULL)
        jlog_close(log);
    return rc;
}

/* Mark the log failed with rc (first error wins for later calls); wakes
 * waiters.  log->mu held. */
static void set_failed(jet_log *log, JET_ERR rc)
{
    if (!log->failed) {
        log->failed = true;
        log->fail_rc = rc == JET_errInstanceUnavailable ? rc : JET_errLogWriteFail;
    }
    pthread_cond_broadcast(&log->cv);
}

/* jlog_poison -- see jet_int.h. */
void jlog_poison(jet_log *log, JET_ERR err)
{
    pthread_mutex_lock(&log->mu);
    set_failed(log, err);
    pthread_mutex_unlock(&log->mu);
}

/* Seal segments [from, to] of the image into wbuf (same offsets), each
 * marked as written by the flush that starts at segment from (flags =
 * JF_SEGF_FLUSH | from: the torn-tail rule of the reader), then close a
 * partly filled last segment: the append position moves to the next
 * segment, so no later flush rewrites a segment this one made durable.
 * log->mu held. */
static void seal_range(jet_log *log, unsigned from, unsigned to)
{
    jf_logtime now;
    jf_logtime_from_time(&now, time(NULL));
    if (log->ib > JF_SEG_HDR && log->isec == to) {
        log->isec = (uint16_t)(to + 1);
        log->ib = JF_SEG_HDR;
    }
    for (unsigned s = from; s <= to; s++) {
        uint8_t *dst = log->wbuf + (size_t)s * JF_SEGMENT;
        jf_seghdr sh = { { 0, (uint16_t)s, (int32_t)log->gen },
                         now,
                         JF_SEGF_FLUSH | (uint32_t)from };
        memcpy(dst, log->img + (size_t)s * JF_SEGMENT, JF_SEGMENT);
        jf_seg_seal(dst, &sh);
    }
}

/* Flush everything appended so far, holding log->mu throughout (used by
 * roll and close).  Waits for a running flusher first. */
static JET_ERR flush_locked(jet_log *log)
{
    JET_ERR rc = JET_errSuccess;
    unsigned to;
    while (log->flushing)
        pthread_cond_wait(&log->cv, &log->mu);
    if (log->failed)
        return log->fail_rc;
    if (log->durable >= tip_lsn(log))
        return JET_errSuccess;
    to = log->ib > JF_SEG_HDR ? log->isec : (unsigned)log->isec - 1;
    if (to >= log->isec_flushed) {
        seal_range(log, log->isec_flushed, to); /* may move the tip */
        rc = pwrite_all(log->fd, log->wbuf + (size_t)log->isec_flushed * JF_SEGMENT,
                        (size_t)(to - log->isec_flushed + 1) * JF_SEGMENT,
                        (off_t)log->isec_flushed * JF_SEGMENT);
        if (rc == 0 && jos_fdatasync(log->fd) != 0)
            rc = JET_errLogWriteFail;
    }
    if (rc < 0) {
        set_failed(log, rc);
        return rc;
    }
    log->durable = tip_lsn(log);
    log->isec_flushed = log->isec;
    pthread_cond_broadcast(&log->cv);
    return rc;
}

/* Archive the current generation and start the next.  log->mu held; it
 * is released only while waiting for a running flusher or tmp
 * pre-creation to finish, before anything is changed. */
static JET_ERR roll_locked(jet_log *log)
{
    char name[64], cur[JF_PATH_MAX + 64], arc[JF_PATH_MAX + 64], tmp[JF_PATH_MAX + 64];
    jf_loghdr h;
    JET_ERR rc;
    /* Wait out a running flusher and a tmp pre-creation first: from here
     * to the end the lock is held without a break, so no record can go
     * into the generation being archived after its final flush, and no
     * flusher can still be writing to the file descriptor closed below. */
    while (log->flushing || log->tmp_busy)
        pthread_cond_wait(&log->cv, &log->mu);
    if (log->failed)
        return log->fail_rc;
    rc = flush_locked(log); /* does not wait: nobody is flushing */
    if (rc < 0)
        return rc;
    jf_cur_log_name(name, sizeof name, log->inst->base, log->inst->legacy);
    path_join(cur, sizeof cur, log->inst->log_path, name);
    jf_log_name(name, sizeof name, log->inst->base, log->gen, log->inst->legacy);
    path_join(arc, sizeof arc, log->inst->log_path, name);
    if (log->gen + 1 > JF_GEN_MAX)
        return JET_errLogSequenceEnd;
    /* The next generation's file exists, with its final header, before
     * <base>.log is archived, so recovery tells a crash between the two
     * renames (tmp of gen + 1 present) from a lost current log
     * (JET_errMissingLogFile), and nothing but the renames lies between
     * them.  Its directory entry is durable before the archive rename can
     * be (a pre-created tmp file was only fdatasynced). */
    jf_tmp_log_name(name, sizeof name, log->inst->base, log->inst->legacy);
    path_join(tmp, sizeof tmp, log->inst->log_path, name);
    make_header(log, log->gen + 1, log->time_create, &h);
    rc = JET_errSuccess;
    if (log->tmp_ready)
        rc = rewrite_header(tmp, &h);
    if (!log->tmp_ready || rc < 0)
        rc = create_file(tmp, &h, log->inst->log_kib, false);
    log->tmp_ready = rc == 0;
    if (rc < 0)
        return rc;
    rc = fsync_dir(log->inst->log_path);
    if (rc < 0)
        return rc;
    if (jos_rename(cur, arc) != 0) {
        set_failed(log, JET_errLogWriteFail);
        return JET_errLogWriteFail;
    }
    jinst_fault(log->inst, "log.roll.archived");
    rc = start_generation(log, log->gen + 1, log->time_create, &h);
    if (rc < 0)
        set_failed(log, rc);
    pthread_cond_broadcast(&log->cv);
    return rc;
}

/* After a roll (log->mu not held): wake the checkpointer thread, which
 * calls jlog_prepare_next.  Signalling without inst->lock may miss a
 * wait in progress; the checkpointer then prepares on its next 1 s tick. */
static void wake_preparer(jet_log *log)
{
    pthread_cond_signal(&log->inst->ckpt_cv);
}

/* Copy a record into the image at the append position.  The caller made
 * sure it fits.  log->mu held. */
static void put_bytes(jet_log *log, const void *src, uint32_t cb)
{
    const uint8_t *p = src;
    while (cb > 0) {
        uint32_t room = JF_SEGMENT - log->ib;
        uint32_t n = cb < room ? cb : room;
        memcpy(log->img + (size_t)log->isec * JF_SEGMENT + log->ib, p, n);
        p += n;
        cb -= n;
        log->ib = (uint16_t)(log->ib + n);
        if (log->ib == JF_SEGMENT) {
            log->isec++;
            log->ib = JF_SEG_HDR;
        }
    }
}

/* Payload bytes left in the current file from the append position. */
static uint64_t room_left(const jet_log *log)
{
    if (log->isec >= log->csec)
        return 0;
    return (uint64_t)(JF_SEGMENT - log->ib) +
           (uint64_t)(log->csec - log->isec - 1) * JF_SEG_PAYLOAD;
}

/*
 * jlog_append_fn -- append one record (header + body); fn(arg, lsn) runs
 * under the log lock once the record has its place.  Rolls first if the
 * record does not fit.  Errors: JET_errLogWriteFail, JET_errLogDiskFull,
 * JET_errInvalidParameter (record larger than a log file can hold).
 */
JET_ERR jlog_append_fn(jet_log *log, uint8_t type, const void *body, uint32_t cb,
                       void (*fn)(void *arg, uint64_t lsn), void *arg, jf_lgpos *ppos,
                       uint64_t *plsn)
{
    uint8_t hdr[JF_LR_HDR] = { 0 };
    uint32_t total = cb + JF_LR_HDR;
    JET_ERR rc = JET_errSuccess;
    jf_lgpos pos;
    bool rolled = false;

    if (total > JF_LR_MAX || total + JF_LR_HDR > (uint64_t)(log->csec - 1) * JF_SEG_PAYLOAD)
        return JET_errInvalidParameter;
    jf_put32(hdr, total);
    hdr[4] = type;
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        rc = log->fail_rc;
        goto out;
    }
    /* a record header never straddles two segments (the reader skips the
     * rest of a segment too short for one, and a zero header means "the
     * rest of this segment is unused") */
    if (log->isec < log->csec && JF_SEGMENT - log->ib < JF_LR_HDR) {
        log->isec++;
        log->ib = JF_SEG_HDR;
    }
    /* keep room for an all-zero record header marking the end */
    if (room_left(log) < (uint64_t)total + JF_LR_HDR) {
        /* roll_locked would wait for these (dropping the lock), and
         * another appender may roll meanwhile: wait here and re-check */
        while (log->flushing || log->tmp_busy)
            pthread_cond_wait(&log->cv, &log->mu);
        if (log->failed) {
            rc = log->fail_rc;
            goto out;
        }
    }
    if (room_left(log) < (uint64_t)total + JF_LR_HDR) {
        rc = roll_locked(log);
        if (rc < 0)
            goto out;
        rolled = true;
    }
    pos = (jf_lgpos){ log->ib, log->isec, (int32_t)log->gen };
    put_bytes(log, hdr, sizeof hdr);
    if (cb > 0)
        put_bytes(log, body, cb);
    log->bytes_since_chk += total;
    if (ppos)
        *ppos = pos;
    if (plsn)
        *plsn = tip_lsn(log);
    if (fn)
        fn(arg, tip_lsn(log));
out:
    pthread_mutex_unlock(&log->mu);
    if (rolled)
        wake_preparer(log);
    return rc;
}

/* jlog_append -- jlog_append_fn without a callback. */
JET_ERR jlog_append(jet_log *log, uint8_t type, const void *body, uint32_t cb, jf_lgpos *ppos,
                    uint64_t *plsn)
{
    return jlog_append_fn(log, type, body, cb, NULL, NULL, ppos, plsn);
}

/*
 * jlog_flush_to -- return once everything up to lsn is on disk.  One
 * caller at a time does the I/O for everybody (group commit).
 * Errors: JET_errLogWriteFail, JET_errLogDiskFull.
 */
JET_ERR jlog_flush_to(jet_log *log, uint64_t lsn)
{
    JET_ERR rc = JET_errSuccess;
    pthread_mutex_lock(&log->mu);
    while (log->durable < lsn) {
        unsigned from, to;
        uint64_t target;
        uint16_t isec_next;
        int fd;
        if (log->failed) {
            rc = log->fail_rc;
            break;
        }
        if (log->flushing) {
            pthread_cond_wait(&log->cv, &log->mu);
            continue;
        }
        /* a roll in between made lsn's generation durable already */
        from = log->isec_flushed;
        to = log->ib > JF_SEG_HDR ? log->isec : (unsigned)log->isec - 1;
        if (to < from) {
            log->durable = tip_lsn(log);
            break;
        }
        seal_range(log, from, to);
        target = tip_lsn(log); /* after the partly filled segment was closed */
        isec_next = log->isec;
        fd = log->fd;
        log->flushing = true;
        pthread_mutex_unlock(&log->mu);
        rc = pwrite_all(fd, log->wbuf + (size_t)from * JF_SEGMENT,
                        (size_t)(to - from + 1) * JF_SEGMENT, (off_t)from * JF_SEGMENT);
        if (rc == 0 && jos_fdatasync(fd) != 0)
            rc = JET_errLogWriteFail;
        pthread_mutex_lock(&log->mu);
        log->flushing = false;
        if (rc < 0) {
            set_failed(log, rc);
        } else if (target > log->durable) {
            log->durable = target;
            if (isec_next > log->isec_flushed)
                log->isec_flushed = isec_next;
        }
        pthread_cond_broadcast(&log->cv);
        if (rc < 0)
            break;
    }
    pthread_mutex_unlock(&log->mu);
    return rc;
}

/* jlog_flush_all -- everything appended so far is durable on return. */
JET_ERR jlog_flush_all(jet_log *log)
{
    uint64_t lsn;
    pthread_mutex_lock(&log->mu);
    lsn = tip_lsn(log);
    pthread_mutex_unlock(&log->mu);
    return jlog_flush_to(log, lsn);
}

/* jlog_roll -- archive the current generation now; *pgen = new current. */
JET_ERR jlog_roll(jet_log *log, uint32_t *pgen)
{
    JET_ERR rc;
    pthread_mutex_lock(&log->mu);
    rc = log->failed ? log->fail_rc : roll_locked(log);
    if (pgen)
        *pgen = log->gen;
    pthread_mutex_unlock(&log->mu);
    if (rc == 0)
        wake_preparer(log);
    return rc;
}

/* jlog_current_gen -- generation of <base>.log now. */
uint32_t jlog_current_gen(jet_log *log)
{
    uint32_t g;
    pthread_mutex_lock(&log->mu);
    g = log->gen;
    pthread_mutex_unlock(&log->mu);
    return g;
}

/* jlog_tip -- position the next record will get. */
jf_lgpos jlog_tip(jet_log *log)
{
    jf_lgpos p;
    pthread_mutex_lock(&log->mu);
    p = (jf_lgpos){ log->ib, log->isec, (int32_t)log->gen };
    pthread_mutex_unlock(&log->mu);
    return p;
}

/* jlog_signature -- the log stream's signature. */
jf_sig jlog_signature(jet_log *log)
{
    return log->sign; /* immutable after open */
}

/* jlog_set_attach -- attach list for headers of later generations. */
void jlog_set_attach(jet_log *log, const jf_attach_list *attach)
{
    pthread_mutex_lock(&log->mu);
    log->attach = *attach;
    pthread_mutex_unlock(&log->mu);
}

/* jlog_set_checkpoint -- checkpoint for later headers; resets the
 * bytes-since-checkpoint counter. */
void jlog_set_checkpoint(jet_log *log, jf_lgpos chk)
{
    pthread_mutex_lock(&log->mu);
    log->chk = chk;
    log->bytes_since_chk = 0;
    pthread_mutex_unlock(&log->mu);
}

/* jlog_bytes_since_checkpoint -- for the checkpointer's trigger. */
uint64_t jlog_bytes_since_checkpoint(jet_log *log)
{
    uint64_t v;
    pthread_mutex_lock(&log->mu);
    v = log->bytes_since_chk;
    pthread_mutex_unlock(&log->mu);
    return v;
}

/* jlog_close -- flush and free; files stay (the current log remains
 * <base>.log).  Safe on a partially opened log. */
void jlog_close(jet_log *log)
{
    if (log == NULL)
        return;
    if (log->fd >= 0) {
        pthread_mutex_lock(&log->mu);
        while (log->tmp_busy)
            pthread_cond_wait(&log->cv, &log->mu);
        (void)flush_locked(log);
        pthread_mutex_unlock(&log->mu);
        jos_close(log->fd);
    }
    pthread_mutex_destroy(&log->mu);
    pthread_cond_destroy(&log->cv);
    free(log->img);
    free(log->wbuf);
    free(log);
}

/* Scan the log directory for archived generations: lowest and highest
 * (0 when none).  Errors: JET_errInvalidLogDirectory, JET_errDiskIO. */
static JET_ERR scan_gens(const jet_inst *inst, uint32_t *plo, uint32_t *phi)
{
    DIR *d = jos_opendir(inst->log_path);
    struct dirent *e;
    uint32_t lo = 0, hi = 0;
    JET_ERR rc = JET_errSuccess;
    if (d == NULL)
        return JET_errInvalidLogDirectory;
    /* readdir returns NULL at the end and on an error: errno tells them
     * apart (a generation silently skipped would be a missing log) */
    while ((errno = 0, e = jos_readdir(d)) != NULL) {
        uint32_t g;
        if (jf_log_parse(e->d_name, inst->base, jf_log_ext(inst->legacy), &g) != 0)
            continue;
        if (lo == 0 || g < lo)
            lo = g;
        if (g > hi)
            hi = g;
    }
    if (errno != 0)
        rc = JET_errDiskIO;
    if (jos_closedir(d) != 0 && rc == 0)
        rc = JET_errDiskIO;
    if (rc < 0)
        return rc;
    *plo = lo;
    *phi = hi;
    return JET_errSuccess;
}

/* jlog_oldest_gen -- oldest archived generation on disk, or
 * JET_errFileNotFound. */
JET_ERR jlog_oldest_gen(const jet_inst *inst, uint32_t *pgen)
{
    uint32_t lo, hi;
    JET_ERR rc = scan_gens(inst, &lo, &hi);
    if (rc < 0)
        return rc;
    if (lo == 0)
        return JET_errFileNotFound;
    *pgen = lo;
    return JET_errSuccess;
}

/* jlog_newest_gen -- newest archived generation on disk (0 if none). */
JET_ERR jlog_newest_gen(const jet_inst *inst, uint32_t *pgen)
{
    uint32_t lo, hi;
    JET_ERR rc = scan_gens(inst, &lo, &hi);
    if (rc == 0)
        *pgen = hi;
    return rc;
}

/* jlog_delete_range -- unlink archived logs lo..hi-1 in increasing order. */
JET_ERR jlog_delete_range(const jet_inst *inst, uint32_t lo, uint32_t hi)
{
    for (uint32_t g = lo; g < hi; g++) {
        char path[JF_PATH_MAX + 64];
        jinst_log_path(inst, g, path, sizeof path);
        if (jos_unlink(path) != 0 && errno != ENOENT)
            return JET_errDiskIO;
    }
    return JET_errSuccess;
}
