/* tests/router/test_hmem.c — huge-page blocks for big child tables: sizes
 * and alignment, reuse of freed blocks, freeing whole chunks, and
 * a million-entry trie whose tables live there matching like any other.
 * (Sanitizer builds use malloc instead: the block tests are skipped.) */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "router/hmem.h"
#include "rt_util.h"

START_TEST(test_blocks_are_aligned_disjoint_and_reused)
{
    gn_hmem *h = gn_hmem_create();
    if (!h)
        return; /* sanitizer build: tables use malloc */
    const size_t sz = GN_HMEM_MIN;
    enum { N = 24 }; /* 3 full chunks of 8 blocks */
    void *b[N];
    for (int i = 0; i < N; i++) {
        b[i] = gn_hmem_alloc(h, sz);
        ck_assert_ptr_nonnull(b[i]);
        ck_assert_uint_eq((uintptr_t)b[i] % sz, 0);
        memset(b[i], i, sz); /* writable, and no block overlaps another */
    }
    for (int i = 0; i < N; i++)
        ck_assert_uint_eq(((uint8_t *)b[i])[sz - 1], (uint8_t)i);
    gn_hmem_free(h, b[3], sz);
    void *again = gn_hmem_alloc(h, sz);
    ck_assert_ptr_eq(again, b[3]); /* the only free block: reused, no new chunk */
    void *big = gn_hmem_alloc(h, (size_t)8 << 20); /* own mapping */
    ck_assert_ptr_nonnull(big);
    memset(big, 0xab, (size_t)8 << 20);
    gn_hmem_free(h, big, (size_t)8 << 20);
    for (int i = 0; i < N; i++)
        gn_hmem_free(h, b[i], sz);
    /* every chunk is free (and unmapped): a new size starts a new one */
    void *c = gn_hmem_alloc(h, sz * 2);
    ck_assert_ptr_nonnull(c);
    memset(c, 1, sz * 2);
    gn_hmem_free(h, c, sz * 2);
    gn_hmem_destroy(h);
}
END_TEST

/* 20 000 siblings: the table grows past GN_HMEM_MIN (into huge-page
 * blocks when available), shrinks back, and every byte is returned. */
START_TEST(test_big_child_tables_grow_shrink_and_match)
{
    gn_router *r = gn_router_create(NULL);
    gn_router_reader *rd = gn_router_reader_register(r, 0);
    gn_router_stats st0, st;
    gn_router_get_stats(r, &st0);
    char f[64];
    enum { N = 20000 };
    for (int i = 0; i < N; i++) {
        snprintf(f, sizeof f, "p/d%d/cmd/+", i);
        ck_assert_int_eq(rt_sub(r, f, (uint64_t)(i + 1), 1), GN_ROUTER_OK);
    }
    for (int i = 0; i < N; i += 97) {
        snprintf(f, sizeof f, "p/d%d/cmd/x", i);
        ck_assert(rt_reaches(rd, f, (uint64_t)(i + 1)));
        ck_assert(!rt_reaches(rd, f, (uint64_t)(i + 2)));
    }
    for (int i = 0; i < N; i++) {
        snprintf(f, sizeof f, "p/d%d/cmd/+", i);
        ck_assert_int_eq(rt_unsub(r, f, (uint64_t)(i + 1)), GN_ROUTER_OK);
    }
    gn_router_synchronize(r, rd);
    gn_router_get_stats(r, &st);
    ck_assert_uint_eq(st.bytes, st0.bytes);
    ck_assert_uint_eq(st.nodes, st0.nodes);
    gn_router_reader_unregister(rd);
    gn_router_destroy(r);
}
END_TEST

Suite *router_hmem_suite(void)
{
    Suite *s = suite_create("router_hmem");
    TCase *tc = tcase_create("hmem");
    tcase_add_test(tc, test_blocks_are_aligned_disjoint_and_reused);
    tcase_add_test(tc, test_big_child_tables_grow_shrink_and_match);
    suite_add_tcase(s, tc);
    return s;
}
