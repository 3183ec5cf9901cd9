/*
 * instance.c -- instances: creation, system parameters, JetInit (soft
 * recovery), the checkpointer, circular logging and JetTerm.
 *
 * Process context: the list of live instances (jet_process) so handles
 * can be validated; its mutex is held only to look up, add and remove.
 *
 * JetInit: lock the instance's files against other processes (flock on
 * <system path>/<base>.jlk), run soft recovery (jinst_recover, recovery.c:
 * read the checkpoint, find the logs, check them all, redo into the
 * instance's own database files, archive the recovered <base>.log), start a
 * fresh generation, write a checkpoint, start the checkpointer.  Nothing in
 * the directory changes unless recovery succeeds up to the redo.  After JetInit no database is attached: the
 * application attaches what it uses, as with ESE.
 *
 * Thread safety: every call is thread-safe.  See jet_int.h for the lock
 * order.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jet_int.h"

#define MAX_INSTANCES 64

/* The one piece of process-wide state: which instances exist. */
static struct jet_process {
    pthread_mutex_t mu;
    jet_inst *live[MAX_INSTANCES];
} jet_process = { PTHREAD_MUTEX_INITIALIZER, { NULL } };

/* jinst_get -- see jet_int.h. */
jet_inst *jinst_get(JET_INSTANCE instance)
{
    jet_inst *found = NULL;
    if (instance == 0 || instance == JET_instanceNil)
        return NULL;
    pthread_mutex_lock(&jet_process.mu);
    for (int i = 0; i < MAX_INSTANCES; i++)
        if (jet_process.live[i] == (jet_inst *)instance)
            found = jet_process.live[i];
    pthread_mutex_unlock(&jet_process.mu);
    return found;
}

/* jinst_set_fault_hook -- see jet_int.h (tests only). */
JET_ERR jinst_set_fault_hook(JET_INSTANCE instance, void (*fn)(void *arg, const char *point),
                             void *arg)
{
    jet_inst *inst = jinst_get(instance);
    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->lock);
    inst->fault = fn;
    inst->fault_arg = arg;
    pthread_mutex_unlock(&inst->lock);
    return JET_errSuccess;
}

/* jinst_fault -- call the test fault hook for point, if any.  The hook is
 * installed before JetInit and never changes while threads run. */
void jinst_fault(jet_inst *inst, const char *point)
{
    if (inst != NULL && inst->fault != NULL)
        inst->fault(inst->fault_arg, point);
}

/* Remove from the process list and free.  No thread may use it. */
static void inst_free(jet_inst *inst)
{
    pthread_mutex_lock(&jet_process.mu);
    for (int i = 0; i < MAX_INSTANCES; i++)
        if (jet_process.live[i] == inst)
            jet_process.live[i] = NULL;
    pthread_mutex_unlock(&jet_process.mu);
    jbk_destroy(inst);
    jlt_destroy(inst->locks);
    if (inst->lock_fd >= 0)
        jos_close(inst->lock_fd);
    pthread_mutex_destroy(&inst->lock);
    pthread_mutex_destroy(&inst->ckpt_lock);
    pthread_mutex_destroy(&inst->bk_lock);
    pthread_cond_destroy(&inst->ckpt_cv);
    free(inst);
}

/*
 * JetCreateInstance2A -- a new, uninitialised instance with ESENT's
 * defaults (spec 1.3; paths "./", base "edb", 5120 KiB logs, 4 KiB pages,
 * LegacyFileNames 3).  Errors: JET_errInstanceNameInUse,
 * JET_errTooManyActiveUsers (64 instances), JET_errOutOfMemory,
 * JET_errInvalidParameter.
 */
JET_ERR JET_API JetCreateInstance2A(JET_INSTANCE *pinstance, const char *szInstanceName,
                                    const char *szDisplayName, JET_GRBIT grbit)
{
    jet_inst *inst;
    JET_ERR rc = JET_errSuccess;
    int slot = -1;
    if (pinstance == NULL)
        return JET_errInvalidParameter;
    inst = calloc(1, sizeof *inst);
    if (inst == NULL)
        return JET_errOutOfMemory;
    snprintf(inst->name, sizeof inst->name, "%s", szInstanceName ? szInstanceName : "");
    snprintf(inst->sys_path, sizeof inst->sys_path, "./");
    snprintf(inst->log_path, sizeof inst->log_path, "./");
    snprintf(inst->base, sizeof inst->base, "edb");
    inst->log_kib = 5120;
    inst->cb_page = 4096;
    inst->legacy = JET_bitESE98FileNames | JET_bitEightDotThreeSoftCompat;
    inst->recovery = true;
    inst->cb_record = 64;
    inst->lock_fd = -1;
    pthread_mutex_init(&inst->lock, NULL);
    pthread_mutex_init(&inst->ckpt_lock, NULL);
    pthread_mutex_init(&inst->bk_lock, NULL);
    pthread_cond_init(&inst->ckpt_cv, NULL);
    inst->locks = jlt_create();
    if (inst->locks == NULL) {
        rc = JET_errOutOfMemory;
        goto out;
    }
    JCALL(jbk_create(inst));
    pthread_mutex_lock(&jet_process.mu);
    for (int i = 0; i < MAX_INSTANCES; i++) {
        jet_inst *o = jet_process.live[i];
        if (o == NULL && slot < 0)
            slot = i;
        if (o != NULL && inst->name[0] && strcmp(o->name, inst->name) == 0)
            rc = JET_errInstanceNameInUse;
    }
    if (rc == 0 && slot < 0)
        rc = JET_errTooManyActiveUsers;
    if (rc == 0)
        jet_process.live[slot] = inst;
    pthread_mutex_unlock(&jet_process.mu);
    if (rc == 0)
        *pinstance = (JET_INSTANCE)inst;
out:
    if (rc < 0)
        inst_free(inst);
    return rc;
}

/* JetCreateInstanceA -- JetCreateInstance2A without display name. */
JET_ERR JET_API JetCreateInstanceA(JET_INSTANCE *pinstance, const char *szInstanceName)
{
    return JetCreateInstance2A(pinstance, szInstanceName, NULL, 0);
}

/* Set a path parameter (stored raw; made absolute at JetInit). */
static JET_ERR set_path(char *dst, const char *sz)
{
    size_t n;
    if (sz == NULL || sz[0] == '\0')
        return JET_errInvalidParameter;
    n = strlen(sz);
    if (n + 2 >= JF_PATH_MAX)
        return JET_errInvalidPath;
    snprintf(dst, JF_PATH_MAX, "%s%s", sz, sz[n - 1] == '/' ? "" : "/");
    return JET_errSuccess;
}

/*
 * JetSetSystemParameterA -- set one parameter of an instance that is not
 * yet initialised.  libjet requires an instance (no process-wide
 * defaults).  Errors: JET_errInvalidInstance, JET_errAlreadyInitialized,
 * JET_errInvalidParameter (unknown id or value out of range),
 * JET_errInvalidPath.
 */
JET_ERR JET_API JetSetSystemParameterA(JET_INSTANCE *pinstance, JET_SESID sesid,
                                       unsigned long paramid, JET_API_PTR lParam, JET_PCSTR szParam)
{
    jet_inst *inst = pinstance ? jinst_get(*pinstance) : NULL;
    JET_ERR rc = JET_errSuccess;
    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_CREATED) {
        rc = JET_errAlreadyInitialized;
        goto out;
    }
    switch (paramid) {
    case JET_paramSystemPath:
        rc = set_path(inst->sys_path, szParam);
        break;
    case JET_paramLogFilePath:
        rc = set_path(inst->log_path, szParam);
        break;
    case JET_paramAlternateDatabaseRecoveryPath:
        rc = set_path(inst->alt_db_path, szParam);
        break;
    case JET_paramBaseName:
        if (szParam == NULL || strlen(szParam) != JET_BASE_NAME_LENGTH)
            rc = JET_errInvalidParameter;
        else
            snprintf(inst->base, sizeof inst->base, "%s", szParam);
        break;
    case JET_paramLogFileSize:
        if (lParam < 64 || lParam > 32768 || lParam % 4 != 0)
            rc = JET_errInvalidParameter;
        else
            inst->log_kib = (unsigned)lParam;
        break;
    case JET_paramCircularLog:
        inst->circular = lParam != 0;
        break;
    case JET_paramDatabasePageSize:
        if (lParam < JF_MIN_PAGE || lParam > JF_MAX_PAGE || (lParam & (lParam - 1)) != 0)
            rc = JET_errInvalidParameter;
        else
            inst->cb_page = (unsigned)lParam;
        break;
    case JET_paramLegacyFileNames:
        if (lParam > 3)
            rc = JET_errInvalidParameter;
        else
            inst->legacy = (unsigned)lParam;
        break;
    case JET_paramCreatePathIfNotExist:
        inst->create_path = lParam != 0;
        break;
    case JET_paramRecovery:
        if (szParam == NULL)
            rc = JET_errInvalidParameter;
        else
            inst->recovery = strcasecmp(szParam, "off") != 0;
        break;
    case JET_paramTempPath:
    case JET_paramMaxSessions:
        break; /* accepted, not used by libjet */
    case JETLIB_paramRecordSize:
        if (lParam < 8 || lParam > 1024)
            rc = JET_errInvalidParameter;
        else
            inst->cb_record = (unsigned)lParam;
        break;
    case JETLIB_paramCheckpointKiB:
        if (lParam < 64)
            rc = JET_errInvalidParameter;
        else
            inst->checkpoint_kib = (unsigned)lParam;
        break;
    default:
        rc = JET_errInvalidParameter;
    }
out:
    pthread_mutex_unlock(&inst->lock);
    return rc;
}

/* Copy a string parameter out. */
static JET_ERR get_str(const char *v, JET_PSTR sz, unsigned long cb)
{
    if (sz == NULL || cb == 0)
        return JET_errInvalidParameter;
    if (strlen(v) + 1 > cb)
        return JET_errBufferTooSmall;
    memcpy(sz, v, strlen(v) + 1);
    return JET_errSuccess;
}

/*
 * JetGetSystemParameterA -- read one parameter.  Errors:
 * JET_errInvalidInstance, JET_errInvalidParameter, JET_errBufferTooSmall.
 */
JET_ERR JET_API JetGetSystemParameterA(JET_INSTANCE instance, JET_SESID sesid,
                                       unsigned long paramid, JET_API_PTR *plParam,
                                       JET_PSTR szParam, unsigned long cbMax)
{
    jet_inst *inst = jinst_get(instance);
    JET_ERR rc = JET_errSuccess;
    JET_API_PTR v = 0;
    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->lock);
    switch (paramid) {
    case JET_paramSystemPath:
        rc = get_str(inst->sys_path, szParam, cbMax);
        break;
    case JET_paramLogFilePath:
        rc = get_str(inst->log_path, szParam, cbMax);
        break;
    case JET_paramAlternateDatabaseRecoveryPath:
        rc = get_str(inst->alt_db_path, szParam, cbMax);
        break;
    case JET_paramBaseName:
        rc = get_str(inst->base, szParam, cbMax);
        break;
    case JET_paramLogFileSize:
        v = inst->log_kib;
        break;
    case JET_paramCircularLog:
        v = inst->circular;
        break;
    case JET_paramDatabasePageSize:
        v = inst->cb_page;
        break;
    case JET_paramLegacyFileNames:
        v = inst->legacy;
        break;
    case JET_paramCreatePathIfNotExist:
        v = inst->create_path;
        break;
    case JETLIB_paramRecordSize:
        v = inst->cb_record;
        break;
    case JETLIB_paramCheckpointKiB:
        v = inst->checkpoint_kib;
        break;
    default:
        rc = JET_errInvalidParameter;
    }
    pthread_mutex_unlock(&inst->lock);
    if (rc == 0 && plParam != NULL)
        *plParam = v;
    return rc;
}

/*
 * JetLibGetInstanceName -- the name given to JetCreateInstance (jetlib.h).
 * Errors: JET_errInvalidInstance, JET_errInvalidParameter,
 * JET_errBufferTooSmall.  Locking: inst->lock.
 */
JET_ERR JetLibGetInstanceName(JET_INSTANCE instance, char *sz, unsigned long cbMax)
{
    jet_inst *inst = jinst_get(instance);
    JET_ERR rc;

    if (inst == NULL)
        return JET_errInvalidInstance;
    if (sz == NULL || cbMax == 0)
        return JET_errInvalidParameter;
    pthread_mutex_lock(&inst->lock);
    rc = get_str(inst->name, sz, cbMax);
    pthread_mutex_unlock(&inst->lock);
    return rc;
}

/* mkdir -p for an absolute or relative directory path. */
static int mkdir_p(const char *path)
{
    char tmp[JF_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (jos_mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (jos_mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Make a directory parameter absolute with a trailing '/'. */
static JET_ERR resolve_dir(char *dir, bool create)
{
    char real[PATH_MAX];
    struct stat st;
    if (create && mkdir_p(dir) != 0)
        return JET_errInvalidPath;
    if (jos_realpath(dir, real) == NULL || jos_stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return JET_errInvalidPath;
    if (strlen(real) + 2 > JF_PATH_MAX)
        return JET_errInvalidPath;
    snprintf(dir, JF_PATH_MAX, "%s%s", real, strcmp(real, "/") == 0 ? "" : "/");
    return JET_errSuccess;
}

/* jinst_log_path -- see jet_int.h. */
void jinst_log_path(const jet_inst *inst, uint32_t gen, char *buf, size_t cb)
{
    char name[64];
    jf_log_name(name, sizeof name, inst->base, gen, inst->legacy);
    snprintf(buf, cb, "%s%s", inst->log_path, name);
}

/* Path of a named file in a directory parameter. */
static void dir_file(char *buf, size_t cb, const char *dir, const char *name)
{
    snprintf(buf, cb, "%s%s", dir, name);
}

/* jinst_chk_path -- see jet_int.h. */
void jinst_chk_path(const jet_inst *inst, char *buf, size_t cb)
{
    char name[64];
    jf_chk_name(name, sizeof name, inst->base, inst->legacy);
    dir_file(buf, cb, inst->sys_path, name);
}

/* jinst_read_checkpoint -- the checkpoint file as on disk. */
JET_ERR jinst_read_checkpoint(jet_inst *inst, jf_chk *chk)
{
    char path[JF_PATH_MAX + 64];
    jinst_chk_path(inst, path, sizeof path);
    return jchk_read(path, chk);
}

/* Write the checkpoint file for position P with the current attach
 * list.  Caller holds ckpt_lock, and inst->lock iff locked. */
static JET_ERR write_checkpoint(jet_inst *inst, jf_lgpos p, bool locked)
{
    char path[JF_PATH_MAX + 64];
    jf_chk chk;
    JET_ERR rc;
    memset(&chk, 0, sizeof chk);
    chk.lgpos_checkpoint = p;
    chk.sign_log = jlog_signature(inst->log);
    chk.lgpos_db_consistency = p;
    if (!locked)
        pthread_mutex_lock(&inst->lock);
    jinst_attach_list(inst, &chk.attach);
    if (!locked)
        pthread_mutex_unlock(&inst->lock);
    jinst_chk_path(inst, path, sizeof path);
    rc = jchk_write_inst(inst, path, &chk);
    if (rc == 0) {
        jlog_set_checkpoint(inst->log, p);
        inst->ckpt_lgpos = p;
    }
    return rc;
}

/*
 * jinst_checkpoint -- see jet_int.h.  The position P is taken before the
 * pages are flushed: every change logged before P is in a flushed page,
 * every later one is in the logs from P on.
 */
JET_ERR jinst_checkpoint(jet_inst *inst)
{
    JET_ERR rc = JET_errSuccess;
    jf_lgpos p;
    bool pinned;
    pthread_mutex_lock(&inst->ckpt_lock);
    p = jlog_tip(inst->log);
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++) {
        jet_db *db;
        pthread_mutex_lock(&inst->lock);
        db = inst->dbs[d];
        pthread_mutex_unlock(&inst->lock);
        if (db != NULL)
            JCALL(jdb_flush(db)); /* db stays: detach needs ckpt_lock */
    }
    jinst_fault(inst, "ckpt.flushed");
    JCALL(write_checkpoint(inst, p, false));
    jinst_fault(inst, "ckpt.written");
    pthread_mutex_lock(&inst->lock);
    pinned = inst->bk_active;
    pthread_mutex_unlock(&inst->lock);
    if (inst->circular && !pinned) {
        uint32_t lo;
        if (jlog_oldest_gen(inst, &lo) == 0 && lo < (uint32_t)p.gen) {
            if (lo + 1 < (uint32_t)p.gen) {
                /* delete one, then the rest: a crash window to test */
                JCALL(jlog_delete_range(inst, lo, lo + 1));
                jinst_fault(inst, "ckpt.deleting");
                lo++;
            }
            JCALL(jlog_delete_range(inst, lo, (uint32_t)p.gen));
        }
    }
out:
    pthread_mutex_unlock(&inst->ckpt_lock);
    return rc;
}

/* The checkpointer: every second (or when a log roll wakes it), prepare
 * the next log file, and checkpoint when enough log was written since the
 * last one (or some was, and 10 s passed). */
static void *ckpt_main(void *arg)
{
    jet_inst *inst = arg;
    time_t last = time(NULL);
    pthread_mutex_lock(&inst->lock);
    while (!inst->ckpt_stop) {
        struct timespec ts;
        uint64_t bytes;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&inst->ckpt_cv, &inst->lock, &ts);
        if (inst->ckpt_stop)
            break;
        pthread_mutex_unlock(&inst->lock);
        jlog_prepare_next(inst->log); /* the next log file, off the log lock */
        bytes = jlog_bytes_since_checkpoint(inst->log);
        if (bytes >= (uint64_t)inst->checkpoint_kib * 1024 ||
            (bytes > 0 && time(NULL) - last >= 10)) {
            (void)jinst_checkpoint(inst); /* failures are retried next round */
            last = time(NULL);
        }
        pthread_mutex_lock(&inst->lock);
    }
    pthread_mutex_unlock(&inst->lock);
    return NULL;
}

/* Lock the instance's files against a second process. */
static JET_ERR lock_files(jet_inst *inst)
{
    char path[JF_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s%s.jlk", inst->sys_path, inst->base);
    inst->lock_fd = jos_open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (inst->lock_fd < 0)
        return errno == EACCES || errno == EROFS ? JET_errFileAccessDenied : JET_errInvalidPath;
    if (jos_flock(inst->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        jos_close(inst->lock_fd);
        inst->lock_fd = -1;
        return JET_errFileAccessDenied;
    }
    return JET_errSuccess;
}

/*
 * JetInit2 -- initialise the instance: soft recovery, then logging.  A
 * null *pinstance creates an unnamed instance first (single-instance
 * style).  Errors: JET_errInvalidInstance, JET_errAlreadyInitialized,
 * JET_errInvalidPath, JET_errFileAccessDenied (another process has the
 * instance), JET_errCheckpointCorrupt, JET_errLogFileCorrupt,
 * JET_errMissingLogFile, JET_errSoftRecoveryOnBackupDatabase,
 * JET_errLogFileSizeMismatch (JET_paramLogFileSize differs from the size
 * of the existing <base>.log), JET_errDatabaseCorrupted,
 * JET_errLogWriteFail, JET_errDiskIO.  On
 * failure the instance stays uninitialised (it may be retried or freed
 * with JetTerm).
 */
JET_ERR JET_API JetInit2(JET_INSTANCE *pinstance, JET_GRBIT grbit)
{
    jet_inst *inst;
    uint32_t gen;
    jf_logtime tprev;
    jf_sig sig;
    JET_ERR rc;
    if (pinstance == NULL)
        return JET_errInvalidParameter;
    if (*pinstance == 0) {
        rc = JetCreateInstanceA(pinstance, NULL);
        if (rc < 0)
            return rc;
    }
    inst = jinst_get(*pinstance);
    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->ckpt_lock);
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_CREATED) {
        rc = JET_errAlreadyInitialized;
        goto out;
    }
    JCALL(resolve_dir(inst->sys_path, inst->create_path));
    JCALL(resolve_dir(inst->log_path, inst->create_path));
    if (inst->alt_db_path[0] != '\0')
        JCALL(resolve_dir(inst->alt_db_path, false));
    if (inst->checkpoint_kib == 0)
        inst->checkpoint_kib = 4 * inst->log_kib;
    if (inst->lock_fd < 0)
        JCALL(lock_files(inst));
    JCALL(jinst_recover(inst, &gen, &tprev, &sig));
    JCALL(jlog_open(inst, gen, tprev, &sig, &inst->log));
    inst->state = JI_RUNNING;
    rc = write_checkpoint(inst, jlog_tip(inst->log), true);
    if (rc < 0) {
        inst->state = JI_CREATED;
        jlog_close(inst->log);
        inst->log = NULL;
        goto out;
    }
    inst->ckpt_stop = false;
    if (pthread_create(&inst->ckpt_thread, NULL, ckpt_main, inst) != 0) {
        inst->state = JI_CREATED;
        jlog_close(inst->log);
        inst->log = NULL;
        rc = JET_errOutOfMemory;
        goto out;
    }
    inst->ckpt_running = true;
    inst->bk_allowed = true;
out:
    if (rc < 0 && inst->lock_fd >= 0 && inst->state == JI_CREATED) {
        jos_close(inst->lock_fd);
        inst->lock_fd = -1;
    }
    pthread_mutex_unlock(&inst->lock);
    pthread_mutex_unlock(&inst->ckpt_lock);
    return rc;
}

/* JetInit -- JetInit2 with no grbit. */
JET_ERR JET_API JetInit(JET_INSTANCE *pinstance)
{
    return JetInit2(pinstance, 0);
}

/*
 * JetTerm2 -- shut the instance down cleanly and free it: stop the
 * checkpointer, detach every database (pages flushed, headers clean),
 * write a TERM record and a final checkpoint.  A running backup: with
 * JET_bitTermAbrupt or JET_bitTermStopBackup it is ended with abort (spec
 * 2.5), otherwise JET_errBackupInProgress.  Without TermAbrupt, open
 * sessions give JET_errTooManyActiveUsers; with it they are rolled back and
 * freed, and their handles give JET_errInvalidSesid afterwards (no thread
 * may be inside a call on them).  A database that cannot be detached
 * cleanly (I/O or log failure) is closed anyway and left for soft recovery.
 * An uninitialised instance is
 * just freed.  Errors also: JET_errInvalidInstance, JET_errLogWriteFail,
 * JET_errDiskIO (the instance is freed anyway; recovery will redo).
 */
JET_ERR JET_API JetTerm2(JET_INSTANCE instance, JET_GRBIT grbit)
{
    jet_inst *inst = jinst_get(instance);
    JET_ERR rc, r;
    bool abrupt = (grbit & JET_bitTermAbrupt) != 0;
    if (inst == NULL)
        return JET_errInvalidInstance;
    pthread_mutex_lock(&inst->lock);
    if (inst->state == JI_CREATED) {
        pthread_mutex_unlock(&inst->lock);
        inst_free(inst);
        return JET_errSuccess;
    }
    if (inst->state != JI_RUNNING) {
        pthread_mutex_unlock(&inst->lock);
        return JET_errTermInProgress;
    }
    if (!abrupt && inst->nsessions > 0) {
        pthread_mutex_unlock(&inst->lock);
        return JET_errTooManyActiveUsers;
    }
    pthread_mutex_unlock(&inst->lock);
    rc = jbk_on_term(inst, abrupt || (grbit & JET_bitTermStopBackup));
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&inst->lock);
    inst->state = JI_TERMINATING;
    inst->bk_allowed = false;
    inst->ckpt_stop = true;
    pthread_cond_broadcast(&inst->ckpt_cv);
    pthread_mutex_unlock(&inst->lock);
    if (inst->ckpt_running)
        pthread_join(inst->ckpt_thread, NULL);
    inst->ckpt_running = false;

    pthread_mutex_lock(&inst->ckpt_lock);
    pthread_mutex_lock(&inst->lock);
    /* abrupt: sessions still open are rolled back and freed; their handles
     * give JET_errInvalidSesid from now on */
    jsess_term_all(inst);
    rc = jinst_detach_all(inst, true);
    for (uint32_t d = 1; d <= JF_MAX_DBS; d++) {
        if (inst->dbs[d] != NULL) { /* detach failed: recovery will redo it */
            jdb_close(inst->dbs[d]);
            inst->dbs[d] = NULL;
        }
    }
    pthread_mutex_unlock(&inst->lock);
    r = jlog_append(inst->log, JF_LR_TERM, NULL, 0, NULL, NULL);
    if (r == 0)
        r = jlog_flush_all(inst->log);
    /* a database that could not be detached cleanly needs redo from the
     * checkpoint on disk: do not move the checkpoint past its records */
    if (r == 0 && rc == 0)
        r = write_checkpoint(inst, jlog_tip(inst->log), false);
    if (rc == 0)
        rc = r;
    pthread_mutex_unlock(&inst->ckpt_lock);
    jlog_close(inst->log);
    inst->log = NULL;
    inst_free(inst);
    return rc;
}

/* JetTerm -- JetTerm2(JET_bitTermAbrupt), as ESE (spec 2.5). */
JET_ERR JET_API JetTerm(JET_INSTANCE instance)
{
    return JetTerm2(instance, JET_bitTermAbrupt);
}

/* Common check for the JetLib instance calls. */
static jet_inst *running(JET_INSTANCE instance, JET_ERR *prc)
{
    jet_inst *inst = jinst_get(instance);
    *prc = JET_errSuccess;
    if (inst == NULL) {
        *prc = JET_errInvalidInstance;
        return NULL;
    }
    pthread_mutex_lock(&inst->lock);
    if (inst->state != JI_RUNNING)
        *prc = JET_errNotInitialized;
    pthread_mutex_unlock(&inst->lock);
    return *prc < 0 ? NULL : inst;
}

/* JetLibCheckpoint -- see jetlib.h. */
JET_ERR JetLibCheckpoint(JET_INSTANCE instance)
{
    JET_ERR rc;
    jet_inst *inst = running(instance, &rc);
    return inst == NULL ? rc : jinst_checkpoint(inst);
}

/* JetLibRollLog -- see jetlib.h. */
JET_ERR JetLibRollLog(JET_INSTANCE instance, unsigned long *pgenNew)
{
    JET_ERR rc;
    uint32_t g = 0;
    jet_inst *inst = running(instance, &rc);
    if (inst == NULL)
        return rc;
    rc = jlog_roll(inst->log, &g);
    if (pgenNew != NULL)
        *pgenNew = g;
    return rc;
}

/* JetLibGetLogState -- see jetlib.h. */
JET_ERR JetLibGetLogState(JET_INSTANCE instance, unsigned long *pgenCurrent,
                          unsigned long *pgenCheckpoint)
{
    JET_ERR rc;
    jf_chk chk;
    jet_inst *inst = running(instance, &rc);
    if (inst == NULL)
        return rc;
    if (pgenCurrent != NULL)
        *pgenCurrent = jlog_current_gen(inst->log);
    rc = jinst_read_checkpoint(inst, &chk);
    if (rc == 0 && pgenCheckpoint != NULL)
        *pgenCheckpoint = (unsigned long)chk.lgpos_checkpoint.gen;
    return rc;
}
