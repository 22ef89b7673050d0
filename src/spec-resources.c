/* config.json: linux.resources -> ResourcesSpec (resources.h). Types and ranges are checked here,
 * with the field's path in the message; whether the cgroup can honour a value is decided when the
 * cgroup is planned (cgroup.c), since that depends on the host. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cpu-list.h"
#include "resources.h"
#include "spec-internal.h"
#include "util.h"

/* ---- typed optional scalars ---- */

static int parse_opt_i64(ParseCtx *c, json_object *v, void *dest) {
        OptInt64 *o = dest;
        int r = parse_i64(c, v, &o->value);
        if (r < 0)
                return r;
        o->set = true;
        return 0;
}

static int parse_opt_u64(ParseCtx *c, json_object *v, void *dest) {
        OptUint64 *o = dest;
        int r = parse_u64(c, v, &o->value);
        if (r < 0)
                return r;
        o->set = true;
        return 0;
}

static int parse_opt_bool(ParseCtx *c, json_object *v, void *dest) {
        OptBool *o = dest;
        int r = parse_bool(c, v, &o->value);
        if (r < 0)
                return r;
        o->set = true;
        return 0;
}

static int parse_opt_u64_range(ParseCtx *c, json_object *v, OptUint64 *o, uint64_t min, uint64_t max) {
        int r = parse_opt_u64(c, v, o);
        if (r < 0)
                return r;
        if (o->value < min || o->value > max)
                return parse_error(c, "%" PRIu64 " out of range %" PRIu64 "..%" PRIu64, o->value, min, max);
        return 0;
}

/* memory values are bytes; -1 is "unlimited", anything else below 0 is meaningless */
static int parse_mem_bytes(ParseCtx *c, json_object *v, void *dest) {
        OptInt64 *o = dest;
        int r = parse_opt_i64(c, v, o);
        if (r < 0)
                return r;
        if (o->value < -1)
                return parse_error(c, "%" PRIi64 " is not a byte count (-1 means unlimited)", o->value);
        return 0;
}

/* OCI blkio weights are 10..1000; 0 is what engines write for "not set" */
static int parse_blkio_weight(ParseCtx *c, json_object *v, void *dest) {
        OptUint64 *o = dest;
        int r = parse_opt_u64(c, v, o);
        if (r < 0)
                return r;
        if (o->value == 0) {
                o->set = false;
                return 0;
        }
        if (o->value < 10 || o->value > 1000)
                return parse_error(c, "%" PRIu64 " out of range 10..1000", o->value);
        return 0;
}

/* "MAJ:MIN" is written to the kernel, which reads 32-bit numbers */
static int parse_dev_number(ParseCtx *c, json_object *v, void *dest) {
        int r = parse_i64(c, v, dest);
        if (r < 0)
                return r;
        if (*(int64_t *) dest < 0 || *(int64_t *) dest > UINT32_MAX)
                return parse_error(c, "%" PRIi64 " is not a device number", *(int64_t *) dest);
        return 0;
}

/* ---- memory, cpu, pids ---- */

static int parse_swappiness(ParseCtx *c, json_object *v, void *dest) {
        /* Docker writes -1 as uint64 (2^64-1) for "not set": accept any value, it is v1-only anyway */
        return parse_opt_u64(c, v, dest);
}

static int parse_memory(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "limit", parse_mem_bytes, offsetof(MemoryResources, limit), false },
                { "reservation", parse_mem_bytes, offsetof(MemoryResources, reservation), false },
                { "swap", parse_mem_bytes, offsetof(MemoryResources, swap), false },
                { "kernel", parse_mem_bytes, offsetof(MemoryResources, kernel), false },
                { "kernelTCP", parse_mem_bytes, offsetof(MemoryResources, kernel_tcp), false },
                { "swappiness", parse_swappiness, offsetof(MemoryResources, swappiness), false },
                { "disableOOMKiller", parse_opt_bool, offsetof(MemoryResources, disable_oom_killer), false },
                { "useHierarchy", parse_opt_bool, offsetof(MemoryResources, use_hierarchy), false },
                { "checkBeforeUpdate", parse_opt_bool, offsetof(MemoryResources, check_before_update), false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_cpu_set_list(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        int r;

        r = parse_string_opt(c, v, dest);
        if (r < 0 || !*d)
                return r;
        r = cpu_list_parse(*d, NULL, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return parse_error(c, "'%s' is not a list like \"0-3,7\"", *d);
        return 0;
}

static int parse_cpu_idle(ParseCtx *c, json_object *v, void *dest) {
        OptInt64 *o = dest;
        int r = parse_opt_i64(c, v, o);
        if (r < 0)
                return r;
        if (o->value != 0 && o->value != 1)
                return parse_error(c, "%" PRIi64 " out of range 0..1", o->value);
        return 0;
}

static int parse_cpu_quota(ParseCtx *c, json_object *v, void *dest) {
        OptInt64 *o = dest;
        int r = parse_opt_i64(c, v, o);
        if (r < 0)
                return r;
        if (o->value < -1)
                return parse_error(c, "%" PRIi64 " is not a quota in microseconds (-1 means unlimited)", o->value);
        return 0;
}

static int parse_cpu(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "shares", parse_opt_u64, offsetof(CpuResources, shares), false },
                { "quota", parse_cpu_quota, offsetof(CpuResources, quota), false },
                { "burst", parse_opt_u64, offsetof(CpuResources, burst), false },
                { "period", parse_opt_u64, offsetof(CpuResources, period), false },
                { "realtimeRuntime", parse_opt_i64, offsetof(CpuResources, realtime_runtime), false },
                { "realtimePeriod", parse_opt_u64, offsetof(CpuResources, realtime_period), false },
                { "cpus", parse_cpu_set_list, offsetof(CpuResources, cpus), false },
                { "mems", parse_cpu_set_list, offsetof(CpuResources, mems), false },
                { "idle", parse_cpu_idle, offsetof(CpuResources, idle), false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_pids(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "limit", parse_opt_i64, 0, false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

/* ---- blockIO ---- */

static int parse_weight_device(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "major", parse_dev_number, offsetof(BlockIOWeightDevice, major), true },
                { "minor", parse_dev_number, offsetof(BlockIOWeightDevice, minor), true },
                { "weight", parse_blkio_weight, offsetof(BlockIOWeightDevice, weight), false },
                { "leafWeight", parse_blkio_weight, offsetof(BlockIOWeightDevice, leaf_weight), false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_throttle(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "major", parse_dev_number, offsetof(BlockIOThrottle, major), true },
                { "minor", parse_dev_number, offsetof(BlockIOThrottle, minor), true },
                { "rate", parse_u64, offsetof(BlockIOThrottle, rate), true },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_weight_devices(ParseCtx *c, json_object *v, void *dest) {
        BlockIOResources *b = dest;
        return parse_array_of(c, v, sizeof(BlockIOWeightDevice), parse_weight_device, &b->weight_devices,
                              &b->n_weight_devices);
}

static int parse_throttles(ParseCtx *c, json_object *v, BlockIOResources *b, enum blkio_throttle t) {
        return parse_array_of(c, v, sizeof(BlockIOThrottle), parse_throttle, &b->throttle[t], &b->n_throttle[t]);
}

static int parse_read_bps(ParseCtx *c, json_object *v, void *dest) {
        return parse_throttles(c, v, dest, BLKIO_THROTTLE_READ_BPS);
}

static int parse_write_bps(ParseCtx *c, json_object *v, void *dest) {
        return parse_throttles(c, v, dest, BLKIO_THROTTLE_WRITE_BPS);
}

static int parse_read_iops(ParseCtx *c, json_object *v, void *dest) {
        return parse_throttles(c, v, dest, BLKIO_THROTTLE_READ_IOPS);
}

static int parse_write_iops(ParseCtx *c, json_object *v, void *dest) {
        return parse_throttles(c, v, dest, BLKIO_THROTTLE_WRITE_IOPS);
}

static int parse_block_io(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "weight", parse_blkio_weight, offsetof(BlockIOResources, weight), false },
                { "leafWeight", parse_blkio_weight, offsetof(BlockIOResources, leaf_weight), false },
                { "weightDevice", parse_weight_devices, 0, false },
                { "throttleReadBpsDevice", parse_read_bps, 0, false },
                { "throttleWriteBpsDevice", parse_write_bps, 0, false },
                { "throttleReadIOPSDevice", parse_read_iops, 0, false },
                { "throttleWriteIOPSDevice", parse_write_iops, 0, false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

/* ---- hugepageLimits, rdma, network ---- */

/* The size becomes part of a file name (hugetlb.<size>.max): digits and a KB/MB/GB unit only. */
static int parse_page_size(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        size_t n;
        int r;

        r = parse_string(c, v, dest);
        if (r < 0)
                return r;
        n = strspn(*d, "0123456789");
        if (n == 0 || n > 12 || !strchr("KMG", (*d)[n]) || (*d)[n] == '\0' || !streq(*d + n + 1, "B"))
                return parse_error(c, "'%s' is not a page size like \"2MB\" or \"1GB\"", *d);
        return 0;
}

static int parse_hugepage_limit(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "pageSize", parse_page_size, offsetof(HugepageLimit, page_size), true },
                { "limit", parse_u64, offsetof(HugepageLimit, limit), true },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_hugepage_limits(ParseCtx *c, json_object *v, void *dest) {
        ResourcesSpec *r = dest;
        return parse_array_of(c, v, sizeof(HugepageLimit), parse_hugepage_limit, &r->hugepage_limits,
                              &r->n_hugepage_limits);
}

static int parse_u32_opt(ParseCtx *c, json_object *v, void *dest) {
        return parse_opt_u64_range(c, v, dest, 0, UINT32_MAX);
}

/* The device name starts a line of rdma.max: one word. */
static bool rdma_device_ok(const char *s) {
        if (!*s || strlen(s) > 64)
                return false;
        for (; *s; s++)
                if (isspace((unsigned char) *s) || iscntrl((unsigned char) *s) || *s == '=' || *s == '/')
                        return false;
        return true;
}

static int parse_rdma_entry(ParseCtx *c, const char *key, json_object *val, RdmaLimit *l) {
        static const FieldParser fields[] = {
                { "hcaHandles", parse_u32_opt, offsetof(RdmaLimit, hca_handles), false },
                { "hcaObjects", parse_u32_opt, offsetof(RdmaLimit, hca_objects), false },
        };

        l->device = strdup(key);
        if (!l->device)
                return -ENOMEM;
        if (!rdma_device_ok(key))
                return parse_error(c, "'%s' is not an RDMA device name", key);
        if (!val)
                return parse_error(c, "expected an object");
        return parse_fields(c, val, fields, ELEMENTSOF(fields), l);
}

static int parse_rdma(ParseCtx *c, json_object *v, void *dest) {
        ResourcesSpec *r = dest;

        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");
        r->rdma = calloc((size_t) json_object_object_length(v) + 1, sizeof(RdmaLimit));
        if (!r->rdma)
                return -ENOMEM;
        json_object_object_foreach (v, key, val) {
                size_t old = path_push_field(c, key);
                int k = parse_rdma_entry(c, key, val, &r->rdma[r->n_rdma++]);
                if (k < 0)
                        return k;
                path_pop(c, old);
        }
        return 0;
}

static int parse_net_priority(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "name", parse_string, offsetof(NetPriority, name), true },
                { "priority", parse_u32, offsetof(NetPriority, priority), true },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_net_priorities(ParseCtx *c, json_object *v, void *dest) {
        NetworkResources *n = dest;
        return parse_array_of(c, v, sizeof(NetPriority), parse_net_priority, &n->priorities, &n->n_priorities);
}

static int parse_network(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "classID", parse_u32_opt, offsetof(NetworkResources, class_id), false },
                { "priorities", parse_net_priorities, 0, false },
        };
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

/* ---- devices ---- */

static int parse_device_type(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_free_ char *t = NULL;
        int r;

        r = parse_string(c, v, &t);
        if (r < 0)
                return r;
        if (!streq(t, "a") && !streq(t, "b") && !streq(t, "c"))
                return parse_error(c, "'%s' is not a device type (a, b or c)", t);
        *(char *) dest = t[0];
        return 0;
}

static int parse_device_access(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        int r;

        r = parse_string_opt(c, v, dest);
        if (r < 0 || !*d)
                return r;
        if (strspn(*d, "rwm") != strlen(*d) || strlen(*d) > 3)
                return parse_error(c, "'%s' is not a combination of r, w and m", *d);
        return 0;
}

static int parse_device_rule(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "allow", parse_bool, offsetof(DeviceRule, allow), true },
                { "type", parse_device_type, offsetof(DeviceRule, type), false },
                { "major", parse_opt_i64, offsetof(DeviceRule, major), false },
                { "minor", parse_opt_i64, offsetof(DeviceRule, minor), false },
                { "access", parse_device_access, offsetof(DeviceRule, access), false },
        };
        DeviceRule *d = dest;

        d->type = 'a';
        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_device_rules(ParseCtx *c, json_object *v, void *dest) {
        ResourcesSpec *r = dest;
        return parse_array_of(c, v, sizeof(DeviceRule), parse_device_rule, &r->devices, &r->n_devices);
}

/* ---- unified ---- */

/* cgroup.* files that configure the container's own cgroup; the rest of cgroup.* is urun's
 * machinery (procs, threads, subtree_control, kill, freeze, type), which a config must not drive. */
static const char *const unified_cgroup_allowed[] = {
        "cgroup.max.depth",
        "cgroup.max.descendants",
        "cgroup.pressure",
};

bool resources_unified_key_ok(const char *key) {
        if (!key || !*key || strchr(key, '/') || strstr(key, "..") || !strchr(key, '.') || key[0] == '.')
                return false;
        if (!string_has_prefix(key, "cgroup."))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(unified_cgroup_allowed); i++)
                if (streq(key, unified_cgroup_allowed[i]))
                        return true;
        return false;
}

static int parse_unified(ParseCtx *c, json_object *v, void *dest) {
        ResourcesSpec *res = dest;
        int r;

        r = parse_string_map(c, v, &res->unified, &res->n_unified);
        if (r < 0)
                return r;
        for (size_t i = 0; i < res->n_unified; i++) {
                const char *k = res->unified[i].key;

                if (resources_unified_key_ok(k))
                        continue;
                if (string_has_prefix(k, "cgroup.") && !strchr(k, '/') && !strstr(k, ".."))
                        return parse_error(c, "key '%s' is managed by urun and cannot be set", k);
                return parse_error(c, "key '%s' is not a cgroup file name (CONTROLLER.PARAMETER, no '/' or '..')", k);
        }
        return 0;
}

/* ---- linux.resources ---- */

static const FieldParser resources_fields[] = {
        { "memory", parse_memory, offsetof(ResourcesSpec, memory), false },
        { "cpu", parse_cpu, offsetof(ResourcesSpec, cpu), false },
        { "pids", parse_pids, offsetof(ResourcesSpec, pids_limit), false },
        { "blockIO", parse_block_io, offsetof(ResourcesSpec, block_io), false },
        { "hugepageLimits", parse_hugepage_limits, 0, false },
        { "rdma", parse_rdma, 0, false },
        { "network", parse_network, offsetof(ResourcesSpec, network), false },
        { "devices", parse_device_rules, 0, false },
        { "unified", parse_unified, 0, false },
};

int spec_parse_resources(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        /* handed to the Spec before filling: spec_free() cleans up after a failure */
        resources_spec_free(s->resources);
        s->resources = calloc(1, sizeof(ResourcesSpec));
        if (!s->resources)
                return -ENOMEM;
        return parse_fields(c, v, resources_fields, ELEMENTSOF(resources_fields), s->resources);
}

static int parse_resources_object(ParseCtx *c, json_object *v, void *dest) {
        return parse_fields(c, v, resources_fields, ELEMENTSOF(resources_fields), dest);
}

int resources_parse_string(const char *json, size_t len, ResourcesSpec **ret, char **ret_error) {
        _cleanup_resources_spec_free_ ResourcesSpec *res = calloc(1, sizeof(ResourcesSpec));
        int r;

        if (!res)
                return -ENOMEM;
        r = parse_document(json, len, "resources", "resources", parse_resources_object, res, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(res);
        return 0;
}

ResourcesSpec *resources_spec_free(ResourcesSpec *r) {
        if (!r)
                return NULL;
        free(r->cpu.cpus);
        free(r->cpu.mems);
        free(r->block_io.weight_devices);
        for (int t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                free(r->block_io.throttle[t]);
        for (size_t i = 0; i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        for (size_t i = 0; i < r->network.n_priorities; i++)
                free(r->network.priorities[i].name);
        free(r->network.priorities);
        for (size_t i = 0; i < r->n_devices; i++)
                free(r->devices[i].access);
        free(r->devices);
        for (size_t i = 0; i < r->n_unified; i++) {
                free(r->unified[i].key);
                free(r->unified[i].value);
        }
        free(r->unified);
        free(r);
        return NULL;
}
