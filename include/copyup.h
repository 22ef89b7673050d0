/* tmpcopyup: a fresh tmpfs starts with a copy of what the directory it covers held. */
#pragma once

#include <limits.h>

typedef struct {
        char path[PATH_MAX]; /* the entry whose copy failed, as a path in the container */
        const char *step;    /* what failed: "open", "mkdir", "copy the content", ... */
} CopyupError;

/* Copy the tree below the directory src_fd (the covered directory, opened before the mount) into
 * the root of the new tmpfs dst_fd (O_PATH is fine): regular files (content, mode, owner, times),
 * directories recursively, symlinks (as links, never followed), fifos, sockets and device nodes
 * (mknod: needs host privileges). The tmpfs root then gets the source directory's mode and owner,
 * unless fs_data (the mount's data string, may be NULL) sets mode=, uid= or gid=. dest is the
 * mount's destination, the prefix of err->path. Silent; on failure err says where and what. */
int copyup_tree(int src_fd, int dst_fd, const char *dest, const char *fs_data, CopyupError *err);
