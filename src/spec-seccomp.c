/* The "linux.seccomp" object of config.json. Only the JSON shape and the fixed OCI vocabulary
 * (actions, operators, architectures, flags) are checked here; syscall names are resolved by
 * libseccomp when the filter is built (seccomp.c), where unknown ones are skipped as runc does. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "spec-internal.h"
#include "spec.h"
#include "util.h"

static const char *const action_names[_SECCOMP_ACTION_MAX] = {
        [SECCOMP_ACTION_KILL] = "SCMP_ACT_KILL",
        [SECCOMP_ACTION_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [SECCOMP_ACTION_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
        [SECCOMP_ACTION_TRAP] = "SCMP_ACT_TRAP",
        [SECCOMP_ACTION_ERRNO] = "SCMP_ACT_ERRNO",
        [SECCOMP_ACTION_TRACE] = "SCMP_ACT_TRACE",
        [SECCOMP_ACTION_ALLOW] = "SCMP_ACT_ALLOW",
        [SECCOMP_ACTION_LOG] = "SCMP_ACT_LOG",
        [SECCOMP_ACTION_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[_SECCOMP_OP_MAX] = {
        [SECCOMP_OP_NE] = "SCMP_CMP_NE",
        [SECCOMP_OP_LT] = "SCMP_CMP_LT",
        [SECCOMP_OP_LE] = "SCMP_CMP_LE",
        [SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
        [SECCOMP_OP_GE] = "SCMP_CMP_GE",
        [SECCOMP_OP_GT] = "SCMP_CMP_GT",
        [SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const arch_names[_SECCOMP_ARCH_MAX] = {
        [SECCOMP_ARCH_X86] = "SCMP_ARCH_X86",
        [SECCOMP_ARCH_X86_64] = "SCMP_ARCH_X86_64",
        [SECCOMP_ARCH_X32] = "SCMP_ARCH_X32",
        [SECCOMP_ARCH_ARM] = "SCMP_ARCH_ARM",
        [SECCOMP_ARCH_AARCH64] = "SCMP_ARCH_AARCH64",
        [SECCOMP_ARCH_MIPS] = "SCMP_ARCH_MIPS",
        [SECCOMP_ARCH_MIPS64] = "SCMP_ARCH_MIPS64",
        [SECCOMP_ARCH_MIPS64N32] = "SCMP_ARCH_MIPS64N32",
        [SECCOMP_ARCH_MIPSEL] = "SCMP_ARCH_MIPSEL",
        [SECCOMP_ARCH_MIPSEL64] = "SCMP_ARCH_MIPSEL64",
        [SECCOMP_ARCH_MIPSEL64N32] = "SCMP_ARCH_MIPSEL64N32",
        [SECCOMP_ARCH_PPC] = "SCMP_ARCH_PPC",
        [SECCOMP_ARCH_PPC64] = "SCMP_ARCH_PPC64",
        [SECCOMP_ARCH_PPC64LE] = "SCMP_ARCH_PPC64LE",
        [SECCOMP_ARCH_S390] = "SCMP_ARCH_S390",
        [SECCOMP_ARCH_S390X] = "SCMP_ARCH_S390X",
        [SECCOMP_ARCH_PARISC] = "SCMP_ARCH_PARISC",
        [SECCOMP_ARCH_PARISC64] = "SCMP_ARCH_PARISC64",
        [SECCOMP_ARCH_RISCV64] = "SCMP_ARCH_RISCV64",
        [SECCOMP_ARCH_LOONGARCH64] = "SCMP_ARCH_LOONGARCH64",
        [SECCOMP_ARCH_M68K] = "SCMP_ARCH_M68K",
        [SECCOMP_ARCH_SH] = "SCMP_ARCH_SH",
        [SECCOMP_ARCH_SHEB] = "SCMP_ARCH_SHEB",
};

static const struct {
        const char *name;
        unsigned flag;
} flag_names[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FLAG_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FLAG_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FLAG_SPEC_ALLOW },
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FLAG_WAIT_KILLABLE_RECV },
};

const char *seccomp_action_to_name(enum seccomp_action a) {
        return (unsigned) a < _SECCOMP_ACTION_MAX ? action_names[a] : NULL;
}

const char *seccomp_op_to_name(enum seccomp_op op) {
        return (unsigned) op < _SECCOMP_OP_MAX ? op_names[op] : NULL;
}

const char *seccomp_arch_to_name(enum seccomp_arch a) {
        return (unsigned) a < _SECCOMP_ARCH_MAX ? arch_names[a] : NULL;
}

/* Looks a string value up in a name table; what names the error ("action", "operator"). */
static int parse_enum(ParseCtx *c, json_object *v, const char *const *names, size_t n, const char *what,
                      int *ret) {
        _cleanup_free_ char *s = NULL;
        int r;

        r = parse_string(c, v, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (names[i] && streq(names[i], s)) {
                        *ret = (int) i;
                        return 0;
                }
        return parse_error(c, "unknown %s '%s'", what, s);
}

static int parse_action(ParseCtx *c, json_object *v, void *dest) {
        int a = 0, r;

        r = parse_enum(c, v, action_names, ELEMENTSOF(action_names), "action", &a);
        if (r < 0)
                return r;
        *(enum seccomp_action *) dest = a;
        return 0;
}

static int parse_op(ParseCtx *c, json_object *v, void *dest) {
        int op = 0, r;

        r = parse_enum(c, v, op_names, ELEMENTSOF(op_names), "operator", &op);
        if (r < 0)
                return r;
        *(enum seccomp_op *) dest = op;
        return 0;
}

static int parse_arch(ParseCtx *c, json_object *v, void *dest) {
        int a = 0, r;

        r = parse_enum(c, v, arch_names, ELEMENTSOF(arch_names), "architecture", &a);
        if (r < 0)
                return r;
        *(enum seccomp_arch *) dest = a;
        return 0;
}

static int parse_architectures(ParseCtx *c, json_object *v, void *dest) {
        SeccompSpec *s = dest;

        return parse_array_of(c, v, sizeof(enum seccomp_arch), parse_arch, &s->architectures,
                              &s->n_architectures);
}

static int parse_flag(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_free_ char *name = NULL;
        int r;

        r = parse_string(c, v, &name);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(flag_names); i++)
                if (streq(flag_names[i].name, name)) {
                        *(unsigned *) dest |= flag_names[i].flag;
                        return 0;
                }
        return parse_error(c, "unknown flag '%s'", name);
}

static int parse_flags(ParseCtx *c, json_object *v, void *dest) {
        if (!json_object_is_type(v, json_type_array))
                return parse_error(c, "expected an array of strings");

        for (size_t i = 0; i < json_object_array_length(v); i++) {
                size_t old = path_push_index(c, i);
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!e)
                        return parse_error(c, "expected a string");
                r = parse_flag(c, e, dest);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

static int parse_arg_index(ParseCtx *c, json_object *v, void *dest) {
        int r;

        r = parse_u32(c, v, dest);
        if (r < 0)
                return r;
        /* The seccomp data carries six syscall arguments. */
        if (*(uint32_t *) dest > 5)
                return parse_error(c, "argument index %u out of range 0..5", *(uint32_t *) dest);
        return 0;
}

static int parse_arg(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "index", parse_arg_index, offsetof(SeccompArg, index), true },
                { "value", parse_u64, offsetof(SeccompArg, value), true },
                { "valueTwo", parse_u64, offsetof(SeccompArg, value_two), false },
                { "op", parse_op, offsetof(SeccompArg, op), true },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_args(ParseCtx *c, json_object *v, void *dest) {
        SeccompSyscall *sc = dest;

        return parse_array_of(c, v, sizeof(SeccompArg), parse_arg, &sc->args, &sc->n_args);
}

static int parse_names(ParseCtx *c, json_object *v, void *dest) {
        char ***names = dest;
        int r;

        r = parse_strv(c, v, dest);
        if (r < 0)
                return r;
        if (!(*names)[0])
                return parse_error(c, "must not be empty");
        for (size_t i = 0; (*names)[i]; i++)
                if ((*names)[i][0] == '\0') {
                        path_push_index(c, i);
                        return parse_error(c, "empty syscall name");
                }
        return 0;
}

/* errnoRet only means something for ERRNO and TRACE; like runc we ignore it elsewhere. */
static int parse_errno_ret(ParseCtx *c, json_object *v, void *dest) {
        SeccompSyscall *sc = dest;

        sc->has_errno_ret = true;
        return parse_u32(c, v, &sc->errno_ret);
}

static int parse_syscall(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "names", parse_names, offsetof(SeccompSyscall, names), true },
                { "action", parse_action, offsetof(SeccompSyscall, action), true },
                { "errnoRet", parse_errno_ret, 0, false },
                { "args", parse_args, 0, false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_syscalls(ParseCtx *c, json_object *v, void *dest) {
        SeccompSpec *s = dest;

        return parse_array_of(c, v, sizeof(SeccompSyscall), parse_syscall, &s->syscalls, &s->n_syscalls);
}

static int parse_default_errno_ret(ParseCtx *c, json_object *v, void *dest) {
        SeccompSpec *s = dest;

        s->has_default_errno_ret = true;
        return parse_u32(c, v, &s->default_errno_ret);
}

/* Rules the runtime cannot honour are refused here, with the field that asks for them. */
static int check_notify(ParseCtx *c, const SeccompSpec *s) {
        if (s->default_action == SECCOMP_ACTION_NOTIFY) {
                path_push_field(c, "defaultAction");
                /* every syscall of the runtime after the filter would wait for the agent */
                return parse_error(c, "SCMP_ACT_NOTIFY cannot be the default action");
        }
        for (size_t i = 0; i < s->n_syscalls; i++) {
                const SeccompSyscall *sc = &s->syscalls[i];

                size_t old;

                if (sc->action != SECCOMP_ACTION_NOTIFY)
                        continue;
                old = path_push_field(c, "syscalls");
                path_push_index(c, i);
                if (!s->listener_path) {
                        path_push_field(c, "action");
                        return parse_error(c, "SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
                }
                /* The runtime itself writes (sync socket, exec fifo) and sends the listener fd after
                 * the filter is loaded: notifying those would deadlock before the agent has the fd. */
                for (size_t j = 0; sc->names[j]; j++)
                        if (streq(sc->names[j], "write") || streq(sc->names[j], "sendmsg")) {
                                path_push_field(c, "names");
                                path_push_index(c, j);
                                return parse_error(c, "SCMP_ACT_NOTIFY cannot be used for '%s'", sc->names[j]);
                        }
                path_pop(c, old);
        }
        return 0;
}

static int parse_seccomp_object(ParseCtx *c, json_object *v, SeccompSpec *s) {
        static const FieldParser fields[] = {
                { "defaultAction", parse_action, offsetof(SeccompSpec, default_action), true },
                { "defaultErrnoRet", parse_default_errno_ret, 0, false },
                { "architectures", parse_architectures, 0, false },
                { "flags", parse_flags, offsetof(SeccompSpec, flags), false },
                { "listenerPath", parse_string_opt, offsetof(SeccompSpec, listener_path), false },
                { "listenerMetadata", parse_string_opt, offsetof(SeccompSpec, listener_metadata), false },
                { "syscalls", parse_syscalls, 0, false },
        };
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), s);
        if (r < 0)
                return r;
        return check_notify(c, s);
}

int spec_parse_seccomp(ParseCtx *c, json_object *v, void *dest) {
        Spec *spec = dest;

        /* Handed to the Spec first: spec_free() cleans up after a failure. */
        seccomp_spec_free(spec->seccomp);
        spec->seccomp = calloc(1, sizeof(SeccompSpec));
        if (!spec->seccomp)
                return -ENOMEM;
        return parse_seccomp_object(c, v, spec->seccomp);
}

SeccompSpec *seccomp_spec_free(SeccompSpec *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_syscalls; i++) {
                strv_free(s->syscalls[i].names);
                free(s->syscalls[i].args);
        }
        free(s->syscalls);
        free(s->architectures);
        free(s->listener_path);
        free(s->listener_metadata);
        free(s);
        return NULL;
}
