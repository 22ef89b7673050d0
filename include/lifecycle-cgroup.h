/* Verbs built on the container's cgroup: pause, resume, ps, update, events. Each opens the
 * container like the other verbs (lifecycle.h), checks its status, and requires the cgroup the
 * state recorded; a container that runs without one ("cgroup": "none (...)" in `state`) gets one
 * clear error naming why, e.g. "container 'X' has no cgroup (none: not delegated): cannot pause".
 * ps alone has a fallback without a cgroup (container_pids()). Every function logs one line on
 * failure. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cli.h"
#include "resources.h"
#include "state.h"

/* Freeze (pause: the container must be running) or thaw (resume: it must be paused) its cgroup,
 * waiting until the kernel reports the new state in cgroup.events. */
int container_pause(const GlobalOptions *g, const char *id);
int container_resume(const GlobalOptions *g, const char *id);

/* The container's processes as pids of our pid namespace, sorted: every process of its cgroup;
 * without a cgroup, container_pidns_pids(). */
int container_pids(const GlobalOptions *g, const char *id, pid_t **ret, size_t *ret_n);

/* Write r into the cgroup of a created, running or paused container (cgroup_update()). The
 * cgroup files are the record: a later `exec` joins the cgroup and runs under the new limits. */
int container_update(const GlobalOptions *g, const char *id, const ResourcesSpec *r);

/* What `events` watches, taken while the container is locked; the lock is released on return,
 * so that a long-running `events` never holds up `delete`. */
typedef struct {
        char *cgroup_path;
        int pidfd; /* the init: readable when it exits, which ends `events` */
} ContainerWatch;

#define CONTAINER_WATCH_NULL \
        { .cgroup_path = NULL, .pidfd = -EBADF }

/* The container must exist, not be stopped, and have a cgroup. */
int container_watch_open(const GlobalOptions *g, const char *id, ContainerWatch *ret);
void container_watch_done(ContainerWatch *w);

/* The processes of a container without a cgroup: every process in the pid namespace of its init
 * when that namespace is not ours, else the init alone (a process sharing our pid namespace
 * cannot be told apart from the host's). Sorted; empty when the init is gone. Silent. Also what
 * `kill --all` signals without a cgroup. */
int container_pidns_pids(const ContainerState *s, pid_t **ret, size_t *ret_n);
