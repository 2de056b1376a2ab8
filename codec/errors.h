/* codec/errors.h — every way a byte stream can be wrong, as named values.
 *
 * One enum for the whole codec; one table (errors.c) maps each error to its
 * printable name, the MQTT 5 reason code a server sends for it, and the
 * platform close code (seeds 000/001: 105 invalid data, 271 length not
 * correct, 276 topic not valid, 287 too large, 166 client id not valid).
 * Pure data, no I/O, callable from any thread. */
#ifndef GN_CODEC_ERRORS_H
#define GN_CODEC_ERRORS_H

#include <stdint.h>

typedef enum gn_err {
    GN_OK = 0,
    GN_NEED_MORE,                 /* framing: the buffer ends inside a packet (not an error) */
    GN_ERR_BUFFER_TOO_SMALL,      /* encode: caller buffer too short; *len_out says how much is needed */
    GN_ERR_ENCODE_INVALID,        /* encode: the view given to the encoder breaks a MUST rule */

    /* fixed header and framing */
    GN_ERR_MALFORMED_VARINT,      /* variable byte integer longer than 4 bytes or overlong (non-minimal) */
    GN_ERR_PACKET_TOO_LARGE,      /* above the negotiated maximum packet size */
    GN_ERR_RESERVED_TYPE,         /* packet type 0, or AUTH (15) before MQTT 5 */
    GN_ERR_RESERVED_FLAGS,        /* fixed-header flag bits that must have a fixed value */
    GN_ERR_LENGTH_MISMATCH,       /* remaining length disagrees with the contents */
    GN_ERR_TRUNCATED,             /* a field runs past the end of the packet */

    /* CONNECT */
    GN_ERR_PROTOCOL_NAME,         /* not "MQTT" (4, 5) / "MQIsdp" (3) */
    GN_ERR_PROTOCOL_VERSION,      /* protocol level other than 3, 4, 5 */
    GN_ERR_CONNECT_RESERVED_FLAG, /* CONNECT flags bit 0 set */
    GN_ERR_WILL_FLAGS,            /* will QoS / retain set without the will flag */
    GN_ERR_PASSWORD_WITHOUT_USER, /* password flag without user name flag (3.1, 3.1.1) */
    GN_ERR_CLIENT_ID_INVALID,     /* client id empty where not allowed, or not acceptable */

    /* strings */
    GN_ERR_UTF8_INVALID,          /* ill-formed UTF-8: bad sequence, overlong, surrogate, > U+10FFFF */
    GN_ERR_UTF8_NUL,              /* U+0000 inside a UTF-8 string */

    /* PUBLISH and topics */
    GN_ERR_QOS_INVALID,           /* QoS 3 */
    GN_ERR_DUP_ON_QOS0,           /* DUP flag set on a QoS 0 PUBLISH */
    GN_ERR_TOPIC_EMPTY,           /* zero-length topic name (without a topic alias) */
    GN_ERR_TOPIC_WILDCARD,        /* '+' or '#' in a topic name */
    GN_ERR_TOPIC_TOO_DEEP,        /* more than GN_TOPIC_MAX_LEVELS levels */
    GN_ERR_FILTER_EMPTY,          /* zero-length topic filter */
    GN_ERR_FILTER_INVALID,        /* '+' or '#' not alone in its level, '#' not last */
    GN_ERR_SHARE_NAME_INVALID,    /* $share/{name}/{filter}: empty or wildcard name, missing filter */
    GN_ERR_PAYLOAD_NOT_UTF8,      /* payload format indicator 1 but payload is not UTF-8 */

    /* packet identifiers and SUBSCRIBE family */
    GN_ERR_PACKET_ID_ZERO,        /* packet identifier 0 where one is required */
    GN_ERR_NO_TOPIC_FILTERS,      /* SUBSCRIBE / UNSUBSCRIBE with no filter */
    GN_ERR_SUB_OPTIONS_RESERVED,  /* reserved bits of subscription options set */
    GN_ERR_RETAIN_HANDLING,       /* retain handling 3 */
    GN_ERR_SHARED_NO_LOCAL,       /* no-local on a shared subscription (MQTT 5 3.8.3.1) */

    /* MQTT 5 properties and reason codes */
    GN_ERR_PROPERTY_UNKNOWN,      /* identifier that is not a property */
    GN_ERR_PROPERTY_NOT_ALLOWED,  /* property not allowed in this packet */
    GN_ERR_PROPERTY_DUPLICATE,    /* property that may appear once appears twice */
    GN_ERR_PROPERTY_LENGTH,       /* property length or a property value runs past the end */
    GN_ERR_PROPERTY_VALUE,        /* value out of range (receive maximum 0, topic alias 0, ...) */
    GN_ERR_REASON_CODE_INVALID,   /* reason code not allowed in this packet */

    GN_ERR__COUNT
} gn_err;

/* Platform close codes (seeds 000/001, plus the proxy codes PLATFORM.md
 * S-108 lists). The numbers live here once: the codec table below uses the
 * five a decoder can produce; engine/platform/close_codes.c gives every
 * code its reason string and MQTT 5 DISCONNECT reason. */
enum {
    GN_CLOSE_NORMAL         = 0,
    GN_CLOSE_BY_CLIENT      = 91,
    GN_CLOSE_BY_SERVER      = 92,
    GN_CLOSE_SHUTDOWN       = 93,
    GN_CLOSE_ADMIN          = 94,
    GN_CLOSE_CAPACITY       = 104,
    GN_CLOSE_INVALID_DATA   = 105,
    GN_CLOSE_TOO_MANY_SUBS  = 154,
    GN_CLOSE_CONN_AUTH      = 159,
    GN_CLOSE_TIMEOUT        = 160,
    GN_CLOSE_TLS_HANDSHAKE  = 163,
    GN_CLOSE_NO_DATA        = 164,
    GN_CLOSE_FIRST_PACKET   = 165,
    GN_CLOSE_CLIENT_ID      = 166,
    GN_CLOSE_UNAVAILABLE    = 167,
    GN_CLOSE_CERT_MISSING   = 169,
    GN_CLOSE_CERT_INVALID   = 170,
    GN_CLOSE_ORG_CONNS      = 173,
    GN_CLOSE_HTTP_AUTH      = 175,
    GN_CLOSE_AUTH_DELAY     = 176,
    GN_CLOSE_NOT_AUTHORIZED = 180,
    GN_CLOSE_WILL_DENIED    = 270,
    GN_CLOSE_LENGTH         = 271,
    GN_CLOSE_TOPIC          = 276,
    GN_CLOSE_QOS_INVALID    = 284,
    GN_CLOSE_TOO_LARGE      = 287,
    GN_CLOSE_ID_REUSED      = 288,
    GN_CLOSE_SYSTEM_TOPIC   = 289,
    GN_CLOSE_QOS_DENIED     = 291,
    GN_CLOSE_DURABLE_DENIED = 292,
};

/* Printable name of an error ("GN_ERR_MALFORMED_VARINT"); never NULL. */
const char *gn_err_name(gn_err e);
/* One-line human description ("malformed variable byte integer"); never NULL. */
const char *gn_err_text(gn_err e);
/* MQTT 5 reason code a server sends when it sees this error in input
 * (0x81 malformed, 0x82 protocol error, 0x90 topic name invalid, ...);
 * 0 for GN_OK / GN_NEED_MORE. */
uint8_t gn_err_reason_code(gn_err e);
/* Platform close code for this error (105, 166, 271, 276, 287); 0 for GN_OK. */
uint16_t gn_err_close_code(gn_err e);
/* MQTT 3.1/3.1.1 CONNACK return code for errors found while decoding a
 * CONNECT (1 unacceptable protocol version, 2 identifier rejected);
 * 0 when the error is not answered with a CONNACK (the connection just closes). */
uint8_t gn_err_connack_v3(gn_err e);

#endif
