/* engine/platform/mon_json.h — the bounded JSON object writer of the
 * monitoring messages (monitor.c): string fields escaped as RFC 8259
 * asks (quote, backslash, control characters as \u00XX; other bytes as
 * given, client ids and user names being UTF-8 already), integers,
 * booleans, a pre-written run of fields, and the ISO 8601 time stamps.
 *
 * Pure functions over a caller's buffer; no allocation; any thread. A
 * field that does not fit marks the object cut (gn_mjson_ok false) and
 * the text stays a valid prefix, never overrunning cap. */
#ifndef GN_PLATFORM_MON_JSON_H
#define GN_PLATFORM_MON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_mjson {
    char  *p;       /* the caller's buffer; NUL-terminated while cap > 0 */
    size_t n, cap;
    bool   cut;     /* something did not fit */
    bool   open;    /* a field was written since '{' (a comma comes next) */
} gn_mjson;

/* Start an object "{" in buf[0..cap). */
void gn_mjson_begin(gn_mjson *j, char *buf, size_t cap);
/* Start a bare run of fields (no braces), to be inserted later with
 * gn_mjson_raw. */
void gn_mjson_begin_fields(gn_mjson *j, char *buf, size_t cap);
/* "key":"s" with s[0..len) escaped. */
void gn_mjson_str(gn_mjson *j, const char *key, const uint8_t *s, size_t len);
/* "key":"s" for a NUL-terminated s. */
void gn_mjson_cstr(gn_mjson *j, const char *key, const char *s);
void gn_mjson_u64(gn_mjson *j, const char *key, uint64_t v);
void gn_mjson_bool(gn_mjson *j, const char *key, bool v);
/* A run of fields written by gn_mjson_begin_fields (may be empty). */
void gn_mjson_raw(gn_mjson *j, const char *fields, size_t len);
/* Close the object "}" and return its length (0 when it was cut). */
size_t gn_mjson_end(gn_mjson *j);
/* Length of a field run (0 when it was cut). */
size_t gn_mjson_fields_len(const gn_mjson *j);

/* "2026-12-02T01:45:20.123Z" for ms since the epoch; out has >= 25 bytes. */
#define GN_MJSON_TIME_LEN 25
void gn_mjson_time(char out[GN_MJSON_TIME_LEN], uint64_t epoch_ms);

#endif
