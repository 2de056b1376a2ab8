/* tests/platform/unit/test_topics.c — the topic spaces and their rewrite
 * (S-041 … S-055, S-067 … S-070, S-112): each class's publish and
 * subscribe allow-lists, '#' for applications, system topics, the device
 * rewrite to iot-2/type/T/id/I/... inside its org and back, gateway and
 * application org scoping, and Quickstart's rule set. */
#include <check.h>
#include <string.h>

#include "engine/platform/topics.h"

static gn_pident who(const char *cid)
{
    gn_pident p;
    ck_assert_int_eq(gn_pident_parse((const uint8_t *)cid, strlen(cid), &p), GN_PID_OK);
    return p;
}

static char out[512];
static size_t out_len;
static gn_ptopic_match m;

static gn_ptopic_verdict pub(const gn_pident *p, const char *t)
{
    return gn_ptopic_publish(p, (const uint8_t *)t, strlen(t), out, sizeof out, &out_len, &m);
}

static gn_ptopic_verdict sub(const gn_pident *p, const char *t)
{
    return gn_ptopic_subscribe(p, (const uint8_t *)t, strlen(t), out, sizeof out, &out_len, &m);
}

static void ck_out(const char *want)
{
    ck_assert_uint_eq(out_len, strlen(want));
    ck_assert(memcmp(out, want, out_len) == 0);
}

START_TEST(test_device_publish_rewrite)
{
    gn_pident d = who("d:abc123:sensor:s1");
    ck_assert_int_eq(pub(&d, "iot-2/evt/temp/fmt/json"), GN_PT_OK);
    ck_out("abc123/iot-2/type/sensor/id/s1/evt/temp/fmt/json");
    ck_assert(m.event);
    char back[512];
    size_t n = gn_ptopic_outbound(&d, out, out_len, back, sizeof back);
    ck_assert_uint_eq(n, strlen("iot-2/evt/temp/fmt/json"));
    ck_assert_int_eq(pub(&d, "iotdevice-1/response"), GN_PT_OK);
    ck_out("abc123/iotdevice-1/type/sensor/id/s1/response");
    ck_assert_int_eq(pub(&d, "iotdevice-1/mgmt/manage"), GN_PT_OK);
    ck_assert_int_eq(pub(&d, "iotdevice-1/add/diag/log"), GN_PT_OK);
    ck_assert_int_eq(pub(&d, "iotdevice-1/device/update/location"), GN_PT_OK);
    /* an event id longer than 36 is fine: only type and id are bounded */
    ck_assert_int_eq(pub(&d, "iot-2/evt/a-very-long-event-identifier-that-goes-on-and-on/fmt/f"), GN_PT_OK);
}
END_TEST

START_TEST(test_device_publish_outside_space)
{
    gn_pident d = who("d:abc123:sensor:s1");
    const char *bad[] = { "iot-2/type/x/id/y/evt/e/fmt/json", "iot-2/evt/temp", "iot-2/evt//fmt/json",
                          "iot-2/evt/temp/fmt/", "iot-2/evt/temp/fmt/json/extra", "iot-2/cmd/c/fmt/f",
                          "foo", "iotdevice-1/mgmt", "iot-2/evt/temp/fmt" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(pub(&d, bad[i]) == GN_PT_DENIED, "%s", bad[i]);
    ck_assert_int_eq(pub(&d, "$SYS/broker/load"), GN_PT_SYSTEM);
}
END_TEST

START_TEST(test_device_subscribe)
{
    gn_pident d = who("d:abc123:sensor:s1");
    ck_assert_int_eq(sub(&d, "iot-2/cmd/+/fmt/+"), GN_PT_OK);
    ck_out("abc123/iot-2/type/sensor/id/s1/cmd/+/fmt/+");
    ck_assert_int_eq(sub(&d, "iot-2/cmd/reboot/fmt/json"), GN_PT_OK);
    ck_assert_int_eq(sub(&d, "iotdm-1/#"), GN_PT_OK);
    ck_out("abc123/iotdm-1/type/sensor/id/s1/#");
    ck_assert_int_eq(sub(&d, "iot-2/mon"), GN_PT_OK);
    ck_assert_int_eq(sub(&d, "iot-2/notify"), GN_PT_OK);
    ck_assert_int_eq(sub(&d, "iot-2/type/+/id/+/evt/+/fmt/+"), GN_PT_DENIED);   /* S-047 */
    ck_assert_int_eq(sub(&d, "iot-2/cmd/#"), GN_PT_DENIED);
    ck_assert_int_eq(sub(&d, "#"), GN_PT_DENIED);
    /* a command sent to this device comes back in its own form */
    char back[512];
    const char *internal = "abc123/iot-2/type/sensor/id/s1/cmd/reboot/fmt/json";
    size_t n = gn_ptopic_outbound(&d, internal, strlen(internal), back, sizeof back);
    ck_assert_uint_eq(n, strlen("iot-2/cmd/reboot/fmt/json"));
    ck_assert(memcmp(back, "iot-2/cmd/reboot/fmt/json", n) == 0);
    /* another org's topic is never delivered */
    ck_assert_uint_eq(gn_ptopic_outbound(&d, "zzz999/iot-2/x", 14, back, sizeof back), 0);
}
END_TEST

START_TEST(test_gateway)
{
    gn_pident g = who("g:abc123:gwt:gw1");
    ck_assert_int_eq(pub(&g, "iot-2/type/sensor/id/s7/evt/temp/fmt/json"), GN_PT_OK);
    ck_out("abc123/iot-2/type/sensor/id/s7/evt/temp/fmt/json");
    ck_assert(m.names_device);
    ck_assert_uint_eq(m.type_len, 6);
    ck_assert(memcmp(m.type, "sensor", 6) == 0);
    ck_assert(memcmp(m.id, "s7", 2) == 0);
    ck_assert_int_eq(pub(&g, "iotdevice-1/type/sensor/id/s7/response"), GN_PT_OK);
    ck_assert_int_eq(pub(&g, "iot-2/type/sensor/id/s7/cmd/c/fmt/f"), GN_PT_DENIED);   /* S-054 */
    ck_assert_int_eq(pub(&g, "iot-2/evt/temp/fmt/json"), GN_PT_DENIED);
    ck_assert_int_eq(sub(&g, "iot-2/type/mydevice/id/+/cmd/+/fmt/+"), GN_PT_OK);
    ck_assert_int_eq(sub(&g, "iot-2/type/+/id/+/cmd/+/fmt/+"), GN_PT_OK);
    ck_assert_int_eq(sub(&g, "iot-2/type/gwt/id/gw1/notify"), GN_PT_OK);
    ck_assert_int_eq(sub(&g, "iot-2/type/+/id/+/mon"), GN_PT_OK);            /* S-067 */
    ck_assert_int_eq(sub(&g, "iotdm-1/type/+/id/+/#"), GN_PT_OK);
    ck_assert_int_eq(sub(&g, "iot-2/type/+/id/+/evt/+/fmt/+"), GN_PT_DENIED);
    char back[512];
    const char *internal = "abc123/iot-2/type/sensor/id/s7/cmd/c/fmt/f";
    size_t n = gn_ptopic_outbound(&g, internal, strlen(internal), back, sizeof back);
    ck_assert_uint_eq(n, strlen(internal) - 7);
}
END_TEST

START_TEST(test_application)
{
    gn_pident a = who("a:abc123:app1");
    ck_assert_int_eq(pub(&a, "iot-2/type/sensor/id/s1/cmd/reboot/fmt/json"), GN_PT_OK);
    ck_assert(m.command);
    ck_assert_int_eq(pub(&a, "iot-2/type/sensor/id/s1/evt/e/fmt/json"), GN_PT_OK);
    ck_assert_int_eq(pub(&a, "iot-2/evt/e/fmt/json"), GN_PT_DENIED);
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/evt/+/fmt/+"), GN_PT_OK);
    ck_out("abc123/iot-2/type/+/id/+/evt/+/fmt/+");
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/cmd/+/fmt/+"), GN_PT_OK);
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/mon"), GN_PT_OK);
    ck_assert_int_eq(sub(&a, "iot-2/app/+/mon"), GN_PT_OK);
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/evt/#"), GN_PT_HASH);        /* S-070 */
    ck_assert_int_eq(sub(&a, "#"), GN_PT_HASH);
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/foo/+/fmt/+"), GN_PT_DENIED);
    ck_assert_int_eq(sub(&a, "$SYS/#"), GN_PT_SYSTEM);
    gn_pident s = who("A:abc123:app1:i1");
    ck_assert_int_eq(sub(&s, "iot-2/type/+/id/+/evt/#"), GN_PT_HASH);
}
END_TEST

START_TEST(test_quickstart)
{
    gn_pident d = who("d:quickstart:t:dev1");
    ck_assert_int_eq(pub(&d, "iot-2/evt/status/fmt/json"), GN_PT_OK);
    ck_out("quickstart/iot-2/type/t/id/dev1/evt/status/fmt/json");
    ck_assert_int_eq(pub(&d, "iot-2/evt/status/fmt/text"), GN_PT_DENIED);   /* S-078 */
    ck_assert_int_eq(sub(&d, "iot-2/cmd/+/fmt/+"), GN_PT_DENIED);           /* S-111 */
    gn_pident a = who("a:quickstart:viewer");
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/dev1/evt/+/fmt/+"), GN_PT_OK);
    ck_assert_int_eq(sub(&a, "iot-2/type/+/id/+/evt/+/fmt/+"), GN_PT_DENIED); /* S-112 */
    ck_assert_int_eq(pub(&a, "iot-2/type/t/id/dev1/cmd/c/fmt/json"), GN_PT_DENIED);
    ck_assert_int_eq(pub(&a, "iot-2/type/t/id/dev1/evt/e/fmt/json"), GN_PT_OK);
}
END_TEST

START_TEST(test_deep_topics)
{
    gn_pident d = who("d:abc123:sensor:s1");
    /* iotdm-1/# rules take any depth; fixed rules never match deeper topics */
    ck_assert_int_eq(sub(&d, "iotdm-1/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/#"), GN_PT_OK);
    ck_assert_int_eq(pub(&d, "iot-2/evt/e/fmt/f/a/b/c/d/e/f/g/h/i/j/k/l/m/n"), GN_PT_DENIED);
    gn_pident g = who("g:abc123:gwt:gw1");
    ck_assert_int_eq(pub(&g, "iot-2/type/t/id/i/evt/e/fmt/f/x/y/z/a/b/c/d/e/f/g"), GN_PT_DENIED);
    ck_assert_int_eq(pub(&g, "iotdevice-1/type/t/id/i/mgmt/m/extra"), GN_PT_DENIED);
}
END_TEST

START_TEST(test_rewrite_does_not_overflow)
{
    gn_pident d = who("d:abc123:sensor:s1");
    char small[20];
    size_t n = 0;
    gn_ptopic_match mm;
    const char *t = "iot-2/evt/temp/fmt/json";
    ck_assert_int_eq(gn_ptopic_publish(&d, (const uint8_t *)t, strlen(t), small, sizeof small, &n, &mm),
                     GN_PT_TOO_LONG);
    ck_assert_int_eq(gn_ptopic_publish(&d, (const uint8_t *)"", 0, small, sizeof small, &n, &mm),
                     GN_PT_DENIED);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("platform_topics");
    TCase *tc = tcase_create("topics");
    tcase_add_test(tc, test_device_publish_rewrite);
    tcase_add_test(tc, test_device_publish_outside_space);
    tcase_add_test(tc, test_device_subscribe);
    tcase_add_test(tc, test_gateway);
    tcase_add_test(tc, test_application);
    tcase_add_test(tc, test_quickstart);
    tcase_add_test(tc, test_deep_topics);
    tcase_add_test(tc, test_rewrite_does_not_overflow);
    suite_add_tcase(su, tc);
    SRunner *sr = srunner_create(su);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
