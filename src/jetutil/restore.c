/*
 * restore.c -- `jetutil restore BACKUPDIR TARGETDIR`: hard recovery of a
 * jetutil backup directory (label + database streams + logs) into a new
 * instance directory with JetExternalRestore2A (spec section 7.2/7.4).
 *
 * TARGETDIR must not exist or be empty.  The database streams are copied
 * to TARGETDIR/bank.edb (the instance layout), the logs genLow..genHigh of
 * the label into the scratch directory TARGETDIR/restore-logs (the backup
 * directory is never written: hard recovery may delete logs in its backup
 * log path), then JetExternalRestore2A(TARGETDIR, TARGETDIR, map
 * {original path -> TARGETDIR/bank.edb}, TARGETDIR/restore-logs, loginfo).
 * The scratch directory is removed and DIR/jetutil.conf written, so the
 * result passes `jetutil verify`.  On failure everything created in
 * TARGETDIR is removed.
 */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup.h"

#define USAGE "jetutil restore BACKUPDIR TARGETDIR"
#define SCRATCH "restore-logs"

/* Exit 0 when restored; 1 with one error line (target cleaned); 2 usage. */
int cmd_restore(int argc, char **argv)
{
    const char *pos[2];
    ju_opt opts[] = { { NULL, false, NULL, NULL } };
    int npos, r, status = JU_EXIT_FAIL;
    bk_label *l = malloc(sizeof *l);
    bool existed = false, made = false;
    char tdir[JU_PATH], scratch[JU_PATH + 64], src[JU_PATH + 512], dst[JU_PATH + 512], orig[JU_PATH];
    JET_RSTMAP_A map[1];
    JET_LOGINFO_A li;
    ju_settings st;
    JET_ERR rc;

    if (!l) return JU_EXIT_FAIL;
    r = ju_parse(argc, argv, opts, pos, 2, &npos, USAGE);
    if (r) {
        free(l);
        return r > 0 ? 0 : JU_EXIT_USAGE;
    }
    if (npos != 2) {
        fprintf(stderr, "jetutil restore: BACKUPDIR and TARGETDIR are required (usage: %s)\n", USAGE);
        free(l);
        return JU_EXIT_USAGE;
    }
    if (bk_label_read("restore", pos[0], l) < 0) goto done;
    if (l->ndb != 1) {
        ju_error("restore", "%s: the label lists %u databases; a jetutil instance has exactly one",
                 pos[0], l->ndb);
        goto done;
    }
    if (ju_dir_absent_or_empty(pos[1], &existed) < 0) {
        ju_error("restore", "%s: %s (TARGETDIR must not exist or be empty)", pos[1],
                 strerror(errno));
        goto done;
    }
    if (!existed) {
        if (mkdir(pos[1], 0755) < 0) {
            ju_error("restore", "%s: %s", pos[1], strerror(errno));
            goto done;
        }
        made = true;
    }
    if (ju_absdir(pos[1], tdir, sizeof tdir - 64) < 0) {
        ju_error("restore", "%s: %s", pos[1], strerror(errno));
        goto cleanup;
    }
    /* the database stream */
    snprintf(src, sizeof src, "%s/%s", pos[0], l->db_file[0]);
    snprintf(dst, sizeof dst, "%s%s", tdir, JU_DBNAME);
    if (ju_copy_file(src, dst, false) < 0) {
        ju_error("restore", "%s: %s: %s", errno == ENOENT ? src : dst,
                 errno == ENOENT ? "JET_errFileNotFound (-1811)" : "JET_errDiskIO (-1022)",
                 strerror(errno));
        goto cleanup;
    }
    /* the logs of the label's range, into the scratch directory */
    snprintf(scratch, sizeof scratch, "%s%s/", tdir, SCRATCH);
    if (mkdir(scratch, 0755) < 0) {
        ju_error("restore", "%s: %s", scratch, strerror(errno));
        goto cleanup;
    }
    for (unsigned long g = l->gen_low; g <= l->gen_high; g++) {
        char name[64];
        if (jf_log_name(name, sizeof name, l->base, (uint32_t)g, (unsigned)l->legacy) < 0) {
            ju_error("restore", "%s: bad base name '%s'", pos[0], l->base);
            goto cleanup;
        }
        snprintf(src, sizeof src, "%s/%s", pos[0], name);
        snprintf(dst, sizeof dst, "%s%s", scratch, name);
        if (ju_copy_file(src, dst, false) < 0) {
            if (errno == ENOENT) continue; /* the engine reports the missing generation */
            ju_error("restore", "%s: JET_errDiskIO (-1022): %s", dst, strerror(errno));
            goto cleanup;
        }
    }
    /* hard recovery */
    snprintf(dst, sizeof dst, "%s%s", tdir, JU_DBNAME);
    snprintf(orig, sizeof orig, "%s", l->db_orig[0]);
    map[0].szDatabaseName = orig;
    map[0].szNewDatabaseName = dst;
    memset(&li, 0, sizeof li);
    li.cbSize = sizeof li;
    li.ulGenLow = l->gen_low;
    li.ulGenHigh = l->gen_high;
    memcpy(li.szBaseName, l->base, sizeof li.szBaseName);
    rc = JetExternalRestore2A(tdir, tdir, map, 1, scratch, &li, NULL, NULL, NULL, NULL);
    if (rc < 0) {
        char what[JU_PATH + 128];
        snprintf(what, sizeof what, "%s: hard recovery of logs 0x%lX-0x%lX", pos[0], l->gen_low,
                 l->gen_high);
        ju_jet_error("restore", what, rc);
        goto cleanup;
    }
    if (ju_rm_tree(scratch) < 0) {
        ju_error("restore", "%s: %s", scratch, strerror(errno));
        goto cleanup;
    }
    ju_settings_default(&st);
    st.page_size = l->page_size;
    if (l->log_kib) st.log_kib = l->log_kib;
    st.legacy = l->legacy;
    memcpy(st.base, l->base, sizeof st.base);
    if (ju_settings_write("restore", pos[1], &st) < 0) goto cleanup;
    printf("restored %s into %s: logs 0x%lX-0x%lX (%s backup", pos[0], pos[1], l->gen_low,
           l->gen_high, l->type);
    if (l->have_committed) printf(", committed_at_roll %llu", l->committed_at_roll);
    printf(")\n");
    status = 0;
    goto done;
cleanup:
    if (made) ju_rm_tree(pos[1]);
    else ju_rm_contents(pos[1]);
done:
    free(l);
    return status;
}
