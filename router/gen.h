/* router/gen.h — subscription generations: what tells a match cache that
 * a cached result may be stale.
 *
 * One global counter plus GN_GEN_PARTS partition counters. A change to a
 * filter whose first d levels are literal (d = 1 .. GN_GEN_MAX_DEPTH, '+'
 * and '#' end the literal prefix; d is capped at GN_GEN_MAX_DEPTH) bumps
 * the counter of partition hash(first d levels' bytes); a filter starting
 * with a wildcard bumps the global one. A topic can only be matched by a
 * filter of depth d whose first d levels equal the topic's, so a cached
 * result for a topic stays exact while the global counter and the topic's
 * partition counters, one per depth in use, are unchanged: the cache keeps
 * their sum (all counters only grow, so the sum changes iff one did).
 * Churning per-device filters then invalidates only those devices' cached
 * topics instead of every shard's whole cache. The depths in use are a
 * bit mask; the first use of a depth also bumps the global counter (so
 * entries computed without that depth are dropped).
 *
 * Threading: gn_gen_bump is a writer function (router writer lock held),
 * called after the change is published; it bumps with release. Readers
 * (gn_gen_tag_for, gn_gen_sum) load with acquire before walking the trie,
 * so a result is never tagged newer than what the walk saw. */
#ifndef GN_ROUTER_GEN_H
#define GN_ROUTER_GEN_H

#include <stdatomic.h>
#include <stdint.h>

#include "codec/topic.h"

#define GN_GEN_PARTS 4096u
#define GN_GEN_MAX_DEPTH 8

typedef struct gn_gens {
    /* Release by writers after publishing a change; acquire by readers
     * before they walk (pairs: the walk sees every change counted). */
    _Alignas(64) _Atomic uint64_t global;
    /* Depths in use (bit d); release store before the global bump that
     * announces it, acquire load after the global load. */
    _Atomic uint32_t depths;
    /* Partition counters; release / acquire as `global`. */
    _Alignas(64) _Atomic uint64_t part[GN_GEN_PARTS];
} gn_gens;

/* What a cached result was computed under. */
typedef struct gn_gen_tag {
    uint64_t sum;                       /* global + the listed partitions */
    uint8_t  nparts;
    uint16_t part[GN_GEN_MAX_DEPTH];
} gn_gen_tag;

void gn_gen_init(gn_gens *g);

/* Writer: a subscription on `filter` (split in lv; the inner filter of a
 * "$share/..." one) changed and is published. */
void gn_gen_bump(gn_gens *g, const uint8_t *filter, const gn_levels *lv);

/* Reader: the tag for a topic (split in lv, hashes not needed), loaded
 * before the walk. */
void gn_gen_tag_for(const gn_gens *g, const uint8_t *topic, const gn_levels *lv, gn_gen_tag *out);

/* Reader: the current sum for a tag's partitions (equal to tag->sum iff
 * nothing that can match the topic changed). */
static inline uint64_t gn_gen_sum(const gn_gens *g, const uint16_t *part, uint32_t nparts)
{
    /* acquire: as in gn_gen_tag_for (cached group pointers are trusted
     * only under current counters). */
    uint64_t s = atomic_load_explicit(&g->global, memory_order_acquire);
    for (uint32_t k = 0; k < nparts; k++)
        s += atomic_load_explicit(&g->part[part[k]], memory_order_acquire);
    return s;
}

#endif
