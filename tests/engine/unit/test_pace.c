/* tests/engine/unit/test_pace.c — the token bucket behind read pacing
 * (engine/pace.h): message units (1 + payload / unit), the one-second
 * burst, the pause length, refill over time and its cap, long idle gaps
 * (no overflow), huge messages, and a live rate change. */
#include <check.h>
#include <stdint.h>

#include "engine/pace.h"

START_TEST(test_units)
{
    ck_assert_uint_eq(gn_pace_units(4096, 0), 1);
    ck_assert_uint_eq(gn_pace_units(4096, 4095), 1);
    ck_assert_uint_eq(gn_pace_units(4096, 4096), 2);
    ck_assert_uint_eq(gn_pace_units(4096, 16384), 5);
    ck_assert_uint_eq(gn_pace_units(0, 1u << 20), 1);          /* no unit size: per message */
    ck_assert_uint_eq(gn_pace_units(1, SIZE_MAX), UINT32_MAX);  /* saturates */
}
END_TEST

START_TEST(test_burst_then_pause)
{
    gn_pace p;
    gn_pace_init(&p, 10, 4096, 1000);
    /* one second's worth: nine messages leave at least a unit */
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(gn_pace_charge(&p, 1, 1000), 0);
    /* the tenth empties the bucket: wait for one unit at 10/s = 100 ms */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 1000), 100);
    /* 100 ms later there is one unit: that message pauses again */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 1100), 100);
}
END_TEST

START_TEST(test_debt_of_a_big_message)
{
    gn_pace p;
    gn_pace_init(&p, 10, 4096, 0);
    /* 16 KB + 1 = 5 units; three of them: 15 units from a 10 unit bucket,
     * 5 owed + 1 to have one: 600 ms */
    ck_assert_uint_eq(gn_pace_charge(&p, 5, 0), 0);
    ck_assert_uint_eq(gn_pace_charge(&p, 5, 0), 100);
    ck_assert_uint_eq(gn_pace_charge(&p, 5, 0), 600);
    ck_assert_int_eq(p.balance, -5000);
}
END_TEST

START_TEST(test_refill_capped_at_one_second)
{
    gn_pace p;
    gn_pace_init(&p, 10, 0, 0);
    for (int i = 0; i < 10; i++)
        gn_pace_charge(&p, 1, 0);
    ck_assert_int_eq(p.balance, 0);
    /* 250 ms refill 2.5 units */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 250), 0);
    ck_assert_int_eq(p.balance, 1500);
    /* an hour idle: never more than one second's worth */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 3600000), 0);
    ck_assert_int_eq(p.balance, 9000);
}
END_TEST

START_TEST(test_long_rate_holds)
{
    /* a client sending as fast as it is read, for 10 simulated seconds,
     * is read for rate * (T + 1) units at most */
    gn_pace p;
    gn_pace_init(&p, 100, 0, 0);
    uint64_t now = 0, sent = 0;
    while (now < 10000) {
        uint64_t w = gn_pace_charge(&p, 1, now);
        sent++;
        now += w;
    }
    ck_assert_uint_ge(sent, 100 * 10);
    ck_assert_uint_le(sent, 100 * 11 + 1);
}
END_TEST

START_TEST(test_huge_values_do_not_overflow)
{
    gn_pace p;
    gn_pace_init(&p, UINT32_MAX, 1, 0);
    ck_assert_uint_eq(gn_pace_charge(&p, UINT32_MAX, 0), 1);    /* a bucket's worth */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, (UINT64_C(1) << 46)), 0);
    gn_pace_init(&p, 1, 1, 0);
    uint64_t w = gn_pace_charge(&p, UINT32_MAX, 0);
    ck_assert_uint_eq(w, (uint64_t)UINT32_MAX * 1000);
    /* long after: the debt is paid, the one unit bucket full, and this
     * message empties it again */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, (UINT64_C(1) << 46)), 1000);
    ck_assert_int_eq(p.balance, 0);
}
END_TEST

START_TEST(test_rate_change_keeps_balance_capped)
{
    gn_pace p;
    gn_pace_init(&p, 100, 0, 0);
    gn_pace_set_rate(&p, 10, 0, 0);         /* bucket shrinks to 10 units */
    ck_assert_int_eq(p.balance, 10000);
    for (int i = 0; i < 9; i++)
        ck_assert_uint_eq(gn_pace_charge(&p, 1, 0), 0);
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 0), 100);
    gn_pace_set_rate(&p, 1000, 0, 0);       /* faster: the debt is paid sooner */
    ck_assert_uint_eq(gn_pace_charge(&p, 1, 0), 2);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("engine_pace");
    TCase *tc = tcase_create("pace");
    tcase_add_test(tc, test_units);
    tcase_add_test(tc, test_burst_then_pause);
    tcase_add_test(tc, test_debt_of_a_big_message);
    tcase_add_test(tc, test_refill_capped_at_one_second);
    tcase_add_test(tc, test_long_rate_holds);
    tcase_add_test(tc, test_huge_values_do_not_overflow);
    tcase_add_test(tc, test_rate_change_keeps_balance_capped);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
