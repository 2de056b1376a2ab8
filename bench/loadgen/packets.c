/* bench/loadgen/packets.c — encoding gnload's packets through the codec and
 * locating the fields that get patched per message. */
#include "bench/loadgen/packets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/packet.h"

static gn_bytes bytes_of(const char *s)
{
    return (gn_bytes){ .ptr = (const uint8_t *)s, .len = (uint32_t)strlen(s) };
}

static gl_status ack_tpl(gn_packet_type type, uint8_t protocol, gl_ack_tpl *out)
{
    gn_packet p = { .type = type, .flags = type == GN_PUBREL ? 2 : 0 };
    p.u.ack.packet_id = 0x1234;
    uint8_t buf[16];
    size_t len = 0;
    if (gn_encode(&p, (gn_proto)protocol, NULL, 0, buf, sizeof buf, &len) != GN_OK)
        return GL_ERR_CODEC;
    if (len != 4 || buf[1] != 2 || buf[2] != 0x12 || buf[3] != 0x34)
        return GL_ERR_CODEC;
    memcpy(out->b, buf, 4);
    return GL_OK;
}

gl_status gl_ctl_tpls_init(gl_ctl_tpls *t, uint8_t protocol)
{
    gl_status s;
    memset(t, 0, sizeof *t);
    if ((s = ack_tpl(GN_PUBACK, protocol, &t->puback)) != GL_OK ||
        (s = ack_tpl(GN_PUBREC, protocol, &t->pubrec)) != GL_OK ||
        (s = ack_tpl(GN_PUBREL, protocol, &t->pubrel)) != GL_OK ||
        (s = ack_tpl(GN_PUBCOMP, protocol, &t->pubcomp)) != GL_OK)
        return s;
    gn_packet p = { .type = GN_PINGREQ };
    size_t len = 0;
    if (gn_encode(&p, (gn_proto)protocol, NULL, 0, t->pingreq, sizeof t->pingreq, &len) != GN_OK || len != 2)
        return GL_ERR_CODEC;
    p = (gn_packet){ .type = GN_DISCONNECT };
    if (gn_encode(&p, (gn_proto)protocol, NULL, 0, t->disconnect, sizeof t->disconnect, &len) != GN_OK)
        return GL_ERR_CODEC;
    t->disconnect_len = len;
    return GL_OK;
}

gl_status gl_encode_connect(const gl_opts *o, const char *client_id,
                            uint8_t *buf, size_t cap, size_t *len)
{
    return gl_encode_connect_as(o, client_id, o->username, o->password, buf, cap, len);
}

gl_status gl_encode_connect_as(const gl_opts *o, const char *client_id,
                               const char *username, const char *password,
                               uint8_t *buf, size_t cap, size_t *len)
{
    gn_packet p = { .type = GN_CONNECT };
    gn_connect *c = &p.u.connect;
    c->proto = (gn_proto)o->protocol;
    c->protocol_name = bytes_of("MQTT");
    c->clean_start = true;
    c->keep_alive = o->keepalive;
    c->client_id = bytes_of(client_id);
    if (username) {
        c->has_username = true;
        c->username = bytes_of(username);
    }
    if (password) {
        c->has_password = true;
        c->password = bytes_of(password);
    }
    return gn_encode(&p, (gn_proto)o->protocol, NULL, 0, buf, cap, len) == GN_OK
        ? GL_OK : GL_ERR_CODEC;
}

gl_status gl_encode_subscribe(const gl_opts *o, const char *filter,
                              uint8_t *buf, size_t cap, size_t *len)
{
    gn_packet p = { .type = GN_SUBSCRIBE, .flags = 2 };
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.count = 1;
    gn_sub_entry e = { .filter = bytes_of(filter), .options = o->qos };
    return gn_encode(&p, (gn_proto)o->protocol, &e, 1, buf, cap, len) == GN_OK
        ? GL_OK : GL_ERR_CODEC;
}

bool gl_pattern_expand(const char *pattern, const char *letters, const char *const *values,
                       char *out, size_t cap)
{
    size_t n = 0;
    for (const char *s = pattern; *s; s++) {
        const char *piece = s;
        size_t plen = 1;
        const char *hit = s[0] == '%' && s[1] ? strchr(letters, s[1]) : NULL;
        if (hit) {
            piece = values[hit - letters];
            plen = strlen(piece);
            s++;
        } else if (s[0] == '%' && s[1] == '%') {
            s++;
        }
        if (n + plen >= cap)
            return false;
        memcpy(out + n, piece, plen);
        n += plen;
    }
    out[n] = '\0';
    return true;
}

bool gl_topic_expand(const char *pattern, uint32_t pub, char *out, size_t cap)
{
    char num[16];
    snprintf(num, sizeof num, "%u", pub);
    const char *values[] = { num };
    return gl_pattern_expand(pattern, "p", values, out, cap);
}

bool gl_filter_from_pattern(const char *pattern, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *s = pattern; *s; s++) {
        char c = *s;
        if (s[0] == '%' && s[1] == 'p') {
            c = '+';
            s++;
        } else if (s[0] == '%' && s[1] == '%') {
            s++;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return true;
}

gl_status gl_pub_tpl_build(const gl_opts *o, uint32_t pub, gl_pub_tpl *t)
{
    char topic[1024];
    memset(t, 0, sizeof *t);
    if (!gl_topic_expand(o->topic, pub, topic, sizeof topic))
        return GL_ERR_USAGE;

    uint8_t *payload = calloc(1, o->payload);
    if (!payload)
        return GL_ERR_NOMEM;
    for (uint32_t i = GL_PAYLOAD_MIN; i < o->payload; i++)
        payload[i] = (uint8_t)('a' + i % 26);

    gn_packet p = { .type = GN_PUBLISH, .flags = (uint8_t)(o->qos << 1) };
    gn_publish *pp = &p.u.publish;
    pp->qos = o->qos;
    pp->topic = bytes_of(topic);
    pp->packet_id = o->qos ? 0xBEEF : 0;
    pp->payload = (gn_bytes){ .ptr = payload, .len = o->payload };

    /* fixed header (<= 5) + topic (2 + len) + id (2) + properties (<= 5 for none) */
    size_t cap = 16 + strlen(topic) + o->payload;
    t->bytes = malloc(cap);
    if (!t->bytes) {
        free(payload);
        return GL_ERR_NOMEM;
    }
    gn_err e = gn_encode(&p, (gn_proto)o->protocol, NULL, 0, t->bytes, cap, &t->len);
    free(payload);
    if (e != GN_OK)
        goto codec_err;

    /* Check the layout by decoding the template back. */
    gn_frame f;
    size_t more;
    gn_packet d;
    if (gn_frame_one(t->bytes, t->len, 0, &f, &more) != GN_OK || f.total_len != t->len ||
        gn_decode(t->bytes, t->len, (gn_proto)o->protocol, &d) != GN_OK ||
        d.type != GN_PUBLISH || d.u.publish.payload.len != o->payload ||
        d.u.publish.qos != o->qos)
        goto codec_err;
    t->payload_off = (size_t)(d.u.publish.payload.ptr - t->bytes);
    if (o->qos) {
        /* The identifier follows the topic (MQTT 3.3.2.2). */
        t->id_off = (size_t)(d.u.publish.topic.ptr - t->bytes) + d.u.publish.topic.len;
        if (d.u.publish.packet_id != 0xBEEF || t->bytes[t->id_off] != 0xBE ||
            t->bytes[t->id_off + 1] != 0xEF)
            goto codec_err;
    }
    return GL_OK;

codec_err:
    free(t->bytes);
    t->bytes = NULL;
    return GL_ERR_CODEC;
}

void gl_pub_tpl_free(gl_pub_tpl *t)
{
    free(t->bytes);
    t->bytes = NULL;
}
