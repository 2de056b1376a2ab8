/* tests/engine/unit/test_subq.c — the lanes of a session's outbound queue
 * (engine/subq.h): messages come out in the order they went in across
 * lanes; a full lane drops its own oldest and no other lane's; a lowered
 * bound drops down to it; lanes are freed as they empty; the queue holds
 * exactly one reference per message (clear and drops release them); and a
 * random interleaving of pushes, pops and bounds agrees with a reference
 * model of per-lane FIFOs merged by arrival. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/subq.h"

static gn_msg *msg(uint32_t n)
{
    char t[16];
    int l = snprintf(t, sizeof t, "t/%u", n);
    gn_msg_params mp = { .topic = t, .topic_len = (size_t)l, .qos = 1,
                         .expiry_ms = GN_MSG_NO_EXPIRY };
    gn_msg *m = gn_msg_new(&mp);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* An entry whose pub field carries a number to check the order by. */
static gn_qent ent(gn_msg *m, uint64_t n)
{
    gn_qent e;
    memset(&e, 0, sizeof e);
    e.msg = m;
    e.qos = 1;
    e.state = GN_QS_QUEUED;
    e.pub = n;
    return e;
}

START_TEST(test_order_across_lanes_is_arrival_order)
{
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    uint64_t keys[] = { 7, 9, 7, 3, 9, 9, 3, 7 };
    for (uint64_t i = 0; i < 8; i++) {
        gn_qent e = ent(gn_msg_ref(m), i);
        ck_assert_int_eq(gn_subq_push(&q, keys[i], &e, 0), 0);
    }
    ck_assert_uint_eq(gn_subq_count(&q), 8);
    ck_assert_uint_eq(gn_subq_lanes(&q), 3);
    ck_assert_uint_eq(gn_subq_lane_count(&q, 9), 3);
    gn_qent out;
    for (uint64_t i = 0; i < 8; i++) {
        ck_assert(gn_subq_pop(&q, &out));
        ck_assert_uint_eq(out.pub, i);
        gn_msg_unref(out.msg);
    }
    ck_assert(!gn_subq_pop(&q, &out));
    ck_assert_uint_eq(gn_subq_lanes(&q), 0);
    ck_assert_ptr_null(q.heap);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_subq_clear(&q);
    gn_msg_unref(m);
}
END_TEST

START_TEST(test_full_lane_drops_its_own_oldest_only)
{
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    /* lane 1 gets 0..2 then 10 more; lane 2 gets one message in between */
    for (uint64_t i = 0; i < 3; i++) {
        gn_qent e = ent(gn_msg_ref(m), i);
        ck_assert_int_eq(gn_subq_push(&q, 1, &e, 3), 0);
    }
    gn_qent b = ent(gn_msg_ref(m), 100);
    ck_assert_int_eq(gn_subq_push(&q, 2, &b, 3), 0);
    int dropped = 0;
    for (uint64_t i = 3; i < 13; i++) {
        gn_qent e = ent(gn_msg_ref(m), i);
        dropped += gn_subq_push(&q, 1, &e, 3);
    }
    ck_assert_int_eq(dropped, 10);
    ck_assert_uint_eq(gn_subq_lane_count(&q, 1), 3);
    ck_assert_uint_eq(gn_subq_lane_count(&q, 2), 1);
    ck_assert_uint_eq(gn_msg_refcount(m), 1 + 4);        /* the drops released theirs */
    /* lane 2's message is older than every survivor of lane 1 */
    uint64_t want[] = { 100, 10, 11, 12 };
    gn_qent out;
    for (int i = 0; i < 4; i++) {
        ck_assert(gn_subq_pop(&q, &out));
        ck_assert_uint_eq(out.pub, want[i]);
        gn_msg_unref(out.msg);
    }
    ck_assert_uint_eq(gn_subq_count(&q), 0);
    gn_subq_clear(&q);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
}
END_TEST

START_TEST(test_lowered_bound_drops_down_to_it)
{
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    for (uint64_t i = 0; i < 100; i++) {
        gn_qent e = ent(gn_msg_ref(m), i);
        ck_assert_int_ge(gn_subq_push(&q, 5, &e, 50), 0);
    }
    ck_assert_uint_eq(gn_subq_lane_count(&q, 5), 50);
    gn_qent e = ent(gn_msg_ref(m), 100);
    ck_assert_int_eq(gn_subq_push(&q, 5, &e, 10), 41);    /* down to 9, then the new one */
    ck_assert_uint_eq(gn_subq_lane_count(&q, 5), 10);
    gn_qent out;
    ck_assert(gn_subq_pop(&q, &out));
    ck_assert_uint_eq(out.pub, 91);
    gn_msg_unref(out.msg);
    gn_subq_clear(&q);
    ck_assert_uint_eq(gn_subq_count(&q), 0);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
}
END_TEST

START_TEST(test_bound_of_one_keeps_the_newest)
{
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    gn_qent a = ent(gn_msg_ref(m), 1), b = ent(gn_msg_ref(m), 2), c = ent(gn_msg_ref(m), 3);
    ck_assert_int_eq(gn_subq_push(&q, 1, &a, 1), 0);
    ck_assert_int_eq(gn_subq_push(&q, 2, &b, 1), 0);
    ck_assert_int_eq(gn_subq_push(&q, 1, &c, 1), 1);
    gn_qent out;
    ck_assert(gn_subq_pop(&q, &out));
    ck_assert_uint_eq(out.pub, 2);
    gn_msg_unref(out.msg);
    ck_assert(gn_subq_pop(&q, &out));
    ck_assert_uint_eq(out.pub, 3);
    gn_msg_unref(out.msg);
    gn_subq_clear(&q);
    gn_msg_unref(m);
}
END_TEST

/* Reference model: per-lane FIFOs of arrival numbers. */
#define NLANES 6
#define MAXQ 4096
typedef struct model {
    uint64_t v[NLANES][MAXQ];
    uint32_t head[NLANES], n[NLANES];
} model;

START_TEST(test_random_interleaving_agrees_with_model)
{
    static model md;
    memset(&md, 0, sizeof md);
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    srand(12345);
    uint64_t next = 0;
    uint32_t total = 0;
    for (int step = 0; step < 200000; step++) {
        int r = rand() % 100;
        if (r < 55) {
            uint32_t lane = (uint32_t)(rand() % NLANES);
            uint32_t cap = lane == 0 ? 0 : (uint32_t)(lane * 7);    /* lane 0 unbounded */
            gn_qent e = ent(gn_msg_ref(m), next);
            int d = gn_subq_push(&q, lane + 1000, &e, cap);
            ck_assert_int_ge(d, 0);
            int md_d = 0;
            while (cap && md.n[lane] >= cap) {
                md.head[lane] = (md.head[lane] + 1) % MAXQ;
                md.n[lane]--;
                md_d++;
            }
            ck_assert_int_eq(d, md_d);
            ck_assert_uint_lt(md.n[lane], MAXQ);
            md.v[lane][(md.head[lane] + md.n[lane]) % MAXQ] = next++;
            md.n[lane]++;
            total = total + 1 - (uint32_t)md_d;
        } else {
            gn_qent out;
            bool got = gn_subq_pop(&q, &out);
            int best = -1;
            for (int l = 0; l < NLANES; l++)
                if (md.n[l] && (best < 0 || md.v[l][md.head[l]] < md.v[best][md.head[best]]))
                    best = l;
            ck_assert(got == (best >= 0));
            if (!got)
                continue;
            ck_assert_uint_eq(out.pub, md.v[best][md.head[best]]);
            gn_msg_unref(out.msg);
            md.head[best] = (md.head[best] + 1) % MAXQ;
            md.n[best]--;
            total--;
        }
        ck_assert_uint_eq(gn_subq_count(&q), total);
    }
    for (int l = 1; l < NLANES; l++)
        ck_assert_uint_eq(gn_subq_lane_count(&q, (uint64_t)l + 1000), md.n[l]);
    ck_assert_uint_eq(gn_msg_refcount(m), 1 + total);
    gn_subq_clear(&q);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
}
END_TEST

static void count_ent(void *ctx, const gn_qent *e)
{
    uint64_t *sum = ctx;
    sum[0]++;
    sum[1] += e->pub;
}

START_TEST(test_each_visits_every_entry_once)
{
    gn_subq q = { 0 };
    gn_msg *m = msg(0);
    uint64_t want = 0;
    for (uint64_t i = 0; i < 50; i++) {
        gn_qent e = ent(gn_msg_ref(m), i);
        ck_assert_int_ge(gn_subq_push(&q, i % 3, &e, 10), 0);    /* lanes 0..2, 10 each kept */
    }
    for (uint64_t i = 20; i < 50; i++)
        want += i;                                              /* the 30 newest survive */
    uint64_t sum[2] = { 0, 0 };
    gn_subq_each(&q, count_ent, sum);
    ck_assert_uint_eq(sum[0], 30);
    ck_assert_uint_eq(sum[1], want);
    ck_assert_uint_eq(gn_subq_count(&q), 30);                   /* nothing taken */
    gn_subq_clear(&q);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("subq");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_order_across_lanes_is_arrival_order);
    tcase_add_test(tc, test_full_lane_drops_its_own_oldest_only);
    tcase_add_test(tc, test_lowered_bound_drops_down_to_it);
    tcase_add_test(tc, test_bound_of_one_keeps_the_newest);
    tcase_add_test(tc, test_random_interleaving_agrees_with_model);
    tcase_add_test(tc, test_each_visits_every_entry_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
