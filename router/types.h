/* router/types.h — the router's value types shared by its modules and the
 * engine: error values, subscription options, the stored subscriber entry
 * and the delivery a match produces. Plain data, no functions. */
#ifndef GN_ROUTER_TYPES_H
#define GN_ROUTER_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef enum gn_rerr {
    GN_ROUTER_OK = 0,
    GN_ROUTER_ERR_NOMEM,              /* allocation failed; nothing changed */
    GN_ROUTER_ERR_FILTER_INVALID,     /* topic filter rejected by codec/topic.h */
    GN_ROUTER_ERR_TOPIC_INVALID,      /* topic name rejected by codec/topic.h */
    GN_ROUTER_ERR_SHARE_NAME_INVALID, /* $share/{name}/{filter} malformed */
    GN_ROUTER_ERR_SHARED_NO_LOCAL,    /* no-local on a shared subscription */
    GN_ROUTER_ERR_OPTIONS_INVALID,    /* QoS > 2, retain handling > 2, sub id > 268435455 */
    GN_ROUTER_ERR_NOT_FOUND,          /* unsubscribe / retained delete of nothing */
    GN_ROUTER_ERR_TOO_MANY_READERS,   /* reader registration past max_readers */
    GN_ROUTER_ERR_OUT_TOO_SMALL,      /* caller's delivery buffer too short; *count = needed */
    GN_ROUTER_ERR__COUNT
} gn_rerr;

/* Printable name ("GN_ROUTER_ERR_NOMEM"); never NULL. */
const char *gn_rerr_name(gn_rerr e);

/* MQTT 5 subscription identifiers are 1 .. 268435455; 0 means "none". */
#define GN_SUB_ID_MAX 268435455u

/* Options of one subscription (MQTT 5 SUBSCRIBE options + identifier).
 * MQTT 3.1.1 subscriptions use qos only (the rest zero). */
typedef struct gn_sub_opts {
    uint8_t  qos;                 /* granted QoS 0..2 */
    bool     no_local;
    bool     retain_as_published;
    uint8_t  retain_handling;     /* 0..2: used by the engine at subscribe time */
    uint32_t sub_id;              /* 0 = none */
} gn_sub_opts;

/* Entry flags (gn_route_entry.flags). */
enum {
    GN_SUBF_QOS_MASK  = 0x03,
    GN_SUBF_NO_LOCAL  = 0x04,
    GN_SUBF_RAP       = 0x08,   /* retain as published */
    GN_SUBF_RH_SHIFT  = 4,      /* retain handling in bits 4..5 */
    GN_SUBF_RH_MASK   = 0x30,
    GN_SUBF_GROUP     = 0x40,   /* entry is a shared group (u.group) */
};

struct gn_share_group;

/* What a trie node stores per subscription: 16 bytes. */
typedef struct gn_route_entry {
    union {
        uint64_t session;               /* engine-defined session id */
        struct gn_share_group *group;   /* when flags & GN_SUBF_GROUP */
    } u;
    uint32_t sub_id;
    uint16_t shard;                     /* owner shard of the session */
    uint8_t  flags;
    uint8_t  pad;
} gn_route_entry;

/* Most subscription identifiers carried by one delivery. A client whose
 * matching subscriptions carry more distinct identifiers gets the first
 * GN_ROUTE_MAX_SUB_IDS (in trie order) and GN_DELIVER_SUBIDS_TRUNCATED. */
#define GN_ROUTE_MAX_SUB_IDS 8

/* Delivery flags (gn_delivery.flags). */
enum {
    /* Keep the RETAIN flag of the PUBLISH (else clear it). Overlap rule: set
     * when ANY matching subscription of this session that contributes to
     * the delivery has retain-as-published. */
    GN_DELIVER_RAP              = 0x01,
    /* Picked from a shared group: one delivery per group, never merged with
     * the session's ordinary subscriptions (MQTT 5 4.8.2). */
    GN_DELIVER_SHARED           = 0x02,
    GN_DELIVER_SUBIDS_TRUNCATED = 0x04,
    /* Internal to the match cache (never returned to the caller):
     * every / some contributing subscription had no-local. */
    GN_DELIVER_NL_ALL           = 0x40,
    GN_DELIVER_NL_SOME          = 0x80,
};

/* One message copy to send: one per session (max QoS over its matching
 * subscriptions, every distinct identifier) plus one per shared group. */
typedef struct gn_delivery {
    uint64_t session;
    uint16_t shard;
    uint8_t  qos;
    uint8_t  flags;
    uint8_t  nsub_ids;
    uint32_t sub_ids[GN_ROUTE_MAX_SUB_IDS];
} gn_delivery;

#endif
