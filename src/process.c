/* Spawning the container init and everything it does before execve.
 *
 * Fast path: one clone3() with every CLONE_NEW* flag; the child is the container init.
 * When a namespace is joined by path, an intermediate process joins them first (user namespace
 * first, so it holds capabilities over the others), unshares the new ones, forks the init and
 * exits; the parent then adopts the init as its child (subreaper) or the caller's subreaper does.
 *
 * The child talks to the parent over a SOCK_SEQPACKET socket (sync.h): it waits for its id maps,
 * asks the parent to run the runtime-namespace hooks, reports READY, then waits for start
 * (exec.fifo for `create`, a SYNC_START message for `run`) and execs. Every error in the child is
 * forwarded to the parent as one message, and the child exits. */
#include <fcntl.h>
#include <grp.h>
#include <linux/keyctl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "caps.h"
#include "container.h"
#include "hooks.h"
#include "log.h"
#include "rootfs.h"
#include "sync.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#        define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static _noreturn_ void child_exit(int r) {
        _exit(r < 0 ? 1 : 0);
}

/* Become uid/gid 0 of the new user namespace (our host ids may map elsewhere). */
static int become_root(const Container *c) {
        if (!c->userns)
                return 0;
        if (c->setgroups_allowed && setgroups(0, NULL) < 0)
                return log_errno(LOG_ERR, -errno, "setgroups in the user namespace: %m");
        if (setresgid(0, 0, 0) < 0)
                return log_errno(LOG_ERR, -errno, "setresgid(0) in the user namespace: %m (is gid 0 mapped?)");
        if (setresuid(0, 0, 0) < 0)
                return log_errno(LOG_ERR, -errno, "setresuid(0) in the user namespace: %m (is uid 0 mapped?)");
        return 0;
}

static int run_container_hooks(const Container *c, enum hook_kind kind, enum container_status status) {
        _cleanup_free_ char *json = NULL;
        int r;

        if (c->spec->n_hooks[kind] == 0)
                return 0;
        r = container_state_json(c, status, &json);
        if (r < 0)
                return log_errno(LOG_ERR, r, "hooks %s: building the state: %m", hook_kind_to_name(kind));
        return hooks_run(kind, c->spec->hooks[kind], c->spec->n_hooks[kind], json);
}

static int rootfs_setup(const Container *c) {
        const Spec *s = c->spec;
        RootfsOptions ro = {
                .spec = s,
                .rootfs = c->rootfs,
                .can_mknod = !c->rootless && !c->userns,
                .owns_netns = (c->clone_flags & CLONE_NEWNET) != 0,
                .owns_pidns = (c->clone_flags & CLONE_NEWPID) != 0,
                .owns_ipcns = (c->clone_flags & CLONE_NEWIPC) != 0,
                .owns_cgroupns = (c->clone_flags & CLONE_NEWCGROUP) != 0,
                .no_pivot = c->o->no_pivot,
                .rootless = c->rootless,
        };
        int r;

        /* 1. mounts, devices, in the new mount namespace */
        r = rootfs_prepare(&ro);
        if (r < 0)
                return r;
        /* 2. prestart and createRuntime run in the runtime's namespaces: ask the parent */
        if (s->n_hooks[HOOK_PRESTART] + s->n_hooks[HOOK_CREATE_RUNTIME] > 0) {
                r = sync_send(c->child_sync_fd, SYNC_RUNTIME_HOOKS, 0, NULL);
                if (r >= 0)
                        r = sync_expect(c->child_sync_fd, SYNC_HOOKS_DONE, NULL);
                if (r < 0)
                        return r == -EPIPE ? r : log_errno(LOG_ERR, r, "waiting for runtime hooks: %m");
        }
        /* 3. createContainer: container namespaces, before pivot_root */
        r = run_container_hooks(c, HOOK_CREATE_CONTAINER, STATUS_CREATING);
        if (r < 0)
                return r;
        /* 4. pivot_root, then masked/readonly paths, hostname */
        r = rootfs_pivot(&ro);
        if (r < 0)
                return r;
        return rootfs_finalize(&ro);
}

static int write_oom_score_adj(const ProcessSpec *p) {
        char buf[16];
        int r;

        if (!p->has_oom_score_adj)
                return 0;
        snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
        r = write_file_at(AT_FDCWD, "/proc/self/oom_score_adj", buf, strlen(buf), 0, 0);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.oomScoreAdj: writing %s: %m", buf);
        return 0;
}

/* cwd and args[0]: resolved inside the container, after pivot_root. */
static int resolve_exec(const Container *c, char **ret_path) {
        const ProcessSpec *p = &c->spec->process;
        int r;

        if (chdir(p->cwd) < 0)
                return log_errno(LOG_ERR, -errno, "process.cwd: chdir to '%s': %m", p->cwd);
        r = find_in_path_at(AT_FDCWD, p->args[0], strv_env_get(p->env, "PATH"), ret_path);
        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "process.args[0]: '%s': executable file not found in $PATH: %m",
                                 p->args[0]);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.args[0]: '%s': %m", p->args[0]);
        return 0;
}

/* Only 0-2 and the --preserve-fds range may reach the container (runc CVE-2024-21626): our own
 * fds were moved above that range by the parent and are O_CLOEXEC. */
static int seal_fds(const Container *c) {
        unsigned first = 3 + c->o->preserve_fds;

        for (unsigned fd = 3; fd < first; fd++)
                if (fd_set_cloexec((int) fd, false) < 0 && errno != EBADF)
                        return log_errno(LOG_ERR, -errno, "--preserve-fds: fd %u: %m", fd);
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return log_errno(LOG_ERR, -errno, "close_range: %m");
        return 0;
}

/* With noNewPrivileges the filter goes in last, right before execve (nothing of ours runs under
 * it); without, it must go in while we still hold CAP_SYS_ADMIN, before identity and caps. */
static int install_seccomp(const Container *c) {
        _cleanup_free_ char *state = NULL, *msg = NULL;
        int r;

        if (!c->seccomp)
                return 0;
        if (c->seccomp_listener_fd >= 0) {
                r = container_state_json(c, STATUS_CREATING, &state);
                if (r >= 0)
                        r = seccomp_listener_message(c->spec->seccomp, c->pid, state, &msg);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "linux.seccomp.listenerPath: building the message: %m");
        }
        return seccomp_install(c->seccomp, c->seccomp_listener_fd, msg);
}

static int process_setup(const Container *c) {
        const ProcessSpec *p = &c->spec->process;
        int r;

        r = write_oom_score_adj(p);
        if (r < 0)
                return r;
        if (!p->has_umask)
                umask(0022); /* runc's default when process.user.umask is absent */
        r = rlimits_apply(p);
        if (r < 0)
                return r;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_errno(LOG_ERR, -errno, "process.noNewPrivileges: %m");
        if (!p->no_new_privileges) {
                r = install_seccomp(c);
                if (r < 0)
                        return r;
        }
        r = identity_apply(p, c->setgroups_allowed || !c->userns);
        if (r < 0)
                return r;
        r = caps_apply(p);
        if (r < 0)
                return r;
        return seal_fds(c);
}

/* Block until `urun start` opens exec.fifo for reading (create), or until the parent says go
 * (run). *ret_fifo stays open, close-on-exec: `start` reads our byte, then waits for EOF, which
 * comes when execve() succeeds, so its poststart hooks run after the program started. */
static int wait_for_start(const Container *c, int *ret_fifo) {
        int fd;

        if (c->foreground)
                return sync_expect(c->child_sync_fd, SYNC_START, NULL);
        fd = openat(c->fifo_dir_fd, STATE_FIFO, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "opening %s: %m", STATE_FIFO);
        *ret_fifo = fd;
        return 0;
}

static int signal_started(int fifo) {
        if (fifo >= 0 && write(fifo, "0", 1) != 1)
                return log_errno(LOG_ERR, -errno, "writing %s: %m", STATE_FIFO);
        return 0;
}

/* A fresh session keyring, so keys of the caller's session are not reachable from the container
 * (runc does the same unless --no-new-keyring). Keyrings may be unavailable (ENOSYS) or blocked
 * by the caller's seccomp profile (EPERM): not fatal. */
static void join_session_keyring(const Container *c) {
        if (c->o->no_new_keyring)
                return;
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
                log_debug("new session keyring: %m, ignoring");
}

static _noreturn_ void child_main(Container *c) {
        _cleanup_free_ char *path = NULL;
        int fifo = -EBADF;
        SyncMsg m;
        sigset_t all;
        int r;

        log_forward_to(c->child_sync_fd);
        /* the parent's lock must not live on in us (flock belongs to the open file) */
        c->state_fd = safe_close(c->state_fd);
        c->root_fd = safe_close(c->root_fd);
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        /* 1. wait for our id maps (and learn our pid as the runtime sees it) */
        r = sync_expect(c->child_sync_fd, SYNC_MAPS_DONE, &m);
        if (r < 0)
                child_exit(r);
        c->pid = m.value;
        /* 2. root of our user namespace, own session (no TIOCSTI into the caller's terminal) */
        r = become_root(c);
        if (r >= 0 && setsid() < 0)
                r = log_errno(LOG_ERR, -errno, "setsid: %m");
        if (r >= 0)
                join_session_keyring(c);
        /* 3. filesystem, hooks, pivot_root; relative mount sources are relative to the bundle */
        if (r >= 0 && chdir(c->bundle) < 0)
                r = log_errno(LOG_ERR, -errno, "bundle '%s': %m", c->bundle);
        if (r >= 0)
                r = rootfs_setup(c);
        /* 4. cwd, executable, limits, identity, capabilities, fds */
        if (r >= 0)
                r = resolve_exec(c, &path);
        if (r >= 0)
                r = process_setup(c);
        if (r < 0)
                child_exit(r);
        /* 5. ready; from here the parent may exit (create), so no parent-death signal */
        (void) prctl(PR_SET_PDEATHSIG, 0);
        if (sync_send(c->child_sync_fd, SYNC_READY, 0, NULL) < 0)
                child_exit(-EPIPE);
        if (!c->foreground)
                log_forward_to(-1);
        r = wait_for_start(c, &fifo);
        if (r >= 0)
                r = run_container_hooks(c, HOOK_START_CONTAINER, STATUS_CREATED);
        if (r >= 0)
                r = signal_started(fifo);
        if (r >= 0 && c->spec->process.no_new_privileges)
                r = install_seccomp(c);
        if (r < 0)
                child_exit(r);
        execve(path, c->spec->process.args, c->spec->process.env ? c->spec->process.env : (char *[]){ NULL });
        log_errno(LOG_ERR, -errno, "exec '%s': %m", path);
        _exit(errno == ENOENT ? 127 : 126);
}

/* Join every namespace given by path, user namespace first. All fds are opened before the first
 * setns(): joining a mount namespace changes what later paths resolve to. */
static int join_namespaces(const Container *c) {
        int fds[_NS_MAX];
        int r = 0;

        for (int t = 0; t < _NS_MAX; t++) {
                const char *p = c->spec->namespaces[t].path;
                fds[t] = -EBADF;
                if (!c->spec->namespaces[t].present || !p)
                        continue;
                fds[t] = open(p, O_RDONLY | O_CLOEXEC);
                if (fds[t] < 0) {
                        r = log_errno(LOG_ERR, -errno, "linux.namespaces[%s].path: '%s': %m", ns_type_to_name(t), p);
                        goto out;
                }
        }
        for (int t = 0; t < _NS_MAX; t++)
                if (fds[t] >= 0 && setns(fds[t], ns_type_clone_flag(t)) < 0) {
                        r = log_errno(LOG_ERR, -errno, "linux.namespaces[%s].path: joining '%s': %m",
                                      ns_type_to_name(t), c->spec->namespaces[t].path);
                        goto out;
                }
out:
        for (int t = 0; t < _NS_MAX; t++)
                safe_close(fds[t]);
        return r;
}

static _noreturn_ void intermediate_main(Container *c) {
        pid_t pid;
        int r;

        log_forward_to(c->child_sync_fd);
        r = join_namespaces(c);
        if (r >= 0 && (c->clone_flags & CLONE_NEWUSER)) {
                if (unshare(CLONE_NEWUSER) < 0)
                        r = log_errno(LOG_ERR, -errno, "unshare(user namespace): %m");
                if (r >= 0)
                        r = sync_send(c->child_sync_fd, SYNC_USERNS_READY, 0, NULL);
                if (r >= 0)
                        r = sync_expect(c->child_sync_fd, SYNC_MAPS_DONE, NULL);
        }
        if (r >= 0 && unshare(c->clone_flags & ~CLONE_NEWUSER) < 0)
                r = log_errno(LOG_ERR, -errno, "unshare(namespaces 0x%x): %m", c->clone_flags & ~CLONE_NEWUSER);
        if (r < 0)
                child_exit(r);
        pid = fork();
        if (pid < 0)
                child_exit(log_errno(LOG_ERR, -errno, "fork: %m"));
        if (pid == 0)
                child_main(c); /* no parent-death signal: our parent exits right away */
        (void) sync_send(c->child_sync_fd, SYNC_INIT_PID, pid, NULL);
        _exit(0);
}

static pid_t clone_ns(int flags) {
        struct clone_args args = { .flags = (uint64_t) flags, .exit_signal = SIGCHLD };
        long r = syscall(SYS_clone3, &args, sizeof args);

        if (r < 0 && errno == ENOSYS && !(flags & CLONE_NEWTIME))
                r = syscall(SYS_clone, (unsigned long) flags | SIGCHLD, 0, 0, 0, 0);
        return (pid_t) r;
}

/* The parent side of the intermediate path: maps for the intermediate, then learn the init pid. */
static int adopt_from_intermediate(Container *c, pid_t mid) {
        SyncMsg m = {};
        int r, status;

        for (;;) {
                r = sync_expect(c->sync_fd, SYNC_INIT_PID, &m);
                if (r == -EBADMSG && m.type == SYNC_USERNS_READY) {
                        r = idmap_write_maps_for(c, mid);
                        if (r < 0)
                                break;
                        r = sync_send(c->sync_fd, SYNC_MAPS_DONE, 0, NULL);
                        if (r < 0)
                                break;
                        continue;
                }
                if (r >= 0)
                        c->pid = m.value;
                else if (m.type == SYNC_ERROR)
                        log_emit(LOG_ERR, m.text); /* the intermediate's own message, printed once */
                else if (r == -EPIPE)
                        log_errno(LOG_ERR, r, "namespace setup process exited early");
                break;
        }
        (void) waitpid(mid, &status, 0);
        return r;
}

int process_spawn(Container *c) {
        pid_t pid;

        if (!c->join_any) {
                pid = clone_ns(c->clone_flags);
                if (pid < 0)
                        return log_errno(LOG_ERR, -errno, "clone (namespaces 0x%x): %m", c->clone_flags);
                if (pid == 0) {
                        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                        safe_close(c->sync_fd);
                        child_main(c);
                }
                c->pid = pid;
                return 0;
        }
        pid = fork();
        if (pid < 0)
                return log_errno(LOG_ERR, -errno, "fork: %m");
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                safe_close(c->sync_fd);
                intermediate_main(c);
        }
        return adopt_from_intermediate(c, pid);
}
