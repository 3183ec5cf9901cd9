/*
 * control_win.c -- `esebackupfs.exe status|commit X:` over a named pipe,
 * the Windows counterpart of src/fs/posix/control.c.
 *
 * The pipe is \\.\pipe\esebackupfs-<16 hex>, the hex being the start of
 * the SHA-256 of the upper-cased mount point ("X:" or the full directory
 * path).  Its DACL allows only SYSTEM and the mounting user (and denies
 * network logons); remote clients are rejected; the first instance is
 * created with FILE_FLAG_FIRST_PIPE_INSTANCE so that nobody can serve the
 * name before us.  One request per connection: "status\n" or "commit\n";
 * the answer is one status digit (0 healthy / counted, 1 failed / not
 * counted) and the core's text (fs_status, fs_commit).
 */
#include "config.h"
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>
#include <sddl.h>
#include "bkformat.h"
#include "fsops.h"
#include "winx.h"

#define CTL_ANSWER_MAX (256 * 1024)

struct winx_control {
    wchar_t name[64];
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd;
    HANDLE thread;
    volatile LONG stop;
    fs_ctx *ctx;
    HANDLE first; /* the first instance, created by winx_control_start */
};

/* The pipe name of mountpoint into name (64 wide chars).  0 or -1. */
static int pipe_name(const char *mountpoint, wchar_t *name)
{
    char canon[1024], hex[17];
    unsigned char sha[32];
    bkf_sha256 *h;
    size_t n = strlen(mountpoint);

    if (n == 2 && mountpoint[1] == ':') {
        snprintf(canon, sizeof canon, "%c:", mountpoint[0]);
    } else {
        wchar_t *w = winx_wide(mountpoint), full[1024];
        DWORD got = w ? GetFullPathNameW(w, 1024, full, NULL) : 0;
        free(w);
        if (!got || got >= 1024 || winx_utf8(full, canon, sizeof canon) < 0)
            return -1;
        n = strlen(canon);
        while (n > 3 && (canon[n - 1] == '\\' || canon[n - 1] == '/'))
            canon[--n] = 0;
    }
    for (char *c = canon; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    h = bkf_sha256_new();
    if (!h)
        return -1;
    if (bkf_sha256_update(h, canon, strlen(canon)) < 0) {
        (void)bkf_sha256_final(h, sha);
        return -1;
    }
    if (bkf_sha256_final(h, sha) < 0)
        return -1;
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", sha[i]);
    _snwprintf(name, 64, L"\\\\.\\pipe\\esebackupfs-%hs", hex);
    name[63] = 0;
    return 0;
}

/* The DACL: SYSTEM and the current user, network logons denied. */
static int make_sd(winx_control *c)
{
    HANDLE tok = NULL;
    union {
        TOKEN_USER tu;
        char buf[256];
    } u;
    DWORD got = 0;
    LPWSTR sid = NULL;
    wchar_t sddl[512];
    int rc = -1;

    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        goto out;
    if (!GetTokenInformation(tok, TokenUser, &u, sizeof u, &got))
        goto out;
    if (!ConvertSidToStringSidW(u.tu.User.Sid, &sid))
        goto out;
    _snwprintf(sddl, 512, L"D:P(D;;GA;;;NU)(A;;GA;;;SY)(A;;GA;;;%ls)", sid);
    sddl[511] = 0;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &c->sd, NULL))
        goto out;
    c->sa.nLength = sizeof c->sa;
    c->sa.lpSecurityDescriptor = c->sd;
    c->sa.bInheritHandle = FALSE;
    rc = 0;
out:
    if (sid)
        LocalFree(sid);
    if (tok)
        CloseHandle(tok);
    return rc;
}

/* One pipe instance. */
static HANDLE new_instance(winx_control *c, int first)
{
    return CreateNamedPipeW(
        c->name, PIPE_ACCESS_DUPLEX | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
        PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, 4096, 4096,
        0, &c->sa);
}

/* Serve one connected client on p. */
static void serve(winx_control *c, HANDLE p)
{
    char req[16], *ans = malloc(CTL_ANSWER_MAX);
    DWORD got = 0, wrote = 0;
    int rc;

    if (!ans)
        return;
    if (!ReadFile(p, req, sizeof req - 1, &got, NULL))
        goto out;
    req[got] = 0;
    if (!strcmp(req, "status\n"))
        rc = fs_status(c->ctx, ans + 1, CTL_ANSWER_MAX - 1);
    else if (!strcmp(req, "commit\n"))
        rc = fs_commit(c->ctx, ans + 1, CTL_ANSWER_MAX - 1);
    else {
        snprintf(ans + 1, CTL_ANSWER_MAX - 1, "unknown request\n");
        rc = 1;
    }
    ans[0] = rc ? '1' : '0';
    if (WriteFile(p, ans, (DWORD)strlen(ans), &wrote, NULL))
        (void)FlushFileBuffers(p);
out:
    free(ans);
}

/* The server thread: one client at a time until stop. */
static unsigned __stdcall control_main(void *arg)
{
    winx_control *c = arg;
    HANDLE p = c->first;

    c->first = INVALID_HANDLE_VALUE;
    while (p != INVALID_HANDLE_VALUE) {
        BOOL ok = ConnectNamedPipe(p, NULL) || GetLastError() == ERROR_PIPE_CONNECTED;
        if (InterlockedCompareExchange(&c->stop, 0, 0)) {
            CloseHandle(p);
            break;
        }
        if (ok)
            serve(c, p);
        DisconnectNamedPipe(p);
        CloseHandle(p);
        p = new_instance(c, 0);
        if (p == INVALID_HANDLE_VALUE)
            fs_log(FS_LOG_ERR, "control pipe: CreateNamedPipeW failed (Windows error %lu)",
                   (unsigned long)GetLastError());
    }
    return 0;
}

/* See winx.h. */
int winx_control_start(fs_ctx *ctx, const char *mountpoint, winx_control **pc)
{
    winx_control *c = calloc(1, sizeof *c);
    uintptr_t t;

    if (!c)
        return -1;
    c->ctx = ctx;
    c->first = INVALID_HANDLE_VALUE;
    if (pipe_name(mountpoint, c->name) < 0 || make_sd(c) < 0)
        goto fail;
    c->first = new_instance(c, 1);
    if (c->first == INVALID_HANDLE_VALUE)
        goto fail;
    t = _beginthreadex(NULL, 0, control_main, c, 0, NULL);
    if (!t)
        goto fail;
    c->thread = (HANDLE)t;
    *pc = c;
    return 0;
fail:
    fs_log(FS_LOG_ERR, "control pipe for %s: cannot create it (Windows error %lu)", mountpoint,
           (unsigned long)GetLastError());
    if (c->first != INVALID_HANDLE_VALUE)
        CloseHandle(c->first);
    if (c->sd)
        LocalFree(c->sd);
    free(c);
    return -1;
}

/* See winx.h. */
void winx_control_stop(winx_control *c)
{
    HANDLE h;

    if (!c)
        return;
    InterlockedExchange(&c->stop, 1);
    /* wake the blocked ConnectNamedPipe with a connection of our own */
    h = CreateFileW(c->name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h != INVALID_HANDLE_VALUE)
        CloseHandle(h);
    (void)WaitForSingleObject(c->thread, INFINITE);
    CloseHandle(c->thread);
    LocalFree(c->sd);
    free(c);
}

/* See winx.h. */
int winx_control_client(const char *prog, const char *mountpoint, const char *cmd)
{
    wchar_t name[64];
    char req[16], *ans = NULL;
    DWORD got = 0, wrote = 0, total = 0;
    HANDLE h;
    int rc = 2;

    if (pipe_name(mountpoint, name) < 0) {
        fprintf(stderr, "%s: %s: not a valid mount point\n", prog, mountpoint);
        return 2;
    }
    h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "%s: %s is not an esebackupfs mount of this user (Windows error %lu)\n",
                prog, mountpoint, (unsigned long)GetLastError());
        return 2;
    }
    snprintf(req, sizeof req, "%s\n", cmd);
    ans = malloc(CTL_ANSWER_MAX + 1);
    if (!ans || !WriteFile(h, req, (DWORD)strlen(req), &wrote, NULL)) {
        fprintf(stderr, "%s: %s: cannot send the request\n", prog, mountpoint);
        goto out;
    }
    while (total < CTL_ANSWER_MAX && ReadFile(h, ans + total, CTL_ANSWER_MAX - total, &got, NULL) &&
           got)
        total += got;
    ans[total] = 0;
    if (!total || (ans[0] != '0' && ans[0] != '1')) {
        fprintf(stderr, "%s: %s: no answer from the mount\n", prog, mountpoint);
        goto out;
    }
    fputs(ans + 1, stdout);
    rc = ans[0] - '0';
out:
    free(ans);
    CloseHandle(h);
    return rc;
}
