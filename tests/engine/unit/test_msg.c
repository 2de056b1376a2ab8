/* tests/engine/unit/test_msg.c — the refcounted immutable message: one
 * copy of every part, argument checks, expiry helpers, and concurrent
 * unref from many threads freeing exactly once (ASan / TSan). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "engine/msg.h"

static gn_msg_params sample(void)
{
    static const uint8_t props[] = { 0x03, 0x00, 0x04, 't', 'e', 'x', 't' }; /* content type */
    static const uint8_t payload[] = { 0, 1, 2, 3, 255 };
    return (gn_msg_params){
        .topic = "iot-2/type/T/id/I/evt/E/fmt/json", .topic_len = 32,
        .payload = payload, .payload_len = sizeof payload,
        .props = props, .props_len = sizeof props,
        .qos = 1, .retain = true, .payload_format = 0, .origin_shard = 3,
        .origin_id = 0x1122334455667788ull, .received_ms = 1000, .expiry_ms = GN_MSG_NO_EXPIRY,
    };
}

START_TEST(test_new_copies_topic_props_and_payload_once)
{
    gn_msg_params p = sample();
    char topic[64];
    memcpy(topic, p.topic, p.topic_len);
    p.topic = topic;
    gn_msg *m = gn_msg_new(&p);
    ck_assert_ptr_nonnull(m);
    memset(topic, 'x', sizeof topic); /* the message owns its copy */
    ck_assert_str_eq(gn_msg_topic(m), "iot-2/type/T/id/I/evt/E/fmt/json");
    ck_assert_uint_eq(m->topic_len, 32);
    ck_assert_uint_eq(m->props_len, 7);
    ck_assert_mem_eq(gn_msg_props(m), p.props, 7);
    ck_assert_uint_eq(m->payload_len, 5);
    ck_assert_mem_eq(gn_msg_payload(m), p.payload, 5);
    ck_assert_uint_eq(m->qos, 1);
    ck_assert_uint_eq(m->retain, 1);
    ck_assert_uint_eq(m->origin_shard, 3);
    ck_assert_uint_eq(m->origin_id, 0x1122334455667788ull);
    ck_assert_uint_eq(m->received_ms, 1000);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    ck_assert_uint_eq(gn_msg_size(m), sizeof(gn_msg) + 33 + 7 + 5);
    gn_msg_unref(m);
}
END_TEST

START_TEST(test_empty_payload_and_no_props_are_allowed)
{
    gn_msg_params p = { .topic = "a", .topic_len = 1 };
    gn_msg *m = gn_msg_new(&p);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(gn_msg_topic(m), "a");
    ck_assert_uint_eq(m->payload_len, 0);
    ck_assert_uint_eq(m->props_len, 0);
    ck_assert_ptr_eq(gn_msg_payload(m), gn_msg_props(m));
    gn_msg_unref(m);
    gn_msg_unref(NULL);
}
END_TEST

START_TEST(test_new_rejects_bad_arguments)
{
    gn_msg_params p = sample();
    p.qos = 3;
    errno = 0;
    ck_assert_ptr_null(gn_msg_new(&p));
    ck_assert_int_eq(errno, EINVAL);
    p = sample();
    p.payload_format = 2;
    ck_assert_ptr_null(gn_msg_new(&p));
    p = sample();
    p.topic_len = 70000;
    ck_assert_ptr_null(gn_msg_new(&p));
    p = sample();
    p.payload = NULL;
    ck_assert_ptr_null(gn_msg_new(&p));
}
END_TEST

START_TEST(test_ref_and_unref_count)
{
    gn_msg_params p = sample();
    gn_msg *m = gn_msg_new(&p);
    ck_assert_ptr_eq(gn_msg_ref(m), m);
    gn_msg_ref(m);
    ck_assert_uint_eq(gn_msg_refcount(m), 3);
    gn_msg_unref(m);
    gn_msg_unref(m);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m); /* frees: ASan reports a leak otherwise */
}
END_TEST

START_TEST(test_expiry_rounds_remaining_seconds_up)
{
    gn_msg_params p = sample();
    p.expiry_ms = 10000;
    gn_msg *m = gn_msg_new(&p);
    ck_assert(!gn_msg_expired(m, 9999));
    ck_assert(gn_msg_expired(m, 10000));
    ck_assert_uint_eq(gn_msg_remaining_expiry_s(m, 0), 10);
    ck_assert_uint_eq(gn_msg_remaining_expiry_s(m, 1), 10);
    ck_assert_uint_eq(gn_msg_remaining_expiry_s(m, 9001), 1);
    ck_assert_uint_eq(gn_msg_remaining_expiry_s(m, 9999), 1);
    ck_assert_uint_eq(gn_msg_remaining_expiry_s(m, 10000), 0);
    gn_msg_unref(m);
    p.expiry_ms = GN_MSG_NO_EXPIRY;
    m = gn_msg_new(&p);
    ck_assert(!gn_msg_expired(m, UINT64_MAX));
    gn_msg_unref(m);
}
END_TEST

#define NTHREADS 4
#define NMSGS 20000

static gn_msg *shared[NMSGS];

static void *unref_all(void *arg)
{
    (void)arg;
    uint64_t sum = 0;
    for (int i = 0; i < NMSGS; i++) {
        sum += gn_msg_payload(shared[i])[0];  /* read, then release */
        gn_msg_unref(shared[i]);
    }
    return (void *)(uintptr_t)sum;
}

START_TEST(test_concurrent_unref_frees_exactly_once)
{
    for (int i = 0; i < NMSGS; i++) {
        uint8_t b = (uint8_t)i;
        gn_msg_params p = { .topic = "t", .topic_len = 1, .payload = &b, .payload_len = 1 };
        shared[i] = gn_msg_new(&p);
        for (int t = 1; t < NTHREADS; t++)
            gn_msg_ref(shared[i]);
    }
    pthread_t th[NTHREADS];
    for (int t = 0; t < NTHREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, unref_all, NULL), 0);
    uint64_t expect = 0;
    for (int i = 0; i < NMSGS; i++)
        expect += (uint8_t)i;
    for (int t = 0; t < NTHREADS; t++) {
        void *r;
        pthread_join(th[t], &r);
        ck_assert_uint_eq((uintptr_t)r, expect);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("msg");
    TCase *tc = tcase_create("msg");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_new_copies_topic_props_and_payload_once);
    tcase_add_test(tc, test_empty_payload_and_no_props_are_allowed);
    tcase_add_test(tc, test_new_rejects_bad_arguments);
    tcase_add_test(tc, test_ref_and_unref_count);
    tcase_add_test(tc, test_expiry_rounds_remaining_seconds_up);
    tcase_add_test(tc, test_concurrent_unref_frees_exactly_once);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
