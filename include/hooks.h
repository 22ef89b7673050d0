/* OCI hooks: fork + exec path with args and env, the state JSON on stdin, timeout in seconds
 * (the hook is killed and the run fails). Logs a one-line error naming the hook kind and path. */
#pragma once

#include "spec.h"

int hooks_run(enum hook_kind kind, const HookSpec *hooks, size_t n, const char *state_json);
