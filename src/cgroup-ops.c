/* The container's cgroup once planned: create (directories, controllers top-down, limits; or a
 * systemd scope), attach, the exec target, update, freeze/thaw, kill, pids, stats and removal. Paths come from the plan or
 * from the state file; the latter are opened only when they are cgroup2 directories. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup-systemd.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

#define FREEZE_TIMEOUT_MS 10000
#define REMOVE_WAIT_MS 2000

/* ---- create ---- */

/* Make sure every controller of mask is in dir's cgroup.controllers: enable what is missing in the
 * parent's cgroup.subtree_control, after making it available to the parent the same way. Stops
 * above the mount (no cgroup.controllers there): the controller does not exist. */
static int enable_controllers(const char *dir, unsigned mask, const CgroupNeeds *needs, unsigned depth) {
        _cleanup_free_ char *parent = NULL, *sc = NULL;
        unsigned have = 0, missing;
        int first = __builtin_ctz(mask), r;

        if (cgroup_read_mask(dir, "cgroup.controllers", &have) < 0 || depth > MAX_DEPTH)
                return log_errno(LOG_ERR, -EOPNOTSUPP, "%s: the %s controller is not available on this host",
                                 needs->field[first] ? needs->field[first] : "linux.resources",
                                 cgroup_controller_to_string(first));
        missing = mask & ~have;
        if (!missing)
                return 0;
        parent = cgroup_path_parent(dir);
        if (!parent)
                return -ENOMEM;
        r = enable_controllers(parent, missing, needs, depth + 1);
        if (r < 0)
                return r;
        sc = cgroup_path_join(parent, "cgroup.subtree_control");
        if (!sc)
                return -ENOMEM;
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++) {
                char buf[32];
                if (!(missing & CGROUP_MASK(c)))
                        continue;
                snprintf(buf, sizeof buf, "+%s", cgroup_controller_to_string(c));
                r = write_file_at(AT_FDCWD, sc, buf, strlen(buf), O_NOFOLLOW, 0);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "%s: enabling the %s controller in %s: %m%s",
                                         needs->field[c] ? needs->field[c] : "linux.resources",
                                         cgroup_controller_to_string(c), sc,
                                         r == -EBUSY ? " (that cgroup holds processes)" : "");
        }
        return 0;
}

/* mkdir from p->top down to p->path. *created: the first directory we made (a concurrent create
 * may have made an intermediate one first: that one is not ours to remove). */
static int make_dirs(const CgroupPlan *p, char **created) {
        const char *s = p->path + strlen(p->top);

        *created = NULL;
        for (;;) {
                _cleanup_free_ char *dir = strndup(p->path, (size_t) (s - p->path));
                if (!dir)
                        return -ENOMEM;
                if (mkdir(dir, 0755) < 0) {
                        if (errno != EEXIST || !*s)
                                return log_errno(LOG_ERR, -errno, "cgroup: creating %s: %m", dir);
                } else if (!*created)
                        *created = TAKE_PTR(dir);
                if (!*s)
                        return 0;
                s++;
                s += strcspn(s, "/");
        }
}

/* ---- create: a systemd scope (--systemd-cgroup) ---- */

/* The directory of the cgroup pid is in (/proc/PID/cgroup, mapped through our mountinfo). */
static int proc_cgroup_dir(pid_t pid, char **ret) {
        _cleanup_free_ char *text = NULL, *mi = NULL, *cg = NULL, *mount = NULL, *root = NULL;
        char f[64];
        int r;

        snprintf(f, sizeof f, "/proc/%d/cgroup", (int) pid);
        r = read_file_at(AT_FDCWD, f, 1 << 16, &text, NULL);
        if (r >= 0)
                r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, &mi, NULL);
        if (r >= 0)
                r = cgroup_parse_proc_cgroup(text, &cg);
        if (r >= 0)
                r = cgroup_find_mount(mi, cg, &mount, &root, NULL);
        if (r < 0)
                return r;
        *ret = cgroup_dir_of(mount, root, cg);
        return *ret ? 0 : -ENOMEM;
}

/* systemd makes a scope only for processes that exist, and the init must start inside its cgroup
 * (clone3 CLONE_INTO_CGROUP: nothing of the container ever runs outside its limits, and its cgroup
 * namespace is rooted there). So a placeholder child of ours is the scope's first process and
 * holds it until the init is in (cgroup_settle). It holds no fd of ours. */
static int placeholder_spawn(pid_t *ret) {
        pid_t parent = getpid(), pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(0);
                (void) close_range(0, ~0U, 0);
                for (;;)
                        pause();
        }
        *ret = pid;
        return 0;
}

static void placeholder_end(pid_t *pid) {
        if (*pid <= 0)
                return;
        (void) kill(*pid, SIGKILL);
        (void) waitpid(*pid, NULL, 0);
        *pid = 0;
}

/* The scope's directory, from where the kernel says the placeholder is (not from the manager). */
static int scope_dir(const CgroupPlan *p, pid_t pid, char **ret) {
        _cleanup_free_ char *dir = NULL;
        const char *base;
        int r = proc_cgroup_dir(pid, &dir);

        if (r < 0)
                return r;
        base = strrchr(dir, '/');
        if (!base || !streq(base + 1, p->unit))
                return -ESRCH;
        *ret = TAKE_PTR(dir);
        return 0;
}

/* The limits need controllers the scope has (systemd enables what it delegates). */
static int scope_check_controllers(const CgroupPlan *p, int fd) {
        unsigned have = 0, missing;
        int c;

        (void) cgroup_read_mask_at(fd, "cgroup.controllers", &have);
        missing = p->needs.controllers & ~have;
        if (!missing)
                return 0;
        c = __builtin_ctz(missing);
        return log_errno(LOG_ERR, -EOPNOTSUPP, "%s: systemd did not delegate the %s controller to %s",
                         p->needs.field[c], cgroup_controller_to_string(c), p->unit);
}

static int scope_start(const CgroupPlan *p, Cgroup *c) {
        _cleanup_free_ char *why = NULL;
        SystemdScope s = { .unit = p->unit, .slice = p->slice, .description = p->description };
        int r, k;

        r = placeholder_spawn(&c->placeholder);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cgroup: fork of the scope's first process: %m");
        s.pid = c->placeholder;
        r = systemd_start_scope(p->systemd, &s, &why);
        log_debug("systemd: StartTransientUnit %s (pid %d) via %s: %d %s", p->unit, (int) s.pid,
                  systemd_bus_address(p->systemd), r, why ? why : "");
        /* no job result in time: where the placeholder is decides */
        k = r >= 0 || r == -ETIMEDOUT ? scope_dir(p, c->placeholder, &c->path) : r;
        if (k >= 0)
                return 0;
        if (r == -EEXIST)
                return log_errno(LOG_ERR, r, "linux.cgroupsPath: systemd unit %s exists already (%s)", p->unit,
                                 why ? why : "UnitExists");
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.cgroupsPath: systemd (%s) cannot start %s in %s: %s",
                                 systemd_bus_address(p->systemd), p->unit, p->slice, why ? why : strerror(-r));
        return log_errno(LOG_ERR, k, "linux.cgroupsPath: systemd started %s, but the process is not in it: %m",
                         p->unit);
}

static int scope_create(const CgroupPlan *p, Cgroup *ret) {
        int r = scope_start(p, ret);

        if (r >= 0) {
                ret->fd = cgroup_open_dir(ret->path);
                if (ret->fd < 0)
                        r = log_errno(LOG_ERR, ret->fd, "cgroup: opening %s: %m", ret->path);
        }
        if (r >= 0)
                r = scope_check_controllers(p, ret->fd);
        if (r < 0) /* the scope empties: systemd removes it */
                cgroup_done(ret);
        return r;
}

/* The limits systemd writes itself when it applies the unit's settings again (daemon-reload):
 * they must be the container's. Written files stay the authority: a failure here is a warning. */
static void scope_tell_limits(SystemdBus *b, const char *unit, const ResourcesSpec *r) {
        bool pids = r && r->pids_limit.set && r->pids_limit.value > 0;
        bool mem = r && r->memory.limit.set && r->memory.limit.value > 0;
        uint64_t tasks = pids ? (uint64_t) r->pids_limit.value : UINT64_MAX;
        uint64_t memory = mem ? (uint64_t) r->memory.limit.value : 0;
        _cleanup_free_ char *why = NULL;
        int k;

        if (tasks == UINT64_MAX && memory == 0)
                return;
        k = systemd_set_limits(b, unit, tasks, memory, &why);
        if (k < 0)
                log_warning("linux.resources: systemd did not take the limits of %s (%s): a daemon-reload may "
                            "reset them",
                            unit, why ? why : strerror(-k));
}

/* An updated limit for SetUnitProperties: 0 leaves it alone, a negative value is infinity. */
static uint64_t scope_limit(const OptInt64 *v) {
        if (!v->set || v->value == 0)
                return 0;
        return v->value < 0 ? UINT64_MAX : (uint64_t) v->value;
}

/* `update` of a container in a systemd scope (state: a cgroup without a top, named *.scope). */
void cgroup_scope_update(const char *path, bool user, const ResourcesSpec *r) {
        _cleanup_free_ char *root = NULL, *why = NULL;
        const char *unit = strrchr(path, '/');
        uint64_t tasks = r ? scope_limit(&r->pids_limit) : 0, memory = r ? scope_limit(&r->memory.limit) : 0;
        size_t n;
        SystemdBus *b = NULL;
        int k;

        unit = unit ? unit + 1 : path;
        n = strlen(unit);
        if (n <= strlen(".scope") || !streq(unit + n - strlen(".scope"), ".scope") || (tasks == 0 && memory == 0))
                return;
        k = systemd_bus_open(user, NULL, &b, &root, &why);
        if (k >= 0) {
                free(why);
                why = NULL;
                k = systemd_set_limits(b, unit, tasks, memory, &why);
        }
        if (k < 0)
                log_warning("update: systemd did not take the new limits of %s (%s): a daemon-reload may reset "
                            "them",
                            unit, why ? why : strerror(-k));
        systemd_bus_free(b);
}

int cgroup_settle(const CgroupPlan *p, Cgroup *c) {
        if (c->placeholder <= 0)
                return 0;
        placeholder_end(&c->placeholder);
        scope_tell_limits(p->systemd, p->unit, p->resources);
        systemd_bus_disconnect(p->systemd);
        return cgroup_resources_apply(c->fd, p->resources, 0);
}

/* ---- create, either way ---- */

int cgroup_create(const CgroupPlan *p, Cgroup *ret) {
        _cleanup_free_ char *created = NULL;
        int r;

        *ret = (Cgroup) CGROUP_NULL;
        if (p->none)
                return 0;
        if (p->systemd)
                return scope_create(p, ret);
        ret->path = strdup(p->path);
        if (!ret->path)
                return -ENOMEM;
        r = p->top ? make_dirs(p, &created) : 0;
        if (r >= 0)
                r = p->needs.controllers ? enable_controllers(p->path, p->needs.controllers, &p->needs, 0) : 0;
        if (r >= 0) {
                ret->fd = open(p->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (ret->fd < 0)
                        r = log_errno(LOG_ERR, -errno, "cgroup: opening %s: %m", p->path);
        }
        if (r >= 0)
                r = cgroup_resources_apply(ret->fd, p->resources, 0);
        if (r >= 0) {
                /* delete removes the leaf even when it existed before us (as runc does) */
                ret->top = created ? TAKE_PTR(created) : strdup(p->path);
                return ret->top ? 0 : -ENOMEM;
        }
        if (created)
                (void) cgroup_remove(p->path, created);
        cgroup_done(ret);
        return r;
}

void cgroup_done(Cgroup *c) {
        placeholder_end(&c->placeholder);
        free(c->path);
        free(c->top);
        safe_close(c->fd);
        *c = (Cgroup) CGROUP_NULL;
}

int cgroup_attach(int cgroup_fd, pid_t pid) {
        char buf[32];

        snprintf(buf, sizeof buf, "%d", (int) pid);
        return write_file_at(cgroup_fd, "cgroup.procs", buf, strlen(buf), O_NOFOLLOW, 0);
}

/* ---- exec, update ---- */

/* A cgroup can take a process unless it enables controllers for children (no internal
 * processes) or is threaded (cgroup.procs is not writable there). */
static bool can_hold_processes(int fd) {
        _cleanup_free_ char *type = NULL;
        unsigned sub = 0;

        (void) cgroup_read_mask_at(fd, "cgroup.subtree_control", &sub);
        if (read_file_at(fd, "cgroup.type", 64, &type, NULL) >= 0 && string_has_prefix(type, "threaded"))
                return false;
        return sub == 0;
}

static int exec_subgroup(const char *path, pid_t init_pid, int *ret_fd) {
        _cleanup_free_ char *init_dir = NULL, *sub = NULL;

        /* runc's choice: the cgroup the init lives in, when it moved itself below ours (a systemd
         * inside the container), else our own sub-cgroup */
        if (init_pid > 0 && proc_cgroup_dir(init_pid, &init_dir) >= 0 && cgroup_path_within(path, init_dir) &&
            !streq(path, init_dir)) {
                *ret_fd = open(init_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (*ret_fd >= 0)
                        return 0;
        }
        sub = cgroup_path_join(path, "urun-exec");
        if (!sub)
                return -ENOMEM;
        if (mkdir(sub, 0755) < 0 && errno != EEXIST)
                return log_errno(LOG_ERR, -errno, "exec: creating the sub-cgroup %s: %m", sub);
        *ret_fd = open(sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (*ret_fd < 0)
                return log_errno(LOG_ERR, -errno, "exec: opening %s: %m", sub);
        return 0;
}

int cgroup_exec_target(const char *path, pid_t init_pid, int *ret_fd) {
        _cleanup_close_ int fd = cgroup_open_dir(path);

        if (fd < 0)
                return log_errno(LOG_ERR, fd, "exec: the container's cgroup %s: %m", path);
        if (can_hold_processes(fd)) {
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return exec_subgroup(path, init_pid, ret_fd);
}

int cgroup_update(const char *path, const ResourcesSpec *r) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        ResourcesSpec res;
        CgroupNeeds needs;
        uint64_t cur;
        int k;

        if (fd < 0)
                return log_errno(LOG_ERR, fd, "update: the container's cgroup %s: %m", path);
        if (!r)
                return 0;
        /* `update --memory-swap` alone: the swap limit is memory+swap over the current memory.max */
        res = *r;
        if (res.memory.swap.set && res.memory.swap.value > 0 && !res.memory.limit.set) {
                _cleanup_free_ char *s = NULL;
                if (read_file_at(fd, "memory.max", 64, &s, NULL) >= 0) {
                        s[strcspn(s, "\n")] = '\0';
                        res.memory.limit = (OptInt64){ true, streq(s, "max") ? -1 : 0 };
                        if (!streq(s, "max") && safe_atou64(s, &cur) >= 0 && cur <= INT64_MAX)
                                res.memory.limit.value = (int64_t) cur;
                }
        }
        k = cgroup_resources_check(&res, &needs);
        if (k >= 0 && needs.controllers)
                k = enable_controllers(path, needs.controllers, &needs, 0);
        if (k >= 0)
                k = cgroup_resources_apply(fd, &res, CGROUP_APPLY_UPDATE);
        return k;
}

/* ---- freeze, kill, wait ---- */

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* Wait for "key want" in cgroup.events: the kernel signals every change with POLLPRI. */
static int wait_events(int dfd, const char *key, int want, int timeout_ms) {
        _cleanup_close_ int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        uint64_t deadline = now_ms() + (uint64_t) timeout_ms;
        size_t klen = strlen(key);

        if (fd < 0)
                return -errno;
        for (;;) {
                char buf[256];
                ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
                const char *p;
                struct pollfd pfd = { .fd = fd, .events = POLLPRI };
                uint64_t t = now_ms();

                if (n < 0)
                        return -errno;
                buf[n] = '\0';
                for (p = buf; p && strncmp(p, key, klen) != 0; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                        ;
                if (p && p[klen] == ' ' && p[klen + 1] - '0' == want)
                        return 0;
                if (t >= deadline)
                        return -ETIMEDOUT;
                if (poll(&pfd, 1, (int) (deadline - t)) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int freeze_at(int dfd, bool frozen) {
        int r = write_file_at(dfd, "cgroup.freeze", frozen ? "1" : "0", 1, O_NOFOLLOW, 0);

        if (r == -ENOENT)
                return -EOPNOTSUPP;
        if (r < 0)
                return r;
        r = wait_events(dfd, "frozen", frozen, FREEZE_TIMEOUT_MS);
        if (r == -ETIMEDOUT && frozen)
                (void) write_file_at(dfd, "cgroup.freeze", "0", 1, O_NOFOLLOW, 0);
        return r;
}

int cgroup_freeze(const char *path, bool frozen) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        return fd < 0 ? fd : freeze_at(fd, frozen);
}

static int is_frozen_at(int dfd, bool *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_file_at(dfd, "cgroup.freeze", 16, &s, NULL);

        if (r == -ENOENT) {
                *ret = false;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = s[0] == '1';
        return 0;
}

int cgroup_is_frozen(const char *path, bool *ret) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        return fd < 0 ? fd : is_frozen_at(fd, ret);
}

int cgroup_wait_empty(const char *path, int timeout_ms) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        return fd < 0 ? fd : wait_events(fd, "populated", 0, timeout_ms);
}

/* ---- pids ---- */

static int append_pids(const char *text, pid_t **a, size_t *n) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                int pid;
                pid_t *b;
                char num[16];
                size_t len = strcspn(l, "\n");

                if (len == 0 || len >= sizeof num)
                        continue;
                memcpy(num, l, len);
                num[len] = '\0';
                if (safe_atoi(num, &pid) < 0 || pid <= 0)
                        continue;
                b = realloc(*a, (*n + 1) * sizeof(pid_t));
                if (!b)
                        return -ENOMEM;
                *a = b;
                (*a)[(*n)++] = pid;
        }
        return 0;
}

/* cgroup.procs of dfd and of every cgroup below it */
static int collect_pids(int dfd, pid_t **a, size_t *n, unsigned depth) {
        _cleanup_free_ char *procs = NULL;
        struct dirent *de;
        DIR *d;
        int r, fd;

        r = read_file_at(dfd, "cgroup.procs", 16 << 20, &procs, NULL);
        if (r >= 0)
                r = append_pids(procs, a, n);
        if (r < 0 || depth >= MAX_DEPTH)
                return r;
        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while (r >= 0 && (de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        r = collect_pids(sub, a, n, depth + 1);
        }
        closedir(d);
        return r;
}

static int cmp_pid(const void *a, const void *b) {
        pid_t x = *(const pid_t *) a, y = *(const pid_t *) b;
        return (x > y) - (x < y);
}

static int pids_at(int dfd, pid_t **ret, size_t *ret_n) {
        pid_t *a = NULL;
        size_t n = 0, m = 0;
        int r = collect_pids(dfd, &a, &n, 0);

        if (r < 0) {
                free(a);
                return r;
        }
        if (n > 0) /* a is NULL for an empty cgroup, and qsort's pointer must not be */
                qsort(a, n, sizeof(pid_t), cmp_pid);
        for (size_t i = 0; i < n; i++)
                if (m == 0 || a[m - 1] != a[i])
                        a[m++] = a[i];
        *ret = a;
        *ret_n = m;
        return 0;
}

int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        return fd < 0 ? fd : pids_at(fd, ret, ret_n);
}

/* Without cgroup.kill (or for another signal): freeze, signal every pid, thaw. Frozen, nothing
 * forks or exits between reading cgroup.procs and kill(), so no pid can be reused meanwhile. */
static int kill_each(int dfd, int sig) {
        _cleanup_free_ pid_t *pids = NULL;
        bool was_frozen = false, froze;
        size_t n = 0;
        int r;

        (void) is_frozen_at(dfd, &was_frozen);
        froze = !was_frozen && freeze_at(dfd, true) >= 0;
        r = pids_at(dfd, &pids, &n);
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (kill(pids[i], sig) < 0 && errno != ESRCH)
                        r = -errno;
        if (froze)
                (void) freeze_at(dfd, false);
        return r;
}

int cgroup_kill(const char *path, int sig) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        int r;

        if (fd < 0)
                return fd;
        if (sig == SIGKILL) {
                r = write_file_at(fd, "cgroup.kill", "1", 1, O_NOFOLLOW, 0);
                if (r != -ENOENT)
                        return r;
        }
        return kill_each(fd, sig);
}

int cgroup_stats(const char *path, CgroupStats *ret) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        return fd < 0 ? fd : cgroup_stats_read(fd, ret);
}

/* ---- remove ---- */

/* rmdir every cgroup below dfd, deepest first (an exec sub-cgroup, or what the container made
 * with a writable cgroup mount). */
static int remove_children(int dfd, unsigned depth) {
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        struct dirent *de;

        if (!d) {
                safe_close(fd);
                return -errno;
        }
        while ((de = readdir(d))) {
                _cleanup_close_ int sub = -EBADF;
                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0 && depth < MAX_DEPTH)
                        (void) remove_children(sub, depth + 1);
                if (unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

static int remove_leaf(const char *path, bool self) {
        _cleanup_close_ int fd = cgroup_open_dir(path);
        int r;

        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return fd;
        r = remove_children(fd, 0);
        if (r < 0 || !self)
                return r;
        if (rmdir(path) == 0 || errno == ENOENT)
                return 0;
        if (errno != EBUSY)
                return -errno;
        /* the last process may still be on its way out: wait for "populated 0", then once more */
        if (wait_events(fd, "populated", 0, REMOVE_WAIT_MS) < 0)
                return -EBUSY;
        return rmdir(path) == 0 || errno == ENOENT ? 0 : -errno;
}

int cgroup_remove(const char *path, const char *top) {
        _cleanup_free_ char *cur = NULL;
        int r;

        /* a systemd scope (no top) is systemd's to remove: it does once the scope is empty */
        r = remove_leaf(path, top != NULL);
        if (r < 0)
                return r;
        if (!top || !cgroup_path_within(top, path))
                return 0;
        cur = strdup(path);
        while (cur && !streq(cur, top)) {
                char *up = cgroup_path_parent(cur);
                free(cur);
                cur = up;
                /* stop at the first one that is not empty: it is shared, or not ours any more */
                if (cur && rmdir(cur) < 0 && errno != ENOENT)
                        break;
        }
        return cur ? 0 : -ENOMEM;
}

int cgroup_destroy(const char *path, const char *top) {
        int r;

        if (!path)
                return 0;
        r = cgroup_kill(path, SIGKILL);
        if (r < 0 && r != -ENOENT)
                return r;
        r = cgroup_wait_empty(path, 5000);
        if (r < 0 && r != -ENOENT)
                return r;
        return cgroup_remove(path, top);
}
