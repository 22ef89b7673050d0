/* Global command-line options and the verb entry points (one src/cmd-<verb>.c each).
 * Each cmd_<verb>(g, argc, argv) gets argv[0] = the verb name, parses its own flags with
 * getopt_long (optstring starting with "+": options stop at the first operand, as runc's CLI),
 * accepts both "--flag value" and "--flag=value", and returns the process exit status
 * (0 success, 1 failure after logging one `urun: ...` line; `run` returns the container's status). */
#pragma once

#include <stdbool.h>

typedef struct {
        const char *root;        /* state root directory (default resolved by main) */
        const char *log_path;    /* --log, may be NULL */
        bool log_json;           /* --log-format json */
        bool debug;              /* --debug */
        int rootless;            /* --rootless: -1 auto, 0 false, 1 true */
        bool systemd_cgroup;     /* --systemd-cgroup (accepted) */
        const char *cgroup_manager; /* --cgroup-manager (accepted; "disabled" = no cgroups) */
} GlobalOptions;

int cmd_spec(const GlobalOptions *g, int argc, char **argv);
int cmd_create(const GlobalOptions *g, int argc, char **argv);
int cmd_run(const GlobalOptions *g, int argc, char **argv);
int cmd_start(const GlobalOptions *g, int argc, char **argv);
int cmd_state(const GlobalOptions *g, int argc, char **argv);
int cmd_list(const GlobalOptions *g, int argc, char **argv);
int cmd_kill(const GlobalOptions *g, int argc, char **argv);
int cmd_delete(const GlobalOptions *g, int argc, char **argv);
int cmd_exec(const GlobalOptions *g, int argc, char **argv);
int cmd_features(const GlobalOptions *g, int argc, char **argv);
int cmd_pause(const GlobalOptions *g, int argc, char **argv);
int cmd_resume(const GlobalOptions *g, int argc, char **argv);
int cmd_ps(const GlobalOptions *g, int argc, char **argv);
int cmd_update(const GlobalOptions *g, int argc, char **argv);
int cmd_events(const GlobalOptions *g, int argc, char **argv);
