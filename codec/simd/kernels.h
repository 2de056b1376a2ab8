/* codec/simd/kernels.h — internal to the codec: the per-instruction-set
 * kernels behind codec/utf8.h and codec/topic.h, and the fast read of the
 * dispatch level.
 *
 * Not a public header: only the codec/simd/ sources, the codec's own tests, fuzzers
 * and bench/bench_codec.c include it. Every kernel is a pure function over
 * (s, len) that never reads outside s[0..len); the SSE4.2 / AVX2 ones may be
 * called only when gn_simd_supported() says so. Thread-safe, no allocation. */
#ifndef GN_CODEC_SIMD_KERNELS_H
#define GN_CODEC_SIMD_KERNELS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/simd.h"
#include "codec/topic.h"
#include "codec/utf8.h"

/* Topic scan: fills *out like gn_topic_scan_bytes and returns true when some
 * byte is >= 0x80 (the string is not pure ASCII and needs UTF-8 validation;
 * multi-byte UTF-8 never contains bytes < 0x80, so the counts stay right). */
bool gn_topic_scan_scalar(const uint8_t *s, size_t len, gn_topic_scan *out);
bool gn_topic_scan_sse42(const uint8_t *s, size_t len, gn_topic_scan *out);
bool gn_topic_scan_avx2(const uint8_t *s, size_t len, gn_topic_scan *out);

/* Slash positions: writes the offsets of the first min(count, cap) '/' bytes
 * of s to pos[] in increasing order and returns their count, or cap + 1 as
 * soon as there are more than cap (scanning stops there). len <= 65535. */
size_t gn_topic_slashes_scalar(const uint8_t *s, size_t len, uint16_t *pos, size_t cap);
size_t gn_topic_slashes_sse42(const uint8_t *s, size_t len, uint16_t *pos, size_t cap);
size_t gn_topic_slashes_avx2(const uint8_t *s, size_t len, uint16_t *pos, size_t cap);

/* The level in use, -1 until the first gn_simd_init. Written by dispatch.c
 * only; read relaxed because it selects code, not data: the kernels read
 * nothing that the writer published. */
extern _Atomic int gn_simd_level_now;

/* Slow path of gn_simd_current: detect, apply GANNET_SIMD, return the level. */
int gn_simd_init_level(void);

/* Tests only (single-threaded): forget the chosen level so the next call
 * initialises again and re-reads GANNET_SIMD. */
void gn_simd_reset_for_tests(void);

/* The level the hot paths switch on (one relaxed load, predicted branch). */
static inline int gn_simd_current(void)
{
    /* relaxed: see gn_simd_level_now; no data is published with it. */
    int l = atomic_load_explicit(&gn_simd_level_now, memory_order_relaxed);
    if (__builtin_expect(l < 0, 0))
        l = gn_simd_init_level();
    return l;
}

/* One-pass topic scan through the active kernel (see gn_topic_scan_scalar). */
static inline bool gn_topic_scan_active(const uint8_t *s, size_t len, gn_topic_scan *out)
{
    switch (gn_simd_current()) {
    case GN_SIMD_AVX2:  return gn_topic_scan_avx2(s, len, out);
    case GN_SIMD_SSE42: return gn_topic_scan_sse42(s, len, out);
    default:            return gn_topic_scan_scalar(s, len, out);
    }
}

#endif
