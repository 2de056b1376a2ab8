/* codec/connack.c — CONNACK: acknowledge flags (session present; bits 1-7
 * reserved, the whole byte reserved in MQTT 3.1), the 3.x return code or
 * MQTT 5 reason code, MQTT 5 properties. Decode and encode. */
#include "codec/packet.h"
#include "codec/wire.h"

static bool reason_ok(uint8_t rc, gn_proto proto)
{
    if (proto == GN_PROTO_V5)
        return gn_reason_allowed(rc, GN_CONNACK);
    return rc <= GN_CONNACK_V3_NOT_AUTHORIZED;
}

gn_err gn_decode_connack(const uint8_t *body, size_t len, gn_proto proto, gn_connack *out)
{
    gn_rd r = { body, body + len };
    uint8_t f;
    if (!gn_rd_u8(&r, &f) || !gn_rd_u8(&r, &out->reason))
        return GN_ERR_TRUNCATED;
    uint8_t reserved = proto == GN_PROTO_V31 ? 0xFFu : 0xFEu;
    if (f & reserved)
        return GN_ERR_RESERVED_FLAGS;
    out->session_present = (f & 1u) != 0;
    if (!reason_ok(out->reason, proto))
        return GN_ERR_REASON_CODE_INVALID;
    /* 3.2.2-4 (3.1.1) / 3.2.2-6 (5): no session with a refusal. */
    if (out->session_present && out->reason != 0)
        return GN_ERR_RESERVED_FLAGS;
    if (proto == GN_PROTO_V5) {
        gn_err e = gn_rd_props(&r, GN_PCTX_CONNACK, &out->props);
        if (e != GN_OK)
            return e;
    } else {
        gn_props_set_empty(&out->props, r.p);
    }
    return r.p == r.end ? GN_OK : GN_ERR_LENGTH_MISMATCH;
}

gn_err gn_encode_connack(const gn_connack *c, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out)
{
    if (!reason_ok(c->reason, proto))
        return GN_ERR_ENCODE_INVALID;
    /* MQTT 3.1 has no session-present flag: it is dropped, not an error. */
    bool sp = c->session_present && proto != GN_PROTO_V31;
    if (sp && c->reason != 0)
        return GN_ERR_ENCODE_INVALID;
    size_t rl = 2;
    if (proto == GN_PROTO_V5) {
        if (gn_props_check_encode(&c->props, GN_PCTX_CONNACK) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        rl += gn_props_size(&c->props);
    }
    uint8_t *w;
    gn_err e = gn_wr_fixed(GN_CONNACK << 4, rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    *w++ = sp ? 1u : 0u;
    *w++ = c->reason;
    if (proto == GN_PROTO_V5)
        gn_props_write(&c->props, w);
    return GN_OK;
}
