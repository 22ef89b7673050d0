#include "cli.h"
#include "container.h"
#include "log.h"

int cmd_start(const GlobalOptions *g, int argc, char **argv) {
        if (argc != 2) {
                log_error("start: expected exactly one container ID (usage: urun start ID)");
                return 1;
        }
        return container_start(g, argv[1]) < 0 ? 1 : 0;
}
