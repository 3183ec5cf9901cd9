/*
 * winbk.h -- private helpers of the Windows backends (src/bkclient/win):
 * UTF-8 <-> UTF-16 conversion, the read bounce buffer that makes every
 * engine read obey ESE's JetReadFile rules, and the one table shared by
 * the two streaming-client backends (DsBackup*, CertSrvBackup*), which
 * differ only in their DLL, their names and their Prepare call.
 *
 * Thread safety: as bkclient.h (one thread per source).
 */
#ifndef WINBK_H
#define WINBK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bkclient.h" /* jet_api.h: <windows.h>, <esent.h> */

/* ESE's read rules (backup.cxx): each read a multiple of the page size,
 * the first read of a file larger than two pages, the buffer aligned to
 * the allocation granularity.  WB_BOUNCE bytes (a multiple of every ESE
 * page size) are read at a time into a VirtualAlloc'ed buffer. */
#define WB_BOUNCE (1024ul * 1024ul)

typedef struct wb_bounce {
    unsigned char *buf;     /* VirtualAlloc, WB_BOUNCE bytes */
    unsigned long off, len; /* unread bytes: buf[off..len) */
    bool eof;
} wb_bounce;

/* One engine read into buf (aligned, WB_BOUNCE bytes): the bytes read in
 * *pcb, 0 at the end of the stream. */
typedef JET_ERR wb_read_fn(void *ctx, void *buf, unsigned long cb, unsigned long *pcb);

/* Allocate b->buf.  JET_errOutOfMemory. */
JET_ERR wb_bounce_init(wb_bounce *b);
/* Release b->buf.  Safe twice. */
void wb_bounce_free(wb_bounce *b);
/* Forget buffered bytes (a new file opens). */
void wb_bounce_reset(wb_bounce *b);
/* Copy up to cb bytes of the stream into pv, calling rd when the buffer
 * is empty; *pcb = bytes copied (0 at the end).  rd's error as is. */
JET_ERR wb_bounce_read(wb_bounce *b, wb_read_fn *rd, void *ctx, void *pv, unsigned long cb,
                       unsigned long *pcb);

/* UTF-8 -> UTF-16 (malloc'ed, NUL-terminated); NULL on a bad string or
 * no memory. */
wchar_t *wb_wide(const char *s);
/* A UTF-16 multi-string of cb_w bytes -> UTF-8 multi-string.  keep:
 * NULL keeps every string; else only strings whose first character is
 * one of keep's (a BFT type prefix), which is stripped.  *pcb = bytes
 * including both final NULs.  JET_errOutOfMemory, JET_errInvalidParameter
 * (not valid UTF-16). */
JET_ERR wb_szz_from_wide(const wchar_t *w, size_t cb_w, const wchar_t *keep, char **pszz,
                         unsigned long *pcb);
/* Copy a converted multi-string to a table caller (rule 8 of the spec:
 * szz NULL = size query; too small = JET_errBufferTooSmall). */
JET_ERR wb_szz_out(const char *src, unsigned long cb_src, char *szz, unsigned long cb_max,
                   unsigned long *pcb_actual);
/* Generation and base name of a log file name (BASE + hex digits +
 * extension, any directory).  0 or JET_errInvalidParameter. */
JET_ERR wb_log_gen(const char *path, unsigned long *pgen, char base[JET_BASE_NAME_LENGTH + 1]);

/* ---- the streaming-client backends (DsBackup*, CertSrvBackup*) ---- */

/* The client DLL's calls, resolved at run time.  Every one but prepare
 * has the same shape in ntdsbcli.h and certbcli.h. */
typedef struct wb_hbc_api {
    const char *dll_name; /* for messages: "ntdsbcli.dll" */
    const char *prefix;   /* "DsBackup", "CertSrvBackup" */
    /* Prepare a full (incremental false) or logs-only backup of server. */
    HRESULT(*prepare)
    (const struct wb_hbc_api *api, const wchar_t *server, bool incremental, void **phbc);
    FARPROC raw_prepare; /* the DLL's Prepare, for prepare */
    HRESULT(WINAPI *get_dbs)(void *hbc, WCHAR **pwszz, DWORD *pcb);
    HRESULT(WINAPI *open)(void *hbc, WCHAR const *name, DWORD cb_hint, LARGE_INTEGER *psize);
    HRESULT(WINAPI *read)(void *hbc, VOID *pv, DWORD cb, DWORD *pcb);
    HRESULT(WINAPI *close)(void *hbc);
    HRESULT(WINAPI *get_logs)(void *hbc, WCHAR **pwszz, DWORD *pcb);
    HRESULT(WINAPI *truncate)(void *hbc);
    HRESULT(WINAPI *end)(void *hbc);
    VOID(WINAPI *free)(VOID *pv);
    wchar_t db_type;  /* BFT of a database: BFT_NTDS_DATABASE, CSBFT_CERTSERVER_DATABASE */
    wchar_t log_type; /* BFT_LOG */
    wchar_t pat_type; /* BFT_PATCH_FILE */
} wb_hbc_api;

/* Load dll_w (LoadLibraryW) and resolve name (GetProcAddress) into *pf.
 * A missing DLL or name is JET_errFileNotFound with one line in err
 * naming it; nothing is left loaded on failure. */
JET_ERR wb_load(const wchar_t *dll_w, const char *dll_name, HMODULE *pdll, char *err,
                size_t cb_err);
JET_ERR wb_proc(HMODULE dll, const char *dll_name, const char *fn, FARPROC *pf, char *err,
                size_t cb_err);

/* Open a streaming-client source over a copy of api (resolved by the caller; the
 * module handle dll is freed at destroy).  server: NULL or "" = the local
 * computer.  page_size: the database page size the source's label
 * records (these APIs do not report it).  Errors: JET_errOutOfMemory,
 * JET_errInvalidParameter (bad server string); one line in err. */
JET_ERR wb_hbc_open(const wb_hbc_api *api, HMODULE dll, const char *server, const char *name,
                    unsigned long page_size, bkc_source *src, char *err, size_t cb_err);

#endif /* WINBK_H */
