/* tools/gannetctl/devcsv.h — the device list format of `gannetctl device
 * import`: one device per line, "type,id[,token]" (CSV, RFC 4180 quoting
 * with "" for a quote) or the same fields separated by tabs (TSV: chosen
 * when the first record line contains a tab). '#' lines and blank lines
 * are skipped; a first line "type,id[,token]" is a header and skipped.
 * Untrusted input: every error is a value with the line number, never a
 * crash (tests/fuzz/fuzz_devcsv.c).
 *
 * Threading: pure functions over caller memory. */
#ifndef GN_TOOLS_DEVCSV_H
#define GN_TOOLS_DEVCSV_H

#include <stddef.h>
#include <stdint.h>

#define GN_DEVCSV_FIELD_MAX 64          /* longer fields are errors */

typedef struct gn_devcsv {
    const char *p, *end;
    uint64_t line;                      /* line of the record just returned (1-based) */
    char sep;                           /* 0 until detected, then ',' or '\t' */
    int records;                        /* records returned so far */
} gn_devcsv;

typedef struct gn_devcsv_rec {
    char type[GN_DEVCSV_FIELD_MAX + 1];
    char id[GN_DEVCSV_FIELD_MAX + 1];
    char token[GN_DEVCSV_FIELD_MAX + 1];
    int has_token;
} gn_devcsv_rec;

void gn_devcsv_init(gn_devcsv *c, const char *buf, size_t len);

/* 1: a record in *out; 0: end of input; -1: error, reason in err
 * ("line N: ...") and the parser stops (further calls return -1). */
int gn_devcsv_next(gn_devcsv *c, gn_devcsv_rec *out, char *err, size_t errlen);

#endif
