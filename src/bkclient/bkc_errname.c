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
static const struct bkc_code_name hr_names[] = {
    { (long)0xC0000001L, "hrNyi" },
    { (long)0xC7FF0001L, "hrInvalidParam" },
    { (long)0xC7FF0002L, "hrError" },
    { (long)0xC7FF0003L, "hrInvalidHandle" },
    { (long)0xC7FF0004L, "hrRestoreInProgress" },
    { (long)0xC7FF0005L, "hrAlreadyOpen" },
    { (long)0xC7FF0007L, "hrCouldNotConnect" },
    { (long)0xC7FF0009L, "hrIncrementalBackupDisabled" },
    { (long)0xC7FF000AL, "hrLogFileNotFound" },
    { (long)0xC7FF000BL, "hrCircularLogging" },
    { (long)0xC7FF000DL, "hrCommunicationError" },
    { (long)0xC7FF000EL, "hrFullBackupNotTaken" },
    { (long)0x80004005L, "E_FAIL" },
    { (long)0x8007000EL, "E_OUTOFMEMORY" },
    { (long)0x80070057L, "E_INVALIDARG" },
    { (long)0x80070005L, "E_ACCESSDENIED" },
    { (long)0x80070002L, "HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)" },
    { (long)0x8007007EL, "HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND)" },
    { (long)0x8007007FL, "HRESULT_FROM_WIN32(ERROR_PROC_NOT_FOUND)" },
    { (long)0x800706BAL, "HRESULT_FROM_WIN32(RPC_S_SERVER_UNAVAILABLE)" },
    { (long)0x80070032L, "HRESULT_FROM_WIN32(ERROR_NOT_SUPPORTED)" },
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
    long code = (long)(int32_t)hr;

    *pjet = 0;
    /* ESE's errors wrapped by the backup client: 0xC8000000 | -err
     * (errors), 0x88000000 | -err (warnings), as ntdsbmsg.h lists. */
    if ((hr & 0xFFFF0000u) == 0xC8000000u || (hr & 0xFFFF0000u) == 0x88000000u) {
        *pjet = -(long)(hr & 0xFFFFu);
        s = lookup(jet_names, sizeof jet_names / sizeof jet_names[0], *pjet);
        if (s)
            return s;
    }
    s = lookup(hr_names, sizeof hr_names / sizeof hr_names[0], code);
    return s ? s : "HRESULT_unknown";
}
