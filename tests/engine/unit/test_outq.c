/* tests/engine/unit/test_outq.c — a connection's outbound queue: bytes come
 * out in order through iovecs across chunk boundaries and short writes,
 * referenced payloads hold their message until written, reservations are
 * contiguous, an empty queue holds no memory and the chunk pool keeps at
 * most max_free chunks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/outq.h"

/* Write out everything queued, `step` bytes per "sendmsg", into out. */
static size_t drain(gn_outq *q, gn_opool *p, uint8_t *out, size_t cap, size_t step)
{
    size_t n = 0;
    while (!gn_outq_empty(q)) {
        struct iovec iov[8];
        size_t cnt = gn_outq_iov(q, iov, 8);
        ck_assert_uint_gt(cnt, 0);
        size_t w = 0;
        for (size_t i = 0; i < cnt && w < step; i++) {
            size_t take = iov[i].iov_len < step - w ? iov[i].iov_len : step - w;
            ck_assert_uint_le(n + take, cap);
            memcpy(out + n, iov[i].iov_base, take);
            n += take;
            w += take;
        }
        gn_outq_consume(q, p, w);
    }
    return n;
}

START_TEST(test_bytes_come_out_in_order_across_chunks_and_short_writes)
{
    static const size_t steps[] = { 1, 7, 1000, 3000, 1 << 20 };
    for (size_t si = 0; si < sizeof steps / sizeof steps[0]; si++) {
        gn_opool p;
        gn_opool_init(&p, 16);
        gn_outq q = {0};
        uint8_t *want = malloc(200000), *got = malloc(200000);
        size_t n = 0;
        for (uint32_t i = 0; n < 190000; i++) {
            size_t len = (i * 37u) % 3000 + 1;   /* some larger than a chunk */
            for (size_t k = 0; k < len; k++)
                want[n + k] = (uint8_t)(i + k);
            ck_assert_int_eq(gn_outq_put(&q, &p, want + n, len), 0);
            n += len;
        }
        ck_assert_uint_eq(q.bytes, n);
        ck_assert_uint_eq(drain(&q, &p, got, 200000, steps[si]), n);
        ck_assert_mem_eq(got, want, n);
        ck_assert_uint_eq(q.bytes, 0);
        ck_assert_ptr_null(q.items);     /* empty holds no memory */
        ck_assert_ptr_null(q.tail);
        ck_assert_uint_le(p.nfree, 16);  /* the pool keeps at most max_free */
        gn_opool_drain(&p);
        ck_assert_uint_eq(p.nfree, 0);
        free(want);
        free(got);
    }
}
END_TEST

static gn_msg *payload_msg(size_t len)
{
    uint8_t *pl = malloc(len);
    for (size_t i = 0; i < len; i++)
        pl[i] = (uint8_t)(i * 13);
    gn_msg_params mp = { .topic = "t", .topic_len = 1, .payload = pl, .payload_len = len,
                         .expiry_ms = GN_MSG_NO_EXPIRY };
    gn_msg *m = gn_msg_new(&mp);
    free(pl);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(test_referenced_payload_holds_the_message_until_written)
{
    gn_opool p;
    gn_opool_init(&p, 4);
    gn_outq q = {0};
    gn_msg *m = payload_msg(5000);
    ck_assert_int_eq(gn_outq_put(&q, &p, "HDR", 3), 0);
    ck_assert_int_eq(gn_outq_put_ref(&q, &p, m, gn_msg_payload(m), m->payload_len), 0);
    ck_assert_int_eq(gn_outq_put(&q, &p, "END", 3), 0);
    ck_assert_uint_eq(gn_msg_refcount(m), 2);
    struct iovec iov[8];
    size_t cnt = gn_outq_iov(&q, iov, 8);
    ck_assert_uint_eq(cnt, 3);
    ck_assert_ptr_eq(iov[1].iov_base, gn_msg_payload(m));   /* not copied */
    gn_outq_consume(&q, &p, 3 + 4999);                       /* one byte of the payload left */
    ck_assert_uint_eq(gn_msg_refcount(m), 2);
    cnt = gn_outq_iov(&q, iov, 8);
    ck_assert_uint_eq(iov[0].iov_len, 1);
    ck_assert_uint_eq(*(const uint8_t *)iov[0].iov_base, (uint8_t)(4999 * 13));
    gn_outq_consume(&q, &p, 1);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);             /* released once written */
    gn_outq_consume(&q, &p, 3);
    ck_assert(gn_outq_empty(&q));
    /* clear releases what was never written */
    ck_assert_int_eq(gn_outq_put_ref(&q, &p, m, gn_msg_payload(m), 100), 0);
    ck_assert_uint_eq(gn_msg_refcount(m), 2);
    gn_outq_clear(&q, &p);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    ck_assert_uint_eq(q.bytes, 0);
    gn_msg_unref(m);
    gn_opool_drain(&p);
}
END_TEST

START_TEST(test_reserve_is_contiguous_and_extends_the_queue)
{
    gn_opool p;
    gn_opool_init(&p, 4);
    gn_outq q = {0};
    uint8_t want[6000];
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        size_t len = (size_t)(i * 11) % 200 + 1;
        uint8_t *r = gn_outq_reserve(&q, &p, len);
        ck_assert_ptr_nonnull(r);
        for (size_t k = 0; k < len; k++)
            want[n + k] = r[k] = (uint8_t)(i ^ k);
        n += len;
    }
    ck_assert_uint_eq(q.bytes, n);
    uint8_t got[6000];
    ck_assert_uint_eq(drain(&q, &p, got, sizeof got, 64), n);
    ck_assert_mem_eq(got, want, n);
    gn_opool_drain(&p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("outq");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_bytes_come_out_in_order_across_chunks_and_short_writes);
    tcase_add_test(tc, test_referenced_payload_holds_the_message_until_written);
    tcase_add_test(tc, test_reserve_is_contiguous_and_extends_the_queue);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
