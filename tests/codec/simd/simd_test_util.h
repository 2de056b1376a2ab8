/* tests/codec/simd/simd_test_util.h — shared by the SIMD kernel tests: the
 * list of kernels this CPU can run (the scalar reference first) and a
 * fixed-seed random generator, so every run tests the same inputs. */
#ifndef GN_TESTS_SIMD_TEST_UTIL_H
#define GN_TESTS_SIMD_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "codec/simd.h"
#include "codec/simd/kernels.h"
#include "codec/utf8.h"

typedef gn_err (*utf8_fn)(const uint8_t *, size_t);
typedef bool (*scan_fn)(const uint8_t *, size_t, gn_topic_scan *);
typedef size_t (*slashes_fn)(const uint8_t *, size_t, uint16_t *, size_t);

typedef struct kernel_set {
    gn_simd_level level;
    utf8_fn utf8;
    scan_fn scan;
    slashes_fn slashes;
} kernel_set;

static const kernel_set all_kernels[] = {
    { GN_SIMD_SCALAR, gn_utf8_check_scalar, gn_topic_scan_scalar, gn_topic_slashes_scalar },
    { GN_SIMD_SSE42,  gn_utf8_check_sse42,  gn_topic_scan_sse42,  gn_topic_slashes_sse42 },
    { GN_SIMD_AVX2,   gn_utf8_check_avx2,   gn_topic_scan_avx2,   gn_topic_slashes_avx2 },
};
#define N_KERNELS (sizeof all_kernels / sizeof all_kernels[0])

/* xorshift64*: deterministic, seeded per test. */
static inline uint64_t rng_next(uint64_t *st)
{
    uint64_t x = *st;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline uint32_t rng_below(uint64_t *st, uint32_t n)
{
    return (uint32_t)((rng_next(st) >> 32) % n);
}

#endif
