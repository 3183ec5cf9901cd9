/*
 * test_bkformat.c -- Check unit tests of the backup-directory format
 * (include/bkformat.h): writer -> reader round trip of an esebackupfs copy
 * and of jetutil's label, sha256sum --strict on what the writer made,
 * version-1 copies still read, unknown versions, malformed lines and
 * missing fields refused with one FILE:LINE error, log names.
 */
#include "config.h"
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "bkformat.h"
#include "harness.h"

static char dir[64];
static char err[8192];

static void setup(void)
{
    ck_assert_int_eq(th_tmpdir(dir, sizeof dir, "test_bkformat"), 0);
    err[0] = 0;
}

static void teardown(void)
{
    ck_assert_int_eq(th_rm_tree(dir), 0);
}

/* Write DIR/rel with text (len bytes). */
static void put_file(const char *rel, const void *text, size_t len)
{
    char path[256];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void put_str(const char *rel, const char *text)
{
    put_file(rel, text, strlen(text));
}

/* A 64 KiB file of byte b; its SHA-256 into sha. */
static void put_data(const char *rel, int b, unsigned char sha[32])
{
    static unsigned char buf[65536];
    memset(buf, b, sizeof buf);
    put_file(rel, buf, sizeof buf);
    ck_assert_int_eq(EVP_Digest(buf, sizeof buf, sha, NULL, EVP_sha256(), NULL), 1);
}

/* Lay out a version-2 esebackupfs copy of a full backup: bank.edb, logs
 * 10-11 (legacy names 3: edb0000A.log), both manifests, the label. */
static void write_v2_copy(void)
{
    unsigned char sdb[32], sl[2][32], slm[32];
    const char *dbs[] = { "/srv/inst/bank.edb" };
    bkf_mfile logs[2] = {
        { .name = "edb0000A.log", .is_log = true, .size = 65536, .sha = sl[0] },
        { .name = "edb0000B.log", .is_log = true, .size = 65536, .sha = sl[1] },
    };
    bkf_mfile db[1] = { { .name = "bank.edb", .is_log = false, .size = 65536, .sha = sdb } };
    bkf_fslabel l = { .start_time = "2026-01-01T00:00:00Z",
                      .source = "endpoint /run/x",
                      .backend = "endpoint",
                      .instance = "i",
                      .backup_type = "full",
                      .page_size = 4096,
                      .base_name = "edb",
                      .legacy = 3,
                      .truncate = "never",
                      .spool_policy = "keep",
                      .databases = dbs,
                      .ndb = 1 };
    bkf_manifest lm = { .logs = true,
                        .gen_low = 10,
                        .gen_high = 11,
                        .have_committed = true,
                        .committed_at_roll = 77,
                        .files = logs,
                        .nfiles = 2 };
    bkf_manifest rm = { .logs = false,
                        .start_time = "2026-01-01T00:00:00Z",
                        .backup_type = "full",
                        .files = db,
                        .nfiles = 1,
                        .logman_sha = slm };
    char path[128], *s = NULL;
    size_t n = 0;

    snprintf(path, sizeof path, "%s/logs", dir);
    ck_assert_int_eq(mkdir(path, 0755), 0);
    put_data("bank.edb", 1, sdb);
    put_data("logs/edb0000A.log", 2, sl[0]);
    put_data("logs/edb0000B.log", 3, sl[1]);
    ck_assert_int_eq(bkf_fslabel_text(&l, &s, &n), 0);
    put_file("backup_label", s, n);
    free(s);
    ck_assert_int_eq(bkf_manifest_text(&lm, &s, &n), 0);
    ck_assert_int_eq(EVP_Digest(s, n, slm, NULL, EVP_sha256(), NULL), 1);
    put_file("logs/manifest", s, n);
    free(s);
    ck_assert_int_eq(bkf_manifest_text(&rm, &s, &n), 0);
    put_file("manifest", s, n);
    free(s);
}

/* Load dir expecting failure; the error must contain want. */
static void load_fails(const char *want)
{
    bkf_set st;
    ck_assert_int_eq(bkf_set_load(dir, &st, err, sizeof err), -1);
    ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
    ck_assert_ptr_null(strchr(err, '\n'));
}

/* Replace the first line of DIR/rel starting with `from` by `to`. */
static void edit_line(const char *rel, const char *from, const char *to)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "sed -i '0,/^%s/s/^%s.*/%s/' '%s/%s'", from, from, to, dir, rel);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(round_trip_esefs)
{
    bkf_set st;
    write_v2_copy();
    ck_assert_msg(bkf_set_load(dir, &st, err, sizeof err) == 0, "%s", err);
    ck_assert(st.esefs);
    ck_assert_uint_eq(st.l.version, 2);
    ck_assert_str_eq(st.l.type, "full");
    ck_assert_uint_eq(st.l.page_size, 4096);
    ck_assert_str_eq(st.l.base, "edb");
    ck_assert(st.l.have_legacy);
    ck_assert_uint_eq(st.l.legacy, 3);
    ck_assert_uint_eq(st.l.ndb, 1);
    ck_assert_str_eq(st.l.db_orig[0], "/srv/inst/bank.edb");
    ck_assert_str_eq(bkf_set_db_rel(&st, 0), "bank.edb");
    ck_assert_uint_eq(st.l.gen_low, 10);
    ck_assert_uint_eq(st.l.gen_high, 11);
    ck_assert(st.l.have_committed);
    ck_assert_uint_eq(st.l.committed_at_roll, 77);
    ck_assert_uint_eq(st.l.log_kib, 64);
    ck_assert_int_eq(bkf_set_verify(&st, err, sizeof err), 4);
    bkf_set_free(&st);
}
END_TEST

/* A copy made by the Windows backends records the database path as the
 * engine reports it (C:\dir\bank.edb, \\server\share\x.edb): it loads,
 * the file is the last component; a relative Windows path is refused. */
START_TEST(windows_database_path)
{
    bkf_set st;
    write_v2_copy();
    edit_line("backup_label", "database:", "database: C:\\\\esefs\\\\bank.edb");
    ck_assert_msg(bkf_set_load(dir, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(st.l.db_orig[0], "C:\\esefs\\bank.edb");
    ck_assert_str_eq(bkf_set_db_rel(&st, 0), "bank.edb");
    bkf_set_free(&st);
    edit_line("backup_label", "database:", "database: \\\\\\\\srv\\\\s\\\\bank.edb");
    ck_assert_msg(bkf_set_load(dir, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(bkf_set_db_rel(&st, 0), "bank.edb");
    bkf_set_free(&st);
    edit_line("backup_label", "database:", "database: esefs\\\\bank.edb");
    load_fails("backup_label:");
}
END_TEST

START_TEST(sha256sum_strict)
{
    char cmd[256];
    write_v2_copy();
    snprintf(cmd, sizeof cmd, "cd '%s' && sha256sum -c --strict --quiet manifest logs/manifest",
             dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(version1_copy_reads)
{
    bkf_set st;
    write_v2_copy();
    /* what main wrote before the version line: no format/version lines,
     * no legacy-file-names (inferred from the listed log names) */
    edit_line("backup_label", "format: ", "# no format line");
    edit_line("backup_label", "legacy-file-names: ", "# no legacy line");
    edit_line("manifest", "# esebackupfs-manifest ", "# esebackupfs manifest");
    edit_line("logs/manifest", "# esebackupfs-manifest ", "# esebackupfs log manifest");
    ck_assert_msg(bkf_set_load(dir, &st, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(st.l.version, 1);
    ck_assert(!st.l.have_legacy);
    ck_assert_uint_eq(st.l.legacy, 3);
    ck_assert_uint_eq(st.l.gen_high, 11);
    bkf_set_free(&st);
}
END_TEST

START_TEST(unknown_versions)
{
    write_v2_copy();
    edit_line("manifest", "# esebackupfs-manifest ", "# esebackupfs-manifest 3");
    load_fails("/manifest:1: unknown manifest version '3'");
    edit_line("manifest", "# esebackupfs-manifest ", "# esebackupfs-manifest 2");
    edit_line("logs/manifest", "# esebackupfs-manifest ", "# esebackupfs-manifest x");
    load_fails("/logs/manifest:1: unknown manifest version 'x'");
    edit_line("logs/manifest", "# esebackupfs-manifest ", "# esebackupfs-manifest 2");
    edit_line("backup_label", "format: ", "format: 3");
    load_fails("/backup_label:1: unknown label format '3'");
}
END_TEST

START_TEST(malformed_lines)
{
    write_v2_copy();
    edit_line("backup_label", "page-size: ", "page-size 4096");
    load_fails("/backup_label:9: expected 'key: value'");
    edit_line("backup_label", "page-size ", "page-size: 4k");
    load_fails("/backup_label:9: bad value '4k' for page-size");
    edit_line("backup_label", "page-size: ", "page-size: 4096");
    edit_line("manifest", "# backup-type", "not a checksum line");
    load_fails("/manifest:4: expected 'SHA256  PATH'");
    edit_line("manifest", "not a checksum", "# backup-type full");
    edit_line("logs/manifest", "# log-generations", "# log-generations 12-11");
    load_fails("/logs/manifest:3: bad log generation range 12-11");
}
END_TEST

START_TEST(missing_fields)
{
    write_v2_copy();
    edit_line("backup_label", "legacy-file-names: ", "# gone");
    load_fails("/backup_label: incomplete label (backup-type, page-size, log-base-name, "
               "legacy-file-names required)");
    edit_line("backup_label", "# gone", "legacy-file-names: 3");
    edit_line("backup_label", "page-size: ", "# gone");
    load_fails("/backup_label: incomplete label");
    edit_line("backup_label", "# gone", "page-size: 4096");
    edit_line("logs/manifest", "# log-generations", "# gone");
    load_fails("/manifest: no '# log-generations LOW-HIGH' line");
}
END_TEST

START_TEST(round_trip_julabel)
{
    bkf_label w, r;
    memset(&w, 0, sizeof w);
    snprintf(w.type, sizeof w.type, "full");
    snprintf(w.base, sizeof w.base, "edb");
    w.page_size = 8192;
    w.legacy = 1;
    w.log_kib = 1024;
    w.gen_low = 3;
    w.gen_high = 9;
    w.backups = 2;
    w.have_committed = true;
    w.committed_at_roll = 5;
    w.ndb = 1;
    snprintf(w.db_orig[0], sizeof w.db_orig[0], "/i/bank.edb");
    snprintf(w.db_file[0], sizeof w.db_file[0], "bank.edb");
    ck_assert_msg(bkf_julabel_write(dir, &w, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(bkf_julabel_read(dir, &r, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_eq(r.version, 2);
    ck_assert_str_eq(r.type, "full");
    ck_assert_str_eq(r.base, "edb");
    ck_assert_uint_eq(r.page_size, 8192);
    ck_assert_uint_eq(r.legacy, 1);
    ck_assert_uint_eq(r.log_kib, 1024);
    ck_assert_uint_eq(r.gen_low, 3);
    ck_assert_uint_eq(r.gen_high, 9);
    ck_assert_uint_eq(r.backups, 2);
    ck_assert(r.have_committed);
    ck_assert_uint_eq(r.committed_at_roll, 5);
    ck_assert_uint_eq(r.ndb, 1);
    ck_assert_str_eq(r.db_orig[0], "/i/bank.edb");
    ck_assert_str_eq(r.db_file[0], "bank.edb");
    edit_line("jetutil-backup.label", "format=", "format=9");
    ck_assert_int_eq(bkf_julabel_read(dir, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/jetutil-backup.label:1: unknown label format '9'"), "%s", err);
    edit_line("jetutil-backup.label", "format=", "format=1");
    edit_line("jetutil-backup.label", "genHigh=", "# gone");
    ck_assert_int_eq(bkf_julabel_read(dir, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/jetutil-backup.label: incomplete label"), "%s", err);
    edit_line("jetutil-backup.label", "# gone", "genHigh");
    ck_assert_int_eq(bkf_julabel_read(dir, &r, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/jetutil-backup.label:9: expected key=value"), "%s", err);
}
END_TEST

START_TEST(not_a_backup_dir)
{
    put_str("other", "x\n");
    load_fails(": not a backup directory");
}
END_TEST

START_TEST(log_names)
{
    char n[32];
    ck_assert_int_eq(bkf_log_name(n, sizeof n, "edb", 10, 3), 12);
    ck_assert_str_eq(n, "edb0000A.log");
    ck_assert_int_gt(bkf_log_name(n, sizeof n, "edb", 10, 1), 0);
    ck_assert_str_eq(n, "edb0000000A.log");
    ck_assert_int_gt(bkf_log_name(n, sizeof n, "edb", 10, 0), 0);
    ck_assert_str_eq(n, "edb0000000A.jtx");
    ck_assert_int_gt(bkf_log_name(n, sizeof n, "edb", 0x100000, 3), 0);
    ck_assert_str_eq(n, "edb00100000.log");
    ck_assert_int_eq(bkf_log_name(n, 8, "edb", 10, 3), -1);
    ck_assert_int_eq(bkf_log_name(n, sizeof n, "toolong", 10, 3), -1);
}
END_TEST

static Suite *bkformat_suite(void)
{
    Suite *s = suite_create("bkformat");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, round_trip_esefs);
    tcase_add_test(tc, sha256sum_strict);
    tcase_add_test(tc, windows_database_path);
    tcase_add_test(tc, version1_copy_reads);
    tcase_add_test(tc, unknown_versions);
    tcase_add_test(tc, malformed_lines);
    tcase_add_test(tc, missing_fields);
    tcase_add_test(tc, round_trip_julabel);
    tcase_add_test(tc, not_a_backup_dir);
    tcase_add_test(tc, log_names);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(bkformat_suite)
