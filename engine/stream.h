/* engine/stream.h — the per-connection byte-stream layer between the
 * transport and MQTT framing: TLS (engine/tls.h, memory BIOs), WebSockets
 * (engine/ws_proto.h) or both, chosen by the listener that accepted the
 * connection. A plain MQTT connection has no stream (c->stream == NULL) and
 * none of this is on its path.
 *
 * Inbound: the receive completion's bytes go through TLS and / or the
 * WebSocket decoder eagerly, and the MQTT bytes that come out go to
 * gn_conn_on_plain (which frames them, or keeps them in the carry while the
 * connection is paused or moving shards). Outbound: the MQTT layer queues
 * plaintext in c->out as before; at flush time gn_stream_wire encodes (WS
 * frame, TLS records) at most GN_STREAM_WIRE_HIGH bytes ahead into the
 * stream's wire queue, which the transport sends (still one send per
 * connection per turn), so c->out keeps measuring the backlog.
 *
 * Threading: the owning shard's thread. A stream moves with its connection
 * on a client-id handoff (gn_handoff.stream) and is then used by the owner
 * shard only. */
#ifndef GN_ENGINE_STREAM_H
#define GN_ENGINE_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/config.h"
#include "engine/transport.h"

typedef struct gn_conn gn_conn;
typedef struct gn_stream gn_stream;
typedef struct gn_tls_ctx gn_tls_ctx;

#define GN_STREAM_WIRE_HIGH (64u * 1024)    /* encode ahead while the wire queue is below this */

/* The listening port of each kind for cfg (0: off); TLS kinds stay off
 * without a TLS context. out[GN_LK_MQTT] is cfg->port. */
void gn_stream_listener_ports(const gn_config *cfg, bool tls_on, uint16_t out[GN_LK_COUNT]);
/* "mqtt/tls", "ws", ... for logs. */
const char *gn_listen_kind_name(gn_listen_kind k);

/* Give c (just accepted on a listener of kind k != GN_LK_MQTT) its stream.
 * tls is the engine's context (NULL only for GN_LK_WS). -1 on allocation
 * failure (the caller closes c). */
int gn_stream_attach(gn_conn *c, gn_listen_kind k, gn_tls_ctx *tls);
/* Bytes received for c (c->stream != NULL). */
void gn_stream_on_bytes(gn_conn *c, const uint8_t *data, size_t len);
/* Encode pending plaintext and return the wire queue. */
struct gn_outq *gn_stream_wire(gn_conn *c);
bool gn_stream_has_output(gn_conn *c);
/* n wire bytes were written. */
void gn_stream_on_sent(gn_conn *c, size_t n);
/* Handoff: may c's stream move now (nothing unsent or in flight)? When
 * not, the handoff is retried by gn_stream_on_sent once the wire drained. */
bool gn_stream_handoff_ready(gn_conn *c);
/* Adopt st (moved from another shard) as c's stream. */
void gn_stream_adopt(gn_conn *c, gn_stream *st);
/* Free c's stream (connection released). */
void gn_stream_release(gn_conn *c);
/* Free a stream that never reached a connection (handoff dropped). */
void gn_stream_discard(gn_stream *st);

#endif
