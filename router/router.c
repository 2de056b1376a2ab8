/* router/router.c — the router facade: validation of filters and options,
 * the writer lock and subscription generation, per-reader match (cache,
 * trie walk, per-session deduplication, shared-group picks), retained
 * store access and statistics. */
#include "router/router.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "router/cache.h"
#include "router/hmem.h"
#include "router/retained.h"
#include "router/rmem.h"
#include "router/trie.h"

/* Writers run QSBR reclamation every this many operations. */
#define RECLAIM_EVERY 64u
/* Above this many matched entries, deduplicate through a hash index. */
#define DEDUP_LINEAR_MAX 16u

struct gn_router {
    /* Subscription generations (router/gen.h): bumped after every change
     * is published; readers load them before walking the trie and tag
     * cached results with them. */
    gn_gens gens;
    _Alignas(64) pthread_mutex_t wlock;   /* serialises all writers */
    gn_rmem mem;
    gn_qsbr *qsbr;
    gn_trie trie;
    gn_retained ret;
    gn_router_config cfg;
    uint64_t subs;      /* under wlock: subscriptions + memberships */
    uint64_t groups;    /* under wlock */
    uint32_t ops;       /* under wlock: writer operations since start */
    gn_levels wlv;      /* under wlock: writer scratch */
};

struct gn_router_reader {
    gn_router *r;
    gn_qsbr_reader *q;
    uint16_t shard;
    gn_match_cache *cache;
    gn_entry_vec ev;            /* matched entries */
    gn_delivery *dv;            /* deduplicated deliveries */
    gn_share_group **gv;        /* matched groups */
    uint32_t *idx;              /* dedup hash index */
    uint32_t dcap, gcap, icap;
    uint64_t matches;
    gn_levels lv;               /* split scratch */
};

static const char *const rerr_names[GN_ROUTER_ERR__COUNT] = {
    [GN_ROUTER_OK] = "GN_ROUTER_OK",
    [GN_ROUTER_ERR_NOMEM] = "GN_ROUTER_ERR_NOMEM",
    [GN_ROUTER_ERR_FILTER_INVALID] = "GN_ROUTER_ERR_FILTER_INVALID",
    [GN_ROUTER_ERR_TOPIC_INVALID] = "GN_ROUTER_ERR_TOPIC_INVALID",
    [GN_ROUTER_ERR_SHARE_NAME_INVALID] = "GN_ROUTER_ERR_SHARE_NAME_INVALID",
    [GN_ROUTER_ERR_SHARED_NO_LOCAL] = "GN_ROUTER_ERR_SHARED_NO_LOCAL",
    [GN_ROUTER_ERR_OPTIONS_INVALID] = "GN_ROUTER_ERR_OPTIONS_INVALID",
    [GN_ROUTER_ERR_NOT_FOUND] = "GN_ROUTER_ERR_NOT_FOUND",
    [GN_ROUTER_ERR_TOO_MANY_READERS] = "GN_ROUTER_ERR_TOO_MANY_READERS",
    [GN_ROUTER_ERR_OUT_TOO_SMALL] = "GN_ROUTER_ERR_OUT_TOO_SMALL",
};

const char *gn_rerr_name(gn_rerr e)
{
    if ((unsigned)e >= GN_ROUTER_ERR__COUNT || !rerr_names[e])
        return "GN_ROUTER_ERR_UNKNOWN";
    return rerr_names[e];
}

/* ---------- lifetime ---------- */

gn_router *gn_router_create(const gn_router_config *cfg)
{
    gn_router *r = aligned_alloc(64, (sizeof(gn_router) + 63) & ~(size_t)63);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    if (cfg)
        r->cfg = *cfg;
    if (!r->cfg.max_readers)
        r->cfg.max_readers = 64;
    if (!r->cfg.cache_slots)
        r->cfg.cache_slots = 4096;
    if (!r->cfg.share_hwm)
        r->cfg.share_hwm = 1024;
    if (!r->cfg.share_pick)
        r->cfg.share_pick = gn_share_pick_local_rr;
    gn_gen_init(&r->gens);
    atomic_init(&r->mem.bytes, 0);
    r->mem.huge = gn_hmem_create(); /* NULL: tables in malloc memory */
    r->qsbr = gn_qsbr_create(r->cfg.max_readers);
    if (!r->qsbr)
        goto fail;
    if (pthread_mutex_init(&r->wlock, NULL) != 0)
        goto fail_q;
    if (gn_trie_init(&r->trie, &r->mem, r->qsbr) != GN_ROUTER_OK)
        goto fail_m;
    if (gn_retained_init(&r->ret, &r->mem, r->qsbr) != GN_ROUTER_OK)
        goto fail_t;
    return r;
fail_t:
    gn_trie_fini(&r->trie, NULL, NULL);
fail_m:
    pthread_mutex_destroy(&r->wlock);
fail_q:
    gn_qsbr_destroy(r->qsbr);
fail:
    gn_hmem_destroy(r->mem.huge);
    free(r);
    return NULL;
}

static void entry_dtor(void *ctx, gn_route_entry *e)
{
    if (e->flags & GN_SUBF_GROUP)
        gn_share_group_free_now(ctx, e->u.group);
}

void gn_router_destroy(gn_router *r)
{
    if (!r)
        return;
    gn_qsbr_destroy(r->qsbr);
    gn_trie_fini(&r->trie, entry_dtor, &r->mem);
    gn_retained_fini(&r->ret);
    gn_hmem_destroy(r->mem.huge);
    pthread_mutex_destroy(&r->wlock);
    free(r);
}

/* ---------- readers ---------- */

gn_router_reader *gn_router_reader_register(gn_router *r, uint16_t shard)
{
    gn_router_reader *rd = calloc(1, sizeof *rd);
    if (!rd)
        return NULL;
    rd->r = r;
    rd->shard = shard;
    if (!r->cfg.cache_disabled) {
        rd->cache = gn_cache_create(r->cfg.cache_slots);
        if (!rd->cache) {
            free(rd);
            return NULL;
        }
    }
    rd->q = gn_qsbr_register(r->qsbr);
    if (!rd->q) {
        gn_cache_destroy(rd->cache);
        free(rd);
        return NULL;
    }
    return rd;
}

void gn_router_reader_unregister(gn_router_reader *rd)
{
    if (!rd)
        return;
    gn_qsbr_unregister(rd->q);
    gn_cache_destroy(rd->cache);
    free(rd->ev.v);
    free(rd->dv);
    free(rd->gv);
    free(rd->idx);
    free(rd);
}

gn_rerr gn_router_reader_cache_enable(gn_router_reader *rd, bool on)
{
    if (!on) {
        gn_cache_destroy(rd->cache);
        rd->cache = NULL;
    } else if (!rd->cache) {
        rd->cache = gn_cache_create(rd->r->cfg.cache_slots);
        if (!rd->cache)
            return GN_ROUTER_ERR_NOMEM;
    }
    return GN_ROUTER_OK;
}

void gn_router_quiescent(gn_router_reader *rd) { gn_qsbr_quiescent(rd->q); }
void gn_router_offline(gn_router_reader *rd) { gn_qsbr_offline(rd->q); }
void gn_router_online(gn_router_reader *rd) { gn_qsbr_online(rd->q); }

/* ---------- writers ---------- */

static gn_rerr check_opts(const gn_sub_opts *o)
{
    if (o->qos > 2 || o->retain_handling > 2 || o->sub_id > GN_SUB_ID_MAX)
        return GN_ROUTER_ERR_OPTIONS_INVALID;
    return GN_ROUTER_OK;
}

static uint8_t opts_flags(const gn_sub_opts *o)
{
    return (uint8_t)((o->qos & GN_SUBF_QOS_MASK) | (o->no_local ? GN_SUBF_NO_LOCAL : 0) |
                     (o->retain_as_published ? GN_SUBF_RAP : 0) |
                     ((o->retain_handling << GN_SUBF_RH_SHIFT) & GN_SUBF_RH_MASK));
}

static gn_rerr filter_err(gn_err e)
{
    return e == GN_ERR_SHARE_NAME_INVALID ? GN_ROUTER_ERR_SHARE_NAME_INVALID
                                          : GN_ROUTER_ERR_FILTER_INVALID;
}

/* Called with wlock held after a successful change of a subscription on
 * filter f (split in r->wlv; the inner filter of "$share/..."). */
static void changed(gn_router *r, const uint8_t *f)
{
    /* release bumps: the change's publication before the new generations;
     * readers that see them (acquire) will not trust older cached results. */
    gn_gen_bump(&r->gens, f, &r->wlv);
    if (++r->ops % RECLAIM_EVERY == 0)
        gn_qsbr_poll(r->qsbr);
}

typedef struct session_key {
    uint64_t session;
} session_key;

static bool is_session(const gn_route_entry *e, const void *key)
{
    return !(e->flags & GN_SUBF_GROUP) && e->u.session == ((const session_key *)key)->session;
}

static gn_rerr plain_subscribe(gn_router *r, const uint8_t *f, size_t len, const gn_subscriber *who,
                               const gn_sub_opts *o, bool *replaced)
{
    if (gn_topic_split(f, len, &r->wlv) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    bool hash = gn_filter_ends_with_hash(f, &r->wlv);
    gn_route_entry e = {.sub_id = o->sub_id, .shard = who->shard, .flags = opts_flags(o)};
    e.u.session = who->session;
    gn_trie_path path;
    gn_rerr err = GN_ROUTER_OK;
    gn_locate_leaf lf = {.add = &e, .hash = hash};
    gn_node *n = gn_trie_locate_leaf(&r->trie, f, &r->wlv, r->wlv.count - hash, true, &path, &err,
                                     &lf);
    if (!n)
        return err;
    if (lf.added) { /* a new filter, stored inline in its parent's table */
        *replaced = false;
        r->subs++;
        return GN_ROUTER_OK;
    }
    session_key key = {who->session};
    int idx = gn_subs_find(gn_node_subs_w(n), hash, is_session, &key);
    err = gn_trie_node_put(&r->trie, n, hash, idx, &e);
    if (err) {
        gn_trie_prune(&r->trie, &path);
        return err;
    }
    *replaced = idx >= 0;
    r->subs += idx < 0;
    gn_trie_inline_leaf(&r->trie, &path);
    return GN_ROUTER_OK;
}

static gn_rerr group_subscribe(gn_router *r, const uint8_t *g, size_t glen, const uint8_t *f,
                               size_t flen, const gn_subscriber *who, const gn_sub_opts *o,
                               bool *replaced)
{
    if (gn_topic_split(f, flen, &r->wlv) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    gn_share_member m = {.session = who->session, .depth = who->queue_depth, .sub_id = o->sub_id,
                         .shard = who->shard, .qos = o->qos,
                         .flags = o->retain_as_published ? GN_SUBF_RAP : 0};
    uint64_t before = r->trie.entries;
    bool added = false;
    gn_rerr err = gn_share_join(&r->trie, f, &r->wlv, g, glen, &m, &added);
    if (err)
        return err;
    r->groups += r->trie.entries - before;
    r->subs += added;
    *replaced = !added;
    return GN_ROUTER_OK;
}

gn_rerr gn_router_subscribe(gn_router *r, const uint8_t *filter, size_t len,
                            const gn_subscriber *who, const gn_sub_opts *opts, bool *replaced)
{
    bool dummy;
    if (!replaced)
        replaced = &dummy;
    gn_rerr err = check_opts(opts);
    if (err)
        return err;
    gn_err ce = gn_topic_filter_check(filter, len);
    if (ce != GN_OK)
        return filter_err(ce);
    bool shared = false;
    const uint8_t *name = NULL, *inner = NULL;
    size_t name_len = 0, inner_len = 0;
    if (gn_share_parse(filter, len, &shared, &name, &name_len, &inner, &inner_len) != GN_OK)
        return GN_ROUTER_ERR_SHARE_NAME_INVALID;
    if (shared) {
        if (opts->no_local)
            return GN_ROUTER_ERR_SHARED_NO_LOCAL;
        ce = gn_topic_filter_check(inner, inner_len);
        if (ce != GN_OK)
            return filter_err(ce);
    }
    pthread_mutex_lock(&r->wlock);
    if (shared)
        /* group name "$share/{name}": the filter's own bytes up to the name's end */
        err = group_subscribe(r, filter, (size_t)(name + name_len - filter), inner, inner_len, who,
                              opts, replaced);
    else
        err = plain_subscribe(r, filter, len, who, opts, replaced);
    if (!err)
        changed(r, shared ? inner : filter);
    pthread_mutex_unlock(&r->wlock);
    return err;
}

gn_rerr gn_router_group_subscribe(gn_router *r, const uint8_t *group, size_t glen,
                                  const uint8_t *filter, size_t flen, const gn_subscriber *who,
                                  const gn_sub_opts *opts, bool *replaced)
{
    bool dummy;
    if (!replaced)
        replaced = &dummy;
    gn_rerr err = check_opts(opts);
    if (err)
        return err;
    if (opts->no_local)
        return GN_ROUTER_ERR_SHARED_NO_LOCAL;
    if (glen == 0 || glen > UINT16_MAX)
        return GN_ROUTER_ERR_SHARE_NAME_INVALID;
    gn_err ce = gn_topic_filter_check(filter, flen);
    if (ce != GN_OK)
        return filter_err(ce);
    pthread_mutex_lock(&r->wlock);
    err = group_subscribe(r, group, glen, filter, flen, who, opts, replaced);
    if (!err)
        changed(r, filter);
    pthread_mutex_unlock(&r->wlock);
    return err;
}

/* The session's entry in an inline leaf's chosen part, or -1. */
static int leaf_find(const gn_leaf *l, bool hash, uint64_t session)
{
    uint32_t from = hash ? 0 : l->nhash, to = hash ? l->nhash : l->n;
    session_key key = {session};
    for (uint32_t i = from; i < to; i++)
        if (is_session(&l->u.e[i], &key))
            return (int)(i - from);
    return -1;
}

static gn_rerr plain_unsubscribe(gn_router *r, const uint8_t *f, size_t len, uint64_t session)
{
    if (gn_topic_split(f, len, &r->wlv) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    bool hash = gn_filter_ends_with_hash(f, &r->wlv);
    gn_trie_path path;
    gn_rerr err = GN_ROUTER_OK;
    gn_locate_leaf lf = {0};
    gn_node *n = gn_trie_locate_leaf(&r->trie, f, &r->wlv, r->wlv.count - hash, false, &path, &err,
                                     &lf);
    if (!n)
        return err;
    int idx;
    if (lf.found) {
        idx = leaf_find(&lf.found->leaf, hash, session);
        if (idx < 0)
            return GN_ROUTER_ERR_NOT_FOUND;
        if (lf.found->leaf.n == 1) { /* its only entry: the leaf goes */
            gn_trie_leaf_remove(&r->trie, &path, lf.found);
            r->subs--;
            return GN_ROUTER_OK;
        }
        n = gn_trie_leaf_promote(&r->trie, &path, lf.found);
        if (!n)
            return GN_ROUTER_ERR_NOMEM;
    } else {
        session_key key = {session};
        idx = gn_subs_find(gn_node_subs_w(n), hash, is_session, &key);
        if (idx < 0)
            return GN_ROUTER_ERR_NOT_FOUND;
    }
    err = gn_trie_node_drop(&r->trie, n, hash, idx);
    if (err)
        return err;
    r->subs--;
    if (gn_node_subs_w(n)) /* still subscribed: prune leaves it and the path as they are */
        gn_trie_inline_leaf(&r->trie, &path);
    else
        gn_trie_prune(&r->trie, &path);
    return GN_ROUTER_OK;
}

static gn_rerr group_unsubscribe(gn_router *r, const uint8_t *g, size_t glen, const uint8_t *f,
                                 size_t flen, uint64_t session)
{
    if (gn_topic_split(f, flen, &r->wlv) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    uint64_t before = r->trie.entries;
    gn_share_group *dead = NULL;
    gn_rerr err = gn_share_leave(&r->trie, f, &r->wlv, g, glen, session, &dead);
    if (err)
        return err;
    if (dead) {
        /* release (as in changed()); it must precede the deferral so that a
         * reader past the grace period no longer trusts cached results that
         * point at this group. */
        gn_gen_bump(&r->gens, f, &r->wlv);
        gn_share_group_defer(&r->trie, dead);
    }
    r->groups -= before - r->trie.entries;
    r->subs--;
    return GN_ROUTER_OK;
}

gn_rerr gn_router_unsubscribe(gn_router *r, const uint8_t *filter, size_t len, uint64_t session)
{
    gn_err ce = gn_topic_filter_check(filter, len);
    if (ce != GN_OK)
        return filter_err(ce);
    bool shared = false;
    const uint8_t *name = NULL, *inner = NULL;
    size_t name_len = 0, inner_len = 0;
    if (gn_share_parse(filter, len, &shared, &name, &name_len, &inner, &inner_len) != GN_OK)
        return GN_ROUTER_ERR_SHARE_NAME_INVALID;
    if (shared && gn_topic_filter_check(inner, inner_len) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    pthread_mutex_lock(&r->wlock);
    gn_rerr err = shared ? group_unsubscribe(r, filter, (size_t)(name + name_len - filter), inner,
                                             inner_len, session)
                         : plain_unsubscribe(r, filter, len, session);
    if (!err)
        changed(r, shared ? inner : filter);
    pthread_mutex_unlock(&r->wlock);
    return err;
}

gn_rerr gn_router_group_unsubscribe(gn_router *r, const uint8_t *group, size_t glen,
                                    const uint8_t *filter, size_t flen, uint64_t session)
{
    gn_err ce = gn_topic_filter_check(filter, flen);
    if (ce != GN_OK)
        return filter_err(ce);
    pthread_mutex_lock(&r->wlock);
    gn_rerr err = group_unsubscribe(r, group, glen, filter, flen, session);
    if (!err)
        changed(r, filter);
    pthread_mutex_unlock(&r->wlock);
    return err;
}

/* ---------- match ---------- */

static bool grow(void **p, uint32_t *cap, uint32_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    uint32_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *n = realloc(*p, elem * c);
    if (!n)
        return false;
    *p = n;
    *cap = c;
    return true;
}

static void add_sub_id(gn_delivery *d, uint32_t id)
{
    if (!id)
        return;
    for (uint32_t i = 0; i < d->nsub_ids; i++)
        if (d->sub_ids[i] == id)
            return;
    if (d->nsub_ids == GN_ROUTE_MAX_SUB_IDS) {
        d->flags |= GN_DELIVER_SUBIDS_TRUNCATED;
        return;
    }
    d->sub_ids[d->nsub_ids++] = id;
}

static inline uint32_t session_slot(uint64_t s, uint32_t mask)
{
    return (uint32_t)((s * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

/* Entries -> one delivery per session (+ the matched groups), into rd->dv
 * and rd->gv. publisher != GN_ROUTER_NO_PUBLISHER drops that session's
 * no-local entries first. */
static gn_rerr build(gn_router_reader *rd, uint64_t publisher, uint32_t *nd_out, uint32_t *ng_out)
{
    const gn_route_entry *e = rd->ev.v;
    uint32_t n = rd->ev.n, nd = 0, ng = 0;
    if (!grow((void **)&rd->dv, &rd->dcap, n, sizeof *rd->dv) ||
        !grow((void **)&rd->gv, &rd->gcap, n, sizeof *rd->gv))
        return GN_ROUTER_ERR_NOMEM;
    uint32_t mask = 0;
    if (n > DEDUP_LINEAR_MAX) {
        uint32_t sz = 32;
        while (sz < 2 * n)
            sz *= 2;
        if (!grow((void **)&rd->idx, &rd->icap, sz, sizeof *rd->idx))
            return GN_ROUTER_ERR_NOMEM;
        memset(rd->idx, 0xff, sizeof *rd->idx * sz);
        mask = sz - 1;
    }
    for (uint32_t i = 0; i < n; i++) {
        const gn_route_entry *x = &e[i];
        if (x->flags & GN_SUBF_GROUP) {
            rd->gv[ng++] = x->u.group;
            continue;
        }
        bool nl = (x->flags & GN_SUBF_NO_LOCAL) != 0;
        if (nl && x->u.session == publisher)
            continue;
        gn_delivery *d = NULL;
        uint32_t *slot = NULL;
        if (mask) {
            for (uint32_t s = session_slot(x->u.session, mask);; s = (s + 1) & mask) {
                if (rd->idx[s] == UINT32_MAX) {
                    slot = &rd->idx[s];
                    break;
                }
                if (rd->dv[rd->idx[s]].session == x->u.session) {
                    d = &rd->dv[rd->idx[s]];
                    break;
                }
            }
        } else {
            for (uint32_t k = 0; k < nd; k++)
                if (rd->dv[k].session == x->u.session) {
                    d = &rd->dv[k];
                    break;
                }
        }
        uint8_t qos = x->flags & GN_SUBF_QOS_MASK;
        if (!d) {
            if (slot)
                *slot = nd;
            d = &rd->dv[nd++];
            d->session = x->u.session;
            d->shard = x->shard;
            d->qos = qos;
            d->flags = (uint8_t)(((x->flags & GN_SUBF_RAP) ? GN_DELIVER_RAP : 0) |
                                 (nl ? GN_DELIVER_NL_ALL | GN_DELIVER_NL_SOME : 0));
            d->nsub_ids = 0;
        } else {
            if (qos > d->qos)
                d->qos = qos;
            if (x->flags & GN_SUBF_RAP)
                d->flags |= GN_DELIVER_RAP;
            if (nl)
                d->flags |= GN_DELIVER_NL_SOME;
            else
                d->flags &= (uint8_t)~GN_DELIVER_NL_ALL;
        }
        add_sub_id(d, x->sub_id);
    }
    *nd_out = nd;
    *ng_out = ng;
    return GN_ROUTER_OK;
}

/* Does the publisher's own delivery mix no-local and other subscriptions
 * (so the cached, unfiltered merge cannot be used)? */
static bool needs_exact(const gn_delivery *d, uint32_t nd, uint64_t publisher)
{
    for (uint32_t i = 0; i < nd; i++)
        if (d[i].session == publisher)
            return (d[i].flags & (GN_DELIVER_NL_SOME | GN_DELIVER_NL_ALL)) == GN_DELIVER_NL_SOME;
    return false;
}

static gn_rerr emit(gn_router_reader *rd, const gn_delivery *d, uint32_t nd,
                    gn_share_group *const *g, uint32_t ng, uint64_t publisher, gn_delivery *out,
                    uint32_t cap, uint32_t *count)
{
    uint32_t k = 0;
    for (uint32_t i = 0; i < nd; i++) {
        if ((d[i].flags & GN_DELIVER_NL_ALL) && d[i].session == publisher)
            continue;
        if (k < cap) {
            out[k] = d[i];
            out[k].flags &= (uint8_t)~(GN_DELIVER_NL_ALL | GN_DELIVER_NL_SOME);
        }
        k++;
    }
    gn_router *r = rd->r;
    for (uint32_t i = 0; i < ng; i++) {
        /* acquire: the members array's contents before the pointer. */
        const gn_share_members *ms = atomic_load_explicit(&g[i]->members, memory_order_acquire);
        if (!ms || ms->n == 0)
            continue;
        if (k < cap) {
            const gn_share_member *m = r->cfg.share_pick(g[i], ms, rd->shard, r->cfg.share_hwm);
            gn_delivery *o = &out[k];
            o->session = m->session;
            o->shard = m->shard;
            o->qos = m->qos;
            o->flags = (uint8_t)(GN_DELIVER_SHARED | ((m->flags & GN_SUBF_RAP) ? GN_DELIVER_RAP : 0));
            o->nsub_ids = 0;
            if (m->sub_id)
                o->sub_ids[o->nsub_ids++] = m->sub_id;
        }
        k++;
    }
    *count = k;
    return k > cap ? GN_ROUTER_ERR_OUT_TOO_SMALL : GN_ROUTER_OK;
}

gn_rerr gn_router_match(gn_router_reader *rd, const uint8_t *topic, size_t len,
                        const gn_levels *levels, uint64_t publisher, gn_delivery *out,
                        uint32_t cap, uint32_t *count)
{
    gn_router *r = rd->r;
    rd->matches++;
    *count = 0;
    uint64_t h = 0;
    if (rd->cache) {
        h = levels ? levels->topic_hash : XXH3_64bits(topic, len);
        const gn_cache_entry *ce = gn_cache_get(rd->cache, h, topic, len, &r->gens);
        if (ce && !(ce->has_nl && publisher != GN_ROUTER_NO_PUBLISHER &&
                    needs_exact(gn_cache_deliv(ce), ce->ndeliv, publisher)))
            return emit(rd, gn_cache_deliv(ce), ce->ndeliv, gn_cache_groups(ce), ce->ngroups,
                        publisher, out, cap, count);
    }
    gn_levels *lv = (gn_levels *)levels; /* not written when hashed */
    bool hashed = levels != NULL;
    if (!levels) {
        if (!gn_trie_split_unhashed(topic, len, &rd->lv))
            return GN_ROUTER_ERR_TOPIC_INVALID;
        lv = &rd->lv;
    }
    /* the generations this result is computed under, loaded before the
     * walk (acquire inside: the walk sees every change they count) */
    gn_gen_tag tag;
    if (rd->cache)
        gn_gen_tag_for(&r->gens, topic, lv, &tag);
    rd->ev.n = 0;
    gn_rerr err = gn_trie_collect(&r->trie, topic, lv, hashed, &rd->ev);
    if (err)
        return err;
    uint32_t nd, ng;
    err = build(rd, GN_ROUTER_NO_PUBLISHER, &nd, &ng);
    if (err)
        return err;
    if (rd->cache)
        gn_cache_put(rd->cache, h, topic, len, &tag, rd->dv, nd, rd->gv, ng);
    if (publisher != GN_ROUTER_NO_PUBLISHER && needs_exact(rd->dv, nd, publisher)) {
        err = build(rd, publisher, &nd, &ng);
        if (err)
            return err;
    }
    return emit(rd, rd->dv, nd, rd->gv, ng, publisher, out, cap, count);
}

void gn_router_prefetch(gn_router_reader *rd, uint32_t n, const uint8_t *const *topics,
                        const gn_levels *const *levels)
{
    gn_trie_prefetch(&rd->r->trie, n, topics, levels);
}

/* ---------- retained ---------- */

gn_rerr gn_router_retain(gn_router *r, const uint8_t *topic, size_t len, void *msg,
                         gn_retained_free_fn free_fn)
{
    if (gn_topic_name_check(topic, len) != GN_OK)
        return GN_ROUTER_ERR_TOPIC_INVALID;
    pthread_mutex_lock(&r->wlock);
    gn_rerr err = GN_ROUTER_ERR_TOPIC_INVALID;
    if (gn_topic_split(topic, len, &r->wlv) == GN_OK)
        err = gn_retained_set(&r->ret, topic, &r->wlv, msg, free_fn);
    if (!err && ++r->ops % RECLAIM_EVERY == 0)
        gn_qsbr_poll(r->qsbr);
    pthread_mutex_unlock(&r->wlock);
    return err;
}

gn_rerr gn_router_retained_lookup(gn_router_reader *rd, const uint8_t *filter, size_t len,
                                  gn_retained_visit_fn visit, void *ctx, uint64_t *visited)
{
    *visited = 0;
    gn_err ce = gn_topic_filter_check(filter, len);
    if (ce != GN_OK)
        return filter_err(ce);
    bool shared = false;
    const uint8_t *name = NULL;
    size_t name_len = 0;
    const uint8_t *inner = NULL;
    size_t inner_len = 0;
    if (gn_share_parse(filter, len, &shared, &name, &name_len, &inner, &inner_len) != GN_OK)
        return GN_ROUTER_ERR_SHARE_NAME_INVALID;
    if (shared) {
        filter = inner;
        len = inner_len;
    }
    if (gn_topic_split(filter, len, &rd->lv) != GN_OK)
        return GN_ROUTER_ERR_FILTER_INVALID;
    *visited = gn_retained_lookup(&rd->r->ret, filter, &rd->lv, visit, ctx);
    return GN_ROUTER_OK;
}

/* ---------- reclamation and stats ---------- */

void gn_router_reclaim(gn_router *r) { gn_qsbr_poll(r->qsbr); }

void gn_router_synchronize(gn_router *r, gn_router_reader *self)
{
    gn_qsbr_synchronize(r->qsbr, self ? self->q : NULL);
}

void gn_router_defer_free(gn_router *r, gn_qsbr_free_fn fn, void *ctx, void *ptr)
{
    gn_qsbr_defer(r->qsbr, fn, ctx, ptr);
}

void gn_router_get_stats(gn_router *r, gn_router_stats *out)
{
    gn_qsbr_stats qs;
    gn_qsbr_get_stats(r->qsbr, &qs);
    pthread_mutex_lock(&r->wlock);
    out->nodes = r->trie.nodes;
    out->subscriptions = r->subs;
    out->groups = r->groups;
    out->retained = r->ret.count;
    out->retained_nodes = r->ret.nodes;
    out->generation = atomic_load_explicit(&r->gens.global, memory_order_relaxed); /* relaxed: statistic */
    pthread_mutex_unlock(&r->wlock);
    out->bytes = atomic_load_explicit(&r->mem.bytes, memory_order_relaxed); /* relaxed: statistic */
    out->reclaim_pending = qs.pending;
}

void gn_router_reader_get_stats(gn_router_reader *rd, gn_router_reader_stats *out)
{
    out->matches = rd->matches;
    out->cache_hits = rd->cache ? rd->cache->hits : 0;
    out->cache_misses = rd->cache ? rd->cache->misses : 0;
    out->cache_bytes = rd->cache ? rd->cache->bytes : 0;
}
