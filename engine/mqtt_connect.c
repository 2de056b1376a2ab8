/* engine/mqtt_connect.c — CONNECT for MQTT 3.1, 3.1.1 and 5.0: the hand-off
 * of the connection to the client id's owner shard, empty client ids
 * (assigned identifier in MQTT 5, the 3.1.1 clean-session rule), the
 * authentication hook, takeover of an existing connection (MQTT 5
 * DISCONNECT 0x8E to the old one, whose will is published), clean start /
 * session resumption with session expiry, the negotiated limits (receive
 * maximum, maximum packet size, topic aliases, keep alive) and the CONNACK.
 * In platform mode the on_connect hook (engine/platform/auth.c) replaces
 * the authentication hook and sets the session's limits. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/pace.h"
#include "engine/platform/platform.h"
#include "engine/shard.h"

/* Platform refusal: the CONNACK codes the rules chose, the close code logged. */
static void connack_refuse(gn_conn *c, const gn_pconnect *po)
{
    gn_plat_set_close(c, po->close_code);
    if (c->proto == GN_PROTO_V5) {
        uint8_t b[5] = { 0x20, 3, 0, po->connack_v5, 0 };
        gn_conn_send(c, b, 5);
    } else {
        uint8_t b[4] = { 0x20, 2, 0, po->connack_v3 };
        gn_conn_send(c, b, 4);
    }
    gn_conn_close(c);
}

static void connack_fail(gn_conn *c, uint8_t rc5)
{
    if (c->proto == GN_PROTO_V5) {
        uint8_t b[5] = { 0x20, 3, 0, rc5, 0 };
        gn_conn_send(c, b, 5);
    } else {
        uint8_t b[4] = { 0x20, 2, 0, gn_reason_to_connack_v3(rc5) };
        gn_conn_send(c, b, 4);
    }
    gn_conn_close(c);
}

/* An id for a client that sent none, owned by this shard (so the
 * connection does not move). */
static size_t assign_id(gn_shard *s, char *out, size_t cap)
{
    static _Thread_local uint64_t ctr;
    for (;;) {
        uint64_t x = ((uint64_t)s->id << 56) ^ (gn_clock_ms() << 20) ^ ++ctr;
        int n = snprintf(out, cap, "gn-%016llx", (unsigned long long)x);
        if (n <= 0 || (size_t)n >= cap)
            return 0;
        if (gn_shard_owner(s, (const uint8_t *)out, (size_t)n) == s->id &&
            !gn_session_find(s, (const uint8_t *)out, (size_t)n))
            return (size_t)n;
    }
}

/* The session key of one A:org:app connection (S-020): the client id, a
 * NUL (which no MQTT client id contains, so no client can name or take
 * over this session), then a number unique on this shard. Printed with %s
 * it reads as the client id. Returns the key's length, 0 if it does not
 * fit. */
static size_t member_key(gn_shard *s, const uint8_t *cid, size_t len, char *out, size_t cap)
{
    static _Thread_local uint64_t ctr;
    if (len + 20 > cap)
        return 0;
    memcpy(out, cid, len);
    out[len] = 0;
    for (;;) {
        int n = snprintf(out + len + 1, cap - len - 1, "%x.%llx", (unsigned)s->id,
                         (unsigned long long)++ctr);
        if (n <= 0 || (size_t)n >= cap - len - 1)
            return 0;
        size_t kl = len + 1 + (size_t)n;
        if (!gn_session_find(s, (const uint8_t *)out, kl))
            return kl;
    }
}

static uint16_t effective_keepalive(const gn_config *cfg, const gn_connect *cn, bool *changed)
{
    uint16_t ka = cn->keep_alive;
    *changed = false;
    if (cn->proto != GN_PROTO_V5)
        return ka;
    if (cfg->server_keep_alive) {
        *changed = ka != cfg->server_keep_alive;
        return cfg->server_keep_alive;
    }
    if (cfg->max_keepalive && (ka == 0 || ka > cfg->max_keepalive) && cfg->max_keepalive < 65535) {
        *changed = true;
        return cfg->max_keepalive;
    }
    return ka;
}

static void send_connack(gn_conn *c, gn_session *ss, bool present, const gn_connect *cn,
                         uint16_t ka, bool ka_changed, uint32_t expiry_granted,
                         const gn_pconnect *po)
{
    const gn_config *cfg = &c->shard->cfg;
    if (c->proto != GN_PROTO_V5) {
        uint8_t b[4] = { 0x20, 2, present ? 1 : 0, 0 };
        gn_conn_send(c, b, 4);
        return;
    }
    gn_packet p;
    memset(&p, 0, sizeof p);
    p.type = GN_CONNACK;
    p.u.connack.session_present = present;
    p.u.connack.reason = 0;
    gn_props *pr = &p.u.connack.props;
    pr->present |= GN_PROP_BIT(GN_PROP_RECEIVE_MAXIMUM);
    pr->receive_maximum = cfg->receive_maximum ? cfg->receive_maximum : 65535;
    if (po && po->receive_maximum && po->receive_maximum < pr->receive_maximum)
        pr->receive_maximum = po->receive_maximum;      /* S-090 */
    if (cfg->max_packet_size && cfg->max_packet_size < GN_MQTT_MAX_PACKET) {
        pr->present |= GN_PROP_BIT(GN_PROP_MAXIMUM_PACKET_SIZE);
        pr->maximum_packet_size = cfg->max_packet_size;
    }
    pr->present |= GN_PROP_BIT(GN_PROP_TOPIC_ALIAS_MAXIMUM);
    pr->topic_alias_maximum = ss->alias_in_max;
    uint8_t max_qos = po && po->max_qos < cfg->max_qos ? po->max_qos : cfg->max_qos;
    if (max_qos < 2) {
        pr->present |= GN_PROP_BIT(GN_PROP_MAXIMUM_QOS);
        pr->maximum_qos = max_qos;
    }
    if (!cfg->retain_available) {
        pr->present |= GN_PROP_BIT(GN_PROP_RETAIN_AVAILABLE);
        pr->retain_available = 0;
    }
    if (!cfg->wildcard_subscription_available) {
        pr->present |= GN_PROP_BIT(GN_PROP_WILDCARD_SUB_AVAILABLE);
        pr->wildcard_sub_available = 0;
    }
    if (!cfg->subscription_identifier_available) {
        pr->present |= GN_PROP_BIT(GN_PROP_SUB_ID_AVAILABLE);
        pr->sub_id_available = 0;
    }
    if (!cfg->shared_subscription_available) {
        pr->present |= GN_PROP_BIT(GN_PROP_SHARED_SUB_AVAILABLE);
        pr->shared_sub_available = 0;
    }
    if (ka_changed) {
        pr->present |= GN_PROP_BIT(GN_PROP_SERVER_KEEP_ALIVE);
        pr->server_keep_alive = ka;
    }
    uint32_t asked = gn_props_has(&cn->props, GN_PROP_SESSION_EXPIRY) ? cn->props.session_expiry : 0;
    if (expiry_granted != asked) {
        pr->present |= GN_PROP_BIT(GN_PROP_SESSION_EXPIRY);
        pr->session_expiry = expiry_granted;
    }
    if (ss->assigned_id) {
        pr->present |= GN_PROP_BIT(GN_PROP_ASSIGNED_CLIENT_ID);
        pr->assigned_client_id.ptr = (const uint8_t *)ss->client_id;
        pr->assigned_client_id.len = ss->cid_len;
    }
    gn_mqtt_send_packet(c, &p);
}

/* Close the session's current connection: the client id was taken over. */
static void take_over(gn_shard *s, gn_session *ss, bool clean_start)
{
    gn_conn *old = ss->conn;
    if (!old)
        return;
    if (old->state == GN_CS_ACTIVE && old->proto == GN_PROTO_V5 && !old->lost) {
        uint8_t b[3] = { 0xE0, 1, GN_RC_SESSION_TAKEN_OVER };
        gn_conn_send(old, b, 3);
    }
    gn_plat_set_close(old, GN_CLOSE_ID_REUSED);     /* S-018 */
    gn_mon_taken_over(old);                         /* its Disconnect before the new Connect (S-019) */
    old->sess = NULL;
    ss->conn = NULL;
    gn_session_reset_conn_state(ss);
    /* The old connection's will: its delay applies when the session lives
     * on (and the resumption below then cancels it); a clean start ends
     * the session, so it goes out now. */
    if (clean_start)
        ss->expiry_s = 0;
    gn_will_trigger(s, ss);
    gn_conn_close(old);
}

void gn_mqtt_connect(gn_conn *c, const uint8_t *pkt, size_t len, const gn_packet *p)
{
    (void)pkt;
    (void)len;
    gn_shard *s = c->shard;
    gn_engine *e = s->eng;
    const gn_config *cfg = &s->cfg;
    const gn_connect *cn = &p->u.connect;
    c->proto = (uint8_t)cn->proto;

    char idbuf[32];
    const uint8_t *cid = cn->client_id.ptr;
    size_t cid_len = cn->client_id.len;
    size_t pub_len = cid_len;           /* the id as the client sent it */
    bool assigned = false;
    gn_pconnect po;
    /* S-020: every connection of A:org:app holds the same client id; each
     * gets a session of its own on the shard that accepted it (so the
     * members of a group spread over the shards) under a key no client id
     * can have (see member_key). */
    bool shared_id = c->plat && gn_pident_shares_id(cid, cid_len);
    char keybuf[128];
    if (c->plat && cid_len == 0) {
        gn_plat_on_connect(c, cn, &po);     /* refuses: no class (S-011) */
        connack_refuse(c, &po);
        return;
    }
    if (cid_len == 0) {
        if (cn->proto != GN_PROTO_V5 && !cn->clean_start) {
            connack_fail(c, GN_RC_CLIENT_ID_NOT_VALID);     /* 3.1.1: rc 2 */
            return;
        }
        if (!cfg->allow_zero_length_clientid) {
            connack_fail(c, GN_RC_CLIENT_ID_NOT_VALID);
            return;
        }
        cid_len = assign_id(s, idbuf, sizeof idbuf);
        cid = (const uint8_t *)idbuf;
        assigned = true;
    } else if (!shared_id) {
        uint16_t owner = gn_shard_owner(s, cid, cid_len);
        if (owner != s->id) {
            c->state = GN_CS_HANDOFF;
            c->handoff_to = owner;
            return;
        }
    }
    if (cn->proto == GN_PROTO_V5 && gn_props_has(&cn->props, GN_PROP_AUTH_METHOD)) {
        connack_fail(c, GN_RC_BAD_AUTHENTICATION_METHOD);
        return;
    }
    if (cn->will && cn->will_qos > cfg->max_qos) {
        connack_fail(c, GN_RC_QOS_NOT_SUPPORTED);       /* MQTT 5 3.2.2.3.4 */
        return;
    }
    if (cn->will && cn->will_retain && !cfg->retain_available) {
        connack_fail(c, GN_RC_RETAIN_NOT_SUPPORTED);
        return;
    }
    gn_connect cn_plat;
    if (c->plat) {
        gn_plat_on_connect(c, cn, &po);
        gn_mon_attempt(c, cn, po.close_code);
        if (po.close_code) {
            gn_log_info("connection of '%.*s' refused: %s (close %u)", (int)cid_len,
                        (const char *)cid, po.why ? po.why : "", (unsigned)po.close_code);
            connack_refuse(c, &po);
            return;
        }
        /* The will goes to its internal topic and is never retained (S-079, S-080). */
        cn_plat = *cn;
        if (cn->will) {
            cn_plat.will_topic.ptr = po.will_topic;
            cn_plat.will_topic.len = po.will_topic_len;
            cn_plat.will_retain = false;
        }
        if (shared_id) {
            size_t kl = member_key(s, cid, cid_len, keybuf, sizeof keybuf);
            if (!kl) {
                connack_fail(c, GN_RC_SERVER_UNAVAILABLE);
                return;
            }
            pub_len = cid_len;
            cid = (const uint8_t *)keybuf;
            cid_len = kl;
            cn_plat.clean_start = true;     /* never durable (S-021), never taken over */
            gn_log_debug("scalable application member '%s' (key .%s) on this shard", keybuf,
                         keybuf + pub_len + 1);
        }
        cn = &cn_plat;
    }
    uint8_t arc = 0;
    if (!c->plat && !cfg->allow_anonymous && !cn->has_username) {
        connack_fail(c, GN_RC_NOT_AUTHORIZED);      /* 3.x: rc 5 */
        return;
    }
    if (!c->plat)
        arc = e->auth(e->auth_ctx, cid, cid_len, cn->username.ptr, cn->username.len,
                      cn->has_username, cn->password.ptr, cn->password.len, cn->has_password);
    if (arc) {
        gn_log_info("connection of '%.*s' refused by the authentication hook (0x%02x)",
                    (int)cid_len, (const char *)cid, arc);
        connack_fail(c, arc);
        return;
    }

    gn_session *ss = gn_session_find(s, cid, cid_len);
    if (ss) {
        take_over(s, ss, cn->clean_start);
        if (cn->clean_start) {
            gn_session_destroy(s, ss);
            ss = NULL;
        }
    }
    bool present = ss != NULL;
    if (!ss) {
        ss = gn_session_new(s, cid, cid_len);
        if (!ss) {
            connack_fail(c, GN_RC_SERVER_UNAVAILABLE);
            return;
        }
    }
    /* A reconnect within the will delay cancels the pending will. */
    gn_session_offline_stop(s, ss);
    gn_will_free(ss->will);
    ss->will = NULL;
    if (cn->will) {
        ss->will = gn_will_new(cn);
        if (!ss->will) {
            gn_session_destroy(s, ss);
            connack_fail(c, GN_RC_SERVER_UNAVAILABLE);
            return;
        }
    }
    ss->assigned_id = assigned;
    ss->cid_pub_len = (uint16_t)pub_len;
    ss->proto = (uint8_t)cn->proto;
    uint32_t expiry_granted = 0;
    if (cn->proto == GN_PROTO_V5) {
        uint32_t want = gn_props_has(&cn->props, GN_PROP_SESSION_EXPIRY) ? cn->props.session_expiry : 0;
        expiry_granted = want > cfg->max_session_expiry_interval ? cfg->max_session_expiry_interval : want;
        if (shared_id)
            expiry_granted = 0;         /* S-021: the member's session ends with it */
        ss->expiry_s = expiry_granted;
    } else {
        ss->expiry_s = cn->clean_start ? 0 : UINT32_MAX;
    }

    /* Attach. */
    ss->conn = c;
    c->sess = ss;
    c->state = GN_CS_ACTIVE;
    uint32_t win = cfg->max_inflight_messages ? cfg->max_inflight_messages : 65535;
    c->max_packet_out = 0;
    ss->alias_out_max = 0;
    ss->alias_in_max = 0;
    if (cn->proto == GN_PROTO_V5) {
        const gn_props *pr = &cn->props;
        if (gn_props_has(pr, GN_PROP_RECEIVE_MAXIMUM) && pr->receive_maximum < win)
            win = pr->receive_maximum;
        if (gn_props_has(pr, GN_PROP_MAXIMUM_PACKET_SIZE))
            c->max_packet_out = pr->maximum_packet_size;
        if (gn_props_has(pr, GN_PROP_TOPIC_ALIAS_MAXIMUM))
            ss->alias_out_max = pr->topic_alias_maximum;
        if (gn_props_has(pr, GN_PROP_REQUEST_PROBLEM_INFO))
            ss->req_problem_info = pr->request_problem_info != 0;
        ss->alias_in_max = cfg->max_topic_alias;
    }
    bool ka_changed;
    uint16_t ka = effective_keepalive(cfg, cn, &ka_changed);
    ss->plat_qdepth = 0;
    if (c->plat) {
        if (po.send_window && po.send_window < win)
            win = po.send_window;                           /* S-090 */
        if (ss->alias_in_max > po.topic_alias_max)
            ss->alias_in_max = po.topic_alias_max;          /* S-091 */
        if (ss->alias_out_max > po.topic_alias_max)
            ss->alias_out_max = po.topic_alias_max;
        ss->plat_qdepth = po.queue_depth;                   /* S-086, S-087 */
        c->plat->recv_max = po.receive_maximum;
        if (po.keep_alive_changed) {                        /* S-073 */
            ka = po.keep_alive;
            ka_changed = cn->proto == GN_PROTO_V5;
        }
    }
    ss->send_window = (uint16_t)win;
    if (!c->plat && cfg->rate_limit && gn_conn_pace_set(c, cfg->rate_limit, cfg->rate_unit_bytes) < 0)
        gn_log_warn("out of memory for a connection's rate limit: not paced");
    c->keep_alive = ka;
    gn_timer_cancel(&s->tw, &c->timer);
    if (ka)
        gn_timer_arm(&s->tw, &c->timer, s->now_ms + (uint64_t)ka * 1500u);

    send_connack(c, ss, present, cn, ka, ka_changed, expiry_granted, c->plat ? &po : NULL);
    if (c->plat)
        gn_mon_connected(c);                        /* S-105 */
    if (present && ss->queue_dropped) {
        /* What the client missed while away, once (S-086). */
        gn_log_info("resumed: client=%.*s queue_dropped=%u (oldest queued messages dropped while "
                    "offline, subscription buffers full)", (int)ss->cid_len, ss->client_id,
                    (unsigned)ss->queue_dropped);
        ss->queue_dropped = 0;
    }
    if (present)
        gn_session_resend(s, ss);
    if (ss->blocked_by)
        gn_conn_pause(c);
}
