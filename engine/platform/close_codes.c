/* engine/platform/close_codes.c — the one table of platform close codes:
 * reason string (seeds 000/001; proxy codes from PLATFORM.md S-108), the
 * MQTT 5 DISCONNECT reason code for a server-side close, and the MQTT 5
 * CONNACK reason code when the close refuses a CONNECT. The codec's own
 * table (codec/errors.c) names the close code of each decode error; every
 * one of those codes is in this table (tests/platform/unit checks it). */
#include "engine/platform/close_codes.h"

#include "codec/reason_codes.h"

typedef struct close_info {
    uint16_t    code;
    const char *reason;
    uint8_t     disconnect;     /* MQTT 5 DISCONNECT reason */
    uint8_t     connack;        /* MQTT 5 CONNACK reason (refused CONNECT) */
} close_info;

static const close_info table[] = {
    { GN_CLOSE_NORMAL,         "The connection completed normally", 0x00, 0x00 },
    { GN_CLOSE_BY_CLIENT,      "The connection was closed by the client", 0x00, 0x80 },
    { GN_CLOSE_BY_SERVER,      "The connection was closed by the server",
      GN_RC_UNSPECIFIED_ERROR, GN_RC_UNSPECIFIED_ERROR },
    { GN_CLOSE_SHUTDOWN,       "The connection was closed because the server was shut down",
      GN_RC_SERVER_SHUTTING_DOWN, GN_RC_SERVER_UNAVAILABLE },
    { GN_CLOSE_ADMIN,          "The connection was closed by an administrator",
      GN_RC_ADMINISTRATIVE_ACTION, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_CAPACITY,       "The server capacity is reached", GN_RC_SERVER_BUSY, GN_RC_SERVER_BUSY },
    { GN_CLOSE_INVALID_DATA,   "The data from the client is not valid",
      GN_RC_MALFORMED_PACKET, GN_RC_MALFORMED_PACKET },
    { GN_CLOSE_TOO_MANY_SUBS,  "Too many producers or consumers in a single connection",
      GN_RC_QUOTA_EXCEEDED, GN_RC_QUOTA_EXCEEDED },
    { GN_CLOSE_CONN_AUTH,      "The connection is not authorized", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_TIMEOUT,        "The connection timed out", GN_RC_KEEP_ALIVE_TIMEOUT, GN_RC_UNSPECIFIED_ERROR },
    { GN_CLOSE_TLS_HANDSHAKE,  "Closed during TLS handshake", GN_RC_UNSPECIFIED_ERROR, GN_RC_UNSPECIFIED_ERROR },
    { GN_CLOSE_NO_DATA,        "No data was received on a connection",
      GN_RC_MAXIMUM_CONNECT_TIME, GN_RC_UNSPECIFIED_ERROR },
    { GN_CLOSE_FIRST_PACKET,   "The initial packet is too large", GN_RC_PACKET_TOO_LARGE, GN_RC_PACKET_TOO_LARGE },
    { GN_CLOSE_CLIENT_ID,      "The ClientID is not valid", GN_RC_CLIENT_ID_NOT_VALID, GN_RC_CLIENT_ID_NOT_VALID },
    { GN_CLOSE_UNAVAILABLE,    "Server not available", GN_RC_SERVER_UNAVAILABLE, GN_RC_SERVER_UNAVAILABLE },
    { GN_CLOSE_CERT_MISSING,   "Certificate missing", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_CERT_INVALID,   "Certificate not valid", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_ORG_CONNS,      "Too many connections for an organization", GN_RC_QUOTA_EXCEEDED, GN_RC_QUOTA_EXCEEDED },
    { GN_CLOSE_HTTP_AUTH,      "The HTTP Authorization header cannot be changed in a connection",
      GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_AUTH_DELAY,     "Authorization request is in delay or too many authentication requests",
      GN_RC_SERVER_BUSY, GN_RC_SERVER_BUSY },
    { GN_CLOSE_NOT_AUTHORIZED, "The operation is not authorized", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_WILL_DENIED,    "The will message is not allowed", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
    { GN_CLOSE_LENGTH,         "The length of the message is not correct",
      GN_RC_MALFORMED_PACKET, GN_RC_MALFORMED_PACKET },
    { GN_CLOSE_TOPIC,          "The topic is not valid", GN_RC_TOPIC_NAME_INVALID, GN_RC_TOPIC_NAME_INVALID },
    { GN_CLOSE_QOS_INVALID,    "The quality of service is not valid", GN_RC_PROTOCOL_ERROR, GN_RC_PROTOCOL_ERROR },
    { GN_CLOSE_TOO_LARGE,      "The message size is too large for this endpoint",
      GN_RC_PACKET_TOO_LARGE, GN_RC_PACKET_TOO_LARGE },
    { GN_CLOSE_ID_REUSED,      "The clientID was reused", GN_RC_SESSION_TAKEN_OVER, GN_RC_UNSPECIFIED_ERROR },
    { GN_CLOSE_SYSTEM_TOPIC,   "The topic is a system topic", GN_RC_TOPIC_NAME_INVALID, GN_RC_TOPIC_NAME_INVALID },
    { GN_CLOSE_QOS_DENIED,     "The requested quality of service is not allowed",
      GN_RC_QOS_NOT_SUPPORTED, GN_RC_QOS_NOT_SUPPORTED },
    { GN_CLOSE_DURABLE_DENIED, "A cleansession=0 session is not allowed", GN_RC_NOT_AUTHORIZED, GN_RC_NOT_AUTHORIZED },
};

#define NCODES (sizeof table / sizeof table[0])

static const close_info *find(uint16_t code)
{
    for (size_t i = 0; i < NCODES; i++)
        if (table[i].code == code)
            return &table[i];
    return NULL;
}

bool gn_close_known(uint16_t code) { return find(code) != NULL; }

const char *gn_close_reason(uint16_t code)
{
    const close_info *c = find(code);
    return c ? c->reason : "Unknown close code";
}

uint8_t gn_close_mqtt5_reason(uint16_t code)
{
    const close_info *c = find(code);
    return c ? c->disconnect : GN_RC_UNSPECIFIED_ERROR;
}

uint8_t gn_close_connack_reason(uint16_t code)
{
    const close_info *c = find(code);
    return c ? c->connack : GN_RC_UNSPECIFIED_ERROR;
}

size_t gn_close_count(void) { return NCODES; }
uint16_t gn_close_code_at(size_t i) { return i < NCODES ? table[i].code : 0; }

uint16_t gn_close_from_mqtt5_reason(uint8_t rc)
{
    switch (rc) {
    case GN_RC_SUCCESS:                  return GN_CLOSE_NORMAL;
    case GN_RC_KEEP_ALIVE_TIMEOUT:       return GN_CLOSE_TIMEOUT;
    case GN_RC_SESSION_TAKEN_OVER:       return GN_CLOSE_ID_REUSED;
    case GN_RC_PACKET_TOO_LARGE:         return GN_CLOSE_TOO_LARGE;
    case GN_RC_QOS_NOT_SUPPORTED:        return GN_CLOSE_QOS_DENIED;
    case GN_RC_SERVER_SHUTTING_DOWN:     return GN_CLOSE_SHUTDOWN;
    case GN_RC_ADMINISTRATIVE_ACTION:    return GN_CLOSE_ADMIN;
    case GN_RC_NOT_AUTHORIZED:           return GN_CLOSE_NOT_AUTHORIZED;
    case GN_RC_TOPIC_NAME_INVALID:
    case GN_RC_TOPIC_FILTER_INVALID:     return GN_CLOSE_TOPIC;
    case GN_RC_QUOTA_EXCEEDED:           return GN_CLOSE_TOO_MANY_SUBS;
    case GN_RC_MALFORMED_PACKET:
    case GN_RC_PROTOCOL_ERROR:
    case GN_RC_TOPIC_ALIAS_INVALID:
    case GN_RC_RECEIVE_MAXIMUM_EXCEEDED:
    case GN_RC_RETAIN_NOT_SUPPORTED:     return GN_CLOSE_INVALID_DATA;
    case GN_RC_SERVER_BUSY:              return GN_CLOSE_CAPACITY;
    default:                             return GN_CLOSE_BY_SERVER;
    }
}
