/* engine/platform/store_feed.c — what the registry thread reads from the
 * store: the full load a snapshot is built from, the change feed and single
 * records by key (see registry_store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/store_int.h"

/* --------------------------------------------------------- registry side */

gn_reg_err gn_store_data_version(gn_store *st, int64_t *out)
{
    return gn_st_scalar(st, "PRAGMA data_version", out, 0, NULL, NULL, NULL);
}

gn_reg_err gn_store_group_count(gn_store *st, uint64_t *out)
{
    int64_t n = 0;
    gn_reg_err rc = gn_st_scalar(st, "SELECT count(*) FROM groups", &n, 0, NULL, NULL, NULL);
    *out = n > 0 ? (uint64_t)n : 0;
    return rc;
}

/* Attach group lists from an ordered (device uid, group uid) cursor. */
static int cursor_groups(sqlite3_stmt *c, int *state, uint64_t uid, uint32_t *out, uint8_t *n)
{
    *n = 0;
    while (*state == SQLITE_ROW) {
        uint64_t du = (uint64_t)sqlite3_column_int64(c, 0);
        if (du > uid)
            break;
        if (du == uid && *n < GN_REG_MAX_GROUPS)
            out[(*n)++] = (uint32_t)sqlite3_column_int64(c, 1);
        *state = sqlite3_step(c);
    }
    return *state == SQLITE_ROW || *state == SQLITE_DONE ? 0 : -1;
}

static const gn_reg_type *type_by_uid(const gn_reg_type *v, size_t n, uint64_t uid)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && v[lo].uid == uid ? &v[lo] : NULL;
}

typedef struct org_add_ctx {
    gn_reg_snap_builder *b;
    gn_reg_err rc;
} org_add_ctx;

static void org_add(void *ctx, const gn_reg_org *o)
{
    org_add_ctx *c = ctx;
    if (c->rc == GN_REG_OK)
        c->rc = gn_reg_snap_add_org(c->b, o);
}

/* The newest change number, also when pruning emptied the table. */
static const char last_seq_sql[] =
    "SELECT coalesce((SELECT max(seq) FROM changes),"
    " (SELECT seq FROM sqlite_sequence WHERE name='changes'), 0)";

gn_reg_err gn_store_load(gn_store *st, gn_reg_snap_builder *b, uint64_t *seq)
{
    /* one read transaction: a consistent view of every table */
    gn_reg_err rc = gn_st_exec(st, "BEGIN");
    if (rc != GN_REG_OK)
        return rc;
    int64_t last = 0;
    gn_reg_type *types = NULL;           /* ordered by uid: the devices' org and type */
    size_t ntypes = 0, types_cap = 0;
    rc = gn_st_scalar(st, last_seq_sql, &last, 0, NULL, NULL, NULL);
    /* orgs */
    if (rc == GN_REG_OK) {
        org_add_ctx oc = {.b = b, .rc = GN_REG_OK};
        rc = gn_store_org_list(st, org_add, &oc);
        if (rc == GN_REG_OK)
            rc = oc.rc;
    }
    /* types */
    if (rc == GN_REG_OK) {
        sqlite3_stmt *s = gn_st_stmt(st, "SELECT t.uid, o.id, t.id, t.status, t.class, 0, " GN_ST_TYPE_TLS_COL " FROM device_types t"
                                   " JOIN orgs o ON o.uid=t.org_uid ORDER BY t.uid");
        int r = s ? SQLITE_ROW : SQLITE_ERROR;
        while (s && rc == GN_REG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            if (gn_st_grow(&types, &types_cap, ntypes, sizeof *types) != 0) {
                rc = GN_REG_ERR_NOMEM;
                break;
            }
            gn_st_type_from_row(s, &types[ntypes]);
            gn_st_type_tls_from_col(s, 6, &types[ntypes]);
            rc = gn_st_type_load_settings(st, &types[ntypes]);
            if (rc == GN_REG_OK)
                rc = gn_reg_snap_add_type(b, &types[ntypes++]);
        }
        if (s)
            sqlite3_reset(s);
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = gn_st_db_fail(st, "load device types");
    }
    /* devices, merged with their memberships (all three ordered by device uid) */
    if (rc == GN_REG_OK) {
        /* one table in rowid order; org and type come from the types above
         * (the three-way join cost ~10 % more CPU per build) */
        sqlite3_stmt *s = gn_st_stmt(st, "SELECT uid, type_uid, id, class, status, gw_role, default_group,"
                                   " registered_by, token FROM devices ORDER BY uid");
        sqlite3_stmt *m = s ? gn_st_stmt(st, "SELECT device_uid, group_uid FROM group_members ORDER BY device_uid, group_uid") : NULL;
        sqlite3_stmt *g = m ? gn_st_stmt(st, "SELECT gateway_uid, group_uid FROM group_gateways ORDER BY gateway_uid, group_uid") : NULL;
        if (!g)
            rc = GN_REG_ERR_STORE;
        int ms = m ? sqlite3_step(m) : SQLITE_ERROR, gs = g ? sqlite3_step(g) : SQLITE_ERROR;
        int r = SQLITE_DONE;
        while (rc == GN_REG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            gn_reg_device d;
            memset(&d, 0, sizeof d);
            d.uid = (uint64_t)sqlite3_column_int64(s, 0);
            const gn_reg_type *t = type_by_uid(types, ntypes, (uint64_t)sqlite3_column_int64(s, 1));
            if (!t) {
                rc = gn_st_fail(st, GN_REG_ERR_STORE, "device %llu has no device type", (unsigned long long)d.uid);
                break;
            }
            memcpy(d.org, t->org, sizeof d.org);
            d.org_len = t->org_len;
            memcpy(d.type, t->id, sizeof d.type);
            d.type_len = t->id_len;
            gn_st_device_fields(s, 2, &d);
            if (cursor_groups(m, &ms, d.uid, d.groups, &d.ngroups) ||
                cursor_groups(g, &gs, d.uid, d.gw_groups, &d.gw_ngroups)) {
                rc = gn_st_db_fail(st, "load groups");
                break;
            }
            rc = gn_reg_snap_add_device(b, &d);
        }
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = gn_st_db_fail(st, "load devices");
        if (s)
            sqlite3_reset(s);
        if (m)
            sqlite3_reset(m);
        if (g)
            sqlite3_reset(g);
    }
    /* API keys */
    if (rc == GN_REG_OK) {
        sqlite3_stmt *s = gn_st_stmt(st, KEY_SELECT);
        int r = s ? SQLITE_ROW : SQLITE_ERROR;
        while (s && rc == GN_REG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            gn_reg_apikey k;
            gn_st_apikey_from_row(s, &k);
            rc = gn_reg_snap_add_apikey(b, &k);
        }
        if (s)
            sqlite3_reset(s);
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = gn_st_db_fail(st, "load API keys");
    }
    gn_st_exec(st, "COMMIT");
    free(types);
    *seq = (uint64_t)last;
    return rc;
}

gn_reg_err gn_store_changes(gn_store *st, uint64_t seq,
                            void (*fn)(void *ctx, gn_reg_kind kind, const char *org,
                                       const char *type, const char *id),
                            void *ctx, uint64_t *last, bool *gap)
{
    /* hi: the newest change number ever given (it survives pruning); lo:
     * the oldest row still there (hi + 1 when pruning emptied the table).
     * Rows between seq and lo are gone: a gap. */
    int64_t lo = 0, hi = 0;
    gn_reg_err rc = gn_st_scalar(st, last_seq_sql, &hi, 0, NULL, NULL, NULL);
    if (rc == GN_REG_OK)
        rc = gn_st_scalar(st, "SELECT min(seq) FROM changes", &lo, 0, NULL, NULL, NULL);
    if (rc != GN_REG_OK)
        return rc;
    if (lo <= 0)
        lo = hi + 1;
    *gap = hi > (int64_t)seq && lo > (int64_t)seq + 1;
    *last = seq;
    if (*gap) {
        *last = (uint64_t)hi;
        return GN_REG_OK;
    }
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT seq, kind, org, type, id FROM changes WHERE seq > ?1 ORDER BY seq");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)seq);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        *last = (uint64_t)sqlite3_column_int64(s, 0);
        const char *k = (const char *)sqlite3_column_text(s, 1);
        fn(ctx, (gn_reg_kind)(k ? k[0] : 0), (const char *)sqlite3_column_text(s, 2),
           (const char *)sqlite3_column_text(s, 3), (const char *)sqlite3_column_text(s, 4));
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "changes");
}

gn_reg_err gn_store_load_one(gn_store *st, gn_reg_kind kind, const char *org, const char *type,
                             const char *id, void *rec, bool *found)
{
    *found = false;
    switch (kind) {
    case GN_REG_KIND_ORG: {
        sqlite3_stmt *s = gn_st_stmt(st, gn_st_org_get_sql);
        if (!s)
            return GN_REG_ERR_STORE;
        gn_st_bind_texts(s, 1, org);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            gn_st_org_from_row(s, rec);
        sqlite3_reset(s);
        if (r != SQLITE_ROW)
            return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "org");
        *found = true;
        return gn_st_org_load_settings(st, (int64_t)((gn_reg_org *)rec)->uid, rec);
    }
    case GN_REG_KIND_TYPE: {
        sqlite3_stmt *s = gn_st_stmt(st, gn_st_type_sel);
        if (!s)
            return GN_REG_ERR_STORE;
        gn_st_bind_texts(s, 2, org, type);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW) {
            gn_st_type_from_row(s, rec);
            gn_st_type_tls_from_col(s, 6, rec);
        }
        sqlite3_reset(s);
        *found = r == SQLITE_ROW;
        if (r == SQLITE_ROW)
            return gn_st_type_load_settings(st, rec);
        return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "device type");
    }
    case GN_REG_KIND_DEVICE:
        return gn_st_device_find(st, org, type, id, rec, found);
    case GN_REG_KIND_APIKEY:
        return gn_st_apikey_find(st, id, rec, found);
    }
    return gn_st_fail(st, GN_REG_ERR_INVALID, "unknown change kind");
}

gn_reg_err gn_store_prune_changes(gn_store *st, uint64_t keep)
{
    sqlite3_stmt *s = gn_st_stmt(st, "DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?1");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)keep);
    return gn_st_run(st, s, "prune changes");
}
