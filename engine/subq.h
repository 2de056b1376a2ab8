/* engine/subq.h — a session's queue of QoS >= 1 messages waiting behind its
 * in-flight window, in lanes: one lane per key (platform mode: one per
 * subscription, S-086; plain mode: a single lane, key 0). A lane may be
 * bounded: when it is full its own oldest message is dropped to make room,
 * so a burst on one subscription never takes another's share. Messages
 * come out in the order they went in across every lane (a sequence number
 * per message, a min-heap of lanes on their oldest one), so each
 * publisher's order holds whatever lanes its messages went to.
 *
 * Memory: a lane exists only while it holds messages (an idle subscription
 * costs nothing); its ring grows by doubling up to its bound and is freed
 * when it empties, except one small emptied ring kept for reuse (freed by
 * gn_subq_clear). A zeroed gn_subq is an empty queue.
 *
 * Ownership: the queue owns one reference of every message in it; a push
 * hands it the caller's, a pop hands it back, a drop or clear releases it.
 *
 * Threading: the owning session's shard only. */
#ifndef GN_ENGINE_SUBQ_H
#define GN_ENGINE_SUBQ_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/msg.h"
#include "engine/route.h"

/* A queued or in-flight outbound message. */
typedef struct gn_qent {
    gn_msg  *msg;
    uint16_t pid;               /* assigned when sent (QoS >= 1) */
    uint8_t  qos;               /* granted delivery QoS */
    uint8_t  flags;             /* GN_RD_RAP, GN_XF_RETAINED */
    uint8_t  state;             /* GN_QS_* */
    uint8_t  nsub;
    uint16_t pub_shard;         /* publisher to unblock when this queue drains */
    uint64_t pub;
    uint32_t sub_ids[GN_RD_MAX_SUB_IDS];
} gn_qent;

enum { GN_QS_FREE = 0, GN_QS_QUEUED, GN_QS_WAIT_ACK, GN_QS_WAIT_REC, GN_QS_WAIT_COMP };

typedef struct gn_subq_lane gn_subq_lane;   /* engine/subq.c */

typedef struct gn_subq {
    gn_subq_lane **heap;        /* lanes holding messages, min-heap on their oldest's sequence */
    uint32_t       nlanes, caplanes;
    uint32_t       count;       /* messages in every lane */
    uint64_t       next_seq;
    gn_subq_lane  *spare;       /* an emptied small lane, reused by the next new one */
} gn_subq;

/* Put e (its message reference moves to the queue) at the end of lane key.
 * cap: the most messages the lane holds (0: unbounded); a lane holding cap
 * drops its oldest first (references released). Returns the number of
 * messages dropped (1, or more when cap was lowered since the last push),
 * or -1 on no memory: the reference is still the caller's (drops made to
 * fit a lowered cap stay made). */
int gn_subq_push(gn_subq *q, uint64_t key, const gn_qent *e, uint32_t cap);

/* Take out the oldest message of the whole queue into *out (its reference
 * moves to the caller). False when the queue is empty. */
bool gn_subq_pop(gn_subq *q, gn_qent *out);

/* Messages in the queue / in lane key. */
static inline uint32_t gn_subq_count(const gn_subq *q) { return q->count; }
uint32_t gn_subq_lane_count(const gn_subq *q, uint64_t key);
/* Lanes holding messages. */
static inline uint32_t gn_subq_lanes(const gn_subq *q) { return q->nlanes; }

/* Call fn for every queued entry, lane by lane, each lane oldest first
 * (the order across lanes is not arrival order). fn must not change q. */
void gn_subq_each(const gn_subq *q, void (*fn)(void *ctx, const gn_qent *e), void *ctx);

/* Release every message and free all memory; the queue is empty after. */
void gn_subq_clear(gn_subq *q);

#endif
