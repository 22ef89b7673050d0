/* Global flags and verb dispatch. Global flags come before the verb, as with runc:
 *   urun [--root DIR] [--log FILE] [--log-format text|json] [--debug] [--systemd-cgroup]
 *        [--rootless auto|true|false] [--cgroup-manager M] VERB [ARGS...] */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "selfprotect.h"
#include "state.h"
#include "util.h"

typedef struct {
        const char *name;
        int (*fn)(const GlobalOptions *g, int argc, char **argv);
        const char *summary;
        bool no_state; /* never touches the state root: do not even look it up */
} Verb;

static const Verb verbs[] = {
        { "spec", cmd_spec, "write a config.json for this user (--rootless)", true },
        { "create", cmd_create, "create a container, stopped just before its program" },
        { "start", cmd_start, "run the program of a created container" },
        { "run", cmd_run, "create and start a container, wait for it (--detach: don't)" },
        { "state", cmd_state, "print the OCI state of a container" },
        { "list", cmd_list, "list containers (--format table|json, -q)" },
        { "exec", cmd_exec, "run a new process in a running container" },
        { "kill", cmd_kill, "send a signal to a container (default SIGTERM, --all)" },
        { "delete", cmd_delete, "delete a container and its state (--force)" },
        { "pause", cmd_pause, "freeze every process of a running container (its cgroup)" },
        { "resume", cmd_resume, "thaw a paused container" },
        { "ps", cmd_ps, "list the processes of a container (--format table|json)" },
        { "update", cmd_update, "change the cgroup limits of a container (--resources FILE|-)" },
        { "events", cmd_events, "statistics and OOM events of a container as JSON lines (--stats)" },
        { "features", cmd_features, "print the OCI features document (what urun supports)", true },
};

static const char usage_text[] =
        "Usage: urun [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]\n"
        "\n"
        "A rootless OCI container runtime.\n"
        "\n"
        "Global options:\n"
        "  --root DIR              state directory (default $XDG_RUNTIME_DIR/urun, /run/urun for root)\n"
        "  --log FILE              also write log messages to FILE\n"
        "  --log-format text|json  format of --log (json: {\"level\",\"msg\",\"time\"} lines)\n"
        "  --debug                 print debug messages\n"
        "  --rootless auto|true|false  treat the caller as unprivileged (default auto)\n"
        "  --systemd-cgroup        the container's cgroup is a transient systemd scope (cgroupsPath slice:prefix:name)\n"
        "  --cgroup-manager M      disabled: no cgroup; systemd: as --systemd-cgroup; cgroupfs: the default\n"
        "  -v, --version           print the version\n"
        "  -h, --help              print this help\n"
        "\n"
        "Commands:\n";

static void usage(FILE *f) {
        fputs(usage_text, f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
        fputs("\nCommand options:\n"
              "  create|run ID [--bundle|-b DIR] [--pid-file F] [--console-socket S] [--preserve-fds N]\n"
              "                [--no-pivot] [--no-new-keyring]   run also: [--detach|-d] [--keep]\n"
              "  exec [--process|-p FILE] [--tty|-t] [--console-socket S] [--detach|-d] [--pid-file F]\n"
              "                [--cwd DIR] [--env|-e K=V]... [--user|-u UID[:GID]]\n"
              "                [--additional-gids|-g G]... [--cap|-c CAP]... [--no-new-privs] [--preserve-fds N]\n"
              "                [--ignore-paused] [--process-label L] [--apparmor P] ID [COMMAND [ARGS...]]\n"
              "  start ID | state ID | kill [--all|-a] ID [SIGNAL] | delete [--force|-f] ID\n"
              "  pause ID | resume ID | ps [--format|-f table|json] ID [PS_ARGS...]\n"
              "  events [--stats] [--interval D] ID\n"
              "  update [--resources|-r FILE|-] [--memory N] [--memory-reservation N] [--memory-swap N]\n"
              "                [--pids-limit N] [--cpu-quota N] [--cpu-period N] [--cpu-share N] [--cpu-burst N]\n"
              "                [--cpu-idle 0|1] [--cpuset-cpus L] [--cpuset-mems L] [--blkio-weight N] ID\n"
              "  list [--format|-f table|json] [--quiet|-q] | spec [--rootless] [--bundle|-b DIR] | features\n",
              f);
}

static int parse_rootless(const char *v, int *ret) {
        if (streq(v, "auto"))
                *ret = -1;
        else if (streq(v, "true"))
                *ret = 1;
        else if (streq(v, "false"))
                *ret = 0;
        else
                return -EINVAL;
        return 0;
}

/* The verbs whose processes are, until their execve, this binary inside a container. */
static bool verb_enters_container(const char *name) {
        return streq(name, "create") || streq(name, "run") || streq(name, "exec");
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD_CGROUP, OPT_ROOTLESS, OPT_CGROUP_MANAGER };

static int parse_global(int argc, char **argv, GlobalOptions *g, const char **log_format) {
        static const struct option opts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "log", required_argument, NULL, OPT_LOG },
                { "log-format", required_argument, NULL, OPT_LOG_FORMAT },
                { "debug", no_argument, NULL, OPT_DEBUG },
                { "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP },
                { "rootless", required_argument, NULL, OPT_ROOTLESS },
                { "cgroup-manager", required_argument, NULL, OPT_CGROUP_MANAGER },
                { "version", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) >= 0) {
                switch (c) {
                case OPT_ROOT: g->root = optarg; break;
                case OPT_LOG: g->log_path = optarg; break;
                case OPT_LOG_FORMAT: *log_format = optarg; break;
                case OPT_DEBUG: g->debug = true; break;
                case OPT_SYSTEMD_CGROUP: g->systemd_cgroup = true; break;
                case OPT_CGROUP_MANAGER: g->cgroup_manager = optarg; break;
                case OPT_ROOTLESS:
                        if (parse_rootless(optarg, &g->rootless) < 0)
                                return log_errno(LOG_ERR, -EINVAL, "--rootless: expected auto, true or false, got '%s'", optarg);
                        break;
                case 'v':
                        printf("urun version %s\nspec: %s\n", PACKAGE_VERSION, URUN_OCI_VERSION);
                        return 1;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        return log_errno(LOG_ERR, -EINVAL, "unknown global option '%s' (see urun --help)", argv[optind - 1]);
                }
        }
        return 0;
}

int main(int argc, char **argv) {
        GlobalOptions g = { .rootless = -1 };
        _cleanup_free_ char *root = NULL;
        const char *log_format = "text";
        int r;

        if (selfprotect_refuse_setuid() < 0)
                return 1;
        r = parse_global(argc, argv, &g, &log_format);
        if (r != 0)
                return r > 0 ? 0 : 1;
        if (!streq(log_format, "text") && !streq(log_format, "json")) {
                log_error("--log-format: expected text or json, got '%s'", log_format);
                return 1;
        }
        r = log_open(g.log_path, streq(log_format, "json"), g.debug);
        if (r < 0) {
                log_errno(LOG_ERR, r, "--log '%s': %m", g.log_path);
                return 1;
        }
        if (optind >= argc) {
                usage(stderr);
                return 1;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[optind], verbs[i].name))
                        continue;
                /* verbs whose processes enter a container run from a binary they cannot write */
                if (verb_enters_container(verbs[i].name) && selfprotect_exe(argc, argv) < 0)
                        return 1;
                if (!g.root && !verbs[i].no_state) {
                        r = state_default_root(&root);
                        if (r < 0) {
                                log_errno(LOG_ERR, r, "cannot find a state directory (set XDG_RUNTIME_DIR or use --root): %m");
                                return 1;
                        }
                        g.root = root;
                }
                /* each verb parses its own flags, from argv[0] = the verb */
                return verbs[i].fn(&g, argc - optind, argv + optind);
        }
        log_error("unknown command '%s' (see urun --help)", argv[optind]);
        return 1;
}
