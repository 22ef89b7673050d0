/* Cgroup ownership (OCI runtime spec, config-linux "Cgroup Ownership"): when the container gets a
 * new cgroup namespace and mounts cgroupfs read-write on /sys/fs/cgroup, its cgroup directory and
 * the files the kernel lists as delegatable (/sys/kernel/cgroup/delegate; fallback cgroup.procs,
 * cgroup.subtree_control, cgroup.threads) are given to the container's process user, so that a
 * "rw" cgroup mount is really writable by it. Otherwise nothing is changed (a read-only cgroup
 * mount, no cgroup namespace, or no cgroup at all). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "spec.h"

/* Pure: the spec's conditions (new cgroup namespace, a "cgroup"/"cgroup2" mount on /sys/fs/cgroup
 * without "ro"). new_cgroupns: the container creates its cgroup namespace. */
bool cgroup_owner_wanted(const Spec *spec, bool new_cgroupns);

/* chown the cgroup directory dir_fd and the delegatable files that exist in it to uid:gid
 * (ids as the caller's user namespace sees them). delegate_file NULL: the kernel's list. */
int cgroup_owner_chown(int dir_fd, const char *delegate_file, uid_t uid, gid_t gid);
