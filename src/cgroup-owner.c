/* Giving the container's cgroup to its process user (cgroup-owner.h). */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cgroup-owner.h"
#include "mount-options.h"
#include "rootfs-internal.h"
#include "util.h"

static const char *const fallback_files[] = { "cgroup.procs", "cgroup.subtree_control", "cgroup.threads" };

static bool mount_is_rw_cgroupfs(const MountSpec *m) {
        _cleanup_mount_options_ MountOptions mo = MOUNT_OPTIONS_INIT;
        _cleanup_free_ char *dest = m->destination ? path_normalize(m->destination) : NULL;
        bool cgroupfs = (m->type && (streq(m->type, "cgroup") || streq(m->type, "cgroup2"))) ||
                        (m->source && (streq(m->source, "cgroup") || streq(m->source, "cgroup2")));

        if (!cgroupfs || !dest || !streq(dest, "/sys/fs/cgroup") || mount_options_parse(m->options, &mo) < 0)
                return false;
        return !(mo.set_flags & MS_RDONLY) && !(mo.attr_set & MOUNT_ATTR_RDONLY);
}

bool cgroup_owner_wanted(const Spec *spec, bool new_cgroupns) {
        if (!new_cgroupns)
                return false;
        for (size_t i = 0; i < spec->n_mounts; i++)
                if (mount_is_rw_cgroupfs(&spec->mounts[i]))
                        return true;
        return false;
}

static int chown_one(int dir_fd, const char *name, uid_t uid, gid_t gid) {
        if (fchownat(dir_fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
                return -errno; /* not every listed file exists in every cgroup: fine (spec) */
        return 0;
}

int cgroup_owner_chown(int dir_fd, const char *delegate_file, uid_t uid, gid_t gid) {
        _cleanup_free_ char *list = NULL;
        int r;

        if (fchownat(dir_fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return -errno;
        if (read_file_at(AT_FDCWD, delegate_file ? delegate_file : "/sys/kernel/cgroup/delegate", 4096, &list,
                         NULL) < 0) {
                for (size_t i = 0; i < ELEMENTSOF(fallback_files); i++) {
                        r = chown_one(dir_fd, fallback_files[i], uid, gid);
                        if (r < 0)
                                return r;
                }
                return 0;
        }
        for (char *save = NULL, *name = strtok_r(list, " \t\n", &save); name; name = strtok_r(NULL, " \t\n", &save)) {
                if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                        continue;
                r = chown_one(dir_fd, name, uid, gid);
                if (r < 0)
                        return r;
        }
        return 0;
}
