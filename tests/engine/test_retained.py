"""tests/engine/test_retained.py — retained messages: store, replace,
delete by empty payload, delivery on subscribe (wildcards, QoS), the retain
flag on live and stored delivery."""

import time
import unittest

import mqttraw as m
from harness import BrokerTestCase


class RetainedTest(BrokerTestCase):

    def _retain(self, topic, payload, qos=1, version=m.V311, props=None):
        with self.broker.raw_connected(None, version) as p:
            p.publish(topic, payload, qos=qos, retain=True, props=props)
            if qos == 0:
                p.ping()  # the broker has processed the PUBLISH

    def _subscribe_and_collect(self, flt, qos=0, version=m.V311, expect=0):
        """Subscribe, then return the retained PUBLISHes delivered on
        subscribe: `expect` of them are awaited, then everything before a
        marker published afterwards."""
        s = self.raw_connected(None, version)
        mt = self.topic("/marker")
        s.mqtt_subscribe([(flt, qos), (mt, 0)])
        got = []
        for _ in range(expect):
            pk = s.next_publish()
            got.append(pk)
            s.ack(pk)
        self.pub().publish(mt, b"marker")
        while True:
            pk = s.next_publish()
            if pk.payload == b"marker" and pk.topic == mt:
                return s, got
            got.append(pk)
            s.ack(pk)

    def test_retained_delivered_on_subscribe(self):
        t = self.topic()
        self._retain(t, b"stored")
        _, got = self._subscribe_and_collect(t, 1, expect=1)
        self.assertEqual([(p.topic, p.payload, p.retain) for p in got], [(t, b"stored", True)])

    def test_retained_replace(self):
        t = self.topic()
        self._retain(t, b"first")
        self._retain(t, b"second")
        _, got = self._subscribe_and_collect(t, 1, expect=1)
        self.assertEqual([p.payload for p in got], [b"second"])

    def test_retained_empty_payload_deletes(self):
        t = self.topic()
        self._retain(t, b"doomed")
        self._retain(t, b"")
        _, got = self._subscribe_and_collect(t, 1, expect=0)
        self.assertEqual(got, [], "retained message survived an empty retained publish")

    def test_retained_wildcard_subscribe_gets_all_matching(self):
        base = self.topic()
        for leaf in ("a", "b", "c/d"):
            self._retain(base + "/" + leaf, leaf.encode())
        self._retain(base + "x/other", b"not-matching")
        _, got = self._subscribe_and_collect(base + "/#", 1, expect=3)
        self.assertEqual(sorted(p.payload for p in got), [b"a", b"b", b"c/d"])
        _, got = self._subscribe_and_collect(base + "/+", 1, expect=2)
        self.assertEqual(sorted(p.payload for p in got), [b"a", b"b"])

    def test_retain_flag_cleared_on_live_delivery_v311(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 0)])
        with self.broker.raw_connected() as p:
            p.publish(t, b"live", qos=1, retain=True)
        pk = s.next_publish()
        self.assertEqual(pk.payload, b"live")
        self.assertFalse(pk.retain, "3.1.1: live delivery to an existing subscription has RETAIN=0")
        self._retain(t, b"")

    def test_retained_delivered_at_minimum_of_qos(self):
        t = self.topic()
        self._retain(t, b"q2", qos=2)
        _, got = self._subscribe_and_collect(t, 1, expect=1)
        self.assertEqual([(p.payload, p.qos) for p in got], [(b"q2", 1)])
        _, got = self._subscribe_and_collect(t, 0, expect=1)
        self.assertEqual([(p.payload, p.qos) for p in got], [(b"q2", 0)])

    def test_retained_qos0_publish_is_stored(self):
        t = self.topic()
        self._retain(t, b"q0", qos=0)
        _, got = self._subscribe_and_collect(t, 1, expect=1)
        self.assertEqual([(p.payload, p.qos) for p in got], [(b"q0", 0)])

    def test_retained_resent_on_resubscribe(self):
        # 3.1.1 [MQTT-3.8.4-3]: an identical SUBSCRIBE re-sends matching retained messages.
        t = self.topic()
        self._retain(t, b"again")
        s, got = self._subscribe_and_collect(t, 0, expect=1)
        self.assertEqual([p.payload for p in got], [b"again"])
        s.mqtt_subscribe([(t, 0)], pid=7)
        pk = s.next_publish()
        self.assertEqual((pk.payload, pk.retain), (b"again", True))

    def test_retained_v5_properties_kept(self):
        t = self.topic()
        props = [(m.CONTENT_TYPE, "text/plain"), (m.USER_PROPERTY, ("k", "v"))]
        self._retain(t, b"p", version=m.V5, props=props)
        _, got = self._subscribe_and_collect(t, 1, version=m.V5, expect=1)
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].prop(m.CONTENT_TYPE), "text/plain")
        self.assertEqual(got[0].props_all(m.USER_PROPERTY), [("k", "v")])

    def test_retained_message_expiry(self):
        t = self.topic()
        self._retain(t, b"short", version=m.V5, props=[(m.MESSAGE_EXPIRY, 1)])
        time.sleep(2.2)  # the expiry itself is what is under test
        _, got = self._subscribe_and_collect(t, 1, version=m.V5, expect=0)
        self.assertEqual(got, [], "an expired retained message was delivered")

    def test_retained_from_paho_v5_and_mosquitto_style_v31(self):
        t = self.topic()
        p = self.paho(protocol="v31")
        p.publish(t, b"from-v31", qos=1, retain=True)
        s = self.paho(protocol="v5")
        s.subscribe(t, 1)
        msg = s.get()
        self.assertEqual((msg.payload, msg.retain), (b"from-v31", 1))


if __name__ == "__main__":
    unittest.main()
