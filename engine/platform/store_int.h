/* engine/platform/store_int.h — what the files of the registry's SQLite
 * store share (registry_store.c: connection, schema, statement helpers;
 * store_accounts.c: orgs, device types, API keys; store_devices.c: devices,
 * gateways, resource groups; store_feed.c: the full load and the change
 * feed). Not for use outside those files. Threading: as registry_store.h
 * (one gn_store per thread at a time). */
#ifndef GN_ENGINE_PLATFORM_STORE_INT_H
#define GN_ENGINE_PLATFORM_STORE_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/platform/registry_store.h"

#define STMT_CACHE 96

struct gn_store {
    sqlite3 *db;
    uint32_t iterations;                 /* 0 = meta default */
    char msg[512];
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[STMT_CACHE];
    int ncache;
};

#define DEV_SELECT                                                                              \
    "SELECT d.uid, o.id, t.id, d.id, d.class, d.status, d.gw_role, d.default_group,"           \
    " d.registered_by, d.token FROM devices d JOIN device_types t ON t.uid=d.type_uid"         \
    " JOIN orgs o ON o.uid=d.org_uid"

#define KEY_SELECT                                                                              \
    "SELECT k.uid, k.key, o.id, k.status, k.perms, k.description, k.token FROM api_keys k"     \
    " JOIN orgs o ON o.uid=k.org_uid"

extern const char gn_st_org_get_sql[];   /* one org by id (?1) */
extern const char gn_st_type_sel[];      /* one type by org (?1) and id (?2), with its device count */

/* Errors: set st->msg; return rc (or the SQLite error mapped). */
gn_reg_err gn_st_fail(gn_store *st, gn_reg_err rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
gn_reg_err gn_st_db_fail(gn_store *st, const char *what);

/* Statements (registry_store.c): a cached prepared statement (reset,
 * bindings cleared; sql must be a string constant: cached by address),
 * binding, running, one-value queries, transactions. */
sqlite3_stmt *gn_st_stmt(gn_store *st, const char *sql);
/* Room for element n in the growable array *pv (pv: address of a typed
 * pointer) of *cap elements of elem bytes: 0, or -1 on ENOMEM (unchanged). */
int gn_st_grow(void *pv, size_t *cap, size_t n, size_t elem);
void gn_st_bind_texts(sqlite3_stmt *s, int n, ...);
gn_reg_err gn_st_run(gn_store *st, sqlite3_stmt *s, const char *what);
gn_reg_err gn_st_exec(gn_store *st, const char *sql);
gn_reg_err gn_st_scalar(gn_store *st, const char *sql, int64_t *out, int n, const char *a, const char *b, const char *c);
gn_reg_err gn_st_scalar_i(gn_store *st, const char *sql, int64_t *out, int64_t p1);
gn_reg_err gn_st_exec_ii(gn_store *st, const char *sql, int64_t p1, int64_t p2, const char *what);
gn_reg_err gn_st_exec_it(gn_store *st, const char *sql, int64_t p1, const char *p2, const char *what);
gn_reg_err gn_st_exec_itt(gn_store *st, const char *sql, int64_t p1, const char *p2, const char *p3,
                          const char *what);
void gn_st_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap, uint8_t *len);
gn_reg_err gn_st_exec_i(gn_store *st, const char *sql, int64_t p1);
gn_reg_err gn_st_txn_begin(gn_store *st, bool *own);
gn_reg_err gn_st_txn_end(gn_store *st, bool own, gn_reg_err rc);
/* Hash a given token (validated) or generate one into out_token. */
gn_reg_err gn_st_make_token(gn_store *st, const char *token, char out_token[GN_REG_TOKEN_MAX + 1], char text[GN_REG_CRED_TEXT_MAX]);

/* Orgs, types, API keys (store_accounts.c). */
gn_reg_err gn_st_org_uid(gn_store *st, const char *org, int64_t *uid);
gn_reg_err gn_st_org_query(gn_store *st, const char *org, const char *sql, sqlite3_stmt **out);
gn_reg_err gn_st_org_load_settings(gn_store *st, int64_t uid, gn_reg_org *o);
void gn_st_org_from_row(sqlite3_stmt *s, gn_reg_org *o);
gn_reg_err gn_st_check_org_id(gn_store *st, const char *org, const char *type);
gn_reg_err gn_st_type_uid(gn_store *st, const char *org, const char *type, int64_t *uid);
gn_reg_err gn_st_type_insert(gn_store *st, int64_t ouid, const gn_reg_org *o, const char *type, gn_reg_class cls, const char *description);
void gn_st_type_from_row(sqlite3_stmt *s, gn_reg_type *t);
/* The type's own TLS policy (S-035): the type_settings row tls_policy as
 * a column of a device_types query (alias t), read by gn_st_type_tls_from_col. */
#define GN_ST_TYPE_TLS_COL \
    "(SELECT value FROM type_settings ts WHERE ts.type_uid=t.uid AND ts.key='tls_policy')"
void gn_st_type_tls_from_col(sqlite3_stmt *s, int col, gn_reg_type *t);
/* store_type_settings.c: t->s from the type's rate rows. */
gn_reg_err gn_st_type_load_settings(gn_store *st, gn_reg_type *t);

/* Devices and groups (store_devices.c). */
void gn_st_device_fields(sqlite3_stmt *s, int c, gn_reg_device *d);
gn_reg_err gn_st_device_groups(gn_store *st, gn_reg_device *d);
gn_reg_err gn_st_device_find(gn_store *st, const char *org, const char *type, const char *id, gn_reg_device *out, bool *found);
gn_reg_err gn_st_member_insert(gn_store *st, const gn_reg_org *o, int64_t group, const char *gname, int64_t dev);
gn_reg_err gn_st_gateway_insert(gn_store *st, int64_t group, const char *gname, int64_t gw);
gn_reg_err gn_st_group_insert(gn_store *st, int64_t ouid, const char *org, const char *name, bool is_default, int64_t *uid);
gn_reg_err gn_st_device_uid(gn_store *st, const char *org, const char *type, const char *id, int64_t *uid);
gn_reg_err gn_st_device_delete_uid(gn_store *st, int64_t uid);

/* API key rows (store_accounts.c). */
void gn_st_apikey_from_row(sqlite3_stmt *s, gn_reg_apikey *k);
gn_reg_err gn_st_apikey_find(gn_store *st, const char *key, gn_reg_apikey *out, bool *found);

#endif
