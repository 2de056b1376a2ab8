"""tests/platform/test_rate_limits.py — rate limits and throttling
(PLATFORM.md S-094 ... S-099, S-135 ... S-140; docs/PLATFORM.md "Rate limits
and throttling").

Watson pacing: a client over its message units per second is not read
(TCP backpressure) until its budget refills; every message still arrives,
nobody is disconnected, and another client on the same shard (one shard
here) keeps its full rate. Ioto throttling: measured every period over
two periods, a throttle message on ioto/device/{id}/mqtt/throttle, and
close 94 for a device that stays over its limit. The Ioto tests run its
clock 30 times faster (platform_throttle_time_scale 30: a 1 s period, a
2 s minute; a test-only setting), one class at the real 30 s."""

import json
import threading
import time

from platform_harness import gannetctl, harness
from platform_harness import APP_TOKEN, ORG, OTHER_ORG, QUIET, TIMEOUT, TOKEN, PlatformTestCase, uid

EVT = "iot-2/type/+/id/+/evt/+/fmt/+"


def publish_all(client, n, qos_of=lambda i: 0, payload=lambda i: b"%d" % i,
                topic="iot-2/evt/e/fmt/txt"):
    """Publish n events as fast as paho takes them (QoS 1 ones are waited
    for at the end); returns the seconds it took to hand them over."""
    t0 = time.monotonic()
    infos = [client.publish(topic, payload(i), qos_of(i), wait=False)
             for i in range(n)]
    for info in infos:
        if info.mid and not info.is_published():
            info.wait_for_publish(TIMEOUT * 3)
    return time.monotonic() - t0


def receive_span(app, n, timeout):
    """Receive n messages; (their payloads, seconds from the first to the last)."""
    msgs, first, last = [], None, None
    deadline = time.monotonic() + timeout
    while len(msgs) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("got %d of %d messages within %.0fs" % (len(msgs), n, timeout))
        m = app.get(left)
        if "/mon" in m.topic:
            continue
        now = m.timestamp           # paho: time.monotonic() when it arrived
        first = first if first is not None else now
        last = now
        msgs.append(m.payload)
    return msgs, last - first


class WatsonPacing(PlatformTestCase):
    """One shard: the paced device and the unpaced one share it."""
    shards = 1
    org_settings = ("rate_device_in_msgs=10", "rate_device_in_bytes=40960")

    @classmethod
    def setup(cls):
        cls.slow = cls.device("sensor", "slow")
        cls.big = cls.device("sensor", "big")
        cls.live = cls.device("sensor", "live")
        cls.fast = cls.device("sensor", "fast", "d", TOKEN, OTHER_ORG)
        cls.reg("org", OTHER_ORG, "rate_model=off")
        cls.bulk = cls.device("bulk", "b1")
        gannetctl(cls.db, "type", "set", ORG, "bulk", "rate_in_msgs", "100000")

    def app_for(self, org, key):
        app = self.paho("a:%s:%s" % (org, uid("v")), "v311", username=key, password=APP_TOKEN)
        app.subscribe(EVT, 1)
        return app

    def test_S096_S097_paced_device_while_another_keeps_its_rate(self):
        app = self.app_for(ORG, self.apikey)
        other = self.app_for(OTHER_ORG, self.other_apikey)
        slow = self.paho_as(self.slow)
        fast = self.paho_as(self.fast)
        n_slow, n_fast = 50, 300
        # QoS 0 and QoS 1 interleaved: every one of them must arrive, in order
        qos = lambda i: i % 2  # noqa: E731
        t = threading.Thread(target=publish_all, args=(slow, n_slow, qos))
        t.start()
        time.sleep(0.3)             # the slow device is in its pause now
        t0 = time.monotonic()
        publish_all(fast, n_fast, qos)
        got_fast, _ = receive_span(other, n_fast, TIMEOUT)
        fast_s = time.monotonic() - t0
        got_slow, slow_span = receive_span(app, n_slow, TIMEOUT * 2)
        t.join(TIMEOUT)
        # nothing lost, and each QoS in order (paho holds QoS 1 messages
        # behind its in-flight window, so the two QoS interleave freely)
        for got, n in ((got_slow, n_slow), (got_fast, n_fast)):
            for q in (0, 1):
                self.assertEqual([g for g in got if int(g) % 2 == q],
                                 [b"%d" % i for i in range(n) if i % 2 == q])
        # 10 units/s with one second of burst: 50 messages need about 4 s
        self.assertGreater(slow_span, 3.0, "the device was not paced")
        # the other device on the same shard is not held back by it
        self.assertLess(fast_s, slow_span, "the unpaced device was slowed down")
        # S-096: no disconnect
        self.assertTrue(slow.c.is_connected())
        self.assertNotIn("close: client=%s " % self.slow, self.broker.log()[self.log_mark:])

    def test_S097_message_units_count_payload(self):
        # 40960 B/s over 10 msg/s: a unit is 4 KB, so a 16 KB event costs 5
        app = self.app_for(ORG, self.apikey)
        big = self.paho_as(self.big)
        # QoS 1: publish_all returns when the last PUBACK is in
        span = publish_all(big, 16, qos_of=lambda i: 1, payload=lambda i: b"%d-" % i + b"x" * 16384)
        got, _ = receive_span(app, 16, TIMEOUT * 2)
        self.assertEqual([g.split(b"-")[0] for g in got], [b"%d" % i for i in range(16)])
        # 80 units at 10/s with a 10 unit burst: about 7 s; 16 one-unit
        # messages would have taken 0.6 s
        self.assertGreater(span, 5.0)
        self.assertTrue(big.c.is_connected())

    def test_S094_org_rate_setting_takes_effect_live(self):
        app = self.app_for(ORG, self.apikey)
        dev = self.paho_as(self.live)
        n = 100
        t = threading.Thread(target=publish_all, args=(dev, n))
        t.start()
        try:
            receive_span(app, 20, TIMEOUT)      # paced at 10/s: 90 s for all of them
            t0 = time.monotonic()
            self.reg("org", ORG, "rate_device_in_msgs=100000")
            got, _ = receive_span(app, n - 20, TIMEOUT)
            self.assertLess(time.monotonic() - t0, 5.0, "the new rate did not apply")
        finally:
            self.registered("org", ORG, "rate_device_in_msgs=10")   # for the other tests
            t.join(TIMEOUT)


    def test_S094_device_type_rate_overrides_the_org(self):
        app = self.app_for(ORG, self.apikey)
        dev = self.paho_as(self.bulk)
        # rate_in_msgs 100000 for the type: 200 events are not held back
        publish_all(dev, 200)
        _, span = receive_span(app, 200, TIMEOUT)
        self.assertLess(span, 3.0, "the type's rate did not apply")
        # lowered live: 5 a second (the org's 4 KB unit stays)
        gannetctl(self.db, "type", "set", ORG, "bulk", "rate_in_msgs", "5")
        time.sleep(1.6 * harness.SCALE)     # registry poll + an idle shard's turn
        try:
            t = threading.Thread(target=publish_all, args=(dev, 15))
            t.start()
            got, span = receive_span(app, 15, TIMEOUT)
            t.join(TIMEOUT)
            self.assertEqual(got, [b"%d" % i for i in range(15)])
            self.assertGreater(span, 1.5)   # 15 at 5/s after a burst of 5: about 2 s
            self.assertTrue(dev.c.is_connected())     # a settings change is no revocation
        finally:
            gannetctl(self.db, "type", "set", ORG, "bulk", "rate_in_msgs", "100000")


class QuickstartRate(PlatformTestCase):
    shards = 1

    def test_S099_quickstart_one_message_per_second(self):
        dev = uid("q")
        app = self.paho("a:quickstart:%s" % uid("v"), "v311")
        app.subscribe("iot-2/type/+/id/%s/evt/+/fmt/+" % dev, 0)
        d = self.paho("d:quickstart:t:%s" % dev, "v311")
        publish_all(d, 4, topic="iot-2/evt/e/fmt/json")
        got, span = receive_span(app, 4, TIMEOUT)
        self.assertEqual(got, [b"0", b"1", b"2", b"3"])     # paced, not dropped
        self.assertGreater(span, 2.5)       # 1 msg/s: 3 s from the first to the fourth
        self.assertTrue(d.c.is_connected())


class IotoThrottle(PlatformTestCase):
    """rate_model ioto, 60 messages per device per hour: a 1 message a
    minute share, throttled above 8 a minute (light history) or 4."""
    shards = 1
    platform_conf = "platform_throttle_time_scale 30\n"    # period 1 s, minute 2 s
    org_settings = ("rate_model=ioto", "throttle_limit=60", "throttle_release_after=3")

    @classmethod
    def setup(cls):
        for name in ("burst", "calm", "abuser", "free", "switch"):
            cls.device("sensor", name)
        cls.device("chatty", "c1")
        gannetctl(cls.db, "type", "set", ORG, "chatty", "throttle_limit", "100000")
        cls.device("sensor", "other", "d", TOKEN, OTHER_ORG)

    def throttles(self, dev, n, timeout):
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            m = dev.get(max(0.0, deadline - time.monotonic()))
            if m.topic.endswith("/mqtt/throttle"):
                out.append((m.topic, json.loads(m.payload)))
        return out

    def subscribed(self, name):
        dev = self.paho_as("d:%s:sensor:%s" % (ORG, name))
        self.assertEqual(dev.subscribe("ioto/device/%s/mqtt/throttle" % name, 0), [0])
        return dev

    def test_S136_S138_throttle_message_on_its_topic(self):
        dev = self.subscribed("burst")
        took = publish_all(dev, 20)
        self.assertLess(took, 2.0, "ioto throttling must not pace")
        (topic, body), = self.throttles(dev, 1, 4 * QUIET + 3)
        self.assertEqual(topic, "ioto/device/burst/mqtt/throttle")
        self.assertLess(abs(body["timestamp"] / 1000.0 - time.time()), 30)     # S-138: epoch ms
        self.assertNotIn("close", body)
        self.assertTrue(dev.c.is_connected())
        self.assertIn("platform: throttle: d:%s:sensor:burst sent 20 units" % ORG,
                      self.broker.log()[self.log_mark:])

    def test_S136_under_the_burst_allowance_not_throttled(self):
        dev = self.subscribed("calm")
        publish_all(dev, 6)             # under 8x of a 1 per minute share
        time.sleep(3.5)                 # three measurements
        self.assertTrue(dev.messages.empty(), "throttled under the limit")

    def test_S140_persistent_abuse_released_with_close_94(self):
        cid = "d:%s:sensor:abuser" % ORG
        dev = self.subscribed("abuser")
        stop = threading.Event()

        def flood():
            while not stop.is_set() and dev.c.is_connected():
                dev.publish("iot-2/evt/e/fmt/txt", b"x", 0, wait=False)
                time.sleep(0.05)
        t = threading.Thread(target=flood)
        t.start()
        try:
            got = self.throttles(dev, 3, 8.0)
        finally:
            stop.set()
            t.join(TIMEOUT)
        self.assertEqual([("close" in b) for _, b in got], [False, False, True])
        self.assertIs(got[2][1]["close"], True)
        code, reason, line = self.close_line(cid)
        self.assertEqual(code, 94, line)
        self.assertEqual(reason, "The connection was closed by an administrator")
        self.assertIn("still over its limit, released", self.broker.log()[self.log_mark:])

    def test_S137_org_settings_take_effect_live(self):
        # a bigger limit: the same burst is no longer over it
        dev = self.subscribed("free")
        self.registered("org", ORG, "throttle_limit=100000")
        time.sleep(1.2 * harness.SCALE)
        try:
            publish_all(dev, 20)
            time.sleep(3.5)
            self.assertTrue(dev.messages.empty(), "throttled under the new limit")
        finally:
            self.registered("org", ORG, "throttle_limit=60")
        # another org switched from Watson pacing to Ioto throttling
        other = self.paho_as("d:%s:sensor:other" % OTHER_ORG)
        self.registered("org", OTHER_ORG, "rate_model=ioto", "throttle_limit=60")
        time.sleep(1.2 * harness.SCALE)     # an idle shard looks at the registry once a second
        try:
            self.assertEqual(other.subscribe("ioto/device/other/mqtt/throttle", 0), [0])
            took = publish_all(other, 40)
            self.assertLess(took, 3.0, "still paced after switching to ioto")
            self.throttles(other, 1, 4 * QUIET + 3)
        finally:
            self.registered("org", OTHER_ORG, "rate_model=watson")

    def test_S137_device_type_limit_overrides_the_org(self):
        dev = self.paho_as("d:%s:chatty:c1" % ORG)
        dev.subscribe("ioto/device/c1/mqtt/throttle", 0)
        publish_all(dev, 20)
        time.sleep(3.5)                 # the type's limit: not over it
        self.assertTrue(dev.messages.empty(), "throttled under the type's limit")
        gannetctl(self.db, "type", "set", ORG, "chatty", "throttle_limit", "60")
        time.sleep(1.6 * harness.SCALE)
        try:
            publish_all(dev, 20)
            self.throttles(dev, 1, 4 * QUIET + 3)
        finally:
            gannetctl(self.db, "type", "set", ORG, "chatty", "throttle_limit", "100000")

    def test_S138_only_its_own_throttle_topic(self):
        cid = "d:%s:sensor:switch" % ORG
        dev = self.raw_as(cid)
        # another device's throttle topic is outside its space (3.1.1: close 276)
        from platform_harness import mqttraw
        dev.send(mqttraw.subscribe(1, [("ioto/device/burst/mqtt/throttle", 0)]))
        dev.expect_closed()
        self.assert_close_code(cid, 276)


class IotoThrottleRealClock(PlatformTestCase):
    """The real 30 s measurement (S-136), once: a burst is answered at the
    next 30 s boundary."""
    shards = 1
    org_settings = ("rate_model=ioto", "throttle_limit=60")

    @classmethod
    def setup(cls):
        cls.device("sensor", "real")

    def test_S136_measured_every_30_seconds(self):
        dev = self.paho_as("d:%s:sensor:real" % ORG)
        dev.subscribe("ioto/device/real/mqtt/throttle", 0)
        t0 = time.monotonic()
        publish_all(dev, 20)
        m = dev.get(32.0 * harness.SCALE)
        self.assertTrue(m.topic.endswith("/mqtt/throttle"))
        self.assertLess(time.monotonic() - t0, 31.0 * harness.SCALE)
