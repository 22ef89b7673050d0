/* Parent <-> child messages over SOCK_SEQPACKET: each send is one packet, so no framing. */
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "sync.h"
#include "log.h"
#include "macro.h"

int sync_send(int fd, enum sync_type type, int value, const char *text) {
        SyncMsg m = { .type = type, .value = value };
        size_t len = offsetof(SyncMsg, text);
        ssize_t n;

        if (text) {
                size_t tl = strnlen(text, SYNC_TEXT_MAX - 1);
                memcpy(m.text, text, tl);
                m.text[tl] = '\0';
                len += tl + 1;
        }
        do
                n = send(fd, &m, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return 0;
}

int sync_recv(int fd, SyncMsg *ret) {
        ssize_t n;

        memset(ret, 0, sizeof *ret);
        do
                n = recv(fd, ret, sizeof *ret, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -EPIPE;
        if ((size_t) n < offsetof(SyncMsg, text))
                return -EBADMSG;
        ret->text[SYNC_TEXT_MAX - 1] = '\0';
        return 0;
}

int sync_expect(int fd, enum sync_type type, SyncMsg *ret) {
        SyncMsg m;
        int r;

        for (;;) {
                r = sync_recv(fd, &m);
                if (r < 0)
                        return r;
                if (m.type != SYNC_LOG)
                        break;
                /* warnings and debug lines from the child: print and keep waiting */
                log_emit(m.value, m.text);
        }
        if (ret)
                *ret = m;
        if (m.type == SYNC_ERROR)
                return m.value < 0 ? m.value : -EIO;
        if (m.type != (uint32_t) type)
                return -EBADMSG;
        return 0;
}
