/* codec/simd/topic_scalar.c — reference topic scans: count '/', look for
 * '+', '#', NUL and non-ASCII bytes; list '/' positions. The SSE4.2 and
 * AVX2 kernels (topic_sse42.c, topic_avx2.c) are tested against these. */
#include "codec/simd/kernels.h"

bool gn_topic_scan_scalar(const uint8_t *s, size_t len, gn_topic_scan *out)
{
    uint32_t slashes = 0;
    bool plus = false, hash = false, nul = false, high = false;

    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        slashes += c == '/';
        plus |= c == '+';
        hash |= c == '#';
        nul |= c == 0;
        high |= c >= 0x80;
    }
    out->slashes = slashes;
    out->has_plus = plus;
    out->has_hash = hash;
    out->has_nul = nul;
    return high;
}

size_t gn_topic_slashes_scalar(const uint8_t *s, size_t len, uint16_t *pos, size_t cap)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        if (s[i] != '/')
            continue;
        if (n == cap)
            return cap + 1;
        pos[n++] = (uint16_t)i;
    }
    return n;
}
