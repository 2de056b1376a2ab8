/* engine/session.c — a shard's sessions: the id table (index + generation,
 * so ids from other shards are checked on arrival), the client-id registry
 * (open addressing on the id's XXH3 hash), creation and destruction, and
 * shutdown of every session at engine stop. */
#include "engine/session.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/shard.h"

#define TOMB ((gn_session *)(uintptr_t)1)

int gn_sessions_init(gn_shard *s)
{
    memset(&s->sessions, 0, sizeof s->sessions);
    memset(&s->registry, 0, sizeof s->registry);
    return 0;
}

/* ---------------------------------------------------------------- id table */

static int table_grow(gn_sess_table *t)
{
    uint32_t ncap = t->cap ? t->cap * 2 : 256;
    gn_session **slot = realloc(t->slot, sizeof *slot * ncap);
    if (!slot)
        return -1;
    t->slot = slot;
    uint32_t *gen = realloc(t->gen, sizeof *gen * ncap);
    if (!gen)
        return -1;
    t->gen = gen;
    uint32_t *fr = realloc(t->free_idx, sizeof *fr * ncap);
    if (!fr)
        return -1;
    t->free_idx = fr;
    for (uint32_t i = t->cap; i < ncap; i++) {
        slot[i] = NULL;
        gen[i] = 1;
    }
    t->cap = ncap;
    return 0;
}

static int table_add(gn_shard *s, gn_session *ss)
{
    gn_sess_table *t = &s->sessions;
    uint32_t idx;
    if (t->nfree) {
        idx = t->free_idx[--t->nfree];
    } else {
        if (t->used == t->cap && table_grow(t) < 0)
            return -1;
        idx = t->used++;
    }
    t->slot[idx] = ss;
    /* Unique across shards (the router and no-local compare ids): shard in
     * bits 48..63, generation (16 bits) in 32..47, slot index below. */
    ss->sid = ((uint64_t)s->id << 48) | ((uint64_t)(t->gen[idx] & 0xFFFF) << 32) | idx;
    return 0;
}

static void table_del(gn_shard *s, gn_session *ss)
{
    gn_sess_table *t = &s->sessions;
    uint32_t idx = (uint32_t)ss->sid;
    t->slot[idx] = NULL;
    t->gen[idx] = (t->gen[idx] + 1) & 0xFFFF;
    if (t->gen[idx] == 0)
        t->gen[idx] = 1;     /* id 0 stays "no session" */
    t->free_idx[t->nfree++] = idx;
}

gn_session *gn_session_by_id(gn_shard *s, uint64_t sid)
{
    gn_sess_table *t = &s->sessions;
    uint32_t idx = (uint32_t)sid;
    if ((uint16_t)(sid >> 48) != s->id || idx >= t->used ||
        t->gen[idx] != (uint32_t)((sid >> 32) & 0xFFFF))
        return NULL;
    return t->slot[idx];
}

/* ---------------------------------------------------------------- registry */

static uint32_t reg_probe(const gn_registry *r, uint64_t h, const uint8_t *cid, size_t len,
                          bool for_insert)
{
    uint32_t mask = r->cap - 1, i = (uint32_t)h & mask, first_tomb = UINT32_MAX;
    for (;;) {
        gn_session *x = r->b[i];
        if (!x)
            return for_insert && first_tomb != UINT32_MAX ? first_tomb : i;
        if (x == TOMB) {
            if (first_tomb == UINT32_MAX)
                first_tomb = i;
        } else if (x->cid_hash == h && x->cid_len == len && memcmp(x->client_id, cid, len) == 0) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int reg_grow(gn_registry *r)
{
    uint32_t ncap = r->cap ? r->cap * 2 : 256;
    gn_session **nb = calloc(ncap, sizeof *nb);
    if (!nb)
        return -1;
    gn_registry n = { .b = nb, .cap = ncap };
    for (uint32_t i = 0; i < r->cap; i++) {
        gn_session *x = r->b[i];
        if (x && x != TOMB) {
            nb[reg_probe(&n, x->cid_hash, (const uint8_t *)x->client_id, x->cid_len, true)] = x;
            n.count++;
        }
    }
    free(r->b);
    *r = n;
    return 0;
}

gn_session *gn_session_find(gn_shard *s, const uint8_t *cid, size_t len)
{
    gn_registry *r = &s->registry;
    if (!r->count)
        return NULL;
    uint32_t i = reg_probe(r, XXH3_64bits(cid, len), cid, len, false);
    gn_session *x = r->b[i];
    return x == TOMB ? NULL : x;
}

static void otimer_fn(gn_timer *t, uint64_t now_ms, void *ctx)
{
    gn_shard *s = ctx;
    gn_session *ss = GN_CONTAINER_OF(t, gn_session, otimer);
    if (ss->conn) {
        /* Connected: the QoS 0 pause is over. Still behind: slow. */
        if (ss->fl && ss->fl->nwaiters &&
            ss->conn->out.bytes > s->cfg.qos0_high_water_bytes / 4) {
            ss->q0_slow = true;
            gn_session_release_waiters(s, ss);
        }
        return;
    }
    if (ss->will_pending && now_ms >= gn_will_due(ss->will))
        gn_will_trigger(s, ss);     /* delay over: publish */
    if (ss->expire_at && now_ms >= ss->expire_at) {
        if (ss->will_pending)
            gn_will_trigger(s, ss);  /* the session ends before the will delay */
        gn_session_destroy(s, ss);
        return;
    }
    gn_session_offline_rearm(s, ss);
}

void gn_session_offline_rearm(gn_shard *s, gn_session *ss)
{
    uint64_t at = UINT64_MAX;
    if (ss->will_pending)
        at = gn_will_due(ss->will);
    if (ss->expire_at && ss->expire_at < at)
        at = ss->expire_at;
    if (at == UINT64_MAX)
        gn_timer_cancel(&s->tw, &ss->otimer);
    else
        gn_timer_arm(&s->tw, &ss->otimer, at);
}

void gn_session_offline_stop(gn_shard *s, gn_session *ss)
{
    ss->expire_at = 0;
    ss->will_pending = false;
    gn_timer_cancel(&s->tw, &ss->otimer);
}

void gn_session_expiry_arm(gn_shard *s, gn_session *ss)
{
    if (ss->expiry_s == UINT32_MAX)
        return;     /* never expires */
    ss->expire_at = s->now_ms + (uint64_t)ss->expiry_s * 1000u;
    gn_session_offline_rearm(s, ss);
}

gn_session *gn_session_new(gn_shard *s, const uint8_t *cid, size_t len)
{
    gn_registry *r = &s->registry;
    if ((r->count + r->tomb + 1) * 4 >= r->cap * 3 && reg_grow(r) < 0)
        return NULL;
    gn_session *ss = gn_slab_zalloc(&s->sess_slab);
    if (!ss)
        return NULL;
    ss->client_id = len < sizeof ss->cid_inline ? ss->cid_inline : malloc(len + 1);
    if (!ss->client_id || table_add(s, ss) < 0) {
        if (ss->client_id != ss->cid_inline)
            free(ss->client_id);
        gn_slab_free(&s->sess_slab, ss);
        return NULL;
    }
    memcpy(ss->client_id, cid, len);
    ss->client_id[len] = 0;
    ss->cid_len = (uint16_t)len;
    ss->cid_pub_len = (uint16_t)len;
    ss->cid_hash = XXH3_64bits(cid, len);
    ss->req_problem_info = true;
    gn_timer_init(&ss->otimer, otimer_fn);
    uint32_t i = reg_probe(r, ss->cid_hash, cid, len, true);
    if (r->b[i] == TOMB)
        r->tomb--;
    r->b[i] = ss;
    r->count++;
    return ss;
}

static void reg_del(gn_shard *s, gn_session *ss)
{
    gn_registry *r = &s->registry;
    uint32_t i = reg_probe(r, ss->cid_hash, (const uint8_t *)ss->client_id, ss->cid_len, false);
    if (r->b[i] == ss) {
        r->b[i] = TOMB;
        r->count--;
        r->tomb++;
    }
}

void gn_session_reset_conn_state(gn_session *ss)
{
    if (ss->alias_in) {
        for (uint32_t i = 0; i < ss->alias_in_max; i++)
            free(ss->alias_in[i]);
        free(ss->alias_in);
        ss->alias_in = NULL;
    }
    gn_session_alias_out_free(ss);
    ss->alias_in_max = ss->alias_out_max = 0;
}

void gn_session_destroy(gn_shard *s, gn_session *ss)
{
    gn_session_shared_handback(s, ss);            /* while still a member of its groups */
    for (uint32_t i = 0; i < ss->nsubs; i++) {
        gn_route_unsubscribe(&s->rc, ss->sid, (const uint8_t *)ss->subs[i].filter, ss->subs[i].len);
        gn_plat_group_leave(s, (const uint8_t *)ss->subs[i].filter, ss->subs[i].len);  /* S-100 */
        free(ss->subs[i].filter);
    }
    free(ss->subs);
    gn_route_free_depth(&s->rc, ss->qdepth);      /* after leaving every group */
    ss->qdepth = NULL;
    gn_session_drop_queues(s, ss);
    gn_session_release_waiters(s, ss);
    gn_session_flow_free(ss);
    gn_will_free(ss->will);
    ss->will = NULL;
    gn_timer_cancel(&s->tw, &ss->otimer);
    gn_session_reset_conn_state(ss);
    if (ss->conn)
        ss->conn->sess = NULL;
    reg_del(s, ss);
    table_del(s, ss);
    if (ss->client_id != ss->cid_inline)
        free(ss->client_id);
    gn_slab_free(&s->sess_slab, ss);
}

void gn_sessions_shutdown(gn_shard *s)
{
    for (gn_conn *c = s->all; c; c = c->all_next) {
        gn_plat_set_close(c, GN_CLOSE_SHUTDOWN);
        if (c->state == GN_CS_ACTIVE && c->proto == GN_PROTO_V5)
            gn_mqtt_disconnect(c, GN_RC_SERVER_SHUTTING_DOWN, false);
        else
            gn_conn_close(c);
    }
}

void gn_sessions_fini(gn_shard *s)
{
    gn_sess_table *t = &s->sessions;
    /* Connections the grace period did not finish: drop their buffers. */
    for (gn_conn *c = s->all; c; c = c->all_next) {
        gn_outq_clear(&c->out, &s->opool);
        free(c->carry);
        c->carry = NULL;
        c->sess = NULL;
        if (c->plat)
            gn_plat_on_close(c);    /* its close line (93) and org slot */
        if (c->fd >= 0) {
            close(c->fd);
            c->fd = -1;
        }
    }
    for (uint32_t i = 0; i < t->used; i++) {
        gn_session *ss = t->slot[i];
        if (ss) {
            ss->conn = NULL;
            gn_session_destroy(s, ss);
        }
    }
    free(t->slot);
    free(t->gen);
    free(t->free_idx);
    free(s->registry.b);
    memset(t, 0, sizeof *t);
    memset(&s->registry, 0, sizeof s->registry);
}
