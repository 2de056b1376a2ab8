/* bench/bench_codec.c — codec benchmark: UTF-8 validation per kernel, topic
 * split + hash, and framing + full decode of PUBLISH streams at every SIMD
 * level, all in one run so SIMD and scalar are compared on the same machine
 * state. One JSON object per line on stdout; without --json a readable
 * summary follows. Each figure is the median of REPS timed repetitions.
 *
 *   bench_codec [--seconds S] [--json]
 *     --seconds S  time spent per measured case (default 0.5), split
 *                  across the repetitions
 *     --json       JSON lines only
 *
 * Run pinned to one core: taskset -c 1 build/bench/bench_codec
 * Single-threaded; uses gn_simd_force, so nothing else may decode meanwhile. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec/packet.h"
#include "codec/simd.h"
#include "codec/simd/kernels.h"
#include "codec/topic.h"
#include "codec/utf8.h"

#define REPS 7
#define MAX_SUMMARY 128

static double g_seconds = 0.5;
static int g_json_only;

/* ------------------------------------------------------------- timing */

/* CPU time of this thread: on a shared, noisy machine the time the
 * scheduler gives to other processes is not counted against the codec. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One timed case: run(ctx) does one batch of work and returns how many
 * units (calls, packets) it did and adds the bytes it covered. Each
 * repetition runs batches for seconds/REPS; the result is the median rate. */
typedef struct rate {
    double units_per_s;
    double bytes_per_s;
} rate;

typedef size_t (*batch_fn)(void *ctx, size_t *bytes);

static rate measure(batch_fn run, void *ctx)
{
    double units[REPS], bytes[REPS];
    double slice = g_seconds / REPS;
    size_t warm_bytes = 0;

    run(ctx, &warm_bytes); /* warm caches and branch predictors */
    for (int r = 0; r < REPS; r++) {
        size_t n = 0, b = 0;
        double t0 = now_s(), t;
        do {
            n += run(ctx, &b);
            t = now_s();
        } while (t - t0 < slice);
        units[r] = (double)n / (t - t0);
        bytes[r] = (double)b / (t - t0);
    }
    qsort(units, REPS, sizeof units[0], cmp_double);
    qsort(bytes, REPS, sizeof bytes[0], cmp_double);
    return (rate){ units[REPS / 2], bytes[REPS / 2] };
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint64_t g_sink;

/* ------------------------------------------------------------- summary */

static char g_summary[MAX_SUMMARY][160];
static int g_nsummary;

static void summary(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void summary(const char *fmt, ...)
{
    if (g_nsummary == MAX_SUMMARY)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_summary[g_nsummary++], sizeof g_summary[0], fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------- inputs */

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
    g_rng ^= g_rng >> 12;
    g_rng ^= g_rng << 25;
    g_rng ^= g_rng >> 27;
    return (uint32_t)(((g_rng * 0x2545F4914F6CDD1Dull) >> 32) % n);
}

/* Fill buf[0..len) with whole characters: multilingual (Latin with
 * accents, Cyrillic, Greek, CJK, emoji, spaces) or plain ASCII. */
static void fill_text(uint8_t *buf, size_t len, bool multilingual)
{
    static const char *words[] = {
        "temperature", "Grüße", "température", "日本語", "датчик", "θερμοκρασία", "温度", "😀",
        "niño", "ŻÓŁW", "한국어", "status", "🚀", "اختبار", "ok", "Ελλάδα",
    };
    size_t i = 0;
    while (i < len) {
        const char *w = multilingual ? words[rnd(sizeof words / sizeof words[0])] : "sensor";
        size_t n = strlen(w);
        if (n + 1 > len - i) {
            memset(buf + i, 'x', len - i);
            break;
        }
        memcpy(buf + i, w, n);
        buf[i + n] = ' ';
        i += n + 1;
    }
}

/* A set of strings laid out back to back; a batch validates each once. */
typedef struct strset {
    uint8_t *data;
    size_t *off, *len;
    size_t count, total;
} strset;

static void strset_init(strset *s, size_t count, size_t cap)
{
    s->data = malloc(cap);
    s->off = malloc(count * sizeof s->off[0]);
    s->len = malloc(count * sizeof s->len[0]);
    if (s->data == NULL || s->off == NULL || s->len == NULL) {
        fprintf(stderr, "bench_codec: out of memory\n");
        exit(1);
    }
    s->count = 0;
    s->total = 0;
}

static void strset_free(strset *s)
{
    free(s->data);
    free(s->off);
    free(s->len);
}

static uint8_t *strset_add(strset *s, size_t len)
{
    s->off[s->count] = s->total;
    s->len[s->count] = len;
    s->count++;
    s->total += len;
    return s->data + s->total - len;
}

static void make_fixed(strset *s, size_t size, bool multilingual)
{
    size_t count = size >= 4096 ? 64 : 16384 / size * 4;
    strset_init(s, count, count * size);
    for (size_t i = 0; i < count; i++)
        fill_text(strset_add(s, size), size, multilingual);
}

static int topic_text(char *out, size_t cap, uint32_t i)
{
    static const char *types[] = { "sensor", "gateway", "meter", "thermostat" };
    static const char *events[] = { "status", "telemetry", "alarm", "heartbeat" };
    return snprintf(out, cap, "iot-2/type/%s/id/dev%06u/evt/%s/fmt/json",
                    types[i % 4], i, events[(i / 4) % 4]);
}

/* Realistic topics: platform form and short/long plain ones, 10..60 bytes. */
static void make_topics(strset *s)
{
    size_t count = 4096;
    strset_init(s, count, count * 64);
    char t[80];
    for (uint32_t i = 0; i < count; i++) {
        int n;
        switch (i % 4) {
        case 0: n = topic_text(t, sizeof t, i); break;
        case 1: n = snprintf(t, sizeof t, "home/floor%u/room%u/temp", i % 7, i % 23); break;
        case 2: n = snprintf(t, sizeof t, "plant-%u/line/%u/machine/%u/vibration/rms", i % 5, i % 11, i); break;
        default: n = snprintf(t, sizeof t, "d/%u/s", i); break;
        }
        memcpy(strset_add(s, (size_t)n), t, (size_t)n);
    }
}

/* ------------------------------------------------------------- UTF-8 */

typedef gn_err (*utf8_fn)(const uint8_t *, size_t);

typedef struct utf8_case {
    const strset *set;
    utf8_fn fn;
} utf8_case;

static size_t utf8_batch(void *ctx, size_t *bytes)
{
    const utf8_case *c = ctx;
    const strset *s = c->set;
    unsigned bad = 0;
    for (size_t i = 0; i < s->count; i++)
        bad += c->fn(s->data + s->off[i], s->len[i]) != GN_OK;
    g_sink += bad;
    *bytes += s->total;
    return s->count;
}

static const struct { gn_simd_level level; utf8_fn fn; } utf8_kernels[] = {
    { GN_SIMD_SCALAR, gn_utf8_check_scalar },
    { GN_SIMD_SSE42, gn_utf8_check_sse42 },
    { GN_SIMD_AVX2, gn_utf8_check_avx2 },
};

static void bench_utf8(void)
{
    struct { const char *name; size_t size; bool multi; } inputs[] = {
        { "ascii_topics", 0, false },
        { "ascii", 16, false }, { "ascii", 64, false }, { "ascii", 4096, false },
        { "multilingual", 16, true }, { "multilingual", 64, true }, { "multilingual", 4096, true },
    };
    for (size_t in = 0; in < sizeof inputs / sizeof inputs[0]; in++) {
        strset s;
        if (inputs[in].size == 0)
            make_topics(&s);
        else
            make_fixed(&s, inputs[in].size, inputs[in].multi);
        for (size_t i = 0; i < s.count; i++) {
            if (gn_utf8_check_scalar(s.data + s.off[i], s.len[i]) != GN_OK) {
                fprintf(stderr, "bench_codec: generated text is not valid UTF-8\n");
                exit(1);
            }
        }
        double scalar_gbps = 0;
        for (size_t k = 0; k < sizeof utf8_kernels / sizeof utf8_kernels[0]; k++) {
            if (!gn_simd_supported(utf8_kernels[k].level))
                continue;
            utf8_case c = { &s, utf8_kernels[k].fn };
            rate r = measure(utf8_batch, &c);
            double gbps = r.bytes_per_s / 1e9;
            if (k == 0)
                scalar_gbps = gbps;
            printf("{\"bench\":\"utf8\",\"kernel\":\"%s\",\"input\":\"%s\",\"size\":%zu,"
                   "\"gbps\":%.3f,\"mcalls_per_s\":%.2f,\"vs_scalar\":%.2f}\n",
                   gn_simd_name(utf8_kernels[k].level), inputs[in].name,
                   inputs[in].size ? inputs[in].size : s.total / s.count, gbps,
                   r.units_per_s / 1e6, scalar_gbps > 0 ? gbps / scalar_gbps : 0.0);
            summary("utf8   %-13s %5zu B  %-7s %8.2f GB/s  %7.1f M/s  x%.2f", inputs[in].name,
                    inputs[in].size ? inputs[in].size : s.total / s.count,
                    gn_simd_name(utf8_kernels[k].level), gbps, r.units_per_s / 1e6,
                    scalar_gbps > 0 ? gbps / scalar_gbps : 0.0);
        }
        strset_free(&s);
    }
}

/* Dispatch cost: gn_utf8_check (switch on the level, direct calls) against
 * an indirect call through a function pointer the compiler cannot see
 * through, on 16-byte strings where the call overhead matters most. */
static utf8_fn volatile g_fnptr;

static size_t dispatch_switch_batch(void *ctx, size_t *bytes)
{
    const strset *s = ctx;
    unsigned bad = 0;
    for (size_t i = 0; i < s->count; i++)
        bad += gn_utf8_check(s->data + s->off[i], s->len[i]) != GN_OK;
    g_sink += bad;
    *bytes += s->total;
    return s->count;
}

static size_t dispatch_fnptr_batch(void *ctx, size_t *bytes)
{
    const strset *s = ctx;
    utf8_fn fn = g_fnptr;
    unsigned bad = 0;
    for (size_t i = 0; i < s->count; i++)
        bad += fn(s->data + s->off[i], s->len[i]) != GN_OK;
    g_sink += bad;
    *bytes += s->total;
    return s->count;
}

static void bench_dispatch(void)
{
    strset s;
    make_fixed(&s, 16, false);
    gn_simd_level l = gn_simd_force(GN_SIMD_AVX2);
    g_fnptr = l == GN_SIMD_AVX2 ? gn_utf8_check_avx2 : l == GN_SIMD_SSE42 ? gn_utf8_check_sse42
                                                                          : gn_utf8_check_scalar;
    rate sw = measure(dispatch_switch_batch, &s);
    rate fp = measure(dispatch_fnptr_batch, &s);
    printf("{\"bench\":\"dispatch\",\"level\":\"%s\",\"size\":16,\"switch_ns_per_call\":%.2f,"
           "\"fnptr_ns_per_call\":%.2f}\n", gn_simd_name(l), 1e9 / sw.units_per_s, 1e9 / fp.units_per_s);
    summary("dispatch %-7s 16 B: switch %.2f ns/call, function pointer %.2f ns/call", gn_simd_name(l),
            1e9 / sw.units_per_s, 1e9 / fp.units_per_s);
    strset_free(&s);
}

/* ------------------------------------------------------------- topics */

static size_t split_batch(void *ctx, size_t *bytes)
{
    static gn_levels lv;
    const strset *s = ctx;
    uint64_t h = 0;
    for (size_t i = 0; i < s->count; i++) {
        if (gn_topic_split(s->data + s->off[i], s->len[i], &lv) == GN_OK)
            h ^= lv.hash[lv.count - 1] ^ lv.topic_hash;
    }
    g_sink += h;
    *bytes += s->total;
    return s->count;
}

static size_t name_check_batch(void *ctx, size_t *bytes)
{
    const strset *s = ctx;
    unsigned bad = 0;
    for (size_t i = 0; i < s->count; i++)
        bad += gn_topic_name_check(s->data + s->off[i], s->len[i]) != GN_OK;
    g_sink += bad;
    *bytes += s->total;
    return s->count;
}

static void bench_topics(void)
{
    strset s;
    size_t count = 4096;
    strset_init(&s, count, count * 64);
    char t[80];
    for (uint32_t i = 0; i < count; i++) {
        int n = topic_text(t, sizeof t, i);
        memcpy(strset_add(&s, (size_t)n), t, (size_t)n);
    }
    for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++) {
        if ((int)gn_simd_force((gn_simd_level)l) != l)
            continue;
        rate sp = measure(split_batch, &s);
        rate nc = measure(name_check_batch, &s);
        printf("{\"bench\":\"topic\",\"level\":\"%s\",\"topic\":\"iot-2/type/T/id/I/evt/E/fmt/json\","
               "\"avg_len\":%zu,\"split_hash_per_s\":%.0f,\"name_check_per_s\":%.0f}\n",
               gn_simd_name((gn_simd_level)l), s.total / s.count, sp.units_per_s, nc.units_per_s);
        summary("topic  %-7s split+hash %6.2f M/s  name check %7.2f M/s", gn_simd_name((gn_simd_level)l),
                sp.units_per_s / 1e6, nc.units_per_s / 1e6);
    }
    strset_free(&s);
}

/* ------------------------------------------------------------- decode */

#define FRAME_CAP 256

typedef struct stream {
    uint8_t *buf;
    size_t len;
    size_t packets;
} stream;

/* PUBLISH packets with platform topics (one device per packet, cycling),
 * QoS qos, payload_len bytes each, about target bytes in all. */
static void make_stream(stream *st, size_t payload_len, uint8_t qos, size_t target)
{
    uint8_t *payload = malloc(payload_len);
    size_t cap = target + payload_len + 256;
    st->buf = malloc(cap);
    if (payload == NULL || st->buf == NULL) {
        fprintf(stderr, "bench_codec: out of memory\n");
        exit(1);
    }
    memset(payload, 'p', payload_len);
    st->len = 0;
    st->packets = 0;
    while (st->len < target || st->packets < 16) {
        char t[80];
        int tn = topic_text(t, sizeof t, (uint32_t)(st->packets % 1000));
        gn_packet p;
        memset(&p, 0, sizeof p);
        p.type = GN_PUBLISH;
        p.u.publish.qos = qos;
        p.u.publish.topic = (gn_bytes){ (const uint8_t *)t, (uint32_t)tn };
        p.u.publish.packet_id = qos ? (uint16_t)(1 + st->packets % 65535) : 0;
        p.u.publish.payload = (gn_bytes){ payload, (uint32_t)payload_len };
        size_t n = 0;
        if (st->len + payload_len + 128 > cap)
            break;
        gn_err e = gn_encode(&p, GN_PROTO_V311, NULL, 0, st->buf + st->len, cap - st->len, &n);
        if (e != GN_OK) {
            fprintf(stderr, "bench_codec: gn_encode failed: %d\n", (int)e);
            exit(1);
        }
        st->len += n;
        st->packets++;
    }
    free(payload);
}

/* Frame the whole stream (as a receive loop would, FRAME_CAP frames per
 * call) and decode every packet. */
static size_t decode_batch(void *ctx, size_t *bytes)
{
    const stream *st = ctx;
    gn_frame frames[FRAME_CAP];
    gn_packet pkt;
    size_t off = 0, packets = 0;
    uint64_t acc = 0;

    while (off < st->len) {
        size_t consumed = 0, need = 0;
        gn_err status;
        size_t n = gn_frame_scan(st->buf + off, st->len - off, 0, frames, FRAME_CAP, &consumed, &need, &status);
        if (n == 0) {
            fprintf(stderr, "bench_codec: framing stopped: %d\n", (int)status);
            exit(1);
        }
        for (size_t i = 0; i < n; i++) {
            const uint8_t *pk = st->buf + off + frames[i].offset;
            if (gn_decode(pk, frames[i].total_len, GN_PROTO_V311, &pkt) != GN_OK) {
                fprintf(stderr, "bench_codec: decode failed\n");
                exit(1);
            }
            acc += pkt.u.publish.payload.len + pkt.u.publish.topic.len;
        }
        packets += n;
        off += consumed;
    }
    g_sink += acc;
    *bytes += st->len;
    return packets;
}

static void bench_decode(void)
{
    static const size_t payloads[] = { 16, 256, 4096 };
    for (size_t pi = 0; pi < sizeof payloads / sizeof payloads[0]; pi++) {
        for (uint8_t qos = 0; qos <= 1; qos++) {
            stream st;
            /* Big enough to leave L1/L2 like a real receive ring, small
             * enough to stay in L3: 1 MiB. */
            make_stream(&st, payloads[pi], qos, 1u << 20);
            double scalar_pps = 0;
            for (int l = GN_SIMD_SCALAR; l <= GN_SIMD_AVX2; l++) {
                if ((int)gn_simd_force((gn_simd_level)l) != l)
                    continue;
                rate r = measure(decode_batch, &st);
                if (l == GN_SIMD_SCALAR)
                    scalar_pps = r.units_per_s;
                printf("{\"bench\":\"decode\",\"level\":\"%s\",\"proto\":4,\"qos\":%u,\"payload\":%zu,"
                       "\"packet_bytes\":%zu,\"mpackets_per_s\":%.2f,\"gbps\":%.3f,\"vs_scalar\":%.2f}\n",
                       gn_simd_name((gn_simd_level)l), qos, payloads[pi], st.len / st.packets,
                       r.units_per_s / 1e6, r.bytes_per_s / 1e9,
                       scalar_pps > 0 ? r.units_per_s / scalar_pps : 0.0);
                summary("decode %-7s QoS %u %5zu B payload  %6.2f M packets/s  %6.2f GB/s", gn_simd_name((gn_simd_level)l),
                        qos, payloads[pi], r.units_per_s / 1e6, r.bytes_per_s / 1e9);
            }
            free(st.buf);
        }
    }
}

/* ------------------------------------------------------------- main */

static void usage(void)
{
    fprintf(stderr, "usage: bench_codec [--seconds S] [--json]\n"
                    "  --seconds S  time per measured case (default 0.5)\n"
                    "  --json       JSON lines only (no summary)\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char *end;
            g_seconds = strtod(argv[++i], &end);
            if (*end != '\0' || !(g_seconds > 0) || g_seconds > 3600) {
                usage();
                return 2;
            }
        } else if (strcmp(argv[i], "--json") == 0) {
            g_json_only = 1;
        } else {
            usage();
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }

    gn_simd_level best = gn_simd_active();
    printf("{\"bench\":\"meta\",\"simd_detected\":\"%s\",\"seconds_per_case\":%.3f,\"reps\":%d}\n",
           gn_simd_name(best), g_seconds, REPS);
    fflush(stdout);
    bench_utf8();
    fflush(stdout);
    bench_dispatch();
    bench_topics();
    fflush(stdout);
    bench_decode();
    gn_simd_force(best);

    if (!g_json_only) {
        printf("\nsummary (medians of %d repetitions, %.2f s per case)\n", REPS, g_seconds);
        for (int i = 0; i < g_nsummary; i++)
            printf("  %s\n", g_summary[i]);
    }
    return 0;
}
