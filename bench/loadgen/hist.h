/* bench/loadgen/hist.h — log-linear latency histogram (64 sub-buckets per
 * power of two: < 1.6 % error), values in nanoseconds.
 *
 * Owned by one thread while recording; merged by the main thread after the
 * workers are joined. Plain memory, no allocation. */
#ifndef GL_HIST_H
#define GL_HIST_H

#include <stdint.h>

#define GL_HIST_BUCKETS 3776u

typedef struct gl_hist {
    uint64_t count;
    uint64_t max;
    uint64_t sum;
    uint64_t b[GL_HIST_BUCKETS];
} gl_hist;

void gl_hist_record(gl_hist *h, uint64_t v);
/* dst += src. */
void gl_hist_merge(gl_hist *dst, const gl_hist *src);
/* Value at quantile q in [0, 1] (bucket midpoint, capped at max; the last
 * rank is max itself); 0 when empty. */
uint64_t gl_hist_quantile(const gl_hist *h, double q);

#endif
