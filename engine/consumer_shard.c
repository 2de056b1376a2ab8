/* engine/consumer_shard.c — the shard side of consumers: writing event
 * records (with the decoded platform fields) into the consumers' rings
 * straight from the receive buffer, the block-mode rule (no room: the
 * PUBLISH is not consumed, its publisher is paused through the engine's
 * publisher-pause mechanism and the packet is handled again once the ring
 * drained, so its PUBACK follows the placement), the overflow of messages
 * that have no socket to pause, the per-turn publication with eventfd
 * wake-ups on empty -> non-empty (or, for an inline consumer, the call of
 * its on_events on this thread), in-process publishes, and close
 * acknowledgements.
 *
 * Threading: shard s's thread; touches only rings[s->id] / side[s->id] of
 * each consumer. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/consumer.h"
#include "engine/consumer_topic.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/session.h"
#include "engine/shard.h"

/* ---------------------------------------------------------------- records */

typedef struct rec_parts {
    const uint8_t *topic, *cid, *payload;
    uint32_t       topic_len, cid_len, payload_len;
    uint8_t        qos, flags;
    uint64_t       now_ns;
} rec_parts;

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fill(gn_shard *s, gn_event *ev, const rec_parts *p)
{
    ev->payload_len = p->payload_len;
    ev->topic_len = (uint16_t)p->topic_len;
    ev->client_id_len = (uint16_t)p->cid_len;
    ev->qos = p->qos;
    ev->shard = s->id;
    ev->received_ns = p->now_ns;
    ev->device_type = ev->device_id = ev->event_id = ev->format = (gn_field){ 0, 0 };
    ev->flags = (uint8_t)(p->flags | gn_platform_topic_fields(p->topic, p->topic_len, ev));
    char *d = ev->data;
    memcpy(d, p->topic, p->topic_len);
    d[p->topic_len] = 0;
    d += p->topic_len + 1;
    if (p->cid_len)
        memcpy(d, p->cid, p->cid_len);
    d[p->cid_len] = 0;
    d += p->cid_len + 1;
    if (p->payload_len)
        memcpy(d, p->payload, p->payload_len);
}

static uint64_t parts_size(const rec_parts *p)
{
    return gn_cring_record_size(p->topic_len, p->cid_len, p->payload_len);
}

/* Unpublished bytes after which a ring is published at once instead of at
 * the end of the turn: a busy turn handles thousands of messages, and the
 * first of them should not wait for the last (latency), while one
 * publication per few hundred records costs nothing (throughput). */
#define EAGER_PUBLISH_BYTES 8192u

/* This shard woke a consumer that sleeps on this shard's CPU during the
 * current turn: yield at its end (GN_WAKE_YIELD). Shard thread only. */
static _Thread_local bool yield_due;

static void count_one(_Atomic uint64_t *c)
{
    /* relaxed: single-writer statistics counter */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1, memory_order_relaxed);
}

static void signal_consumer(gn_consumer *k, gn_cring *r)
{
    /* relaxed: a placement hint (gn_consumer.wait_cpu) */
    if (k->wake_yield && atomic_load_explicit(&k->wait_cpu, memory_order_relaxed) == sched_getcpu()) {
        yield_due = true;
        count_one(&r->yields);
    }
    count_one(&r->signals);
    uint64_t one = 1;
    ssize_t w = write(k->efd, &one, sizeof one);
    (void)w;    /* EAGAIN: the counter is saturated, the consumer is awake anyway */
}

/* An inline consumer: hand everything this shard published to on_events
 * on this thread, then release it (producer and consumer are one thread
 * here, so the ring's single-consumer rule holds). The producer-blocked
 * hints of take and release are ours: the turn's drained() check resumes
 * paused publishers. */
static void run_inline(gn_shard *s, gn_consumer *k, gn_cring *r)
{
    uint64_t first = 0, end = 0;
    bool wake = false;
    uint32_t n = gn_cring_take(r, UINT32_MAX, &first, &end, &wake);
    if (!n)
        return;
    gn_batch b = { .buf = r->buf, .mask = r->mask, .pos = first, .end = end,
                   .ring = s->id, .count = n };
    count_one(&r->signals);
    k->on_events(k->on_events_arg, &b);
    (void)gn_cring_release(r);
}

/* Publish what this shard wrote into k's ring: wake a sleeping consumer,
 * or run an inline one. */
static void publish(gn_shard *s, gn_consumer *k, gn_cring *r)
{
    bool was_empty = gn_cring_publish(r);
    if (k->on_events)
        run_inline(s, k, r);
    else if (was_empty)
        signal_consumer(k, r);
}

static void put(gn_shard *s, gn_consumer *k, const rec_parts *p)
{
    gn_cring *r = &k->rings[s->id];
    gn_event *ev = gn_cring_reserve(r, parts_size(p));
    if (!ev)
        return;
    fill(s, ev, p);
    /* relaxed: the producer reads its own last store */
    if (r->ptail - atomic_load_explicit(&r->tail, memory_order_relaxed) >= EAGER_PUBLISH_BYTES)
        publish(s, k, r);
}

static gn_consumer *lookup(gn_shard *s, uint64_t sid)
{
    uint64_t idx = sid & ~GN_CONSUMER_SID;
    if (idx >= GN_CONSUMERS_MAX)
        return NULL;
    /* acquire: pairs with the release in gn_consumer_open */
    gn_consumer *k = atomic_load_explicit(&s->eng->consumers->slot[idx], memory_order_acquire);
    if (!k || k->sid != sid || k->side[s->id].acked)
        return NULL;
    return k;
}

/* ---------------------------------------------------------------- waiting */

static void wait_on(gn_shard *s, gn_cside *sd, uint64_t pub)
{
    for (uint32_t i = 0; i < sd->nwait; i++)
        if (sd->wait[i] == pub)
            return;
    if (sd->nwait == sd->capwait) {
        uint32_t ncap = sd->capwait ? sd->capwait * 2 : 16;
        uint64_t *v = realloc(sd->wait, sizeof *v * ncap);
        if (!v)
            return;     /* not paused: the replay is retried on its next bytes */
        sd->wait = v;
        sd->capwait = ncap;
    }
    sd->wait[sd->nwait++] = pub;
    gn_publisher_block(s, pub);
}

static void release_waiters(gn_shard *s, gn_cside *sd)
{
    uint32_t n = sd->nwait;
    sd->nwait = 0;
    for (uint32_t i = 0; i < n; i++)
        gn_publisher_unblock(s, sd->wait[i]);
    if (sd->capwait > 64) {
        free(sd->wait);
        sd->wait = NULL;
        sd->capwait = 0;
    }
}

/* Room for the paused publishers again: half the ring free (hysteresis,
 * so a resumed publisher does not stop again at its next message). */
static bool drained(gn_cring *r)
{
    if (gn_cring_free(r) >= r->cap / 2)
        return true;
    /* seq_cst: before the re-check; the consumer's release wakes us (see gn_cring_fits) */
    atomic_store(&r->prod_waiting, 1);
    return gn_cring_free(r) >= r->cap / 2;
}

/* ---------------------------------------------------------------- delivery */

long gn_consumer_on_publish(gn_shard *s, gn_conn *c, gn_session *ss, const gn_publish *pub,
                            const gn_rdeliv *dl, size_t n)
{
    rec_parts p = {
        .topic = pub->topic.ptr, .topic_len = pub->topic.len,
        .cid = (const uint8_t *)ss->client_id, .cid_len = ss->cid_pub_len,
        .payload = pub->payload.ptr, .payload_len = pub->payload.len,
        .qos = pub->qos, .flags = pub->retain ? GN_EVENT_RETAIN : 0,
    };
    uint64_t size = parts_size(&p);
    long rest = 0;
    bool any = false, full = false;
    for (size_t i = 0; i < n; i++) {
        if (!gn_consumer_sid(dl[i].session)) {
            rest++;
            continue;
        }
        gn_consumer *k = lookup(s, dl[i].session);
        if (!k)
            continue;
        any = true;
        if (!k->block)
            continue;
        gn_cside *sd = &k->side[s->id];
        gn_cring *r = &k->rings[s->id];
        if (size > r->cap / 2)
            continue;       /* can never fit: counted as oversize below, not waited for */
        if (sd->novf || !gn_cring_fits(r, size)) {
            wait_on(s, sd, ss->sid);
            full = true;
        }
    }
    if (full) {
        c->replay = true;
        gn_stat_add(&s->stats.msgs_in, (uint64_t)-1);     /* counted again when handled */
        return -1;
    }
    if (!any)
        return rest;
    p.now_ns = realtime_ns();
    for (size_t i = 0; i < n; i++) {
        if (!gn_consumer_sid(dl[i].session))
            continue;
        gn_consumer *k = lookup(s, dl[i].session);
        if (k)
            put(s, k, &p);
    }
    return rest;
}

static void msg_parts(const gn_msg *m, rec_parts *p)
{
    *p = (rec_parts){
        .topic = (const uint8_t *)gn_msg_topic(m), .topic_len = m->topic_len,
        .payload = gn_msg_payload(m), .payload_len = m->payload_len,
        .qos = m->qos, .flags = m->retain ? GN_EVENT_RETAIN : 0,
        .now_ns = realtime_ns(),
    };
}

static void ovf_push(gn_cside *sd, gn_msg *m)
{
    if (sd->novf == sd->capovf) {
        uint32_t ncap = sd->capovf ? sd->capovf * 2 : 16;
        gn_msg **v = realloc(sd->ovf, sizeof *v * ncap);
        if (!v) {
            gn_log_warn("consumer: out of memory, event '%s' lost", gn_msg_topic(m));
            return;
        }
        sd->ovf = v;
        sd->capovf = ncap;
    }
    sd->ovf[sd->novf++] = gn_msg_ref(m);
}

void gn_consumer_on_msg(gn_shard *s, gn_msg *m, const gn_rdeliv *dl, size_t n)
{
    rec_parts p;
    bool have = false;
    for (size_t i = 0; i < n; i++) {
        if (!gn_consumer_sid(dl[i].session))
            continue;
        gn_consumer *k = lookup(s, dl[i].session);
        if (!k)
            continue;
        if (!have) {
            msg_parts(m, &p);
            have = true;
        }
        gn_cring *r = &k->rings[s->id];
        gn_cside *sd = &k->side[s->id];
        uint64_t size = parts_size(&p);
        if (k->block && size <= r->cap / 2 && (sd->novf || !gn_cring_fits(r, size)))
            ovf_push(sd, m);
        else
            put(s, k, &p);
    }
}

/* Place queued messages in order while they fit. */
static void ovf_flush(gn_shard *s, gn_consumer *k, gn_cside *sd, gn_cring *r)
{
    uint32_t i = 0;
    for (; i < sd->novf; i++) {
        rec_parts p;
        msg_parts(sd->ovf[i], &p);
        if (!gn_cring_fits(r, parts_size(&p)))
            break;
        put(s, k, &p);
        gn_msg_unref(sd->ovf[i]);
    }
    memmove(sd->ovf, sd->ovf + i, sizeof *sd->ovf * (sd->novf - i));
    sd->novf -= i;
}

/* ---------------------------------------------------------------- per turn */

static void side_release(gn_shard *s, gn_consumer *k, gn_cside *sd)
{
    release_waiters(s, sd);
    for (uint32_t i = 0; i < sd->novf; i++)
        gn_msg_unref(sd->ovf[i]);
    free(sd->ovf);
    free(sd->wait);
    sd->ovf = NULL;
    sd->wait = NULL;
    sd->novf = sd->capovf = sd->capwait = 0;
    sd->acked = true;
    /* seq_cst: after the cleanup above; gn_consumer_close frees once every shard counted */
    atomic_fetch_add(&k->acks, 1);
}

/* Route up to a bounded number of gn_engine_publish messages. Returns true
 * when more are waiting. */
static bool drain_inproc(gn_shard *s)
{
    gn_inproc *q = &s->eng->consumers->inproc;
    gn_msg *batch[256];
    pthread_mutex_lock(&q->mu);
    uint32_t n = gn_inproc_pop(q, batch, 256);
    bool more = q->n != 0;
    /* relaxed: a hint; the next publish sets it again under the mutex */
    atomic_store_explicit(&q->pending, more, memory_order_relaxed);
    pthread_mutex_unlock(&q->mu);
    for (uint32_t i = 0; i < n; i++) {
        gn_stat_add(&s->stats.msgs_in, 1);
        gn_route_publish(s, batch[i], batch[i]->retain, 0);
        gn_msg_unref(batch[i]);
    }
    return more;
}

/* A group member's load hint for the router's picker: the fullest of its
 * rings (every ring's tail and head are atomics any thread may read). */
static uint32_t group_depth(gn_shard *s, gn_consumer *k)
{
    uint64_t worst = 0, cap = k->rings[0].cap;
    for (uint16_t i = 0; i < k->nrings; i++) {
        gn_cring *r = &k->rings[i];
        /* acquire / seq_cst loads of the other side's positions: a hint only */
        uint64_t used = atomic_load_explicit(&r->tail, memory_order_acquire) -
                        (atomic_load(&r->head) >> 1);
        if (i == s->id)
            used = r->ptail - (atomic_load(&r->head) >> 1);   /* seq_cst: as above; ours unpublished too */
        if (used > worst)
            worst = used;
    }
    uint64_t full = s->cfg.max_queued_messages ? s->cfg.max_queued_messages : 2;
    return (uint32_t)(worst * full / cap);
}

bool gn_consumers_turn(gn_shard *s)
{
    gn_cset *cs = s->eng->consumers;
    bool busy = false;
    if (s->id == 0 && atomic_load_explicit(&cs->inproc.pending, memory_order_relaxed))
        busy = drain_inproc(s);     /* relaxed: hint, the mutex orders the queue */
    /* acquire: pairs with the release in gn_consumer_open */
    uint32_t n = atomic_load_explicit(&cs->nslots, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        /* acquire: as above */
        gn_consumer *k = atomic_load_explicit(&cs->slot[i], memory_order_acquire);
        if (!k || k->side[s->id].acked)
            continue;
        gn_cside *sd = &k->side[s->id];
        gn_cring *r = &k->rings[s->id];
        /* seq_cst: pairs with the store in gn_consumer_close */
        if (atomic_load(&k->closing)) {
            side_release(s, k, sd);
            continue;
        }
        if (sd->novf)
            ovf_flush(s, k, sd, r);
        if (gn_cring_dirty(r))
            publish(s, k, r);
        if (k->grouped) {
            uint32_t d = group_depth(s, k);
            /* relaxed: a load hint for pickers (see gn_consumer.depth) */
            atomic_store_explicit(&k->depth, d, memory_order_relaxed);
            /* A full member: let its waiting publishers replay (at most once a
             * millisecond), so the picker can choose a member with room. */
            if (sd->nwait && d >= s->cfg.max_queued_messages / 2 && s->now_ms != sd->repick_ms) {
                sd->repick_ms = s->now_ms;
                release_waiters(s, sd);
                continue;
            }
        }
        if (sd->nwait && !sd->novf && drained(r))
            release_waiters(s, sd);
    }
    if (yield_due) {
        /* hand the CPU to the consumer we woke on it: it reads and sleeps
         * again in microseconds, where waiting for this shard to block
         * could take many turns under load */
        yield_due = false;
        sched_yield();
    }
    return busy;
}

void gn_consumers_shard_fini(gn_shard *s)
{
    gn_cset *cs = s->eng->consumers;
    /* acquire: as in gn_consumers_turn */
    uint32_t n = atomic_load_explicit(&cs->nslots, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        gn_consumer *k = atomic_load_explicit(&cs->slot[i], memory_order_acquire);  /* acquire: as above */
        if (k && !k->side[s->id].acked)
            side_release(s, k, &k->side[s->id]);
    }
}
