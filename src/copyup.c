/* tmpcopyup. The source is the container image, which is untrusted and may be changed by anyone
 * sharing it while we copy: every name is opened below a directory fd with O_NOFOLLOW, a file is
 * read only after its inode (held as O_PATH) was seen to be a regular file, so a fifo or device
 * swapped in is never opened; symlinks are copied as links and never followed; the nesting depth
 * is bounded. The destination is the fresh tmpfs, which no other process can reach yet. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "copyup.h"
#include "rootfs-internal.h"
#include "util.h"

#define COPYUP_MAX_DEPTH 128 /* each level holds a DIR and a directory fd open */

static int fail(CopyupError *e, const char *step, int r) {
        e->step = step;
        return r;
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* Append "/name" to e->path; *ret_len is the length to cut it back to afterwards. */
static int path_push(CopyupError *e, const char *name, size_t *ret_len) {
        size_t len = strlen(e->path), n = strlen(name);
        size_t slash = len == 0 || e->path[len - 1] != '/';

        if (len + slash + n >= sizeof(e->path))
                return fail(e, "path too long", -ENAMETOOLONG);
        if (slash)
                e->path[len] = '/';
        memcpy(e->path + len + slash, name, n + 1);
        *ret_len = len;
        return 0;
}

/* Owner first (chown clears set-id bits), then mode, then times, on an entry we just created in
 * the private tmpfs (fchmodat would follow a symlink: never called for one). An owner this user
 * namespace does not map (the image shows it as the overflow id) cannot be set: EINVAL, the copy
 * keeps ours. */
static int copy_meta(int dfd, const char *name, const struct stat *st, CopyupError *e) {
        const struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fchownat(dfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
                return fail(e, "chown", -errno);
        if (!S_ISLNK(st->st_mode) && fchmodat(dfd, name, st->st_mode & 07777, 0) < 0)
                return fail(e, "chmod", -errno);
        if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return fail(e, "set the times", -errno);
        return 0;
}

static int copy_bytes_rw(int in, int out) {
        char buf[16384];

        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));
                int r;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                r = write_all(out, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
}

static int copy_bytes(int in, int out) {
        for (;;) {
                ssize_t n = sendfile(out, in, NULL, 1 << 30);

                if (n == 0)
                        return 0;
                if (n < 0 && (errno == EINVAL || errno == ENOSYS))
                        return copy_bytes_rw(in, out); /* continues at in's offset */
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

static int copy_file(int sdir, int ddir, const char *name, CopyupError *e) {
        _cleanup_close_ int path_fd = -EBADF, in = -EBADF, out = -EBADF;
        char buf[PROC_FD_PATH_MAX];
        struct stat st;
        int r;

        path_fd = openat(sdir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (path_fd < 0)
                return fail(e, "open", -errno);
        if (fstat(path_fd, &st) < 0)
                return fail(e, "stat", -errno);
        if (!S_ISREG(st.st_mode))
                return fail(e, "it changed while being copied", -ESTALE);
        /* The same inode, now for reading (the host's /proc: we have not pivoted yet). */
        in = open(fd_proc_path(path_fd, buf), O_RDONLY | O_NOCTTY | O_CLOEXEC);
        if (in < 0)
                return fail(e, "open", -errno);
        out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return fail(e, "create", -errno);
        r = copy_bytes(in, out);
        if (r < 0)
                return fail(e, "copy the content", r);
        return copy_meta(ddir, name, &st, e);
}

static int copy_symlink(int sdir, int ddir, const char *name, const struct stat *st, CopyupError *e) {
        char target[PATH_MAX];
        ssize_t n = readlinkat(sdir, name, target, sizeof(target));

        if (n < 0)
                return fail(e, "readlink", -errno);
        if ((size_t) n >= sizeof(target))
                return fail(e, "readlink", -ENAMETOOLONG);
        target[n] = '\0';
        if (symlinkat(target, ddir, name) < 0)
                return fail(e, "symlink", -errno);
        return copy_meta(ddir, name, st, e);
}

/* Fifos, sockets and device nodes are created anew (a socket has no listener); nothing is opened.
 * A device node is no more than what the image already offers at its own path. */
static int copy_special(int ddir, const char *name, const struct stat *st, CopyupError *e) {
        bool dev = S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode);

        if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, dev ? st->st_rdev : 0) < 0)
                return fail(e, dev ? "mknod (device nodes need host privileges)" : "mknod", -errno);
        return copy_meta(ddir, name, st, e);
}

static int copy_dir(int sdir, int ddir, const char *name, unsigned depth, CopyupError *e);

/* Takes sfd (an O_RDONLY directory fd) over, even on failure. */
static int copy_children(int sfd, int dfd, unsigned depth, CopyupError *e) {
        _cleanup_(closedirp) DIR *d = NULL;

        if (sfd < 0)
                return fail(e, "open", -errno);
        d = fdopendir(sfd);
        if (!d) {
                int r = -errno;

                safe_close(sfd);
                return fail(e, "read the directory", r);
        }
        for (;;) {
                struct dirent *de;
                struct stat st;
                size_t len;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de)
                        return errno != 0 ? fail(e, "read the directory", -errno) : 0;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                r = path_push(e, de->d_name, &len);
                if (r < 0)
                        return r;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return fail(e, "stat", -errno);
                if (S_ISDIR(st.st_mode))
                        r = copy_dir(dirfd(d), dfd, de->d_name, depth, e);
                else if (S_ISREG(st.st_mode))
                        r = copy_file(dirfd(d), dfd, de->d_name, e);
                else if (S_ISLNK(st.st_mode))
                        r = copy_symlink(dirfd(d), dfd, de->d_name, &st, e);
                else
                        r = copy_special(dfd, de->d_name, &st, e);
                if (r < 0)
                        return r; /* e->path names the entry */
                e->path[len] = '\0';
        }
}

static int copy_dir(int sdir, int ddir, const char *name, unsigned depth, CopyupError *e) {
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        struct stat st;
        int r;

        if (depth >= COPYUP_MAX_DEPTH)
                return fail(e, "nested more than 128 directories deep", -ELOOP);
        /* O_DIRECTORY fails before a device swapped in would be opened. */
        in = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return fail(e, "open", -errno);
        if (fstat(in, &st) < 0)
                return fail(e, "stat", -errno);
        if (mkdirat(ddir, name, 0700) < 0)
                return fail(e, "mkdir", -errno);
        out = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
                return fail(e, "open the copy", -errno);
        r = copy_children(TAKE_FD(in), out, depth + 1, e);
        if (r < 0)
                return r;
        /* Last: a read-only directory is filled first, and filling it changed its times. */
        return copy_meta(ddir, name, &st, e);
}

/* Whether the comma-separated data has a word starting with key ("mode="). */
static bool data_sets(const char *data, const char *key) {
        size_t n = strlen(key);

        for (const char *p = data; p && *p; p += strspn(p, ",")) {
                if (strncmp(p, key, n) == 0)
                        return true;
                p += strcspn(p, ",");
        }
        return false;
}

/* The tmpfs root takes the covered directory's place: its owner, mode and times, except what the
 * mount's own mode=, uid= and gid= decide. */
static int copy_root_meta(int fd, const struct stat *st, const char *data, CopyupError *e) {
        const struct timespec ts[2] = { st->st_atim, st->st_mtim };
        uid_t uid = data_sets(data, "uid=") ? (uid_t) -1 : st->st_uid;
        gid_t gid = data_sets(data, "gid=") ? (gid_t) -1 : st->st_gid;

        if (fchown(fd, uid, gid) < 0 && errno != EINVAL)
                return fail(e, "chown", -errno);
        if (!data_sets(data, "mode=") && fchmod(fd, st->st_mode & 07777) < 0)
                return fail(e, "chmod", -errno);
        if (futimens(fd, ts) < 0)
                return fail(e, "set the times", -errno);
        return 0;
}

int copyup_tree(int src_fd, int dst_fd, const char *dest, const char *fs_data, CopyupError *err) {
        _cleanup_close_ int out = -EBADF;
        struct statfs sfs;
        struct stat st;
        int r;

        err->step = NULL;
        snprintf(err->path, sizeof(err->path), "%s", dest);
        out = openat(dst_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out < 0)
                return fail(err, "open the new tmpfs", -errno);
        /* Only ever write into the new tmpfs, never into the image. */
        if (fstatfs(out, &sfs) < 0)
                return fail(err, "statfs the new tmpfs", -errno);
        if (sfs.f_type != TMPFS_MAGIC)
                return fail(err, "the mount is not a tmpfs", -EXDEV);
        if (fstat(src_fd, &st) < 0)
                return fail(err, "stat", -errno);
        r = copy_children(fcntl(src_fd, F_DUPFD_CLOEXEC, 3), out, 0, err);
        if (r < 0)
                return r;
        return copy_root_meta(out, &st, fs_data, err);
}
