/* daemon.c -- daemonizing with a readiness pipe; see fsx.h.
 *
 * The mount command returns only once the backup has begun and the
 * filesystem is mounted: the parent waits on a pipe for "OK" or for the
 * one-line error of the child (which names the Jet error); on error
 * nothing is left mounted and the exit status is 1.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fsx.h"
#include "plat.h"

/* See fsx.h. */
void fsx_notify(fsx_main *m, const char *msg)
{
    if (m->notify_fd < 0) {
        if (strcmp(msg, "OK"))
            fprintf(stderr, PROG ": %s\n", msg);
        return;
    }
    if (dprintf(m->notify_fd, "%s\n", msg) < 0)
        fs_log(FS_LOG_WARNING, "cannot notify the parent: %s", strerror(errno));
    close(m->notify_fd);
    m->notify_fd = -1;
}

/* Parent side of daemonizing: wait for "OK" or an error line. */
static int wait_child(int fd, pid_t pid)
{
    char buf[2048];
    size_t n = 0;
    ssize_t r;
    int st;

    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        n += (size_t)r;
    }
    buf[n] = 0;
    close(fd);
    if (!strcmp(buf, "OK\n"))
        return 0;
    if (n) {
        fprintf(stderr, PROG ": %s", buf);
        if (buf[n - 1] != '\n')
            fputc('\n', stderr);
    } else {
        fprintf(stderr, PROG ": the driver died before the mount was ready\n");
    }
    (void)waitpid(pid, &st, 0);
    return 1;
}

/* See fsx.h. */
int fsx_daemonize(fsx_main *m, int *child)
{
    int pfd[2];
    pid_t pid;

    *child = 0;
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fprintf(stderr, PROG ": pipe: %s\n", strerror(errno));
        return 1;
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        fprintf(stderr, PROG ": fork: %s\n", strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return 1;
    }
    if (pid > 0) {
        close(pfd[1]);
        return wait_child(pfd[0], pid);
    }
    close(pfd[0]);
    m->notify_fd = pfd[1];
    if (setsid() < 0 || chdir("/") < 0) {
        fsx_notify(m, "cannot detach (setsid/chdir)");
        _exit(1);
    }
    *child = 1;
    return 0;
}

/* See fsx.h. */
void fsx_detach_stdio(void)
{
    int nul = open("/dev/null", O_RDWR);

    if (nul < 0)
        return;
    (void)dup2(nul, 0);
    (void)dup2(nul, 1);
    (void)dup2(nul, 2);
    if (nul > 2)
        close(nul);
}
