/* linux.seccomp: build the filter with libseccomp (the only user of libseccomp) and load it.
 *
 * (Not "seccomp.h": that name is libseccomp's header, which -Iinclude would shadow.)
 *
 * Building is the expensive part and runs in the runtime before clone (seccomp_prepare); the
 * container child then only makes one seccomp() call (seccomp_install), as late as possible:
 *   - noNewPrivileges true: right before execve, after every other runtime syscall;
 *   - noNewPrivileges false: before identity/capabilities are dropped, because loading a filter
 *     without no_new_privs needs CAP_SYS_ADMIN (in the container's user namespace).
 * With SCMP_ACT_NOTIFY rules the kernel hands back a listener fd, which seccomp_install sends to
 * the agent at linux.seccomp.listenerPath over a socket connected before pivot_root. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "spec.h"

typedef struct SeccompFilter SeccompFilter;

/* Check what the parser could not: architectures known to this libseccomp, actions known to the
 * kernel. Logs one line naming the field ("linux.seccomp.architectures[0]: ...") and returns
 * -EINVAL (or -EOPNOTSUPP). */
int seccomp_validate(const SeccompSpec *s);

/* Validate, build and compile the filter to BPF, and probe the kernel for the requested flags
 * (an unsupported one is dropped with a debug note). Unknown syscall names are skipped with a
 * debug note, as runc does. cache_dir (may be NULL): a private directory where compiled filters
 * are kept, keyed by their content; created if missing, failures to use it are not fatal.
 * Logs one line on failure. */
int seccomp_prepare(const SeccompSpec *s, const char *cache_dir, SeccompFilter **ret);
SeccompFilter *seccomp_filter_free(SeccompFilter *f);
static inline void seccomp_filter_freep(SeccompFilter **f) {
        seccomp_filter_free(*f);
}
#define _cleanup_seccomp_filter_free_ _cleanup_(seccomp_filter_freep)

/* Whether the filter has SCMP_ACT_NOTIFY rules, so the agent must be told about it. */
bool seccomp_needs_listener(const SeccompSpec *s);

/* Connect to linux.seccomp.listenerPath (a unix stream socket). Call where the host path is still
 * reachable (before clone, or before pivot_root). *ret_fd is -EBADF when no listener is needed.
 * Logs on failure. */
int seccomp_listener_connect(const SeccompSpec *s, int *ret_fd);

/* The message for the agent (runtime spec, "ContainerProcessState"):
 *   {"ociVersion":..., "fds":["seccompFd"], "pid":pid, "metadata":listenerMetadata, "state":state_json}
 * state_json is the container's state (status "creating"). Build it before seccomp_install. */
int seccomp_listener_message(const SeccompSpec *s, pid_t pid, const char *state_json, char **ret);

/* Load the filter into the calling thread: one seccomp() call, retried without an optional flag
 * the kernel rejects. With a listener, sends it with listener_msg over listener_sock (SCM_RIGHTS)
 * and closes it, so no notify fd reaches the container. Logs on failure. */
int seccomp_install(const SeccompFilter *f, int listener_sock, const char *listener_msg);

/* Mapping to libseccomp values (exported for tests). */
int seccomp_action_value(enum seccomp_action a, bool has_errno_ret, uint32_t errno_ret, uint32_t *ret);
int seccomp_op_value(enum seccomp_op op, int *ret);              /* enum scmp_compare */
int seccomp_arch_value(enum seccomp_arch a, uint32_t *ret);      /* SCMP_ARCH_*; -EOPNOTSUPP if unknown here */

/* For `urun features`: the i-th linux.seccomp.flags name ("SECCOMP_FILTER_FLAG_LOG"), NULL past the
 * last. ret_supported (may be NULL): whether the running kernel accepts it (probed, loads nothing). */
const char *seccomp_known_flag(size_t i, bool *ret_supported);
/* The libseccomp the runtime runs with (not the one it was built against). */
void seccomp_library_version(unsigned *ret_major, unsigned *ret_minor, unsigned *ret_micro);
