/* codec/publish.c — PUBLISH: decode (the hot path: topic, packet id,
 * properties, payload, with QoS / DUP / topic / payload-format checks),
 * encode, and gn_encode_publish_header for sending the payload in place. */
#include "codec/packet.h"
#include "codec/topic.h"
#include "codec/utf8.h"
#include "codec/wire.h"

gn_err gn_decode_publish(const uint8_t *b, size_t len, uint8_t flags, gn_proto proto,
                         gn_publish *out)
{
    uint8_t qos = (uint8_t)((flags >> 1) & 3u);
    if (GN_UNLIKELY(qos == 3))
        return GN_ERR_QOS_INVALID;
    if (GN_UNLIKELY((flags & 8u) != 0 && qos == 0))
        return GN_ERR_DUP_ON_QOS0;
    out->qos = qos;
    out->dup = (flags & 8u) != 0;
    out->retain = (flags & 1u) != 0;
    if (GN_UNLIKELY(len < 2))
        return GN_ERR_TRUNCATED;
    uint32_t tl = gn_be16(b);
    size_t pos = 2u + tl;
    if (GN_UNLIKELY(pos > len))
        return GN_ERR_TRUNCATED;
    out->topic.ptr = b + 2;
    out->topic.len = tl;
    if (qos != 0) {
        if (GN_UNLIKELY(len - pos < 2))
            return GN_ERR_TRUNCATED;
        uint16_t id = gn_be16(b + pos);
        if (GN_UNLIKELY(id == 0))
            return GN_ERR_PACKET_ID_ZERO;
        out->packet_id = id;
        pos += 2;
    } else {
        out->packet_id = 0;
    }
    if (proto == GN_PROTO_V5) {
        gn_rd r = { b + pos, b + len };
        gn_err e = gn_rd_props(&r, GN_PCTX_PUBLISH, &out->props);
        if (GN_UNLIKELY(e != GN_OK))
            return e;
        pos = (size_t)(r.p - b);
    } else {
        gn_props_set_empty(&out->props, b + pos);
    }
    out->payload.ptr = b + pos;
    out->payload.len = (uint32_t)(len - pos);
    if (GN_UNLIKELY(tl == 0)) {
        if (proto != GN_PROTO_V5 || !gn_props_has(&out->props, GN_PROP_TOPIC_ALIAS))
            return GN_ERR_TOPIC_EMPTY;
    } else {
        gn_err e = gn_topic_name_check(b + 2, tl);
        if (GN_UNLIKELY(e != GN_OK))
            return e;
    }
    if (GN_UNLIKELY(out->props.present != 0) &&
        gn_props_has(&out->props, GN_PROP_PAYLOAD_FORMAT) && out->props.payload_format == 1 &&
        gn_utf8_check(out->payload.ptr, out->payload.len) != GN_OK)
        return GN_ERR_PAYLOAD_NOT_UTF8;
    return GN_OK;
}

/* Validate *p for encoding and compute its remaining length (payload
 * included) and the size of its property block. */
static gn_err publish_size(const gn_publish *p, gn_proto proto, size_t *rl, size_t *props_len)
{
    if (p->qos > 2 || (p->dup && p->qos == 0) || p->topic.len > GN_MAX_STRING ||
        (p->topic.len != 0 && p->topic.ptr == NULL) || (p->qos != 0 && p->packet_id == 0) ||
        (p->payload.len != 0 && p->payload.ptr == NULL))
        return GN_ERR_ENCODE_INVALID;
    *props_len = 0;
    if (proto == GN_PROTO_V5) {
        if (gn_props_check_encode(&p->props, GN_PCTX_PUBLISH) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        if (p->topic.len == 0 && !gn_props_has(&p->props, GN_PROP_TOPIC_ALIAS))
            return GN_ERR_ENCODE_INVALID;
        *props_len = gn_props_size(&p->props);
    } else if (p->topic.len == 0) {
        return GN_ERR_ENCODE_INVALID;
    }
    *rl = 2u + p->topic.len + (p->qos != 0 ? 2u : 0u) + *props_len + p->payload.len;
    if (*rl > GN_MAX_REMAINING_LENGTH)
        return GN_ERR_ENCODE_INVALID;
    return GN_OK;
}

/* Write everything but the payload; returns the position after it. */
static uint8_t *publish_write_header(const gn_publish *p, gn_proto proto, size_t rl,
                                     uint8_t *w)
{
    *w++ = (uint8_t)(GN_PUBLISH << 4 | (p->dup ? 8u : 0u) | (unsigned)p->qos << 1 |
                     (p->retain ? 1u : 0u));
    w = gn_varint_put(w, (uint32_t)rl);
    w = gn_put_str(w, p->topic.ptr, p->topic.len);
    if (p->qos != 0)
        w = gn_put16(w, p->packet_id);
    if (proto == GN_PROTO_V5)
        w += gn_props_write(&p->props, w);
    return w;
}

gn_err gn_encode_publish_header(const gn_publish *p, gn_proto proto,
                                uint8_t *buf, size_t cap, size_t *len_out)
{
    size_t rl, props_len;
    gn_err e = publish_size(p, proto, &rl, &props_len);
    if (e != GN_OK)
        return e;
    size_t header = 1u + gn_varint_size((uint32_t)rl) + rl - p->payload.len;
    *len_out = header;
    if (header > cap || buf == NULL)
        return GN_ERR_BUFFER_TOO_SMALL;
    publish_write_header(p, proto, rl, buf);
    return GN_OK;
}

gn_err gn_encode_publish(const gn_publish *p, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out)
{
    size_t rl, props_len;
    gn_err e = publish_size(p, proto, &rl, &props_len);
    if (e != GN_OK)
        return e;
    size_t total = 1u + gn_varint_size((uint32_t)rl) + rl;
    *len_out = total;
    if (total > cap || buf == NULL)
        return GN_ERR_BUFFER_TOO_SMALL;
    uint8_t *w = publish_write_header(p, proto, rl, buf);
    if (p->payload.len != 0)
        memcpy(w, p->payload.ptr, p->payload.len);
    return GN_OK;
}
