/* engine/consumer_ring.c — the variable-length record ring of one
 * (consumer, shard) pair: reservation with padding at the buffer end,
 * block / drop-oldest space management, publication with empty->non-empty
 * detection, and the consumer's claim / release (see consumer_ring.h). */
#include "engine/consumer_ring.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(gn_event) % 8 == 0, "records stay 8-aligned");
_Static_assert(offsetof(gn_event, size) == 0 && offsetof(gn_event, payload_len) == 4,
               "a padding record is marked in its first 8 bytes");

#define BUSY 1u

int gn_cring_init(gn_cring *r, uint64_t bytes, bool drop_oldest)
{
    memset(r, 0, sizeof *r);
    uint64_t cap = GN_CRING_MIN_BYTES;
    while (cap < bytes && cap < GN_CRING_MAX_BYTES)
        cap <<= 1;
    r->buf = aligned_alloc(64, cap);
    if (!r->buf)
        return -ENOMEM;
    r->cap = cap;
    r->mask = cap - 1;
    r->drop_oldest = drop_oldest;
    return 0;
}

void gn_cring_fini(gn_cring *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* ---------------------------------------------------------------- producer */

static uint64_t head_pos(gn_cring *r)
{
    /* seq_cst: pairs with the consumer's release CAS (its reads of the
     * records before happen-before our overwriting them) and with the
     * prod_waiting store in gn_cring_fits (Dekker) */
    return atomic_load(&r->head) >> 1;
}

uint64_t gn_cring_free(gn_cring *r)
{
    r->head_cache = head_pos(r);
    return r->cap - (r->ptail - r->head_cache);
}

/* Bytes needed at ptail for a record of size bytes: the record plus the
 * padding that ends the buffer when it does not fit before the end. */
static uint64_t need_for(const gn_cring *r, uint64_t size)
{
    uint64_t to_end = r->cap - (r->ptail & r->mask);
    return to_end < size ? to_end + size : size;
}

bool gn_cring_fits(gn_cring *r, uint64_t size)
{
    uint64_t need = need_for(r, size);
    if (r->cap - (r->ptail - r->head_cache) >= need || gn_cring_free(r) >= need)
        return true;
    /* seq_cst: ordered before the head re-load below; the consumer's release
     * CAS of head is ordered before its load of this flag, so either we see
     * the new head or it sees the flag and wakes the shard */
    atomic_store(&r->prod_waiting, 1);
    return gn_cring_free(r) >= need;
}

/* No batch is held: move head over records the producer dropped. */
static void reclaim(gn_cring *r)
{
    /* seq_cst: CAS against the consumer setting BUSY; claim read after */
    uint64_t h = atomic_load(&r->head);
    if (h & BUSY)
        return;
    uint64_t c = atomic_load(&r->claim);   /* seq_cst: the consumer only moves it while BUSY */
    if ((h >> 1) < c)
        atomic_compare_exchange_strong(&r->head, &h, c << 1);   /* seq_cst: fails if BUSY was set */
}

/* Drop the oldest record the consumer has not claimed. false: none left. */
static bool drop_one(gn_cring *r)
{
    /* seq_cst: races the consumer's claim CAS; whoever wins owns the record */
    uint64_t c = atomic_load(&r->claim);
    if (c >= r->ptail)
        return false;
    const gn_event *ev = gn_cring_at(r, c);    /* ours: written by this thread */
    uint64_t next = c + ev->size;
    bool pad = gn_cring_is_pad(ev);
    if (!atomic_compare_exchange_strong(&r->claim, &c, next))   /* seq_cst: see above */
        return true;    /* the consumer took it meanwhile: space comes at its release */
    if (!pad)
        /* relaxed: single writer, statistics read by the consumer thread */
        atomic_store_explicit(&r->dropped, atomic_load_explicit(&r->dropped, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    return true;
}

static void count(_Atomic uint64_t *c)
{
    /* relaxed: single-writer counter, read only for statistics */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

gn_event *gn_cring_reserve(gn_cring *r, uint64_t size)
{
    if (size > r->cap / 2) {
        count(&r->oversize);
        return NULL;
    }
    uint64_t need = need_for(r, size);
    if (r->cap - (r->ptail - r->head_cache) < need && gn_cring_free(r) < need) {
        if (!r->drop_oldest)
            return NULL;
        for (;;) {
            reclaim(r);
            if (gn_cring_free(r) >= need)
                break;
            if (!drop_one(r)) {
                count(&r->dropped);     /* the consumer holds every record */
                return NULL;
            }
        }
    }
    uint64_t to_end = r->cap - (r->ptail & r->mask);
    if (to_end < size) {
        gn_event *pad = gn_cring_at(r, r->ptail);   /* only its first 8 bytes exist for sure */
        pad->size = (uint32_t)to_end;
        pad->payload_len = GN_CRING_PAD;
        r->ptail += to_end;
    }
    gn_event *ev = gn_cring_at(r, r->ptail);
    ev->size = (uint32_t)size;
    r->ptail += size;
    count(&r->written);
    return ev;
}

bool gn_cring_publish(gn_cring *r)
{
    /* relaxed: only this thread stores tail */
    uint64_t old = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (old == r->ptail)
        return false;
    /* seq_cst: releases the record bytes to the consumer; ordered before
     * the claim load (wake-up contract in consumer_ring.h) */
    atomic_store(&r->tail, r->ptail);
    /* seq_cst: see above */
    return atomic_load(&r->claim) >= old;
}

/* ---------------------------------------------------------------- consumer */

uint32_t gn_cring_take(gn_cring *r, uint32_t max, uint64_t *first, uint64_t *end, bool *wake)
{
    /* Mark the batch as held before looking at records, so the producer
     * no longer moves head (and never overwrites what we read). */
    uint64_t h = atomic_load(&r->head);     /* seq_cst: CAS partner of reclaim */
    while (!atomic_compare_exchange_weak(&r->head, &h, h | BUSY))   /* seq_cst: as above */
        ;
    for (;;) {
        uint64_t c = atomic_load(&r->claim);    /* seq_cst: before the tail load (wake-up contract) */
        uint64_t t = atomic_load(&r->tail);     /* seq_cst: acquires the records before it */
        if (c >= t) {
            *wake = gn_cring_release(r);
            return 0;
        }
        uint64_t p = c;
        uint32_t n = 0;
        while (p < t && n < max) {
            const gn_event *ev = gn_cring_at(r, p);
            if (!gn_cring_is_pad(ev))
                n++;
            p += ev->size;
        }
        /* seq_cst: fails when the producer dropped the oldest meanwhile */
        if (atomic_compare_exchange_strong(&r->claim, &c, p)) {
            if (n == 0)
                continue;       /* only padding: held until release, look again */
            *first = c;
            *end = p;
            return n;
        }
    }
}

bool gn_cring_release(gn_cring *r)
{
    uint64_t h = atomic_load(&r->head);     /* seq_cst: CAS partner of reclaim */
    for (;;) {
        uint64_t c = atomic_load(&r->claim);    /* seq_cst: dropped records after the batch go too */
        /* seq_cst: releases our reads of the batch to the producer, and is
         * ordered before the prod_waiting load (Dekker with gn_cring_fits) */
        if (atomic_compare_exchange_weak(&r->head, &h, c << 1))
            break;
    }
    /* seq_cst: see above; exchange so one release wakes the shard once */
    return atomic_load(&r->prod_waiting) && atomic_exchange(&r->prod_waiting, 0);
}
