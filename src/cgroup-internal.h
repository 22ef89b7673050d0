/* Private to cgroup.c (discovery, plan) and cgroup-ops.c (the operations): path helpers for
 * absolute paths without a trailing '/', and cgroup file readers. All silent. */
#pragma once

#include <stdbool.h>

#define MAX_DEPTH 64 /* cgroup nesting we follow when walking or enabling (the kernel allows more) */

char *cgroup_path_parent(const char *p);                       /* "/a/b" -> "/a", "/a" -> "/" */
bool cgroup_path_within(const char *prefix, const char *path); /* path is prefix or below it */
char *cgroup_path_join(const char *a, const char *b);
/* The directory of cgroup cg (a /proc/PID/cgroup path) under a cgroup2 mount of root `root`. */
char *cgroup_dir_of(const char *mount, const char *root, const char *cg);

/* O_DIRECTORY fd of path, -ENOTDIR unless it is on a cgroup2 file system. */
int cgroup_open_dir(const char *path);
/* cgroup.controllers / cgroup.subtree_control as a CGROUP_MASK() set. */
int cgroup_read_mask_at(int dfd, const char *file, unsigned *ret);
int cgroup_read_mask(const char *dir, const char *file, unsigned *ret);
