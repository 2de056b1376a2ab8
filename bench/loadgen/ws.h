/* bench/loadgen/ws.h — gnload's WebSocket client mode (--ws, with --tls
 * for wss): the HTTP upgrade (subprotocol mqtt), the outbound queue sent as
 * masked binary frames, and inbound frames stripped so the MQTT framing
 * sees only payload. A PUBLISH counts as sent once the frame carrying it is
 * completely with the kernel.
 *
 * Threading: the worker that owns the connection. */
#ifndef GL_WS_H
#define GL_WS_H

#include <stddef.h>
#include <sys/types.h>

#include "bench/loadgen/worker.h"

/* Queue the upgrade request for c (TCP, and TLS if any, just set up). */
gl_status gl_ws_attach(const gl_opts *o, gl_conn *c);
/* Send c's queue as frames (advances c->out_head as frames complete). */
gl_status gl_ws_flush(gl_conn *c, uint64_t now);
/* Like recv: payload bytes, 0 at close / EOF, -1 with errno (EAGAIN). */
ssize_t gl_ws_recv(gl_conn *c, void *p, size_t n);
void gl_ws_detach(gl_conn *c);

#endif
