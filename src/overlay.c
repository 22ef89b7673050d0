/* Kernel overlayfs inside the user namespace (Linux >= 5.11), no FUSE.
 *
 * annotations["io.github.urun.rootfs-overlay"] keeps a bundle's image pristine for a plain user: the
 * container's root becomes an overlay whose only lower layer is the rootfs, with the upper layer
 * in a tmpfs that dies with the container ("tmpfs") or in DIR/upper ("/DIR", kept across runs).
 * Mount points that mounts[] needs are then created in the upper layer, not in the image.
 *
 * Everything here runs in the container's own (private) mount namespace, as root of its user
 * namespace, before pivot_root; the paths come from the caller's own config.json. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "overlay.h"
#include "rootfs-internal.h"
#include "util.h"

#define OVL_FIELD "annotations[\"" OVERLAY_ANNOTATION "\"]"

static bool test_hook(const char *name) {
        const char *e = getenv(name);

        return e && streq(e, "1");
}

static const char *annotation_value(const Spec *spec) {
        for (size_t i = 0; i < spec->n_annotations; i++)
                if (streq(spec->annotations[i].key, OVERLAY_ANNOTATION))
                        return spec->annotations[i].value;
        return NULL;
}

int overlay_validate(const Spec *spec) {
        const char *v = annotation_value(spec);

        if (!v || streq(v, "tmpfs") || v[0] == '/')
                return 0;
        return log_errno(LOG_ERR, -EINVAL,
                         OVL_FIELD ": '%s' is not accepted: use \"tmpfs\" or an absolute directory path", v);
}

/* trusted.overlay.* xattrs need CAP_SYS_ADMIN in the initial user namespace. Without them the
 * kernel still mounts, but cannot mark a directory opaque or a rename redirected: removing or
 * renaming a directory that comes from a lower layer fails with EIO (measured on 6.18 with the
 * upper on ext4 and on tmpfs; the kernel logs "try mounting with 'userxattr' option").
 * user.overlay.* xattrs (userxattr, Linux 5.11) work for the owner of the upper layer. When we
 * cannot tell, userxattr is the choice that works in both places. */
static bool need_userxattr(void) {
        return userns_is_initial() != 1;
}

/* overlayfs splits its mount data at ',' and lowerdir at ':'; a backslash escapes either. */
static char *escape_layer(const char *path) {
        char *out = malloc(strlen(path) * 2 + 1), *p = out;

        if (!out)
                return NULL;
        for (; *path; path++) {
                if (*path == ',' || *path == ':' || *path == '\\')
                        *p++ = '\\';
                *p++ = *path;
        }
        *p = '\0';
        return out;
}

/* lower: escaped path; layers: escaped path of the directory holding upper/ and work/. */
static int mount_overlay(const char *target, const char *lower, const char *layers) {
        _cleanup_free_ char *data = NULL;

        /* URUN_TEST_NO_OVERLAY=1: behave like a kernel without overlayfs, to test the fallback. */
        if (test_hook("URUN_TEST_NO_OVERLAY"))
                return -ENODEV;
        if (asprintf(&data, "lowerdir=%s,upperdir=%s/upper,workdir=%s/work%s", lower, layers, layers,
                     need_userxattr() ? ",userxattr" : "") < 0)
                return -ENOMEM;
        if (mount("overlay", target, "overlay", 0, data) < 0)
                return -errno;
        return 0;
}

/* upper/ is the container's "/": it takes the rootfs's owner and mode, or the container would see
 * a / of mode 0700 owned by the runtime. work/ is the kernel's scratch space. Existing ones stay
 * as they are. */
static int make_layer_dirs(int dir_fd, const struct stat *root_st) {
        if (mkdirat(dir_fd, "upper", 0700) >= 0) {
                if ((root_st->st_uid != geteuid() || root_st->st_gid != getegid()) &&
                    fchownat(dir_fd, "upper", root_st->st_uid, root_st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                        log_debug(OVL_FIELD ": chown of the upper layer's root: %m, ignoring");
                if (fchmodat(dir_fd, "upper", root_st->st_mode & 07777, 0) < 0)
                        return -errno;
        } else if (errno != EEXIST)
                return -errno;
        if (mkdirat(dir_fd, "work", 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* The upper layer on a tmpfs that is never attached anywhere: nothing but the overlay can reach
 * it, and it goes away with the container's mount namespace. */
static int overlay_tmpfs_detached(const char *rootfs, const char *lower, const struct stat *st) {
        _cleanup_close_ int fs = -EBADF, mnt = -EBADF;
        char layers[PROC_FD_PATH_MAX];
        int r;

        /* URUN_TEST_NO_MOUNT_API=1: as on kernels without fsopen(2). */
        if (test_hook("URUN_TEST_NO_MOUNT_API"))
                return -ENOSYS;
        fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0700", 0) < 0 ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return -errno;
        r = make_layer_dirs(mnt, st);
        if (r < 0)
                return r;
        return mount_overlay(rootfs, lower, fd_proc_path(mnt, layers));
}

/* Kernels before 6.15 refuse a detached mount as the upper layer (EINVAL), and without fsopen(2)
 * there is none: the tmpfs goes onto the rootfs path itself, in our private mount namespace, and
 * the lower layer is reached through an fd opened before the tmpfs covered it. */
static int overlay_tmpfs_attached(const char *rootfs, const struct stat *st) {
        _cleanup_close_ int lower_fd = -EBADF, up_fd = -EBADF;
        char lower[PROC_FD_PATH_MAX], layers[PROC_FD_PATH_MAX];
        int r;

        lower_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (lower_fd < 0)
                return -errno;
        if (mount("tmpfs", rootfs, "tmpfs", 0, "mode=0700") < 0)
                return -errno;
        up_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = up_fd < 0 ? -errno : make_layer_dirs(up_fd, st);
        if (r >= 0)
                r = mount_overlay(rootfs, fd_proc_path(lower_fd, lower), fd_proc_path(up_fd, layers));
        if (r < 0)
                (void) umount2(rootfs, MNT_DETACH);
        return r;
}

static int overlay_tmpfs(const char *rootfs, const char *lower, const struct stat *st) {
        int r = overlay_tmpfs_detached(rootfs, lower, st);

        if (r == 0 || r == -ENODEV)
                return r;
        log_debug(OVL_FIELD ": overlay with a detached tmpfs upper: %s; trying an attached one",
                  strerror(-r));
        return overlay_tmpfs_attached(rootfs, st);
}

/* DIR is created 0700 when missing: the upper layer holds the container's changes, and other
 * users of the host have no business there. Errors here are the config's, never a fallback.
 * *ret_layers: DIR escaped for the mount data. */
static int persistent_layers(const char *dir, const struct stat *st, char **ret_layers) {
        _cleanup_close_ int dir_fd = -EBADF;
        char *layers;
        int r;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return log_errno(LOG_ERR, -errno, OVL_FIELD ": create '%s': %m", dir);
        dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = dir_fd < 0 ? -errno : make_layer_dirs(dir_fd, st);
        if (r < 0)
                return log_errno(LOG_ERR, r, OVL_FIELD ": create '%s/upper' and '%s/work': %m", dir, dir);
        layers = escape_layer(dir);
        if (!layers)
                return log_errno(LOG_ERR, -ENOMEM, OVL_FIELD ": %m");
        *ret_layers = layers;
        return 0;
}

/* The kernel cannot do it (no overlayfs, not in a user namespace, no userxattr, an upper
 * filesystem overlayfs does not accept) rather than the config being wrong. */
static bool overlay_unsupported(int r) {
        return r == -ENODEV || r == -EPERM || r == -EINVAL || r == -EOPNOTSUPP || r == -ENOSYS;
}

/* The image stays pristine all the same: read-only, submounts included. */
static int bind_read_only(const char *rootfs) {
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = mnt_setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, true);
        if (r == -EOPNOTSUPP) /* no mount_setattr(2): the top mount only */
                r = mnt_setattr_fd(fd, MOUNT_ATTR_RDONLY, 0, false);
        return r;
}

int overlay_mount_rootfs(const Spec *spec, const char *rootfs) {
        const char *v = annotation_value(spec);
        _cleanup_free_ char *lower = NULL, *layers = NULL;
        struct stat st;
        int r;

        if (!v)
                return 0;
        if (stat(rootfs, &st) < 0)
                return log_errno(LOG_ERR, -errno, "root.path: '%s': %m", rootfs);
        lower = escape_layer(rootfs);
        if (!lower)
                return log_errno(LOG_ERR, -ENOMEM, OVL_FIELD ": %m");
        if (streq(v, "tmpfs"))
                r = overlay_tmpfs(rootfs, lower, &st);
        else {
                r = persistent_layers(v, &st, &layers);
                if (r < 0)
                        return r;
                r = mount_overlay(rootfs, lower, layers);
        }
        if (r >= 0)
                return 1;
        if (!overlay_unsupported(r))
                return log_errno(LOG_ERR, r, OVL_FIELD ": mount overlayfs on '%s': %m", rootfs);
        (void) log_errno(LOG_WARNING, r,
                         OVL_FIELD ": cannot mount overlayfs (%m; needs Linux >= 5.11 overlayfs "
                                   "in a user namespace): the rootfs is bound read-only instead");
        r = bind_read_only(rootfs);
        if (r < 0)
                return log_errno(LOG_ERR, r, "root.path: bind '%s' read-only: %m", rootfs);
        return 1;
}

/* Whether the comma-separated data names userxattr or an xattr feature the kernel refuses next to
 * it (redirect_dir other than nofollow, metacopy=on): then it is the config's choice. */
static bool data_has_xattr_choice(const char *data) {
        for (const char *p = data; p && *p;) {
                const char *w = p;
                size_t l;

                for (; *p && *p != ','; p++)
                        if (*p == '\\' && p[1])
                                p++;
                l = (size_t) (p - w);
                if ((l == 9 && strncmp(w, "userxattr", l) == 0) ||
                    (l >= 13 && strncmp(w, "redirect_dir=", 13) == 0) ||
                    (l >= 9 && strncmp(w, "metacopy=", 9) == 0))
                        return true;
                if (*p == ',')
                        p++;
        }
        return false;
}

int overlay_mount_data(const char *data, char **ret) {
        char *out = NULL;

        if (need_userxattr() && !data_has_xattr_choice(data) &&
            asprintf(&out, "%s%suserxattr", data ? data : "", data && *data ? "," : "") < 0)
                return -ENOMEM;
        *ret = out;
        return 0;
}
