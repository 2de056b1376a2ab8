/* tests/router/test_router.c — runs the router unit suites (matching rules,
 * shared groups, match cache, retained store, QSBR, huge-page blocks). */
#include <check.h>
#include <stdlib.h>

Suite *router_match_suite(void);
Suite *router_share_suite(void);
Suite *router_cache_suite(void);
Suite *router_retained_suite(void);
Suite *router_qsbr_suite(void);
Suite *router_hmem_suite(void);

int main(void)
{
    SRunner *sr = srunner_create(router_match_suite());
    srunner_add_suite(sr, router_share_suite());
    srunner_add_suite(sr, router_cache_suite());
    srunner_add_suite(sr, router_retained_suite());
    srunner_add_suite(sr, router_qsbr_suite());
    srunner_add_suite(sr, router_hmem_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
