/* engine/mqtt_subscribe.c — SUBSCRIBE and UNSUBSCRIBE: filter checks
 * against what the server offers (wildcards, shared subscriptions,
 * subscription identifiers), the router update, the session's own list of
 * filters (so they can be removed when the session ends), SUBACK /
 * UNSUBACK, and retained messages on subscribe honouring retain handling
 * (sent after the SUBACK).
 *
 * Platform mode: each filter goes through the on_subscribe hook
 * (engine/platform/rules.c): the allow-list, the internal (org-scoped)
 * filter the router and the session keep, the QoS downgrade, refusals;
 * more subscriptions than the class allows close the connection (154).
 * Every subscription of a scalable application (A:org:app[:instance])
 * joins its application's shared group for that filter (S-020, S-022). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/topic.h"
#include "engine/grow.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/shard.h"

#define MAX_FILTERS_PER_PACKET 1024

static int ssub_find(const gn_session *ss, const uint8_t *f, size_t len)
{
    for (uint32_t i = 0; i < ss->nsubs; i++)
        if (ss->subs[i].len == len && memcmp(ss->subs[i].filter, f, len) == 0)
            return (int)i;
    return -1;
}

static int ssub_put(gn_session *ss, const uint8_t *f, size_t len, uint8_t opts, uint32_t sub_id)
{
    int i = ssub_find(ss, f, len);
    if (i >= 0) {
        ss->subs[i].opts = opts;
        ss->subs[i].sub_id = sub_id;
        return 0;
    }
    if (ss->nsubs == ss->capsubs) {
        gn_ssub *n = gn_grow(ss->subs, &ss->capsubs, sizeof *n, 2);
        if (!n)
            return -1;
        ss->subs = n;
    }
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    memcpy(copy, f, len);
    copy[len] = 0;
    ss->subs[ss->nsubs++] = (gn_ssub){ .filter = copy, .len = (uint16_t)len, .opts = opts,
                                       .sub_id = sub_id };
    return 0;
}

static void ssub_del(gn_session *ss, const uint8_t *f, size_t len)
{
    int i = ssub_find(ss, f, len);
    if (i < 0)
        return;
    free(ss->subs[i].filter);
    ss->subs[i] = ss->subs[--ss->nsubs];
    if (ss->nsubs == 0) {
        free(ss->subs);
        ss->subs = NULL;
        ss->capsubs = 0;
    }
}

typedef struct retained_ctx {
    gn_shard   *s;
    gn_session *ss;
    uint8_t     qos;
    uint32_t    sub_id;
} retained_ctx;

static void send_retained(void *ctx, gn_msg *m)
{
    retained_ctx *r = ctx;
    uint32_t ids[1] = { r->sub_id };
    gn_session_deliver(r->s, r->ss, m, r->qos, GN_XF_RETAINED, ids, r->sub_id ? 1 : 0, 0, 0);
}

/* Platform mode: an A client's filters all go to its application's shared
 * groups (S-020, S-022): write the "$share/{group}/" prefix at the start of
 * the scratch buffer, where the internal filter then follows. Its length,
 * 0 for other classes and in plain mode. */
static size_t group_prefix(const gn_conn *c, char *pbuf)
{
    return c->plat ? gn_pident_share_prefix(&c->plat->id, pbuf, GN_PLAT_SHARE_PREFIX_MAX) : 0;
}

/* The reason for one filter before it reaches the router. */
static uint8_t check_filter(const gn_config *cfg, const uint8_t *f, size_t len, uint8_t opts,
                            bool has_sub_id, bool *shared)
{
    *shared = false;
    if (gn_topic_filter_check(f, len) != GN_OK)
        return GN_RC_TOPIC_FILTER_INVALID;
    bool is_shared;
    const uint8_t *name, *inner;
    size_t name_len, inner_len;
    if (gn_share_parse(f, len, &is_shared, &name, &name_len, &inner, &inner_len) != GN_OK)
        return GN_RC_TOPIC_FILTER_INVALID;
    if (is_shared) {
        *shared = true;
        if (!cfg->shared_subscription_available)
            return GN_RC_SHARED_SUBS_NOT_SUPPORTED;
        if (opts & GN_SUBOPT_NO_LOCAL)
            return GN_RC_PROTOCOL_ERROR;
        f = inner;
        len = inner_len;
    }
    if (!cfg->wildcard_subscription_available && (memchr(f, '+', len) || memchr(f, '#', len)))
        return GN_RC_WILDCARD_SUBS_NOT_SUPPORTED;
    if (has_sub_id && !cfg->subscription_identifier_available)
        return GN_RC_SUB_IDS_NOT_SUPPORTED;
    return GN_RC_SUCCESS;
}

void gn_mqtt_subscribe(gn_conn *c, const gn_packet *p)
{
    gn_shard *s = c->shard;
    gn_session *ss = c->sess;
    const gn_subscribe *sub = &p->u.subscribe;
    const gn_config *cfg = &s->cfg;
    bool v5 = c->proto == GN_PROTO_V5;
    uint32_t sub_id = 0;
    bool has_sub_id = v5 && gn_props_has(&sub->props, GN_PROP_SUBSCRIPTION_ID);
    if (has_sub_id)
        sub_id = sub->props.subscription_id;
    if (sub->count > MAX_FILTERS_PER_PACKET) {
        gn_mqtt_disconnect(c, GN_RC_QUOTA_EXCEEDED, true);
        return;
    }
    uint8_t reasons[MAX_FILTERS_PER_PACKET];
    bool send_ret[MAX_FILTERS_PER_PACKET];
    uint32_t cur = 0, n = 0;
    gn_bytes f;
    uint8_t opts;
    char *pbuf = c->plat ? gn_plat_topic_in(s) : NULL;
    size_t gl = group_prefix(c, pbuf);
    while (gn_subscribe_next(sub, &cur, &f, &opts)) {
        bool shared, existed = false, refused = false, joined = false;
        uint8_t rc = check_filter(cfg, f.ptr, f.len, opts, has_sub_id, &shared);
        if (rc != GN_RC_SUCCESS && c->plat && !v5 && c->plat->id.cls != GN_PC_GATEWAY) {
            gn_mqtt_close(c, GN_CLOSE_TOPIC, true);     /* S-049: a misused wildcard */
            return;
        }
        if (rc == GN_RC_SUCCESS && c->plat) {
            uint8_t q = opts & GN_SUBOPT_QOS_MASK, why = 0;
            uint16_t code = 0;
            size_t pl = 0;
            switch (gn_plat_on_subscribe(c, f.ptr, f.len, false, &q, pbuf + gl,
                                         GN_PLAT_TOPIC_BUF - gl, &pl, &code, &why)) {
            case GN_PSUB_PASS:
                opts = (uint8_t)((opts & ~GN_SUBOPT_QOS_MASK) | q);
                f.ptr = (const uint8_t *)pbuf;
                f.len = (uint32_t)(gl + pl);
                shared = gl != 0;
                /* The member did not ask for a shared subscription, so its
                 * No Local is not the protocol error it is on $share: it
                 * is dropped (the group, not the member, subscribes; what
                 * a member publishes reaches its group like any message). */
                if (shared)
                    opts = (uint8_t)(opts & ~GN_SUBOPT_NO_LOCAL);
                bool is_new = ssub_find(ss, f.ptr, f.len) < 0;
                if (is_new && ss->nsubs >= c->plat->max_subs) {
                    gn_mqtt_close(c, GN_CLOSE_TOO_MANY_SUBS, true);     /* S-092 */
                    return;
                }
                /* S-100: a new group of the app counts against the org's quota. */
                if (shared && is_new) {
                    joined = gn_plat_group_join(s, f.ptr, f.len);
                    if (!joined) {
                        gn_log_info("subscription of '%s' refused: its org has its maximum of "
                                    "%u scalable-application groups", c->plat->cid,
                                    (unsigned)cfg->platform_max_app_groups);
                        rc = GN_RC_QUOTA_EXCEEDED;
                        refused = true;
                    }
                }
                break;
            case GN_PSUB_CLOSE:
                gn_mqtt_close(c, code, true);
                return;
            case GN_PSUB_REFUSE:
                rc = why;       /* 0x00 for a 3.1 gateway (S-061): not subscribed all the same */
                refused = true;
                break;
            }
        }
        if (rc == GN_RC_SUCCESS && !refused) {
            uint8_t q = opts & GN_SUBOPT_QOS_MASK;
            if (q > cfg->max_qos)
                opts = (uint8_t)((opts & ~GN_SUBOPT_QOS_MASK) | cfg->max_qos);
            if (shared && !ss->qdepth && (ss->qdepth = malloc(sizeof *ss->qdepth)))
                atomic_init(ss->qdepth, 0);
            rc = gn_route_subscribe(&s->rc, ss->sid, f.ptr, f.len, opts, sub_id,
                                    shared ? ss->qdepth : NULL, &existed);
            if (rc < 0x80 && ssub_put(ss, f.ptr, f.len, opts, sub_id) < 0) {
                gn_route_unsubscribe(&s->rc, ss->sid, f.ptr, f.len);
                rc = GN_RC_UNSPECIFIED_ERROR;
            }
            if (rc >= 0x80 && joined)
                gn_plat_group_leave(s, f.ptr, f.len);
        }
        if (!v5 && rc >= 0x80)
            rc = 0x80;
        uint8_t rh = GN_SUBOPT_RETAIN_HANDLING(opts);
        /* A scalable application's members each learn the retained
         * monitoring state (S-105): its groups are not MQTT's $share. */
        send_ret[n] = rc < 0x80 && !refused && (!shared || gl) && (rh == 0 || (rh == 1 && !existed));
        reasons[n++] = rc;
    }

    gn_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = GN_SUBACK;
    ack.u.suback.packet_id = sub->packet_id;
    ack.u.suback.reasons.ptr = reasons;
    ack.u.suback.reasons.len = n;
    gn_mqtt_send_packet(c, &ack);

    /* Platform mode: clients store no retained messages (S-079); the
     * monitoring messages are (S-105), found with the internal filter. */
    if (!cfg->retain_available)
        return;
    cur = 0;
    for (uint32_t i = 0; gn_subscribe_next(sub, &cur, &f, &opts); i++) {
        if (!send_ret[i])
            continue;
        const uint8_t *rf = f.ptr;
        size_t rfl = f.len;
        if (c->plat && !gn_mon_retained_filter(c, f.ptr, f.len, &rf, &rfl))
            continue;
        retained_ctx r = { .s = s, .ss = ss, .qos = reasons[i], .sub_id = sub_id };
        gn_route_retained(&s->rc, rf, rfl, send_retained, &r);
        if (c->sess != ss)
            return;     /* the connection failed while sending */
    }
}

void gn_mqtt_unsubscribe(gn_conn *c, const gn_packet *p)
{
    gn_shard *s = c->shard;
    gn_session *ss = c->sess;
    const gn_unsubscribe *un = &p->u.unsubscribe;
    if (un->count > MAX_FILTERS_PER_PACKET) {
        gn_mqtt_disconnect(c, GN_RC_QUOTA_EXCEEDED, true);
        return;
    }
    uint8_t reasons[MAX_FILTERS_PER_PACKET];
    uint32_t cur = 0, n = 0;
    gn_bytes f;
    char *pbuf = c->plat ? gn_plat_topic_in(s) : NULL;
    size_t gl = group_prefix(c, pbuf);
    while (gn_unsubscribe_next(un, &cur, &f)) {
        if (c->plat) {
            uint8_t q = 0, why = 0;
            uint16_t code = 0;
            size_t pl = 0;
            if (gn_plat_on_subscribe(c, f.ptr, f.len, true, &q, pbuf + gl, GN_PLAT_TOPIC_BUF - gl,
                                     &pl, &code, &why) != GN_PSUB_PASS) {
                reasons[n++] = why ? why : GN_RC_NO_SUBSCRIPTION_EXISTED;
                continue;
            }
            f.ptr = (const uint8_t *)pbuf;
            f.len = (uint32_t)(gl + pl);
        }
        bool found = gn_route_unsubscribe(&s->rc, ss->sid, f.ptr, f.len);
        if (found) {
            ssub_del(ss, f.ptr, f.len);
            if (gl)
                gn_plat_group_leave(s, f.ptr, f.len);       /* S-100 */
        }
        reasons[n++] = found ? GN_RC_SUCCESS : GN_RC_NO_SUBSCRIPTION_EXISTED;
    }
    gn_packet ack;
    memset(&ack, 0, sizeof ack);
    ack.type = GN_UNSUBACK;
    ack.u.suback.packet_id = un->packet_id;
    if (c->proto == GN_PROTO_V5) {
        ack.u.suback.reasons.ptr = reasons;
        ack.u.suback.reasons.len = n;
    }
    gn_mqtt_send_packet(c, &ack);
}
