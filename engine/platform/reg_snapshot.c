/* engine/platform/reg_snapshot.c — registry snapshots: keys and hashing,
 * lookups (registry.h), full builds, patches and the revocation log. */
#include "engine/platform/reg_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

/* ------------------------------------------------------------------ keys */

uint64_t gn_reg_key_hash(gn_reg_kind kind, const gn_reg_key *k, bool *ok)
{
    char buf[3 * 40];
    size_t n = 0;
    if (k->al > 36 || k->bl > 36 || k->cl > 36) {
        *ok = false;
        return 0;
    }
    buf[n++] = (char)kind;
    memcpy(buf + n, k->a, k->al);
    n += k->al;
    buf[n++] = '\x1f';
    if (k->bl)
        memcpy(buf + n, k->b, k->bl);
    n += k->bl;
    buf[n++] = '\x1f';
    if (k->cl)
        memcpy(buf + n, k->c, k->cl);
    n += k->cl;
    *ok = true;
    return XXH3_64bits(buf, n);
}

static bool str_eq(const char *rec, size_t rlen, const char *k, size_t klen)
{
    return rlen == klen && memcmp(rec, k, klen) == 0;
}

bool gn_reg_org_eq(const void *rec, const void *key)
{
    const gn_reg_org *o = rec;
    const gn_reg_key *k = key;
    return str_eq(o->id, o->id_len, k->a, k->al);
}

bool gn_reg_type_eq(const void *rec, const void *key)
{
    const gn_reg_type *t = rec;
    const gn_reg_key *k = key;
    return str_eq(t->id, t->id_len, k->b, k->bl) && str_eq(t->org, t->org_len, k->a, k->al);
}

bool gn_reg_device_eq(const void *rec, const void *key)
{
    const gn_reg_device *d = rec;
    const gn_reg_key *k = key;
    return str_eq(d->id, d->id_len, k->c, k->cl) && str_eq(d->type, d->type_len, k->b, k->bl) &&
           str_eq(d->org, d->org_len, k->a, k->al);
}

bool gn_reg_apikey_eq(const void *rec, const void *key)
{
    const gn_reg_apikey *a = rec;
    const gn_reg_key *k = key;
    return str_eq(a->key, a->key_len, k->a, k->al);
}

static gn_reg_key key_of(gn_reg_kind kind, const void *rec)
{
    gn_reg_key k = {0};
    switch (kind) {
    case GN_REG_KIND_ORG: {
        const gn_reg_org *o = rec;
        k.a = o->id, k.al = o->id_len;
        break;
    }
    case GN_REG_KIND_TYPE: {
        const gn_reg_type *t = rec;
        k.a = t->org, k.al = t->org_len, k.b = t->id, k.bl = t->id_len;
        break;
    }
    case GN_REG_KIND_DEVICE: {
        const gn_reg_device *d = rec;
        k.a = d->org, k.al = d->org_len, k.b = d->type, k.bl = d->type_len, k.c = d->id, k.cl = d->id_len;
        break;
    }
    case GN_REG_KIND_APIKEY: {
        const gn_reg_apikey *a = rec;
        k.a = a->key, k.al = a->key_len;
        break;
    }
    }
    return k;
}

static const gn_regtab *table_of(const gn_reg_snapshot *s, gn_reg_kind kind)
{
    switch (kind) {
    case GN_REG_KIND_ORG: return &s->orgs;
    case GN_REG_KIND_TYPE: return &s->types;
    case GN_REG_KIND_DEVICE: return &s->devices;
    default: return &s->keys;
    }
}

static gn_regtab_eq_fn eq_of(gn_reg_kind kind)
{
    switch (kind) {
    case GN_REG_KIND_ORG: return gn_reg_org_eq;
    case GN_REG_KIND_TYPE: return gn_reg_type_eq;
    case GN_REG_KIND_DEVICE: return gn_reg_device_eq;
    default: return gn_reg_apikey_eq;
    }
}

static const void *find_kind(const gn_reg_snapshot *s, gn_reg_kind kind, const gn_reg_key *k)
{
    bool ok;
    uint64_t h = gn_reg_key_hash(kind, k, &ok);
    return ok ? gn_regtab_find(table_of(s, kind), h, eq_of(kind), k) : NULL;
}

static uint8_t rec_status(gn_reg_kind kind, const void *rec)
{
    switch (kind) {
    case GN_REG_KIND_ORG: return ((const gn_reg_org *)rec)->status;
    case GN_REG_KIND_TYPE: return ((const gn_reg_type *)rec)->status;
    case GN_REG_KIND_DEVICE: return ((const gn_reg_device *)rec)->status;
    default: return ((const gn_reg_apikey *)rec)->status;
    }
}

/* --------------------------------------------------------------- lookups */

uint64_t gn_reg_generation(const gn_reg_snapshot *s) { return s->generation; }

const gn_reg_org *gn_reg_find_org(const gn_reg_snapshot *s, const char *org, size_t org_len)
{
    gn_reg_key k = {.a = org, .al = org_len};
    return find_kind(s, GN_REG_KIND_ORG, &k);
}

const gn_reg_type *gn_reg_find_type(const gn_reg_snapshot *s, const char *org, size_t org_len,
                                    const char *type, size_t type_len)
{
    gn_reg_key k = {.a = org, .al = org_len, .b = type, .bl = type_len};
    return find_kind(s, GN_REG_KIND_TYPE, &k);
}

const gn_reg_device *gn_reg_find_device(const gn_reg_snapshot *s, const char *org, size_t org_len,
                                        const char *type, size_t type_len,
                                        const char *id, size_t id_len)
{
    gn_reg_key k = {.a = org, .al = org_len, .b = type, .bl = type_len, .c = id, .cl = id_len};
    return find_kind(s, GN_REG_KIND_DEVICE, &k);
}

const gn_reg_apikey *gn_reg_find_apikey(const gn_reg_snapshot *s, const char *key, size_t key_len)
{
    gn_reg_key k = {.a = key, .al = key_len};
    return find_kind(s, GN_REG_KIND_APIKEY, &k);
}

gn_reg_err gn_reg_device_usable(const gn_reg_snapshot *s, const gn_reg_device *d)
{
    const gn_reg_org *o = gn_reg_find_org(s, d->org, d->org_len);
    const gn_reg_type *t = gn_reg_find_type(s, d->org, d->org_len, d->type, d->type_len);
    if (!o || !t)
        return GN_REG_ERR_NOT_FOUND;
    if (d->status != GN_REG_ENABLED || t->status != GN_REG_ENABLED || o->status != GN_REG_ENABLED)
        return GN_REG_ERR_DISABLED;
    return GN_REG_OK;
}

gn_reg_err gn_reg_gateway_may_act(const gn_reg_snapshot *s, const gn_reg_device *gw,
                                  const char *type, size_t type_len,
                                  const char *id, size_t id_len, const gn_reg_device **dev)
{
    if (dev)
        *dev = NULL;
    const gn_reg_device *d;
    if (str_eq(gw->type, gw->type_len, type, type_len) && str_eq(gw->id, gw->id_len, id, id_len))
        d = gw;
    else
        d = gn_reg_find_device(s, gw->org, gw->org_len, type, type_len, id, id_len);
    if (!d)
        return GN_REG_ERR_NOT_FOUND;
    if (dev)
        *dev = d;
    if (d != gw && gw->gw_ngroups) {
        bool in = false;
        for (uint8_t i = 0; i < d->ngroups && !in; i++)
            for (uint8_t j = 0; j < gw->gw_ngroups; j++)
                if (d->groups[i] == gw->gw_groups[j]) {
                    in = true;
                    break;
                }
        if (!in)
            return GN_REG_ERR_DENIED;
    }
    return gn_reg_device_usable(s, d) == GN_REG_OK ? GN_REG_OK : GN_REG_ERR_DISABLED;
}

gn_reg_err gn_reg_revoked_since(const gn_reg_snapshot *s, uint64_t since_gen,
                                gn_reg_revoked_fn fn, void *ctx)
{
    const gn_reg_revlog *l = s->rev;
    if (since_gen >= s->generation)
        return GN_REG_OK;
    if (since_gen < l->covers_from)
        return GN_REG_ERR_TOO_OLD;
    for (uint32_t i = 0; i < l->n; i++) {
        const gn_reg_rev_entry *e = &l->e[i];
        if (e->generation <= since_gen)
            continue;
        gn_reg_revoked r = {
            .generation = e->generation, .kind = e->kind, .removed = e->removed != 0,
            .ip_list = e->ip_list != 0, .tls = e->tls != 0,
            .org = e->org, .type = e->type, .id = e->id,
            .org_len = e->org_len, .type_len = e->type_len, .id_len = e->id_len,
        };
        fn(ctx, &r);
    }
    return GN_REG_OK;
}

void gn_reg_get_counts(const gn_reg_snapshot *s, gn_reg_counts *out)
{
    out->orgs = s->orgs.count;
    out->types = s->types.count;
    out->devices = s->devices.count - s->gateways;
    out->gateways = s->gateways;
    out->apikeys = s->keys.count;
    out->groups = s->groups;
}

/* -------------------------------------------------------------- defaults */

void gn_reg_org_settings_default(gn_reg_org_settings *s, gn_reg_plan plan)
{
    bool lite = plan == GN_REG_PLAN_LITE;
    *s = (gn_reg_org_settings){
        .allow_anonymous = false, .allow_durable = true, .allow_retain = false,
        .allow_sys_topics = false, .allow_shared_subs = false,
        .max_qos = 2, .tls_policy = GN_REG_TLS_TOKEN, .plan = (uint8_t)plan,
        .max_connections = 0,
        .max_devices = lite ? 500 : 1000000, .max_device_types = lite ? 50 : 1000,
        .max_api_keys = lite ? 500 : 2000, .max_group_devices = 300,
        .max_shared_apps = 10, .max_shared_instances = lite ? 1 : 50,
        .max_subs_device = 50, .max_subs_app = 500,
        .queue_depth_device = 50, .queue_depth_app = 5000,
        .inflight_device = 10, .inflight_gateway = 1000, .inflight_app = 2000,
        .new_conns_per_s = lite ? 10 : 300, .max_devices_online = lite ? 500 : 500000,
        .gw_max_pending_autoreg = 10, .gw_max_devices = 500,
        .rate_device_in = lite ? (gn_reg_rate){5, 20480} : (gn_reg_rate){10, 40960},
        .rate_gateway_in = lite ? (gn_reg_rate){50, 204800} : (gn_reg_rate){100, 409600},
        .rate_app_in = lite ? (gn_reg_rate){10, 40960} : (gn_reg_rate){20, 81920},
        .rate_org_in = lite ? (gn_reg_rate){5000, 0} : (gn_reg_rate){6000, 0},
        .rate_device_out = {2, 8192}, .rate_gateway_out = {20, 81920},
        .rate_app_out = {20, 81920}, .rate_org_out = {12000, 0},
        .rate_model = GN_REG_RATE_WATSON, .throttle_limit = 60, .throttle_release_after = 10,
    };
}

void gn_reg_org_settings_quickstart(gn_reg_org_settings *s)
{
    gn_reg_org_settings_default(s, GN_REG_PLAN_STANDARD);
    s->allow_anonymous = true;
    s->allow_durable = false;
    s->max_qos = 0;
    s->tls_policy = GN_REG_TLS_OPTIONAL;
    s->rate_device_in = (gn_reg_rate){1, 0};      /* S-099 */
}

/* ------------------------------------------------------------ revocation */

static gn_reg_revlog *revlog_new(uint64_t covers_from)
{
    gn_reg_revlog *l = calloc(1, sizeof *l + GN_REG_REVLOG_CAP * sizeof(gn_reg_rev_entry));
    if (l)
        l->covers_from = covers_from;
    return l;
}

static void copy_part(char *dst, uint8_t *dlen, const char *src, size_t len, size_t max)
{
    if (len > max)
        len = max;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
    *dlen = (uint8_t)len;
}

static gn_reg_rev_entry *revlog_add(gn_reg_revlog *l, uint64_t gen, gn_reg_kind kind,
                                    const gn_reg_key *k, bool removed)
{
    if (l->n == GN_REG_REVLOG_CAP) {
        l->covers_from = l->e[0].generation;   /* readers past it have seen e[0] */
        memmove(l->e, l->e + 1, (GN_REG_REVLOG_CAP - 1) * sizeof l->e[0]);
        l->n--;
    }
    gn_reg_rev_entry *e = &l->e[l->n++];
    memset(e, 0, sizeof *e);
    e->generation = gen;
    e->kind = (uint8_t)kind;
    e->removed = removed;
    if (kind == GN_REG_KIND_APIKEY) {
        copy_part(e->id, &e->id_len, k->a, k->al, sizeof e->id - 1);
    } else {
        copy_part(e->org, &e->org_len, k->a, k->al, GN_REG_ORG_MAX);
        copy_part(e->type, &e->type_len, k->b, k->bl, GN_REG_ID_MAX);
        copy_part(e->id, &e->id_len, k->c, k->cl, GN_REG_ID_MAX);
    }
    return e;
}

/* An org or type that stays enabled but whose TLS policy (or, for an
 * org, its CA set) changed: its connected clients are rechecked (S-035,
 * S-036). */
static bool tls_changed(gn_reg_kind kind, const void *was, const void *now)
{
    if (kind == GN_REG_KIND_ORG) {
        const gn_reg_org *a = was, *b = now;
        return b->status == GN_REG_ENABLED &&
               (a->s.tls_policy != b->s.tls_policy || a->ca_version != b->ca_version);
    }
    if (kind == GN_REG_KIND_TYPE) {
        const gn_reg_type *a = was, *b = now;
        return b->status == GN_REG_ENABLED &&
               (a->has_tls_policy != b->has_tls_policy || a->tls_policy != b->tls_policy);
    }
    return false;
}

/* An org that stays enabled but has a new, non-empty IP list: its
 * connected clients' addresses are rechecked (S-038). */
static bool ip_list_tightened(const gn_reg_org *was, const gn_reg_org *now)
{
    return now->status == GN_REG_ENABLED && now->s.ip_acl.mode != GN_REG_IPACL_NONE &&
           memcmp(&was->s.ip_acl, &now->s.ip_acl, sizeof now->s.ip_acl) != 0;
}

static gn_reg_revlog *revlog_copy(const gn_reg_revlog *l)
{
    gn_reg_revlog *c = revlog_new(l->covers_from);
    if (c) {
        c->n = l->n;
        memcpy(c->e, l->e, l->n * sizeof l->e[0]);
    }
    return c;
}

/* ------------------------------------------------------------ full build */

struct gn_reg_snap_builder {
    gn_regtab_builder *b[4];            /* org, type, device, apikey */
    uint64_t gateways, groups;
};

static int kind_ix(gn_reg_kind k)
{
    return k == GN_REG_KIND_ORG ? 0 : k == GN_REG_KIND_TYPE ? 1 : k == GN_REG_KIND_DEVICE ? 2 : 3;
}

static const gn_reg_kind kinds[4] = {GN_REG_KIND_ORG, GN_REG_KIND_TYPE, GN_REG_KIND_DEVICE,
                                     GN_REG_KIND_APIKEY};
static const uint32_t rec_sizes[4] = {sizeof(gn_reg_org), sizeof(gn_reg_type),
                                      sizeof(gn_reg_device), sizeof(gn_reg_apikey)};

gn_reg_snap_builder *gn_reg_snap_builder_new(void)
{
    gn_reg_snap_builder *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    for (int i = 0; i < 4; i++)
        if (!(b->b[i] = gn_regtab_builder_new(rec_sizes[i]))) {
            gn_reg_snap_builder_free(b);
            return NULL;
        }
    return b;
}

void gn_reg_snap_builder_free(gn_reg_snap_builder *b)
{
    if (!b)
        return;
    for (int i = 0; i < 4; i++)
        gn_regtab_builder_free(b->b[i]);
    free(b);
}

static gn_reg_err builder_add(gn_reg_snap_builder *b, gn_reg_kind kind, const void *rec)
{
    gn_reg_key k = key_of(kind, rec);
    bool ok;
    uint64_t h = gn_reg_key_hash(kind, &k, &ok);
    if (!ok)
        return GN_REG_ERR_INVALID;
    return gn_regtab_builder_add(b->b[kind_ix(kind)], h, rec) ? GN_REG_ERR_NOMEM : GN_REG_OK;
}

gn_reg_err gn_reg_snap_add_org(gn_reg_snap_builder *b, const gn_reg_org *o)
{
    return builder_add(b, GN_REG_KIND_ORG, o);
}

gn_reg_err gn_reg_snap_add_type(gn_reg_snap_builder *b, const gn_reg_type *t)
{
    return builder_add(b, GN_REG_KIND_TYPE, t);
}

gn_reg_err gn_reg_snap_add_device(gn_reg_snap_builder *b, const gn_reg_device *d)
{
    gn_reg_err rc = builder_add(b, GN_REG_KIND_DEVICE, d);
    if (rc == GN_REG_OK && d->cls == GN_REG_GATEWAY)
        b->gateways++;
    return rc;
}

gn_reg_err gn_reg_snap_add_apikey(gn_reg_snap_builder *b, const gn_reg_apikey *k)
{
    return builder_add(b, GN_REG_KIND_APIKEY, k);
}

void gn_reg_snap_set_groups(gn_reg_snap_builder *b, uint64_t groups) { b->groups = groups; }

typedef struct revoke_scan {
    const gn_reg_snapshot *next;
    gn_reg_revlog *log;
    gn_reg_kind kind;
    uint64_t gen;
} revoke_scan;

static void revoke_visit(void *ctx, const void *rec)
{
    revoke_scan *rs = ctx;
    if (rec_status(rs->kind, rec) != GN_REG_ENABLED)
        return;
    gn_reg_key k = key_of(rs->kind, rec);
    const void *now = find_kind(rs->next, rs->kind, &k);
    if (!now || rec_status(rs->kind, now) != GN_REG_ENABLED)
        revlog_add(rs->log, rs->gen, rs->kind, &k, now == NULL);
    else if (rs->kind == GN_REG_KIND_ORG && ip_list_tightened(rec, now))
        revlog_add(rs->log, rs->gen, rs->kind, &k, false)->ip_list = 1;
    else if (tls_changed(rs->kind, rec, now))
        revlog_add(rs->log, rs->gen, rs->kind, &k, false)->tls = 1;
}

gn_reg_snapshot *gn_reg_snap_builder_finish(gn_reg_snap_builder *b, uint64_t generation,
                                            uint64_t store_seq, const gn_reg_snapshot *prev)
{
    gn_reg_snapshot *s = calloc(1, sizeof *s);
    gn_reg_revlog *log = prev ? revlog_copy(prev->rev) : revlog_new(generation);
    if (!s || !log)
        goto fail;
    gn_regtab *t[4] = {&s->orgs, &s->types, &s->devices, &s->keys};
    for (int i = 0; i < 4; i++)
        gn_regtab_init(t[i], rec_sizes[i]);
    for (int i = 0; i < 4; i++)
        if (gn_regtab_builder_finish(b->b[i], t[i]) != 0)
            goto fail;
    s->generation = generation;
    s->store_seq = store_seq;
    s->gateways = b->gateways;
    s->groups = b->groups;
    if (prev)
        for (int i = 0; i < 4; i++) {
            revoke_scan rs = {.next = s, .log = log, .kind = kinds[i], .gen = generation};
            gn_regtab_each(table_of(prev, kinds[i]), revoke_visit, &rs);
        }
    s->rev = log;
    gn_reg_snap_builder_free(b);
    return s;
fail:
    if (s)
        for (int i = 0; i < 4; i++)
            gn_regtab_free_all((gn_regtab *)table_of(s, kinds[i]));
    free(s);
    free(log);
    gn_reg_snap_builder_free(b);
    return NULL;
}

void gn_reg_snap_free(gn_reg_snapshot *s)
{
    if (!s)
        return;
    gn_regtab_free_all(&s->orgs);
    gn_regtab_free_all(&s->types);
    gn_regtab_free_all(&s->devices);
    gn_regtab_free_all(&s->keys);
    free((void *)s->rev);
    free(s);
}

/* ------------------------------------------------------------------ patch */

gn_reg_snapshot *gn_reg_snap_patch(const gn_reg_snapshot *old, gn_reg_change *ch, size_t n,
                                   uint64_t generation, uint64_t store_seq, gn_reg_retired **retired)
{
    gn_reg_snapshot *s = malloc(sizeof *s);
    gn_reg_retired *r = calloc(1, sizeof *r);
    gn_regtab_op *ops = malloc((n ? n : 1) * sizeof *ops);
    gn_reg_revlog *log = NULL;
    if (!s || !r || !ops)
        goto fail;
    *s = *old;
    s->generation = generation;
    s->store_seq = store_seq;
    /* revocations and gateway count first (they compare with old) */
    for (size_t i = 0; i < n; i++) {
        gn_reg_kind kind = ch[i].kind;
        const void *was = find_kind(old, kind, &ch[i].key);
        if (kind == GN_REG_KIND_DEVICE) {
            if (was && ((const gn_reg_device *)was)->cls == GN_REG_GATEWAY)
                s->gateways--;
            if (ch[i].rec && ((const gn_reg_device *)ch[i].rec)->cls == GN_REG_GATEWAY)
                s->gateways++;
        }
        bool revoked = was && rec_status(kind, was) == GN_REG_ENABLED &&
                       (!ch[i].rec || rec_status(kind, ch[i].rec) != GN_REG_ENABLED);
        bool ip_list = !revoked && was && ch[i].rec && kind == GN_REG_KIND_ORG &&
                       ip_list_tightened(was, ch[i].rec);
        bool tls = !revoked && !ip_list && was && ch[i].rec && tls_changed(kind, was, ch[i].rec);
        if (!revoked && !ip_list && !tls)
            continue;
        if (!log && !(log = revlog_copy(old->rev)))
            goto fail;
        gn_reg_rev_entry *e = revlog_add(log, generation, kind, &ch[i].key, ch[i].rec == NULL);
        e->ip_list = ip_list;
        e->tls = tls;
    }
    for (int t = 0; t < 4; t++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (ch[i].kind != kinds[t])
                continue;
            bool ok;
            uint64_t h = gn_reg_key_hash(kinds[t], &ch[i].key, &ok);
            if (!ok)
                continue;                        /* cannot exist: nothing to change */
            ops[m++] = (gn_regtab_op){.h = h, .key = &ch[i].key, .rec = ch[i].rec};
        }
        if (!m)
            continue;
        gn_regtab *dst = (gn_regtab *)table_of(s, kinds[t]);
        size_t before = r->nsegs;
        if (gn_regtab_patch(table_of(old, kinds[t]), dst, ops, m, eq_of(kinds[t]), r->segs,
                            &r->nsegs) != 0) {
            /* undo the tables patched so far: free their fresh segments */
            for (int u = 0; u < t; u++) {
                const gn_regtab *a = table_of(old, kinds[u]), *b = table_of(s, kinds[u]);
                for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++)
                    if (a->seg[i] != b->seg[i])
                        gn_regtab_seg_free(b->seg[i]);
            }
            r->nsegs = before;
            goto fail;
        }
    }
    if (log) {
        s->rev = log;
        r->rev = old->rev;
    }
    r->snap = (gn_reg_snapshot *)old;
    free(ops);
    *retired = r;
    return s;
fail:
    free(s);
    free(r);
    free(ops);
    free(log);
    return NULL;
}

gn_reg_retired *gn_reg_snap_retired_whole(gn_reg_snapshot *old)
{
    gn_reg_retired *r = calloc(1, sizeof *r);
    if (r) {
        r->snap = old;
        r->whole = true;
    }
    return r;
}

void gn_reg_retired_free(void *ctx, void *bundle)
{
    (void)ctx;
    gn_reg_retired *r = bundle;
    if (!r)
        return;
    if (r->whole) {
        gn_reg_snap_free(r->snap);
    } else {
        for (size_t i = 0; i < r->nsegs; i++)
            gn_regtab_seg_free(r->segs[i]);
        free((void *)r->rev);
        free(r->snap);
    }
    free(r);
}
