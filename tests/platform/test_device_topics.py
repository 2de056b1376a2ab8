"""tests/platform/test_device_topics.py — the device topic space
(PLATFORM.md S-041 … S-051, S-142): events out, commands in, the rewrite
to iot-2/type/{type}/id/{id}/..., and what a device gets for a topic
outside its space under MQTT 3.1.1 (close 276) and MQTT 5 (SUBACK 0x8F,
PUBACK 0x90, a QoS 0 publish still closes)."""

import subprocess
import time

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, QUIET, PlatformTestCase, uid


def event_topic(type_, id_, ev="temp", fmt="json"):
    return "iot-2/type/%s/id/%s/evt/%s/fmt/%s" % (type_, id_, ev, fmt)


class DeviceTopics(PlatformTestCase):

    @classmethod
    def setup(cls):
        for i in range(12):
            cls.device("sensor", "s%d" % i)
        cls.device("sensor", "s1", "d", "tok-en-123456", "zzz999")

    def dev(self, n, version=mqttraw.V311, **kw):
        return self.raw_as("d:%s:sensor:s%d" % (ORG, n), version, **kw)

    def app_sub(self, flt, qos=1, version=mqttraw.V311):
        a = self.raw_app(version=version)
        ack = a.mqtt_subscribe([(flt, qos)])
        self.assertLess(ack.codes[0], 0x80, ack)
        return a

    def test_S041_device_publishes_events(self):
        a = self.app_sub(event_topic("sensor", "s0", "+", "+"))
        d = self.paho_as("d:%s:sensor:s0" % ORG)
        d.publish("iot-2/evt/temp/fmt/json", b'{"t":21}', qos=1)
        p = a.next_publish()
        self.assertEqual(p.payload, b'{"t":21}')

    def test_S042_device_subscribes_to_its_commands(self):
        d = self.dev(1)
        ack = d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 1)])
        self.assertEqual(ack.codes, [1])
        a = self.raw_app()
        a.publish("iot-2/type/sensor/id/s1/cmd/reboot/fmt/json", b"{}", qos=1)
        p = d.next_publish()
        self.assertEqual(p.topic, "iot-2/cmd/reboot/fmt/json")
        d.ack(p)

    def test_S043_device_allow_list(self):
        d = self.dev(2)
        for t in ("iotdevice-1/response", "iotdevice-1/notify", "iotdevice-1/mgmt/manage",
                  "iotdevice-1/device/update/location", "iotdevice-1/add/diag/log",
                  "iotdevice-1/clear/diag/errorCodes", "iot-2/evt/e/fmt/bin"):
            d.publish(t, b"x", qos=1)
        ack = d.mqtt_subscribe([("iotdm-1/#", 1), ("iot-2/mon", 0), ("iot-2/notify", 0),
                                ("iot-2/cmd/reboot/fmt/json", 1)])
        self.assertEqual(ack.codes, [1, 0, 0, 1])
        self.assert_open(d)

    def test_S044_device_topic_rewritten_to_canonical_form(self):
        a = self.app_sub("iot-2/type/+/id/+/evt/+/fmt/+")
        d = self.dev(3)
        d.publish("iot-2/evt/temp/fmt/json", b"21", qos=1)
        p = a.next_publish()
        self.assertEqual(p.topic, event_topic("sensor", "s3"))
        # mosquitto_sub as an application sees the same canonical topic
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.broker.port),
                                "-i", "a:%s:%s" % (ORG, uid("ms")), "-u", self.apikey,
                                "-P", APP_TOKEN, "-q", "1", "-v", "-C", "1", "-W", "10",
                                "-t", event_topic("sensor", "s3", "+", "+")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 8
            out = b""
            while sub.poll() is None and time.monotonic() < deadline:
                d.publish("iot-2/evt/hum/fmt/txt", b"55", qos=1)
                time.sleep(0.2)
            out = sub.communicate(timeout=10)[0]
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        self.assertEqual(out.decode().splitlines()[0], event_topic("sensor", "s3", "hum", "txt") + " 55")

    def test_S045_device_hears_only_its_own_commands(self):
        d4 = self.dev(4)
        d4.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 1)])
        a = self.raw_app()
        a.publish("iot-2/type/sensor/id/s5/cmd/c/fmt/json", b"not for s4", qos=1)
        a.publish("iot-2/type/sensor/id/s4/cmd/c/fmt/json", b"for s4", qos=1)
        p = d4.next_publish()
        self.assertEqual(p.payload, b"for s4")
        # another org's command to a device with the same type and id never arrives
        other = self.raw_as("a:zzz999:%s" % uid("app"), username=self.other_apikey,
                            password="app-token-12345")
        other.publish("iot-2/type/sensor/id/s4/cmd/c/fmt/json", b"other org", qos=1)
        self.assertEqual([x for x in d4.collect(QUIET) if x.type == mqttraw.PUBLISH], [])

    def test_S046_device_publish_outside_space_closes_276(self):
        cid = "d:%s:sensor:s6" % ORG
        d = self.dev(6)
        d.send(mqttraw.publish("iot-2/type/x/id/y/evt/e/fmt/json", b"x", qos=1, pid=7))
        got = d.expect_closed()
        self.assertFalse(any(p.type == mqttraw.PUBACK for p in got), got)
        self.assertEqual(self.assert_close_code(cid, 276), "The topic is not valid")

    def test_S047_device_subscribe_outside_space_closes_276(self):
        for flt in ("iot-2/type/+/id/+/evt/+/fmt/+", "iot-2/cmd/#"):
            cid = "d:%s:sensor:s7" % ORG
            d = self.dev(7)
            d.send(mqttraw.subscribe(1, [(flt, 0)]))
            got = d.expect_closed()
            self.assertEqual([p for p in got if p.type == mqttraw.SUBACK], [])
            self.assert_close_code(cid, 276)
            self.log_mark = self.broker.log_size()

    def test_S048_mqtt5_reason_codes_keep_the_connection(self):
        cid = "d:%s:sensor:s8" % ORG
        d = self.dev(8, mqttraw.V5)
        ack = d.mqtt_subscribe([("iot-2/type/+/id/+/evt/+/fmt/+", 0), ("iot-2/cmd/+/fmt/+", 1)])
        self.assertEqual(ack.codes, [0x8F, 1])
        r = d.publish("iot-2/type/x/id/y/evt/e/fmt/json", b"x", qos=1, pid=3)
        self.assertEqual(r.rc, 0x90)
        d.send(mqttraw.publish("iot-2/type/x/id/y/evt/e/fmt/json", b"x", qos=2, pid=4,
                               version=mqttraw.V5))
        rec = d.expect(mqttraw.PUBREC)
        self.assertEqual(rec.rc, 0x90)
        self.assert_open(d)
        # QoS 0 on a bad topic still closes, with DISCONNECT 0x90
        d.send(mqttraw.publish("iot-2/type/x/id/y/evt/e/fmt/json", b"x", version=mqttraw.V5))
        got = d.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x90 for p in got), got)
        self.assert_close_code(cid, 276)

    def test_S049_empty_and_wildcard_topics_276(self):
        cid = "d:%s:sensor:s9" % ORG
        d = self.dev(9)
        d.send(mqttraw.publish("", b"x"))
        d.expect_closed()
        self.assert_close_code(cid, 276)
        self.log_mark = self.broker.log_size()
        d = self.dev(9)
        d.send(mqttraw.publish("iot-2/evt/+/fmt/json", b"x"))
        d.expect_closed()
        self.assert_close_code(cid, 276)
        self.log_mark = self.broker.log_size()
        d = self.dev(9)
        d.send(mqttraw.subscribe(1, [("iot-2/cmd/a+/fmt/+", 0)]))
        d.expect_closed()
        self.assert_close_code(cid, 276)

    def test_S050_system_topics_closed_289(self):
        cid = "d:%s:sensor:s10" % ORG
        d = self.dev(10)
        d.send(mqttraw.subscribe(1, [("$SYS/#", 0)]))
        d.expect_closed()
        self.assertEqual(self.assert_close_code(cid, 289), "The topic is a system topic")

    def test_S051_devices_publish_at_qos_0_1_2(self):
        a = self.app_sub(event_topic("sensor", "s11", "+", "+"), qos=2)
        d = self.dev(11)
        for q in (0, 1, 2):
            d.publish("iot-2/evt/q%d/fmt/json" % q, b"%d" % q, qos=q, pid=q + 1)
        got = sorted(a.next_publish().payload for _ in range(3))
        self.assertEqual(got, [b"0", b"1", b"2"])

    def test_S142_unauthorized_publish_is_276_not_180(self):
        cid = "d:%s:sensor:s6" % ORG
        d = self.dev(6)
        d.send(mqttraw.publish("iot-2/type/sensor/id/s7/evt/e/fmt/json", b"impersonate", qos=1))
        d.expect_closed()
        code, _, _ = self.close_line(cid)
        self.assertEqual(code, 276)
