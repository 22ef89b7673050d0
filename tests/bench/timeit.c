/* timeit: run a command once and print its wall time in nanoseconds, the peak RSS of
 * the command (KiB, from wait4's rusage: the largest of it and the descendants it waited for) and
 * its exit status. Used by bench.sh so that every runtime is measured by the same fork+exec. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
        struct timespec t0, t1;
        struct rusage ru;
        int status;
        pid_t pid;

        if (argc < 2) {
                fprintf(stderr, "usage: timeit CMD [ARG...]\n");
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &t0);
        pid = fork();
        if (pid < 0) {
                perror("timeit: fork");
                return 1;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                }
                execvp(argv[1], argv + 1);
                perror("timeit: exec");
                _exit(127);
        }
        if (wait4(pid, &status, 0, &ru) < 0) {
                perror("timeit: wait4");
                return 1;
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("%lld %ld %d\n",
               (long long) (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec), ru.ru_maxrss,
               WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
        return 0;
}
