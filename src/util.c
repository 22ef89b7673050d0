/* Non-logging helpers. Every function returns 0 (or a count/fd) or -errno. */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <time.h>

#include "util.h"

size_t strv_length(char *const *l) {
        size_t n = 0;
        if (l)
                while (l[n])
                        n++;
        return n;
}

char **strv_free(char **l) {
        if (l)
                for (char **p = l; *p; p++)
                        free(*p);
        free(l);
        return NULL;
}

int strv_push(char ***l, char *value) {
        size_t n = strv_length(*l);
        char **c = realloc(*l, (n + 2) * sizeof(char *));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        char *v = strdup(value);
        if (!v)
                return -ENOMEM;
        return strv_push(l, v);
}

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i])))
                        return strv_free(c);
        return c;
}

const char *strv_env_get(char *const *env, const char *name) {
        size_t len = strlen(name);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i] + len + 1;
        return NULL;
}

int safe_atou64(const char *s, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (!s || !*s || isspace((unsigned char) *s) || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atoi64(const char *s, int64_t *ret) {
        char *end;
        long long v;

        if (!s || !*s || isspace((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno)
                return -errno;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atou32(const char *s, uint32_t *ret) {
        uint64_t v;
        int r = safe_atou64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int safe_atoi(const char *s, int *ret) {
        int64_t v;
        int r = safe_atoi64(s, &v);
        if (r < 0)
                return r;
        if (v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

char *strjoin_path(const char *a, const char *b) {
        char *p;
        if (asprintf(&p, "%s/%s", a, b) < 0)
                return NULL;
        return p;
}

bool string_has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

int read_fd_all(int fd, size_t max, char **ret, size_t *ret_size) {
        size_t size = 0, alloc = 4096;
        _cleanup_free_ char *buf = malloc(alloc);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n;
                if (size + 1 >= alloc) {
                        char *nb;
                        if (alloc > max + 1)
                                return -EFBIG;
                        alloc *= 2;
                        nb = realloc(buf, alloc);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
                n = read(fd, buf + size, alloc - size - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        buf[size] = '\0';
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd_all(fd, max, ret, ret_size);
}

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int write_file_at(int dirfd, const char *path, const char *data, size_t len, int flags, mode_t mode) {
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY | flags, mode);
        ssize_t n;

        if (fd < 0)
                return -errno;
        /* one write() call: /proc files such as uid_map require it */
        n = write(fd, data, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

int write_file_atomic_at(int dirfd, const char *name, const char *data, size_t len, mode_t mode) {
        char tmp[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        int r;

        snprintf(tmp, sizeof tmp, ".%s.tmp.%d", name, (int) getpid());
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        /* no fsync(): state lives in a runtime directory (tmpfs) and means nothing after a crash
         * of the machine; rename() alone makes readers see the old or the new file, never half */
        r = write_all(fd, data, len);
        if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dirfd, tmp, 0);
        return r;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int rm_rf_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0) {
                if (errno == ENOTDIR || errno == ELOOP)
                        return unlinkat(dir_fd, name, 0) < 0 ? -errno : 0;
                return -errno;
        }
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* owned by d now */
        while ((de = readdir(d))) {
                int k;
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (de->d_type == DT_DIR)
                        k = rm_rf_at(dirfd(d), de->d_name);
                else
                        k = unlinkat(dirfd(d), de->d_name, 0) < 0 ? -errno : 0;
                if (k < 0 && k != -ENOENT && r == 0)
                        r = k;
        }
        closedir(d);
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

int fd_set_cloexec(int fd, bool cloexec) {
        int flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        flags = cloexec ? (flags | FD_CLOEXEC) : (flags & ~FD_CLOEXEC);
        return fcntl(fd, F_SETFD, flags) < 0 ? -errno : 0;
}

int fd_move_above(int fd, int min) {
        int n;
        if (fd >= min)
                return fd;
        n = fcntl(fd, F_DUPFD_CLOEXEC, min);
        if (n < 0)
                return -errno;
        (void) close(fd);
        return n;
}

/* State letter and start time (fields 3 and 22) of /proc/PID/stat, in one read. The comm field
 * may contain spaces and parentheses, so parsing starts after the last ')'. */
int proc_stat_read(pid_t pid, char *ret_state, uint64_t *ret_start) {
        char path[64], buf[1024], *p;
        unsigned long long start;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        char state;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';

        p = strrchr(buf, ')');
        /* After ')': state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
         * utime stime cutime cstime priority nice num_threads itrealvalue starttime(22). */
        if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                         &state, &start) != 2)
                return -EIO;
        *ret_state = state;
        *ret_start = start;
        return 0;
}

int proc_start_time(pid_t pid, uint64_t *ret) {
        char state;

        return proc_stat_read(pid, &state, ret);
}

bool proc_alive(pid_t pid, uint64_t start_time) {
        uint64_t t;
        char state;

        /* a recycled pid has a different start time; a zombie has finished running */
        if (pid <= 0 || proc_stat_read(pid, &state, &t) < 0 || t != start_time)
                return false;
        return state != 'Z' && state != 'X' && state != 'x';
}

int proc_open_verified(int *ret_fd) {
        _cleanup_close_ int fd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
        struct statfs sfs;
        struct stat st;

        if (fd < 0)
                return -errno;
        if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
                return -errno;
        /* the root of a procfs instance has inode 1 (PROC_ROOT_INO) */
        if (sfs.f_type != PROC_SUPER_MAGIC || st.st_ino != 1)
                return -EXDEV;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int format_rfc3339(char *buf, size_t size) {
        struct timespec ts;
        struct tm tm;
        char base[32];

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        if (!gmtime_r(&ts.tv_sec, &tm))
                return -EINVAL;
        strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%09ldZ", base, ts.tv_nsec);
        return 0;
}

int find_in_path_at(int root_fd, const char *name, const char *path_env, char **ret) {
        _cleanup_free_ char *copy = NULL;
        char *saveptr = NULL;

        if (strchr(name, '/')) {
                struct stat st;
                char *c;

                if (fstatat(root_fd, name[0] == '/' && root_fd != AT_FDCWD ? name + 1 : name, &st, 0) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode))
                        return -EISDIR;
                if (!(st.st_mode & 0111))
                        return -EACCES;
                c = strdup(name);
                if (!c)
                        return -ENOMEM;
                *ret = c;
                return 0;
        }
        copy = strdup(path_env ? path_env : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        if (!copy)
                return -ENOMEM;
        for (char *dir = strtok_r(copy, ":", &saveptr); dir; dir = strtok_r(NULL, ":", &saveptr)) {
                _cleanup_free_ char *full = NULL;
                struct stat st;

                if (*dir != '/')
                        continue;
                if (asprintf(&full, "%s/%s", dir, name) < 0)
                        return -ENOMEM;
                /* the caller is already inside the container root (after pivot_root) or passes
                 * a root fd; a relative lookup keeps it there */
                if (fstatat(root_fd, full[0] == '/' && root_fd != AT_FDCWD ? full + 1 : full, &st, 0) < 0)
                        continue;
                if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
                        continue;
                *ret = TAKE_PTR(full);
                return 0;
        }
        return -ENOENT;
}

void json_fputs_escaped(FILE *f, const char *s) {
        for (; *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch < 0x20)
                        fprintf(f, "\\u%04x", ch);
                else
                        fputc(ch, f);
        }
}

/* PROC_USER_INIT_INO from include/linux/proc_ns.h: fixed inode of the initial user namespace. */
#define PROC_USER_INIT_INO 0xEFFFFFFDU

int userns_is_initial(void) {
        struct stat st;

        if (stat("/proc/self/ns/user", &st) < 0)
                return -errno;
        return st.st_ino == PROC_USER_INIT_INO;
}
