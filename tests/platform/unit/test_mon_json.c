/* tests/platform/unit/test_mon_json.c — the monitoring messages' JSON
 * writer: field order and separators, escaping of quotes, backslashes and
 * control characters in client ids and user names (UTF-8 passes through),
 * numbers and booleans, pre-written field runs, the bound (never past cap,
 * a cut object reports 0), and the ISO 8601 time stamps. */
#include <check.h>
#include <string.h>

#include "engine/platform/mon_json.h"

START_TEST(test_object_fields_in_order)
{
    char buf[256];
    gn_mjson j;
    gn_mjson_begin(&j, buf, sizeof buf);
    gn_mjson_cstr(&j, "Action", "Connect");
    gn_mjson_u64(&j, "Port", 1883);
    gn_mjson_bool(&j, "Secure", false);
    gn_mjson_bool(&j, "Tls", true);
    gn_mjson_u64(&j, "ReadBytes", UINT64_MAX);
    size_t n = gn_mjson_end(&j);
    const char *want = "{\"Action\":\"Connect\",\"Port\":1883,\"Secure\":false,\"Tls\":true,"
                       "\"ReadBytes\":18446744073709551615}";
    ck_assert_str_eq(buf, want);
    ck_assert_uint_eq(n, strlen(want));
}
END_TEST

START_TEST(test_empty_object)
{
    char buf[8];
    gn_mjson j;
    gn_mjson_begin(&j, buf, sizeof buf);
    ck_assert_uint_eq(gn_mjson_end(&j), 2);
    ck_assert_str_eq(buf, "{}");
}
END_TEST

START_TEST(test_escaping)
{
    char buf[256];
    gn_mjson j;
    gn_mjson_begin(&j, buf, sizeof buf);
    const uint8_t id[] = { 'd', ':', '"', '\\', '/', 0x01, 0x1F, 0x7F, '\n', 0xC3, 0xA9, 'x' };
    gn_mjson_str(&j, "ClientID", id, sizeof id);
    gn_mjson_end(&j);
    ck_assert_str_eq(buf, "{\"ClientID\":\"d:\\\"\\\\/\\u0001\\u001f\\u007f\\u000a\xC3\xA9x\"}");
}
END_TEST

START_TEST(test_embedded_nul_is_escaped)
{
    char buf[64];
    gn_mjson j;
    gn_mjson_begin(&j, buf, sizeof buf);
    const uint8_t u[] = { 'a', 0, 'b' };
    gn_mjson_str(&j, "User", u, sizeof u);
    size_t n = gn_mjson_end(&j);
    ck_assert_str_eq(buf, "{\"User\":\"a\\u0000b\"}");
    ck_assert_uint_eq(n, strlen(buf));
}
END_TEST

START_TEST(test_field_run_inserted)
{
    char fields[128], buf[256];
    gn_mjson f, j;
    gn_mjson_begin_fields(&f, fields, sizeof fields);
    gn_mjson_cstr(&f, "ClientAddr", "127.0.0.1");
    gn_mjson_u64(&f, "Port", 1883);
    size_t fl = gn_mjson_fields_len(&f);
    ck_assert_str_eq(fields, "\"ClientAddr\":\"127.0.0.1\",\"Port\":1883");
    gn_mjson_begin(&j, buf, sizeof buf);
    gn_mjson_cstr(&j, "Action", "Disconnect");
    gn_mjson_raw(&j, fields, fl);
    gn_mjson_raw(&j, "", 0);              /* an empty run adds nothing */
    gn_mjson_u64(&j, "CloseCode", 288);
    gn_mjson_end(&j);
    ck_assert_str_eq(buf, "{\"Action\":\"Disconnect\",\"ClientAddr\":\"127.0.0.1\",\"Port\":1883,"
                          "\"CloseCode\":288}");
    /* a run first in the object */
    gn_mjson_begin(&j, buf, sizeof buf);
    gn_mjson_raw(&j, fields, fl);
    gn_mjson_end(&j);
    ck_assert_str_eq(buf, "{\"ClientAddr\":\"127.0.0.1\",\"Port\":1883}");
}
END_TEST

START_TEST(test_bounded_never_past_cap)
{
    /* every cap from 0 up: no byte past cap is touched; a cut object is 0 */
    const char *full = "{\"ClientID\":\"\\\"abc\\\"\",\"Port\":12345}";
    size_t full_len = strlen(full);
    for (size_t cap = 0; cap <= full_len + 2; cap++) {
        char buf[64];
        memset(buf, 'Z', sizeof buf);
        gn_mjson j;
        gn_mjson_begin(&j, buf, cap);
        gn_mjson_str(&j, "ClientID", (const uint8_t *)"\"abc\"", 5);
        gn_mjson_u64(&j, "Port", 12345);
        size_t n = gn_mjson_end(&j);
        for (size_t i = cap; i < sizeof buf; i++)
            ck_assert_int_eq(buf[i], 'Z');
        if (cap > full_len) {
            ck_assert_uint_eq(n, full_len);
            ck_assert_str_eq(buf, full);
        } else {
            ck_assert_uint_eq(n, 0);
            if (cap)
                ck_assert_uint_lt(strlen(buf), cap);    /* still NUL-terminated */
        }
    }
}
END_TEST

START_TEST(test_time_iso8601)
{
    char t[GN_MJSON_TIME_LEN];
    gn_mjson_time(t, 0);
    ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
    gn_mjson_time(t, UINT64_C(1796175920123));      /* 2026-12-02T01:45:20.123Z */
    ck_assert_str_eq(t, "2026-12-02T01:45:20.123Z");
    gn_mjson_time(t, UINT64_C(951782400999));       /* a leap day */
    ck_assert_str_eq(t, "2000-02-29T00:00:00.999Z");
    ck_assert_uint_eq(strlen(t), GN_MJSON_TIME_LEN - 1);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_mon_json");
    TCase *tc = tcase_create("mon_json");
    tcase_add_test(tc, test_object_fields_in_order);
    tcase_add_test(tc, test_empty_object);
    tcase_add_test(tc, test_escaping);
    tcase_add_test(tc, test_embedded_nul_is_escaped);
    tcase_add_test(tc, test_field_run_inserted);
    tcase_add_test(tc, test_bounded_never_past_cap);
    tcase_add_test(tc, test_time_iso8601);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
