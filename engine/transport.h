/* engine/transport.h — the small interface between the MQTT session logic
 * and an I/O backend (io_uring now, DPDK later).
 *
 * The backend owns the shard's event wait, the listening socket, receive
 * buffers and the sockets of its connections. The engine owns connections
 * (gn_conn), their outbound queues and everything MQTT.
 *
 * Threading: every function here is called by the shard thread that owns
 * the transport instance, and the backend calls the engine callbacks below
 * on that same thread. Nothing is shared with other shards except through
 * wake(), which only signals. */
#ifndef GN_ENGINE_TRANSPORT_H
#define GN_ENGINE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gn_shard gn_shard;
typedef struct gn_conn gn_conn;

/* Listener kinds: what wraps the MQTT byte stream of a connection
 * accepted there (engine/stream.h). GN_LK_MQTT is `port`; the others are
 * off while their port is 0. */
typedef enum gn_listen_kind {
    GN_LK_MQTT = 0,     /* plain MQTT over TCP */
    GN_LK_TLS,          /* MQTT over TLS */
    GN_LK_ALPN,         /* TLS; ALPN "mqtt" -> MQTT, "http/1.1" -> WebSockets */
    GN_LK_WS,           /* MQTT over WebSockets */
    GN_LK_WSS,          /* MQTT over WebSockets over TLS */
    GN_LK_COUNT,
} gn_listen_kind;

/* What a backend needs to know to set itself up. */
typedef struct gn_tp_params {
    const char *bind_addr;      /* numeric IPv4/IPv6 address, "0.0.0.0" for any */
    uint16_t    port;
    uint16_t    kind_port[GN_LK_COUNT]; /* the other listeners by kind (0: off; [GN_LK_MQTT] unused) */
    uint16_t    shard_id;
    uint32_t    ring_entries;   /* submission queue size */
    uint32_t    buf_size;       /* bytes per provided receive buffer */
    uint32_t    buf_count;      /* provided buffers per shard (power of two) */
    int         backlog;
    bool        tcp_nodelay;    /* set TCP_NODELAY on accepted sockets (on the listener: inherited) */
    uint32_t    sqpoll_idle_ms; /* 0: no SQPOLL; else IORING_SETUP_SQPOLL with this idle time */
} gn_tp_params;

typedef struct gn_transport_ops {
    const char *name;
    /* Create the backend state for shard s (listener, rings, buffers).
     * Returns NULL with err filled on failure. */
    void *(*create)(gn_shard *s, const gn_tp_params *p, char *err, size_t errlen);
    /* The port the listener is bound to (useful when asked for port 0). */
    uint16_t (*bound_port)(void *tp);
    /* One line describing the features in use (for the start-up log). */
    const char *(*features)(void *tp);
    /* Start accepting connections (called on the shard thread). */
    int  (*start)(void *tp);
    /* Stop accepting (graceful shutdown); existing connections stay. */
    void (*stop_accept)(void *tp);
    /* Submit queued work and wait up to timeout_ms (0: do not block) for
     * events; dispatch them to the engine callbacks. After a blocking wait
     * the shard's now_ms is refreshed before the first callback. Returns
     * the number of completions dispatched. */
    int  (*poll)(void *tp, int timeout_ms);
    /* Begin receiving on c (adopt its fd). Data arrives via gn_conn_on_bytes. */
    void (*recv_start)(void *tp, gn_conn *c);
    /* Stop receiving on c; gn_conn_on_recv_stopped is called once no more
     * data can arrive (immediately if nothing was armed). */
    void (*recv_stop)(void *tp, gn_conn *c);
    /* Send what c's outbound queue holds if no send is in flight. */
    void (*flush)(void *tp, gn_conn *c);
    /* Close c's socket once nothing is in flight, then call
     * gn_conn_on_released. */
    void (*close)(void *tp, gn_conn *c);
    /* Wake shard `to` from its poll (called on the sender's shard thread). */
    void (*wake)(void *tp, gn_shard *to);
    /* Wake this shard's poll from a thread that is not a shard (the
     * controller). Async-signal-safe and callable from any thread. */
    void (*ctl_wake)(void *tp);
    /* Free everything; every connection must have been released. */
    void (*destroy)(void *tp);
} gn_transport_ops;

/* Check that bind_addr:port is free (not held by another process), since
 * shard listeners use SO_REUSEPORT. 0, or -1 with err filled. */
int gn_listen_probe(const char *bind_addr, uint16_t port, char *err, size_t errlen);

/* The io_uring backend. */
extern const gn_transport_ops gn_uring_transport;

/* ---- engine callbacks the backend invokes (implemented in engine/conn.c,
 * engine/shard.c) ---- */

/* A new connection was accepted on shard s by a listener of that kind. */
void gn_shard_on_accept(gn_shard *s, int fd, gn_listen_kind kind);
/* Bytes received for c; valid only during the call. */
void gn_conn_on_bytes(gn_conn *c, const uint8_t *data, size_t len);
/* The peer closed or the socket failed (err = 0 for orderly EOF). */
void gn_conn_on_lost(gn_conn *c, int err);
/* Receiving stopped after recv_stop. */
void gn_conn_on_recv_stopped(gn_conn *c);
/* The queue whose bytes go on the wire next (c->out, or its TLS /
 * WebSocket encoding); called by flush. Never NULL. */
struct gn_outq *gn_conn_wire(gn_conn *c);
/* Does c have bytes to write (in any layer)? */
bool gn_conn_has_output(gn_conn *c);
/* n bytes of the wire queue were written. */
void gn_conn_on_sent(gn_conn *c, size_t n);
/* c's socket is closed and nothing refers to c any more: free it. */
void gn_conn_on_released(gn_conn *c);
/* Another shard (or the controller) woke this shard. */
void gn_shard_on_wake(gn_shard *s);
/* The transport instance of shard s (for wake()). */
void *gn_shard_transport(gn_shard *s);

#endif
