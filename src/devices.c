/* Device nodes in the container's /dev: mknod when the kernel lets us (host root without a user
 * namespace), otherwise a bind mount of the host's node, verified to be the device asked for.
 *
 * As with runc, the default nodes, linux.devices and the /dev symlinks go into whatever /dev the
 * container has (a tmpfs from mounts[] or the rootfs's own directory), except a /dev the config
 * bind-mounts (usually the host's), which is left alone. Paths resolve inside the rootfs, so a
 * symlink or ".." in the image or the path cannot place a node outside it. Nothing found there is
 * removed or changed: the node asked for is kept, a file or another node is covered by a bind
 * mount of the host's node, anything else is an error. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "mount-options.h"
#include "rootfs-internal.h"
#include "util.h"

#define NODE_DESC_MAX 64

static const DeviceSpec default_devices[] = {
        { .path = (char *) "/dev/null", .type = 'c', .major = 1, .minor = 3 },
        { .path = (char *) "/dev/zero", .type = 'c', .major = 1, .minor = 5 },
        { .path = (char *) "/dev/full", .type = 'c', .major = 1, .minor = 7 },
        { .path = (char *) "/dev/random", .type = 'c', .major = 1, .minor = 8 },
        { .path = (char *) "/dev/urandom", .type = 'c', .major = 1, .minor = 9 },
        { .path = (char *) "/dev/tty", .type = 'c', .major = 5, .minor = 0 },
};

static const struct {
        const char *name, *target;
} dev_links[] = {
        { "fd", "/proc/self/fd" },       { "stdin", "/proc/self/fd/0" }, { "stdout", "/proc/self/fd/1" },
        { "stderr", "/proc/self/fd/2" }, { "ptmx", "pts/ptmx" },         { "core", "/proc/kcore" },
};

static mode_t device_ifmt(char type) {
        switch (type) {
        case 'c':
        case 'u':
                return S_IFCHR;
        case 'b':
                return S_IFBLK;
        case 'p':
                return S_IFIFO;
        default:
                return 0;
        }
}

static bool node_is(const struct stat *st, const DeviceSpec *d) {
        return (st->st_mode & S_IFMT) == device_ifmt(d->type) &&
               (d->type == 'p' || st->st_rdev == makedev(d->major, d->minor));
}

/* "char device 1:3", "a directory": for messages. */
static const char *node_describe(mode_t mode, dev_t rdev, char buf[static NODE_DESC_MAX]) {
        const char *kind = S_ISCHR(mode)    ? "char device"
                           : S_ISBLK(mode)  ? "block device"
                           : S_ISFIFO(mode) ? "fifo"
                           : S_ISDIR(mode)  ? "directory"
                           : S_ISLNK(mode)  ? "symlink"
                           : S_ISREG(mode)  ? "regular file"
                                            : "socket";

        if (S_ISCHR(mode) || S_ISBLK(mode))
                snprintf(buf, NODE_DESC_MAX, "%s %u:%u", kind, major(rdev), minor(rdev));
        else
                snprintf(buf, NODE_DESC_MAX, "a %s", kind);
        return buf;
}

/* 0: created (or the node asked for was there already: kept as it is, as runc does); -EEXIST:
 * something else is there. */
static int device_mknod(int dir_fd, const char *name, const DeviceSpec *d) {
        mode_t mode = d->has_mode ? d->file_mode & 07777 : 0666;
        struct stat st;

        if (mknodat(dir_fd, name, device_ifmt(d->type) | mode, makedev(d->major, d->minor)) < 0) {
                if (errno != EEXIST)
                        return -errno;
                if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                return node_is(&st, d) ? 0 : -EEXIST;
        }
        /* mknod applied the umask. */
        if (fchmodat(dir_fd, name, mode, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if ((d->has_uid || d->has_gid) &&
            fchownat(dir_fd, name, d->has_uid ? d->uid : (uid_t) -1, d->has_gid ? d->gid : (gid_t) -1,
                     AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* The host's node must be the device asked for; a different one would hand the container
 * something else under a trusted name. -ENODEV: it differs (ret_st says how). */
static int host_device_open(const DeviceSpec *d, int *ret_fd, struct stat *ret_st) {
        _cleanup_close_ int fd = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0)
                return -errno;
        if (!node_is(ret_st, d))
                return -ENODEV;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* The bind target: a new empty file, or a file or node already there (covered, not changed).
 * -EEXIST for anything else (a directory, a symlink: never followed). */
static int bind_target_open(int dir_fd, const char *name, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
                return -errno;
        safe_close(fd);
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return -EEXIST;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int device_bind(int root_fd, int dir_fd, const char *name, const DeviceSpec *d, int host_fd) {
        _cleanup_(mount_target_done) MountTarget t = { .root_fd = root_fd, .path = d->path, .fd = -EBADF };
        int r;

        r = bind_target_open(dir_fd, name, &t.fd);
        if (r < 0)
                return r;
        /* Mode and owner are the host node's: changing them would change the host. */
        if (d->has_mode || d->has_uid || d->has_gid)
                log_debug("%s: bind-mounted from the host, fileMode/uid/gid not applied", d->path);
        return mnt_bind_fd(host_fd, &t, false, 0, 0);
}

/* label: "linux.devices[3] (/dev/fuse)", the prefix of every message. */
static int device_bind_host(const RootfsOptions *o, int root_fd, int dir_fd, const char *name,
                            const DeviceSpec *d, const char *label) {
        _cleanup_close_ int host_fd = -EBADF;
        char want[NODE_DESC_MAX], got[NODE_DESC_MAX];
        struct stat st;
        int r;

        r = host_device_open(d, &host_fd, &st);
        if (r == -ENODEV)
                return log_errno(LOG_ERR, r, "%s: the host's %s is %s, not %s", label, d->path,
                                 node_describe(st.st_mode, st.st_rdev, got),
                                 node_describe(device_ifmt(d->type), makedev(d->major, d->minor), want));
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: %s, and the host's %s cannot be bind-mounted: %m", label,
                                 o->can_mknod ? "something else is in its place"
                                              : "device nodes cannot be created without host privileges",
                                 d->path);
        r = device_bind(root_fd, dir_fd, name, d, host_fd);
        if (r == -EEXIST)
                return log_errno(LOG_ERR, r, "%s: exists in the container and is neither a file nor a "
                                 "device node", label);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: bind-mount the host's node: %m", label);
        return 0;
}

static int device_create(const RootfsOptions *o, int root_fd, const DeviceSpec *d, const char *field,
                         size_t i) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *name = NULL, *label = NULL;
        int r;

        if (asprintf(&label, "%s[%zu] (%s)", field, i, d->path) < 0)
                return log_errno(LOG_ERR, -ENOMEM, "%s[%zu]: %m", field, i);
        r = root_resolve_parent(root_fd, d->path, &dir_fd, &name);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: %m", label);
        if (o->can_mknod || d->type == 'p') {
                r = device_mknod(dir_fd, name, d);
                if (r == 0)
                        return 0;
                if (r != -EEXIST)
                        return log_errno(LOG_ERR, r, "%s: mknod: %m", label);
                /* e.g. the empty file a rootless run left in the rootfs's /dev: covered, not removed */
        }
        return device_bind_host(o, root_fd, dir_fd, name, d, label);
}

static bool spec_has_device(const Spec *spec, const char *path) {
        for (size_t i = 0; i < spec->n_devices; i++)
                if (streq(spec->devices[i].path, path))
                        return true;
        return false;
}

/* Whether mounts[] bind-mounts something on /dev (runc then creates nothing there). */
static int dev_bind_mounted(const Spec *spec, bool *ret) {
        for (size_t i = 0; i < spec->n_mounts; i++) {
                const MountSpec *m = &spec->mounts[i];
                _cleanup_mount_options_ MountOptions mo = MOUNT_OPTIONS_INIT;
                _cleanup_free_ char *norm = m->destination ? path_normalize(m->destination) : NULL;

                if (m->destination && !norm)
                        return -ENOMEM;
                if (!norm || !streq(norm, "/dev"))
                        continue;
                if (mount_options_parse(m->options, &mo) < 0)
                        return -ENOMEM;
                if (mo.bind || !m->type || streq(m->type, "bind") || streq(m->type, "rbind")) {
                        *ret = true;
                        return 0;
                }
        }
        *ret = false;
        return 0;
}

static int create_links(int root_fd) {
        _cleanup_close_ int dev_fd = -EBADF;
        int r;

        r = root_resolve(root_fd, "/dev", ROOT_CREATE_DIR, &dev_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "/dev: %m");
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++)
                if (symlinkat(dev_links[i].target, dev_fd, dev_links[i].name) < 0 && errno != EEXIST)
                        return log_errno(LOG_ERR, -errno, "/dev/%s: symlink to %s: %m", dev_links[i].name,
                                         dev_links[i].target);
        return 0;
}

int devices_setup(const RootfsOptions *o, int root_fd, bool dev_is_tmpfs) {
        const Spec *spec = o->spec;
        bool dev_bind = false;
        int r;

        /* 1. Which /dev: a tmpfs mounted last wins over an earlier bind. */
        r = dev_is_tmpfs ? 0 : dev_bind_mounted(spec, &dev_bind);
        if (r < 0)
                return log_errno(LOG_ERR, r, "/dev: %m");
        if (dev_bind) {
                log_debug("/dev is a bind mount: no device nodes or /dev symlinks are created in it");
                return 0;
        }
        /* 2. The default nodes, unless linux.devices has its own entry for the path. */
        for (size_t i = 0; i < ELEMENTSOF(default_devices); i++) {
                if (spec_has_device(spec, default_devices[i].path))
                        continue;
                r = device_create(o, root_fd, &default_devices[i], "default devices", i);
                if (r < 0)
                        return r;
        }
        /* 3. linux.devices[]. */
        for (size_t i = 0; i < spec->n_devices; i++) {
                r = device_create(o, root_fd, &spec->devices[i], "linux.devices", i);
                if (r < 0)
                        return r;
        }
        /* 4. fd, stdin, ..., ptmx: an entry already there is kept. */
        return create_links(root_fd);
}

int devices_validate(const Spec *spec) {
        for (size_t i = 0; i < spec->n_devices; i++) {
                const DeviceSpec *d = &spec->devices[i];
                bool numbers_ok = d->major >= 0 && d->major <= 0xfff && d->minor >= 0 && d->minor <= 0xfffff;

                if (!d->path || d->path[0] != '/')
                        return log_errno(LOG_ERR, -EINVAL,
                                         "linux.devices[%zu].path: must be an absolute path", i);
                if (device_ifmt(d->type) == 0)
                        return log_errno(LOG_ERR, -EINVAL, "linux.devices[%zu].type: unknown type '%c'", i,
                                         d->type);
                if (d->type != 'p' && !numbers_ok)
                        return log_errno(LOG_ERR, -EINVAL, "linux.devices[%zu]: major/minor out of range",
                                         i);
        }
        return 0;
}
