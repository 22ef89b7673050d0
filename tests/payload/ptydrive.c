/* ptydrive: run a command on a fresh pty, as if a user sat at a terminal, for the terminal tests.
 *
 *   ptydrive [STEP...] -- COMMAND [ARG...]
 *
 * The command runs in its own session with the pty as controlling terminal and as fds 0-2. Its
 * output is copied to our stdout as it arrives. The steps run in order once it started:
 *   --size RxC       the window size before the command starts (rows x columns)
 *   --wait TEXT      wait until TEXT appears in the output (after the previous --wait's match)
 *   --send TEXT      type TEXT (escapes: \n \r \t \\ \xHH, so "\x03" is ^C)
 *   --resize RxC     change the window size (the terminal's foreground group gets SIGWINCH)
 *   --check-raw      print "ptydrive: raw=yes" (no ICANON, ECHO, ISIG) or "raw=no" for now
 *   --timeout SECS   bound for each --wait and for the command's exit (default 30)
 * When the command exited, the rest of its output is copied and the terminal's attributes are
 * compared with those before the command: "ptydrive: termios restored" or "ptydrive: termios
 * changed (...)". Exit status: the command's (128+N after signal N), 124 on a timeout (the
 * command is killed), 125 on a usage or setup error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum step_kind { STEP_WAIT, STEP_SEND, STEP_RESIZE, STEP_CHECK_RAW };

typedef struct {
        enum step_kind kind;
        const char *arg;
} Step;

static struct {
        int master, slave, sfd;
        pid_t pid;
        char *out;             /* everything the command wrote */
        size_t out_len, out_cap, mark;
        int timeout;
} D = { .master = -1, .slave = -1, .sfd = -1, .timeout = 30 };

static int die(const char *what) {
        fprintf(stderr, "ptydrive: %s: %s\n", what, strerror(errno));
        return 125;
}

static int parse_size(const char *s, struct winsize *ws) {
        unsigned r, c;
        char end;

        if (sscanf(s, "%ux%u%c", &r, &c, &end) != 2 || r > 0xffff || c > 0xffff)
                return -1;
        *ws = (struct winsize){ .ws_row = (unsigned short) r, .ws_col = (unsigned short) c };
        return 0;
}

/* C-like escapes into buf; returns the length. */
static size_t unescape(const char *s, char *buf, size_t size) {
        size_t n = 0;

        while (*s && n < size) {
                char ch = *s++;
                if (ch == '\\' && *s) {
                        ch = *s++;
                        if (ch == 'n')
                                ch = '\n';
                        else if (ch == 'r')
                                ch = '\r';
                        else if (ch == 't')
                                ch = '\t';
                        else if (ch == 'x') {
                                char hex[3] = { 0 };
                                for (int i = 0; i < 2 && *s; i++)
                                        hex[i] = *s++;
                                ch = (char) strtol(hex, NULL, 16);
                        }
                }
                buf[n++] = ch;
        }
        return n;
}

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Copy what the command wrote (nonblocking). */
static void read_output(void) {
        char buf[4096];
        ssize_t n;

        while ((n = read(D.master, buf, sizeof buf)) > 0) {
                if (D.out_len + (size_t) n + 1 > D.out_cap) {
                        D.out_cap = (D.out_len + (size_t) n + 1) * 2;
                        D.out = realloc(D.out, D.out_cap);
                        if (!D.out)
                                abort();
                }
                memcpy(D.out + D.out_len, buf, (size_t) n);
                D.out_len += (size_t) n;
                fwrite(buf, 1, (size_t) n, stdout);
        }
        fflush(stdout);
}

/* Wait for output or the command's exit until deadline (ms, monotonic; <0: none).
 * Returns 1 when the command exited (*status set), 0 on activity, -1 on timeout. */
static int pump(long deadline, int *status) {
        struct pollfd pf[2] = { { .fd = D.master, .events = POLLIN }, { .fd = D.sfd, .events = POLLIN } };
        long left = deadline < 0 ? -1 : deadline - now_ms();
        struct signalfd_siginfo si;

        if (deadline >= 0 && left <= 0)
                return -1;
        if (poll(pf, 2, (int) left) == 0)
                return -1;
        read_output();
        if (pf[1].revents & POLLIN)
                (void) !read(D.sfd, &si, sizeof si);
        if (waitpid(D.pid, status, WNOHANG) == D.pid)
                return 1;
        return 0;
}

static bool output_has(const char *text, size_t *ret_end) {
        char *m;

        if (!D.out)
                return false;
        D.out[D.out_len] = '\0';
        m = memmem(D.out + D.mark, D.out_len - D.mark, text, strlen(text));
        if (!m)
                return false;
        *ret_end = (size_t) (m - D.out) + strlen(text);
        return true;
}

/* Runs one step; 0 ok, 1 the command exited meanwhile (*status), -1 timeout, -2 error. */
static int run_step(const Step *s, int *status) {
        long deadline = now_ms() + D.timeout * 1000L;
        char buf[4096];
        struct winsize ws;
        struct termios t;
        size_t end, n;
        int r;

        switch (s->kind) {
        case STEP_WAIT:
                while (!output_has(s->arg, &end)) {
                        r = pump(deadline, status);
                        if (r != 0) {
                                if (r > 0 && output_has(s->arg, &end))
                                        break;
                                printf("\nptydrive: %s waiting for '%s'\n", r < 0 ? "timeout" : "exit",
                                       s->arg);
                                return r;
                        }
                }
                D.mark = end;
                return 0;
        case STEP_SEND:
                n = unescape(s->arg, buf, sizeof buf);
                if (write(D.master, buf, n) != (ssize_t) n)
                        return die("write"), -2;
                return 0;
        case STEP_RESIZE:
                (void) parse_size(s->arg, &ws);
                if (ioctl(D.master, TIOCSWINSZ, &ws) < 0)
                        return die("TIOCSWINSZ"), -2;
                return 0;
        case STEP_CHECK_RAW:
                if (tcgetattr(D.slave, &t) < 0)
                        return die("tcgetattr"), -2;
                printf("\nptydrive: raw=%s\n", (t.c_lflag & (ICANON | ECHO | ISIG)) ? "no" : "yes");
                return 0;
        }
        return 0;
}

static void compare_termios(const struct termios *a, const struct termios *b) {
        if (a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag && a->c_cflag == b->c_cflag &&
            a->c_lflag == b->c_lflag && memcmp(a->c_cc, b->c_cc, sizeof a->c_cc) == 0) {
                printf("\nptydrive: termios restored\n");
                return;
        }
        printf("\nptydrive: termios changed (iflag %o->%o oflag %o->%o cflag %o->%o lflag %o->%o)\n", a->c_iflag,
               b->c_iflag, a->c_oflag, b->c_oflag, a->c_cflag, b->c_cflag, a->c_lflag, b->c_lflag);
}

static int spawn(char **argv, const struct winsize *ws) {
        char *name;
        int r;

        D.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (D.master < 0 || grantpt(D.master) < 0 || unlockpt(D.master) < 0 || !(name = ptsname(D.master)))
                return die("posix_openpt");
        /* we keep the peer open too: its attributes are read after the command exited */
        D.slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (D.slave < 0)
                return die(name);
        if (ws && ioctl(D.master, TIOCSWINSZ, ws) < 0)
                return die("TIOCSWINSZ");
        D.pid = fork();
        if (D.pid < 0)
                return die("fork");
        if (D.pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (setsid() < 0 || ioctl(D.slave, TIOCSCTTY, 0) < 0 || dup2(D.slave, 0) < 0 ||
                    dup2(D.slave, 1) < 0 || dup2(D.slave, 2) < 0)
                        _exit(die("child setup"));
                execvp(argv[0], argv);
                r = errno;
                die(argv[0]);
                _exit(r == ENOENT ? 127 : 126);
        }
        return fcntl(D.master, F_SETFL, O_NONBLOCK) < 0 ? die("fcntl") : 0;
}

static int finish(int status) {
        /* the command exited: what it wrote last may still be in the pty */
        read_output();
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
        Step steps[64];
        size_t n = 0;
        struct winsize size, resize, *ws = NULL;
        struct termios before, after;
        sigset_t mask;
        int i, status = 0, r;

        for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
                const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
                if (n >= sizeof steps / sizeof steps[0])
                        return 125;
                if (strcmp(o, "--check-raw") == 0) {
                        steps[n++] = (Step){ STEP_CHECK_RAW, NULL };
                        continue;
                }
                if (!a)
                        goto usage;
                i++;
                if (strcmp(o, "--size") == 0 && parse_size(a, &size) == 0)
                        ws = &size;
                else if (strcmp(o, "--timeout") == 0 && atoi(a) > 0)
                        D.timeout = atoi(a);
                else if (strcmp(o, "--wait") == 0)
                        steps[n++] = (Step){ STEP_WAIT, a };
                else if (strcmp(o, "--send") == 0)
                        steps[n++] = (Step){ STEP_SEND, a };
                else if (strcmp(o, "--resize") == 0 && parse_size(a, &resize) == 0)
                        steps[n++] = (Step){ STEP_RESIZE, a };
                else
                        goto usage;
        }
        if (i + 1 >= argc)
                goto usage;
        setvbuf(stdout, NULL, _IOFBF, 1 << 16);
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        D.sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (D.sfd < 0)
                return die("signalfd");
        r = spawn(argv + i + 1, ws);
        if (r != 0)
                return r;
        if (tcgetattr(D.slave, &before) < 0)
                return die("tcgetattr");
        for (size_t k = 0; k < n; k++) {
                r = run_step(&steps[k], &status);
                if (r > 0)
                        goto exited;
                if (r < 0)
                        goto kill;
        }
        for (long deadline = now_ms() + D.timeout * 1000L;;) {
                r = pump(deadline, &status);
                if (r > 0)
                        break;
                if (r < 0) {
                        printf("\nptydrive: timeout waiting for the command to exit\n");
                        goto kill;
                }
        }
exited:
        r = finish(status);
        if (tcgetattr(D.slave, &after) < 0)
                return die("tcgetattr");
        compare_termios(&before, &after);
        fflush(stdout);
        return r;
kill:
        kill(D.pid, SIGKILL);
        waitpid(D.pid, NULL, 0);
        read_output();
        fflush(stdout);
        return r == -2 ? 125 : 124;
usage:
        fprintf(stderr, "usage: ptydrive [--size RxC] [--timeout S]\n"
                        "                [--wait TEXT | --send TEXT | --resize RxC | --check-raw]... -- COMMAND [ARG...]\n");
        return 125;
}
