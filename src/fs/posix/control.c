/* control.c -- see control.h. */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "control.h"
#include "plat.h"

#define CTL_ANSWER_MAX (256 * 1024)

#define CTL_NAME_MAX 32 /* "<16 hex>.sock" / ".lock" */

struct fsx_control {
    int lfd;                 /* listening socket */
    int dfd;                 /* the verified control directory */
    char name[CTL_NAME_MAX]; /* socket name in it */
    dev_t dev;               /* the socket we bound (removed only if */
    ino_t ino;               /*   the name still refers to it) */
    int stop_pipe[2];        /* write a byte to stop the thread */
    pthread_t thread;
    int running;
    char path[256]; /* DIR/NAME, for messages */
    fsx_control_fn fn;
    void *arg;
};

struct fsx_claim {
    int dfd;                 /* the verified control directory */
    int fd;                  /* the lock file */
    int locked;              /* we hold its flock (and the name is it) */
    char name[CTL_NAME_MAX]; /* its name in dfd */
};

/* Directory for control sockets and claims (see control.h).  0 or
 * -ENAMETOOLONG. */
static int ctl_dir(char *buf, size_t cb)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;

    if (getuid() == 0)
        n = snprintf(buf, cb, "/run/esebackupfs");
    else if (xdg && xdg[0] == '/')
        n = snprintf(buf, cb, "%s/esebackupfs", xdg);
    else
        n = snprintf(buf, cb, "/tmp/esebackupfs-%u", (unsigned)getuid());
    return n < 0 || (size_t)n >= cb ? -ENAMETOOLONG : 0;
}

/* "<16 hex digits of SHA-256(key)><suffix>" into buf.  0 or -errno. */
static int ctl_name(const char *key, const char *suffix, char *buf, size_t cb)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    if (EVP_Digest(key, strlen(key), md, &n, EVP_sha256(), NULL) != 1 || n < 8)
        return -ENOMEM;
    if (cb < 17 + strlen(suffix))
        return -ENAMETOOLONG;
    for (int i = 0; i < 8; i++)
        snprintf(buf + 2 * i, 3, "%02x", md[i]);
    strcpy(buf + 16, suffix);
    return 0;
}

/* Open the control directory (creating it 0700 when create is set) and
 * check that it is a real directory owned by us with mode 0700; never
 * follow a symlink, never change another uid's directory.  *pdfd = an
 * O_DIRECTORY fd; dir = its path.  0 or -errno with one line in err. */
static int ctl_dir_open(int create, int *pdfd, char *dir, size_t cbdir, char *err, size_t cb_err)
{
    struct stat st;
    uid_t uid = getuid();
    int fd = -1, rc, made = 0;

    rc = ctl_dir(dir, cbdir);
    if (rc < 0) {
        snprintf(err, cb_err, "control directory: %s", strerror(-rc));
        goto out;
    }
    if (create) {
        if (mkdir(dir, 0700) == 0) {
            made = 1;
        } else if (errno != EEXIST) {
            rc = -errno;
            snprintf(err, cb_err, "cannot create control directory %s: %s", dir, strerror(errno));
            goto out;
        }
    }
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        if (errno == ELOOP || errno == ENOTDIR)
            snprintf(err, cb_err,
                     "control directory %s is a symlink or not a directory; not "
                     "trusted (remove it)",
                     dir);
        else
            snprintf(err, cb_err, "control directory %s: %s", dir, strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control directory %s: %s", dir, strerror(errno));
        goto out;
    }
    /* one we just made is ours: undo a restrictive umask */
    if (made && st.st_uid == uid && (st.st_mode & 07777) != 0700) {
        if (fchmod(fd, 0700) < 0) {
            rc = -errno;
            snprintf(err, cb_err, "chmod 0700 %s: %s", dir, strerror(errno));
            goto out;
        }
        st.st_mode = (st.st_mode & ~(mode_t)07777) | 0700;
    }
    if (st.st_uid != uid || (st.st_mode & 07777) != 0700) {
        rc = -EPERM;
        snprintf(err, cb_err,
                 "control directory %s is not owned by uid %u with mode 0700 (owner "
                 "uid %u, mode %04o); not trusted (remove it)",
                 dir, (unsigned)uid, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    *pdfd = fd;
    fd = -1;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    return rc;
}

/* sockaddr for NAME inside the opened directory dfd (so that the checked
 * directory is the one used, whatever happens to its path). */
static void ctl_addr(struct sockaddr_un *sa, int dfd, const char *name)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dfd, name);
}

/* Serve one connection: read a line, check the peer, answer, close. */
static void ctl_serve_one(fsx_control *c, int fd)
{
    char req[64], *ans = NULL;
    struct ucred cr = { 0, (uid_t)-1, (gid_t)-1 };
    socklen_t crl = sizeof cr;
    size_t n = 0;
    int rc;
    struct pollfd pfd = { fd, POLLIN, 0 };

    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0 ||
        (cr.uid != 0 && cr.uid != getuid())) {
        fs_log(FS_LOG_WARNING, "control: refused a peer (uid %u)", (unsigned)cr.uid);
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
    if (strcmp(req, "status") && strcmp(req, "status-json") && strcmp(req, "commit")) {
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
    fsx_control *c = arg;
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

/* Make the socket name free in c->dfd: nothing there, or a stale socket
 * (nobody answers: a killed driver) which is removed.  A live socket (the
 * driver of another mount of this mount point) or a non-socket is refused
 * and left alone.  0 or -errno with one line in err. */
static int ctl_claim_name(fsx_control *c, char *err, size_t cb_err)
{
    struct sockaddr_un sa;
    struct stat st;
    int probe = -1, rc;

    if (fstatat(c->dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        rc = errno == ENOENT ? 0 : -errno;
        if (rc < 0)
            snprintf(err, cb_err, "control socket %s: %s", c->path, strerror(errno));
        goto out;
    }
    if (!S_ISSOCK(st.st_mode)) {
        rc = -EEXIST;
        snprintf(err, cb_err, "control socket %s exists and is not a socket; refusing (remove it)",
                 c->path);
        goto out;
    }
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket: %s", strerror(errno));
        goto out;
    }
    ctl_addr(&sa, c->dfd, c->name);
    if (connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
        rc = -EADDRINUSE;
        snprintf(err, cb_err,
                 "control socket %s is served by another live esebackupfs mount of "
                 "this mount point; refusing",
                 c->path);
        goto out;
    }
    if (errno != ECONNREFUSED) {
        rc = -errno;
        snprintf(err, cb_err, "control socket %s: %s", c->path, strerror(errno));
        goto out;
    }
    if (unlinkat(c->dfd, c->name, 0) < 0 && errno != ENOENT) {
        rc = -errno;
        snprintf(err, cb_err, "cannot remove the stale control socket %s: %s", c->path,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (probe >= 0)
        close(probe);
    return rc;
}

/* See control.h. */
int fsx_control_start(const char *mountpoint, fsx_control_fn fn, void *arg, fsx_control **pc,
                      char *err, size_t cb_err)
{
    fsx_control *c = calloc(1, sizeof *c);
    struct sockaddr_un sa;
    struct stat st;
    char dir[200];
    int rc, bound = 0;

    if (!c)
        return -ENOMEM;
    c->lfd = c->dfd = -1;
    c->stop_pipe[0] = c->stop_pipe[1] = -1;
    c->fn = fn;
    c->arg = arg;
    rc = ctl_name(mountpoint, ".sock", c->name, sizeof c->name);
    if (rc < 0) {
        snprintf(err, cb_err, "control socket for %s: %s", mountpoint, strerror(-rc));
        goto out;
    }
    rc = ctl_dir_open(1, &c->dfd, dir, sizeof dir, err, cb_err);
    if (rc < 0)
        goto out;
    snprintf(c->path, sizeof c->path, "%s/%s", dir, c->name);
    rc = ctl_claim_name(c, err, cb_err);
    if (rc < 0)
        goto out;
    c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->lfd < 0 || pipe2(c->stop_pipe, O_CLOEXEC) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket: %s", strerror(errno));
        goto out;
    }
    ctl_addr(&sa, c->dfd, c->name);
    if (bind(c->lfd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket %s: %s", c->path, strerror(errno));
        goto out;
    }
    bound = 1;
    if (fchmodat(c->dfd, c->name, 0600, 0) < 0 ||
        fstatat(c->dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) < 0 || listen(c->lfd, 8) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "control socket %s: %s", c->path, strerror(errno));
        goto out;
    }
    c->dev = st.st_dev;
    c->ino = st.st_ino;
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
        if (bound)
            (void)unlinkat(c->dfd, c->name, 0);
        if (c->lfd >= 0)
            close(c->lfd);
        if (c->dfd >= 0)
            close(c->dfd);
        if (c->stop_pipe[0] >= 0) {
            close(c->stop_pipe[0]);
            close(c->stop_pipe[1]);
        }
        free(c);
    }
    return rc;
}

/* See control.h. */
void fsx_control_stop(fsx_control *c)
{
    struct stat st;

    if (!c)
        return;
    if (c->running) {
        if (write(c->stop_pipe[1], "x", 1) != 1)
            fs_log(FS_LOG_WARNING, "control: cannot wake the control thread");
        pthread_join(c->thread, NULL);
    }
    close(c->lfd);
    close(c->stop_pipe[0]);
    close(c->stop_pipe[1]);
    /* remove the name only while it is still the socket we bound */
    if (fstatat(c->dfd, c->name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == c->dev &&
        st.st_ino == c->ino)
        (void)unlinkat(c->dfd, c->name, 0);
    close(c->dfd);
    free(c);
}

/* fprintf to f, or nothing when f is NULL (a quiet client). */
static void ctl_say(FILE *f, const char *fmt, ...) FS_PRINTF(2, 3);
static void ctl_say(FILE *f, const char *fmt, ...)
{
    va_list ap;

    if (!f)
        return;
    va_start(ap, fmt);
    (void)vfprintf(f, fmt, ap);
    va_end(ap);
}

/* Send cmd on fd, the trusted connection to the driver of mountpoint
 * (socket path), and copy the answer after its status digit and separator
 * to out.  Returns the driver's status digit, or 2 after a message on
 * errf (none when NULL) (the send failed, no answer). */
static int ctl_client_relay(const char *prog, const char *mountpoint, const char *path, int fd,
                            const char *cmd, FILE *out, FILE *errf)
{
    char buf[65536];
    ssize_t r;
    int rc = 2, first = 1;

    if (dprintf(fd, "%s\n", cmd) < 0) {
        ctl_say(errf, "%s: %s: %s\n", prog, path, strerror(errno));
        return 2;
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
        if (fwrite(p, 1, (size_t)r, out) != (size_t)r)
            break;
    }
    if (first)
        ctl_say(errf, "%s: no answer from the driver of %s\n", prog, mountpoint);
    return first ? 2 : rc;
}

/* See control.h.  The client's trust checks -- directory, socket owner
 * and mode, the server's credentials -- stay here as the one sequence they
 * are, each refusing with its own message; ctl_client_relay talks. */
int fsx_control_query(const char *prog, const char *mountpoint, const char *cmd, FILE *out,
                      FILE *errf)
{
    char real[PATH_MAX], dir[200], name[CTL_NAME_MAX], path[256], err[512];
    struct sockaddr_un sa;
    struct stat st;
    struct ucred cr;
    socklen_t crl = sizeof cr;
    uid_t uid = getuid();
    int fd = -1, dfd = -1, rc, status = 2;

    if (!realpath(mountpoint, real)) {
        ctl_say(errf, "%s: %s: %s\n", prog, mountpoint, strerror(errno));
        return 2;
    }
    rc = ctl_name(real, ".sock", name, sizeof name);
    if (rc < 0) {
        ctl_say(errf, "%s: %s: %s\n", prog, mountpoint, strerror(-rc));
        return 2;
    }
    rc = ctl_dir_open(0, &dfd, dir, sizeof dir, err, sizeof err);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (rc == -ENOENT) {
        ctl_say(errf, "%s: %s is not an esebackupfs mount of this host (%s: %s)\n", prog,
                mountpoint, path, strerror(-rc));
        goto out;
    }
    if (rc < 0) {
        ctl_say(errf, "%s: %s: %s\n", prog, mountpoint, err);
        goto out;
    }
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        ctl_say(errf, "%s: %s is not an esebackupfs mount of this host (%s: %s)\n", prog,
                mountpoint, path, strerror(errno));
        goto out;
    }
    if (!S_ISSOCK(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) {
        ctl_say(errf,
                "%s: %s: control socket %s is not owned by uid %u with mode 0600 (owner "
                "uid %u, mode %04o); not trusted\n",
                prog, mountpoint, path, (unsigned)uid, (unsigned)st.st_uid,
                (unsigned)(st.st_mode & 07777));
        goto out;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ctl_addr(&sa, dfd, name);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        ctl_say(errf, "%s: %s is not an esebackupfs mount of this host (%s: %s)\n", prog,
                mountpoint, path, strerror(errno));
        goto out;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0) {
        ctl_say(errf, "%s: %s: SO_PEERCRED: %s\n", prog, path, strerror(errno));
        goto out;
    }
    if (cr.uid != uid) {
        ctl_say(errf,
                "%s: %s: control socket %s is served by uid %u (pid %ld), not by uid %u; "
                "not trusted\n",
                prog, mountpoint, path, (unsigned)cr.uid, (long)cr.pid, (unsigned)uid);
        goto out;
    }
    status = ctl_client_relay(prog, mountpoint, path, fd, cmd, out, errf);
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    return status;
}

/* See control.h. */
int fsx_control_client(const char *prog, const char *mountpoint, const char *cmd)
{
    int rc = fsx_control_query(prog, mountpoint, cmd, stdout, stderr);

    if (fflush(stdout) != 0 && rc == 0)
        rc = 2;
    return rc;
}

/* Undo mountinfo's \ooo escapes in place. */
static void mountinfo_unescape(char *s)
{
    char *w = s;

    for (; *s; s++) {
        if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
            s[3] >= '0' && s[3] <= '7') {
            *w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
            s += 3;
        } else {
            *w++ = *s;
        }
    }
    *w = 0;
}

/* See control.h. */
int fsx_control_each_mount(int (*fn)(const char *mnt, void *arg), void *arg)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;

    if (!f)
        return -errno;
    while (rc == 0 && getline(&line, &cap, f) > 0) {
        /* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... - FSTYPE SOURCE OPTS */
        char *p = line, *mnt;
        for (int i = 0; i < 4 && p; i++) {
            p = strchr(p, ' ');
            if (p)
                p++;
        }
        if (!p)
            continue;
        mnt = p;
        p = strchr(p, ' ');
        if (!p)
            continue;
        *p++ = 0;
        if (!strstr(p, " - fuse.esebackupfs "))
            continue;
        mountinfo_unescape(mnt);
        rc = fn(mnt, arg);
    }
    free(line);
    if (fclose(f) != 0 && rc >= 0)
        rc = -EIO;
    return rc;
}

/* fsx_control_each_mount callback: 1 (stop) at the mount point arg. */
static int mount_is(const char *mnt, void *arg)
{
    return strcmp(mnt, arg) ? 0 : 1;
}

/* See control.h. */
int fsx_control_is_mounted(const char *realmnt)
{
    return fsx_control_each_mount(mount_is, (void *)realmnt);
}

/* The holder's record: the mount point, "" before it is mounted. */
static void claim_read_holder(int fd, char *buf, size_t cb)
{
    ssize_t r = pread(fd, buf, cb - 1, 0);

    buf[r > 0 ? (size_t)r : 0] = 0;
}

/* Milliseconds left until deadline (CLOCK_MONOTONIC), 0 when passed. */
static int ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    if (clock_gettime(CLOCK_MONOTONIC, &now) < 0)
        return 0;
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000;
    return ms <= 0 ? 0 : ms > 3600000 ? 3600000 : (int)ms;
}

/* Open (creating) c->name in c->dfd into c->fd, check it is our regular
 * file, and watch it on ifd: a close (driver done) or a write (driver
 * mounted) wakes the waiter.  0 or -errno with one line in err. */
static int claim_open(fsx_claim *c, const char *dir, int ifd, char *err, size_t cb_err)
{
    char watch[64];
    struct stat st;
    int rc;

    c->fd = openat(c->dfd, c->name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (c->fd < 0 || fstat(c->fd, &st) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "%s/%s: %s", dir, c->name, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != getuid()) {
        rc = -EPERM;
        snprintf(err, cb_err,
                 "%s/%s is not a regular file owned by uid %u; not trusted (remove "
                 "it)",
                 dir, c->name, (unsigned)getuid());
        goto out;
    }
    snprintf(watch, sizeof watch, "/proc/self/fd/%d", c->fd);
    if (inotify_add_watch(ifd, watch, IN_CLOSE_WRITE | IN_MODIFY) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "%s/%s: inotify: %s", dir, c->name, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    return rc;
}

/* After flock succeeded: is c->fd still the file named c->name?  The
 * holder unlinks the name before it unlocks, so a lock on an unlinked
 * inode is worthless.  1 yes, 0 no (reopen), -errno. */
static int claim_is_current(const fsx_claim *c)
{
    struct stat a, b;

    if (fstat(c->fd, &a) < 0)
        return -errno;
    if (fstatat(c->dfd, c->name, &b, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? 0 : -errno;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* The claim file's lock was just taken: keep it if the file is still the
 * one named (then clear the holder record and mark c locked: 1), or take
 * the name anew when the previous holder removed it while we waited (0:
 * try again).  -errno with a message in err. */
static int claim_locked(fsx_claim *c, const char *dir, int ifd, char *err, size_t cb_err)
{
    char zero[PATH_MAX];
    int rc = claim_is_current(c);

    if (rc < 0) {
        snprintf(err, cb_err, "%s/%s: %s", dir, c->name, strerror(-rc));
        return rc;
    }
    if (rc == 0) {
        /* whoever creates it next competes */
        close(c->fd);
        c->fd = -1;
        rc = claim_open(c, dir, ifd, err, cb_err);
        return rc < 0 ? rc : 0;
    }
    memset(zero, 0, sizeof zero);
    if (pwrite(c->fd, zero, sizeof zero, 0) != (ssize_t)sizeof zero) {
        rc = -errno;
        snprintf(err, cb_err, "%s/%s: %s", dir, c->name, strerror(errno));
        return rc;
    }
    c->locked = 1;
    return 1;
}

/* See control.h. */
int fsx_claim_take(const char *source, int wait_s, fsx_claim **pc, char *err, size_t cb_err)
{
    fsx_claim *c = calloc(1, sizeof *c);
    char dir[200], holder[PATH_MAX];
    struct timespec deadline;
    int rc, ifd = -1;

    if (!c)
        return -ENOMEM;
    c->dfd = c->fd = -1;
    rc = ctl_name(source, ".lock", c->name, sizeof c->name);
    if (rc < 0) {
        snprintf(err, cb_err, "claim of %s: %s", source, strerror(-rc));
        goto out;
    }
    rc = ctl_dir_open(1, &c->dfd, dir, sizeof dir, err, cb_err);
    if (rc < 0)
        goto out;
    ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (ifd < 0 || clock_gettime(CLOCK_MONOTONIC, &deadline) < 0) {
        rc = -errno;
        snprintf(err, cb_err, "claim of %s: %s", source, strerror(errno));
        goto out;
    }
    deadline.tv_sec += wait_s;
    rc = claim_open(c, dir, ifd, err, cb_err);
    if (rc < 0)
        goto out;
    for (;;) {
        struct pollfd p = { ifd, POLLIN, 0 };
        char ev[4096];
        int left;

        if (flock(c->fd, LOCK_EX | LOCK_NB) == 0) {
            rc = claim_locked(c, dir, ifd, err, cb_err);
            if (rc < 0)
                goto out;
            if (rc == 0)
                continue;
            break;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            rc = -errno;
            snprintf(err, cb_err, "%s/%s: flock: %s", dir, c->name, strerror(errno));
            goto out;
        }
        claim_read_holder(c->fd, holder, sizeof holder);
        if (holder[0] && fsx_control_is_mounted(holder) == 1) {
            fs_log(FS_LOG_INFO, "%s is in use by the esebackupfs mount on %s", source, holder);
            break;
        }
        left = ms_left(&deadline);
        if (left == 0) {
            fs_log(FS_LOG_WARNING, "the previous driver of %s has not ended its backup after %d s",
                   source, wait_s);
            break;
        }
        if (poll(&p, 1, left) < 0 && errno != EINTR) {
            rc = -errno;
            snprintf(err, cb_err, "claim of %s: poll: %s", source, strerror(errno));
            goto out;
        }
        while (read(ifd, ev, sizeof ev) > 0)
            ;
    }
    *pc = c;
    c = NULL;
    rc = 0;
out:
    if (ifd >= 0)
        close(ifd);
    fsx_claim_release(c);
    return rc;
}

/* See control.h. */
int fsx_claim_mounted(fsx_claim *c, const char *realmnt)
{
    char rec[PATH_MAX];

    if (!c || !c->locked)
        return 0;
    memset(rec, 0, sizeof rec);
    snprintf(rec, sizeof rec, "%s", realmnt);
    if (pwrite(c->fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
        return -errno;
    return 0;
}

/* See control.h. */
void fsx_claim_release(fsx_claim *c)
{
    if (!c)
        return;
    /* remove the name while still holding the lock (a waiter that then
     * locks the unlinked inode notices and reopens), so that the
     * directory does not collect one file per source ever mounted */
    if (c->locked && unlinkat(c->dfd, c->name, 0) < 0)
        fs_log(FS_LOG_WARNING, "cannot remove the claim %s: %s", c->name, strerror(errno));
    if (c->fd >= 0)
        close(c->fd); /* drops the flock; wakes waiters (IN_CLOSE_WRITE) */
    if (c->dfd >= 0)
        close(c->dfd);
    free(c);
}

/* See control.h. */
int fsx_control_dir_check(char *dir, size_t cbdir, char *err, size_t cb_err)
{
    struct stat st;
    int dfd = -1, rc;

    rc = ctl_dir(dir, cbdir);
    if (rc < 0) {
        snprintf(err, cb_err, "control directory: %s", strerror(-rc));
        return rc;
    }
    if (lstat(dir, &st) < 0 && errno == ENOENT)
        return 1;
    rc = ctl_dir_open(0, &dfd, dir, cbdir, err, cb_err);
    if (dfd >= 0)
        close(dfd);
    return rc;
}
