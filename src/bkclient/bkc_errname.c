/*
 * bkc_errname.c -- names of the codes a backup source can return: the Jet
 * errors of jet_errors.def and the HRESULTs the Windows backup clients
 * (ntdsbcli.dll, certadm.dll) document.  Shared by the POSIX and the
 * Windows builds (no platform header).
 */
#include "config.h"
#include <stddef.h>
#include <stdint.h>
#include "bkclient.h"

struct bkc_code_name {
    long code;
    const char *name;
};

/* From the one list; aliases share a value listed earlier. */
static const struct bkc_code_name jet_names[] = {
#define JET_ERRDEF(name, value) { (value), #name },
#define JET_ERRALIAS(name, target)
#include "jet_errors.def"
#undef JET_ERRDEF
#undef JET_ERRALIAS
};

/* HRESULTs of the DsBackup / CertSrvBackup clients that are not Jet
 * errors (ntdsbmsg.h; winerror.h for the generic ones). */
static const struct hr_name_ent {
    uint32_t hr;
    const char *name;
} hr_names[] = {
    { 0xC0000001u, "hrNyi" },
    { 0xC7FF0001u, "hrInvalidParam" },
    { 0xC7FF0002u, "hrError" },
    { 0xC7FF0003u, "hrInvalidHandle" },
    { 0xC7FF0004u, "hrRestoreInProgress" },
    { 0xC7FF0005u, "hrAlreadyOpen" },
    { 0xC7FF0007u, "hrCouldNotConnect" },
    { 0xC7FF0009u, "hrIncrementalBackupDisabled" },
    { 0xC7FF000Au, "hrLogFileNotFound" },
    { 0xC7FF000Bu, "hrCircularLogging" },
    { 0xC7FF000Du, "hrCommunicationError" },
    { 0xC7FF000Eu, "hrFullBackupNotTaken" },
    { 0x80004005u, "E_FAIL" },
    { 0x8007000Eu, "E_OUTOFMEMORY" },
    { 0x80070057u, "E_INVALIDARG" },
    { 0x80070005u, "E_ACCESSDENIED" },
    { 0x80070002u, "HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)" },
    { 0x8007007Eu, "HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND)" },
    { 0x8007007Fu, "HRESULT_FROM_WIN32(ERROR_PROC_NOT_FOUND)" },
    { 0x800706BAu, "HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)" },
    { 0x80070032u, "HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)" },
};

static const char *lookup(const struct bkc_code_name *t, size_t n, long code)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].code == code)
            return t[i].name;
    return NULL;
}

/* See bkclient.h. */
const char *bkc_err_name(long err)
{
    const char *s = lookup(jet_names, sizeof jet_names / sizeof jet_names[0], err);

    return s ? s : "JET_errUnknown";
}

/* See bkclient.h. */
const char *bkc_hr_name(uint32_t hr, long *pjet)
{
    const char *s;

    *pjet = 0;
    /* ESE's errors wrapped by the backup client: 0xC8000000 | -err
     * (errors), 0x88000000 | -err (warnings), as ntdsbmsg.h lists. */
    if ((hr & 0xFFFF0000u) == 0xC8000000u || (hr & 0xFFFF0000u) == 0x88000000u) {
        *pjet = -(long)(hr & 0xFFFFu);
        s = lookup(jet_names, sizeof jet_names / sizeof jet_names[0], *pjet);
        if (s)
            return s;
    }
    for (size_t i = 0; i < sizeof hr_names / sizeof hr_names[0]; i++)
        if (hr_names[i].hr == hr)
            return hr_names[i].name;
    return "HRESULT_unknown";
}
