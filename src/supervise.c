/* Foreground supervision for `run` and `exec` (see include/supervise.h).
 *
 * With a terminal, our own terminal is put in raw mode so that every key, ^C included, reaches
 * the container's pty as a byte; its line discipline turns ^C into SIGINT for the container's
 * foreground process group, exactly as if the user typed at the container's terminal. Window
 * size changes are copied to the pty, and the kernel then signals the container's foreground
 * group itself. The mode is restored on every return; the signals that would kill us meanwhile
 * are in the blocked mask (forwarded instead), and SIGPIPE is ignored while we write. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>

#include "log.h"
#include "supervise.h"
#include "terminal.h"
#include "util.h"

/* Signals a foreground caller passes on to the container (as runc does). */
static const int forwarded_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

/* After the process exited, at most this much output still in the pty is copied: an orphan of a
 * container without its own pid namespace could keep writing forever. */
#define DRAIN_MAX (4u << 20)

typedef struct {
        int master;             /* -EBADF: no terminal to proxy */
        bool stdin_open;        /* still reading our stdin */
        bool master_open;       /* the pty still has a peer (reads do not fail with EIO) */
        bool stdout_ok;         /* writing our stdout still works; else output is discarded */
        bool raw;               /* our stdin was put in raw mode: saved is to be restored */
        struct termios saved;
        struct sigaction saved_sigpipe;
        char in[4096];          /* stdin -> master, not yet written */
        size_t in_len, in_off;
} Proxy;

void supervise_block_signals(sigset_t *mask) {
        sigemptyset(mask);
        sigaddset(mask, SIGCHLD);
        for (size_t i = 0; i < ELEMENTSOF(forwarded_signals); i++)
                sigaddset(mask, forwarded_signals[i]);
        sigprocmask(SIG_BLOCK, mask, NULL);
}

static int exit_code(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return 128 + WTERMSIG(status);
        return 255;
}

static void proxy_copy_winsize(const Proxy *p) {
        if (p->master >= 0)
                (void) terminal_copy_winsize(STDIN_FILENO, p->master);
}

static int proxy_start(Proxy *p, int master) {
        struct sigaction ign = { .sa_handler = SIG_IGN };
        int fl;

        *p = (Proxy){ .master = master, .stdin_open = true, .master_open = true, .stdout_ok = true };
        (void) sigaction(SIGPIPE, &ign, &p->saved_sigpipe);
        /* Our own open file of the master (received over a socket): nonblocking affects nobody
         * else. Our stdin/stdout are shared with the caller's shell and stay as they are. */
        fl = fcntl(master, F_GETFL);
        if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
                return log_errno(LOG_ERR, -errno, "terminal: %m");
        if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &p->saved) >= 0) {
                struct termios raw = p->saved;

                cfmakeraw(&raw);
                if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
                        return log_errno(LOG_ERR, -errno, "terminal: setting raw mode on stdin: %m");
                p->raw = true;
                proxy_copy_winsize(p);
        }
        return 0;
}

/* Write all of buf to stdout, waiting if stdout is nonblocking; on failure output is dropped
 * from then on (the container must not block on a pty nobody reads). */
static void proxy_output(Proxy *p, const char *buf, size_t len) {
        while (p->stdout_ok && len > 0) {
                ssize_t n = write(STDOUT_FILENO, buf, len);

                if (n < 0 && errno == EAGAIN) {
                        struct pollfd pf = { .fd = STDOUT_FILENO, .events = POLLOUT };
                        (void) poll(&pf, 1, 1000);
                        continue;
                }
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        p->stdout_ok = false;
                        return;
                }
                buf += n;
                len -= (size_t) n;
        }
}

/* Copy what the pty has now (nonblocking); max bounds the total. EIO: no peer is left. */
static void proxy_read_master(Proxy *p, size_t max) {
        char buf[8192];
        size_t total = 0;

        while (p->master_open && total < max) {
                ssize_t n = read(p->master, buf, sizeof buf);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n <= 0) {
                        p->master_open = false;
                        return;
                }
                proxy_output(p, buf, (size_t) n);
                total += (size_t) n;
        }
}

static void proxy_read_stdin(Proxy *p) {
        ssize_t n = read(STDIN_FILENO, p->in, sizeof p->in);

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                /* as runc: our EOF ends the copy; the container's terminal stays open */
                p->stdin_open = false;
                return;
        }
        p->in_len = (size_t) n;
        p->in_off = 0;
}

static void proxy_write_master(Proxy *p) {
        ssize_t n = write(p->master, p->in + p->in_off, p->in_len - p->in_off);

        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0) {
                p->in_len = p->in_off = 0;
                p->stdin_open = false;
                return;
        }
        p->in_off += (size_t) n;
        if (p->in_off == p->in_len)
                p->in_len = p->in_off = 0;
}

static void proxy_stop(Proxy *p) {
        if (p->master < 0)
                return;
        /* What the process wrote before exiting is still in the pty (a nonblocking read flushes
         * the kernel's pending tty buffers first). */
        proxy_read_master(p, DRAIN_MAX);
        if (p->raw)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &p->saved);
        (void) sigaction(SIGPIPE, &p->saved_sigpipe, NULL);
        p->raw = false;
        p->master = -EBADF;
}

/* One round of poll over the signalfd, stdin and the master. Returns the signal received or 0. */
static int proxy_poll(Proxy *p, int sfd) {
        struct pollfd pf[3] = { { .fd = sfd, .events = POLLIN }, { .fd = -1 }, { .fd = -1 } };
        struct signalfd_siginfo si;

        if (p->master >= 0 && p->stdin_open && p->in_len == 0 && p->master_open)
                pf[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
        if (p->master >= 0 && p->master_open)
                pf[2] = (struct pollfd){ .fd = p->master, .events = POLLIN | (p->in_len ? POLLOUT : 0) };
        if (poll(pf, 3, -1) < 0)
                return errno == EINTR ? 0 : -errno;
        if (pf[1].revents)
                proxy_read_stdin(p);
        if (pf[2].revents & POLLOUT)
                proxy_write_master(p);
        if (pf[2].revents & (POLLIN | POLLHUP | POLLERR))
                proxy_read_master(p, sizeof p->in * 16);
        if (!(pf[0].revents & POLLIN))
                return 0;
        if (read(sfd, &si, sizeof si) != sizeof si)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        return (int) si.ssi_signo;
}

static int supervise_loop(pid_t pid, Proxy *p, int sfd) {
        for (;;) {
                int status, sig;
                pid_t q;

                /* -1: with an intermediate process the init was adopted (subreaper); reap all */
                while ((q = waitpid(-1, &status, WNOHANG)) > 0)
                        if (q == pid)
                                return exit_code(status);
                if (q < 0 && errno == ECHILD)
                        return log_errno(LOG_ERR, -ECHILD, "container process '%d' vanished", (int) pid);
                sig = proxy_poll(p, sfd);
                if (sig < 0)
                        return log_errno(LOG_ERR, sig, "waiting for the container process: %m");
                if (sig == 0 || sig == SIGCHLD)
                        continue;
                /* With a terminal the kernel signals the container's foreground group when its
                 * window size changes: copy ours instead of forwarding the signal. */
                if (sig == SIGWINCH && p->master >= 0)
                        proxy_copy_winsize(p);
                else
                        (void) kill(pid, sig); /* our child: cannot be reused before we reap it */
        }
}

int supervise(pid_t pid, const sigset_t *mask, int master) {
        _cleanup_close_ int sfd = signalfd(-1, mask, SFD_CLOEXEC | SFD_NONBLOCK);
        Proxy p = { .master = -EBADF };
        int r;

        if (sfd < 0)
                return log_errno(LOG_ERR, -errno, "signalfd: %m");
        if (master >= 0) {
                r = proxy_start(&p, master);
                if (r < 0) {
                        proxy_stop(&p);
                        return r;
                }
        }
        r = supervise_loop(pid, &p, sfd);
        proxy_stop(&p);
        return r;
}
