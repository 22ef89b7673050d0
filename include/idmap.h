/* User namespace id mappings: libsubid lookups, writing uid_map/gid_map (directly for a single
 * mapping of the caller's own id, through newuidmap/newgidmap otherwise), and detecting whether we
 * already run inside a non-initial user namespace. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "spec.h"

/* True when /proc/self/ns/user is not the initial user namespace (by inode, not uid_map text). */
bool idmap_in_nested_userns(void);

/* Caller's subordinate ranges from libsubid (all of them), as IdMap with container_id starting at 1
 * and contiguous. *ret_n = 0 (and 0 returned) when the user has none. */
int idmap_subid_ranges(const char *user, bool gid, IdMap **ret, size_t *ret_n);

/* Write the maps of process pid (which has unshared a user namespace and waits).
 * Logs a clear error (range, user, /etc/subuid|/etc/subgid) and returns < 0 on failure. */
int idmap_write_maps(pid_t pid, const IdMap *uid, size_t n_uid, const IdMap *gid, size_t n_gid);

/* Whether the map is exactly one entry whose host id is id (writable without newuidmap). */
bool idmap_is_single_self(const IdMap *m, size_t n, uint32_t id);
/* Map a container id to the host id; -ERANGE when not mapped. */
int idmap_to_host(const IdMap *m, size_t n, uint32_t container_id, uint32_t *ret);
