/* engine/platform/registry_store.c — the registry's SQLite store: schema,
 * writes (gannetctl, auto-registration), the full load and the change feed
 * (see registry_store.h). Every statement goes through a small cache of
 * prepared statements keyed by its SQL text's address. */
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

/* ------------------------------------------------------------ helpers */

static gn_reg_err fail(gn_store *st, gn_reg_err rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->msg, sizeof st->msg, fmt, ap);
    va_end(ap);
    return rc;
}

static gn_reg_err db_fail(gn_store *st, const char *what)
{
    int ec = sqlite3_errcode(st->db);
    gn_reg_err rc = (ec == SQLITE_BUSY || ec == SQLITE_LOCKED) ? GN_REG_ERR_BUSY : GN_REG_ERR_STORE;
    return fail(st, rc, "%s: %s", what, sqlite3_errmsg(st->db));
}

const char *gn_store_errmsg(const gn_store *st) { return st ? st->msg : "no store"; }

/* A prepared statement for sql (a string literal: cached by address),
 * reset and with its bindings cleared. NULL on error (st->msg set). */
static sqlite3_stmt *stmt(gn_store *st, const char *sql)
{
    for (int i = 0; i < st->ncache; i++)
        if (st->cache[i].sql == sql) {
            sqlite3_reset(st->cache[i].st);
            sqlite3_clear_bindings(st->cache[i].st);
            return st->cache[i].st;
        }
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
        db_fail(st, "prepare");
        return NULL;
    }
    if (st->ncache < STMT_CACHE) {
        st->cache[st->ncache].sql = sql;
        st->cache[st->ncache++].st = s;
    }
    return s;
}

/* Bind text parameters 1..n from a NULL-free list (NULL binds SQL NULL). */
static void bind_texts(sqlite3_stmt *s, int n, ...)
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
static gn_reg_err run(gn_store *st, sqlite3_stmt *s, const char *what)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s);
        return GN_REG_OK;
    }
    gn_reg_err e = db_fail(st, what);
    sqlite3_reset(s);
    if (rc == SQLITE_CONSTRAINT)
        e = GN_REG_ERR_EXISTS;
    return e;
}

static gn_reg_err exec(gn_store *st, const char *sql)
{
    char *em = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &em) != SQLITE_OK) {
        gn_reg_err rc = fail(st, GN_REG_ERR_STORE, "%s", em ? em : sqlite3_errmsg(st->db));
        sqlite3_free(em);
        return rc;
    }
    return GN_REG_OK;
}

/* One integer from a query (bound texts), or -1 with no row. */
static gn_reg_err scalar(gn_store *st, const char *sql, int64_t *out, int n, const char *a,
                         const char *b, const char *c)
{
    *out = -1;
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, n, a, b, c);
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
    gn_reg_err e = db_fail(st, "query");
    sqlite3_reset(s);
    return e;
}

static gn_reg_err scalar_i(gn_store *st, const char *sql, int64_t *out, int64_t p1)
{
    *out = -1;
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_reset(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? GN_REG_OK : db_fail(st, "query");
}

/* One statement with parameters ?1 (integer) and ?2 (integer / text). */
static gn_reg_err exec_ii(gn_store *st, const char *sql, int64_t p1, int64_t p2, const char *what)
{
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    sqlite3_bind_int64(s, 2, p2);
    return run(st, s, what);
}

static gn_reg_err exec_it(gn_store *st, const char *sql, int64_t p1, const char *p2, const char *what)
{
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    sqlite3_bind_text(s, 2, p2, -1, SQLITE_STATIC);
    return run(st, s, what);
}

static void col_text(sqlite3_stmt *s, int i, char *dst, size_t cap, uint8_t *len)
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
    gn_reg_err rc = exec(st, "PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    if (rc == GN_REG_OK)
        rc = scalar(st, "PRAGMA user_version", &ver, 0, NULL, NULL, NULL);
    if (rc == GN_REG_OK && ver == 0) {
        int64_t ntab = 0;
        rc = scalar(st, "SELECT count(*) FROM sqlite_master", &ntab, 0, NULL, NULL, NULL);
        if (rc == GN_REG_OK && ntab > 0) {
            rc = fail(st, GN_REG_ERR_SCHEMA, "not a gannet registry (tables but no schema version)");
        } else if (rc == GN_REG_OK) {
            rc = exec(st, "BEGIN IMMEDIATE");
            if (rc == GN_REG_OK) {
                rc = exec(st, schema_sql);
                char v[64];
                snprintf(v, sizeof v, "PRAGMA user_version=%d", GN_STORE_SCHEMA_VERSION);
                if (rc == GN_REG_OK)
                    rc = exec(st, v);
                if (rc == GN_REG_OK)
                    rc = exec(st, "COMMIT");
                else
                    exec(st, "ROLLBACK");
            }
        }
    } else if (rc == GN_REG_OK && ver != GN_STORE_SCHEMA_VERSION) {
        rc = fail(st, GN_REG_ERR_SCHEMA, "schema version %lld, this build knows %d", (long long)ver,
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

gn_reg_err gn_store_begin(gn_store *st) { return exec(st, "BEGIN IMMEDIATE"); }
gn_reg_err gn_store_commit(gn_store *st) { return exec(st, "COMMIT"); }
void gn_store_rollback(gn_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        exec(st, "ROLLBACK");
}

void gn_store_set_iterations(gn_store *st, uint32_t iterations) { st->iterations = iterations; }

static uint32_t iterations(gn_store *st)
{
    if (st->iterations)
        return st->iterations;
    int64_t v = -1;
    if (scalar(st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key='kdf_iterations'", &v, 0,
               NULL, NULL, NULL) == GN_REG_OK && v > 0 && v <= GN_REG_MAX_ITERATIONS)
        return (uint32_t)v;
    return GN_REG_DEFAULT_ITERATIONS;
}

/* Token text for storage: hash token or generate one into out_token. */
static gn_reg_err make_token(gn_store *st, const char *token, char out_token[GN_REG_TOKEN_MAX + 1],
                             char text[GN_REG_CRED_TEXT_MAX])
{
    char gen[GN_REG_TOKEN_MAX + 1];
    if (!token) {
        if (gn_reg_token_generate(gen, GN_REG_TOKEN_GEN_LEN) != 0)
            return fail(st, GN_REG_ERR_STORE, "no random bytes for a token");
        token = gen;
        if (out_token)
            memcpy(out_token, gen, GN_REG_TOKEN_GEN_LEN + 1);
    } else {
        if (!gn_reg_token_valid(token, strlen(token)))
            return fail(st, GN_REG_ERR_INVALID,
                        "token must be 8-36 characters of A-Z a-z 0-9 _ . ! & @ ? * + ( ) -");
        if (out_token)
            out_token[0] = '\0';
    }
    gn_reg_cred c;
    gn_reg_err rc = gn_reg_cred_make_cost(&c, (const uint8_t *)token, strlen(token), iterations(st));
    if (rc != GN_REG_OK)
        return fail(st, rc, "cannot hash the token");
    gn_reg_cred_format(&c, text);
    return GN_REG_OK;
}

/* ----------------------------------------------------------------- orgs */

static gn_reg_err org_uid(gn_store *st, const char *org, int64_t *uid)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    gn_reg_err rc = scalar(st, "SELECT uid FROM orgs WHERE id=?1", uid, 1, org, NULL, NULL);
    if (rc == GN_REG_OK && *uid < 0)
        return fail(st, GN_REG_ERR_NOT_FOUND, "org '%s' not found", org);
    return rc;
}

/* A statement over one org's rows: the org must exist; ?1 is its id. */
static gn_reg_err org_query(gn_store *st, const char *org, const char *sql, sqlite3_stmt **out)
{
    int64_t ou;
    gn_reg_err rc = org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (!(*out = stmt(st, sql)))
        return GN_REG_ERR_STORE;
    bind_texts(*out, 1, org);
    return GN_REG_OK;
}

static gn_reg_err org_load_settings(gn_store *st, int64_t uid, gn_reg_org *o)
{
    if (o->quickstart)
        gn_reg_org_settings_quickstart(&o->s);
    else
        gn_reg_org_settings_default(&o->s, (gn_reg_plan)o->s.plan);
    sqlite3_stmt *s = stmt(st, "SELECT key, value FROM org_settings WHERE org_uid=?1");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, uid);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        gn_reg_settings_set(&o->s, (const char *)sqlite3_column_text(s, 0),
                            (const char *)sqlite3_column_text(s, 1));     /* unknown keys ignored */
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? GN_REG_OK : db_fail(st, "org settings");
}

static void org_from_row(sqlite3_stmt *s, gn_reg_org *o)
{
    memset(o, 0, sizeof *o);
    o->uid = (uint64_t)sqlite3_column_int64(s, 0);
    col_text(s, 1, o->id, sizeof o->id, &o->id_len);
    col_text(s, 2, o->name, sizeof o->name, NULL);
    o->status = (uint8_t)sqlite3_column_int(s, 3);
    o->s.plan = (uint8_t)sqlite3_column_int(s, 4);
    o->quickstart = o->id_len == 10 && !memcmp(o->id, GN_REG_QUICKSTART, 10);
}

static const char org_get_sql[] = "SELECT uid, id, name, status, plan FROM orgs WHERE id=?1";

gn_reg_err gn_store_org_get(gn_store *st, const char *org, gn_reg_org *out)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    sqlite3_stmt *s = stmt(st, org_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, 1, org);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(s);
        return rc == SQLITE_DONE ? fail(st, GN_REG_ERR_NOT_FOUND, "org '%s' not found", org)
                                 : db_fail(st, "org");
    }
    org_from_row(s, out);
    sqlite3_reset(s);
    return org_load_settings(st, (int64_t)out->uid, out);
}

gn_reg_err gn_store_org_create(gn_store *st, const char *id, const char *name, gn_reg_plan plan,
                               char out_id[GN_REG_ORG_MAX + 1])
{
    char gen[GN_REG_ORG_LEN + 1];
    for (int attempt = 0; !id && attempt < 16; attempt++) {
        static const char a[] = "abcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t r[GN_REG_ORG_LEN];
        if (gn_reg_random(r, sizeof r) != 0)
            return fail(st, GN_REG_ERR_STORE, "no random bytes");
        for (int i = 0; i < GN_REG_ORG_LEN; i++)
            gen[i] = a[r[i] % 36];
        gen[GN_REG_ORG_LEN] = '\0';
        int64_t uid;
        if (scalar(st, "SELECT uid FROM orgs WHERE id=?1", &uid, 1, gen, NULL, NULL) == GN_REG_OK && uid < 0)
            id = gen;
    }
    if (!id)
        return fail(st, GN_REG_ERR_STORE, "could not pick a free org id");
    if (!gn_reg_valid_org(id, strlen(id)) || !strcmp(id, GN_REG_QUICKSTART))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", id);
    if (name && strlen(name) >= sizeof(((gn_reg_org *)0)->name))
        return fail(st, GN_REG_ERR_INVALID, "org name longer than 63 bytes");
    sqlite3_stmt *s = stmt(st, "INSERT INTO orgs(id, name, plan) VALUES(?1, ?2, ?3)");
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, 2, id, name ? name : "");
    sqlite3_bind_int(s, 3, (int)plan);
    gn_reg_err rc = run(st, s, "create org");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "org '%s' already exists", id);
    if (rc == GN_REG_OK && out_id)
        snprintf(out_id, GN_REG_ORG_MAX + 1, "%s", id);
    return rc;
}

gn_reg_err gn_store_org_list(gn_store *st, void (*fn)(void *ctx, const gn_reg_org *o), void *ctx)
{
    static const char sql[] = "SELECT uid, id, name, status, plan FROM orgs ORDER BY id";
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    /* collect first: org_load_settings uses another statement */
    gn_reg_org *v = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            gn_reg_org *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                sqlite3_reset(s);
                return fail(st, GN_REG_ERR_NOMEM, "out of memory");
            }
            v = nv;
        }
        org_from_row(s, &v[n++]);
    }
    sqlite3_reset(s);
    gn_reg_err e = rc == SQLITE_DONE ? GN_REG_OK : db_fail(st, "list orgs");
    for (size_t i = 0; e == GN_REG_OK && i < n; i++) {
        e = org_load_settings(st, (int64_t)v[i].uid, &v[i]);
        if (e == GN_REG_OK)
            fn(ctx, &v[i]);
    }
    free(v);
    return e;
}

gn_reg_err gn_store_org_set_status(gn_store *st, const char *org, gn_reg_status status)
{
    int64_t uid;
    gn_reg_err rc = org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return exec_ii(st, "UPDATE orgs SET status=?2 WHERE uid=?1", uid, (int64_t)status, "org status");
}

gn_reg_err gn_store_org_set(gn_store *st, const char *org, const char *name, const char *value)
{
    int64_t uid;
    gn_reg_err rc = org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    gn_reg_org_settings probe;
    gn_reg_org_settings_default(&probe, GN_REG_PLAN_STANDARD);
    if (gn_reg_settings_set(&probe, name, value) != GN_REG_OK)
        return fail(st, GN_REG_ERR_INVALID, "setting '%s': unknown name or bad value '%s'", name, value);
    sqlite3_stmt *s = stmt(st, "INSERT INTO org_settings(org_uid, key, value) VALUES(?1, ?2, ?3)"
                               " ON CONFLICT(org_uid, key) DO UPDATE SET value=excluded.value");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, uid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, value, -1, SQLITE_STATIC);
    return run(st, s, "org setting");
}

static gn_reg_err exec_i(gn_store *st, const char *sql, int64_t p1)
{
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, p1);
    return run(st, s, "delete");
}

gn_reg_err gn_store_org_remove(gn_store *st, const char *org)
{
    int64_t uid;
    gn_reg_err rc = org_uid(st, org, &uid);
    if (rc != GN_REG_OK)
        return rc;
    if (!strcmp(org, GN_REG_QUICKSTART))
        return fail(st, GN_REG_ERR_STATE, "the quickstart org cannot be removed (disable it instead)");
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
        "DELETE FROM orgs WHERE uid=?1",
    };
    for (size_t i = 0; rc == GN_REG_OK && i < sizeof del / sizeof del[0]; i++)
        rc = exec_i(st, del[i], uid);
    if (own) {
        if (rc == GN_REG_OK)
            rc = gn_store_commit(st);
        if (rc != GN_REG_OK)
            gn_store_rollback(st);
    }
    return rc;
}

/* Run fn inside a transaction unless the caller already opened one. */
static gn_reg_err txn_begin(gn_store *st, bool *own)
{
    *own = sqlite3_get_autocommit(st->db) != 0;
    return *own ? gn_store_begin(st) : GN_REG_OK;
}

static gn_reg_err txn_end(gn_store *st, bool own, gn_reg_err rc)
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

/* ---------------------------------------------------------------- types */

static gn_reg_err check_org_id(gn_store *st, const char *org, const char *type)
{
    if (!gn_reg_valid_org(org, strlen(org)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not an org id (6 characters of a-z 0-9)", org);
    if (type && !gn_reg_valid_id(type, strlen(type)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not a valid id (1-36 of A-Z a-z 0-9 _ . -)", type);
    return GN_REG_OK;
}

static gn_reg_err type_uid(gn_store *st, const char *org, const char *type, int64_t *uid)
{
    gn_reg_err rc = check_org_id(st, org, type);
    if (rc == GN_REG_OK)
        rc = scalar(st, "SELECT t.uid FROM device_types t JOIN orgs o ON o.uid=t.org_uid"
                        " WHERE o.id=?1 AND t.id=?2", uid, 2, org, type, NULL);
    if (rc == GN_REG_OK && *uid < 0) {
        int64_t ou;
        rc = org_uid(st, org, &ou);
        if (rc == GN_REG_OK)
            rc = fail(st, GN_REG_ERR_NOT_FOUND, "device type '%s' not found in org '%s'", type, org);
    }
    return rc;
}

static gn_reg_err type_insert(gn_store *st, int64_t ouid, const gn_reg_org *o, const char *type,
                              gn_reg_class cls, const char *description)
{
    int64_t n = 0;
    gn_reg_err rc = scalar_i(st, "SELECT count(*) FROM device_types WHERE org_uid=?1", &n, ouid);
    if (rc != GN_REG_OK)
        return rc;
    if (o->s.max_device_types && n >= o->s.max_device_types)
        return fail(st, GN_REG_ERR_LIMIT, "org '%s' has its maximum of %u device types", o->id,
                    o->s.max_device_types);
    sqlite3_stmt *s = stmt(st, "INSERT INTO device_types(org_uid, id, class, description) VALUES(?1,?2,?3,?4)");
    if (!s)
        return GN_REG_ERR_STORE;
    char c[2] = {(char)cls, 0};
    sqlite3_bind_int64(s, 1, ouid);
    sqlite3_bind_text(s, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, c, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
    rc = run(st, s, "add device type");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "device type '%s' already exists in org '%s'", type, o->id);
    return rc;
}

gn_reg_err gn_store_type_add(gn_store *st, const char *org, const char *type, gn_reg_class cls,
                             const char *description)
{
    gn_reg_org o;
    gn_reg_err rc = check_org_id(st, org, type);
    if (rc == GN_REG_OK)
        rc = gn_store_org_get(st, org, &o);
    if (rc != GN_REG_OK)
        return rc;
    if (description && strlen(description) > 255)
        return fail(st, GN_REG_ERR_INVALID, "description longer than 255 bytes");
    return type_insert(st, (int64_t)o.uid, &o, type, cls, description);
}

static const char type_sel[] =
    "SELECT t.uid, o.id, t.id, t.status, t.class, (SELECT count(*) FROM devices d WHERE d.type_uid=t.uid)"
    " FROM device_types t JOIN orgs o ON o.uid=t.org_uid WHERE o.id=?1 AND t.id=?2";
static const char type_list_sql[] =
    "SELECT t.uid, o.id, t.id, t.status, t.class, (SELECT count(*) FROM devices d WHERE d.type_uid=t.uid)"
    " FROM device_types t JOIN orgs o ON o.uid=t.org_uid WHERE o.id=?1 ORDER BY t.id";

static void type_from_row(sqlite3_stmt *s, gn_reg_type *t)
{
    memset(t, 0, sizeof *t);
    t->uid = (uint64_t)sqlite3_column_int64(s, 0);
    col_text(s, 1, t->org, sizeof t->org, &t->org_len);
    col_text(s, 2, t->id, sizeof t->id, &t->id_len);
    t->status = (uint8_t)sqlite3_column_int(s, 3);
    const unsigned char *c = sqlite3_column_text(s, 4);
    t->cls = c && c[0] == 'g' ? GN_REG_GATEWAY : GN_REG_DEVICE;
}

gn_reg_err gn_store_type_get(gn_store *st, const char *org, const char *type, gn_reg_type *out,
                             uint64_t *ndevices)
{
    int64_t uid;
    gn_reg_err rc = type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = stmt(st, type_sel);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, 2, org, type);
    if (sqlite3_step(s) != SQLITE_ROW) {
        sqlite3_reset(s);
        return db_fail(st, "device type");
    }
    type_from_row(s, out);
    if (ndevices)
        *ndevices = (uint64_t)sqlite3_column_int64(s, 5);
    sqlite3_reset(s);
    return GN_REG_OK;
}

gn_reg_err gn_store_type_list(gn_store *st, const char *org,
                              void (*fn)(void *ctx, const gn_reg_type *t, uint64_t ndevices), void *ctx)
{
    sqlite3_stmt *s;
    gn_reg_err rc = org_query(st, org, type_list_sql, &s);
    if (rc != GN_REG_OK)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_type t;
        type_from_row(s, &t);
        fn(ctx, &t, (uint64_t)sqlite3_column_int64(s, 5));
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "list device types");
}

gn_reg_err gn_store_type_set_status(gn_store *st, const char *org, const char *type, gn_reg_status status)
{
    int64_t uid;
    gn_reg_err rc = type_uid(st, org, type, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return exec_ii(st, "UPDATE device_types SET status=?2 WHERE uid=?1", uid, (int64_t)status, "device type status");
}

static gn_reg_err device_delete_uid(gn_store *st, int64_t uid);

gn_reg_err gn_store_type_remove(gn_store *st, const char *org, const char *type, bool force)
{
    int64_t uid, n = 0;
    gn_reg_err rc = type_uid(st, org, type, &uid);
    if (rc == GN_REG_OK)
        rc = scalar_i(st, "SELECT count(*) FROM devices WHERE type_uid=?1", &n, uid);
    if (rc != GN_REG_OK)
        return rc;
    if (n > 0 && !force)
        return fail(st, GN_REG_ERR_STATE, "device type '%s' still has %lld devices (remove them or use --force)",
                    type, (long long)n);
    bool own;
    if ((rc = txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    while (rc == GN_REG_OK) {
        int64_t d;
        rc = scalar_i(st, "SELECT uid FROM devices WHERE type_uid=?1 LIMIT 1", &d, uid);
        if (rc != GN_REG_OK || d < 0)
            break;
        rc = device_delete_uid(st, d);
    }
    if (rc == GN_REG_OK)
        rc = exec_i(st, "DELETE FROM device_types WHERE uid=?1", uid);
    return txn_end(st, own, rc);
}

/* -------------------------------------------------------------- devices */

#define DEV_SELECT                                                                              \
    "SELECT d.uid, o.id, t.id, d.id, d.class, d.status, d.gw_role, d.default_group,"           \
    " d.registered_by, d.token FROM devices d JOIN device_types t ON t.uid=d.type_uid"         \
    " JOIN orgs o ON o.uid=d.org_uid"

/* The device's own columns from column `c` on: id, class, status,
 * gw_role, default_group, registered_by, token. */
static void device_fields(sqlite3_stmt *s, int c, gn_reg_device *d)
{
    col_text(s, c, d->id, sizeof d->id, &d->id_len);
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
    col_text(s, 1, d->org, sizeof d->org, &d->org_len);
    col_text(s, 2, d->type, sizeof d->type, &d->type_len);
    device_fields(s, 3, d);
}

static gn_reg_err device_groups(gn_store *st, gn_reg_device *d)
{
    static const char m_sql[] = "SELECT group_uid FROM group_members WHERE device_uid=?1 ORDER BY group_uid LIMIT 10";
    static const char g_sql[] = "SELECT group_uid FROM group_gateways WHERE gateway_uid=?1 ORDER BY group_uid LIMIT 10";
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_stmt *s = stmt(st, pass ? g_sql : m_sql);
        if (!s)
            return GN_REG_ERR_STORE;
        sqlite3_bind_int64(s, 1, (int64_t)d->uid);
        uint8_t n = 0;
        int rc;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW && n < GN_REG_MAX_GROUPS)
            (pass ? d->gw_groups : d->groups)[n++] = (uint32_t)sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
            return db_fail(st, "device groups");
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

static gn_reg_err device_find(gn_store *st, const char *org, const char *type, const char *id,
                              gn_reg_device *out, bool *found)
{
    sqlite3_stmt *s = stmt(st, dev_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, 3, org, type, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        device_from_row(s, out);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(st, "device");
    *found = rc == SQLITE_ROW;
    return *found ? device_groups(st, out) : GN_REG_OK;
}

static gn_reg_err check_dev_key(gn_store *st, const char *org, const char *type, const char *id)
{
    gn_reg_err rc = check_org_id(st, org, type);
    if (rc == GN_REG_OK && !gn_reg_valid_id(id, strlen(id)))
        rc = fail(st, GN_REG_ERR_INVALID, "'%s' is not a valid device id (1-36 of A-Z a-z 0-9 _ . -)", id);
    return rc;
}

gn_reg_err gn_store_device_get(gn_store *st, const char *org, const char *type, const char *id,
                               gn_reg_device *out)
{
    bool found = false;
    gn_reg_err rc = check_dev_key(st, org, type, id);
    if (rc == GN_REG_OK)
        rc = device_find(st, org, type, id, out, &found);
    if (rc == GN_REG_OK && !found) {
        int64_t tu;
        rc = type_uid(st, org, type, &tu);
        if (rc == GN_REG_OK)
            rc = fail(st, GN_REG_ERR_NOT_FOUND, "device '%s' of type '%s' not found in org '%s'", id,
                      type, org);
    }
    return rc;
}

static gn_reg_err member_insert(gn_store *st, const gn_reg_org *o, int64_t group, const char *gname,
                                int64_t dev)
{
    int64_t n = 0, m = 0;
    gn_reg_err rc = scalar_i(st, "SELECT count(*) FROM group_members WHERE group_uid=?1", &n, group);
    if (rc == GN_REG_OK)
        rc = scalar_i(st, "SELECT count(*) FROM group_members WHERE device_uid=?1", &m, dev);
    if (rc != GN_REG_OK)
        return rc;
    if (o->s.max_group_devices && n >= o->s.max_group_devices)
        return fail(st, GN_REG_ERR_LIMIT, "group '%s' has its maximum of %u devices", gname,
                    o->s.max_group_devices);
    if (m >= GN_REG_MAX_GROUPS)
        return fail(st, GN_REG_ERR_LIMIT, "the device is already in %d groups", GN_REG_MAX_GROUPS);
    rc = exec_ii(st, "INSERT INTO group_members(group_uid, device_uid) VALUES(?1, ?2)", group, (int64_t)dev, "group member");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "the device is already a member of group '%s'", gname);
    return rc;
}

static gn_reg_err gateway_insert(gn_store *st, int64_t group, const char *gname, int64_t gw)
{
    int64_t m = 0;
    gn_reg_err rc = scalar_i(st, "SELECT count(*) FROM group_gateways WHERE gateway_uid=?1", &m, gw);
    if (rc != GN_REG_OK)
        return rc;
    if (m >= GN_REG_MAX_GROUPS)
        return fail(st, GN_REG_ERR_LIMIT, "the gateway is already attached to %d groups", GN_REG_MAX_GROUPS);
    rc = exec_ii(st, "INSERT INTO group_gateways(group_uid, gateway_uid) VALUES(?1, ?2)", group, (int64_t)gw, "group gateway");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "the gateway is already attached to group '%s'", gname);
    return rc;
}

static gn_reg_err group_insert(gn_store *st, int64_t ouid, const char *org, const char *name,
                               bool is_default, int64_t *uid)
{
    sqlite3_stmt *s = stmt(st, "INSERT INTO groups(org_uid, name, is_default) VALUES(?1, ?2, ?3)");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, ouid);
    sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, is_default);
    gn_reg_err rc = run(st, s, "create group");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "group '%s' already exists in org '%s'", name, org);
    if (rc == GN_REG_OK)
        *uid = sqlite3_last_insert_rowid(st->db);
    if (*uid > UINT32_MAX)
        return fail(st, GN_REG_ERR_LIMIT, "group ids exhausted");
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
        return fail(st, GN_REG_ERR_STATE, "quickstart devices need no registration (S-110)");
    int64_t tu = -1;
    rc = scalar(st, "SELECT t.uid FROM device_types t WHERE t.org_uid=(SELECT uid FROM orgs WHERE id=?1)"
                    " AND t.id=?2", &tu, 2, sp->org, sp->type, NULL);
    if (rc != GN_REG_OK)
        return rc;
    if (tu < 0) {
        if (!sp->create_type)
            return fail(st, GN_REG_ERR_NOT_FOUND, "device type '%s' not found in org '%s'", sp->type, sp->org);
        if ((rc = type_insert(st, (int64_t)o.uid, &o, sp->type, sp->cls, "")) != GN_REG_OK)
            return rc;
        tu = sqlite3_last_insert_rowid(st->db);
    }
    int64_t n = 0;
    rc = scalar_i(st, "SELECT devices FROM org_counts WHERE org_uid=?1", &n, (int64_t)o.uid);
    if (rc != GN_REG_OK)
        return rc;
    if (o.s.max_devices && n >= o.s.max_devices)
        return fail(st, GN_REG_ERR_LIMIT, "org '%s' has its maximum of %u devices", o.id, o.s.max_devices);
    if (sp->registered_by) {
        rc = scalar_i(st, "SELECT count(*) FROM devices WHERE registered_by=?1", &n, (int64_t)sp->registered_by);
        if (rc != GN_REG_OK)
            return rc;
        if (o.s.gw_max_devices && n >= o.s.gw_max_devices)
            return fail(st, GN_REG_ERR_LIMIT, "the gateway registered its maximum of %u devices",
                        o.s.gw_max_devices);
    }
    char tok[GN_REG_CRED_TEXT_MAX] = "";
    if (out_token)
        out_token[0] = '\0';
    if (!sp->no_token && (rc = make_token(st, sp->token, out_token, tok)) != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = stmt(st, "INSERT INTO devices(org_uid, type_uid, id, class, gw_role, registered_by, token)"
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
    rc = run(st, s, "add device");
    if (rc == GN_REG_ERR_EXISTS)
        return fail(st, rc, "%s '%s' of type '%s' already exists in org '%s'",
                    sp->cls == GN_REG_GATEWAY ? "gateway" : "device", sp->id, sp->type, sp->org);
    if (rc != GN_REG_OK)
        return rc;
    int64_t uid = sqlite3_last_insert_rowid(st->db);
    if (sp->cls == GN_REG_GATEWAY && !sp->no_group) {
        char gname[GN_REG_GROUP_NAME_MAX + 1];
        snprintf(gname, sizeof gname, "gw:%s:%s", sp->type, sp->id);
        int64_t g = 0;
        rc = group_insert(st, (int64_t)o.uid, sp->org, gname, true, &g);
        if (rc == GN_REG_OK)
            rc = gateway_insert(st, g, gname, uid);
        if (rc == GN_REG_OK) {
            sqlite3_stmt *u = stmt(st, "UPDATE devices SET default_group=?2 WHERE uid=?1");
            if (!u)
                return GN_REG_ERR_STORE;
            sqlite3_bind_int64(u, 1, uid);
            sqlite3_bind_int64(u, 2, g);
            rc = run(st, u, "default group");
        }
        if (rc != GN_REG_OK)
            return rc;
    }
    if (sp->into_group && (rc = member_insert(st, &o, sp->into_group, "default", uid)) != GN_REG_OK)
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
        return fail(st, GN_REG_ERR_INVALID, "class must be device or gateway");
    bool own;
    if ((rc = txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    return txn_end(st, own, device_add_txn(st, sp, out_token, out_uid));
}

static const char dev_list_all[] = DEV_SELECT " WHERE o.id=?1 ORDER BY t.id, d.id";
static const char dev_list_type[] = DEV_SELECT " WHERE o.id=?1 AND t.id=?2 ORDER BY d.id";

gn_reg_err gn_store_device_list(gn_store *st, const char *org, const char *type, int cls,
                                void (*fn)(void *ctx, const gn_reg_device *d), void *ctx)
{
    int64_t u;
    gn_reg_err rc = type ? type_uid(st, org, type, &u) : org_uid(st, org, &u);
    if (rc != GN_REG_OK)
        return rc;
    /* a second connection-free pass for groups needs the rows first */
    sqlite3_stmt *s = stmt(st, type ? dev_list_type : dev_list_all);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, type ? 2 : 1, org, type);
    gn_reg_device *v = NULL;
    size_t n = 0, cap = 0;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_device d;
        device_from_row(s, &d);
        if (cls && d.cls != cls)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            gn_reg_device *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                sqlite3_reset(s);
                return fail(st, GN_REG_ERR_NOMEM, "out of memory");
            }
            v = nv;
        }
        v[n++] = d;
    }
    sqlite3_reset(s);
    rc = r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "list devices");
    for (size_t i = 0; rc == GN_REG_OK && i < n; i++)
        if ((rc = device_groups(st, &v[i])) == GN_REG_OK)
            fn(ctx, &v[i]);
    free(v);
    return rc;
}

static gn_reg_err device_uid(gn_store *st, const char *org, const char *type, const char *id,
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
    gn_reg_err rc = device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    return exec_ii(st, "UPDATE devices SET status=?2 WHERE uid=?1", uid, (int64_t)status, "device status");
}

static gn_reg_err device_delete_uid(gn_store *st, int64_t uid)
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
        rc = exec_i(st, del[i], uid);
    return rc;
}

gn_reg_err gn_store_device_remove(gn_store *st, const char *org, const char *type, const char *id)
{
    int64_t uid;
    gn_reg_err rc = device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    bool own;
    if ((rc = txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    return txn_end(st, own, device_delete_uid(st, uid));
}

gn_reg_err gn_store_device_rotate(gn_store *st, const char *org, const char *type, const char *id,
                                  const char *token, char out_token[GN_REG_TOKEN_MAX + 1])
{
    int64_t uid;
    gn_reg_err rc = device_uid(st, org, type, id, &uid);
    if (rc != GN_REG_OK)
        return rc;
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    return exec_it(st, "UPDATE devices SET token=?2 WHERE uid=?1", uid, tok, "rotate token");
}

gn_reg_err gn_store_gateway_set_role(gn_store *st, const char *org, const char *type,
                                     const char *id, gn_reg_gw_role role)
{
    gn_reg_device d;
    gn_reg_err rc = gn_store_device_get(st, org, type, id, &d);
    if (rc != GN_REG_OK)
        return rc;
    if (d.cls != GN_REG_GATEWAY)
        return fail(st, GN_REG_ERR_INVALID, "'%s' is a device, not a gateway", id);
    return exec_ii(st, "UPDATE devices SET gw_role=?2 WHERE uid=?1", (int64_t)d.uid, (int64_t)role, "gateway role");
}

/* ------------------------------------------------------------- API keys */

#define KEY_SELECT                                                                              \
    "SELECT k.uid, k.key, o.id, k.status, k.perms, k.description, k.token FROM api_keys k"     \
    " JOIN orgs o ON o.uid=k.org_uid"

static void apikey_from_row(sqlite3_stmt *s, gn_reg_apikey *k)
{
    memset(k, 0, sizeof *k);
    k->uid = (uint64_t)sqlite3_column_int64(s, 0);
    col_text(s, 1, k->key, sizeof k->key, &k->key_len);
    col_text(s, 2, k->org, sizeof k->org, &k->org_len);
    k->status = (uint8_t)sqlite3_column_int(s, 3);
    k->perms = (uint32_t)sqlite3_column_int64(s, 4);
    col_text(s, 5, k->description, sizeof k->description, NULL);
    const char *tok = (const char *)sqlite3_column_text(s, 6);
    if (!tok || gn_reg_cred_parse(tok, &k->cred) != GN_REG_OK)
        memset(&k->cred, 0, sizeof k->cred);
}

static const char key_get_sql[] = KEY_SELECT " WHERE k.key=?1";

static gn_reg_err apikey_find(gn_store *st, const char *key, gn_reg_apikey *out, bool *found)
{
    sqlite3_stmt *s = stmt(st, key_get_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    bind_texts(s, 1, key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        apikey_from_row(s, out);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return db_fail(st, "api key");
    *found = rc == SQLITE_ROW;
    return GN_REG_OK;
}

gn_reg_err gn_store_apikey_get(gn_store *st, const char *key, gn_reg_apikey *out)
{
    if (!gn_reg_valid_apikey(key, strlen(key)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not an API key (a-{org}-{10 characters})", key);
    bool found = false;
    gn_reg_err rc = apikey_find(st, key, out, &found);
    if (rc == GN_REG_OK && !found)
        rc = fail(st, GN_REG_ERR_NOT_FOUND, "API key '%s' not found", key);
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
        return fail(st, GN_REG_ERR_STATE, "quickstart has no API keys (S-110)");
    if (description && strlen(description) >= sizeof(((gn_reg_apikey *)0)->description))
        return fail(st, GN_REG_ERR_INVALID, "description longer than 63 bytes");
    if (perms & ~(uint32_t)GN_REG_PERM_ALL)
        return fail(st, GN_REG_ERR_INVALID, "unknown permission bits");
    int64_t n = 0;
    if ((rc = scalar_i(st, "SELECT count(*) FROM api_keys WHERE org_uid=?1", &n, (int64_t)o.uid)) != GN_REG_OK)
        return rc;
    if (o.s.max_api_keys && n >= o.s.max_api_keys)
        return fail(st, GN_REG_ERR_LIMIT, "org '%s' has its maximum of %u API keys", org, o.s.max_api_keys);
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    for (int attempt = 0; attempt < 8; attempt++) {
        static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        uint8_t r[10];
        if (gn_reg_random(r, sizeof r) != 0)
            return fail(st, GN_REG_ERR_STORE, "no random bytes");
        char key[GN_REG_APIKEY_LEN + 1];
        int w = snprintf(key, sizeof key, "a-%s-", org);
        for (int i = 0; i < 10; i++)
            key[w + i] = a[r[i] % 62];
        key[GN_REG_APIKEY_LEN] = '\0';
        sqlite3_stmt *s = stmt(st, "INSERT INTO api_keys(org_uid, key, perms, description, token)"
                                   " VALUES(?1, ?2, ?3, ?4, ?5)");
        if (!s)
            return GN_REG_ERR_STORE;
        sqlite3_bind_int64(s, 1, (int64_t)o.uid);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, perms);
        sqlite3_bind_text(s, 4, description ? description : "", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, tok, -1, SQLITE_STATIC);
        rc = run(st, s, "create API key");
        if (rc == GN_REG_OK) {
            memcpy(out_key, key, sizeof key);
            return rc;
        }
        if (rc != GN_REG_ERR_EXISTS)
            return rc;
    }
    return fail(st, GN_REG_ERR_STORE, "could not pick a free API key");
}

static const char key_list_sql[] = KEY_SELECT " WHERE o.id=?1 ORDER BY k.key";

gn_reg_err gn_store_apikey_list(gn_store *st, const char *org,
                                void (*fn)(void *ctx, const gn_reg_apikey *k), void *ctx)
{
    sqlite3_stmt *s;
    gn_reg_err rc = org_query(st, org, key_list_sql, &s);
    if (rc != GN_REG_OK)
        return rc;
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_reg_apikey k;
        apikey_from_row(s, &k);
        fn(ctx, &k);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "list API keys");
}

static gn_reg_err apikey_update(gn_store *st, const char *key, const char *sql, int64_t v,
                                const char *text)
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = stmt(st, sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)k.uid);
    if (text)
        sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, v);
    return run(st, s, "update API key");
}

gn_reg_err gn_store_apikey_set_status(gn_store *st, const char *key, gn_reg_status s)
{
    return apikey_update(st, key, "UPDATE api_keys SET status=?2 WHERE uid=?1", (int64_t)s, NULL);
}

gn_reg_err gn_store_apikey_set_perms(gn_store *st, const char *key, uint32_t perms)
{
    if (perms & ~(uint32_t)GN_REG_PERM_ALL)
        return fail(st, GN_REG_ERR_INVALID, "unknown permission bits");
    return apikey_update(st, key, "UPDATE api_keys SET perms=?2 WHERE uid=?1", perms, NULL);
}

gn_reg_err gn_store_apikey_remove(gn_store *st, const char *key)
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    return rc == GN_REG_OK ? exec_i(st, "DELETE FROM api_keys WHERE uid=?1", (int64_t)k.uid) : rc;
}

gn_reg_err gn_store_apikey_rotate(gn_store *st, const char *key, const char *token,
                                  char out_token[GN_REG_TOKEN_MAX + 1])
{
    gn_reg_apikey k;
    gn_reg_err rc = gn_store_apikey_get(st, key, &k);
    if (rc != GN_REG_OK)
        return rc;
    char tok[GN_REG_CRED_TEXT_MAX];
    if ((rc = make_token(st, token, out_token, tok)) != GN_REG_OK)
        return rc;
    return apikey_update(st, key, "UPDATE api_keys SET token=?2 WHERE uid=?1", 0, tok);
}

/* --------------------------------------------------------------- groups */

static gn_reg_err group_find(gn_store *st, const char *org, const char *name, gn_store_group *g,
                             int64_t *ouid)
{
    memset(g, 0, sizeof *g);
    gn_reg_err rc = org_uid(st, org, ouid);
    if (rc != GN_REG_OK)
        return rc;
    if (!gn_reg_valid_group(name, strlen(name)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not a group name (1-80 printable, no / + #)", name);
    sqlite3_stmt *s = stmt(st, "SELECT uid, name, is_default,"
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
        col_text(s, 1, g->name, sizeof g->name, NULL);
        g->is_default = sqlite3_column_int(s, 2) != 0;
        g->members = (uint64_t)sqlite3_column_int64(s, 3);
        g->gateways = (uint64_t)sqlite3_column_int64(s, 4);
    }
    sqlite3_reset(s);
    if (r == SQLITE_DONE)
        return fail(st, GN_REG_ERR_NOT_FOUND, "group '%s' not found in org '%s'", name, org);
    return r == SQLITE_ROW ? GN_REG_OK : db_fail(st, "group");
}

gn_reg_err gn_store_group_get(gn_store *st, const char *org, const char *name, gn_store_group *out)
{
    int64_t ou;
    return group_find(st, org, name, out, &ou);
}

gn_reg_err gn_store_group_create(gn_store *st, const char *org, const char *name, uint64_t *uid)
{
    int64_t ou, g = 0;
    gn_reg_err rc = org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (!gn_reg_valid_group(name, strlen(name)))
        return fail(st, GN_REG_ERR_INVALID, "'%s' is not a group name (1-80 printable, no / + #)", name);
    if (!strncmp(name, "gw:", 3))
        return fail(st, GN_REG_ERR_INVALID, "names starting with 'gw:' are for gateways' default groups");
    rc = group_insert(st, ou, org, name, false, &g);
    if (rc == GN_REG_OK && uid)
        *uid = (uint64_t)g;
    return rc;
}

gn_reg_err gn_store_group_list(gn_store *st, const char *org,
                               void (*fn)(void *ctx, const gn_store_group *g), void *ctx)
{
    int64_t ou;
    gn_reg_err rc = org_uid(st, org, &ou);
    if (rc != GN_REG_OK)
        return rc;
    sqlite3_stmt *s = stmt(st, "SELECT uid, name, is_default,"
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
        col_text(s, 1, g.name, sizeof g.name, NULL);
        g.is_default = sqlite3_column_int(s, 2) != 0;
        g.members = (uint64_t)sqlite3_column_int64(s, 3);
        g.gateways = (uint64_t)sqlite3_column_int64(s, 4);
        fn(ctx, &g);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "list groups");
}

gn_reg_err gn_store_group_remove(gn_store *st, const char *org, const char *name)
{
    gn_store_group g;
    int64_t ou;
    gn_reg_err rc = group_find(st, org, name, &g, &ou);
    if (rc != GN_REG_OK)
        return rc;
    if (g.is_default)
        return fail(st, GN_REG_ERR_STATE, "'%s' is a gateway's default group and cannot be removed (S-056)", name);
    bool own;
    if ((rc = txn_begin(st, &own)) != GN_REG_OK)
        return rc;
    rc = exec_i(st, "DELETE FROM group_members WHERE group_uid=?1", (int64_t)g.uid);
    if (rc == GN_REG_OK)
        rc = exec_i(st, "DELETE FROM group_gateways WHERE group_uid=?1", (int64_t)g.uid);
    if (rc == GN_REG_OK)
        rc = exec_i(st, "DELETE FROM groups WHERE uid=?1", (int64_t)g.uid);
    return txn_end(st, own, rc);
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
        return member_insert(st, &o, (int64_t)g.uid, name, (int64_t)d.uid);
    }
    if ((rc = exec_ii(st, "DELETE FROM group_members WHERE group_uid=?1 AND device_uid=?2", (int64_t)g.uid,
                      (int64_t)d.uid, "remove member")) != GN_REG_OK)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return fail(st, GN_REG_ERR_NOT_FOUND, "'%s' is not a member of group '%s'", id, name);
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
        return fail(st, GN_REG_ERR_INVALID, "'%s' is a device, not a gateway", id);
    if (attach)
        return gateway_insert(st, (int64_t)g.uid, name, (int64_t)d.uid);
    if (g.is_default && d.gw_default_group == g.uid)
        return fail(st, GN_REG_ERR_STATE, "a gateway cannot be detached from its default group (S-056)");
    if ((rc = exec_ii(st, "DELETE FROM group_gateways WHERE group_uid=?1 AND gateway_uid=?2", (int64_t)g.uid,
                      (int64_t)d.uid, "detach gateway")) != GN_REG_OK)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return fail(st, GN_REG_ERR_NOT_FOUND, "gateway '%s' is not attached to group '%s'", id, name);
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
    sqlite3_stmt *s = stmt(st, gateways ? g_sql : m_sql);
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)g.uid);
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW)
        fn(ctx, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 1));
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "group members");
}

/* --------------------------------------------------------- registry side */

gn_reg_err gn_store_data_version(gn_store *st, int64_t *out)
{
    return scalar(st, "PRAGMA data_version", out, 0, NULL, NULL, NULL);
}

gn_reg_err gn_store_group_count(gn_store *st, uint64_t *out)
{
    int64_t n = 0;
    gn_reg_err rc = scalar(st, "SELECT count(*) FROM groups", &n, 0, NULL, NULL, NULL);
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

/* The newest change number, also when pruning emptied the table. */
static const char last_seq_sql[] =
    "SELECT coalesce((SELECT max(seq) FROM changes),"
    " (SELECT seq FROM sqlite_sequence WHERE name='changes'), 0)";

gn_reg_err gn_store_load(gn_store *st, gn_reg_snap_builder *b, uint64_t *seq)
{
    /* one read transaction: a consistent view of every table */
    gn_reg_err rc = exec(st, "BEGIN");
    if (rc != GN_REG_OK)
        return rc;
    int64_t last = 0;
    gn_reg_type *types = NULL;           /* ordered by uid: the devices' org and type */
    size_t ntypes = 0, types_cap = 0;
    rc = scalar(st, last_seq_sql, &last, 0, NULL, NULL, NULL);
    /* orgs */
    if (rc == GN_REG_OK) {
        gn_reg_org *v = NULL;
        size_t n = 0, cap = 0;
        sqlite3_stmt *s = stmt(st, "SELECT uid, id, name, status, plan FROM orgs ORDER BY uid");
        int r = s ? SQLITE_ROW : SQLITE_ERROR;
        while (s && (r = sqlite3_step(s)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                gn_reg_org *nv = realloc(v, cap * sizeof *nv);
                if (!nv)
                    break;
                v = nv;
            }
            org_from_row(s, &v[n++]);
        }
        if (s)
            sqlite3_reset(s);
        rc = r == SQLITE_DONE ? GN_REG_OK : r == SQLITE_ROW ? GN_REG_ERR_NOMEM : db_fail(st, "load orgs");
        for (size_t i = 0; rc == GN_REG_OK && i < n; i++) {
            rc = org_load_settings(st, (int64_t)v[i].uid, &v[i]);
            if (rc == GN_REG_OK)
                rc = gn_reg_snap_add_org(b, &v[i]);
        }
        free(v);
    }
    /* types */
    if (rc == GN_REG_OK) {
        sqlite3_stmt *s = stmt(st, "SELECT t.uid, o.id, t.id, t.status, t.class FROM device_types t"
                                   " JOIN orgs o ON o.uid=t.org_uid ORDER BY t.uid");
        int r = s ? SQLITE_ROW : SQLITE_ERROR;
        while (s && rc == GN_REG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            if (ntypes == types_cap) {
                types_cap = types_cap ? 2 * types_cap : 64;
                gn_reg_type *nt = realloc(types, types_cap * sizeof *nt);
                if (!nt) {
                    rc = GN_REG_ERR_NOMEM;
                    break;
                }
                types = nt;
            }
            type_from_row(s, &types[ntypes]);
            rc = gn_reg_snap_add_type(b, &types[ntypes++]);
        }
        if (s)
            sqlite3_reset(s);
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = db_fail(st, "load device types");
    }
    /* devices, merged with their memberships (all three ordered by device uid) */
    if (rc == GN_REG_OK) {
        /* one table in rowid order; org and type come from the types above
         * (the three-way join cost ~10 % more CPU per build) */
        sqlite3_stmt *s = stmt(st, "SELECT uid, type_uid, id, class, status, gw_role, default_group,"
                                   " registered_by, token FROM devices ORDER BY uid");
        sqlite3_stmt *m = s ? stmt(st, "SELECT device_uid, group_uid FROM group_members ORDER BY device_uid, group_uid") : NULL;
        sqlite3_stmt *g = m ? stmt(st, "SELECT gateway_uid, group_uid FROM group_gateways ORDER BY gateway_uid, group_uid") : NULL;
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
                rc = fail(st, GN_REG_ERR_STORE, "device %llu has no device type", (unsigned long long)d.uid);
                break;
            }
            memcpy(d.org, t->org, sizeof d.org);
            d.org_len = t->org_len;
            memcpy(d.type, t->id, sizeof d.type);
            d.type_len = t->id_len;
            device_fields(s, 2, &d);
            if (cursor_groups(m, &ms, d.uid, d.groups, &d.ngroups) ||
                cursor_groups(g, &gs, d.uid, d.gw_groups, &d.gw_ngroups)) {
                rc = db_fail(st, "load groups");
                break;
            }
            rc = gn_reg_snap_add_device(b, &d);
        }
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = db_fail(st, "load devices");
        if (s)
            sqlite3_reset(s);
        if (m)
            sqlite3_reset(m);
        if (g)
            sqlite3_reset(g);
    }
    /* API keys */
    if (rc == GN_REG_OK) {
        sqlite3_stmt *s = stmt(st, KEY_SELECT);
        int r = s ? SQLITE_ROW : SQLITE_ERROR;
        while (s && rc == GN_REG_OK && (r = sqlite3_step(s)) == SQLITE_ROW) {
            gn_reg_apikey k;
            apikey_from_row(s, &k);
            rc = gn_reg_snap_add_apikey(b, &k);
        }
        if (s)
            sqlite3_reset(s);
        if (rc == GN_REG_OK && r != SQLITE_DONE)
            rc = db_fail(st, "load API keys");
    }
    exec(st, "COMMIT");
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
    gn_reg_err rc = scalar(st, last_seq_sql, &hi, 0, NULL, NULL, NULL);
    if (rc == GN_REG_OK)
        rc = scalar(st, "SELECT min(seq) FROM changes", &lo, 0, NULL, NULL, NULL);
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
    sqlite3_stmt *s = stmt(st, "SELECT seq, kind, org, type, id FROM changes WHERE seq > ?1 ORDER BY seq");
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
    return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "changes");
}

gn_reg_err gn_store_load_one(gn_store *st, gn_reg_kind kind, const char *org, const char *type,
                             const char *id, void *rec, bool *found)
{
    *found = false;
    switch (kind) {
    case GN_REG_KIND_ORG: {
        sqlite3_stmt *s = stmt(st, org_get_sql);
        if (!s)
            return GN_REG_ERR_STORE;
        bind_texts(s, 1, org);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            org_from_row(s, rec);
        sqlite3_reset(s);
        if (r != SQLITE_ROW)
            return r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "org");
        *found = true;
        return org_load_settings(st, (int64_t)((gn_reg_org *)rec)->uid, rec);
    }
    case GN_REG_KIND_TYPE: {
        sqlite3_stmt *s = stmt(st, type_sel);
        if (!s)
            return GN_REG_ERR_STORE;
        bind_texts(s, 2, org, type);
        int r = sqlite3_step(s);
        if (r == SQLITE_ROW)
            type_from_row(s, rec);
        sqlite3_reset(s);
        *found = r == SQLITE_ROW;
        return r == SQLITE_ROW || r == SQLITE_DONE ? GN_REG_OK : db_fail(st, "device type");
    }
    case GN_REG_KIND_DEVICE:
        return device_find(st, org, type, id, rec, found);
    case GN_REG_KIND_APIKEY:
        return apikey_find(st, id, rec, found);
    }
    return fail(st, GN_REG_ERR_INVALID, "unknown change kind");
}

gn_reg_err gn_store_prune_changes(gn_store *st, uint64_t keep)
{
    sqlite3_stmt *s = stmt(st, "DELETE FROM changes WHERE seq <= (SELECT max(seq) FROM changes) - ?1");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)keep);
    return run(st, s, "prune changes");
}
