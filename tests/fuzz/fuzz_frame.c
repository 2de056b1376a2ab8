/* tests/fuzz/fuzz_frame.c — libFuzzer target for incremental framing: scan
 * the input in one go (with a small frame cap, so scans resume), then again
 * in chunks of pseudo-random size through a carry buffer the way the engine
 * feeds it, and require the same frames, the same final status and need.
 * Input: byte 0 picks the maximum packet size, bytes 1..4 seed the chunking,
 * the rest is the stream. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"

#include "tests/fuzz/fuzz_check.h"

typedef struct result {
    gn_frame *frames;
    size_t    n;
    gn_err    status;
    size_t    need;
} result;

static void one_shot(const uint8_t *s, size_t len, uint32_t maxp, result *r)
{
    size_t off = 0;
    for (;;) {
        gn_frame f[3];
        size_t consumed, need;
        gn_err st;
        size_t n = gn_frame_scan(s + off, len - off, maxp, f, 3, &consumed, &need, &st);
        size_t sum = 0;
        for (size_t i = 0; i < n; i++) {
            FUZZ_CHECK(f[i].offset == sum);
            FUZZ_CHECK(f[i].header_len >= 2 && f[i].header_len <= 5);
            FUZZ_CHECK(f[i].total_len >= f[i].header_len);
            FUZZ_CHECK(maxp == 0 || f[i].total_len <= maxp);
            FUZZ_CHECK(f[i].first_byte == s[off + sum]);
            sum += f[i].total_len;
            r->frames[r->n] = f[i];
            r->frames[r->n].offset = (uint32_t)(off + f[i].offset);
            r->n++;
        }
        FUZZ_CHECK(sum == consumed);
        off += consumed;
        if (st != GN_OK) {
            r->status = st;
            r->need = need;
            if (st == GN_NEED_MORE)
                FUZZ_CHECK((need == 0) == (off == len));
            return;
        }
    }
}

static uint32_t rng(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

static void chunked(const uint8_t *s, size_t len, uint32_t maxp, uint32_t seed, result *r)
{
    uint8_t *carry = malloc(len + 1);
    FUZZ_CHECK(carry != NULL);
    size_t have = 0, base = 0, fed = 0;
    uint32_t x = seed | 1u;
    r->status = GN_NEED_MORE;
    r->need = 0;
    while (fed < len) {
        size_t chunk = 1 + rng(&x) % 7;
        if (rng(&x) % 8 == 0)
            chunk += rng(&x) % 300;
        if (chunk > len - fed)
            chunk = len - fed;
        memcpy(carry + have, s + fed, chunk);
        have += chunk;
        fed += chunk;
        gn_frame f[8];
        size_t consumed, need;
        gn_err st;
        size_t n = gn_frame_scan(carry, have, maxp, f, 8, &consumed, &need, &st);
        for (size_t i = 0; i < n; i++) {
            r->frames[r->n] = f[i];
            r->frames[r->n].offset = (uint32_t)(base + f[i].offset);
            r->n++;
        }
        base += consumed;
        memmove(carry, carry + consumed, have - consumed);
        have -= consumed;
        r->status = st;
        r->need = need;
        if (st != GN_OK && st != GN_NEED_MORE)
            break;          /* the stream is broken: stop like the engine */
    }
    /* Drain: the cap may have stopped the last scan early. */
    while (r->status == GN_OK) {
        gn_frame f[8];
        size_t consumed, need;
        gn_err st;
        size_t n = gn_frame_scan(carry, have, maxp, f, 8, &consumed, &need, &st);
        for (size_t i = 0; i < n; i++) {
            r->frames[r->n] = f[i];
            r->frames[r->n].offset = (uint32_t)(base + f[i].offset);
            r->n++;
        }
        base += consumed;
        memmove(carry, carry + consumed, have - consumed);
        have -= consumed;
        r->status = st;
        r->need = need;
    }
    free(carry);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    uint32_t maxp = data[0] < 128 ? 0 : (uint32_t)(data[0] - 126) * 8u;
    uint32_t seed = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                    (uint32_t)data[4] << 24;
    const uint8_t *s = data + 5;
    size_t len = size - 5;
    result a = { calloc(len / 2 + 1, sizeof(gn_frame)), 0, GN_OK, 0 };
    result b = { calloc(len / 2 + 1, sizeof(gn_frame)), 0, GN_OK, 0 };
    FUZZ_CHECK(a.frames != NULL && b.frames != NULL);
    one_shot(s, len, maxp, &a);
    chunked(s, len, maxp, seed, &b);
    FUZZ_CHECK(a.n == b.n);
    for (size_t i = 0; i < a.n; i++) {
        FUZZ_CHECK(a.frames[i].offset == b.frames[i].offset);
        FUZZ_CHECK(a.frames[i].total_len == b.frames[i].total_len);
        FUZZ_CHECK(a.frames[i].header_len == b.frames[i].header_len);
        FUZZ_CHECK(a.frames[i].first_byte == b.frames[i].first_byte);
    }
    FUZZ_CHECK(a.status == b.status);
    FUZZ_CHECK(a.need == b.need);
    free(a.frames);
    free(b.frames);
    return 0;
}
