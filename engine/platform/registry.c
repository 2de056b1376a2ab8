/* engine/platform/registry.c — the registry object: opening the store,
 * the registry thread (poll the store, patch and swap snapshots, serve
 * auto-registration), snapshot publication and retirement, the shard
 * ports. Lookups live in reg_snapshot.c, the store in registry_store.c. */
#include "engine/platform/registry.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "engine/platform/reg_autoreg.h"
#include "engine/platform/reg_snapshot.h"
#include "engine/platform/reg_trust.h"
#include "engine/platform/registry_store.h"

static const char *const err_names[GN_REG_ERR__COUNT] = {
    [GN_REG_OK] = "ok",
    [GN_REG_ERR_NOMEM] = "out of memory",
    [GN_REG_ERR_INVALID] = "invalid argument",
    [GN_REG_ERR_NOT_FOUND] = "not found",
    [GN_REG_ERR_EXISTS] = "already exists",
    [GN_REG_ERR_DISABLED] = "disabled",
    [GN_REG_ERR_DENIED] = "not authorized",
    [GN_REG_ERR_LIMIT] = "limit reached",
    [GN_REG_ERR_BUSY] = "too many pending requests",
    [GN_REG_ERR_NOT_PRIVILEGED] = "gateway is not privileged",
    [GN_REG_ERR_RETRY_LATER] = "recently failed, retry later",
    [GN_REG_ERR_TOO_OLD] = "revocation log does not reach back that far",
    [GN_REG_ERR_STORE] = "database error",
    [GN_REG_ERR_SCHEMA] = "unsupported database schema",
    [GN_REG_ERR_STATE] = "not allowed in this state",
};

const char *gn_reg_strerror(gn_reg_err err)
{
    if ((unsigned)err >= GN_REG_ERR__COUNT || !err_names[err])
        return "unknown registry error";
    return err_names[err];
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void gn_registry_opts_default(gn_registry_opts *o)
{
    memset(o, 0, sizeof *o);
    o->path = GN_REGISTRY_DEFAULT_PATH;
    o->poll_interval_ms = 100;
    o->autoreg_retry_ms = 600000;
    o->max_ports = 256;
}

struct gn_registry {
    gn_registry_opts opts;
    char *path;                          /* NULL: no store */
    gn_store *st;                        /* the registry thread's connection */
    /* release on swap / acquire in gn_registry_snapshot: a reader sees the
     * snapshot's contents fully built */
    _Atomic(gn_reg_snapshot *) cur;
    gn_qsbr *own_qsbr;
    pthread_mutex_t mu;                  /* serialises refresh, auto-registration and stats */
    pthread_t thread;
    bool running;
    _Atomic bool stop;                   /* seq_cst: set before the eventfd write that wakes the thread */
    int evfd;                            /* wakes the registry thread (shards write it) */
    int64_t data_version;
    uint64_t generation;
    gn_registry_stats st_;
    gn_reg_autoreg *ar;                  /* ports, queue, failure cache */
    uint64_t pruned_at;                  /* change number of the last pruning */
    /* release on swap / acquire in gn_registry_trust: a reader sees the
     * stores fully built. NULL only without a store (S-036). */
    _Atomic(gn_reg_trust *) trust;
    STACK_OF(X509) *anchors;             /* opts.ca_file's certificates */
    int64_t ca_version;                  /* org_cas version the trust was built from */
};

/* The change feed keeps the newest CHANGES_KEEP rows; a registry further
 * behind than that rebuilds from scratch (gn_store_changes reports a gap). */
#define CHANGES_KEEP 100000u

static void prune_changes(gn_registry *r, uint64_t seq)
{
    if (seq < r->pruned_at + 2 * CHANGES_KEEP)
        return;
    if (gn_store_prune_changes(r->st, CHANGES_KEEP) == GN_REG_OK)
        r->pruned_at = seq;              /* a busy database is tried again next time */
}

gn_reg_autoreg *gn_registry_autoreg_state(gn_registry *r) { return r->ar; }

static void retire(gn_registry *r, gn_reg_retired *bundle)
{
    if (!bundle)
        return;
    if (r->own_qsbr)
        gn_qsbr_defer(r->own_qsbr, gn_reg_retired_free, NULL, bundle);
    else
        r->opts.defer(r->opts.reclaim_ctx, gn_reg_retired_free, NULL, bundle);
}

static void reclaim(gn_registry *r)
{
    if (r->own_qsbr)
        gn_qsbr_poll(r->own_qsbr);
    else if (r->opts.reclaim)
        r->opts.reclaim(r->opts.reclaim_ctx);
}

static void publish(gn_registry *r, gn_reg_snapshot *next)
{
    /* release: pairs with the acquire in gn_registry_snapshot */
    atomic_store_explicit(&r->cur, next, memory_order_release);
    r->st_.swaps++;
    r->st_.generation = next->generation;
}

static void trust_free(void *ctx, void *t)
{
    (void)ctx;
    gn_reg_trust_free(t);
}

/* Rebuild the orgs' trust stores when org_cas changed; caller holds mu. */
static gn_reg_err trust_refresh(gn_registry *r)
{
    int64_t v = 0;
    gn_reg_err rc = gn_store_org_ca_version(r->st, &v);
    if (rc != GN_REG_OK || v == r->ca_version)
        return rc;
    gn_reg_trust *t = NULL;
    unsigned skipped = 0;
    rc = gn_reg_trust_build(r->st, r->anchors, &t, &skipped);
    if (rc != GN_REG_OK) {
        r->st_.store_errors++;
        return rc;
    }
    r->ca_version = v;
    r->st_.ca_skipped = skipped;
    r->st_.trust_builds++;
    /* release: pairs with the acquire in gn_registry_trust */
    gn_reg_trust *old = atomic_exchange_explicit(&r->trust, t, memory_order_acq_rel);
    if (!old)
        return GN_REG_OK;
    if (r->own_qsbr)
        gn_qsbr_defer(r->own_qsbr, trust_free, NULL, old);
    else
        r->opts.defer(r->opts.reclaim_ctx, trust_free, NULL, old);
    return GN_REG_OK;
}

/* Snapshot with only the built-in quickstart org (no store). */
static gn_reg_snapshot *snapshot_quickstart_only(uint64_t gen)
{
    gn_reg_snap_builder *b = gn_reg_snap_builder_new();
    if (!b)
        return NULL;
    gn_reg_org q = {.uid = 1, .id_len = 10, .status = GN_REG_ENABLED, .quickstart = true};
    memcpy(q.id, GN_REG_QUICKSTART, 11);
    gn_reg_org_settings_quickstart(&q.s);
    if (gn_reg_snap_add_org(b, &q) != GN_REG_OK) {
        gn_reg_snap_builder_free(b);
        return NULL;
    }
    return gn_reg_snap_builder_finish(b, gen, 0, NULL);
}

/* Full build from the store; caller holds mu (or is the opener). */
static gn_reg_err full_build(gn_registry *r, char *err, size_t errlen)
{
    uint64_t t0 = now_us();
    gn_reg_snap_builder *b = gn_reg_snap_builder_new();
    if (!b)
        return GN_REG_ERR_NOMEM;
    uint64_t seq = 0, groups = 0;
    gn_reg_err rc = gn_store_data_version(r->st, &r->data_version);
    if (rc == GN_REG_OK)
        rc = gn_store_load(r->st, b, &seq);
    if (rc == GN_REG_OK)
        rc = gn_store_group_count(r->st, &groups);
    if (rc != GN_REG_OK) {
        if (err)
            snprintf(err, errlen, "registry %s: %s", r->path, gn_store_errmsg(r->st));
        gn_reg_snap_builder_free(b);
        r->st_.store_errors++;
        return rc;
    }
    gn_reg_snap_set_groups(b, groups);
    gn_reg_snapshot *old = atomic_load_explicit(&r->cur, memory_order_relaxed);
    gn_reg_snapshot *s = gn_reg_snap_builder_finish(b, ++r->generation, seq, old);
    if (!s)
        return GN_REG_ERR_NOMEM;
    gn_reg_retired *gone = old ? gn_reg_snap_retired_whole(old) : NULL;
    if (old && !gone) {
        gn_reg_snap_free(s);
        return GN_REG_ERR_NOMEM;
    }
    trust_refresh(r);                   /* first: shards recheck TLS against the new CAs */
    publish(r, s);
    retire(r, gone);
    r->st_.full_builds++;
    r->st_.last_build_us = now_us() - t0;
    return GN_REG_OK;
}

/* ---- incremental refresh */

typedef struct change_key {
    uint8_t kind;
    char org[GN_REG_ORG_MAX + 1], type[GN_REG_ID_MAX + 1], id[GN_REG_APIKEY_LEN + GN_REG_ID_MAX];
} change_key;

typedef struct change_list {
    change_key *v;
    size_t n, cap;
    bool nomem;
} change_list;

static void collect_change(void *ctx, gn_reg_kind kind, const char *org, const char *type,
                           const char *id)
{
    change_list *l = ctx;
    if (l->nomem)
        return;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 64;
        change_key *nv = realloc(l->v, nc * sizeof *nv);
        if (!nv) {
            l->nomem = true;
            return;
        }
        l->v = nv;
        l->cap = nc;
    }
    change_key *k = &l->v[l->n++];
    memset(k, 0, sizeof *k);
    k->kind = (uint8_t)kind;
    snprintf(k->org, sizeof k->org, "%s", org ? org : "");
    snprintf(k->type, sizeof k->type, "%s", type ? type : "");
    snprintf(k->id, sizeof k->id, "%s", id ? id : "");
}

static int change_cmp(const void *a, const void *b)
{
    const change_key *x = a, *y = b;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    int c = strcmp(x->org, y->org);
    if (!c)
        c = strcmp(x->type, y->type);
    if (!c)
        c = strcmp(x->id, y->id);
    return c;
}

typedef union any_rec {
    gn_reg_org o;
    gn_reg_type t;
    gn_reg_device d;
    gn_reg_apikey k;
} any_rec;

/* Apply the store's changes since the current snapshot; caller holds mu. */
static gn_reg_err refresh_locked(gn_registry *r, bool force)
{
    if (!r->st)
        return GN_REG_OK;
    int64_t dv;
    if (gn_store_data_version(r->st, &dv) != GN_REG_OK) {
        r->st_.store_errors++;
        return GN_REG_ERR_STORE;
    }
    if (dv == r->data_version && !force)
        return GN_REG_OK;
    r->data_version = dv;
    gn_reg_snapshot *old = atomic_load_explicit(&r->cur, memory_order_relaxed);
    change_list l = {0};
    uint64_t last = old->store_seq;
    bool gap = false;
    gn_reg_err rc = gn_store_changes(r->st, old->store_seq, collect_change, &l, &last, &gap);
    if (rc != GN_REG_OK || l.nomem) {
        free(l.v);
        r->st_.store_errors++;
        return rc != GN_REG_OK ? rc : GN_REG_ERR_NOMEM;
    }
    if (last == old->store_seq && !gap) {
        free(l.v);
        return GN_REG_OK;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, change_cmp);      /* l.v is NULL when only a gap was seen */
    size_t u = 0;
    for (size_t i = 0; i < l.n; i++)
        if (!u || change_cmp(&l.v[u - 1], &l.v[i]) != 0)
            l.v[u++] = l.v[i];
    l.n = u;
    uint64_t total = old->devices.count + old->keys.count;
    if (gap || l.n > 4096 + total / 8) {
        free(l.v);
        return full_build(r, NULL, 0);
    }
    uint64_t t0 = now_us();
    any_rec *recs = malloc((l.n ? l.n : 1) * sizeof *recs);
    gn_reg_change *ch = malloc((l.n ? l.n : 1) * sizeof *ch);
    if (!recs || !ch) {
        free(recs);
        free(ch);
        free(l.v);
        return GN_REG_ERR_NOMEM;
    }
    for (size_t i = 0; i < l.n; i++) {
        change_key *k = &l.v[i];
        bool found = false;
        rc = gn_store_load_one(r->st, k->kind, k->org, k->type, k->id, &recs[i], &found);
        if (rc != GN_REG_OK)
            break;
        ch[i].kind = k->kind;
        if (k->kind == GN_REG_KIND_APIKEY)
            ch[i].key = (gn_reg_key){.a = k->id, .al = strlen(k->id)};
        else
            ch[i].key = (gn_reg_key){.a = k->org, .al = strlen(k->org), .b = k->type,
                                     .bl = strlen(k->type), .c = k->id, .cl = strlen(k->id)};
        ch[i].rec = found ? &recs[i] : NULL;
    }
    uint64_t groups = old->groups;
    if (rc == GN_REG_OK)
        rc = gn_store_group_count(r->st, &groups);
    if (rc != GN_REG_OK) {
        r->st_.store_errors++;
        free(recs);
        free(ch);
        free(l.v);
        return rc;
    }
    gn_reg_retired *gone = NULL;
    gn_reg_snapshot *s = gn_reg_snap_patch(old, ch, l.n, r->generation + 1, last, &gone);
    free(recs);
    free(ch);
    free(l.v);
    if (!s)
        return GN_REG_ERR_NOMEM;
    s->groups = groups;
    r->generation++;
    trust_refresh(r);                   /* first: shards recheck TLS against the new CAs */
    publish(r, s);
    retire(r, gone);
    r->st_.last_patch_us = now_us() - t0;
    prune_changes(r, last);
    return GN_REG_OK;
}

gn_reg_err gn_registry_refresh(gn_registry *r)
{
    pthread_mutex_lock(&r->mu);
    gn_reg_err rc = refresh_locked(r, true);
    pthread_mutex_unlock(&r->mu);
    reclaim(r);
    return rc;
}

gn_registry *gn_registry_open(const gn_registry_opts *opts, char *err, size_t errlen)
{
    gn_registry *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "registry: out of memory");
        return NULL;
    }
    r->opts = *opts;
    if (!r->opts.poll_interval_ms)
        r->opts.poll_interval_ms = 100;
    if (!r->opts.max_ports)
        r->opts.max_ports = 256;
    r->evfd = -1;
    r->ca_version = -1;
    pthread_mutex_init(&r->mu, NULL);
    if (!(r->anchors = gn_reg_trust_load_anchors(opts->ca_file, err, errlen)))
        goto fail;
    if (opts->path && *opts->path && !(r->path = strdup(opts->path))) {
        snprintf(err, errlen, "registry: out of memory");
        goto fail;
    }
    if (!opts->defer && !(r->own_qsbr = gn_qsbr_create(4096))) {
        snprintf(err, errlen, "registry: cannot create its QSBR domain");
        goto fail;
    }
    r->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->evfd < 0) {
        snprintf(err, errlen, "registry: eventfd: %s", strerror(errno));
        goto fail;
    }
    if (!(r->ar = gn_reg_autoreg_new(r->opts.max_ports, r->opts.autoreg_retry_ms))) {
        snprintf(err, errlen, "registry: out of memory");
        goto fail;
    }
    if (!r->path) {
        gn_reg_snapshot *s = snapshot_quickstart_only(++r->generation);
        if (!s) {
            snprintf(err, errlen, "registry: out of memory");
            goto fail;
        }
        publish(r, s);
        return r;
    }
    if (gn_store_open(&r->st, r->path, GN_STORE_CREATE, 100, err, errlen) != GN_REG_OK)
        goto fail;
    if (full_build(r, err, errlen) != GN_REG_OK)
        goto fail;
    return r;
fail:
    gn_registry_close(r);
    return NULL;
}

/* ---- thread */

static void *registry_main(void *arg)
{
    gn_registry *r = arg;
    struct pollfd pfd = {.fd = r->evfd, .events = POLLIN};
    /* seq_cst: pairs with the store in gn_registry_stop before its wake */
    while (!atomic_load(&r->stop)) {
        poll(&pfd, 1, (int)r->opts.poll_interval_ms);
        uint64_t v;
        while (read(r->evfd, &v, sizeof v) > 0) {
        }
        pthread_mutex_lock(&r->mu);
        gn_reg_autoreg_serve(r->ar, r);
        refresh_locked(r, false);
        pthread_mutex_unlock(&r->mu);
        reclaim(r);
    }
    return NULL;
}

gn_reg_err gn_registry_start(gn_registry *r, char *err, size_t errlen)
{
    if (r->running) {
        snprintf(err, errlen, "registry: already started");
        return GN_REG_ERR_STATE;
    }
    atomic_store(&r->stop, false);
    int e = pthread_create(&r->thread, NULL, registry_main, r);
    if (e) {
        snprintf(err, errlen, "registry: cannot start its thread: %s", strerror(e));
        return GN_REG_ERR_NOMEM;
    }
    pthread_setname_np(r->thread, "gn-registry");
    r->running = true;
    return GN_REG_OK;
}

void gn_registry_wake(gn_registry *r)
{
    uint64_t one = 1;
    ssize_t n = write(r->evfd, &one, sizeof one);
    (void)n;                             /* EAGAIN: the counter is already non-zero */
}

void gn_registry_stop(gn_registry *r)
{
    if (!r->running)
        return;
    atomic_store(&r->stop, true);
    gn_registry_wake(r);
    pthread_join(r->thread, NULL);
    r->running = false;
}

void gn_registry_close(gn_registry *r)
{
    if (!r)
        return;
    gn_registry_stop(r);
    gn_reg_autoreg_free(r->ar);
    gn_reg_snap_free(atomic_load_explicit(&r->cur, memory_order_relaxed));
    gn_reg_trust_free(atomic_load_explicit(&r->trust, memory_order_relaxed));
    sk_X509_pop_free(r->anchors, X509_free);
    if (r->own_qsbr)
        gn_qsbr_destroy(r->own_qsbr);
    gn_store_close(r->st);
    if (r->evfd >= 0)
        close(r->evfd);
    pthread_mutex_destroy(&r->mu);
    free(r->path);
    free(r);
}

const gn_reg_snapshot *gn_registry_snapshot(const gn_registry *r)
{
    /* acquire: pairs with the release in publish() */
    return atomic_load_explicit(&((gn_registry *)r)->cur, memory_order_acquire);
}

gn_qsbr *gn_registry_qsbr(gn_registry *r) { return r->own_qsbr; }

const gn_reg_trust *gn_registry_trust(const gn_registry *r)
{
    /* acquire: pairs with the exchange in trust_refresh() */
    return atomic_load_explicit(&((gn_registry *)r)->trust, memory_order_acquire);
}

void gn_registry_get_stats(gn_registry *r, gn_registry_stats *out)
{
    pthread_mutex_lock(&r->mu);
    *out = r->st_;
    gn_reg_autoreg_stats(r->ar, &out->autoreg_ok, &out->autoreg_failed, &out->autoreg_busy);
    pthread_mutex_unlock(&r->mu);
}

/* ---- used by reg_autoreg.c on the registry thread (mu held) */

gn_store *gn_registry_store(gn_registry *r) { return r->st; }

gn_reg_err gn_registry_refresh_locked(gn_registry *r)
{
    return refresh_locked(r, true);
}

uint64_t gn_registry_now_ms(void) { return now_us() / 1000u; }
