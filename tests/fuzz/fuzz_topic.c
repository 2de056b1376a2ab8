/* tests/fuzz/fuzz_topic.c — libFuzzer target for topic scanning, the
 * topic name / filter rules and splitting: each SIMD scan and slash kernel
 * must agree with the scalar one; gn_topic_name_check, gn_topic_filter_check
 * and gn_topic_split must give the same answer at every forced SIMD level;
 * and a topic that validates must split into levels whose offsets, lengths
 * and XXH3 hashes match a plain split of the input. ASan/UBSan check crash
 * freedom and that nothing past the input is read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "codec/simd.h"
#include "codec/simd/kernels.h"
#include "codec/topic.h"

#include "tests/fuzz/fuzz_check.h"

static bool scan_eq(const gn_topic_scan *a, const gn_topic_scan *b)
{
    return a->slashes == b->slashes && a->has_plus == b->has_plus &&
           a->has_hash == b->has_hash && a->has_nul == b->has_nul;
}

static void kernels_agree(const uint8_t *s, size_t len, size_t cap)
{
    static uint16_t ref_pos[65536], pos[65536];
    gn_topic_scan ref, got;
    bool ref_high = gn_topic_scan_scalar(s, len, &ref);
    size_t ref_n = gn_topic_slashes_scalar(s, len, ref_pos, cap);
    FUZZ_CHECK(ref_n <= cap + 1);
    FUZZ_CHECK(ref_n == (ref.slashes > cap ? cap + 1 : ref.slashes));
    size_t cmp = (ref_n > cap ? cap : ref_n) * sizeof pos[0];

    if (gn_simd_supported(GN_SIMD_SSE42)) {
        FUZZ_CHECK(gn_topic_scan_sse42(s, len, &got) == ref_high && scan_eq(&got, &ref));
        FUZZ_CHECK(gn_topic_slashes_sse42(s, len, pos, cap) == ref_n);
        FUZZ_CHECK(memcmp(pos, ref_pos, cmp) == 0);
    }
    if (gn_simd_supported(GN_SIMD_AVX2)) {
        FUZZ_CHECK(gn_topic_scan_avx2(s, len, &got) == ref_high && scan_eq(&got, &ref));
        FUZZ_CHECK(gn_topic_slashes_avx2(s, len, pos, cap) == ref_n);
        FUZZ_CHECK(memcmp(pos, ref_pos, cmp) == 0);
    }
}

/* A valid split: levels cover s exactly, separated by single '/'. */
static void check_split(const uint8_t *s, size_t len, const gn_levels *lv)
{
    size_t start = 0, count = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '/')
            continue;
        FUZZ_CHECK(count < lv->count);
        FUZZ_CHECK(lv->start[count] == start && lv->len[count] == i - start);
        FUZZ_CHECK(lv->hash[count] == XXH3_64bits(s + start, i - start));
        count++;
        start = i + 1;
    }
    FUZZ_CHECK(count == lv->count);
    FUZZ_CHECK(lv->topic_hash == XXH3_64bits(s, len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gn_levels lv;
    if (size > 65535)
        return 0;
    size_t cap = size ? data[0] : 0;
    kernels_agree(data, size, cap);
    if (size > 1)
        kernels_agree(data + 1, size - 1, 127);

    gn_simd_force(GN_SIMD_SCALAR);
    gn_err name = gn_topic_name_check(data, size);
    gn_err filter = gn_topic_filter_check(data, size);
    gn_err split = gn_topic_split(data, size, &lv);
    uint32_t count = lv.count;
    uint64_t topic_hash = lv.topic_hash;
    if (split == GN_OK)
        check_split(data, size, &lv);
    /* A valid name is a valid filter (unless it reads as a shared
     * subscription: "$share/g" is a fine topic name but a bad filter);
     * a valid filter splits (a shared one: its inner filter). */
    if (name == GN_OK && (size < 7 || memcmp(data, "$share/", 7) != 0))
        FUZZ_CHECK(filter == GN_OK);
    if (filter == GN_OK) {
        bool shared;
        const uint8_t *nm, *in;
        size_t nl, il;
        FUZZ_CHECK(gn_share_parse(data, size, &shared, &nm, &nl, &in, &il) == GN_OK);
        /* A shared filter's depth is its inner filter's: that is what the
         * router splits. */
        if (shared)
            FUZZ_CHECK(gn_topic_split(in, il, &lv) == GN_OK);
        else
            FUZZ_CHECK(split == GN_OK);
    }

    for (int l = GN_SIMD_SSE42; l <= GN_SIMD_AVX2; l++) {
        if ((int)gn_simd_force((gn_simd_level)l) != l)
            continue;
        FUZZ_CHECK(gn_topic_name_check(data, size) == name);
        FUZZ_CHECK(gn_topic_filter_check(data, size) == filter);
        FUZZ_CHECK(gn_topic_split(data, size, &lv) == split);
        if (split == GN_OK) {
            FUZZ_CHECK(lv.count == count && lv.topic_hash == topic_hash);
            check_split(data, size, &lv);
        }
    }

    bool shared;
    const uint8_t *name_p, *inner;
    size_t name_len, inner_len;
    if (gn_share_parse(data, size, &shared, &name_p, &name_len, &inner, &inner_len) == GN_OK && shared) {
        FUZZ_CHECK(name_len > 0 && inner_len > 0);
        FUZZ_CHECK(name_p == data + 7 && inner == name_p + name_len + 1);
        FUZZ_CHECK(inner + inner_len == data + size);
        FUZZ_CHECK(memchr(name_p, '/', name_len) == NULL);
    }
    return 0;
}
