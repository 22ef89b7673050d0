/* Idmapped bind mounts, the parent's half: validation, and one detached idmapped tree per mount
 * prepared before clone (why the parent: see mount-idmap.h). */
#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "idmap.h"
#include "log.h"
#include "mount-idmap.h"
#include "util.h"

#define IDM_FMT "mounts[%zu] (%s): "

/* "idmap" or "ridmap", with or without "=VALUE" (crun's inline mappings). */
static bool idmap_word(const char *o, bool *ret_recursive, bool *ret_value) {
        const char *rest = NULL;

        if (string_has_prefix(o, "ridmap"))
                rest = o + strlen("ridmap");
        else if (string_has_prefix(o, "idmap"))
                rest = o + strlen("idmap");
        if (!rest || (*rest != '\0' && *rest != '='))
                return false;
        *ret_recursive = o[0] == 'r';
        *ret_value = *rest == '=';
        return true;
}

/* "ridmap": submounts are idmapped too. The last of idmap/ridmap wins, as with every option. */
static bool idmap_recursive(char *const *options) {
        bool rec = false, value;

        for (size_t i = 0; options && options[i]; i++)
                (void) idmap_word(options[i], &rec, &value);
        return rec;
}

bool mount_idmap_requested(const MountSpec *m, const MountOptions *mo) {
        return mo->idmap || m->n_uid_mappings > 0 || m->n_gid_mappings > 0;
}

int mount_idmap_validate(const MountSpec *m, size_t i, const MountOptions *mo, bool bind) {
        bool rec, value;

        if (!mount_idmap_requested(m, mo))
                return 0;
        for (size_t j = 0; m->options && m->options[j]; j++)
                if (idmap_word(m->options[j], &rec, &value) && value)
                        return log_errno(LOG_ERR, -EOPNOTSUPP,
                                         "mounts[%zu].options[%zu]: mappings in the option ('%s') are not "
                                         "supported: give the mount uidMappings and gidMappings",
                                         i, j, m->options[j]);
        if (!bind)
                return log_errno(LOG_ERR, -EINVAL,
                                 "mounts[%zu].options: idmapped mounts are only supported for bind mounts", i);
        if ((m->n_uid_mappings > 0) != (m->n_gid_mappings > 0))
                return log_errno(LOG_ERR, -EINVAL,
                                 "mounts[%zu].%s: an idmapped mount needs both uidMappings and gidMappings", i,
                                 m->n_uid_mappings > 0 ? "gidMappings" : "uidMappings");
        return 0;
}

/* A user namespace with the given maps, for MOUNT_ATTR_IDMAP: a child clones into a new one and
 * waits, we write its maps as runc does ("containerID hostID size": the id on disk, and the host id
 * the mount presents it as) and keep /proc/PID/ns/user open; the namespace outlives the child
 * through that fd. */
static int userns_with_maps(const MountSpec *m, size_t i, const IdMap *uid, size_t n_uid, const IdMap *gid,
                            size_t n_gid, int *ret_fd) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        char path[64];
        int p[2], fd = -EBADF, r;
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return log_errno(LOG_ERR, -errno, IDM_FMT "pipe: %m", i, m->destination);
        rfd = p[0];
        wfd = p[1];
        pid = (pid_t) syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
        if (pid < 0)
                return log_errno(LOG_ERR, -errno, IDM_FMT "creating the user namespace of the mapping: %m", i,
                                 m->destination);
        if (pid == 0) {
                char b;

                /* Wait for EOF: the parent closing its end, or dying. */
                (void) close(p[1]);
                while (read(p[0], &b, 1) < 0 && errno == EINTR)
                        ;
                _exit(0);
        }
        r = idmap_write_maps(pid, uid, n_uid, gid, n_gid);
        if (r >= 0) {
                (void) snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        r = log_errno(LOG_ERR, -errno, IDM_FMT "opening %s: %m", i, m->destination, path);
        }
        wfd = safe_close(wfd);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        *ret_fd = fd;
        return 0;
}

/* The mount's own mappings; without them the container's (a copy of the maps planned for its new
 * user namespace, which does not exist yet, or the one it joins). */
static int mapping_userns(const Container *c, size_t i, int *ret_fd) {
        const MountSpec *m = &c->spec->mounts[i];
        const char *join = c->spec->namespaces[NS_USER].path;

        if (m->n_uid_mappings > 0)
                return userns_with_maps(m, i, m->uid_mappings, m->n_uid_mappings, m->gid_mappings,
                                        m->n_gid_mappings, ret_fd);
        if (c->uid_map)
                return userns_with_maps(m, i, c->uid_map, c->n_uid_map, c->gid_map, c->n_gid_map, ret_fd);
        if (c->userns && join) {
                *ret_fd = open(join, O_RDONLY | O_CLOEXEC);
                if (*ret_fd < 0)
                        return log_errno(LOG_ERR, -errno, IDM_FMT "the container's user namespace '%s': %m", i,
                                         m->destination, join);
                return 0;
        }
        return log_errno(LOG_ERR, -EINVAL,
                         IDM_FMT "idmap without uidMappings and gidMappings takes the maps of the container's "
                         "user namespace, and the container has no user namespace",
                         i, m->destination);
}

static const char *fs_type_name(int fd, char *buf, size_t size) {
        static const struct {
                long magic;
                const char *name;
        } names[] = {
                { EXT4_SUPER_MAGIC, "ext2/3/4" },  { XFS_SUPER_MAGIC, "xfs" },     { BTRFS_SUPER_MAGIC, "btrfs" },
                { F2FS_SUPER_MAGIC, "f2fs" },      { TMPFS_MAGIC, "tmpfs" },       { RAMFS_MAGIC, "ramfs" },
                { OVERLAYFS_SUPER_MAGIC, "overlay" }, { FUSE_SUPER_MAGIC, "fuse" }, { NFS_SUPER_MAGIC, "nfs" },
                { V9FS_MAGIC, "9p" },              { SQUASHFS_MAGIC, "squashfs" }, { MSDOS_SUPER_MAGIC, "vfat" },
                { PROC_SUPER_MAGIC, "proc" },      { SYSFS_MAGIC, "sysfs" },
        };
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return "(unknown)";
        for (size_t k = 0; k < ELEMENTSOF(names); k++)
                if ((long) sfs.f_type == names[k].magic)
                        return names[k].name;
        (void) snprintf(buf, size, "with magic 0x%lx", (unsigned long) sfs.f_type);
        return buf;
}

/* One line naming the mount, with what the kernel's refusal means. tree_fd: the detached tree
 * when there is one (its filesystem is named), else -EBADF. */
static int log_refused(const MountSpec *m, size_t i, int r, int tree_fd, bool rec) {
        char buf[48];

        if (r == -EPERM)
                return log_errno(LOG_ERR, r,
                                 IDM_FMT "idmapped mount of '%s' refused: the kernel allows idmapped mounts only to "
                                 "a user privileged over the source's filesystem (host root, or root of the user "
                                 "namespace that mounted it): %m",
                                 i, m->destination, m->source);
        if (r == -EINVAL && tree_fd >= 0)
                return log_errno(LOG_ERR, r,
                                 IDM_FMT "idmapped mount of '%s': the filesystem type %s%s does not support "
                                 "idmapped mounts: %m",
                                 i, m->destination, m->source, fs_type_name(tree_fd, buf, sizeof(buf)),
                                 rec ? " (or that of a mount below it: ridmap maps them all)" : "");
        if (r == -ENOSYS)
                return log_errno(LOG_ERR, r, IDM_FMT "idmapped mounts need Linux 5.12 (mount_setattr(2)): %m", i,
                                 m->destination);
        return log_errno(LOG_ERR, r, IDM_FMT "idmapped mount of '%s': %m", i, m->destination, m->source);
}

/* The clone joins the source's peer group, so what the container mounts below it (a later
 * mounts[] entry) would appear on the host: before it is attached it gets the propagation that
 * rootfs.c gives the container's other mounts, private, or a slave with a shared or slave
 * rootfsPropagation. */
static unsigned long tree_propagation(const Spec *s) {
        unsigned long prop = 0;

        if (s->rootfs_propagation && mount_propagation_from_string(s->rootfs_propagation, &prop) >= 0 &&
            (prop & (MS_SHARED | MS_SLAVE)))
                return MS_SLAVE;
        return MS_PRIVATE;
}

/* The detached idmapped tree of mounts[i]. rbind (and a "bind" type without options, as
 * mount_bind) clones the submounts; only ridmap idmaps them too (as runc). A relative source is
 * relative to the bundle; symlinks are followed, as for a bind. */
static int prepare_one(const Container *c, int bundle_fd, size_t i, int *ret) {
        const MountSpec *m = &c->spec->mounts[i];
        _cleanup_mount_options_ MountOptions mo = MOUNT_OPTIONS_INIT;
        _cleanup_close_ int tree = -EBADF, userns = -EBADF;
        bool rec = idmap_recursive(m->options);
        struct mount_attr a = { .attr_set = MOUNT_ATTR_IDMAP }, prop = { .propagation = tree_propagation(c->spec) };
        int r;

        *ret = -EBADF;
        r = mount_options_parse(m->options, &mo);
        if (r < 0)
                return log_errno(LOG_ERR, r, IDM_FMT "options: %m", i, m->destination);
        tree = open_tree(bundle_fd, m->source,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rec || mo.recursive || !mo.bind ? AT_RECURSIVE : 0));
        if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &prop, sizeof(prop)) < 0)
                return log_refused(m, i, -errno, -EBADF, rec);
        r = mapping_userns(c, i, &userns);
        if (r < 0)
                return r;
        a.userns_fd = (uint64_t) userns;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | (rec ? AT_RECURSIVE : 0), &a, sizeof(a)) < 0)
                return log_refused(m, i, -errno, tree, rec);
        r = fd_move_above(tree, 3 + (int) c->o->preserve_fds);
        if (r < 0)
                return log_errno(LOG_ERR, r, IDM_FMT "idmapped mount: %m", i, m->destination);
        tree = -EBADF; /* moved, or already above the range: r now */
        *ret = r;
        return 0;
}

/* Without the parse of mount_options_parse: the same words set MountOptions.idmap. */
static bool wants_idmap(const MountSpec *m) {
        bool rec, value;

        if (m->n_uid_mappings > 0 || m->n_gid_mappings > 0)
                return true;
        for (size_t j = 0; m->options && m->options[j]; j++)
                if (idmap_word(m->options[j], &rec, &value))
                        return true;
        return false;
}

int mount_idmap_prepare(const Container *c, int **ret) {
        const Spec *s = c->spec;
        _cleanup_close_ int bundle_fd = -EBADF;
        size_t first = 0;
        int *fds;
        int r;

        *ret = NULL;
        while (first < s->n_mounts && !wants_idmap(&s->mounts[first]))
                first++;
        if (first == s->n_mounts)
                return 0; /* the common case: nothing to open */
        bundle_fd = open(c->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (bundle_fd < 0)
                return log_errno(LOG_ERR, -errno, "bundle '%s': %m", c->bundle);
        fds = malloc(s->n_mounts * sizeof(int));
        if (!fds)
                return log_errno(LOG_ERR, -ENOMEM, "mounts: %m");
        for (size_t i = 0; i < s->n_mounts; i++)
                fds[i] = -EBADF;
        for (size_t i = first; i < s->n_mounts; i++) {
                r = wants_idmap(&s->mounts[i]) ? prepare_one(c, bundle_fd, i, &fds[i]) : 0;
                if (r < 0) {
                        mount_idmap_close(fds, s->n_mounts);
                        return r;
                }
        }
        *ret = fds;
        return 0;
}

int *mount_idmap_close(int *fds, size_t n) {
        if (!fds)
                return NULL;
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
        free(fds);
        return NULL;
}
