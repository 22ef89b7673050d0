/* Kernel overlayfs, no FUSE: the container's root as an overlay over the bundle's rootfs
 * (annotations["io.github.urun.rootfs-overlay"]) and the mount data of type "overlay" entries in mounts[].
 * Part of the rootfs module: called from rootfs.c and mounts.c, in the container's mount namespace. */
#pragma once

#include "spec.h"

#define OVERLAY_ANNOTATION "io.github.urun.rootfs-overlay"

/* The annotation's value is "tmpfs" or an absolute path (no side effects; logs the error). */
int overlay_validate(const Spec *spec);

/* With the annotation, make rootfs a mount point: an overlay with rootfs as its only lower layer
 * and the upper in a private tmpfs ("tmpfs") or in DIR/upper ("/DIR"); where the kernel cannot
 * mount it, a read-only bind of rootfs and one warning. Returns 0 without the annotation (nothing
 * done), 1 when rootfs is now a mount point, <0 after logging the error. */
int overlay_mount_rootfs(const Spec *spec, const char *rootfs);

/* Mount data for a type "overlay" entry of mounts[]: *ret is data plus "userxattr" when the mount
 * happens outside the initial user namespace and data makes no xattr choice of its own, else NULL
 * (use data as it is). */
int overlay_mount_data(const char *data, char **ret);
