"""tests/platform/test_quickstart.py — Quickstart (PLATFORM.md S-110 …
S-113): no authentication or registration, its own rule set, no commands,
no durable sessions, no QoS above 0, no retained status."""

from platform_harness import mqttraw
from platform_harness import QUIET, PlatformTestCase, uid


class Quickstart(PlatformTestCase):

    def qdev(self, id_=None, version=mqttraw.V311, **kw):
        cid = "d:quickstart:anytype:%s" % (id_ or uid("q"))
        return cid, self.raw_as(cid, version, username=None, password=None, **kw)

    def test_S110_no_authentication_or_registration(self):
        _, c = self.qdev()
        self.assertEqual(c.connack.rc, 0)
        # credentials are ignored rather than checked
        c2 = self.raw_as("d:quickstart:t:%s" % uid("q"), username="use-token-auth", password="x")
        self.assertEqual(c2.connack.rc, 0)
        p = self.paho("d:quickstart:t:%s" % uid("p"), "v311")
        self.assertFalse(p.session_present)

    def test_S111_quickstart_does_not_support(self):
        dev = uid("q")
        cid, c = self.qdev(dev)
        # commands: no subscribe rights (3.1.1: close 276)
        c.send(mqttraw.subscribe(1, [("iot-2/cmd/+/fmt/+", 0)]))
        c.expect_closed()
        self.assert_close_code(cid, 276)
        # durable sessions: 292
        self.log_mark = self.broker.log_size()
        cid, c = self.qdev(uid("q"), clean=False, expect_rc=5)
        c.expect_closed()
        self.assert_close_code(cid, 292)
        # QoS above 0: 291
        self.log_mark = self.broker.log_size()
        cid, c = self.qdev(uid("q"))
        c.send(mqttraw.publish("iot-2/evt/e/fmt/json", b"{}", qos=1))
        c.expect_closed()
        self.assert_close_code(cid, 291)
        # scalable applications and gateways
        self.raw_as("A:quickstart:%s" % uid("a"), username=None, password=None,
                    expect_rc=5).expect_closed()
        self.raw_as("g:quickstart:t:%s" % uid("g"), username=None, password=None,
                    expect_rc=5).expect_closed()

    def test_S112_quickstart_rule_set(self):
        dev = uid("q")
        a = self.raw_as("a:quickstart:%s" % uid("v"), mqttraw.V5, username=None, password=None)
        ack = a.mqtt_subscribe([("iot-2/type/+/id/%s/evt/+/fmt/+" % dev, 0),
                                ("iot-2/type/+/id/+/evt/+/fmt/+", 0),
                                ("iot-2/type/+/id/%s/mon" % dev, 0)])
        self.assertEqual(ack.codes, [0, 0x8F, 0])
        _, d = self.qdev(dev)
        d.publish("iot-2/evt/status/fmt/json", b'{"v":1}')
        p = next(p for p in iter(a.next_publish, None) if not p.topic.endswith("/mon"))  # skip the Connect
        self.assertEqual((p.topic, p.payload), ("iot-2/type/anytype/id/%s/evt/status/fmt/json" % dev,
                                                b'{"v":1}'))
        # an application publishes events only
        r = a.publish("iot-2/type/anytype/id/%s/cmd/c/fmt/json" % dev, b"x", qos=0)
        self.assertIsNone(r)
        a.expect_closed()

    def test_S078_quickstart_devices_publish_json_only(self):
        dev = uid("q")
        cid = "d:quickstart:anytype:%s" % dev
        d5 = self.raw_as(cid, mqttraw.V5, username=None, password=None)
        d5.publish("iot-2/evt/status/fmt/json", b"{}")
        d5.send(mqttraw.publish("iot-2/evt/status/fmt/text", b"x", version=mqttraw.V5))
        got = d5.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x90 for p in got), got)
        self.assert_close_code(cid, 276)

    def test_S113_no_retained_status(self):
        dev = uid("q")
        _, d = self.qdev(dev)
        d.publish("iot-2/evt/status/fmt/json", b"{}", retain=True)
        a = self.raw_as("a:quickstart:%s" % uid("v"), username=None, password=None)
        a.mqtt_subscribe([("iot-2/type/+/id/%s/evt/+/fmt/+" % dev, 0)])
        self.assertEqual([p for p in a.collect(QUIET) if p.type == mqttraw.PUBLISH], [])
