/* tests/codec/simd/test_utf8.c — UTF-8 validation: the scalar reference
 * against an independent code-point oracle, and every SIMD kernel this CPU
 * can run against the scalar reference, on exhaustive short sequences,
 * every invalid class at every position of every length 0..300, NUL at every
 * position, and random input from fixed seeds. Inputs are placed at the end
 * of a heap block so that ASan catches any read past the string. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/codec/simd/simd_test_util.h"

#define ARENA 8192
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
}

/* Copy s to the very end of the arena: one byte further is a redzone. */
static const uint8_t *at_end(const uint8_t *s, size_t len)
{
    uint8_t *p = arena + ARENA - len;
    memmove(p, s, len);
    return p;
}

/* Independent oracle: decode code points arithmetically and apply the
 * rules (shortest form, no surrogates, <= U+10FFFF, no U+0000). */
static gn_err oracle(const uint8_t *s, size_t n)
{
    static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    bool nul = false;
    size_t i = 0;

    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            cp = c, k = 1;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1Fu, k = 2;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0Fu, k = 3;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07u, k = 4;
        } else {
            return GN_ERR_UTF8_INVALID;
        }
        if (n - i < k)
            return GN_ERR_UTF8_INVALID;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return GN_ERR_UTF8_INVALID;
            cp = cp << 6 | (s[i + j] & 0x3Fu);
        }
        if (k > 1 && cp < min_cp[k])
            return GN_ERR_UTF8_INVALID;
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return GN_ERR_UTF8_INVALID;
        nul |= cp == 0;
        i += k;
    }
    return nul ? GN_ERR_UTF8_NUL : GN_OK;
}

/* Every supported kernel must return `want` for s[0..len) placed at the end
 * of the arena. ck_abort only on failure: ck_assert per call is too slow
 * for millions of inputs. */
static void expect_all(const uint8_t *s, size_t len, gn_err want, const char *what, size_t a, size_t b)
{
    const uint8_t *p = at_end(s, len);
    for (size_t k = 0; k < N_KERNELS; k++) {
        if (!gn_simd_supported(all_kernels[k].level))
            continue;
        gn_err got = all_kernels[k].utf8(p, len);
        if (got != want)
            ck_abort_msg("%s (%zu, %zu) len %zu: %s kernel returned %d, want %d", what, a, b, len,
                         gn_simd_name(all_kernels[k].level), (int)got, (int)want);
    }
}

START_TEST(test_cpu_levels_are_supported_in_order)
{
    ck_assert(gn_simd_supported(GN_SIMD_SCALAR));
    if (gn_simd_supported(GN_SIMD_AVX2))
        ck_assert(gn_simd_supported(GN_SIMD_SSE42));
    ck_assert(!gn_simd_supported((gn_simd_level)3));
    ck_assert_str_eq(gn_simd_name(GN_SIMD_SCALAR), "scalar");
    ck_assert_str_eq(gn_simd_name(GN_SIMD_SSE42), "sse4.2");
    ck_assert_str_eq(gn_simd_name(GN_SIMD_AVX2), "avx2");
    /* This machine (x86-64 with AVX2 and AVX-512) must run every kernel:
     * a detection bug that silently fell back to scalar would hide the
     * vector code from every other test. */
    __builtin_cpu_init();
    ck_assert(!!__builtin_cpu_supports("avx2") == gn_simd_supported(GN_SIMD_AVX2));
    ck_assert(!!__builtin_cpu_supports("sse4.2") == gn_simd_supported(GN_SIMD_SSE42));
}
END_TEST

START_TEST(test_force_clamps_and_dispatch_follows)
{
    static const uint8_t bad[] = "abc\xC0\x80";
    for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++) {
        gn_simd_level got = gn_simd_force((gn_simd_level)l);
        ck_assert_int_le(got, l);
        ck_assert(gn_simd_supported(got));
        ck_assert_int_eq(gn_simd_active(), got);
        ck_assert_int_eq(gn_utf8_check((const uint8_t *)"h\xC3\xA9llo", 6), GN_OK);
        ck_assert_int_eq(gn_utf8_check(bad, sizeof bad - 1), GN_ERR_UTF8_INVALID);
        ck_assert_int_eq(gn_utf8_check((const uint8_t *)"a\0b", 3), GN_ERR_UTF8_NUL);
    }
    ck_assert_int_eq(gn_simd_force((gn_simd_level)7), gn_simd_supported(GN_SIMD_AVX2) ? GN_SIMD_AVX2
                     : gn_simd_supported(GN_SIMD_SSE42) ? GN_SIMD_SSE42 : GN_SIMD_SCALAR);
}
END_TEST

START_TEST(test_env_gannet_simd_caps_the_level)
{
    static const struct { const char *v; gn_simd_level want; } cases[] = {
        { "scalar", GN_SIMD_SCALAR }, { "sse42", GN_SIMD_SSE42 },
        { "sse4.2", GN_SIMD_SSE42 }, { "avx2", GN_SIMD_AVX2 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setenv("GANNET_SIMD", cases[i].v, 1);
        gn_simd_reset_for_tests();
        gn_simd_init();
        gn_simd_level want = cases[i].want;
        while (!gn_simd_supported(want))
            want = (gn_simd_level)(want - 1);
        ck_assert_msg(gn_simd_active() == want, "GANNET_SIMD=%s", cases[i].v);
    }
    setenv("GANNET_SIMD", "bogus", 1);
    gn_simd_reset_for_tests();
    ck_assert(gn_simd_supported(gn_simd_active()));
    ck_assert_int_eq(gn_simd_force((gn_simd_level)7), gn_simd_active());
    unsetenv("GANNET_SIMD");
    gn_simd_reset_for_tests();
}
END_TEST

START_TEST(test_scalar_matches_oracle_on_every_one_and_two_byte_string)
{
    uint8_t b[2];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (uint8_t)x;
        gn_err want = oracle(b, 1);
        ck_assert_int_eq(want, x == 0 ? GN_ERR_UTF8_NUL : x < 0x80 ? GN_OK : GN_ERR_UTF8_INVALID);
        expect_all(b, 1, want, "1-byte", x, 0);
    }
    /* Standalone, and straddling the 16-, 32- and 64-byte vector edges. */
    uint8_t buf[80];
    for (unsigned x = 0; x < 65536; x++) {
        b[0] = (uint8_t)(x >> 8);
        b[1] = (uint8_t)x;
        gn_err want = oracle(b, 2);
        expect_all(b, 2, want, "2-byte", b[0], b[1]);
        size_t off = (size_t[]){ 15, 31, 63, 14, 30, 62 }[x % 6];
        memset(buf, 'a', sizeof buf);
        memcpy(buf + off, b, 2);
        expect_all(buf, sizeof buf, want, "2-byte at", x, off);
    }
}
END_TEST

START_TEST(test_kernels_match_oracle_on_every_three_byte_string)
{
    uint8_t b[3], buf[70];
    size_t mismatches = 0;
    memset(buf, 'x', sizeof buf);
    for (uint32_t x = 0; x < (1u << 24); x++) {
        b[0] = (uint8_t)(x >> 16);
        b[1] = (uint8_t)(x >> 8);
        b[2] = (uint8_t)x;
        gn_err want = oracle(b, 3);
        mismatches += gn_utf8_check_scalar(b, 3) != want;
        expect_all(b, 3, want, "3-byte", x, 0);
        /* Cross a vector edge at one of four phases (61..64 crosses the 64-,
         * 32- and 16-byte edges of the unrolled loops and of the tail). */
        if ((x & 0x7) == 0 || b[0] >= 0xE0) {
            size_t off = 61 + (x & 3);
            memcpy(buf + off, b, 3);
            expect_all(buf, off + 3 + (x >> 3 & 1) * 3, want, "3-byte at", x, off);
            memset(buf + off, 'x', 3);
        }
    }
    ck_assert_uint_eq(mismatches, 0);
}
END_TEST

START_TEST(test_kernels_match_oracle_on_four_byte_strings)
{
    /* All first two bytes; the last two from the class edges. */
    static const uint8_t tail[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xFF };
    uint8_t b[4], buf[72];
    memset(buf, 'y', sizeof buf);
    for (unsigned x = 0; x < 65536; x++) {
        b[0] = (uint8_t)(x >> 8);
        b[1] = (uint8_t)x;
        for (size_t i = 0; i < sizeof tail; i++) {
            for (size_t j = 0; j < sizeof tail; j++) {
                b[2] = tail[i];
                b[3] = tail[j];
                gn_err want = oracle(b, 4);
                if (gn_utf8_check_scalar(b, 4) != want)
                    ck_abort_msg("scalar disagrees with oracle on %02x %02x %02x %02x", b[0], b[1], b[2], b[3]);
                expect_all(b, 4, want, "4-byte", x, i * 16 + j);
                if (b[0] >= 0xF0) {
                    size_t off = 29 + ((x + i + j) & 3); /* straddles 32 */
                    memcpy(buf + off, b, 4);
                    expect_all(buf, sizeof buf, want, "4-byte at", x, off);
                    memset(buf + off, 'y', 4);
                }
            }
        }
    }
}
END_TEST

/* Fill buf[0..len) with valid text: ASCII or a mix of 1..4-byte characters. */
static void fill_valid(uint8_t *buf, size_t len, bool multibyte, uint64_t *rng)
{
    static const char *chars[] = { "a", "Z", "/", "\xC3\xA9", "\xD0\x96", "\xE2\x82\xAC", "\xE6\x97\xA5",
                                   "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF", "\xC2\x80" };
    size_t i = 0;
    while (i < len) {
        const char *c = multibyte ? chars[rng_below(rng, sizeof chars / sizeof chars[0])] : "q";
        size_t n = strlen(c);
        if (n > len - i)
            c = "b", n = 1;
        memcpy(buf + i, c, n);
        i += n;
    }
}

/* Every ill-formed class, each a self-contained bad sequence. */
static const struct { const char *name; const char *bytes; } invalid[] = {
    { "overlong 2-byte C0 80", "\xC0\x80" },     { "overlong 2-byte C1 BF", "\xC1\xBF" },
    { "overlong 3-byte E0 80 80", "\xE0\x80\x80" }, { "overlong 3-byte E0 9F BF", "\xE0\x9F\xBF" },
    { "overlong 4-byte F0 80 80 80", "\xF0\x80\x80\x80" }, { "overlong 4-byte F0 8F BF BF", "\xF0\x8F\xBF\xBF" },
    { "surrogate D800", "\xED\xA0\x80" },         { "surrogate DFFF", "\xED\xBF\xBF" },
    { "above U+10FFFF F4 90", "\xF4\x90\x80\x80" }, { "F5 lead", "\xF5\x80\x80\x80" },
    { "F7 lead", "\xF7\xBF\xBF\xBF" },            { "F8 5-byte lead", "\xF8\x88\x80\x80\x80" },
    { "FC 6-byte lead", "\xFC\x84\x80\x80\x80\x80" }, { "FE", "\xFE" }, { "FF", "\xFF" },
    { "lone C0", "\xC0" }, { "lone C1", "\xC1" },
    { "stray continuation 80", "\x80" },          { "stray continuation BF", "\xBF" },
    { "continuation after 2-byte", "\xC3\xA9\x80" }, { "continuation after 4-byte", "\xF0\x9F\x98\x80\x80" },
    { "2-byte lead then ASCII", "\xC3" "A" },      { "3-byte lead then ASCII", "\xE2\x82" "A" },
    { "4-byte lead then ASCII", "\xF0\x9F\x98" "A" }, { "lead then lead", "\xE2\xC3\xA9" },
    { "4-byte lead, 2 continuations, lead", "\xF0\x9F\x98\xC3\xA9" },
};

START_TEST(test_every_invalid_class_at_every_position_is_invalid)
{
    uint8_t buf[320];
    uint64_t rng = 0x1234567;
    size_t n_classes = sizeof invalid / sizeof invalid[0];
    for (size_t c = 0; c < n_classes; c++) {
        size_t blen = strlen(invalid[c].bytes);
        for (size_t len = blen; len <= 300; len++) {
            /* Every position for short strings and around the vector
             * edges; a stride elsewhere keeps the run short under ASan. */
            for (size_t pos = 0; pos + blen <= len; pos += (pos < 80 || (pos & 15) >= 13 || (pos & 15) < 2) ? 1 : 3) {
                fill_valid(buf, pos, (len + c) & 1, &rng); /* whole characters */
                memcpy(buf + pos, invalid[c].bytes, blen);
                memset(buf + pos + blen, 'z', len - pos - blen);
                if (oracle(buf, len) != GN_ERR_UTF8_INVALID)
                    ck_abort_msg("test input %s not invalid", invalid[c].name);
                expect_all(buf, len, GN_ERR_UTF8_INVALID, invalid[c].name, len, pos);
            }
        }
    }
}
END_TEST

START_TEST(test_sequence_truncated_at_end_is_invalid)
{
    static const char *prefixes[] = { "\xC3", "\xE2", "\xE2\x82", "\xF0", "\xF0\x9F", "\xF0\x9F\x98", "\xF4\x8F\xBF" };
    uint8_t buf[310];
    uint64_t rng = 42;
    for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
        size_t plen = strlen(prefixes[p]);
        for (size_t len = plen; len <= 300; len++) {
            fill_valid(buf, len - plen, len & 1, &rng);
            memcpy(buf + len - plen, prefixes[p], plen);
            expect_all(buf, len, GN_ERR_UTF8_INVALID, "truncated", p, len);
        }
    }
}
END_TEST

START_TEST(test_valid_text_of_every_length_is_ok)
{
    uint8_t buf[320];
    uint64_t rng = 7;
    for (size_t len = 0; len <= 300; len++) {
        for (int mode = 0; mode < 2; mode++) {
            for (int rep = 0; rep < 8; rep++) {
                fill_valid(buf, len, mode, &rng);
                if (oracle(buf, len) != GN_OK)
                    ck_abort_msg("test input of length %zu not valid", len);
                expect_all(buf, len, GN_OK, "valid", len, (size_t)mode);
            }
        }
    }
}
END_TEST

START_TEST(test_boundary_code_points_at_every_position_are_ok)
{
    static const char *cps[] = { "\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80",
                                 "\xEF\xBF\xBF", "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF" };
    uint8_t buf[140];
    for (size_t c = 0; c < sizeof cps / sizeof cps[0]; c++) {
        size_t n = strlen(cps[c]);
        for (size_t len = n; len <= 130; len++) {
            for (size_t pos = 0; pos + n <= len; pos++) {
                memset(buf, 'k', len);
                memcpy(buf + pos, cps[c], n);
                expect_all(buf, len, GN_OK, "boundary code point", c, pos);
            }
        }
    }
}
END_TEST

START_TEST(test_nul_at_every_position_is_nul)
{
    uint8_t buf[320];
    uint64_t rng = 99;
    for (size_t len = 1; len <= 300; len++) {
        for (size_t pos = 0; pos < len; pos++) {
            int mode = (int)((len + pos) & 1);
            fill_valid(buf, len, mode, &rng);
            /* Replace one whole character with NUL: keep the text well formed. */
            size_t start = pos;
            while (start > 0 && (buf[start] & 0xC0) == 0x80)
                start--;
            size_t end = start + 1;
            while (end < len && (buf[end] & 0xC0) == 0x80)
                end++;
            memset(buf + start, 0, end - start);
            expect_all(buf, len, GN_ERR_UTF8_NUL, "NUL", len, pos);
        }
    }
    /* Ill-formed beats NUL, in every kernel. */
    static const uint8_t both[] = { 'a', 0, 'b', 0xC0, 0x80 };
    expect_all(both, sizeof both, GN_ERR_UTF8_INVALID, "NUL and invalid", 0, 0);
}
END_TEST

START_TEST(test_random_bytes_kernels_agree_with_scalar)
{
    uint8_t buf[2100];
    uint64_t rng = 0xC0FFEE;
    for (int iter = 0; iter < 60000; iter++) {
        size_t len = rng_below(&rng, iter < 50000 ? 140 : 2048);
        int mode = (int)rng_below(&rng, 3);
        fill_valid(buf, len, mode != 0, &rng);
        /* Mutate 0..3 bytes: flips, random bytes, NUL. */
        unsigned muts = len ? rng_below(&rng, 4) : 0;
        for (unsigned m = 0; m < muts; m++) {
            size_t at = rng_below(&rng, (uint32_t)len);
            switch (rng_below(&rng, 4)) {
            case 0: buf[at] ^= (uint8_t)(1u << rng_below(&rng, 8)); break;
            case 1: buf[at] = (uint8_t)rng_next(&rng); break;
            case 2: buf[at] = 0; break;
            default: buf[at] = (uint8_t)(0x80 | rng_below(&rng, 0x80)); break;
            }
        }
        gn_err want = oracle(buf, len);
        if (gn_utf8_check_scalar(buf, len) != want)
            ck_abort_msg("scalar disagrees with oracle at iteration %d", iter);
        expect_all(buf, len, want, "random", (size_t)iter, len);
    }
}
END_TEST

START_TEST(test_dispatched_check_equals_scalar_at_every_level)
{
    uint8_t buf[600];
    uint64_t rng = 5;
    for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++) {
        if (!gn_simd_supported((gn_simd_level)l))
            continue;
        ck_assert_int_eq(gn_simd_force((gn_simd_level)l), l);
        for (int i = 0; i < 3000; i++) {
            size_t len = rng_below(&rng, 600);
            fill_valid(buf, len, i & 1, &rng);
            if (len && (i & 2))
                buf[rng_below(&rng, (uint32_t)len)] = (uint8_t)rng_next(&rng);
            const uint8_t *p = at_end(buf, len);
            ck_assert_int_eq(gn_utf8_check(p, len), gn_utf8_check_scalar(p, len));
        }
    }
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("kernels");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_cpu_levels_are_supported_in_order);
    tcase_add_test(tc, test_force_clamps_and_dispatch_follows);
    tcase_add_test(tc, test_env_gannet_simd_caps_the_level);
    tcase_add_test(tc, test_scalar_matches_oracle_on_every_one_and_two_byte_string);
    tcase_add_test(tc, test_kernels_match_oracle_on_every_three_byte_string);
    tcase_add_test(tc, test_kernels_match_oracle_on_four_byte_strings);
    tcase_add_test(tc, test_every_invalid_class_at_every_position_is_invalid);
    tcase_add_test(tc, test_sequence_truncated_at_end_is_invalid);
    tcase_add_test(tc, test_valid_text_of_every_length_is_ok);
    tcase_add_test(tc, test_boundary_code_points_at_every_position_are_ok);
    tcase_add_test(tc, test_nul_at_every_position_is_nul);
    tcase_add_test(tc, test_random_bytes_kernels_agree_with_scalar);
    tcase_add_test(tc, test_dispatched_check_equals_scalar_at_every_level);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(utf8_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
