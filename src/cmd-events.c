/* `urun events [--stats] [--interval D] ID`: runc's event stream on stdout, one JSON object per
 * line, flushed per line:
 *   {"type":"stats","id":ID,"data":{...}}   every D (default 5s, Go syntax: 1s, 500ms, 1m30s)
 *   {"type":"oom","id":ID}                  when memory.events counts a new OOM kill
 *   {"type":"exit","id":ID}                 the container's init exited: the last line
 * until the container's init exits (then exit status 0). runc has no "exit" event; ours lets a
 * client tell "the container stopped" from "events was killed" without polling `state`. The
 * init's exit status is not included: only its parent can read it. --stats prints one stats event and
 * returns. "data" has runc's layout for cgroup v2 (types.Stats in runc: cpu times in ns,
 * memory with v1-style swap = memory + swap, the raw memory.stat, pids, io.stat as blkio, hugetlb),
 * with Go's omitempty rules, so clients that decode runc's output read ours. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cgroup.h"
#include "cli.h"
#include "cmd-options.h"
#include "lifecycle-cgroup.h"
#include "log.h"
#include "util.h"

#define NSEC_PER_SEC UINT64_C(1000000000)
#define JSON_DEPTH_MAX 8
#define EXIT_SETTLE_MS 500 /* after the init's exit, for the rest of the cgroup to go */

/* ---- a compact JSON writer ---- */

typedef struct {
        FILE *f;
        unsigned depth;
        bool more[JSON_DEPTH_MAX]; /* the innermost object/array at each depth has an element */
} JsonOut;

static void j_key(JsonOut *j, const char *key) {
        if (j->more[j->depth])
                fputc(',', j->f);
        j->more[j->depth] = true;
        if (key) {
                fputc('"', j->f);
                json_fputs_escaped(j->f, key);
                fputs("\":", j->f);
        }
}

static void j_open(JsonOut *j, const char *key, char bracket) {
        j_key(j, key);
        fputc(bracket, j->f);
        j->more[++j->depth] = false; /* the nesting below is fixed and shallower than JSON_DEPTH_MAX */
}

static void j_close(JsonOut *j, char bracket) {
        fputc(bracket, j->f);
        j->depth--;
}

static void j_str(JsonOut *j, const char *key, const char *v) {
        j_key(j, key);
        fputc('"', j->f);
        json_fputs_escaped(j->f, v);
        fputc('"', j->f);
}

static void j_u64(JsonOut *j, const char *key, uint64_t v) {
        j_key(j, key);
        fprintf(j->f, "%" PRIu64, v);
}

/* Go's `omitempty`: a zero number is left out */
static void j_u64_nz(JsonOut *j, const char *key, uint64_t v) {
        if (v)
                j_u64(j, key, v);
}

/* ---- runc's stats layout ---- */

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void write_cpu(JsonOut *j, const CgroupStats *s) {
        j_open(j, "cpu", '{');
        j_open(j, "usage", '{');
        j_u64_nz(j, "total", s->cpu_usage_usec * 1000);
        j_u64(j, "kernel", s->cpu_system_usec * 1000);
        j_u64(j, "user", s->cpu_user_usec * 1000);
        j_close(j, '}');
        j_open(j, "throttling", '{');
        j_u64_nz(j, "periods", s->cpu_nr_periods);
        j_u64_nz(j, "throttledPeriods", s->cpu_nr_throttled);
        j_u64_nz(j, "throttledTime", s->cpu_throttled_usec * 1000);
        j_close(j, '}');
        j_close(j, '}');
}

/* runc fills no cpuset statistics on cgroup v2: its zero values, which Go prints all the same */
static void write_cpuset(JsonOut *j) {
        static const char *const zero[] = { "cpu_exclusive",      "mem_hardwall",       "mem_exclusive",
                                            "memory_migrate",     "memory_spread_page", "memory_spread_slab",
                                            "memory_pressure",    "sched_load_balance", "sched_relax_domain_level" };
        j_open(j, "cpuset", '{');
        for (size_t i = 0; i < ELEMENTSOF(zero); i++)
                j_u64(j, zero[i], 0);
        j_close(j, '}');
}

static void write_memory_entry(JsonOut *j, const char *key, uint64_t limit, uint64_t usage) {
        j_open(j, key, '{');
        j_u64(j, "limit", limit);
        j_u64_nz(j, "usage", usage);
        j_u64(j, "failcnt", 0);
        j_close(j, '}');
}

static void write_memory(JsonOut *j, const CgroupStats *s) {
        uint64_t cache = 0, swap_limit = s->memory_swap_max;

        for (size_t i = 0; i < s->n_memory_stat; i++)
                if (streq(s->memory_stat[i].name, "file"))
                        cache = s->memory_stat[i].value;
        /* cgroup v1 reported swap as memory+swap, and runc keeps doing so on v2 */
        if (swap_limit != UINT64_MAX)
                swap_limit = sat_add(swap_limit, s->memory_max);
        j_open(j, "memory", '{');
        j_u64_nz(j, "cache", cache);
        write_memory_entry(j, "usage", s->memory_max, s->memory_current);
        write_memory_entry(j, "swap", s->has_memory ? swap_limit : 0,
                           sat_add(s->memory_swap_current, s->memory_current));
        write_memory_entry(j, "kernel", 0, 0);
        write_memory_entry(j, "kernelTCP", 0, 0);
        if (s->n_memory_stat > 0) {
                j_open(j, "raw", '{');
                for (size_t i = 0; i < s->n_memory_stat; i++)
                        j_u64(j, s->memory_stat[i].name, s->memory_stat[i].value);
                j_close(j, '}');
        }
        j_close(j, '}');
}

static void write_blkio_list(JsonOut *j, const char *key, const CgroupStats *s, bool bytes) {
        if (s->n_io == 0)
                return;
        j_open(j, key, '[');
        for (size_t i = 0; i < s->n_io; i++)
                for (int w = 0; w < 2; w++) {
                        const CgroupIoStat *e = &s->io[i];
                        j_open(j, NULL, '{');
                        j_u64_nz(j, "major", e->major);
                        j_u64_nz(j, "minor", e->minor);
                        j_str(j, "op", w ? "Write" : "Read");
                        j_u64_nz(j, "value", bytes ? (w ? e->wbytes : e->rbytes) : (w ? e->wios : e->rios));
                        j_close(j, '}');
                }
        j_close(j, ']');
}

/* pids_count: the processes in the cgroup, runc's pids.current when the pids controller is off */
static void write_stats(JsonOut *j, const CgroupStats *s, size_t pids_count) {
        j_open(j, "data", '{');
        write_cpu(j, s);
        write_cpuset(j);
        write_memory(j, s);
        j_open(j, "pids", '{');
        j_u64_nz(j, "current", s->has_pids ? s->pids_current : pids_count);
        j_u64_nz(j, "limit", s->pids_max == UINT64_MAX ? 0 : s->pids_max); /* runc: 0 = no limit */
        j_close(j, '}');
        j_open(j, "blkio", '{');
        write_blkio_list(j, "ioServiceBytesRecursive", s, true);
        write_blkio_list(j, "ioServicedRecursive", s, false);
        j_close(j, '}');
        j_open(j, "hugetlb", '{');
        for (size_t i = 0; i < s->n_hugetlb; i++) {
                j_open(j, s->hugetlb[i].page_size, '{');
                j_u64_nz(j, "usage", s->hugetlb[i].current);
                j_u64(j, "failcnt", s->hugetlb[i].failcnt);
                j_close(j, '}');
        }
        j_close(j, '}');
        j_open(j, "intel_rdt", '{');
        j_close(j, '}');
        j_key(j, "network_interfaces");
        fputs("null", j->f);
        j_close(j, '}');
}

/* One event line, written and flushed at once. stats may be NULL (no "data"). */
static int print_event(const char *type, const char *id, const CgroupStats *stats, size_t pids_count) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        JsonOut j = {};

        j.f = open_memstream(&buf, &len);
        if (!j.f)
                return log_errno(LOG_ERR, -ENOMEM, "events: %m");
        j_open(&j, NULL, '{');
        j_str(&j, "type", type);
        j_str(&j, "id", id);
        if (stats)
                write_stats(&j, stats, pids_count);
        j_close(&j, '}');
        fputc('\n', j.f);
        if (fclose(j.f) != 0)
                return log_errno(LOG_ERR, -ENOMEM, "events: %m");
        if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
                return log_errno(LOG_ERR, -errno, "events: writing to standard output: %m");
        return 0;
}

static int print_stats(const char *id, const char *path) {
        CgroupStats s;
        size_t n = 0;
        int r;

        r = cgroup_stats(path, &s);
        if (r < 0)
                return log_errno(LOG_ERR, r, "events: container '%s': reading the statistics of cgroup %s: %m", id, path);
        if (!s.has_pids) {
                _cleanup_free_ pid_t *pids = NULL;
                (void) cgroup_pids(path, &pids, &n);
        }
        r = print_event("stats", id, &s, n);
        cgroup_stats_done(&s);
        return r;
}

/* ---- the event loop ---- */

/* A Go duration ("300ms", "1.5s", "1m30s"; units ns, us/µs, ms, s, m, h) in nanoseconds. */
static int parse_duration(const char *s, uint64_t *ret) {
        static const struct {
                const char *unit;
                uint64_t ns;
        } units[] = {
                { "ns", 1 },       { "us", 1000 }, { "\xc2\xb5s", 1000 },         { "\xce\xbcs", 1000 },
                { "ms", 1000000 }, { "s", NSEC_PER_SEC }, { "m", 60 * NSEC_PER_SEC }, { "h", 3600 * NSEC_PER_SEC },
        };
        long double total = 0;

        if (!*s)
                return -EINVAL;
        while (*s) {
                size_t ni = strspn(s, "0123456789"), nf = 0, nu, k;
                const char *p = s + ni;

                if (*p == '.')
                        nf = strspn(++p, "0123456789");
                p += nf;
                nu = strcspn(p, "0123456789.");
                for (k = 0; k < ELEMENTSOF(units); k++)
                        if (strlen(units[k].unit) == nu && strncmp(p, units[k].unit, nu) == 0)
                                break;
                if (ni + nf == 0 || k == ELEMENTSOF(units))
                        return -EINVAL;
                total += strtold(s, NULL) * (long double) units[k].ns; /* digits and a fraction, checked */
                s = p + nu;
        }
        if (total < 1 || total > (long double) (UINT64_MAX / 2))
                return -ERANGE;
        *ret = (uint64_t) total;
        return 0;
}

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

/* oom_kill of memory.events (re-reading also re-arms POLLPRI); 0 without the memory controller */
static uint64_t read_oom_kills(int fd) {
        char buf[512];
        const char *p;
        uint64_t v = 0;
        ssize_t n;

        if (fd < 0 || (n = pread(fd, buf, sizeof buf - 1, 0)) < 0)
                return 0;
        buf[n] = '\0';
        p = strstr(buf, "oom_kill ");
        if (p && (p == buf || p[-1] == '\n'))
                (void) sscanf(p + 9, "%" SCNu64, &v);
        return v;
}

static int report_ooms(const char *id, int fd, uint64_t *seen) {
        uint64_t now = read_oom_kills(fd);
        int r = 0;

        for (; *seen < now && r >= 0; (*seen)++)
                r = print_event("oom", id, NULL, 0);
        return r;
}

/* Stats every interval and OOM kills as they happen (memory.events changes wake poll() with
 * POLLPRI), until the init's pidfd says it exited. A failed stats read is logged and retried. */
static int watch(const char *id, const ContainerWatch *w, uint64_t interval) {
        _cleanup_free_ char *events_path = strjoin_path(w->cgroup_path, "memory.events");
        _cleanup_close_ int mem = events_path ? open(events_path, O_RDONLY | O_CLOEXEC) : -EBADF;
        uint64_t ooms = read_oom_kills(mem), next = now_ns() + interval;
        int r = 0;

        while (r >= 0) {
                struct pollfd p[2] = { { .fd = w->pidfd, .events = POLLIN }, { .fd = mem, .events = POLLPRI } };
                uint64_t t = now_ns(), left = next > t ? next - t : 0;
                struct timespec ts = { .tv_sec = (time_t) (left / NSEC_PER_SEC), .tv_nsec = (long) (left % NSEC_PER_SEC) };

                if (ppoll(p, mem >= 0 ? 2 : 1, &ts, NULL) < 0 && errno != EINTR)
                        return log_errno(LOG_ERR, -errno, "events: poll: %m");
                r = report_ooms(id, mem, &ooms);
                if (r < 0)
                        break;
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        /* an OOM kill may be why the init died: the killer counts it in memory.events
                         * before it exits itself, so look once more when the cgroup is empty */
                        (void) cgroup_wait_empty(w->cgroup_path, EXIT_SETTLE_MS);
                        r = report_ooms(id, mem, &ooms);
                        return r < 0 ? r : print_event("exit", id, NULL, 0);
                }
                if (now_ns() < next)
                        continue;
                (void) print_stats(id, w->cgroup_path);
                next += interval;
                if (next < now_ns()) /* a slow round: no burst to catch up */
                        next = now_ns() + interval;
        }
        return r;
}

int cmd_events(const GlobalOptions *g, int argc, char **argv) {
        static const struct option opts[] = {
                { "stats", no_argument, NULL, 's' },
                { "interval", required_argument, NULL, 'i' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char short_opts[] = "+h";
        ContainerWatch w = CONTAINER_WATCH_NULL;
        uint64_t interval = 5 * NSEC_PER_SEC;
        bool stats = false;
        int c, r;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, short_opts, opts, NULL)) >= 0) {
                switch (c) {
                case 's':
                        stats = true;
                        break;
                case 'i':
                        if (parse_duration(optarg, &interval) < 0) {
                                log_error("events: --interval: '%s' is not a positive duration like 5s or 500ms", optarg);
                                return 1;
                        }
                        break;
                case 'h':
                        printf("Usage: urun events [--stats] [--interval D] ID\n"
                               "Print cgroup statistics every D (default 5s) and OOM events as JSON lines until the\n"
                               "container stops (an \"exit\" event is the last line); --stats: one statistics line.\n");
                        return 0;
                default:
                        (void) cmd_bad_option("events", short_opts, argv);
                        return 1;
                }
        }
        if (argc - optind != 1) {
                log_error("events: usage: urun events [--stats] [--interval D] ID");
                return 1;
        }
        r = container_watch_open(g, argv[optind], &w);
        if (r >= 0)
                r = stats ? print_stats(argv[optind], w.cgroup_path) : watch(argv[optind], &w, interval);
        container_watch_done(&w);
        return r < 0 ? 1 : 0;
}
