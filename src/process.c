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
#include "cgroup.h"
#include "container.h"
#include "hooks.h"
#include "log.h"
#include "procattrs.h"
#include "process-setup.h"
#include "rootfs.h"
#include "rootfs-internal.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"



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

/* /dev/console is the container's terminal too (as runc). The peer is bind-mounted from its fd,
 * never from a path, onto /dev/console, created as an empty file when missing. The path is
 * resolved inside the root without following magic links (/proc/self/fd/N could name one of our
 * host fds); a symlink or directory at /dev/console is refused rather than followed. */
static int console_bind(int peer) {
        _cleanup_close_ int root_fd = -EBADF, dir_fd = -EBADF;
        _cleanup_(mount_target_done) MountTarget t = { .path = "/dev/console", .fd = -EBADF };
        _cleanup_free_ char *name = NULL;
        struct stat st;
        int r;

        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        t.root_fd = root_fd;
        r = root_resolve_parent(root_fd, t.path, &dir_fd, &name);
        if (r < 0)
                return r;
        t.fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t.fd < 0 && errno == ENOENT) {
                _cleanup_close_ int fd =
                        openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);

                if (fd < 0 && errno != EEXIST)
                        return -errno;
                if (fd >= 0 && fchmod(fd, 0666) < 0) /* the umask applied */
                        return -errno;
                t.fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        }
        if (t.fd < 0 || fstat(t.fd, &st) < 0)
                return -errno;
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return -EISDIR;
        return mnt_bind_fd(peer, &t, false, 0, 0);
}

/* process.terminal: the pty, from the container's own devpts (after pivot_root /dev/ptmx is its
 * pts/ptmx), becomes fds 0-2, the controlling terminal and /dev/console. The master goes to the
 * --console-socket receiver, or (foreground run) to the parent, which proxies it; we keep none. */
static int console_setup(Container *c) {
        const ProcessSpec *p = &c->spec->process;
        _cleanup_close_ int master = -EBADF;
        int r;

        if (!p->terminal)
                return 0;
        r = terminal_setup_child(p->console_height, p->console_width, p->uid, (gid_t) -1, &master);
        if (r < 0)
                return r;
        r = console_bind(STDIN_FILENO); /* fd 0 is the peer now */
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.terminal: bind-mounting the pty on /dev/console: %m");
        r = terminal_hand_over(master, &c->console_socket_fd, c->o->console_socket, c->child_sync_fd);
        return r < 0 ? r : 0;
}

static int rootfs_setup(Container *c) {
        const Spec *s = c->spec;
        RootfsOptions ro = {
                .spec = s,
                .rootfs = c->rootfs,
                .can_mknod = !c->rootless && !c->userns,
                .owns_netns = (c->clone_flags & CLONE_NEWNET) != 0,
                .owns_pidns = (c->clone_flags & CLONE_NEWPID) != 0,
                .owns_ipcns = (c->clone_flags & CLONE_NEWIPC) != 0,
                .owns_cgroupns = (c->clone_flags & CLONE_NEWCGROUP) != 0,
                .cgroup_path = c->cgroup.path,
                .no_pivot = c->o->no_pivot,
                .rootless = c->rootless,
                .idmap_fds = c->idmap_fds,
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
        /* 4. pivot_root; the terminal after every configured mount, before the finishing ones
         * (as runc); then masked/readonly paths, hostname */
        r = rootfs_pivot(&ro);
        if (r >= 0)
                r = console_setup(c);
        if (r < 0)
                return r;
        return rootfs_finalize(&ro);
}

/* cwd and args[0]: resolved inside the container, after pivot_root. */
static int resolve_exec(const Container *c, char **ret_path) {
        const ProcessSpec *p = &c->spec->process;
        int r;

        r = process_setup_chdir(p->cwd, "process.cwd");
        if (r < 0)
                return r;
        r = find_in_path_at(AT_FDCWD, p->args[0], strv_env_get(p->env, "PATH"), ret_path);
        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "process.args[0]: '%s': executable file not found in $PATH: %m",
                                 p->args[0]);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.args[0]: '%s': %m", p->args[0]);
        return 0;
}

/* A seccomp listener hears of the init: its pid and the state "creating". */
static int listener_message(const Container *c, char **ret) {
        _cleanup_free_ char *state = NULL;
        int r;

        if (!c->seccomp || c->seccomp_listener_fd < 0)
                return 0;
        r = container_state_json(c, STATUS_CREATING, &state);
        if (r >= 0)
                r = seccomp_listener_message(c->spec->seccomp, c->pid, state, ret);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.seccomp.listenerPath: building the message: %m");
        return 0;
}

static ProcessSetup setup_of(const Container *c, const char *listener_msg) {
        return (ProcessSetup){
                .spec = c->spec,
                .process = &c->spec->process,
                .proc_fd = c->proc_fd,
                .seccomp = c->seccomp,
                .seccomp_listener_fd = c->seccomp_listener_fd,
                .seccomp_listener_msg = listener_msg,
                .setgroups_allowed = c->setgroups_allowed || !c->userns,
                .preserve_fds = c->o->preserve_fds,
        };
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

/* The fallback of clone_ns(): into the cgroup, then (if asked for) a cgroup namespace rooted there. */
static int enter_cgroup_late(const Container *c, bool cgroupns) {
        int r;

        if (!c->cgroup_attach_in_child)
                return 0;
        r = cgroup_attach(c->cgroup.fd, 0);
        if (r < 0)
                return log_errno(LOG_ERR, r, "moving into cgroup '%s': %m", c->cgroup.path);
        if (cgroupns && (c->clone_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                return log_errno(LOG_ERR, -errno, "unshare(cgroup namespace): %m");
        return 0;
}

static _noreturn_ void child_main(Container *c) {
        _cleanup_free_ char *path = NULL, *listener_msg = NULL;
        ProcessSetup ps;
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
        if (!c->join_any && enter_cgroup_late(c, true) < 0)
                process_setup_child_exit(-EPERM);
        if (!c->join_any && process_setup_oom_score_adj(&c->spec->process, c->proc_fd) < 0)
                process_setup_child_exit(-EPERM);
        /* 1. wait for our id maps (and learn our pid as the runtime sees it) */
        r = sync_expect(c->child_sync_fd, SYNC_MAPS_DONE, &m);
        if (r < 0)
                process_setup_child_exit(r);
        c->pid = m.value;
        /* we hold host fds (bundle, state dir, procfs) until execve: no ptrace, no /proc access
         * from other processes (execve makes the program dumpable again) */
        (void) prctl(PR_SET_DUMPABLE, 0);
        /* 2. root of our user namespace, own session (no TIOCSTI into the caller's terminal);
         * time namespace offsets and sysctls before anything of ours forks */
        r = become_root(c);
        if (r >= 0)
                r = procattrs_setup_namespaced(c->spec, c->proc_fd, c->timens_in_child);
        if (r >= 0 && setsid() < 0)
                r = log_errno(LOG_ERR, -errno, "setsid: %m");
        if (r >= 0 && !c->o->no_new_keyring)
                process_setup_session_keyring();
        /* 3. filesystem, hooks, pivot_root; relative mount sources are relative to the bundle */
        if (r >= 0 && chdir(c->bundle) < 0)
                r = log_errno(LOG_ERR, -errno, "bundle '%s': %m", c->bundle);
        if (r >= 0)
                r = rootfs_setup(c);
        /* 4. cwd, executable, limits, identity, capabilities, fds */
        if (r >= 0)
                r = listener_message(c, &listener_msg);
        ps = setup_of(c, listener_msg);
        if (r >= 0)
                r = process_setup_proc(&ps);
        /* the host's procfs is not needed any more: no container path may lead to it */
        c->proc_fd = ps.proc_fd = safe_close(c->proc_fd);
        if (r >= 0)
                r = resolve_exec(c, &path);
        if (r >= 0)
                r = process_setup_apply(&ps);
        if (r < 0)
                process_setup_child_exit(r);
        /* 5. ready; from here the parent may exit (create), so no parent-death signal */
        (void) prctl(PR_SET_PDEATHSIG, 0);
        if (sync_send(c->child_sync_fd, SYNC_READY, 0, NULL) < 0)
                process_setup_child_exit(-EPIPE);
        if (!c->foreground)
                log_forward_to(-1);
        r = wait_for_start(c, &fifo);
        if (r >= 0)
                r = run_container_hooks(c, HOOK_START_CONTAINER, STATUS_CREATED);
        if (r >= 0)
                r = signal_started(fifo);
        if (r >= 0)
                r = process_setup_seccomp_late(&ps);
        if (r < 0)
                process_setup_child_exit(r);
        process_setup_exec(path, &c->spec->process);
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
        r = enter_cgroup_late(c, false);
        if (r >= 0)
                r = process_setup_oom_score_adj(&c->spec->process, c->proc_fd);
        /* joined namespaces may hold other processes: keep them out of ours (fds, memory) */
        (void) prctl(PR_SET_DUMPABLE, 0);
        if (r >= 0)
                r = join_namespaces(c);
        if (r >= 0 && (c->clone_flags & CLONE_NEWUSER)) {
                if (unshare(CLONE_NEWUSER) < 0)
                        r = log_errno(LOG_ERR, -errno, "unshare(user namespace): %m");
                /* newuidmap and the map files check that we are the caller's: dumpable meanwhile */
                (void) prctl(PR_SET_DUMPABLE, 1);
                if (r >= 0)
                        r = sync_send(c->child_sync_fd, SYNC_USERNS_READY, 0, NULL);
                if (r >= 0)
                        r = sync_expect(c->child_sync_fd, SYNC_MAPS_DONE, NULL);
                (void) prctl(PR_SET_DUMPABLE, 0);
        }
        if (r >= 0 && unshare(c->clone_flags & ~CLONE_NEWUSER) < 0)
                r = log_errno(LOG_ERR, -errno, "unshare(namespaces 0x%x): %m", c->clone_flags & ~CLONE_NEWUSER);
        if (r < 0)
                process_setup_child_exit(r);
        pid = fork();
        if (pid < 0)
                process_setup_child_exit(log_errno(LOG_ERR, -errno, "fork: %m"));
        if (pid == 0)
                child_main(c); /* no parent-death signal: our parent exits right away */
        (void) sync_send(c->child_sync_fd, SYNC_INIT_PID, pid, NULL);
        _exit(0);
}

/* The child starts inside the container's cgroup (CLONE_INTO_CGROUP), so nothing of the container
 * ever runs outside its limits, and a new cgroup namespace is rooted there. Kernels without it
 * (< 5.7, or no clone3): the child moves itself before anything else, then unshares the cgroup
 * namespace (child_main, intermediate_main). */
static pid_t clone_ns(Container *c, int flags) {
        struct clone_args args = { .flags = (uint64_t) flags, .exit_signal = SIGCHLD };
        /* URUN_TEST_NO_CLONE_INTO_CGROUP=1: behave like a kernel without it, to test the fallback */
        const char *no_into = getenv("URUN_TEST_NO_CLONE_INTO_CGROUP");
        long r;

        if (c->cgroup.fd >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t) c->cgroup.fd;
        }
        if (c->cgroup.fd >= 0 && no_into && streq(no_into, "1")) {
                r = -1;
                errno = EINVAL;
        } else
                r = syscall(SYS_clone3, &args, sizeof args);
        if (r < 0 && c->cgroup.fd >= 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL)) {
                log_debug("clone3 cannot place the init in its cgroup (%m): it moves itself there first");
                c->cgroup_attach_in_child = true;
                flags &= ~CLONE_NEWCGROUP;
                args = (struct clone_args){ .flags = (uint64_t) flags, .exit_signal = SIGCHLD };
                r = syscall(SYS_clone3, &args, sizeof args);
        }
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
                pid = clone_ns(c, c->clone_flags);
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
        pid = clone_ns(c, 0);
        if (pid < 0)
                return log_errno(LOG_ERR, -errno, "clone: %m");
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                safe_close(c->sync_fd);
                intermediate_main(c);
        }
        return adopt_from_intermediate(c, pid);
}
