/* engine/will.c — will messages: the parts a CONNECT carries are kept in
 * one allocation per session until the will is due; it is then built into a
 * message (with its expiry counted from that moment) and routed like any
 * PUBLISH. Published on keep-alive expiry, takeover, protocol error,
 * network loss and MQTT 5 DISCONNECT 0x04 — after the will delay interval
 * if the session lives on (a reconnect within the delay cancels it), at
 * once when the session ends first. */
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/shard.h"

typedef struct gn_will {
    uint64_t due_ms;            /* when a delayed will goes out */
    uint32_t delay_s;
    uint32_t expiry_s;          /* message expiry interval; 0 = none */
    bool     has_expiry;
    uint8_t  qos;
    bool     retain;
    uint8_t  payload_format;
    uint16_t topic_len;
    uint32_t props_len;
    uint32_t payload_len;
    uint8_t  data[];            /* topic, forwarded props, payload */
} gn_will;

gn_will *gn_will_new(const gn_connect *cn)
{
    uint8_t stack[512];
    uint8_t *fwd = stack;
    const uint8_t *props = NULL;
    size_t plen = 0;
    if (cn->proto == GN_PROTO_V5) {
        size_t raw = cn->will_props.raw.len;
        if (raw > sizeof stack && !(fwd = malloc(raw)))
            return NULL;
        plen = gn_props_forward(&cn->will_props, fwd, raw > sizeof stack ? raw : sizeof stack, &props);
        if (!props)
            props = fwd;
    }
    gn_will *w = malloc(sizeof *w + cn->will_topic.len + plen + cn->will_payload.len);
    if (!w) {
        if (fwd != stack)
            free(fwd);
        return NULL;
    }
    memset(w, 0, sizeof *w);
    if (cn->proto == GN_PROTO_V5) {
        const gn_props *wp = &cn->will_props;
        if (gn_props_has(wp, GN_PROP_WILL_DELAY))
            w->delay_s = wp->will_delay;
        if (gn_props_has(wp, GN_PROP_MESSAGE_EXPIRY)) {
            w->has_expiry = true;
            w->expiry_s = wp->message_expiry;
        }
        if (gn_props_has(wp, GN_PROP_PAYLOAD_FORMAT))
            w->payload_format = wp->payload_format;
    }
    w->qos = cn->will_qos;
    w->retain = cn->will_retain;
    w->topic_len = (uint16_t)cn->will_topic.len;
    w->props_len = (uint32_t)plen;
    w->payload_len = cn->will_payload.len;
    uint8_t *d = w->data;
    if (w->topic_len)
        memcpy(d, cn->will_topic.ptr, w->topic_len);
    d += w->topic_len;
    if (plen)
        memcpy(d, props, plen);
    d += plen;
    if (w->payload_len)
        memcpy(d, cn->will_payload.ptr, w->payload_len);
    if (fwd != stack)
        free(fwd);
    return w;
}

void gn_will_free(gn_will *w)
{
    free(w);
}

static void publish_now(gn_shard *s, gn_session *ss)
{
    gn_will *w = ss->will;
    ss->will = NULL;
    if (ss->will_pending) {
        ss->will_pending = false;
        gn_session_offline_rearm(s, ss);
    }
    if (!w)
        return;
    gn_msg_params mp = {
        .topic = (const char *)w->data,
        .topic_len = w->topic_len,
        .props = w->data + w->topic_len,
        .props_len = w->props_len,
        .payload = w->data + w->topic_len + w->props_len,
        .payload_len = w->payload_len,
        .qos = w->qos,
        .retain = w->retain,
        .payload_format = w->payload_format,
        .origin_shard = (uint8_t)s->id,
        .origin_id = ss->cid_hash,
        .received_ms = s->now_ms,
        .expiry_ms = w->has_expiry ? s->now_ms + (uint64_t)w->expiry_s * 1000u : GN_MSG_NO_EXPIRY,
    };
    gn_msg *m = gn_msg_new(&mp);
    gn_will_free(w);
    if (!m) {
        gn_log_warn("will of '%s' lost: out of memory", ss->client_id);
        return;
    }
    gn_route_publish(s, m, mp.retain, 0);
    gn_msg_unref(m);
}

uint64_t gn_will_due(const gn_will *w)
{
    return w ? w->due_ms : UINT64_MAX;
}

void gn_will_trigger(gn_shard *s, gn_session *ss)
{
    gn_will *w = ss->will;
    if (!w)
        return;
    if (ss->will_pending || w->delay_s == 0 || ss->expiry_s == 0) {
        publish_now(s, ss);
        return;
    }
    ss->will_pending = true;
    w->due_ms = s->now_ms + (uint64_t)w->delay_s * 1000u;
    gn_session_offline_rearm(s, ss);
}
