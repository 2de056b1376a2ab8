/* bench/loadgen/conn.h — one client socket: non-blocking connect, the
 * outbound byte queue (with exact accounting of PUBLISH packets actually
 * handed to the kernel) and the inbound buffer.
 *
 * Called only by the worker thread that owns the connection. */
#ifndef GL_CONN_H
#define GL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "bench/loadgen/worker.h"

/* Buffer sizes by role: the inbound buffer grows for large packets, the
 * outbound one for large publishes. */
gl_status gl_conn_alloc(gl_conn *c, uint32_t in_cap, uint32_t out_cap);
void gl_conn_release(gl_conn *c);

/* socket + connect (EINPROGRESS) + epoll registration; state CONNECTING. */
gl_status gl_conn_open(gl_worker *w, gl_conn *c);
/* Called on the first EPOLLOUT while CONNECTING: GL_OK when connected. */
gl_status gl_conn_connected(gl_conn *c);
/* Close the socket (rst: SO_LINGER 0, no TIME_WAIT), forget queued bytes,
 * bump the generation; state becomes `state`. */
void gl_conn_close(gl_conn *c, bool rst, gl_cstate state);

/* Room for len more outbound bytes at out + out_tail (compacts or grows).
 * NULL on allocation failure. The caller advances out_tail. */
uint8_t *gl_conn_reserve(gl_conn *c, size_t len);
/* Free outbound space without compacting or growing. */
static inline size_t gl_conn_out_room(const gl_conn *c)
{
    return (size_t)c->out_cap - c->out_tail;
}
/* Queue bytes. */
gl_status gl_conn_put(gl_conn *c, const void *p, size_t len);

/* Send as much queued data as the socket takes; counts completely sent
 * PUBLISH packets into w->sent. GL_ERR_CLOSED on a socket error. */
gl_status gl_conn_flush(gl_worker *w, gl_conn *c, uint64_t now);

/* Read once into the inbound buffer. GL_OK with *got > 0, GL_OK with
 * *got == 0 on EAGAIN, GL_ERR_CLOSED on EOF or a socket error. */
gl_status gl_conn_read(gl_conn *c, size_t *got);

/* Make sure the inbound buffer can hold `total` bytes in all (packet larger than it). */
gl_status gl_conn_in_grow(gl_conn *c, size_t total);

#endif
