/* start, kill, delete: verbs on an existing container. Every one opens the state dir, takes its
 * lock, and re-checks the process identity (pid + start time, then a pidfd) before signalling,
 * so a recycled pid is never hit. exec.c opens containers the same way (lifecycle.h). */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <dirent.h>

#include "cgroup.h"
#include "container.h"
#include "hooks.h"
#include "lifecycle-cgroup.h"
#include "lifecycle.h"
#include "log.h"
#include "util.h"

void handle_done(Handle *h) {
        h->root_fd = safe_close(h->root_fd);
        h->dir_fd = safe_close(h->dir_fd);
        h->state = state_free(h->state);
}

int handle_open(const GlobalOptions *g, const char *id, bool exclusive, bool missing_ok, Handle *h) {
        int r;

        *h = (Handle){ .root_fd = -EBADF, .dir_fd = -EBADF };
        r = state_validate_id(id);
        if (r < 0)
                return log_errno(LOG_ERR, r, "invalid container id '%s'", id);
        h->root_fd = open(g->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (h->root_fd < 0 && errno != ENOENT)
                return log_errno(LOG_ERR, -errno, "state root '%s': %m", g->root);
        r = h->root_fd < 0 ? -ENOENT : state_dir_open(h->root_fd, id, &h->dir_fd);
        if (r == -ENOENT)
                return missing_ok ? r : log_errno(LOG_ERR, r, "container '%s' does not exist", id);
        if (r < 0)
                return log_errno(LOG_ERR, r, "container '%s': %m", id);
        r = state_lock(h->dir_fd, exclusive);
        if (r < 0)
                return log_errno(LOG_ERR, r, "locking container '%s': %m", id);
        r = state_read(h->dir_fd, &h->state);
        if (r == -ENOENT) {
                h->status = STATUS_CREATING;
                return 0;
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, "container '%s': reading %s: %m", id, STATE_FILE);
        h->status = state_status(h->dir_fd, h->state);
        return 0;
}

int pidfd_for(const ContainerState *s) {
        int fd = (int) syscall(SYS_pidfd_open, s->pid, 0);
        if (fd < 0)
                return -errno;
        if (!proc_alive(s->pid, s->start_time)) {
                close(fd);
                return -ESRCH;
        }
        return fd;
}

static int signal_pidfd(int pidfd, int sig) {
        return syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 ? -errno : 0;
}

static int load_spec_for_hooks(const ContainerState *s, Spec **ret) {
        _cleanup_free_ char *err = NULL;
        int r = spec_load(s->bundle, ret, &err);
        if (r < 0)
                log_warning("%s, hooks not run", err ? err : "config.json: cannot be loaded");
        return r;
}

static void run_state_hooks(const ContainerState *s, enum hook_kind kind, enum container_status status) {
        _cleanup_spec_free_ Spec *spec = NULL;
        _cleanup_free_ char *json = NULL;

        if (load_spec_for_hooks(s, &spec) < 0 || spec->n_hooks[kind] == 0)
                return;
        if (state_to_json(s, status, &json) < 0)
                return;
        if (hooks_run(kind, spec->hooks[kind], spec->n_hooks[kind], json) < 0)
                log_warning("%s hooks failed, continuing", hook_kind_to_name(kind));
}

/* Open exec.fifo for reading; the init, blocked in open(O_WRONLY), runs the startContainer hooks,
 * writes one byte and execs, which closes its end: EOF tells us the program runs. Watch the pidfd
 * too: if the init died, no byte will ever come. */
static int release_fifo(Handle *h, const char *id) {
        _cleanup_close_ int fifo = -EBADF, pidfd = -EBADF;
        struct pollfd p[2];
        bool got_byte = false;

        pidfd = pidfd_for(h->state);
        if (pidfd < 0)
                return log_errno(LOG_ERR, pidfd, "container '%s': init process is gone", id);
        fifo = openat(h->dir_fd, STATE_FIFO, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0)
                return log_errno(LOG_ERR, -errno, "container '%s': opening %s: %m", id, STATE_FIFO);
        p[0] = (struct pollfd){ .fd = fifo, .events = POLLIN };
        p[1] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        for (;;) {
                char b;
                ssize_t n;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_errno(LOG_ERR, -errno, "container '%s': waiting on %s: %m", id, STATE_FIFO);
                }
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        n = read(fifo, &b, 1);
                        if (n == 1)
                                got_byte = true;
                        else if (n == 0 && got_byte)
                                break; /* the init's end closed by execve() */
                }
                if (p[1].revents & POLLIN)
                        break; /* the init exited: after the byte, the program ran and ended */
        }
        (void) unlinkat(h->dir_fd, STATE_FIFO, 0);
        if (!got_byte)
                return log_errno(LOG_ERR, -ESRCH, "container '%s': init process exited before start", id);
        return 0;
}

int container_start(const GlobalOptions *g, const char *id) {
        Handle h;
        int r;

        r = handle_open(g, id, true, false, &h);
        if (r >= 0 && h.status != STATUS_CREATED)
                r = log_errno(LOG_ERR, -EINVAL, "cannot start container '%s': it is %s, not created", id,
                              container_status_to_string(h.status));
        if (r >= 0)
                r = release_fifo(&h, id);
        if (r >= 0)
                run_state_hooks(h.state, HOOK_POSTSTART, STATUS_RUNNING);
        handle_done(&h);
        return r;
}

/* Without a cgroup: every process in the init's pid namespace (when it has its own), else the init
 * alone (lifecycle-cgroup.c, shared with `ps`); the init itself gets the signal via its pidfd. */
static int kill_all(const ContainerState *s, int sig) {
        _cleanup_free_ pid_t *pids = NULL;
        size_t n = 0;
        int r = container_pidns_pids(s, &pids, &n);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (pids[i] != s->pid)
                        (void) kill(pids[i], sig);
        return 0;
}

static int signal_container(const ContainerState *s, const char *id, int sig, bool all) {
        _cleanup_close_ int pidfd = pidfd_for(s);
        int r;

        if (pidfd < 0)
                return log_errno(LOG_ERR, pidfd, "container '%s' is not running", id);
        /* with a cgroup, --all means every process in it (cgroup.kill for SIGKILL), as runc */
        if (all && s->cgroup_path) {
                r = cgroup_kill(s->cgroup_path, sig);
                if (r < 0 && r != -ENOENT)
                        return log_errno(LOG_ERR, r, "container '%s': signalling cgroup '%s': %m", id, s->cgroup_path);
        } else if (all)
                (void) kill_all(s, sig);
        r = signal_pidfd(pidfd, sig);
        if (r < 0)
                return log_errno(LOG_ERR, r, "container '%s': sending signal %d: %m", id, sig);
        return 0;
}

int container_kill(const GlobalOptions *g, const char *id, int sig, bool all) {
        Handle h;
        int r;

        r = handle_open(g, id, false, false, &h);
        if (r >= 0 && (h.status == STATUS_STOPPED || h.status == STATUS_CREATING))
                r = log_errno(LOG_ERR, -ESRCH, "container '%s' is not running", id);
        if (r >= 0)
                r = signal_container(h.state, id, sig, all);
        handle_done(&h);
        return r;
}

/* SIGKILL and wait for the init to exit (it may not be our child: poll its pidfd). */
static int kill_and_wait(const ContainerState *s, const char *id) {
        _cleanup_close_ int pidfd = pidfd_for(s);
        struct pollfd p;

        if (pidfd < 0)
                return 0; /* already gone */
        if (s->cgroup_path)
                (void) cgroup_kill(s->cgroup_path, SIGKILL);
        else
                (void) kill_all(s, SIGKILL);
        if (signal_pidfd(pidfd, SIGKILL) < 0 && errno != ESRCH)
                return log_errno(LOG_ERR, -errno, "container '%s': kill: %m", id);
        p = (struct pollfd){ .fd = pidfd, .events = POLLIN };
        while (poll(&p, 1, -1) < 0)
                if (errno != EINTR)
                        return log_errno(LOG_ERR, -errno, "container '%s': waiting for exit: %m", id);
        return 0;
}

int container_delete(const GlobalOptions *g, const char *id, bool force) {
        Handle h;
        int r;

        r = handle_open(g, id, true, force, &h);
        if (r < 0) {
                handle_done(&h);
                /* `delete --force` of an unknown container succeeds, as runc's does */
                return force && r == -ENOENT ? 0 : r;
        }
        if ((h.status == STATUS_RUNNING || h.status == STATUS_PAUSED) && !force)
                r = log_errno(LOG_ERR, -EBUSY, "cannot delete container '%s' that is not stopped: %s (use --force)",
                              id, container_status_to_string(h.status));
        if (r >= 0 && h.state)
                r = kill_and_wait(h.state, id);
        /* what is left in the cgroup (a stopped init's orphans) goes with it; a cgroup that cannot
         * be removed keeps the state, so that delete can be retried */
        if (r >= 0 && h.state && h.state->cgroup_path) {
                r = cgroup_destroy(h.state->cgroup_path, h.state->cgroup_top);
                if (r < 0)
                        log_errno(LOG_ERR, r, "container '%s': removing cgroup '%s': %m", id, h.state->cgroup_path);
        }
        if (r >= 0 && h.state)
                run_state_hooks(h.state, HOOK_POSTSTOP, STATUS_STOPPED);
        if (r >= 0) {
                r = state_dir_remove(h.root_fd, id);
                if (r < 0)
                        log_errno(LOG_ERR, r, "container '%s': removing its state: %m", id);
        }
        handle_done(&h);
        return r;
}
