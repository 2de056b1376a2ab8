/* engine/platform/rules.c — the on_publish and on_subscribe hooks and the
 * outbound topic (PLATFORM.md S-041 … S-075, S-079, S-083, S-142, S-143):
 * maximum QoS (291), payload size (287), the class allow-lists with their
 * rewrite, what each class gets for a topic outside its space (MQTT 3.x:
 * close 276; MQTT 5: PUBACK/PUBREC 0x90 or SUBACK 0x8F, a QoS 0 PUBLISH
 * still closes; gateways: a notification, an ack, and the connection
 * stays), gateway resource groups and auto-registration, the retain
 * override and the maximum-QoS downgrade of subscriptions. */
#include <string.h>

#include "codec/reason_codes.h"
#include "engine/log.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"

_Static_assert(GN_PCONN_TOPIC_EXTRA >= GN_PTOPIC_EXTRA, "the publish cache holds any rewrite");
_Static_assert(GN_PLAT_TOPIC_BUF >= 65535 + GN_PTOPIC_EXTRA, "the scratch buffers hold any rewrite");

static bool is_gateway(const gn_pconn *pc) { return pc->id.cls == GN_PC_GATEWAY; }
static bool is_app(const gn_pconn *pc)
{
    return pc->id.cls == GN_PC_APP || pc->id.cls == GN_PC_SCALABLE;
}

static uint16_t verdict_code(gn_ptopic_verdict v)
{
    return v == GN_PT_SYSTEM ? GN_CLOSE_SYSTEM_TOPIC : GN_CLOSE_TOPIC;
}

/* An application's API key role (S-071). */
static bool app_may(const gn_pconn *pc, const gn_ptopic_match *m, bool sub)
{
    if (!is_app(pc) || pc->id.quickstart)
        return true;
    if (m->event)
        return pc->perms & (sub ? GN_PDIR_PERM_EVENT_RECV : GN_PDIR_PERM_EVENT_SEND);
    if (m->command)
        return pc->perms & (sub ? GN_PDIR_PERM_CMD_RECV : GN_PDIR_PERM_CMD_SEND);
    return true;
}

static bool is_plus(const uint8_t *s, size_t n) { return n == 1 && s[0] == '+'; }

/* Gateway acting for the device its topic names (S-056 … S-060). */
typedef enum { ACT_OK, ACT_DENIED, ACT_HOLD } act_result;

static act_result gateway_acts(gn_conn *c, const gn_ptopic_match *m, bool may_register,
                               uint16_t *rc, const char **why)
{
    gn_pconn *pc = c->plat;
    gn_pshard *ps = gn_plat_shard(c->shard);
    if (!m->names_device || is_plus(m->type, m->type_len) || is_plus(m->id, m->id_len))
        return ACT_OK;      /* wildcards: checked per delivery (gn_plat_topic_rewrite_out) */
    bool privileged = false;
    const gn_pident *g = &pc->id;
    gn_pdir_result r = gn_pdir_gateway_may_act(ps->dir, g->org, g->org_len, g->type, g->type_len,
                                               g->id, g->id_len, (const char *)m->type, m->type_len,
                                               (const char *)m->id, m->id_len, &privileged);
    switch (r) {
    case GN_PDIR_OK:
        return ACT_OK;
    case GN_PDIR_DISABLED:
        *rc = GN_CLOSE_NOT_AUTHORIZED;
        *why = "The device is disabled";
        return ACT_DENIED;
    case GN_PDIR_NOT_FOUND:
        break;
    default:
        *rc = GN_CLOSE_NOT_AUTHORIZED;
        *why = "The gateway is not authorized for this device";
        return ACT_DENIED;
    }
    if (!privileged) {
        *rc = GN_CLOSE_NOT_AUTHORIZED;
        *why = "The device is not registered and the gateway may not register devices";
        return ACT_DENIED;
    }
    if (!may_register)
        return ACT_OK;
    return gn_plat_autoreg_need(c, m, rc, why) == GN_PAREG_HOLD ? ACT_HOLD : ACT_DENIED;
}

gn_ppub_action gn_plat_on_publish(gn_conn *c, gn_publish *pub, char *buf, size_t cap,
                                  uint16_t *close_code, uint8_t *reason)
{
    gn_pconn *pc = c->plat;
    const gn_config *cfg = &c->shard->cfg;
    pc->rx_msgs++;
    if (pub->qos > pc->max_qos) {
        *close_code = GN_CLOSE_QOS_DENIED;                  /* S-083 */
        return GN_PPUB_CLOSE;
    }
    uint64_t size = pub->payload.len + (pub->topic.len > 200 ? pub->topic.len - 200 : 0);
    if (size > cfg->platform_max_payload) {
        *close_code = GN_CLOSE_TOO_LARGE;                   /* S-074, S-075 */
        return GN_PPUB_CLOSE;
    }
    if (gn_plat_publish_cached(pc, pub))
        return GN_PPUB_PASS;
    size_t n = 0;
    gn_ptopic_match m;
    gn_ptopic_verdict v = gn_ptopic_publish(&pc->id, pub->topic.ptr, pub->topic.len, buf, cap, &n, &m);
    if (v == GN_PT_OK && !app_may(pc, &m, false))
        v = GN_PT_DENIED;
    if (v != GN_PT_OK) {
        if (is_gateway(pc)) {                                /* S-061, S-143 */
            gn_plat_notify(c, "Publish", pub->topic.ptr, pub->topic.len, NULL, GN_CLOSE_TOPIC,
                           gn_ptopic_verdict_text(v));
            return GN_PPUB_ACK_DROP;
        }
        *close_code = verdict_code(v);
        if (c->proto == GN_PROTO_V5 && pub->qos > 0) {      /* S-048 */
            *reason = GN_RC_TOPIC_NAME_INVALID;
            return GN_PPUB_NAK;
        }
        return GN_PPUB_CLOSE;                                /* S-046, S-142 */
    }
    if (is_gateway(pc)) {
        uint16_t rc = 0;
        const char *why = NULL;
        switch (gateway_acts(c, &m, true, &rc, &why)) {
        case ACT_OK:
            break;
        case ACT_HOLD:
            return GN_PPUB_HOLD;
        case ACT_DENIED:
            gn_plat_notify(c, "Publish", pub->topic.ptr, pub->topic.len, &m, rc, why);
            return GN_PPUB_ACK_DROP;
        }
    }
    if (!is_gateway(pc) && pub->topic.len <= sizeof pc->last_in && n <= sizeof pc->last_out) {
        /* Gateways are not cached: each of their topics names a device
         * whose registration and groups are checked every time. */
        memcpy(pc->last_in, pub->topic.ptr, pub->topic.len);
        memcpy(pc->last_out, buf, n);
        pc->last_in_len = (uint16_t)pub->topic.len;
        pc->last_out_len = (uint16_t)n;
    }
    pub->topic.ptr = (const uint8_t *)buf;
    pub->topic.len = (uint32_t)n;
    pub->retain = false;                                     /* S-079 */
    return GN_PPUB_PASS;
}

gn_psub_action gn_plat_on_subscribe(gn_conn *c, const uint8_t *f, size_t len, bool unsubscribe,
                                    uint8_t *qos, char *out, size_t cap, size_t *out_len,
                                    uint16_t *close_code, uint8_t *reason)
{
    gn_pconn *pc = c->plat;
    if (pc->thr && gn_plat_throttle_filter(pc, f, len, out, cap, out_len)) {   /* S-138 */
        if (*qos > pc->max_qos)
            *qos = pc->max_qos;
        return GN_PSUB_PASS;
    }
    gn_ptopic_match m;
    gn_ptopic_verdict v = gn_ptopic_subscribe(&pc->id, f, len, out, cap, out_len, &m);
    if (v == GN_PT_OK && !unsubscribe && !app_may(pc, &m, true))
        v = GN_PT_DENIED;
    const char *request = unsubscribe ? "Unsubscribe" : "Subscribe";
    if (v != GN_PT_OK) {
        if (is_gateway(pc)) {                                /* S-061 */
            gn_plat_notify(c, request, f, len, NULL, GN_CLOSE_TOPIC, gn_ptopic_verdict_text(v));
            *reason = c->proto == GN_PROTO_V5 ? GN_RC_TOPIC_FILTER_INVALID : pc->proto31 ? 0x00 : 0x80;
            return GN_PSUB_REFUSE;
        }
        if (c->proto == GN_PROTO_V5) {                       /* S-048 */
            *reason = GN_RC_TOPIC_FILTER_INVALID;
            return GN_PSUB_REFUSE;
        }
        if (unsubscribe) {
            *reason = 0;        /* 3.x UNSUBACK has no reason: nothing to remove */
            return GN_PSUB_REFUSE;
        }
        *close_code = verdict_code(v);                       /* S-047, S-070 */
        return GN_PSUB_CLOSE;
    }
    if (is_gateway(pc) && !unsubscribe) {
        uint16_t rc = 0;
        const char *why = NULL;
        /* Subscriptions for an unregistered device are accepted (the
         * device's commands need it to exist before anyone can send). */
        if (gateway_acts(c, &m, false, &rc, &why) == ACT_DENIED) {
            gn_plat_notify(c, request, f, len, &m, rc, why);
            *reason = c->proto == GN_PROTO_V5 ? GN_RC_NOT_AUTHORIZED : pc->proto31 ? 0x00 : 0x80;
            return GN_PSUB_REFUSE;
        }
    }
    if (*qos > pc->max_qos)
        *qos = pc->max_qos;                                  /* S-083 */
    return GN_PSUB_PASS;
}

size_t gn_plat_topic_rewrite_out(const gn_conn *c, const char *t, size_t len, char *out, size_t cap)
{
    const gn_pconn *pc = c->plat;
    size_t n = gn_ptopic_outbound(&pc->id, t, len, out, cap);
    if (n == 0 || !is_gateway(pc))
        return n;
    /* A gateway's wildcard subscription reaches only devices it may act
     * for (S-056): out is iot-2/type/T/id/I/... or iotdm-1/type/T/id/I/... */
    const char *p = memchr(out, '/', n);
    if (!p || (size_t)(p - out) + 6 > n || memcmp(p, "/type/", 6) != 0)
        return n;
    const char *type = p + 6;
    const char *te = memchr(type, '/', n - (size_t)(type - out));
    if (!te || (size_t)(te - out) + 4 > n || memcmp(te, "/id/", 4) != 0)
        return n;
    const char *id = te + 4;
    const char *ie = memchr(id, '/', n - (size_t)(id - out));
    size_t il = ie ? (size_t)(ie - id) : n - (size_t)(id - out);
    const gn_pident *g = &pc->id;
    bool priv;
    gn_pdir_result r = gn_pdir_gateway_may_act(gn_plat_shard(c->shard)->dir, g->org, g->org_len,
                                               g->type, g->type_len, g->id, g->id_len,
                                               type, (size_t)(te - type), id, il, &priv);
    return r == GN_PDIR_OK ? n : 0;
}
