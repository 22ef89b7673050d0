/* Idmapped bind mounts: mounts[].uidMappings/gidMappings and the "idmap"/"ridmap" options.
 *
 * The kernel idmaps a mount (mount_setattr(MOUNT_ATTR_IDMAP)) only for a caller with
 * CAP_SYS_ADMIN over the user namespace that owns the source's filesystem, and only on a detached
 * tree, which open_tree(OPEN_TREE_CLONE) makes for a caller with CAP_SYS_ADMIN over its mount
 * namespace. The container init, root of nothing but its own new user namespace, has neither for
 * a host filesystem; the runtime before clone has both when it is host root, or root of the user
 * namespace that mounted the source. So the parent prepares one detached idmapped tree per such
 * mount (mount_idmap_prepare), the init inherits the fds across clone and attaches each tree where
 * the mount goes (mounts.c), and the fds close at its execve (CLOEXEC). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "container.h"
#include "mount-options.h"

/* Whether the mount asks to be idmapped: mappings of its own, or "idmap"/"ridmap". */
bool mount_idmap_requested(const MountSpec *m, const MountOptions *mo);

/* Validation of mounts[i] (no side effects; logs "mounts[i]...: why"): idmapping needs a bind
 * mount, and uidMappings and gidMappings come together (as runc). */
int mount_idmap_validate(const MountSpec *m, size_t i, const MountOptions *mo, bool bind);

/* Before clone: *ret is NULL when no mount is idmapped, else an array of spec->n_mounts fds:
 * the detached idmapped tree of mounts[i] (CLOEXEC, above the --preserve-fds range), or -EBADF.
 * Logs one line naming the mount on failure and leaves nothing open. */
int mount_idmap_prepare(const Container *c, int **ret);

/* Close and free what mount_idmap_prepare returned (n: spec->n_mounts). Returns NULL. */
int *mount_idmap_close(int *fds, size_t n);
