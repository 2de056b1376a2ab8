"""tests/engine/test_subscriptions.py — topic filters and wildcards,
unsubscribe, subscription options (no local, retain as published, retain
handling), subscription identifiers and shared subscriptions."""

import unittest

import time

import mqttraw as m
from harness import TIMEOUT, BrokerTestCase, gannetd_only, uid


class SubscriptionTest(BrokerTestCase):

    def _until_marker(self, c, marker_topic):
        got = []
        while True:
            p = c.next_publish()
            if p.topic == marker_topic:
                return got
            got.append(p)
            c.ack(p)

    def _pub(self, topic, payload=b"x", qos=0, retain=False, props=None):
        """Publish through this test's one publisher (order kept with the marker)."""
        self.pub().publish(topic, payload, qos=qos, retain=retain, props=props)

    def test_single_level_wildcard(self):
        base = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(base + "/+/temp", 0), (base + "/m", 0)])
        for t in ("/a/temp", "/b/temp", "/a/b/temp", "/temp", "/a/temp/x"):
            self._pub(base + t, t.encode())
        self._pub(base + "/m")
        got = [p.topic for p in self._until_marker(s, base + "/m")]
        self.assertEqual(sorted(got), [base + "/a/temp", base + "/b/temp"])

    def test_multi_level_wildcard_matches_parent_and_children(self):
        base = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(base + "/a/#", 0), (base + "/m", 0)])
        for t in ("/a", "/a/b", "/a/b/c", "/ab", "/b/a"):
            self._pub(base + t)
        self._pub(base + "/m")
        got = [p.topic for p in self._until_marker(s, base + "/m")]
        self.assertEqual(sorted(got), [base + "/a", base + "/a/b", base + "/a/b/c"])

    def test_wildcards_do_not_match_dollar_topics(self):
        u = uid("")
        s = self.raw_connected()
        s.mqtt_subscribe([("+/%s/x" % u, 0), ("$dollar%s/%s/x" % (u, u), 0), ("m/" + u, 0)])
        self._pub("$dollar%s/%s/x" % (u, u), b"dollar")
        self._pub("m/" + u)
        got = self._until_marker(s, "m/" + u)
        self.assertEqual([(p.topic, p.payload) for p in got],
                         [("$dollar%s/%s/x" % (u, u), b"dollar")],
                         "'+' matched a $ topic, or the exact $ filter did not")

    def test_unsubscribe_stops_delivery(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 1), (t + "/m", 0)])
        self._pub(t, b"before")
        self.assertEqual(s.next_publish().payload, b"before")
        ack = s.mqtt_unsubscribe([t], pid=33)
        self.assertEqual(ack.pid, 33)
        self._pub(t, b"after")
        self._pub(t + "/m")
        self.assertEqual(self._until_marker(s, t + "/m"), [])

    def test_unsubscribe_v5_reason_codes(self):
        t = self.topic()
        s = self.raw_connected(None, m.V5)
        s.mqtt_subscribe([(t, 0)])
        ack = s.mqtt_unsubscribe([t, t + "/never"], pid=5)
        self.assertEqual(ack.codes, [0x00, 0x11])

    def test_subscribe_several_filters_one_packet(self):
        t = self.topic()
        s = self.raw_connected()
        ack = s.mqtt_subscribe([(t + "/0", 0), (t + "/1", 1), (t + "/2", 2)], pid=77)
        self.assertEqual((ack.pid, ack.codes), (77, [0, 1, 2]))

    def test_resubscribe_replaces_qos(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 0), (t + "/m", 0)])
        s.mqtt_subscribe([(t, 1)], pid=2)
        self._pub(t, b"q1", qos=1)
        self._pub(t + "/m")
        got = self._until_marker(s, t + "/m")
        self.assertEqual([(p.payload, p.qos) for p in got], [(b"q1", 1)],
                         "resubscribe must replace, not add, the subscription")

    def test_no_local(self):
        t = self.topic()
        c = self.raw_connected(None, m.V5)
        c.mqtt_subscribe([(t, m.sub_options(1, no_local=True)), (t + "/m", 0)])
        c.publish(t, b"own", qos=1)
        self._pub(t, b"other")
        self._pub(t + "/m")
        got = self._until_marker(c, t + "/m")
        self.assertEqual([p.payload for p in got], [b"other"])

    def test_retain_as_published(self):
        t = self.topic()
        rap = self.raw_connected(None, m.V5)
        rap.mqtt_subscribe([(t, m.sub_options(0, retain_as_published=True))])
        plain = self.raw_connected(None, m.V5)
        plain.mqtt_subscribe([(t, m.sub_options(0))])
        self._pub(t, b"live-retained", qos=1, retain=True)
        self.assertTrue(rap.next_publish().retain, "retain as published: RETAIN must stay 1")
        self.assertFalse(plain.next_publish().retain, "without the option RETAIN is 0 on live delivery")
        self._pub(t, b"", qos=1, retain=True)

    def _retained_on_subscribe(self, c, flt, rh, pid, expect):
        """Subscribe with retain handling rh; the payloads delivered for it:
        `expect` are awaited, then a marker shows that nothing more came."""
        c.mqtt_subscribe([(flt, m.sub_options(0, retain_handling=rh))], pid=pid)
        got = [c.next_publish().payload for _ in range(expect)]
        marker = flt + "/m%d" % pid
        c.mqtt_subscribe([(marker, 0)], pid=pid + 100)
        self._pub(marker)
        return got + [p.payload for p in self._until_marker(c, marker)]

    def test_retain_handling_0_sends_on_every_subscribe(self):
        t = self.topic()
        self._pub(t, b"kept", qos=1, retain=True)
        c = self.raw_connected(None, m.V5)
        self.assertEqual(self._retained_on_subscribe(c, t, 0, 1, 1), [b"kept"])
        self.assertEqual(self._retained_on_subscribe(c, t, 0, 2, 1), [b"kept"])

    def test_retain_handling_1_2(self):
        t = self.topic()
        self._pub(t, b"kept", qos=1, retain=True)
        c = self.raw_connected(None, m.V5)
        # 1: only when the subscription is new.
        self.assertEqual(self._retained_on_subscribe(c, t, 1, 1, 1), [b"kept"])
        self.assertEqual(self._retained_on_subscribe(c, t, 1, 2, 0), [],
                         "retain handling 1 resent retained on an existing subscription")
        # 2: never on subscribe.
        d = self.raw_connected(None, m.V5)
        self.assertEqual(self._retained_on_subscribe(d, t, 2, 3, 0), [],
                         "retain handling 2 sent retained messages")

    def test_subscription_identifiers(self):
        base = self.topic()
        c = self.raw_connected(None, m.V5)
        c.mqtt_subscribe([(base + "/#", 0)], pid=1, props=[(m.SUBSCRIPTION_ID, 5)])
        c.mqtt_subscribe([(base + "/a", 0)], pid=2, props=[(m.SUBSCRIPTION_ID, 300)])
        c.mqtt_subscribe([(base + "/m", 0)], pid=3)
        self._pub(base + "/a", b"both")
        self._pub(base + "/b", b"one")
        self._pub(base + "/m")
        got = self._until_marker(c, base + "/m")
        both = [p for p in got if p.payload == b"both"]
        ids = sorted(i for p in both for i in p.props_all(m.SUBSCRIPTION_ID))
        self.assertEqual(ids, [5, 300], "ids on the message matching both subscriptions")
        one = [p for p in got if p.payload == b"one"]
        self.assertEqual([p.props_all(m.SUBSCRIPTION_ID) for p in one], [[5]])

    def test_subscription_without_identifier_delivers_none(self):
        t = self.topic()
        c = self.raw_connected(None, m.V5)
        c.mqtt_subscribe([(t, 0)])
        self._pub(t, b"x")
        self.assertEqual(c.next_publish().props_all(m.SUBSCRIPTION_ID), [])

    def test_shared_subscription_each_message_once(self):
        t, group = self.topic(), uid("g")
        members = [self.raw_connected(None, m.V5) for _ in range(3)]
        for c in members:
            c.mqtt_subscribe([("$share/%s/%s" % (group, t), 1), (t + "/m", 0)])
        n = 60
        with self.broker.raw_connected(None, m.V5) as p:
            for i in range(n):
                p.publish(t, b"%d" % i, qos=1, pid=i + 1)
            p.publish(t + "/m", b"marker")
        counts = []
        seen = []
        for c in members:
            got = [int(pk.payload) for pk in self._until_marker(c, t + "/m")]
            counts.append(len(got))
            seen += got
        self.assertEqual(sorted(seen), list(range(n)), "lost or duplicated shared deliveries")
        self.assertTrue(all(counts), "a group member got nothing: %r" % counts)

    def test_shared_subscription_and_plain_subscription_both_deliver(self):
        t, group = self.topic(), uid("g")
        shared = self.raw_connected(None, m.V5)
        shared.mqtt_subscribe([("$share/%s/%s" % (group, t), 0)])
        plain = self.raw_connected(None, m.V5)
        plain.mqtt_subscribe([(t, 0)])
        self._pub(t, b"both")
        self.assertEqual(shared.next_publish().payload, b"both")
        self.assertEqual(plain.next_publish().payload, b"both")

    def test_shared_subscription_wildcard_filter(self):
        base, group = self.topic(), uid("g")
        c = self.raw_connected(None, m.V5)
        c.mqtt_subscribe([("$share/%s/%s/+/x" % (group, base), 0)])
        self._pub(base + "/dev1/x", b"w")
        p = c.next_publish()
        self.assertEqual((p.topic, p.payload), (base + "/dev1/x", b"w"))

    def test_unsubscribe_shared_subscription(self):
        t, group = self.topic(), uid("g")
        c = self.raw_connected(None, m.V5)
        flt = "$share/%s/%s" % (group, t)
        c.mqtt_subscribe([(flt, 0), (t + "/m", 0)])
        self.assertEqual(c.mqtt_unsubscribe([flt]).codes, [0])
        self._pub(t, b"after")
        self._pub(t + "/m")
        self.assertEqual(self._until_marker(c, t + "/m"), [])

    @gannetd_only("MQTT 5 4.8.2's SHOULD: mosquitto does not hand messages on")
    def test_shared_member_session_end_hands_unacked_to_another_member(self):
        """A member that acknowledges nothing (MQTT 5, Receive Maximum 3: 3
        in flight, the rest queued) loses its connection with its session
        ending (expiry 0): the other member gets every one of its messages,
        so it ends up with all of them exactly once."""
        t, group = self.topic(), uid("g")
        flt = "$share/%s/%s" % (group, t)
        keeper = self.raw_connected(None, m.V5)
        keeper.mqtt_subscribe([(flt, 1)])
        dropper = self.raw_connected(None, m.V5, props=[(m.RECEIVE_MAXIMUM, 3)])
        dropper.mqtt_subscribe([(flt, 1)])
        n = 40
        with self.broker.raw_connected(None, m.V5) as p:
            for i in range(n):
                p.publish(t, b"%d" % i, qos=1, pid=i + 1)
        time.sleep(0.3)
        unacked = dropper.collect(0.3)
        self.assertTrue(0 < len(unacked) <= 3, unacked)
        dropper.abort()
        kept = []
        deadline = time.monotonic() + TIMEOUT
        while len(kept) < n and time.monotonic() < deadline:
            try:
                pk = keeper.next_publish(timeout=0.5)
            except TimeoutError:
                continue
            keeper.ack(pk)
            kept.append(int(pk.payload))
        kept += [int(pk.payload) for pk in keeper.collect(0.3)]
        self.assertEqual(sorted(kept), list(range(n)))


if __name__ == "__main__":
    unittest.main()
