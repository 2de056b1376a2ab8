/* router/ltab.c — writer side of the child tables (insert, delete,
 * replace, rebuild). Readers only use the inline functions in ltab.h. */
#include "router/ltab.h"

#include <string.h>

#include "router/tabsize.h"

static gn_ltab *ltab_new(gn_rmem *m, uint32_t cap)
{
    gn_ltab *t = gn_rmem_alloc(m, sizeof *t + sizeof(gn_ltab_slot) * cap);
    if (!t)
        return NULL;
    t->mask = cap - 1;
    t->live = 0;
    t->used = 0;
    t->pad = 0;
    for (uint32_t i = 0; i < cap; i++) {
        atomic_init(&t->s[i].hash, 0);
        atomic_init(&t->s[i].ptr, NULL);
    }
    return t;
}

/* Insert into a table no reader can see yet, or in place (publishing). */
static void put(gn_ltab *t, uint64_t h, void *child)
{
    uint32_t i = (uint32_t)h & t->mask;
    for (;;) {
        /* relaxed: writer-owned view of its own slots. */
        void *p = atomic_load_explicit(&t->s[i].ptr, memory_order_relaxed);
        if (!p)
            break;
        i = (i + 1) & t->mask;
    }
    /* relaxed: ordered before readers see it by the release store below. */
    atomic_store_explicit(&t->s[i].hash, h, memory_order_relaxed);
    /* release: hash and the child's contents before the pointer. */
    atomic_store_explicit(&t->s[i].ptr, child, memory_order_release);
    t->live++;
    t->used++;
}

/* Copy the live entries of `old` (may be NULL) plus room for `extra`. */
static gn_ltab *rebuild(gn_ltab *old, uint32_t extra, gn_rmem *m)
{
    uint32_t live = old ? old->live : 0;
    gn_ltab *t = ltab_new(m, gn_tab_cap_for(live + extra));
    if (!t)
        return NULL;
    if (old) {
        for (uint32_t i = 0; i <= old->mask; i++) {
            /* relaxed: only the writer modifies slots. */
            void *p = atomic_load_explicit(&old->s[i].ptr, memory_order_relaxed);
            if (p && p != GN_LTAB_TOMB)
                put(t, atomic_load_explicit(&old->s[i].hash, memory_order_relaxed), p); /* relaxed: writer-owned */
        }
    }
    return t;
}

static void publish(_Atomic(gn_ltab *) *where, gn_ltab *old, gn_ltab *t, gn_rmem *m, gn_qsbr *q)
{
    /* release: the new table's slots before the table pointer. */
    atomic_store_explicit(where, t, memory_order_release);
    if (old)
        gn_qsbr_defer(q, gn_rmem_free_cb, m, old);
}

gn_rerr gn_ltab_add(_Atomic(gn_ltab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q)
{
    /* relaxed: the writer reads its own last store. */
    gn_ltab *t = atomic_load_explicit(where, memory_order_relaxed);
    if (!t || gn_tab_full(t->used, t->mask + 1)) {
        gn_ltab *n = rebuild(t, 1, m);
        if (!n)
            return GN_ROUTER_ERR_NOMEM;
        put(n, h, child);
        publish(where, t, n, m, q);
        return GN_ROUTER_OK;
    }
    put(t, h, child);
    return GN_ROUTER_OK;
}

static gn_ltab_slot *find_slot(gn_ltab *t, uint64_t h, void *child)
{
    for (uint32_t i = (uint32_t)h & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, n++) {
        /* relaxed: writer-owned. */
        void *p = atomic_load_explicit(&t->s[i].ptr, memory_order_relaxed);
        if (!p)
            return NULL;
        if (p == child)
            return &t->s[i];
    }
    return NULL;
}

bool gn_ltab_del(_Atomic(gn_ltab *) *where, uint64_t h, void *child, gn_rmem *m, gn_qsbr *q)
{
    gn_ltab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    if (!t)
        return false;
    gn_ltab_slot *s = find_slot(t, h, child);
    if (!s)
        return false;
    /* release: not needed for a tombstone's contents, kept for symmetry
     * with the other publications of this field. */
    atomic_store_explicit(&s->ptr, GN_LTAB_TOMB, memory_order_release);
    t->live--;
    if (t->live == 0) {
        publish(where, t, NULL, m, q);
    } else if (gn_tab_sparse(t->live, t->mask + 1)) {
        gn_ltab *n = rebuild(t, 0, m);
        if (n) /* on failure keep the sparse table: still correct */
            publish(where, t, n, m, q);
    }
    return true;
}

bool gn_ltab_replace(_Atomic(gn_ltab *) *where, uint64_t h, void *from, void *to)
{
    gn_ltab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    if (!t)
        return false;
    gn_ltab_slot *s = find_slot(t, h, from);
    if (!s)
        return false;
    /* release: the replacement's contents before the pointer. */
    atomic_store_explicit(&s->ptr, to, memory_order_release);
    return true;
}

uint32_t gn_ltab_count(_Atomic(gn_ltab *) *where)
{
    gn_ltab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    return t ? t->live : 0;
}

void *gn_ltab_any(_Atomic(gn_ltab *) *where)
{
    gn_ltab *t = atomic_load_explicit(where, memory_order_relaxed); /* relaxed: writer-owned */
    if (!t)
        return NULL;
    uint32_t pos = 0;
    return gn_ltab_iter(t, &pos);
}
