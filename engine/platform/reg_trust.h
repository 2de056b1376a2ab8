/* engine/platform/reg_trust.h — the orgs' uploaded CA certificates
 * (PLATFORM.md S-036) as OpenSSL trust stores. The registry thread builds
 * one gn_reg_trust from the store whenever the org_cas table changes and
 * publishes it next to the snapshot (gn_registry_trust):
 *   - per org with CAs: an X509_STORE of the global anchors (the
 *     listener's tls_ca_file) plus the org's own CAs;
 *   - one union store: the anchors plus every org's CAs, for handshakes
 *     that do not name an org by SNI;
 *   - the anchors alone, for an org without CAs of its own.
 * A client certificate is verified in the handshake against the union (or
 * the SNI org's store) and again at CONNECT against its org's store.
 *
 * Threading: built on the registry thread; immutable once published.
 * Readers are QSBR readers (shards): a store they get stays valid for the
 * rest of their loop turn; whoever keeps one longer takes a reference
 * (X509_STORE_up_ref; SSL_set1_verify_cert_store does). */
#ifndef GN_ENGINE_PLATFORM_REG_TRUST_H
#define GN_ENGINE_PLATFORM_REG_TRUST_H

#include <stddef.h>

#include <openssl/x509.h>

#include "engine/platform/registry_store.h"

/* ---- an uploaded CA file (reg_capem.c; any thread, no state) */
/* Parse pem[0..len) (untrusted) into its certificates: 1..GN_REG_ORG_CA_MAX
 * into out (the caller frees each with X509_free), every one a CA
 * (basicConstraints CA:TRUE, keyCertSign when it has a key usage) that
 * has not expired. On error nothing is kept (*n = 0) and err says why:
 * GN_REG_ERR_INVALID (larger than GN_REG_CA_FILE_MAX, damaged PEM, no
 * certificate, not a CA), _LIMIT (too many), _NOMEM. */
gn_reg_err gn_reg_ca_parse(const char *pem, size_t len, X509 *out[GN_REG_ORG_CA_MAX], int *n,
                           char *err, size_t errlen);
/* A certificate's row fields (fingerprint, subject, not_after) into ca;
 * 0, or -1 when one cannot be made. */
int gn_reg_ca_describe(X509 *x, gn_store_ca *ca);

typedef struct gn_reg_trust gn_reg_trust;

/* The certificates of a PEM file (the global anchors), or NULL with err
 * filled. An empty path gives an empty stack. */
STACK_OF(X509) *gn_reg_trust_load_anchors(const char *path, char *err, size_t errlen);

/* Build from every org_cas row of st; anchors (may be NULL) go into every
 * store.
 * Rows that no longer parse (edited outside gannetctl) are skipped and
 * counted in *skipped. GN_REG_ERR_NOMEM / _STORE. */
gn_reg_err gn_reg_trust_build(gn_store *st, STACK_OF(X509) *anchors, gn_reg_trust **out,
                              unsigned *skipped);
void gn_reg_trust_free(gn_reg_trust *t);

/* The org's store (anchors + its CAs; the anchors alone when it has
 * none), and the union store. Never NULL for a non-NULL t. */
X509_STORE *gn_reg_trust_org(const gn_reg_trust *t, const char *org, size_t len);
X509_STORE *gn_reg_trust_union(const gn_reg_trust *t);
/* Does any org have CAs (else the handshake's tls_ca_file verification
 * already is every org's)? Does this org? */
bool gn_reg_trust_any(const gn_reg_trust *t);
bool gn_reg_trust_has_org(const gn_reg_trust *t, const char *org, size_t len);

#endif
