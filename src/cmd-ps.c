/* `urun ps [--format|-f table|json] ID [PS_ARGS...]`: the container's processes, as pids of the
 * caller's pid namespace (runc's verb; containerd's shim calls `ps --format json ID`).
 *   json   the pid array, "[1234,1240]" ("[]" when there are none)
 *   table  ps(1) with PS_ARGS (default -ef): its header, then the lines whose PID column is one
 *          of the container's pids, as runc prints them (json ignores PS_ARGS, as runc does).
 * The pids are those of the container's cgroup. Without a cgroup ("cgroup": "none (...)" in
 * `state`) they are the processes in the container's pid namespace, or the init alone when the
 * container shares the caller's pid namespace: its children cannot be told from the host's then. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cmd-options.h"
#include "lifecycle-cgroup.h"
#include "log.h"
#include "util.h"

#define PS_OUTPUT_MAX (64u << 20)

static int print_json(const pid_t *pids, size_t n) {
        putchar('[');
        for (size_t i = 0; i < n; i++)
                printf("%s%d", i ? "," : "", (int) pids[i]);
        puts("]");
        return 0;
}

/* "ps -o pid,comm" for messages */
static const char *ps_command(char **ps_args, char *buf, size_t size) {
        size_t n = (size_t) snprintf(buf, size, "ps%s", ps_args[0] ? "" : " -ef");

        for (size_t i = 0; ps_args[i] && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, " %s", ps_args[i]);
        return buf;
}

/* ps(1) is looked up in PATH, as runc does: it is the caller's own tool, run with the caller's
 * privileges, outside the container. stdout and stderr both go to *ret (runc's CombinedOutput). */
static int run_ps(char **ps_args, char **ret) {
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_ int rd = -EBADF;
        char cmd[256];
        int p[2], status, r;
        pid_t pid;

        r = strv_extend(&argv, "ps");
        for (size_t i = 0; r >= 0 && ps_args[i]; i++)
                r = strv_extend(&argv, ps_args[i]);
        if (r >= 0 && !ps_args[0])
                r = strv_extend(&argv, "-ef");
        if (r < 0)
                return log_errno(LOG_ERR, r, "ps: %m");
        if (pipe2(p, O_CLOEXEC) < 0)
                return log_errno(LOG_ERR, -errno, "ps: pipe: %m");
        rd = p[0];
        pid = fork();
        if (pid < 0) {
                safe_close(p[1]);
                return log_errno(LOG_ERR, -errno, "ps: fork: %m");
        }
        if (pid == 0) {
                if (dup2(p[1], STDOUT_FILENO) < 0 || dup2(p[1], STDERR_FILENO) < 0)
                        _exit(127);
                execvp("ps", argv);
                dprintf(STDERR_FILENO, "cannot run ps: %m\n");
                _exit(127);
        }
        safe_close(p[1]);
        r = read_fd_all(rd, PS_OUTPUT_MAX, ret, NULL);
        rd = safe_close(rd); /* past the limit: ps gets EPIPE instead of blocking our waitpid */
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_errno(LOG_ERR, -errno, "ps: waitpid: %m");
        if (r < 0)
                return log_errno(LOG_ERR, r, "ps: reading its output: %m");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                (*ret)[strcspn(*ret, "\n")] = '\0';
                return log_errno(LOG_ERR, -EIO, "ps: '%s' failed (status %d): %s", ps_command(ps_args, cmd, sizeof cmd),
                                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), *ret);
        }
        return 0;
}

/* Field number i (0-based, blank-separated) of line into buf; false if the line is shorter. */
static bool line_field(const char *line, size_t i, char *buf, size_t size) {
        const char *s = line;
        size_t len;

        for (;;) {
                s += strspn(s, " \t");
                len = strcspn(s, " \t");
                if (len == 0)
                        return false;
                if (i-- == 0)
                        break;
                s += len;
        }
        snprintf(buf, size, "%.*s", (int) len, s);
        return true;
}

static bool has_pid(const pid_t *pids, size_t n, int pid) {
        for (size_t i = 0; i < n; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

static int print_table(const pid_t *pids, size_t n, char **ps_args) {
        _cleanup_free_ char *out = NULL;
        char field[64], cmd[256];
        size_t col = 0;
        char *line, *save = NULL;
        int r;

        r = run_ps(ps_args, &out);
        if (r < 0)
                return r;
        line = strtok_r(out, "\n", &save);
        while (line && line_field(line, col, field, sizeof field) && !streq(field, "PID"))
                col++;
        if (!line || !line_field(line, col, field, sizeof field))
                return log_errno(LOG_ERR, -EINVAL, "ps: no PID column in the output of '%s'",
                                 ps_command(ps_args, cmd, sizeof cmd));
        puts(line);
        while ((line = strtok_r(NULL, "\n", &save))) {
                int pid;
                if (!line_field(line, col, field, sizeof field) || safe_atoi(field, &pid) < 0)
                        return log_errno(LOG_ERR, -EINVAL, "ps: cannot read a pid in column %zu of: %s", col + 1, line);
                if (has_pid(pids, n, pid))
                        puts(line);
        }
        return 0;
}

int cmd_ps(const GlobalOptions *g, int argc, char **argv) {
        static const struct option opts[] = {
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static const char short_opts[] = "+f:h";
        _cleanup_free_ pid_t *pids = NULL;
        const char *format = "table";
        size_t n = 0;
        int c, r;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, short_opts, opts, NULL)) >= 0) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'h':
                        printf("Usage: urun ps [--format|-f table|json] ID [PS_ARGS...]\n"
                               "Show the processes of a container's cgroup (table: ps -ef, or PS_ARGS, filtered).\n"
                               "Without a cgroup: the processes of its pid namespace, or its init alone when it\n"
                               "shares the caller's pid namespace.\n");
                        return 0;
                default:
                        (void) cmd_bad_option("ps", short_opts, argv);
                        return 1;
                }
        }
        if (!streq(format, "table") && !streq(format, "json")) {
                log_error("ps: --format: expected table or json, got '%s'", format);
                return 1;
        }
        if (optind >= argc) {
                log_error("ps: usage: urun ps [--format|-f table|json] ID [PS_ARGS...]");
                return 1;
        }
        r = container_pids(g, argv[optind], &pids, &n);
        if (r >= 0)
                r = streq(format, "json") ? print_json(pids, n) : print_table(pids, n, argv + optind + 1);
        if (r >= 0 && fflush(stdout) != 0)
                r = log_errno(LOG_ERR, -errno, "ps: writing to standard output: %m");
        return r < 0 ? 1 : 0;
}
