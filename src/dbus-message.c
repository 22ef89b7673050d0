/* The D-Bus wire format, as much of it as urun's systemd client needs (dbus-message.h): writing
 * little-endian values, and reading messages of either byte order with a bounds check on every
 * read, zero padding, complete signatures and limited nesting, since the peer is another process.
 * Values are read where the caller expects them; dbus_skip() passes over anything else. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbus-message.h"
#include "macro.h"

#define SIG_DEPTH_MAX 32 /* the spec allows 32 levels each of arrays and structs */
#define ARRAY_MAX (1u << 26)

/* ---- writer ---- */

void dbus_w_free(DbusWriter *w) {
        free(w->data);
        *w = (DbusWriter){};
}

static uint8_t *w_grow(DbusWriter *w, size_t n) {
        if (w->oom)
                return NULL;
        if (w->len + n > w->cap) {
                size_t cap = (w->len + n) * 2;
                uint8_t *d = realloc(w->data, cap);
                if (!d) {
                        w->oom = true;
                        return NULL;
                }
                w->data = d;
                w->cap = cap;
        }
        w->len += n;
        return w->data + w->len - n;
}

static void w_put(DbusWriter *w, const void *p, size_t n) {
        uint8_t *d = w_grow(w, n);
        if (d && n > 0)
                memcpy(d, p, n);
}

static void w_align(DbusWriter *w, size_t a) {
        size_t pad = (a - w->len % a) % a;
        uint8_t *d = w_grow(w, pad);
        if (d && pad > 0)
                memset(d, 0, pad);
}

void dbus_w_u8(DbusWriter *w, uint8_t v) {
        w_put(w, &v, 1);
}

void dbus_w_u32(DbusWriter *w, uint32_t v) {
        uint8_t b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };
        w_align(w, 4);
        w_put(w, b, 4);
}

void dbus_w_bool(DbusWriter *w, bool v) {
        dbus_w_u32(w, v ? 1 : 0);
}

void dbus_w_u64(DbusWriter *w, uint64_t v) {
        uint8_t b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (uint8_t) (v >> (8 * i));
        w_align(w, 8);
        w_put(w, b, 8);
}

void dbus_w_string(DbusWriter *w, char type, const char *s) {
        size_t n = strlen(s);

        if (type == 'g')
                dbus_w_u8(w, (uint8_t) n);
        else
                dbus_w_u32(w, (uint32_t) n);
        w_put(w, s, n + 1);
}

DbusArray dbus_w_array_open(DbusWriter *w, size_t elem_align) {
        DbusArray a;

        dbus_w_u32(w, 0);
        a.len_at = w->len - 4;
        /* the padding to the first element is there even for an empty array, and not counted */
        w_align(w, elem_align);
        a.start = w->len;
        return a;
}

void dbus_w_array_close(DbusWriter *w, DbusArray a) {
        uint32_t n = (uint32_t) (w->len - a.start);
        uint8_t b[4] = { n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >> 24 };

        if (!w->oom)
                memcpy(w->data + a.len_at, b, 4);
}

void dbus_w_struct_open(DbusWriter *w) {
        w_align(w, 8);
}

/* ---- reader ---- */

static int r_align(DbusReader *r, size_t a) {
        size_t pad = (a - r->pos % a) % a;

        if (pad > r->end - r->pos)
                return -EBADMSG;
        for (size_t i = 0; i < pad; i++) /* padding must be zero */
                if (r->p[r->pos + i] != 0)
                        return -EBADMSG;
        r->pos += pad;
        return 0;
}

static int r_fixed(DbusReader *r, size_t size, uint64_t *ret) {
        uint64_t v = 0;
        int k = r_align(r, size);

        if (k < 0)
                return k;
        if (size > r->end - r->pos)
                return -EBADMSG;
        for (size_t i = 0; i < size; i++)
                v |= (uint64_t) r->p[r->pos + i] << (8 * (r->big_endian ? size - 1 - i : i));
        r->pos += size;
        if (ret)
                *ret = v;
        return 0;
}

int dbus_read_u32(DbusReader *r, uint32_t *ret) {
        uint64_t v;
        int k = r_fixed(r, 4, &v);
        if (k >= 0)
                *ret = (uint32_t) v;
        return k;
}

int dbus_read_u64(DbusReader *r, uint64_t *ret) {
        return r_fixed(r, 8, ret);
}

int dbus_read_struct(DbusReader *r) {
        return r_align(r, 8);
}

int dbus_read_string(DbusReader *r, char type, const char **ret) {
        uint64_t n;
        int k = r_fixed(r, type == 'g' ? 1 : 4, &n);

        if (k < 0)
                return k;
        /* n bytes and a NUL, no NUL inside */
        if (n >= r->end - r->pos || r->p[r->pos + n] != 0 || memchr(r->p + r->pos, 0, n))
                return -EBADMSG;
        if (ret)
                *ret = (const char *) r->p + r->pos;
        r->pos += n + 1;
        return 0;
}

static bool is_basic(char c) {
        return c && strchr("ybnqiuxtdsogh", c);
}

static int sig_single(const char *s, unsigned depth) {
        int n;

        if (depth > SIG_DEPTH_MAX)
                return -EBADMSG;
        if (is_basic(s[0]) || s[0] == 'v')
                return 1;
        if (s[0] == 'a' && s[1] == '{') {
                if (!is_basic(s[2]))
                        return -EBADMSG;
                n = sig_single(s + 3, depth + 1);
                if (n < 0 || s[3 + n] != '}')
                        return -EBADMSG;
                return n + 4;
        }
        if (s[0] == 'a') {
                n = sig_single(s + 1, depth + 1);
                return n < 0 ? n : n + 1;
        }
        if (s[0] == '(' && s[1] != ')') {
                int i = 1;
                while (s[i] != ')') {
                        n = sig_single(s + i, depth + 1);
                        if (n < 0)
                                return n;
                        i += n;
                }
                return i + 1;
        }
        return -EBADMSG;
}

int dbus_signature_single(const char *sig) {
        return sig_single(sig, 0);
}

bool dbus_signature_valid(const char *sig) {
        size_t len = strlen(sig);

        if (len > 255)
                return false;
        for (size_t i = 0; i < len;) {
                int n = sig_single(sig + i, 0);
                if (n < 0)
                        return false;
                i += (size_t) n;
        }
        return true;
}

static size_t type_align(char c) {
        switch (c) {
        case 'y':
        case 'g':
        case 'v':
                return 1;
        case 'n':
        case 'q':
                return 2;
        case 'x':
        case 't':
        case 'd':
        case '(':
        case '{':
                return 8;
        default:
                return 4;
        }
}

static int skip_at(DbusReader *r, const char **sig, unsigned depth);

int dbus_read_array(DbusReader *r, char elem, size_t *ret_end) {
        uint32_t len;
        int k = dbus_read_u32(r, &len);

        if (k >= 0)
                k = r_align(r, type_align(elem));
        if (k < 0)
                return k;
        if (len > ARRAY_MAX || len > r->end - r->pos)
                return -EBADMSG;
        *ret_end = r->pos + len;
        return 0;
}

static int skip_array(DbusReader *r, const char **sig, unsigned depth) {
        const char *elem = *sig;
        /* a dict entry is a complete type only as an array's element: measure it from the 'a' */
        int n = elem[0] == '{' ? sig_single(elem - 1, depth) - 1 : sig_single(elem, depth), k;
        size_t end;

        if (n < 0)
                return n;
        k = dbus_read_array(r, elem[0], &end);
        if (k < 0)
                return k;
        while (r->pos < end) {
                const char *e = elem;
                size_t outer = r->end;
                r->end = end; /* an element may not reach past the array */
                k = skip_at(r, &e, depth + 1);
                r->end = outer;
                if (k < 0)
                        return k;
        }
        *sig = elem + n;
        return 0;
}

static int skip_at(DbusReader *r, const char **sig, unsigned depth) {
        const char *vsig;
        uint64_t v;
        char t = *(*sig)++;
        int k;

        if (depth > 2 * SIG_DEPTH_MAX)
                return -EBADMSG;
        switch (t) {
        case 'y':
        case 'n':
        case 'q':
        case 'i':
        case 'u':
        case 'h':
        case 'x':
        case 't':
        case 'd':
                return r_fixed(r, type_align(t), NULL);
        case 'b':
                k = r_fixed(r, 4, &v);
                return k < 0 ? k : v > 1 ? -EBADMSG : 0;
        case 's':
        case 'o':
        case 'g':
                return dbus_read_string(r, t, NULL);
        case 'v':
                k = dbus_read_string(r, 'g', &vsig);
                if (k < 0)
                        return k;
                if (sig_single(vsig, depth) != (int) strlen(vsig))
                        return -EBADMSG;
                return skip_at(r, &vsig, depth + 1);
        case 'a':
                return skip_array(r, sig, depth);
        case '(':
        case '{':
                k = r_align(r, 8);
                while (k >= 0 && **sig && **sig != ')' && **sig != '}')
                        k = skip_at(r, sig, depth + 1);
                if (k >= 0 && !**sig)
                        return -EBADMSG;
                (*sig)++;
                return k;
        default:
                return -EBADMSG;
        }
}

int dbus_skip(DbusReader *r, const char **sig) {
        if (sig_single(*sig, 0) < 0)
                return -EBADMSG;
        return skip_at(r, sig, 0);
}

void dbus_reader_body(const uint8_t *msg, const DbusMessage *m, DbusReader *ret) {
        *ret = (DbusReader){ .p = msg, .pos = m->body_offset, .end = m->body_offset + m->body_len,
                             .big_endian = m->big_endian };
}

/* ---- messages ---- */

enum {
        FIELD_PATH = 1,
        FIELD_INTERFACE,
        FIELD_MEMBER,
        FIELD_ERROR_NAME,
        FIELD_REPLY_SERIAL,
        FIELD_DESTINATION,
        FIELD_SENDER,
        FIELD_SIGNATURE,
        _FIELD_MAX,
};

static const char field_type[_FIELD_MAX] = {
        [FIELD_PATH] = 'o',        [FIELD_INTERFACE] = 's',   [FIELD_MEMBER] = 's', [FIELD_ERROR_NAME] = 's',
        [FIELD_REPLY_SERIAL] = 'u', [FIELD_DESTINATION] = 's', [FIELD_SENDER] = 's', [FIELD_SIGNATURE] = 'g',
};

static const char **field_string(DbusMessage *m, unsigned code) {
        switch (code) {
        case FIELD_PATH:
                return &m->path;
        case FIELD_INTERFACE:
                return &m->interface;
        case FIELD_MEMBER:
                return &m->member;
        case FIELD_ERROR_NAME:
                return &m->error_name;
        case FIELD_DESTINATION:
                return &m->destination;
        case FIELD_SENDER:
                return &m->sender;
        case FIELD_SIGNATURE:
                return &m->signature;
        default:
                return NULL;
        }
}

static void w_field(DbusWriter *w, unsigned code, const char *s) {
        char sig[2] = { field_type[code], 0 };

        if (!s)
                return;
        dbus_w_struct_open(w);
        dbus_w_u8(w, (uint8_t) code);
        dbus_w_string(w, 'g', sig);
        dbus_w_string(w, sig[0], s);
}

int dbus_message_build(const DbusMessage *m, const void *body, size_t body_len, uint8_t **ret, size_t *ret_len) {
        DbusWriter w = {};
        DbusMessage h = *m;
        DbusArray a;

        if (body_len > 0 && !h.signature)
                return -EINVAL;
        dbus_w_u8(&w, 'l');
        dbus_w_u8(&w, h.type);
        dbus_w_u8(&w, h.flags);
        dbus_w_u8(&w, 1);
        dbus_w_u32(&w, (uint32_t) body_len);
        dbus_w_u32(&w, h.serial);
        a = dbus_w_array_open(&w, 8);
        for (unsigned code = FIELD_PATH; code < _FIELD_MAX; code++) {
                const char **s = field_string(&h, code);
                if (s)
                        w_field(&w, code, *s);
                else if (h.reply_serial) {
                        dbus_w_struct_open(&w);
                        dbus_w_u8(&w, FIELD_REPLY_SERIAL);
                        dbus_w_string(&w, 'g', "u");
                        dbus_w_u32(&w, h.reply_serial);
                }
        }
        dbus_w_array_close(&w, a);
        w_align(&w, 8);
        w_put(&w, body, body_len);
        if (w.oom) {
                dbus_w_free(&w);
                return -ENOMEM;
        }
        *ret = w.data;
        *ret_len = w.len;
        return 0;
}

int dbus_message_size(const uint8_t *p, size_t n, size_t *ret) {
        DbusReader r = { .p = p, .pos = 4, .end = n, .big_endian = n > 0 && p[0] == 'B' };
        uint32_t body = 0, fields = 0;
        uint64_t total;

        if (n < 16)
                return -EAGAIN;
        if ((p[0] != 'l' && p[0] != 'B') || p[3] != 1)
                return -EBADMSG;
        (void) dbus_read_u32(&r, &body);
        r.pos = 12;
        (void) dbus_read_u32(&r, &fields);
        total = 16 + (uint64_t) fields;
        total += (8 - total % 8) % 8;
        total += body;
        if (total > DBUS_MESSAGE_MAX)
                return -EMSGSIZE;
        *ret = (size_t) total;
        return 0;
}

static int parse_field(DbusReader *r, DbusMessage *m) {
        const char *sig;
        uint32_t code32;
        uint64_t code;
        int k;

        k = r_align(r, 8);
        if (k >= 0)
                k = r_fixed(r, 1, &code);
        if (k >= 0)
                k = dbus_read_string(r, 'g', &sig);
        if (k < 0)
                return k;
        if (code == 0)
                return -EBADMSG;
        if (code >= _FIELD_MAX) { /* a field of a later spec: skip it */
                if (sig_single(sig, 0) != (int) strlen(sig))
                        return -EBADMSG;
                return skip_at(r, &sig, 1);
        }
        if (sig[0] != field_type[code] || sig[1])
                return -EBADMSG;
        if (code == FIELD_REPLY_SERIAL) {
                k = dbus_read_u32(r, &code32);
                m->reply_serial = code32;
                return k;
        }
        return dbus_read_string(r, sig[0], field_string(m, (unsigned) code));
}

int dbus_message_parse(const uint8_t *p, size_t n, DbusMessage *ret) {
        DbusMessage m = { .big_endian = n > 0 && p[0] == 'B' };
        DbusReader r = { .p = p, .pos = 4, .end = n, .big_endian = m.big_endian };
        uint32_t body = 0, fields = 0;
        size_t total;
        int k;

        k = dbus_message_size(p, n, &total);
        if (k < 0)
                return k == -EAGAIN ? -EBADMSG : k;
        if (total != n)
                return -EBADMSG;
        m.type = p[1];
        m.flags = p[2];
        (void) dbus_read_u32(&r, &body);
        (void) dbus_read_u32(&r, &m.serial);
        (void) dbus_read_u32(&r, &fields);
        if (m.type < DBUS_METHOD_CALL || m.type > DBUS_SIGNAL || m.serial == 0)
                return -EBADMSG;
        r.end = 16 + (size_t) fields;
        while (r.pos < r.end) {
                k = parse_field(&r, &m);
                if (k < 0)
                        return k;
        }
        r.end = n;
        k = r_align(&r, 8);
        if (k < 0)
                return k;
        m.body_offset = r.pos;
        m.body_len = body;
        if ((body > 0 && !m.signature) || (m.signature && !dbus_signature_valid(m.signature)))
                return -EBADMSG;
        /* what each type must carry */
        if ((m.type == DBUS_METHOD_CALL && (!m.path || !m.member)) ||
            ((m.type == DBUS_METHOD_RETURN || m.type == DBUS_ERROR) && !m.reply_serial) ||
            (m.type == DBUS_ERROR && !m.error_name) ||
            (m.type == DBUS_SIGNAL && (!m.path || !m.interface || !m.member)))
                return -EBADMSG;
        *ret = m;
        return 0;
}
