/* Private to rootfs.c, mounts.c and devices.c: the in-root resolver and fd-based mount helpers. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "rootfs.h"

#define PROC_FD_PATH_MAX 32 /* "/proc/self/fd/" + an int */

enum {
        ROOT_CREATE_DIR = 1 << 0,  /* create missing components (0755) including the last one */
        ROOT_CREATE_FILE = 1 << 1, /* create missing parents as directories, the last as a 0644 file */
        ROOT_NO_SYMLINKS = 1 << 2, /* -ELOOP when any component is a symlink (/proc, /sys targets) */
};

/* Open path (relative to root_fd's directory, leading '/' allowed) as O_PATH without ever leaving
 * root_fd: symlinks and ".." are resolved as if root_fd were "/" (openat2 RESOLVE_IN_ROOT, or a
 * component walk with readlinkat when openat2 is unavailable or URUN_TEST_NO_OPENAT2=1). */
int root_resolve(int root_fd, const char *path, unsigned flags, int *ret_fd);
/* Resolve (creating) the parent directory of path; ret_name is the last component. -EINVAL for
 * paths without a last component ("/", "a/.."). */
int root_resolve_parent(int root_fd, const char *path, int *ret_dir_fd, char **ret_name);

/* "/proc/self/fd/N": only while a trustworthy /proc is mounted (the host's, before pivot_root). */
const char *fd_proc_path(int fd, char buf[static PROC_FD_PATH_MAX]);

/* A mount target inside the root: fd is O_PATH; path (relative to root_fd) is used only to
 * re-resolve, safely, the new mount's root after mount(2) covered the old fd. */
typedef struct {
        int root_fd;
        const char *path;
        int fd;
} MountTarget;

/* Bind src_fd's file/directory onto t->fd (open_tree + move_mount; mount(MS_BIND) through
 * /proc/self/fd when the new mount API is missing). attr_set/attr_clr (MOUNT_ATTR_*) go to the new
 * top mount before it becomes visible. On success t->fd refers to the new mount. */
int mnt_bind_fd(int src_fd, MountTarget *t, bool recursive, uint64_t attr_set, uint64_t attr_clr);
/* Mount a new filesystem (mount(2) on /proc/self/fd/N); on success t->fd is the new mount. */
int mnt_fs(MountTarget *t, const char *source, const char *type, unsigned long flags, const char *data);
/* Attach a detached tree (open_tree/fsmount fd) onto t->fd. */
int mnt_move_tree(int tree_fd, MountTarget *t);
/* Change per-mount attributes of the mount at fd. Without mount_setattr(2): MS_REMOUNT|MS_BIND with
 * the flags statvfs reports (the kernel refuses to drop flags locked in a user namespace). */
int mnt_setattr_fd(int fd, uint64_t attr_set, uint64_t attr_clr, bool recursive);
/* Change the propagation of the mount at fd (MS_SHARED|MS_REC...). */
int mnt_propagation_fd(int fd, unsigned long propagation);
void mount_target_done(MountTarget *t);
#define _cleanup_mount_target_ _cleanup_(mount_target_done)

/* Lexically normalized absolute path ("//a/./b/" -> "/a/b", ".." pops); NULL on OOM. */
char *path_normalize(const char *p);

/* Steps of rootfs_prepare that live in mounts.c and devices.c; they log their own errors. */
int mounts_apply(const RootfsOptions *o, int root_fd, bool *ret_dev_tmpfs);
int mount_validate_one(const Spec *spec, size_t i);
int devices_setup(const RootfsOptions *o, int root_fd, bool dev_is_tmpfs);
int devices_validate(const Spec *spec);
