/* The OCI config.json as a typed, immutable structure. Only spec*.c know json-c.
 * Parsing checks types and required fields and reports the field path:
 *   "process.args[0]: expected a string". Unknown fields are ignored. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

#define SPEC_MAX_SIZE (4u * 1024u * 1024u) /* config.json larger than this is refused */
#define SPEC_MAX_DEPTH 64                  /* JSON nesting deeper than this is refused */

enum ns_type {
        NS_USER, /* must stay first: joined/created before the others */
        NS_MOUNT,
        NS_PID,
        NS_IPC,
        NS_UTS,
        NS_NET,
        NS_CGROUP,
        NS_TIME,
        _NS_MAX,
};

typedef struct {
        bool present;   /* listed in linux.namespaces */
        char *path;     /* join this one instead of creating; NULL = new */
} NamespaceSpec;

typedef struct {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
} IdMap;

typedef struct {
        char *destination;
        char *type;      /* may be NULL */
        char *source;    /* may be NULL */
        char **options;  /* NULL-terminated, may be NULL */
        IdMap *uid_mappings;
        size_t n_uid_mappings;
        IdMap *gid_mappings;
        size_t n_gid_mappings;
} MountSpec;

enum hook_kind {
        HOOK_PRESTART,
        HOOK_CREATE_RUNTIME,
        HOOK_CREATE_CONTAINER,
        HOOK_START_CONTAINER,
        HOOK_POSTSTART,
        HOOK_POSTSTOP,
        _HOOK_MAX,
};

typedef struct {
        char *path;
        char **args;   /* may be NULL */
        char **env;    /* may be NULL */
        int timeout;   /* seconds; 0 = none */
} HookSpec;

typedef struct {
        int resource;  /* RLIMIT_* */
        char *name;    /* "RLIMIT_NOFILE" as written */
        uint64_t soft;
        uint64_t hard;
} RlimitSpec;

enum cap_set { CAP_SET_BOUNDING, CAP_SET_EFFECTIVE, CAP_SET_INHERITABLE, CAP_SET_PERMITTED, CAP_SET_AMBIENT, _CAP_SET_MAX };

typedef struct {
        char *path;
        char type;     /* 'c', 'b', 'u', 'p' */
        int64_t major, minor;
        bool has_mode, has_uid, has_gid;
        uint32_t file_mode;
        uint32_t uid, gid;
} DeviceSpec;

/* process.scheduler (sched_setattr(2)); policy is SCHED_* from <sched.h>. */
typedef struct {
        bool present;
        int policy;
        int32_t nice;
        int32_t priority;
        uint64_t flags;    /* SCHED_FLAG_* from process.scheduler.flags */
        uint64_t runtime, deadline, period;
} SchedulerSpec;

typedef struct {
        bool terminal;
        uint32_t console_height, console_width; /* 0,0 = not given */
        uint32_t uid, gid;
        uint32_t *additional_gids;
        size_t n_additional_gids;
        bool has_umask;
        uint32_t umask;
        char **args;   /* at least one element */
        char **env;    /* may be NULL */
        char *cwd;     /* absolute */
        bool has_capabilities;
        char **capabilities[_CAP_SET_MAX]; /* NULL set = empty */
        RlimitSpec *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *apparmor_profile;
        char *selinux_label;
        bool has_io_priority;
        int io_priority_class;  /* IOPRIO_CLASS_RT, _BE or _IDLE */
        int io_priority_level;  /* 0..7 */
        SchedulerSpec scheduler;
        char *exec_cpu_affinity_initial; /* CPU list "0-3,7" (validated), exec only; may be NULL */
        char *exec_cpu_affinity_final;
} ProcessSpec;

/* linux.timeOffsets entry (CLOCK_MONOTONIC or CLOCK_BOOTTIME of a new time namespace). */
typedef struct {
        bool present;
        int64_t secs;
        uint32_t nanosecs;
} TimeOffsetSpec;

typedef struct {
        char *key;
        char *value;
} KeyValue;

/* linux.seccomp. Names from the fixed OCI vocabulary are enums (an unknown one is a parse error);
 * syscall names stay strings: libseccomp resolves them at build time (seccomp-filter.h). */
enum seccomp_action {
        SECCOMP_ACTION_KILL, /* = KILL_THREAD, as in libseccomp */
        SECCOMP_ACTION_KILL_PROCESS,
        SECCOMP_ACTION_KILL_THREAD,
        SECCOMP_ACTION_TRAP,
        SECCOMP_ACTION_ERRNO,
        SECCOMP_ACTION_TRACE,
        SECCOMP_ACTION_ALLOW,
        SECCOMP_ACTION_LOG,
        SECCOMP_ACTION_NOTIFY,
        _SECCOMP_ACTION_MAX,
};

enum seccomp_op {
        SECCOMP_OP_NE,
        SECCOMP_OP_LT,
        SECCOMP_OP_LE,
        SECCOMP_OP_EQ,
        SECCOMP_OP_GE,
        SECCOMP_OP_GT,
        SECCOMP_OP_MASKED_EQ,
        _SECCOMP_OP_MAX,
};

enum seccomp_arch {
        SECCOMP_ARCH_X86,
        SECCOMP_ARCH_X86_64,
        SECCOMP_ARCH_X32,
        SECCOMP_ARCH_ARM,
        SECCOMP_ARCH_AARCH64,
        SECCOMP_ARCH_MIPS,
        SECCOMP_ARCH_MIPS64,
        SECCOMP_ARCH_MIPS64N32,
        SECCOMP_ARCH_MIPSEL,
        SECCOMP_ARCH_MIPSEL64,
        SECCOMP_ARCH_MIPSEL64N32,
        SECCOMP_ARCH_PPC,
        SECCOMP_ARCH_PPC64,
        SECCOMP_ARCH_PPC64LE,
        SECCOMP_ARCH_S390,
        SECCOMP_ARCH_S390X,
        SECCOMP_ARCH_PARISC,
        SECCOMP_ARCH_PARISC64,
        SECCOMP_ARCH_RISCV64,
        SECCOMP_ARCH_LOONGARCH64,
        SECCOMP_ARCH_M68K,
        SECCOMP_ARCH_SH,
        SECCOMP_ARCH_SHEB,
        _SECCOMP_ARCH_MAX,
};

enum {
        SECCOMP_FLAG_TSYNC = 1u << 0,
        SECCOMP_FLAG_LOG = 1u << 1,
        SECCOMP_FLAG_SPEC_ALLOW = 1u << 2,
        SECCOMP_FLAG_WAIT_KILLABLE_RECV = 1u << 3,
};

typedef struct {
        uint32_t index;     /* 0..5 */
        uint64_t value;
        uint64_t value_two; /* MASKED_EQ: value is the mask, value_two the datum */
        enum seccomp_op op;
} SeccompArg;

typedef struct {
        char **names;       /* at least one */
        enum seccomp_action action;
        bool has_errno_ret;
        uint32_t errno_ret; /* ERRNO and TRACE only */
        SeccompArg *args;
        size_t n_args;
} SeccompSyscall;

typedef struct {
        enum seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        enum seccomp_arch *architectures;
        size_t n_architectures;
        unsigned flags;     /* SECCOMP_FLAG_* */
        char *listener_path;
        char *listener_metadata;
        SeccompSyscall *syscalls;
        size_t n_syscalls;
} SeccompSpec;

typedef struct Spec {
        char *oci_version;
        char *root_path;        /* as written (relative to the bundle or absolute) */
        bool root_readonly;
        char *hostname;
        char *domainname;
        bool has_process;
        ProcessSpec process;
        MountSpec *mounts;
        size_t n_mounts;
        HookSpec *hooks[_HOOK_MAX];
        size_t n_hooks[_HOOK_MAX];
        KeyValue *annotations;
        size_t n_annotations;

        /* linux */
        NamespaceSpec namespaces[_NS_MAX];
        IdMap *uid_mappings;
        size_t n_uid_mappings;
        IdMap *gid_mappings;
        size_t n_gid_mappings;
        DeviceSpec *devices;
        size_t n_devices;
        char **masked_paths;
        char **readonly_paths;
        char *rootfs_propagation;
        KeyValue *sysctl;
        size_t n_sysctl;
        char *cgroups_path;
        bool has_resources;     /* linux.resources present with at least one limit */
        struct ResourcesSpec *resources; /* typed linux.resources (resources.h), NULL = none */
        char *mount_label;
        SeccompSpec *seccomp;   /* NULL = no linux.seccomp */
        bool has_personality;
        unsigned long personality; /* PER_LINUX or PER_LINUX32 (linux.personality.domain) */
        TimeOffsetSpec time_offset_monotonic, time_offset_boottime;
} Spec;

/* Parse a JSON text. On failure returns -EINVAL (or -ENOMEM...) and, when ret_error is not NULL,
 * a malloc'ed one-line message naming the field ("process.args[0]: expected a string"). */
int spec_parse_string(const char *json, size_t len, Spec **ret, char **ret_error);
/* Read and parse bundle_dir/config.json (size-limited). Logs nothing; message as above. */
int spec_load(const char *bundle_dir, Spec **ret, char **ret_error);
/* Parse a process object alone (`exec --process FILE`): same rules and messages as config.json's
 * "process", with paths starting at "process". On success *ret is a filled ProcessSpec to release
 * with process_spec_free(). */
int spec_parse_process_string(const char *json, size_t len, ProcessSpec **ret, char **ret_error);
ProcessSpec *process_spec_free(ProcessSpec *p);
static inline void process_spec_freep(ProcessSpec **p) {
        process_spec_free(*p);
}
#define _cleanup_process_spec_free_ _cleanup_(process_spec_freep)
Spec *spec_free(Spec *s);
static inline void spec_freep(Spec **s) {
        spec_free(*s);
}
#define _cleanup_spec_free_ _cleanup_(spec_freep)

const char *ns_type_to_name(enum ns_type t);   /* "user", "mount", ... as in config.json */
int ns_type_from_name(const char *name);       /* -EINVAL when unknown */
const char *ns_type_proc_name(enum ns_type t); /* "user", "mnt", "pid", ... as in /proc/PID/ns */
int ns_type_clone_flag(enum ns_type t);        /* CLONE_NEW* */
const char *hook_kind_to_name(enum hook_kind k);
SeccompSpec *seccomp_spec_free(SeccompSpec *s);
const char *seccomp_action_to_name(enum seccomp_action a); /* "SCMP_ACT_ERRNO" */
const char *seccomp_op_to_name(enum seccomp_op op);        /* "SCMP_CMP_EQ" */
const char *seccomp_arch_to_name(enum seccomp_arch a);     /* "SCMP_ARCH_X86_64" */

/* Generate a default config.json text for `urun spec`. rootless: user namespace mapping uid/gid
 * to 0 (plus subordinate ranges given in sub_uids/sub_gids, may be empty). */
int spec_generate(bool rootless, uid_t uid, gid_t gid, const IdMap *sub_uids, size_t n_sub_uids,
                  const IdMap *sub_gids, size_t n_sub_gids, char **ret_json);
