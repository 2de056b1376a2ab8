/* engine/route.h — the engine's only door to the router (router/router.h):
 * subscriptions of sessions, matching a topic to deliveries, the retained
 * store, and the shard's reader registration / quiescent states.
 *
 * engine/route.c is the only engine file that includes router headers, so
 * the rest of the engine sees this one narrow interface; the delivery type
 * is mirrored here and route.c checks the layouts match.
 *
 * Threading: the calling shard's thread with its own gn_route_ctx; the
 * router itself is shared and lock-free for readers (writers serialise
 * inside the router). */
#ifndef GN_ENGINE_ROUTE_H
#define GN_ENGINE_ROUTE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/msg.h"

#define GN_RD_MAX_SUB_IDS 8

/* Mirrors router/types.h gn_delivery. */
typedef struct gn_rdeliv {
    uint64_t session;
    uint16_t shard;
    uint8_t  qos;
    uint8_t  flags;             /* GN_RD_* */
    uint8_t  nsub_ids;
    uint32_t sub_ids[GN_RD_MAX_SUB_IDS];
} gn_rdeliv;

/* Mirrors the router's GN_DELIVER_* flags the engine uses. */
enum {
    GN_RD_RAP    = 0x01,        /* keep the RETAIN flag (retain as published) */
    GN_RD_SHARED = 0x02,        /* picked from a shared group */
};

struct gn_router;
struct gn_rreader;

/* A shard's routing state. */
typedef struct gn_route_ctx {
    struct gn_router  *router;
    struct gn_rreader *reader;
    uint16_t           shard;
    gn_rdeliv         *buf;     /* match results (grows) */
    uint32_t           cap;
} gn_route_ctx;

/* Engine-wide router. share_hwm: a shared-group member whose queue depth
 * is at or above it is skipped by the picker while others are below. */
struct gn_router *gn_route_create(uint16_t nshards, uint32_t share_hwm);
void gn_route_destroy(struct gn_router *r);

/* Have fn(fctx, ptr) run after every shard passed a quiescent point, and
 * run what is due (never blocks). Any thread; r is a struct gn_router *
 * behind void * so callers can use these as plain callbacks. */
void gn_route_defer(void *r, void (*fn)(void *fctx, void *ptr), void *fctx, void *ptr);
void gn_route_reclaim(void *r);

/* On the shard thread. */
int  gn_route_reader_register(gn_route_ctx *rc, struct gn_router *r, uint16_t shard);
void gn_route_reader_unregister(gn_route_ctx *rc);
void gn_route_quiescent(gn_route_ctx *rc);     /* once per loop turn */
void gn_route_offline(gn_route_ctx *rc);       /* around a blocking wait */
void gn_route_online(gn_route_ctx *rc);

/* Wait for a grace period: every reader passed a quiescent state (or is
 * offline) since the call. Not on a shard thread. */
void gn_route_synchronize(struct gn_router *r);

/* Subscribe session sid (of this shard) to filter (checked by the caller)
 * with the SUBSCRIBE options byte and identifier (0: none). Returns the
 * SUBACK reason: the granted QoS or an MQTT 5 failure code. *existed: the
 * session already had this filter. */
uint8_t gn_route_subscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len,
                           uint8_t opts, uint32_t sub_id, const _Atomic uint32_t *depth,
                           bool *existed);
/* Free a queue-depth counter handed to gn_route_subscribe after every
 * reader has passed a quiescent point (the caller left every group). */
void gn_route_free_depth(gn_route_ctx *rc, _Atomic uint32_t *depth);
/* Returns true when the subscription existed. */
bool gn_route_unsubscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len);

/* Match a topic name published by session pub (0: none; used for No
 * Local): returns the number of deliveries, in rc->buf (valid until the
 * next call). */
size_t gn_route_match(gn_route_ctx *rc, const uint8_t *topic, size_t len, uint64_t pub,
                      const gn_rdeliv **out);

/* Shared-group re-pick, on the shard of session `full`, which was picked
 * for a delivery of `topic` (published by `pub`, 0: none) but cannot take
 * it without pausing the publisher or dropping: pick another member of the
 * first group matching topic that has `full` as a member, round robin over
 * the members under the router's high-water mark (any: when none is, the
 * least loaded other member — for a member whose session ends, which can
 * keep nothing). Returns true and fills *out (the member's session, shard
 * and subscription options, GN_RD_SHARED set); false when no other member
 * can take it (the caller delivers to `full`). Costs one match of the
 * topic; only called for overloaded or departing members. */
bool gn_route_repick(gn_route_ctx *rc, const uint8_t *topic, size_t len, uint64_t pub,
                     uint64_t full, bool any, gn_rdeliv *out);

/* Retained store: msg NULL deletes. The store takes its own reference. */
void gn_route_retain(gn_route_ctx *rc, const uint8_t *topic, size_t len, gn_msg *msg);
/* Call fn for every retained message matching filter (a reference valid
 * during the call). */
void gn_route_retained(gn_route_ctx *rc, const uint8_t *filter, size_t len,
                       void (*fn)(void *ctx, gn_msg *m), void *ctx);

#endif
