/* --systemd-cgroup's D-Bus client (cgroup-systemd.c): the marshaller and the parser, on valid
 * messages and on hostile ones (truncated, bad lengths and padding, bad signatures, too deep, and
 * random mutations); the connection and the calls against a fake manager in a child process
 * (authentication, Hello, ControlGroup, StartTransientUnit and its job, SetUnitProperties, the
 * manager's errors, a silent or garbled peer); and cgroup_plan() with a fake manager and a fake
 * cgroup2 tree. The real systemd is tested in the VM (tests/vm/systemd.sh). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup-systemd.h"
#include "cgroup.h"
#include "log.h"
#include "resources.h"
#include "tap.h"
#include "util.h"

static char tmp[64];
static char log_path[80];

static bool logged(const char *frag) {
        _cleanup_free_ char *s = NULL;
        bool found = read_file_at(AT_FDCWD, log_path, 1 << 20, &s, NULL) >= 0 && strstr(s, frag);

        if (!found)
                printf("# not logged: %s\n", frag);
        (void) truncate(log_path, 0);
        return found;
}

static uint64_t ms_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

static DbusReader reader_of(const DbusWriter *w) {
        return (DbusReader){ .p = w->data, .pos = 0, .end = w->len };
}

/* ---- writer ---- */

static void test_writer(void) {
        static const uint8_t want[] = { 7,    0,    0,    0,    0x04, 0x03, 0x02, 0x01, /* u8, padding, u32 */
                                        2,    0,    0,    0,    'a',  'b',  0,           /* "ab" */
                                        1,    's',  0,                                   /* signature "s" */
                                        0,    0,    0,    0,    0,    0,                 /* array: padding, length 0 */
                                        0x0d, 0xf0, 0xad, 0xba, 0,    0,    0,    0 };   /* u64 at 24 */
        DbusWriter w = {};
        DbusArray a;

        dbus_w_u8(&w, 7);
        dbus_w_u32(&w, 0x01020304); /* aligned to 4 */
        dbus_w_string(&w, 's', "ab");
        dbus_w_string(&w, 'g', "s");
        a = dbus_w_array_open(&w, 8); /* empty: the padding to 8 is there all the same */
        dbus_w_array_close(&w, a);
        dbus_w_u64(&w, 0xbaadf00d);
        CHECK(!w.oom && w.len == sizeof want && memcmp(w.data, want, sizeof want) == 0);
        CHECK(a.len_at == 20 && a.start == 24);
        dbus_w_free(&w);
}

/* the properties of a StartTransientUnit or SetUnitProperties body, checked by name */
typedef struct {
        const char *description, *slice, *collect;
        int delegate, default_deps, n_props;
        uint32_t pid;
        uint64_t tasks_max, memory_max;
} Props;

static int read_props(DbusReader *r, Props *p) {
        size_t end;
        int k = dbus_read_array(r, '(', &end);

        while (k >= 0 && r->pos < end) {
                const char *name, *sig;
                uint32_t v32;
                size_t aend;
                k = dbus_read_struct(r);
                if (k >= 0)
                        k = dbus_read_string(r, 's', &name);
                if (k >= 0)
                        k = dbus_read_string(r, 'g', &sig);
                if (k < 0)
                        break;
                p->n_props++;
                if (streq(name, "Description") && streq(sig, "s"))
                        k = dbus_read_string(r, 's', &p->description);
                else if (streq(name, "Slice") && streq(sig, "s"))
                        k = dbus_read_string(r, 's', &p->slice);
                else if (streq(name, "CollectMode") && streq(sig, "s"))
                        k = dbus_read_string(r, 's', &p->collect);
                else if ((streq(name, "Delegate") || streq(name, "DefaultDependencies")) && streq(sig, "b")) {
                        k = dbus_read_u32(r, &v32);
                        *(streq(name, "Delegate") ? &p->delegate : &p->default_deps) = (int) v32;
                } else if (streq(name, "PIDs") && streq(sig, "au")) {
                        k = dbus_read_array(r, 'u', &aend);
                        if (k >= 0 && aend - r->pos == 4)
                                k = dbus_read_u32(r, &p->pid);
                        else
                                k = -EBADMSG;
                } else if (streq(name, "TasksMax") && streq(sig, "t"))
                        k = dbus_read_u64(r, &p->tasks_max);
                else if (streq(name, "MemoryMax") && streq(sig, "t"))
                        k = dbus_read_u64(r, &p->memory_max);
                else
                        k = -EBADMSG;
        }
        return k < 0 ? k : r->pos == end ? 0 : -EBADMSG;
}

static void test_bodies(void) {
        SystemdScope s = { .unit = "urun-c1.scope", .slice = "user.slice", .description = "urun container c1", .pid = 4242 };
        const char *sig = "ssa(sv)a(sa(sv))", *unit, *mode;
        DbusWriter w = {};
        DbusReader r;
        Props p = {};
        size_t end;
        uint32_t runtime;

        CHECK_RET(systemd_scope_message_body(&s, &w), 0);
        r = reader_of(&w);
        for (int i = 0; i < 4; i++)
                CHECK_RET(dbus_skip(&r, &sig), 0);
        CHECK(r.pos == w.len && *sig == '\0');
        r = reader_of(&w);
        CHECK(dbus_read_string(&r, 's', &unit) == 0 && streq(unit, "urun-c1.scope"));
        CHECK(dbus_read_string(&r, 's', &mode) == 0 && streq(mode, "fail"));
        CHECK_RET(read_props(&r, &p), 0);
        CHECK(p.n_props == 7 && p.pid == 4242 && p.delegate == 1 && p.default_deps == 0);
        CHECK_STR(p.slice, "user.slice");
        CHECK_STR(p.description, "urun container c1");
        CHECK_STR(p.collect, "inactive-or-failed");
        CHECK(p.tasks_max == UINT64_MAX); /* the placeholder must not count: the real one comes later */
        CHECK(dbus_read_array(&r, '(', &end) == 0 && end == r.pos && end == w.len);
        dbus_w_free(&w);

        CHECK_RET(systemd_limits_message_body("u.scope", 10, 64 << 20, &w), 0);
        r = reader_of(&w);
        p = (Props){};
        CHECK(dbus_read_string(&r, 's', &unit) == 0 && dbus_read_u32(&r, &runtime) == 0 && runtime == 1);
        CHECK(read_props(&r, &p) == 0 && p.n_props == 2 && p.tasks_max == 10 && p.memory_max == 64 << 20);
        dbus_w_free(&w);
        CHECK_RET(systemd_limits_message_body("u.scope", UINT64_MAX, 0, &w), 0);
        r = reader_of(&w);
        p = (Props){};
        (void) dbus_read_string(&r, 's', &unit);
        (void) dbus_read_u32(&r, &runtime);
        CHECK(read_props(&r, &p) == 0 && p.n_props == 1 && p.tasks_max == UINT64_MAX); /* no MemoryMax */
        dbus_w_free(&w);
}

/* ---- messages ---- */

static size_t build(const DbusMessage *h, const DbusWriter *body, uint8_t **ret) {
        size_t n = 0;
        if (dbus_message_build(h, body ? body->data : NULL, body ? body->len : 0, ret, &n) < 0)
                *ret = NULL;
        return n;
}

/* a JobRemoved signal, the richest message we parse */
static size_t job_removed(const char *unit, const char *result, uint8_t **ret) {
        DbusMessage h = { .type = DBUS_SIGNAL,
                          .serial = 9,
                          .path = "/org/freedesktop/systemd1",
                          .interface = "org.freedesktop.systemd1.Manager",
                          .member = "JobRemoved",
                          .sender = ":1.0",
                          .signature = "uoss" };
        DbusWriter w = {};
        size_t n;

        dbus_w_u32(&w, 17);
        dbus_w_string(&w, 'o', "/org/freedesktop/systemd1/job/17");
        dbus_w_string(&w, 's', unit);
        dbus_w_string(&w, 's', result);
        n = build(&h, &w, ret);
        dbus_w_free(&w);
        return n;
}

static void test_roundtrip(void) {
        _cleanup_free_ uint8_t *msg = NULL, *sig = NULL, *err = NULL;
        DbusMessage h = { .type = DBUS_METHOD_CALL,
                          .flags = 2,
                          .serial = 7,
                          .path = "/org/freedesktop/systemd1",
                          .interface = "org.freedesktop.DBus.Properties",
                          .member = "Get",
                          .destination = "org.freedesktop.systemd1",
                          .signature = "ss" },
                    m;
        const char *a, *b, *unit, *result;
        DbusWriter w = {};
        DbusReader r;
        uint32_t id;
        size_t n, size;

        dbus_w_string(&w, 's', "org.freedesktop.systemd1.Manager");
        dbus_w_string(&w, 's', "ControlGroup");
        n = build(&h, &w, &msg);
        dbus_w_free(&w);
        CHECK(msg && msg[0] == 'l' && msg[1] == 1 && msg[2] == 2 && msg[3] == 1);
        CHECK(dbus_message_size(msg, 15, &size) == -EAGAIN && dbus_message_size(msg, 16, &size) == 0 && size == n);
        CHECK_RET(dbus_message_parse(msg, n, &m), 0);
        CHECK(m.type == DBUS_METHOD_CALL && m.flags == 2 && m.serial == 7 && m.reply_serial == 0 && !m.big_endian);
        CHECK_STR(m.path, "/org/freedesktop/systemd1");
        CHECK_STR(m.interface, "org.freedesktop.DBus.Properties");
        CHECK_STR(m.member, "Get");
        CHECK_STR(m.destination, "org.freedesktop.systemd1");
        CHECK_STR(m.signature, "ss");
        CHECK(m.error_name == NULL && m.sender == NULL && m.body_offset % 8 == 0);
        dbus_reader_body(msg, &m, &r);
        CHECK(dbus_read_string(&r, 's', &a) == 0 && dbus_read_string(&r, 's', &b) == 0 && r.pos == r.end);
        CHECK(streq(a, "org.freedesktop.systemd1.Manager") && streq(b, "ControlGroup"));

        n = job_removed("urun-c1.scope", "done", &sig);
        CHECK_RET(dbus_message_parse(sig, n, &m), 0);
        dbus_reader_body(sig, &m, &r);
        CHECK(dbus_read_u32(&r, &id) == 0 && id == 17 && dbus_read_string(&r, 'o', NULL) == 0 &&
              dbus_read_string(&r, 's', &unit) == 0 && dbus_read_string(&r, 's', &result) == 0);
        CHECK(streq(unit, "urun-c1.scope") && streq(result, "done") && streq(m.sender, ":1.0"));

        h = (DbusMessage){ .type = DBUS_ERROR, .serial = 3, .reply_serial = 7, .error_name = "org.x.Err", .signature = "s" };
        dbus_w_string(&w, 's', "text");
        n = build(&h, &w, &err);
        dbus_w_free(&w);
        CHECK(dbus_message_parse(err, n, &m) == 0 && m.reply_serial == 7 && streq(m.error_name, "org.x.Err"));
        /* a body needs a signature */
        h.signature = NULL;
        CHECK_RET(dbus_message_build(&h, "x", 1, &msg, &n), -EINVAL);
}

/* A big-endian method return, byte by byte: reply serial 5, body "s" "hi". */
static void test_big_endian(void) {
        static const uint8_t be[] = { 'B', 2, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 15,
                                      5, 1, 'u', 0, 0, 0, 0, 5, 8, 1, 'g', 0, 1, 's', 0, 0,
                                      0, 0, 0, 2, 'h', 'i', 0 };
        const char *s;
        DbusMessage m;
        DbusReader r;

        CHECK_RET(dbus_message_parse(be, sizeof be, &m), 0);
        CHECK(m.big_endian && m.type == DBUS_METHOD_RETURN && m.reply_serial == 5 && streq(m.signature, "s"));
        dbus_reader_body(be, &m, &r);
        CHECK(dbus_read_string(&r, 's', &s) == 0 && streq(s, "hi"));
}

/* A message with hand-made header fields (fields: the array's content, as written from an
 * 8-aligned offset) and body. */
static size_t raw(uint8_t type, const DbusWriter *fields, const void *body, size_t body_len, uint8_t **ret) {
        DbusWriter w = {};

        dbus_w_u8(&w, 'l');
        dbus_w_u8(&w, type);
        dbus_w_u8(&w, 0);
        dbus_w_u8(&w, 1);
        dbus_w_u32(&w, (uint32_t) body_len);
        dbus_w_u32(&w, 1);
        dbus_w_u32(&w, (uint32_t) fields->len);
        if (fields->len) {
                uint8_t *d = realloc(w.data, w.len + fields->len + 8 + body_len);
                w.data = d;
                memcpy(d + w.len, fields->data, fields->len);
                w.len += fields->len;
                while (w.len % 8)
                        w.data[w.len++] = 0;
                if (body_len)
                        memcpy(w.data + w.len, body, body_len);
                w.len += body_len;
        }
        *ret = w.data;
        return w.len;
}

static void field(DbusWriter *f, uint8_t code, const char *sig) {
        dbus_w_struct_open(f);
        dbus_w_u8(f, code);
        dbus_w_string(f, 'g', sig);
}

/* fields of a valid signal, then `extra` (called with the writer) appended */
static int parse_with(uint8_t type, void (*extra)(DbusWriter *), const char *signature, const void *body,
                      size_t body_len) {
        _cleanup_free_ uint8_t *msg = NULL;
        DbusWriter f = {};
        DbusMessage m;
        size_t n;
        int k;

        field(&f, 1, "o");
        dbus_w_string(&f, 'o', "/a");
        field(&f, 2, "s");
        dbus_w_string(&f, 's', "a.b");
        field(&f, 3, "s");
        dbus_w_string(&f, 's', "M");
        if (signature) {
                field(&f, 8, "g");
                dbus_w_string(&f, 'g', signature);
        }
        if (extra)
                extra(&f);
        n = raw(type, &f, body, body_len, &msg);
        dbus_w_free(&f);
        k = dbus_message_parse(msg, n, &m);
        if (k >= 0 && m.signature && body_len) {
                DbusReader r;
                const char *s = m.signature;
                dbus_reader_body(msg, &m, &r);
                while (k >= 0 && *s)
                        k = dbus_skip(&r, &s);
        }
        return k;
}

static void f_path_as_string(DbusWriter *f) {
        field(f, 1, "s");
        dbus_w_string(f, 's', "/b");
}
static void f_code_zero(DbusWriter *f) {
        field(f, 0, "u");
        dbus_w_u32(f, 1);
}
static void f_unknown_dict(DbusWriter *f) {
        DbusArray a;
        field(f, 42, "a{sv}");
        a = dbus_w_array_open(f, 8);
        dbus_w_struct_open(f);
        dbus_w_string(f, 's', "k");
        dbus_w_string(f, 'g', "u");
        dbus_w_u32(f, 3);
        dbus_w_array_close(f, a);
}
static void f_unknown_two_types(DbusWriter *f) {
        field(f, 42, "ss");
        dbus_w_string(f, 's', "a");
        dbus_w_string(f, 's', "b");
}
static void f_long_string(DbusWriter *f) {
        field(f, 7, "s");
        dbus_w_u32(f, 1000);
        dbus_w_u8(f, 'x');
}
static void f_nul_inside(DbusWriter *f) {
        field(f, 7, "s");
        dbus_w_u32(f, 3);
        dbus_w_u8(f, 'a');
        dbus_w_u8(f, 0);
        dbus_w_u8(f, 'b');
        dbus_w_u8(f, 0);
}
static void f_no_nul(DbusWriter *f) {
        field(f, 7, "s");
        dbus_w_u32(f, 2);
        dbus_w_u8(f, 'a');
        dbus_w_u8(f, 'b');
        dbus_w_u8(f, 'c');
}
static void f_dirty_padding(DbusWriter *f) {
        dbus_w_u8(f, 0xff); /* where the next field's alignment padding is */
        field(f, 7, "s");
        dbus_w_string(f, 's', ":1.1");
}
static void f_deep_variant(DbusWriter *f) {
        field(f, 42, "v");
        for (int i = 0; i < 80; i++)
                dbus_w_string(f, 'g', "v");
        dbus_w_string(f, 'g', "u");
        dbus_w_u32(f, 1);
}
static void f_reply_serial(DbusWriter *f) {
        field(f, 5, "u");
        dbus_w_u32(f, 1);
}

static void test_hostile(void) {
        char deep[80];
        uint8_t as_overrun[] = { 8, 0, 0, 0, 10, 0, 0, 0, 'a', 'b' };        /* "as": a string past the array */
        uint8_t bad_bool[] = { 2, 0, 0, 0 };                                 /* "b" = 2 */
        uint8_t huge_array[] = { 0xf0, 0xff, 0xff, 0x00, 0, 0, 0, 0 };       /* "au" longer than the body */
        uint8_t ok_body[] = { 1, 0, 0, 0, 'x', 0 };                          /* "s" "x" */
        uint8_t bad_sig_body[] = { 0 };
        _cleanup_free_ uint8_t *msg = NULL;
        DbusMessage m;
        size_t n, size;

        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "s", ok_body, sizeof ok_body), 0);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_path_as_string, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_code_zero, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_unknown_dict, NULL, NULL, 0), 0); /* a later spec's field: skipped */
        CHECK_RET(parse_with(DBUS_SIGNAL, f_unknown_two_types, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_long_string, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_nul_inside, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_no_nul, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_dirty_padding, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, f_deep_variant, NULL, NULL, 0), -EBADMSG);
        /* what each type must carry */
        CHECK_RET(parse_with(DBUS_METHOD_RETURN, NULL, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_METHOD_RETURN, f_reply_serial, NULL, NULL, 0), 0);
        CHECK_RET(parse_with(DBUS_ERROR, f_reply_serial, NULL, NULL, 0), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, NULL, ok_body, sizeof ok_body), -EBADMSG); /* body, no signature */
        CHECK_RET(parse_with(5, NULL, NULL, NULL, 0), -EBADMSG);
        /* signatures */
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "a", bad_sig_body, 1), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "a{vs}", bad_sig_body, 1), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "()", bad_sig_body, 1), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "(s", bad_sig_body, 1), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "{ss}", bad_sig_body, 1), -EBADMSG);
        memset(deep, 'a', sizeof deep - 2);
        deep[sizeof deep - 2] = 'u';
        deep[sizeof deep - 1] = '\0';
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, deep, bad_sig_body, 1), -EBADMSG);
        CHECK(!dbus_signature_valid(deep) && dbus_signature_valid("ssa(sv)a(sa(sv))") && dbus_signature_single("a{sv}u") == 5);
        /* bodies */
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "as", as_overrun, sizeof as_overrun), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "b", bad_bool, sizeof bad_bool), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "au", huge_array, sizeof huge_array), -EBADMSG);
        CHECK_RET(parse_with(DBUS_SIGNAL, NULL, "ss", ok_body, sizeof ok_body), -EBADMSG); /* body too short */

        /* the fixed header */
        n = job_removed("u", "done", &msg);
        msg[0] = 'x';
        CHECK(dbus_message_size(msg, n, &size) == -EBADMSG && dbus_message_parse(msg, n, &m) == -EBADMSG);
        msg[0] = 'l';
        msg[3] = 2;
        CHECK_RET(dbus_message_parse(msg, n, &m), -EBADMSG); /* protocol version */
        msg[3] = 1;
        memcpy(msg + 8, "\0\0\0\0", 4);
        CHECK_RET(dbus_message_parse(msg, n, &m), -EBADMSG); /* serial 0 */
        memcpy(msg + 8, "\x09\0\0\0", 4);
        CHECK_RET(dbus_message_parse(msg, n, &m), 0);
        CHECK_RET(dbus_message_parse(msg, n - 1, &m), -EBADMSG);
        msg[4]++; /* the body length disagrees with the size */
        CHECK_RET(dbus_message_parse(msg, n, &m), -EBADMSG);
        memcpy(msg + 12, "\0\0\0\x7f", 4);
        CHECK_RET(dbus_message_size(msg, n, &size), -EMSGSIZE);
}

/* Random damage to a valid message: never a crash or a read out of bounds (ASan run). */
static void test_mutations(void) {
        _cleanup_free_ uint8_t *orig = NULL;
        size_t n = job_removed("urun-c1.scope", "done", &orig);
        unsigned parsed = 0;

        srand(1);
        for (int i = 0; i < 20000; i++) {
                _cleanup_free_ uint8_t *msg = malloc(n);
                size_t len = n, size;
                DbusMessage m;
                memcpy(msg, orig, n);
                for (int j = rand() % 4; j >= 0; j--)
                        msg[(size_t) rand() % n] = (uint8_t) rand();
                if (rand() % 4 == 0)
                        len = (size_t) rand() % n;
                if (dbus_message_size(msg, len, &size) == 0 && size <= len &&
                    dbus_message_parse(msg, size, &m) == 0 && m.signature) {
                        DbusReader r;
                        const char *s = m.signature;
                        dbus_reader_body(msg, &m, &r);
                        while (*s && dbus_skip(&r, &s) >= 0)
                                ;
                        parsed++;
                }
        }
        CHECK(parsed > 0);
        printf("# %u of 20000 damaged messages still parsed\n", parsed);
}

/* ---- a fake manager ---- */

typedef enum {
        FAKE_OK,          /* p2p: ControlGroup, StartTransientUnit (+ JobRemoved), SetUnitProperties */
        FAKE_BUS,         /* the same behind a message bus: Hello, AddMatch, Subscribe first */
        FAKE_EXISTS,      /* StartTransientUnit: UnitExists, always */
        FAKE_FAILED,      /* the start job fails */
        FAKE_NOT_SYSTEMD, /* a bus without systemd on it: ServiceUnknown */
        FAKE_REJECT,      /* authentication refused */
        FAKE_SILENT,      /* accepts, never answers */
        FAKE_GARBAGE,     /* junk after authentication */
} FakeMode;

typedef struct {
        int fd;
        uint8_t buf[65536];
        size_t len;
        uint32_t serial;
} Peer;

static int peer_fill(Peer *p) {
        ssize_t n = read(p->fd, p->buf + p->len, sizeof p->buf - p->len);
        if (n <= 0)
                return -1;
        p->len += (size_t) n;
        return 0;
}

static int peer_line(Peer *p, char *line, size_t size) {
        for (;;) {
                uint8_t *e = memmem(p->buf, p->len, "\r\n", 2);
                if (e) {
                        size_t n = (size_t) (e - p->buf);
                        snprintf(line, size, "%.*s", (int) n, (char *) p->buf);
                        memmove(p->buf, e + 2, p->len - n - 2);
                        p->len -= n + 2;
                        return 0;
                }
                if (peer_fill(p) < 0)
                        return -1;
        }
}

static int peer_msg(Peer *p, uint8_t *msg, DbusMessage *m) {
        size_t size;
        for (;;) {
                if (dbus_message_size(p->buf, p->len, &size) == 0 && p->len >= size) {
                        memcpy(msg, p->buf, size);
                        memmove(p->buf, p->buf + size, p->len - size);
                        p->len -= size;
                        return dbus_message_parse(msg, size, m);
                }
                if (peer_fill(p) < 0)
                        return -1;
        }
}

static void peer_send(Peer *p, DbusMessage *h, DbusWriter *body) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t n;

        h->serial = ++p->serial;
        n = build(h, body, &out);
        (void) write_all(p->fd, out, n);
        dbus_w_free(body);
}

static void reply(Peer *p, const DbusMessage *call, const char *sig, const char *s) {
        DbusMessage h = { .type = DBUS_METHOD_RETURN, .reply_serial = call->serial, .signature = sig };
        DbusWriter w = {};

        if (sig && streq(sig, "v")) {
                dbus_w_string(&w, 'g', "s");
                dbus_w_string(&w, 's', s);
        } else if (sig)
                dbus_w_string(&w, sig[0], s);
        peer_send(p, &h, &w);
}

static void reply_error(Peer *p, const DbusMessage *call, const char *name, const char *text) {
        DbusMessage h = { .type = DBUS_ERROR, .reply_serial = call->serial, .error_name = name, .signature = "s" };
        DbusWriter w = {};

        dbus_w_string(&w, 's', text);
        peer_send(p, &h, &w);
}

static void send_job_removed(Peer *p, const char *unit, const char *result) {
        _cleanup_free_ uint8_t *msg = NULL;
        size_t n = job_removed(unit, result, &msg);
        (void) write_all(p->fd, msg, n);
}

/* The checks of the server side: a wrong call from the client is exit status 2. */
static int fake_start(Peer *p, FakeMode mode, const uint8_t *msg, const DbusMessage *m, bool subscribed) {
        const char *unit, *s = "ssa(sv)a(sa(sv))", *mode_s;
        DbusReader r;
        Props props = {};

        dbus_reader_body(msg, m, &r);
        if (!streq(m->signature, s) || dbus_read_string(&r, 's', &unit) < 0 || dbus_read_string(&r, 's', &mode_s) < 0 ||
            read_props(&r, &props) < 0 || props.pid == 0 || props.delegate != 1 || !streq(mode_s, "fail"))
                return 2;
        if (mode == FAKE_BUS && !subscribed)
                return 2;
        if (mode == FAKE_EXISTS) {
                reply_error(p, m, "org.freedesktop.systemd1.UnitExists", "Unit urun-c1.scope already exists.");
                return 0;
        }
        /* a signal of another unit first: it must be ignored */
        send_job_removed(p, "other.scope", "failed");
        reply(p, m, "o", "/org/freedesktop/systemd1/job/17");
        send_job_removed(p, unit, mode == FAKE_FAILED ? "failed" : "done");
        return 0;
}

static int fake_call(Peer *p, FakeMode mode, const uint8_t *msg, const DbusMessage *m, bool *subscribed) {
        const char *member = m->member;

        if (m->type != DBUS_METHOD_CALL)
                return 2;
        if (streq(member, "Hello") && (mode == FAKE_BUS || mode == FAKE_NOT_SYSTEMD))
                reply(p, m, "s", ":1.42");
        else if (streq(member, "AddMatch") && mode == FAKE_BUS) {
                const char *rule;
                DbusReader r;
                dbus_reader_body(msg, m, &r);
                if (dbus_read_string(&r, 's', &rule) < 0 || !strstr(rule, "member='JobRemoved'"))
                        return 2;
                reply(p, m, NULL, NULL);
        } else if (streq(member, "Subscribe")) {
                *subscribed = true;
                reply(p, m, NULL, NULL);
        } else if (streq(member, "Get") && mode == FAKE_NOT_SYSTEMD)
                reply_error(p, m, "org.freedesktop.DBus.Error.ServiceUnknown", "The name is not activatable");
        else if (streq(member, "Get") && (m->flags & 2) && streq(m->destination, "org.freedesktop.systemd1"))
                reply(p, m, "v", "/sd");
        else if (streq(member, "StartTransientUnit"))
                return fake_start(p, mode, msg, m, *subscribed);
        else if (streq(member, "SetUnitProperties") && streq(m->signature, "sba(sv)"))
                reply(p, m, NULL, NULL);
        else
                return 2;
        return 0;
}

static _noreturn_ void fake_manager(int lfd, FakeMode mode) {
        static uint8_t msg[DBUS_MESSAGE_MAX];
        Peer *p = calloc(1, sizeof(Peer));
        bool subscribed = false;
        char line[512];
        DbusMessage m;

        p->fd = accept(lfd, NULL, NULL);
        if (p->fd < 0 || read(p->fd, line, 1) != 1 || line[0] != 0)
                _exit(3);
        if (mode == FAKE_SILENT) {
                while (peer_fill(p) >= 0)
                        p->len = 0;
                _exit(0);
        }
        if (peer_line(p, line, sizeof line) < 0 || !streq(line, "AUTH EXTERNAL"))
                _exit(4);
        if (mode == FAKE_REJECT) {
                (void) write_all(p->fd, "REJECTED EXTERNAL\r\n", 19);
                _exit(0);
        }
        (void) write_all(p->fd, "DATA\r\n", 6);
        if (peer_line(p, line, sizeof line) < 0 || !streq(line, "DATA"))
                _exit(5);
        /* BEGIN came with DATA (before OK): what systemd needs, see authenticate() */
        if (!memmem(p->buf, p->len, "BEGIN\r\n", 7))
                _exit(6);
        (void) write_all(p->fd, "OK 0123456789abcdef0123456789abcdef\r\n", 37);
        if (peer_line(p, line, sizeof line) < 0 || !streq(line, "BEGIN"))
                _exit(7);
        if (mode == FAKE_GARBAGE) {
                (void) write_all(p->fd, "GARBAGE GARBAGE GARBAGE\n", 24);
                /* stay until the client hangs up: closing first could make its next write fail
                 * (EPIPE) before it has read the garbage */
                while (peer_fill(p) == 0)
                        p->len = 0;
                _exit(0);
        }
        for (;;) {
                int k = peer_msg(p, msg, &m);
                if (k == -1)
                        _exit(0); /* the client hung up */
                if (k < 0 || fake_call(p, mode, msg, &m, &subscribed) != 0)
                        _exit(2);
        }
}

/* Start a fake manager on a fresh socket; *ret_address: how to reach it. */
static pid_t fake_start_server(FakeMode mode, char **ret_address) {
        static unsigned n;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        pid_t pid;

        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/bus%u", tmp, n++);
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(lfd, 4) < 0)
                return -1;
        (void) asprintf(ret_address, "%sunix:path=%s", mode == FAKE_BUS || mode == FAKE_NOT_SYSTEMD ? "" : "direct:",
                        sa.sun_path);
        pid = fork();
        if (pid == 0)
                fake_manager(lfd, mode);
        close(lfd);
        return pid;
}

static int fake_exit(pid_t pid) {
        int status = -1;
        if (waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

/* open + start a scope against a fake manager in mode; the start's result and why */
static int fake_session(FakeMode mode, int *ret_open, char **ret_why, uint64_t *ret_ms) {
        _cleanup_free_ char *address = NULL, *cg = NULL, *why = NULL;
        SystemdScope s = { .unit = "urun-c1.scope", .slice = "user.slice", .description = "urun container c1",
                           .pid = getpid() };
        SystemdBus *b = NULL;
        uint64_t t0 = ms_now();
        pid_t pid = fake_start_server(mode, &address);
        int r;

        *ret_open = systemd_bus_open(false, address, &b, &cg, &why);
        r = *ret_open;
        if (r >= 0 && !streq(cg, "/sd"))
                r = -EBADMSG;
        if (r >= 0) {
                free(why);
                why = NULL;
                r = systemd_start_scope(b, &s, &why);
        }
        if (r >= 0 && (mode == FAKE_OK || mode == FAKE_BUS)) {
                free(why);
                why = NULL;
                r = systemd_set_limits(b, s.unit, 10, 1 << 20, &why);
        }
        systemd_bus_free(b);
        *ret_why = TAKE_PTR(why);
        *ret_ms = ms_now() - t0;
        if (fake_exit(pid) != 0)
                printf("# the fake manager (mode %d) saw a wrong call\n", (int) mode);
        return r;
}

static void test_fake_manager(void) {
        _cleanup_free_ char *why = NULL, *address = NULL;
        uint64_t ms;
        int open_r;
        pid_t pid;

        CHECK_RET(fake_session(FAKE_OK, &open_r, &why, &ms), 0);
        free(why);
        CHECK_RET(fake_session(FAKE_BUS, &open_r, &why, &ms), 0);
        free(why);
        CHECK_RET(fake_session(FAKE_FAILED, &open_r, &why, &ms), -EIO);
        CHECK_STR(why, "its start job ended with result 'failed'");
        free(why);
        /* a unit of that name on its way out is asked for again, for a second at most */
        CHECK_RET(fake_session(FAKE_EXISTS, &open_r, &why, &ms), -EEXIST);
        CHECK_STR(why, "org.freedesktop.systemd1.UnitExists: Unit urun-c1.scope already exists.");
        CHECK(ms >= 900 && ms < 3000);
        free(why);
        CHECK_RET(fake_session(FAKE_NOT_SYSTEMD, &open_r, &why, &ms), -EHOSTUNREACH);
        CHECK(why && strstr(why, ": org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable"));
        free(why);
        CHECK_RET(fake_session(FAKE_REJECT, &open_r, &why, &ms), -EHOSTUNREACH);
        CHECK(why && strstr(why, "Permission denied"));
        free(why);
        CHECK_RET(fake_session(FAKE_GARBAGE, &open_r, &why, &ms), -EHOSTUNREACH);
        CHECK(why && strstr(why, "Bad message"));
        free(why);
        /* a peer that never answers costs a bounded time */
        CHECK_RET(fake_session(FAKE_SILENT, &open_r, &why, &ms), -EHOSTUNREACH);
        CHECK(why && strstr(why, "timed out") && ms < SYSTEMD_CONNECT_TIMEOUT_MS + 1000);
        printf("# a silent peer took %llu ms\n", (unsigned long long) ms);
        free(why);
        why = NULL;

        /* nothing there */
        CHECK_RET(fake_session(FAKE_OK, &open_r, &why, &ms), 0); /* (socket numbering) */
        free(why);
        why = NULL;
        (void) asprintf(&address, "unix:path=%s/nothing", tmp);
        {
                SystemdBus *b = NULL;
                char *cg = NULL;
                CHECK_RET(systemd_bus_open(true, address, &b, &cg, &why), -EHOSTUNREACH);
                CHECK(why && strstr(why, "/nothing: No such file or directory"));
        }
        free(why);
        why = NULL;
        /* addresses: escapes, keys we do not know, what we cannot use */
        free(address);
        pid = fake_start_server(FAKE_BUS, &address);
        {
                SystemdBus *b = NULL;
                char *cg = NULL, *esc = NULL;
                const char *path = strstr(address, "path=") + 5;
                (void) asprintf(&esc, "unix:guid=0123,path=%.*s%%2f%s", (int) (strrchr(path, '/') - path), path,
                                strrchr(path, '/') + 1);
                CHECK_RET(systemd_bus_open(true, esc, &b, &cg, &why), 0);
                CHECK_STR(cg, "/sd");
                systemd_bus_free(b);
                free(cg);
                free(esc);
                CHECK(fake_exit(pid) == 0);
        }
        for (const char *bad = "tcp:host=localhost,port=1\0unix:path=\0unix:path=%zz\0"; *bad; bad += strlen(bad) + 1) {
                SystemdBus *b = NULL;
                char *cg = NULL;
                free(why);
                why = NULL;
                CHECK_RET(systemd_bus_open(true, bad, &b, &cg, &why), -EHOSTUNREACH);
        }
}

/* ---- the plan with a manager ---- */

/* A fake cgroup2 "mount" (a directory of its own device is enough for the plan's checks) at
 * tmp/mnt with the caller in /a/init.scope, and the manager's root cgroup /sd offering
 * `controllers`. Returns the mount point. */
static char *fake_tree(const char *controllers) {
        _cleanup_free_ char *mi = NULL, *proc = strjoin_path(tmp, "proc"), *f_cg = strjoin_path(proc, "cgroup"),
                            *f_mi = strjoin_path(proc, "mountinfo");
        char *mnt = strjoin_path(tmp, "mnt");
        const char *dirs[] = { ".", "a", "a/init.scope", "sd" };
        struct stat st;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *d = strjoin_path(mnt, dirs[i]);
                (void) mkdir_p(d, 0755);
                for (const char *f = "cgroup.controllers\0cgroup.procs\0cgroup.subtree_control\0"; *f; f += strlen(f) + 1) {
                        _cleanup_free_ char *file = strjoin_path(d, f);
                        const char *text = streq(f, "cgroup.controllers") ? controllers : "";
                        (void) write_file_at(AT_FDCWD, file, text, strlen(text), O_CREAT | O_TRUNC, 0644);
                }
        }
        (void) mkdir_p(proc, 0755);
        (void) stat(mnt, &st);
        (void) asprintf(&mi, "30 1 %u:%u / %s rw - cgroup2 cgroup2 rw\n", major(st.st_dev), minor(st.st_dev), mnt);
        (void) write_file_at(AT_FDCWD, f_mi, mi, strlen(mi), O_CREAT | O_TRUNC, 0644);
        (void) write_file_at(AT_FDCWD, f_cg, "0::/a/init.scope\n", 17, O_CREAT | O_TRUNC, 0644);
        return mnt;
}

static int plan_with(const char *address, const char *path, const ResourcesSpec *r, CgroupPlan *p) {
        _cleanup_free_ char *proc = strjoin_path(tmp, "proc");
        CgroupPlanOptions o = { .id = "c1",
                                .cgroups_path = path,
                                .resources = r,
                                .systemd = true,
                                .proc_self = proc,
                                .min_fd = 100,
                                .systemd_address = address };
        return cgroup_plan(&o, p);
}

static void test_plan(void) {
        _cleanup_free_ char *mnt = fake_tree("memory pids"), *address = NULL, *nothing = NULL, *want = NULL;
        ResourcesSpec pids = { .pids_limit = { true, 5 } }, cpu = { .cpu = { .quota = { true, 1000 } } };
        CgroupPlan p;
        pid_t pid;

        /* a manager: the scope is planned where it will be, nothing is made yet */
        pid = fake_start_server(FAKE_OK, &address);
        CHECK_RET(plan_with(address, "user.slice:urun:c1", &pids, &p), 0);
        CHECK(p.systemd && !p.none && !p.top);
        (void) asprintf(&want, "%s/sd/user.slice/urun-c1.scope", mnt);
        CHECK_STR(p.path, want);
        CHECK_STR(p.unit, "urun-c1.scope");
        CHECK_STR(p.slice, "user.slice");
        CHECK_STR(p.description, "urun container c1");
        CHECK(access(want, F_OK) < 0);
        cgroup_plan_done(&p);
        CHECK(p.systemd == NULL);
        CHECK_RET(fake_exit(pid), 0);
        free(address);

        /* no cgroupsPath: urun-ID.scope in the instance's default slice */
        pid = fake_start_server(FAKE_OK, &address);
        CHECK_RET(plan_with(address, NULL, NULL, &p), 0);
        CHECK(p.systemd && streq(p.unit, "urun-c1.scope") && streq(p.slice, "system.slice"));
        cgroup_plan_done(&p);
        CHECK_RET(fake_exit(pid), 0);
        free(address);

        /* a limit whose controller the manager does not have */
        pid = fake_start_server(FAKE_OK, &address);
        CHECK_RET(plan_with(address, "user.slice:urun:c1", &cpu, &p), -EOPNOTSUPP);
        CHECK(logged("linux.resources.cpu.quota: the cpu controller is not available to the systemd manager of"));
        CHECK_RET(fake_exit(pid), 0);

        /* nobody there: the cgroupfs path, one warning with the reason */
        (void) asprintf(&nothing, "unix:path=%s/nothing", tmp);
        CHECK_RET(plan_with(nothing, "user.slice:urun:c1", &pids, &p), 0);
        CHECK(!p.systemd && p.path && strstr(p.path, "/mnt/user.slice/urun-c1.scope"));
        CHECK(logged("linux.cgroupsPath 'user.slice:urun:c1': systemd not reachable (unix:path="));
        cgroup_plan_done(&p);
        CHECK_RET(plan_with(nothing, NULL, NULL, &p), 0);
        CHECK(!p.systemd && p.path && strstr(p.path, "/mnt/a/urun-c1"));
        CHECK(logged("--systemd-cgroup: systemd not reachable (unix:path="));
        cgroup_plan_done(&p);
        /* a slice is not asked of systemd */
        CHECK_RET(plan_with(nothing, "user.slice:urun:x.slice", NULL, &p), 0);
        CHECK(!p.systemd && logged("a slice is not a unit urun asks systemd for: using the cgroupfs path"));
        cgroup_plan_done(&p);
        CHECK_RET(plan_with(nothing, "nocolons", NULL, &p), -EINVAL);
        CHECK(logged("expected \"slice:prefix:name\" with --systemd-cgroup"));
}

int main(void) {
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGPIPE, SIG_IGN);
        snprintf(tmp, sizeof tmp, "/tmp/urun-test-systemd.XXXXXX");
        if (!mkdtemp(tmp)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        snprintf(log_path, sizeof log_path, "%s/log", tmp);
        (void) log_open(log_path, false, false);

        test_writer();
        test_bodies();
        test_roundtrip();
        test_big_endian();
        test_hostile();
        test_mutations();
        test_fake_manager();
        test_plan();
        (void) rm_rf_at(AT_FDCWD, tmp);
        return tap_done();
}
