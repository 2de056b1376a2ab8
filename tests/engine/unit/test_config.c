/* tests/engine/unit/test_config.c — gn_config defaults, the "key value"
 * parser, its errors (file:line + reason), validation, dump round trip,
 * reloadable keys and the restart-only diff. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/config.h"

static char err[512];

START_TEST(test_defaults_are_documented_values_and_valid)
{
    gn_config c;
    gn_config_defaults(&c);
    ck_assert_str_eq(c.listen_address, "0.0.0.0");
    ck_assert_uint_eq(c.port, 1883);
    ck_assert_uint_ge(c.shards, 1);
    ck_assert_uint_le(c.shards, GN_CONFIG_MAX_SHARDS);
    ck_assert(c.pin_threads);
    ck_assert(!c.sqpoll);
    ck_assert_uint_eq(c.connect_timeout_ms, 60000);
    ck_assert_uint_eq(c.max_packet_size, 1048576);
    ck_assert_uint_eq(c.max_queued_messages, 1000);
    ck_assert_uint_eq(c.server_keep_alive, 0);
    ck_assert(c.allow_anonymous);
    ck_assert(c.retain_available);
    ck_assert_int_eq(c.log_level, GN_LOG_INFO);
    ck_assert_uint_eq(c.max_session_expiry_interval, GN_SESSION_EXPIRY_NEVER);
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), 0);
}
END_TEST

START_TEST(test_file_with_comments_blank_lines_and_crlf_is_applied)
{
    gn_config c;
    gn_config_defaults(&c);
    const char *text =
        "# Gannet test config\n"
        "\n"
        "   port 18830   # trailing comment\n"
        "listen_address\t127.0.0.1\r\n"
        "shards 2\n"
        "pin_threads no\n"
        "max_packet_size 256k\n"
        "qos0_high_water_bytes 2M\n"
        "log_level DEBUG\n"
        "max_session_expiry_interval never\n"
        "max_session_expiry_interval 3600\n"
        "receive_maximum 20";
    ck_assert_int_eq(gn_config_load_string(&c, "t.conf", text, err, sizeof err), 0);
    ck_assert_uint_eq(c.port, 18830);
    ck_assert_str_eq(c.listen_address, "127.0.0.1");
    ck_assert_uint_eq(c.shards, 2);
    ck_assert(!c.pin_threads);
    ck_assert_uint_eq(c.max_packet_size, 262144);
    ck_assert_uint_eq(c.qos0_high_water_bytes, 2097152);
    ck_assert_int_eq(c.log_level, GN_LOG_DEBUG);
    ck_assert_uint_eq(c.max_session_expiry_interval, 3600);
    ck_assert_uint_eq(c.receive_maximum, 20);
}
END_TEST

START_TEST(test_unknown_key_is_an_error_with_file_and_line)
{
    gn_config c;
    gn_config_defaults(&c);
    ck_assert_int_eq(gn_config_load_string(&c, "b.conf", "port 1\n\npersistence false\n", err, sizeof err), -1);
    ck_assert_str_eq(err, "b.conf:3: unknown key 'persistence'");
}
END_TEST

START_TEST(test_bad_values_are_errors_naming_the_key)
{
    static const struct { const char *line; const char *expect; } cases[] = {
        { "port 65536", "x:1: key 'port': 65536 out of range 0..65535" },
        { "port -5", "x:1: key 'port': '-5' is not a non-negative integer" },
        { "port 12ab", "x:1: key 'port': '12ab' is not a non-negative integer" },
        { "port", "x:1: key 'port': missing value" },
        { "port 99999999999999999999999", "x:1: key 'port': 99999999999999999999999 out of range 0..65535" },
        { "pin_threads maybe", "x:1: key 'pin_threads': 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)" },
        { "listen_address localhost", "x:1: key 'listen_address': 'localhost' is not an IPv4 or IPv6 address" },
        { "rx_buffer_count 1000", "x:1: key 'rx_buffer_count': 1000 is not a power of two" },
        { "log_level loud", "x:1: key 'log_level': 'loud' is not one of error, warn, info, debug" },
        { "max_packet_size 1t", "x:1: key 'max_packet_size': '1t' is not a byte count (digits, optional k/m/g)" },
        { "max_packet_size 1g", "x:1: key 'max_packet_size': 1g out of range 128..268435460" },
        { "max_qos 3", "x:1: key 'max_qos': 3 out of range 0..2" },
        { "max_session_expiry_interval soon", "x:1: key 'max_session_expiry_interval': 'soon' is not a number of seconds or 'never'" },
        { "shards 0", "x:1: key 'shards': 0 out of range 1..256" },
        { "port 1 2", "x:1: key 'port': '1 2' is not a non-negative integer" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        gn_config c, before;
        gn_config_defaults(&c);
        before = c;
        ck_assert_int_eq(gn_config_load_string(&c, "x", cases[i].line, err, sizeof err), -1);
        ck_assert_str_eq(err, cases[i].expect);
        ck_assert_mem_eq(&c, &before, sizeof c); /* unchanged */
    }
}
END_TEST

START_TEST(test_set_applies_cli_style_overrides)
{
    gn_config c;
    gn_config_defaults(&c);
    ck_assert_int_eq(gn_config_set(&c, "port", "2883", err, sizeof err), 0);
    ck_assert_int_eq(gn_config_set(&c, "shards", "3", err, sizeof err), 0);
    ck_assert_int_eq(gn_config_set(&c, "listen_address", "::1", err, sizeof err), 0);
    ck_assert_uint_eq(c.port, 2883);
    ck_assert_uint_eq(c.shards, 3);
    ck_assert_str_eq(c.listen_address, "::1");
    ck_assert_int_eq(gn_config_set(&c, "nope", "1", err, sizeof err), -1);
    ck_assert_str_eq(err, "unknown key 'nope'");
}
END_TEST

START_TEST(test_mosquitto_listener_line_sets_port_and_address)
{
    gn_config c;
    gn_config_defaults(&c);
    ck_assert_int_eq(gn_config_load_string(&c, "m", "listener 1884 127.0.0.1\n", err, sizeof err), 0);
    ck_assert_uint_eq(c.port, 1884);
    ck_assert_str_eq(c.listen_address, "127.0.0.1");
    ck_assert_int_eq(gn_config_load_string(&c, "m", "listener 1885", err, sizeof err), 0);
    ck_assert_uint_eq(c.port, 1885);
    ck_assert_str_eq(c.listen_address, "127.0.0.1");
    ck_assert_int_eq(gn_config_load_string(&c, "m", "listener 1 2 3", err, sizeof err), -1);
    ck_assert_int_eq(gn_config_load_string(&c, "m", "listener 1886 nowhere", err, sizeof err), -1);
    ck_assert_uint_eq(c.port, 1885);
}
END_TEST

START_TEST(test_overlong_line_is_an_error)
{
    gn_config c;
    gn_config_defaults(&c);
    char *text = malloc(6000);
    memset(text, 'a', 5999);
    text[5999] = '\0';
    ck_assert_int_eq(gn_config_load_string(&c, "long", text, err, sizeof err), -1);
    ck_assert_str_eq(err, "long:1: line longer than 4095 bytes");
    free(text);
}
END_TEST

START_TEST(test_load_file_reads_a_file_and_reports_missing_ones)
{
    char path[] = "/tmp/gannet-config-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const char *text = "port 1999\nmax_topic_alias 0\nbogus 1\n";
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    gn_config c;
    gn_config_defaults(&c);
    ck_assert_int_eq(gn_config_load_file(&c, path, err, sizeof err), -1);
    char expect[128];
    snprintf(expect, sizeof expect, "%s:3: unknown key 'bogus'", path);
    ck_assert_str_eq(err, expect);
    ck_assert_uint_eq(c.port, 1999); /* lines before the bad one applied */
    unlink(path);
    ck_assert_int_eq(gn_config_load_file(&c, "/nonexistent/gannet.conf", err, sizeof err), -1);
    ck_assert_str_eq(err, "/nonexistent/gannet.conf: No such file or directory");
}
END_TEST

START_TEST(test_validate_catches_cross_field_and_hand_made_values)
{
    gn_config c;
    gn_config_defaults(&c);
    c.server_keep_alive = 100;
    c.max_keepalive = 60;
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), -1);
    ck_assert_str_eq(err, "server_keep_alive 100 is above max_keepalive 60");
    gn_config_defaults(&c);
    c.rx_buffer_count = 32768;
    c.rx_buffer_size = 1u << 20;
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), -1);
    gn_config_defaults(&c);
    c.xshard_ring_slots = 1000;
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), -1);
    ck_assert_str_eq(err, "xshard_ring_slots 1000 is out of range 64..16777216 or not a power of two");
    gn_config_defaults(&c);
    strcpy(c.listen_address, "300.1.1.1");
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), -1);
    gn_config_defaults(&c);
    c.receive_maximum = 0;
    ck_assert_int_eq(gn_config_validate(&c, err, sizeof err), -1);
}
END_TEST

START_TEST(test_dump_loads_back_to_an_equal_config)
{
    gn_config a, b;
    gn_config_defaults(&a);
    const char *text = "port 2000\nshards 5\nlog_level warn\nsqpoll yes\nlisten_address ::\n"
                       "max_session_expiry_interval 77\nmax_keepalive 300\nserver_keep_alive 30\n";
    ck_assert_int_eq(gn_config_load_string(&a, "a", text, err, sizeof err), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(gn_config_dump(&a, f), 0);
    fclose(f);
    ck_assert_ptr_nonnull(strstr(buf, "port"));
    ck_assert_ptr_nonnull(strstr(buf, "# restart"));
    ck_assert_ptr_nonnull(strstr(buf, "# reload"));
    gn_config_defaults(&b);
    ck_assert_int_eq(gn_config_load_string(&b, "dump", buf, err, sizeof err), 0);
    ck_assert_mem_eq(&a, &b, sizeof a);
    free(buf);
}
END_TEST

START_TEST(test_reloadable_keys_and_static_diff)
{
    ck_assert_int_eq(gn_config_key_reloadable("log_level"), 1);
    ck_assert_int_eq(gn_config_key_reloadable("max_queued_messages"), 1);
    ck_assert_int_eq(gn_config_key_reloadable("port"), 0);
    ck_assert_int_eq(gn_config_key_reloadable("shards"), 0);
    ck_assert_int_eq(gn_config_key_reloadable("listener"), 0);
    ck_assert_int_eq(gn_config_key_reloadable("nope"), -1);
    gn_config a, b;
    gn_config_defaults(&a);
    b = a;
    char out[256];
    ck_assert_int_eq(gn_config_static_diff(&a, &b, out, sizeof out), 0);
    ck_assert_str_eq(out, "");
    b.port = 1;
    b.shards = a.shards + 1;
    b.log_level = GN_LOG_DEBUG;  /* reloadable: not listed */
    ck_assert_int_eq(gn_config_static_diff(&a, &b, out, sizeof out), 2);
    ck_assert_str_eq(out, "port, shards");
}
END_TEST


/* docs/gannetd.conf.example (path from meson) loads, states the built-in
 * defaults, and mentions every key gn_config_dump knows. */
START_TEST(test_example_config_file_lists_every_key_with_its_default)
{
    const char *path = getenv("GANNET_CONF_EXAMPLE");
    ck_assert_msg(path != NULL, "GANNET_CONF_EXAMPLE not set");
    gn_config defaults, c;
    gn_config_defaults(&defaults);
    gn_config_defaults(&c);
    ck_assert_msg(gn_config_load_file(&c, path, err, sizeof err) == 0, "%s", err);
    ck_assert_mem_eq(&c, &defaults, sizeof c);

    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *dump = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&dump, &len);
    gn_config_dump(&c, m);
    fclose(m);
    int keys = 0;
    for (char *line = strtok(dump, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char key[64], active[80], commented[80];
        ck_assert_int_eq(sscanf(line, "%63s", key), 1);
        snprintf(active, sizeof active, "\n%s ", key);
        snprintf(commented, sizeof commented, "\n#%s ", key);
        ck_assert_msg(strstr(text, active) != NULL || strstr(text, commented) != NULL,
                      "key %s missing from %s", key, path);
        keys++;
    }
    ck_assert_int_ge(keys, 30);
    free(dump);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    tcase_add_test(tc, test_defaults_are_documented_values_and_valid);
    tcase_add_test(tc, test_file_with_comments_blank_lines_and_crlf_is_applied);
    tcase_add_test(tc, test_unknown_key_is_an_error_with_file_and_line);
    tcase_add_test(tc, test_bad_values_are_errors_naming_the_key);
    tcase_add_test(tc, test_set_applies_cli_style_overrides);
    tcase_add_test(tc, test_mosquitto_listener_line_sets_port_and_address);
    tcase_add_test(tc, test_overlong_line_is_an_error);
    tcase_add_test(tc, test_load_file_reads_a_file_and_reports_missing_ones);
    tcase_add_test(tc, test_validate_catches_cross_field_and_hand_made_values);
    tcase_add_test(tc, test_dump_loads_back_to_an_equal_config);
    tcase_add_test(tc, test_reloadable_keys_and_static_diff);
    tcase_add_test(tc, test_example_config_file_lists_every_key_with_its_default);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
