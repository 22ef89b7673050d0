/* Protecting the host from the runtime's own process: no setuid, no writable /proc/self/exe. */
#pragma once

/* Refuse to run setuid or setgid (real and effective ids differ, or the kernel set AT_SECURE, as
 * for file capabilities): logs one line, returns -EPERM. Call first thing in main(). */
int selfprotect_refuse_setuid(void);

/* For verbs that put processes into containers (create, run, exec): make sure the binary cannot
 * be written through /proc/PID/exe or an exec of /proc/self/exe from inside a container
 * (CVE-2019-5736). As host root: re-exec from a read-only detached bind mount of the binary (no
 * copy; a sealed memfd copy without the mount API). Otherwise only when the caller could write the
 * binary: re-exec from a sealed memfd copy. argv (argc entries, NULL-terminated) and the
 * environment are passed on unchanged. Returns 0 when nothing needs doing (or already protected),
 * does not return when it re-execs, <0 (logged) on failure. */
int selfprotect_exe(int argc, char **argv);
