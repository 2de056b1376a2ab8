/* engine/timer_wheel.h — a shard's hierarchical timing wheel with
 * millisecond ticks: keep-alive (1.5 x the client's value), CONNECT
 * timeout, will delay, session and message expiry.
 *
 * Timers are intrusive: the owner (connection, session, ...) embeds a
 * gn_timer and recovers itself in the callback with GN_CONTAINER_OF. Arm,
 * re-arm and cancel are O(1). The wheel has GN_TIMER_LEVELS levels of 64
 * slots (1 ms, 64 ms, 4.1 s, 4.4 min, 4.7 h, 12.4 days, ...); a timer sits
 * in the level given by the highest bit in which its deadline differs from
 * the wheel's current time and is moved down ("cascaded") when time reaches
 * its slot, so it fires exactly at the first advance whose now_ms is >= its
 * deadline, whatever its length. Deadlines further than GN_TIMER_MAX_AHEAD
 * ms ahead are clamped to that (it is about 4 000 years); times must stay
 * below 2^47 ms (CLOCK_MONOTONIC or epoch milliseconds both do).
 *
 * advance() fires due timers in deadline order (timers due in the same
 * millisecond fire in an unspecified order) and skips empty stretches with
 * per-level occupancy bitmaps, so an idle shard that sleeps for an hour pays
 * for the timers it meets, not for the milliseconds it slept.
 *
 * Times are absolute milliseconds of one clock, normally gn_clock_ms().
 *
 * Threading: a wheel and every timer in it belong to one thread (the shard);
 * nothing here is thread-safe. Callbacks run inside advance() and may arm,
 * re-arm or cancel any timer of the same wheel, including the one firing
 * and ones due in the same advance (a cancelled one then does not fire).
 * A timer armed from a callback with a deadline <= the now_ms of the
 * running advance() fires in the next advance() call, never in the
 * current one (so a callback cannot keep an advance busy). Callbacks must not call
 * advance() themselves. */
#ifndef GN_ENGINE_TIMER_WHEEL_H
#define GN_ENGINE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_TIMER_LEVELS     8
#define GN_TIMER_SLOTS      64
#define GN_TIMER_MAX_AHEAD  ((UINT64_C(1) << 47) - 1)
#define GN_TIMER_NEVER      UINT64_MAX

#ifndef GN_CONTAINER_OF
#define GN_CONTAINER_OF(ptr, type, member) \
    ((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

typedef struct gn_timer gn_timer;
typedef struct gn_timer_wheel gn_timer_wheel;

/* Called when the timer fires; the timer is already disarmed. now_ms is the
 * time passed to advance(); ctx is the wheel's ctx. */
typedef void (*gn_timer_fn)(gn_timer *t, uint64_t now_ms, void *ctx);

/* Embedded in its owner. Fields are private to timer_wheel.c. 40 bytes. */
struct gn_timer {
    gn_timer   *next;
    gn_timer  **pprev;       /* NULL when not armed */
    uint64_t    deadline;    /* absolute ms */
    gn_timer_fn fn;
    uint8_t     level;       /* where it sits, for the occupancy bitmaps */
    uint8_t     slot;
};

/* Embedded in the shard. Fields are private to timer_wheel.c (~4.2 KiB). */
struct gn_timer_wheel {
    uint64_t  now;                                     /* last tick fully processed */
    uint64_t  occupied[GN_TIMER_LEVELS];               /* bit s: slot s non-empty */
    gn_timer *slots[GN_TIMER_LEVELS][GN_TIMER_SLOTS];
    gn_timer *due;                                     /* armed with deadline <= now */
    gn_timer *firing;                                  /* detached list being fired */
    uint64_t  horizon;                                 /* during advance: its now_ms, else 0 */
    size_t    count;                                   /* armed timers */
    void     *ctx;
};

/* Milliseconds of CLOCK_MONOTONIC. Any thread. */
uint64_t gn_clock_ms(void);

/* Nanoseconds of CLOCK_MONOTONIC. Any thread. */
uint64_t gn_clock_ns(void);

/* Start an empty wheel at time now_ms; ctx is handed to every callback. */
void gn_timer_wheel_init(gn_timer_wheel *w, uint64_t now_ms, void *ctx);

/* Prepare a timer (not armed) with its callback. Must precede arm. */
void gn_timer_init(gn_timer *t, gn_timer_fn fn);

/* Arm t to fire at deadline_ms, moving it if it is already armed. A
 * deadline <= the wheel's now (inside a callback: <= the running advance's
 * now_ms) fires in the next advance(). */
void gn_timer_arm(gn_timer_wheel *w, gn_timer *t, uint64_t deadline_ms);

/* Disarm t; a no-op when t is not armed. */
void gn_timer_cancel(gn_timer_wheel *w, gn_timer *t);

static inline bool gn_timer_armed(const gn_timer *t) { return t->pprev != NULL; }
static inline uint64_t gn_timer_deadline(const gn_timer *t) { return t->deadline; }

/* Move time to now_ms (ignored if earlier than the wheel's time) and fire
 * every timer whose deadline is <= now_ms. Returns how many fired. */
size_t gn_timer_wheel_advance(gn_timer_wheel *w, uint64_t now_ms);

/* The earliest time at which advance() has work to do (fire or cascade),
 * GN_TIMER_NEVER when no timer is armed; the wheel's now when something is
 * already due. Never later than the earliest deadline, so a shard can sleep
 * until then. O(levels). */
uint64_t gn_timer_wheel_next(const gn_timer_wheel *w);

static inline size_t gn_timer_wheel_count(const gn_timer_wheel *w) { return w->count; }
static inline uint64_t gn_timer_wheel_now(const gn_timer_wheel *w) { return w->now; }

#endif
