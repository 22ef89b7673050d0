#include <getopt.h>
#include <string.h>

#include "cmd-options.h"
#include "log.h"
#include "util.h"

int cmd_bad_option(const char *verb, const char *short_opts, char **argv) {
        const char *arg = argv[optind - 1], *eq = strchr(arg, '=');
        const char *shorts = short_opts + strspn(short_opts, "+-:");

        if (optopt == 0)
                return log_errno(LOG_ERR, -EINVAL, "%s: unknown option '%s'", verb, arg);
        if (string_has_prefix(arg, "--") && eq)
                return log_errno(LOG_ERR, -EINVAL, "%s: option '%.*s' takes no value", verb, (int) (eq - arg), arg);
        if (optopt >= 256 || strchr(shorts, optopt))
                return log_errno(LOG_ERR, -EINVAL, "%s: option '%s' needs a value", verb, arg);
        return log_errno(LOG_ERR, -EINVAL, "%s: unknown option '-%c'", verb, optopt);
}
