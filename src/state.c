/* The state store: ROOT/<id>/state.json, its locking, and the OCI state document. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state.h"
#include "util.h"

/* A directory entry name may be NAME_MAX (255) bytes; keep a margin so that derived names
 * ("<id>.scope", "urun-<id>") still fit, and reject absurd IDs before they hit the file system. */
#define ID_LEN_MAX 250
#define STATE_JSON_MAX (4U * 1024U * 1024U)

static const char *const status_names[] = {
        [STATUS_CREATING] = "creating",
        [STATUS_CREATED] = "created",
        [STATUS_RUNNING] = "running",
        [STATUS_PAUSED] = "paused",
        [STATUS_STOPPED] = "stopped",
};

const char *container_status_to_string(enum container_status s) {
        if ((size_t) s >= ELEMENTSOF(status_names))
                return NULL;
        return status_names[s];
}

/* ---- root directory ---------------------------------------------------------------------- */

static bool in_initial_userns(void) {
        /* No /proc (or no CONFIG_USER_NS): behave as on the host. */
        return userns_is_initial() != 0;
}

static bool dir_owned_by(const char *path, uid_t uid) {
        struct stat st;

        if (stat(path, &st) < 0)
                return false;
        return S_ISDIR(st.st_mode) && st.st_uid == uid;
}

static int xdg_root(char **ret) {
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        char *p;

        if (!xdg || xdg[0] != '/')
                return -ENOENT;
        p = strjoin_path(xdg, "urun");
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* /tmp is shared: an existing /tmp/urun-UID must be our own real directory, or another user
 * could read or plant container state. */
static int tmp_root(uid_t uid, char **ret) {
        struct stat st;
        char *p;

        if (asprintf(&p, "/tmp/urun-%u", (unsigned) uid) < 0)
                return -ENOMEM;
        if (lstat(p, &st) < 0) {
                if (errno != ENOENT) {
                        free(p);
                        return -errno;
                }
        } else if (!S_ISDIR(st.st_mode) || st.st_uid != uid) {
                free(p);
                return -EPERM;
        }
        *ret = p;
        return 0;
}

int state_default_root(char **ret) {
        uid_t uid = geteuid();
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        _cleanup_free_ char *run_user = NULL;
        char *p;

        /* Rootless Podman runs us as uid 0 of its user namespace and never passes --root:
         * /run/urun is not writable there, its XDG_RUNTIME_DIR is. */
        if (uid == 0) {
                if (!in_initial_userns() && xdg_root(&p) >= 0) {
                        *ret = p;
                        return 0;
                }
                p = strdup("/run/urun");
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        if (xdg && xdg[0] == '/' && dir_owned_by(xdg, uid))
                return xdg_root(ret);

        if (asprintf(&run_user, "/run/user/%u", (unsigned) uid) < 0)
                return -ENOMEM;
        if (dir_owned_by(run_user, uid)) {
                p = strjoin_path(run_user, "urun");
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }

        return tmp_root(uid, ret);
}

int state_root_open(const char *root, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        size_t n;
        int r, fd;

        if (!root || root[0] == '\0')
                return -EINVAL;
        path = strdup(root);
        if (!path)
                return -ENOMEM;
        /* "/run/urun/" must still make the last component 0700, not a 0755 parent. */
        for (n = strlen(path); n > 1 && path[n - 1] == '/'; n--)
                path[n - 1] = '\0';

        /* Parents 0755, the root itself 0700: state names bundles and annotations. */
        r = mkdir_p(path, 0700);
        if (r < 0)
                return r;

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int state_validate_id(const char *id) {
        size_t n;

        if (!id)
                return -EINVAL;
        n = strnlen(id, ID_LEN_MAX + 1);
        if (n == 0 || n > ID_LEN_MAX)
                return -EINVAL;
        if (streq(id, ".") || streq(id, ".."))
                return -EINVAL;
        for (const char *c = id; *c; c++) {
                bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                          (*c >= '0' && *c <= '9') || strchr("_.+-", *c);

                if (!ok)
                        return -EINVAL;
        }
        return 0;
}

/* ---- per-container directory ------------------------------------------------------------- */

static int dir_open_at(int root_fd, const char *id) {
        int fd = openat(root_fd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

int state_dir_create(int root_fd, const char *id, int *ret_fd) {
        int r, fd;

        r = state_validate_id(id);
        if (r < 0)
                return r;

        /* mkdirat is the atomic point where exactly one concurrent create wins. */
        if (mkdirat(root_fd, id, 0711) < 0)
                return -errno;

        fd = dir_open_at(root_fd, id);
        if (fd < 0) {
                (void) unlinkat(root_fd, id, AT_REMOVEDIR);
                return fd;
        }

        /* 0711 despite the umask: container processes running as subordinate ids must be able
         * to traverse to exec.fifo, while nobody but us may list or write the directory. */
        if (fchmod(fd, 0711) < 0) {
                r = -errno;
                safe_close(fd);
                (void) unlinkat(root_fd, id, AT_REMOVEDIR);
                return r;
        }

        *ret_fd = fd;
        return 0;
}

int state_dir_open(int root_fd, const char *id, int *ret_fd) {
        int r, fd;

        r = state_validate_id(id);
        if (r < 0)
                return r;
        fd = dir_open_at(root_fd, id);
        if (fd < 0)
                return fd;
        *ret_fd = fd;
        return 0;
}

int state_dir_remove(int root_fd, const char *id) {
        int r;

        r = state_validate_id(id);
        if (r < 0)
                return r;
        return rm_rf_at(root_fd, id);
}

static int lock_fd(int fd, int op) {
        for (;;) {
                if (flock(fd, op) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int state_lock(int dir_fd, bool exclusive) {
        return lock_fd(dir_fd, exclusive ? LOCK_EX : LOCK_SH);
}

int state_trylock(int dir_fd, bool exclusive) {
        return lock_fd(dir_fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB);
}

/* ---- state.json -------------------------------------------------------------------------- */

static void json_putp(struct json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Takes the reference of value in all cases; a NULL value is the constructor's OOM. */
static int json_add(struct json_object *o, const char *key, struct json_object *value) {
        if (!value)
                return -ENOMEM;
        if (json_object_object_add(o, key, value) < 0) {
                json_object_put(value);
                return -ENOMEM;
        }
        return 0;
}

static struct json_object *json_string_or_empty(const char *s) {
        return json_object_new_string(s ? s : "");
}

static int annotations_to_json(const ContainerState *s, struct json_object **ret) {
        _cleanup_json_ struct json_object *a = json_object_new_object();
        int r;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_annotations; i++) {
                r = json_add(a, s->annotations[i].key, json_string_or_empty(s->annotations[i].value));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int state_to_object(const ContainerState *s, struct json_object **ret) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        struct json_object *a = NULL;
        int r;

        if (!o)
                return -ENOMEM;
        if ((r = json_add(o, "id", json_string_or_empty(s->id))) < 0 ||
            (r = json_add(o, "pid", json_object_new_int64(s->pid))) < 0 ||
            (r = json_add(o, "startTime", json_object_new_int64((int64_t) s->start_time))) < 0 ||
            (r = json_add(o, "bundle", json_string_or_empty(s->bundle))) < 0 ||
            (r = json_add(o, "rootfs", json_string_or_empty(s->rootfs))) < 0 ||
            (r = json_add(o, "created", json_string_or_empty(s->created))) < 0 ||
            (r = json_add(o, "owner", json_object_new_int64(s->owner))) < 0 ||
            (r = annotations_to_json(s, &a)) < 0 ||
            (r = json_add(o, "annotations", a)) < 0 ||
            (r = json_add(o, "rootless", json_object_new_boolean(s->rootless))) < 0 ||
            (r = json_add(o, "configPath", json_string_or_empty(s->config_path))) < 0 ||
            (r = json_add(o, "stopped", json_object_new_boolean(s->stopped_marker))) < 0 ||
            (r = json_add(o, "exitStatus", json_object_new_int64(s->exit_status))) < 0)
                return r;
        /* No cgroup: the key is left out (json-c has no null object to store). */
        if (s->cgroup_path) {
                r = json_add(o, "cgroupPath", json_object_new_string(s->cgroup_path));
                if (r < 0)
                        return r;
        }
        if (s->cgroup_top && (r = json_add(o, "cgroupTop", json_object_new_string(s->cgroup_top))) < 0)
                return r;
        if (s->cgroup_none && (r = json_add(o, "cgroupNone", json_object_new_string(s->cgroup_none))) < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int state_write(int dir_fd, const ContainerState *s) {
        _cleanup_json_ struct json_object *o = NULL;
        const char *text;
        size_t len;
        int r;

        if (!s || state_validate_id(s->id) < 0)
                return -EINVAL;
        r = state_to_object(s, &o);
        if (r < 0)
                return r;
        text = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                 &len);
        if (!text)
                return -ENOMEM;
        /* Atomic replace: a concurrent `state` sees the old or the new file, never half of one. */
        return write_file_atomic_at(dir_fd, STATE_FILE, text, len, 0600);
}

/* Strict accessors: a present field of the wrong type is corruption, not a default. */
static int get_string(struct json_object *o, const char *key, bool required, char **ret) {
        struct json_object *v;
        char *p;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return -EINVAL;
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EINVAL;
        p = strdup(json_object_get_string(v));
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int get_int(struct json_object *o, const char *key, bool required, int64_t min, int64_t max,
                   int64_t *ret) {
        struct json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(o, key, &v)) {
                if (required)
                        return -EINVAL;
                *ret = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_int))
                return -EINVAL;
        errno = 0;
        n = json_object_get_int64(v);
        if (errno != 0 || n < min || n > max)
                return -EINVAL;
        *ret = n;
        return 0;
}

static int get_bool(struct json_object *o, const char *key, bool *ret) {
        struct json_object *v;

        if (!json_object_object_get_ex(o, key, &v)) {
                *ret = false;
                return 0;
        }
        if (!json_object_is_type(v, json_type_boolean))
                return -EINVAL;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_annotations(struct json_object *o, ContainerState *s) {
        struct json_object *a;
        size_t n, i = 0;

        if (!json_object_object_get_ex(o, "annotations", &a) || json_object_is_type(a, json_type_null))
                return 0;
        if (!json_object_is_type(a, json_type_object))
                return -EINVAL;
        n = (size_t) json_object_object_length(a);
        if (n == 0)
                return 0;
        s->annotations = calloc(n, sizeof(KeyValue));
        if (!s->annotations)
                return -ENOMEM;
        json_object_object_foreach(a, key, val) {
                if (!json_object_is_type(val, json_type_string))
                        return -EINVAL;
                s->annotations[i].key = strdup(key);
                s->annotations[i].value = strdup(json_object_get_string(val));
                s->n_annotations = ++i;
                if (!s->annotations[i - 1].key || !s->annotations[i - 1].value)
                        return -ENOMEM;
        }
        return 0;
}

static int state_from_object(struct json_object *o, ContainerState *s) {
        int64_t pid, start, owner, status;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return -EINVAL;
        if ((r = get_string(o, "id", true, &s->id)) < 0 ||
            (r = get_int(o, "pid", true, 0, INT_MAX, &pid)) < 0 ||
            (r = get_int(o, "startTime", false, 0, INT64_MAX, &start)) < 0 ||
            (r = get_string(o, "bundle", true, &s->bundle)) < 0 ||
            (r = get_string(o, "rootfs", true, &s->rootfs)) < 0 ||
            (r = get_string(o, "created", true, &s->created)) < 0 ||
            (r = get_int(o, "owner", true, 0, UINT32_MAX - 1, &owner)) < 0 ||
            (r = get_annotations(o, s)) < 0 ||
            (r = get_bool(o, "rootless", &s->rootless)) < 0 ||
            (r = get_string(o, "cgroupPath", false, &s->cgroup_path)) < 0 ||
            (r = get_string(o, "cgroupTop", false, &s->cgroup_top)) < 0 ||
            (r = get_string(o, "cgroupNone", false, &s->cgroup_none)) < 0 ||
            (r = get_string(o, "configPath", false, &s->config_path)) < 0 ||
            (r = get_bool(o, "stopped", &s->stopped_marker)) < 0 ||
            (r = get_int(o, "exitStatus", false, INT_MIN, INT_MAX, &status)) < 0)
                return r;
        if (state_validate_id(s->id) < 0)
                return -EINVAL;
        s->pid = (pid_t) pid;
        s->start_time = (uint64_t) start;
        s->owner = (uid_t) owner;
        s->exit_status = (int) status;
        return 0;
}

static int json_parse_strict(const char *text, size_t len, struct json_object **ret) {
        struct json_tokener *tok;
        struct json_object *o;
        bool complete;

        if (len > INT_MAX)
                return -EFBIG;
        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) len);
        /* Trailing bytes after the object mean a torn or tampered file. */
        complete = o && json_tokener_get_error(tok) == json_tokener_success &&
                   strspn(text + json_tokener_get_parse_end(tok), " \t\r\n") ==
                           len - json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!complete) {
                if (o)
                        json_object_put(o);
                return -EINVAL;
        }
        *ret = o;
        return 0;
}

int state_read(int dir_fd, ContainerState **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ struct json_object *o = NULL;
        _cleanup_state_free_ ContainerState *s = NULL;
        size_t len;
        int r;

        r = read_file_at(dir_fd, STATE_FILE, STATE_JSON_MAX, &text, &len);
        if (r < 0)
                return r;
        if (strlen(text) != len)        /* embedded NUL */
                return -EINVAL;
        r = json_parse_strict(text, len, &o);
        if (r < 0)
                return r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        r = state_from_object(o, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

ContainerState *state_free(ContainerState *s) {
        if (!s)
                return NULL;
        free(s->id);
        free(s->bundle);
        free(s->rootfs);
        free(s->created);
        for (size_t i = 0; i < s->n_annotations; i++) {
                free(s->annotations[i].key);
                free(s->annotations[i].value);
        }
        free(s->annotations);
        free(s->cgroup_path);
        free(s->cgroup_top);
        free(s->cgroup_none);
        free(s->config_path);
        free(s);
        return NULL;
}

/* ---- status ------------------------------------------------------------------------------ */

/* `pause` freezes the cgroup; cgroup.events says whether it is (a plain read: state.c stays
 * independent of the cgroup code). */
static bool state_cgroup_frozen(const ContainerState *s) {
        _cleanup_free_ char *path = NULL, *text = NULL;

        if (!s->cgroup_path)
                return false;
        path = strjoin_path(s->cgroup_path, "cgroup.events");
        if (!path || read_file_at(AT_FDCWD, path, 4096, &text, NULL) < 0)
                return false;
        return strstr(text, "frozen 1") != NULL;
}

enum container_status state_status(int dir_fd, const ContainerState *s) {
        if (!s || s->pid <= 0)
                return STATUS_CREATING;
        if (s->stopped_marker || !proc_alive(s->pid, s->start_time))
                return STATUS_STOPPED;
        /* The init process blocks on exec.fifo until `start` opens it and start removes it. */
        if (faccessat(dir_fd, STATE_FIFO, F_OK, AT_SYMLINK_NOFOLLOW) >= 0)
                return STATUS_CREATED;
        return state_cgroup_frozen(s) ? STATUS_PAUSED : STATUS_RUNNING;
}

/* ---- OCI state --------------------------------------------------------------------------- */

int state_owner_name(uid_t uid, char **ret) {
        struct passwd *pw = getpwuid(uid);
        char *p;

        if (pw && pw->pw_name && pw->pw_name[0])
                p = strdup(pw->pw_name);
        else if (asprintf(&p, "%u", (unsigned) uid) < 0)
                p = NULL;
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static int state_cgroup_to_json(const ContainerState *s, struct json_object *o) {
        _cleanup_free_ char *none = NULL;

        if (s->cgroup_path)
                return json_add(o, "cgroup", json_object_new_string(s->cgroup_path));
        if (!s->cgroup_none)
                return 0;
        if (asprintf(&none, "none (%s)", s->cgroup_none) < 0)
                return -ENOMEM;
        return json_add(o, "cgroup", json_object_new_string(none));
}

int state_to_json(const ContainerState *s, enum container_status status, char **ret_json) {
        _cleanup_json_ struct json_object *o = json_object_new_object();
        _cleanup_free_ char *owner = NULL;
        struct json_object *a = NULL;
        const char *text;
        char *p;
        int r;

        if (!o)
                return -ENOMEM;
        r = state_owner_name(s->owner, &owner);
        if (r < 0)
                return r;
        if ((r = json_add(o, "ociVersion", json_object_new_string(URUN_OCI_VERSION))) < 0 ||
            (r = json_add(o, "id", json_string_or_empty(s->id))) < 0 ||
            (r = json_add(o, "pid", json_object_new_int64(s->pid))) < 0 ||
            (r = json_add(o, "status", json_string_or_empty(container_status_to_string(status)))) < 0 ||
            (r = json_add(o, "bundle", json_string_or_empty(s->bundle))) < 0 ||
            (r = json_add(o, "rootfs", json_string_or_empty(s->rootfs))) < 0 ||
            (r = json_add(o, "created", json_string_or_empty(s->created))) < 0 ||
            (r = json_add(o, "owner", json_object_new_string(owner))) < 0)
                return r;
        /* Not in the OCI state, but asked for by users: where the limits live, or why there are none. */
        r = state_cgroup_to_json(s, o);
        if (r < 0)
                return r;
        /* Like runc: annotations are omitted when there are none. */
        if (s->n_annotations > 0) {
                r = annotations_to_json(s, &a);
                if (r < 0)
                        return r;
                r = json_add(o, "annotations", a);
                if (r < 0)
                        return r;
        }

        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        p = strdup(text);
        if (!p)
                return -ENOMEM;
        *ret_json = p;
        return 0;
}

/* No state.json yet: create is still running. The directory's owner is the creator. */
int state_new_creating(int dir_fd, const char *id, ContainerState **ret) {
        ContainerState *s;
        struct stat st;

        if (fstat(dir_fd, &st) < 0)
                return -errno;
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->id = strdup(id);
        if (!s->id) {
                state_free(s);
                return -ENOMEM;
        }
        s->owner = st.st_uid;
        *ret = s;
        return 0;
}
