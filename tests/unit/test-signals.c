#include <errno.h>
#include <signal.h>

#include "signals.h"
#include "tap.h"

static void test_names(void) {
        CHECK_RET(signal_from_string("KILL"), SIGKILL);
        CHECK_RET(signal_from_string("SIGKILL"), SIGKILL);
        CHECK_RET(signal_from_string("kill"), SIGKILL);
        CHECK_RET(signal_from_string("sigterm"), SIGTERM);
        CHECK_RET(signal_from_string("HUP"), SIGHUP);
        CHECK_RET(signal_from_string("SIGSYS"), SIGSYS);
        CHECK_RET(signal_from_string("WINCH"), SIGWINCH);
        CHECK_RET(signal_from_string("SIGCLD"), SIGCHLD);
        CHECK_RET(signal_from_string("IOT"), SIGABRT);
}

static void test_realtime(void) {
        CHECK_RET(signal_from_string("RTMIN"), SIGRTMIN);
        CHECK_RET(signal_from_string("SIGRTMIN+1"), SIGRTMIN + 1);
        CHECK_RET(signal_from_string("sigrtmax-2"), SIGRTMAX - 2);
        CHECK_RET(signal_from_string("SIGRTMAX"), SIGRTMAX);
        CHECK_RET(signal_from_string("RTMIN+99"), -EINVAL);
        CHECK_RET(signal_from_string("RTMAX+1"), -EINVAL);
        CHECK_RET(signal_from_string("RTMIN+"), -EINVAL);
        CHECK_RET(signal_from_string("RTMIN-1"), -EINVAL);
}

static void test_numbers(void) {
        CHECK_RET(signal_from_string("9"), 9);
        CHECK_RET(signal_from_string("1"), 1);
        CHECK_RET(signal_from_string("64"), 64);
        CHECK_RET(signal_from_string("0"), -EINVAL);
        CHECK_RET(signal_from_string("65"), -EINVAL);
        CHECK_RET(signal_from_string("-9"), -EINVAL);
        CHECK_RET(signal_from_string("+9"), -EINVAL);
        CHECK_RET(signal_from_string(" 9"), -EINVAL);
        CHECK_RET(signal_from_string("99999999999999999999"), -EINVAL);
}

static void test_garbage(void) {
        CHECK_RET(signal_from_string(""), -EINVAL);
        CHECK_RET(signal_from_string(NULL), -EINVAL);
        CHECK_RET(signal_from_string("SIG"), -EINVAL);
        CHECK_RET(signal_from_string("FOO"), -EINVAL);
        CHECK_RET(signal_from_string("SIGKILLX"), -EINVAL);
        CHECK_RET(signal_from_string("SIGSIGKILL"), -EINVAL);
        CHECK_RET(signal_from_string("9x"), -EINVAL);
}

static void test_to_string(void) {
        unsigned bad = 0;

        CHECK_STR(signal_to_string(SIGKILL), "SIGKILL");
        CHECK_STR(signal_to_string(SIGABRT), "SIGABRT");
        CHECK_STR(signal_to_string(SIGCHLD), "SIGCHLD");
        CHECK_STR(signal_to_string(SIGRTMIN), "SIGRTMIN");
        CHECK_STR(signal_to_string(SIGRTMIN + 15), "SIGRTMIN+15");
        CHECK_STR(signal_to_string(SIGRTMAX - 1), "SIGRTMAX-1");
        CHECK_STR(signal_to_string(SIGRTMAX), "SIGRTMAX");
        CHECK(signal_to_string(0) == NULL);
        CHECK(signal_to_string(SIGRTMAX + 1) == NULL);

        /* Every named signal parses back to itself. */
        for (int sig = 1; sig <= SIGRTMAX; sig++) {
                const char *name = signal_to_string(sig);

                if (!name) {
                        if (sig < SIGRTMIN && sig > SIGSYS)     /* glibc-reserved 32, 33 */
                                continue;
                        bad++;
                } else if (signal_from_string(name) != sig)
                        bad++;
        }
        CHECK(bad == 0);
}

int main(void) {
        test_names();
        test_realtime();
        test_numbers();
        test_garbage();
        test_to_string();
        return tap_done();
}
