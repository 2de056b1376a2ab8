/* bench/loadgen/publisher.c — pipelined PUBLISH generation from a template. */
#include "bench/loadgen/publisher.h"

#include <stdlib.h>
#include <string.h>

#include "bench/loadgen/conn.h"

gl_status gl_publisher_init(gl_worker *w, gl_conn *c, uint64_t quota)
{
    gl_status s = gl_pub_tpl_build(w->o, c->index, &c->tpl);
    if (s != GL_OK)
        return s;
    if (w->o->qos > 0) {
        c->ids = calloc(65536, 1);
        if (!c->ids)
            return GL_ERR_NOMEM;
    }
    /* First payload word: run tag and publisher id; never changes. */
    uint32_t tagpub = (w->o->run_tag << GL_PUB_ID_BITS) | c->index;
    memcpy(c->tpl.bytes + c->tpl.payload_off, &tagpub, sizeof tagpub);
    c->window = w->o->window;
    c->next_id = 0;
    c->quota = quota;
    return GL_OK;
}

void gl_publisher_start(const gl_worker *w, gl_conn *c, uint64_t now)
{
    (void)w;
    c->token_ns = now;
    c->tokens = 1.0;
}

static uint16_t take_id(gl_conn *c)
{
    do
        c->next_id++;
    while (c->next_id == 0 || c->ids[c->next_id] != 0);
    c->ids[c->next_id] = 1;
    return c->next_id;
}

uint32_t gl_publisher_fill(gl_worker *w, gl_conn *c, uint64_t now)
{
    const gl_opts *o = w->o;
    size_t plen = c->tpl.len;
    size_t queued = (size_t)c->out_tail - c->out_head;
    size_t budget = (size_t)c->out_cap / 2;          /* bytes we keep queued at most */
    if (budget < plen)
        budget = plen;
    if (queued >= budget || c->quota == 0)
        return 0;
    uint64_t n = (budget - queued) / plen;
    if (n == 0)
        n = 1;
    if (o->qos > 0) {
        uint32_t room = c->inflight < c->window ? c->window - c->inflight : 0;
        if (n > room)
            n = room;
    }
    if (o->rate > 0) {
        double per_pub = (double)o->rate / o->pubs;
        c->tokens += per_pub * (double)(now - c->token_ns) * 1e-9;
        c->token_ns = now;
        double cap = o->pace_us ? per_pub * o->pace_us * 4e-6 + 1.0   /* 4 periods: catch up, bounded */
                                : per_pub * 0.01 + 1.0;                /* 10 ms of burst */
        if (c->tokens > cap)
            c->tokens = cap;
        if ((double)n > c->tokens)
            n = (uint64_t)c->tokens;
    }
    if (n > c->quota)
        n = c->quota;
    if (n == 0)
        return 0;

    uint8_t *dst = gl_conn_reserve(c, (size_t)n * plen);
    if (!dst)
        return 0;
    const uint8_t *tpl = c->tpl.bytes;
    size_t poff = c->tpl.payload_off, ioff = c->tpl.id_off;
    for (uint64_t i = 0; i < n; i++, dst += plen) {
        memcpy(dst, tpl, plen);
        uint32_t seq = c->seq++;
        memcpy(dst + poff + 4, &seq, sizeof seq);
        memcpy(dst + poff + 8, &now, sizeof now);
        if (o->qos > 0) {
            uint16_t id = take_id(c);
            dst[ioff] = (uint8_t)(id >> 8);
            dst[ioff + 1] = (uint8_t)id;
        }
    }
    c->out_tail += (uint32_t)(n * plen);
    c->inflight += o->qos > 0 ? (uint32_t)n : 0;
    c->tokens -= o->rate > 0 ? (double)n : 0.0;
    if (c->quota != UINT64_MAX)
        c->quota -= n;
    return (uint32_t)n;
}
