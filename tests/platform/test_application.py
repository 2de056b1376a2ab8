"""tests/platform/test_application.py — the application topic space
(PLATFORM.md S-068 … S-073): events and commands as a device, the
subscriptions an application may make, no '#', API key roles, and the
keep-alive rule of A: clients."""

import unittest

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, PlatformTestCase, uid


class Application(PlatformTestCase):

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")
        cls.device("sensor", "s2")
        cls.readonly = cls.reg("apikey", ORG, APP_TOKEN, "event_recv")

    def test_S068_application_publishes_events_and_commands(self):
        watcher = self.raw_app()
        watcher.mqtt_subscribe([("iot-2/type/sensor/id/s1/evt/+/fmt/+", 1)])
        d = self.raw_as("d:%s:sensor:s1" % ORG)
        d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 1)])
        a = self.paho_app(protocol="v5")
        a.publish("iot-2/type/sensor/id/s1/evt/fake/fmt/json", b"as device", qos=1)
        self.assertEqual(watcher.next_publish().payload, b"as device")
        a.publish("iot-2/type/sensor/id/s1/cmd/blink/fmt/json", b"cmd", qos=1)
        p = d.next_publish()
        self.assertEqual((p.topic, p.payload), ("iot-2/cmd/blink/fmt/json", b"cmd"))

    def test_S069_application_subscriptions(self):
        a = self.paho_app()
        self.assertEqual(a.subscribe("iot-2/type/+/id/+/evt/+/fmt/+", 1), [1])
        self.assertEqual(a.subscribe("iot-2/type/+/id/+/cmd/+/fmt/+", 1), [1])
        self.assertEqual(a.subscribe("iot-2/type/+/id/+/mon", 0), [0])
        self.assertEqual(a.subscribe("iot-2/app/+/mon", 0), [0])
        d = self.raw_as("d:%s:sensor:s2" % ORG)
        d.publish("iot-2/evt/x/fmt/json", b"1", qos=1)
        m = next(m for m in iter(a.get, None) if not m.topic.endswith("/mon"))  # skip s2's Connect
        self.assertEqual(m.topic, "iot-2/type/sensor/id/s2/evt/x/fmt/json")

    def test_S070_no_hash_for_applications(self):
        app = uid("app")
        c = self.raw_app(app)
        c.send(mqttraw.subscribe(1, [("iot-2/type/+/id/+/evt/#", 0)]))
        got = c.expect_closed()
        self.assertEqual([p for p in got if p.type == mqttraw.SUBACK], [])
        self.assert_close_code("a:%s:%s" % (ORG, app), 276)
        c5 = self.raw_app(version=mqttraw.V5)
        self.assertEqual(c5.mqtt_subscribe([("iot-2/type/+/id/+/evt/#", 0)]).codes, [0x8F])
        self.assert_open(c5)

    def test_S071_api_key_role_limits_the_application(self):
        app = uid("ro")
        c = self.raw_app(app, key=self.readonly)
        self.assertEqual(c.mqtt_subscribe([("iot-2/type/+/id/+/evt/+/fmt/+", 0)]).codes, [0])
        c.send(mqttraw.publish("iot-2/type/sensor/id/s1/cmd/c/fmt/json", b"x", qos=1))
        c.expect_closed()
        self.assert_close_code("a:%s:%s" % (ORG, app), 276)
        c5 = self.raw_app(key=self.readonly, version=mqttraw.V5)
        self.assertEqual(c5.publish("iot-2/type/sensor/id/s1/cmd/c/fmt/json", b"x", qos=1).rc, 0x90)

    def test_S073_shared_application_keepalive_capped_at_3600(self):
        for ka in (0, 7200):
            c = self.raw_app(uid("app"), cls_="A", version=mqttraw.V5, keepalive=ka)
            self.assertEqual(c.connack.prop(mqttraw.SERVER_KEEP_ALIVE), 3600)
        c = self.raw_app(uid("app"), cls_="A", version=mqttraw.V5, keepalive=60)
        self.assertIsNone(c.connack.prop(mqttraw.SERVER_KEEP_ALIVE))
        # other classes are not capped (S-102)
        c = self.raw_app(uid("app"), version=mqttraw.V5, keepalive=7200)
        self.assertIsNone(c.connack.prop(mqttraw.SERVER_KEEP_ALIVE))
