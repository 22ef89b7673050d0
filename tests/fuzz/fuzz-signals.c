/* libFuzzer target: signal_from_string() on the input as a C string, signal_to_string() on the
 * first four bytes as an int. Invariant: a parsed signal is in 1..SIGRTMAX and its canonical name
 * parses back to the same number. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "signals.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        const char *name;
        int sig, n = 0;

        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = '\0';

        sig = signal_from_string(s);
        if (sig >= 0) {
                if (sig < 1 || sig > SIGRTMAX)
                        abort();
                name = signal_to_string(sig);
                if (name && signal_from_string(name) != sig)
                        abort();
        } else if (sig != -EINVAL)
                abort();

        memcpy(&n, data, size < sizeof(n) ? size : sizeof(n));
        name = signal_to_string(n);
        if (name && signal_from_string(name) != n)
                abort();
        return 0;
}
