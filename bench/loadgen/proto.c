/* bench/loadgen/proto.c — inbound packet handling (framing and decoding by
 * the codec), per connection role. */
#include "bench/loadgen/proto.h"

#include <stdio.h>
#include <string.h>

#include "bench/loadgen/conn.h"
#include "codec/packet.h"

static gl_status on_connack(gl_worker *w, gl_conn *c, const gn_connack *a)
{
    if (c->state != GL_CS_WAIT_CONNACK)
        return GL_ERR_PROTOCOL;
    if (a->reason != 0)
        return GL_ERR_REFUSED;
    if (c->role == GL_ROLE_PUB && gn_props_has(&a->props, GN_PROP_RECEIVE_MAXIMUM) &&
        a->props.receive_maximum < c->window)
        c->window = a->props.receive_maximum;
    if (c->role == GL_ROLE_SUB) {
        char filter[1100];
        const char *f = w->o->filter;
        if (!f) {
            char plain[1024];
            if (!gl_filter_from_pattern(w->o->topic, plain, sizeof plain))
                return GL_ERR_USAGE;
            if (w->o->mode == GL_MODE_SHARED)
                snprintf(filter, sizeof filter, "$share/gnload/%s", plain);
            else
                snprintf(filter, sizeof filter, "%s", plain);
            f = filter;
        }
        uint8_t buf[1200];
        size_t len;
        gl_status s = gl_encode_subscribe(w->o, f, buf, sizeof buf, &len);
        if (s != GL_OK)
            return s;
        if ((s = gl_conn_put(c, buf, len)) != GL_OK)
            return s;
        c->state = GL_CS_WAIT_SUBACK;
        return GL_OK;
    }
    c->state = GL_CS_READY;
    return GL_OK;
}

static gl_status on_suback(gl_conn *c, const gn_suback *a)
{
    if (c->state != GL_CS_WAIT_SUBACK || a->packet_id != 1 || a->reasons.len != 1)
        return GL_ERR_PROTOCOL;
    if (a->reasons.ptr[0] >= 0x80)
        return GL_ERR_REFUSED;
    c->state = GL_CS_READY;
    return GL_OK;
}

static gl_status on_publish(gl_worker *w, gl_conn *c, const gn_publish *p, uint64_t now)
{
    if (c->state != GL_CS_READY)
        return GL_ERR_PROTOCOL;
    w->received_raw++;
    const uint8_t *d = p->payload.ptr;
    if (p->payload.len >= GL_PAYLOAD_MIN && c->role == GL_ROLE_SUB) {
        uint32_t tagpub = gl_rd32(d);
        uint32_t pub = tagpub & GL_PUB_ID_MASK;
        uint32_t seq = gl_rd32(d + 4);
        if ((tagpub >> GL_PUB_ID_BITS) == w->o->run_tag && pub < w->o->pubs && seq < GL_SEQ_LIMIT) {
            gl_seqtrack_add(&w->seq, c->group, pub, seq);
            c->got++;
            uint64_t ts = gl_rd64(d + 8);
            gl_hist_record(&w->lat, now > ts ? now - ts : 0);
        } else {
            w->foreign++;
        }
    } else {
        w->foreign++;
    }
    if (p->qos == 1) {
        uint8_t *o = gl_conn_reserve(c, 4);
        if (!o)
            return GL_ERR_NOMEM;
        gl_ack_put(&w->ctl.puback, o, p->packet_id);
        c->out_tail += 4;
    } else if (p->qos == 2) {
        uint8_t *o = gl_conn_reserve(c, 4);
        if (!o)
            return GL_ERR_NOMEM;
        gl_ack_put(&w->ctl.pubrec, o, p->packet_id);
        c->out_tail += 4;
    }
    return GL_OK;
}

/* PUBACK / PUBREC / PUBCOMP on a publisher; PUBREL on a subscriber. */
static gl_status on_ack(gl_worker *w, gl_conn *c, gn_packet_type type, const gn_ack *a)
{
    uint16_t id = a->packet_id;
    if (type == GN_PUBREL) {
        uint8_t *o = gl_conn_reserve(c, 4);
        if (!o)
            return GL_ERR_NOMEM;
        gl_ack_put(&w->ctl.pubcomp, o, id);
        c->out_tail += 4;
        return GL_OK;
    }
    if (c->role != GL_ROLE_PUB || !c->ids)
        return GL_ERR_PROTOCOL;
    uint8_t want = type == GN_PUBCOMP ? 2 : 1;
    if ((type == GN_PUBACK && w->o->qos != 1) || (type != GN_PUBACK && w->o->qos != 2) ||
        c->ids[id] != want)
        return GL_ERR_PROTOCOL;
    if (type == GN_PUBREC && a->reason < 0x80) {
        uint8_t *o = gl_conn_reserve(c, 4);
        if (!o)
            return GL_ERR_NOMEM;
        gl_ack_put(&w->ctl.pubrel, o, id);
        c->out_tail += 4;
        c->ids[id] = 2;
        return GL_OK;
    }
    c->ids[id] = 0;
    c->inflight--;
    if (a->reason >= 0x80)
        w->rejected++;
    else
        w->acked++;
    return GL_OK;
}

static gl_status handle(gl_worker *w, gl_conn *c, const uint8_t *pkt, size_t len, uint64_t now)
{
    gn_packet p;
    gn_err e = gn_decode(pkt, len, (gn_proto)w->o->protocol, &p);
    if (e != GN_OK) {
        w->protocol_errors++;
        return GL_ERR_PROTOCOL;
    }
    switch (p.type) {
    case GN_CONNACK:    return on_connack(w, c, &p.u.connack);
    case GN_SUBACK:     return on_suback(c, &p.u.suback);
    case GN_PUBLISH:    return on_publish(w, c, &p.u.publish, now);
    case GN_PUBACK:
    case GN_PUBREC:
    case GN_PUBREL:
    case GN_PUBCOMP:    return on_ack(w, c, p.type, &p.u.ack);
    case GN_PINGRESP:   return GL_OK;
    case GN_DISCONNECT: return GL_ERR_CLOSED;
    default:
        w->protocol_errors++;
        return GL_ERR_PROTOCOL;
    }
}

gl_status gl_proto_input(gl_worker *w, gl_conn *c, uint64_t now)
{
    size_t off = 0;
    gl_status s = GL_OK;
    for (;;) {
        gn_frame fr[64];
        size_t consumed = 0, need = 0;
        gn_err st = GN_OK;
        size_t n = gn_frame_scan(c->in + off, c->in_len - off, 0, fr, 64, &consumed, &need, &st);
        for (size_t i = 0; i < n && s == GL_OK; i++)
            s = handle(w, c, c->in + off + fr[i].offset, fr[i].total_len, now);
        off += consumed;
        if (s != GL_OK)
            return s;
        if (st == GN_OK && n == 64)
            continue;
        if (st != GN_OK && st != GN_NEED_MORE) {
            w->protocol_errors++;
            return GL_ERR_PROTOCOL;
        }
        if (need > 0 && (c->in_len - off) + need > c->in_cap) {
            memmove(c->in, c->in + off, c->in_len - off);
            c->in_len -= (uint32_t)off;
            return gl_conn_in_grow(c, c->in_len + need);
        }
        break;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= (uint32_t)off;
    }
    return GL_OK;
}
