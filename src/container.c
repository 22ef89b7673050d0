/* create and run: plan (no side effects), claim the state dir, spawn the init, drive it to READY,
 * record the state. Any failure after the state dir exists unwinds everything. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "caps.h"
#include "cgroup-owner.h"
#include "container.h"
#include "hooks.h"
#include "idmap.h"
#include "log.h"
#include "mount-idmap.h"
#include "pidfile.h"
#include "procattrs.h"
#include "rootfs.h"
#include "supervise.h"
#include "sync.h"
#include "terminal.h"
#include "util.h"

static void container_done(Container *c) {
        c->idmap_fds = mount_idmap_close(c->idmap_fds, c->spec ? c->spec->n_mounts : 0);
        spec_free(c->spec);
        free(c->bundle);
        free(c->rootfs);
        free(c->config_path);
        safe_close(c->root_fd);
        safe_close(c->state_fd);
        safe_close(c->fifo_dir_fd);
        safe_close(c->sync_fd);
        safe_close(c->child_sync_fd);
        safe_close(c->seccomp_listener_fd);
        safe_close(c->console_socket_fd);
        safe_close(c->pty_master);
        safe_close(c->proc_fd);
        cgroup_done(&c->cgroup);
        cgroup_plan_done(&c->cgroup_plan);
        seccomp_filter_free(c->seccomp);
}

/* The state record of c (borrowing c's strings: never freed through it). */
static ContainerState container_to_state(const Container *c) {
        return (ContainerState){
                .id = (char *) c->o->id,
                .pid = c->pid,
                .start_time = c->start_time,
                .bundle = c->bundle,
                .rootfs = c->rootfs,
                .created = (char *) c->created,
                .owner = geteuid(),
                .annotations = c->spec->annotations,
                .n_annotations = c->spec->n_annotations,
                .rootless = c->rootless,
                .config_path = c->config_path,
                .cgroup_path = c->cgroup.path,
                .cgroup_top = c->cgroup.top,
                .cgroup_none = c->cgroup_plan.none ? (char *) c->cgroup_plan.none_reason : NULL,
        };
}

int container_state_json(const Container *c, enum container_status status, char **ret) {
        ContainerState s = container_to_state(c);
        return state_to_json(&s, status, ret);
}

int idmap_write_maps_for(const Container *c, pid_t pid) {
        return idmap_write_maps(pid, c->uid_map, c->n_uid_map, c->gid_map, c->n_gid_map);
}

static int resolve_paths(Container *c) {
        char buf[PATH_MAX];

        if (!realpath(c->o->bundle ? c->o->bundle : ".", buf))
                return log_errno(LOG_ERR, -errno, "bundle '%s': %m", c->o->bundle ? c->o->bundle : ".");
        c->bundle = strdup(buf);
        c->config_path = strjoin_path(buf, "config.json");
        if (!c->bundle || !c->config_path)
                return log_errno(LOG_ERR, -ENOMEM, "bundle: %m");
        return 0;
}

static int resolve_rootfs(Container *c) {
        char buf[PATH_MAX];
        _cleanup_free_ char *joined = NULL;
        const char *p = c->spec->root_path;
        struct stat st;

        if (!p)
                return log_errno(LOG_ERR, -EINVAL, "root.path: required field missing");
        if (p[0] != '/') {
                joined = strjoin_path(c->bundle, p);
                if (!joined)
                        return -ENOMEM;
                p = joined;
        }
        if (!realpath(p, buf))
                return log_errno(LOG_ERR, -errno, "root.path: '%s': %m", c->spec->root_path);
        if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
                return log_errno(LOG_ERR, -ENOTDIR, "root.path: '%s': %m", c->spec->root_path);
        c->rootfs = strdup(buf);
        return c->rootfs ? 0 : -ENOMEM;
}

/* The user namespace and its maps. A non-root caller without one in the config gets one, with
 * its own ids mapped to 0 (as crun does). */
static int plan_userns(Container *c) {
        static IdMap self_uid, self_gid;
        Spec *s = c->spec;

        c->nested_userns = idmap_in_nested_userns();
        c->rootless = geteuid() != 0 || c->nested_userns || c->g->rootless == 1;
        if (!s->namespaces[NS_USER].present && geteuid() != 0) {
                s->namespaces[NS_USER].present = true;
                log_debug("no user namespace in config.json: adding one, mapping uid %u and gid %u to 0",
                          (unsigned) geteuid(), (unsigned) getegid());
        }
        c->userns = s->namespaces[NS_USER].present;
        if (!c->userns || s->namespaces[NS_USER].path)
                return 0;
        self_uid = (IdMap){ 0, geteuid(), 1 };
        self_gid = (IdMap){ 0, getegid(), 1 };
        c->uid_map = s->n_uid_mappings ? s->uid_mappings : &self_uid;
        c->n_uid_map = s->n_uid_mappings ? s->n_uid_mappings : 1;
        c->gid_map = s->n_gid_mappings ? s->gid_mappings : &self_gid;
        c->n_gid_map = s->n_gid_mappings ? s->n_gid_mappings : 1;
        /* a direct single-id map by an unprivileged writer requires setgroups=deny */
        c->setgroups_allowed = (geteuid() == 0 && !c->nested_userns) ||
                               !(idmap_is_single_self(c->uid_map, c->n_uid_map, geteuid()) &&
                                 idmap_is_single_self(c->gid_map, c->n_gid_map, getegid()));
        return 0;
}

static int plan_namespaces(Container *c) {
        const Spec *s = c->spec;

        if (!s->namespaces[NS_MOUNT].present)
                return log_errno(LOG_ERR, -EINVAL, "linux.namespaces: a mount namespace is required");
        for (int t = 0; t < _NS_MAX; t++) {
                if (!s->namespaces[t].present)
                        continue;
                if (s->namespaces[t].path)
                        c->join_any = true;
                else
                        c->clone_flags |= ns_type_clone_flag(t);
        }
        /* Offsets can only be written before the first process enters the time namespace, and
         * clone(CLONE_NEWTIME) puts the child in it at once: the init unshares it itself. */
        if ((c->clone_flags & CLONE_NEWTIME) &&
            (s->time_offset_monotonic.present || s->time_offset_boottime.present)) {
                c->clone_flags &= ~CLONE_NEWTIME;
                c->timens_in_child = true;
        }
        return 0;
}

/* Compile the filter now (the child only installs it); compiled BPF is cached next to the state
 * root, keyed by the filter's content, since building a large profile costs tens of ms. */
static int plan_seccomp(Container *c) {
        _cleanup_free_ char *cache = NULL;

        if (!c->spec->seccomp)
                return 0;
        if (asprintf(&cache, "%s-seccomp-cache", c->g->root) < 0)
                return -ENOMEM;
        return seccomp_prepare(c->spec->seccomp, cache, &c->seccomp);
}

/* Who gets the pty master: the --console-socket receiver, or (foreground run) we proxy it. */
static int plan_terminal(const Container *c) {
        const ProcessSpec *p = &c->spec->process;

        if (!p->terminal) {
                if (c->o->console_socket)
                        return log_errno(LOG_ERR, -EINVAL, "--console-socket: requires process.terminal to be true");
                return 0;
        }
        /* as runc: a detached container's terminal must go somewhere */
        if (!c->o->console_socket && (!c->foreground || c->o->detach))
                return log_errno(LOG_ERR, -EINVAL,
                                 "process.terminal: cannot allocate a tty when urun detaches (create, "
                                 "run --detach) without --console-socket");
        if (p->console_height > 0xffff || p->console_width > 0xffff)
                return log_errno(LOG_ERR, -ERANGE, "process.consoleSize: %ux%u: at most 65535x65535",
                                 (unsigned) p->console_height, (unsigned) p->console_width);
        return 0;
}

/* Where the container's cgroup goes (cgroup.h); --cgroup-manager disabled (Podman's
 * --cgroups=disabled) means none at all, --cgroup-manager systemd is --systemd-cgroup. */
static int plan_cgroup(Container *c) {
        CgroupPlanOptions o = {
                .id = c->o->id,
                .cgroups_path = c->spec->cgroups_path,
                .resources = c->spec->resources,
                .rootless = c->rootless,
                .systemd = c->g->systemd_cgroup ||
                           (c->g->cgroup_manager && streq(c->g->cgroup_manager, "systemd")),
                .min_fd = 3 + (int) c->o->preserve_fds,
        };

        if (c->g->cgroup_manager && streq(c->g->cgroup_manager, "disabled")) {
                c->cgroup_plan = (CgroupPlan){ .none = true, .none_reason = "disabled" };
                if (c->spec->has_resources)
                        log_warning("linux.resources: --cgroup-manager disabled: limits are not applied");
                return 0;
        }
        return cgroup_plan(&o, &c->cgroup_plan);
}

/* Everything that can be checked before the first side effect. */
static int container_plan(Container *c) {
        _cleanup_free_ char *err = NULL;
        int r;

        r = state_validate_id(c->o->id);
        if (r < 0)
                return log_errno(LOG_ERR, r, "invalid container id '%s': use 1-250 characters from [A-Za-z0-9_.+-], not '.' or '..'",
                                 c->o->id);
        r = resolve_paths(c);
        if (r < 0)
                return r;
        r = spec_load(c->bundle, &c->spec, &err);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s", err ? err : "config.json: cannot be loaded");
        if (!c->spec->has_process)
                return log_errno(LOG_ERR, -EINVAL, "process: required field missing");
        r = plan_terminal(c);
        if (r >= 0)
                r = resolve_rootfs(c);
        if (r >= 0)
                r = caps_validate(&c->spec->process);
        if (r >= 0)
                r = rootfs_validate(c->spec);
        if (r >= 0)
                r = plan_userns(c);
        if (r >= 0)
                r = plan_namespaces(c);
        if (r >= 0)
                r = procattrs_validate(c->spec, c->clone_flags | (c->timens_in_child ? CLONE_NEWTIME : 0));
        if (r >= 0)
                r = plan_seccomp(c);
        if (r >= 0)
                r = plan_cgroup(c);
        return r;
}

/* Internal fds must sit above the --preserve-fds range so that the child can hand 3..3+N over. */
static int move_fd(int *fd, const Container *c) {
        int r = fd_move_above(*fd, 3 + (int) c->o->preserve_fds);
        if (r < 0)
                return r;
        *fd = r;
        return 0;
}

/* Connect to the --console-socket receiver now, while its host path is reachable and before the
 * first side effect: a bad path fails cleanly. The child sends the pty master over it. */
static int connect_console_socket(Container *c) {
        int r;

        if (!c->o->console_socket)
                return 0;
        r = terminal_connect_socket(c->o->console_socket, &c->console_socket_fd);
        if (r < 0)
                return r;
        r = move_fd(&c->console_socket_fd, c);
        if (r < 0)
                return log_errno(LOG_ERR, r, "--console-socket '%s': %m", c->o->console_socket);
        return 0;
}

static int claim_state_dir(Container *c) {
        int r;

        r = state_root_open(c->g->root, &c->root_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "state root '%s': %m", c->g->root);
        r = state_dir_create(c->root_fd, c->o->id, &c->state_fd);
        if (r == -EEXIST)
                return log_errno(LOG_ERR, r, "container '%s' already exists", c->o->id);
        if (r < 0)
                return log_errno(LOG_ERR, r, "creating state for '%s' in '%s': %m", c->o->id, c->g->root);
        c->state_created = true;
        r = state_lock(c->state_fd, true);
        if (r >= 0)
                r = move_fd(&c->state_fd, c);
        if (r >= 0)
                r = move_fd(&c->root_fd, c);
        if (r < 0)
                return log_errno(LOG_ERR, r, "state for '%s': %m", c->o->id);
        /* The child keeps a directory fd to reach exec.fifo after pivot_root. It must not be the
         * locked one: the child's copy would keep the flock held until exec and block `start`. */
        c->fifo_dir_fd = openat(c->state_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c->fifo_dir_fd < 0 || move_fd(&c->fifo_dir_fd, c) < 0)
                return log_errno(LOG_ERR, -errno, "state for '%s': %m", c->o->id);
        if (!c->foreground) {
                if (mkfifoat(c->state_fd, STATE_FIFO, 0622) < 0 || fchmodat(c->state_fd, STATE_FIFO, 0622, 0) < 0)
                        return log_errno(LOG_ERR, -errno, "creating %s: %m", STATE_FIFO);
        }
        return 0;
}

static int run_runtime_hooks(Container *c) {
        _cleanup_free_ char *json = NULL;
        int r;

        r = container_state_json(c, STATUS_CREATING, &json);
        if (r < 0)
                return log_errno(LOG_ERR, r, "hooks: building the state: %m");
        r = hooks_run(HOOK_PRESTART, c->spec->hooks[HOOK_PRESTART], c->spec->n_hooks[HOOK_PRESTART], json);
        if (r >= 0)
                r = hooks_run(HOOK_CREATE_RUNTIME, c->spec->hooks[HOOK_CREATE_RUNTIME],
                              c->spec->n_hooks[HOOK_CREATE_RUNTIME], json);
        return r;
}

/* Foreground run with a terminal and no --console-socket: the child sends us the pty master. */
static int receive_pty_master(Container *c) {
        int r;

        if (!c->spec->process.terminal || c->o->console_socket || c->pty_master >= 0)
                return log_errno(LOG_ERR, -EBADMSG, "container process sent an unexpected terminal");
        r = terminal_recv_master(c->sync_fd, &c->pty_master);
        if (r < 0)
                return log_errno(LOG_ERR, r,
                                 "process.terminal: receiving the pty from the container process: %m");
        return 0;
}

/* Drive the child until it is set up: its cgroup settled, maps, runtime hooks, the pty (run with a
 * terminal), READY. */
static int drive_child(Container *c) {
        SyncMsg m = {};
        int r;

        /* the init is in its cgroup now: a systemd scope's placeholder goes, its limits come */
        r = cgroup_settle(&c->cgroup_plan, &c->cgroup);
        if (r < 0)
                return r;
        if (!c->join_any && (c->clone_flags & CLONE_NEWUSER)) {
                r = idmap_write_maps_for(c, c->pid);
                if (r < 0)
                        return r;
        }
        (void) proc_start_time(c->pid, &c->start_time);
        /* From here on we hold the container's fds and pid: nobody else may ptrace us or read our
         * /proc files (our maps are written, which needed us dumpable for newuidmap). */
        (void) prctl(PR_SET_DUMPABLE, 0);
        r = sync_send(c->sync_fd, SYNC_MAPS_DONE, c->pid, NULL);
        for (;;) {
                if (r < 0)
                        break;
                r = sync_expect(c->sync_fd, SYNC_READY, &m);
                if (r == -EBADMSG && m.type == SYNC_TERMINAL) {
                        r = receive_pty_master(c);
                        continue;
                }
                if (r == -EBADMSG && m.type == SYNC_RUNTIME_HOOKS) {
                        r = run_runtime_hooks(c);
                        if (r >= 0)
                                r = sync_send(c->sync_fd, SYNC_HOOKS_DONE, 0, NULL);
                        continue;
                }
                break;
        }
        if (r == -EPIPE)
                return log_errno(LOG_ERR, r, "container process exited during setup");
        if (r < 0 && m.type == SYNC_ERROR)
                log_emit(LOG_ERR, m.text);  /* the child's own message, printed once here */
        return r;
}

static int spawn_child(Container *c) {
        int sv[2], r;

        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_errno(LOG_ERR, -errno, "socketpair: %m");
        c->sync_fd = sv[0];
        c->child_sync_fd = sv[1];
        r = move_fd(&c->sync_fd, c);
        if (r >= 0)
                r = move_fd(&c->child_sync_fd, c);
        if (r < 0)
                return log_errno(LOG_ERR, r, "sync socket: %m");
        if (c->spec->seccomp && seccomp_needs_listener(c->spec->seccomp)) {
                r = seccomp_listener_connect(c->spec->seccomp, &c->seccomp_listener_fd);
                if (r >= 0)
                        r = move_fd(&c->seccomp_listener_fd, c);
                if (r < 0)
                        return r;
        }
        r = proc_open_verified(&c->proc_fd);
        if (r >= 0)
                r = move_fd(&c->proc_fd, c);
        if (r < 0)
                return log_errno(LOG_ERR, r, "opening /proc: %m");
        if (c->join_any)
                (void) prctl(PR_SET_CHILD_SUBREAPER, 1);
        r = process_spawn(c);
        c->child_sync_fd = safe_close(c->child_sync_fd);
        c->seccomp_listener_fd = safe_close(c->seccomp_listener_fd);
        c->console_socket_fd = safe_close(c->console_socket_fd);
        if (r < 0)
                return r;
        return drive_child(c);
}

static int write_pid_file(const Container *c) {
        return c->o->pid_file ? pidfile_write(c->o->pid_file, c->pid) : 0;
}

static int record_state(Container *c) {
        ContainerState s = container_to_state(c);
        int r = state_write(c->state_fd, &s);
        if (r < 0)
                return log_errno(LOG_ERR, r, "writing %s for '%s': %m", STATE_FILE, c->o->id);
        return write_pid_file(c);
}

/* Undo a partial create: the child dies (its mounts live only in its mount namespace), the
 * state dir goes. */
static void container_abort(Container *c) {
        if (c->pid > 0) {
                (void) kill(c->pid, SIGKILL);
                (void) waitpid(c->pid, NULL, 0);
        }
        if (cgroup_destroy(c->cgroup.path, c->cgroup.top) < 0)
                log_warning("cgroup '%s' could not be removed, ignoring", c->cgroup.path);
        if (c->state_created)
                (void) state_dir_remove(c->root_fd, c->o->id);
        if (c->o->pid_file)
                (void) unlink(c->o->pid_file);
}

/* The container's cgroup, made before the init exists so that clone3 can place it there. */
static int create_cgroup(Container *c) {
        int r = cgroup_create(&c->cgroup_plan, &c->cgroup);
        if (r < 0 || c->cgroup.fd < 0)
                return r;
        return move_fd(&c->cgroup.fd, c);
}

/* Cgroup ownership (cgroup-owner.h), done by host root only. A rootless caller's cgroup is its
 * own already, that is the container root's; handing it to another mapped id would leave the
 * runtime unable to remove what the container creates below it. */
static int give_cgroup_to_user(const Container *c) {
        const ProcessSpec *p = &c->spec->process;
        uint32_t uid = p->uid, gid = p->gid;
        int r;

        if (c->rootless || c->cgroup.fd < 0 ||
            !cgroup_owner_wanted(c->spec, (c->clone_flags & CLONE_NEWCGROUP) != 0))
                return 0;
        if (c->userns && c->uid_map &&
            (idmap_to_host(c->uid_map, c->n_uid_map, p->uid, &uid) < 0 ||
             idmap_to_host(c->gid_map, c->n_gid_map, p->gid, &gid) < 0))
                return log_errno(LOG_ERR, -ERANGE, "cgroup ownership: process.user %u:%u is not mapped to the host",
                                 (unsigned) p->uid, (unsigned) p->gid);
        r = cgroup_owner_chown(c->cgroup.fd, NULL, uid, gid);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cgroup ownership: chown of '%s' to %u:%u: %m", c->cgroup.path,
                                 (unsigned) uid, (unsigned) gid);
        return 0;
}

static int container_setup(Container *c) {
        int r;

        r = container_plan(c);
        if (r >= 0)
                r = connect_console_socket(c);
        if (r >= 0) /* before any state exists: a refusal leaves nothing behind */
                r = mount_idmap_prepare(c, &c->idmap_fds);
        if (r < 0)
                return r;
        (void) format_rfc3339(c->created, sizeof c->created);
        r = claim_state_dir(c);
        if (r >= 0)
                r = create_cgroup(c);
        if (r >= 0)
                r = give_cgroup_to_user(c);
        if (r >= 0)
                r = spawn_child(c);
        /* the init holds its copies (attached by now) until execve */
        c->idmap_fds = mount_idmap_close(c->idmap_fds, c->spec->n_mounts);
        if (r >= 0)
                r = record_state(c);
        if (r < 0)
                container_abort(c);
        return r;
}

#define CONTAINER_INIT(g_, o_) \
        { .g = (g_), .o = (o_), .root_fd = -EBADF, .state_fd = -EBADF, .fifo_dir_fd = -EBADF, .sync_fd = -EBADF, .child_sync_fd = -EBADF, .seccomp_listener_fd = -EBADF, .console_socket_fd = -EBADF, .pty_master = -EBADF, .proc_fd = -EBADF, .cgroup = CGROUP_NULL }

int container_create(const GlobalOptions *g, const CreateOptions *o) {
        Container c = CONTAINER_INIT(g, o);
        int r = container_setup(&c);
        container_done(&c);
        return r;
}

/* After SYNC_START the child closes its end by exec (CLOEXEC): EOF means the program runs. */
static int release_child(Container *c) {
        SyncMsg m;
        int r;

        r = sync_send(c->sync_fd, SYNC_START, 0, NULL);
        if (r < 0)
                return log_errno(LOG_ERR, r, "starting container '%s': %m", c->o->id);
        r = sync_recv(c->sync_fd, &m);
        while (r >= 0 && m.type == SYNC_LOG) {
                log_emit(m.value, m.text);
                r = sync_recv(c->sync_fd, &m);
        }
        if (r == -EPIPE)
                return 0;
        if (r >= 0 && m.type == SYNC_ERROR) {
                log_emit(LOG_ERR, m.text);
                return m.value < 0 ? m.value : -EIO;
        }
        return log_errno(LOG_ERR, r < 0 ? r : -EBADMSG, "starting container '%s': %m", c->o->id);
}

static void run_hooks_warn(Container *c, enum hook_kind kind, enum container_status status) {
        _cleanup_free_ char *json = NULL;

        if (c->spec->n_hooks[kind] == 0 || container_state_json(c, status, &json) < 0)
                return;
        if (hooks_run(kind, c->spec->hooks[kind], c->spec->n_hooks[kind], json) < 0)
                log_warning("%s hooks failed, continuing", hook_kind_to_name(kind));
}

static void finish_foreground(Container *c, int status) {
        ContainerState s = container_to_state(c);

        if (c->o->keep) {
                /* keep the state: mark it stopped with its status */
                s.stopped_marker = true;
                s.exit_status = status;
                (void) state_write(c->state_fd, &s);
                return;
        }
        /* a concurrent `delete` may hold the lock, or have deleted the container (and run the
         * poststop hooks) already */
        (void) state_lock(c->state_fd, true);
        if (faccessat(c->state_fd, STATE_FILE, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (cgroup_destroy(c->cgroup.path, c->cgroup.top) < 0)
                log_warning("cgroup '%s' could not be removed, ignoring", c->cgroup.path);
        run_hooks_warn(c, HOOK_POSTSTOP, STATUS_STOPPED);
        (void) state_dir_remove(c->root_fd, c->o->id);
}

int container_run(const GlobalOptions *g, const CreateOptions *o, int *ret_status) {
        Container c = CONTAINER_INIT(g, o);
        sigset_t mask;
        int r;

        c.foreground = true;
        supervise_block_signals(&mask);
        r = container_setup(&c);
        /* created: other commands (kill, state, delete --force) must reach it while we wait */
        if (r >= 0)
                (void) flock(c.state_fd, LOCK_UN);
        /* the program sees our window size from its first instruction */
        if (r >= 0 && c.pty_master >= 0)
                (void) terminal_copy_winsize(STDIN_FILENO, c.pty_master);
        if (r >= 0) {
                r = release_child(&c);
                if (r < 0) {
                        int status;
                        (void) waitpid(c.pid, &status, 0);
                        c.pid = 0;
                        container_abort(&c);
                }
        }
        if (r >= 0) {
                run_hooks_warn(&c, HOOK_POSTSTART, STATUS_RUNNING);
                if (o->detach)
                        *ret_status = 0;
                else {
                        r = supervise(c.pid, &mask, c.pty_master);
                        if (r >= 0) {
                                *ret_status = r;
                                finish_foreground(&c, r);
                                r = 0;
                        }
                }
        }
        container_done(&c);
        return r;
}
