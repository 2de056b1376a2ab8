/* engine/platform/store_accounts.c — the registry store's orgs (with
 * their settings), device types and API keys (see registry_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/store_int.h"

/* ----------------------------------------------------------------- orgs */

gn_reg_err gn_st_org_uid(gn_store *st, const char *org, int64_t *uid)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    gn_reg_err rc = gn_st_scalar(st, "SELECT uid FROM orgs WHERE id=?1", uid, 1, org, NULL, NULL);
    if (rc == GN_REG_OK && *uid < 0)
        return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "org '%s' not found", org);
    return rc;
}

/* A statement over one org's rows: the org must exist; ?1 is its id. */
gn_reg_err gn_st_org_query(gn_store *st, const char *org, const char *sql, sqlite3_stmt **out)
{
    int64_t ou;
    gn_reg_err rc = gn_st_org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (!(*out = gn_st_stmt(st, sql)))
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(*out, 1, org);
    return GN_REG_OK;
}

gn_reg_err gn_st_org_load_settings(gn_store *st, int64_t uid, gn_reg_org *o)
{
    if (o->quickstart)
        gn_reg_org_settings_quickstart(&o->s);
    else
        gn_reg_org_settings_default(&o->s, (gn_reg_plan)o->s.plan);
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT key, value FROM org_settings WHERE org_uid=?1");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, uid);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        gn_reg_settings_set(&o->s, (const char *)sqlite3_column_text(s, 0),
                            (const char *)sqlite3_column_text(s, 1));     /* unknown keys ignored */
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return gn_st_db_fail(st, "org settings");
    /* S-036: count and newest row id change with every CA added or removed */
    int64_t v = 0;
    gn_reg_err e = gn_st_scalar_i(st, "SELECT count(*) * 4294967296 + coalesce(max(uid), 0)"
                                      " FROM org_cas WHERE org_uid=?1", &v, uid);
    o->ca_version = v > 0 ? (uint64_t)v : 0;
    return e;
}

void gn_st_org_from_row(sqlite3_stmt *s, gn_reg_org *o)
{
    memset(o, 0, sizeof *o);
    o->uid = (uint64_t)sqlite3_column_int64(s, 0);
    gn_st_col_text(s, 1, o->id, sizeof o->id, &o->id_len);
    gn_st_col_text(s, 2, o->name, sizeof o->name, NULL);
    o->status = (uint8_t)sqlite3_column_int(s, 3);
    o->s.plan = (uint8_t)sqlite3_column_int(s, 4);
    o->quickstart = o->id_len == 10 && !memcmp(o->id, GN_REG_QUICKSTART, 10);
}

const char gn_st_org_get_sql[] = "SELECT uid, id, name, status, plan FROM orgs WHERE id=?1";

gn_reg_err gn_store_org_get(gn_store *st, const char *org, gn_reg_org *out)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    sqlite3_stmt *s = gn_st_stmt(st, gn_st_org_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, 1, org);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "org '%s' not found", org)
                                 : gn_st_db_fail(st, "org");
    }
    gn_st_org_from_row(s, out);
    sqlite3_reset(s);
    return gn_st_org_load_settings(st, (int64_t)out->uid, out);
}

gn_reg_err gn_store_org_create(gn_store *st, const char *id, const char *name, gn_reg_plan plan,
                               char out_id[GN_REG_ORG_MAX + 1])
{
    char gen[GN_REG_ORG_LEN + 1];
    for (int attempt = 0; !id && attempt < 16; attempt++) {
        static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t r[GN_REG_ORG_LEN];
        if (gn_reg_random(r, sizeof r) != 0)
            return gn_st_fail(st, GN_REG_ERR_STORE, "no random bytes");
        for (int i = 0; i < GN_REG_ORG_LEN; i++)
            gen[i] = a[r[i] % 36];
        gen[GN_REG_ORG_LEN] = '\0';
        int64_t uid;
        if (gn_st_scalar(st, "SELECT uid FROM orgs WHERE id=?1", &uid, 1, gen, NULL, NULL) == GN_REG_OK && uid < 0)
            id = gen;
    }
    if (!id)
        return gn_st_fail(st, GN_REG_ERR_STORE, "could not pick a free org id");
    if (!gn_reg_valid_org(id, strlen(id)) || !strcmp(id, GN_REG_QUICKSTART))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", id);
    if (name && strlen(name) >= sizeof(((gn_reg_org *)0)->name))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "org name longer than 63 bytes");
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO orgs(id, name, plan) VALUES(?1, ?2, ?3)");
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, 2, id, name ? name : "");
    sqlite3_bind_int(s, 3, (int)plan);
    gn_reg_err rc = gn_st_run(st, s, "create org");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "org '%s' already exists", id);
    if (rc == GN_REG_OK && out_id)
        snprintf(out_id, GN_REG_ORG_MAX + 1, "%s", id);
    return rc;
}

gn_reg_err gn_store_org_list(gn_store *st, void (*fn)(void *ctx, const gn_reg_org *o), void *ctx)
{
    static const char sql[] = "SELECT uid, id, name, status, plan FROM orgs ORDER BY id";
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    /* collect first: org_load_settings uses another statement */
    gn_reg_org *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (gn_st_grow(&v, &cap, n, sizeof *v) != 0) {
            free(v);
            sqlite3_reset(s);
            return gn_st_fail(st, GN_REG_ERR_NOMEM, "out of memory");
        }
        gn_st_org_from_row(s, &v[n++]);
    }
    sqlite3_reset(s);
    gn_reg_err e = rc == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list orgs");
    for (size_t i = 0; e == GN_REG_OK && i < n; i++) {
        e = gn_st_org_load_settings(st, (int64_t)v[i].uid, &v[i]);
        if (e == GN_REG_OK)
            fn(ctx, &v[i]);
    }
    free(v);
    return e;
}

gn_reg_err gn_store_org_set_status(gn_store *st, const char *org, gn_reg_status status)
{
    int64_t uid;
    gn_reg_err rc = gn_st_org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return gn_st_exec_ii(st, "UPDATE orgs SET status=?2 WHERE uid=?1", uid, (int64_t)status, "org status");
}

gn_reg_err gn_store_org_set(gn_store *st, const char *org, const char *name, const char *value)
{
    int64_t uid;
    gn_reg_err rc = gn_st_org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    gn_reg_org_settings probe;
    gn_reg_org_settings_default(&probe, GN_REG_PLAN_STANDARD);
    char canon[GN_REG_IPACL_TEXT_MAX];
    if (!strcmp(name, "ip_acl")) {
        /* S-038: one list, black or white; stored in its canonical form */
        char why[160];
        if (gn_reg_ipacl_parse(value, &probe.ip_acl, why, sizeof why) != GN_REG_OK)
            return gn_st_fail(st, GN_REG_ERR_INVALID, "setting 'ip_acl': %s", why);
        gn_reg_ipacl_format(&probe.ip_acl, canon, sizeof canon);
        value = canon;
    } else if (gn_reg_settings_set(&probe, name, value) != GN_REG_OK)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "setting '%s': unknown name or bad value '%s'", name, value);
    return gn_st_exec_itt(st, "INSERT INTO org_settings(org_uid, key, value) VALUES(?1, ?2, ?3)"
                          " ON CONFLICT(org_uid, key) DO UPDATE SET value=excluded.value",
                          uid, name, value, "org setting");
}

gn_reg_err gn_store_org_remove(gn_store *st, const char *org)
{
    int64_t uid;
    gn_reg_err rc = gn_st_org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    if (!strcmp(org, GN_REG_QUICKSTART))
        return gn_st_fail(st, GN_REG_ERR_STATE, "the quickstart org cannot be removed (disable it instead)");
    bool own = sqlite3_get_autocommit(st->db) != 0;
    if (own && (rc = gn_store_begin(st)) != GN_REG_OK)
        return rc;
    static const char *const del[] = {
        "DELETE FROM group_members WHERE group_uid IN (SELECT uid FROM groups WHERE org_uid=?1)",
        "DELETE FROM group_gateways WHERE group_uid IN (SELECT uid FROM groups WHERE org_uid=?1)",
        "DELETE FROM groups WHERE org_uid=?1",
        "DELETE FROM devices WHERE org_uid=?1",
        "DELETE FROM device_types WHERE org_uid=?1",
        "DELETE FROM api_keys WHERE org_uid=?1",
        "DELETE FROM org_settings WHERE org_uid=?1",
        "DELETE FROM org_cas WHERE org_uid=?1",
        "DELETE FROM orgs WHERE uid=?1",
    };
    for (size_t i = 0; rc == GN_REG_OK && i < sizeof del / sizeof del[0]; i++)
        rc = gn_st_exec_i(st, del[i], uid);
    if (own) {
        if (rc == GN_REG_OK)
            rc = gn_store_commit(st);
        if (rc != GN_REG_OK)
            gn_store_rollback(st);
    }
    return rc;
}

/* ---------------------------------------------------------------- types */

gn_reg_err gn_st_check_org_id(gn_store *st, const char *org, const char *type)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    if (type && !gn_reg_valid_id(type, strlen(type)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a valid id (1-36 of A-Z a-z 0-9 _ . -)", type);
    return GN_REG_OK;
}

gn_reg_err gn_st_type_uid(gn_store *st, const char *org, const char *type, int64_t *uid)
{
    gn_reg_err rc = gn_st_check_org_id(st, org, type);
    if (rc == GN_REG_OK)
        rc = gn_st_scalar(st, "SELECT t.uid FROM device_types t JOIN orgs o ON o.uid=t.org_uid"
                        " WHERE o.id=?1 AND t.id=?2", uid, 2, org, type, NULL);
    if (rc == GN_REG_OK && *uid < 0) {
        int64_t ou;
        rc = gn_st_org_uid(st, org, &ou);
        if (rc == GN_REG_OK)
            rc = gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "device type '%s' not found in org '%s'", type, org);
    }
    return rc;
}

gn_reg_err gn_st_type_insert(gn_store *st, int64_t ouid, const gn_reg_org *o, const char *type,
                              gn_reg_class cls, const char *description)
{
    int64_t n = 0;
    gn_reg_err rc = gn_st_scalar_i(st, "SELECT count(*) FROM device_types WHERE org_uid=?1", &n, ouid);
    if (rc != GN_REG_OK)
        return rc;
    if (o->s.max_device_types && n >= o->s.max_device_types)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "org '%s' has its maximum of %u device types (org setting max_device_types)", o->id,
                    o->s.max_device_types);
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO device_types(org_uid, id, class, description) VALUES(?1,?2,?3,?4)");
    if (!s)
        return GN_REG_ERR_STORE;
    char c[2] = {(char)cls, 0};
    sqlite3_bind_int64(s, 1, ouid);
    sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, c, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
    rc = gn_st_run(st, s, "add device type");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "device type '%s' already exists in org '%s'", type, o->id);
    return rc;
}

gn_reg_err gn_store_type_add(gn_store *st, const char *org, const char *type, gn_reg_class cls,
                             const char *description)
{
    gn_reg_org o;
    gn_reg_err rc = gn_st_check_org_id(st, org, type);
    if (rc == GN_REG_OK)
        rc = gn_store_org_get(st, org, &o);
    if (rc != GN_REG_OK)
        return rc;
    if (description && strlen(description) > 255)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "description longer than 255 bytes");
    return gn_st_type_insert(st, (int64_t)o.uid, &o, type, cls, description);
}

const char gn_st_type_sel[] =
    "SELECT t.uid, o.id, t.id, t.status, t.class, (SELECT count(*) FROM devices d WHERE d.type_uid=t.uid),"
    " " GN_ST_TYPE_TLS_COL " FROM device_types t JOIN orgs o ON o.uid=t.org_uid WHERE o.id=?1 AND t.id=?2";
static const char type_list_sql[] =
    "SELECT t.uid, o.id, t.id, t.status, t.class, (SELECT count(*) FROM devices d WHERE d.type_uid=t.uid),"
    " " GN_ST_TYPE_TLS_COL " FROM device_types t JOIN orgs o ON o.uid=t.org_uid WHERE o.id=?1 ORDER BY t.id";

void gn_st_type_from_row(sqlite3_stmt *s, gn_reg_type *t)
{
    memset(t, 0, sizeof *t);
    t->uid = (uint64_t)sqlite3_column_int64(s, 0);
    gn_st_col_text(s, 1, t->org, sizeof t->org, &t->org_len);
    gn_st_col_text(s, 2, t->id, sizeof t->id, &t->id_len);
    t->status = (uint8_t)sqlite3_column_int(s, 3);
    const unsigned char *c = sqlite3_column_text(s, 4);
    t->cls = c && c[0] == 'g' ? GN_REG_GATEWAY : GN_REG_DEVICE;
}

void gn_st_type_tls_from_col(sqlite3_stmt *s, int col, gn_reg_type *t)
{
    const char *v = (const char *)sqlite3_column_text(s, col);
    int p = v ? gn_reg_tls_policy_parse(v) : -1;     /* NULL, "org": the org's */
    t->has_tls_policy = p >= GN_REG_TLS_OPTIONAL && p <= GN_REG_TLS_CERT_OR_TOKEN;
    t->tls_policy = t->has_tls_policy ? (uint8_t)p : 0;
}

gn_reg_err gn_store_type_get(gn_store *st, const char *org, const char *type, gn_reg_type *out,
                             uint64_t *ndevices)
{
    int64_t uid;
    gn_reg_err rc = gn_st_type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = gn_st_stmt(st, gn_st_type_sel);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, 2, org, type);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return gn_st_db_fail(st, "device type");
    }
    gn_st_type_from_row(s, out);
    gn_st_type_tls_from_col(s, 6, out);
    if (ndevices)
        *ndevices = (uint64_t)sqlite3_column_int64(s, 5);
    sqlite3_reset(s);
    return gn_st_type_load_settings(st, out);
}

gn_reg_err gn_store_type_list(gn_store *st, const char *org,
                              void (*fn)(void *ctx, const gn_reg_type *t, uint64_t ndevices), void *ctx)
{
    sqlite3_stmt *s;
    gn_reg_err rc = gn_st_org_query(st, org, type_list_sql, &s);
    if (rc != GN_REG_OK)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_type t;
        gn_st_type_from_row(s, &t);
        gn_st_type_tls_from_col(s, 6, &t);
        fn(ctx, &t, (uint64_t)sqlite3_column_int64(s, 5));
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list device types");
}

gn_reg_err gn_store_type_set_status(gn_store *st, const char *org, const char *type, gn_reg_status status)
{
    int64_t uid;
    gn_reg_err rc = gn_st_type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return gn_st_exec_ii(st, "UPDATE device_types SET status=?2 WHERE uid=?1", uid, (int64_t)status, "device type status");
}

gn_reg_err gn_store_type_set_tls_policy(gn_store *st, const char *org, const char *type,
                                        const char *value)
{
    int64_t uid;
    gn_reg_err rc = gn_st_type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    int policy = gn_reg_tls_policy_parse(value);
    if (policy < 0)
        return gn_st_fail(st, GN_REG_ERR_INVALID,
                          "tls_policy '%s': one of org, optional, token, cert, token+cert, cert|token", value);
    /* "org" is kept as a row too: a deleted row would not reach the change feed */
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO type_settings(type_uid, key, value) VALUES(?1, 'tls_policy', ?2)"
                                     " ON CONFLICT(type_uid, key) DO UPDATE SET value=excluded.value");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, uid);
    sqlite3_bind_text(s, 2, gn_reg_tls_policy_name(policy), -1, SQLITE_STATIC);
    return gn_st_run(st, s, "device type setting");
}

gn_reg_err gn_store_type_remove(gn_store *st, const char *org, const char *type, bool force)
{
    int64_t uid, n = 0;
    gn_reg_err rc = gn_st_type_uid(st, org, type, &uid);
    if (rc == GN_REG_OK)
        rc = gn_st_scalar_i(st, "SELECT count(*) FROM devices WHERE type_uid=?1", &n, uid);
    if (rc != GN_REG_OK)
        return rc;
    if (n > 0 && !force)
        return gn_st_fail(st, GN_REG_ERR_STATE, "device type '%s' still has %lld devices (remove them or use --force)",
                    type, (long long)n);
    bool own;
    if ((rc = gn_st_txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    while (rc == GN_REG_OK) {
        int64_t d;
        rc = gn_st_scalar_i(st, "SELECT uid FROM devices WHERE type_uid=?1 LIMIT 1", &d, uid);
        if (rc != GN_REG_OK || d < 0)
            break;
        rc = gn_st_device_delete_uid(st, d);
    }
    if (rc == GN_REG_OK)
        rc = gn_st_exec_i(st, "DELETE FROM device_types WHERE uid=?1", uid);
    return gn_st_txn_end(st, own, rc);
}

/* ------------------------------------------------------------- API keys */

void gn_st_apikey_from_row(sqlite3_stmt *s, gn_reg_apikey *k)
{
    memset(k, 0, sizeof *k);
    k->uid = (uint64_t)sqlite3_column_int64(s, 0);
    gn_st_col_text(s, 1, k->key, sizeof k->key, &k->key_len);
    gn_st_col_text(s, 2, k->org, sizeof k->org, &k->org_len);
    k->status = (uint8_t)sqlite3_column_int(s, 3);
    k->perms = (uint32_t)sqlite3_column_int64(s, 4);
    gn_st_col_text(s, 5, k->description, sizeof k->description, NULL);
    const char *tok = (const char *)sqlite3_column_text(s, 6);
    if (!tok || gn_reg_cred_parse(tok, &k->cred) != GN_REG_OK)
        memset(&k->cred, 0, sizeof k->cred);
}

static const char key_get_sql[] = KEY_SELECT " WHERE k.key=?1";

gn_reg_err gn_st_apikey_find(gn_store *st, const char *key, gn_reg_apikey *out, bool *found)
{
    sqlite3_stmt *s = gn_st_stmt(st, key_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        gn_st_apikey_from_row(s, out);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return gn_st_db_fail(st, "api key");
    *found = rc == SQLITE_ROW;
    return GN_REG_OK;
}

gn_reg_err gn_store_apikey_get(gn_store *st, const char *key, gn_reg_apikey *out)
{
    if (!gn_reg_valid_apikey(key, strlen(key)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not an API key (a-{org}-{10 characters})", key);
    bool found = false;
    gn_reg_err rc = gn_st_apikey_find(st, key, out, &found);
    if (rc == GN_REG_OK && !found)
        rc = gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "API key '%s' not found", key);
    return rc;
}

gn_reg_err gn_store_apikey_create(gn_store *st, const char *org, uint32_t perms,
                                  const char *description, const char *token,
                                  char out_key[GN_REG_APIKEY_LEN + 1],
                                  char out_token[GN_REG_TOKEN_MAX + 1])
{
    gn_reg_org o;
    gn_reg_err rc = gn_store_org_get(st, org, &o);
    if (rc != GN_REG_OK)
        return rc;
    if (o.quickstart)
        return gn_st_fail(st, GN_REG_ERR_STATE, "quickstart has no API keys (S-110)");
    if (description && strlen(description) >= sizeof(((gn_reg_apikey *)0)->description))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "description longer than 63 bytes");
    if (perms & ~(uint32_t)GN_REG_PERM_ALL)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "unknown permission bits");
    int64_t n = 0;
    if ((rc = gn_st_scalar_i(st, "SELECT count(*) FROM api_keys WHERE org_uid=?1", &n, (int64_t)o.uid)) != GN_REG_OK)
        return rc;
    if (o.s.max_api_keys && n >= o.s.max_api_keys)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "org '%s' has its maximum of %u API keys (org setting max_api_keys)", org, o.s.max_api_keys);
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = gn_st_make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    for (int attempt = 0; attempt < 8; attempt++) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t r[10];
        if (gn_reg_random(r, sizeof r) != 0)
            return gn_st_fail(st, GN_REG_ERR_STORE, "no random bytes");
        char key[GN_REG_APIKEY_LEN + 1];
        int w = snprintf(key, sizeof key, "a-%s-", org);
        for (int i = 0; i < 10; i++)
            key[w + i] = a[r[i] % 62];
        key[GN_REG_APIKEY_LEN] = '\0';
        sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO api_keys(org_uid, key, perms, description, token)"
                                   " VALUES(?1, ?2, ?3, ?4, ?5)");
        if (!s)
            return GN_REG_ERR_STORE;
        sqlite3_bind_int64(s, 1, (int64_t)o.uid);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, perms);
        sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, tok, -1, SQLITE_STATIC);
        rc = gn_st_run(st, s, "create API key");
        if (rc == GN_REG_OK) {
            memcpy(out_key, key, sizeof key);
            return rc;
        }
        if (rc != GN_REG_ERR_EXISTS)
            return rc;
    }
    return gn_st_fail(st, GN_REG_ERR_STORE, "could not pick a free API key");
}

static const char key_list_sql[] = KEY_SELECT " WHERE o.id=?1 ORDER BY k.key";

gn_reg_err gn_store_apikey_list(gn_store *st, const char *org,
                                void (*fn)(void *ctx, const gn_reg_apikey *k), void *ctx)
{
    sqlite3_stmt *s;
    gn_reg_err rc = gn_st_org_query(st, org, key_list_sql, &s);
    if (rc != GN_REG_OK)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_apikey k;
        gn_st_apikey_from_row(s, &k);
        fn(ctx, &k);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list API keys");
}

static gn_reg_err apikey_update(gn_store *st, const char *key, const char *sql, int64_t v,
                                const char *text)
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)k.uid);
    if (text)
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, v);
    return gn_st_run(st, s, "update API key");
}

gn_reg_err gn_store_apikey_set_status(gn_store *st, const char *key, gn_reg_status s)
{
    return apikey_update(st, key, "UPDATE api_keys SET status=?2 WHERE uid=?1", (int64_t)s, NULL);
}

gn_reg_err gn_store_apikey_set_perms(gn_store *st, const char *key, uint32_t perms)
{
    if (perms & ~(uint32_t)GN_REG_PERM_ALL)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "unknown permission bits");
    return apikey_update(st, key, "UPDATE api_keys SET perms=?2 WHERE uid=?1", perms, NULL);
}

gn_reg_err gn_store_apikey_remove(gn_store *st, const char *key)
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    return rc == GN_REG_OK ? gn_st_exec_i(st, "DELETE FROM api_keys WHERE uid=?1", (int64_t)k.uid) : rc;
}

gn_reg_err gn_store_apikey_rotate(gn_store *st, const char *key, const char *token,
                                  char out_token[GN_REG_TOKEN_MAX + 1])
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    if (rc != GN_REG_OK)
        return rc;
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = gn_st_make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    return apikey_update(st, key, "UPDATE api_keys SET token=?2 WHERE uid=?1", 0, tok);
}
