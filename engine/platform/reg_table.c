/* engine/platform/reg_table.c — building and patching the registry's
 * segmented copy-on-write hash tables (see reg_table.h). */
#include "engine/platform/reg_table.h"

#include <stdlib.h>
#include <string.h>

static const uint32_t empty_slot[1] = {0};
static const gn_regtab_seg empty_seg = {
    .count = 0, .mask = 0, .rec_size = 0, .hashes = NULL, .slots = empty_slot, .recs = NULL,
};

void gn_regtab_init(gn_regtab *t, uint32_t rec_size)
{
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++)
        t->seg[i] = &empty_seg;
    t->count = 0;
    t->rec_size = rec_size;
}

void gn_regtab_seg_free(const gn_regtab_seg *s)
{
    if (s && s != &empty_seg)
        free((void *)s);
}

void gn_regtab_free_all(gn_regtab *t)
{
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++) {
        gn_regtab_seg_free(t->seg[i]);
        t->seg[i] = &empty_seg;
    }
    t->count = 0;
}

size_t gn_regtab_bytes(const gn_regtab *t)
{
    size_t n = 0;
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++) {
        const gn_regtab_seg *s = t->seg[i];
        if (s != &empty_seg)
            n += sizeof *s + (size_t)s->count * (8 + s->rec_size) + ((size_t)s->mask + 1) * 4;
    }
    return n;
}

void gn_regtab_each(const gn_regtab *t, void (*fn)(void *ctx, const void *rec), void *ctx)
{
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++) {
        const gn_regtab_seg *s = t->seg[i];
        for (uint32_t j = 0; j < s->count; j++)
            fn(ctx, s->recs + (size_t)j * s->rec_size);
    }
}

/* Allocate a segment for n records (hashes, slots and records in one
 * block) and fill it from parallel arrays; slots at most half full. */
static gn_regtab_seg *seg_make(uint32_t rec_size, uint32_t n, const uint64_t *hashes,
                               const uint8_t *const *recs)
{
    if (n == 0)
        return (gn_regtab_seg *)&empty_seg;
    uint32_t cap = 4;
    while (cap < 2 * n)
        cap <<= 1;
    size_t off_h = (sizeof(gn_regtab_seg) + 7) & ~(size_t)7;
    size_t off_s = off_h + (size_t)n * 8;
    size_t off_r = (off_s + (size_t)cap * 4 + 7) & ~(size_t)7;
    uint8_t *blk = malloc(off_r + (size_t)n * rec_size);
    if (!blk)
        return NULL;
    gn_regtab_seg *s = (gn_regtab_seg *)blk;
    uint64_t *hs = (uint64_t *)(blk + off_h);
    uint32_t *sl = (uint32_t *)(blk + off_s);
    uint8_t *rs = blk + off_r;
    memset(sl, 0, (size_t)cap * 4);
    for (uint32_t i = 0; i < n; i++) {
        hs[i] = hashes[i];
        memcpy(rs + (size_t)i * rec_size, recs[i], rec_size);
        uint32_t j = (uint32_t)hashes[i] & (cap - 1);
        while (sl[j])
            j = (j + 1) & (cap - 1);
        sl[j] = i + 1;
    }
    *s = (gn_regtab_seg){.count = n, .mask = cap - 1, .rec_size = rec_size,
                         .hashes = hs, .slots = sl, .recs = rs};
    return s;
}

/* ---- builder */

typedef struct seg_vec {
    uint32_t n, cap;
    uint64_t *hashes;
    uint8_t *recs;
} seg_vec;

struct gn_regtab_builder {
    uint32_t rec_size;
    seg_vec v[GN_REGTAB_NSEG];
};

gn_regtab_builder *gn_regtab_builder_new(uint32_t rec_size)
{
    gn_regtab_builder *b = calloc(1, sizeof *b);
    if (b)
        b->rec_size = rec_size;
    return b;
}

void gn_regtab_builder_free(gn_regtab_builder *b)
{
    if (!b)
        return;
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++) {
        free(b->v[i].hashes);
        free(b->v[i].recs);
    }
    free(b);
}

int gn_regtab_builder_add(gn_regtab_builder *b, uint64_t h, const void *rec)
{
    seg_vec *v = &b->v[h >> (64 - GN_REGTAB_SEGBITS)];
    if (v->n == v->cap) {
        uint32_t nc = v->cap ? v->cap * 2 : 16;
        uint64_t *nh = realloc(v->hashes, (size_t)nc * 8);
        if (!nh)
            return -1;
        v->hashes = nh;
        uint8_t *nr = realloc(v->recs, (size_t)nc * b->rec_size);
        if (!nr)
            return -1;
        v->recs = nr;
        v->cap = nc;
    }
    v->hashes[v->n] = h;
    memcpy(v->recs + (size_t)v->n * b->rec_size, rec, b->rec_size);
    v->n++;
    return 0;
}

int gn_regtab_builder_finish(gn_regtab_builder *b, gn_regtab *t)
{
    gn_regtab out;
    gn_regtab_init(&out, b->rec_size);
    const uint8_t **ptrs = NULL;
    size_t pcap = 0;
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++) {
        seg_vec *v = &b->v[i];
        if (v->n > pcap) {
            const uint8_t **np = realloc(ptrs, (size_t)v->n * sizeof *np);
            if (!np)
                goto fail;
            ptrs = np;
            pcap = v->n;
        }
        for (uint32_t j = 0; j < v->n; j++)
            ptrs[j] = v->recs + (size_t)j * b->rec_size;
        gn_regtab_seg *s = seg_make(b->rec_size, v->n, v->hashes, ptrs);
        if (!s)
            goto fail;
        out.seg[i] = s;
        out.count += v->n;
    }
    free(ptrs);
    *t = out;
    return 0;
fail:
    free(ptrs);
    gn_regtab_free_all(&out);
    return -1;
}

/* ---- patch */

static int op_cmp(const void *a, const void *b)
{
    uint64_t x = ((const gn_regtab_op *)a)->h >> (64 - GN_REGTAB_SEGBITS);
    uint64_t y = ((const gn_regtab_op *)b)->h >> (64 - GN_REGTAB_SEGBITS);
    return x < y ? -1 : x > y;
}

/* Index of the record with hash h / key in s, or UINT32_MAX. */
static uint32_t seg_index(const gn_regtab_seg *s, uint64_t h, gn_regtab_eq_fn eq, const void *key)
{
    for (uint32_t i = (uint32_t)h & s->mask;; i = (i + 1) & s->mask) {
        uint32_t v = s->slots[i];
        if (!v)
            return UINT32_MAX;
        if (s->hashes[v - 1] == h && eq(s->recs + (size_t)(v - 1) * s->rec_size, key))
            return v - 1;
    }
}

int gn_regtab_patch(const gn_regtab *in, gn_regtab *out, gn_regtab_op *ops, size_t nops,
                    gn_regtab_eq_fn eq, const gn_regtab_seg **retired, size_t *nretired)
{
    gn_regtab t = *in;
    const gn_regtab_seg *fresh[GN_REGTAB_NSEG];
    size_t nfresh = 0;
    qsort(ops, nops, sizeof *ops, op_cmp);
    uint64_t *hs = NULL;
    const uint8_t **ps = NULL;
    uint8_t *gone = NULL;
    size_t cap = 0;
    for (size_t a = 0; a < nops;) {
        uint32_t si = (uint32_t)(ops[a].h >> (64 - GN_REGTAB_SEGBITS));
        size_t b = a;
        while (b < nops && (uint32_t)(ops[b].h >> (64 - GN_REGTAB_SEGBITS)) == si)
            b++;
        const gn_regtab_seg *old = in->seg[si];
        size_t need = (size_t)old->count + (b - a);
        if (need > cap) {
            uint64_t *nh = realloc(hs, need * sizeof *nh);
            const uint8_t **np = nh ? realloc(ps, need * sizeof *np) : NULL;
            uint8_t *ng = np ? realloc(gone, need) : NULL;
            if (nh)
                hs = nh;
            if (np)
                ps = np;
            if (!ng)
                goto fail;
            gone = ng;
            cap = need;
        }
        memset(gone, 0, old->count);
        int64_t delta = 0;
        for (size_t k = a; k < b; k++) {
            uint32_t ix = seg_index(old, ops[k].h, eq, ops[k].key);
            if (ix != UINT32_MAX) {
                gone[ix] = 1;
                delta--;
            }
        }
        uint32_t n = 0;
        for (uint32_t j = 0; j < old->count; j++)
            if (!gone[j]) {
                hs[n] = old->hashes[j];
                ps[n++] = old->recs + (size_t)j * old->rec_size;
            }
        for (size_t k = a; k < b; k++)
            if (ops[k].rec) {
                hs[n] = ops[k].h;
                ps[n++] = ops[k].rec;
                delta++;
            }
        gn_regtab_seg *s = seg_make(in->rec_size, n, hs, ps);
        if (!s)
            goto fail;
        fresh[nfresh++] = s;
        t.seg[si] = s;
        t.count = (uint64_t)((int64_t)t.count + delta);
        a = b;
    }
    free(hs);
    free(ps);
    free(gone);
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++)
        if (t.seg[i] != in->seg[i] && in->seg[i] != &empty_seg)
            retired[(*nretired)++] = in->seg[i];
    *out = t;
    return 0;
fail:
    free(hs);
    free(ps);
    free(gone);
    for (size_t i = 0; i < nfresh; i++)
        gn_regtab_seg_free(fresh[i]);
    return -1;
}
