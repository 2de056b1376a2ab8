/* engine/platform/reg_autoreg.c — gateway auto-registration: the ports'
 * rings, the 128-pending limit (S-059), the failure cache (S-060) and the
 * registry thread's handling of a request. */
#include "engine/platform/reg_autoreg.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define RING 128u                        /* >= GN_REG_AUTOREG_MAX_PENDING: never full */
#define FAIL_SLOTS 4096u

typedef struct ar_req {
    uint64_t cookie;
    char org[GN_REG_ORG_MAX + 1];
    char gwtype[GN_REG_ID_MAX + 1], gwid[GN_REG_ID_MAX + 1];
    char type[GN_REG_ID_MAX + 1], id[GN_REG_ID_MAX + 1];
} ar_req;

struct gn_reg_port {
    gn_registry *r;
    gn_reg_autoreg *a;
    gn_reg_notify_fn notify;
    void *ctx;
    /* requests: the owner thread produces, the registry thread consumes.
     * release on the producer's head store / acquire on the consumer's load
     * of it publish the slot; the same pair on tail frees the slot. */
    _Alignas(64) _Atomic uint32_t req_head;
    _Alignas(64) _Atomic uint32_t req_tail;
    ar_req req[RING];
    /* results: the registry thread produces, the owner consumes (same pairing) */
    _Alignas(64) _Atomic uint32_t res_head;
    _Alignas(64) _Atomic uint32_t res_tail;
    gn_reg_autoreg_result res[RING];
};

typedef struct fail_slot {
    uint64_t hash;
    uint64_t until_ms;
    gn_reg_err err;
} fail_slot;

struct gn_reg_autoreg {
    uint32_t max_ports;
    uint32_t retry_ms;
    /* release when a port is added / acquire by the registry thread that
     * walks ports[0..nports) */
    _Atomic uint32_t nports;
    /* submitted and not yet collected; relaxed: a counter, the rings order
     * the data */
    _Atomic uint32_t pending;
    _Atomic uint64_t busy;               /* relaxed: statistics */
    uint64_t ok, failed;                 /* registry thread, under the mutex */
    gn_reg_port **ports;
    fail_slot fail[FAIL_SLOTS];          /* registry thread only */
};

gn_reg_autoreg *gn_reg_autoreg_new(uint32_t max_ports, uint32_t retry_ms)
{
    gn_reg_autoreg *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->ports = calloc(max_ports, sizeof *a->ports);
    if (!a->ports) {
        free(a);
        return NULL;
    }
    a->max_ports = max_ports;
    a->retry_ms = retry_ms;
    return a;
}

void gn_reg_autoreg_free(gn_reg_autoreg *a)
{
    if (!a)
        return;
    uint32_t n = atomic_load_explicit(&a->nports, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++)
        free(a->ports[i]);
    free(a->ports);
    free(a);
}

void gn_reg_autoreg_stats(gn_reg_autoreg *a, uint64_t *ok, uint64_t *failed, uint64_t *busy)
{
    *ok = a->ok;
    *failed = a->failed;
    *busy = atomic_load_explicit(&a->busy, memory_order_relaxed);
}

gn_reg_port *gn_registry_port_create(gn_registry *r, gn_reg_notify_fn notify, void *ctx)
{
    gn_reg_autoreg *a = gn_registry_autoreg_state(r);
    uint32_t n = atomic_load_explicit(&a->nports, memory_order_relaxed);
    if (n >= a->max_ports)
        return NULL;
    gn_reg_port *p = aligned_alloc(64, (sizeof(gn_reg_port) + 63) & ~(size_t)63);
    if (!p)
        return NULL;
    memset(p, 0, sizeof *p);
    p->r = r;
    p->a = a;
    p->notify = notify;
    p->ctx = ctx;
    a->ports[n] = p;
    /* release: the registry thread sees the port's fields before the count */
    atomic_store_explicit(&a->nports, n + 1, memory_order_release);
    return p;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t len)
{
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

gn_reg_err gn_registry_autoreg_submit(gn_reg_port *p, const gn_reg_device *gw,
                                      const char *type, size_t type_len,
                                      const char *id, size_t id_len, uint64_t cookie)
{
    if (gw->cls != GN_REG_GATEWAY || !gn_reg_valid_id(type, type_len) || !gn_reg_valid_id(id, id_len))
        return GN_REG_ERR_INVALID;
    if (gw->gw_role != GN_REG_GW_PRIVILEGED)
        return GN_REG_ERR_NOT_PRIVILEGED;
    gn_reg_autoreg *a = p->a;
    /* relaxed: only the count matters; the ring publishes the request */
    if (atomic_fetch_add_explicit(&a->pending, 1, memory_order_relaxed) >= GN_REG_AUTOREG_MAX_PENDING) {
        atomic_fetch_sub_explicit(&a->pending, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&a->busy, 1, memory_order_relaxed);
        return GN_REG_ERR_BUSY;
    }
    uint32_t head = atomic_load_explicit(&p->req_head, memory_order_relaxed);
    /* pending <= 128 = RING, so the slot is free; the acquire makes sure the
     * consumer finished reading it */
    (void)atomic_load_explicit(&p->req_tail, memory_order_acquire);
    ar_req *q = &p->req[head % RING];
    q->cookie = cookie;
    copy_str(q->org, sizeof q->org, gw->org, gw->org_len);
    copy_str(q->gwtype, sizeof q->gwtype, gw->type, gw->type_len);
    copy_str(q->gwid, sizeof q->gwid, gw->id, gw->id_len);
    copy_str(q->type, sizeof q->type, type, type_len);
    copy_str(q->id, sizeof q->id, id, id_len);
    /* release: the request's bytes before the registry thread sees head */
    atomic_store_explicit(&p->req_head, head + 1, memory_order_release);
    gn_registry_wake(p->r);
    return GN_REG_OK;
}

uint32_t gn_registry_autoreg_poll(gn_reg_port *p, gn_reg_autoreg_result *out, uint32_t max)
{
    uint32_t tail = atomic_load_explicit(&p->res_tail, memory_order_relaxed);
    /* acquire: pairs with the registry thread's release of res_head */
    uint32_t head = atomic_load_explicit(&p->res_head, memory_order_acquire);
    uint32_t n = 0;
    while (tail != head && n < max)
        out[n++] = p->res[tail++ % RING];
    if (n) {
        /* release: the slots are read before the producer may reuse them */
        atomic_store_explicit(&p->res_tail, tail, memory_order_release);
        atomic_fetch_sub_explicit(&p->a->pending, n, memory_order_relaxed);
    }
    return n;
}

/* ---- registry thread */

static uint64_t dev_hash(const ar_req *q)
{
    char buf[GN_REG_ORG_MAX + 2 * GN_REG_ID_MAX + 3];
    int n = snprintf(buf, sizeof buf, "%s\x1f%s\x1f%s", q->org, q->type, q->id);
    return XXH3_64bits(buf, (size_t)n) | 1;
}

static gn_reg_err handle(gn_reg_autoreg *a, gn_registry *r, const ar_req *q,
                         gn_reg_autoreg_result *res)
{
    uint64_t now = gn_registry_now_ms();
    uint64_t h = dev_hash(q);
    fail_slot *f = &a->fail[h % FAIL_SLOTS];
    if (f->hash == h && now < f->until_ms)
        return GN_REG_ERR_RETRY_LATER;
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    size_t ol = strlen(q->org);
    const gn_reg_device *d = gn_reg_find_device(s, q->org, ol, q->type, strlen(q->type), q->id,
                                                strlen(q->id));
    if (d) {
        res->device_uid = d->uid;
        res->generation = gn_reg_generation(s);
        return GN_REG_OK;
    }
    const gn_reg_device *gw = gn_reg_find_device(s, q->org, ol, q->gwtype, strlen(q->gwtype),
                                                 q->gwid, strlen(q->gwid));
    gn_reg_err rc;
    gn_store *st = gn_registry_store(r);
    if (!gw || gw->cls != GN_REG_GATEWAY)
        rc = GN_REG_ERR_NOT_FOUND;
    else if (gn_reg_device_usable(s, gw) != GN_REG_OK)
        rc = GN_REG_ERR_DISABLED;
    else if (gw->gw_role != GN_REG_GW_PRIVILEGED)
        rc = GN_REG_ERR_NOT_PRIVILEGED;
    else if (!st)
        rc = GN_REG_ERR_STATE;
    else {
        gn_store_device_spec spec = {
            .org = q->org, .type = q->type, .id = q->id, .cls = GN_REG_DEVICE,
            .no_token = true, .registered_by = gw->uid, .into_group = gw->gw_default_group,
            .create_type = true,
        };
        uint64_t uid = 0;
        rc = gn_store_device_add(st, &spec, NULL, &uid);
        if (rc == GN_REG_ERR_EXISTS)
            rc = GN_REG_OK;                      /* registered meanwhile by someone else */
        if (rc == GN_REG_OK) {
            gn_reg_err rr = gn_registry_refresh_locked(r);
            s = gn_registry_snapshot(r);
            d = gn_reg_find_device(s, q->org, ol, q->type, strlen(q->type), q->id, strlen(q->id));
            if (rr != GN_REG_OK || !d)
                rc = rr != GN_REG_OK ? rr : GN_REG_ERR_STORE;
            else {
                res->device_uid = d->uid;
                res->generation = gn_reg_generation(s);
            }
        }
    }
    if (rc != GN_REG_OK) {
        f->hash = h;
        f->until_ms = now + a->retry_ms;
        f->err = rc;
    }
    return rc;
}

void gn_reg_autoreg_serve(gn_reg_autoreg *a, gn_registry *r)
{
    uint32_t np = atomic_load_explicit(&a->nports, memory_order_acquire);
    for (uint32_t i = 0; i < np; i++) {
        gn_reg_port *p = a->ports[i];
        uint32_t tail = atomic_load_explicit(&p->req_tail, memory_order_relaxed);
        /* acquire: pairs with the owner's release of req_head */
        uint32_t head = atomic_load_explicit(&p->req_head, memory_order_acquire);
        if (tail == head)
            continue;
        uint32_t rh = atomic_load_explicit(&p->res_head, memory_order_relaxed);
        while (tail != head) {
            ar_req q = p->req[tail % RING];
            tail++;
            /* release: the request slot is copied out before it is reused */
            atomic_store_explicit(&p->req_tail, tail, memory_order_release);
            gn_reg_autoreg_result res = {.cookie = q.cookie};
            res.err = handle(a, r, &q, &res);
            if (res.err == GN_REG_OK)
                a->ok++;
            else
                a->failed++;
            p->res[rh % RING] = res;
            rh++;
            /* release: the result before the owner sees res_head */
            atomic_store_explicit(&p->res_head, rh, memory_order_release);
        }
        if (p->notify)
            p->notify(p->ctx);
    }
}
