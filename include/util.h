/* Non-logging helpers: strings, string vectors, numbers, files relative to a directory fd.
 * Every function returns 0 (or a count/fd) on success and -errno on failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "macro.h"

/* NULL-terminated string vectors. */
size_t strv_length(char *const *l);
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)
int strv_push(char ***l, char *value);          /* takes ownership of value, even on failure */
int strv_extend(char ***l, const char *value);  /* copies value */
char **strv_copy(char *const *l);
const char *strv_env_get(char *const *env, const char *name);   /* "NAME=value" lookup */

/* Numbers: the whole string must be a number in range. */
int safe_atou64(const char *s, uint64_t *ret);
int safe_atoi64(const char *s, int64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);
int safe_atoi(const char *s, int *ret);

char *strjoin_path(const char *a, const char *b);  /* a + "/" + b, NULL on OOM */
bool string_has_prefix(const char *s, const char *prefix);

/* Files. read_file_at reads at most max bytes (-EFBIG beyond) and NUL-terminates. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);
int read_fd_all(int fd, size_t max, char **ret, size_t *ret_size);
int write_file_at(int dirfd, const char *path, const char *data, size_t len, int flags, mode_t mode);
/* Write to a temporary file in dirfd and rename it over name (atomic for readers, no fsync). */
int write_file_atomic_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode);
int write_all(int fd, const void *buf, size_t len);
int mkdir_p(const char *path, mode_t mode);
int rm_rf_at(int dirfd, const char *name);     /* removes a directory tree, no symlink following */

int fd_set_cloexec(int fd, bool cloexec);
int fd_move_above(int fd, int min);            /* returns a CLOEXEC copy >= min, closes fd */

/* State letter and start time (fields 3 and 22) of /proc/PID/stat. */
int proc_stat_read(pid_t pid, char *ret_state, uint64_t *ret_start);
/* Process identity: start time (field 22 of /proc/PID/stat), 0 when the process is gone. */
int proc_start_time(pid_t pid, uint64_t *ret);
/* Whether pid is alive and its start time equals start_time (pid reuse check). */
bool proc_alive(pid_t pid, uint64_t start_time);

/* An O_PATH fd of the root of the procfs at /proc, checked to be one (not something a container
 * could have mounted there): every write the runtime makes to /proc goes through it. */
int proc_open_verified(int *ret_fd);
/* Whether we run in the initial user namespace, by the fixed inode of /proc/self/ns/user:
 * 1 yes, 0 no (a nested one), -errno when it cannot be told (no /proc). Callers pick the safe
 * answer for the unknown case. */
int userns_is_initial(void);

/* Time as RFC 3339 with nanoseconds, UTC (for state and logs). */
int format_rfc3339(char *buf, size_t size);

/* Resolve a program name against a PATH string inside root_fd (for args[0]); result is a path
 * relative to the container root, e.g. "/bin/sh". */
int find_in_path_at(int root_fd, const char *name, const char *path_env, char **ret);

/* The body of a JSON string for s (no quotes): quote, backslash and control characters escaped. */
void json_fputs_escaped(FILE *f, const char *s);
