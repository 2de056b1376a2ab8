/* engine/conn.h — one client connection on a shard: socket state the
 * transport keeps, the carry buffer for a packet split across receive
 * buffers, the outbound queue, and the link to the MQTT session.
 *
 * Ownership: allocated from the owning shard's slab, touched only by that
 * shard's thread. Freed in gn_conn_on_released once the transport has
 * nothing in flight for it. A connection moves to another shard only before
 * its CONNECT has been accepted (handoff to the client id's owner shard),
 * as a plain fd plus carry bytes, never as this object. */
#ifndef GN_ENGINE_CONN_H
#define GN_ENGINE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec/packet.h"
#include "engine/outq.h"
#include "engine/timer_wheel.h"

typedef struct gn_shard gn_shard;
typedef struct gn_session gn_session;
struct gn_pconn;
struct gn_pace;
struct gn_stream;

/* Transport state bits (gn_conn.io). */
enum {
    GN_IO_RECV_ARMED = 1u << 0,  /* a multishot receive is outstanding */
    GN_IO_SEND_BUSY  = 1u << 1,  /* a sendmsg is outstanding */
    GN_IO_CLOSING    = 1u << 2,  /* close requested */
    GN_IO_STOP_RECV  = 1u << 3,  /* recv_stop requested, waiting for the final CQE */
    GN_IO_CANCELLED  = 1u << 4,  /* cancel already submitted for the receive */
    GN_IO_CLOSED     = 1u << 5,  /* fd closed, released */
};

/* Connection state (gn_conn.state). */
typedef enum gn_conn_state {
    GN_CS_NEW = 0,       /* waiting for CONNECT */
    GN_CS_HANDOFF,       /* CONNECT seen, moving to the owner shard */
    GN_CS_ACTIVE,        /* CONNACK sent */
    GN_CS_CLOSING,       /* closing: no more input is processed */
} gn_conn_state;

/* Received bytes not yet processed: a packet split across receive
 * buffers, or, while reading is paused (backpressure), everything that
 * arrived before the receive stopped. data[off .. len) is pending.
 * Allocated only while it holds bytes. */
typedef struct gn_carry {
    uint32_t off, len, cap;
    uint8_t  data[];
} gn_carry;

typedef struct gn_conn {
    gn_shard   *shard;
    gn_session *sess;           /* NULL until CONNECT is accepted */
    gn_carry   *carry;
    struct gn_stream *stream;   /* TLS / WebSocket layers (engine/stream.h); NULL: plain TCP */
    void       *send_ctx;       /* transport: the in-flight send's msghdr/iovecs */
    struct gn_pconn *plat;      /* platform mode: identity, limits, close record; else NULL */
    struct gn_pace *pace;       /* read pacing (engine/pace.h), NULL: not paced */
    gn_outq     out;
    gn_timer    timer;          /* CONNECT timeout, then keep-alive */
    uint64_t    last_rx_ms;     /* last packet received (keep-alive) */
    int         fd;
    uint32_t    max_packet_out; /* client's maximum packet size (0: none) */
    uint16_t    keep_alive;     /* seconds, as granted */
    uint8_t     io;             /* GN_IO_* */
    uint8_t     state;          /* gn_conn_state */
    uint8_t     proto;          /* gn_proto once CONNECT was decoded */
    bool        dirty;          /* on the shard's flush list */
    bool        paused;         /* backpressure: not reading */
    bool        lost;           /* the network side is gone */
    bool        close_req;      /* transport close pending for the flush phase */
    bool        fail_req;       /* out of memory: treat as lost in the flush phase */
    bool        resume_req;     /* unpaused: process held bytes in the flush phase */
    bool        self_paused;    /* not read because it does not read its own replies */
    bool        replay;         /* the packet just handled was not consumed (a consumer
                                   ring is full, engine/consumer_shard.c; a platform
                                   auto-registration is pending): keep it and handle
                                   it again after the resume */
    uint16_t    handoff_to;     /* GN_CS_HANDOFF: the owner shard */
    struct gn_conn *dirty_next;
    struct gn_conn *all_prev, *all_next;   /* every connection of the shard */
} gn_conn;

/* Queue bytes for sending and put c on the shard's flush list.
 * Returns -1 (and starts closing c) when memory runs out. */
int  gn_conn_send(gn_conn *c, const void *data, size_t len);
/* Out of memory while serving c: it is treated as lost (will, session
 * end) in the flush phase, when no caller up the stack holds its session. */
void gn_conn_fail(gn_conn *c);
/* Mark c for flushing at the end of this loop turn. */
void gn_conn_kick(gn_conn *c);
/* Start closing: stop reading, flush what is queued, close the socket.
 * The session layer has already been told (or is being told) by the caller. */
void gn_conn_close(gn_conn *c);
/* Pause / resume reading (TCP backpressure). Resuming takes effect in the
 * flush phase of the turn (gn_conn_resume_now), never nested inside the
 * handling of another connection's packet. */
void gn_conn_pause(gn_conn *c);
void gn_conn_resume(gn_conn *c);
void gn_conn_resume_now(gn_conn *c);

/* MQTT-stream bytes for c: framed, or kept while paused / moving shards.
 * The transport's bytes come here directly on a plain connection, through
 * engine/stream.c otherwise. Valid only during the call. */
void gn_conn_on_plain(gn_conn *c, const uint8_t *data, size_t len);
/* n plaintext bytes of c->out were written (or encoded for the wire). */
void gn_conn_consumed(gn_conn *c, size_t n);

/* What the connection runs over, for the platform layer (monitoring's
 * Protocol "-ws" suffix and Certname, certificate identities S-035..S-037,
 * org from SNI S-007). Shard thread; the strings live as long as c. */
bool gn_conn_is_tls(const gn_conn *c);
bool gn_conn_is_websocket(const gn_conn *c);
/* Common name of the client certificate verified in the handshake, or NULL. */
const char *gn_conn_cert_cn(const gn_conn *c);
/* Its first subjectAltName email (S-036's email:d:{typeId}:{deviceId}), or NULL. */
const char *gn_conn_cert_email(const gn_conn *c);
/* The TLS server name (SNI) the client asked for, or NULL. */
const char *gn_conn_tls_sni(const gn_conn *c);
/* Verify the client certificate the handshake verified again, against
 * store (an OpenSSL X509_STORE: an org's own CAs, S-036): 0 (X509_V_OK),
 * an X509_V_ERR_* code, or -1 when c has no verified client certificate. */
struct x509_store_st;
int gn_conn_cert_verify(const gn_conn *c, struct x509_store_st *store);
/* Did c's handshake resume a TLS session (so its client certificate was
 * verified when the session was made, not now)? */
bool gn_conn_tls_resumed(const gn_conn *c);
/* Why c's TLS handshake failed (engine/tls.h gn_tls_fail as an int: 0 none,
 * 1 handshake -> close code 163, 2 certificate missing -> 169, 3 not
 * valid -> 170); valid until c is released. */
int gn_conn_tls_failure(const gn_conn *c);

/* Create a connection for fd on shard s; carry (may be NULL) holds bytes
 * already received for it (handoff). */
gn_conn *gn_conn_new(gn_shard *s, int fd, gn_carry *carry);
/* Adopt a connection handed over by another shard (takes ownership of h). */
struct gn_handoff;
void gn_conn_adopt(gn_shard *s, struct gn_handoff *h);

#endif
