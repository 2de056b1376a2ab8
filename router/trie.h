/* router/trie.h — the subscription trie shared by all shards.
 *
 * Shape: a radix trie over filter levels. A node is reached through an edge
 * of one or more levels stored in the node's label ("id/+/cmd" is three
 * levels); an edge's first level is a literal (found in the parent's child
 * table by the level's XXH3 hash, bytes verified) or '+' (the parent's
 * dedicated `plus` pointer); later levels of an edge may be literals or '+'.
 * '#' never appears in a label: a filter ending in '#' is stored at the node
 * of its prefix, in the first `nhash` entries of that node's subscriber
 * array ("a/#" lives at node "a", which is also what makes it match "a").
 * Single-child chains are kept merged, so a per-device filter is one edge;
 * a childless node whose label and subscribers fit is stored inline in its
 * parent's child table (router/ctab.h), one cache line for the whole
 * per-device filter. Writers turn an inline leaf back into a gn_node before
 * changing it ("promote"), so every writer function below sees nodes only.
 *
 * Threading: readers (gn_trie_collect) take no lock and only do acquire
 * loads; they must be online QSBR readers of the trie's gn_qsbr. Writer
 * functions must be serialised by the caller (the router's writer mutex);
 * they publish with release stores and hand everything they unlink to QSBR.
 * Readers may see a subscribe/unsubscribe that runs concurrently or not,
 * but always a consistent node (label, child table and subscriber array
 * are each immutable once published, child tables are only appended to). */
#ifndef GN_ROUTER_TRIE_H
#define GN_ROUTER_TRIE_H

#include <stdatomic.h>
#include <stdint.h>

#include "codec/topic.h"
#include "router/ctab.h"
#include "router/qsbr.h"
#include "router/rmem.h"
#include "router/types.h"

/* Immutable subscriber array; replaced as a whole on change.
 * e[0 .. nhash) belong to "<prefix>/#" filters, e[nhash .. n) to the exact
 * filter of the node. */
typedef struct gn_subs {
    uint32_t n;
    uint32_t nhash;
    gn_route_entry e[];
} gn_subs;

enum { GN_NODE_WILD = 1 };

typedef struct gn_node {
    _Atomic(gn_ctab *) kids;        /* literal children; release/acquire publication */
    _Atomic(struct gn_node *) plus; /* child whose edge starts with '+'; release/acquire */
    _Atomic(gn_subs *) subs;        /* NULL when empty; release/acquire */
    uint8_t  nlevels;               /* levels in label (0 only for the root) */
    uint8_t  flags;                 /* GN_NODE_WILD: some level of the label is '+' */
    uint16_t len;                   /* label bytes */
    uint8_t label[];                /* levels joined by '/' */
} gn_node;

typedef struct gn_trie {
    gn_node *root;
    gn_rmem *mem;
    gn_qsbr *qsbr;
    uint64_t nodes;       /* writer-only counters (read under the writer lock) */
    uint64_t entries;
} gn_trie;

/* Growable scratch vector of matched entries, owned by one reader thread. */
typedef struct gn_entry_vec {
    gn_route_entry *v;
    uint32_t n;
    uint32_t cap;
} gn_entry_vec;

/* Root..target nodes of the last gn_trie_locate (writer scratch). */
typedef struct gn_trie_path {
    uint32_t depth;                           /* index of the target in n[] */
    gn_node *n[GN_TOPIC_MAX_LEVELS + 1];
} gn_trie_path;

gn_rerr gn_trie_init(gn_trie *t, gn_rmem *mem, gn_qsbr *qsbr);
/* Free everything now (no reader may be online). entry_dtor, if not NULL,
 * is called for every entry still stored (the share module frees groups). */
void gn_trie_fini(gn_trie *t, void (*entry_dtor)(void *ctx, gn_route_entry *e), void *ctx);

/* Reader: append every entry whose filter matches `topic` (split in lv) to
 * out. Applies every MQTT rule: '+', '#', "a/#" matches "a", empty levels,
 * '$' topics not matched by a leading wildcard. hashed: lv->hash[] holds
 * every level's hash (gn_topic_split); false: lv came from
 * gn_trie_split_unhashed and the walk hashes (and stores in lv) only the
 * levels it looks up. GN_ROUTER_ERR_NOMEM if out cannot grow (out keeps
 * what was found). */
gn_rerr gn_trie_collect(const gn_trie *t, const uint8_t *topic, gn_levels *lv, bool hashed,
                        gn_entry_vec *out);

/* Reader: split a topic name into levels (starts and lengths only, no
 * hashes, topic_hash 0) for gn_trie_collect(..., hashed = false). false if
 * it is empty, longer than 65535 bytes or deeper than GN_TOPIC_MAX_LEVELS. */
bool gn_trie_split_unhashed(const uint8_t *topic, size_t len, gn_levels *lv);

/* Reader: warm the caches for up to GN_TRIE_PREFETCH_MAX topics about to
 * be matched. Follows each topic's literal path (the one a per-device
 * filter takes) one step per topic in turn, issuing a prefetch for the next
 * child-table slot and child node of each, so the misses of different
 * topics overlap instead of queueing behind each other. Reads only; a pure
 * hint (results never depend on it). */
#define GN_TRIE_PREFETCH_MAX 16
void gn_trie_prefetch(const gn_trie *t, uint32_t n, const uint8_t *const *topics,
                      const gn_levels *const *lv);

/* ---- writer side (caller holds the writer lock) ---- */

/* Is the last level of a split filter '#'? The path is the other levels. */
bool gn_filter_ends_with_hash(const uint8_t *filter, const gn_levels *lv);

/* Find the node for filter levels [0, npath) (npath may be 0: the root),
 * creating and splitting nodes when `create`. Fills `path`. NULL with
 * *err = GN_ROUTER_ERR_NOT_FOUND / GN_ROUTER_ERR_NOMEM. */
gn_node *gn_trie_locate(gn_trie *t, const uint8_t *filter, const gn_levels *lv, uint32_t npath,
                        bool create, gn_trie_path *path, gn_rerr *err);

/* gn_trie_locate_leaf's inline-leaf options (router/ctab.h). */
typedef struct gn_locate_leaf {
    /* create: when the filter needs a new child, store this one entry there
     * as an inline leaf (if it fits) instead of creating a node; `hash`:
     * it is a "<filter>/#" entry. */
    const gn_route_entry *add;
    bool hash;
    bool added;          /* out: done that way (the returned node is the parent) */
    /* !create: the target is this inline leaf, a child of the returned node
     * (left inline; use gn_trie_leaf_remove / gn_trie_leaf_promote). */
    gn_ccell *found;
} gn_locate_leaf;

/* gn_trie_locate that may stop at an inline leaf (lf may be NULL: then it
 * is gn_trie_locate). */
gn_node *gn_trie_locate_leaf(gn_trie *t, const uint8_t *filter, const gn_levels *lv, uint32_t npath,
                             bool create, gn_trie_path *path, gn_rerr *err, gn_locate_leaf *lf);
/* Remove inline leaf `cell` (one entry left), a child of the path's target,
 * then prune the path. */
void gn_trie_leaf_remove(gn_trie *t, gn_trie_path *path, gn_ccell *cell);
/* Turn inline leaf `cell` (child of the path's target) into a node and
 * append it to the path. NULL when out of memory. */
gn_node *gn_trie_leaf_promote(gn_trie *t, gn_trie_path *path, gn_ccell *cell);

/* Writer's view of a node's subscribers (may be NULL). */
static inline const gn_subs *gn_node_subs_w(gn_node *n)
{
    /* relaxed: the writer reads its own last store. */
    return atomic_load_explicit(&n->subs, memory_order_relaxed);
}

/* Index of the entry in the hash part (`hash`) or exact part for which
 * match(entry, key) is true; -1 if none. */
int gn_subs_find(const gn_subs *s, bool hash, bool (*match)(const gn_route_entry *, const void *),
                 const void *key);
/* Copy-on-write: replace entry idx of the chosen part, or append when
 * idx < 0. Publishes the new array and defers the old one. */
gn_rerr gn_trie_node_put(gn_trie *t, gn_node *n, bool hash, int idx, const gn_route_entry *e);
/* Copy-on-write removal of entry idx of the chosen part. */
gn_rerr gn_trie_node_drop(gn_trie *t, gn_node *n, bool hash, int idx);
/* After removals: unlink empty nodes bottom-up along path and re-merge
 * single-child chains. */
void gn_trie_prune(gn_trie *t, gn_trie_path *path);
/* After a change at the path's target: store it inline in its parent's
 * child table if it is a leaf that fits (see router/ctab.h). Best effort:
 * the node simply stays when it cannot be inlined. */
void gn_trie_inline_leaf(gn_trie *t, const gn_trie_path *path);

#endif
