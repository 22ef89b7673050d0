/* `urun exec [OPTIONS] ID [COMMAND [ARGS...]]`: the flags of runc's exec (Podman sends --process,
 * --detach, --pid-file, --tty, --console-socket and --preserve-fds; containerd's shim --process,
 * --detach and --pid-file). Only parsing here; exec.c merges the flags into the process. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "exec.h"
#include "log.h"
#include "util.h"

enum {
        OPT_CONSOLE_SOCKET = 256,
        OPT_PID_FILE,
        OPT_CWD,
        OPT_NO_NEW_PRIVS,
        OPT_PRESERVE_FDS,
        OPT_IGNORE_PAUSED,
        OPT_PROCESS_LABEL,
        OPT_APPARMOR,
};

static const char short_opts[] = "+tdp:e:u:g:c:";

static const struct option exec_opts[] = {
        { "tty", no_argument, NULL, 't' },
        { "console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET },
        { "detach", no_argument, NULL, 'd' },
        { "pid-file", required_argument, NULL, OPT_PID_FILE },
        { "process", required_argument, NULL, 'p' },
        { "cwd", required_argument, NULL, OPT_CWD },
        { "env", required_argument, NULL, 'e' },
        { "user", required_argument, NULL, 'u' },
        { "additional-gids", required_argument, NULL, 'g' },
        { "cap", required_argument, NULL, 'c' },
        { "no-new-privs", no_argument, NULL, OPT_NO_NEW_PRIVS },
        { "preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS },
        { "ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED },
        { "process-label", required_argument, NULL, OPT_PROCESS_LABEL },
        { "apparmor", required_argument, NULL, OPT_APPARMOR },
        {},
};

typedef struct {
        ExecOptions o;
        char **env;     /* owned copies of --env */
        char **caps;    /* owned copies of --cap */
        uint32_t *gids; /* --additional-gids */
} ExecArgs;

static void exec_args_done(ExecArgs *a) {
        strv_free(a->env);
        strv_free(a->caps);
        free(a->gids);
}

/* UID[:GID], numbers only (as runc: names would have to be looked up in the container). */
static int parse_user(const char *s, ExecOptions *o) {
        _cleanup_free_ char *copy = strdup(s);
        char *colon;

        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon)
                *colon++ = '\0';
        if (safe_atou32(copy, &o->uid) < 0 || o->uid == UINT32_MAX ||
            (colon && (safe_atou32(colon, &o->gid) < 0 || o->gid == UINT32_MAX)))
                return log_errno(LOG_ERR, -EINVAL, "--user: expected UID[:GID] (numbers), got '%s'", s);
        o->has_uid = true;
        o->has_gid = colon != NULL;
        return 0;
}

/* Repeatable, and each value may be a comma-separated list. */
static int parse_gids(const char *s, ExecArgs *a) {
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                uint32_t gid, *n;

                if (safe_atou32(t, &gid) < 0 || gid == UINT32_MAX)
                        return log_errno(LOG_ERR, -EINVAL, "--additional-gids: expected a gid, got '%s'", t);
                n = reallocarray(a->gids, a->o.n_additional_gids + 1, sizeof *n);
                if (!n)
                        return -ENOMEM;
                a->gids = n;
                a->gids[a->o.n_additional_gids++] = gid;
        }
        return 0;
}

static int parse_env(const char *s, ExecArgs *a) {
        if (!strchr(s, '=') || s[0] == '=')
                return log_errno(LOG_ERR, -EINVAL, "--env: expected KEY=VALUE, got '%s'", s);
        return strv_extend(&a->env, s);
}

/* getopt_long reports an unknown option, a missing value and an unwanted one alike. */
static int bad_option(char **argv) {
        const char *arg = argv[optind - 1];
        const char *eq = strchr(arg, '=');

        if (optopt == 0)
                return log_errno(LOG_ERR, -EINVAL, "exec: unknown option '%s'", arg);
        if (string_has_prefix(arg, "--") && eq)
                return log_errno(LOG_ERR, -EINVAL, "exec: option '%.*s' takes no value", (int) (eq - arg), arg);
        if (optopt >= 256 || strchr(short_opts + 1, optopt))
                return log_errno(LOG_ERR, -EINVAL, "exec: option '%s' needs a value", arg);
        return log_errno(LOG_ERR, -EINVAL, "exec: unknown option '-%c'", optopt);
}

static int parse_one(int c, char **argv, ExecArgs *a) {
        ExecOptions *o = &a->o;

        switch (c) {
        case 't': o->tty = true; return 0;
        case 'd': o->detach = true; return 0;
        case 'p': o->process_file = optarg; return 0;
        case 'e': return parse_env(optarg, a);
        case 'u': return parse_user(optarg, o);
        case 'g': return parse_gids(optarg, a);
        case 'c': return strv_extend(&a->caps, optarg);
        case OPT_CONSOLE_SOCKET: o->console_socket = optarg; return 0;
        case OPT_PID_FILE: o->pid_file = optarg; return 0;
        case OPT_CWD: o->cwd = optarg; return 0;
        case OPT_NO_NEW_PRIVS: o->no_new_privs = true; return 0;
        case OPT_IGNORE_PAUSED: o->ignore_paused = true; return 0;
        case OPT_PROCESS_LABEL: o->process_label = optarg; return 0;
        case OPT_APPARMOR: o->apparmor = optarg; return 0;
        case OPT_PRESERVE_FDS:
                if (safe_atou32(optarg, &o->preserve_fds) < 0 || o->preserve_fds > 65536)
                        return log_errno(LOG_ERR, -EINVAL, "--preserve-fds: expected a number, got '%s'", optarg);
                return 0;
        default:
                return bad_option(argv);
        }
}

static int parse_exec(int argc, char **argv, ExecArgs *a) {
        int c, r;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, short_opts, exec_opts, NULL)) >= 0) {
                r = parse_one(c, argv, a);
                if (r == -ENOMEM)
                        return log_errno(LOG_ERR, r, "exec: %m");
                if (r < 0)
                        return r;
        }
        if (optind >= argc)
                return log_errno(LOG_ERR, -EINVAL, "exec: expected a container ID (usage: urun exec [OPTIONS] ID [COMMAND [ARGS...]])");
        a->o.id = argv[optind];
        a->o.args = argv + optind + 1;
        if (a->o.args[0] && streq(a->o.args[0], "--")) /* `urun exec ID -- CMD...` */
                a->o.args++;
        if (!a->o.args[0] && !a->o.process_file)
                return log_errno(LOG_ERR, -EINVAL, "exec: expected a command to run, or --process FILE (usage: urun exec [OPTIONS] ID COMMAND [ARGS...])");
        a->o.env = a->env;
        a->o.caps = a->caps;
        a->o.additional_gids = a->gids;
        return 0;
}

int cmd_exec(const GlobalOptions *g, int argc, char **argv) {
        ExecArgs a = {};
        int r, status = 1;

        r = parse_exec(argc, argv, &a);
        if (r >= 0)
                r = container_exec(g, &a.o, &status);
        exec_args_done(&a);
        return r < 0 ? 1 : status;
}
