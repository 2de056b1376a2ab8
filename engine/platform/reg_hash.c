/* engine/platform/reg_hash.c — token hashing for the registry:
 * PBKDF2-HMAC-SHA256 over OpenSSL's SHA-256 block function (SHA-NI where
 * the CPU has it), with the HMAC pad states computed once per check and
 * each iteration two block transforms on the stack: no allocation, which
 * OpenSSL's EVP/PKCS5 paths would do per call. The unit tests compare it
 * with PKCS5_PBKDF2_HMAC. */
#define OPENSSL_SUPPRESS_DEPRECATED 1   /* SHA256_Init/Transform: the low-level block API */
#include "engine/platform/reg_hash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static void be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void state_out(const SHA256_CTX *c, uint8_t out[32])
{
    for (int i = 0; i < 8; i++)
        be32_put(out + 4 * i, c->h[i]);
}

/* One block holding a 32-byte message that follows a 64-byte prefix (the
 * pad): total 96 bytes = 768 bits. Only the first 32 bytes vary. */
static void block96_init(uint8_t blk[64])
{
    memset(blk, 0, 64);
    blk[32] = 0x80;
    blk[62] = 0x03;   /* 768 = 0x300 */
}

typedef struct hmac_pads {
    SHA256_CTX ipad, opad;           /* states after absorbing key^ipad / key^opad */
} hmac_pads;

static void pads_init(hmac_pads *p, const uint8_t *key, size_t key_len)
{
    uint8_t k[64] = {0}, blk[64];
    if (key_len > 64) {
        SHA256(key, key_len, k);
    } else if (key_len) {
        memcpy(k, key, key_len);
    }
    for (int i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x36;
    SHA256_Init(&p->ipad);
    SHA256_Update(&p->ipad, blk, 64);
    for (int i = 0; i < 64; i++)
        blk[i] = k[i] ^ 0x5c;
    SHA256_Init(&p->opad);
    SHA256_Update(&p->opad, blk, 64);
    OPENSSL_cleanse(k, sizeof k);
    OPENSSL_cleanse(blk, sizeof blk);
}

/* HMAC of a 32-byte message: two block transforms. */
static void hmac32(const hmac_pads *p, uint8_t blk[64], const uint8_t in[32], uint8_t out[32])
{
    SHA256_CTX c = p->ipad;
    memcpy(blk, in, 32);
    SHA256_Transform(&c, blk);
    state_out(&c, blk);
    c = p->opad;
    SHA256_Transform(&c, blk);
    state_out(&c, out);
}

void gn_reg_pbkdf2_sha256(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                          size_t salt_len, uint32_t iterations, uint8_t out[GN_REG_HASH_LEN])
{
    hmac_pads p;
    pads_init(&p, pass, pass_len);
    /* U1 = HMAC(P, salt || INT(1)) through the generic path */
    uint8_t u[32], blk[64];
    static const uint8_t one[4] = {0, 0, 0, 1};
    SHA256_CTX c = p.ipad;
    SHA256_Update(&c, salt, salt_len);
    SHA256_Update(&c, one, 4);
    SHA256_Final(u, &c);
    c = p.opad;
    SHA256_Update(&c, u, 32);
    SHA256_Final(u, &c);
    uint8_t t[32];
    memcpy(t, u, 32);
    block96_init(blk);
    for (uint32_t i = 1; i < iterations; i++) {
        hmac32(&p, blk, u, u);
        for (int j = 0; j < 32; j++)
            t[j] ^= u[j];
    }
    memcpy(out, t, 32);
    OPENSSL_cleanse(&p, sizeof p);
    OPENSSL_cleanse(u, sizeof u);
    OPENSSL_cleanse(blk, sizeof blk);
}

void gn_reg_sha256_3(const void *a, size_t alen, const void *b, size_t blen,
                     const void *c, size_t clen, uint8_t out[GN_REG_HASH_LEN])
{
    SHA256_CTX x;
    SHA256_Init(&x);
    if (alen)
        SHA256_Update(&x, a, alen);
    if (blen)
        SHA256_Update(&x, b, blen);
    if (clen)
        SHA256_Update(&x, c, clen);
    SHA256_Final(out, &x);
}

int gn_reg_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

gn_reg_err gn_reg_cred_make_cost(gn_reg_cred *out, const uint8_t *token, size_t token_len,
                                 uint32_t iterations)
{
    if (!token_len || token_len > GN_REG_TOKEN_MAX || !iterations || iterations > GN_REG_MAX_ITERATIONS)
        return GN_REG_ERR_INVALID;
    memset(out, 0, sizeof *out);
    if (gn_reg_random(out->salt, sizeof out->salt) != 0)
        return GN_REG_ERR_STORE;
    out->algo = GN_REG_HASH_PBKDF2_SHA256;
    out->iterations = iterations;
    gn_reg_pbkdf2_sha256(token, token_len, out->salt, sizeof out->salt, iterations, out->hash);
    return GN_REG_OK;
}

gn_reg_err gn_reg_cred_make(gn_reg_cred *out, const uint8_t *token, size_t token_len)
{
    return gn_reg_cred_make_cost(out, token, token_len, GN_REG_DEFAULT_ITERATIONS);
}

gn_reg_err gn_reg_cred_verify(const gn_reg_cred *cred, const uint8_t *token, size_t token_len)
{
    if (cred->algo != GN_REG_HASH_PBKDF2_SHA256 || !cred->iterations ||
        cred->iterations > GN_REG_MAX_ITERATIONS || token_len > GN_REG_TOKEN_MAX)
        return GN_REG_ERR_DENIED;
    uint8_t h[GN_REG_HASH_LEN];
    gn_reg_pbkdf2_sha256(token, token_len, cred->salt, sizeof cred->salt, cred->iterations, h);
    int diff = CRYPTO_memcmp(h, cred->hash, sizeof h);
    OPENSSL_cleanse(h, sizeof h);
    return diff == 0 ? GN_REG_OK : GN_REG_ERR_DENIED;
}

/* S-025's character set. */
static const char token_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.!&@?*+()-";

bool gn_reg_token_valid(const char *token, size_t len)
{
    if (len < GN_REG_TOKEN_MIN || len > GN_REG_TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!token[i] || !strchr(token_alphabet, token[i]))
            return false;
    return true;
}

int gn_reg_token_generate(char *out, size_t len)
{
    if (len < GN_REG_TOKEN_MIN || len > GN_REG_TOKEN_MAX)
        return -1;
    const size_t n = sizeof token_alphabet - 1;     /* 73 */
    size_t got = 0;
    while (got < len) {
        uint8_t r[64];
        if (gn_reg_random(r, sizeof r) != 0)
            return -1;
        for (size_t i = 0; i < sizeof r && got < len; i++)
            if (r[i] < 256 - 256 % n)                /* no modulo bias */
                out[got++] = token_alphabet[r[i] % n];
    }
    out[len] = '\0';
    return 0;
}

static void hex_put(char *out, const uint8_t *b, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[b[i] >> 4];
        out[2 * i + 1] = hx[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static int hex_get(const char *s, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < 2 * n; i++) {
        char ch = s[i];
        int v = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i & 1)
            b[i / 2] |= (uint8_t)v;
        else
            b[i / 2] = (uint8_t)(v << 4);
    }
    return 0;
}

void gn_reg_cred_format(const gn_reg_cred *cred, char out[GN_REG_CRED_TEXT_MAX])
{
    if (cred->algo != GN_REG_HASH_PBKDF2_SHA256) {
        out[0] = '\0';
        return;
    }
    char salt[2 * GN_REG_SALT_LEN + 1], hash[2 * GN_REG_HASH_LEN + 1];
    hex_put(salt, cred->salt, GN_REG_SALT_LEN);
    hex_put(hash, cred->hash, GN_REG_HASH_LEN);
    snprintf(out, GN_REG_CRED_TEXT_MAX, "pbkdf2-sha256$%u$%s$%s", cred->iterations, salt, hash);
}

gn_reg_err gn_reg_cred_parse(const char *text, gn_reg_cred *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return GN_REG_OK;                            /* no token */
    static const char pfx[] = "pbkdf2-sha256$";
    if (strncmp(text, pfx, sizeof pfx - 1) != 0)
        return GN_REG_ERR_INVALID;
    const char *p = text + sizeof pfx - 1;
    unsigned long it = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 8) {
        it = it * 10 + (unsigned long)(*p++ - '0');
        digits++;
    }
    if (!digits || *p++ != '$' || !it || it > GN_REG_MAX_ITERATIONS)
        return GN_REG_ERR_INVALID;
    if (strlen(p) != 2 * GN_REG_SALT_LEN + 1 + 2 * GN_REG_HASH_LEN || p[2 * GN_REG_SALT_LEN] != '$')
        return GN_REG_ERR_INVALID;
    if (hex_get(p, out->salt, GN_REG_SALT_LEN) || hex_get(p + 2 * GN_REG_SALT_LEN + 1, out->hash, GN_REG_HASH_LEN))
        return GN_REG_ERR_INVALID;
    out->algo = GN_REG_HASH_PBKDF2_SHA256;
    out->iterations = (uint32_t)it;
    return GN_REG_OK;
}
