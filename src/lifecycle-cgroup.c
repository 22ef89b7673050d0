/* pause, resume, ps, update and events on an existing container (lifecycle-cgroup.h): which
 * status each verb accepts, the "no cgroup" errors and the ps fallback live here; the cgroup
 * operations themselves are in cgroup-ops.c, the command lines in cmd-*.c. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroup.h"
#include "lifecycle-cgroup.h"
#include "lifecycle.h"
#include "log.h"
#include "util.h"

#define STATUS_MASK(s) (1u << (s))
#define STATUS_LIVE (STATUS_MASK(STATUS_CREATED) | STATUS_MASK(STATUS_RUNNING) | STATUS_MASK(STATUS_PAUSED))

typedef struct {
        const char *verb;    /* "cannot <verb> container 'X': it is created<want>" */
        const char *want;    /* ", not running", or "" when several statuses are fine */
        unsigned allowed;    /* STATUS_MASK()s */
        bool exclusive;      /* the lock: exclusive for changes */
        const char *no_cgroup; /* "container 'X' has no cgroup (none: R): cannot <no_cgroup>"; NULL: optional */
} Action;

static const Action action_pause = { "pause", ", not running", STATUS_MASK(STATUS_RUNNING), true, "pause" };
static const Action action_resume = { "resume", ", not paused", STATUS_MASK(STATUS_PAUSED), true, "resume" };
static const Action action_update = { "update", "", STATUS_LIVE, true, "update its limits" };
static const Action action_events = { "report events of", "", STATUS_LIVE, false, "report its events" };
static const Action action_ps = { "list the processes of", "", STATUS_LIVE | STATUS_MASK(STATUS_STOPPED), false, NULL };

/* Open and lock the container, then check that action can be done on it. h must be passed to
 * handle_done() whatever the result. */
static int open_for(const GlobalOptions *g, const char *id, const Action *a, Handle *h) {
        const char *why;
        int r;

        r = handle_open(g, id, a->exclusive, false, h);
        if (r < 0)
                return r;
        if (!(a->allowed & STATUS_MASK(h->status)))
                return log_errno(LOG_ERR, -EINVAL, "cannot %s container '%s': it is %s%s", a->verb, id,
                                 container_status_to_string(h->status), a->want);
        if (h->state->cgroup_path || !a->no_cgroup)
                return 0;
        /* the reason was recorded at create: "not delegated", "hybrid cgroup v1/v2 host", "disabled" */
        why = h->state->cgroup_none;
        return log_errno(LOG_ERR, -EOPNOTSUPP, "container '%s' has no cgroup (none%s%s): cannot %s", id, why ? ": " : "",
                         why ? why : "", a->no_cgroup);
}

static int set_frozen(const GlobalOptions *g, const char *id, bool frozen) {
        Handle h;
        const char *path;
        int r;

        r = open_for(g, id, frozen ? &action_pause : &action_resume, &h);
        if (r < 0)
                goto out;
        path = h.state->cgroup_path;
        r = cgroup_freeze(path, frozen);
        if (r == -EOPNOTSUPP)
                log_errno(LOG_ERR, r, "cannot %s container '%s': its cgroup %s has no cgroup.freeze (Linux >= 5.2 needed)",
                          frozen ? "pause" : "resume", id, path);
        else if (r == -ETIMEDOUT)
                log_errno(LOG_ERR, r, "container '%s': cgroup %s did not report %s within 10 s%s", id, path,
                          frozen ? "frozen" : "thawed", frozen ? " (thawed again)" : "");
        else if (r < 0)
                log_errno(LOG_ERR, r, "container '%s': %s cgroup %s: %m", id, frozen ? "freezing" : "thawing", path);
out:
        handle_done(&h);
        return r;
}

int container_pause(const GlobalOptions *g, const char *id) {
        return set_frozen(g, id, true);
}

int container_resume(const GlobalOptions *g, const char *id) {
        return set_frozen(g, id, false);
}

int container_pids(const GlobalOptions *g, const char *id, pid_t **ret, size_t *ret_n) {
        Handle h;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = open_for(g, id, &action_ps, &h);
        if (r >= 0 && h.state->cgroup_path) {
                r = cgroup_pids(h.state->cgroup_path, ret, ret_n);
                if (r == -ENOENT) /* already removed: nothing can be in it */
                        r = 0;
                else if (r < 0)
                        log_errno(LOG_ERR, r, "container '%s': reading the processes of cgroup %s: %m", id,
                                  h.state->cgroup_path);
        } else if (r >= 0) {
                r = container_pidns_pids(h.state, ret, ret_n);
                if (r < 0)
                        log_errno(LOG_ERR, r, "container '%s': listing the processes of its pid namespace: %m", id);
        }
        handle_done(&h);
        return r;
}

int container_update(const GlobalOptions *g, const char *id, const ResourcesSpec *res) {
        Handle h;
        int r;

        r = open_for(g, id, &action_update, &h);
        if (r >= 0)
                r = cgroup_update(h.state->cgroup_path, res); /* logs the field that failed */
        /* a systemd scope (no top: systemd removes it) also gets the limits it re-applies */
        if (r >= 0 && !h.state->cgroup_top)
                cgroup_scope_update(h.state->cgroup_path, h.state->rootless, res);
        handle_done(&h);
        return r;
}

int container_watch_open(const GlobalOptions *g, const char *id, ContainerWatch *ret) {
        Handle h;
        int r;

        *ret = (ContainerWatch) CONTAINER_WATCH_NULL;
        r = open_for(g, id, &action_events, &h);
        if (r >= 0) {
                ret->pidfd = pidfd_for(h.state);
                if (ret->pidfd < 0)
                        r = log_errno(LOG_ERR, ret->pidfd, "container '%s' is not running", id);
        }
        if (r >= 0) {
                ret->cgroup_path = strdup(h.state->cgroup_path);
                if (!ret->cgroup_path)
                        r = log_errno(LOG_ERR, -ENOMEM, "events: %m");
        }
        handle_done(&h);
        if (r < 0)
                container_watch_done(ret);
        return r;
}

void container_watch_done(ContainerWatch *w) {
        free(w->cgroup_path);
        safe_close(w->pidfd);
        *w = (ContainerWatch) CONTAINER_WATCH_NULL;
}

/* ---- processes of a container without a cgroup ---- */

static int push_pid(pid_t **a, size_t *n, pid_t pid) {
        pid_t *b = realloc(*a, (*n + 1) * sizeof(pid_t));

        if (!b)
                return -ENOMEM;
        *a = b;
        b[(*n)++] = pid;
        return 0;
}

static int cmp_pid(const void *x, const void *y) {
        pid_t a = *(const pid_t *) x, b = *(const pid_t *) y;
        return (a > b) - (a < b);
}

/* Every pid in /proc whose pid namespace is ns (a process we may not inspect is not ours). */
static int scan_pidns(const struct stat *ns, pid_t **a, size_t *n) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        int r = 0;

        if (!d)
                return -errno;
        while (r >= 0 && (de = readdir(d))) {
                char path[64];
                struct stat st;
                int pid;

                if (safe_atoi(de->d_name, &pid) < 0 || pid <= 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
                if (stat(path, &st) == 0 && st.st_ino == ns->st_ino && st.st_dev == ns->st_dev)
                        r = push_pid(a, n, pid);
        }
        closedir(d);
        return r;
}

int container_pidns_pids(const ContainerState *s, pid_t **ret, size_t *ret_n) {
        _cleanup_free_ pid_t *a = NULL;
        struct stat init_ns, self_ns;
        char path[64];
        size_t n = 0;
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!proc_alive(s->pid, s->start_time))
                return 0;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int) s->pid);
        if (stat(path, &init_ns) < 0)
                return errno == ENOENT || errno == ESRCH ? 0 : -errno;
        if (stat("/proc/self/ns/pid", &self_ns) < 0)
                return -errno;
        if (init_ns.st_ino == self_ns.st_ino && init_ns.st_dev == self_ns.st_dev)
                r = push_pid(&a, &n, s->pid);
        else
                r = scan_pidns(&init_ns, &a, &n);
        if (r < 0)
                return r;
        /* the init exited during the scan: its namespace is gone, and its pid may be another's */
        if (!proc_alive(s->pid, s->start_time))
                return 0;
        if (n > 0)
                qsort(a, n, sizeof(pid_t), cmp_pid);
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}
