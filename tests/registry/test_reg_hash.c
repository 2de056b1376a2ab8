/* tests/registry/test_reg_hash.c — token hashing: our allocation-free
 * PBKDF2-HMAC-SHA256 equals OpenSSL's PKCS5_PBKDF2_HMAC, credentials
 * round-trip through their text form, token syntax and generation, and
 * the verifier's cache (hits, no caching of failures, rotation). */
#include <check.h>
#include <openssl/evp.h>
#include <string.h>

#include "engine/platform/reg_hash.h"

START_TEST(test_pbkdf2_matches_openssl)
{
    static const uint32_t iters[] = {1, 2, 3, 100, 257};
    static const size_t plens[] = {0, 1, 8, 36, 64, 65, 200};
    uint8_t pass[200], salt[16];
    for (size_t i = 0; i < sizeof pass; i++)
        pass[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < sizeof salt; i++)
        salt[i] = (uint8_t)(0xa0 + i);
    for (size_t a = 0; a < sizeof iters / sizeof iters[0]; a++)
        for (size_t b = 0; b < sizeof plens / sizeof plens[0]; b++) {
            uint8_t ours[32], ref[32];
            gn_reg_pbkdf2_sha256(pass, plens[b], salt, sizeof salt, iters[a], ours);
            ck_assert_int_eq(PKCS5_PBKDF2_HMAC((const char *)pass, (int)plens[b], salt, sizeof salt,
                                               (int)iters[a], EVP_sha256(), 32, ref), 1);
            ck_assert_mem_eq(ours, ref, 32);
        }
}
END_TEST

START_TEST(test_cred_make_verify_and_text_roundtrip)
{
    gn_reg_cred c, d;
    const char *tok = "MP$08VKz!8rXwnR-Q*";
    ck_assert_int_eq(gn_reg_cred_make(&c, (const uint8_t *)tok, strlen(tok)), GN_REG_OK);
    ck_assert_int_eq(gn_reg_cred_verify(&c, (const uint8_t *)tok, strlen(tok)), GN_REG_OK);
    ck_assert_int_eq(gn_reg_cred_verify(&c, (const uint8_t *)tok, strlen(tok) - 1), GN_REG_ERR_DENIED);
    ck_assert_int_eq(gn_reg_cred_verify(&c, (const uint8_t *)"MP$08VKz!8rXwnR-Q+", 18), GN_REG_ERR_DENIED);
    char text[GN_REG_CRED_TEXT_MAX];
    gn_reg_cred_format(&c, text);
    ck_assert_ptr_nonnull(strstr(text, "pbkdf2-sha256$256$"));
    ck_assert_int_eq(gn_reg_cred_parse(text, &d), GN_REG_OK);
    ck_assert_mem_eq(&c, &d, sizeof c);
    /* two credentials for the same token differ (salt) */
    gn_reg_cred e;
    ck_assert_int_eq(gn_reg_cred_make(&e, (const uint8_t *)tok, strlen(tok)), GN_REG_OK);
    ck_assert_int_ne(memcmp(c.salt, e.salt, sizeof c.salt), 0);
    ck_assert_int_ne(memcmp(c.hash, e.hash, sizeof c.hash), 0);
    /* empty text = no token; a no-token credential never verifies */
    ck_assert_int_eq(gn_reg_cred_parse("", &d), GN_REG_OK);
    ck_assert_int_eq(d.algo, GN_REG_HASH_NONE);
    ck_assert_int_eq(gn_reg_cred_verify(&d, (const uint8_t *)"", 0), GN_REG_ERR_DENIED);
    /* bad inputs */
    ck_assert_int_eq(gn_reg_cred_make(&e, (const uint8_t *)"", 0), GN_REG_ERR_INVALID);
    ck_assert_int_eq(gn_reg_cred_make_cost(&e, (const uint8_t *)"abcdefgh", 8, 0), GN_REG_ERR_INVALID);
}
END_TEST

START_TEST(test_cred_parse_rejects_garbage)
{
    gn_reg_cred d;
    static const char *const bad[] = {
        "sha1$1$00$00", "pbkdf2-sha256$", "pbkdf2-sha256$0$", "pbkdf2-sha256$x$",
        "pbkdf2-sha256$10$zz", "pbkdf2-sha256$99999999$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$10$0000000000000000000000000000000G$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$10$00000000000000000000000000000000$"
        "00000000000000000000000000000000000000000000000000000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(gn_reg_cred_parse(bad[i], &d) == GN_REG_ERR_INVALID, "accepted %s", bad[i]);
}
END_TEST

START_TEST(test_token_syntax_and_generation)
{
    ck_assert(gn_reg_token_valid("abcdefgh", 8));
    ck_assert(gn_reg_token_valid("A_.!&@?*+()-9zZ", 15));
    ck_assert(!gn_reg_token_valid("abcdefg", 7));
    ck_assert(!gn_reg_token_valid("abcdefgh$", 9));
    ck_assert(!gn_reg_token_valid("abcd efgh", 9));
    char t37[38];
    memset(t37, 'a', 37);
    t37[37] = 0;
    ck_assert(!gn_reg_token_valid(t37, 37));
    ck_assert(gn_reg_token_valid(t37, 36));
    char a[GN_REG_TOKEN_GEN_LEN + 1], b[GN_REG_TOKEN_GEN_LEN + 1];
    ck_assert_int_eq(gn_reg_token_generate(a, GN_REG_TOKEN_GEN_LEN), 0);
    ck_assert_int_eq(gn_reg_token_generate(b, GN_REG_TOKEN_GEN_LEN), 0);
    ck_assert_uint_eq(strlen(a), GN_REG_TOKEN_GEN_LEN);
    ck_assert(gn_reg_token_valid(a, strlen(a)));
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(gn_reg_token_generate(a, 4), -1);
}
END_TEST

START_TEST(test_verifier_caches_successes_only)
{
    gn_reg_verifier *v = gn_reg_verifier_create(64);
    ck_assert_ptr_nonnull(v);
    gn_reg_cred c;
    ck_assert_int_eq(gn_reg_cred_make(&c, (const uint8_t *)"secret-token", 12), GN_REG_OK);
    gn_reg_verifier_stats st;
    ck_assert_int_eq(gn_reg_verifier_check(v, &c, (const uint8_t *)"secret-token", 12), GN_REG_OK);
    ck_assert_int_eq(gn_reg_verifier_check(v, &c, (const uint8_t *)"secret-token", 12), GN_REG_OK);
    gn_reg_verifier_get_stats(v, &st);
    ck_assert_uint_eq(st.checks, 2);
    ck_assert_uint_eq(st.hashes, 1);
    ck_assert_uint_eq(st.cache_hits, 1);
    /* a wrong token always hashes and is denied */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(gn_reg_verifier_check(v, &c, (const uint8_t *)"secret-tokeN", 12), GN_REG_ERR_DENIED);
    gn_reg_verifier_get_stats(v, &st);
    ck_assert_uint_eq(st.hashes, 4);
    ck_assert_uint_eq(st.denied, 3);
    /* rotation: the same token under a new credential is not a hit */
    gn_reg_cred r;
    ck_assert_int_eq(gn_reg_cred_make(&r, (const uint8_t *)"new-token-1", 11), GN_REG_OK);
    ck_assert_int_eq(gn_reg_verifier_check(v, &r, (const uint8_t *)"secret-token", 12), GN_REG_ERR_DENIED);
    ck_assert_int_eq(gn_reg_verifier_check(v, &r, (const uint8_t *)"new-token-1", 11), GN_REG_OK);
    /* no token set: denied without hashing */
    gn_reg_cred none = {0};
    uint64_t h = st.hashes;
    ck_assert_int_eq(gn_reg_verifier_check(v, &none, (const uint8_t *)"", 0), GN_REG_ERR_DENIED);
    gn_reg_verifier_get_stats(v, &st);
    ck_assert_uint_eq(st.hashes, h + 2);      /* the two checks of r above */
    gn_reg_verifier_destroy(v);
    /* no cache at all */
    v = gn_reg_verifier_create(0);
    ck_assert_int_eq(gn_reg_verifier_check(v, &c, (const uint8_t *)"secret-token", 12), GN_REG_OK);
    ck_assert_int_eq(gn_reg_verifier_check(v, &c, (const uint8_t *)"secret-token", 12), GN_REG_OK);
    gn_reg_verifier_get_stats(v, &st);
    ck_assert_uint_eq(st.hashes, 2);
    gn_reg_verifier_destroy(v);
}
END_TEST

Suite *reg_hash_suite(void)
{
    Suite *s = suite_create("reg_hash");
    TCase *tc = tcase_create("hash");
    tcase_add_test(tc, test_pbkdf2_matches_openssl);
    tcase_add_test(tc, test_cred_make_verify_and_text_roundtrip);
    tcase_add_test(tc, test_cred_parse_rejects_garbage);
    tcase_add_test(tc, test_token_syntax_and_generation);
    tcase_add_test(tc, test_verifier_caches_successes_only);
    suite_add_tcase(s, tc);
    return s;
}
