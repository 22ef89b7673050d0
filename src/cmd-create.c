/* `create` and `run` share their flags (run adds --detach and --keep), so they share this file. */
#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "container.h"
#include "log.h"
#include "util.h"

enum { OPT_PID_FILE = 256, OPT_CONSOLE_SOCKET, OPT_PRESERVE_FDS, OPT_NO_PIVOT, OPT_NO_NEW_KEYRING, OPT_KEEP };

static int parse_create(int argc, char **argv, bool run, CreateOptions *o) {
        static const struct option opts[] = {
                { "bundle", required_argument, NULL, 'b' },
                { "pid-file", required_argument, NULL, OPT_PID_FILE },
                { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
                { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
                { "no-pivot", no_argument, NULL, OPT_NO_PIVOT },
                { "no-new-keyring", no_argument, NULL, OPT_NO_NEW_KEYRING },
                { "detach", no_argument, NULL, 'd' },
                { "keep", no_argument, NULL, OPT_KEEP },
                {},
        };
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+b:d", opts, NULL)) >= 0) {
                switch (c) {
                case 'b': o->bundle = optarg; break;
                case OPT_PID_FILE: o->pid_file = optarg; break;
                case OPT_CONSOLE_SOCKET: o->console_socket = optarg; break;
                case OPT_NO_PIVOT: o->no_pivot = true; break;
                case OPT_NO_NEW_KEYRING: o->no_new_keyring = true; break;
                case OPT_PRESERVE_FDS:
                        if (safe_atou32(optarg, &o->preserve_fds) < 0 || o->preserve_fds > 65536)
                                return log_errno(LOG_ERR, -EINVAL, "--preserve-fds: expected a number, got '%s'", optarg);
                        break;
                case 'd':
                case OPT_KEEP:
                        if (!run)
                                return log_errno(LOG_ERR, -EINVAL, "%s: unknown option '%s'", argv[0], argv[optind - 1]);
                        if (c == 'd')
                                o->detach = true;
                        else
                                o->keep = true;
                        break;
                default:
                        return log_errno(LOG_ERR, -EINVAL, "%s: unknown option '%s'", argv[0], argv[optind - 1]);
                }
        }
        if (optind != argc - 1)
                return log_errno(LOG_ERR, -EINVAL, "%s: expected exactly one container ID (usage: urun %s [OPTIONS] ID)",
                                 argv[0], argv[0]);
        o->id = argv[optind];
        return 0;
}

int cmd_create(const GlobalOptions *g, int argc, char **argv) {
        CreateOptions o = {};

        if (parse_create(argc, argv, false, &o) < 0)
                return 1;
        return container_create(g, &o) < 0 ? 1 : 0;
}

int cmd_run(const GlobalOptions *g, int argc, char **argv) {
        CreateOptions o = {};
        int status = 1;

        if (parse_create(argc, argv, true, &o) < 0)
                return 1;
        if (container_run(g, &o, &status) < 0)
                return 1;
        return status;
}
