/*
 * create.c -- `jetutil create DIR [--accounts N] [--page-size BYTES]
 * [--log-size KIB] [--record-size BYTES] [--checkpoint-kib KIB]`: a new instance directory holding
 * the bank database (every account starts with JU_INITIAL_BALANCE).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jetutil.h"

#define USAGE JU_USAGE_CREATE
#define BATCH_MAX 2000

/* Write a little-endian u64 at the start of record recno. */
static JET_ERR put(ju_bank *b, uint64_t recno, uint64_t v)
{
    uint8_t buf[8];
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
    return JetLibWriteRecord(b->ses, b->db, recno, buf, sizeof buf);
}

/* Create the database and fill it: shards 0, accounts, then the metadata
 * record in the last transaction (a crash before it leaves no magic, so a
 * half-created bank never verifies). */
static JET_ERR fill(ju_inst *ji, uint64_t accounts)
{
    /* a commit record holds whole-record after-images and must fit in one
     * log file: use at most half a log file per transaction */
    uint64_t per = 14 + ji->s.record_size, batch = ji->s.log_kib * 1024 / 2 / per;
    JET_ERR rc;
    ju_bank b;
    bool in_trx = false;
    uint64_t total = accounts * JU_INITIAL_BALANCE;

    memset(&b, 0, sizeof b);
    JCALL(JetBeginSession(ji->inst, &b.ses, NULL, NULL));
    b.have_ses = true;
    JCALL(JetCreateDatabase(b.ses, ji->dbpath, NULL, &b.db, 0));
    b.have_db = true;
    if (batch > BATCH_MAX)
        batch = BATCH_MAX;
    if (batch < JU_SHARDS + 1)
        batch = JU_SHARDS + 1;
    for (uint64_t i = 0, end; i < accounts; i = end) {
        uint64_t n = i == 0 ? batch - JU_SHARDS : batch; /* first: room for the shards */
        end = i + n < accounts ? i + n : accounts;
        JCALL(JetBeginTransaction(b.ses));
        in_trx = true;
        if (i == 0)
            for (unsigned s = 0; s < JU_SHARDS; s++)
                JCALL(put(&b, 1 + s, 0));
        for (uint64_t a = i; a < end; a++)
            JCALL(put(&b, 1 + JU_SHARDS + a, JU_INITIAL_BALANCE));
        JCALL(JetCommitTransaction(b.ses, JET_bitCommitLazyFlush));
        in_trx = false;
    }
    JCALL(JetBeginTransaction(b.ses));
    in_trx = true;
    {
        uint8_t meta[32];
        uint64_t f[4] = { JU_MAGIC, accounts, total, JU_SHARDS };
        for (int k = 0; k < 4; k++)
            for (int i = 0; i < 8; i++)
                meta[8 * k + i] = (uint8_t)(f[k] >> (8 * i));
        JCALL(JetLibWriteRecord(b.ses, b.db, 0, meta, sizeof meta));
    }
    JCALL(JetCommitTransaction(b.ses, 0));
    in_trx = false;
    rc = JET_errSuccess;
out:
    if (in_trx)
        JetRollback(b.ses, 0);
    ju_bank_close(&b);
    return rc;
}

/*
 * Parses argv: *dir is the directory to create, *accounts the number of
 * accounts (default 1000), *s the defaults with the options applied.
 * Returns true when the command is to run; false when it is to exit with
 * *status (0 after --help, JU_EXIT_USAGE after a message on stderr).
 */
static bool parse_create_args(int argc, char **argv, const char **dir, unsigned long *accounts,
                              ju_settings *s, int *status)
{
    const char *pos[1], *o_acc = NULL, *o_page = NULL, *o_log = NULL, *o_rec = NULL, *o_ckpt = NULL;
    ju_opt opts[] = {
        { "--accounts", true, &o_acc, NULL },        { "--page-size", true, &o_page, NULL },
        { "--log-size", true, &o_log, NULL },        { "--record-size", true, &o_rec, NULL },
        { "--checkpoint-kib", true, &o_ckpt, NULL }, { NULL, false, NULL, NULL },
    };
    int npos, r;

    *accounts = 1000;
    r = ju_parse(argc, argv, opts, pos, 1, &npos, USAGE);
    if (r) {
        *status = r > 0 ? 0 : JU_EXIT_USAGE;
        return false;
    }
    if (npos != 1) {
        fprintf(stderr, "jetutil create: DIR is required (usage: %s)\n", USAGE);
        *status = JU_EXIT_USAGE;
        return false;
    }
    ju_settings_default(s);
    if (o_acc && ju_parse_ulong("create", "--accounts", o_acc, 2, 1UL << 32, accounts) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_page) {
        if (ju_parse_ulong("create", "--page-size", o_page, 2048, 32768, &s->page_size) < 0) {
            *status = JU_EXIT_USAGE;
            return false;
        }
        if (s->page_size & (s->page_size - 1)) {
            ju_error("create", "--page-size: %lu is not one of 2048 4096 8192 16384 32768",
                     s->page_size);
            *status = JU_EXIT_USAGE;
            return false;
        }
    }
    if (o_log && ju_parse_ulong("create", "--log-size", o_log, 128, 1UL << 20, &s->log_kib) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_rec && ju_parse_ulong("create", "--record-size", o_rec, 32, 1024, &s->record_size) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    if (o_ckpt && ju_parse_ulong("create", "--checkpoint-kib", o_ckpt, 16, 1UL << 24,
                                 &s->checkpoint_kib) < 0) {
        *status = JU_EXIT_USAGE;
        return false;
    }
    *dir = pos[0];
    return true;
}

/*
 * Writes the settings s into the directory dir and creates and fills the
 * database there with `accounts` accounts.  Returns 0, or -1 after
 * printing one line (the directory then holds what was written).
 */
static int create_in(const char *dir, const ju_settings *s, unsigned long accounts)
{
    ju_inst ji;
    JET_ERR rc;

    if (ju_settings_write("create", dir, s) < 0)
        return -1;
    rc = ju_inst_open(&ji, dir, s);
    if (rc < 0) {
        ju_jet_error("create", dir, rc);
        return -1;
    }
    rc = fill(&ji, accounts);
    if (rc < 0) {
        ju_jet_error("create", ji.dbpath, rc);
        ju_inst_close(&ji);
        return -1;
    }
    rc = ju_inst_close(&ji);
    if (rc < 0) {
        ju_jet_error("create", "JetTerm", rc);
        return -1;
    }
    return 0;
}

/* Exit 0 on success; 1 on failure (DIR removed if we created it); 2 usage. */
int cmd_create(int argc, char **argv)
{
    const char *dir;
    int status = JU_EXIT_FAIL;
    unsigned long accounts;
    ju_settings s;
    bool existed = false, made = false;

    if (!parse_create_args(argc, argv, &dir, &accounts, &s, &status))
        return status;
    if (ju_dir_absent_or_empty(dir, &existed) < 0) {
        ju_error("create", "%s: %s (DIR must not exist or be empty)", dir, strerror(errno));
        return JU_EXIT_FAIL;
    }
    if (!existed) {
        if (mkdir(dir, 0755) < 0) {
            ju_error("create", "%s: %s", dir, strerror(errno));
            return JU_EXIT_FAIL;
        }
        made = true;
    }
    if (create_in(dir, &s, accounts) < 0)
        goto out;
    printf("created %s: %lu accounts, total %llu, page size %lu, log size %lu KiB\n", dir, accounts,
           (unsigned long long)accounts * JU_INITIAL_BALANCE, s.page_size, s.log_kib);
    status = 0;
out:
    if (status != 0) {
        /* leave nothing half-made behind */
        if (made)
            ju_rm_tree(dir);
        else
            ju_rm_contents(dir);
    }
    return status;
}
