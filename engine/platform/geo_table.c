/* engine/platform/geo_table.c — the override country table
 * (engine/platform/geo_table.h): the line parser, then the prefixes
 * flattened into disjoint address ranges (CIDR prefixes either nest or
 * are disjoint: a sweep over them sorted by start, outer first, with a
 * stack of the open ones gives each address its innermost prefix), so a
 * lookup is one binary search over the range starts whatever the file's
 * size or mix of prefix lengths. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/geo_table.h"
#include "engine/platform/registry.h"

#define LINE_MAX_LEN 256

typedef unsigned __int128 u128;

typedef struct geo_ent {
    gn_reg_prefix p;
    char          cc[2];
} geo_ent;

struct gn_geo_table {
    size_t nprefixes;
    u128  *start;               /* range i: start[i] .. end[i], country cc[i]; sorted, disjoint */
    u128  *end;
    char (*cc)[2];
    size_t n, cap;
};

static u128 to_u128(const uint8_t a[16])
{
    u128 v = 0;
    for (int i = 0; i < 16; i++)
        v = v << 8 | a[i];
    return v;
}

static u128 prefix_end(u128 start, unsigned bits)
{
    if (bits >= 128)
        return start;
    return bits == 0 ? ~(u128)0 : start | (~(u128)0 >> bits);     /* (a shift by 128 is undefined) */
}

/* Sorted by start, then the shorter (outer) prefix first. */
static int ent_cmp(const void *a, const void *b)
{
    const geo_ent *x = a, *y = b;
    int c = memcmp(x->p.addr, y->p.addr, 16);
    if (c)
        return c;
    return (int)x->p.bits - (int)y->p.bits;
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

/* Append range [lo, hi] of country cc (merged with the previous one when
 * adjacent and of the same country). */
static int range_add(gn_geo_table *t, u128 lo, u128 hi, const char cc[2])
{
    if (t->n && t->end[t->n - 1] + 1 == lo && !memcmp(t->cc[t->n - 1], cc, 2)) {
        t->end[t->n - 1] = hi;
        return 0;
    }
    if (t->n == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        u128 *s = realloc(t->start, sizeof *s * ncap);
        if (!s)
            return -1;
        t->start = s;
        u128 *e = realloc(t->end, sizeof *e * ncap);
        if (!e)
            return -1;
        t->end = e;
        char (*c)[2] = realloc(t->cc, sizeof *c * ncap);
        if (!c)
            return -1;
        t->cc = c;
        t->cap = ncap;
    }
    t->start[t->n] = lo;
    t->end[t->n] = hi;
    memcpy(t->cc[t->n], cc, 2);
    t->n++;
    return 0;
}

/* The sweep: ents sorted by ent_cmp, no duplicates. */
static int flatten(gn_geo_table *t, const geo_ent *ents, size_t n)
{
    typedef struct open { u128 end; const char *cc; } open;
    open stack[130];            /* nested prefixes are strictly longer: at most 129 deep */
    size_t depth = 0;
    u128 cursor = 0;            /* first address not yet emitted */
    bool done = false;          /* emitted up to the last address */
    for (size_t i = 0; i <= n; i++) {
        u128 s = i < n ? to_u128(ents[i].p.addr) : 0;
        /* Close the open prefixes that end before s (all of them at the end). */
        while (depth && (i == n || stack[depth - 1].end < s)) {
            open *o = &stack[--depth];
            if (!done && cursor <= o->end && range_add(t, cursor, o->end, o->cc) < 0)
                return -1;
            if (o->end == ~(u128)0)
                done = true;
            else if (cursor <= o->end)
                cursor = o->end + 1;
        }
        if (i == n)
            break;
        if (depth && cursor < s && range_add(t, cursor, s - 1, stack[depth - 1].cc) < 0)
            return -1;
        cursor = s;
        stack[depth++] = (open){ .end = prefix_end(s, ents[i].p.bits), .cc = ents[i].cc };
    }
    return 0;
}

gn_geo_table *gn_geo_table_parse(const char *text, size_t len, char *err, size_t errlen)
{
    gn_geo_table *t = calloc(1, sizeof *t);
    geo_ent *ents = NULL;
    size_t n = 0, cap = 0;
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
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            geo_ent *ne = realloc(ents, sizeof *ne * ncap);
            if (!ne) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            ents = ne;
            cap = ncap;
        }
        if (!parse_line(b, te, &ents[n], why, sizeof why)) {
            snprintf(err, errlen, "line %zu: %s", line, why);
            goto fail;
        }
        n++;
    }
    if (n)
        qsort(ents, n, sizeof *ents, ent_cmp);     /* (qsort of NULL is undefined, even for 0) */
    for (size_t i = 1; i < n; i++)
        if (ent_cmp(&ents[i - 1], &ents[i]) == 0) {
            snprintf(err, errlen, "a prefix is listed twice (as %.2s and as %.2s)", ents[i - 1].cc,
                     ents[i].cc);
            goto fail;
        }
    if (flatten(t, ents, n) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    t->nprefixes = n;
    free(ents);
    return t;
fail:
    free(ents);
    gn_geo_table_free(t);
    return NULL;
}

void gn_geo_table_free(gn_geo_table *t)
{
    if (t) {
        free(t->start);
        free(t->end);
        free(t->cc);
        free(t);
    }
}

size_t gn_geo_table_size(const gn_geo_table *t)
{
    return t ? t->nprefixes : 0;
}

bool gn_geo_table_lookup(const gn_geo_table *t, const uint8_t addr[16], char out[2])
{
    if (!t || !t->n)
        return false;
    u128 a = to_u128(addr);
    /* the last range starting at or before a */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->start[mid] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0 || a > t->end[lo - 1])
        return false;
    memcpy(out, t->cc[lo - 1], 2);
    return true;
}
