/* rlimits, identity and capabilities: name tables, validation, and (as root) the real thing in
 * forked children, observed through /proc/self/status and the process credentials. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caps.h"
#include "tap.h"
#include "util.h"

#define BIT(c) (UINT64_C(1) << (c))
#define CAP_KILL_BIT BIT(5)
#define CAP_NET_BIND_SERVICE_BIT BIT(10)

static void test_rlimit_names(void) {
        static const struct {
                const char *name;
                int resource;
        } t[] = {
                { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
                { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
                { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
                { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
                { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
                { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
                { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
                { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                CHECK_RET(rlimit_from_name(t[i].name), t[i].resource);
        CHECK_RET(rlimit_from_name("RLIMIT_FOO"), -EINVAL);
        CHECK_RET(rlimit_from_name("rlimit_nofile"), -EINVAL);
        CHECK_RET(rlimit_from_name("NOFILE"), -EINVAL);
        CHECK_RET(rlimit_from_name(""), -EINVAL);
}

static void test_validate(void) {
        char *good[] = { (char *) "CAP_CHOWN", (char *) "CAP_SYS_ADMIN", (char *) "CAP_NET_BIND_SERVICE",
                         (char *) "CAP_AUDIT_WRITE", NULL };
        char *bad[] = { (char *) "CAP_KILL", (char *) "CAP_CHOWN", (char *) "CAP_FOO", NULL };
        char *lower[] = { (char *) "cap_kill", NULL };
        char *number[] = { (char *) "12", NULL };
        char *prefix[] = { (char *) "CAP_", NULL };
        char *empty[] = { NULL };
        ProcessSpec p = { .has_capabilities = true };

        CHECK_RET(caps_validate(&p), 0);
        p.capabilities[CAP_SET_BOUNDING] = good;
        p.capabilities[CAP_SET_PERMITTED] = good;
        p.capabilities[CAP_SET_AMBIENT] = empty;
        CHECK_RET(caps_validate(&p), 0);
        p.capabilities[CAP_SET_INHERITABLE] = bad;
        CHECK_RET(caps_validate(&p), -EINVAL);
        p.capabilities[CAP_SET_INHERITABLE] = lower;
        CHECK_RET(caps_validate(&p), -EINVAL);
        p.capabilities[CAP_SET_INHERITABLE] = number;
        CHECK_RET(caps_validate(&p), -EINVAL);
        p.capabilities[CAP_SET_INHERITABLE] = prefix;
        CHECK_RET(caps_validate(&p), -EINVAL);
}

/* What a child observed after applying a config. */
typedef struct {
        int r_rlimits, r_identity, r_caps;
        uint64_t inh, prm, eff, bnd, amb;
        uid_t ruid, euid, suid;
        gid_t rgid, egid, sgid;
        int n_groups;
        gid_t groups[8];
        struct rlimit nofile, memlock_before, memlock_after;
        mode_t umask;
} Observed;

static uint64_t status_field(const char *status, const char *field) {
        const char *s = strstr(status, field);

        return s ? strtoull(s + strlen(field), NULL, 16) : UINT64_MAX;
}

static void observe_caps(const char *status, Observed *o) {
        o->inh = status_field(status, "\nCapInh:");
        o->prm = status_field(status, "\nCapPrm:");
        o->eff = status_field(status, "\nCapEff:");
        o->bnd = status_field(status, "\nCapBnd:");
        o->amb = status_field(status, "\nCapAmb:");
}

static void observe_self(Observed *o) {
        _cleanup_free_ char *status = NULL;

        if (read_file_at(AT_FDCWD, "/proc/self/status", 1 << 16, &status, NULL) >= 0)
                observe_caps(status, o);
        (void) getresuid(&o->ruid, &o->euid, &o->suid);
        (void) getresgid(&o->rgid, &o->egid, &o->sgid);
        o->n_groups = getgroups((int) ELEMENTSOF(o->groups), o->groups);
        (void) getrlimit(RLIMIT_NOFILE, &o->nofile);
        (void) getrlimit(RLIMIT_MEMLOCK, &o->memlock_after);
        o->umask = umask(0);
}

/* Apply p in a child as the container init would (rlimits, identity, caps) and observe. */
static int run_child(const ProcessSpec *p, bool setgroups_allowed, Observed *ret) {
        Observed o = {};
        int fds[2], status;
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) getrlimit(RLIMIT_MEMLOCK, &o.memlock_before);
                o.r_rlimits = rlimits_apply(p);
                o.r_identity = identity_apply(p, setgroups_allowed);
                o.r_caps = o.r_identity < 0 ? 1 : caps_apply(p);
                observe_self(&o);
                _exit(write(fds[1], &o, sizeof(o)) == sizeof(o) ? 0 : 1);
        }
        (void) close(fds[1]);
        if (read(fds[0], &o, sizeof(o)) != sizeof(o))
                o.r_caps = o.r_identity = o.r_rlimits = -EIO;
        (void) close(fds[0]);
        (void) waitpid(pid, &status, 0);
        *ret = o;
        return 0;
}

static void test_apply_non_root(void) {
        char *two[] = { (char *) "CAP_NET_BIND_SERVICE", (char *) "CAP_KILL", NULL };
        uint32_t gids[] = { 2000, 3000 };
        RlimitSpec nofile = { .resource = RLIMIT_NOFILE, .name = (char *) "RLIMIT_NOFILE", .soft = 512, .hard = 512 };
        ProcessSpec p = {
                .uid = 1000, .gid = 1000, .additional_gids = gids, .n_additional_gids = 2,
                .has_umask = true, .umask = 027,
                .rlimits = &nofile, .n_rlimits = 1,
                .has_capabilities = true,
        };
        Observed o;

        p.capabilities[CAP_SET_BOUNDING] = two;
        p.capabilities[CAP_SET_EFFECTIVE] = two;
        p.capabilities[CAP_SET_PERMITTED] = two;
        CHECK_RET(run_child(&p, true, &o), 0);
        CHECK_RET(o.r_rlimits, 0);
        CHECK_RET(o.r_identity, 0);
        CHECK_RET(o.r_caps, 0);
        CHECK(o.nofile.rlim_cur == 512 && o.nofile.rlim_max == 512);
        /* Only what was asked for is touched (MEMLOCK cannot be raised back on some hosts). */
        CHECK(o.memlock_after.rlim_cur == o.memlock_before.rlim_cur &&
              o.memlock_after.rlim_max == o.memlock_before.rlim_max);
        CHECK(o.ruid == 1000 && o.euid == 1000 && o.suid == 1000);
        CHECK(o.rgid == 1000 && o.egid == 1000 && o.sgid == 1000);
        CHECK(o.n_groups == 2 && o.groups[0] == 2000 && o.groups[1] == 3000);
        CHECK(o.umask == 027);
        CHECK(o.eff == (CAP_KILL_BIT | CAP_NET_BIND_SERVICE_BIT));
        CHECK(o.prm == (CAP_KILL_BIT | CAP_NET_BIND_SERVICE_BIT));
        CHECK(o.bnd == (CAP_KILL_BIT | CAP_NET_BIND_SERVICE_BIT));
        CHECK(o.inh == 0);
        CHECK(o.amb == 0);
}

/* A non-root process keeps capabilities across execve() of a plain binary only via ambient. */
static void test_exec_ambient(void) {
        char *one[] = { (char *) "CAP_NET_BIND_SERVICE", NULL };
        char *argv[] = { (char *) "cat", (char *) "/proc/self/status", NULL };
        char *envp[] = { NULL };
        ProcessSpec p = { .uid = 1000, .gid = 1000, .has_capabilities = true };
        _cleanup_free_ char *status = NULL;
        Observed o = {};
        int fds[2], st = -1;
        pid_t pid;

        for (enum cap_set s = 0; s < _CAP_SET_MAX; s++)
                p.capabilities[s] = one;
        if (pipe2(fds, O_CLOEXEC) < 0)
                abort();
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                if (identity_apply(&p, true) < 0 || caps_apply(&p) < 0 || dup2(fds[1], STDOUT_FILENO) < 0)
                        _exit(2);
                (void) execve("/bin/cat", argv, envp);
                _exit(3);
        }
        (void) close(fds[1]);
        CHECK(read_fd_all(fds[0], 1 << 16, &status, NULL) >= 0);
        (void) close(fds[0]);
        (void) waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        if (status)
                observe_caps(status, &o);
        CHECK(o.eff == CAP_NET_BIND_SERVICE_BIT);
        CHECK(o.prm == CAP_NET_BIND_SERVICE_BIT);
        CHECK(o.inh == CAP_NET_BIND_SERVICE_BIT);
        CHECK(o.amb == CAP_NET_BIND_SERVICE_BIT);
        CHECK(o.bnd == CAP_NET_BIND_SERVICE_BIT);
}

static void test_apply_no_capabilities(void) {
        ProcessSpec p = { .uid = 0, .gid = 0 };
        Observed o;

        CHECK_RET(run_child(&p, true, &o), 0);
        CHECK_RET(o.r_caps, 0);
        CHECK(o.ruid == 0 && o.n_groups == 0);
        CHECK(o.eff == 0 && o.prm == 0 && o.inh == 0 && o.bnd == 0 && o.amb == 0);
}

static void test_apply_errors(void) {
        char *kill_only[] = { (char *) "CAP_KILL", NULL };
        char *chown_only[] = { (char *) "CAP_CHOWN", NULL };
        uint32_t gid = 2000;
        ProcessSpec p = { .has_capabilities = true };
        Observed o;

        /* Ambient needs permitted and inheritable. */
        p.capabilities[CAP_SET_BOUNDING] = kill_only;
        p.capabilities[CAP_SET_PERMITTED] = kill_only;
        p.capabilities[CAP_SET_AMBIENT] = kill_only;
        CHECK_RET(run_child(&p, true, &o), 0);
        CHECK_RET(o.r_caps, -EPERM);

        /* Effective must be a subset of permitted. */
        p.capabilities[CAP_SET_AMBIENT] = NULL;
        p.capabilities[CAP_SET_EFFECTIVE] = chown_only;
        CHECK_RET(run_child(&p, true, &o), 0);
        CHECK_RET(o.r_caps, -EPERM);

        /* setgroups denied: additional gids are an error, none is fine and leaves groups alone. */
        p = (ProcessSpec) { .additional_gids = &gid, .n_additional_gids = 1 };
        CHECK_RET(run_child(&p, false, &o), 0);
        CHECK_RET(o.r_identity, -EPERM);
        p.n_additional_gids = 0;
        CHECK_RET(run_child(&p, false, &o), 0);
        CHECK_RET(o.r_identity, 0);

}

/* Raising a hard limit needs CAP_SYS_RESOURCE: a child without capabilities must get EPERM. */
static void test_rlimit_raise(void) {
        RlimitSpec raise = { .resource = RLIMIT_NOFILE, .name = (char *) "RLIMIT_NOFILE" };
        ProcessSpec p = { .uid = 1000, .gid = 1000 };
        struct rlimit cur;
        pid_t pid;
        int st;

        if (getrlimit(RLIMIT_NOFILE, &cur) < 0 || cur.rlim_max == RLIM_INFINITY) {
                SKIP("RLIMIT_NOFILE hard limit is unlimited");
                return;
        }
        raise.soft = raise.hard = (uint64_t) cur.rlim_max + 1;
        pid = fork();
        if (pid == 0) {
                int r = identity_apply(&p, true);

                if (r >= 0)
                        r = caps_apply(&p);
                if (r >= 0) {
                        p.rlimits = &raise;
                        p.n_rlimits = 1;
                        r = rlimits_apply(&p);
                }
                _exit(r == -EPERM ? 0 : 1);
        }
        CHECK(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The apply tests need root with uid/gid 1000 and gids 2000, 3000 mapped and setgroups allowed
 * (the host, or a user namespace with a subordinate range; not `unshare -r`). */
static bool can_become_1000(void) {
        gid_t groups[] = { 2000, 3000 };
        pid_t pid;
        int st;

        if (geteuid() != 0)
                return false;
        pid = fork();
        if (pid == 0)
                _exit(setgroups(2, groups) == 0 && setresgid(1000, 1000, 1000) == 0 &&
                                      setresuid(1000, 1000, 1000) == 0
                              ? 0
                              : 1);
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

int main(void) {
        test_rlimit_names();
        test_validate();
        if (!can_become_1000()) {
                SKIP("not root with uid 1000 mapped: applying identity and capabilities");
                return tap_done();
        }
        test_apply_non_root();
        test_exec_ambient();
        test_apply_no_capabilities();
        test_apply_errors();
        test_rlimit_raise();
        return tap_done();
}
