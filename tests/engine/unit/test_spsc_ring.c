/* tests/engine/unit/test_spsc_ring.c — the SPSC ring: bounds, batching,
 * wrap-around, the was_empty wake-up contract, and two threads moving
 * millions of items in order without loss (also run under TSan). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <string.h>

#include "engine/spsc_ring.h"

typedef struct item {
    uint64_t seq;
    uint64_t check;
} item;

static uint64_t mix(uint64_t x) { return x * 0x9E3779B97F4A7C15ull ^ (x >> 7); }

START_TEST(test_create_rejects_bad_arguments)
{
    errno = 0;
    ck_assert_ptr_null(gn_spsc_create(0, 8));
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_ptr_null(gn_spsc_create(1, 8));
    ck_assert_ptr_null(gn_spsc_create(100, 8));
    ck_assert_ptr_null(gn_spsc_create(64, 0));
    ck_assert_ptr_null(gn_spsc_create(64, 12));
    ck_assert_ptr_null(gn_spsc_create(64, GN_SPSC_MAX_SLOT + 8));
    ck_assert_ptr_null(gn_spsc_create(GN_SPSC_MAX_CAPACITY * 2u, 8));
    gn_spsc_ring *r = gn_spsc_create(64, 16);
    ck_assert_ptr_nonnull(r);
    ck_assert_uint_eq(gn_spsc_capacity(r), 64);
    ck_assert_uint_eq(gn_spsc_slot_size(r), 16);
    gn_spsc_destroy(r);
    gn_spsc_destroy(NULL);
}
END_TEST

START_TEST(test_push_until_full_then_pop_in_order)
{
    gn_spsc_ring *r = gn_spsc_create(8, 8);
    uint64_t v;
    ck_assert(!gn_spsc_pop(r, &v));
    for (uint64_t i = 0; i < 8; i++)
        ck_assert(gn_spsc_push(r, &i, NULL));
    v = 99;
    ck_assert(!gn_spsc_push(r, &v, NULL));
    ck_assert_uint_eq(gn_spsc_count(r), 8);
    ck_assert_uint_eq(gn_spsc_free_space(r), 0);
    for (uint64_t i = 0; i < 8; i++) {
        ck_assert(gn_spsc_pop(r, &v));
        ck_assert_uint_eq(v, i);
    }
    ck_assert(!gn_spsc_pop(r, &v));
    ck_assert_uint_eq(gn_spsc_free_space(r), 8);
    gn_spsc_destroy(r);
}
END_TEST

START_TEST(test_batches_wrap_around_and_stop_at_full)
{
    gn_spsc_ring *r = gn_spsc_create(16, 16);
    item in[40], out[40];
    uint64_t next_in = 0, next_out = 0;
    for (int round = 0; round < 200; round++) {
        uint32_t want = (uint32_t)(round * 7 % 23) + 1;
        for (uint32_t i = 0; i < want; i++)
            in[i] = (item){ next_in + i, mix(next_in + i) };
        uint32_t free_before = gn_spsc_free_space(r);
        uint32_t pushed = gn_spsc_push_n(r, in, want, NULL);
        ck_assert_uint_eq(pushed, want < free_before ? want : free_before);
        next_in += pushed;
        uint32_t take = (uint32_t)(round * 5 % 19) + 1;
        uint32_t got = gn_spsc_pop_n(r, out, take);
        for (uint32_t i = 0; i < got; i++) {
            ck_assert_uint_eq(out[i].seq, next_out);
            ck_assert_uint_eq(out[i].check, mix(next_out));
            next_out++;
        }
        ck_assert_uint_eq(next_in - next_out, gn_spsc_count(r));
    }
    ck_assert_uint_gt(next_out, 16 * 20); /* wrapped many times */
    gn_spsc_destroy(r);
}
END_TEST

START_TEST(test_was_empty_only_on_empty_to_non_empty)
{
    gn_spsc_ring *r = gn_spsc_create(8, 8);
    uint64_t v = 1, out[8];
    bool was_empty = false;
    ck_assert(gn_spsc_push(r, &v, &was_empty));
    ck_assert(was_empty);
    ck_assert(gn_spsc_push(r, &v, &was_empty));
    ck_assert(!was_empty);
    uint64_t batch[3] = { 1, 2, 3 };
    ck_assert_uint_eq(gn_spsc_push_n(r, batch, 3, &was_empty), 3);
    ck_assert(!was_empty);
    ck_assert_uint_eq(gn_spsc_pop_n(r, out, 8), 5);
    ck_assert_uint_eq(gn_spsc_push_n(r, batch, 3, &was_empty), 3);
    ck_assert(was_empty);
    /* partially drained is not empty */
    ck_assert_uint_eq(gn_spsc_pop_n(r, out, 2), 2);
    ck_assert(gn_spsc_push(r, &v, &was_empty));
    ck_assert(!was_empty);
    /* a failed push leaves was_empty untouched */
    uint64_t fill[8] = { 0 };
    gn_spsc_push_n(r, fill, 8, NULL);
    was_empty = true;
    ck_assert(!gn_spsc_push(r, &v, &was_empty));
    ck_assert(was_empty);
    gn_spsc_destroy(r);
}
END_TEST

/* ---- two threads: ordered, lossless transfer */

#define XFER_ITEMS 3000000u

struct xfer {
    gn_spsc_ring *r;
    uint64_t received;
    uint64_t errors;
};

static void *xfer_consumer(void *arg)
{
    struct xfer *x = arg;
    item buf[64];
    uint64_t expect = 0;
    uint32_t k = 0;
    while (expect < XFER_ITEMS) {
        uint32_t max = (k++ % 64) + 1;
        uint32_t n = gn_spsc_pop_n(x->r, buf, max);
        if (n == 0) {
            sched_yield();
            continue;
        }
        for (uint32_t i = 0; i < n; i++) {
            if (buf[i].seq != expect || buf[i].check != mix(expect))
                x->errors++;
            expect++;
        }
    }
    x->received = expect;
    return NULL;
}

START_TEST(test_two_threads_transfer_millions_in_order_without_loss)
{
    struct xfer x = { gn_spsc_create(1024, 16), 0, 0 };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, xfer_consumer, &x), 0);
    item buf[64];
    uint64_t seq = 0;
    uint32_t k = 0;
    while (seq < XFER_ITEMS) {
        uint32_t want = (k++ % 37) + 1;
        if (want > XFER_ITEMS - seq)
            want = (uint32_t)(XFER_ITEMS - seq);
        for (uint32_t i = 0; i < want; i++)
            buf[i] = (item){ seq + i, mix(seq + i) };
        uint32_t n = gn_spsc_push_n(x.r, buf, want, NULL);
        if (n == 0)
            sched_yield();
        seq += n;
    }
    pthread_join(t, NULL);
    ck_assert_uint_eq(x.received, XFER_ITEMS);
    ck_assert_uint_eq(x.errors, 0);
    ck_assert_uint_eq(gn_spsc_count(x.r), 0);
    gn_spsc_destroy(x.r);
}
END_TEST

/* ---- the wake-up contract: a consumer that sleeps whenever pop finds the
 * ring empty, woken only on was_empty, must never sleep forever. */

#ifndef WAKE_ITEMS
#define WAKE_ITEMS 400000u
#endif

struct wake {
    gn_spsc_ring *r;
    bool sleep_on_short;   /* block after a short pop_n, not only after 0 */
    sem_t wake;
    uint64_t received;
    uint64_t errors;
    uint64_t sleeps;
    bool stuck;
};

static void *wake_consumer(void *arg)
{
    struct wake *w = arg;
    uint64_t buf[32], expect = 0;
    while (expect < WAKE_ITEMS) {
        uint32_t n = gn_spsc_pop_n(w->r, buf, 32);
        for (uint32_t i = 0; i < n; i++)
            if (buf[i] != expect++)
                w->errors++;
        if (expect < WAKE_ITEMS && (n == 0 || (w->sleep_on_short && n < 32))) {
            w->sleeps++;
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 10;
            while (sem_timedwait(&w->wake, &ts) != 0) {
                if (errno == ETIMEDOUT) {
                    __atomic_store_n(&w->stuck, true, __ATOMIC_RELAXED); /* a lost wake-up */
                    w->received = expect;
                    return NULL;
                }
            }
        }
    }
    w->received = expect;
    return NULL;
}

static void run_wake_test(bool sleep_on_short)
{
    struct wake w = { .r = gn_spsc_create(64, 8), .sleep_on_short = sleep_on_short };
    sem_init(&w.wake, 0, 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, wake_consumer, &w), 0);
    uint64_t seq = 0, wakes = 0;
    uint32_t k = 0;
    while (seq < WAKE_ITEMS && !__atomic_load_n(&w.stuck, __ATOMIC_RELAXED)) {
        uint64_t buf[8];
        uint32_t want = (k++ % 8) + 1;
        if (want > WAKE_ITEMS - seq)
            want = (uint32_t)(WAKE_ITEMS - seq);
        for (uint32_t i = 0; i < want; i++)
            buf[i] = seq + i;
        bool was_empty = false;
        uint32_t n = gn_spsc_push_n(w.r, buf, want, &was_empty);
        if (n == 0) {
            sched_yield();
            continue;
        }
        seq += n;
        if (was_empty) {
            sem_post(&w.wake);
            wakes++;
        }
    }
    pthread_join(t, NULL);
    ck_assert(!w.stuck);
    ck_assert_uint_eq(w.received, WAKE_ITEMS);
    ck_assert_uint_eq(w.errors, 0);
    ck_assert_uint_gt(wakes, 0);
    ck_assert_uint_gt(w.sleeps, 0);
    sem_destroy(&w.wake);
    gn_spsc_destroy(w.r);
}

START_TEST(test_consumer_sleeping_on_empty_is_always_woken)
{
    run_wake_test(false);
}
END_TEST

START_TEST(test_consumer_sleeping_after_a_short_batch_is_always_woken)
{
    run_wake_test(true);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("spsc_ring");
    TCase *tc = tcase_create("single_thread");
    tcase_add_test(tc, test_create_rejects_bad_arguments);
    tcase_add_test(tc, test_push_until_full_then_pop_in_order);
    tcase_add_test(tc, test_batches_wrap_around_and_stop_at_full);
    tcase_add_test(tc, test_was_empty_only_on_empty_to_non_empty);
    suite_add_tcase(s, tc);
    TCase *tt = tcase_create("threads");
    tcase_set_timeout(tt, 60);
    tcase_add_test(tt, test_two_threads_transfer_millions_in_order_without_loss);
    tcase_add_test(tt, test_consumer_sleeping_on_empty_is_always_woken);
    tcase_add_test(tt, test_consumer_sleeping_after_a_short_batch_is_always_woken);
    suite_add_tcase(s, tt);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
