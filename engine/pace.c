/* engine/pace.c — the token bucket behind read pacing (engine/pace.h): its
 * refill and rate changes (the per-PUBLISH charge is inline in pace.h);
 * milli-unit arithmetic only, no clock, no allocation. */
#include "engine/pace.h"

static int64_t cap_of(uint32_t rate)
{
    return (int64_t)rate * 1000;    /* one second's worth */
}

void gn_pace_refill(gn_pace *p, uint64_t now_ms)
{
    if (now_ms <= p->last_ms)
        return;
    uint64_t dt = now_ms - p->last_ms;
    p->last_ms = now_ms;
    int64_t cap = cap_of(p->rate);
    /* Long enough to pay any debt and fill the bucket: full (this also
     * keeps dt * rate below 2^63); shorter gaps add rate milli-units a ms. */
    uint64_t debt = p->balance < 0 ? (uint64_t)-p->balance : 0;
    if (dt >= 1000 + debt / p->rate) {
        p->balance = cap;
        return;
    }
    p->balance += (int64_t)dt * p->rate;
    if (p->balance > cap)
        p->balance = cap;
}

void gn_pace_init(gn_pace *p, uint32_t rate, uint32_t unit_bytes, uint64_t now_ms)
{
    p->rate = rate ? rate : 1;
    p->unit_bytes = unit_bytes;
    p->balance = cap_of(p->rate);
    p->last_ms = now_ms;
}

void gn_pace_set_rate(gn_pace *p, uint32_t rate, uint32_t unit_bytes, uint64_t now_ms)
{
    gn_pace_refill(p, now_ms);
    p->rate = rate ? rate : 1;
    p->unit_bytes = unit_bytes;
    if (p->balance > cap_of(p->rate))
        p->balance = cap_of(p->rate);
}
