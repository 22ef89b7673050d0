/* The foreground side of `run` and `exec`: wait for the container process, pass signals on, and
 * (with a terminal) proxy our own terminal to the pty master. */
#pragma once

#include <signal.h>
#include <sys/types.h>

/* The signals a foreground caller passes on (SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2,
 * SIGWINCH) plus SIGCHLD, blocked in the calling thread; *mask receives the set. Block them before
 * the child is spawned so that none is lost. */
void supervise_block_signals(sigset_t *mask);

/* Wait for pid (our child) to exit while forwarding the signals in mask to it. master >= 0: also
 * copy stdin to master and master to stdout, with stdin in raw mode when it is a terminal
 * (restored on every return) and the window size copied now and on SIGWINCH. Returns the exit
 * code the way a shell reports it (status, or 128+signal), or a negative errno (logged). */
int supervise(pid_t pid, const sigset_t *mask, int master);
