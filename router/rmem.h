/* router/rmem.h — the router's allocation wrapper: malloc/free plus a byte
 * counter (glibc's usable size + the 8-byte chunk header) so
 * gn_router_stats can report what the structures really cost.
 * Any thread may allocate or free; the counter is a relaxed atomic. */
#ifndef GN_ROUTER_RMEM_H
#define GN_ROUTER_RMEM_H

#include <malloc.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

struct gn_hmem;

typedef struct gn_rmem {
    /* Bytes currently allocated; relaxed: a statistic, orders nothing. */
    _Atomic size_t bytes;
    /* Huge-page blocks for big child tables (router/hmem.h); NULL: malloc. */
    struct gn_hmem *huge;
} gn_rmem;

static inline void *gn_rmem_alloc(gn_rmem *m, size_t size)
{
    void *p = malloc(size);
    if (p)
        atomic_fetch_add_explicit(&m->bytes, malloc_usable_size(p) + sizeof(size_t),
                                  memory_order_relaxed);
    return p;
}

/* Same, aligned to `align` bytes (a power of two); freed by gn_rmem_free. */
static inline void *gn_rmem_alloc_aligned(gn_rmem *m, size_t align, size_t size)
{
    void *p = aligned_alloc(align, (size + align - 1) & ~(align - 1));
    if (p)
        atomic_fetch_add_explicit(&m->bytes, malloc_usable_size(p) + sizeof(size_t),
                                  memory_order_relaxed);
    return p;
}

static inline void gn_rmem_free(gn_rmem *m, void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&m->bytes, malloc_usable_size(p) + sizeof(size_t),
                              memory_order_relaxed);
    free(p);
}

/* Count (add) or uncount `size` bytes obtained elsewhere (huge-page blocks). */
static inline void gn_rmem_count(gn_rmem *m, size_t size, bool add)
{
    if (add)
        atomic_fetch_add_explicit(&m->bytes, size, memory_order_relaxed); /* relaxed: statistic */
    else
        atomic_fetch_sub_explicit(&m->bytes, size, memory_order_relaxed); /* relaxed: statistic */
}

/* A gn_qsbr_free_fn: ctx is the gn_rmem. */
static inline void gn_rmem_free_cb(void *ctx, void *p)
{
    gn_rmem_free((gn_rmem *)ctx, p);
}

#endif
