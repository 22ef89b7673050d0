/* urun spec [--rootless] [--bundle|-b DIR]: write a default DIR/config.json, as `runc spec`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "idmap.h"
#include "log.h"
#include "spec.h"
#include "util.h"

static void usage(void) {
        printf("Usage: urun spec [--rootless] [--bundle|-b DIR]\n"
               "Write a default config.json into DIR (default: the current directory).\n"
               "  --rootless      a config for an unprivileged user: own user namespace with the\n"
               "                  caller's uid/gid as root plus its /etc/subuid and /etc/subgid ranges\n"
               "  -b, --bundle    the bundle directory\n");
}

/* The caller's subordinate ranges; none (not an error) when the lookup fails. */
static void load_subids(bool gid, IdMap **ret, size_t *ret_n) {
        struct passwd *pw = getpwuid(getuid());
        int r;

        *ret = NULL;
        *ret_n = 0;
        if (!pw) {
                log_debug("uid %u has no passwd entry, mapping no subordinate ids", (unsigned) getuid());
                return;
        }
        r = idmap_subid_ranges(pw->pw_name, gid, ret, ret_n);
        if (r < 0) {
                log_debug("no subordinate %s for %s: %s", gid ? "gids" : "uids", pw->pw_name, strerror(-r));
                *ret = NULL;
                *ret_n = 0;
        }
}

static int write_config(const char *bundle, const char *json) {
        _cleanup_close_ int dir_fd = -EBADF, fd = -EBADF;
        int r;

        dir_fd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return log_errno(LOG_ERR, -errno, "%s: %m", bundle);

        /* O_EXCL: never clobber a config someone wrote by hand, as runc. */
        fd = openat(dir_fd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd < 0 && errno == EEXIST)
                return log_errno(LOG_ERR, -EEXIST, "config.json: file exists, remove it first");
        if (fd < 0)
                return log_errno(LOG_ERR, -errno, "%s/config.json: %m", bundle);

        r = write_all(fd, json, strlen(json));
        if (r < 0) {
                (void) unlinkat(dir_fd, "config.json", 0);
                return log_errno(LOG_ERR, r, "%s/config.json: %m", bundle);
        }
        return 0;
}

static int parse_argv(int argc, char **argv, bool *rootless, const char **bundle) {
        static const struct option options[] = {
                { "rootless", no_argument, NULL, 'r' },
                { "bundle", required_argument, NULL, 'b' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        optind = 0;
        opterr = 0; /* we log ourselves, as "urun: ..." */
        while ((c = getopt_long(argc, argv, "+b:h", options, NULL)) >= 0)
                switch (c) {
                case 'r':
                        *rootless = true;
                        break;
                case 'b':
                        *bundle = optarg;
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        log_error("spec: unknown option or missing argument: '%s'", argv[optind - 1]);
                        return -EINVAL;
                }

        if (optind < argc) {
                log_error("spec: unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

int cmd_spec(const GlobalOptions *g, int argc, char **argv) {
        _cleanup_free_ IdMap *sub_uids = NULL, *sub_gids = NULL;
        _cleanup_free_ char *json = NULL;
        size_t n_sub_uids = 0, n_sub_gids = 0;
        const char *bundle = ".";
        bool rootless = g->rootless == 1;
        int r;

        /* 1. options */
        r = parse_argv(argc, argv, &rootless, &bundle);
        if (r <= 0)
                return r < 0 ? 1 : 0;

        /* 2. the caller's subordinate ids, mapped after its own id */
        if (rootless) {
                load_subids(false, &sub_uids, &n_sub_uids);
                load_subids(true, &sub_gids, &n_sub_gids);
        }

        /* 3. generate and write */
        r = spec_generate(rootless, getuid(), getgid(), sub_uids, n_sub_uids, sub_gids, n_sub_gids, &json);
        if (r < 0) {
                log_errno(LOG_ERR, r, "generating config.json: %m");
                return 1;
        }
        return write_config(bundle, json) < 0 ? 1 : 0;
}
