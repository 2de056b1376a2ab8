/* router/trie.c — the subscription trie: lock-free matching (readers) and
 * copy-on-write insert / split / remove / merge (the single writer). */
#include "router/trie.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL /* level hashes on the match path: short inputs, no call */
#include <xxhash.h>

/* ---------- labels ---------- */

/* Length of the level starting at label[pos] (up to the next '/'). */
static inline uint32_t seg_len(const uint8_t *label, uint32_t len, uint32_t pos)
{
    const uint8_t *p = memchr(label + pos, '/', len - pos);
    return p ? (uint32_t)(p - (label + pos)) : len - pos;
}

static inline bool seg_is_plus(const uint8_t *s, uint32_t n)
{
    return n == 1 && s[0] == '+';
}

static uint64_t first_level_hash(const gn_node *n)
{
    return gn_level_hash(n->label, seg_len(n->label, n->len, 0));
}

static bool first_is_plus(const gn_node *n)
{
    return seg_is_plus(n->label, seg_len(n->label, n->len, 0));
}

/* Is some level of the label exactly '+'? */
static bool label_has_plus(const uint8_t *label, uint32_t len)
{
    for (uint32_t pos = 0; pos <= len;) {
        uint32_t sl = seg_len(label, len, pos);
        if (seg_is_plus(label + pos, sl))
            return true;
        pos += sl + 1;
    }
    return false;
}

/* a[0..n) == b[0..n) for the short spans of labels and levels: word
 * compares (never reading outside either span) instead of a memcmp call. */
static inline bool bytes_eq(const uint8_t *a, const uint8_t *b, uint32_t n)
{
    uint64_t x, y;
    if (n >= 8) {
        for (; n > 8; n -= 8, a += 8, b += 8) {
            memcpy(&x, a, 8);
            memcpy(&y, b, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8); /* the last 8 bytes (overlapping) */
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t u, v, w, z;
        memcpy(&u, a, 4);
        memcpy(&v, b, 4);
        memcpy(&w, a + n - 4, 4);
        memcpy(&z, b + n - 4, 4);
        return u == v && w == z;
    }
    for (uint32_t k = 0; k < n; k++)
        if (a[k] != b[k])
            return false;
    return true;
}

/* Does an edge label of nlevels levels match topic levels [i, i + nlevels)? */
static inline bool label_matches(const uint8_t *lab, uint32_t len, uint32_t nlevels, bool wild,
                                 const uint8_t *topic, const gn_levels *lv, uint32_t i)
{
    if (i + nlevels > lv->count)
        return false;
    if (!wild) {
        /* literal levels: '/' separators line up, so one compare of the
         * topic's byte span does it */
        uint32_t last = i + nlevels - 1;
        uint32_t span = (uint32_t)lv->start[last] + lv->len[last] - lv->start[i];
        return span == len && bytes_eq(lab, topic + lv->start[i], span);
    }
    /* Walk the label guided by the topic's level lengths: a label level is
     * either '+' (alone) or must equal the topic level and be followed by
     * '/' or the end. No scan for separators needed. */
    uint32_t pos = 0;
    for (uint32_t j = 0; j < nlevels; j++) {
        uint32_t rem = len - pos;
        const uint8_t *lp = lab + pos;
        if (rem >= 1 && lp[0] == '+' && (rem == 1 || lp[1] == '/')) {
            pos += 2;
            continue;
        }
        uint32_t tl = lv->len[i + j];
        if (tl > rem || (tl < rem && lp[tl] != '/') || !bytes_eq(lp, topic + lv->start[i + j], tl))
            return false;
        pos += tl + 1;
    }
    return true;
}

static inline bool edge_matches(const gn_node *c, const uint8_t *topic, const gn_levels *lv,
                                uint32_t i)
{
    return label_matches(c->label, c->len, c->nlevels, c->flags & GN_NODE_WILD, topic, lv, i);
}

static inline bool leaf_matches(const gn_leaf *l, const uint8_t *topic, const gn_levels *lv,
                                uint32_t i)
{
    return label_matches(gn_leaf_label(l), l->len, l->nlevels, l->flags & GN_NODE_WILD, topic, lv,
                         i);
}

/* ---------- reader ---------- */

static gn_rerr vec_push(gn_entry_vec *out, const gn_route_entry *e, uint32_t n)
{
    if (out->n + n > out->cap) {
        uint32_t cap = out->cap ? out->cap : 16;
        while (cap < out->n + n)
            cap *= 2;
        gn_route_entry *v = realloc(out->v, sizeof *v * cap);
        if (!v)
            return GN_ROUTER_ERR_NOMEM;
        out->v = v;
        out->cap = cap;
    }
    memcpy(out->v + out->n, e, sizeof *e * n);
    out->n += n;
    return GN_ROUTER_OK;
}

/* An inline leaf reached with levels [0, i) consumed. */
static gn_rerr leaf_collect(const gn_leaf *l, uint32_t i, const gn_levels *lv, gn_entry_vec *out)
{
    gn_rerr err = GN_ROUTER_OK;
    if (l->nhash)
        err = vec_push(out, l->u.e, l->nhash);               /* "<prefix>/#" */
    if (!err && i == lv->count && l->n > l->nhash)
        err = vec_push(out, l->u.e + l->nhash, (uint32_t)(l->n - l->nhash));
    return err;
}

/* One match: the topic, its levels and where entries go. With `hashed`
 * false the level hashes are computed when a child table needs them
 * (most levels of a topic are consumed by multi-level edges or '+' and
 * never looked up) and remembered for levels < 64 in `known`. */
typedef struct walk_ctx {
    const uint8_t *topic;
    gn_levels *lv;
    gn_entry_vec *out;
    bool hashed;
    uint64_t known;
} walk_ctx;

static inline uint64_t level_hash(walk_ctx *w, uint32_t i)
{
    gn_levels *lv = w->lv;
    if (w->hashed)
        return lv->hash[i];
    if (i < 64 && (w->known >> i & 1))
        return lv->hash[i];
    /* the same function as gn_level_hash (codec/topic.h), inlined */
    uint64_t h = XXH3_64bits(w->topic + lv->start[i], lv->len[i]);
    if (i < 64) {
        lv->hash[i] = h;
        w->known |= 1ull << i;
    }
    return h;
}

static gn_rerr walk(walk_ctx *w, const gn_node *n, uint32_t i, bool dollar_root)
{
    const gn_levels *lv = w->lv;
    const uint8_t *topic = w->topic;
    gn_entry_vec *out = w->out;
    /* acquire: the array's contents were written before its publication. */
    const gn_subs *s = atomic_load_explicit(&n->subs, memory_order_acquire);
    if (s) {
        gn_rerr err = GN_ROUTER_OK;
        if (s->nhash && !dollar_root)
            err = vec_push(out, s->e, s->nhash);             /* "<prefix>/#" */
        if (!err && i == lv->count && s->n > s->nhash)
            err = vec_push(out, s->e + s->nhash, s->n - s->nhash);
        if (err)
            return err;
    }
    if (i == lv->count)
        return GN_ROUTER_OK;
    /* acquire: the table's cells were written before the table pointer. */
    const gn_ctab *kt = atomic_load_explicit(&n->kids, memory_order_acquire);
    if (kt) {
        uint64_t h = level_hash(w, i);
        uint32_t pos = gn_ctab_start(kt, h);
        /* a probe often continues into the next cells: fetch those lines at once */
        __builtin_prefetch(&kt->c[(pos + 1) & kt->mask]);
        __builtin_prefetch(&kt->c[(pos + 2) & kt->mask]);
        const gn_ccell *cell;
        void *x;
        while ((cell = gn_ctab_next(kt, h, &pos, &x)) != NULL) {
            if (x == GN_CTAB_LEAF) {
                if (leaf_matches(&cell->leaf, topic, lv, i)) {
                    gn_rerr err = leaf_collect(&cell->leaf, i + cell->leaf.nlevels, lv, out);
                    if (err)
                        return err;
                    break;
                }
                continue;
            }
            const gn_node *c = x;
            if (edge_matches(c, topic, lv, i)) {
                gn_rerr err = walk(w, c, i + c->nlevels, false);
                if (err)
                    return err;
                break;      /* at most one literal child has this level's bytes */
            }
        }
    }
    if (!dollar_root) {
        /* acquire: the child's contents before the pointer. */
        const gn_node *p = atomic_load_explicit(&n->plus, memory_order_acquire);
        if (p && edge_matches(p, topic, lv, i))
            return walk(w, p, i + p->nlevels, false);
    }
    return GN_ROUTER_OK;
}

gn_rerr gn_trie_collect(const gn_trie *t, const uint8_t *topic, gn_levels *lv, bool hashed,
                        gn_entry_vec *out)
{
    bool dollar = lv->count > 0 && lv->len[0] > 0 && topic[lv->start[0]] == '$';
    walk_ctx w = {topic, lv, out, hashed, 0};
    return walk(&w, t->root, 0, dollar);
}

bool gn_trie_split_unhashed(const uint8_t *topic, size_t len, gn_levels *lv)
{
    if (len == 0 || len > UINT16_MAX)
        return false;
    uint32_t n = 0, start = 0;
    /* '/' found 8 bytes at a time: per byte, b ^ '/' is zero exactly at a
     * separator; the usual exact zero-byte test marks those bytes' top bit */
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    size_t k = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    for (; k + 8 <= len; k += 8) {
        uint64_t w;
        memcpy(&w, topic + k, 8);
        uint64_t x = w ^ ('/' * ones);
        uint64_t z = ~(((x & ~high) + ~high) | x) & high;
        while (z) {
            uint32_t stop = (uint32_t)(k + (size_t)(__builtin_ctzll(z) >> 3));
            if (n == GN_TOPIC_MAX_LEVELS - 1)
                return false;
            lv->start[n] = (uint16_t)start;
            lv->len[n] = (uint16_t)(stop - start);
            n++;
            start = stop + 1;
            z &= z - 1;
        }
    }
#endif
    for (; k < len; k++) {
        if (topic[k] != '/')
            continue;
        if (n == GN_TOPIC_MAX_LEVELS - 1)
            return false;
        lv->start[n] = (uint16_t)start;
        lv->len[n] = (uint16_t)(k - start);
        n++;
        start = (uint32_t)k + 1;
    }
    lv->start[n] = (uint16_t)start;
    lv->len[n] = (uint16_t)(len - start);
    lv->count = n + 1;
    lv->topic_hash = 0;
    return true;
}

/* ---------- reader: batched prefetch ---------- */

typedef struct pf_state {
    const gn_node *n;       /* current node; NULL when this topic is done */
    const gn_ctab *kt;      /* step 2: table whose cell was prefetched */
    const gn_node *c;       /* step 3: child whose memory was prefetched */
    uint32_t i;             /* levels consumed */
} pf_state;

/* One step of topic k's literal walk; false when it is over. Each step
 * touches only memory the previous step prefetched, then prefetches the
 * next: 1 table cell, 2 child node (an inline leaf ends the walk: it was
 * the cell), 3 edge check + subscriber array. */
static bool pf_step(pf_state *s, const uint8_t *topic, const gn_levels *l)
{
    if (s->c) {
        const gn_node *c = s->c;
        s->c = NULL;
        if (!edge_matches(c, topic, l, s->i))
            return false;
        /* acquire: as in walk(). */
        const gn_subs *sb = atomic_load_explicit(&c->subs, memory_order_acquire);
        if (sb)
            __builtin_prefetch(sb);
        s->i += c->nlevels;
        s->n = c;
        return s->i < l->count;
    }
    uint64_t h = l->hash[s->i];
    if (s->kt) {
        uint32_t pos = gn_ctab_start(s->kt, h);
        void *x = NULL;
        const gn_ccell *cell = gn_ctab_next(s->kt, h, &pos, &x);
        s->kt = NULL;
        if (!cell || x == GN_CTAB_LEAF)
            return false;
        s->c = x;
        __builtin_prefetch(s->c);
        __builtin_prefetch((const uint8_t *)s->c + 64);
        return true;
    }
    /* acquire: as in walk(). */
    s->kt = atomic_load_explicit(&s->n->kids, memory_order_acquire);
    if (!s->kt)
        return false;
    uint32_t home = gn_ctab_start(s->kt, h);
    __builtin_prefetch(&s->kt->c[home]);
    __builtin_prefetch(&s->kt->c[(home + 1) & s->kt->mask]);
    return true;
}

void gn_trie_prefetch(const gn_trie *t, uint32_t n, const uint8_t *const *topics,
                      const gn_levels *const *lv)
{
    pf_state st[GN_TRIE_PREFETCH_MAX];
    bool on[GN_TRIE_PREFETCH_MAX];
    if (n > GN_TRIE_PREFETCH_MAX)
        n = GN_TRIE_PREFETCH_MAX;
    for (uint32_t k = 0; k < n; k++) {
        st[k] = (pf_state){t->root, NULL, NULL, 0};
        on[k] = lv[k]->count > 0;
    }
    for (uint32_t live = n; live;) {
        live = 0;
        for (uint32_t k = 0; k < n; k++) {
            if (on[k] && !pf_step(&st[k], topics[k], lv[k]))
                on[k] = false;
            live += on[k];
        }
    }
}

/* ---------- writer: nodes ---------- */

static gn_node *node_new(gn_trie *t, const uint8_t *label, uint32_t len, uint32_t nlevels)
{
    gn_node *n = gn_rmem_alloc(t->mem, sizeof *n + len);
    if (!n)
        return NULL;
    atomic_init(&n->kids, NULL);
    atomic_init(&n->plus, NULL);
    atomic_init(&n->subs, NULL);
    n->nlevels = (uint8_t)nlevels;
    n->len = (uint16_t)len;
    n->flags = 0;
    if (len)
        memcpy(n->label, label, len);
    if (nlevels && label_has_plus(n->label, len))
        n->flags = GN_NODE_WILD;
    t->nodes++;
    return n;
}

/* Free a node's own memory only (its tables/arrays may live on elsewhere). */
static void node_defer_shell(gn_trie *t, gn_node *n)
{
    t->nodes--;
    gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, n);
}

/* Attach child c under p (not yet visible to readers before this call). */
static gn_rerr attach(gn_trie *t, gn_node *p, gn_node *c)
{
    if (first_is_plus(c)) {
        /* release: c's contents before the pointer. */
        atomic_store_explicit(&p->plus, c, memory_order_release);
        return GN_ROUTER_OK;
    }
    return gn_ctab_add(&p->kids, first_level_hash(c), c, t->mem, t->qsbr);
}

/* Put `to` where `from` hangs under p (same first level). */
static void relink(gn_node *p, gn_node *from, gn_node *to)
{
    if (first_is_plus(from)) {
        /* release: `to`'s contents before the pointer. */
        atomic_store_explicit(&p->plus, to, memory_order_release);
    } else {
        gn_ctab_replace(&p->kids, first_level_hash(from), from, to);
    }
}

static void unlink_child(gn_trie *t, gn_node *p, gn_node *c)
{
    if (first_is_plus(c))
        /* release: symmetric with attach (readers then see no child). */
        atomic_store_explicit(&p->plus, NULL, memory_order_release);
    else
        gn_ctab_del(&p->kids, first_level_hash(c), c, t->mem, t->qsbr);
}

/* Byte offset in label after `k` levels (k <= nlevels). */
static uint32_t label_offset(const gn_node *n, uint32_t k)
{
    uint32_t pos = 0;
    for (uint32_t j = 0; j < k; j++)
        pos += seg_len(n->label, n->len, pos) + 1;
    return pos;
}

/* Levels shared by a label and filter levels [i, npath) (structural:
 * '+' equals only '+'). Guided by the filter's level lengths as in
 * label_matches: a label level equals the filter level iff the bytes match
 * and are followed by '/' or the end of the label. */
static uint32_t common_label_levels(const uint8_t *label, uint32_t len, uint32_t nlevels,
                                    const uint8_t *f, const gn_levels *lv, uint32_t i,
                                    uint32_t npath)
{
    uint32_t pos = 0, m = 0;
    while (m < nlevels && i + m < npath) {
        uint32_t rem = len - pos, fl = lv->len[i + m];
        const uint8_t *lp = label + pos;
        if (fl > rem || (fl < rem && lp[fl] != '/') || memcmp(lp, f + lv->start[i + m], fl) != 0)
            break;
        pos += fl + 1;
        m++;
    }
    return m;
}

static uint32_t common_levels(const gn_node *c, const uint8_t *f, const gn_levels *lv, uint32_t i,
                              uint32_t npath)
{
    return common_label_levels(c->label, c->len, c->nlevels, f, lv, i, npath);
}

/* Writer: turn the inline leaf in `cell` into a gn_node in the same cell
 * (router/ctab.h). NULL when out of memory (nothing changed). */
static gn_node *promote(gn_trie *t, gn_ccell *cell)
{
    const gn_leaf *l = &cell->leaf;
    gn_node *n = node_new(t, gn_leaf_label(l), l->len, l->nlevels);
    if (!n)
        return NULL;
    t->nodes--; /* the leaf was already counted */
    gn_subs *s = gn_rmem_alloc(t->mem, sizeof *s + sizeof(gn_route_entry) * l->n);
    if (!s) {
        gn_rmem_free(t->mem, n);
        return NULL;
    }
    s->n = l->n;
    s->nhash = l->nhash;
    memcpy(s->e, l->u.e, sizeof(gn_route_entry) * l->n);
    atomic_init(&n->subs, s);
    gn_ctab_set(cell, n);
    return n;
}

/* Writer: the gn_node for a cell's child x, promoting an inline leaf. */
static gn_node *cell_node(gn_trie *t, gn_ccell *cell, void *x)
{
    return x == GN_CTAB_LEAF ? promote(t, cell) : x;
}

/* Split c (child of p) after m levels: p -> top(m levels) -> bottom(rest),
 * bottom inheriting c's tables and subscribers. Returns top. */
static gn_node *split(gn_trie *t, gn_node *p, gn_node *c, uint32_t m)
{
    uint32_t off = label_offset(c, m);
    gn_node *top = node_new(t, c->label, off - 1, m);
    gn_node *bot = top ? node_new(t, c->label + off, c->len - off, c->nlevels - m) : NULL;
    if (!bot) {
        if (top) {
            t->nodes--;
            gn_rmem_free(t->mem, top);
        }
        return NULL;
    }
    /* relaxed loads: writer-owned fields; the stores into `bot` are
     * published by the release store that makes `top` (and bot) reachable. */
    atomic_store_explicit(&bot->kids, atomic_load_explicit(&c->kids, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&bot->plus, atomic_load_explicit(&c->plus, memory_order_relaxed),
                          memory_order_relaxed);
    atomic_store_explicit(&bot->subs, atomic_load_explicit(&c->subs, memory_order_relaxed),
                          memory_order_relaxed);
    if (attach(t, top, bot) != GN_ROUTER_OK) {
        t->nodes -= 2;
        gn_rmem_free(t->mem, bot);
        gn_rmem_free(t->mem, top);
        return NULL;
    }
    relink(p, c, top);
    node_defer_shell(t, c);
    return top;
}

/* A new inline leaf holding only entry lf->add for filter levels [i, npath)
 * under n, when they fit (see gn_trie_locate_leaf). */
static bool add_new_leaf(gn_trie *t, gn_node *n, const uint8_t *f, const gn_levels *lv, uint32_t i,
                         uint32_t npath, gn_locate_leaf *lf, gn_rerr *err)
{
    uint32_t from = lv->start[i];
    uint32_t len = lv->start[npath - 1] + lv->len[npath - 1] - from;
    if (seg_is_plus(f + from, lv->len[i]) || !gn_leaf_fits(1, len) ||
        (lf->add->flags & GN_SUBF_GROUP))
        return false;
    gn_leaf img;
    memset(&img, 0, sizeof img);
    img.nlevels = (uint8_t)(npath - i);
    img.flags = label_has_plus(f + from, len) ? GN_NODE_WILD : 0;
    img.n = 1;
    img.nhash = lf->hash;
    img.len = (uint8_t)len;
    img.u.e[0] = *lf->add;
    memcpy(img.u.b + sizeof(gn_route_entry), f + from, len);
    *err = gn_ctab_add_leaf(&n->kids, lv->hash[i], &img, t->mem, t->qsbr);
    if (*err == GN_ROUTER_OK) {
        t->nodes++;
        t->entries++;
        lf->added = true;
    }
    return true;
}

gn_node *gn_trie_locate_leaf(gn_trie *t, const uint8_t *f, const gn_levels *lv, uint32_t npath,
                             bool create, gn_trie_path *path, gn_rerr *err, gn_locate_leaf *lf)
{
    gn_node *n = t->root;
    uint32_t i = 0;
    path->depth = 0;
    path->n[0] = n;
    while (i < npath) {
        gn_node *c = NULL;
        if (seg_is_plus(f + lv->start[i], lv->len[i])) {
            c = atomic_load_explicit(&n->plus, memory_order_relaxed); /* relaxed: writer-owned */
        } else {
            gn_ctab *kt = atomic_load_explicit(&n->kids, memory_order_relaxed); /* relaxed: writer-owned */
            if (kt) {
                uint32_t pos = gn_ctab_start(kt, lv->hash[i]);
                gn_ccell *cell;
                void *x;
                while ((cell = (gn_ccell *)gn_ctab_next(kt, lv->hash[i], &pos, &x)) != NULL) {
                    if (x != GN_CTAB_LEAF) {
                        if (common_levels(x, f, lv, i, i + 1) == 1) {
                            c = x;
                            break;
                        }
                        continue;
                    }
                    const gn_leaf *l = &cell->leaf;
                    const uint8_t *lab = gn_leaf_label(l);
                    if (common_label_levels(lab, l->len, l->nlevels, f, lv, i, i + 1) != 1)
                        continue;
                    if (!create) {
                        /* a leaf has no children: it is the target or nothing is */
                        if (i + l->nlevels != npath ||
                            common_label_levels(lab, l->len, l->nlevels, f, lv, i, npath) !=
                                l->nlevels) {
                            *err = GN_ROUTER_ERR_NOT_FOUND;
                            return NULL;
                        }
                        if (lf) {
                            lf->found = cell;
                            return n;
                        }
                    }
                    c = promote(t, cell);
                    if (!c) {
                        *err = GN_ROUTER_ERR_NOMEM;
                        return NULL;
                    }
                    break;
                }
            }
        }
        if (!c) {
            if (!create) {
                *err = GN_ROUTER_ERR_NOT_FOUND;
                return NULL;
            }
            if (lf && lf->add && add_new_leaf(t, n, f, lv, i, npath, lf, err))
                return *err == GN_ROUTER_OK ? n : NULL;
            uint32_t from = lv->start[i];
            uint32_t to = lv->start[npath - 1] + lv->len[npath - 1];
            c = node_new(t, f + from, to - from, npath - i);
            if (!c || attach(t, n, c) != GN_ROUTER_OK) {
                if (c) {
                    t->nodes--;
                    gn_rmem_free(t->mem, c);
                }
                *err = GN_ROUTER_ERR_NOMEM;
                return NULL;
            }
            path->n[++path->depth] = c;
            return c;
        }
        uint32_t m = common_levels(c, f, lv, i, npath);
        if (m < c->nlevels) {
            if (!create) {
                *err = GN_ROUTER_ERR_NOT_FOUND;
                return NULL;
            }
            c = split(t, n, c, m);
            if (!c) {
                *err = GN_ROUTER_ERR_NOMEM;
                return NULL;
            }
        }
        path->n[++path->depth] = c;
        n = c;
        i += m;
    }
    return n;
}

gn_node *gn_trie_locate(gn_trie *t, const uint8_t *f, const gn_levels *lv, uint32_t npath,
                        bool create, gn_trie_path *path, gn_rerr *err)
{
    return gn_trie_locate_leaf(t, f, lv, npath, create, path, err, NULL);
}

void gn_trie_leaf_remove(gn_trie *t, gn_trie_path *path, gn_ccell *cell)
{
    gn_ctab_del_cell(&path->n[path->depth]->kids, cell, t->mem, t->qsbr);
    t->nodes--;
    t->entries--;
    gn_trie_prune(t, path);
}

gn_node *gn_trie_leaf_promote(gn_trie *t, gn_trie_path *path, gn_ccell *cell)
{
    gn_node *n = promote(t, cell);
    if (n)
        path->n[++path->depth] = n;
    return n;
}

/* ---------- writer: subscriber arrays ---------- */

bool gn_filter_ends_with_hash(const uint8_t *f, const gn_levels *lv)
{
    uint32_t k = lv->count - 1;
    return lv->count > 0 && lv->len[k] == 1 && f[lv->start[k]] == '#';
}

int gn_subs_find(const gn_subs *s, bool hash, bool (*match)(const gn_route_entry *, const void *),
                 const void *key)
{
    if (!s)
        return -1;
    uint32_t from = hash ? 0 : s->nhash, to = hash ? s->nhash : s->n;
    for (uint32_t i = from; i < to; i++)
        if (match(&s->e[i], key))
            return (int)(i - from);
    return -1;
}

static void publish_subs(gn_trie *t, gn_node *n, gn_subs *old, gn_subs *s)
{
    /* release: the array's contents before the pointer. */
    atomic_store_explicit(&n->subs, s, memory_order_release);
    if (old)
        gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, old);
}

gn_rerr gn_trie_node_put(gn_trie *t, gn_node *n, bool hash, int idx, const gn_route_entry *e)
{
    gn_subs *old = atomic_load_explicit(&n->subs, memory_order_relaxed); /* relaxed: writer-owned */
    uint32_t on = old ? old->n : 0, oh = old ? old->nhash : 0;
    uint32_t nn = idx < 0 ? on + 1 : on;
    gn_subs *s = gn_rmem_alloc(t->mem, sizeof *s + sizeof(gn_route_entry) * nn);
    if (!s)
        return GN_ROUTER_ERR_NOMEM;
    s->n = nn;
    s->nhash = (idx < 0 && hash) ? oh + 1 : oh;
    if (old)
        memcpy(s->e, old->e, sizeof(gn_route_entry) * on);
    uint32_t base = hash ? 0 : oh;
    if (idx >= 0) {
        s->e[base + (uint32_t)idx] = *e;
    } else {
        /* append at the end of the part: shift the exact part if hash */
        uint32_t at = hash ? oh : on;
        memmove(s->e + at + 1, s->e + at, sizeof(gn_route_entry) * (on - at));
        s->e[at] = *e;
        t->entries++;
    }
    publish_subs(t, n, old, s);
    return GN_ROUTER_OK;
}

gn_rerr gn_trie_node_drop(gn_trie *t, gn_node *n, bool hash, int idx)
{
    gn_subs *old = atomic_load_explicit(&n->subs, memory_order_relaxed); /* relaxed: writer-owned */
    uint32_t at = (hash ? 0 : old->nhash) + (uint32_t)idx;
    gn_subs *s = NULL;
    if (old->n > 1) {
        s = gn_rmem_alloc(t->mem, sizeof *s + sizeof(gn_route_entry) * (old->n - 1));
        if (!s)
            return GN_ROUTER_ERR_NOMEM;
        s->n = old->n - 1;
        s->nhash = hash ? old->nhash - 1 : old->nhash;
        memcpy(s->e, old->e, sizeof(gn_route_entry) * at);
        memcpy(s->e + at, old->e + at + 1, sizeof(gn_route_entry) * (old->n - at - 1));
    }
    t->entries--;
    publish_subs(t, n, old, s);
    return GN_ROUTER_OK;
}

/* ---------- writer: pruning and merging ---------- */

static bool node_empty(gn_node *n)
{
    /* relaxed: writer-owned. */
    return atomic_load_explicit(&n->subs, memory_order_relaxed) == NULL &&
           atomic_load_explicit(&n->plus, memory_order_relaxed) == NULL &&
           gn_ctab_count(&n->kids) == 0;
}

/* The only child of a subscriber-less node, or NULL. */
static gn_node *sole_child(gn_trie *t, gn_node *n)
{
    if (atomic_load_explicit(&n->subs, memory_order_relaxed) != NULL) /* relaxed: writer-owned */
        return NULL;
    gn_node *p = atomic_load_explicit(&n->plus, memory_order_relaxed); /* relaxed: writer-owned */
    uint32_t k = gn_ctab_count(&n->kids);
    if (p && k == 0)
        return p;
    if (!p && k == 1) {
        void *x = NULL;
        gn_ccell *cell = gn_ctab_any(&n->kids, &x);
        return cell ? cell_node(t, cell, x) : NULL; /* NULL (no memory): no merge */
    }
    return NULL;
}

/* Replace x (child of p, sole child c) by one node x+c. Best effort: on
 * allocation failure the chain just stays split (still correct). */
static void merge(gn_trie *t, gn_node *p, gn_node *x, gn_node *c)
{
    uint32_t len = (uint32_t)x->len + 1 + c->len;
    if (len > UINT16_MAX)
        return;
    gn_node *m = gn_rmem_alloc(t->mem, sizeof *m + len);
    if (!m)
        return;
    t->nodes++;
    memcpy(m->label, x->label, x->len);
    m->label[x->len] = '/';
    memcpy(m->label + x->len + 1, c->label, c->len);
    m->len = (uint16_t)len;
    m->nlevels = (uint8_t)(x->nlevels + c->nlevels);
    m->flags = (uint8_t)((x->flags | c->flags) & GN_NODE_WILD);
    /* relaxed: published by the release in relink. */
    atomic_init(&m->kids, atomic_load_explicit(&c->kids, memory_order_relaxed));
    atomic_init(&m->plus, atomic_load_explicit(&c->plus, memory_order_relaxed));
    atomic_init(&m->subs, atomic_load_explicit(&c->subs, memory_order_relaxed));
    relink(p, x, m);
    /* x's child table (holding only c) is no longer referenced by m. */
    gn_ctab *xk = atomic_load_explicit(&x->kids, memory_order_relaxed); /* relaxed: writer-owned */
    if (xk)
        gn_qsbr_defer(t->qsbr, gn_ctab_free_cb, t->mem, xk);
    node_defer_shell(t, x);
    node_defer_shell(t, c);
}

void gn_trie_prune(gn_trie *t, gn_trie_path *path)
{
    for (uint32_t k = path->depth; k >= 1; k--) {
        gn_node *x = path->n[k], *p = path->n[k - 1];
        if (node_empty(x)) {
            unlink_child(t, p, x);
            node_defer_shell(t, x);
            continue;
        }
        gn_node *c = sole_child(t, x);
        if (c)
            merge(t, p, x, c);
        return;
    }
}

/* ---------- writer: inline leaves ---------- */

void gn_trie_inline_leaf(gn_trie *t, const gn_trie_path *path)
{
    if (path->depth == 0)
        return;
    gn_node *n = path->n[path->depth], *p = path->n[path->depth - 1];
    /* relaxed: writer-owned. */
    const gn_subs *s = atomic_load_explicit(&n->subs, memory_order_relaxed);
    if (!s || atomic_load_explicit(&n->plus, memory_order_relaxed) != NULL ||
        atomic_load_explicit(&n->kids, memory_order_relaxed) != NULL || first_is_plus(n) ||
        !gn_leaf_fits(s->n, n->len))
        return;
    for (uint32_t k = 0; k < s->n; k++)
        if (s->e[k].flags & GN_SUBF_GROUP)
            return; /* groups stay in nodes (share.c edits them there) */
    gn_leaf img;
    memset(&img, 0, sizeof img);
    img.nlevels = n->nlevels;
    img.flags = n->flags;
    img.n = (uint8_t)s->n;
    img.nhash = (uint8_t)s->nhash;
    img.len = (uint8_t)n->len;
    memcpy(img.u.e, s->e, sizeof(gn_route_entry) * s->n);
    memcpy(img.u.b + sizeof(gn_route_entry) * s->n, n->label, n->len);
    if (!gn_ctab_inline(&p->kids, first_level_hash(n), n, &img, t->mem, t->qsbr))
        return;
    /* the node stays counted: it lives on as the leaf */
    gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, (void *)s);
    gn_qsbr_defer(t->qsbr, gn_rmem_free_cb, t->mem, n);
}

/* ---------- lifetime ---------- */

gn_rerr gn_trie_init(gn_trie *t, gn_rmem *mem, gn_qsbr *qsbr)
{
    t->mem = mem;
    t->qsbr = qsbr;
    t->nodes = 0;
    t->entries = 0;
    t->root = node_new(t, NULL, 0, 0);
    return t->root ? GN_ROUTER_OK : GN_ROUTER_ERR_NOMEM;
}

static void free_rec(gn_trie *t, gn_node *n, void (*dtor)(void *, gn_route_entry *), void *ctx)
{
    /* relaxed everywhere: no reader is online any more. */
    gn_ctab *kt = atomic_load_explicit(&n->kids, memory_order_relaxed);
    if (kt) {
        uint32_t pos = 0;
        gn_ccell *cell;
        void *x;
        while ((cell = gn_ctab_iter(kt, &pos, &x)) != NULL) {
            if (x != GN_CTAB_LEAF)
                free_rec(t, x, dtor, ctx);
            else if (dtor)
                for (uint32_t i = 0; i < cell->leaf.n; i++)
                    dtor(ctx, &cell->leaf.u.e[i]);
        }
        gn_ctab_free_cb(t->mem, kt);
    }
    gn_node *p = atomic_load_explicit(&n->plus, memory_order_relaxed); /* relaxed: no reader */
    if (p)
        free_rec(t, p, dtor, ctx);
    gn_subs *s = atomic_load_explicit(&n->subs, memory_order_relaxed); /* relaxed: no reader */
    if (s) {
        if (dtor)
            for (uint32_t i = 0; i < s->n; i++)
                dtor(ctx, &s->e[i]);
        gn_rmem_free(t->mem, s);
    }
    gn_rmem_free(t->mem, n);
}

void gn_trie_fini(gn_trie *t, void (*entry_dtor)(void *ctx, gn_route_entry *e), void *ctx)
{
    if (t->root)
        free_rec(t, t->root, entry_dtor, ctx);
    t->root = NULL;
}
