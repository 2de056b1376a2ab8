/* router/ctab.h — child table of a subscription-trie node: open addressing
 * (linear probing) by the first level's XXH3 hash, one cache line per cell.
 *
 * A cell holds the hash, the child and room for an inline leaf: a child
 * with no children of its own whose label and (at most two) subscriber
 * entries fit in GN_LEAF_BYTES is stored in the cell itself, so matching a
 * per-device filter among a million costs one cache miss (the cell) instead
 * of two dependent ones (table slot, then node). Everything else is a
 * pointer to a gn_node (router/trie.h).
 *
 * Threading: any number of lock-free readers, one writer at a time (the
 * caller serialises writers). `ptr` is the publication point: the hash and,
 * for GN_CTAB_LEAF, the leaf image are written before ptr is stored with
 * release, and readers load ptr with acquire before reading them. A leaf
 * image is written at most once per cell and never rewritten while the
 * table is reachable (leaf.used marks a cell whose image was published), so
 * readers can read it without atomics. A writer that must change an inline
 * leaf first turns it into a gn_node ("promotes" it: stores the node
 * pointer in the same cell, release; readers that loaded GN_CTAB_LEAF
 * earlier keep reading the untouched image); inlining it again afterwards
 * uses a fresh cell. Deletes store a tombstone;
 * tombstones are reused only by a rebuild, which copies the live cells to
 * a new table, publishes it with release and hands the old one to QSBR.
 * Hash collisions are expected: readers visit every cell with the same
 * hash and verify the label themselves. */
#ifndef GN_ROUTER_CTAB_H
#define GN_ROUTER_CTAB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "router/qsbr.h"
#include "router/rmem.h"
#include "router/types.h"

#define GN_CTAB_TOMB ((void *)(uintptr_t)1)
#define GN_CTAB_LEAF ((void *)(uintptr_t)2)

/* Bytes of an inline leaf's entries + label. */
#define GN_LEAF_BYTES 40
#define GN_LEAF_MAX_ENTRIES 2

/* Inline leaf image (immutable once its cell's ptr is GN_CTAB_LEAF). */
typedef struct gn_leaf {
    uint8_t used;      /* writer-only: an image was published in this cell */
    uint8_t nlevels;   /* levels in the label (>= 1) */
    uint8_t flags;     /* GN_NODE_WILD (router/trie.h) */
    uint8_t n;         /* entries */
    uint8_t nhash;     /* e[0 .. nhash) are "<label>/#" entries, as in gn_subs */
    uint8_t len;       /* label bytes, stored after the entries */
    uint8_t pad[2];
    union {
        gn_route_entry e[GN_LEAF_MAX_ENTRIES];
        uint8_t b[GN_LEAF_BYTES];
    } u;
} gn_leaf;

typedef struct gn_ccell {
    /* Written (relaxed) before `ptr` is first published in this cell. */
    _Atomic uint64_t hash;
    /* NULL = never used (ends a probe), GN_CTAB_TOMB = deleted,
     * GN_CTAB_LEAF = the child is `leaf`, else a gn_node. Release by the
     * writer / acquire by readers (hash, leaf image, node contents). */
    _Atomic(void *) ptr;
    gn_leaf leaf;
} gn_ccell;

_Static_assert(sizeof(gn_ccell) == 64, "a cell is one cache line");

/* A table: a small header and its cells, allocated apart so that the cells
 * are a power-of-two block (big ones on huge pages, router/hmem.h). Both
 * are immutable in size and freed together (gn_ctab_free_cb). */
typedef struct gn_ctab {
    uint32_t mask;       /* capacity - 1 (power of two) */
    uint32_t live;       /* writer-only bookkeeping */
    uint32_t used;       /* live + tombstones; writer-only */
    uint32_t pad;
    gn_ccell *c;         /* mask + 1 cells, 64-byte aligned */
} gn_ctab;

static inline const uint8_t *gn_leaf_label(const gn_leaf *l)
{
    return l->u.b + sizeof(gn_route_entry) * l->n;
}

/* Does a leaf with n entries and a label of len bytes fit in a cell? */
static inline bool gn_leaf_fits(uint32_t n, uint32_t len)
{
    return n <= GN_LEAF_MAX_ENTRIES && sizeof(gn_route_entry) * n + len <= GN_LEAF_BYTES;
}

/* Reader: the cell where a probe for h starts. */
static inline uint32_t gn_ctab_start(const gn_ctab *t, uint64_t h)
{
    return (uint32_t)h & t->mask;
}

/* Reader: next cell whose hash equals h, continuing from *pos (start with
 * gn_ctab_start). Returns the cell and its child in *child (a gn_node or
 * GN_CTAB_LEAF); NULL when none is left. */
static inline const gn_ccell *gn_ctab_next(const gn_ctab *t, uint64_t h, uint32_t *pos,
                                           void **child)
{
    for (uint32_t i = *pos, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        const gn_ccell *c = &t->c[i];
        /* acquire: pairs with the writer's release publication of the cell. */
        void *p = atomic_load_explicit(&c->ptr, memory_order_acquire);
        if (!p)
            return NULL;
        if (p == GN_CTAB_TOMB)
            continue;
        /* relaxed: written before ptr was published (ordered by the acquire). */
        if (atomic_load_explicit(&c->hash, memory_order_relaxed) == h) {
            *pos = (i + 1) & t->mask;
            *child = p;
            return c;
        }
    }
    return NULL;
}

/* Reader or writer: visit every live cell. Start with *pos = 0; NULL at
 * the end; *child as in gn_ctab_next. */
static inline gn_ccell *gn_ctab_iter(const gn_ctab *t, uint32_t *pos, void **child)
{
    while (*pos <= t->mask) {
        gn_ccell *c = (gn_ccell *)&t->c[*pos];
        /* acquire: as in gn_ctab_next. */
        void *p = atomic_load_explicit(&c->ptr, memory_order_acquire);
        (*pos)++;
        if (p && p != GN_CTAB_TOMB) {
            *child = p;
            return c;
        }
    }
    return NULL;
}

/* ---- writer functions; `where` is the node's table field (may hold NULL) ---- */

/* Add a gn_node child. */
gn_rerr gn_ctab_add(_Atomic(gn_ctab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q);
/* Add an inline leaf child (img->used is ignored). */
gn_rerr gn_ctab_add_leaf(_Atomic(gn_ctab *) *where, uint64_t h, const gn_leaf *img, gn_rmem *m,
                         gn_qsbr *q);
/* Replace gn_node child `from` (hash h) by the inline leaf `img`: in place
 * if its cell never held a leaf, else in a fresh cell (the old one becomes
 * a tombstone; may rebuild the table). false when `from` is not there or
 * memory ran out (the caller keeps the node). */
bool gn_ctab_inline(_Atomic(gn_ctab *) *where, uint64_t h, void *from, const gn_leaf *img,
                    gn_rmem *m, gn_qsbr *q);
/* Remove the cell holding gn_node `child`. */
bool gn_ctab_del(_Atomic(gn_ctab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q);
/* Remove `cell` (of the table in `where`, e.g. an inline leaf). */
void gn_ctab_del_cell(_Atomic(gn_ctab *) *where, gn_ccell *cell, gn_rmem *m, gn_qsbr *q);
/* Put gn_node `to` in the cell holding gn_node `from` (same hash h). */
bool gn_ctab_replace(_Atomic(gn_ctab *) *where, uint64_t h, void *from, void *to);
/* Promote: put gn_node `to` (built from the leaf's image) in the leaf's cell. */
void gn_ctab_set(gn_ccell *cell, void *to);
uint32_t gn_ctab_count(_Atomic(gn_ctab *) *where);
/* Free a table (header and cells) now; also a gn_qsbr_free_fn (ctx: the
 * gn_rmem) for deferring it. */
void gn_ctab_free_cb(void *rmem, void *table);
/* Some live cell (the only one when count == 1), or NULL. */
gn_ccell *gn_ctab_any(_Atomic(gn_ctab *) *where, void **child);

#endif
