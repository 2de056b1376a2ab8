/* engine/conn.c — connection life cycle on a shard: creation from an
 * accepted (or handed-off) socket, framing received bytes into packets
 * (zero-copy from the receive buffer; only a packet split across buffers is
 * copied into the carry buffer, which is freed as soon as it is empty),
 * CONNECT / keep-alive timeouts, closing and release. */
#include "engine/conn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/errors.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/pace.h"
#include "engine/platform/platform.h"
#include "engine/shard.h"
#include "engine/stream.h"

static void conn_timer_fn(gn_timer *t, uint64_t now_ms, void *ctx)
{
    (void)ctx;
    gn_conn *c = GN_CONTAINER_OF(t, gn_conn, timer);
    if (c->state == GN_CS_ACTIVE && c->keep_alive) {
        uint64_t limit = (uint64_t)c->keep_alive * 1500u;
        if (now_ms < c->last_rx_ms + limit) {
            gn_timer_arm(&c->shard->tw, &c->timer, c->last_rx_ms + limit);
            return;
        }
        if (c->pace && c->pace->blocked_sid) {
            /* Paced (engine/pace.h): its packets wait unread, it is not
             * silent, and pacing never disconnects (S-096). */
            gn_timer_arm(&c->shard->tw, &c->timer, now_ms + limit);
            return;
        }
    }
    if (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE)
        gn_mqtt_on_timeout(c);
}

gn_conn *gn_conn_new(gn_shard *s, int fd, gn_carry *carry)
{
    gn_conn *c = gn_slab_zalloc(&s->conn_slab);
    if (!c) {
        close(fd);
        free(carry);
        return NULL;
    }
    if (s->eng->plat && !(c->plat = calloc(1, sizeof *c->plat))) {
        gn_slab_free(&s->conn_slab, c);
        close(fd);
        free(carry);
        return NULL;
    }
    c->shard = s;
    c->fd = fd;
    c->carry = carry;
    c->state = GN_CS_NEW;
    c->last_rx_ms = s->now_ms;
    gn_timer_init(&c->timer, conn_timer_fn);
    gn_timer_arm(&s->tw, &c->timer, s->now_ms + s->cfg.connect_timeout_ms);
    c->all_next = s->all;
    if (s->all)
        s->all->all_prev = c;
    s->all = c;
    s->nconns++;
    gn_stat_add(&s->stats.conns_current, 1);
    gn_stat_add(&s->stats.conns_total, 1);
    if (c->plat)
        gn_plat_conn_opened(c);
    return c;
}

void gn_conn_kick(gn_conn *c)
{
    if (!c->dirty)
        gn_shard_mark_dirty(c->shard, c);
}

int gn_conn_send(gn_conn *c, const void *data, size_t len)
{
    if (c->lost || c->state == GN_CS_CLOSING)
        return 0;
    if (gn_outq_put(&c->out, &c->shard->opool, data, len) < 0) {
        gn_conn_fail(c);
        return -1;
    }
    gn_conn_kick(c);
    /* A client that sends requests (PINGREQ, SUBSCRIBE, QoS acks...) but
     * does not read the replies is not read either, so its replies cannot
     * pile up here. */
    if (!c->paused && c->out.bytes > (size_t)c->shard->cfg.qos0_high_water_bytes * 2) {
        c->self_paused = true;
        gn_conn_pause(c);
    }
    return 0;
}

void gn_conn_fail(gn_conn *c)
{
    if (c->lost || c->fail_req)
        return;
    c->fail_req = true;
    gn_conn_kick(c);
}

void gn_conn_close(gn_conn *c)
{
    if (c->state == GN_CS_CLOSING)
        return;
    c->state = GN_CS_CLOSING;
    gn_timer_cancel(&c->shard->tw, &c->timer);
    /* The transport close runs in the flush phase of this turn, when no
     * caller up the stack still holds c. */
    c->close_req = true;
    gn_conn_kick(c);
}

void gn_conn_pause(gn_conn *c)
{
    if (c->paused || c->state == GN_CS_CLOSING)
        return;
    c->paused = true;
    c->shard->tp->recv_stop(c->shard->tpd, c);
}



static int carry_append(gn_conn *c, const uint8_t *d, size_t n, size_t want_cap)
{
    gn_carry *k = c->carry;
    if (k && k->off) {
        /* Drop what was processed before growing. */
        memmove(k->data, k->data + k->off, k->len - k->off);
        k->len -= k->off;
        k->off = 0;
    }
    size_t have = k ? k->len : 0;
    size_t need = have + n;
    if (want_cap < need)
        want_cap = need;
    if (!k || k->cap < need) {
        size_t cap = k ? k->cap : 0;
        if (cap < want_cap)
            cap = want_cap < 256 ? 256 : want_cap;
        if (cap < need * 2 && k)
            cap = need * 2;     /* paused streams grow geometrically */
        gn_carry *nk = realloc(k, sizeof *nk + cap);
        if (!nk)
            return -1;
        if (!k)
            nk->len = nk->off = 0;
        nk->cap = (uint32_t)cap;
        c->carry = k = nk;
    }
    memcpy(k->data + k->len, d, n);
    k->len += (uint32_t)n;
    return 0;
}

static void carry_free(gn_conn *c)
{
    free(c->carry);
    c->carry = NULL;
}

/* After a packet was handled: false when input processing must stop. */
static bool still_reading(const gn_conn *c)
{
    return (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE) && !c->paused;
}

static void handle(gn_conn *c, const uint8_t *pkt, size_t len)
{
    gn_shard *s = c->shard;
    c->last_rx_ms = s->now_ms;
    gn_mqtt_on_packet(c, pkt, len);
}

static uint32_t max_packet(const gn_conn *c)
{
    const gn_config *cfg = &c->shard->cfg;
    /* Platform mode: the first packet has its own, smaller limit (165). */
    if (c->plat && c->state == GN_CS_NEW && cfg->platform_first_packet_max < cfg->max_packet_size)
        return cfg->platform_first_packet_max;
    return cfg->max_packet_size;
}

/* Start the handoff: the carry must hold the CONNECT and what followed. */
static void begin_handoff(gn_conn *c, const uint8_t *rest, size_t rest_len)
{
    if (rest_len && carry_append(c, rest, rest_len, 0) < 0) {
        gn_conn_close(c);
        return;
    }
    gn_timer_cancel(&c->shard->tw, &c->timer);
    c->shard->tp->recv_stop(c->shard->tpd, c);
}

/* Keep bytes for later (paused, or a split packet). */
static void hold(gn_conn *c, const uint8_t *d, size_t n, size_t want_cap)
{
    if (n && carry_append(c, d, n, want_cap) < 0)
        gn_conn_close(c);
}

/* A held packet and what follows it wait in the carry: platform mode may
 * act on what is already there (a gateway's auto-registrations, S-059). */
static void look_ahead(gn_conn *c)
{
    if (c->plat && c->carry)
        gn_plat_autoreg_ahead(c, c->carry->data + c->carry->off, c->carry->len - c->carry->off,
                              max_packet(c));
}

/* Process the packets pending in the carry, completing the last one from
 * data[0 .. *len). Returns false when processing must stop. */
static bool run_carry(gn_conn *c, const uint8_t **data, size_t *len)
{
    while (c->carry) {
        gn_carry *k = c->carry;
        gn_frame f;
        size_t need = 0;
        gn_err r = gn_frame_one(k->data + k->off, k->len - k->off, max_packet(c), &f, &need);
        if (r == GN_OK) {
            handle(c, k->data + k->off, f.total_len);
            k = c->carry;
            if (c->state == GN_CS_HANDOFF) {
                begin_handoff(c, *data, *len);
                return false;
            }
            if (!k)
                return false;       /* released by a close during handle */
            if (c->replay) {        /* not consumed (a consumer ring is full): keep it */
                c->replay = false;
                hold(c, *data, *len, 0);
                look_ahead(c);
                return false;
            }
            k->off += f.total_len;
            if (k->off == k->len)
                carry_free(c);
            if (!still_reading(c)) {
                if (c->paused && c->state == GN_CS_ACTIVE)
                    hold(c, *data, *len, 0);
                return false;
            }
            continue;
        }
        if (r != GN_NEED_MORE) {
            gn_mqtt_fail(c, r);
            return false;
        }
        if (*len == 0)
            return false;
        size_t take = need ? need : 1;
        if (take > *len)
            take = *len;
        size_t cap = (k->len - k->off) + (need > 1 ? need : 16);
        if (carry_append(c, *data, take, cap) < 0) {
            gn_conn_close(c);
            return false;
        }
        *data += take;
        *len -= take;
    }
    return true;
}

static void process(gn_conn *c, const uint8_t *data, size_t len)
{
    /* 1. Packets pending in the carry buffer. */
    if (c->carry && !run_carry(c, &data, &len))
        return;

    /* 2. Frame straight out of the receive buffer. */
    while (len) {
        gn_frame f;
        size_t need = 0;
        gn_err r = gn_frame_one(data, len, max_packet(c), &f, &need);
        if (r == GN_OK) {
            handle(c, data, f.total_len);
            if (c->state == GN_CS_HANDOFF) {
                /* Keep the CONNECT and everything after it for the owner. */
                if (carry_append(c, data, f.total_len, len) < 0) {
                    gn_conn_close(c);
                    return;
                }
                begin_handoff(c, data + f.total_len, len - f.total_len);
                return;
            }
            if (c->replay) {        /* not consumed (a consumer ring is full): keep it */
                c->replay = false;
                hold(c, data, len, 0);
                look_ahead(c);
                return;
            }
            data += f.total_len;
            len -= f.total_len;
            if (!still_reading(c)) {
                if (c->paused && c->state == GN_CS_ACTIVE)
                    hold(c, data, len, 0);
                return;
            }
            continue;
        }
        if (r != GN_NEED_MORE) {
            gn_mqtt_fail(c, r);
            return;
        }
        /* Split packet: copy the head, sized for the whole packet when known. */
        hold(c, data, len, len + need);
        return;
    }
}

void gn_conn_on_bytes(gn_conn *c, const uint8_t *data, size_t len)
{
    gn_stat_add(&c->shard->stats.bytes_in, len);
    if (c->plat)
        c->plat->rx_bytes += len;
    if (c->stream)
        gn_stream_on_bytes(c, data, len);
    else
        gn_conn_on_plain(c, data, len);
}

void gn_conn_on_plain(gn_conn *c, const uint8_t *data, size_t len)
{
    if (c->state == GN_CS_HANDOFF || (c->paused && c->state == GN_CS_ACTIVE)) {
        /* Moving to another shard, or backpressure: keep, do not parse. */
        hold(c, data, len, 0);
        return;
    }
    if (c->state != GN_CS_NEW && c->state != GN_CS_ACTIVE)
        return;
    process(c, data, len);
}

void gn_conn_on_lost(gn_conn *c, int err)
{
    if (c->lost)
        return;
    c->lost = true;
    gn_plat_set_close(c, GN_CLOSE_BY_CLIENT);
    if (err && err != ECONNRESET && err != EPIPE)
        gn_log_debug("connection fd %d lost: %s", c->fd, strerror(err));
    if (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE)
        gn_mqtt_on_lost(c);
    gn_conn_close(c);
}

void gn_conn_on_recv_stopped(gn_conn *c)
{
    gn_shard *s = c->shard;
    if (c->state != GN_CS_HANDOFF)
        return;     /* paused: nothing to do until resume */
    if (c->stream && !gn_stream_handoff_ready(c))
        return;     /* TLS bytes still going out: gn_stream_on_sent retries */
    /* Move the socket and the bytes to the owner shard of the client id. */
    uint16_t to = c->handoff_to;
    uint32_t n = c->carry ? c->carry->len : 0;
    gn_handoff *h = malloc(sizeof *h + n);
    if (!h || to == s->id) {
        free(h);
        gn_conn_close(c);
        return;
    }
    h->fd = c->fd;
    h->len = n;
    h->stream = c->stream;
    if (n)
        memcpy(h->data, c->carry->data, n);
    gn_xslot sl;
    memset(&sl, 0, sizeof sl);
    sl.kind = GN_X_HANDOFF;
    sl.ptr = h;
    if (gn_xshard_put(s, to, &sl) < 0) {
        free(h);
        gn_conn_close(c);
        return;
    }
    c->fd = -1;             /* the socket (and its stream) now belong to the owner shard */
    c->stream = NULL;
    c->lost = true;
    free(c->plat);          /* the owner shard logs this connection's close */
    c->plat = NULL;
    gn_conn_close(c);
}

gn_outq *gn_conn_wire(gn_conn *c)
{
    return c->stream ? gn_stream_wire(c) : &c->out;
}

bool gn_conn_has_output(gn_conn *c)
{
    return c->stream ? gn_stream_has_output(c) : !gn_outq_empty(&c->out);
}

void gn_conn_on_sent(gn_conn *c, size_t n)
{
    if (c->stream)
        gn_stream_on_sent(c, n);
    else
        gn_conn_consumed(c, n);
}

void gn_conn_consumed(gn_conn *c, size_t n)
{
    gn_shard *s = c->shard;
    gn_stat_add(&s->stats.bytes_out, n);
    if (c->plat)
        c->plat->tx_bytes += n;
    gn_outq_consume(&c->out, &s->opool, n);
    if (c->self_paused && c->out.bytes <= s->cfg.qos0_high_water_bytes / 2) {
        c->self_paused = false;
        if (!c->sess || !c->sess->blocked_by)
            gn_conn_resume(c);
    }
    /* The backlog shrank: publishers paused for this session may resume. */
    if (c->sess && (c->sess->q0_slow || (c->sess->fl && c->sess->fl->nwaiters)))
        gn_session_maybe_release(s, c->sess);
}

void gn_conn_on_released(gn_conn *c)
{
    gn_shard *s = c->shard;
    if (c->sess && c->sess->conn == c)
        c->sess->conn = NULL;
    if (c->pace)
        gn_conn_pace_release(c);    /* after the detach: its unblock must not resume c */
    if (c->plat)
        gn_plat_on_close(c);
    gn_timer_cancel(&s->tw, &c->timer);
    gn_outq_clear(&c->out, &s->opool);
    gn_stream_release(c);
    carry_free(c);
    if (c->dirty) {
        /* Unlink from the flush list. */
        gn_conn **pp = &s->dirty;
        while (*pp && *pp != c)
            pp = &(*pp)->dirty_next;
        if (*pp)
            *pp = c->dirty_next;
    }
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        s->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    s->nconns--;
    gn_stat_add(&s->stats.conns_current, (uint64_t)-1);
    gn_slab_free(&s->conn_slab, c);
}

void gn_conn_resume(gn_conn *c)
{
    if (!c->paused)
        return;
    c->paused = false;
    c->resume_req = true;
    gn_conn_kick(c);
}

void gn_conn_resume_now(gn_conn *c)
{
    c->resume_req = false;
    if (c->paused || c->state != GN_CS_ACTIVE || c->lost)
        return;
    /* What arrived while paused goes first; it may pause us again. */
    if (c->carry)
        process(c, NULL, 0);
    if (c->state == GN_CS_ACTIVE && !c->paused && !c->lost)
        c->shard->tp->recv_start(c->shard->tpd, c);
}

/* A connection handed over by another shard: adopt its socket and bytes. */
void gn_conn_adopt(gn_shard *s, gn_handoff *h)
{
    gn_carry *k = NULL;
    if (h->len) {
        k = malloc(sizeof *k + h->len);
        if (!k) {
            close(h->fd);
            gn_stream_discard(h->stream);
            free(h);
            return;
        }
        k->len = k->cap = h->len;
        memcpy(k->data, h->data, h->len);
    }
    int fd = h->fd;
    struct gn_stream *st = h->stream;
    free(h);
    gn_conn *c = gn_conn_new(s, fd, NULL);
    if (!c) {
        gn_stream_discard(st);
        free(k);
        return;
    }
    if (st)
        gn_stream_adopt(c, st);
    /* Counted once, by the shard that accepted it. */
    gn_stat_add(&s->stats.conns_total, (uint64_t)-1);
    /* Replay the carried bytes through the normal path, then read on. */
    if (k) {
        if (c->plat)
            c->plat->rx_bytes += k->len;
        gn_conn_on_plain(c, k->data, k->len);   /* MQTT bytes: not through c's stream again */
        free(k);
    }
    /* Not while paused (a publisher whose targets are full): the resume
     * starts reading. */
    if ((c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE) && !c->paused)
        s->tp->recv_start(s->tpd, c);
}
