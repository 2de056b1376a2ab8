/* codec/decode.c — gn_decode: re-read the fixed header of one framed packet,
 * check the remaining length against the buffer, the packet type and its
 * reserved flag bits, then dispatch to the packet's decoder. */
#include "codec/packet.h"
#include "codec/wire.h"

/* Required low nibble per packet type (PUBLISH: checked by its decoder). */
static const uint8_t gn_fixed_flags[16] = {
    [GN_PUBREL] = 2, [GN_SUBSCRIBE] = 2, [GN_UNSUBSCRIBE] = 2,
};

gn_err gn_decode(const uint8_t *pkt, size_t len, gn_proto proto, gn_packet *out)
{
    if (GN_UNLIKELY(len < 2))
        return GN_ERR_TRUNCATED;
    uint8_t b0 = pkt[0];
    uint32_t rl;
    size_t hl;
    if (GN_LIKELY(pkt[1] < 0x80u)) {
        rl = pkt[1];
        hl = 2;
    } else {
        int n = gn_varint_read(pkt + 1, len - 1, &rl);
        if (n < 0)
            return GN_ERR_MALFORMED_VARINT;
        if (n == 0)
            return GN_ERR_TRUNCATED;
        hl = 1u + (size_t)n;
    }
    if (GN_UNLIKELY(len - hl != rl))
        return len - hl < rl ? GN_ERR_TRUNCATED : GN_ERR_LENGTH_MISMATCH;
    gn_packet_type type = (gn_packet_type)(b0 >> 4);
    uint8_t flags = b0 & 0x0Fu;
    out->type = type;
    out->flags = flags;
    const uint8_t *body = pkt + hl;
    if (GN_LIKELY(type == GN_PUBLISH)) {
        if (GN_UNLIKELY(proto < GN_PROTO_V31 || proto > GN_PROTO_V5))
            return GN_ERR_PROTOCOL_VERSION;
        return gn_decode_publish(body, rl, flags, proto, &out->u.publish);
    }
    if (type == 0 || (type == GN_AUTH && proto != GN_PROTO_V5))
        return GN_ERR_RESERVED_TYPE;
    if (flags != gn_fixed_flags[type])
        return GN_ERR_RESERVED_FLAGS;
    if (type == GN_CONNECT)
        return gn_decode_connect(body, rl, &out->u.connect);
    if (proto < GN_PROTO_V31 || proto > GN_PROTO_V5)
        return GN_ERR_PROTOCOL_VERSION;
    switch (type) {
    case GN_CONNACK:
        return gn_decode_connack(body, rl, proto, &out->u.connack);
    case GN_PUBACK:
    case GN_PUBREC:
    case GN_PUBREL:
    case GN_PUBCOMP:
        return gn_decode_ack(body, rl, type, proto, &out->u.ack);
    case GN_SUBSCRIBE:
        return gn_decode_subscribe(body, rl, proto, &out->u.subscribe);
    case GN_UNSUBSCRIBE:
        return gn_decode_unsubscribe(body, rl, proto, &out->u.unsubscribe);
    case GN_SUBACK:
    case GN_UNSUBACK:
        return gn_decode_suback(body, rl, type, proto, &out->u.suback);
    case GN_PINGREQ:
    case GN_PINGRESP:
        return rl == 0 ? GN_OK : GN_ERR_LENGTH_MISMATCH;
    case GN_DISCONNECT:
    case GN_AUTH:
        return gn_decode_disconnect(body, rl, type, proto, &out->u.disconnect);
    default:
        return GN_ERR_RESERVED_TYPE;
    }
}
