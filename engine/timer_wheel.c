/* engine/timer_wheel.c — hierarchical timing wheel (8 levels x 64 slots,
 * 1 ms ticks) with exact expiry by cascading.
 *
 * Placement: a timer with deadline d, placed when the wheel's time is n
 * (d > n), goes to level l = floor(msb(d ^ n) / 6), slot (d >> 6l) & 63.
 * Then d and n agree on every bit above level l, and d's level-l index is
 * strictly ahead of n's: the slot is reached, without ambiguity, before
 * n's level-(l+1) block ends. When time reaches the slot's start
 * ((d >> 6l) << 6l) the timer is placed again relative to that instant and
 * falls to a lower level; level-0 slots hold timers of exactly one
 * millisecond, which fire. Every occupied bit at level l is therefore
 * ahead of the current index, so the next instant with work is the
 * smallest slot start over the levels: advance() jumps from one such
 * instant to the next instead of walking empty milliseconds. */
#include "engine/timer_wheel.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#define LEVEL_BITS 6
#define LEVEL_DUE  0xFF                       /* t->level of timers on the due list */
#define TIME_LIMIT ((UINT64_C(1) << (LEVEL_BITS * GN_TIMER_LEVELS)) - 1)

uint64_t gn_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t gn_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void gn_timer_wheel_init(gn_timer_wheel *w, uint64_t now_ms, void *ctx)
{
    memset(w, 0, sizeof *w);
    w->now = now_ms;
    w->ctx = ctx;
}

void gn_timer_init(gn_timer *t, gn_timer_fn fn)
{
    memset(t, 0, sizeof *t);
    t->fn = fn;
}

static void list_push(gn_timer **head, gn_timer *t)
{
    t->next = *head;
    if (t->next != NULL)
        t->next->pprev = &t->next;
    *head = t;
    t->pprev = head;
}

/* Remove t from whatever list holds it (a wheel slot, the due list, or a
 * local list being fired) and keep the occupancy bitmap exact. */
static void list_unlink(gn_timer_wheel *w, gn_timer *t)
{
    *t->pprev = t->next;
    if (t->next != NULL)
        t->next->pprev = t->pprev;
    t->next = NULL;
    t->pprev = NULL;
    if (t->level != LEVEL_DUE && w->slots[t->level][t->slot] == NULL)
        w->occupied[t->level] &= ~(UINT64_C(1) << t->slot);
}

static unsigned level_for(uint64_t deadline, uint64_t ref)
{
    uint64_t x = deadline ^ ref;
    unsigned msb = 63u - (unsigned)__builtin_clzll(x);
    return msb / LEVEL_BITS;
}

/* Put t (not linked) in the wheel relative to time ref < t->deadline. */
static void place(gn_timer_wheel *w, gn_timer *t, uint64_t ref)
{
    unsigned l = level_for(t->deadline, ref);
    assert(l < GN_TIMER_LEVELS);
    unsigned s = (unsigned)(t->deadline >> (LEVEL_BITS * l)) & (GN_TIMER_SLOTS - 1);
    t->level = (uint8_t)l;
    t->slot = (uint8_t)s;
    list_push(&w->slots[l][s], t);
    w->occupied[l] |= UINT64_C(1) << s;
}

void gn_timer_arm(gn_timer_wheel *w, gn_timer *t, uint64_t deadline_ms)
{
    if (gn_timer_armed(t))
        list_unlink(w, t);
    else
        w->count++;
    uint64_t limit = w->now + GN_TIMER_MAX_AHEAD;
    if (limit > TIME_LIMIT || limit < w->now)
        limit = TIME_LIMIT;
    if (deadline_ms > limit)
        deadline_ms = limit;
    t->deadline = deadline_ms;
    if (deadline_ms <= w->now || deadline_ms <= w->horizon) {
        t->level = LEVEL_DUE;
        list_push(&w->due, t);
    } else {
        place(w, t, w->now);
    }
}

void gn_timer_cancel(gn_timer_wheel *w, gn_timer *t)
{
    if (!gn_timer_armed(t))
        return;
    list_unlink(w, t);
    w->count--;
}

/* Smallest slot start over the levels: the next instant with work. */
static uint64_t next_wheel_event(const gn_timer_wheel *w)
{
    uint64_t best = GN_TIMER_NEVER;
    for (unsigned l = 0; l < GN_TIMER_LEVELS; l++) {
        if (w->occupied[l] == 0)
            continue;
        unsigned shift = LEVEL_BITS * l;
        uint64_t s = (uint64_t)__builtin_ctzll(w->occupied[l]);
        uint64_t start = (((w->now >> shift) & ~(uint64_t)(GN_TIMER_SLOTS - 1)) | s) << shift;
        if (start < best)
            best = start;
    }
    return best;
}

uint64_t gn_timer_wheel_next(const gn_timer_wheel *w)
{
    if (w->due != NULL)
        return w->now;
    return next_wheel_event(w);
}

/* Detach a whole list (into w->firing) so callbacks can change the wheel
 * while we walk it; the first node's pprev points at w->firing, so
 * cancelling a node of the detached list from a callback still works. */
static size_t fire_list(gn_timer_wheel *w, gn_timer *list, uint64_t now_ms)
{
    size_t fired = 0;
    w->firing = list;
    if (list != NULL)
        list->pprev = &w->firing;
    while (w->firing != NULL) {
        gn_timer *t = w->firing;
        list_unlink(w, t);
        w->count--;
        fired++;
        t->fn(t, now_ms, w->ctx);
    }
    return fired;
}

static gn_timer *take_slot(gn_timer_wheel *w, unsigned l, unsigned s)
{
    gn_timer *list = w->slots[l][s];
    w->slots[l][s] = NULL;
    w->occupied[l] &= ~(UINT64_C(1) << s);
    return list;
}

/* Time has reached `tick`, the start of level-l slot s: re-place its timers
 * relative to tick. They all have deadline >= tick and agree with tick on
 * every bit from level l up, so they land strictly below level l. */
static void cascade(gn_timer_wheel *w, unsigned l, unsigned s, uint64_t tick)
{
    gn_timer *t = take_slot(w, l, s);
    while (t != NULL) {
        gn_timer *next = t->next;
        t->next = NULL;
        t->pprev = NULL;
        if (t->deadline <= tick) {
            t->level = 0;
            t->slot = (uint8_t)(tick & (GN_TIMER_SLOTS - 1));
            list_push(&w->slots[0][t->slot], t);
            w->occupied[0] |= UINT64_C(1) << t->slot;
        } else {
            place(w, t, tick);
        }
        t = next;
    }
}

size_t gn_timer_wheel_advance(gn_timer_wheel *w, uint64_t now_ms)
{
    size_t fired = 0;
    w->horizon = now_ms > w->now ? now_ms : w->now;
    if (w->due != NULL) {
        gn_timer *due = w->due;
        w->due = NULL;
        fired += fire_list(w, due, now_ms > w->now ? now_ms : w->now);
    }
    if (now_ms <= w->now) {
        w->horizon = 0;
        return fired;
    }
    for (;;) {
        uint64_t tick = next_wheel_event(w);
        if (tick == GN_TIMER_NEVER || tick > now_ms)
            break;
        w->now = tick;
        for (unsigned l = GN_TIMER_LEVELS - 1; l >= 1; l--) {
            unsigned shift = LEVEL_BITS * l;
            if ((tick & ((UINT64_C(1) << shift) - 1)) != 0)
                continue;
            unsigned s = (unsigned)(tick >> shift) & (GN_TIMER_SLOTS - 1);
            if (w->occupied[l] & (UINT64_C(1) << s))
                cascade(w, l, s, tick);
        }
        unsigned s0 = (unsigned)tick & (GN_TIMER_SLOTS - 1);
        if (w->occupied[0] & (UINT64_C(1) << s0))
            fired += fire_list(w, take_slot(w, 0, s0), now_ms);
    }
    w->now = now_ms;
    w->horizon = 0;
    return fired;
}
