/* tests/platform/unit/test_geo.c — peer address to country (S-038): the
 * override file's parser (comments, blanks, CRLF, case, every kind of bad
 * line with its line number, duplicates), the longest-prefix lookup over
 * IPv4 and IPv6 and nested prefixes, and gn_geo on top: the override
 * answers first, then Debian's geoip-database files when installed
 * (/usr/share/GeoIP; the assertions on them are skipped without), and a
 * missing database leaves the address without a country. */
#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/platform/geo_table.h"
#include "engine/platform/geoip.h"
#include "engine/platform/registry.h"
#include "tests/common/peer_addr.h"

#define DB4 "/usr/share/GeoIP/GeoIP.dat"
#define DB6 "/usr/share/GeoIP/GeoIPv6.dat"


static gn_geo_table *table(const char *text)
{
    char err[256] = "";
    gn_geo_table *t = gn_geo_table_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(t != NULL, "%s", err);
    return t;
}

/* The country of ip in t, "" when none. */
static const char *cc_of(const gn_geo_table *t, const char *ip)
{
    static char out[3];
    uint8_t a[16];
    test_peer_addr(ip, a);
    out[2] = 0;
    if (!gn_geo_table_lookup(t, a, out))
        return "";
    return out;
}

static void bad(const char *text, const char *want)
{
    char err[256] = "";
    gn_geo_table *t = gn_geo_table_parse(text, strlen(text), err, sizeof err);
    ck_assert_msg(t == NULL, "accepted: %s", text);
    ck_assert_msg(strstr(err, want), "'%s': error '%s' lacks '%s'", text, err, want);
}

START_TEST(test_parse_accepts_comments_blanks_crlf_and_any_case)
{
    gn_geo_table *t = table("# test countries\n\n  127.0.0.1/32 , zz \r\n10.0.0.0/8,DE\n"
                            "2001:db8::/32,fr\n\t\n# end");
    ck_assert_uint_eq(gn_geo_table_size(t), 3);
    ck_assert_str_eq(cc_of(t, "127.0.0.1"), "ZZ");
    ck_assert_str_eq(cc_of(t, "127.0.0.2"), "");
    ck_assert_str_eq(cc_of(t, "10.200.1.1"), "DE");
    ck_assert_str_eq(cc_of(t, "11.0.0.1"), "");
    ck_assert_str_eq(cc_of(t, "2001:db8:1::5"), "FR");
    ck_assert_str_eq(cc_of(t, "2001:db9::5"), "");
    ck_assert_str_eq(cc_of(t, "::ffff:10.1.1.1"), "DE");       /* v4-mapped is v4 */
    gn_geo_table_free(t);
    t = table("");
    ck_assert_uint_eq(gn_geo_table_size(t), 0);
    ck_assert_str_eq(cc_of(t, "10.0.0.1"), "");
    gn_geo_table_free(t);
    t = table("1.2.3.4,US");                                   /* no final newline */
    ck_assert_str_eq(cc_of(t, "1.2.3.4"), "US");
    gn_geo_table_free(t);
}
END_TEST

START_TEST(test_longest_prefix_wins)
{
    gn_geo_table *t = table("10.0.0.0/8,AA\n10.1.0.0/16,BB\n10.1.2.0/24,CC\n10.1.2.3,DD\n"
                            "0.0.0.0/0,EE\n2001:db8::/32,FF\n2001:db8:8000::/33,GG\n::/0,HH\n");
    ck_assert_str_eq(cc_of(t, "10.1.2.3"), "DD");
    ck_assert_str_eq(cc_of(t, "10.1.2.4"), "CC");
    ck_assert_str_eq(cc_of(t, "10.1.3.4"), "BB");
    ck_assert_str_eq(cc_of(t, "10.2.3.4"), "AA");
    ck_assert_str_eq(cc_of(t, "11.2.3.4"), "EE");
    ck_assert_str_eq(cc_of(t, "2001:db8:8000::1"), "GG");
    ck_assert_str_eq(cc_of(t, "2001:db8:7fff::1"), "FF");
    ck_assert_str_eq(cc_of(t, "fe80::1"), "HH");
    gn_geo_table_free(t);
    /* many prefixes of one length: the binary search finds each */
    char *big = malloc(256 * 24);
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        n += (size_t)sprintf(big + n, "172.%d.0.0/16,%c%c\n", i, 'A' + i % 26, 'A' + (i / 26) % 26);
    t = table(big);
    for (int i = 0; i < 256; i++) {
        char ip[32], want[3] = { (char)('A' + i % 26), (char)('A' + (i / 26) % 26), 0 };
        snprintf(ip, sizeof ip, "172.%d.9.9", i);
        ck_assert_str_eq(cc_of(t, ip), want);
    }
    gn_geo_table_free(t);
    free(big);
}
END_TEST

START_TEST(test_lookup_agrees_with_brute_force_longest_prefix)
{
    /* nested and adjacent prefixes in a small space: 10.0.0.0/16, /16 .. /32 */
    enum { N = 400 };
    static gn_reg_prefix pf[N];
    static char cc[N][2];
    char *text = malloc(N * 32);
    size_t w = 0, n = 0;
    srand(7);
    while (n < N) {
        unsigned bits = 16 + (unsigned)(rand() % 17);
        uint32_t ip = 0x0a000000u | ((uint32_t)rand() & 0xffffu);
        ip &= bits == 32 ? 0xffffffffu : ~(0xffffffffu >> bits);
        char line[40];
        snprintf(line, sizeof line, "%u.%u.%u.%u/%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255,
                 ip & 255, bits);
        gn_reg_prefix p;
        ck_assert(gn_reg_prefix_parse(line, strlen(line), &p, NULL, 0));
        bool dup = false;
        for (size_t i = 0; i < n && !dup; i++)
            dup = pf[i].bits == p.bits && !memcmp(pf[i].addr, p.addr, 16);
        if (dup)
            continue;
        pf[n] = p;
        cc[n][0] = (char)('A' + rand() % 26);
        cc[n][1] = (char)('A' + rand() % 26);
        w += (size_t)sprintf(text + w, "%s,%c%c\n", line, cc[n][0], cc[n][1]);
        n++;
    }
    gn_geo_table *t = table(text);
    for (int k = 0; k < 20000; k++) {
        uint8_t a[16] = {0};
        a[10] = a[11] = 0xff;
        uint32_t ip = (k & 1 ? 0x0a000000u : 0x09ff0000u + 0x10000u * (uint32_t)(k % 3)) |
                      ((uint32_t)rand() & 0xffffu);
        a[12] = (uint8_t)(ip >> 24);
        a[13] = (uint8_t)(ip >> 16);
        a[14] = (uint8_t)(ip >> 8);
        a[15] = (uint8_t)ip;
        int best = -1;
        for (size_t i = 0; i < n; i++)
            if (gn_reg_prefix_has(&pf[i], a) && (best < 0 || pf[i].bits > pf[best].bits))
                best = (int)i;
        char got[2];
        bool hit = gn_geo_table_lookup(t, a, got);
        ck_assert_msg(hit == (best >= 0), "address %u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        if (hit)
            ck_assert(!memcmp(got, cc[best], 2));
    }
    gn_geo_table_free(t);
    free(text);
    /* the whole space and its last address */
    t = table("::/0,AA\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,BB\n0.0.0.0/0,CC\n");
    ck_assert_str_eq(cc_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "BB");
    ck_assert_str_eq(cc_of(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), "AA");
    ck_assert_str_eq(cc_of(t, "::"), "AA");
    ck_assert_str_eq(cc_of(t, "1.2.3.4"), "CC");
    gn_geo_table_free(t);
}
END_TEST

START_TEST(test_bad_lines_say_which_and_why)
{
    bad("1.2.3.4", "line 1: expected 'cidr,CC'");
    bad("# c\n1.2.3.4,US\nnope,US\n", "line 3: 'nope' is not an address or CIDR prefix");
    bad("1.2.3.4,USA", "line 1: 'USA' is not a two-letter country code");
    bad("1.2.3.4,U1", "not a two-letter country code");
    bad("1.2.3.4,", "not a two-letter country code");
    bad("1.2.3.4,US,x", "expected two fields");
    bad("1.2.3.4/33,US", "not an address or CIDR prefix");
    bad("1.2.3.4/24,US", "bits set after its prefix length");
    bad("1.2.3.4,US\n1.2.3.4/32,CA", "listed twice (as ");
    bad("::ffff:1.2.3.4,US\n1.2.3.4,CA", "listed twice");
    char nul[] = "1.2.3.4,US\n1.2\0.3.4,US";
    char err[128];
    ck_assert_ptr_null(gn_geo_table_parse(nul, sizeof nul - 1, err, sizeof err));
    ck_assert(strstr(err, "line 2: a NUL byte"));
    char longl[400];
    memset(longl, ' ', sizeof longl);
    memcpy(longl + 300, "x", 1);
    longl[sizeof longl - 1] = 0;
    memcpy(longl, "1", 1);
    bad(longl, "line 1: longer than");
}
END_TEST

START_TEST(test_geo_override_first_then_the_debian_database)
{
    char path[] = "/tmp/gn_test_geoXXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *csv = "127.0.0.1/32,ZZ\n8.8.8.0/24,XX\n";
    ck_assert_int_eq(write(fd, csv, strlen(csv)), (int)strlen(csv));
    close(fd);
    char err[256] = "";
    gn_geo *g = gn_geo_open(DB4, DB6, path, err, sizeof err);
    ck_assert_msg(g != NULL, "%s", err);
    uint8_t a[16];
    char cc[2];
    test_peer_addr("127.0.0.1", a);
    ck_assert(gn_geo_country(g, a, cc));
    ck_assert(!memcmp(cc, "ZZ", 2));
    test_peer_addr("8.8.8.8", a);
    ck_assert(gn_geo_country(g, a, cc));
    ck_assert(!memcmp(cc, "XX", 2));                 /* the override beats the database */
    test_peer_addr("127.0.0.2", a);
    ck_assert(!gn_geo_country(g, a, cc));            /* loopback: in no country */
#ifdef GN_HAVE_GEOIP
    if (access(DB4, R_OK) == 0) {
        test_peer_addr("8.8.4.4", a);                          /* Google's resolver, US in every edition */
        ck_assert(gn_geo_country(g, a, cc));
        ck_assert(!memcmp(cc, "US", 2));
        test_peer_addr("193.0.6.139", a);                      /* www.ripe.net, NL */
        ck_assert(gn_geo_country(g, a, cc));
        ck_assert(!memcmp(cc, "NL", 2));
    }
    if (access(DB6, R_OK) == 0) {
        test_peer_addr("2001:4860:4860::8888", a);             /* Google's resolver over IPv6 */
        ck_assert(gn_geo_country(g, a, cc));
        ck_assert(!memcmp(cc, "US", 2));
        test_peer_addr("::1", a);
        ck_assert(!gn_geo_country(g, a, cc));
    }
#endif
    gn_geo_close(g);
    /* no database files: only the override answers */
    g = gn_geo_open("/nonexistent/GeoIP.dat", "", path, err, sizeof err);
    ck_assert_ptr_nonnull(g);
    test_peer_addr("8.8.4.4", a);
    ck_assert(!gn_geo_country(g, a, cc));
    test_peer_addr("127.0.0.1", a);
    ck_assert(gn_geo_country(g, a, cc));
    gn_geo_close(g);
    /* a bad override file or a missing one refuses to start */
    ck_assert_ptr_null(gn_geo_open("", "", "/nonexistent/override.csv", err, sizeof err));
    ck_assert(strstr(err, "platform_geoip_override /nonexistent/override.csv"));
    fd = open(path, O_WRONLY | O_TRUNC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "10.0.0.0/8\n", 11), 11);
    close(fd);
    ck_assert_ptr_null(gn_geo_open("", "", path, err, sizeof err));
    ck_assert(strstr(err, "line 1: expected 'cidr,CC'"));
    unlink(path);
    ck_assert(!gn_geo_country(NULL, a, cc));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("geo");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_parse_accepts_comments_blanks_crlf_and_any_case);
    tcase_add_test(tc, test_longest_prefix_wins);
    tcase_add_test(tc, test_lookup_agrees_with_brute_force_longest_prefix);
    tcase_add_test(tc, test_bad_lines_say_which_and_why);
    tcase_add_test(tc, test_geo_override_first_then_the_debian_database);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
