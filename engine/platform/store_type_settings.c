/* engine/platform/store_type_settings.c — per-device-type rate settings
 * (the overrides of docs/PLATFORM.md "Rate limits and throttling"): their
 * names, loading them into a gn_reg_type, and writing one. They are rows
 * of the type_settings table (schema step 2, registry_store.c), beside
 * the type's tls_policy row (store_accounts.c); rows of a removed type go
 * with it (trigger); every write is in the change feed as its type. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/store_int.h"

/* ---- names */

typedef struct type_setting {
    const char *name;
    size_t off;
} type_setting;

#define F(n) offsetof(gn_reg_type_settings, n)
static const type_setting type_settings[] = {
    {"rate_in_msgs", F(rate_in_msgs)},
    {"rate_in_bytes", F(rate_in_bytes)},
    {"throttle_limit", F(throttle_limit)},
};
#undef F
#define NTYPE_SETTINGS (sizeof type_settings / sizeof type_settings[0])

gn_reg_err gn_reg_type_settings_set(gn_reg_type_settings *s, const char *name, const char *value)
{
    for (size_t i = 0; i < NTYPE_SETTINGS; i++) {
        if (strcmp(type_settings[i].name, name) != 0)
            continue;
        char *end = NULL;
        if (!*value || strlen(value) > 10 || *value < '0' || *value > '9')
            return GN_REG_ERR_INVALID;
        unsigned long long v = strtoull(value, &end, 10);
        if (*end || v > UINT32_MAX)
            return GN_REG_ERR_INVALID;
        uint32_t u = (uint32_t)v;
        memcpy((uint8_t *)s + type_settings[i].off, &u, sizeof u);
        return GN_REG_OK;
    }
    return GN_REG_ERR_INVALID;
}

void gn_reg_type_settings_each(const gn_reg_type_settings *s,
                               void (*fn)(void *ctx, const char *name, const char *value), void *ctx)
{
    for (size_t i = 0; i < NTYPE_SETTINGS; i++) {
        uint32_t u;
        memcpy(&u, (const uint8_t *)s + type_settings[i].off, sizeof u);
        char buf[16];
        snprintf(buf, sizeof buf, "%u", u);
        fn(ctx, type_settings[i].name, buf);
    }
}

/* ---- rows */

gn_reg_err gn_st_type_load_settings(gn_store *st, gn_reg_type *t)
{
    memset(&t->s, 0, sizeof t->s);
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT key, value FROM type_settings WHERE type_uid=?1");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)t->uid);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        gn_reg_type_settings_set(&t->s, (const char *)sqlite3_column_text(s, 0),
                                 (const char *)sqlite3_column_text(s, 1));    /* unknown keys ignored */
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "device type settings");
}

gn_reg_err gn_store_type_set(gn_store *st, const char *org, const char *type, const char *name,
                             const char *value)
{
    gn_reg_type_settings probe = {0};
    if (gn_reg_type_settings_set(&probe, name, "0") != GN_REG_OK)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a device type setting (tls_policy,"
                          " rate_in_msgs, rate_in_bytes, throttle_limit)", name);
    if (gn_reg_type_settings_set(&probe, name, value) != GN_REG_OK)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "device type setting '%s': bad value '%s'"
                          " (0 .. 4294967295; 0 = the org's)", name, value);
    int64_t uid;
    gn_reg_err rc = gn_st_type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return gn_st_exec_itt(st, "INSERT INTO type_settings(type_uid, key, value) VALUES(?1, ?2, ?3)"
                          " ON CONFLICT(type_uid, key) DO UPDATE SET value=excluded.value",
                          uid, name, value, "device type setting");
}
