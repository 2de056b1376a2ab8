/* engine/mqtt_publish.c — inbound PUBLISH and the acknowledgement packets:
 * topic aliases (client to server), QoS 0/1/2 (QoS 2 delivered on PUBLISH,
 * duplicates recognised by packet id until PUBREL), the retained store,
 * matching through the router and delivery to local sessions or, through
 * the cross-shard rings, to sessions on other shards.
 *
 * Hot path: a PUBLISH nobody subscribed to (and not retained) is framed,
 * decoded, matched (per-shard cache) and acknowledged without copying or
 * allocating. A matched one is copied once into a refcounted gn_msg shared
 * by every delivery. The PUBACK / PUBREC goes out after every target has
 * accepted the message (queued locally or handed to the target shard's
 * ring, which never drops it).
 *
 * Platform mode: the on_publish hook (engine/platform/rules.c) checks the
 * topic against the client's allow-list and gives the internal topic the
 * router sees, or says how to refuse. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/topic.h"
#include "engine/consumer.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/pace.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/shard.h"

/* Properties a broker forwards unchanged. */
#define FORWARD_BITS (GN_PROP_BIT(GN_PROP_CONTENT_TYPE) | GN_PROP_BIT(GN_PROP_RESPONSE_TOPIC) | \
                      GN_PROP_BIT(GN_PROP_CORRELATION_DATA) | GN_PROP_BIT(GN_PROP_USER_PROPERTY))

static bool forwarded(uint8_t id)
{
    return id == GN_PROP_CONTENT_TYPE || id == GN_PROP_RESPONSE_TOPIC ||
           id == GN_PROP_CORRELATION_DATA || id == GN_PROP_USER_PROPERTY;
}

/* Length of one property value of type t at b (block already validated). */
static size_t prop_value_len(gn_prop_type t, const uint8_t *b)
{
    switch (t) {
    case GN_PTYPE_BYTE: return 1;
    case GN_PTYPE_U16: return 2;
    case GN_PTYPE_U32: return 4;
    case GN_PTYPE_VARINT: {
        size_t n = 1;
        while (n < 4 && (b[n - 1] & 0x80))
            n++;
        return n;
    }
    case GN_PTYPE_UTF8:
    case GN_PTYPE_BINARY:
        return 2 + ((size_t)b[0] << 8 | b[1]);
    case GN_PTYPE_UTF8_PAIR: {
        size_t k = 2 + ((size_t)b[0] << 8 | b[1]);
        return k + 2 + ((size_t)b[k] << 8 | b[k + 1]);
    }
    default: return 0;
    }
}

size_t gn_props_forward(const gn_props *p, uint8_t *out, size_t cap, const uint8_t **direct)
{
    *direct = NULL;
    if (p->raw.len == 0 || !(p->present & FORWARD_BITS))
        return 0;
    if (!(p->present & ~FORWARD_BITS)) {
        *direct = p->raw.ptr;
        return p->raw.len;
    }
    size_t i = 0, n = 0;
    const uint8_t *b = p->raw.ptr;
    while (i < p->raw.len) {
        uint8_t id = b[i];
        size_t vl = prop_value_len(gn_prop_type_of(id), b + i + 1);
        if (vl == 0 || i + 1 + vl > p->raw.len)
            break;
        if (forwarded(id) && n + 1 + vl <= cap) {
            memcpy(out + n, b + i, 1 + vl);
            n += 1 + vl;
        }
        i += 1 + vl;
    }
    return n;
}

/* ---------------------------------------------------------------- routing */

static void deliver_all(gn_shard *s, gn_msg *m, const gn_rdeliv *dl, size_t n, uint64_t pub)
{
    for (size_t i = 0; i < n; i++) {
        const gn_rdeliv *d = &dl[i];
        if (gn_consumer_sid(d->session))
            continue;       /* consumers: engine/consumer_shard.c */
        if (d->shard == s->id) {
            gn_session *ss = gn_session_by_id(s, d->session);
            if ((d->flags & GN_RD_SHARED) && gn_shard_shared_redirect(s, ss, d, m, pub))
                continue;
            if (!ss)
                continue;
            gn_session_deliver(s, ss, m, d->qos, d->flags, d->sub_ids, d->nsub_ids, s->id, pub);
            continue;
        }
        gn_xslot sl;
        gn_xslot_deliver(&sl, d, m, s->id, pub);
        if (gn_xshard_put(s, d->shard, &sl) < 0)
            gn_msg_unref(m);
        else
            gn_xshard_throttle(s, d->shard, pub);
    }
}

void gn_route_publish(gn_shard *s, gn_msg *m, bool retain, uint64_t pub)
{
    const uint8_t *topic = (const uint8_t *)gn_msg_topic(m);
    if (retain && s->cfg.retain_available)
        gn_route_retain(&s->rc, topic, m->topic_len, m->payload_len ? m : NULL);
    const gn_rdeliv *dl;
    size_t n = gn_route_match(&s->rc, topic, m->topic_len, pub, &dl);
    gn_consumer_on_msg(s, m, dl, n);
    deliver_all(s, m, dl, n, pub);
}

/* ---------------------------------------------------------------- PUBLISH */

static bool qos2_seen(const gn_session *ss, uint16_t pid)
{
    const gn_sflow *f = ss->fl;
    return f && f->qos2_in && (f->qos2_in[pid >> 6] >> (pid & 63)) & 1u;
}

static int qos2_mark(gn_session *ss, uint16_t pid)
{
    gn_sflow *f = gn_session_flow(ss);
    if (!f || (!f->qos2_in && !(f->qos2_in = calloc(1024, sizeof(uint64_t)))))
        return -1;
    f->qos2_in[pid >> 6] |= UINT64_C(1) << (pid & 63);
    f->qos2_in_count++;
    return 0;
}

static void qos2_clear(gn_session *ss, uint16_t pid)
{
    gn_sflow *f = ss->fl;
    f->qos2_in[pid >> 6] &= ~(UINT64_C(1) << (pid & 63));
    f->qos2_in_count--;
}

/* Resolve the topic of an MQTT 5 PUBLISH with a Topic Alias. Returns false
 * (connection closed) on an invalid alias. */
static bool resolve_alias(gn_conn *c, gn_session *ss, gn_publish *pub)
{
    uint16_t a = pub->props.topic_alias;
    if (a == 0 || a > ss->alias_in_max) {
        gn_mqtt_disconnect(c, GN_RC_TOPIC_ALIAS_INVALID, true);
        return false;
    }
    if (!ss->alias_in && !(ss->alias_in = calloc(ss->alias_in_max, sizeof *ss->alias_in))) {
        gn_conn_fail(c);
        return false;
    }
    if (pub->topic.len) {
        char *t = malloc(pub->topic.len + 1u);
        if (!t) {
            gn_conn_fail(c);
            return false;
        }
        memcpy(t, pub->topic.ptr, pub->topic.len);
        t[pub->topic.len] = 0;
        free(ss->alias_in[a - 1]);
        ss->alias_in[a - 1] = t;
        return true;
    }
    const char *t = ss->alias_in[a - 1];
    if (!t) {
        gn_mqtt_disconnect(c, GN_RC_PROTOCOL_ERROR, true);
        return false;
    }
    pub->topic.ptr = (const uint8_t *)t;
    pub->topic.len = (uint32_t)strlen(t);
    return true;
}

static gn_msg *make_msg(gn_shard *s, gn_session *ss, const gn_publish *pub, bool v5)
{
    uint8_t stack[512];
    uint8_t *fwd = stack;
    const uint8_t *props = NULL;
    size_t plen = 0;
    if (v5 && pub->props.raw.len) {
        if (pub->props.raw.len > sizeof stack && !(fwd = malloc(pub->props.raw.len)))
            return NULL;
        plen = gn_props_forward(&pub->props, fwd, pub->props.raw.len > sizeof stack ?
                                pub->props.raw.len : sizeof stack, &props);
        if (!props)
            props = fwd;
    }
    bool exp = v5 && gn_props_has(&pub->props, GN_PROP_MESSAGE_EXPIRY);
    gn_msg_params mp = {
        .topic = (const char *)pub->topic.ptr,
        .topic_len = pub->topic.len,
        .payload = pub->payload.ptr,
        .payload_len = pub->payload.len,
        .props = props,
        .props_len = plen,
        .qos = pub->qos,
        .retain = pub->retain,
        .payload_format = v5 && gn_props_has(&pub->props, GN_PROP_PAYLOAD_FORMAT) ?
                          pub->props.payload_format : 0,
        .origin_shard = (uint8_t)s->id,
        .origin_id = ss->cid_hash,
        .received_ms = s->now_ms,
        .expiry_ms = exp ? s->now_ms + (uint64_t)pub->props.message_expiry * 1000u : GN_MSG_NO_EXPIRY,
    };
    gn_msg *m = gn_msg_new(&mp);
    if (fwd != stack)
        free(fwd);
    return m;
}

/* A PUBLISH of payload bytes was consumed from c: its rate limit, if any
 * (read pacing, S-096/S-097; Ioto throttling, S-136). */
static inline void charge_rate(gn_conn *c, size_t payload)
{
    if (c->pace)
        gn_conn_pace_publish(c, payload);
    else if (c->plat && c->plat->thr)
        gn_plat_throttle_publish(c, payload);
}

void gn_mqtt_publish(gn_conn *c, const gn_packet *p)
{
    gn_shard *s = c->shard;
    gn_session *ss = c->sess;
    gn_publish pub = p->u.publish;
    bool v5 = c->proto == GN_PROTO_V5;
    const gn_config *cfg = &s->cfg;
    gn_stat_add(&s->stats.msgs_in, 1);

    if (v5 && gn_props_has(&pub.props, GN_PROP_SUBSCRIPTION_ID)) {
        /* MQTT 5 3.3.4: a client's PUBLISH must not carry one. */
        gn_stat_add(&s->stats.protocol_errors, 1);
        gn_mqtt_disconnect(c, GN_RC_PROTOCOL_ERROR, true);
        return;
    }
    if (v5 && gn_props_has(&pub.props, GN_PROP_TOPIC_ALIAS)) {
        if (!resolve_alias(c, ss, &pub))
            return;
    } else if (pub.topic.len == 0) {
        gn_mqtt_fail(c, GN_ERR_TOPIC_EMPTY);
        return;
    }
    if (c->plat && !gn_plat_publish_fast(c->plat, &pub, cfg->platform_max_payload)) {
        uint16_t code = 0;
        uint8_t reason = 0;
        switch (gn_plat_on_publish(c, &pub, gn_plat_topic_in(s), GN_PLAT_TOPIC_BUF, &code, &reason)) {
        case GN_PPUB_PASS:
            break;
        case GN_PPUB_CLOSE:
            gn_mqtt_close(c, code, true);
            return;
        case GN_PPUB_NAK:
            gn_mqtt_send_ack(c, pub.qos == 1 ? GN_PUBACK : GN_PUBREC, pub.packet_id, reason);
            return;
        case GN_PPUB_HOLD:
            /* Auto-registration pending: read nothing more, handle this
             * PUBLISH again when the result is in. */
            c->replay = true;
            gn_conn_pause(c);
            return;
        case GN_PPUB_ACK_DROP:
            charge_rate(c, pub.payload.len);
            if (pub.qos == 1)
                gn_mqtt_send_ack(c, GN_PUBACK, pub.packet_id, 0);
            else if (pub.qos == 2 && !qos2_seen(ss, pub.packet_id) && qos2_mark(ss, pub.packet_id) < 0)
                gn_conn_fail(c);
            else if (pub.qos == 2)
                gn_mqtt_send_ack(c, GN_PUBREC, pub.packet_id, 0);
            return;
        }
    }
    if (c->plat && pub.qos == 2 && !qos2_seen(ss, pub.packet_id) && ss->fl &&
        ss->fl->qos2_in_count >= c->plat->recv_max) {
        gn_mqtt_disconnect(c, GN_RC_RECEIVE_MAXIMUM_EXCEEDED, true);       /* S-090 */
        return;
    }
    if (pub.qos > cfg->max_qos) {
        gn_mqtt_disconnect(c, GN_RC_QOS_NOT_SUPPORTED, true);
        return;
    }
    if (pub.retain && !cfg->retain_available) {
        gn_mqtt_disconnect(c, GN_RC_RETAIN_NOT_SUPPORTED, true);
        return;
    }
    if (pub.qos == 2) {
        if (qos2_seen(ss, pub.packet_id)) {
            /* A resend of a message already delivered: only acknowledge. */
            gn_mqtt_send_ack(c, GN_PUBREC, pub.packet_id, 0);
            return;
        }
        if (ss->fl && ss->fl->qos2_in_count >= cfg->receive_maximum) {
            gn_mqtt_disconnect(c, GN_RC_RECEIVE_MAXIMUM_EXCEEDED, true);
            return;
        }
    }

    const gn_rdeliv *dl;
    size_t n = gn_route_match(&s->rc, pub.topic.ptr, pub.topic.len, ss->sid, &dl);
    /* Consumers first, from the receive buffer; a full block-mode ring
     * leaves the packet unconsumed (replayed once it drained). */
    long nsess = n ? gn_consumer_on_publish(s, c, ss, &pub, dl, n) : 0;
    if (nsess < 0)
        return;
    bool retain = pub.retain && cfg->retain_available;
    if (nsess || retain) {
        gn_msg *m = make_msg(s, ss, &pub, v5);
        if (!m) {
            gn_conn_fail(c);
            return;
        }
        if (retain)
            gn_route_retain(&s->rc, pub.topic.ptr, pub.topic.len, pub.payload.len ? m : NULL);
        deliver_all(s, m, dl, n, ss->sid);
        gn_msg_unref(m);
    }
    uint8_t rc = (v5 && n == 0) ? GN_RC_NO_MATCHING_SUBSCRIBERS : GN_RC_SUCCESS;
    if (pub.qos == 1) {
        gn_mqtt_send_ack(c, GN_PUBACK, pub.packet_id, rc);
    } else if (pub.qos == 2) {
        if (qos2_mark(ss, pub.packet_id) < 0) {
            gn_conn_fail(c);
            return;
        }
        gn_mqtt_send_ack(c, GN_PUBREC, pub.packet_id, rc);
    }
    charge_rate(c, pub.payload.len);
}

/* ---------------------------------------------------------------- acks */

void gn_mqtt_ack(gn_conn *c, const gn_packet *p)
{
    gn_shard *s = c->shard;
    gn_session *ss = c->sess;
    uint16_t pid = p->u.ack.packet_id;
    switch (p->type) {
    case GN_PUBACK:
        gn_session_on_puback(s, ss, pid);
        break;
    case GN_PUBREC:
        if (!gn_session_on_pubrec(s, ss, pid, p->u.ack.reason) && p->u.ack.reason < 0x80)
            gn_mqtt_send_ack(c, GN_PUBREL, pid, GN_RC_PACKET_ID_NOT_FOUND);
        break;
    case GN_PUBREL:
        if (qos2_seen(ss, pid)) {
            qos2_clear(ss, pid);
            gn_mqtt_send_ack(c, GN_PUBCOMP, pid, 0);
        } else {
            gn_mqtt_send_ack(c, GN_PUBCOMP, pid, GN_RC_PACKET_ID_NOT_FOUND);
        }
        break;
    case GN_PUBCOMP:
        gn_session_on_pubcomp(s, ss, pid);
        break;
    default:
        break;
    }
}
