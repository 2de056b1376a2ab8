/* engine/shard.c — a shard's thread and event loop:
 *   poll transport (submit + wait + completions)
 *   -> drain inbound cross-shard rings
 *   -> push outbound cross-shard batches (wake on empty -> non-empty)
 *   -> flush every connection with queued bytes (one send each)
 *   -> timers
 *   -> router quiescent state
 * The loop blocks only when the previous turn found nothing to do, and
 * then no longer than the next timer. */
#include "engine/shard.h"
#include "engine/grow.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/consumer.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/monitor.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/session.h"
#include "engine/stream.h"

uint16_t gn_shard_owner(const gn_shard *s, const uint8_t *cid, size_t len)
{
    if (s->nshards == 1)
        return 0;
    return (uint16_t)(XXH3_64bits(cid, len) % s->nshards);
}

void *gn_shard_transport(gn_shard *s)
{
    return s->tpd;
}

void gn_shard_mark_dirty(gn_shard *s, gn_conn *c)
{
    c->dirty = true;
    c->dirty_next = s->dirty;
    s->dirty = c;
}

void gn_shard_on_accept(gn_shard *s, int fd, gn_listen_kind kind)
{
    uint32_t maxc = s->cfg.max_connections;
    uint64_t open_now = 0;
    if (maxc) {
        for (uint16_t i = 0; i < s->nshards; i++)
            /* relaxed: an admission estimate; a few over under a storm is fine */
            open_now += atomic_load_explicit(&s->eng->shards[i].stats.conns_current,
                                             memory_order_relaxed);
    }
    if (s->stopping || (maxc && open_now >= maxc)) {
        if (s->eng->plat && !s->stopping)
            gn_plat_log_refused(GN_CLOSE_CAPACITY);
        close(fd);
        return;
    }
    gn_conn *c = gn_conn_new(s, fd, NULL);
    if (c && kind != GN_LK_MQTT && gn_stream_attach(c, kind, s->eng->tls) < 0) {
        gn_conn_close(c);
        return;
    }
    if (c)
        s->tp->recv_start(s->tpd, c);
}

void gn_shard_on_wake(gn_shard *s)
{
    (void)s;    /* the loop drains the rings and checks the stop flag every turn */
}

bool gn_shard_shared_place(gn_shard *s, const gn_xslot *sl, bool any)
{
    gn_msg *m = sl->ptr;
    gn_rdeliv d;
    if (!gn_route_repick(&s->rc, (const uint8_t *)gn_msg_topic(m), m->topic_len, sl->pub,
                         sl->session, any, &d))
        return false;
    if (d.shard == s->id) {
        gn_session *to = gn_session_by_id(s, d.session);
        if (!to)
            return false;
        gn_session_deliver(s, to, m, d.qos, (uint8_t)(d.flags | GN_XF_REPICKED), d.sub_ids,
                           d.nsub_ids, sl->pub_shard, sl->pub);
        gn_msg_unref(m);
    } else {
        gn_xslot fw = *sl;      /* same message reference, publisher and its shard */
        fw.session = d.session;
        fw.qos = d.qos;
        fw.flags = (uint8_t)(d.flags | GN_XF_REPICKED);
        fw.nsub = d.nsub_ids;
        memcpy(fw.sub_ids, d.sub_ids, sizeof(uint32_t) * d.nsub_ids);
        if (gn_xshard_put(s, d.shard, &fw) < 0)
            return false;
    }
    gn_stat_add(&s->stats.shared_repicks, 1);
    return true;
}

static bool held_by(const gn_shard *s, uint16_t shard, uint64_t pub)
{
    for (uint32_t i = 0; i < s->shared_held.n; i++)
        if (s->shared_held.v[i].pub == pub && s->shared_held.v[i].pub_shard == shard)
            return true;
    return false;
}

/* Keep a QoS >= 1 shared delivery that no member can take now, and pause its
 * publisher (once per publisher) until it is placed. False on no memory. */
static bool hold(gn_shard *s, const gn_xslot *sl)
{
    gn_xbatch *h = &s->shared_held;
    if (h->n == h->cap) {
        gn_xslot *v = gn_grow(h->v, &h->cap, sizeof *v, 64);
        if (!v)
            return false;
        h->v = v;
    }
    bool first = sl->pub && !held_by(s, sl->pub_shard, sl->pub);
    h->v[h->n++] = *sl;
    if (first)
        gn_publisher_signal(s, sl->pub_shard, sl->pub, true);
    return true;
}

/* Once per loop turn while deliveries are held: place them in order, at
 * their own member once it can take them, else at another member under the
 * mark; stop at the first that still cannot move (one match per turn while
 * a group is saturated). Resume publishers with nothing held any more. */
static void retry_held(gn_shard *s)
{
    gn_xbatch *h = &s->shared_held;
    uint32_t done = 0;
    while (done < h->n) {
        gn_xslot *sl = &h->v[done];
        gn_msg *m = sl->ptr;
        if (!m) {
            done++;     /* placed when its member left (gn_shard_held_handback) */
            continue;
        }
        gn_session *ss = gn_session_by_id(s, sl->session);
        uint8_t qos = sl->qos < m->qos ? sl->qos : m->qos;
        if (ss && !gn_session_overloaded(s, ss, qos)) {
            gn_session_deliver(s, ss, m, sl->qos, sl->flags, sl->sub_ids, sl->nsub,
                               sl->pub_shard, sl->pub);
            gn_msg_unref(m);
        } else if (!gn_shard_shared_place(s, sl, false)) {
            if (ss)
                break;
            /* Its member left its groups (the re-pick needs it as a member
             * to find the group) and the hand-back found nobody: counted,
             * never held for good (that would pause the publisher forever). */
            gn_msg_unref(m);
            gn_stat_add(&s->stats.shared_orphaned, 1);
        }
        done++;
    }
    /* A publisher is resumed once, by its last entry, when none stays held. */
    for (uint32_t i = 0; i < done; i++) {
        const gn_xslot *p = &h->v[i];
        bool again = false;
        for (uint32_t j = i + 1; j < h->n && !again; j++)
            again = h->v[j].pub == p->pub && h->v[j].pub_shard == p->pub_shard;
        if (p->pub && !again)
            gn_publisher_signal(s, p->pub_shard, p->pub, false);
    }
    memmove(h->v, h->v + done, sizeof *h->v * (h->n - done));
    h->n -= done;
}

uint32_t gn_shard_held_handback(gn_shard *s, uint64_t sid)
{
    uint32_t placed = 0;
    for (uint32_t i = 0; i < s->shared_held.n; i++) {
        gn_xslot *sl = &s->shared_held.v[i];
        if (sl->session == sid && sl->ptr && gn_shard_shared_place(s, sl, true)) {
            sl->ptr = NULL;     /* the reference went with it; retry_held skips it */
            placed++;
        }
    }
    return placed;
}

static void release_held(gn_shard *s)
{
    for (uint32_t i = 0; i < s->shared_held.n; i++)
        gn_msg_unref(s->shared_held.v[i].ptr);
    free(s->shared_held.v);
    memset(&s->shared_held, 0, sizeof s->shared_held);
}

/* A shared-group delivery for a member of this shard that is gone or
 * cannot take it without pausing the publisher (the publisher's shard
 * picked it before the member's queue depth showed the load): hand it back
 * to the group for another member, once (GN_XF_REPICKED). When no other
 * member is under the high-water mark, a QoS >= 1 delivery is held here
 * and its publisher paused until some member of the group (this one
 * included) can take it, so a stalled member never holds the publisher
 * once another member drains. Returns true when the delivery (and the
 * slot's message reference) was taken care of; false: deliver to the
 * original member as usual. Never drops QoS >= 1. */
static bool repick(gn_shard *s, gn_xslot *sl, gn_session *ss)
{
    gn_msg *m = sl->ptr;
    uint8_t qos = sl->qos < m->qos ? sl->qos : m->qos;
    if (ss && !gn_session_overloaded(s, ss, qos))
        return false;
    if (s->shared_held.n == 0 && gn_shard_shared_place(s, sl, false))
        return true;
    return qos > 0 && hold(s, sl);   /* behind what is held already: order kept */
}

bool gn_shard_shared_redirect(gn_shard *s, gn_session *ss, const gn_rdeliv *d, gn_msg *m,
                              uint64_t pub)
{
    if (ss && !gn_session_overloaded(s, ss, d->qos < m->qos ? d->qos : m->qos))
        return false;       /* the common case: no slot built */
    gn_xslot sl;
    gn_xslot_deliver(&sl, d, m, s->id, pub);
    if (repick(s, &sl, ss))
        return true;
    gn_msg_unref(m);
    return false;
}

void gn_xshard_handle(gn_shard *s, uint16_t from, gn_xslot *sl)
{
    (void)from;
    switch (sl->kind) {
    case GN_X_DELIVER: {
        gn_msg *m = sl->ptr;
        gn_session *ss = gn_session_by_id(s, sl->session);
        if ((sl->flags & (GN_RD_SHARED | GN_XF_REPICKED)) == GN_RD_SHARED && repick(s, sl, ss))
            break;      /* the slot's reference went with the delivery */
        if (ss) {
            uint32_t ids[GN_X_SUBIDS];
            uint8_t n = sl->nsub > GN_X_SUBIDS ? GN_X_SUBIDS : sl->nsub;
            memcpy(ids, sl->sub_ids, sizeof(uint32_t) * n);
            gn_session_deliver(s, ss, m, sl->qos, sl->flags, ids, n, sl->pub_shard, sl->pub);
        }
        gn_msg_unref(m);
        break;
    }
    case GN_X_HANDOFF:
        if (s->stopping) {
            gn_handoff *h = sl->ptr;
            close(h->fd);
            gn_stream_discard(h->stream);
            free(h);
        } else {
            gn_conn_adopt(s, sl->ptr);
        }
        break;
    case GN_X_BLOCK:
        gn_publisher_block(s, sl->pub);
        break;
    case GN_X_UNBLOCK:
        gn_publisher_unblock(s, sl->pub);
        break;
    default:
        break;
    }
}

/* Take a new copy of the engine's configuration after a reload. */
static void config_refresh(gn_shard *s)
{
    gn_engine *e = s->eng;
    /* acquire: pairs with the release in gn_engine_reload (the copy itself is under cfg_mu) */
    uint32_t gen = atomic_load_explicit(&e->cfg_gen, memory_order_acquire);
    if (gen == s->cfg_gen)
        return;
    pthread_mutex_lock(&e->cfg_mu);
    s->cfg = e->cfg;
    pthread_mutex_unlock(&e->cfg_mu);
    s->cfg_gen = gen;
}

static void flush_dirty(gn_shard *s)
{
    gn_conn *c;
    while ((c = s->dirty) != NULL) {
        s->dirty = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (c->fail_req) {
            c->fail_req = false;
            gn_conn_on_lost(c, ENOMEM);     /* closes c: close_req */
            if (!c->dirty)
                gn_shard_mark_dirty(s, c);
            continue;
        }
        if (c->resume_req)
            gn_conn_resume_now(c);      /* may pause, fail or close c again */
        if (c->close_req) {
            c->close_req = false;
            s->tp->close(s->tpd, c);
        } else {
            s->tp->flush(s->tpd, c);
        }
    }
}

static void tw_advance(gn_shard *s)
{
    s->now_ms = gn_clock_ms();
    gn_timer_wheel_advance(&s->tw, s->now_ms);
}

/* Graceful stop: stop accepting, DISCONNECT 0x8B to MQTT 5 clients, close
 * everything; the loop ends when every connection is released or the
 * grace period is over. */
static void begin_stop(gn_shard *s)
{
    s->stopping = true;
    s->stop_deadline = s->now_ms + s->cfg.shutdown_grace_ms;
    s->tp->stop_accept(s->tpd);
    gn_sessions_shutdown(s);
}

/* shard_poll_us: instead of blocking at once, poll the ring for up to
 * shard_poll_us (bounded by the timer's timeout_ms). Returns true once a
 * poll dispatched completions (the turn then runs without blocking). */
static bool poll_before_block(gn_shard *s, int timeout_ms)
{
    uint64_t budget = (uint64_t)s->cfg.shard_poll_us * 1000u;
    if (budget > (uint64_t)timeout_ms * 1000000u)
        budget = (uint64_t)timeout_ms * 1000000u;
    uint64_t t = gn_clock_ns(), end = t + budget;
    do {
        s->now_ms = t / 1000000u;   /* what the callbacks see, as after a blocking wait */
        if (s->tp->poll(s->tpd, 0) > 0)
            return true;
        t = gn_clock_ns();
    } while (t < end);
    return false;
}

static void *shard_main(void *arg)
{
    gn_shard *s = arg;
    char tag[24];
    snprintf(tag, sizeof tag, "shard %u", s->id);
    gn_log_set_thread_tag(tag);
    if (s->cfg.pin_threads) {
        cpu_set_t allowed, one;
        CPU_ZERO(&allowed);
        if (sched_getaffinity(0, sizeof allowed, &allowed) == 0 && CPU_COUNT(&allowed) > 0) {
            int want = s->id % CPU_COUNT(&allowed), k = 0;
            for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
                if (!CPU_ISSET(cpu, &allowed))
                    continue;
                if (k++ == want) {
                    CPU_ZERO(&one);
                    CPU_SET(cpu, &one);
                    pthread_setaffinity_np(pthread_self(), sizeof one, &one);
                    break;
                }
            }
        }
    }
    char serr[160];
    if (s->cfg.shard_slice_us && gn_thread_set_slice(s->cfg.shard_slice_us, serr, sizeof serr) < 0)
        gn_log_warn("shard_slice_us %u not applied: %s", s->cfg.shard_slice_us, serr);
    s->now_ms = gn_clock_ms();
    gn_timer_wheel_init(&s->tw, s->now_ms, s);
    if (gn_route_reader_register(&s->rc, s->eng->router, s->id) < 0) {
        gn_log_error("router reader registration failed");
        return NULL;
    }
    int rc = s->tp->start(s->tpd);
    if (rc < 0) {
        gn_log_error("transport start failed: %s", strerror(-rc));
        gn_route_reader_unregister(&s->rc);
        return NULL;
    }
    bool busy = true, pending = false;
    for (;;) {
        int timeout = 0;
        if (!busy) {
            uint64_t next = gn_timer_wheel_next(&s->tw);
            uint64_t now = gn_clock_ms();
            if (next == GN_TIMER_NEVER || next > now + 1000)
                timeout = 1000;
            else
                timeout = next > now ? (int)(next - now) : 0;
            if (s->shared_held.n && timeout > 1)
                timeout = 1;    /* other shards' queue depths do not wake us: look again soon */
        }
        if (timeout && s->cfg.shard_poll_us && poll_before_block(s, timeout))
            timeout = 0;    /* work came while polling: no block */
        if (timeout)
            gn_route_offline(&s->rc);
        s->tp->poll(s->tpd, timeout);
        if (timeout)
            gn_route_online(&s->rc);
        s->now_ms = gn_clock_ms();
        config_refresh(s);
        /* seq_cst: pairs with the store in gn_shard_request_stop before its wake */
        if (!s->stopping && atomic_load(&s->stop_req))
            begin_stop(s);
        uint32_t drained = gn_xshard_drain(s);
        if (s->shared_held.n)
            retry_held(s);
        if (s->eng->plat)
            gn_plat_shard_turn(s);
        tw_advance(s);
        pending = gn_xshard_push(s);
        flush_dirty(s);
        bool consumers_busy = gn_consumers_turn(s);
        if (gn_xshard_pending(s))
            pending = gn_xshard_push(s);     /* wills of connections that failed in flush */
        gn_route_quiescent(&s->rc);
        if (s->eng->plat)
            gn_mon_flush(s);        /* this turn's connected-client records (S-105 restarts) */
        /* Block next turn only when this one found every ring empty and
         * left nothing to send (a wake-up covers anything pushed later).
         * A full target ring is retried at once: the target drains it
         * within a turn, and its publishers here are paused meanwhile. */
        busy = drained != 0 || s->dirty != NULL || pending || consumers_busy;
        if (s->stopping && (s->nconns == 0 || s->now_ms >= s->stop_deadline) && !pending)
            break;
    }
    s->tp->poll(s->tpd, 0);     /* submit what the last turn queued (the closes of released sockets) */
    gn_shard_stats *st = &s->stats;
    /* relaxed: own counters, read on the owning thread */
    gn_log_info("stopped: %llu connections served, %llu messages in, %llu out, "
                "%llu QoS 0 dropped (slow subscribers), %llu QoS>=1 dropped (offline queue full), "
                "%llu protocol errors, %llu shared deliveries moved to another member, "
                "%llu handed back by departing members, %llu that no member could take, "
                "%llu queued dropped oldest (subscription buffers full)",
                (unsigned long long)atomic_load_explicit(&st->conns_total, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->msgs_in, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->msgs_out, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->qos0_dropped, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->qos1_dropped_offline, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->protocol_errors, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->shared_repicks, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->shared_handed_back, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->shared_orphaned, memory_order_relaxed),
                (unsigned long long)atomic_load_explicit(&st->queue_dropped_oldest, memory_order_relaxed));
    release_held(s);
    gn_consumers_shard_fini(s);
    gn_sessions_fini(s);
    gn_route_reader_unregister(&s->rc);
    return NULL;
}

int gn_shard_init(gn_shard *s, gn_engine *e, uint16_t id, char *err, size_t errlen)
{
    s->eng = e;
    s->cfg = e->cfg;                /* before the thread exists: no race */
    s->cfg_gen = atomic_load_explicit(&e->cfg_gen, memory_order_relaxed);   /* relaxed: same thread as reload */
    s->id = id;
    s->nshards = e->nshards;
    s->tp = &gn_uring_transport;
    if (gn_slab_init(&s->conn_slab, "conn", sizeof(gn_conn), 0) < 0 ||
        gn_slab_init(&s->sess_slab, "session", sizeof(gn_session), 0) < 0) {
        snprintf(err, errlen, "slab init failed");
        return -1;
    }
    gn_opool_init(&s->opool, 4096);
    if (gn_sessions_init(s) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    const gn_config *c = &e->cfg;
    gn_tp_params p = {
        .bind_addr = c->listen_address,
        .port = c->port,
        .kind_port = { e->lports[0], e->lports[1], e->lports[2], e->lports[3], e->lports[4] },
        .shard_id = id,
        .ring_entries = c->uring_entries,
        .buf_size = c->rx_buffer_size,
        .buf_count = c->rx_buffer_count,
        .backlog = (int)c->listen_backlog,
        .tcp_nodelay = c->tcp_nodelay,
        .sqpoll_idle_ms = c->sqpoll ? c->sqpoll_idle_ms : 0,
    };
    s->tpd = s->tp->create(s, &p, err, errlen);
    return s->tpd ? 0 : -1;
}

int gn_shard_start(gn_shard *s, char *err, size_t errlen)
{
    int rc = pthread_create(&s->thread, NULL, shard_main, s);
    if (rc) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        return -1;
    }
    s->thread_started = true;
    return 0;
}

void gn_shard_request_stop(gn_shard *s)
{
    /* seq_cst: the shard reads the flag after the wake-up it causes */
    atomic_store(&s->stop_req, true);
    if (s->tpd)
        s->tp->ctl_wake(s->tpd);
}

void gn_shard_config_changed(gn_shard *s)
{
    if (s->tpd)
        s->tp->ctl_wake(s->tpd);
}

void gn_shard_join(gn_shard *s)
{
    if (s->thread_started) {
        pthread_join(s->thread, NULL);
        s->thread_started = false;
    }
}

void gn_shard_fini(gn_shard *s)
{
    if (s->tpd)
        s->tp->destroy(s->tpd);
    s->tpd = NULL;
    gn_opool_drain(&s->opool);
    gn_slab_destroy(&s->conn_slab);
    gn_slab_destroy(&s->sess_slab);
}
