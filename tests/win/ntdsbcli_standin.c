/*
 * ntdsbcli_standin.c -- the test suite's ntdsbcli.dll: the DsBackup*
 * calls bk_dsbackup.c resolves, with ntdsbcli.h's signatures, over
 * standin.c.  Lists are allocated here and freed by DsBackupFree; names
 * carry their BFT prefix; ESE errors come back as 0xC8000000 | -err.
 */
#include <stdlib.h>
#include "standin.h"
#define _NTDSBCLI_DEFINED /* define, not import, the calls */
#ifndef _stdcall
#define _stdcall __stdcall
#endif
#include <ntdsbcli.h>

#define HBC_VALUE ((HBC)0xDB)
#define HR(e) ((e) < 0 ? (HRESULT)(0xC8000000u | (unsigned)(-(e))) : (HRESULT)0)

static HRESULT check(HBC hbc)
{
    return hbc == HBC_VALUE ? 0 : (HRESULT)0xC7FF0003u; /* hrInvalidHandle */
}

HRESULT NTDSBCLI_API DsBackupPrepareW(LPCWSTR szBackupServer, ULONG grbit, ULONG btFlag,
                                      PVOID *ppvExpiryToken, LPDWORD pcbExpiryTokenSize, HBC *phbc)
{
    long rc;

    if (grbit != 0)
        return (HRESULT)0xC7FF0001u; /* hrInvalidParam: grbit must be 0 */
    if (btFlag != BACKUP_TYPE_FULL && btFlag != BACKUP_TYPE_LOGS_ONLY)
        return (HRESULT)0xC7FF0001u;
    rc = sc_begin(btFlag == BACKUP_TYPE_LOGS_ONLY ? 1 : 0);
    if (rc < 0)
        return HR(rc);
    *ppvExpiryToken = malloc(16);
    *pcbExpiryTokenSize = 16;
    *phbc = HBC_VALUE;
    return 0;
}

static HRESULT list(HBC hbc, sc_list which, LPWSTR *psz, LPDWORD pcb)
{
    WCHAR *w = NULL;
    unsigned long cb = 0;
    long rc;

    if (check(hbc))
        return check(hbc);
    rc = sc_list_get(which, BFT_NTDS_DATABASE, BFT_LOG, &w, &cb);
    if (rc < 0)
        return HR(rc);
    *psz = w;
    *pcb = cb;
    return 0;
}

HRESULT NTDSBCLI_API DsBackupGetDatabaseNamesW(HBC hbc, LPWSTR *pszAttachmentInfo, LPDWORD pcbSize)
{
    return list(hbc, SC_DBS, pszAttachmentInfo, pcbSize);
}

HRESULT NTDSBCLI_API DsBackupGetBackupLogsW(HBC hbc, LPWSTR *pszBackupLogFiles, LPDWORD pcbSize)
{
    return list(hbc, SC_LOGS, pszBackupLogFiles, pcbSize);
}

HRESULT NTDSBCLI_API DsBackupOpenFileW(HBC hbc, LPCWSTR szAttachmentName, DWORD cbReadHintSize,
                                       LARGE_INTEGER *pliFileSize)
{
    uint64_t size = 0;
    long rc;

    if (check(hbc))
        return check(hbc);
    rc = sc_open(szAttachmentName, &size);
    if (rc < 0)
        return HR(rc);
    pliFileSize->QuadPart = (LONGLONG)size;
    return 0;
}

HRESULT NTDSBCLI_API DsBackupRead(HBC hbc, PVOID pvBuffer, DWORD cbBuffer, PDWORD pcbRead)
{
    unsigned long n = 0;
    long rc;

    if (check(hbc))
        return check(hbc);
    rc = sc_read(pvBuffer, cbBuffer, &n);
    *pcbRead = n;
    return HR(rc);
}

HRESULT NTDSBCLI_API DsBackupClose(HBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_close());
}

HRESULT NTDSBCLI_API DsBackupTruncateLogs(HBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_truncate());
}

HRESULT NTDSBCLI_API DsBackupEnd(HBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_end(!sc_all_done(), 0));
}

VOID NTDSBCLI_API DsBackupFree(PVOID pvBuffer)
{
    free(pvBuffer);
}
