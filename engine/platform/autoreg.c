/* engine/platform/autoreg.c — a gateway's auto-registrations (PLATFORM.md
 * S-058 … S-060): the requests a gateway connection has pending or that
 * failed and are not yet reported, the per-gateway pending limit
 * (gw_max_pending_autoreg, S-059), the look-ahead that submits the
 * registrations of the PUBLISHes already received behind a held one, and
 * the results coming back from the registry.
 *
 * A gateway's PUBLISH for an unregistered device is held (its connection
 * reads nothing more, the packet is handled again when the device's result
 * is in), so packets keep their order and acknowledgements stay in order.
 * Meanwhile the bytes the connection had already received wait in its
 * carry buffer; the look-ahead walks them and submits the registration of
 * every new device they name, so the registrations run concurrently while
 * the gateway keeps publishing. A gateway that has its limit pending gets
 * "Too many active devices" (173) for the next new device, reported when
 * that device's PUBLISH comes up in order (a notification; the message is
 * dropped and acknowledged, the connection stays).
 *
 * Cookies: each request has its own (per-shard counter); the shard keeps
 * cookie -> session id for the requests in flight.
 *
 * Threading: the gateway's shard. */
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"
#include "engine/grow.h"
#include "engine/log.h"
#include "engine/platform/close_codes.h"
#include "engine/platform/platform_int.h"
#include "engine/session.h"
#include "engine/shard.h"

/* Entries a connection keeps: pending ones (at most the registry-wide 128)
 * plus failed ones not yet reported. */
#define FAILED_MAX 32
#define PENDING_MAX 128         /* = GN_REG_AUTOREG_MAX_PENDING (registry.h) */

struct gn_pareg {
    uint64_t cookie;
    uint16_t rc;                    /* failed: the close code to report */
    bool     pending;
    uint8_t  type_len, id_len;
    char     type[GN_PLAT_FIELD_MAX], id[GN_PLAT_FIELD_MAX];
};

static gn_pareg *find(gn_pconn *pc, const gn_ptopic_match *m)
{
    for (uint16_t i = 0; i < pc->nareg; i++) {
        gn_pareg *e = &pc->areg[i];
        if (e->type_len == m->type_len && e->id_len == m->id_len &&
            !memcmp(e->type, m->type, m->type_len) && !memcmp(e->id, m->id, m->id_len))
            return e;
    }
    return NULL;
}

static uint32_t pending(const gn_pconn *pc)
{
    uint32_t n = 0;
    for (uint16_t i = 0; i < pc->nareg; i++)
        n += pc->areg[i].pending;
    return n;
}

static void forget(gn_pconn *pc, gn_pareg *e)
{
    *e = pc->areg[--pc->nareg];
    if (!pc->nareg) {
        free(pc->areg);
        pc->areg = NULL;
        pc->careg = 0;
    }
}

/* A new entry for m's device; NULL when the table is full (or no memory). */
static gn_pareg *add(gn_pconn *pc, const gn_ptopic_match *m)
{
    if (pc->nareg >= PENDING_MAX + FAILED_MAX ||
        m->type_len > GN_PLAT_FIELD_MAX || m->id_len > GN_PLAT_FIELD_MAX)
        return NULL;
    if (pc->nareg == pc->careg) {
        uint16_t ncap = pc->careg ? (uint16_t)(pc->careg * 2) : 4;
        gn_pareg *n = realloc(pc->areg, sizeof *n * ncap);
        if (!n)
            return NULL;
        pc->areg = n;
        pc->careg = ncap;
    }
    gn_pareg *e = &pc->areg[pc->nareg++];
    memset(e, 0, sizeof *e);
    e->type_len = m->type_len;
    e->id_len = m->id_len;
    memcpy(e->type, m->type, m->type_len);
    memcpy(e->id, m->id, m->id_len);
    return e;
}

static bool track(gn_shard *s, uint64_t cookie, uint64_t sid)
{
    gn_pshard *ps = gn_plat_shard(s);
    if (ps->nareg_out == ps->careg_out) {
        gn_areg_out *n = gn_grow(ps->areg_out, &ps->careg_out, sizeof *n, 16);
        if (!n)
            return false;
        ps->areg_out = n;
    }
    ps->areg_out[ps->nareg_out++] = (gn_areg_out){ .cookie = cookie, .sid = sid };
    return true;
}

/* Submit the registration of m's device for gateway c. GN_PDIR_OK: e is
 * now pending under a new cookie. */
static gn_pdir_result submit(gn_conn *c, gn_pareg *e)
{
    gn_shard *s = c->shard;
    gn_pshard *ps = gn_plat_shard(s);
    const gn_pident *g = &c->plat->id;
    uint64_t cookie = ++ps->next_cookie;
    if (!track(s, cookie, c->sess->sid))
        return GN_PDIR_ERROR;
    gn_pdir_result r = gn_pdir_autoreg_submit(ps->dir, g->org, g->org_len, g->type, g->type_len,
                                              g->id, g->id_len, e->type, e->type_len, e->id,
                                              e->id_len, cookie);
    if (r != GN_PDIR_OK) {
        ps->nareg_out--;
        return r;
    }
    e->cookie = cookie;
    e->pending = true;
    return GN_PDIR_OK;
}

static bool at_limit(const gn_pconn *pc)
{
    return pc->gw_max_pending && pending(pc) >= pc->gw_max_pending;
}

gn_pareg_verdict gn_plat_autoreg_need(gn_conn *c, const gn_ptopic_match *m, uint16_t *rc,
                                      const char **why)
{
    gn_pconn *pc = c->plat;
    gn_pareg *e = find(pc, m);
    if (e && e->pending) {
        pc->autoreg_cookie = e->cookie;     /* wait for this one */
        return GN_PAREG_HOLD;
    }
    if (e) {
        *rc = e->rc;
        *why = e->rc == GN_CLOSE_ORG_CONNS ? "Too many active devices"
             : e->rc == GN_CLOSE_AUTH_DELAY ? "Too many pending device registrations"
                                            : "The device could not be registered";
        forget(pc, e);                      /* reported once; the next message asks again */
        return GN_PAREG_DENIED;
    }
    if (at_limit(pc)) {
        *rc = GN_CLOSE_ORG_CONNS;           /* S-059: gwMaxPendingAuthRequests */
        *why = "Too many active devices";
        return GN_PAREG_DENIED;
    }
    gn_pdir_result r = GN_PDIR_ERROR;
    if ((e = add(pc, m)) && (r = submit(c, e)) == GN_PDIR_OK) {
        pc->autoreg_cookie = e->cookie;
        return GN_PAREG_HOLD;
    }
    if (e)
        forget(pc, e);
    *rc = r == GN_PDIR_BUSY ? GN_CLOSE_AUTH_DELAY : r == GN_PDIR_LIMIT ? GN_CLOSE_ORG_CONNS
                                                                       : GN_CLOSE_NOT_AUTHORIZED;
    *why = r == GN_PDIR_BUSY ? "Too many pending device registrations"
         : r == GN_PDIR_LIMIT ? "Too many active devices" : "The device could not be registered";
    return GN_PAREG_DENIED;
}

/* The device a received PUBLISH of gateway c names, when it would need
 * registering: true with *m filled. */
static bool needs_registration(gn_conn *c, const uint8_t *pkt, size_t len, gn_ptopic_match *m)
{
    gn_packet p;
    if (gn_decode(pkt, len, (gn_proto)c->proto, &p) != GN_OK || p.type != GN_PUBLISH ||
        p.u.publish.topic.len == 0)
        return false;           /* not a PUBLISH, or a topic alias: handled in order */
    gn_pconn *pc = c->plat;
    size_t n = 0;
    if (gn_ptopic_publish(&pc->id, p.u.publish.topic.ptr, p.u.publish.topic.len,
                          gn_plat_topic_in(c->shard), GN_PLAT_TOPIC_BUF, &n, m) != GN_PT_OK ||
        !m->names_device || (m->type_len == 1 && m->type[0] == '+') ||
        (m->id_len == 1 && m->id[0] == '+'))
        return false;
    const gn_pident *g = &pc->id;
    bool privileged = false;
    gn_pdir_result r = gn_pdir_gateway_may_act(gn_plat_shard(c->shard)->dir, g->org, g->org_len,
                                               g->type, g->type_len, g->id, g->id_len,
                                               (const char *)m->type, m->type_len,
                                               (const char *)m->id, m->id_len, &privileged);
    return r == GN_PDIR_NOT_FOUND && privileged;
}

void gn_plat_autoreg_ahead(gn_conn *c, const uint8_t *data, size_t len, uint32_t max_packet)
{
    gn_pconn *pc = c->plat;
    if (!pc || pc->id.cls != GN_PC_GATEWAY || !pc->autoreg_cookie)
        return;
    /* data starts with the held PUBLISH: look past it. */
    bool first = true;
    while (len) {
        gn_frame f;
        size_t need = 0;
        if (gn_frame_one(data, len, max_packet, &f, &need) != GN_OK)
            return;             /* incomplete or bad: handled in order */
        gn_ptopic_match m;
        if (!first && needs_registration(c, data, f.total_len, &m) && !find(pc, &m)) {
            gn_pareg *e = add(pc, &m);
            if (!e)
                return;
            if (at_limit(pc)) {
                e->rc = GN_CLOSE_ORG_CONNS;     /* S-059: the limit binds for this one */
            } else if (submit(c, e) != GN_PDIR_OK) {
                forget(pc, e);                  /* busy or refused: asked again in order */
            }
        }
        first = false;
        data += f.total_len;
        len -= f.total_len;
    }
}

void gn_plat_autoreg_results(gn_shard *s)
{
    gn_pshard *ps = gn_plat_shard(s);
    gn_pdir_autoreg_done done[32];
    uint32_t n = gn_pdir_autoreg_poll(ps->dir, done, 32);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t sid = 0;
        for (uint32_t k = 0; k < ps->nareg_out; k++)
            if (ps->areg_out[k].cookie == done[i].cookie) {
                sid = ps->areg_out[k].sid;
                ps->areg_out[k] = ps->areg_out[--ps->nareg_out];
                break;
            }
        gn_session *ss = sid ? gn_session_by_id(s, sid) : NULL;
        gn_conn *c = ss ? ss->conn : NULL;
        gn_pconn *pc = c ? c->plat : NULL;
        gn_pareg *e = NULL;
        for (uint16_t k = 0; pc && k < pc->nareg && !e; k++)
            if (pc->areg[k].pending && pc->areg[k].cookie == done[i].cookie)
                e = &pc->areg[k];
        if (!e)
            continue;           /* the gateway left meanwhile */
        bool ok = done[i].result == GN_PDIR_OK;
        gn_log_info("platform: auto-registration of %.*s:%.*s for %s %s", (int)e->type_len, e->type,
                    (int)e->id_len, e->id, pc->cid, ok ? "done" : "failed");
        if (ok) {
            forget(pc, e);      /* registered: the snapshot has it now */
        } else {
            e->pending = false;
            e->rc = done[i].result == GN_PDIR_LIMIT ? GN_CLOSE_ORG_CONNS : GN_CLOSE_NOT_AUTHORIZED;
        }
        if (pc->autoreg_cookie == done[i].cookie) {
            pc->autoreg_cookie = 0;
            if (c->state == GN_CS_ACTIVE)
                gn_conn_resume(c);
        }
    }
    if (!ps->nareg_out && ps->areg_out) {
        free(ps->areg_out);
        ps->areg_out = NULL;
        ps->careg_out = 0;
    }
}

void gn_plat_autoreg_free(gn_pconn *pc)
{
    free(pc->areg);
    pc->areg = NULL;
    pc->nareg = pc->careg = 0;
}
