/* User namespace id mappings.
 *
 * The kernel lets an unprivileged process write exactly one thing itself: a single-id map of its
 * own euid/egid (and the gid map only after setgroups is denied, CVE-2014-8989). Everything else
 * goes through the setuid helpers newuidmap/newgidmap, which check /etc/subuid and /etc/subgid
 * (or the NSS subid source). We read the same ranges through libsubid so that a refusal can be
 * explained: which range, which user, where ranges come from. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <dlfcn.h>
#include <spawn.h>
#include <shadow/subid.h>

#include "idmap.h"
#include "log.h"
#include "util.h"
#include "macro.h"


/* "4294967295 4294967295 4294967295\n" */
#define MAP_LINE_MAX 34
#define HELPER_ERR_MAX 4096

bool idmap_in_nested_userns(void) {
        /* Only "nested" is cached: it cannot become false again, whereas a process that answered
         * "not nested" may unshare(CLONE_NEWUSER) (or be a forked child that did) afterwards. */
        static bool nested;

        if (nested)
                return true;
        /* Without /proc (or ns files) we cannot tell; assume the initial namespace, where the
         * kernel still refuses whatever we are not allowed to do. */
        nested = userns_is_initial() == 0;
        return nested;
}

/* libsubid pulls in PAM, SELinux, libsemanage and more: loading them on every start would cost
 * every `urun` invocation, while ranges are only needed by `spec` and to explain a refused map.
 * So it is opened on first use. */
typedef int (*subid_get_ranges_fn)(const char *owner, struct subid_range **ranges);

static int subid_get_ranges(bool gid, const char *user, struct subid_range **ranges) {
        static void *lib;
        subid_get_ranges_fn fn;

        if (!lib)
                lib = dlopen(SUBID_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return -ENOENT;
        fn = (subid_get_ranges_fn) dlsym(lib, gid ? "subid_get_gid_ranges" : "subid_get_uid_ranges");
        if (!fn)
                return -ENOENT;
        return fn(user, ranges);
}

/* libsubid 4.13 (Debian 12) has no subid_free(): the ranges are plain malloc memory. */
static void subid_free_ranges(struct subid_range *r) {
        free(r);
}

int idmap_subid_ranges(const char *user, bool gid, IdMap **ret, size_t *ret_n) {
        struct subid_range *ranges = NULL;
        _cleanup_free_ IdMap *maps = NULL;
        uint64_t next = 1;
        size_t n = 0;
        int k;

        k = subid_get_ranges(gid, user, &ranges);
        if (k < 0)
                return -EIO;
        if (k > 0) {
                maps = calloc((size_t) k, sizeof(IdMap));
                if (!maps) {
                        subid_free_ranges(ranges);
                        return -ENOMEM;
                }
        }

        for (int i = 0; i < k; i++) {
                uint64_t start = ranges[i].start, count = ranges[i].count;

                /* Host ids must fit in 32 bits and (uid_t) -1 is never a valid id; container ids
                 * likewise stay below UINT32_MAX, so later ranges are truncated or dropped. */
                if (start >= UINT32_MAX || count == 0)
                        continue;
                if (count > UINT32_MAX - start)
                        count = UINT32_MAX - start;
                if (next >= UINT32_MAX)
                        break;
                if (count > UINT32_MAX - next)
                        count = UINT32_MAX - next;

                maps[n++] = (IdMap) {
                        .container_id = (uint32_t) next,
                        .host_id = (uint32_t) start,
                        .size = (uint32_t) count,
                };
                next += count;
        }
        subid_free_ranges(ranges);

        if (n == 0) {
                free(maps);
                maps = NULL;
        }
        *ret = TAKE_PTR(maps);
        *ret_n = n;
        return 0;
}

bool idmap_is_single_self(const IdMap *m, size_t n, uint32_t id) {
        /* The kernel's unprivileged exception is one extent of count 1 (new_idmap_permitted()). */
        return n == 1 && m[0].host_id == id && m[0].size == 1;
}

int idmap_to_host(const IdMap *m, size_t n, uint32_t container_id, uint32_t *ret) {
        for (size_t i = 0; i < n; i++) {
                uint64_t off, host;

                if (container_id < m[i].container_id)
                        continue;
                off = (uint64_t) container_id - m[i].container_id;
                if (off >= m[i].size)
                        continue;
                host = m[i].host_id + off;
                if (host > UINT32_MAX)
                        return -ERANGE;
                *ret = (uint32_t) host;
                return 0;
        }
        return -ERANGE;
}

/* What differs between the uid and the gid side, for the helpers and for error messages. */
typedef struct {
        bool gid;
        const char *field;     /* config field, prefix of every message */
        const char *helper;    /* absolute path, never looked up in $PATH */
        const char *name;
        const char *ids;       /* "uids" / "gids" */
        const char *file;      /* where shadow keeps the ranges by default */
} MapKind;

static const MapKind uid_kind = {
        .gid = false,
        .field = "uidMappings",
        .helper = NEWUIDMAP_PATH,
        .name = "newuidmap",
        .ids = "uids",
        .file = "/etc/subuid",
};

static const MapKind gid_kind = {
        .gid = true,
        .field = "gidMappings",
        .helper = NEWGIDMAP_PATH,
        .name = "newgidmap",
        .ids = "gids",
        .file = "/etc/subgid",
};

static int format_map(const IdMap *m, size_t n, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t size, len = 0;

        if (n >= SIZE_MAX / MAP_LINE_MAX)
                return -ENOMEM;
        size = n * MAP_LINE_MAX + 1;
        buf = malloc(size);
        if (!buf)
                return -ENOMEM;
        buf[0] = '\0';
        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, size - len, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
                                         m[i].container_id, m[i].host_id, m[i].size);
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int write_proc_file(int proc_fd, pid_t pid, const char *name, const char *data, size_t len) {
        _cleanup_close_ int fd = -EBADF;
        char path[64];
        ssize_t k;

        (void) snprintf(path, sizeof(path), "%d/%s", (int) pid, name);
        fd = openat(proc_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* The kernel accepts exactly one write() per map file: the whole map must go at once,
         * and a retry of a short write would be refused anyway. */
        k = write(fd, data, len);
        if (k < 0)
                return -errno;
        if ((size_t) k != len)
                return -EIO;
        return 0;
}

static int write_map_direct(int proc_fd, pid_t pid, const MapKind *kind, const IdMap *m, size_t n) {
        const char *file = kind->gid ? "gid_map" : "uid_map";
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r;

        r = format_map(m, n, &text, &len);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: %m", kind->field);
        r = write_proc_file(proc_fd, pid, file, text, len);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: writing /proc/%d/%s: %m", kind->field, (int) pid, file);
        return 0;
}

static int write_maps_direct(pid_t pid, const IdMap *uid, size_t n_uid, const IdMap *gid, size_t n_gid,
                             bool deny_setgroups) {
        _cleanup_close_ int proc_fd = -EBADF;
        int r;

        r = proc_open_verified(&proc_fd);
        if (r < 0)
                return log_errno(LOG_ERR, r, "opening /proc: %m");

        /* Without CAP_SETGID over the parent namespace the kernel only takes gid_map after
         * setgroups is denied: otherwise the container could drop supplementary groups that
         * deny access on the host (CVE-2014-8989). */
        if (deny_setgroups) {
                r = write_proc_file(proc_fd, pid, "setgroups", "deny", 4);
                if (r < 0)
                        return log_errno(LOG_ERR, r, "gidMappings: writing /proc/%d/setgroups: %m",
                                         (int) pid);
        }

        r = write_map_direct(proc_fd, pid, &gid_kind, gid, n_gid);
        if (r < 0)
                return r;
        return write_map_direct(proc_fd, pid, &uid_kind, uid, n_uid);
}

/* argv = { helper, PID, c1, h1, s1, ..., NULL }; the strings live in *ret_numbers. */
static int helper_argv(const char *helper, pid_t pid, const IdMap *m, size_t n, char ***ret_argv,
                       char **ret_numbers) {
        _cleanup_free_ char **argv = NULL;
        _cleanup_free_ char *numbers = NULL;
        const size_t w = 11; /* "4294967295" + NUL */
        size_t a = 0;

        if (n >= SIZE_MAX / (3 * w) - 1)
                return -ENOMEM;
        argv = calloc(3 * n + 3, sizeof(char *));
        numbers = malloc((3 * n + 1) * w);
        if (!argv || !numbers)
                return -ENOMEM;

        argv[a++] = (char *) helper;
        (void) snprintf(numbers, w, "%d", (int) pid);
        argv[a++] = numbers;
        for (size_t i = 0; i < n; i++) {
                const uint32_t v[3] = { m[i].container_id, m[i].host_id, m[i].size };

                for (size_t j = 0; j < 3; j++) {
                        char *s = numbers + (a - 1) * w;

                        (void) snprintf(s, w, "%" PRIu32, v[j]);
                        argv[a++] = s;
                }
        }
        argv[a] = NULL;

        *ret_argv = TAKE_PTR(argv);
        *ret_numbers = TAKE_PTR(numbers);
        return 0;
}

/* posix_spawn (vfork-like: no copy of our page tables) of the setuid helper, with stdout and
 * stderr into err_fd, stdin from /dev/null, an empty signal mask (ours blocks signals for the
 * supervision loop and the mask survives execve), and a minimal environment: the helper needs
 * nothing of ours, and LC_ALL=C keeps its message in the language of ours. */
static int helper_spawn(char **argv, int err_fd, pid_t *ret_pid) {
        static char *const envp[] = { (char *) "LC_ALL=C", NULL };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none;
        int r;

        sigemptyset(&none);
        if (posix_spawn_file_actions_init(&fa) != 0)
                return -ENOMEM;
        if (posix_spawnattr_init(&attr) != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -ENOMEM;
        }
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
        if (r == 0)
                r = posix_spawnattr_setsigmask(&attr, &none);
        if (r == 0)
                r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        if (r == 0)
                r = posix_spawn(ret_pid, argv[0], &fa, &attr, argv, envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r; /* posix_spawn returns a positive errno */
}

/* Read the helper's output into buf (NUL-terminated, first line only); drain the rest so the
 * helper never blocks on a full pipe. */
static void read_first_line(int fd, char *buf, size_t size) {
        size_t len = 0;
        char *nl;

        for (;;) {
                char scratch[256];
                bool room = len + 1 < size;
                ssize_t k;

                k = read(fd, room ? buf + len : scratch, room ? size - 1 - len : sizeof(scratch));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (room)
                        len += (size_t) k;
        }
        buf[len] = '\0';
        nl = strchr(buf, '\n');
        if (nl)
                *nl = '\0';
}

typedef struct {
        pid_t pid;
        int fd; /* read end of the helper's stdout/stderr */
} HelperRun;

/* Start helper for pid without waiting, so newuidmap and newgidmap run side by side (each is a
 * setuid exec that costs milliseconds). */
static int helper_start(const MapKind *kind, pid_t pid, const IdMap *m, size_t n, HelperRun *ret) {
        _cleanup_free_ char **argv = NULL;
        _cleanup_free_ char *numbers = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        int pipefd[2];
        pid_t child;
        int r;

        r = helper_argv(kind->helper, pid, m, n, &argv, &numbers);
        if (r < 0)
                return r;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        rfd = pipefd[0];
        wfd = pipefd[1];

        r = helper_spawn(argv, wfd, &child);
        if (r < 0)
                return r;
        *ret = (HelperRun){ .pid = child, .fd = TAKE_FD(rfd) };
        return 0;
}

/* Wait for a started helper. On failure returns -EPERM and leaves in err what went wrong (its
 * first line of stderr, or how it exited). */
static int helper_finish(HelperRun *h, char *err, size_t err_size) {
        int status;

        err[0] = '\0';
        read_first_line(h->fd, err, err_size);
        h->fd = safe_close(h->fd);
        while (waitpid(h->pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (err[0] == '\0') {
                if (WIFEXITED(status))
                        (void) snprintf(err, err_size, "exited with status %d", WEXITSTATUS(status));
                else
                        (void) snprintf(err, err_size, "killed by signal %d", WTERMSIG(status));
        }
        return -EPERM;
}

/* Whether [host, host + size) is covered by the ranges, possibly by several adjacent ones
 * (shadow's have_range() accepts that too). */
static bool range_delegated(const IdMap *ranges, size_t n, uint32_t host, uint32_t size) {
        uint64_t cur = host, end = (uint64_t) host + size;

        while (cur < end) {
                bool found = false;

                for (size_t i = 0; i < n; i++)
                        if (cur >= ranges[i].host_id && cur < (uint64_t) ranges[i].host_id + ranges[i].size) {
                                cur = (uint64_t) ranges[i].host_id + ranges[i].size;
                                found = true;
                                break;
                        }
                if (!found)
                        return false;
        }
        return true;
}

static int log_not_delegated(const MapKind *kind, const char *user, const IdMap *m, bool has_ranges,
                             const char *said) {
        if (!has_ranges)
                return log_errno(LOG_ERR, -EPERM,
                                 "%s: user '%s' has no subordinate %s "
                                 "(add a range to %s, e.g. '%s:100000:65536')",
                                 kind->field, user, kind->ids, kind->file, user);
        return log_errno(LOG_ERR, -EPERM,
                         "%s: host range %" PRIu32 "-%" PRIu64 " (container %" PRIu32 ", size %" PRIu32 ") "
                         "is not delegated to user '%s' "
                         "(subordinate %s come from %s or the configured subid source); %s said: %s",
                         kind->field, m->host_id, (uint64_t) m->host_id + m->size - 1, m->container_id,
                         m->size, user, kind->ids, kind->file, kind->name, said);
}

/* The helper refused: find the requested range that the user does not own, as newuidmap sees
 * it (the real uid's passwd entry; its own uid/primary gid is allowed as a single id). */
static int explain_refusal(const MapKind *kind, const IdMap *m, size_t n, const char *said) {
        _cleanup_free_ IdMap *ranges = NULL;
        struct passwd *pw;
        size_t n_ranges;
        uint32_t self;
        int r;

        pw = getpwuid(getuid());
        if (!pw)
                return log_errno(LOG_ERR, -EPERM, "%s: %s failed for uid %u, which has no passwd entry: %s",
                                 kind->field, kind->name, (unsigned) getuid(), said);
        self = kind->gid ? (uint32_t) pw->pw_gid : (uint32_t) pw->pw_uid;

        r = idmap_subid_ranges(pw->pw_name, kind->gid, &ranges, &n_ranges);
        if (r < 0)
                return log_errno(LOG_ERR, -EPERM,
                                 "%s: %s failed: %s (reading the subordinate %s of '%s' failed)",
                                 kind->field, kind->name, said, kind->ids, pw->pw_name);

        for (size_t i = 0; i < n; i++) {
                if (m[i].size == 1 && m[i].host_id == self)
                        continue;
                if (!range_delegated(ranges, n_ranges, m[i].host_id, m[i].size))
                        return log_not_delegated(kind, pw->pw_name, &m[i], n_ranges > 0, said);
        }

        /* Every range is delegated: the refusal is about something else (overlaps, too many
         * lines, a process we do not own); the helper's own words are the best we have. */
        return log_errno(LOG_ERR, -EPERM, "%s: %s failed: %s", kind->field, kind->name, said);
}

static int check_helper(const MapKind *kind) {
        int r;

        if (access(kind->helper, X_OK) >= 0)
                return 0;
        r = -errno;
        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "%s not found at %s: install the uidmap package", kind->name,
                                 kind->helper);
        return log_errno(LOG_ERR, r, "%s: cannot execute %s: %m", kind->field, kind->helper);
}

static int finish_helper(const MapKind *kind, HelperRun *h, const IdMap *m, size_t n) {
        char said[HELPER_ERR_MAX];
        int r = helper_finish(h, said, sizeof(said));

        if (r == -EPERM)
                return explain_refusal(kind, m, n, said);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: running %s: %m", kind->field, kind->helper);
        return 0;
}

static int write_maps_helpers(pid_t pid, const IdMap *uid, size_t n_uid, const IdMap *gid, size_t n_gid) {
        HelperRun hu, hg;
        int r, k;

        r = check_helper(&uid_kind);
        if (r >= 0)
                r = check_helper(&gid_kind);
        if (r < 0)
                return r;
        r = helper_start(&uid_kind, pid, uid, n_uid, &hu);
        if (r < 0)
                return log_errno(LOG_ERR, r, "%s: running %s: %m", uid_kind.field, uid_kind.helper);
        k = helper_start(&gid_kind, pid, gid, n_gid, &hg);
        r = finish_helper(&uid_kind, &hu, uid, n_uid);
        if (k < 0)
                return log_errno(LOG_ERR, k, "%s: running %s: %m", gid_kind.field, gid_kind.helper);
        k = finish_helper(&gid_kind, &hg, gid, n_gid);
        return r < 0 ? r : k;
}

/* Whether every host range of m lies inside the ids our own user namespace maps (the "inside"
 * column of /proc/self/{uid,gid}_map): those are the ids a privileged writer here may hand out. */
static bool ranges_mapped_here(const IdMap *m, size_t n, const char *self_map) {
        _cleanup_free_ char *text = NULL;

        if (read_file_at(AT_FDCWD, self_map, 64 * 1024, &text, NULL) < 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                uint64_t lo = m[i].host_id, hi = lo + m[i].size;
                bool inside = false;

                for (const char *l = text; l && *l && !inside;) {
                        unsigned long long in, out, count;

                        if (sscanf(l, "%llu %llu %llu", &in, &out, &count) == 3)
                                inside = lo >= in && hi <= in + count;
                        l = strchr(l, '\n');
                        l = l ? l + 1 : NULL;
                }
                if (!inside)
                        return false;
        }
        return true;
}

int idmap_write_maps(pid_t pid, const IdMap *uid, size_t n_uid, const IdMap *gid, size_t n_gid) {
        if (n_uid == 0)
                return log_errno(LOG_ERR, -EINVAL, "uidMappings: a new user namespace needs a mapping");
        if (n_gid == 0)
                return log_errno(LOG_ERR, -EINVAL, "gidMappings: a new user namespace needs a mapping");

        /* 1. Real root of the host may write any map, and leaves setgroups allowed. */
        if (geteuid() == 0 && !idmap_in_nested_userns())
                return write_maps_direct(pid, uid, n_uid, gid, n_gid, false);

        /* 2. Root of a user namespace we run in (rootless Podman: uid 0 with all capabilities in its
         * namespace, keep-id maps): any ids mapped here may be written directly, as runc and crun
         * do; newuidmap could not help (its setuid owner is not mapped, root has no subuids). */
        if (geteuid() == 0 && ranges_mapped_here(uid, n_uid, "/proc/self/uid_map") &&
            ranges_mapped_here(gid, n_gid, "/proc/self/gid_map"))
                return write_maps_direct(pid, uid, n_uid, gid, n_gid, false);

        /* 3. One id of our own on each side: the kernel lets us write it ourselves. */
        if (idmap_is_single_self(uid, n_uid, geteuid()) && idmap_is_single_self(gid, n_gid, getegid()))
                return write_maps_direct(pid, uid, n_uid, gid, n_gid, true);

        /* 4. Anything else needs the setuid helpers (they accept our own id as well). */
        return write_maps_helpers(pid, uid, n_uid, gid, n_gid);
}
