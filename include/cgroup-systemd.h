/* --systemd-cgroup: the container's cgroup is a transient scope unit that a systemd manager makes
 * for us (StartTransientUnit with Delegate=yes), reached over D-Bus by a minimal client of our own:
 * libsystemd is no dependency of urun, and one method call with its reply is all we need.
 *
 *   endpoints   rootless: the user instance, through $DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus
 *               or straight at $XDG_RUNTIME_DIR/systemd/private; root: /run/systemd/private, then
 *               the system bus. The first one whose manager answers wins.
 *   calls       Properties.Get(ControlGroup) (the probe), StartTransientUnit and its JobRemoved
 *               signal, SetUnitProperties; the wire format is dbus-message.h.
 *
 * Every function is silent (debug messages aside): they return -errno, and a description of what
 * failed in *ret_why when they take one, for the caller's one log line. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dbus-message.h"

typedef struct SystemdBus SystemdBus;

/* Connect to the first systemd manager that answers: rootless the user instance, else the system
 * instance, or only `address` (tests; a D-Bus address, with a "direct:" prefix when it is the
 * manager's own socket rather than a message bus). Reads the manager's root cgroup (its
 * ControlGroup property, as the cgroup2 hierarchy's root sees it) into *ret_cgroup. Bounded by a
 * total of SYSTEMD_CONNECT_TIMEOUT_MS. Every failure is -EHOSTUNREACH with *ret_why listing the
 * endpoints tried and why each failed. */
#define SYSTEMD_CONNECT_TIMEOUT_MS 2000
int systemd_bus_open(bool user, const char *address, SystemdBus **ret, char **ret_cgroup, char **ret_why);
/* The connection's socket at min or above (out of the way of fds handed to the container). */
int systemd_bus_move_fd(SystemdBus *b, int min);
void systemd_bus_disconnect(SystemdBus *b); /* closes the socket (no more calls), keeps the rest */
SystemdBus *systemd_bus_free(SystemdBus *b);
const char *systemd_bus_address(const SystemdBus *b);

typedef struct {
        const char *unit;        /* "urun-ID.scope" */
        const char *slice;       /* "user.slice" */
        const char *description; /* "urun container ID" */
        pid_t pid;               /* the scope's first process */
} SystemdScope;

/* The body of StartTransientUnit(s name, s mode, a(sv) properties, a(sa(sv)) aux) for s. */
int systemd_scope_message_body(const SystemdScope *s, DbusWriter *w);

/* Start the transient scope and wait until its start job has finished. -EEXIST when a unit of that
 * name exists (after a bounded wait for one on its way out), -ETIMEDOUT when no job result came
 * within SYSTEMD_CALL_TIMEOUT_MS (the caller checks where the pid is), other errors with *ret_why
 * (systemd's error name and message, or the job's result). */
#define SYSTEMD_CALL_TIMEOUT_MS 5000
int systemd_start_scope(SystemdBus *b, const SystemdScope *s, char **ret_why);

/* SetUnitProperties(unit, runtime, TasksMax and MemoryMax): the limits systemd itself writes into
 * the scope whenever it applies its settings (start, daemon-reload). UINT64_MAX is infinity, 0
 * leaves the property alone. */
int systemd_set_limits(SystemdBus *b, const char *unit, uint64_t tasks_max, uint64_t memory_max, char **ret_why);
/* The body of that call. */
int systemd_limits_message_body(const char *unit, uint64_t tasks_max, uint64_t memory_max, DbusWriter *w);
