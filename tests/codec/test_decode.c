/* tests/codec/test_decode.c — one failing input per MUST rule the decoder
 * checks, each asserting the exact named error, and the accepted edge
 * cases next to them (MQTT 5 short forms, empty client ids, topic alias). */
#include "codec_util.h"

#define V3 GN_PROTO_V31
#define V4 GN_PROTO_V311
#define V5 GN_PROTO_V5

static gn_packet p;

/* ------------------------------------------------------ fixed header */

START_TEST(test_packet_type_zero_is_reserved)
{
    ck_assert_err(tu_dec(0x00, "", V4, &p), GN_ERR_RESERVED_TYPE);
}
END_TEST

START_TEST(test_auth_before_mqtt5_is_reserved)
{
    ck_assert_err(tu_dec(0xF0, "", V4, &p), GN_ERR_RESERVED_TYPE);
    ck_assert_err(tu_dec(0xF0, "", V3, &p), GN_ERR_RESERVED_TYPE);
    ck_assert_err(tu_dec(0xF0, "", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_pubrel_subscribe_unsubscribe_need_flags_0010)
{
    ck_assert_err(tu_dec(0x60, "00 01", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x62, "00 01", V4, &p), GN_OK);
    ck_assert_err(tu_dec(0x80, "00 01 [a] 00", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x83, "00 01 [a] 00", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0xA0, "00 01 [a]", V4, &p), GN_ERR_RESERVED_FLAGS);
}
END_TEST

START_TEST(test_other_packets_need_flags_0000)
{
    ck_assert_err(tu_dec(0x41, "00 01", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x52, "00 01", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x78, "00 01", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x21, "00 00", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0xC1, "", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0xD4, "", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0xE2, "", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x12, "[MQTT] 04 02 00 3C [c]", V4, &p), GN_ERR_RESERVED_FLAGS);
}
END_TEST

START_TEST(test_remaining_length_of_five_bytes_is_malformed)
{
    uint8_t buf[] = { 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    ck_assert_err(gn_decode(buf, sizeof buf, V4, &p), GN_ERR_MALFORMED_VARINT);
}
END_TEST

START_TEST(test_overlong_remaining_length_is_malformed)
{
    uint8_t buf[] = { 0xD0, 0x80, 0x80, 0x00 };
    ck_assert_err(gn_decode(buf, sizeof buf, V4, &p), GN_ERR_MALFORMED_VARINT);
}
END_TEST

START_TEST(test_buffer_longer_than_remaining_length_is_mismatch)
{
    uint8_t buf[] = { 0xC0, 0x00, 0x00 };
    ck_assert_err(gn_decode(buf, sizeof buf, V4, &p), GN_ERR_LENGTH_MISMATCH);
    uint8_t shrt[] = { 0x40, 0x02, 0x00 };
    ck_assert_err(gn_decode(shrt, sizeof shrt, V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(gn_decode(shrt, 1, V4, &p), GN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_trailing_bytes_are_a_length_mismatch)
{
    ck_assert_err(tu_dec(0x40, "00 01 00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0xC0, "00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0xD0, "00", V5, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0xE0, "00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0x20, "00 00 00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0xB0, "00 01 00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00 3C [c] 00", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0x40, "00 01 00 00 00", V5, &p), GN_ERR_LENGTH_MISMATCH);
}
END_TEST

/* ------------------------------------------------------------ CONNECT */

START_TEST(test_connect_valid_in_every_version)
{
    ck_assert_err(tu_dec(0x10, "[MQIsdp] 03 02 00 3C [c]", V4, &p), GN_OK);
    ck_assert_int_eq(p.u.connect.proto, V3);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00 3C [c]", V3, &p), GN_OK);
    ck_assert_int_eq(p.u.connect.proto, V4);
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 02 00 3C 00 [c]", V4, &p), GN_OK);
    ck_assert_int_eq(p.u.connect.proto, V5);
    ck_assert_uint_eq(p.u.connect.keep_alive, 60);
    ck_assert(tu_eq(p.u.connect.client_id, "c"));
}
END_TEST

START_TEST(test_connect_unknown_protocol_name_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQTX] 04 02 00 3C [c]", V4, &p), GN_ERR_PROTOCOL_NAME);
    ck_assert_err(tu_dec(0x10, "[mqtt] 04 02 00 3C [c]", V4, &p), GN_ERR_PROTOCOL_NAME);
}
END_TEST

START_TEST(test_connect_protocol_level_must_match_name)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 06 02 00 3C [c]", V4, &p), GN_ERR_PROTOCOL_VERSION);
    ck_assert_err(tu_dec(0x10, "[MQTT] 03 02 00 3C [c]", V4, &p), GN_ERR_PROTOCOL_VERSION);
    ck_assert_err(tu_dec(0x10, "[MQIsdp] 04 02 00 3C [c]", V4, &p), GN_ERR_PROTOCOL_VERSION);
}
END_TEST

START_TEST(test_connect_reserved_flag_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 03 00 3C [c]", V4, &p), GN_ERR_CONNECT_RESERVED_FLAG);
}
END_TEST

START_TEST(test_will_qos_or_retain_without_will_flag_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 12 00 3C [c]", V4, &p), GN_ERR_WILL_FLAGS);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 22 00 3C [c]", V4, &p), GN_ERR_WILL_FLAGS);
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 08 00 3C 00 [c]", V5, &p), GN_ERR_WILL_FLAGS);
}
END_TEST

START_TEST(test_will_qos3_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 1E 00 3C [c] [w] [m]", V4, &p), GN_ERR_QOS_INVALID);
}
END_TEST

START_TEST(test_will_fields_are_decoded)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 36 00 3C [c] [w/t] [msg]", V4, &p), GN_OK);
    ck_assert(p.u.connect.will);
    ck_assert_uint_eq(p.u.connect.will_qos, 2);
    ck_assert(p.u.connect.will_retain);
    ck_assert(tu_eq(p.u.connect.will_topic, "w/t"));
    ck_assert(tu_eq(p.u.connect.will_payload, "msg"));
}
END_TEST

START_TEST(test_will_topic_with_wildcard_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 06 00 3C [c] [w/#] [m]", V4, &p),
                  GN_ERR_TOPIC_WILDCARD);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 06 00 3C [c] [] [m]", V4, &p), GN_ERR_TOPIC_EMPTY);
}
END_TEST

START_TEST(test_password_without_username_rejected_before_v5)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 42 00 3C [c] [pw]", V4, &p),
                  GN_ERR_PASSWORD_WITHOUT_USER);
    ck_assert_err(tu_dec(0x10, "[MQIsdp] 03 42 00 3C [c] [pw]", V3, &p),
                  GN_ERR_PASSWORD_WITHOUT_USER);
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 42 00 3C 00 [c] [pw]", V5, &p), GN_OK);
    ck_assert(p.u.connect.has_password && !p.u.connect.has_username);
    ck_assert(tu_eq(p.u.connect.password, "pw"));
}
END_TEST

START_TEST(test_v311_empty_client_id_requires_clean_session)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 00 00 3C []", V4, &p), GN_ERR_CLIENT_ID_INVALID);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00 3C []", V4, &p), GN_OK);
}
END_TEST

START_TEST(test_v31_empty_client_id_is_rejected)
{
    ck_assert_err(tu_dec(0x10, "[MQIsdp] 03 02 00 3C []", V3, &p), GN_ERR_CLIENT_ID_INVALID);
}
END_TEST

START_TEST(test_v5_empty_client_id_is_allowed)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 00 00 3C 00 []", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_client_id_and_username_must_be_utf8)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00 3C 00 02 C3 28", V4, &p), GN_ERR_UTF8_INVALID);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00 3C 00 02 61 00", V4, &p), GN_ERR_UTF8_NUL);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 82 00 3C [c] 00 03 ED A0 80", V4, &p),
                  GN_ERR_UTF8_INVALID);
}
END_TEST

START_TEST(test_connect_fields_past_the_end_are_truncated)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 02 00", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 82 00 3C [c]", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x10, "[MQTT] 04 06 00 3C [c] [w]", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 02 00 3C", V5, &p), GN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_will_payload_format_utf8_is_checked)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 06 00 3C 00 [c] 02 01 01 [w] 00 01 FF", V5, &p),
                  GN_ERR_PAYLOAD_NOT_UTF8);
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 06 00 3C 00 [c] 02 01 00 [w] 00 01 FF", V5, &p),
                  GN_OK);
    ck_assert_uint_eq(p.u.connect.will_props.payload_format, 0);
}
END_TEST

START_TEST(test_connect_property_in_will_block_is_not_allowed)
{
    ck_assert_err(tu_dec(0x10, "[MQTT] 05 06 00 3C 00 [c] 05 11 00 00 00 01 [w] [m]", V5, &p),
                  GN_ERR_PROPERTY_NOT_ALLOWED);
}
END_TEST

/* ------------------------------------------------------------ CONNACK */

START_TEST(test_connack_reserved_flag_bits_are_rejected)
{
    ck_assert_err(tu_dec(0x20, "02 00", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x20, "80 00 00", V5, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x20, "01 00", V3, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x20, "01 00", V4, &p), GN_OK);
    ck_assert(p.u.connack.session_present);
}
END_TEST

START_TEST(test_connack_session_present_with_refusal_is_rejected)
{
    ck_assert_err(tu_dec(0x20, "01 05", V4, &p), GN_ERR_RESERVED_FLAGS);
    ck_assert_err(tu_dec(0x20, "01 87 00", V5, &p), GN_ERR_RESERVED_FLAGS);
}
END_TEST

START_TEST(test_connack_return_code_must_be_valid)
{
    ck_assert_err(tu_dec(0x20, "00 06", V4, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x20, "00 05", V4, &p), GN_OK);
    ck_assert_err(tu_dec(0x20, "00 04 00", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x20, "00 8C 00", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_v5_connack_needs_property_length)
{
    ck_assert_err(tu_dec(0x20, "00 00", V5, &p), GN_ERR_TRUNCATED);
}
END_TEST

/* ------------------------------------------------------------ PUBLISH */

START_TEST(test_publish_decodes_fields)
{
    ck_assert_err(tu_dec(0x3B, "[a/b] 12 34 'hello'", V4, &p), GN_OK);
    ck_assert_int_eq(p.type, GN_PUBLISH);
    ck_assert_uint_eq(p.u.publish.qos, 1);
    ck_assert(p.u.publish.dup);
    ck_assert(p.u.publish.retain);
    ck_assert_uint_eq(p.u.publish.packet_id, 0x1234);
    ck_assert(tu_eq(p.u.publish.topic, "a/b"));
    ck_assert(tu_eq(p.u.publish.payload, "hello"));
    ck_assert_uint_eq(p.u.publish.props.present, 0);
}
END_TEST

START_TEST(test_publish_qos3_is_malformed)
{
    ck_assert_err(tu_dec(0x36, "[a/b] 00 01", V4, &p), GN_ERR_QOS_INVALID);
}
END_TEST

START_TEST(test_publish_dup_on_qos0_is_malformed)
{
    ck_assert_err(tu_dec(0x38, "[a/b]", V4, &p), GN_ERR_DUP_ON_QOS0);
}
END_TEST

START_TEST(test_publish_packet_id_zero_is_rejected)
{
    ck_assert_err(tu_dec(0x32, "[a/b] 00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0x34, "[a/b] 00 00 00", V5, &p), GN_ERR_PACKET_ID_ZERO);
}
END_TEST

START_TEST(test_publish_topic_with_wildcard_is_rejected)
{
    ck_assert_err(tu_dec(0x30, "[a/+]", V4, &p), GN_ERR_TOPIC_WILDCARD);
    ck_assert_err(tu_dec(0x30, "[a/#]", V3, &p), GN_ERR_TOPIC_WILDCARD);
}
END_TEST

START_TEST(test_publish_topic_must_be_utf8_without_nul)
{
    ck_assert_err(tu_dec(0x30, "00 03 61 00 62", V4, &p), GN_ERR_UTF8_NUL);
    ck_assert_err(tu_dec(0x30, "00 02 C0 80", V4, &p), GN_ERR_UTF8_INVALID);
    ck_assert_err(tu_dec(0x30, "00 03 ED B0 80", V4, &p), GN_ERR_UTF8_INVALID);
}
END_TEST

START_TEST(test_publish_empty_topic_needs_topic_alias)
{
    ck_assert_err(tu_dec(0x30, "[]", V4, &p), GN_ERR_TOPIC_EMPTY);
    ck_assert_err(tu_dec(0x30, "[] 00", V5, &p), GN_ERR_TOPIC_EMPTY);
    ck_assert_err(tu_dec(0x30, "[] 03 23 00 05 'x'", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.publish.props.topic_alias, 5);
    ck_assert(tu_eq(p.u.publish.payload, "x"));
}
END_TEST

START_TEST(test_publish_topic_past_end_is_truncated)
{
    ck_assert_err(tu_dec(0x30, "00 05 61", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x30, "00", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x32, "[a] 00", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x30, "[a]", V5, &p), GN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_publish_payload_format_utf8_requires_utf8_payload)
{
    ck_assert_err(tu_dec(0x30, "[a] 02 01 01 'ok'", V5, &p), GN_OK);
    ck_assert_err(tu_dec(0x30, "[a] 02 01 01 C3 28", V5, &p), GN_ERR_PAYLOAD_NOT_UTF8);
    ck_assert_err(tu_dec(0x30, "[a] 02 01 00 C3 28", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_publish_property_length_past_end_is_rejected)
{
    ck_assert_err(tu_dec(0x30, "[a] 09 23 00 01", V5, &p), GN_ERR_PROPERTY_LENGTH);
}
END_TEST

START_TEST(test_publish_properties_in_v311_are_payload)
{
    ck_assert_err(tu_dec(0x30, "[a] 02 01 01", V4, &p), GN_OK);
    ck_assert_uint_eq(p.u.publish.payload.len, 3);
}
END_TEST

/* ----------------------------------------------------------- acks */

START_TEST(test_ack_packet_id_zero_is_rejected)
{
    ck_assert_err(tu_dec(0x40, "00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0x50, "00 00", V5, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0x62, "00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0x70, "00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
}
END_TEST

START_TEST(test_v5_ack_short_forms)
{
    ck_assert_err(tu_dec(0x40, "00 07", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.ack.packet_id, 7);
    ck_assert_uint_eq(p.u.ack.reason, 0);
    ck_assert_err(tu_dec(0x50, "00 07 10", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.ack.reason, 0x10);
    ck_assert_uint_eq(p.u.ack.props.present, 0);
    ck_assert_err(tu_dec(0x40, "00 07 80 04 1F [x]", V5, &p), GN_OK);
    ck_assert(tu_seq(p.u.ack.props.reason_string, "x"));
}
END_TEST

START_TEST(test_v5_ack_reason_must_fit_the_packet)
{
    ck_assert_err(tu_dec(0x40, "00 07 04", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x62, "00 07 10", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x62, "00 07 92", V5, &p), GN_OK);
    ck_assert_err(tu_dec(0x70, "00 07 80", V5, &p), GN_ERR_REASON_CODE_INVALID);
}
END_TEST

START_TEST(test_v5_ack_property_not_allowed)
{
    ck_assert_err(tu_dec(0x40, "00 07 00 03 23 00 01", V5, &p), GN_ERR_PROPERTY_NOT_ALLOWED);
}
END_TEST

/* ----------------------------------------------- SUBSCRIBE family */

START_TEST(test_subscribe_decodes_and_iterates)
{
    ck_assert_err(tu_dec(0x82, "00 0A [a/b] 01 [c/#] 02", V4, &p), GN_OK);
    ck_assert_uint_eq(p.u.subscribe.packet_id, 10);
    ck_assert_uint_eq(p.u.subscribe.count, 2);
    uint32_t c = 0;
    gn_bytes f;
    uint8_t o;
    ck_assert(gn_subscribe_next(&p.u.subscribe, &c, &f, &o));
    ck_assert(tu_eq(f, "a/b"));
    ck_assert_uint_eq(o, 1);
    ck_assert(gn_subscribe_next(&p.u.subscribe, &c, &f, &o));
    ck_assert(tu_eq(f, "c/#"));
    ck_assert_uint_eq(o, 2);
    ck_assert(!gn_subscribe_next(&p.u.subscribe, &c, &f, &o));
}
END_TEST

START_TEST(test_subscribe_without_filters_is_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01", V4, &p), GN_ERR_NO_TOPIC_FILTERS);
    ck_assert_err(tu_dec(0x82, "00 01 00", V5, &p), GN_ERR_NO_TOPIC_FILTERS);
    ck_assert_err(tu_dec(0xA2, "00 01", V4, &p), GN_ERR_NO_TOPIC_FILTERS);
}
END_TEST

START_TEST(test_subscribe_packet_id_zero_is_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 00 [a] 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0xA2, "00 00 [a]", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0x90, "00 00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
    ck_assert_err(tu_dec(0xB0, "00 00", V4, &p), GN_ERR_PACKET_ID_ZERO);
}
END_TEST

START_TEST(test_subscription_option_reserved_bits_are_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01 [a] 04", V4, &p), GN_ERR_SUB_OPTIONS_RESERVED);
    ck_assert_err(tu_dec(0x82, "00 01 00 [a] 40", V5, &p), GN_ERR_SUB_OPTIONS_RESERVED);
    ck_assert_err(tu_dec(0x82, "00 01 00 [a] 80", V5, &p), GN_ERR_SUB_OPTIONS_RESERVED);
    ck_assert_err(tu_dec(0x82, "00 01 00 [a] 2E", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_subscription_qos3_is_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01 [a] 03", V4, &p), GN_ERR_QOS_INVALID);
}
END_TEST

START_TEST(test_retain_handling_3_is_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01 00 [a] 30", V5, &p), GN_ERR_RETAIN_HANDLING);
}
END_TEST

START_TEST(test_no_local_on_shared_subscription_is_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01 00 [$share/g/a] 04", V5, &p), GN_ERR_SHARED_NO_LOCAL);
    ck_assert_err(tu_dec(0x82, "00 01 00 [$share/g/a] 00", V5, &p), GN_OK);
}
END_TEST

START_TEST(test_invalid_filters_are_rejected)
{
    ck_assert_err(tu_dec(0x82, "00 01 [a+/b] 00", V4, &p), GN_ERR_FILTER_INVALID);
    ck_assert_err(tu_dec(0x82, "00 01 [#/a] 00", V4, &p), GN_ERR_FILTER_INVALID);
    ck_assert_err(tu_dec(0x82, "00 01 [] 00", V4, &p), GN_ERR_FILTER_EMPTY);
    ck_assert_err(tu_dec(0xA2, "00 01 [a/b#]", V4, &p), GN_ERR_FILTER_INVALID);
    ck_assert_err(tu_dec(0x82, "00 01 00 [$share//a] 00", V5, &p), GN_ERR_SHARE_NAME_INVALID);
    ck_assert_err(tu_dec(0x82, "00 01 00 02 C3 28 00", V4, &p), GN_ERR_UTF8_INVALID);
}
END_TEST

START_TEST(test_subscribe_entry_past_end_is_truncated)
{
    ck_assert_err(tu_dec(0x82, "00 01 [a]", V4, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0x82, "00 01 00 05 61 00", V4, &p), GN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_subscribe_two_subscription_ids_are_duplicate)
{
    ck_assert_err(tu_dec(0x82, "00 01 04 0B 01 0B 02 [a] 00", V5, &p),
                  GN_ERR_PROPERTY_DUPLICATE);
    ck_assert_err(tu_dec(0x82, "00 01 02 0B 01 [a] 00", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.subscribe.props.subscription_id, 1);
}
END_TEST

START_TEST(test_unsubscribe_decodes_and_iterates)
{
    ck_assert_err(tu_dec(0xA2, "00 0B 00 [a/+] [$share/g/#]", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.unsubscribe.count, 2);
    uint32_t c = 0;
    gn_bytes f;
    ck_assert(gn_unsubscribe_next(&p.u.unsubscribe, &c, &f));
    ck_assert(tu_eq(f, "a/+"));
    ck_assert(gn_unsubscribe_next(&p.u.unsubscribe, &c, &f));
    ck_assert(tu_eq(f, "$share/g/#"));
    ck_assert(!gn_unsubscribe_next(&p.u.unsubscribe, &c, &f));
}
END_TEST

START_TEST(test_suback_codes_must_be_valid)
{
    ck_assert_err(tu_dec(0x90, "00 01 00 01 02 80", V4, &p), GN_OK);
    ck_assert_uint_eq(p.u.suback.reasons.len, 4);
    ck_assert_err(tu_dec(0x90, "00 01 03", V4, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x90, "00 01 00 11", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0x90, "00 01 00 A2", V5, &p), GN_OK);
    ck_assert_err(tu_dec(0x90, "00 01", V4, &p), GN_ERR_LENGTH_MISMATCH);
    ck_assert_err(tu_dec(0xB0, "00 01 00 11", V5, &p), GN_OK);
    ck_assert_err(tu_dec(0xB0, "00 01 00 01", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0xB0, "00 01 00", V5, &p), GN_ERR_LENGTH_MISMATCH);
}
END_TEST

/* ------------------------------------------- DISCONNECT, AUTH, PING */

START_TEST(test_v5_disconnect_short_forms)
{
    ck_assert_err(tu_dec(0xE0, "", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.disconnect.reason, 0);
    ck_assert_err(tu_dec(0xE0, "04", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.disconnect.reason, 4);
    ck_assert_err(tu_dec(0xE0, "8E 05 11 00 00 00 00", V5, &p), GN_OK);
    ck_assert(gn_props_has(&p.u.disconnect.props, GN_PROP_SESSION_EXPIRY));
}
END_TEST

START_TEST(test_disconnect_reason_must_be_valid)
{
    ck_assert_err(tu_dec(0xE0, "01", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0xE0, "84", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0xE0, "04", V4, &p), GN_ERR_LENGTH_MISMATCH);
}
END_TEST

START_TEST(test_auth_reason_and_properties)
{
    ck_assert_err(tu_dec(0xF0, "18 04 15 [m]", V5, &p), GN_OK);
    ck_assert_uint_eq(p.u.disconnect.reason, 0x18);
    ck_assert(tu_seq(p.u.disconnect.props.auth_method, "m"));
    ck_assert_err(tu_dec(0xF0, "04 00", V5, &p), GN_ERR_REASON_CODE_INVALID);
    ck_assert_err(tu_dec(0xF0, "18", V5, &p), GN_ERR_TRUNCATED);
    ck_assert_err(tu_dec(0xF0, "18 03 1F 00 05", V5, &p), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(tu_dec(0xF0, "18 03 23 00 01", V5, &p), GN_ERR_PROPERTY_NOT_ALLOWED);
}
END_TEST

START_TEST(test_ping_has_no_body)
{
    ck_assert_err(tu_dec(0xC0, "", V4, &p), GN_OK);
    ck_assert_int_eq(p.type, GN_PINGREQ);
    ck_assert_err(tu_dec(0xD0, "", V5, &p), GN_OK);
    ck_assert_int_eq(p.type, GN_PINGRESP);
    ck_assert_err(tu_dec(0xC0, "00", V5, &p), GN_ERR_LENGTH_MISMATCH);
}
END_TEST

START_TEST(test_unknown_protocol_version_is_rejected_outside_connect)
{
    ck_assert_err(tu_dec(0x30, "[a]", (gn_proto)6, &p), GN_ERR_PROTOCOL_VERSION);
    ck_assert_err(tu_dec(0xC0, "", (gn_proto)2, &p), GN_ERR_PROTOCOL_VERSION);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_decode");
    TCase *tc = tcase_create("rules");
    tcase_add_test(tc, test_packet_type_zero_is_reserved);
    tcase_add_test(tc, test_auth_before_mqtt5_is_reserved);
    tcase_add_test(tc, test_pubrel_subscribe_unsubscribe_need_flags_0010);
    tcase_add_test(tc, test_other_packets_need_flags_0000);
    tcase_add_test(tc, test_remaining_length_of_five_bytes_is_malformed);
    tcase_add_test(tc, test_overlong_remaining_length_is_malformed);
    tcase_add_test(tc, test_buffer_longer_than_remaining_length_is_mismatch);
    tcase_add_test(tc, test_trailing_bytes_are_a_length_mismatch);
    tcase_add_test(tc, test_connect_valid_in_every_version);
    tcase_add_test(tc, test_connect_unknown_protocol_name_is_rejected);
    tcase_add_test(tc, test_connect_protocol_level_must_match_name);
    tcase_add_test(tc, test_connect_reserved_flag_is_rejected);
    tcase_add_test(tc, test_will_qos_or_retain_without_will_flag_is_rejected);
    tcase_add_test(tc, test_will_qos3_is_rejected);
    tcase_add_test(tc, test_will_fields_are_decoded);
    tcase_add_test(tc, test_will_topic_with_wildcard_is_rejected);
    tcase_add_test(tc, test_password_without_username_rejected_before_v5);
    tcase_add_test(tc, test_v311_empty_client_id_requires_clean_session);
    tcase_add_test(tc, test_v31_empty_client_id_is_rejected);
    tcase_add_test(tc, test_v5_empty_client_id_is_allowed);
    tcase_add_test(tc, test_client_id_and_username_must_be_utf8);
    tcase_add_test(tc, test_connect_fields_past_the_end_are_truncated);
    tcase_add_test(tc, test_will_payload_format_utf8_is_checked);
    tcase_add_test(tc, test_connect_property_in_will_block_is_not_allowed);
    tcase_add_test(tc, test_connack_reserved_flag_bits_are_rejected);
    tcase_add_test(tc, test_connack_session_present_with_refusal_is_rejected);
    tcase_add_test(tc, test_connack_return_code_must_be_valid);
    tcase_add_test(tc, test_v5_connack_needs_property_length);
    tcase_add_test(tc, test_publish_decodes_fields);
    tcase_add_test(tc, test_publish_qos3_is_malformed);
    tcase_add_test(tc, test_publish_dup_on_qos0_is_malformed);
    tcase_add_test(tc, test_publish_packet_id_zero_is_rejected);
    tcase_add_test(tc, test_publish_topic_with_wildcard_is_rejected);
    tcase_add_test(tc, test_publish_topic_must_be_utf8_without_nul);
    tcase_add_test(tc, test_publish_empty_topic_needs_topic_alias);
    tcase_add_test(tc, test_publish_topic_past_end_is_truncated);
    tcase_add_test(tc, test_publish_payload_format_utf8_requires_utf8_payload);
    tcase_add_test(tc, test_publish_property_length_past_end_is_rejected);
    tcase_add_test(tc, test_publish_properties_in_v311_are_payload);
    tcase_add_test(tc, test_ack_packet_id_zero_is_rejected);
    tcase_add_test(tc, test_v5_ack_short_forms);
    tcase_add_test(tc, test_v5_ack_reason_must_fit_the_packet);
    tcase_add_test(tc, test_v5_ack_property_not_allowed);
    tcase_add_test(tc, test_subscribe_decodes_and_iterates);
    tcase_add_test(tc, test_subscribe_without_filters_is_rejected);
    tcase_add_test(tc, test_subscribe_packet_id_zero_is_rejected);
    tcase_add_test(tc, test_subscription_option_reserved_bits_are_rejected);
    tcase_add_test(tc, test_subscription_qos3_is_rejected);
    tcase_add_test(tc, test_retain_handling_3_is_rejected);
    tcase_add_test(tc, test_no_local_on_shared_subscription_is_rejected);
    tcase_add_test(tc, test_invalid_filters_are_rejected);
    tcase_add_test(tc, test_subscribe_entry_past_end_is_truncated);
    tcase_add_test(tc, test_subscribe_two_subscription_ids_are_duplicate);
    tcase_add_test(tc, test_unsubscribe_decodes_and_iterates);
    tcase_add_test(tc, test_suback_codes_must_be_valid);
    tcase_add_test(tc, test_v5_disconnect_short_forms);
    tcase_add_test(tc, test_disconnect_reason_must_be_valid);
    tcase_add_test(tc, test_auth_reason_and_properties);
    tcase_add_test(tc, test_ping_has_no_body);
    tcase_add_test(tc, test_unknown_protocol_version_is_rejected_outside_connect);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
