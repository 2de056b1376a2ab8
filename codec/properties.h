/* codec/properties.h — MQTT 5 properties: identifiers, types, where each may
 * appear, and the decoded (zero-copy) property set of one packet.
 *
 * Single-valued properties are decoded into fields with a presence bit;
 * repeatable ones (user property, subscription identifier in PUBLISH) are
 * counted and walked from the raw property block. Nothing is allocated. */
#ifndef GN_CODEC_PROPERTIES_H
#define GN_CODEC_PROPERTIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/errors.h"

typedef enum gn_prop_id {
    GN_PROP_PAYLOAD_FORMAT         = 0x01, /* byte */
    GN_PROP_MESSAGE_EXPIRY         = 0x02, /* four-byte int */
    GN_PROP_CONTENT_TYPE           = 0x03, /* UTF-8 string */
    GN_PROP_RESPONSE_TOPIC         = 0x08, /* UTF-8 string */
    GN_PROP_CORRELATION_DATA       = 0x09, /* binary data */
    GN_PROP_SUBSCRIPTION_ID        = 0x0B, /* variable byte int */
    GN_PROP_SESSION_EXPIRY         = 0x11, /* four-byte int */
    GN_PROP_ASSIGNED_CLIENT_ID     = 0x12, /* UTF-8 string */
    GN_PROP_SERVER_KEEP_ALIVE      = 0x13, /* two-byte int */
    GN_PROP_AUTH_METHOD            = 0x15, /* UTF-8 string */
    GN_PROP_AUTH_DATA              = 0x16, /* binary data */
    GN_PROP_REQUEST_PROBLEM_INFO   = 0x17, /* byte */
    GN_PROP_WILL_DELAY             = 0x18, /* four-byte int */
    GN_PROP_REQUEST_RESPONSE_INFO  = 0x19, /* byte */
    GN_PROP_RESPONSE_INFO          = 0x1A, /* UTF-8 string */
    GN_PROP_SERVER_REFERENCE       = 0x1C, /* UTF-8 string */
    GN_PROP_REASON_STRING          = 0x1F, /* UTF-8 string */
    GN_PROP_RECEIVE_MAXIMUM        = 0x21, /* two-byte int */
    GN_PROP_TOPIC_ALIAS_MAXIMUM    = 0x22, /* two-byte int */
    GN_PROP_TOPIC_ALIAS            = 0x23, /* two-byte int */
    GN_PROP_MAXIMUM_QOS            = 0x24, /* byte */
    GN_PROP_RETAIN_AVAILABLE       = 0x25, /* byte */
    GN_PROP_USER_PROPERTY          = 0x26, /* UTF-8 string pair, repeatable */
    GN_PROP_MAXIMUM_PACKET_SIZE    = 0x27, /* four-byte int */
    GN_PROP_WILDCARD_SUB_AVAILABLE = 0x28, /* byte */
    GN_PROP_SUB_ID_AVAILABLE       = 0x29, /* byte */
    GN_PROP_SHARED_SUB_AVAILABLE   = 0x2A, /* byte */
} gn_prop_id;

#define GN_PROP_ID_MAX 0x2A

/* Bit of a property in gn_props.present. */
#define GN_PROP_BIT(id) (UINT64_C(1) << (id))

/* Where a property may appear: the "context" of a property block. */
typedef enum gn_prop_ctx {
    GN_PCTX_CONNECT, GN_PCTX_CONNACK, GN_PCTX_PUBLISH, GN_PCTX_WILL,
    GN_PCTX_PUBACK,  /* PUBACK, PUBREC, PUBREL, PUBCOMP */
    GN_PCTX_SUBSCRIBE, GN_PCTX_SUBACK, GN_PCTX_UNSUBSCRIBE, GN_PCTX_UNSUBACK,
    GN_PCTX_DISCONNECT, GN_PCTX_AUTH,
    GN_PCTX__COUNT
} gn_prop_ctx;

typedef enum gn_prop_type {
    GN_PTYPE_NONE = 0, GN_PTYPE_BYTE, GN_PTYPE_U16, GN_PTYPE_U32,
    GN_PTYPE_VARINT, GN_PTYPE_UTF8, GN_PTYPE_BINARY, GN_PTYPE_UTF8_PAIR,
} gn_prop_type;

/* Type of a property id (GN_PTYPE_NONE for an unknown id). */
gn_prop_type gn_prop_type_of(uint8_t id);
/* Whether property id may appear in context ctx. */
bool gn_prop_allowed(uint8_t id, gn_prop_ctx ctx);
/* Printable name ("Topic Alias"); "unknown" for an unknown id. */
const char *gn_prop_name(uint8_t id);

typedef struct gn_str { const uint8_t *ptr; uint32_t len; } gn_str;

typedef struct gn_user_prop { gn_str key, value; } gn_user_prop;

/* The property set of one packet. On decode, `present` has a bit per
 * property seen, `raw` is the whole property block (for walking repeatable
 * properties), and user / sub_ids are NULL with their counts set.
 * On encode, the encoder writes every field whose bit is in `present`, then
 * user properties from user[0..user_count) if user != NULL, else the user
 * properties found in `raw` (pass-through of a decoded packet's properties),
 * then subscription ids from sub_ids[0..sub_id_count) likewise. */
typedef struct gn_props {
    uint64_t present;
    uint8_t  payload_format;
    uint8_t  request_problem_info;
    uint8_t  request_response_info;
    uint8_t  maximum_qos;
    uint8_t  retain_available;
    uint8_t  wildcard_sub_available;
    uint8_t  sub_id_available;
    uint8_t  shared_sub_available;
    uint16_t server_keep_alive;
    uint16_t receive_maximum;
    uint16_t topic_alias_maximum;
    uint16_t topic_alias;
    uint32_t message_expiry;
    uint32_t session_expiry;
    uint32_t will_delay;
    uint32_t maximum_packet_size;
    uint32_t subscription_id;       /* the first one (SUBSCRIBE has at most one) */
    gn_str   content_type;
    gn_str   response_topic;
    gn_str   correlation_data;
    gn_str   assigned_client_id;
    gn_str   auth_method;
    gn_str   auth_data;
    gn_str   response_info;
    gn_str   server_reference;
    gn_str   reason_string;
    gn_str   raw;                   /* decode: the property block without its length */
    const gn_user_prop *user;       /* encode only */
    const uint32_t     *sub_ids;    /* encode only */
    uint16_t user_count;
    uint16_t sub_id_count;
} gn_props;

static inline bool gn_props_has(const gn_props *p, gn_prop_id id)
{
    return (p->present & GN_PROP_BIT(id)) != 0;
}

/* Walk the user properties of a decoded property block. *cursor starts at 0.
 * Returns false at the end. */
bool gn_props_next_user(const gn_props *p, uint32_t *cursor, gn_user_prop *out);
/* Walk the subscription identifiers of a decoded property block. */
bool gn_props_next_sub_id(const gn_props *p, uint32_t *cursor, uint32_t *out);

/* Decode a property block (length prefix included) at buf[0..len) for
 * context ctx. *used is the number of bytes consumed (length prefix + block).
 * Checks types, lengths, duplicates, the context, UTF-8 and value ranges. */
gn_err gn_props_decode(const uint8_t *buf, size_t len, gn_prop_ctx ctx,
                       gn_props *out, size_t *used);
/* Encoded size of a property block including its length prefix. */
size_t gn_props_size(const gn_props *p);
/* Write the property block (with length prefix) to out, which must hold
 * gn_props_size(p) bytes. Returns bytes written. */
size_t gn_props_write(const gn_props *p, uint8_t *out);

#endif
