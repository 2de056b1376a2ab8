/* tests/codec/test_props.c — MQTT 5 properties: the table (types, names,
 * contexts), decoding every type, iteration of user properties and
 * subscription ids, each validation rule, and encoding (fields, explicit
 * arrays, pass-through of a decoded block). */
#include "codec_util.h"

static gn_err dec(const char *hex, gn_prop_ctx ctx, gn_props *out, size_t *used)
{
    static uint8_t buf[1024];
    size_t n = tu_hex(hex, buf, sizeof buf);
    size_t u = 0;
    gn_err e = gn_props_decode(buf, n, ctx, out, &u);
    if (used != NULL)
        *used = u;
    return e;
}

START_TEST(test_table_has_all_27_properties)
{
    int known = 0;
    for (int id = 0; id < 256; id++) {
        gn_prop_type t = gn_prop_type_of((uint8_t)id);
        bool named = strcmp(gn_prop_name((uint8_t)id), "unknown") != 0;
        ck_assert_int_eq(t != GN_PTYPE_NONE, named);
        if (t != GN_PTYPE_NONE) {
            known++;
            bool somewhere = false;
            for (int c = 0; c < GN_PCTX__COUNT; c++)
                somewhere |= gn_prop_allowed((uint8_t)id, (gn_prop_ctx)c);
            ck_assert(somewhere);
        }
    }
    ck_assert_int_eq(known, 27);
    ck_assert_int_eq(gn_prop_type_of(GN_PROP_SUBSCRIPTION_ID), GN_PTYPE_VARINT);
    ck_assert_int_eq(gn_prop_type_of(GN_PROP_USER_PROPERTY), GN_PTYPE_UTF8_PAIR);
    ck_assert_int_eq(gn_prop_type_of(GN_PROP_CORRELATION_DATA), GN_PTYPE_BINARY);
    ck_assert_int_eq(gn_prop_type_of(GN_PROP_TOPIC_ALIAS), GN_PTYPE_U16);
    ck_assert_int_eq(gn_prop_type_of(GN_PROP_WILL_DELAY), GN_PTYPE_U32);
    ck_assert_str_eq(gn_prop_name(GN_PROP_TOPIC_ALIAS), "Topic Alias");
}
END_TEST

START_TEST(test_contexts_follow_the_spec)
{
    ck_assert(gn_prop_allowed(GN_PROP_TOPIC_ALIAS, GN_PCTX_PUBLISH));
    ck_assert(!gn_prop_allowed(GN_PROP_TOPIC_ALIAS, GN_PCTX_WILL));
    ck_assert(gn_prop_allowed(GN_PROP_WILL_DELAY, GN_PCTX_WILL));
    ck_assert(!gn_prop_allowed(GN_PROP_WILL_DELAY, GN_PCTX_CONNECT));
    ck_assert(gn_prop_allowed(GN_PROP_SUBSCRIPTION_ID, GN_PCTX_SUBSCRIBE));
    ck_assert(!gn_prop_allowed(GN_PROP_SUBSCRIPTION_ID, GN_PCTX_UNSUBSCRIBE));
    ck_assert(gn_prop_allowed(GN_PROP_SESSION_EXPIRY, GN_PCTX_DISCONNECT));
    ck_assert(gn_prop_allowed(GN_PROP_REASON_STRING, GN_PCTX_PUBACK));
    ck_assert(!gn_prop_allowed(GN_PROP_REASON_STRING, GN_PCTX_PUBLISH));
    ck_assert(gn_prop_allowed(GN_PROP_AUTH_METHOD, GN_PCTX_AUTH));
    ck_assert(gn_prop_allowed(GN_PROP_MAXIMUM_QOS, GN_PCTX_CONNACK));
    ck_assert(!gn_prop_allowed(GN_PROP_MAXIMUM_QOS, GN_PCTX_CONNECT));
    for (int c = 0; c < GN_PCTX__COUNT; c++)
        ck_assert(gn_prop_allowed(GN_PROP_USER_PROPERTY, (gn_prop_ctx)c));
    ck_assert(!gn_prop_allowed(0x00, GN_PCTX_PUBLISH));
    ck_assert(!gn_prop_allowed(GN_PROP_USER_PROPERTY, GN_PCTX__COUNT));
}
END_TEST

START_TEST(test_empty_block_sets_nothing_present)
{
    gn_props p;
    size_t used;
    ck_assert_err(dec("00 FF", GN_PCTX_PUBLISH, &p, &used), GN_OK);
    ck_assert_uint_eq(used, 1);
    ck_assert_uint_eq(p.present, 0);
    ck_assert_uint_eq(p.raw.len, 0);
    ck_assert_uint_eq(p.user_count, 0);
    ck_assert_uint_eq(p.sub_id_count, 0);
    ck_assert_uint_eq(gn_props_size(&p), 1);
}
END_TEST

START_TEST(test_publish_properties_decode_every_type)
{
    gn_props p;
    size_t used;
    /* payload format 1, expiry 0x01020304, content type "json", response
     * topic "r/t", correlation "\x01\x02", sub ids 5 and 200, topic alias 7,
     * user ("k","v") and ("a","") */
    const char *hex =
        "2E 01 01 02 01 02 03 04 03 00 04 6A 73 6F 6E 08 00 03 72 2F 74"
        " 09 00 02 01 02 0B 05 0B C8 01 23 00 07"
        " 26 00 01 6B 00 01 76 26 00 01 61 00 00";
    ck_assert_err(dec(hex, GN_PCTX_PUBLISH, &p, &used), GN_OK);
    ck_assert_uint_eq(used, 47);
    ck_assert(gn_props_has(&p, GN_PROP_PAYLOAD_FORMAT));
    ck_assert_uint_eq(p.payload_format, 1);
    ck_assert_uint_eq(p.message_expiry, 0x01020304u);
    ck_assert(tu_seq(p.content_type, "json"));
    ck_assert(tu_seq(p.response_topic, "r/t"));
    ck_assert_uint_eq(p.correlation_data.len, 2);
    ck_assert_uint_eq(p.topic_alias, 7);
    ck_assert_uint_eq(p.subscription_id, 5);
    ck_assert_uint_eq(p.sub_id_count, 2);
    ck_assert_uint_eq(p.user_count, 2);
    ck_assert(!gn_props_has(&p, GN_PROP_SESSION_EXPIRY));

    uint32_t c = 0, id;
    ck_assert(gn_props_next_sub_id(&p, &c, &id));
    ck_assert_uint_eq(id, 5);
    ck_assert(gn_props_next_sub_id(&p, &c, &id));
    ck_assert_uint_eq(id, 200);
    ck_assert(!gn_props_next_sub_id(&p, &c, &id));

    gn_user_prop u;
    c = 0;
    ck_assert(gn_props_next_user(&p, &c, &u));
    ck_assert(tu_seq(u.key, "k") && tu_seq(u.value, "v"));
    ck_assert(gn_props_next_user(&p, &c, &u));
    ck_assert(tu_seq(u.key, "a") && tu_seq(u.value, ""));
    ck_assert(!gn_props_next_user(&p, &c, &u));
}
END_TEST

START_TEST(test_connack_properties_decode)
{
    gn_props p;
    const char *hex =
        "1E 11 00 00 00 3C 12 00 02 69 64 13 00 1E 21 00 0A 22 00 05 24 01 25 00"
        " 27 00 00 10 00 28 01";
    ck_assert_err(dec(hex, GN_PCTX_CONNACK, &p, NULL), GN_OK);
    ck_assert_uint_eq(p.session_expiry, 60);
    ck_assert(tu_seq(p.assigned_client_id, "id"));
    ck_assert_uint_eq(p.server_keep_alive, 30);
    ck_assert_uint_eq(p.receive_maximum, 10);
    ck_assert_uint_eq(p.topic_alias_maximum, 5);
    ck_assert_uint_eq(p.maximum_qos, 1);
    ck_assert_uint_eq(p.retain_available, 0);
    ck_assert_uint_eq(p.maximum_packet_size, 4096);
    ck_assert_uint_eq(p.wildcard_sub_available, 1);
}
END_TEST

START_TEST(test_unknown_property_is_rejected)
{
    gn_props p;
    ck_assert_err(dec("02 05 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_UNKNOWN);
    ck_assert_err(dec("02 80 01", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_UNKNOWN);
}
END_TEST

START_TEST(test_property_in_wrong_packet_is_not_allowed)
{
    gn_props p;
    ck_assert_err(dec("05 11 00 00 00 01", GN_PCTX_PUBLISH, &p, NULL),
                  GN_ERR_PROPERTY_NOT_ALLOWED);
    ck_assert_err(dec("03 23 00 01", GN_PCTX_WILL, &p, NULL), GN_ERR_PROPERTY_NOT_ALLOWED);
    ck_assert_err(dec("02 0B 01", GN_PCTX_UNSUBSCRIBE, &p, NULL), GN_ERR_PROPERTY_NOT_ALLOWED);
}
END_TEST

START_TEST(test_duplicate_property_is_rejected)
{
    gn_props p;
    ck_assert_err(dec("06 23 00 01 23 00 02", GN_PCTX_PUBLISH, &p, NULL),
                  GN_ERR_PROPERTY_DUPLICATE);
    ck_assert_err(dec("04 0B 01 0B 02", GN_PCTX_SUBSCRIBE, &p, NULL),
                  GN_ERR_PROPERTY_DUPLICATE);
    ck_assert_err(dec("04 0B 01 0B 02", GN_PCTX_PUBLISH, &p, NULL), GN_OK);
    ck_assert_err(dec("0C 26 00 01 6B 00 00 26 00 01 6B 00 00", GN_PCTX_PUBLISH, &p, NULL),
                  GN_OK);
}
END_TEST

START_TEST(test_property_past_block_end_is_a_length_error)
{
    gn_props p;
    ck_assert_err(dec("05 01 01", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(dec("02 23 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(dec("04 03 00 05 61", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(dec("02 0B 80", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(dec("80", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_LENGTH);
    ck_assert_err(dec("", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_TRUNCATED);
}
END_TEST

START_TEST(test_overlong_varints_in_properties_are_malformed)
{
    gn_props p;
    ck_assert_err(dec("80 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_MALFORMED_VARINT);
    ck_assert_err(dec("03 0B 81 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_MALFORMED_VARINT);
}
END_TEST

START_TEST(test_property_values_out_of_range_are_rejected)
{
    gn_props p;
    ck_assert_err(dec("03 23 00 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("02 01 02", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("02 0B 00", GN_PCTX_PUBLISH, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("03 21 00 00", GN_PCTX_CONNECT, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("05 27 00 00 00 00", GN_PCTX_CONNECT, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("02 17 02", GN_PCTX_CONNECT, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("02 24 02", GN_PCTX_CONNACK, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("02 2A 05", GN_PCTX_CONNACK, &p, NULL), GN_ERR_PROPERTY_VALUE);
    /* authentication data without a method */
    ck_assert_err(dec("04 16 00 01 00", GN_PCTX_CONNECT, &p, NULL), GN_ERR_PROPERTY_VALUE);
    ck_assert_err(dec("08 15 00 01 6D 16 00 01 00", GN_PCTX_CONNECT, &p, NULL), GN_OK);
}
END_TEST

START_TEST(test_property_strings_must_be_utf8)
{
    gn_props p;
    ck_assert_err(dec("05 1F 00 02 C3 28", GN_PCTX_PUBACK, &p, NULL), GN_ERR_UTF8_INVALID);
    ck_assert_err(dec("05 1F 00 02 61 00", GN_PCTX_PUBACK, &p, NULL), GN_ERR_UTF8_NUL);
    ck_assert_err(dec("07 26 00 01 FF 00 01 61", GN_PCTX_PUBACK, &p, NULL),
                  GN_ERR_UTF8_INVALID);
    ck_assert_err(dec("07 26 00 01 61 00 01 FF", GN_PCTX_PUBACK, &p, NULL),
                  GN_ERR_UTF8_INVALID);
    /* binary data may hold anything */
    ck_assert_err(dec("05 09 00 02 FF 00", GN_PCTX_PUBLISH, &p, NULL), GN_OK);
}
END_TEST

START_TEST(test_response_topic_with_wildcard_is_rejected)
{
    gn_props p;
    ck_assert_err(dec("06 08 00 03 61 2F 2B", GN_PCTX_PUBLISH, &p, NULL),
                  GN_ERR_TOPIC_WILDCARD);
}
END_TEST

START_TEST(test_encode_fields_then_decode_gives_them_back)
{
    gn_props in;
    memset(&in, 0, sizeof in);
    in.present = GN_PROP_BIT(GN_PROP_SESSION_EXPIRY) | GN_PROP_BIT(GN_PROP_RECEIVE_MAXIMUM) |
                 GN_PROP_BIT(GN_PROP_AUTH_METHOD) | GN_PROP_BIT(GN_PROP_MAXIMUM_PACKET_SIZE);
    in.session_expiry = 3600;
    in.receive_maximum = 20;
    in.auth_method = tu_s("SCRAM");
    in.maximum_packet_size = 1u << 20;
    gn_user_prop users[2] = { { tu_s("x"), tu_s("1") }, { tu_s("y"), tu_s("22") } };
    in.user = users;
    in.user_count = 2;
    uint8_t buf[256];
    size_t n = gn_props_size(&in);
    ck_assert_uint_eq(gn_props_write(&in, buf), n);
    gn_props out;
    size_t used;
    ck_assert_err(gn_props_decode(buf, n, GN_PCTX_CONNECT, &out, &used), GN_OK);
    ck_assert_uint_eq(used, n);
    ck_assert_uint_eq(out.present, in.present | GN_PROP_BIT(GN_PROP_USER_PROPERTY));
    ck_assert_uint_eq(out.session_expiry, 3600);
    ck_assert_uint_eq(out.receive_maximum, 20);
    ck_assert(tu_seq(out.auth_method, "SCRAM"));
    ck_assert_uint_eq(out.maximum_packet_size, 1u << 20);
    ck_assert_uint_eq(out.user_count, 2);
    gn_user_prop u;
    uint32_t c = 0;
    ck_assert(gn_props_next_user(&out, &c, &u));
    ck_assert(tu_seq(u.key, "x") && tu_seq(u.value, "1"));
    ck_assert(gn_props_next_user(&out, &c, &u));
    ck_assert(tu_seq(u.key, "y") && tu_seq(u.value, "22"));
}
END_TEST

START_TEST(test_decoded_block_passes_through_unchanged)
{
    static uint8_t buf[256];
    const char *hex = "15 23 00 07 26 00 01 6B 00 01 76 0B 05 0B C8 01 26 00 01 61 00 00";
    size_t n = tu_hex(hex, buf, sizeof buf);
    gn_props p;
    size_t used;
    ck_assert_err(gn_props_decode(buf, n, GN_PCTX_PUBLISH, &p, &used), GN_OK);
    ck_assert_uint_eq(used, n);
    uint8_t out[256];
    ck_assert_uint_eq(gn_props_size(&p), n);
    ck_assert_uint_eq(gn_props_write(&p, out), n);
    /* Canonical order: fields, then user properties, then sub ids. */
    uint8_t want[256];
    size_t wn = tu_hex("15 23 00 07 26 00 01 6B 00 01 76 26 00 01 61 00 00 0B 05 0B C8 01",
                       want, sizeof want);
    ck_assert_uint_eq(wn, n);
    ck_assert_mem_eq(out, want, n);
}
END_TEST

START_TEST(test_explicit_arrays_replace_the_decoded_ones)
{
    static uint8_t buf[64];
    size_t n = tu_hex("09 0B 05 26 00 01 6B 00 01 76", buf, sizeof buf);
    gn_props p;
    size_t used;
    ck_assert_err(gn_props_decode(buf, n, GN_PCTX_PUBLISH, &p, &used), GN_OK);
    static const uint32_t ids[1] = { 9 };
    p.sub_ids = ids;
    p.sub_id_count = 1;
    p.user = NULL;
    p.present &= ~GN_PROP_BIT(GN_PROP_USER_PROPERTY);   /* strip user properties */
    uint8_t out[64];
    size_t w = gn_props_write(&p, out);
    ck_assert_uint_eq(w, gn_props_size(&p));
    uint8_t want[8];
    size_t wn = tu_hex("02 0B 09", want, sizeof want);
    ck_assert_uint_eq(w, wn);
    ck_assert_mem_eq(out, want, wn);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_props");
    TCase *tc = tcase_create("props");
    tcase_add_test(tc, test_table_has_all_27_properties);
    tcase_add_test(tc, test_contexts_follow_the_spec);
    tcase_add_test(tc, test_empty_block_sets_nothing_present);
    tcase_add_test(tc, test_publish_properties_decode_every_type);
    tcase_add_test(tc, test_connack_properties_decode);
    tcase_add_test(tc, test_unknown_property_is_rejected);
    tcase_add_test(tc, test_property_in_wrong_packet_is_not_allowed);
    tcase_add_test(tc, test_duplicate_property_is_rejected);
    tcase_add_test(tc, test_property_past_block_end_is_a_length_error);
    tcase_add_test(tc, test_overlong_varints_in_properties_are_malformed);
    tcase_add_test(tc, test_property_values_out_of_range_are_rejected);
    tcase_add_test(tc, test_property_strings_must_be_utf8);
    tcase_add_test(tc, test_response_topic_with_wildcard_is_rejected);
    tcase_add_test(tc, test_encode_fields_then_decode_gives_them_back);
    tcase_add_test(tc, test_decoded_block_passes_through_unchanged);
    tcase_add_test(tc, test_explicit_arrays_replace_the_decoded_ones);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
