/* tests/codec/test_frame.c — incremental framing: remaining-length varints
 * (spec table 1.5.5), malformed and overlong varints, the maximum packet
 * size, and a stream of mixed packets cut at every byte offset and fed byte
 * by byte, checked against the one-shot scan. */
#include "codec_util.h"

#define STREAM_MAX 40000
#define FRAMES_MAX 64

static uint8_t stream[STREAM_MAX];
static size_t stream_len;
static gn_frame ref[FRAMES_MAX];
static size_t ref_n;

static void add(const gn_packet *p, gn_proto proto, const gn_sub_entry *subs, size_t nsubs)
{
    size_t n = 0;
    ck_assert_err(gn_encode(p, proto, subs, nsubs, stream + stream_len,
                            sizeof stream - stream_len, &n), GN_OK);
    ref[ref_n].offset = (uint32_t)stream_len;
    ref[ref_n].total_len = (uint32_t)n;
    ref[ref_n].first_byte = stream[stream_len];
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(stream + stream_len, n, 0, &f, &need), GN_OK);
    ck_assert_uint_eq(f.total_len, n);
    ref[ref_n].header_len = f.header_len;
    ref_n++;
    stream_len += n;
}

/* A stream of every packet type, with remaining lengths of 1, 2 and 3 bytes. */
static void build_stream(void)
{
    static uint8_t payload[20000];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)('a' + i % 26);
    stream_len = 0;
    ref_n = 0;
    gn_packet p;
    memset(&p, 0, sizeof p);
    p.type = GN_CONNECT;
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 30;
    p.u.connect.client_id = tu_b("dev-1");
    add(&p, GN_PROTO_V5, NULL, 0);
    memset(&p, 0, sizeof p);
    p.type = GN_CONNACK;
    add(&p, GN_PROTO_V5, NULL, 0);
    static const uint32_t sizes[] = { 0, 16, 200, 20000, 5 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        memset(&p, 0, sizeof p);
        p.type = GN_PUBLISH;
        p.u.publish.qos = (uint8_t)(i % 3);
        p.u.publish.packet_id = p.u.publish.qos ? (uint16_t)(i + 1) : 0;
        p.u.publish.topic = tu_b("iot-2/type/T/id/I/evt/E/fmt/json");
        p.u.publish.payload = (gn_bytes){ payload, sizes[i] };
        add(&p, GN_PROTO_V5, NULL, 0);
    }
    static const gn_packet_type acks[] = { GN_PUBACK, GN_PUBREC, GN_PUBREL, GN_PUBCOMP };
    for (size_t i = 0; i < 4; i++) {
        memset(&p, 0, sizeof p);
        p.type = acks[i];
        p.u.ack.packet_id = 7;
        p.u.ack.reason = i == 1 ? 0x10 : 0;
        add(&p, GN_PROTO_V5, NULL, 0);
    }
    gn_sub_entry subs[2] = { { tu_b("a/+/c"), 1 }, { tu_b("#"), 2 } };
    memset(&p, 0, sizeof p);
    p.type = GN_SUBSCRIBE;
    p.u.subscribe.packet_id = 9;
    add(&p, GN_PROTO_V5, subs, 2);
    memset(&p, 0, sizeof p);
    p.type = GN_UNSUBSCRIBE;
    p.u.unsubscribe.packet_id = 10;
    add(&p, GN_PROTO_V5, subs, 2);
    static const uint8_t codes[] = { 1, 2 };
    memset(&p, 0, sizeof p);
    p.type = GN_SUBACK;
    p.u.suback.packet_id = 9;
    p.u.suback.reasons = (gn_bytes){ codes, 2 };
    add(&p, GN_PROTO_V5, NULL, 0);
    memset(&p, 0, sizeof p);
    p.type = GN_PINGREQ;
    add(&p, GN_PROTO_V5, NULL, 0);
    p.type = GN_PINGRESP;
    add(&p, GN_PROTO_V5, NULL, 0);
    memset(&p, 0, sizeof p);
    p.type = GN_DISCONNECT;
    add(&p, GN_PROTO_V5, NULL, 0);
}

/* Whether f[0..n) are reference frames first.. (offsets relative to base).
 * Plain comparisons: the per-offset loops assert once per cut. */
static bool frames_match(const gn_frame *f, size_t n, size_t first, size_t base)
{
    for (size_t i = 0; i < n; i++) {
        if (first + i >= ref_n || base + f[i].offset != ref[first + i].offset ||
            f[i].total_len != ref[first + i].total_len ||
            f[i].first_byte != ref[first + i].first_byte ||
            f[i].header_len != ref[first + i].header_len)
            return false;
    }
    return true;
}

static void check_frames(const gn_frame *f, size_t n, size_t first, size_t base)
{
    ck_assert_msg(frames_match(f, n, first, base), "frames %zu..%zu differ", first, first + n);
}

START_TEST(test_varint_vectors_from_spec_table)
{
    static const struct { uint32_t v; const char *hex; } vec[] = {
        { 0, "00" }, { 127, "7F" }, { 128, "80 01" }, { 16383, "FF 7F" },
        { 16384, "80 80 01" }, { 2097151, "FF FF 7F" }, { 2097152, "80 80 80 01" },
        { 268435455, "FF FF FF 7F" },
    };
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        uint8_t buf[8] = { 0x30 };
        size_t n = tu_hex(vec[i].hex, buf + 1, 7);
        ck_assert_uint_eq(gn_varint_size(vec[i].v), n);
        gn_frame f;
        size_t need = 0;
        gn_err e = gn_frame_one(buf, 1 + n, 0, &f, &need);
        if (vec[i].v == 0) {
            ck_assert_err(e, GN_OK);
            ck_assert_uint_eq(f.total_len, 2);
        } else {
            ck_assert_err(e, GN_NEED_MORE);
            ck_assert_uint_eq(need, vec[i].v);
        }
    }
    ck_assert_uint_eq(gn_varint_size(268435456u), 0);
}
END_TEST

START_TEST(test_varint_of_five_bytes_is_malformed)
{
    uint8_t buf[] = { 0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 };
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(buf, sizeof buf, 0, &f, &need), GN_ERR_MALFORMED_VARINT);
    /* Every prefix that cannot yet tell says "need one more byte". */
    for (size_t len = 1; len < 5; len++) {
        ck_assert_err(gn_frame_one(buf, len, 0, &f, &need), GN_NEED_MORE);
        ck_assert_uint_eq(need, 1);
    }
    ck_assert_err(gn_frame_one(buf, 5, 0, &f, &need), GN_ERR_MALFORMED_VARINT);
}
END_TEST

START_TEST(test_overlong_varint_is_malformed)
{
    uint8_t a[] = { 0xC0, 0x80, 0x00 };
    uint8_t b[] = { 0x30, 0x85, 0x80, 0x00 };
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(a, sizeof a, 0, &f, &need), GN_ERR_MALFORMED_VARINT);
    ck_assert_err(gn_frame_one(b, sizeof b, 0, &f, &need), GN_ERR_MALFORMED_VARINT);
    gn_packet p;
    ck_assert_err(gn_decode(a, sizeof a, GN_PROTO_V311, &p), GN_ERR_MALFORMED_VARINT);
}
END_TEST

START_TEST(test_type_zero_is_reserved_for_framing)
{
    uint8_t buf[] = { 0x00, 0x00 };
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(buf, sizeof buf, 0, &f, &need), GN_ERR_RESERVED_TYPE);
}
END_TEST

START_TEST(test_packet_above_max_size_is_refused_before_its_body)
{
    uint8_t buf[] = { 0x30, 0x80, 0x01 };       /* 128-byte body, 131 in all */
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(buf, sizeof buf, 130, &f, &need), GN_ERR_PACKET_TOO_LARGE);
    ck_assert_err(gn_frame_one(buf, sizeof buf, 131, &f, &need), GN_NEED_MORE);
    ck_assert_uint_eq(need, 128);
    ck_assert_err(gn_frame_one(buf, sizeof buf, 0, &f, &need), GN_NEED_MORE);
}
END_TEST

START_TEST(test_empty_buffer_needs_more)
{
    gn_frame f[2];
    size_t consumed = 9, need = 9;
    gn_err st;
    ck_assert_uint_eq(gn_frame_scan(NULL, 0, 0, f, 2, &consumed, &need, &st), 0);
    ck_assert_err(st, GN_NEED_MORE);
    ck_assert_uint_eq(consumed, 0);
    ck_assert_uint_eq(need, 0);
    ck_assert_err(gn_frame_one((const uint8_t *)"", 0, 0, f, &need), GN_NEED_MORE);
    ck_assert_uint_eq(need, 1);
}
END_TEST

START_TEST(test_scan_whole_stream_finds_every_packet)
{
    build_stream();
    gn_frame f[FRAMES_MAX];
    size_t consumed, need;
    gn_err st;
    size_t n = gn_frame_scan(stream, stream_len, 0, f, FRAMES_MAX, &consumed, &need, &st);
    ck_assert_uint_eq(n, ref_n);
    ck_assert_uint_eq(consumed, stream_len);
    ck_assert_err(st, GN_NEED_MORE);
    ck_assert_uint_eq(need, 0);
    check_frames(f, n, 0, 0);
    for (size_t i = 0; i < n; i++) {
        gn_packet p;
        ck_assert_err(gn_decode(stream + f[i].offset, f[i].total_len, GN_PROTO_V5, &p), GN_OK);
        ck_assert_int_eq(p.type, f[i].first_byte >> 4);
    }
}
END_TEST

START_TEST(test_scan_stops_at_cap_with_ok)
{
    build_stream();
    gn_frame f[3];
    size_t consumed, need;
    gn_err st;
    size_t n = gn_frame_scan(stream, stream_len, 0, f, 3, &consumed, &need, &st);
    ck_assert_uint_eq(n, 3);
    ck_assert_err(st, GN_OK);
    ck_assert_uint_eq(consumed, ref[3].offset);
    check_frames(f, n, 0, 0);
}
END_TEST

/* Cut the stream at every offset: scan the first part, carry the unconsumed
 * tail over to the rest, and expect exactly the one-shot frames. */
START_TEST(test_stream_cut_at_every_offset)
{
    build_stream();
    static uint8_t carry[STREAM_MAX];
    gn_frame f[FRAMES_MAX];
    for (size_t cut = 0; cut <= stream_len; cut++) {
        size_t consumed, need;
        gn_err st;
        size_t n1 = gn_frame_scan(stream, cut, 0, f, FRAMES_MAX, &consumed, &need, &st);
        bool ok = st == GN_NEED_MORE && frames_match(f, n1, 0, 0) &&
                  consumed == (n1 < ref_n ? ref[n1].offset : stream_len);
        if (need != 0) {
            /* need more bytes are enough for progress and need-1 are not
             * when the length is known; "1" while the length is incomplete. */
            size_t start = ref[n1].offset;
            size_t have = cut - start;
            size_t total = ref[n1].total_len;
            size_t hdr = ref[n1].header_len;
            ok = ok && need == (have >= hdr ? total - have : 1);
        }
        size_t tail = cut - consumed;
        memcpy(carry, stream + consumed, tail);
        memcpy(carry + tail, stream + cut, stream_len - cut);
        size_t n2 = gn_frame_scan(carry, tail + stream_len - cut, 0, f, FRAMES_MAX,
                                  &consumed, &need, &st);
        ok = ok && n1 + n2 == ref_n &&
             frames_match(f, n2, n1, n1 < ref_n ? ref[n1].offset : stream_len) &&
             st == GN_NEED_MORE && need == 0;
        if (!ok)
            ck_abort_msg("stream cut at offset %zu of %zu framed differently", cut, stream_len);
    }
}
END_TEST

/* Feed one byte at a time into a carry buffer, scanning after each byte. */
START_TEST(test_stream_fed_byte_by_byte)
{
    build_stream();
    static uint8_t carry[STREAM_MAX];
    size_t have = 0, base = 0, found = 0;
    gn_frame f[FRAMES_MAX];
    for (size_t i = 0; i < stream_len; i++) {
        carry[have++] = stream[i];
        size_t consumed, need;
        gn_err st;
        size_t n = gn_frame_scan(carry, have, 0, f, FRAMES_MAX, &consumed, &need, &st);
        if (st != GN_NEED_MORE || n > 1 || !frames_match(f, n, found, base))
            ck_abort_msg("byte %zu: framed differently", i);
        found += n;
        base += consumed;
        memmove(carry, carry + consumed, have - consumed);
        have -= consumed;
    }
    ck_assert_uint_eq(found, ref_n);
    ck_assert_uint_eq(have, 0);
}
END_TEST

START_TEST(test_error_after_good_packets_keeps_them)
{
    build_stream();
    static uint8_t buf[STREAM_MAX + 8];
    memcpy(buf, stream, stream_len);
    buf[stream_len] = 0x30;
    buf[stream_len + 1] = 0x80;
    buf[stream_len + 2] = 0x00;                 /* overlong */
    gn_frame f[FRAMES_MAX];
    size_t consumed, need;
    gn_err st;
    size_t n = gn_frame_scan(buf, stream_len + 3, 0, f, FRAMES_MAX, &consumed, &need, &st);
    ck_assert_uint_eq(n, ref_n);
    ck_assert_uint_eq(consumed, stream_len);
    ck_assert_err(st, GN_ERR_MALFORMED_VARINT);
    /* Same verdict whatever the chunk that first holds the bad byte. */
    n = gn_frame_scan(buf, stream_len + 2, 0, f, FRAMES_MAX, &consumed, &need, &st);
    ck_assert_err(st, GN_NEED_MORE);
    ck_assert_uint_eq(need, 1);
}
END_TEST

START_TEST(test_max_packet_stops_scan_at_the_big_packet)
{
    build_stream();
    gn_frame f[FRAMES_MAX];
    size_t consumed, need;
    gn_err st;
    size_t n = gn_frame_scan(stream, stream_len, 1000, f, FRAMES_MAX, &consumed, &need, &st);
    ck_assert_err(st, GN_ERR_PACKET_TOO_LARGE);
    ck_assert_uint_gt(ref[n].total_len, 1000);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_le(ref[i].total_len, 1000);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_frame");
    TCase *tc = tcase_create("frame");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_varint_vectors_from_spec_table);
    tcase_add_test(tc, test_varint_of_five_bytes_is_malformed);
    tcase_add_test(tc, test_overlong_varint_is_malformed);
    tcase_add_test(tc, test_type_zero_is_reserved_for_framing);
    tcase_add_test(tc, test_packet_above_max_size_is_refused_before_its_body);
    tcase_add_test(tc, test_empty_buffer_needs_more);
    tcase_add_test(tc, test_scan_whole_stream_finds_every_packet);
    tcase_add_test(tc, test_scan_stops_at_cap_with_ok);
    tcase_add_test(tc, test_stream_cut_at_every_offset);
    tcase_add_test(tc, test_stream_fed_byte_by_byte);
    tcase_add_test(tc, test_error_after_good_packets_keeps_them);
    tcase_add_test(tc, test_max_packet_stops_scan_at_the_big_packet);
    suite_add_tcase(s, tc);
    return tu_run(s);
}
