/* codec/simd/topic_avx2.c — topic scans with AVX2 (compiled with -mavx2
 * -mpopcnt; call only when gn_simd_supported(GN_SIMD_AVX2)).
 *
 * 32 bytes per step: compare against '/', '+', '#' and 0, popcount the '/'
 * mask, OR the other compares (and the raw bytes, for the non-ASCII test)
 * into accumulators read once at the end. Slash positions come from a
 * movemask + count-trailing-zeros loop. The last partial vector is loaded
 * padded (codec/simd/block.h): nothing past len is read. */
#include <immintrin.h>

#include "codec/simd/block.h"
#include "codec/simd/kernels.h"

typedef struct scan_acc {
    __m256i plus, hash, nul, bytes;
    uint32_t slashes;
} scan_acc;

static inline void scan_step(scan_acc *a, __m256i v)
{
    __m256i is_slash = _mm256_cmpeq_epi8(v, _mm256_set1_epi8('/'));
    a->slashes += (uint32_t)__builtin_popcount((unsigned)_mm256_movemask_epi8(is_slash));
    a->plus = _mm256_or_si256(a->plus, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('+')));
    a->hash = _mm256_or_si256(a->hash, _mm256_cmpeq_epi8(v, _mm256_set1_epi8('#')));
    a->nul = _mm256_or_si256(a->nul, _mm256_cmpeq_epi8(v, _mm256_setzero_si256()));
    a->bytes = _mm256_or_si256(a->bytes, v);
}

bool gn_topic_scan_avx2(const uint8_t *s, size_t len, gn_topic_scan *out)
{
    scan_acc a = {
        .plus = _mm256_setzero_si256(), .hash = _mm256_setzero_si256(),
        .nul = _mm256_setzero_si256(), .bytes = _mm256_setzero_si256(), .slashes = 0,
    };
    size_t i = 0;

    for (; i + 32 <= len; i += 32)
        scan_step(&a, _mm256_loadu_si256((const __m256i *)(const void *)(s + i)));
    if (i < len)
        scan_step(&a, gn_load_tail32(s + i, len - i));
    out->slashes = a.slashes;
    out->has_plus = _mm256_movemask_epi8(a.plus) != 0;
    out->has_hash = _mm256_movemask_epi8(a.hash) != 0;
    out->has_nul = _mm256_movemask_epi8(a.nul) != 0;
    return _mm256_movemask_epi8(a.bytes) != 0;
}

/* Append the positions of the set bits of mask (byte offset base) to pos.
 * Returns false once more than cap positions were seen. */
static inline bool emit(uint32_t mask, size_t base, uint16_t *pos, size_t cap, size_t *n)
{
    while (mask != 0) {
        if (*n == cap)
            return false;
        pos[(*n)++] = (uint16_t)(base + (size_t)__builtin_ctz(mask));
        mask &= mask - 1;
    }
    return true;
}

size_t gn_topic_slashes_avx2(const uint8_t *s, size_t len, uint16_t *pos, size_t cap)
{
    const __m256i slash = _mm256_set1_epi8('/');
    size_t n = 0, i = 0;

    for (; i + 32 <= len; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, slash));
        if (!emit(m, i, pos, cap, &n))
            return cap + 1;
    }
    if (i < len) {
        __m256i v = gn_load_tail32(s + i, len - i);
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v, slash));
        if (!emit(m, i, pos, cap, &n))
            return cap + 1;
    }
    return n;
}
