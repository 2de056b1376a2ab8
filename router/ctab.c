/* router/ctab.c — writer side of the trie's child tables (insert, inline,
 * delete, replace, rebuild). Readers only use the inline functions in
 * ctab.h. */
#include "router/ctab.h"

#include "router/hmem.h"

#include <string.h>

#include "router/tabsize.h"

static gn_ctab *ctab_new(gn_rmem *m, uint32_t cap)
{
    gn_ctab *t = gn_rmem_alloc(m, sizeof *t);
    if (!t)
        return NULL;
    size_t bytes = sizeof(gn_ccell) * cap;
    if (m->huge && bytes >= GN_HMEM_MIN) {
        t->c = gn_hmem_alloc(m->huge, bytes);
        if (t->c)
            gn_rmem_count(m, bytes, true);
    } else {
        t->c = gn_rmem_alloc_aligned(m, 64, bytes);
    }
    if (!t->c) {
        gn_rmem_free(m, t);
        return NULL;
    }
    t->mask = cap - 1;
    t->live = 0;
    t->used = 0;
    t->pad = 0;
    for (uint32_t i = 0; i < cap; i++) {
        atomic_init(&t->c[i].hash, 0);
        atomic_init(&t->c[i].ptr, NULL);
        memset(&t->c[i].leaf, 0, sizeof t->c[i].leaf);
    }
    return t;
}

void gn_ctab_free_cb(void *rmem, void *table)
{
    gn_rmem *m = rmem;
    gn_ctab *t = table;
    size_t bytes = sizeof(gn_ccell) * ((size_t)t->mask + 1);
    if (m->huge && bytes >= GN_HMEM_MIN) {
        gn_hmem_free(m->huge, t->c, bytes);
        gn_rmem_count(m, bytes, false);
    } else {
        gn_rmem_free(m, t->c);
    }
    gn_rmem_free(m, t);
}

/* A never-used cell for h (the table has room). */
static gn_ccell *free_cell(gn_ctab *t, uint64_t h)
{
    uint32_t i = (uint32_t)h & t->mask;
    /* relaxed: writer-owned view of its own cells. */
    while (atomic_load_explicit(&t->c[i].ptr, memory_order_relaxed) != NULL)
        i = (i + 1) & t->mask;
    return &t->c[i];
}

/* Publish child (a gn_node, or GN_CTAB_LEAF with img) in a free cell. */
static void put(gn_ctab *t, uint64_t h, void *child, const gn_leaf *img)
{
    gn_ccell *c = free_cell(t, h);
    /* relaxed: ordered before readers see it by the release store below. */
    atomic_store_explicit(&c->hash, h, memory_order_relaxed);
    if (child == GN_CTAB_LEAF) {
        c->leaf = *img;
        c->leaf.used = 1;
    }
    /* release: hash, leaf image and the child's contents before the pointer. */
    atomic_store_explicit(&c->ptr, child, memory_order_release);
    t->live++;
    t->used++;
}

/* Copy the live cells of `old` (may be NULL) plus room for `extra`. */
static gn_ctab *rebuild(gn_ctab *old, uint32_t extra, gn_rmem *m)
{
    uint32_t live = old ? old->live : 0;
    gn_ctab *t = ctab_new(m, gn_tab_cap_for(live + extra));
    if (!t)
        return NULL;
    if (old) {
        for (uint32_t i = 0; i <= old->mask; i++) {
            gn_ccell *c = &old->c[i];
            /* relaxed: only the writer modifies cells. */
            void *p = atomic_load_explicit(&c->ptr, memory_order_relaxed);
            if (p && p != GN_CTAB_TOMB)
                put(t, atomic_load_explicit(&c->hash, memory_order_relaxed), p, &c->leaf); /* relaxed: writer-owned */
        }
    }
    return t;
}

static void publish(_Atomic(gn_ctab *) *where, gn_ctab *old, gn_ctab *t, gn_rmem *m, gn_qsbr *q)
{
    /* release: the new table's cells before the table pointer. */
    atomic_store_explicit(where, t, memory_order_release);
    if (old)
        gn_qsbr_defer(q, gn_ctab_free_cb, m, old);
}

static gn_rerr add(_Atomic(gn_ctab *) *where, uint64_t h, void *child, const gn_leaf *img,
                   gn_rmem *m, gn_qsbr *q)
{
    /* relaxed: the writer reads its own last store. */
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed);
    if (!t || gn_tab_full(t->used, t->mask + 1)) {
        gn_ctab *n = rebuild(t, 1, m);
        if (!n)
            return GN_ROUTER_ERR_NOMEM;
        put(n, h, child, img);
        publish(where, t, n, m, q);
        return GN_ROUTER_OK;
    }
    put(t, h, child, img);
    return GN_ROUTER_OK;
}

gn_rerr gn_ctab_add(_Atomic(gn_ctab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q)
{
    return add(where, h, child, NULL, m, q);
}

gn_rerr gn_ctab_add_leaf(_Atomic(gn_ctab *) *where, uint64_t h, const gn_leaf *img, gn_rmem *m,
                         gn_qsbr *q)
{
    return add(where, h, GN_CTAB_LEAF, img, m, q);
}

static gn_ccell *find_cell(gn_ctab *t, uint64_t h, void *child)
{
    for (uint32_t i = (uint32_t)h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* relaxed: writer-owned. */
        void *p = atomic_load_explicit(&t->c[i].ptr, memory_order_relaxed);
        if (!p)
            return NULL;
        if (p == child)
            return &t->c[i];
    }
    return NULL;
}

/* Copy the live cells of t except `skip` into a new table with room for
 * one more, add the leaf image, publish. */
static bool rebuild_swap(_Atomic(gn_ctab *) *where, gn_ctab *t, const gn_ccell *skip, uint64_t h,
                         const gn_leaf *img, gn_rmem *m, gn_qsbr *q)
{
    gn_ctab *n = ctab_new(m, gn_tab_cap_for(t->live));
    if (!n)
        return false;
    for (uint32_t i = 0; i <= t->mask; i++) {
        gn_ccell *c = &t->c[i];
        /* relaxed: only the writer modifies cells. */
        void *p = atomic_load_explicit(&c->ptr, memory_order_relaxed);
        if (c != skip && p && p != GN_CTAB_TOMB)
            put(n, atomic_load_explicit(&c->hash, memory_order_relaxed), p, &c->leaf); /* relaxed: writer-owned */
    }
    put(n, h, GN_CTAB_LEAF, img);
    publish(where, t, n, m, q);
    return true;
}

bool gn_ctab_inline(_Atomic(gn_ctab *) *where, uint64_t h, void *from, const gn_leaf *img,
                    gn_rmem *m, gn_qsbr *q)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    gn_ccell *c = t ? find_cell(t, h, from) : NULL;
    if (!c)
        return false;
    if (!c->leaf.used) {
        c->leaf = *img;
        c->leaf.used = 1;
        /* release: the image before readers can see GN_CTAB_LEAF. */
        atomic_store_explicit(&c->ptr, GN_CTAB_LEAF, memory_order_release);
        return true;
    }
    /* Readers may still read this cell's earlier image: publish the leaf in
     * a fresh cell, then retire the old one. The fresh cell comes later in
     * h's probe sequence (no never-used cell lies between h's home and a
     * live cell of h), so until the tombstone readers find `from` first. */
    if (gn_tab_full(t->used, t->mask + 1))
        return rebuild_swap(where, t, c, h, img, m, q);
    put(t, h, GN_CTAB_LEAF, img);
    /* release: symmetric with the other publications of this field. */
    atomic_store_explicit(&c->ptr, GN_CTAB_TOMB, memory_order_release);
    t->live--;
    return true;
}

bool gn_ctab_del(_Atomic(gn_ctab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    gn_ccell *c = t ? find_cell(t, h, child) : NULL;
    if (!c)
        return false;
    gn_ctab_del_cell(where, c, m, q);
    return true;
}

void gn_ctab_del_cell(_Atomic(gn_ctab *) *where, gn_ccell *c, gn_rmem *m, gn_qsbr *q)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    /* release: not needed for a tombstone's contents, kept for symmetry
     * with the other publications of this field. */
    atomic_store_explicit(&c->ptr, GN_CTAB_TOMB, memory_order_release);
    t->live--;
    if (t->live == 0) {
        publish(where, t, NULL, m, q);
    } else if (gn_tab_sparse(t->live, t->mask + 1)) {
        gn_ctab *n = rebuild(t, 0, m);
        if (n) /* on failure keep the sparse table: still correct */
            publish(where, t, n, m, q);
    }
}

bool gn_ctab_replace(_Atomic(gn_ctab *) *where, uint64_t h, void *from, void *to)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    gn_ccell *c = t ? find_cell(t, h, from) : NULL;
    if (!c)
        return false;
    gn_ctab_set(c, to);
    return true;
}

void gn_ctab_set(gn_ccell *cell, void *to)
{
    /* release: the replacement's contents before the pointer. */
    atomic_store_explicit(&cell->ptr, to, memory_order_release);
}

uint32_t gn_ctab_count(_Atomic(gn_ctab *) *where)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    return t ? t->live : 0;
}

gn_ccell *gn_ctab_any(_Atomic(gn_ctab *) *where, void **child)
{
    gn_ctab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    if (!t)
        return NULL;
    uint32_t pos = 0;
    return gn_ctab_iter(t, &pos, child);
}
