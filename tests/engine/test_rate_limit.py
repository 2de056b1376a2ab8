"""tests/engine/test_rate_limit.py — read pacing in plain MQTT mode: off by
default; `rate_limit N` paces every connection at N message units per
second (1 + payload / rate_unit_bytes each), by not reading it (TCP
backpressure): nothing is dropped, nobody is disconnected, and another
connection on the same shard is not slowed by it (docs/CONFIGURATION.md,
docs/PLATFORM.md "Rate limits and throttling")."""

import threading
import time

from harness import TIMEOUT, BrokerTestCase, gannetd_only, uid


def flood(client, topic, n, qos=0):
    t0 = time.monotonic()
    infos = [client.publish(topic, b"%d" % i, qos, wait=False) for i in range(n)]
    for i in infos:
        if qos:
            i.wait_for_publish(TIMEOUT * 2)
    return time.monotonic() - t0


def span_of(sub, n, timeout=TIMEOUT):
    msgs = sub.get_n(n, timeout)
    return [m.payload for m in msgs], msgs[-1].timestamp - msgs[0].timestamp


@gannetd_only("gannetd's rate_limit setting")
class PacingOff(BrokerTestCase):
    shards = 1

    def test_off_by_default(self):
        topic = self.topic("off")
        sub = self.paho(uid("s"))
        sub.subscribe(topic, 1)
        pub = self.paho(uid("p"))
        flood(pub, topic, 200)
        got, span = span_of(sub, 200)
        self.assertEqual(got, [b"%d" % i for i in range(200)])
        self.assertLess(span, 2.0)


@gannetd_only("gannetd's rate_limit setting")
class PacingOn(BrokerTestCase):
    shards = 1
    gannetd_conf = "rate_limit 20\nrate_unit_bytes 1k\n"

    def test_paced_connection_loses_nothing_and_stays(self):
        topic = self.topic("on")
        sub = self.paho(uid("s"))
        sub.subscribe(topic, 1)
        pub = self.paho(uid("p"))
        other_topic = self.topic("other")
        sub2 = self.paho(uid("s2"))
        sub2.subscribe(other_topic, 1)
        t = threading.Thread(target=flood, args=(pub, topic, 60, 1))
        t.start()
        # a second publisher on the same shard, under its budget, is not held up
        time.sleep(0.5)
        other = self.paho(uid("o"))
        took = flood(other, other_topic, 15, 1)
        self.assertLess(took, 1.0)
        got, span = span_of(sub, 60)
        t.join(TIMEOUT)
        self.assertEqual(got, [b"%d" % i for i in range(60)])
        self.assertGreater(span, 1.5)       # 60 units at 20/s after a 20 unit burst: 2 s
        self.assertTrue(pub.c.is_connected())
        sub2.get_n(15)

    def test_payload_counts_in_units(self):
        topic = self.topic("units")
        sub = self.paho(uid("s"))
        sub.subscribe(topic, 1)
        pub = self.paho(uid("p"))
        # 4 KB payloads cost 5 units of 1 KB: 12 of them are 60 units
        t0 = time.monotonic()
        infos = [pub.publish(topic, b"x" * 4096, 1, wait=False) for _ in range(12)]
        for i in infos:
            i.wait_for_publish(TIMEOUT * 2)
        self.assertGreater(time.monotonic() - t0, 1.5)
        sub.get_n(12)
