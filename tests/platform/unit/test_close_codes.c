/* tests/platform/unit/test_close_codes.c — the close-code table: every
 * seed code has its reason string and MQTT 5 mapping, every close code the
 * codec's error table names is in it, and the reverse mapping from the
 * engine's own DISCONNECT reasons lands on table codes. */
#include <check.h>
#include <string.h>

#include "codec/errors.h"
#include "codec/reason_codes.h"
#include "engine/platform/close_codes.h"

START_TEST(test_seed_codes_and_strings)
{
    const struct { uint16_t code; const char *reason; uint8_t v5; } want[] = {
        { 0, "The connection completed normally", 0x00 },
        { 91, "The connection was closed by the client", 0x00 },
        { 92, "The connection was closed by the server", 0x80 },
        { 93, "The connection was closed because the server was shut down", 0x8B },
        { 94, "The connection was closed by an administrator", 0x98 },
        { 104, "The server capacity is reached", 0x89 },
        { 105, "The data from the client is not valid", 0x81 },
        { 154, "Too many producers or consumers in a single connection", 0x97 },
        { 160, "The connection timed out", 0x8D },
        { 163, "Closed during TLS handshake", 0x80 },
        { 164, "No data was received on a connection", 0xA0 },
        { 165, "The initial packet is too large", 0x95 },
        { 166, "The ClientID is not valid", 0x85 },
        { 167, "Server not available", 0x88 },
        { 169, "Certificate missing", 0x87 },
        { 170, "Certificate not valid", 0x87 },
        { 173, "Too many connections for an organization", 0x97 },
        { 175, "The HTTP Authorization header cannot be changed in a connection", 0x87 },
        { 176, "Authorization request is in delay or too many authentication requests", 0x89 },
        { 180, "The operation is not authorized", 0x87 },
        { 271, "The length of the message is not correct", 0x81 },
        { 276, "The topic is not valid", 0x90 },
        { 287, "The message size is too large for this endpoint", 0x95 },
        { 288, "The clientID was reused", 0x8E },
        { 291, "The requested quality of service is not allowed", 0x9B },
        { 292, "A cleansession=0 session is not allowed", 0x87 },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_msg(gn_close_known(want[i].code), "%u", want[i].code);
        ck_assert_str_eq(gn_close_reason(want[i].code), want[i].reason);
        ck_assert_uint_eq(gn_close_mqtt5_reason(want[i].code), want[i].v5);
    }
    ck_assert(!gn_close_known(1));
    ck_assert_str_eq(gn_close_reason(1), "Unknown close code");
    ck_assert_uint_eq(gn_close_mqtt5_reason(1), 0x80);
}
END_TEST

START_TEST(test_codec_close_codes_are_in_the_table)
{
    for (int e = GN_ERR_BUFFER_TOO_SMALL; e < GN_ERR__COUNT; e++) {
        uint16_t cc = gn_err_close_code((gn_err)e);
        ck_assert_msg(gn_close_known(cc), "%s -> %u", gn_err_name((gn_err)e), cc);
    }
}
END_TEST

START_TEST(test_table_codes_are_unique)
{
    size_t n = gn_close_count();
    ck_assert_uint_ge(n, 26);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            ck_assert_uint_ne(gn_close_code_at(i), gn_close_code_at(j));
}
END_TEST

START_TEST(test_reverse_mapping)
{
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_KEEP_ALIVE_TIMEOUT), 160);
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_SESSION_TAKEN_OVER), 288);
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_PACKET_TOO_LARGE), 287);
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_QOS_NOT_SUPPORTED), 291);
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_PROTOCOL_ERROR), 105);
    ck_assert_uint_eq(gn_close_from_mqtt5_reason(GN_RC_SERVER_SHUTTING_DOWN), 93);
    for (int rc = 0; rc < 256; rc++)
        ck_assert(gn_close_known(gn_close_from_mqtt5_reason((uint8_t)rc)));
    /* connack side: refusals a CONNECT can get */
    ck_assert_uint_eq(gn_close_connack_reason(166), 0x85);
    ck_assert_uint_eq(gn_close_connack_reason(180), 0x87);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_close_codes");
    TCase *tc = tcase_create("close_codes");
    tcase_add_test(tc, test_seed_codes_and_strings);
    tcase_add_test(tc, test_codec_close_codes_are_in_the_table);
    tcase_add_test(tc, test_table_codes_are_unique);
    tcase_add_test(tc, test_reverse_mapping);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
