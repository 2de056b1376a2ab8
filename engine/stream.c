/* engine/stream.c — a connection's TLS / WebSocket layers (see stream.h):
 * the handshake, decryption and WebSocket decoding of received bytes into
 * gn_conn_on_plain; the upgrade answer, ping / pong and the close
 * handshake; encoding c->out into the wire queue (one binary frame per
 * batch, TLS records of up to 16 KiB); close_notify / close frames when
 * the connection closes; the accessors the platform layer reads. */
#include "engine/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "engine/conn.h"
#include "engine/log.h"
#include "engine/mqtt.h"
#include "engine/platform/platform.h"
#include "engine/shard.h"
#include "engine/tls.h"
#include "engine/ws_proto.h"

enum {
    PH_HANDSHAKE = 0,   /* TLS handshake running */
    PH_HTTP,            /* WebSocket: waiting for the upgrade request */
    PH_OPEN,            /* MQTT bytes flow */
    PH_DEAD,            /* failed or closed: input ignored */
};

#define STREAM_BATCH (256u * 1024)      /* plaintext encoded per flush at most */

struct gn_stream {
    gn_conn    *conn;
    SSL        *ssl;            /* NULL: plain WebSockets */
    gn_tls_rx   rx;             /* read BIO source during gn_stream_on_bytes */
    gn_outq     wire;           /* encoded bytes for the transport */
    uint8_t     kind;           /* gn_listen_kind */
    uint8_t     phase;
    bool        ws;             /* WebSocket framing inside (or instead of) TLS */
    bool        ticket_sent;    /* TLS 1.3 session ticket issued */
    bool        shutdown_sent;  /* close_notify written */
    bool        ws_close_sent;  /* close frame written */
    bool        handoff_wait;   /* handoff waits for the wire to drain */
    uint8_t     fail;           /* gn_tls_fail of a failed handshake */
    uint16_t    ws_close_code;  /* close code to send (0: 1000) */
    uint8_t    *head;           /* upgrade request gathered so far */
    uint32_t    head_len;
    gn_ws_dec   dec;
    char        cn[65];         /* verified client certificate CN */
    char        email[81];      /* its first subjectAltName email */
};

/* ---- listeners ---------------------------------------------------- */

void gn_stream_listener_ports(const gn_config *cfg, bool tls_on, uint16_t out[GN_LK_COUNT])
{
    out[GN_LK_MQTT] = cfg->port;
    out[GN_LK_TLS] = tls_on ? cfg->tls_port : 0;
    out[GN_LK_ALPN] = tls_on ? cfg->alpn_port : 0;
    out[GN_LK_WS] = cfg->ws_port;
    out[GN_LK_WSS] = tls_on ? cfg->wss_port : 0;
}

const char *gn_listen_kind_name(gn_listen_kind k)
{
    static const char *const names[GN_LK_COUNT] = { "mqtt", "mqtt/tls", "tls+alpn", "ws", "wss" };
    return (unsigned)k < GN_LK_COUNT ? names[k] : "?";
}

/* ---- output below MQTT --------------------------------------------- */

static int wire_put(void *ctx, const uint8_t *data, size_t len)
{
    gn_stream *st = ctx;
    return gn_outq_put(&st->wire, &st->conn->shard->opool, data, len);
}

/* Raw bytes under MQTT (HTTP answer, WebSocket frames): encrypted when TLS. */
static int emit(gn_stream *st, const void *data, size_t len)
{
    if (!len)
        return 0;
    if (!st->ssl)
        return wire_put(st, data, len);
    ERR_clear_error();
    return SSL_write(st->ssl, data, (int)len) == (int)len ? 0 : -1;
}

/* Coalesces small iovecs into 16 KiB TLS records (or copies to the wire). */
typedef struct stager {
    gn_stream *st;
    size_t     fill;
    int        rc;
    uint8_t    buf[16384];
} stager;

static void stage_flush(stager *g)
{
    if (g->fill && g->rc == 0)
        g->rc = emit(g->st, g->buf, g->fill);
    g->fill = 0;
}

static void stage_put(stager *g, const uint8_t *p, size_t n)
{
    if (!g->st->ssl) {
        if (g->rc == 0)
            g->rc = wire_put(g->st, p, n);
        return;
    }
    while (n) {
        size_t k = sizeof g->buf - g->fill;
        if (k > n)
            k = n;
        memcpy(g->buf + g->fill, p, k);
        g->fill += k;
        p += k;
        n -= k;
        if (g->fill == sizeof g->buf)
            stage_flush(g);
    }
}

static int ws_frame(gn_stream *st, uint8_t op, const uint8_t *p, size_t n)
{
    uint8_t h[10 + 125];
    size_t hl = gn_ws_frame_header(h, op, n);
    if (n > 125)
        return -1;
    memcpy(h + hl, p, n);
    return emit(st, h, hl + n);
}

/* ---- input ----------------------------------------------------------- */

static bool conn_open(const gn_conn *c)
{
    return !c->lost && c->state != GN_CS_CLOSING;
}

/* Bad input below MQTT: close this connection only. */
static void stream_fail(gn_conn *c, const char *why)
{
    gn_stream *st = c->stream;
    gn_log_debug("connection fd %d (%s): %s, closing", c->fd,
                 gn_listen_kind_name((gn_listen_kind)st->kind), why);
    if (st->phase == PH_HANDSHAKE)
        st->shutdown_sent = true;   /* no close_notify without a session */
    st->phase = PH_DEAD;
    gn_stat_add(&c->shard->stats.protocol_errors, 1);
    gn_conn_close(c);
}

static void http_answer(gn_conn *c, int status)
{
    const char *reason = status == 404 ? "Not Found" : status == 405 ? "Method Not Allowed"
                       : status == 426 ? "Upgrade Required"
                       : status == 431 ? "Request Header Fields Too Large" : "Bad Request";
    char buf[200];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.1 %d %s\r\nConnection: close\r\n%sContent-Length: 0\r\n\r\n", status,
                     reason, status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "");
    gn_stream *st = c->stream;
    emit(st, buf, (size_t)n);
    char why[48];
    snprintf(why, sizeof why, "WebSocket upgrade refused (%d)", status);
    stream_fail(c, why);
}

static int sink_data(void *ctx, const uint8_t *p, size_t n)
{
    gn_conn *c = ctx;
    gn_conn_on_plain(c, p, n);
    return conn_open(c) ? 0 : -1;
}

static int sink_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    gn_conn *c = ctx;
    gn_stream *st = c->stream;
    if (op == GN_WS_OP_PING) {
        if (ws_frame(st, GN_WS_OP_PONG, p, n) < 0)
            gn_conn_fail(c);
        return 0;
    }
    if (op != GN_WS_OP_CLOSE)
        return 0;       /* unsolicited pong */
    /* Echo the peer's code; its CLOSE ends the MQTT connection like a
     * network loss (the will is published, as for a dropped TCP link). */
    uint16_t code = n >= 2 ? (uint16_t)(p[0] << 8 | p[1]) : GN_WS_CLOSE_NORMAL;
    st->ws_close_code = code;
    uint8_t b[2] = { (uint8_t)(code >> 8), (uint8_t)code };
    ws_frame(st, GN_WS_OP_CLOSE, b, 2);
    st->ws_close_sent = true;
    st->phase = PH_DEAD;
    if (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE)
        gn_mqtt_on_lost(c);
    gn_conn_close(c);
    return -1;
}

static void ws_input(gn_conn *c, const uint8_t *p, size_t n)
{
    gn_stream *st = c->stream;
    gn_ws_sink sink = { sink_data, sink_control, c };
    int rc = gn_ws_decode(&st->dec, p, n, &sink);
    if (rc > 0) {
        st->ws_close_code = (uint16_t)rc;
        char why[40];
        snprintf(why, sizeof why, "bad WebSocket frame (close %d)", rc);
        uint8_t b[2] = { (uint8_t)(rc >> 8), (uint8_t)rc };
        ws_frame(st, GN_WS_OP_CLOSE, b, 2);
        st->ws_close_sent = true;
        if (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE)
            gn_mqtt_on_lost(c);
        stream_fail(c, why);
    }
}

/* Gather the upgrade request; answer it; decode what follows as frames. */
static void http_input(gn_conn *c, const uint8_t *p, size_t n)
{
    gn_stream *st = c->stream;
    size_t room = GN_WS_MAX_HEADER - st->head_len;
    size_t take = n < room ? n : room;
    if (!st->head && !(st->head = malloc(GN_WS_MAX_HEADER))) {
        gn_conn_fail(c);
        return;
    }
    /* Only the new bytes can complete CRLFCRLF: rescan the last 3 with them. */
    size_t from = st->head_len > 3 ? st->head_len - 3 : 0;
    memcpy(st->head + st->head_len, p, take);
    st->head_len += (uint32_t)take;
    size_t end = gn_ws_head_end(st->head + from, st->head_len - from);
    if (!end) {
        if (st->head_len == GN_WS_MAX_HEADER)
            http_answer(c, 431);
        return;
    }
    end += from;
    gn_ws_upgrade up;
    int status = gn_ws_upgrade_parse((const char *)st->head, end, c->shard->eng->cfg.ws_path, &up);
    if (status) {
        http_answer(c, status);
        return;
    }
    char buf[256];
    int k = snprintf(buf, sizeof buf,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                     up.accept, up.protocol ? "Sec-WebSocket-Protocol: " : "",
                     up.protocol ? up.protocol : "", up.protocol ? "\r\n" : "");
    if (emit(st, buf, (size_t)k) < 0) {
        gn_conn_fail(c);
        return;
    }
    /* Bytes after the head (in this call) are frames already. */
    size_t used_now = end - (st->head_len - take);
    free(st->head);
    st->head = NULL;
    st->head_len = 0;
    st->phase = PH_OPEN;
    gn_ws_dec_init(&st->dec, c->shard->eng->cfg.ws_max_frame);
    if (used_now < n)
        ws_input(c, p + used_now, n - used_now);
}

/* MQTT-stream bytes out of TLS (or straight from the socket for plain WS). */
static void app_input(gn_conn *c, const uint8_t *p, size_t n)
{
    gn_stream *st = c->stream;
    if (st->phase == PH_HTTP)
        http_input(c, p, n);
    else if (st->phase == PH_OPEN && st->ws)
        ws_input(c, p, n);
    else if (st->phase == PH_OPEN)
        gn_conn_on_plain(c, p, n);
}

static void handshake_done(gn_conn *c)
{
    gn_stream *st = c->stream;
    gn_tls_peer_cn(st->ssl, st->cn, sizeof st->cn);
    gn_tls_peer_email(st->ssl, st->email, sizeof st->email);
    if (st->kind == GN_LK_ALPN)
        st->ws = gn_tls_alpn_is_http(st->ssl, c->shard->eng->cfg.alpn_default == GN_ALPN_DEFAULT_WEBSOCKETS);
    st->phase = st->ws ? PH_HTTP : PH_OPEN;
    gn_log_debug("connection fd %d (%s): %s %s%s%s", c->fd, gn_listen_kind_name((gn_listen_kind)st->kind),
                 SSL_get_version(st->ssl), SSL_get_cipher_name(st->ssl),
                 st->cn[0] ? ", client certificate CN " : "", st->cn);
}

static void tls_input(gn_conn *c)
{
    gn_stream *st = c->stream;
    uint8_t buf[16384];
    ERR_clear_error();
    if (st->phase == PH_HANDSHAKE) {
        int r = SSL_do_handshake(st->ssl);
        if (r != 1) {
            int e = SSL_get_error(st->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                return;
            st->fail = (uint8_t)gn_tls_classify_failure(st->ssl);
            gn_plat_tls_failed(c);      /* platform mode: close 163 / 169 / 170 */
            stream_fail(c, gn_tls_fail_name((gn_tls_fail)st->fail));
            return;
        }
        handshake_done(c);
    }
    while (conn_open(c) && st->phase != PH_DEAD) {
        int r = SSL_read(st->ssl, buf, sizeof buf);
        if (r > 0) {
            app_input(c, buf, (size_t)r);
            continue;
        }
        int e = SSL_get_error(st->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
            break;
        if (e == SSL_ERROR_ZERO_RETURN) {
            /* close_notify: answer it and end like an orderly EOF. */
            SSL_shutdown(st->ssl);
            st->shutdown_sent = true;
            st->phase = PH_DEAD;
            if (c->state == GN_CS_NEW || c->state == GN_CS_ACTIVE)
                gn_mqtt_on_lost(c);
            gn_conn_close(c);
            break;
        }
        stream_fail(c, "TLS record error");
        break;
    }
}

void gn_stream_on_bytes(gn_conn *c, const uint8_t *data, size_t len)
{
    gn_stream *st = c->stream;
    if (st->phase == PH_DEAD)
        return;
    if (st->ssl) {
        st->rx.p = data;
        st->rx.n = len;
        tls_input(c);
        st->rx.p = NULL;
        st->rx.n = 0;
    } else {
        app_input(c, data, len);
    }
    if (c->stream == st && !gn_outq_empty(&st->wire))
        gn_conn_kick(c);
}

/* ---- output ----------------------------------------------------------- */

/* Encode up to STREAM_BATCH bytes of c->out; 0 or -1 (out of memory). */
static int encode_out(gn_conn *c)
{
    gn_stream *st = c->stream;
    struct iovec iov[64];
    size_t k = gn_outq_iov(&c->out, iov, 64), total = 0, used = 0;
    while (used < k && total < STREAM_BATCH)
        total += iov[used++].iov_len;
    stager *g = malloc(sizeof *g);
    if (!g)
        return -1;
    g->st = st;
    g->fill = 0;
    g->rc = 0;
    if (st->ws) {
        uint8_t h[10];
        stage_put(g, h, gn_ws_frame_header(h, GN_WS_OP_BINARY, total));
    }
    for (size_t i = 0; i < used; i++)
        stage_put(g, iov[i].iov_base, iov[i].iov_len);
    stage_flush(g);
    int rc = g->rc;
    free(g);
    if (rc < 0)
        return -1;
    gn_conn_consumed(c, total);
    return 0;
}

/* Closing: the WebSocket close frame and TLS close_notify, once. */
static void encode_close(gn_conn *c)
{
    gn_stream *st = c->stream;
    if (st->ws && st->phase == PH_OPEN && !st->ws_close_sent) {
        uint16_t code = st->ws_close_code ? st->ws_close_code : GN_WS_CLOSE_NORMAL;
        uint8_t b[2] = { (uint8_t)(code >> 8), (uint8_t)code };
        ws_frame(st, GN_WS_OP_CLOSE, b, 2);
        st->ws_close_sent = true;
    }
    if (st->ssl && st->phase != PH_HANDSHAKE && !st->shutdown_sent) {
        ERR_clear_error();
        SSL_shutdown(st->ssl);
        st->shutdown_sent = true;
    }
}

static bool plaintext_ready(const gn_conn *c)
{
    return c->stream->phase == PH_OPEN && !gn_outq_empty(&c->out);
}

static bool close_pending(const gn_conn *c)
{
    const gn_stream *st = c->stream;
    if (c->state != GN_CS_CLOSING || c->lost || !gn_outq_empty(&c->out))
        return false;
    return (st->ws && st->phase == PH_OPEN && !st->ws_close_sent) ||
           (st->ssl && st->phase != PH_HANDSHAKE && !st->shutdown_sent);
}

gn_outq *gn_stream_wire(gn_conn *c)
{
    gn_stream *st = c->stream;
    if (st->ssl && !st->ticket_sent && st->phase == PH_OPEN && c->state == GN_CS_ACTIVE) {
        /* TLS 1.3: the session ticket, now that the client is on its owner
         * shard (tickets are off inside the handshake, see tls.c). */
        st->ticket_sent = true;
        if (SSL_version(st->ssl) == TLS1_3_VERSION && SSL_new_session_ticket(st->ssl) == 1) {
            ERR_clear_error();
            SSL_do_handshake(st->ssl);
            /* OpenSSL 3.0 keeps the 16 KiB write buffer the ticket went
             * through (SSL_MODE_RELEASE_BUFFERS frees it only after
             * application data): half an idle TLS 1.3 connection's memory
             * (docs/PERFORMANCE.md). Our write BIO took every byte, so
             * nothing is pending and this only frees. */
            SSL_free_buffers(st->ssl);
        }
    }
    while (plaintext_ready(c) && st->wire.bytes < GN_STREAM_WIRE_HIGH) {
        if (encode_out(c) < 0) {
            gn_conn_fail(c);
            break;
        }
    }
    if (close_pending(c))
        encode_close(c);
    return &st->wire;
}

bool gn_stream_has_output(gn_conn *c)
{
    return !gn_outq_empty(&c->stream->wire) || plaintext_ready(c) || close_pending(c);
}

void gn_stream_on_sent(gn_conn *c, size_t n)
{
    gn_stream *st = c->stream;
    gn_outq_consume(&st->wire, &c->shard->opool, n);
    if (st->handoff_wait && gn_outq_empty(&st->wire)) {
        st->handoff_wait = false;
        gn_conn_on_recv_stopped(c);
    }
}

bool gn_stream_handoff_ready(gn_conn *c)
{
    gn_stream *st = c->stream;
    if (gn_outq_empty(&st->wire) && !(c->io & GN_IO_SEND_BUSY))
        return true;
    st->handoff_wait = true;
    gn_conn_kick(c);
    return false;
}

/* ---- life cycle --------------------------------------------------------- */

int gn_stream_attach(gn_conn *c, gn_listen_kind k, gn_tls_ctx *tls)
{
    gn_stream *st = calloc(1, sizeof *st);
    if (!st)
        return -1;
    st->conn = c;
    st->kind = (uint8_t)k;
    st->ws = k == GN_LK_WS || k == GN_LK_WSS;
    if (k != GN_LK_WS) {
        st->ssl = tls ? gn_tls_new(tls, &st->rx, wire_put, st, k == GN_LK_ALPN) : NULL;
        if (!st->ssl) {
            free(st);
            return -1;
        }
    }
    st->phase = st->ssl ? PH_HANDSHAKE : PH_HTTP;
    c->stream = st;
    return 0;
}

void gn_stream_adopt(gn_conn *c, gn_stream *st)
{
    st->conn = c;
    c->stream = st;
}

void gn_stream_discard(gn_stream *st)
{
    if (!st)
        return;
    SSL_free(st->ssl);
    free(st->head);
    free(st);
}

void gn_stream_release(gn_conn *c)
{
    gn_stream *st = c->stream;
    if (!st)
        return;
    gn_outq_clear(&st->wire, &c->shard->opool);
    c->stream = NULL;
    gn_stream_discard(st);
}

/* ---- accessors (conn.h) ------------------------------------------------- */

bool gn_conn_is_tls(const gn_conn *c)
{
    return c->stream && c->stream->ssl;
}

bool gn_conn_is_websocket(const gn_conn *c)
{
    return c->stream && c->stream->ws;
}

const char *gn_conn_cert_cn(const gn_conn *c)
{
    return c->stream && c->stream->cn[0] ? c->stream->cn : NULL;
}

const char *gn_conn_cert_email(const gn_conn *c)
{
    return c->stream && c->stream->email[0] ? c->stream->email : NULL;
}

int gn_conn_tls_failure(const gn_conn *c)
{
    return c->stream ? c->stream->fail : GN_TLS_OK;
}

int gn_conn_cert_verify(const gn_conn *c, struct x509_store_st *store)
{
    return c->stream && c->stream->ssl && c->stream->phase != PH_HANDSHAKE
        ? gn_tls_peer_verify(c->stream->ssl, store) : -1;
}

bool gn_conn_tls_resumed(const gn_conn *c)
{
    return c->stream && c->stream->ssl && SSL_session_reused(c->stream->ssl) == 1;
}

const char *gn_conn_tls_sni(const gn_conn *c)
{
    return c->stream && c->stream->ssl ? SSL_get_servername(c->stream->ssl, TLSEXT_NAMETYPE_host_name)
                                       : NULL;
}
