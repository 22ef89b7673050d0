/* hooks_run(): stdin, args, env, order, failures, timeout. Runs real hooks through /bin/sh. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hooks.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/urun-test-hooks-XXXXXX";

static char *path_in_dir(const char *name) {
        char *p = strjoin_path(dir, name);

        if (!p)
                abort();
        return p;
}

/* Contents of a file in dir, "" when missing, so CHECK_STR reports what happened. */
static char *slurp(const char *name) {
        _cleanup_free_ char *p = path_in_dir(name);
        char *data = NULL;

        if (read_file_at(AT_FDCWD, p, 1 << 20, &data, NULL) < 0)
                return strdup("");
        return data;
}

static HookSpec sh_hook(char *script, int timeout) {
        char **args = NULL;

        if (strv_extend(&args, "sh") < 0 || strv_extend(&args, "-c") < 0 || strv_extend(&args, script) < 0)
                abort();
        return (HookSpec) { .path = (char *) "/bin/sh", .args = args, .timeout = timeout };
}

static void hooks_free(HookSpec *h, size_t n) {
        for (size_t i = 0; i < n; i++)
                strv_free(h[i].args);
}

static void test_stdin(void) {
        const char *state = "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":42}";
        _cleanup_free_ char *script = NULL, *got = NULL;
        HookSpec h;

        if (asprintf(&script, "cat > %s/stdin", dir) < 0)
                abort();
        h = sh_hook(script, 0);
        CHECK_RET(hooks_run(HOOK_PRESTART, &h, 1, state), 0);
        got = slurp("stdin");
        CHECK_STR(got, state);
        hooks_free(&h, 1);
}

/* A state larger than a pipe buffer, to a hook that never reads it: no hang, no SIGPIPE death. */
static void test_ignores_stdin(void) {
        _cleanup_free_ char *big = malloc(1 << 20);
        HookSpec h = sh_hook((char *) "exit 0", 5);

        if (!big)
                abort();
        memset(big, 'x', (1 << 20) - 1);
        big[(1 << 20) - 1] = '\0';
        CHECK_RET(hooks_run(HOOK_POSTSTOP, &h, 1, big), 0);
        hooks_free(&h, 1);
}

static void test_args_env(void) {
        _cleanup_free_ char *script = NULL, *got = NULL;
        char *env[] = { (char *) "FOO=bar baz", NULL };
        char **args = NULL;
        HookSpec h;

        if (asprintf(&script, "echo \"$0 $1 $FOO $URUN_TEST_LEAK\" > %s/args", dir) < 0)
                abort();
        if (strv_extend(&args, "/bin/sh") < 0 || strv_extend(&args, "-c") < 0 || strv_extend(&args, script) < 0 ||
            strv_extend(&args, "zero") < 0 || strv_extend(&args, "one") < 0)
                abort();
        h = (HookSpec) { .path = (char *) "/bin/sh", .args = args, .env = env };
        (void) setenv("URUN_TEST_LEAK", "leaked", 1);
        CHECK_RET(hooks_run(HOOK_CREATE_RUNTIME, &h, 1, "{}"), 0);
        got = slurp("args");
        /* Exactly the given env: nothing leaks in from the runtime's environment. */
        CHECK_STR(got, "zero one bar baz \n");
        (void) unsetenv("URUN_TEST_LEAK");
        strv_free(args);
}

static void test_order_and_failure(void) {
        _cleanup_free_ char *s1 = NULL, *s3 = NULL, *got = NULL;
        HookSpec h[4];

        if (asprintf(&s1, "echo one >> %s/order", dir) < 0 || asprintf(&s3, "echo three >> %s/order", dir) < 0)
                abort();
        h[0] = sh_hook(s1, 0);
        h[1] = sh_hook(s3, 0);
        CHECK_RET(hooks_run(HOOK_CREATE_CONTAINER, h, 2, "{}"), 0);
        got = slurp("order");
        CHECK_STR(got, "one\nthree\n");
        hooks_free(h, 2);
        free(got);

        /* The second fails: the third must not run. */
        h[0] = sh_hook(s1, 0);
        h[1] = sh_hook((char *) "exit 3", 0);
        h[2] = sh_hook(s3, 0);
        CHECK_RET(hooks_run(HOOK_START_CONTAINER, h, 3, "{}"), -EIO);
        got = slurp("order");
        CHECK_STR(got, "one\nthree\none\n");
        hooks_free(h, 3);

        h[0] = sh_hook((char *) "kill -9 $$", 0);
        CHECK_RET(hooks_run(HOOK_POSTSTART, h, 1, "{}"), -EIO);
        hooks_free(h, 1);

        h[0] = (HookSpec) { .path = (char *) "/bin/false" };
        CHECK_RET(hooks_run(HOOK_PRESTART, h, 1, "{}"), -EIO);
}

static void test_exec_failure(void) {
        HookSpec h = { .path = (char *) "/nonexistent/hook" };
        HookSpec rel = { .path = (char *) "true" };   /* never resolved through PATH */

        CHECK_RET(hooks_run(HOOK_PRESTART, &h, 1, "{}"), -ENOENT);
        CHECK_RET(hooks_run(HOOK_PRESTART, &rel, 1, "{}"), -ENOENT);
}

static double now(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void test_timeout(void) {
        _cleanup_free_ char *script = NULL, *pidtext = NULL;
        double t0, elapsed;
        HookSpec h;
        int pid = 0;

        if (asprintf(&script, "echo $$ > %s/pid; exec sleep 10", dir) < 0)
                abort();
        h = sh_hook(script, 1);
        t0 = now();
        CHECK_RET(hooks_run(HOOK_CREATE_RUNTIME, &h, 1, "{}"), -ETIME);
        elapsed = now() - t0;
        CHECK(elapsed >= 0.9 && elapsed < 5);
        pidtext = slurp("pid");
        pidtext[strcspn(pidtext, "\n")] = '\0';
        CHECK(safe_atoi(pidtext, &pid) >= 0 && pid > 0);
        /* Killed and reaped: the pid no longer exists. */
        CHECK(pid > 0 && kill(pid, 0) < 0 && errno == ESRCH);
        hooks_free(&h, 1);
}

static void test_sigpipe_restored(void) {
        struct sigaction sa;
        HookSpec h = sh_hook((char *) "exit 0", 0);

        (void) signal(SIGPIPE, SIG_DFL);
        CHECK_RET(hooks_run(HOOK_PRESTART, &h, 1, "{}"), 0);
        CHECK(sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL);
        CHECK_RET(hooks_run(HOOK_PRESTART, NULL, 0, "{}"), 0);
        hooks_free(&h, 1);
}

int main(void) {
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        test_stdin();
        test_ignores_stdin();
        test_args_env();
        test_order_and_failure();
        test_exec_failure();
        test_timeout();
        test_sigpipe_restored();
        (void) rm_rf_at(AT_FDCWD, dir);
        return tap_done();
}
