/* `urun features`: the OCI runtime-spec features document (features.md, features-linux.md) for
 * what urun actually implements. Every list comes from the table the parser or the runtime uses,
 * so it cannot drift from the code; what the kernel or libseccomp lacks is left out where the spec
 * asks for support rather than recognition. No namespace, state or container work happens here. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "mount-options.h"
#include "procattrs.h"
#include "seccomp-filter.h"
#include "spec.h"
#include "util.h"

/* The config.json versions we read: the parser takes any 1.x; 1.2.0 is the version we were
 * written against and the one state.c reports. */
#define OCI_VERSION_MIN "1.0.0"
#define OCI_VERSION_MAX URUN_OCI_VERSION

/* A pretty-printing JSON writer, just enough for this document. */
typedef struct {
        FILE *f;
        int depth;
        bool first; /* nothing written yet in the innermost object/array */
} Json;

static void json_escaped(FILE *f, const char *s) {
        fputc('"', f);
        json_fputs_escaped(f, s);
        fputc('"', f);
}

/* Separator, newline and indentation of the next element, and its key inside an object. */
static void json_next(Json *j, const char *key) {
        if (j->depth > 0)
                fprintf(j->f, "%s\n%*s", j->first ? "" : ",", j->depth * 4, "");
        j->first = false;
        if (key) {
                json_escaped(j->f, key);
                fputs(": ", j->f);
        }
}

static void json_open(Json *j, const char *key, char bracket) {
        json_next(j, key);
        fputc(bracket, j->f);
        j->depth++;
        j->first = true;
}

static void json_close(Json *j, char bracket) {
        j->depth--;
        if (!j->first)
                fprintf(j->f, "\n%*s", j->depth * 4, "");
        fputc(bracket, j->f);
        j->first = false;
}

static void json_string(Json *j, const char *key, const char *value) {
        json_next(j, key);
        json_escaped(j->f, value);
}

static void json_bool(Json *j, const char *key, bool value) {
        json_next(j, key);
        fputs(value ? "true" : "false", j->f);
}

/* {"enabled": false} for a whole feature urun does not implement. */
static void json_disabled(Json *j, const char *key) {
        json_open(j, key, '{');
        json_bool(j, "enabled", false);
        json_close(j, '}');
}

/* Every option of the table is honoured (mount-options.c, mounts.c, mount-idmap.c, copyup.c). */
static void write_mount_options(Json *j) {
        const char *name;

        json_open(j, "mountOptions", '[');
        for (size_t i = 0; (name = mount_option_name(i)); i++)
                json_string(j, NULL, name);
        json_close(j, ']');
}

/* Every name libcap knows: caps.c accepts exactly those, and skips the ones newer than the
 * running kernel (features-linux.md: "including capabilities that might not be supported by the
 * host operating system"). libcap names the ones it does not know by number. */
static int write_capabilities(Json *j) {
        json_open(j, "capabilities", '[');
        for (cap_value_t v = 0; v < 64; v++) {
                char *name = cap_to_name(v);

                if (!name)
                        return -ENOMEM;
                if (string_has_prefix(name, "cap_")) {
                        for (char *c = name; *c; c++)
                                if (*c >= 'a' && *c <= 'z')
                                        *c = (char) (*c - 'a' + 'A');
                        json_string(j, NULL, name);
                }
                cap_free(name);
        }
        json_close(j, ']');
        return 0;
}

static void write_seccomp_flags(Json *j) {
        const char *name;
        bool ok;

        json_open(j, "knownFlags", '[');
        for (size_t i = 0; (name = seccomp_known_flag(i, NULL)); i++)
                json_string(j, NULL, name);
        json_close(j, ']');
        json_open(j, "supportedFlags", '[');
        for (size_t i = 0; (name = seccomp_known_flag(i, &ok)); i++)
                if (ok)
                        json_string(j, NULL, name);
        json_close(j, ']');
}

static void write_seccomp(Json *j) {
        uint32_t arch;

        json_open(j, "seccomp", '{');
        json_bool(j, "enabled", true);
        json_open(j, "actions", '[');
        for (enum seccomp_action a = 0; a < _SECCOMP_ACTION_MAX; a++)
                json_string(j, NULL, seccomp_action_to_name(a));
        json_close(j, ']');
        json_open(j, "operators", '[');
        for (enum seccomp_op op = 0; op < _SECCOMP_OP_MAX; op++)
                json_string(j, NULL, seccomp_op_to_name(op));
        json_close(j, ']');
        /* seccomp_validate refuses the architectures this libseccomp does not know */
        json_open(j, "archs", '[');
        for (enum seccomp_arch a = 0; a < _SECCOMP_ARCH_MAX; a++)
                if (seccomp_arch_value(a, &arch) >= 0)
                        json_string(j, NULL, seccomp_arch_to_name(a));
        json_close(j, ']');
        write_seccomp_flags(j);
        json_close(j, '}');
}

static int write_linux(Json *j) {
        int r;

        json_open(j, "linux", '{');
        json_open(j, "namespaces", '[');
        for (enum ns_type t = 0; t < _NS_MAX; t++)
                json_string(j, NULL, ns_type_to_name(t));
        json_close(j, ']');
        r = write_capabilities(j);
        if (r < 0)
                return r;
        /* cgroup v2 through a delegated subtree (cgroup.h) or a systemd scope (cgroup-systemd.c); no v1 */
        json_open(j, "cgroup", '{');
        json_bool(j, "v1", false);
        json_bool(j, "v2", true);
        json_bool(j, "systemd", true);
        json_bool(j, "systemdUser", true);
        json_bool(j, "rdma", true);
        json_close(j, '}');
        write_seccomp(j);
        /* process.apparmorProfile and selinuxLabel are applied when the LSM runs on this host,
         * and refused otherwise (procattrs.c). */
        json_open(j, "apparmor", '{');
        json_bool(j, "enabled", procattrs_apparmor_enabled());
        json_close(j, '}');
        json_open(j, "selinux", '{');
        json_bool(j, "enabled", procattrs_selinux_enabled());
        json_close(j, '}');
        json_disabled(j, "intelRdt");
        /* idmapped mounts (mount-idmap.c): supported; the kernel decides per filesystem and caller */
        json_open(j, "mountExtensions", '{');
        json_open(j, "idmap", '{');
        json_bool(j, "enabled", true);
        json_close(j, '}');
        json_close(j, '}');
        json_close(j, '}');
        return 0;
}

static void write_annotations(Json *j) {
        unsigned major, minor, micro;
        char v[64];

        seccomp_library_version(&major, &minor, &micro);
        (void) snprintf(v, sizeof v, "%u.%u.%u", major, minor, micro);
        json_open(j, "annotations", '{');
        json_string(j, "io.github.urun.version", PACKAGE_VERSION);
        json_string(j, "io.github.urun.libseccomp.version", v);
        json_close(j, '}');
}

static int features_document(char **ret, size_t *ret_len) {
        char *buf = NULL;
        size_t len = 0;
        Json j = {};
        int r;

        j.f = open_memstream(&buf, &len);
        if (!j.f)
                return -ENOMEM;
        json_open(&j, NULL, '{');
        json_string(&j, "ociVersionMin", OCI_VERSION_MIN);
        json_string(&j, "ociVersionMax", OCI_VERSION_MAX);
        json_open(&j, "hooks", '[');
        for (enum hook_kind k = 0; k < _HOOK_MAX; k++)
                json_string(&j, NULL, hook_kind_to_name(k));
        json_close(&j, ']');
        write_mount_options(&j);
        r = write_linux(&j);
        write_annotations(&j);
        json_close(&j, '}');
        fputc('\n', j.f);
        if (fclose(j.f) != 0 && r >= 0)
                r = -ENOMEM;
        if (r < 0) {
                free(buf);
                return r;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

int cmd_features(const GlobalOptions *g, int argc, char **argv) {
        static const struct option opts[] = { {} };
        _cleanup_free_ char *doc = NULL;
        size_t len;
        int r;

        (void) g;
        optind = 1;
        opterr = 0;
        if (getopt_long(argc, argv, "+", opts, NULL) >= 0) {
                log_error("features: unknown option '%s'", argv[optind - 1]);
                return 1;
        }
        if (optind < argc) {
                log_error("features: usage: urun features (no arguments, got '%s')", argv[optind]);
                return 1;
        }
        r = features_document(&doc, &len);
        if (r < 0) {
                log_errno(LOG_ERR, r, "features: %m");
                return 1;
        }
        r = write_all(STDOUT_FILENO, doc, len);
        if (r < 0) {
                log_errno(LOG_ERR, r, "features: writing to stdout: %m");
                return 1;
        }
        return 0;
}
