/* engine/deliver.c — outbound messages of a session: QoS 0 straight to the
 * connection (dropped past the high-water mark, counted), QoS >= 1 through
 * the in-flight window (the client's receive maximum, capped by the
 * server) and a bounded queue; acknowledgements; redelivery with DUP after
 * a reconnect; backpressure on publishers when the queue is full; and the
 * PUBLISH encoding (header and properties written into the connection's
 * queue, the payload referenced from the shared message when large).
 * Platform mode: the topic a client is sent is its own form of the
 * internal topic (gn_plat_topic_rewrite_out), and a session's queue has a
 * lane per subscription (engine/subq.h) holding at most plat_qdepth
 * messages, a full lane dropping its own oldest (S-086).
 *
 * Threading: the session's owner shard. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/topic.h"
#include "engine/grow.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/session.h"
#include "engine/shard.h"

/* Outbound topic aliases: topic sent with alias i+1. */
struct gn_alias_out {
    uint64_t hash;
    gn_msg  *msg;       /* holds the topic bytes */
};
#define GN_ALIAS_OUT_CAP 32

/* Payloads at least this long are sent from the message, not copied. */
#define GN_REF_PAYLOAD 512

/* Publish the session's load for shared-group pickers on other shards:
 * messages waiting behind its in-flight window (in-flight ones are normal
 * pipelining, not a sign of a slow member). */
static void depth_update(gn_session *ss)
{
    if (ss->qdepth && ss->fl)
        /* relaxed: a load hint for pickers, orders nothing */
        atomic_store_explicit(ss->qdepth, gn_subq_count(&ss->fl->queue), memory_order_relaxed);
}

/* ---------------------------------------------------------------- rings */

static gn_qent *qring_at(gn_qring *r, uint32_t i)
{
    return &r->v[(r->head + i) & (r->cap - 1)];
}

static gn_qent *qring_push(gn_qring *r)
{
    if (r->count == r->cap) {
        uint32_t ncap = r->cap ? r->cap * 2 : 8;
        gn_qent *n = malloc(sizeof *n * ncap);
        if (!n)
            return NULL;
        for (uint32_t i = 0; i < r->count; i++)
            n[i] = *qring_at(r, i);
        free(r->v);
        r->v = n;
        r->head = 0;
        r->cap = ncap;
    }
    gn_qent *e = qring_at(r, r->count);
    r->count++;
    r->live++;
    return e;
}

/* Drop freed entries at the head; release the array when empty. */
static void qring_trim(gn_qring *r)
{
    while (r->count && r->v[r->head].state == GN_QS_FREE) {
        r->head = (r->head + 1) & (r->cap - 1);
        r->count--;
    }
    if (r->count == 0 && r->cap > 64) {
        free(r->v);
        r->v = NULL;
        r->cap = 0;
        r->head = 0;
    }
}

static void qring_clear(gn_qring *r)
{
    for (uint32_t i = 0; i < r->count; i++) {
        gn_qent *e = qring_at(r, i);
        if (e->state != GN_QS_FREE)
            gn_msg_unref(e->msg);
    }
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* ---------------------------------------------------------------- packet ids */

static bool pid_test(const gn_session *ss, uint16_t p)
{
    return ss->fl->pid_used && (ss->fl->pid_used[p >> 6] >> (p & 63)) & 1u;
}

static uint16_t pid_alloc(gn_session *ss)
{
    if (!ss->fl->pid_used) {
        ss->fl->pid_used = calloc(1024, sizeof(uint64_t));
        if (!ss->fl->pid_used)
            return 0;
    }
    for (uint32_t tries = 0; tries < 65535; tries++) {
        uint16_t p = ss->fl->next_pid;
        ss->fl->next_pid = p == 65535 ? 1 : (uint16_t)(p + 1);
        if (!pid_test(ss, p)) {
            ss->fl->pid_used[p >> 6] |= UINT64_C(1) << (p & 63);
            return p;
        }
    }
    return 0;
}

static void pid_free(gn_session *ss, uint16_t p)
{
    if (ss->fl->pid_used)
        ss->fl->pid_used[p >> 6] &= ~(UINT64_C(1) << (p & 63));
}

/* ---------------------------------------------------------------- encoding */

static size_t put_varint(uint8_t *b, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t d = v & 0x7F;
        v >>= 7;
        b[n++] = (uint8_t)(d | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static int alias_for(gn_session *ss, const gn_msg *m, bool *known)
{
    *known = false;
    if (!ss->alias_out_max || m->topic_len == 0)
        return 0;
    uint16_t cap = ss->alias_out_max < GN_ALIAS_OUT_CAP ? ss->alias_out_max : GN_ALIAS_OUT_CAP;
    for (uint16_t i = 0; i < ss->alias_out_used; i++) {
        gn_msg *t = ss->alias_out[i].msg;
        if (t->topic_len == m->topic_len && memcmp(gn_msg_topic(t), gn_msg_topic(m), m->topic_len) == 0) {
            *known = true;
            return i + 1;
        }
    }
    if (ss->alias_out_used >= cap)
        return 0;
    if (!ss->alias_out) {
        ss->alias_out = calloc(GN_ALIAS_OUT_CAP, sizeof *ss->alias_out);
        if (!ss->alias_out)
            return 0;
    }
    ss->alias_out[ss->alias_out_used].msg = gn_msg_ref((gn_msg *)m);
    return ++ss->alias_out_used;
}

/* Encode one PUBLISH of m into c's queue. Returns 1 when sent, 0 when it
 * exceeds the client's maximum packet size (dropped), -1 on no memory. */
static int send_publish(gn_shard *s, gn_session *ss, gn_conn *c, gn_msg *m, uint8_t qos,
                        bool retain, bool dup, uint16_t pid, const uint32_t *sub_ids, uint8_t nsub)
{
    bool v5 = c->proto == GN_PROTO_V5;
    uint8_t pb[96];         /* per-delivery properties */
    size_t pl = 0;
    uint32_t props_total = 0;
    int alias = 0;
    bool alias_known = false;
    if (v5) {
        if (m->payload_format) {
            pb[pl++] = GN_PROP_PAYLOAD_FORMAT;
            pb[pl++] = 1;
        }
        if (m->expiry_ms != GN_MSG_NO_EXPIRY) {
            uint32_t left = gn_msg_remaining_expiry_s(m, s->now_ms);
            pb[pl++] = GN_PROP_MESSAGE_EXPIRY;
            pb[pl++] = (uint8_t)(left >> 24);
            pb[pl++] = (uint8_t)(left >> 16);
            pb[pl++] = (uint8_t)(left >> 8);
            pb[pl++] = (uint8_t)left;
        }
        for (uint8_t i = 0; i < nsub && i < 8; i++) {
            if (!sub_ids[i])
                continue;
            pb[pl++] = GN_PROP_SUBSCRIPTION_ID;
            pl += put_varint(pb + pl, sub_ids[i]);
        }
        alias = alias_for(ss, m, &alias_known);
        if (alias) {
            pb[pl++] = GN_PROP_TOPIC_ALIAS;
            pb[pl++] = (uint8_t)(alias >> 8);
            pb[pl++] = (uint8_t)alias;
        }
        props_total = (uint32_t)pl + m->props_len;
    }
    const char *topic = gn_msg_topic(m);
    uint32_t topic_len = alias_known ? 0 : m->topic_len;
    if (c->plat) {
        /* Aliases map internal topics: the mapping is fixed per client. */
        char *tout = gn_plat_topic_out(s);
        size_t tl = gn_plat_topic_rewrite_out(c, topic, m->topic_len, tout, GN_PLAT_TOPIC_BUF);
        if (tl == 0) {
            if (alias && !alias_known) {
                ss->alias_out_used--;
                gn_msg_unref(ss->alias_out[ss->alias_out_used].msg);
            }
            return 0;       /* not for this client (a gateway outside its groups) */
        }
        topic = tout;
        if (!alias_known)
            topic_len = (uint32_t)tl;
    }
    uint64_t rem = 2 + (uint64_t)topic_len + (qos ? 2 : 0) + m->payload_len;
    if (v5)
        rem += gn_varint_size(props_total) + props_total;
    uint64_t total = 1 + gn_varint_size((uint32_t)rem) + rem;
    if (rem > GN_MAX_REMAINING_LENGTH || (c->max_packet_out && total > c->max_packet_out)) {
        if (alias && !alias_known) {
            /* The alias was not sent after all. */
            ss->alias_out_used--;
            gn_msg_unref(ss->alias_out[ss->alias_out_used].msg);
        }
        return 0;
    }
    uint8_t hb[8];
    size_t hl = 0;
    hb[hl++] = (uint8_t)(0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0));
    hl += put_varint(hb + hl, (uint32_t)rem);
    hb[hl++] = (uint8_t)(topic_len >> 8);
    hb[hl++] = (uint8_t)topic_len;
    gn_outq *q = &c->out;
    gn_opool *p = &s->opool;
    if (gn_outq_put(q, p, hb, hl) < 0 ||
        (topic_len && gn_outq_put(q, p, topic, topic_len) < 0))
        return -1;
    uint8_t tb[16];
    size_t tl = 0;
    if (qos) {
        tb[tl++] = (uint8_t)(pid >> 8);
        tb[tl++] = (uint8_t)pid;
    }
    if (v5)
        tl += put_varint(tb + tl, props_total);
    if (gn_outq_put(q, p, tb, tl) < 0 || (pl && gn_outq_put(q, p, pb, pl) < 0) ||
        (v5 && m->props_len && gn_outq_put(q, p, gn_msg_props(m), m->props_len) < 0))
        return -1;
    if (m->payload_len >= GN_REF_PAYLOAD) {
        if (gn_outq_put_ref(q, p, m, gn_msg_payload(m), m->payload_len) < 0)
            return -1;
    } else if (m->payload_len && gn_outq_put(q, p, gn_msg_payload(m), m->payload_len) < 0) {
        return -1;
    }
    gn_stat_add(&s->stats.msgs_out, 1);
    if (c->plat)
        c->plat->tx_msgs++;
    gn_conn_kick(c);
    return 1;
}

static bool out_retain(const gn_msg *m, uint8_t flags)
{
    if (flags & GN_XF_RETAINED)
        return true;
    return (flags & GN_RD_RAP) && m->retain;
}

static gn_conn *live_conn(gn_session *ss)
{
    gn_conn *c = ss->conn;
    return c && c->state == GN_CS_ACTIVE && !c->lost ? c : NULL;
}

/* ---------------------------------------------------------------- backpressure */

gn_sflow *gn_session_flow(gn_session *ss)
{
    if (!ss->fl) {
        ss->fl = calloc(1, sizeof *ss->fl);
        if (ss->fl)
            ss->fl->next_pid = 1;
    }
    return ss->fl;
}

void gn_session_flow_trim(gn_session *ss)
{
    gn_sflow *f = ss->fl;
    if (!f || f->inflight.count || gn_subq_count(&f->queue) || f->nwaiters || f->qos2_in_count)
        return;
    gn_session_flow_free(ss);
}

void gn_session_flow_free(gn_session *ss)
{
    gn_sflow *f = ss->fl;
    if (!f)
        return;
    qring_clear(&f->inflight);
    gn_subq_clear(&f->queue);
    free(f->pid_used);
    free(f->waiters);
    free(f->qos2_in);
    free(f);
    ss->fl = NULL;
}

void gn_session_add_waiter(gn_session *ss, uint16_t shard, uint64_t pub)
{
    if (!gn_session_flow(ss))
        return;     /* the publisher keeps running: bounded by its own window */
    for (uint32_t i = 0; i < ss->fl->nwaiters; i++)
        if (ss->fl->waiters[i].pub == pub && ss->fl->waiters[i].shard == shard)
            return;
    if (ss->fl->nwaiters == ss->fl->capwaiters) {
        gn_waiter *w = gn_grow(ss->fl->waiters, &ss->fl->capwaiters, sizeof *w, 4);
        if (!w)
            return;     /* the publisher keeps running: bounded by its own window */
        ss->fl->waiters = w;
    }
    ss->fl->waiters[ss->fl->nwaiters++] = (gn_waiter){ .pub = pub, .shard = shard };
}

void gn_publisher_signal(gn_shard *s, uint16_t shard, uint64_t pub, bool block)
{
    if (shard == s->id) {
        if (block)
            gn_publisher_block(s, pub);
        else
            gn_publisher_unblock(s, pub);
        return;
    }
    gn_xslot sl;
    memset(&sl, 0, sizeof sl);
    sl.kind = block ? GN_X_BLOCK : GN_X_UNBLOCK;
    sl.pub = pub;
    gn_xshard_put(s, shard, &sl);
}

void gn_session_release_waiters(gn_shard *s, gn_session *ss)
{
    gn_sflow *f = ss->fl;
    if (!f || !f->nwaiters)
        return;
    /* Detach the list first: a resumed local publisher runs at once and
     * may block on this session again, adding itself to a fresh list. */
    gn_waiter *w = f->waiters;
    uint32_t n = f->nwaiters, cap = f->capwaiters;
    if (ss->conn)
        gn_timer_cancel(&s->tw, &ss->otimer);   /* the QoS 0 pause clock measures one pause */
    f->waiters = NULL;
    f->nwaiters = f->capwaiters = 0;
    ss->blocked_out = false;
    for (uint32_t i = 0; i < n; i++)
        gn_publisher_signal(s, w[i].shard, w[i].pub, false);
    f = ss->fl;     /* still there: trimming happens only at session end */
    if (f && !f->waiters && cap <= 16) {
        f->waiters = w;
        f->capwaiters = cap;
    } else {
        free(w);
    }
}

void gn_publisher_block(gn_shard *s, uint64_t pub)
{
    gn_session *ps = gn_session_by_id(s, pub);
    if (!ps)
        return;
    ps->blocked_by++;
    if (ps->conn)
        gn_conn_pause(ps->conn);
}

void gn_publisher_unblock(gn_shard *s, uint64_t pub)
{
    gn_session *ps = gn_session_by_id(s, pub);
    if (!ps || !ps->blocked_by)
        return;
    if (--ps->blocked_by == 0 && ps->conn && !ps->conn->self_paused)
        gn_conn_resume(ps->conn);
}

/* Stop reading from publisher pub until this session drains. */
static void block_publisher(gn_shard *s, gn_session *ss, uint16_t pub_shard, uint64_t pub)
{
    if (pub_shard == s->id && pub == ss->sid)
        return;     /* never wait for oneself */
    uint32_t before = ss->fl ? ss->fl->nwaiters : 0;
    gn_session_add_waiter(ss, pub_shard, pub);
    if (ss->fl && ss->fl->nwaiters != before)
        gn_publisher_signal(s, pub_shard, pub, true);
    ss->blocked_out = true;
}

void gn_session_maybe_release(gn_shard *s, gn_session *ss)
{
    const gn_config *cfg = &s->cfg;
    gn_conn *c = ss->conn;
    if (ss->q0_slow && c && c->out.bytes <= cfg->qos0_high_water_bytes / 4)
        ss->q0_slow = false;    /* caught up */
    if (!ss->fl || !ss->fl->nwaiters)
        return;
    if (gn_subq_count(&ss->fl->queue) <= cfg->max_queued_messages / 2 &&
        (!c || c->out.bytes <= cfg->qos0_high_water_bytes / 4))
        gn_session_release_waiters(s, ss);
}

/* ---------------------------------------------------------------- window */

static uint32_t window(const gn_session *ss)
{
    return ss->send_window ? ss->send_window : 1;
}

/* Move an entry into the in-flight ring and send it. */
static void send_first(gn_shard *s, gn_session *ss, gn_conn *c, gn_qent *src)
{
    uint16_t pid = pid_alloc(ss);
    if (!pid) {
        gn_msg_unref(src->msg);
        return;
    }
    bool retain = out_retain(src->msg, src->flags);
    int r = send_publish(s, ss, c, src->msg, src->qos, retain, false, pid, src->sub_ids, src->nsub);
    if (r <= 0) {
        pid_free(ss, pid);
        gn_msg_unref(src->msg);
        if (r < 0)
            gn_conn_fail(c);
        return;
    }
    gn_qent *e = qring_push(&ss->fl->inflight);
    if (!e) {
        pid_free(ss, pid);
        gn_msg_unref(src->msg);
        return;
    }
    *e = *src;
    e->pid = pid;
    e->state = src->qos == 1 ? GN_QS_WAIT_ACK : GN_QS_WAIT_REC;
}

/* Platform mode: the lane of a queued message is the first of the
 * session's subscriptions (of the delivery's kind, shared or not) whose
 * internal filter matches its topic; keyed by the filter's address, which
 * is the subscription's for as long as it exists. Messages no filter
 * matches (a subscription gone since) share lane 0. */
static uint64_t lane_key(const gn_session *ss, const gn_msg *m, uint8_t flags)
{
    bool want_shared = (flags & GN_RD_SHARED) != 0;
    const uint8_t *topic = (const uint8_t *)gn_msg_topic(m);
    for (uint32_t i = 0; i < ss->nsubs; i++) {
        const uint8_t *f = (const uint8_t *)ss->subs[i].filter, *name;
        size_t fl = ss->subs[i].len, name_len;
        bool shared = false;
        if (fl > 7 && f[0] == '$' &&
            gn_share_parse(f, fl, &shared, &name, &name_len, &f, &fl) != GN_OK)
            continue;
        if (shared == want_shared && gn_topic_matches(f, fl, topic, m->topic_len))
            return (uint64_t)(uintptr_t)ss->subs[i].filter;
    }
    return 0;
}

void gn_session_pump(gn_shard *s, gn_session *ss)
{
    gn_conn *c = live_conn(ss);
    if (!c || !ss->fl)
        return;
    gn_subq *q = &ss->fl->queue;
    gn_qent e;
    while (ss->fl->inflight.live < window(ss) && gn_subq_pop(q, &e)) {
        if (gn_msg_expired(e.msg, s->now_ms)) {
            gn_msg_unref(e.msg);
            continue;
        }
        send_first(s, ss, c, &e);
        if (ss->conn != c || c->lost)
            return;
    }
    depth_update(ss);
    gn_session_maybe_release(s, ss);
}

bool gn_session_overloaded(const gn_shard *s, const gn_session *ss, uint8_t qos)
{
    const gn_config *cfg = &s->cfg;
    const gn_conn *c = ss->conn;
    bool live = c && c->state == GN_CS_ACTIVE && !c->lost;
    if (qos == 0)
        return !live || ss->q0_slow || c->out.bytes > cfg->qos0_high_water_bytes / 2;
    if (!ss->fl)
        return false;
    /* Live: the delivery that fills the queue pauses the publisher (see
     * gn_session_deliver). Offline: a full queue drops. */
    return gn_subq_count(&ss->fl->queue) + (live ? 1u : 0u) >= cfg->max_queued_messages;
}

bool gn_session_deliver(gn_shard *s, gn_session *ss, gn_msg *msg, uint8_t qos, uint8_t flags,
                        const uint32_t *sub_ids, uint8_t nsub, uint16_t pub_shard, uint64_t pub)
{
    if (gn_msg_expired(msg, s->now_ms))
        return false;
    if (qos > msg->qos)
        qos = msg->qos;
    gn_conn *c = live_conn(ss);
    if (qos == 0) {
        if (!c)
            return false;
        uint32_t hwm = s->cfg.qos0_high_water_bytes;
        if (c->out.bytes > hwm) {
            gn_stat_add(&s->stats.qos0_dropped, 1);
            return false;
        }
        int r = send_publish(s, ss, c, msg, 0, out_retain(msg, flags), false, 0, sub_ids, nsub);
        if (r < 0)
            gn_conn_fail(c);
        else if (pub && !ss->q0_slow && c->out.bytes > hwm / 2) {
            /* Slow publishers down before dropping, for a while: a
             * subscriber still behind after GN_Q0_PAUSE_MS is slow, and
             * its QoS 0 messages are dropped instead (counted). */
            block_publisher(s, ss, pub_shard, pub);
            if (!gn_timer_armed(&ss->otimer))
                gn_timer_arm(&s->tw, &ss->otimer, s->now_ms + GN_Q0_PAUSE_MS);
        }
        return r > 0;
    }
    uint32_t lim = s->cfg.max_queued_messages;
    if (!gn_session_flow(ss))
        return false;
    gn_subq *q = &ss->fl->queue;
    if (!ss->plat_qdepth && !c && gn_subq_count(q) >= lim) {
        /* Offline session at its limit: a client that may never return
         * must not stall live publishers. Counted. */
        gn_stat_add(&s->stats.qos1_dropped_offline, 1);
        return false;
    }
    gn_qent e;
    memset(&e, 0, sizeof e);
    e.msg = gn_msg_ref(msg);
    e.qos = qos;
    e.flags = flags;
    e.state = GN_QS_QUEUED;
    e.nsub = nsub > GN_RD_MAX_SUB_IDS ? GN_RD_MAX_SUB_IDS : nsub;
    if (e.nsub)     /* sub_ids may be NULL when there are none */
        memcpy(e.sub_ids, sub_ids, sizeof(uint32_t) * e.nsub);
    e.pub_shard = pub_shard;
    e.pub = pub;
    if (c && gn_subq_count(q) == 0 && ss->fl->inflight.live < window(ss)) {
        send_first(s, ss, c, &e);
        depth_update(ss);
        return true;
    }
    /* Platform: a lane per subscription, its oldest message dropped to
     * make room whatever its QoS (S-086); publishers never wait. Plain:
     * one unbounded lane, the limit above pauses publishers instead. */
    int dropped = ss->plat_qdepth ? gn_subq_push(q, lane_key(ss, msg, flags), &e, ss->plat_qdepth)
                                  : gn_subq_push(q, 0, &e, 0);
    if (dropped < 0) {
        gn_msg_unref(e.msg);
        return false;
    }
    if (dropped) {
        /* Counted per shard (stats, the stopped line) and per session:
         * the close line while connected, the resume line when not. */
        gn_stat_add(&s->stats.queue_dropped_oldest, (uint64_t)dropped);
        if (ss->conn && ss->conn->plat)
            ss->conn->plat->queue_dropped += (uint64_t)dropped;
        else
            ss->queue_dropped += (uint32_t)dropped;
    }
    depth_update(ss);
    if (c && gn_subq_count(q) >= lim && pub && !ss->plat_qdepth)
        block_publisher(s, ss, pub_shard, pub);
    return true;
}

static gn_qent *find_inflight(gn_session *ss, uint16_t pid, uint8_t state)
{
    if (!ss->fl)
        return NULL;
    gn_qring *r = &ss->fl->inflight;
    for (uint32_t i = 0; i < r->count; i++) {
        gn_qent *e = qring_at(r, i);
        if (e->state == state && e->pid == pid)
            return e;
    }
    return NULL;
}

static void inflight_done(gn_shard *s, gn_session *ss, gn_qent *e)
{
    pid_free(ss, e->pid);
    gn_msg_unref(e->msg);
    e->state = GN_QS_FREE;
    ss->fl->inflight.live--;
    qring_trim(&ss->fl->inflight);
    gn_session_pump(s, ss);
}

bool gn_session_on_puback(gn_shard *s, gn_session *ss, uint16_t pid)
{
    gn_qent *e = find_inflight(ss, pid, GN_QS_WAIT_ACK);
    if (!e)
        return false;
    inflight_done(s, ss, e);
    return true;
}

bool gn_session_on_pubrec(gn_shard *s, gn_session *ss, uint16_t pid, uint8_t reason)
{
    gn_qent *e = find_inflight(ss, pid, GN_QS_WAIT_REC);
    if (!e)
        return false;
    if (reason >= 0x80) {
        inflight_done(s, ss, e);    /* the client refused it: done */
        return true;
    }
    e->state = GN_QS_WAIT_COMP;
    gn_msg_unref(e->msg);           /* only the packet id is needed now */
    e->msg = NULL;
    if (ss->conn)
        gn_mqtt_send_ack(ss->conn, GN_PUBREL, pid, 0);
    return true;
}

bool gn_session_on_pubcomp(gn_shard *s, gn_session *ss, uint16_t pid)
{
    gn_qent *e = find_inflight(ss, pid, GN_QS_WAIT_COMP);
    if (!e)
        return false;
    inflight_done(s, ss, e);
    return true;
}

void gn_session_resend(gn_shard *s, gn_session *ss)
{
    gn_conn *c = live_conn(ss);
    if (!c || !ss->fl)
        return;
    gn_qring *r = &ss->fl->inflight;
    for (uint32_t i = 0; i < r->count; i++) {
        gn_qent *e = qring_at(r, i);
        if (e->state == GN_QS_WAIT_COMP) {
            gn_mqtt_send_ack(c, GN_PUBREL, e->pid, 0);
        } else if (e->state == GN_QS_WAIT_ACK || e->state == GN_QS_WAIT_REC) {
            if (send_publish(s, ss, c, e->msg, e->qos, out_retain(e->msg, e->flags), true, e->pid,
                             e->sub_ids, e->nsub) < 0)
                return;
        }
    }
    gn_session_pump(s, ss);
}

void gn_session_drop_queues(gn_shard *s, gn_session *ss)
{
    (void)s;
    if (!ss->fl)
        return;
    qring_clear(&ss->fl->inflight);
    gn_subq_clear(&ss->fl->queue);
    free(ss->fl->pid_used);
    ss->fl->pid_used = NULL;
    ss->fl->next_pid = 1;
}

void gn_session_alias_out_free(gn_session *ss)
{
    if (!ss->alias_out)
        return;
    for (uint16_t i = 0; i < ss->alias_out_used; i++)
        gn_msg_unref(ss->alias_out[i].msg);
    free(ss->alias_out);
    ss->alias_out = NULL;
    ss->alias_out_used = 0;
}
