/* codec/suback.c — SUBACK and UNSUBACK: packet id, MQTT 5 properties, one
 * return / reason code per filter (UNSUBACK before MQTT 5 has none).
 * Decode and encode. */
#include "codec/packet.h"
#include "codec/wire.h"

static bool code_ok(uint8_t rc, gn_packet_type type, gn_proto proto)
{
    if (proto == GN_PROTO_V5)
        return gn_reason_allowed(rc, (int)type);
    /* 3.x SUBACK: granted QoS 0..2 or 0x80 failure. */
    return rc <= 2 || rc == 0x80;
}

gn_err gn_decode_suback(const uint8_t *body, size_t len, gn_packet_type type, gn_proto proto,
                        gn_suback *out)
{
    gn_rd r = { body, body + len };
    if (!gn_rd_u16(&r, &out->packet_id))
        return GN_ERR_TRUNCATED;
    if (out->packet_id == 0)
        return GN_ERR_PACKET_ID_ZERO;
    if (proto == GN_PROTO_V5) {
        gn_err e = gn_rd_props(&r, type == GN_SUBACK ? GN_PCTX_SUBACK : GN_PCTX_UNSUBACK,
                               &out->props);
        if (e != GN_OK)
            return e;
    } else {
        gn_props_set_empty(&out->props, r.p);
    }
    out->reasons.ptr = r.p;
    out->reasons.len = (uint32_t)gn_rd_left(&r);
    if (type == GN_UNSUBACK && proto != GN_PROTO_V5)
        return out->reasons.len == 0 ? GN_OK : GN_ERR_LENGTH_MISMATCH;
    if (out->reasons.len == 0)
        return GN_ERR_LENGTH_MISMATCH;
    for (uint32_t i = 0; i < out->reasons.len; i++)
        if (!code_ok(out->reasons.ptr[i], type, proto))
            return GN_ERR_REASON_CODE_INVALID;
    return GN_OK;
}

gn_err gn_encode_suback(const gn_suback *s, gn_packet_type type, gn_proto proto,
                        uint8_t *buf, size_t cap, size_t *len_out)
{
    /* UNSUBACK before MQTT 5 carries no codes: s->reasons is ignored. */
    bool codes = !(type == GN_UNSUBACK && proto != GN_PROTO_V5);
    if (s->packet_id == 0)
        return GN_ERR_ENCODE_INVALID;
    size_t rl = 2;
    if (codes) {
        if (s->reasons.len == 0 || s->reasons.ptr == NULL)
            return GN_ERR_ENCODE_INVALID;
        for (uint32_t i = 0; i < s->reasons.len; i++)
            if (!code_ok(s->reasons.ptr[i], type, proto))
                return GN_ERR_ENCODE_INVALID;
        rl += s->reasons.len;
    }
    if (proto == GN_PROTO_V5) {
        gn_prop_ctx ctx = type == GN_SUBACK ? GN_PCTX_SUBACK : GN_PCTX_UNSUBACK;
        if (gn_props_check_encode(&s->props, ctx) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        rl += gn_props_size(&s->props);
    }
    uint8_t *w;
    gn_err e = gn_wr_fixed((uint8_t)(type << 4), rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    w = gn_put16(w, s->packet_id);
    if (proto == GN_PROTO_V5)
        w += gn_props_write(&s->props, w);
    if (codes)
        memcpy(w, s->reasons.ptr, s->reasons.len);
    return GN_OK;
}
