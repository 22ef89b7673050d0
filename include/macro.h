/* Base layer: cleanup attributes, ownership transfer, small helpers. Depends on libc only. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline void freep(void *p) {
        free(*(void **) p);
}

/* Never retry close() on EINTR: on Linux the fd is already gone. */
static inline void closep(int *fd) {
        if (*fd >= 0)
                (void) close(*fd);
}

static inline int safe_close(int fd) {
        if (fd >= 0)
                (void) close(fd);
        return -EBADF;
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

#define TAKE_PTR(p)                                                                                         \
        ({                                                                                                  \
                __typeof__(p) _p = (p);                                                                     \
                (p) = NULL;                                                                                 \
                _p;                                                                                         \
        })
#define TAKE_FD(fd)                                                                                         \
        ({                                                                                                  \
                int _fd = (fd);                                                                             \
                (fd) = -EBADF;                                                                              \
                _fd;                                                                                        \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* libc and libcap report -1 + errno: convert at the call site. */
static inline int neg_errno(int r) {
        return r < 0 ? -errno : r;
}

#define streq(a, b) (strcmp((a), (b)) == 0)

/* The OCI runtime-spec version urun implements (state, features, seccomp listener messages). */
#define URUN_OCI_VERSION "1.2.0"
