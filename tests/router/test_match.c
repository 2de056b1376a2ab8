/* tests/router/test_match.c — matching rules, subscription options and
 * per-session deduplication, trie maintenance (split/merge/prune, inline
 * leaves). */
#include "rt_util.h"

static gn_router *r;
static gn_router_reader *rd;
static gn_delivery out[RT_MAXD];

static void setup(void)
{
    r = gn_router_create(NULL);
    ck_assert_ptr_nonnull(r);
    rd = gn_router_reader_register(r, 0);
    ck_assert_ptr_nonnull(rd);
}

static void teardown(void)
{
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}

START_TEST(test_exact_filter_matches_only_its_topic)
{
    ck_assert_int_eq(rt_sub(r, "a/b/c", 1, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b/c", 1));
    ck_assert(!rt_reaches(rd, "a/b", 1));
    ck_assert(!rt_reaches(rd, "a/b/c/d", 1));
    ck_assert(!rt_reaches(rd, "a/b/C", 1));
}
END_TEST

START_TEST(test_plus_matches_exactly_one_level)
{
    ck_assert_int_eq(rt_sub(r, "a/+/c", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "+", 2, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b/c", 1));
    ck_assert(rt_reaches(rd, "a/xyz/c", 1));
    ck_assert(!rt_reaches(rd, "a/b/d/c", 1));
    ck_assert(!rt_reaches(rd, "a/c", 1));
    ck_assert(rt_reaches(rd, "x", 2));
    ck_assert(!rt_reaches(rd, "x/y", 2));
}
END_TEST

START_TEST(test_hash_matches_parent_and_all_descendants)
{
    ck_assert_int_eq(rt_sub(r, "a/#", 1, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a", 1));
    ck_assert(rt_reaches(rd, "a/b", 1));
    ck_assert(rt_reaches(rd, "a/b/c/d/e", 1));
    ck_assert(!rt_reaches(rd, "b", 1));
    ck_assert(!rt_reaches(rd, "ab", 1));
    ck_assert_int_eq(rt_sub(r, "#", 2, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "anything/at/all", 2));
    ck_assert_int_eq(rt_sub(r, "a/+/#", 3, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 3));
    ck_assert(!rt_reaches(rd, "a", 3));
}
END_TEST

START_TEST(test_empty_levels_are_real_levels)
{
    ck_assert_int_eq(rt_sub(r, "a/+/b", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "+/a", 2, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/+", 3, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a//b", 4, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "/", 5, 0), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a//b", 1));
    ck_assert(rt_reaches(rd, "a//b", 4));
    ck_assert(!rt_reaches(rd, "a/b", 4));
    ck_assert(rt_reaches(rd, "/a", 2));
    ck_assert(rt_reaches(rd, "a/", 3));
    ck_assert(rt_reaches(rd, "/", 5));
    ck_assert(!rt_reaches(rd, "a", 3));
    ck_assert(!rt_reaches(rd, "//", 5));
}
END_TEST

START_TEST(test_dollar_topics_not_matched_by_leading_wildcards)
{
    ck_assert_int_eq(rt_sub(r, "#", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "+/monitor/#", 2, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "$SYS/#", 3, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "$SYS/+/x", 4, 0), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "$SYS/monitor/x", 1));
    ck_assert(!rt_reaches(rd, "$SYS/monitor/x", 2));
    ck_assert(rt_reaches(rd, "$SYS/monitor/x", 3));
    ck_assert(rt_reaches(rd, "$SYS/monitor/x", 4));
    ck_assert(rt_reaches(rd, "SYS/monitor/x", 2));
    ck_assert(rt_reaches(rd, "a/$b", 1));
}
END_TEST

START_TEST(test_overlapping_subscriptions_deliver_once_at_max_qos)
{
    ck_assert_int_eq(rt_sub(r, "a/b", 7, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/+", 7, 2), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "#", 7, 1), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/#", 8, 1), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "a/b", out);
    ck_assert_uint_eq(n, 2);
    ck_assert_uint_eq(rt_find(out, n, 7)->qos, 2);
    ck_assert_uint_eq(rt_find(out, n, 8)->qos, 1);
}
END_TEST

START_TEST(test_overlapping_subscriptions_carry_every_subscription_id)
{
    ck_assert_int_eq(rt_sub_o(r, "a/b", 7, 3, rt_opts(1, 11)), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub_o(r, "a/+", 7, 3, rt_opts(1, 12)), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub_o(r, "+/b", 7, 3, rt_opts(0, 0)), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub_o(r, "a/#", 7, 3, rt_opts(0, 11)), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "a/b", out);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].shard, 3);
    ck_assert_uint_eq(out[0].nsub_ids, 2);
    ck_assert(out[0].sub_ids[0] + out[0].sub_ids[1] == 23);
    ck_assert(!(out[0].flags & GN_DELIVER_SUBIDS_TRUNCATED));
}
END_TEST

START_TEST(test_subscription_ids_truncated_past_bound)
{
    /* GN_ROUTE_MAX_SUB_IDS + 3 distinct filters matching "t/u/v" */
    const char *fs[] = {"t/u/v", "t/u/+", "t/+/v", "+/u/v", "t/+/+", "+/+/v", "+/u/+",
                        "+/+/+", "#", "t/#", "t/u/#"};
    ck_assert_uint_ge(sizeof fs / sizeof fs[0], GN_ROUTE_MAX_SUB_IDS + 3);
    for (unsigned i = 0; i < sizeof fs / sizeof fs[0]; i++)
        ck_assert_int_eq(rt_sub_o(r, fs[i], 5, 0, rt_opts(0, 100 + i)), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "t/u/v", out);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].nsub_ids, GN_ROUTE_MAX_SUB_IDS);
    ck_assert(out[0].flags & GN_DELIVER_SUBIDS_TRUNCATED);
}
END_TEST

START_TEST(test_no_local_skips_the_publishing_session)
{
    gn_sub_opts nl = rt_opts(1, 0);
    nl.no_local = true;
    ck_assert_int_eq(rt_sub_o(r, "chat/+", 1, 0, nl), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "chat/+", 2, 0), GN_ROUTER_OK);
    uint32_t n = rt_match_p(rd, "chat/room", 1, out);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].session, 2);
    /* cached now: same answer, and another publisher still reaches 1 */
    n = rt_match_p(rd, "chat/room", 1, out);
    ck_assert_uint_eq(n, 1);
    n = rt_match_p(rd, "chat/room", 2, out);
    ck_assert_uint_eq(n, 2);
    ck_assert_ptr_nonnull(rt_find(out, n, 1));
    ck_assert_uint_eq(rt_find(out, n, 1)->flags & (GN_DELIVER_NL_ALL | GN_DELIVER_NL_SOME), 0);
}
END_TEST

START_TEST(test_no_local_overlap_delivers_through_the_other_subscription)
{
    gn_sub_opts nl = rt_opts(2, 21);
    nl.no_local = true;
    ck_assert_int_eq(rt_sub_o(r, "chat/+", 1, 0, nl), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub_o(r, "chat/#", 1, 0, rt_opts(1, 22)), GN_ROUTER_OK);
    for (int round = 0; round < 2; round++) { /* miss, then cache hit */
        uint32_t n = rt_match_p(rd, "chat/room", 1, out);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(out[0].qos, 1);
        ck_assert_uint_eq(out[0].nsub_ids, 1);
        ck_assert_uint_eq(out[0].sub_ids[0], 22);
    }
    uint32_t n = rt_match_p(rd, "chat/room", 9, out);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].qos, 2);
    ck_assert_uint_eq(out[0].nsub_ids, 2);
}
END_TEST

START_TEST(test_retain_as_published_set_when_any_overlapping_subscription_has_it)
{
    gn_sub_opts rap = rt_opts(0, 0);
    rap.retain_as_published = true;
    ck_assert_int_eq(rt_sub(r, "a/b", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub_o(r, "a/+", 1, 0, rap), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/b", 2, 0), GN_ROUTER_OK);
    uint32_t n = rt_match(rd, "a/b", out);
    ck_assert(rt_find(out, n, 1)->flags & GN_DELIVER_RAP);
    ck_assert(!(rt_find(out, n, 2)->flags & GN_DELIVER_RAP));
    n = rt_match(rd, "a/c", out);
    ck_assert(rt_find(out, n, 1)->flags & GN_DELIVER_RAP);
}
END_TEST

START_TEST(test_resubscribe_replaces_options)
{
    bool replaced = true;
    gn_subscriber who = {.session = 4, .shard = 1};
    gn_sub_opts o = rt_opts(0, 5);
    ck_assert_int_eq(gn_router_subscribe(r, (const uint8_t *)"a/b", 3, &who, &o, &replaced), GN_ROUTER_OK);
    ck_assert(!replaced);
    o = rt_opts(2, 6);
    ck_assert_int_eq(gn_router_subscribe(r, (const uint8_t *)"a/b", 3, &who, &o, &replaced), GN_ROUTER_OK);
    ck_assert(replaced);
    uint32_t n = rt_match(rd, "a/b", out);
    ck_assert_uint_eq(n, 1);
    ck_assert_uint_eq(out[0].qos, 2);
    ck_assert_uint_eq(out[0].sub_ids[0], 6);
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.subscriptions, 1);
}
END_TEST

START_TEST(test_unsubscribe_removes_only_that_session_and_filter)
{
    ck_assert_int_eq(rt_sub(r, "a/b", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/b", 2, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_sub(r, "a/#", 1, 0), GN_ROUTER_OK);
    ck_assert_int_eq(rt_unsub(r, "a/b", 1), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "a/b", 2));
    ck_assert(rt_reaches(rd, "a/b", 1)); /* through a/# */
    ck_assert_int_eq(rt_unsub(r, "a/#", 1), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "a/b", 1));
    ck_assert_int_eq(rt_unsub(r, "a/#", 1), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "a", 2), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "a/b/c", 2), GN_ROUTER_ERR_NOT_FOUND);
}
END_TEST

START_TEST(test_split_and_merge_keep_results_and_free_nodes)
{
    gn_router_stats st0, st;
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st0);
    const char *fs[] = {"iot-2/type/T/id/D1/cmd/+/fmt/+", "iot-2/type/T/id/D2/cmd/+/fmt/+",
                        "iot-2/type/T/id/+/evt/+/fmt/+", "iot-2/type/+/id/+/evt/+/fmt/+",
                        "iot-2/type/T/id/D1/cmd/+", "iot-2/type/T/id/D1/cmd/+/fmt/json/#",
                        "iot-2/type/T", "iot-2/#", "iot-2/type/T/id/D1/cmd/reboot/fmt/json"};
    const unsigned nf = sizeof fs / sizeof fs[0];
    for (unsigned i = 0; i < nf; i++)
        ck_assert_int_eq(rt_sub(r, fs[i], i + 1, 0), GN_ROUTER_OK);
    const char *t = "iot-2/type/T/id/D1/cmd/reboot/fmt/json";
    for (unsigned drop = 0; drop < nf; drop++) {
        /* every filter except those dropped so far matches the command topic
         * iff the reference says so */
        for (unsigned i = drop; i < nf; i++) {
            bool want = i == 0 || i == 5 || i == 7 || i == 8;
            ck_assert_msg(rt_reaches(rd, t, i + 1) == want, "filter %s", fs[i]);
        }
        ck_assert_int_eq(rt_unsub(r, fs[drop], drop + 1), GN_ROUTER_OK);
    }
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.nodes, st0.nodes);
    ck_assert_uint_eq(st.subscriptions, 0);
    ck_assert_uint_eq(st.bytes, st0.bytes);
    ck_assert_uint_eq(st.reclaim_pending, 0);
}
END_TEST

START_TEST(test_invalid_filters_and_options_are_rejected)
{
    ck_assert_int_eq(rt_sub(r, "a/b+", 1, 0), GN_ROUTER_ERR_FILTER_INVALID);
    ck_assert_int_eq(rt_sub(r, "a/#/b", 1, 0), GN_ROUTER_ERR_FILTER_INVALID);
    ck_assert_int_eq(rt_sub(r, "", 1, 0), GN_ROUTER_ERR_FILTER_INVALID);
    ck_assert_int_eq(rt_sub(r, "$share//a", 1, 0), GN_ROUTER_ERR_SHARE_NAME_INVALID);
    ck_assert_int_eq(rt_sub(r, "$share/g+/a", 1, 0), GN_ROUTER_ERR_SHARE_NAME_INVALID);
    ck_assert_int_eq(rt_sub(r, "$share/g", 1, 0), GN_ROUTER_ERR_SHARE_NAME_INVALID);
    ck_assert_int_eq(rt_sub(r, "a", 1, 3), GN_ROUTER_ERR_OPTIONS_INVALID);
    gn_sub_opts o = rt_opts(0, GN_SUB_ID_MAX + 1);
    ck_assert_int_eq(rt_sub_o(r, "a", 1, 0, o), GN_ROUTER_ERR_OPTIONS_INVALID);
    o = rt_opts(0, 0);
    o.retain_handling = 3;
    ck_assert_int_eq(rt_sub_o(r, "a", 1, 0, o), GN_ROUTER_ERR_OPTIONS_INVALID);
    o = rt_opts(0, 0);
    o.no_local = true;
    ck_assert_int_eq(rt_sub_o(r, "$share/g/a", 1, 0, o), GN_ROUTER_ERR_SHARED_NO_LOCAL);
    uint32_t n;
    ck_assert_int_eq(gn_router_match(rd, (const uint8_t *)"", 0, NULL, GN_ROUTER_NO_PUBLISHER, out, 1, &n),
                     GN_ROUTER_ERR_TOPIC_INVALID);
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.subscriptions, 0);
    ck_assert_str_eq(gn_rerr_name(GN_ROUTER_ERR_NOMEM), "GN_ROUTER_ERR_NOMEM");
    ck_assert_str_eq(gn_rerr_name((gn_rerr)999), "GN_ROUTER_ERR_UNKNOWN");
}
END_TEST

START_TEST(test_short_output_buffer_reports_needed_count)
{
    for (uint64_t s = 1; s <= 5; s++)
        ck_assert_int_eq(rt_sub(r, "x/y", s, 0), GN_ROUTER_OK);
    uint32_t n = 0;
    gn_delivery small[2];
    ck_assert_int_eq(gn_router_match(rd, (const uint8_t *)"x/y", 3, NULL, GN_ROUTER_NO_PUBLISHER,
                                     small, 2, &n),
                     GN_ROUTER_ERR_OUT_TOO_SMALL);
    ck_assert_uint_eq(n, 5);
    ck_assert_uint_eq(rt_match(rd, "x/y", out), 5);
}
END_TEST

START_TEST(test_many_sessions_on_one_filter_deduplicate_through_index)
{
    for (uint64_t s = 1; s <= 300; s++) {
        ck_assert_int_eq(rt_sub(r, "big/+", s, 0), GN_ROUTER_OK);
        ck_assert_int_eq(rt_sub(r, "big/#", s, 1), GN_ROUTER_OK);
    }
    uint32_t n = rt_match(rd, "big/x", out);
    ck_assert_uint_eq(n, 300);
    for (uint64_t s = 1; s <= 300; s++) {
        const gn_delivery *d = rt_find(out, n, s);
        ck_assert_ptr_nonnull(d);
        ck_assert_uint_eq(d->qos, 1);
    }
}
END_TEST

START_TEST(test_caller_split_levels_are_used)
{
    ck_assert_int_eq(rt_sub(r, "a/+", 1, 0), GN_ROUTER_OK);
    gn_levels lv;
    ck_assert_int_eq(gn_topic_split((const uint8_t *)"a/b", 3, &lv), GN_OK);
    uint32_t n = 0;
    ck_assert_int_eq(gn_router_match(rd, (const uint8_t *)"a/b", 3, &lv, GN_ROUTER_NO_PUBLISHER, out,
                                     RT_MAXD, &n),
                     GN_ROUTER_OK);
    ck_assert_uint_eq(n, 1);
}
END_TEST

/* Childless filters live inline in their parent's child table (ctab.h):
 * every transition (second session, options replaced, '#' entries, a
 * longer filter through the leaf, removals) keeps results exact and gives
 * every node and byte back. */
START_TEST(test_inline_leaves_change_and_go_away_cleanly)
{
    gn_router_stats st0, st;
    gn_router_get_stats(r, &st0);
    ck_assert_int_eq(rt_sub(r, "t/1/d1/cmd/+", 1, 1), GN_ROUTER_OK);   /* new leaf */
    ck_assert_int_eq(rt_sub(r, "t/1/d2/cmd/+", 2, 1), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "t/1/d1/cmd/x", 1));
    ck_assert(!rt_reaches(rd, "t/1/d1/cmd/x", 2));
    ck_assert_int_eq(rt_sub(r, "t/1/d1/cmd/+", 3, 2), GN_ROUTER_OK);   /* second session */
    ck_assert_uint_eq(rt_match(rd, "t/1/d1/cmd/x", out), 2);
    ck_assert_int_eq(rt_sub(r, "t/1/d1/cmd/+", 1, 2), GN_ROUTER_OK);   /* options replaced */
    ck_assert_uint_eq(rt_match(rd, "t/1/d1/cmd/x", out), 2);
    ck_assert_uint_eq(rt_find(out, 2, 1)->qos, 2);
    ck_assert_int_eq(rt_sub(r, "t/1/d2/cmd/#", 4, 0), GN_ROUTER_OK);   /* '#' entry */
    ck_assert(rt_reaches(rd, "t/1/d2/cmd", 4));
    ck_assert(rt_reaches(rd, "t/1/d2/cmd/a/b", 4));
    ck_assert(!rt_reaches(rd, "t/1/d2/cmd", 2));
    ck_assert_int_eq(rt_sub(r, "t/1/d2/cmd/+/more", 5, 0), GN_ROUTER_OK); /* through a leaf */
    ck_assert(rt_reaches(rd, "t/1/d2/cmd/x/more", 5));
    ck_assert(rt_reaches(rd, "t/1/d2/cmd/x/more", 4));
    ck_assert(!rt_reaches(rd, "t/1/d2/cmd/x/more", 2));
    ck_assert(rt_reaches(rd, "t/1/d2/cmd/x", 2));
    ck_assert_int_eq(rt_unsub(r, "t/1/d9/cmd/+", 1), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "t/1/d1/cmd/+", 9), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "t/1/d1/cmd", 1), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(rt_unsub(r, "t/1/d1/cmd/+", 1), GN_ROUTER_OK);
    ck_assert(!rt_reaches(rd, "t/1/d1/cmd/x", 1));
    ck_assert(rt_reaches(rd, "t/1/d1/cmd/x", 3));
    ck_assert_int_eq(rt_unsub(r, "t/1/d1/cmd/+", 3), GN_ROUTER_OK);
    ck_assert_uint_eq(rt_match(rd, "t/1/d1/cmd/x", out), 0);
    ck_assert_int_eq(rt_unsub(r, "t/1/d2/cmd/+/more", 5), GN_ROUTER_OK);
    ck_assert_int_eq(rt_unsub(r, "t/1/d2/cmd/#", 4), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "t/1/d2/cmd/x", 2));
    ck_assert_int_eq(rt_unsub(r, "t/1/d2/cmd/+", 2), GN_ROUTER_OK);
    ck_assert_uint_eq(rt_match(rd, "t/1/d2/cmd/x", out), 0);
    /* a device re-subscribing (options replaced) or a second session coming
     * and going leaves the filter inline again: no node, no array left */
    gn_router_stats sl, sx;
    ck_assert_int_eq(rt_sub(r, "t/3/d1/cmd/+", 1, 0), GN_ROUTER_OK);
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &sl);
    for (uint8_t q = 1; q <= 2; q++) {
        ck_assert_int_eq(rt_sub(r, "t/3/d1/cmd/+", 1, q), GN_ROUTER_OK);
        ck_assert_uint_eq(rt_match(rd, "t/3/d1/cmd/x", out), 1);
        ck_assert_uint_eq(out[0].qos, q);
        gn_router_synchronize(r, rd);
        gn_router_get_stats(r, &sx);
        ck_assert_uint_eq(sx.bytes, sl.bytes);
    }
    ck_assert_int_eq(rt_sub(r, "t/3/d1/cmd/+", 2, 0), GN_ROUTER_OK);
    ck_assert_uint_eq(rt_match(rd, "t/3/d1/cmd/x", out), 2);
    ck_assert_int_eq(rt_unsub(r, "t/3/d1/cmd/+", 1), GN_ROUTER_OK);
    ck_assert(rt_reaches(rd, "t/3/d1/cmd/x", 2));
    ck_assert(!rt_reaches(rd, "t/3/d1/cmd/x", 1));
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &sx);
    ck_assert_uint_eq(sx.bytes, sl.bytes);
    ck_assert_int_eq(rt_unsub(r, "t/3/d1/cmd/+", 2), GN_ROUTER_OK);
    /* many siblings: the child table grows and shrinks with leaves in it */
    char f[64], t[64];
    for (int i = 0; i < 500; i++) {
        snprintf(f, sizeof f, "t/2/d%d/cmd/+", i);
        ck_assert_int_eq(rt_sub(r, f, (uint64_t)(100 + i), 1), GN_ROUTER_OK);
    }
    for (int i = 0; i < 500; i += 3) { /* re-inlined through fresh cells */
        snprintf(f, sizeof f, "t/2/d%d/cmd/+", i);
        ck_assert_int_eq(rt_sub(r, f, (uint64_t)(100 + i), 2), GN_ROUTER_OK);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(f, sizeof f, "t/2/d%d/cmd/+", i);
        ck_assert_int_eq(rt_unsub(r, f, (uint64_t)(100 + i)), GN_ROUTER_OK);
    }
    for (int i = 0; i < 500; i++) {
        snprintf(t, sizeof t, "t/2/d%d/cmd/x", i);
        ck_assert(rt_reaches(rd, t, (uint64_t)(100 + i)) == (i % 2 == 1));
    }
    for (int i = 1; i < 500; i += 2) {
        snprintf(f, sizeof f, "t/2/d%d/cmd/+", i);
        ck_assert_int_eq(rt_unsub(r, f, (uint64_t)(100 + i)), GN_ROUTER_OK);
    }
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.nodes, st0.nodes);
    ck_assert_uint_eq(st.bytes, st0.bytes);
    ck_assert_uint_eq(st.subscriptions, 0);
}
END_TEST

Suite *router_match_suite(void)
{
    Suite *s = suite_create("router_match");
    TCase *tc = tcase_create("match");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_exact_filter_matches_only_its_topic);
    tcase_add_test(tc, test_plus_matches_exactly_one_level);
    tcase_add_test(tc, test_hash_matches_parent_and_all_descendants);
    tcase_add_test(tc, test_empty_levels_are_real_levels);
    tcase_add_test(tc, test_dollar_topics_not_matched_by_leading_wildcards);
    tcase_add_test(tc, test_overlapping_subscriptions_deliver_once_at_max_qos);
    tcase_add_test(tc, test_overlapping_subscriptions_carry_every_subscription_id);
    tcase_add_test(tc, test_subscription_ids_truncated_past_bound);
    tcase_add_test(tc, test_no_local_skips_the_publishing_session);
    tcase_add_test(tc, test_no_local_overlap_delivers_through_the_other_subscription);
    tcase_add_test(tc, test_retain_as_published_set_when_any_overlapping_subscription_has_it);
    tcase_add_test(tc, test_resubscribe_replaces_options);
    tcase_add_test(tc, test_unsubscribe_removes_only_that_session_and_filter);
    tcase_add_test(tc, test_split_and_merge_keep_results_and_free_nodes);
    tcase_add_test(tc, test_invalid_filters_and_options_are_rejected);
    tcase_add_test(tc, test_short_output_buffer_reports_needed_count);
    tcase_add_test(tc, test_many_sessions_on_one_filter_deduplicate_through_index);
    tcase_add_test(tc, test_caller_split_levels_are_used);
    tcase_add_test(tc, test_inline_leaves_change_and_go_away_cleanly);
    suite_add_tcase(s, tc);
    return s;
}
