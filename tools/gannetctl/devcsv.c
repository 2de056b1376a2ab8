/* tools/gannetctl/devcsv.c — parser of the device import format (see
 * devcsv.h). Fields are copied into fixed buffers; the syntax of type, id
 * and token is checked by the store, not here. */
#include "tools/gannetctl/devcsv.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void gn_devcsv_init(gn_devcsv *c, const char *buf, size_t len)
{
    c->p = buf;
    c->end = buf + len;
    c->line = 0;
    c->sep = 0;
    c->records = 0;
}

static int fail(gn_devcsv *c, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "line %llu: %s", (unsigned long long)c->line, why);
    c->p = c->end;
    c->sep = -1;
    return -1;
}

/* One field starting at c->p; stops at sep, '\n' or the end. */
static int field(gn_devcsv *c, char *dst, char *err, size_t errlen)
{
    size_t n = 0;
    if (c->sep == ',' && c->p < c->end && *c->p == '"') {
        c->p++;
        for (;;) {
            if (c->p >= c->end)
                return fail(c, err, errlen, "unterminated quoted field");
            char ch = *c->p++;
            if (ch == '"') {
                if (c->p < c->end && *c->p == '"') {
                    c->p++;
                } else {
                    break;
                }
            } else if (ch == '\n') {
                return fail(c, err, errlen, "line break inside a quoted field");
            }
            if (n >= GN_DEVCSV_FIELD_MAX)
                return fail(c, err, errlen, "field longer than 64 bytes");
            dst[n++] = ch;
        }
        if (c->p < c->end && *c->p != c->sep && *c->p != '\n' && *c->p != '\r')
            return fail(c, err, errlen, "text after a closing quote");
    } else {
        while (c->p < c->end && *c->p != c->sep && *c->p != '\n' && *c->p != '\r') {
            char ch = *c->p++;
            if (ch == '"' && c->sep == ',')
                return fail(c, err, errlen, "quote inside an unquoted field");
            if (ch == '\0')
                return fail(c, err, errlen, "NUL byte");
            if (n >= GN_DEVCSV_FIELD_MAX)
                return fail(c, err, errlen, "field longer than 64 bytes");
            dst[n++] = ch;
        }
    }
    dst[n] = '\0';
    return 0;
}

/* Skip to the start of the next line. */
static void next_line(gn_devcsv *c)
{
    while (c->p < c->end && *c->p != '\n')
        c->p++;
    if (c->p < c->end)
        c->p++;
}

int gn_devcsv_next(gn_devcsv *c, gn_devcsv_rec *out, char *err, size_t errlen)
{
    if (c->sep == -1)
        return -1;
    for (;;) {
        if (c->p >= c->end)
            return 0;
        c->line++;
        const char *eol = memchr(c->p, '\n', (size_t)(c->end - c->p));
        const char *stop = eol ? eol : c->end;
        /* blank (or only '\r') and comment lines */
        const char *q = c->p;
        while (q < stop && (*q == ' ' || *q == '\r'))
            q++;
        if (q == stop || *q == '#') {
            next_line(c);
            continue;
        }
        if (!c->sep)
            c->sep = memchr(c->p, '\t', (size_t)(stop - c->p)) ? '\t' : ',';
        char *dst[3] = {out->type, out->id, out->token};
        int nf = 0;
        for (;;) {
            if (nf == 3)
                return fail(c, err, errlen, "more than 3 fields (type, id, token)");
            if (field(c, dst[nf], err, errlen) < 0)
                return -1;
            nf++;
            if (c->p < c->end && *c->p == c->sep) {
                c->p++;
                continue;
            }
            break;
        }
        if (c->p < c->end && *c->p == '\r')
            c->p++;
        if (c->p < c->end && *c->p != '\n')
            return fail(c, err, errlen, "stray carriage return");
        next_line(c);
        if (nf < 2)
            return fail(c, err, errlen, "need at least type and id");
        out->has_token = nf == 3 && out->token[0] != '\0';
        if (nf < 3)
            out->token[0] = '\0';
        if (!out->type[0] || !out->id[0])
            return fail(c, err, errlen, "empty type or id");
        bool header = c->records == 0 && !strcmp(out->type, "type") && !strcmp(out->id, "id");
        if (header)
            continue;
        c->records++;
        return 1;
    }
}
