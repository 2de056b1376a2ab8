/* engine/mqtt_conn.c — per-packet dispatch and the connection-level MQTT
 * rules: the first packet must be CONNECT, PINGREQ, DISCONNECT (with or
 * without will, session expiry update), protocol errors and
 * server-initiated DISCONNECT with a reason code, keep-alive / CONNECT
 * timeouts, and what happens to the session when a connection ends. */
#include <stdlib.h>
#include <string.h>

#include "codec/errors.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/platform.h"
#include "engine/shard.h"

int gn_mqtt_send_packet(gn_conn *c, const gn_packet *p)
{
    uint8_t buf[512];
    size_t n = 0;
    gn_err r = gn_encode(p, (gn_proto)c->proto, NULL, 0, buf, sizeof buf, &n);
    if (r == GN_OK)
        return gn_conn_send(c, buf, n);
    if (r != GN_ERR_BUFFER_TOO_SMALL) {
        gn_log_warn("encode of packet type %d failed: %s", p->type, gn_err_name(r));
        return -1;
    }
    uint8_t *big = malloc(n);
    if (!big)
        return -1;
    size_t n2 = 0;
    int rc = -1;
    if (gn_encode(p, (gn_proto)c->proto, NULL, 0, big, n, &n2) == GN_OK)
        rc = gn_conn_send(c, big, n2);
    free(big);
    return rc;
}

void gn_mqtt_send_ack(gn_conn *c, gn_packet_type type, uint16_t pid, uint8_t reason)
{
    uint8_t b[5];
    size_t n = 0;
    b[n++] = (uint8_t)((type << 4) | (type == GN_PUBREL ? 0x02 : 0));
    bool with_reason = c->proto == GN_PROTO_V5 && reason != 0;
    b[n++] = with_reason ? 3 : 2;
    b[n++] = (uint8_t)(pid >> 8);
    b[n++] = (uint8_t)pid;
    if (with_reason)
        b[n++] = reason;
    gn_conn_send(c, b, n);
}

/* MQTT 5 DISCONNECT with reason rc and, when given, a Reason String. */
static void send_disconnect(gn_conn *c, uint8_t rc, const char *why)
{
    if (c->proto != GN_PROTO_V5 || c->lost)
        return;
    size_t wl = why ? strlen(why) : 0;
    if (wl > 200)
        wl = 200;
    uint8_t b[8 + 200];
    size_t n = 0;
    b[n++] = 0xE0;
    if (!wl) {
        b[n++] = rc ? 1 : 0;
        if (rc)
            b[n++] = rc;
    } else {
        b[n++] = (uint8_t)(2 + 3 + wl);     /* reason + property length + property */
        b[n++] = rc;
        b[n++] = (uint8_t)(3 + wl);
        b[n++] = GN_PROP_REASON_STRING;
        b[n++] = (uint8_t)(wl >> 8);
        b[n++] = (uint8_t)wl;
        memcpy(b + n, why, wl);
        n += wl;
    }
    gn_conn_send(c, b, n);
}

void gn_mqtt_session_end(gn_shard *s, gn_session *ss, bool with_will)
{
    gn_conn *c = ss->conn;
    if (c) {
        c->sess = NULL;
        ss->conn = NULL;
    }
    gn_session_reset_conn_state(ss);
    /* Publishers paused for this session must not wait for a client that
     * is gone (an offline session's queue is bounded by dropping). */
    gn_session_release_waiters(s, ss);
    gn_session_flow_trim(ss);
    if (with_will && ss->will)
        gn_will_trigger(s, ss);     /* may publish now or arm the delay */
    else if (!ss->will_pending) {
        gn_will_free(ss->will);
        ss->will = NULL;
    }
    if (ss->expiry_s == 0) {
        if (ss->will_pending)
            gn_will_trigger(s, ss);  /* the session ends now: so does the delay */
        gn_session_destroy(s, ss);
        return;
    }
    gn_session_expiry_arm(s, ss);
}

static void disconnect_why(gn_conn *c, uint8_t rc, const char *why, bool publish_will)
{
    if (c->state == GN_CS_CLOSING)
        return;
    if (c->state == GN_CS_ACTIVE)
        send_disconnect(c, rc, why);
    if (c->sess)
        gn_mqtt_session_end(c->shard, c->sess, publish_will);
    gn_conn_close(c);
}

void gn_mqtt_disconnect(gn_conn *c, uint8_t rc, bool publish_will)
{
    if (c->plat)
        gn_plat_set_close(c, gn_close_from_mqtt5_reason(rc));
    disconnect_why(c, rc, rc >= 0x80 ? gn_reason_name(rc) : NULL, publish_will);
}

void gn_mqtt_close(gn_conn *c, uint16_t code, bool publish_will)
{
    gn_plat_set_close(c, code);
    disconnect_why(c, gn_close_mqtt5_reason(code), gn_close_reason(code), publish_will);
}

void gn_mqtt_fail(gn_conn *c, gn_err err)
{
    gn_shard *s = c->shard;
    gn_stat_add(&s->stats.protocol_errors, 1);
    gn_log_debug("protocol error on fd %d: %s", c->fd, gn_err_name(err));
    if (c->plat) {
        /* A first packet over its limit is 165, not 287. */
        uint16_t code = c->state == GN_CS_NEW && err == GN_ERR_PACKET_TOO_LARGE
                        ? GN_CLOSE_FIRST_PACKET : gn_err_close_code(err);
        if (err == GN_ERR_QOS_INVALID || err == GN_ERR_SUB_OPTIONS_RESERVED)
            code = GN_CLOSE_QOS_INVALID;                 /* S-084 */
        gn_plat_set_close(c, code);
    }
    uint8_t rc = gn_err_reason_code(err);
    disconnect_why(c, rc ? rc : GN_RC_PROTOCOL_ERROR, gn_err_text(err), true);
}

void gn_mqtt_on_lost(gn_conn *c)
{
    if (c->sess)
        gn_mqtt_session_end(c->shard, c->sess, true);
}

void gn_mqtt_on_timeout(gn_conn *c)
{
    if (c->state == GN_CS_NEW) {
        gn_log_debug("fd %d sent no CONNECT in time", c->fd);
        gn_plat_set_close(c, GN_CLOSE_NO_DATA);         /* S-040 */
        gn_conn_close(c);
        return;
    }
    if (c->plat) {
        gn_mqtt_close(c, GN_CLOSE_TIMEOUT, true);       /* S-101 */
        return;
    }
    gn_mqtt_disconnect(c, GN_RC_KEEP_ALIVE_TIMEOUT, true);
}

/* A CONNECT that failed to decode: answer with the CONNACK the spec asks
 * for when the protocol level is known, then close. */
static void connect_decode_failed(gn_conn *c, const uint8_t *pkt, size_t len, gn_err err)
{
    gn_stat_add(&c->shard->stats.protocol_errors, 1);
    gn_plat_set_close(c, gn_err_close_code(err));
    /* Protocol level: after the fixed header, a 2-byte name length and the name. */
    size_t i = 1;
    while (i < len && i < 5 && (pkt[i] & 0x80))
        i++;
    i++;
    uint8_t level = 0;
    if (i + 2 <= len) {
        size_t nl = (size_t)pkt[i] << 8 | pkt[i + 1];
        if (i + 2 + nl < len)
            level = pkt[i + 2 + nl];
    }
    if (level == GN_PROTO_V5) {
        uint8_t rc = gn_err_reason_code(err);
        uint8_t b[5] = { 0x20, 3, 0, rc ? rc : GN_RC_MALFORMED_PACKET, 0 };
        gn_conn_send(c, b, 5);
    } else {
        uint8_t rc = gn_err_connack_v3(err);
        if (err == GN_ERR_PROTOCOL_VERSION)
            rc = GN_CONNACK_V3_BAD_PROTOCOL;
        if (rc) {
            uint8_t b[4] = { 0x20, 2, 0, rc };
            gn_conn_send(c, b, 4);
        }
    }
    gn_conn_close(c);
}

static void on_disconnect(gn_conn *c, const gn_packet *p)
{
    gn_session *ss = c->sess;
    uint8_t rc = p->u.disconnect.reason;
    if (c->proto == GN_PROTO_V5 && gn_props_has(&p->u.disconnect.props, GN_PROP_SESSION_EXPIRY)) {
        uint32_t want = p->u.disconnect.props.session_expiry;
        if (ss->expiry_s == 0 && want != 0) {
            /* MQTT 5 3.14.2.2.2: not allowed to set it when it was 0. */
            gn_mqtt_disconnect(c, GN_RC_PROTOCOL_ERROR, true);
            return;
        }
        uint32_t cap = c->shard->cfg.max_session_expiry_interval;
        ss->expiry_s = want > cap ? cap : want;
    }
    bool will = c->proto == GN_PROTO_V5 && rc == GN_RC_DISCONNECT_WITH_WILL;
    gn_plat_set_close(c, GN_CLOSE_NORMAL);
    gn_mqtt_session_end(c->shard, ss, will);
    gn_conn_close(c);
}

/* Offset just past the topic of a framed PUBLISH that failed to decode
 * (fixed header, then the topic's 2-byte length and bytes); 0 when the
 * packet is too short to tell. */
static size_t publish_past_topic(const uint8_t *pkt, size_t len)
{
    size_t i = 1;
    while (i < len && (pkt[i] & 0x80))
        i++;
    i++;
    if (i + 2 > len)
        return 0;
    i += 2 + ((size_t)pkt[i] << 8 | pkt[i + 1]);
    return i <= len ? i : 0;
}

/* Does this MQTT 5 PUBLISH carry Topic Alias 0? (The codec reports it as a
 * bad property value; MQTT 5 3.3.2.3.4 wants DISCONNECT 0x94.) */
static bool publish_alias_zero(const gn_conn *c, const uint8_t *pkt, size_t len)
{
    if (c->proto != GN_PROTO_V5 || (pkt[0] >> 4) != GN_PUBLISH)
        return false;
    size_t i = publish_past_topic(pkt, len);
    if (i == 0)
        return false;
    if (((pkt[0] >> 1) & 3) != 0)
        i += 2;                                          /* packet id */
    uint32_t plen = 0, shift = 0;
    while (i < len && shift < 28) {
        plen |= (uint32_t)(pkt[i] & 0x7F) << shift;
        shift += 7;
        if (!(pkt[i++] & 0x80))
            break;
    }
    size_t end = i + plen < len ? i + plen : len;
    while (i + 2 < end) {
        if (pkt[i] == GN_PROP_TOPIC_ALIAS)
            return pkt[i + 1] == 0 && pkt[i + 2] == 0;
        size_t vl;
        switch (gn_prop_type_of(pkt[i])) {
        case GN_PTYPE_BYTE: vl = 1; break;
        case GN_PTYPE_U16: vl = 2; break;
        case GN_PTYPE_U32: vl = 4; break;
        case GN_PTYPE_VARINT:
            vl = 1;
            while (i + vl < end && (pkt[i + vl] & 0x80))
                vl++;
            break;
        case GN_PTYPE_UTF8:
        case GN_PTYPE_BINARY: vl = 2 + ((size_t)pkt[i + 1] << 8 | pkt[i + 2]); break;
        case GN_PTYPE_UTF8_PAIR: {
            size_t k = 2 + ((size_t)pkt[i + 1] << 8 | pkt[i + 2]);
            if (i + 1 + k + 2 > end)
                return false;
            vl = k + 2 + ((size_t)pkt[i + 1 + k] << 8 | pkt[i + 2 + k]);
            break;
        }
        default: return false;
        }
        i += 1 + vl;
    }
    return false;
}

/* Platform mode, S-077: an MQTT 5 PUBLISH at QoS >= 1 whose payload says
 * UTF-8 but is not gets PUBACK / PUBREC 0x99 and the connection stays.
 * Returns false when pkt is not such a PUBLISH (the caller closes). */
static bool platform_payload_nak(gn_conn *c, const uint8_t *pkt, size_t len)
{
    uint8_t qos = (pkt[0] >> 1) & 3;
    if (c->proto != GN_PROTO_V5 || (pkt[0] >> 4) != GN_PUBLISH || qos == 0 || qos == 3)
        return false;
    size_t i = publish_past_topic(pkt, len);
    if (i == 0 || i + 2 > len)
        return false;
    uint16_t pid = (uint16_t)(pkt[i] << 8 | pkt[i + 1]);
    if (pid == 0)
        return false;
    c->plat->rx_msgs++;
    gn_mqtt_send_ack(c, qos == 1 ? GN_PUBACK : GN_PUBREC, pid, GN_RC_PAYLOAD_FORMAT_INVALID);
    return true;
}

void gn_mqtt_on_packet(gn_conn *c, const uint8_t *pkt, size_t len)
{
    gn_packet p;
    if (c->state == GN_CS_NEW) {
        if ((pkt[0] >> 4) != GN_CONNECT) {
            gn_stat_add(&c->shard->stats.protocol_errors, 1);
            gn_plat_set_close(c, GN_CLOSE_INVALID_DATA);
            gn_conn_close(c);
            return;
        }
        gn_err r = gn_decode(pkt, len, GN_PROTO_V5, &p);
        if (r != GN_OK) {
            connect_decode_failed(c, pkt, len, r);
            return;
        }
        gn_mqtt_connect(c, pkt, len, &p);
        return;
    }
    gn_err r = gn_decode(pkt, len, (gn_proto)c->proto, &p);
    if (r != GN_OK) {
        if (r == GN_ERR_PROPERTY_VALUE && publish_alias_zero(c, pkt, len)) {
            gn_stat_add(&c->shard->stats.protocol_errors, 1);
            gn_mqtt_disconnect(c, GN_RC_TOPIC_ALIAS_INVALID, true);
            return;
        }
        if (r == GN_ERR_PAYLOAD_NOT_UTF8 && c->plat && platform_payload_nak(c, pkt, len))
            return;
        gn_mqtt_fail(c, r);
        return;
    }
    switch (p.type) {
    case GN_PUBLISH:
        gn_mqtt_publish(c, &p);
        break;
    case GN_PUBACK:
    case GN_PUBREC:
    case GN_PUBREL:
    case GN_PUBCOMP:
        gn_mqtt_ack(c, &p);
        break;
    case GN_SUBSCRIBE:
        gn_mqtt_subscribe(c, &p);
        break;
    case GN_UNSUBSCRIBE:
        gn_mqtt_unsubscribe(c, &p);
        break;
    case GN_PINGREQ: {
        static const uint8_t pong[2] = { 0xD0, 0 };
        gn_conn_send(c, pong, 2);
        break;
    }
    case GN_DISCONNECT:
        on_disconnect(c, &p);
        break;
    default:
        /* A second CONNECT, AUTH (no enhanced authentication offered),
         * or a server-to-client packet type. */
        gn_stat_add(&c->shard->stats.protocol_errors, 1);
        gn_mqtt_disconnect(c, GN_RC_PROTOCOL_ERROR, true);
        break;
    }
}
