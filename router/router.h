/* router/router.h — the router as the engine sees it: one shared,
 * lock-free topic router per process (subscriptions, shared groups,
 * per-thread match caches, retained messages).
 *
 * Threading rules
 * - gn_router_create / gn_router_destroy: one thread, no other call running.
 * - Reader threads (the shards) each register once with
 *   gn_router_reader_register and then call gn_router_match and
 *   gn_router_retained_lookup freely: no lock, never blocks on a writer.
 *   Each reader must call gn_router_quiescent regularly (once per event-loop
 *   iteration) and gn_router_offline before blocking for long; pointers
 *   obtained during a match (retained message handles) are valid until then.
 *   A reader handle is used only by the thread that registered it.
 * - Writers (subscribe/unsubscribe, group joins, retain) may run on any
 *   thread, including reader threads; they serialise on one internal mutex
 *   and never wait for readers (memory is reclaimed later through QSBR, see
 *   router/qsbr.h). gn_router_synchronize is the only call that waits.
 * - Everything a writer unlinks is freed after a grace period by whichever
 *   thread runs reclamation (writers poll it every few operations;
 *   gn_router_reclaim runs it on demand).
 *
 * Ownership: the router copies filter and topic bytes; it never keeps a
 * pointer to caller memory except the queue-depth counters of shared-group
 * members and retained message handles (see below). */
#ifndef GN_ROUTER_ROUTER_H
#define GN_ROUTER_ROUTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/topic.h"
#include "router/qsbr.h"
#include "router/retained.h"
#include "router/share.h"
#include "router/types.h"

typedef struct gn_router gn_router;
typedef struct gn_router_reader gn_router_reader;

/* gn_router_match's publisher when the message has no publishing session
 * (no-local never applies). */
#define GN_ROUTER_NO_PUBLISHER UINT64_MAX

typedef struct gn_router_config {
    unsigned max_readers;       /* reader threads that may register; default 64 */
    uint32_t cache_slots;       /* per-reader match cache slots (power of 2); 0 = default 4096 */
    bool     cache_disabled;    /* no match cache (benchmarks, tests) */
    uint32_t share_hwm;         /* shared-group member queue high-water mark; default 1024 */
    gn_share_pick_fn share_pick;/* member picker; default gn_share_pick_local_rr */
} gn_router_config;

/* Who a subscription delivers to. */
typedef struct gn_subscriber {
    uint64_t session;           /* engine-defined; unique per live session */
    uint16_t shard;             /* shard owning the session */
    /* Shared subscriptions only: the member's outbound queue depth (engine
     * keeps it current; relaxed). Must stay valid until the member left the
     * group and a grace period passed (gn_router_defer_free). May be NULL. */
    const _Atomic uint32_t *queue_depth;
} gn_subscriber;

typedef struct gn_router_stats {
    uint64_t nodes;             /* subscription trie nodes */
    uint64_t subscriptions;     /* ordinary subscriptions + shared-group memberships */
    uint64_t groups;            /* shared (group, filter) entries */
    uint64_t retained;          /* retained messages stored */
    uint64_t retained_nodes;
    uint64_t bytes;             /* heap bytes held by trie, groups, retained store */
    uint64_t generation;        /* subscription generation */
    uint64_t reclaim_pending;   /* objects waiting for a grace period */
} gn_router_stats;

typedef struct gn_router_reader_stats {
    uint64_t matches;
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t cache_bytes;
} gn_router_reader_stats;

/* cfg may be NULL (defaults). NULL on allocation failure. */
gn_router *gn_router_create(const gn_router_config *cfg);
/* Frees everything, running retained destructors. Readers must have
 * unregistered. */
void gn_router_destroy(gn_router *r);

/* Reader threads. register: the calling thread becomes an online reader
 * matching on behalf of `shard` (used by the shared-group picker). */
gn_router_reader *gn_router_reader_register(gn_router *r, uint16_t shard);
void gn_router_reader_unregister(gn_router_reader *rd);
/* Turn this reader's match cache on or off (benchmarks, tests). Off frees
 * it; on creates it with the configured slot count. GN_ROUTER_ERR_NOMEM if
 * it cannot be created. */
gn_rerr gn_router_reader_cache_enable(gn_router_reader *rd, bool on);
void gn_router_quiescent(gn_router_reader *rd);
void gn_router_offline(gn_router_reader *rd);
void gn_router_online(gn_router_reader *rd);

/* Subscribe `who` to a filter (validated here; "$share/{name}/{filter}"
 * joins the shared group "$share/{name}"). A second subscribe of the same
 * session to the same filter replaces its options (MQTT 3.8.4).
 * *replaced (may be NULL) tells which happened. */
gn_rerr gn_router_subscribe(gn_router *r, const uint8_t *filter, size_t len,
                            const gn_subscriber *who, const gn_sub_opts *opts, bool *replaced);
/* Remove the session's subscription to the filter ($share/... leaves the
 * group). GN_ROUTER_ERR_NOT_FOUND if it had none. */
gn_rerr gn_router_unsubscribe(gn_router *r, const uint8_t *filter, size_t len, uint64_t session);

/* Platform groups: join/leave the group named `group` (any bytes, e.g.
 * "A:org:app") for an ordinary filter. Group names share one namespace with
 * "$share/{name}" groups. */
gn_rerr gn_router_group_subscribe(gn_router *r, const uint8_t *group, size_t glen,
                                  const uint8_t *filter, size_t flen, const gn_subscriber *who,
                                  const gn_sub_opts *opts, bool *replaced);
gn_rerr gn_router_group_unsubscribe(gn_router *r, const uint8_t *group, size_t glen,
                                    const uint8_t *filter, size_t flen, uint64_t session);

/* Match a topic name. levels: the topic already split by gn_topic_split, or
 * NULL (the router hashes the topic for its cache and splits it only on a
 * miss, hashing just the levels its child tables look up; the topic must
 * then be valid: GN_ROUTER_ERR_TOPIC_INVALID otherwise).
 * publisher: the publishing session (no-local) or GN_ROUTER_NO_PUBLISHER.
 * Writes up to cap deliveries to out and the total to *count; if the total
 * exceeds cap returns GN_ROUTER_ERR_OUT_TOO_SMALL (out holds the first cap;
 * call again with a larger buffer: shared groups then pick again).
 * Reader thread only. */
gn_rerr gn_router_match(gn_router_reader *rd, const uint8_t *topic, size_t len,
                        const gn_levels *levels, uint64_t publisher, gn_delivery *out,
                        uint32_t cap, uint32_t *count);

/* Hint before matching a batch of topics (already split, e.g. everything
 * one receive completion carried): overlaps their cache misses on the
 * per-device part of the trie. Up to 16 topics; reader thread only; never
 * changes a result. Worth it for topics likely to miss the match cache. */
void gn_router_prefetch(gn_router_reader *rd, uint32_t n, const uint8_t *const *topics,
                        const gn_levels *const *levels);

/* Retained messages. msg == NULL (empty payload) deletes. On success the
 * router owns msg: free_fn(msg) runs after it is replaced/deleted and a
 * grace period passed, or at destroy. Writer (any thread). */
gn_rerr gn_router_retain(gn_router *r, const uint8_t *topic, size_t len, void *msg,
                         gn_retained_free_fn free_fn);
/* Visit the retained messages matching a (new subscription's) filter;
 * "$share/{name}/{filter}" looks up {filter}. *visited = how many. Reader
 * thread only; handles valid until the reader's next quiescent point. */
gn_rerr gn_router_retained_lookup(gn_router_reader *rd, const uint8_t *filter, size_t len,
                                  gn_retained_visit_fn visit, void *ctx, uint64_t *visited);

/* Reclamation. reclaim: free what is past its grace period (never blocks).
 * synchronize: wait for a grace period covering everything unlinked so far
 * (self: the caller's reader handle or NULL; never call it from a reader
 * thread with self == NULL). defer_free: have fn(ctx, ptr) run after a grace
 * period (e.g. a departed member's queue-depth counter). */
void gn_router_reclaim(gn_router *r);
void gn_router_synchronize(gn_router *r, gn_router_reader *self);
void gn_router_defer_free(gn_router *r, gn_qsbr_free_fn fn, void *ctx, void *ptr);

void gn_router_get_stats(gn_router *r, gn_router_stats *out);
/* Reader thread only (its own counters). */
void gn_router_reader_get_stats(gn_router_reader *rd, gn_router_reader_stats *out);

#endif
