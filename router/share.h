/* router/share.h — shared subscription groups: `$share/{name}/{filter}` and
 * the platform's application groups ("A:org:app", "A:org:app:inst"), which
 * the engine names explicitly.
 *
 * One trie entry per (group, filter): a gn_route_entry with GN_SUBF_GROUP
 * pointing at a gn_share_group whose members (sessions on any shard) are an
 * immutable array replaced copy-on-write. A match yields the group; the
 * picker chooses one member per message.
 *
 * Load signal: each member may carry a pointer to an engine-owned
 * `_Atomic uint32_t` holding its outbound queue depth (messages queued and
 * not yet written). The engine keeps it current with relaxed stores; the
 * picker reads it with relaxed loads (a hint, never a synchronisation). The
 * counter must stay valid until the member has left the group and a grace
 * period has passed: free it through gn_router_defer_free. NULL = never
 * considered loaded.
 *
 * Threading: gn_share_join / gn_share_leave are writer functions (router
 * writer lock held). Pickers are called by online readers concurrently: the
 * only shared state they write is the group's atomic round-robin ticket. */
#ifndef GN_ROUTER_SHARE_H
#define GN_ROUTER_SHARE_H

#include <stdatomic.h>
#include <stdint.h>

#include "router/trie.h"
#include "router/types.h"

typedef struct gn_share_member {
    uint64_t session;
    const _Atomic uint32_t *depth;  /* engine-owned queue depth or NULL */
    uint32_t sub_id;
    uint16_t shard;
    uint8_t  qos;
    uint8_t  flags;                 /* GN_SUBF_RAP */
} gn_share_member;

typedef struct gn_share_members {
    uint32_t n;
    gn_share_member m[];
} gn_share_members;

#define GN_SHARE_RR_SHARDS 8

typedef struct gn_share_group {
    /* Current members; release by the writer, acquire by pickers. */
    _Atomic(gn_share_members *) members;
    /* Round-robin ticket; relaxed fetch_add by pickers: only uniqueness of
     * tickets matters, it orders nothing. */
    _Atomic uint32_t rr;
    /* Local round robin: one ticket per shard (modulo GN_SHARE_RR_SHARDS),
     * so that shards taking turns on one shared ticket cannot each see
     * only every other value and starve half their local members.
     * Relaxed, as rr. */
    _Atomic uint32_t rr_local[GN_SHARE_RR_SHARDS];
    uint16_t name_len;
    uint8_t  name[];
} gn_share_group;

/* A member-selection policy. Returns a member of ms (ms->n >= 1) for a
 * message matched on `reader_shard`; never NULL. hwm: the router's
 * high-water mark (a member with depth >= hwm is "over"). */
typedef const gn_share_member *(*gn_share_pick_fn)(gn_share_group *g, const gn_share_members *ms,
                                                   uint16_t reader_shard, uint32_t hwm);

/* Default: members on the reader's shard first, skipping those over the
 * high-water mark, round robin among the rest; if no local member is under
 * the mark, round robin over every member under it; if all are over it,
 * the least loaded (ties: the lowest index). Never drops. */
const gn_share_member *gn_share_pick_local_rr(gn_share_group *g, const gn_share_members *ms,
                                              uint16_t reader_shard, uint32_t hwm);
/* Same without locality: round robin over members under the mark. */
const gn_share_member *gn_share_pick_rr(gn_share_group *g, const gn_share_members *ms,
                                        uint16_t reader_shard, uint32_t hwm);

/* Writer: add or replace (same session) member `mb` of group `name` on the
 * trie node of `filter`. *added: a new member (false: options replaced). */
gn_rerr gn_share_join(gn_trie *t, const uint8_t *filter, const gn_levels *lv, const uint8_t *name,
                      size_t name_len, const gn_share_member *mb, bool *added);
/* Writer: remove `session` from the group. When it was the last member the
 * group's entry is unlinked and the group returned in *dead (else NULL):
 * the caller must bump the subscription generation BEFORE handing it to
 * gn_share_group_defer (match caches hold group pointers and trust them
 * only under a current generation). */
gn_rerr gn_share_leave(gn_trie *t, const uint8_t *filter, const gn_levels *lv, const uint8_t *name,
                       size_t name_len, uint64_t session, gn_share_group **dead);
/* Hand an unlinked group (and its members) to QSBR. */
void gn_share_group_defer(gn_trie *t, gn_share_group *g);

/* Free a group and its members now (trie teardown; no reader online). */
void gn_share_group_free_now(gn_rmem *m, gn_share_group *g);

#endif
