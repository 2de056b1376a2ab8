/* engine/platform/geo_table.c — the override country table
 * (engine/platform/geo_table.h): the line parser, and the lookup: entries
 * grouped by prefix length, longest first, each group sorted by address,
 * so a lookup is one binary search per distinct length present (an
 * operator's file has a handful) with the address masked to that length. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/geo_table.h"
#include "engine/platform/registry.h"

#define LINE_MAX_LEN 256

typedef struct geo_ent {
    gn_reg_prefix p;
    char          cc[2];
} geo_ent;

typedef struct geo_group {
    uint8_t  bits;
    uint32_t start, n;
} geo_group;

struct gn_geo_table {
    geo_ent   *e;
    size_t     n, cap;
    geo_group  g[129];          /* one per distinct length, longest first */
    uint32_t   ng;
};

static int ent_cmp(const void *a, const void *b)
{
    const geo_ent *x = a, *y = b;
    if (x->p.bits != y->p.bits)
        return x->p.bits > y->p.bits ? -1 : 1;
    return memcmp(x->p.addr, y->p.addr, 16);
}

static const char *trim(const char *s, const char *e, const char **end)
{
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        e--;
    *end = e;
    return s;
}

/* One non-empty, non-comment line into *out; false with a reason. */
static bool parse_line(const char *s, const char *e, geo_ent *out, char *why, size_t whylen)
{
    const char *comma = memchr(s, ',', (size_t)(e - s));
    if (!comma) {
        snprintf(why, whylen, "expected 'cidr,CC'");
        return false;
    }
    const char *ae, *ce;
    const char *a = trim(s, comma, &ae), *c = trim(comma + 1, e, &ce);
    if (memchr(c, ',', (size_t)(ce - c))) {
        snprintf(why, whylen, "expected two fields, 'cidr,CC'");
        return false;
    }
    if (!gn_reg_country_parse(c, (size_t)(ce - c), out->cc)) {
        snprintf(why, whylen, "'%.*s' is not a two-letter country code", (int)(ce - c > 16 ? 16 : ce - c), c);
        return false;
    }
    return gn_reg_prefix_parse(a, (size_t)(ae - a), &out->p, why, whylen);
}

gn_geo_table *gn_geo_table_parse(const char *text, size_t len, char *err, size_t errlen)
{
    gn_geo_table *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    size_t line = 0;
    for (size_t i = 0; i < len;) {
        const char *s = text + i;
        const char *nl = memchr(s, '\n', len - i);
        const char *e = nl ? nl : text + len;
        i = (size_t)(e - text) + (nl ? 1 : 0);
        line++;
        const char *te;
        const char *b = trim(s, e, &te);
        if (b == te || *b == '#')
            continue;
        char why[160] = "";
        if (te - b > LINE_MAX_LEN) {
            snprintf(err, errlen, "line %zu: longer than %d characters", line, LINE_MAX_LEN);
            goto fail;
        }
        if (memchr(b, 0, (size_t)(te - b))) {
            snprintf(err, errlen, "line %zu: a NUL byte", line);
            goto fail;
        }
        if (t->n == t->cap) {
            size_t ncap = t->cap ? t->cap * 2 : 64;
            geo_ent *n = realloc(t->e, sizeof *n * ncap);
            if (!n) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            t->e = n;
            t->cap = ncap;
        }
        if (!parse_line(b, te, &t->e[t->n], why, sizeof why)) {
            snprintf(err, errlen, "line %zu: %s", line, why);
            goto fail;
        }
        t->n++;
    }
    qsort(t->e, t->n, sizeof *t->e, ent_cmp);
    for (size_t i = 0; i < t->n; i++) {
        if (i && ent_cmp(&t->e[i - 1], &t->e[i]) == 0) {
            snprintf(err, errlen, "a prefix is listed twice (as %.2s and as %.2s)", t->e[i - 1].cc,
                     t->e[i].cc);
            goto fail;
        }
        if (!t->ng || t->g[t->ng - 1].bits != t->e[i].p.bits)
            t->g[t->ng++] = (geo_group){ .bits = t->e[i].p.bits, .start = (uint32_t)i };
        t->g[t->ng - 1].n++;
    }
    return t;
fail:
    gn_geo_table_free(t);
    return NULL;
}

void gn_geo_table_free(gn_geo_table *t)
{
    if (t) {
        free(t->e);
        free(t);
    }
}

size_t gn_geo_table_size(const gn_geo_table *t)
{
    return t ? t->n : 0;
}

bool gn_geo_table_lookup(const gn_geo_table *t, const uint8_t addr[16], char out[2])
{
    if (!t)
        return false;
    for (uint32_t g = 0; g < t->ng; g++) {
        const geo_group *gr = &t->g[g];
        uint8_t key[16];
        unsigned full = gr->bits / 8, rest = gr->bits % 8;
        memcpy(key, addr, full);
        if (full < 16) {
            key[full] = rest ? (uint8_t)(addr[full] & (0xffu << (8 - rest))) : 0;
            memset(key + full + 1, 0, 15 - full);
        }
        uint32_t lo = gr->start, hi = gr->start + gr->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int c = memcmp(t->e[mid].p.addr, key, 16);
            if (c == 0) {
                memcpy(out, t->e[mid].cc, 2);
                return true;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return false;
}
