/* tests/registry/test_reg_trust.c — a device type's own TLS policy and
 * the orgs' CA certificates below the engine (S-035, S-036): the store's
 * rows, the snapshot's type records, the revocation log's `tls` entries
 * (connected clients get rechecked) and the trust stores the registry
 * publishes, with certificates made here by OpenSSL. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "engine/platform/reg_trust.h"
#include "engine/platform/registry.h"
#include "engine/platform/registry_store.h"

Suite *reg_trust_suite(void);

static char path[256];

static EVP_PKEY *key(void) { return EVP_EC_gen("P-256"); }

static void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX c;
    X509V3_set_ctx(&c, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &c, nid, value);
    ck_assert_ptr_nonnull(e);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
}

/* A certificate for cn with key k, signed by (issuer, ikey) or itself. */
static X509 *cert(const char *cn, EVP_PKEY *k, X509 *issuer, EVP_PKEY *ikey, bool ca)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(random() & 0x7fffffff));
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
    X509_set_pubkey(x, k);
    ext(x, issuer ? issuer : x, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ext(x, issuer ? issuer : x, NID_key_usage, ca ? "critical,keyCertSign" : "critical,digitalSignature");
    ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
    if (!ca)
        ext(x, issuer, NID_ext_key_usage, "clientAuth");
    ck_assert_int_gt(X509_sign(x, ikey ? ikey : k, EVP_sha256()), 0);
    return x;
}

static char *pem_of(X509 *x, size_t *len)
{
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(b, x);
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    char *out = malloc((size_t)n);
    memcpy(out, p, (size_t)n);
    *len = (size_t)n;
    BIO_free(b);
    return out;
}

static bool verifies(X509_STORE *store, X509 *leaf)
{
    X509_STORE_CTX *c = X509_STORE_CTX_new();
    X509_STORE_CTX_init(c, store, leaf, NULL);
    X509_STORE_CTX_set_purpose(c, X509_PURPOSE_SSL_CLIENT);
    bool ok = X509_verify_cert(c) == 1;
    X509_STORE_CTX_free(c);
    return ok;
}

typedef struct tls_revs {
    int tls, other;
    char last[64];
} tls_revs;

static void count_tls(void *ctx, const gn_reg_revoked *r)
{
    tls_revs *v = ctx;
    if (r->tls)
        v->tls++;
    else
        v->other++;
    snprintf(v->last, sizeof v->last, "%c:%.*s:%.*s", r->kind, r->org_len, r->org, r->type_len, r->type);
}

static tls_revs since(gn_registry *r, uint64_t *gen)
{
    ck_assert_int_eq(gn_registry_refresh(r), GN_REG_OK);
    const gn_reg_snapshot *s = gn_registry_snapshot(r);
    tls_revs v = {0};
    ck_assert_int_eq(gn_reg_revoked_since(s, *gen, count_tls, &v), GN_REG_OK);
    *gen = gn_reg_generation(s);
    return v;
}

START_TEST(test_type_policy_and_org_cas_reach_the_registry)
{
    char dir[] = "/tmp/gntrust-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/registry.db", dir);
    gn_store *st = NULL;
    char err[256];
    ck_assert_msg(gn_store_open(&st, path, GN_STORE_CREATE, 2000, err, sizeof err) == GN_REG_OK, "%s", err);
    ck_assert_int_eq(gn_store_org_create(st, "orga01", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_create(st, "orgb02", NULL, 0, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_add(st, "orga01", "tt", GN_REG_DEVICE, NULL), GN_REG_OK);

    EVP_PKEY *ka = key(), *kb = key(), *kl = key();
    X509 *ca_a = cert("CA A", ka, NULL, NULL, true), *ca_b = cert("CA B", kb, NULL, NULL, true);
    X509 *leaf = cert("d:tt:dev1", kl, ca_a, ka, false);
    size_t la, ll;
    char *pa = pem_of(ca_a, &la), *pl = pem_of(leaf, &ll);

    gn_registry_opts o;
    gn_registry_opts_default(&o);
    o.path = path;
    gn_registry *r = gn_registry_open(&o, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    uint64_t gen = gn_reg_generation(gn_registry_snapshot(r));
    const gn_reg_trust *t = gn_registry_trust(r);
    ck_assert_ptr_nonnull(t);
    ck_assert(!gn_reg_trust_any(t));

    /* S-035: the type's own policy, and back to the org's */
    ck_assert_int_eq(gn_store_type_set_tls_policy(st, "orga01", "tt", "cert"), GN_REG_OK);
    ck_assert_int_eq(gn_store_type_set_tls_policy(st, "orga01", "tt", "strict"), GN_REG_ERR_INVALID);
    tls_revs v = since(r, &gen);
    const gn_reg_type *ty = gn_reg_find_type(gn_registry_snapshot(r), "orga01", 6, "tt", 2);
    ck_assert(ty->has_tls_policy);
    ck_assert_int_eq(ty->tls_policy, GN_REG_TLS_CERT);
    ck_assert_int_eq(v.tls, 1);
    ck_assert_str_eq(v.last, "t:orga01:tt");
    ck_assert_int_eq(gn_store_type_set_tls_policy(st, "orga01", "tt", "org"), GN_REG_OK);
    v = since(r, &gen);
    ck_assert(!gn_reg_find_type(gn_registry_snapshot(r), "orga01", 6, "tt", 2)->has_tls_policy);
    ck_assert_int_eq(v.tls, 1);
    ck_assert_int_eq(gn_store_type_set_tls_policy(st, "orga01", "tt", "org"), GN_REG_OK);
    v = since(r, &gen);                                 /* the same again: nothing to recheck */
    ck_assert_int_eq(v.tls + v.other, 0);

    /* S-036: a leaf certificate is no CA; org A's CA verifies org A's devices only */
    ck_assert_int_eq(gn_store_org_ca_add(st, "orga01", pl, ll, NULL, NULL), GN_REG_ERR_INVALID);
    ck_assert_str_eq(gn_store_errmsg(st), "certificate 1 is not a CA certificate (basicConstraints CA:TRUE)");
    ck_assert_int_eq(gn_store_org_ca_add(st, "orga01", pa, la, NULL, NULL), GN_REG_OK);
    ck_assert_int_eq(gn_store_org_ca_add(st, "orga01", pa, la, NULL, NULL), GN_REG_ERR_EXISTS);
    v = since(r, &gen);
    ck_assert_int_eq(v.tls, 1);
    ck_assert_str_eq(v.last, "o:orga01:");
    t = gn_registry_trust(r);
    ck_assert(gn_reg_trust_any(t));
    ck_assert(gn_reg_trust_has_org(t, "orga01", 6));
    ck_assert(!gn_reg_trust_has_org(t, "orgb02", 6));
    ck_assert(verifies(gn_reg_trust_org(t, "orga01", 6), leaf));
    ck_assert(verifies(gn_reg_trust_union(t), leaf));
    ck_assert(!verifies(gn_reg_trust_org(t, "orgb02", 6), leaf));     /* anchors only: none */
    /* the org's CA fingerprint removes it; the stores follow */
    gn_store_ca ca;
    memset(&ca, 0, sizeof ca);
    ck_assert_int_eq(gn_reg_ca_describe(ca_a, &ca), 0);
    char removed[65];
    ck_assert_int_eq(gn_store_org_ca_remove(st, "orgb02", ca.fingerprint, removed), GN_REG_ERR_NOT_FOUND);
    ck_assert_int_eq(gn_store_org_ca_remove(st, "orga01", ca.fingerprint, removed), GN_REG_OK);
    ck_assert_str_eq(removed, ca.fingerprint);
    v = since(r, &gen);
    ck_assert_int_eq(v.tls, 1);
    t = gn_registry_trust(r);
    ck_assert(!gn_reg_trust_any(t));
    ck_assert(!verifies(gn_reg_trust_org(t, "orga01", 6), leaf));

    gn_registry_stats rs;
    gn_registry_get_stats(r, &rs);
    ck_assert_uint_ge(rs.trust_builds, 3);
    gn_registry_close(r);
    gn_store_close(st);
    free(pa);
    free(pl);
    X509_free(ca_a);
    X509_free(ca_b);
    X509_free(leaf);
    EVP_PKEY_free(ka);
    EVP_PKEY_free(kb);
    EVP_PKEY_free(kl);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *reg_trust_suite(void)
{
    Suite *s = suite_create("reg_trust");
    TCase *tc = tcase_create("trust");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_type_policy_and_org_cas_reach_the_registry);
    suite_add_tcase(s, tc);
    return s;
}
