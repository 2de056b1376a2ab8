/* router/retained.c — retained-message trie: copy-on-write message holders,
 * in-place child tables, pruning of empty nodes, wildcard lookup. */
#include "router/retained.h"

#include <string.h>

/* ---------- reader ---------- */

static inline bool level_is(const uint8_t *f, const gn_levels *lv, uint32_t i, char c)
{
    return lv->len[i] == 1 && f[lv->start[i]] == (uint8_t)c;
}

static uint64_t emit(const gn_rnode *n, gn_retained_visit_fn visit, void *ctx)
{
    /* acquire: the holder's fields before the pointer. */
    const gn_rmsg *m = atomic_load_explicit(&n->msg, memory_order_acquire);
    if (!m)
        return 0;
    visit(ctx, m->msg);
    return 1;
}

/* Every message at or below n; at the root, skip '$' first levels. */
static uint64_t emit_all(const gn_rnode *n, bool root, gn_retained_visit_fn visit, void *ctx)
{
    uint64_t k = emit(n, visit, ctx);
    /* acquire: the table's slots before the table pointer. */
    const gn_ltab *t = atomic_load_explicit(&n->kids, memory_order_acquire);
    if (!t)
        return k;
    uint32_t pos = 0;
    const gn_rnode *c;
    while ((c = gn_ltab_iter(t, &pos)) != NULL) {
        if (root && c->len > 0 && c->label[0] == '$')
            continue;
        k += emit_all(c, false, visit, ctx);
    }
    return k;
}

static uint64_t walk(const gn_rnode *n, uint32_t i, const uint8_t *f, const gn_levels *lv,
                     gn_retained_visit_fn visit, void *ctx)
{
    bool root = i == 0;
    if (i == lv->count)
        return emit(n, visit, ctx);
    if (level_is(f, lv, i, '#'))
        /* "a/#" matches "a" too; the root itself never holds a message. */
        return emit_all(n, root, visit, ctx);
    /* acquire: the table's slots before the table pointer. */
    const gn_ltab *t = atomic_load_explicit(&n->kids, memory_order_acquire);
    if (!t)
        return 0;
    uint64_t k = 0;
    const gn_rnode *c;
    if (level_is(f, lv, i, '+')) {
        uint32_t pos = 0;
        while ((c = gn_ltab_iter(t, &pos)) != NULL) {
            if (root && c->len > 0 && c->label[0] == '$')
                continue;
            k += walk(c, i + 1, f, lv, visit, ctx);
        }
        return k;
    }
    uint32_t pos = gn_ltab_start(t, lv->hash[i]);
    while ((c = gn_ltab_next(t, lv->hash[i], &pos)) != NULL) {
        if (c->len == lv->len[i] && memcmp(c->label, f + lv->start[i], c->len) == 0)
            return walk(c, i + 1, f, lv, visit, ctx);
    }
    return 0;
}

uint64_t gn_retained_lookup(const gn_retained *rs, const uint8_t *filter, const gn_levels *flv,
                            gn_retained_visit_fn visit, void *ctx)
{
    return walk(rs->root, 0, filter, flv, visit, ctx);
}

/* ---------- writer ---------- */

static gn_rnode *rnode_new(gn_retained *rs, const uint8_t *label, uint32_t len)
{
    gn_rnode *n = gn_rmem_alloc(rs->mem, sizeof *n + len);
    if (!n)
        return NULL;
    atomic_init(&n->kids, NULL);
    atomic_init(&n->msg, NULL);
    n->len = (uint16_t)len;
    if (len)
        memcpy(n->label, label, len);
    rs->nodes++;
    return n;
}

static gn_rnode *child_w(gn_rnode *n, const uint8_t *topic, const gn_levels *lv, uint32_t i)
{
    gn_ltab *t = atomic_load_explicit(&n->kids, memory_order_relaxed); /* relaxed: writer-owned */
    if (!t)
        return NULL;
    uint32_t pos = gn_ltab_start(t, lv->hash[i]);
    gn_rnode *c;
    while ((c = gn_ltab_next(t, lv->hash[i], &pos)) != NULL)
        if (c->len == lv->len[i] && memcmp(c->label, topic + lv->start[i], c->len) == 0)
            return c;
    return NULL;
}

/* Runs after the grace period: engine destructor, then the holder. */
static void rmsg_free(void *ctx, void *p)
{
    gn_rmsg *m = p;
    if (m->free_fn)
        m->free_fn(m->msg);
    gn_rmem_free(ctx, m);
}

static bool rnode_empty(gn_rnode *n)
{
    /* relaxed: writer-owned. */
    return atomic_load_explicit(&n->msg, memory_order_relaxed) == NULL && gn_ltab_count(&n->kids) == 0;
}

/* Unlink empty nodes from the bottom of path[0..depth]. */
static void prune(gn_retained *rs, gn_rnode **path, const gn_levels *lv, uint32_t depth)
{
    for (uint32_t k = depth; k >= 1; k--) {
        gn_rnode *x = path[k];
        if (!rnode_empty(x))
            return;
        gn_ltab_del(&path[k - 1]->kids, lv->hash[k - 1], x, rs->mem, rs->qsbr);
        rs->nodes--;
        gn_qsbr_defer(rs->qsbr, gn_rmem_free_cb, rs->mem, x);
    }
}

gn_rerr gn_retained_set(gn_retained *rs, const uint8_t *topic, const gn_levels *lv, void *msg,
                        gn_retained_free_fn free_fn)
{
    gn_rnode *path[GN_TOPIC_MAX_LEVELS + 1];
    path[0] = rs->root;
    gn_rmsg *holder = NULL;
    if (msg) {
        holder = gn_rmem_alloc(rs->mem, sizeof *holder);
        if (!holder)
            return GN_ROUTER_ERR_NOMEM;
        holder->msg = msg;
        holder->free_fn = free_fn;
    }
    uint32_t i = 0;
    for (; i < lv->count; i++) {
        gn_rnode *c = child_w(path[i], topic, lv, i);
        if (!c) {
            if (!msg)
                return GN_ROUTER_ERR_NOT_FOUND;
            c = rnode_new(rs, topic + lv->start[i], lv->len[i]);
            if (!c || gn_ltab_add(&path[i]->kids, lv->hash[i], c, rs->mem, rs->qsbr) != GN_ROUTER_OK) {
                if (c) {
                    rs->nodes--;
                    gn_rmem_free(rs->mem, c);
                }
                gn_rmem_free(rs->mem, holder);
                prune(rs, path, lv, i);
                return GN_ROUTER_ERR_NOMEM;
            }
        }
        path[i + 1] = c;
    }
    gn_rnode *n = path[lv->count];
    gn_rmsg *old = atomic_load_explicit(&n->msg, memory_order_relaxed); /* relaxed: writer-owned */
    if (!msg && !old)
        return GN_ROUTER_ERR_NOT_FOUND;
    /* release: the holder's fields before the pointer (readers acquire). */
    atomic_store_explicit(&n->msg, holder, memory_order_release);
    if (old)
        gn_qsbr_defer(rs->qsbr, rmsg_free, rs->mem, old);
    rs->count += (holder != NULL) - (old != NULL);
    if (!msg)
        prune(rs, path, lv, lv->count);
    return GN_ROUTER_OK;
}

/* ---------- lifetime ---------- */

gn_rerr gn_retained_init(gn_retained *rs, gn_rmem *mem, gn_qsbr *qsbr)
{
    rs->mem = mem;
    rs->qsbr = qsbr;
    rs->count = 0;
    rs->nodes = 0;
    rs->root = rnode_new(rs, NULL, 0);
    return rs->root ? GN_ROUTER_OK : GN_ROUTER_ERR_NOMEM;
}

static void free_rec(gn_retained *rs, gn_rnode *n)
{
    /* relaxed everywhere: no reader is online any more. */
    gn_ltab *t = atomic_load_explicit(&n->kids, memory_order_relaxed);
    if (t) {
        uint32_t pos = 0;
        gn_rnode *c;
        while ((c = gn_ltab_iter(t, &pos)) != NULL)
            free_rec(rs, c);
        gn_rmem_free(rs->mem, t);
    }
    gn_rmsg *m = atomic_load_explicit(&n->msg, memory_order_relaxed); /* relaxed: no reader */
    if (m)
        rmsg_free(rs->mem, m);
    gn_rmem_free(rs->mem, n);
}

void gn_retained_fini(gn_retained *rs)
{
    if (rs->root)
        free_rec(rs, rs->root);
    rs->root = NULL;
}
