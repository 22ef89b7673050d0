/* The last steps of a container process before execve(), shared by the container init
 * (process.c) and `urun exec` (exec.c): process attributes, limits, noNewPrivileges, seccomp,
 * identity, capabilities, fd sealing and the execve itself. They run in the forked child, inside
 * the container (namespaces joined or created, root directory set); each logs one line naming the
 * config field on failure (forwarded to the parent by log_forward_to()). */
#pragma once

#include <stdbool.h>

#include "macro.h"

#include "seccomp-filter.h"
#include "spec.h"

typedef struct {
        const Spec *spec;                 /* linux.personality */
        const ProcessSpec *process;       /* the process to become */
        int proc_fd;                      /* the host procfs root (proc_open_verified()) */
        const SeccompFilter *seccomp;     /* compiled before fork; NULL: no filter */
        int seccomp_listener_fd;          /* linux.seccomp.listenerPath connection, or -EBADF */
        const char *seccomp_listener_msg; /* with a listener: the message, built beforehand */
        bool setgroups_allowed;           /* /proc/PID/setgroups of our user namespace says "allow" */
        unsigned preserve_fds;            /* fds 3 .. 3+N-1 reach the program */
} ProcessSetup;

/* A fresh session keyring, so keys of the caller's session are not reachable from the container
 * (as runc, unless --no-new-keyring). Keyrings may be unavailable (ENOSYS) or blocked by the
 * caller's seccomp profile (EPERM): not fatal. */
void process_setup_session_keyring(void);

/* The end of a container-side child whose error was already logged: exit status 1 on r < 0. */
_noreturn_ void process_setup_child_exit(int r);

/* chdir to the process's cwd (field names it in messages: "process.cwd"), refusing a directory
 * outside our root: a cwd reached through /proc/self/fd/N of an fd that was not meant for the
 * container (CVE-2024-21626) is reported by the kernel as "(unreachable)/...". */
int process_setup_chdir(const char *cwd, const char *field);

/* process.oomScoreAdj, through proc_fd. Call it while the process is still dumpable: the /proc
 * files of a non-dumpable process belong to root of the user namespace its mm was created in (the
 * host's, before execve), which a rootless runtime cannot write. Inherited by children. */
int process_setup_oom_score_adj(const ProcessSpec *p, int proc_fd);

/* The LSM labels for the next execve, written through ps->proc_fd. Before the other steps, so
 * that the caller can close the host procfs fd before it resolves any path inside the container
 * (a symlink there to /proc/self/fd/N would lead back to the host). */
int process_setup_proc(const ProcessSetup *ps);

/* Then, in order: ioPriority/scheduler, personality, umask (runc's 0022 default), rlimits,
 * noNewPrivileges, seccomp when noNewPrivileges is false (loading a filter without no_new_privs
 * needs CAP_SYS_ADMIN, so before the identity changes), user and groups, capabilities, and fd
 * sealing. Call it after args[0] and cwd are resolved. ps->proc_fd is not used. */
int process_setup_apply(const ProcessSetup *ps);

/* With noNewPrivileges: load the seccomp filter. Call it as the very last step before
 * process_setup_exec(), so that no syscall of the runtime runs under the container's filter. */
int process_setup_seccomp_late(const ProcessSetup *ps);

/* Only fds 0-2 and 3 .. 3+preserve_fds-1 may reach the program (runc CVE-2024-21626): the range
 * loses O_CLOEXEC, everything above gets it. The runtime's own fds must sit above the range. */
int process_setup_seal_fds(unsigned preserve_fds);

/* execve(path, p->args, p->env). On failure: logs "exec 'PATH': <error>" and exits 127 when the
 * file does not exist, 126 otherwise (what a shell reports). */
_noreturn_ void process_setup_exec(const char *path, const ProcessSpec *p);
