/* libFuzzer target: config.json text -> spec_parse_string(), then what the runtime does with a
 * parsed Spec before clone: capability names, mount options, rootfs propagation, and building the
 * seccomp filter (validation and BPF compilation with libseccomp; nothing is loaded). Invariants: a
 * failure returns a negative errno with a non-empty message, a success returns a Spec and no
 * message. ASan/UBSan and libFuzzer's leak check catch the rest. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "caps.h"
#include "log.h"
#include "mount-options.h"
#include "seccomp-filter.h"
#include "spec.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void) argc;
        (void) argv;
        /* caps_validate() logs every unknown name. Send the log to a non-socket: sync_send() then
         * fails silently, while libFuzzer's and the sanitizers' reports still reach stderr. */
        log_forward_to(open("/dev/null", O_WRONLY | O_CLOEXEC));
        return 0;
}

/* The agent parses the listener message: it must be JSON whatever listenerMetadata holds. */
static void check_listener_message(const SeccompSpec *sc) {
        _cleanup_free_ char *msg = NULL;
        json_object *o, *m = NULL;

        if (seccomp_listener_message(sc, 1, "{}", &msg) < 0)
                abort();
        o = json_tokener_parse(msg);
        if (!o || !json_object_object_get_ex(o, "metadata", &m) ||
            !streq(json_object_get_string(m), sc->listener_metadata ?: ""))
                abort();
        json_object_put(o);
}

static void check_seccomp(const SeccompSpec *sc) {
        _cleanup_seccomp_filter_free_ SeccompFilter *f = NULL;

        /* No cache directory: the fuzzer must not touch the file system. */
        (void) seccomp_prepare(sc, NULL, &f);
        if (seccomp_needs_listener(sc))
                check_listener_message(sc);
}

static void check_parsed(const Spec *s) {
        unsigned long prop;

        (void) caps_validate(&s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                _cleanup_mount_options_ MountOptions o = MOUNT_OPTIONS_INIT;
                uint64_t clr;

                if (mount_options_parse(s->mounts[i].options, &o) < 0)
                        abort();
                (void) mount_flags_to_attr(o.set_flags, &clr);
        }
        if (s->seccomp)
                check_seccomp(s->seccomp);
        if (s->rootfs_propagation)
                (void) mount_propagation_from_string(s->rootfs_propagation, &prop);
        for (enum ns_type t = 0; t < _NS_MAX; t++)
                if (s->namespaces[t].present && (!ns_type_to_name(t) || !ns_type_proc_name(t)))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_spec_free_ Spec *s = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = spec_parse_string((const char *) data, size, &s, &error);
        if (r < 0) {
                /* Only an allocation failure may come without a message. */
                if (!error && r != -ENOMEM)
                        abort();
                /* Not checked: that the message is one line. It quotes config values verbatim, so a
                 * "\n" in a value spans lines (reported; parse_error() should escape them). */
                if (s || (error && error[0] == '\0'))
                        abort();
                return 0;
        }
        if (!s || error)
                abort();
        check_parsed(s);
        return 0;
}
