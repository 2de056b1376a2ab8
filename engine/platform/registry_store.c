/* engine/platform/registry_store.c — the registry's SQLite store: the
 * connection, the schema, and the statement helpers the other store files
 * share (store_int.h). Every statement goes through a small cache of
 * prepared statements keyed by its SQL text's address. The writes are in
 * store_accounts.c and store_devices.c, the registry thread's reads in
 * store_feed.c. */
#include "engine/platform/registry_store.h"

#include <errno.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/store_int.h"

/* ------------------------------------------------------------- schema */

static const char schema_sql[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE orgs(uid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL DEFAULT '', status INTEGER NOT NULL DEFAULT 1,"
    " plan INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE org_settings(org_uid INTEGER NOT NULL REFERENCES orgs(uid), key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY(org_uid, key)) WITHOUT ROWID;"
    "CREATE TABLE device_types(uid INTEGER PRIMARY KEY, org_uid INTEGER NOT NULL REFERENCES orgs(uid),"
    " id TEXT NOT NULL, class TEXT NOT NULL DEFAULT 'd', status INTEGER NOT NULL DEFAULT 1,"
    " description TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " UNIQUE(org_uid, id));"
    "CREATE TABLE devices(uid INTEGER PRIMARY KEY, org_uid INTEGER NOT NULL REFERENCES orgs(uid),"
    " type_uid INTEGER NOT NULL REFERENCES device_types(uid), id TEXT NOT NULL,"
    " class TEXT NOT NULL, status INTEGER NOT NULL DEFAULT 1, gw_role INTEGER NOT NULL DEFAULT 0,"
    " default_group INTEGER NOT NULL DEFAULT 0, registered_by INTEGER NOT NULL DEFAULT 0,"
    " token TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL DEFAULT (strftime('%s','now')),"
    " UNIQUE(type_uid, id));"
    "CREATE INDEX devices_org ON devices(org_uid);"
    "CREATE INDEX devices_regby ON devices(registered_by) WHERE registered_by != 0;"
    "CREATE TABLE api_keys(uid INTEGER PRIMARY KEY, org_uid INTEGER NOT NULL REFERENCES orgs(uid),"
    " key TEXT NOT NULL UNIQUE, status INTEGER NOT NULL DEFAULT 1, perms INTEGER NOT NULL,"
    " description TEXT NOT NULL DEFAULT '', token TEXT NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')));"
    "CREATE TABLE groups(uid INTEGER PRIMARY KEY, org_uid INTEGER NOT NULL REFERENCES orgs(uid),"
    " name TEXT NOT NULL, is_default INTEGER NOT NULL DEFAULT 0, UNIQUE(org_uid, name));"
    "CREATE TABLE group_members(group_uid INTEGER NOT NULL REFERENCES groups(uid),"
    " device_uid INTEGER NOT NULL REFERENCES devices(uid), PRIMARY KEY(group_uid, device_uid)) WITHOUT ROWID;"
    "CREATE INDEX group_members_dev ON group_members(device_uid);"
    "CREATE TABLE group_gateways(group_uid INTEGER NOT NULL REFERENCES groups(uid),"
    " gateway_uid INTEGER NOT NULL REFERENCES devices(uid), PRIMARY KEY(group_uid, gateway_uid)) WITHOUT ROWID;"
    "CREATE INDEX group_gateways_gw ON group_gateways(gateway_uid);"
    "CREATE TABLE changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    " org TEXT NOT NULL, type TEXT NOT NULL DEFAULT '', id TEXT NOT NULL DEFAULT '');"
    /* change feed: every write to a table the snapshot reflects */
    "CREATE TRIGGER orgs_ci AFTER INSERT ON orgs BEGIN INSERT INTO changes(kind,org) VALUES('o',NEW.id); END;"
    "CREATE TRIGGER orgs_cu AFTER UPDATE ON orgs BEGIN INSERT INTO changes(kind,org) VALUES('o',NEW.id); END;"
    "CREATE TRIGGER orgs_cd AFTER DELETE ON orgs BEGIN INSERT INTO changes(kind,org) VALUES('o',OLD.id); END;"
    "CREATE TRIGGER orgset_ci AFTER INSERT ON org_settings BEGIN INSERT INTO changes(kind,org)"
    " SELECT 'o',id FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER orgset_cu AFTER UPDATE ON org_settings BEGIN INSERT INTO changes(kind,org)"
    " SELECT 'o',id FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER orgset_cd AFTER DELETE ON org_settings BEGIN INSERT INTO changes(kind,org)"
    " SELECT 'o',id FROM orgs WHERE uid=OLD.org_uid; END;"
    "CREATE TRIGGER types_ci AFTER INSERT ON device_types BEGIN INSERT INTO changes(kind,org,type)"
    " SELECT 't',id,NEW.id FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER types_cu AFTER UPDATE ON device_types BEGIN INSERT INTO changes(kind,org,type)"
    " SELECT 't',id,NEW.id FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER types_cd AFTER DELETE ON device_types BEGIN INSERT INTO changes(kind,org,type)"
    " SELECT 't',id,OLD.id FROM orgs WHERE uid=OLD.org_uid; END;"
    "CREATE TRIGGER devices_ci AFTER INSERT ON devices BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,NEW.id FROM orgs o, device_types t WHERE o.uid=NEW.org_uid AND t.uid=NEW.type_uid; END;"
    "CREATE TRIGGER devices_cu AFTER UPDATE ON devices BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,NEW.id FROM orgs o, device_types t WHERE o.uid=NEW.org_uid AND t.uid=NEW.type_uid; END;"
    "CREATE TRIGGER devices_cd AFTER DELETE ON devices BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,OLD.id FROM orgs o, device_types t WHERE o.uid=OLD.org_uid AND t.uid=OLD.type_uid; END;"
    "CREATE TRIGGER keys_ci AFTER INSERT ON api_keys BEGIN INSERT INTO changes(kind,org,id)"
    " SELECT 'k',id,NEW.key FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER keys_cu AFTER UPDATE ON api_keys BEGIN INSERT INTO changes(kind,org,id)"
    " SELECT 'k',id,NEW.key FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER keys_cd AFTER DELETE ON api_keys BEGIN INSERT INTO changes(kind,org,id)"
    " SELECT 'k',id,OLD.key FROM orgs WHERE uid=OLD.org_uid; END;"
    "CREATE TRIGGER members_ci AFTER INSERT ON group_members BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,d.id FROM devices d JOIN device_types t ON t.uid=d.type_uid"
    " JOIN orgs o ON o.uid=d.org_uid WHERE d.uid=NEW.device_uid; END;"
    "CREATE TRIGGER members_cd AFTER DELETE ON group_members BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,d.id FROM devices d JOIN device_types t ON t.uid=d.type_uid"
    " JOIN orgs o ON o.uid=d.org_uid WHERE d.uid=OLD.device_uid; END;"
    "CREATE TRIGGER gws_ci AFTER INSERT ON group_gateways BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,d.id FROM devices d JOIN device_types t ON t.uid=d.type_uid"
    " JOIN orgs o ON o.uid=d.org_uid WHERE d.uid=NEW.gateway_uid; END;"
    "CREATE TRIGGER gws_cd AFTER DELETE ON group_gateways BEGIN INSERT INTO changes(kind,org,type,id)"
    " SELECT 'd',o.id,t.id,d.id FROM devices d JOIN device_types t ON t.uid=d.type_uid"
    " JOIN orgs o ON o.uid=d.org_uid WHERE d.uid=OLD.gateway_uid; END;"
    /* per-org device counts for the limits, kept out of the change feed */
    "CREATE TABLE org_counts(org_uid INTEGER PRIMARY KEY, devices INTEGER NOT NULL DEFAULT 0);"
    "CREATE TRIGGER counts_di AFTER INSERT ON devices BEGIN INSERT INTO org_counts(org_uid, devices)"
    " VALUES(NEW.org_uid, 1) ON CONFLICT(org_uid) DO UPDATE SET devices=devices+1; END;"
    "CREATE TRIGGER counts_dd AFTER DELETE ON devices BEGIN UPDATE org_counts SET devices=devices-1"
    " WHERE org_uid=OLD.org_uid; END;"
    "INSERT INTO orgs(id, name) VALUES('quickstart', 'Quickstart');";

/* ---------------------------------------------------------- migrations
 * schema_sql is version 1; each step takes the database one version up
 * and is never edited once released, so a branch that adds schema appends
 * its own step (and bumps GN_STORE_SCHEMA_VERSION) without touching the
 * others. A database is brought up to date when it is opened (gannetctl or
 * gannetd), inside one IMMEDIATE transaction. */

/* 1 -> 2: per-type settings as key/value rows (a type's own TLS policy,
 * key tls_policy, S-035; the same table, triggers and IF NOT EXISTS as
 * the rate overrides' idempotent step, so either may have made it) and the
 * orgs' CA certificates (S-036), whose changes feed the org's change row. */
static const char step2_type_settings_org_cas[] =
    "CREATE TABLE IF NOT EXISTS type_settings(type_uid INTEGER NOT NULL, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY(type_uid, key)) WITHOUT ROWID;"
    "CREATE TRIGGER IF NOT EXISTS typeset_gone AFTER DELETE ON device_types BEGIN"
    " DELETE FROM type_settings WHERE type_uid=OLD.uid; END;"
    "CREATE TRIGGER IF NOT EXISTS typeset_ci AFTER INSERT ON type_settings BEGIN"
    " INSERT INTO changes(kind,org,type) SELECT 't',o.id,t.id FROM device_types t"
    " JOIN orgs o ON o.uid=t.org_uid WHERE t.uid=NEW.type_uid; END;"
    "CREATE TRIGGER IF NOT EXISTS typeset_cu AFTER UPDATE ON type_settings BEGIN"
    " INSERT INTO changes(kind,org,type) SELECT 't',o.id,t.id FROM device_types t"
    " JOIN orgs o ON o.uid=t.org_uid WHERE t.uid=NEW.type_uid; END;"
    "CREATE TABLE org_cas(uid INTEGER PRIMARY KEY AUTOINCREMENT,"
    " org_uid INTEGER NOT NULL REFERENCES orgs(uid), fingerprint TEXT NOT NULL,"
    " subject TEXT NOT NULL, not_after INTEGER NOT NULL, pem TEXT NOT NULL,"
    " created INTEGER NOT NULL DEFAULT (strftime('%s','now')), UNIQUE(org_uid, fingerprint));"
    "CREATE TRIGGER cas_ci AFTER INSERT ON org_cas BEGIN INSERT INTO changes(kind,org)"
    " SELECT 'o',id FROM orgs WHERE uid=NEW.org_uid; END;"
    "CREATE TRIGGER cas_cd AFTER DELETE ON org_cas BEGIN INSERT INTO changes(kind,org)"
    " SELECT 'o',id FROM orgs WHERE uid=OLD.org_uid; END;";

static const char *const migration_steps[GN_STORE_SCHEMA_VERSION - 1] = {
    step2_type_settings_org_cas,       /* 1 -> 2 */
};

/* Bring the database from version `from` (0: empty) to the current one. */
static gn_reg_err migrate(gn_store *st, int64_t from)
{
    gn_reg_err rc = gn_st_exec(st, "BEGIN IMMEDIATE");
    if (rc != GN_REG_OK)
        return rc;
    int64_t ver = from;                 /* another process may have migrated meanwhile */
    rc = gn_st_scalar(st, "PRAGMA user_version", &ver, 0, NULL, NULL, NULL);
    if (rc == GN_REG_OK && ver == 0)
        rc = gn_st_exec(st, schema_sql);
    for (int64_t v = ver ? ver : 1; rc == GN_REG_OK && v < GN_STORE_SCHEMA_VERSION; v++)
        rc = gn_st_exec(st, migration_steps[v - 1]);
    if (rc == GN_REG_OK && ver != GN_STORE_SCHEMA_VERSION) {
        char v[64];
        snprintf(v, sizeof v, "PRAGMA user_version=%d", GN_STORE_SCHEMA_VERSION);
        rc = gn_st_exec(st, v);
    }
    if (rc == GN_REG_OK)
        return gn_st_exec(st, "COMMIT");
    char msg[sizeof st->msg];
    memcpy(msg, st->msg, sizeof msg);
    gn_st_exec(st, "ROLLBACK");
    return gn_st_fail(st, rc, "upgrading the schema from version %lld: %s", (long long)ver, msg);
}

/* ------------------------------------------------------------ helpers */

gn_reg_err gn_st_fail(gn_store *st, gn_reg_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    return rc;
}

gn_reg_err gn_st_db_fail(gn_store *st, const char *what)
{
    int ec = sqlite3_errcode(st->db);
    gn_reg_err rc = (ec == SQLITE_BUSY || ec == SQLITE_LOCKED) ? GN_REG_ERR_BUSY : GN_REG_ERR_STORE;
    return gn_st_fail(st, rc, "%s: %s", what, sqlite3_errmsg(st->db));
}

const char *gn_store_errmsg(const gn_store *st) { return st ? st->msg : "no store"; }

/* A prepared statement for sql (a string literal: cached by address),
 * reset and with its bindings cleared. NULL on error (st->msg set). */
sqlite3_stmt *gn_st_stmt(gn_store *st, const char *sql)
{
    for (int i = 0; i < st->ncache; i++)
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].st);
            sqlite3_clear_bindings(st->cache[i].st);
            return st->cache[i].st;
        }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        gn_st_db_fail(st, "prepare");
        return NULL;
    }
    if (st->ncache < STMT_CACHE) {
        st->cache[st->ncache].sql = sql;
        st->cache[st->ncache++].st = s;
    }
    return s;
}

/* Bind text parameters 1..n from a NULL-free list (NULL binds SQL NULL). */
void gn_st_bind_texts(sqlite3_stmt *s, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    for (int i = 1; i <= n; i++) {
        const char *t = va_arg(ap, const char *);
        if (t)
            sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, i);
    }
    va_end(ap);
}

/* Run a statement expecting no rows. */
gn_reg_err gn_st_run(gn_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s);
        return GN_REG_OK;
    }
    gn_reg_err e = gn_st_db_fail(st, what);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        e = GN_REG_ERR_EXISTS;
    return e;
}

gn_reg_err gn_st_exec(gn_store *st, const char *sql)
{
    char *em = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &em) != SQLITE_OK) {
        gn_reg_err rc = gn_st_fail(st, GN_REG_ERR_STORE, "%s", em ? em : sqlite3_errmsg(st->db));
        sqlite3_free(em);
        return rc;
    }
    return GN_REG_OK;
}

/* One integer from a query (bound texts), or -1 with no row. */
gn_reg_err gn_st_scalar(gn_store *st, const char *sql, int64_t *out, int n, const char *a,
                         const char *b, const char *c)
{
    *out = -1;
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    gn_st_bind_texts(s, n, a, b, c);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return GN_REG_OK;
    }
    if (rc == SQLITE_DONE) {
        *out = -1;
        sqlite3_reset(s);
        return GN_REG_OK;
    }
    gn_reg_err e = gn_st_db_fail(st, "query");
    sqlite3_reset(s);
    return e;
}

gn_reg_err gn_st_scalar_i(gn_store *st, const char *sql, int64_t *out, int64_t p1)
{
    *out = -1;
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "query");
}

/* One statement with parameters ?1 (integer) and ?2 (integer / text). */
int gn_st_grow(void *pv, size_t *cap, size_t n, size_t elem)
{
    void **v = pv;
    if (n < *cap)
        return 0;
    size_t nc = *cap ? 2 * *cap : 16;
    void *nv = realloc(*v, nc * elem);
    if (!nv)
        return -1;
    *v = nv;
    *cap = nc;
    return 0;
}

gn_reg_err gn_st_exec_ii(gn_store *st, const char *sql, int64_t p1, int64_t p2, const char *what)
{
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    sqlite3_bind_int64(s, 2, p2);
    return gn_st_run(st, s, what);
}

gn_reg_err gn_st_exec_it(gn_store *st, const char *sql, int64_t p1, const char *p2, const char *what)
{
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    return gn_st_run(st, s, what);
}

gn_reg_err gn_st_exec_itt(gn_store *st, const char *sql, int64_t p1, const char *p2, const char *p3,
                          const char *what)
{
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, p3, -1, SQLITE_STATIC);
    return gn_st_run(st, s, what);
}

void gn_st_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap, uint8_t *len)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    size_t n = t ? strlen((const char *)t) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, t, n);
    dst[n] = '\0';
    if (len)
        *len = (uint8_t)n;
}

static gn_reg_err mkdirs(const char *path)
{
    char *dup = strdup(path);
    if (!dup)
        return GN_REG_ERR_NOMEM;
    char *dir = dirname(dup);
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0750);
            *p = '/';
        }
    int rc = mkdir(dir, 0750);
    free(dup);
    return rc == 0 || errno == EEXIST ? GN_REG_OK : GN_REG_ERR_STORE;
}

gn_reg_err gn_st_exec_i(gn_store *st, const char *sql, int64_t p1)
{
    sqlite3_stmt *s = gn_st_stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    return gn_st_run(st, s, "delete");
}

/* Run fn inside a transaction unless the caller already opened one. */
gn_reg_err gn_st_txn_begin(gn_store *st, bool *own)
{
    *own = sqlite3_get_autocommit(st->db) != 0;
    return *own ? gn_store_begin(st) : GN_REG_OK;
}

gn_reg_err gn_st_txn_end(gn_store *st, bool own, gn_reg_err rc)
{
    if (!own)
        return rc;
    if (rc == GN_REG_OK) {
        rc = gn_store_commit(st);
        if (rc == GN_REG_OK)
            return rc;
    }
    gn_store_rollback(st);
    return rc;
}


/* ---------------------------------------------------------- open/close */

gn_reg_err gn_store_open(gn_store **out, const char *path, int flags, uint32_t busy_timeout_ms,
                         char *err, size_t errlen)
{
    *out = NULL;
    gn_store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return GN_REG_ERR_NOMEM;
    }
    int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists) {
        if (!(flags & GN_STORE_CREATE)) {
            snprintf(err, errlen, "%s: no such database (gannetctl creates it with 'org create')", path);
            free(st);
            return GN_REG_ERR_NOT_FOUND;
        }
        if (mkdirs(path) != GN_REG_OK) {
            snprintf(err, errlen, "%s: cannot create its directory: %s", path, strerror(errno));
            free(st);
            return GN_REG_ERR_STORE;
        }
        oflags |= SQLITE_OPEN_CREATE;
    }
    if (sqlite3_open_v2(path, &st->db, oflags, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path, st->db ? sqlite3_errmsg(st->db) : "cannot open");
        gn_store_close(st);
        return GN_REG_ERR_STORE;
    }
    sqlite3_busy_timeout(st->db, (int)busy_timeout_ms);
    int64_t ver = 0;
    gn_reg_err rc = gn_st_exec(st, "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (rc == GN_REG_OK)
        rc = gn_st_scalar(st, "PRAGMA user_version", &ver, 0, NULL, NULL, NULL);
    if (rc == GN_REG_OK && ver == 0) {
        int64_t ntab = 0;
        rc = gn_st_scalar(st, "SELECT count(*) FROM sqlite_master", &ntab, 0, NULL, NULL, NULL);
        if (rc == GN_REG_OK && ntab > 0) {
            rc = gn_st_fail(st, GN_REG_ERR_SCHEMA, "not a gannet registry (tables but no schema version)");
        } else if (rc == GN_REG_OK) {
            rc = migrate(st, 0);
        }
    } else if (rc == GN_REG_OK && ver > 0 && ver < GN_STORE_SCHEMA_VERSION) {
        rc = migrate(st, ver);
    } else if (rc == GN_REG_OK && ver != GN_STORE_SCHEMA_VERSION) {
        rc = gn_st_fail(st, GN_REG_ERR_SCHEMA, "schema version %lld, this build knows %d", (long long)ver,
                  GN_STORE_SCHEMA_VERSION);
    }
    if (rc != GN_REG_OK) {
        snprintf(err, errlen, "%s: %s", path, st->msg);
        gn_store_close(st);
        return rc;
    }
    st->msg[0] = '\0';
    *out = st;
    return GN_REG_OK;
}

void gn_store_close(gn_store *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->ncache; i++)
        sqlite3_finalize(st->cache[i].st);
    sqlite3_close(st->db);
    free(st);
}

gn_reg_err gn_store_begin(gn_store *st) { return gn_st_exec(st, "BEGIN IMMEDIATE"); }
gn_reg_err gn_store_commit(gn_store *st) { return gn_st_exec(st, "COMMIT"); }
void gn_store_rollback(gn_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        gn_st_exec(st, "ROLLBACK");
}

void gn_store_set_iterations(gn_store *st, uint32_t iterations) { st->iterations = iterations; }

static uint32_t iterations(gn_store *st)
{
    if (st->iterations)
        return st->iterations;
    int64_t v = -1;
    if (gn_st_scalar(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='kdf_iterations'", &v, 0,
               NULL, NULL, NULL) == GN_REG_OK && v > 0 && v <= GN_REG_MAX_ITERATIONS)
        return (uint32_t)v;
    return GN_REG_DEFAULT_ITERATIONS;
}

/* Token text for storage: hash token or generate one into out_token. */
gn_reg_err gn_st_make_token(gn_store *st, const char *token, char out_token[GN_REG_TOKEN_MAX + 1],
                             char text[GN_REG_CRED_TEXT_MAX])
{
    char gen[GN_REG_TOKEN_MAX + 1];
    if (!token) {
        if (gn_reg_token_generate(gen, GN_REG_TOKEN_GEN_LEN) != 0)
            return gn_st_fail(st, GN_REG_ERR_STORE, "no random bytes for a token");
        token = gen;
        if (out_token)
            memcpy(out_token, gen, GN_REG_TOKEN_GEN_LEN + 1);
    } else {
        if (!gn_reg_token_valid(token, strlen(token)))
            return gn_st_fail(st, GN_REG_ERR_INVALID,
                        "token must be 8-36 characters of A-Z a-z 0-9 _ . ! & @ ? * + ( ) -");
        if (out_token)
            out_token[0] = '\0';
    }
    gn_reg_cred c;
    gn_reg_err rc = gn_reg_cred_make_cost(&c, (const uint8_t *)token, strlen(token), iterations(st));
    if (rc != GN_REG_OK)
        return gn_st_fail(st, rc, "cannot hash the token");
    gn_reg_cred_format(&c, text);
    return GN_REG_OK;
}

