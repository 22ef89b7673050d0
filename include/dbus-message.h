/* The D-Bus wire format for the systemd cgroup manager's client (cgroup-systemd.c; exported for
 * the unit tests): marshalling into a growing buffer, the size and header of a received message,
 * and bounds-checked reads of its body. Silent; functions return 0 or -errno (-EBADMSG for a
 * message that breaks the spec). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
        DBUS_METHOD_CALL = 1,
        DBUS_METHOD_RETURN = 2,
        DBUS_ERROR = 3,
        DBUS_SIGNAL = 4,
};

#define DBUS_MESSAGE_MAX (1u << 20) /* what we accept from a peer; our replies are small */

/* A message header. Parsed: the strings point into the message buffer, NULL when absent. */
typedef struct {
        uint8_t type, flags;
        uint32_t serial, reply_serial;
        const char *path, *interface, *member, *error_name, *destination, *sender, *signature;
        size_t body_offset, body_len; /* parsed: where the body is in the message */
        bool big_endian;              /* parsed: the peer's byte order */
} DbusMessage;

/* Marshalling into a growing buffer; an allocation failure is remembered (oom) and reported once
 * at the end. Alignment is relative to the start of the buffer: a body written from offset 0
 * lands at an 8-aligned offset of the message, so its padding is the same. */
typedef struct {
        uint8_t *data;
        size_t len, cap;
        bool oom;
} DbusWriter;

typedef struct {
        size_t len_at, start;
} DbusArray;

void dbus_w_free(DbusWriter *w);
void dbus_w_u8(DbusWriter *w, uint8_t v);
void dbus_w_bool(DbusWriter *w, bool v);
void dbus_w_u32(DbusWriter *w, uint32_t v);
void dbus_w_u64(DbusWriter *w, uint64_t v);
void dbus_w_string(DbusWriter *w, char type, const char *s); /* type 's', 'o' or 'g' */
DbusArray dbus_w_array_open(DbusWriter *w, size_t elem_align);
void dbus_w_array_close(DbusWriter *w, DbusArray a);
void dbus_w_struct_open(DbusWriter *w); /* aligns to 8 */

/* The whole message: header m (type, flags, serial, reply_serial and the strings set; signature
 * names the body) followed by body. */
int dbus_message_build(const DbusMessage *m, const void *body, size_t body_len, uint8_t **ret, size_t *ret_len);

/* The size of the message that starts at p (the 16 bytes of its fixed header are needed): 0 with
 * *ret set, -EAGAIN with fewer than 16 bytes, -EBADMSG/-EMSGSIZE when no message can start so. */
int dbus_message_size(const uint8_t *p, size_t n, size_t *ret);
/* Parse one whole message of exactly n bytes: its header fields and the body's bounds. */
int dbus_message_parse(const uint8_t *p, size_t n, DbusMessage *ret);

/* Reading values of a message's body (p: the whole message, positions relative to its start). */
typedef struct {
        const uint8_t *p;
        size_t pos, end;
        bool big_endian;
} DbusReader;

void dbus_reader_body(const uint8_t *msg, const DbusMessage *m, DbusReader *ret);
int dbus_read_u32(DbusReader *r, uint32_t *ret);
int dbus_read_u64(DbusReader *r, uint64_t *ret);
int dbus_read_struct(DbusReader *r); /* the alignment of a struct or dict entry */
/* An array's length and the padding before its first element (elem: its type's first character);
 * *ret_end: where the array ends, checked to be inside the message. */
int dbus_read_array(DbusReader *r, char elem, size_t *ret_end);
int dbus_read_string(DbusReader *r, char type, const char **ret); /* 's', 'o': u32 length; 'g': u8 */
/* Skip one value of the single complete type at *sig, advancing *sig past it. */
int dbus_skip(DbusReader *r, const char **sig);
/* The length of the single complete type at the start of sig, -EBADMSG if there is none. */
int dbus_signature_single(const char *sig);
/* A whole signature: complete types only, at most 255 characters. */
bool dbus_signature_valid(const char *sig);
