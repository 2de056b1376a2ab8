/* engine/pace.h — read pacing of one connection: a message-unit budget per
 * second (PLATFORM.md S-096, S-097: Watson's "message units per second",
 * MUPS). Each PUBLISH costs 1 + payload / unit_bytes units; a connection
 * that has spent more than its budget stops being read (TCP backpressure)
 * until the budget has refilled, through the same session block counter
 * that slow subscribers and full consumer rings use (gn_publisher_block /
 * gn_publisher_unblock), and the shard's timer wheel ends the pause.
 * Nothing is dropped and nobody is disconnected.
 *
 * The budget is a token bucket in milli-units: it refills at `rate` units
 * per second and holds at most one second's worth (the 1 s window of
 * S-097). Reading pauses as soon as less than one unit is left (the
 * message that crossed the line, already read, is handled and may leave a
 * debt) and resumes when one unit is there again, so over T seconds a
 * client is read for at most rate * (T + 1) units.
 *
 * gn_pace_* below are pure arithmetic (no clock, no allocation; unit
 * tested). gn_conn_pace_* (engine/conn_pace.c) tie a gn_pace to a
 * connection; they run on the shard that owns the connection. */
#ifndef GN_ENGINE_PACE_H
#define GN_ENGINE_PACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/timer_wheel.h"

typedef struct gn_conn gn_conn;

typedef struct gn_pace {
    gn_timer  timer;        /* ends the pause (conn_pace.c) */
    gn_conn  *conn;
    int64_t   balance;      /* milli-units available; negative: owed */
    uint64_t  last_ms;      /* when balance was last refilled */
    uint32_t  rate;         /* units per second, > 0 */
    uint32_t  unit_bytes;   /* payload bytes per extra unit; 0: one unit a message */
    uint64_t  blocked_sid;  /* session blocked by the pause (0: not paused) */
    uint64_t  pauses;       /* pauses so far (log, tests) */
} gn_pace;

/* Units a PUBLISH of payload bytes costs: 1 + payload / unit_bytes. */
static inline uint32_t gn_pace_units(uint32_t unit_bytes, size_t payload)
{
    if (!unit_bytes)
        return 1;
    size_t extra = payload / unit_bytes;
    return extra >= UINT32_MAX - 1 ? UINT32_MAX : 1u + (uint32_t)extra;
}

/* A full bucket of rate units per second (rate > 0) at now_ms. */
void gn_pace_init(gn_pace *p, uint32_t rate, uint32_t unit_bytes, uint64_t now_ms);

/* Change the rate (live settings); the balance is kept, capped to the new
 * bucket. rate > 0. */
void gn_pace_set_rate(gn_pace *p, uint32_t rate, uint32_t unit_bytes, uint64_t now_ms);

/* Add what the time since p->last_ms earned, capped at one second's
 * worth (engine/pace.c). */
void gn_pace_refill(gn_pace *p, uint64_t now_ms);

/* Spend `units` at now_ms. Returns 0 while a unit is left, else the
 * milliseconds until one is (>= 1): stop reading for that long. Inline:
 * it runs for every PUBLISH of a paced connection. */
static inline uint64_t gn_pace_charge(gn_pace *p, uint32_t units, uint64_t now_ms)
{
    if (now_ms > p->last_ms)
        gn_pace_refill(p, now_ms);
    p->balance -= (int64_t)units * 1000;
    if (p->balance >= 1000)
        return 0;
    /* Less than one unit left: wait until there is one again. */
    uint64_t owed = (uint64_t)(1000 - p->balance);
    return (owed + p->rate - 1) / p->rate;      /* ms, rounded up */
}

/* ---- the connection side (engine/conn_pace.c; shard thread) */

/* Pace c at rate units per second (unit_bytes as above); rate 0 stops
 * pacing (ending a pause). Allocates the gn_pace on first use; -1 when
 * memory runs out (c is then not paced). */
int gn_conn_pace_set(gn_conn *c, uint32_t rate, uint32_t unit_bytes);
/* A PUBLISH with payload bytes was consumed from c: charge it and, over
 * the budget, pause reading c until the budget allows more. Call only
 * when c->pace is set. */
void gn_conn_pace_publish(gn_conn *c, size_t payload);
/* c is being released: end a pause, free the state. */
void gn_conn_pace_release(gn_conn *c);

#endif
