/* config.json parser: JSON text -> Spec. Generic typed readers, the top level, process, root, mounts,
 * hooks and annotations; the "linux" object is in spec-linux.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "caps.h"
#include "resources.h"
#include "spec-internal.h"
#include "spec.h"
#include "util.h"

/* ---- field path and errors ---- */

static size_t min_size(size_t a, size_t b) {
        return a < b ? a : b;
}

size_t path_push_field(ParseCtx *c, const char *name) {
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len > 0 ? "." : "", name);

        if (n > 0)
                c->len = min_size(c->len + (size_t) n, sizeof(c->path) - 1);
        return old;
}

size_t path_push_index(ParseCtx *c, size_t i) {
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);

        if (n > 0)
                c->len = min_size(c->len + (size_t) n, sizeof(c->path) - 1);
        return old;
}

void path_pop(ParseCtx *c, size_t len) {
        c->len = len;
        c->path[len] = '\0';
}

int parse_error(ParseCtx *c, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        if (c->error)
                return -EINVAL;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;

        if (asprintf(&c->error, "%s: %s", c->len > 0 ? c->path : "config.json", msg) < 0) {
                c->error = NULL;
                return -ENOMEM;
        }
        return -EINVAL;
}

/* ---- generic readers ---- */

int parse_fields(ParseCtx *c, json_object *v, const FieldParser *table, size_t n, void *base) {
        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");

        for (size_t i = 0; i < n; i++) {
                json_object *f = NULL;
                size_t old;
                int r;

                (void) json_object_object_get_ex(v, table[i].name, &f);
                if (!f && !table[i].required)
                        continue;

                old = path_push_field(c, table[i].name);
                if (!f)
                        return parse_error(c, "required field missing");
                r = table[i].parse(c, f, (uint8_t *) base + table[i].offset);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

int parse_array_of(ParseCtx *c, json_object *v, size_t elem_size, field_parse_fn fn, void *dest_array,
                   size_t *dest_n) {
        uint8_t *a;
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return parse_error(c, "expected an array");

        n = json_object_array_length(v);
        a = calloc(n > 0 ? n : 1, elem_size);
        if (!a)
                return -ENOMEM;
        /* Hand the array to the Spec before filling it: spec_free() cleans up after a failure. */
        memcpy(dest_array, &a, sizeof(a));
        *dest_n = n;

        for (size_t i = 0; i < n; i++) {
                size_t old = path_push_index(c, i);
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!e)
                        return parse_error(c, "unexpected null");
                r = fn(c, e, a + i * elem_size);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

static int get_string(ParseCtx *c, json_object *v, const char **ret) {
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return parse_error(c, "expected a string");

        /* An embedded NUL would silently truncate the value we act on. */
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s))
                return parse_error(c, "string contains a NUL byte");

        *ret = s;
        return 0;
}

int parse_string(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        const char *s;
        int r;

        r = get_string(c, v, &s);
        if (r < 0)
                return r;

        free(*d);
        *d = strdup(s);
        return *d ? 0 : -ENOMEM;
}

int parse_string_opt(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        int r;

        r = parse_string(c, v, dest);
        if (r < 0)
                return r;
        if (**d == '\0') {
                free(*d);
                *d = NULL;
        }
        return 0;
}

int parse_abs_path(ParseCtx *c, json_object *v, void *dest) {
        const char *s;
        int r;

        r = get_string(c, v, &s);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return parse_error(c, "'%s' is not an absolute path", s);

        return parse_string(c, v, dest);
}

int parse_bool(ParseCtx *c, json_object *v, void *dest) {
        if (!json_object_is_type(v, json_type_boolean))
                return parse_error(c, "expected a boolean");

        *(bool *) dest = json_object_get_boolean(v);
        return 0;
}

/* json-c saturates out-of-range integers; a value at INT64_MAX that reads differently as uint64 was
 * above INT64_MAX in the text. */
static bool json_int_above_int64(json_object *v) {
        return json_object_get_int64(v) == INT64_MAX && json_object_get_uint64(v) != (uint64_t) INT64_MAX;
}

int parse_u32(ParseCtx *c, json_object *v, void *dest) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return parse_error(c, "expected an unsigned 32-bit integer");
        i = json_object_get_int64(v);
        if (i < 0 || i > UINT32_MAX)
                return parse_error(c, "expected an unsigned 32-bit integer");

        *(uint32_t *) dest = (uint32_t) i;
        return 0;
}

int parse_u64(ParseCtx *c, json_object *v, void *dest) {
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
                return parse_error(c, "expected an unsigned 64-bit integer");

        *(uint64_t *) dest = json_object_get_uint64(v);
        return 0;
}

int parse_i64(ParseCtx *c, json_object *v, void *dest) {
        if (!json_object_is_type(v, json_type_int) || json_int_above_int64(v))
                return parse_error(c, "expected a 64-bit integer");

        *(int64_t *) dest = json_object_get_int64(v);
        return 0;
}

int parse_int_range(ParseCtx *c, json_object *v, int min, int max, int *dest) {
        int64_t i;

        if (!json_object_is_type(v, json_type_int))
                return parse_error(c, "expected an integer");
        i = json_object_get_int64(v);
        if (i < min || i > max || json_int_above_int64(v))
                return parse_error(c, "%" PRIi64 " out of range %d..%d", i, min, max);

        *dest = (int) i;
        return 0;
}

int parse_strv(ParseCtx *c, json_object *v, void *dest) {
        char ***d = dest;
        size_t n;

        if (!json_object_is_type(v, json_type_array))
                return parse_error(c, "expected an array of strings");

        n = json_object_array_length(v);
        strv_free(*d);
        *d = calloc(n + 1, sizeof(char *));
        if (!*d)
                return -ENOMEM;

        for (size_t i = 0; i < n; i++) {
                size_t old = path_push_index(c, i);
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!e)
                        return parse_error(c, "expected a string");
                r = parse_string(c, e, &(*d)[i]);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

static int parse_idmap(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "containerID", parse_u32, offsetof(IdMap, container_id), true },
                { "hostID", parse_u32, offsetof(IdMap, host_id), true },
                { "size", parse_u32, offsetof(IdMap, size), true },
        };
        IdMap *m = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), m);
        if (r < 0)
                return r;
        if (m->size == 0) {
                size_t old = path_push_field(c, "size");

                r = parse_error(c, "must be greater than 0");
                path_pop(c, old);
                return r;
        }
        return 0;
}

int parse_idmaps(ParseCtx *c, json_object *v, IdMap **dest, size_t *dest_n) {
        return parse_array_of(c, v, sizeof(IdMap), parse_idmap, dest, dest_n);
}

int parse_string_map(ParseCtx *c, json_object *v, KeyValue **dest, size_t *dest_n) {
        KeyValue *kv;
        size_t i = 0;

        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");

        kv = calloc((size_t) json_object_object_length(v) + 1, sizeof(KeyValue));
        if (!kv)
                return -ENOMEM;
        *dest = kv;
        *dest_n = 0;

        json_object_object_foreach(v, key, val) {
                size_t old = path_push_field(c, key);
                int r;

                if (!val)
                        return parse_error(c, "expected a string");
                kv[i].key = strdup(key);
                if (!kv[i].key)
                        return -ENOMEM;
                *dest_n = ++i;
                r = parse_string(c, val, &kv[i - 1].value);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

/* ---- process ---- */

static int parse_args(ParseCtx *c, json_object *v, void *dest) {
        int r;

        r = parse_strv(c, v, dest);
        if (r < 0)
                return r;
        if (!(*(char ***) dest)[0])
                return parse_error(c, "must not be empty");
        return 0;
}

static int parse_env(ParseCtx *c, json_object *v, void *dest) {
        char **env;
        int r;

        r = parse_strv(c, v, dest);
        if (r < 0)
                return r;

        env = *(char ***) dest;
        for (size_t i = 0; env[i]; i++) {
                const char *eq = strchr(env[i], '=');

                if (!eq || eq == env[i]) {
                        path_push_index(c, i);
                        return parse_error(c, "'%s' is not of the form KEY=VALUE", env[i]);
                }
        }
        return 0;
}

static int parse_umask(ParseCtx *c, json_object *v, void *dest) {
        ProcessSpec *p = dest;
        int r;

        r = parse_u32(c, v, &p->umask);
        if (r < 0)
                return r;
        p->has_umask = true;
        return 0;
}

static int parse_additional_gids(ParseCtx *c, json_object *v, void *dest) {
        ProcessSpec *p = dest;

        return parse_array_of(c, v, sizeof(uint32_t), parse_u32, &p->additional_gids, &p->n_additional_gids);
}

static int parse_user(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "uid", parse_u32, offsetof(ProcessSpec, uid), true },
                { "gid", parse_u32, offsetof(ProcessSpec, gid), true },
                { "umask", parse_umask, 0, false },
                { "additionalGids", parse_additional_gids, 0, false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_console_size(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "height", parse_u32, offsetof(ProcessSpec, console_height), true },
                { "width", parse_u32, offsetof(ProcessSpec, console_width), true },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_capabilities(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "bounding", parse_strv, CAP_SET_BOUNDING * sizeof(char **), false },
                { "effective", parse_strv, CAP_SET_EFFECTIVE * sizeof(char **), false },
                { "inheritable", parse_strv, CAP_SET_INHERITABLE * sizeof(char **), false },
                { "permitted", parse_strv, CAP_SET_PERMITTED * sizeof(char **), false },
                { "ambient", parse_strv, CAP_SET_AMBIENT * sizeof(char **), false },
        };
        ProcessSpec *p = dest;

        p->has_capabilities = true;
        return parse_fields(c, v, fields, ELEMENTSOF(fields), p->capabilities);
}

static int parse_rlimit_type(ParseCtx *c, json_object *v, void *dest) {
        RlimitSpec *rl = dest;
        int r;

        r = parse_string(c, v, &rl->name);
        if (r < 0)
                return r;
        r = rlimit_from_name(rl->name);
        if (r < 0)
                return parse_error(c, "unknown rlimit '%s'", rl->name);
        rl->resource = r;
        return 0;
}

static int parse_rlimit(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "type", parse_rlimit_type, 0, true },
                { "soft", parse_u64, offsetof(RlimitSpec, soft), true },
                { "hard", parse_u64, offsetof(RlimitSpec, hard), true },
        };
        RlimitSpec *rl = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), rl);
        if (r < 0)
                return r;
        if (rl->soft > rl->hard)
                return parse_error(c, "soft limit %" PRIu64 " is greater than hard limit %" PRIu64,
                                   rl->soft, rl->hard);
        return 0;
}

static int parse_rlimits(ParseCtx *c, json_object *v, void *dest) {
        ProcessSpec *p = dest;
        int r;

        r = parse_array_of(c, v, sizeof(RlimitSpec), parse_rlimit, &p->rlimits, &p->n_rlimits);
        if (r < 0)
                return r;

        /* The runtime spec requires an error for a type given twice. */
        for (size_t i = 0; i < p->n_rlimits; i++)
                for (size_t j = 0; j < i; j++)
                        if (p->rlimits[i].resource == p->rlimits[j].resource) {
                                path_push_index(c, i);
                                return parse_error(c, "duplicate rlimit '%s'", p->rlimits[i].name);
                        }
        return 0;
}

static int parse_oom_score_adj(ParseCtx *c, json_object *v, void *dest) {
        ProcessSpec *p = dest;
        int r;

        r = parse_int_range(c, v, -1000, 1000, &p->oom_score_adj);
        if (r < 0)
                return r;
        p->has_oom_score_adj = true;
        return 0;
}

static int parse_process_fields(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "terminal", parse_bool, offsetof(ProcessSpec, terminal), false },
                { "consoleSize", parse_console_size, 0, false },
                { "user", parse_user, 0, true },
                { "args", parse_args, offsetof(ProcessSpec, args), true },
                { "env", parse_env, offsetof(ProcessSpec, env), false },
                { "cwd", parse_abs_path, offsetof(ProcessSpec, cwd), true },
                { "capabilities", parse_capabilities, 0, false },
                { "rlimits", parse_rlimits, 0, false },
                { "noNewPrivileges", parse_bool, offsetof(ProcessSpec, no_new_privileges), false },
                { "oomScoreAdj", parse_oom_score_adj, 0, false },
                { "apparmorProfile", parse_string_opt, offsetof(ProcessSpec, apparmor_profile), false },
                { "selinuxLabel", parse_string_opt, offsetof(ProcessSpec, selinux_label), false },
                { "ioPriority", spec_parse_io_priority, 0, false },
                { "scheduler", spec_parse_scheduler, 0, false },
                { "execCPUAffinity", spec_parse_exec_cpu_affinity, 0, false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_process(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        s->has_process = true;
        return parse_process_fields(c, v, &s->process);
}

/* ---- top level ---- */

static int parse_oci_version(ParseCtx *c, json_object *v, void *dest) {
        char **d = dest;
        const char *p;
        int r;

        r = parse_string(c, v, dest);
        if (r < 0)
                return r;

        /* Every 1.x keeps backwards compatibility with what we read; another major may not. */
        p = *d;
        if (p[0] != '1' || p[1] != '.' || p[2] < '0' || p[2] > '9')
                return parse_error(c, "unsupported version '%s' (urun reads 1.x)", *d);
        return 0;
}

static int parse_root(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "path", parse_string, offsetof(Spec, root_path), true },
                { "readonly", parse_bool, offsetof(Spec, root_readonly), false },
        };
        Spec *s = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), s);
        if (r < 0)
                return r;
        if (s->root_path[0] == '\0') {
                path_push_field(c, "path");
                return parse_error(c, "must not be empty");
        }
        return 0;
}

static int parse_mount_uid_mappings(ParseCtx *c, json_object *v, void *dest) {
        MountSpec *m = dest;

        return parse_idmaps(c, v, &m->uid_mappings, &m->n_uid_mappings);
}

static int parse_mount_gid_mappings(ParseCtx *c, json_object *v, void *dest) {
        MountSpec *m = dest;

        return parse_idmaps(c, v, &m->gid_mappings, &m->n_gid_mappings);
}

static int parse_mount(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "destination", parse_abs_path, offsetof(MountSpec, destination), true },
                { "type", parse_string_opt, offsetof(MountSpec, type), false },
                { "source", parse_string_opt, offsetof(MountSpec, source), false },
                { "options", parse_strv, offsetof(MountSpec, options), false },
                { "uidMappings", parse_mount_uid_mappings, 0, false },
                { "gidMappings", parse_mount_gid_mappings, 0, false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_mounts(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_array_of(c, v, sizeof(MountSpec), parse_mount, &s->mounts, &s->n_mounts);
}

static int parse_hook_timeout(ParseCtx *c, json_object *v, void *dest) {
        return parse_int_range(c, v, 1, INT32_MAX, dest);
}

static int parse_hook(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "path", parse_abs_path, offsetof(HookSpec, path), true },
                { "args", parse_strv, offsetof(HookSpec, args), false },
                { "env", parse_env, offsetof(HookSpec, env), false },
                { "timeout", parse_hook_timeout, offsetof(HookSpec, timeout), false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}

static int parse_hooks(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");

        for (enum hook_kind k = 0; k < _HOOK_MAX; k++) {
                json_object *a = NULL;
                size_t old;
                int r;

                if (!json_object_object_get_ex(v, hook_kind_to_name(k), &a) || !a)
                        continue;
                old = path_push_field(c, hook_kind_to_name(k));
                r = parse_array_of(c, a, sizeof(HookSpec), parse_hook, &s->hooks[k], &s->n_hooks[k]);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

static int parse_annotations(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_string_map(c, v, &s->annotations, &s->n_annotations);
}

static const FieldParser top_fields[] = {
        { "ociVersion", parse_oci_version, offsetof(Spec, oci_version), true },
        { "root", parse_root, 0, true },
        { "process", parse_process, 0, false },
        { "hostname", parse_string_opt, offsetof(Spec, hostname), false },
        { "domainname", parse_string_opt, offsetof(Spec, domainname), false },
        { "mounts", parse_mounts, 0, false },
        { "hooks", parse_hooks, 0, false },
        { "annotations", parse_annotations, 0, false },
        { "linux", spec_parse_linux, 0, false },
};

static void set_error(char **ret_error, const char *fmt, ...) _printf_(2, 3);
static void set_error(char **ret_error, const char *fmt, ...) {
        va_list ap;

        if (!ret_error)
                return;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
}

static bool only_whitespace(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
                        return false;
        return true;
}

/* Strict RFC 8259 (no trailing commas, no single quotes) with bounded nesting. */
static int json_parse(const char *json, size_t len, const char *what, json_object **ret, char **ret_error) {
        json_tokener *tok;
        json_object *o;
        enum json_tokener_error e;
        size_t end;

        if (len > SPEC_MAX_SIZE) {
                set_error(ret_error, "%s: too large (%zu bytes, limit %u)", what, len, SPEC_MAX_SIZE);
                return -EFBIG;
        }

        /* Bounded recursion in json-c, and in our own walk over "linux.resources". */
        tok = json_tokener_new_ex(SPEC_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);

        o = json_tokener_parse_ex(tok, json, (int) len);
        e = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);

        if (e == json_tokener_error_depth) {
                set_error(ret_error, "%s: invalid JSON at offset %zu: nesting deeper than %d levels",
                          what, end, SPEC_MAX_DEPTH);
                return -EINVAL;
        }
        if (e == json_tokener_continue || (e == json_tokener_success && !o)) {
                set_error(ret_error, "%s: invalid JSON at offset %zu: unexpected end of data", what, end);
                return -EINVAL;
        }
        if (e != json_tokener_success) {
                set_error(ret_error, "%s: invalid JSON at offset %zu: %s", what, end, json_tokener_error_desc(e));
                return -EINVAL;
        }
        if (!only_whitespace(json + end, len - end)) {
                json_object_put(o);
                set_error(ret_error, "%s: invalid JSON at offset %zu: trailing data", what, end);
                return -EINVAL;
        }

        *ret = o;
        return 0;
}

int parse_document(const char *json, size_t len, const char *what, const char *root, field_parse_fn fn, void *dest,
                   char **ret_error) {
        ParseCtx c = {};
        json_object *o = NULL;
        int r;

        r = json_parse(json, len, what, &o, ret_error);
        if (r < 0)
                return r;
        if (root)
                path_push_field(&c, root);
        r = fn(&c, o, dest);
        json_object_put(o);
        if (r < 0) {
                if (ret_error) {
                        *ret_error = TAKE_PTR(c.error);
                        if (!*ret_error)
                                (void) asprintf(ret_error, "%s: out of memory", what);
                }
                free(c.error);
        }
        return r;
}

static int parse_top(ParseCtx *c, json_object *v, void *dest) {
        return parse_fields(c, v, top_fields, ELEMENTSOF(top_fields), dest);
}

int spec_parse_string(const char *json, size_t len, Spec **ret, char **ret_error) {
        _cleanup_spec_free_ Spec *s = calloc(1, sizeof(Spec));
        int r;

        if (!s)
                return -ENOMEM;
        r = parse_document(json, len, "config.json", NULL, parse_top, s, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int spec_parse_process_string(const char *json, size_t len, ProcessSpec **ret, char **ret_error) {
        _cleanup_process_spec_free_ ProcessSpec *p = calloc(1, sizeof(ProcessSpec));
        int r;

        if (!p)
                return -ENOMEM;
        r = parse_document(json, len, "process", "process", parse_process_fields, p, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

int spec_load(const char *bundle_dir, Spec **ret, char **ret_error) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        size_t size;
        int r;

        path = strjoin_path(bundle_dir, "config.json");
        if (!path)
                return -ENOMEM;

        r = read_file_at(AT_FDCWD, path, SPEC_MAX_SIZE, &data, &size);
        if (r == -EFBIG) {
                set_error(ret_error, "%s: too large (limit %u bytes)", path, SPEC_MAX_SIZE);
                return r;
        }
        if (r < 0) {
                set_error(ret_error, "%s: %s", path, strerror(-r));
                return r;
        }

        return spec_parse_string(data, size, ret, ret_error);
}

static void process_spec_done(ProcessSpec *p) {
        free(p->additional_gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        for (size_t i = 0; i < _CAP_SET_MAX; i++)
                strv_free(p->capabilities[i]);
        for (size_t i = 0; i < p->n_rlimits; i++)
                free(p->rlimits[i].name);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->exec_cpu_affinity_initial);
        free(p->exec_cpu_affinity_final);
}

ProcessSpec *process_spec_free(ProcessSpec *p) {
        if (p) {
                process_spec_done(p);
                free(p);
        }
        return NULL;
}

static void key_values_free(KeyValue *kv, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

static void mounts_free(MountSpec *m, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(m[i].destination);
                free(m[i].type);
                free(m[i].source);
                strv_free(m[i].options);
                free(m[i].uid_mappings);
                free(m[i].gid_mappings);
        }
        free(m);
}

static void hooks_free(HookSpec *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(h[i].path);
                strv_free(h[i].args);
                strv_free(h[i].env);
        }
        free(h);
}

Spec *spec_free(Spec *s) {
        if (!s)
                return NULL;

        free(s->oci_version);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        process_spec_done(&s->process);
        mounts_free(s->mounts, s->n_mounts);
        for (size_t k = 0; k < _HOOK_MAX; k++)
                hooks_free(s->hooks[k], s->n_hooks[k]);
        key_values_free(s->annotations, s->n_annotations);

        for (size_t i = 0; i < _NS_MAX; i++)
                free(s->namespaces[i].path);
        free(s->uid_mappings);
        free(s->gid_mappings);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        resources_spec_free(s->resources);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        free(s->rootfs_propagation);
        key_values_free(s->sysctl, s->n_sysctl);
        free(s->cgroups_path);
        free(s->mount_label);
        seccomp_spec_free(s->seccomp);
        free(s);
        return NULL;
}

const char *hook_kind_to_name(enum hook_kind k) {
        static const char *const names[_HOOK_MAX] = {
                [HOOK_PRESTART] = "prestart",
                [HOOK_CREATE_RUNTIME] = "createRuntime",
                [HOOK_CREATE_CONTAINER] = "createContainer",
                [HOOK_START_CONTAINER] = "startContainer",
                [HOOK_POSTSTART] = "poststart",
                [HOOK_POSTSTOP] = "poststop",
        };

        return (unsigned) k < _HOOK_MAX ? names[k] : NULL;
}
