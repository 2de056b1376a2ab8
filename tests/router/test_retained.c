/* tests/router/test_retained.c — the retained store: set, replace, delete by
 * empty payload, wildcard lookup, destructors after the grace period. */
#include "rt_util.h"

#include <stdlib.h>

static gn_router *r;
static gn_router_reader *rd;
static int freed[16];

typedef struct msg {
    int id;
} msg;

static void msg_free(void *p)
{
    msg *m = p;
    freed[m->id]++;
    free(m);
}

static msg *mk(int id)
{
    msg *m = malloc(sizeof *m);
    m->id = id;
    return m;
}

static gn_rerr put(const char *t, int id)
{
    return gn_router_retain(r, (const uint8_t *)t, strlen(t), id ? mk(id) : NULL, msg_free);
}

typedef struct seen {
    int ids[16];
    int n;
} seen;

static void visit(void *ctx, void *m)
{
    seen *s = ctx;
    s->ids[s->n++ % 16] = ((msg *)m)->id;
}

/* Bit mask of the ids a filter finds. */
static unsigned look(const char *f)
{
    seen s = {.n = 0};
    uint64_t k = 0;
    ck_assert_int_eq(gn_router_retained_lookup(rd, (const uint8_t *)f, strlen(f), visit, &s, &k), GN_ROUTER_OK);
    ck_assert_uint_eq(k, (uint64_t)s.n);
    unsigned mask = 0;
    for (int i = 0; i < s.n; i++) {
        ck_assert_msg(!(mask & (1u << s.ids[i])), "id %d visited twice", s.ids[i]);
        mask |= 1u << s.ids[i];
    }
    return mask;
}

static void setup(void)
{
    memset(freed, 0, sizeof freed);
    r = gn_router_create(NULL);
    rd = gn_router_reader_register(r, 0);
    ck_assert_int_eq(put("a", 1), GN_ROUTER_OK);
    ck_assert_int_eq(put("a/b", 2), GN_ROUTER_OK);
    ck_assert_int_eq(put("a/b/c", 3), GN_ROUTER_OK);
    ck_assert_int_eq(put("a/x/c", 4), GN_ROUTER_OK);
    ck_assert_int_eq(put("$SYS/load", 5), GN_ROUTER_OK);
    ck_assert_int_eq(put("a//c", 6), GN_ROUTER_OK);
    ck_assert_int_eq(put("/lead", 7), GN_ROUTER_OK);
}

static void teardown(void)
{
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}

#define B(i) (1u << (i))

START_TEST(test_retained_exact_lookup)
{
    ck_assert_uint_eq(look("a/b"), B(2));
    ck_assert_uint_eq(look("a/q"), 0);
    ck_assert_uint_eq(look("a//c"), B(6));
}
END_TEST

START_TEST(test_retained_wildcard_lookup_follows_mqtt_rules)
{
    ck_assert_uint_eq(look("a/+/c"), B(3) | B(4) | B(6));
    ck_assert_uint_eq(look("a/#"), B(1) | B(2) | B(3) | B(4) | B(6));
    ck_assert_uint_eq(look("#"), B(1) | B(2) | B(3) | B(4) | B(6) | B(7));
    ck_assert_uint_eq(look("+"), B(1));
    ck_assert_uint_eq(look("+/lead"), B(7));
    ck_assert_uint_eq(look("$SYS/#"), B(5));
    ck_assert_uint_eq(look("+/load"), 0);
    ck_assert_uint_eq(look("$share/g/a/b"), B(2));
}
END_TEST

START_TEST(test_retained_replace_frees_old_message_after_grace_period)
{
    ck_assert_int_eq(put("a/b", 8), GN_ROUTER_OK);
    ck_assert_uint_eq(look("a/b"), B(8));
    ck_assert_int_eq(freed[2], 0); /* this reader is online: not yet */
    gn_router_quiescent(rd);
    gn_router_synchronize(r, rd);
    ck_assert_int_eq(freed[2], 1);
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.retained, 7);
}
END_TEST

START_TEST(test_retained_empty_payload_deletes_and_prunes)
{
    ck_assert_int_eq(put("a/b/c", 0), GN_ROUTER_OK);
    ck_assert_int_eq(put("a/b/c", 0), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_int_eq(put("never/set", 0), GN_ROUTER_ERR_NOT_FOUND);
    ck_assert_uint_eq(look("a/b/#"), B(2));
    gn_router_stats st0, st;
    gn_router_get_stats(r, &st0);
    ck_assert_int_eq(put("a/x/c", 0), GN_ROUTER_OK);
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.retained_nodes, st0.retained_nodes - 2);
    ck_assert_int_eq(freed[3], 1);
    ck_assert_int_eq(freed[4], 1);
}
END_TEST

START_TEST(test_retained_invalid_topic_rejected_and_message_kept_by_caller)
{
    msg *m = mk(9);
    ck_assert_int_eq(gn_router_retain(r, (const uint8_t *)"a/+", 3, m, msg_free), GN_ROUTER_ERR_TOPIC_INVALID);
    ck_assert_int_eq(freed[9], 0);
    free(m);
    uint64_t k;
    ck_assert_int_eq(gn_router_retained_lookup(rd, (const uint8_t *)"a/#/b", 5, visit, NULL, &k),
                     GN_ROUTER_ERR_FILTER_INVALID);
}
END_TEST

START_TEST(test_retained_destroy_runs_every_destructor)
{
    teardown();
    for (int i = 1; i <= 7; i++)
        ck_assert_int_eq(freed[i], 1);
    setup(); /* for the fixture's teardown */
}
END_TEST

Suite *router_retained_suite(void)
{
    Suite *s = suite_create("router_retained");
    TCase *tc = tcase_create("retained");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_retained_exact_lookup);
    tcase_add_test(tc, test_retained_wildcard_lookup_follows_mqtt_rules);
    tcase_add_test(tc, test_retained_replace_frees_old_message_after_grace_period);
    tcase_add_test(tc, test_retained_empty_payload_deletes_and_prunes);
    tcase_add_test(tc, test_retained_invalid_topic_rejected_and_message_kept_by_caller);
    tcase_add_test(tc, test_retained_destroy_runs_every_destructor);
    suite_add_tcase(s, tc);
    return s;
}
