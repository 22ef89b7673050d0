/* The end of a container process's setup, common to the init and to `exec`: see process-setup.h. */
#include <fcntl.h>
#include <linux/keyctl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"
#include "log.h"
#include "process-setup.h"
#include "procattrs.h"
#include "util.h"

#ifndef CLOSE_RANGE_CLOEXEC
#        define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Through the host procfs the runtime opened: "self" there is this process, whatever the
 * container mounted on its own /proc (the same for the labels below). */
int process_setup_oom_score_adj(const ProcessSpec *p, int proc_fd) {
        char buf[16];
        int r;

        if (!p->has_oom_score_adj)
                return 0;
        snprintf(buf, sizeof buf, "%d", p->oom_score_adj);
        r = write_file_at(proc_fd, "self/oom_score_adj", buf, strlen(buf), 0, 0);
        if (r < 0)
                return log_errno(LOG_ERR, r, "process.oomScoreAdj: writing %s: %m", buf);
        return 0;
}

static int install_seccomp(const ProcessSetup *ps) {
        if (!ps->seccomp)
                return 0;
        return seccomp_install(ps->seccomp, ps->seccomp_listener_fd, ps->seccomp_listener_msg);
}

int process_setup_seal_fds(unsigned preserve_fds) {
        unsigned first = 3 + preserve_fds;

        for (unsigned fd = 3; fd < first; fd++)
                if (fd_set_cloexec((int) fd, false) < 0 && errno != EBADF)
                        return log_errno(LOG_ERR, -errno, "--preserve-fds: fd %u: %m", fd);
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return log_errno(LOG_ERR, -errno, "close_range: %m");
        return 0;
}

void process_setup_session_keyring(void) {
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0)
                log_debug("new session keyring: %m, ignoring");
}

_noreturn_ void process_setup_child_exit(int r) {
        _exit(r < 0 ? 1 : 0);
}

int process_setup_chdir(const char *cwd, const char *field) {
        char buf[PATH_MAX];
        long n;

        if (chdir(cwd) < 0)
                return log_errno(LOG_ERR, -errno, "%s: chdir to '%s': %m", field, cwd);
        /* the raw syscall: glibc's getcwd() hides the "(unreachable)" prefix behind ENOENT */
        n = syscall(SYS_getcwd, buf, sizeof buf);
        if (n < 0 || buf[0] != '/')
                return log_errno(LOG_ERR, -EPERM, "%s: '%s' is outside the container", field, cwd);
        return 0;
}

int process_setup_proc(const ProcessSetup *ps) {
        return procattrs_apply_labels(ps->process, ps->proc_fd);
}

static int apply_attributes(const ProcessSetup *ps) {
        const ProcessSpec *p = ps->process;
        int r;

        r = procattrs_apply_process(p);
        if (r >= 0)
                r = procattrs_apply_personality(ps->spec);
        if (r < 0)
                return r;
        if (!p->has_umask)
                umask(0022); /* runc's default when process.user.umask is absent */
        return rlimits_apply(p);
}

int process_setup_apply(const ProcessSetup *ps) {
        const ProcessSpec *p = ps->process;
        int r;

        r = apply_attributes(ps);
        if (r < 0)
                return r;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_errno(LOG_ERR, -errno, "process.noNewPrivileges: %m");
        if (!p->no_new_privileges) {
                r = install_seccomp(ps);
                if (r < 0)
                        return r;
        }
        r = identity_apply(p, ps->setgroups_allowed);
        if (r < 0)
                return r;
        r = caps_apply(p);
        if (r < 0)
                return r;
        return process_setup_seal_fds(ps->preserve_fds);
}

int process_setup_seccomp_late(const ProcessSetup *ps) {
        return ps->process->no_new_privileges ? install_seccomp(ps) : 0;
}

void process_setup_exec(const char *path, const ProcessSpec *p) {
        int e;

        execve(path, p->args, p->env ? p->env : (char *[]){ NULL });
        e = errno;
        log_errno(LOG_ERR, -e, "exec '%s': %m", path);
        _exit(e == ENOENT ? 127 : 126);
}
