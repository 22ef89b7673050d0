/* Parent <-> container child protocol over a SOCK_SEQPACKET socketpair. One message per packet.
 * Errors from the child travel as SYNC_ERROR with the negative errno and the one-line message. */
#pragma once

#include <stdint.h>

enum sync_type {
        SYNC_USERNS_READY = 1, /* child -> parent: I unshared the user namespace, write my maps */
        SYNC_MAPS_DONE,        /* parent -> child */
        SYNC_RUNTIME_HOOKS,    /* child -> parent: namespaces and mounts are set, run prestart/createRuntime */
        SYNC_HOOKS_DONE,       /* parent -> child */
        SYNC_INIT_PID,         /* intermediate -> parent: value = init pid in the parent's namespace */
        SYNC_READY,            /* child -> parent: setup complete, waiting for start */
        SYNC_START,            /* parent -> child: exec now (run in the foreground) */
        SYNC_ERROR,            /* child -> parent: value = -errno, text = message */
        SYNC_LOG,              /* child -> parent: value = level, text = message (warnings, debug) */
        SYNC_TERMINAL,         /* child -> parent: the next packet carries the pty master
                                * (terminal_send_master; receive it with terminal_recv_master) */
};

#define SYNC_TEXT_MAX 2048

typedef struct {
        uint32_t type;
        int32_t value;
        char text[SYNC_TEXT_MAX];
} SyncMsg;

int sync_send(int fd, enum sync_type type, int value, const char *text);
/* Receive one message; -EPIPE when the peer closed the socket. */
int sync_recv(int fd, SyncMsg *ret);
/* Receive and require type; a SYNC_ERROR is returned as its value with the text in *ret (if given). */
int sync_expect(int fd, enum sync_type type, SyncMsg *ret);
