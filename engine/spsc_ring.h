/* engine/spsc_ring.h — bounded single-producer / single-consumer ring of
 * fixed-size slots, the channel between two shards (one ring per ordered
 * pair of shards).
 *
 * Slots are copied in and out by value (slot_size bytes, a multiple of 8,
 * at most GN_SPSC_MAX_SLOT): a pointer, or a small struct such as
 * { kind, gn_msg *, extra }. Capacity is a power of two. The producer's and
 * the consumer's indices live on separate cache lines, each side keeps a
 * cached copy of the other's index and only reloads it when the cached
 * value says full (producer) or empty (consumer). push_n / pop_n move a
 * batch with at most two memcpy calls and one index publication.
 *
 * Wake-up contract (how a shard knows to send IORING_OP_MSG_RING):
 * every push reports was_empty = true when the consumer had already taken
 * everything pushed before this batch. Indices are published and re-read
 * with sequentially consistent operations on both sides, which gives:
 *   if a pop / pop_n returns fewer slots than asked for (0 included: it
 *   found the ring empty), the first later push whose slots it did not
 *   take reports was_empty.
 * So a consumer that drains each ring until a pop_n comes back short and
 * then blocks in the kernel is always woken by the producer that sends a
 * wake-up on was_empty. (A pop_n that returns exactly max promises
 * nothing: call again before blocking.) A push that reports
 * was_empty = false needs no wake-up.
 *
 * Threading: exactly one producer thread calls the push functions and
 * exactly one consumer thread calls the pop functions, concurrently.
 * create/destroy are called when no other thread uses the ring. The ring
 * copies bytes only: ownership of anything a slot points to (e.g. a
 * gn_msg reference) passes from producer to consumer with the slot. */
#ifndef GN_ENGINE_SPSC_RING_H
#define GN_ENGINE_SPSC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_SPSC_MAX_SLOT     64u          /* largest slot_size */
#define GN_SPSC_MAX_CAPACITY (1u << 24)   /* largest capacity (slots) */

typedef struct gn_spsc_ring gn_spsc_ring;

/* Allocate a ring of `capacity` slots (power of two, 2 .. GN_SPSC_MAX_CAPACITY)
 * of `slot_size` bytes (multiple of 8, 8 .. GN_SPSC_MAX_SLOT). Returns NULL
 * on a bad argument (errno EINVAL) or out of memory (ENOMEM). */
gn_spsc_ring *gn_spsc_create(uint32_t capacity, uint32_t slot_size);

/* Free the ring. Slots still queued are discarded without being looked at:
 * drain it first if they own references. NULL is accepted. */
void gn_spsc_destroy(gn_spsc_ring *r);

uint32_t gn_spsc_capacity(const gn_spsc_ring *r);
uint32_t gn_spsc_slot_size(const gn_spsc_ring *r);

/* ------------------------------------------------------------ producer */

/* Copy one slot in. Returns false when the ring is full (nothing written;
 * *was_empty untouched). was_empty may be NULL. */
bool gn_spsc_push(gn_spsc_ring *r, const void *slot, bool *was_empty);

/* Copy up to n slots (contiguous array, n * slot_size bytes) in, in order.
 * Returns how many were pushed (0 .. n; fewer when the ring fills). When at
 * least one was pushed, *was_empty (may be NULL) tells whether the
 * consumer had emptied the ring before this batch. */
uint32_t gn_spsc_push_n(gn_spsc_ring *r, const void *slots, uint32_t n, bool *was_empty);

/* Free slots as seen by the producer (exact lower bound: the consumer may
 * have freed more since). */
uint32_t gn_spsc_free_space(gn_spsc_ring *r);

/* ------------------------------------------------------------ consumer */

/* Copy the oldest slot out. Returns false when the ring is empty. */
bool gn_spsc_pop(gn_spsc_ring *r, void *slot);

/* Copy up to max oldest slots out into a contiguous array, in order.
 * Returns how many were taken (0 when empty); a short count means the ring
 * was seen empty after them (see the wake-up contract above). */
uint32_t gn_spsc_pop_n(gn_spsc_ring *r, void *slots, uint32_t max);

/* Slots waiting, as seen by the consumer (exact lower bound). */
uint32_t gn_spsc_count(gn_spsc_ring *r);

#endif
