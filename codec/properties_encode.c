/* codec/properties_encode.c — writing MQTT 5 property blocks for the
 * encoders: size, write, and the check that a property set may be encoded in
 * a packet. Fields are written for every bit in `present` (in id order);
 * then user properties from `user[]` when it is set, else (with the User
 * Property bit) those walked from `raw`; then subscription ids from
 * `sub_ids[]` when set, else (with the bit) those in `raw`, else the
 * `subscription_id` field. Clearing a bit strips the decoded ones. */
#include "codec/properties.h"

#include "codec/wire.h"

/* Bits of the repeatable properties, not written from fields. */
#define GN_PROP_REPEATABLE (GN_PROP_BIT(GN_PROP_USER_PROPERTY) | GN_PROP_BIT(GN_PROP_SUBSCRIPTION_ID))

/* Which source the encoder takes repeatable properties from. */
static bool users_from_raw(const gn_props *p)
{
    return p->user == NULL && gn_props_has(p, GN_PROP_USER_PROPERTY);
}

static bool subs_from_raw(const gn_props *p)
{
    return p->sub_ids == NULL && gn_props_has(p, GN_PROP_SUBSCRIPTION_ID) && p->raw.len != 0;
}

static bool subs_from_field(const gn_props *p)
{
    return p->sub_ids == NULL && gn_props_has(p, GN_PROP_SUBSCRIPTION_ID) && p->raw.len == 0;
}

static size_t value_size(const gn_props *p, uint8_t id)
{
    switch (gn_prop_type_of(id)) {
    case GN_PTYPE_BYTE:   return 1;
    case GN_PTYPE_U16:    return 2;
    case GN_PTYPE_U32:    return 4;
    case GN_PTYPE_VARINT: return gn_varint_size(gn_prop_get_num(p, id));
    case GN_PTYPE_UTF8:
    case GN_PTYPE_BINARY: return 2u + gn_prop_str(p, id)->len;
    default:              return 0;
    }
}

/* Size of the block without its length prefix. */
static size_t body_size(const gn_props *p)
{
    size_t n = 0;
    uint64_t bits = p->present & ~GN_PROP_REPEATABLE;
    while (bits != 0) {
        uint8_t id = (uint8_t)__builtin_ctzll(bits);
        bits &= bits - 1;
        if (gn_prop_type_of(id) != GN_PTYPE_NONE)
            n += 1 + value_size(p, id);
    }
    if (p->user != NULL) {
        for (uint32_t i = 0; i < p->user_count; i++)
            n += 5u + p->user[i].key.len + p->user[i].value.len;
    } else if (users_from_raw(p)) {
        uint32_t c = 0;
        gn_user_prop u;
        while (gn_props_next_user(p, &c, &u))
            n += 5u + u.key.len + u.value.len;
    }
    if (p->sub_ids != NULL) {
        for (uint32_t i = 0; i < p->sub_id_count; i++)
            n += 1 + gn_varint_size(p->sub_ids[i]);
    } else if (subs_from_raw(p)) {
        uint32_t c = 0, v;
        while (gn_props_next_sub_id(p, &c, &v))
            n += 1 + gn_varint_size(v);
    } else if (subs_from_field(p)) {
        n += 1 + gn_varint_size(p->subscription_id);
    }
    return n;
}

size_t gn_props_size(const gn_props *p)
{
    size_t n = body_size(p);
    size_t v = gn_varint_size(n > GN_MAX_REMAINING_LENGTH ? UINT32_MAX : (uint32_t)n);
    return v + n;
}

gn_err gn_props_check_encode(const gn_props *p, gn_prop_ctx ctx)
{
    uint64_t bits = p->present;
    while (bits != 0) {
        uint8_t id = (uint8_t)__builtin_ctzll(bits);
        bits &= bits - 1;
        if (gn_prop_type_of(id) == GN_PTYPE_NONE ||
            !gn_prop_allowed(id, ctx))
            return GN_ERR_ENCODE_INVALID;
        gn_prop_type t = gn_prop_type_of(id);
        if (t == GN_PTYPE_UTF8 || t == GN_PTYPE_BINARY) {
            const gn_str *s = gn_prop_str(p, id);
            if (s->len > GN_MAX_STRING || (s->len != 0 && s->ptr == NULL))
                return GN_ERR_ENCODE_INVALID;
        } else if (t != GN_PTYPE_UTF8_PAIR && id != GN_PROP_SUBSCRIPTION_ID) {
            if (!gn_prop_value_ok(id, gn_prop_get_num(p, id)))
                return GN_ERR_ENCODE_INVALID;
        }
    }
    if (p->user != NULL && p->user_count != 0) {
        if (!gn_prop_allowed(GN_PROP_USER_PROPERTY, ctx))
            return GN_ERR_ENCODE_INVALID;
        for (uint32_t i = 0; i < p->user_count; i++) {
            const gn_user_prop *u = &p->user[i];
            if (u->key.len > GN_MAX_STRING || u->value.len > GN_MAX_STRING ||
                (u->key.len != 0 && u->key.ptr == NULL) ||
                (u->value.len != 0 && u->value.ptr == NULL))
                return GN_ERR_ENCODE_INVALID;
        }
    }
    size_t nsub = 0;
    if (p->sub_ids != NULL) {
        for (uint32_t i = 0; i < p->sub_id_count; i++)
            if (!gn_prop_value_ok(GN_PROP_SUBSCRIPTION_ID, p->sub_ids[i]))
                return GN_ERR_ENCODE_INVALID;
        nsub = p->sub_id_count;
    } else if (subs_from_raw(p)) {
        uint32_t c = 0, v;
        while (gn_props_next_sub_id(p, &c, &v)) {
            if (!gn_prop_value_ok(GN_PROP_SUBSCRIPTION_ID, v))
                return GN_ERR_ENCODE_INVALID;
            nsub++;
        }
    } else if (subs_from_field(p)) {
        if (!gn_prop_value_ok(GN_PROP_SUBSCRIPTION_ID, p->subscription_id))
            return GN_ERR_ENCODE_INVALID;
        nsub = 1;
    }
    if (nsub != 0 && !gn_prop_allowed(GN_PROP_SUBSCRIPTION_ID, ctx))
        return GN_ERR_ENCODE_INVALID;
    if (nsub > 1 && ctx != GN_PCTX_PUBLISH)
        return GN_ERR_ENCODE_INVALID;
    if (body_size(p) > GN_MAX_REMAINING_LENGTH)
        return GN_ERR_ENCODE_INVALID;
    return GN_OK;
}

size_t gn_props_write(const gn_props *p, uint8_t *out)
{
    size_t n = body_size(p);
    uint8_t *w = gn_varint_put(out, (uint32_t)n);
    uint64_t bits = p->present & ~GN_PROP_REPEATABLE;
    while (bits != 0) {
        uint8_t id = (uint8_t)__builtin_ctzll(bits);
        bits &= bits - 1;
        if (id > GN_PROP_ID_MAX)
            continue;
        switch (gn_prop_type_of(id)) {
        case GN_PTYPE_BYTE:
            *w++ = id;
            *w++ = (uint8_t)gn_prop_get_num(p, id);
            break;
        case GN_PTYPE_U16:
            *w++ = id;
            w = gn_put16(w, gn_prop_get_num(p, id));
            break;
        case GN_PTYPE_U32:
            *w++ = id;
            w = gn_put32(w, gn_prop_get_num(p, id));
            break;
        case GN_PTYPE_UTF8:
        case GN_PTYPE_BINARY: {
            const gn_str *s = gn_prop_str(p, id);
            *w++ = id;
            w = gn_put_str(w, s->ptr, s->len);
            break;
        }
        default:
            break;
        }
    }
    if (p->user != NULL) {
        for (uint32_t i = 0; i < p->user_count; i++) {
            *w++ = GN_PROP_USER_PROPERTY;
            w = gn_put_str(w, p->user[i].key.ptr, p->user[i].key.len);
            w = gn_put_str(w, p->user[i].value.ptr, p->user[i].value.len);
        }
    } else if (users_from_raw(p)) {
        uint32_t c = 0;
        gn_user_prop u;
        while (gn_props_next_user(p, &c, &u)) {
            *w++ = GN_PROP_USER_PROPERTY;
            w = gn_put_str(w, u.key.ptr, u.key.len);
            w = gn_put_str(w, u.value.ptr, u.value.len);
        }
    }
    if (p->sub_ids != NULL) {
        for (uint32_t i = 0; i < p->sub_id_count; i++) {
            *w++ = GN_PROP_SUBSCRIPTION_ID;
            w = gn_varint_put(w, p->sub_ids[i]);
        }
    } else if (subs_from_raw(p)) {
        uint32_t c = 0, v;
        while (gn_props_next_sub_id(p, &c, &v)) {
            *w++ = GN_PROP_SUBSCRIPTION_ID;
            w = gn_varint_put(w, v);
        }
    } else if (subs_from_field(p)) {
        *w++ = GN_PROP_SUBSCRIPTION_ID;
        w = gn_varint_put(w, p->subscription_id);
    }
    return (size_t)(w - out);
}
