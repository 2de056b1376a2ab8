/* engine/platform/reg_capem.c — an org's uploaded CA file (PLATFORM.md
 * S-036) from untrusted text to checked certificates: PEM parsing with a
 * reason for every refusal, the CA checks (basicConstraints CA:TRUE, the
 * Certificate Sign key usage, not expired) and the fields a stored CA
 * row carries (fingerprint, subject, expiry). No store, no allocation
 * kept: the caller owns the certificates (see reg_trust.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "engine/platform/reg_trust.h"

/* The newest OpenSSL error as ": reason" ("" when none), queue cleared. */
static void ssl_reason(char *out, size_t len)
{
    unsigned long e = ERR_peek_last_error();
    out[0] = '\0';
    if (e) {
        const char *r = ERR_reason_error_string(e);
        snprintf(out, len, ": %s", r ? r : "unknown error");
    }
    ERR_clear_error();
}

int gn_reg_ca_describe(X509 *x, gn_store_ca *ca)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
        return -1;
    for (unsigned i = 0; i < n; i++)
        snprintf(ca->fingerprint + 2 * i, 3, "%02x", md[i]);
    BIO *b = BIO_new(BIO_s_mem());
    if (!b)
        return -1;
    X509_NAME_print_ex(b, X509_get_subject_name(x), 0, XN_FLAG_RFC2253);
    int sl = BIO_read(b, ca->subject, (int)sizeof ca->subject - 1);
    ca->subject[sl > 0 ? sl : 0] = '\0';
    BIO_free(b);
    struct tm tm;
    if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
        return -1;
    ca->not_after = (int64_t)timegm(&tm);
    return 0;
}

/* Why x cannot be an org's CA, or NULL. */
static const char *not_a_ca(X509 *x)
{
    if (X509_check_ca(x) != 1)
        return "is not a CA certificate (basicConstraints CA:TRUE)";
    uint32_t ku = X509_get_key_usage(x);
    if (ku != UINT32_MAX && !(ku & KU_KEY_CERT_SIGN))
        return "lacks the Certificate Sign (keyCertSign) key usage";
    if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
        return "has expired";
    return NULL;
}

gn_reg_err gn_reg_ca_parse(const char *pem, size_t len, X509 *out[GN_REG_ORG_CA_MAX], int *n,
                           char *err, size_t errlen)
{
    *n = 0;
    if (len > GN_REG_CA_FILE_MAX) {
        snprintf(err, errlen, "more than %d bytes: not a CA file", GN_REG_CA_FILE_MAX);
        return GN_REG_ERR_INVALID;
    }
    BIO *in = BIO_new_mem_buf(pem, (int)len);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return GN_REG_ERR_NOMEM;
    }
    gn_reg_err rc = GN_REG_OK;
    char why[160] = "";
    ERR_clear_error();
    for (;;) {
        X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
        if (!x) {
            unsigned long e = ERR_peek_last_error();
            /* the end of the input is "no start line"; anything else is damage */
            if (!(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
                ssl_reason(why, sizeof why);
                snprintf(err, errlen, "certificate %d is not valid PEM%s", *n + 1, why);
                rc = GN_REG_ERR_INVALID;
            }
            break;
        }
        const char *bad = not_a_ca(x);
        if (bad || *n == GN_REG_ORG_CA_MAX) {
            if (bad)
                snprintf(err, errlen, "certificate %d %s", *n + 1, bad);
            else
                snprintf(err, errlen, "more than %d certificates in the file", GN_REG_ORG_CA_MAX);
            rc = bad ? GN_REG_ERR_INVALID : GN_REG_ERR_LIMIT;
            X509_free(x);
            break;
        }
        out[(*n)++] = x;
    }
    ERR_clear_error();
    BIO_free(in);
    if (rc == GN_REG_OK && *n == 0) {
        snprintf(err, errlen, "no PEM certificate (-----BEGIN CERTIFICATE-----) in the file");
        rc = GN_REG_ERR_INVALID;
    }
    if (rc != GN_REG_OK) {
        for (int i = 0; i < *n; i++)
            X509_free(out[i]);
        *n = 0;
    }
    return rc;
}
