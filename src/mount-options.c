/* The mounts[].options table. runc's and crun's option names, so configs behave the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "mount-options.h"
#include "util.h"

enum opt_kind {
        OPT_FLAG,        /* set or clear an MS_* flag */
        OPT_PROPAGATION, /* MS_PRIVATE... (last one wins) */
        OPT_RECURSIVE,   /* MOUNT_ATTR_* via mount_setattr(AT_RECURSIVE) */
        OPT_RATIME,      /* one of the MOUNT_ATTR__ATIME modes, recursively */
        OPT_BIND,
        OPT_RBIND,
        OPT_TMPCOPYUP,
        OPT_IDMAP,
};

typedef struct {
        const char *name;
        enum opt_kind kind;
        bool clear;
        unsigned long flag; /* MS_* for OPT_FLAG/OPT_PROPAGATION */
        uint64_t attr;      /* MOUNT_ATTR_* for OPT_RECURSIVE */
} OptionDef;

#define FLAG(n, c, f) { .name = n, .kind = OPT_FLAG, .clear = c, .flag = f }
#define PROP(n, f) { .name = n, .kind = OPT_PROPAGATION, .flag = f }
#define RATTR(n, c, a) { .name = n, .kind = OPT_RECURSIVE, .clear = c, .attr = a }
#define RATIME(n, a) { .name = n, .kind = OPT_RATIME, .attr = a }
#define KIND(n, k) { .name = n, .kind = k }

static const OptionDef option_table[] = {
        FLAG("defaults", false, 0),
        FLAG("ro", false, MS_RDONLY),
        FLAG("rw", true, MS_RDONLY),
        FLAG("nosuid", false, MS_NOSUID),
        FLAG("suid", true, MS_NOSUID),
        FLAG("nodev", false, MS_NODEV),
        FLAG("dev", true, MS_NODEV),
        FLAG("noexec", false, MS_NOEXEC),
        FLAG("exec", true, MS_NOEXEC),
        FLAG("sync", false, MS_SYNCHRONOUS),
        FLAG("async", true, MS_SYNCHRONOUS),
        FLAG("dirsync", false, MS_DIRSYNC),
        FLAG("remount", false, MS_REMOUNT),
        FLAG("mand", false, MS_MANDLOCK),
        FLAG("nomand", true, MS_MANDLOCK),
        FLAG("noatime", false, MS_NOATIME),
        FLAG("atime", true, MS_NOATIME),
        FLAG("nodiratime", false, MS_NODIRATIME),
        FLAG("diratime", true, MS_NODIRATIME),
        FLAG("relatime", false, MS_RELATIME),
        FLAG("norelatime", true, MS_RELATIME),
        FLAG("strictatime", false, MS_STRICTATIME),
        FLAG("nostrictatime", true, MS_STRICTATIME),
        FLAG("lazytime", false, MS_LAZYTIME),
        FLAG("nolazytime", true, MS_LAZYTIME),
        FLAG("silent", false, MS_SILENT),
        FLAG("loud", true, MS_SILENT),
        FLAG("iversion", false, MS_I_VERSION),
        FLAG("noiversion", true, MS_I_VERSION),
        FLAG("nosymfollow", false, MS_NOSYMFOLLOW),
        FLAG("symfollow", true, MS_NOSYMFOLLOW),
        KIND("bind", OPT_BIND),
        KIND("rbind", OPT_RBIND),
        KIND("tmpcopyup", OPT_TMPCOPYUP),
        KIND("idmap", OPT_IDMAP),
        KIND("ridmap", OPT_IDMAP),
        PROP("private", MS_PRIVATE),
        PROP("rprivate", MS_PRIVATE | MS_REC),
        PROP("shared", MS_SHARED),
        PROP("rshared", MS_SHARED | MS_REC),
        PROP("slave", MS_SLAVE),
        PROP("rslave", MS_SLAVE | MS_REC),
        PROP("unbindable", MS_UNBINDABLE),
        PROP("runbindable", MS_UNBINDABLE | MS_REC),
        /* The atime modes are an enum in mount_setattr(2), not bits: "clear" ones select relatime. */
        RATTR("rro", false, MOUNT_ATTR_RDONLY),
        RATTR("rrw", true, MOUNT_ATTR_RDONLY),
        RATTR("rnosuid", false, MOUNT_ATTR_NOSUID),
        RATTR("rsuid", true, MOUNT_ATTR_NOSUID),
        RATTR("rnodev", false, MOUNT_ATTR_NODEV),
        RATTR("rdev", true, MOUNT_ATTR_NODEV),
        RATTR("rnoexec", false, MOUNT_ATTR_NOEXEC),
        RATTR("rexec", true, MOUNT_ATTR_NOEXEC),
        RATTR("rnodiratime", false, MOUNT_ATTR_NODIRATIME),
        RATTR("rdiratime", true, MOUNT_ATTR_NODIRATIME),
        RATTR("rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW),
        RATTR("rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW),
        RATIME("rnoatime", MOUNT_ATTR_NOATIME),
        RATIME("rstrictatime", MOUNT_ATTR_STRICTATIME),
        RATIME("rrelatime", MOUNT_ATTR_RELATIME),
        RATIME("ratime", MOUNT_ATTR_RELATIME),
        RATIME("rnorelatime", MOUNT_ATTR_RELATIME),
        RATIME("rnostrictatime", MOUNT_ATTR_RELATIME),
};

const char *mount_option_name(size_t i) {
        return i < ELEMENTSOF(option_table) ? option_table[i].name : NULL;
}

static const OptionDef *option_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(option_table); i++)
                if (streq(option_table[i].name, name))
                        return &option_table[i];
        /* "idmap=uids=0-1000-10;gids=..." carries its mapping as a value. */
        if (string_has_prefix(name, "idmap=") || string_has_prefix(name, "ridmap="))
                return option_lookup("idmap");
        return NULL;
}

static void option_apply(MountOptions *o, const OptionDef *d) {
        switch (d->kind) {
        case OPT_FLAG:
                if (d->clear) {
                        o->set_flags &= ~d->flag;
                        o->clear_flags |= d->flag;
                } else {
                        o->set_flags |= d->flag;
                        o->clear_flags &= ~d->flag;
                }
                break;
        case OPT_PROPAGATION:
                o->propagation = d->flag;
                break;
        case OPT_RATIME:
                /* Replace the atime mode; the kernel wants all of __ATIME in attr_clr for that. */
                o->attr_set = (o->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) | d->attr;
                o->attr_clr |= MOUNT_ATTR__ATIME;
                break;
        case OPT_RECURSIVE:
                if (d->clear) {
                        o->attr_set &= ~d->attr;
                        o->attr_clr |= d->attr;
                } else {
                        o->attr_set |= d->attr;
                        o->attr_clr &= ~d->attr;
                }
                break;
        case OPT_BIND:
                o->bind = true;
                o->recursive = false;
                break;
        case OPT_RBIND:
                o->bind = true;
                o->recursive = true;
                break;
        case OPT_TMPCOPYUP:
                o->tmpcopyup = true;
                break;
        case OPT_IDMAP:
                o->idmap = true;
                break;
        }
}

static int data_append(char **data, size_t *len, const char *word) {
        size_t n = strlen(word);
        char *p = realloc(*data, *len + n + 2);

        if (!p)
                return -ENOMEM;
        if (*len > 0)
                p[(*len)++] = ',';
        memcpy(p + *len, word, n + 1);
        *len += n;
        *data = p;
        return 0;
}

int mount_options_parse(char *const *options, MountOptions *ret) {
        MountOptions o = MOUNT_OPTIONS_INIT;
        size_t len = 0;
        int r;

        for (size_t i = 0; options && options[i]; i++) {
                const OptionDef *d = option_lookup(options[i]);

                if (d) {
                        option_apply(&o, d);
                        continue;
                }
                if (options[i][0] == '\0')
                        continue;
                r = data_append(&o.data, &len, options[i]);
                if (r < 0) {
                        free(o.data);
                        return r;
                }
        }
        *ret = o;
        return 0;
}

void mount_options_done(MountOptions *o) {
        free(o->data);
        o->data = NULL;
}

int mount_propagation_from_string(const char *s, unsigned long *ret) {
        const OptionDef *d = s ? option_lookup(s) : NULL;

        if (!d || d->kind != OPT_PROPAGATION)
                return -EINVAL;
        *ret = d->flag;
        return 0;
}

uint64_t mount_flags_to_attr(unsigned long flags, uint64_t *ret_atime_clr) {
        static const struct {
                unsigned long ms;
                uint64_t attr;
        } map[] = {
                { MS_RDONLY, MOUNT_ATTR_RDONLY },         { MS_NOSUID, MOUNT_ATTR_NOSUID },
                { MS_NODEV, MOUNT_ATTR_NODEV },           { MS_NOEXEC, MOUNT_ATTR_NOEXEC },
                { MS_NODIRATIME, MOUNT_ATTR_NODIRATIME }, { MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
        };
        uint64_t attr = 0, clr = 0;

        for (size_t i = 0; i < ELEMENTSOF(map); i++)
                if (flags & map[i].ms)
                        attr |= map[i].attr;
        if (flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME)) {
                clr = MOUNT_ATTR__ATIME;
                if (flags & MS_NOATIME)
                        attr |= MOUNT_ATTR_NOATIME;
                else if (flags & MS_STRICTATIME)
                        attr |= MOUNT_ATTR_STRICTATIME;
        }
        if (ret_atime_clr)
                *ret_atime_clr = clr;
        return attr;
}

int mount_data_with_label(const char *data, const char *label, char **ret) {
        char *out;

        if (!label || !*label) {
                out = data ? strdup(data) : NULL;
                if (data && !out)
                        return -ENOMEM;
                *ret = out;
                return 0;
        }
        if (strpbrk(label, "\"\n"))
                return -EINVAL;
        if (asprintf(&out, "%s%scontext=\"%s\"", data ? data : "", data && *data ? "," : "", label) < 0)
                return -ENOMEM;
        *ret = out;
        return 0;
}
