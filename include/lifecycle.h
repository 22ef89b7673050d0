/* Opening an existing container for a verb (start, kill, delete, exec): its state directory, the
 * directory's lock, the recorded state and the status worked out from it. The state root and the
 * container's directory stay open, and locked, until handle_done(). */
#pragma once

#include <stdbool.h>

#include "cli.h"
#include "state.h"

typedef struct {
        int root_fd;
        int dir_fd;                    /* ROOT/<id>, holds the flock */
        ContainerState *state;         /* NULL while the container is being created */
        enum container_status status;
} Handle;

/* Open ROOT/<id>, lock it (exclusive or shared) and read its state. A dir without state.json is
 * accepted (STATUS_CREATING) so delete can remove leftovers of a crashed create. missing_ok: an
 * unknown id returns -ENOENT without a message; otherwise "container 'X' does not exist" is
 * logged. *h must be passed to handle_done() whatever the result. */
int handle_open(const GlobalOptions *g, const char *id, bool exclusive, bool missing_ok, Handle *h);
/* Close the fds (which releases the lock) and free the state. */
void handle_done(Handle *h);

/* A pidfd for the container's init, only if it is still the process we started (pid and start
 * time): a recycled pid is never signalled or joined. -ESRCH when it is gone. */
int pidfd_for(const ContainerState *s);
