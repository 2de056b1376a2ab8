/* tests/router/test_router_stress.c — concurrency stress: reader threads
 * match (and look up retained messages) while a writer subscribes,
 * unsubscribes, joins/leaves shared groups and replaces retained messages
 * at full speed. Checks: the stable subscriptions are delivered exactly once
 * on every match (nothing lost, nothing duplicated), no session appears
 * twice, retained handles are never read after free (ASan/TSan catch it),
 * and after the churn everything is reclaimed. Run under TSan and ASan. */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rt_util.h"

enum {
    KEYS = 64,               /* topics s/<k>/x */
    STABLE_BASE = 1000,      /* stable session for s/<k>/+ is STABLE_BASE + k */
    STABLE_ALL = 5000,       /* stable session on s/+/x */
    CHURN_BASE = 1000000,    /* churn sessions CHURN_BASE + 0..CHURN_N-1 */
    CHURN_N = 48,
    READERS = 2,
    MSG_MAGIC = 0x5EED,
};

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RUN_SECONDS 3.0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RUN_SECONDS 3.0
#endif
#endif
#ifndef RUN_SECONDS
#define RUN_SECONDS 1.5
#endif

typedef struct rmsg {
    _Atomic int magic;
    int key;
} rmsg;

static gn_router *r;
static atomic_bool stop;
static _Atomic uint64_t msgs_made, msgs_freed, matches_done, retained_seen;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void rmsg_free(void *p)
{
    rmsg *m = p;
    atomic_store_explicit(&m->magic, 0, memory_order_relaxed);
    free(m);
    atomic_fetch_add(&msgs_freed, 1);
}

static void visit(void *ctx, void *p)
{
    rmsg *m = p;
    RT_CHECK(atomic_load_explicit(&m->magic, memory_order_relaxed) == MSG_MAGIC, "freed retained message read");
    RT_CHECK(m->key == *(int *)ctx, "wrong retained message");
    atomic_fetch_add_explicit(&retained_seen, 1, memory_order_relaxed);
}

static void *reader(void *arg)
{
    uint16_t shard = (uint16_t)(uintptr_t)arg;
    gn_router_reader *rd = gn_router_reader_register(r, shard);
    ck_assert_ptr_nonnull(rd);
    static _Thread_local gn_delivery out[512];
    uint64_t x = 0x1234567ull + shard, n_match = 0;
    char topic[32], filt[32];
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int k = (int)((x >> 33) % KEYS);
        snprintf(topic, sizeof topic, "s/%d/x", k);
        uint32_t n = 0;
        const gn_levels *lvp = NULL;
        static _Thread_local gn_levels lv;
        if ((x >> 40) & 1) { /* half the time: caller split + prefetch hint */
            const uint8_t *tp = (const uint8_t *)topic;
            RT_CHECK(gn_topic_split(tp, strlen(topic), &lv) == GN_OK, "split");
            lvp = &lv;
            gn_router_prefetch(rd, 1, &tp, &lvp);
        }
        gn_rerr e = gn_router_match(rd, (const uint8_t *)topic, strlen(topic), lvp,
                                    GN_ROUTER_NO_PUBLISHER, out, 512, &n);
        RT_CHECK(e == GN_ROUTER_OK, "match: %s", gn_rerr_name(e));
        int own = 0, all = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t s = out[i].session;
            if (s == (uint64_t)(STABLE_BASE + k))
                own++;
            else if (s == STABLE_ALL)
                all++;
            else
                RT_CHECK(s >= CHURN_BASE && s < CHURN_BASE + CHURN_N, "stray session %llu",
                              (unsigned long long)s);
            if (!(out[i].flags & GN_DELIVER_SHARED))
                for (uint32_t j = i + 1; j < n; j++)
                    RT_CHECK(out[j].session != s || (out[j].flags & GN_DELIVER_SHARED), "duplicate %llu", (unsigned long long)s);
        }
        RT_CHECK(own == 1, "stable session for key %d delivered %d times", k, own);
        RT_CHECK(all == 1, "s/+/x session delivered %d times", all);
        if ((x >> 20) % 8 == 0) {
            snprintf(filt, sizeof filt, "s/%d/+", k);
            uint64_t v;
            e = gn_router_retained_lookup(rd, (const uint8_t *)filt, strlen(filt), visit, &k, &v);
            RT_CHECK(e == GN_ROUTER_OK, "retained lookup: %s", gn_rerr_name(e));
        }
        n_match++;
        gn_router_quiescent(rd);
        if (n_match % 1024 == 0) { /* exercise offline/online */
            gn_router_offline(rd);
            gn_router_online(rd);
        }
    }
    atomic_fetch_add(&matches_done, n_match);
    gn_router_reader_unregister(rd);
    return NULL;
}

/* Churn filter kinds for session c on key k. */
static void churn_filter(char *f, size_t cap, int kind, int k)
{
    switch (kind) {
    case 0: snprintf(f, cap, "s/%d/x", k); break;
    case 1: snprintf(f, cap, "s/#"); break;
    case 2: snprintf(f, cap, "s/%d/+", k); break;
    case 3: snprintf(f, cap, "$share/g%d/s/+/x", k % 4); break;
    default: snprintf(f, cap, "s/%d/x/deeper/%d", k, k); break;
    }
}

START_TEST(test_readers_never_miss_or_duplicate_while_writer_churns)
{
    r = gn_router_create(NULL);
    ck_assert_ptr_nonnull(r);
    char f[48];
    for (int k = 0; k < KEYS; k++) {
        snprintf(f, sizeof f, "s/%d/+", k);
        ck_assert_int_eq(rt_sub(r, f, STABLE_BASE + k, 1), GN_ROUTER_OK);
    }
    ck_assert_int_eq(rt_sub(r, "s/+/x", STABLE_ALL, 0), GN_ROUTER_OK);
    gn_router_stats st0;
    gn_router_get_stats(r, &st0);

    atomic_store(&stop, false);
    pthread_t th[READERS];
    for (uintptr_t i = 0; i < READERS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, reader, (void *)i), 0);

    /* live[c][kind][k] model of the churn subscriptions */
    static bool live[CHURN_N][5][KEYS];
    memset(live, 0, sizeof live);
    uint64_t x = 42, ops = 0;
    double end = now() + RUN_SECONDS;
    while (now() < end) {
        for (int burst = 0; burst < 256; burst++, ops++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int c = (int)((x >> 33) % CHURN_N), kind = (int)((x >> 40) % 5), k = (int)((x >> 48) % KEYS);
            if (kind == 1 || kind == 3)
                k = kind == 3 ? k % 4 : 0;
            churn_filter(f, sizeof f, kind, k);
            if (live[c][kind][k]) {
                RT_CHECK(rt_unsub(r, f, CHURN_BASE + (uint64_t)c) == GN_ROUTER_OK, "unsub %s", f);
                live[c][kind][k] = false;
            } else {
                RT_CHECK(rt_sub(r, f, CHURN_BASE + (uint64_t)c, (uint8_t)(x % 3)) == GN_ROUTER_OK, "sub %s", f);
                live[c][kind][k] = true;
            }
            if (burst % 8 == 0) {
                int rk = (int)((x >> 24) % KEYS);
                char t[32];
                snprintf(t, sizeof t, "s/%d/x", rk);
                if ((x >> 30) % 4 == 0) {
                    gn_rerr e = gn_router_retain(r, (const uint8_t *)t, strlen(t), NULL, rmsg_free);
                    RT_CHECK(e == GN_ROUTER_OK || e == GN_ROUTER_ERR_NOT_FOUND, "retain delete");
                } else {
                    rmsg *m = malloc(sizeof *m);
                    atomic_init(&m->magic, MSG_MAGIC);
                    m->key = rk;
                    atomic_fetch_add(&msgs_made, 1);
                    gn_rerr e = gn_router_retain(r, (const uint8_t *)t, strlen(t), m, rmsg_free);
                    RT_CHECK(e == GN_ROUTER_OK, "retain");
                }
            }
        }
    }
    atomic_store(&stop, true);
    for (int i = 0; i < READERS; i++)
        pthread_join(th[i], NULL);

    for (int c = 0; c < CHURN_N; c++)
        for (int kind = 0; kind < 5; kind++)
            for (int k = 0; k < KEYS; k++)
                if (live[c][kind][k]) {
                    churn_filter(f, sizeof f, kind, k);
                    RT_CHECK(rt_unsub(r, f, CHURN_BASE + (uint64_t)c) == GN_ROUTER_OK, "unsub %s", f);
                }
    gn_router_synchronize(r, NULL);
    gn_router_stats st;
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.subscriptions, st0.subscriptions);
    ck_assert_uint_eq(st.nodes, st0.nodes);
    ck_assert_uint_eq(st.groups, 0);
    ck_assert_uint_eq(st.reclaim_pending, 0);
    uint64_t m = atomic_load(&matches_done);
    printf("router stress: %llu writer ops, %llu matches, %llu retained visits\n",
           (unsigned long long)ops, (unsigned long long)m,
           (unsigned long long)atomic_load(&retained_seen));
    ck_assert_uint_gt(m, 1000);
    ck_assert_uint_gt(ops, 1000);
    gn_router_destroy(r);
    ck_assert_uint_eq(atomic_load(&msgs_made), atomic_load(&msgs_freed));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router_stress");
    TCase *tc = tcase_create("stress");
    tcase_set_timeout(tc, 110);
    tcase_add_test(tc, test_readers_never_miss_or_duplicate_while_writer_churns);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
