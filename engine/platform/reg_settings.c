/* engine/platform/reg_settings.c — the org settings by name: one table
 * maps each gn_reg_org_settings field to its name and kind, used by the
 * store (org_settings rows), gannetctl (org set / show) and the docs. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/platform/registry_store.h"

typedef enum { K_BOOL, K_U8, K_U32, K_TLS, K_IPACL, K_RATEMODEL } kind;

typedef struct setting {
    const char *name;
    kind k;
    size_t off;
    uint32_t max;                        /* K_U8 / K_U32 upper bound */
} setting;

#define F(n) offsetof(gn_reg_org_settings, n)
static const setting settings[] = {
    {"allow_anonymous", K_BOOL, F(allow_anonymous), 1},
    {"allow_durable", K_BOOL, F(allow_durable), 1},
    {"allow_retain", K_BOOL, F(allow_retain), 1},
    {"allow_sys_topics", K_BOOL, F(allow_sys_topics), 1},
    {"allow_shared_subs", K_BOOL, F(allow_shared_subs), 1},
    {"max_qos", K_U8, F(max_qos), 2},
    {"tls_policy", K_TLS, F(tls_policy), 4},
    {"max_connections", K_U32, F(max_connections), UINT32_MAX},
    {"max_devices", K_U32, F(max_devices), UINT32_MAX},
    {"max_device_types", K_U32, F(max_device_types), UINT32_MAX},
    {"max_api_keys", K_U32, F(max_api_keys), UINT32_MAX},
    {"max_group_devices", K_U32, F(max_group_devices), UINT32_MAX},
    {"max_shared_apps", K_U32, F(max_shared_apps), UINT32_MAX},
    {"max_shared_instances", K_U32, F(max_shared_instances), UINT32_MAX},
    {"max_subs_device", K_U32, F(max_subs_device), UINT32_MAX},
    {"max_subs_app", K_U32, F(max_subs_app), UINT32_MAX},
    {"queue_depth_device", K_U32, F(queue_depth_device), UINT32_MAX},
    {"queue_depth_app", K_U32, F(queue_depth_app), UINT32_MAX},
    {"inflight_device", K_U32, F(inflight_device), 65535},
    {"inflight_gateway", K_U32, F(inflight_gateway), 65535},
    {"inflight_app", K_U32, F(inflight_app), 65535},
    {"new_conns_per_s", K_U32, F(new_conns_per_s), UINT32_MAX},
    {"max_devices_online", K_U32, F(max_devices_online), UINT32_MAX},
    {"gw_max_pending_autoreg", K_U32, F(gw_max_pending_autoreg), GN_REG_AUTOREG_MAX_PENDING},
    {"gw_max_devices", K_U32, F(gw_max_devices), UINT32_MAX},
    {"rate_device_in_msgs", K_U32, F(rate_device_in.msgs_per_s), UINT32_MAX},
    {"rate_device_in_bytes", K_U32, F(rate_device_in.bytes_per_s), UINT32_MAX},
    {"rate_gateway_in_msgs", K_U32, F(rate_gateway_in.msgs_per_s), UINT32_MAX},
    {"rate_gateway_in_bytes", K_U32, F(rate_gateway_in.bytes_per_s), UINT32_MAX},
    {"rate_app_in_msgs", K_U32, F(rate_app_in.msgs_per_s), UINT32_MAX},
    {"rate_app_in_bytes", K_U32, F(rate_app_in.bytes_per_s), UINT32_MAX},
    {"rate_org_in_msgs", K_U32, F(rate_org_in.msgs_per_s), UINT32_MAX},
    {"rate_org_in_bytes", K_U32, F(rate_org_in.bytes_per_s), UINT32_MAX},
    {"rate_device_out_msgs", K_U32, F(rate_device_out.msgs_per_s), UINT32_MAX},
    {"rate_device_out_bytes", K_U32, F(rate_device_out.bytes_per_s), UINT32_MAX},
    {"rate_gateway_out_msgs", K_U32, F(rate_gateway_out.msgs_per_s), UINT32_MAX},
    {"rate_gateway_out_bytes", K_U32, F(rate_gateway_out.bytes_per_s), UINT32_MAX},
    {"rate_app_out_msgs", K_U32, F(rate_app_out.msgs_per_s), UINT32_MAX},
    {"rate_app_out_bytes", K_U32, F(rate_app_out.bytes_per_s), UINT32_MAX},
    {"rate_org_out_msgs", K_U32, F(rate_org_out.msgs_per_s), UINT32_MAX},
    {"rate_org_out_bytes", K_U32, F(rate_org_out.bytes_per_s), UINT32_MAX},
    {"ip_acl", K_IPACL, F(ip_acl), 0},
    {"rate_model", K_RATEMODEL, F(rate_model), 2},
    {"throttle_limit", K_U32, F(throttle_limit), UINT32_MAX},
    {"throttle_release_after", K_U32, F(throttle_release_after), UINT32_MAX},
};
#undef F

static const char *const tls_names[] = {"optional", "token", "cert", "token+cert", "cert|token"};
static const char *const rate_model_names[] = {"watson", "ioto", "off"};   /* = gn_reg_rate_model */

int gn_reg_tls_policy_parse(const char *v)
{
    for (int t = 0; t < 5; t++)
        if (!strcasecmp(v, tls_names[t]))
            return t;
    if (!strcasecmp(v, "org"))
        return GN_REG_TLS_INHERIT;
    if (v[0] >= '0' && v[0] <= '4' && !v[1])
        return v[0] - '0';
    return -1;
}

const char *gn_reg_tls_policy_name(int policy)
{
    return policy >= 0 && policy < 5 ? tls_names[policy] : policy == GN_REG_TLS_INHERIT ? "org" : "?";
}

static int parse_bool(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i]))
            return 1;
        if (!strcasecmp(v, no[i]))
            return 0;
    }
    return -1;
}

static int parse_u32(const char *v, uint32_t max, uint32_t *out)
{
    if (!*v || strlen(v) > 10)
        return -1;
    unsigned long long x = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        x = x * 10 + (unsigned)(*p - '0');
    }
    if (x > max)
        return -1;
    *out = (uint32_t)x;
    return 0;
}

gn_reg_err gn_reg_settings_set(gn_reg_org_settings *s, const char *name, const char *value)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const setting *d = &settings[i];
        if (strcmp(d->name, name) != 0)
            continue;
        uint8_t *f = (uint8_t *)s + d->off;
        uint32_t u;
        switch (d->k) {
        case K_BOOL: {
            int b = parse_bool(value);
            if (b < 0)
                return GN_REG_ERR_INVALID;
            *(bool *)f = b != 0;
            return GN_REG_OK;
        }
        case K_U8:
            if (parse_u32(value, d->max, &u))
                return GN_REG_ERR_INVALID;
            *f = (uint8_t)u;
            return GN_REG_OK;
        case K_U32:
            if (parse_u32(value, d->max, &u))
                return GN_REG_ERR_INVALID;
            memcpy(f, &u, sizeof u);
            return GN_REG_OK;
        case K_TLS: {
            int t = gn_reg_tls_policy_parse(value);
            if (t < 0 || t == GN_REG_TLS_INHERIT)
                return GN_REG_ERR_INVALID;
            *f = (uint8_t)t;
            return GN_REG_OK;
        }
        case K_IPACL:
            return gn_reg_ipacl_parse(value, (gn_reg_ipacl *)(void *)f, NULL, 0);
        case K_RATEMODEL:
            for (uint8_t t = 0; t <= d->max; t++)
                if (!strcasecmp(value, rate_model_names[t])) {
                    *f = t;
                    return GN_REG_OK;
                }
            return GN_REG_ERR_INVALID;
        }
    }
    return GN_REG_ERR_INVALID;
}

void gn_reg_settings_each(const gn_reg_org_settings *s,
                          void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const setting *d = &settings[i];
        const uint8_t *f = (const uint8_t *)s + d->off;
        char buf[GN_REG_IPACL_TEXT_MAX];
        uint32_t u;
        switch (d->k) {
        case K_BOOL:
            snprintf(buf, sizeof buf, "%s", *(const bool *)f ? "true" : "false");
            break;
        case K_U8:
            snprintf(buf, sizeof buf, "%u", *f);
            break;
        case K_U32:
            memcpy(&u, f, sizeof u);
            snprintf(buf, sizeof buf, "%u", u);
            break;
        case K_TLS:
            snprintf(buf, sizeof buf, "%s", gn_reg_tls_policy_name(*f));
            break;
        case K_IPACL:
            gn_reg_ipacl_format((const gn_reg_ipacl *)(const void *)f, buf, sizeof buf);
            break;
        case K_RATEMODEL:
            snprintf(buf, sizeof buf, "%s", *f <= d->max ? rate_model_names[*f] : "?");
            break;
        }
        fn(ctx, d->name, buf);
    }
}

/* ---- permissions */

static const struct {
    const char *name;
    uint32_t bit;
} perm_names[] = {
    {"event_send", GN_REG_PERM_EVENT_SEND}, {"event_recv", GN_REG_PERM_EVENT_RECV},
    {"cmd_send", GN_REG_PERM_CMD_SEND},     {"cmd_recv", GN_REG_PERM_CMD_RECV},
    {"dm_protocol", GN_REG_PERM_DM_PROTOCOL}, {"dm_status", GN_REG_PERM_DM_STATUS},
};

gn_reg_err gn_reg_perms_parse(const char *list, uint32_t *out)
{
    uint32_t bits = 0;
    const char *p = list;
    if (!*p)
        return GN_REG_ERR_INVALID;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        bool ok = false;
        if (n == 3 && !strncmp(p, "all", 3)) {
            bits |= GN_REG_PERM_ALL;
            ok = true;
        } else if (n == 4 && !strncmp(p, "none", 4)) {
            ok = true;
        }
        for (size_t i = 0; !ok && i < sizeof perm_names / sizeof perm_names[0]; i++)
            if (strlen(perm_names[i].name) == n && !strncmp(p, perm_names[i].name, n)) {
                bits |= perm_names[i].bit;
                ok = true;
            }
        if (!ok)
            return GN_REG_ERR_INVALID;
        p += n;
        if (*p == ',')
            p++;
    }
    *out = bits;
    return GN_REG_OK;
}

void gn_reg_perms_format(uint32_t perms, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof perm_names / sizeof perm_names[0]; i++)
        if (perms & perm_names[i].bit) {
            int w = snprintf(out + n, len - n, "%s%s", n ? "," : "", perm_names[i].name);
            if (w < 0 || (size_t)w >= len - n)
                return;
            n += (size_t)w;
        }
    if (!n)
        snprintf(out, len, "none");
}

/* ---- syntax */

static bool id_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

bool gn_reg_valid_org(const char *s, size_t len)
{
    if (len == 10 && !memcmp(s, GN_REG_QUICKSTART, 10))
        return true;
    if (len != GN_REG_ORG_LEN)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

bool gn_reg_valid_id(const char *s, size_t len)
{
    if (len < 1 || len > GN_REG_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!id_char(s[i]))
            return false;
    return true;
}

bool gn_reg_valid_apikey(const char *s, size_t len)
{
    if (len != GN_REG_APIKEY_LEN || s[0] != 'a' || s[1] != '-' || s[8] != '-')
        return false;
    if (!gn_reg_valid_org(s + 2, GN_REG_ORG_LEN))
        return false;
    for (size_t i = 9; i < len; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

bool gn_reg_valid_group(const char *s, size_t len)
{
    if (len < 1 || len > GN_REG_GROUP_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '/' || c == '+' || c == '#')
            return false;
    }
    return true;
}
