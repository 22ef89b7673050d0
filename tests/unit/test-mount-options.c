/* The mounts[].options table: flags, propagation, recursive attributes, filesystem data. */
#include <sys/mount.h>

#include <stdlib.h>

#include "mount-options.h"
#include "tap.h"
#include "util.h"

static MountOptions parse(char **opts) {
        MountOptions o = MOUNT_OPTIONS_INIT;
        int r = mount_options_parse(opts, &o);

        CHECK_RET(r, 0);
        return o;
}

static void test_flags(void) {
        static const struct {
                const char *name;
                unsigned long flag;
                bool clear;
        } cases[] = {
                { "ro", MS_RDONLY, false },           { "rw", MS_RDONLY, true },
                { "nosuid", MS_NOSUID, false },       { "suid", MS_NOSUID, true },
                { "nodev", MS_NODEV, false },         { "dev", MS_NODEV, true },
                { "noexec", MS_NOEXEC, false },       { "exec", MS_NOEXEC, true },
                { "sync", MS_SYNCHRONOUS, false },    { "async", MS_SYNCHRONOUS, true },
                { "remount", MS_REMOUNT, false },     { "mand", MS_MANDLOCK, false },
                { "nomand", MS_MANDLOCK, true },      { "noatime", MS_NOATIME, false },
                { "atime", MS_NOATIME, true },        { "nodiratime", MS_NODIRATIME, false },
                { "diratime", MS_NODIRATIME, true },  { "relatime", MS_RELATIME, false },
                { "norelatime", MS_RELATIME, true },  { "strictatime", MS_STRICTATIME, false },
                { "nostrictatime", MS_STRICTATIME, true }, { "dirsync", MS_DIRSYNC, false },
                { "lazytime", MS_LAZYTIME, false },   { "silent", MS_SILENT, false },
                { "loud", MS_SILENT, true },          { "iversion", MS_I_VERSION, false },
                { "noiversion", MS_I_VERSION, true }, { "nosymfollow", MS_NOSYMFOLLOW, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *opts[] = { (char *) cases[i].name, NULL };
                MountOptions o = parse(opts);

                printf("# %s\n", cases[i].name);
                if (cases[i].clear)
                        CHECK(o.clear_flags == cases[i].flag && o.set_flags == 0);
                else
                        CHECK(o.set_flags == cases[i].flag && o.clear_flags == 0);
                CHECK(o.data == NULL && !o.bind && o.propagation == 0 && o.attr_set == 0);
                mount_options_done(&o);
        }
}

static void test_last_wins(void) {
        char *ro_rw[] = { "ro", "rw", NULL }, *rw_ro[] = { "rw", "ro", NULL };
        MountOptions o = parse(ro_rw);

        CHECK(!(o.set_flags & MS_RDONLY) && (o.clear_flags & MS_RDONLY));
        mount_options_done(&o);
        o = parse(rw_ro);
        CHECK((o.set_flags & MS_RDONLY) && !(o.clear_flags & MS_RDONLY));
        mount_options_done(&o);
}

static void test_bind(void) {
        char *bind[] = { "bind", NULL }, *rbind[] = { "rbind", "ro", NULL }, *both[] = { "rbind", "bind", NULL };
        MountOptions o = parse(bind);

        CHECK(o.bind && !o.recursive);
        mount_options_done(&o);
        o = parse(rbind);
        CHECK(o.bind && o.recursive && o.set_flags == MS_RDONLY);
        CHECK(!(o.set_flags & (MS_BIND | MS_REC)));
        mount_options_done(&o);
        o = parse(both);
        CHECK(o.bind && !o.recursive);
        mount_options_done(&o);
}

static void test_propagation(void) {
        static const struct {
                const char *name;
                unsigned long flags;
        } cases[] = {
                { "private", MS_PRIVATE },         { "rprivate", MS_PRIVATE | MS_REC },
                { "shared", MS_SHARED },           { "rshared", MS_SHARED | MS_REC },
                { "slave", MS_SLAVE },             { "rslave", MS_SLAVE | MS_REC },
                { "unbindable", MS_UNBINDABLE },   { "runbindable", MS_UNBINDABLE | MS_REC },
        };
        unsigned long p = 0;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *opts[] = { "nodev", (char *) cases[i].name, NULL };
                MountOptions o = parse(opts);

                CHECK(o.propagation == cases[i].flags && o.set_flags == MS_NODEV);
                CHECK_RET(mount_propagation_from_string(cases[i].name, &p), 0);
                CHECK(p == cases[i].flags);
                mount_options_done(&o);
        }
        CHECK_RET(mount_propagation_from_string("ro", &p), -EINVAL);
        CHECK_RET(mount_propagation_from_string("bogus", &p), -EINVAL);
        CHECK_RET(mount_propagation_from_string(NULL, &p), -EINVAL);
}

static void test_recursive(void) {
        char *ro[] = { "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime", NULL };
        char *undo[] = { "rro", "rrw", "rnosuid", "rsuid", NULL };
        char *atime[] = { "rnoatime", NULL }, *atime2[] = { "rnoatime", "rstrictatime", NULL };
        char *ratime[] = { "ratime", NULL };
        MountOptions o = parse(ro);

        CHECK(o.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                             MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NODIRATIME));
        CHECK(o.attr_clr == 0 && o.set_flags == 0 && o.data == NULL);
        mount_options_done(&o);
        o = parse(undo);
        CHECK(o.attr_set == 0 && o.attr_clr == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID));
        mount_options_done(&o);
        o = parse(atime);
        CHECK(o.attr_set == MOUNT_ATTR_NOATIME && o.attr_clr == MOUNT_ATTR__ATIME);
        mount_options_done(&o);
        o = parse(atime2);
        CHECK(o.attr_set == MOUNT_ATTR_STRICTATIME && o.attr_clr == MOUNT_ATTR__ATIME);
        mount_options_done(&o);
        o = parse(ratime);
        CHECK(o.attr_set == MOUNT_ATTR_RELATIME && o.attr_clr == MOUNT_ATTR__ATIME);
        mount_options_done(&o);
}

static void test_data(void) {
        char *opts[] = { "mode=755", "nosuid", "size=65536k", "", "uid=0", NULL };
        char *none[] = { "ro", NULL };
        MountOptions o = parse(opts);

        CHECK_STR(o.data, "mode=755,size=65536k,uid=0");
        CHECK(o.set_flags == MS_NOSUID);
        mount_options_done(&o);
        CHECK(o.data == NULL);
        o = parse(none);
        CHECK(o.data == NULL);
        mount_options_done(&o);
        o = parse(NULL);
        CHECK(o.data == NULL && o.set_flags == 0 && !o.bind);
        mount_options_done(&o);
}

static void test_special(void) {
        char *opts[] = { "tmpcopyup", "idmap=uids=0-1000-10;gids=0-1000-10", NULL }, *ridmap[] = { "ridmap", NULL };
        MountOptions o = parse(opts);

        CHECK(o.tmpcopyup && o.idmap && o.data == NULL);
        mount_options_done(&o);
        o = parse(ridmap);
        CHECK(o.idmap);
        mount_options_done(&o);
}

static void test_flags_to_attr(void) {
        uint64_t clr = 1;

        CHECK(mount_flags_to_attr(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS, &clr) ==
              (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
        CHECK(clr == 0);
        CHECK(mount_flags_to_attr(MS_NOATIME, &clr) == MOUNT_ATTR_NOATIME && clr == MOUNT_ATTR__ATIME);
        CHECK(mount_flags_to_attr(MS_STRICTATIME, &clr) == MOUNT_ATTR_STRICTATIME && clr == MOUNT_ATTR__ATIME);
        CHECK(mount_flags_to_attr(MS_RELATIME, &clr) == MOUNT_ATTR_RELATIME && clr == MOUNT_ATTR__ATIME);
}

static void test_label(void) {
        char *d = NULL;

        CHECK(mount_data_with_label("size=1m", "system_u:object_r:container_file_t:s0:c1,c2", &d) == 0);
        CHECK(d && streq(d, "size=1m,context=\"system_u:object_r:container_file_t:s0:c1,c2\""));
        free(d);
        CHECK(mount_data_with_label("size=1m", "system_u:object_r:container_file_t:s0", &d) == 0);
        CHECK(d && streq(d, "size=1m,context=\"system_u:object_r:container_file_t:s0\""));
        free(d);
        CHECK(mount_data_with_label(NULL, "a_t", &d) == 0 && d && streq(d, "context=\"a_t\""));
        free(d);
        CHECK(mount_data_with_label("", "a_t", &d) == 0 && d && streq(d, "context=\"a_t\""));
        free(d);
        CHECK(mount_data_with_label("mode=755", NULL, &d) == 0 && d && streq(d, "mode=755"));
        free(d);
        d = (char *) "x";
        CHECK(mount_data_with_label(NULL, "", &d) == 0 && d == NULL);
        CHECK(mount_data_with_label("a", "x\"y", &d) == -EINVAL);
}

int main(void) {
        test_flags();
        test_last_wins();
        test_bind();
        test_propagation();
        test_recursive();
        test_data();
        test_special();
        test_flags_to_attr();
        test_label();
        return tap_done();
}
