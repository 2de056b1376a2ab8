"""tests/platform/test_sessions.py — QoS, durable sessions, queues and
in-flight limits (PLATFORM.md S-082 … S-091, S-144): the org's maximum
QoS (SUBACK downgrade, PUBLISH above it closes 291), QoS 3 (284), queued
messages of durable sessions, per-subscription queue depths with the
oldest dropped, redelivery on reconnect, in-flight windows and topic
aliases."""

import re
import time

from platform_harness import mqttraw
from platform_harness import APP_TOKEN, ORG, QUIET, PlatformTestCase, uid


class Sessions(PlatformTestCase):
    platform_conf = "platform_queue_depth_app 5\nplatform_queue_depth_device 3\n"

    @classmethod
    def setup(cls):
        for i in range(1, 10):
            cls.device("sensor", "s%d" % i)

    def dev(self, n, version=mqttraw.V311, **kw):
        return self.raw_as("d:%s:sensor:s%d" % (ORG, n), version, **kw)

    def test_S082_qos_0_1_2_for_events_and_commands(self):
        d = self.dev(1)
        self.assertEqual(d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 2)]).codes, [2])
        a = self.raw_app()
        self.assertEqual(a.mqtt_subscribe([("iot-2/type/sensor/id/s1/evt/+/fmt/+", 2)]).codes, [2])
        for q in (0, 1, 2):
            a.publish("iot-2/type/sensor/id/s1/cmd/c%d/fmt/json" % q, b"c", qos=q, pid=q + 1)
            p = d.next_publish()
            self.assertEqual(p.qos, q)
            d.ack(p)
            d.publish("iot-2/evt/e%d/fmt/json" % q, b"e", qos=q, pid=q + 10)
            p = a.next_publish()
            self.assertEqual(p.qos, q)
            a.ack(p)

    def test_S084_qos_3_closes_284(self):
        d = self.dev(2)
        d.send(mqttraw.subscribe(1, [("iot-2/cmd/+/fmt/+", 3)]))
        d.expect_closed()
        self.assert_close_code("d:%s:sensor:s2" % ORG, 284)

    def test_S085_durable_session_queues_qos1_while_offline(self):
        app = uid("dur")
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        a.mqtt_subscribe([("iot-2/type/sensor/id/s3/evt/+/fmt/+", 1)])
        a.close()
        time.sleep(0.2)
        d = self.dev(3)
        d.publish("iot-2/evt/e/fmt/json", b"q1", qos=1)
        d.publish("iot-2/evt/e/fmt/json", b"q0", qos=0)
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        self.assertTrue(a.connack.session_present)
        got = [p.payload for p in a.collect(QUIET * 2) if p.type == mqttraw.PUBLISH]
        self.assertIn(b"q1", got)

    def test_S086_queue_full_drops_the_oldest(self):
        app = uid("q")
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        a.mqtt_subscribe([("iot-2/type/sensor/id/s4/evt/+/fmt/+", 1)])
        a.close()
        time.sleep(0.2)
        d = self.dev(4)
        for i in range(12):
            d.publish("iot-2/evt/e/fmt/json", b"%d" % i, qos=1, pid=i + 1)   # publisher never waits
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        got = [p.payload for p in a.collect(QUIET * 2) if p.type == mqttraw.PUBLISH]
        self.assertEqual(got, [b"7", b"8", b"9", b"10", b"11"])
        # a clean session resets the buffer
        a.close()
        a = self.raw_app(app + ":i", cls_="A", clean=True)
        self.assertFalse(a.connack.session_present)

    def _durable_app_with_two_subscriptions(self, app, a_dev, b_dev):
        """A durable application session (paho, 3.1.1, cleansession=0)
        subscribed to the events of two devices, then offline."""
        cid = "A:%s:%s:i" % (ORG, app)
        a = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertEqual(a.subscribe("iot-2/type/sensor/id/s%d/evt/+/fmt/+" % a_dev, 1), [1])
        self.assertEqual(a.subscribe("iot-2/type/sensor/id/s%d/evt/+/fmt/+" % b_dev, 1), [1])
        a.disconnect()
        time.sleep(0.2)
        return cid

    def _publish(self, dev, n, prefix):
        d = self.paho_as("d:%s:sensor:s%d" % (ORG, dev))
        for i in range(n):
            d.publish("iot-2/evt/e/fmt/text", b"%s%d" % (prefix, i), qos=1)   # never waits for the app
        d.disconnect()

    def test_S086_each_subscription_has_its_own_buffer(self):
        app = uid("two")
        cid = self._durable_app_with_two_subscriptions(app, 8, 9)
        # the first device overflows its subscription's buffer of 5; the
        # second stays under it (and publishes in the middle of the burst)
        self._publish(8, 6, b"a")
        self._publish(9, 3, b"b")
        self._publish(8, 6, b"c")
        a = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertTrue(a.session_present)
        got = [m.payload for m in a.get_n(8)]
        with self.assertRaises(AssertionError):
            a.get(QUIET)                            # nothing beyond the two buffers
        # only the overflowing subscription lost messages, its oldest ones;
        # each publisher's order holds, and the second device's messages,
        # older than the first's survivors, come first
        self.assertEqual(got, [b"b0", b"b1", b"b2", b"c1", b"c2", b"c3", b"c4", b"c5"])
        line = self.wait_log_line(r"resumed: client=%s queue_dropped=(\d+)" % re.escape(cid))
        self.assertEqual(int(line.group(1)), 7)
        a.disconnect()
        _, _, close = self.close_line(cid)
        self.assertIn("queue_dropped=0", close)     # nothing dropped while it was connected

    def test_S086_clean_session_resets_the_buffers(self):
        app = uid("rst")
        cid = self._durable_app_with_two_subscriptions(app, 8, 9)
        self._publish(8, 7, b"x")
        self._publish(9, 2, b"y")
        # cleansession=1: the session and both buffers are gone
        a = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=True)
        self.assertFalse(a.session_present)
        with self.assertRaises(AssertionError):
            a.get(QUIET)
        a.disconnect()
        time.sleep(0.2)
        # back to durable: a new empty session, nothing left from before
        a = self.paho(cid, "v311", username=self.apikey, password=APP_TOKEN, clean=False)
        self.assertFalse(a.session_present)
        with self.assertRaises(AssertionError):
            a.get(QUIET)

    def test_S087_device_queue_depth_is_its_own_setting(self):
        cid = "d:%s:sensor:s5" % ORG
        self.reg("org", ORG, "allow_durable=true")
        d = self.dev(5, clean=False)
        d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 1)])
        d.close()
        time.sleep(0.2)
        a = self.raw_app()
        for i in range(6):
            a.publish("iot-2/type/sensor/id/s5/cmd/c/fmt/json", b"%d" % i, qos=1, pid=i + 1)
        d = self.raw_as(cid, clean=False)
        got = [p.payload for p in d.collect(QUIET * 2) if p.type == mqttraw.PUBLISH]
        self.assertEqual(got, [b"3", b"4", b"5"])

    def test_S089_unacknowledged_qos1_resent_on_reconnect_only(self):
        app = uid("re")
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        a.mqtt_subscribe([("iot-2/type/sensor/id/s6/evt/+/fmt/+", 1)])
        d = self.dev(6)
        d.publish("iot-2/evt/e/fmt/json", b"once", qos=1)
        p = a.next_publish()
        self.assertEqual(p.payload, b"once")
        # not acknowledged: no timer resends it
        self.assertEqual([x for x in a.collect(QUIET * 2) if x.type == mqttraw.PUBLISH], [])
        a.close()
        a = self.raw_app(app + ":i", cls_="A", clean=False)
        p = a.next_publish()
        self.assertEqual((p.payload, p.dup), (b"once", True))

    def test_S090_inflight_caps(self):
        d = self.dev(7, mqttraw.V5)
        self.assertEqual(d.connack.prop(mqttraw.RECEIVE_MAXIMUM), 10)
        g_id = uid("gw")
        self.reg("device", ORG, "gwtype", g_id, "g", "tok-en-123456")
        time.sleep(0.4)
        g = self.raw_as("g:%s:gwtype:%s" % (ORG, g_id), mqttraw.V5)
        self.assertEqual(g.connack.prop(mqttraw.RECEIVE_MAXIMUM), 1000)
        a = self.raw_app(version=mqttraw.V5)
        self.assertEqual(a.connack.prop(mqttraw.RECEIVE_MAXIMUM), 1024)   # capped by receive_maximum
        # outbound: at most 10 unacknowledged commands to a device
        d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 1)])
        app = self.raw_app()
        for i in range(15):
            app.publish("iot-2/type/sensor/id/s7/cmd/c/fmt/json", b"%d" % i, qos=1, pid=i + 1)
        first = [p for p in d.collect(QUIET) if p.type == mqttraw.PUBLISH]
        self.assertEqual(len(first), 10)
        for p in first:
            d.ack(p)
        rest = [p.payload for p in d.collect(QUIET) if p.type == mqttraw.PUBLISH]
        # behind the window the device's queue holds 3 (this class's depth):
        # the oldest two of the five waiting were dropped (S-086)
        self.assertEqual(rest, [b"12", b"13", b"14"])

    def test_S091_topic_alias_maximum_8(self):
        d = self.dev(8, mqttraw.V5, props=[(mqttraw.TOPIC_ALIAS_MAXIMUM, 100)])
        self.assertEqual(d.connack.prop(mqttraw.TOPIC_ALIAS_MAXIMUM), 8)
        d.publish("iot-2/evt/a/fmt/json", b"1", qos=1, props=[(mqttraw.TOPIC_ALIAS, 8)])
        d.send(mqttraw.publish("iot-2/evt/a/fmt/json", b"1", props=[(mqttraw.TOPIC_ALIAS, 9)],
                               version=mqttraw.V5))
        got = d.expect_closed()
        self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x94 for p in got), got)


class MaxQos(PlatformTestCase):
    org_settings = ("max_qos=1",)

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")

    def test_S083_subscribe_downgraded_publish_above_closes_291(self):
        cid = "d:%s:sensor:s1" % ORG
        d = self.raw_as(cid)
        self.assertEqual(d.mqtt_subscribe([("iot-2/cmd/+/fmt/+", 2)]).codes, [1])
        d.publish("iot-2/evt/e/fmt/json", b"q1", qos=1)
        d.send(mqttraw.publish("iot-2/evt/e/fmt/json", b"q2", qos=2, pid=5))
        d.expect_closed()
        self.assertEqual(self.assert_close_code(cid, 291),
                         "The requested quality of service is not allowed")
        d5 = self.raw_as(cid, mqttraw.V5)
        self.assertEqual(d5.connack.prop(mqttraw.MAXIMUM_QOS), 1)


class SubscriptionLimit(PlatformTestCase):
    platform_conf = "platform_max_subscriptions_device 3\n"

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")

    def test_S092_too_many_subscriptions_close_154(self):
        cid = "d:%s:sensor:s1" % ORG
        d = self.raw_as(cid)
        d.mqtt_subscribe([("iot-2/cmd/a/fmt/json", 0), ("iot-2/cmd/b/fmt/json", 0),
                          ("iot-2/cmd/c/fmt/json", 0)])
        d.mqtt_subscribe([("iot-2/cmd/a/fmt/json", 1)])       # the same filter again: no new one
        d.send(mqttraw.subscribe(3, [("iot-2/cmd/d/fmt/json", 0)]))
        d.expect_closed()
        self.assertEqual(self.assert_close_code(cid, 154),
                         "Too many producers or consumers in a single connection")
