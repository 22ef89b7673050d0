/* libFuzzer target: state.json text -> state_read(). The input is written as state.json into a
 * private directory (on tmpfs when /dev/shm exists) created once per process. A state that reads
 * back must survive state_write() + state_read() unchanged and render with state_to_json(). */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir_path[PATH_MAX];
static int dir_fd = -1;

static void dir_cleanup(void) {
        (void) unlinkat(dir_fd, STATE_FILE, 0);
        (void) rmdir(dir_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : (getenv("TMPDIR") ?: "/tmp");

        (void) argc;
        (void) argv;
        if (snprintf(dir_path, sizeof dir_path, "%s/urun-fuzz-state.XXXXXX", base) >= (int) sizeof dir_path ||
            !mkdtemp(dir_path))
                abort();
        dir_fd = open(dir_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                abort();
        atexit(dir_cleanup);
        return 0;
}

/* state_write() stores a missing string as "" (json-c has no null to store), so they compare equal. */
static bool str_eq(const char *a, const char *b) {
        return streq(a ?: "", b ?: "");
}

static void check_roundtrip(const ContainerState *s) {
        _cleanup_state_free_ ContainerState *t = NULL;
        _cleanup_free_ char *json = NULL;

        if (state_to_json(s, STATUS_STOPPED, &json) < 0 || !json)
                abort();
        if (state_write(dir_fd, s) < 0 || state_read(dir_fd, &t) < 0)
                abort();
        if (!str_eq(s->id, t->id) || s->pid != t->pid || s->start_time != t->start_time ||
            !str_eq(s->bundle, t->bundle) || !str_eq(s->rootfs, t->rootfs) || !str_eq(s->created, t->created) ||
            s->owner != t->owner || s->rootless != t->rootless || !str_eq(s->cgroup_path, t->cgroup_path) ||
            !str_eq(s->config_path, t->config_path) || s->stopped_marker != t->stopped_marker ||
            s->exit_status != t->exit_status || s->n_annotations != t->n_annotations)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_state_free_ ContainerState *s = NULL;
        int r;

        if (write_file_at(dir_fd, STATE_FILE, (const char *) data, size, O_CREAT | O_TRUNC, 0600) < 0)
                abort();
        r = state_read(dir_fd, &s);
        if (r < 0) {
                if (s || r == -ENOENT)
                        abort();
                return 0;
        }
        if (!s)
                abort();
        check_roundtrip(s);
        return 0;
}
