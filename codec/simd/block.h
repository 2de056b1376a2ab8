/* codec/simd/block.h — internal to codec/simd/: copying the last partial
 * vector of a string into a padded block without reading past the string.
 *
 * The kernels process whole vectors; the remainder is copied into a block
 * pre-filled with a harmless byte (GN_SIMD_PAD: ASCII, not NUL, not '/',
 * '+' or '#') and processed as one more whole vector. The copy uses two
 * overlapping fixed-size moves, so it compiles to a few loads and stores
 * instead of a call to memcpy. */
#ifndef GN_CODEC_SIMD_BLOCK_H
#define GN_CODEC_SIMD_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define GN_SIMD_PAD 0x20 /* ' ' */

/* Copy src[0..n) to dst[0..n) for n < 16; writes nothing else. */
static inline void gn_copy_tail16(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 8) {
        memcpy(dst, src, 8);
        memcpy(dst + n - 8, src + n - 8, 8);
    } else if (n >= 4) {
        memcpy(dst, src, 4);
        memcpy(dst + n - 4, src + n - 4, 4);
    } else if (n > 0) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

/* Copy src[0..n) to dst[0..n) for n < 32; writes nothing else. */
static inline void gn_copy_tail32(uint8_t *dst, const uint8_t *src, size_t n)
{
    if (n >= 16) {
        memcpy(dst, src, 16);
        memcpy(dst + n - 16, src + n - 16, 16);
    } else {
        gn_copy_tail16(dst, src, n);
    }
}

#endif
