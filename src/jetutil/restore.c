/*
 * restore.c -- `jetutil restore [--check] BACKUPDIR [INCRDIR...] TARGETDIR`:
 * hard recovery of a backup into a new instance directory with
 * JetExternalRestore2A (spec section 7.2/7.4).
 *
 * BACKUPDIR is a jetutil backup directory (jetutil-backup.label) or a copy
 * of an esebackupfs mount (backup_label, database stream(s), logs/,
 * manifest; read through bkformat.h, docs/formats.md).  Each INCRDIR is a copy of a later
 * incremental esebackupfs mount; its logs extend the range (the highest
 * generation wins; a generation present in several sets is taken from
 * the last one).  An incremental copied over a full one into the same
 * directory replaces the full's label and manifest, so that layout is
 * refused with a message saying to keep one directory per mount.
 *
 * Order: every set is loaded; TARGETDIR must not exist or be empty; every
 * file a manifest lists is verified (size, SHA-256) and every log of the
 * range must be listed -- all before anything is written.  Then the
 * database stream is copied to TARGETDIR/bank.edb, the logs LOW..HIGH into
 * the scratch directory TARGETDIR/restore-logs (the backup directories are
 * never written: hard recovery may delete logs in its backup log path),
 * then JetExternalRestore2A(TARGETDIR, TARGETDIR, map {original path ->
 * TARGETDIR/bank.edb}, TARGETDIR/restore-logs, loginfo).  The scratch
 * directory is removed and DIR/jetutil.conf written, so the result passes
 * `jetutil verify`.  On failure everything created in TARGETDIR is
 * removed.  --check stops after the verification (no TARGETDIR).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "backup.h"

#define USAGE JU_USAGE_RESTORE
#define SCRATCH "restore-logs"

/* Where the restore takes each log generation from. */
typedef struct rs_plan {
    unsigned long lo, hi; /* generation range to replay */
    int *src;             /* per generation lo..hi: set index, -1 = absent */
    bool have_committed;
    unsigned long long committed;
} rs_plan;

/* True when the set holds log generation g (listed in its manifest, or,
 * for a jetutil layout, present on disk). */
static bool set_has_log(const bkf_set *s, unsigned long g)
{
    char rel[320], path[JU_PATH + 400];
    struct stat st;

    if (bkf_set_log_rel(s, g, rel, sizeof rel) < 0)
        return false;
    if (s->esefs)
        return bkf_set_find(s, rel) != NULL;
    snprintf(path, sizeof path, "%s/%s", s->dir, rel);
    return stat(path, &st) == 0;
}

/* First regular file at the top of an esebackupfs copy other than its
 * label and manifest (a database left by an earlier full copy), as a
 * malloc'ed name, or NULL. */
static const char *top_level_extra(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *name = NULL;

    if (!d)
        return NULL;
    while (!name && (de = readdir(d)) != NULL) {
        char path[JU_PATH + 512];
        struct stat st;
        if (!strcmp(de->d_name, BKF_LABEL_NAME) || !strcmp(de->d_name, BKF_MANIFEST_NAME))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            name = strdup(de->d_name);
    }
    closedir(d);
    return name;
}

/* Check that the first set b holds exactly one database stream.
 * 0, or -1 after printing one line. */
static int plan_check_first(const char *cmd, const bkf_set *b)
{
    if (b->l.ndb == 0) {
        const char *extra = b->esefs ? top_level_extra(b->dir) : NULL;
        if (extra)
            ju_error(cmd,
                     "%s: an incremental copy was copied over a full one (%s is listed in no "
                     "manifest: the incremental's backup_label and manifest replaced the "
                     "full's); keep one directory per mount and give them in order: %s",
                     b->dir, extra, USAGE);
        else
            ju_error(cmd,
                     "%s: an %s backup has no database stream; give the full backup's "
                     "directory first: %s",
                     b->dir, b->l.type, USAGE);
        free((void *)extra);
        return -1;
    }
    if (b->l.ndb != 1) {
        ju_error(cmd, "%s: the label lists %u databases; a jetutil instance has exactly one",
                 b->dir, b->l.ndb);
        return -1;
    }
    return 0;
}

/* Check that every set continues the first one (no later database stream,
 * same instance) and widen p's range and committed counter to them; sets
 * with a manifest set *any_fs.  0, or -1 after printing one line. */
static int plan_check_sets(const char *cmd, const bkf_set *sets, int nsets, rs_plan *p,
                           bool *any_fs)
{
    const bkf_set *b = &sets[0];

    for (int i = 0; i < nsets; i++) {
        const bkf_set *s = &sets[i];
        *any_fs |= s->esefs;
        if (i > 0 && s->l.ndb > 0) {
            ju_error(cmd,
                     "%s: holds a database stream; only the first directory may be a full "
                     "backup (later ones are incremental copies)",
                     s->dir);
            return -1;
        }
        if (strcmp(s->l.base, b->l.base) != 0 || s->l.page_size != b->l.page_size ||
            s->l.legacy != b->l.legacy) {
            ju_error(cmd,
                     "%s: log base name, page size or file names differ from %s's: not "
                     "the same instance",
                     s->dir, b->dir);
            return -1;
        }
        if (s->l.gen_high > p->hi)
            p->hi = s->l.gen_high;
        if (s->l.have_committed) {
            p->have_committed = true;
            p->committed = s->l.committed_at_roll;
        }
    }
    return 0;
}

/* Fill p->src (allocated here) with the last set holding each generation
 * of p's range, -1 for none; a generation in none is an error when any_fs.
 * 0, or -1 after printing one line (p->src then NULL). */
static int plan_map_logs(const char *cmd, bkf_set *sets, int nsets, bool any_fs, rs_plan *p)
{
    p->src = malloc((p->hi - p->lo + 1) * sizeof *p->src);
    if (!p->src) {
        ju_error(cmd, "%s", strerror(ENOMEM));
        return -1;
    }
    for (unsigned long g = p->lo; g <= p->hi; g++) {
        int k = -1;
        for (int i = nsets - 1; i >= 0 && k < 0; i--)
            if (set_has_log(&sets[i], g))
                k = i;
        p->src[g - p->lo] = k;
        if (k < 0 && any_fs) {
            /* the manifests are authoritative: name the missing file */
            char rel[320];
            int i = nsets - 1;
            while (i > 0 && sets[i].l.gen_low > g)
                i--;
            if (bkf_set_log_rel(&sets[i], g, rel, sizeof rel) < 0)
                rel[0] = '\0';
            ju_error(cmd,
                     "%s/%s: log generation %lu (0x%lX) of the range %lu-%lu is in no backup "
                     "directory: %s (-528)",
                     sets[i].dir, rel, g, g, p->lo, p->hi, JetLibErrorName(JET_errMissingLogFile));
            free(p->src);
            p->src = NULL;
            return -1;
        }
        /* jetutil layout: the engine reports the missing generation */
    }
    return 0;
}

/* Check that the sets fit together and choose a source per generation.
 * A generation in no set is an error when strict or when a manifest is
 * involved (otherwise the engine reports it during the restore).
 * 0, or -1 after printing one line (nothing written). */
static int plan_build(const char *cmd, bkf_set *sets, int nsets, bool strict, rs_plan *p)
{
    const bkf_set *b = &sets[0];
    bool any_fs = strict;

    memset(p, 0, sizeof *p);
    if (plan_check_first(cmd, b) < 0)
        return -1;
    p->lo = b->l.gen_low;
    p->hi = b->l.gen_high;
    if (plan_check_sets(cmd, sets, nsets, p, &any_fs) < 0)
        return -1;
    return plan_map_logs(cmd, sets, nsets, any_fs, p);
}

/* Does directory a (dev, ino) equal the stat of path?  Missing = no. */
static bool same_dir(const struct stat *a, const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_dev == a->st_dev && st.st_ino == a->st_ino;
}

/* Is the directory whose stat is `d` the directory `real` (an absolute
 * real path) or one of its ancestors?  Walks real up to "/" comparing
 * device and inode, so bind mounts and hard-linked paths are seen through.
 * *depth = 0 for real itself, >0 for an ancestor. */
static bool is_self_or_ancestor(const struct stat *d, const char *real, int *depth)
{
    char p[JU_PATH];

    snprintf(p, sizeof p, "%s", real);
    for (*depth = 0;; (*depth)++) {
        char *slash;
        if (same_dir(d, p[0] ? p : "/"))
            return true;
        slash = strrchr(p, '/');
        if (!slash || p[0] == '\0')
            return false;
        *slash = '\0';
    }
}

/* Refuse a TARGETDIR that is a backup directory, lies inside one, or
 * contains one: restore never writes into a backup directory (hard
 * recovery may delete logs in its log path, and a copy must stay as it was
 * verified).  The target's real path (realpath of the target, or of its
 * parent when it does not exist yet: symlinks and ".." resolved) is
 * compared by device and inode with every backup directory.  0, or -1
 * after printing one line.  Nothing is written. */
static int check_target_outside(const char *cmd, const bkf_set *sets, int nsets, const char *target)
{
    char t[JU_PATH], real[JU_PATH + 8], *r = NULL, *slash;
    struct stat tst;
    bool texists;
    int rc = -1, depth;

    if (strlen(target) >= sizeof t) {
        ju_error(cmd, "%s: path too long", target);
        return -1;
    }
    snprintf(t, sizeof t, "%s", target);
    for (size_t n = strlen(t); n > 1 && t[n - 1] == '/'; n--)
        t[n - 1] = '\0';
    texists = stat(t, &tst) == 0;
    r = realpath(t, NULL);
    if (r) {
        snprintf(real, sizeof real, "%s", r);
    } else {
        /* not there yet: the real path of its parent + its last name */
        slash = strrchr(t, '/');
        if (slash == t)
            r = realpath("/", NULL);
        else if (slash) {
            *slash = '\0';
            r = realpath(t, NULL);
            *slash = '/';
        } else
            r = realpath(".", NULL);
        if (!r)
            return 0; /* no parent: mkdir reports it */
        snprintf(real, sizeof real, "%s", r);
    }
    for (int i = 0; i < nsets; i++) {
        struct stat bst;
        char *breal;
        if (stat(sets[i].dir, &bst) < 0)
            continue;
        if (is_self_or_ancestor(&bst, real, &depth)) {
            if (depth == 0 && r && texists)
                ju_error(cmd,
                         "TARGETDIR %s is the backup directory %s: restore never writes "
                         "inside the backup directory",
                         target, sets[i].dir);
            else
                ju_error(cmd,
                         "TARGETDIR %s is inside the backup directory %s (restore never "
                         "writes there); give a target outside it",
                         target, sets[i].dir);
            goto out;
        }
        breal = texists ? realpath(sets[i].dir, NULL) : NULL;
        if (breal && is_self_or_ancestor(&tst, breal, &depth)) {
            ju_error(cmd,
                     "TARGETDIR %s contains the backup directory %s (restore never writes "
                     "there); give a target outside it",
                     target, sets[i].dir);
            free(breal);
            goto out;
        }
        free(breal);
    }
    rc = 0;
out:
    free(r);
    return rc;
}

/* A source file of the restore must be a regular file (stat, which never
 * blocks; a missing file is reported later, as before).  0, or -1 after
 * printing one line.  The copy itself opens with O_NONBLOCK and checks
 * again (ju_copy_file), so a file replaced meanwhile cannot block it. */
static int check_source(const char *cmd, const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0 || S_ISREG(st.st_mode))
        return 0;
    ju_error(cmd, "%s: %s, not a regular file", path, ju_file_kind(st.st_mode));
    return -1;
}

/* check_source for every file the restore will copy: the first set's
 * database stream and each planned log.  0 or -1 (printed). */
static int check_sources(const char *cmd, const bkf_set *sets, const rs_plan *p)
{
    char path[JU_PATH + 512], rel[320];

    snprintf(path, sizeof path, "%s/%s", sets[0].dir, bkf_set_db_rel(&sets[0], 0));
    if (check_source(cmd, path) < 0)
        return -1;
    for (unsigned long g = p->lo; g <= p->hi; g++) {
        int k = p->src[g - p->lo];
        if (k < 0 || bkf_set_log_rel(&sets[k], g, rel, sizeof rel) < 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", sets[k].dir, rel);
        if (check_source(cmd, path) < 0)
            return -1;
    }
    return 0;
}

/* Copy the database and the planned logs into tdir and run hard recovery.
 * tdir is absolute with a trailing '/'.  0, or -1 after printing one line
 * (the caller cleans TARGETDIR). */
static int do_restore(const char *cmd, const bkf_set *sets, const rs_plan *p, const char *tdir,
                      unsigned long *plog_kib)
{
    const bkf_set *b = &sets[0];
    char scratch[JU_PATH + 64], src[JU_PATH + 512], dst[JU_PATH + 512], orig[JU_PATH];
    JET_RSTMAP_A map[1];
    JET_LOGINFO_A li;
    JET_ERR rc;

    snprintf(src, sizeof src, "%s/%s", b->dir, bkf_set_db_rel(b, 0));
    snprintf(dst, sizeof dst, "%s%s", tdir, JU_DBNAME);
    if (ju_copy_file(src, dst, false) < 0) {
        ju_error(cmd, "%s: %s: %s", errno == ENOENT ? src : dst,
                 errno == ENOENT ? "JET_errFileNotFound (-1811)" : "JET_errDiskIO (-1022)",
                 strerror(errno));
        return -1;
    }
    snprintf(scratch, sizeof scratch, "%s%s/", tdir, SCRATCH);
    if (mkdir(scratch, 0755) < 0) {
        ju_error(cmd, "%s: %s", scratch, strerror(errno));
        return -1;
    }
    for (unsigned long g = p->lo; g <= p->hi; g++) {
        int k = p->src[g - p->lo];
        char rel[320];
        const char *name;
        struct stat st;
        if (k < 0)
            continue; /* jetutil layout: the engine reports the missing generation */
        if (bkf_set_log_rel(&sets[k], g, rel, sizeof rel) < 0) {
            ju_error(cmd, "%s: bad base name '%s'", sets[k].dir, sets[k].l.base);
            return -1;
        }
        name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        snprintf(src, sizeof src, "%s/%s", sets[k].dir, rel);
        snprintf(dst, sizeof dst, "%s%s", scratch, name);
        if (ju_copy_file(src, dst, false) < 0) {
            if (errno == ENOENT && !sets[k].esefs)
                continue;
            ju_error(cmd, "%s: JET_errDiskIO (-1022): %s", errno == ENOENT ? src : dst,
                     strerror(errno));
            return -1;
        }
        if (!*plog_kib && stat(dst, &st) == 0)
            *plog_kib = (unsigned long)(st.st_size / 1024);
    }
    snprintf(dst, sizeof dst, "%s%s", tdir, JU_DBNAME);
    snprintf(orig, sizeof orig, "%s", b->l.db_orig[0]);
    map[0].szDatabaseName = orig;
    map[0].szNewDatabaseName = dst;
    memset(&li, 0, sizeof li);
    li.cbSize = sizeof li;
    li.ulGenLow = p->lo;
    li.ulGenHigh = p->hi;
    memcpy(li.szBaseName, b->l.base, sizeof li.szBaseName);
    rc = JetExternalRestore2A((char *)tdir, (char *)tdir, map, 1, scratch, &li, NULL, NULL, NULL,
                              NULL);
    if (rc < 0) {
        char what[JU_PATH + 128];
        snprintf(what, sizeof what, "%s: hard recovery of logs 0x%lX-0x%lX", b->dir, p->lo, p->hi);
        ju_jet_error(cmd, what, rc);
        return -1;
    }
    if (ju_rm_tree(scratch) < 0) {
        ju_error(cmd, "%s: %s", scratch, strerror(errno));
        return -1;
    }
    return 0;
}

/* Load every backup directory through bkformat; *ploaded counts the
 * loaded sets (to free).  0, or -1 after one line. */
static int load_sets(const char *const *dirs, int nsets, bkf_set *sets, int *ploaded)
{
    char err[JU_PATH + 1024];

    for (*ploaded = 0; *ploaded < nsets; (*ploaded)++) {
        if (bkf_set_load(dirs[*ploaded], &sets[*ploaded], err, sizeof err) < 0) {
            ju_error("restore", "%s", err);
            return -1;
        }
    }
    return 0;
}

/* Verify every set against its manifests; *pn += files checked.  0, or
 * -1 after one line naming the first bad file. */
static int verify_sets(const bkf_set *sets, int nsets, long *pn)
{
    char err[JU_PATH + 1024];

    for (int i = 0; i < nsets; i++) {
        long n = bkf_set_verify(&sets[i], err, sizeof err);
        if (n < 0) {
            ju_error("restore", "%s", err);
            return -1;
        }
        *pn += n;
    }
    return 0;
}

/* TARGET/jetutil.conf for the restored instance, from the full's label. */
static int restore_settings(const char *target, const bkf_set *b, unsigned long log_kib)
{
    ju_settings st;

    ju_settings_default(&st);
    st.page_size = b->l.page_size;
    if (log_kib)
        st.log_kib = log_kib;
    st.legacy = b->l.legacy;
    memcpy(st.base, b->l.base, sizeof st.base);
    return ju_settings_write("restore", target, &st);
}

/* The one success line of a restore. */
static void report_restored(const char *first, const char *target, const bkf_set *sets, int nsets,
                            const rs_plan *p, long nverified)
{
    printf("restored %s", first);
    if (nsets > 1)
        printf(" + %d incremental%s", nsets - 1, nsets > 2 ? "s" : "");
    printf(" into %s: logs 0x%lX-0x%lX (%s backup", target, p->lo, p->hi, sets[nsets - 1].l.type);
    if (p->have_committed)
        printf(", committed_at_roll %llu", p->committed);
    if (nverified)
        printf(", %ld files verified against the manifest", nverified);
    printf(")\n");
}

/* The parsed command line of `jetutil restore`. */
struct restore_opts {
    const char *pos[BK_MAX_SETS + 1];
    int nsets;          /* backup directories: pos[0 .. nsets-1] */
    const char *target; /* NULL with --check */
    bool check;
};

/* Parse argv into *o.  true when the command is to run; false when it is
 * to exit with *status (0 after --help, JU_EXIT_USAGE after a message on
 * stderr). */
static bool parse_restore_args(int argc, char **argv, struct restore_opts *o, int *status)
{
    ju_opt opts[] = { { "--check", false, NULL, &o->check }, { NULL, false, NULL, NULL } };
    int npos = 0, r;

    o->check = false;
    o->target = NULL;
    r = ju_parse(argc, argv, opts, o->pos, BK_MAX_SETS + 1, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos < (o->check ? 1 : 2)) {
        fprintf(stderr, "jetutil restore: %s are required (usage: %s)\n",
                o->check ? "BACKUPDIR" : "BACKUPDIR and TARGETDIR", USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    o->nsets = o->check ? npos : npos - 1;
    if (o->nsets > BK_MAX_SETS) {
        fprintf(stderr, "jetutil restore: at most %d backup directories (usage: %s)\n", BK_MAX_SETS,
                USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (!o->check)
        o->target = o->pos[npos - 1];
    return true;
}

/* Steps 1-3 of a restore, read-only: load the sets into sets (*loaded of
 * them to free), plan into *plan, check the target (*existed: it exists,
 * empty) and verify every copied file (*nverified of them).  0, or -1
 * after printing one line. */
static int restore_prepare(const struct restore_opts *o, bkf_set *sets, int *loaded, rs_plan *plan,
                           bool *existed, long *nverified)
{
    /* 1. read every set and plan (read-only); the target is outside every
     * backup directory; every source is a regular file */
    if (load_sets(o->pos, o->nsets, sets, loaded) < 0)
        return -1;
    if (o->target && check_target_outside("restore", sets, o->nsets, o->target) < 0)
        return -1;
    if (plan_build("restore", sets, o->nsets, o->check, plan) < 0)
        return -1;
    if (check_sources("restore", sets, plan) < 0)
        return -1;
    /* 2. the target must be usable before the (long) verification */
    if (o->target && ju_dir_absent_or_empty(o->target, existed) < 0) {
        ju_error("restore", "%s: %s (TARGETDIR must not exist or be empty)", o->target,
                 strerror(errno));
        return -1;
    }
    /* 3. verify every copied file against its manifest (read-only) */
    return verify_sets(sets, o->nsets, nverified);
}

/* Step 4: restore the planned sets into o->target (created unless
 * existed) and report it.  0, or -1 after printing one line, the target
 * then removed (made here) or emptied. */
static int restore_into(const struct restore_opts *o, bkf_set *sets, const rs_plan *plan,
                        bool existed, long nverified)
{
    const char *target = o->target;
    bool made = false;
    char tdir[JU_PATH];
    unsigned long log_kib;
    int rc = -1;

    if (!existed) {
        if (mkdir(target, 0755) < 0) {
            ju_error("restore", "%s: %s", target, strerror(errno));
            return -1;
        }
        made = true;
    }
    if (ju_absdir(target, tdir, sizeof tdir - 64) < 0) {
        ju_error("restore", "%s: %s", target, strerror(errno));
        goto out;
    }
    log_kib = sets[0].l.log_kib;
    if (do_restore("restore", sets, plan, tdir, &log_kib) < 0)
        goto out;
    if (restore_settings(target, &sets[0], log_kib) < 0)
        goto out;
    report_restored(o->pos[0], target, sets, o->nsets, plan, nverified);
    rc = 0;
out:
    if (rc < 0 && made)
        ju_rm_tree(target);
    else if (rc < 0)
        ju_rm_contents(target);
    return rc;
}

/* Exit 0 when restored (or, with --check, verified); 1 with one error line
 * (target as it was); 2 usage. */
int cmd_restore(int argc, char **argv)
{
    struct restore_opts o;
    bool existed = false;
    int loaded = 0, status = JU_EXIT_FAIL;
    bkf_set *sets = NULL;
    rs_plan plan = { 0 };
    long nverified = 0;

    if (!parse_restore_args(argc, argv, &o, &status))
        return status;
    sets = calloc((size_t)o.nsets, sizeof *sets);
    if (!sets) {
        ju_error("restore", "%s", strerror(ENOMEM));
        return JU_EXIT_FAIL;
    }
    if (restore_prepare(&o, sets, &loaded, &plan, &existed, &nverified) < 0)
        goto out;
    if (o.check) {
        printf(
            "verified %s: %ld files match their manifests; logs %lu-%lu (0x%lX-0x%lX) complete\n",
            o.pos[0], nverified, plan.lo, plan.hi, plan.lo, plan.hi);
        if (!nverified)
            printf("(a jetutil backup directory has no manifest: only the presence of the files "
                   "was checked)\n");
        status = 0;
        goto out;
    }
    /* 4. restore */
    if (restore_into(&o, sets, &plan, existed, nverified) < 0)
        goto out;
    status = 0;
out:
    for (int i = 0; i < loaded && i < o.nsets; i++)
        bkf_set_free(&sets[i]);
    free(plan.src);
    free(sets);
    return status;
}
