/* engine/gannet.h — the public API of libgannet: configure, start and stop an
 * in-process Gannet engine. gannetd is a thin user of this header.
 *
 * Threading: gn_engine_* functions are called from one controlling thread
 * (not from a shard). The engine's shards are threads the library creates
 * in gn_engine_start and joins in gn_engine_stop. */
#ifndef GANNET_H
#define GANNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"

#define GANNET_VERSION "0.1.0"

typedef struct gn_engine gn_engine;

/* Create an engine from a validated configuration (copied; the caller keeps
 * ownership of cfg). Opens the listening sockets and sets up every shard's
 * io_uring, but runs nothing yet. Returns NULL and writes a one-line reason
 * into err[0..errlen) on failure (port in use, io_uring unavailable, ...). */
gn_engine *gn_engine_create(const gn_config *cfg, char *err, size_t errlen);

/* Start the shard threads. Returns 0, or -1 with err filled. */
int gn_engine_start(gn_engine *e, char *err, size_t errlen);

/* Apply the reloadable parts of cfg (limits, log level, auth settings) to a
 * running engine; listeners and shard count need a restart and are reported
 * in err as ignored. Returns 0 when everything reloadable was applied. */
int gn_engine_reload(gn_engine *e, const gn_config *cfg, char *err, size_t errlen);

/* Graceful stop: stop accepting, send MQTT 5 clients DISCONNECT 0x8B
 * (server shutting down), flush what can be flushed within
 * cfg->shutdown_grace_ms, close every connection, join the shards.
 * Safe to call from a signal-handling thread that is not a shard. */
void gn_engine_stop(gn_engine *e);

/* Block the calling thread until the engine has stopped (gn_engine_stop was
 * called, possibly from another thread). */
void gn_engine_wait(gn_engine *e);

/* Free everything. The engine must be stopped (or never started). */
void gn_engine_destroy(gn_engine *e);

/* Authentication hook: decides every CONNECT. Called on the shard thread
 * that owns the client id (so concurrently from several shards), before
 * the session is touched. Returns an MQTT 5 CONNACK reason code: 0 accepts,
 * anything else refuses (MQTT 3.x clients get the closest 3.x return code,
 * e.g. 0x87 -> 5). Strings are not NUL-terminated and valid only during the
 * call. The default hook accepts everyone and says so in the start-up log. */
typedef uint8_t (*gn_auth_fn)(void *ctx, const uint8_t *client_id, size_t cid_len,
                              const uint8_t *user, size_t user_len, bool has_user,
                              const uint8_t *pass, size_t pass_len, bool has_pass);

/* Install the hook before gn_engine_start (NULL restores the default). */
void gn_engine_set_auth(gn_engine *e, gn_auth_fn fn, void *ctx);

/* Counters summed over shards (read without stopping the engine; values
 * are approximate while it runs). */
typedef struct gn_engine_stats {
    uint64_t connections_current;
    uint64_t connections_total;
    uint64_t msgs_received;
    uint64_t msgs_sent;
    uint64_t bytes_received;
    uint64_t bytes_sent;
    uint64_t qos0_dropped;          /* slow-subscriber QoS 0 drops */
    uint64_t protocol_errors;
} gn_engine_stats;

void gn_engine_get_stats(const gn_engine *e, gn_engine_stats *out);

#endif
