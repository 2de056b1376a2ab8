/* codec/simd/topic_sse42.c — topic scans with SSE4.2 (compiled with -msse4.2
 * -mpopcnt; call only when gn_simd_supported(GN_SIMD_SSE42)).
 *
 * 16 bytes per step: compare against '/', '+', '#' and 0, popcount the '/'
 * mask, OR the other compares (and the raw bytes, for the non-ASCII test)
 * into accumulators read once at the end. Slash positions come from a
 * movemask + count-trailing-zeros loop. The last partial vector is loaded
 * padded (codec/simd/block.h): nothing past len is read. */
#include <immintrin.h>

#include "codec/simd/block.h"
#include "codec/simd/kernels.h"

typedef struct scan_acc {
    __m128i plus, hash, nul, bytes;
    uint32_t slashes;
} scan_acc;

static inline void scan_step(scan_acc *a, __m128i v)
{
    __m128i is_slash = _mm_cmpeq_epi8(v, _mm_set1_epi8('/'));
    a->slashes += (uint32_t)__builtin_popcount((unsigned)_mm_movemask_epi8(is_slash));
    a->plus = _mm_or_si128(a->plus, _mm_cmpeq_epi8(v, _mm_set1_epi8('+')));
    a->hash = _mm_or_si128(a->hash, _mm_cmpeq_epi8(v, _mm_set1_epi8('#')));
    a->nul = _mm_or_si128(a->nul, _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    a->bytes = _mm_or_si128(a->bytes, v);
}

bool gn_topic_scan_sse42(const uint8_t *s, size_t len, gn_topic_scan *out)
{
    scan_acc a = {
        .plus = _mm_setzero_si128(), .hash = _mm_setzero_si128(),
        .nul = _mm_setzero_si128(), .bytes = _mm_setzero_si128(), .slashes = 0,
    };
    size_t i = 0;

    for (; i + 16 <= len; i += 16)
        scan_step(&a, _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
    if (i < len)
        scan_step(&a, gn_load_tail16(s + i, len - i));
    out->slashes = a.slashes;
    out->has_plus = _mm_movemask_epi8(a.plus) != 0;
    out->has_hash = _mm_movemask_epi8(a.hash) != 0;
    out->has_nul = _mm_movemask_epi8(a.nul) != 0;
    return _mm_movemask_epi8(a.bytes) != 0;
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

size_t gn_topic_slashes_sse42(const uint8_t *s, size_t len, uint16_t *pos, size_t cap)
{
    const __m128i slash = _mm_set1_epi8('/');
    size_t n = 0, i = 0;

    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash));
        if (!emit(m, i, pos, cap, &n))
            return cap + 1;
    }
    if (i < len) {
        __m128i v = gn_load_tail16(s + i, len - i);
        uint32_t m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, slash));
        if (!emit(m, i, pos, cap, &n))
            return cap + 1;
    }
    return n;
}
