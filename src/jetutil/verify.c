/*
 * verify.c -- `jetutil verify DIR`: offline header checks of the
 * checkpoint, current log and database (nothing is touched when one is
 * damaged), soft recovery through JetInit, the bank invariant (sum of the
 * balances == initial total) read through the engine, clean JetTerm, then
 * JetLibVerifyDatabaseFile over every page.  Prints `transfers N`; exit 0
 * only when every check holds.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "jetfmt.h"
#include "jetutil.h"

#define USAGE JU_USAGE_VERIFY
/* Header checks before recovery: missing database, damaged database,
 * checkpoint or current log headers.  Prints and returns the error. */
static JET_ERR preflight(const char *dir, const ju_settings *s)
{
    char path[JU_PATH], name[64];
    struct stat st;
    JET_ERR rc;
    jf_dbhdr dh;
    jf_chk *chk = NULL;
    jf_loghdr *lh = NULL;

    snprintf(path, sizeof path, "%s/%s", dir, JU_DBNAME);
    rc = ju_check_db_header(path, &dh);
    if (rc < 0)
        goto bad;
    if (jf_chk_name(name, sizeof name, s->base, (unsigned)s->legacy) < 0)
        return JET_errInvalidName;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) == 0) {
        chk = malloc(sizeof *chk);
        if (!chk)
            return JET_errOutOfMemory;
        rc = ju_check_checkpoint(path, chk);
        free(chk);
        if (rc < 0)
            goto bad;
    }
    if (jf_cur_log_name(name, sizeof name, s->base, (unsigned)s->legacy) < 0)
        return JET_errInvalidName;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (stat(path, &st) == 0) {
        lh = malloc(sizeof *lh);
        if (!lh)
            return JET_errOutOfMemory;
        rc = ju_check_log_header(path, lh);
        free(lh);
        if (rc < 0)
            goto bad;
    }
    return JET_errSuccess;
bad:
    ju_jet_error("verify", path, rc);
    return rc;
}

/*
 * Parses argv: *dir is the instance directory.  Returns true when the
 * command is to run; false when it is to exit with *status (0 after
 * --help, JU_EXIT_USAGE after a message on stderr).  No locking.
 */
static bool parse_verify_args(int argc, char **argv, const char **dir, int *status)
{
    const char *pos[1];
    ju_opt opts[] = { { NULL, false, NULL, NULL } };
    int npos, r;

    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos != 1) {
        fprintf(stderr, "jetutil verify: DIR is required (usage: %s)\n", USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    *dir = pos[0];
    return true;
}

/* The bank's figures as verify reads them. */
struct verify_sums {
    uint64_t transfers;
    uint64_t balances;
    uint64_t total;
    uint64_t accounts;
};

/*
 * Reads the bank of the open instance ji into *v and closes it.  Returns
 * 0, or the JET_ERR of opening or summing the bank after printing it.
 * No locking: verify is single-threaded.
 */
static JET_ERR verify_bank(ju_inst *ji, struct verify_sums *v)
{
    ju_bank b;
    JET_ERR rc;

    memset(&b, 0, sizeof b);
    rc = ju_bank_open(ji, &b);
    if (rc < 0) {
        ju_jet_error("verify", ji->dbpath, rc);
        goto out;
    }
    v->accounts = b.accounts;
    v->total = b.total;
    rc = ju_bank_sums(&b, &v->transfers, &v->balances);
    if (rc < 0) {
        ju_jet_error("verify", ji->dbpath, rc);
        goto out;
    }
out:
    ju_bank_close(&b);
    return rc;
}

/*
 * Detaches the database of ji in a session of its own.  Returns 0, or the
 * JET_ERR of JetBeginSession or JetDetachDatabase after printing it.
 */
static JET_ERR verify_detach(ju_inst *ji)
{
    JET_SESID ses;
    JET_ERR rc;

    rc = JetBeginSession(ji->inst, &ses, NULL, NULL);
    if (rc >= 0) {
        rc = JetDetachDatabase(ses, ji->dbpath);
        JetEndSession(ses, 0);
    }
    if (rc < 0)
        ju_jet_error("verify", ji->dbpath, rc);
    return rc;
}

/* Exit 0 when recovery, the invariant and every page check pass. */
int cmd_verify(int argc, char **argv)
{
    const char *dir;
    int status = JU_EXIT_FAIL;
    ju_settings s;
    ju_inst ji;
    bool inst_open = false;
    JET_ERR rc;
    struct verify_sums v = { 0, 0, 0, 0 };
    unsigned long long cpages = 0, badpg = 0;

    if (!parse_verify_args(argc, argv, &dir, &status))
        return status;
    if (ju_settings_read("verify", dir, &s) < 0)
        return JU_EXIT_FAIL;
    if (preflight(dir, &s) < 0)
        return JU_EXIT_FAIL;
    rc = ju_inst_open(&ji, dir, &s);
    if (rc < 0) {
        char what[JU_PATH + 64];
        snprintf(what, sizeof what, "%s: soft recovery (JetInit)", dir);
        ju_jet_error("verify", what, rc);
        return JU_EXIT_FAIL;
    }
    inst_open = true;
    rc = verify_bank(&ji, &v);
    if (rc < 0)
        goto out;
    rc = verify_detach(&ji);
    if (rc < 0)
        goto out;
    inst_open = false;
    rc = ju_inst_close(&ji);
    if (rc < 0) {
        ju_jet_error("verify", "JetTerm", rc);
        goto out;
    }
    rc = JetLibVerifyDatabaseFile(ji.dbpath, &cpages, &badpg);
    if (rc < 0) {
        char what[JU_PATH + 64];
        snprintf(what, sizeof what, "%s: page %llu", ji.dbpath, badpg);
        ju_jet_error("verify", what, rc);
        goto out;
    }
    printf("pages %llu\naccounts %llu\ntotal %llu\nbalances %llu\ntransfers %llu\n", cpages,
           (unsigned long long)v.accounts, (unsigned long long)v.total,
           (unsigned long long)v.balances, (unsigned long long)v.transfers);
    if (v.balances != v.total) {
        ju_error("verify", "%s: bank invariant violated: balances sum to %llu, expected %llu",
                 ji.dbpath, (unsigned long long)v.balances, (unsigned long long)v.total);
        goto out;
    }
    printf("ok\n");
    status = 0;
out:
    if (inst_open)
        ju_inst_close(&ji);
    return status;
}
