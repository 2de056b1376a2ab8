/* engine/spsc_ring.c — the bounded SPSC ring between two shards.
 *
 * head counts slots ever pushed (written by the producer), tail counts slots
 * ever popped (written by the consumer); both are free-running 32-bit
 * counters, so head - tail is the fill level even across wrap-around, and
 * index & mask is the slot. Each side caches the other's counter and
 * reloads it only when the cached value says full / empty, which keeps the
 * shared cache lines from bouncing on every operation.
 *
 * Orderings: the slot bytes are published by the head store (release) and
 * taken by the consumer's head load (acquire); the consumer returns slots to
 * the producer with the tail store (release) read by the producer's tail
 * load (acquire). The wake-up contract in spsc_ring.h additionally needs
 * "store my index, then load the other's" not to be reordered on either
 * side (a Dekker pattern), so those two stores and the two fresh loads that
 * follow them are seq_cst: either the consumer's emptiness check sees the
 * new head, or the producer's check sees the consumer's final tail and
 * reports was_empty. seq_cst atomics rather than fences, because TSan does
 * not model standalone fences. */
#include "engine/spsc_ring.h"

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_LINE 64

struct gn_spsc_ring {
    /* read-only after create */
    alignas(CACHE_LINE) uint32_t mask;
    uint32_t capacity;
    uint32_t slot_size;
    unsigned char *slots;

    /* producer's line */
    alignas(CACHE_LINE) _Atomic uint32_t head;
    uint32_t tail_cache;       /* producer's last view of tail */

    /* consumer's line */
    alignas(CACHE_LINE) _Atomic uint32_t tail;
    uint32_t head_cache;       /* consumer's last view of head */
};

gn_spsc_ring *gn_spsc_create(uint32_t capacity, uint32_t slot_size)
{
    if (capacity < 2 || capacity > GN_SPSC_MAX_CAPACITY || (capacity & (capacity - 1)) != 0 ||
        slot_size < 8 || slot_size > GN_SPSC_MAX_SLOT || slot_size % 8 != 0) {
        errno = EINVAL;
        return NULL;
    }
    gn_spsc_ring *r = aligned_alloc(CACHE_LINE, sizeof *r);
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    memset(r, 0, sizeof *r);
    size_t bytes = (size_t)capacity * slot_size;
    r->slots = aligned_alloc(CACHE_LINE, (bytes + CACHE_LINE - 1) / CACHE_LINE * CACHE_LINE);
    if (r->slots == NULL) {
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    r->mask = capacity - 1;
    r->capacity = capacity;
    r->slot_size = slot_size;
    /* Relaxed: no other thread sees the ring before create returns. */
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return r;
}

void gn_spsc_destroy(gn_spsc_ring *r)
{
    if (r == NULL)
        return;
    free(r->slots);
    free(r);
}

uint32_t gn_spsc_capacity(const gn_spsc_ring *r) { return r->capacity; }
uint32_t gn_spsc_slot_size(const gn_spsc_ring *r) { return r->slot_size; }

/* Copy n slots between the ring at index idx and a linear array; at most
 * two memcpy calls (before and after the wrap). */
static void copy_in(gn_spsc_ring *r, uint32_t idx, const unsigned char *src, uint32_t n)
{
    uint32_t at = idx & r->mask;
    uint32_t first = r->capacity - at < n ? r->capacity - at : n;
    memcpy(r->slots + (size_t)at * r->slot_size, src, (size_t)first * r->slot_size);
    if (first < n)
        memcpy(r->slots, src + (size_t)first * r->slot_size, (size_t)(n - first) * r->slot_size);
}

static void copy_out(const gn_spsc_ring *r, uint32_t idx, unsigned char *dst, uint32_t n)
{
    uint32_t at = idx & r->mask;
    uint32_t first = r->capacity - at < n ? r->capacity - at : n;
    memcpy(dst, r->slots + (size_t)at * r->slot_size, (size_t)first * r->slot_size);
    if (first < n)
        memcpy(dst + (size_t)first * r->slot_size, r->slots, (size_t)(n - first) * r->slot_size);
}

uint32_t gn_spsc_push_n(gn_spsc_ring *r, const void *slots, uint32_t n, bool *was_empty)
{
    if (n == 0)
        return 0;
    /* Relaxed: only this thread writes head. */
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t free_slots = r->capacity - (head - r->tail_cache);
    if (free_slots < n) {
        /* Acquire: pairs with the consumer's tail store, so the slots it
         * returned are no longer being read when we overwrite them. */
        r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
        free_slots = r->capacity - (head - r->tail_cache);
        if (free_slots == 0)
            return 0;
        if (n > free_slots)
            n = free_slots;
    }
    copy_in(r, head, slots, n);
    /* seq_cst store (release part): publishes the slot bytes to the
     * consumer's head load; seq_cst part: ordered before the tail load below
     * (the wake-up Dekker pair with the consumer's tail store / head load). */
    atomic_store_explicit(&r->head, head + n, memory_order_seq_cst);
    if (was_empty != NULL) {
        /* seq_cst: see the store above; acquire part as for the refresh. */
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_seq_cst);
        r->tail_cache = tail;
        *was_empty = (tail == head);
    }
    return n;
}

bool gn_spsc_push(gn_spsc_ring *r, const void *slot, bool *was_empty)
{
    return gn_spsc_push_n(r, slot, 1, was_empty) == 1;
}

uint32_t gn_spsc_free_space(gn_spsc_ring *r)
{
    /* Relaxed: own counter. Acquire: pairs with the consumer's tail store. */
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
    return r->capacity - (head - r->tail_cache);
}

uint32_t gn_spsc_pop_n(gn_spsc_ring *r, void *slots, uint32_t max)
{
    unsigned char *dst = slots;
    uint32_t got = 0;
    /* Relaxed: only this thread writes tail. */
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    while (got < max) {
        uint32_t avail = r->head_cache - tail;
        if (avail < max - got) {
            /* seq_cst load (acquire part): pairs with the producer's head
             * store so the slot bytes are visible; seq_cst part: ordered
             * after our last tail store (the wake-up Dekker pair), so when
             * nothing more is found here the producer's next push sees
             * that tail and reports was_empty. */
            r->head_cache = atomic_load_explicit(&r->head, memory_order_seq_cst);
            avail = r->head_cache - tail;
            if (avail == 0)
                break;
        }
        uint32_t n = avail < max - got ? avail : max - got;
        copy_out(r, tail, dst + (size_t)got * r->slot_size, n);
        tail += n;
        got += n;
        /* seq_cst store (release part): the slots are read, the producer
         * may reuse them; seq_cst part: the Dekker pair described above.
         * When got < max the loop re-reads head after this store, so a
         * short return also satisfies the wake-up contract. */
        atomic_store_explicit(&r->tail, tail, memory_order_seq_cst);
    }
    return got;
}

bool gn_spsc_pop(gn_spsc_ring *r, void *slot)
{
    return gn_spsc_pop_n(r, slot, 1) == 1;
}

uint32_t gn_spsc_count(gn_spsc_ring *r)
{
    /* Relaxed: own counter. Acquire: pairs with the producer's head store. */
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
    return r->head_cache - tail;
}
