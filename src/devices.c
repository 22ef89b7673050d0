/* Device nodes in the container's /dev: mknod when the kernel lets us (real root), otherwise a
 * bind mount of the host's node, verified to be the device that was asked for. */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "rootfs-internal.h"
#include "util.h"

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

static int device_mknod(int dir_fd, const char *name, const DeviceSpec *d) {
        mode_t mode = d->has_mode ? d->file_mode & 07777 : 0666;

        if (mknodat(dir_fd, name, device_ifmt(d->type) | mode, makedev(d->major, d->minor)) < 0)
                return errno == EEXIST ? 0 : -errno; /* e.g. a bind-mounted /dev: leave it */
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
 * something else under a trusted name. */
static int host_device_open(const DeviceSpec *d, int *ret_fd) {
        _cleanup_close_ int fd = open(d->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((st.st_mode & S_IFMT) != device_ifmt(d->type) || major(st.st_rdev) != (unsigned) d->major ||
            minor(st.st_rdev) != (unsigned) d->minor)
                return -ENODEV;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static int device_bind(int root_fd, int dir_fd, const char *name, const DeviceSpec *d) {
        _cleanup_(mount_target_done) MountTarget t = { .root_fd = root_fd, .path = d->path, .fd = -EBADF };
        _cleanup_close_ int host_fd = -EBADF, cfd = -EBADF;
        int r;

        r = host_device_open(d, &host_fd);
        if (r < 0)
                return r;
        cfd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (cfd < 0)
                return errno == EEXIST ? 0 : -errno;
        t.fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (t.fd < 0)
                return -errno;
        /* Mode and owner are the host node's: changing them would change the host. */
        if (d->has_mode || d->has_uid || d->has_gid)
                log_debug("%s: bind-mounted from the host, fileMode/uid/gid not applied", d->path);
        return mnt_bind_fd(host_fd, &t, false, 0, 0);
}

static int device_create(const RootfsOptions *o, int root_fd, const DeviceSpec *d, const char *field, size_t i) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_free_ char *name = NULL;
        int r;

        r = root_resolve_parent(root_fd, d->path, &dir_fd, &name);
        if (r >= 0)
                r = o->can_mknod || d->type == 'p' ? device_mknod(dir_fd, name, d)
                                                   : device_bind(root_fd, dir_fd, name, d);
        if (r == -ENODEV)
                return log_errno(LOG_ERR, r, "%s[%zu] (%s): the host's node is not %s %" PRId64 ":%" PRId64,
                                 field, i, d->path, d->type == 'b' ? "block device" : "char device", d->major,
                                 d->minor);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s[%zu] (%s): %s: %m", field, i, d->path,
                                 o->can_mknod ? "mknod" : "bind the host's node");
        return 0;
}

static bool spec_has_device(const Spec *spec, const char *path) {
        for (size_t i = 0; i < spec->n_devices; i++)
                if (streq(spec->devices[i].path, path))
                        return true;
        return false;
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
        int r;

        /* 1. The default nodes, on a /dev the container owns. */
        for (size_t i = 0; dev_is_tmpfs && i < ELEMENTSOF(default_devices); i++) {
                if (spec_has_device(spec, default_devices[i].path))
                        continue;
                r = device_create(o, root_fd, &default_devices[i], "default devices", i);
                if (r < 0)
                        return r;
        }
        /* 2. linux.devices[]. */
        for (size_t i = 0; i < spec->n_devices; i++) {
                r = device_create(o, root_fd, &spec->devices[i], "linux.devices", i);
                if (r < 0)
                        return r;
        }
        /* 3. fd, stdin... */
        return dev_is_tmpfs ? create_links(root_fd) : 0;
}

int devices_validate(const Spec *spec) {
        for (size_t i = 0; i < spec->n_devices; i++) {
                const DeviceSpec *d = &spec->devices[i];

                if (!d->path || d->path[0] != '/')
                        return log_errno(LOG_ERR, -EINVAL, "linux.devices[%zu].path: must be an absolute path", i);
                if (device_ifmt(d->type) == 0)
                        return log_errno(LOG_ERR, -EINVAL, "linux.devices[%zu].type: unknown type '%c'", i, d->type);
                if (d->type != 'p' && (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff))
                        return log_errno(LOG_ERR, -EINVAL, "linux.devices[%zu]: major/minor out of range", i);
        }
        return 0;
}
