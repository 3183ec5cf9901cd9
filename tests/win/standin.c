/*
 * standin.c -- the engine stand-ins' common core (standin.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "standin.h"

#define SC_MAXF 32
#define E_INVALIDPARAM (-1003) /* JET_errInvalidParameter */
#define E_NOBACKUP (-520)      /* JET_errNoBackup */
#define E_SEQUENCE (-521)      /* JET_errInvalidBackupSequence */
#define E_INPROGRESS (-505)    /* JET_errBackupInProgress */
#define E_NOTFOUND (-1811)     /* JET_errFileNotFound */
#define E_NOTCOPIED (-616)     /* JET_errLogFileNotCopied */
#define E_TOOMANY (-1011)      /* second open: ESE gives JET_errOutOfMemory */
#define E_DISKIO (-1022)       /* JET_errDiskIO */

typedef struct sc_file {
    char win[260];  /* name as the engine reports it */
    char path[520]; /* the recorded file */
    bool is_log;
    bool done; /* read completely and closed */
} sc_file;

/* The stand-in's one context. */
typedef struct sc_ctx {
    bool loaded;
    unsigned long page, gen_lo, gen_hi;
    char base[4];
    sc_file f[SC_MAXF];
    int nf;
    bool begun, logs_listed;
    int open; /* index of the open file, -1 none */
    FILE *fp;
    uint64_t off, size;
    unsigned long reads, fail_at;
    long fail_err;
    CRITICAL_SECTION lock;
} sc_ctx;

static sc_ctx g = { .open = -1 };
static INIT_ONCE g_once = INIT_ONCE_STATIC_INIT;

void sc_record(const char *fmt, ...)
{
    const char *p = getenv("ESEFS_RECORD");
    va_list ap;
    FILE *f;

    if (!p || !(f = fopen(p, "ab")))
        return;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

static BOOL CALLBACK sc_load(PINIT_ONCE once, PVOID param, PVOID *ctx)
{
    const char *rec = getenv("ESEFS_REC"), *fail = getenv("ESEFS_FAIL_READ");
    char path[600], line[1024], a[260], b[260];
    FILE *f;

    InitializeCriticalSection(&g.lock);
    if (fail && sscanf(fail, "%lu:%ld", &g.fail_at, &g.fail_err) != 2)
        g.fail_at = 0;
    if (!rec)
        return TRUE;
    snprintf(path, sizeof path, "%s/index", rec);
    f = fopen(path, "r");
    if (!f) {
        sc_record("violation cannot open %s", path);
        return TRUE;
    }
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "page %lu", &g.page) == 1 ||
            sscanf(line, "gen %lu %lu", &g.gen_lo, &g.gen_hi) == 2 ||
            sscanf(line, "base %3s", g.base) == 1)
            continue;
        if (g.nf < SC_MAXF && (sscanf(line, "db %259s %259s", a, b) == 2 ||
                               sscanf(line, "log %259s %259s", a, b) == 2)) {
            sc_file *x = &g.f[g.nf++];
            snprintf(x->win, sizeof x->win, "%s", a);
            snprintf(x->path, sizeof x->path, "%s/%s", rec, b);
            x->is_log = line[0] == 'l';
        }
    }
    fclose(f);
    g.loaded = true;
    return TRUE;
}

static void sc_lock(void)
{
    (void)InitOnceExecuteOnce(&g_once, sc_load, NULL, NULL);
    EnterCriticalSection(&g.lock);
}

static long sc_unlock(long rc)
{
    LeaveCriticalSection(&g.lock);
    return rc;
}

static long sc_violation(const char *what, long rc)
{
    sc_record("violation %s", what);
    return rc;
}

static void sc_close_file(void)
{
    if (g.fp)
        fclose(g.fp);
    g.fp = NULL;
    g.open = -1;
}

static void sc_abort(void)
{
    sc_close_file();
    g.begun = false;
    sc_record("abort by engine");
}

long sc_begin(unsigned long grbit)
{
    sc_lock();
    if (!g.loaded)
        return sc_unlock(E_NOBACKUP);
    if (g.begun)
        return sc_unlock(E_INPROGRESS);
    if (grbit & ~1ul)
        return sc_unlock(sc_violation("begin grbit", -900));
    g.begun = true;
    g.logs_listed = false;
    g.reads = 0;
    for (int i = 0; i < g.nf; i++)
        g.f[i].done = false;
    sc_record("begin %lu", grbit);
    return sc_unlock(0);
}

long sc_list_get(sc_list which, WCHAR db_prefix, WCHAR log_prefix, WCHAR **pw, unsigned long *pcb)
{
    size_t n = 1, k = 0;
    WCHAR *w;

    sc_lock();
    *pw = NULL;
    *pcb = 0;
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    if (which == SC_LOGS) {
        for (int i = 0; i < g.nf; i++)
            if (!g.f[i].is_log && !g.f[i].done)
                sc_record("violation log list before every database was copied");
        g.logs_listed = true;
    }
    for (int i = 0; i < g.nf; i++)
        if (g.f[i].is_log == (which == SC_LOGS))
            n += strlen(g.f[i].win) + 2;
    w = calloc(n + 1, sizeof *w);
    if (!w)
        return sc_unlock(-1011);
    for (int i = 0; i < g.nf; i++) {
        const char *s = g.f[i].win;
        WCHAR pre = g.f[i].is_log ? log_prefix : db_prefix;
        if (g.f[i].is_log != (which == SC_LOGS))
            continue;
        if (pre)
            w[k++] = pre;
        while (*s)
            w[k++] = (WCHAR)(unsigned char)*s++;
        w[k++] = 0;
    }
    w[k++] = 0;
    *pw = w;
    *pcb = (unsigned long)(k * sizeof *w);
    return sc_unlock(0);
}

void sc_gens(unsigned long *lo, unsigned long *hi, WCHAR base[4])
{
    sc_lock();
    *lo = g.gen_lo;
    *hi = g.gen_hi;
    for (int i = 0; i < 4; i++)
        base[i] = (WCHAR)(unsigned char)g.base[i];
    (void)sc_unlock(0);
}

long sc_open(const WCHAR *name, uint64_t *psize)
{
    char a[260];
    int i;

    sc_lock();
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    if (g.open >= 0)
        return sc_unlock(sc_violation("second open file", E_TOOMANY));
    for (i = 0; i < 259 && name[i]; i++)
        a[i] = (char)name[i];
    a[i] = 0;
    for (i = 0; i < g.nf; i++)
        if (!strcmp(g.f[i].win, a))
            break;
    if (i == g.nf)
        return sc_unlock(sc_violation("open of an unlisted file", E_NOTFOUND));
    if (g.f[i].is_log != g.logs_listed)
        return sc_unlock(sc_violation(g.f[i].is_log ? "log opened before GetLogInfo"
                                                    : "database opened after GetLogInfo",
                                      E_SEQUENCE));
    g.fp = fopen(g.f[i].path, "rb");
    if (!g.fp)
        return sc_unlock(sc_violation("recorded file missing", E_NOTFOUND));
    (void)fseek(g.fp, 0, SEEK_END);
    g.size = (uint64_t)ftell(g.fp);
    (void)fseek(g.fp, 0, SEEK_SET);
    g.off = 0;
    g.open = i;
    *psize = g.size;
    return sc_unlock(0);
}

long sc_read(void *pv, unsigned long cb, unsigned long *pcb)
{
    SYSTEM_INFO si;
    size_t n;

    sc_lock();
    *pcb = 0;
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    if (g.open < 0)
        return sc_unlock(sc_violation("read without an open file", E_INVALIDPARAM));
    GetSystemInfo(&si);
    if ((uintptr_t)pv % si.dwAllocationGranularity)
        return sc_unlock(
            sc_violation("read buffer not aligned to the allocation granularity", E_INVALIDPARAM));
    if (!g.page || cb % g.page)
        return sc_unlock(sc_violation("read size not a multiple of the page size", E_INVALIDPARAM));
    if (g.off == 0 && cb <= 2 * g.page)
        return sc_unlock(sc_violation("first read not larger than two pages", E_INVALIDPARAM));
    if (g.fail_at && ++g.reads == g.fail_at) {
        bool log = g.f[g.open].is_log;
        sc_record("read %lu failed %ld", g.reads, g.fail_err);
        if (log)
            sc_abort();
        else
            sc_close_file();
        return sc_unlock(g.fail_err);
    }
    n = fread(pv, 1, cb, g.fp);
    if (n < cb && ferror(g.fp))
        return sc_unlock(E_DISKIO);
    g.off += n;
    *pcb = (unsigned long)n;
    return sc_unlock(0);
}

long sc_close(void)
{
    sc_lock();
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    if (g.open < 0)
        return sc_unlock(sc_violation("close without an open file", E_INVALIDPARAM));
    if (g.off == g.size)
        g.f[g.open].done = true;
    sc_close_file();
    return sc_unlock(0);
}

long sc_truncate(void)
{
    sc_lock();
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    for (int i = 0; i < g.nf; i++)
        if (g.f[i].is_log && !g.f[i].done)
            return sc_unlock(sc_violation("truncate before every log was copied", E_NOTCOPIED));
    sc_record("truncate");
    return sc_unlock(0);
}

long sc_end(bool abort, unsigned long grbit)
{
    sc_lock();
    if (!g.begun)
        return sc_unlock(E_NOBACKUP);
    sc_close_file();
    g.begun = false;
    sc_record("end %s%s", abort ? "abort" : "normal", grbit & 0x100 ? " truncatedone" : "");
    return sc_unlock(0);
}

bool sc_all_done(void)
{
    bool all = true;

    sc_lock();
    for (int i = 0; i < g.nf; i++)
        all = all && g.f[i].done;
    (void)sc_unlock(0);
    return all;
}

unsigned long sc_page(void)
{
    unsigned long page;

    sc_lock();
    page = g.page;
    (void)sc_unlock(0);
    return page;
}
