/* bench/loadgen/storm.h — the connection-storm cycle of one slot: open,
 * CONNECT, CONNACK, DISCONNECT, close with RST (no TIME_WAIT, so ephemeral
 * ports are not exhausted), start again.
 *
 * Called only by the worker thread that owns the slot. */
#ifndef GL_STORM_H
#define GL_STORM_H

#include <stdint.h>

#include "bench/loadgen/worker.h"

/* Begin a new attempt in slot c (socket + connect). */
void gl_storm_begin(gl_worker *w, gl_conn *c, uint64_t now);
/* The attempt in c got its CONNACK: count it, close, begin the next one
 * while the phase is RUN. */
void gl_storm_done(gl_worker *w, gl_conn *c, uint64_t now, int phase);
/* The attempt failed: count it, close, begin the next one while RUN. */
void gl_storm_failed(gl_worker *w, gl_conn *c, uint64_t now, int phase);
/* The TCP connection is up: queue the CONNECT. */
gl_status gl_storm_send_connect(gl_worker *w, gl_conn *c);

#endif
