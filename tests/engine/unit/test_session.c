/* tests/engine/unit/test_session.c — a shard's sessions without any I/O:
 * ids carry the shard and a generation (a stale id is rejected after the
 * slot is reused), the client-id registry finds short (inline) and long
 * ids through growth and deletions, and an offline session's QoS >= 1
 * queue is bounded (extra messages dropped and counted, never queued),
 * which is also what gn_session_overloaded reports to the shared-group
 * re-pick, and a shared-group member whose session ends hands its queued
 * shared messages to another member (engine/shared_handback.c) or, as the
 * last one, counts them; in platform mode each subscription's lane is
 * bounded on its own and a full one drops its oldest (S-086). Links the
 * static libgannet. */
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
    ck_assert_uint_eq(gn_subq_count(&ss->fl->queue), 5);
    ck_assert_uint_eq(gn_msg_refcount(m1), 6);            /* ours + 5 queued */
    /* QoS 0 to a session without a connection: dropped, and overloaded */
    ck_assert(gn_session_overloaded(&sh, ss, 0));
    ck_assert(!gn_session_deliver(&sh, ss, m0, 0, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(gn_msg_refcount(m0), 1);
    /* the granted QoS is capped by the message's: a QoS 0 message is not queued */
    ck_assert(!gn_session_deliver(&sh, ss, m0, 1, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(gn_subq_count(&ss->fl->queue), 5);
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

/* A member of a shared group as mqtt_subscribe.c makes one: queue-depth
 * counter, router membership, the filter in the session's list. */
static void join(gn_session *ss, const char *filter)
{
    ss->qdepth = malloc(sizeof *ss->qdepth);
    ck_assert_ptr_nonnull(ss->qdepth);
    atomic_init(ss->qdepth, 0);
    bool existed;
    size_t len = strlen(filter);
    ck_assert_uint_eq(gn_route_subscribe(&sh.rc, ss->sid, (const uint8_t *)filter, len, 1, 0,
                                         ss->qdepth, &existed), 1);
    ss->subs = malloc(sizeof *ss->subs);
    ck_assert_ptr_nonnull(ss->subs);
    ss->subs[0] = (gn_ssub){ .filter = strdup(filter), .len = (uint16_t)len, .opts = 1 };
    ss->nsubs = ss->capsubs = 1;
}

START_TEST(test_ending_member_hands_its_shared_messages_to_another_member)
{
    struct gn_router *r = gn_route_create(4, 100);
    ck_assert_ptr_nonnull(r);
    ck_assert_int_eq(gn_route_reader_register(&sh.rc, r, 3), 0);
    gn_session *a = new_session("member-a"), *b = new_session("member-b");
    join(a, "$share/g/t/1");
    join(b, "$share/g/t/1");
    gn_msg *m = msg(1), *plain = msg(1);
    for (int i = 0; i < 3; i++)
        ck_assert(gn_session_deliver(&sh, a, m, 1, GN_RD_SHARED, NULL, 0, 0, 0));
    /* not from a group: stays with a, goes with a */
    ck_assert(gn_session_deliver(&sh, a, plain, 1, 0, NULL, 0, 0, 0));
    gn_session_destroy(&sh, a);
    ck_assert_uint_eq(gn_subq_count(&b->fl->queue), 3);
    ck_assert_uint_eq(atomic_load(&sh.stats.shared_handed_back), 3);
    ck_assert_uint_eq(atomic_load(&sh.stats.shared_orphaned), 0);
    ck_assert_uint_eq(gn_msg_refcount(m), 4);             /* ours + b's three */
    ck_assert_uint_eq(gn_msg_refcount(plain), 1);
    /* the last member: nobody to take them, counted */
    gn_session_destroy(&sh, b);
    ck_assert_uint_eq(atomic_load(&sh.stats.shared_orphaned), 3);
    ck_assert_uint_eq(gn_msg_refcount(m), 1);
    gn_msg_unref(m);
    gn_msg_unref(plain);
    gn_route_reader_unregister(&sh.rc);
    gn_route_destroy(r);
}
END_TEST

static gn_msg *msg_on(const char *topic)
{
    gn_msg_params mp = { .topic = topic, .topic_len = strlen(topic), .payload = (const uint8_t *)"x",
                         .payload_len = 1, .qos = 1, .expiry_ms = GN_MSG_NO_EXPIRY };
    gn_msg *m = gn_msg_new(&mp);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Two subscriptions held by hand (no router in this test). */
static void give_subs(gn_session *ss, const char *a, const char *b)
{
    ss->subs = calloc(2, sizeof *ss->subs);
    ck_assert_ptr_nonnull(ss->subs);
    ss->subs[0] = (gn_ssub){ .filter = strdup(a), .len = (uint16_t)strlen(a), .opts = 1 };
    ss->subs[1] = (gn_ssub){ .filter = strdup(b), .len = (uint16_t)strlen(b), .opts = 1 };
    ss->nsubs = ss->capsubs = 2;
}

static void take_subs(gn_session *ss)
{
    for (uint32_t i = 0; i < ss->nsubs; i++)
        free(ss->subs[i].filter);
    free(ss->subs);
    ss->subs = NULL;
    ss->nsubs = ss->capsubs = 0;
}

START_TEST(test_platform_queue_drops_the_full_subscriptions_oldest_only)
{
    gn_session *ss = new_session("d:org:t:x");
    ss->plat_qdepth = 3;
    give_subs(ss, "o/evt/+", "o/cmd/#");
    gn_msg *ev = msg_on("o/evt/e"), *cmd = msg_on("o/cmd/c/fmt/json");
    /* more than max_queued_messages (5) in all: platform lanes have their own bound */
    ck_assert(gn_session_deliver(&sh, ss, cmd, 1, 0, NULL, 0, 0, 0));
    for (int i = 0; i < 10; i++)
        ck_assert(gn_session_deliver(&sh, ss, ev, 1, 0, NULL, 0, 0, 0));
    ck_assert(gn_session_deliver(&sh, ss, cmd, 1, 0, NULL, 0, 0, 0));
    gn_subq *q = &ss->fl->queue;
    ck_assert_uint_eq(gn_subq_lanes(q), 2);
    ck_assert_uint_eq(gn_subq_lane_count(q, (uint64_t)(uintptr_t)ss->subs[0].filter), 3);
    ck_assert_uint_eq(gn_subq_lane_count(q, (uint64_t)(uintptr_t)ss->subs[1].filter), 2);
    ck_assert_uint_eq(atomic_load(&sh.stats.queue_dropped_oldest), 7);
    ck_assert_uint_eq(atomic_load(&sh.stats.qos1_dropped_offline), 0);
    ck_assert_uint_eq(ss->queue_dropped, 7);
    ck_assert_uint_eq(gn_msg_refcount(ev), 1 + 3);
    /* the order out: the first command, the last three events, the second command */
    gn_qent e;
    const gn_msg *want[] = { cmd, ev, ev, ev, cmd };
    for (int i = 0; i < 5; i++) {
        ck_assert(gn_subq_pop(q, &e));
        ck_assert_ptr_eq(e.msg, want[i]);
        gn_msg_unref(e.msg);
    }
    /* a topic no subscription matches any longer goes to the shared lane 0 */
    gn_msg *other = msg_on("o/mon/x");
    ck_assert(gn_session_deliver(&sh, ss, other, 1, 0, NULL, 0, 0, 0));
    ck_assert_uint_eq(gn_subq_lane_count(q, 0), 1);
    take_subs(ss);
    gn_session_destroy(&sh, ss);
    ck_assert_uint_eq(gn_msg_refcount(other), 1);
    gn_msg_unref(ev);
    gn_msg_unref(cmd);
    gn_msg_unref(other);
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
    tcase_add_test(tc, test_ending_member_hands_its_shared_messages_to_another_member);
    tcase_add_test(tc, test_platform_queue_drops_the_full_subscriptions_oldest_only);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
