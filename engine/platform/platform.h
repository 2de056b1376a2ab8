/* engine/platform/platform.h — platform mode: the hook interface between the
 * MQTT engine and the platform rules (identity, authentication, topic
 * spaces, limits, close codes; PLATFORM.md sections 2–8, 10, 12).
 *
 * The engine calls four hooks, each only when the engine runs in platform
 * mode (gn_engine.plat != NULL, a predictable branch in plain mode):
 *   on_connect   — mqtt_connect.c, on the client id's owner shard, before the
 *                  session is touched;
 *   on_publish   — mqtt_publish.c, for every PUBLISH after topic aliases;
 *   on_subscribe — mqtt_subscribe.c, per filter (and for UNSUBSCRIBE);
 *   on_close     — conn.c, when the connection is released: one log line.
 * plus the outbound topic rewrite (deliver.c) and the per-shard turn
 * (revocations, auto-registration results).
 *
 * Threading: every hook runs on the shard that owns the connection; the
 * gn_platform object is created and destroyed by the controlling thread.
 * A gn_pconn belongs to its connection and is freed with it. */
#ifndef GN_PLATFORM_PLATFORM_H
#define GN_PLATFORM_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec/packet.h"
#include "engine/config.h"
#include "engine/platform/clientid.h"
#include "engine/platform/monitor.h"

typedef struct gn_conn gn_conn;
typedef struct gn_shard gn_shard;
typedef struct gn_session gn_session;
typedef struct gn_platform gn_platform;
struct gn_pdir_shard;

#define GN_PCONN_ADDR_MAX 48
#define GN_PCONN_CID_MAX  96
#define GN_PCONN_TOPIC_CACHE 96         /* longest topic the publish cache keeps */
#define GN_PCONN_TOPIC_EXTRA 96         /* >= GN_PTOPIC_EXTRA (topics.h) */

/* Platform state of one connection (allocated at CONNECT in platform mode). */
typedef struct gn_pconn {
    gn_pident id;
    char      cid[GN_PCONN_CID_MAX];   /* client id as sent (cut), for the log */
    char      addr[GN_PCONN_ADDR_MAX]; /* peer "ip:port" */
    uint8_t   peer_ip[16];             /* peer address, IPv4 as IPv4-mapped IPv6 (S-038) */
    bool      peer_ip_known;
    uint8_t   country_state;           /* 0: not looked up, 1: country[] known, 2: unknown */
    char      country[2];              /* the peer's country code (S-038) */
    uint16_t  close_code;
    bool      close_set;
    bool      counted_org;             /* holds a slot in its org's connection count */
    bool      counted_device;          /* and in its count of connected devices (S-095) */
    bool      privileged_gw;
    uint8_t   max_qos;                 /* the org's (S-083) */
    uint8_t   proto31;                 /* MQTT 3.1 (SUBACK 0x00 for gateways, S-061) */
    uint32_t  perms;                   /* API key permissions (a / A) */
    char      apikey[24];              /* a / A: the API key it authenticated with */
    struct gn_pareg *areg;             /* gateway: auto-registrations pending or failed (autoreg.c) */
    uint16_t  nareg, careg;
    uint32_t  gw_max_pending;          /* gateway: pending auto-registrations allowed (S-059; 0: none) */
    uint32_t  max_subs;                /* S-092: more subscriptions close 154 */
    uint16_t  recv_max;                /* inbound QoS >= 1 in flight (S-090) */
    uint64_t  rx_bytes, tx_bytes, rx_msgs, tx_msgs;
    uint64_t  queue_dropped;    /* oldest queued messages dropped while attached (S-086) */
    uint64_t  autoreg_cookie;          /* the auto-registration the held PUBLISH waits for (0: none) */
    uint32_t  org_slot;                /* index of its org counter */
    struct gn_app_count *members;      /* A: its app's member count, held (app_counts.c) */
    gn_pmon   mon;                     /* monitoring messages (monitor.c) */
    struct gn_pthrottle *thr;          /* Ioto throttling (rate.c), NULL: not throttled */
    /* The last topic this device / application published and its internal
     * form: devices repeat their topics, so the allow-list and rewrite run
     * once per distinct topic (rules.c). */
    uint16_t  last_in_len, last_out_len;   /* 0: empty */
    char      last_in[GN_PCONN_TOPIC_CACHE];
    char      last_out[GN_PCONN_TOPIC_CACHE + GN_PCONN_TOPIC_EXTRA];
} gn_pconn;

/* ---- engine-wide (controlling thread) */

/* Create the platform rules for an engine of nshards (opens the registry
 * at cfg->platform_registry). NULL with err filled on failure. */
struct gn_pdir_hooks;
gn_platform *gn_platform_create(const gn_config *cfg, uint16_t nshards,
                                const struct gn_pdir_hooks *hooks, char *err, size_t errlen);
void gn_platform_destroy(gn_platform *p);
/* gn_tls_trust_fn for the engine's TLS context (engine/platform/
 * tls_policy.c): the store a handshake verifies client certificates
 * against, by server name (the orgs' CAs, S-036); ctx is the gn_platform.
 * Shard threads. */
struct x509_store_st;
struct x509_store_st *gn_plat_tls_trust(void *ctx, const char *server_name);

/* ---- hooks (owner shard) */

/* What CONNECT gets. On refusal close_code != 0 and the CONNACK codes say
 * what to answer; on acceptance the fields after it adjust the session. */
typedef struct gn_pconnect {
    uint16_t close_code;          /* 0: accepted */
    uint8_t  connack_v3;          /* 3.x return code (2, 3, 5) */
    uint8_t  connack_v5;          /* MQTT 5 reason code */
    const char *why;              /* for the log */
    /* accepted: */
    uint16_t keep_alive;          /* granted keep alive */
    bool     keep_alive_changed;  /* MQTT 5: send Server Keep Alive */
    uint16_t receive_maximum;     /* inbound QoS >= 1 in flight (S-090) */
    uint16_t send_window;         /* outbound in flight cap (S-090) */
    uint16_t topic_alias_max;     /* S-091 */
    uint8_t  max_qos;
    uint32_t queue_depth;         /* per subscription, oldest dropped (S-086) */
    const uint8_t *will_topic;    /* rewritten will topic (internal form) */
    uint16_t will_topic_len;
} gn_pconnect;
void gn_plat_on_connect(gn_conn *c, const gn_connect *cn, gn_pconnect *out);

/* The publish cache (inline: it is the hot path of a device's events).
 * a[0..n) == b[0..n) in 8-byte words, the last one overlapping. */
static inline bool gn_plat_same_topic(const uint8_t *a, const char *b, size_t n)
{
    if (n < 8)
        return memcmp(a, b, n) == 0;
    uint64_t x, y, acc = 0;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        acc |= x ^ y;
    }
    memcpy(&x, a + n - 8, 8);
    memcpy(&y, b + n - 8, 8);
    return (acc | (x ^ y)) == 0;
}

/* pub has the topic this device / application published last (already
 * allowed, within QoS and size checked by the caller): switch it to the
 * internal topic and clear retain (S-079). False: take the full path. */
static inline bool gn_plat_publish_cached(const gn_pconn *pc, gn_publish *pub)
{
    if (!pc->last_in_len || pub->topic.len != pc->last_in_len ||
        !gn_plat_same_topic(pub->topic.ptr, pc->last_in, pc->last_in_len))
        return false;
    pub->topic.ptr = (const uint8_t *)pc->last_out;
    pub->topic.len = pc->last_out_len;
    pub->retain = false;
    return true;
}

/* The common case of on_publish without a call: QoS and size within the
 * limits and the cached topic. rx counted. False: call gn_plat_on_publish. */
static inline bool gn_plat_publish_fast(gn_pconn *pc, gn_publish *pub, uint32_t max_payload)
{
    if (pub->qos > pc->max_qos || pub->payload.len + (pub->topic.len > 200 ? pub->topic.len - 200u : 0u) > max_payload ||
        !gn_plat_publish_cached(pc, pub))
        return false;
    pc->rx_msgs++;
    return true;
}

/* A PUBLISH with payload bytes was consumed from c, whose org throttles
 * Ioto-style (c->plat->thr set): count it for the next measurement
 * (engine/platform/rate.c, S-136). Shard thread. */
struct gn_pthrottle;
void gn_plat_throttle_publish(gn_conn *c, size_t payload);

typedef enum gn_ppub_action {
    GN_PPUB_PASS = 0,    /* route it: pub->topic now holds the internal topic */
    GN_PPUB_ACK_DROP,    /* gateway: acknowledge as accepted, drop (S-061) */
    GN_PPUB_NAK,         /* MQTT 5 QoS >= 1: PUBACK / PUBREC with reason (0x90) */
    GN_PPUB_CLOSE,       /* close with *close_code */
    GN_PPUB_HOLD,        /* auto-registration pending: keep the packet, pause reading */
} gn_ppub_action;
/* pub is changed in place (topic, retain); buf (cap bytes) holds the new topic. */
gn_ppub_action gn_plat_on_publish(gn_conn *c, gn_publish *pub, char *buf, size_t cap,
                                  uint16_t *close_code, uint8_t *reason);

typedef enum gn_psub_action {
    GN_PSUB_PASS = 0,    /* *out / *out_len: the internal filter; *qos may be lowered */
    GN_PSUB_REFUSE,      /* SUBACK / UNSUBACK with *reason (notify already sent for gateways) */
    GN_PSUB_CLOSE,       /* close with *close_code */
} gn_psub_action;
gn_psub_action gn_plat_on_subscribe(gn_conn *c, const uint8_t *f, size_t len, bool unsubscribe,
                                    uint8_t *qos, char *out, size_t cap, size_t *out_len,
                                    uint16_t *close_code, uint8_t *reason);

/* S-100: group filter f[0..len) ("$share/A:org:app[:*]/...", as the
 * session keeps it) gets one more member session; the first member of a
 * group takes one of the org's platform_max_app_groups, and false means
 * the org has them all (SUBACK 0x97 / 0x80). gn_plat_group_leave: the
 * session no longer has it (unsubscribed, or the session ended); any
 * shard. Both are no-ops for filters not of that form. */
bool gn_plat_group_join(gn_shard *s, const uint8_t *f, size_t len);
void gn_plat_group_leave(gn_shard *s, const uint8_t *f, size_t len);

/* A connection was accepted (its peer address is kept for the log). */
void gn_plat_conn_opened(gn_conn *c);
/* Record why c closes (the first code given wins). */
void gn_plat_set_close(gn_conn *c, uint16_t code);
/* c's TLS handshake failed (gn_conn_tls_failure says why): its close code
 * becomes 163 (handshake), 169 (certificate missing) or 170 (certificate
 * not valid). No-op outside platform mode. Shard thread. */
void gn_plat_tls_failed(gn_conn *c);
/* The connection is released: log its close line, free its state. */
void gn_plat_on_close(gn_conn *c);
/* c (a gateway) holds a PUBLISH for a device being registered and keeps
 * data[0..len) unread, starting with that PUBLISH: submit the
 * registrations of the new devices the complete PUBLISHes after it name,
 * within the gateway's pending limit (S-059, engine/platform/autoreg.c).
 * No-op for other connections. Shard thread. */
void gn_plat_autoreg_ahead(gn_conn *c, const uint8_t *data, size_t len, uint32_t max_packet);
/* A connection was refused at accept (server at capacity, 104). */
void gn_plat_log_refused(uint16_t code);

/* The shard's scratch buffers for topics (cap GN_PLAT_TOPIC_BUF each): one
 * for the internal topic or filter of the packet being handled (publish,
 * subscribe, will), one for the outbound rewrite (deliver.c), which runs
 * while the inbound one is in use. */
#define GN_PLAT_TOPIC_BUF (65535 + 128)
char *gn_plat_topic_in(const gn_shard *s);
char *gn_plat_topic_out(const gn_shard *s);

/* Outbound: the topic the client is sent for internal topic t (written to
 * out, cap >= len); 0 = do not deliver. */
size_t gn_plat_topic_rewrite_out(const gn_conn *c, const char *t, size_t len, char *out, size_t cap);

/* Once per shard loop turn: disconnect revoked identities (S-034), finish
 * auto-registrations. */
void gn_plat_shard_turn(gn_shard *s);

#endif
