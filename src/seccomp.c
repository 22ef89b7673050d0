/* linux.seccomp with libseccomp. The filter is compiled to classic BPF in the runtime before clone
 * (optionally from a cache keyed by the filter's content) and loaded in the container child with a
 * raw seccomp() call, so the child never runs libseccomp and its own no_new_privs handling stays
 * with process.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>

#include <seccomp.h>

#include "log.h"
#include "seccomp-filter.h"
#include "util.h"

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#        define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#        define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#        define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

/* The runtime-spec version of the ContainerProcessState we send (same as our state's). */
#define LISTENER_OCI_VERSION URUN_OCI_VERSION
#define CACHE_MAGIC "URUNBPF1"

struct SeccompFilter {
        struct sock_filter *insns;
        size_t n_insns;
        unsigned long flags; /* SECCOMP_FILTER_FLAG_*, already probed */
};

/* ---- mapping ---- */

int seccomp_action_value(enum seccomp_action a, bool has_errno_ret, uint32_t errno_ret, uint32_t *ret) {
        /* runc's default for ERRNO and TRACE without errnoRet */
        uint32_t data = has_errno_ret ? errno_ret : EPERM;

        switch (a) {
        case SECCOMP_ACTION_KILL:
        case SECCOMP_ACTION_KILL_THREAD:
                *ret = SCMP_ACT_KILL_THREAD;
                return 0;
        case SECCOMP_ACTION_KILL_PROCESS:
                *ret = SCMP_ACT_KILL_PROCESS;
                return 0;
        case SECCOMP_ACTION_TRAP:
                *ret = SCMP_ACT_TRAP;
                return 0;
        case SECCOMP_ACTION_ERRNO:
        case SECCOMP_ACTION_TRACE:
                /* the kernel keeps 16 bits of data; a larger errno would silently become another */
                if (data > 0xffff)
                        return -ERANGE;
                *ret = a == SECCOMP_ACTION_ERRNO ? SCMP_ACT_ERRNO(data) : SCMP_ACT_TRACE(data);
                return 0;
        case SECCOMP_ACTION_ALLOW:
                *ret = SCMP_ACT_ALLOW;
                return 0;
        case SECCOMP_ACTION_LOG:
                *ret = SCMP_ACT_LOG;
                return 0;
        case SECCOMP_ACTION_NOTIFY:
                *ret = SCMP_ACT_NOTIFY;
                return 0;
        default:
                return -EINVAL;
        }
}

int seccomp_op_value(enum seccomp_op op, int *ret) {
        static const int map[_SECCOMP_OP_MAX] = {
                [SECCOMP_OP_NE] = SCMP_CMP_NE, [SECCOMP_OP_LT] = SCMP_CMP_LT,
                [SECCOMP_OP_LE] = SCMP_CMP_LE, [SECCOMP_OP_EQ] = SCMP_CMP_EQ,
                [SECCOMP_OP_GE] = SCMP_CMP_GE, [SECCOMP_OP_GT] = SCMP_CMP_GT,
                [SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
        };

        if ((unsigned) op >= _SECCOMP_OP_MAX)
                return -EINVAL;
        *ret = map[op];
        return 0;
}

int seccomp_arch_value(enum seccomp_arch a, uint32_t *ret) {
        /* 0 = not known to the libseccomp we are built with */
        static const uint32_t map[_SECCOMP_ARCH_MAX] = {
                [SECCOMP_ARCH_X86] = SCMP_ARCH_X86,
                [SECCOMP_ARCH_X86_64] = SCMP_ARCH_X86_64,
                [SECCOMP_ARCH_X32] = SCMP_ARCH_X32,
                [SECCOMP_ARCH_ARM] = SCMP_ARCH_ARM,
                [SECCOMP_ARCH_AARCH64] = SCMP_ARCH_AARCH64,
                [SECCOMP_ARCH_MIPS] = SCMP_ARCH_MIPS,
                [SECCOMP_ARCH_MIPS64] = SCMP_ARCH_MIPS64,
                [SECCOMP_ARCH_MIPS64N32] = SCMP_ARCH_MIPS64N32,
                [SECCOMP_ARCH_MIPSEL] = SCMP_ARCH_MIPSEL,
                [SECCOMP_ARCH_MIPSEL64] = SCMP_ARCH_MIPSEL64,
                [SECCOMP_ARCH_MIPSEL64N32] = SCMP_ARCH_MIPSEL64N32,
                [SECCOMP_ARCH_PPC] = SCMP_ARCH_PPC,
                [SECCOMP_ARCH_PPC64] = SCMP_ARCH_PPC64,
                [SECCOMP_ARCH_PPC64LE] = SCMP_ARCH_PPC64LE,
                [SECCOMP_ARCH_S390] = SCMP_ARCH_S390,
                [SECCOMP_ARCH_S390X] = SCMP_ARCH_S390X,
                [SECCOMP_ARCH_PARISC] = SCMP_ARCH_PARISC,
                [SECCOMP_ARCH_PARISC64] = SCMP_ARCH_PARISC64,
                [SECCOMP_ARCH_RISCV64] = SCMP_ARCH_RISCV64,
#ifdef SCMP_ARCH_LOONGARCH64
                [SECCOMP_ARCH_LOONGARCH64] = SCMP_ARCH_LOONGARCH64,
#endif
#ifdef SCMP_ARCH_M68K
                [SECCOMP_ARCH_M68K] = SCMP_ARCH_M68K,
#endif
#ifdef SCMP_ARCH_SH
                [SECCOMP_ARCH_SH] = SCMP_ARCH_SH,
                [SECCOMP_ARCH_SHEB] = SCMP_ARCH_SHEB,
#endif
        };

        if ((unsigned) a >= _SECCOMP_ARCH_MAX)
                return -EINVAL;
        if (map[a] == 0)
                return -EOPNOTSUPP;
        *ret = map[a];
        return 0;
}

bool seccomp_needs_listener(const SeccompSpec *s) {
        if (!s)
                return false;
        for (size_t i = 0; i < s->n_syscalls; i++)
                if (s->syscalls[i].action == SECCOMP_ACTION_NOTIFY)
                        return true;
        return false;
}

/* ---- validation ---- */

static int validate_action(const char *field, enum seccomp_action a, bool has_errno_ret, uint32_t errno_ret) {
        uint32_t v;
        int r;

        r = seccomp_action_value(a, has_errno_ret, errno_ret, &v);
        if (r == -ERANGE)
                return log_errno(LOG_ERR, -EINVAL, "%s: errno %" PRIu32 " out of range 0..65535", field,
                                 errno_ret);
        if (r < 0)
                return log_errno(LOG_ERR, -EINVAL, "%s: unknown action %d", field, (int) a);
        return 0;
}

int seccomp_validate(const SeccompSpec *s) {
        char field[96];
        uint32_t arch;
        int r;

        for (size_t i = 0; i < s->n_architectures; i++)
                if (seccomp_arch_value(s->architectures[i], &arch) < 0) {
                        const struct scmp_version *v = seccomp_version();
                        return log_errno(LOG_ERR, -EINVAL,
                                         "linux.seccomp.architectures[%zu]: %s is not supported by libseccomp %u.%u.%u",
                                         i, seccomp_arch_to_name(s->architectures[i]), v->major, v->minor, v->micro);
                }

        r = validate_action("linux.seccomp.defaultErrnoRet", s->default_action, s->has_default_errno_ret,
                            s->default_errno_ret);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const SeccompSyscall *sc = &s->syscalls[i];

                snprintf(field, sizeof field, "linux.seccomp.syscalls[%zu].errnoRet", i);
                r = validate_action(field, sc->action, sc->has_errno_ret, sc->errno_ret);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- building ---- */

static bool args_repeat_index(const SeccompSyscall *sc) {
        for (size_t i = 0; i < sc->n_args; i++)
                for (size_t j = i + 1; j < sc->n_args; j++)
                        if (sc->args[i].index == sc->args[j].index)
                                return true;
        return false;
}

static void make_cmp(const SeccompArg *a, struct scmp_arg_cmp *ret) {
        int op = SCMP_CMP_EQ;

        (void) seccomp_op_value(a->op, &op); /* the parser admits known operators only */
        *ret = (struct scmp_arg_cmp){ .arg = a->index, .op = op, .datum_a = a->value, .datum_b = a->value_two };
}

/* One syscall of one rule. The kernel ANDs the conditions of a rule; conditions repeating an
 * argument index cannot be ANDed by libseccomp, so, like runc, each becomes its own rule (OR). */
static int add_syscall(scmp_filter_ctx ctx, uint32_t action, int nr, const SeccompSyscall *sc) {
        struct scmp_arg_cmp cmps[6];
        int r;

        if (sc->n_args == 0)
                return seccomp_rule_add_array(ctx, action, nr, 0, NULL);

        if (args_repeat_index(sc)) {
                for (size_t i = 0; i < sc->n_args; i++) {
                        make_cmp(&sc->args[i], &cmps[0]);
                        r = seccomp_rule_add_array(ctx, action, nr, 1, cmps);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        /* distinct indexes 0..5: at most six */
        for (size_t i = 0; i < sc->n_args; i++)
                make_cmp(&sc->args[i], &cmps[i]);
        return seccomp_rule_add_array(ctx, action, nr, (unsigned) sc->n_args, cmps);
}

static int add_rule(scmp_filter_ctx ctx, uint32_t default_action, const SeccompSyscall *sc, size_t i) {
        uint32_t action;
        int r;

        r = seccomp_action_value(sc->action, sc->has_errno_ret, sc->errno_ret, &action);
        if (r < 0)
                return log_errno(LOG_ERR, -EINVAL, "linux.seccomp.syscalls[%zu].action: invalid", i);
        /* libseccomp refuses rules that repeat the default action; they change nothing */
        if (action == default_action)
                return 0;

        for (size_t j = 0; sc->names[j]; j++) {
                int nr = seccomp_syscall_resolve_name(sc->names[j]);

                if (nr == __NR_SCMP_ERROR) {
                        log_debug("linux.seccomp.syscalls[%zu].names[%zu]: unknown syscall '%s', skipping", i, j,
                                  sc->names[j]);
                        continue;
                }
                r = add_syscall(ctx, action, nr, sc);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "linux.seccomp.syscalls[%zu].names[%zu]: rule for '%s' (%s): %m",
                                         i, j, sc->names[j], seccomp_action_to_name(sc->action));
        }
        return 0;
}

static int add_architectures(scmp_filter_ctx ctx, const SeccompSpec *s) {
        for (size_t i = 0; i < s->n_architectures; i++) {
                uint32_t arch;
                int r;

                r = seccomp_arch_value(s->architectures[i], &arch);
                if (r < 0)
                        return log_errno(LOG_ERR, -EINVAL, "linux.seccomp.architectures[%zu]: unsupported", i);
                /* The native ABI is in every new context. ABIs left out (e.g. x86 or x32 next to x86_64)
                 * are not unfiltered: libseccomp sends them to the bad-arch action, which kills. */
                r = seccomp_arch_add(ctx, arch);
                if (r < 0 && r != -EEXIST)
                        return log_errno(LOG_ERR, r, "linux.seccomp.architectures[%zu]: adding %s: %m", i,
                                         seccomp_arch_to_name(s->architectures[i]));
        }
        return 0;
}

static int build_ctx(const SeccompSpec *s, scmp_filter_ctx *ret) {
        scmp_filter_ctx ctx;
        uint32_t def;
        int r;

        r = seccomp_action_value(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def);
        if (r < 0)
                return log_errno(LOG_ERR, -EINVAL, "linux.seccomp.defaultAction: invalid");
        ctx = seccomp_init(def);
        if (!ctx)
                return log_errno(LOG_ERR, -EOPNOTSUPP,
                                 "linux.seccomp.defaultAction: %s not supported by the kernel or libseccomp",
                                 seccomp_action_to_name(s->default_action));

        r = add_architectures(ctx, s);
        for (size_t i = 0; r >= 0 && i < s->n_syscalls; i++)
                r = add_rule(ctx, def, &s->syscalls[i], i);
        if (r < 0) {
                seccomp_release(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* libseccomp 2.5 exports only to an fd. */
static int export_bpf(scmp_filter_ctx ctx, struct sock_filter **ret, size_t *ret_n) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r;

        fd = memfd_create("urun-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0)
                return r;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        r = read_fd_all(fd, (size_t) BPF_MAXINSNS * sizeof(struct sock_filter), &buf, &size);
        if (r < 0)
                return r;
        if (size == 0 || size % sizeof(struct sock_filter) != 0)
                return -EBADMSG;

        *ret = (struct sock_filter *) TAKE_PTR(buf);
        *ret_n = size / sizeof(struct sock_filter);
        return 0;
}

/* ---- cache of compiled filters ---- */

/* Everything the BPF depends on, as text: the libseccomp version and native arch, the default
 * action, architectures and rules. Flags and the listener are applied at load time. */
static int cache_key(const SeccompSpec *s, char **ret, size_t *ret_len) {
        const struct scmp_version *v = seccomp_version();
        struct utsname u;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        /* libseccomp checks the kernel's support of actions while building: a kernel upgrade or
         * downgrade must not reuse a filter built for another */
        if (uname(&u) < 0) {
                fclose(f);
                free(buf);
                return -errno;
        }
        fprintf(f, "libseccomp %u.%u.%u native %" PRIx32 " kernel %s\n", v->major, v->minor, v->micro,
                seccomp_arch_native(), u.release);
        fprintf(f, "default %d %d %" PRIu32 "\n", (int) s->default_action, s->has_default_errno_ret,
                s->default_errno_ret);
        for (size_t i = 0; i < s->n_architectures; i++)
                fprintf(f, "arch %d\n", (int) s->architectures[i]);
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const SeccompSyscall *sc = &s->syscalls[i];

                fprintf(f, "rule %d %d %" PRIu32 "\n", (int) sc->action, sc->has_errno_ret, sc->errno_ret);
                /* names are NUL-free (parser), and terminated by a NUL so none can run into the next */
                for (size_t j = 0; sc->names[j]; j++)
                        fprintf(f, "name %s%c\n", sc->names[j], '\0');
                for (size_t j = 0; j < sc->n_args; j++)
                        fprintf(f, "arg %" PRIu32 " %d %" PRIu64 " %" PRIu64 "\n", sc->args[j].index,
                                (int) sc->args[j].op, sc->args[j].value, sc->args[j].value_two);
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

static uint64_t fnv1a64(const char *p, size_t n) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) p[i];
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

/* File: magic, key length (u64), key, BPF. The whole key is compared on load, so a hash collision
 * is a miss, never another filter. */
static int cache_load(int dir_fd, const char *name, const char *key, size_t key_len, struct sock_filter **ret,
                      size_t *ret_n) {
        _cleanup_free_ char *buf = NULL;
        size_t size, hdr = sizeof(CACHE_MAGIC) - 1 + sizeof(uint64_t), bpf;
        uint64_t stored_len;
        struct sock_filter *insns;
        int r;

        r = read_file_at(dir_fd, name, hdr + key_len + (size_t) BPF_MAXINSNS * sizeof(struct sock_filter), &buf,
                         &size);
        if (r < 0)
                return r;
        if (size < hdr || memcmp(buf, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1) != 0)
                return -EBADMSG;
        memcpy(&stored_len, buf + sizeof(CACHE_MAGIC) - 1, sizeof stored_len);
        if (stored_len != key_len || size < hdr + key_len || memcmp(buf + hdr, key, key_len) != 0)
                return -ESTALE;
        bpf = size - hdr - key_len;
        if (bpf == 0 || bpf % sizeof(struct sock_filter) != 0)
                return -EBADMSG;

        insns = malloc(bpf);
        if (!insns)
                return -ENOMEM;
        memcpy(insns, buf + hdr + key_len, bpf);
        *ret = insns;
        *ret_n = bpf / sizeof(struct sock_filter);
        return 0;
}

static int cache_store(int dir_fd, const char *name, const char *key, size_t key_len,
                       const struct sock_filter *insns, size_t n) {
        size_t hdr = sizeof(CACHE_MAGIC) - 1 + sizeof(uint64_t), bpf = n * sizeof(struct sock_filter);
        uint64_t kl = key_len;
        _cleanup_free_ char *buf = malloc(hdr + key_len + bpf);

        if (!buf)
                return -ENOMEM;
        memcpy(buf, CACHE_MAGIC, sizeof(CACHE_MAGIC) - 1);
        memcpy(buf + sizeof(CACHE_MAGIC) - 1, &kl, sizeof kl);
        memcpy(buf + hdr, key, key_len);
        memcpy(buf + hdr + key_len, insns, bpf);
        return write_file_atomic_at(dir_fd, name, buf, hdr + key_len + bpf, 0600);
}

/* Whoever can write the cache decides the filter of our containers: only a directory of our own
 * that nobody else can write is used. */
static int open_cache_dir(const char *cache_dir) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        r = mkdir_p(cache_dir, 0700);
        if (r < 0)
                return r;
        fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

static int compile(const SeccompSpec *s, struct sock_filter **ret, size_t *ret_n) {
        scmp_filter_ctx ctx = NULL;
        int r;

        r = build_ctx(s, &ctx);
        if (r < 0)
                return r;
        r = export_bpf(ctx, ret, ret_n);
        seccomp_release(ctx);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.seccomp: compiling the filter: %m");
        return 0;
}

/* A cache that cannot be used only costs time: every failure is a debug note. */
static int compile_cached(const SeccompSpec *s, const char *cache_dir, struct sock_filter **ret, size_t *ret_n) {
        _cleanup_free_ char *key = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char name[32];
        size_t key_len = 0;
        int r;

        if (!cache_dir || cache_key(s, &key, &key_len) < 0)
                return compile(s, ret, ret_n);
        snprintf(name, sizeof name, "%016" PRIx64 ".bpf", fnv1a64(key, key_len));

        dir_fd = open_cache_dir(cache_dir);
        if (dir_fd < 0)
                log_debug("seccomp cache '%s': %s, not using it", cache_dir, strerror(-dir_fd));
        else if (cache_load(dir_fd, name, key, key_len, ret, ret_n) >= 0)
                return 0;

        r = compile(s, ret, ret_n);
        if (r < 0 || dir_fd < 0)
                return r;
        r = cache_store(dir_fd, name, key, key_len, *ret, *ret_n);
        if (r < 0)
                log_debug("seccomp cache '%s/%s': %s, not stored", cache_dir, name, strerror(-r));
        return 0;
}

/* ---- flags ---- */

/* With a NULL program the kernel checks the flags first (EINVAL if unknown) and then faults on the
 * pointer (EFAULT): a probe that loads nothing. */
static bool kernel_has_flags(unsigned long flags) {
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT;
}

static const struct {
        unsigned spec_flag;
        unsigned long kernel_flag;
        const char *name;
} flag_map[] = {
        { SECCOMP_FLAG_TSYNC, SECCOMP_FILTER_FLAG_TSYNC, "SECCOMP_FILTER_FLAG_TSYNC" },
        { SECCOMP_FLAG_LOG, SECCOMP_FILTER_FLAG_LOG, "SECCOMP_FILTER_FLAG_LOG" },
        { SECCOMP_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SECCOMP_FILTER_FLAG_SPEC_ALLOW" },
        { SECCOMP_FLAG_WAIT_KILLABLE_RECV, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
          "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV" },
};

const char *seccomp_known_flag(size_t i, bool *ret_supported) {
        unsigned long f;

        if (i >= ELEMENTSOF(flag_map))
                return NULL;
        if (ret_supported) {
                f = flag_map[i].kernel_flag;
                /* the kernel refuses it without a listener, whether it knows it or not */
                if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
                        f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                *ret_supported = kernel_has_flags(f);
        }
        return flag_map[i].name;
}

void seccomp_library_version(unsigned *ret_major, unsigned *ret_minor, unsigned *ret_micro) {
        const struct scmp_version *v = seccomp_version();

        *ret_major = v->major;
        *ret_minor = v->minor;
        *ret_micro = v->micro;
}

static unsigned long filter_flags(const SeccompSpec *s) {
        bool listener = seccomp_needs_listener(s);
        unsigned long flags = 0;

        for (size_t i = 0; i < ELEMENTSOF(flag_map); i++) {
                unsigned long f = flag_map[i].kernel_flag;

                if (!(s->flags & flag_map[i].spec_flag))
                        continue;
                /* the kernel refuses it without a listener; it would change nothing anyway */
                if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !listener) {
                        log_debug("linux.seccomp.flags: %s without SCMP_ACT_NOTIFY rules, ignoring", flag_map[i].name);
                        continue;
                }
                /* TSYNC with a listener is only allowed when TSYNC failures are reported as ESRCH */
                if (f == SECCOMP_FILTER_FLAG_TSYNC && listener)
                        f |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
                if (listener)
                        f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                if (!kernel_has_flags(f)) {
                        log_debug("linux.seccomp.flags: %s not supported by the kernel, ignoring", flag_map[i].name);
                        continue;
                }
                flags |= f;
        }
        if (listener)
                flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
        return flags;
}

int seccomp_prepare(const SeccompSpec *s, const char *cache_dir, SeccompFilter **ret) {
        _cleanup_free_ SeccompFilter *f = NULL;
        int r;

        r = seccomp_validate(s);
        if (r < 0)
                return r;
        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        r = compile_cached(s, cache_dir, &f->insns, &f->n_insns);
        if (r < 0)
                return r;
        f->flags = filter_flags(s);

        *ret = TAKE_PTR(f);
        return 0;
}

SeccompFilter *seccomp_filter_free(SeccompFilter *f) {
        if (f) {
                free(f->insns);
                free(f);
        }
        return NULL;
}

/* ---- loading and the listener ---- */

int seccomp_listener_connect(const SeccompSpec *s, int *ret_fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        size_t len;

        if (!seccomp_needs_listener(s)) {
                *ret_fd = -EBADF;
                return 0;
        }
        len = strlen(s->listener_path);
        if (len >= sizeof sa.sun_path)
                return log_errno(LOG_ERR, -ENAMETOOLONG, "linux.seccomp.listenerPath: '%s': %m", s->listener_path);
        memcpy(sa.sun_path, s->listener_path, len);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "linux.seccomp.listenerPath: socket: %m");
        if (connect(fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1)) < 0)
                return log_errno(LOG_ERR, -errno, "linux.seccomp.listenerPath: connecting to '%s': %m",
                                 s->listener_path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int seccomp_listener_message(const SeccompSpec *s, pid_t pid, const char *state_json, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "{\"ociVersion\":\"%s\",\"fds\":[\"seccompFd\"],\"pid\":%d,\"metadata\":\"", LISTENER_OCI_VERSION,
                (int) pid);
        json_fputs_escaped(f, s->listener_metadata ? s->listener_metadata : "");
        fprintf(f, "\",\"state\":%s}", state_json);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static int send_with_fd(int sock, int fd, const char *msg) {
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        size_t len = strlen(msg);
        struct iovec iov = { .iov_base = (void *) msg, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof control.buf,
        };
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&mh);
        ssize_t n;

        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));

        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        /* the fd travelled with the first byte; a stream socket may take the rest in pieces */
        return write_all(sock, msg + n, len - (size_t) n);
}

static unsigned long drop_optional_flag(unsigned long flags) {
        static const unsigned long optional[] = {
                SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                SECCOMP_FILTER_FLAG_SPEC_ALLOW,
                SECCOMP_FILTER_FLAG_LOG,
                SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
        };

        for (size_t i = 0; i < ELEMENTSOF(optional); i++)
                if (flags & optional[i])
                        return flags & ~optional[i];
        return flags;
}

static int load_filter(const SeccompFilter *f) {
        struct sock_fprog prog = { .len = (unsigned short) f->n_insns, .filter = f->insns };
        unsigned long flags = f->flags;

        for (;;) {
                long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
                unsigned long fewer;

                if (fd >= 0)
                        return (int) fd;
                if (errno == ENOSYS && flags == 0)
                        return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? -errno : 0;
                /* A kernel can differ from the one probed in seccomp_prepare (checkpoint/restore, or
                 * flags the probe cannot see): retry without an optional flag. */
                fewer = drop_optional_flag(flags);
                if (errno != EINVAL || fewer == flags)
                        return -errno;
                log_debug("linux.seccomp.flags: kernel refused flags 0x%lx, retrying with 0x%lx", flags, fewer);
                flags = fewer;
        }
}

int seccomp_install(const SeccompFilter *f, int listener_sock, const char *listener_msg) {
        _cleanup_close_ int listener = -EBADF;
        bool wants_listener = f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER;
        int r;

        if (wants_listener && (listener_sock < 0 || !listener_msg))
                return log_errno(LOG_ERR, -EINVAL, "linux.seccomp: SCMP_ACT_NOTIFY rules but no listener socket");

        r = load_filter(f);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.seccomp: loading the filter: %m");
        if (!wants_listener)
                return 0;

        listener = r;
        r = send_with_fd(listener_sock, listener, listener_msg);
        if (r < 0)
                return log_errno(LOG_ERR, r, "linux.seccomp.listenerPath: sending the notify fd: %m");
        return 0;
}
