/* tests/engine/unit/test_session.c — a shard's sessions without any I/O:
 * ids carry the shard and a generation (a stale id is rejected after the
 * slot is reused), the client-id registry finds short (inline) and long
 * ids through growth and deletions, and an offline session's QoS >= 1
 * queue is bounded (extra messages dropped and counted, never queued),
 * which is also what gn_session_overloaded reports to the shared-group
 * re-pick. Links the static libgannet. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_int.h"
#include "engine/session.h"
#include "engine/shard.h"

static gn_engine eng;
static gn_shard sh;

static void setup(void)
{
    memset(&eng, 0, sizeof eng);
    memset(&sh, 0, sizeof sh);
    gn_config_defaults(&eng.cfg);
    eng.cfg.max_queued_messages = 5;
    eng.nshards = 4;
    sh.eng = &eng;
    sh.cfg = eng.cfg;
    sh.id = 3;
    sh.nshards = 4;
    ck_assert_int_eq(gn_slab_init(&sh.sess_slab, "session", sizeof(gn_session), 0), 0);
    ck_assert_int_eq(gn_slab_init(&sh.conn_slab, "conn", sizeof(gn_conn), 0), 0);
    gn_opool_init(&sh.opool, 16);
    ck_assert_int_eq(gn_sessions_init(&sh), 0);
    gn_timer_wheel_init(&sh.tw, 0, &sh);
}

static void teardown(void)
{
    gn_sessions_fini(&sh);
    gn_opool_drain(&sh.opool);
    gn_slab_destroy(&sh.sess_slab);
    gn_slab_destroy(&sh.conn_slab);
}

static gn_session *new_session(const char *cid)
{
    gn_session *ss = gn_session_new(&sh, (const uint8_t *)cid, strlen(cid));
    ck_assert_ptr_nonnull(ss);
    return ss;
}

START_TEST(test_ids_carry_shard_and_generation)
{
    gn_session *a = new_session("a"), *b = new_session("b");
    ck_assert_uint_eq(a->sid >> 48, 3);
    ck_assert_uint_ne(a->sid, b->sid);
    ck_assert_ptr_eq(gn_session_by_id(&sh, a->sid), a);
    uint64_t old = a->sid;
    gn_session_destroy(&sh, a);
    ck_assert_ptr_null(gn_session_by_id(&sh, old));
    gn_session *c = new_session("c");          /* reuses a's slot */
    ck_assert_uint_eq((uint32_t)c->sid, (uint32_t)old);
    ck_assert_uint_ne(c->sid, old);             /* ... with a new generation */
    ck_assert_ptr_null(gn_session_by_id(&sh, old));
    ck_assert_ptr_eq(gn_session_by_id(&sh, c->sid), c);
    /* an id of another shard is never found here */
    ck_assert_ptr_null(gn_session_by_id(&sh, (c->sid & ~(UINT64_C(0xFFFF) << 48)) | (UINT64_C(2) << 48)));
}
END_TEST

START_TEST(test_registry_finds_inline_and_long_ids_through_growth_and_deletes)
{
    enum { N = 3000 };
    static gn_session *all[N];
    char cid[64];
    for (int i = 0; i < N; i++) {
        snprintf(cid, sizeof cid, i % 2 ? "d%d" : "a-much-longer-client-identifier-%08d", i);
        all[i] = new_session(cid);
    }
    for (int i = 0; i < N; i += 3)
        gn_session_destroy(&sh, all[i]);
    for (int i = 0; i < N; i++) {
        snprintf(cid, sizeof cid, i % 2 ? "d%d" : "a-much-longer-client-identifier-%08d", i);
        gn_session *f = gn_session_find(&sh, (const uint8_t *)cid, strlen(cid));
        if (i % 3 == 0) {
            ck_assert_ptr_null(f);
        } else {
            ck_assert_ptr_eq(f, all[i]);
            ck_assert_str_eq(f->client_id, cid);
        }
    }
    ck_assert_ptr_null(gn_session_find(&sh, (const uint8_t *)"nobody", 6));
}
END_TEST

static gn_msg *msg(uint8_t qos)
{
    gn_msg_params mp = { .topic = "t/1", .topic_len = 3, .payload = (const uint8_t *)"x",
                         .payload_len = 1, .qos = qos, .expiry_ms = GN_MSG_NO_EXPIRY };
    gn_msg *m = gn_msg_new(&mp);
    ck_assert_ptr_nonnull(m);
    return m;
}

START_TEST(test_offline_queue_is_bounded_and_reported_overloaded)
{
    gn_session *ss = new_session("offline");
    gn_msg *m1 = msg(1), *m0 = msg(0);
    for (uint32_t i = 0; i < 5; i++) {
        ck_assert(!gn_session_overloaded(&sh, ss, 1));
        ck_assert(gn_session_deliver(&sh, ss, m1, 1, 0, NULL, 0, 0, 0));
    }
    ck_assert(gn_session_overloaded(&sh, ss, 1));
    ck_assert(!gn_session_deliver(&sh, ss, m1, 1, 0, NULL, 0, 0, 0));
    ck_assert(!gn_session_deliver(&sh, ss, m1, 1, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(atomic_load(&sh.stats.qos1_dropped_offline), 2);
    ck_assert_uint_eq(ss->fl->queue.count, 5);
    ck_assert_uint_eq(gn_msg_refcount(m1), 6);            /* ours + 5 queued */
    /* QoS 0 to a session without a connection: dropped, and overloaded */
    ck_assert(gn_session_overloaded(&sh, ss, 0));
    ck_assert(!gn_session_deliver(&sh, ss, m0, 0, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(gn_msg_refcount(m0), 1);
    /* the granted QoS is capped by the message's: a QoS 0 message is not queued */
    ck_assert(!gn_session_deliver(&sh, ss, m0, 1, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(ss->fl->queue.count, 5);
    gn_session_destroy(&sh, ss);
    ck_assert_uint_eq(gn_msg_refcount(m1), 1);            /* the queue's references went with it */
    gn_msg_unref(m1);
    gn_msg_unref(m0);
}
END_TEST

START_TEST(test_expired_message_is_not_queued)
{
    gn_session *ss = new_session("exp");
    gn_msg_params mp = { .topic = "t", .topic_len = 1, .qos = 1, .expiry_ms = 10 };
    gn_msg *m = gn_msg_new(&mp);
    sh.now_ms = 11;
    ck_assert(!gn_session_deliver(&sh, ss, m, 1, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ids_carry_shard_and_generation);
    tcase_add_test(tc, test_registry_finds_inline_and_long_ids_through_growth_and_deletes);
    tcase_add_test(tc, test_offline_queue_is_bounded_and_reported_overloaded);
    tcase_add_test(tc, test_expired_message_is_not_queued);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
