/* engine/shard.h — a shard: one pinned thread with its own transport
 * (io_uring), connections, sessions, timer wheel, slab pools and outbound
 * cross-shard batches. Nothing a shard owns is touched by another thread,
 * except the fields marked "any thread" (stop flag, stats, rings).
 *
 * Loop: poll transport (submit + wait + CQEs) -> drain inbound cross-shard
 * rings -> push outbound batches -> flush sends -> timers -> router
 * quiescent state -> repeat. */
#ifndef GN_ENGINE_SHARD_H
#define GN_ENGINE_SHARD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/conn.h"
#include "engine/engine_int.h"
#include "engine/outq.h"
#include "engine/route.h"
#include "engine/slab.h"
#include "engine/spsc_ring.h"
#include "engine/timer_wheel.h"
#include "engine/transport.h"
#include "engine/xshard.h"

typedef struct gn_session gn_session;

/* Per-shard counters, written by the shard (relaxed stores), read by any
 * thread for gn_engine_get_stats (relaxed loads; approximate is fine). */
typedef struct gn_shard_stats {
    _Atomic uint64_t conns_current;   /* relaxed: statistics only */
    _Atomic uint64_t conns_total;     /* relaxed: statistics only */
    _Atomic uint64_t msgs_in;         /* relaxed: statistics only */
    _Atomic uint64_t msgs_out;        /* relaxed: statistics only */
    _Atomic uint64_t bytes_in;        /* relaxed: statistics only */
    _Atomic uint64_t bytes_out;       /* relaxed: statistics only */
    _Atomic uint64_t qos0_dropped;    /* relaxed: statistics only */
    _Atomic uint64_t qos1_dropped_offline; /* relaxed: statistics only */
    _Atomic uint64_t protocol_errors; /* relaxed: statistics only */
    _Atomic uint64_t queue_dropped_oldest; /* relaxed: statistics only (platform queues, S-086) */
    _Atomic uint64_t shared_repicks;  /* relaxed: statistics only (shared deliveries moved to another member) */
    _Atomic uint64_t shared_handed_back; /* relaxed: statistics only (a departing member's deliveries placed elsewhere) */
    _Atomic uint64_t shared_orphaned; /* relaxed: statistics only (a departing member's deliveries no member could take) */
} gn_shard_stats;

static inline void gn_stat_add(_Atomic uint64_t *c, uint64_t n)
{
    /* relaxed: a counter read only for statistics, orders nothing */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

/* A table of this shard's sessions, indexed by the low half of a session
 * id; the high half is a generation so a stale id from another shard's
 * delivery never reaches a newer session in the same slot. */
typedef struct gn_sess_table {
    gn_session **slot;
    uint32_t    *gen;
    uint32_t    *free_idx;
    uint32_t     cap, nfree, used;
} gn_sess_table;

/* client id -> session (open addressing on the id's XXH3 hash). */
typedef struct gn_registry {
    gn_session **b;
    uint32_t     cap, count, tomb;
} gn_registry;

struct gn_shard {
    gn_engine        *eng;
    gn_config         cfg;            /* this shard's copy of the engine's (engine_int.h) */
    uint32_t          cfg_gen;        /* the engine's cfg_gen when cfg was copied */
    const gn_transport_ops *tp;
    void             *tpd;
    uint16_t          id;
    uint16_t          nshards;
    pthread_t         thread;
    bool              thread_started;
    _Atomic bool      stop_req;       /* set by the controller; seq_cst with the ctl wake */
    bool              stopping;       /* shard-local: shutdown in progress */
    bool              accept_stopped;
    uint64_t          stop_deadline;
    uint64_t          now_ms;         /* refreshed once per loop turn */
    gn_timer_wheel    tw;
    gn_slab           conn_slab;
    gn_slab           sess_slab;
    gn_opool          opool;
    gn_conn          *dirty;          /* connections to flush this turn */
    gn_conn          *all;            /* every connection (shutdown walks it) */
    gn_sess_table     sessions;
    gn_registry       registry;
    uint32_t          nconns;
    gn_xshard         x;              /* cross-shard rings and batches */
    gn_route_ctx      rc;             /* router reader state (engine/route.c) */
    gn_shard_stats    stats;
    gn_xbatch         shared_held;    /* shared deliveries no member can take yet (engine/shard.c) */
    char              err[256];
};

/* Owner shard of a client id. */
uint16_t gn_shard_owner(const gn_shard *s, const uint8_t *cid, size_t len);
/* Put c on the flush list. */
void gn_shard_mark_dirty(gn_shard *s, gn_conn *c);

/* Send MQTT 5 clients DISCONNECT 0x8B and close every connection. */
void gn_sessions_shutdown(gn_shard *s);

int  gn_shard_init(gn_shard *s, gn_engine *e, uint16_t id, char *err, size_t errlen);
int  gn_shard_start(gn_shard *s, char *err, size_t errlen);
void gn_shard_request_stop(gn_shard *s);
/* A shared-group delivery d of m (published by pub on this shard) picked a
 * member of this shard, ss (NULL: gone), that cannot take it without
 * pausing the publisher: hand it to another member, or hold it (QoS >= 1)
 * until a member can take it (engine/shard.c, "re-pick"). Returns true
 * when it was taken care of; false: deliver to ss as usual. Shard thread. */
bool gn_shard_shared_redirect(gn_shard *s, gn_session *ss, const gn_rdeliv *d, gn_msg *m,
                              uint64_t pub);
/* Place shared delivery sl (its message reference included) at another
 * member of its group than sl->session (gn_route_repick), flagged
 * GN_XF_REPICKED so it is never moved again. any: when no other member is
 * under the high-water mark, the least loaded one. False: no other member
 * (or, without any, none under the mark); the reference is still the
 * caller's. Shard thread (engine/shard.c). */
bool gn_shard_shared_place(gn_shard *s, const gn_xslot *sl, bool any);
/* Place the held deliveries (shared_held) of member sid elsewhere, with
 * gn_shard_shared_place(any); returns how many. Shard thread. */
uint32_t gn_shard_held_handback(gn_shard *s, uint64_t sid);
/* A session that is a shared-group member ends (clean session, expiry,
 * clean takeover): hand its unacknowledged QoS >= 1 shared deliveries, in
 * flight and queued, to other members of their groups before it leaves
 * them, so the end of one member loses nothing the group could still
 * take. Deliveries no other member can take are counted (shared_orphaned).
 * Shard thread (engine/shared_handback.c). */
void gn_session_shared_handback(gn_shard *s, gn_session *ss);
/* Controller: the configuration changed (gn_engine_reload); the shard takes
 * its new copy at the start of its next loop turn. */
void gn_shard_config_changed(gn_shard *s);
void gn_shard_join(gn_shard *s);
void gn_shard_fini(gn_shard *s);

#endif
