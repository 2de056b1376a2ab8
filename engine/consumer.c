/* engine/consumer.c — the consumer side of libgannet's consumer API
 * (engine/gannet.h): open (rings, eventfd, table slot, router
 * subscription), close (unsubscribe, shards acknowledge, grace period,
 * free), poll / release / wait / stats on the consumer thread, and the
 * in-process publish call. The shard side is engine/consumer_shard.c. */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "codec/errors.h"
#include "codec/topic.h"
#include "engine/consumer.h"
#include "engine/engine_int.h"
#include "engine/log.h"
#include "engine/shard.h"

#define DEFAULT_RING_BYTES (4u << 20)

int gn_cset_create(gn_engine *e)
{
    gn_cset *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -1;
    pthread_mutex_init(&cs->inproc.mu, NULL);
    e->consumers = cs;
    return 0;
}

void gn_cset_destroy(gn_engine *e)
{
    gn_cset *cs = e->consumers;
    if (!cs)
        return;
    /* relaxed: the controller reads its own stores; no shard runs */
    uint32_t n = atomic_load_explicit(&cs->nslots, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++) {
        gn_consumer *c = atomic_load_explicit(&cs->slot[i], memory_order_relaxed);
        if (c)
            gn_consumer_close(c);
    }
    gn_msg *m;
    while (gn_inproc_pop(&cs->inproc, &m, 1))
        gn_msg_unref(m);
    free(cs->inproc.v);
    pthread_mutex_destroy(&cs->inproc.mu);
    free(cs);
    e->consumers = NULL;
}

static int take_slot(gn_cset *cs)
{
    /* relaxed: only the controller writes slots and nslots */
    uint32_t n = atomic_load_explicit(&cs->nslots, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++)
        if (!atomic_load_explicit(&cs->slot[i], memory_order_relaxed))
            return (int)i;
    return n < GN_CONSUMERS_MAX ? (int)n : -1;
}

static bool group_ok(const char *g)
{
    if (!*g)
        return false;
    for (const char *p = g; *p; p++)
        if (*p == '/' || *p == '+' || *p == '#')
            return false;
    return true;
}

static void consumer_free(gn_consumer *c)
{
    for (uint16_t i = 0; i < c->nrings; i++) {
        gn_cside *sd = &c->side[i];
        for (uint32_t k = 0; k < sd->novf; k++)
            gn_msg_unref(sd->ovf[k]);
        free(sd->ovf);
        free(sd->wait);
        gn_cring_fini(&c->rings[i]);
    }
    if (c->efd >= 0)
        close(c->efd);
    free(c->side);
    free(c->sub_filter);
    free(c);
}

/* Subscribe c in the engine's router; returns the router's reason (<= 2: ok). */
static uint8_t subscribe(gn_consumer *c)
{
    gn_route_ctx rc = { .router = c->eng->router, .shard = 0 };
    bool existed = false;
    return gn_route_subscribe(&rc, c->sid, (const uint8_t *)c->sub_filter, c->sub_len,
                              2 /* QoS 2: events keep the published QoS */, 0,
                              c->grouped ? &c->depth : NULL, &existed);
}

int gn_consumers_rearm(gn_engine *e, char *err, size_t errlen)
{
    gn_cset *cs = e->consumers;
    /* relaxed: the controller reads its own stores; no shard runs */
    uint32_t n = atomic_load_explicit(&cs->nslots, memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++) {
        gn_consumer *c = atomic_load_explicit(&cs->slot[i], memory_order_relaxed);
        if (!c)
            continue;
        for (uint16_t k = 0; k < c->nrings; k++) {
            gn_cside *sd = &c->side[k];
            sd->acked = false;      /* the exiting shards released everything */
            sd->repick_ms = 0;
            /* seq_cst: no shard runs; the consumer thread may still be polling */
            atomic_store(&c->rings[k].prod_waiting, 0);
        }
        /* seq_cst: read by the shards of the new run after their creation */
        atomic_store(&c->acks, 0);
        uint8_t r = subscribe(c);
        if (r > 2) {
            snprintf(err, errlen, "consumer %u: the new router refused '%s' (0x%02x)", c->idx,
                     c->sub_filter, r);
            return -1;
        }
    }
    return 0;
}

gn_consumer *gn_consumer_open(gn_engine *e, const gn_consumer_opts *o, char *err, size_t errlen)
{
    if (!o || !o->filter) {
        snprintf(err, errlen, "consumer: no topic filter");
        return NULL;
    }
    size_t flen = strlen(o->filter);
    gn_err fe = gn_topic_filter_check((const uint8_t *)o->filter, flen);
    if (flen == 0 || fe != GN_OK) {
        snprintf(err, errlen, "consumer: invalid topic filter '%s': %s", o->filter,
                 flen ? gn_err_text(fe) : "empty");
        return NULL;
    }
    if (o->group && !group_ok(o->group)) {
        snprintf(err, errlen, "consumer: invalid group name '%s' (empty, or has '/', '+', '#')", o->group);
        return NULL;
    }
    if (o->backpressure != GN_BACKPRESSURE_BLOCK && o->backpressure != GN_BACKPRESSURE_DROP_OLDEST) {
        snprintf(err, errlen, "consumer: unknown backpressure %d", (int)o->backpressure);
        return NULL;
    }
    if (o->wake != GN_WAKE_YIELD && o->wake != GN_WAKE_NO_YIELD) {
        snprintf(err, errlen, "consumer: unknown wake policy %d", (int)o->wake);
        return NULL;
    }
    if (o->spin_us < -1 || o->spin_us > GN_CONSUMER_SPIN_MAX_US) {
        snprintf(err, errlen, "consumer: spin_us %d (-1: never, 0: default, 1..%d)", (int)o->spin_us,
                 GN_CONSUMER_SPIN_MAX_US);
        return NULL;
    }
    gn_cset *cs = e->consumers;
    int idx = take_slot(cs);
    if (idx < 0) {
        snprintf(err, errlen, "consumer: at most %u consumers per engine", GN_CONSUMERS_MAX);
        return NULL;
    }
    gn_consumer *c = calloc(1, sizeof *c + sizeof(gn_cring) * e->nshards);
    if (!c) {
        snprintf(err, errlen, "consumer: out of memory");
        return NULL;
    }
    c->efd = -1;
    c->eng = e;
    c->idx = (uint32_t)idx;
    c->sid = GN_CONSUMER_SID | (uint64_t)idx;
    c->block = o->backpressure == GN_BACKPRESSURE_BLOCK;
    int32_t spin = o->spin_us == 0 ? GN_CONSUMER_SPIN_DEFAULT_US : o->spin_us;
    c->spin_ns = spin > 0 ? (uint64_t)spin * 1000u : 0;
    c->wake_yield = o->wake == GN_WAKE_YIELD && !o->on_events;
    c->on_events = o->on_events;
    c->on_events_arg = o->on_events_arg;
    atomic_init(&c->wait_cpu, -1);
    c->nrings = e->nshards;
    c->side = calloc(e->nshards, sizeof *c->side);
    size_t sl = o->group ? strlen("$share/") + strlen(o->group) + 1 + flen : flen;
    c->sub_filter = malloc(sl + 1);
    /* an inline consumer is never woken: no eventfd (one fd less per consumer) */
    if (!c->on_events)
        c->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    bool ok = c->side && c->sub_filter && (c->on_events || c->efd >= 0);
    for (uint16_t i = 0; ok && i < c->nrings; i++)
        ok = gn_cring_init(&c->rings[i], o->ring_bytes ? o->ring_bytes : DEFAULT_RING_BYTES,
                           !c->block) == 0;
    if (!ok) {
        snprintf(err, errlen, "consumer: %s",
                 !c->on_events && c->efd < 0 ? strerror(errno) : "out of memory");
        consumer_free(c);
        return NULL;
    }
    if (o->group)
        snprintf(c->sub_filter, sl + 1, "$share/%s/%s", o->group, o->filter);
    else
        memcpy(c->sub_filter, o->filter, flen + 1);
    c->sub_len = sl;

    /* release: a shard that finds the session id in a match (after the
     * subscription below) finds the consumer initialised */
    atomic_store_explicit(&cs->slot[idx], c, memory_order_release);
    if ((uint32_t)idx >= atomic_load_explicit(&cs->nslots, memory_order_relaxed))
        /* release: shards scan slots below it, each loaded with acquire */
        atomic_store_explicit(&cs->nslots, (uint32_t)idx + 1, memory_order_release);
    c->grouped = o->group != NULL;
    uint8_t r = subscribe(c);
    if (r > 2) {
        snprintf(err, errlen, "consumer: the router refused '%s' (reason 0x%02x)", c->sub_filter, r);
        atomic_store_explicit(&cs->slot[idx], NULL, memory_order_release);  /* release: as above */
        consumer_free(c);
        return NULL;
    }
    gn_log_info("consumer %u: '%s', %s%s, %u ring%s of %llu bytes", c->idx, c->sub_filter,
                c->block ? "block" : "drop-oldest", c->on_events ? ", inline" : "", c->nrings,
                c->nrings == 1 ? "" : "s", (unsigned long long)c->rings[0].cap);
    return c;
}

static void sleep_us(long us)
{
    struct timespec ts = { .tv_sec = 0, .tv_nsec = us * 1000L };
    nanosleep(&ts, NULL);
}

void gn_consumer_close(gn_consumer *c)
{
    if (!c)
        return;
    gn_engine *e = c->eng;
    gn_cset *cs = e->consumers;
    gn_route_ctx rc = { .router = e->router, .shard = 0 };
    gn_route_unsubscribe(&rc, c->sid, (const uint8_t *)c->sub_filter, c->sub_len);
    /* seq_cst: after the unsubscription; a shard that sees it matches no
     * longer return this consumer, and it cleans its side before the ack */
    atomic_store(&c->closing, 1);
    if (e->started) {
        /* seq_cst: pairs with each shard's fetch_add after its cleanup */
        while (atomic_load(&c->acks) < c->nrings) {
            for (uint16_t i = 0; i < e->nshards; i++)
                e->shards[i].tp->ctl_wake(e->shards[i].tpd);
            sleep_us(500);
        }
    }
    /* release: shards stop finding it in the table */
    atomic_store_explicit(&cs->slot[c->idx], NULL, memory_order_release);
    if (e->started)
        gn_route_synchronize(e->router);   /* no shard still holds the pointer */
    consumer_free(c);
}

static void wake_shard(gn_consumer *c, uint32_t ring)
{
    /* The transport (and its eventfd) lives until gn_engine_destroy, so a
     * wake-up of a stopped shard is harmless. */
    gn_shard *s = &c->eng->shards[ring];
    s->tp->ctl_wake(s->tpd);
}

uint32_t gn_consumer_poll(gn_consumer *c, gn_batch *b, uint32_t max)
{
    if (max == 0)
        max = 1;
    /* inline: the shards take the events, there is never anything to poll */
    for (uint16_t k = 0; !c->on_events && k < c->nrings; k++) {
        uint16_t i = (uint16_t)((c->next_ring + k) % c->nrings);
        gn_cring *r = &c->rings[i];
        uint64_t first = 0, end = 0;
        bool wake = false;
        uint32_t n = gn_cring_take(r, max, &first, &end, &wake);
        if (wake)
            wake_shard(c, i);
        if (n) {
            b->buf = r->buf;
            b->mask = r->mask;
            b->pos = first;
            b->end = end;
            b->ring = i;
            b->count = n;
            c->next_ring = (uint16_t)((i + 1) % c->nrings);
            return n;
        }
    }
    memset(b, 0, sizeof *b);
    return 0;
}

void gn_consumer_release(gn_consumer *c, gn_batch *b)
{
    if (!b->buf)
        return;
    if (gn_cring_release(&c->rings[b->ring]))
        wake_shard(c, b->ring);
    b->buf = NULL;
    b->count = 0;
}

int gn_consumer_fd(const gn_consumer *c)
{
    return c->efd;
}

/* Watch the rings for up to c->spin_ns (capped by the caller's timeout):
 * true as soon as one has records. The clock is read every 64 rounds
 * (vDSO, ~20 ns), the rings every round. */
static bool spin_for_events(gn_consumer *c, int timeout_ms)
{
    uint64_t budget = c->spin_ns;
    if (timeout_ms > 0 && (uint64_t)timeout_ms * 1000000u < budget)
        budget = (uint64_t)timeout_ms * 1000000u;
    uint64_t end = gn_clock_ns() + budget;
    for (uint32_t round = 1;; round++) {
        for (uint16_t i = 0; i < c->nrings; i++)
            if (gn_cring_nonempty(&c->rings[i]))
                return true;
        if (round % 64 == 0 && gn_clock_ns() >= end)
            return false;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ volatile("yield");
#endif
    }
}

int gn_consumer_wait(gn_consumer *c, int timeout_ms)
{
    if (c->on_events) {
        errno = EINVAL;     /* inline: the shards deliver, nothing to wait for */
        return -1;
    }
    if (timeout_ms != 0 && c->spin_ns) {
        uint64_t t0 = gn_clock_ns();
        if (spin_for_events(c, timeout_ms))
            return 1;
        if (timeout_ms > 0) {       /* the spin counts against the timeout */
            uint64_t spent = (gn_clock_ns() - t0) / 1000000u;
            timeout_ms = spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
        }
    }
    if (c->wake_yield)
        /* relaxed: a hint for the shard that wakes us (see wait_cpu) */
        atomic_store_explicit(&c->wait_cpu, sched_getcpu(), memory_order_relaxed);
    struct pollfd p = { .fd = c->efd, .events = POLLIN };
    int r = poll(&p, 1, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (r == 0)
        return 0;
    uint64_t v;
    ssize_t n = read(c->efd, &v, sizeof v);
    (void)n;    /* EAGAIN: another wake-up consumed it; still a wake-up */
    return 1;
}

void gn_consumer_get_stats(const gn_consumer *c, gn_consumer_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint16_t i = 0; i < c->nrings; i++) {
        const gn_cring *r = &c->rings[i];
        /* relaxed: statistics; exact for events the consumer already took
         * (the producer counted them before publishing the tail it read) */
        out->events += atomic_load_explicit(&r->written, memory_order_relaxed);
        out->dropped += atomic_load_explicit(&r->dropped, memory_order_relaxed);
        out->oversize += atomic_load_explicit(&r->oversize, memory_order_relaxed);
        out->wakeups += atomic_load_explicit(&r->signals, memory_order_relaxed);
        out->yields += atomic_load_explicit(&r->yields, memory_order_relaxed);
    }
}

/* ---------------------------------------------------------------- publish */

int gn_inproc_push(gn_inproc *q, gn_msg *m)
{
    if (q->n == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 64;
        gn_msg **v = malloc(sizeof *v * ncap);
        if (!v)
            return -1;
        for (uint32_t i = 0; i < q->n; i++)         /* unwrap, oldest first */
            v[i] = q->v[(q->head + i) & (q->cap - 1)];
        free(q->v);
        q->v = v;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->n) & (q->cap - 1)] = m;
    q->n++;
    return 0;
}

uint32_t gn_inproc_pop(gn_inproc *q, gn_msg **out, uint32_t max)
{
    uint32_t n = q->n < max ? q->n : max;
    for (uint32_t i = 0; i < n; i++)
        out[i] = q->v[(q->head + i) & (q->cap - 1)];
    if (n) {
        q->head = (q->head + n) & (q->cap - 1);
        q->n -= n;
    }
    return n;
}

int gn_engine_publish(gn_engine *e, const char *topic, const void *payload, size_t len,
                      uint8_t qos, bool retain, char *err, size_t errlen)
{
    size_t tl = topic ? strlen(topic) : 0;
    gn_err te = tl ? gn_topic_name_check((const uint8_t *)topic, tl) : GN_OK;
    if (tl == 0 || tl > GN_MSG_MAX_TOPIC || te != GN_OK) {
        snprintf(err, errlen, "publish: invalid topic name: %s", tl ? gn_err_text(te) : "empty");
        return -1;
    }
    if (qos > 2) {
        snprintf(err, errlen, "publish: qos %u (0..2)", qos);
        return -1;
    }
    if (len > e->cfg.max_packet_size) {
        snprintf(err, errlen, "publish: payload of %zu bytes over max_packet_size", len);
        return -1;
    }
    /* acquire: pairs with the release in gn_consumers_set_running */
    if (!atomic_load_explicit(&e->consumers->running, memory_order_acquire)) {
        snprintf(err, errlen, "publish: the engine is not running");
        return -1;
    }
    gn_msg_params mp = {
        .topic = topic, .topic_len = tl, .payload = payload, .payload_len = len,
        .qos = qos, .retain = retain, .origin_shard = 0, .origin_id = 0,
        .received_ms = gn_clock_ms(), .expiry_ms = GN_MSG_NO_EXPIRY,
    };
    gn_msg *m = gn_msg_new(&mp);
    if (!m) {
        snprintf(err, errlen, "publish: out of memory");
        return -1;
    }
    gn_inproc *q = &e->consumers->inproc;
    pthread_mutex_lock(&q->mu);
    int rc = 0;
    if (q->n >= GN_INPROC_MAX) {
        rc = -1;
        snprintf(err, errlen, "publish: %u messages already waiting, try again", q->n);
    } else if (gn_inproc_push(q, m) < 0) {
        rc = -1;
        snprintf(err, errlen, "publish: out of memory");
    } else {
        /* relaxed: a hint the shard tests every turn; the mutex orders the data */
        atomic_store_explicit(&q->pending, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&q->mu);
    if (rc < 0) {
        gn_msg_unref(m);
        return -1;
    }
    e->shards[0].tp->ctl_wake(e->shards[0].tpd);
    return 0;
}

void gn_consumers_set_running(gn_engine *e, bool running)
{
    /* release: orders the engine's start before publishers' acquire */
    atomic_store_explicit(&e->consumers->running, running, memory_order_release);
}
