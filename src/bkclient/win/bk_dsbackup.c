/*
 * bk_dsbackup.c -- the backup-source table over Active Directory Domain
 * Services' streaming backup client, ntdsbcli.dll (DsBackup*), resolved
 * at run time: the DLL exists only where the AD DS tools are installed,
 * and a static import of a missing DLL kills the process before main.
 *
 * Microsoft Learn (DsBackupPrepare): the server must be the local
 * computer on current Windows, grbit must be 0, btFlag BACKUP_TYPE_FULL
 * or BACKUP_TYPE_LOGS_ONLY; the expiry token it returns is freed with
 * DsBackupFree.  The rest of the mapping is winbk.c's.
 */
#include "config.h"
#include <stdio.h>
#include "winbk.h" /* <windows.h> first */
/* ntdsbcli.h spells the calling convention `_stdcall`, which mingw
 * defines only outside strict ISO mode (-std=c11). */
#ifndef _stdcall
#define _stdcall __stdcall
#endif
#include <ntdsbcli.h>

/* DsBackupPrepareW through the resolved pointer; the expiry token (used
 * only by a later restore) is released at once. */
static HRESULT ds_prepare(const wb_hbc_api *api, const wchar_t *server, bool incremental,
                          void **phbc)
{
    __typeof__(&DsBackupPrepareW) prep =
        (__typeof__(&DsBackupPrepareW))(void (*)(void))api->raw_prepare;
    PVOID token = NULL;
    DWORD cb_token = 0;
    HRESULT hr;

    hr = prep(server, 0, incremental ? BACKUP_TYPE_LOGS_ONLY : BACKUP_TYPE_FULL, &token, &cb_token,
              (HBC *)phbc);
    if (token)
        api->free(token);
    return hr;
}

/* See bkclient.h. */
JET_ERR bkc_dsbackup_open(const char *server, unsigned long page_size, bkc_source *src, char *err,
                          size_t cb_err)
{
    static const char *const names[] = { "DsBackupPrepareW",     "DsBackupGetDatabaseNamesW",
                                         "DsBackupOpenFileW",    "DsBackupRead",
                                         "DsBackupClose",        "DsBackupGetBackupLogsW",
                                         "DsBackupTruncateLogs", "DsBackupEnd",
                                         "DsBackupFree" };
    wb_hbc_api api = { .dll_name = "ntdsbcli.dll", .prefix = "DsBackup", .prepare = ds_prepare };
    FARPROC f[9];
    HMODULE dll = NULL;
    JET_ERR rc;

    rc = wb_load(L"ntdsbcli.dll", api.dll_name, &dll, err, cb_err);
    for (size_t i = 0; rc >= 0 && i < 9; i++)
        rc = wb_proc(dll, api.dll_name, names[i], &f[i], err, cb_err);
    if (rc < 0)
        goto out;
    /* Each assignment is checked against ntdsbcli.h's prototype. */
    {
        __typeof__(&DsBackupGetDatabaseNamesW) g = (__typeof__(g))(void (*)(void))f[1];
        __typeof__(&DsBackupOpenFileW) o = (__typeof__(o))(void (*)(void))f[2];
        __typeof__(&DsBackupRead) r = (__typeof__(r))(void (*)(void))f[3];
        __typeof__(&DsBackupClose) cl = (__typeof__(cl))(void (*)(void))f[4];
        __typeof__(&DsBackupGetBackupLogsW) l = (__typeof__(l))(void (*)(void))f[5];
        __typeof__(&DsBackupTruncateLogs) t = (__typeof__(t))(void (*)(void))f[6];
        __typeof__(&DsBackupEnd) e = (__typeof__(e))(void (*)(void))f[7];
        __typeof__(&DsBackupFree) fr = (__typeof__(fr))(void (*)(void))f[8];

        api.raw_prepare = f[0];
        api.get_dbs = (HRESULT(WINAPI *)(void *, WCHAR **, DWORD *))g;
        api.open = o;
        api.read = r;
        api.close = cl;
        api.get_logs = (HRESULT(WINAPI *)(void *, WCHAR **, DWORD *))l;
        api.truncate = t;
        api.end = e;
        api.free = fr;
    }
    api.db_type = BFT_NTDS_DATABASE;
    api.log_type = BFT_LOG;
    api.pat_type = BFT_PATCH_FILE;
    rc = wb_hbc_open(&api, dll, server, "NTDS", page_size, src, err, cb_err);
    if (rc >= 0)
        dll = NULL; /* the source owns it */
out:
    if (dll)
        (void)FreeLibrary(dll);
    return rc;
}
