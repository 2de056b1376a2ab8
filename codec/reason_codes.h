/* codec/reason_codes.h — MQTT 5 reason codes (spec 2.4) and the
 * MQTT 3.x CONNACK return codes, with their names and the packets each may
 * appear in. */
#ifndef GN_CODEC_REASON_CODES_H
#define GN_CODEC_REASON_CODES_H

#include <stdbool.h>
#include <stdint.h>

enum {
    GN_RC_SUCCESS                       = 0x00, /* also Normal disconnection, Granted QoS 0 */
    GN_RC_GRANTED_QOS1                  = 0x01,
    GN_RC_GRANTED_QOS2                  = 0x02,
    GN_RC_DISCONNECT_WITH_WILL          = 0x04,
    GN_RC_NO_MATCHING_SUBSCRIBERS       = 0x10,
    GN_RC_NO_SUBSCRIPTION_EXISTED       = 0x11,
    GN_RC_CONTINUE_AUTHENTICATION       = 0x18,
    GN_RC_REAUTHENTICATE                = 0x19,
    GN_RC_UNSPECIFIED_ERROR             = 0x80,
    GN_RC_MALFORMED_PACKET              = 0x81,
    GN_RC_PROTOCOL_ERROR                = 0x82,
    GN_RC_IMPLEMENTATION_SPECIFIC       = 0x83,
    GN_RC_UNSUPPORTED_PROTOCOL_VERSION  = 0x84,
    GN_RC_CLIENT_ID_NOT_VALID           = 0x85,
    GN_RC_BAD_USERNAME_OR_PASSWORD      = 0x86,
    GN_RC_NOT_AUTHORIZED                = 0x87,
    GN_RC_SERVER_UNAVAILABLE            = 0x88,
    GN_RC_SERVER_BUSY                   = 0x89,
    GN_RC_BANNED                        = 0x8A,
    GN_RC_SERVER_SHUTTING_DOWN          = 0x8B,
    GN_RC_BAD_AUTHENTICATION_METHOD     = 0x8C,
    GN_RC_KEEP_ALIVE_TIMEOUT            = 0x8D,
    GN_RC_SESSION_TAKEN_OVER            = 0x8E,
    GN_RC_TOPIC_FILTER_INVALID          = 0x8F,
    GN_RC_TOPIC_NAME_INVALID            = 0x90,
    GN_RC_PACKET_ID_IN_USE              = 0x91,
    GN_RC_PACKET_ID_NOT_FOUND           = 0x92,
    GN_RC_RECEIVE_MAXIMUM_EXCEEDED      = 0x93,
    GN_RC_TOPIC_ALIAS_INVALID           = 0x94,
    GN_RC_PACKET_TOO_LARGE              = 0x95,
    GN_RC_MESSAGE_RATE_TOO_HIGH         = 0x96,
    GN_RC_QUOTA_EXCEEDED                = 0x97,
    GN_RC_ADMINISTRATIVE_ACTION         = 0x98,
    GN_RC_PAYLOAD_FORMAT_INVALID        = 0x99,
    GN_RC_RETAIN_NOT_SUPPORTED          = 0x9A,
    GN_RC_QOS_NOT_SUPPORTED             = 0x9B,
    GN_RC_USE_ANOTHER_SERVER            = 0x9C,
    GN_RC_SERVER_MOVED                  = 0x9D,
    GN_RC_SHARED_SUBS_NOT_SUPPORTED     = 0x9E,
    GN_RC_CONNECTION_RATE_EXCEEDED      = 0x9F,
    GN_RC_MAXIMUM_CONNECT_TIME          = 0xA0,
    GN_RC_SUB_IDS_NOT_SUPPORTED         = 0xA1,
    GN_RC_WILDCARD_SUBS_NOT_SUPPORTED   = 0xA2,
};

/* MQTT 3.1 / 3.1.1 CONNACK return codes. */
enum {
    GN_CONNACK_V3_ACCEPTED              = 0,
    GN_CONNACK_V3_BAD_PROTOCOL          = 1,
    GN_CONNACK_V3_ID_REJECTED           = 2,
    GN_CONNACK_V3_SERVER_UNAVAILABLE    = 3,
    GN_CONNACK_V3_BAD_CREDENTIALS       = 4,
    GN_CONNACK_V3_NOT_AUTHORIZED        = 5,
};

/* Printable name of an MQTT 5 reason code ("Topic Name invalid");
 * "unknown" for a value that is no reason code. */
const char *gn_reason_name(uint8_t rc);
/* Whether rc is a valid MQTT 5 reason code in a packet of this type
 * (type is the control packet type 1..15 from packet.h). */
bool gn_reason_allowed(uint8_t rc, int packet_type);
/* The MQTT 3.x CONNACK return code closest to an MQTT 5 CONNACK reason. */
uint8_t gn_reason_to_connack_v3(uint8_t rc);

#endif
