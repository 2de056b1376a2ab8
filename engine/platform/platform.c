/* engine/platform/platform.c — the platform object of an engine (the
 * registry directory, per-shard state, org counters), the close record
 * and its one log line per connection (client id, address, close code,
 * reason, bytes and messages each way), and the per-shard turn:
 * revoked identities are disconnected at once (S-034, close 94) and
 * finished auto-registrations resume their gateway (S-058). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"
#include "engine/tls.h"

gn_platform *gn_platform_create(const gn_config *cfg, uint16_t nshards, const gn_pdir_hooks *hooks,
                                char *err, size_t errlen)
{
    gn_platform *p = calloc(1, sizeof *p);
    if (!p || !(p->shards = calloc(nshards, sizeof *p->shards))) {
        free(p);
        snprintf(err, errlen, "out of memory creating the platform rules");
        return NULL;
    }
    pthread_mutex_init(&p->org_mu, NULL);
    p->nshards = nshards;
    p->dir = gn_pdir_open(cfg->platform_registry, nshards, hooks, err, errlen);
    if (!p->dir) {
        gn_platform_destroy(p);
        return NULL;
    }
    for (uint16_t i = 0; i < nshards; i++) {
        gn_pshard *ps = &p->shards[i];
        ps->dir = gn_pdir_shard_of(p->dir, i);
        ps->topic_in = malloc(GN_PLAT_TOPIC_BUF);
        ps->topic_out = malloc(GN_PLAT_TOPIC_BUF);
        if (!ps->topic_in || !ps->topic_out) {
            snprintf(err, errlen, "out of memory creating the platform rules");
            gn_platform_destroy(p);
            return NULL;
        }
    }
    if (!(p->mon = gn_mon_create(cfg->platform_registry, nshards))) {
        snprintf(err, errlen, "out of memory creating the platform rules");
        gn_platform_destroy(p);
        return NULL;
    }
    if (!(p->geo = gn_geo_open(cfg->platform_geoip_db, cfg->platform_geoip_db_v6,
                               cfg->platform_geoip_override, err, errlen))) {
        gn_platform_destroy(p);
        return NULL;
    }
    char geo[200];
    gn_geo_describe(p->geo, geo, sizeof geo);
    gn_log_info("platform mode: registry %s; countries: %s", cfg->platform_registry, geo);
    return p;
}

void gn_platform_destroy(gn_platform *p)
{
    if (!p)
        return;
    gn_mon_destroy(p->mon);
    gn_geo_close(p->geo);
    if (p->dir)
        gn_pdir_close(p->dir);
    pthread_mutex_destroy(&p->org_mu);
    for (uint16_t i = 0; p->shards && i < p->nshards; i++) {
        free(p->shards[i].topic_in);
        free(p->shards[i].topic_out);
        free(p->shards[i].areg_out);
    }
    free(p->shards);
    free(p);
}

gn_pshard *gn_plat_shard(const gn_shard *s)
{
    return &s->eng->plat->shards[s->id];
}

gn_msg *gn_plat_msg(gn_shard *s, const char *t, size_t tl, const char *payload, size_t n,
                    bool retain)
{
    gn_msg_params mp = {
        .topic = t,
        .topic_len = tl,
        .payload = (const uint8_t *)payload,
        .payload_len = n,
        .qos = 0,
        .retain = retain,
        .origin_shard = (uint8_t)s->id,
        .received_ms = s->now_ms,
        .expiry_ms = GN_MSG_NO_EXPIRY,
    };
    return gn_msg_new(&mp);
}

void gn_plat_publish(gn_shard *s, const char *t, size_t tl, const char *payload, size_t n,
                     bool retain)
{
    gn_msg *msg = gn_plat_msg(s, t, tl, payload, n, retain);
    if (!msg)
        return;
    gn_route_publish(s, msg, retain, 0);
    gn_msg_unref(msg);
}

char *gn_plat_topic_in(const gn_shard *s) { return gn_plat_shard(s)->topic_in; }
char *gn_plat_topic_out(const gn_shard *s) { return gn_plat_shard(s)->topic_out; }

static void peer_addr(int fd, char *out, size_t cap, gn_pconn *pc)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    out[0] = 0;
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0) {
        snprintf(out, cap, "-");
        return;
    }
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
        memset(pc->peer_ip, 0, 10);
        pc->peer_ip[10] = pc->peer_ip[11] = 0xff;
        memcpy(pc->peer_ip + 12, &a->sin_addr, 4);
        pc->peer_ip_known = true;
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%u", ip, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
        memcpy(pc->peer_ip, &a->sin6_addr, 16);
        pc->peer_ip_known = true;
        port = ntohs(a->sin6_port);
        snprintf(out, cap, "[%s]:%u", ip, port);
    } else {
        snprintf(out, cap, "-");
    }
}

void gn_plat_conn_opened(gn_conn *c)
{
    peer_addr(c->fd, c->plat->addr, sizeof c->plat->addr, c->plat);
}

void gn_plat_set_close(gn_conn *c, uint16_t code)
{
    if (c->plat && !c->plat->close_set) {
        c->plat->close_code = code;
        c->plat->close_set = true;
    }
}

void gn_plat_tls_failed(gn_conn *c)
{
    static const uint16_t code[] = {
        [GN_TLS_FAIL_HANDSHAKE] = GN_CLOSE_TLS_HANDSHAKE,
        [GN_TLS_FAIL_CERT_MISSING] = GN_CLOSE_CERT_MISSING,
        [GN_TLS_FAIL_CERT_INVALID] = GN_CLOSE_CERT_INVALID,
    };
    int f = gn_conn_tls_failure(c);
    if (f > 0 && (size_t)f < sizeof code / sizeof code[0])
        gn_plat_set_close(c, code[f]);
}

void gn_plat_on_close(gn_conn *c)
{
    gn_pconn *pc = c->plat;
    if (!pc)
        return;
    gn_mon_closed(c, pc->close_set ? pc->close_code : GN_CLOSE_BY_SERVER);
    gn_plat_rate_release(c);
    c->plat = NULL;
    if (pc->counted_org)
        gn_plat_org_release(c->shard->eng->plat, pc->org_slot, GN_ORG_CONNS);
    if (pc->counted_device)
        gn_plat_org_release(c->shard->eng->plat, pc->org_slot, GN_ORG_DEVICES);
    gn_plat_count_release(pc->members);
    gn_plat_autoreg_free(pc);
    uint16_t code = pc->close_set ? pc->close_code : GN_CLOSE_BY_SERVER;
    gn_log_info("close: client=%s addr=%s code=%u reason=\"%s\" read_bytes=%llu read_msgs=%llu "
                "write_bytes=%llu write_msgs=%llu queue_dropped=%llu",
                pc->cid[0] ? pc->cid : "-", pc->addr[0] ? pc->addr : "-", (unsigned)code,
                gn_close_reason(code), (unsigned long long)pc->rx_bytes,
                (unsigned long long)pc->rx_msgs, (unsigned long long)pc->tx_bytes,
                (unsigned long long)pc->tx_msgs, (unsigned long long)pc->queue_dropped);
    free(pc);
}

void gn_plat_log_refused(uint16_t code)
{
    gn_log_info("close: client=- addr=- code=%u reason=\"%s\" read_bytes=0 read_msgs=0 "
                "write_bytes=0 write_msgs=0", (unsigned)code, gn_close_reason(code));
}

/* ---------------------------------------------------------------- per turn */

typedef struct revoke_ctx {
    gn_shard *s;
} revoke_ctx;

static bool field_is(const char *have, const char *want, size_t len)
{
    return strlen(have) == len && memcmp(have, want, len) == 0;
}

const char *gn_plat_peer_country(const gn_shard *s, gn_pconn *pc)
{
    if (pc->country_state == 0)
        pc->country_state = pc->peer_ip_known && gn_geo_country(s->eng->plat->geo, pc->peer_ip,
                                                                pc->country) ? 1 : 2;
    return pc->country_state == 1 ? pc->country : NULL;
}

static bool ip_allowed(gn_shard *s, gn_pconn *pc)
{
    return gn_pdir_org_ip_allowed(gn_plat_shard(s)->dir, pc->id.org, pc->id.org_len,
                                  pc->peer_ip_known ? pc->peer_ip : NULL,
                                  gn_plat_peer_country(s, pc));
}

/* S-035 / S-036: the TLS check of CONNECT again, for a connected client
 * whose org's or type's policy or CAs changed; its refusal code (0: still
 * fine). A loosened policy never disconnects anyone. */
static uint16_t tls_recheck(gn_shard *s, gn_conn *c, const gn_pconn *pc)
{
    gn_pdir_org org;
    if (gn_pdir_org_get(gn_plat_shard(s)->dir, pc->id.org, pc->id.org_len, &org) != GN_PDIR_OK)
        return 0;       /* a removed org is revoked as such */
    return gn_plat_tls_check(c, &pc->id, &org, true).close_code;
}

static void revoked(void *ctx, char kind, const char *org, size_t org_len, const char *type,
                    size_t type_len, const char *id, size_t id_len)
{
    revoke_ctx *r = ctx;
    gn_shard *s = r->s;
    for (gn_conn *c = s->all; c; c = c->all_next) {
        gn_pconn *pc = c->plat;
        if (!pc || c->state != GN_CS_ACTIVE)
            continue;
        const gn_pident *p = &pc->id;
        bool hit = false, ip = false;
        uint16_t tls = 0;
        bool dev = p->cls == GN_PC_DEVICE || p->cls == GN_PC_GATEWAY;
        switch (kind) {
        case 'o':
            hit = field_is(p->org, org, org_len);
            break;
        case 't':
            hit = dev && field_is(p->org, org, org_len) && field_is(p->type, type, type_len);
            break;
        case 'd':
            hit = dev && field_is(p->org, org, org_len) && field_is(p->type, type, type_len) &&
                  field_is(p->id, id, id_len);
            break;
        case 'k':
            hit = !dev && field_is(pc->apikey, id, id_len);
            break;
        case 'i':
            ip = field_is(p->org, org, org_len) && !ip_allowed(s, pc);
            break;
        case 's':
            if (field_is(p->org, org, org_len) && (!type_len || (dev && field_is(p->type, type, type_len))))
                tls = tls_recheck(s, c, pc);
            break;
        case '*':
            hit = dev && !p->quickstart &&
                  !gn_pdir_device_usable(gn_plat_shard(s)->dir, p->org, p->org_len, p->type,
                                         p->type_len, p->id, p->id_len);
            ip = !hit && !ip_allowed(s, pc);
            tls = !hit && !ip ? tls_recheck(s, c, pc) : 0;
            break;
        default:
            break;
        }
        if (tls) {
            gn_log_info("platform: %s no longer meets its TLS policy or CAs (close %u): disconnecting",
                        pc->cid, (unsigned)tls);
            gn_mqtt_close(c, tls, true);
        } else if (ip) {
            /* S-038: the same code a CONNECT from that address gets */
            gn_log_info("platform: %s (%s) is outside its organization's IP list now: disconnecting",
                        pc->cid, pc->addr);
            gn_mqtt_close(c, GN_CLOSE_NOT_AUTHORIZED, true);
        } else if (hit) {
            gn_log_info("platform: %s was disabled or removed: disconnecting", pc->cid);
            gn_mqtt_close(c, GN_CLOSE_ADMIN, true);
        }
    }
}

void gn_plat_shard_turn(gn_shard *s)
{
    gn_pshard *ps = gn_plat_shard(s);
    revoke_ctx r = { .s = s };
    gn_mon_turn(s);
    gn_pdir_revocations(ps->dir, revoked, &r);
    gn_plat_rate_refresh(s);                        /* live rate settings */
    gn_plat_autoreg_results(s);
}
