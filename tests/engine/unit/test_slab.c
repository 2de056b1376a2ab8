/* tests/engine/unit/test_slab.c — the per-shard object pool: reuse,
 * growth by chunks, alignment, zeroing, stats, lazily resident pages. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/slab.h"

START_TEST(test_init_rejects_bad_sizes)
{
    gn_slab s;
    errno = 0;
    ck_assert_int_eq(gn_slab_init(&s, "x", 0, 0), -1);
    ck_assert_int_eq(errno, EINVAL);
    ck_assert_int_eq(gn_slab_init(&s, "x", 8192, 4096), -1);
    ck_assert_int_eq(gn_slab_init_aligned(&s, "x", 64, 3, 0), -1);
    ck_assert_int_eq(gn_slab_init_aligned(&s, "x", 64, 8192, 0), -1);
    ck_assert_int_eq(gn_slab_init(&s, "x", 40, 0), 0);
    gn_slab_destroy(&s);
}
END_TEST

START_TEST(test_freed_object_is_reused_first)
{
    gn_slab s;
    gn_slab_init(&s, "conn", 200, 0);
    void *a = gn_slab_alloc(&s);
    void *b = gn_slab_alloc(&s);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_ne(a, b);
    gn_slab_free(&s, a);
    ck_assert_ptr_eq(gn_slab_alloc(&s), a);
    gn_slab_free(&s, NULL);
    gn_slab_stats st;
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.in_use, 2);
    ck_assert_uint_eq(st.obj_size, 208); /* rounded to 16 */
    gn_slab_destroy(&s);
}
END_TEST

START_TEST(test_grows_by_chunks_and_objects_never_overlap)
{
    gn_slab s;
    gn_slab_init(&s, "sess", 100, 4096);
    enum { N = 5000 };
    static unsigned char *objs[N];
    size_t bad = 0;
    for (int i = 0; i < N; i++) {
        objs[i] = gn_slab_alloc(&s);
        if (objs[i] == NULL || (uintptr_t)objs[i] % 16 != 0) {
            bad++;
            continue;
        }
        memset(objs[i], (int)(i & 0xFF), 100);
    }
    ck_assert_uint_eq(bad, 0);
    size_t corrupted = 0; /* plain compare in the loop: each ck_assert costs a write */
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 100; k++)
            corrupted += objs[i][k] != (unsigned)(i & 0xFF);
    ck_assert_uint_eq(corrupted, 0);
    gn_slab_stats st;
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.in_use, N);
    ck_assert_uint_ge(st.capacity, N);
    ck_assert_uint_gt(st.chunks, 100);
    ck_assert_uint_eq(st.mapped, st.chunks * 4096);
    for (int i = 0; i < N; i += 2)
        gn_slab_free(&s, objs[i]);
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.in_use, N / 2);
    size_t chunks_before = st.chunks;
    for (int i = 0; i < N; i += 2)
        objs[i] = gn_slab_alloc(&s);   /* refilled from the free list */
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.chunks, chunks_before);
    gn_slab_destroy(&s);
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.chunks, 0);
    ck_assert_uint_eq(st.in_use, 0);
}
END_TEST

START_TEST(test_zalloc_returns_zeroed_memory_after_reuse)
{
    gn_slab s;
    gn_slab_init(&s, "z", 64, 0);
    unsigned char *a = gn_slab_alloc(&s);
    memset(a, 0xAB, 64);
    gn_slab_free(&s, a);
    unsigned char *b = gn_slab_zalloc(&s);
    ck_assert_ptr_eq(a, b);
    for (int i = 0; i < 64; i++)
        ck_assert_uint_eq(b[i], 0);
    gn_slab_destroy(&s);
}
END_TEST

START_TEST(test_custom_alignment_is_honoured)
{
    gn_slab s;
    gn_slab_init_aligned(&s, "a", 72, 64, 0);
    size_t misaligned = 0;
    for (int i = 0; i < 1000; i++)
        misaligned += (uintptr_t)gn_slab_alloc(&s) % 64 != 0;
    ck_assert_uint_eq(misaligned, 0);
    gn_slab_stats st;
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.obj_size, 128);
    gn_slab_destroy(&s);
}
END_TEST

/* Pages of a chunk that hold no handed-out object are not resident. */
START_TEST(test_unused_part_of_a_chunk_stays_non_resident)
{
    long page = sysconf(_SC_PAGESIZE);
    gn_slab s;
    gn_slab_init(&s, "lazy", 256, 1u << 20);
    unsigned char *first = gn_slab_alloc(&s);
    memset(first, 1, 256);
    gn_slab_stats st;
    gn_slab_get_stats(&s, &st);
    ck_assert_uint_eq(st.chunks, 1);
    unsigned char *base = (unsigned char *)((uintptr_t)first & ~(uintptr_t)(page - 1));
    size_t pages = (1u << 20) / (size_t)page;
    unsigned char vec[1024];
    ck_assert_uint_le(pages, sizeof vec);
    ck_assert_int_eq(mincore(base, (size_t)page * pages, vec), 0);
    size_t resident = 0;
    for (size_t i = 0; i < pages; i++)
        resident += vec[i] & 1;
    ck_assert_uint_le(resident, 2);
    gn_slab_destroy(&s);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("slab");
    TCase *tc = tcase_create("slab");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_init_rejects_bad_sizes);
    tcase_add_test(tc, test_freed_object_is_reused_first);
    tcase_add_test(tc, test_grows_by_chunks_and_objects_never_overlap);
    tcase_add_test(tc, test_zalloc_returns_zeroed_memory_after_reuse);
    tcase_add_test(tc, test_custom_alignment_is_honoured);
    tcase_add_test(tc, test_unused_part_of_a_chunk_stays_non_resident);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
