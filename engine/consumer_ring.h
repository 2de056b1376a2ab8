/* engine/consumer_ring.h — the ring behind one (consumer, shard) pair:
 * variable-length event records stored inline (gn_event header, topic,
 * client id, payload), 8-byte aligned, in a power-of-two byte buffer. A
 * record never wraps: when it does not fit before the end of the buffer a
 * padding record fills the rest and the record starts at offset 0.
 *
 * Positions are 64-bit byte counters that only grow (no ABA):
 *   tail   end of what the producer published (records before it are whole)
 *   claim  first record not yet handed to the consumer
 *   head   start of what the producer may not overwrite, packed as
 *          pos << 1 | busy, busy = the consumer holds a batch [head, claim)
 * Invariant: head.pos <= claim <= tail (+ unpublished ptail on the producer).
 *
 * Backpressure:
 *   block        the producer never drops; gn_cring_reserve says "full" and
 *                the shard stops reading the publisher (engine/consumer_shard.c)
 *   drop-oldest  the producer advances claim past the oldest records the
 *                consumer has not taken (CAS, so it never races a batch
 *                being claimed), counting each one; when the consumer holds
 *                every record in its current batch the new record is dropped
 *                instead (also counted). head moves past dropped records
 *                when no batch is held (producer) or at release (consumer).
 *
 * Wake-up contract (as engine/spsc_ring.h): tail is published and claim
 * re-read with seq_cst operations, and the consumer reads claim then tail
 * with seq_cst loads; so if gn_cring_take finds the ring empty, the first
 * later publication reports was_empty and the shard writes the consumer's
 * eventfd. A batch that took everything promises nothing: take again
 * before sleeping.
 *
 * Threading: exactly one producer (the shard thread) calls the producer
 * functions, one consumer thread at a time calls take/release. */
#ifndef GN_ENGINE_CONSUMER_RING_H
#define GN_ENGINE_CONSUMER_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/gannet.h"

#define GN_CRING_MIN_BYTES (64u * 1024u)
#define GN_CRING_MAX_BYTES (1u << 30)

/* A padding record (up to the buffer end, possibly only 8 bytes) is marked
 * in its first 8 bytes: size, then payload_len == GN_CRING_PAD. */
#define GN_CRING_PAD UINT32_MAX

static inline bool gn_cring_is_pad(const gn_event *ev) { return ev->payload_len == GN_CRING_PAD; }

typedef struct gn_cring {
    /* --- producer's line (shard thread) */
    _Alignas(64) _Atomic uint64_t tail;   /* release/seq_cst by the producer: records before it are whole */
    uint64_t ptail;                       /* producer-local: written but not yet published */
    uint64_t head_cache;                  /* producer-local: last head.pos seen */
    _Atomic uint64_t written;             /* relaxed: events placed (statistics, single writer) */
    _Atomic uint64_t dropped;             /* relaxed: events dropped by drop-oldest (single writer) */
    _Atomic uint64_t oversize;            /* relaxed: events larger than half the ring (single writer) */
    _Atomic uint64_t signals;             /* relaxed: eventfd writes for this ring (statistics, single writer) */
    _Atomic uint64_t yields;              /* relaxed: of those, with the consumer asleep on the shard's CPU */
    bool     drop_oldest;
    /* --- shared, written by both sides */
    _Alignas(64) _Atomic uint64_t claim;  /* seq_cst CAS by consumer (take) and producer (drop) */
    _Alignas(64) _Atomic uint64_t head;   /* seq_cst CAS by consumer (take/release) and producer (reclaim) */
    _Atomic uint32_t prod_waiting;        /* seq_cst: set by a blocked producer, tested after release */
    /* --- read-only after create */
    _Alignas(64) uint8_t *buf;
    uint64_t cap, mask;
} gn_cring;

/* Size rounded up to a power of two in [GN_CRING_MIN_BYTES, GN_CRING_MAX_BYTES]. */
int  gn_cring_init(gn_cring *r, uint64_t bytes, bool drop_oldest);
void gn_cring_fini(gn_cring *r);

/* Bytes a record with these parts takes in the ring (8-aligned). */
static inline uint64_t gn_cring_record_size(uint32_t topic_len, uint32_t cid_len, uint32_t payload_len)
{
    return ((uint64_t)sizeof(gn_event) + topic_len + 1u + cid_len + 1u + payload_len + 7u) & ~(uint64_t)7u;
}

/* ---------------------------------------------------------------- producer */

/* Is there room for a record of `size` bytes now (block mode check)? When
 * not, arms prod_waiting so the consumer's next release wakes the shard,
 * then re-checks once. Never drops. */
bool gn_cring_fits(gn_cring *r, uint64_t size);

/* Reserve `size` bytes for one record and return where to write it
 * (8-aligned, contiguous), or NULL: block mode and no room, or drop-oldest
 * with every record held by the consumer (the new record was counted as
 * dropped). Records larger than cap/2 are refused and counted as oversize.
 * The record becomes visible at gn_cring_publish. */
gn_event *gn_cring_reserve(gn_cring *r, uint64_t size);

/* Publish everything reserved so far. Returns true when the consumer had
 * taken everything before (it may be asleep: write its eventfd). */
bool gn_cring_publish(gn_cring *r);

/* Unpublished records are waiting (the shard publishes them this turn). */
static inline bool gn_cring_dirty(const gn_cring *r)
{
    /* relaxed: the producer reads its own last store */
    return r->ptail != atomic_load_explicit(&r->tail, memory_order_relaxed);
}

/* Free bytes as the producer sees them (refreshes head). */
uint64_t gn_cring_free(gn_cring *r);

/* ---------------------------------------------------------------- consumer */

/* Claim up to max records (padding excluded) starting at the oldest the
 * consumer has not taken: *first is the first record's position, *end the
 * batch end. Returns the number of events (0: empty, nothing held; *wake
 * then says whether a blocked producer must be woken). The consumer owns
 * [first, end) until gn_cring_release. */
uint32_t gn_cring_take(gn_cring *r, uint32_t max, uint64_t *first, uint64_t *end, bool *wake);

/* Records may be waiting (claim < tail): a cheap check for a spinning
 * consumer, no CAS; gn_cring_take decides. */
static inline bool gn_cring_nonempty(gn_cring *r)
{
    /* relaxed claim (only the consumer and drops move it forward) then
     * acquire tail: a hint, take's seq_cst loads order the real claim */
    uint64_t c = atomic_load_explicit(&r->claim, memory_order_relaxed);
    return c < atomic_load_explicit(&r->tail, memory_order_acquire);
}

/* Give the batch back. Returns true when a blocked producer asked to be
 * woken (the caller wakes the shard). */
bool gn_cring_release(gn_cring *r);

/* The record at position pos (within a taken batch). */
static inline gn_event *gn_cring_at(const gn_cring *r, uint64_t pos)
{
    return (gn_event *)(void *)(r->buf + (pos & r->mask));
}

#endif
