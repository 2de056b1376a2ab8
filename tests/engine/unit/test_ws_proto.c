/* tests/engine/unit/test_ws_proto.c — engine/ws_proto.c: the RFC 6455
 * example accept key, upgrade statuses, frame headers, and the streaming
 * decoder (split at every byte, fragmented messages, control frames,
 * masking and limit errors). The fuzz target covers arbitrary input; these
 * pin the exact behaviour. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/ws_proto.h"

#define REQ(extra) \
    "GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n" \
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" extra "\r\n"

static int parse(const char *req, gn_ws_upgrade *up)
{
    return gn_ws_upgrade_parse(req, strlen(req), "/mqtt", up);
}

START_TEST(test_rfc_example_accept_and_protocol)
{
    gn_ws_upgrade up;
    const char *r = REQ("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, mqtt\r\n");
    ck_assert_int_eq(gn_ws_head_end((const uint8_t *)r, strlen(r)), strlen(r));
    ck_assert_int_eq(parse(r, &up), 0);
    ck_assert_str_eq(up.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");     /* RFC 6455 1.3 */
    ck_assert_str_eq(up.protocol, "mqtt");
    ck_assert_int_eq(parse(REQ("Sec-WebSocket-Version: 13\r\n"), &up), 0);
    ck_assert_ptr_null(up.protocol);
}
END_TEST

START_TEST(test_bad_upgrades)
{
    gn_ws_upgrade up;
    ck_assert_int_eq(parse(REQ("Sec-WebSocket-Version: 8\r\n"), &up), 426);
    ck_assert_int_eq(parse(REQ("Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n"), &up), 400);
    ck_assert_int_eq(parse("GET /other HTTP/1.1\r\n\r\n", &up), 404);
    ck_assert_int_eq(parse("GET /mqttx HTTP/1.1\r\n\r\n", &up), 404);
    ck_assert_int_eq(parse("POST /mqtt HTTP/1.1\r\n\r\n", &up), 405);
    ck_assert_int_eq(parse("GET /mqtt HTTP/1.0\r\n\r\n", &up), 400);
    ck_assert_int_eq(parse("GET /mqtt HTTP/1.1\r\nUpgrade: websocket\r\n\r\n", &up), 400);
    ck_assert_int_eq(parse("GET /mqtt HTTP/1.1\r\nno colon\r\n\r\n", &up), 400);
}
END_TEST

START_TEST(test_frame_header_lengths)
{
    uint8_t h[10];
    ck_assert_int_eq(gn_ws_frame_header(h, GN_WS_OP_BINARY, 125), 2);
    ck_assert_int_eq(h[0], 0x82);
    ck_assert_int_eq(h[1], 125);
    ck_assert_int_eq(gn_ws_frame_header(h, GN_WS_OP_BINARY, 126), 4);
    ck_assert_int_eq(h[1], 126);
    ck_assert_int_eq(h[2] << 8 | h[3], 126);
    ck_assert_int_eq(gn_ws_frame_header(h, GN_WS_OP_BINARY, 65536), 10);
    ck_assert_int_eq(h[1], 127);
    ck_assert_int_eq(h[7], 1);
}
END_TEST

typedef struct sink_state {
    uint8_t data[4096];
    size_t  n;
    int     controls;
    uint8_t last_op;
} sink_state;

static int on_data(void *ctx, const uint8_t *p, size_t n)
{
    sink_state *s = ctx;
    ck_assert_uint_le(s->n + n, sizeof s->data);
    memcpy(s->data + s->n, p, n);
    s->n += n;
    return 0;
}

static int on_control(void *ctx, uint8_t op, const uint8_t *p, size_t n)
{
    sink_state *s = ctx;
    (void)p;
    (void)n;
    s->controls++;
    s->last_op = op;
    return 0;
}

/* A masked client frame. */
static size_t client_frame(uint8_t *out, uint8_t b0, const char *payload, size_t n)
{
    static const uint8_t key[4] = { 0x11, 0x22, 0x33, 0x44 };
    size_t at = 0;
    out[at++] = b0;
    if (n < 126) {
        out[at++] = (uint8_t)(0x80 | n);
    } else {
        out[at++] = 0x80 | 126;
        out[at++] = (uint8_t)(n >> 8);
        out[at++] = (uint8_t)n;
    }
    memcpy(out + at, key, 4);
    at += 4;
    for (size_t i = 0; i < n; i++)
        out[at++] = (uint8_t)payload[i] ^ key[i & 3];
    return at;
}

START_TEST(test_decoder_byte_by_byte_with_fragments_and_ping)
{
    uint8_t buf[1024];
    size_t n = 0;
    n += client_frame(buf + n, 0x02, "abc", 3);            /* binary, not final */
    n += client_frame(buf + n, 0x89, "hi", 2);             /* ping between fragments */
    n += client_frame(buf + n, 0x80, "defg", 4);           /* final continuation */
    n += client_frame(buf + n, 0x82, "", 0);               /* empty binary */
    char big[300];
    memset(big, 'z', sizeof big);
    n += client_frame(buf + n, 0x82, big, sizeof big);     /* 16-bit length */
    gn_ws_dec d;
    gn_ws_dec_init(&d, 1024);
    sink_state s = { .n = 0 };
    gn_ws_sink sink = { on_data, on_control, &s };
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(gn_ws_decode(&d, buf + i, 1, &sink), 0);
    ck_assert_uint_eq(s.n, 7 + sizeof big);
    ck_assert_int_eq(memcmp(s.data, "abcdefg", 7), 0);
    ck_assert_int_eq(s.controls, 1);
    ck_assert_int_eq(s.last_op, GN_WS_OP_PING);
}
END_TEST

static int decode_one(uint8_t b0, const char *p, size_t n, uint32_t max, bool mask)
{
    uint8_t buf[512];
    size_t len = client_frame(buf, b0, p, n);
    if (!mask)
        buf[1] &= 0x7F;
    gn_ws_dec d;
    gn_ws_dec_init(&d, max);
    sink_state s = { .n = 0 };
    gn_ws_sink sink = { on_data, on_control, &s };
    return gn_ws_decode(&d, buf, len, &sink);
}

START_TEST(test_decoder_errors)
{
    ck_assert_int_eq(decode_one(0x82, "x", 1, 100, false), GN_WS_CLOSE_PROTOCOL);
    ck_assert_int_eq(decode_one(0x81, "x", 1, 100, true), GN_WS_CLOSE_UNSUPPORTED);
    ck_assert_int_eq(decode_one(0xC2, "x", 1, 100, true), GN_WS_CLOSE_PROTOCOL);     /* RSV1 */
    ck_assert_int_eq(decode_one(0x09, "x", 1, 100, true), GN_WS_CLOSE_PROTOCOL);     /* ping not final */
    ck_assert_int_eq(decode_one(0x80, "x", 1, 100, true), GN_WS_CLOSE_PROTOCOL);     /* lone continuation */
    ck_assert_int_eq(decode_one(0x83, "x", 1, 100, true), GN_WS_CLOSE_PROTOCOL);     /* reserved opcode */
    char big[200];
    memset(big, 'y', sizeof big);
    ck_assert_int_eq(decode_one(0x82, big, sizeof big, 100, true), GN_WS_CLOSE_TOO_BIG);
    ck_assert_int_eq(decode_one(0x89, big, 126, 1000, true), GN_WS_CLOSE_PROTOCOL);  /* control > 125 */
    ck_assert_int_eq(decode_one(0x82, big, sizeof big, 200, true), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ws_proto");
    TCase *tc = tcase_create("ws_proto");
    tcase_add_test(tc, test_rfc_example_accept_and_protocol);
    tcase_add_test(tc, test_bad_upgrades);
    tcase_add_test(tc, test_frame_header_lengths);
    tcase_add_test(tc, test_decoder_byte_by_byte_with_fragments_and_ping);
    tcase_add_test(tc, test_decoder_errors);
    suite_add_tcase(s, tc);
    SRunner *r = srunner_create(s);
    srunner_run_all(r, CK_NORMAL);
    int failed = srunner_ntests_failed(r);
    srunner_free(r);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
