/* router/ltab.h — child table of a trie node: open addressing (linear
 * probing) from a level's 64-bit hash to a child pointer.
 *
 * Threading: any number of lock-free readers, one writer at a time (the
 * caller serialises writers). Writers insert into empty slots in place
 * (the hash is written first, the pointer published with release), delete
 * by storing a tombstone, replace a child by storing the new pointer in
 * its slot. Tombstoned slots are only reused by a rebuild: a rebuild copies
 * the live entries to a new table, publishes it with release and hands the
 * old one to QSBR. A table is owned by the node field (`_Atomic(gn_ltab *)`)
 * given to the writer functions. Hash collisions are expected: readers
 * iterate every slot with the same hash and verify the label themselves. */
#ifndef GN_ROUTER_LTAB_H
#define GN_ROUTER_LTAB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "router/qsbr.h"
#include "router/rmem.h"
#include "router/types.h"

#define GN_LTAB_TOMB ((void *)(uintptr_t)1)

typedef struct gn_ltab_slot {
    /* Written (relaxed) once, before `ptr` is first published. */
    _Atomic uint64_t hash;
    /* NULL = never used (ends a probe), GN_LTAB_TOMB = deleted, else child.
     * Release by the writer / acquire by readers: the child's contents and
     * this slot's hash are visible once the pointer is. */
    _Atomic(void *) ptr;
} gn_ltab_slot;

typedef struct gn_ltab {
    uint32_t mask;       /* capacity - 1 (power of two) */
    uint32_t live;       /* writer-only bookkeeping */
    uint32_t used;       /* live + tombstones; writer-only */
    uint32_t pad;
    gn_ltab_slot s[];
} gn_ltab;

/* Reader: next child whose slot hash equals h, continuing from *pos (start
 * with *pos = h & mask, i.e. call gn_ltab_start). NULL when none is left. */
static inline uint32_t gn_ltab_start(const gn_ltab *t, uint64_t h)
{
    return (uint32_t)h & t->mask;
}

static inline void *gn_ltab_next(const gn_ltab *t, uint64_t h, uint32_t *pos)
{
    for (uint32_t i = *pos, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* acquire: pairs with the writer's release publication of the slot. */
        void *p = atomic_load_explicit(&t->s[i].ptr, memory_order_acquire);
        if (!p)
            return NULL;
        if (p == GN_LTAB_TOMB)
            continue;
        /* relaxed: written before ptr was published (ordered by the acquire). */
        if (atomic_load_explicit(&t->s[i].hash, memory_order_relaxed) == h) {
            *pos = (i + 1) & t->mask;
            return p;
        }
    }
    return NULL;
}

/* Reader: visit every child (for '+' and '#' over the retained store).
 * Start with *pos = 0; NULL at the end. */
static inline void *gn_ltab_iter(const gn_ltab *t, uint32_t *pos)
{
    while (*pos <= t->mask) {
        /* acquire: as in gn_ltab_next. */
        void *p = atomic_load_explicit(&t->s[*pos].ptr, memory_order_acquire);
        (*pos)++;
        if (p && p != GN_LTAB_TOMB)
            return p;
    }
    return NULL;
}

/* Writer functions. `where` is the node's table field (may hold NULL). */
gn_rerr gn_ltab_add(_Atomic(gn_ltab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q);
/* Remove the slot holding exactly `child` (found under hash h). */
bool gn_ltab_del(_Atomic(gn_ltab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q);
/* Put `to` in the slot holding `from` (same hash h). */
bool gn_ltab_replace(_Atomic(gn_ltab *) *where, uint64_t h, void *from, void *to);
/* Number of live children. */
uint32_t gn_ltab_count(_Atomic(gn_ltab *) *where);
/* Some live child (the only one when count == 1), or NULL. */
void *gn_ltab_any(_Atomic(gn_ltab *) *where);

#endif
