/* engine/conn_pace.c — read pacing of a connection (engine/pace.h): after a
 * PUBLISH is consumed its units are charged, and a connection over its
 * budget is paused through its session's block counter (the mechanism of
 * slow subscribers and full consumer rings, engine/deliver.c), so every
 * other reason to pause or resume composes with this one; the pace timer
 * on the shard's wheel unblocks it. Shard thread only. */
#include <stdlib.h>

#include "engine/conn.h"
#include "engine/pace.h"
#include "engine/session.h"
#include "engine/shard.h"

static void pace_unblock(gn_shard *s, gn_pace *p)
{
    uint64_t sid = p->blocked_sid;
    p->blocked_sid = 0;
    if (sid)
        gn_publisher_unblock(s, sid);
}

static void on_pace_timer(gn_timer *t, uint64_t now_ms, void *ctx)
{
    (void)now_ms;
    gn_pace *p = GN_CONTAINER_OF(t, gn_pace, timer);
    pace_unblock(ctx, p);
}

int gn_conn_pace_set(gn_conn *c, uint32_t rate, uint32_t unit_bytes)
{
    gn_shard *s = c->shard;
    gn_pace *p = c->pace;
    if (!rate) {
        gn_conn_pace_release(c);
        return 0;
    }
    if (p) {
        gn_pace_set_rate(p, rate, unit_bytes, s->now_ms);
        return 0;
    }
    p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    gn_pace_init(p, rate, unit_bytes, s->now_ms);
    gn_timer_init(&p->timer, on_pace_timer);
    p->conn = c;
    c->pace = p;
    return 0;
}

void gn_conn_pace_publish(gn_conn *c, size_t payload)
{
    gn_shard *s = c->shard;
    gn_pace *p = c->pace;
    uint64_t wait = gn_pace_charge(p, gn_pace_units(p->unit_bytes, payload), s->now_ms);
    if (!wait)
        return;
    /* Over the budget: read nothing more until it is paid back. The PUBLISH
     * just handled stays handled (acknowledged, delivered). */
    gn_timer_arm(&s->tw, &p->timer, s->now_ms + wait);
    if (p->blocked_sid || !c->sess)
        return;
    p->blocked_sid = c->sess->sid;
    p->pauses++;
    gn_publisher_block(s, p->blocked_sid);
}

void gn_conn_pace_release(gn_conn *c)
{
    gn_pace *p = c->pace;
    if (!p)
        return;
    gn_timer_cancel(&c->shard->tw, &p->timer);
    c->pace = NULL;
    pace_unblock(c->shard, p);
    free(p);
}
