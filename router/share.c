/* router/share.c — shared groups: membership (copy-on-write, writer side)
 * and the member pickers (lock-free, reader side). */
#include "router/share.h"

#include <string.h>

/* ---------- pickers ---------- */

static inline uint32_t depth_of(const gn_share_member *m)
{
    /* relaxed: a load hint kept current by the engine; orders nothing. */
    return m->depth ? atomic_load_explicit(m->depth, memory_order_relaxed) : 0;
}

/* The (k mod count)-th member accepted by (local?, under the mark). The
 * depths may change between the counting pass and this one: fall back to
 * the last accepted member, or the first member. */
static const gn_share_member *nth(const gn_share_members *ms, bool local_only, uint16_t shard,
                                  uint32_t hwm, uint32_t k)
{
    const gn_share_member *last = NULL;
    for (uint32_t i = 0; i < ms->n; i++) {
        const gn_share_member *m = &ms->m[i];
        if ((local_only && m->shard != shard) || depth_of(m) >= hwm)
            continue;
        if (k == 0)
            return m;
        k--;
        last = m;
    }
    return last ? last : &ms->m[0];
}

static const gn_share_member *least_loaded(const gn_share_members *ms)
{
    const gn_share_member *best = &ms->m[0];
    uint32_t bd = depth_of(best);
    for (uint32_t i = 1; i < ms->n; i++) {
        uint32_t d = depth_of(&ms->m[i]);
        if (d < bd) {
            bd = d;
            best = &ms->m[i];
        }
    }
    return best;
}

static inline uint32_t ticket(gn_share_group *g)
{
    /* relaxed: tickets only need to be distinct (round robin). */
    return atomic_fetch_add_explicit(&g->rr, 1, memory_order_relaxed);
}

static inline uint32_t local_ticket(gn_share_group *g, uint16_t shard)
{
    /* relaxed: as ticket(). */
    return atomic_fetch_add_explicit(&g->rr_local[shard % GN_SHARE_RR_SHARDS], 1,
                                     memory_order_relaxed);
}

const gn_share_member *gn_share_pick_local_rr(gn_share_group *g, const gn_share_members *ms,
                                              uint16_t shard, uint32_t hwm)
{
    if (ms->n == 1)
        return &ms->m[0];
    uint32_t local = 0, any = 0;
    for (uint32_t i = 0; i < ms->n; i++) {
        if (depth_of(&ms->m[i]) >= hwm)
            continue;
        any++;
        local += ms->m[i].shard == shard;
    }
    if (local)
        return nth(ms, true, shard, hwm, local_ticket(g, shard) % local);
    if (any)
        return nth(ms, false, shard, hwm, ticket(g) % any);
    return least_loaded(ms);
}

const gn_share_member *gn_share_pick_rr(gn_share_group *g, const gn_share_members *ms,
                                        uint16_t shard, uint32_t hwm)
{
    if (ms->n == 1)
        return &ms->m[0];
    uint32_t any = 0;
    for (uint32_t i = 0; i < ms->n; i++)
        any += depth_of(&ms->m[i]) < hwm;
    if (any)
        return nth(ms, false, shard, hwm, ticket(g) % any);
    return least_loaded(ms);
}

/* ---------- membership (writer) ---------- */

typedef struct name_key {
    const uint8_t *s;
    size_t n;
} name_key;

static bool is_group_named(const gn_route_entry *e, const void *key)
{
    const name_key *k = key;
    return (e->flags & GN_SUBF_GROUP) && e->u.group->name_len == k->n &&
           memcmp(e->u.group->name, k->s, k->n) == 0;
}

static gn_share_members *members_w(gn_share_group *g)
{
    return atomic_load_explicit(&g->members, memory_order_relaxed); /* relaxed: writer-owned */
}

void gn_share_group_free_now(gn_rmem *m, gn_share_group *g)
{
    gn_rmem_free(m, members_w(g));
    gn_rmem_free(m, g);
}

static void publish_members(gn_trie *t, gn_share_group *g, gn_share_members *nm)
{
    gn_share_members *old = members_w(g);
    /* release: the array's contents before the pointer (pickers acquire). */
    atomic_store_explicit(&g->members, nm, memory_order_release);
    if (old)
        gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, old);
}

gn_rerr gn_share_join(gn_trie *t, const uint8_t *filter, const gn_levels *lv, const uint8_t *name,
                      size_t name_len, const gn_share_member *mb, bool *added)
{
    if (name_len == 0 || name_len > UINT16_MAX)
        return GN_ROUTER_ERR_SHARE_NAME_INVALID;
    bool hash = gn_filter_ends_with_hash(filter, lv);
    gn_trie_path path;
    gn_rerr err = GN_ROUTER_OK;
    gn_node *n = gn_trie_locate(t, filter, lv, lv->count - hash, true, &path, &err);
    if (!n)
        return err;
    name_key key = {name, name_len};
    int idx = gn_subs_find(gn_node_subs_w(n), hash, is_group_named, &key);
    if (idx < 0) {
        gn_share_group *g = gn_rmem_alloc(t->mem, sizeof *g + name_len);
        gn_share_members *ms = gn_rmem_alloc(t->mem, sizeof *ms + sizeof *mb);
        if (!g || !ms) {
            gn_rmem_free(t->mem, g);
            gn_rmem_free(t->mem, ms);
            gn_trie_prune(t, &path);
            return GN_ROUTER_ERR_NOMEM;
        }
        ms->n = 1;
        ms->m[0] = *mb;
        atomic_init(&g->members, ms);
        atomic_init(&g->rr, 0);
        for (uint32_t k = 0; k < GN_SHARE_RR_SHARDS; k++)
            atomic_init(&g->rr_local[k], 0);
        g->name_len = (uint16_t)name_len;
        memcpy(g->name, name, name_len);
        gn_route_entry e = {.flags = GN_SUBF_GROUP};
        e.u.group = g;
        err = gn_trie_node_put(t, n, hash, -1, &e);
        if (err) {
            gn_share_group_free_now(t->mem, g);
            gn_trie_prune(t, &path);
            return err;
        }
        *added = true;
        return GN_ROUTER_OK;
    }
    const gn_subs *s = gn_node_subs_w(n);
    gn_share_group *g = s->e[(hash ? 0 : s->nhash) + (uint32_t)idx].u.group;
    gn_share_members *old = members_w(g);
    uint32_t at = old->n;
    for (uint32_t i = 0; i < old->n; i++)
        if (old->m[i].session == mb->session)
            at = i;
    uint32_t nn = at == old->n ? old->n + 1 : old->n;
    gn_share_members *nm = gn_rmem_alloc(t->mem, sizeof *nm + sizeof *mb * nn);
    if (!nm)
        return GN_ROUTER_ERR_NOMEM;
    nm->n = nn;
    memcpy(nm->m, old->m, sizeof *mb * old->n);
    nm->m[at] = *mb;
    publish_members(t, g, nm);
    *added = at == old->n;
    return GN_ROUTER_OK;
}

void gn_share_group_defer(gn_trie *t, gn_share_group *g)
{
    gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, members_w(g));
    gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, g);
}

gn_rerr gn_share_leave(gn_trie *t, const uint8_t *filter, const gn_levels *lv, const uint8_t *name,
                       size_t name_len, uint64_t session, gn_share_group **dead)
{
    *dead = NULL;
    bool hash = gn_filter_ends_with_hash(filter, lv);
    gn_trie_path path;
    gn_rerr err = GN_ROUTER_OK;
    gn_node *n = gn_trie_locate(t, filter, lv, lv->count - hash, false, &path, &err);
    if (!n)
        return err;
    name_key key = {name, name_len};
    int idx = gn_subs_find(gn_node_subs_w(n), hash, is_group_named, &key);
    if (idx < 0)
        return GN_ROUTER_ERR_NOT_FOUND;
    const gn_subs *s = gn_node_subs_w(n);
    gn_share_group *g = s->e[(hash ? 0 : s->nhash) + (uint32_t)idx].u.group;
    gn_share_members *old = members_w(g);
    uint32_t at = old->n;
    for (uint32_t i = 0; i < old->n; i++)
        if (old->m[i].session == session)
            at = i;
    if (at == old->n)
        return GN_ROUTER_ERR_NOT_FOUND;
    if (old->n == 1) {
        err = gn_trie_node_drop(t, n, hash, idx);
        if (err)
            return err;
        /* Unlinked from the trie; the caller defers it after bumping the
         * generation (see share.h). */
        *dead = g;
        gn_trie_prune(t, &path);
        return GN_ROUTER_OK;
    }
    gn_share_members *nm = gn_rmem_alloc(t->mem, sizeof *nm + sizeof(gn_share_member) * (old->n - 1));
    if (!nm)
        return GN_ROUTER_ERR_NOMEM;
    nm->n = old->n - 1;
    memcpy(nm->m, old->m, sizeof(gn_share_member) * at);
    memcpy(nm->m + at, old->m + at + 1, sizeof(gn_share_member) * (old->n - at - 1));
    publish_members(t, g, nm);
    return GN_ROUTER_OK;
}
