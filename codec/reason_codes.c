/* codec/reason_codes.c — the MQTT 5 reason code table (spec 2.4): the name
 * of each code and the control packets it may appear in, plus the mapping
 * of an MQTT 5 CONNACK reason onto the 3.x CONNACK return codes. */
#include "codec/reason_codes.h"

#include <stddef.h>

#include "codec/packet.h"

#define P(t) (1u << (t))
#define ACKS_OK (P(GN_PUBACK) | P(GN_PUBREC))
#define ERR_COMMON (P(GN_CONNACK) | ACKS_OK | P(GN_SUBACK) | P(GN_UNSUBACK) | P(GN_DISCONNECT))

typedef struct gn_reason_info {
    const char *name;
    uint16_t    packets;    /* bit (1 << packet type) per packet it may appear in */
} gn_reason_info;

static const gn_reason_info gn_reason_table[256] = {
    [0x00] = { "Success", P(GN_CONNACK) | P(GN_PUBACK) | P(GN_PUBREC) | P(GN_PUBREL) |
               P(GN_PUBCOMP) | P(GN_SUBACK) | P(GN_UNSUBACK) | P(GN_DISCONNECT) | P(GN_AUTH) },
    [0x01] = { "Granted QoS 1", P(GN_SUBACK) },
    [0x02] = { "Granted QoS 2", P(GN_SUBACK) },
    [0x04] = { "Disconnect with Will Message", P(GN_DISCONNECT) },
    [0x10] = { "No matching subscribers", ACKS_OK },
    [0x11] = { "No subscription existed", P(GN_UNSUBACK) },
    [0x18] = { "Continue authentication", P(GN_AUTH) },
    [0x19] = { "Re-authenticate", P(GN_AUTH) },
    [0x80] = { "Unspecified error", ERR_COMMON },
    [0x81] = { "Malformed Packet", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x82] = { "Protocol Error", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x83] = { "Implementation specific error", ERR_COMMON },
    [0x84] = { "Unsupported Protocol Version", P(GN_CONNACK) },
    [0x85] = { "Client Identifier not valid", P(GN_CONNACK) },
    [0x86] = { "Bad User Name or Password", P(GN_CONNACK) },
    [0x87] = { "Not authorized", ERR_COMMON },
    [0x88] = { "Server unavailable", P(GN_CONNACK) },
    [0x89] = { "Server busy", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x8A] = { "Banned", P(GN_CONNACK) },
    [0x8B] = { "Server shutting down", P(GN_DISCONNECT) },
    [0x8C] = { "Bad authentication method", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x8D] = { "Keep Alive timeout", P(GN_DISCONNECT) },
    [0x8E] = { "Session taken over", P(GN_DISCONNECT) },
    [0x8F] = { "Topic Filter invalid", P(GN_SUBACK) | P(GN_UNSUBACK) | P(GN_DISCONNECT) },
    [0x90] = { "Topic Name invalid", P(GN_CONNACK) | ACKS_OK | P(GN_DISCONNECT) },
    [0x91] = { "Packet Identifier in use", ACKS_OK | P(GN_SUBACK) | P(GN_UNSUBACK) },
    [0x92] = { "Packet Identifier not found", P(GN_PUBREL) | P(GN_PUBCOMP) },
    [0x93] = { "Receive Maximum exceeded", P(GN_DISCONNECT) },
    [0x94] = { "Topic Alias invalid", P(GN_DISCONNECT) },
    [0x95] = { "Packet too large", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x96] = { "Message rate too high", P(GN_DISCONNECT) },
    [0x97] = { "Quota exceeded", P(GN_CONNACK) | ACKS_OK | P(GN_SUBACK) | P(GN_DISCONNECT) },
    [0x98] = { "Administrative action", P(GN_DISCONNECT) },
    [0x99] = { "Payload format invalid", P(GN_CONNACK) | ACKS_OK | P(GN_DISCONNECT) },
    [0x9A] = { "Retain not supported", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x9B] = { "QoS not supported", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x9C] = { "Use another server", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x9D] = { "Server moved", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0x9E] = { "Shared Subscriptions not supported", P(GN_SUBACK) | P(GN_DISCONNECT) },
    [0x9F] = { "Connection rate exceeded", P(GN_CONNACK) | P(GN_DISCONNECT) },
    [0xA0] = { "Maximum connect time", P(GN_DISCONNECT) },
    [0xA1] = { "Subscription Identifiers not supported", P(GN_SUBACK) | P(GN_DISCONNECT) },
    [0xA2] = { "Wildcard Subscriptions not supported", P(GN_SUBACK) | P(GN_DISCONNECT) },
};

const char *gn_reason_name(uint8_t rc)
{
    const char *n = gn_reason_table[rc].name;
    return n != NULL ? n : "unknown";
}

bool gn_reason_allowed(uint8_t rc, int packet_type)
{
    if (packet_type < GN_CONNECT || packet_type > GN_AUTH)
        return false;
    return (gn_reason_table[rc].packets & P(packet_type)) != 0;
}

uint8_t gn_reason_to_connack_v3(uint8_t rc)
{
    switch (rc) {
    case GN_RC_SUCCESS:                      return GN_CONNACK_V3_ACCEPTED;
    case GN_RC_UNSUPPORTED_PROTOCOL_VERSION: return GN_CONNACK_V3_BAD_PROTOCOL;
    case GN_RC_CLIENT_ID_NOT_VALID:          return GN_CONNACK_V3_ID_REJECTED;
    case GN_RC_BAD_USERNAME_OR_PASSWORD:
    case GN_RC_BAD_AUTHENTICATION_METHOD:    return GN_CONNACK_V3_BAD_CREDENTIALS;
    case GN_RC_NOT_AUTHORIZED:
    case GN_RC_BANNED:                       return GN_CONNACK_V3_NOT_AUTHORIZED;
    default:                                 return GN_CONNACK_V3_SERVER_UNAVAILABLE;
    }
}
