/* tests/router/test_cache.c — the per-thread match cache: hits on repeats,
 * invalidation by every subscribe/unsubscribe that can affect the topic
 * (and only by those: per-prefix generations), collisions never wrong. */
#include "rt_util.h"

static gn_router *r;
static gn_router_reader *rd;
static gn_delivery out[RT_MAXD];

static void make(uint32_t slots)
{
    gn_router_config cfg = {.cache_slots = slots};
    r = gn_router_create(&cfg);
    ck_assert_ptr_nonnull(r);
    rd = gn_router_reader_register(r, 0);
    ck_assert_ptr_nonnull(rd);
}

static void setup(void) { make(4096); }

static void teardown(void)
{
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}

static gn_router_reader_stats rstats(void)
{
    gn_router_reader_stats s;
    gn_router_reader_get_stats(rd, &s);
    return s;
}

START_TEST(test_cache_hits_on_repeated_topic)
{
    ck_assert_int_eq(rt_sub(r, "d/+/cmd", 1, 1), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "d/x/cmd", 1));
    gn_router_reader_stats s0 = rstats();
    for (int i = 0; i < 10; i++)
        ck_assert(rt_reaches(rd, "d/x/cmd", 1));
    gn_router_reader_stats s1 = rstats();
    ck_assert_uint_eq(s1.cache_hits - s0.cache_hits, 10);
    ck_assert_uint_eq(s1.cache_misses, s0.cache_misses);
}
END_TEST

START_TEST(test_cache_invalidated_by_subscribe_and_unsubscribe)
{
    ck_assert_int_eq(rt_sub(r, "a/b", 1, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 1));
    ck_assert(!rt_reaches(rd, "a/b", 2));
    ck_assert_int_eq(rt_sub(r, "a/+", 2, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 2));
    ck_assert_int_eq(rt_unsub(r, "a/b", 1), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "a/b", 1));
    ck_assert_int_eq(rt_sub(r, "$share/g/a/b", 3, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 3));
    ck_assert_int_eq(rt_unsub(r, "$share/g/a/b", 3), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "a/b", 3));
    /* an unrelated change also invalidates: results stay right */
    ck_assert_int_eq(rt_sub(r, "zzz", 9, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 2));
}
END_TEST

/* Subscribe session s to f; topic t must reach it at once (no stale hit). */
static void sub_reaches(const char *f, uint64_t s, const char *t)
{
    ck_assert_int_eq(rt_sub(r, f, s, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, t, s));
}

/* Churning other devices' literal-prefix filters leaves a device's cached
 * topic valid; a change that can match it (its own prefix, a wildcard
 * filter, a new depth) recomputes it. */
START_TEST(test_cache_survives_churn_of_unrelated_prefixes)
{
    ck_assert_int_eq(rt_sub(r, "t/1/id/d1/cmd/+", 1, 1), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "t/1/id/d2/cmd/+", 2, 1), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "t/1/id/d1/cmd/x", 1));
    gn_router_reader_stats s0 = rstats();
    for (int i = 0; i < 50; i++) { /* other devices come and go */
        ck_assert_int_eq(rt_sub(r, "t/1/id/d9/cmd/+", 9, 0), GN_ROUTER_OK);
        ck_assert(rt_reaches(rd, "t/1/id/d1/cmd/x", 1));
        ck_assert_int_eq(rt_unsub(r, "t/1/id/d9/cmd/+", 9), GN_ROUTER_OK);
        ck_assert(rt_reaches(rd, "t/1/id/d1/cmd/x", 1));
    }
    gn_router_reader_stats s1 = rstats();
    ck_assert_uint_eq(s1.cache_misses, s0.cache_misses);
    ck_assert_uint_eq(s1.cache_hits - s0.cache_hits, 100);
    /* the device's own prefix */
    ck_assert_int_eq(rt_sub(r, "t/1/id/d1/cmd/+", 3, 2), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "t/1/id/d1/cmd/x", 3));
    /* a shallower literal prefix, then a leading wildcard */
    const char *dev = "t/1/id/d1/cmd/x";
    sub_reaches("t/1/+/+/cmd/x", 4, dev);
    sub_reaches("t/1/+/+/cmd/x", 5, dev);
    sub_reaches("+/1/id/d1/cmd/x", 6, dev);
    sub_reaches("#", 7, dev);
    ck_assert_int_eq(rt_unsub(r, "t/1/+/+/cmd/x", 4), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, dev, 4));
    ck_assert(rt_reaches(rd, dev, 5));
    /* deeper than GN_GEN_MAX_DEPTH literal levels share the capped depth */
    const char *deep = "a/b/c/d/e/f/g/h/i/j";
    sub_reaches(deep, 8, deep);
    sub_reaches("a/b/c/d/e/f/g/h/i/+", 10, deep);
    sub_reaches("a/b/c/d/e/f/g/h/#", 11, deep);
    ck_assert_int_eq(rt_unsub(r, "a/b/c/d/e/f/g/h/i/j", 8), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "a/b/c/d/e/f/g/h/i/j", 8));
}
END_TEST

START_TEST(test_cache_slot_collisions_never_return_another_topics_result)
{
    teardown();
    make(2); /* one set of two ways: three topics keep evicting each other */
    ck_assert_int_eq(rt_sub(r, "t/1", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "t/2", 2, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "t/3", 3, 0), GN_ROUTER_OK);
    const char *ts[] = {"t/1", "t/2", "t/3", "t/1", "t/1", "t/3", "t/2", "t/2", "t/1"};
    for (int i = 0; i < 90; i++) {
        const char *t = ts[i % 9];
        uint64_t want = (uint64_t)(t[2] - '0');
        uint32_t n = rt_match(rd, t, out);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(out[0].session, want);
    }
    /* same hash prefix, different length / bytes */
    uint32_t n = rt_match(rd, "t/12", out);
    ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_cached_shared_group_still_round_robins)
{
    for (uint64_t s = 1; s <= 2; s++)
        ck_assert_int_eq(rt_sub_o(r, "$share/g/q", s, 5, rt_opts(0, 0)), GN_ROUTER_OK);
    unsigned c[3] = {0};
    for (int i = 0; i < 10; i++) {
        uint32_t n = rt_match(rd, "q", out);
        ck_assert_uint_eq(n, 1);
        c[out[0].session]++;
    }
    ck_assert_uint_eq(c[1], 5);
    ck_assert_uint_eq(c[2], 5);
    ck_assert_uint_ge(rstats().cache_hits, 9);
}
END_TEST

START_TEST(test_cache_can_be_turned_off_and_on_per_reader)
{
    ck_assert_int_eq(rt_sub(r, "a", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(gn_router_reader_cache_enable(rd, false), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a", 1));
    ck_assert(rt_reaches(rd, "a", 1));
    ck_assert_uint_eq(rstats().cache_hits, 0);
    ck_assert_int_eq(gn_router_reader_cache_enable(rd, true), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a", 1));
    ck_assert(rt_reaches(rd, "a", 1));
    ck_assert_uint_eq(rstats().cache_hits, 1);
}
END_TEST

START_TEST(test_disabled_cache_gives_same_results)
{
    teardown();
    gn_router_config cfg = {.cache_disabled = true};
    r = gn_router_create(&cfg);
    rd = gn_router_reader_register(r, 0);
    ck_assert_int_eq(rt_sub(r, "a/#", 1, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 1));
    ck_assert(rt_reaches(rd, "a/b", 1));
    ck_assert_uint_eq(rstats().cache_hits, 0);
    ck_assert_uint_eq(rstats().matches, 2);
}
END_TEST

Suite *router_cache_suite(void)
{
    Suite *s = suite_create("router_cache");
    TCase *tc = tcase_create("cache");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cache_hits_on_repeated_topic);
    tcase_add_test(tc, test_cache_invalidated_by_subscribe_and_unsubscribe);
    tcase_add_test(tc, test_cache_survives_churn_of_unrelated_prefixes);
    tcase_add_test(tc, test_cache_slot_collisions_never_return_another_topics_result);
    tcase_add_test(tc, test_cached_shared_group_still_round_robins);
    tcase_add_test(tc, test_cache_can_be_turned_off_and_on_per_reader);
    tcase_add_test(tc, test_disabled_cache_gives_same_results);
    suite_add_tcase(s, tc);
    return s;
}
