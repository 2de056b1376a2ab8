/* engine/ws_proto.h — the WebSocket protocol (RFC 6455) as pure functions,
 * with no connection or I/O: the HTTP/1.1 upgrade request parser and
 * Sec-WebSocket-Accept, a streaming frame decoder that hands out unmasked
 * payload bytes as they arrive (no frame is buffered whole), and the server
 * frame header encoder. engine/stream.c drives them for a connection;
 * tests/fuzz/fuzz_ws_upgrade.c and fuzz_ws_frame.c drive them directly.
 *
 * Threading: no shared state; a decoder belongs to one connection. */
#ifndef GN_ENGINE_WS_PROTO_H
#define GN_ENGINE_WS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_WS_MAX_HEADER 8192       /* bytes of an upgrade request, CRLFCRLF included */

/* Opcodes and close codes used here. */
enum {
    GN_WS_OP_CONT = 0x0, GN_WS_OP_TEXT = 0x1, GN_WS_OP_BINARY = 0x2,
    GN_WS_OP_CLOSE = 0x8, GN_WS_OP_PING = 0x9, GN_WS_OP_PONG = 0xA,
};
enum {
    GN_WS_CLOSE_NORMAL = 1000,
    GN_WS_CLOSE_PROTOCOL = 1002,    /* bad framing, unmasked client frame */
    GN_WS_CLOSE_UNSUPPORTED = 1003, /* text frames: MQTT is binary */
    GN_WS_CLOSE_TOO_BIG = 1009,     /* frame above ws_max_frame */
};

/* The end of the request head (offset just past CRLFCRLF) within p[0..n),
 * or 0 while it is incomplete. */
size_t gn_ws_head_end(const uint8_t *p, size_t n);

typedef struct gn_ws_upgrade {
    char        accept[32];         /* Sec-WebSocket-Accept value, NUL-terminated */
    const char *protocol;           /* subprotocol to echo ("mqtt", "mqttv3.1") or NULL */
} gn_ws_upgrade;

/* Check a complete request head (len bytes, CRLFCRLF included) for a
 * WebSocket upgrade on `path` (a query string after it is allowed).
 * Returns 0 and fills out, or the HTTP status to answer with: 400 (not a
 * valid upgrade, or a Sec-WebSocket-Protocol list without mqtt), 404
 * (another path), 405 (not GET), 426 (Sec-WebSocket-Version not 13). */
int gn_ws_upgrade_parse(const char *req, size_t len, const char *path, gn_ws_upgrade *out);

/* Server frame header (never masked) for a FIN frame; returns its length (2..10). */
size_t gn_ws_frame_header(uint8_t out[10], uint8_t opcode, uint64_t payload_len);

/* Where decoded frames go. data: unmasked payload bytes of binary (and
 * continuation) frames, possibly in several calls per frame; control: one
 * complete ping / pong / close frame (payload <= 125 bytes). Either returns
 * 0 to go on or -1 to stop decoding (the connection is closing). */
typedef struct gn_ws_sink {
    int  (*data)(void *ctx, const uint8_t *p, size_t n);
    int  (*control)(void *ctx, uint8_t opcode, const uint8_t *p, size_t n);
    void  *ctx;
} gn_ws_sink;

typedef struct gn_ws_dec {
    uint64_t left;          /* payload bytes of the current frame still to come */
    uint32_t max_frame;     /* largest payload accepted */
    uint8_t  hdr[14];
    uint8_t  hlen;          /* header bytes gathered */
    uint8_t  mask[4];
    uint8_t  moff;          /* mask offset of the next payload byte */
    uint8_t  opcode;        /* of the current frame */
    bool     in_frame;      /* header complete, payload pending */
    bool     in_message;    /* a fragmented binary message is open */
    uint8_t  ctl_len;
    uint8_t  ctl[125];
} gn_ws_dec;

void gn_ws_dec_init(gn_ws_dec *d, uint32_t max_frame);
/* Decode p[0..n). Returns 0 when everything was consumed, -1 when the
 * sink stopped it, or a close code (GN_WS_CLOSE_*) for bad input; after a
 * close code the decoder must not be fed again. */
int gn_ws_decode(gn_ws_dec *d, const uint8_t *p, size_t n, const gn_ws_sink *s);

#endif
