/*
 * log_read.c -- the sequential log reader (jlr_*, declared in the public
 * jetfmt.h) and the repair of a torn log tail after recovery.
 *
 * The reader maps a whole log file into memory, verifies the header and
 * each segment as it reaches it, and assembles records across segment
 * payloads.  Torn writes (docs/formats.md): the data ends at a blank or
 * torn segment only the interrupted flush could have written (torn_tail);
 * jlog_repair_tail blanks that tail.
 *
 * Thread safety: a jet_logreader is used by one thread at a time; nothing
 * here is shared.
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

struct jet_logreader {
    uint8_t *img; /* whole file */
    size_t cb;    /* file size */
    unsigned csec;
    unsigned isec; /* read position */
    unsigned ib;
    unsigned sec_checked; /* segments below this index verified */
    bool at_end;
    uint8_t *rec; /* assembled record */
    size_t cbrec;
    int32_t gen;
};

/*
 * jlr_open -- read and verify the header of the log file at path.
 * Errors: JET_errFileNotFound, JET_errLogFileCorrupt, JET_errOutOfMemory,
 * JET_errDiskIO.
 */
JET_ERR jlr_open(const char *path, jet_logreader **pr, jf_loghdr *hdr)
{
    JET_ERR rc = JET_errSuccess;
    jet_logreader *r = NULL;
    struct stat st;
    size_t done = 0;
    int fd = jos_open(path, O_RDONLY | O_CLOEXEC);
    *pr = NULL;
    if (fd < 0)
        return errno == ENOENT ? JET_errFileNotFound : JET_errDiskIO;
    if (jos_fstat(fd, &st) != 0) {
        rc = JET_errDiskIO;
        goto out;
    }
    if (st.st_size < 2 * JF_SEGMENT || st.st_size % JF_SEGMENT != 0 ||
        st.st_size > 32 * 1024 * 1024) {
        rc = JET_errLogFileCorrupt;
        goto out;
    }
    r = calloc(1, sizeof *r);
    if (r == NULL || (r->img = malloc((size_t)st.st_size)) == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    r->cb = (size_t)st.st_size;
    if (jio_pread(fd, r->img, r->cb, 0, &done) != 0 || done != r->cb) {
        rc = JET_errDiskIO;
        goto out;
    }
    JCALL(jf_loghdr_decode(r->img, JF_LOG_HDR, hdr));
    if ((size_t)hdr->csec_file * JF_SEGMENT != r->cb) {
        rc = JET_errLogFileCorrupt;
        goto out;
    }
    r->csec = hdr->csec_file;
    r->gen = hdr->gen;
    r->isec = 1;
    r->ib = JF_SEG_HDR;
    r->sec_checked = 1;
    *pr = r;
    r = NULL;
out:
    jos_close(fd);
    if (r != NULL)
        jlr_close(r);
    return rc;
}

/* Does the valid, non-blank segment isec come from a flush that started
 * after segment s (so s was durable before it)?  Segments without the
 * flush flag (older files) count as later. */
static bool later_flush(const jet_logreader *r, unsigned isec, unsigned s)
{
    uint32_t fl = jf_get32(r->img + (size_t)isec * JF_SEGMENT + JF_SEG_FLAGS_OFF);
    return !(fl & JF_SEGF_FLUSH) || (fl & 0xFFFFu) > s;
}

/* Segment s is blank or does not verify: is it the torn or unwritten
 * tail of the last flush (1), or damage to durable data (0)?  A flush
 * only ever writes segments that held no durable data (seal_range), and
 * the next flush starts after it is durable, so after a power loss every
 * segment from s on is blank, torn, or written by the same flush.  A torn
 * segment still holds at least one 512-byte sector it had before the
 * flush (zeros); a segment with none is damage. */
static bool torn_tail(const jet_logreader *r, unsigned s, bool blank)
{
    const uint8_t *seg = r->img + (size_t)s * JF_SEGMENT;
    bool zero_sector = blank;
    for (unsigned o = 0; !zero_sector && o < JF_SEGMENT; o += JF_TORN_SECTOR)
        zero_sector = jf_is_blank(seg + o, JF_TORN_SECTOR);
    if (!zero_sector)
        return false;
    for (unsigned i = s + 1; i < r->csec; i++) {
        bool b = false;
        if (jf_seg_verify(r->img + (size_t)i * JF_SEGMENT, (uint16_t)i, &b) == 0 && !b &&
            later_flush(r, i, s))
            return false;
    }
    return true;
}

/* Make sure segment isec verified.  1 ok, 0 end of the data (blank, or
 * the torn tail of an interrupted flush), <0 corrupt. */
static JET_ERR check_seg(jet_logreader *r, unsigned isec)
{
    bool blank = false;
    JET_ERR rc;
    if (isec >= r->csec)
        return 0;
    rc = jf_seg_verify(r->img + (size_t)isec * JF_SEGMENT, (uint16_t)isec, &blank);
    if (rc < 0 || blank) {
        if (!torn_tail(r, isec, blank))
            return JET_errLogFileCorrupt;
        return 0;
    }
    return 1;
}

/* Copy cb stream bytes from the read position into dst, advancing.
 * 1 ok, 0 ran into the end (blank segment / end of file), <0 corrupt. */
static JET_ERR get_bytes(jet_logreader *r, uint8_t *dst, size_t cb)
{
    while (cb > 0) {
        size_t room, n;
        if (r->isec >= r->csec)
            return 0;
        if (r->isec >= r->sec_checked) {
            JET_ERR rc = check_seg(r, r->isec);
            if (rc <= 0)
                return rc;
            r->sec_checked = r->isec + 1;
        }
        room = JF_SEGMENT - r->ib;
        n = cb < room ? cb : room;
        memcpy(dst, r->img + (size_t)r->isec * JF_SEGMENT + r->ib, n);
        dst += n;
        cb -= n;
        r->ib += (unsigned)n;
        if (r->ib == JF_SEGMENT) {
            r->isec++;
            r->ib = JF_SEG_HDR;
        }
    }
    return 1;
}

/*
 * jlr_next -- the next record.  Returns 1 with the record, 0 at the end of
 * the data (a blank segment, the torn tail of an interrupted flush, the end
 * of the file, or a record cut off by one of these; a zero header only
 * closes its segment), JET_errLogFileCorrupt on a damaged segment that is
 * not such a tail or an impossible record length.
 */
JET_ERR jlr_next(jet_logreader *r, uint8_t *ptype, const uint8_t **pbody, uint32_t *pcb,
                 jf_lgpos *ppos)
{
    uint8_t hdr[JF_LR_HDR];
    uint32_t total;
    JET_ERR rc;
    jf_lgpos pos;
    if (r->at_end)
        return 0;
    for (;;) {
        /* a header never straddles segments; a zero header closes the
         * segment (the flush that wrote it ended there) */
        if (r->isec < r->csec && JF_SEGMENT - r->ib < JF_LR_HDR) {
            r->isec++;
            r->ib = JF_SEG_HDR;
        }
        pos = (jf_lgpos){ (uint16_t)r->ib, (uint16_t)r->isec, r->gen };
        rc = get_bytes(r, hdr, sizeof hdr);
        if (rc <= 0)
            goto end;
        total = jf_get32(hdr);
        if (total != 0)
            break;
        r->isec = pos.isec + 1u;
        r->ib = JF_SEG_HDR;
    }
    if (total < JF_LR_HDR || total > JF_LR_MAX || hdr[4] == 0 || hdr[4] > JF_LR_TERM) {
        rc = JET_errLogFileCorrupt;
        goto end;
    }
    if (r->cbrec < total) {
        uint8_t *p = realloc(r->rec, total);
        if (p == NULL)
            return JET_errOutOfMemory;
        r->rec = p;
        r->cbrec = total;
    }
    rc = get_bytes(r, r->rec, total - JF_LR_HDR);
    if (rc <= 0)
        goto end;
    *ptype = hdr[4];
    *pbody = r->rec;
    *pcb = total - JF_LR_HDR;
    if (ppos)
        *ppos = pos;
    return 1;
end:
    r->at_end = true;
    return rc;
}

/*
 * jlog_repair_tail -- after soft recovery has read the current log at
 * path to its end: make every segment past the data blank (zeros) and
 * fdatasync, so that the torn tail of an interrupted flush (which the
 * reader took as the end) cannot be read, copied or verified later as
 * damage once the file is archived.  Idempotent; a power loss during the
 * repair leaves a tail the reader still recognises.  Errors:
 * JET_errFileNotFound, JET_errLogFileCorrupt (damage, not a torn tail),
 * JET_errOutOfMemory, JET_errDiskIO, JET_errLogWriteFail.
 */
JET_ERR jlog_repair_tail(const char *path)
{
    jet_logreader *r = NULL;
    jf_loghdr h;
    uint8_t type;
    const uint8_t *body;
    uint32_t cb;
    unsigned first;
    bool dirty = false;
    int fd = -1;
    JET_ERR rc;
    JCALL(jlr_open(path, &r, &h));
    while ((rc = jlr_next(r, &type, &body, &cb, NULL)) == 1)
        ;
    if (rc < 0)
        goto out;
    rc = JET_errSuccess;
    /* the reader stopped at the start of the first segment past the data */
    first = r->ib == JF_SEG_HDR ? r->isec : r->isec + 1u;
    for (unsigned i = first; i < r->csec; i++) {
        uint8_t *seg = r->img + (size_t)i * JF_SEGMENT;
        if (jf_is_blank(seg, JF_SEGMENT))
            continue;
        if (fd < 0 && (fd = jos_open(path, O_WRONLY | O_CLOEXEC)) < 0) {
            rc = JET_errLogWriteFail;
            goto out;
        }
        memset(seg, 0, JF_SEGMENT);
        JCALL(jio_log_err(jio_pwrite(fd, seg, JF_SEGMENT, (off_t)i * JF_SEGMENT)));
        dirty = true;
    }
    if (dirty && jos_fdatasync(fd) != 0)
        rc = JET_errLogWriteFail;
out:
    if (fd >= 0 && jos_close(fd) != 0 && rc == 0)
        rc = JET_errLogWriteFail;
    jlr_close(r);
    return rc;
}

/* jlr_tell -- position just after the last record returned. */
jf_lgpos jlr_tell(const jet_logreader *r)
{
    return (jf_lgpos){ (uint16_t)r->ib, (uint16_t)r->isec, r->gen };
}

/* jlr_close -- free the reader.  Safe with NULL. */
void jlr_close(jet_logreader *r)
{
    if (r == NULL)
        return;
    free(r->img);
    free(r->rec);
    free(r);
}
