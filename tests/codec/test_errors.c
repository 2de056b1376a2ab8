/* tests/codec/test_errors.c — the error table (every gn_err named, with an
 * MQTT 5 reason code and a platform close code) and the MQTT 5 reason code
 * table (names, packets each may appear in, 3.x CONNACK mapping). */
#include "codec/errors.h"
#include "codec/reason_codes.h"
#include "codec_util.h"

START_TEST(test_every_error_has_name_text_reason_and_close_code)
{
    for (int e = GN_ERR_BUFFER_TOO_SMALL; e < GN_ERR__COUNT; e++) {
        const char *name = gn_err_name((gn_err)e);
        ck_assert_msg(strncmp(name, "GN_ERR_", 7) == 0, "error %d named %s", e, name);
        ck_assert_str_ne(name, "GN_ERR_UNKNOWN");
        ck_assert_uint_gt(strlen(gn_err_text((gn_err)e)), 5);
        uint8_t rc = gn_err_reason_code((gn_err)e);
        ck_assert_msg(rc >= 0x80, "%s has reason 0x%02x", name, rc);
        ck_assert_str_ne(gn_reason_name(rc), "unknown");
        uint16_t cc = gn_err_close_code((gn_err)e);
        ck_assert_msg(cc == 105 || cc == 166 || cc == 271 || cc == 276 || cc == 287,
                      "%s has close code %u", name, cc);
    }
}
END_TEST

START_TEST(test_error_names_are_unique)
{
    for (int a = 0; a < GN_ERR__COUNT; a++)
        for (int b = a + 1; b < GN_ERR__COUNT; b++)
            ck_assert_str_ne(gn_err_name((gn_err)a), gn_err_name((gn_err)b));
}
END_TEST

START_TEST(test_ok_and_need_more_have_no_codes)
{
    ck_assert_str_eq(gn_err_name(GN_OK), "GN_OK");
    ck_assert_str_eq(gn_err_name(GN_NEED_MORE), "GN_NEED_MORE");
    ck_assert_uint_eq(gn_err_reason_code(GN_OK), 0);
    ck_assert_uint_eq(gn_err_close_code(GN_OK), 0);
    ck_assert_uint_eq(gn_err_reason_code(GN_NEED_MORE), 0);
    ck_assert_uint_eq(gn_err_close_code(GN_NEED_MORE), 0);
}
END_TEST

START_TEST(test_out_of_range_error_is_named_unknown)
{
    ck_assert_str_eq(gn_err_name(GN_ERR__COUNT), "GN_ERR_UNKNOWN");
    ck_assert_str_eq(gn_err_name((gn_err)-1), "GN_ERR_UNKNOWN");
    ck_assert_ptr_nonnull(gn_err_text((gn_err)1000));
}
END_TEST

START_TEST(test_error_mapping_matches_platform_codes)
{
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_PACKET_TOO_LARGE), GN_CLOSE_TOO_LARGE);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_PACKET_TOO_LARGE), GN_RC_PACKET_TOO_LARGE);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_TOPIC_WILDCARD), GN_CLOSE_TOPIC);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_TOPIC_WILDCARD), GN_RC_TOPIC_NAME_INVALID);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_FILTER_INVALID), GN_CLOSE_TOPIC);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_FILTER_INVALID), GN_RC_TOPIC_FILTER_INVALID);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_LENGTH_MISMATCH), GN_CLOSE_LENGTH);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_MALFORMED_VARINT), GN_CLOSE_LENGTH);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_MALFORMED_VARINT), GN_RC_MALFORMED_PACKET);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_CLIENT_ID_INVALID), GN_CLOSE_CLIENT_ID);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_CLIENT_ID_INVALID), GN_RC_CLIENT_ID_NOT_VALID);
    ck_assert_uint_eq(gn_err_close_code(GN_ERR_RESERVED_FLAGS), GN_CLOSE_INVALID_DATA);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_PAYLOAD_NOT_UTF8), GN_RC_PAYLOAD_FORMAT_INVALID);
    ck_assert_uint_eq(gn_err_reason_code(GN_ERR_PROTOCOL_VERSION),
                      GN_RC_UNSUPPORTED_PROTOCOL_VERSION);
}
END_TEST

START_TEST(test_connect_errors_map_to_v3_connack_codes)
{
    ck_assert_uint_eq(gn_err_connack_v3(GN_ERR_PROTOCOL_VERSION), GN_CONNACK_V3_BAD_PROTOCOL);
    ck_assert_uint_eq(gn_err_connack_v3(GN_ERR_PROTOCOL_NAME), GN_CONNACK_V3_BAD_PROTOCOL);
    ck_assert_uint_eq(gn_err_connack_v3(GN_ERR_CLIENT_ID_INVALID), GN_CONNACK_V3_ID_REJECTED);
    ck_assert_uint_eq(gn_err_connack_v3(GN_ERR_MALFORMED_VARINT), 0);
    ck_assert_uint_eq(gn_err_connack_v3(GN_ERR_TOPIC_WILDCARD), 0);
}
END_TEST

START_TEST(test_reason_names_follow_the_spec)
{
    ck_assert_str_eq(gn_reason_name(0x00), "Success");
    ck_assert_str_eq(gn_reason_name(0x90), "Topic Name invalid");
    ck_assert_str_eq(gn_reason_name(0x8F), "Topic Filter invalid");
    ck_assert_str_eq(gn_reason_name(0xA2), "Wildcard Subscriptions not supported");
    ck_assert_str_eq(gn_reason_name(0x03), "unknown");
    ck_assert_str_eq(gn_reason_name(0xFF), "unknown");
}
END_TEST

START_TEST(test_reason_codes_allowed_only_in_their_packets)
{
    ck_assert(gn_reason_allowed(0x00, GN_CONNACK));
    ck_assert(gn_reason_allowed(0x00, GN_AUTH));
    ck_assert(gn_reason_allowed(0x01, GN_SUBACK));
    ck_assert(!gn_reason_allowed(0x01, GN_PUBACK));
    ck_assert(gn_reason_allowed(0x04, GN_DISCONNECT));
    ck_assert(!gn_reason_allowed(0x04, GN_CONNACK));
    ck_assert(gn_reason_allowed(0x10, GN_PUBACK));
    ck_assert(gn_reason_allowed(0x10, GN_PUBREC));
    ck_assert(!gn_reason_allowed(0x10, GN_PUBREL));
    ck_assert(gn_reason_allowed(0x92, GN_PUBREL));
    ck_assert(gn_reason_allowed(0x92, GN_PUBCOMP));
    ck_assert(!gn_reason_allowed(0x92, GN_PUBACK));
    ck_assert(gn_reason_allowed(0x11, GN_UNSUBACK));
    ck_assert(gn_reason_allowed(0x18, GN_AUTH));
    ck_assert(!gn_reason_allowed(0x18, GN_DISCONNECT));
    ck_assert(gn_reason_allowed(0x8E, GN_DISCONNECT));
    ck_assert(gn_reason_allowed(0x84, GN_CONNACK));
    ck_assert(!gn_reason_allowed(0x84, GN_DISCONNECT));
    ck_assert(!gn_reason_allowed(0x03, GN_DISCONNECT));
    ck_assert(!gn_reason_allowed(0x00, GN_CONNECT));
    ck_assert(!gn_reason_allowed(0x00, 0));
    ck_assert(!gn_reason_allowed(0x00, 16));
}
END_TEST

START_TEST(test_every_named_reason_code_is_allowed_somewhere)
{
    int named = 0;
    for (int rc = 0; rc < 256; rc++) {
        bool somewhere = false;
        for (int t = GN_CONNECT; t <= GN_AUTH; t++)
            somewhere |= gn_reason_allowed((uint8_t)rc, t);
        bool is_named = strcmp(gn_reason_name((uint8_t)rc), "unknown") != 0;
        ck_assert_int_eq(somewhere, is_named);
        named += is_named;
    }
    ck_assert_int_eq(named, 43);
}
END_TEST

START_TEST(test_v5_connack_reasons_map_to_v3_return_codes)
{
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x00), 0);
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x84), 1);
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x85), 2);
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x88), 3);
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x86), 4);
    ck_assert_uint_eq(gn_reason_to_connack_v3(0x87), 5);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_errors");
    TCase *tc = tcase_create("tables");
    tcase_add_test(tc, test_every_error_has_name_text_reason_and_close_code);
    tcase_add_test(tc, test_error_names_are_unique);
    tcase_add_test(tc, test_ok_and_need_more_have_no_codes);
    tcase_add_test(tc, test_out_of_range_error_is_named_unknown);
    tcase_add_test(tc, test_error_mapping_matches_platform_codes);
    tcase_add_test(tc, test_connect_errors_map_to_v3_connack_codes);
    tcase_add_test(tc, test_reason_names_follow_the_spec);
    tcase_add_test(tc, test_reason_codes_allowed_only_in_their_packets);
    tcase_add_test(tc, test_every_named_reason_code_is_allowed_somewhere);
    tcase_add_test(tc, test_v5_connack_reasons_map_to_v3_return_codes);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
