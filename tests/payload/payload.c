/* The test payload: a tiny static program that integration tests run inside containers, so that no
 * distro image is needed. One subcommand per observable property; exit 127 on an unknown one.
 * Output is line-oriented and stable so that shell tests can grep it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const struct {
        const char *name;
        int sig;
} signals[] = {
        { "SIGHUP", SIGHUP },   { "SIGINT", SIGINT },   { "SIGQUIT", SIGQUIT }, { "SIGUSR1", SIGUSR1 },
        { "SIGUSR2", SIGUSR2 }, { "SIGTERM", SIGTERM }, { "SIGWINCH", SIGWINCH }, { "SIGCONT", SIGCONT },
        { "SIGALRM", SIGALRM },
};

static const struct {
        const char *name;
        int resource;
} rlimits[] = {
        { "CORE", RLIMIT_CORE },     { "NOFILE", RLIMIT_NOFILE },   { "NPROC", RLIMIT_NPROC },
        { "MEMLOCK", RLIMIT_MEMLOCK }, { "STACK", RLIMIT_STACK },   { "FSIZE", RLIMIT_FSIZE },
        { "AS", RLIMIT_AS },         { "CPU", RLIMIT_CPU },         { "DATA", RLIMIT_DATA },
        { "NICE", RLIMIT_NICE },     { "MSGQUEUE", RLIMIT_MSGQUEUE }, { "RTPRIO", RLIMIT_RTPRIO },
        { "SIGPENDING", RLIMIT_SIGPENDING },
};

static int parse_signal(const char *s) {
        const char *bare = strncmp(s, "SIG", 3) == 0 ? s + 3 : s;

        for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
                if (strcmp(signals[i].name + 3, bare) == 0)
                        return signals[i].sig;
        return -1;
}

static const char *signal_name(int sig) {
        for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
                if (signals[i].sig == sig)
                        return signals[i].name;
        return "SIG?";
}

static int fail(const char *what, const char *arg) {
        fprintf(stderr, "payload: %s %s: %s\n", what, arg ? arg : "", strerror(errno));
        return 1;
}

static void print_limit(rlim_t v) {
        if (v == RLIM_INFINITY)
                printf("unlimited");
        else
                printf("%llu", (unsigned long long) v);
}

static int cmd_id(void) {
        gid_t groups[NGROUPS_MAX];
        int n = getgroups(NGROUPS_MAX, groups);

        if (n < 0)
                return fail("getgroups", NULL);
        printf("uid=%u gid=%u groups=", (unsigned) getuid(), (unsigned) getgid());
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", (unsigned) groups[i]);
        printf("\n");
        return 0;
}

static int cmd_cat_filtered(const char *path, const char *prefix) {
        char line[4096];
        FILE *f = fopen(path, "re");

        if (!f)
                return fail("open", path);
        while (fgets(line, sizeof(line), f))
                if (!prefix || strncmp(line, prefix, strlen(prefix)) == 0)
                        fputs(line, stdout);
        if (ferror(f)) {
                int saved = errno;
                fclose(f);
                errno = saved;
                return fail("read", path);
        }
        fclose(f);
        return 0;
}

static int cmd_caps(void) {
        return cmd_cat_filtered("/proc/self/status", "Cap");
}

static int cmd_env(void) {
        for (char **e = environ; *e; e++)
                printf("%s\n", *e);
        return 0;
}

static int cmd_cwd(void) {
        char buf[PATH_MAX];

        if (!getcwd(buf, sizeof(buf)))
                return fail("getcwd", NULL);
        printf("%s\n", buf);
        return 0;
}

static int cmd_isatty(void) {
        printf("stdin=%d stdout=%d\n", isatty(0), isatty(1));
        return 0;
}

static int cmd_write(const char *path, const char *text) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t len = strlen(text);

        if (fd < 0)
                return fail("open", path);
        if (write(fd, text, len) != (ssize_t) len || write(fd, "\n", 1) != 1) {
                close(fd);
                return fail("write", path);
        }
        if (close(fd) < 0)
                return fail("close", path);
        return 0;
}

/* Block the signals first, then announce "ready" on stdout: a test waits for that line, sends a
 * signal, and expects "got SIGNAME". */
static int cmd_sigwait(int argc, char **argv) {
        sigset_t set;
        int sig;

        sigemptyset(&set);
        for (int i = 0; i < argc; i++) {
                int s = parse_signal(argv[i]);
                if (s < 0) {
                        fprintf(stderr, "payload: unknown signal %s\n", argv[i]);
                        return 2;
                }
                /* An ignored signal is discarded even while blocked (bash ignores SIGINT and
                 * SIGQUIT for background jobs, and that is inherited): wait for it for real. */
                signal(s, SIG_DFL);
                sigaddset(&set, s);
        }
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return fail("sigprocmask", NULL);
        printf("ready\n");
        fflush(stdout);
        sig = sigwaitinfo(&set, NULL);
        if (sig < 0)
                return fail("sigwaitinfo", NULL);
        printf("got %s\n", signal_name(sig));
        return 0;
}

static int cmd_pause(void) {
        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause();
        return 0;
}

/* A process tree: the child pauses too, so `kill --all` and `delete --force` must get both. */
static int cmd_fork_pause(void) {
        pid_t pid = fork();

        if (pid < 0)
                return fail("fork", NULL);
        if (pid == 0) {
                for (;;)
                        pause();
                return 0;
        }
        printf("ready child=%d\n", (int) pid);
        fflush(stdout);
        for (;;)
                pause();
        return 0;
}

static int cmd_rlimit(const char *name) {
        struct rlimit rl;
        const char *bare = strncmp(name, "RLIMIT_", 7) == 0 ? name + 7 : name;

        for (size_t i = 0; i < sizeof(rlimits) / sizeof(rlimits[0]); i++) {
                if (strcmp(rlimits[i].name, bare) != 0)
                        continue;
                if (getrlimit(rlimits[i].resource, &rl) < 0)
                        return fail("getrlimit", name);
                print_limit(rl.rlim_cur);
                printf(" ");
                print_limit(rl.rlim_max);
                printf("\n");
                return 0;
        }
        fprintf(stderr, "payload: unknown rlimit %s\n", name);
        return 2;
}

static int cmd_hostname(void) {
        char buf[HOST_NAME_MAX + 1] = "";

        if (gethostname(buf, sizeof(buf) - 1) < 0)
                return fail("gethostname", NULL);
        printf("%s\n", buf);
        return 0;
}

static const char *file_type(mode_t m) {
        switch (m & S_IFMT) {
        case S_IFREG: return "file";
        case S_IFDIR: return "dir";
        case S_IFLNK: return "symlink";
        case S_IFCHR: return "char";
        case S_IFBLK: return "block";
        case S_IFIFO: return "fifo";
        case S_IFSOCK: return "socket";
        default: return "unknown";
        }
}

static int cmd_stat(const char *path) {
        struct stat st;

        if (lstat(path, &st) < 0)
                return fail("stat", path);
        printf("mode=%04o uid=%u gid=%u type=%s\n", (unsigned) (st.st_mode & 07777), (unsigned) st.st_uid,
               (unsigned) st.st_gid, file_type(st.st_mode));
        return 0;
}

static int cmd_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int self;

        if (!d)
                return fail("opendir", "/proc/self/fd");
        self = dirfd(d);
        while ((de = readdir(d))) {
                char *end;
                long fd = strtol(de->d_name, &end, 10);
                if (de->d_name[0] == '.' || *end || fd == self)
                        continue;
                printf("%ld\n", fd);
        }
        closedir(d);
        return 0;
}

static int cmd_umask(void) {
        mode_t m = umask(0);

        umask(m);
        printf("%04o\n", (unsigned) m);
        return 0;
}

static int cmd_readlink(const char *path) {
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);

        if (n < 0)
                return fail("readlink", path);
        buf[n] = '\0';
        printf("%s\n", buf);
        return 0;
}

/* Open for writing without O_CREAT or O_TRUNC, write nothing: probes whether a file (say, the
 * runtime's binary) could be modified, without modifying it when it could. */
static int cmd_openw(const char *path) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return fail("open for writing", path);
        close(fd);
        printf("writable\n");
        return 0;
}

/* The terminal on fd 0, one property per line: whether 0-2 are terminals, its name, window size,
 * whether /dev/console is the same terminal, whether it is our controlling terminal and we are
 * its foreground group, and its owner. */
static int cmd_tty(void) {
        char name[PATH_MAX];
        struct winsize ws = { 0 };
        struct stat st0, stc;
        ssize_t n = readlink("/proc/self/fd/0", name, sizeof(name) - 1);
        int fd;

        name[n < 0 ? 0 : n] = '\0';
        printf("isatty 0=%d 1=%d 2=%d\n", isatty(0), isatty(1), isatty(2));
        printf("name %s\n", name);
        if (ioctl(0, TIOCGWINSZ, &ws) < 0)
                return fail("TIOCGWINSZ", NULL);
        printf("size %ux%u\n", (unsigned) ws.ws_row, (unsigned) ws.ws_col);
        if (fstat(0, &st0) < 0)
                return fail("fstat", "0");
        if (stat("/dev/console", &stc) < 0)
                printf("console missing: %s\n", strerror(errno));
        else
                printf("console %s\n",
                       S_ISCHR(stc.st_mode) && stc.st_rdev == st0.st_rdev ? "same" : "different");
        fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
        printf("ctty %s\n", fd >= 0 ? "yes" : "no");
        if (fd >= 0)
                close(fd);
        printf("foreground %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
        printf("owner uid=%u gid=%u\n", (unsigned) st0.st_uid, (unsigned) st0.st_gid);
        return 0;
}

static void print_size(void) {
        struct winsize ws = { 0 };

        (void) ioctl(0, TIOCGWINSZ, &ws);
        printf("size %ux%u\n", (unsigned) ws.ws_row, (unsigned) ws.ws_col);
}

/* Print the window size and "ready", wait for SIGWINCH, print the size again. */
static int cmd_winch(void) {
        sigset_t set;

        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return fail("sigprocmask", NULL);
        print_size();
        printf("ready\n");
        if (sigwaitinfo(&set, NULL) < 0)
                return fail("sigwaitinfo", NULL);
        printf("got SIGWINCH\n");
        print_size();
        return 0;
}

/* Print "ready", read one line from stdin, print it back. */
static int cmd_readline(void) {
        char line[1024];

        printf("ready\n");
        if (!fgets(line, sizeof(line), stdin))
                return fail("read", "stdin");
        line[strcspn(line, "\r\n")] = '\0';
        printf("got <%s>\n", line);
        return 0;
}

/* A child that pauses in our process group (the terminal's foreground group); we wait for it and
 * exit as a shell would: 128+N when a signal killed it. pid 1 of a pid namespace ignores signals
 * it has no handler for, so ^C must reach a process that is not the init. */
static int cmd_fork_wait(void) {
        int status;
        pid_t pid = fork();

        if (pid < 0)
                return fail("fork", NULL);
        if (pid == 0) {
                signal(SIGINT, SIG_DFL);
                printf("ready\n");
                fflush(stdout);
                for (;;)
                        pause();
        }
        if (waitpid(pid, &status, 0) < 0)
                return fail("waitpid", NULL);
        if (WIFSIGNALED(status)) {
                printf("child killed by %s\n", signal_name(WTERMSIG(status)));
                return 128 + WTERMSIG(status);
        }
        return WEXITSTATUS(status);
}

static int cmd_exit(const char *arg) {
        char *end;
        long n = strtol(arg, &end, 10);

        if (*arg == '\0' || *end || n < 0 || n > 255) {
                fprintf(stderr, "payload: bad exit code %s\n", arg);
                return 2;
        }
        return (int) n;
}

static int usage(void) {
        fprintf(stderr, "usage: payload exit N | id | caps | env | cwd | isatty | cat FILE | write FILE TEXT |\n"
                        "       sigwait SIG... | pause | fork-pause | rlimit NAME | hostname | stat PATH |\n"
                        "       fds | umask | readlink PATH | openw PATH | tty | winch | readline |\n"
                        "       fork-wait\n");
        return 127;
}

int main(int argc, char **argv) {
        const char *cmd = argc > 1 ? argv[1] : "";
        int n = argc - 2;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (strcmp(cmd, "exit") == 0 && n == 1)
                return cmd_exit(argv[2]);
        if (strcmp(cmd, "id") == 0)
                return cmd_id();
        if (strcmp(cmd, "caps") == 0)
                return cmd_caps();
        if (strcmp(cmd, "env") == 0)
                return cmd_env();
        if (strcmp(cmd, "cwd") == 0)
                return cmd_cwd();
        if (strcmp(cmd, "isatty") == 0)
                return cmd_isatty();
        if (strcmp(cmd, "cat") == 0 && n == 1)
                return cmd_cat_filtered(argv[2], NULL);
        if (strcmp(cmd, "write") == 0 && n == 2)
                return cmd_write(argv[2], argv[3]);
        if (strcmp(cmd, "sigwait") == 0 && n >= 1)
                return cmd_sigwait(n, argv + 2);
        if (strcmp(cmd, "pause") == 0)
                return cmd_pause();
        if (strcmp(cmd, "fork-pause") == 0)
                return cmd_fork_pause();
        if (strcmp(cmd, "rlimit") == 0 && n == 1)
                return cmd_rlimit(argv[2]);
        if (strcmp(cmd, "hostname") == 0)
                return cmd_hostname();
        if (strcmp(cmd, "stat") == 0 && n == 1)
                return cmd_stat(argv[2]);
        if (strcmp(cmd, "fds") == 0)
                return cmd_fds();
        if (strcmp(cmd, "umask") == 0)
                return cmd_umask();
        if (strcmp(cmd, "readlink") == 0 && n == 1)
                return cmd_readlink(argv[2]);
        if (strcmp(cmd, "openw") == 0 && n == 1)
                return cmd_openw(argv[2]);
        if (strcmp(cmd, "tty") == 0)
                return cmd_tty();
        if (strcmp(cmd, "winch") == 0)
                return cmd_winch();
        if (strcmp(cmd, "readline") == 0)
                return cmd_readline();
        if (strcmp(cmd, "fork-wait") == 0)
                return cmd_fork_wait();
        return usage();
}
