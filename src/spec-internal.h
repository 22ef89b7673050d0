/* Private to spec.c and spec-linux.c: the parse context (current field path, first error) and the
 * typed field readers. Parsers write straight into the Spec under construction; on failure the
 * caller frees the whole Spec, so partially filled arrays are always zeroed and freeable. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "spec.h"

typedef struct {
        char path[256]; /* "linux.uidMappings[1].size" */
        size_t len;
        char *error;    /* first error, "path: message" */
} ParseCtx;

/* dest is the field to fill (base + offset of the table entry). */
typedef int (*field_parse_fn)(ParseCtx *c, json_object *v, void *dest);

typedef struct {
        const char *name;
        field_parse_fn parse;
        size_t offset;
        bool required;
} FieldParser;

size_t path_push_field(ParseCtx *c, const char *name);
size_t path_push_index(ParseCtx *c, size_t i);
void path_pop(ParseCtx *c, size_t len);
/* Records "path: message" (the first one only) and returns -EINVAL. */
int parse_error(ParseCtx *c, const char *fmt, ...) _printf_(2, 3);

/* v must be an object; looks up every table entry (JSON null counts as absent). */
int parse_fields(ParseCtx *c, json_object *v, const FieldParser *table, size_t n, void *base);
/* v must be an array; allocates a zeroed array of n elements into *(T **) dest_array, stores n, then
 * parses each element with fn. */
int parse_array_of(ParseCtx *c, json_object *v, size_t elem_size, field_parse_fn fn, void *dest_array,
                   size_t *dest_n);

int parse_string(ParseCtx *c, json_object *v, void *dest);        /* char ** */
int parse_string_opt(ParseCtx *c, json_object *v, void *dest);    /* char **, "" = NULL */
int parse_abs_path(ParseCtx *c, json_object *v, void *dest);      /* char ** */
int parse_bool(ParseCtx *c, json_object *v, void *dest);          /* bool * */
int parse_u32(ParseCtx *c, json_object *v, void *dest);           /* uint32_t * */
int parse_u64(ParseCtx *c, json_object *v, void *dest);           /* uint64_t * */
int parse_i64(ParseCtx *c, json_object *v, void *dest);           /* int64_t * */
int parse_int_range(ParseCtx *c, json_object *v, int min, int max, int *dest);
int parse_strv(ParseCtx *c, json_object *v, void *dest);          /* char *** */
int parse_idmaps(ParseCtx *c, json_object *v, IdMap **dest, size_t *dest_n);
int parse_string_map(ParseCtx *c, json_object *v, KeyValue **dest, size_t *dest_n);

/* A whole JSON document: strict JSON with the size and depth limits, then fn on its top value with
 * the field path starting at root (may be NULL). what names the document in JSON errors
 * ("config.json: invalid JSON at offset 3: ..."). On failure *ret_error is the one-line message. */
int parse_document(const char *json, size_t len, const char *what, const char *root, field_parse_fn fn, void *dest,
                   char **ret_error);

int spec_parse_linux(ParseCtx *c, json_object *v, void *dest);    /* Spec * */
int spec_parse_seccomp(ParseCtx *c, json_object *v, void *dest);  /* Spec *, spec-seccomp.c */

/* spec-process.c: process.ioPriority, process.scheduler, process.execCPUAffinity (dest: ProcessSpec *),
 * linux.personality and linux.timeOffsets (dest: Spec *). */
int spec_parse_io_priority(ParseCtx *c, json_object *v, void *dest);
int spec_parse_scheduler(ParseCtx *c, json_object *v, void *dest);
int spec_parse_exec_cpu_affinity(ParseCtx *c, json_object *v, void *dest);
int spec_parse_personality(ParseCtx *c, json_object *v, void *dest);
int spec_parse_time_offsets(ParseCtx *c, json_object *v, void *dest);

/* spec-resources.c: linux.resources (dest: Spec *), into Spec.resources. */
int spec_parse_resources(ParseCtx *c, json_object *v, void *dest);
