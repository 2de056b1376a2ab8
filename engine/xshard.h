/* engine/xshard.h — cross-shard messages: one bounded SPSC ring per ordered
 * pair of shards, filled in batches during a loop turn and pushed at its
 * end; the target is woken (transport wake = IORING_OP_MSG_RING) only when
 * its ring went from empty to non-empty. When a ring is full the batch
 * stays in the sender's overflow array (bounded by what one turn reads,
 * since publishers whose targets are full stop being read) and is retried
 * next turn.
 *
 * Slot ownership: a slot carries one gn_msg reference (DELIVER, RETAINED),
 * or one heap object (HANDOFF) from producer to consumer.
 *
 * Threading: gn_xshard of shard S is used by S's thread only; ring in[i]
 * is consumed by S and produced by shard i; out[j] is produced by S. */
#ifndef GN_ENGINE_XSHARD_H
#define GN_ENGINE_XSHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/msg.h"
#include "engine/route.h"
#include "engine/spsc_ring.h"

typedef struct gn_shard gn_shard;

enum gn_xkind {
    GN_X_DELIVER = 1,   /* deliver msg to session `session` */
    GN_X_HANDOFF,       /* adopt a connection (ptr = gn_handoff *) */
    GN_X_BLOCK,         /* a target of session `pub` is full: stop reading it */
    GN_X_UNBLOCK,       /* ...it drained: resume */
};

/* Subscription identifiers a slot carries: the router's bound
 * (GN_RD_MAX_SUB_IDS), so a cross-shard delivery keeps every identifier a
 * local one keeps; with it a slot is exactly one 64-byte cache line. */
#define GN_X_SUBIDS GN_RD_MAX_SUB_IDS

/* 64 bytes. */
typedef struct gn_xslot {
    uint8_t  kind;
    uint8_t  qos;
    uint8_t  flags;          /* GN_RD_* from the router, + GN_XF_* */
    uint8_t  nsub;
    uint16_t pub_shard;      /* publisher's shard (BLOCK/UNBLOCK target, backpressure) */
    uint16_t pad;
    uint64_t session;        /* target session id on the consumer shard */
    uint64_t pub;            /* publisher session id (0: none) */
    void    *ptr;            /* gn_msg * or gn_handoff * */
    uint32_t sub_ids[GN_X_SUBIDS];
} gn_xslot;

/* Extra slot flags (above the router's GN_RD_* bits). */
enum {
    GN_XF_RETAINED = 0x20,   /* delivery of a retained message on subscribe */
    GN_XF_REPICKED = 0x40,   /* a shared-group delivery already moved once: place it, never move again */
};

/* A connection moving to the client id's owner shard before CONNECT is
 * processed: the socket and every byte received so far. */
typedef struct gn_handoff {
    int      fd;
    uint32_t len;
    struct gn_stream *stream;   /* TLS / WebSocket state, or NULL (moves with the socket) */
    uint8_t  data[];
} gn_handoff;

typedef struct gn_xbatch {
    gn_xslot *v;
    uint32_t  n, cap;
} gn_xbatch;

/* Upper cap on pending slots for one target: a publisher that adds more is
 * paused until every batch went out (cross-shard backpressure). In practice
 * gn_xshard_throttle pauses it sooner, when the pending slots no longer fit
 * in the target's ring. */
#define GN_XPEND_HIGH 2048u

typedef struct gn_xshard {
    gn_spsc_ring **in;       /* in[i]: from shard i (NULL for i == self) */
    gn_spsc_ring **out;      /* out[j]: to shard j (the same objects as shard j's in[self]) */
    gn_xbatch     *pend;     /* pend[j]: slots waiting to be pushed to j */
    uint32_t       npend;    /* shards with pending slots */
    uint64_t      *held;     /* publishers (session ids here) paused by full rings */
    uint32_t       nheld, capheld;
} gn_xshard;

/* Fill *sl as the DELIVER slot of router delivery d of m, published by
 * session pub of shard pub_shard; takes a reference on m for the slot. */
void gn_xslot_deliver(gn_xslot *sl, const gn_rdeliv *d, gn_msg *m, uint16_t pub_shard, uint64_t pub);
/* Queue a slot for shard `to` (pushed at the end of the turn). Returns -1 on
 * allocation failure (the caller still owns the slot's reference). */
int  gn_xshard_put(gn_shard *s, uint16_t to, const gn_xslot *slot);
/* A delivery to shard `to` was just queued by publisher pub (0: none):
 * pause pub when what is pending for that target no longer fits in its
 * ring, or is past GN_XPEND_HIGH. */
void gn_xshard_throttle(gn_shard *s, uint16_t to, uint64_t pub);
/* Push pending batches; wake targets whose ring was empty; resume the
 * publishers paused by full rings once nothing is pending. Returns true
 * when something is still pending (ring full). */
bool gn_xshard_push(gn_shard *s);
/* Drain inbound rings (bounded per call); returns slots processed. */
uint32_t gn_xshard_drain(gn_shard *s);
/* Slots pending anywhere for this shard's outbound rings. */
bool gn_xshard_pending(const gn_shard *s);

/* Engine-wide ring setup (rings shared between shards). */
int  gn_xshard_setup(gn_shard *shards, uint16_t n, uint32_t ring_slots);
void gn_xshard_teardown(gn_shard *shards, uint16_t n);

/* Consumer side: handle one slot (engine/deliver.c, engine/mqtt_connect.c). */
void gn_xshard_handle(gn_shard *s, uint16_t from, gn_xslot *slot);

#endif
