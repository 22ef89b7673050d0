/* `urun update [--resources|-r FILE|-] [LIMIT FLAGS] ID`: new limits for a container's cgroup
 * (runc's verb: Podman calls `update --resources=FILE ID`, containerd's shim `update --resources -
 * ID` with the JSON on stdin). The resources object is parsed as config.json's linux.resources;
 * each flag then sets one of its fields (a flag wins over the file, where runc would ignore it).
 * Sizes take runc's suffixes: 512k, 64m, 1.5g (powers of 1024), -1 is unlimited. */
#include <fcntl.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd-options.h"
#include "cpu-list.h"
#include "lifecycle-cgroup.h"
#include "log.h"
#include "util.h"

#define RESOURCES_FILE_MAX (4u << 20)

enum flag_kind {
        FLAG_SIZE,      /* OptInt64: bytes with an optional suffix, or -1 */
        FLAG_INT,       /* OptInt64, any value */
        FLAG_QUOTA,     /* OptInt64 >= -1 */
        FLAG_UINT,      /* OptUint64 */
        FLAG_WEIGHT,    /* OptUint64 10..1000, 0 = leave as is */
        FLAG_IDLE,      /* OptInt64 0 or 1 */
        FLAG_CPU_LIST,  /* char *, a list like "0-3,7" */
        FLAG_REALTIME,  /* cgroup v1 only: refused */
};

typedef struct {
        const char *name;
        enum flag_kind kind;
        size_t offset; /* in ResourcesSpec */
} UpdateFlag;

static const UpdateFlag update_flags[] = {
        { "memory", FLAG_SIZE, offsetof(ResourcesSpec, memory.limit) },
        { "memory-reservation", FLAG_SIZE, offsetof(ResourcesSpec, memory.reservation) },
        { "memory-swap", FLAG_SIZE, offsetof(ResourcesSpec, memory.swap) },
        { "kernel-memory", FLAG_SIZE, offsetof(ResourcesSpec, memory.kernel) },        /* v1 only: a warning */
        { "kernel-memory-tcp", FLAG_SIZE, offsetof(ResourcesSpec, memory.kernel_tcp) }, /* v1 only: a warning */
        { "pids-limit", FLAG_INT, offsetof(ResourcesSpec, pids_limit) },
        { "cpu-quota", FLAG_QUOTA, offsetof(ResourcesSpec, cpu.quota) },
        { "cpu-period", FLAG_UINT, offsetof(ResourcesSpec, cpu.period) },
        { "cpu-share", FLAG_UINT, offsetof(ResourcesSpec, cpu.shares) },
        { "cpu-burst", FLAG_UINT, offsetof(ResourcesSpec, cpu.burst) },
        { "cpu-idle", FLAG_IDLE, offsetof(ResourcesSpec, cpu.idle) },
        { "cpuset-cpus", FLAG_CPU_LIST, offsetof(ResourcesSpec, cpu.cpus) },
        { "cpuset-mems", FLAG_CPU_LIST, offsetof(ResourcesSpec, cpu.mems) },
        { "blkio-weight", FLAG_WEIGHT, offsetof(ResourcesSpec, block_io.weight) },
        { "cpu-rt-period", FLAG_REALTIME, 0 },
        { "cpu-rt-runtime", FLAG_REALTIME, 0 },
};
#define N_FLAGS ELEMENTSOF(update_flags)
#define OPT_FLAG 256 /* getopt value of update_flags[i]: OPT_FLAG + i */

static const char short_opts[] = "+r:h";

static void update_help(void) {
        printf("Usage: urun update [--resources|-r FILE|-] [OPTIONS] ID\n"
               "Change the cgroup limits of a container. FILE (- for stdin) holds an OCI linux.resources object.\n"
               "Options: --memory N --memory-reservation N --memory-swap N (bytes, k/m/g suffixes, -1 unlimited)\n"
               "         --pids-limit N --cpu-quota N --cpu-period N --cpu-share N --cpu-burst N --cpu-idle 0|1\n"
               "         --cpuset-cpus LIST --cpuset-mems LIST --blkio-weight N\n");
}

/* runc's size syntax (go-units RAMInBytes): a number, maybe with a fraction and one blank, then
 * an optional k/m/g/t/p, optional i, optional b; all powers of 1024. */
static int parse_size(const char *s, int64_t *ret) {
        static const char units[] = "kmgtp";
        const char *p = s + strspn(s, "0123456789"), *u;
        long double v;
        int shift = 0;

        if (streq(s, "-1")) {
                *ret = -1;
                return 0;
        }
        if (p == s)
                return -EINVAL;
        if (*p == '.') {
                size_t n = strspn(p + 1, "0123456789");
                if (n == 0)
                        return -EINVAL;
                p += 1 + n;
        }
        v = strtold(s, NULL); /* the prefix checked above: digits, maybe a fraction */
        if (*p == ' ')
                p++;
        if (*p && (u = strchr(units, *p | 0x20))) {
                shift = 10 * (int) (u - units + 1);
                p++;
        }
        if ((*p | 0x20) == 'i')
                p++;
        if ((*p | 0x20) == 'b')
                p++;
        if (*p)
                return -EINVAL;
        v *= (long double) (UINT64_C(1) << shift);
        if (v > (long double) INT64_MAX)
                return -ERANGE;
        *ret = (int64_t) v;
        return 0;
}

static int flag_error(const UpdateFlag *f, const char *value, const char *want) {
        return log_errno(LOG_ERR, -EINVAL, "update: --%s: '%s' is not %s", f->name, value, want);
}

/* Set the field of r that flag f names from its value. */
static int apply_flag(const UpdateFlag *f, const char *value, ResourcesSpec *r) {
        void *field = (char *) r + f->offset;
        OptInt64 *i = field;
        OptUint64 *u = field;
        char **str = field;

        switch (f->kind) {
        case FLAG_SIZE:
                if (parse_size(value, &i->value) < 0)
                        return flag_error(f, value, "a size (bytes, or with a k, m, g, t or p suffix; -1 for unlimited)");
                i->set = true;
                return 0;
        case FLAG_INT:
        case FLAG_QUOTA:
        case FLAG_IDLE:
                if (safe_atoi64(value, &i->value) < 0 || (f->kind == FLAG_QUOTA && i->value < -1) ||
                    (f->kind == FLAG_IDLE && i->value != 0 && i->value != 1))
                        return flag_error(f, value,
                                          f->kind == FLAG_IDLE    ? "0 or 1"
                                          : f->kind == FLAG_QUOTA ? "a quota in microseconds (-1 for unlimited)"
                                                                  : "a number");
                i->set = true;
                return 0;
        case FLAG_UINT:
        case FLAG_WEIGHT:
                if (safe_atou64(value, &u->value) < 0 ||
                    (f->kind == FLAG_WEIGHT && u->value != 0 && (u->value < 10 || u->value > 1000)))
                        return flag_error(f, value, f->kind == FLAG_WEIGHT ? "a weight in 10..1000" : "a number");
                u->set = f->kind != FLAG_WEIGHT || u->value != 0;
                return 0;
        case FLAG_CPU_LIST: {
                int k = cpu_list_parse(value, NULL, NULL);
                if (k == -ENOMEM)
                        return log_errno(LOG_ERR, k, "update: %m");
                if (k < 0)
                        return flag_error(f, value, "a list like \"0-3,7\"");
                free(*str);
                *str = strdup(value);
                return *str ? 0 : log_errno(LOG_ERR, -ENOMEM, "update: %m");
        }
        case FLAG_REALTIME:
                return log_errno(LOG_ERR, -EOPNOTSUPP,
                                 "update: --%s: realtime CPU scheduling is a cgroup v1 feature; urun uses cgroup v2 only",
                                 f->name);
        }
        return -EINVAL;
}

/* The resources object of FILE, or of stdin for "-". */
static int load_resources(const char *file, ResourcesSpec **ret) {
        _cleanup_free_ char *json = NULL, *err = NULL;
        size_t len = 0;
        int r;

        if (streq(file, "-"))
                r = read_fd_all(STDIN_FILENO, RESOURCES_FILE_MAX, &json, &len);
        else
                r = read_file_at(AT_FDCWD, file, RESOURCES_FILE_MAX, &json, &len);
        if (r < 0)
                return log_errno(LOG_ERR, r, "update: --resources '%s': %m", file);
        r = resources_parse_string(json, len, ret, &err);
        if (r < 0)
                return log_errno(LOG_ERR, r, "update: --resources '%s': %s", file, err ? err : "cannot be parsed");
        return 0;
}

static int parse_update(int argc, char **argv, const char **ret_file, const char *values[static N_FLAGS]) {
        struct option opts[N_FLAGS + 3] = {
                { "resources", required_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
        };
        int c;

        for (size_t i = 0; i < N_FLAGS; i++)
                opts[2 + i] = (struct option){ update_flags[i].name, required_argument, NULL, OPT_FLAG + (int) i };
        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, short_opts, opts, NULL)) >= 0) {
                if (c == 'r')
                        *ret_file = optarg;
                else if (c == 'h') {
                        update_help();
                        return 1;
                } else if (c >= OPT_FLAG && c < OPT_FLAG + (int) N_FLAGS)
                        values[c - OPT_FLAG] = optarg;
                else
                        return cmd_bad_option("update", short_opts, argv);
        }
        if (argc - optind != 1)
                return log_errno(LOG_ERR, -EINVAL, "update: usage: urun update [--resources FILE|-] [OPTIONS] ID");
        return 0;
}

int cmd_update(const GlobalOptions *g, int argc, char **argv) {
        _cleanup_resources_spec_free_ ResourcesSpec *res = NULL;
        const char *values[N_FLAGS] = {}, *file = NULL;
        int r;

        r = parse_update(argc, argv, &file, values);
        if (r != 0)
                return r > 0 ? 0 : 1;
        if (file)
                r = load_resources(file, &res);
        else if (!(res = calloc(1, sizeof(ResourcesSpec))))
                r = log_errno(LOG_ERR, -ENOMEM, "update: %m");
        for (size_t i = 0; r >= 0 && i < N_FLAGS; i++)
                if (values[i])
                        r = apply_flag(&update_flags[i], values[i], res);
        if (r >= 0)
                r = container_update(g, argv[optind], res);
        return r < 0 ? 1 : 0;
}
