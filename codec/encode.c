/* codec/encode.c — gn_encode: dispatch a packet view to its encoder.
 * The fixed-header flags are derived from the view (PUBLISH qos/dup/retain;
 * 0010 for PUBREL, SUBSCRIBE, UNSUBSCRIBE), never taken from p->flags.
 * The proto argument governs the wire form, CONNECT's included (protocol
 * name and level come from it, not from the view). Encoders check the
 * structural rules (flags, QoS, packet ids, lengths, property contexts and
 * ranges, reason codes); string contents are the caller's responsibility. */
#include "codec/packet.h"
#include "codec/wire.h"

gn_err gn_encode(const gn_packet *p, gn_proto proto,
                 const gn_sub_entry *subs, size_t nsubs,
                 uint8_t *buf, size_t cap, size_t *len_out)
{
    size_t dummy;
    if (len_out == NULL)
        len_out = &dummy;
    *len_out = 0;
    if (p == NULL || proto < GN_PROTO_V31 || proto > GN_PROTO_V5)
        return GN_ERR_ENCODE_INVALID;
    switch (p->type) {
    case GN_CONNECT:
        return gn_encode_connect(&p->u.connect, proto, buf, cap, len_out);
    case GN_CONNACK:
        return gn_encode_connack(&p->u.connack, proto, buf, cap, len_out);
    case GN_PUBLISH:
        return gn_encode_publish(&p->u.publish, proto, buf, cap, len_out);
    case GN_PUBACK:
    case GN_PUBREC:
    case GN_PUBREL:
    case GN_PUBCOMP:
        return gn_encode_ack(&p->u.ack, p->type, proto, buf, cap, len_out);
    case GN_SUBSCRIBE:
        return gn_encode_subscribe(&p->u.subscribe, proto, subs, nsubs, buf, cap, len_out);
    case GN_UNSUBSCRIBE:
        return gn_encode_unsubscribe(&p->u.unsubscribe, proto, subs, nsubs, buf, cap,
                                     len_out);
    case GN_SUBACK:
    case GN_UNSUBACK:
        return gn_encode_suback(&p->u.suback, p->type, proto, buf, cap, len_out);
    case GN_PINGREQ:
    case GN_PINGRESP: {
        uint8_t *w;
        return gn_wr_fixed((uint8_t)(p->type << 4), 0, buf, cap, len_out, &w);
    }
    case GN_DISCONNECT:
    case GN_AUTH:
        return gn_encode_disconnect(&p->u.disconnect, p->type, proto, buf, cap, len_out);
    default:
        return GN_ERR_ENCODE_INVALID;
    }
}
