/* engine/msg.h — the refcounted, immutable message object that fan-out
 * shares across sessions and shards.
 *
 * A PUBLISH (or a will, or a retained message) that must outlive the
 * receive buffer it arrived in is copied exactly once into one allocation
 * holding the header below, the topic (NUL-terminated), the MQTT 5
 * property block to forward, and the payload. After gn_msg_new returns,
 * nothing in it changes except the reference count: per-delivery state
 * (DUP, packet id, granted QoS, topic alias, subscription identifiers, the
 * remaining message expiry interval) belongs to the delivery, not here.
 *
 * The forwarded property block is raw MQTT 5 property bytes (no length
 * prefix) that the sender copies into each outgoing PUBLISH as is: content
 * type, response topic, correlation data, user properties. The builder
 * leaves out what is per delivery: topic alias, subscription identifiers,
 * message expiry interval (rewritten from expiry_ms on every send), and
 * the payload format indicator (kept in payload_format).
 *
 * Threading: gn_msg_ref / gn_msg_unref may be called from any thread on a
 * reference it holds; the last unref frees. Readers may read every field
 * and byte without synchronisation while they hold a reference. A slot in
 * a cross-shard ring carries one reference from producer to consumer. */
#ifndef GN_ENGINE_MSG_H
#define GN_ENGINE_MSG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_MSG_NO_EXPIRY 0u   /* expiry_ms value: never expires */
#define GN_MSG_MAX_TOPIC 65535u

typedef struct gn_msg {
    _Atomic uint32_t refs;     /* references held; the object is freed at 0 */
    uint32_t payload_len;
    uint32_t props_len;        /* forwarded MQTT 5 property bytes */
    uint16_t topic_len;        /* bytes, without the NUL */
    uint8_t  qos;              /* 0, 1, 2 as published */
    uint8_t  retain;           /* RETAIN flag as published (0/1) */
    uint8_t  payload_format;   /* MQTT 5 payload format indicator: 0 bytes, 1 UTF-8 */
    uint8_t  origin_shard;     /* shard that received it */
    uint16_t reserved;
    uint64_t origin_id;        /* XXH3-64 of the publisher's client id (no-local); 0 = none (e.g. retained on restart) */
    uint64_t received_ms;      /* gn_clock_ms() at receipt */
    uint64_t expiry_ms;        /* absolute gn_clock_ms() deadline, GN_MSG_NO_EXPIRY = never */
    char     data[];           /* topic NUL props payload */
} gn_msg;

/* What gn_msg_new copies. Pointers may be NULL when their length is 0. */
typedef struct gn_msg_params {
    const char    *topic;
    size_t         topic_len;      /* 0 .. GN_MSG_MAX_TOPIC */
    const uint8_t *payload;
    size_t         payload_len;    /* < 2^32 */
    const uint8_t *props;
    size_t         props_len;      /* < 2^32 */
    uint8_t        qos;            /* 0 .. 2 */
    bool           retain;
    uint8_t        payload_format; /* 0 or 1 */
    uint8_t        origin_shard;
    uint64_t       origin_id;
    uint64_t       received_ms;
    uint64_t       expiry_ms;      /* GN_MSG_NO_EXPIRY or absolute deadline */
} gn_msg_params;

/* One allocation, one copy of each part, refcount 1 (the caller's).
 * Returns NULL on a bad argument (errno EINVAL: lengths too big, qos > 2,
 * payload_format > 1) or out of memory (ENOMEM). */
gn_msg *gn_msg_new(const gn_msg_params *p);

/* Take another reference (returns m for chaining). */
gn_msg *gn_msg_ref(gn_msg *m);

/* Drop a reference; frees the message when it was the last. NULL is a no-op. */
void gn_msg_unref(gn_msg *m);

/* Current count (racy while other threads hold references: for tests and
 * assertions). */
uint32_t gn_msg_refcount(const gn_msg *m);

static inline const char *gn_msg_topic(const gn_msg *m) { return m->data; }
static inline const uint8_t *gn_msg_props(const gn_msg *m)
{
    return (const uint8_t *)m->data + m->topic_len + 1;
}
static inline const uint8_t *gn_msg_payload(const gn_msg *m)
{
    return gn_msg_props(m) + m->props_len;
}

/* True when the message has an expiry and now_ms is at or past it. */
static inline bool gn_msg_expired(const gn_msg *m, uint64_t now_ms)
{
    return m->expiry_ms != GN_MSG_NO_EXPIRY && now_ms >= m->expiry_ms;
}

/* MQTT 5 Message Expiry Interval to send at now_ms: the remaining seconds
 * rounded up (at least 1 while not expired), 0 when expired. Only meaningful
 * when m->expiry_ms != GN_MSG_NO_EXPIRY. */
uint32_t gn_msg_remaining_expiry_s(const gn_msg *m, uint64_t now_ms);

/* Bytes the allocation takes (header + data), for memory accounting. */
size_t gn_msg_size(const gn_msg *m);

#endif
