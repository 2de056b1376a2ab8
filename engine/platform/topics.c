/* engine/platform/topics.c — the allow-lists of each client class (device,
 * gateway, application; the Quickstart rule set apart) as rule patterns,
 * the level-by-level matcher, and the inbound / outbound topic rewrite
 * described in topics.h. Sources: PLATFORM.md S-043 (device), S-054 and
 * S-067 (gateway), S-068 … S-070 (application), S-112 (Quickstart). */
#include "engine/platform/topics.h"

#include <string.h>

enum {
    R_NAMED = 1u << 0,      /* levels 2 and 4 are a device's type and id */
    R_CMD   = 1u << 1,
    R_EVT   = 1u << 2,
};

typedef struct rule {
    const char *pat;
    uint8_t     flags;
} rule;

#define END { NULL, 0 }

static const rule dev_pub[] = {
    { "iot-2/evt/~/fmt/~", R_EVT },
    { "iotdevice-1/response", 0 },
    { "iotdevice-1/notify", 0 },
    { "iotdevice-1/device/update/~", 0 },
    { "iotdevice-1/add/~/~", 0 },
    { "iotdevice-1/clear/~/~", 0 },
    { "iotdevice-1/mgmt/~", 0 },
    END,
};
static const rule dev_sub[] = {
    { "iot-2/cmd/+/fmt/+", R_CMD },
    { "iotdm-1/*", 0 },
    { "iot-2/mon", 0 },
    { "iot-2/notify", 0 },
    END,
};
static const rule gw_pub[] = {
    { "iot-2/type/~/id/~/evt/~/fmt/~", R_NAMED | R_EVT },
    { "iotdevice-1/type/~/id/~/response", R_NAMED },
    { "iotdevice-1/type/~/id/~/notify", R_NAMED },
    { "iotdevice-1/type/~/id/~/device/update/~", R_NAMED },
    { "iotdevice-1/type/~/id/~/add/~/~", R_NAMED },
    { "iotdevice-1/type/~/id/~/clear/~/~", R_NAMED },
    { "iotdevice-1/type/~/id/~/mgmt/~", R_NAMED },
    END,
};
static const rule gw_sub[] = {
    { "iot-2/type/+/id/+/cmd/+/fmt/+", R_NAMED | R_CMD },
    { "iot-2/type/+/id/+/response", R_NAMED },
    { "iot-2/type/+/id/+/notify", R_NAMED },
    { "iot-2/type/+/id/+/mon", R_NAMED },         /* S-067: follow the doc */
    { "iotdm-1/type/+/id/+/*", R_NAMED },         /* S-118 */
    { "iotdm-1/*", 0 },
    { "iot-2/mon", 0 },
    END,
};
static const rule app_pub[] = {
    { "iot-2/type/~/id/~/evt/~/fmt/~", R_NAMED | R_EVT },
    { "iot-2/type/~/id/~/cmd/~/fmt/~", R_NAMED | R_CMD },
    END,
};
static const rule app_sub[] = {
    { "iot-2/type/+/id/+/evt/+/fmt/+", R_NAMED | R_EVT },
    { "iot-2/type/+/id/+/cmd/+/fmt/+", R_NAMED | R_CMD },
    { "iot-2/type/+/id/+/mon", R_NAMED },
    { "iot-2/app/+/mon", 0 },
    END,
};
/* Quickstart (S-112): devices publish JSON events only and subscribe to
 * nothing; applications publish events and see events and status without
 * a wildcard in the device id. */
static const rule qs_dev_pub[] = {
    { "iot-2/evt/~/fmt/json", R_EVT },
    END,
};
static const rule qs_none[] = { END };
static const rule qs_app_pub[] = {
    { "iot-2/type/~/id/~/evt/~/fmt/~", R_NAMED | R_EVT },
    END,
};
static const rule qs_app_sub[] = {
    { "iot-2/type/+/id/~/evt/+/fmt/+", R_NAMED | R_EVT },
    { "iot-2/type/+/id/~/mon", R_NAMED },
    { "iot-2/app/~/mon", 0 },
    END,
};

static const rule *rules_for(const gn_pident *who, bool sub)
{
    switch (who->cls) {
    case GN_PC_DEVICE:
        if (who->quickstart)
            return sub ? qs_none : qs_dev_pub;
        return sub ? dev_sub : dev_pub;
    case GN_PC_GATEWAY:
        if (who->quickstart)
            return qs_none;
        return sub ? gw_sub : gw_pub;
    case GN_PC_APP:
    case GN_PC_SCALABLE:
        if (who->quickstart)
            return sub ? qs_app_sub : qs_app_pub;
        return sub ? app_sub : app_pub;
    default:
        return qs_none;
    }
}

/* A topic split into levels once (offsets into the topic), so every rule
 * is matched without another scan. More levels than GN_PT_LEVELS: only a
 * rule ending in '*' can match, and level GN_PT_LEVELS-1 then spans the rest. */
#define GN_PT_LEVELS 16

typedef struct split {
    uint32_t n;
    uint32_t start[GN_PT_LEVELS];
    uint32_t len[GN_PT_LEVELS];
} split;

static void split_topic(const uint8_t *t, size_t len, split *sp)
{
    uint32_t n = 0, st = 0;
    for (size_t i = 0; i < len; i++) {
        if (t[i] == '/' && n < GN_PT_LEVELS - 1) {
            sp->start[n] = st;
            sp->len[n] = (uint32_t)i - st;
            n++;
            st = (uint32_t)i + 1;
        }
    }
    sp->start[n] = st;
    sp->len[n] = (uint32_t)len - st;
    sp->n = n + 1;
}

/* Match the split topic against pat; record levels 2 and 4 into m. */
static bool match(const char *pat, bool named, const uint8_t *t, const split *sp,
                  gn_ptopic_match *m)
{
    const char *p = pat;
    for (uint32_t level = 0;; level++) {
        if (p[0] == '*' && p[1] == 0)
            return level < sp->n;       /* one or more levels, whatever they are */
        if (level >= sp->n)
            return false;
        const uint8_t *lv = t + sp->start[level];
        uint32_t tl = sp->len[level];
        if (level == GN_PT_LEVELS - 1 && sp->n == GN_PT_LEVELS &&
            memchr(lv, '/', tl) != NULL)
            return false;               /* deeper than any non-'*' rule */
        const char *pe = p;
        if ((p[0] == '~' || p[0] == '+') && (p[1] == '/' || p[1] == 0)) {
            if (tl == 0 || (tl == 1 && (lv[0] == '#' || (p[0] == '~' && lv[0] == '+'))))
                return false;
            pe = p + 1;
        } else {
            uint32_t k = 0;
            while (pe[0] != '/' && pe[0] != 0) {
                if (k >= tl || (uint8_t)pe[0] != lv[k])
                    return false;
                pe++;
                k++;
            }
            if (k != tl)
                return false;
        }
        if (level == 2 || level == 4) {
            if (named && tl > GN_PLAT_FIELD_MAX)
                return false;           /* longer than any type or id */
            if (level == 2) {
                m->type = lv;
                m->type_len = (uint8_t)tl;
            } else {
                m->id = lv;
                m->id_len = (uint8_t)tl;
            }
        }
        if (pe[0] == 0)
            return level + 1 == sp->n;
        p = pe + 1;
    }
}

static bool put(char *out, size_t cap, size_t *n, const void *s, size_t len)
{
    if (*n + len > cap)
        return false;
    memcpy(out + *n, s, len);
    *n += len;
    return true;
}

/* The internal form of an allowed topic. */
static gn_ptopic_verdict rewrite(const gn_pident *who, const uint8_t *t, size_t len,
                                 char *out, size_t cap, size_t *out_len)
{
    size_t n = 0;
    bool ok = put(out, cap, &n, who->org, who->org_len) && put(out, cap, &n, "/", 1);
    if (ok && who->cls == GN_PC_DEVICE) {
        /* P/rest -> org/P/type/T/id/I/rest */
        const uint8_t *slash = memchr(t, '/', len);
        size_t first = slash ? (size_t)(slash - t) : len;
        ok = put(out, cap, &n, t, first) && put(out, cap, &n, "/type/", 6) &&
             put(out, cap, &n, who->type, who->type_len) && put(out, cap, &n, "/id/", 4) &&
             put(out, cap, &n, who->id, who->id_len) &&
             (first == len || put(out, cap, &n, t + first, len - first));
    } else if (ok) {
        ok = put(out, cap, &n, t, len);
    }
    if (!ok)
        return GN_PT_TOO_LONG;
    *out_len = n;
    return GN_PT_OK;
}

static gn_ptopic_verdict check(const gn_pident *who, const uint8_t *t, size_t len, bool sub,
                               char *out, size_t cap, size_t *out_len, gn_ptopic_match *m)
{
    memset(m, 0, sizeof *m);
    if (len == 0)
        return GN_PT_DENIED;
    if (t[0] == '$')
        return GN_PT_SYSTEM;
    if (sub && (who->cls == GN_PC_APP || who->cls == GN_PC_SCALABLE) && memchr(t, '#', len))
        return GN_PT_HASH;
    split sp;
    split_topic(t, len, &sp);
    for (const rule *r = rules_for(who, sub); r->pat; r++) {
        gn_ptopic_match mm;
        mm.type = mm.id = NULL;
        mm.type_len = mm.id_len = 0;
        if (!match(r->pat, (r->flags & R_NAMED) != 0, t, &sp, &mm))
            continue;
        m->names_device = (r->flags & R_NAMED) != 0;
        if (m->names_device) {
            m->type = mm.type;
            m->type_len = mm.type_len;
            m->id = mm.id;
            m->id_len = mm.id_len;
        }
        m->command = (r->flags & R_CMD) != 0;
        m->event = (r->flags & R_EVT) != 0;
        return rewrite(who, t, len, out, cap, out_len);
    }
    return GN_PT_DENIED;
}

gn_ptopic_verdict gn_ptopic_publish(const gn_pident *who, const uint8_t *topic, size_t len,
                                    char *out, size_t cap, size_t *out_len, gn_ptopic_match *m)
{
    return check(who, topic, len, false, out, cap, out_len, m);
}

gn_ptopic_verdict gn_ptopic_subscribe(const gn_pident *who, const uint8_t *filter, size_t len,
                                      char *out, size_t cap, size_t *out_len, gn_ptopic_match *m)
{
    return check(who, filter, len, true, out, cap, out_len, m);
}

size_t gn_ptopic_outbound(const gn_pident *who, const char *t, size_t len, char *out, size_t cap)
{
    size_t ol = who->org_len;
    if (len <= ol + 1 || memcmp(t, who->org, ol) != 0 || t[ol] != '/')
        return 0;
    const char *rest = t + ol + 1;
    size_t rl = len - ol - 1;
    if (who->cls == GN_PC_DEVICE) {
        /* P/type/T/id/I/rest -> P/rest, for this device's own T and I. */
        const char *slash = memchr(rest, '/', rl);
        if (slash) {
            size_t first = (size_t)(slash - rest);
            size_t skip = 6 + who->type_len + 4 + who->id_len;   /* "/type/T/id/I" */
            const char *own = slash;
            if (rl >= first + skip && memcmp(own, "/type/", 6) == 0 &&
                memcmp(own + 6, who->type, who->type_len) == 0 &&
                memcmp(own + 6 + who->type_len, "/id/", 4) == 0 &&
                memcmp(own + 10 + who->type_len, who->id, who->id_len) == 0 &&
                (rl == first + skip || own[skip] == '/')) {
                size_t tail = rl - first - skip;
                if (first + tail > cap)
                    return 0;
                memcpy(out, rest, first);
                memcpy(out + first, own + skip, tail);
                return first + tail;
            }
        }
    }
    if (rl > cap)
        return 0;
    memcpy(out, rest, rl);
    return rl;
}

const char *gn_ptopic_verdict_text(gn_ptopic_verdict v)
{
    switch (v) {
    case GN_PT_OK:       return "ok";
    case GN_PT_DENIED:   return "The topic does not match an authorized rule";
    case GN_PT_SYSTEM:   return "The topic is a system topic";
    case GN_PT_HASH:     return "The topic filter may not contain '#'";
    case GN_PT_TOO_LONG: return "The topic is too long";
    }
    return "The topic is not valid";
}
