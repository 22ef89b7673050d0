/* urun-recvtty: a --console-socket receiver, like runc's contrib/cmd/recvtty.
 *
 *   urun-recvtty [--mode single|null] [--pid-file FILE] [--no-stdin] SOCKET_PATH
 *
 * Creates a unix stream socket at SOCKET_PATH, accepts one connection, receives the pty master
 * that `urun create/run --console-socket SOCKET_PATH` sends (SCM_RIGHTS), then
 *   single (default): copies the pty's output to stdout and stdin to the pty until the container
 *                     side of the pty is closed (all its processes exited);
 *   null:             reads and discards the output until then.
 * --pid-file is written once the socket listens, so a caller can wait for it. The socket file is
 * removed as soon as the connection is accepted. Self-contained: it links nothing of urun. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *socket_path;

static int fail(const char *what) {
        fprintf(stderr, "urun-recvtty: %s: %s\n", what, strerror(errno));
        if (socket_path)
                (void) unlink(socket_path);
        return 1;
}

static int listen_on(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof sa.sun_path) {
                errno = ENAMETOOLONG;
                return -1;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

static int write_pid_file(const char *path) {
        char tmp[4096];
        FILE *f;

        /* written to a temporary name, then renamed: a reader never sees it half-written */
        if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int) sizeof tmp) {
                errno = ENAMETOOLONG;
                return -1;
        }
        f = fopen(tmp, "we");
        if (!f)
                return -1;
        fprintf(f, "%d\n", (int) getpid());
        if (fclose(f) != 0 || rename(tmp, path) < 0)
                return -1;
        return 0;
}

/* One fd over SCM_RIGHTS; the payload (the pty's name) is not needed. */
static int receive_fd(int conn) {
        char name[4096];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof control.buf };
        struct cmsghdr *cm;
        ssize_t n;
        int fd;

        do
                n = recvmsg(conn, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
            cm->cmsg_len != CMSG_LEN(sizeof(int))) {
                errno = n == 0 ? EPIPE : EBADMSG;
                return -1;
        }
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        return fd;
}

static int write_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Until the pty's peer side is gone (read: EIO) copy its output out, and our stdin in. */
static int proxy(int master, bool use_stdin, bool discard) {
        bool in_open = use_stdin, out_ok = !discard;
        char buf[8192];

        for (;;) {
                struct pollfd pf[2] = { { .fd = master, .events = POLLIN },
                                        { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
                ssize_t n;

                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (pf[1].revents) {
                        n = read(STDIN_FILENO, buf, sizeof buf);
                        if (n <= 0 || write_all(master, buf, (size_t) n) < 0)
                                in_open = false;
                }
                if (!pf[0].revents)
                        continue;
                n = read(master, buf, sizeof buf);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0)
                        return 0; /* EIO: no process holds the terminal any more */
                if (out_ok && write_all(STDOUT_FILENO, buf, (size_t) n) < 0)
                        out_ok = false;
        }
}

static void usage(FILE *f) {
        fprintf(f, "usage: urun-recvtty [--mode single|null] [--pid-file FILE] [--no-stdin] SOCKET_PATH\n"
                   "Receive the pty master of a container started with --console-socket SOCKET_PATH.\n"
                   "  --mode single   copy the terminal to and from our stdio until it closes (default)\n"
                   "  --mode null     discard the terminal's output until it closes\n"
                   "  --pid-file F    write our pid to F once the socket listens\n"
                   "  --no-stdin      do not copy our stdin to the terminal\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "mode", required_argument, NULL, 'm' }, { "pid-file", required_argument, NULL, 'p' },
                { "no-stdin", no_argument, NULL, 'n' },   { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *mode = "single", *pid_file = NULL;
        bool no_stdin = false;
        int c, lfd, conn, master;

        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'm': mode = optarg; break;
                case 'p': pid_file = optarg; break;
                case 'n': no_stdin = true; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind != argc - 1 || (strcmp(mode, "single") != 0 && strcmp(mode, "null") != 0)) {
                usage(stderr);
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        lfd = listen_on(argv[optind]);
        if (lfd < 0)
                return fail(argv[optind]);
        socket_path = argv[optind];
        if (pid_file && write_pid_file(pid_file) < 0)
                return fail(pid_file);
        do
                conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        while (conn < 0 && errno == EINTR);
        if (conn < 0)
                return fail("accept");
        close(lfd);
        (void) unlink(socket_path);
        socket_path = NULL;
        master = receive_fd(conn);
        if (master < 0)
                return fail("receiving the terminal");
        close(conn);
        if (proxy(master, !no_stdin && strcmp(mode, "single") == 0, strcmp(mode, "null") == 0) < 0)
                return fail("terminal");
        close(master);
        return 0;
}
