/* tests/router/test_router_property.c — the router against the naive
 * reference matcher (ref_match.c) on random topics and filters: small level
 * alphabet (so wildcards overlap a lot), empty levels, '$' first levels,
 * every pair (topic, filter) checked, through the cache and without, then
 * again after random unsubscribes and resubscribes (splits and merges). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref_match.h"
#include "rt_util.h"

enum { NF = 1500, NT = 700, FLEN = 64 };

static uint64_t rng = 0x9E3779B97F4A7C15ull; /* fixed seed */

static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545F4914F6CDD1Dull;
}

static const char *const alpha[] = {"a", "b", "c", "", "dd", "e"};

static void gen(char *out, bool filter)
{
    unsigned levels = 1 + (unsigned)(rnd() % 6);
    size_t p = 0;
    for (unsigned i = 0; i < levels; i++) {
        if (i)
            out[p++] = '/';
        const char *lvl;
        unsigned x = (unsigned)(rnd() % 100);
        if (i == 0 && x < 12)
            lvl = (x & 1) ? "$SYS" : "$x";
        else if (filter && i == levels - 1 && x < 25)
            lvl = "#";
        else if (filter && x < 60)
            lvl = "+";
        else
            lvl = alpha[rnd() % (sizeof alpha / sizeof alpha[0])];
        size_t n = strlen(lvl);
        memcpy(out + p, lvl, n);
        p += n;
    }
    if (p == 0) /* a lone empty level is not a valid topic or filter */
        out[p++] = 'a';
    out[p] = 0;
}

static char filters[NF][FLEN];
static bool live[NF];
static char topics[NT][FLEN];
static gn_delivery out[NF + 16];
static uint8_t hit[NF];

static void subscribe(gn_router *r, unsigned i)
{
    gn_rerr e = rt_sub(r, filters[i], i + 1, (uint8_t)(i % 3));
    RT_CHECK(e == GN_ROUTER_OK, "subscribe '%s': %s", filters[i], gn_rerr_name(e));
    live[i] = true;
}

/* Every (topic, live filter) pair: router == reference. Returns pairs. */
static uint64_t check_all(gn_router_reader *rd, int pass)
{
    uint64_t pairs = 0;
    static gn_levels batch[16];
    for (unsigned t = 0; t < NT; t++) {
        const char *topic = topics[t];
        size_t tl = strlen(topic);
        uint32_t n = 0;
        if (t % 16 == 0) {
            /* odd passes: the batch prefetch hint first (must not change anything) */
            const uint8_t *tp[16];
            const gn_levels *lp[16];
            unsigned nb = NT - t < 16 ? NT - t : 16;
            for (unsigned b = 0; b < nb; b++) {
                tp[b] = (const uint8_t *)topics[t + b];
                lp[b] = &batch[b];
                RT_CHECK(gn_topic_split(tp[b], strlen(topics[t + b]), &batch[b]) == GN_OK, "split");
            }
            if (pass & 1)
                gn_router_prefetch(rd, nb, tp, lp);
        }
        const gn_levels *lvp = &batch[t % 16];
        gn_rerr e = gn_router_match(rd, (const uint8_t *)topic, tl, (pass & 1) ? lvp : NULL,
                                    GN_ROUTER_NO_PUBLISHER, out, NF + 16, &n);
        RT_CHECK(e == GN_ROUTER_OK, "match: %s", gn_rerr_name(e));
        memset(hit, 0, sizeof hit);
        for (uint32_t k = 0; k < n; k++) {
            uint64_t s = out[k].session;
            RT_CHECK(s >= 1 && s <= NF, "stray session");
            RT_CHECK(!hit[s - 1], "duplicate delivery for %s", topic);
            hit[s - 1] = 1;
            RT_CHECK(out[k].qos == (s - 1) % 3, "qos of %llu", (unsigned long long)s);
        }
        for (unsigned f = 0; f < NF; f++) {
            if (!live[f])
                continue;
            bool want = ref_match(topic, tl, filters[f], strlen(filters[f]));
            RT_CHECK(want == hit[f], "topic '%s' filter '%s': router %d reference %d (pass %d)",
                          topic, filters[f], hit[f], want, pass);
            pairs++;
        }
    }
    return pairs;
}

START_TEST(test_router_agrees_with_reference_matcher_on_random_pairs)
{
    gn_router *r = gn_router_create(NULL);
    gn_router_reader *rd = gn_router_reader_register(r, 0);
    gn_router_stats st0, st;
    gn_router_get_stats(r, &st0);
    for (unsigned i = 0; i < NF; i++) {
        gen(filters[i], true);
        subscribe(r, i);
    }
    for (unsigned t = 0; t < NT; t++)
        gen(topics[t], false);
    uint64_t pairs = 0;
    pairs += check_all(rd, 0);   /* misses, router splits */
    pairs += check_all(rd, 1);   /* cache hits, caller levels */
    /* full size under the sanitizers too (about 1 s under ASan) */
    const int rounds = 3;
    for (int round = 0; round < rounds; round++) {
        for (unsigned i = 0; i < NF; i++) {
            if (live[i] && rnd() % 2) {
                RT_CHECK(rt_unsub(r, filters[i], i + 1) == GN_ROUTER_OK, "unsub %s", filters[i]);
                live[i] = false;
            }
        }
        pairs += check_all(rd, 2 + round * 2);
        for (unsigned i = 0; i < NF; i++) {
            if (!live[i] && rnd() % 3 == 0) {
                gen(filters[i], true);
                subscribe(r, i);
            }
        }
        pairs += check_all(rd, 3 + round * 2);
        gn_router_quiescent(rd);
    }
    for (unsigned i = 0; i < NF; i++)
        if (live[i])
            RT_CHECK(rt_unsub(r, filters[i], i + 1) == GN_ROUTER_OK, "unsub %s", filters[i]);
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.nodes, st0.nodes);
    ck_assert_uint_eq(st.bytes, st0.bytes);
    ck_assert_uint_eq(st.subscriptions, 0);
    ck_assert_uint_ge(pairs, 1000000);
    printf("router property: %llu topic/filter pairs checked\n", (unsigned long long)pairs);
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}
END_TEST

START_TEST(test_reference_matcher_itself_follows_the_rules)
{
    ck_assert(ref_match("a/b", 3, "a/#", 3));
    ck_assert(ref_match("a", 1, "a/#", 3));
    ck_assert(!ref_match("ab", 2, "a/#", 3));
    ck_assert(ref_match("a//b", 4, "a/+/b", 5));
    ck_assert(!ref_match("a/b", 3, "a/+/b", 5));
    ck_assert(!ref_match("$SYS/x", 6, "#", 1));
    ck_assert(!ref_match("$SYS/x", 6, "+/x", 3));
    ck_assert(ref_match("$SYS/x", 6, "$SYS/+", 6));
    ck_assert(ref_match("/", 1, "+/+", 3));
    ck_assert(!ref_match("/", 1, "+", 1));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("router_property");
    TCase *tc = tcase_create("property");
    tcase_set_timeout(tc, 110);
    tcase_add_test(tc, test_reference_matcher_itself_follows_the_rules);
    tcase_add_test(tc, test_router_agrees_with_reference_matcher_on_random_pairs);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
