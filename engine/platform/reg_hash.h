/* engine/platform/reg_hash.h — how the registry stores and checks tokens:
 * PBKDF2-HMAC-SHA256 with a per-credential random salt and iteration
 * count (S-026), computed with precomputed HMAC pad states so a check
 * allocates nothing; token generation; the keyed digest the verifier
 * cache keeps. docs/ARCHITECTURE.md ("Registry: token hashing") explains
 * the choice of cost.
 *
 * Threading: pure functions over caller memory, any thread. Random bytes
 * come from getrandom(2). */
#ifndef GN_ENGINE_PLATFORM_REG_HASH_H
#define GN_ENGINE_PLATFORM_REG_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/platform/registry.h"

enum {
    GN_REG_HASH_NONE = 0,            /* no token set: every check fails */
    GN_REG_HASH_PBKDF2_SHA256 = 1,   /* hash = PBKDF2-HMAC-SHA256(token, salt, iterations, 32) */
};

/* Default cost of a new credential (measured: bench/bench_registry.c). */
#define GN_REG_DEFAULT_ITERATIONS 256u
#define GN_REG_MAX_ITERATIONS     1000000u

/* PBKDF2-HMAC-SHA256 with one 32-byte output block. */
void gn_reg_pbkdf2_sha256(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
                          size_t salt_len, uint32_t iterations, uint8_t out[GN_REG_HASH_LEN]);

/* Plain SHA-256 of the concatenation a || b || c (lengths may be 0). */
void gn_reg_sha256_3(const void *a, size_t alen, const void *b, size_t blen,
                     const void *c, size_t clen, uint8_t out[GN_REG_HASH_LEN]);

/* Fill buf with len random bytes. 0, or -1 when the kernel refused. */
int gn_reg_random(void *buf, size_t len);

/* Credential for token with an explicit cost (iterations 1..GN_REG_MAX_ITERATIONS). */
gn_reg_err gn_reg_cred_make_cost(gn_reg_cred *out, const uint8_t *token, size_t token_len,
                                 uint32_t iterations);

/* Recompute and compare in constant time (no cache). OK or DENIED. */
gn_reg_err gn_reg_cred_verify(const gn_reg_cred *cred, const uint8_t *token, size_t token_len);

/* Generate a token of len chars (GN_REG_TOKEN_MIN..GN_REG_TOKEN_MAX) from
 * the S-025 alphabet, into out[len + 1] (NUL-terminated). 0 or -1. */
int gn_reg_token_generate(char *out, size_t len);

/* Is token acceptable as a user-supplied token (S-025: 8..36 characters
 * of alphanumerics and _ . ! & @ ? * + ( ) -)? */
bool gn_reg_token_valid(const char *token, size_t len);

/* Text form stored in the database: "pbkdf2-sha256$ITER$SALT_HEX$HASH_HEX"
 * (or "" for no token). format writes at most GN_REG_CRED_TEXT_MAX bytes. */
#define GN_REG_CRED_TEXT_MAX 128
void gn_reg_cred_format(const gn_reg_cred *cred, char out[GN_REG_CRED_TEXT_MAX]);
gn_reg_err gn_reg_cred_parse(const char *text, gn_reg_cred *out);

#endif
