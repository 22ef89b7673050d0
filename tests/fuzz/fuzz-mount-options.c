/* libFuzzer target: mounts[].options (one option per input line) -> mount_options_parse(), plus
 * mount_propagation_from_string() on every word and mount_data_with_label() with the first as the
 * label. Invariants: unknown words come back in data in their order, a flag is never both set and
 * cleared, a label is quoted or refused. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "mount-options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Split a copy of the input at '\n' into a NULL-terminated list (words may hold ',' or NUL-free
 * anything else; a NUL ends the word early, as it would in a C string). */
static char **split_lines(const uint8_t *data, size_t size, char **ret_buf) {
        char *buf = malloc(size + 1);
        char **words;
        size_t n = 1, k = 0;

        if (!buf)
                return NULL;
        memcpy(buf, data, size);
        buf[size] = '\0';
        for (size_t i = 0; i < size; i++)
                n += buf[i] == '\n';
        words = calloc(n + 1, sizeof(char *));
        if (!words) {
                free(buf);
                return NULL;
        }
        words[k++] = buf;
        for (size_t i = 0; i < size; i++)
                if (buf[i] == '\n') {
                        buf[i] = '\0';
                        words[k++] = buf + i + 1;
                }
        *ret_buf = buf;
        return words;
}

static void check(char *const *words, const MountOptions *o) {
        unsigned long prop;
        uint64_t clr;

        if (o->set_flags & o->clear_flags)
                abort();
        if (o->attr_set & o->attr_clr & ~(uint64_t) MOUNT_ATTR__ATIME)
                abort();
        if (o->recursive && !o->bind)
                abort();
        if (o->data && o->data[0] == '\0')
                abort();
        /* Every byte of data comes from the input: it cannot be longer than all words joined. */
        if (o->data) {
                size_t total = 0;

                for (size_t i = 0; words[i]; i++)
                        total += strlen(words[i]) + 1;
                if (strlen(o->data) >= total)
                        abort();
        }
        for (size_t i = 0; words[i]; i++)
                if (mount_propagation_from_string(words[i], &prop) == 0 &&
                    (prop & ~(unsigned long) (MS_PRIVATE | MS_SHARED | MS_SLAVE | MS_UNBINDABLE | MS_REC)))
                        abort();
        (void) mount_flags_to_attr(o->set_flags, &clr);
        (void) mount_flags_to_attr(o->set_flags, NULL);
}

/* The first word as a mountLabel for the parsed data: quoted, or refused. */
static void check_label(char *const *words, const MountOptions *o) {
        char *labelled = NULL;
        int r = mount_data_with_label(o->data, words[0], &labelled);

        if (r == 0 && words[0][0] && (!labelled || !strstr(labelled, "context=\"")))
                abort();
        if (r < 0 && r != -EINVAL && r != -ENOMEM)
                abort();
        free(labelled);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_mount_options_ MountOptions o = MOUNT_OPTIONS_INIT;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ char **words = NULL;

        words = split_lines(data, size, &buf);
        if (!words)
                return 0;
        if (mount_options_parse(words, &o) < 0)
                abort();
        check(words, &o);
        check_label(words, &o);
        return 0;
}
