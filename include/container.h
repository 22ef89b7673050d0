/* The container lifecycle: create, start, run, kill, delete (state and list live in cmd-*.c on
 * top of state.h). Each verb validates everything it can before the first side effect, and a
 * failed create leaves nothing behind: no state dir, no process, no mount. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "cli.h"
#include "seccomp-filter.h"
#include "spec.h"
#include "state.h"

typedef struct {
        const char *id;
        const char *bundle;        /* NULL = current directory */
        const char *pid_file;
        const char *console_socket;
        unsigned preserve_fds;
        bool no_pivot;
        bool no_new_keyring;
        bool detach;               /* run --detach */
        bool keep;                 /* run --keep */
} CreateOptions;

/* Everything create decided before clone: the plan the child carries out. */
typedef struct {
        const GlobalOptions *g;
        const CreateOptions *o;
        Spec *spec;
        char *bundle;              /* absolute */
        char *rootfs;              /* absolute, resolved */
        char *config_path;
        bool rootless;             /* no host root: euid != 0 or a nested user namespace */
        bool nested_userns;
        bool userns;               /* the container has a user namespace (new or joined) */
        IdMap *uid_map, *gid_map;  /* maps to write for a new user namespace (may be the spec's) */
        size_t n_uid_map, n_gid_map;
        bool setgroups_allowed;
        int clone_flags;           /* CLONE_NEW* of the namespaces to create */
        bool timens_in_child;      /* new time namespace with offsets: the init makes it itself */
        int proc_fd;               /* host procfs (proc_open_verified): /proc writes of the child */
        bool join_any;             /* some namespace is joined by path: intermediate process */
        bool foreground;           /* run: parent stays, releases with SYNC_START */
        int root_fd;               /* state root */
        int state_fd;              /* ROOT/<id>, holds the flock */
        bool state_created;        /* we made ROOT/<id>: only then does an abort remove it */
        int fifo_dir_fd;           /* ROOT/<id> again (O_PATH, its own open file, no lock): for the child */
        int sync_fd;               /* parent end */
        int child_sync_fd;         /* child end */
        SeccompFilter *seccomp;    /* compiled before clone, installed by the child */
        int seccomp_listener_fd;   /* connected to linux.seccomp.listenerPath, or -EBADF */
        CgroupPlan cgroup_plan;    /* where the container's cgroup goes, or none */
        Cgroup cgroup;             /* created: its fd is used for clone3(CLONE_INTO_CGROUP) */
        bool cgroup_attach_in_child; /* clone3 could not place the child: it moves itself first thing
                                      * (and unshares the cgroup namespace afterwards) */
        int console_socket_fd;     /* connected to --console-socket, or -EBADF */
        int pty_master;            /* foreground run with a terminal: the pty we proxy, or -EBADF */
        int *idmap_fds;            /* per mounts[] entry: a detached idmapped tree, or -EBADF; NULL: none */
        pid_t pid;                 /* container init, as seen by us */
        uint64_t start_time;
        char created[64];
} Container;

int container_create(const GlobalOptions *g, const CreateOptions *o);
/* run: create + start; foreground unless o->detach. *ret_status is the exit status to return
 * (the container's, 128+N for a signal). */
int container_run(const GlobalOptions *g, const CreateOptions *o, int *ret_status);
int container_start(const GlobalOptions *g, const char *id);
int container_kill(const GlobalOptions *g, const char *id, int sig, bool all);
int container_delete(const GlobalOptions *g, const char *id, bool force);

/* process.c: spawn the container init according to c (sets c->pid); the child never returns. */
int process_spawn(Container *c);
/* process.c: the state JSON for hooks, with status. */
int container_state_json(const Container *c, enum container_status status, char **ret);
/* container.c: write the planned uid/gid maps of process pid (the one that owns the new user namespace). */
int idmap_write_maps_for(const Container *c, pid_t pid);
