/* engine/platform/throttle_window.h — the measurement behind Ioto-style
 * throttling (PLATFORM.md S-136, S-137): a device's traffic in 1 KB
 * message units, counted in buckets of one measurement period (30 s), and
 * the verdict at each period boundary: over its limit when the last minute
 * (two buckets) holds more than 4x the limit's share of a minute, or 8x
 * when the five minutes before it (ten buckets) stayed under half the
 * limit. The limit is messages per device per hour.
 *
 * Pure functions on a caller-owned struct: no clock, no allocation; any
 * thread (the owner's). Periods are absolute indexes (time / period). */
#ifndef GN_PLATFORM_THROTTLE_WINDOW_H
#define GN_PLATFORM_THROTTLE_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_THR_BUCKETS     16   /* ring: the current bucket and the 12 before it fit */
#define GN_THR_MINUTE      2    /* buckets in the measured minute */
#define GN_THR_HISTORY     10   /* buckets in the five minutes before it */
#define GN_THR_PER_HOUR    120  /* buckets in an hour */
#define GN_THR_KB          1024 /* bytes of one message unit (S-137: messages of 1 KB) */

typedef struct gn_thr_window {
    uint64_t period;                    /* the current bucket's period */
    uint32_t units[GN_THR_BUCKETS];     /* units[p % GN_THR_BUCKETS] for period p */
} gn_thr_window;

/* Units of a message of payload bytes: ceil(payload / 1 KB), at least 1. */
static inline uint32_t gn_thr_units(size_t payload)
{
    size_t u = (payload + GN_THR_KB - 1) / GN_THR_KB;
    return u == 0 ? 1u : u >= UINT32_MAX ? UINT32_MAX : (uint32_t)u;
}

/* An empty window whose current bucket is `period`. */
void gn_thr_init(gn_thr_window *w, uint64_t period);
/* Move the current bucket to `period` (>= the current one; earlier is
 * ignored), emptying the buckets passed over. */
void gn_thr_advance(gn_thr_window *w, uint64_t period);
/* Count units in bucket `period` (advancing to it first). */
void gn_thr_add(gn_thr_window *w, uint64_t period, uint32_t units);
/* Count units in the current bucket (the per-PUBLISH path: no call). */
static inline void gn_thr_add_current(gn_thr_window *w, uint32_t units)
{
    uint32_t *u = &w->units[w->period % GN_THR_BUCKETS];
    *u = units > UINT32_MAX - *u ? UINT32_MAX : *u + units;
}

typedef struct gn_thr_verdict {
    bool     over;          /* throttle the device */
    bool     burst;         /* the 8x allowance applied (light history) */
    uint64_t minute;        /* units in the measured minute */
    uint64_t history;       /* units in the five minutes before it */
} gn_thr_verdict;
/* The measurement at the start of period `now` (advancing to it): the
 * minute is periods now-2 and now-1, the history now-12 .. now-3.
 * limit_per_hour 0: never over. */
gn_thr_verdict gn_thr_measure(gn_thr_window *w, uint64_t now, uint32_t limit_per_hour);

#endif
