/* bench/loadgen/ws.c — the WebSocket client mode of gnload (see ws.h).
 * Frames go out one per flush over everything queued (masked, as RFC 6455
 * requires of clients, 8 bytes at a time); the server's frames are
 * unmasked binary, read through a 64 KiB raw buffer. */
#include "bench/loadgen/ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench/loadgen/tls.h"

#define RAW_CAP (64u * 1024)

struct gl_ws {
    uint8_t  *side;         /* framed bytes being sent */
    uint32_t  side_cap, side_len, side_off;
    uint32_t  framed;       /* c->out bytes inside the frame being sent */
    bool      upgraded;     /* 101 received */
    uint8_t   raw[RAW_CAP]; /* inbound, not yet consumed */
    uint32_t  raw_len, raw_off;
    uint64_t  left;         /* payload bytes of the current inbound frame */
    bool      in_payload;
    uint8_t   opcode;
    uint32_t  mask_seed;
};

static ssize_t raw_send(gl_conn *c, const void *p, size_t n)
{
    return c->ssl ? gl_tls_send(c, p, n) : send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t raw_recv(gl_conn *c, void *p, size_t n)
{
    return c->ssl ? gl_tls_recv(c, p, n) : recv(c->fd, p, n, MSG_DONTWAIT);
}

static int side_reserve(struct gl_ws *ws, size_t n)
{
    if (ws->side_cap >= n)
        return 0;
    size_t cap = ws->side_cap ? ws->side_cap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *p = realloc(ws->side, cap);
    if (!p)
        return -1;
    ws->side = p;
    ws->side_cap = (uint32_t)cap;
    return 0;
}

gl_status gl_ws_attach(const gl_opts *o, gl_conn *c)
{
    struct gl_ws *ws = calloc(1, sizeof *ws);
    if (!ws)
        return GL_ERR_NOMEM;
    char req[512];
    /* A fixed key is fine for a load generator (the accept value is not checked). */
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: mqtt\r\n\r\n", o->ws_path, o->host);
    if (n < 0 || (size_t)n >= sizeof req || side_reserve(ws, (size_t)n) < 0) {
        free(ws);
        return GL_ERR_NOMEM;
    }
    memcpy(ws->side, req, (size_t)n);
    ws->side_len = (uint32_t)n;
    ws->mask_seed = 0x9E3779B9u ^ (uint32_t)(uintptr_t)c;
    c->ws = ws;
    return GL_OK;
}

/* Frame c->out[out_head, out_tail) into the side buffer. */
static gl_status frame_out(gl_conn *c)
{
    struct gl_ws *ws = c->ws;
    size_t n = c->out_tail - c->out_head;
    if (side_reserve(ws, n + 14) < 0)
        return GL_ERR_NOMEM;
    uint8_t *h = ws->side;
    size_t at = 0;
    h[at++] = 0x82;
    if (n < 126) {
        h[at++] = (uint8_t)(0x80 | n);
    } else if (n <= 0xFFFF) {
        h[at++] = 0x80 | 126;
        h[at++] = (uint8_t)(n >> 8);
        h[at++] = (uint8_t)n;
    } else {
        h[at++] = 0x80 | 127;
        for (int i = 0; i < 8; i++)
            h[at++] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
    }
    ws->mask_seed = ws->mask_seed * 1664525u + 1013904223u;
    uint8_t key[4];
    memcpy(key, &ws->mask_seed, 4);
    memcpy(h + at, key, 4);
    at += 4;
    const uint8_t *src = c->out + c->out_head;
    uint8_t *dst = h + at;
    uint64_t k8;
    uint8_t kb[8] = { key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3] };
    memcpy(&k8, kb, 8);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= k8;
        memcpy(dst + i, &v, 8);
    }
    for (; i < n; i++)
        dst[i] = src[i] ^ key[i & 3];
    ws->side_len = (uint32_t)(at + n);
    ws->side_off = 0;
    ws->framed = (uint32_t)n;
    return GL_OK;
}

gl_status gl_ws_flush(gl_conn *c, uint64_t now)
{
    struct gl_ws *ws = c->ws;
    for (;;) {
        if (ws->side_off == ws->side_len) {
            c->out_head += ws->framed;      /* that frame is with the kernel */
            ws->framed = 0;
            ws->side_len = ws->side_off = 0;
            if (!ws->upgraded || c->out_head == c->out_tail)
                return GL_OK;
            gl_status s = frame_out(c);
            if (s != GL_OK)
                return s;
        }
        ssize_t n = raw_send(c, ws->side + ws->side_off, ws->side_len - ws->side_off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->want_write = true;
                return GL_OK;
            }
            return GL_ERR_CLOSED;
        }
        ws->side_off += (uint32_t)n;
        c->last_tx_ns = now;
    }
}

/* Payload from the raw buffer into p; -1: the head or a frame is bad. */
static ssize_t take_payload(struct gl_ws *ws, uint8_t *p, size_t n)
{
    size_t out = 0;
    while (out < n && ws->raw_off < ws->raw_len) {
        uint8_t *r = ws->raw + ws->raw_off;
        size_t avail = ws->raw_len - ws->raw_off;
        if (!ws->upgraded) {
            uint8_t *end = memmem(r, avail, "\r\n\r\n", 4);
            if (!end)
                break;
            if (avail < 12 || memcmp(r + 9, "101", 3) != 0)
                return -1;
            ws->raw_off += (uint32_t)(end + 4 - r);
            ws->upgraded = true;
            continue;
        }
        if (!ws->in_payload) {
            if (avail < 2)
                break;
            size_t hl = 2;
            uint64_t len = r[1] & 0x7F;
            if (len == 126)
                hl = 4;
            else if (len == 127)
                hl = 10;
            if (avail < hl)
                break;
            if (len == 126)
                len = (uint64_t)r[2] << 8 | r[3];
            else if (len == 127)
                for (int i = 0, j = 2; i < 8; i++, j++)
                    len = (i ? len << 8 : 0) | r[j];
            ws->opcode = r[0] & 0x0F;
            ws->left = len;
            ws->in_payload = true;
            ws->raw_off += (uint32_t)hl;
            if (ws->opcode == 0x8)
                return out ? (ssize_t)out : 0;  /* close */
            continue;
        }
        size_t k = avail < ws->left ? avail : (size_t)ws->left;
        if (ws->opcode == 0x2 || ws->opcode == 0x0) {
            if (k > n - out)
                k = n - out;
            memcpy(p + out, r, k);
            out += k;
        }
        ws->raw_off += (uint32_t)k;
        ws->left -= k;
        if (ws->left == 0)
            ws->in_payload = false;
    }
    return (ssize_t)out;
}

ssize_t gl_ws_recv(gl_conn *c, void *p, size_t n)
{
    struct gl_ws *ws = c->ws;
    for (;;) {
        bool was_upgraded = ws->upgraded;
        ssize_t got = take_payload(ws, p, n);
        if (got < 0) {
            errno = EPROTO;
            return -1;
        }
        if (ws->in_payload && ws->opcode == 0x8)
            return 0;
        if (got > 0)
            return got;
        if (!was_upgraded && ws->upgraded) {
            errno = EAGAIN;     /* upgraded: the caller flushes the queued CONNECT */
            return -1;
        }
        if (ws->raw_off == ws->raw_len)
            ws->raw_off = ws->raw_len = 0;
        else if (ws->raw_off > RAW_CAP / 2) {
            memmove(ws->raw, ws->raw + ws->raw_off, ws->raw_len - ws->raw_off);
            ws->raw_len -= ws->raw_off;
            ws->raw_off = 0;
        }
        if (ws->raw_len == RAW_CAP) {
            errno = EPROTO;
            return -1;
        }
        ssize_t r = raw_recv(c, ws->raw + ws->raw_len, RAW_CAP - ws->raw_len);
        if (r <= 0)
            return r;
        ws->raw_len += (uint32_t)r;
    }
}

void gl_ws_detach(gl_conn *c)
{
    if (c->ws) {
        free(c->ws->side);
        free(c->ws);
        c->ws = NULL;
    }
}
