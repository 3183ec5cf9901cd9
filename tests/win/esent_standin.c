/*
 * esent_standin.c -- the test suite's esent.dll: the ESENT calls
 * bk_esent.c makes, with esent.h's signatures, over standin.c.  Instance
 * calls check their order (create, parameters, init, session, attach)
 * and are otherwise no-ops; the backup calls serve the recording.
 */
#include <stdlib.h>
#include <string.h>
#include "standin.h"
#include <esent.h>

#define SI_INST ((JET_INSTANCE)0x5E5E)

/* The instance life cycle (one instance). */
typedef struct si_life {
    int stage; /* 0 none, 1 created, 2 initialised */
    unsigned long page;
} si_life;

static si_life life;

JET_ERR JET_API JetCreateInstance2W(JET_INSTANCE *pinstance, const WCHAR *szInstanceName,
                                    const WCHAR *szDisplayName, JET_GRBIT grbit)
{
    if (life.stage)
        return JET_errInstanceNameInUse;
    life.stage = 1;
    *pinstance = SI_INST;
    return 0;
}

JET_ERR JET_API JetSetSystemParameterW(JET_INSTANCE *pinstance, JET_SESID sesid,
                                       unsigned __LONG32 paramid, JET_API_PTR lParam,
                                       JET_PCWSTR szParam)
{
    if (life.stage != 1) {
        sc_record("violation parameter %lu set outside create..init", (unsigned long)paramid);
        return JET_errAlreadyInitialized;
    }
    return 0;
}

JET_ERR JET_API JetGetSystemParameterW(JET_INSTANCE instance, JET_SESID sesid,
                                       unsigned __LONG32 paramid, JET_API_PTR *plParam,
                                       JET_PWSTR szParam, unsigned __LONG32 cbMax)
{
    unsigned long lo, hi;
    WCHAR base[4];

    sc_gens(&lo, &hi, base);
    switch (paramid) {
    case JET_paramDatabasePageSize:
        *plParam = sc_page();
        break;
    case JET_paramCircularLog:
        *plParam = 0;
        break;
    case 136 /* JET_paramLegacyFileNames */:
        *plParam = 3;
        break;
    case JET_paramLogFileSize:
        *plParam = 0;
        break; /* unknown: inferred from the logs */
    case JET_paramBaseName:
        if (!szParam || cbMax < sizeof base)
            return JET_errBufferTooSmall;
        memcpy(szParam, base, sizeof base);
        break;
    default:
        return JET_errInvalidParameter;
    }
    return 0;
}

JET_ERR JET_API JetInit3W(JET_INSTANCE *pinstance, JET_RSTINFO_W *prstInfo, JET_GRBIT grbit)
{
    if (life.stage != 1)
        return JET_errAlreadyInitialized;
    life.stage = 2;
    return 0;
}

JET_ERR JET_API JetBeginSessionW(JET_INSTANCE instance, JET_SESID *psesid, JET_PCWSTR szUserName,
                                 JET_PCWSTR szPassword)
{
    if (life.stage != 2)
        return JET_errNotInitialized;
    *psesid = 1;
    return 0;
}

JET_ERR JET_API JetAttachDatabase2W(JET_SESID sesid, const WCHAR *szFilename,
                                    const unsigned __LONG32 cpgDatabaseSizeMax, JET_GRBIT grbit)
{
    return life.stage == 2 ? 0 : JET_errNotInitialized;
}

JET_ERR JET_API JetEndSession(JET_SESID sesid, JET_GRBIT grbit)
{
    return 0;
}

JET_ERR JET_API JetTerm2(JET_INSTANCE instance, JET_GRBIT grbit)
{
    life.stage = 0;
    sc_record("term %lu", (unsigned long)grbit);
    return 0;
}

JET_ERR JET_API JetTerm(JET_INSTANCE instance)
{
    return JetTerm2(instance, 0);
}

JET_ERR JET_API JetBeginExternalBackupInstance(JET_INSTANCE instance, JET_GRBIT grbit)
{
    if (life.stage != 2)
        return JET_errBackupNotAllowedYet;
    return sc_begin(grbit);
}

/* A W list: size query with szz NULL, never "buffer too small" (rule 8). */
static JET_ERR si_list(sc_list which, WCHAR *szz, unsigned __LONG32 cbMax, unsigned __LONG32 *pcb)
{
    WCHAR *w = NULL;
    unsigned long cb = 0;
    JET_ERR rc = sc_list_get(which, 0, 0, &w, &cb);

    if (rc < 0)
        return rc;
    if (pcb)
        *pcb = cb;
    if (szz)
        memcpy(szz, w, cb < cbMax ? cb : cbMax);
    free(w);
    return 0;
}

JET_ERR JET_API JetGetAttachInfoInstanceW(JET_INSTANCE instance, WCHAR *szz,
                                          unsigned __LONG32 cbMax, unsigned __LONG32 *pcbActual)
{
    return si_list(SC_DBS, szz, cbMax, pcbActual);
}

JET_ERR JET_API JetGetLogInfoInstance2W(JET_INSTANCE instance, WCHAR *szz, unsigned __LONG32 cbMax,
                                        unsigned __LONG32 *pcbActual, JET_LOGINFO_W *pLogInfo)
{
    unsigned long lo, hi;
    JET_ERR rc = si_list(SC_LOGS, szz, cbMax, pcbActual);

    if (rc >= 0 && pLogInfo) {
        sc_gens(&lo, &hi, pLogInfo->szBaseName);
        pLogInfo->ulGenLow = lo;
        pLogInfo->ulGenHigh = hi;
    }
    return rc;
}

JET_ERR JET_API JetGetTruncateLogInfoInstanceW(JET_INSTANCE instance, WCHAR *szz,
                                               unsigned __LONG32 cbMax,
                                               unsigned __LONG32 *pcbActual)
{
    if (pcbActual)
        *pcbActual = sizeof(WCHAR);
    if (szz && cbMax >= sizeof(WCHAR))
        szz[0] = 0;
    return 0;
}

JET_ERR JET_API JetOpenFileInstanceW(JET_INSTANCE instance, JET_PCWSTR szFileName,
                                     JET_HANDLE *phfFile, unsigned __LONG32 *pulFileSizeLow,
                                     unsigned __LONG32 *pulFileSizeHigh)
{
    uint64_t size = 0;
    JET_ERR rc = sc_open(szFileName, &size);

    if (rc < 0)
        return rc;
    *phfFile = 0;
    *pulFileSizeLow = (unsigned __LONG32)size;
    *pulFileSizeHigh = (unsigned __LONG32)(size >> 32);
    return 0;
}

JET_ERR JET_API JetReadFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile, void *pv,
                                    unsigned __LONG32 cb, unsigned __LONG32 *pcb)
{
    unsigned long n = 0;
    JET_ERR rc = hfFile ? JET_errInvalidParameter : sc_read(pv, cb, &n);

    *pcb = n;
    return rc;
}

JET_ERR JET_API JetCloseFileInstance(JET_INSTANCE instance, JET_HANDLE hfFile)
{
    return hfFile ? JET_errInvalidParameter : sc_close();
}

JET_ERR JET_API JetTruncateLogInstance(JET_INSTANCE instance)
{
    return sc_truncate();
}

JET_ERR JET_API JetEndExternalBackupInstance2(JET_INSTANCE instance, JET_GRBIT grbit)
{
    bool n = grbit & 1, a = grbit & 2;

    if (n == a)
        return JET_errInvalidGrbit;
    return sc_end(a, grbit);
}
