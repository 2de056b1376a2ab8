/* engine/engine.c — the public lifecycle of libgannet (engine/gannet.h):
 * create (router, shards with their listeners and rings, cross-shard
 * rings), start (shard threads), reload, graceful stop, wait, destroy,
 * and statistics. Also the default authentication hook. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/asan_options.h"
#include "engine/consumer.h"
#include "engine/engine_int.h"
#include "engine/gannet.h"
#include "engine/log.h"
#include "engine/platform/directory.h"
#include "engine/platform/platform.h"
#include "engine/route.h"
#include "engine/shard.h"
#include "engine/stream.h"
#include "engine/tls.h"

uint8_t gn_auth_accept_all(void *ctx, const uint8_t *client_id, size_t cid_len,
                           const uint8_t *user, size_t user_len, bool has_user,
                           const uint8_t *pass, size_t pass_len, bool has_pass)
{
    (void)ctx; (void)pass; (void)pass_len; (void)has_pass;
    gn_log_debug("auth: accepting '%.*s' (user %s%.*s)", (int)cid_len, (const char *)client_id,
                 has_user ? "" : "none", has_user ? (int)user_len : 0,
                 has_user ? (const char *)user : "");
    return 0;
}

void gn_engine_set_auth(gn_engine *e, gn_auth_fn fn, void *ctx)
{
    e->auth = fn ? fn : gn_auth_accept_all;
    e->auth_ctx = fn ? ctx : NULL;
}

/* The TLS context (when a certificate is configured; kept across restarts)
 * and the ports of the TLS / WebSocket listeners: distinct, and free like
 * `port` (after a stop, waiting up to 2 s for the old rings to let go). */
static int open_stream_listeners(gn_engine *e, bool rearm, char *err, size_t errlen)
{
    const gn_config *cfg = &e->cfg;
    if (!e->tls && cfg->tls_cert_file[0] && (cfg->tls_port || cfg->alpn_port || cfg->wss_port)) {
        e->tls = gn_tls_ctx_create(cfg, err, errlen);
        if (!e->tls)
            return -1;
    }
    gn_stream_listener_ports(cfg, e->tls != NULL, e->lports);
    for (int k = GN_LK_MQTT + 1; k < GN_LK_COUNT; k++) {
        uint16_t p = e->lports[k];
        if (!p)
            continue;
        for (int j = 0; j < k; j++) {
            if (e->lports[j] == p) {
                snprintf(err, errlen, "%s listener port %u is also the %s listener's",
                         gn_listen_kind_name((gn_listen_kind)k), p, gn_listen_kind_name((gn_listen_kind)j));
                return -1;
            }
        }
        int tries = rearm ? 200 : 1;
        while (gn_listen_probe(cfg->listen_address, p, err, errlen) < 0) {
            if (--tries <= 0)
                return -1;
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
    }
    return 0;
}

/* Shards (with their listeners and rings) and the cross-shard rings of a
 * fresh run; the router exists. */
static int shards_setup(gn_engine *e, bool rearm, char *err, size_t errlen)
{
    const gn_config *cfg = &e->cfg;
    for (uint16_t i = 0; i < e->nshards; i++) {
        e->shards[i].eng = e;
        e->shards[i].nshards = e->nshards;
    }
    if (gn_xshard_setup(e->shards, e->nshards, cfg->xshard_ring_slots) < 0) {
        snprintf(err, errlen, "out of memory creating the cross-shard rings");
        return -1;
    }
    if (cfg->port && gn_listen_probe(cfg->listen_address, cfg->port, err, errlen) < 0)
        return -1;
    if (open_stream_listeners(e, rearm, err, errlen) < 0)
        return -1;
    for (uint16_t i = 0; i < e->nshards; i++) {
        if (gn_shard_init(&e->shards[i], e, i, err, errlen) < 0)
            return -1;
        /* Port 0: every shard joins the port the first one was given. */
        if (e->cfg.port == 0)
            e->cfg.port = e->shards[i].tp->bound_port(e->shards[i].tpd);
    }
    return 0;
}

static void shards_teardown(gn_engine *e)
{
    gn_xshard_teardown(e->shards, e->nshards);
    for (uint16_t i = 0; i < e->nshards; i++)
        gn_shard_fini(&e->shards[i]);
}

/* A stopped engine starts again: fresh shards and router (sessions and
 * retained messages lived in them and ended with the stop), the same port,
 * the open consumers subscribed again. */
static int engine_rearm(gn_engine *e, char *err, size_t errlen)
{
    shards_teardown(e);
    memset(e->shards, 0, sizeof *e->shards * e->nshards);
    gn_route_destroy(e->router);
    if (!(e->router = gn_route_create(e->nshards, e->cfg.max_queued_messages / 2))) {
        snprintf(err, errlen, "out of memory creating the router");
        return -1;
    }
    /* The kernel tears an io_uring down asynchronously, and its cancelled
     * multishot accept keeps the old listener bound until then: wait (up to
     * 2 s) until the port is free again. */
    for (int i = 0; i < 200 && gn_listen_probe(e->cfg.listen_address, e->cfg.port, err, errlen) < 0; i++) {
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    if (shards_setup(e, true, err, errlen) < 0 || gn_consumers_rearm(e, err, errlen) < 0)
        return -1;
    /* seq_cst: gn_engine_wait of the new run waits again */
    atomic_store(&e->stopped, false);
    return 0;
}

/* Platform mode: the registry's hooks into the engine (directory.h). */
static void plat_defer(void *ctx, void (*fn)(void *fctx, void *ptr), void *fctx, void *ptr)
{
    gn_route_defer(((gn_engine *)ctx)->router, fn, fctx, ptr);
}

static void plat_reclaim(void *ctx)
{
    gn_route_reclaim(((gn_engine *)ctx)->router);
}

static void plat_wake(void *ctx, uint16_t shard)
{
    gn_engine *e = ctx;
    if (shard < e->nshards)
        e->shards[shard].tp->ctl_wake(e->shards[shard].tpd);
}

gn_engine *gn_engine_create(const gn_config *cfg, char *err, size_t errlen)
{
    if (gn_config_validate(cfg, err, errlen) < 0)
        return NULL;
    gn_engine *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    e->cfg = *cfg;
    e->nshards = (uint16_t)(cfg->shards ? cfg->shards : 1);
    e->auth = gn_auth_accept_all;
    pthread_mutex_init(&e->wait_mu, NULL);
    pthread_mutex_init(&e->cfg_mu, NULL);
    pthread_cond_init(&e->wait_cv, NULL);
    gn_log_set_level(cfg->log_level);
    e->shards = calloc(e->nshards, sizeof *e->shards);
    if (!e->shards || gn_cset_create(e) < 0 ||
        !(e->router = gn_route_create(e->nshards, cfg->max_queued_messages / 2))) {
        snprintf(err, errlen, "out of memory creating the router");
        goto fail;
    }
    if (shards_setup(e, false, err, errlen) < 0)
        goto fail;
    if (cfg->mode == GN_MODE_PLATFORM) {
        gn_pdir_hooks hooks = { .ctx = e, .defer = plat_defer, .reclaim = plat_reclaim,
                                .wake = plat_wake,
                                .poll_interval_ms = cfg->registry_poll_interval_ms,
                                .token_cache = cfg->registry_token_cache,
                                .autoreg_retry_ms = cfg->registry_autoreg_retry_s * 1000u,
                                .tls_ca_file = cfg->tls_ca_file };
        if (!(e->plat = gn_platform_create(&e->cfg, e->nshards, &hooks, err, errlen)))
            goto fail;
        if (e->tls)         /* client certificates against the orgs' own CAs (S-036) */
            gn_tls_ctx_set_trust(e->tls, gn_plat_tls_trust, e->plat);
    }
    return e;
fail:
    gn_engine_destroy(e);
    return NULL;
}

gn_engine *gn_engine_create_from_file(const char *path, char *err, size_t errlen)
{
    gn_config cfg;
    gn_config_defaults(&cfg);
    if (gn_config_load_file(&cfg, path, err, errlen) < 0)
        return NULL;
    return gn_engine_create(&cfg, err, errlen);
}

uint16_t gn_engine_port(const gn_engine *e)
{
    return e->cfg.port;
}

int gn_engine_start(gn_engine *e, char *err, size_t errlen)
{
    const gn_config *c = &e->cfg;
    if (e->started) {
        snprintf(err, errlen, "the engine is already running");
        return -1;
    }
    if (e->ran && engine_rearm(e, err, errlen) < 0)
        return -1;
    gn_log_info("gannet %s: listening on %s:%u (TCP, MQTT 3.1/3.1.1/5.0), %u shard%s",
                GANNET_VERSION, c->listen_address, c->port, e->nshards, e->nshards == 1 ? "" : "s");
    gn_log_info("I/O: %s", e->shards[0].tp->features(e->shards[0].tpd));
    for (int k = GN_LK_MQTT + 1; k < GN_LK_COUNT; k++)
        if (e->lports[k])
            gn_log_info("listening on %s:%u (%s%s%s)", c->listen_address, e->lports[k],
                        gn_listen_kind_name((gn_listen_kind)k),
                        k == GN_LK_WS || k == GN_LK_WSS ? ", path " : "",
                        k == GN_LK_WS || k == GN_LK_WSS ? c->ws_path : "");
    if (e->tls)
        gn_log_info("TLS: %s", gn_tls_ctx_describe(e->tls));
    else if (c->tls_port || c->alpn_port || c->wss_port)
        gn_log_info("TLS listeners off: no tls_cert_file/tls_key_file. For a development CA and "
                    "server certificate run 'gannet-certs DIR', then set tls_cert_file DIR/server.crt "
                    "and tls_key_file DIR/server.key (docs/TLS.md)");
    if (c->sqpoll && !strstr(e->shards[0].tp->features(e->shards[0].tpd), "SQPOLL"))
        gn_log_warn("sqpoll: the kernel refused IORING_SETUP_SQPOLL; each shard submits from its own thread");
    else if (c->sqpoll)
        gn_log_info("sqpoll: on, one kernel submission thread per shard, idle after %u ms", c->sqpoll_idle_ms);
    if (e->plat)
        gn_log_info("authentication: platform rules (client-id classes, tokens and API keys "
                    "from the registry)");
    else if (e->auth == gn_auth_accept_all)
        gn_log_info("authentication: default hook, every client is accepted");
    for (uint16_t i = 0; i < e->nshards; i++) {
        if (gn_shard_start(&e->shards[i], err, errlen) < 0) {
            for (uint16_t j = 0; j < i; j++)
                gn_shard_request_stop(&e->shards[j]);
            for (uint16_t j = 0; j < i; j++)
                gn_shard_join(&e->shards[j]);
            return -1;
        }
    }
    e->started = true;
    e->ran = true;
    gn_consumers_set_running(e, true);
    return 0;
}

int gn_engine_reload(gn_engine *e, const gn_config *cfg, char *err, size_t errlen)
{
    if (gn_config_validate(cfg, err, errlen) < 0)
        return -1;
    char diff[512];
    int nd = gn_config_static_diff(&e->cfg, cfg, diff, sizeof diff);
    gn_config *live = &e->cfg;
    /* Reloadable keys, written under cfg_mu: shards copy the whole struct
     * under it at their next turn (gn_shard_config_changed). */
    pthread_mutex_lock(&e->cfg_mu);
    live->max_connections = cfg->max_connections;
    live->connect_timeout_ms = cfg->connect_timeout_ms;
    live->max_packet_size = cfg->max_packet_size;
    live->receive_maximum = cfg->receive_maximum;
    live->max_inflight_messages = cfg->max_inflight_messages;
    live->max_queued_messages = cfg->max_queued_messages;
    live->qos0_high_water_bytes = cfg->qos0_high_water_bytes;
    live->max_keepalive = cfg->max_keepalive;
    live->server_keep_alive = cfg->server_keep_alive;
    live->max_qos = cfg->max_qos;
    live->retain_available = cfg->retain_available;
    live->wildcard_subscription_available = cfg->wildcard_subscription_available;
    live->shared_subscription_available = cfg->shared_subscription_available;
    live->subscription_identifier_available = cfg->subscription_identifier_available;
    live->max_topic_alias = cfg->max_topic_alias;
    live->max_session_expiry_interval = cfg->max_session_expiry_interval;
    live->allow_zero_length_clientid = cfg->allow_zero_length_clientid;
    live->allow_anonymous = cfg->allow_anonymous;
    live->rate_limit = cfg->rate_limit;
    live->rate_unit_bytes = cfg->rate_unit_bytes;
    live->shutdown_grace_ms = cfg->shutdown_grace_ms;
    live->log_level = cfg->log_level;
    live->platform_max_payload = cfg->platform_max_payload;
    live->platform_first_packet_max = cfg->platform_first_packet_max;
    live->platform_max_connections = cfg->platform_max_connections;
    live->platform_max_org_connections = cfg->platform_max_org_connections;
    live->platform_max_app_groups = cfg->platform_max_app_groups;
    live->platform_max_app_instances = cfg->platform_max_app_instances;
    live->platform_max_subscriptions_device = cfg->platform_max_subscriptions_device;
    live->platform_max_subscriptions_app = cfg->platform_max_subscriptions_app;
    live->platform_max_auth_per_second = cfg->platform_max_auth_per_second;
    live->platform_queue_depth_device = cfg->platform_queue_depth_device;
    live->platform_queue_depth_app = cfg->platform_queue_depth_app;
    live->platform_inflight_device = cfg->platform_inflight_device;
    live->platform_inflight_gateway = cfg->platform_inflight_gateway;
    live->platform_inflight_app = cfg->platform_inflight_app;
    live->platform_topic_alias_max = cfg->platform_topic_alias_max;
    live->platform_shared_keepalive_max = cfg->platform_shared_keepalive_max;
    live->platform_scalable_clean_only = cfg->platform_scalable_clean_only;
    live->platform_throttle_time_scale = cfg->platform_throttle_time_scale;
    pthread_mutex_unlock(&e->cfg_mu);
    /* release: the shard that sees the new generation copies what was written above */
    atomic_fetch_add_explicit(&e->cfg_gen, 1, memory_order_release);
    for (uint16_t i = 0; i < e->nshards; i++)
        gn_shard_config_changed(&e->shards[i]);
    gn_log_set_level(cfg->log_level);
    if (nd > 0) {
        snprintf(err, errlen, "ignored until restart: %s", diff);
        return -1;
    }
    return 0;
}

void gn_engine_stop(gn_engine *e)
{
    if (!e->started)
        return;
    gn_consumers_set_running(e, false);
    for (uint16_t i = 0; i < e->nshards; i++)
        gn_shard_request_stop(&e->shards[i]);
    for (uint16_t i = 0; i < e->nshards; i++)
        gn_shard_join(&e->shards[i]);
    e->started = false;
    pthread_mutex_lock(&e->wait_mu);
    /* seq_cst: read by gn_engine_wait under the same mutex */
    atomic_store(&e->stopped, true);
    pthread_cond_broadcast(&e->wait_cv);
    pthread_mutex_unlock(&e->wait_mu);
}

void gn_engine_wait(gn_engine *e)
{
    pthread_mutex_lock(&e->wait_mu);
    /* seq_cst: pairs with the store in gn_engine_stop */
    while (!atomic_load(&e->stopped))
        pthread_cond_wait(&e->wait_cv, &e->wait_mu);
    pthread_mutex_unlock(&e->wait_mu);
}

void gn_engine_destroy(gn_engine *e)
{
    if (!e)
        return;
    if (e->started)
        gn_engine_stop(e);
    if (e->consumers)
        gn_cset_destroy(e);     /* before the router: consumers unsubscribe */
    if (e->shards)
        shards_teardown(e);
    /* The registry's snapshots are reclaimed through the router: close it first. */
    gn_platform_destroy(e->plat);
    if (e->router)
        gn_route_destroy(e->router);
    gn_tls_ctx_destroy(e->tls);
    free(e->shards);
    pthread_mutex_destroy(&e->wait_mu);
    pthread_mutex_destroy(&e->cfg_mu);
    pthread_cond_destroy(&e->wait_cv);
    free(e);
}

void gn_engine_get_stats(const gn_engine *e, gn_engine_stats *out)
{
    memset(out, 0, sizeof *out);
    for (uint16_t i = 0; i < e->nshards; i++) {
        gn_shard_stats *st = &e->shards[i].stats;
        /* relaxed: statistics, approximate while running */
        out->connections_current += atomic_load_explicit(&st->conns_current, memory_order_relaxed);
        out->connections_total += atomic_load_explicit(&st->conns_total, memory_order_relaxed);
        out->msgs_received += atomic_load_explicit(&st->msgs_in, memory_order_relaxed);
        out->msgs_sent += atomic_load_explicit(&st->msgs_out, memory_order_relaxed);
        out->bytes_received += atomic_load_explicit(&st->bytes_in, memory_order_relaxed);
        out->bytes_sent += atomic_load_explicit(&st->bytes_out, memory_order_relaxed);
        out->qos0_dropped += atomic_load_explicit(&st->qos0_dropped, memory_order_relaxed);
        out->protocol_errors += atomic_load_explicit(&st->protocol_errors, memory_order_relaxed);
        out->qos1_dropped_offline += atomic_load_explicit(&st->qos1_dropped_offline, memory_order_relaxed);
        out->queue_dropped_oldest += atomic_load_explicit(&st->queue_dropped_oldest, memory_order_relaxed);
    }
}
