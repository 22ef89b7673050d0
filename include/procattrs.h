/* Process attributes beyond identity and capabilities: linux.sysctl, linux.timeOffsets,
 * linux.personality, process.ioPriority, process.scheduler, process.execCPUAffinity and the LSM
 * labels (process.apparmorProfile, process.selinuxLabel, linux.mountLabel). Their syntax is checked
 * by the parser (spec-process.c); each function here logs one line naming the config field on
 * failure and returns a negative errno. */
#pragma once

#include <stdbool.h>

#include "spec.h"

/* Before clone, no side effects. clone_flags: the CLONE_NEW* namespaces the container creates
 * (joined ones are not in it; CLONE_NEWTIME also when the init creates it itself). Checks: sysctl
 * keys are namespaced (runc's list) and their namespace belongs to the container (created, or
 * joined by a path that is not the runtime's own); timeOffsets need a new time namespace; an LSM
 * label needs that LSM enabled. */
int procattrs_validate(const Spec *s, int clone_flags);

/* In the container init, as root of its user namespace, right after the id maps and before
 * anything forks. new_timens: the time namespace was left out of clone() so that its offsets can
 * be written: unshare(CLONE_NEWTIME), write linux.timeOffsets, enter it. Then linux.sysctl, in the
 * namespaces the caller is in. proc_fd: the procfs the runtime opened itself
 * (proc_open_verified()); every write to /proc goes through it. */
int procattrs_setup_namespaced(const Spec *s, int proc_fd, bool new_timens);

/* Init and exec, before identity and capabilities change: ioPriority, scheduler. EPERM (what a
 * rootless container gets for the realtime classes) is reported with the privilege it needs. */
int procattrs_apply_process(const ProcessSpec *p);
/* Init and exec: linux.personality. */
int procattrs_apply_personality(const Spec *s);
/* Init and exec, before identity changes: AppArmor profile / SELinux label for the next execve,
 * written through proc_fd. */
int procattrs_apply_labels(const ProcessSpec *p, int proc_fd);
/* exec: CPU affinity from a list validated by the parser ("0-3,7"); NULL: leave it. */
int procattrs_apply_cpu_affinity(const char *cpus);

bool procattrs_apparmor_enabled(void);
bool procattrs_selinux_enabled(void);
