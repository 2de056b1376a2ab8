/* tests/fuzz/fuzz_capem.c — libFuzzer target for an org's uploaded CA
 * file (engine/platform/reg_capem.c, `gannetctl org ca add`, S-036): the
 * untrusted PEM text. Properties: no crash / leak / over-read (ASan,
 * UBSan); success gives 1..GN_REG_ORG_CA_MAX certificates, each a CA
 * with a 64-hex-digit fingerprint; failure keeps nothing and says why. */
#include <string.h>

#include <openssl/x509v3.h>

#include "engine/platform/reg_trust.h"
#include "tests/fuzz/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    X509 *certs[GN_REG_ORG_CA_MAX];
    int n = -1;
    char err[256] = "";
    gn_reg_err rc = gn_reg_ca_parse((const char *)data, size, certs, &n, err, sizeof err);
    if (rc != GN_REG_OK) {
        FUZZ_CHECK(n == 0 && err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(n >= 1 && n <= GN_REG_ORG_CA_MAX);
    for (int i = 0; i < n; i++) {
        FUZZ_CHECK(X509_check_ca(certs[i]) == 1);
        gn_store_ca ca;
        memset(&ca, 0, sizeof ca);
        if (gn_reg_ca_describe(certs[i], &ca) == 0)
            FUZZ_CHECK(strlen(ca.fingerprint) == 64 && strspn(ca.fingerprint, "0123456789abcdef") == 64);
        X509_free(certs[i]);
    }
    return 0;
}
