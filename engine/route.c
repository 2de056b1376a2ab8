/* engine/route.c — the engine's adapter to the shared lock-free router
 * (router/router.h): one reader handle and one growable delivery buffer
 * per shard, SUBSCRIBE option bytes turned into gn_sub_opts, router errors
 * turned into SUBACK reason codes, and gn_msg references held by the
 * retained store.
 *
 * This is the only engine file that includes router headers (see route.h
 * for why the delivery type is mirrored). */
#include "engine/route.h"

#include <stddef.h>
#include <stdlib.h>

#include "router/router.h"

_Static_assert(sizeof(gn_rdeliv) == sizeof(gn_delivery), "gn_rdeliv mirrors gn_delivery");
_Static_assert(offsetof(gn_rdeliv, session) == offsetof(gn_delivery, session), "layout");
_Static_assert(offsetof(gn_rdeliv, shard) == offsetof(gn_delivery, shard), "layout");
_Static_assert(offsetof(gn_rdeliv, qos) == offsetof(gn_delivery, qos), "layout");
_Static_assert(offsetof(gn_rdeliv, flags) == offsetof(gn_delivery, flags), "layout");
_Static_assert(offsetof(gn_rdeliv, nsub_ids) == offsetof(gn_delivery, nsub_ids), "layout");
_Static_assert(offsetof(gn_rdeliv, sub_ids) == offsetof(gn_delivery, sub_ids), "layout");
_Static_assert(GN_RD_MAX_SUB_IDS == GN_ROUTE_MAX_SUB_IDS, "sub id bound");
_Static_assert((int)GN_RD_RAP == (int)GN_DELIVER_RAP && (int)GN_RD_SHARED == (int)GN_DELIVER_SHARED, "flags");

/* Reason codes (codec/reason_codes.h is not included here: see route.h). */
enum { RC_UNSPECIFIED = 0x80, RC_PROTOCOL_ERROR = 0x82, RC_FILTER_INVALID = 0x8F };

/* A re-pick in progress on this thread (gn_route_repick): the picker then
 * also chooses a replacement in the first group that has `full` as a
 * member. NULL outside gn_route_repick. */
typedef struct repick_ctx {
    uint64_t  full;
    bool      any;         /* none under the mark: the least loaded other member */
    bool      done;        /* the group of `full` was seen */
    bool      found;       /* ...and another member can take the message */
    gn_rdeliv out;
} repick_ctx;

static _Thread_local repick_ctx *tl_repick;

static uint32_t member_depth(const gn_share_member *m)
{
    /* relaxed: a load hint written by the member's shard, orders nothing */
    return m->depth ? atomic_load_explicit(m->depth, memory_order_relaxed) : 0;
}

/* Choose a member other than rp->full, round robin over those under hwm.
 * NULL: none. A member at or over the mark is never chosen, even the least
 * loaded: the delivery is placed wherever it lands (never moved again), and
 * moving it from a member that is only busy to one that is stalled would
 * turn a short pause of the publisher into one that lasts until the stalled
 * member reads. */
static const gn_share_member *replacement(gn_share_group *g, const gn_share_members *ms,
                                          const repick_ctx *rp, uint32_t hwm)
{
    uint32_t under = 0;
    const gn_share_member *least = NULL;
    for (uint32_t i = 0; i < ms->n; i++) {
        const gn_share_member *m = &ms->m[i];
        if (m->session == rp->full)
            continue;
        under += member_depth(m) < hwm;
        if (!least || member_depth(m) < member_depth(least))
            least = m;
    }
    if (!under)
        return rp->any ? least : NULL;
    /* relaxed: tickets only need to be distinct (round robin), as in router/share.c */
    uint32_t k = atomic_fetch_add_explicit(&g->rr, 1, memory_order_relaxed) % under;
    for (uint32_t i = 0; i < ms->n; i++) {
        const gn_share_member *m = &ms->m[i];
        if (m->session != rp->full && member_depth(m) < hwm && k-- == 0)
            return m;
    }
    return NULL;   /* depths moved under us: no replacement this time */
}

/* The engine's picker: the router's round robin, plus the re-pick above
 * while gn_route_repick runs on this thread. */
static const gn_share_member *engine_pick(gn_share_group *g, const gn_share_members *ms,
                                          uint16_t reader_shard, uint32_t hwm)
{
    repick_ctx *rp = tl_repick;
    if (rp && !rp->done) {
        for (uint32_t i = 0; i < ms->n; i++) {
            if (ms->m[i].session != rp->full)
                continue;
            rp->done = true;
            const gn_share_member *m = replacement(g, ms, rp, hwm);
            if (!m)
                return &ms->m[i];
            rp->found = true;
            rp->out = (gn_rdeliv){
                .session = m->session, .shard = m->shard, .qos = m->qos,
                .flags = (uint8_t)(GN_RD_SHARED | ((m->flags & GN_SUBF_RAP) ? GN_RD_RAP : 0)),
            };
            if (m->sub_id)
                rp->out.sub_ids[rp->out.nsub_ids++] = m->sub_id;
            return m;
        }
    }
    return gn_share_pick_rr(g, ms, reader_shard, hwm);
}

bool gn_route_repick(gn_route_ctx *rc, const uint8_t *topic, size_t len, uint64_t pub,
                     uint64_t full, bool any, gn_rdeliv *out)
{
    repick_ctx rp = { .full = full, .any = any };
    tl_repick = &rp;
    const gn_rdeliv *ignored;
    (void)gn_route_match(rc, topic, len, pub, &ignored);   /* only the picker's choice counts */
    tl_repick = NULL;
    if (!rp.found)
        return false;
    *out = rp.out;
    return true;
}

struct gn_router *gn_route_create(uint16_t nshards, uint32_t share_hwm)
{
    /* Shared groups: plain round robin over the members under the
     * high-water mark. The local-first picker would keep every message of
     * a group on the publisher's shard while its local members keep up
     * (the engine reports no queue depths yet), which starves members on
     * other shards; MQTT clients expect a group to share the load.
     * engine_pick adds the re-pick of gn_route_repick. */
    gn_router_config cfg = { .max_readers = (unsigned)nshards + 4u, .share_pick = engine_pick,
                             .share_hwm = share_hwm ? share_hwm : 1 };
    return gn_router_create(&cfg);
}

void gn_route_destroy(struct gn_router *r)
{
    gn_router_destroy(r);
}

void gn_route_synchronize(struct gn_router *r)
{
    gn_router_synchronize(r, NULL);
}

int gn_route_reader_register(gn_route_ctx *rc, struct gn_router *r, uint16_t shard)
{
    rc->router = r;
    rc->shard = shard;
    rc->reader = (struct gn_rreader *)gn_router_reader_register(r, shard);
    if (!rc->reader)
        return -1;
    rc->cap = 64;
    rc->buf = malloc(sizeof *rc->buf * rc->cap);
    if (!rc->buf) {
        gn_route_reader_unregister(rc);
        return -1;
    }
    return 0;
}

void gn_route_reader_unregister(gn_route_ctx *rc)
{
    if (rc->reader)
        gn_router_reader_unregister((gn_router_reader *)rc->reader);
    rc->reader = NULL;
    free(rc->buf);
    rc->buf = NULL;
    rc->cap = 0;
}

void gn_route_quiescent(gn_route_ctx *rc)
{
    gn_router_quiescent((gn_router_reader *)rc->reader);
}

void gn_route_offline(gn_route_ctx *rc)
{
    gn_router_offline((gn_router_reader *)rc->reader);
}

void gn_route_online(gn_route_ctx *rc)
{
    gn_router_online((gn_router_reader *)rc->reader);
}

uint8_t gn_route_subscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len,
                           uint8_t opts, uint32_t sub_id, const _Atomic uint32_t *depth,
                           bool *existed)
{
    gn_subscriber who = { .session = sid, .shard = rc->shard, .queue_depth = depth };
    gn_sub_opts so = {
        .qos = opts & 0x03u,
        .no_local = (opts & 0x04u) != 0,
        .retain_as_published = (opts & 0x08u) != 0,
        .retain_handling = (uint8_t)((opts >> 4) & 0x03u),
        .sub_id = sub_id,
    };
    bool replaced = false;
    gn_rerr e = gn_router_subscribe(rc->router, filter, len, &who, &so, &replaced);
    *existed = replaced;
    switch (e) {
    case GN_ROUTER_OK:
        return so.qos;
    case GN_ROUTER_ERR_FILTER_INVALID:
    case GN_ROUTER_ERR_SHARE_NAME_INVALID:
        return RC_FILTER_INVALID;
    case GN_ROUTER_ERR_SHARED_NO_LOCAL:
        return RC_PROTOCOL_ERROR;
    default:
        return RC_UNSPECIFIED;
    }
}

static void free_depth(void *ctx, void *ptr)
{
    (void)ctx;
    free(ptr);
}

void gn_route_free_depth(gn_route_ctx *rc, _Atomic uint32_t *depth)
{
    if (depth)
        gn_router_defer_free(rc->router, free_depth, NULL, (void *)depth);
}

bool gn_route_unsubscribe(gn_route_ctx *rc, uint64_t sid, const uint8_t *filter, size_t len)
{
    return gn_router_unsubscribe(rc->router, filter, len, sid) == GN_ROUTER_OK;
}

size_t gn_route_match(gn_route_ctx *rc, const uint8_t *topic, size_t len, uint64_t pub,
                      const gn_rdeliv **out)
{
    uint64_t publisher = pub ? pub : GN_ROUTER_NO_PUBLISHER;
    for (;;) {
        uint32_t count = 0;
        gn_rerr e = gn_router_match((gn_router_reader *)rc->reader, topic, len, NULL, publisher,
                                    (gn_delivery *)(void *)rc->buf, rc->cap, &count);
        if (e == GN_ROUTER_OK) {
            *out = rc->buf;
            return count;
        }
        if (e != GN_ROUTER_ERR_OUT_TOO_SMALL) {
            *out = rc->buf;
            return 0;
        }
        uint32_t ncap = rc->cap;
        while (ncap < count)
            ncap *= 2;
        gn_rdeliv *nb = realloc(rc->buf, sizeof *nb * ncap);
        if (!nb) {
            /* Deliver what fits rather than nothing. */
            *out = rc->buf;
            return rc->cap;
        }
        rc->buf = nb;
        rc->cap = ncap;
    }
}

static void retained_free(void *msg)
{
    gn_msg_unref(msg);
}

void gn_route_retain(gn_route_ctx *rc, const uint8_t *topic, size_t len, gn_msg *msg)
{
    void *h = msg ? gn_msg_ref(msg) : NULL;
    if (gn_router_retain(rc->router, topic, len, h, retained_free) != GN_ROUTER_OK && h)
        gn_msg_unref(h);
}

typedef struct visit_ctx {
    void (*fn)(void *ctx, gn_msg *m);
    void *ctx;
} visit_ctx;

static void visit(void *ctx, void *msg)
{
    visit_ctx *v = ctx;
    v->fn(v->ctx, msg);
}

void gn_route_retained(gn_route_ctx *rc, const uint8_t *filter, size_t len,
                       void (*fn)(void *ctx, gn_msg *m), void *ctx)
{
    visit_ctx v = { .fn = fn, .ctx = ctx };
    uint64_t n = 0;
    gn_router_retained_lookup((gn_router_reader *)rc->reader, filter, len, visit, &v, &n);
}

void gn_route_defer(void *r, void (*fn)(void *fctx, void *ptr), void *fctx, void *ptr)
{
    gn_router_defer_free(r, fn, fctx, ptr);
}

void gn_route_reclaim(void *r)
{
    gn_router_reclaim(r);
}
