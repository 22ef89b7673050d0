/* cgload: the load that the VM tests put on a container's cgroup limits. Static, so that it runs
 * in a bare busybox rootfs; one subcommand per resource, one result line on stdout:
 *
 *   alloc MIB           allocate and touch MIB MiB, 1 MiB at a time   "allocated MIB MiB"
 *                       (under memory.max the kernel OOM-kills it before the line is printed)
 *   forkbomb N          fork up to N children that wait        "forked K, then fork: ENAME" or
 *                       (kept until the end, so each one holds   "forked N"
 *                       a pid of the cgroup)
 *   spin SECONDS        burn CPU for SECONDS of wall time      "cpu_ms C wall_ms W"
 *   iowrite PATH MIB    write MIB MiB to PATH with O_DIRECT    "wrote B bytes in W ms"
 *                       (the page cache would hide the block layer's throttling)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(clockid_t clock) {
        struct timespec ts;

        clock_gettime(clock, &ts);
        return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int fail(const char *what) {
        fprintf(stderr, "cgload: %s: %s\n", what, strerror(errno));
        return 1;
}

static int cmd_alloc(long mib) {
        for (long i = 0; i < mib; i++) {
                char *p = malloc(1 << 20);

                if (!p)
                        return fail("malloc");
                memset(p, 1, 1 << 20);
        }
        printf("allocated %ld MiB\n", mib);
        return 0;
}

static int cmd_forkbomb(long n) {
        pid_t *kids = calloc(n, sizeof(pid_t));
        long k;
        int err = 0;

        if (!kids)
                return fail("calloc");
        for (k = 0; k < n; k++) {
                pid_t pid = fork();

                if (pid < 0) {
                        err = errno;
                        break;
                }
                if (pid == 0) {
                        pause();
                        _exit(0);
                }
                kids[k] = pid;
        }
        if (err)
                printf("forked %ld, then fork: %s\n", k, strerrorname_np(err));
        else
                printf("forked %ld\n", k);
        fflush(stdout);
        for (long i = 0; i < k; i++)
                kill(kids[i], SIGKILL);
        while (wait(NULL) > 0)
                ;
        free(kids);
        return 0;
}

static int cmd_spin(long seconds) {
        long start = now_ms(CLOCK_MONOTONIC), cpu0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
        volatile unsigned long x = 0;

        while (now_ms(CLOCK_MONOTONIC) - start < seconds * 1000)
                for (int i = 0; i < 100000; i++)
                        x++;
        printf("cpu_ms %ld wall_ms %ld\n", now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0,
               now_ms(CLOCK_MONOTONIC) - start);
        return 0;
}

static int cmd_iowrite(const char *path, long mib) {
        const size_t bs = 64 << 10;
        void *buf;
        long start, total = 0;
        int fd;

        if (posix_memalign(&buf, 4096, bs) != 0)
                return fail("posix_memalign");
        memset(buf, 0x5a, bs);
        fd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
        if (fd < 0)
                return fail(path);
        start = now_ms(CLOCK_MONOTONIC);
        while (total < mib << 20) {
                ssize_t w = write(fd, buf, bs);

                if (w <= 0)
                        return fail("write");
                total += w;
        }
        printf("wrote %ld bytes in %ld ms\n", total, now_ms(CLOCK_MONOTONIC) - start);
        close(fd);
        free(buf);
        return 0;
}

int main(int argc, char **argv) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 3 && strcmp(argv[1], "alloc") == 0)
                return cmd_alloc(atol(argv[2]));
        if (argc == 3 && strcmp(argv[1], "forkbomb") == 0)
                return cmd_forkbomb(atol(argv[2]));
        if (argc == 3 && strcmp(argv[1], "spin") == 0)
                return cmd_spin(atol(argv[2]));
        if (argc == 4 && strcmp(argv[1], "iowrite") == 0)
                return cmd_iowrite(argv[2], atol(argv[3]));
        fprintf(stderr, "usage: cgload alloc MIB | forkbomb N | spin SECONDS | iowrite PATH MIB\n");
        return 127;
}
