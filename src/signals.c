/* Signal names and numbers, as `kill` and runc accept them. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "signals.h"

/* Full names; lookups skip the "SIG". Aliases come after the canonical name so that
 * signal_to_string finds the canonical one first. */
static const struct {
        int sig;
        const char *name;
} signal_table[] = {
        { SIGHUP, "SIGHUP" }, { SIGINT, "SIGINT" }, { SIGQUIT, "SIGQUIT" }, { SIGILL, "SIGILL" },
        { SIGTRAP, "SIGTRAP" }, { SIGABRT, "SIGABRT" }, { SIGBUS, "SIGBUS" }, { SIGFPE, "SIGFPE" },
        { SIGKILL, "SIGKILL" }, { SIGUSR1, "SIGUSR1" }, { SIGSEGV, "SIGSEGV" }, { SIGUSR2, "SIGUSR2" },
        { SIGPIPE, "SIGPIPE" }, { SIGALRM, "SIGALRM" }, { SIGTERM, "SIGTERM" },
        { SIGSTKFLT, "SIGSTKFLT" }, { SIGCHLD, "SIGCHLD" }, { SIGCONT, "SIGCONT" },
        { SIGSTOP, "SIGSTOP" }, { SIGTSTP, "SIGTSTP" }, { SIGTTIN, "SIGTTIN" }, { SIGTTOU, "SIGTTOU" },
        { SIGURG, "SIGURG" }, { SIGXCPU, "SIGXCPU" }, { SIGXFSZ, "SIGXFSZ" }, { SIGVTALRM, "SIGVTALRM" },
        { SIGPROF, "SIGPROF" }, { SIGWINCH, "SIGWINCH" }, { SIGIO, "SIGIO" }, { SIGPWR, "SIGPWR" },
        { SIGSYS, "SIGSYS" }, { SIGIOT, "SIGIOT" }, { SIGCLD, "SIGCLD" }, { SIGPOLL, "SIGPOLL" },
};

/* Real-time signals are named relative to both ends, as bash's `kill -l` does: the lower half
 * from SIGRTMIN upwards, the upper half from SIGRTMAX downwards. */
static const char *const rtmin_names[] = {
        "SIGRTMIN",    "SIGRTMIN+1",  "SIGRTMIN+2",  "SIGRTMIN+3",  "SIGRTMIN+4",  "SIGRTMIN+5",
        "SIGRTMIN+6",  "SIGRTMIN+7",  "SIGRTMIN+8",  "SIGRTMIN+9",  "SIGRTMIN+10", "SIGRTMIN+11",
        "SIGRTMIN+12", "SIGRTMIN+13", "SIGRTMIN+14", "SIGRTMIN+15",
};
static const char *const rtmax_names[] = {
        "SIGRTMAX",    "SIGRTMAX-1",  "SIGRTMAX-2",  "SIGRTMAX-3",  "SIGRTMAX-4",  "SIGRTMAX-5",
        "SIGRTMAX-6",  "SIGRTMAX-7",  "SIGRTMAX-8",  "SIGRTMAX-9",  "SIGRTMAX-10", "SIGRTMAX-11",
        "SIGRTMAX-12", "SIGRTMAX-13", "SIGRTMAX-14", "SIGRTMAX-15",
};

/* Only plain decimal digits: no sign, no spaces, no hex. Returns -EINVAL otherwise. */
static int parse_small_uint(const char *s) {
        int n = 0;

        if (!*s)
                return -EINVAL;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                n = n * 10 + (*s - '0');
                if (n > 1000)
                        return -EINVAL;
        }
        return n;
}

static int rt_from_string(const char *name) {
        int n;

        if (strcasecmp(name, "RTMIN") == 0)
                return SIGRTMIN;
        if (strcasecmp(name, "RTMAX") == 0)
                return SIGRTMAX;
        if (strncasecmp(name, "RTMIN+", 6) == 0) {
                n = parse_small_uint(name + 6);
                if (n < 0 || SIGRTMIN + n > SIGRTMAX)
                        return -EINVAL;
                return SIGRTMIN + n;
        }
        if (strncasecmp(name, "RTMAX-", 6) == 0) {
                n = parse_small_uint(name + 6);
                if (n < 0 || SIGRTMAX - n < SIGRTMIN)
                        return -EINVAL;
                return SIGRTMAX - n;
        }
        return -EINVAL;
}

int signal_from_string(const char *s) {
        const char *name;
        int n;

        if (!s || !*s)
                return -EINVAL;

        n = parse_small_uint(s);
        if (n >= 0)
                return n >= 1 && n <= SIGRTMAX ? n : -EINVAL;

        name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (strcasecmp(name, signal_table[i].name + 3) == 0)
                        return signal_table[i].sig;
        return rt_from_string(name);
}

const char *signal_to_string(int sig) {
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (signal_table[i].sig == sig)
                        return signal_table[i].name;
        if (sig < SIGRTMIN || sig > SIGRTMAX)
                return NULL;
        if (sig - SIGRTMIN <= (SIGRTMAX - SIGRTMIN) / 2) {
                if ((size_t) (sig - SIGRTMIN) < ELEMENTSOF(rtmin_names))
                        return rtmin_names[sig - SIGRTMIN];
        } else if ((size_t) (SIGRTMAX - sig) < ELEMENTSOF(rtmax_names))
                return rtmax_names[SIGRTMAX - sig];
        return NULL;
}
