/* config.json: process.ioPriority, process.scheduler, process.execCPUAffinity, linux.personality and
 * linux.timeOffsets. Everything that can be checked without the kernel is checked here, so that a
 * bad value fails `create` with the field's path before anything exists; procattrs.c applies them.
 * Names and ranges follow runc (libcontainer/configs/validate) where the spec leaves them open. */
#include <errno.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <linux/sched.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>

#include <json-c/json.h>

#include "cpu-list.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

/* Reserved in the uapi headers but never merged: the kernel refuses it with EINVAL, which is the
 * message the user then gets (runc and crun pass it through the same way). */
#ifndef SCHED_ISO
#        define SCHED_ISO 4
#endif

typedef struct {
        const char *name;
        int value;
} NameValue;

static const NameValue *lookup(const NameValue *t, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(t[i].name, name))
                        return &t[i];
        return NULL;
}

/* ---- process.ioPriority ---- */

static const NameValue ioprio_classes[] = {
        { "IOPRIO_CLASS_RT", IOPRIO_CLASS_RT },
        { "IOPRIO_CLASS_BE", IOPRIO_CLASS_BE },
        { "IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE },
};

/* A string that must be one of the table's names; *(int *) dest = its value. what and hint make
 * the error ("unknown class 'X' (expected ...)"). */
static int parse_named(ParseCtx *c, json_object *v, const NameValue *t, size_t n, const char *what, const char *hint,
                       void *dest) {
        _cleanup_free_ char *name = NULL;
        const NameValue *e;
        int r;

        r = parse_string(c, v, &name);
        if (r < 0)
                return r;
        e = lookup(t, n, name);
        if (!e)
                return parse_error(c, "unknown %s '%s'%s", what, name, hint);
        *(int *) dest = e->value;
        return 0;
}

static int parse_ioprio_class(ParseCtx *c, json_object *v, void *dest) {
        return parse_named(c, v, ioprio_classes, ELEMENTSOF(ioprio_classes), "class",
                           " (expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)", dest);
}

static int parse_ioprio_level(ParseCtx *c, json_object *v, void *dest) {
        return parse_int_range(c, v, 0, 7, dest);
}

int spec_parse_io_priority(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "class", parse_ioprio_class, offsetof(ProcessSpec, io_priority_class), true },
                { "priority", parse_ioprio_level, offsetof(ProcessSpec, io_priority_level), false },
        };
        ProcessSpec *p = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), p);
        if (r < 0)
                return r;
        p->has_io_priority = true;
        return 0;
}

/* ---- process.scheduler ---- */

static const NameValue sched_policies[] = {
        { "SCHED_OTHER", SCHED_OTHER }, { "SCHED_FIFO", SCHED_FIFO }, { "SCHED_RR", SCHED_RR },
        { "SCHED_BATCH", SCHED_BATCH }, { "SCHED_ISO", SCHED_ISO },   { "SCHED_IDLE", SCHED_IDLE },
        { "SCHED_DEADLINE", SCHED_DEADLINE },
};

static const NameValue sched_flags[] = {
        { "SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK },
        { "SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM },
        { "SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN },
        { "SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY },
        { "SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS },
        { "SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN },
        { "SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX },
};

static int parse_sched_policy(ParseCtx *c, json_object *v, void *dest) {
        return parse_named(c, v, sched_policies, ELEMENTSOF(sched_policies), "policy", "", dest);
}

static int parse_nice(ParseCtx *c, json_object *v, void *dest) {
        return parse_int_range(c, v, -20, 19, dest);
}

static int parse_i32(ParseCtx *c, json_object *v, void *dest) {
        return parse_int_range(c, v, INT32_MIN, INT32_MAX, dest);
}

static int parse_sched_flags(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_strv_free_ char **names = NULL;
        uint64_t *flags = dest;
        int r;

        r = parse_strv(c, v, &names);
        if (r < 0)
                return r;
        for (size_t i = 0; names[i]; i++) {
                const NameValue *e = lookup(sched_flags, ELEMENTSOF(sched_flags), names[i]);

                if (!e) {
                        path_push_index(c, i);
                        return parse_error(c, "unknown flag '%s'", names[i]);
                }
                *flags |= (uint64_t) e->value;
        }
        return 0;
}

static const char *policy_name(int policy) {
        for (size_t i = 0; i < ELEMENTSOF(sched_policies); i++)
                if (sched_policies[i].value == policy)
                        return sched_policies[i].name;
        return "?";
}

/* The combinations sched_setattr(2) refuses with a bare EINVAL, named here instead. */
static int check_scheduler(ParseCtx *c, const SchedulerSpec *s) {
        bool rt = s->policy == SCHED_FIFO || s->policy == SCHED_RR;
        const char *name = policy_name(s->policy);

        if (rt && (s->priority < 1 || s->priority > 99)) {
                path_push_field(c, "priority");
                return parse_error(c, "%" PRIi32 " out of range 1..99 for %s", s->priority, name);
        }
        if (!rt && s->priority != 0) {
                path_push_field(c, "priority");
                return parse_error(c, "only SCHED_FIFO and SCHED_RR take a priority (policy is %s)", name);
        }
        if (s->policy != SCHED_DEADLINE) {
                const char *f = s->runtime ? "runtime" : s->deadline ? "deadline" : s->period ? "period" : NULL;

                if (!f)
                        return 0;
                path_push_field(c, f);
                return parse_error(c, "only SCHED_DEADLINE takes runtime, deadline and period (policy is %s)", name);
        }
        /* sched(7): 1024 ns <= runtime <= deadline <= period (a period of 0 means the deadline) */
        if (s->runtime < 1024) {
                path_push_field(c, "runtime");
                return parse_error(c, "SCHED_DEADLINE needs a runtime of at least 1024 ns");
        }
        if (s->deadline < s->runtime) {
                path_push_field(c, "deadline");
                return parse_error(c, "SCHED_DEADLINE needs a deadline of at least the runtime");
        }
        if (s->period != 0 && s->period < s->deadline) {
                path_push_field(c, "period");
                return parse_error(c, "SCHED_DEADLINE needs a period of at least the deadline");
        }
        return 0;
}

int spec_parse_scheduler(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "policy", parse_sched_policy, offsetof(SchedulerSpec, policy), true },
                { "nice", parse_nice, offsetof(SchedulerSpec, nice), false },
                { "priority", parse_i32, offsetof(SchedulerSpec, priority), false },
                { "flags", parse_sched_flags, offsetof(SchedulerSpec, flags), false },
                { "runtime", parse_u64, offsetof(SchedulerSpec, runtime), false },
                { "deadline", parse_u64, offsetof(SchedulerSpec, deadline), false },
                { "period", parse_u64, offsetof(SchedulerSpec, period), false },
        };
        SchedulerSpec *s = &((ProcessSpec *) dest)->scheduler;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), s);
        if (r < 0)
                return r;
        r = check_scheduler(c, s);
        if (r < 0)
                return r;
        s->present = true;
        return 0;
}

/* ---- process.execCPUAffinity ---- */

static int parse_number(const char **p, unsigned long *ret) {
        unsigned long n = 0;
        const char *s = *p;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++)
                if (n <= CPU_LIST_MAX) /* saturate: anything above is out of range anyway */
                        n = n * 10 + (unsigned long) (*s - '0');
        *p = s;
        *ret = n;
        return 0;
}

static const char *skip_blanks(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

int cpu_list_parse(const char *list, cpu_set_t **ret_set, size_t *ret_size) {
        size_t size = CPU_ALLOC_SIZE(CPU_LIST_MAX);
        cpu_set_t *set = NULL;
        const char *p = list;
        int n = 0, r = 0;

        if (ret_set) {
                set = CPU_ALLOC(CPU_LIST_MAX);
                if (!set)
                        return -ENOMEM;
                CPU_ZERO_S(size, set);
        }
        for (;;) {
                unsigned long first, last;

                p = skip_blanks(p);
                if (*p == ',') { /* an empty element */
                        p++;
                        continue;
                }
                if (*p == '\0')
                        break;
                r = parse_number(&p, &first);
                last = first;
                if (r >= 0 && *p == '-') {
                        p++;
                        r = parse_number(&p, &last);
                }
                p = skip_blanks(p);
                if (r >= 0 && ((*p != ',' && *p != '\0') || first > last))
                        r = -EINVAL;
                if (r >= 0 && last >= CPU_LIST_MAX)
                        r = -ERANGE;
                if (r < 0)
                        break;
                for (unsigned long i = first; set && i <= last; i++)
                        CPU_SET_S(i, size, set);
                n++;
        }
        if (r >= 0 && n == 0)
                r = -EINVAL;
        if (r < 0 || !ret_set) {
                if (set)
                        CPU_FREE(set);
                return r;
        }
        *ret_set = set;
        *ret_size = size;
        return 0;
}

static int parse_cpu_list(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        int r;

        r = parse_string_opt(c, v, dest);
        if (r < 0 || !*d)
                return r;
        r = cpu_list_parse(*d, NULL, NULL);
        if (r == -ERANGE)
                return parse_error(c, "'%s': CPU numbers must be below %d", *d, CPU_LIST_MAX);
        if (r < 0)
                return parse_error(c, "'%s' is not a CPU list (expected e.g. \"0-3,7\")", *d);
        return 0;
}

int spec_parse_exec_cpu_affinity(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "initial", parse_cpu_list, offsetof(ProcessSpec, exec_cpu_affinity_initial), false },
                { "final", parse_cpu_list, offsetof(ProcessSpec, exec_cpu_affinity_final), false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

/* ---- linux.personality ---- */

static int parse_personality_domain(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = parse_string(c, v, &name);
        if (r < 0)
                return r;
        if (streq(name, "LINUX"))
                *(unsigned long *) dest = PER_LINUX;
        else if (streq(name, "LINUX32"))
                *(unsigned long *) dest = PER_LINUX32;
        else
                return parse_error(c, "unknown domain '%s' (expected LINUX or LINUX32)", name);
        return 0;
}

/* The spec defines no flag values yet; runc accepts and ignores any, and so do we. */
static int parse_personality_flags(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_strv_free_ char **flags = NULL;

        (void) dest;
        return parse_strv(c, v, &flags);
}

int spec_parse_personality(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "domain", parse_personality_domain, offsetof(Spec, personality), true },
                { "flags", parse_personality_flags, 0, false },
        };
        Spec *s = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), s);
        if (r < 0)
                return r;
        s->has_personality = true;
        return 0;
}

/* ---- linux.timeOffsets ---- */

static int parse_nanosecs(ParseCtx *c, json_object *v, void *dest) {
        int r;

        r = parse_u32(c, v, dest);
        if (r < 0)
                return r;
        if (*(uint32_t *) dest > 999999999)
                return parse_error(c, "%" PRIu32 " out of range 0..999999999", *(uint32_t *) dest);
        return 0;
}

static int parse_time_offset(ParseCtx *c, json_object *v, TimeOffsetSpec *t) {
        static const FieldParser fields[] = {
                { "secs", parse_i64, offsetof(TimeOffsetSpec, secs), false },
                { "nanosecs", parse_nanosecs, offsetof(TimeOffsetSpec, nanosecs), false },
        };
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), t);
        if (r < 0)
                return r;
        t->present = true;
        return 0;
}

/* Only CLOCK_MONOTONIC and CLOCK_BOOTTIME are per time namespace (time_namespaces(7)). */
int spec_parse_time_offsets(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");

        json_object_object_foreach(v, key, val) {
                size_t old = path_push_field(c, key);
                TimeOffsetSpec *t;
                int r;

                if (streq(key, "monotonic"))
                        t = &s->time_offset_monotonic;
                else if (streq(key, "boottime"))
                        t = &s->time_offset_boottime;
                else
                        return parse_error(c, "unknown clock (only 'monotonic' and 'boottime' have offsets)");
                if (val) {
                        r = parse_time_offset(c, val, t);
                        if (r < 0)
                                return r;
                }
                path_pop(c, old);
        }
        return 0;
}
