/* bench/loadgen/tls.h — gnload's TLS client mode (--tls): one client
 * SSL_CTX for the run (CA to verify the broker with --cafile, a client
 * certificate with --cert/--key), an SSL per connection over its
 * non-blocking socket, and send/recv wrappers with the semantics of
 * send(2)/recv(2) so conn.c keeps one code path.
 *
 * Threading: the context is built once (first attach, any thread) and
 * shared read-only; each SSL belongs to the worker owning its connection. */
#ifndef GL_TLS_H
#define GL_TLS_H

#include <stddef.h>
#include <sys/types.h>

#include "bench/loadgen/worker.h"

/* Give c (TCP just connected) an SSL in client mode; the handshake runs
 * inside the first gl_tls_send / gl_tls_recv calls. */
gl_status gl_tls_attach(const gl_opts *o, gl_conn *c);
/* Like send/recv: bytes moved, or -1 with errno EAGAIN (TLS wants the
 * socket again) or EPIPE / ECONNRESET; recv returns 0 at close_notify/EOF. */
ssize_t gl_tls_send(gl_conn *c, const void *p, size_t n);
ssize_t gl_tls_recv(gl_conn *c, void *p, size_t n);
/* Free c's SSL (socket closing). */
void gl_tls_detach(gl_conn *c);

#endif
