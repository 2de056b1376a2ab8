/* engine/platform/throttle_window.c — bucket counts and the 4x / 8x
 * verdict of Ioto-style throttling (throttle_window.h). */
#include "engine/platform/throttle_window.h"

#include <string.h>

void gn_thr_init(gn_thr_window *w, uint64_t period)
{
    memset(w, 0, sizeof *w);
    w->period = period;
}

void gn_thr_advance(gn_thr_window *w, uint64_t period)
{
    if (period <= w->period)
        return;
    uint64_t steps = period - w->period;
    if (steps >= GN_THR_BUCKETS) {
        memset(w->units, 0, sizeof w->units);
    } else {
        for (uint64_t p = w->period + 1; p <= period; p++)
            w->units[p % GN_THR_BUCKETS] = 0;
    }
    w->period = period;
}

void gn_thr_add(gn_thr_window *w, uint64_t period, uint32_t units)
{
    gn_thr_advance(w, period);
    gn_thr_add_current(w, units);
}

static uint64_t sum(const gn_thr_window *w, uint64_t now, unsigned from, unsigned to)
{
    uint64_t n = 0;
    for (unsigned back = from; back <= to && back <= now; back++)
        n += w->units[(now - back) % GN_THR_BUCKETS];
    return n;
}

gn_thr_verdict gn_thr_measure(gn_thr_window *w, uint64_t now, uint32_t limit_per_hour)
{
    gn_thr_advance(w, now);
    gn_thr_verdict v = {0};
    v.minute = sum(w, w->period, 1, GN_THR_MINUTE);
    v.history = sum(w, w->period, GN_THR_MINUTE + 1, GN_THR_MINUTE + GN_THR_HISTORY);
    if (!limit_per_hour)
        return v;
    /* In units of limit / hour: a minute's share is limit * 2 / 120, five
     * minutes' limit * 10 / 120. Light history: under half of its share. */
    uint64_t L = limit_per_hour;
    v.burst = v.history * GN_THR_PER_HOUR * 2 < L * GN_THR_HISTORY;
    uint64_t factor = v.burst ? 8 : 4;
    v.over = v.minute * GN_THR_PER_HOUR > factor * L * GN_THR_MINUTE;
    return v;
}
