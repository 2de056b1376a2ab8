/* tests/platform/unit/test_clientid.c — platform client ids (S-010 …
 * S-016, S-145): the five forms, field character sets and lengths, the
 * org id, and which refusal (CONNACK 2 or 5) each malformed id gets. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "engine/platform/clientid.h"

static gn_pid_result parse(const char *s, gn_pident *out)
{
    return gn_pident_parse((const uint8_t *)s, strlen(s), out);
}

START_TEST(test_five_forms)
{
    gn_pident p;
    ck_assert_int_eq(parse("d:abc123:sensor:s1", &p), GN_PID_OK);
    ck_assert_int_eq(p.cls, GN_PC_DEVICE);
    ck_assert_str_eq(p.org, "abc123");
    ck_assert_str_eq(p.type, "sensor");
    ck_assert_str_eq(p.id, "s1");
    ck_assert(!p.quickstart);
    ck_assert_int_eq(parse("g:abc123:gw-type:gw_1.x", &p), GN_PID_OK);
    ck_assert_int_eq(p.cls, GN_PC_GATEWAY);
    ck_assert_int_eq(parse("a:abc123:myapp", &p), GN_PID_OK);
    ck_assert_int_eq(p.cls, GN_PC_APP);
    ck_assert_str_eq(p.id, "myapp");
    ck_assert(!p.has_inst);
    ck_assert_int_eq(parse("A:abc123:myapp", &p), GN_PID_OK);
    ck_assert_int_eq(p.cls, GN_PC_SCALABLE);
    ck_assert(!p.has_inst);
    ck_assert_int_eq(parse("A:abc123:myapp:inst-7", &p), GN_PID_OK);
    ck_assert(p.has_inst);
    ck_assert_str_eq(p.inst, "inst-7");
    ck_assert_int_eq(parse("d:quickstart:t:x", &p), GN_PID_OK);
    ck_assert(p.quickstart);
}
END_TEST

START_TEST(test_no_class_is_not_authorized)
{
    gn_pident p;
    const char *bad[] = { "x:abc123:foo", "abc", "", "d", "d-abc123:t:i", "a:abc123",
                          "d:abc123:t", "d:abc123:t:i:extra", "a:abc123:app:inst",
                          "A:abc123:app:i:j", "D:abc123:t:i" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gn_pid_result r = parse(bad[i], &p);
        ck_assert_msg(r == GN_PID_NO_CLASS, "%s -> %d", bad[i], r);
        ck_assert_uint_eq(gn_pid_result_connack_v3(r), 5);
    }
    ck_assert_str_eq(gn_pid_result_text(GN_PID_NO_CLASS), "The clientID is not valid");
}
END_TEST

START_TEST(test_org_id)
{
    gn_pident p;
    ck_assert_int_eq(parse("d:ABC123:t:i", &p), GN_PID_BAD_ORG);
    ck_assert_int_eq(parse("d:abc12:t:i", &p), GN_PID_BAD_ORG);
    ck_assert_int_eq(parse("d:abc1234:t:i", &p), GN_PID_BAD_ORG);
    ck_assert_int_eq(parse("d:ab_123:t:i", &p), GN_PID_BAD_ORG);
    ck_assert_uint_eq(gn_pid_result_connack_v3(GN_PID_BAD_ORG), 5);
}
END_TEST

START_TEST(test_bad_fields_are_identifier_rejected)
{
    gn_pident p;
    char t37[64], id36[64];
    memset(t37, 'a', 37);
    t37[37] = 0;
    memset(id36, 'b', 36);
    id36[36] = 0;
    char buf[200];
    snprintf(buf, sizeof buf, "d:abc123:%s:x", t37);
    ck_assert_int_eq(parse(buf, &p), GN_PID_BAD_TYPE);
    snprintf(buf, sizeof buf, "d:abc123:%s:%s", id36, id36);
    ck_assert_int_eq(parse(buf, &p), GN_PID_OK);          /* 36 is the limit */
    ck_assert_uint_eq(strlen(buf), 2 + 6 + 1 + 36 + 1 + 36);   /* S-145: 82 */
    snprintf(buf, sizeof buf, "d:abc123:t:%s", t37);
    ck_assert_int_eq(parse(buf, &p), GN_PID_BAD_DEVICE);
    ck_assert_int_eq(parse("d:abc123::x", &p), GN_PID_BAD_TYPE);
    ck_assert_int_eq(parse("d:abc123:t:", &p), GN_PID_BAD_DEVICE);
    ck_assert_int_eq(parse("d:abc123:t:d@v", &p), GN_PID_BAD_DEVICE);
    ck_assert_int_eq(parse("d:abc123:t y:d", &p), GN_PID_BAD_TYPE);
    ck_assert_int_eq(parse("a:abc123:my app", &p), GN_PID_BAD_APP);
    ck_assert_int_eq(parse("A:abc123:app:in st", &p), GN_PID_BAD_INSTANCE);
    ck_assert_int_eq(parse("A:abc123:app:", &p), GN_PID_BAD_INSTANCE);
    ck_assert_uint_eq(gn_pid_result_connack_v3(GN_PID_BAD_DEVICE), 2);
    ck_assert_str_eq(gn_pid_result_text(GN_PID_BAD_DEVICE), "The device ID is not valid");
    ck_assert_str_eq(gn_pid_result_text(GN_PID_BAD_TYPE), "The device type is not valid");
    ck_assert_str_eq(gn_pid_result_text(GN_PID_BAD_APP), "The application ID is not valid");
    ck_assert_str_eq(gn_pid_result_text(GN_PID_BAD_INSTANCE), "The application instance is not valid");
}
END_TEST

START_TEST(test_forbidden_characters)
{
    gn_pident p;
    /* S-015's example and S-016's characters: CONNACK 2 */
    ck_assert_int_eq(parse("d:abc123:type:dev#1", &p), GN_PID_BAD_CHARS);
    ck_assert_int_eq(parse("d:abc123:type:dev+1", &p), GN_PID_BAD_CHARS);
    ck_assert_int_eq(parse("d:abc123:ty/pe:dev", &p), GN_PID_BAD_CHARS);
    ck_assert_int_eq(parse("d:abc123:type:de\tv", &p), GN_PID_BAD_CHARS);
    ck_assert_int_eq(parse("x:abc#123", &p), GN_PID_BAD_CHARS);
    const uint8_t c1[] = { 'd', ':', 'a', 'b', 'c', '1', '2', '3', ':', 't', ':', 0xC2, 0x85 };
    ck_assert_int_eq(gn_pident_parse(c1, sizeof c1, &p), GN_PID_BAD_CHARS);
    const uint8_t bad_utf8[] = { 'd', ':', 'a', 'b', 'c', '1', '2', '3', ':', 't', ':', 0xFF };
    ck_assert_int_eq(gn_pident_parse(bad_utf8, sizeof bad_utf8, &p), GN_PID_BAD_CHARS);
    ck_assert_uint_eq(gn_pid_result_connack_v3(GN_PID_BAD_CHARS), 2);
    /* valid UTF-8 that is not in the field set: a bad field, not bad characters */
    ck_assert_int_eq(parse("d:abc123:t:caf\xc3\xa9", &p), GN_PID_BAD_DEVICE);
}
END_TEST

START_TEST(test_never_reads_past_length)
{
    gn_pident p;
    const char *s = "d:abc123:t:iXXXXXX";
    ck_assert_int_eq(gn_pident_parse((const uint8_t *)s, 12, &p), GN_PID_OK);
    ck_assert_str_eq(p.id, "i");
}
END_TEST

static bool shares(const char *s)
{
    return gn_pident_shares_id((const uint8_t *)s, strlen(s));
}

START_TEST(test_S020_only_A_org_app_shares_its_client_id)
{
    ck_assert(shares("A:abc123:app"));
    ck_assert(shares("A:o:a"));
    ck_assert(!shares("A:abc123:app:i1"));     /* an instance owns its id */
    ck_assert(!shares("a:abc123:app"));
    ck_assert(!shares("A:abc123:"));
    ck_assert(!shares("A::app"));
    ck_assert(!shares("A:abc123"));
    ck_assert(!shares("A:"));
    ck_assert(!shares("d:abc123:t:i"));
    /* never reads past the length */
    ck_assert(shares("A:abc123:app:i1") == false);
    ck_assert(gn_pident_shares_id((const uint8_t *)"A:abc123:app:i1", 12));
}
END_TEST

START_TEST(test_S022_share_prefix_separates_instances)
{
    gn_pident p;
    char b[GN_PLAT_SHARE_PREFIX_MAX];
    ck_assert_int_eq(parse("A:abc123:app", &p), GN_PID_OK);
    ck_assert_uint_eq(gn_pident_share_prefix(&p, b, sizeof b), strlen("$share/A:abc123:app/"));
    ck_assert_str_eq(b, "$share/A:abc123:app/");
    ck_assert_int_eq(parse("A:abc123:app:i1", &p), GN_PID_OK);
    ck_assert_uint_eq(gn_pident_share_prefix(&p, b, sizeof b), strlen("$share/A:abc123:app:*/"));
    ck_assert_str_eq(b, "$share/A:abc123:app:*/");
    ck_assert_int_eq(parse("a:abc123:app", &p), GN_PID_OK);
    ck_assert_uint_eq(gn_pident_share_prefix(&p, b, sizeof b), 0);
    ck_assert_int_eq(parse("A:abc123:app", &p), GN_PID_OK);
    ck_assert_uint_eq(gn_pident_share_prefix(&p, b, 8), 0);     /* too small: nothing */
    /* the longest one fits */
    char id[128];
    snprintf(id, sizeof id, "A:quickstart:%.36s:%.36s",
             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii");
    ck_assert_int_eq(parse(id, &p), GN_PID_OK);
    ck_assert_uint_gt(gn_pident_share_prefix(&p, b, sizeof b), 0);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_clientid");
    TCase *tc = tcase_create("clientid");
    tcase_add_test(tc, test_five_forms);
    tcase_add_test(tc, test_no_class_is_not_authorized);
    tcase_add_test(tc, test_org_id);
    tcase_add_test(tc, test_bad_fields_are_identifier_rejected);
    tcase_add_test(tc, test_forbidden_characters);
    tcase_add_test(tc, test_never_reads_past_length);
    tcase_add_test(tc, test_S020_only_A_org_app_shares_its_client_id);
    tcase_add_test(tc, test_S022_share_prefix_separates_instances);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
