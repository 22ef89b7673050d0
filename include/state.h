/* The state store: ROOT/<id>/ (0711) holding state.json and exec.fifo.
 * ROOT defaults to $XDG_RUNTIME_DIR/urun (normal user) or /run/urun (root), created 0700.
 * Creation of ROOT/<id> with mkdirat is the atomic "one create wins" point. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "spec.h"

#define STATE_FILE "state.json"
#define STATE_FIFO "exec.fifo"
#define STATE_ID_MAX 250

typedef struct {
        char *id;
        pid_t pid;              /* 0 while creating */
        uint64_t start_time;    /* /proc/PID/stat field 22, for pid reuse checks */
        char *bundle;           /* absolute */
        char *rootfs;           /* absolute */
        char *created;          /* RFC 3339 */
        uid_t owner;            /* uid of the creator */
        KeyValue *annotations;
        size_t n_annotations;
        bool rootless;          /* created without host root */
        char *cgroup_path;      /* may be NULL: no cgroup */
        char *cgroup_top;       /* delete removes cgroup_path and its empty ancestors up to this */
        char *cgroup_none;      /* no cgroup: why ("not delegated", "disabled", ...) */
        char *config_path;      /* absolute path of config.json used at create */
        bool stopped_marker;    /* state.json says the process was reaped by us (run --keep) */
        int exit_status;        /* valid when stopped_marker */
} ContainerState;

enum container_status {
        STATUS_CREATING,
        STATUS_CREATED,
        STATUS_RUNNING,
        STATUS_PAUSED,
        STATUS_STOPPED,
};
const char *container_status_to_string(enum container_status s);

/* Default root directory for this caller, malloc'ed. */
int state_default_root(char **ret);
/* mkdir -p root (0700 for the last component) and open it O_DIRECTORY. */
int state_root_open(const char *root, int *ret_fd);
/* 0 if valid; -EINVAL otherwise (empty, too long, '/', '..', characters outside [A-Za-z0-9_.+-]). */
int state_validate_id(const char *id);

/* Create ROOT/<id> exclusively: -EEXIST if it exists. ret_fd is an O_DIRECTORY fd of it. */
int state_dir_create(int root_fd, const char *id, int *ret_fd);
int state_dir_open(int root_fd, const char *id, int *ret_fd);   /* -ENOENT when unknown */
int state_dir_remove(int root_fd, const char *id);                 /* rm -rf, no symlink following */
/* flock the directory fd: exclusive or shared, blocking. */
int state_lock(int dir_fd, bool exclusive);
int state_trylock(int dir_fd, bool exclusive);                     /* -EWOULDBLOCK when held */

int state_write(int dir_fd, const ContainerState *s);   /* atomic replace of state.json */
int state_read(int dir_fd, ContainerState **ret);       /* -ENOENT: still creating (no state.json) */
ContainerState *state_free(ContainerState *s);
static inline void state_freep(ContainerState **s) {
        state_free(*s);
}
#define _cleanup_state_free_ _cleanup_(state_freep)

/* The record of a container whose create is still running (no state.json): id and owner only. */
int state_new_creating(int dir_fd, const char *id, ContainerState **ret);
/* The user name of uid, or the number when it has none. */
int state_owner_name(uid_t uid, char **ret);

/* Work out the current status: process alive (pid + start time), exec.fifo present, frozen
 * ("frozen 1" in the cgroup's cgroup.events). */
enum container_status state_status(int dir_fd, const ContainerState *s);

/* The OCI state JSON (ociVersion, id, status, pid, bundle, annotations, created, owner, rootfs). */
int state_to_json(const ContainerState *s, enum container_status status, char **ret_json);
