/* engine/platform/store_devices.c — the registry store's devices and
 * gateways (tokens, roles, default groups) and resource groups (members,
 * attached gateways, limits) (see registry_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/store_int.h"

/* -------------------------------------------------------------- devices */

/* The device's own columns from column `c` on: id, class, status,
 * gw_role, default_group, registered_by, token. */
void gn_st_device_fields(sqlite3_stmt *s, int c, gn_reg_device *d)
{
    gn_st_col_text(s, c, d->id, sizeof d->id, &d->id_len);
    const unsigned char *k = sqlite3_column_text(s, c + 1);
    d->cls = k && k[0] == 'g' ? GN_REG_GATEWAY : GN_REG_DEVICE;
    d->status = (uint8_t)sqlite3_column_int(s, c + 2);
    d->gw_role = (uint8_t)sqlite3_column_int(s, c + 3);
    d->gw_default_group = (uint32_t)sqlite3_column_int64(s, c + 4);
    d->registered_by = (uint64_t)sqlite3_column_int64(s, c + 5);
    const char *tok = (const char *)sqlite3_column_text(s, c + 6);
    d->has_token = tok && *tok && gn_reg_cred_parse(tok, &d->cred) == GN_REG_OK &&
                   d->cred.algo != GN_REG_HASH_NONE;
    if (!d->has_token)
        memset(&d->cred, 0, sizeof d->cred);
}

/* A DEV_SELECT row: uid, org id, type id, then the device's own columns. */
static void device_from_row(sqlite3_stmt *s, gn_reg_device *d)
{
    memset(d, 0, sizeof *d);
    d->uid = (uint64_t)sqlite3_column_int64(s, 0);
    gn_st_col_text(s, 1, d->org, sizeof d->org, &d->org_len);
    gn_st_col_text(s, 2, d->type, sizeof d->type, &d->type_len);
    gn_st_device_fields(s, 3, d);
}

gn_reg_err gn_st_device_groups(gn_store *st, gn_reg_device *d)
{
    static const char m_sql[] = "SELECT group_uid FROM group_members WHERE device_uid=?1 ORDER BY group_uid LIMIT 10";
    static const char g_sql[] = "SELECT group_uid FROM group_gateways WHERE gateway_uid=?1 ORDER BY group_uid LIMIT 10";
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *s = gn_st_stmt(st, pass ? g_sql : m_sql);
        if (!s)
            return GN_REG_ERR_STORE;
        sqlite3_bind_int64(s, 1, (int64_t)d->uid);
        uint8_t n = 0;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < GN_REG_MAX_GROUPS)
            (pass ? d->gw_groups : d->groups)[n++] = (uint32_t)sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            return gn_st_db_fail(st, "device groups");
        if (pass)
            d->gw_ngroups = n;
        else
            d->ngroups = n;
    }
    return GN_REG_OK;
}

/* written so the planner must use UNIQUE(type_uid, id): a plain three-way
 * join scanned the devices table (9 ms per lookup at 100 k devices) */
static const char dev_get_sql[] = DEV_SELECT
    " WHERE d.type_uid=(SELECT t2.uid FROM device_types t2 WHERE t2.id=?2 AND"
    " t2.org_uid=(SELECT o2.uid FROM orgs o2 WHERE o2.id=?1)) AND d.id=?3";

gn_reg_err gn_st_device_find(gn_store *st, const char *org, const char *type, const char *id,
                              gn_reg_device *out, bool *found)
{
    sqlite3_stmt *s = gn_st_stmt(st, dev_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, 3, org, type, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        device_from_row(s, out);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return gn_st_db_fail(st, "device");
    *found = rc == SQLITE_ROW;
    return *found ? gn_st_device_groups(st, out) : GN_REG_OK;
}

static gn_reg_err check_dev_key(gn_store *st, const char *org, const char *type, const char *id)
{
    gn_reg_err rc = gn_st_check_org_id(st, org, type);
    if (rc == GN_REG_OK && !gn_reg_valid_id(id, strlen(id)))
        rc = gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a valid device id (1-36 of A-Z a-z 0-9 _ . -)", id);
    return rc;
}

gn_reg_err gn_store_device_get(gn_store *st, const char *org, const char *type, const char *id,
                               gn_reg_device *out)
{
    bool found = false;
    gn_reg_err rc = check_dev_key(st, org, type, id);
    if (rc == GN_REG_OK)
        rc = gn_st_device_find(st, org, type, id, out, &found);
    if (rc == GN_REG_OK && !found) {
        int64_t tu;
        rc = gn_st_type_uid(st, org, type, &tu);
        if (rc == GN_REG_OK)
            rc = gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "device '%s' of type '%s' not found in org '%s'", id,
                      type, org);
    }
    return rc;
}

gn_reg_err gn_st_member_insert(gn_store *st, const gn_reg_org *o, int64_t group, const char *gname,
                                int64_t dev)
{
    int64_t n = 0, m = 0;
    gn_reg_err rc = gn_st_scalar_i(st, "SELECT count(*) FROM group_members WHERE group_uid=?1", &n, group);
    if (rc == GN_REG_OK)
        rc = gn_st_scalar_i(st, "SELECT count(*) FROM group_members WHERE device_uid=?1", &m, dev);
    if (rc != GN_REG_OK)
        return rc;
    if (o->s.max_group_devices && n >= o->s.max_group_devices)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "group '%s' has its maximum of %u devices (org setting max_group_devices)", gname,
                    o->s.max_group_devices);
    if (m >= GN_REG_MAX_GROUPS)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "the device is already in %d groups (the most a device may be in, S-100)",
                          GN_REG_MAX_GROUPS);
    rc = gn_st_exec_ii(st, "INSERT INTO group_members(group_uid, device_uid) VALUES(?1, ?2)", group, (int64_t)dev, "group member");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "the device is already a member of group '%s'", gname);
    return rc;
}

gn_reg_err gn_st_gateway_insert(gn_store *st, int64_t group, const char *gname, int64_t gw)
{
    int64_t m = 0;
    gn_reg_err rc = gn_st_scalar_i(st, "SELECT count(*) FROM group_gateways WHERE gateway_uid=?1", &m, gw);
    if (rc != GN_REG_OK)
        return rc;
    if (m >= GN_REG_MAX_GROUPS)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "the gateway is already attached to %d groups (the most a gateway may be, S-100)",
                          GN_REG_MAX_GROUPS);
    rc = gn_st_exec_ii(st, "INSERT INTO group_gateways(group_uid, gateway_uid) VALUES(?1, ?2)", group, (int64_t)gw, "group gateway");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "the gateway is already attached to group '%s'", gname);
    return rc;
}

gn_reg_err gn_st_group_insert(gn_store *st, int64_t ouid, const char *org, const char *name,
                               bool is_default, int64_t *uid)
{
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO groups(org_uid, name, is_default) VALUES(?1, ?2, ?3)");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, ouid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, is_default);
    gn_reg_err rc = gn_st_run(st, s, "create group");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "group '%s' already exists in org '%s'", name, org);
    if (rc == GN_REG_OK)
        *uid = sqlite3_last_insert_rowid(st->db);
    if (*uid > UINT32_MAX)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "group ids exhausted");
    return rc;
}

static gn_reg_err device_add_txn(gn_store *st, const gn_store_device_spec *sp,
                                 char out_token[GN_REG_TOKEN_MAX + 1], uint64_t *out_uid)
{
    gn_reg_org o;
    gn_reg_err rc = gn_store_org_get(st, sp->org, &o);
    if (rc != GN_REG_OK)
        return rc;
    if (o.quickstart)
        return gn_st_fail(st, GN_REG_ERR_STATE, "quickstart devices need no registration (S-110)");
    int64_t tu = -1;
    rc = gn_st_scalar(st, "SELECT t.uid FROM device_types t WHERE t.org_uid=(SELECT uid FROM orgs WHERE id=?1)"
                    " AND t.id=?2", &tu, 2, sp->org, sp->type, NULL);
    if (rc != GN_REG_OK)
        return rc;
    if (tu < 0) {
        if (!sp->create_type)
            return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "device type '%s' not found in org '%s'", sp->type, sp->org);
        if ((rc = gn_st_type_insert(st, (int64_t)o.uid, &o, sp->type, sp->cls, "")) != GN_REG_OK)
            return rc;
        tu = sqlite3_last_insert_rowid(st->db);
    }
    int64_t n = 0;
    rc = gn_st_scalar_i(st, "SELECT devices FROM org_counts WHERE org_uid=?1", &n, (int64_t)o.uid);
    if (rc != GN_REG_OK)
        return rc;
    if (o.s.max_devices && n >= o.s.max_devices)
        return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "org '%s' has its maximum of %u devices (org setting max_devices)", o.id, o.s.max_devices);
    if (sp->registered_by) {
        rc = gn_st_scalar_i(st, "SELECT count(*) FROM devices WHERE registered_by=?1", &n, (int64_t)sp->registered_by);
        if (rc != GN_REG_OK)
            return rc;
        if (o.s.gw_max_devices && n >= o.s.gw_max_devices)
            return gn_st_fail(st, GN_REG_ERR_LIMIT,
                          "the gateway registered its maximum of %u devices",
                        o.s.gw_max_devices);
    }
    char tok[GN_REG_CRED_TEXT_MAX] = "";
    if (out_token)
        out_token[0] = '\0';
    if (!sp->no_token && (rc = gn_st_make_token(st, sp->token, out_token, tok)) != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO devices(org_uid, type_uid, id, class, gw_role, registered_by, token)"
                               " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s)
        return GN_REG_ERR_STORE;
    char c[2] = {(char)sp->cls, 0};
    sqlite3_bind_int64(s, 1, (int64_t)o.uid);
    sqlite3_bind_int64(s, 2, tu);
    sqlite3_bind_text(s, 3, sp->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, c, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, (int)sp->role);
    sqlite3_bind_int64(s, 6, (int64_t)sp->registered_by);
    sqlite3_bind_text(s, 7, tok, -1, SQLITE_STATIC);
    rc = gn_st_run(st, s, "add device");
    if (rc == GN_REG_ERR_EXISTS)
        return gn_st_fail(st, rc, "%s '%s' of type '%s' already exists in org '%s'",
                    sp->cls == GN_REG_GATEWAY ? "gateway" : "device", sp->id, sp->type, sp->org);
    if (rc != GN_REG_OK)
        return rc;
    int64_t uid = sqlite3_last_insert_rowid(st->db);
    if (sp->cls == GN_REG_GATEWAY && !sp->no_group) {
        char gname[GN_REG_GROUP_NAME_MAX + 1];
        snprintf(gname, sizeof gname, "gw:%s:%s", sp->type, sp->id);
        int64_t g = 0;
        rc = gn_st_group_insert(st, (int64_t)o.uid, sp->org, gname, true, &g);
        if (rc == GN_REG_OK)
            rc = gn_st_gateway_insert(st, g, gname, uid);
        if (rc == GN_REG_OK) {
            sqlite3_stmt *u = gn_st_stmt(st, "UPDATE devices SET default_group=?2 WHERE uid=?1");
            if (!u)
                return GN_REG_ERR_STORE;
            sqlite3_bind_int64(u, 1, uid);
            sqlite3_bind_int64(u, 2, g);
            rc = gn_st_run(st, u, "default group");
        }
        if (rc != GN_REG_OK)
            return rc;
    }
    if (sp->into_group && (rc = gn_st_member_insert(st, &o, sp->into_group, "default", uid)) != GN_REG_OK)
        return rc;
    if (out_uid)
        *out_uid = (uint64_t)uid;
    return GN_REG_OK;
}

gn_reg_err gn_store_device_add(gn_store *st, const gn_store_device_spec *sp,
                               char out_token[GN_REG_TOKEN_MAX + 1], uint64_t *out_uid)
{
    gn_reg_err rc = check_dev_key(st, sp->org, sp->type, sp->id);
    if (rc != GN_REG_OK)
        return rc;
    if (sp->cls != GN_REG_DEVICE && sp->cls != GN_REG_GATEWAY)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "class must be device or gateway");
    bool own;
    if ((rc = gn_st_txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    return gn_st_txn_end(st, own, device_add_txn(st, sp, out_token, out_uid));
}

static const char dev_list_all[] = DEV_SELECT " WHERE o.id=?1 ORDER BY t.id, d.id";
static const char dev_list_type[] = DEV_SELECT " WHERE o.id=?1 AND t.id=?2 ORDER BY d.id";

gn_reg_err gn_store_device_list(gn_store *st, const char *org, const char *type, int cls,
                                void (*fn)(void *ctx, const gn_reg_device *d), void *ctx)
{
    int64_t u;
    gn_reg_err rc = type ? gn_st_type_uid(st, org, type, &u) : gn_st_org_uid(st, org, &u);
    if (rc != GN_REG_OK)
        return rc;
    /* a second connection-free pass for groups needs the rows first */
    sqlite3_stmt *s = gn_st_stmt(st, type ? dev_list_type : dev_list_all);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, type ? 2 : 1, org, type);
    gn_reg_device *v = NULL;
    size_t n = 0, cap = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_device d;
        device_from_row(s, &d);
        if (cls && d.cls != cls)
            continue;
        if (gn_st_grow(&v, &cap, n, sizeof *v) != 0) {
            free(v);
            sqlite3_reset(s);
            return gn_st_fail(st, GN_REG_ERR_NOMEM, "out of memory");
        }
        v[n++] = d;
    }
    sqlite3_reset(s);
    rc = r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list devices");
    for (size_t i = 0; rc == GN_REG_OK && i < n; i++)
        if ((rc = gn_st_device_groups(st, &v[i])) == GN_REG_OK)
            fn(ctx, &v[i]);
    free(v);
    return rc;
}

gn_reg_err gn_st_device_uid(gn_store *st, const char *org, const char *type, const char *id,
                             int64_t *uid)
{
    gn_reg_device d;
    gn_reg_err rc = gn_store_device_get(st, org, type, id, &d);
    if (rc == GN_REG_OK)
        *uid = (int64_t)d.uid;
    return rc;
}

gn_reg_err gn_store_device_set_status(gn_store *st, const char *org, const char *type,
                                      const char *id, gn_reg_status status)
{
    int64_t uid;
    gn_reg_err rc = gn_st_device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return gn_st_exec_ii(st, "UPDATE devices SET status=?2 WHERE uid=?1", uid, (int64_t)status, "device status");
}

gn_reg_err gn_st_device_delete_uid(gn_store *st, int64_t uid)
{
    /* a gateway's default group goes with it (S-056) */
#define DEFAULT_GROUP "(SELECT default_group FROM devices WHERE uid=?1 AND class='g')"
    static const char *const del[] = {
        "DELETE FROM group_members WHERE device_uid=?1 OR group_uid=" DEFAULT_GROUP,
        "DELETE FROM group_gateways WHERE gateway_uid=?1 OR group_uid=" DEFAULT_GROUP,
        "DELETE FROM groups WHERE is_default=1 AND uid=" DEFAULT_GROUP,
        "UPDATE devices SET registered_by=0 WHERE registered_by=?1",
        "DELETE FROM devices WHERE uid=?1",
    };
#undef DEFAULT_GROUP
    gn_reg_err rc = GN_REG_OK;
    for (size_t i = 0; rc == GN_REG_OK && i < sizeof del / sizeof del[0]; i++)
        rc = gn_st_exec_i(st, del[i], uid);
    return rc;
}

gn_reg_err gn_store_device_remove(gn_store *st, const char *org, const char *type, const char *id)
{
    int64_t uid;
    gn_reg_err rc = gn_st_device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    bool own;
    if ((rc = gn_st_txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    return gn_st_txn_end(st, own, gn_st_device_delete_uid(st, uid));
}

gn_reg_err gn_store_device_rotate(gn_store *st, const char *org, const char *type, const char *id,
                                  const char *token, char out_token[GN_REG_TOKEN_MAX + 1])
{
    int64_t uid;
    gn_reg_err rc = gn_st_device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = gn_st_make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    return gn_st_exec_it(st, "UPDATE devices SET token=?2 WHERE uid=?1", uid, tok, "rotate token");
}

gn_reg_err gn_store_gateway_set_role(gn_store *st, const char *org, const char *type,
                                     const char *id, gn_reg_gw_role role)
{
    gn_reg_device d;
    gn_reg_err rc = gn_store_device_get(st, org, type, id, &d);
    if (rc != GN_REG_OK)
        return rc;
    if (d.cls != GN_REG_GATEWAY)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is a device, not a gateway", id);
    return gn_st_exec_ii(st, "UPDATE devices SET gw_role=?2 WHERE uid=?1", (int64_t)d.uid, (int64_t)role, "gateway role");
}

/* --------------------------------------------------------------- groups */

static gn_reg_err group_find(gn_store *st, const char *org, const char *name, gn_store_group *g,
                             int64_t *ouid)
{
    memset(g, 0, sizeof *g);
    gn_reg_err rc = gn_st_org_uid(st, org, ouid);
    if (rc != GN_REG_OK)
        return rc;
    if (!gn_reg_valid_group(name, strlen(name)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a group name (1-80 printable, no / + #)", name);
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT uid, name, is_default,"
                               " (SELECT count(*) FROM group_members m WHERE m.group_uid=g.uid),"
                               " (SELECT count(*) FROM group_gateways w WHERE w.group_uid=g.uid)"
                               " FROM groups g WHERE org_uid=?1 AND name=?2");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, *ouid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    int r = sqlite3_step(s);
    if (r == SQLITE_ROW) {
        memset(g, 0, sizeof *g);
        g->uid = (uint64_t)sqlite3_column_int64(s, 0);
        gn_st_col_text(s, 1, g->name, sizeof g->name, NULL);
        g->is_default = sqlite3_column_int(s, 2) != 0;
        g->members = (uint64_t)sqlite3_column_int64(s, 3);
        g->gateways = (uint64_t)sqlite3_column_int64(s, 4);
    }
    sqlite3_reset(s);
    if (r == SQLITE_DONE)
        return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "group '%s' not found in org '%s'", name, org);
    return r == SQLITE_ROW ? GN_REG_OK : gn_st_db_fail(st, "group");
}

gn_reg_err gn_store_group_get(gn_store *st, const char *org, const char *name, gn_store_group *out)
{
    int64_t ou;
    return group_find(st, org, name, out, &ou);
}

gn_reg_err gn_store_group_create(gn_store *st, const char *org, const char *name, uint64_t *uid)
{
    int64_t ou, g = 0;
    gn_reg_err rc = gn_st_org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (!gn_reg_valid_group(name, strlen(name)))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a group name (1-80 printable, no / + #)", name);
    if (!strncmp(name, "gw:", 3))
        return gn_st_fail(st, GN_REG_ERR_INVALID, "names starting with 'gw:' are for gateways' default groups");
    rc = gn_st_group_insert(st, ou, org, name, false, &g);
    if (rc == GN_REG_OK && uid)
        *uid = (uint64_t)g;
    return rc;
}

gn_reg_err gn_store_group_list(gn_store *st, const char *org,
                               void (*fn)(void *ctx, const gn_store_group *g), void *ctx)
{
    int64_t ou;
    gn_reg_err rc = gn_st_org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT uid, name, is_default,"
                               " (SELECT count(*) FROM group_members m WHERE m.group_uid=g.uid),"
                               " (SELECT count(*) FROM group_gateways w WHERE w.group_uid=g.uid)"
                               " FROM groups g WHERE org_uid=?1 ORDER BY name");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, ou);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_store_group g = {0};
        g.uid = (uint64_t)sqlite3_column_int64(s, 0);
        gn_st_col_text(s, 1, g.name, sizeof g.name, NULL);
        g.is_default = sqlite3_column_int(s, 2) != 0;
        g.members = (uint64_t)sqlite3_column_int64(s, 3);
        g.gateways = (uint64_t)sqlite3_column_int64(s, 4);
        fn(ctx, &g);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list groups");
}

gn_reg_err gn_store_group_remove(gn_store *st, const char *org, const char *name)
{
    gn_store_group g;
    int64_t ou;
    gn_reg_err rc = group_find(st, org, name, &g, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (g.is_default)
        return gn_st_fail(st, GN_REG_ERR_STATE, "'%s' is a gateway's default group and cannot be removed (S-056)", name);
    bool own;
    if ((rc = gn_st_txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    rc = gn_st_exec_i(st, "DELETE FROM group_members WHERE group_uid=?1", (int64_t)g.uid);
    if (rc == GN_REG_OK)
        rc = gn_st_exec_i(st, "DELETE FROM group_gateways WHERE group_uid=?1", (int64_t)g.uid);
    if (rc == GN_REG_OK)
        rc = gn_st_exec_i(st, "DELETE FROM groups WHERE uid=?1", (int64_t)g.uid);
    return gn_st_txn_end(st, own, rc);
}

/* The group `name` and the device (type, id) of org. */
static gn_reg_err group_and_device(gn_store *st, const char *org, const char *name, const char *type,
                                   const char *id, gn_store_group *g, gn_reg_device *d)
{
    int64_t ou;
    gn_reg_err rc = group_find(st, org, name, g, &ou);
    return rc == GN_REG_OK ? gn_store_device_get(st, org, type, id, d) : rc;
}

gn_reg_err gn_store_group_member(gn_store *st, const char *org, const char *name,
                                 const char *type, const char *id, bool add)
{
    gn_store_group g;
    gn_reg_device d;
    gn_reg_err rc = group_and_device(st, org, name, type, id, &g, &d);
    if (rc != GN_REG_OK)
        return rc;
    if (add) {
        gn_reg_org o;
        if ((rc = gn_store_org_get(st, org, &o)) != GN_REG_OK)
            return rc;
        return gn_st_member_insert(st, &o, (int64_t)g.uid, name, (int64_t)d.uid);
    }
    if ((rc = gn_st_exec_ii(st, "DELETE FROM group_members WHERE group_uid=?1 AND device_uid=?2", (int64_t)g.uid,
                      (int64_t)d.uid, "remove member")) != GN_REG_OK)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "'%s' is not a member of group '%s'", id, name);
    return GN_REG_OK;
}

gn_reg_err gn_store_group_gateway(gn_store *st, const char *org, const char *name,
                                  const char *type, const char *id, bool attach)
{
    gn_store_group g;
    gn_reg_device d;
    gn_reg_err rc = group_and_device(st, org, name, type, id, &g, &d);
    if (rc != GN_REG_OK)
        return rc;
    if (d.cls != GN_REG_GATEWAY)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is a device, not a gateway", id);
    if (attach)
        return gn_st_gateway_insert(st, (int64_t)g.uid, name, (int64_t)d.uid);
    if (g.is_default && d.gw_default_group == g.uid)
        return gn_st_fail(st, GN_REG_ERR_STATE, "a gateway cannot be detached from its default group (S-056)");
    if ((rc = gn_st_exec_ii(st, "DELETE FROM group_gateways WHERE group_uid=?1 AND gateway_uid=?2", (int64_t)g.uid,
                      (int64_t)d.uid, "detach gateway")) != GN_REG_OK)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "gateway '%s' is not attached to group '%s'", id, name);
    return GN_REG_OK;
}

gn_reg_err gn_store_group_each(gn_store *st, const char *org, const char *name, bool gateways,
                               void (*fn)(void *ctx, const char *type, const char *id), void *ctx)
{
    gn_store_group g;
    int64_t ou;
    gn_reg_err rc = group_find(st, org, name, &g, &ou);
    if (rc != GN_REG_OK)
        return rc;
    static const char m_sql[] = "SELECT t.id, d.id FROM group_members m JOIN devices d ON d.uid=m.device_uid"
                                " JOIN device_types t ON t.uid=d.type_uid WHERE m.group_uid=?1 ORDER BY t.id, d.id";
    static const char g_sql[] = "SELECT t.id, d.id FROM group_gateways m JOIN devices d ON d.uid=m.gateway_uid"
                                " JOIN device_types t ON t.uid=d.type_uid WHERE m.group_uid=?1 ORDER BY t.id, d.id";
    sqlite3_stmt *s = gn_st_stmt(st, gateways ? g_sql : m_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)g.uid);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "group members");
}
