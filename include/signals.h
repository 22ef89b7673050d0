/* Signal names and numbers: "KILL", "SIGKILL", "9" all give 9. */
#pragma once

int signal_from_string(const char *s);      /* -EINVAL when unknown */
const char *signal_to_string(int sig);      /* "SIGKILL"; NULL when unknown */
