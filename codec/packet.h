/* codec/packet.h — zero-copy views of MQTT 3.1 / 3.1.1 / 5.0 control packets,
 * and the decode / encode / framing entry points.
 *
 * Ownership: a decoded view points into the caller's input buffer; it stays
 * valid exactly as long as that buffer. Decoding never allocates. Encoding
 * writes into a caller buffer. All functions are pure and thread-safe.
 *
 * Protocol versions are the CONNECT protocol levels: 3 (MQTT 3.1, "MQIsdp"),
 * 4 (MQTT 3.1.1), 5 (MQTT 5.0). */
#ifndef GN_CODEC_PACKET_H
#define GN_CODEC_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/errors.h"
#include "codec/properties.h"
#include "codec/reason_codes.h"

typedef enum gn_proto {
    GN_PROTO_V31  = 3,
    GN_PROTO_V311 = 4,
    GN_PROTO_V5   = 5,
} gn_proto;

typedef enum gn_packet_type {
    GN_CONNECT = 1, GN_CONNACK, GN_PUBLISH, GN_PUBACK, GN_PUBREC, GN_PUBREL,
    GN_PUBCOMP, GN_SUBSCRIBE, GN_SUBACK, GN_UNSUBSCRIBE, GN_UNSUBACK,
    GN_PINGREQ, GN_PINGRESP, GN_DISCONNECT, GN_AUTH,
} gn_packet_type;

/* Largest remaining length the fixed header can carry. */
#define GN_MAX_REMAINING_LENGTH 268435455u

/* ---------------------------------------------------------------- framing */

/* One complete packet found in a byte stream. */
typedef struct gn_frame {
    uint32_t offset;        /* where the packet starts in the scanned buffer */
    uint32_t header_len;    /* 2..5: fixed header byte + remaining-length bytes */
    uint32_t total_len;     /* header_len + remaining length */
    uint8_t  first_byte;    /* type << 4 | flags */
} gn_frame;

/* Frame the packet at the start of buf.
 * GN_OK: *out describes it (out->offset = 0).
 * GN_NEED_MORE: the buffer ends inside the packet; *need is the number of
 *   further bytes required before another call can make progress (exact once
 *   the remaining length is known, otherwise 1).
 * GN_ERR_MALFORMED_VARINT / GN_ERR_PACKET_TOO_LARGE / GN_ERR_RESERVED_TYPE:
 *   the stream is broken; close the connection.
 * max_packet is the largest total packet size accepted (0: no limit beyond
 * the protocol's 268,435,460 bytes). */
gn_err gn_frame_one(const uint8_t *buf, size_t len, uint32_t max_packet,
                    gn_frame *out, size_t *need);

/* Frame as many complete packets as fit in frames[0..cap).
 * Returns the number found; *consumed is the byte count they cover.
 * *status is GN_OK when cap was reached, GN_NEED_MORE (with *need) when the
 * buffer ended inside a packet or exactly at a boundary (*need = 0 then
 * means "any more bytes"), or the error that stopped framing (the frames
 * before it are still valid). */
size_t gn_frame_scan(const uint8_t *buf, size_t len, uint32_t max_packet,
                     gn_frame *frames, size_t cap, size_t *consumed,
                     size_t *need, gn_err *status);

/* ------------------------------------------------------------ packet views */

typedef struct gn_bytes {
    const uint8_t *ptr;     /* NULL only when len == 0 */
    uint32_t len;
} gn_bytes;

typedef struct gn_connect {
    gn_proto proto;
    gn_bytes protocol_name; /* "MQTT" or "MQIsdp" */
    bool     clean_start;   /* clean session (3.x) / clean start (5) */
    bool     will;
    uint8_t  will_qos;
    bool     will_retain;
    bool     has_username;
    bool     has_password;
    uint16_t keep_alive;
    gn_props props;
    gn_bytes client_id;
    gn_props will_props;    /* MQTT 5 will properties */
    gn_bytes will_topic;
    gn_bytes will_payload;
    gn_bytes username;
    gn_bytes password;
} gn_connect;

typedef struct gn_connack {
    bool     session_present;
    uint8_t  reason;        /* MQTT 5 reason code or 3.x return code (0..5) */
    gn_props props;
} gn_connack;

typedef struct gn_publish {
    uint8_t  qos;
    bool     dup;
    bool     retain;
    gn_bytes topic;         /* may be empty in MQTT 5 when a topic alias is used */
    uint16_t packet_id;     /* 0 for QoS 0 */
    gn_props props;
    gn_bytes payload;
} gn_publish;

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
typedef struct gn_ack {
    uint16_t packet_id;
    uint8_t  reason;        /* 0 when absent (3.x, or MQTT 5 short form) */
    gn_props props;
} gn_ack;

/* Subscription options byte (MQTT 5 3.8.3.1; 3.x uses only the QoS bits). */
#define GN_SUBOPT_QOS_MASK        0x03u
#define GN_SUBOPT_NO_LOCAL        0x04u
#define GN_SUBOPT_RETAIN_AS_PUB   0x08u
#define GN_SUBOPT_RETAIN_HANDLING(o) (((o) >> 4) & 0x03u)

typedef struct gn_subscribe {
    uint16_t packet_id;
    gn_props props;
    uint32_t count;         /* number of filters (>= 1 after a successful decode) */
    gn_bytes entries;       /* raw (filter, options) entries; walk with gn_subscribe_next */
} gn_subscribe;

typedef struct gn_unsubscribe {
    uint16_t packet_id;
    gn_props props;
    uint32_t count;
    gn_bytes entries;       /* raw filters; walk with gn_unsubscribe_next */
} gn_unsubscribe;

/* SUBACK and UNSUBACK. */
typedef struct gn_suback {
    uint16_t packet_id;
    gn_props props;
    gn_bytes reasons;       /* one byte per filter (UNSUBACK before MQTT 5: empty) */
} gn_suback;

/* DISCONNECT and AUTH (and the bodiless PINGREQ/PINGRESP use none). */
typedef struct gn_disconnect {
    uint8_t  reason;        /* 0 when absent */
    gn_props props;
} gn_disconnect;

typedef struct gn_packet {
    gn_packet_type type;
    uint8_t        flags;   /* low nibble of the first byte */
    union {
        gn_connect     connect;
        gn_connack     connack;
        gn_publish     publish;
        gn_ack         ack;         /* PUBACK, PUBREC, PUBREL, PUBCOMP */
        gn_subscribe   subscribe;
        gn_unsubscribe unsubscribe;
        gn_suback      suback;      /* SUBACK, UNSUBACK */
        gn_disconnect  disconnect;  /* DISCONNECT, AUTH */
    } u;
} gn_packet;

/* ----------------------------------------------------------------- decode */

/* Decode one complete packet (as framed by gn_frame_one) into *out.
 * proto is the connection's protocol version; it is ignored for CONNECT,
 * whose version is read from the packet (out->u.connect.proto).
 * Every MUST rule of the specification that can be checked on the packet
 * alone is checked; the first violation is returned. On error *out is
 * partially filled and must not be used. */
gn_err gn_decode(const uint8_t *pkt, size_t len, gn_proto proto, gn_packet *out);

/* Iterate a decoded SUBSCRIBE's filters. *cursor starts at 0.
 * Returns false when there are no more. The entries were validated by
 * gn_decode, so iteration cannot fail. */
bool gn_subscribe_next(const gn_subscribe *s, uint32_t *cursor,
                       gn_bytes *filter, uint8_t *options);
bool gn_unsubscribe_next(const gn_unsubscribe *s, uint32_t *cursor, gn_bytes *filter);

/* ----------------------------------------------------------------- encode */

/* One entry for encoding SUBSCRIBE / UNSUBSCRIBE (options ignored for the latter). */
typedef struct gn_sub_entry {
    gn_bytes filter;
    uint8_t  options;
} gn_sub_entry;

/* Encode *p for protocol version proto into buf[0..cap).
 * GN_OK: *len_out bytes were written.
 * GN_ERR_BUFFER_TOO_SMALL: nothing useful written; *len_out is the size needed.
 * GN_ERR_ENCODE_INVALID (or a more specific error): the view breaks a rule.
 * For SUBSCRIBE / UNSUBSCRIBE the filters come from subs[0..nsubs) (the
 * view's raw entries are ignored); pass NULL/0 for other packets. */
gn_err gn_encode(const gn_packet *p, gn_proto proto,
                 const gn_sub_entry *subs, size_t nsubs,
                 uint8_t *buf, size_t cap, size_t *len_out);

/* Encode everything of a PUBLISH except its payload (fixed header with the
 * full remaining length, topic, packet id, properties), so the payload can be
 * sent from where it already is (iovec). Same return convention. */
gn_err gn_encode_publish_header(const gn_publish *p, gn_proto proto,
                                uint8_t *buf, size_t cap, size_t *len_out);

/* Size of the variable byte integer for v (1..4), 0 if v > 268,435,455. */
size_t gn_varint_size(uint32_t v);

#endif
