/* engine/session.h — an MQTT session: what survives a connection (client
 * id, subscriptions, unacknowledged and queued QoS >= 1 messages, session
 * expiry, the will) plus the per-connection protocol state it uses while a
 * connection is attached (windows, topic aliases).
 *
 * Sessions live on the owner shard of their client id (gn_shard_owner) and
 * never move: a connection for that id is handed to the owner shard before
 * its CONNECT is processed, so takeover and resumption are shard-local.
 * Other shards refer to a session only by its id (gn_session_id), which is
 * checked against a generation on arrival.
 *
 * Memory: an idle session is the struct, its client id and its
 * subscription list. Queues, packet-id bitmaps and alias tables are
 * allocated when first needed and freed when empty.
 *
 * Threading: owner shard only. */
#ifndef GN_ENGINE_SESSION_H
#define GN_ENGINE_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/conn.h"
#include "engine/msg.h"
#include "engine/route.h"
#include "engine/subq.h"
#include "engine/timer_wheel.h"

typedef struct gn_shard gn_shard;
struct gn_will;

/* Longest a subscriber over half the QoS 0 mark pauses its publishers. */
#define GN_Q0_PAUSE_MS 250

/* One subscription as the session remembers it (to unsubscribe all at the end). */
typedef struct gn_ssub {
    char    *filter;            /* NUL-terminated copy, as subscribed ($share/... included) */
    uint16_t len;
    uint8_t  opts;              /* SUBSCRIBE options byte */
    uint32_t sub_id;
} gn_ssub;

typedef struct gn_qring {
    gn_qent *v;
    uint32_t head, count, cap;  /* span head..head+count, capacity a power of two */
    uint32_t live;              /* entries not GN_QS_FREE (holes after out-of-order acks) */
} gn_qring;

/* A publisher paused because this session's queue is full. */
typedef struct gn_waiter {
    uint64_t pub;
    uint16_t shard;
} gn_waiter;

/* The busy part of a session, allocated on first use and freed when it is
 * empty again, so idle sessions stay small. */
typedef struct gn_sflow {
    gn_qring   inflight;        /* sent, waiting for PUBACK / PUBREC / PUBCOMP */
    gn_subq    queue;           /* waiting for the window or for a connection: one lane
                                   per subscription in platform mode (S-086) */
    uint64_t  *pid_used;        /* 65536-bit map of outbound packet ids in use */
    gn_waiter *waiters;         /* publishers paused for this session */
    uint32_t   nwaiters, capwaiters;
    uint64_t  *qos2_in;         /* 65536-bit map: PUBREC sent, PUBREL awaited */
    uint16_t   qos2_in_count;
    uint16_t   next_pid;
} gn_sflow;

typedef struct gn_session {
    gn_conn  *conn;             /* NULL while disconnected */
    char     *client_id;        /* NUL-terminated; cid_inline when short */
    uint64_t  sid;              /* gn_session_id */
    uint64_t  cid_hash;         /* XXH3 of the client id (no-local origin) */
    uint16_t  cid_len;
    uint16_t  cid_pub_len;      /* the client id as sent: cid_len, less the key suffix of an
                                   A:org:app member (mqtt_connect.c member_key, S-020) */
    uint8_t   proto;
    bool      assigned_id;
    bool      clean_exit;       /* 3.x clean session: discard at disconnect */
    bool      blocked_out;      /* queue over the limit: publishers paused */
    bool      will_pending;     /* will delay running */
    bool      q0_slow;          /* stayed over the QoS 0 mark: drop instead of pausing publishers */
    uint32_t  expiry_s;         /* session expiry interval (UINT32_MAX = never) */
    gn_timer  otimer;           /* disconnected: will delay and session expiry;
                                   connected: how long QoS 0 may pause publishers */
    uint64_t  expire_at;        /* session expiry deadline (ms), 0 = none armed */
    struct gn_will *will;       /* will message parts (NULL: none), engine/will.c */

    gn_ssub  *subs;
    uint32_t  nsubs, capsubs;

    uint16_t  send_window;      /* min(client receive maximum, server cap) */
    uint16_t  blocked_by;       /* full targets this session (as publisher) waits for */
    struct gn_sflow *fl;        /* QoS >= 1 and backpressure state, NULL while idle */
    /* Messages queued behind the window, for the shared-group picker (allocated
     * on the first $share subscription; freed through the router's grace
     * period). Written by this shard with relaxed stores: a load hint for
     * other shards' pickers, it orders nothing. */
    _Atomic uint32_t *qdepth;

    /* per connection (reset on attach) */
    uint16_t  alias_in_max;     /* what we accept (CONNACK Topic Alias Maximum) */
    uint16_t  alias_out_max;    /* what the client accepts */
    char    **alias_in;         /* alias_in[a-1]: topic for inbound alias a */
    struct gn_alias_out *alias_out; /* alias_out[a-1]: topic sent with outbound alias a */
    uint16_t  alias_out_used;
    bool      req_problem_info; /* MQTT 5 Request Problem Information (default true) */
    uint32_t  plat_qdepth;      /* platform mode: queue depth per subscription, the oldest
                                   message dropped when full (S-086); 0 = plain behaviour */
    uint32_t  queue_dropped;    /* platform mode: messages its full lanes dropped while no
                                   connection was attached; logged and reset at the next
                                   attach (S-086) */
    char      cid_inline[24];   /* short client ids live here (no allocation) */
} gn_session;

/* ---- table and registry (engine/session.c) ---- */
gn_session *gn_session_new(gn_shard *s, const uint8_t *cid, size_t len);
gn_session *gn_session_find(gn_shard *s, const uint8_t *cid, size_t len);
gn_session *gn_session_by_id(gn_shard *s, uint64_t sid);
/* Unsubscribe everything, drop queues and the will, unregister, free. */
void gn_session_destroy(gn_shard *s, gn_session *ss);
/* Start the expiry clock of a disconnected session. */
void gn_session_expiry_arm(gn_shard *s, gn_session *ss);
/* Arm the offline timer for the earlier of the will and expiry deadlines. */
void gn_session_offline_rearm(gn_shard *s, gn_session *ss);
/* Stop both clocks (the client is back). */
void gn_session_offline_stop(gn_shard *s, gn_session *ss);
/* Forget per-connection state (aliases) when a connection detaches. */
void gn_session_reset_conn_state(gn_session *ss);
/* Free every session (shard shutdown). */
void gn_sessions_fini(gn_shard *s);
int  gn_sessions_init(gn_shard *s);

/* ---- outbound delivery (engine/deliver.c) ---- */
/* True when delivering msg at qos to ss now would pause its publisher or
 * drop the message (QoS >= 1 queue at max_queued_messages, an offline
 * session's full queue, QoS 0 backlog past half the high-water mark or a
 * slow subscriber): a shared-group delivery then goes to another member
 * (engine/shard.c, gn_route_repick). */
bool gn_session_overloaded(const gn_shard *s, const gn_session *ss, uint8_t qos);
/* Deliver msg to ss at granted qos (takes no reference from the caller).
 * Returns false when the message was dropped (QoS 0 over the high-water
 * mark, or expired). pub/pub_shard identify the publisher for
 * backpressure (pub 0: none). */
bool gn_session_deliver(gn_shard *s, gn_session *ss, gn_msg *msg, uint8_t qos, uint8_t flags,
                        const uint32_t *sub_ids, uint8_t nsub, uint16_t pub_shard, uint64_t pub);
/* Send queued messages as the window allows. */
void gn_session_pump(gn_shard *s, gn_session *ss);
/* Resend unacknowledged messages (DUP) after a reconnect, then pump. */
void gn_session_resend(gn_shard *s, gn_session *ss);
/* Outbound acknowledgements; return false for an unknown packet id. */
bool gn_session_on_puback(gn_shard *s, gn_session *ss, uint16_t pid);
bool gn_session_on_pubrec(gn_shard *s, gn_session *ss, uint16_t pid, uint8_t reason);
bool gn_session_on_pubcomp(gn_shard *s, gn_session *ss, uint16_t pid);
/* Drop every queued and in-flight message. */
void gn_session_drop_queues(gn_shard *s, gn_session *ss);
/* The flow state, allocated when missing (NULL on no memory). */
gn_sflow *gn_session_flow(gn_session *ss);
/* Free the flow state when nothing is in it. */
void gn_session_flow_trim(gn_session *ss);
/* Free it unconditionally (session end; queues already dropped). */
void gn_session_flow_free(gn_session *ss);
/* Forget the outbound topic aliases. */
void gn_session_alias_out_free(gn_session *ss);
/* Pause (block) or resume publisher pub of shard `shard`: local directly,
 * else a BLOCK / UNBLOCK slot to its shard. Every block is matched by one
 * resume. */
void gn_publisher_signal(gn_shard *s, uint16_t shard, uint64_t pub, bool block);
/* Publisher bookkeeping for backpressure. */
void gn_session_add_waiter(gn_session *ss, uint16_t shard, uint64_t pub);
void gn_session_release_waiters(gn_shard *s, gn_session *ss);
/* Release paused publishers once the queue and the socket backlog are low. */
void gn_session_maybe_release(gn_shard *s, gn_session *ss);
/* A target of publisher `pub` on this shard is full / drained. */
void gn_publisher_block(gn_shard *s, uint64_t pub);
void gn_publisher_unblock(gn_shard *s, uint64_t pub);

#endif
