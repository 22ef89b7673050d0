/* The systemd cgroup manager's D-Bus side: the endpoints, the connection (SASL EXTERNAL, Hello on a
 * message bus) and the calls we make: reading the manager's ControlGroup, StartTransientUnit of the
 * container's scope, SetUnitProperties of its limits. The wire format is in dbus-message.c, the
 * cgroup side (planning, the scope's first process, the limits) in cgroup.c and cgroup-ops.c.
 *
 * Threat model: the peer is a socket of the caller's own systemd instance (in directories only it
 * and root can write), but a reply is still untrusted input: every read is bounds-checked, nesting
 * is limited, and nothing a reply says decides where the container goes. The kernel's
 * /proc/PID/cgroup does. */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-systemd.h"
#include "dbus-message.h"
#include "log.h"
#include "util.h"

#define AUTH_LINE_MAX 512
#define EXISTS_RETRY_MS 50 /* a scope of the same name still on its way out: ask again */

/* ---- the connection ---- */

struct SystemdBus {
        int fd;
        bool bus;         /* a message bus between us and the manager: Hello, AddMatch */
        uint32_t serial;  /* of our last message */
        char *address;    /* for messages */
        uint8_t *rbuf;    /* received, not consumed yet */
        size_t rlen, rcap;
        const char *watch_unit; /* JobRemoved signals of this unit go to job_result */
        char *job_result;
};

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, uint64_t deadline) {
        struct pollfd p = { .fd = fd, .events = events };

        for (;;) {
                uint64_t t = now_ms();
                int k;
                if (t >= deadline)
                        return -ETIMEDOUT;
                k = poll(&p, 1, (int) (deadline - t));
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        return 0;
        }
}

static int send_all(SystemdBus *b, const void *data, size_t len, uint64_t deadline) {
        const uint8_t *p = data;

        while (len > 0) {
                ssize_t n = send(b->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
                int k;
                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (n > 0) {
                        p += n;
                        len -= (size_t) n;
                        continue;
                }
                k = wait_fd(b->fd, POLLOUT, deadline);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* More bytes into rbuf (at most what a message may be). */
static int fill(SystemdBus *b, uint64_t deadline) {
        ssize_t n;
        int k;

        if (b->rcap - b->rlen < 4096) {
                size_t cap = b->rcap ? b->rcap * 2 : 8192;
                uint8_t *p;
                /* fill() runs only while no whole message is buffered: less than one is there */
                if (cap > 2 * DBUS_MESSAGE_MAX)
                        return -EMSGSIZE;
                p = realloc(b->rbuf, cap);
                if (!p)
                        return -ENOMEM;
                b->rbuf = p;
                b->rcap = cap;
        }
        for (;;) {
                n = recv(b->fd, b->rbuf + b->rlen, b->rcap - b->rlen, MSG_DONTWAIT);
                if (n > 0) {
                        b->rlen += (size_t) n;
                        return 0;
                }
                if (n == 0)
                        return -ECONNRESET;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                k = wait_fd(b->fd, POLLIN, deadline);
                if (k < 0)
                        return k;
        }
}

static void consume(SystemdBus *b, size_t n) {
        memmove(b->rbuf, b->rbuf + n, b->rlen - n);
        b->rlen -= n;
}

/* One "\r\n"-terminated line of the authentication dialog, without the terminator. */
static int read_line(SystemdBus *b, char *line, size_t size, uint64_t deadline) {
        for (;;) {
                uint8_t *e = b->rlen >= 2 ? memmem(b->rbuf, b->rlen, "\r\n", 2) : NULL;
                int k;
                if (e) {
                        size_t n = (size_t) (e - b->rbuf);
                        if (n >= size || memchr(b->rbuf, 0, n))
                                return -EPROTO;
                        memcpy(line, b->rbuf, n);
                        line[n] = '\0';
                        consume(b, n + 2);
                        return 0;
                }
                if (b->rlen >= AUTH_LINE_MAX)
                        return -EPROTO;
                k = fill(b, deadline);
                if (k < 0)
                        return k;
        }
}

/* SASL EXTERNAL without an identity of ours: the server takes the credentials of the socket
 * (SO_PEERCRED). Naming our uid would fail in a user namespace, where our uid is not the one the
 * server sees. Both dbus-daemon and systemd answer the empty AUTH with an empty challenge (DATA),
 * and we answer it before it comes, with BEGIN right behind, as sd-bus does: systemd 252 reads a
 * BEGIN and a message that arrive together, and then leaves the message unread until more comes.
 * BEGIN in the same write as our DATA is read before its OK is sent, so before our first message. */
static int authenticate(SystemdBus *b, uint64_t deadline) {
        static const char auth[] = "\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n";
        char line[AUTH_LINE_MAX];
        int k = send_all(b, auth, sizeof auth - 1, deadline);

        for (int round = 0; k >= 0 && round < 3; round++) {
                k = read_line(b, line, sizeof line, deadline);
                if (k < 0)
                        return k;
                if (string_has_prefix(line, "OK ") || streq(line, "OK"))
                        return 0;
                if (string_has_prefix(line, "REJECTED"))
                        return -EACCES;
                if (!streq(line, "DATA") && !string_has_prefix(line, "DATA "))
                        return -EPROTO;
        }
        return k < 0 ? k : -EPROTO;
}

/* The next message: *ret_buf holds it, ret's strings point into it. */
static int recv_message(SystemdBus *b, uint64_t deadline, uint8_t **ret_buf, DbusMessage *ret) {
        for (;;) {
                size_t size;
                int k = dbus_message_size(b->rbuf, b->rlen, &size);
                if (k >= 0 && b->rlen >= size) {
                        _cleanup_free_ uint8_t *msg = malloc(size);
                        if (!msg)
                                return -ENOMEM;
                        memcpy(msg, b->rbuf, size);
                        consume(b, size);
                        k = dbus_message_parse(msg, size, ret);
                        if (k < 0)
                                return k;
                        *ret_buf = TAKE_PTR(msg);
                        return 0;
                }
                if (k < 0 && k != -EAGAIN)
                        return k;
                k = fill(b, deadline);
                if (k < 0)
                        return k;
        }
}

/* Printable text from a peer for one log line: control characters become '?', length bounded. */
static char *sanitize(const char *s) {
        char *t = strndup(s ? s : "", 512);

        for (char *c = t; c && *c; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        *c = '?';
        return t;
}

/* JobRemoved(u id, o job, s unit, s result) of the unit we wait for. */
static void handle_signal(SystemdBus *b, const uint8_t *msg, const DbusMessage *m) {
        const char *unit, *result;
        DbusReader r;
        uint32_t id;

        if (!b->watch_unit || !m->member || !streq(m->member, "JobRemoved") || !m->interface ||
            !streq(m->interface, "org.freedesktop.systemd1.Manager") || !m->signature ||
            !streq(m->signature, "uoss"))
                return;
        dbus_reader_body(msg, m, &r);
        if (dbus_read_u32(&r, &id) < 0 || dbus_read_string(&r, 'o', NULL) < 0 ||
            dbus_read_string(&r, 's', &unit) < 0 || dbus_read_string(&r, 's', &result) < 0 ||
            !streq(unit, b->watch_unit))
                return;
        free(b->job_result);
        b->job_result = sanitize(result);
}

/* Errors of the bus itself (nobody owns the name, no such method, ...) say that this endpoint has
 * no manager to talk to; anything else is the manager's answer. */
static int error_to_errno(const char *name) {
        if (string_has_prefix(name, "org.freedesktop.DBus.Error.AccessDenied"))
                return -EACCES;
        if (string_has_prefix(name, "org.freedesktop.DBus.Error."))
                return -EHOSTUNREACH;
        if (streq(name, "org.freedesktop.systemd1.UnitExists"))
                return -EEXIST;
        return -EREMOTEIO;
}

static int why_error(const uint8_t *msg, const DbusMessage *m, char **ret_why) {
        _cleanup_free_ char *name = sanitize(m->error_name), *text = NULL;
        const char *s = NULL;
        DbusReader r;

        dbus_reader_body(msg, m, &r);
        if (m->signature && m->signature[0] == 's')
                (void) dbus_read_string(&r, 's', &s);
        text = sanitize(s);
        if (ret_why && name && text && asprintf(ret_why, "%s%s%s", name, *text ? ": " : "", text) < 0)
                *ret_why = NULL;
        return error_to_errno(m->error_name);
}

/* A method call and its reply (signals meanwhile go to handle_signal). The reply is returned in
 * *ret_buf and *ret; an error reply is -errno with *ret_why. */
static int call(SystemdBus *b, DbusMessage *m, const DbusWriter *body, uint64_t deadline, uint8_t **ret_buf,
                DbusMessage *ret, char **ret_why) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        int k;

        if (body && body->oom)
                return -ENOMEM;
        m->type = DBUS_METHOD_CALL;
        m->serial = ++b->serial;
        k = dbus_message_build(m, body ? body->data : NULL, body ? body->len : 0, &out, &out_len);
        if (k >= 0)
                k = send_all(b, out, out_len, deadline);
        while (k >= 0) {
                _cleanup_free_ uint8_t *msg = NULL;
                DbusMessage reply;
                k = recv_message(b, deadline, &msg, &reply);
                if (k < 0)
                        break;
                if (reply.type == DBUS_SIGNAL)
                        handle_signal(b, msg, &reply);
                if ((reply.type != DBUS_METHOD_RETURN && reply.type != DBUS_ERROR) ||
                    reply.reply_serial != m->serial)
                        continue;
                if (reply.type == DBUS_ERROR)
                        return why_error(msg, &reply, ret_why);
                *ret = reply;
                *ret_buf = TAKE_PTR(msg);
                return 0;
        }
        return k;
}

/* NO_AUTO_START: a bus without systemd on it would try to start it (Debian's session bus has an
 * activation file for it); we want "nobody there" at once. */
#define DBUS_FLAG_NO_AUTO_START 0x2

static DbusMessage manager_call(const char *member, const char *signature) {
        return (DbusMessage){ .flags = DBUS_FLAG_NO_AUTO_START,
                              .path = "/org/freedesktop/systemd1",
                              .interface = "org.freedesktop.systemd1.Manager",
                              .destination = "org.freedesktop.systemd1",
                              .member = member,
                              .signature = signature };
}

/* Properties.Get(Manager, ControlGroup) -> v(s) */
static int get_control_group(SystemdBus *b, uint64_t deadline, char **ret, char **ret_why) {
        _cleanup_free_ uint8_t *msg = NULL;
        DbusMessage m = manager_call("Get", "ss"), reply;
        DbusWriter w = {};
        const char *vsig, *cg;
        DbusReader r;
        int k;

        m.interface = "org.freedesktop.DBus.Properties";
        dbus_w_string(&w, 's', "org.freedesktop.systemd1.Manager");
        dbus_w_string(&w, 's', "ControlGroup");
        k = call(b, &m, &w, deadline, &msg, &reply, ret_why);
        dbus_w_free(&w);
        if (k < 0)
                return k;
        dbus_reader_body(msg, &reply, &r);
        if (!reply.signature || !streq(reply.signature, "v") || dbus_read_string(&r, 'g', &vsig) < 0 ||
            !streq(vsig, "s") || dbus_read_string(&r, 's', &cg) < 0)
                return -EBADMSG;
        *ret = strdup(cg);
        return *ret ? 0 : -ENOMEM;
}

static int hello(SystemdBus *b, uint64_t deadline, char **ret_why) {
        _cleanup_free_ uint8_t *msg = NULL;
        DbusMessage m = { .path = "/org/freedesktop/DBus",
                          .interface = "org.freedesktop.DBus",
                          .destination = "org.freedesktop.DBus",
                          .member = "Hello" },
                    reply;

        return call(b, &m, NULL, deadline, &msg, &reply, ret_why);
}

SystemdBus *systemd_bus_free(SystemdBus *b) {
        if (b) {
                safe_close(b->fd);
                free(b->address);
                free(b->rbuf);
                free(b->job_result);
                free(b);
        }
        return NULL;
}

int systemd_bus_move_fd(SystemdBus *b, int min) {
        int fd = fd_move_above(b->fd, min);

        if (fd < 0)
                return fd;
        b->fd = fd;
        return 0;
}

void systemd_bus_disconnect(SystemdBus *b) {
        b->fd = safe_close(b->fd);
}

const char *systemd_bus_address(const SystemdBus *b) {
        return b->address;
}

/* ---- endpoints ---- */

typedef struct {
        char *address; /* D-Bus address syntax: unix:path=... */
        bool bus;      /* a message bus, else the manager's own socket */
} Endpoint;

static bool hexdigit(char c, unsigned *v) {
        if (c >= '0' && c <= '9')
                *v = (unsigned) (c - '0');
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                *v = (unsigned) ((c | 0x20) - 'a' + 10);
        else
                return false;
        return true;
}

/* One "unix:path=P" or "unix:abstract=N" address (other keys, like guid, are ignored), values
 * %-escaped as the D-Bus spec has it. */
static int parse_address(const char *a, struct sockaddr_un *ret, socklen_t *ret_len) {
        if (!string_has_prefix(a, "unix:"))
                return -EAFNOSUPPORT;
        for (const char *kv = a + 5; *kv;) {
                size_t n = strcspn(kv, ","), key = string_has_prefix(kv, "path=")       ? 5
                                                  : string_has_prefix(kv, "abstract=") ? 9
                                                                                        : 0;
                size_t o = key == 9 ? 1 : 0; /* an abstract name starts with a NUL */
                if (key == 0 || key > n) {
                        kv += n + (kv[n] == ',');
                        continue;
                }
                *ret = (struct sockaddr_un){ .sun_family = AF_UNIX };
                for (size_t i = key; i < n; i++) {
                        unsigned hi, lo;
                        char c = kv[i];
                        if (c == '%') {
                                if (i + 2 >= n || !hexdigit(kv[i + 1], &hi) || !hexdigit(kv[i + 2], &lo))
                                        return -EINVAL;
                                c = (char) (hi << 4 | lo);
                                i += 2;
                        }
                        if ((c == '\0' && key == 5) || o >= sizeof ret->sun_path - 1)
                                return c ? -ENAMETOOLONG : -EINVAL;
                        ret->sun_path[o++] = c;
                }
                if (o == (key == 9 ? 1u : 0u))
                        return -EINVAL;
                *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + o + (key == 5));
                return 0;
        }
        return -EINVAL;
}

/* path -> "unix:path=..." with the bytes the address syntax reserves escaped */
static char *path_address(const char *dir, const char *name) {
        _cleanup_free_ char *p = strjoin_path(dir, name);
        char *a = p ? malloc(10 + 3 * strlen(p) + 1) : NULL, *w = a;

        if (!a)
                return NULL;
        w += sprintf(w, "unix:path=");
        for (const unsigned char *c = (const unsigned char *) p; *c; c++)
                if ((*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') ||
                    strchr("-_/.\\*", *c))
                        *w++ = (char) *c;
                else
                        w += sprintf(w, "%%%02x", *c);
        *w = '\0';
        return a;
}

static int add_endpoint(Endpoint *e, size_t *n, size_t max, char *address, bool bus) {
        if (!address)
                return -ENOMEM;
        if (*n >= max) {
                free(address);
                return 0;
        }
        e[(*n)++] = (Endpoint){ address, bus };
        return 0;
}

/* Where a manager may be, in the order we ask. */
static int list_endpoints(bool user, const char *only, Endpoint *e, size_t max, size_t *ret_n) {
        const char *env = getenv("DBUS_SESSION_BUS_ADDRESS"), *run = getenv("XDG_RUNTIME_DIR");
        size_t n = 0;
        int k = 0;

        if (only) {
                bool direct = string_has_prefix(only, "direct:");
                k = add_endpoint(e, &n, max, strdup(only + (direct ? 7 : 0)), !direct);
        } else if (user) {
                for (const char *a = env; k >= 0 && a && *a; a += strcspn(a, ";"), a += *a == ';')
                        if (strcspn(a, ";") > 0)
                                k = add_endpoint(e, &n, max, strndup(a, strcspn(a, ";")), true);
                if (k >= 0 && run && run[0] == '/')
                        k = add_endpoint(e, &n, max, path_address(run, "bus"), true);
                if (k >= 0 && run && run[0] == '/')
                        k = add_endpoint(e, &n, max, path_address(run, "systemd/private"), false);
        } else {
                k = add_endpoint(e, &n, max, strdup("unix:path=/run/systemd/private"), false);
                if (k >= 0)
                        k = add_endpoint(e, &n, max, strdup("unix:path=/run/dbus/system_bus_socket"), true);
        }
        *ret_n = n;
        return k;
}

static int open_endpoint(const Endpoint *e, uint64_t deadline, SystemdBus **ret, char **ret_cgroup,
                         char **ret_why) {
        SystemdBus *b = calloc(1, sizeof(SystemdBus));
        struct sockaddr_un sa;
        socklen_t len;
        int k;

        if (!b)
                return -ENOMEM;
        b->fd = -EBADF;
        b->bus = e->bus;
        b->address = strdup(e->address);
        k = b->address ? parse_address(e->address, &sa, &len) : -ENOMEM;
        if (k >= 0) {
                b->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                /* a full listen backlog is EAGAIN for AF_UNIX: that manager is too busy for us */
                if (b->fd < 0 || connect(b->fd, (struct sockaddr *) &sa, len) < 0)
                        k = -errno;
        }
        if (k >= 0)
                k = authenticate(b, deadline);
        if (k >= 0 && b->bus)
                k = hello(b, deadline, ret_why);
        if (k >= 0)
                k = get_control_group(b, deadline, ret_cgroup, ret_why);
        if (k < 0) {
                systemd_bus_free(b);
                return k;
        }
        *ret = b;
        return 0;
}

static void append_why(char **why, const char *address, int k, const char *peer) {
        char *s = NULL;

        if (asprintf(&s, "%s%s%s: %s", *why ? *why : "", *why ? ", " : "", address,
                     peer ? peer : k == -EPROTO ? "not a D-Bus peer" : strerror(-k)) < 0)
                return;
        free(*why);
        *why = s;
}

int systemd_bus_open(bool user, const char *address, SystemdBus **ret, char **ret_cgroup, char **ret_why) {
        uint64_t deadline = now_ms() + SYSTEMD_CONNECT_TIMEOUT_MS;
        _cleanup_free_ char *why = NULL;
        Endpoint e[6];
        size_t n = 0, i;
        int k;

        *ret = NULL;
        k = list_endpoints(user, address, e, ELEMENTSOF(e), &n);
        for (i = 0; k >= 0 && i < n && !*ret; i++) {
                /* one endpoint that accepts and never answers must leave time for the others */
                uint64_t t = now_ms() + SYSTEMD_CONNECT_TIMEOUT_MS / 2;
                _cleanup_free_ char *peer = NULL;
                int r = open_endpoint(&e[i], t < deadline ? t : deadline, ret, ret_cgroup, &peer);
                if (r == -ENOMEM)
                        k = r;
                else if (r < 0)
                        append_why(&why, e[i].address, r, peer);
                else
                        log_debug("systemd: connected to %s, its root cgroup is '%s'", e[i].address, *ret_cgroup);
        }
        for (i = 0; i < n; i++)
                free(e[i].address);
        if (k < 0 || *ret)
                return k;
        *ret_why = why ? TAKE_PTR(why) : strdup(user ? "XDG_RUNTIME_DIR is not set" : "no endpoint");
        return -EHOSTUNREACH;
}

/* ---- StartTransientUnit ---- */

static void property(DbusWriter *w, const char *name, const char *sig) {
        dbus_w_struct_open(w);
        dbus_w_string(w, 's', name);
        dbus_w_string(w, 'g', sig);
}

int systemd_scope_message_body(const SystemdScope *s, DbusWriter *w) {
        DbusArray props, pids, aux;

        dbus_w_string(w, 's', s->unit);
        dbus_w_string(w, 's', "fail");
        props = dbus_w_array_open(w, 8);
        property(w, "Description", "s");
        dbus_w_string(w, 's', s->description);
        property(w, "Slice", "s");
        dbus_w_string(w, 's', s->slice);
        property(w, "Delegate", "b");
        dbus_w_bool(w, true);
        property(w, "DefaultDependencies", "b");
        dbus_w_bool(w, false);
        /* a failed scope is garbage-collected too, so that its name can be used again */
        property(w, "CollectMode", "s");
        dbus_w_string(w, 's', "inactive-or-failed");
        property(w, "PIDs", "au");
        pids = dbus_w_array_open(w, 4);
        dbus_w_u32(w, (uint32_t) s->pid);
        dbus_w_array_close(w, pids);
        /* No limit while the placeholder is in (it would count against the container's pids limit
         * when the init is cloned into the scope); systemd_set_limits() follows. */
        property(w, "TasksMax", "t");
        dbus_w_u64(w, UINT64_MAX);
        dbus_w_array_close(w, props);
        aux = dbus_w_array_open(w, 8);
        dbus_w_array_close(w, aux);
        return w->oom ? -ENOMEM : 0;
}

int systemd_limits_message_body(const char *unit, uint64_t tasks_max, uint64_t memory_max, DbusWriter *w) {
        DbusArray props;

        dbus_w_string(w, 's', unit);
        dbus_w_bool(w, true); /* runtime: nothing outlives the scope */
        props = dbus_w_array_open(w, 8);
        if (tasks_max > 0) {
                property(w, "TasksMax", "t");
                dbus_w_u64(w, tasks_max);
        }
        if (memory_max > 0) {
                property(w, "MemoryMax", "t");
                dbus_w_u64(w, memory_max);
        }
        dbus_w_array_close(w, props);
        return w->oom ? -ENOMEM : 0;
}

int systemd_set_limits(SystemdBus *b, const char *unit, uint64_t tasks_max, uint64_t memory_max, char **ret_why) {
        _cleanup_free_ uint8_t *msg = NULL;
        DbusMessage m = manager_call("SetUnitProperties", "sba(sv)"), reply;
        DbusWriter w = {};
        int k;

        *ret_why = NULL;
        k = systemd_limits_message_body(unit, tasks_max, memory_max, &w);
        if (k >= 0)
                k = call(b, &m, &w, now_ms() + SYSTEMD_CALL_TIMEOUT_MS, &msg, &reply, ret_why);
        dbus_w_free(&w);
        return k;
}

/* On a message bus, signals reach us only through a match rule, and systemd sends them there only
 * to subscribers. (Its own socket gets every signal.) */
static int subscribe(SystemdBus *b, uint64_t deadline, char **ret_why) {
        _cleanup_free_ uint8_t *msg = NULL, *msg2 = NULL;
        DbusMessage m = { .path = "/org/freedesktop/DBus",
                          .interface = "org.freedesktop.DBus",
                          .destination = "org.freedesktop.DBus",
                          .member = "AddMatch",
                          .signature = "s" },
                    s = manager_call("Subscribe", NULL), reply;
        DbusWriter w = {};
        int k;

        dbus_w_string(&w, 's',
                      "type='signal',sender='org.freedesktop.systemd1',"
                      "interface='org.freedesktop.systemd1.Manager',member='JobRemoved'");
        k = call(b, &m, &w, deadline, &msg, &reply, ret_why);
        dbus_w_free(&w);
        if (k < 0)
                return k;
        k = call(b, &s, NULL, deadline, &msg2, &reply, NULL);
        /* "already subscribed" is fine too */
        return k == -EREMOTEIO ? 0 : k;
}

static int start_unit(SystemdBus *b, const DbusWriter *body, uint64_t deadline, char **ret_why) {
        uint64_t retry_until = now_ms() + 1000;

        for (;;) {
                _cleanup_free_ uint8_t *msg = NULL;
                DbusMessage m = manager_call("StartTransientUnit", "ssa(sv)a(sa(sv))"), reply;
                int k = call(b, &m, body, deadline, &msg, &reply, ret_why);

                if (k >= 0)
                        return reply.signature && streq(reply.signature, "o") ? 0 : -EBADMSG;
                /* A scope of this name whose processes are gone (a container just deleted) is still
                 * being collected: nothing tells us when, so ask again, briefly. */
                if (k != -EEXIST || now_ms() + EXISTS_RETRY_MS >= retry_until)
                        return k;
                free(*ret_why);
                *ret_why = NULL;
                (void) poll(NULL, 0, EXISTS_RETRY_MS);
        }
}

int systemd_start_scope(SystemdBus *b, const SystemdScope *s, char **ret_why) {
        uint64_t deadline = now_ms() + SYSTEMD_CALL_TIMEOUT_MS;
        DbusWriter w = {};
        int k;

        *ret_why = NULL;
        b->watch_unit = s->unit;
        free(b->job_result);
        b->job_result = NULL;
        k = b->bus ? subscribe(b, deadline, ret_why) : 0;
        if (k >= 0)
                k = systemd_scope_message_body(s, &w);
        if (k >= 0)
                k = start_unit(b, &w, deadline, ret_why);
        dbus_w_free(&w);
        /* the job's end: JobRemoved(id, job, unit, result) */
        while (k >= 0 && !b->job_result) {
                _cleanup_free_ uint8_t *msg = NULL;
                DbusMessage m;
                k = recv_message(b, deadline, &msg, &m);
                if (k >= 0 && m.type == DBUS_SIGNAL)
                        handle_signal(b, msg, &m);
        }
        b->watch_unit = NULL;
        if (k < 0)
                return k;
        if (streq(b->job_result, "done"))
                return 0;
        if (asprintf(ret_why, "its start job ended with result '%s'", b->job_result) < 0)
                *ret_why = NULL;
        return -EIO;
}
