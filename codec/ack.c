/* codec/ack.c — PUBACK, PUBREC, PUBREL, PUBCOMP: packet id, and in MQTT 5 a
 * reason code and properties, each omitted in the short forms (remaining
 * length 2: success without properties; 3: reason without properties).
 * Decode and encode. */
#include "codec/packet.h"
#include "codec/wire.h"

gn_err gn_decode_ack(const uint8_t *body, size_t len, gn_packet_type type, gn_proto proto,
                     gn_ack *out)
{
    (void)type;
    if (len < 2)
        return GN_ERR_TRUNCATED;
    out->packet_id = gn_be16(body);
    if (out->packet_id == 0)
        return GN_ERR_PACKET_ID_ZERO;
    out->reason = 0;
    gn_props_set_empty(&out->props, body + len);
    if (proto != GN_PROTO_V5)
        return len == 2 ? GN_OK : GN_ERR_LENGTH_MISMATCH;
    if (len == 2)
        return GN_OK;
    out->reason = body[2];
    if (!gn_reason_allowed(out->reason, (int)type))
        return GN_ERR_REASON_CODE_INVALID;
    if (len == 3)
        return GN_OK;
    gn_rd r = { body + 3, body + len };
    gn_err e = gn_rd_props(&r, GN_PCTX_PUBACK, &out->props);
    if (e != GN_OK)
        return e;
    return r.p == r.end ? GN_OK : GN_ERR_LENGTH_MISMATCH;
}

gn_err gn_encode_ack(const gn_ack *a, gn_packet_type type, gn_proto proto, uint8_t *buf,
                     size_t cap, size_t *len_out)
{
    if (a->packet_id == 0)
        return GN_ERR_ENCODE_INVALID;
    size_t rl = 2;
    size_t props_len = 0;
    if (proto == GN_PROTO_V5) {
        if (!gn_reason_allowed(a->reason, (int)type) ||
            gn_props_check_encode(&a->props, GN_PCTX_PUBACK) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        props_len = gn_props_size(&a->props);
        if (props_len > 1)
            rl = 3 + props_len;
        else if (a->reason != 0)
            rl = 3;
    } else if (a->reason != 0) {
        return GN_ERR_ENCODE_INVALID;
    }
    uint8_t first = (uint8_t)(type << 4 | (type == GN_PUBREL ? 2u : 0u));
    uint8_t *w;
    gn_err e = gn_wr_fixed(first, rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    w = gn_put16(w, a->packet_id);
    if (rl >= 3)
        *w++ = a->reason;
    if (rl > 3)
        gn_props_write(&a->props, w);
    return GN_OK;
}
