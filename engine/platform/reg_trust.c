/* engine/platform/reg_trust.c — building the orgs' trust stores from the
 * org_cas rows (see reg_trust.h): an array of (org, X509_STORE) sorted by
 * org id, the union store and the anchors-only store. */
#include "engine/platform/reg_trust.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

typedef struct org_store {
    char        org[GN_REG_ORG_MAX + 1];
    uint8_t     org_len;
    X509_STORE *store;
} org_store;

struct gn_reg_trust {
    X509_STORE *anchors;                /* tls_ca_file alone */
    X509_STORE *all;                    /* anchors + every org's CAs */
    org_store  *orgs;                   /* sorted by org id */
    size_t      n, cap;
};

STACK_OF(X509) *gn_reg_trust_load_anchors(const char *path, char *err, size_t errlen)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    if (!sk || !path || !*path)
        return sk;
    BIO *in = BIO_new_file(path, "r");
    if (!in) {
        snprintf(err, errlen, "tls_ca_file %s: cannot be read", path);
        sk_X509_free(sk);
        ERR_clear_error();
        return NULL;
    }
    X509 *x;
    while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL)
        if (!sk_X509_push(sk, x))
            X509_free(x);
    ERR_clear_error();                  /* the end of the file */
    BIO_free(in);
    return sk;
}

static X509_STORE *store_with(STACK_OF(X509) *anchors)
{
    X509_STORE *s = X509_STORE_new();
    for (int i = 0; s && anchors && i < sk_X509_num(anchors); i++)
        X509_STORE_add_cert(s, sk_X509_value(anchors, i));
    return s;
}

static int org_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static const org_store *find(const gn_reg_trust *t, const char *org, size_t len)
{
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = org_cmp(t->orgs[mid].org, t->orgs[mid].org_len, org, len);
        if (!c)
            return &t->orgs[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

typedef struct build_ctx {
    gn_reg_trust   *t;
    STACK_OF(X509) *anchors;
    unsigned        skipped;
    bool            nomem;
} build_ctx;

/* One org_cas row (rows come ordered by org). */
static void add_row(void *ctx, const gn_store_ca *ca)
{
    build_ctx *b = ctx;
    gn_reg_trust *t = b->t;
    if (b->nomem)
        return;
    BIO *in = BIO_new_mem_buf(ca->pem, (int)ca->pem_len);
    X509 *x = in ? PEM_read_bio_X509(in, NULL, NULL, NULL) : NULL;
    BIO_free(in);
    if (!x) {
        ERR_clear_error();
        b->skipped++;
        return;
    }
    size_t ol = strlen(ca->org);
    if (!t->n || org_cmp(t->orgs[t->n - 1].org, t->orgs[t->n - 1].org_len, ca->org, ol) != 0) {
        if (t->n == t->cap) {
            size_t nc = t->cap ? 2 * t->cap : 16;
            org_store *nv = realloc(t->orgs, nc * sizeof *nv);
            if (!nv) {
                b->nomem = true;
                X509_free(x);
                return;
            }
            t->orgs = nv;
            t->cap = nc;
        }
        org_store *o = &t->orgs[t->n];
        memset(o, 0, sizeof *o);
        memcpy(o->org, ca->org, ol + 1);
        o->org_len = (uint8_t)ol;
        if (!(o->store = store_with(b->anchors))) {
            b->nomem = true;
            X509_free(x);
            return;
        }
        t->n++;
    }
    X509_STORE_add_cert(t->orgs[t->n - 1].store, x);   /* takes its own reference */
    X509_STORE_add_cert(t->all, x);                     /* a duplicate is ignored */
    X509_free(x);
    ERR_clear_error();
}

gn_reg_err gn_reg_trust_build(gn_store *st, STACK_OF(X509) *anchors, gn_reg_trust **out,
                              unsigned *skipped)
{
    *out = NULL;
    *skipped = 0;
    gn_reg_trust *t = calloc(1, sizeof *t);
    if (!t || !(t->anchors = store_with(anchors)) || !(t->all = store_with(anchors))) {
        gn_reg_trust_free(t);
        return GN_REG_ERR_NOMEM;
    }
    build_ctx b = {.t = t, .anchors = anchors};
    gn_reg_err rc = gn_store_org_ca_each(st, NULL, add_row, &b);
    if (rc == GN_REG_OK && b.nomem)
        rc = GN_REG_ERR_NOMEM;
    *skipped = b.skipped;
    if (rc != GN_REG_OK) {
        gn_reg_trust_free(t);
        return rc;
    }
    *out = t;
    return GN_REG_OK;
}

void gn_reg_trust_free(gn_reg_trust *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        X509_STORE_free(t->orgs[i].store);
    free(t->orgs);
    X509_STORE_free(t->anchors);
    X509_STORE_free(t->all);
    free(t);
}

X509_STORE *gn_reg_trust_org(const gn_reg_trust *t, const char *org, size_t len)
{
    const org_store *o = find(t, org, len);
    return o ? o->store : t->anchors;
}

X509_STORE *gn_reg_trust_union(const gn_reg_trust *t) { return t->all; }

bool gn_reg_trust_any(const gn_reg_trust *t) { return t->n > 0; }

bool gn_reg_trust_has_org(const gn_reg_trust *t, const char *org, size_t len)
{
    return find(t, org, len) != NULL;
}
