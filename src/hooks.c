/* OCI hooks: each hook is forked and executed with the container state JSON on its stdin, in
 * order; the first failure stops the run. The caller decides what a failure means per hook kind. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "log.h"
#include "util.h"

/* Granularity of the waitpid() polling fallback for kernels without pidfd_open() (< 5.3). */
#define HOOK_POLL_FALLBACK_MS 10

typedef struct {
        pid_t pid;
        int pidfd;           /* readable when the hook exits; -EBADF in the polling fallback */
        int stdin_fd;        /* write end of the hook's stdin; -EBADF once all is written */
        const char *data;
        size_t len, written;
} HookChild;

static void hook_child_done(HookChild *c) {
        c->pidfd = safe_close(c->pidfd);
        c->stdin_fd = safe_close(c->stdin_fd);
}

/* In the forked child: only async-signal-safe calls until execve(). On exec failure the errno is
 * sent through err_fd (close-on-exec, so the parent reads EOF when execve succeeds). */
_noreturn_ static void hook_child_exec(const HookSpec *h, int stdin_fd, int err_fd) {
        char *default_args[] = { h->path, NULL };
        char *empty_env[] = { NULL };
        sigset_t all;
        int fd, e;

        /* Dispositions and the mask survive execve(): give the hook a clean slate (the runtime may
         * ignore SIGPIPE or block signals it forwards). */
        for (int sig = 1; sig < _NSIG; sig++)
                (void) signal(sig, SIG_DFL);
        (void) sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        /* its own process group: a timeout kills whatever the hook started, too */
        (void) setpgid(0, 0);

        /* Move both above 2 first, so that neither can sit on 0 and be clobbered by dup2(). */
        fd = fcntl(stdin_fd, F_DUPFD_CLOEXEC, 3);
        err_fd = fcntl(err_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0 || err_fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                goto fail;
        /* Leak nothing of the runtime into the hook, whether or not everything is CLOEXEC. */
        (void) close_range(3, err_fd - 1, 0);
        (void) close_range((unsigned) err_fd + 1, ~0U, 0);

        (void) execve(h->path, h->args && h->args[0] ? h->args : default_args, h->env ?: empty_env);
fail:
        e = errno;
        (void) write(err_fd, &e, sizeof(e));
        _exit(127);
}

static int pidfd_open_or_fallback(pid_t pid) {
        int fd = (int) syscall(SYS_pidfd_open, pid, 0);

        if (fd >= 0)
                return fd;
        return errno == ENOSYS ? -EBADF : -errno;
}

static int hook_spawn(const HookSpec *h, const char *state_json, HookChild *c, int *ret_err_fd) {
        _cleanup_close_ int in_r = -EBADF, in_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        in_r = p[0], in_w = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        err_r = p[0], err_w = p[1];
        /* Non-blocking: a hook that never reads must not stall us past its timeout. */
        if (fcntl(in_w, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        c->pid = fork();
        if (c->pid < 0)
                return -errno;
        if (c->pid > 0)
                (void) setpgid(c->pid, c->pid); /* also in the child: whichever runs first */
        if (c->pid == 0)
                hook_child_exec(h, in_r, err_w);

        r = pidfd_open_or_fallback(c->pid);
        if (r < 0 && r != -EBADF) {
                (void) kill(c->pid, SIGKILL);
                (void) waitpid(c->pid, NULL, 0);
                return r;
        }
        c->pidfd = r;
        c->stdin_fd = TAKE_FD(in_w);
        c->data = state_json;
        c->len = state_json ? strlen(state_json) : 0;
        c->written = 0;
        *ret_err_fd = TAKE_FD(err_r);
        return 0;
}

/* Write what the pipe takes. EPIPE (the hook exited or closed stdin) just ends the input. */
static void hook_feed_stdin(HookChild *c) {
        while (c->stdin_fd >= 0 && c->written < c->len) {
                ssize_t n = write(c->stdin_fd, c->data + c->written, c->len - c->written);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0)
                        break;
                c->written += (size_t) n;
        }
        c->stdin_fd = safe_close(c->stdin_fd);
}

static int64_t now_ms(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed stdin and wait for the exit, at most until deadline (< 0: none). Returns 0 with the wait
 * status, -ETIME after killing and reaping the hook, or another -errno. */
static int hook_wait(HookChild *c, int64_t deadline, int *ret_status) {
        for (;;) {
                struct pollfd pfd[2];
                nfds_t n = 0;
                int status, timeout_ms = -1;
                pid_t w = waitpid(c->pid, &status, WNOHANG);

                if (w == c->pid) {
                        *ret_status = status;
                        return 0;
                }
                if (w < 0 && errno != EINTR)
                        return -errno;
                if (deadline >= 0) {
                        int64_t left = deadline - now_ms();

                        if (left <= 0) {
                                (void) kill(-c->pid, SIGKILL);
                                (void) kill(c->pid, SIGKILL);
                                (void) waitpid(c->pid, NULL, 0);
                                return -ETIME;
                        }
                        timeout_ms = (int) (left < 3600000 ? left : 3600000);
                }
                if (c->pidfd >= 0)
                        pfd[n++] = (struct pollfd) { .fd = c->pidfd, .events = POLLIN };
                else if (timeout_ms < 0 || timeout_ms > HOOK_POLL_FALLBACK_MS)
                        timeout_ms = HOOK_POLL_FALLBACK_MS;
                if (c->stdin_fd >= 0)
                        pfd[n++] = (struct pollfd) { .fd = c->stdin_fd, .events = POLLOUT };

                if (poll(pfd, n, timeout_ms) < 0 && errno != EINTR)
                        return -errno;
                if (c->stdin_fd >= 0 && pfd[n - 1].revents)
                        hook_feed_stdin(c);
        }
}

/* Reads the errno the child sent when execve() failed; 0 when it succeeded. */
static int hook_exec_error(int err_fd) {
        int e;
        ssize_t n;

        do
                n = read(err_fd, &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        return n == (ssize_t) sizeof(e) && e > 0 ? -e : 0;
}

static int hook_run_one(enum hook_kind kind, size_t i, const HookSpec *h, const char *state_json) {
        HookChild c = { .pidfd = -EBADF, .stdin_fd = -EBADF };
        _cleanup_close_ int err_fd = -EBADF;
        const char *k = hook_kind_to_name(kind);
        int status = 0, r;

        r = hook_spawn(h, state_json, &c, &err_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "hook %s[%zu] (%s): starting: %m", k, i, h->path);
        r = hook_wait(&c, h->timeout > 0 ? now_ms() + (int64_t) h->timeout * 1000 : -1, &status);
        hook_child_done(&c);
        if (r == -ETIME)
                return log_errno(LOG_ERR, r, "hook %s[%zu] (%s): timed out after %d s", k, i, h->path,
                                 h->timeout);
        if (r < 0)
                return log_errno(LOG_ERR, r, "hook %s[%zu] (%s): waiting: %m", k, i, h->path);

        r = hook_exec_error(err_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "hook %s[%zu] (%s): exec: %m", k, i, h->path);
        if (WIFSIGNALED(status))
                return log_errno(LOG_ERR, -EIO, "hook %s[%zu] (%s): killed by signal %d", k, i, h->path,
                                 WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return log_errno(LOG_ERR, -EIO, "hook %s[%zu] (%s): exited with status %d", k, i, h->path,
                                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return 0;
}

int hooks_run(enum hook_kind kind, const HookSpec *hooks, size_t n, const char *state_json) {
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;
        int r = 0;

        if (n == 0)
                return 0;
        /* A hook may exit without reading its stdin: get EPIPE instead of dying of SIGPIPE. */
        if (sigaction(SIGPIPE, &ign, &old) < 0)
                return log_errno(LOG_ERR, -errno, "hooks %s: ignoring SIGPIPE: %m", hook_kind_to_name(kind));
        for (size_t i = 0; i < n && r >= 0; i++)
                r = hook_run_one(kind, i, &hooks[i], state_json);
        (void) sigaction(SIGPIPE, &old, NULL);
        return r;
}
