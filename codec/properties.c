/* codec/properties.c — the MQTT 5 property table (all 27 properties: type,
 * name, the packets each may appear in) and the property block codec:
 * decode with duplicate / context / range / UTF-8 checks, and walking of the
 * repeatable properties (user property, subscription identifier).
 *
 * Encoding (size, write, checks) is in properties_encode.c.
 *
 * Decoded values: a value field of gn_props is meaningful only when its bit
 * is in `present`. A non-empty block zeroes the whole struct first; an empty
 * block (gn_props_set_empty) sets only present, raw, user, sub_ids, counts. */
#include "codec/properties.h"

#include <string.h>

#include "codec/topic.h"
#include "codec/utf8.h"
#include "codec/wire.h"

#define C(x) (1u << (x))
#define C_WILLPUB (C(GN_PCTX_PUBLISH) | C(GN_PCTX_WILL))
#define C_ALL ((1u << GN_PCTX__COUNT) - 1u)

typedef struct gn_prop_info {
    const char  *name;
    gn_prop_type type;
    uint16_t     ctx;       /* bit per gn_prop_ctx it may appear in */
} gn_prop_info;

static const gn_prop_info gn_prop_table[GN_PROP_ID_MAX + 1] = {
    [GN_PROP_PAYLOAD_FORMAT]   = { "Payload Format Indicator", GN_PTYPE_BYTE, C_WILLPUB },
    [GN_PROP_MESSAGE_EXPIRY]   = { "Message Expiry Interval", GN_PTYPE_U32, C_WILLPUB },
    [GN_PROP_CONTENT_TYPE]     = { "Content Type", GN_PTYPE_UTF8, C_WILLPUB },
    [GN_PROP_RESPONSE_TOPIC]   = { "Response Topic", GN_PTYPE_UTF8, C_WILLPUB },
    [GN_PROP_CORRELATION_DATA] = { "Correlation Data", GN_PTYPE_BINARY, C_WILLPUB },
    [GN_PROP_SUBSCRIPTION_ID]  = { "Subscription Identifier", GN_PTYPE_VARINT,
                                   C(GN_PCTX_PUBLISH) | C(GN_PCTX_SUBSCRIBE) },
    [GN_PROP_SESSION_EXPIRY]   = { "Session Expiry Interval", GN_PTYPE_U32,
                                   C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) |
                                   C(GN_PCTX_DISCONNECT) },
    [GN_PROP_ASSIGNED_CLIENT_ID] = { "Assigned Client Identifier", GN_PTYPE_UTF8,
                                     C(GN_PCTX_CONNACK) },
    [GN_PROP_SERVER_KEEP_ALIVE] = { "Server Keep Alive", GN_PTYPE_U16, C(GN_PCTX_CONNACK) },
    [GN_PROP_AUTH_METHOD]      = { "Authentication Method", GN_PTYPE_UTF8,
                                   C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) | C(GN_PCTX_AUTH) },
    [GN_PROP_AUTH_DATA]        = { "Authentication Data", GN_PTYPE_BINARY,
                                   C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) | C(GN_PCTX_AUTH) },
    [GN_PROP_REQUEST_PROBLEM_INFO] = { "Request Problem Information", GN_PTYPE_BYTE,
                                       C(GN_PCTX_CONNECT) },
    [GN_PROP_WILL_DELAY]       = { "Will Delay Interval", GN_PTYPE_U32, C(GN_PCTX_WILL) },
    [GN_PROP_REQUEST_RESPONSE_INFO] = { "Request Response Information", GN_PTYPE_BYTE,
                                        C(GN_PCTX_CONNECT) },
    [GN_PROP_RESPONSE_INFO]    = { "Response Information", GN_PTYPE_UTF8, C(GN_PCTX_CONNACK) },
    [GN_PROP_SERVER_REFERENCE] = { "Server Reference", GN_PTYPE_UTF8,
                                   C(GN_PCTX_CONNACK) | C(GN_PCTX_DISCONNECT) },
    [GN_PROP_REASON_STRING]    = { "Reason String", GN_PTYPE_UTF8,
                                   C(GN_PCTX_CONNACK) | C(GN_PCTX_PUBACK) | C(GN_PCTX_SUBACK) |
                                   C(GN_PCTX_UNSUBACK) | C(GN_PCTX_DISCONNECT) |
                                   C(GN_PCTX_AUTH) },
    [GN_PROP_RECEIVE_MAXIMUM]  = { "Receive Maximum", GN_PTYPE_U16,
                                   C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) },
    [GN_PROP_TOPIC_ALIAS_MAXIMUM] = { "Topic Alias Maximum", GN_PTYPE_U16,
                                      C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) },
    [GN_PROP_TOPIC_ALIAS]      = { "Topic Alias", GN_PTYPE_U16, C(GN_PCTX_PUBLISH) },
    [GN_PROP_MAXIMUM_QOS]      = { "Maximum QoS", GN_PTYPE_BYTE, C(GN_PCTX_CONNACK) },
    [GN_PROP_RETAIN_AVAILABLE] = { "Retain Available", GN_PTYPE_BYTE, C(GN_PCTX_CONNACK) },
    [GN_PROP_USER_PROPERTY]    = { "User Property", GN_PTYPE_UTF8_PAIR, C_ALL },
    [GN_PROP_MAXIMUM_PACKET_SIZE] = { "Maximum Packet Size", GN_PTYPE_U32,
                                      C(GN_PCTX_CONNECT) | C(GN_PCTX_CONNACK) },
    [GN_PROP_WILDCARD_SUB_AVAILABLE] = { "Wildcard Subscription Available", GN_PTYPE_BYTE,
                                         C(GN_PCTX_CONNACK) },
    [GN_PROP_SUB_ID_AVAILABLE] = { "Subscription Identifier Available", GN_PTYPE_BYTE,
                                   C(GN_PCTX_CONNACK) },
    [GN_PROP_SHARED_SUB_AVAILABLE] = { "Shared Subscription Available", GN_PTYPE_BYTE,
                                       C(GN_PCTX_CONNACK) },
};

gn_prop_type gn_prop_type_of(uint8_t id)
{
    return id <= GN_PROP_ID_MAX ? gn_prop_table[id].type : GN_PTYPE_NONE;
}

bool gn_prop_allowed(uint8_t id, gn_prop_ctx ctx)
{
    if (id > GN_PROP_ID_MAX || (unsigned)ctx >= GN_PCTX__COUNT)
        return false;
    return (gn_prop_table[id].ctx & C(ctx)) != 0;
}

const char *gn_prop_name(uint8_t id)
{
    if (id > GN_PROP_ID_MAX || gn_prop_table[id].name == NULL)
        return "unknown";
    return gn_prop_table[id].name;
}

/* Range rule of a numeric property value (spec 3.x.2.x "It is a Protocol
 * Error to include the value ..."). */
bool gn_prop_value_ok(uint8_t id, uint32_t v)
{
    switch (id) {
    case GN_PROP_PAYLOAD_FORMAT:
    case GN_PROP_REQUEST_PROBLEM_INFO:
    case GN_PROP_REQUEST_RESPONSE_INFO:
    case GN_PROP_MAXIMUM_QOS:
    case GN_PROP_RETAIN_AVAILABLE:
    case GN_PROP_WILDCARD_SUB_AVAILABLE:
    case GN_PROP_SUB_ID_AVAILABLE:
    case GN_PROP_SHARED_SUB_AVAILABLE:
        return v <= 1;
    case GN_PROP_RECEIVE_MAXIMUM:
    case GN_PROP_TOPIC_ALIAS:
    case GN_PROP_MAXIMUM_PACKET_SIZE:
        return v != 0;
    case GN_PROP_SUBSCRIPTION_ID:
        return v != 0 && v <= GN_MAX_REMAINING_LENGTH;
    default:
        return true;
    }
}

static void set_num(gn_props *o, uint8_t id, uint32_t v)
{
    switch (id) {
    case GN_PROP_PAYLOAD_FORMAT:         o->payload_format = (uint8_t)v; break;
    case GN_PROP_REQUEST_PROBLEM_INFO:   o->request_problem_info = (uint8_t)v; break;
    case GN_PROP_REQUEST_RESPONSE_INFO:  o->request_response_info = (uint8_t)v; break;
    case GN_PROP_MAXIMUM_QOS:            o->maximum_qos = (uint8_t)v; break;
    case GN_PROP_RETAIN_AVAILABLE:       o->retain_available = (uint8_t)v; break;
    case GN_PROP_WILDCARD_SUB_AVAILABLE: o->wildcard_sub_available = (uint8_t)v; break;
    case GN_PROP_SUB_ID_AVAILABLE:       o->sub_id_available = (uint8_t)v; break;
    case GN_PROP_SHARED_SUB_AVAILABLE:   o->shared_sub_available = (uint8_t)v; break;
    case GN_PROP_SERVER_KEEP_ALIVE:      o->server_keep_alive = (uint16_t)v; break;
    case GN_PROP_RECEIVE_MAXIMUM:        o->receive_maximum = (uint16_t)v; break;
    case GN_PROP_TOPIC_ALIAS_MAXIMUM:    o->topic_alias_maximum = (uint16_t)v; break;
    case GN_PROP_TOPIC_ALIAS:            o->topic_alias = (uint16_t)v; break;
    case GN_PROP_MESSAGE_EXPIRY:         o->message_expiry = v; break;
    case GN_PROP_SESSION_EXPIRY:         o->session_expiry = v; break;
    case GN_PROP_WILL_DELAY:             o->will_delay = v; break;
    case GN_PROP_MAXIMUM_PACKET_SIZE:    o->maximum_packet_size = v; break;
    case GN_PROP_SUBSCRIPTION_ID:        o->subscription_id = v; break;
    default: break;
    }
}

uint32_t gn_prop_get_num(const gn_props *o, uint8_t id)
{
    switch (id) {
    case GN_PROP_PAYLOAD_FORMAT:         return o->payload_format;
    case GN_PROP_REQUEST_PROBLEM_INFO:   return o->request_problem_info;
    case GN_PROP_REQUEST_RESPONSE_INFO:  return o->request_response_info;
    case GN_PROP_MAXIMUM_QOS:            return o->maximum_qos;
    case GN_PROP_RETAIN_AVAILABLE:       return o->retain_available;
    case GN_PROP_WILDCARD_SUB_AVAILABLE: return o->wildcard_sub_available;
    case GN_PROP_SUB_ID_AVAILABLE:       return o->sub_id_available;
    case GN_PROP_SHARED_SUB_AVAILABLE:   return o->shared_sub_available;
    case GN_PROP_SERVER_KEEP_ALIVE:      return o->server_keep_alive;
    case GN_PROP_RECEIVE_MAXIMUM:        return o->receive_maximum;
    case GN_PROP_TOPIC_ALIAS_MAXIMUM:    return o->topic_alias_maximum;
    case GN_PROP_TOPIC_ALIAS:            return o->topic_alias;
    case GN_PROP_MESSAGE_EXPIRY:         return o->message_expiry;
    case GN_PROP_SESSION_EXPIRY:         return o->session_expiry;
    case GN_PROP_WILL_DELAY:             return o->will_delay;
    case GN_PROP_MAXIMUM_PACKET_SIZE:    return o->maximum_packet_size;
    case GN_PROP_SUBSCRIPTION_ID:        return o->subscription_id;
    default:                             return 0;
    }
}

static gn_str *str_field(gn_props *o, uint8_t id)
{
    switch (id) {
    case GN_PROP_CONTENT_TYPE:       return &o->content_type;
    case GN_PROP_RESPONSE_TOPIC:     return &o->response_topic;
    case GN_PROP_CORRELATION_DATA:   return &o->correlation_data;
    case GN_PROP_ASSIGNED_CLIENT_ID: return &o->assigned_client_id;
    case GN_PROP_AUTH_METHOD:        return &o->auth_method;
    case GN_PROP_AUTH_DATA:          return &o->auth_data;
    case GN_PROP_RESPONSE_INFO:      return &o->response_info;
    case GN_PROP_SERVER_REFERENCE:   return &o->server_reference;
    case GN_PROP_REASON_STRING:      return &o->reason_string;
    default:                         return NULL;
    }
}

const gn_str *gn_prop_str(const gn_props *o, uint8_t id)
{
    return str_field((gn_props *)o, id);
}

/* A two-byte-length string inside [p, end): GN_OK or GN_ERR_PROPERTY_LENGTH. */
static gn_err take_str(const uint8_t **p, const uint8_t *end, gn_str *out)
{
    if (end - *p < 2)
        return GN_ERR_PROPERTY_LENGTH;
    uint32_t n = gn_be16(*p);
    if ((size_t)(end - *p) - 2 < n)
        return GN_ERR_PROPERTY_LENGTH;
    out->ptr = *p + 2;
    out->len = n;
    *p += 2 + n;
    return GN_OK;
}

/* Decode one property value of `id` at *p (id byte already consumed). */
static gn_err decode_one(uint8_t id, const uint8_t **pp, const uint8_t *end, gn_props *o)
{
    const uint8_t *p = *pp;
    size_t left = (size_t)(end - p);
    uint32_t v = 0;
    gn_err e;
    switch (gn_prop_table[id].type) {
    case GN_PTYPE_BYTE:
        if (left < 1)
            return GN_ERR_PROPERTY_LENGTH;
        v = p[0];
        p += 1;
        break;
    case GN_PTYPE_U16:
        if (left < 2)
            return GN_ERR_PROPERTY_LENGTH;
        v = gn_be16(p);
        p += 2;
        break;
    case GN_PTYPE_U32:
        if (left < 4)
            return GN_ERR_PROPERTY_LENGTH;
        v = gn_be32(p);
        p += 4;
        break;
    case GN_PTYPE_VARINT: {
        int n = gn_varint_read(p, left, &v);
        if (n == 0)
            return GN_ERR_PROPERTY_LENGTH;
        if (n < 0)
            return GN_ERR_MALFORMED_VARINT;
        p += n;
        break;
    }
    case GN_PTYPE_UTF8:
    case GN_PTYPE_BINARY: {
        gn_str s;
        if ((e = take_str(&p, end, &s)) != GN_OK)
            return e;
        if (gn_prop_table[id].type == GN_PTYPE_UTF8) {
            e = id == GN_PROP_RESPONSE_TOPIC ? gn_topic_name_check(s.ptr, s.len)
                                             : gn_utf8_check(s.ptr, s.len);
            if (e != GN_OK)
                return e;
        }
        *str_field(o, id) = s;
        *pp = p;
        return GN_OK;
    }
    case GN_PTYPE_UTF8_PAIR: {
        gn_str k, val;
        if ((e = take_str(&p, end, &k)) != GN_OK || (e = take_str(&p, end, &val)) != GN_OK)
            return e;
        if ((e = gn_utf8_check(k.ptr, k.len)) != GN_OK ||
            (e = gn_utf8_check(val.ptr, val.len)) != GN_OK)
            return e;
        if (o->user_count != UINT16_MAX)
            o->user_count++;
        *pp = p;
        return GN_OK;
    }
    default:
        return GN_ERR_PROPERTY_UNKNOWN;
    }
    if (!gn_prop_value_ok(id, v))
        return GN_ERR_PROPERTY_VALUE;
    if (id == GN_PROP_SUBSCRIPTION_ID) {
        if (o->sub_id_count == 0)
            o->subscription_id = v;
        if (o->sub_id_count != UINT16_MAX)
            o->sub_id_count++;
    } else {
        set_num(o, id, v);
    }
    *pp = p;
    return GN_OK;
}

gn_err gn_props_decode(const uint8_t *buf, size_t len, gn_prop_ctx ctx,
                       gn_props *out, size_t *used)
{
    if (len == 0)
        return GN_ERR_TRUNCATED;
    if ((unsigned)ctx >= GN_PCTX__COUNT)
        return GN_ERR_PROPERTY_NOT_ALLOWED;
    uint32_t plen = 0;
    int n = gn_varint_read(buf, len, &plen);
    if (n < 0)
        return GN_ERR_MALFORMED_VARINT;
    if (n == 0 || len - (size_t)n < plen)
        return GN_ERR_PROPERTY_LENGTH;
    if (plen == 0) {
        gn_props_set_empty(out, buf + n);
        *used = (size_t)n;
        return GN_OK;
    }
    memset(out, 0, sizeof *out);
    const uint8_t *p = buf + n;
    const uint8_t *end = p + plen;
    out->raw.ptr = p;
    out->raw.len = plen;
    const uint64_t repeat_ok = GN_PROP_BIT(GN_PROP_USER_PROPERTY) |
        (ctx == GN_PCTX_PUBLISH ? GN_PROP_BIT(GN_PROP_SUBSCRIPTION_ID) : 0);
    while (p < end) {
        uint8_t id = *p++;
        if (id > GN_PROP_ID_MAX || gn_prop_table[id].type == GN_PTYPE_NONE)
            return GN_ERR_PROPERTY_UNKNOWN;
        if ((gn_prop_table[id].ctx & C(ctx)) == 0)
            return GN_ERR_PROPERTY_NOT_ALLOWED;
        uint64_t bit = GN_PROP_BIT(id);
        if ((out->present & bit & ~repeat_ok) != 0)
            return GN_ERR_PROPERTY_DUPLICATE;
        gn_err e = decode_one(id, &p, end, out);
        if (e != GN_OK)
            return e;
        out->present |= bit;
    }
    /* MQTT 5 3.1.2.11.10: authentication data without a method. */
    if (ctx == GN_PCTX_CONNECT && gn_props_has(out, GN_PROP_AUTH_DATA) &&
        !gn_props_has(out, GN_PROP_AUTH_METHOD))
        return GN_ERR_PROPERTY_VALUE;
    *used = (size_t)n + plen;
    return GN_OK;
}

/* Skip the value of property `id` at *p; false when it runs past end. */
static bool skip_value(uint8_t id, const uint8_t **pp, const uint8_t *end)
{
    const uint8_t *p = *pp;
    size_t left = (size_t)(end - p);
    size_t need;
    uint32_t v;
    switch (gn_prop_type_of(id)) {
    case GN_PTYPE_BYTE:   need = 1; break;
    case GN_PTYPE_U16:    need = 2; break;
    case GN_PTYPE_U32:    need = 4; break;
    case GN_PTYPE_VARINT: {
        int n = gn_varint_read(p, left, &v);
        if (n <= 0)
            return false;
        need = (size_t)n;
        break;
    }
    case GN_PTYPE_UTF8:
    case GN_PTYPE_BINARY:
        if (left < 2)
            return false;
        need = 2u + gn_be16(p);
        break;
    case GN_PTYPE_UTF8_PAIR:
        if (left < 2 || left - 2 < gn_be16(p))
            return false;
        need = 2u + gn_be16(p);
        if (left - need < 2)
            return false;
        need += 2u + gn_be16(p + need);
        break;
    default:
        return false;
    }
    if (need > left)
        return false;
    *pp = p + need;
    return true;
}

/* Find the next property `want` in raw from *cursor; *at is its value. */
static bool walk_to(const gn_props *p, uint32_t *cursor, uint8_t want, const uint8_t **at)
{
    if (p->raw.ptr == NULL)
        return false;
    const uint8_t *q = p->raw.ptr + *cursor;
    const uint8_t *end = p->raw.ptr + p->raw.len;
    while (q < end) {
        uint8_t id = *q++;
        const uint8_t *val = q;
        if (!skip_value(id, &q, end))
            return false;
        if (id == want) {
            *at = val;
            *cursor = (uint32_t)(q - p->raw.ptr);
            return true;
        }
    }
    *cursor = p->raw.len;
    return false;
}

bool gn_props_next_user(const gn_props *p, uint32_t *cursor, gn_user_prop *out)
{
    const uint8_t *v;
    if (*cursor >= p->raw.len || !walk_to(p, cursor, GN_PROP_USER_PROPERTY, &v))
        return false;
    out->key.len = gn_be16(v);
    out->key.ptr = v + 2;
    out->value.len = gn_be16(v + 2 + out->key.len);
    out->value.ptr = v + 4 + out->key.len;
    return true;
}

bool gn_props_next_sub_id(const gn_props *p, uint32_t *cursor, uint32_t *out)
{
    const uint8_t *v;
    if (*cursor >= p->raw.len || !walk_to(p, cursor, GN_PROP_SUBSCRIPTION_ID, &v))
        return false;
    const uint8_t *end = p->raw.ptr + p->raw.len;
    return gn_varint_read(v, (size_t)(end - v), out) > 0;
}
