/* tests/engine/unit/test_log.c — the logger: line format (ISO 8601 UTC,
 * level, thread tag), level filtering at runtime, truncation, and whole
 * lines from concurrent threads (one write per line). */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/log.h"

static int pipefd[2];

static void setup(void)
{
    ck_assert_int_eq(pipe(pipefd), 0);
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    fcntl(pipefd[1], F_SETPIPE_SZ, 1 << 20);
    gn_log_set_fd(pipefd[1]);
    gn_log_set_level(GN_LOG_INFO);
    gn_log_set_thread_tag(NULL);
}

static void teardown(void)
{
    gn_log_set_fd(2);
    close(pipefd[0]);
    close(pipefd[1]);
}

static size_t drain(char *buf, size_t cap)
{
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(pipefd[0], buf + len, cap - 1 - len)) > 0)
        len += (size_t)n;
    buf[len] = '\0';
    return len;
}

static bool matches(const char *text, const char *pattern)
{
    regex_t re;
    ck_assert_int_eq(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    bool ok = regexec(&re, text, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

START_TEST(test_line_has_utc_timestamp_level_and_text)
{
    gn_log(GN_LOG_WARN, "listening on %s:%d", "0.0.0.0", 1883);
    char buf[4096];
    drain(buf, sizeof buf);
    ck_assert_msg(matches(buf, "^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}Z "
                               "WARN  listening on 0\\.0\\.0\\.0:1883\n$"), "got: %s", buf);
}
END_TEST

START_TEST(test_timestamp_is_the_current_utc_date)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char date[16];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    gn_log(GN_LOG_ERROR, "x");
    char buf[256];
    drain(buf, sizeof buf);
    ck_assert_int_eq(strncmp(buf, date, strlen(date)), 0);
}
END_TEST

START_TEST(test_level_filter_changes_at_runtime)
{
    gn_log_debug("hidden %d", 1);
    gn_log_info("shown");
    gn_log_set_level(GN_LOG_DEBUG);
    ck_assert(gn_log_enabled(GN_LOG_DEBUG));
    gn_log_debug("now shown");
    gn_log_set_level(GN_LOG_ERROR);
    gn_log_warn("hidden again");
    gn_log_error("error shown");
    char buf[4096];
    drain(buf, sizeof buf);
    ck_assert_ptr_null(strstr(buf, "hidden"));
    ck_assert_ptr_nonnull(strstr(buf, "INFO  shown\n"));
    ck_assert_ptr_nonnull(strstr(buf, "DEBUG now shown\n"));
    ck_assert_ptr_nonnull(strstr(buf, "ERROR error shown\n"));
    ck_assert_int_eq(gn_log_get_level(), GN_LOG_ERROR);
}
END_TEST

START_TEST(test_disabled_level_does_not_evaluate_arguments)
{
    int calls = 0;
    gn_log_debug("%d", ++calls);
    ck_assert_int_eq(calls, 0);
}
END_TEST

START_TEST(test_thread_tag_and_trailing_newline)
{
    gn_log_set_thread_tag("shard 3");
    gn_log(GN_LOG_INFO, "accepted\n");
    char buf[256];
    drain(buf, sizeof buf);
    ck_assert_msg(matches(buf, "Z INFO  \\[shard 3\\] accepted\n$"), "got: %s", buf);
}
END_TEST

START_TEST(test_long_message_is_cut_to_one_line_ending_in_dots)
{
    char big[3000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    gn_log(GN_LOG_INFO, "%s", big);
    char buf[8192];
    size_t n = drain(buf, sizeof buf);
    ck_assert_uint_eq(n, GN_LOG_LINE_MAX - 1);
    ck_assert_int_eq(buf[n - 1], '\n');
    ck_assert_int_eq(strncmp(buf + n - 4, "...", 3), 0);
    ck_assert_ptr_eq(strchr(buf, '\n'), buf + n - 1);
}
END_TEST

START_TEST(test_level_names_parse_both_ways)
{
    gn_log_level l;
    ck_assert_int_eq(gn_log_level_parse("Warning", &l), 0);
    ck_assert_int_eq(l, GN_LOG_WARN);
    ck_assert_int_eq(gn_log_level_parse("debug", &l), 0);
    ck_assert_int_eq(l, GN_LOG_DEBUG);
    ck_assert_int_eq(gn_log_level_parse("trace", &l), -1);
    ck_assert_str_eq(gn_log_level_name(GN_LOG_ERROR), "error");
    ck_assert_str_eq(gn_log_level_name((gn_log_level)9), "unknown");
}
END_TEST

#define LT_THREADS 4
#define LT_LINES 2000

static void *log_lines(void *arg)
{
    char tag[16];
    snprintf(tag, sizeof tag, "t%d", (int)(intptr_t)arg);
    gn_log_set_thread_tag(tag);
    for (int i = 0; i < LT_LINES; i++)
        gn_log(GN_LOG_INFO, "line %d of thread %d %s", i, (int)(intptr_t)arg,
               "padding-padding-padding-padding-padding-padding");
    return NULL;
}

START_TEST(test_concurrent_threads_never_interleave_within_a_line)
{
    pthread_t th[LT_THREADS];
    for (intptr_t t = 0; t < LT_THREADS; t++)
        pthread_create(&th[t], NULL, log_lines, (void *)t);
    for (int t = 0; t < LT_THREADS; t++)
        pthread_join(th[t], NULL);
    size_t cap = 4u << 20;
    char *buf = malloc(cap);
    drain(buf, cap);
    int count = 0;
    for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        int tagn, n, t;
        char *p = strstr(line, "INFO  [t");
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(sscanf(p, "INFO  [t%d] line %d of thread %d", &tagn, &n, &t), 3);
        ck_assert_int_eq(tagn, t);
        ck_assert_ptr_nonnull(strstr(line, "padding-padding-padding-padding-padding-padding"));
        count++;
    }
    ck_assert_int_eq(count, LT_THREADS * LT_LINES);
    free(buf);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_line_has_utc_timestamp_level_and_text);
    tcase_add_test(tc, test_timestamp_is_the_current_utc_date);
    tcase_add_test(tc, test_level_filter_changes_at_runtime);
    tcase_add_test(tc, test_disabled_level_does_not_evaluate_arguments);
    tcase_add_test(tc, test_thread_tag_and_trailing_newline);
    tcase_add_test(tc, test_long_message_is_cut_to_one_line_ending_in_dots);
    tcase_add_test(tc, test_level_names_parse_both_ways);
    tcase_add_test(tc, test_concurrent_threads_never_interleave_within_a_line);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
