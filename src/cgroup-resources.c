/* OCI linux.resources -> cgroup v2 files, with the conversions runc and crun use, and the
 * counters back for `events --stats`. Which controllers a config needs is decided here too, so
 * that cgroup_plan() can refuse a limit before anything exists. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "log.h"
#include "util.h"

#define CPU_PERIOD_DEFAULT 100000 /* the kernel's default cpu.max period (microseconds) */

/* ---- what a config needs ---- */

static void need(CgroupNeeds *n, CgroupController c, const char *field) {
        if (!(n->controllers & CGROUP_MASK(c)))
                n->field[c] = field;
        n->controllers |= CGROUP_MASK(c);
        n->any = true;
}

static void warn_v1_only(bool set, const char *field) {
        if (set)
                log_warning("%s: has no effect with cgroup v2, ignoring", field);
}

static int check_memory(const MemoryResources *m, CgroupNeeds *n) {
        int64_t swap;
        int r;

        if (m->limit.set && m->limit.value != 0)
                need(n, CGROUP_MEMORY, "linux.resources.memory.limit");
        if (m->reservation.set && m->reservation.value != 0)
                need(n, CGROUP_MEMORY, "linux.resources.memory.reservation");
        r = cgroup_swap_to_v2(&m->swap, &m->limit, &swap);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.resources.memory.swap: %s",
                                 m->swap.value < m->limit.value
                                         ? "must not be below linux.resources.memory.limit (it is memory+swap)"
                                         : "needs linux.resources.memory.limit");
        if (swap != -2)
                need(n, CGROUP_MEMORY, "linux.resources.memory.swap");
        warn_v1_only(m->kernel.set && m->kernel.value != 0, "linux.resources.memory.kernel");
        warn_v1_only(m->kernel_tcp.set && m->kernel_tcp.value != 0, "linux.resources.memory.kernelTCP");
        /* Docker writes 2^64-1 for "not set" */
        warn_v1_only(m->swappiness.set && m->swappiness.value <= 100, "linux.resources.memory.swappiness");
        warn_v1_only(m->use_hierarchy.set && !m->use_hierarchy.value, "linux.resources.memory.useHierarchy");
        /* v2 has no switch to keep the OOM killer away (memory.oom.group, settable through
         * "unified", does the opposite: it kills the whole group) */
        if (m->disable_oom_killer.set && m->disable_oom_killer.value)
                log_warning(
                        "linux.resources.memory.disableOOMKiller: the OOM killer cannot be disabled with cgroup v2, ignoring");
        return 0;
}

static int check_cpu(const CpuResources *c, CgroupNeeds *n) {
        if (c->realtime_runtime.set && c->realtime_runtime.value != 0)
                return log_errno(
                        LOG_ERR, -EOPNOTSUPP,
                        "linux.resources.cpu.realtimeRuntime: real-time CPU time cannot be limited with cgroup v2");
        if (c->realtime_period.set && c->realtime_period.value != 0)
                return log_errno(
                        LOG_ERR, -EOPNOTSUPP,
                        "linux.resources.cpu.realtimePeriod: real-time CPU time cannot be limited with cgroup v2");
        if (c->shares.set && c->shares.value != 0)
                need(n, CGROUP_CPU, "linux.resources.cpu.shares");
        if ((c->quota.set && c->quota.value != 0) || (c->period.set && c->period.value != 0))
                need(n, CGROUP_CPU, c->quota.set ? "linux.resources.cpu.quota" : "linux.resources.cpu.period");
        if (c->burst.set)
                need(n, CGROUP_CPU, "linux.resources.cpu.burst");
        if (c->idle.set)
                need(n, CGROUP_CPU, "linux.resources.cpu.idle");
        if (c->cpus)
                need(n, CGROUP_CPUSET, "linux.resources.cpu.cpus");
        if (c->mems)
                need(n, CGROUP_CPUSET, "linux.resources.cpu.mems");
        return 0;
}

static void check_block_io(const BlockIOResources *b, CgroupNeeds *n) {
        static const char *const throttle_fields[_BLKIO_THROTTLE_MAX] = {
                "linux.resources.blockIO.throttleReadBpsDevice",
                "linux.resources.blockIO.throttleWriteBpsDevice",
                "linux.resources.blockIO.throttleReadIOPSDevice",
                "linux.resources.blockIO.throttleWriteIOPSDevice",
        };
        bool leaf = b->leaf_weight.set;

        if (b->weight.set)
                need(n, CGROUP_IO, "linux.resources.blockIO.weight");
        for (size_t i = 0; i < b->n_weight_devices; i++) {
                if (b->weight_devices[i].weight.set)
                        need(n, CGROUP_IO, "linux.resources.blockIO.weightDevice");
                leaf = leaf || b->weight_devices[i].leaf_weight.set;
        }
        for (int t = 0; t < _BLKIO_THROTTLE_MAX; t++)
                if (b->n_throttle[t] > 0)
                        need(n, CGROUP_IO, throttle_fields[t]);
        warn_v1_only(leaf, "linux.resources.blockIO.leafWeight");
}

/* "memory.high" needs the memory controller; cgroup.* and the PSI files (*.pressure) exist in
 * every cgroup. */
static void check_unified(const ResourcesSpec *r, CgroupNeeds *n) {
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *k = r->unified[i].key, *dot = strchr(k, '.');
                _cleanup_free_ char *name = dot ? strndup(k, (size_t) (dot - k)) : NULL;
                CgroupController c = name ? cgroup_controller_from_string(name) : _CGROUP_CONTROLLER_INVALID;

                n->any = true;
                if (c >= 0 && !string_has_prefix(dot, ".pressure"))
                        need(n, c, "linux.resources.unified");
        }
}

int cgroup_resources_check(const ResourcesSpec *r, CgroupNeeds *ret) {
        int k;

        *ret = (CgroupNeeds){};
        if (!r)
                return 0;
        k = check_memory(&r->memory, ret);
        if (k >= 0)
                k = check_cpu(&r->cpu, ret);
        if (k < 0)
                return k;
        if (r->pids_limit.set && r->pids_limit.value != 0)
                need(ret, CGROUP_PIDS, "linux.resources.pids.limit");
        check_block_io(&r->block_io, ret);
        if (r->n_hugepage_limits > 0)
                need(ret, CGROUP_HUGETLB, "linux.resources.hugepageLimits");
        for (size_t i = 0; i < r->n_rdma; i++)
                if (r->rdma[i].hca_handles.set || r->rdma[i].hca_objects.set)
                        need(ret, CGROUP_RDMA, "linux.resources.rdma");
        warn_v1_only(r->network.class_id.set || r->network.n_priorities > 0, "linux.resources.network");
        check_unified(r, ret);
        return 0;
}

/* ---- conversions ---- */

/* cpu.shares 2..262144 -> cpu.weight 1..10000, linearly (the formula runc and crun use). */
uint64_t cgroup_cpu_shares_to_weight(uint64_t shares) {
        if (shares == 0)
                return 0;
        if (shares <= 2)
                return 1;
        if (shares >= 262144)
                return 10000;
        return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t cgroup_blkio_weight_to_io_weight(uint64_t w) {
        if (w == 0)
                return 0;
        if (w < 10)
                return 1;
        return 1 + (w - 10) * 9999 / 990;
}

/* OCI swap is memory+swap (the v1 memsw limit); v2's memory.swap.max is swap alone. As runc:
 * unset swap with an unlimited memory means unlimited swap too; swap == limit means no swap. */
int cgroup_swap_to_v2(const OptInt64 *swap, const OptInt64 *limit, int64_t *ret) {
        int64_t s = swap->set ? swap->value : 0, l = limit->set ? limit->value : 0;

        *ret = -2;
        if (s == 0) {
                if (l == -1)
                        *ret = -1;
                return 0;
        }
        if (s == -1) {
                *ret = -1;
                return 0;
        }
        if (l <= 0 || s < l)
                return -EINVAL;
        *ret = s - l;
        return 0;
}

/* ---- writing ---- */

typedef struct {
        int fd;
        CgroupApplyFlags flags;
} Target;

/* One write() per value: the kernel parses each write on its own. Never O_CREAT. */
static int cg_write_raw(int fd, const char *file, const char *value) {
        return write_file_at(fd, file, value, strlen(value), O_TRUNC | O_NOFOLLOW, 0);
}

static int cg_write(const Target *t, const char *field, const char *file, const char *value) {
        int r = cg_write_raw(t->fd, file, value);

        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "%s: %s does not exist: is the %.*s controller enabled for this cgroup?",
                                 field, file, (int) strcspn(file, "."), file);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: writing '%s' to %s: %m", field, value, file);
        return 0;
}

/* v < 0 is "max" (-1 means unlimited in the OCI spec, as in cgroup v1) */
static const char *num_str(char buf[static 32], int64_t v) {
        if (v < 0)
                return "max";
        snprintf(buf, 32, "%" PRIi64, v);
        return buf;
}

static int cg_write_num(const Target *t, const char *field, const char *file, int64_t v) {
        char buf[32];
        return cg_write(t, field, file, num_str(buf, v));
}

static int cg_read_u64(int fd, const char *file, uint64_t *ret) {
        _cleanup_free_ char *s = NULL;
        int r = read_file_at(fd, file, 64, &s, NULL);

        if (r < 0)
                return r;
        s[strcspn(s, "\n")] = '\0';
        if (streq(s, "max")) {
                *ret = UINT64_MAX;
                return 0;
        }
        return safe_atou64(s, ret);
}

/* memory.checkBeforeUpdate: refuse a limit below what the cgroup already uses. */
static int check_memory_usage(const Target *t, const MemoryResources *m, int64_t swap) {
        uint64_t cur = 0, swap_cur = 0, limit;
        int r;

        if (!(t->flags & CGROUP_APPLY_UPDATE) || !m->check_before_update.value || !m->limit.set || m->limit.value <= 0)
                return 0;
        r = cg_read_u64(t->fd, "memory.current", &cur);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.resources.memory.checkBeforeUpdate: reading memory.current: %m");
        (void) cg_read_u64(t->fd, "memory.swap.current", &swap_cur);
        limit = (uint64_t) m->limit.value + (swap > 0 ? (uint64_t) swap : 0);
        if (limit <= cur + swap_cur)
                return log_errno(LOG_ERR, -EBUSY,
                                 "linux.resources.memory.limit: %" PRIu64 " is not above the current usage %" PRIu64
                                 " (checkBeforeUpdate)",
                                 limit, cur + swap_cur);
        return 0;
}

static int apply_memory(const Target *t, const MemoryResources *m) {
        int64_t swap;
        int r;

        r = cgroup_swap_to_v2(&m->swap, &m->limit, &swap);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.resources.memory.swap: invalid with memory.limit %" PRIi64,
                                 m->limit.value);
        r = check_memory_usage(t, m, swap);
        if (r < 0)
                return r;
        /* swap first: the kernel checks nothing between the two, and a failing swap write must not
         * leave a new memory.max behind */
        if (swap != -2) {
                char buf[32];
                const char *v = num_str(buf, swap);
                r = cg_write_raw(t->fd, "memory.swap.max", v);
                if (r == -ENOENT && swap != -1)
                        log_warning(
                                "linux.resources.memory.swap: swap accounting is off in this kernel, swap is not limited");
                else if (r < 0 && r != -ENOENT)
                        return log_errno(LOG_ERR, r, "linux.resources.memory.swap: writing '%s' to memory.swap.max: %m",
                                         v);
        }
        if (m->limit.set && m->limit.value != 0 &&
            (r = cg_write_num(t, "linux.resources.memory.limit", "memory.max", m->limit.value)) < 0)
                return r;
        if (m->reservation.set && m->reservation.value != 0 &&
            (r = cg_write_num(t, "linux.resources.memory.reservation", "memory.low", m->reservation.value)) < 0)
                return r;
        return 0;
}

/* cpu.max is "QUOTA PERIOD": on update, the half that is not given keeps its current value. */
static void cpu_max_value(const Target *t, const CpuResources *c, char *buf, size_t size) {
        _cleanup_free_ char *cur = NULL;
        char quota[32] = "max";
        uint64_t period = c->period.set && c->period.value ? c->period.value : CPU_PERIOD_DEFAULT;

        if ((t->flags & CGROUP_APPLY_UPDATE) && (!c->quota.set || !c->period.set) &&
            read_file_at(t->fd, "cpu.max", 64, &cur, NULL) >= 0) {
                char q[32];
                uint64_t p;
                if (sscanf(cur, "%31s %" SCNu64, q, &p) == 2) {
                        if (!c->quota.set)
                                snprintf(quota, sizeof quota, "%s", q);
                        if (!c->period.set)
                                period = p;
                }
        }
        if (c->quota.set && c->quota.value > 0)
                snprintf(quota, sizeof quota, "%" PRIi64, c->quota.value);
        snprintf(buf, size, "%s %" PRIu64, quota, period);
}

static int apply_cpu(const Target *t, const CpuResources *c) {
        char buf[64];
        bool burst_done = !c->burst.set;
        int r;

        if (c->shares.set && c->shares.value != 0) {
                snprintf(buf, sizeof buf, "%" PRIu64, cgroup_cpu_shares_to_weight(c->shares.value));
                if ((r = cg_write(t, "linux.resources.cpu.shares", "cpu.weight", buf)) < 0)
                        return r;
        }
        if (c->idle.set && (r = cg_write_num(t, "linux.resources.cpu.idle", "cpu.idle", c->idle.value)) < 0)
                return r;
        /* the kernel wants burst <= quota at every step: try burst first (a lower quota may come),
         * and again after cpu.max (a higher one came) */
        if (c->burst.set) {
                snprintf(buf, sizeof buf, "%" PRIu64, c->burst.value);
                burst_done = cg_write_raw(t->fd, "cpu.max.burst", buf) >= 0;
        }
        if ((c->quota.set && c->quota.value != 0) || (c->period.set && c->period.value != 0)) {
                cpu_max_value(t, c, buf, sizeof buf);
                if ((r = cg_write(t, c->quota.set ? "linux.resources.cpu.quota" : "linux.resources.cpu.period",
                                  "cpu.max", buf)) < 0)
                        return r;
        }
        if (!burst_done) {
                snprintf(buf, sizeof buf, "%" PRIu64, c->burst.value);
                if ((r = cg_write(t, "linux.resources.cpu.burst", "cpu.max.burst", buf)) < 0)
                        return r;
        }
        if (c->cpus && (r = cg_write(t, "linux.resources.cpu.cpus", "cpuset.cpus", c->cpus)) < 0)
                return r;
        if (c->mems && (r = cg_write(t, "linux.resources.cpu.mems", "cpuset.mems", c->mems)) < 0)
                return r;
        return 0;
}

/* A weight through BFQ when the device uses it (io.bfq.weight takes the OCI range as is), else
 * io.weight with the range converted. */
static int write_io_weight(const Target *t, const char *field, const char *dev, uint64_t w) {
        char buf[64];
        int r;

        snprintf(buf, sizeof buf, "%s%s%" PRIu64, dev, *dev ? " " : "", w);
        r = cg_write_raw(t->fd, "io.bfq.weight", buf);
        if (r != -ENOENT)
                return r < 0 ? log_errno(LOG_ERR, r, "%s: writing '%s' to io.bfq.weight: %m", field, buf) : 0;
        snprintf(buf, sizeof buf, "%s%s%" PRIu64, dev, *dev ? " " : "default ", cgroup_blkio_weight_to_io_weight(w));
        return cg_write(t, field, "io.weight", buf);
}

/* One io.max line per device: "MAJ:MIN rbps=N wbps=max ..." with only the keys the config names
 * (0 is "no limit", as runc writes it). */
static int write_io_max(const Target *t, const BlockIOResources *b, int64_t major, int64_t minor) {
        static const char *const keys[_BLKIO_THROTTLE_MAX] = { "rbps", "wbps", "riops", "wiops" };
        char line[256];
        int n = snprintf(line, sizeof line, "%" PRIi64 ":%" PRIi64, major, minor);

        for (int k = 0; k < _BLKIO_THROTTLE_MAX; k++)
                for (size_t i = 0; i < b->n_throttle[k]; i++) {
                        const BlockIOThrottle *th = &b->throttle[k][i];
                        if (th->major != major || th->minor != minor)
                                continue;
                        if (th->rate == 0)
                                n += snprintf(line + n, sizeof line - (size_t) n, " %s=max", keys[k]);
                        else
                                n += snprintf(line + n, sizeof line - (size_t) n, " %s=%" PRIu64, keys[k], th->rate);
                        break;
                }
        return cg_write(t, "linux.resources.blockIO.throttle", "io.max", line);
}

static bool throttle_seen_before(const BlockIOResources *b, int k, size_t i) {
        const BlockIOThrottle *th = &b->throttle[k][i];

        for (int k2 = 0; k2 <= k; k2++)
                for (size_t j = 0; j < (k2 == k ? i : b->n_throttle[k2]); j++)
                        if (b->throttle[k2][j].major == th->major && b->throttle[k2][j].minor == th->minor)
                                return true;
        return false;
}

static int apply_block_io(const Target *t, const BlockIOResources *b) {
        char dev[48];
        int r;

        if (b->weight.set && (r = write_io_weight(t, "linux.resources.blockIO.weight", "", b->weight.value)) < 0)
                return r;
        for (size_t i = 0; i < b->n_weight_devices; i++) {
                const BlockIOWeightDevice *d = &b->weight_devices[i];
                if (!d->weight.set)
                        continue;
                snprintf(dev, sizeof dev, "%" PRIi64 ":%" PRIi64, d->major, d->minor);
                if ((r = write_io_weight(t, "linux.resources.blockIO.weightDevice", dev, d->weight.value)) < 0)
                        return r;
        }
        for (int k = 0; k < _BLKIO_THROTTLE_MAX; k++)
                for (size_t i = 0; i < b->n_throttle[k]; i++)
                        if (!throttle_seen_before(b, k, i) &&
                            (r = write_io_max(t, b, b->throttle[k][i].major, b->throttle[k][i].minor)) < 0)
                                return r;
        return 0;
}

static int apply_hugetlb(const Target *t, const ResourcesSpec *res) {
        for (size_t i = 0; i < res->n_hugepage_limits; i++) {
                const HugepageLimit *h = &res->hugepage_limits[i];
                char file[64], val[32];
                int r;

                snprintf(val, sizeof val, "%" PRIu64, h->limit);
                snprintf(file, sizeof file, "hugetlb.%s.max", h->page_size);
                r = cg_write(t, "linux.resources.hugepageLimits", file, val);
                if (r < 0)
                        return r;
                /* reservations are charged separately (kernel >= 5.7): limit them the same */
                snprintf(file, sizeof file, "hugetlb.%s.rsvd.max", h->page_size);
                r = cg_write_raw(t->fd, file, val);
                if (r < 0 && r != -ENOENT)
                        return log_errno(LOG_ERR, r, "linux.resources.hugepageLimits: writing %s: %m", file);
        }
        return 0;
}

static int apply_rdma(const Target *t, const ResourcesSpec *res) {
        for (size_t i = 0; i < res->n_rdma; i++) {
                const RdmaLimit *l = &res->rdma[i];
                char line[160];
                int n, r;

                if (!l->hca_handles.set && !l->hca_objects.set)
                        continue;
                n = snprintf(line, sizeof line, "%s", l->device);
                if (l->hca_handles.set)
                        n += snprintf(line + n, sizeof line - (size_t) n, " hca_handle=%" PRIu64, l->hca_handles.value);
                if (l->hca_objects.set)
                        snprintf(line + n, sizeof line - (size_t) n, " hca_object=%" PRIu64, l->hca_objects.value);
                r = cg_write(t, "linux.resources.rdma", "rdma.max", line);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Written verbatim, one write per line (io.max and friends take one device per write). The keys
 * were checked by the parser (resources_unified_key_ok), again here against a hand-built spec. */
static int apply_unified(const Target *t, const ResourcesSpec *res) {
        for (size_t i = 0; i < res->n_unified; i++) {
                const KeyValue *kv = &res->unified[i];
                _cleanup_free_ char *copy = strdup(kv->value);
                char *save = NULL;

                if (!copy)
                        return -ENOMEM;
                if (!resources_unified_key_ok(kv->key))
                        return log_errno(LOG_ERR, -EINVAL, "linux.resources.unified: key '%s' cannot be set", kv->key);
                for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        int r = cg_write(t, "linux.resources.unified", kv->key, line);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int cgroup_resources_apply(int dir_fd, const ResourcesSpec *r, CgroupApplyFlags flags) {
        const Target t = { .fd = dir_fd, .flags = flags };
        int k;

        if (!r)
                return 0;
        if (r->pids_limit.set && r->pids_limit.value != 0 &&
            (k = cg_write_num(&t, "linux.resources.pids.limit", "pids.max", r->pids_limit.value)) < 0)
                return k;
        if ((k = apply_memory(&t, &r->memory)) < 0 || (k = apply_block_io(&t, &r->block_io)) < 0 ||
            (k = apply_cpu(&t, &r->cpu)) < 0 || (k = apply_hugetlb(&t, r)) < 0 || (k = apply_rdma(&t, r)) < 0)
                return k;
        /* last: a unified key overrides what the typed fields wrote */
        return apply_unified(&t, r);
}

/* ---- stats ---- */

/* "key value" lines: the value of key, or -ENOENT. */
static int keyed_get(const char *text, const char *key, uint64_t *ret) {
        size_t n = strlen(key);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, key, n) == 0 && l[n] == ' ')
                        return sscanf(l + n + 1, "%" SCNu64, ret) == 1 ? 0 : -EINVAL;
        return -ENOENT;
}

static int read_text(int fd, const char *file, char **ret) {
        return read_file_at(fd, file, 1 << 20, ret, NULL);
}

static void stats_cpu(int fd, CgroupStats *s) {
        _cleanup_free_ char *t = NULL;

        if (read_text(fd, "cpu.stat", &t) < 0)
                return;
        s->has_cpu = true;
        (void) keyed_get(t, "usage_usec", &s->cpu_usage_usec);
        (void) keyed_get(t, "user_usec", &s->cpu_user_usec);
        (void) keyed_get(t, "system_usec", &s->cpu_system_usec);
        (void) keyed_get(t, "nr_periods", &s->cpu_nr_periods);
        (void) keyed_get(t, "nr_throttled", &s->cpu_nr_throttled);
        (void) keyed_get(t, "throttled_usec", &s->cpu_throttled_usec);
}

static int parse_memory_stat(const char *t, CgroupStats *s) {
        size_t n = 0;

        for (const char *l = t; *l; l++)
                n += *l == '\n';
        s->memory_stat = calloc(n + 1, sizeof(CgroupStatEntry));
        if (!s->memory_stat)
                return -ENOMEM;
        for (const char *l = t; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char name[64];
                uint64_t v;
                if (sscanf(l, "%63s %" SCNu64, name, &v) != 2 || s->n_memory_stat >= n)
                        continue;
                s->memory_stat[s->n_memory_stat].name = strdup(name);
                if (!s->memory_stat[s->n_memory_stat].name)
                        return -ENOMEM;
                s->memory_stat[s->n_memory_stat++].value = v;
        }
        return 0;
}

static int stats_memory(int fd, CgroupStats *s) {
        _cleanup_free_ char *ev = NULL, *st = NULL;

        if (cg_read_u64(fd, "memory.current", &s->memory_current) < 0)
                return 0;
        s->has_memory = true;
        (void) cg_read_u64(fd, "memory.max", &s->memory_max);
        (void) cg_read_u64(fd, "memory.swap.current", &s->memory_swap_current);
        (void) cg_read_u64(fd, "memory.swap.max", &s->memory_swap_max);
        if (read_text(fd, "memory.events", &ev) >= 0) {
                (void) keyed_get(ev, "low", &s->memory_events_low);
                (void) keyed_get(ev, "high", &s->memory_events_high);
                (void) keyed_get(ev, "max", &s->memory_events_max);
                (void) keyed_get(ev, "oom", &s->memory_events_oom);
                (void) keyed_get(ev, "oom_kill", &s->memory_events_oom_kill);
        }
        if (read_text(fd, "memory.stat", &st) >= 0)
                return parse_memory_stat(st, s);
        return 0;
}

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" per device. */
static int stats_io(int fd, CgroupStats *s) {
        _cleanup_free_ char *t = NULL;
        size_t n = 0;

        if (read_text(fd, "io.stat", &t) < 0)
                return 0;
        for (const char *l = t; *l; l++)
                n += *l == '\n';
        s->io = calloc(n + 1, sizeof(CgroupIoStat));
        if (!s->io)
                return -ENOMEM;
        for (const char *l = t; l && *l && s->n_io < n; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                CgroupIoStat *e = &s->io[s->n_io];
                if (sscanf(l,
                           "%" SCNu32 ":%" SCNu32 " rbytes=%" SCNu64 " wbytes=%" SCNu64 " rios=%" SCNu64
                           " wios=%" SCNu64,
                           &e->major, &e->minor, &e->rbytes, &e->wbytes, &e->rios, &e->wios) == 6)
                        s->n_io++;
        }
        return 0;
}

static int stats_hugetlb_one(int fd, const char *size, CgroupHugetlbStat *h) {
        _cleanup_free_ char *ev = NULL;
        char file[96];

        h->page_size = strdup(size);
        if (!h->page_size)
                return -ENOMEM;
        snprintf(file, sizeof file, "hugetlb.%s.current", size);
        (void) cg_read_u64(fd, file, &h->current);
        snprintf(file, sizeof file, "hugetlb.%s.max", size);
        (void) cg_read_u64(fd, file, &h->max);
        snprintf(file, sizeof file, "hugetlb.%s.events", size);
        if (read_text(fd, file, &ev) >= 0)
                (void) keyed_get(ev, "max", &h->failcnt);
        return 0;
}

static int stats_hugetlb(int fd, CgroupStats *s) {
        int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *de;
        int r = 0;

        if (!d) {
                safe_close(dfd);
                return 0;
        }
        while (r >= 0 && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                CgroupHugetlbStat *a;
                if (!string_has_prefix(de->d_name, "hugetlb.") || len < 17 ||
                    !streq(de->d_name + len - 8, ".current") || strchr(de->d_name + 8, '.') != de->d_name + len - 8)
                        continue;
                a = realloc(s->hugetlb, (s->n_hugetlb + 1) * sizeof(*a));
                if (!a) {
                        r = -ENOMEM;
                        break;
                }
                s->hugetlb = a;
                de->d_name[len - 8] = '\0';
                a[s->n_hugetlb] = (CgroupHugetlbStat){};
                r = stats_hugetlb_one(fd, de->d_name + 8, &a[s->n_hugetlb++]);
        }
        closedir(d);
        return r;
}

int cgroup_stats_read(int fd, CgroupStats *ret) {
        int r;

        *ret = (CgroupStats){};
        stats_cpu(fd, ret);
        if (cg_read_u64(fd, "pids.current", &ret->pids_current) >= 0) {
                ret->has_pids = true;
                (void) cg_read_u64(fd, "pids.max", &ret->pids_max);
        }
        r = stats_memory(fd, ret);
        if (r >= 0)
                r = stats_io(fd, ret);
        if (r >= 0)
                r = stats_hugetlb(fd, ret);
        if (r < 0)
                cgroup_stats_done(ret);
        return r;
}

void cgroup_stats_done(CgroupStats *s) {
        for (size_t i = 0; i < s->n_memory_stat; i++)
                free(s->memory_stat[i].name);
        free(s->memory_stat);
        free(s->io);
        for (size_t i = 0; i < s->n_hugetlb; i++)
                free(s->hugetlb[i].page_size);
        free(s->hugetlb);
        *s = (CgroupStats){};
}
