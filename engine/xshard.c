/* engine/xshard.c — cross-shard rings: setup, batched push with
 * empty->non-empty wake-up, and bounded draining (see xshard.h). */
#include "engine/xshard.h"
#include "engine/grow.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/session.h"
#include "engine/shard.h"

_Static_assert(sizeof(gn_xslot) == 64, "a cross-shard slot is one cache line");

int gn_xshard_setup(gn_shard *shards, uint16_t n, uint32_t ring_slots)
{
    uint32_t cap = 2;
    while (cap < ring_slots && cap < GN_SPSC_MAX_CAPACITY)
        cap <<= 1;
    for (uint16_t i = 0; i < n; i++) {
        gn_xshard *x = &shards[i].x;
        x->in = calloc(n, sizeof *x->in);
        x->out = calloc(n, sizeof *x->out);
        x->pend = calloc(n, sizeof *x->pend);
        if (!x->in || !x->out || !x->pend)
            return -1;
    }
    for (uint16_t i = 0; i < n; i++) {
        for (uint16_t j = 0; j < n; j++) {
            if (i == j)
                continue;
            gn_spsc_ring *r = gn_spsc_create(cap, sizeof(gn_xslot));
            if (!r)
                return -1;
            shards[i].x.out[j] = r;
            shards[j].x.in[i] = r;
        }
    }
    return 0;
}

static void release_slot(gn_xslot *sl)
{
    if (sl->kind == GN_X_DELIVER) {
        gn_msg_unref(sl->ptr);
    } else if (sl->kind == GN_X_HANDOFF) {
        gn_handoff *h = sl->ptr;
        close(h->fd);
        free(h);
    }
}

void gn_xshard_teardown(gn_shard *shards, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        gn_xshard *x = &shards[i].x;
        if (x->in) {
            for (uint16_t j = 0; j < n; j++) {
                if (!x->in[j])
                    continue;
                gn_xslot sl;
                while (gn_spsc_pop(x->in[j], &sl))
                    release_slot(&sl);
                gn_spsc_destroy(x->in[j]);
            }
        }
        if (x->pend) {
            for (uint16_t j = 0; j < n; j++) {
                for (uint32_t k = 0; k < x->pend[j].n; k++)
                    release_slot(&x->pend[j].v[k]);
                free(x->pend[j].v);
            }
        }
        free(x->in);
        free(x->out);
        free(x->pend);
        free(x->held);
        memset(x, 0, sizeof *x);
    }
}

int gn_xshard_put(gn_shard *s, uint16_t to, const gn_xslot *slot)
{
    gn_xbatch *b = &s->x.pend[to];
    if (b->n == b->cap) {
        gn_xslot *v = gn_grow(b->v, &b->cap, sizeof *v, 64);
        if (!v)
            return -1;
        b->v = v;
    }
    if (b->n == 0)
        s->x.npend++;
    b->v[b->n++] = *slot;
    return 0;
}

void gn_xshard_throttle(gn_shard *s, uint16_t to, uint64_t pub)
{
    gn_xshard *x = &s->x;
    /* Every slot pending here was already acknowledged to its publisher,
     * and the target's own limits (queue, BLOCK) only see it once it is in
     * the ring: what the ring cannot take at the next push must not grow
     * while the target is slow, so the publisher stops being read as soon
     * as its target ring is full (and, in any case, past GN_XPEND_HIGH). */
    uint32_t n = x->pend[to].n;
    if (!pub || (n < GN_XPEND_HIGH && n <= gn_spsc_free_space(x->out[to])))
        return;
    for (uint32_t i = 0; i < x->nheld; i++)
        if (x->held[i] == pub)
            return;
    if (x->nheld == x->capheld) {
        uint64_t *n = gn_grow(x->held, &x->capheld, sizeof *n, 16);
        if (!n)
            return;
        x->held = n;
    }
    x->held[x->nheld++] = pub;
    gn_publisher_block(s, pub);
}

static void release_held(gn_shard *s)
{
    gn_xshard *x = &s->x;
    uint64_t *h = x->held;
    uint32_t n = x->nheld;
    x->held = NULL;
    x->nheld = x->capheld = 0;
    for (uint32_t i = 0; i < n; i++)
        gn_publisher_unblock(s, h[i]);
    free(h);
}

bool gn_xshard_push(gn_shard *s)
{
    if (s->x.npend == 0) {
        if (s->x.nheld)
            release_held(s);    /* resumed publishers may queue more */
        return s->x.npend != 0;
    }
    for (uint16_t j = 0; j < s->nshards; j++) {
        gn_xbatch *b = &s->x.pend[j];
        if (b->n == 0)
            continue;
        bool was_empty = false;
        uint32_t pushed = gn_spsc_push_n(s->x.out[j], b->v, b->n, &was_empty);
        if (pushed && was_empty)
            s->tp->wake(s->tpd, &s->eng->shards[j]);
        if (pushed < b->n) {
            memmove(b->v, b->v + pushed, sizeof *b->v * (b->n - pushed));
            b->n -= pushed;
            continue;
        }
        b->n = 0;
        s->x.npend--;
        if (b->cap > 1024) {        /* give back a burst's memory */
            free(b->v);
            b->v = NULL;
            b->cap = 0;
        }
    }
    if (s->x.npend == 0 && s->x.nheld)
        release_held(s);
    return s->x.npend != 0;
}

bool gn_xshard_pending(const gn_shard *s)
{
    return s->x.npend != 0;
}

uint32_t gn_xshard_drain(gn_shard *s)
{
    gn_xslot batch[64];
    uint32_t total = 0;
    for (uint16_t i = 0; i < s->nshards; i++) {
        if (!s->x.in[i])
            continue;
        /* At most 16 batches per ring per turn, so one busy producer
         * cannot starve this shard's own sockets. */
        for (int round = 0; round < 16; round++) {
            uint32_t n = gn_spsc_pop_n(s->x.in[i], batch, 64);
            for (uint32_t k = 0; k < n; k++)
                gn_xshard_handle(s, i, &batch[k]);
            total += n;
            if (n < 64)
                break;
        }
    }
    return total;
}

void gn_xslot_deliver(gn_xslot *sl, const gn_rdeliv *d, gn_msg *m, uint16_t pub_shard, uint64_t pub)
{
    memset(sl, 0, sizeof *sl);
    sl->kind = GN_X_DELIVER;
    sl->qos = d->qos;
    sl->flags = d->flags;
    sl->nsub = d->nsub_ids > GN_X_SUBIDS ? GN_X_SUBIDS : d->nsub_ids;
    memcpy(sl->sub_ids, d->sub_ids, sizeof(uint32_t) * sl->nsub);
    sl->pub_shard = pub_shard;
    sl->session = d->session;
    sl->pub = pub;
    sl->ptr = gn_msg_ref(m);
}
