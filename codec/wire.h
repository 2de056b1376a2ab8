/* codec/wire.h — internal to codec/: the variable byte integer, big-endian
 * readers and writers, the empty-property-set shortcut, and the per-packet
 * decode / encode functions that decode.c and encode.c dispatch to.
 * Not part of the codec's public surface; only the codec sources include it.
 * Everything here is pure and thread-safe. */
#ifndef GN_CODEC_WIRE_H
#define GN_CODEC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "codec/packet.h"

#define GN_LIKELY(x)   __builtin_expect(!!(x), 1)
#define GN_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Largest string / binary field (two-byte length prefix). */
#define GN_MAX_STRING 65535u

/* Read a variable byte integer from p[0..len).
 * Returns its size (1..4), 0 when len ends before its last byte, or -1 when
 * it is malformed: a fifth byte would be needed, or it is not minimal
 * (a multi-byte encoding whose last byte is 0). A prefix of a malformed
 * integer reads as 0 (need more) or -1, never as a valid value. */
static inline int gn_varint_read(const uint8_t *p, size_t len, uint32_t *v)
{
    uint32_t val = 0;
    for (int i = 0; i < 4; i++) {
        if ((size_t)i >= len)
            return 0;
        uint8_t b = p[i];
        val |= (uint32_t)(b & 0x7Fu) << (7 * i);
        if ((b & 0x80u) == 0) {
            if (b == 0 && i > 0)
                return -1;
            *v = val;
            return i + 1;
        }
    }
    return -1;
}

/* Write v (<= GN_MAX_REMAINING_LENGTH) as a variable byte integer; returns
 * the position after it. */
static inline uint8_t *gn_varint_put(uint8_t *w, uint32_t v)
{
    do {
        uint8_t b = (uint8_t)(v & 0x7Fu);
        v >>= 7;
        if (v != 0)
            b |= 0x80u;
        *w++ = b;
    } while (v != 0);
    return w;
}

static inline uint16_t gn_be16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t gn_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *gn_put16(uint8_t *w, uint32_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static inline uint8_t *gn_put32(uint8_t *w, uint32_t v)
{
    w[0] = (uint8_t)(v >> 24);
    w[1] = (uint8_t)(v >> 16);
    w[2] = (uint8_t)(v >> 8);
    w[3] = (uint8_t)v;
    return w + 4;
}

/* Length-prefixed string or binary field. */
static inline uint8_t *gn_put_str(uint8_t *w, const uint8_t *s, uint32_t len)
{
    w = gn_put16(w, len);
    if (len != 0)
        memcpy(w, s, len);
    return w + len;
}

/* A bounded reader over one packet body. */
typedef struct gn_rd {
    const uint8_t *p;
    const uint8_t *end;
} gn_rd;

static inline size_t gn_rd_left(const gn_rd *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool gn_rd_u8(gn_rd *r, uint8_t *v)
{
    if (r->p >= r->end)
        return false;
    *v = *r->p++;
    return true;
}

static inline bool gn_rd_u16(gn_rd *r, uint16_t *v)
{
    if (gn_rd_left(r) < 2)
        return false;
    *v = gn_be16(r->p);
    r->p += 2;
    return true;
}

/* Two-byte length then that many bytes. */
static inline bool gn_rd_str(gn_rd *r, gn_bytes *out)
{
    if (gn_rd_left(r) < 2)
        return false;
    uint32_t n = gn_be16(r->p);
    if (gn_rd_left(r) - 2 < n)
        return false;
    out->ptr = r->p + 2;
    out->len = n;
    r->p += 2 + n;
    return true;
}

/* The property set of a packet that has none (MQTT 3.x, or an empty MQTT 5
 * block at `at`). Only `present`, `raw`, `user`, `sub_ids` and the counts are
 * set: every value field is meaningful only when its bit is in `present`. */
static inline void gn_props_set_empty(gn_props *p, const uint8_t *at)
{
    p->present = 0;
    p->raw.ptr = at;
    p->raw.len = 0;
    p->user = NULL;
    p->sub_ids = NULL;
    p->user_count = 0;
    p->sub_id_count = 0;
}

/* Read an MQTT 5 property block at the reader; the one-byte empty block is
 * handled inline. Missing block: GN_ERR_TRUNCATED. */
static inline gn_err gn_rd_props(gn_rd *r, gn_prop_ctx ctx, gn_props *out)
{
    if (GN_UNLIKELY(r->p >= r->end))
        return GN_ERR_TRUNCATED;
    if (GN_LIKELY(*r->p == 0)) {
        gn_props_set_empty(out, r->p + 1);
        r->p++;
        return GN_OK;
    }
    size_t used = 0;
    gn_err e = gn_props_decode(r->p, gn_rd_left(r), ctx, out, &used);
    if (e == GN_OK)
        r->p += used;
    return e;
}

/* Property value access shared by properties.c and properties_encode.c. */
bool gn_prop_value_ok(uint8_t id, uint32_t v);          /* range rule of a numeric value */
uint32_t gn_prop_get_num(const gn_props *o, uint8_t id); /* numeric field of id */
const gn_str *gn_prop_str(const gn_props *o, uint8_t id); /* string field of id, or NULL */

/* Properties (properties_encode.c). Whether a property set can be encoded in ctx:
 * every present property allowed there and in range, strings short enough,
 * the block within the variable byte integer range. */
gn_err gn_props_check_encode(const gn_props *p, gn_prop_ctx ctx);
/* Fixed header for an encoder: checks the remaining length and the buffer,
 * writes the first byte and the remaining length, sets *len_out to the total
 * size (also on GN_ERR_BUFFER_TOO_SMALL) and *w past the header. */
static inline gn_err gn_wr_fixed(uint8_t first, size_t rl, uint8_t *buf, size_t cap,
                                 size_t *len_out, uint8_t **w)
{
    if (rl > GN_MAX_REMAINING_LENGTH)
        return GN_ERR_ENCODE_INVALID;
    size_t total = 1 + gn_varint_size((uint32_t)rl) + rl;
    *len_out = total;
    if (total > cap || buf == NULL)
        return GN_ERR_BUFFER_TOO_SMALL;
    buf[0] = first;
    *w = gn_varint_put(buf + 1, (uint32_t)rl);
    return GN_OK;
}

/* Per-packet decoders: body is the packet after its fixed header. */
gn_err gn_decode_connect(const uint8_t *body, size_t len, gn_connect *out);
gn_err gn_decode_connack(const uint8_t *body, size_t len, gn_proto proto, gn_connack *out);
gn_err gn_decode_publish(const uint8_t *body, size_t len, uint8_t flags, gn_proto proto,
                         gn_publish *out);
gn_err gn_decode_ack(const uint8_t *body, size_t len, gn_packet_type type, gn_proto proto,
                     gn_ack *out);
gn_err gn_decode_subscribe(const uint8_t *body, size_t len, gn_proto proto, gn_subscribe *out);
gn_err gn_decode_unsubscribe(const uint8_t *body, size_t len, gn_proto proto,
                             gn_unsubscribe *out);
gn_err gn_decode_suback(const uint8_t *body, size_t len, gn_packet_type type, gn_proto proto,
                        gn_suback *out);
gn_err gn_decode_disconnect(const uint8_t *body, size_t len, gn_packet_type type,
                            gn_proto proto, gn_disconnect *out);

/* Per-packet encoders (same convention as gn_encode). */
gn_err gn_encode_connect(const gn_connect *c, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out);
gn_err gn_encode_connack(const gn_connack *c, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out);
gn_err gn_encode_publish(const gn_publish *p, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out);
gn_err gn_encode_ack(const gn_ack *a, gn_packet_type type, gn_proto proto, uint8_t *buf,
                     size_t cap, size_t *len_out);
gn_err gn_encode_subscribe(const gn_subscribe *s, gn_proto proto, const gn_sub_entry *subs,
                           size_t nsubs, uint8_t *buf, size_t cap, size_t *len_out);
gn_err gn_encode_unsubscribe(const gn_unsubscribe *s, gn_proto proto,
                             const gn_sub_entry *subs, size_t nsubs, uint8_t *buf,
                             size_t cap, size_t *len_out);
gn_err gn_encode_suback(const gn_suback *s, gn_packet_type type, gn_proto proto,
                        uint8_t *buf, size_t cap, size_t *len_out);
gn_err gn_encode_disconnect(const gn_disconnect *d, gn_packet_type type, gn_proto proto,
                            uint8_t *buf, size_t cap, size_t *len_out);

#endif
