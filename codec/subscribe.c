/* codec/subscribe.c — SUBSCRIBE and UNSUBSCRIBE: packet id, MQTT 5
 * properties, the list of topic filters (with subscription options for
 * SUBSCRIBE) validated once at decode and then walked without checks by
 * gn_subscribe_next / gn_unsubscribe_next. Decode and encode. */
#include "codec/packet.h"
#include "codec/topic.h"
#include "codec/wire.h"

/* Options bits that must be 0: 3.x uses only the QoS bits. */
static uint8_t opts_reserved(gn_proto proto)
{
    return proto == GN_PROTO_V5 ? 0xC0u : 0xFCu;
}

static bool is_shared(const uint8_t *s, uint32_t len)
{
    return len >= 7 && memcmp(s, "$share/", 7) == 0;
}

static gn_err check_options(uint8_t o, gn_bytes filter, gn_proto proto)
{
    if (o & opts_reserved(proto))
        return GN_ERR_SUB_OPTIONS_RESERVED;
    if ((o & GN_SUBOPT_QOS_MASK) == 3)
        return GN_ERR_QOS_INVALID;
    if (GN_SUBOPT_RETAIN_HANDLING(o) == 3)
        return GN_ERR_RETAIN_HANDLING;
    if ((o & GN_SUBOPT_NO_LOCAL) && is_shared(filter.ptr, filter.len))
        return GN_ERR_SHARED_NO_LOCAL;
    return GN_OK;
}

/* Common head: packet id and (MQTT 5) properties. */
static gn_err decode_head(gn_rd *r, gn_proto proto, gn_prop_ctx ctx, uint16_t *id,
                          gn_props *props)
{
    if (!gn_rd_u16(r, id))
        return GN_ERR_TRUNCATED;
    if (*id == 0)
        return GN_ERR_PACKET_ID_ZERO;
    if (proto == GN_PROTO_V5)
        return gn_rd_props(r, ctx, props);
    gn_props_set_empty(props, r->p);
    return GN_OK;
}

gn_err gn_decode_subscribe(const uint8_t *body, size_t len, gn_proto proto, gn_subscribe *out)
{
    gn_rd r = { body, body + len };
    gn_err e = decode_head(&r, proto, GN_PCTX_SUBSCRIBE, &out->packet_id, &out->props);
    if (e != GN_OK)
        return e;
    out->entries.ptr = r.p;
    out->entries.len = (uint32_t)gn_rd_left(&r);
    out->count = 0;
    while (r.p < r.end) {
        gn_bytes f;
        uint8_t o;
        if (!gn_rd_str(&r, &f) || !gn_rd_u8(&r, &o))
            return GN_ERR_TRUNCATED;
        if ((e = gn_topic_filter_check(f.ptr, f.len)) != GN_OK)
            return e;
        if ((e = check_options(o, f, proto)) != GN_OK)
            return e;
        out->count++;
    }
    return out->count == 0 ? GN_ERR_NO_TOPIC_FILTERS : GN_OK;
}

gn_err gn_decode_unsubscribe(const uint8_t *body, size_t len, gn_proto proto,
                             gn_unsubscribe *out)
{
    gn_rd r = { body, body + len };
    gn_err e = decode_head(&r, proto, GN_PCTX_UNSUBSCRIBE, &out->packet_id, &out->props);
    if (e != GN_OK)
        return e;
    out->entries.ptr = r.p;
    out->entries.len = (uint32_t)gn_rd_left(&r);
    out->count = 0;
    while (r.p < r.end) {
        gn_bytes f;
        if (!gn_rd_str(&r, &f))
            return GN_ERR_TRUNCATED;
        if ((e = gn_topic_filter_check(f.ptr, f.len)) != GN_OK)
            return e;
        out->count++;
    }
    return out->count == 0 ? GN_ERR_NO_TOPIC_FILTERS : GN_OK;
}

bool gn_subscribe_next(const gn_subscribe *s, uint32_t *cursor,
                       gn_bytes *filter, uint8_t *options)
{
    if (s->entries.ptr == NULL || *cursor >= s->entries.len)
        return false;
    gn_rd r = { s->entries.ptr + *cursor, s->entries.ptr + s->entries.len };
    uint8_t o;
    if (!gn_rd_str(&r, filter) || !gn_rd_u8(&r, &o))
        return false;
    *options = o;
    *cursor = (uint32_t)(r.p - s->entries.ptr);
    return true;
}

bool gn_unsubscribe_next(const gn_unsubscribe *s, uint32_t *cursor, gn_bytes *filter)
{
    if (s->entries.ptr == NULL || *cursor >= s->entries.len)
        return false;
    gn_rd r = { s->entries.ptr + *cursor, s->entries.ptr + s->entries.len };
    if (!gn_rd_str(&r, filter))
        return false;
    *cursor = (uint32_t)(r.p - s->entries.ptr);
    return true;
}

/* Shared encoder; with_opts selects SUBSCRIBE. */
static gn_err encode_list(gn_packet_type type, uint16_t packet_id, const gn_props *props,
                          gn_proto proto, const gn_sub_entry *subs, size_t nsubs,
                          uint8_t *buf, size_t cap, size_t *len_out)
{
    bool with_opts = type == GN_SUBSCRIBE;
    if (packet_id == 0 || nsubs == 0 || subs == NULL)
        return GN_ERR_ENCODE_INVALID;
    size_t rl = 2;
    if (proto == GN_PROTO_V5) {
        gn_prop_ctx ctx = with_opts ? GN_PCTX_SUBSCRIBE : GN_PCTX_UNSUBSCRIBE;
        if (gn_props_check_encode(props, ctx) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        rl += gn_props_size(props);
    }
    for (size_t i = 0; i < nsubs; i++) {
        const gn_sub_entry *s = &subs[i];
        if (s->filter.len == 0 || s->filter.len > GN_MAX_STRING || s->filter.ptr == NULL)
            return GN_ERR_ENCODE_INVALID;
        if (with_opts && check_options(s->options, s->filter, proto) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        rl += 2u + s->filter.len + (with_opts ? 1u : 0u);
        if (rl > GN_MAX_REMAINING_LENGTH)
            return GN_ERR_ENCODE_INVALID;
    }
    uint8_t *w;
    gn_err e = gn_wr_fixed((uint8_t)(type << 4 | 2u), rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    w = gn_put16(w, packet_id);
    if (proto == GN_PROTO_V5)
        w += gn_props_write(props, w);
    for (size_t i = 0; i < nsubs; i++) {
        w = gn_put_str(w, subs[i].filter.ptr, subs[i].filter.len);
        if (with_opts)
            *w++ = subs[i].options;
    }
    return GN_OK;
}

gn_err gn_encode_subscribe(const gn_subscribe *s, gn_proto proto, const gn_sub_entry *subs,
                           size_t nsubs, uint8_t *buf, size_t cap, size_t *len_out)
{
    return encode_list(GN_SUBSCRIBE, s->packet_id, &s->props, proto, subs, nsubs,
                       buf, cap, len_out);
}

gn_err gn_encode_unsubscribe(const gn_unsubscribe *s, gn_proto proto,
                             const gn_sub_entry *subs, size_t nsubs, uint8_t *buf,
                             size_t cap, size_t *len_out)
{
    return encode_list(GN_UNSUBSCRIBE, s->packet_id, &s->props, proto, subs, nsubs,
                       buf, cap, len_out);
}
