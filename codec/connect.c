/* codec/connect.c — CONNECT for MQTT 3.1 ("MQIsdp", level 3), 3.1.1 and 5
 * ("MQTT", levels 4 and 5): decode with the protocol name / level, connect
 * flags, client id, will and credential rules; encode. */
#include "codec/packet.h"
#include "codec/topic.h"
#include "codec/utf8.h"
#include "codec/wire.h"

#define CF_RESERVED   0x01u
#define CF_CLEAN      0x02u
#define CF_WILL       0x04u
#define CF_WILL_QOS_SHIFT 3
#define CF_WILL_RETAIN 0x20u
#define CF_PASSWORD   0x40u
#define CF_USERNAME   0x80u

static bool bytes_eq(gn_bytes b, const char *s, uint32_t n)
{
    return b.len == n && memcmp(b.ptr, s, n) == 0;
}

gn_err gn_decode_connect(const uint8_t *body, size_t len, gn_connect *out)
{
    gn_rd r = { body, body + len };
    gn_err e;
    if (!gn_rd_str(&r, &out->protocol_name))
        return GN_ERR_TRUNCATED;
    uint8_t level;
    if (!gn_rd_u8(&r, &level))
        return GN_ERR_TRUNCATED;
    if (bytes_eq(out->protocol_name, "MQTT", 4)) {
        if (level != GN_PROTO_V311 && level != GN_PROTO_V5)
            return GN_ERR_PROTOCOL_VERSION;
    } else if (bytes_eq(out->protocol_name, "MQIsdp", 6)) {
        if (level != GN_PROTO_V31)
            return GN_ERR_PROTOCOL_VERSION;
    } else {
        return GN_ERR_PROTOCOL_NAME;
    }
    gn_proto proto = (gn_proto)level;
    out->proto = proto;
    uint8_t f;
    if (!gn_rd_u8(&r, &f) || !gn_rd_u16(&r, &out->keep_alive))
        return GN_ERR_TRUNCATED;
    if (f & CF_RESERVED)
        return GN_ERR_CONNECT_RESERVED_FLAG;
    out->clean_start = (f & CF_CLEAN) != 0;
    out->will = (f & CF_WILL) != 0;
    out->will_qos = (uint8_t)((f >> CF_WILL_QOS_SHIFT) & 3u);
    out->will_retain = (f & CF_WILL_RETAIN) != 0;
    out->has_password = (f & CF_PASSWORD) != 0;
    out->has_username = (f & CF_USERNAME) != 0;
    if (out->will) {
        if (out->will_qos == 3)
            return GN_ERR_QOS_INVALID;
    } else if (out->will_qos != 0 || out->will_retain) {
        return GN_ERR_WILL_FLAGS;
    }
    if (proto != GN_PROTO_V5 && out->has_password && !out->has_username)
        return GN_ERR_PASSWORD_WITHOUT_USER;

    if (proto == GN_PROTO_V5) {
        if ((e = gn_rd_props(&r, GN_PCTX_CONNECT, &out->props)) != GN_OK)
            return e;
    } else {
        gn_props_set_empty(&out->props, r.p);
    }
    if (!gn_rd_str(&r, &out->client_id))
        return GN_ERR_TRUNCATED;
    if ((e = gn_utf8_check(out->client_id.ptr, out->client_id.len)) != GN_OK)
        return e;
    if (out->client_id.len == 0) {
        /* 3.1: 1..23 characters; 3.1.1: empty only with clean session. */
        if (proto == GN_PROTO_V31 || (proto == GN_PROTO_V311 && !out->clean_start))
            return GN_ERR_CLIENT_ID_INVALID;
    }

    gn_props_set_empty(&out->will_props, r.p);
    out->will_topic = (gn_bytes){ NULL, 0 };
    out->will_payload = (gn_bytes){ NULL, 0 };
    if (out->will) {
        if (proto == GN_PROTO_V5 &&
            (e = gn_rd_props(&r, GN_PCTX_WILL, &out->will_props)) != GN_OK)
            return e;
        if (!gn_rd_str(&r, &out->will_topic))
            return GN_ERR_TRUNCATED;
        if (out->will_topic.len == 0)
            return GN_ERR_TOPIC_EMPTY;
        if ((e = gn_topic_name_check(out->will_topic.ptr, out->will_topic.len)) != GN_OK)
            return e;
        if (!gn_rd_str(&r, &out->will_payload))
            return GN_ERR_TRUNCATED;
        if (gn_props_has(&out->will_props, GN_PROP_PAYLOAD_FORMAT) &&
            out->will_props.payload_format == 1 &&
            gn_utf8_check(out->will_payload.ptr, out->will_payload.len) != GN_OK)
            return GN_ERR_PAYLOAD_NOT_UTF8;
    }
    out->username = (gn_bytes){ NULL, 0 };
    out->password = (gn_bytes){ NULL, 0 };
    if (out->has_username) {
        if (!gn_rd_str(&r, &out->username))
            return GN_ERR_TRUNCATED;
        if ((e = gn_utf8_check(out->username.ptr, out->username.len)) != GN_OK)
            return e;
    }
    if (out->has_password && !gn_rd_str(&r, &out->password))
        return GN_ERR_TRUNCATED;
    if (r.p != r.end)
        return GN_ERR_LENGTH_MISMATCH;
    return GN_OK;
}

static bool str_ok(gn_bytes b)
{
    return b.len <= GN_MAX_STRING && (b.len == 0 || b.ptr != NULL);
}

gn_err gn_encode_connect(const gn_connect *c, gn_proto proto, uint8_t *buf, size_t cap,
                         size_t *len_out)
{
    if (proto != GN_PROTO_V31 && proto != GN_PROTO_V311 && proto != GN_PROTO_V5)
        return GN_ERR_ENCODE_INVALID;
    if (c->will ? c->will_qos > 2 : (c->will_qos != 0 || c->will_retain))
        return GN_ERR_ENCODE_INVALID;
    if (proto != GN_PROTO_V5 && c->has_password && !c->has_username)
        return GN_ERR_ENCODE_INVALID;
    if (c->client_id.len == 0 &&
        (proto == GN_PROTO_V31 || (proto == GN_PROTO_V311 && !c->clean_start)))
        return GN_ERR_ENCODE_INVALID;
    if (!str_ok(c->client_id) || !str_ok(c->will_topic) || !str_ok(c->will_payload) ||
        !str_ok(c->username) || !str_ok(c->password))
        return GN_ERR_ENCODE_INVALID;
    if (c->will && c->will_topic.len == 0)
        return GN_ERR_ENCODE_INVALID;

    const char *name = proto == GN_PROTO_V31 ? "MQIsdp" : "MQTT";
    uint32_t name_len = proto == GN_PROTO_V31 ? 6u : 4u;
    size_t rl = 2u + name_len + 1u + 1u + 2u + 2u + c->client_id.len;
    if (proto == GN_PROTO_V5) {
        if (gn_props_check_encode(&c->props, GN_PCTX_CONNECT) != GN_OK)
            return GN_ERR_ENCODE_INVALID;
        rl += gn_props_size(&c->props);
    }
    if (c->will) {
        if (proto == GN_PROTO_V5) {
            if (gn_props_check_encode(&c->will_props, GN_PCTX_WILL) != GN_OK)
                return GN_ERR_ENCODE_INVALID;
            rl += gn_props_size(&c->will_props);
        }
        rl += 4u + c->will_topic.len + c->will_payload.len;
    }
    if (c->has_username)
        rl += 2u + c->username.len;
    if (c->has_password)
        rl += 2u + c->password.len;

    uint8_t *w;
    gn_err e = gn_wr_fixed(GN_CONNECT << 4, rl, buf, cap, len_out, &w);
    if (e != GN_OK)
        return e;
    w = gn_put_str(w, (const uint8_t *)name, name_len);
    *w++ = (uint8_t)proto;
    uint8_t f = 0;
    if (c->clean_start)
        f |= CF_CLEAN;
    if (c->will) {
        f |= CF_WILL | (uint8_t)(c->will_qos << CF_WILL_QOS_SHIFT);
        if (c->will_retain)
            f |= CF_WILL_RETAIN;
    }
    if (c->has_password)
        f |= CF_PASSWORD;
    if (c->has_username)
        f |= CF_USERNAME;
    *w++ = f;
    w = gn_put16(w, c->keep_alive);
    if (proto == GN_PROTO_V5)
        w += gn_props_write(&c->props, w);
    w = gn_put_str(w, c->client_id.ptr, c->client_id.len);
    if (c->will) {
        if (proto == GN_PROTO_V5)
            w += gn_props_write(&c->will_props, w);
        w = gn_put_str(w, c->will_topic.ptr, c->will_topic.len);
        w = gn_put_str(w, c->will_payload.ptr, c->will_payload.len);
    }
    if (c->has_username)
        w = gn_put_str(w, c->username.ptr, c->username.len);
    if (c->has_password)
        w = gn_put_str(w, c->password.ptr, c->password.len);
    return GN_OK;
}
