/* Resource limits, user identity and capabilities of the container process. Everything here runs
 * in the container child just before execve(), in this order: rlimits_apply(), identity_apply(),
 * caps_apply(). caps_validate() runs earlier, in the runtime, so that a typo fails before clone. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"
#include "util.h"

static const struct {
        const char *name;
        int resource;
} rlimit_table[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

/* Same order as enum cap_set. */
static const char *const cap_set_names[_CAP_SET_MAX] = {
        [CAP_SET_BOUNDING] = "bounding",
        [CAP_SET_EFFECTIVE] = "effective",
        [CAP_SET_INHERITABLE] = "inheritable",
        [CAP_SET_PERMITTED] = "permitted",
        [CAP_SET_AMBIENT] = "ambient",
};

int rlimit_from_name(const char *name) {
        if (!name)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (streq(rlimit_table[i].name, name))
                        return rlimit_table[i].resource;
        return -EINVAL;
}

static const char *rlimit_to_name(int resource) {
        for (size_t i = 0; i < ELEMENTSOF(rlimit_table); i++)
                if (rlimit_table[i].resource == resource)
                        return rlimit_table[i].name;
        return "RLIMIT_?";
}

static const char *format_rlim(uint64_t v, char *buf, size_t size) {
        if (v == (uint64_t) RLIM_INFINITY)
                return "unlimited";
        (void) snprintf(buf, size, "%" PRIu64, v);
        return buf;
}

/* One message per failure, with a hint for the two cases people actually hit. */
static int rlimit_log_error(const RlimitSpec *l, int r) {
        char soft[24], hard[24], cur[24];
        const char *name = l->name ?: rlimit_to_name(l->resource);
        const char *hint = "";
        struct rlimit old;

        if (r == -EPERM && getrlimit(l->resource, &old) >= 0 && l->hard > (uint64_t) old.rlim_max) {
                char h[160];

                /* Only CAP_SYS_RESOURCE in the initial user namespace may raise a hard limit, so
                 * this cannot work rootless; root without that capability fails the same way. */
                (void) snprintf(h, sizeof(h),
                                " (the current hard limit is %s; raising it needs CAP_SYS_RESOURCE in the "
                                "initial user namespace)",
                                format_rlim(old.rlim_max, cur, sizeof(cur)));
                return log_errno(LOG_ERR, r, "process.rlimits: setrlimit %s (soft %s, hard %s): %m%s", name,
                                 format_rlim(l->soft, soft, sizeof(soft)),
                                 format_rlim(l->hard, hard, sizeof(hard)), h);
        }
        if (r == -EINVAL && l->soft > l->hard)
                hint = " (soft limit above hard limit)";
        return log_errno(LOG_ERR, r, "process.rlimits: setrlimit %s (soft %s, hard %s): %m%s", name,
                         format_rlim(l->soft, soft, sizeof(soft)), format_rlim(l->hard, hard, sizeof(hard)),
                         hint);
}

int rlimits_apply(const ProcessSpec *p) {
        for (size_t i = 0; i < p->n_rlimits; i++) {
                const RlimitSpec *l = &p->rlimits[i];
                struct rlimit want = {
                        .rlim_cur = (rlim_t) l->soft,
                        .rlim_max = (rlim_t) l->hard,
                };

                if (prlimit(0, (__rlimit_resource_t) l->resource, &want, NULL) < 0)
                        return rlimit_log_error(l, -errno);
        }
        return 0;
}

/* The highest capability the running kernel knows. Cached: caps_validate() runs in the runtime
 * where /proc is the host's, and the child inherits the value even if /proc is not there. */
static int cap_last_cap(void) {
        static int cached = -1;
        _cleanup_free_ char *text = NULL;
        int v;

        if (cached >= 0)
                return cached;
        if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 64, &text, NULL) >= 0) {
                text[strcspn(text, "\n")] = '\0';
                if (safe_atoi(text, &v) >= 0 && v >= 0 && v < 64) {
                        cached = v;
                        return cached;
                }
        }
        /* No /proc: probe; PR_CAPBSET_READ fails with EINVAL past the last capability. */
        for (v = 0; v < 64 && prctl(PR_CAPBSET_READ, (unsigned long) v, 0, 0, 0) >= 0; v++)
                ;
        cached = v - 1;
        return cached;
}

/* "CAP_SYS_ADMIN" -> CAP_SYS_ADMIN. Upper case only, as runc: libcap alone would also accept
 * "cap_sys_admin" and plain numbers. */
static int cap_parse_name(const char *name, cap_value_t *ret) {
        char lower[64];
        size_t n = strlen(name);
        cap_value_t v;

        if (n >= sizeof(lower) || strncmp(name, "CAP_", 4) != 0)
                return -EINVAL;
        for (size_t i = 0; i <= n; i++) {
                if (name[i] >= 'a' && name[i] <= 'z')
                        return -EINVAL;
                lower[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char) (name[i] - 'A' + 'a') : name[i];
        }
        if (cap_from_name(lower, &v) < 0 || v < 0 || v >= 64)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Name for messages, "CAP_SYS_ADMIN" as in config.json. */
static const char *cap_name(cap_value_t v, char *buf, size_t size) {
        char *s = cap_to_name(v);

        if (!s) {
                (void) snprintf(buf, size, "capability %d", (int) v);
                return buf;
        }
        (void) snprintf(buf, size, "%s", s);
        for (char *c = buf; *c; c++)
                if (*c >= 'a' && *c <= 'z')
                        *c = (char) (*c - 'a' + 'A');
        cap_free(s);
        return buf;
}

/* Bitmask of one set. Capabilities newer than the running kernel are skipped, as runc does, so
 * that one config works across kernels. */
static int cap_set_to_mask(const ProcessSpec *p, enum cap_set s, uint64_t *ret) {
        char **l = p->capabilities[s];
        uint64_t mask = 0;

        for (size_t i = 0; l && l[i]; i++) {
                cap_value_t v;

                if (cap_parse_name(l[i], &v) < 0)
                        return log_errno(LOG_ERR, -EINVAL, "process.capabilities.%s[%zu]: unknown capability '%s'",
                                         cap_set_names[s], i, l[i]);
                if (v > cap_last_cap()) {
                        log_debug("process.capabilities.%s[%zu]: %s is not supported by the running kernel, ignoring",
                                  cap_set_names[s], i, l[i]);
                        continue;
                }
                mask |= UINT64_C(1) << v;
        }
        *ret = mask;
        return 0;
}

int caps_validate(const ProcessSpec *p) {
        for (enum cap_set s = 0; s < _CAP_SET_MAX; s++) {
                uint64_t mask;
                int r = cap_set_to_mask(p, s, &mask);

                if (r < 0)
                        return r;
        }
        return 0;
}

/* With setgroups denied (rootless, single-id map) supplementary groups cannot be changed at all. */
static int groups_apply(const ProcessSpec *p, bool setgroups_allowed) {
        _Static_assert(sizeof(gid_t) == sizeof(uint32_t), "gid_t is not 32 bit");

        if (!setgroups_allowed) {
                if (p->n_additional_gids > 0)
                        return log_errno(LOG_ERR, -EPERM,
                                         "process.user.additionalGids: setgroups is denied in this user namespace "
                                         "(rootless with a single-id mapping), additional groups cannot be set");
                return 0;
        }
        /* Called even for an empty list: it drops the groups inherited from the runtime. */
        if (setgroups(p->n_additional_gids, (const gid_t *) p->additional_gids) < 0)
                return log_errno(LOG_ERR, -errno, "process.user.additionalGids: setgroups: %m%s",
                                 errno == EINVAL   ? " (gid not mapped in the user namespace?)"
                                 : errno == EPERM ? " (setgroups denied in the user namespace?)"
                                                  : "");
        return 0;
}

int identity_apply(const ProcessSpec *p, bool setgroups_allowed) {
        int r;

        /* Without KEEPCAPS, setresuid() from 0 to non-zero clears the permitted set and
         * caps_apply() could not grant anything to a non-root user. execve() resets the flag. */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return log_errno(LOG_ERR, -errno, "process.user: prctl(PR_SET_KEEPCAPS): %m");

        r = groups_apply(p, setgroups_allowed);
        if (r < 0)
                return r;

        /* gid first: after the uid change CAP_SETGID is no longer effective. */
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return log_errno(LOG_ERR, -errno, "process.user.gid: setresgid(%" PRIu32 "): %m%s", p->gid,
                                 errno == EINVAL ? " (gid not mapped in the user namespace?)" : "");
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return log_errno(LOG_ERR, -errno, "process.user.uid: setresuid(%" PRIu32 "): %m%s", p->uid,
                                 errno == EINVAL ? " (uid not mapped in the user namespace?)" : "");

        if (p->has_umask)
                (void) umask((mode_t) (p->umask & 0777));
        return 0;
}

/* setresuid() to non-zero cleared the effective set (permitted survived thanks to KEEPCAPS), but
 * PR_CAPBSET_DROP and growing the inheritable set need CAP_SETPCAP effective. */
static int caps_raise_effective(void) {
        cap_t c = cap_get_proc();
        int r = 0;

        if (!c)
                return log_errno(LOG_ERR, -errno, "process.capabilities: cap_get_proc: %m");
        if (cap_fill(c, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(c) < 0)
                r = log_errno(LOG_ERR, -errno, "process.capabilities: raising the effective set: %m");
        cap_free(c);
        return r;
}

static int bounding_apply(uint64_t keep) {
        int last = cap_last_cap();

        for (int v = 0; v <= last; v++) {
                char name[64];

                if (v < 64 && (keep & (UINT64_C(1) << v)))
                        continue;
                /* Skip what is already gone: then no CAP_SETPCAP is needed for a no-op. */
                if (prctl(PR_CAPBSET_READ, (unsigned long) v, 0, 0, 0) == 0)
                        continue;
                if (prctl(PR_CAPBSET_DROP, (unsigned long) v, 0, 0, 0) < 0)
                        return log_errno(LOG_ERR, -errno, "process.capabilities.bounding: dropping %s: %m",
                                         cap_name(v, name, sizeof(name)));
        }
        return 0;
}

static int cap_flag_from_mask(cap_t c, cap_flag_t flag, uint64_t mask) {
        for (cap_value_t v = 0; v < 64; v++) {
                if (!(mask & (UINT64_C(1) << v)))
                        continue;
                if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
                        return -errno;
        }
        return 0;
}

static int caps_set_proc(const uint64_t want[_CAP_SET_MAX]) {
        cap_t c = cap_init();
        int r;

        if (!c)
                return log_errno(LOG_ERR, -errno, "process.capabilities: cap_init: %m");
        r = cap_flag_from_mask(c, CAP_EFFECTIVE, want[CAP_SET_EFFECTIVE]);
        if (r >= 0)
                r = cap_flag_from_mask(c, CAP_PERMITTED, want[CAP_SET_PERMITTED]);
        if (r >= 0)
                r = cap_flag_from_mask(c, CAP_INHERITABLE, want[CAP_SET_INHERITABLE]);
        if (r >= 0)
                r = neg_errno(cap_set_proc(c));
        cap_free(c);
        if (r == -EPERM)
                return log_errno(LOG_ERR, r,
                                 "process.capabilities: setting effective/permitted/inheritable: %m (effective "
                                 "must be a subset of permitted, inheritable of bounding)");
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.capabilities: setting effective/permitted/inheritable: %m");
        return 0;
}

static int ambient_apply(uint64_t want) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
                /* Kernels before 4.3 have no ambient set: fine as long as none is asked for. */
                if (errno == EINVAL && want == 0)
                        return 0;
                return log_errno(LOG_ERR, -errno, "process.capabilities.ambient: clearing: %m");
        }
        for (int v = 0; v < 64; v++) {
                char name[64];

                if (!(want & (UINT64_C(1) << v)))
                        continue;
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long) v, 0, 0) < 0)
                        return log_errno(LOG_ERR, -errno,
                                         "process.capabilities.ambient: raising %s: %m (an ambient capability "
                                         "must also be permitted and inheritable)",
                                         cap_name(v, name, sizeof(name)));
        }
        return 0;
}

int caps_apply(const ProcessSpec *p) {
        uint64_t want[_CAP_SET_MAX] = {};
        int r;

        /* No "capabilities" object means no capabilities at all (runc does the same). */
        if (p->has_capabilities)
                for (enum cap_set s = 0; s < _CAP_SET_MAX; s++) {
                        r = cap_set_to_mask(p, s, &want[s]);
                        if (r < 0)
                                return r;
                }

        /* The order matters: 1. CAP_SETPCAP effective, 2. shrink bounding (needs CAP_SETPCAP),
         * 3. effective/permitted/inheritable (drops CAP_SETPCAP unless asked for), 4. ambient
         * (needs each capability permitted and inheritable, but no CAP_SETPCAP). */
        r = caps_raise_effective();
        if (r < 0)
                return r;
        r = bounding_apply(want[CAP_SET_BOUNDING]);
        if (r < 0)
                return r;
        r = caps_set_proc(want);
        if (r < 0)
                return r;
        return ambient_apply(want[CAP_SET_AMBIENT]);
}
