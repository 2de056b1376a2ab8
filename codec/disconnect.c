/* codec/disconnect.c — DISCONNECT and AUTH (reason code and properties,
 * both omitted when the remaining length is 0; DISCONNECT may also carry a
 * reason alone), and the bodiless PINGREQ / PINGRESP. Decode and encode. */
#include "codec/packet.h"
#include "codec/wire.h"

gn_err gn_decode_disconnect(const uint8_t *body, size_t len, gn_packet_type type,
                            gn_proto proto, gn_disconnect *out)
{
    out->reason = 0;
    gn_props_set_empty(&out->props, body + len);
    if (proto != GN_PROTO_V5 || len == 0)
        return len == 0 ? GN_OK : GN_ERR_LENGTH_MISMATCH;
    out->reason = body[0];
    if (!gn_reason_allowed(out->reason, (int)type))
        return GN_ERR_REASON_CODE_INVALID;
    if (len == 1) {
        /* 3.14.2.2: DISCONNECT may stop after its reason; AUTH may not. */
        return type == GN_DISCONNECT ? GN_OK : GN_ERR_TRUNCATED;
    }
    gn_rd r = { body + 1, body + len };
    gn_err e = gn_rd_props(&r, type == GN_AUTH ? GN_PCTX_AUTH : GN_PCTX_DISCONNECT,
                           &out->props);
    if (e != GN_OK)
        return e;
    return r.p == r.end ? GN_OK : GN_ERR_LENGTH_MISMATCH;
}

gn_err gn_encode_disconnect(const gn_disconnect *d, gn_packet_type type, gn_proto proto,
                            uint8_t *buf, size_t cap, size_t *len_out)
{
    size_t rl = 0;
    size_t props_len = 0;
    gn_prop_ctx ctx = type == GN_AUTH ? GN_PCTX_AUTH : GN_PCTX_DISCONNECT;
    if (proto == GN_PROTO_V5) {
        if (!gn_reason_allowed(d->reason, (int)type) || gn_props_check_encode(&d->props, ctx) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        props_len = gn_props_size(&d->props);
        if (props_len > 1 || (type == GN_AUTH && d->reason != 0))
            rl = 1 + props_len;
        else if (d->reason != 0)
            rl = 1;
    } else if (type == GN_AUTH || d->reason != 0) {
        return GN_ERR_ENCODE_INVALID;
    }
    uint8_t *w;
    gn_err e = gn_wr_fixed((uint8_t)(type << 4), rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    if (rl >= 1)
        *w++ = d->reason;
    if (rl > 1)
        gn_props_write(&d->props, w);
    return GN_OK;
}
