/* `urun pause ID` and `urun resume ID`: freeze and thaw the container's cgroup (runc's verbs,
 * called by Podman and containerd's shim). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "cmd-options.h"
#include "lifecycle-cgroup.h"
#include "log.h"

static int pause_or_resume(const GlobalOptions *g, int argc, char **argv, bool pause) {
        static const struct option opts[] = { { "help", no_argument, NULL, 'h' }, {} };
        const char *verb = pause ? "pause" : "resume";
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                if (c != 'h') {
                        (void) cmd_bad_option(verb, "+h", argv);
                        return 1;
                }
                printf("Usage: urun %s ID\n%s\n", verb,
                       pause ? "Freeze every process of a running container (its cgroup)."
                             : "Thaw a paused container.");
                return 0;
        }
        if (argc - optind != 1) {
                log_error("%s: usage: urun %s ID", verb, verb);
                return 1;
        }
        if (pause)
                return container_pause(g, argv[optind]) < 0 ? 1 : 0;
        return container_resume(g, argv[optind]) < 0 ? 1 : 0;
}

int cmd_pause(const GlobalOptions *g, int argc, char **argv) {
        return pause_or_resume(g, argc, argv, true);
}

int cmd_resume(const GlobalOptions *g, int argc, char **argv) {
        return pause_or_resume(g, argc, argv, false);
}
