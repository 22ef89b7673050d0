/* Unit tests for src/idmap.c.
 *
 * Run as root on the host: pure helpers, nested-namespace detection, libsubid lookups and the
 * direct (root) map writing. Run as an unprivileged user (e.g. `setpriv --reuid uruntest
 * --regid uruntest --init-groups`): the single-own-id path, and with subordinate ranges in
 * /etc/subuid and /etc/subgid the newuidmap/newgidmap path and the refusal of a range that is
 * not delegated. Cases that do not apply to the current identity are SKIPped.
 *
 * idmap_subid_ranges() for an unknown user returns 0 with no ranges: libsubid's files backend
 * does not consult passwd, so "unknown" and "no ranges" are the same answer. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "idmap.h"
#include "tap.h"

#define INIT_USERNS_INO 0xEFFFFFFDU

static bool in_initial_userns(void) {
        struct stat st;

        return stat("/proc/self/ns/user", &st) == 0 && st.st_ino == INIT_USERNS_INO;
}

static void test_is_single_self(void) {
        const IdMap one = { 0, 1000, 1 }, wide = { 0, 1000, 2 };
        const IdMap two[] = { { 0, 1000, 1 }, { 1, 100000, 65536 } };
        const IdMap top = { 0, UINT32_MAX - 1, 1 };

        CHECK(idmap_is_single_self(&one, 1, 1000));
        CHECK(!idmap_is_single_self(&one, 1, 1001));
        CHECK(!idmap_is_single_self(&one, 1, 999));
        CHECK(!idmap_is_single_self(&one, 0, 1000));
        CHECK(!idmap_is_single_self(NULL, 0, 1000));
        CHECK(!idmap_is_single_self(&wide, 1, 1000)); /* the kernel only allows count 1 */
        CHECK(!idmap_is_single_self(two, 2, 1000));
        CHECK(idmap_is_single_self(&top, 1, UINT32_MAX - 1));
}

static void test_to_host(void) {
        const IdMap m[] = { { 0, 100000, 65536 }, { 65536, 1000, 1 } };
        const IdMap high_host = { 0, UINT32_MAX - 5, 10 };
        const IdMap high_container = { UINT32_MAX - 100, 0, 200 };
        uint32_t h = 4242;

        CHECK_RET(idmap_to_host(m, 2, 0, &h), 0);
        CHECK(h == 100000);
        CHECK_RET(idmap_to_host(m, 2, 65535, &h), 0); /* last id of the first range */
        CHECK(h == 165535);
        CHECK_RET(idmap_to_host(m, 2, 65536, &h), 0); /* first id after it: second range */
        CHECK(h == 1000);
        h = 4242;
        CHECK_RET(idmap_to_host(m, 2, 65537, &h), -ERANGE);
        CHECK(h == 4242); /* untouched on failure */
        CHECK_RET(idmap_to_host(m, 2, UINT32_MAX, &h), -ERANGE);
        CHECK_RET(idmap_to_host(m, 0, 0, &h), -ERANGE);
        CHECK_RET(idmap_to_host(NULL, 0, 0, &h), -ERANGE);

        /* host side would pass 2^32: the ids beyond are not mapped */
        CHECK_RET(idmap_to_host(&high_host, 1, 5, &h), 0);
        CHECK(h == UINT32_MAX);
        CHECK_RET(idmap_to_host(&high_host, 1, 6, &h), -ERANGE);
        /* container side: container_id + size overflows 32 bits, offsets must not */
        CHECK_RET(idmap_to_host(&high_container, 1, UINT32_MAX, &h), 0);
        CHECK(h == 100);
        CHECK_RET(idmap_to_host(&high_container, 1, UINT32_MAX - 101, &h), -ERANGE);
        CHECK_RET(idmap_to_host(&high_container, 1, 0, &h), -ERANGE);
}

/* Child unshares a user namespace; exit 0 = detected as nested, 1 = not, 77 = cannot unshare. */
static void test_nested_userns(void) {
        pid_t pid;
        int status;

        if (geteuid() == 0 && in_initial_userns())
                CHECK(!idmap_in_nested_userns());
        else
                SKIP("not root in the initial user namespace");

        /* The parent asked first: a "not nested" answer must not stick in the child. */
        pid = fork();
        if (pid == 0) {
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(77);
                _exit(idmap_in_nested_userns() ? 0 : 1);
        }
        CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
                SKIP("unshare(CLONE_NEWUSER) not permitted");
        else
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* First user named in /etc/subuid (not a numeric uid), with its ranges in file order. */
static bool subuid_first_user(char *user, size_t size, unsigned long *starts, size_t *n, size_t max) {
        FILE *f = fopen("/etc/subuid", "re");
        char line[512];
        bool found = false;

        *n = 0;
        if (!f)
                return false;
        while (fgets(line, sizeof(line), f)) {
                char *c1 = strchr(line, ':'), *c2;

                if (!c1 || line[0] == '#' || (line[0] >= '0' && line[0] <= '9'))
                        continue;
                *c1 = '\0';
                c2 = strchr(c1 + 1, ':');
                if (!c2)
                        continue;
                if (!found) {
                        size_t len = strnlen(line, size - 1);

                        memcpy(user, line, len); /* a long name is cut: it then matches nothing */
                        user[len] = '\0';
                        found = true;
                }
                if (strcmp(user, line) == 0 && *n < max)
                        starts[(*n)++] = strtoul(c1 + 1, NULL, 10);
        }
        fclose(f);
        return found;
}

static void test_subid_ranges(void) {
        char user[256];
        unsigned long starts[64];
        size_t n_file, n = 99;
        IdMap *m = (IdMap *) &n; /* must be overwritten */

        CHECK_RET(idmap_subid_ranges("urun-no-such-user-xyz", false, &m, &n), 0);
        CHECK(n == 0 && m == NULL);

        if (!subuid_first_user(user, sizeof(user), starts, &n_file, 64)) {
                SKIP("no user in /etc/subuid");
                return;
        }
        m = NULL;
        CHECK_RET(idmap_subid_ranges(user, false, &m, &n), 0);
        CHECK(n == n_file);
        if (n > 0 && n == n_file) {
                uint64_t next = 1;
                bool ok = true;

                for (size_t i = 0; i < n; i++) {
                        ok = ok && m[i].container_id == next && m[i].host_id == starts[i] && m[i].size > 0;
                        next += m[i].size;
                }
                CHECK(ok);
                CHECK(next <= UINT32_MAX);
        }
        free(m);
}

typedef struct {
        pid_t pid;
        int go_fd;
} UsernsChild;

/* In the child, after the parent wrote the maps: 0 when all expectations hold. */
static int child_check(const char *uid_map, const char *setgroups) {
        char buf[4096];
        int fd;
        ssize_t k;

        /* Mapping does not change our credentials: switch to container root (allowed, we hold
         * every capability in the new namespace), which only works if 0 is mapped. */
        if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || getuid() != 0 || getgid() != 0)
                return 2;
        fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
        k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (k < 0)
                return 3;
        buf[k] = '\0';
        close(fd);
        /* the kernel pads columns: compare with whitespace squeezed */
        {
                char squeezed[4096];
                size_t j = 0;
                bool space = true;

                for (ssize_t i = 0; i < k && j + 1 < sizeof(squeezed); i++) {
                        bool s = buf[i] == ' ';

                        if (s && space)
                                continue;
                        if (buf[i] == '\n' && j > 0 && squeezed[j - 1] == ' ')
                                j--;
                        squeezed[j++] = s ? ' ' : buf[i];
                        space = s || buf[i] == '\n';
                }
                squeezed[j] = '\0';
                if (strcmp(squeezed, uid_map) != 0) {
                        fprintf(stderr, "# uid_map: '%s', want '%s'\n", squeezed, uid_map);
                        return 4;
                }
        }
        fd = open("/proc/self/setgroups", O_RDONLY | O_CLOEXEC);
        k = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (k < 0)
                return 5;
        buf[k] = '\0';
        close(fd);
        if (strncmp(buf, setgroups, strlen(setgroups)) != 0)
                return 6;
        return 0;
}

/* Fork a child that unshares a user namespace and waits for the parent before checking. */
static int spawn_child(const char *uid_map, const char *setgroups, UsernsChild *ret) {
        int ready[2], go[2];
        char c;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                close(ready[0]);
                close(go[1]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(77);
                if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
                        _exit(8);
                _exit(child_check(uid_map, setgroups));
        }
        close(ready[1]);
        close(go[0]);
        if (read(ready[0], &c, 1) != 1) {
                close(ready[0]);
                close(go[1]);
                waitpid(pid, NULL, 0);
                return -ECHILD;
        }
        close(ready[0]);
        *ret = (UsernsChild) { .pid = pid, .go_fd = go[1] };
        return 0;
}

/* Release the child; returns its exit status (or -1). */
static int finish_child(UsernsChild *c) {
        int status;

        if (write(c->go_fd, "g", 1) != 1)
                return -1;
        close(c->go_fd);
        if (waitpid(c->pid, &status, 0) != c->pid || !WIFEXITED(status))
                return -1;
        return WEXITSTATUS(status);
}

static void test_write_maps_root(void) {
        const IdMap wide = { 0, 100000, 65536 };
        const IdMap overlap[] = { { 0, 100000, 10 }, { 5, 200000, 10 } };
        UsernsChild c;

        if (geteuid() != 0 || !in_initial_userns()) {
                SKIP("direct map writing as host root: not root in the initial user namespace");
                return;
        }

        CHECK_RET(spawn_child("0 100000 65536\n", "allow", &c), 0);
        CHECK_RET(idmap_write_maps(c.pid, &wide, 1, &wide, 1), 0);
        CHECK_RET(finish_child(&c), 0);

        /* the kernel rejects overlapping container ranges; the error comes back */
        CHECK_RET(spawn_child("", "", &c), 0);
        CHECK_RET(idmap_write_maps(c.pid, overlap, 2, &wide, 1), -EINVAL);
        CHECK(finish_child(&c) != 0);

        CHECK_RET(idmap_write_maps(getpid(), &wide, 0, &wide, 1), -EINVAL);
}

static void test_write_maps_self(void) {
        const IdMap u = { 0, (uint32_t) geteuid(), 1 }, g = { 0, (uint32_t) getegid(), 1 };
        char want[64];
        UsernsChild c;

        if (geteuid() == 0 && in_initial_userns()) {
                SKIP("own-id map: run as an unprivileged user");
                return;
        }
        snprintf(want, sizeof(want), "0 %u 1\n", (unsigned) geteuid());
        CHECK_RET(spawn_child(want, "deny", &c), 0);
        CHECK_RET(idmap_write_maps(c.pid, &u, 1, &g, 1), 0);
        CHECK_RET(finish_child(&c), 0);
}

static bool delegated(const IdMap *r, size_t n, uint64_t id) {
        for (size_t i = 0; i < n; i++)
                if (id >= r[i].host_id && id < (uint64_t) r[i].host_id + r[i].size)
                        return true;
        return false;
}

/* newuidmap/newgidmap: needs an unprivileged user with ranges in /etc/subuid and /etc/subgid. */
static void test_write_maps_helpers(void) {
        IdMap *ur = NULL, *gr = NULL;
        size_t n_ur = 0, n_gr = 0;
        struct passwd *pw = getpwuid(getuid());
        UsernsChild c;
        char want[128];

        if (geteuid() == 0 || !pw || idmap_subid_ranges(pw->pw_name, false, &ur, &n_ur) < 0 ||
            idmap_subid_ranges(pw->pw_name, true, &gr, &n_gr) < 0 || n_ur == 0 || n_gr == 0) {
                SKIP("newuidmap path: needs a non-root user with subordinate uids and gids");
                free(ur);
                free(gr);
                return;
        }

        {
                const IdMap u[] = { { 0, (uint32_t) getuid(), 1 }, { 1, ur[0].host_id, ur[0].size } };
                const IdMap g[] = { { 0, (uint32_t) getgid(), 1 }, { 1, gr[0].host_id, gr[0].size } };
                const IdMap bad[] = { { 0, (uint32_t) getuid(), 1 }, { 1, ur[0].host_id + ur[0].size, 10 } };

                snprintf(want, sizeof(want), "0 %u 1\n1 %u %u\n", (unsigned) getuid(), ur[0].host_id,
                         ur[0].size);
                CHECK_RET(spawn_child(want, "allow", &c), 0);
                CHECK_RET(idmap_write_maps(c.pid, u, 2, g, 2), 0);
                CHECK_RET(finish_child(&c), 0);

                /* own uid alone, gid with a range: both go through the helpers */
                snprintf(want, sizeof(want), "0 %u 1\n", (unsigned) getuid());
                CHECK_RET(spawn_child(want, "allow", &c), 0);
                CHECK_RET(idmap_write_maps(c.pid, u, 1, g, 2), 0);
                CHECK_RET(finish_child(&c), 0);

                if (delegated(ur, n_ur, (uint64_t) ur[0].host_id + ur[0].size))
                        SKIP("the ids right after the first subuid range are delegated too");
                else {
                        CHECK_RET(spawn_child("", "", &c), 0);
                        CHECK_RET(idmap_write_maps(c.pid, bad, 2, g, 2), -EPERM);
                        CHECK(finish_child(&c) != 0);
                }
        }
        free(ur);
        free(gr);
}

int main(void) {
        test_is_single_self();
        test_to_host();
        test_nested_userns();
        test_subid_ranges();
        test_write_maps_root();
        test_write_maps_self();
        test_write_maps_helpers();
        return tap_done();
}
