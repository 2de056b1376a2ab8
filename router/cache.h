/* router/cache.h — per-reader-thread match cache: topic -> deliveries.
 *
 * Two-way set associative by the topic's XXH3 hash (set = hash & mask,
 * least recently used way evicted; a hit in the second way swaps the two).
 * An entry
 * holds a copy of the topic bytes, its hash, the subscription generations
 * it was computed under (router/gen.h: the sum of the global counter and
 * the topic's partition counters, and which partitions), the deduplicated
 * deliveries (no-local bits kept) and the shared groups that matched. A
 * lookup hits only if hash, length, the topic bytes AND the generation sum
 * are equal, so a hash collision can never return another topic's result:
 * it just takes a way of the set.
 *
 * Group pointers stored in an entry are only dereferenced when the entry's
 * generations are current: a group is unlinked (its filter's generation
 * bumped) before it is handed to QSBR, and the caller is an online reader,
 * so a group seen through a current entry is still allocated.
 *
 * Threading: a cache belongs to one reader thread; no locking, no atomics.
 * Memory is plain malloc (not counted in the router's bytes). */
#ifndef GN_ROUTER_CACHE_H
#define GN_ROUTER_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "router/gen.h"
#include "router/share.h"
#include "router/types.h"

/* Results with more deliveries + groups than this are not cached (a large
 * fan-out costs far more to deliver than to match). */
#define GN_CACHE_MAX_RESULTS 256

typedef struct gn_cache_entry {
    uint64_t hash;
    uint64_t gen;         /* gn_gen_tag.sum */
    uint16_t part[GN_GEN_MAX_DEPTH];
    uint8_t  nparts;
    uint32_t topic_len;
    uint16_t ndeliv;
    uint16_t ngroups;
    uint32_t size;        /* bytes allocated for this entry */
    uint8_t  has_nl;      /* some delivery has GN_DELIVER_NL_SOME */
    /* then: gn_delivery d[ndeliv]; gn_share_group *g[ngroups]; topic bytes */
} gn_cache_entry;

typedef struct gn_match_cache {
    uint32_t mask;        /* sets - 1; slot[2 * set + way] */
    uint64_t hits;
    uint64_t misses;
    uint64_t bytes;
    gn_cache_entry **slot;
} gn_match_cache;

/* slots: total entries, rounded up to a power of two (>= 2), two per set.
 * NULL on allocation failure. */
gn_match_cache *gn_cache_create(uint32_t slots);
void gn_cache_destroy(gn_match_cache *c);

static inline gn_delivery *gn_cache_deliv(const gn_cache_entry *e)
{
    return (gn_delivery *)(void *)((uint8_t *)e + sizeof *e);
}

static inline gn_share_group **gn_cache_groups(const gn_cache_entry *e)
{
    return (gn_share_group **)(void *)((uint8_t *)e + sizeof *e + sizeof(gn_delivery) * e->ndeliv);
}

static inline const uint8_t *gn_cache_topic(const gn_cache_entry *e)
{
    return (const uint8_t *)gn_cache_groups(e) + sizeof(gn_share_group *) * e->ngroups;
}

/* Same topic? (generation not checked) */
static inline bool gn_cache_is(const gn_cache_entry *e, uint64_t hash, const uint8_t *topic,
                               size_t len)
{
    return e && e->hash == hash && e->topic_len == len &&
           memcmp(gn_cache_topic(e), topic, len) == 0;
}

/* The entry for (topic, hash) if its generations are current, or NULL. */
static inline const gn_cache_entry *gn_cache_get(gn_match_cache *c, uint64_t hash,
                                                 const uint8_t *topic, size_t len,
                                                 const gn_gens *g)
{
    gn_cache_entry **set = &c->slot[2 * (hash & c->mask)];
    gn_cache_entry *e = NULL;
    if (gn_cache_is(set[0], hash, topic, len)) {
        e = set[0];
    } else if (gn_cache_is(set[1], hash, topic, len)) {
        e = set[1];
        set[1] = set[0];
        set[0] = e;
    }
    if (e && gn_gen_sum(g, e->part, e->nparts) == e->gen) {
        c->hits++;
        return e;
    }
    c->misses++;
    return NULL;
}

/* Store a result (copied). Returns false when not cached (too large or
 * out of memory): the caller's result is unaffected. */
bool gn_cache_put(gn_match_cache *c, uint64_t hash, const uint8_t *topic, size_t len,
                  const gn_gen_tag *tag, const gn_delivery *d, uint32_t nd,
                  gn_share_group *const *g, uint32_t ng);

/* Drop every entry (tests; a generation change already invalidates). */
void gn_cache_clear(gn_match_cache *c);

#endif
