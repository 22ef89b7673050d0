/* Terminals. The pty of a container process is created inside the container, from its own devpts
 * (/dev/ptmx after pivot_root), the peer opened with TIOCGPTPEER (never by a path the container
 * could swap), and the master handed out: to the --console-socket receiver (SCM_RIGHTS, as runc),
 * or to the runtime itself, which then proxies its own terminal (foreground run/exec). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

/* Before clone, where the host path is reachable: connect to the unix stream socket at path.
 * Logs "--console-socket 'PATH': ..." and fails on a bad path; *ret_fd is O_CLOEXEC. */
int terminal_connect_socket(const char *path, int *ret_fd);

/* In the container process after pivot_root and setsid(): open the master from /dev/ptmx, the
 * peer with TIOCGPTPEER, apply the window size (rows/cols 0: leave it), make the peer the
 * controlling terminal and fds 0-2 (fd 0 is the peer afterwards), chown it to uid and gid
 * (gid (gid_t) -1: keep the group devpts gave it, as runc; an id that is not mapped leaves the
 * owner as it is). Logs its errors. *ret_master is O_CLOEXEC. */
int terminal_setup_child(uint32_t rows, uint32_t cols, uid_t uid, gid_t gid, int *ret_master);

/* Hand a pty master over a unix socket (SCM_RIGHTS; the payload is the pty name "/dev/pts/N",
 * as runc sends a name). Silent; -errno. */
int terminal_send_master(int sock, int master);
/* Copy the window size of the terminal on fd (our stdin) to the pty master; -ENOTTY when fd is no
 * terminal. A change makes the kernel send SIGWINCH to the pty's foreground group. Silent. */
int terminal_copy_winsize(int fd, int master);

/* Receive one fd sent by terminal_send_master (one packet on SOCK_SEQPACKET). Silent; -EPIPE on
 * EOF, -EBADMSG unless exactly one fd came, -ENOTTY when it is not a pty master. O_CLOEXEC. */
int terminal_recv_master(int sock, int *ret_fd);

/* In the container process: give the master away, keeping none. With a console socket (*console_fd
 * >= 0) over it, which is then closed (console_path names it in errors); otherwise to the runtime
 * over the sync socket (SYNC_TERMINAL, then the fd), which proxies it. Returns 0 for the socket,
 * 1 for the runtime; logs, except -EPIPE (the runtime is gone and says so itself). */
int terminal_hand_over(int master, int *console_fd, const char *console_path, int sync_fd);
