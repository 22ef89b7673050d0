/* CPU lists as written in cpuset.cpus and process.execCPUAffinity: "0-3,7". One parser for the
 * config.json check (spec-process.c, where it lives) and for sched_setaffinity() (procattrs.c). */
#pragma once

#include <sched.h>
#include <stddef.h>

/* The kernel's NR_CPUS limit: a CPU number at or above it cannot exist. */
#define CPU_LIST_MAX 8192

/* Elements "N" or "N-M" (N <= M) separated by commas; blanks around an element and empty elements
 * are allowed (as runc reads them), at least one CPU is required. Returns the number of CPUs in
 * the list, -EINVAL for bad syntax, -ERANGE for a CPU >= CPU_LIST_MAX. ret_set (may be NULL): a
 * CPU_ALLOC()ed set of *ret_size bytes, to CPU_FREE(). */
int cpu_list_parse(const char *list, cpu_set_t **ret_set, size_t *ret_size);
