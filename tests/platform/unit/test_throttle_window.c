/* tests/platform/unit/test_throttle_window.c — Ioto-style throttling's
 * measurement (engine/platform/throttle_window.h): 1 KB units, buckets
 * emptied as time passes (and all of them after a long gap), the 4x
 * trigger over the last minute, the 8x allowance after five light
 * minutes, the current bucket left out of a measurement, limit 0. */
#include <check.h>

#include "engine/platform/throttle_window.h"

START_TEST(test_units_of_1kb)
{
    ck_assert_uint_eq(gn_thr_units(0), 1);
    ck_assert_uint_eq(gn_thr_units(1), 1);
    ck_assert_uint_eq(gn_thr_units(1024), 1);
    ck_assert_uint_eq(gn_thr_units(1025), 2);
    ck_assert_uint_eq(gn_thr_units(10 * 1024), 10);
}
END_TEST

/* limit 60/h: a minute's share is 1 unit; over 4 (8 when light) */
START_TEST(test_light_history_bursts_to_8x)
{
    gn_thr_window w;
    gn_thr_init(&w, 100);
    gn_thr_add(&w, 100, 8);
    gn_thr_verdict v = gn_thr_measure(&w, 101, 60);
    ck_assert(v.burst);
    ck_assert(!v.over);                     /* 8 is not more than 8x */
    ck_assert_uint_eq(v.minute, 8);
    gn_thr_add(&w, 101, 1);
    v = gn_thr_measure(&w, 102, 60);        /* minute = periods 100, 101 = 9 */
    ck_assert(v.burst);
    ck_assert(v.over);
    ck_assert_uint_eq(v.minute, 9);
}
END_TEST

START_TEST(test_busy_history_allows_4x)
{
    gn_thr_window w;
    gn_thr_init(&w, 0);
    gn_thr_add(&w, 5, 3);                   /* 3 units in the five minutes before */
    gn_thr_add(&w, 11, 5);
    gn_thr_verdict v = gn_thr_measure(&w, 12, 60);   /* minute: 10, 11; history: 0 .. 9 */
    ck_assert_uint_eq(v.history, 3);
    ck_assert(!v.burst);                    /* 3 >= half of 5 */
    ck_assert(v.over);                      /* 5 > 4 */
    gn_thr_window w2;
    gn_thr_init(&w2, 0);
    gn_thr_add(&w2, 5, 2);                  /* 2 < 2.5: light */
    gn_thr_add(&w2, 11, 5);
    v = gn_thr_measure(&w2, 12, 60);
    ck_assert(v.burst);
    ck_assert(!v.over);
}
END_TEST

START_TEST(test_current_bucket_not_measured)
{
    gn_thr_window w;
    gn_thr_init(&w, 7);
    gn_thr_add(&w, 7, 100);
    gn_thr_verdict v = gn_thr_measure(&w, 7, 60);
    ck_assert_uint_eq(v.minute, 0);
    ck_assert(!v.over);
    v = gn_thr_measure(&w, 8, 60);
    ck_assert_uint_eq(v.minute, 100);
    ck_assert(v.over);
    v = gn_thr_measure(&w, 9, 60);          /* still in the minute */
    ck_assert_uint_eq(v.minute, 100);
    v = gn_thr_measure(&w, 10, 60);         /* out of it, into the history */
    ck_assert_uint_eq(v.minute, 0);
    ck_assert_uint_eq(v.history, 100);
    v = gn_thr_measure(&w, 20, 60);         /* 13 periods on: gone */
    ck_assert_uint_eq(v.minute + v.history, 0);
}
END_TEST

START_TEST(test_long_gap_empties_everything)
{
    gn_thr_window w;
    gn_thr_init(&w, 0);
    for (uint64_t p = 0; p < 16; p++)
        gn_thr_add(&w, p, 1000);
    gn_thr_add(&w, 1000000, 1);
    gn_thr_verdict v = gn_thr_measure(&w, 1000001, 60);
    ck_assert_uint_eq(v.minute, 1);
    ck_assert_uint_eq(v.history, 0);
    /* time going backwards is ignored */
    gn_thr_add(&w, 5, 7);
    ck_assert_uint_eq(w.period, 1000001);
}
END_TEST

START_TEST(test_limit_zero_and_large)
{
    gn_thr_window w;
    gn_thr_init(&w, 0);
    gn_thr_add(&w, 0, UINT32_MAX);
    gn_thr_add(&w, 0, 5);                   /* saturates */
    gn_thr_verdict v = gn_thr_measure(&w, 1, 0);
    ck_assert(!v.over);
    ck_assert_uint_eq(v.minute, UINT32_MAX);
    v = gn_thr_measure(&w, 1, UINT32_MAX);  /* a minute's share is ~7.2e7 units */
    ck_assert(v.over);                      /* no overflow in the comparison */
    ck_assert(v.burst);
    /* S-137 Hosted: 10 per hour, a minute's share 1/6 unit: over 4x is
     * more than 2/3 unit, so 1 is over once the history is busy */
    gn_thr_window h;
    gn_thr_init(&h, 0);
    gn_thr_add(&h, 3, 1);
    gn_thr_add(&h, 11, 1);
    v = gn_thr_measure(&h, 12, 10);
    ck_assert(!v.burst);
    ck_assert(v.over);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_throttle_window");
    TCase *tc = tcase_create("throttle_window");
    tcase_add_test(tc, test_units_of_1kb);
    tcase_add_test(tc, test_light_history_bursts_to_8x);
    tcase_add_test(tc, test_busy_history_allows_4x);
    tcase_add_test(tc, test_current_bucket_not_measured);
    tcase_add_test(tc, test_long_gap_empties_everything);
    tcase_add_test(tc, test_limit_zero_and_large);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
