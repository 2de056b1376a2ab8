/* router/gen.c — subscription generations (global + literal-prefix
 * partitions): writer bumps and reader tags. See gen.h. */
#include "router/gen.h"

#include <xxhash.h>

void gn_gen_init(gn_gens *g)
{
    atomic_init(&g->global, 1);
    atomic_init(&g->depths, 0);
    for (uint32_t i = 0; i < GN_GEN_PARTS; i++)
        atomic_init(&g->part[i], 0);
}

/* Partition of the first d levels' bytes (d >= 1). */
static uint32_t part_of(const uint8_t *s, const gn_levels *lv, uint32_t d)
{
    size_t end = (size_t)lv->start[d - 1] + lv->len[d - 1];
    return (uint32_t)XXH3_64bits(s, end) & (GN_GEN_PARTS - 1);
}

void gn_gen_bump(gn_gens *g, const uint8_t *f, const gn_levels *lv)
{
    uint32_t d = 0;
    while (d < lv->count && d < GN_GEN_MAX_DEPTH) {
        const uint8_t *s = f + lv->start[d];
        if (lv->len[d] == 1 && (s[0] == '+' || s[0] == '#'))
            break;
        d++;
    }
    if (d == 0) {
        /* release: the change before the new count. */
        atomic_fetch_add_explicit(&g->global, 1, memory_order_release);
        return;
    }
    uint32_t bit = 1u << d;
    /* relaxed: only writers store it, and they are serialised. */
    uint32_t m = atomic_load_explicit(&g->depths, memory_order_relaxed);
    if (!(m & bit))
        /* release: read by readers that saw the global bump below. */
        atomic_store_explicit(&g->depths, m | bit, memory_order_release);
    /* release: the change before the new count. */
    atomic_fetch_add_explicit(&g->part[part_of(f, lv, d)], 1, memory_order_release);
    if (!(m & bit))
        /* release: entries computed without depth d are dropped. */
        atomic_fetch_add_explicit(&g->global, 1, memory_order_release);
}

void gn_gen_tag_for(const gn_gens *g, const uint8_t *topic, const gn_levels *lv, gn_gen_tag *out)
{
    /* acquire: pairs with the writers' release bumps: the walk that follows
     * sees every change counted here. The global count comes first: a
     * reader that sees a depth's first global bump also sees its bit. */
    uint64_t s = atomic_load_explicit(&g->global, memory_order_acquire);
    uint32_t m = atomic_load_explicit(&g->depths, memory_order_acquire); /* acquire: see above */
    uint32_t n = 0;
    for (uint32_t d = 1; d <= GN_GEN_MAX_DEPTH && d <= lv->count; d++) {
        if (!(m >> d & 1))
            continue;
        uint32_t p = part_of(topic, lv, d);
        out->part[n++] = (uint16_t)p;
        /* acquire: as for the global count. */
        s += atomic_load_explicit(&g->part[p], memory_order_acquire);
    }
    out->nparts = (uint8_t)n;
    out->sum = s;
}
