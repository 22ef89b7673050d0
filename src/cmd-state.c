/* `urun state ID`: print the OCI state of one container. Takes no lock: it must answer while
 * `create` holds the container's lock. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "log.h"
#include "state.h"

static void state_help(void) {
        printf("Usage: urun state CONTAINER-ID\n"
               "Print the OCI state of a container as JSON.\n");
}

static int open_container_dir(const char *root, const char *id, int *ret_fd) {
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        /* Read-only open: a missing root just means no containers, and `state` creates nothing. */
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0 && errno != ENOENT)
                return log_errno(LOG_ERR, -errno, "cannot open state directory '%s': %m", root);
        if (root_fd < 0)
                r = -ENOENT;
        else
                r = state_dir_open(root_fd, id, ret_fd);
        if (r == -ENOENT)
                return log_errno(LOG_ERR, r, "container '%s' does not exist", id);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot open state of container '%s' in '%s': %m", id, root);
        return 0;
}


static int print_state(const char *root, const char *id) {
        _cleanup_close_ int dir_fd = -EBADF;
        _cleanup_state_free_ ContainerState *s = NULL;
        _cleanup_free_ char *json = NULL;
        int r;

        r = open_container_dir(root, id, &dir_fd);
        if (r < 0)
                return r;

        r = state_read(dir_fd, &s);
        if (r == -ENOENT)
                r = state_new_creating(dir_fd, id, &s);
        if (r == -EINVAL)
                return log_errno(LOG_ERR, r, "corrupt state file %s/%s/%s", root, id, STATE_FILE);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot read %s/%s/%s: %m", root, id, STATE_FILE);

        r = state_to_json(s, state_status(dir_fd, s), &json);
        if (r < 0)
                return log_errno(LOG_ERR, r, "cannot format the state of '%s': %m", id);
        if (puts(json) == EOF || fflush(stdout) != 0)
                return log_errno(LOG_ERR, errno > 0 ? -errno : -EIO, "cannot write to standard output: %m");
        return 0;
}

int cmd_state(const GlobalOptions *g, int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *id;
        int c, r;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        state_help();
                        return 0;
                default:
                        return 1;
                }
        }
        if (argc - optind != 1) {
                log_error("state: expected exactly one argument, the container ID");
                return 1;
        }
        id = argv[optind];

        r = state_validate_id(id);
        if (r < 0) {
                log_errno(LOG_ERR, r, "invalid container id '%s': %m (want 1-250 characters of [A-Za-z0-9_.+-])", id);
                return 1;
        }
        return print_state(g->root, id) < 0 ? 1 : 0;
}
