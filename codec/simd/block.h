/* codec/simd/block.h — internal to codec/simd/: loading the last partial
 * vector of a string without reading past the string.
 *
 * The kernels process whole vectors; the remainder is loaded with a few
 * 1/4/8-byte loads that stay inside the string, assembled in registers, and
 * padded with a harmless byte (GN_SIMD_PAD: ASCII, not NUL, not '/', '+' or
 * '#'), then processed as one more whole vector. Assembling in registers
 * (rather than copying into a padded stack block and loading that) avoids a
 * failed store-to-load forwarding stall on every short string. */
#ifndef GN_CODEC_SIMD_BLOCK_H
#define GN_CODEC_SIMD_BLOCK_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GN_SIMD_PAD   0x20 /* ' ' */
#define GN_SIMD_PAD64 0x2020202020202020ull

/* s[0..n) for n < 8 in the low bytes of a word, the rest GN_SIMD_PAD. */
static inline uint64_t gn_load_tail8(const uint8_t *s, size_t n)
{
    uint64_t w;
    if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        /* b lands on s[n-4..n); where it overlaps a the bytes are equal. */
        w = (uint64_t)a | (uint64_t)b << ((n - 4) * 8);
    } else if (n > 0) {
        w = (uint64_t)s[0] | (uint64_t)s[n / 2] << (n / 2 * 8) | (uint64_t)s[n - 1] << ((n - 1) * 8);
    } else {
        return GN_SIMD_PAD64;
    }
    return w | GN_SIMD_PAD64 << (n * 8); /* n * 8 < 64 here */
}

/* s[0..n) for n < 16 in the low lanes of a vector, the rest GN_SIMD_PAD. */
static inline __m128i gn_load_tail16(const uint8_t *s, size_t n)
{
    uint64_t lo, hi;
    if (n >= 8) {
        memcpy(&lo, s, 8);
        memcpy(&hi, s + n - 8, 8);
        unsigned sh = (unsigned)(16 - n) * 8; /* 8..64: drop the bytes lo has */
        hi = sh == 64 ? GN_SIMD_PAD64 : hi >> sh | GN_SIMD_PAD64 << (64 - sh);
    } else {
        lo = gn_load_tail8(s, n);
        hi = GN_SIMD_PAD64;
    }
    return _mm_set_epi64x((long long)hi, (long long)lo);
}

#ifdef __AVX2__
/* s[0..n) for n < 32 in the low lanes of a vector, the rest GN_SIMD_PAD. */
static inline __m256i gn_load_tail32(const uint8_t *s, size_t n)
{
    if (n >= 16)
        return _mm256_set_m128i(gn_load_tail16(s + 16, n - 16),
                                _mm_loadu_si128((const __m128i *)(const void *)s));
    return _mm256_set_m128i(_mm_set1_epi8(GN_SIMD_PAD), gn_load_tail16(s, n));
}
#endif

#endif
