/* codec/errors.c — the one table behind codec/errors.h: for every gn_err its
 * printable name, a one-line text, the MQTT 5 reason code a server answers it
 * with, the platform close code (105 invalid data, 166 client id, 271 length,
 * 276 topic, 287 too large) and the MQTT 3.x CONNACK return code (CONNECT
 * errors only). Pure constant data. */
#include "codec/errors.h"

#include <stddef.h>

#include "codec/reason_codes.h"

typedef struct gn_err_info {
    const char *name;
    const char *text;
    uint8_t     reason;     /* MQTT 5 reason code */
    uint16_t    close;      /* platform close code */
    uint8_t     connack_v3; /* 3.x CONNACK return code, 0 = just close */
} gn_err_info;

#define E(id, txt, rc, cc, v3) [id] = { #id, txt, rc, cc, v3 }

static const gn_err_info gn_err_table[GN_ERR__COUNT] = {
    E(GN_OK,                       "no error", 0, 0, 0),
    E(GN_NEED_MORE,                "more bytes needed to complete the packet", 0, 0, 0),
    E(GN_ERR_BUFFER_TOO_SMALL,     "encode buffer too small",
      GN_RC_IMPLEMENTATION_SPECIFIC, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_ENCODE_INVALID,       "packet view breaks a protocol rule, cannot encode",
      GN_RC_IMPLEMENTATION_SPECIFIC, GN_CLOSE_INVALID_DATA, 0),

    E(GN_ERR_MALFORMED_VARINT,     "malformed variable byte integer",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_LENGTH, 0),
    E(GN_ERR_PACKET_TOO_LARGE,     "packet larger than the maximum packet size",
      GN_RC_PACKET_TOO_LARGE, GN_CLOSE_TOO_LARGE, 0),
    E(GN_ERR_RESERVED_TYPE,        "reserved control packet type",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_RESERVED_FLAGS,       "reserved flag bits have a wrong value",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_LENGTH_MISMATCH,      "remaining length does not match the packet contents",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_LENGTH, 0),
    E(GN_ERR_TRUNCATED,            "a field runs past the end of the packet",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_LENGTH, 0),

    E(GN_ERR_PROTOCOL_NAME,        "unknown protocol name",
      GN_RC_UNSUPPORTED_PROTOCOL_VERSION, GN_CLOSE_INVALID_DATA, GN_CONNACK_V3_BAD_PROTOCOL),
    E(GN_ERR_PROTOCOL_VERSION,     "unsupported protocol level",
      GN_RC_UNSUPPORTED_PROTOCOL_VERSION, GN_CLOSE_INVALID_DATA, GN_CONNACK_V3_BAD_PROTOCOL),
    E(GN_ERR_CONNECT_RESERVED_FLAG, "CONNECT reserved flag bit set",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_WILL_FLAGS,           "will QoS or will retain set without the will flag",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_PASSWORD_WITHOUT_USER, "password flag set without the user name flag",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_CLIENT_ID_INVALID,    "client identifier not valid",
      GN_RC_CLIENT_ID_NOT_VALID, GN_CLOSE_CLIENT_ID, GN_CONNACK_V3_ID_REJECTED),

    E(GN_ERR_UTF8_INVALID,         "ill-formed UTF-8 string",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_UTF8_NUL,             "U+0000 inside a UTF-8 string",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),

    E(GN_ERR_QOS_INVALID,          "QoS 3 is not a valid QoS",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_DUP_ON_QOS0,          "DUP flag set on a QoS 0 PUBLISH",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_TOPIC_EMPTY,          "empty topic name without a topic alias",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_TOPIC_WILDCARD,       "wildcard in a topic name",
      GN_RC_TOPIC_NAME_INVALID, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_TOPIC_TOO_DEEP,       "topic has too many levels",
      GN_RC_TOPIC_NAME_INVALID, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_FILTER_EMPTY,         "empty topic filter",
      GN_RC_TOPIC_FILTER_INVALID, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_FILTER_INVALID,       "misplaced wildcard in a topic filter",
      GN_RC_TOPIC_FILTER_INVALID, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_SHARE_NAME_INVALID,   "invalid shared subscription name",
      GN_RC_TOPIC_FILTER_INVALID, GN_CLOSE_TOPIC, 0),
    E(GN_ERR_PAYLOAD_NOT_UTF8,     "payload format indicator is UTF-8 but the payload is not",
      GN_RC_PAYLOAD_FORMAT_INVALID, GN_CLOSE_INVALID_DATA, 0),

    E(GN_ERR_PACKET_ID_ZERO,       "packet identifier 0 where one is required",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_NO_TOPIC_FILTERS,     "SUBSCRIBE or UNSUBSCRIBE without a topic filter",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_SUB_OPTIONS_RESERVED, "reserved subscription option bits set",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_RETAIN_HANDLING,      "retain handling 3",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_SHARED_NO_LOCAL,      "no-local on a shared subscription",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),

    E(GN_ERR_PROPERTY_UNKNOWN,     "unknown property identifier",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_PROPERTY_NOT_ALLOWED, "property not allowed in this packet",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_PROPERTY_DUPLICATE,   "property appears more than once",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_PROPERTY_LENGTH,      "property length runs past the end of the packet",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_LENGTH, 0),
    E(GN_ERR_PROPERTY_VALUE,       "property value out of range",
      GN_RC_PROTOCOL_ERROR, GN_CLOSE_INVALID_DATA, 0),
    E(GN_ERR_REASON_CODE_INVALID,  "reason code not allowed in this packet",
      GN_RC_MALFORMED_PACKET, GN_CLOSE_INVALID_DATA, 0),
};

#undef E

static const gn_err_info *gn_err_info_of(gn_err e)
{
    static const gn_err_info unknown = { "GN_ERR_UNKNOWN", "unknown error",
                                         GN_RC_UNSPECIFIED_ERROR, GN_CLOSE_INVALID_DATA, 0 };
    if ((unsigned)e >= GN_ERR__COUNT || gn_err_table[e].name == NULL)
        return &unknown;
    return &gn_err_table[e];
}

const char *gn_err_name(gn_err e) { return gn_err_info_of(e)->name; }
const char *gn_err_text(gn_err e) { return gn_err_info_of(e)->text; }
uint8_t gn_err_reason_code(gn_err e) { return gn_err_info_of(e)->reason; }
uint16_t gn_err_close_code(gn_err e) { return gn_err_info_of(e)->close; }
uint8_t gn_err_connack_v3(gn_err e) { return gn_err_info_of(e)->connack_v3; }
