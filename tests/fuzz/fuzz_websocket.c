/* tests/fuzz/fuzz_websocket.c — libFuzzer target for the WebSocket layer
 * (engine/ws_proto.c). The first input byte picks the part under test:
 * even: the upgrade request parser (the rest is the request head, cut at
 * its CRLFCRLF as the engine does); odd: the streaming frame decoder, fed
 * in pieces whose sizes come from that byte, checking that a frame never
 * yields more payload than its header announced and that control frames
 * stay within 125 bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ws_proto.h"

typedef struct counts {
    size_t data, controls;
} counts;

static int on_data(void *ctx, const uint8_t *p, size_t n)
{
    counts *c = ctx;
    (void)p;
    c->data += n;
    return 0;
}

static int on_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    counts *c = ctx;
    (void)p;
    if (n > 125 || (op != GN_WS_OP_CLOSE && op != GN_WS_OP_PING && op != GN_WS_OP_PONG))
        abort();
    c->controls++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    if (!(sel & 1)) {
        size_t end = gn_ws_head_end(data, size > GN_WS_MAX_HEADER ? GN_WS_MAX_HEADER : size);
        if (!end)
            return 0;
        char *req = malloc(end);    /* exact size: ASan sees any over-read */
        if (!req)
            return 0;
        memcpy(req, data, end);
        gn_ws_upgrade up;
        int st = gn_ws_upgrade_parse(req, end, (sel & 2) ? "/" : "/mqtt", &up);
        if (st == 0 && strlen(up.accept) != 28)
            abort();
        if (st != 0 && st != 400 && st != 404 && st != 405 && st != 426)
            abort();
        free(req);
        return 0;
    }
    gn_ws_dec d;
    gn_ws_dec_init(&d, 1u << 16);
    counts c = { 0, 0 };
    gn_ws_sink sink = { on_data, on_control, &c };
    size_t piece = (size_t)(sel >> 1) + 1, off = 0;
    while (off < size) {
        size_t n = size - off < piece ? size - off : piece;
        uint8_t *chunk = malloc(n);
        if (!chunk)
            return 0;
        memcpy(chunk, data + off, n);
        int rc = gn_ws_decode(&d, chunk, n, &sink);
        free(chunk);
        if (rc != 0)
            break;
        off += n;
    }
    if (c.data > size)
        abort();        /* payload bytes come out of the input, never more */
    uint8_t h[10];
    for (uint64_t len = 0; len < 70000; len = len * 3 + 1)
        if (gn_ws_frame_header(h, GN_WS_OP_BINARY, len) > 10)
            abort();
    return 0;
}
