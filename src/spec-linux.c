/* The "linux" object of config.json, and the namespace name/flag tables. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "spec-internal.h"
#include "spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const struct {
        const char *name;      /* config.json */
        const char *proc_name; /* /proc/PID/ns */
        int clone_flag;
} ns_table[_NS_MAX] = {
        [NS_USER] = { "user", "user", CLONE_NEWUSER },
        [NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
        [NS_PID] = { "pid", "pid", CLONE_NEWPID },
        [NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
        [NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
        [NS_NET] = { "network", "net", CLONE_NEWNET },
        [NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
        [NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const char *ns_type_to_name(enum ns_type t) {
        return (unsigned) t < _NS_MAX ? ns_table[t].name : NULL;
}

int ns_type_from_name(const char *name) {
        if (!name)
                return -EINVAL;
        for (enum ns_type t = 0; t < _NS_MAX; t++)
                if (streq(ns_table[t].name, name))
                        return t;
        return -EINVAL;
}

const char *ns_type_proc_name(enum ns_type t) {
        return (unsigned) t < _NS_MAX ? ns_table[t].proc_name : NULL;
}

int ns_type_clone_flag(enum ns_type t) {
        return (unsigned) t < _NS_MAX ? ns_table[t].clone_flag : 0;
}

/* ---- linux.namespaces ---- */

typedef struct {
        char *type;
        char *path;
} NamespaceEntry;

static int parse_namespace(ParseCtx *c, json_object *v, Spec *s) {
        static const FieldParser fields[] = {
                { "type", parse_string, offsetof(NamespaceEntry, type), true },
                { "path", parse_string_opt, offsetof(NamespaceEntry, path), false },
        };
        NamespaceEntry e = {};
        int r, t;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), &e);
        if (r < 0)
                goto finish;

        t = ns_type_from_name(e.type);
        if (t < 0) {
                path_push_field(c, "type");
                r = parse_error(c, "unknown namespace type '%s'", e.type);
                goto finish;
        }
        if (s->namespaces[t].present) {
                r = parse_error(c, "duplicate namespace type '%s'", e.type);
                goto finish;
        }
        if (e.path && e.path[0] != '/') {
                path_push_field(c, "path");
                r = parse_error(c, "'%s' is not an absolute path", e.path);
                goto finish;
        }

        s->namespaces[t].present = true;
        s->namespaces[t].path = TAKE_PTR(e.path);
        r = 0;
finish:
        free(e.type);
        free(e.path);
        return r;
}

static int parse_namespaces(ParseCtx *c, json_object *v, void *dest) {
        if (!json_object_is_type(v, json_type_array))
                return parse_error(c, "expected an array");

        for (size_t i = 0; i < json_object_array_length(v); i++) {
                size_t old = path_push_index(c, i);
                json_object *e = json_object_array_get_idx(v, i);
                int r;

                if (!e)
                        return parse_error(c, "expected an object");
                r = parse_namespace(c, e, dest);
                if (r < 0)
                        return r;
                path_pop(c, old);
        }
        return 0;
}

/* ---- linux.devices ---- */

static int parse_device_type(ParseCtx *c, json_object *v, void *dest) {
        _cleanup_free_ char *t = NULL;
        int r;

        r = parse_string(c, v, &t);
        if (r < 0)
                return r;
        if (strlen(t) != 1 || !strchr("cbup", t[0]))
                return parse_error(c, "unknown device type '%s' (expected c, b, u or p)", t);

        *(char *) dest = t[0];
        return 0;
}

static int parse_device_mode(ParseCtx *c, json_object *v, void *dest) {
        DeviceSpec *d = dest;

        d->has_mode = true;
        return parse_u32(c, v, &d->file_mode);
}

static int parse_device_uid(ParseCtx *c, json_object *v, void *dest) {
        DeviceSpec *d = dest;

        d->has_uid = true;
        return parse_u32(c, v, &d->uid);
}

static int parse_device_gid(ParseCtx *c, json_object *v, void *dest) {
        DeviceSpec *d = dest;

        d->has_gid = true;
        return parse_u32(c, v, &d->gid);
}

static int parse_device(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "path", parse_abs_path, offsetof(DeviceSpec, path), true },
                { "type", parse_device_type, offsetof(DeviceSpec, type), true },
                { "fileMode", parse_device_mode, 0, false },
                { "uid", parse_device_uid, 0, false },
                { "gid", parse_device_gid, 0, false },
        };
        /* Pipes have no device number; the runtime spec makes it required for the others. */
        static const FieldParser numbers[] = {
                { "major", parse_i64, offsetof(DeviceSpec, major), true },
                { "minor", parse_i64, offsetof(DeviceSpec, minor), true },
        };
        DeviceSpec *d = dest;
        int r;

        r = parse_fields(c, v, fields, ELEMENTSOF(fields), d);
        if (r < 0)
                return r;
        if (d->type == 'p')
                return 0;
        return parse_fields(c, v, numbers, ELEMENTSOF(numbers), d);
}

static int parse_devices(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_array_of(c, v, sizeof(DeviceSpec), parse_device, &s->devices, &s->n_devices);
}

/* ---- the rest ---- */

static int parse_uid_mappings(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_idmaps(c, v, &s->uid_mappings, &s->n_uid_mappings);
}

static int parse_gid_mappings(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_idmaps(c, v, &s->gid_mappings, &s->n_gid_mappings);
}

static int parse_sysctl(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        return parse_string_map(c, v, &s->sysctl, &s->n_sysctl);
}

static int parse_rootfs_propagation(ParseCtx *c, json_object *v, void *dest) {
        static const char *const known[] = {
                "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
        };
        char **d = dest;
        int r;

        r = parse_string_opt(c, v, dest);
        if (r < 0 || !*d)
                return r;

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(*d, known[i]))
                        return 0;
        return parse_error(c, "unknown propagation '%s'", *d);
}

/* Whether a JSON value sets anything: null, {} and [] (recursively) do not. */
static bool json_sets_something(json_object *v) {
        if (!v)
                return false;

        switch (json_object_get_type(v)) {
        case json_type_object: {
                json_object_object_foreach(v, key, val) {
                        (void) key;
                        if (json_sets_something(val))
                                return true;
                }
                return false;
        }
        case json_type_array:
                for (size_t i = 0; i < json_object_array_length(v); i++)
                        if (json_sets_something(json_object_array_get_idx(v, i)))
                                return true;
                return false;
        default:
                return true;
        }
}

/* We do not manage cgroups yet; callers refuse limits they cannot honour. A devices-only block is
 * what `runc spec` writes (deny all, which a rootless container cannot relax anyway): not a limit. */
static int parse_resources(ParseCtx *c, json_object *v, void *dest) {
        Spec *s = dest;

        if (!json_object_is_type(v, json_type_object))
                return parse_error(c, "expected an object");

        json_object_object_foreach(v, key, val)
                if (!streq(key, "devices") && json_sets_something(val))
                        s->has_resources = true;
        return spec_parse_resources(c, v, s);
}

int spec_parse_linux(ParseCtx *c, json_object *v, void *dest) {
        static const FieldParser fields[] = {
                { "namespaces", parse_namespaces, 0, false },
                { "uidMappings", parse_uid_mappings, 0, false },
                { "gidMappings", parse_gid_mappings, 0, false },
                { "devices", parse_devices, 0, false },
                { "maskedPaths", parse_strv, offsetof(Spec, masked_paths), false },
                { "readonlyPaths", parse_strv, offsetof(Spec, readonly_paths), false },
                { "rootfsPropagation", parse_rootfs_propagation, offsetof(Spec, rootfs_propagation), false },
                { "sysctl", parse_sysctl, 0, false },
                { "seccomp", spec_parse_seccomp, 0, false },
                { "cgroupsPath", parse_string_opt, offsetof(Spec, cgroups_path), false },
                { "mountLabel", parse_string_opt, offsetof(Spec, mount_label), false },
                { "resources", parse_resources, 0, false },
                { "personality", spec_parse_personality, 0, false },
                { "timeOffsets", spec_parse_time_offsets, 0, false },
        };

        return parse_fields(c, v, fields, ELEMENTSOF(fields), dest);
}
