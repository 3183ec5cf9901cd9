/* control.c -- see control.h. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "fs/control.h"
#include "fs/log.h"

#define CTL_ANSWER_MAX (256 * 1024)

struct fs_control {
    int lfd;                    /* listening socket */
    int stop_pipe[2];           /* write a byte to stop the thread */
    pthread_t thread;
    int running;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    fs_control_fn fn;
    void *arg;
};

/* Directory for control sockets (see control.h).  0 or -errno. */
static int ctl_dir(char *buf, size_t cb)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");

    if (getuid() == 0)
        snprintf(buf, cb, "/run/esebackupfs");
    else if (xdg && xdg[0] == '/')
        snprintf(buf, cb, "%s/esebackupfs", xdg);
    else
        snprintf(buf, cb, "/tmp/esebackupfs-%u", (unsigned)getuid());
    return 0;
}

/* Socket path for an already canonical mount point path.  0 or -errno.
 * Touches no file (the mount may be ours and not yet served). */
static int ctl_path_real(const char *real, char *buf, size_t cb)
{
    char dir[256];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char hex[17];

    if (EVP_Digest(real, strlen(real), md, &n, EVP_sha256(), NULL) != 1)
        return -ENOMEM;
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    ctl_dir(dir, sizeof dir);
    if ((size_t)snprintf(buf, cb, "%s/%s.sock", dir, hex) >= cb)
        return -ENAMETOOLONG;
    return 0;
}

/* See control.h. */
int fs_control_path(const char *mountpoint, char *buf, size_t cb)
{
    char real[PATH_MAX];

    if (!realpath(mountpoint, real))
        return -errno;
    return ctl_path_real(real, buf, cb);
}

/* Serve one connection: read a line, check the peer, answer, close. */
static void ctl_serve_one(fs_control *c, int fd)
{
    char req[64], *ans = NULL;
    struct ucred cr;
    socklen_t crl = sizeof cr;
    size_t n = 0;
    int rc;
    struct pollfd pfd = { fd, POLLIN, 0 };

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 ||
        (cr.uid != 0 && cr.uid != getuid())) {
        fs_log(LOG_WARNING, "control: refused a peer (uid %u)", (unsigned)cr.uid);
        goto out;
    }
    while (n < sizeof req - 1) {
        if (poll(&pfd, 1, 5000) <= 0)
            goto out;
        ssize_t r = read(fd, req + n, sizeof req - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        if (memchr(req, '\n', n))
            break;
    }
    req[n] = 0;
    req[strcspn(req, "\r\n")] = 0;
    ans = malloc(CTL_ANSWER_MAX);
    if (!ans)
        goto out;
    if (strcmp(req, "status") && strcmp(req, "commit")) {
        snprintf(ans, CTL_ANSWER_MAX, "2\nunknown request '%s'\n", req);
    } else {
        int k = snprintf(ans, CTL_ANSWER_MAX, "0\n");
        rc = c->fn(c->arg, req, ans + k, CTL_ANSWER_MAX - (size_t)k);
        ans[0] = (char)('0' + (rc < 0 || rc > 9 ? 2 : rc));
    }
    for (size_t off = 0, len = strlen(ans); off < len;) {
        ssize_t w = write(fd, ans + off, len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
out:
    free(ans);
    close(fd);
}

/* Accept loop until the stop pipe becomes readable. */
static void *ctl_thread(void *arg)
{
    fs_control *c = arg;
    struct pollfd p[2] = { { c->lfd, POLLIN, 0 }, { c->stop_pipe[0], POLLIN, 0 } };

    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (p[1].revents)
            break;
        if (p[0].revents & POLLIN) {
            int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                ctl_serve_one(c, fd);
        }
    }
    return NULL;
}

/* See control.h. */
int fs_control_start(const char *mountpoint, fs_control_fn fn, void *arg, fs_control **pc,
                     char *err, size_t cb_err)
{
    fs_control *c = calloc(1, sizeof *c);
    struct sockaddr_un sa;
    char dir[256];
    int rc;

    if (!c)
        return -ENOMEM;
    c->lfd = -1;
    c->stop_pipe[0] = c->stop_pipe[1] = -1;
    c->fn = fn;
    c->arg = arg;
    rc = ctl_path_real(mountpoint, c->path, sizeof c->path);
    if (rc < 0) {
        snprintf(err, cb_err, "control socket for %s: %s", mountpoint, strerror(-rc));
        goto out;
    }
    ctl_dir(dir, sizeof dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        rc = -errno;
        snprintf(err, cb_err, "cannot create %s: %s", dir, strerror(errno));
        goto out;
    }
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->lfd < 0 || pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket: %s", strerror(errno));
        goto out;
    }
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, c->path, strlen(c->path) + 1);
    (void)unlink(c->path); /* a stale socket of a killed driver */
    if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || chmod(c->path, 0600) < 0 ||
        listen(c->lfd, 8) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket %s: %s", c->path, strerror(errno));
        goto out;
    }
    rc = -pthread_create(&c->thread, NULL, ctl_thread, c);
    if (rc < 0) {
        snprintf(err, cb_err, "control thread: %s", strerror(-rc));
        goto out;
    }
    c->running = 1;
    *pc = c;
    c = NULL;
    rc = 0;
out:
    if (c) {
        if (c->lfd >= 0)
            close(c->lfd);
        if (c->stop_pipe[0] >= 0) {
            close(c->stop_pipe[0]);
            close(c->stop_pipe[1]);
        }
        free(c);
    }
    return rc;
}

/* See control.h. */
void fs_control_stop(fs_control *c)
{
    if (!c)
        return;
    if (c->running) {
        if (write(c->stop_pipe[1], "x", 1) != 1)
            fs_log(LOG_WARNING, "control: cannot wake the control thread");
        pthread_join(c->thread, NULL);
    }
    close(c->lfd);
    close(c->stop_pipe[0]);
    close(c->stop_pipe[1]);
    (void)unlink(c->path);
    free(c);
}

/* See control.h. */
int fs_control_client(const char *prog, const char *mountpoint, const char *cmd)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char buf[65536];
    struct sockaddr_un sa;
    int fd = -1, rc = 2, first = 1;
    ssize_t r;

    rc = fs_control_path(mountpoint, path, sizeof path);
    if (rc < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, mountpoint, strerror(-rc));
        return 2;
    }
    rc = 2;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "%s: %s is not an esebackupfs mount of this host (%s: %s)\n", prog,
                mountpoint, path, strerror(errno));
        goto out;
    }
    if (dprintf(fd, "%s\n", cmd) < 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        goto out;
    }
    while ((r = read(fd, buf, sizeof buf)) > 0) {
        char *p = buf;
        if (first) {
            if (buf[0] < '0' || buf[0] > '9' || r < 2)
                break;
            rc = buf[0] - '0';
            p += 2;
            r -= 2;
            first = 0;
        }
        fwrite(p, 1, (size_t)r, stdout);
    }
    if (first)
        fprintf(stderr, "%s: no answer from the driver of %s\n", prog, mountpoint);
out:
    if (fd >= 0)
        close(fd);
    return first ? 2 : rc;
}
