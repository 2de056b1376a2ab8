/* tests/platform/unit/test_org_limits.c — the org-wide counters behind
 * close 173 (engine/platform/limits.c): an org's slot is found again by
 * name, connections and connected devices are counted apart, a take at
 * the limit fails without moving the count, limit 0 is no limit, a
 * release gives the place back, and a full table counts nothing. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/platform/platform_int.h"

static gn_platform *new_platform(void)
{
    gn_platform *p = calloc(1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    pthread_mutex_init(&p->org_mu, NULL);
    return p;
}

static void free_platform(gn_platform *p)
{
    pthread_mutex_destroy(&p->org_mu);
    free(p);
}

START_TEST(test_slot_is_per_org)
{
    gn_platform *p = new_platform();
    uint32_t a = gn_plat_org_slot(p, "abc123", 6);
    uint32_t b = gn_plat_org_slot(p, "xyz789", 6);
    ck_assert_uint_ne(a, UINT32_MAX);
    ck_assert_uint_ne(a, b);
    ck_assert_uint_eq(gn_plat_org_slot(p, "abc123", 6), a);
    ck_assert_uint_eq(gn_plat_org_slot(p, "abc1234", 6), a);     /* only len bytes name it */
    free_platform(p);
}
END_TEST

START_TEST(test_devices_counted_apart_from_connections)
{
    gn_platform *p = new_platform();
    uint32_t s = gn_plat_org_slot(p, "abc123", 6);
    ck_assert(gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));
    ck_assert(gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));
    ck_assert(!gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));      /* the third */
    ck_assert(!gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));      /* a refusal took nothing */
    ck_assert(gn_plat_org_take(p, s, GN_ORG_CONNS, 1));         /* the other count */
    ck_assert(!gn_plat_org_take(p, s, GN_ORG_CONNS, 1));
    ck_assert(gn_plat_org_take(p, s, GN_ORG_DEVICES, 0));       /* 0: no limit */
    gn_plat_org_release(p, s, GN_ORG_DEVICES);
    gn_plat_org_release(p, s, GN_ORG_DEVICES);
    ck_assert(gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));       /* one place back */
    ck_assert(!gn_plat_org_take(p, s, GN_ORG_DEVICES, 2));
    uint32_t o = gn_plat_org_slot(p, "xyz789", 6);              /* another org: its own */
    ck_assert(gn_plat_org_take(p, o, GN_ORG_DEVICES, 1));
    free_platform(p);
}
END_TEST

START_TEST(test_full_table_and_long_names_count_nothing)
{
    gn_platform *p = new_platform();
    char name[16];
    for (unsigned i = 0; i < GN_ORG_SLOTS; i++) {
        int n = snprintf(name, sizeof name, "o%u", i);
        ck_assert_uint_ne(gn_plat_org_slot(p, name, (size_t)n), UINT32_MAX);
    }
    ck_assert_uint_eq(gn_plat_org_slot(p, "onemore", 7), UINT32_MAX);
    ck_assert(gn_plat_org_take(p, UINT32_MAX, GN_ORG_DEVICES, 1));
    ck_assert(gn_plat_org_take(p, UINT32_MAX, GN_ORG_DEVICES, 1));
    gn_plat_org_release(p, UINT32_MAX, GN_ORG_DEVICES);
    char long_name[GN_PLAT_ORG_MAX + 2];
    memset(long_name, 'a', sizeof long_name);
    ck_assert_uint_eq(gn_plat_org_slot(p, long_name, sizeof long_name), UINT32_MAX);
    free_platform(p);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_org_limits");
    TCase *tc = tcase_create("org_limits");
    tcase_add_test(tc, test_slot_is_per_org);
    tcase_add_test(tc, test_devices_counted_apart_from_connections);
    tcase_add_test(tc, test_full_table_and_long_names_count_nothing);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
