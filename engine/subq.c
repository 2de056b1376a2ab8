/* engine/subq.c — the lanes of a session's outbound queue (engine/subq.h):
 * per-lane rings of (sequence, entry), the min-heap of non-empty lanes on
 * their oldest sequence that gives the cross-lane order, lane lookup by
 * key (a scan of the non-empty lanes, newest first: a session's queued
 * messages usually come from one or two subscriptions), and the
 * oldest-dropped bound.
 *
 * Threading: the owning session's shard only. */
#include <stdlib.h>
#include <string.h>

#include "engine/subq.h"
#include "engine/grow.h"

typedef struct lane_ent {
    uint64_t seq;
    gn_qent  e;
} lane_ent;

struct gn_subq_lane {
    uint64_t  key;
    lane_ent *v;
    uint32_t  head, count, cap;     /* ring: v[head], v[head+1 mod cap], ... */
    uint32_t  pos;                  /* index in gn_subq.heap */
};

/* Rings of at most this many entries are kept for reuse when they empty. */
#define SPARE_MAX_CAP 64

static lane_ent *lane_at(gn_subq_lane *l, uint32_t i)
{
    uint32_t j = l->head + i;
    return &l->v[j >= l->cap ? j - l->cap : j];
}

static uint64_t lane_seq(const gn_subq_lane *l)
{
    return l->v[l->head].seq;
}

/* ---------------------------------------------------------------- heap */

static void heap_set(gn_subq *q, uint32_t i, gn_subq_lane *l)
{
    q->heap[i] = l;
    l->pos = i;
}

static void sift_up(gn_subq *q, uint32_t i)
{
    gn_subq_lane *l = q->heap[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (lane_seq(q->heap[p]) <= lane_seq(l))
            break;
        heap_set(q, i, q->heap[p]);
        i = p;
    }
    heap_set(q, i, l);
}

static void sift_down(gn_subq *q, uint32_t i)
{
    gn_subq_lane *l = q->heap[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= q->nlanes)
            break;
        if (c + 1 < q->nlanes && lane_seq(q->heap[c + 1]) < lane_seq(q->heap[c]))
            c++;
        if (lane_seq(l) <= lane_seq(q->heap[c]))
            break;
        heap_set(q, i, q->heap[c]);
        i = c;
    }
    heap_set(q, i, l);
}

/* ---------------------------------------------------------------- lanes */

static gn_subq_lane *lane_find(const gn_subq *q, uint64_t key)
{
    for (uint32_t i = q->nlanes; i-- > 0;)     /* newest lanes sit near the end */
        if (q->heap[i]->key == key)
            return q->heap[i];
    return NULL;
}

static void lane_free(gn_subq_lane *l)
{
    if (l) {
        free(l->v);
        free(l);
    }
}

/* A new empty lane for key, in the heap once it holds its first entry. */
static gn_subq_lane *lane_new(gn_subq *q, uint64_t key)
{
    if (q->nlanes == q->caplanes) {
        gn_subq_lane **h = gn_grow(q->heap, &q->caplanes, sizeof *h, 4);
        if (!h)
            return NULL;
        q->heap = h;
    }
    gn_subq_lane *l = q->spare;
    if (l) {
        q->spare = NULL;
    } else if (!(l = calloc(1, sizeof *l))) {
        return NULL;
    }
    l->key = key;
    l->head = l->count = 0;
    return l;
}

/* The lane is empty: out of the heap, kept as the spare or freed. */
static void lane_retire(gn_subq *q, gn_subq_lane *l)
{
    uint32_t i = l->pos;
    gn_subq_lane *last = q->heap[--q->nlanes];
    if (last != l) {
        heap_set(q, i, last);
        sift_down(q, i);
        sift_up(q, last->pos);
    }
    if (l->cap <= SPARE_MAX_CAP && !q->spare) {
        q->spare = l;
    } else {
        lane_free(l);
    }
    if (q->nlanes == 0) {
        free(q->heap);
        q->heap = NULL;
        q->caplanes = 0;
    }
}

static int lane_grow(gn_subq_lane *l, uint32_t bound)
{
    uint32_t ncap = l->cap ? l->cap * 2 : 8;
    if (ncap < l->cap)
        ncap = UINT32_MAX;
    if (bound && ncap > bound)
        ncap = bound;
    lane_ent *n = malloc(sizeof *n * ncap);
    if (!n)
        return -1;
    for (uint32_t i = 0; i < l->count; i++)
        n[i] = *lane_at(l, i);
    free(l->v);
    l->v = n;
    l->head = 0;
    l->cap = ncap;
    return 0;
}

/* ---------------------------------------------------------------- queue */

int gn_subq_push(gn_subq *q, uint64_t key, const gn_qent *e, uint32_t cap)
{
    gn_subq_lane *l = lane_find(q, key);
    bool fresh = l == NULL;
    if (fresh && !(l = lane_new(q, key)))
        return -1;
    int dropped = 0;
    while (cap && l->count >= cap) {
        /* Full (or its bound was lowered): the lane's oldest make room.
         * Its sequence was the lane's heap key, so the lane moves down. */
        lane_ent *old = lane_at(l, 0);
        if (old->e.msg)
            gn_msg_unref(old->e.msg);
        l->head = l->head + 1 == l->cap ? 0 : l->head + 1;
        l->count--;
        q->count--;
        dropped++;
    }
    if (l->count == l->cap && lane_grow(l, cap) < 0) {
        if (fresh) {
            if (!q->spare)
                q->spare = l;
            else
                lane_free(l);
        }
        return -1;
    }
    lane_ent *slot = lane_at(l, l->count);
    slot->seq = q->next_seq++;
    slot->e = *e;
    l->count++;
    q->count++;
    if (fresh) {
        q->heap[q->nlanes++] = l;
        sift_up(q, q->nlanes - 1);
    } else if (dropped) {
        sift_down(q, l->pos);       /* its oldest sequence only grew */
    }
    return dropped;
}

bool gn_subq_pop(gn_subq *q, gn_qent *out)
{
    if (!q->nlanes)
        return false;
    gn_subq_lane *l = q->heap[0];
    *out = lane_at(l, 0)->e;
    l->head = l->head + 1 == l->cap ? 0 : l->head + 1;
    l->count--;
    q->count--;
    if (l->count == 0)
        lane_retire(q, l);
    else
        sift_down(q, 0);
    return true;
}

uint32_t gn_subq_lane_count(const gn_subq *q, uint64_t key)
{
    const gn_subq_lane *l = lane_find(q, key);
    return l ? l->count : 0;
}

void gn_subq_each(const gn_subq *q, void (*fn)(void *ctx, const gn_qent *e), void *ctx)
{
    for (uint32_t i = 0; i < q->nlanes; i++) {
        gn_subq_lane *l = q->heap[i];
        for (uint32_t k = 0; k < l->count; k++)
            fn(ctx, &lane_at(l, k)->e);
    }
}

void gn_subq_clear(gn_subq *q)
{
    for (uint32_t i = 0; i < q->nlanes; i++) {
        gn_subq_lane *l = q->heap[i];
        for (uint32_t k = 0; k < l->count; k++) {
            gn_msg *m = lane_at(l, k)->e.msg;
            if (m)
                gn_msg_unref(m);
        }
        lane_free(l);
    }
    free(q->heap);
    lane_free(q->spare);
    memset(q, 0, sizeof *q);
}
