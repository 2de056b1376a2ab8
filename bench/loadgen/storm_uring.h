/* bench/loadgen/storm_uring.h — the connection storm on io_uring: every
 * attempt is one linked chain socket → SO_LINGER 0 → connect → send
 * CONNECT → recv CONNACK → close, on a fixed-file slot, with many chains
 * in flight and one io_uring_enter per batch (no per-attempt syscalls).
 *
 * Runs on the worker's own thread instead of its epoll loop (called from
 * gl_worker_main); everything it touches belongs to that worker. */
#ifndef GL_STORM_URING_H
#define GL_STORM_URING_H

#include "bench/loadgen/worker.h"

/* Run the storm until the phase is STOP. Sets w->fatal on a set-up error
 * (no io_uring, kernel without IORING_OP_SOCKET / socket commands). */
void gl_storm_uring_run(gl_worker *w);

#endif
