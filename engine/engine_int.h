/* engine/engine_int.h — the engine object behind engine/gannet.h, as the
 * shards see it: the configuration, the shards, the shared router and the
 * authentication hook.
 *
 * Threading: cfg is the controller's: shards never read it while they run.
 * Each shard works from its own copy (gn_shard.cfg), taken at start and
 * again after a reload: gn_engine_reload writes cfg's reloadable fields
 * under cfg_mu and bumps cfg_gen; a shard that sees a new cfg_gen copies
 * cfg under cfg_mu at the start of its next loop turn. The shards array is
 * fixed between gn_engine_create and gn_engine_destroy. */
#ifndef GN_ENGINE_ENGINE_INT_H
#define GN_ENGINE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/gannet.h"
#include "engine/transport.h"

typedef struct gn_shard gn_shard;
struct gn_router;
struct gn_cset;
struct gn_platform;

struct gn_engine {
    gn_config         cfg;
    pthread_mutex_t   cfg_mu;      /* held by reload while writing cfg and by shards while copying it */
    _Atomic uint32_t  cfg_gen;     /* release by reload after writing cfg; acquire by shards before copying */
    uint16_t          nshards;
    gn_shard         *shards;
    struct gn_router *router;
    struct gn_platform *plat;      /* platform mode's rules (engine/platform/); NULL in plain mode */
    struct gn_tls_ctx *tls;        /* NULL: no certificate, TLS listeners off */
    uint16_t          lports[GN_LK_COUNT]; /* listening port by gn_listen_kind (0: off) */
    gn_auth_fn        auth;
    void             *auth_ctx;
    struct gn_cset   *consumers;   /* consumers and in-process publishes (engine/consumer.h) */
    bool              ran;         /* started before: the next start re-arms shards and router */
    _Atomic bool      stopped;     /* seq_cst: set after all shards joined; read by gn_engine_wait */
    bool              started;
    pthread_mutex_t   wait_mu;
    pthread_cond_t    wait_cv;
};

/* The default authentication hook: accepts everyone (logged once at start). */
uint8_t gn_auth_accept_all(void *ctx, const uint8_t *client_id, size_t cid_len,
                           const uint8_t *user, size_t user_len, bool has_user,
                           const uint8_t *pass, size_t pass_len, bool has_pass);

#endif
