/* tests/registry/test_registry.c — the registry end to end below the
 * engine: the copy-on-write tables, the SQLite store's writes and limits,
 * snapshots built and patched from it, gateway resource groups, the
 * revocation log, a running registry thread seeing another connection's
 * change, auto-registration (queue limit, privileges, failure cache) and
 * readers looking up while snapshots are swapped (for ASan). */
#include <check.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/reg_snapshot.h"
#include "engine/platform/reg_table.h"
#include "engine/platform/registry.h"
#include "engine/platform/registry_store.h"

static char dbpath[256];

static void tmp_db(void)
{
    char dir[] = "/tmp/gnreg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(dbpath, sizeof dbpath, "%s/sub/registry.db", dir);
}

static void rm_db(void)
{
    char cmd[300];
    char *slash = strstr(dbpath, "/sub/");
    if (!slash)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%.*s'", (int)(slash - dbpath), dbpath);
    ck_assert_int_eq(system(cmd), 0);
}

static gn_store *open_store(void)
{
    gn_store *st = NULL;
    char err[256];
    ck_assert_msg(gn_store_open(&st, dbpath, GN_STORE_CREATE, 2000, err, sizeof err) == GN_REG_OK, "%s", err);
    gn_store_set_iterations(st, 4);       /* fast tests; the cost is per credential */
    return st;
}

static gn_registry *open_reg(void)
{
    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = dbpath;
    o.poll_interval_ms = 10;
    o.autoreg_retry_ms = 60000;
    char err[256];
    gn_registry *r = gn_registry_open(&o, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    return r;
}

static gn_store_device_spec dev(const char *org, const char *type, const char *id, gn_reg_class cls,
                                const char *token)
{
    return (gn_store_device_spec){.org = org, .type = type, .id = id, .cls = cls, .token = token};
}

/* ------------------------------------------------------------- tables */

typedef struct rec {
    uint64_t key;
    uint64_t val;
} rec;

static bool rec_eq(const void *r, const void *k) { return ((const rec *)r)->key == *(const uint64_t *)k; }
static uint64_t rh(uint64_t k) { return k * 0x9E3779B97F4A7C15ull; }

START_TEST(test_table_build_find_patch_shares_untouched_segments)
{
    gn_regtab_builder *b = gn_regtab_builder_new(sizeof(rec));
    for (uint64_t k = 1; k <= 20000; k++) {
        rec r = {k, k * 10};
        ck_assert_int_eq(gn_regtab_builder_add(b, rh(k), &r), 0);
    }
    gn_regtab t;
    ck_assert_int_eq(gn_regtab_builder_finish(b, &t), 0);
    gn_regtab_builder_free(b);
    ck_assert_uint_eq(t.count, 20000);
    for (uint64_t k = 1; k <= 20000; k++) {
        const rec *r = gn_regtab_find(&t, rh(k), rec_eq, &k);
        ck_assert_ptr_nonnull(r);
        ck_assert_uint_eq(r->val, k * 10);
    }
    uint64_t missing = 20001;
    ck_assert_ptr_null(gn_regtab_find(&t, rh(missing), rec_eq, &missing));
    /* upsert 5, insert 20001, delete 7 and a key that never existed */
    uint64_t k5 = 5, k7 = 7, knew = 20001, kghost = 99999;
    rec r5 = {5, 555}, rnew = {20001, 1};
    gn_regtab_op ops[] = {
        {rh(k5), &k5, &r5}, {rh(knew), &knew, &rnew}, {rh(k7), &k7, NULL}, {rh(kghost), &kghost, NULL},
    };
    const gn_regtab_seg *retired[GN_REGTAB_NSEG];
    size_t nret = 0;
    gn_regtab t2;
    ck_assert_int_eq(gn_regtab_patch(&t, &t2, ops, 4, rec_eq, retired, &nret), 0);
    ck_assert_uint_eq(t2.count, 20000);
    ck_assert_uint_le(nret, 4);
    ck_assert_uint_ge(nret, 1);
    size_t shared = 0;
    for (uint32_t i = 0; i < GN_REGTAB_NSEG; i++)
        shared += t.seg[i] == t2.seg[i];
    ck_assert_uint_eq(shared, GN_REGTAB_NSEG - nret);
    ck_assert_uint_eq(((const rec *)gn_regtab_find(&t2, rh(k5), rec_eq, &k5))->val, 555);
    ck_assert_uint_eq(((const rec *)gn_regtab_find(&t, rh(k5), rec_eq, &k5))->val, 50);   /* old untouched */
    ck_assert_ptr_null(gn_regtab_find(&t2, rh(k7), rec_eq, &k7));
    ck_assert_ptr_nonnull(gn_regtab_find(&t, rh(k7), rec_eq, &k7));
    ck_assert_ptr_nonnull(gn_regtab_find(&t2, rh(knew), rec_eq, &knew));
    for (uint64_t k = 1; k <= 20000; k++)
        if (k != 7)
            ck_assert_ptr_nonnull(gn_regtab_find(&t2, rh(k), rec_eq, &k));
    for (size_t i = 0; i < nret; i++)
        gn_regtab_seg_free(retired[i]);
    gn_regtab_free_all(&t2);
}
END_TEST

/* -------------------------------------------------------------- store */

START_TEST(test_store_creates_schema_and_rejects_bad_input)
{
    tmp_db();
    gn_store *st = open_store();
    char org[GN_REG_ORG_MAX + 1];
    ck_assert_int_eq(gn_store_org_create(st, NULL, "Acme", GN_REG_PLAN_STANDARD, org), GN_REG_OK);
    ck_assert(gn_reg_valid_org(org, strlen(org)));
    ck_assert_uint_eq(strlen(org), 6);
    ck_assert_int_eq(gn_store_org_create(st, "abc123", NULL, GN_REG_PLAN_LITE, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_create(st, "abc123", NULL, GN_REG_PLAN_LITE, NULL), GN_REG_ERR_EXISTS);
    ck_assert_int_eq(gn_store_org_create(st, "ABC123", NULL, 0, NULL), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_org_create(st, "abc12", NULL, 0, NULL), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_org_create(st, "quickstart", NULL, 0, NULL), GN_REG_ERR_INVALID);
    gn_reg_org o;
    ck_assert_int_eq(gn_store_org_get(st, "abc123", &o), GN_REG_OK);
    ck_assert_uint_eq(o.s.max_devices, 500);                  /* Lite plan (S-100) */
    ck_assert(!o.s.allow_retain);
    ck_assert_int_eq(gn_store_org_get(st, "quickstart", &o), GN_REG_OK);
    ck_assert(o.quickstart && o.s.allow_anonymous && !o.s.allow_durable && o.s.max_qos == 0);
    ck_assert_int_eq(gn_store_org_get(st, "zzz999", &o), GN_REG_ERR_NOT_FOUND);
    ck_assert_ptr_nonnull(strstr(gn_store_errmsg(st), "zzz999"));
    ck_assert_int_eq(gn_store_org_set(st, "abc123", "allow_retain", "yes"), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_set(st, "abc123", "max_qos", "3"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_org_set(st, "abc123", "no_such", "1"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_org_get(st, "abc123", &o), GN_REG_OK);
    ck_assert(o.s.allow_retain);
    ck_assert_int_eq(gn_store_org_remove(st, "quickstart"), GN_REG_ERR_STATE);
    /* types and devices */
    ck_assert_int_eq(gn_store_type_add(st, "abc123", "sensor", GN_REG_DEVICE, "temp"), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "abc123", "sensor", GN_REG_DEVICE, NULL), GN_REG_ERR_EXISTS);
    ck_assert_int_eq(gn_store_type_add(st, "abc123", "bad/type", GN_REG_DEVICE, NULL), GN_REG_ERR_INVALID);
    gn_store_device_spec d = dev("abc123", "sensor", "s1", GN_REG_DEVICE, NULL);
    char tok[GN_REG_TOKEN_MAX + 1];
    uint64_t uid = 0;
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, &uid), GN_REG_OK);
    ck_assert_uint_eq(strlen(tok), GN_REG_TOKEN_GEN_LEN);
    ck_assert_uint_gt(uid, 0);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_EXISTS);
    d = dev("abc123", "nosuch", "s1", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_NOT_FOUND);
    d = dev("abc123", "sensor", "s#2", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_INVALID);
    d = dev("abc123", "sensor", "s2", GN_REG_DEVICE, "short");
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_INVALID);
    d = dev("abc123", "sensor", "s2", GN_REG_DEVICE, "given-token-2");
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_OK);
    ck_assert_str_eq(tok, "");                               /* a given token is not echoed */
    gn_reg_device rec;
    ck_assert_int_eq(gn_store_device_get(st, "abc123", "sensor", "s2", &rec), GN_REG_OK);
    ck_assert(rec.has_token);
    ck_assert_int_eq(gn_reg_cred_verify(&rec.cred, (const uint8_t *)"given-token-2", 13), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_remove(st, "abc123", "sensor", false), GN_REG_ERR_STATE);
    /* quickstart takes no registrations */
    d = dev("quickstart", "sensor", "s1", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_STATE);
    /* Lite: 500 devices max -> limit */
    ck_assert_int_eq(gn_store_org_set(st, "abc123", "max_devices", "3"), GN_REG_OK);
    d = dev("abc123", "sensor", "s3", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_OK);
    d = dev("abc123", "sensor", "s4", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, tok, NULL), GN_REG_ERR_LIMIT);
    /* API keys */
    char key[GN_REG_APIKEY_LEN + 1], ktok[GN_REG_TOKEN_MAX + 1];
    ck_assert_int_eq(gn_store_apikey_create(st, "abc123", GN_REG_PERM_ALL, "app", NULL, key, ktok), GN_REG_OK);
    ck_assert(gn_reg_valid_apikey(key, strlen(key)));
    ck_assert_int_eq(strncmp(key, "a-abc123-", 9), 0);
    gn_reg_apikey k;
    ck_assert_int_eq(gn_store_apikey_get(st, key, &k), GN_REG_OK);
    ck_assert_int_eq(gn_reg_cred_verify(&k.cred, (const uint8_t *)ktok, strlen(ktok)), GN_REG_OK);
    ck_assert_int_eq(gn_store_apikey_create(st, "quickstart", 0, NULL, NULL, key, ktok), GN_REG_ERR_STATE);
    ck_assert_int_eq(gn_store_apikey_get(st, "a-abc123-xx", &k), GN_REG_ERR_INVALID);
    gn_store_close(st);
    /* an unknown schema version is refused */
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version=99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    char err[256];
    ck_assert_int_eq(gn_store_open(&st, dbpath, 0, 100, err, sizeof err), GN_REG_ERR_SCHEMA);
    ck_assert_ptr_nonnull(strstr(err, "99"));
    rm_db();
    ck_assert_int_eq(gn_store_open(&st, dbpath, 0, 100, err, sizeof err), GN_REG_ERR_NOT_FOUND);
}
END_TEST

/* ----------------------------------------------------------- snapshots */

typedef struct revs {
    int n;
    char last[128];
    bool removed;
    int ip_lists;                       /* entries with ip_list set */
} revs;

static void count_rev(void *ctx, const gn_reg_revoked *r)
{
    revs *v = ctx;
    v->n++;
    v->removed = r->removed;
    v->ip_lists += r->ip_list;
    snprintf(v->last, sizeof v->last, "%c:%.*s:%.*s:%.*s", r->kind, r->org_len, r->org, r->type_len,
             r->type, r->id_len, r->id);
}

/* S-038: an org's IP list reaches the snapshot; a new or changed list
 * is logged as an ip_list entry (connected clients get rechecked), a
 * cleared one or another setting is not. */
START_TEST(test_snapshot_ip_list_changes_are_logged_for_recheck)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org001", NULL, 0, NULL), GN_REG_OK);
    gn_registry *r = open_reg();
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    ck_assert_int_eq(gn_reg_find_org(s, "org001", 6)->s.ip_acl.mode, GN_REG_IPACL_NONE);
    uint64_t g0 = gn_reg_generation(s);
    ck_assert_int_eq(gn_store_org_set(st, "org001", "ip_acl", "black:10.0.0.0/8"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    const gn_reg_org *o = gn_reg_find_org(s, "org001", 6);
    ck_assert_int_eq(o->s.ip_acl.mode, GN_REG_IPACL_BLACK);
    uint8_t a[16] = {[10] = 0xff, [11] = 0xff, [12] = 10, [13] = 1, [14] = 2, [15] = 3};
    ck_assert(!gn_reg_ipacl_allows(&o->s.ip_acl, a, NULL));
    revs rv = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g0, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 1);
    ck_assert_int_eq(rv.ip_lists, 1);
    ck_assert_str_eq(rv.last, "o:org001::");
    uint64_t g1 = gn_reg_generation(s);
    /* another setting, the same list again, or a cleared list: nothing to recheck */
    ck_assert_int_eq(gn_store_org_set(st, "org001", "max_qos", "1"), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_set(st, "org001", "ip_acl", "black:10.0.0.0/8"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_set(st, "org001", "ip_acl", "none"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    ck_assert_uint_gt(gn_reg_generation(s), g1);
    rv = (revs){0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g1, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 0);
    ck_assert_int_eq(gn_reg_find_org(s, "org001", 6)->s.ip_acl.mode, GN_REG_IPACL_NONE);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

START_TEST(test_snapshot_follows_store_changes_and_logs_revocations)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org001", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org001", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_store_device_spec d = dev("org001", "t", "d1", GN_REG_DEVICE, "token-d1-xx");
    ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    gn_registry *r = open_reg();
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    uint64_t g0 = gn_reg_generation(s);
    const gn_reg_device *dd = gn_reg_find_device(s, "org001", 6, "t", 1, "d1", 2);
    ck_assert_ptr_nonnull(dd);
    ck_assert_int_eq(gn_reg_device_usable(s, dd), GN_REG_OK);
    ck_assert_ptr_nonnull(gn_reg_find_org(s, "quickstart", 10));
    ck_assert(gn_reg_find_org(s, "quickstart", 10)->quickstart);
    ck_assert_ptr_null(gn_reg_find_device(s, "org001", 6, "t", 1, "d2", 2));
    ck_assert_ptr_null(gn_reg_find_device(s, "org001", 6, "t", 1, "d1", 1));
    gn_reg_verifier *v = gn_reg_verifier_create(16);
    ck_assert_int_eq(gn_reg_verifier_check(v, &dd->cred, (const uint8_t *)"token-d1-xx", 11), GN_REG_OK);
    /* no change: no new generation */
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    ck_assert_uint_eq(gn_reg_generation(gn_registry_snapshot(r)), g0);
    /* disable: the refresh patches, the log names the device */
    ck_assert_int_eq(gn_store_device_set_status(st, "org001", "t", "d1", GN_REG_DISABLED), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    ck_assert_uint_eq(gn_reg_generation(s), g0 + 1);
    dd = gn_reg_find_device(s, "org001", 6, "t", 1, "d1", 2);
    ck_assert_int_eq(gn_reg_device_usable(s, dd), GN_REG_ERR_DISABLED);
    revs rv = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g0, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 1);
    ck_assert_str_eq(rv.last, "d:org001:t:d1");
    ck_assert(!rv.removed);
    rv.n = 0;
    ck_assert_int_eq(gn_reg_revoked_since(s, g0 + 1, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 0);
    /* enable again (no revocation), rotate (new credential), then remove */
    ck_assert_int_eq(gn_store_device_set_status(st, "org001", "t", "d1", GN_REG_ENABLED), GN_REG_OK);
    char tok[GN_REG_TOKEN_MAX + 1];
    ck_assert_int_eq(gn_store_device_rotate(st, "org001", "t", "d1", NULL, tok), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    dd = gn_reg_find_device(s, "org001", 6, "t", 1, "d1", 2);
    ck_assert_int_eq(gn_reg_device_usable(s, dd), GN_REG_OK);
    ck_assert_int_eq(gn_reg_verifier_check(v, &dd->cred, (const uint8_t *)"token-d1-xx", 11), GN_REG_ERR_DENIED);
    ck_assert_int_eq(gn_reg_verifier_check(v, &dd->cred, (const uint8_t *)tok, strlen(tok)), GN_REG_OK);
    uint64_t g2 = gn_reg_generation(s);
    ck_assert_int_eq(gn_store_device_remove(st, "org001", "t", "d1"), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_set_status(st, "org001", "t", GN_REG_DISABLED), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    ck_assert_ptr_null(gn_reg_find_device(s, "org001", 6, "t", 1, "d1", 2));
    rv.n = 0;
    ck_assert_int_eq(gn_reg_revoked_since(s, g2, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 2);                              /* the device (removed) and the type */
    rv.n = 0;
    ck_assert_int_eq(gn_reg_revoked_since(s, g0, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 3);
    gn_reg_counts c;
    gn_reg_get_counts(s, &c);
    ck_assert_uint_eq(c.orgs, 2);
    ck_assert_uint_eq(c.devices, 0);
    ck_assert_uint_eq(c.types, 1);
    /* org disable and an API key removal */
    char key[GN_REG_APIKEY_LEN + 1], ktok[GN_REG_TOKEN_MAX + 1];
    ck_assert_int_eq(gn_store_apikey_create(st, "org001", GN_REG_PERM_EVENT_RECV, NULL, NULL, key, ktok), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    const gn_reg_apikey *ak = gn_reg_find_apikey(s, key, strlen(key));
    ck_assert_ptr_nonnull(ak);
    ck_assert_uint_eq(ak->perms, GN_REG_PERM_EVENT_RECV);
    ck_assert_int_eq(gn_reg_verifier_check(v, &ak->cred, (const uint8_t *)ktok, strlen(ktok)), GN_REG_OK);
    uint64_t g3 = gn_reg_generation(s);
    ck_assert_int_eq(gn_store_apikey_remove(st, key), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_set_status(st, "org001", GN_REG_DISABLED), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    ck_assert_ptr_null(gn_reg_find_apikey(s, key, strlen(key)));
    ck_assert_uint_eq(gn_reg_find_org(s, "org001", 6)->status, GN_REG_DISABLED);
    rv.n = 0;
    ck_assert_int_eq(gn_reg_revoked_since(s, g3, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 2);
    gn_reg_verifier_destroy(v);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

/* Per-type rate settings: schema step 2 adds their table to a version 1
 * registry, set / get round trip, the snapshot carries them (full build
 * and patch, without a revocation), bad names refused, removal cleans up. */
START_TEST(test_type_settings_migrate_patch_and_remove)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org001", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org001", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_store_close(st);
    /* a version 1 registry (before schema step 2): no table, no triggers */
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(db, "DROP TABLE type_settings; DROP TRIGGER IF EXISTS typeset_gone;"
                                  " DROP TABLE org_cas; PRAGMA user_version=1;",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = open_store();                      /* upgrades it: step 2 makes the table */
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "rate_in_msgs", "50"), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "throttle_limit", "10"), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "rate_in_msgs", "70"), GN_REG_OK);  /* replaces */
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "nope", "1"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "rate_in_msgs", "-1"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "rate_in_msgs", "4294967296"), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "zz", "rate_in_msgs", "1"), GN_REG_ERR_NOT_FOUND);
    gn_reg_type t;
    ck_assert_int_eq(gn_store_type_get(st, "org001", "t", &t, NULL), GN_REG_OK);
    ck_assert_uint_eq(t.s.rate_in_msgs, 70);
    ck_assert_uint_eq(t.s.rate_in_bytes, 0);
    ck_assert_uint_eq(t.s.throttle_limit, 10);
    gn_registry *r = open_reg();            /* full build */
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    const gn_reg_type *tt = gn_reg_find_type(s, "org001", 6, "t", 1);
    ck_assert_ptr_nonnull(tt);
    ck_assert_uint_eq(tt->s.rate_in_msgs, 70);
    uint64_t g0 = gn_reg_generation(s);
    ck_assert_int_eq(gn_store_type_set(st, "org001", "t", "rate_in_bytes", "4096"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);       /* patch */
    s = gn_registry_snapshot(r);
    ck_assert_uint_eq(gn_reg_generation(s), g0 + 1);
    tt = gn_reg_find_type(s, "org001", 6, "t", 1);
    ck_assert_uint_eq(tt->s.rate_in_bytes, 4096);
    ck_assert_uint_eq(tt->s.rate_in_msgs, 70);
    revs rv = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g0, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 0);              /* a settings change revokes nothing */
    ck_assert_int_eq(gn_store_type_remove(st, "org001", "t", false), GN_REG_OK);
    int64_t n = -1;
    ck_assert_int_eq(sqlite3_open(dbpath, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT count(*) FROM type_settings", -1, &q, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
    n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    ck_assert_int_eq(n, 0);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

START_TEST(test_revocation_log_reports_too_old_after_overflow)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org002", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org002", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_begin(st), GN_REG_OK);
    char id[16];
    for (int i = 0; i < GN_REG_REVLOG_CAP + 10; i++) {
        snprintf(id, sizeof id, "d%d", i);
        gn_store_device_spec d = dev("org002", "t", id, GN_REG_DEVICE, NULL);
        d.no_token = true;
        ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    }
    ck_assert_int_eq(gn_store_commit(st), GN_REG_OK);
    gn_registry *r = open_reg();
    uint64_t g0 = gn_reg_generation(gn_registry_snapshot(r));
    for (int i = 0; i < GN_REG_REVLOG_CAP + 10; i += 64) {
        ck_assert_int_eq(gn_store_begin(st), GN_REG_OK);
        for (int j = i; j < i + 64 && j < GN_REG_REVLOG_CAP + 10; j++) {
            snprintf(id, sizeof id, "d%d", j);
            ck_assert_int_eq(gn_store_device_set_status(st, "org002", "t", id, GN_REG_DISABLED), GN_REG_OK);
        }
        ck_assert_int_eq(gn_store_commit(st), GN_REG_OK);
        ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    }
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    revs rv = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g0, count_rev, &rv), GN_REG_ERR_TOO_OLD);
    ck_assert_int_eq(gn_reg_revoked_since(s, gn_reg_generation(s) - 1, count_rev, &rv), GN_REG_OK);
    ck_assert_int_gt(rv.n, 0);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

/* ------------------------------------------------------------- groups */

START_TEST(test_gateway_resource_groups)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org003", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org003", "gwt", GN_REG_GATEWAY, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org003", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_store_device_spec g = dev("org003", "gwt", "gw1", GN_REG_GATEWAY, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &g, NULL, NULL), GN_REG_OK);
    g = dev("org003", "gwt", "legacy", GN_REG_GATEWAY, NULL);
    g.no_group = true;
    ck_assert_int_eq(gn_store_device_add(st, &g, NULL, NULL), GN_REG_OK);
    for (int i = 1; i <= 3; i++) {
        char id[8];
        snprintf(id, sizeof id, "d%d", i);
        gn_store_device_spec d = dev("org003", "t", id, GN_REG_DEVICE, NULL);
        ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    }
    ck_assert_int_eq(gn_store_group_member(st, "org003", "gw:gwt:gw1", "t", "d1", true), GN_REG_OK);
    ck_assert_int_eq(gn_store_group_member(st, "org003", "gw:gwt:gw1", "t", "d1", true), GN_REG_ERR_EXISTS);
    ck_assert_int_eq(gn_store_group_create(st, "org003", "floor2", NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_group_create(st, "org003", "gw:x", NULL), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_store_group_member(st, "org003", "floor2", "t", "d2", true), GN_REG_OK);
    ck_assert_int_eq(gn_store_device_set_status(st, "org003", "t", "d1", GN_REG_DISABLED), GN_REG_OK);
    gn_registry *r = open_reg();
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    const gn_reg_device *gw = gn_reg_find_device(s, "org003", 6, "gwt", 3, "gw1", 3);
    const gn_reg_device *lg = gn_reg_find_device(s, "org003", 6, "gwt", 3, "legacy", 6);
    ck_assert_ptr_nonnull(gw);
    ck_assert_uint_eq(gw->cls, GN_REG_GATEWAY);
    ck_assert_uint_eq(gw->gw_ngroups, 1);
    ck_assert_uint_ne(gw->gw_default_group, 0);
    ck_assert_uint_eq(lg->gw_ngroups, 0);
    const gn_reg_device *out;
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "gwt", 3, "gw1", 3, &out), GN_REG_OK);   /* itself */
    ck_assert_ptr_eq(out, gw);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "t", 1, "d1", 2, &out), GN_REG_ERR_DISABLED);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "t", 1, "d2", 2, &out), GN_REG_ERR_DENIED);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "t", 1, "d9", 2, &out), GN_REG_ERR_NOT_FOUND);
    ck_assert_ptr_null(out);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, lg, "t", 1, "d2", 2, NULL), GN_REG_OK);       /* S-056 */
    ck_assert_int_eq(gn_reg_gateway_may_act(s, lg, "t", 1, "d3", 2, NULL), GN_REG_OK);
    gn_reg_counts c;
    gn_reg_get_counts(s, &c);
    ck_assert_uint_eq(c.gateways, 2);
    ck_assert_uint_eq(c.devices, 3);
    ck_assert_uint_eq(c.groups, 2);
    /* attach floor2 to gw1: d2 becomes reachable; the legacy gateway now limited to floor2 */
    ck_assert_int_eq(gn_store_group_gateway(st, "org003", "floor2", "gwt", "gw1", true), GN_REG_OK);
    ck_assert_int_eq(gn_store_group_gateway(st, "org003", "floor2", "gwt", "legacy", true), GN_REG_OK);
    ck_assert_int_eq(gn_store_group_gateway(st, "org003", "floor2", "t", "d3", true), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    gw = gn_reg_find_device(s, "org003", 6, "gwt", 3, "gw1", 3);
    lg = gn_reg_find_device(s, "org003", 6, "gwt", 3, "legacy", 6);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "t", 1, "d2", 2, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, lg, "t", 1, "d3", 2, NULL), GN_REG_ERR_DENIED);
    /* default group rules (S-056) */
    ck_assert_int_eq(gn_store_group_remove(st, "org003", "gw:gwt:gw1"), GN_REG_ERR_STATE);
    ck_assert_int_eq(gn_store_group_gateway(st, "org003", "gw:gwt:gw1", "gwt", "gw1", false), GN_REG_ERR_STATE);
    ck_assert_int_eq(gn_store_group_remove(st, "org003", "floor2"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    gw = gn_reg_find_device(s, "org003", 6, "gwt", 3, "gw1", 3);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "t", 1, "d2", 2, NULL), GN_REG_ERR_DENIED);
    /* removing the gateway removes its default group */
    ck_assert_int_eq(gn_store_device_remove(st, "org003", "gwt", "gw1"), GN_REG_OK);
    gn_store_group sg;
    ck_assert_int_eq(gn_store_group_get(st, "org003", "gw:gwt:gw1", &sg), GN_REG_ERR_NOT_FOUND);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

/* --------------------------------------------- running registry thread */

START_TEST(test_running_registry_sees_another_connections_change)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org004", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org004", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_registry *r = open_reg();
    gn_qsbr_reader *me = gn_qsbr_register(gn_registry_qsbr(r));
    char err[128];
    ck_assert_int_eq(gn_registry_start(r, err, sizeof err), GN_REG_OK);
    ck_assert_int_eq(gn_registry_start(r, err, sizeof err), GN_REG_ERR_STATE);
    gn_store_device_spec d = dev("org004", "t", "late", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    bool seen = false;
    for (int i = 0; i < 200 && !seen; i++) {
        const gn_reg_snapshot *s = gn_registry_snapshot(r);
        seen = gn_reg_find_device(s, "org004", 6, "t", 1, "late", 4) != NULL;
        gn_qsbr_quiescent(me);
        usleep(5000);
    }
    ck_assert(seen);
    gn_registry_stats stt;
    gn_registry_get_stats(r, &stt);
    ck_assert_uint_ge(stt.swaps, 2);
    gn_qsbr_unregister(me);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

/* ---------------------------------------------------- auto-registration */

static gn_reg_autoreg_result wait_result(gn_reg_port *p)
{
    gn_reg_autoreg_result res;
    for (int i = 0; i < 400; i++) {
        if (gn_registry_autoreg_poll(p, &res, 1) == 1)
            return res;
        usleep(5000);
    }
    ck_abort_msg("no auto-registration result");
    return res;
}

static atomic_int notified;
static void on_notify(void *ctx)
{
    (void)ctx;
    atomic_fetch_add(&notified, 1);
}

START_TEST(test_autoregistration)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org005", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org005", "gwt", GN_REG_GATEWAY, NULL), GN_REG_OK);
    gn_store_device_spec g = dev("org005", "gwt", "gw1", GN_REG_GATEWAY, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &g, NULL, NULL), GN_REG_OK);
    g = dev("org005", "gwt", "std", GN_REG_GATEWAY, NULL);
    g.role = GN_REG_GW_STANDARD;
    ck_assert_int_eq(gn_store_device_add(st, &g, NULL, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_set(st, "org005", "gw_max_devices", "2"), GN_REG_OK);
    gn_registry *r = open_reg();
    gn_reg_port *p = gn_registry_port_create(r, on_notify, NULL);
    ck_assert_ptr_nonnull(p);
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    const gn_reg_device *gw = gn_reg_find_device(s, "org005", 6, "gwt", 3, "gw1", 3);
    const gn_reg_device *sg = gn_reg_find_device(s, "org005", 6, "gwt", 3, "std", 3);
    /* refused at once */
    ck_assert_int_eq(gn_registry_autoreg_submit(p, sg, "new", 3, "x", 1, 1), GN_REG_ERR_NOT_PRIVILEGED);
    ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "new", 3, "x/y", 3, 1), GN_REG_ERR_INVALID);
    /* 128 pending at most (the thread is not running yet) */
    for (int i = 0; i < GN_REG_AUTOREG_MAX_PENDING; i++)
        ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "sensor", 6, "a1", 2, 100 + i), GN_REG_OK);
    ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "sensor", 6, "a2", 2, 999), GN_REG_ERR_BUSY);
    char err[128];
    ck_assert_int_eq(gn_registry_start(r, err, sizeof err), GN_REG_OK);
    int got = 0;
    gn_reg_autoreg_result res[GN_REG_AUTOREG_MAX_PENDING];
    for (int i = 0; i < 400 && got < GN_REG_AUTOREG_MAX_PENDING; i++) {
        got += (int)gn_registry_autoreg_poll(p, res + got, GN_REG_AUTOREG_MAX_PENDING - (uint32_t)got);
        if (got < GN_REG_AUTOREG_MAX_PENDING)
            usleep(5000);
    }
    ck_assert_int_eq(got, GN_REG_AUTOREG_MAX_PENDING);
    ck_assert_int_gt(atomic_load(&notified), 0);
    for (int i = 0; i < got; i++) {
        ck_assert_int_eq(res[i].err, GN_REG_OK);             /* the same device: registered once */
        ck_assert_uint_eq(res[i].cookie, 100 + (uint64_t)i);
        ck_assert_uint_eq(res[i].device_uid, res[0].device_uid);
    }
    /* the queue is free again; the device is in the snapshot, in gw1's default group */
    gn_qsbr_reader *me = gn_qsbr_register(gn_registry_qsbr(r));
    s = gn_registry_snapshot(r);
    ck_assert_uint_ge(gn_reg_generation(s), res[0].generation);
    gw = gn_reg_find_device(s, "org005", 6, "gwt", 3, "gw1", 3);
    const gn_reg_device *a1 = gn_reg_find_device(s, "org005", 6, "sensor", 6, "a1", 2);
    ck_assert_ptr_nonnull(a1);
    ck_assert_uint_eq(a1->registered_by, gw->uid);
    ck_assert(!a1->has_token);
    ck_assert_int_eq(gn_reg_gateway_may_act(s, gw, "sensor", 6, "a1", 2, NULL), GN_REG_OK);
    ck_assert_ptr_nonnull(gn_reg_find_type(s, "org005", 6, "sensor", 6));
    ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "sensor", 6, "a2", 2, 7), GN_REG_OK);
    gn_reg_autoreg_result one = wait_result(p);
    ck_assert_int_eq(one.err, GN_REG_OK);
    /* per-gateway device limit (2), then the failure is cached (S-060) */
    ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "sensor", 6, "a3", 2, 8), GN_REG_OK);
    one = wait_result(p);
    ck_assert_int_eq(one.err, GN_REG_ERR_LIMIT);
    ck_assert_int_eq(gn_store_org_set(st, "org005", "gw_max_devices", "10"), GN_REG_OK);
    ck_assert_int_eq(gn_registry_autoreg_submit(p, gw, "sensor", 6, "a3", 2, 9), GN_REG_OK);
    one = wait_result(p);
    ck_assert_int_eq(one.err, GN_REG_ERR_RETRY_LATER);
    gn_registry_stats stt;
    gn_registry_get_stats(r, &stt);
    ck_assert_uint_eq(stt.autoreg_busy, 1);
    ck_assert_uint_eq(stt.autoreg_failed, 2);
    gn_qsbr_unregister(me);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

/* ----------------------------------------- readers during snapshot swaps */

typedef struct reader_arg {
    gn_registry *r;
    atomic_bool *stop;
    uint64_t lookups, found;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    gn_qsbr_reader *me = gn_qsbr_register(gn_registry_qsbr(a->r));
    char id[16];
    while (!atomic_load(a->stop)) {
        const gn_reg_snapshot *s = gn_registry_snapshot(a->r);
        for (int i = 0; i < 64; i++) {
            int n = snprintf(id, sizeof id, "d%d", (int)(a->lookups % 300));
            const gn_reg_device *d = gn_reg_find_device(s, "org006", 6, "t", 1, id, (size_t)n);
            a->lookups++;
            if (d) {
                a->found++;
                ck_assert_int_eq(memcmp(d->id, id, (size_t)n), 0);
            }
        }
        gn_qsbr_quiescent(me);
    }
    gn_qsbr_unregister(me);
    return NULL;
}

START_TEST(test_readers_during_swaps)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org006", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org006", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_registry *r = open_reg();
    char err[128];
    ck_assert_int_eq(gn_registry_start(r, err, sizeof err), GN_REG_OK);
    atomic_bool stop = false;
    reader_arg ra[2] = {{r, &stop, 0, 0}, {r, &stop, 0, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, reader_main, &ra[i]);
    char id[16];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 300; i++) {
            snprintf(id, sizeof id, "d%d", i);
            gn_store_device_spec d = dev("org006", "t", id, GN_REG_DEVICE, NULL);
            d.no_token = true;
            if (round == 1)
                ck_assert_int_eq(gn_store_device_remove(st, "org006", "t", id), GN_REG_OK);
            else
                ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
            if (i % 50 == 0)
                usleep(2000);
        }
    usleep(100000);
    atomic_store(&stop, true);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_gt(ra[0].lookups, 0);
    gn_registry_stats stt;
    gn_registry_get_stats(r, &stt);
    ck_assert_uint_gt(stt.swaps, 3);
    gn_reg_counts c;
    gn_reg_get_counts(gn_registry_snapshot(r), &c);
    ck_assert_uint_eq(c.devices, 300);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

START_TEST(test_registry_without_store_has_quickstart_only)
{
    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = NULL;
    char err[128];
    gn_registry *r = gn_registry_open(&o, err, sizeof err);
    ck_assert_ptr_nonnull(r);
    const gn_reg_org *q = gn_reg_find_org(gn_registry_snapshot(r), "quickstart", 10);
    ck_assert_ptr_nonnull(q);
    ck_assert(q->s.allow_anonymous);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    ck_assert_str_eq(gn_reg_strerror(GN_REG_ERR_BUSY), "too many pending requests");
    ck_assert_str_eq(gn_reg_strerror((gn_reg_err)1000), "unknown registry error");
    gn_registry_close(r);
}
END_TEST


START_TEST(test_pruned_change_feed_forces_a_full_build)
{
    tmp_db();
    gn_store *st = open_store();
    ck_assert_int_eq(gn_store_org_create(st, "org007", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "org007", "t", GN_REG_DEVICE, NULL), GN_REG_OK);
    gn_registry *r = open_reg();
    gn_registry_stats s0, s1;
    gn_registry_get_stats(r, &s0);
    uint64_t g0 = gn_reg_generation(gn_registry_snapshot(r));
    gn_store_device_spec d = dev("org007", "t", "p1", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    d = dev("org007", "t", "p2", GN_REG_DEVICE, NULL);
    ck_assert_int_eq(gn_store_device_add(st, &d, NULL, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_prune_changes(st, 0), GN_REG_OK);   /* the feed no longer reaches back */
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    gn_registry_get_stats(r, &s1);
    ck_assert_uint_eq(s1.full_builds, s0.full_builds + 1);
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    ck_assert_uint_gt(gn_reg_generation(s), g0);
    ck_assert_ptr_nonnull(gn_reg_find_device(s, "org007", 6, "t", 1, "p1", 2));
    ck_assert_ptr_nonnull(gn_reg_find_device(s, "org007", 6, "t", 1, "p2", 2));
    /* the rebuild logged what the old snapshot had and the new one lacks */
    ck_assert_int_eq(gn_store_device_remove(st, "org007", "t", "p1"), GN_REG_OK);
    ck_assert_int_eq(gn_store_prune_changes(st, 0), GN_REG_OK);
    uint64_t g1 = gn_reg_generation(s);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    s = gn_registry_snapshot(r);
    ck_assert_ptr_null(gn_reg_find_device(s, "org007", 6, "t", 1, "p1", 2));
    revs rv = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, g1, count_rev, &rv), GN_REG_OK);
    ck_assert_int_eq(rv.n, 1);
    ck_assert_str_eq(rv.last, "d:org007:t:p1");
    ck_assert(rv.removed);
    /* afterwards the feed continues from where the rebuild left off: a patch */
    ck_assert_int_eq(gn_store_device_set_status(st, "org007", "t", "p2", GN_REG_DISABLED), GN_REG_OK);
    gn_registry_get_stats(r, &s0);
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    gn_registry_get_stats(r, &s1);
    ck_assert_uint_eq(s1.full_builds, s0.full_builds);
    s = gn_registry_snapshot(r);
    ck_assert_uint_eq(gn_reg_find_device(s, "org007", 6, "t", 1, "p2", 2)->status, GN_REG_DISABLED);
    gn_registry_close(r);
    gn_store_close(st);
    rm_db();
}
END_TEST

Suite *reg_hash_suite(void);
Suite *reg_ipacl_suite(void);
Suite *reg_trust_suite(void);      /* test_reg_trust.c */

int main(void)
{
    Suite *s = suite_create("registry");
    TCase *tc = tcase_create("registry");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_table_build_find_patch_shares_untouched_segments);
    tcase_add_test(tc, test_store_creates_schema_and_rejects_bad_input);
    tcase_add_test(tc, test_snapshot_follows_store_changes_and_logs_revocations);
    tcase_add_test(tc, test_snapshot_ip_list_changes_are_logged_for_recheck);
    tcase_add_test(tc, test_revocation_log_reports_too_old_after_overflow);
    tcase_add_test(tc, test_type_settings_migrate_patch_and_remove);
    tcase_add_test(tc, test_gateway_resource_groups);
    tcase_add_test(tc, test_running_registry_sees_another_connections_change);
    tcase_add_test(tc, test_autoregistration);
    tcase_add_test(tc, test_readers_during_swaps);
    tcase_add_test(tc, test_registry_without_store_has_quickstart_only);
    tcase_add_test(tc, test_pruned_change_feed_forces_a_full_build);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_add_suite(sr, reg_hash_suite());
    srunner_add_suite(sr, reg_ipacl_suite());
    srunner_add_suite(sr, reg_trust_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
