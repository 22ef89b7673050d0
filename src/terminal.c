/* Terminals (see include/terminal.h). The pty is allocated by the container process itself, from
 * the devpts instance mounted for the container: a pty from the host's devpts would let the
 * container reach the host's other terminals through /dev/pts, and its name would mean nothing
 * inside. The peer is taken from the master with TIOCGPTPEER instead of being opened by its path,
 * which a process already in the container could have replaced with something else. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "log.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

#ifndef TIOCGPTPEER
#        define TIOCGPTPEER _IO('T', 0x41)
#endif

#define TERMINAL_NAME_MAX 64

int terminal_connect_socket(const char *path, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(path);
        int r;

        if (len == 0)
                return log_errno(LOG_ERR, -EINVAL, "--console-socket '': the path is empty");
        if (len >= sizeof sa.sun_path)
                return log_errno(LOG_ERR, -ENAMETOOLONG, "--console-socket '%s': %m (at most %zu bytes)",
                                 path, sizeof sa.sun_path - 1);
        memcpy(sa.sun_path, path, len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "--console-socket '%s': socket: %m", path);
        do
                r = connect(fd, (struct sockaddr *) &sa,
                            (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1));
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return log_errno(LOG_ERR, -errno, "--console-socket '%s': connect: %m", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Give the terminal to the process user, as runc's fixStdioPermissions: the owner becomes uid,
 * the group stays the one devpts chose (its gid= option, the tty group) unless gid is given.
 * EINVAL (an id not mapped in our user namespace), EPERM (the pty's owner is not mapped) and EROFS
 * leave it as it is rather than failing the container: the process can still use its terminal
 * through the fds it inherits. */
static int peer_chown(int peer, uid_t uid, gid_t gid) {
        struct stat st;

        if (fstat(peer, &st) < 0)
                return -errno;
        if (st.st_uid == uid && (gid == (gid_t) -1 || st.st_gid == gid))
                return 0;
        if (fchown(peer, uid, gid) < 0 && errno != EINVAL && errno != EPERM && errno != EROFS)
                return -errno;
        return 0;
}

static int peer_become_stdio(int peer) {
        for (int i = 0; i <= 2; i++)
                if (peer != i && dup3(peer, i, 0) < 0)
                        return -errno;
        return 0;
}

int terminal_setup_child(uint32_t rows, uint32_t cols, uid_t uid, gid_t gid, int *ret_master) {
        _cleanup_close_ int master = -EBADF, peer = -EBADF;
        int r;

        /* /dev/ptmx is the container's pts/ptmx symlink, resolved after pivot_root: its devpts */
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return log_errno(LOG_ERR, -errno, "process.terminal: opening /dev/ptmx: %m");
        if (unlockpt(master) < 0)
                return log_errno(LOG_ERR, -errno, "process.terminal: unlocking the pty: %m");
        peer = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (peer < 0)
                return log_errno(LOG_ERR, -errno,
                                 "process.terminal: opening the pty peer (TIOCGPTPEER): %m");
        if (rows > 0 || cols > 0) {
                struct winsize ws = { .ws_row = (unsigned short) rows, .ws_col = (unsigned short) cols };

                if (rows > 0xffff || cols > 0xffff)
                        return log_errno(LOG_ERR, -ERANGE, "process.consoleSize: %ux%u: at most 65535x65535",
                                         (unsigned) rows, (unsigned) cols);
                if (ioctl(master, TIOCSWINSZ, &ws) < 0)
                        return log_errno(LOG_ERR, -errno,
                                         "process.consoleSize: setting the window size: %m");
        }
        /* we are a session leader without a terminal (setsid() before): this one becomes ours */
        if (ioctl(peer, TIOCSCTTY, 0) < 0)
                return log_errno(LOG_ERR, -errno,
                                 "process.terminal: making the pty the controlling terminal: %m");
        r = peer_become_stdio(peer);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.terminal: making the pty fds 0-2: %m");
        r = peer_chown(peer, uid, gid);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.terminal: chown of the pty to %u: %m", (unsigned) uid);
        *ret_master = TAKE_FD(master);
        return 0;
}

int terminal_send_master(int sock, int master) {
        char name[TERMINAL_NAME_MAX];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov;
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        unsigned n;
        ssize_t k;

        /* The payload names the terminal (runc sends the file's name too); receivers use the fd. */
        if (ioctl(master, TIOCGPTN, &n) < 0)
                return -errno;
        snprintf(name, sizeof name, "/dev/pts/%u", n);
        iov = (struct iovec){ .iov_base = name, .iov_len = strlen(name) };
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &master, sizeof(int));
        do
                k = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        return k < 0 ? -errno : 0;
}

int terminal_copy_winsize(int fd, int master) {
        struct winsize ws;

        if (ioctl(fd, TIOCGWINSZ, &ws) < 0 || ioctl(master, TIOCSWINSZ, &ws) < 0)
                return -errno;
        return 0;
}

/* Close every fd of an SCM_RIGHTS message. */
static void close_passed_fds(struct msghdr *mh) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                size_t n;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                        safe_close(fd);
                }
        }
}

int terminal_recv_master(int sock, int *ret_fd) {
        char name[TERMINAL_NAME_MAX];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        struct cmsghdr *cm;
        unsigned ptn;
        ssize_t k;
        int fd;

        do
                k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        cm = CMSG_FIRSTHDR(&mh);
        if (k == 0 && !cm)
                return -EPIPE;
        /* exactly one fd, and a pty master (only masters answer TIOCGPTN) */
        if ((mh.msg_flags & MSG_CTRUNC) || !cm || cm->cmsg_level != SOL_SOCKET ||
            cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)) || CMSG_NXTHDR(&mh, cm)) {
                close_passed_fds(&mh);
                return -EBADMSG;
        }
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
        if (ioctl(fd, TIOCGPTN, &ptn) < 0) {
                safe_close(fd);
                return -ENOTTY;
        }
        *ret_fd = fd;
        return 0;
}

int terminal_hand_over(int master, int *console_fd, const char *console_path, int sync_fd) {
        int r;

        if (*console_fd >= 0) {
                r = terminal_send_master(*console_fd, master);
                *console_fd = safe_close(*console_fd);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "--console-socket '%s': sending the pty: %m", console_path);
                return 0;
        }
        r = sync_send(sync_fd, SYNC_TERMINAL, 0, NULL);
        if (r >= 0)
                r = terminal_send_master(sync_fd, master);
        if (r < 0)
                return r == -EPIPE ? r : log_errno(LOG_ERR, r, "process.terminal: handing the pty to urun: %m");
        return 1;
}
