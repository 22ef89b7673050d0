#include <getopt.h>

#include "cli.h"
#include "container.h"
#include "log.h"

int cmd_delete(const GlobalOptions *g, int argc, char **argv) {
        static const struct option opts[] = { { "force", no_argument, NULL, 'f' }, {} };
        bool force = false;
        int c;

        optind = 1;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+f", opts, NULL)) >= 0) {
                if (c != 'f') {
                        log_error("delete: unknown option '%s'", argv[optind - 1]);
                        return 1;
                }
                force = true;
        }
        if (argc - optind != 1) {
                log_error("delete: usage: urun delete [--force] ID");
                return 1;
        }
        return container_delete(g, argv[optind], force) < 0 ? 1 : 0;
}
