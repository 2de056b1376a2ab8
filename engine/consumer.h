/* engine/consumer.h — consumers inside the engine: the consumer object
 * (one gn_cring per shard, the eventfd, its router subscription), the
 * engine's consumer table, the shard-side delivery into the rings
 * (engine/consumer_shard.c) and the in-process publish queue.
 *
 * A consumer subscribes in the shared router like a session, under a
 * session id with GN_CONSUMER_SID set (real session ids keep the shard in
 * bits 48..63, and shards are < 256, so the bit never collides); a group
 * subscribes as "$share/<group>/<filter>" and is balanced by the router's
 * shared-group picker.
 *
 * Threading:
 *   gn_consumer fields marked "controller" are written by gn_consumer_open /
 *   close only; rings[i] is produced by shard i and consumed by the consumer
 *   thread (an inline consumer's: by shard i too, which takes and releases
 *   what it published and calls on_events); side[i] belongs to shard i's
 *   thread only. The table slot is
 *   published (release) before the subscription and cleared after every
 *   shard acknowledged the close, so a shard that finds a consumer session
 *   id in a match always finds the consumer alive. */
#ifndef GN_ENGINE_CONSUMER_H
#define GN_ENGINE_CONSUMER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "codec/packet.h"
#include "engine/consumer_ring.h"
#include "engine/msg.h"
#include "engine/route.h"

#define GN_CONSUMER_SID   (UINT64_C(1) << 63)
#define GN_CONSUMERS_MAX  1024u
#define GN_INPROC_MAX     65536u     /* gn_engine_publish messages waiting */

typedef struct gn_shard gn_shard;
typedef struct gn_conn gn_conn;
typedef struct gn_session gn_session;

static inline bool gn_consumer_sid(uint64_t sid) { return (sid & GN_CONSUMER_SID) != 0; }

/* Shard-side state of one (consumer, shard) pair: touched by that shard only. */
typedef struct gn_cside {
    uint64_t *wait;              /* publishers (session ids) paused by the full ring */
    uint32_t  nwait, capwait;
    gn_msg  **ovf;               /* block mode: messages without a socket to pause
                                    (wills, gn_engine_publish) waiting for room, in order */
    uint32_t  novf, capovf;
    bool      acked;             /* close acknowledged: never touched again */
    uint64_t  repick_ms;         /* group member: last time waiters were let re-pick */
} gn_cside;

struct gn_consumer {
    gn_engine       *eng;              /* controller */
    uint32_t         idx;              /* controller: table slot */
    uint64_t         sid;              /* controller: GN_CONSUMER_SID | idx */
    int              efd;              /* eventfd, written by shards on empty -> non-empty */
    bool             block;
    bool             grouped;          /* controller: member of a group (depth is a picker hint) */
    uint16_t         nrings;
    uint16_t         next_ring;        /* consumer thread: round robin of poll */
    uint64_t         spin_ns;          /* controller: gn_consumer_wait watches the rings this long */
    bool             wake_yield;    /* controller: GN_WAKE_YIELD */
    gn_events_fn     on_events;        /* controller: inline consumer (run on the shards), else NULL */
    void            *on_events_arg;    /* controller */
    /* The CPU the consumer thread last went to sleep on in gn_consumer_wait
     * (-1: never): relaxed store by the consumer, relaxed load by shards
     * after writing the eventfd; a placement hint, it orders nothing. */
    _Atomic int32_t  wait_cpu;
    char            *sub_filter;       /* controller: what was subscribed in the router */
    size_t           sub_len;
    _Atomic uint32_t closing;          /* seq_cst: set by close after unsubscribing; read by shards each turn */
    _Atomic uint32_t acks;             /* seq_cst: shards that acknowledged closing */
    /* Group members: the fullest ring's fill scaled so that half full is the
     * router's share high-water mark (max_queued_messages / 2): the picker
     * skips a member at or over it while others are below. Relaxed stores by
     * any shard, relaxed loads by pickers: a load hint, it orders nothing. */
    _Atomic uint32_t depth;
    gn_cside        *side;             /* [nrings] */
    gn_cring         rings[];          /* [nrings] */
};

/* In-process publishes waiting for shard 0 (gn_engine_publish): a FIFO
 * ring of cap slots (a power of two, grown by doubling), oldest at head;
 * everything but pending is guarded by mu. */
typedef struct gn_inproc {
    pthread_mutex_t mu;
    gn_msg        **v;
    uint32_t        head, n, cap;
    _Atomic uint32_t pending;          /* relaxed hint: n != 0, read by the shard every turn */
} gn_inproc;

/* Under q->mu: append m (0), or -1 when out of memory. */
int      gn_inproc_push(gn_inproc *q, gn_msg *m);
/* Under q->mu: move up to max oldest messages into out; returns how many. */
uint32_t gn_inproc_pop(gn_inproc *q, gn_msg **out, uint32_t max);

/* The engine's consumers (gn_engine.consumers). */
typedef struct gn_cset {
    _Atomic(gn_consumer *) slot[GN_CONSUMERS_MAX];   /* acquire by shards, release by the controller */
    _Atomic uint32_t       nslots;     /* release by the controller: slots in use are below it */
    _Atomic bool           running;    /* release by the controller around start / stop; acquire by gn_engine_publish */
    gn_inproc              inproc;
} gn_cset;

/* Engine lifecycle (engine/consumer.c). */
int  gn_cset_create(gn_engine *e);
void gn_cset_destroy(gn_engine *e);     /* closes the consumers still open */
/* Controller, engine stopped, before a restart: every open consumer is
 * subscribed in the new router and its shard sides are reset. */
int  gn_consumers_rearm(gn_engine *e, char *err, size_t errlen);
/* Controller: gn_engine_publish accepts messages only while running. */
void gn_consumers_set_running(gn_engine *e, bool running);

/* ---- shard side (engine/consumer_shard.c), on shard s's thread ---- */

/* Consumer deliveries of an MQTT PUBLISH received on c. Returns the number
 * of non-consumer deliveries left in dl (for the session path), or -1 when
 * a block-mode ring has no room: nothing was delivered, c->replay is set,
 * the publisher is paused until the ring drains. */
long gn_consumer_on_publish(gn_shard *s, gn_conn *c, gn_session *ss, const gn_publish *pub,
                            const gn_rdeliv *dl, size_t n);
/* Consumer deliveries of a message without a socket (will, in-process
 * publish): written now, or queued behind a full block-mode ring. */
void gn_consumer_on_msg(gn_shard *s, gn_msg *m, const gn_rdeliv *dl, size_t n);
/* Once per loop turn: in-process publishes (shard 0), overflow, publish
 * the rings written this turn (eventfd on empty -> non-empty), resume
 * publishers of rings that drained, acknowledge closing consumers.
 * Returns true when work is left that no wake-up will announce. */
bool gn_consumers_turn(gn_shard *s);
/* The shard is exiting: release everything its sides hold. */
void gn_consumers_shard_fini(gn_shard *s);

#endif
