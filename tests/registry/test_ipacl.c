/* tests/registry/test_ipacl.c — an org's IP access list (S-038): the
 * CIDR parser (IPv4, IPv6, IPv4-mapped IPv6, /0, /32, /128, bad syntax,
 * host bits, the size limit), the canonical text form, and the matcher in
 * blacklist and whitelist mode; the list as an org setting and through
 * the store. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "engine/platform/registry.h"
#include "engine/platform/reg_snapshot.h"
#include "engine/platform/registry_store.h"
#include "tests/common/peer_addr.h"


static bool allows_cc(const char *list, const char *ip, const char *cc)
{
    gn_reg_ipacl a;
    char err[160] = "";
    ck_assert_msg(gn_reg_ipacl_parse(list, &a, err, sizeof err) == GN_REG_OK, "%s: %s", list, err);
    uint8_t x[16];
    test_peer_addr(ip, x);
    return gn_reg_ipacl_allows(&a, x, cc);
}

static bool allows(const char *list, const char *ip)
{
    return allows_cc(list, ip, NULL);
}

START_TEST(test_ipacl_v4)
{
    ck_assert(!allows("black:127.0.0.0/8", "127.0.0.1"));
    ck_assert(!allows("black:127.0.0.0/8", "127.255.255.255"));
    ck_assert(allows("black:127.0.0.0/8", "128.0.0.1"));
    ck_assert(allows("black:127.0.0.0/8", "126.255.255.255"));
    ck_assert(!allows("white:127.0.0.2/32", "127.0.0.1"));
    ck_assert(allows("white:127.0.0.2/32", "127.0.0.2"));
    ck_assert(allows("white:127.0.0.2", "127.0.0.2"));          /* no /bits: the whole address */
    ck_assert(!allows("white:127.0.0.2", "127.0.0.3"));
    ck_assert(!allows("black:10.0.0.0/9", "10.127.0.1"));
    ck_assert(allows("black:10.0.0.0/9", "10.128.0.1"));
    ck_assert(!allows("black:0.0.0.0/0", "203.0.113.9"));       /* /0: every IPv4 address */
    ck_assert(allows("black:0.0.0.0/0", "2001:db8::1"));        /* ... but no IPv6 one */
    ck_assert(allows("black:192.168.0.0/16,10.0.0.0/8", "172.16.0.1"));
    ck_assert(!allows("black:192.168.0.0/16,10.0.0.0/8", "192.168.3.4"));
    ck_assert(allows("none", "10.0.0.1"));
    ck_assert(allows("", "10.0.0.1"));
}
END_TEST

START_TEST(test_ipacl_v6)
{
    ck_assert(!allows("black:2001:db8::/32", "2001:db8:ffff::1"));
    ck_assert(allows("black:2001:db8::/32", "2001:db9::1"));
    ck_assert(!allows("white:::1/128", "::2"));
    ck_assert(allows("white:::1/128", "::1"));
    ck_assert(!allows("white:2001:db8::/33", "2001:db8:8000::1"));
    ck_assert(allows("white:2001:db8::/33", "2001:db8:7fff::1"));
    ck_assert(!allows("black:::/0", "::1"));                    /* /0 v6: everything */
    ck_assert(!allows("black:::/0", "10.0.0.1"));               /* v4 is mapped into v6 */
    /* an IPv4-mapped IPv6 prefix matches IPv4 peers and the other way round */
    ck_assert(!allows("black:::ffff:10.0.0.0/104", "10.1.2.3"));
    ck_assert(allows("black:::ffff:10.0.0.0/104", "11.1.2.3"));
    ck_assert(!allows("black:10.0.0.0/8", "::ffff:10.9.9.9"));
    ck_assert(allows("white:10.0.0.0/8,2001:db8::/32", "2001:db8::5"));
    ck_assert(allows("white:10.0.0.0/8,2001:db8::/32", "10.5.5.5"));
    ck_assert(!allows("white:10.0.0.0/8,2001:db8::/32", "fe80::1"));
}
END_TEST

START_TEST(test_ipacl_countries)
{
    ck_assert(!allows_cc("black:DE", "192.0.2.1", "DE"));
    ck_assert(allows_cc("black:DE", "192.0.2.1", "FR"));
    ck_assert(allows_cc("black:DE", "192.0.2.1", NULL));           /* unknown: not listed */
    ck_assert(!allows_cc("black:de,fr", "192.0.2.1", "FR"));       /* any case in the list */
    ck_assert(!allows_cc("white:FR", "192.0.2.1", "DE"));
    ck_assert(allows_cc("white:FR", "192.0.2.1", "FR"));
    ck_assert(!allows_cc("white:FR", "192.0.2.1", NULL));          /* unknown: not in a whitelist */
    ck_assert(allows_cc("white:FR,192.0.2.0/24", "192.0.2.1", NULL)); /* ... unless its prefix is */
    ck_assert(!allows_cc("black:FR,192.0.2.0/24", "192.0.2.1", "DE"));
    ck_assert(!allows_cc("black:FR,192.0.2.0/24", "198.51.100.1", "FR"));
    ck_assert(allows_cc("black:FR,192.0.2.0/24", "198.51.100.1", "DE"));
    /* the canonical form: prefixes, then countries upper case, sorted, once */
    gn_reg_ipacl a;
    char text[GN_REG_IPACL_TEXT_MAX];
    ck_assert_int_eq(gn_reg_ipacl_parse("white:nl,10.0.0.0/8,DE,nl", &a, NULL, 0), GN_REG_OK);
    ck_assert_uint_eq(a.n, 1);
    ck_assert_uint_eq(a.ncc, 2);
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_str_eq(text, "white:10.0.0.0/8,DE,NL");
    ck_assert_int_eq(gn_reg_ipacl_parse("black:CN", &a, NULL, 0), GN_REG_OK);
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_str_eq(text, "black:CN");
    /* the longest list formats whole and parses back to the same bytes */
    char big[GN_REG_IPACL_TEXT_MAX + 16];
    size_t n = (size_t)snprintf(big, sizeof big, "black:");
    for (int i = 0; i < GN_REG_IPACL_MAX; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:%x/128,", i);
    for (int i = 0; i < GN_REG_IPACL_CC_MAX; i++)
        n += (size_t)snprintf(big + n, sizeof big - n, "%c%c%s", 'A' + i / 26, 'A' + i % 26,
                              i + 1 < GN_REG_IPACL_CC_MAX ? "," : "");
    gn_reg_ipacl b;
    char err[160] = "";
    ck_assert_msg(gn_reg_ipacl_parse(big, &a, err, sizeof err) == GN_REG_OK, "%s", err);
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_int_eq(gn_reg_ipacl_parse(text, &b, err, sizeof err), GN_REG_OK);
    ck_assert(!memcmp(&a, &b, sizeof a));
}
END_TEST

static void bad(const char *list, const char *want)
{
    gn_reg_ipacl a;
    memset(&a, 0x5a, sizeof a);
    gn_reg_ipacl before = a;
    char err[160] = "";
    ck_assert_msg(gn_reg_ipacl_parse(list, &a, err, sizeof err) == GN_REG_ERR_INVALID, "%s accepted", list);
    ck_assert_msg(strstr(err, want), "%s: error '%s' lacks '%s'", list, err, want);
    ck_assert(!memcmp(&a, &before, sizeof a));                  /* untouched on error */
}

START_TEST(test_ipacl_bad_syntax)
{
    bad("10.0.0.0/8", "black:CIDR");                           /* no mode */
    bad("grey:10.0.0.0/8", "black:CIDR");
    bad("black:", "at least one");
    bad("black:10.0.0.0/33", "not an address");
    bad("black:::/129", "not an address");
    bad("black:10.0.0.0/", "not an address");
    bad("black:10.0.0.0/8x", "not an address");
    bad("black:10.0.0.0/-1", "not an address");
    bad("black:10.0.0.256", "not an address");
    bad("black:10.0.0", "not an address");
    bad("black:10.0.0.0/8,", "empty");
    bad("black:10.0.0.0/8,,1.2.3.4", "empty");
    bad("black:example.com", "not an address");
    bad("black:10.0.0.1/8", "bits set after");                 /* host bits */
    bad("white:2001:db8::1/32", "bits set after");
    char big[2048] = "black:";
    for (int i = 0; i <= GN_REG_IPACL_MAX; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%s10.%d.0.0/16", i ? "," : "", i);
    bad(big, "more than");
}
END_TEST

START_TEST(test_ipacl_canonical_form)
{
    gn_reg_ipacl a;
    char text[GN_REG_IPACL_TEXT_MAX];
    ck_assert_int_eq(gn_reg_ipacl_parse("white:2001:DB8::/32,10.0.0.0/8,127.0.0.1,10.0.0.0/8", &a, NULL, 0),
                     GN_REG_OK);
    ck_assert_int_eq(a.mode, GN_REG_IPACL_WHITE);
    ck_assert_int_eq(a.n, 3);                                   /* sorted, duplicate dropped */
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_str_eq(text, "white:10.0.0.0/8,127.0.0.1/32,2001:db8::/32");
    gn_reg_ipacl b;
    ck_assert_int_eq(gn_reg_ipacl_parse(text, &b, NULL, 0), GN_REG_OK);
    ck_assert(!memcmp(&a, &b, sizeof a));                       /* round trip */
    ck_assert_int_eq(gn_reg_ipacl_parse("none", &a, NULL, 0), GN_REG_OK);
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_str_eq(text, "none");
    /* the largest list fits the text buffer */
    char big[GN_REG_IPACL_TEXT_MAX] = "black:";
    for (int i = 0; i < GN_REG_IPACL_MAX; i++)
        snprintf(big + strlen(big), sizeof big - strlen(big), "%sffff:ffff:ffff:ffff:ffff:ffff:ffff:%x/128",
                 i ? "," : "", 0xff00 + i);
    ck_assert_int_eq(gn_reg_ipacl_parse(big, &a, NULL, 0), GN_REG_OK);
    gn_reg_ipacl_format(&a, text, sizeof text);
    ck_assert_str_eq(text, big);
}
END_TEST

START_TEST(test_ipacl_org_setting)
{
    gn_reg_org_settings s;
    gn_reg_org_settings_default(&s, GN_REG_PLAN_STANDARD);
    ck_assert_int_eq(s.ip_acl.mode, GN_REG_IPACL_NONE);        /* default: no list */
    ck_assert_int_eq(gn_reg_settings_set(&s, "ip_acl", "black:127.0.0.0/8"), GN_REG_OK);
    ck_assert_int_eq(s.ip_acl.mode, GN_REG_IPACL_BLACK);
    ck_assert_int_eq(gn_reg_settings_set(&s, "ip_acl", "black:nonsense"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(s.ip_acl.n, 1);
}
END_TEST

Suite *reg_ipacl_suite(void)
{
    Suite *s = suite_create("reg_ipacl");
    TCase *tc = tcase_create("ipacl");
    tcase_add_test(tc, test_ipacl_v4);
    tcase_add_test(tc, test_ipacl_v6);
    tcase_add_test(tc, test_ipacl_bad_syntax);
    tcase_add_test(tc, test_ipacl_canonical_form);
    tcase_add_test(tc, test_ipacl_org_setting);
    tcase_add_test(tc, test_ipacl_countries);
    suite_add_tcase(s, tc);
    return s;
}
