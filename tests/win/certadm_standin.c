/*
 * certadm_standin.c -- the test suite's certadm.dll: the CertSrvBackup*W
 * calls bk_certsrv.c resolves, with certbcli.h's signatures, over
 * standin.c.  Lists are allocated here and freed by CertSrvBackupFree; names
 * carry their BFT prefix; ESE errors come back as 0xC8000000 | -err.
 */
#include <stdlib.h>
#include "standin.h"
/* certbcli.h declares every call dllimport unconditionally; this file
 * defines them, which GCC reports as -Wattributes. */
#pragma GCC diagnostic ignored "-Wattributes"
#include <certbcli.h>

#define HBC_VALUE ((HCSBC)0xDB)
#define HR(e) ((e) < 0 ? (HRESULT)(0xC8000000u | (unsigned)(-(e))) : (HRESULT)0)

static HRESULT check(HCSBC hbc)
{
    return hbc == HBC_VALUE ? 0 : (HRESULT)0xC7FF0003u; /* hrInvalidHandle */
}

HRESULT CERTBCLI_API CertSrvBackupPrepareW(WCHAR const *pwszServerName, ULONG grbit, ULONG btFlag,
                                           HCSBC *phbc)
{
    long rc;

    if (grbit != 0)
        return (HRESULT)0xC7FF0001u; /* hrInvalidParam: grbit must be 0 */
    if (btFlag != CSBACKUP_TYPE_FULL && btFlag != CSBACKUP_TYPE_LOGS_ONLY)
        return (HRESULT)0xC7FF0001u;
    rc = sc_begin(btFlag == CSBACKUP_TYPE_LOGS_ONLY ? 1 : 0);
    if (rc < 0)
        return HR(rc);
    *phbc = HBC_VALUE;
    return 0;
}

static HRESULT list(HCSBC hbc, sc_list which, WCHAR **psz, DWORD *pcb)
{
    WCHAR *w = NULL;
    unsigned long cb = 0;
    long rc;

    if (check(hbc))
        return check(hbc);
    rc = sc_list_get(which, CSBFT_CERTSERVER_DATABASE, CSBFT_LOG, &w, &cb);
    if (rc < 0)
        return HR(rc);
    *psz = w;
    *pcb = cb;
    return 0;
}

HRESULT CERTBCLI_API CertSrvBackupGetDatabaseNamesW(HCSBC hbc, WCHAR **pszAttachmentInfo,
                                                    DWORD *pcbSize)
{
    return list(hbc, SC_DBS, pszAttachmentInfo, pcbSize);
}

HRESULT CERTBCLI_API CertSrvBackupGetBackupLogsW(HCSBC hbc, WCHAR **pszBackupLogFiles,
                                                 DWORD *pcbSize)
{
    return list(hbc, SC_LOGS, pszBackupLogFiles, pcbSize);
}

HRESULT CERTBCLI_API CertSrvBackupOpenFileW(HCSBC hbc, WCHAR const *szAttachmentName,
                                            DWORD cbReadHintSize, LARGE_INTEGER *pliFileSize)
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

HRESULT CERTBCLI_API CertSrvBackupRead(HCSBC hbc, VOID *pvBuffer, DWORD cbBuffer, DWORD *pcbRead)
{
    unsigned long n = 0;
    long rc;

    if (check(hbc))
        return check(hbc);
    rc = sc_read(pvBuffer, cbBuffer, &n);
    *pcbRead = n;
    return HR(rc);
}

HRESULT CERTBCLI_API CertSrvBackupClose(HCSBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_close());
}

HRESULT CERTBCLI_API CertSrvBackupTruncateLogs(HCSBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_truncate());
}

HRESULT CERTBCLI_API CertSrvBackupEnd(HCSBC hbc)
{
    return check(hbc) ? check(hbc) : HR(sc_end(!sc_all_done(), 0));
}

VOID CERTBCLI_API CertSrvBackupFree(VOID *pvBuffer)
{
    free(pvBuffer);
}
