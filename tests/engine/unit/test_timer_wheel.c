/* tests/engine/unit/test_timer_wheel.c — the hierarchical timing wheel:
 * exact expiry, ordering, cancel, re-arm, long timeouts, callbacks that
 * change the wheel, next(), and a randomized comparison with a brute-force
 * model over many timers. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/timer_wheel.h"

typedef struct owner {
    gn_timer timer;
    int id;
    int fired;
    uint64_t fired_at;   /* wheel time (now_ms passed) when fired */
    uint64_t deadline;   /* what the model expects */
    bool armed;          /* model */
} owner;

/* firing log */
static int log_ids[200000];
static uint64_t log_deadlines[200000];
static size_t log_len;

static void on_fire(gn_timer *t, uint64_t now_ms, void *ctx)
{
    (void)ctx;
    owner *o = GN_CONTAINER_OF(t, owner, timer);
    o->fired++;
    o->fired_at = now_ms;
    if (log_len < sizeof log_ids / sizeof log_ids[0]) {
        log_ids[log_len] = o->id;
        log_deadlines[log_len] = gn_timer_deadline(t);
        log_len++;
    }
}

static void setup(void) { log_len = 0; }

START_TEST(test_timer_fires_exactly_at_deadline_not_before)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 1000, NULL);
    owner o = { .id = 1 };
    gn_timer_init(&o.timer, on_fire);
    gn_timer_arm(&w, &o.timer, 1500);
    ck_assert(gn_timer_armed(&o.timer));
    ck_assert_uint_eq(gn_timer_wheel_count(&w), 1);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 1499), 0);
    ck_assert_int_eq(o.fired, 0);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 1500), 1);
    ck_assert_int_eq(o.fired, 1);
    ck_assert(!gn_timer_armed(&o.timer));
    ck_assert_uint_eq(gn_timer_wheel_count(&w), 0);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 5000), 0);
    ck_assert_int_eq(o.fired, 1);
}
END_TEST

START_TEST(test_timers_fire_in_deadline_order_across_one_big_advance)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 0, NULL);
    static owner o[6];
    const uint64_t deadlines[6] = { 70000, 3, 4100, 64, 262145, 63 };
    for (int i = 0; i < 6; i++) {
        o[i] = (owner){ .id = i };
        gn_timer_init(&o[i].timer, on_fire);
        gn_timer_arm(&w, &o[i].timer, deadlines[i]);
    }
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 1000000), 6);
    ck_assert_uint_eq(log_len, 6);
    const int order[6] = { 1, 5, 3, 2, 0, 4 };
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(log_ids[i], order[i]);
}
END_TEST

START_TEST(test_cancelled_timer_never_fires)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 10, NULL);
    owner a = { .id = 1 }, b = { .id = 2 };
    gn_timer_init(&a.timer, on_fire);
    gn_timer_init(&b.timer, on_fire);
    gn_timer_arm(&w, &a.timer, 100);
    gn_timer_arm(&w, &b.timer, 100);
    gn_timer_cancel(&w, &a.timer);
    gn_timer_cancel(&w, &a.timer); /* twice is a no-op */
    ck_assert(!gn_timer_armed(&a.timer));
    ck_assert_uint_eq(gn_timer_wheel_count(&w), 1);
    gn_timer_wheel_advance(&w, 200);
    ck_assert_int_eq(a.fired, 0);
    ck_assert_int_eq(b.fired, 1);
    /* the slot's bit is cleared: nothing left to do */
    ck_assert_uint_eq(gn_timer_wheel_next(&w), GN_TIMER_NEVER);
}
END_TEST

START_TEST(test_rearm_moves_the_deadline_both_ways)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 0, NULL);
    owner o = { .id = 1 };
    gn_timer_init(&o.timer, on_fire);
    gn_timer_arm(&w, &o.timer, 90000);        /* keep-alive style: later */
    gn_timer_arm(&w, &o.timer, 135000);
    ck_assert_uint_eq(gn_timer_wheel_count(&w), 1);
    gn_timer_wheel_advance(&w, 134999);
    ck_assert_int_eq(o.fired, 0);
    gn_timer_arm(&w, &o.timer, 135010);       /* pushed again */
    gn_timer_wheel_advance(&w, 135009);
    ck_assert_int_eq(o.fired, 0);
    gn_timer_arm(&w, &o.timer, 135009 + 5);   /* and earlier than a long one */
    gn_timer_arm(&w, &o.timer, 135009 + 2);
    gn_timer_wheel_advance(&w, 135011);
    ck_assert_int_eq(o.fired, 1);
    ck_assert_uint_eq(o.fired_at, 135011);
}
END_TEST

START_TEST(test_long_timeouts_fire_exactly_after_many_revolutions)
{
    gn_timer_wheel w;
    uint64_t start = 123456789;
    gn_timer_wheel_init(&w, start, NULL);
    static owner o[5];
    const uint64_t delays[5] = {
        4294967295ull * 1000ull,      /* MQTT 5 max session expiry */
        86400000ull * 30,             /* a month */
        65535ull * 1500ull,           /* 1.5 x max keep-alive (27 h) */
        86400000ull,                  /* a day */
        3600000ull + 7,               /* an hour and 7 ms */
    };
    for (int i = 0; i < 5; i++) {
        o[i] = (owner){ .id = i };
        gn_timer_init(&o[i].timer, on_fire);
        gn_timer_arm(&w, &o[i].timer, start + delays[i]);
    }
    for (int i = 4; i >= 0; i--) {
        uint64_t d = start + delays[i];
        ck_assert_uint_eq(gn_timer_wheel_next(&w) <= d, 1);
        gn_timer_wheel_advance(&w, d - 1);
        ck_assert_int_eq(o[i].fired, 0);
        gn_timer_wheel_advance(&w, d);
        ck_assert_int_eq(o[i].fired, 1);
        ck_assert_uint_eq(log_deadlines[log_len - 1], d);
    }
}
END_TEST

START_TEST(test_deadline_in_the_past_fires_on_next_advance)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 5000, NULL);
    owner o = { .id = 1 };
    gn_timer_init(&o.timer, on_fire);
    gn_timer_arm(&w, &o.timer, 10);
    ck_assert_uint_eq(gn_timer_wheel_next(&w), 5000);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 5000), 1);
    ck_assert_int_eq(o.fired, 1);
}
END_TEST

START_TEST(test_far_deadlines_are_clamped)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 7, NULL);
    owner o = { .id = 1 };
    gn_timer_init(&o.timer, on_fire);
    gn_timer_arm(&w, &o.timer, UINT64_MAX - 1);
    ck_assert_uint_eq(gn_timer_deadline(&o.timer), 7 + GN_TIMER_MAX_AHEAD);
    gn_timer_wheel_advance(&w, 7 + GN_TIMER_MAX_AHEAD - 1);
    ck_assert_int_eq(o.fired, 0);
    gn_timer_wheel_advance(&w, 7 + GN_TIMER_MAX_AHEAD);
    ck_assert_int_eq(o.fired, 1);
}
END_TEST

/* callbacks that rearm themselves and cancel a peer due in the same batch */
static owner cb_owners[2];
static gn_timer_wheel *cb_wheel;

static void on_fire_rearm(gn_timer *t, uint64_t now_ms, void *ctx)
{
    ck_assert_ptr_eq(ctx, &cb_owners);
    owner *o = GN_CONTAINER_OF(t, owner, timer);
    o->fired++;
    o->fired_at = now_ms;
    if (o->fired < 5)
        gn_timer_arm(cb_wheel, t, gn_timer_deadline(t) + 1000);
    gn_timer_cancel(cb_wheel, &cb_owners[1 - o->id].timer);
}

START_TEST(test_callback_can_rearm_itself_and_cancel_a_timer_due_with_it)
{
    gn_timer_wheel w;
    cb_wheel = &w;
    gn_timer_wheel_init(&w, 0, &cb_owners);
    for (int i = 0; i < 2; i++) {
        cb_owners[i] = (owner){ .id = i };
        gn_timer_init(&cb_owners[i].timer, on_fire_rearm);
        gn_timer_arm(&w, &cb_owners[i].timer, 1000);
    }
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 1000), 1);
    ck_assert_int_eq(cb_owners[0].fired + cb_owners[1].fired, 1);
    /* re-armed for 2000: fires in the next advance; each re-arm it makes
     * there is already due (<= 100000) and waits for the following call */
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(gn_timer_wheel_advance(&w, 100000), 1);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 100000), 0);
    owner *s = cb_owners[0].fired ? &cb_owners[0] : &cb_owners[1];
    ck_assert_int_eq(s->fired, 5);
    ck_assert(!gn_timer_armed(&s->timer));
    ck_assert_uint_eq(gn_timer_wheel_count(&w), 0);
}
END_TEST

static void on_fire_rearm_past(gn_timer *t, uint64_t now_ms, void *ctx)
{
    gn_timer_wheel *w = ctx;
    owner *o = GN_CONTAINER_OF(t, owner, timer);
    o->fired++;
    gn_timer_arm(w, t, now_ms - 5); /* already due: must wait for the next advance */
}

START_TEST(test_rearm_to_past_from_callback_fires_next_advance_not_now)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 0, &w);
    owner o = { .id = 1 };
    gn_timer_init(&o.timer, on_fire_rearm_past);
    gn_timer_arm(&w, &o.timer, 50);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 100), 1);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 100), 1);
    ck_assert_uint_eq(gn_timer_wheel_advance(&w, 101), 1);
    ck_assert_int_eq(o.fired, 3);
    gn_timer_cancel(&w, &o.timer);
}
END_TEST

/* ---- randomized: many timers against a brute-force model */

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t random_delay(void)
{
    switch (rnd() % 6) {
    case 0: return rnd() % 64;
    case 1: return rnd() % 5000;
    case 2: return rnd() % 300000;
    case 3: return rnd() % 20000000;
    case 4: return rnd() % 5000000000ull;
    default: return 60000 + rnd() % 1000; /* many in the same few slots */
    }
}

#define NT 20000

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

START_TEST(test_many_random_timers_match_a_brute_force_model)
{
    static owner o[NT];
    gn_timer_wheel w;
    uint64_t now = 1700000000000ull;   /* epoch-like ms */
    gn_timer_wheel_init(&w, now, NULL);
    for (int i = 0; i < NT; i++) {
        o[i] = (owner){ .id = i };
        gn_timer_init(&o[i].timer, on_fire);
    }
    size_t expect_fired = 0;
    for (int step = 0; step < 3000; step++) {
        /* random arms / re-arms / cancels */
        for (int k = 0; k < 20; k++) {
            owner *x = &o[rnd() % NT];
            if (rnd() % 4 == 0) {
                gn_timer_cancel(&w, &x->timer);
                x->armed = false;
            } else {
                x->deadline = now + random_delay();
                gn_timer_arm(&w, &x->timer, x->deadline);
                x->armed = true;
            }
        }
        size_t armed = 0;
        uint64_t earliest = GN_TIMER_NEVER;
        for (int i = 0; i < NT; i++) {
            if (o[i].armed) {
                armed++;
                if (o[i].deadline < earliest)
                    earliest = o[i].deadline;
            }
        }
        ck_assert_uint_eq(gn_timer_wheel_count(&w), armed);
        ck_assert_uint_le(gn_timer_wheel_next(&w), earliest);
        /* advance by a random amount; sometimes a huge jump */
        uint64_t to = now + (rnd() % 10 == 0 ? random_delay() : rnd() % 2000);
        /* collect the model's due deadlines to check order and count */
        static uint64_t due[NT];
        size_t ndue = 0;
        for (int i = 0; i < NT; i++) {
            if (o[i].armed && o[i].deadline <= to) {
                due[ndue++] = o[i].deadline;
                o[i].armed = false;
            }
        }
        qsort(due, ndue, sizeof due[0], cmp_u64);
        log_len = 0;
        size_t fired = gn_timer_wheel_advance(&w, to);
        ck_assert_uint_eq(fired, ndue);
        /* (plain comparisons in the loops: each ck_assert costs a write) */
        size_t order_errors = 0, armed_errors = 0;
        for (size_t i = 0; i < ndue; i++)
            order_errors += log_deadlines[i] != due[i];
        for (int i = 0; i < NT; i++)
            armed_errors += gn_timer_armed(&o[i].timer) != o[i].armed;
        ck_assert_uint_eq(order_errors, 0);
        ck_assert_uint_eq(armed_errors, 0);
        expect_fired += ndue;
        now = to;
    }
    ck_assert_uint_gt(expect_fired, 1000);
}
END_TEST

START_TEST(test_next_is_never_after_the_earliest_deadline)
{
    gn_timer_wheel w;
    gn_timer_wheel_init(&w, 100, NULL);
    ck_assert_uint_eq(gn_timer_wheel_next(&w), GN_TIMER_NEVER);
    owner a = { .id = 1 };
    gn_timer_init(&a.timer, on_fire);
    gn_timer_arm(&w, &a.timer, 100 + 90000);
    uint64_t n = gn_timer_wheel_next(&w);
    ck_assert_uint_gt(n, 100);
    ck_assert_uint_le(n, 100 + 90000);
    /* following next() reaches the deadline in a few steps and fires it */
    int steps = 0;
    while (a.fired == 0 && steps < 20) {
        gn_timer_wheel_advance(&w, gn_timer_wheel_next(&w));
        steps++;
    }
    ck_assert_int_eq(a.fired, 1);
    ck_assert_uint_eq(a.fired_at, 100 + 90000);
    ck_assert_int_le(steps, GN_TIMER_LEVELS);
}
END_TEST

START_TEST(test_clock_is_monotonic_milliseconds)
{
    uint64_t a = gn_clock_ms(), b = gn_clock_ms();
    ck_assert_uint_le(a, b);
    ck_assert_uint_gt(a, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("timer_wheel");
    TCase *tc = tcase_create("wheel");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_timer_fires_exactly_at_deadline_not_before);
    tcase_add_test(tc, test_timers_fire_in_deadline_order_across_one_big_advance);
    tcase_add_test(tc, test_cancelled_timer_never_fires);
    tcase_add_test(tc, test_rearm_moves_the_deadline_both_ways);
    tcase_add_test(tc, test_long_timeouts_fire_exactly_after_many_revolutions);
    tcase_add_test(tc, test_deadline_in_the_past_fires_on_next_advance);
    tcase_add_test(tc, test_far_deadlines_are_clamped);
    tcase_add_test(tc, test_callback_can_rearm_itself_and_cancel_a_timer_due_with_it);
    tcase_add_test(tc, test_rearm_to_past_from_callback_fires_next_advance_not_now);
    tcase_add_test(tc, test_many_random_timers_match_a_brute_force_model);
    tcase_add_test(tc, test_next_is_never_after_the_earliest_deadline);
    tcase_add_test(tc, test_clock_is_monotonic_milliseconds);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
