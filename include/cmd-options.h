/* Shared by the cmd-*.c parsers: one message for what getopt_long (with opterr = 0) reports as
 * '?', whether the option is unknown, lacks its value or has one it does not take. */
#pragma once

/* Logs "VERB: unknown option '--x'" (or "needs a value", "takes no value") and returns -EINVAL.
 * Call right after getopt_long() returned '?' (or ':'); short_opts is the optstring given to it. */
int cmd_bad_option(const char *verb, const char *short_opts, char **argv);
