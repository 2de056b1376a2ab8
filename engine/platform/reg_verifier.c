/* engine/platform/reg_verifier.c — per-thread token checks with a cache of
 * recently verified (credential, token) pairs.
 *
 * A cache entry is SHA-256(key || salt || stored hash || token) with a
 * random per-verifier key: a hit costs one SHA-256 of at most 120 bytes
 * instead of the credential's PBKDF2 iterations. The entry cannot be
 * reused for another token (a different digest) nor after the credential
 * changed (its salt and hash are hashed in), and the cache lives only in
 * the shard's memory, so it adds nothing an attacker with the database
 * could use. Failed checks are never cached. */
#include "engine/platform/registry.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/reg_hash.h"

typedef struct cache_entry {
    uint8_t digest[GN_REG_HASH_LEN];     /* all zero = empty */
} cache_entry;

#define WAYS 4                           /* 4-way sets: direct mapping lost ~6 % to conflicts */

struct gn_reg_verifier {
    uint8_t key[32];
    uint32_t mask;                       /* sets - 1 */
    cache_entry *cache;                  /* (mask + 1) * WAYS entries, NULL = no cache */
    uint32_t victim;                     /* round-robin replacement within a set */
    gn_reg_verifier_stats st;
};

gn_reg_verifier *gn_reg_verifier_create(uint32_t cache_entries)
{
    gn_reg_verifier *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    if (gn_reg_random(v->key, sizeof v->key) != 0) {
        free(v);
        return NULL;
    }
    if (cache_entries) {
        uint32_t n = 1;
        while (n * WAYS < cache_entries && n < (1u << 22))
            n <<= 1;
        v->cache = calloc((size_t)n * WAYS, sizeof *v->cache);
        if (!v->cache) {
            free(v);
            return NULL;
        }
        v->mask = n - 1;
    }
    return v;
}

void gn_reg_verifier_destroy(gn_reg_verifier *v)
{
    if (!v)
        return;
    if (v->cache) {
        OPENSSL_cleanse(v->cache, sizeof *v->cache * ((size_t)v->mask + 1) * WAYS);
        free(v->cache);
    }
    OPENSSL_cleanse(v->key, sizeof v->key);
    free(v);
}

gn_reg_err gn_reg_verifier_check(gn_reg_verifier *v, const gn_reg_cred *cred,
                                 const uint8_t *token, size_t token_len)
{
    v->st.checks++;
    if (cred->algo == GN_REG_HASH_NONE || token_len > GN_REG_TOKEN_MAX) {
        v->st.denied++;
        return GN_REG_ERR_DENIED;
    }
    uint8_t d[GN_REG_HASH_LEN];
    cache_entry *e = NULL;
    if (v->cache) {
        uint8_t sh[GN_REG_SALT_LEN + GN_REG_HASH_LEN];
        memcpy(sh, cred->salt, GN_REG_SALT_LEN);
        memcpy(sh + GN_REG_SALT_LEN, cred->hash, GN_REG_HASH_LEN);
        gn_reg_sha256_3(v->key, sizeof v->key, sh, sizeof sh, token, token_len, d);
        uint32_t idx;
        memcpy(&idx, d + 16, sizeof idx);
        cache_entry *set = &v->cache[(size_t)(idx & v->mask) * WAYS];
        for (int w = 0; w < WAYS; w++)
            if (CRYPTO_memcmp(set[w].digest, d, sizeof d) == 0) {
                v->st.cache_hits++;
                return GN_REG_OK;
            }
        e = &set[v->victim++ % WAYS];
    }
    v->st.hashes++;
    gn_reg_err rc = gn_reg_cred_verify(cred, token, token_len);
    if (rc != GN_REG_OK) {
        v->st.denied++;
        return rc;
    }
    if (e)
        memcpy(e->digest, d, sizeof d);
    return GN_REG_OK;
}

void gn_reg_verifier_get_stats(const gn_reg_verifier *v, gn_reg_verifier_stats *out)
{
    *out = v->st;
}
