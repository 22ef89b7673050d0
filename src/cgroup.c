/* cgroup v2 discovery and the plan: the caller's cgroup, the cgroup2 mount it is reached through,
 * the delegated node, the container's cgroup path, and whether the limits can be honoured there.
 * No side effects (the operations on the planned cgroup are in cgroup-ops.c). See cgroup.h for
 * the layout rules.
 *
 * Threat model: a rootless caller can only do what the kernel's delegation model lets it do; we
 * check the same permissions up front (faccessat with the effective ids) only to report clearly
 * and to decide "none" before the first side effect. Paths from the config are normalised and
 * may not contain "..", so a relative cgroupsPath stays below the delegated node. */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup-internal.h"
#include "cgroup-systemd.h"
#include "cgroup.h"
#include "log.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#        define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static const char *const controller_names[_CGROUP_CONTROLLER_MAX] = {
        [CGROUP_CPU] = "cpu",   [CGROUP_CPUSET] = "cpuset",   [CGROUP_IO] = "io",     [CGROUP_MEMORY] = "memory",
        [CGROUP_PIDS] = "pids", [CGROUP_HUGETLB] = "hugetlb", [CGROUP_RDMA] = "rdma", [CGROUP_MISC] = "misc",
};

const char *cgroup_controller_to_string(CgroupController c) {
        return c >= 0 && c < _CGROUP_CONTROLLER_MAX ? controller_names[c] : NULL;
}

CgroupController cgroup_controller_from_string(const char *s) {
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                if (streq(controller_names[c], s))
                        return c;
        return _CGROUP_CONTROLLER_INVALID;
}

unsigned cgroup_mask_from_string(const char *s) {
        unsigned mask = 0;

        while (s && *s) {
                size_t n;
                s += strspn(s, " \t\n");
                n = strcspn(s, " \t\n");
                for (int c = 0; c < _CGROUP_CONTROLLER_MAX && n > 0; c++)
                        if (strlen(controller_names[c]) == n && strncmp(controller_names[c], s, n) == 0)
                                mask |= CGROUP_MASK(c);
                s += n;
        }
        return mask;
}

/* "memory pids" for messages (static buffer: single-threaded, used right away) */
static const char *mask_to_string(unsigned mask) {
        static char buf[96];
        size_t n = 0;

        buf[0] = '\0';
        for (int c = 0; c < _CGROUP_CONTROLLER_MAX; c++)
                if (mask & CGROUP_MASK(c))
                        n += (size_t) snprintf(buf + n, sizeof buf - n, "%s%s", n ? " " : "", controller_names[c]);
        return n ? buf : "none";
}

/* ---- paths ---- */

char *cgroup_path_parent(const char *p) {
        const char *s = strrchr(p, '/');
        return s == p ? strdup("/") : s ? strndup(p, (size_t) (s - p)) : NULL;
}

/* prefix is path itself or one of its ancestors */
bool cgroup_path_within(const char *prefix, const char *path) {
        size_t n = strlen(prefix);

        if (streq(prefix, "/"))
                return path[0] == '/';
        return strncmp(prefix, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* Collapse "//", refuse "." and ".." components and anything that cannot be a directory name.
 * The result has no leading or trailing '/'; empty means the path named no component. */
static int path_normalize(const char *in, char **ret) {
        _cleanup_free_ char *out = malloc(strlen(in) + 1);
        size_t n = 0;

        if (!out)
                return -ENOMEM;
        for (const char *s = in; *s;) {
                size_t len = strcspn(s, "/");
                if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.') || len > NAME_MAX)
                        return -EINVAL;
                for (size_t i = 0; i < len; i++)
                        if ((unsigned char) s[i] < 0x20)
                                return -EINVAL;
                if (len > 0) {
                        if (n > 0)
                                out[n++] = '/';
                        memcpy(out + n, s, len);
                        n += len;
                }
                s += len + (s[len] == '/');
        }
        out[n] = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

char *cgroup_path_join(const char *a, const char *b) {
        char *r = NULL;
        if (asprintf(&r, "%s%s%s", a, streq(a, "/") || !*b ? "" : "/", b) < 0)
                return NULL;
        return r;
}

int cgroup_open_dir(const char *path) {
        struct statfs sf;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        /* a path from the state file: act only on cgroup2 directories */
        if (fstatfs(fd, &sf) < 0 || sf.f_type != CGROUP2_SUPER_MAGIC) {
                close(fd);
                return -ENOTDIR;
        }
        return fd;
}

int cgroup_read_mask_at(int dfd, const char *file, unsigned *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_file_at(dfd, file, 4096, &s, NULL);
        if (r < 0)
                return r;
        *ret = cgroup_mask_from_string(s);
        return 0;
}

int cgroup_read_mask(const char *dir, const char *file, unsigned *ret) {
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return cgroup_read_mask_at(fd, file, ret);
}

static bool writable(const char *dir, const char *file) {
        _cleanup_free_ char *p = file ? cgroup_path_join(dir, file) : NULL;
        return faccessat(AT_FDCWD, p ? p : dir, file ? W_OK : W_OK | X_OK, AT_EACCESS) == 0;
}

/* ---- /proc/self/cgroup, mountinfo, systemd names ---- */

int cgroup_parse_proc_cgroup(const char *text, char **ret) {
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t len;
                if (!string_has_prefix(l, "0::/"))
                        continue;
                l += 3;
                len = strcspn(l, "\n");
                /* a cgroup removed under us reads "/path (deleted)" */
                if (len > 10 && strncmp(l + len - 10, " (deleted)", 10) == 0)
                        len -= 10;
                *ret = strndup(l, len);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* mountinfo escapes blanks, tabs, newlines and backslashes as \ooo */
static void unescape_octal(char *s) {
        char *w = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *w++ = (char) (((s[1] - '0') << 6) | ((s[2] - '0') << 3) | (s[3] - '0'));
                        s += 3;
                } else
                        *w++ = *s;
        }
        *w = '\0';
}

typedef struct {
        unsigned major, minor;
        char root[PATH_MAX], mount_point[PATH_MAX], fstype[32];
} MountEntry;

static int parse_mountinfo_line(const char *line, MountEntry *e) {
        const char *sep = strstr(line, " - ");
        char fmt[64];

        snprintf(fmt, sizeof fmt, "%%*u %%*u %%u:%%u %%%ds %%%ds", PATH_MAX - 1, PATH_MAX - 1);
        if (!sep || sscanf(line, fmt, &e->major, &e->minor, e->root, e->mount_point) != 4 ||
            sscanf(sep + 3, "%31s", e->fstype) != 1)
                return -EINVAL;
        unescape_octal(e->root);
        unescape_octal(e->mount_point);
        return 0;
}

/* A mount counts only where it can be reached: something mounted over it (a fresh cgroup2 on
 * /sys/fs/cgroup in a private mount namespace hides the v1 hierarchies below) does not. */
static bool mount_visible(const MountEntry *e) {
        struct stat st;
        return stat(e->mount_point, &st) == 0 && st.st_dev == makedev(e->major, e->minor);
}

int cgroup_find_mount(const char *mountinfo, const char *own, char **ret_mount, char **ret_root, bool *ret_hybrid) {
        _cleanup_free_ MountEntry *e = malloc(sizeof(MountEntry));
        _cleanup_free_ char *mount = NULL, *root = NULL;
        bool hybrid = false;

        if (!e)
                return -ENOMEM;
        for (const char *l = mountinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                _cleanup_free_ char *line = strndup(l, strcspn(l, "\n"));
                if (!line)
                        return -ENOMEM;
                if (parse_mountinfo_line(line, e) < 0)
                        continue;
                if (streq(e->fstype, "cgroup") && mount_visible(e))
                        hybrid = true;
                if (!mount && streq(e->fstype, "cgroup2") && cgroup_path_within(e->root, own) && mount_visible(e)) {
                        mount = strdup(e->mount_point);
                        root = strdup(e->root);
                        if (!mount || !root)
                                return -ENOMEM;
                }
        }
        if (ret_hybrid)
                *ret_hybrid = hybrid;
        if (!mount)
                return -ENOENT;
        *ret_mount = TAKE_PTR(mount);
        if (ret_root)
                *ret_root = TAKE_PTR(root);
        return 0;
}

/* The directory of cgroup cg (a /proc/PID/cgroup path) under a mount of root. */
char *cgroup_dir_of(const char *mount, const char *root, const char *cg) {
        const char *rel = cg + (streq(root, "/") ? 0 : strlen(root));
        return cgroup_path_join(mount, rel[0] == '/' ? rel + 1 : rel);
}

/* "a-b-c.slice" -> "a.slice/a-b.slice/a-b-c.slice" (systemd's slice nesting); "-.slice" -> "". */
static int expand_slice(const char *slice, char **ret) {
        size_t len = strlen(slice), size;
        char *out, *w;

        if (len < 6 || !streq(slice + len - 6, ".slice") || strchr(slice, '/'))
                return -EINVAL;
        if (streq(slice, "-.slice"))
                return (*ret = strdup("")) ? 0 : -ENOMEM;
        len -= 6;
        if (slice[0] == '-' || slice[len - 1] == '-' || strstr(slice, "--"))
                return -EINVAL;
        size = (len + 1) * (len + 8);
        out = w = malloc(size);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i <= len; i++)
                if (i == len || slice[i] == '-')
                        w += snprintf(w, size - (size_t) (w - out), "%s%.*s.slice", w == out ? "" : "/", (int) i,
                                      slice);
        *ret = out;
        return 0;
}

/* "slice:prefix:name" -> the slice ("" means the instance's default) and the unit: as runc, a
 * name ending in .slice is used as is, anything else becomes PREFIX-NAME.scope. */
static int systemd_unit_of(const char *path, bool rootless, char **ret_slice, char **ret_unit) {
        _cleanup_free_ char *slice = NULL, *prefix = NULL, *name = NULL, *dir = NULL;
        const char *c1 = strchr(path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        int r;

        if (!c1 || !c2 || strchr(c2 + 1, ':') || strchr(path, '/'))
                return -EINVAL;
        slice = c1 == path ? strdup(rootless ? "user.slice" : "system.slice") : strndup(path, (size_t) (c1 - path));
        prefix = strndup(c1 + 1, (size_t) (c2 - c1 - 1));
        name = strdup(c2 + 1);
        if (!slice || !prefix || !name)
                return -ENOMEM;
        if (!*name || streq(name, ".") || streq(name, "..") || streq(prefix, "..") || streq(prefix, "."))
                return -EINVAL;
        r = expand_slice(slice, &dir); /* validates the slice name */
        if (r < 0)
                return r;
        if (strlen(name) > 6 && streq(name + strlen(name) - 6, ".slice"))
                *ret_unit = TAKE_PTR(name);
        else if (asprintf(ret_unit, "%s%s%s.scope", prefix, *prefix ? "-" : "", name) < 0)
                return -ENOMEM;
        *ret_slice = TAKE_PTR(slice);
        return 0;
}

int cgroup_systemd_path(const char *path, bool rootless, char **ret) {
        _cleanup_free_ char *slice = NULL, *unit = NULL, *sdir = NULL;
        int r = systemd_unit_of(path, rootless, &slice, &unit);

        if (r >= 0)
                r = expand_slice(slice, &sdir);
        if (r < 0)
                return r;
        return asprintf(ret, "%s%s%s", sdir, *sdir ? "/" : "", unit) < 0 ? -ENOMEM : 0;
}

/* ---- plan ---- */

static bool line_in(const char *list, const char *name) {
        size_t n = strlen(name);

        for (const char *l = list; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, name, n) == 0 && (l[n] == '\n' || l[n] == '\0'))
                        return true;
        return false;
}

/* Usable for us: we can create children and write the files the kernel lists as the delegatee's
 * (/sys/kernel/cgroup/delegate) that we use there: cgroup.procs to move processes in,
 * cgroup.subtree_control to enable controllers. */
static bool node_delegated(const char *dir, const char *delegate_file) {
        static const char *const used[] = { "cgroup.procs", "cgroup.subtree_control" };
        _cleanup_free_ char *list = NULL;

        if (!writable(dir, NULL))
                return false;
        (void) read_file_at(AT_FDCWD, delegate_file ? delegate_file : "/sys/kernel/cgroup/delegate", 4096, &list, NULL);
        for (size_t i = 0; i < ELEMENTSOF(used); i++)
                if ((!list || line_in(list, used[i])) && !writable(dir, used[i]))
                        return false;
        return true;
}

static bool populated_at(int dfd) {
        _cleanup_free_ char *ev = NULL;
        const char *p;

        if (read_file_at(dfd, "cgroup.events", 4096, &ev, NULL) < 0)
                return false;
        p = strstr(ev, "populated ");
        return p && p[10] == '1';
}

static bool populated(const char *dir) {
        _cleanup_close_ int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 && populated_at(fd);
}

/* Processes directly in dir (not below): then no controller can be enabled for its children. */
static bool holds_processes(const char *dir) {
        _cleanup_free_ char *p = cgroup_path_join(dir, "cgroup.procs"), *procs = NULL;
        return p && read_file_at(AT_FDCWD, p, 1 << 16, &procs, NULL) >= 0 && procs[strspn(procs, " \n")] != '\0';
}

static int plan_none(const CgroupPlanOptions *o, CgroupPlan *p, const char *reason, int err, const char *detail) {
        char limits[128];

        snprintf(limits, sizeof limits, "%s%s", p->needs.controllers ? mask_to_string(p->needs.controllers) : "",
                 o->resources && o->resources->n_unified ? (p->needs.controllers ? " unified" : "unified") : "");
        cgroup_plan_done(p);
        if (p->needs.any && !o->rootless)
                return log_errno(LOG_ERR, err, "linux.resources: %s: cannot apply the limits (%s)", detail, limits);
        p->none = true;
        p->none_reason = reason;
        if (p->needs.any)
                log_warning("linux.resources: %s: running without a cgroup, these limits are NOT applied: %s", detail,
                            limits);
        else if (o->cgroups_path)
                log_warning("linux.cgroupsPath '%s': %s: running without a cgroup", o->cgroups_path, detail);
        else
                log_debug("cgroup: none (%s): %s", reason, detail);
        return 0;
}

/* Our cgroup (from /proc/self/cgroup) and the cgroup2 mount it can be reached through. */
static int plan_locate(const CgroupPlanOptions *o, CgroupPlan *p, char **ret_root, bool *ret_hybrid) {
        _cleanup_free_ char *f_cg = NULL, *f_mi = NULL, *cg_text = NULL, *mi = NULL, *own = NULL;
        const char *dir = o->proc_self ? o->proc_self : "/proc/self";
        int r;

        f_cg = cgroup_path_join(dir, "cgroup");
        f_mi = cgroup_path_join(dir, "mountinfo");
        if (!f_cg || !f_mi)
                return -ENOMEM;
        r = read_file_at(AT_FDCWD, f_cg, 1 << 16, &cg_text, NULL);
        if (r >= 0)
                r = read_file_at(AT_FDCWD, f_mi, 16 << 20, &mi, NULL);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cgroup: reading %s: %m", cg_text ? f_mi : f_cg);
        r = cgroup_parse_proc_cgroup(cg_text, &own);
        if (r >= 0)
                r = cgroup_find_mount(mi, own, &p->mount, ret_root, ret_hybrid);
        if (r < 0)
                return r;
        p->own = cgroup_dir_of(p->mount, *ret_root, own);
        return p->own ? 0 : -ENOMEM;
}

/* The sibling of our cgroup (under its parent) when the parent is delegated to us, else below
 * our own cgroup when that one is. */
static int find_base(const CgroupPlanOptions *o, CgroupPlan *p) {
        _cleanup_free_ char *parent = streq(p->own, p->mount) ? NULL : cgroup_path_parent(p->own);

        if (parent && node_delegated(parent, o->delegate_file)) {
                p->base = TAKE_PTR(parent);
                return 0;
        }
        if (!node_delegated(p->own, o->delegate_file))
                return -EPERM;
        p->base = strdup(p->own);
        return p->base ? 0 : -ENOMEM;
}

/* The first directory on the way from `from` (existing) down to path that does not exist. */
static int find_top(const char *from, const char *path, char **ret) {
        size_t n = strlen(from);

        *ret = NULL;
        if (!cgroup_path_within(from, path))
                return -EINVAL;
        for (const char *s = path + n; *s;) {
                _cleanup_free_ char *dir = NULL;
                struct stat st;
                s += *s == '/';
                s += strcspn(s, "/");
                dir = strndup(path, (size_t) (s - path));
                if (!dir)
                        return -ENOMEM;
                if (stat(dir, &st) < 0) {
                        *ret = TAKE_PTR(dir);
                        return 0;
                }
        }
        return 0;
}

static char *common_ancestor(const char *a, const char *b) {
        _cleanup_free_ char *c = strdup(a);

        while (c && !cgroup_path_within(c, b)) {
                char *up = cgroup_path_parent(c);
                free(c);
                c = up;
        }
        return TAKE_PTR(c);
}

/* linux.cgroupsPath in the systemd driver's "slice:prefix:name" form, when no systemd manager
 * makes the unit (why: the reason): the cgroupfs path the unit would get. */
static int plan_systemd_path(const CgroupPlanOptions *o, const char *why, char **ret) {
        int r = cgroup_systemd_path(o->cgroups_path, o->rootless, ret);
        if (r < 0)
                return log_errno(LOG_ERR, r,
                                 "linux.cgroupsPath '%s': expected \"slice:prefix:name\" with --systemd-cgroup",
                                 o->cgroups_path);
        log_warning("linux.cgroupsPath '%s': %s%s%s: using the cgroupfs path '%s'", o->cgroups_path,
                    !o->systemd ? "systemd syntax without --systemd-cgroup"
                    : why       ? "systemd not reachable ("
                                : "a slice is not a unit urun asks systemd for",
                    why && o->systemd ? why : "", why && o->systemd ? ")" : "", *ret);
        return 0;
}

/* Every controller the limits need must be there for the manager to delegate. */
static int plan_systemd_controllers(const CgroupPlan *p, const char *root_dir) {
        unsigned avail = 0, missing;
        int c = 0;

        (void) cgroup_read_mask(root_dir, "cgroup.controllers", &avail);
        missing = p->needs.controllers & ~avail;
        while (missing && !(missing & CGROUP_MASK(c)))
                c++;
        if (missing)
                return log_errno(LOG_ERR, -EOPNOTSUPP,
                                 "%s: the %s controller is not available to the systemd manager of %s (it has: %s)",
                                 p->needs.field[c], controller_names[c], root_dir, mask_to_string(avail));
        return 0;
}

/* Can the manager whose root cgroup is cg (as /proc/self/cgroup would say it) put our processes
 * into its tree? -EHOSTUNREACH with *why when not: we fall back to cgroupfs then. */
static int plan_systemd_reach(const CgroupPlanOptions *o, CgroupPlan *p, const char *root, const char *cg,
                              char **ret_dir, char **why) {
        _cleanup_free_ char *dir = NULL, *common = NULL;
        const char *abs = *cg ? cg : "/"; /* the system instance's root cgroup is "" */

        if (abs[0] != '/' || !cgroup_path_within(root, abs))
                return asprintf(why, "its root cgroup '%s' is not below this cgroup2 mount's root", cg) < 0
                               ? -ENOMEM
                               : -EHOSTUNREACH;
        dir = cgroup_dir_of(p->mount, root, abs);
        common = dir ? common_ancestor(p->own, dir) : NULL;
        if (!common)
                return -ENOMEM;
        /* the kernel's migration rule, for a manager with our uid */
        if (o->rootless && !writable(common, "cgroup.procs"))
                return asprintf(why, "it cannot move processes from %s into %s: %s/cgroup.procs is not writable",
                                p->own, dir, common) < 0
                               ? -ENOMEM
                               : -EHOSTUNREACH;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

/* --systemd-cgroup: plan the scope with the manager. 1: planned (p->systemd set); 0: fall back to
 * cgroupfs (*why says why, NULL when the cgroupsPath names no scope); -errno after a log line. */
static int plan_systemd(const CgroupPlanOptions *o, CgroupPlan *p, const char *root, char **why) {
        _cleanup_free_ char *dflt = NULL, *slice = NULL, *unit = NULL, *cg = NULL, *dir = NULL, *rel = NULL;
        const char *path = o->cgroups_path;
        struct SystemdBus *bus = NULL;
        int r;

        if (!path && asprintf(&dflt, ":urun:%s", o->id) < 0)
                return -ENOMEM;
        r = systemd_unit_of(path ? path : dflt, o->rootless, &slice, &unit);
        if (r == -EINVAL)
                return 0; /* plan_systemd_path says what is wrong */
        if (r < 0 || (strlen(unit) > 6 && streq(unit + strlen(unit) - 6, ".slice")))
                return r;
        r = systemd_bus_open(o->rootless, o->systemd_address, &bus, &cg, why);
        if (r >= 0 && o->min_fd > 0)
                r = systemd_bus_move_fd(bus, o->min_fd);
        if (r >= 0)
                r = plan_systemd_reach(o, p, root, cg, &dir, why);
        if (r >= 0)
                r = cgroup_systemd_path(path ? path : dflt, o->rootless, &rel);
        if (r < 0) {
                systemd_bus_free(bus);
                if (r == -EHOSTUNREACH)
                        return 0;
                return log_errno(LOG_ERR, r, "--systemd-cgroup: %m");
        }
        p->systemd = bus;
        p->unit = TAKE_PTR(unit);
        p->slice = TAKE_PTR(slice);
        p->path = cgroup_path_join(dir, rel);
        p->base = p->path ? cgroup_path_parent(p->path) : NULL;
        if (asprintf(&p->description, "urun container %s", o->id) < 0 || !p->base)
                return -ENOMEM;
        log_debug("cgroup: systemd scope %s in %s, at %s", p->unit, p->slice, p->path);
        return plan_systemd_controllers(p, dir) < 0 ? -EOPNOTSUPP : 1;
}

static int plan_absolute(CgroupPlan *p, const char *root, const char *norm) {
        _cleanup_free_ char *cg = NULL;
        int r;

        if (asprintf(&cg, "/%s", norm) < 0)
                return -ENOMEM;
        if (!cgroup_path_within(root, cg))
                return log_errno(LOG_ERR, -EINVAL, "linux.cgroupsPath '%s': outside the cgroup2 mount %s", cg,
                                 p->mount);
        p->path = cgroup_dir_of(p->mount, root, cg);
        if (!p->path)
                return -ENOMEM;
        r = find_top(p->mount, p->path, &p->top);
        if (r < 0)
                return r;
        p->base = cgroup_path_parent(p->top ? p->top : p->path);
        return p->base ? 0 : -ENOMEM;
}

/* Where a systemd manager would put "slice/unit": the hierarchy root for the system instance,
 * user@UID.service (the nearest among our own ancestors) for a user instance. */
static char *systemd_root(const CgroupPlanOptions *o, const CgroupPlan *p) {
        const char *end = NULL;

        if (!o->rootless)
                return strdup(p->mount);
        for (const char *s = p->own + strlen(p->mount); (s = strstr(s, "/user@")); s++) {
                size_t n = strspn(s + 6, "0123456789");
                const char *e = s + 6 + n + 8;
                if (n > 0 && strncmp(s + 6 + n, ".service", 8) == 0 && (*e == '/' || *e == '\0'))
                        end = e;
        }
        return end ? strndup(p->own, (size_t) (end - p->own)) : NULL;
}

/* Where the container's cgroup goes: p->base, p->path, p->top (or p->systemd). -EPERM: nothing
 * delegated. */
static int plan_target(const CgroupPlanOptions *o, CgroupPlan *p, const char *root) {
        _cleanup_free_ char *mapped = NULL, *norm = NULL, *dflt = NULL, *why = NULL;
        const char *want = o->cgroups_path;
        int r;

        if (o->systemd && (!want || !strchr(want, '/'))) {
                r = plan_systemd(o, p, root, &why);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (!want && why)
                        log_warning("--systemd-cgroup: systemd not reachable (%s): using cgroupfs", why);
        }
        if (want && !strchr(want, '/') && (o->systemd || strchr(want, ':'))) {
                r = plan_systemd_path(o, why, &mapped);
                if (r < 0)
                        return r;
                want = mapped;
        }
        if (!want && asprintf(&dflt, "urun-%s", o->id) < 0)
                return -ENOMEM;
        r = path_normalize(want ? want : dflt, &norm);
        if (r == -EINVAL || (r >= 0 && !*norm))
                return log_errno(
                        LOG_ERR, -EINVAL,
                        "linux.cgroupsPath '%s': not a cgroup path below the delegated one (empty, '.' or '..')",
                        want ? want : dflt);
        if (r < 0)
                return r;
        if (want && want[0] == '/')
                return plan_absolute(p, root, norm);
        if (mapped)
                p->base = systemd_root(o, p);
        if (!p->base && (r = find_base(o, p)) < 0)
                return r;
        p->path = cgroup_path_join(p->base, norm);
        if (!p->path)
                return -ENOMEM;
        return find_top(p->base, p->path, &p->top);
}

/* Write access as the kernel will check it at create time; -EPERM with *detail when missing. */
static int plan_permissions(CgroupPlan *p, const char *node, char *detail, size_t size) {
        _cleanup_free_ char *common = common_ancestor(p->own, p->path);

        if (!common)
                return -ENOMEM;
        if (p->top ? !writable(node, NULL) : !writable(p->path, "cgroup.procs")) {
                snprintf(detail, size, "no cgroup delegated to uid %u: %s is not writable (own cgroup %s)",
                         (unsigned) geteuid(), p->top ? node : p->path, p->own);
                return -EPERM;
        }
        /* the kernel's migration rule: write access to cgroup.procs of the common ancestor */
        if (!writable(common, "cgroup.procs")) {
                snprintf(detail, size, "cannot move processes from %s to %s: %s/cgroup.procs is not writable", p->own,
                         p->path, common);
                return -EPERM;
        }
        return 0;
}

/* Every controller the limits need must be offered by node (the parent of the first directory
 * we create) and be enableable there. */
static int plan_controllers(const CgroupPlan *p, const char *node) {
        unsigned need = p->needs.controllers, avail = 0, sub = 0, missing;
        _cleanup_free_ char *parent = cgroup_path_parent(node);
        int c = 0;

        if (!need)
                return 0;
        (void) cgroup_read_mask(node, "cgroup.controllers", &avail);
        (void) cgroup_read_mask(node, "cgroup.subtree_control", &sub);
        missing = need & ~avail;
        while (missing && !(missing & CGROUP_MASK(c)))
                c++;
        if (missing)
                return log_errno(LOG_ERR, -EOPNOTSUPP,
                                 "%s: the %s controller is not delegated to %s (it has: %s); as root: "
                                 "echo +%s > %s/cgroup.subtree_control, or with systemd: Delegate=%s",
                                 p->needs.field[c], controller_names[c], node, mask_to_string(avail),
                                 controller_names[c], parent ? parent : "..", controller_names[c]);
        if (!(need & ~sub))
                return 0;
        if (!writable(node, "cgroup.subtree_control"))
                return log_errno(LOG_ERR, -EACCES,
                                 "linux.resources: cannot enable %s in %s/cgroup.subtree_control: not writable",
                                 mask_to_string(need & ~sub), node);
        /* no internal processes: controllers for children only in a cgroup without processes */
        if (!streq(node, p->mount) && holds_processes(node))
                return log_errno(LOG_ERR, -EBUSY,
                                 "linux.resources: cannot enable %s below %s: it holds processes (run urun "
                                 "from a leaf cgroup below it, e.g. %s/init.scope)",
                                 mask_to_string(need & ~sub), node, node);
        return 0;
}

static int plan_check(const CgroupPlanOptions *o, CgroupPlan *p, char *detail, size_t size) {
        _cleanup_free_ char *node = cgroup_path_parent(p->top ? p->top : p->path);
        int r;

        if (!node)
                return -ENOMEM;
        r = plan_permissions(p, node, detail, size);
        if (r < 0)
                return r;
        if (!p->top && populated(p->path))
                return log_errno(LOG_ERR, -EBUSY, "linux.cgroupsPath '%s': %s already holds processes",
                                 o->cgroups_path ? o->cgroups_path : p->path, p->path);
        return plan_controllers(p, node);
}

int cgroup_plan(const CgroupPlanOptions *o, CgroupPlan *ret) {
        _cleanup_free_ char *root = NULL;
        char detail[PATH_MAX + 256] = "";
        bool hybrid = false;
        int r;

        *ret = (CgroupPlan){ .resources = o->resources };
        r = cgroup_resources_check(o->resources, &ret->needs);
        if (r < 0)
                return r;
        r = plan_locate(o, ret, &root, &hybrid);
        if (r == -ENOENT)
                return plan_none(o, ret, "no cgroup2", -EOPNOTSUPP, "cgroup v2 is not mounted here");
        if (r < 0) {
                cgroup_plan_done(ret);
                return r;
        }
        if (hybrid)
                return plan_none(o, ret, "hybrid cgroup v1/v2 host", -EOPNOTSUPP,
                                 "cgroup v1 hierarchies are in use here and urun supports cgroup v2 only");
        r = plan_target(o, ret, root);
        if (r == -EPERM)
                snprintf(detail, sizeof detail,
                         "no cgroup delegated to uid %u (own cgroup %s, its parent not writable either)",
                         (unsigned) geteuid(), ret->own);
        else if (r >= 0 && !ret->systemd)
                r = plan_check(o, ret, detail, sizeof detail);
        if (r == -EPERM)
                return plan_none(o, ret, "not delegated", -EACCES, detail);
        if (r < 0)
                cgroup_plan_done(ret);
        return r;
}

void cgroup_plan_done(CgroupPlan *p) {
        free(p->mount);
        free(p->own);
        free(p->base);
        free(p->path);
        free(p->top);
        free(p->unit);
        free(p->slice);
        free(p->description);
        p->mount = p->own = p->base = p->path = p->top = p->unit = p->slice = p->description = NULL;
        p->systemd = systemd_bus_free(p->systemd);
}
