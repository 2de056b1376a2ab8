/* tests/codec/test_roundtrip.c — encode then decode every control packet in
 * every protocol version (3.1, 3.1.1, 5) and re-encode the decoded view to
 * the same bytes; byte vectors written by hand from the specifications;
 * encoder refusals and buffer-too-small behaviour. */
#include "codec_util.h"

static uint8_t wire[8192];
static uint8_t wire2[8192];
static size_t wire_len;
static gn_packet got;

/* Encode p, frame and decode it into `got`, re-encode `got`, and require the
 * same bytes; every shorter buffer must give GN_ERR_BUFFER_TOO_SMALL with
 * the full size. */
static void roundtrip(const gn_packet *p, gn_proto proto, const gn_sub_entry *subs,
                      size_t nsubs)
{
    size_t n = 0;
    ck_assert_err(gn_encode(p, proto, subs, nsubs, wire, sizeof wire, &n), GN_OK);
    wire_len = n;
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(wire, n, 0, &f, &need), GN_OK);
    ck_assert_uint_eq(f.total_len, n);
    ck_assert_uint_eq(f.first_byte >> 4, p->type);
    ck_assert_err(gn_decode(wire, n, proto, &got), GN_OK);
    ck_assert_int_eq(got.type, p->type);

    gn_sub_entry back[16];
    size_t nback = 0;
    uint32_t c = 0;
    if (got.type == GN_SUBSCRIBE) {
        while (nback < 16 && gn_subscribe_next(&got.u.subscribe, &c, &back[nback].filter,
                                                &back[nback].options))
            nback++;
        ck_assert_uint_eq(nback, got.u.subscribe.count);
    } else if (got.type == GN_UNSUBSCRIBE) {
        while (nback < 16 && gn_unsubscribe_next(&got.u.unsubscribe, &c, &back[nback].filter))
            back[nback++].options = 0;
        ck_assert_uint_eq(nback, got.u.unsubscribe.count);
    }
    size_t n2 = 0;
    ck_assert_err(gn_encode(&got, proto, back, nback, wire2, sizeof wire2, &n2), GN_OK);
    ck_assert_uint_eq(n2, n);
    ck_assert_mem_eq(wire2, wire, n);

    for (size_t cap = 0; cap < n; cap++) {
        size_t need_len = 0;
        ck_assert_err(gn_encode(p, proto, subs, nsubs, wire2, cap, &need_len),
                      GN_ERR_BUFFER_TOO_SMALL);
        ck_assert_uint_eq(need_len, n);
    }
}

static void expect_bytes(const char *hex)
{
    uint8_t want[1024];
    size_t wn = tu_hex(hex, want, sizeof want);
    ck_assert_uint_eq(wire_len, wn);
    ck_assert_mem_eq(wire, want, wn);
}

static gn_packet pkt(gn_packet_type t)
{
    gn_packet p;
    memset(&p, 0, sizeof p);
    p.type = t;
    return p;
}

/* ---------------------------------------------------------- round trips */

START_TEST(test_connect_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_CONNECT);
    gn_connect *c = &p.u.connect;
    c->clean_start = true;
    c->keep_alive = 45;
    c->client_id = tu_b("d:org:type:dev1");
    c->will = true;
    c->will_qos = 1;
    c->will_retain = true;
    c->will_topic = tu_b("iot-2/evt/status/fmt/json");
    c->will_payload = tu_b("{\"gone\":1}");
    c->has_username = true;
    c->username = tu_b("use-token-auth");
    c->has_password = true;
    c->password = tu_b("s3cr3t\x01");
    gn_user_prop up[1] = { { tu_s("region"), tu_s("eu") } };
    if (proto == GN_PROTO_V5) {
        c->props.present = GN_PROP_BIT(GN_PROP_SESSION_EXPIRY) |
                           GN_PROP_BIT(GN_PROP_RECEIVE_MAXIMUM) |
                           GN_PROP_BIT(GN_PROP_USER_PROPERTY);
        c->props.session_expiry = 300;
        c->props.receive_maximum = 16;
        c->props.user = up;
        c->props.user_count = 1;
        c->will_props.present = GN_PROP_BIT(GN_PROP_WILL_DELAY) |
                                GN_PROP_BIT(GN_PROP_PAYLOAD_FORMAT);
        c->will_props.will_delay = 10;
        c->will_props.payload_format = 1;
    }
    roundtrip(&p, proto, NULL, 0);
    const gn_connect *g = &got.u.connect;
    ck_assert_int_eq(g->proto, proto);
    ck_assert(tu_eq(g->protocol_name, proto == GN_PROTO_V31 ? "MQIsdp" : "MQTT"));
    ck_assert(g->clean_start && g->will && g->will_retain);
    ck_assert_uint_eq(g->will_qos, 1);
    ck_assert_uint_eq(g->keep_alive, 45);
    ck_assert(tu_eq(g->client_id, "d:org:type:dev1"));
    ck_assert(tu_eq(g->will_topic, "iot-2/evt/status/fmt/json"));
    ck_assert(tu_eq(g->will_payload, "{\"gone\":1}"));
    ck_assert(tu_eq(g->username, "use-token-auth"));
    ck_assert(tu_eq(g->password, "s3cr3t\x01"));
    if (proto == GN_PROTO_V5) {
        ck_assert_uint_eq(g->props.session_expiry, 300);
        ck_assert_uint_eq(g->props.receive_maximum, 16);
        ck_assert_uint_eq(g->props.user_count, 1);
        ck_assert_uint_eq(g->will_props.will_delay, 10);
        ck_assert_uint_eq(g->will_props.payload_format, 1);
    } else {
        ck_assert_uint_eq(g->props.present, 0);
    }
}
END_TEST

START_TEST(test_connect_minimal_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_CONNECT);
    p.u.connect.clean_start = proto != GN_PROTO_V5;
    p.u.connect.client_id = tu_b(proto == GN_PROTO_V311 ? "" : "x");
    if (proto == GN_PROTO_V311)
        p.u.connect.clean_start = true;
    roundtrip(&p, proto, NULL, 0);
    ck_assert(!got.u.connect.will && !got.u.connect.has_username);
    ck_assert_uint_eq(got.u.connect.will_topic.len, 0);
}
END_TEST

START_TEST(test_connack_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_CONNACK);
    p.u.connack.session_present = proto != GN_PROTO_V31;
    if (proto == GN_PROTO_V5) {
        p.u.connack.props.present = GN_PROP_BIT(GN_PROP_ASSIGNED_CLIENT_ID) |
                                    GN_PROP_BIT(GN_PROP_MAXIMUM_QOS) |
                                    GN_PROP_BIT(GN_PROP_TOPIC_ALIAS_MAXIMUM);
        p.u.connack.props.assigned_client_id = tu_s("auto-1");
        p.u.connack.props.maximum_qos = 1;
        p.u.connack.props.topic_alias_maximum = 10;
    }
    roundtrip(&p, proto, NULL, 0);
    ck_assert_int_eq(got.u.connack.session_present, proto != GN_PROTO_V31);
    ck_assert_uint_eq(got.u.connack.reason, 0);
    p.u.connack.session_present = false;
    p.u.connack.reason = proto == GN_PROTO_V5 ? GN_RC_NOT_AUTHORIZED : 5;
    roundtrip(&p, proto, NULL, 0);
    ck_assert_uint_eq(got.u.connack.reason, p.u.connack.reason);
}
END_TEST

START_TEST(test_publish_roundtrip_every_qos)
{
    gn_proto proto = (gn_proto)_i;
    static uint8_t payload[300];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)i;
    for (uint8_t qos = 0; qos < 3; qos++) {
        gn_packet p = pkt(GN_PUBLISH);
        gn_publish *m = &p.u.publish;
        m->qos = qos;
        m->dup = qos != 0;
        m->retain = qos == 1;
        m->packet_id = qos ? (uint16_t)(100 + qos) : 0;
        m->topic = tu_b("iot-2/type/T/id/I/evt/E/fmt/json");
        m->payload = (gn_bytes){ payload, (uint32_t)(qos * 150) };
        static const uint32_t ids[2] = { 1, 70000 };
        if (proto == GN_PROTO_V5) {
            m->props.present = GN_PROP_BIT(GN_PROP_MESSAGE_EXPIRY) |
                               GN_PROP_BIT(GN_PROP_CONTENT_TYPE) |
                               GN_PROP_BIT(GN_PROP_CORRELATION_DATA);
            m->props.message_expiry = 60;
            m->props.content_type = tu_s("application/json");
            m->props.correlation_data = (gn_str){ payload, 4 };
            m->props.sub_ids = ids;
            m->props.sub_id_count = 2;
        }
        roundtrip(&p, proto, NULL, 0);
        const gn_publish *g = &got.u.publish;
        ck_assert_uint_eq(g->qos, qos);
        ck_assert_int_eq(g->dup, qos != 0);
        ck_assert_int_eq(g->retain, qos == 1);
        ck_assert_uint_eq(g->packet_id, m->packet_id);
        ck_assert(tu_eq(g->topic, "iot-2/type/T/id/I/evt/E/fmt/json"));
        ck_assert_uint_eq(g->payload.len, qos * 150u);
        if (g->payload.len)
            ck_assert_mem_eq(g->payload.ptr, payload, g->payload.len);
        if (proto == GN_PROTO_V5) {
            ck_assert_uint_eq(g->props.sub_id_count, 2);
            uint32_t c = 0, v;
            ck_assert(gn_props_next_sub_id(&g->props, &c, &v) && v == 1);
            ck_assert(gn_props_next_sub_id(&g->props, &c, &v) && v == 70000);
            ck_assert(tu_seq(g->props.content_type, "application/json"));
        }
    }
}
END_TEST

START_TEST(test_ack_roundtrip_every_type)
{
    gn_proto proto = (gn_proto)_i;
    static const gn_packet_type types[] = { GN_PUBACK, GN_PUBREC, GN_PUBREL, GN_PUBCOMP };
    for (size_t i = 0; i < 4; i++) {
        gn_packet p = pkt(types[i]);
        p.u.ack.packet_id = (uint16_t)(0xFF00 + i);
        roundtrip(&p, proto, NULL, 0);
        ck_assert_uint_eq(wire_len, 4);
        ck_assert_uint_eq(got.u.ack.packet_id, 0xFF00 + i);
        ck_assert_uint_eq(got.flags, types[i] == GN_PUBREL ? 2 : 0);
        if (proto != GN_PROTO_V5)
            continue;
        p.u.ack.reason = types[i] >= GN_PUBREL ? 0x92 : 0x10;
        roundtrip(&p, proto, NULL, 0);
        ck_assert_uint_eq(wire_len, 5);
        ck_assert_uint_eq(got.u.ack.reason, p.u.ack.reason);
        p.u.ack.props.present = GN_PROP_BIT(GN_PROP_REASON_STRING);
        p.u.ack.props.reason_string = tu_s("why");
        roundtrip(&p, proto, NULL, 0);
        ck_assert(tu_seq(got.u.ack.props.reason_string, "why"));
    }
}
END_TEST

START_TEST(test_subscribe_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_SUBSCRIBE);
    p.u.subscribe.packet_id = 42;
    gn_sub_entry subs[3] = {
        { tu_b("iot-2/type/+/id/+/evt/+/fmt/+"), 1 },
        { tu_b("a/#"), 2 },
        { tu_b("$share/grp/x/y"), 0 },
    };
    if (proto == GN_PROTO_V5) {
        subs[0].options |= GN_SUBOPT_NO_LOCAL | GN_SUBOPT_RETAIN_AS_PUB | 0x20;
        p.u.subscribe.props.present = GN_PROP_BIT(GN_PROP_SUBSCRIPTION_ID);
        p.u.subscribe.props.subscription_id = 268435455;
    }
    roundtrip(&p, proto, subs, 3);
    ck_assert_uint_eq(got.u.subscribe.packet_id, 42);
    ck_assert_uint_eq(got.u.subscribe.count, 3);
    uint32_t c = 0;
    gn_bytes f;
    uint8_t o;
    for (int i = 0; i < 3; i++) {
        ck_assert(gn_subscribe_next(&got.u.subscribe, &c, &f, &o));
        ck_assert_uint_eq(f.len, subs[i].filter.len);
        ck_assert_mem_eq(f.ptr, subs[i].filter.ptr, f.len);
        ck_assert_uint_eq(o, subs[i].options);
    }
    if (proto == GN_PROTO_V5)
        ck_assert_uint_eq(got.u.subscribe.props.subscription_id, 268435455);
}
END_TEST

START_TEST(test_unsubscribe_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_UNSUBSCRIBE);
    p.u.unsubscribe.packet_id = 43;
    gn_sub_entry subs[2] = { { tu_b("a/+"), 0 }, { tu_b("#"), 0 } };
    roundtrip(&p, proto, subs, 2);
    ck_assert_uint_eq(got.u.unsubscribe.packet_id, 43);
    ck_assert_uint_eq(got.u.unsubscribe.count, 2);
}
END_TEST

START_TEST(test_suback_and_unsuback_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    static const uint8_t codes[4] = { 0, 1, 2, 0x80 };
    gn_packet p = pkt(GN_SUBACK);
    p.u.suback.packet_id = 42;
    p.u.suback.reasons = (gn_bytes){ codes, 4 };
    roundtrip(&p, proto, NULL, 0);
    ck_assert_uint_eq(got.u.suback.reasons.len, 4);
    ck_assert_mem_eq(got.u.suback.reasons.ptr, codes, 4);

    static const uint8_t ucodes[2] = { 0x00, 0x11 };
    p = pkt(GN_UNSUBACK);
    p.u.suback.packet_id = 43;
    p.u.suback.reasons = (gn_bytes){ ucodes, 2 };
    roundtrip(&p, proto, NULL, 0);
    ck_assert_uint_eq(got.u.suback.packet_id, 43);
    ck_assert_uint_eq(got.u.suback.reasons.len, proto == GN_PROTO_V5 ? 2 : 0);
}
END_TEST

START_TEST(test_ping_and_disconnect_roundtrip)
{
    gn_proto proto = (gn_proto)_i;
    gn_packet p = pkt(GN_PINGREQ);
    roundtrip(&p, proto, NULL, 0);
    expect_bytes("C0 00");
    p = pkt(GN_PINGRESP);
    roundtrip(&p, proto, NULL, 0);
    expect_bytes("D0 00");
    p = pkt(GN_DISCONNECT);
    roundtrip(&p, proto, NULL, 0);
    expect_bytes("E0 00");
    if (proto == GN_PROTO_V5) {
        p.u.disconnect.reason = GN_RC_SESSION_TAKEN_OVER;
        p.u.disconnect.props.present = GN_PROP_BIT(GN_PROP_SERVER_REFERENCE);
        p.u.disconnect.props.server_reference = tu_s("other:1883");
        roundtrip(&p, proto, NULL, 0);
        ck_assert_uint_eq(got.u.disconnect.reason, GN_RC_SESSION_TAKEN_OVER);
        ck_assert(tu_seq(got.u.disconnect.props.server_reference, "other:1883"));
    }
}
END_TEST

START_TEST(test_auth_roundtrip_v5)
{
    gn_packet p = pkt(GN_AUTH);
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("F0 00");
    p.u.disconnect.reason = GN_RC_CONTINUE_AUTHENTICATION;
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("F0 02 18 00");
    p.u.disconnect.props.present = GN_PROP_BIT(GN_PROP_AUTH_METHOD) |
                                   GN_PROP_BIT(GN_PROP_AUTH_DATA);
    p.u.disconnect.props.auth_method = tu_s("m");
    p.u.disconnect.props.auth_data = tu_s("d");
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("F0 0A 18 08 15 00 01 6D 16 00 01 64");
}
END_TEST

/* ------------------------------------------------ spec byte vectors */

START_TEST(test_spec_vector_connect_v311)
{
    /* MQTT 3.1.1 3.1.2.10: user name, password, will QoS 1, will, clean. */
    gn_packet p = pkt(GN_CONNECT);
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 10;
    p.u.connect.client_id = tu_b("c");
    p.u.connect.will = true;
    p.u.connect.will_qos = 1;
    p.u.connect.will_topic = tu_b("w");
    p.u.connect.will_payload = tu_b("m");
    p.u.connect.has_username = p.u.connect.has_password = true;
    p.u.connect.username = tu_b("u");
    p.u.connect.password = tu_b("p");
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("10 19 00 04 4D 51 54 54 04 CE 00 0A 00 01 63 00 01 77 00 01 6D"
                 " 00 01 75 00 01 70");
}
END_TEST

START_TEST(test_spec_vector_connect_v31)
{
    gn_packet p = pkt(GN_CONNECT);
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 60;
    p.u.connect.client_id = tu_b("abc");
    roundtrip(&p, GN_PROTO_V31, NULL, 0);
    expect_bytes("10 11 00 06 4D 51 49 73 64 70 03 02 00 3C 00 03 61 62 63");
}
END_TEST

START_TEST(test_spec_vector_connect_v5_session_expiry)
{
    /* MQTT 5 3.1.2.11 example: property length 5, session expiry 10. */
    gn_packet p = pkt(GN_CONNECT);
    p.u.connect.clean_start = true;
    p.u.connect.keep_alive = 10;
    p.u.connect.props.present = GN_PROP_BIT(GN_PROP_SESSION_EXPIRY);
    p.u.connect.props.session_expiry = 10;
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("10 12 00 04 4D 51 54 54 05 02 00 0A 05 11 00 00 00 0A 00 00");
}
END_TEST

START_TEST(test_spec_vector_publish_qos1)
{
    /* MQTT 3.1.1 3.3.2.3: topic "a/b", packet id 10. */
    gn_packet p = pkt(GN_PUBLISH);
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 10;
    p.u.publish.topic = tu_b("a/b");
    p.u.publish.payload = tu_b("hi");
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("32 09 00 03 61 2F 62 00 0A 68 69");
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("32 0A 00 03 61 2F 62 00 0A 00 68 69");
}
END_TEST

START_TEST(test_spec_vector_subscribe_and_acks)
{
    /* MQTT 3.1.1 3.8.3: "a/b" QoS 1 and "c/d" QoS 2, packet id 10. */
    gn_packet p = pkt(GN_SUBSCRIBE);
    p.u.subscribe.packet_id = 10;
    gn_sub_entry subs[2] = { { tu_b("a/b"), 1 }, { tu_b("c/d"), 2 } };
    roundtrip(&p, GN_PROTO_V311, subs, 2);
    expect_bytes("82 0E 00 0A 00 03 61 2F 62 01 00 03 63 2F 64 02");
    p = pkt(GN_UNSUBSCRIBE);
    p.u.unsubscribe.packet_id = 10;
    roundtrip(&p, GN_PROTO_V311, subs, 2);
    expect_bytes("A2 0C 00 0A 00 03 61 2F 62 00 03 63 2F 64");
    static const uint8_t codes[3] = { 0x00, 0x02, 0x80 };
    p = pkt(GN_SUBACK);
    p.u.suback.packet_id = 10;
    p.u.suback.reasons = (gn_bytes){ codes, 3 };
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("90 05 00 0A 00 02 80");
    p = pkt(GN_UNSUBACK);
    p.u.suback.packet_id = 10;
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("B0 02 00 0A");
    p = pkt(GN_PUBREL);
    p.u.ack.packet_id = 10;
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("62 02 00 0A");
    p = pkt(GN_CONNACK);
    p.u.connack.session_present = true;
    roundtrip(&p, GN_PROTO_V311, NULL, 0);
    expect_bytes("20 02 01 00");
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("20 03 01 00 00");
}
END_TEST

START_TEST(test_spec_vector_v5_short_forms)
{
    gn_packet p = pkt(GN_PUBACK);
    p.u.ack.packet_id = 10;
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("40 02 00 0A");
    p.u.ack.reason = GN_RC_NO_MATCHING_SUBSCRIBERS;
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("40 03 00 0A 10");
    p = pkt(GN_DISCONNECT);
    p.u.disconnect.reason = GN_RC_DISCONNECT_WITH_WILL;
    roundtrip(&p, GN_PROTO_V5, NULL, 0);
    expect_bytes("E0 01 04");
}
END_TEST

START_TEST(test_publish_header_leaves_payload_to_caller)
{
    gn_publish m;
    memset(&m, 0, sizeof m);
    m.qos = 1;
    m.packet_id = 10;
    m.topic = tu_b("a/b");
    m.payload = tu_b("hi");
    uint8_t hdr[16];
    size_t n = 0;
    ck_assert_err(gn_encode_publish_header(&m, GN_PROTO_V311, hdr, 4, &n),
                  GN_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 9);
    ck_assert_err(gn_encode_publish_header(&m, GN_PROTO_V311, hdr, sizeof hdr, &n), GN_OK);
    ck_assert_uint_eq(n, 9);
    uint8_t want[16];
    size_t wn = tu_hex("32 09 00 03 61 2F 62 00 0A", want, sizeof want);
    ck_assert_mem_eq(hdr, want, wn);
    /* header + payload decodes as a whole packet */
    uint8_t full[16];
    memcpy(full, hdr, n);
    memcpy(full + n, "hi", 2);
    gn_packet p;
    ck_assert_err(gn_decode(full, n + 2, GN_PROTO_V311, &p), GN_OK);
    ck_assert(tu_eq(p.u.publish.payload, "hi"));
}
END_TEST

/* ------------------------------------------------- encoder refusals */

START_TEST(test_encoder_refuses_views_that_break_rules)
{
    uint8_t buf[256];
    size_t n;
    gn_packet p = pkt(GN_PUBLISH);
    p.u.publish.topic = tu_b("a");
    p.u.publish.qos = 3;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
    p.u.publish.qos = 1;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* packet id 0 */
    p.u.publish.qos = 0;
    p.u.publish.dup = true;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
    p.u.publish.dup = false;
    p.u.publish.topic = tu_b("");
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* empty topic, no alias */
    p.u.publish.props.present = GN_PROP_BIT(GN_PROP_TOPIC_ALIAS);
    p.u.publish.props.topic_alias = 3;
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, NULL, 0, buf, sizeof buf, &n), GN_OK);
    p.u.publish.props.present |= GN_PROP_BIT(GN_PROP_SESSION_EXPIRY);
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* not allowed in PUBLISH */

    p = pkt(GN_SUBSCRIBE);
    p.u.subscribe.packet_id = 1;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* no filters */
    gn_sub_entry bad = { tu_b("a"), 0x30 };
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, &bad, 1, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* retain handling 3 */
    p = pkt(GN_PUBACK);
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* packet id 0 */
    p.u.ack.packet_id = 1;
    p.u.ack.reason = 0x04;
    ck_assert_err(gn_encode(&p, GN_PROTO_V5, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);           /* reason not for PUBACK */
    p = pkt(GN_AUTH);
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
    p = pkt(GN_CONNECT);
    p.u.connect.has_password = true;
    p.u.connect.client_id = tu_b("c");
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
    p.u.connect.has_password = false;
    p.u.connect.will_retain = true;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
    p = pkt((gn_packet_type)0);
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, buf, sizeof buf, &n),
                  GN_ERR_ENCODE_INVALID);
}
END_TEST

START_TEST(test_encode_big_publish_uses_four_byte_length)
{
    static uint8_t payload[2100000];
    static uint8_t out[2100100];
    memset(payload, 'x', sizeof payload);
    gn_packet p = pkt(GN_PUBLISH);
    p.u.publish.topic = tu_b("big");
    p.u.publish.payload = (gn_bytes){ payload, sizeof payload };
    size_t n = 0;
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, out, 10, &n), GN_ERR_BUFFER_TOO_SMALL);
    ck_assert_uint_eq(n, 1 + 4 + 5 + sizeof payload);
    ck_assert_err(gn_encode(&p, GN_PROTO_V311, NULL, 0, out, sizeof out, &n), GN_OK);
    gn_frame f;
    size_t need;
    ck_assert_err(gn_frame_one(out, n, 0, &f, &need), GN_OK);
    ck_assert_uint_eq(f.header_len, 5);
    gn_packet g;
    ck_assert_err(gn_decode(out, n, GN_PROTO_V311, &g), GN_OK);
    ck_assert_uint_eq(g.u.publish.payload.len, sizeof payload);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("codec_roundtrip");
    TCase *rt = tcase_create("roundtrip");
    tcase_set_timeout(rt, 60);
    tcase_add_loop_test(rt, test_connect_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_connect_minimal_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_connack_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_publish_roundtrip_every_qos, 3, 6);
    tcase_add_loop_test(rt, test_ack_roundtrip_every_type, 3, 6);
    tcase_add_loop_test(rt, test_subscribe_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_unsubscribe_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_suback_and_unsuback_roundtrip, 3, 6);
    tcase_add_loop_test(rt, test_ping_and_disconnect_roundtrip, 3, 6);
    tcase_add_test(rt, test_auth_roundtrip_v5);
    suite_add_tcase(s, rt);
    TCase *vec = tcase_create("vectors");
    tcase_add_test(vec, test_spec_vector_connect_v311);
    tcase_add_test(vec, test_spec_vector_connect_v31);
    tcase_add_test(vec, test_spec_vector_connect_v5_session_expiry);
    tcase_add_test(vec, test_spec_vector_publish_qos1);
    tcase_add_test(vec, test_spec_vector_subscribe_and_acks);
    tcase_add_test(vec, test_spec_vector_v5_short_forms);
    tcase_add_test(vec, test_publish_header_leaves_payload_to_caller);
    tcase_add_test(vec, test_encoder_refuses_views_that_break_rules);
    tcase_add_test(vec, test_encode_big_publish_uses_four_byte_length);
    suite_add_tcase(s, vec);
    return tu_run(s);
}
