/* engine/shared_handback.c — what a shared-group member leaves behind when
 * its session ends: its unacknowledged QoS >= 1 shared deliveries (held by
 * its shard, in flight, queued) go to other members of their groups, so a
 * member that drops loses nothing the group can still take (MQTT 5 4.8.2
 * "SHOULD send the Application Message to another Client"; the platform's
 * scalable applications, S-020 … S-022).
 *
 * Runs on the member's shard inside gn_session_destroy, before the session
 * leaves its groups (the re-pick finds a group through its member). Reads
 * the session's rings without changing them: gn_session_drop_queues frees
 * them right after. A message the departing client received but did not
 * acknowledge reaches another member too: at least once, as QoS 1 allows.
 * Shard thread only. */
#include "engine/log.h"
#include "engine/session.h"
#include "engine/shard.h"

/* One entry to another member; false when nobody could take it. */
static bool hand_back(gn_shard *s, const gn_session *ss, const gn_qent *e)
{
    gn_rdeliv d = { .session = ss->sid, .shard = s->id, .qos = e->qos, .flags = e->flags };
    gn_xslot sl;
    /* pub 0: the publisher's PUBACK went long ago, nobody to pause for it */
    gn_xslot_deliver(&sl, &d, e->msg, s->id, 0);
    if (gn_shard_shared_place(s, &sl, true))
        return true;
    gn_msg_unref(sl.ptr);
    return false;
}

typedef struct handback_ctx {
    gn_shard         *s;
    const gn_session *ss;
    uint32_t          placed, lost;
} handback_ctx;

static void entry_handback(void *ctx, const gn_qent *e)
{
    handback_ctx *h = ctx;
    /* WAIT_COMP: the client has it (PUBREC came), only PUBREL is left */
    bool pending = e->state == GN_QS_QUEUED || e->state == GN_QS_WAIT_ACK ||
                   e->state == GN_QS_WAIT_REC;
    if (!pending || !e->msg || !(e->flags & GN_RD_SHARED) || e->qos == 0)
        return;
    if (hand_back(h->s, h->ss, e))
        h->placed++;
    else
        h->lost++;
}

static void ring_handback(handback_ctx *h, const gn_qring *r)
{
    for (uint32_t i = 0; i < r->count; i++)
        entry_handback(h, &r->v[(r->head + i) & (r->cap - 1)]);
}

void gn_session_shared_handback(gn_shard *s, gn_session *ss)
{
    if (s->stopping || !ss->qdepth)
        return;     /* shutting down: nobody to take it; no shared subscription ever */
    handback_ctx h = { .s = s, .ss = ss, .placed = gn_shard_held_handback(s, ss->sid) };
    if (ss->fl) {
        ring_handback(&h, &ss->fl->inflight);                       /* oldest first */
        gn_subq_each(&ss->fl->queue, entry_handback, &h);           /* each lane oldest first */
    }
    uint32_t placed = h.placed, lost = h.lost;
    if (placed)
        gn_stat_add(&s->stats.shared_handed_back, placed);
    if (lost) {
        gn_stat_add(&s->stats.shared_orphaned, lost);
        gn_log_info("session of '%s' ended with %u shared message(s) no other member of "
                    "the group could take: dropped", ss->client_id, (unsigned)lost);
    }
}
