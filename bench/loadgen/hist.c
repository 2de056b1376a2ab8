/* bench/loadgen/hist.c — the log-linear histogram: values below 128 have a
 * bucket each; above, each power of two [2^k, 2^(k+1)) is cut in 64. */
#include "bench/loadgen/hist.h"

static unsigned bucket_of(uint64_t v)
{
    if (v < 128)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 6u;                       /* v >> shift in [64, 127] */
    return 64u * shift + (unsigned)(v >> shift);
}

static uint64_t bucket_mid(unsigned idx)
{
    if (idx < 128)
        return idx;
    unsigned shift = idx / 64u - 1u;
    uint64_t m = idx % 64u + 64u;
    return (m << shift) + ((UINT64_C(1) << shift) >> 1);
}

void gl_hist_record(gl_hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->count++;
    h->sum += v;
    if (v > h->max)
        h->max = v;
}

void gl_hist_merge(gl_hist *dst, const gl_hist *src)
{
    for (unsigned i = 0; i < GL_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t gl_hist_quantile(const gl_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q < 0.0)
        q = 0.0;
    if (q > 1.0)
        q = 1.0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    if (rank >= h->count)
        return h->max;                               /* the top is known exactly */
    uint64_t seen = 0;
    for (unsigned i = 0; i < GL_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bucket_mid(i);
            return v > h->max ? h->max : v;
        }
    }
    return h->max;
}
