/* router/retained.h — the retained-message store: topic name -> the last
 * retained message, with wildcard lookup for a new subscription's filter.
 *
 * A trie with one topic level per node (child tables as in the subscription
 * trie, router/ltab.h). A node's message is a router-allocated holder
 * {engine message handle, destructor} published with release and replaced
 * as a whole; the old holder goes to QSBR and its destructor runs after the
 * grace period, in the thread that runs reclamation. The engine decides the
 * message layout (typically a refcounted immutable message object).
 *
 * Threading: set/delete are writer functions (router writer lock held).
 * gn_retained_lookup is lock-free and must be called by an online reader;
 * the handle passed to the callback is valid until the reader's next
 * quiescent/offline call (take a reference to keep it longer). */
#ifndef GN_ROUTER_RETAINED_H
#define GN_ROUTER_RETAINED_H

#include <stdatomic.h>
#include <stdint.h>

#include "codec/topic.h"
#include "router/ltab.h"
#include "router/qsbr.h"
#include "router/rmem.h"
#include "router/types.h"

/* Destroys an engine message handle once no reader can see it. */
typedef void (*gn_retained_free_fn)(void *msg);
/* Called once per retained message matching a filter. */
typedef void (*gn_retained_visit_fn)(void *ctx, void *msg);

typedef struct gn_rmsg {
    void *msg;
    gn_retained_free_fn free_fn;
} gn_rmsg;

typedef struct gn_rnode {
    _Atomic(gn_ltab *) kids;   /* release/acquire publication */
    _Atomic(gn_rmsg *) msg;    /* release/acquire publication; NULL = none */
    uint16_t len;
    uint8_t  label[];          /* one level */
} gn_rnode;

typedef struct gn_retained {
    gn_rnode *root;
    gn_rmem *mem;
    gn_qsbr *qsbr;
    uint64_t count;    /* writer-only: messages stored */
    uint64_t nodes;    /* writer-only */
} gn_retained;

gn_rerr gn_retained_init(gn_retained *rs, gn_rmem *mem, gn_qsbr *qsbr);
/* Free everything now, running every destructor (no reader online). */
void gn_retained_fini(gn_retained *rs);

/* Writer: store msg for the topic (split in lv), replacing any previous
 * one; msg == NULL deletes (GN_ROUTER_ERR_NOT_FOUND if nothing was there).
 * On GN_ROUTER_ERR_NOMEM nothing changed and msg still belongs to the
 * caller. */
gn_rerr gn_retained_set(gn_retained *rs, const uint8_t *topic, const gn_levels *lv, void *msg,
                        gn_retained_free_fn free_fn);

/* Reader: visit every message whose topic matches the filter (split in
 * flv; '+', '#', "a/#" matches "a", '$' topics not matched by a leading
 * wildcard). Returns the number visited. */
uint64_t gn_retained_lookup(const gn_retained *rs, const uint8_t *filter, const gn_levels *flv,
                            gn_retained_visit_fn visit, void *ctx);

#endif
