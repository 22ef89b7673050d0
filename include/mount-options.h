/* mounts[].options of config.json as mount(2)/mount_setattr(2) arguments. Pure: no syscalls.
 * Known words come from a table (runc/crun compatible); unknown words become the filesystem data
 * string, joined with ',' in their original order. Later words win ("ro,rw" is read-write). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

typedef struct {
        unsigned long set_flags;   /* MS_* requested ("ro" -> MS_RDONLY) */
        unsigned long clear_flags; /* MS_* explicitly cleared ("rw" -> MS_RDONLY) */
        unsigned long propagation; /* MS_PRIVATE/MS_SHARED/MS_SLAVE/MS_UNBINDABLE [|MS_REC], 0 = none */
        uint64_t attr_set;         /* MOUNT_ATTR_* applied with mount_setattr(AT_RECURSIVE) ("rro") */
        uint64_t attr_clr;
        bool bind;                 /* "bind" or "rbind" */
        bool recursive;            /* "rbind" */
        bool tmpcopyup;
        bool idmap;                /* "idmap"/"ridmap" (mount-idmap.c tells them apart; "=VALUE" is refused by validation) */
        char *data;                /* unknown words joined with ','; NULL when there are none */
} MountOptions;

#define MOUNT_OPTIONS_INIT ((MountOptions) {})

/* Parse a NULL-terminated option list (may be NULL). -ENOMEM only; on failure *ret is untouched. */
int mount_options_parse(char *const *options, MountOptions *ret);
void mount_options_done(MountOptions *o);
#define _cleanup_mount_options_ _cleanup_(mount_options_done)

/* The i-th option name of the table ("ro", "rbind", ...), NULL past the last (`urun features`). */
const char *mount_option_name(size_t i);

/* "private", "rshared", ... -> MS_* flags for rootfsPropagation. -EINVAL when unknown. */
int mount_propagation_from_string(const char *s, unsigned long *ret);

/* MS_RDONLY|MS_NOSUID|... (per-mount flags only) -> MOUNT_ATTR_*; superblock flags are dropped.
 * ret_atime_clr is MOUNT_ATTR__ATIME when an atime mode was requested (the kernel wants it). */
uint64_t mount_flags_to_attr(unsigned long flags, uint64_t *ret_atime_clr);

/* data with SELinux's context="LABEL" appended (runc's label.FormatMountLabel): for filesystems
 * the container mounts itself when linux.mountLabel is set. NULL/empty label: a copy of data (or
 * NULL). The quotes keep the commas of MCS categories ("s0:c1,c2") in one option; -EINVAL for a
 * label with '"' or a newline in it. */
int mount_data_with_label(const char *data, const char *label, char **ret);
