/* tests/router/test_share.c — shared subscription groups: one delivery per
 * group, fairness, locality, high-water-mark skipping, platform groups. */
#include "rt_util.h"

static gn_router *r;
static gn_router_reader *rd;   /* matches on behalf of shard 1 */
static gn_delivery out[RT_MAXD];

static void setup(void)
{
    r = gn_router_create(NULL); /* default hwm 1024, local-first round robin */
    ck_assert_ptr_nonnull(r);
    rd = gn_router_reader_register(r, 1);
    ck_assert_ptr_nonnull(rd);
}

static void teardown(void)
{
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}

static gn_rerr join(const char *f, uint64_t session, uint16_t shard, const _Atomic uint32_t *depth)
{
    gn_subscriber who = {.session = session, .shard = shard, .queue_depth = depth};
    gn_sub_opts o = rt_opts(1, 0);
    return gn_router_subscribe(r, (const uint8_t *)f, strlen(f), &who, &o, NULL);
}

static gn_rerr join_group(const char *g, const char *f, uint64_t session, uint16_t shard)
{
    gn_subscriber who = {.session = session, .shard = shard};
    gn_sub_opts o = rt_opts(1, 0);
    return gn_router_group_subscribe(r, (const uint8_t *)g, strlen(g), (const uint8_t *)f, strlen(f),
                                     &who, &o, NULL);
}

/* Count, per member session 1..k, the picks over `msgs` messages. */
static void tally(const char *topic, unsigned msgs, unsigned *count, unsigned k)
{
    memset(count, 0, sizeof *count * (k + 1));
    for (unsigned i = 0; i < msgs; i++) {
        uint32_t n = rt_match(rd, topic, out);
        RT_CHECK(n == 1, "%u deliveries", n);
        RT_CHECK(out[0].flags & GN_DELIVER_SHARED, "not shared");
        RT_CHECK(out[0].session <= k, "stray session");
        count[out[0].session]++;
    }
}

START_TEST(test_shared_group_delivers_to_one_member_per_message)
{
    for (uint64_t s = 1; s <= 3; s++)
        ck_assert_int_eq(join("$share/g/a/+", s, 2, NULL), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "a/b", out);
    ck_assert_uint_eq(n, 1);
    ck_assert(!rt_reaches(rd, "b/a", 1));
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.groups, 1);
    ck_assert_uint_eq(st.subscriptions, 3);
}
END_TEST

START_TEST(test_shared_fairness_within_5_percent_under_equal_load)
{
    enum { K = 7, MSGS = 70000 };
    for (uint64_t s = 1; s <= K; s++)
        ck_assert_int_eq(join("$share/fair/t/#", s, 2 + (uint16_t)(s % 3), NULL), GN_ROUTER_OK);
    unsigned c[K + 1];
    tally("t/x", MSGS, c, K);
    for (unsigned s = 1; s <= K; s++) {
        double share = (double)c[s] / (MSGS / K);
        ck_assert_msg(share > 0.95 && share < 1.05, "member %u got %u of %u", s, c[s], MSGS);
    }
}
END_TEST

START_TEST(test_shared_prefers_members_on_the_readers_shard)
{
    ck_assert_int_eq(join("$share/g/t", 1, 0, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 2, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 3, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 4, 2, NULL), GN_ROUTER_OK);
    unsigned c[5];
    tally("t", 1000, c, 4);
    ck_assert_uint_eq(c[1] + c[4], 0);
    ck_assert_uint_eq(c[2], 500);
    ck_assert_uint_eq(c[3], 500);
}
END_TEST

/* Two shards taking strict turns on one group: each shard's local members
 * still share its messages equally (a single ticket shared by both shards
 * would hand each shard only every other value and starve half of them). */
START_TEST(test_local_round_robin_is_fair_when_shards_take_turns)
{
    gn_router_reader *rd0 = gn_router_reader_register(r, 0);
    ck_assert_ptr_nonnull(rd0);
    for (uint64_t s = 1; s <= 8; s++) /* sessions 1,3,5,7 on shard 1; 2,4,6,8 on shard 0 */
        ck_assert_int_eq(join("$share/g/a/+", s, (uint16_t)(s % 2), NULL), GN_ROUTER_OK);
    unsigned count[9] = {0};
    for (unsigned i = 0; i < 800; i++) {
        gn_router_reader *x = (i & 1) ? rd : rd0;
        uint32_t n = rt_match(x, "a/b", out);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(out[0].shard, (i & 1) ? 1 : 0); /* local member */
        count[out[0].session]++;
    }
    for (unsigned s = 1; s <= 8; s++)
        ck_assert_uint_eq(count[s], 100);
    gn_router_reader_unregister(rd0);
}
END_TEST

START_TEST(test_shared_skips_members_over_high_water_mark)
{
    static _Atomic uint32_t d[5];
    for (int i = 0; i < 5; i++)
        atomic_store(&d[i], 0);
    ck_assert_int_eq(join("$share/g/t", 1, 1, &d[1]), GN_ROUTER_OK); /* local */
    ck_assert_int_eq(join("$share/g/t", 2, 0, &d[2]), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 3, 0, &d[3]), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 4, 2, &d[4]), GN_ROUTER_OK);
    atomic_store(&d[1], 5000); /* local member saturated: spill round robin */
    atomic_store(&d[3], 1024); /* exactly at the mark counts as over */
    unsigned c[5];
    tally("t", 1000, c, 4);
    ck_assert_uint_eq(c[1], 0);
    ck_assert_uint_eq(c[3], 0);
    ck_assert_uint_eq(c[2], 500);
    ck_assert_uint_eq(c[4], 500);
}
END_TEST

START_TEST(test_shared_all_over_mark_picks_least_loaded_never_drops)
{
    static _Atomic uint32_t d[4];
    atomic_store(&d[1], 3000);
    atomic_store(&d[2], 2000);
    atomic_store(&d[3], 9000);
    for (uint64_t s = 1; s <= 3; s++)
        ck_assert_int_eq(join("$share/g/t", s, (uint16_t)s, &d[s]), GN_ROUTER_OK);
    unsigned c[4];
    tally("t", 100, c, 3);
    ck_assert_uint_eq(c[2], 100);
}
END_TEST

START_TEST(test_platform_groups_are_named_explicitly_and_kept_apart)
{
    ck_assert_int_eq(join_group("A:org:app", "iot-2/type/+/id/+/evt/+/fmt/+", 1, 1), GN_ROUTER_OK);
    ck_assert_int_eq(join_group("A:org:app", "iot-2/type/+/id/+/evt/+/fmt/+", 2, 1), GN_ROUTER_OK);
    ck_assert_int_eq(join_group("A:org:app:i1", "iot-2/type/+/id/+/evt/+/fmt/+", 3, 1), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/A:org:app/iot-2/type/+/id/+/evt/+/fmt/+", 4, 1, NULL), GN_ROUTER_OK);
    unsigned seen[5] = {0};
    for (int i = 0; i < 10; i++) {
        uint32_t n = rt_match(rd, "iot-2/type/T/id/D/evt/e/fmt/json", out);
        ck_assert_uint_eq(n, 3); /* A:org:app, A:org:app:i1, $share/A:org:app */
        for (uint32_t k = 0; k < n; k++)
            seen[out[k].session]++;
    }
    ck_assert_uint_eq(seen[1], 5);
    ck_assert_uint_eq(seen[2], 5);
    ck_assert_uint_eq(seen[3], 10);
    ck_assert_uint_eq(seen[4], 10);
    ck_assert_int_eq(gn_router_group_unsubscribe(r, (const uint8_t *)"A:org:app", 9,
                                                 (const uint8_t *)"iot-2/type/+/id/+/evt/+/fmt/+", 29, 1),
                     GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "iot-2/type/T/id/D/evt/e/fmt/json", out);
    ck_assert_uint_eq(n, 3);
    ck_assert_ptr_null(rt_find(out, n, 1));
}
END_TEST

START_TEST(test_shared_and_ordinary_subscriptions_of_a_session_are_not_merged)
{
    ck_assert_int_eq(join("$share/g/t/+", 1, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "t/#", 1, 2), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "t/x", out);
    ck_assert_uint_eq(n, 2);
    ck_assert((out[0].flags ^ out[1].flags) & GN_DELIVER_SHARED);
}
END_TEST

START_TEST(test_group_disappears_when_last_member_leaves)
{
    gn_router_stats st0, st;
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st0);
    ck_assert_int_eq(join("$share/g/t/+", 1, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t/+", 2, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t/+", 2, 1, NULL), GN_ROUTER_OK); /* rejoin = replace */
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.subscriptions, 2);
    ck_assert_int_eq(rt_unsub(r, "$share/g/t/+", 1), GN_ROUTER_OK);
    ck_assert_int_eq(rt_unsub(r, "$share/g/t/+", 1), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "$share/other/t/+", 2), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert(rt_reaches(rd, "t/x", 2));
    ck_assert_int_eq(rt_unsub(r, "$share/g/t/+", 2), GN_ROUTER_OK);
    ck_assert_uint_eq(rt_match(rd, "t/x", out), 0);
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.groups, 0);
    ck_assert_uint_eq(st.subscriptions, 0);
    ck_assert_uint_eq(st.bytes, st0.bytes);
}
END_TEST

START_TEST(test_plain_round_robin_policy_ignores_locality)
{
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
    gn_router_config cfg = {.share_pick = gn_share_pick_rr, .share_hwm = 10};
    r = gn_router_create(&cfg);
    rd = gn_router_reader_register(r, 1);
    ck_assert_int_eq(join("$share/g/t", 1, 1, NULL), GN_ROUTER_OK);
    ck_assert_int_eq(join("$share/g/t", 2, 0, NULL), GN_ROUTER_OK);
    unsigned c[3];
    tally("t", 100, c, 2);
    ck_assert_uint_eq(c[1], 50);
    ck_assert_uint_eq(c[2], 50);
}
END_TEST

Suite *router_share_suite(void)
{
    Suite *s = suite_create("router_share");
    TCase *tc = tcase_create("share");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_shared_group_delivers_to_one_member_per_message);
    tcase_add_test(tc, test_shared_fairness_within_5_percent_under_equal_load);
    tcase_add_test(tc, test_shared_prefers_members_on_the_readers_shard);
    tcase_add_test(tc, test_local_round_robin_is_fair_when_shards_take_turns);
    tcase_add_test(tc, test_shared_skips_members_over_high_water_mark);
    tcase_add_test(tc, test_shared_all_over_mark_picks_least_loaded_never_drops);
    tcase_add_test(tc, test_platform_groups_are_named_explicitly_and_kept_apart);
    tcase_add_test(tc, test_shared_and_ordinary_subscriptions_of_a_session_are_not_merged);
    tcase_add_test(tc, test_group_disappears_when_last_member_leaves);
    tcase_add_test(tc, test_plain_round_robin_policy_ignores_locality);
    suite_add_tcase(s, tc);
    return s;
}
