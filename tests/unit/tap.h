/* Minimal TAP for unit tests: the plan is printed at the end so it cannot drift. */
#pragma once

#include <stdio.h>
#include <string.h>

static unsigned tap_n, tap_failed;

#define CHECK(e)                                                                                            \
        do {                                                                                                \
                ++tap_n;                                                                                    \
                if (e)                                                                                      \
                        printf("ok %u - %s\n", tap_n, #e);                                                  \
                else {                                                                                      \
                        ++tap_failed;                                                                       \
                        printf("not ok %u - %s  (%s:%d)\n", tap_n, #e, __FILE__, __LINE__);                 \
                }                                                                                           \
        } while (0)

#define CHECK_RET(call, want)                                                                               \
        do {                                                                                                \
                int _r = (call);                                                                            \
                CHECK(_r == (want));                                                                        \
                if (_r != (want))                                                                           \
                        printf("# got %d (%s), want %d\n", _r, strerror(_r < 0 ? -_r : _r), (want));        \
        } while (0)

#define CHECK_STR(got, want)                                                                                \
        do {                                                                                                \
                const char *_g = (got), *_w = (want);                                                       \
                CHECK(_g && _w && strcmp(_g, _w) == 0);                                                     \
                if (!(_g && _w && strcmp(_g, _w) == 0))                                                     \
                        printf("# got '%s', want '%s'\n", _g ? _g : "(null)", _w ? _w : "(null)");          \
        } while (0)

#define SKIP(why) printf("ok %u # SKIP %s\n", ++tap_n, (why))

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed ? 1 : 0;
}
