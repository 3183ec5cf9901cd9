/*
 * test_endpoint.c -- the backup endpoint (src/endpoint/ep_server.c,
 * ep_client.c) against a real in-process instance hosting a database in a
 * mkdtemp directory, with the server socket in that directory; and the
 * client's READFILE handling against a scripted fake server (data received
 * straight into the caller's buffer; malformed or short responses break
 * the connection before any unchecked byte is stored).
 *
 * Synchronisation with the server's threads uses its log callback: a test
 * waits (condition variable, 20 s limit = failure) for the line the server
 * emits when it has done the thing under test (e.g. "backup aborted").
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "endpoint.h"
#include "ep_proto.h"
#include "jetlib.h"

#define CB_PAGE 4096
#define RECSZ 64
#define NOBODY 65534
#define OTHER_GID 23456

/* ---- log capture: counts lines containing a word, wakes waiters ---- */
struct logcap {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned lines, aborted, malformed, mismatch, refused, begun;
    char last[512];
};

/* cfg->log callback: count and remember the line. */
static void log_cb(void *arg, const char *msg)
{
    struct logcap *l = arg;

    pthread_mutex_lock(&l->mu);
    l->lines++;
    l->aborted += strstr(msg, "backup aborted") != NULL;
    l->malformed += strstr(msg, "malformed") != NULL || strstr(msg, "bad hello") != NULL;
    l->mismatch += strstr(msg, "mismatch") != NULL;
    l->refused += strstr(msg, "refused") != NULL;
    l->begun += strstr(msg, "backup begun") != NULL;
    snprintf(l->last, sizeof l->last, "%s", msg);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/* Wait until *field (read under l->mu) reaches want; fails the test after
 * 20 s. */
static void log_wait(struct logcap *l, unsigned *field, unsigned want)
{
    struct timespec ts;
    int rc = 0;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 20;
    pthread_mutex_lock(&l->mu);
    while (*field < want && rc == 0)
        rc = pthread_cond_timedwait(&l->cv, &l->mu, &ts);
    pthread_mutex_unlock(&l->mu);
    ck_assert_msg(rc == 0, "server log never reached the expected line (last: %s)", l->last);
}

/* Read a counter under the log mutex. */
static unsigned log_get(struct logcap *l, unsigned *field)
{
    unsigned v;

    pthread_mutex_lock(&l->mu);
    v = *field;
    pthread_mutex_unlock(&l->mu);
    return v;
}

/* ---- fixture: instance + database + server ---- */
struct fixture {
    char dir[64];
    char sock[128];
    char db[128];
    JET_INSTANCE inst;
    JET_SESID ses;
    JET_DBID dbid;
    unsigned long long committed; /* host's committed-transaction counter */
    pthread_mutex_t cmu;
    jep_server *srv;
    struct logcap log;
    unsigned long long recno;
};

/* Counter callback registered with the server. */
static unsigned long long fx_counter(void *arg)
{
    struct fixture *fx = arg;
    unsigned long long v;

    pthread_mutex_lock(&fx->cmu);
    v = fx->committed;
    pthread_mutex_unlock(&fx->cmu);
    return v;
}

/* Commit n one-record transactions on the host's session. */
static void fx_commit(struct fixture *fx, int n)
{
    uint8_t rec[RECSZ];

    for (int i = 0; i < n; i++) {
        memset(rec, (int)(fx->recno & 0xFF), sizeof rec);
        memcpy(rec, &fx->recno, sizeof fx->recno);
        ck_assert_int_eq(JetBeginTransaction(fx->ses), 0);
        ck_assert_int_eq(
            JetLibWriteRecord(fx->ses, fx->dbid, fx->recno * 37 % 3000, rec, sizeof rec), 0);
        ck_assert_int_eq(JetCommitTransaction(fx->ses, 0), 0);
        fx->recno++;
        pthread_mutex_lock(&fx->cmu);
        fx->committed++;
        pthread_mutex_unlock(&fx->cmu);
    }
}

/* Start the server on fx->sock with the given group. */
static void fx_serve(struct fixture *fx, gid_t group)
{
    jep_server_config cfg;

    memset(&cfg, 0, sizeof cfg);
    cfg.socket_path = fx->sock;
    cfg.group = group;
    cfg.counter = fx_counter;
    cfg.counter_arg = fx;
    cfg.log = log_cb;
    cfg.log_arg = &fx->log;
    ck_assert_int_eq(JepServerStart(fx->inst, &cfg, &fx->srv), 0);
}

/* Instance with one database holding some committed data and a few
 * archived log generations, checkpointed; the server on <dir>/jep.sock. */
static void fx_setup(struct fixture *fx)
{
    static unsigned seq;
    char name[64];
    unsigned long gen;

    memset(fx, 0, sizeof *fx);
    pthread_mutex_init(&fx->cmu, NULL);
    pthread_mutex_init(&fx->log.mu, NULL);
    pthread_cond_init(&fx->log.cv, NULL);
    ck_assert_int_eq(th_tmpdir(fx->dir, sizeof fx->dir, "jeptest"), 0);
    snprintf(fx->sock, sizeof fx->sock, "%s/jep.sock", fx->dir);
    snprintf(fx->db, sizeof fx->db, "%s/test.edb", fx->dir);
    snprintf(name, sizeof name, "jeptest-%ld-%u", (long)getpid(), seq++);
    ck_assert_int_eq(JetCreateInstance2A(&fx->inst, name, NULL, 0), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&fx->inst, 0, JET_paramSystemPath, 0, fx->dir), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&fx->inst, 0, JET_paramLogFilePath, 0, fx->dir), 0);
    ck_assert_int_eq(JetSetSystemParameterA(&fx->inst, 0, JET_paramLogFileSize, 128, NULL), 0);
    ck_assert_int_eq(JetInit(&fx->inst), 0);
    ck_assert_int_eq(JetBeginSessionA(fx->inst, &fx->ses, "", ""), 0);
    ck_assert_int_eq(JetCreateDatabaseA(fx->ses, fx->db, NULL, &fx->dbid, 0), 0);
    fx_commit(fx, 200);
    ck_assert_int_eq(JetLibRollLog(fx->inst, &gen), 0);
    fx_commit(fx, 100);
    ck_assert_int_eq(JetLibRollLog(fx->inst, &gen), 0);
    ck_assert_int_eq(JetLibCheckpoint(fx->inst), 0);
    fx_serve(fx, (gid_t)-1);
}

/* Stop the server, terminate the instance, remove the directory. */
static void fx_teardown(struct fixture *fx)
{
    JepServerStop(fx->srv);
    fx->srv = NULL;
    ck_assert_int_eq(JetEndSession(fx->ses, 0), 0);
    ck_assert_int_ge(JetTerm(fx->inst), 0);
    (void)th_rm_tree(fx->dir);
}

/* ---- backup helpers ---- */
#define RDBUF (64 * 1024)

struct stream {
    uint8_t *data;
    size_t cb;
    unsigned long long size; /* reported by OpenFile */
};

/* Read a whole file of the backup through the client into s. */
static void ep_read_stream(jep_client *c, const char *name, struct stream *s)
{
    JET_HANDLE hf = 99;
    unsigned long lo = 0, hi = 0, got;
    void *buf;

    ck_assert_int_eq(posix_memalign(&buf, 4096, RDBUF), 0);
    ck_assert_int_eq(JepOpenFile(c, name, &hf, &lo, &hi), 0);
    ck_assert_uint_eq(hf, 0);
    s->size = (unsigned long long)hi << 32 | lo;
    s->data = malloc(s->size + 1);
    s->cb = 0;
    ck_assert_ptr_nonnull(s->data);
    for (;;) {
        ck_assert_int_eq(JepReadFile(c, hf, buf, RDBUF, &got), 0);
        if (got == 0)
            break;
        ck_assert_uint_le(s->cb + got, s->size);
        memcpy(s->data + s->cb, buf, got);
        s->cb += got;
    }
    ck_assert_uint_eq(s->cb, s->size);
    ck_assert_int_eq(JepCloseFile(c, hf), 0);
    free(buf);
}

/* Bytes of a file on disk (whole file). */
static uint8_t *slurp(const char *path, size_t *pcb)
{
    struct stat st;
    uint8_t *p;
    int fd = open(path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fstat(fd, &st), 0);
    p = malloc((size_t)st.st_size + 1);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
    close(fd);
    *pcb = (size_t)st.st_size;
    return p;
}

/* Count the names in a multi-string of cb bytes. */
static int msz_count(const char *szz, unsigned long cb)
{
    int n = 0;

    for (unsigned long i = 0; i < cb && szz[i]; i += strlen(szz + i) + 1)
        n++;
    return n;
}

/* Names of the archived logs in dir (edbXXXXX.log), sorted, as a count
 * and a concatenated string for comparison. */
static int archived_logs(const char *dir, char *out, size_t cb)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort), k = 0;

    out[0] = 0;
    ck_assert_int_ge(n, 0);
    for (int i = 0; i < n; i++) {
        const char *e = list[i]->d_name;
        if (strlen(e) == 12 && !strncmp(e, "edb", 3) && !strcmp(e + 8, ".log")) {
            strncat(out, e, cb - strlen(out) - 1);
            k++;
        }
        free(list[i]);
    }
    free(list);
    return k;
}

/* A complete full backup over the endpoint, every output checked against
 * the in-process calls made by the host during the same backup and
 * against the files on disk. */
static void full_backup_checked(struct fixture *fx, jep_client *c, int truncate)
{
    char a1[4096], a2[4096], l1[8192], l2[8192];
    unsigned long cb1 = 0, cb2 = 0, cb_small;
    JET_LOGINFO_A li1, li2;
    unsigned long long n_at_roll = 0, expect_roll;
    struct stream s;
    size_t cb_file;
    uint8_t *file;
    int nlogs;

    /* no dirty page may reach the file while we compare it with the stream */
    ck_assert_int_eq(JetLibCheckpoint(fx->inst), 0);
    ck_assert_int_eq(JepBeginExternalBackup(c, 0), 0);
    ck_assert_int_eq(JepGetCommittedAtRoll(c, &n_at_roll), JET_errInvalidBackupSequence);

    /* attach info: size query, too small, exact -- as in-process */
    ck_assert_int_eq(JepGetAttachInfo(c, NULL, 0, &cb1), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(fx->inst, NULL, 0, &cb2), 0);
    ck_assert_uint_eq(cb1, cb2);
    ck_assert_uint_eq(cb1, strlen(fx->db) + 2);
    memset(a1, 'Z', sizeof a1);
    cb_small = 7;
    ck_assert_int_eq(JepGetAttachInfo(c, a1, 3, &cb_small), JET_errBufferTooSmall);
    ck_assert_uint_eq(cb_small, cb1);
    ck_assert_int_eq(a1[0], 'Z'); /* untouched, as in-process */
    memset(a2, 'Z', sizeof a2);
    ck_assert_int_eq(JepGetAttachInfo(c, a1, sizeof a1, &cb1), 0);
    ck_assert_int_eq(JetGetAttachInfoInstanceA(fx->inst, a2, sizeof a2, &cb2), 0);
    ck_assert_uint_eq(cb1, cb2);
    ck_assert_int_eq(memcmp(a1, a2, sizeof a1), 0);
    ck_assert_str_eq(a1, fx->db);

    /* the database stream: size (pgnoLast+3)*cbPage, pages = file pages */
    ep_read_stream(c, a1, &s);
    ck_assert_uint_eq(s.size % CB_PAGE, 0);
    file = slurp(fx->db, &cb_file);
    ck_assert_uint_ge(s.size, 3 * CB_PAGE);
    ck_assert_uint_le(cb_file, s.size); /* file = headers + pages, stream adds a trailer */
    ck_assert_int_eq(memcmp(s.data + 2 * CB_PAGE, file + 2 * CB_PAGE, cb_file - 2 * CB_PAGE), 0);
    ck_assert_int_eq(memcmp(s.data, s.data + CB_PAGE, CB_PAGE), 0); /* shadow header */
    free(file);
    free(s.data);

    /* log info: rolls the log; counter sampled right before */
    expect_roll = fx_counter(fx);
    ck_assert_int_eq(JepGetLogInfo2(c, NULL, 0, &cb1, NULL), 0);
    fx_commit(fx, 5); /* after the roll: not counted */
    ck_assert_int_eq(JepGetCommittedAtRoll(c, &n_at_roll), 0);
    ck_assert_uint_eq(n_at_roll, expect_roll);
    memset(&li1, 0, sizeof li1);
    li1.cbSize = 3; /* wrong size: -1003 as in-process */
    ck_assert_int_eq(JepGetLogInfo2(c, l1, sizeof l1, &cb1, &li1), JET_errInvalidParameter);
    memset(&li2, 0, sizeof li2); /* memcmp below covers the padding */
    li1.cbSize = li2.cbSize = sizeof li1;
    memset(l1, 'Q', sizeof l1);
    memset(l2, 'Q', sizeof l2);
    ck_assert_int_eq(JepGetLogInfo2(c, l1, sizeof l1, &cb1, &li1), 0);
    ck_assert_int_eq(JetGetLogInfoInstance2A(fx->inst, l2, sizeof l2, &cb2, &li2), 0);
    ck_assert_uint_eq(cb1, cb2);
    ck_assert_int_eq(memcmp(l1, l2, sizeof l1), 0);
    ck_assert_int_eq(memcmp(&li1, &li2, sizeof li1), 0);
    ck_assert_str_eq(li1.szBaseName, "edb");
    nlogs = msz_count(l1, cb1);
    ck_assert_int_eq(nlogs, (int)(li1.ulGenHigh - li1.ulGenLow + 1));
    ck_assert_int_ge(nlogs, 1);

    /* every log: byte-identical to the archived file */
    for (const char *p = l1; *p; p += strlen(p) + 1) {
        ep_read_stream(c, p, &s);
        file = slurp(p, &cb_file);
        ck_assert_uint_eq(cb_file, s.cb);
        ck_assert_int_eq(memcmp(file, s.data, cb_file), 0);
        free(file);
        free(s.data);
    }
    ck_assert_int_eq(JepGetTruncateLogInfo(c, NULL, 0, &cb1), 0);
    ck_assert_int_eq(JetGetTruncateLogInfoInstanceA(fx->inst, NULL, 0, &cb2), 0);
    ck_assert_uint_eq(cb1, cb2);
    if (truncate)
        ck_assert_int_eq(JepTruncateLog(c), 0);
    ck_assert_int_eq(JepEndExternalBackup2(c, JET_bitBackupEndNormal), 0);
    ck_assert_int_eq(JepEndExternalBackup2(c, JET_bitBackupEndNormal), JET_errNoBackup);
}

/* ---- tests ---- */

START_TEST(full_backup_matches_in_process)
{
    struct fixture fx;
    jep_client *c;
    jep_info info;
    void *big;
    unsigned long got = 1;

    fx_setup(&fx);
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    ck_assert_int_eq(JepGetInfo(c, &info), 0);
    ck_assert_uint_eq(info.cb_page, CB_PAGE);
    ck_assert_str_eq(info.base_name, "edb");
    ck_assert_int_eq(strncmp(info.instance_name, "jeptest-", 8), 0);
    ck_assert_int_eq(info.circular, 0);

    /* no backup yet */
    ck_assert_int_eq(JepTruncateLog(c), JET_errNoBackup);
    /* local buffer checks, as ESE */
    ck_assert_int_eq(posix_memalign(&big, 4096, (17u << 20) + 4096), 0);
    ck_assert_int_eq(JepReadFile(c, 0, (char *)big + 512, 3 * CB_PAGE, &got),
                     JET_errInvalidParameter);
    ck_assert_int_eq(JepReadFile(c, 0, big, 3 * CB_PAGE + 512, &got), JET_errInvalidParameter);
    ck_assert_int_eq(JepReadFile(c, 0, NULL, CB_PAGE, &got), JET_errInvalidParameter);

    full_backup_checked(&fx, c, 1);
    /* and again (a second backup on the same connection) */
    fx_commit(&fx, 50);
    full_backup_checked(&fx, c, 0);

    /* a read larger than one request (17 MiB) of a small stream */
    {
        char l[8192];
        unsigned long cb, lo, hi;
        JET_HANDLE hf;
        JET_LOGINFO_A li = { sizeof li, 0, 0, "" };
        ck_assert_int_eq(JepBeginExternalBackup(c, 0), 0);
        ck_assert_int_eq(JepGetLogInfo2(c, l, sizeof l, &cb, &li), 0);
        ck_assert_int_eq(JepOpenFile(c, l, &hf, &lo, &hi), 0);
        ck_assert_int_eq(JepReadFile(c, hf, big, (17u << 20) + 4096, &got), 0);
        ck_assert_uint_eq(got, lo);
        ck_assert_int_eq(JepReadFile(c, hf, big, 4 * CB_PAGE, &got), 0);
        ck_assert_uint_eq(got, 0);
        ck_assert_int_eq(JepCloseFile(c, hf), 0);
        ck_assert_int_eq(JepEndExternalBackup2(c, JET_bitBackupEndAbort), 0);
    }
    free(big);
    JepDisconnect(c);
    fx_teardown(&fx);
}
END_TEST

/* Child: become uid/gid NOBODY (gid as given) and connect; exit code 0 if
 * JepConnect returned `expect`, 1 + something otherwise. */
/* Read log p through the client with the read sizes cycling through
 * pages[] (a read sent ahead then rarely matches: the stash serves it),
 * a server call (GetAttachInfo) after the third read, and compare the
 * bytes with the archived file. */
static void read_log_any_sizes(jep_client *c, const char *p, uint8_t *buf)
{
    static const unsigned pages[] = { 4, 1, 2, 8, 4, 4, 3, 16, 4, 2 };
    unsigned long lo, hi, got, cb_att;
    size_t cb_file, have = 0;
    JET_HANDLE hf;
    uint8_t *file = slurp(p, &cb_file), *s = malloc(cb_file + 1);
    char att[4096];

    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(JepOpenFile(c, p, &hf, &lo, &hi), 0);
    for (unsigned i = 0;; i++) {
        unsigned long cb = pages[i % (sizeof pages / sizeof pages[0])] * (unsigned long)CB_PAGE;
        ck_assert_int_eq(JepReadFile(c, hf, buf, cb, &got), 0);
        ck_assert_uint_le(have + got, cb_file);
        memcpy(s + have, buf, got);
        have += got;
        if (i == 2)
            ck_assert_int_eq(JepGetAttachInfo(c, att, sizeof att, &cb_att), 0);
        if (got < cb)
            break;
    }
    ck_assert_uint_eq(have, cb_file);
    ck_assert_int_eq(memcmp(s, file, cb_file), 0);
    ck_assert_int_eq(JepCloseFile(c, hf), 0);
    free(file);
    free(s);
}

/* Issue 10 part 4: with reads pipelined, whatever sizes the caller asks
 * for and whatever calls it makes in between, every log arrives
 * byte-identical; a file closed with a read in flight can be opened and
 * read again; the backup ends normally. */
START_TEST(pipelined_reads_any_sizes)
{
    struct fixture fx;
    jep_client *c;
    char l[8192];
    unsigned long cb, lo, hi, got;
    JET_LOGINFO_A li = { sizeof li, 0, 0, "" };
    JET_HANDLE hf;
    uint8_t *buf;

    fx_setup(&fx);
    ck_assert_int_eq(posix_memalign((void **)&buf, 4096, 16 * CB_PAGE), 0);
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    ck_assert_int_eq(JepBeginExternalBackup(c, 0), 0);
    ck_assert_int_eq(JepGetLogInfo2(c, l, sizeof l, &cb, &li), 0);
    /* close with a read in flight, then the same log again, whole */
    ck_assert_int_eq(JepOpenFile(c, l, &hf, &lo, &hi), 0);
    ck_assert_int_eq(JepReadFile(c, hf, buf, 4 * CB_PAGE, &got), 0);
    ck_assert_uint_eq(got, 4 * CB_PAGE);
    ck_assert_int_eq(JepCloseFile(c, hf), 0);
    for (const char *p = l; *p; p += strlen(p) + 1)
        read_log_any_sizes(c, p, buf);
    ck_assert_int_eq(JepEndExternalBackup2(c, JET_bitBackupEndNormal), 0);
    JepDisconnect(c);
    free(buf);
    fx_teardown(&fx);
}
END_TEST

static int child_connect(const char *sock, gid_t gid, JET_ERR expect)
{
    jep_client *c = NULL;
    JET_ERR err;

    if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(NOBODY) < 0)
        return 2;
    err = JepConnect(sock, &c);
    JepDisconnect(c);
    if (err != expect) {
        fprintf(stderr, "child uid %d gid %d: JepConnect -> %ld, expected %ld\n", NOBODY, (int)gid,
                (long)err, (long)expect);
        return 3;
    }
    return 0;
}

/* Fork child_connect and return its exit status. */
static int run_child(const char *sock, gid_t gid, JET_ERR expect)
{
    int st = -1;
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(child_connect(sock, gid, expect));
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(other_uid_refused)
{
    struct fixture fx;
    struct stat st;
    unsigned r0;

    if (geteuid() != 0) {
        /* cannot switch uid: nothing to test (documented skip) */
        return;
    }
    fx_setup(&fx);
    ck_assert_int_eq(lstat(fx.sock, &st), 0);
    ck_assert(S_ISSOCK(st.st_mode));
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    ck_assert_int_eq(chmod(fx.dir, 0711), 0);
    /* the file mode refuses the other uid */
    ck_assert_int_eq(run_child(fx.sock, NOBODY, JET_errAccessDenied), 0);
    /* with the mode opened up, SO_PEERCRED refuses it */
    r0 = log_get(&fx.log, &fx.log.refused);
    ck_assert_int_eq(chmod(fx.sock, 0666), 0);
    ck_assert_int_eq(run_child(fx.sock, NOBODY, JET_errAccessDenied), 0);
    ck_assert_uint_eq(log_get(&fx.log, &fx.log.refused), r0 + 1);
    JepServerStop(fx.srv);

    /* group mode: 0660, group set; members allowed, others refused */
    fx_serve(&fx, OTHER_GID);
    ck_assert_int_eq(lstat(fx.sock, &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0660);
    ck_assert_uint_eq(st.st_gid, OTHER_GID);
    ck_assert_int_eq(run_child(fx.sock, OTHER_GID, 0), 0);
    ck_assert_int_eq(run_child(fx.sock, NOBODY, JET_errAccessDenied), 0);
    ck_assert_int_eq(chmod(fx.sock, 0666), 0);
    r0 = log_get(&fx.log, &fx.log.refused);
    ck_assert_int_eq(run_child(fx.sock, NOBODY, JET_errAccessDenied), 0);
    ck_assert_uint_eq(log_get(&fx.log, &fx.log.refused), r0 + 1);
    fx_teardown(&fx);
}
END_TEST

/* Begin, read part of the database, go to the log phase if logs is set. */
static void start_partial_backup(jep_client *c, const char *db, int logs)
{
    void *buf;
    JET_HANDLE hf;
    unsigned long lo, hi, got, cb;
    char l[8192];
    JET_LOGINFO_A li = { sizeof li, 0, 0, "" };

    ck_assert_int_eq(posix_memalign(&buf, 4096, RDBUF), 0);
    ck_assert_int_eq(JepBeginExternalBackup(c, 0), 0);
    ck_assert_int_eq(JepOpenFile(c, db, &hf, &lo, &hi), 0);
    ck_assert_int_eq(JepReadFile(c, hf, buf, 3 * CB_PAGE, &got), 0);
    ck_assert_uint_eq(got, 3 * CB_PAGE);
    if (logs) {
        while (got)
            ck_assert_int_eq(JepReadFile(c, hf, buf, RDBUF, &got), 0);
        ck_assert_int_eq(JepCloseFile(c, hf), 0);
        ck_assert_int_eq(JepGetLogInfo2(c, l, sizeof l, &cb, &li), 0);
        ck_assert_int_eq(JepOpenFile(c, l, &hf, &lo, &hi), 0);
        ck_assert_int_eq(JepReadFile(c, hf, buf, 2 * CB_PAGE, &got), 0);
    }
    free(buf);
}

START_TEST(disconnect_mid_backup_aborts)
{
    struct fixture fx;
    char before[4096], after[4096];
    jep_client *c, *c2;
    int nb, na;

    fx_setup(&fx);
    /* 1: orderly disconnect in the database phase */
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    start_partial_backup(c, fx.db, 0);
    ck_assert_int_eq(JetBeginExternalBackupInstance(fx.inst, 0), JET_errBackupInProgress);
    JepDisconnect(c);
    log_wait(&fx.log, &fx.log.aborted, 1);
    ck_assert_int_eq(JetBeginExternalBackupInstance(fx.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(fx.inst, JET_bitBackupEndAbort), 0);

    /* 2: disconnect in the log phase: no log is truncated */
    nb = archived_logs(fx.dir, before, sizeof before);
    ck_assert_int_ge(nb, 2);
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    start_partial_backup(c, fx.db, 1);
    JepDisconnect(c);
    log_wait(&fx.log, &fx.log.aborted, 2);
    na = archived_logs(fx.dir, after, sizeof after);
    ck_assert_int_ge(na, nb);
    ck_assert_int_eq(strncmp(before, after, strlen(before)), 0);

    /* 3: a forked client SIGKILLed mid-backup */
    {
        int ready[2];
        char b;
        pid_t pid;
        int st;
        ck_assert_int_eq(pipe(ready), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            jep_client *cc;
            close(ready[0]);
            if (JepConnect(fx.sock, &cc) != 0)
                _exit(2);
            start_partial_backup(cc, fx.db, 1);
            if (write(ready[1], "r", 1) != 1)
                _exit(3);
            for (;;)
                pause();
        }
        close(ready[1]);
        ck_assert_int_eq(read(ready[0], &b, 1), 1);
        close(ready[0]);
        ck_assert_int_eq(JetBeginExternalBackupInstance(fx.inst, 0), JET_errBackupInProgress);
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        ck_assert(WIFSIGNALED(st));
        log_wait(&fx.log, &fx.log.aborted, 3);
    }
    na = archived_logs(fx.dir, after, sizeof after);
    ck_assert_int_eq(strncmp(before, after, strlen(before)), 0);
    /* a new client's Begin succeeds, the host still commits */
    ck_assert_int_eq(JepConnect(fx.sock, &c2), 0);
    fx_commit(&fx, 10);
    full_backup_checked(&fx, c2, 1);
    JepDisconnect(c2);
    fx_teardown(&fx);
}
END_TEST

/* Deterministic PRNG (xorshift64*). */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Raw connection: connect, read the greeting; with hello, send a valid
 * client hello.  Returns the fd. */
static int raw_connect(const char *sock, int hello)
{
    struct sockaddr_un sa;
    uint8_t g[EP_HDR + 12], h[EP_HDR + 8];
    ep_req q;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(ep_recv_all(fd, g, sizeof g), 1);
    ck_assert_uint_eq(ep_get32(g + EP_HDR), 0);
    if (hello) {
        memset(&q, 0, sizeof q);
        q.op = EP_OP_HELLO;
        q.magic = EP_MAGIC;
        q.version = EP_VERSION;
        ck_assert_uint_eq(ep_req_encode(&q, h, sizeof h), sizeof h);
        ck_assert_int_eq(ep_send_all(fd, h, sizeof h), 0);
    }
    return fd;
}

/* Send, half-close and drain until the server closes. */
static void send_and_drain(int fd, const uint8_t *p, size_t n)
{
    uint8_t sink[65536];
    ssize_t k;

    (void)ep_send_all(fd, p, n); /* the server may close early: EPIPE is fine */
    shutdown(fd, SHUT_WR);
    do
        k = recv(fd, sink, sizeof sink, 0);
    while (k > 0 || (k < 0 && errno == EINTR));
    close(fd);
}

struct fuzzarg {
    const char *sock;
    uint64_t seed;
    int rounds;
};

/* Fuzz thread: rounds of random bytes / bad frames on fresh connections. */
static void *fuzz_main(void *arg)
{
    struct fuzzarg *a = arg;
    uint8_t buf[8192];
    uint64_t s = a->seed;

    for (int r = 0; r < a->rounds; r++) {
        int kind = (int)(rnd(&s) % 5);
        size_t n = 0;
        int fd = raw_connect(a->sock, kind != 0);
        uint32_t op = 1 + (uint32_t)(rnd(&s) % EP_OP_LAST);
        switch (kind) {
        case 0: /* garbage instead of the hello */
        case 1: /* garbage after the hello */
            n = 1 + rnd(&s) % sizeof buf;
            for (size_t i = 0; i < n; i++)
                buf[i] = (uint8_t)rnd(&s);
            break;
        case 2: /* valid opcode, oversized length */
            ep_hdr_put(buf, EP_MAX_REQ_PAYLOAD + 1 + (uint32_t)(rnd(&s) % 0x7FFFFFFF), op);
            n = EP_HDR;
            break;
        case 3: { /* valid opcode, length not what the opcode allows */
            uint32_t len = (uint32_t)(rnd(&s) % 64);
            ep_hdr_put(buf, len, op);
            for (uint32_t i = 0; i < len; i++)
                buf[EP_HDR + i] = (uint8_t)rnd(&s);
            n = EP_HDR + len;
            break;
        }
        default: { /* frame claims more than is sent, then EOF */
            uint32_t len = 16 + (uint32_t)(rnd(&s) % 1000);
            ep_hdr_put(buf, len, EP_OP_OPENFILE);
            ep_put32(buf + EP_HDR, EP_F_NAME);
            ep_put32(buf + EP_HDR + 4, len - 8);
            n = EP_HDR + 8 + rnd(&s) % (len - 8);
            memset(buf + EP_HDR + 8, 'a', n - EP_HDR - 8);
            break;
        }
        }
        send_and_drain(fd, buf, n);
    }
    return NULL;
}

START_TEST(garbage_does_not_disturb_host)
{
    struct fixture fx;
    struct fuzzarg fa[4];
    pthread_t t[4];
    jep_client *c;

    fx_setup(&fx);
    for (int i = 0; i < 4; i++) {
        fa[i].sock = fx.sock;
        fa[i].seed = 0x9E3779B97F4A7C15ull * (uint64_t)(i + 1);
        fa[i].rounds = 60;
        ck_assert_int_eq(pthread_create(&t[i], NULL, fuzz_main, &fa[i]), 0);
    }
    fx_commit(&fx, 100); /* the host keeps committing meanwhile */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
    ck_assert_uint_ge(log_get(&fx.log, &fx.log.malformed), 100);
    /* a random valid BEGIN may have begun and been aborted; either way the
     * server serves a correct backup now */
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    fx_commit(&fx, 10);
    full_backup_checked(&fx, c, 1);
    JepDisconnect(c);
    fx_teardown(&fx);
}
END_TEST

START_TEST(second_client_gets_backup_in_progress)
{
    struct fixture fx;
    jep_client *a, *b;
    unsigned long cb;
    unsigned long long n;

    fx_setup(&fx);
    ck_assert_int_eq(JepConnect(fx.sock, &a), 0);
    ck_assert_int_eq(JepConnect(fx.sock, &b), 0);
    ck_assert_int_eq(JepBeginExternalBackup(a, 0), 0);
    ck_assert_int_eq(JepBeginExternalBackup(b, 0), JET_errBackupInProgress);
    /* b cannot touch a's backup */
    ck_assert_int_eq(JepGetAttachInfo(b, NULL, 0, &cb), JET_errNoBackup);
    ck_assert_int_eq(JepEndExternalBackup2(b, JET_bitBackupEndAbort), JET_errNoBackup);
    ck_assert_int_eq(JepGetCommittedAtRoll(b, &n), JET_errInvalidBackupSequence);
    ck_assert_int_eq(JepGetAttachInfo(a, NULL, 0, &cb), 0);
    /* b leaving does not abort a's backup */
    JepDisconnect(b);
    ck_assert_int_eq(JepEndExternalBackup2(a, 0x3), JET_errInvalidParameter);
    ck_assert_int_eq(JepEndExternalBackup2(a, JET_bitBackupEndAbort), 0);
    ck_assert_int_eq(JepConnect(fx.sock, &b), 0);
    ck_assert_int_eq(JepBeginExternalBackup(b, 0), 0);
    ck_assert_int_eq(JepBeginExternalBackup(a, 0), JET_errBackupInProgress);
    ck_assert_int_eq(JepEndExternalBackup2(b, JET_bitBackupEndAbort), 0);
    JepDisconnect(a);
    JepDisconnect(b);
    fx_teardown(&fx);
}
END_TEST

/* CHECKBEGIN: the answer a Begin would get, with the database's stream
 * size, and nothing begun (the server logs no begin; a Begin right after
 * succeeds and opens a stream of exactly that size). */
START_TEST(check_begin_answers_without_beginning)
{
    struct fixture fx;
    jep_client *a, *b;
    unsigned long long cb = 0, cb2 = 0;
    unsigned long n = 0, lo = 0, hi = 0;
    JET_HANDLE hf;

    fx_setup(&fx);
    ck_assert_int_eq(JepCheckBackup(NULL, 0, &cb, &n), JET_errInvalidParameter);
    ck_assert_int_eq(JepConnect(fx.sock, &a), 0);
    ck_assert_int_eq(JepConnect(fx.sock, &b), 0);
    ck_assert_int_eq(JepCheckBackup(a, 0, &cb, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_gt(cb, 0);
    ck_assert_uint_eq(cb % CB_PAGE, 0);
    ck_assert_int_eq(JepCheckBackup(a, JET_bitBackupIncremental, NULL, NULL),
                     JET_errMissingFullBackup);
    ck_assert_int_eq(JepCheckBackup(a, 0x8, NULL, NULL), JET_errInvalidGrbit);
    ck_assert_uint_eq(log_get(&fx.log, &fx.log.begun), 0);
    /* nothing was begun: b may begin, and sees the size a was told */
    ck_assert_int_eq(JepBeginExternalBackup(b, 0), 0);
    ck_assert_int_eq(JepOpenFile(b, fx.db, &hf, &lo, &hi), 0);
    ck_assert_uint_eq(((unsigned long long)hi << 32) | lo, cb);
    /* while b owns a backup, every connection is told it is in progress */
    ck_assert_int_eq(JepCheckBackup(a, 0, &cb2, &n), JET_errBackupInProgress);
    ck_assert_uint_eq(cb2, cb);
    ck_assert_int_eq(JepCheckBackup(b, 0, NULL, NULL), JET_errBackupInProgress);
    ck_assert_int_eq(JepCloseFile(b, hf), 0);
    ck_assert_int_eq(JepEndExternalBackup2(b, JET_bitBackupEndAbort), 0);
    ck_assert_int_eq(JepCheckBackup(a, 0, NULL, NULL), 0);
    ck_assert_uint_eq(log_get(&fx.log, &fx.log.begun), 1);
    JepDisconnect(a);
    JepDisconnect(b);
    fx_teardown(&fx);
}
END_TEST

START_TEST(socket_path_rules_and_stop)
{
    struct fixture fx;
    jep_server_config cfg;
    jep_server *s2 = NULL;
    jep_client *c;
    char path[100];
    struct sockaddr_un sa;
    struct stat st;
    int fd;

    fx_setup(&fx);
    memset(&cfg, 0, sizeof cfg);
    cfg.group = (gid_t)-1;
    cfg.log = log_cb;
    cfg.log_arg = &fx.log;
    /* a live socket is not replaced */
    cfg.socket_path = fx.sock;
    ck_assert_int_eq(JepServerStart(fx.inst, &cfg, &s2), JET_errInvalidPath);
    ck_assert_ptr_null(s2);
    /* a regular file is refused and left alone */
    snprintf(path, sizeof path, "%s/plain", fx.dir);
    fd = open(path, O_CREAT | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "keep", 4), 4);
    close(fd);
    cfg.socket_path = path;
    ck_assert_int_eq(JepServerStart(fx.inst, &cfg, &s2), JET_errInvalidPath);
    ck_assert_int_eq(stat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    ck_assert_int_eq(st.st_size, 4);
    /* bad instance */
    snprintf(path, sizeof path, "%s/other.sock", fx.dir);
    cfg.socket_path = path;
    ck_assert_int_eq(JepServerStart((JET_INSTANCE)&cfg, &cfg, &s2), JET_errInvalidInstance);
    /* a stale socket (bound, nobody listening) is replaced */
    fd = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    ck_assert_int_eq(JepConnect(path, &c), JET_errInstanceUnavailable);
    ck_assert_int_eq(JepServerStart(fx.inst, &cfg, &s2), 0);
    ck_assert_int_eq(JepConnect(path, &c), 0);
    JepDisconnect(c);
    JepServerStop(s2);
    ck_assert_int_eq(lstat(path, &st), -1);
    ck_assert_int_eq(JepConnect(path, &c), JET_errFileNotFound);

    /* protocol mismatch: the server closes the connection */
    {
        uint8_t h[EP_HDR + 8], x;
        unsigned m0 = log_get(&fx.log, &fx.log.mismatch);
        fd = raw_connect(fx.sock, 0);
        ep_hdr_put(h, 8, EP_OP_HELLO);
        ep_put32(h + EP_HDR, EP_MAGIC);
        ep_put32(h + EP_HDR + 4, EP_VERSION + 1);
        ck_assert_int_eq(ep_send_all(fd, h, sizeof h), 0);
        ck_assert_int_eq(recv(fd, &x, 1, 0), 0);
        close(fd);
        ck_assert_uint_eq(log_get(&fx.log, &fx.log.mismatch), m0 + 1);
    }

    /* JepServerStop with a backup in progress aborts it, removes the socket */
    ck_assert_int_eq(JepConnect(fx.sock, &c), 0);
    start_partial_backup(c, fx.db, 1);
    JepServerStop(fx.srv);
    fx.srv = NULL;
    ck_assert_int_eq(lstat(fx.sock, &st), -1);
    ck_assert_int_eq(JepGetAttachInfo(c, NULL, 0, NULL), JET_errInstanceUnavailable);
    ck_assert_int_eq(JepEndExternalBackup2(c, JET_bitBackupEndAbort), JET_errInstanceUnavailable);
    JepDisconnect(c);
    ck_assert_int_eq(JetBeginExternalBackupInstance(fx.inst, 0), 0);
    ck_assert_int_eq(JetEndExternalBackupInstance2(fx.inst, JET_bitBackupEndAbort), 0);
    fx_teardown(&fx);
}
END_TEST

/* ---- the client against a scripted fake server: READFILE responses ---- */
#define FK_MAX 4

/* One fake endpoint: a thread that accepts one connection, does the
 * greeting/hello/GETINFO exchange, answers the first n READFILE requests
 * with the scripted raw bytes, optionally shuts its write side, then waits
 * for the client's next move (EOF when the client breaks or leaves). */
struct fake {
    char dir[64], sock[96];
    int lfd;
    pthread_t thr;
    int n;                 /* scripted responses */
    uint8_t *resp[FK_MAX]; /* raw bytes sent for the i-th READFILE */
    size_t nresp[FK_MAX];
    int shut_after;     /* SHUT_WR after the last response */
    uint64_t open_size; /* > 0: first answer an OPENFILE with this size */
    /* results, read after the join */
    int served;              /* READFILE requests answered */
    uint64_t req_cb[FK_MAX]; /* their byte counts */
    int bad;                 /* handshake/request not as expected */
    int eof;                 /* the client shut down or closed */
};

/* Fake server thread (see struct fake).  Failures go to f->bad. */
static void *fake_main(void *arg)
{
    struct fake *f = arg;
    uint8_t out[EP_HDR + 128], *buf = NULL;
    size_t cap = 0, n;
    uint32_t op, len;
    const char *why;
    ep_req q;
    ep_resp r;
    int fd, rc;

    fd = accept(f->lfd, NULL, NULL);
    if (fd < 0) {
        f->bad = 1;
        return NULL;
    }
    memset(&r, 0, sizeof r);
    r.op = EP_OP_HELLO;
    r.magic = EP_MAGIC;
    r.version = EP_VERSION;
    n = ep_resp_encode(&r, out, sizeof out);
    if (!n || ep_send_all(fd, out, n) < 0)
        goto bad;
    if (ep_recv_frame(fd, 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why) != 1 ||
        op != EP_OP_HELLO)
        goto bad;
    if (ep_recv_frame(fd, 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why) != 1 ||
        op != EP_OP_GETINFO)
        goto bad;
    memset(&r, 0, sizeof r);
    r.op = EP_OP_GETINFO;
    snprintf(r.info.instance_name, sizeof r.info.instance_name, "fake");
    snprintf(r.info.base_name, sizeof r.info.base_name, "edb");
    r.info.cb_page = CB_PAGE;
    n = ep_resp_encode(&r, out, sizeof out);
    if (!n || ep_send_all(fd, out, n) < 0)
        goto bad;
    if (f->open_size) {
        if (ep_recv_frame(fd, 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why) != 1 ||
            op != EP_OP_OPENFILE)
            goto bad;
        memset(&r, 0, sizeof r);
        r.op = EP_OP_OPENFILE;
        r.size_low = f->open_size;
        n = ep_resp_encode(&r, out, sizeof out);
        if (!n || ep_send_all(fd, out, n) < 0)
            goto bad;
    }
    for (int i = 0; i < f->n; i++) {
        if (ep_recv_frame(fd, 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why) != 1 ||
            op != EP_OP_READFILE || ep_req_decode(op, buf, len, &q, &why) < 0)
            goto bad;
        f->req_cb[i] = q.cb;
        if (ep_send_all(fd, f->resp[i], f->nresp[i]) < 0)
            goto bad;
        f->served++;
    }
    if (f->shut_after && shutdown(fd, SHUT_WR) < 0)
        goto bad;
    rc = ep_recv_frame(fd, 0, EP_MAX_REQ_PAYLOAD, &op, &buf, &cap, &len, &why);
    f->eof = rc == 0;
    goto out;
bad:
    f->bad = 1;
out:
    free(buf);
    close(fd);
    return NULL;
}

/* Listen on a fresh directory's socket and start the fake thread. */
static void fake_start(struct fake *f)
{
    struct sockaddr_un sa;

    ck_assert_int_eq(th_tmpdir(f->dir, sizeof f->dir, "jepfake"), 0);
    snprintf(f->sock, sizeof f->sock, "%s/fake.sock", f->dir);
    f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(f->lfd, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->sock);
    ck_assert_int_eq(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    ck_assert_int_eq(listen(f->lfd, 1), 0);
    ck_assert_int_eq(pthread_create(&f->thr, NULL, fake_main, f), 0);
}

/* Join the fake thread (it ends once the client shut down or closed) and
 * clean up. */
static void fake_finish(struct fake *f)
{
    ck_assert_int_eq(pthread_join(f->thr, NULL), 0);
    close(f->lfd);
    unlink(f->sock);
    rmdir(f->dir);
    for (int i = 0; i < f->n; i++)
        free(f->resp[i]);
}

/* Byte i of the data pattern with seed. */
static uint8_t pat(uint8_t seed, size_t i)
{
    return (uint8_t)(seed + i * 7 + (i >> 12));
}

/* Script response i: a frame { hlen, op } + { err, declared cb_data } +
 * ndata pattern bytes, of which only the first cut bytes are sent when
 * cut != (size_t)-1. */
static void fake_resp(struct fake *f, int i, uint32_t hlen, uint32_t op, int32_t err, uint32_t decl,
                      size_t ndata, uint8_t seed, size_t cut)
{
    size_t n = EP_HDR + 8 + ndata;
    uint8_t *b = malloc(n);

    ck_assert_ptr_nonnull(b);
    ep_hdr_put(b, hlen, op);
    ep_put32(b + EP_HDR, (uint32_t)err);
    ep_put32(b + EP_HDR + 4, decl);
    for (size_t k = 0; k < ndata; k++)
        b[EP_HDR + 8 + k] = pat(seed, k);
    f->resp[i] = b;
    f->nresp[i] = cut == (size_t)-1 ? n : cut;
    if (f->n < i + 1)
        f->n = i + 1;
}

/* true if p[n] is all byte v. */
static int all_is(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return 0;
    return 1;
}

#define RD_OK(d) ((uint32_t)(EP_OP_READFILE | EP_RESP)), 0, (d)

/* A read above EP_MAX_READ is split; the data of each part lands at its
 * place in the caller's buffer and nothing past the bytes returned is
 * written. */
START_TEST(readfile_split_lands_in_caller_buffer)
{
    const size_t cb = EP_MAX_READ + 2 * CB_PAGE;
    struct fake f;
    jep_client *c;
    unsigned long got = 12345;
    uint8_t *pv;

    memset(&f, 0, sizeof f);
    fake_resp(&f, 0, 8 + EP_MAX_READ, RD_OK(EP_MAX_READ), EP_MAX_READ, 1, (size_t)-1);
    fake_resp(&f, 1, 8 + CB_PAGE, RD_OK(CB_PAGE), CB_PAGE, 2, (size_t)-1);
    fake_start(&f);
    ck_assert_int_eq(posix_memalign((void **)&pv, 4096, cb), 0);
    memset(pv, 0xEE, cb);
    ck_assert_int_eq(JepConnect(f.sock, &c), 0);
    ck_assert_int_eq(JepReadFile(c, 0, pv, cb, &got), 0);
    ck_assert_uint_eq(got, EP_MAX_READ + CB_PAGE);
    for (size_t k = 0; k < EP_MAX_READ; k++)
        if (pv[k] != pat(1, k))
            ck_abort_msg("first part: byte %zu differs", k);
    for (size_t k = 0; k < CB_PAGE; k++)
        if (pv[EP_MAX_READ + k] != pat(2, k))
            ck_abort_msg("second part: byte %zu differs", k);
    ck_assert(all_is(pv + EP_MAX_READ + CB_PAGE, CB_PAGE, 0xEE));
    JepDisconnect(c);
    fake_finish(&f);
    ck_assert_int_eq(f.bad, 0);
    ck_assert_int_eq(f.served, 2);
    ck_assert_uint_eq(f.req_cb[0], EP_MAX_READ);
    ck_assert_uint_eq(f.req_cb[1], 2 * CB_PAGE);
    /* (no eof check: closing with its reply unread resets the socket) */
    free(pv);
}
END_TEST

/* An error response that (against the protocol's habit) carries data: the
 * error is returned, the caller's buffer is untouched, and the data is
 * consumed so the next read on the same connection is in step. */
START_TEST(readfile_error_with_data_keeps_stream)
{
    struct fake f;
    jep_client *c;
    unsigned long got = 12345;
    uint8_t *pv;

    memset(&f, 0, sizeof f);
    fake_resp(&f, 0, 8 + 2 * CB_PAGE, EP_OP_READFILE | EP_RESP, JET_errDiskIO, 2 * CB_PAGE,
              2 * CB_PAGE, 3, (size_t)-1);
    fake_resp(&f, 1, 8 + 2 * CB_PAGE, RD_OK(2 * CB_PAGE), 2 * CB_PAGE, 4, (size_t)-1);
    fake_start(&f);
    ck_assert_int_eq(posix_memalign((void **)&pv, 4096, 2 * CB_PAGE), 0);
    memset(pv, 0xEE, 2 * CB_PAGE);
    ck_assert_int_eq(JepConnect(f.sock, &c), 0);
    ck_assert_int_eq(JepReadFile(c, 0, pv, 2 * CB_PAGE, &got), JET_errDiskIO);
    ck_assert_uint_eq(got, 0);
    ck_assert(all_is(pv, 2 * CB_PAGE, 0xEE));
    ck_assert_int_eq(JepReadFile(c, 0, pv, 2 * CB_PAGE, &got), 0);
    ck_assert_uint_eq(got, 2 * CB_PAGE);
    for (size_t k = 0; k < 2 * CB_PAGE; k++)
        ck_assert_uint_eq(pv[k], pat(4, k));
    JepDisconnect(c);
    fake_finish(&f);
    ck_assert_int_eq(f.bad, 0);
    ck_assert_int_eq(f.served, 2);
    ck_assert_int_eq(f.eof, 1);
    free(pv);
}
END_TEST

/* Issue 10 part 4: a full read of the file last opened sends the next
 * READFILE (same size) before JepReadFile returns -- the fake answers it
 * although the caller never asks again -- and no read goes ahead once the
 * size OPENFILE reported is reached. */
START_TEST(readfile_goes_ahead_until_size)
{
    struct fake f;
    jep_client *c;
    JET_HANDLE hf = 7;
    unsigned long got = 12345, lo, hi;
    uint8_t *pv;

    /* 1: one read of a 4-page file; the second half goes ahead */
    memset(&f, 0, sizeof f);
    f.open_size = 4 * CB_PAGE;
    fake_resp(&f, 0, 8 + 2 * CB_PAGE, RD_OK(2 * CB_PAGE), 2 * CB_PAGE, 1, ((size_t)-1));
    fake_resp(&f, 1, 8 + 2 * CB_PAGE, RD_OK(2 * CB_PAGE), 2 * CB_PAGE, 2, ((size_t)-1));
    fake_start(&f);
    ck_assert_int_eq(posix_memalign((void **)&pv, 4096, 2 * CB_PAGE), 0);
    ck_assert_int_eq(JepConnect(f.sock, &c), 0);
    ck_assert_int_eq(JepOpenFile(c, "x.log", &hf, &lo, &hi), 0);
    ck_assert_int_eq(JepReadFile(c, hf, pv, 2 * CB_PAGE, &got), 0);
    ck_assert_uint_eq(got, 2 * CB_PAGE);
    ck_assert_uint_eq(pv[5], pat(1, 5));
    JepDisconnect(c);
    fake_finish(&f);
    /* the second READFILE went ahead (the fake's answer to it may fail:
     * the client left without reading it) */
    ck_assert_uint_eq(f.req_cb[0], 2 * CB_PAGE);
    ck_assert_uint_eq(f.req_cb[1], 2 * CB_PAGE);

    /* 2: both halves read; the second comes from the read sent ahead and
     * nothing is asked past the size */
    memset(&f, 0, sizeof f);
    f.open_size = 4 * CB_PAGE;
    fake_resp(&f, 0, 8 + 2 * CB_PAGE, RD_OK(2 * CB_PAGE), 2 * CB_PAGE, 1, ((size_t)-1));
    fake_resp(&f, 1, 8 + 2 * CB_PAGE, RD_OK(2 * CB_PAGE), 2 * CB_PAGE, 2, ((size_t)-1));
    fake_start(&f);
    ck_assert_int_eq(JepConnect(f.sock, &c), 0);
    ck_assert_int_eq(JepOpenFile(c, "x.log", &hf, &lo, &hi), 0);
    ck_assert_int_eq(JepReadFile(c, hf, pv, 2 * CB_PAGE, &got), 0);
    ck_assert_int_eq(JepReadFile(c, hf, pv, 2 * CB_PAGE, &got), 0);
    ck_assert_uint_eq(got, 2 * CB_PAGE);
    for (size_t k = 0; k < 2 * CB_PAGE; k++)
        ck_assert_uint_eq(pv[k], pat(2, k));
    JepDisconnect(c);
    fake_finish(&f);
    ck_assert_int_eq(f.bad, 0);
    ck_assert_int_eq(f.served, 2);
    ck_assert_int_eq(f.eof, 1); /* no third READFILE */
    free(pv);
}
END_TEST

struct bad_case {
    const char *what;
    uint32_t hlen, op;
    uint32_t decl;
    size_t ndata, cut;
    int shut;
    int may_write; /* the client may have stored data */
};

#define NOCUT ((size_t)-1)
#define RDOP (EP_OP_READFILE | EP_RESP)
static const struct bad_case bad_cases[] = {
    { "declares more than requested", 8 + 4 * CB_PAGE, RDOP, 4 * CB_PAGE, 4 * CB_PAGE, NOCUT, 0,
      0 },
    { "declares less than the frame", 8 + 2 * CB_PAGE, RDOP, CB_PAGE, 2 * CB_PAGE, NOCUT, 0, 0 },
    { "declares more than the frame", 8 + CB_PAGE, RDOP, 2 * CB_PAGE, CB_PAGE, NOCUT, 0, 0 },
    { "declares over EP_MAX_READ", 8 + EP_MAX_READ + 32, RDOP, EP_MAX_READ + 32, 0, EP_HDR + 8, 0,
      0 },
    { "frame shorter than the fixed part", 4, RDOP, 0, 0, EP_HDR + 4, 0, 0 },
    { "length over the maximum", EP_MAX_RESP_PAYLOAD + 1, RDOP, 0, 0, EP_HDR, 0, 0 },
    { "response to another request", 8 + CB_PAGE, EP_OP_CLOSEFILE | EP_RESP, CB_PAGE, CB_PAGE,
      NOCUT, 0, 0 },
    { "request opcode", 8 + CB_PAGE, EP_OP_READFILE, CB_PAGE, CB_PAGE, NOCUT, 0, 0 },
    { "EOF before the header", 8, RDOP, 0, 0, 0, 1, 0 },
    { "EOF inside the fixed part", 8 + CB_PAGE, RDOP, CB_PAGE, CB_PAGE, EP_HDR + 3, 1, 0 },
    { "EOF inside the data", 8 + 2 * CB_PAGE, RDOP, 2 * CB_PAGE, 2 * CB_PAGE, EP_HDR + 8 + 100, 1,
      1 },
};

/* Every malformed or short READFILE response breaks the connection: the
 * call returns JET_errInstanceUnavailable with *pcb 0, the socket is shut
 * down (the server sees EOF), later calls get JET_errInstanceUnavailable;
 * data is never stored before the response passed its checks. */
START_TEST(readfile_malformed_breaks)
{
    const struct bad_case *k = &bad_cases[_i];
    struct fake f;
    jep_client *c;
    unsigned long got = 12345;
    uint8_t *pv;

    memset(&f, 0, sizeof f);
    fake_resp(&f, 0, k->hlen, k->op, 0, k->decl, k->ndata, 5, k->cut);
    f.shut_after = k->shut;
    fake_start(&f);
    ck_assert_int_eq(posix_memalign((void **)&pv, 4096, 2 * CB_PAGE), 0);
    memset(pv, 0xEE, 2 * CB_PAGE);
    ck_assert_int_eq(JepConnect(f.sock, &c), 0);
    ck_assert_msg(JepReadFile(c, 0, pv, 2 * CB_PAGE, &got) == JET_errInstanceUnavailable,
                  "%s: not refused", k->what);
    ck_assert_msg(got == 0, "%s: *pcb %lu", k->what, got);
    if (!k->may_write)
        ck_assert_msg(all_is(pv, 2 * CB_PAGE, 0xEE), "%s: buffer written", k->what);
    fake_finish(&f); /* returns only once the client shut the socket down */
    ck_assert_msg(f.bad == 0 && f.served == 1 && f.eof == 1,
                  "%s: server saw bad %d served %d eof %d", k->what, f.bad, f.served, f.eof);
    ck_assert_int_eq(JepReadFile(c, 0, pv, 2 * CB_PAGE, &got), JET_errInstanceUnavailable);
    ck_assert_int_eq(JepCloseFile(c, 0), JET_errInstanceUnavailable);
    JepDisconnect(c);
    free(pv);
}
END_TEST

/* Build the suite. */
static Suite *endpoint_suite(void)
{
    Suite *s = suite_create("endpoint");
    TCase *tc = tcase_create("server");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, full_backup_matches_in_process);
    tcase_add_test(tc, pipelined_reads_any_sizes);
    tcase_add_test(tc, other_uid_refused);
    tcase_add_test(tc, disconnect_mid_backup_aborts);
    tcase_add_test(tc, garbage_does_not_disturb_host);
    tcase_add_test(tc, second_client_gets_backup_in_progress);
    tcase_add_test(tc, socket_path_rules_and_stop);
    tcase_add_test(tc, check_begin_answers_without_beginning);
    suite_add_tcase(s, tc);
    tc = tcase_create("client-readfile");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, readfile_split_lands_in_caller_buffer);
    tcase_add_test(tc, readfile_error_with_data_keeps_stream);
    tcase_add_test(tc, readfile_goes_ahead_until_size);
    tcase_add_loop_test(tc, readfile_malformed_breaks, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(endpoint_suite)
