/* tests/router/test_qsbr.c — the reclamation contract: nothing is freed
 * while a reader that was online at unlink time has not passed a quiescent
 * state; offline readers never hold anything back. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "router/qsbr.h"

static int frees;

static void count_free(void *ctx, void *p)
{
    (void)p;
    ++*(int *)ctx;
}

START_TEST(test_qsbr_frees_only_after_every_online_reader_is_quiescent)
{
    frees = 0;
    gn_qsbr *q = gn_qsbr_create(4);
    gn_qsbr_reader *a = gn_qsbr_register(q);
    gn_qsbr_reader *b = gn_qsbr_register(q);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    gn_qsbr_defer(q, count_free, &frees, (void *)1);
    ck_assert_uint_eq(gn_qsbr_poll(q), 0);
    gn_qsbr_quiescent(a);
    ck_assert_uint_eq(gn_qsbr_poll(q), 0);
    ck_assert_int_eq(frees, 0);
    gn_qsbr_quiescent(b);
    ck_assert_uint_eq(gn_qsbr_poll(q), 1);
    ck_assert_int_eq(frees, 1);
    gn_qsbr_stats st;
    gn_qsbr_get_stats(q, &st);
    ck_assert_uint_eq(st.deferred, 1);
    ck_assert_uint_eq(st.freed, 1);
    ck_assert_uint_eq(st.pending, 0);
    gn_qsbr_unregister(a);
    gn_qsbr_unregister(b);
    gn_qsbr_destroy(q);
}
END_TEST

START_TEST(test_qsbr_offline_reader_does_not_hold_back_reclamation)
{
    frees = 0;
    gn_qsbr *q = gn_qsbr_create(2);
    gn_qsbr_reader *a = gn_qsbr_register(q);
    gn_qsbr_offline(a);
    for (int i = 0; i < 600; i++) /* spans several batches */
        gn_qsbr_defer(q, count_free, &frees, (void *)1);
    ck_assert_uint_eq(gn_qsbr_poll(q), 600);
    gn_qsbr_online(a);
    gn_qsbr_defer(q, count_free, &frees, (void *)1);
    ck_assert_uint_eq(gn_qsbr_poll(q), 0);
    gn_qsbr_synchronize(q, a); /* takes `a` offline for the wait */
    ck_assert_int_eq(frees, 601);
    gn_qsbr_unregister(a);
    gn_qsbr_destroy(q);
}
END_TEST

START_TEST(test_qsbr_register_beyond_capacity_fails_and_slots_are_reused)
{
    gn_qsbr *q = gn_qsbr_create(1);
    ck_assert_ptr_null(gn_qsbr_create(0));
    gn_qsbr_reader *a = gn_qsbr_register(q);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_null(gn_qsbr_register(q));
    gn_qsbr_unregister(a);
    a = gn_qsbr_register(q);
    ck_assert_ptr_nonnull(a);
    gn_qsbr_unregister(a);
    gn_qsbr_destroy(q);
}
END_TEST

static gn_qsbr *tq;
static atomic_bool stop;

static void *reporter(void *arg)
{
    (void)arg;
    gn_qsbr_reader *rd = gn_qsbr_register(tq);
    while (!atomic_load(&stop))
        gn_qsbr_quiescent(rd);
    gn_qsbr_unregister(rd);
    return NULL;
}

START_TEST(test_qsbr_synchronize_completes_with_a_busy_reader_thread)
{
    frees = 0;
    tq = gn_qsbr_create(4);
    atomic_store(&stop, false);
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, reporter, NULL), 0);
    for (int i = 0; i < 50; i++) {
        gn_qsbr_defer(tq, count_free, &frees, (void *)1);
        gn_qsbr_synchronize(tq, NULL);
        ck_assert_int_eq(frees, i + 1);
    }
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    gn_qsbr_destroy(tq);
}
END_TEST

Suite *router_qsbr_suite(void)
{
    Suite *s = suite_create("router_qsbr");
    TCase *tc = tcase_create("qsbr");
    tcase_add_test(tc, test_qsbr_frees_only_after_every_online_reader_is_quiescent);
    tcase_add_test(tc, test_qsbr_offline_reader_does_not_hold_back_reclamation);
    tcase_add_test(tc, test_qsbr_register_beyond_capacity_fails_and_slots_are_reused);
    tcase_add_test(tc, test_qsbr_synchronize_completes_with_a_busy_reader_thread);
    suite_add_tcase(s, tc);
    return s;
}
