/* tests/platform/unit/test_mon_file.c — replaying the connected-client
 * file (engine/platform/mon_file.c): the clients still held after '+',
 * '-' and 'D' records (the last record of a serial wins), the graceful-stop
 * marker only when it is the last line, a line cut by a crash, damaged
 * lines and topics that are not monitoring topics skipped. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "engine/platform/mon_file.h"

typedef struct got {
    int      n;
    char     kind[8];
    uint32_t serial[8];
    bool     clears[8];
    bool     graceful;
    char     topic[8][64];
    char     rest[8][128];
} got;

static void take(void *ctx, const gn_monrec *r, bool graceful)
{
    got *g = ctx;
    ck_assert_int_lt(g->n, 8);
    g->kind[g->n] = r->kind;
    g->serial[g->n] = r->serial;
    g->clears[g->n] = r->clears;
    g->graceful = graceful;
    snprintf(g->topic[g->n], sizeof g->topic[0], "%s", r->topic);
    snprintf(g->rest[g->n], sizeof g->rest[0], "%s", r->rest);
    g->n++;
}

static long replay(const char *text, got *g, bool *graceful)
{
    static char buf[4096];
    size_t n = strlen(text);
    ck_assert_uint_lt(n, sizeof buf);
    memcpy(buf, text, n + 1);
    memset(g, 0, sizeof *g);
    return gn_monfile_replay(buf, n, graceful, take, g);
}

START_TEST(test_connected_minus_closed)
{
    got g;
    bool gr;
    long n = replay("+\t1\td\t1000\to/iot-2/type/t/id/a/mon\t\"ClientID\":\"a\"\n"
                    "+\t2\ta\t2000\to/iot-2/app/x/mon\t\"ClientID\":\"x\"\n"
                    "+\t3\td\t3000\to/iot-2/type/t/id/b/mon\t\"ClientID\":\"b\"\n"
                    "-\t1\n", &g, &gr);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(g.n, 2);
    ck_assert(!gr);
    ck_assert_uint_eq(g.serial[0], 2);
    ck_assert(g.clears[0]);
    ck_assert_str_eq(g.topic[0], "o/iot-2/app/x/mon");
    ck_assert_uint_eq(g.serial[1], 3);
    ck_assert(!g.clears[1]);
    ck_assert_str_eq(g.rest[1], "\"ClientID\":\"b\"");
}
END_TEST

START_TEST(test_shutdown_record_wins_and_graceful_marker)
{
    got g;
    bool gr;
    long n = replay("+\t1\td\t1000\to/iot-2/type/t/id/a/mon\tF\n"
                    "+\t2\td\t1000\to/iot-2/type/t/id/b/mon\tF\n"
                    "D\t1\td\to/iot-2/type/t/id/a/mon\t{\"CloseCode\":93}\n"
                    "S\n", &g, &gr);
    ck_assert_int_eq(n, 2);
    ck_assert(gr);
    ck_assert(g.graceful);
    ck_assert_int_eq(g.kind[0], 'D');
    ck_assert_str_eq(g.rest[0], "{\"CloseCode\":93}");
    ck_assert_int_eq(g.kind[1], '+');
    /* a marker followed by more records (a later run appended) is not the end */
    n = replay("S\n+\t1\td\t1\to/iot-2/type/t/id/a/mon\tF\n", &g, &gr);
    ck_assert_int_eq(n, 1);
    ck_assert(!gr);
    ck_assert(!g.graceful);
}
END_TEST

START_TEST(test_cut_and_damaged_lines)
{
    got g;
    bool gr;
    long n = replay("+\t1\td\t1\to/iot-2/type/t/id/+/mon\tF\n"      /* wildcard */
                    "+\t2\tq\t1\to/iot-2/type/t/id/a/mon\tF\n"      /* class */
                    "+\t3\td\tx1\to/iot-2/type/t/id/a/mon\tF\n"     /* time */
                    "+\t4\td\t1\to/iot-2/type/t/id/a/evt\tF\n"      /* not /mon */
                    "+\t99999999999\td\t1\to/iot-2/type/t/id/a/mon\tF\n"  /* serial */
                    "D\t5\td\to/iot-2/type/t/id/a/mon\tnot json\n"
                    "++\t6\td\t1\to/iot-2/type/t/id/a/mon\tF\n"
                    "+\t7\td\t1\to/iot-2/type/t/id/a/mon\n"         /* fields missing */
                    "+\t10\td\t1\to/iot-2/type/t/id/a/mon\tF\tG\n"   /* a tab too many */
                    "D\t11\td\to/iot-2/type/t/id/a/mon\t{}\t\n"
                    "\n"
                    "+\t8\td\t1\to/iot-2/type/t/id/ok/mon\tF\n"
                    "+\t9\td\t1\to/iot-2/type/t/id/c/mon\t\"ClientID\":\"cu", &g, &gr);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(g.serial[0], 8);
}
END_TEST

START_TEST(test_empty_and_embedded_nul)
{
    got g;
    bool gr;
    ck_assert_int_eq(replay("", &g, &gr), 0);
    static char buf[] = "+\t1\td\t1\to/iot-2/type/t/id/a/mon\tF\0x\n+\t2\td\t1\to/iot-2/type/t/id/b/mon\tF\n";
    memset(&g, 0, sizeof g);
    long n = gn_monfile_replay(buf, sizeof buf - 1, &gr, take, &g);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(g.serial[0], 2);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_mon_file");
    TCase *tc = tcase_create("mon_file");
    tcase_add_test(tc, test_connected_minus_closed);
    tcase_add_test(tc, test_shutdown_record_wins_and_graceful_marker);
    tcase_add_test(tc, test_cut_and_damaged_lines);
    tcase_add_test(tc, test_empty_and_embedded_nul);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
