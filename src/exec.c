/* `urun exec`: a new process in the namespaces of a running (or created) container.
 *
 * Three processes take part:
 *   P  the runtime (`urun exec`): plans everything, then waits; in the foreground it supervises
 *      the new process like `run` does (signals forwarded, exit status returned).
 *   A  forked from P: joins the container's namespaces with one setns() on the init's pidfd (the
 *      kernel joins the user namespace first, so the others are joined with its capabilities),
 *      chroots to the init's root directory, clones B and exits. Joining a pid namespace only
 *      affects children, hence the second process.
 *   B  cloned by A with CLONE_PARENT, so it is P's child (P waits for it directly, no subreaper):
 *      pid, mount and all other namespaces are the container's. It sets itself up as the
 *      container process (terminal, limits, seccomp, identity, capabilities) and execs.
 * Errors in A and B travel to P as one message on the SOCK_SEQPACKET sync socket (sync.h) and are
 * printed once, by P. B's end is close-on-exec: EOF tells P that the program runs.
 *
 * Threat model. The container's processes may be hostile and root in their user namespace; they
 * control every path inside the rootfs (any of them may be a symlink, swapped at any time) and
 * see every process of their pid namespace, B included. Until its execve, B holds things of the
 * host: fds (procfs, sockets, the caller's stdio), memory, the runtime binary as /proc/self/exe.
 *   - A makes itself non-dumpable before setns(), and B inherits that. A process's mm keeps the
 *     user namespace it was exec'd in (the host's, for A and B), so ptrace and the /proc/PID files
 *     of B (fd/, mem, environ, exe) need CAP_SYS_PTRACE over the host's user namespace: the
 *     container cannot reach into B (CVE-2016-9962). execve() makes the program dumpable again.
 *   - Every fd of ours is O_CLOEXEC and sits above the --preserve-fds range. A closes the fds that
 *     point into the host (state dir, /proc/PID, root, pidfd) before B exists; B closes the host
 *     procfs right after its writes to /proc/self, before it resolves any path in the container,
 *     so no symlink the container plants (cwd, args[0], /dev/ptmx) can lead through
 *     /proc/self/fd/N to the host. The cwd is also checked to be under the root (CVE-2024-21626).
 *   - The init is identified by pid + start time and then by its pidfd; /proc/PID is opened and
 *     the pidfd checked alive afterwards, so its ns/ and root links belong to that very process,
 *     not to a successor with a recycled pid. setns() through the pidfd acts on the same process.
 *   - /proc/self/exe of A and B is the runtime binary: main() re-executes it from a read-only or
 *     sealed copy first (selfprotect.h, CVE-2019-5736).
 *   - The process's environment comes from the config and the flags only, never from ours.
 * Without a pivot_root (--no-pivot) the container's root is a chroot inside its mount namespace,
 * which setns() does not give us: A opens /proc/PID/root before joining and chroots into it. */
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "caps.h"
#include "exec.h"
#include "lifecycle.h"
#include "log.h"
#include "pidfile.h"
#include "process-setup.h"
#include "procattrs.h"
#include "seccomp-filter.h"
#include "spec.h"
#include "supervise.h"
#include "sync.h"
#include "cgroup.h"
#include "terminal.h"
#include "util.h"

typedef struct {
        const GlobalOptions *g;
        const ExecOptions *o;
        Handle h;
        Spec *spec;                /* the container's config.json; process = the one to run */
        SeccompFilter *seccomp;    /* compiled here, installed by B */
        char *state_json;          /* for a seccomp listener (pid + state of the container) */
        int seccomp_listener_fd;
        int pidfd;                 /* the container's init */
        int proc_fd;               /* the host procfs root */
        int init_dir_fd;           /* /proc/PID of the init */
        int root_fd;               /* /proc/PID/root, O_PATH */
        int cgroup_fd;             /* the cgroup to join (cgroup_exec_target), or -EBADF */
        int ns_flags;              /* CLONE_NEW* of the init's namespaces that are not ours */
        bool setgroups_allowed;
        int console_fd;            /* --console-socket connection */
        int master;                /* -t in the foreground without a socket: the pty, from B */
        int sync_fd, child_sync_fd;
        pid_t mid;                 /* A */
        pid_t pid;                 /* B, as we see it */
        sigset_t mask;             /* foreground: the signals supervise() handles */
} Exec;

/* ---- the process to run (no side effects) ------------------------------------------------------ */

static int load_process_file(const char *path, ProcessSpec **ret) {
        _cleanup_free_ char *data = NULL, *err = NULL;
        size_t size;
        int r;

        r = read_file_at(AT_FDCWD, path, SPEC_MAX_SIZE, &data, &size);
        if (r < 0)
                return log_errno(LOG_ERR, r, "--process '%s': %m", path);
        r = spec_parse_process_string(data, size, ret, &err);
        if (r < 0)
                return log_errno(LOG_ERR, r, "--process '%s': %s", path, err ? err : "cannot be parsed");
        return 0;
}

/* The process of --process FILE replaces config.json's; the old contents are freed with the
 * container that held the new ones. */
static void replace_process(Spec *s, ProcessSpec *p) {
        ProcessSpec old = s->process;

        s->process = *p;
        *p = old;
        s->has_process = true;
        process_spec_free(p);
}

/* KEY=VALUE: replaces an entry with the same KEY, or is appended. */
static int env_set(char ***env, const char *kv) {
        size_t klen = strcspn(kv, "=") + 1;

        for (char **e = *env; e && *e; e++)
                if (strncmp(*e, kv, klen) == 0) {
                        char *n = strdup(kv);
                        if (!n)
                                return -ENOMEM;
                        free(*e);
                        *e = n;
                        return 0;
                }
        return strv_extend(env, kv);
}

/* --cap: bounding, effective and permitted grow; inheritable and ambient never do (a capability
 * there would survive into programs the process runs as another user). */
static int caps_add(ProcessSpec *p, char **caps) {
        static const enum cap_set sets[] = { CAP_SET_BOUNDING, CAP_SET_EFFECTIVE, CAP_SET_PERMITTED };

        if (!caps || !caps[0])
                return 0;
        p->has_capabilities = true;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                for (char **c = caps; *c; c++)
                        if (strv_extend(&p->capabilities[sets[i]], *c) < 0)
                                return -ENOMEM;
        return 0;
}

static int gids_add(ProcessSpec *p, const uint32_t *gids, size_t n) {
        uint32_t *a;

        if (n == 0)
                return 0;
        a = reallocarray(p->additional_gids, p->n_additional_gids + n, sizeof *a);
        if (!a)
                return -ENOMEM;
        memcpy(a + p->n_additional_gids, gids, n * sizeof *a);
        p->additional_gids = a;
        p->n_additional_gids += n;
        return 0;
}

static int string_replace(char **dst, const char *src) {
        char *n = strdup(src);

        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* The flags override the base process, as runc's do. Without --process the terminal is -t's
 * (config.json's describes the init's stdio, not ours). */
static int apply_overrides(ProcessSpec *p, const ExecOptions *o) {
        int r = 0;

        if (o->args && o->args[0]) {
                char **copy = strv_copy(o->args);
                if (!copy)
                        return -ENOMEM;
                strv_free(p->args);
                p->args = copy;
        }
        for (char **e = o->env; r >= 0 && e && *e; e++)
                r = env_set(&p->env, *e);
        if (r >= 0 && o->cwd)
                r = string_replace(&p->cwd, o->cwd);
        if (r >= 0 && o->apparmor)
                r = string_replace(&p->apparmor_profile, o->apparmor);
        if (r >= 0 && o->process_label)
                r = string_replace(&p->selinux_label, o->process_label);
        if (r >= 0)
                r = caps_add(p, o->caps);
        if (r >= 0)
                r = gids_add(p, o->additional_gids, o->n_additional_gids);
        if (r < 0)
                return r;
        if (o->has_uid)
                p->uid = o->uid;
        if (o->has_gid)
                p->gid = o->gid;
        if (o->no_new_privs)
                p->no_new_privileges = true;
        if (!o->process_file || o->tty)
                p->terminal = o->tty;
        return 0;
}

static int validate_labels(const ProcessSpec *p, const ExecOptions *o) {
        if (p->apparmor_profile && !procattrs_apparmor_enabled())
                return log_errno(LOG_ERR, -EOPNOTSUPP, "%s: AppArmor is not enabled on this host",
                                 o->apparmor ? "--apparmor" : "process.apparmorProfile");
        if (p->selinux_label && !procattrs_selinux_enabled())
                return log_errno(LOG_ERR, -EOPNOTSUPP, "%s: SELinux is not enabled on this host",
                                 o->process_label ? "--process-label" : "process.selinuxLabel");
        return 0;
}

static int validate_process(const ProcessSpec *p, const ExecOptions *o) {
        if (!p->args || !p->args[0] || !p->args[0][0])
                return log_errno(LOG_ERR, -EINVAL, "exec: the command must not be empty");
        if (!p->cwd || p->cwd[0] != '/')
                return log_errno(LOG_ERR, -EINVAL, "%s: must be an absolute path, got '%s'",
                                 o->cwd ? "--cwd" : "process.cwd", p->cwd ? p->cwd : "");
        if (p->terminal && o->detach && !o->console_socket)
                return log_errno(LOG_ERR, -EINVAL, "--tty with --detach needs --console-socket: nobody would hold the terminal");
        if (!p->terminal && o->console_socket)
                return log_errno(LOG_ERR, -EINVAL, "--console-socket: needs a terminal (--tty, or process.terminal in --process)");
        if (caps_validate(p) < 0)
                return -EINVAL;
        return validate_labels(p, o);
}

/* Compiled now, in the runtime: B only loads it. Cached next to the state root, as for create. */
static int plan_seccomp(Exec *e) {
        _cleanup_free_ char *cache = NULL;
        int r;

        if (!e->spec->seccomp)
                return 0;
        if (asprintf(&cache, "%s-seccomp-cache", e->g->root) < 0)
                return log_errno(LOG_ERR, -ENOMEM, "linux.seccomp: %m");
        r = seccomp_prepare(e->spec->seccomp, cache, &e->seccomp);
        if (r < 0)
                return r;
        if (seccomp_needs_listener(e->spec->seccomp)) {
                r = state_to_json(e->h.state, e->h.status, &e->state_json);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "linux.seccomp.listenerPath: building the state: %m");
        }
        return 0;
}

/* config.json is re-read from the bundle recorded at create: its seccomp filter, personality and
 * (without --process) its process are what the new process gets. */
static int plan_process(Exec *e) {
        const ExecOptions *o = e->o;
        _cleanup_free_ char *err = NULL;
        int r;

        r = spec_load(e->h.state->bundle, &e->spec, &err);
        if (r < 0)
                return log_errno(LOG_ERR, r, "container '%s': %s", o->id, err ? err : "config.json: cannot be loaded");
        if (o->process_file) {
                ProcessSpec *p = NULL;

                r = load_process_file(o->process_file, &p);
                if (r < 0)
                        return r;
                replace_process(e->spec, p);
        } else if (!e->spec->has_process)
                return log_errno(LOG_ERR, -EINVAL, "container '%s': config.json has no process to start from, use --process FILE", o->id);
        r = apply_overrides(&e->spec->process, o);
        if (r < 0)
                return log_errno(LOG_ERR, r, "exec: %m");
        r = validate_process(&e->spec->process, o);
        if (r < 0)
                return r;
        return plan_seccomp(e);
}

/* ---- the container ----------------------------------------------------------------------------- */

static int open_container(Exec *e) {
        const char *id = e->o->id;
        int r;

        r = handle_open(e->g, id, false, false, &e->h);
        if (r < 0)
                return r;
        switch (e->h.status) {
        case STATUS_CREATING:
        case STATUS_STOPPED:
                return log_errno(LOG_ERR, -ESRCH, "container '%s' is not running", id);
        case STATUS_PAUSED:
                if (!e->o->ignore_paused)
                        return log_errno(LOG_ERR, -EBUSY, "container '%s' is paused (--ignore-paused to exec anyway)", id);
                break;
        case STATUS_CREATED:
        case STATUS_RUNNING:
                break;
        }
        return 0;
}

/* The init of a created container is not dumpable until `start` lets it exec, so its /proc files
 * need CAP_SYS_PTRACE over our user namespace: available to root, not to a rootless caller. */
static int not_joinable(const Exec *e, int r) {
        if ((r == -EACCES || r == -EPERM) && e->h.status == STATUS_CREATED)
                return log_errno(LOG_ERR, r, "container '%s' is not running (created: its init cannot be joined "
                                 "before `urun start` without host privileges)", e->o->id);
        return log_errno(LOG_ERR, r, "container '%s': inspecting its init process: %m", e->o->id);
}

/* The namespaces to join: every one of the init's that differs from ours. */
static int find_namespaces(Exec *e) {
        for (enum ns_type t = 0; t < _NS_MAX; t++) {
                char path[32];
                struct stat init_ns, self_ns;

                snprintf(path, sizeof path, "ns/%s", ns_type_proc_name(t));
                if (fstatat(e->init_dir_fd, path, &init_ns, 0) < 0) {
                        if (errno == ENOENT)
                                continue; /* a namespace type this kernel does not have */
                        return not_joinable(e, -errno);
                }
                snprintf(path, sizeof path, "self/ns/%s", ns_type_proc_name(t));
                if (fstatat(e->proc_fd, path, &self_ns, 0) < 0)
                        return log_errno(LOG_ERR, -errno, "/proc/self/%s: %m", path + 5);
                if (init_ns.st_ino != self_ns.st_ino || init_ns.st_dev != self_ns.st_dev)
                        e->ns_flags |= ns_type_clone_flag(t);
        }
        return 0;
}

/* setgroups(2) works in the init's user namespace only if its setgroups file says "allow" (a
 * rootless single-id map denies it); the file is missing only on kernels before 3.19. */
static int read_setgroups(Exec *e) {
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_file_at(e->init_dir_fd, "setgroups", 64, &text, NULL);
        if (r == -ENOENT) {
                e->setgroups_allowed = true;
                return 0;
        }
        if (r < 0)
                return not_joinable(e, r);
        e->setgroups_allowed = string_has_prefix(text, "allow");
        return 0;
}

static int open_init(Exec *e) {
        const char *id = e->o->id;
        char name[16];
        int r;

        e->pidfd = pidfd_for(e->h.state);
        if (e->pidfd == -ESRCH)
                return log_errno(LOG_ERR, -ESRCH, "container '%s' is not running", id);
        if (e->pidfd < 0)
                return log_errno(LOG_ERR, e->pidfd, "container '%s': pidfd of its init: %m", id);
        r = proc_open_verified(&e->proc_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "opening /proc: %m");
        snprintf(name, sizeof name, "%d", (int) e->h.state->pid);
        e->init_dir_fd = openat(e->proc_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        /* still alive after the open: /proc/PID is the pidfd's process, not a successor's */
        if (e->init_dir_fd < 0 || syscall(SYS_pidfd_send_signal, e->pidfd, 0, NULL, 0) < 0)
                return log_errno(LOG_ERR, -ESRCH, "container '%s' is not running", id);
        r = find_namespaces(e);
        if (r >= 0)
                r = read_setgroups(e);
        if (r < 0)
                return r;
        e->root_fd = openat(e->init_dir_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (e->root_fd < 0)
                return not_joinable(e, -errno);
        /* the container's limits apply to what we run in it */
        if (e->h.state->cgroup_path)
                return cgroup_exec_target(e->h.state->cgroup_path, e->h.state->pid, &e->cgroup_fd);
        return 0;
}

/* Our fds must sit above the --preserve-fds range, which B hands to the program. */
static int move_fds_above(Exec *e) {
        int *fds[] = { &e->pidfd, &e->proc_fd, &e->init_dir_fd, &e->root_fd, &e->console_fd, &e->sync_fd,
                       &e->child_sync_fd, &e->seccomp_listener_fd, &e->cgroup_fd };

        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                int r;

                if (*fds[i] < 0)
                        continue;
                r = fd_move_above(*fds[i], 3 + (int) e->o->preserve_fds);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "exec: moving fds: %m");
                *fds[i] = r;
        }
        return 0;
}

/* Sockets are connected here, where the host's paths are ours: B lives in the container's. */
static int open_channels(Exec *e) {
        int sv[2];
        int r;

        if (e->o->console_socket) {
                r = terminal_connect_socket(e->o->console_socket, &e->console_fd);
                if (r < 0)
                        return r;
        }
        if (e->spec->seccomp && seccomp_needs_listener(e->spec->seccomp)) {
                r = seccomp_listener_connect(e->spec->seccomp, &e->seccomp_listener_fd);
                if (r < 0)
                        return r;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_errno(LOG_ERR, -errno, "socketpair: %m");
        e->sync_fd = sv[0];
        e->child_sync_fd = sv[1];
        return move_fds_above(e);
}

/* ---- B: the container process ------------------------------------------------------------------ */


/* The pty is made inside the container (its devpts), while we are still its root; the master goes
 * to the console socket, or to the runtime over the sync socket (it proxies it); we keep none. */
static int child_terminal(Exec *e) {
        const ProcessSpec *p = &e->spec->process;
        _cleanup_close_ int master = -EBADF;
        int r;

        if (!p->terminal)
                return 0;
        r = terminal_setup_child(p->console_height, p->console_width, p->uid, (gid_t) -1, &master);
        if (r < 0)
                return r;
        r = terminal_hand_over(master, &e->console_fd, e->o->console_socket, e->child_sync_fd);
        if (r <= 0)
                return r;
        /* to the runtime: it gives the pty its own terminal's size before the program can look */
        r = sync_expect(e->child_sync_fd, SYNC_START, NULL);
        if (r < 0)
                return r == -EPIPE ? r : log_errno(LOG_ERR, r, "process.terminal: waiting for urun: %m");
        return 0;
}

/* args[0] through the PATH of the process's environment, inside the container. Missing: 127,
 * not executable: 126, as a shell and runc report (Podman maps both from the message). */
static int child_resolve(const Exec *e, char **ret_path) {
        const ProcessSpec *p = &e->spec->process;
        int r;

        r = process_setup_chdir(p->cwd, e->o->cwd ? "--cwd" : "process.cwd");
        if (r < 0)
                return r;
        r = find_in_path_at(AT_FDCWD, p->args[0], strv_env_get(p->env, "PATH"), ret_path);
        if (r == -ENOENT && !strchr(p->args[0], '/'))
                log_errno(LOG_ERR, r, "exec '%s': executable file not found in $PATH: %m", p->args[0]);
        else if (r < 0)
                log_errno(LOG_ERR, r, "exec '%s': %m", p->args[0]);
        if (r == -ENOENT)
                _exit(127);
        if (r == -EACCES || r == -EISDIR || r == -ENOEXEC)
                _exit(126);
        return r;
}

static int child_listener_message(const Exec *e, pid_t host_pid, char **ret) {
        int r;

        if (e->seccomp_listener_fd < 0)
                return 0;
        r = seccomp_listener_message(e->spec->seccomp, host_pid, e->state_json, ret);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.seccomp.listenerPath: building the message: %m");
        return 0;
}

/* The last write through the host's procfs comes first (oomScoreAdj was A's); then that fd goes,
 * before the first path inside the container is resolved. */
static int child_setup(Exec *e, ProcessSetup *ps) {
        int r;

        r = process_setup_proc(ps);
        e->proc_fd = ps->proc_fd = safe_close(e->proc_fd);
        if (r < 0)
                return r;
        if (setsid() < 0)
                return log_errno(LOG_ERR, -errno, "setsid: %m"); /* no TIOCSTI into the caller's terminal */
        process_setup_session_keyring();
        return child_terminal(e);
}

static _noreturn_ void child_main(Exec *e) {
        _cleanup_free_ char *path = NULL, *msg = NULL;
        ProcessSetup ps = {
                .spec = e->spec,
                .process = &e->spec->process,
                .proc_fd = e->proc_fd,
                .seccomp = e->seccomp,
                .seccomp_listener_fd = e->seccomp_listener_fd,
                .setgroups_allowed = e->setgroups_allowed,
                .preserve_fds = e->o->preserve_fds,
        };
        sigset_t none;
        SyncMsg m = {};
        int r;

        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* During the setup: do not outlive a runtime killed meanwhile. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* The runtime has our pid from A: wait for it, so our messages come after A's. */
        r = sync_expect(e->child_sync_fd, SYNC_START, &m);
        if (r < 0)
                process_setup_child_exit(r);
        r = child_listener_message(e, m.value, &msg);
        ps.seccomp_listener_msg = msg;
        if (r >= 0)
                r = child_setup(e, &ps);
        if (r >= 0)
                r = child_resolve(e, &path);
        if (r >= 0)
                r = process_setup_apply(&ps);
        /* the program outlives a detaching runtime (a change of identity may not have cleared it) */
        if (r >= 0 && prctl(PR_SET_PDEATHSIG, 0) < 0)
                r = log_errno(LOG_ERR, -errno, "prctl(PR_SET_PDEATHSIG): %m");
        if (r >= 0)
                r = procattrs_apply_cpu_affinity(e->spec->process.exec_cpu_affinity_final);
        if (r >= 0)
                r = process_setup_seccomp_late(&ps);
        if (r < 0)
                process_setup_child_exit(r);
        process_setup_exec(path, &e->spec->process);
}

/* ---- A: joins the namespaces ------------------------------------------------------------------- */

/* clone3() refuses an exit_signal with CLONE_PARENT: the child gets ours (SIGCHLD, from fork). */
static pid_t clone_parent(void) {
        struct clone_args args = { .flags = CLONE_PARENT };

        return (pid_t) syscall(SYS_clone3, &args, sizeof args);
}

static int join_container(Exec *e) {
        int r;

        /* process.execCPUAffinity.initial: for the time until the process is in the container */
        r = procattrs_apply_cpu_affinity(e->spec->process.exec_cpu_affinity_initial);
        if (r < 0)
                return r;
        /* into the container's cgroup before its cgroup namespace, which then shows it as the root */
        if (e->cgroup_fd >= 0) {
                r = cgroup_attach(e->cgroup_fd, 0);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "container '%s': joining cgroup '%s': %m", e->o->id,
                                         e->h.state->cgroup_path);
                e->cgroup_fd = safe_close(e->cgroup_fd);
        }
        if (e->ns_flags != 0 && setns(e->pidfd, e->ns_flags) < 0)
                return log_errno(LOG_ERR, -errno, "container '%s': joining its namespaces (0x%x): %m", e->o->id,
                                 e->ns_flags);
        if (fchdir(e->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return log_errno(LOG_ERR, -errno, "container '%s': entering its root directory: %m", e->o->id);
        return 0;
}

static _noreturn_ void intermediate_main(Exec *e) {
        pid_t pid;
        int r;

        log_forward_to(e->child_sync_fd);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* B inherits it; only a dumpable process may write its own /proc files when rootless */
        r = process_setup_oom_score_adj(&e->spec->process, e->proc_fd);
        if (r < 0)
                process_setup_child_exit(r);
        /* before the container's processes can see us (see the threat model above) */
        (void) prctl(PR_SET_DUMPABLE, 0);
        e->sync_fd = safe_close(e->sync_fd);
        /* the state dir (its flock stays with the runtime's copy) and everything of the init */
        e->h.dir_fd = safe_close(e->h.dir_fd);
        e->h.root_fd = safe_close(e->h.root_fd);
        e->init_dir_fd = safe_close(e->init_dir_fd);
        r = join_container(e);
        if (r < 0)
                process_setup_child_exit(r);
        e->root_fd = safe_close(e->root_fd);
        e->pidfd = safe_close(e->pidfd);
        pid = clone_parent();
        if (pid < 0)
                process_setup_child_exit(log_errno(LOG_ERR, -errno, "container '%s': starting a process in its pid namespace: %m%s",
                                     e->o->id, errno == ENOMEM ? " (has its init exited?)" : ""));
        if (pid == 0)
                child_main(e);
        (void) sync_send(e->child_sync_fd, SYNC_INIT_PID, pid, NULL);
        _exit(0);
}

/* ---- the runtime ------------------------------------------------------------------------------- */

/* A's report: B's pid, or A's error (printed here, once). A is reaped either way. */
static int wait_for_pid(Exec *e) {
        SyncMsg m = {};
        int r;

        r = sync_expect(e->sync_fd, SYNC_INIT_PID, &m);
        if (r >= 0)
                e->pid = m.value;
        else if (m.type == SYNC_ERROR)
                log_emit(LOG_ERR, m.text);
        else
                log_errno(LOG_ERR, r, "exec: the process joining the container failed: %m");
        (void) waitpid(e->mid, NULL, 0);
        e->mid = 0;
        return r;
}

/* -t in the foreground: the pty master, which gets our terminal's window size (if stdin is one)
 * before B goes on. supervise() keeps it in step from then on. */
static int receive_master(Exec *e) {
        int r;

        r = terminal_recv_master(e->sync_fd, &e->master);
        if (r >= 0) {
                (void) terminal_copy_winsize(STDIN_FILENO, e->master);
                r = sync_send(e->sync_fd, SYNC_START, 0, NULL);
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.terminal: receiving the pty: %m");
        return 0;
}

/* B's messages until EOF (its end of the socket closed by execve: the program runs): warnings,
 * the pty master, or an error, which is printed; then B is reaped, and 126/127 (a program that
 * is missing or not executable) become our exit status. */
static int wait_for_exec(Exec *e, int *ret_status) {
        SyncMsg m;
        int r, status;

        for (;;) {
                r = sync_recv(e->sync_fd, &m);
                if (r == -EPIPE)
                        return 0;
                if (r < 0) {
                        r = log_errno(LOG_ERR, r, "exec: waiting for the process: %m");
                        break;
                }
                if (m.type == SYNC_LOG) {
                        log_emit(m.value, m.text);
                        continue;
                }
                if (m.type == SYNC_TERMINAL && e->master < 0 && !e->o->console_socket) {
                        r = receive_master(e);
                        if (r < 0)
                                break;
                        continue;
                }
                if (m.type == SYNC_ERROR) {
                        log_emit(LOG_ERR, m.text);
                        r = m.value < 0 ? m.value : -EIO;
                } else
                        r = log_errno(LOG_ERR, -EBADMSG, "exec: unexpected message %u from the process", m.type);
                break;
        }
        if (waitpid(e->pid, &status, 0) == e->pid && WIFEXITED(status) &&
            (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127)) {
                *ret_status = WEXITSTATUS(status);
                r = 0;
        }
        e->pid = 0;
        return r;
}

static int run_process(Exec *e, int *ret_status) {
        int r;

        e->mid = fork();
        if (e->mid < 0)
                return log_errno(LOG_ERR, -errno, "fork: %m");
        if (e->mid == 0)
                intermediate_main(e);
        /* A and B have what they need of these */
        e->child_sync_fd = safe_close(e->child_sync_fd);
        e->console_fd = safe_close(e->console_fd);
        e->seccomp_listener_fd = safe_close(e->seccomp_listener_fd);
        e->pidfd = safe_close(e->pidfd);
        e->init_dir_fd = safe_close(e->init_dir_fd);
        e->root_fd = safe_close(e->root_fd);
        e->proc_fd = safe_close(e->proc_fd);
        e->cgroup_fd = safe_close(e->cgroup_fd);
        r = wait_for_pid(e);
        if (r < 0)
                return r;
        r = sync_send(e->sync_fd, SYNC_START, e->pid, NULL);
        if (r < 0)
                return log_errno(LOG_ERR, r, "exec: starting the process: %m");
        *ret_status = -1;
        r = wait_for_exec(e, ret_status);
        if (r < 0 || *ret_status >= 0)
                return r;
        *ret_status = 0;
        if (e->o->pid_file)
                return pidfile_write(e->o->pid_file, e->pid);
        return 0;
}

/* Foreground: like `run`, forward signals (and proxy the pty) and return the process's status.
 * The container's lock is released first: kill, delete --force and other execs must not wait. */
static int supervise_process(Exec *e, int *ret_status) {
        int r;

        handle_done(&e->h);
        r = supervise(e->pid, &e->mask, e->master);
        if (r < 0)
                return r;
        e->pid = 0; /* reaped */
        *ret_status = r;
        return 0;
}

static void exec_done(Exec *e) {
        if (e->pid > 0) {
                /* set up but not handed over: a failure after it started (the pid file) */
                (void) kill(e->pid, SIGKILL);
                (void) waitpid(e->pid, NULL, 0);
        }
        if (e->mid > 0)
                (void) waitpid(e->mid, NULL, 0);
        handle_done(&e->h);
        spec_free(e->spec);
        seccomp_filter_free(e->seccomp);
        free(e->state_json);
        safe_close(e->seccomp_listener_fd);
        safe_close(e->pidfd);
        safe_close(e->proc_fd);
        safe_close(e->init_dir_fd);
        safe_close(e->root_fd);
        safe_close(e->cgroup_fd);
        safe_close(e->console_fd);
        safe_close(e->master);
        safe_close(e->sync_fd);
        safe_close(e->child_sync_fd);
}

int container_exec(const GlobalOptions *g, const ExecOptions *o, int *ret_status) {
        Exec e = {
                .g = g, .o = o,
                .h = { .root_fd = -EBADF, .dir_fd = -EBADF },
                .seccomp_listener_fd = -EBADF, .pidfd = -EBADF, .proc_fd = -EBADF, .init_dir_fd = -EBADF,
                .root_fd = -EBADF, .cgroup_fd = -EBADF, .console_fd = -EBADF, .master = -EBADF,
                .sync_fd = -EBADF, .child_sync_fd = -EBADF,
        };
        int r;

        /* 1. everything that can be checked, before any side effect */
        r = open_container(&e);
        if (r >= 0)
                r = plan_process(&e);
        /* 2. the init, its namespaces and root; our sockets */
        if (r >= 0)
                r = open_init(&e);
        if (r >= 0)
                r = open_channels(&e);
        /* 3. A and B; in the foreground no signal may be lost between fork and supervise() */
        if (r >= 0 && !o->detach)
                supervise_block_signals(&e.mask);
        if (r >= 0)
                r = run_process(&e, ret_status);
        /* 4. --detach: done once the program runs; else wait for it */
        if (r >= 0 && !o->detach && *ret_status == 0 && e.pid > 0)
                r = supervise_process(&e, ret_status);
        else if (r >= 0)
                e.pid = 0; /* detached (or already reaped): it is on its own now */
        exec_done(&e);
        return r;
}
