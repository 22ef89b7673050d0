/* linux.seccomp: parsing (errors name the field), the mapping to libseccomp/kernel values, and
 * filters installed in forked children, observed through syscall results and exit signals.
 * seccomp.c is included to reach the compile cache and the flag handling. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../src/seccomp.c"
#include "../../src/spec-internal.h"
#include "tap.h"

#define X32_BIT 0x40000000

/* Parse the value of linux.seccomp; on error *ret_error is the message. */
static int parse(const char *json, SeccompSpec **ret, char **ret_error) {
        json_object *o = json_tokener_parse(json);
        ParseCtx c = {};
        Spec s = {};
        int r;

        if (!o)
                return -EBADMSG;
        path_push_field(&c, "linux");
        path_push_field(&c, "seccomp");
        r = spec_parse_seccomp(&c, o, &s);
        json_object_put(o);
        if (r < 0) {
                seccomp_spec_free(s.seccomp);
                *ret_error = c.error;
                return r;
        }
        free(c.error);
        *ret = s.seccomp;
        return 0;
}

static void check_parse_error(const char *json, const char *want) {
        SeccompSpec *s = NULL;
        char *err = NULL;

        CHECK_RET(parse(json, &s, &err), -EINVAL);
        CHECK_STR(err, want);
        free(err);
}

static void test_parse_errors(void) {
        check_parse_error("{\"syscalls\":[]}", "linux.seccomp.defaultAction: required field missing");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_FOO\"}",
                          "linux.seccomp.defaultAction: unknown action 'SCMP_ACT_FOO'");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
                          "\"SCMP_ACT_ERRNO\"},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_BOGUS\"}]}",
                          "linux.seccomp.syscalls[1].action: unknown action 'SCMP_ACT_BOGUS'");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
                          "linux.seccomp.architectures[0]: unknown architecture 'SCMP_ARCH_VAX'");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
                          "\"SCMP_ACT_ERRNO\"},{\"names\":[\"b\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":0,"
                          "\"value\":1,\"op\":\"SCMP_CMP_ALMOST\"}]}]}",
                          "linux.seccomp.syscalls[1].args[0].op: unknown operator 'SCMP_CMP_ALMOST'");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"b\"],\"action\":"
                          "\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":6,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                          "linux.seccomp.syscalls[0].args[0].index: argument index 6 out of range 0..5");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                          "\"SECCOMP_FILTER_FLAG_NOPE\"]}",
                          "linux.seccomp.flags[1]: unknown flag 'SECCOMP_FILTER_FLAG_NOPE'");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[],\"action\":"
                          "\"SCMP_ACT_ERRNO\"}]}",
                          "linux.seccomp.syscalls[0].names: must not be empty");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":\"getcwd\",\"action\":"
                          "\"SCMP_ACT_ERRNO\"}]}",
                          "linux.seccomp.syscalls[0].names: expected an array of strings");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
                          "\"SCMP_ACT_ERRNO\",\"errnoRet\":-1}]}",
                          "linux.seccomp.syscalls[0].errnoRet: expected an unsigned 32-bit integer");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_NOTIFY\",\"listenerPath\":\"/x\"}",
                          "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"a\"],\"action\":"
                          "\"SCMP_ACT_NOTIFY\"}]}",
                          "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY requires linux.seccomp.listenerPath");
        check_parse_error("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/x\",\"syscalls\":[{\"names\":"
                          "[\"mkdir\",\"write\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}",
                          "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for 'write'");
}

static void test_parse_ok(void) {
        SeccompSpec *s = NULL;
        char *err = NULL;

        CHECK_RET(parse("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                        "\"architectures\":[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X32\"],"
                        "\"flags\":[\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"],"
                        "\"listenerPath\":\"/run/agent.sock\",\"listenerMetadata\":\"m\\\"d\","
                        "\"syscalls\":[{\"names\":[\"read\",\"write\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                        "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_NOTIFY\"},"
                        "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":5,"
                        "\"args\":[{\"index\":0,\"value\":255,\"valueTwo\":8,\"op\":\"SCMP_CMP_MASKED_EQ\"}]}]}",
                        &s, &err),
                  0);
        if (!s)
                return;
        CHECK(s->default_action == SECCOMP_ACTION_ERRNO && s->has_default_errno_ret && s->default_errno_ret == 38);
        CHECK(s->n_architectures == 2 && s->architectures[0] == SECCOMP_ARCH_X86_64 &&
              s->architectures[1] == SECCOMP_ARCH_X32);
        CHECK(s->flags == (SECCOMP_FLAG_LOG | SECCOMP_FLAG_SPEC_ALLOW));
        CHECK_STR(s->listener_path, "/run/agent.sock");
        CHECK_STR(s->listener_metadata, "m\"d");
        CHECK(s->n_syscalls == 3);
        CHECK_STR(s->syscalls[0].names[1], "write");
        CHECK(s->syscalls[1].action == SECCOMP_ACTION_NOTIFY);
        CHECK(s->syscalls[2].has_errno_ret && s->syscalls[2].errno_ret == 5 && s->syscalls[2].n_args == 1);
        CHECK(s->syscalls[2].args[0].op == SECCOMP_OP_MASKED_EQ && s->syscalls[2].args[0].value == 255 &&
              s->syscalls[2].args[0].value_two == 8);
        CHECK(seccomp_needs_listener(s));
        seccomp_spec_free(s);
}

static void test_mapping(void) {
        static const struct {
                enum seccomp_action a;
                const char *name;
                uint32_t want; /* kernel SECCOMP_RET_* (errno/trace data: 7) */
        } actions[] = {
                { SECCOMP_ACTION_KILL, "SCMP_ACT_KILL", SECCOMP_RET_KILL_THREAD },
                { SECCOMP_ACTION_KILL_PROCESS, "SCMP_ACT_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS },
                { SECCOMP_ACTION_KILL_THREAD, "SCMP_ACT_KILL_THREAD", SECCOMP_RET_KILL_THREAD },
                { SECCOMP_ACTION_TRAP, "SCMP_ACT_TRAP", SECCOMP_RET_TRAP },
                { SECCOMP_ACTION_ERRNO, "SCMP_ACT_ERRNO", SECCOMP_RET_ERRNO | 7 },
                { SECCOMP_ACTION_TRACE, "SCMP_ACT_TRACE", SECCOMP_RET_TRACE | 7 },
                { SECCOMP_ACTION_ALLOW, "SCMP_ACT_ALLOW", SECCOMP_RET_ALLOW },
                { SECCOMP_ACTION_LOG, "SCMP_ACT_LOG", SECCOMP_RET_LOG },
                { SECCOMP_ACTION_NOTIFY, "SCMP_ACT_NOTIFY", SECCOMP_RET_USER_NOTIF },
        };
        static const struct {
                enum seccomp_op op;
                const char *name;
                int want;
        } ops[] = {
                { SECCOMP_OP_NE, "SCMP_CMP_NE", SCMP_CMP_NE },       { SECCOMP_OP_LT, "SCMP_CMP_LT", SCMP_CMP_LT },
                { SECCOMP_OP_LE, "SCMP_CMP_LE", SCMP_CMP_LE },       { SECCOMP_OP_EQ, "SCMP_CMP_EQ", SCMP_CMP_EQ },
                { SECCOMP_OP_GE, "SCMP_CMP_GE", SCMP_CMP_GE },       { SECCOMP_OP_GT, "SCMP_CMP_GT", SCMP_CMP_GT },
                { SECCOMP_OP_MASKED_EQ, "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
        };
        static const struct {
                enum seccomp_arch a;
                const char *name;
                uint32_t want;
        } arches[] = {
                { SECCOMP_ARCH_X86, "SCMP_ARCH_X86", AUDIT_ARCH_I386 },
                { SECCOMP_ARCH_X86_64, "SCMP_ARCH_X86_64", AUDIT_ARCH_X86_64 },
                { SECCOMP_ARCH_X32, "SCMP_ARCH_X32", AUDIT_ARCH_X86_64 & ~__AUDIT_ARCH_64BIT },
                { SECCOMP_ARCH_AARCH64, "SCMP_ARCH_AARCH64", AUDIT_ARCH_AARCH64 },
                { SECCOMP_ARCH_ARM, "SCMP_ARCH_ARM", AUDIT_ARCH_ARM },
                { SECCOMP_ARCH_S390X, "SCMP_ARCH_S390X", AUDIT_ARCH_S390X },
                { SECCOMP_ARCH_PPC64LE, "SCMP_ARCH_PPC64LE", AUDIT_ARCH_PPC64LE },
                { SECCOMP_ARCH_RISCV64, "SCMP_ARCH_RISCV64", AUDIT_ARCH_RISCV64 },
                { SECCOMP_ARCH_MIPSEL64N32, "SCMP_ARCH_MIPSEL64N32", AUDIT_ARCH_MIPSEL64N32 },
        };
        uint32_t v = 0;
        int op = 0;

        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                CHECK_STR(seccomp_action_to_name(actions[i].a), actions[i].name);
                CHECK_RET(seccomp_action_value(actions[i].a, true, 7, &v), 0);
                CHECK(v == actions[i].want);
        }
        CHECK_RET(seccomp_action_value(SECCOMP_ACTION_ERRNO, false, 0, &v), 0);
        CHECK(v == (SECCOMP_RET_ERRNO | EPERM)); /* runc's default errno */
        CHECK_RET(seccomp_action_value(SECCOMP_ACTION_ERRNO, true, 70000, &v), -ERANGE);
        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                CHECK_STR(seccomp_op_to_name(ops[i].op), ops[i].name);
                CHECK_RET(seccomp_op_value(ops[i].op, &op), 0);
                CHECK(op == ops[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
                CHECK_STR(seccomp_arch_to_name(arches[i].a), arches[i].name);
                CHECK_RET(seccomp_arch_value(arches[i].a, &v), 0);
                CHECK(v == arches[i].want);
        }
        for (int a = 0; a < _SECCOMP_ARCH_MAX; a++)
                CHECK(seccomp_arch_to_name(a) != NULL);
}

/* ---- filters in children ---- */

static SeccompFilter *prepare_json(const char *json, const char *cache_dir) {
        SeccompSpec *s = NULL;
        SeccompFilter *f = NULL;
        char *err = NULL;
        int r;

        r = parse(json, &s, &err);
        if (r < 0) {
                printf("# parse: %s\n", err ? err : strerror(-r));
                free(err);
                return NULL;
        }
        r = seccomp_prepare(s, cache_dir, &f);
        seccomp_spec_free(s);
        return r < 0 ? NULL : f;
}

/* Fork; the child installs f and runs fn, whose return value is the exit status. Returns the
 * wait status. NNP first: the test must not depend on CAP_SYS_ADMIN. */
static int run_filtered(const SeccompFilter *f, int (*fn)(void)) {
        int status = -1;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -1;
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(f, -EBADF, NULL) < 0)
                        _exit(100);
                _exit(fn());
        }
        (void) waitpid(pid, &status, 0);
        return status;
}

static int child_getcwd(void) {
        char buf[256];

        if (getcwd(buf, sizeof buf) || errno != 38)
                return 1;
        if (getpid() <= 0 || open("/", O_RDONLY | O_CLOEXEC) < 0)
                return 2;
        return 0;
}

static int child_getppid(void) {
        (void) getppid();
        return 3;
}

static int child_personality(void) {
        /* 0xffffffff only queries the persona; the filter refuses exactly that value */
        if (syscall(SYS_personality, 0xffffffffUL) != -1 || errno != EACCES)
                return 1;
        if (syscall(SYS_personality, 0xfffffffeUL) == -1 && errno == EACCES)
                return 2;
        /* repeated index: each condition is its own rule, so any match blocks (OR) */
        if (syscall(SYS_getpgid, 1) != -1 || errno != EDOM || syscall(SYS_getpgid, 2) != -1 || errno != EDOM)
                return 3;
        if (syscall(SYS_getpgid, 0) < 0)
                return 4;
        /* distinct indexes are ANDed: getpriority(PRIO_PROCESS, who > 1000) and the mask on arg0 */
        if (syscall(SYS_getpriority, 0, 5000) != -1 || errno != ERANGE)
                return 5;
        if (syscall(SYS_getpriority, 0, 0) == -1 && errno == ERANGE)
                return 6;
        return 0;
}

static int child_x32_getcwd(void) {
        char buf[64];

        /* an x32 syscall number on an x86_64-only filter: the bad-arch action kills us */
        (void) syscall(X32_BIT | SYS_getcwd, buf, sizeof buf);
        return 7;
}

static int child_x32_errno(void) {
        char buf[64];

        /* with x32 in the filter its rules apply; ERRNO stops it before any ABI dispatch */
        if (syscall(X32_BIT | SYS_getcwd, buf, sizeof buf) != -1 || errno != 38)
                return 1;
        if (getcwd(buf, sizeof buf) || errno != 38)
                return 2;
        /* allowed x32 syscalls pass the filter (the kernel may still lack the x32 ABI: ENOSYS) */
        (void) syscall(X32_BIT | SYS_getpid);
        return 0;
}

static void test_filters(void) {
        SeccompFilter *f;
        int st;

        f = prepare_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getcwd\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38},{\"names\":[\"no_such_syscall_xyz\"],"
                         "\"action\":\"SCMP_ACT_KILL\"}]}",
                         NULL);
        CHECK(f != NULL);
        if (f) {
                st = run_filtered(f, child_getcwd);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        printf("# status 0x%x\n", st);
        }
        seccomp_filter_free(f);

        f = prepare_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"getppid\"],"
                         "\"action\":\"SCMP_ACT_KILL_PROCESS\"}]}",
                         NULL);
        CHECK(f != NULL);
        if (f) {
                st = run_filtered(f, child_getppid);
                CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
        }
        seccomp_filter_free(f);

        f = prepare_json(
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":["
                "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":13,"
                "\"args\":[{\"index\":0,\"value\":4294967295,\"op\":\"SCMP_CMP_EQ\"}]},"
                "{\"names\":[\"getpgid\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":33,"
                "\"args\":[{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"},{\"index\":0,\"value\":2,\"op\":\"SCMP_CMP_EQ\"}]},"
                "{\"names\":[\"getpriority\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":34,"
                "\"args\":[{\"index\":0,\"value\":255,\"valueTwo\":0,\"op\":\"SCMP_CMP_MASKED_EQ\"},"
                "{\"index\":1,\"value\":1000,\"op\":\"SCMP_CMP_GT\"}]}]}",
                NULL);
        CHECK(f != NULL);
        if (f) {
                st = run_filtered(f, child_personality);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        printf("# status 0x%x\n", st);
        }
        seccomp_filter_free(f);

#if defined(__x86_64__)
        f = prepare_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
                         "\"syscalls\":[{\"names\":[\"getcwd\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}",
                         NULL);
        CHECK(f != NULL);
        if (f) {
                st = run_filtered(f, child_x32_getcwd);
                CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
        }
        seccomp_filter_free(f);

        f = prepare_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\","
                         "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"],\"syscalls\":[{\"names\":[\"getcwd\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}",
                         NULL);
        CHECK(f != NULL);
        if (f) {
                st = run_filtered(f, child_x32_errno);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        printf("# status 0x%x\n", st);
        }
        seccomp_filter_free(f);
#else
        SKIP("x32 bad-arch checks are x86_64 only");
#endif
}

static int child_true(void) {
        return 0;
}

static void test_flags(void) {
        SeccompFilter *f;
        int st;

        /* WAIT_KILLABLE_RECV without a listener is refused by the kernel: dropped when preparing */
        f = prepare_json("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"flags\":[\"SECCOMP_FILTER_FLAG_TSYNC\","
                         "\"SECCOMP_FILTER_FLAG_LOG\",\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\","
                         "\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\"],\"syscalls\":[{\"names\":[\"getcwd\"],"
                         "\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":38}]}",
                         NULL);
        CHECK(f != NULL);
        if (!f)
                return;
        CHECK(f->flags == (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW));
        st = run_filtered(f, child_getcwd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

        /* a flag the kernel refuses at load time: install retries without it */
        f->flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
        st = run_filtered(f, child_getcwd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        CHECK(drop_optional_flag(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_LOG) ==
              SECCOMP_FILTER_FLAG_NEW_LISTENER);
        CHECK(drop_optional_flag(SECCOMP_FILTER_FLAG_NEW_LISTENER) == SECCOMP_FILTER_FLAG_NEW_LISTENER);

        /* an unknown bit is not optional: a clear failure, not a silent retry */
        f->flags = 1UL << 30;
        st = run_filtered(f, child_true);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 100);
        seccomp_filter_free(f);
}

/* ---- notify ---- */

static int recv_with_fd(int sock, char *buf, size_t size, int *ret_fd) {
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = size - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.b,
                             .msg_controllen = sizeof control.b };
        struct cmsghdr *cmsg;
        ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

        if (n <= 0)
                return -1;
        buf[n] = '\0';
        cmsg = CMSG_FIRSTHDR(&mh);
        if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
                return -1;
        memcpy(ret_fd, CMSG_DATA(cmsg), sizeof(int));
        return 0;
}

static void test_notify(void) {
        static const char json[] = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/tmp/urun-test-agent.sock\","
                                   "\"listenerMetadata\":\"hello \\\"agent\\\"\",\"flags\":"
                                   "[\"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV\",\"SECCOMP_FILTER_FLAG_TSYNC\"],"
                                   "\"syscalls\":[{\"names\":[\"getppid\"],\"action\":\"SCMP_ACT_NOTIFY\"}]}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/tmp/urun-test-agent.sock" };
        struct seccomp_notif req = {};
        struct seccomp_notif_resp resp = {};
        SeccompSpec *s = NULL;
        SeccompFilter *f = NULL;
        char *err = NULL, *msg = NULL, buf[4096];
        int srv, sock = -1, conn, notify_fd = -1, st = -1;
        pid_t pid;

        CHECK_RET(parse(json, &s, &err), 0);
        if (!s)
                return;
        CHECK_RET(seccomp_prepare(s, NULL, &f), 0);
        CHECK(f && (f->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) && (f->flags & SECCOMP_FILTER_FLAG_TSYNC_ESRCH));

        (void) unlink(sa.sun_path);
        srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(srv >= 0 && bind(srv, (struct sockaddr *) &sa, sizeof sa) == 0 && listen(srv, 1) == 0);
        CHECK_RET(seccomp_listener_connect(s, &sock), 0);
        conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
        CHECK(conn >= 0);
        CHECK_RET(seccomp_listener_message(s, 4242, "{\"id\":\"c1\",\"status\":\"creating\"}", &msg), 0);
        CHECK_STR(msg, "{\"ociVersion\":\"1.2.0\",\"fds\":[\"seccompFd\"],\"pid\":4242,\"metadata\":\"hello "
                       "\\\"agent\\\"\",\"state\":{\"id\":\"c1\",\"status\":\"creating\"}}");
        if (!f || sock < 0 || conn < 0 || !msg)
                goto out;

        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || seccomp_install(f, sock, msg) < 0)
                        _exit(100);
                /* the agent answers for us */
                _exit(getppid() == 4243 ? 0 : 1);
        }
        CHECK(recv_with_fd(conn, buf, sizeof buf, &notify_fd) == 0);
        CHECK_STR(buf, msg);
        CHECK(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0);
        CHECK(req.pid == (uint32_t) pid && req.data.nr == SYS_getppid);
        resp.id = req.id;
        resp.val = 4243;
        CHECK(ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0);
        (void) waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
out:
        safe_close(notify_fd);
        safe_close(conn);
        safe_close(sock);
        safe_close(srv);
        (void) unlink(sa.sun_path);
        free(msg);
        seccomp_filter_free(f);
        seccomp_spec_free(s);
}

/* ---- cache and build time ---- */

static double now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static SeccompSpec *load_fixture(void) {
        const char *srcdir = getenv("SRCDIR") ?: ".";
        json_object *o = NULL, *linux_o, *sc;
        SeccompSpec *ret = NULL;
        ParseCtx c = {};
        Spec s = {};
        char path[4096];

        snprintf(path, sizeof path, "%s/tests/data/seccomp-default.json", srcdir);
        o = json_object_from_file(path);
        if (!o || !json_object_object_get_ex(o, "linux", &linux_o) ||
            !json_object_object_get_ex(linux_o, "seccomp", &sc))
                goto out;
        if (spec_parse_seccomp(&c, sc, &s) < 0) {
                printf("# fixture: %s\n", c.error);
                seccomp_spec_free(s.seccomp);
                goto out;
        }
        ret = s.seccomp;
out:
        free(c.error);
        json_object_put(o);
        return ret;
}

static bool same_filter(const SeccompFilter *a, const SeccompFilter *b) {
        return a->n_insns == b->n_insns && memcmp(a->insns, b->insns, a->n_insns * sizeof(struct sock_filter)) == 0;
}

static void test_cache(void) {
        char dir[] = "/tmp/urun-test-seccomp-XXXXXX", cache[64], name[128];
        SeccompSpec *s = load_fixture();
        SeccompFilter *plain = NULL, *miss = NULL, *hit = NULL, *again = NULL;
        double t0, t_plain, t_miss, t_hit;
        int fd;

        if (!s) {
                SKIP("tests/data/seccomp-default.json not found (set SRCDIR)");
                return;
        }
        CHECK(s->n_syscalls > 5 && s->n_architectures == 3);
        CHECK(mkdtemp(dir) != NULL);
        snprintf(cache, sizeof cache, "%s/cache", dir);

        t0 = now_ms();
        CHECK_RET(seccomp_prepare(s, NULL, &plain), 0);
        t_plain = now_ms() - t0;
        t0 = now_ms();
        CHECK_RET(seccomp_prepare(s, cache, &miss), 0);
        t_miss = now_ms() - t0;
        t0 = now_ms();
        CHECK_RET(seccomp_prepare(s, cache, &hit), 0);
        t_hit = now_ms() - t0;
        printf("# default profile: %zu BPF instructions; compile %.2f ms, cache miss+store %.2f ms, cache hit %.2f ms\n",
               plain ? plain->n_insns : 0, t_plain, t_miss, t_hit);
        CHECK(plain && miss && hit && same_filter(plain, miss) && same_filter(plain, hit));

        /* a different filter must not come out of the cache: the stored key is compared in full */
        s->syscalls[0].action = SECCOMP_ACTION_LOG;
        CHECK_RET(seccomp_prepare(s, cache, &again), 0);
        CHECK(again && hit && !same_filter(again, hit));
        seccomp_filter_free(again);
        again = NULL;
        s->syscalls[0].action = SECCOMP_ACTION_ALLOW;

        /* a damaged entry is recompiled, not trusted */
        {
                _cleanup_free_ char *key = NULL;
                size_t key_len;

                CHECK_RET(cache_key(s, &key, &key_len), 0);
                snprintf(name, sizeof name, "%s/%016" PRIx64 ".bpf", cache, fnv1a64(key, key_len));
        }
        fd = open(name, O_WRONLY | O_TRUNC | O_CLOEXEC);
        CHECK(fd >= 0 && write(fd, "URUNBPF1garbage", 15) == 15);
        safe_close(fd);
        CHECK_RET(seccomp_prepare(s, cache, &again), 0);
        CHECK(again && plain && same_filter(again, plain));

        /* a cache others could write to is not used: nothing is stored there */
        CHECK(unlink(name) == 0 && chmod(cache, 0777) == 0);
        seccomp_filter_free(again);
        again = NULL;
        CHECK_RET(seccomp_prepare(s, cache, &again), 0);
        CHECK(again && plain && same_filter(again, plain));
        CHECK(access(name, F_OK) < 0 && errno == ENOENT);

        seccomp_filter_free(plain);
        seccomp_filter_free(miss);
        seccomp_filter_free(hit);
        seccomp_filter_free(again);
        seccomp_spec_free(s);
        (void) rm_rf_at(AT_FDCWD, dir);
}

static void test_validate(void) {
        SeccompSpec s = { .default_action = SECCOMP_ACTION_ERRNO, .has_default_errno_ret = true,
                          .default_errno_ret = 65536 };

        CHECK_RET(seccomp_validate(&s), -EINVAL);
        s.default_errno_ret = 1;
        CHECK_RET(seccomp_validate(&s), 0);
}

int main(void) {
        test_parse_errors();
        test_parse_ok();
        test_mapping();
        test_validate();
        test_filters();
        test_flags();
        test_notify();
        test_cache();
        return tap_done();
}
