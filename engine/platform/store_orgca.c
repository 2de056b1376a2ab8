/* engine/platform/store_orgca.c — the registry store's org CA
 * certificates (PLATFORM.md S-036): the org_cas rows of an uploaded PEM
 * file (parsed and checked by reg_capem.c; one row per certificate, kept
 * as canonical PEM with its SHA-256 fingerprint, subject and expiry),
 * listing, removal, and the version the registry thread compares to know
 * when to rebuild its trust stores (reg_trust.c). See registry_store.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "engine/platform/reg_hash.h"
#include "engine/platform/reg_trust.h"
#include "engine/platform/store_int.h"

static gn_reg_err insert_ca(gn_store *st, int64_t ouid, X509 *x, const char *org, int nth,
                            gn_store_ca *ca)
{
    memset(ca, 0, sizeof *ca);
    if (gn_reg_ca_describe(x, ca) != 0)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "certificate %d: cannot read its fingerprint, subject or expiry", nth);
    BIO *b = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long pl = 0;
    if (!b || PEM_write_bio_X509(b, x) != 1 || (pl = BIO_get_mem_data(b, &pem)) <= 0) {
        BIO_free(b);
        return gn_st_fail(st, GN_REG_ERR_NOMEM, "out of memory encoding certificate %d", nth);
    }
    sqlite3_stmt *s = gn_st_stmt(st, "INSERT INTO org_cas(org_uid, fingerprint, subject, not_after, pem)"
                                     " VALUES(?1,?2,?3,?4,?5)");
    gn_reg_err rc = GN_REG_ERR_STORE;
    if (s) {
        sqlite3_bind_int64(s, 1, ouid);
        sqlite3_bind_text(s, 2, ca->fingerprint, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, ca->subject, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, ca->not_after);
        sqlite3_bind_text(s, 5, pem, (int)pl, SQLITE_TRANSIENT);
        rc = gn_st_run(st, s, "add CA certificate");
        if (rc == GN_REG_ERR_EXISTS)
            rc = gn_st_fail(st, rc, "CA %s is already in org '%s'", ca->fingerprint, org);
    }
    BIO_free(b);
    return rc;
}

gn_reg_err gn_store_org_ca_add(gn_store *st, const char *org, const char *pem, size_t len,
                               void (*fn)(void *ctx, const gn_store_ca *ca), void *ctx)
{
    int64_t ouid;
    gn_reg_err rc = gn_st_org_uid(st, org, &ouid);
    if (rc != GN_REG_OK)
        return rc;
    if (!strcmp(org, GN_REG_QUICKSTART))
        return gn_st_fail(st, GN_REG_ERR_STATE, "Quickstart has no TLS: it takes no CA certificates");
    X509 *certs[GN_REG_ORG_CA_MAX];
    int n = 0;
    char why[256];
    rc = gn_reg_ca_parse(pem, len, certs, &n, why, sizeof why);
    if (rc != GN_REG_OK)
        return gn_st_fail(st, rc, "%s", why);
    bool own = false;
    int64_t have = 0;
    rc = gn_st_txn_begin(st, &own);
    if (rc == GN_REG_OK) {
        rc = gn_st_scalar_i(st, "SELECT count(*) FROM org_cas WHERE org_uid=?1", &have, ouid);
        if (rc == GN_REG_OK && have + n > GN_REG_ORG_CA_MAX)
            rc = gn_st_fail(st, GN_REG_ERR_LIMIT, "org '%s' would have %lld CA certificates (at most %d)",
                            org, (long long)(have + n), GN_REG_ORG_CA_MAX);
        gn_store_ca ca[GN_REG_ORG_CA_MAX];
        for (int i = 0; rc == GN_REG_OK && i < n; i++)
            rc = insert_ca(st, ouid, certs[i], org, i + 1, &ca[i]);
        rc = gn_st_txn_end(st, own, rc);
        for (int i = 0; rc == GN_REG_OK && fn && i < n; i++)
            fn(ctx, &ca[i]);
    }
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    return rc;
}

static const char ca_list_sql[] =
    "SELECT o.id, c.fingerprint, c.subject, c.not_after, c.pem FROM org_cas c"
    " JOIN orgs o ON o.uid=c.org_uid WHERE ?1 IS NULL OR o.id=?1 ORDER BY o.id, c.uid";

gn_reg_err gn_store_org_ca_each(gn_store *st, const char *org,
                                void (*fn)(void *ctx, const gn_store_ca *ca), void *ctx)
{
    sqlite3_stmt *s;
    gn_reg_err rc;
    if (org) {
        rc = gn_st_org_query(st, org, ca_list_sql, &s);
        if (rc != GN_REG_OK)
            return rc;
    } else if (!(s = gn_st_stmt(st, ca_list_sql))) {
        return GN_REG_ERR_STORE;
    }
    int r;
    while ((r = sqlite3_step(s)) == SQLITE_ROW) {
        gn_store_ca ca;
        memset(&ca, 0, sizeof ca);
        gn_st_col_text(s, 0, ca.org, sizeof ca.org, NULL);
        gn_st_col_text(s, 1, ca.fingerprint, sizeof ca.fingerprint, NULL);
        snprintf(ca.subject, sizeof ca.subject, "%s", (const char *)sqlite3_column_text(s, 2));
        ca.not_after = sqlite3_column_int64(s, 3);
        ca.pem = (const char *)sqlite3_column_text(s, 4);
        ca.pem_len = (size_t)sqlite3_column_bytes(s, 4);
        fn(ctx, &ca);
    }
    sqlite3_reset(s);
    return r == SQLITE_DONE ? GN_REG_OK : gn_st_db_fail(st, "list CA certificates");
}

gn_reg_err gn_store_org_ca_remove(gn_store *st, const char *org, const char *fingerprint,
                                  char removed[65])
{
    int64_t ouid;
    gn_reg_err rc = gn_st_org_uid(st, org, &ouid);
    if (rc != GN_REG_OK)
        return rc;
    size_t fl = strlen(fingerprint);
    char want[65];
    size_t wl = 0;
    for (size_t i = 0; i < fl && wl < 64; i++) {        /* "AB:CD:.." or "abcd.." */
        char ch = fingerprint[i];
        if (ch == ':')
            continue;
        if (ch >= 'A' && ch <= 'F')
            ch = (char)(ch - 'A' + 'a');
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
            return gn_st_fail(st, GN_REG_ERR_INVALID, "'%s' is not a SHA-256 fingerprint (hex)", fingerprint);
        want[wl++] = ch;
    }
    want[wl] = '\0';
    if (wl < 8)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "give at least 8 hex digits of the fingerprint");
    /* the matching rows (at most two needed to tell "several") */
    sqlite3_stmt *s = gn_st_stmt(st, "SELECT c.uid, c.fingerprint FROM org_cas c WHERE c.org_uid=?1"
                                     " AND substr(c.fingerprint,1,length(?2))=?2 LIMIT 2");
    if (!s)
        return GN_REG_ERR_STORE;
    sqlite3_bind_int64(s, 1, ouid);
    sqlite3_bind_text(s, 2, want, -1, SQLITE_STATIC);
    int n = 0, r;
    int64_t uid = -1;
    while ((r = sqlite3_step(s)) == SQLITE_ROW && ++n == 1) {
        uid = sqlite3_column_int64(s, 0);
        gn_st_col_text(s, 1, removed, 65, NULL);
    }
    sqlite3_reset(s);
    if (r != SQLITE_ROW && r != SQLITE_DONE)
        return gn_st_db_fail(st, "find CA certificate");
    if (n == 0)
        return gn_st_fail(st, GN_REG_ERR_NOT_FOUND, "no CA %s in org '%s'", want, org);
    if (n > 1)
        return gn_st_fail(st, GN_REG_ERR_INVALID, "%s names several CAs of org '%s': give more digits", want, org);
    return gn_st_exec_i(st, "DELETE FROM org_cas WHERE uid=?1", uid);
}

gn_reg_err gn_store_org_ca_version(gn_store *st, int64_t *out)
{
    /* the count changes on every removal, the sequence on every insert */
    return gn_st_scalar(st, "SELECT (SELECT count(*) FROM org_cas) * 4294967296 +"
                            " coalesce((SELECT seq FROM sqlite_sequence WHERE name='org_cas'), 0)",
                        out, 0, NULL, NULL, NULL);
}
