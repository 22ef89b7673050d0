#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "state.h"
#include "tap.h"
#include "util.h"

static char tmpdir[] = "/tmp/test-state-XXXXXX";

static void test_validate_id(void) {
        char long_id[1001], max_id[251];

        memset(long_id, 'a', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        memset(max_id, 'b', sizeof(max_id) - 1);
        max_id[sizeof(max_id) - 1] = '\0';

        CHECK_RET(state_validate_id("abc"), 0);
        CHECK_RET(state_validate_id("A-b_c.d+1"), 0);
        CHECK_RET(state_validate_id("..."), 0);
        CHECK_RET(state_validate_id(max_id), 0);
        CHECK_RET(state_validate_id(""), -EINVAL);
        CHECK_RET(state_validate_id(NULL), -EINVAL);
        CHECK_RET(state_validate_id("."), -EINVAL);
        CHECK_RET(state_validate_id(".."), -EINVAL);
        CHECK_RET(state_validate_id("../x"), -EINVAL);
        CHECK_RET(state_validate_id("a/b"), -EINVAL);
        CHECK_RET(state_validate_id("a b"), -EINVAL);
        CHECK_RET(state_validate_id("a\nb"), -EINVAL);
        CHECK_RET(state_validate_id("é"), -EINVAL);
        CHECK_RET(state_validate_id(long_id), -EINVAL);
}

static void test_root_open(void) {
        _cleanup_free_ char *root = strjoin_path(tmpdir, "a/b/root/");
        struct stat st;
        mode_t old = umask(0);
        int fd = -EBADF;

        CHECK_RET(state_root_open(root, &fd), 0);
        umask(old);
        CHECK(fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700);
        CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
        safe_close(fd);
        /* Opening an existing root works too. */
        CHECK_RET(state_root_open(root, &fd), 0);
        safe_close(fd);
}

static void test_dir(int root_fd) {
        int fd = -EBADF, fd2 = -EBADF, lock_fd = -EBADF;
        mode_t old = umask(077);
        struct stat st;

        CHECK_RET(state_dir_open(root_fd, "nope", &fd), -ENOENT);
        CHECK_RET(state_dir_create(root_fd, "../x", &fd), -EINVAL);
        CHECK_RET(state_dir_create(root_fd, "c1", &fd), 0);
        umask(old);
        /* 0711 even under a strict umask. */
        CHECK(fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0711);
        CHECK_RET(state_dir_create(root_fd, "c1", &fd2), -EEXIST);
        CHECK_RET(state_dir_open(root_fd, "c1", &fd2), 0);

        /* Separate opens are separate open file descriptions: the locks conflict. */
        CHECK_RET(state_lock(fd, true), 0);
        CHECK_RET(state_trylock(fd2, true), -EWOULDBLOCK);
        CHECK_RET(state_trylock(fd2, false), -EWOULDBLOCK);
        CHECK_RET(state_lock(fd, false), 0);    /* downgrade */
        CHECK_RET(state_trylock(fd2, false), 0);
        CHECK_RET(state_dir_open(root_fd, "c1", &lock_fd), 0);
        CHECK_RET(state_trylock(lock_fd, true), -EWOULDBLOCK);

        CHECK_RET(state_read(fd, &(ContainerState *){ NULL }), -ENOENT);
        safe_close(fd);
        safe_close(fd2);
        safe_close(lock_fd);
}

static void test_dir_remove(int root_fd) {
        _cleanup_free_ char *outside = strjoin_path(tmpdir, "outside");
        int fd = -EBADF;

        CHECK(write_file_at(AT_FDCWD, outside, "x", 1, O_CREAT | O_TRUNC, 0600) == 0);
        CHECK_RET(state_dir_create(root_fd, "rm", &fd), 0);
        CHECK(mkdirat(fd, "sub", 0700) == 0 && write_file_at(fd, "sub/f", "y", 1, O_CREAT, 0600) == 0);
        CHECK(symlinkat(tmpdir, fd, "link") == 0);
        safe_close(fd);

        CHECK_RET(state_dir_remove(root_fd, "rm"), 0);
        CHECK(faccessat(root_fd, "rm", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        /* The symlink was removed, not followed. */
        CHECK(access(outside, F_OK) == 0);
        CHECK_RET(state_dir_remove(root_fd, "a/b"), -EINVAL);
}

static ContainerState *sample_state(void) {
        ContainerState *s = calloc(1, sizeof(*s));

        s->id = strdup("c2");
        s->pid = 4242;
        s->start_time = 123456789012ULL;
        s->bundle = strdup("/srv/bundle");
        s->rootfs = strdup("/srv/bundle/rootfs");
        s->created = strdup("2024-01-02T03:04:05.123456789Z");
        s->owner = 1000;
        s->n_annotations = 2;
        s->annotations = calloc(2, sizeof(KeyValue));
        s->annotations[0] = (KeyValue){ strdup("org.example/key"), strdup("v\"1") };
        s->annotations[1] = (KeyValue){ strdup("empty"), strdup("") };
        s->rootless = true;
        s->cgroup_path = strdup("/sys/fs/cgroup/x");
        s->config_path = strdup("/srv/bundle/config.json");
        s->stopped_marker = true;
        s->exit_status = 137;
        return s;
}

static void test_round_trip(int root_fd) {
        _cleanup_state_free_ ContainerState *in = sample_state();
        _cleanup_state_free_ ContainerState *out = NULL;
        struct stat st;
        int fd = -EBADF;

        CHECK_RET(state_dir_create(root_fd, "c2", &fd), 0);
        CHECK_RET(state_write(fd, in), 0);
        CHECK(fstatat(fd, STATE_FILE, &st, 0) == 0 && (st.st_mode & 0077) == 0);
        CHECK_RET(state_read(fd, &out), 0);
        if (!out) {
                safe_close(fd);
                return;
        }
        CHECK_STR(out->id, "c2");
        CHECK(out->pid == 4242);
        CHECK(out->start_time == 123456789012ULL);
        CHECK_STR(out->bundle, "/srv/bundle");
        CHECK_STR(out->rootfs, "/srv/bundle/rootfs");
        CHECK_STR(out->created, "2024-01-02T03:04:05.123456789Z");
        CHECK(out->owner == 1000);
        CHECK(out->n_annotations == 2);
        if (out->n_annotations == 2) {
                CHECK_STR(out->annotations[0].key, "org.example/key");
                CHECK_STR(out->annotations[0].value, "v\"1");
                CHECK_STR(out->annotations[1].value, "");
        }
        CHECK(out->rootless);
        CHECK_STR(out->cgroup_path, "/sys/fs/cgroup/x");
        CHECK_STR(out->config_path, "/srv/bundle/config.json");
        CHECK(out->stopped_marker);
        CHECK(out->exit_status == 137);

        /* A second write replaces the file; no temporary file is left behind. */
        free(in->cgroup_path);
        in->cgroup_path = NULL;
        in->pid = 7;
        CHECK_RET(state_write(fd, in), 0);
        out = state_free(out);
        CHECK_RET(state_read(fd, &out), 0);
        CHECK(out && out->pid == 7 && out->cgroup_path == NULL);
        CHECK(faccessat(fd, ".state.json.tmp", F_OK, 0) < 0);
        safe_close(fd);
}

static void test_corrupt(int root_fd) {
        static const char *const bad[] = {
                "",
                "{",
                "[]",
                "{\"id\":\"c3\"}",
                "{\"id\":\"c3\",\"pid\":\"1\",\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0}",
                "{\"id\":\"c3\",\"pid\":-1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0}",
                "{\"id\":\"../x\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0}",
                "{\"id\":\"c3\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0} x",
                "{\"id\":\"c3\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0,"
                "\"annotations\":{\"a\":1}}",
                "{\"id\":\"c3\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0,"
                "\"stopped\":1}",
        };
        static const char good[] =
                "{\"id\":\"c3\",\"pid\":1,\"bundle\":\"/b\",\"rootfs\":\"/r\",\"created\":\"t\",\"owner\":0}\n";
        _cleanup_state_free_ ContainerState *s = NULL;
        unsigned accepted = 0;
        int fd = -EBADF;

        CHECK_RET(state_dir_create(root_fd, "c3", &fd), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ContainerState *t = NULL;

                if (write_file_atomic_at(fd, STATE_FILE, bad[i], strlen(bad[i]), 0600) < 0 ||
                    state_read(fd, &t) != -EINVAL) {
                        printf("# accepted: %s\n", bad[i]);
                        accepted++;
                }
                state_free(t);
        }
        CHECK(accepted == 0);
        /* Embedded NUL. */
        CHECK(write_file_atomic_at(fd, STATE_FILE, good, sizeof(good), 0600) == 0);
        CHECK_RET(state_read(fd, &s), -EINVAL);
        /* The minimal valid file, to show the cases above failed for their defect only. */
        CHECK(write_file_atomic_at(fd, STATE_FILE, good, strlen(good), 0600) == 0);
        CHECK_RET(state_read(fd, &s), 0);
        safe_close(fd);
}

static void test_status(int root_fd) {
        ContainerState s = { .id = (char *) "c4" };
        uint64_t start = 0;
        siginfo_t si;
        pid_t child;
        int fd = -EBADF;

        CHECK_RET(state_dir_create(root_fd, "c4", &fd), 0);
        CHECK(state_status(fd, NULL) == STATUS_CREATING);
        CHECK(state_status(fd, &s) == STATUS_CREATING);

        CHECK(proc_start_time(getpid(), &start) == 0 && start > 0);
        s.pid = getpid();
        s.start_time = start;
        CHECK(state_status(fd, &s) == STATUS_RUNNING);
        s.start_time = start + 1;
        CHECK(state_status(fd, &s) == STATUS_STOPPED);
        s.start_time = start;
        s.stopped_marker = true;
        CHECK(state_status(fd, &s) == STATUS_STOPPED);
        s.stopped_marker = false;

        CHECK(mkfifoat(fd, STATE_FIFO, 0600) == 0);
        CHECK(state_status(fd, &s) == STATUS_CREATED);
        CHECK(unlinkat(fd, STATE_FIFO, 0) == 0);

        /* A zombie: exited but not reaped yet (WNOWAIT leaves it a zombie). */
        child = fork();
        if (child == 0)
                _exit(0);
        CHECK(child > 0 && proc_start_time(child, &s.start_time) == 0);
        CHECK(waitid(P_PID, (id_t) child, &si, WEXITED | WNOWAIT) == 0);
        s.pid = child;
        CHECK(state_status(fd, &s) == STATUS_STOPPED);
        /* Reaped: the pid is gone. */
        CHECK(waitpid(child, NULL, 0) == child);
        CHECK(state_status(fd, &s) == STATUS_STOPPED);
        safe_close(fd);
}

static void test_to_json(void) {
        _cleanup_state_free_ ContainerState *s = sample_state();
        _cleanup_free_ char *json = NULL;
        struct json_object *o, *v;

        CHECK_RET(state_to_json(s, STATUS_RUNNING, &json), 0);
        o = json ? json_tokener_parse(json) : NULL;
        CHECK(o != NULL);
        if (!o)
                return;
        CHECK(json_object_object_get_ex(o, "ociVersion", &v) && json_object_is_type(v, json_type_string));
        CHECK(json_object_object_get_ex(o, "id", &v) && streq(json_object_get_string(v), "c2"));
        CHECK(json_object_object_get_ex(o, "pid", &v) && json_object_get_int(v) == 4242);
        CHECK(json_object_object_get_ex(o, "status", &v) && streq(json_object_get_string(v), "running"));
        CHECK(json_object_object_get_ex(o, "bundle", &v) && streq(json_object_get_string(v), "/srv/bundle"));
        CHECK(json_object_object_get_ex(o, "rootfs", &v));
        CHECK(json_object_object_get_ex(o, "created", &v));
        CHECK(json_object_object_get_ex(o, "owner", &v) && json_object_is_type(v, json_type_string));
        CHECK(json_object_object_get_ex(o, "annotations", &v) && json_object_object_length(v) == 2);
        CHECK(!json_object_object_get_ex(o, "startTime", &v));
        json_object_put(o);
        /* Paths are printed as they are, not as "\/srv\/bundle". */
        CHECK(strstr(json, "\"bundle\": \"/srv/bundle\"") != NULL);

        s->owner = 0;
        s->n_annotations = 0;
        free(json);
        json = NULL;
        CHECK_RET(state_to_json(s, STATUS_STOPPED, &json), 0);
        s->n_annotations = 2;
        CHECK(json && strstr(json, "\"owner\": \"root\"") && strstr(json, "\"status\": \"stopped\""));
        CHECK(json && !strstr(json, "annotations"));
}

static void test_status_names(void) {
        CHECK_STR(container_status_to_string(STATUS_CREATING), "creating");
        CHECK_STR(container_status_to_string(STATUS_CREATED), "created");
        CHECK_STR(container_status_to_string(STATUS_RUNNING), "running");
        CHECK_STR(container_status_to_string(STATUS_PAUSED), "paused");
        CHECK_STR(container_status_to_string(STATUS_STOPPED), "stopped");
}

/* Run in a child as an unprivileged uid so that the non-root rules apply. */
static void test_default_root(void) {
        _cleanup_free_ char *xdg = strjoin_path(tmpdir, "xdg");
        _cleanup_free_ char *want = strjoin_path(xdg, "urun");
        char *root = NULL;
        int status = -1;
        pid_t pid;

        if (geteuid() == 0) {
                struct stat st;

                CHECK_RET(state_default_root(&root), 0);
                if (stat("/proc/self/ns/user", &st) == 0 && st.st_ino == 0xEFFFFFFDU)
                        CHECK_STR(root, "/run/urun");
                else
                        SKIP("nested user namespace");
                free(root);
        }
        if (geteuid() != 0 || mkdir(xdg, 0700) < 0 || chown(xdg, 65534, 65534) < 0 ||
            chmod(tmpdir, 0755) < 0) {
                SKIP("needs root to switch to an unprivileged uid");
                return;
        }
        pid = fork();
        if (pid == 0) {
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0)
                        _exit(2);
                setenv("XDG_RUNTIME_DIR", xdg, 1);
                if (state_default_root(&root) < 0 || !streq(root, want))
                        _exit(1);
                /* An XDG_RUNTIME_DIR owned by someone else is not used. */
                setenv("XDG_RUNTIME_DIR", "/", 1);
                free(root);
                if (state_default_root(&root) < 0 || streq(root, "/urun"))
                        _exit(3);
                _exit(0);
        }
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void) {
        int root_fd = -EBADF;
        _cleanup_free_ char *root = NULL;

        if (!mkdtemp(tmpdir)) {
                perror("mkdtemp");
                return 1;
        }
        root = strjoin_path(tmpdir, "root");

        test_validate_id();
        test_status_names();
        test_root_open();
        CHECK_RET(state_root_open(root, &root_fd), 0);
        test_dir(root_fd);
        test_dir_remove(root_fd);
        test_round_trip(root_fd);
        test_corrupt(root_fd);
        test_status(root_fd);
        test_to_json();
        test_default_root();

        safe_close(root_fd);
        (void) rm_rf_at(AT_FDCWD, tmpdir);
        return tap_done();
}
