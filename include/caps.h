/* Capabilities (libcap), identity and rlimits of the container process. All run in the container
 * child just before exec; they log a one-line error naming the field on failure. */
#pragma once

#include "spec.h"

/* Check that every capability name is known (before clone). Error names the set and entry. */
int caps_validate(const ProcessSpec *p);
/* Apply rlimits; a limit the config did not ask for is never touched. */
int rlimits_apply(const ProcessSpec *p);
/* setgroups/setresgid/setresuid to process.user, keeping the capabilities needed for caps_apply. */
int identity_apply(const ProcessSpec *p, bool setgroups_allowed);
/* Set all five capability sets from process.capabilities (after identity_apply). */
int caps_apply(const ProcessSpec *p);
int rlimit_from_name(const char *name);   /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE, -EINVAL if unknown */
