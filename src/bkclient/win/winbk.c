/*
 * winbk.c -- helpers of the Windows backends (winbk.h) and the table over
 * the streaming backup clients (ntdsbcli.dll DsBackup*, certadm.dll
 * CertSrvBackup*).
 *
 * Semantics of those clients (Microsoft Learn, DsBackup* / CertSrvBackup*
 * pages): Prepare gives a context handle (HBC) for one backup, grbit must
 * be 0, the type is full or logs-only; GetDatabaseNames and GetBackupLogs
 * return a UTF-16 multi-string allocated by the client (freed with its
 * Free call) in which each name starts with one BFT type character;
 * OpenFile gives the 64-bit size, Read the next bytes, Close ends the
 * file; TruncateLogs deletes the logs the backup made unnecessary (after a
 * logs-only backup that was meant as a differential, the incremental
 * information is lost); End releases the context (there is no abort flag:
 * an End without TruncateLogs truncates nothing).  Errors are HRESULTs;
 * ESE's own errors come wrapped as 0xC8000000 | -err (bkc_hr_name).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "winbk.h"

/* ---- helpers ---- */

/* See winbk.h. */
JET_ERR wb_bounce_init(wb_bounce *b)
{
    memset(b, 0, sizeof *b);
    b->buf = VirtualAlloc(NULL, WB_BOUNCE, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    return b->buf ? 0 : JET_errOutOfMemory;
}

/* See winbk.h. */
void wb_bounce_free(wb_bounce *b)
{
    if (b->buf)
        (void)VirtualFree(b->buf, 0, MEM_RELEASE);
    memset(b, 0, sizeof *b);
}

/* See winbk.h. */
void wb_bounce_reset(wb_bounce *b)
{
    b->off = b->len = 0;
    b->eof = false;
}

/* See winbk.h. */
JET_ERR wb_bounce_read(wb_bounce *b, wb_read_fn *rd, void *ctx, void *pv, unsigned long cb,
                       unsigned long *pcb)
{
    JET_ERR rc = 0;
    unsigned long n, got = 0;

    *pcb = 0;
    while (got < cb) {
        if (b->off == b->len) {
            if (b->eof)
                break;
            n = 0;
            rc = rd(ctx, b->buf, WB_BOUNCE, &n);
            if (rc < 0)
                break;
            b->off = 0;
            b->len = n;
            if (n == 0) {
                b->eof = true;
                break;
            }
        }
        n = b->len - b->off;
        if (n > cb - got)
            n = cb - got;
        memcpy((unsigned char *)pv + got, b->buf + b->off, n);
        b->off += n;
        got += n;
    }
    *pcb = got;
    return rc < 0 ? rc : 0;
}

/* See winbk.h. */
wchar_t *wb_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    wchar_t *w;

    if (n <= 0)
        return NULL;
    w = malloc((size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
        free(w);
        w = NULL;
    }
    return w;
}

/* See winbk.h. */
JET_ERR wb_szz_from_wide(const wchar_t *w, size_t cb_w, const wchar_t *keep, char **pszz,
                         unsigned long *pcb)
{
    size_t nw = cb_w / sizeof *w, i = 0, used = 0, cap = 2;
    char *out = NULL, *t;
    JET_ERR rc = 0;
    int n;

    *pszz = NULL;
    *pcb = 0;
    /* Worst case 3 UTF-8 bytes per UTF-16 unit. */
    cap += nw * 3 + 2;
    out = calloc(1, cap);
    if (!out)
        return JET_errOutOfMemory;
    while (i < nw && w[i]) {
        const wchar_t *s = w + i;
        size_t len = wcsnlen(s, nw - i);

        i += len + 1;
        if (keep) {
            if (!wcschr(keep, s[0]))
                continue;
            s++;
            len--;
        }
        if (len == 0)
            continue;
        n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, s, (int)len, out + used,
                                (int)(cap - used - 2), NULL, NULL);
        if (n <= 0) {
            rc = JET_errInvalidParameter;
            goto out;
        }
        used += (size_t)n + 1;
    }
    out[used] = 0;
    *pcb = (unsigned long)used + 1;
    t = realloc(out, used + 2);
    if (t)
        out = t;
    out[used + 1] = 0;
    *pszz = out;
    out = NULL;
out:
    free(out);
    return rc;
}

/* See winbk.h. */
JET_ERR wb_szz_out(const char *src, unsigned long cb_src, char *szz, unsigned long cb_max,
                   unsigned long *pcb_actual)
{
    if (pcb_actual)
        *pcb_actual = cb_src;
    if (!szz)
        return 0;
    if (cb_max < cb_src)
        return JET_errBufferTooSmall;
    memcpy(szz, src, cb_src);
    return 0;
}

/* See winbk.h. */
JET_ERR wb_log_gen(const char *path, unsigned long *pgen, char base[JET_BASE_NAME_LENGTH + 1])
{
    const char *name = path, *p, *dot;
    char *end;
    unsigned long g;

    for (p = path; *p; p++)
        if (*p == '\\' || *p == '/' || *p == ':')
            name = p + 1;
    dot = strrchr(name, '.');
    if (!dot || dot - name <= JET_BASE_NAME_LENGTH || dot - name > JET_BASE_NAME_LENGTH + 8)
        return JET_errInvalidParameter;
    g = strtoul(name + JET_BASE_NAME_LENGTH, &end, 16);
    if (end != dot)
        return JET_errInvalidParameter;
    *pgen = g;
    memcpy(base, name, JET_BASE_NAME_LENGTH);
    base[JET_BASE_NAME_LENGTH] = 0;
    return 0;
}

/* See winbk.h. */
JET_ERR wb_load(const wchar_t *dll_w, const char *dll_name, HMODULE *pdll, char *err, size_t cb_err)
{
    *pdll = LoadLibraryW(dll_w);
    if (*pdll)
        return 0;
    snprintf(err, cb_err,
             "%s: cannot load (Win32 error %lu): the role's backup client is not installed",
             dll_name, (unsigned long)GetLastError());
    return JET_errFileNotFound;
}

/* See winbk.h. */
JET_ERR wb_proc(HMODULE dll, const char *dll_name, const char *fn, FARPROC *pf, char *err,
                size_t cb_err)
{
    *pf = GetProcAddress(dll, fn);
    if (*pf)
        return 0;
    snprintf(err, cb_err, "%s: no entry point %s (Win32 error %lu)", dll_name, fn,
             (unsigned long)GetLastError());
    return JET_errFileNotFound;
}

/* ---- the streaming-client table ---- */

typedef struct hbc_ctx {
    wb_hbc_api api_v;      /* copy of the caller's */
    const wb_hbc_api *api; /* &api_v */
    HMODULE dll;
    wchar_t *server; /* NULL = local */
    char name[64];   /* instance name for info */
    unsigned long cb_page;
    void *hbc; /* NULL = no backup */
    bool file_open;
    char *logs; /* log list (fetched once: the call rolls the log) */
    unsigned long cb_logs;
    JET_LOGINFO_A li;
    wb_bounce bounce;
    char detail[256];
    bkc_ops ops; /* hbc_ops named after the client; fixed at open */
} hbc_ctx;

/* Map hr to a JET_ERR and keep its name in detail. */
static JET_ERR hbc_fail(hbc_ctx *c, const char *call, HRESULT hr)
{
    long jet = 0;
    const char *name = bkc_hr_name((uint32_t)hr, &jet);

    snprintf(c->detail, sizeof c->detail, "%s%s: %s (0x%08lX)", c->api->prefix, call, name,
             (unsigned long)(uint32_t)hr);
    if (jet < 0)
        return jet;
    switch ((uint32_t)hr) {
    case 0x8007000Eu:
        return JET_errOutOfMemory;
    case 0xC7FF0001u: /* hrInvalidParam */
    case 0x80070057u:
        return JET_errInvalidParameter;
    case 0xC7FF0003u:
        return JET_errInvalidParameter; /* hrInvalidHandle */
    case 0xC7FF000Au:                   /* hrLogFileNotFound */
    case 0x80070002u:
        return JET_errFileNotFound;
    case 0xC7FF000Bu:
        return JET_errInvalidBackup; /* hrCircularLogging */
    case 0xC7FF000Eu:
        return JET_errMissingFullBackup; /* hrFullBackupNotTaken */
    case 0x80070005u:
        return JET_errAccessDenied;
    default:
        return JET_errInstanceUnavailable; /* no server, RPC, hrError */
    }
}

static JET_ERR hbc_info(void *p, bkc_info *info)
{
    hbc_ctx *c = p;

    memset(info, 0, sizeof *info);
    snprintf(info->instance, sizeof info->instance, "%s", c->name);
    snprintf(info->base_name, sizeof info->base_name, "%s",
             c->li.szBaseName[0] ? c->li.szBaseName : "edb");
    info->cb_page = c->cb_page;
    info->circular = false; /* Prepare fails with hrCircularLogging otherwise */
    info->legacy = JET_bitESE98FileNames | JET_bitEightDotThreeSoftCompat; /* edbXXXXX.log */
    info->log_kib = 0;
    return 0;
}

static JET_ERR hbc_begin(void *p, JET_GRBIT grbit)
{
    hbc_ctx *c = p;
    HRESULT hr;

    c->detail[0] = 0;
    if (c->hbc)
        return JET_errBackupInProgress;
    if (grbit & ~(JET_GRBIT)JET_bitBackupIncremental)
        return JET_errInvalidGrbit;
    hr = c->api->prepare(c->api, c->server, grbit != 0, &c->hbc);
    if (FAILED(hr)) {
        c->hbc = NULL;
        return hbc_fail(c, "Prepare", hr);
    }
    free(c->logs);
    c->logs = NULL;
    c->file_open = false;
    return 0;
}

/* Fetch a list with get (GetDatabaseNames / GetBackupLogs), keep the
 * strings of the types in keep, free the client's buffer. */
static JET_ERR hbc_list(hbc_ctx *c, const char *call,
                        HRESULT(WINAPI *get)(void *, WCHAR **, DWORD *), const wchar_t *keep,
                        char **pszz, unsigned long *pcb)
{
    WCHAR *w = NULL;
    DWORD cb = 0;
    HRESULT hr;
    JET_ERR rc;

    if (!c->hbc)
        return JET_errNoBackup;
    hr = get(c->hbc, &w, &cb);
    if (FAILED(hr))
        return hbc_fail(c, call, hr);
    rc = wb_szz_from_wide(w, cb, keep, pszz, pcb);
    if (w)
        c->api->free(w);
    return rc;
}

static JET_ERR hbc_attach_info(void *p, char *szz, unsigned long cb_max, unsigned long *pcb)
{
    hbc_ctx *c = p;
    wchar_t keep[2] = { c->api->db_type, 0 };
    char *list = NULL;
    unsigned long cb = 0;
    JET_ERR rc = hbc_list(c, "GetDatabaseNamesW", c->api->get_dbs, keep, &list, &cb);

    if (rc >= 0)
        rc = wb_szz_out(list, cb, szz, cb_max, pcb);
    free(list);
    return rc;
}

static JET_ERR hbc_open(void *p, const char *name, JET_HANDLE *ph, uint64_t *psize)
{
    hbc_ctx *c = p;
    LARGE_INTEGER li;
    wchar_t *w;
    HRESULT hr;

    if (!c->hbc)
        return JET_errNoBackup;
    if (c->file_open)
        return JET_errTooManyOpenTables;
    w = wb_wide(name);
    if (!w)
        return JET_errOutOfMemory;
    li.QuadPart = 0;
    hr = c->api->open(c->hbc, w, WB_BOUNCE, &li);
    free(w);
    if (FAILED(hr))
        return hbc_fail(c, "OpenFileW", hr);
    c->file_open = true;
    wb_bounce_reset(&c->bounce);
    *ph = 0;
    *psize = (uint64_t)li.QuadPart;
    return 0;
}

static JET_ERR hbc_raw_read(void *p, void *buf, unsigned long cb, unsigned long *pcb)
{
    hbc_ctx *c = p;
    DWORD n = 0;
    HRESULT hr = c->api->read(c->hbc, buf, cb, &n);

    *pcb = 0;
    if (FAILED(hr)) {
        /* ESE closed the file (a database) or ended the backup (a log):
         * the handle is gone either way; never Close it again. */
        c->file_open = false;
        return hbc_fail(c, "Read", hr);
    }
    *pcb = n;
    return 0;
}

static JET_ERR hbc_read(void *p, JET_HANDLE h, void *pv, unsigned long cb, unsigned long *pcb)
{
    hbc_ctx *c = p;

    *pcb = 0;
    if (!c->hbc)
        return JET_errNoBackup;
    if (!c->file_open || h != 0)
        return JET_errInvalidParameter;
    return wb_bounce_read(&c->bounce, hbc_raw_read, c, pv, cb, pcb);
}

static JET_ERR hbc_close(void *p, JET_HANDLE h)
{
    hbc_ctx *c = p;
    HRESULT hr;

    if (!c->hbc)
        return JET_errNoBackup;
    if (!c->file_open || h != 0)
        return JET_errInvalidParameter;
    c->file_open = false;
    hr = c->api->close(c->hbc);
    return FAILED(hr) ? hbc_fail(c, "Close", hr) : 0;
}

static JET_ERR hbc_log_info(void *p, char *szz, unsigned long cb_max, unsigned long *pcb,
                            JET_LOGINFO_A *li)
{
    hbc_ctx *c = p;
    wchar_t keep[3] = { c->api->log_type, c->api->pat_type, 0 };
    unsigned long gen, lo = 0, hi = 0;
    char base[JET_BASE_NAME_LENGTH + 1] = "";
    JET_ERR rc = 0;

    if (!c->logs) {
        rc = hbc_list(c, "GetBackupLogsW", c->api->get_logs, keep, &c->logs, &c->cb_logs);
        if (rc < 0)
            return rc;
        for (const char *s = bkc_szz_first(c->logs); s; s = bkc_szz_next(s)) {
            if (wb_log_gen(s, &gen, base) < 0)
                continue; /* a patch file */
            if (!lo || gen < lo)
                lo = gen;
            if (gen > hi)
                hi = gen;
            memcpy(c->li.szBaseName, base, sizeof base);
        }
        c->li.ulGenLow = lo;
        c->li.ulGenHigh = hi;
    }
    if (li) {
        li->ulGenLow = c->li.ulGenLow;
        li->ulGenHigh = c->li.ulGenHigh;
        memcpy(li->szBaseName, c->li.szBaseName, sizeof li->szBaseName);
    }
    return wb_szz_out(c->logs, c->cb_logs, szz, cb_max, pcb);
}

static JET_ERR hbc_truncate(void *p)
{
    hbc_ctx *c = p;
    HRESULT hr;

    if (!c->hbc)
        return JET_errNoBackup;
    hr = c->api->truncate(c->hbc);
    return FAILED(hr) ? hbc_fail(c, "TruncateLogs", hr) : 0;
}

/* End: the clients have no abort flag; an abort is an End that follows no
 * TruncateLogs (what the table's callers do). */
static JET_ERR hbc_end(void *p, JET_GRBIT grbit)
{
    hbc_ctx *c = p;
    HRESULT hr;

    if (!c->hbc)
        return JET_errNoBackup;
    if (!(grbit & JET_bitBackupEndNormal) == !(grbit & JET_bitBackupEndAbort))
        return JET_errInvalidGrbit;
    if (c->file_open) {
        (void)c->api->close(c->hbc);
        c->file_open = false;
    }
    hr = c->api->end(c->hbc);
    c->hbc = NULL;
    return FAILED(hr) ? hbc_fail(c, "End", hr) : 0;
}

static const char *hbc_detail(void *p)
{
    return ((hbc_ctx *)p)->detail;
}

static JET_ERR hbc_destroy(void *p)
{
    hbc_ctx *c = p;

    if (c->hbc)
        (void)hbc_end(c, JET_bitBackupEndAbort);
    wb_bounce_free(&c->bounce);
    free(c->logs);
    free(c->server);
    if (c->dll)
        (void)FreeLibrary(c->dll);
    free(c);
    return 0;
}

static const bkc_ops hbc_ops = {
    .name = "Windows backup client",
    .info = hbc_info,
    .begin = hbc_begin,
    .attach_info = hbc_attach_info,
    .open = hbc_open,
    .read = hbc_read,
    .close = hbc_close,
    .log_info = hbc_log_info,
    .trunc_info = NULL,
    .truncate = hbc_truncate,
    .end = hbc_end,
    .committed_at_roll = NULL,
    .destroy = hbc_destroy,
    .detail = hbc_detail,
};

/* See winbk.h. */
JET_ERR wb_hbc_open(const wb_hbc_api *api, HMODULE dll, const char *server, const char *name,
                    unsigned long page_size, bkc_source *src, char *err, size_t cb_err)
{
    hbc_ctx *c = calloc(1, sizeof *c);
    JET_ERR rc = 0;

    if (!c) {
        rc = JET_errOutOfMemory;
        snprintf(err, cb_err, "%s: JET_errOutOfMemory", api->dll_name);
        goto out;
    }
    c->api_v = *api;
    c->api = &c->api_v;
    c->cb_page = page_size ? page_size : 8192;
    snprintf(c->name, sizeof c->name, "%s", name);
    if (server && *server) {
        c->server = wb_wide(server);
        if (!c->server) {
            rc = JET_errInvalidParameter;
            snprintf(err, cb_err, "%s: server name '%s' is not valid UTF-8", api->dll_name, server);
            goto out;
        }
    }
    rc = wb_bounce_init(&c->bounce);
    if (rc < 0) {
        snprintf(err, cb_err, "%s: VirtualAlloc: JET_errOutOfMemory", api->dll_name);
        goto out;
    }
    c->dll = dll;
    c->ops = hbc_ops;
    c->ops.name = api->prefix;
    src->ops = &c->ops;
    src->ctx = c;
    c = NULL;
out:
    if (c) {
        wb_bounce_free(&c->bounce);
        free(c->server);
        free(c);
    }
    return rc;
}
