/* tests/codec/codec_util.h — helpers shared by the codec unit tests: hex
 * byte vectors, gn_bytes from C strings, decode-from-hex. Single-threaded
 * test code; the static buffers are per test process (Check forks). */
#ifndef GN_TESTS_CODEC_UTIL_H
#define GN_TESTS_CODEC_UTIL_H

#include <check.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"

/* Parse a byte vector: hex pairs ("30 05 00 03 61"), 'text' for raw bytes
 * and [text] for a two-byte-length-prefixed string; spaces are ignored.
 * Returns the byte count. */
static inline size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    while (*hex != '\0') {
        if (isspace((unsigned char)*hex)) {
            hex++;
            continue;
        }
        if (*hex == '\'' || *hex == '[') {
            char close = *hex == '[' ? ']' : '\'';
            const char *end = strchr(hex + 1, close);
            ck_assert_ptr_nonnull(end);
            size_t len = (size_t)(end - hex - 1);
            if (close == ']') {
                ck_assert_uint_le(n + 2, cap);
                out[n++] = (uint8_t)(len >> 8);
                out[n++] = (uint8_t)len;
            }
            ck_assert_uint_le(n + len, cap);
            memcpy(out + n, hex + 1, len);
            n += len;
            hex = end + 1;
            continue;
        }
        unsigned v;
        ck_assert_msg(sscanf(hex, "%2x", &v) == 1, "bad hex at '%s'", hex);
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)v;
        hex += 2;
    }
    return n;
}

/* Build a packet: first byte, then the remaining length computed from the
 * body vector. Returns the packet's size; it lives in buf. */
static inline size_t tu_pkt(uint8_t first, const char *body, uint8_t *buf, size_t cap)
{
    static uint8_t tmp[8192];
    size_t bl = tu_hex(body, tmp, sizeof tmp);
    size_t n = 0;
    ck_assert_uint_le(bl + 5, cap);
    buf[n++] = first;
    size_t v = bl;
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        buf[n++] = (uint8_t)(b | (v ? 0x80 : 0));
    } while (v);
    memcpy(buf + n, tmp, bl);
    return n + bl;
}

/* Build and decode; the packet's views point into a static buffer. */
static inline gn_err tu_dec(uint8_t first, const char *body, gn_proto proto, gn_packet *out)
{
    static uint8_t buf[8200];
    size_t n = tu_pkt(first, body, buf, sizeof buf);
    return gn_decode(buf, n, proto, out);
}

static inline gn_bytes tu_b(const char *s)
{
    return (gn_bytes){ (const uint8_t *)s, (uint32_t)strlen(s) };
}

static inline gn_str tu_s(const char *s)
{
    return (gn_str){ (const uint8_t *)s, (uint32_t)strlen(s) };
}

static inline bool tu_eq(gn_bytes b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

static inline bool tu_seq(gn_str b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

/* Decode a hex vector; the packet's views point into a static buffer. */
static inline gn_err tu_decode_hex(const char *hex, gn_proto proto, gn_packet *out)
{
    static uint8_t buf[4096];
    size_t n = tu_hex(hex, buf, sizeof buf);
    return gn_decode(buf, n, proto, out);
}

#define ck_assert_err(got, want)                                                  \
    do {                                                                          \
        gn_err got_ = (got), want_ = (want);                                      \
        ck_assert_msg(got_ == want_, "got %s, want %s", gn_err_name(got_),        \
                      gn_err_name(want_));                                        \
    } while (0)

/* Run a suite with CK_NORMAL output; returns the process exit status. */
static inline int tu_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
