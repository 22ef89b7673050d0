/* The container's filesystem view, set up inside its mount namespace (as root of its user
 * namespace). Every path inside the rootfs is resolved without leaving it (openat2 RESOLVE_IN_ROOT
 * with a safe fallback), and mounts land on file descriptors, never on re-resolved paths. */
#pragma once

#include <stdbool.h>

#include "spec.h"

typedef struct {
        const Spec *spec;
        const char *rootfs;     /* absolute host path of the root filesystem */
        bool can_mknod;         /* false when rootless or in a nested user namespace */
        bool owns_netns;        /* a new network namespace: sysfs can be mounted */
        bool owns_pidns;        /* a new pid namespace: procfs can be mounted fresh */
        bool owns_ipcns;
        bool owns_cgroupns;
        const char *cgroup_path; /* the container's cgroup directory (host path), NULL: none */
        bool no_pivot;
        bool rootless;          /* not host root: gid=5 etc. may be unmapped */
        const int *idmap_fds;   /* per mounts[] entry: its idmapped tree prepared before clone, or < 0;
                                 * NULL: none (mount-idmap.h) */
} RootfsOptions;

/* Check mount entries and paths before anything is created (no side effects). */
int rootfs_validate(const Spec *spec);
/* Steps 1..n before pivot_root: propagation, rootfs bind, mounts[] in order, /dev nodes and links. */
int rootfs_prepare(const RootfsOptions *o);
/* pivot_root (or chroot with no_pivot) into o->rootfs, chdir("/"). */
int rootfs_pivot(const RootfsOptions *o);
/* After pivot: maskedPaths, readonlyPaths, root.readonly, rootfsPropagation, hostname/domainname. */
int rootfs_finalize(const RootfsOptions *o);
