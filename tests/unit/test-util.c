/* Unit tests for util.c and sync.c. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "sync.h"
#include "tap.h"
#include "util.h"

static void test_numbers(void) {
        uint32_t u32;
        uint64_t u64;
        int i;

        CHECK_RET(safe_atou32("0", &u32), 0);
        CHECK_RET(safe_atou32("4294967295", &u32), 0);
        CHECK(u32 == 4294967295u);
        CHECK_RET(safe_atou32("4294967296", &u32), -ERANGE);
        CHECK_RET(safe_atou32("-1", &u32), -EINVAL);
        CHECK_RET(safe_atou32("12x", &u32), -EINVAL);
        CHECK_RET(safe_atou32("", &u32), -EINVAL);
        CHECK_RET(safe_atou32(" 1", &u32), -EINVAL);
        CHECK_RET(safe_atou64("18446744073709551616", &u64), -ERANGE);
        CHECK_RET(safe_atoi("-5", &i), 0);
        CHECK(i == -5);
        CHECK_RET(safe_atoi("2147483648", &i), -ERANGE);
}

static void test_strv(void) {
        char **l = NULL, **c;

        CHECK(strv_length(l) == 0);
        CHECK_RET(strv_extend(&l, "PATH=/bin"), 0);
        CHECK_RET(strv_extend(&l, "HOME=/root"), 0);
        CHECK(strv_length(l) == 2);
        CHECK_STR(strv_env_get(l, "HOME"), "/root");
        CHECK(strv_env_get(l, "HOM") == NULL);
        c = strv_copy(l);
        CHECK(c && strv_length(c) == 2);
        strv_free(c);
        strv_free(l);
}

static void test_files(void) {
        char dir[] = "/tmp/urun-test-util-XXXXXX";
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int dfd;

        CHECK(mkdtemp(dir) != NULL);
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(dfd >= 0);
        CHECK_RET(write_file_atomic_at(dfd, "a.json", "{}", 2, 0600), 0);
        CHECK_RET(read_file_at(dfd, "a.json", 100, &buf, &size), 0);
        CHECK(size == 2 && strcmp(buf, "{}") == 0);
        free(TAKE_PTR(buf));
        CHECK_RET(write_file_at(dfd, "big", "0123456789", 10, O_CREAT, 0600), 0);
        CHECK_RET(read_file_at(dfd, "big", 5, &buf, &size), -EFBIG);
        CHECK(mkdirat(dfd, "sub", 0700) == 0);
        CHECK(symlinkat("/etc", dfd, "sub/link") == 0);
        CHECK_RET(rm_rf_at(dfd, "sub"), 0);
        CHECK(access("/etc/passwd", F_OK) == 0); /* the symlink target survived */
        close(dfd);
        CHECK_RET(rm_rf_at(AT_FDCWD, dir), 0);
        CHECK(access(dir, F_OK) < 0);
}

static void test_proc(void) {
        uint64_t t;
        pid_t pid;

        CHECK_RET(proc_start_time(getpid(), &t), 0);
        CHECK(proc_alive(getpid(), t));
        CHECK(!proc_alive(getpid(), t + 1));
        pid = fork();
        if (pid == 0)
                _exit(0);
        CHECK_RET(proc_start_time(pid, &t), 0);
        (void) waitpid(pid, NULL, 0);
        CHECK(!proc_alive(pid, t));
}

static void test_sync(void) {
        int sv[2];
        SyncMsg m;

        CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
        CHECK_RET(sync_send(sv[0], SYNC_READY, 7, NULL), 0);
        CHECK_RET(sync_expect(sv[1], SYNC_READY, &m), 0);
        CHECK(m.value == 7);
        CHECK_RET(sync_send(sv[0], SYNC_ERROR, -ENOENT, "mounts[0]: nope"), 0);
        CHECK_RET(sync_expect(sv[1], SYNC_READY, &m), -ENOENT);
        CHECK_STR(m.text, "mounts[0]: nope");
        close(sv[0]);
        CHECK_RET(sync_recv(sv[1], &m), -EPIPE);
        close(sv[1]);
}

int main(void) {
        test_numbers();
        test_strv();
        test_files();
        test_proc();
        test_sync();
        return tap_done();
}
