/* The atomic pid file writer shared by create/run (container.c) and exec (exec.c). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "pidfile.h"
#include "util.h"

int pidfile_write(const char *path, pid_t pid) {
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -EBADF;
        const char *base = strrchr(path, '/');
        char buf[32];
        int r;

        dir = base ? strndup(path, (size_t) (base - path)) : strdup(".");
        if (!dir)
                return log_errno(LOG_ERR, -ENOMEM, "--pid-file '%s': %m", path);
        base = base ? base + 1 : path;
        if (!*base)
                return log_errno(LOG_ERR, -EISDIR, "--pid-file '%s': %m", path);
        dfd = open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return log_errno(LOG_ERR, -errno, "--pid-file '%s': %m", path);
        snprintf(buf, sizeof buf, "%d", (int) pid);
        r = write_file_atomic_at(dfd, base, buf, strlen(buf), 0644);
        if (r < 0)
                return log_errno(LOG_ERR, r, "--pid-file '%s': %m", path);
        return 0;
}
