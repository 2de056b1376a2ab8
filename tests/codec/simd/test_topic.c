/* tests/codec/simd/test_topic.c — topic scans, name and filter rules,
 * `$share` parsing and level splitting: every SIMD scan kernel against the
 * scalar one (every length 0..300, random input from fixed seeds), the MQTT
 * rules as named cases, and split results (offsets, counts, XXH3 hashes of
 * each slice) at every SIMD level. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "codec/topic.h"
#include "tests/codec/simd/simd_test_util.h"

#define ARENA 70000
static uint8_t *arena;

static void setup(void)
{
    arena = malloc(ARENA);
    ck_assert_ptr_nonnull(arena);
}

static void teardown(void)
{
    free(arena);
    arena = NULL;
    gn_simd_force(GN_SIMD_AVX2);
}

/* Copy s to the very end of the arena: one byte further is a redzone. */
static const uint8_t *at_end(const void *s, size_t len)
{
    uint8_t *p = arena + ARENA - len;
    memmove(p, s, len);
    return p;
}

#define STR(lit) (const uint8_t *)(lit), (sizeof(lit) - 1)

/* Run fn's assertions once at every SIMD level the CPU has. */
#define FOR_EACH_LEVEL(l)                                                       \
    for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++)                        \
        if (gn_simd_supported((gn_simd_level)l) && (int)gn_simd_force((gn_simd_level)l) == l)

static gn_err name_check(const char *t)
{
    size_t n = strlen(t);
    return gn_topic_name_check(at_end(t, n), n);
}

static gn_err filter_check(const char *t)
{
    size_t n = strlen(t);
    return gn_topic_filter_check(at_end(t, n), n);
}

/* A topic of `levels` levels "l/l/.../l". */
static size_t deep_topic(char *buf, unsigned levels, const char *last)
{
    size_t n = 0;
    for (unsigned i = 0; i + 1 < levels; i++) {
        buf[n++] = 'l';
        buf[n++] = '/';
    }
    n += (size_t)sprintf(buf + n, "%s", last);
    return n;
}

/* ---------------------------------------------------------------- scans */

static void expect_scan_equal(const uint8_t *s, size_t len, const char *what)
{
    gn_topic_scan ref;
    const uint8_t *p = at_end(s, len);
    bool ref_high = gn_topic_scan_scalar(p, len, &ref);
    for (size_t k = 1; k < N_KERNELS; k++) {
        if (!gn_simd_supported(all_kernels[k].level))
            continue;
        gn_topic_scan got;
        memset(&got, 0xA5, sizeof got);
        bool high = all_kernels[k].scan(p, len, &got);
        if (high != ref_high || got.slashes != ref.slashes || got.has_plus != ref.has_plus ||
            got.has_hash != ref.has_hash || got.has_nul != ref.has_nul)
            ck_abort_msg("%s len %zu: %s scan differs from scalar", what, len, gn_simd_name(all_kernels[k].level));
    }
}

static void expect_slashes_equal(const uint8_t *s, size_t len, size_t cap, const char *what)
{
    uint16_t ref[300], got[300];
    const uint8_t *p = at_end(s, len);
    size_t nref = gn_topic_slashes_scalar(p, len, ref, cap);
    for (size_t k = 1; k < N_KERNELS; k++) {
        if (!gn_simd_supported(all_kernels[k].level))
            continue;
        size_t n = all_kernels[k].slashes(p, len, got, cap);
        if (n != nref || memcmp(got, ref, (n > cap ? cap : n) * sizeof ref[0]) != 0)
            ck_abort_msg("%s len %zu cap %zu: %s slashes differ (%zu vs %zu)", what, len, cap,
                         gn_simd_name(all_kernels[k].level), n, nref);
    }
}

START_TEST(test_scalar_scan_counts_and_flags)
{
    gn_topic_scan sc;
    ck_assert(!gn_topic_scan_scalar(STR("a/b/+/#"), &sc));
    ck_assert_uint_eq(sc.slashes, 3);
    ck_assert(sc.has_plus && sc.has_hash && !sc.has_nul);
    ck_assert(gn_topic_scan_scalar(STR("\xC3\xA9/\0"), &sc));
    ck_assert_uint_eq(sc.slashes, 1);
    ck_assert(!sc.has_plus && !sc.has_hash && sc.has_nul);
    ck_assert(!gn_topic_scan_scalar(STR(""), &sc));
    ck_assert_uint_eq(sc.slashes, 0);
    uint16_t pos[4];
    ck_assert_uint_eq(gn_topic_slashes_scalar(STR("/a//b/"), pos, 4), 4);
    ck_assert_uint_eq(pos[0], 0);
    ck_assert_uint_eq(pos[1], 2);
    ck_assert_uint_eq(pos[2], 3);
    ck_assert_uint_eq(pos[3], 5);
    ck_assert_uint_eq(gn_topic_slashes_scalar(STR("/a//b/"), pos, 3), 4); /* cap + 1 */
}
END_TEST

START_TEST(test_scan_kernels_match_scalar_at_every_length)
{
    /* One special byte at every position of every length 0..300 around the
     * 16/32/64-byte edges, on an ASCII background. */
    static const uint8_t specials[] = { '/', '+', '#', 0, 0x80, 0xFF, 'a' };
    uint8_t buf[320];
    for (size_t len = 0; len <= 300; len++) {
        for (size_t sp = 0; sp < sizeof specials; sp++) {
            for (size_t pos = 0; pos < len; pos++) {
                memset(buf, 'm', len);
                buf[pos] = specials[sp];
                expect_scan_equal(buf, len, "one special");
                expect_slashes_equal(buf, len, 127, "one special");
            }
        }
        memset(buf, '/', len);
        expect_scan_equal(buf, len, "all slashes");
        expect_slashes_equal(buf, len, 127, "all slashes");
        expect_slashes_equal(buf, len, len / 2, "all slashes, small cap");
    }
}
END_TEST

START_TEST(test_scan_kernels_match_scalar_on_random_topics)
{
    static const uint8_t alphabet[] = { '/', '/', '/', '+', '#', 0, 'a', 'b', 'z', '0', '$', 0x80, 0xC3, 0xA9, 0xFF, ' ' };
    static uint8_t buf[66000];
    uint64_t rng = 0xBADC0DE;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = iter < 19990 ? rng_below(&rng, 400) : 65535 - rng_below(&rng, 100);
        unsigned density = 1 + rng_below(&rng, 16);
        for (size_t i = 0; i < len; i++)
            buf[i] = rng_below(&rng, 16) < density ? alphabet[rng_below(&rng, sizeof alphabet)] : 'q';
        expect_scan_equal(buf, len, "random");
        expect_slashes_equal(buf, len, rng_below(&rng, 200), "random");
    }
}
END_TEST

START_TEST(test_scan_bytes_dispatch_matches_scalar)
{
    static const char t[] = "iot-2/type/T/id/I/evt/E/fmt/json+#";
    FOR_EACH_LEVEL(l) {
        gn_topic_scan sc;
        gn_topic_scan_bytes(at_end(t, sizeof t), sizeof t, &sc); /* includes the NUL */
        ck_assert_uint_eq(sc.slashes, 8);
        ck_assert(sc.has_plus && sc.has_hash && sc.has_nul);
    }
}
END_TEST

/* ---------------------------------------------------------- topic names */

START_TEST(test_name_plain_topics_are_ok)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(name_check("a"), GN_OK);
        ck_assert_int_eq(name_check("a/b"), GN_OK);
        ck_assert_int_eq(name_check("/"), GN_OK);
        ck_assert_int_eq(name_check("a//b"), GN_OK);
        ck_assert_int_eq(name_check("iot-2/type/T/id/I/evt/E/fmt/json"), GN_OK);
        ck_assert_int_eq(name_check("$SYS/broker/uptime"), GN_OK);
        ck_assert_int_eq(name_check("caf\xC3\xA9/\xE6\x97\xA5\xE6\x9C\xAC/\xF0\x9F\x98\x80"), GN_OK);
        ck_assert_int_eq(name_check(" spaces are legal "), GN_OK);
    }
}
END_TEST

START_TEST(test_name_empty_is_topic_empty)
{
    FOR_EACH_LEVEL(l)
        ck_assert_int_eq(gn_topic_name_check(at_end("", 0), 0), GN_ERR_TOPIC_EMPTY);
}
END_TEST

START_TEST(test_name_with_wildcard_is_topic_wildcard)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(name_check("a/+"), GN_ERR_TOPIC_WILDCARD);
        ck_assert_int_eq(name_check("#"), GN_ERR_TOPIC_WILDCARD);
        ck_assert_int_eq(name_check("a/b#"), GN_ERR_TOPIC_WILDCARD);
        ck_assert_int_eq(name_check("a+b"), GN_ERR_TOPIC_WILDCARD);
        ck_assert_int_eq(name_check("\xC3\xA9/+"), GN_ERR_TOPIC_WILDCARD);
        /* A wildcard past the first vector and in the tail. */
        ck_assert_int_eq(name_check("0123456789abcdef0123456789abcdef0123456789abcdef01234567+"),
                         GN_ERR_TOPIC_WILDCARD);
    }
}
END_TEST

START_TEST(test_name_with_nul_or_bad_utf8_is_rejected)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(gn_topic_name_check(at_end("a\0b", 3), 3), GN_ERR_UTF8_NUL);
        ck_assert_int_eq(gn_topic_name_check(at_end("\xC3\xA9\0", 3), 3), GN_ERR_UTF8_NUL);
        ck_assert_int_eq(name_check("a/\xC0\x80"), GN_ERR_UTF8_INVALID);
        ck_assert_int_eq(name_check("a/\xED\xA0\x80"), GN_ERR_UTF8_INVALID);
        ck_assert_int_eq(name_check("\xFF"), GN_ERR_UTF8_INVALID);
        ck_assert_int_eq(name_check("a/\xE2\x82"), GN_ERR_UTF8_INVALID);
    }
}
END_TEST

START_TEST(test_name_depth_limit_is_128_levels)
{
    static char buf[600];
    FOR_EACH_LEVEL(l) {
        size_t n = deep_topic(buf, GN_TOPIC_MAX_LEVELS, "x");
        ck_assert_int_eq(gn_topic_name_check(at_end(buf, n), n), GN_OK);
        n = deep_topic(buf, GN_TOPIC_MAX_LEVELS + 1, "x");
        ck_assert_int_eq(gn_topic_name_check(at_end(buf, n), n), GN_ERR_TOPIC_TOO_DEEP);
        memset(buf, '/', 200);
        ck_assert_int_eq(gn_topic_name_check(at_end(buf, 127), 127), GN_OK);
        ck_assert_int_eq(gn_topic_name_check(at_end(buf, 128), 128), GN_ERR_TOPIC_TOO_DEEP);
    }
}
END_TEST

START_TEST(test_name_check_agrees_across_levels_on_random_topics)
{
    static const uint8_t alphabet[] = { '/', '+', '#', 0, 'a', 'b', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0x80, 0xFF };
    uint8_t buf[300];
    uint64_t rng = 77;
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = rng_below(&rng, 300);
        for (size_t i = 0; i < len; i++)
            buf[i] = rng_below(&rng, 8) ? (uint8_t)('a' + rng_below(&rng, 26)) : alphabet[rng_below(&rng, sizeof alphabet)];
        gn_simd_force(GN_SIMD_SCALAR);
        gn_err want_name = gn_topic_name_check(at_end(buf, len), len);
        gn_err want_filter = gn_topic_filter_check(at_end(buf, len), len);
        FOR_EACH_LEVEL(l) {
            gn_err gn = gn_topic_name_check(at_end(buf, len), len);
            gn_err gf = gn_topic_filter_check(at_end(buf, len), len);
            if (gn != want_name || gf != want_filter)
                ck_abort_msg("iteration %d level %d: name %d/%d filter %d/%d", iter, l, gn, want_name, gf, want_filter);
        }
    }
}
END_TEST

/* ------------------------------------------------------------- filters */

START_TEST(test_filter_wildcards_whole_levels_are_ok)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(filter_check("a/#"), GN_OK);
        ck_assert_int_eq(filter_check("#"), GN_OK);
        ck_assert_int_eq(filter_check("+"), GN_OK);
        ck_assert_int_eq(filter_check("+/+"), GN_OK);
        ck_assert_int_eq(filter_check("a/+/b"), GN_OK);
        ck_assert_int_eq(filter_check("/+"), GN_OK);
        ck_assert_int_eq(filter_check("+/#"), GN_OK);
        ck_assert_int_eq(filter_check("/#"), GN_OK);
        ck_assert_int_eq(filter_check("a//b"), GN_OK);
        ck_assert_int_eq(filter_check("/"), GN_OK);
        ck_assert_int_eq(filter_check("iot-2/type/+/id/+/evt/+/fmt/#"), GN_OK);
    }
}
END_TEST

START_TEST(test_filter_hash_not_alone_is_filter_invalid)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(filter_check("a#"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("#a"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("a/#/b"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("#/"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("##"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("a/b#"), GN_ERR_FILTER_INVALID);
    }
}
END_TEST

START_TEST(test_filter_plus_not_alone_is_filter_invalid)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(filter_check("+a"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("a+"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("a/b+/c"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("++"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("+#"), GN_ERR_FILTER_INVALID);
    }
}
END_TEST

START_TEST(test_filter_empty_nul_utf8_and_depth)
{
    static char buf[600];
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(gn_topic_filter_check(at_end("", 0), 0), GN_ERR_FILTER_EMPTY);
        ck_assert_int_eq(gn_topic_filter_check(at_end("a/\0", 3), 3), GN_ERR_UTF8_NUL);
        ck_assert_int_eq(filter_check("a/\xC1\xBF/#"), GN_ERR_UTF8_INVALID);
        size_t n = deep_topic(buf, GN_TOPIC_MAX_LEVELS, "#");
        ck_assert_int_eq(gn_topic_filter_check(at_end(buf, n), n), GN_OK);
        n = deep_topic(buf, GN_TOPIC_MAX_LEVELS + 1, "#");
        ck_assert_int_eq(gn_topic_filter_check(at_end(buf, n), n), GN_ERR_TOPIC_TOO_DEEP);
        /* The depth of a shared filter is the depth of its inner filter. */
        n = (size_t)sprintf(buf, "$share/g/");
        n += deep_topic(buf + n, GN_TOPIC_MAX_LEVELS, "+");
        ck_assert_int_eq(gn_topic_filter_check(at_end(buf, n), n), GN_OK);
        n = (size_t)sprintf(buf, "$share/g/");
        n += deep_topic(buf + n, GN_TOPIC_MAX_LEVELS + 1, "+");
        ck_assert_int_eq(gn_topic_filter_check(at_end(buf, n), n), GN_ERR_TOPIC_TOO_DEEP);
    }
}
END_TEST

START_TEST(test_filter_shared_subscriptions)
{
    FOR_EACH_LEVEL(l) {
        ck_assert_int_eq(filter_check("$share/g/a/+"), GN_OK);
        ck_assert_int_eq(filter_check("$share/g/#"), GN_OK);
        ck_assert_int_eq(filter_check("$share/group-1/iot-2/type/+/id/+/evt/+/fmt/+"), GN_OK);
        ck_assert_int_eq(filter_check("$share/g//"), GN_OK);
        ck_assert_int_eq(filter_check("$share//a"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/g"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/g/"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/g+/a"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/#/a"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/+/a"), GN_ERR_SHARE_NAME_INVALID);
        ck_assert_int_eq(filter_check("$share/g/a#"), GN_ERR_FILTER_INVALID);
        ck_assert_int_eq(filter_check("$share/g/+a"), GN_ERR_FILTER_INVALID);
        /* Not shared: "$share" without the slash, other prefixes. */
        ck_assert_int_eq(filter_check("$share"), GN_OK);
        ck_assert_int_eq(filter_check("$shared/x/#"), GN_OK);
        ck_assert_int_eq(filter_check("$SHARE/g"), GN_OK);
    }
}
END_TEST

START_TEST(test_share_parse_views)
{
    bool shared = true;
    const uint8_t *name, *inner;
    size_t nl, il;
    const uint8_t *f = at_end("$share/grp/a/+/c", 16);
    ck_assert_int_eq(gn_share_parse(f, 16, &shared, &name, &nl, &inner, &il), GN_OK);
    ck_assert(shared);
    ck_assert_ptr_eq(name, f + 7);
    ck_assert_uint_eq(nl, 3);
    ck_assert_ptr_eq(inner, f + 11);
    ck_assert_uint_eq(il, 5);

    f = at_end("a/b", 3);
    ck_assert_int_eq(gn_share_parse(f, 3, &shared, &name, &nl, &inner, &il), GN_OK);
    ck_assert(!shared);
    ck_assert_ptr_null(name);
    ck_assert_uint_eq(nl + il, 0);

    f = at_end("$share/x", 8);
    ck_assert_int_eq(gn_share_parse(f, 8, &shared, &name, &nl, &inner, &il), GN_ERR_SHARE_NAME_INVALID);
    ck_assert(!shared);
}
END_TEST

/* --------------------------------------------------------------- split */

/* Split by hand and compare every field of *lv. */
static void expect_split(const uint8_t *s, size_t len, const gn_levels *lv, const char *what)
{
    size_t start = 0, count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        if (count >= lv->count || lv->start[count] != start || lv->len[count] != i - start ||
            lv->hash[count] != XXH3_64bits(s + start, i - start))
            ck_abort_msg("%s len %zu: level %zu wrong", what, len, count);
        count++;
        start = i + 1;
    }
    if (count != lv->count || lv->topic_hash != XXH3_64bits(s, len))
        ck_abort_msg("%s len %zu: count %zu vs %u or topic hash wrong", what, len, count, lv->count);
}

START_TEST(test_split_named_cases)
{
    static gn_levels lv;
    FOR_EACH_LEVEL(l) {
        const uint8_t *t = at_end("a//b", 4);
        ck_assert_int_eq(gn_topic_split(t, 4, &lv), GN_OK);
        ck_assert_uint_eq(lv.count, 3);
        ck_assert_uint_eq(lv.start[1], 2);
        ck_assert_uint_eq(lv.len[1], 0);
        ck_assert_uint_eq(lv.start[2], 3);
        ck_assert_uint_eq(lv.len[2], 1);
        ck_assert(lv.hash[2] == XXH3_64bits("b", 1));
        ck_assert(lv.hash[1] == gn_level_hash(t, 0));

        t = at_end("/", 1);
        ck_assert_int_eq(gn_topic_split(t, 1, &lv), GN_OK);
        ck_assert_uint_eq(lv.count, 2);
        ck_assert_uint_eq(lv.len[0] + lv.len[1], 0);
        ck_assert_uint_eq(lv.start[1], 1);

        t = at_end("iot-2/type/T/id/I/evt/E/fmt/json", 32);
        ck_assert_int_eq(gn_topic_split(t, 32, &lv), GN_OK);
        ck_assert_uint_eq(lv.count, 9);
        ck_assert_uint_eq(lv.start[8], 28);
        ck_assert_uint_eq(lv.len[8], 4);
        ck_assert(lv.hash[8] == XXH3_64bits("json", 4));
        ck_assert(lv.topic_hash == XXH3_64bits("iot-2/type/T/id/I/evt/E/fmt/json", 32));
        expect_split(t, 32, &lv, "platform topic");

        ck_assert_int_eq(gn_topic_split(at_end("", 0), 0, &lv), GN_OK);
        ck_assert_uint_eq(lv.count, 1);
        ck_assert_uint_eq(lv.len[0], 0);
    }
}
END_TEST

START_TEST(test_split_depth_limit)
{
    static gn_levels lv;
    static char buf[600];
    FOR_EACH_LEVEL(l) {
        size_t n = deep_topic(buf, GN_TOPIC_MAX_LEVELS, "end");
        ck_assert_int_eq(gn_topic_split(at_end(buf, n), n, &lv), GN_OK);
        ck_assert_uint_eq(lv.count, GN_TOPIC_MAX_LEVELS);
        expect_split(at_end(buf, n), n, &lv, "128 levels");
        n = deep_topic(buf, GN_TOPIC_MAX_LEVELS + 1, "end");
        ck_assert_int_eq(gn_topic_split(at_end(buf, n), n, &lv), GN_ERR_TOPIC_TOO_DEEP);
        memset(buf, '/', 300);
        ck_assert_int_eq(gn_topic_split(at_end(buf, 300), 300, &lv), GN_ERR_TOPIC_TOO_DEEP);
        ck_assert_int_eq(gn_topic_split(at_end(buf, 127), 127, &lv), GN_OK);
        expect_split(at_end(buf, 127), 127, &lv, "127 slashes");
    }
    ck_assert_int_eq(gn_topic_split(arena, 65536, &lv), GN_ERR_TOPIC_TOO_DEEP);
}
END_TEST

START_TEST(test_split_matches_hand_split_at_every_length_and_level)
{
    static gn_levels lv;
    uint8_t buf[320];
    uint64_t rng = 31337;
    FOR_EACH_LEVEL(l) {
        for (size_t len = 0; len <= 300; len++) {
            for (int rep = 0; rep < 6; rep++) {
                unsigned every = 1 + rng_below(&rng, 12);
                for (size_t i = 0; i < len; i++)
                    buf[i] = rng_below(&rng, every) == 0 ? '/' : (uint8_t)('a' + rng_below(&rng, 26));
                const uint8_t *p = at_end(buf, len);
                gn_err e = gn_topic_split(p, len, &lv);
                size_t slashes = 0;
                for (size_t i = 0; i < len; i++)
                    slashes += buf[i] == '/';
                if (slashes >= GN_TOPIC_MAX_LEVELS) {
                    ck_assert_int_eq(e, GN_ERR_TOPIC_TOO_DEEP);
                    continue;
                }
                ck_assert_int_eq(e, GN_OK);
                expect_split(p, len, &lv, "random split");
            }
        }
    }
}
END_TEST


static bool tm(const char *f, const char *t)
{
    return gn_topic_matches((const uint8_t *)f, strlen(f), (const uint8_t *)t, strlen(t));
}

START_TEST(test_matches_wildcards_and_dollar_topics)
{
    ck_assert(tm("a/b", "a/b"));
    ck_assert(!tm("a/b", "a/c"));
    ck_assert(!tm("a/b", "a/b/c"));
    ck_assert(!tm("a/b/c", "a/b"));
    ck_assert(!tm("a/bc", "a/b"));
    ck_assert(tm("a/+", "a/b"));
    ck_assert(!tm("a/+", "a"));
    ck_assert(!tm("a/+", "a/b/c"));
    ck_assert(tm("a/+", "a/"));
    ck_assert(tm("+/+", "/"));
    ck_assert(!tm("+", "/"));
    ck_assert(tm("a/#", "a"));
    ck_assert(tm("a/#", "a/b/c"));
    ck_assert(!tm("a/#", "ab"));
    ck_assert(tm("#", "a/b"));
    ck_assert(tm("+/b/#", "x/b"));
    ck_assert(tm("iot-2/type/+/id/+/evt/+/fmt/+", "iot-2/type/t/id/d/evt/e/fmt/json"));
    ck_assert(!tm("iot-2/type/+/id/+/evt/+/fmt/+", "iot-2/type/t/id/d/cmd/e/fmt/json"));
    ck_assert(!tm("#", "$SYS/x"));
    ck_assert(!tm("+/x", "$SYS/x"));
    ck_assert(tm("$SYS/#", "$SYS/x"));
}
END_TEST

static Suite *topic_suite(void)
{
    Suite *s = suite_create("topic");
    TCase *tc = tcase_create("topic");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_scalar_scan_counts_and_flags);
    tcase_add_test(tc, test_scan_kernels_match_scalar_at_every_length);
    tcase_add_test(tc, test_scan_kernels_match_scalar_on_random_topics);
    tcase_add_test(tc, test_scan_bytes_dispatch_matches_scalar);
    tcase_add_test(tc, test_name_plain_topics_are_ok);
    tcase_add_test(tc, test_name_empty_is_topic_empty);
    tcase_add_test(tc, test_name_with_wildcard_is_topic_wildcard);
    tcase_add_test(tc, test_name_with_nul_or_bad_utf8_is_rejected);
    tcase_add_test(tc, test_name_depth_limit_is_128_levels);
    tcase_add_test(tc, test_name_check_agrees_across_levels_on_random_topics);
    tcase_add_test(tc, test_filter_wildcards_whole_levels_are_ok);
    tcase_add_test(tc, test_filter_hash_not_alone_is_filter_invalid);
    tcase_add_test(tc, test_filter_plus_not_alone_is_filter_invalid);
    tcase_add_test(tc, test_filter_empty_nul_utf8_and_depth);
    tcase_add_test(tc, test_filter_shared_subscriptions);
    tcase_add_test(tc, test_share_parse_views);
    tcase_add_test(tc, test_split_named_cases);
    tcase_add_test(tc, test_split_depth_limit);
    tcase_add_test(tc, test_split_matches_hand_split_at_every_length_and_level);
    tcase_add_test(tc, test_matches_wildcards_and_dollar_topics);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(topic_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
