/* bench/loadgen/test_loadgen.c — Check unit tests of gnload's accounting:
 * latency histogram quantiles, loss/duplicate bitmaps and their merge, the
 * PUBLISH template layout for every protocol level and QoS, topic patterns,
 * and option parsing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/ident.h"
#include "bench/loadgen/opts.h"
#include "bench/loadgen/packets.h"
#include "bench/loadgen/seqtrack.h"
#include "codec/packet.h"

START_TEST(test_hist_quantiles_within_two_percent)
{
    static gl_hist h;
    memset(&h, 0, sizeof h);
    for (uint64_t v = 1; v <= 100000; v++)
        gl_hist_record(&h, v * 1000);               /* 1 us .. 100 ms */
    ck_assert_uint_eq(h.count, 100000);
    ck_assert_uint_eq(h.max, 100000000);
    double p50 = (double)gl_hist_quantile(&h, 0.50), p99 = (double)gl_hist_quantile(&h, 0.99);
    ck_assert(p50 > 50e6 * 0.98 && p50 < 50e6 * 1.02);
    ck_assert(p99 > 99e6 * 0.98 && p99 < 99e6 * 1.02);
    ck_assert_uint_eq(gl_hist_quantile(&h, 1.0), 100000000);
}
END_TEST

START_TEST(test_hist_small_values_are_exact_and_empty_is_zero)
{
    static gl_hist h;
    memset(&h, 0, sizeof h);
    ck_assert_uint_eq(gl_hist_quantile(&h, 0.5), 0);
    for (uint64_t v = 0; v < 100; v++)
        gl_hist_record(&h, v);
    ck_assert_uint_eq(gl_hist_quantile(&h, 0.5), 49);
    gl_hist_record(&h, UINT64_MAX);                  /* largest bucket does not overflow */
    ck_assert_uint_eq(gl_hist_quantile(&h, 1.0), UINT64_MAX);
}
END_TEST

START_TEST(test_hist_merge_adds_counts_and_keeps_max)
{
    static gl_hist a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    gl_hist_record(&a, 10);
    gl_hist_record(&b, 5000);
    gl_hist_merge(&a, &b);
    ck_assert_uint_eq(a.count, 2);
    ck_assert_uint_eq(a.max, 5000);
}
END_TEST

START_TEST(test_seqtrack_counts_duplicates_and_gaps)
{
    gl_seqtrack t;
    ck_assert_int_eq(gl_seqtrack_init(&t, 2, 3), GL_OK);
    ck_assert(gl_seqtrack_add(&t, 0, 1, 5));
    ck_assert(!gl_seqtrack_add(&t, 0, 1, 5));        /* duplicate */
    ck_assert(gl_seqtrack_add(&t, 1, 1, 5));         /* other group: not a duplicate */
    ck_assert(gl_seqtrack_add(&t, 0, 2, 1000000));   /* grows the bitmap */
    ck_assert_uint_eq(t.received, 4);
    ck_assert_uint_eq(t.unique, 3);
    gl_seqtrack_free(&t);
}
END_TEST

START_TEST(test_seqtrack_merge_counts_cross_thread_duplicate_once)
{
    gl_seqtrack a, b, all;
    ck_assert_int_eq(gl_seqtrack_init(&a, 1, 2), GL_OK);
    ck_assert_int_eq(gl_seqtrack_init(&b, 1, 2), GL_OK);
    ck_assert_int_eq(gl_seqtrack_init(&all, 1, 2), GL_OK);
    for (uint32_t s = 0; s < 100; s++)
        gl_seqtrack_add(&a, 0, 0, s);
    for (uint32_t s = 50; s < 200; s++)              /* 50..99 seen by both */
        gl_seqtrack_add(&b, 0, 0, s);
    gl_seqtrack_add(&b, 0, 1, 7);
    ck_assert_int_eq(gl_seqtrack_merge(&all, &a), GL_OK);
    ck_assert_int_eq(gl_seqtrack_merge(&all, &b), GL_OK);
    ck_assert_uint_eq(all.received, 251);
    ck_assert_uint_eq(all.unique, 201);
    gl_seqtrack_free(&a);
    gl_seqtrack_free(&b);
    gl_seqtrack_free(&all);
}
END_TEST

static const struct { uint8_t protocol, qos; } layouts[] = {
    {4, 0}, {4, 1}, {4, 2}, {5, 0}, {5, 1}, {5, 2},
};

START_TEST(test_publish_template_fields_decode_back)
{
    gl_opts o = { .topic = "bench/t/%p", .payload = 40, .protocol = layouts[_i].protocol,
                  .qos = layouts[_i].qos };
    gl_pub_tpl t;
    ck_assert_int_eq(gl_pub_tpl_build(&o, 17, &t), GL_OK);
    /* patch the fields the way the publisher does, then decode */
    uint32_t seq = 0xA1B2C3D4;
    uint64_t ts = 0x1122334455667788u;
    memcpy(t.bytes + t.payload_off + 4, &seq, 4);
    memcpy(t.bytes + t.payload_off + 8, &ts, 8);
    if (o.qos) {
        t.bytes[t.id_off] = 0x01;
        t.bytes[t.id_off + 1] = 0x02;
    }
    gn_packet p;
    ck_assert_int_eq(gn_decode(t.bytes, t.len, (gn_proto)o.protocol, &p), GN_OK);
    ck_assert_int_eq(p.type, GN_PUBLISH);
    ck_assert_uint_eq(p.u.publish.qos, o.qos);
    ck_assert_uint_eq(p.u.publish.topic.len, strlen("bench/t/17"));
    ck_assert(memcmp(p.u.publish.topic.ptr, "bench/t/17", 10) == 0);
    ck_assert_uint_eq(p.u.publish.payload.len, 40);
    ck_assert(memcmp(p.u.publish.payload.ptr + 4, &seq, 4) == 0);
    ck_assert(memcmp(p.u.publish.payload.ptr + 8, &ts, 8) == 0);
    if (o.qos)
        ck_assert_uint_eq(p.u.publish.packet_id, 0x0102);
    gl_pub_tpl_free(&t);
}
END_TEST

START_TEST(test_ack_templates_carry_the_packet_id)
{
    gl_ctl_tpls c;
    ck_assert_int_eq(gl_ctl_tpls_init(&c, (uint8_t)(4 + _i)), GL_OK);
    uint8_t b[4];
    gl_ack_put(&c.pubrel, b, 0xBEEF);
    gn_packet p;
    ck_assert_int_eq(gn_decode(b, 4, (gn_proto)(4 + _i), &p), GN_OK);
    ck_assert_int_eq(p.type, GN_PUBREL);
    ck_assert_uint_eq(p.u.ack.packet_id, 0xBEEF);
}
END_TEST

START_TEST(test_topic_pattern_expands_and_makes_filter)
{
    char out[64];
    ck_assert(gl_topic_expand("a/%p/b/%%", 42, out, sizeof out));
    ck_assert_str_eq(out, "a/42/b/%");
    ck_assert(gl_filter_from_pattern("a/%p/b", out, sizeof out));
    ck_assert_str_eq(out, "a/+/b");
    ck_assert(!gl_topic_expand("abcdef/%p", 123456, out, 8));
}
END_TEST

START_TEST(test_opts_reject_short_payload_and_unknown_mode)
{
    gl_opts o;
    bool help;
    char *bad1[] = {"gnload", "--payload", "15", NULL};
    char *bad2[] = {"gnload", "--mode", "flood", NULL};
    char *good[] = {"gnload", "--mode", "fanout", "--qos", "2", NULL};
    ck_assert_int_eq(gl_opts_parse(3, bad1, &o, &help), GL_ERR_USAGE);
    ck_assert_int_eq(gl_opts_parse(3, bad2, &o, &help), GL_ERR_USAGE);
    ck_assert_int_eq(gl_opts_parse(5, good, &o, &help), GL_OK);
    ck_assert_int_eq(o.mode, GL_MODE_FANOUT);
    ck_assert_uint_eq(o.pubs, 1);
    ck_assert_uint_eq(o.subs, 8);
    ck_assert_uint_eq(o.qos, 2);
}
END_TEST

START_TEST(test_opts_pace_us_bounds)
{
    gl_opts o;
    bool help;
    char *dflt[] = {"gnload", "--rate", "1000", NULL};
    char *paced[] = {"gnload", "--rate", "1000", "--pace-us", "50", NULL};
    char *over[] = {"gnload", "--pace-us", "1001", NULL};
    ck_assert_int_eq(gl_opts_parse(3, dflt, &o, &help), GL_OK);
    ck_assert_uint_eq(o.pace_us, 0);                /* the old 1 ms pacing */
    ck_assert_int_eq(gl_opts_parse(5, paced, &o, &help), GL_OK);
    ck_assert_uint_eq(o.pace_us, 50);
    ck_assert_uint_eq(o.rate, 1000);
    ck_assert_int_eq(gl_opts_parse(3, over, &o, &help), GL_ERR_USAGE);
    char *spin[] = {"gnload", "--rate", "1000", "--pace-us", "50", "--pace-spin", NULL};
    char *spin_alone[] = {"gnload", "--rate", "1000", "--pace-spin", NULL};
    ck_assert_int_eq(gl_opts_parse(6, spin, &o, &help), GL_OK);
    ck_assert(o.pace_spin);
    ck_assert_int_eq(gl_opts_parse(5, paced, &o, &help), GL_OK);
    ck_assert(!o.pace_spin);
    ck_assert_int_eq(gl_opts_parse(4, spin_alone, &o, &help), GL_ERR_USAGE);  /* no period to spin for */
}
END_TEST

START_TEST(test_ident_template_expands_every_token)
{
    char out[64];
    ck_assert(gl_ident_expand("d-%t-%w-%n-%%", 12345, 0xab, 3, out, sizeof out));
    ck_assert_str_eq(out, "d-0ab-3-12345-%");
    ck_assert(!gl_ident_expand("device-%n", 1234567, 0, 0, out, 10));
    ck_assert(!gl_ident_expand("", 1, 0, 0, out, sizeof out));
}
END_TEST

/* Decode the CONNECT of attempt `attempt` and check who it claims to be. */
static void check_connect(const gl_opts *o, const gl_idents *ids, uint64_t attempt,
                          const char *id, const char *user, const char *pass)
{
    uint8_t buf[1024];
    size_t len;
    ck_assert_int_eq(gl_ident_connect(o, ids, attempt, 0, buf, sizeof buf, &len), GL_OK);
    gn_packet p;
    ck_assert_int_eq(gn_decode(buf, len, (gn_proto)o->protocol, &p), GN_OK);
    const gn_connect *c = &p.u.connect;
    ck_assert_uint_eq(c->client_id.len, strlen(id));
    ck_assert(memcmp(c->client_id.ptr, id, strlen(id)) == 0);
    ck_assert(c->has_username == (user != NULL));
    ck_assert(c->has_password == (pass != NULL));
    if (user)
        ck_assert(c->username.len == strlen(user) && memcmp(c->username.ptr, user, strlen(user)) == 0);
    if (pass)
        ck_assert(c->password.len == strlen(pass) && memcmp(c->password.ptr, pass, strlen(pass)) == 0);
}

START_TEST(test_ident_credentials_file_lines_cycle)
{
    char path[] = "/tmp/gnload-creds-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("# clientid user password\ndev-a use-token-auth tokA\n\ndev-b-%n u2\n", f);
    fclose(f);
    gl_opts o;
    bool help;
    char *argv[] = {"gnload", "--mode", "storm", "--credentials", path, NULL};
    ck_assert_int_eq(gl_opts_parse(5, argv, &o, &help), GL_OK);
    gl_idents ids;
    ck_assert_int_eq(gl_ident_load(&o, &ids), GL_OK);
    ck_assert_uint_eq(ids.n, 2);
    check_connect(&o, &ids, 0, "dev-a", "use-token-auth", "tokA");
    check_connect(&o, &ids, 3, "dev-b-3", "u2", NULL);
    check_connect(&o, &ids, 4, "dev-a", "use-token-auth", "tokA");
    gl_ident_free(&ids);

    f = fopen(path, "w");
    fputs("a b c d\n", f);
    fclose(f);
    ck_assert_int_eq(gl_ident_load(&o, &ids), GL_ERR_USAGE);
    unlink(path);
    ck_assert_int_eq(gl_ident_load(&o, &ids), GL_ERR_USAGE);
}
END_TEST

START_TEST(test_ident_options_without_file)
{
    gl_opts o;
    bool help;
    char *argv[] = {"gnload", "--mode", "storm", "--client-id", "x%n", "--username", "u",
                    "--password", "p", NULL};
    ck_assert_int_eq(gl_opts_parse(9, argv, &o, &help), GL_OK);
    gl_idents ids;
    ck_assert_int_eq(gl_ident_load(&o, &ids), GL_OK);
    check_connect(&o, &ids, 7, "x7", "u", "p");
    char *bad[] = {"gnload", "--mode", "storm", "--password", "p", NULL};
    ck_assert_int_eq(gl_opts_parse(5, bad, &o, &help), GL_ERR_USAGE);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loadgen");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_hist_quantiles_within_two_percent);
    tcase_add_test(tc, test_hist_small_values_are_exact_and_empty_is_zero);
    tcase_add_test(tc, test_hist_merge_adds_counts_and_keeps_max);
    tcase_add_test(tc, test_seqtrack_counts_duplicates_and_gaps);
    tcase_add_test(tc, test_seqtrack_merge_counts_cross_thread_duplicate_once);
    tcase_add_loop_test(tc, test_publish_template_fields_decode_back, 0,
                        (int)(sizeof layouts / sizeof layouts[0]));
    tcase_add_loop_test(tc, test_ack_templates_carry_the_packet_id, 0, 2);
    tcase_add_test(tc, test_topic_pattern_expands_and_makes_filter);
    tcase_add_test(tc, test_opts_reject_short_payload_and_unknown_mode);
    tcase_add_test(tc, test_opts_pace_us_bounds);
    tcase_add_test(tc, test_ident_template_expands_every_token);
    tcase_add_test(tc, test_ident_credentials_file_lines_cycle);
    tcase_add_test(tc, test_ident_options_without_file);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
