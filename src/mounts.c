/* mounts[] of config.json, in order, onto file descriptors resolved inside the rootfs. */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "copyup.h"
#include "log.h"
#include "mount-idmap.h"
#include "mount-options.h"
#include "overlay.h"
#include "rootfs-internal.h"
#include "util.h"

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000
#endif

/* Files under /proc that lxcfs-style bind mounts may cover (runc's list, CVE-2019-16884). */
static const char *const proc_mount_allowlist[] = {
        "/proc/cpuinfo", "/proc/diskstats", "/proc/meminfo", "/proc/stat",       "/proc/swaps",
        "/proc/uptime",  "/proc/loadavg",   "/proc/slabinfo", "/proc/net/dev",    "/proc/sys/kernel/ns_last_pid",
};

enum mount_kind { KIND_BIND, KIND_PROC, KIND_SYSFS, KIND_DEVPTS, KIND_MQUEUE, KIND_CGROUP, KIND_TMPFS, KIND_OTHER };

typedef struct {
        const RootfsOptions *o;
        size_t i;
        const MountSpec *m;
        MountOptions mo;
        MountTarget t;
} MountCtx;

#define MNT_FMT "mounts[%zu] (%s): "
#define MNT_ARGS(c) (c)->i, (c)->m->destination

static bool mount_api_disabled(void) {
        const char *e = getenv("URUN_TEST_NO_MOUNT_API");

        return e && streq(e, "1");
}

const char *fd_proc_path(int fd, char buf[static PROC_FD_PATH_MAX]) {
        snprintf(buf, PROC_FD_PATH_MAX, "/proc/self/fd/%d", fd);
        return buf;
}

void mount_target_done(MountTarget *t) {
        t->fd = safe_close(t->fd);
}

char *path_normalize(const char *p) {
        size_t n = strlen(p), len = 0;
        char *out = malloc(n + 2);

        if (!out)
                return NULL;
        while (*p) {
                size_t l;

                while (*p == '/')
                        p++;
                l = strcspn(p, "/");
                if (l == 0 || (l == 1 && p[0] == '.')) {
                        p += l;
                        continue;
                }
                if (l == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 0 && out[--len] != '/')
                                ;
                        p += l;
                        continue;
                }
                out[len++] = '/';
                memcpy(out + len, p, l);
                len += l;
                p += l;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
        return out;
}

static int target_reopen(MountTarget *t) {
        int fd, r;

        /* The old fd still names the covered directory: find the new mount by path, in the root. */
        r = root_resolve(t->root_fd, t->path, 0, &fd);
        if (r < 0)
                return r;
        safe_close(t->fd);
        t->fd = fd;
        return 0;
}

int mnt_move_tree(int tree_fd, MountTarget *t) {
        if (move_mount(tree_fd, "", t->fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return target_reopen(t);
}

static int setattr_legacy(int fd, uint64_t attr_set, uint64_t attr_clr) {
        static const struct {
                unsigned long st, ms;
                uint64_t attr;
        } map[] = {
                { ST_RDONLY, MS_RDONLY, MOUNT_ATTR_RDONLY },
                { ST_NOSUID, MS_NOSUID, MOUNT_ATTR_NOSUID },
                { ST_NODEV, MS_NODEV, MOUNT_ATTR_NODEV },
                { ST_NOEXEC, MS_NOEXEC, MOUNT_ATTR_NOEXEC },
                { ST_NOATIME, MS_NOATIME, MOUNT_ATTR_NOATIME },
                { ST_NODIRATIME, MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },
                { ST_RELATIME, MS_RELATIME, 0 },
                { ST_NOSYMFOLLOW, MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
        };
        char buf[PROC_FD_PATH_MAX];
        unsigned long flags = 0;
        struct statvfs sv;

        /* MS_REMOUNT replaces all per-mount flags; in a user namespace the kernel refuses to clear
         * the ones locked by the mount's origin (EPERM), so start from what the mount has now. */
        if (fstatvfs(fd, &sv) < 0)
                return -errno;
        for (size_t i = 0; i < ELEMENTSOF(map); i++) {
                if ((sv.f_flag & map[i].st) && !(map[i].attr & attr_clr))
                        flags |= map[i].ms;
                if (map[i].attr & attr_set)
                        flags |= map[i].ms;
        }
        if (attr_clr & MOUNT_ATTR__ATIME) {
                flags &= ~(MS_NOATIME | MS_RELATIME | MS_STRICTATIME);
                if ((attr_set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_NOATIME)
                        flags |= MS_NOATIME;
                else if ((attr_set & MOUNT_ATTR__ATIME) == MOUNT_ATTR_STRICTATIME)
                        flags |= MS_STRICTATIME;
                else
                        flags |= MS_RELATIME;
        }
        if (mount(NULL, fd_proc_path(fd, buf), NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
                return -errno;
        return 0;
}

int mnt_setattr_fd(int fd, uint64_t attr_set, uint64_t attr_clr, bool recursive) {
        struct mount_attr a = { .attr_set = attr_set, .attr_clr = attr_clr };

        if (attr_set == 0 && attr_clr == 0)
                return 0;
        if (!mount_api_disabled()) {
                if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a)) >= 0)
                        return 0;
                if (errno != ENOSYS)
                        return -errno;
        }
        if (recursive)
                return -EOPNOTSUPP; /* recursive attributes need mount_setattr(2) (Linux 5.12) */
        return setattr_legacy(fd, attr_set, attr_clr);
}

int mnt_propagation_fd(int fd, unsigned long propagation) {
        struct mount_attr a = { .propagation = propagation & ~(unsigned long) MS_REC };
        char buf[PROC_FD_PATH_MAX];

        if (propagation == 0)
                return 0;
        if (!mount_api_disabled()) {
                if (mount_setattr(fd, "", AT_EMPTY_PATH | (propagation & MS_REC ? AT_RECURSIVE : 0), &a,
                                  sizeof(a)) >= 0)
                        return 0;
                if (errno != ENOSYS)
                        return -errno;
        }
        if (mount(NULL, fd_proc_path(fd, buf), NULL, propagation, NULL) < 0)
                return -errno;
        return 0;
}

int mnt_bind_fd(int src_fd, MountTarget *t, bool recursive, uint64_t attr_set, uint64_t attr_clr) {
        char sbuf[PROC_FD_PATH_MAX], tbuf[PROC_FD_PATH_MAX];
        struct mount_attr a = { .attr_set = attr_set, .attr_clr = attr_clr };
        int r;

        if (!mount_api_disabled()) {
                _cleanup_close_ int tree = open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH |
                                                                         (recursive ? AT_RECURSIVE : 0));
                if (tree >= 0) {
                        /* Still detached: nobody sees the mount before it is read-only. */
                        if ((attr_set || attr_clr) && mount_setattr(tree, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
                                return -errno;
                        return mnt_move_tree(tree, t);
                }
                if (errno != ENOSYS)
                        return -errno;
        }
        if (mount(fd_proc_path(src_fd, sbuf), fd_proc_path(t->fd, tbuf), NULL, MS_BIND | (recursive ? MS_REC : 0),
                  NULL) < 0)
                return -errno;
        r = target_reopen(t);
        if (r < 0)
                return r;
        return mnt_setattr_fd(t->fd, attr_set, attr_clr, false);
}

int mnt_fs(MountTarget *t, const char *source, const char *type, unsigned long flags, const char *data) {
        char buf[PROC_FD_PATH_MAX];

        if (mount(source, fd_proc_path(t->fd, buf), type, flags, data) < 0)
                return -errno;
        return target_reopen(t);
}

static enum mount_kind mount_kind(const MountSpec *m, const MountOptions *mo) {
        const char *type = m->type;

        if (mo->bind || !type || streq(type, "bind") || streq(type, "rbind"))
                return KIND_BIND;
        if (streq(type, "proc"))
                return KIND_PROC;
        if (streq(type, "sysfs"))
                return KIND_SYSFS;
        if (streq(type, "devpts"))
                return KIND_DEVPTS;
        if (streq(type, "mqueue"))
                return KIND_MQUEUE;
        if (streq(type, "cgroup") || streq(type, "cgroup2"))
                return KIND_CGROUP;
        if (streq(type, "tmpfs"))
                return KIND_TMPFS;
        return KIND_OTHER;
}

/* Flags for mount(2) of a new filesystem: propagation is applied afterwards. */
static unsigned long fs_flags(const MountCtx *c) {
        return c->mo.set_flags & ~(unsigned long) (MS_BIND | MS_REC);
}

static int target_open(MountCtx *c, bool file) {
        int r = root_resolve(c->t.root_fd, c->m->destination, file ? ROOT_CREATE_FILE : ROOT_CREATE_DIR, &c->t.fd);

        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "cannot create the mount point: %m", MNT_ARGS(c));
        return 0;
}

static bool destination_is(const MountCtx *c, const char *path) {
        _cleanup_free_ char *norm = path_normalize(c->m->destination);

        return norm && streq(norm, path);
}

/* proc and sysfs go on real directories of the rootfs: a symlink there (/proc -> /tmp/fake) would
 * put the kernel's view somewhere the container chose, and leave /proc to the image (runc's
 * CVE-2019-19921 class). Missing ones are created. */
static int target_open_real_dir(MountCtx *c) {
        struct stat st;
        int r = root_resolve(c->t.root_fd, c->m->destination, ROOT_CREATE_DIR | ROOT_NO_SYMLINKS, &c->t.fd);

        if (r == -ELOOP)
                return log_errno(LOG_ERR, r, MNT_FMT "'%s' must be a real directory in the rootfs, not a symlink",
                                 MNT_ARGS(c), c->m->destination);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "cannot create the mount point: %m", MNT_ARGS(c));
        if (fstat(c->t.fd, &st) < 0)
                return log_errno(LOG_ERR, -errno, MNT_FMT "fstat: %m", MNT_ARGS(c));
        if (!S_ISDIR(st.st_mode))
                return log_errno(LOG_ERR, -ENOTDIR, MNT_FMT "'%s' must be a real directory in the rootfs",
                                 MNT_ARGS(c), c->m->destination);
        return 0;
}

/* A mount on a procfs file would let the container hide what the kernel reports (CVE-2019-16884):
 * decided on the resolved target, so a symlink into /proc cannot sneak past the lexical check. */
static int check_proc_target(MountCtx *c) {
        _cleanup_free_ char *norm = path_normalize(c->m->destination);
        struct statfs sfs;

        if (!norm)
                return log_errno(LOG_ERR, -ENOMEM, MNT_FMT "%m", MNT_ARGS(c));
        if (fstatfs(c->t.fd, &sfs) < 0)
                return log_errno(LOG_ERR, -errno, MNT_FMT "fstatfs: %m", MNT_ARGS(c));
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(proc_mount_allowlist); i++)
                if (streq(norm, proc_mount_allowlist[i]))
                        return 0;
        return log_errno(LOG_ERR, -EPERM, MNT_FMT "refusing to mount over a procfs path: %m", MNT_ARGS(c));
}

/* The mount point, a file or a directory like what goes there (fd), and not over a procfs file. */
static int target_open_like(MountCtx *c, int fd) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return log_errno(LOG_ERR, -errno, MNT_FMT "bind source '%s': %m", MNT_ARGS(c), c->m->source);
        r = target_open(c, !S_ISDIR(st.st_mode));
        if (r < 0)
                return r;
        return check_proc_target(c);
}

/* The parent prepared the idmapped tree before clone (mount-idmap.h): attach it in place of a bind
 * of the source, then add the options' flags as for any bind. Never a plain bind instead. */
static int mount_bind_idmapped(MountCtx *c, uint64_t attr, uint64_t clr) {
        int tree = c->o->idmap_fds ? c->o->idmap_fds[c->i] : -EBADF;
        int r;

        if (tree < 0)
                return log_errno(LOG_ERR, -EBADF, MNT_FMT "no idmapped mount was prepared: %m", MNT_ARGS(c));
        r = target_open_like(c, tree);
        if (r < 0)
                return r;
        r = mnt_move_tree(tree, &c->t);
        if (r >= 0)
                r = mnt_setattr_fd(c->t.fd, attr, clr, false);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "attach the idmapped mount of '%s': %m", MNT_ARGS(c),
                                 c->m->source);
        return 0;
}

static int mount_bind(MountCtx *c) {
        _cleanup_close_ int src_fd = -EBADF;
        uint64_t clr, attr;
        int r;

        /* A bind inherits the source's flags; only what is asked for is added (runc semantics). */
        attr = mount_flags_to_attr(c->mo.set_flags, &clr);
        if (mount_idmap_requested(c->m, &c->mo))
                return mount_bind_idmapped(c, attr, clr);
        src_fd = openat(AT_FDCWD, c->m->source, O_PATH | O_CLOEXEC);
        if (src_fd < 0)
                return log_errno(LOG_ERR, -errno, MNT_FMT "bind source '%s': %m", MNT_ARGS(c), c->m->source);
        r = target_open_like(c, src_fd);
        if (r < 0)
                return r;
        r = mnt_bind_fd(src_fd, &c->t, c->mo.recursive || !c->mo.bind, attr, clr);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "bind mount '%s': %m", MNT_ARGS(c), c->m->source);
        return 0;
}

/* Bind a host directory instead of a filesystem the user namespace may not mount. */
static int mount_host_fallback(MountCtx *c, const char *host_path, bool read_only) {
        _cleanup_close_ int src_fd = open(host_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t clr, attr = mount_flags_to_attr(c->mo.set_flags, &clr);
        int r;

        if (src_fd < 0)
                return -errno;
        if (read_only)
                attr |= MOUNT_ATTR_RDONLY;
        r = mnt_bind_fd(src_fd, &c->t, true, attr, clr);
        if (r >= 0 && read_only) {
                r = mnt_setattr_fd(c->t.fd, MOUNT_ATTR_RDONLY, 0, true);
                if (r == -EOPNOTSUPP)
                        r = 0; /* no mount_setattr(2): only the top is read-only, as with runc */
        }
        return r;
}

static int mount_sysfs(MountCtx *c) {
        int r = -EPERM;

        if (c->o->owns_netns) {
                r = mnt_fs(&c->t, "sysfs", "sysfs", fs_flags(c), c->mo.data);
                if (r != -EPERM)
                        goto out;
        }
        /* Without our own network namespace the kernel refuses sysfs; crun binds the host's. */
        log_debug(MNT_FMT "sysfs not mountable, binding the host /sys read-only", MNT_ARGS(c));
        r = mount_host_fallback(c, "/sys", true);
out:
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "mount sysfs on '%s': %m", MNT_ARGS(c), c->m->destination);
        return 0;
}

static const char *proc_hint(const MountCtx *c) {
        if (c->o->owns_pidns)
                return "";
        if (c->o->spec->namespaces[NS_PID].path)
                return " (the joined pid namespace belongs to another user namespace: join that one too)";
        return " (needs a new pid namespace)";
}

/* Never a bind of the host's /proc: a fresh procfs of the container's pid namespace, or an error. */
static int mount_proc(MountCtx *c) {
        int r = mnt_fs(&c->t, "proc", "proc", fs_flags(c), c->mo.data);

        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "mount proc on '%s'%s: %m", MNT_ARGS(c), c->m->destination,
                                 proc_hint(c));
        return 0;
}

static bool gid_mapped(gid_t gid) {
        _cleanup_free_ char *map = NULL;

        if (read_file_at(AT_FDCWD, "/proc/self/gid_map", 64 * 1024, &map, NULL) < 0)
                return true; /* cannot tell: let the kernel decide */
        for (const char *line = map; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                unsigned long inside, outside, count;

                if (sscanf(line, "%lu %lu %lu", &inside, &outside, &count) == 3 && gid >= inside &&
                    gid - inside < count)
                        return true;
        }
        return false;
}

/* data without any "gid=..." word; NULL data stays NULL. */
static int data_drop_gid(const char *data, char **ret) {
        _cleanup_free_ char *out = NULL;
        size_t len = 0;

        if (!data) {
                *ret = NULL;
                return 0;
        }
        out = malloc(strlen(data) + 1);
        if (!out)
                return -ENOMEM;
        for (const char *p = data; *p;) {
                size_t l = strcspn(p, ",");

                if (!(l >= 4 && strncmp(p, "gid=", 4) == 0)) {
                        if (len > 0)
                                out[len++] = ',';
                        memcpy(out + len, p, l);
                        len += l;
                }
                p += l;
                if (*p == ',')
                        p++;
        }
        out[len] = '\0';
        *ret = len > 0 ? TAKE_PTR(out) : NULL;
        return 0;
}

static int mount_devpts(MountCtx *c) {
        _cleanup_free_ char *nogid = NULL;
        const char *data = c->mo.data;
        int r;

        r = data_drop_gid(data, &nogid);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "%m", MNT_ARGS(c));
        /* gid=5 (tty) is usually unmapped rootless: the kernel would say EINVAL. */
        if (c->o->rootless && data && strstr(data, "gid=") && !gid_mapped(5))
                data = nogid;
        r = mnt_fs(&c->t, "devpts", "devpts", fs_flags(c), data);
        if (r == -EINVAL && data != nogid && data && strstr(data, "gid=")) {
                log_debug(MNT_FMT "devpts refused gid=, retrying without it", MNT_ARGS(c));
                r = mnt_fs(&c->t, "devpts", "devpts", fs_flags(c), nogid);
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "mount devpts on '%s': %m", MNT_ARGS(c), c->m->destination);
        return 0;
}

/* Returns 1 when skipped. */
static int mount_mqueue(MountCtx *c) {
        int r = mnt_fs(&c->t, "mqueue", "mqueue", fs_flags(c), c->mo.data);

        if (r == 0)
                return 0;
        if (r != -EPERM)
                return log_errno(LOG_ERR, r, MNT_FMT "mount mqueue on '%s': %m", MNT_ARGS(c), c->m->destination);
        r = mount_host_fallback(c, "/dev/mqueue", false);
        if (r == -ENOENT) {
                log_warning(MNT_FMT "mqueue cannot be mounted here and the host has no /dev/mqueue: skipped",
                            MNT_ARGS(c));
                return 1;
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "bind the host /dev/mqueue: %m", MNT_ARGS(c));
        return 0;
}

static const char *host_cgroup_path(const char *type) {
        struct statfs sfs;

        if (streq(type, "cgroup2") && statfs("/sys/fs/cgroup", &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC &&
            statfs("/sys/fs/cgroup/unified", &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC)
                return "/sys/fs/cgroup/unified"; /* hybrid hierarchy */
        return "/sys/fs/cgroup";
}

/* Returns 1 when skipped. */
static int mount_cgroup(MountCtx *c) {
        int r = mnt_fs(&c->t, c->m->type, c->m->type, fs_flags(c), c->mo.data);
        bool own;

        if (r == 0)
                return 0;
        log_debug(MNT_FMT "mount %s: %s; binding the host's hierarchy", MNT_ARGS(c), c->m->type, strerror(-r));
        /* as runc: with a cgroup namespace, the container's own cgroup stands in for a fresh mount
         * (EBUSY: the target is the host's cgroup2 mount, bound in with /sys) */
        own = c->o->owns_cgroupns && c->o->cgroup_path;
        /* read-write only when the config says so and it is the container's own cgroup: never a
         * writable view of the host's hierarchy */
        r = mount_host_fallback(c, own ? c->o->cgroup_path : host_cgroup_path(c->m->type),
                                (c->mo.set_flags & MS_RDONLY) || !own);
        if (r == 0)
                return 0;
        if (c->o->rootless) {
                /* Like crun: a rootless container does not fail over its cgroup view. */
                log_debug(MNT_FMT "cgroup mount skipped: %s", MNT_ARGS(c), strerror(-r));
                return 1;
        }
        return log_errno(LOG_ERR, r, MNT_FMT "mount %s on '%s': %m", MNT_ARGS(c), c->m->type, c->m->destination);
}

/* tmpcopyup: the directory the tmpfs covers is opened first (mount(2) does not change what an fd
 * names), and the tmpfs is filled from it while still writable; "ro" is applied afterwards. */
/* tmpcopyup: what the image had under the target (covered_fd, opened before the mount) is copied
 * into the new tmpfs, which was mounted writable and gets its "ro" only afterwards. */
static int copy_up(MountCtx *c, int covered_fd, bool read_only) {
        CopyupError err;
        int r = copyup_tree(covered_fd, c->t.fd, c->m->destination, c->mo.data, &err);

        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "tmpcopyup '%s': %s: %m", MNT_ARGS(c), err.path, err.step);
        if (read_only) {
                r = mnt_setattr_fd(c->t.fd, MOUNT_ATTR_RDONLY, 0, false);
                if (r < 0)
                        return log_errno(LOG_ERR, r, MNT_FMT "tmpcopyup: make the tmpfs read-only: %m", MNT_ARGS(c));
        }
        return 0;
}

static int mount_other(MountCtx *c) {
        const char *source = c->m->source ? c->m->source : c->m->type;
        unsigned long flags = fs_flags(c);
        _cleanup_close_ int covered_fd = -EBADF;
        _cleanup_free_ char *ovl_data = NULL;
        int r;

        if (c->mo.tmpcopyup) {
                covered_fd = openat(c->t.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (covered_fd < 0)
                        return log_errno(LOG_ERR, -errno, MNT_FMT "tmpcopyup '%s': open: %m", MNT_ARGS(c),
                                         c->m->destination);
                flags &= ~(unsigned long) MS_RDONLY;
        }
        /* overlayfs outside the initial user namespace needs user.* xattrs (overlay.c) */
        if (streq(c->m->type, "overlay")) {
                r = overlay_mount_data(c->mo.data, &ovl_data);
                if (r < 0)
                        return log_errno(LOG_ERR, r, MNT_FMT "%m", MNT_ARGS(c));
        }
        r = mnt_fs(&c->t, source, c->m->type, flags, ovl_data ? ovl_data : c->mo.data);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "mount %s on '%s': %m", MNT_ARGS(c), c->m->type,
                                 c->m->destination);
        return covered_fd >= 0 ? copy_up(c, covered_fd, flags != fs_flags(c)) : 0;
}

/* A read-only bind on /sys (of the host's /sys) is read-only all the way down (as crun's): its submounts
 * are the host's cgroup hierarchies, where the files of the user's own cgroups (the container's
 * among them) belong to the container's root; only a cgroup mount of the config's own may make
 * /sys/fs/cgroup writable. Elsewhere "ro" on an rbind is the top only, as runc. */
static int sys_bind_read_only(MountCtx *c) {
        int r;

        if (!(c->mo.set_flags & MS_RDONLY) || !c->mo.recursive)
                return 0;
        r = mnt_setattr_fd(c->t.fd, MOUNT_ATTR_RDONLY, 0, true);
        if (r == -EOPNOTSUPP)
                return 0; /* no mount_setattr(2): the top only, as with runc */
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "make the bound /sys read-only below too: %m", MNT_ARGS(c));
        return 0;
}

static int mount_dispatch(MountCtx *c, enum mount_kind kind) {
        int r;

        if (kind == KIND_BIND) {
                bool sys = destination_is(c, "/sys");

                /* rootless configs bind the host's /sys: the same rule for its destination */
                r = sys || destination_is(c, "/proc") ? target_open_real_dir(c) : 0;
                if (r < 0)
                        return r;
                mount_target_done(&c->t);
                r = mount_bind(c);
                return r < 0 || !sys ? r : sys_bind_read_only(c);
        }
        r = kind == KIND_PROC || kind == KIND_SYSFS ? target_open_real_dir(c) : target_open(c, false);
        if (r < 0)
                return r;
        if (kind != KIND_PROC) {
                r = check_proc_target(c);
                if (r < 0)
                        return r;
        }
        switch (kind) {
        case KIND_PROC:
                return mount_proc(c);
        case KIND_SYSFS:
                return mount_sysfs(c);
        case KIND_DEVPTS:
                return mount_devpts(c);
        case KIND_MQUEUE:
                return mount_mqueue(c);
        case KIND_CGROUP:
                return mount_cgroup(c);
        default:
                return mount_other(c);
        }
}

static void mount_ctx_done(MountCtx *c) {
        mount_target_done(&c->t);
        mount_options_done(&c->mo);
}

/* linux.mountLabel (only accepted when SELinux is enabled, procattrs.c): the filesystems the
 * container mounts itself get context="LABEL", as with runc; proc, sysfs, cgroupfs, mqueue and
 * binds keep their own labels. */
static int label_data(MountCtx *c, enum mount_kind kind) {
        char *labelled;
        int r;

        if (!c->o->spec->mount_label || (kind != KIND_TMPFS && kind != KIND_DEVPTS && kind != KIND_OTHER))
                return 0;
        r = mount_data_with_label(c->mo.data, c->o->spec->mount_label, &labelled);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.mountLabel: '%s' cannot be a mount option: %m",
                                 c->o->spec->mount_label);
        free(c->mo.data);
        c->mo.data = labelled;
        return 0;
}

static int mount_one(const RootfsOptions *o, int root_fd, size_t i, bool *dev_tmpfs) {
        _cleanup_(mount_ctx_done) MountCtx c = {
                .o = o, .i = i, .m = &o->spec->mounts[i],
                .t = { .root_fd = root_fd, .path = o->spec->mounts[i].destination, .fd = -EBADF },
        };
        enum mount_kind kind;
        int r;

        r = mount_options_parse(c.m->options, &c.mo);
        if (r < 0)
                return log_errno(LOG_ERR, r, MNT_FMT "options: %m", MNT_ARGS(&c));
        kind = mount_kind(c.m, &c.mo);
        r = label_data(&c, kind);
        if (r >= 0)
                r = mount_dispatch(&c, kind);
        if (r == 0) {
                /* 1. propagation, 2. recursive attributes: both on the new mount itself. */
                r = mnt_propagation_fd(c.t.fd, c.mo.propagation);
                if (r < 0)
                        log_errno(LOG_ERR, r, MNT_FMT "set propagation: %m", MNT_ARGS(&c));
                else {
                        r = mnt_setattr_fd(c.t.fd, c.mo.attr_set, c.mo.attr_clr, true);
                        if (r < 0)
                                log_errno(LOG_ERR, r, MNT_FMT "recursive options (rro, rnosuid...)%s: %m", MNT_ARGS(&c),
                                          r == -EOPNOTSUPP ? " need mount_setattr(2), Linux 5.12" : "");
                }
        }
        if (r == 0 && kind == KIND_TMPFS) {
                _cleanup_free_ char *norm = path_normalize(c.m->destination);

                if (norm && streq(norm, "/dev"))
                        *dev_tmpfs = true;
        }
        return r < 0 ? r : 0;
}

int mounts_apply(const RootfsOptions *o, int root_fd, bool *ret_dev_tmpfs) {
        bool dev_tmpfs = false;
        int r;

        for (size_t i = 0; i < o->spec->n_mounts; i++) {
                r = mount_one(o, root_fd, i, &dev_tmpfs);
                if (r < 0)
                        return r;
        }
        *ret_dev_tmpfs = dev_tmpfs;
        return 0;
}

static int validate_proc_destination(size_t i, const MountSpec *m, const char *norm, enum mount_kind kind) {
        if (streq(norm, "/proc")) {
                if (kind != KIND_PROC)
                        return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].destination: only a proc filesystem may be "
                                         "mounted on /proc", i);
                return 0;
        }
        if (!string_has_prefix(norm, "/proc/"))
                return 0;
        for (size_t j = 0; j < ELEMENTSOF(proc_mount_allowlist); j++)
                if (streq(norm, proc_mount_allowlist[j]) && kind == KIND_BIND)
                        return 0;
        return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].destination: '%s' is inside /proc", i, m->destination);
}

int mount_validate_one(const Spec *spec, size_t i) {
        const MountSpec *m = &spec->mounts[i];
        _cleanup_mount_options_ MountOptions mo = MOUNT_OPTIONS_INIT;
        _cleanup_free_ char *norm = NULL;
        enum mount_kind kind;
        int r;

        if (!m->destination || m->destination[0] == '\0')
                return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].destination: must not be empty", i);
        r = mount_options_parse(m->options, &mo);
        if (r < 0)
                return log_errno(LOG_ERR, r, "mounts[%zu].options: %m", i);
        norm = path_normalize(m->destination);
        if (!norm)
                return log_errno(LOG_ERR, -ENOMEM, "mounts[%zu]: %m", i);
        if (streq(norm, "/"))
                return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].destination: cannot mount over the container root", i);
        if (!m->type && !mo.bind)
                return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].type: required unless the options contain bind or rbind",
                                 i);
        kind = mount_kind(m, &mo);
        if (kind == KIND_BIND && (!m->source || m->source[0] == '\0'))
                return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].source: required for a bind mount", i);
        r = mount_idmap_validate(m, i, &mo, kind == KIND_BIND);
        if (r < 0)
                return r;
        if (mo.tmpcopyup && kind != KIND_TMPFS)
                return log_errno(LOG_ERR, -EINVAL, "mounts[%zu].options: tmpcopyup needs type tmpfs", i);
        return validate_proc_destination(i, m, norm, kind);
}
