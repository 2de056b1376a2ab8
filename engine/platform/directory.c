/* engine/platform/directory.c — the adapter from the platform rules to the
 * registry (engine/platform/registry.h): opens and starts the registry with
 * the engine's reclamation and wake-up hooks, keeps one verifier and one
 * auto-registration port per shard, and turns registry records and errors
 * into the copies and gn_pdir_result values directory.h promises. Every
 * snapshot pointer is used within the call that loaded it (the caller is a
 * shard in the middle of its loop turn, a QSBR reader of the router). */
#include "engine/platform/directory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_trust.h"
#include "engine/platform/registry.h"

#define VERIFIER_CACHE 4096
#define AUTOREG_KEPT   64

struct gn_pdir_shard {
    gn_pdir         *dir;
    uint16_t         index;
    gn_reg_verifier *verifier;
    gn_reg_port     *port;
    uint64_t         seen_gen;          /* revocations checked up to this generation */
    gn_reg_autoreg_result kept[AUTOREG_KEPT];   /* results not yet visible in a snapshot */
    uint32_t         nkept;
};

struct gn_pdir {
    gn_registry    *reg;
    gn_pdir_hooks   hooks;
    uint16_t        nshards;
    gn_pdir_shard  *shards;
};

static void port_notify(void *ctx)
{
    gn_pdir_shard *ps = ctx;
    if (ps->dir->hooks.wake)
        ps->dir->hooks.wake(ps->dir->hooks.ctx, ps->index);
}

gn_pdir *gn_pdir_open(const char *path, uint16_t nshards, const gn_pdir_hooks *hooks,
                      char *err, size_t errlen)
{
    gn_pdir *d = calloc(1, sizeof *d);
    if (!d || !(d->shards = calloc(nshards, sizeof *d->shards))) {
        free(d);
        snprintf(err, errlen, "out of memory opening the registry");
        return NULL;
    }
    d->nshards = nshards;
    if (hooks)
        d->hooks = *hooks;
    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = path;
    if (hooks && hooks->poll_interval_ms)
        o.poll_interval_ms = hooks->poll_interval_ms;
    if (hooks) {
        o.autoreg_retry_ms = hooks->autoreg_retry_ms;
        o.ca_file = hooks->tls_ca_file;
    }
    if (hooks && hooks->defer) {
        o.defer = hooks->defer;
        o.reclaim = hooks->reclaim;
        o.reclaim_ctx = hooks->ctx;
    }
    char e2[256] = "";
    d->reg = gn_registry_open(&o, e2, sizeof e2);
    if (!d->reg) {
        snprintf(err, errlen, "registry %s: %s", path, e2);
        free(d->shards);
        free(d);
        return NULL;
    }
    const gn_reg_snapshot *snap = gn_registry_snapshot(d->reg);
    for (uint16_t i = 0; i < nshards; i++) {
        gn_pdir_shard *ps = &d->shards[i];
        ps->dir = d;
        ps->index = i;
        ps->seen_gen = gn_reg_generation(snap);
        ps->verifier = gn_reg_verifier_create(hooks ? hooks->token_cache : VERIFIER_CACHE);
        ps->port = gn_registry_port_create(d->reg, port_notify, ps);
        if (!ps->verifier || !ps->port) {
            snprintf(err, errlen, "out of memory creating the registry's per-shard state");
            gn_pdir_close(d);
            return NULL;
        }
    }
    if (gn_registry_start(d->reg, e2, sizeof e2) != GN_REG_OK) {
        snprintf(err, errlen, "registry %s: %s", path, e2);
        gn_pdir_close(d);
        return NULL;
    }
    return d;
}

void gn_pdir_close(gn_pdir *d)
{
    if (!d)
        return;
    if (d->reg)
        gn_registry_close(d->reg);          /* stops the thread, frees the ports */
    for (uint16_t i = 0; i < d->nshards; i++)
        gn_reg_verifier_destroy(d->shards[i].verifier);
    free(d->shards);
    free(d);
}

gn_pdir_shard *gn_pdir_shard_of(gn_pdir *d, uint16_t i)
{
    return i < d->nshards ? &d->shards[i] : NULL;
}

static const gn_reg_snapshot *snap(const gn_pdir_shard *ps)
{
    return gn_registry_snapshot(ps->dir->reg);
}

gn_pdir_result gn_pdir_org_get(gn_pdir_shard *ps, const char *org, size_t len, gn_pdir_org *out)
{
    const gn_reg_org *o = gn_reg_find_org(snap(ps), org, len);
    memset(out, 0, sizeof *out);
    if (!o)
        return GN_PDIR_NOT_FOUND;
    const gn_reg_org_settings *s = &o->s;
    out->enabled = o->status == GN_REG_ENABLED;
    out->quickstart = o->quickstart;
    out->allow_anonymous = s->allow_anonymous;
    out->allow_durable = s->allow_durable;
    out->allow_retain = s->allow_retain;
    out->max_qos = s->max_qos;
    out->max_connections = s->max_connections;
    out->max_devices_online = s->max_devices_online;
    out->max_subs_device = s->max_subs_device;
    out->max_subs_app = s->max_subs_app;
    out->queue_depth_device = s->queue_depth_device;
    out->queue_depth_app = s->queue_depth_app;
    out->inflight_device = s->inflight_device;
    out->inflight_gateway = s->inflight_gateway;
    out->inflight_app = s->inflight_app;
    out->ip_acl_mode = s->ip_acl.mode;
    out->ip_acl_countries = s->ip_acl.ncc != 0;
    out->gw_max_pending_autoreg = s->gw_max_pending_autoreg;
    out->tls_policy = s->tls_policy;
    out->rate_model = s->rate_model;
    out->rate_device_msgs = s->rate_device_in.msgs_per_s;
    out->rate_device_bytes = s->rate_device_in.bytes_per_s;
    out->rate_gateway_msgs = s->rate_gateway_in.msgs_per_s;
    out->rate_gateway_bytes = s->rate_gateway_in.bytes_per_s;
    out->rate_app_msgs = s->rate_app_in.msgs_per_s;
    out->rate_app_bytes = s->rate_app_in.bytes_per_s;
    out->throttle_limit = s->throttle_limit;
    out->throttle_release_after = s->throttle_release_after;
    return GN_PDIR_OK;
}

bool gn_pdir_type_tls_policy(gn_pdir_shard *ps, const char *org, size_t org_len,
                             const char *type, size_t type_len, uint8_t *policy)
{
    const gn_reg_type *t = gn_reg_find_type(snap(ps), org, org_len, type, type_len);
    if (!t || !t->has_tls_policy)
        return false;
    *policy = t->tls_policy;
    return true;
}

uint64_t gn_pdir_generation(gn_pdir_shard *ps)
{
    return gn_reg_generation(snap(ps));
}

bool gn_pdir_type_rate_get(gn_pdir_shard *ps, const char *org, size_t org_len, const char *type,
                           size_t type_len, gn_pdir_type_rate *out)
{
    const gn_reg_type *t = gn_reg_find_type(snap(ps), org, org_len, type, type_len);
    memset(out, 0, sizeof *out);
    if (!t)
        return false;
    out->rate_msgs = t->s.rate_in_msgs;
    out->rate_bytes = t->s.rate_in_bytes;
    out->throttle_limit = t->s.throttle_limit;
    return true;
}

bool gn_pdir_org_ip_allowed(gn_pdir_shard *ps, const char *org, size_t len, const uint8_t *addr,
                            const char *country)
{
    const gn_reg_org *o = gn_reg_find_org(snap(ps), org, len);
    if (!o || o->s.ip_acl.mode == GN_REG_IPACL_NONE)
        return true;
    if (!addr)
        return o->s.ip_acl.mode == GN_REG_IPACL_BLACK;
    return gn_reg_ipacl_allows(&o->s.ip_acl, addr, country);
}

struct x509_store_st *gn_pdir_trust_handshake(gn_pdir *d, const char *server_name)
{
    const gn_reg_trust *t = gn_registry_trust(d->reg);
    if (!t || !gn_reg_trust_any(t))
        return NULL;
    const char *dot = server_name ? strchr(server_name, '.') : NULL;
    if (dot && !strncmp(dot, ".messaging.", 11) &&
        gn_reg_trust_has_org(t, server_name, (size_t)(dot - server_name)))
        return gn_reg_trust_org(t, server_name, (size_t)(dot - server_name));
    return gn_reg_trust_union(t);
}

bool gn_pdir_trust_org(gn_pdir_shard *ps, const char *org, size_t len, bool recheck,
                       struct x509_store_st **store)
{
    const gn_reg_trust *t = gn_registry_trust(ps->dir->reg);
    if (!t || (!recheck && !gn_reg_trust_any(t)))
        return false;
    *store = gn_reg_trust_org(t, org, len);
    return true;
}

/* The registered, usable device or gateway of class cls, or why not. */
static gn_pdir_result usable_device(gn_pdir_shard *ps, char cls, const char *org, size_t org_len,
                                    const char *type, size_t type_len, const char *id, size_t id_len,
                                    const gn_reg_device **out)
{
    const gn_reg_snapshot *s = snap(ps);
    const gn_reg_device *d = gn_reg_find_device(s, org, org_len, type, type_len, id, id_len);
    if (!d)
        return GN_PDIR_NOT_FOUND;
    if (d->cls != (uint8_t)cls)
        return GN_PDIR_WRONG_CLASS;         /* S-029 */
    if (gn_reg_device_usable(s, d) != GN_REG_OK)
        return GN_PDIR_DISABLED;
    *out = d;
    return GN_PDIR_OK;
}

gn_pdir_result gn_pdir_auth_device(gn_pdir_shard *ps, char cls, const char *org, size_t org_len,
                                   const char *type, size_t type_len, const char *id, size_t id_len,
                                   const uint8_t *token, size_t token_len, uint64_t *uid)
{
    const gn_reg_device *d = NULL;
    gn_pdir_result r = usable_device(ps, cls, org, org_len, type, type_len, id, id_len, &d);
    if (r != GN_PDIR_OK)
        return r;
    if (!d->has_token || gn_reg_verifier_check(ps->verifier, &d->cred, token, token_len) != GN_REG_OK)
        return GN_PDIR_DENIED;
    *uid = d->uid;
    return GN_PDIR_OK;
}

gn_pdir_result gn_pdir_cert_device(gn_pdir_shard *ps, char cls, const char *org, size_t org_len,
                                   const char *type, size_t type_len, const char *id, size_t id_len,
                                   uint64_t *uid)
{
    const gn_reg_device *d = NULL;
    gn_pdir_result r = usable_device(ps, cls, org, org_len, type, type_len, id, id_len, &d);
    if (r == GN_PDIR_OK)
        *uid = d->uid;
    return r;
}

gn_pdir_result gn_pdir_auth_app(gn_pdir_shard *ps, const char *org, size_t org_len,
                                const uint8_t *key, size_t key_len,
                                const uint8_t *token, size_t token_len, uint32_t *perms)
{
    const gn_reg_apikey *k = gn_reg_find_apikey(snap(ps), (const char *)key, key_len);
    if (!k)
        return GN_PDIR_NOT_FOUND;
    if (k->org_len != org_len || memcmp(k->org, org, org_len) != 0)
        return GN_PDIR_DENIED;              /* S-027: the key's org is the client id's */
    if (k->status != GN_REG_ENABLED)
        return GN_PDIR_DISABLED;
    if (gn_reg_verifier_check(ps->verifier, &k->cred, token, token_len) != GN_REG_OK)
        return GN_PDIR_DENIED;
    *perms = k->perms;
    return GN_PDIR_OK;
}

uint64_t gn_pdir_hashes(gn_pdir_shard *ps)
{
    gn_reg_verifier_stats st;
    gn_reg_verifier_get_stats(ps->verifier, &st);
    return st.hashes;
}

static gn_pdir_result from_reg(gn_reg_err e)
{
    switch (e) {
    case GN_REG_OK:                 return GN_PDIR_OK;
    case GN_REG_ERR_NOT_FOUND:      return GN_PDIR_NOT_FOUND;
    case GN_REG_ERR_DISABLED:       return GN_PDIR_DISABLED;
    case GN_REG_ERR_DENIED:         return GN_PDIR_DENIED;
    case GN_REG_ERR_NOT_PRIVILEGED: return GN_PDIR_NOT_PRIVILEGED;
    case GN_REG_ERR_BUSY:           return GN_PDIR_BUSY;
    case GN_REG_ERR_LIMIT:          return GN_PDIR_LIMIT;
    case GN_REG_ERR_RETRY_LATER:    return GN_PDIR_RETRY_LATER;
    default:                        return GN_PDIR_ERROR;
    }
}

gn_pdir_result gn_pdir_gateway_may_act(gn_pdir_shard *ps, const char *org, size_t org_len,
                                       const char *gtype, size_t gtype_len,
                                       const char *gid, size_t gid_len,
                                       const char *type, size_t type_len,
                                       const char *id, size_t id_len, bool *privileged)
{
    const gn_reg_snapshot *s = snap(ps);
    const gn_reg_device *gw = gn_reg_find_device(s, org, org_len, gtype, gtype_len, gid, gid_len);
    *privileged = false;
    if (!gw || gw->cls != GN_REG_GATEWAY)
        return GN_PDIR_DENIED;
    *privileged = gw->gw_role == GN_REG_GW_PRIVILEGED;
    return from_reg(gn_reg_gateway_may_act(s, gw, type, type_len, id, id_len, NULL));
}

gn_pdir_result gn_pdir_autoreg_submit(gn_pdir_shard *ps, const char *org, size_t org_len,
                                      const char *gtype, size_t gtype_len,
                                      const char *gid, size_t gid_len,
                                      const char *type, size_t type_len,
                                      const char *id, size_t id_len, uint64_t cookie)
{
    const gn_reg_device *gw = gn_reg_find_device(snap(ps), org, org_len, gtype, gtype_len, gid, gid_len);
    if (!gw)
        return GN_PDIR_DENIED;
    if (ps->nkept >= AUTOREG_KEPT)
        return GN_PDIR_BUSY;
    return from_reg(gn_registry_autoreg_submit(ps->port, gw, type, type_len, id, id_len, cookie));
}

uint32_t gn_pdir_autoreg_poll(gn_pdir_shard *ps, gn_pdir_autoreg_done *out, uint32_t max)
{
    if (ps->nkept < AUTOREG_KEPT)
        ps->nkept += gn_registry_autoreg_poll(ps->port, ps->kept + ps->nkept, AUTOREG_KEPT - ps->nkept);
    if (!ps->nkept)
        return 0;
    uint64_t gen = gn_reg_generation(snap(ps));
    uint32_t n = 0, k = 0;
    for (uint32_t i = 0; i < ps->nkept; i++) {
        gn_reg_autoreg_result *r = &ps->kept[i];
        bool visible = r->err != GN_REG_OK || r->generation <= gen;
        if (visible && n < max) {
            out[n].cookie = r->cookie;
            out[n].result = from_reg(r->err);
            out[n].visible = true;
            n++;
        } else {
            ps->kept[k++] = *r;
        }
    }
    ps->nkept = k;
    return n;
}

typedef struct rev_ctx {
    gn_pdir_revoked_fn fn;
    void *ctx;
} rev_ctx;

static void on_revoked(void *ctx, const gn_reg_revoked *r)
{
    rev_ctx *rc = ctx;
    char kind = r->ip_list ? 'i' : r->tls ? 's' : (char)r->kind;
    rc->fn(rc->ctx, kind, r->org, r->org_len, r->type, r->type_len, r->id, r->id_len);
}

bool gn_pdir_revocations(gn_pdir_shard *ps, gn_pdir_revoked_fn fn, void *ctx)
{
    const gn_reg_snapshot *s = snap(ps);
    uint64_t gen = gn_reg_generation(s);
    if (gen == ps->seen_gen)
        return true;
    rev_ctx rc = { fn, ctx };
    gn_reg_err e = gn_reg_revoked_since(s, ps->seen_gen, on_revoked, &rc);
    ps->seen_gen = gen;
    if (e == GN_REG_ERR_TOO_OLD) {
        fn(ctx, '*', NULL, 0, NULL, 0, NULL, 0);
        return false;
    }
    return true;
}

bool gn_pdir_device_usable(gn_pdir_shard *ps, const char *org, size_t org_len,
                           const char *type, size_t type_len, const char *id, size_t id_len)
{
    const gn_reg_snapshot *s = snap(ps);
    const gn_reg_device *d = gn_reg_find_device(s, org, org_len, type, type_len, id, id_len);
    return d && gn_reg_device_usable(s, d) == GN_REG_OK;
}
