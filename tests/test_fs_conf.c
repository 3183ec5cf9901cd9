/*
 * test_fs_conf.c -- Check unit tests of the esebackupfs INI parser:
 * good files, 40 bad files (each refused with the right FILE:LINE and
 * reason), size parsing, and the ownership/permission rule.
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "harness.h"
#include "conf.h"
#include "fsx.h"

#define EP "[source]\nendpoint = /run/x.sock\n"

START_TEST(good_files)
{
    fs_config c;
    char err[512] = "";

    ck_assert_msg(fsx_conf_parse_string("a.ini", EP, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c.endpoint, "/run/x.sock");
    ck_assert_int_eq(c.truncate, FS_TRUNC_NEVER); /* default: copy backup */
    ck_assert_int_eq(c.policy, FS_SPOOL_KEEP);
    ck_assert_int_eq(c.type, FS_BACKUP_FULL);
    ck_assert_int_eq(c.allow_other, 0);
    ck_assert_uint_eq(c.read_size, 1u << 20);
    ck_assert_uint_eq(c.max_rate, 0); /* default: unlimited */
    ck_assert_msg(
        fsx_conf_parse_string("r.ini", EP "[backup]\nmax_rate = 200M\n", &c, err, sizeof err) == 0,
        "%s", err);
    ck_assert_uint_eq(c.max_rate, 200u << 20);
    ck_assert_msg(
        fsx_conf_parse_string("r0.ini", EP "[backup]\nmax_rate = 0\n", &c, err, sizeof err) == 0,
        "%s", err);
    ck_assert_uint_eq(c.max_rate, 0);
    ck_assert_msg(
        fsx_conf_parse_string(
            "b.ini",
            "; comment\n# comment\n[source]\n  system_path = /srv/i\nlog_path=/srv/i/logs\n"
            "databases = /srv/i/a.edb, /srv/i/b.edb\nbase_name = abc\npage_size = 8192\n"
            "log_file_size = 1M\ninstance = x1\n\n[backup]\ntype = incremental\ntruncate = commit\n"
            "[spool]\ndirectory = /var/spool/x\npolicy = stream\ncap = 10G\nwindow = 32M\n"
            "[mount]\nallow_other = yes\nread_size = 512K ; inline comment\ndirect_io = off\n",
            &c, err, sizeof err) == 0,
        "%s", err);
    ck_assert_int_eq(c.ndatabases, 2);
    ck_assert_str_eq(c.databases[1], "/srv/i/b.edb");
    ck_assert_str_eq(c.base_name, "abc");
    ck_assert_uint_eq(c.page_size, 8192);
    ck_assert_uint_eq(c.log_file_size_kib, 1024);
    ck_assert_int_eq(c.type, FS_BACKUP_INCREMENTAL);
    ck_assert_int_eq(c.truncate, FS_TRUNC_COMMIT);
    ck_assert_int_eq(c.policy, FS_SPOOL_STREAM);
    ck_assert_uint_eq(c.spool_cap, 10ull << 30);
    ck_assert_uint_eq(c.window, 32u << 20);
    ck_assert_int_eq(c.allow_other, 1);
    ck_assert_uint_eq(c.read_size, 512u << 10);
    ck_assert_str_eq(c.spool_dir, "/var/spool/x");
    ck_assert_int_eq(c.spool_dir_line, 16);
    ck_assert_uint_eq(c.max_duration_s, 0); /* guards off by default */
    ck_assert_uint_eq(c.idle_timeout_s, 0);
}
END_TEST

/* Issue 11 part 6: [backup] max_duration and idle_timeout, durations
 * with s/m/h/d units; 0 = off. */
START_TEST(guard_durations)
{
    static const struct {
        const char *text;
        uint64_t secs;
        const char *shown;
    } ok[] = {
        { "45s", 45, "45s" },   { "30m", 1800, "30m" }, { "6h", 21600, "6h" },
        { "2d", 172800, "2d" }, { "90m", 5400, "90m" }, { "120m", 7200, "2h" },
        { "0", 0, "0" },        { "0s", 0, "0" },       { "3650d", 315360000, "3650d" },
    };
    fs_config c;
    char err[512] = "", text[256], shown[32];

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        snprintf(text, sizeof text, EP "[backup]\nmax_duration = %s\nidle_timeout = %s\n",
                 ok[i].text, ok[i].text);
        ck_assert_msg(fsx_conf_parse_string("d.ini", text, &c, err, sizeof err) == 0, "%s: %s",
                      ok[i].text, err);
        ck_assert_uint_eq(c.max_duration_s, ok[i].secs);
        ck_assert_uint_eq(c.idle_timeout_s, ok[i].secs);
        fs_conf_duration_name(ok[i].secs, shown, sizeof shown);
        ck_assert_str_eq(shown, ok[i].shown);
    }
}
END_TEST

/* Issue 7 item 10: accepted spellings that used to be misread. */
START_TEST(good_spellings)
{
    fs_config c;
    char err[512] = "";

    /* a UTF-8 BOM at the start is skipped (issue 7 item 10) */
    ck_assert_msg(fsx_conf_parse_string("bom.ini",
                                        "\xEF\xBB\xBF" EP "[backup]\ntruncate = commit\n", &c, err,
                                        sizeof err) == 0,
                  "%s", err);
    ck_assert_str_eq(c.endpoint, "/run/x.sock");
    ck_assert_int_eq(c.truncate, FS_TRUNC_COMMIT);
    /* a comment after a section header is fine; "/" is normalised;
     * "database" is the one-database spelling */
    ck_assert_msg(fsx_conf_parse_string("c.ini",
                                        "[source] ; the host\nsystem_path = /\n"
                                        "log_path = /l\ndatabase = /a.edb\n[spool]\t# x\n"
                                        "directory = /\n",
                                        &c, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_str_eq(c.system_path, "/");
    ck_assert_str_eq(c.spool_dir, "/");
    ck_assert_int_eq(c.ndatabases, 1);
    ck_assert_str_eq(c.databases[0], "/a.edb");
    ck_assert_int_eq(c.spool_dir_line, 6);
}
END_TEST

/* A bad file: text, expected line, a fragment of the reason. */
static const struct bad {
    const char *text;
    int line;
    const char *why;
} bad[] = {
    { "", 1, "missing [source]" },
    { "[backup]\ntype = full\n", 2, "missing [source]" },
    { "[sourc]\nendpoint = /x\n", 1, "unknown section [sourc]" },
    { EP "[extra]\n", 3, "unknown section [extra]" },
    { EP "[source]\n", 3, "duplicate section [source]" },
    { "endpoint = /x\n[source]\n", 1, "outside any section" },
    { "[source]\nendpoint = /a\nendpoint = /b\n", 3, "duplicate key 'endpoint'" },
    { "[source]\nendpont = /a\n", 2, "unknown key 'endpont'" },
    { "[source]\nendpoint = relative.sock\n", 2, "not an absolute path" },
    { "[source]\nendpoint =\n", 2, "empty value" },
    { "[source]\nendpoint = /a//b\n", 2, "not a normalised path" },
    { "[source]\nthis line is garbage\n", 2, "syntax error" },
    { "[source\nendpoint = /x\n", 1, "syntax error" },
    { "[source]\n", 1, "needs endpoint" },
    { "[source]\nendpoint = /x\nlog_path = /l\n", 3, "exclude each other" },
    { "[source]\nlog_path = /l\ndatabases = /l/a.edb\n", 1, "both system_path and log_path" },
    { "[source]\nlog_path = /l\nsystem_path = /s\n", 1, "needs databases" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a.edb,,/b.edb\n", 4, "empty entry" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a.edb, /a.edb\n", 4,
      "listed twice" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = a.edb\n", 4, "not an absolute" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\nbase_name = edbx\n", 5,
      "exactly 3" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\nbase_name = e-b\n", 5,
      "letters and digits" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\npage_size = 5000\n", 5,
      "page_size" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\nlog_file_size = 1k\n", 5,
      "out of range" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\nlog_file_size = 100000\n", 5,
      "multiple of 4 KiB" },
    { EP "[backup]\ntype = differential\n", 4, "not full or incremental" },
    { EP "[backup]\ntruncate = always\n", 4, "not never, complete or commit" },
    { EP "[backup]\ntruncate = never\ntruncate = commit\n", 5, "duplicate key 'truncate'" },
    { EP "[backup]\nmode = full\n", 4, "unknown key 'mode' in [backup]" },
    /* issue 11 part 6: the guards' durations */
    { EP "[backup]\nmax_duration = 6\n", 4, "max_duration: '6' is not a duration" },
    { EP "[backup]\nmax_duration = 6x\n", 4, "max_duration: '6x' is not a duration" },
    { EP "[backup]\nmax_duration = h\n", 4, "max_duration: 'h' is not a duration" },
    { EP "[backup]\nmax_duration = -1h\n", 4, "max_duration: '-1h' is not a duration" },
    { EP "[backup]\nmax_duration = 1h30m\n", 4, "max_duration: '1h30m' is not a duration" },
    { EP "[backup]\nmax_duration = 3651d\n", 4, "max_duration: '3651d' is out of range" },
    { EP "[backup]\nmax_duration = 99999999999999999999s\n", 4, "is not a duration" },
    { EP "[backup]\ntype = full\n\nidle_timeout = 30 m\n", 6,
      "idle_timeout: '30 m' is not a duration" },
    { EP "[backup]\nidle_timeout = 30m\nidle_timeout = 1h\n", 5, "duplicate key 'idle_timeout'" },
    /* issue 10 part 5: max_rate is a size in bytes/s, 0 or at least 64K */
    { EP "[backup]\nmax_rate = fast\n", 4, "max_rate: 'fast' is not a size" },
    { EP "[backup]\nmax_rate = -1M\n", 4, "not a size" },
    { EP "[backup]\nmax_rate = 1000\n", 4, "max_rate: 1000 is below 64K" },
    { EP "[backup]\n\nmax_rate = 200M\nmax_rate = 100M\n", 6, "duplicate key 'max_rate'" },
    { EP "[spool]\npolicy = lazy\n", 4, "not keep or stream" },
    { EP "[spool]\ncap = lots\n", 4, "not a size" },
    { EP "[spool]\ncap = -5\n", 4, "not a size" },
    { EP "[spool]\ncap = 99999999999999999999\n", 4, "not a size" },
    { EP "[spool]\nwindow = 4K\n", 4, "out of range" },
    { EP "[spool]\ndirectory = tmp\n", 4, "not an absolute path" },
    { EP "[mount]\nallow_other = maybe\n", 4, "not yes or no" },
    { EP "[mount]\nread_size = 1000000\n", 4, "multiple of 4 KiB" },
    { EP "[mount]\nread_size = 32M\n", 4, "out of range" },
    { EP "[mount]\nread_size = 1MX\n", 4, "not a size" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\npage_size = 32768\n"
      "[mount]\nread_size = 64K\n",
      7, "less than 3 pages" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\npage_size = 32768\n"
      "[mount]\nread_size = 200K\n",
      7, "not a multiple of page_size" },
    { EP "[mount]\nsize = 1\n", 4, "unknown key 'size' in [mount]" },
    { EP "[spool]\npolicy = keep\n  continued\n", 5, "duplicate key 'policy'" },
    { EP "[mount]\nallow_other = yes\n"
         "direct_io = 2\n",
      5, "not yes or no" },
    /* issue 7 item 10: a key on the section header line is not dropped */
    { EP "[backup] truncate = complete\n", 3, "text after the section header [backup]" },
    { "[source] endpoint = /x\n", 1, "text after the section header [source]" },
    { EP "[spool]policy=stream\n", 3, "text after the section header [spool]" },
    /* conflicting pairs name both lines */
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabase = /a\ndatabases = /b\n", 5,
      "'databases' conflicts with 'database' on line 4" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\n\ndatabase = /b\n", 6,
      "'database' conflicts with 'databases' on line 4" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabase = /a\ndatabase = /b\n", 5,
      "duplicate key 'database' in [source] (first set on line 4)" },
    { "[source]\nendpoint = /a\n\nendpoint = /b\n", 4, "(first set on line 2)" },
    { "[source]\nendpoint = /x\nlog_path = /l\n", 3,
      "endpoint (line 2) and log_path (line 3) exclude each other" },
    { "[source]\ninstance = i\nendpoint = /x\n", 3,
      "endpoint (line 3) and instance (line 2) exclude each other" },
    { EP "[spool]\nwindow = 8M\n", 4, "window applies only to policy = stream" },
    { EP "[spool]\nwindow = 8M\npolicy = keep\n", 5,
      "window (line 4) applies only to policy = stream, and policy = keep (line 5)" },
    { "[mount]\nread_size = 64K\n[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a\n"
      "page_size = 32768\n",
      7,
      "read_size 65536 (line 2) is less than 3 pages of page_size 32768 "
      "(line 7)" },
    /* non-normalised paths, for every path key */
    { "[source]\nendpoint = /x/..\n", 2, "endpoint: '/x/..' is not a normalised path" },
    { "[source]\nendpoint = /x/.\n", 2, "not a normalised path" },
    { "[source]\nendpoint = /x/\n", 2, "not a normalised path" },
    { "[source]\nendpoint = /./x\n", 2, "not a normalised path" },
    { "[source]\nendpoint = /..\n", 2, "not a normalised path" },
    { "[source]\nsystem_path = /s/..\n", 2, "system_path: '/s/..' is not a normalised" },
    { "[source]\nlog_path = /l/\n", 2, "log_path: '/l/' is not a normalised" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabases = /a.edb, /b/../a.edb\n", 4,
      "databases: '/b/../a.edb' is not a normalised" },
    { "[source]\nlog_path = /l\nsystem_path = /s\ndatabase = /d//a.edb\n", 4,
      "databases: '/d//a.edb' is not a normalised" },
    { EP "[spool]\ndirectory = /x/..\n", 4, "directory: '/x/..' is not a normalised path" },
    { EP "[spool]\ndirectory = /var/tmp/.\n", 4, "not a normalised path" },
    { EP "[spool]\ndirectory = /var//tmp\n", 4, "not a normalised path" },
    { EP "[spool]\ndirectory = /var/tmp/\n", 4, "not a normalised path" },
    /* issue 9: the Windows sources are refused by the Linux build, and
     * their values are checked first (line of the key) */
    { "[source]\ndsbackup = dc1\n", 2, "dsbackup is a Windows source" },
    { "[source]\ncertsrv = ca1\n", 2, "certsrv is a Windows source" },
    { "[source]\nesent_system_path = C:\\NTDS\nesent_log_path = C:\\NTDS\n"
      "databases = C:\\NTDS\\ntds.dit\n",
      2, "esent_system_path is a Windows source" },
    { "[source]\nendpoint = /x\ndsbackup = dc1\n", 3,
      "endpoint (line 2) and dsbackup (line 3) exclude each other" },
    { "[source]\ncertsrv = ca\n\ndsbackup = dc1\n", 4,
      "dsbackup (line 4) and certsrv (line 2) exclude each other" },
    { "[source]\nsystem_path = /s\nesent_log_path = C:\\l\n", 3,
      "system_path (line 2) and esent_log_path (line 3) exclude each other" },
    { "[source]\ndsbackup = dc 1\n", 2, "dsbackup: 'dc 1' is not a server name" },
    { "[source]\nesent_log_path = C:/x\n", 2,
      "esent_log_path: 'C:/x' is not an absolute, normalised Windows path" },
    { "[source]\nesent_system_path = C:\\x\\..\\y\n", 2, "is not an absolute, normalised" },
    { "[source]\nsystem_path = /s\nlog_path = /l\ndatabases = C:\\a.edb\n", 4,
      "databases: a Windows path is not an absolute path of this system" },
    /* a BOM is skipped only at the start of the file */
    { EP "\xEF\xBB\xBF[backup]\n", 3, "syntax error" },
    /* issue 11: [report] paths */
    { EP "[report]\nmetrics_file = tmp/x.prom\n", 4,
      "metrics_file: 'tmp/x.prom' is not an absolute" },
    { EP "[report]\njson_file = /tmp/../x.json\n", 4,
      "json_file: '/tmp/../x.json' is not a normalised" },
    { EP "[report]\nmetrics_file = /tmp/x.txt\n", 4, "does not end in .prom" },
    { EP "[report]\nmetrics_file = /nonexistent-dir/x.prom\n", 4,
      "metrics_file: directory /nonexistent-dir: No such file or directory" },
    { EP "[report]\njson_file = /etc/passwd/x.json\n", 4,
      "json_file: directory /etc/passwd: Not a directory" },
    { EP "[report]\nmetrics_file = /tmp/a.prom\njson_file = /tmp/a.prom\n", 5,
      "json_file: the same file as metrics_file (line 4)" },
    { EP "[report]\nmetrics = /tmp/a.prom\n", 4, "unknown key 'metrics' in [report]" },
    { EP "[report]\n[report]\n", 4, "duplicate section [report]" },
};

START_TEST(bad_files)
{
    const struct bad *b = &bad[_i];
    fs_config c;
    char err[512] = "", prefix[64];

    ck_assert_msg(fsx_conf_parse_string("bad.ini", b->text, &c, err, sizeof err) == -1,
                  "case %d accepted", _i);
    snprintf(prefix, sizeof prefix, "bad.ini:%d: ", b->line);
    ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "case %d: '%s' does not start with '%s'",
                  _i, err, prefix);
    ck_assert_msg(strstr(err, b->why) != NULL, "case %d: '%s' lacks '%s'", _i, err, b->why);
    ck_assert_msg(!strchr(err, '\n'), "case %d: not one line", _i);
}
END_TEST

/* Issue 11: [report] keys are kept; the instance name is known to come
 * from the file only when the file sets it. */
START_TEST(report_keys)
{
    fs_config c;
    char err[512] = "";

    ck_assert_msg(fsx_conf_parse_string("/etc/esebackupfs/bank.ini",
                                        EP "[report]\nmetrics_file = /tmp/bank.prom\n"
                                           "json_file = /tmp/bank.json\n",
                                        &c, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_str_eq(c.metrics_file, "/tmp/bank.prom");
    ck_assert_str_eq(c.json_file, "/tmp/bank.json");
    ck_assert_int_eq(c.instance_line, 0);
    ck_assert_msg(fsx_conf_parse_string("a.ini", EP, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c.metrics_file, "");
    ck_assert_str_eq(c.json_file, "");
    ck_assert_msg(fsx_conf_parse_string("b.ini",
                                        "[source]\nsystem_path = /s\nlog_path = /l\n"
                                        "databases = /s/a.edb\ninstance = bank1\n",
                                        &c, err, sizeof err) == 0,
                  "%s", err);
    ck_assert_int_eq(c.instance_line, 5);
}
END_TEST

/* Issue 11: a Windows build refuses [report] with the key's line. */
START_TEST(report_windows)
{
    fs_conf_parse cp;
    fs_config c;
    char err[512] = "";

    fs_conf_begin(&cp, "w.ini", &c, err, sizeof err);
    cp.windows = 1;
    cp.line = 1;
    fs_conf_section_line(&cp, "[report]");
    cp.line = 2;
    ck_assert_int_eq(fs_conf_key(&cp, "report", "metrics_file", "C:\\x.prom"), 0);
    ck_assert_msg(strstr(err, "w.ini:2: metrics_file: [report] is not available in this Windows "
                              "build") == err,
                  "%s", err);
}
END_TEST

/* Issue 9: the core's validation as a Windows build runs it (the
 * Windows reader feeds the same calls; here windows = 1 by hand). */
struct winkey {
    const char *k, *v;
};

static int win_parse(const struct winkey *keys, fs_config *c, char *err, size_t cb)
{
    fs_conf_parse cp;

    fs_conf_begin(&cp, "w.ini", c, err, cb);
    cp.windows = 1;
    cp.line = 1;
    fs_conf_section_line(&cp, "[source]");
    for (int i = 0; keys[i].k; i++) {
        cp.line = i + 2;
        if (!fs_conf_key(&cp, "source", keys[i].k, keys[i].v))
            break;
    }
    return fs_conf_end(&cp);
}

START_TEST(windows_sources)
{
    fs_config c;
    char err[512] = "";
    const struct winkey ds[] = { { "dsbackup", "." }, { "page_size", "8192" }, { NULL, NULL } };
    const struct winkey cs[] = { { "certsrv", "ca-01.corp.example" }, { NULL, NULL } };
    const struct winkey es[] = { { "esent_system_path", "C:\\Windows\\NTDS" },
                                 { "esent_log_path", "D:\\logs" },
                                 { "databases", "C:\\Windows\\NTDS\\ntds.dit, E:\\b.edb" },
                                 { "base_name", "edb" },
                                 { NULL, NULL } };
    const struct winkey ep[] = { { "endpoint", "/x" }, { NULL, NULL } };
    const struct winkey dsdb[] = { { "dsbackup", "dc1" },
                                   { "databases", "C:\\a.edb" },
                                   { NULL, NULL } };
    const struct winkey eshalf[] = { { "esent_system_path", "C:\\s" },
                                     { "databases", "C:\\a.edb" },
                                     { NULL, NULL } };
    const struct winkey esposix[] = { { "esent_system_path", "C:\\s" },
                                      { "esent_log_path", "C:\\l" },
                                      { "databases", "/a.edb" },
                                      { NULL, NULL } };

    ck_assert_msg(win_parse(ds, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.source, FS_SOURCE_DSBACKUP);
    ck_assert_str_eq(c.server, ".");
    ck_assert_uint_eq(c.page_size, 8192);
    ck_assert_msg(win_parse(cs, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.source, FS_SOURCE_CERTSRV);
    ck_assert_str_eq(c.server, "ca-01.corp.example");
    ck_assert_msg(win_parse(es, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(c.source, FS_SOURCE_ESENT);
    ck_assert_str_eq(c.system_path, "C:\\Windows\\NTDS");
    ck_assert_str_eq(c.log_path, "D:\\logs");
    ck_assert_int_eq(c.ndatabases, 2);
    ck_assert_str_eq(c.databases[1], "E:\\b.edb");

    /* a Windows build's spool directory is a Windows path */
    {
        fs_conf_parse cp;
        fs_conf_begin(&cp, "s.ini", &c, err, sizeof err);
        cp.windows = 1;
        cp.line = 1;
        fs_conf_section_line(&cp, "[spool]");
        cp.line = 2;
        ck_assert_int_eq(fs_conf_key(&cp, "spool", "directory", "D:\\spool"), 1);
        ck_assert_str_eq(c.spool_dir, "D:\\spool");
        fs_conf_begin(&cp, "s.ini", &c, err, sizeof err);
        cp.windows = 1;
        cp.line = 1;
        fs_conf_section_line(&cp, "[spool]");
        cp.line = 3;
        ck_assert_int_eq(fs_conf_key(&cp, "spool", "directory", "/var/tmp"), 0);
        ck_assert_msg(strstr(err, "s.ini:3: directory: '/var/tmp' is not an absolute, normalised "
                                  "Windows path"),
                      "%s", err);
    }
    ck_assert_int_eq(win_parse(ep, &c, err, sizeof err), -1);
    ck_assert_str_eq(err, "w.ini:2: endpoint is a libjet source: this Windows build serves "
                          "esent_system_path, esent_log_path and databases, dsbackup = SERVER or "
                          "certsrv = SERVER");
    ck_assert_int_eq(win_parse(dsdb, &c, err, sizeof err), -1);
    ck_assert_msg(
        strstr(err, "w.ini:3: dsbackup (line 2) and databases (line 3) exclude each other"), "%s",
        err);
    ck_assert_int_eq(win_parse(eshalf, &c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "w.ini:2: [source] ESENT in-process use needs both"), "%s", err);
    ck_assert_int_eq(win_parse(esposix, &c, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "w.ini:4: databases: ESENT needs absolute Windows paths"), "%s", err);
}
END_TEST

START_TEST(long_line)
{
    char text[600];
    fs_config c;
    char err[512];

    snprintf(text, sizeof text, EP "[spool]\ndirectory = /%0400d\n", 7);
    ck_assert_int_eq(fsx_conf_parse_string("l.ini", text, &c, err, sizeof err), -1);
    ck_assert_msg(!strncmp(err, "l.ini:4: line longer", 20), "%s", err);
}
END_TEST

START_TEST(sizes)
{
    uint64_t v;
    ck_assert_int_eq(fs_conf_parse_size("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(fs_conf_parse_size("64K", &v), 0);
    ck_assert_uint_eq(v, 65536);
    ck_assert_int_eq(fs_conf_parse_size("2GiB", &v), 0);
    ck_assert_uint_eq(v, 2ull << 30);
    ck_assert_int_eq(fs_conf_parse_size("1MB", &v), 0);
    ck_assert_uint_eq(v, 1u << 20);
    ck_assert_int_eq(fs_conf_parse_size("1.5M", &v), -1);
    ck_assert_int_eq(fs_conf_parse_size("M", &v), -1);
    ck_assert_int_eq(fs_conf_parse_size("17179869184T", &v), -1); /* overflow */
}
END_TEST

/* The file rule: group/other-writable files are refused; so are files
 * owned by somebody else (tested as root by chown). */
START_TEST(file_permissions)
{
    char path[] = "/tmp/fsconf.XXXXXX", err[512];
    fs_config c;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, EP, strlen(EP)), (ssize_t)strlen(EP));
    close(fd);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_msg(fsx_conf_load(path, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(chmod(path, 0620), 0);
    ck_assert_int_eq(fsx_conf_load(path, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "writable by group or others"));
    ck_assert_int_eq(chmod(path, 0646), 0);
    ck_assert_int_eq(fsx_conf_load(path, &c, err, sizeof err), -1);
    ck_assert_int_eq(chmod(path, 0644), 0);
    if (getuid() == 0) {
        ck_assert_int_eq(chown(path, 4242, 4242), 0);
        ck_assert_int_eq(fsx_conf_load(path, &c, err, sizeof err), -1);
        ck_assert_ptr_nonnull(strstr(err, "owned by uid 4242"));
    }
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(fsx_conf_load(path, &c, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
}
END_TEST

/* Read a whole text file (NUL-terminated, malloc'ed); NULL on error. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t n = 0;

    if (!f)
        return NULL;
    buf = calloc(1, 1 << 16);
    if (buf)
        n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    if (buf)
        buf[n] = 0;
    return buf;
}

/* The shipped sample conf/esebackupfs.ini parses as it is (endpoint), and
 * with its in-process block switched on instead of the endpoint. */
START_TEST(shipped_sample)
{
    const char *src = getenv("top_srcdir");
    char path[1024], err[512] = "", *text, *alt, *o;
    fs_config c;

    snprintf(path, sizeof path, "%s/conf/esebackupfs.ini", src ? src : FS_TOP_SRCDIR);
    text = slurp(path);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    ck_assert_msg(fsx_conf_parse_string(path, text, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c.endpoint, "/run/jetutil/bank.sock");
    ck_assert_int_eq(c.truncate, FS_TRUNC_NEVER);
    /* endpoint line -> comment; ";key" lines of [source] -> keys */
    alt = calloc(1, strlen(text) + 2);
    ck_assert_ptr_nonnull(alt);
    o = alt;
    for (const char *l = text; *l;) {
        static const char *const keys[] = { "system_path", "log_path",  "databases",
                                            "base_name",   "page_size", "log_file_size",
                                            "instance",    NULL };
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l + 1) : strlen(l);
        if (!strncmp(l, "endpoint =", 10))
            *o++ = ';';
        for (int k = 0; l[0] == ';' && keys[k]; k++)
            if (!strncmp(l + 1, keys[k], strlen(keys[k])) && l[1 + strlen(keys[k])] == ' ') {
                l++;
                n--;
                break;
            }
        memcpy(o, l, n);
        o += n;
        l += n;
    }
    ck_assert_msg(fsx_conf_parse_string(path, alt, &c, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(c.endpoint, "");
    ck_assert_int_eq(c.ndatabases, 1);
    ck_assert_uint_eq(c.log_file_size_kib, 256);
    free(alt);
    free(text);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *fs_conf_suite(void)
{
    Suite *s = suite_create("conf");
    TCase *tc = tcase_create("conf");

    tcase_add_test(tc, good_files);
    tcase_add_test(tc, good_spellings);
    tcase_add_test(tc, guard_durations);
    tcase_add_loop_test(tc, bad_files, 0, (int)(sizeof bad / sizeof bad[0]));
    tcase_add_test(tc, long_line);
    tcase_add_test(tc, windows_sources);
    tcase_add_test(tc, sizes);
    tcase_add_test(tc, file_permissions);
    tcase_add_test(tc, shipped_sample);
    tcase_add_test(tc, report_keys);
    tcase_add_test(tc, report_windows);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(fs_conf_suite)
