/* The default config.json that `urun spec` writes: the one `runc spec [--rootless]` writes, with a
 * non-interactive process (terminals come later) and the caller's subordinate ids mapped. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "spec.h"

typedef struct {
        const char *destination;
        const char *type;
        const char *source;
        const char *const *options; /* NULL-terminated, may be NULL */
        bool rootful;               /* only without --rootless */
        bool rootless;              /* only with --rootless */
} DefaultMount;

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const DefaultMount default_mounts[] = {
        { "/proc", "proc", "proc", NULL, false, false },
        { "/dev", "tmpfs", "tmpfs", STRV("nosuid", "strictatime", "mode=755", "size=65536k"), false, false },
        /* gid=5 names the tty group of the container, which an unprivileged user namespace with a
         * single mapping does not have: mounting devpts would fail with EINVAL. */
        { "/dev/pts", "devpts", "devpts",
          STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"), true, false },
        { "/dev/pts", "devpts", "devpts", STRV("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"),
          false, true },
        { "/dev/shm", "tmpfs", "shm", STRV("nosuid", "noexec", "nodev", "mode=1777", "size=65536k"), false, false },
        { "/dev/mqueue", "mqueue", "mqueue", STRV("nosuid", "noexec", "nodev"), false, false },
        /* A fresh sysfs needs a network namespace owned by our user namespace (which rootless
         * configs do not create): bind the host's instead. */
        { "/sys", "sysfs", "sysfs", STRV("nosuid", "noexec", "nodev", "ro"), true, false },
        { "/sys", "none", "/sys", STRV("rbind", "nosuid", "noexec", "nodev", "ro"), false, true },
        { "/sys/fs/cgroup", "cgroup", "cgroup", STRV("nosuid", "noexec", "nodev", "relatime", "ro"), true, false },
};

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE", NULL };

static const char *const masked_paths[] = {
        "/proc/acpi",      "/proc/asound",      "/proc/kcore",       "/proc/keys",    "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi",
        NULL,
};

static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

/* ---- json-c helpers: NULL from a constructor means ENOMEM; add() takes ownership of v ---- */

static int add(json_object *o, const char *key, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static int append(json_object *a, json_object *v) {
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(a, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *strv_to_json(const char *const *l) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (append(a, json_object_new_string(l[i])) < 0) {
                        json_object_put(a);
                        return NULL;
                }
        return a;
}

static json_object *new_object(json_object **ret) {
        *ret = json_object_new_object();
        return *ret;
}

/* ---- sections ---- */

static json_object *process_json(void) {
        static const char *const env[] = {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL,
        };
        json_object *p, *user, *caps, *rlimits, *rl;

        if (!new_object(&p))
                return NULL;
        if (add(p, "terminal", json_object_new_boolean(false)) < 0 || add(p, "user", new_object(&user)) < 0 ||
            add(user, "uid", json_object_new_int(0)) < 0 || add(user, "gid", json_object_new_int(0)) < 0 ||
            add(p, "args", strv_to_json(STRV("sh"))) < 0 || add(p, "env", strv_to_json(env)) < 0 ||
            add(p, "cwd", json_object_new_string("/")) < 0 || add(p, "capabilities", new_object(&caps)) < 0 ||
            add(caps, "bounding", strv_to_json(default_caps)) < 0 ||
            add(caps, "effective", strv_to_json(default_caps)) < 0 ||
            add(caps, "permitted", strv_to_json(default_caps)) < 0 ||
            add(p, "rlimits", rlimits = json_object_new_array()) < 0 || append(rlimits, new_object(&rl)) < 0 ||
            add(rl, "type", json_object_new_string("RLIMIT_NOFILE")) < 0 ||
            add(rl, "hard", json_object_new_int(1024)) < 0 || add(rl, "soft", json_object_new_int(1024)) < 0 ||
            add(p, "noNewPrivileges", json_object_new_boolean(true)) < 0) {
                json_object_put(p);
                return NULL;
        }
        return p;
}

static json_object *root_json(void) {
        json_object *r;

        if (!new_object(&r))
                return NULL;
        if (add(r, "path", json_object_new_string("rootfs")) < 0 ||
            add(r, "readonly", json_object_new_boolean(true)) < 0) {
                json_object_put(r);
                return NULL;
        }
        return r;
}

static json_object *mounts_json(bool rootless) {
        json_object *a = json_object_new_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(default_mounts); i++) {
                const DefaultMount *m = &default_mounts[i];
                json_object *o;

                if ((m->rootful && rootless) || (m->rootless && !rootless))
                        continue;
                if (append(a, new_object(&o)) < 0 || add(o, "destination", json_object_new_string(m->destination)) < 0 ||
                    add(o, "type", json_object_new_string(m->type)) < 0 ||
                    add(o, "source", json_object_new_string(m->source)) < 0 ||
                    (m->options && add(o, "options", strv_to_json(m->options)) < 0)) {
                        json_object_put(a);
                        return NULL;
                }
        }
        return a;
}

static int append_idmap(json_object *a, uint32_t container_id, uint32_t host_id, uint32_t size) {
        json_object *o;

        if (append(a, new_object(&o)) < 0 || add(o, "containerID", json_object_new_int64(container_id)) < 0 ||
            add(o, "hostID", json_object_new_int64(host_id)) < 0 || add(o, "size", json_object_new_int64(size)) < 0)
                return -ENOMEM;
        return 0;
}

/* Our own id as root, then the subordinate ranges right after it. Container ids stay below
 * UINT32_MAX ((uid_t) -1 is never valid): a range crossing it is truncated. */
static int idmaps_json(uint32_t id, const IdMap *sub, size_t n_sub, json_object **ret) {
        json_object *a = json_object_new_array();
        uint32_t next = 1;
        int r;

        if (!a)
                return -ENOMEM;
        r = append_idmap(a, 0, id, 1);
        for (size_t i = 0; r >= 0 && i < n_sub && next < UINT32_MAX; i++) {
                uint32_t size = sub[i].size < UINT32_MAX - next ? sub[i].size : UINT32_MAX - next;

                if (size == 0)
                        continue;
                r = append_idmap(a, next, sub[i].host_id, size);
                next += size;
        }
        if (r < 0) {
                json_object_put(a);
                return r;
        }
        *ret = a;
        return 0;
}

static int namespaces_json(bool rootless, json_object **ret) {
        static const enum ns_type rootful_ns[] = { NS_PID, NS_NET, NS_IPC, NS_UTS, NS_MOUNT, NS_CGROUP };
        static const enum ns_type rootless_ns[] = { NS_PID, NS_IPC, NS_UTS, NS_MOUNT, NS_USER };
        const enum ns_type *l = rootless ? rootless_ns : rootful_ns;
        size_t n = rootless ? ELEMENTSOF(rootless_ns) : ELEMENTSOF(rootful_ns);
        json_object *a = json_object_new_array();

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *o;

                if (append(a, new_object(&o)) < 0 || add(o, "type", json_object_new_string(ns_type_to_name(l[i]))) < 0) {
                        json_object_put(a);
                        return -ENOMEM;
                }
        }
        *ret = a;
        return 0;
}

/* runc's default: deny all devices (only meaningful with a devices cgroup). */
static json_object *resources_json(void) {
        json_object *res, *devices, *d;

        if (!new_object(&res))
                return NULL;
        if (add(res, "devices", devices = json_object_new_array()) < 0 || append(devices, new_object(&d)) < 0 ||
            add(d, "allow", json_object_new_boolean(false)) < 0 || add(d, "access", json_object_new_string("rwm")) < 0) {
                json_object_put(res);
                return NULL;
        }
        return res;
}

static int linux_json(bool rootless, uid_t uid, gid_t gid, const IdMap *sub_uids, size_t n_sub_uids,
                      const IdMap *sub_gids, size_t n_sub_gids, json_object *l) {
        json_object *v;
        int r;

        if (rootless) {
                r = idmaps_json(uid, sub_uids, n_sub_uids, &v);
                if (r < 0 || (r = add(l, "uidMappings", v)) < 0)
                        return r;
                r = idmaps_json(gid, sub_gids, n_sub_gids, &v);
                if (r < 0 || (r = add(l, "gidMappings", v)) < 0)
                        return r;
        } else if (add(l, "resources", resources_json()) < 0)
                return -ENOMEM;

        r = namespaces_json(rootless, &v);
        if (r < 0 || (r = add(l, "namespaces", v)) < 0)
                return r;

        if (add(l, "maskedPaths", strv_to_json(masked_paths)) < 0 ||
            add(l, "readonlyPaths", strv_to_json(readonly_paths)) < 0)
                return -ENOMEM;
        return 0;
}

int spec_generate(bool rootless, uid_t uid, gid_t gid, const IdMap *sub_uids, size_t n_sub_uids,
                  const IdMap *sub_gids, size_t n_sub_gids, char **ret_json) {
        json_object *o, *l;
        const char *text;
        char *json;
        int r;

        o = json_object_new_object();
        if (!o)
                return -ENOMEM;

        if (add(o, "ociVersion", json_object_new_string("1.0.2")) < 0 || add(o, "process", process_json()) < 0 ||
            add(o, "root", root_json()) < 0 || add(o, "hostname", json_object_new_string("urun")) < 0 ||
            add(o, "mounts", mounts_json(rootless)) < 0 || add(o, "linux", new_object(&l)) < 0) {
                r = -ENOMEM;
                goto finish;
        }

        r = linux_json(rootless, uid, gid, sub_uids, n_sub_uids, sub_gids, n_sub_gids, l);
        if (r < 0)
                goto finish;

        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB |
                                                         JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text || asprintf(&json, "%s\n", text) < 0) {
                r = -ENOMEM;
                goto finish;
        }

        *ret_json = json;
        r = 0;
finish:
        json_object_put(o);
        return r;
}
