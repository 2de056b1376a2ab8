/* tests/fuzz/fuzz_decode.c — libFuzzer target for the packet decoder: frame
 * the input, decode every packet under each protocol version, and for every
 * packet that decodes, re-encode it, decode the result and require the same
 * key fields, then re-encode again and require identical bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"

#include "tests/fuzz/fuzz_check.h"

static bool bytes_eq(gn_bytes a, gn_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool str_eq(gn_str a, gn_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void same_props(const gn_props *a, const gn_props *b)
{
    FUZZ_CHECK(a->present == b->present);
    FUZZ_CHECK(a->user_count == b->user_count);
    FUZZ_CHECK(a->sub_id_count == b->sub_id_count);
    if (gn_props_has(a, GN_PROP_TOPIC_ALIAS))
        FUZZ_CHECK(a->topic_alias == b->topic_alias);
    if (gn_props_has(a, GN_PROP_PAYLOAD_FORMAT))
        FUZZ_CHECK(a->payload_format == b->payload_format);
    if (gn_props_has(a, GN_PROP_SESSION_EXPIRY))
        FUZZ_CHECK(a->session_expiry == b->session_expiry);
    if (gn_props_has(a, GN_PROP_SUBSCRIPTION_ID))
        FUZZ_CHECK(a->subscription_id == b->subscription_id);
    if (gn_props_has(a, GN_PROP_REASON_STRING))
        FUZZ_CHECK(str_eq(a->reason_string, b->reason_string));
    if (gn_props_has(a, GN_PROP_CORRELATION_DATA))
        FUZZ_CHECK(str_eq(a->correlation_data, b->correlation_data));
}

static void same_packet(const gn_packet *a, const gn_packet *b)
{
    FUZZ_CHECK(a->type == b->type);
    switch (a->type) {
    case GN_CONNECT: {
        const gn_connect *x = &a->u.connect, *y = &b->u.connect;
        FUZZ_CHECK(x->proto == y->proto && x->clean_start == y->clean_start);
        FUZZ_CHECK(x->will == y->will && x->will_qos == y->will_qos);
        FUZZ_CHECK(x->will_retain == y->will_retain && x->keep_alive == y->keep_alive);
        FUZZ_CHECK(x->has_username == y->has_username && x->has_password == y->has_password);
        FUZZ_CHECK(bytes_eq(x->client_id, y->client_id));
        FUZZ_CHECK(bytes_eq(x->will_topic, y->will_topic));
        FUZZ_CHECK(bytes_eq(x->will_payload, y->will_payload));
        FUZZ_CHECK(bytes_eq(x->username, y->username));
        FUZZ_CHECK(bytes_eq(x->password, y->password));
        same_props(&x->props, &y->props);
        same_props(&x->will_props, &y->will_props);
        break;
    }
    case GN_CONNACK:
        FUZZ_CHECK(a->u.connack.session_present == b->u.connack.session_present);
        FUZZ_CHECK(a->u.connack.reason == b->u.connack.reason);
        same_props(&a->u.connack.props, &b->u.connack.props);
        break;
    case GN_PUBLISH: {
        const gn_publish *x = &a->u.publish, *y = &b->u.publish;
        FUZZ_CHECK(x->qos == y->qos && x->dup == y->dup && x->retain == y->retain);
        FUZZ_CHECK(x->packet_id == y->packet_id);
        FUZZ_CHECK(bytes_eq(x->topic, y->topic));
        FUZZ_CHECK(bytes_eq(x->payload, y->payload));
        same_props(&x->props, &y->props);
        break;
    }
    case GN_PUBACK: case GN_PUBREC: case GN_PUBREL: case GN_PUBCOMP:
        FUZZ_CHECK(a->u.ack.packet_id == b->u.ack.packet_id);
        FUZZ_CHECK(a->u.ack.reason == b->u.ack.reason);
        same_props(&a->u.ack.props, &b->u.ack.props);
        break;
    case GN_SUBSCRIBE:
        FUZZ_CHECK(a->u.subscribe.packet_id == b->u.subscribe.packet_id);
        FUZZ_CHECK(a->u.subscribe.count == b->u.subscribe.count);
        FUZZ_CHECK(bytes_eq(a->u.subscribe.entries, b->u.subscribe.entries));
        same_props(&a->u.subscribe.props, &b->u.subscribe.props);
        break;
    case GN_UNSUBSCRIBE:
        FUZZ_CHECK(a->u.unsubscribe.packet_id == b->u.unsubscribe.packet_id);
        FUZZ_CHECK(a->u.unsubscribe.count == b->u.unsubscribe.count);
        FUZZ_CHECK(bytes_eq(a->u.unsubscribe.entries, b->u.unsubscribe.entries));
        same_props(&a->u.unsubscribe.props, &b->u.unsubscribe.props);
        break;
    case GN_SUBACK: case GN_UNSUBACK:
        FUZZ_CHECK(a->u.suback.packet_id == b->u.suback.packet_id);
        FUZZ_CHECK(bytes_eq(a->u.suback.reasons, b->u.suback.reasons));
        same_props(&a->u.suback.props, &b->u.suback.props);
        break;
    case GN_DISCONNECT: case GN_AUTH:
        FUZZ_CHECK(a->u.disconnect.reason == b->u.disconnect.reason);
        same_props(&a->u.disconnect.props, &b->u.disconnect.props);
        break;
    default:
        break;
    }
}

/* Encode p (filters taken from its own entries) into a fresh buffer. */
static uint8_t *encode(const gn_packet *p, gn_proto proto, size_t *len)
{
    gn_sub_entry *subs = NULL;
    size_t nsubs = 0;
    uint32_t c = 0;
    if (p->type == GN_SUBSCRIBE || p->type == GN_UNSUBSCRIBE) {
        uint32_t count = p->type == GN_SUBSCRIBE ? p->u.subscribe.count : p->u.unsubscribe.count;
        subs = calloc(count, sizeof *subs);
        FUZZ_CHECK(subs != NULL);
        if (p->type == GN_SUBSCRIBE) {
            while (gn_subscribe_next(&p->u.subscribe, &c, &subs[nsubs].filter,
                                     &subs[nsubs].options))
                nsubs++;
        } else {
            while (gn_unsubscribe_next(&p->u.unsubscribe, &c, &subs[nsubs].filter))
                nsubs++;
        }
        FUZZ_CHECK(nsubs == count);
    }
    size_t need = 0;
    FUZZ_CHECK(gn_encode(p, proto, subs, nsubs, NULL, 0, &need) == GN_ERR_BUFFER_TOO_SMALL);
    uint8_t *buf = malloc(need);
    FUZZ_CHECK(buf != NULL);
    size_t n = 0;
    gn_err e = gn_encode(p, proto, subs, nsubs, buf, need, &n);
    if (e != GN_OK)
        fprintf(stderr, "re-encode of type %d failed: %s\n", p->type, gn_err_name(e));
    FUZZ_CHECK(e == GN_OK && n == need);
    free(subs);
    *len = n;
    return buf;
}

static void check_packet(const uint8_t *pkt, size_t len, gn_proto proto)
{
    gn_packet a;
    if (gn_decode(pkt, len, proto, &a) != GN_OK)
        return;
    gn_proto wire_proto = a.type == GN_CONNECT ? a.u.connect.proto : proto;
    size_t n1, n2;
    uint8_t *e1 = encode(&a, wire_proto, &n1);
    gn_packet b;
    gn_err e = gn_decode(e1, n1, wire_proto, &b);
    if (e != GN_OK)
        fprintf(stderr, "re-decode failed: %s\n", gn_err_name(e));
    FUZZ_CHECK(e == GN_OK);
    same_packet(&a, &b);
    uint8_t *e2 = encode(&b, wire_proto, &n2);
    FUZZ_CHECK(n1 == n2 && memcmp(e1, e2, n1) == 0);
    free(e1);
    free(e2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gn_frame frames[16];
    size_t off = 0;
    for (;;) {
        size_t consumed = 0, need = 0;
        gn_err st;
        size_t n = gn_frame_scan(data + off, size - off, 0, frames, 16, &consumed, &need, &st);
        for (size_t i = 0; i < n; i++) {
            const uint8_t *pkt = data + off + frames[i].offset;
            for (int proto = GN_PROTO_V31; proto <= GN_PROTO_V5; proto++)
                check_packet(pkt, frames[i].total_len, (gn_proto)proto);
        }
        off += consumed;
        if (st != GN_OK || n == 0)
            break;
    }
    /* The unframed remainder must not crash the decoder either. */
    if (off < size) {
        gn_packet p;
        (void)gn_decode(data + off, size - off, GN_PROTO_V5, &p);
    }
    return 0;
}
