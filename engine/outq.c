/* engine/outq.c — a connection's outbound byte queue (see outq.h).
 * Items form a ring; consecutive copies into the same chunk extend the last
 * item instead of adding one, so a burst of small packets becomes one iovec. */
#include "engine/outq.h"

#include <stdlib.h>
#include <string.h>

void gn_opool_init(gn_opool *p, size_t max_free)
{
    p->free = NULL;
    p->nfree = 0;
    p->max_free = max_free;
}

void gn_opool_drain(gn_opool *p)
{
    while (p->free) {
        gn_ochunk *c = p->free;
        p->free = c->next;
        free(c);
    }
    p->nfree = 0;
}

static gn_ochunk *chunk_get(gn_opool *p)
{
    gn_ochunk *c = p->free;
    if (c) {
        p->free = c->next;
        p->nfree--;
    } else {
        c = malloc(sizeof *c);
        if (!c)
            return NULL;
    }
    c->next = NULL;
    c->used = 0;
    c->refs = 1;        /* the tail reference */
    return c;
}

static void chunk_put(gn_opool *p, gn_ochunk *c)
{
    if (--c->refs)
        return;
    if (p->nfree < p->max_free) {
        c->next = p->free;
        p->free = c;
        p->nfree++;
    } else {
        free(c);
    }
}

static int ring_grow(gn_outq *q)
{
    uint32_t ncap = q->cap ? q->cap * 2 : 8;
    gn_oitem *n = malloc(sizeof *n * ncap);
    if (!n)
        return -1;
    for (uint32_t i = 0; i < q->count; i++)
        n[i] = q->items[(q->head + i) & (q->cap - 1)];
    free(q->items);
    q->items = n;
    q->head = 0;
    q->cap = ncap;
    return 0;
}

static gn_oitem *push_item(gn_outq *q)
{
    if (q->count == q->cap && ring_grow(q) < 0)
        return NULL;
    gn_oitem *it = &q->items[(q->head + q->count) & (q->cap - 1)];
    q->count++;
    return it;
}

static gn_oitem *last_item(gn_outq *q)
{
    return q->count ? &q->items[(q->head + q->count - 1) & (q->cap - 1)] : NULL;
}

uint8_t *gn_outq_reserve(gn_outq *q, gn_opool *p, size_t len)
{
    if (len > sizeof q->tail->data)
        return NULL;
    if (!q->tail || q->tail->used + len > sizeof q->tail->data) {
        gn_ochunk *c = chunk_get(p);
        if (!c)
            return NULL;
        if (q->tail)
            chunk_put(p, q->tail);      /* drop the tail reference */
        q->tail = c;
    }
    gn_ochunk *c = q->tail;
    uint8_t *dst = c->data + c->used;
    gn_oitem *last = last_item(q);
    /* Extend the previous item when it ends exactly where these bytes go
     * (and is not partly written, which would not matter, but keep it simple). */
    if (last && last->chunk == c && last->base + last->len == dst) {
        last->len += (uint32_t)len;
    } else {
        gn_oitem *it = push_item(q);
        if (!it)
            return NULL;
        it->base = dst;
        it->len = (uint32_t)len;
        it->chunk = c;
        it->msg = NULL;
        c->refs++;
    }
    c->used += (uint32_t)len;
    q->bytes += len;
    return dst;
}

int gn_outq_put(gn_outq *q, gn_opool *p, const void *data, size_t len)
{
    const uint8_t *src = data;
    while (len) {
        size_t room = q->tail ? sizeof q->tail->data - q->tail->used : 0;
        size_t n = len;
        if (room == 0)
            room = sizeof q->tail->data;
        if (n > room)
            n = room;
        uint8_t *dst = gn_outq_reserve(q, p, n);
        if (!dst)
            return -1;
        memcpy(dst, src, n);
        src += n;
        len -= n;
    }
    return 0;
}

int gn_outq_put_ref(gn_outq *q, gn_opool *p, gn_msg *msg, const void *data, size_t len)
{
    (void)p;
    if (len == 0)
        return 0;
    gn_oitem *it = push_item(q);
    if (!it)
        return -1;
    it->base = data;
    it->len = (uint32_t)len;
    it->chunk = NULL;
    it->msg = gn_msg_ref(msg);
    q->bytes += len;
    return 0;
}

size_t gn_outq_iov(const gn_outq *q, struct iovec *iov, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < q->count && n < max; i++) {
        const gn_oitem *it = &q->items[(q->head + i) & (q->cap - 1)];
        uint32_t off = i == 0 ? q->head_off : 0;
        iov[n].iov_base = (void *)(it->base + off);
        iov[n].iov_len = it->len - off;
        n++;
    }
    return n;
}

static void release_item(gn_outq *q, gn_opool *p, gn_oitem *it)
{
    if (it->chunk) {
        if (it->chunk == q->tail && it->chunk->refs == 2 &&
            it->base + it->len == it->chunk->data + it->chunk->used) {
            /* Last bytes of the tail chunk are out: rewind it for reuse. */
            it->chunk->used = 0;
        }
        chunk_put(p, it->chunk);
    }
    if (it->msg)
        gn_msg_unref(it->msg);
}

void gn_outq_consume(gn_outq *q, gn_opool *p, size_t n)
{
    q->bytes -= n;
    while (n && q->count) {
        gn_oitem *it = &q->items[q->head];
        size_t left = it->len - q->head_off;
        if (n < left) {
            q->head_off += (uint32_t)n;
            return;
        }
        n -= left;
        q->head_off = 0;
        release_item(q, p, it);
        q->head = (q->head + 1) & (q->cap - 1);
        q->count--;
    }
    if (q->count == 0) {
        /* Idle connections hold no queue memory. */
        free(q->items);
        q->items = NULL;
        q->cap = 0;
        q->head = 0;
        if (q->tail) {
            chunk_put(p, q->tail);
            q->tail = NULL;
        }
    }
}

void gn_outq_clear(gn_outq *q, gn_opool *p)
{
    gn_outq_consume(q, p, q->bytes);
    q->bytes = 0;
}
