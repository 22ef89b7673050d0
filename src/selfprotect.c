/* Protecting the host from the runtime's own process.
 *
 * Setuid: a rootless runtime needs no privileges of its own. Run setuid (or setgid, or with file
 * capabilities) it would do everything the config asks with the owner's rights on behalf of
 * whoever calls it: refuse before parsing anything.
 *
 * /proc/self/exe (CVE-2019-5736): until its execve, the container's process *is* this binary, and
 * so is every `urun exec` process joining a container. A process in the container can open
 * /proc/PID/exe of such a process (or run it, through a `#!/proc/self/exe` interpreter line), keep
 * the fd and, once the runtime has exited, reopen it for writing through /proc/self/fd/N: the host's
 * runtime binary is then replaced by the container, and the next `urun` run by the host is the
 * container's code. So before the verbs that put processes into containers, make sure the file
 * behind /proc/self/exe cannot be written:
 *   - as host root (who can write any binary): re-execute from a detached read-only bind mount of
 *     the binary (open_tree + mount_setattr). No copy: the cost is two syscalls and one execve. The
 *     mount has no place in any namespace, so the container cannot remount it; it lives as long as
 *     a process runs from it. Without the mount API: a sealed memfd copy, as runc does.
 *   - otherwise (rootless, or root in a user namespace without host privileges): the container's
 *     users are the caller and its subordinate ids, so only a binary the caller could write (or
 *     chmod, as its owner) is at risk. Only then re-execute from a sealed memfd copy; an unwritable
 *     binary (the normal install: root-owned, 0755) costs nothing at all.
 * The re-executed process sees /proc/self/exe on a read-only mount or sealed, which is also what
 * stops the loop. */
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "idmap.h"
#include "log.h"
#include "selfprotect.h"

#ifndef MFD_EXEC
#        define MFD_EXEC 0x0010U /* Linux 6.3: executable memfd even under vm.memfd_noexec=1 */
#endif
#ifndef TMPFS_MAGIC
#        define TMPFS_MAGIC 0x01021994
#endif

#define EXE_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

extern char **environ;

int selfprotect_refuse_setuid(void) {
        uid_t uid = getuid(), euid = geteuid();
        gid_t gid = getgid(), egid = getegid();

        /* AT_SECURE also covers file capabilities and an LSM's secure-exec transition. */
        if (uid == euid && gid == egid && getauxval(AT_SECURE) == 0)
                return 0;
        return log_errno(LOG_ERR, -EPERM,
                         "refusing to run setuid or setgid (real uid %u gid %u, effective uid %u gid %u, "
                         "secure-exec %lu): urun needs no privileges of its own, install it without "
                         "the s bit or file capabilities",
                         (unsigned) uid, (unsigned) gid, (unsigned) euid, (unsigned) egid,
                         getauxval(AT_SECURE));
}

/* Already running from something that cannot be written: a read-only mount (our bind mount, or a
 * binary installed on a read-only filesystem) or a memfd sealed against writes (our copy). */
static bool exe_is_protected(int exe_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct statvfs vfs;
        struct statfs fs;
        int seals;

        if (fstatvfs(exe_fd, &vfs) >= 0 && (vfs.f_flag & ST_RDONLY))
                return true;
        /* memfds live on the kernel's internal tmpfs; spare other binaries the extra open */
        if (fstatfs(exe_fd, &fs) < 0 || fs.f_type != TMPFS_MAGIC)
                return false;
        fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC); /* F_GET_SEALS needs a real open */
        if (fd < 0)
                return false;
        seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & EXE_SEALS) == EXE_SEALS;
}

/* Whether the caller, and so the container's users, could change the binary: writable by us, ours
 * (an owner can chmod; the container's root is usually the caller), or writable by group or others. */
static bool exe_writable(const struct stat *st) {
        if (faccessat(AT_FDCWD, "/proc/self/exe", W_OK, AT_EACCESS) >= 0)
                return true;
        return st->st_uid == geteuid() || (st->st_mode & (S_IWGRP | S_IWOTH));
}

/* execveat(fd, "", AT_EMPTY_PATH) names the program "/dev/fd/N" (AT_EXECFN), and kernels before
 * 6.14 also make that "N" its comm: restore the name ps and pgrep know. */
static void restore_comm(char **argv) {
        const char *execfn = (const char *) getauxval(AT_EXECFN);
        _cleanup_free_ char *copy = NULL;

        if (!execfn || strncmp(execfn, "/dev/fd/", 8) != 0 || !argv[0])
                return;
        copy = strdup(argv[0]);
        if (copy)
                (void) prctl(PR_SET_NAME, basename(copy));
}

/* Returns only on failure: -ENOSYS/-EPERM mean "no usable mount API here". */
static int reexec_ro_bind(int exe_fd, char **argv) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        _cleanup_close_ int tree = -EBADF;

        tree = open_tree(exe_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
                return -errno;
        log_debug("re-executing from a read-only bind mount of the binary (CVE-2019-5736)");
        execveat(tree, "", argv, environ, AT_EMPTY_PATH);
        return -errno;
}

static int memfd_exec_create(void) {
        int fd = memfd_create("urun", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

        if (fd < 0 && errno == EINVAL) /* before Linux 6.3: no MFD_EXEC, and exec is the default */
                fd = memfd_create("urun", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        return fd < 0 ? -errno : fd;
}

/* A sealed in-memory copy: writes to it fail, and it is not the host's file anyway. Returns only
 * on failure, with errno-style r and a description of the step in *what. */
static int reexec_memfd(const struct stat *st, char **argv, const char **what) {
        _cleanup_close_ int src = -EBADF, mfd = -EBADF;
        off_t off = 0;

        *what = "opening /proc/self/exe";
        src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (src < 0)
                return -errno;
        *what = "memfd_create";
        mfd = memfd_exec_create();
        if (mfd < 0)
                return mfd;
        /* sendfile, not copy_file_range: that refuses copies across filesystems (EXDEV) since 5.19 */
        *what = "copying the binary";
        while (off < st->st_size) {
                ssize_t n = sendfile(mfd, src, &off, (size_t) (st->st_size - off));
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* the file shrank under us */
        }
        *what = "sealing the copy";
        if (fcntl(mfd, F_ADD_SEALS, EXE_SEALS) < 0)
                return -errno;
        log_debug("re-executing from a sealed copy of the binary (CVE-2019-5736)");
        *what = "executing the copy";
        fexecve(mfd, argv, environ);
        return -errno;
}

int selfprotect_exe(int argc, char **argv) {
        _cleanup_close_ int exe = -EBADF;
        const char *what = NULL;
        struct stat st;
        int r;

        if (argc < 1 || argv[argc])
                return log_errno(LOG_ERR, -EINVAL, "protecting the binary: bad argument vector");
        exe = open("/proc/self/exe", O_PATH | O_CLOEXEC);
        if (exe < 0 || fstat(exe, &st) < 0)
                return log_errno(LOG_ERR, -errno,
                                 "protecting the binary: /proc/self/exe: %m (is /proc mounted?)");
        if (exe_is_protected(exe)) {
                restore_comm(argv);
                return 0;
        }
        if (geteuid() == 0 && !idmap_in_nested_userns()) {
                r = reexec_ro_bind(exe, argv);
                if (r != -ENOSYS && r != -EPERM)
                        return log_errno(LOG_ERR, r, "protecting the binary: read-only bind mount: %m");
                log_debug("no mount API for a read-only bind of the binary (%s): using a sealed copy",
                          strerror(-r));
        } else if (!exe_writable(&st))
                return 0;
        r = reexec_memfd(&st, argv, &what);
        return log_errno(LOG_ERR, r, "protecting the binary: %s: %m", what);
}
