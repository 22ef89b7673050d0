/* cgroup v2 for containers (cgroup v1 hierarchies are never touched).
 *
 *   cgroup_plan()    before any side effect: find the caller's cgroup and the cgroup2 mount, the
 *                    delegated node, the container's cgroup path, and check that every controller
 *                    the limits need is available there. Or decide "none": without delegation a
 *                    rootless container runs without a cgroup (one warning when it asked for limits).
 *   cgroup_create()  mkdir the leaf (and intermediate nodes), enable controllers top-down, write the
 *                    limits; returns a directory fd for clone3(CLONE_INTO_CGROUP) / cgroup_attach().
 *   lifecycle        freeze/thaw, kill, pids, stats, update, exec target, remove: by path (state).
 *
 * Layout (the "no internal processes" rule): the caller stays in its own cgroup. Containers go
 * into siblings of it under the delegated node (the reference layout: the caller lives in
 * .../user@UID.service/init.scope, containers in .../user@UID.service/<leaf>), or below the
 * caller's cgroup when only that one is delegated (then no controller can be enabled there while
 * the caller lives in it).
 *
 * --systemd-cgroup: the container's cgroup is a transient scope "PREFIX-NAME.scope" in SLICE
 * (cgroupsPath "slice:prefix:name", default ":urun:ID") that the systemd manager makes with
 * Delegate=yes (the user instance rootless, the system instance as root; cgroup-systemd.h). The
 * init starts inside it (the scope is made for a placeholder process first), and the limits are
 * written into it as for any cgroup. Without a manager to ask, the cgroupsPath becomes the cgroupfs
 * path systemd would use: below the hierarchy root (system instance) or below user@UID.service
 * among the caller's ancestors (user instance), with a warning; the same for that syntax without
 * --systemd-cgroup.
 *
 * Hosts where a cgroup v1 hierarchy is visible (hybrid) or without cgroup2 get "none" too: urun
 * never writes to a v1 hierarchy, nor to the unified one of a hybrid host.
 *
 * plan, create, update and exec_target log one line with context (the config field) on failure;
 * the other functions are silent and return -errno for the caller to report. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "resources.h"

typedef enum CgroupController {
        CGROUP_CPU,
        CGROUP_CPUSET,
        CGROUP_IO,
        CGROUP_MEMORY,
        CGROUP_PIDS,
        CGROUP_HUGETLB,
        CGROUP_RDMA,
        CGROUP_MISC,
        _CGROUP_CONTROLLER_MAX,
        _CGROUP_CONTROLLER_INVALID = -EINVAL,
} CgroupController;

#define CGROUP_MASK(c) (1u << (c))

const char *cgroup_controller_to_string(CgroupController c);
CgroupController cgroup_controller_from_string(const char *s); /* _CGROUP_CONTROLLER_INVALID if unknown */
/* "memory pids" (space-separated names in cgroup.controllers form) -> mask; unknown names ignored. */
unsigned cgroup_mask_from_string(const char *s);

/* ---- resources (cgroup-resources.c) ---- */

/* What a ResourcesSpec needs from cgroup v2. */
typedef struct {
        unsigned controllers;                      /* CGROUP_MASK() bits */
        const char *field[_CGROUP_CONTROLLER_MAX]; /* first field needing each: "linux.resources.memory.limit" */
        bool any;                                  /* any limit at all (also unified cgroup.* keys) */
} CgroupNeeds;

/* No side effects: what r needs, and whether cgroup v2 can express it. Values v2 cannot honour
 * are an error naming the field (realtime scheduling, swap without a memory limit); v1-only
 * knobs with no effect on v2 (kernel memory, swappiness, ...) are one warning each. r may be NULL. */
int cgroup_resources_check(const ResourcesSpec *r, CgroupNeeds *ret);

typedef enum {
        CGROUP_APPLY_UPDATE = 1 << 0, /* `update`: checkBeforeUpdate applies; swap alone uses the current memory.max */
} CgroupApplyFlags;

/* Write r into the cgroup directory dir_fd: cpu.weight (from shares), cpu.max, cpu.max.burst,
 * cpu.idle, cpuset.cpus/mems, memory.max/low/swap.max, pids.max, io.weight or io.bfq.weight,
 * io.max, hugetlb.<size>.max, rdma.max, then unified (which wins). Logs the field on failure. */
int cgroup_resources_apply(int dir_fd, const ResourcesSpec *r, CgroupApplyFlags flags);

/* The standard conversions (exported for tests). */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares); /* 0 = not set */
uint64_t cgroup_blkio_weight_to_io_weight(uint64_t w); /* 10..1000 -> 1..10000; 0 = not set */
/* OCI memory.swap (memory+swap) -> memory.swap.max; *ret is -1 for "max", -2 for "do not write". */
int cgroup_swap_to_v2(const OptInt64 *swap, const OptInt64 *limit, int64_t *ret);

/* Counters for `events --stats` (runc's cgroup v2 mapping). Missing files (controller not
 * enabled) leave has_* false. Limits of "max" read as UINT64_MAX. */
typedef struct {
        char *name;
        uint64_t value;
} CgroupStatEntry;

typedef struct {
        uint32_t major, minor;
        uint64_t rbytes, wbytes, rios, wios;
} CgroupIoStat;

typedef struct {
        char *page_size;                /* "2MB" */
        uint64_t current, max, failcnt; /* failcnt: hugetlb.<size>.events "max" */
} CgroupHugetlbStat;

typedef struct {
        bool has_cpu;
        uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec;
        uint64_t cpu_nr_periods, cpu_nr_throttled, cpu_throttled_usec;
        bool has_memory;
        uint64_t memory_current, memory_max, memory_swap_current, memory_swap_max;
        uint64_t memory_events_low, memory_events_high, memory_events_max, memory_events_oom, memory_events_oom_kill;
        CgroupStatEntry *memory_stat; /* memory.stat verbatim */
        size_t n_memory_stat;
        bool has_pids;
        uint64_t pids_current, pids_max;
        CgroupIoStat *io;
        size_t n_io;
        CgroupHugetlbStat *hugetlb;
        size_t n_hugetlb;
} CgroupStats;

int cgroup_stats_read(int dir_fd, CgroupStats *ret);
void cgroup_stats_done(CgroupStats *s);

/* ---- discovery and plan (cgroup.c) ---- */

/* The "0::PATH" line of a /proc/PID/cgroup text; -ENOENT when there is none (cgroup v1 only). */
int cgroup_parse_proc_cgroup(const char *text, char **ret);
/* The cgroup2 mount (visible in this mount namespace) whose root contains cgroup `own`, from a
 * mountinfo text: its mount point and root. *ret_hybrid: a cgroup v1 hierarchy is visible too. */
int cgroup_find_mount(const char *mountinfo, const char *own, char **ret_mount, char **ret_root, bool *ret_hybrid);
/* linux.cgroupsPath "slice:prefix:name" (systemd driver syntax) -> the cgroupfs path it names,
 * relative ("user.slice/urun-x.scope"); -EINVAL if path is not in that form or invalid. */
int cgroup_systemd_path(const char *path, bool rootless, char **ret);

typedef struct {
        const char *id;                 /* the default leaf is "urun-<id>" */
        const char *cgroups_path;       /* linux.cgroupsPath; NULL = default */
        const ResourcesSpec *resources; /* NULL = no limits */
        bool rootless;                  /* no host root: lack of delegation is not an error */
        bool systemd;                   /* --systemd-cgroup */
        const char *proc_self;          /* tests: directory with "cgroup" and "mountinfo" (default /proc/self) */
        const char *delegate_file;      /* tests: default /sys/kernel/cgroup/delegate */
        int min_fd;                     /* a connection the plan keeps open goes at or above this fd */
        const char *systemd_address;    /* tests: the only systemd endpoint tried (systemd_bus_open) */
} CgroupPlanOptions;

struct SystemdBus; /* cgroup-systemd.h */

typedef struct {
        bool none;               /* run without a cgroup */
        const char *none_reason; /* for state: "not delegated", "no cgroup2", "hybrid cgroup v1/v2 host" */
        char *mount;             /* cgroup2 mount point */
        char *own;               /* the caller's cgroup directory */
        char *base;              /* the node the container's cgroup is created under */
        char *path;              /* the container's cgroup directory */
        char *top;               /* the first directory create makes (path or an ancestor), NULL: path exists */
        CgroupNeeds needs;
        const ResourcesSpec *resources;
        struct SystemdBus *systemd; /* the scope is asked of this manager (path: where it will be) */
        char *unit, *slice, *description;
} CgroupPlan;

/* 0 with *ret filled (release it with cgroup_plan_done()), or -errno after one logged line and
 * with nothing to release: -EINVAL bad cgroupsPath, -EOPNOTSUPP a limit cgroup v2 or the subtree
 * cannot honour, -EACCES no delegation and not rootless, -EBUSY the existing cgroup is in use. */
int cgroup_plan(const CgroupPlanOptions *o, CgroupPlan *ret);
void cgroup_plan_done(CgroupPlan *p);

/* ---- the container's cgroup (cgroup-ops.c) ---- */

typedef struct {
        char *path;        /* the container's cgroup directory (absolute): record it in the state */
        char *top;         /* delete removes path and the empty ancestors up to top: record it too;
                            * NULL: path is a systemd scope, which systemd removes once it is empty */
        int fd;            /* O_DIRECTORY fd of path, for clone3(CLONE_INTO_CGROUP) or cgroup_attach() */
        pid_t placeholder; /* a systemd scope's first process, until cgroup_settle() */
} Cgroup;

#define CGROUP_NULL \
        { .path = NULL, .top = NULL, .fd = -EBADF, .placeholder = 0 }

/* Nothing to do (Cgroup stays empty, fd -EBADF) when the plan says none. On failure everything
 * create made is removed again. A systemd scope holds a placeholder process until the init is
 * in it, and its limits are written only then (the placeholder would count against pids.max). */
int cgroup_create(const CgroupPlan *p, Cgroup *ret);
/* Once the container's first process is in the cgroup: end a systemd scope's placeholder and
 * write its limits (logs the field on failure). Nothing to do otherwise. */
int cgroup_settle(const CgroupPlan *p, Cgroup *c);
void cgroup_done(Cgroup *c); /* ends a placeholder, closes and frees; removes nothing */

/* Move pid into the cgroup of cgroup_fd (its cgroup.procs). */
int cgroup_attach(int cgroup_fd, pid_t pid);

/* The directory an `exec`ed process joins: the container's cgroup itself, or when that cannot
 * hold processes (controllers enabled for its children, or threaded), the init's cgroup below it,
 * else a sub-cgroup "urun-exec" made on demand. Returns an O_DIRECTORY fd. */
int cgroup_exec_target(const char *path, pid_t init_pid, int *ret_fd);

/* Apply a new ResourcesSpec to an existing cgroup (`update`): enables controllers it needs. */
int cgroup_update(const char *path, const ResourcesSpec *r);
/* After cgroup_update of a systemd scope (path ends in NAME.scope): tell its manager (the user
 * instance when user) the new pids and memory limits, so that a daemon-reload keeps them. Only
 * warns. */
void cgroup_scope_update(const char *path, bool user, const ResourcesSpec *r);

/* cgroup.freeze, then wait (bounded) for "frozen 1" (or 0) in cgroup.events. -EOPNOTSUPP
 * without cgroup.freeze (kernel < 5.2), -ETIMEDOUT if the state is not reached (freeze is undone). */
int cgroup_freeze(const char *path, bool frozen);
int cgroup_is_frozen(const char *path, bool *ret);

/* Signal every process of the subtree: cgroup.kill for SIGKILL (kernel >= 5.14), else every pid
 * in cgroup.procs, with the cgroup frozen meanwhile so nothing forks past us. */
int cgroup_kill(const char *path, int sig);
/* Wait until "populated 0" in cgroup.events; -ETIMEDOUT after timeout_ms. */
int cgroup_wait_empty(const char *path, int timeout_ms);

/* Every pid of the subtree (sorted, unique), as seen in our pid namespace. */
int cgroup_pids(const char *path, pid_t **ret, size_t *ret_n);
int cgroup_stats(const char *path, CgroupStats *ret);

/* rmdir the sub-cgroups, path, then its empty ancestors up to top (never above it). 0 if path is
 * gone already; -EBUSY when processes are still in it. top NULL (a systemd scope): only the
 * sub-cgroups; systemd removes the scope itself when it is empty. */
int cgroup_remove(const char *path, const char *top);

/* Kill what is left in the subtree (SIGKILL), wait until it is empty, remove it as cgroup_remove.
 * Nothing to do when path is NULL. */
int cgroup_destroy(const char *path, const char *top);
