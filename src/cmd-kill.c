#include <getopt.h>
#include <signal.h>

#include "cli.h"
#include "container.h"
#include "log.h"
#include "signals.h"

int cmd_kill(const GlobalOptions *g, int argc, char **argv) {
        static const struct option opts[] = { { "all", no_argument, NULL, 'a' }, {} };
        bool all = false;
        int c, sig = SIGTERM;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+a", opts, NULL)) >= 0) {
                if (c != 'a') {
                        log_error("kill: unknown option '%s'", argv[optind - 1]);
                        return 1;
                }
                all = true;
        }
        if (optind >= argc || argc - optind > 2) {
                log_error("kill: usage: urun kill [--all] ID [SIGNAL]");
                return 1;
        }
        if (argc - optind == 2) {
                sig = signal_from_string(argv[optind + 1]);
                if (sig < 0) {
                        log_error("kill: unknown signal '%s'", argv[optind + 1]);
                        return 1;
                }
        }
        return container_kill(g, argv[optind], sig, all) < 0 ? 1 : 0;
}
