/* linux.resources as a typed structure (parsed by spec-resources.c, applied by cgroup-resources.c).
 * Every scalar the OCI spec makes optional is an Opt* with .set, so "absent" and "0" stay apart;
 * arrays are (pointer, count). Values are range-checked at parse time; whether cgroup v2 can
 * honour them is decided later (cgroup.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

typedef struct {
        bool set;
        int64_t value;
} OptInt64;

typedef struct {
        bool set;
        uint64_t value;
} OptUint64;

typedef struct {
        bool set;
        bool value;
} OptBool;

typedef struct {
        OptInt64 limit;       /* bytes; -1 = unlimited */
        OptInt64 reservation; /* bytes -> memory.low */
        OptInt64 swap;        /* memory+swap, as in cgroup v1; -1 = unlimited */
        OptInt64 kernel;      /* v1 only (deprecated) */
        OptInt64 kernel_tcp;  /* v1 only */
        OptUint64 swappiness; /* v1 only, 0..100 */
        OptBool disable_oom_killer;
        OptBool use_hierarchy; /* v1 only; v2 is always hierarchical */
        OptBool check_before_update;
} MemoryResources;

typedef struct {
        OptUint64 shares; /* v1 cpu.shares, converted to cpu.weight */
        OptInt64 quota;   /* microseconds per period; -1 = unlimited */
        OptUint64 burst;
        OptUint64 period;          /* microseconds */
        OptInt64 realtime_runtime; /* v1 only */
        OptUint64 realtime_period; /* v1 only */
        char *cpus;                /* cpuset list, NULL = not given */
        char *mems;
        OptInt64 idle; /* 0 or 1 */
} CpuResources;

typedef struct {
        int64_t major, minor;
        OptUint64 weight;      /* 10..1000 */
        OptUint64 leaf_weight; /* v1 only */
} BlockIOWeightDevice;

typedef struct {
        int64_t major, minor;
        uint64_t rate; /* bytes or operations per second; 0 = no limit */
} BlockIOThrottle;

enum blkio_throttle {
        BLKIO_THROTTLE_READ_BPS,
        BLKIO_THROTTLE_WRITE_BPS,
        BLKIO_THROTTLE_READ_IOPS,
        BLKIO_THROTTLE_WRITE_IOPS,
        _BLKIO_THROTTLE_MAX,
};

typedef struct {
        OptUint64 weight;      /* 10..1000 */
        OptUint64 leaf_weight; /* v1 only */
        BlockIOWeightDevice *weight_devices;
        size_t n_weight_devices;
        BlockIOThrottle *throttle[_BLKIO_THROTTLE_MAX];
        size_t n_throttle[_BLKIO_THROTTLE_MAX];
} BlockIOResources;

typedef struct {
        char *page_size; /* "2MB", "1GB": validated [0-9]+[KMG]B */
        uint64_t limit;  /* bytes */
} HugepageLimit;

typedef struct {
        char *device; /* no whitespace */
        OptUint64 hca_handles;
        OptUint64 hca_objects;
} RdmaLimit;

typedef struct {
        char *name;
        uint32_t priority;
} NetPriority;

typedef struct {
        OptUint64 class_id;
        NetPriority *priorities;
        size_t n_priorities;
} NetworkResources;

/* linux.resources.devices[]: parsed for a later device controller (eBPF / v1), not applied yet. */
typedef struct {
        bool allow;
        char type;             /* 'a', 'b' or 'c' */
        OptInt64 major, minor; /* absent = wildcard */
        char *access;          /* subset of "rwm", NULL = "rwm" */
} DeviceRule;

typedef struct ResourcesSpec {
        MemoryResources memory;
        CpuResources cpu;
        OptInt64 pids_limit; /* <= 0 means unlimited */
        BlockIOResources block_io;
        HugepageLimit *hugepage_limits;
        size_t n_hugepage_limits;
        RdmaLimit *rdma;
        size_t n_rdma;
        NetworkResources network;
        DeviceRule *devices;
        size_t n_devices;
        KeyValue *unified; /* cgroup v2 file name -> value, written verbatim */
        size_t n_unified;
} ResourcesSpec;

/* A resources object on its own (`update --resources FILE`): the same rules and messages as
 * config.json's linux.resources, with paths starting at "resources". */
int resources_parse_string(const char *json, size_t len, ResourcesSpec **ret, char **ret_error);

/* Whether a unified key may be written: a plain file name, not one of the cgroup.* files urun
 * itself manages (procs, threads, subtree_control, kill, freeze, type). */
bool resources_unified_key_ok(const char *key);

ResourcesSpec *resources_spec_free(ResourcesSpec *r);
static inline void resources_spec_freep(ResourcesSpec **r) {
        resources_spec_free(*r);
}
#define _cleanup_resources_spec_free_ _cleanup_(resources_spec_freep)
