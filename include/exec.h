/* `urun exec`: run a new process in an existing container. The process is the container's
 * config.json "process" (or the --process FILE) with the command-line overrides applied; it joins
 * every namespace of the container's init and gets the container's seccomp filter, rlimits,
 * capabilities and identity. Foreground: exits with the process's status (128+N for signal N);
 * --detach: returns once the program runs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

typedef struct {
        const char *id;
        const char *process_file;   /* --process: the base process instead of config.json's */
        char **args;                /* the command after ID (borrowed); NULL/empty: keep the base's */
        const char *cwd;            /* --cwd */
        char **env;                 /* --env K=V, appended, replacing the same K */
        bool has_uid, has_gid;      /* --user UID[:GID] */
        uint32_t uid, gid;
        uint32_t *additional_gids;  /* --additional-gids */
        size_t n_additional_gids;
        char **caps;                /* --cap: added to bounding, effective and permitted */
        bool no_new_privs;          /* --no-new-privs */
        bool tty;                   /* --tty */
        const char *console_socket; /* --console-socket */
        bool detach;                /* --detach */
        const char *pid_file;       /* --pid-file */
        unsigned preserve_fds;      /* --preserve-fds */
        bool ignore_paused;         /* --ignore-paused */
        const char *process_label;  /* --process-label (process.selinuxLabel) */
        const char *apparmor;       /* --apparmor (process.apparmorProfile) */
} ExecOptions;

/* Logs one line on failure and returns a negative errno. On success *ret_status is what `urun
 * exec` exits with: 0 for --detach, else the process's exit code (128+N for signal N); 126/127
 * when the program could not be executed (its message was logged). */
int container_exec(const GlobalOptions *g, const ExecOptions *o, int *ret_status);
