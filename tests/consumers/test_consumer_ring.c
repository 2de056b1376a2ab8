/* tests/consumers/test_consumer_ring.c — Check tests of the consumer record
 * ring (engine/consumer_ring.c): layout and padding at the buffer end,
 * oversize refusal, block mode never overwriting, drop-oldest counting
 * exactly, the empty -> non-empty wake-up report, and two-thread stress
 * runs (producer and consumer threads, both modes) that the 'tsan' suite
 * runs under ThreadSanitizer. */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/consumer_ring.h"

/* A record carrying a sequence number in its payload. */
static bool put_seq(gn_cring *r, uint32_t seq, uint32_t payload_len)
{
    uint64_t size = gn_cring_record_size(0, 0, payload_len);
    gn_event *ev = gn_cring_reserve(r, size);
    if (!ev)
        return false;
    ev->payload_len = payload_len;
    ev->topic_len = 0;
    ev->client_id_len = 0;
    ev->flags = 0;
    ev->data[0] = 0;
    ev->data[1] = 0;
    memset(ev->data + 2, 0, payload_len);
    memcpy(ev->data + 2, &seq, sizeof seq);
    return true;
}

static uint32_t seq_of(const gn_event *ev)
{
    uint32_t s;
    memcpy(&s, gn_event_payload(ev), sizeof s);
    return s;
}

/* Put 100-byte records while block-mode room says they fit; returns how many. */
static uint32_t fill_ring(gn_cring *r)
{
    uint32_t n = 0;
    while (gn_cring_fits(r, gn_cring_record_size(0, 0, 100)))
        ck_assert(put_seq(r, n++, 100));
    return n;
}

static uint32_t take_batch(gn_cring *r, gn_batch *b, uint32_t max)
{
    uint64_t first, end;
    bool wake;
    uint32_t n = gn_cring_take(r, max, &first, &end, &wake);
    memset(b, 0, sizeof *b);
    if (n) {
        b->buf = r->buf;
        b->mask = r->mask;
        b->pos = first;
        b->end = end;
        b->count = n;
    }
    return n;
}

START_TEST(test_wrap_padding_and_order)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, 1000, false), 0);
    ck_assert_uint_eq(r.cap, GN_CRING_MIN_BYTES);
    uint32_t next_put = 0, next_get = 0;
    /* Records of varying sizes: padding appears whenever one does not fit
     * before the end; every record must come back whole and in order. */
    for (int round = 0; round < 2000; round++) {
        uint32_t len = 4 + (uint32_t)(round * 37 % 3000);
        while (put_seq(&r, next_put, len))
            next_put++;
        gn_cring_publish(&r);
        gn_batch b;
        uint32_t n = take_batch(&r, &b, 1 + (uint32_t)round % 50);
        ck_assert_uint_gt(n, 0);
        uint32_t seen = 0;
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL; seen++) {
            ck_assert_uint_eq(seq_of(ev), next_get);
            ck_assert_uint_eq((uintptr_t)ev % 8, 0);
            next_get++;
        }
        ck_assert_uint_eq(seen, n);
        gn_cring_release(&r);
    }
    ck_assert_uint_eq(atomic_load(&r.dropped), 0);
    gn_cring_fini(&r);
}
END_TEST

START_TEST(test_oversize_refused)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, GN_CRING_MIN_BYTES, false), 0);
    ck_assert(!put_seq(&r, 1, (uint32_t)r.cap / 2));
    ck_assert_uint_eq(atomic_load(&r.oversize), 1);
    ck_assert(put_seq(&r, 2, (uint32_t)r.cap / 2 - 64));
    gn_cring_fini(&r);
}
END_TEST

START_TEST(test_block_never_overwrites)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, GN_CRING_MIN_BYTES, false), 0);
    uint32_t n = fill_ring(&r);
    ck_assert(!put_seq(&r, n, 100));
    ck_assert_uint_eq(atomic_load(&r.prod_waiting), 1);
    gn_cring_publish(&r);
    gn_batch b;
    ck_assert_uint_eq(take_batch(&r, &b, 1), 1);
    ck_assert_uint_eq(seq_of(gn_batch_next(&b)), 0);
    ck_assert(gn_cring_release(&r));         /* the blocked producer is told */
    ck_assert(!gn_cring_release(&r));        /* once */
    ck_assert(gn_cring_fits(&r, gn_cring_record_size(0, 0, 100)));
    ck_assert_uint_eq(atomic_load(&r.dropped), 0);
    gn_cring_fini(&r);
}
END_TEST

START_TEST(test_drop_oldest_counts_exactly)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, GN_CRING_MIN_BYTES, true), 0);
    const uint32_t total = 10000;
    for (uint32_t i = 0; i < total; i++) {
        ck_assert(put_seq(&r, i, 200));
        if (i % 100 == 0)
            gn_cring_publish(&r);
    }
    gn_cring_publish(&r);
    uint64_t dropped = atomic_load(&r.dropped), got = 0;
    ck_assert_uint_gt(dropped, 0);
    gn_batch b;
    uint32_t last = 0;
    while (take_batch(&r, &b, 64)) {
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL; got++) {
            if (got)
                ck_assert_uint_eq(seq_of(ev), last + 1);    /* the newest survive, contiguous */
            last = seq_of(ev);
        }
        gn_cring_release(&r);
    }
    ck_assert_uint_eq(last, total - 1);
    ck_assert_uint_eq(got + dropped, total);
    gn_cring_fini(&r);
}
END_TEST

START_TEST(test_drop_with_batch_held)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, GN_CRING_MIN_BYTES, true), 0);
    uint32_t n = fill_ring(&r);
    gn_cring_publish(&r);
    gn_batch b;
    ck_assert_uint_eq(take_batch(&r, &b, 1u << 20), n);   /* the consumer holds all */
    ck_assert(!put_seq(&r, n, 100));                        /* the new one is dropped */
    ck_assert_uint_eq(atomic_load(&r.dropped), 1);
    uint32_t seen = 0;
    for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL; seen++)
        ck_assert_uint_eq(seq_of(ev), seen);                /* untouched while held */
    ck_assert_uint_eq(seen, n);
    gn_cring_release(&r);
    ck_assert(put_seq(&r, n + 1, 100));
    gn_cring_fini(&r);
}
END_TEST

START_TEST(test_wakeup_report)
{
    gn_cring r;
    ck_assert_int_eq(gn_cring_init(&r, GN_CRING_MIN_BYTES, false), 0);
    ck_assert(put_seq(&r, 0, 8));
    ck_assert(gn_cring_publish(&r));         /* empty -> non-empty */
    ck_assert(put_seq(&r, 1, 8));
    ck_assert(!gn_cring_publish(&r));        /* not taken yet: no wake-up */
    gn_batch b;
    ck_assert_uint_eq(take_batch(&r, &b, 10), 2);
    gn_cring_release(&r);
    ck_assert_uint_eq(take_batch(&r, &b, 10), 0);  /* found empty */
    ck_assert(put_seq(&r, 2, 8));
    ck_assert(gn_cring_publish(&r));
    gn_cring_fini(&r);
}
END_TEST

/* ---------------------------------------------------------------- threads */

typedef struct stress {
    gn_cring         r;
    uint32_t         total;
    _Atomic int      done;       /* seq_cst: producer finished (after its last publish) */
    uint64_t         got, gaps;
    bool             order_ok;
} stress;

static void *producer(void *arg)
{
    stress *st = arg;
    for (uint32_t i = 0; i < st->total;) {
        uint32_t len = 8 + (i * 13u) % 900u;
        if (!st->r.drop_oldest && !gn_cring_fits(&st->r, gn_cring_record_size(0, 0, len))) {
            gn_cring_publish(&st->r);
            continue;   /* spin until the consumer releases */
        }
        put_seq(&st->r, i, len);    /* drop-oldest: a refused record is counted */
        i++;
        if (i % 16 == 0)
            gn_cring_publish(&st->r);
    }
    gn_cring_publish(&st->r);
    atomic_store(&st->done, 1);
    return NULL;
}

static void *consumer(void *arg)
{
    stress *st = arg;
    int64_t last = -1;
    st->order_ok = true;
    for (;;) {
        int done = atomic_load(&st->done);
        gn_batch b;
        uint32_t n = take_batch(&st->r, &b, 1 + (uint32_t)(st->got % 97));
        for (const gn_event *ev; (ev = gn_batch_next(&b)) != NULL; st->got++) {
            int64_t s = seq_of(ev);
            if (s <= last)
                st->order_ok = false;
            if (s != last + 1)
                st->gaps++;
            last = s;
        }
        if (n)
            gn_cring_release(&st->r);
        else if (done)
            break;
    }
    return NULL;
}

static void run_stress(bool drop)
{
    stress *st = calloc(1, sizeof *st);
    ck_assert_int_eq(gn_cring_init(&st->r, GN_CRING_MIN_BYTES, drop), 0);
    st->total = 200000;
    pthread_t p, c;
    pthread_create(&c, NULL, consumer, st);
    pthread_create(&p, NULL, producer, st);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    ck_assert(st->order_ok);
    uint64_t dropped = atomic_load(&st->r.dropped);
    ck_assert_uint_eq(st->got + dropped, st->total);
    if (!drop) {
        ck_assert_uint_eq(dropped, 0);
        ck_assert_uint_eq(st->gaps, 0);
    }
    gn_cring_fini(&st->r);
    free(st);
}

START_TEST(test_stress_block) { run_stress(false); }
END_TEST

START_TEST(test_stress_drop_oldest) { run_stress(true); }
END_TEST

int main(void)
{
    Suite *s = suite_create("consumer_ring");
    TCase *tc = tcase_create("ring");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_wrap_padding_and_order);
    tcase_add_test(tc, test_oversize_refused);
    tcase_add_test(tc, test_block_never_overwrites);
    tcase_add_test(tc, test_drop_oldest_counts_exactly);
    tcase_add_test(tc, test_drop_with_batch_held);
    tcase_add_test(tc, test_wakeup_report);
    tcase_add_test(tc, test_stress_block);
    tcase_add_test(tc, test_stress_drop_oldest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
