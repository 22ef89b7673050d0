/* Process attributes beyond identity and capabilities (see procattrs.h).
 *
 * Threat model: every write to /proc goes through the procfs the runtime opened and verified
 * before clone (proc_fd), never through a "/proc/..." path: in the container init that path may
 * already be whatever the container's mount namespace put there. Opened files must be on a procfs
 * (proc_open()), so nothing mounted over a /proc/sys entry on the host can take a write meant for
 * the kernel. A sysctl is written only when the namespace that owns it belongs to the container:
 * anything else would change the host for every process on it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/ioprio.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cpu-list.h"
#include "log.h"
#include "procattrs.h"
#include "util.h"

#ifndef CLONE_NEWTIME
#        define CLONE_NEWTIME 0x00000080
#endif

/* struct sched_attr of sched_setattr(2), VER1; <linux/sched/types.h> clashes with <sched.h>. */
typedef struct {
        uint32_t size;
        uint32_t sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime;
        uint64_t sched_deadline;
        uint64_t sched_period;
        uint32_t sched_util_min;
        uint32_t sched_util_max;
} SchedAttr;

/* ---- LSM detection ---- */

/* As runc (libcontainer/apparmor) and crun: the module parameter says whether AppArmor runs. */
bool procattrs_apparmor_enabled(void) {
        _cleanup_free_ char *buf = NULL;

        if (read_file_at(AT_FDCWD, "/sys/module/apparmor/parameters/enabled", 64, &buf, NULL) < 0)
                return false;
        return buf[0] == 'Y';
}

/* As go-selinux: selinuxfs mounted read-write at /sys/fs/selinux (a read-only one is how container
 * engines tell a nested runtime that SELinux is not for it to use). */
bool procattrs_selinux_enabled(void) {
        struct statfs sfs;

        if (statfs("/sys/fs/selinux", &sfs) < 0)
                return false;
        return sfs.f_type == SELINUX_MAGIC && !(sfs.f_flags & ST_RDONLY);
}

/* ---- /proc through the runtime's procfs ---- */

static int proc_open(int proc_fd, const char *path, int flags) {
        _cleanup_close_ int fd = openat(proc_fd, path, flags | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        struct statfs sfs;

        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0)
                return -errno;
        if (sfs.f_type != PROC_SUPER_MAGIC)
                return -EXDEV;
        return TAKE_FD(fd);
}

/* One write() call: procfs and sysctl handlers parse each write on its own. */
static int fd_write_once(int fd, const char *data) {
        size_t len = strlen(data);
        ssize_t n = write(fd, data, len);

        if (n < 0)
                return -errno;
        return (size_t) n == len ? 0 : -EIO;
}

static int proc_write(int proc_fd, const char *path, const char *data) {
        _cleanup_close_ int fd = proc_open(proc_fd, path, O_WRONLY);

        if (fd < 0)
                return fd;
        return fd_write_once(fd, data);
}

/* ---- validation (before clone) ---- */

static int validate_labels(const Spec *s) {
        const ProcessSpec *p = &s->process;

        if (s->has_process && p->apparmor_profile && !procattrs_apparmor_enabled())
                return log_errno(LOG_ERR, -EOPNOTSUPP, "process.apparmorProfile: AppArmor is not enabled on this host");
        if (s->has_process && p->selinux_label && !procattrs_selinux_enabled())
                return log_errno(LOG_ERR, -EOPNOTSUPP, "process.selinuxLabel: SELinux is not enabled on this host");
        if (s->mount_label && !procattrs_selinux_enabled())
                return log_errno(LOG_ERR, -EOPNOTSUPP, "linux.mountLabel: SELinux is not enabled on this host");
        return 0;
}

static int validate_time_offsets(const Spec *s, int clone_flags) {
        if (!s->time_offset_monotonic.present && !s->time_offset_boottime.present)
                return 0;
        if (clone_flags & CLONE_NEWTIME)
                return 0;
        if (s->namespaces[NS_TIME].present)
                return log_errno(LOG_ERR, -EINVAL,
                                 "linux.timeOffsets: the time namespace is joined by path; offsets can only be set on a new one");
        return log_errno(LOG_ERR, -EINVAL,
                         "linux.timeOffsets: needs a new time namespace (add {\"type\": \"time\"} to linux.namespaces)");
}

/* Dotted names only ("net.ipv4.ip_forward"): no '/', no empty component (so no ".."), which
 * keeps "sys/" + the name a path below /proc/sys. */
static bool sysctl_name_valid(const char *key) {
        if (key[0] == '\0' || key[0] == '.' || key[strlen(key) - 1] == '.')
                return false;
        return !strchr(key, '/') && !strstr(key, "..");
}

/* The namespace of the container that makes key its own (as runc's validator lists them), or
 * -EPERM for a key that would change the host whatever the container has. */
static int sysctl_namespace(const char *key) {
        static const char *const ipc_keys[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",  "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };

        for (size_t i = 0; i < ELEMENTSOF(ipc_keys); i++)
                if (streq(key, ipc_keys[i]))
                        return NS_IPC;
        if (string_has_prefix(key, "fs.mqueue."))
                return NS_IPC;
        if (string_has_prefix(key, "net."))
                return NS_NET;
        if (streq(key, "kernel.hostname") || streq(key, "kernel.domainname"))
                return NS_UTS;
        return -EPERM;
}

/* Whether the container has a namespace of type t of its own: one it creates, or one it joins
 * that is not the runtime's (joining /proc/self/ns/net is the host's network, by another name). */
static int ns_is_containers(const Spec *s, int clone_flags, enum ns_type t, bool *ret) {
        char self[64];
        struct stat a, b;

        if (clone_flags & ns_type_clone_flag(t)) {
                *ret = true;
                return 0;
        }
        if (!s->namespaces[t].present || !s->namespaces[t].path) {
                *ret = false;
                return 0;
        }
        snprintf(self, sizeof self, "/proc/self/ns/%s", ns_type_proc_name(t));
        if (stat(s->namespaces[t].path, &a) < 0 || stat(self, &b) < 0)
                return -errno;
        *ret = a.st_dev != b.st_dev || a.st_ino != b.st_ino;
        return 0;
}

static int validate_sysctl(const Spec *s, int clone_flags, const char *key) {
        bool own;
        int t, r;

        if (!sysctl_name_valid(key))
                return log_errno(LOG_ERR, -EINVAL,
                                 "linux.sysctl: '%s' is not a sysctl name (dot-separated, no empty component, no '/')", key);
        t = sysctl_namespace(key);
        if (t < 0)
                return log_errno(LOG_ERR, -EPERM, "linux.sysctl: '%s' is not namespaced (it would change the host)", key);
        r = ns_is_containers(s, clone_flags, t, &own);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.sysctl: '%s': checking the %s namespace '%s': %m", key,
                                 ns_type_to_name(t), s->namespaces[t].path);
        if (!own)
                return log_errno(LOG_ERR, -EPERM,
                                 "linux.sysctl: '%s' belongs to the %s namespace, and the container shares the host's",
                                 key, ns_type_to_name(t));
        /* the dedicated fields are set later and would silently win */
        if ((streq(key, "kernel.hostname") && s->hostname) || (streq(key, "kernel.domainname") && s->domainname))
                return log_errno(LOG_ERR, -EINVAL, "linux.sysctl: '%s' conflicts with the '%s' field", key,
                                 strchr(key, '.') + 1);
        return 0;
}

int procattrs_validate(const Spec *s, int clone_flags) {
        int r;

        r = validate_labels(s);
        if (r < 0)
                return r;
        r = validate_time_offsets(s, clone_flags);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_sysctl; i++) {
                r = validate_sysctl(s, clone_flags, s->sysctl[i].key);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- in the container init: time namespace, sysctls ---- */

/* We are not dumpable (child_main): /proc/self files then belong to root of the user namespace the
 * runtime was started in, which a rootless container's root is not, and timens_offsets is 0644.
 * Only for a user namespace we just created, whose only process is us, do we become dumpable
 * for the one open(): nobody inside can ptrace us, and who could outside already owns the
 * runtime's uid. In a joined user namespace, its processes could; there we fail instead. */
static int open_timens_offsets(const Spec *s, int proc_fd) {
        int fd;

        fd = proc_open(proc_fd, "self/timens_offsets", O_WRONLY);
        if (fd != -EACCES || !s->namespaces[NS_USER].present || s->namespaces[NS_USER].path)
                return fd;
        (void) prctl(PR_SET_DUMPABLE, 1);
        fd = proc_open(proc_fd, "self/timens_offsets", O_WRONLY);
        (void) prctl(PR_SET_DUMPABLE, 0);
        return fd;
}

static void format_offsets(const Spec *s, char *buf, size_t size) {
        const TimeOffsetSpec *m = &s->time_offset_monotonic, *b = &s->time_offset_boottime;
        int n = 0;

        buf[0] = '\0';
        if (m->present)
                n = snprintf(buf, size, "monotonic %lld %u\n", (long long) m->secs, (unsigned) m->nanosecs);
        if (b->present && n >= 0 && (size_t) n < size)
                snprintf(buf + n, size - (size_t) n, "boottime %lld %u\n", (long long) b->secs, (unsigned) b->nanosecs);
}

/* Offsets can be written only while no process is in the namespace: unshare() makes it the one
 * for our children, we write them, then enter it ourselves. */
static int setup_time_namespace(const Spec *s, int proc_fd) {
        _cleanup_close_ int fd = -EBADF, ns_fd = -EBADF;
        char buf[128];
        int r;

        if (unshare(CLONE_NEWTIME) < 0)
                return log_errno(LOG_ERR, -errno, "linux.timeOffsets: creating the time namespace: %m");
        format_offsets(s, buf, sizeof buf);
        fd = open_timens_offsets(s, proc_fd);
        if (fd == -EACCES)
                return log_errno(LOG_ERR, fd, "linux.timeOffsets: opening timens_offsets: %m "
                                 "(without host root, offsets need a new user namespace, not a joined one)");
        if (fd < 0)
                return log_errno(LOG_ERR, fd, "linux.timeOffsets: opening timens_offsets: %m");
        r = fd_write_once(fd, buf);
        if (r == -ERANGE)
                return log_errno(LOG_ERR, r,
                                 "linux.timeOffsets: writing the offsets: %m "
                                 "(the clock plus its offset must stay between 0 and about 146 years)");
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.timeOffsets: writing the offsets: %m");
        ns_fd = openat(proc_fd, "self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 || setns(ns_fd, CLONE_NEWTIME) < 0)
                return log_errno(LOG_ERR, -errno, "linux.timeOffsets: entering the time namespace: %m");
        return 0;
}

/* kernel.hostname and kernel.domainname: /proc/sys/kernel/{hostname,domainname} is writable only
 * by the host's root, while the syscalls need CAP_SYS_ADMIN over the UTS namespace only (which the
 * container's root has); the effect is the same. */
static int set_uts_name(const char *key, const char *value) {
        int r = streq(key, "kernel.hostname") ? sethostname(value, strlen(value)) : setdomainname(value, strlen(value));

        return r < 0 ? -errno : 0;
}

static int apply_sysctl(const KeyValue *kv, int proc_fd) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (streq(kv->key, "kernel.hostname") || streq(kv->key, "kernel.domainname"))
                r = set_uts_name(kv->key, kv->value);
        else {
                if (asprintf(&path, "sys/%s", kv->key) < 0)
                        return log_errno(LOG_ERR, -ENOMEM, "linux.sysctl: %m");
                for (char *p = path; *p; p++)
                        if (*p == '.')
                                *p = '/';
                r = proc_write(proc_fd, path, kv->value);
        }
        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "linux.sysctl: '%s': no such sysctl in the container's namespace", kv->key);
        if (r == -EINVAL && streq(kv->key, "net.ipv4.ping_group_range"))
                return log_errno(LOG_ERR, r,
                                 "linux.sysctl: 'net.ipv4.ping_group_range' = '%s': %m (both gids of the range must be "
                                 "mapped in the container's user namespace, linux.gidMappings)",
                                 kv->value);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.sysctl: writing '%s' = '%s': %m", kv->key, kv->value);
        return 0;
}

int procattrs_setup_namespaced(const Spec *s, int proc_fd, bool new_timens) {
        int r;

        if (new_timens) {
                r = setup_time_namespace(s, proc_fd);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_sysctl; i++) {
                r = apply_sysctl(&s->sysctl[i], proc_fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- init and exec: scheduling, personality, labels, affinity ---- */

static const char *ioprio_class_name(int class) {
        switch (class) {
        case IOPRIO_CLASS_RT:
                return "IOPRIO_CLASS_RT";
        case IOPRIO_CLASS_BE:
                return "IOPRIO_CLASS_BE";
        case IOPRIO_CLASS_IDLE:
                return "IOPRIO_CLASS_IDLE";
        default:
                return "?";
        }
}

static int apply_io_priority(const ProcessSpec *p) {
        int prio = IOPRIO_PRIO_VALUE(p->io_priority_class, p->io_priority_level);
        int r;

        if (!p->has_io_priority)
                return 0;
        if (syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, prio) >= 0)
                return 0;
        r = -errno;
        return log_errno(LOG_ERR, r, "process.ioPriority: setting %s priority %d: %m%s",
                         ioprio_class_name(p->io_priority_class), p->io_priority_level,
                         r == -EPERM ? " (the realtime class needs CAP_SYS_NICE or CAP_SYS_ADMIN in the host's user namespace)"
                                     : "");
}

static const char *sched_policy_name(int policy) {
        switch (policy) {
        case SCHED_OTHER:
                return "SCHED_OTHER";
        case SCHED_FIFO:
                return "SCHED_FIFO";
        case SCHED_RR:
                return "SCHED_RR";
        case SCHED_BATCH:
                return "SCHED_BATCH";
        case SCHED_IDLE:
                return "SCHED_IDLE";
        case SCHED_DEADLINE:
                return "SCHED_DEADLINE";
        default:
                return "SCHED_ISO";
        }
}

static const char *sched_eperm_hint(const SchedulerSpec *s) {
        if (s->policy == SCHED_FIFO || s->policy == SCHED_RR)
                return " (real-time policies need CAP_SYS_NICE in the host's user namespace or RLIMIT_RTPRIO)";
        if (s->policy == SCHED_DEADLINE)
                return " (SCHED_DEADLINE needs CAP_SYS_NICE in the host's user namespace and a CPU affinity of all CPUs)";
        return " (a lower nice value needs CAP_SYS_NICE in the host's user namespace or RLIMIT_NICE)";
}

static int apply_scheduler(const ProcessSpec *p) {
        const SchedulerSpec *s = &p->scheduler;
        SchedAttr attr = {
                .size = sizeof(attr),
                .sched_policy = (uint32_t) s->policy,
                .sched_flags = s->flags,
                .sched_nice = s->nice,
                .sched_priority = (uint32_t) s->priority,
                .sched_runtime = s->runtime,
                .sched_deadline = s->deadline,
                .sched_period = s->period,
        };
        char params[96];
        int r;

        if (!s->present)
                return 0;
        if (syscall(SYS_sched_setattr, 0, &attr, 0) >= 0)
                return 0;
        r = -errno;
        if (s->policy == SCHED_FIFO || s->policy == SCHED_RR)
                snprintf(params, sizeof params, "priority %d", (int) s->priority);
        else if (s->policy == SCHED_DEADLINE)
                snprintf(params, sizeof params, "runtime %" PRIu64 ", deadline %" PRIu64 ", period %" PRIu64, s->runtime,
                         s->deadline, s->period);
        else
                snprintf(params, sizeof params, "nice %d", (int) s->nice);
        return log_errno(LOG_ERR, r, "process.scheduler: setting %s (%s): %m%s", sched_policy_name(s->policy), params,
                         r == -EPERM ? sched_eperm_hint(s) : "");
}

int procattrs_apply_process(const ProcessSpec *p) {
        int r;

        r = apply_io_priority(p);
        if (r < 0)
                return r;
        return apply_scheduler(p);
}

int procattrs_apply_personality(const Spec *s) {
        if (!s->has_personality)
                return 0;
        if (personality(s->personality) < 0)
                return log_errno(LOG_ERR, -errno, "linux.personality: setting domain %s: %m",
                                 s->personality == PER_LINUX32 ? "LINUX32" : "LINUX");
        return 0;
}

static int write_apparmor_exec(const char *profile, int proc_fd) {
        _cleanup_free_ char *buf = NULL;
        int r;

        if (asprintf(&buf, "exec %s", profile) < 0)
                return -ENOMEM;
        /* attr/apparmor/ since Linux 5.8 (LSM stacking); attr/exec before */
        r = proc_write(proc_fd, "thread-self/attr/apparmor/exec", buf);
        if (r == -ENOENT)
                r = proc_write(proc_fd, "thread-self/attr/exec", buf);
        return r;
}

int procattrs_apply_labels(const ProcessSpec *p, int proc_fd) {
        int r;

        if (p->apparmor_profile) {
                if (!procattrs_apparmor_enabled())
                        return log_errno(LOG_ERR, -EOPNOTSUPP, "process.apparmorProfile: AppArmor is not enabled on this host");
                r = write_apparmor_exec(p->apparmor_profile, proc_fd);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "process.apparmorProfile: '%s': %m", p->apparmor_profile);
        }
        if (p->selinux_label) {
                if (!procattrs_selinux_enabled())
                        return log_errno(LOG_ERR, -EOPNOTSUPP, "process.selinuxLabel: SELinux is not enabled on this host");
                r = proc_write(proc_fd, "thread-self/attr/exec", p->selinux_label);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "process.selinuxLabel: '%s': %m", p->selinux_label);
        }
        return 0;
}

int procattrs_apply_cpu_affinity(const char *cpus) {
        cpu_set_t *set = NULL;
        size_t size = 0;
        int r;

        if (!cpus)
                return 0;
        r = cpu_list_parse(cpus, &set, &size);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.execCPUAffinity: '%s' is not a CPU list: %m", cpus);
        r = sched_setaffinity(0, size, set) < 0 ? -errno : 0;
        CPU_FREE(set);
        if (r == -EINVAL)
                return log_errno(LOG_ERR, r, "process.execCPUAffinity: '%s': %m (none of these CPUs is online and allowed)", cpus);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.execCPUAffinity: '%s': %m", cpus);
        return 0;
}
