/* engine/platform/auth.c — the on_connect hook (PLATFORM.md S-010 …
 * S-040, S-073, S-080, S-090, S-091, S-101 … S-103, S-110, S-111): the
 * client id's class and validity, the org and its policy, authentication
 * (use-token-auth for devices and gateways, API key + token for
 * applications, anonymous only where the org allows it), the durable
 * session policy, the org's TLS policy (engine/platform/tls_policy.c),
 * the server / org connection limits and the
 * authentication rate limit, the will topic, and the limits the session
 * gets (keep alive, in-flight windows, topic aliases, queue depth).
 * Every refusal names its close code; CONNACK 4 is never sent (S-031). */
#include <stdio.h>
#include <string.h>

#include "codec/reason_codes.h"
#include "engine/log.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"

#define TOKEN_AUTH "use-token-auth"

/* Refuse with close code `code`: the MQTT 5 CONNACK reason comes from the
 * close-code table; MQTT 3.x clients get v3 (2, 3 or 5; never 4, S-031). */
static void refuse(gn_pconnect *o, uint16_t code, uint8_t v3, const char *why)
{
    o->close_code = code;
    o->connack_v3 = v3;
    o->connack_v5 = gn_close_connack_reason(code);
    o->why = why;
}

static void not_authorized(gn_pconnect *o, const char *why)
{
    refuse(o, GN_CLOSE_NOT_AUTHORIZED, 5, why);
}

/* Is this CONNECT asking for a durable session? */
static bool durable(const gn_connect *cn)
{
    if (cn->proto == GN_PROTO_V5)
        return !cn->clean_start ||
               (gn_props_has(&cn->props, GN_PROP_SESSION_EXPIRY) && cn->props.session_expiry != 0);
    return !cn->clean_start;
}

/* 176: token hashes of this shard in the current second. */
static bool auth_rate_ok(gn_shard *s, gn_pshard *ps, uint32_t max)
{
    if (!max)
        return true;
    uint64_t h = gn_pdir_hashes(ps->dir);
    if (s->now_ms >= ps->auth_window_ms + 1000) {
        ps->auth_window_ms = s->now_ms;
        ps->auth_hashes_at = h;
    }
    return h - ps->auth_hashes_at < max;
}

/* The CONNECT will take over a connection of the same client id (this is
 * the id's owner shard, mqtt_connect.c): that one's counts are released
 * when the takeover closes it, so the limits let the new one in. */
static bool replaces_live_connection(gn_shard *s, const gn_connect *cn)
{
    gn_session *ss = gn_session_find(s, cn->client_id.ptr, cn->client_id.len);
    return ss && ss->conn;
}

static bool user_is(const gn_connect *cn, const char *u)
{
    size_t n = strlen(u);
    return cn->has_username && cn->username.len == n && memcmp(cn->username.ptr, u, n) == 0;
}

/* A device or gateway its verified client certificate named (S-036): it
 * must still be registered and usable; no token is asked for. */
static void authenticate_by_cert(gn_shard *s, const gn_pident *id, gn_pconnect *o)
{
    uint64_t uid = 0;
    gn_pdir_result r = gn_pdir_cert_device(gn_plat_shard(s)->dir, (char)id->cls, id->org,
                                           id->org_len, id->type, id->type_len, id->id,
                                           id->id_len, &uid);
    if (r != GN_PDIR_OK)
        not_authorized(o, r == GN_PDIR_NOT_FOUND ? "not registered"
                          : r == GN_PDIR_DISABLED ? "disabled" : "registered as another client class");
}

static void authenticate(gn_shard *s, gn_pconn *pc, const gn_connect *cn, const gn_pdir_org *org,
                         gn_pconnect *o)
{
    const gn_config *cfg = &s->cfg;
    gn_pshard *ps = gn_plat_shard(s);
    const gn_pident *id = &pc->id;
    if (!cn->has_username) {
        if (!org->allow_anonymous)
            not_authorized(o, "anonymous access is not allowed in this organization");
        return;
    }
    if (org->quickstart)
        return;     /* S-110: no authentication; whatever is sent is ignored */
    if (!auth_rate_ok(s, ps, cfg->platform_max_auth_per_second)) {
        refuse(o, GN_CLOSE_AUTH_DELAY, 3, "too many authentication requests");
        return;
    }
    gn_pdir_result r;
    if (id->cls == GN_PC_DEVICE || id->cls == GN_PC_GATEWAY) {
        if (!user_is(cn, TOKEN_AUTH)) {
            not_authorized(o, "devices and gateways authenticate as use-token-auth");
            return;
        }
        uint64_t uid = 0;
        r = gn_pdir_auth_device(ps->dir, (char)id->cls, id->org, id->org_len, id->type, id->type_len,
                                id->id, id->id_len, cn->password.ptr,
                                cn->has_password ? cn->password.len : 0, &uid);
    } else {
        if (user_is(cn, TOKEN_AUTH) || cn->username.len > sizeof pc->apikey - 1) {
            not_authorized(o, "applications authenticate with an API key");
            return;
        }
        memcpy(pc->apikey, cn->username.ptr, cn->username.len);
        pc->apikey[cn->username.len] = 0;
        r = gn_pdir_auth_app(ps->dir, id->org, id->org_len, cn->username.ptr, cn->username.len,
                             cn->password.ptr, cn->has_password ? cn->password.len : 0, &pc->perms);
    }
    switch (r) {
    case GN_PDIR_OK: return;
    case GN_PDIR_NOT_FOUND: not_authorized(o, "not registered"); return;
    case GN_PDIR_DISABLED: not_authorized(o, "disabled"); return;
    case GN_PDIR_WRONG_CLASS: not_authorized(o, "registered as another client class"); return;
    default: not_authorized(o, "the token does not match"); return;
    }
}

void gn_plat_on_connect(gn_conn *c, const gn_connect *cn, gn_pconnect *o)
{
    gn_shard *s = c->shard;
    gn_platform *p = s->eng->plat;
    const gn_config *cfg = &s->cfg;
    memset(o, 0, sizeof *o);
    gn_pconn *pc = c->plat;
    size_t cl = cn->client_id.len < GN_PCONN_CID_MAX - 1 ? cn->client_id.len : GN_PCONN_CID_MAX - 1;
    for (size_t i = 0; i < cl; i++) {
        uint8_t ch = cn->client_id.ptr[i];
        pc->cid[i] = (char)(ch < 0x20 || ch == 0x7F || ch == ' ' ? '?' : ch);
    }
    pc->cid[cl] = 0;
    pc->proto31 = cn->proto == GN_PROTO_V31;

    gn_pid_result pr = gn_pident_parse(cn->client_id.ptr, cn->client_id.len, &pc->id);
    if (pr != GN_PID_OK) {
        refuse(o, GN_CLOSE_CLIENT_ID, gn_pid_result_connack_v3(pr), gn_pid_result_text(pr));
        if (o->connack_v3 == 5)
            o->connack_v5 = GN_RC_NOT_AUTHORIZED;   /* no known form: "not authorized" (S-011) */
        return;
    }
    const gn_pident *id = &pc->id;
    if (cfg->platform_max_connections && gn_plat_server_conns(s) > cfg->platform_max_connections) {
        refuse(o, GN_CLOSE_CAPACITY, 3, "the server is at its connection limit");
        return;
    }
    gn_pdir_org org;
    gn_pdir_result r = gn_pdir_org_get(gn_plat_shard(s)->dir, id->org, id->org_len, &org);
    if (r != GN_PDIR_OK || !org.enabled) {
        not_authorized(o, r == GN_PDIR_OK ? "the organization is disabled" : "no such organization");
        return;
    }
    if (org.ip_acl_mode &&
        !gn_pdir_org_ip_allowed(gn_plat_shard(s)->dir, id->org, id->org_len,
                                pc->peer_ip_known ? pc->peer_ip : NULL,
                                org.ip_acl_countries ? gn_plat_peer_country(s, pc) : NULL)) {
        /* S-038: CONNACK 5 and close 180, as the spec infers */
        not_authorized(o, org.ip_acl_mode == GN_PDIR_IPACL_BLACK ? "the address is blacklisted"
                                                                     : "the address is not whitelisted");
        return;
    }
    gn_ptls_verdict tv = gn_plat_tls_check(c, id, &org, false);
    if (tv.close_code) {
        refuse(o, tv.close_code, 5, tv.why);
        return;
    }
    if (org.quickstart && (id->cls == GN_PC_GATEWAY || id->cls == GN_PC_SCALABLE)) {
        not_authorized(o, "not supported in Quickstart");      /* S-111 */
        return;
    }
    /* S-020, S-021: A:org:app members share one client id and are never
     * durable. The proxy's rule (default) refuses cleansession=0; with
     * platform_scalable_clean_only false it is accepted as the seed's
     * "non-durable" member all the same (the engine keeps nothing). */
    bool nondurable_member = id->cls == GN_PC_SCALABLE && !id->has_inst;
    if (nondurable_member && durable(cn) && cfg->platform_scalable_clean_only) {
        refuse(o, GN_CLOSE_DURABLE_DENIED, 5,
               "A:org:app needs cleansession=1 (use A:org:app:instance for a durable session)");
        return;
    }
    if (durable(cn) && !nondurable_member && !org.allow_durable) {
        refuse(o, GN_CLOSE_DURABLE_DENIED, 5, "durable sessions are not allowed");
        return;
    }
    pc->max_qos = org.max_qos > 2 ? 2 : org.max_qos;
    if (pc->max_qos > cfg->max_qos)
        pc->max_qos = cfg->max_qos;
    if (cn->will && cn->will_qos > pc->max_qos) {
        refuse(o, GN_CLOSE_QOS_DENIED, 5, "will QoS above the maximum");
        return;
    }
    if (tv.cert_proven)
        authenticate_by_cert(s, id, o);
    if (tv.need_token && !o->close_code)
        authenticate(s, pc, cn, &org, o);
    if (o->close_code)
        return;
    if (cn->will) {
        /* S-080: the will topic passes the publish allow-list. */
        char *wbuf = gn_plat_topic_in(s);
        size_t wl = 0;
        gn_ptopic_match m;
        gn_ptopic_verdict v = gn_ptopic_publish(id, cn->will_topic.ptr, cn->will_topic.len, wbuf,
                                                GN_PLAT_TOPIC_BUF, &wl, &m);
        if (v != GN_PT_OK || wl > 65535) {
            refuse(o, v == GN_PT_SYSTEM ? GN_CLOSE_SYSTEM_TOPIC : GN_CLOSE_TOPIC, 5,
                   "the will topic does not match an authorized rule");
            return;
        }
        o->will_topic = (const uint8_t *)wbuf;
        o->will_topic_len = (uint16_t)wl;
    }
    /* 173: connections of the org. A takeover is let in at the limit: the
     * count is one over until the old connection has closed. */
    bool takeover = id->cls != GN_PC_SCALABLE && replaces_live_connection(s, cn);
    uint32_t lim = takeover ? 0 : gn_plat_min_limit(org.max_connections, cfg->platform_max_org_connections);
    pc->org_slot = gn_plat_org_slot(p, id->org, id->org_len);
    if (!gn_plat_org_take(p, pc->org_slot, GN_ORG_CONNS, lim)) {
        refuse(o, GN_CLOSE_ORG_CONNS, 3, "the organization is at its connection limit");
        return;
    }
    pc->counted_org = true;
    /* S-095: concurrent devices of the org (gateways are devices too). */
    if (id->cls == GN_PC_DEVICE || id->cls == GN_PC_GATEWAY) {
        if (!gn_plat_org_take(p, pc->org_slot, GN_ORG_DEVICES, takeover ? 0 : org.max_devices_online)) {
            refuse(o, GN_CLOSE_ORG_CONNS, 3, "the organization has its maximum of connected devices");
            return;
        }
        pc->counted_device = true;
    }
    /* S-100: members of one scalable application, org-wide (173 as for
     * the org's connections: the platform's "too many connections"). */
    if (id->cls == GN_PC_SCALABLE) {
        gn_app_count *m = gn_plat_count(p, GN_COUNT_MEMBERS, id->org, id->org_len, id->id,
                                        id->id_len);
        if (!gn_plat_count_take(m, cfg->platform_max_app_instances)) {
            refuse(o, GN_CLOSE_ORG_CONNS, 3, "the application has its maximum of instances");
            return;
        }
        pc->members = m;
    }

    /* Accepted: the limits of its class. */
    uint16_t ka = cn->keep_alive;
    o->keep_alive = ka;
    if (id->cls == GN_PC_SCALABLE) {
        uint16_t cap = cfg->platform_shared_keepalive_max;   /* S-073 */
        if (ka == 0 || ka > cap) {
            o->keep_alive = cap;
            o->keep_alive_changed = true;
        }
    }
    if (id->cls == GN_PC_DEVICE) {
        o->receive_maximum = (uint16_t)gn_plat_min_limit(org.inflight_device, cfg->platform_inflight_device);
        o->send_window = o->receive_maximum;
        pc->max_subs = gn_plat_min_limit(org.max_subs_device, cfg->platform_max_subscriptions_device);
        o->queue_depth = gn_plat_min_limit(org.queue_depth_device, cfg->platform_queue_depth_device);
    } else {
        uint32_t in = id->cls == GN_PC_GATEWAY
            ? gn_plat_min_limit(org.inflight_gateway, cfg->platform_inflight_gateway)
            : gn_plat_min_limit(org.inflight_app, cfg->platform_inflight_app);
        o->receive_maximum = (uint16_t)(in > 65535 ? 65535 : in);
        o->send_window = o->receive_maximum;
        pc->max_subs = gn_plat_min_limit(org.max_subs_app,
                                         cfg->platform_max_subscriptions_app);
        o->queue_depth = gn_plat_min_limit(org.queue_depth_app, cfg->platform_queue_depth_app);
        if (id->cls == GN_PC_GATEWAY)
            pc->gw_max_pending = org.gw_max_pending_autoreg;           /* S-059 */
    }
    o->topic_alias_max = cfg->platform_topic_alias_max;
    o->max_qos = pc->max_qos;
    gn_plat_rate_apply(c, &org);                            /* S-094 ... S-099, S-135 ... S-140 */
}
