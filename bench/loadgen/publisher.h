/* bench/loadgen/publisher.h — filling a publisher's outbound queue with
 * copies of its pre-encoded PUBLISH, patched with sequence number, send
 * timestamp and (QoS > 0) a free packet identifier, within the rate limit,
 * the in-flight window and the --count quota.
 *
 * Called only by the worker thread that owns the connection. */
#ifndef GL_PUBLISHER_H
#define GL_PUBLISHER_H

#include <stdint.h>

#include "bench/loadgen/worker.h"

/* Set up publisher c (template, id table, quota). */
gl_status gl_publisher_init(gl_worker *w, gl_conn *c, uint64_t quota);
/* Start the rate clock (at the RUN phase). */
void gl_publisher_start(const gl_worker *w, gl_conn *c, uint64_t now);
/* Queue as many publishes as allowed now (none if the queue is still half
 * full). Returns how many were queued. */
uint32_t gl_publisher_fill(gl_worker *w, gl_conn *c, uint64_t now);

#endif
