/* The container's root: safe in-root path resolution, pivot_root, and the finishing mounts
 * (maskedPaths, readonlyPaths, root.readonly). Runs as root of the container's user namespace. */
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "log.h"
#include "mount-options.h"
#include "overlay.h"
#include "rootfs-internal.h"
#include "util.h"

#define LINK_BUDGET 40 /* like the kernel's MAXSYMLINKS */

/* The host's /dev/null, verified to be the char device 1:3, opened before pivot_root: the rootfs
 * could supply anything at /dev/null. Detached clones of it mask files after pivot_root (a mount
 * outside our new root can no longer be cloned then). */
static int host_null_fd = -EBADF;
static int *null_trees;
static size_t n_null_trees, null_trees_used;

static bool openat2_disabled(void) {
        const char *e = getenv("URUN_TEST_NO_OPENAT2");

        return e && streq(e, "1");
}

/* -ENOSYS/-EPERM (seccomp) tell the caller to use the component walk. */
static int resolve_openat2(int root_fd, const char *path, unsigned flags, int *ret_fd) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (flags & ROOT_NO_SYMLINKS ? RESOLVE_NO_SYMLINKS : 0),
        };

        if (openat2_disabled())
                return -ENOSYS;
        /* EAGAIN: a concurrent rename anywhere in the system; the kernel asks us to retry. */
        for (int tries = 0; tries < 16; tries++) {
                int fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));

                if (fd >= 0) {
                        *ret_fd = fd;
                        return 0;
                }
                if (errno != EAGAIN)
                        return errno == E2BIG ? -ENOSYS : -errno;
        }
        return -EAGAIN;
}

typedef struct {
        int *fds; /* fds[0] is the root; fds[n-1] the current directory */
        size_t n, cap;
} FdStack;

static void fd_stack_done(FdStack *s) {
        for (size_t i = 0; i < s->n; i++)
                safe_close(s->fds[i]);
        free(s->fds);
}

static int fd_stack_push(FdStack *s, int fd) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 16;
                int *p = realloc(s->fds, cap * sizeof(int));

                if (!p) {
                        safe_close(fd);
                        return -ENOMEM;
                }
                s->fds = p;
                s->cap = cap;
        }
        s->fds[s->n++] = fd;
        return 0;
}

static void fd_stack_pop_to(FdStack *s, size_t n) {
        while (s->n > n)
                safe_close(s->fds[--s->n]);
}

/* Open (creating when asked) one component below parent, never following a symlink. */
static int walk_open_component(int parent, const char *name, bool last, unsigned flags) {
        int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        if (fd >= 0 || errno != ENOENT || !(flags & (ROOT_CREATE_DIR | ROOT_CREATE_FILE)))
                return fd >= 0 ? fd : -errno;
        if (last && (flags & ROOT_CREATE_FILE)) {
                int cfd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

                if (cfd < 0 && errno != EEXIST)
                        return -errno;
                safe_close(cfd);
        } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                return -errno;
        fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 ? fd : -errno;
}

/* Replace *todo with target + "/" + rest. */
static int walk_splice_link(int link_fd, const char *rest, char **todo) {
        char target[4096];
        ssize_t n = readlinkat(link_fd, "", target, sizeof(target) - 1);
        char *next;

        if (n < 0)
                return -errno;
        if ((size_t) n >= sizeof(target) - 1)
                return -ENAMETOOLONG;
        target[n] = '\0';
        next = strjoin_path(target, rest);
        if (!next)
                return -ENOMEM;
        free(*todo);
        *todo = next;
        return 0;
}

/* The fallback resolver: one component at a time from held directory fds. ".." pops our own stack
 * (never openat(fd, "..")), symlinks are read and spliced into the remaining path, absolute ones
 * restart at the root: the walk can never climb above fds[0]. */
static int resolve_walk(int root_fd, const char *path, unsigned flags, int *ret_fd) {
        _cleanup_(fd_stack_done) FdStack s = {};
        _cleanup_free_ char *todo = strdup(path);
        unsigned links = 0;
        size_t pos = 0;
        int r;

        if (!todo)
                return -ENOMEM;
        r = fd_stack_push(&s, fcntl(root_fd, F_DUPFD_CLOEXEC, 3));
        if (r < 0 || s.fds[0] < 0)
                return r < 0 ? r : -errno;
        for (;;) {
                char name[256];
                size_t l;
                bool last;
                struct stat st;
                int fd;

                pos += strspn(todo + pos, "/");
                l = strcspn(todo + pos, "/");
                if (l == 0)
                        break;
                if (l >= sizeof(name))
                        return -ENAMETOOLONG;
                memcpy(name, todo + pos, l);
                name[l] = '\0';
                pos += l;
                last = todo[pos + strspn(todo + pos, "/")] == '\0';
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        fd_stack_pop_to(&s, s.n > 1 ? s.n - 1 : 1);
                        continue;
                }
                fd = walk_open_component(s.fds[s.n - 1], name, last, flags);
                if (fd < 0)
                        return fd;
                if (fstat(fd, &st) < 0) {
                        r = -errno;
                        safe_close(fd);
                        return r;
                }
                if (S_ISLNK(st.st_mode)) {
                        r = ++links > LINK_BUDGET || (flags & ROOT_NO_SYMLINKS) ? -ELOOP
                                                                                : walk_splice_link(fd, todo + pos, &todo);
                        safe_close(fd);
                        if (r < 0)
                                return r;
                        pos = 0;
                        if (todo[0] == '/')
                                fd_stack_pop_to(&s, 1);
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode)) {
                        safe_close(fd);
                        return -ENOTDIR;
                }
                r = fd_stack_push(&s, fd);
                if (r < 0)
                        return r;
        }
        *ret_fd = s.fds[--s.n];
        return 0;
}

int root_resolve(int root_fd, const char *path, unsigned flags, int *ret_fd) {
        int r = resolve_openat2(root_fd, path, flags, ret_fd);
        bool create = flags & (ROOT_CREATE_DIR | ROOT_CREATE_FILE);

        /* Creation (and a dangling symlink's target) needs the walk, which is just as safe. */
        if (r == 0 || !(r == -ENOSYS || r == -EPERM || (r == -ENOENT && create)))
                return r;
        return resolve_walk(root_fd, path, flags, ret_fd);
}

int root_resolve_parent(int root_fd, const char *path, int *ret_dir_fd, char **ret_name) {
        _cleanup_free_ char *dir = strdup(path);
        _cleanup_free_ char *name = NULL;
        char *slash;
        size_t len;
        int r;

        if (!dir)
                return -ENOMEM;
        len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/')
                dir[--len] = '\0';
        slash = strrchr(dir, '/');
        name = strdup(slash ? slash + 1 : dir);
        if (!name)
                return -ENOMEM;
        if (name[0] == '\0' || streq(name, ".") || streq(name, ".."))
                return -EINVAL;
        if (slash)
                slash[1] = '\0';
        else
                dir[0] = '\0';
        r = root_resolve(root_fd, dir[0] ? dir : "/", ROOT_CREATE_DIR, ret_dir_fd);
        if (r < 0)
                return r;
        *ret_name = TAKE_PTR(name);
        return 0;
}

static int validate_paths(char *const *paths, const char *field) {
        for (size_t i = 0; paths && paths[i]; i++)
                if (paths[i][0] != '/')
                        return log_errno(LOG_ERR, -EINVAL, "%s[%zu]: '%s' is not an absolute path", field, i, paths[i]);
        return 0;
}

int rootfs_validate(const Spec *spec) {
        unsigned long prop;
        int r;

        for (size_t i = 0; i < spec->n_mounts; i++) {
                r = mount_validate_one(spec, i);
                if (r < 0)
                        return r;
        }
        r = devices_validate(spec);
        if (r < 0)
                return r;
        r = overlay_validate(spec);
        if (r < 0)
                return r;
        r = validate_paths(spec->masked_paths, "linux.maskedPaths");
        if (r < 0)
                return r;
        r = validate_paths(spec->readonly_paths, "linux.readonlyPaths");
        if (r < 0)
                return r;
        if (spec->rootfs_propagation && mount_propagation_from_string(spec->rootfs_propagation, &prop) < 0)
                return log_errno(LOG_ERR, -EINVAL, "linux.rootfsPropagation: unknown propagation '%s'",
                                 spec->rootfs_propagation);
        /* runc refuses too: setting them would change the host's names. */
        if (spec->hostname && spec->hostname[0] && !spec->namespaces[NS_UTS].present)
                return log_errno(LOG_ERR, -EINVAL, "hostname: requires a new uts namespace");
        if (spec->domainname && spec->domainname[0] && !spec->namespaces[NS_UTS].present)
                return log_errno(LOG_ERR, -EINVAL, "domainname: requires a new uts namespace");
        return 0;
}

/* Shared and slave parents propagate into the container; nothing may propagate out. An rshared
 * rootfsPropagation is applied to the container's / only after pivot_root (which refuses shared
 * parents). */
static int make_root_private(const RootfsOptions *o) {
        unsigned long prop = MS_REC | MS_PRIVATE;

        if (o->spec->rootfs_propagation) {
                (void) mount_propagation_from_string(o->spec->rootfs_propagation, &prop);
                prop = MS_REC | (prop & (MS_SHARED | MS_SLAVE) ? MS_SLAVE : MS_PRIVATE);
        }
        if (mount(NULL, "/", NULL, prop, NULL) < 0)
                return log_errno(LOG_ERR, -errno, "make the mount namespace private: %m");
        return 0;
}

static int bind_rootfs(const RootfsOptions *o, int *ret_fd) {
        int fd, r;

        /* annotations["io.github.urun.rootfs-overlay"]: an overlay (or a read-only bind) instead. */
        r = overlay_mount_rootfs(o->spec, o->rootfs);
        if (r < 0)
                return r;
        /* pivot_root needs a mount point; the fd must name the bind, so open it afterwards. */
        if (r == 0 && mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_errno(LOG_ERR, -errno, "root.path: bind mount '%s' onto itself: %m", o->rootfs);
        fd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "root.path: open '%s': %m", o->rootfs);
        *ret_fd = fd;
        return 0;
}

static int open_host_null(void) {
        struct stat st;
        int fd;

        if (host_null_fd >= 0)
                return 0;
        fd = open("/dev/null", O_PATH | O_CLOEXEC);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "open the host's /dev/null: %m");
        if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
                safe_close(fd);
                return log_errno(LOG_ERR, -ENODEV, "the host's /dev/null is not the null device: %m");
        }
        host_null_fd = fd;
        return 0;
}

int rootfs_prepare(const RootfsOptions *o) {
        _cleanup_close_ int root_fd = -EBADF;
        bool dev_tmpfs = false;
        int r;

        /* 1. No mount below may reach the host. */
        r = make_root_private(o);
        if (r < 0)
                return r;
        /* 2. The rootfs becomes a mount point; all later paths resolve below this fd. */
        r = bind_rootfs(o, &root_fd);
        if (r < 0)
                return r;
        /* 3. The real /dev/null, for maskedPaths, while the host's /dev is still reachable. */
        r = open_host_null();
        if (r < 0)
                return r;
        /* 4. mounts[], in order. */
        r = mounts_apply(o, root_fd, &dev_tmpfs);
        if (r < 0)
                return r;
        /* 5. Device nodes and the /dev symlinks. */
        return devices_setup(o, root_fd, dev_tmpfs);
}

/* One detached copy of the host's /dev/null per masked path: after pivot_root the original mount
 * is outside our root and the kernel no longer clones it. */
static int clone_null_trees(const Spec *spec) {
        size_t n = strv_length(spec->masked_paths);

        if (n == 0 || host_null_fd < 0)
                return 0;
        null_trees = calloc(n, sizeof(int));
        if (!null_trees)
                return log_errno(LOG_ERR, -ENOMEM, "linux.maskedPaths: %m");
        for (; n_null_trees < n; n_null_trees++) {
                int fd = open_tree(host_null_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);

                if (fd < 0) {
                        /* Without the new mount API finalize falls back to a verified /dev/null. */
                        if (errno == ENOSYS)
                                break;
                        return log_errno(LOG_ERR, -errno, "linux.maskedPaths: clone the host's /dev/null: %m");
                }
                null_trees[n_null_trees] = fd;
        }
        return 0;
}

static int pivot_into(const RootfsOptions *o, int root_fd) {
        _cleanup_close_ int old_root = -EBADF;

        if (fchdir(root_fd) < 0)
                return log_errno(LOG_ERR, -errno, "chdir to the rootfs '%s': %m", o->rootfs);
        if (o->no_pivot) {
                if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
                        return log_errno(LOG_ERR, -errno, "move the rootfs '%s' onto /: %m", o->rootfs);
                if (chroot(".") < 0)
                        return log_errno(LOG_ERR, -errno, "chroot into the rootfs '%s': %m", o->rootfs);
                return 0;
        }
        /* pivot_root(".", "."): the old root ends up on top of the new one, then is detached; no
         * directory for it is needed inside the rootfs. */
        old_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (old_root < 0)
                return log_errno(LOG_ERR, -errno, "open the old root: %m");
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return log_errno(LOG_ERR, -errno, "pivot_root into '%s': %m", o->rootfs);
        /* "." is still the new root: MS_SLAVE|MS_REC and the detach below must act on the old
         * root stacked on it, or the container's own shared mounts would become slaves. */
        if (fchdir(old_root) < 0)
                return log_errno(LOG_ERR, -errno, "chdir to the old root: %m");
        /* Unmounting must not propagate to the host. */
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return log_errno(LOG_ERR, -errno, "make the old root a slave: %m");
        if (umount2(".", MNT_DETACH) < 0)
                return log_errno(LOG_ERR, -errno, "detach the old root: %m");
        return 0;
}

int rootfs_pivot(const RootfsOptions *o) {
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        r = clone_null_trees(o->spec);
        if (r < 0)
                return r;
        root_fd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_errno(LOG_ERR, -errno, "root.path: open '%s': %m", o->rootfs);
        r = pivot_into(o, root_fd);
        if (r < 0)
                return r;
        if (chdir("/") < 0)
                return log_errno(LOG_ERR, -errno, "chdir to the new root: %m");
        return 0;
}

static int mask_dir(MountTarget *t) {
        _cleanup_close_ int fs = -EBADF, mnt = -EBADF;

        fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
        if (fs < 0 && errno == ENOSYS)
                return mnt_fs(t, "tmpfs", "tmpfs", MS_RDONLY, NULL);
        if (fs < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
        if (mnt < 0)
                return -errno;
        return mnt_move_tree(mnt, t);
}

/* Fallback without open_tree(2): the container's /dev/null, if it is the null device. */
static int mask_file_legacy(MountTarget *t) {
        _cleanup_close_ int null_fd = -EBADF;
        struct stat st;
        int r;

        r = root_resolve(t->root_fd, "/dev/null", 0, &null_fd);
        if (r < 0)
                return r;
        if (fstat(null_fd, &st) < 0)
                return -errno;
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return -ENODEV;
        return mnt_bind_fd(null_fd, t, false, 0, 0);
}

static int mask_file(MountTarget *t) {
        _cleanup_close_ int tree = -EBADF;

        if (null_trees_used >= n_null_trees)
                return mask_file_legacy(t);
        tree = TAKE_FD(null_trees[null_trees_used]);
        null_trees_used++;
        return mnt_move_tree(tree, t);
}

static int mask_path(int root_fd, size_t i, const char *path) {
        _cleanup_(mount_target_done) MountTarget t = { .root_fd = root_fd, .path = path, .fd = -EBADF };
        struct stat st;
        int r;

        r = root_resolve(root_fd, path, 0, &t.fd);
        if (r == -ENOENT)
                return 0;
        if (r >= 0 && fstat(t.fd, &st) < 0)
                r = -errno;
        if (r >= 0)
                r = S_ISDIR(st.st_mode) ? mask_dir(&t) : mask_file(&t);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.maskedPaths[%zu] (%s): %m", i, path);
        return 0;
}

static int readonly_path(int root_fd, size_t i, const char *path) {
        _cleanup_(mount_target_done) MountTarget t = { .root_fd = root_fd, .path = path, .fd = -EBADF };
        int r;

        r = root_resolve(root_fd, path, 0, &t.fd);
        if (r == -ENOENT)
                return 0;
        /* Bind onto itself, read-only before it is attached; then the submounts too. */
        if (r >= 0)
                r = mnt_bind_fd(t.fd, &t, true, MOUNT_ATTR_RDONLY, 0);
        if (r >= 0) {
                r = mnt_setattr_fd(t.fd, MOUNT_ATTR_RDONLY, 0, true);
                if (r == -EOPNOTSUPP)
                        r = 0; /* no mount_setattr(2): the top mount is read-only, as with runc */
        }
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.readonlyPaths[%zu] (%s): %m", i, path);
        return 0;
}

static int set_names(const Spec *spec) {
        if (!spec->namespaces[NS_UTS].present)
                return 0;
        if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0)
                return log_errno(LOG_ERR, -errno, "hostname: sethostname '%s': %m", spec->hostname);
        if (spec->domainname && setdomainname(spec->domainname, strlen(spec->domainname)) < 0)
                return log_errno(LOG_ERR, -errno, "domainname: setdomainname '%s': %m", spec->domainname);
        return 0;
}

static void null_trees_free(void) {
        for (size_t i = 0; i < n_null_trees; i++)
                safe_close(null_trees[i]);
        free(null_trees);
        null_trees = NULL;
        n_null_trees = null_trees_used = 0;
        host_null_fd = safe_close(host_null_fd);
}

static int finalize_mounts(const Spec *spec, int root_fd) {
        unsigned long prop;
        int r;

        /* 1. maskedPaths, 2. readonlyPaths: after every other mount, so they cover those too. */
        for (size_t i = 0; spec->masked_paths && spec->masked_paths[i]; i++) {
                r = mask_path(root_fd, i, spec->masked_paths[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; spec->readonly_paths && spec->readonly_paths[i]; i++) {
                r = readonly_path(root_fd, i, spec->readonly_paths[i]);
                if (r < 0)
                        return r;
        }
        /* 3. root.readonly last: mounts below / were made while it was writable. Only the top
         * mount: /dev, /proc and tmpfs mounts stay as configured. */
        if (spec->root_readonly) {
                r = mnt_setattr_fd(root_fd, MOUNT_ATTR_RDONLY, 0, false);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "root.readonly: remount / read-only: %m");
        }
        /* 4. The requested propagation, now that pivot_root is done. */
        if (spec->rootfs_propagation && mount_propagation_from_string(spec->rootfs_propagation, &prop) == 0 &&
            mount(NULL, "/", NULL, prop, NULL) < 0)
                return log_errno(LOG_ERR, -errno, "linux.rootfsPropagation: set '%s' on /: %m",
                                 spec->rootfs_propagation);
        return 0;
}

int rootfs_finalize(const RootfsOptions *o) {
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        root_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                r = log_errno(LOG_ERR, -errno, "open /: %m");
        else
                r = finalize_mounts(o->spec, root_fd);
        null_trees_free();
        if (r < 0)
                return r;
        return set_names(o->spec);
}
