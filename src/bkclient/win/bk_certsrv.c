/*
 * bk_certsrv.c -- the backup-source table over Active Directory
 * Certificate Services' streaming backup client, certadm.dll
 * (CertSrvBackup*W), resolved at run time with the ...W names, as
 * Microsoft Learn says to (no import library ships; the DLL exists only
 * where AD CS is installed).
 *
 * Microsoft Learn (CertSrvBackupPrepare): grbitJet must be 0,
 * dwBackupFlags CSBACKUP_TYPE_FULL or CSBACKUP_TYPE_LOGS_ONLY; there is
 * no expiry token.  The rest of the mapping is winbk.c's.
 */
#include "config.h"
#include <stdio.h>
#include "winbk.h" /* <windows.h> first */
#include <certbcli.h>

/* CertSrvBackupPrepareW through the resolved pointer. */
static HRESULT cs_prepare(const wb_hbc_api *api, const wchar_t *server, bool incremental,
                          void **phbc)
{
    FNCERTSRVBACKUPPREPAREW *prep = (FNCERTSRVBACKUPPREPAREW *)(void (*)(void))api->raw_prepare;

    return prep(server, 0, incremental ? CSBACKUP_TYPE_LOGS_ONLY : CSBACKUP_TYPE_FULL,
                (HCSBC *)phbc);
}

/* See bkclient.h. */
JET_ERR bkc_certsrv_open(const char *server, unsigned long page_size, bkc_source *src, char *err,
                         size_t cb_err)
{
    static const char *const names[] = {
        "CertSrvBackupPrepareW",     "CertSrvBackupGetDatabaseNamesW",
        "CertSrvBackupOpenFileW",    "CertSrvBackupRead",
        "CertSrvBackupClose",        "CertSrvBackupGetBackupLogsW",
        "CertSrvBackupTruncateLogs", "CertSrvBackupEnd",
        "CertSrvBackupFree"
    };
    wb_hbc_api api = { .dll_name = "certadm.dll",
                       .prefix = "CertSrvBackup",
                       .prepare = cs_prepare };
    FARPROC f[9];
    HMODULE dll = NULL;
    JET_ERR rc;

    rc = wb_load(L"certadm.dll", api.dll_name, &dll, err, cb_err);
    for (size_t i = 0; rc >= 0 && i < 9; i++)
        rc = wb_proc(dll, api.dll_name, names[i], &f[i], err, cb_err);
    if (rc < 0)
        goto out;
    /* Each assignment is checked against certbcli.h's function types. */
    {
        FNCERTSRVBACKUPGETDATABASENAMESW *g = (__typeof__(g))(void (*)(void))f[1];
        FNCERTSRVBACKUPOPENFILEW *o = (__typeof__(o))(void (*)(void))f[2];
        FNCERTSRVBACKUPREAD *r = (__typeof__(r))(void (*)(void))f[3];
        FNCERTSRVBACKUPCLOSE *cl = (__typeof__(cl))(void (*)(void))f[4];
        FNCERTSRVBACKUPGETBACKUPLOGSW *l = (__typeof__(l))(void (*)(void))f[5];
        FNCERTSRVBACKUPTRUNCATELOGS *t = (__typeof__(t))(void (*)(void))f[6];
        FNCERTSRVBACKUPEND *e = (__typeof__(e))(void (*)(void))f[7];
        FNCERTSRVBACKUPFREE *fr = (__typeof__(fr))(void (*)(void))f[8];

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
    api.db_type = CSBFT_CERTSERVER_DATABASE;
    api.log_type = CSBFT_LOG;
    api.pat_type = CSBFT_PATCH_FILE;
    rc = wb_hbc_open(&api, dll, server, "CertSrv", page_size, src, err, cb_err);
    if (rc >= 0)
        dll = NULL; /* the source owns it */
out:
    if (dll)
        (void)FreeLibrary(dll);
    return rc;
}
