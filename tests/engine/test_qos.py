"""tests/engine/test_qos.py — QoS 0, 1 and 2 in both directions: the ack
handshakes, exactly-once, QoS downgrade, redelivery with DUP after
reconnect, offline queueing and per-topic ordering."""

import unittest

import mqttraw as m
from harness import BrokerTestCase, uid


class QosTest(BrokerTestCase):

    def test_qos0_delivery(self):
        sub = self.raw_connected()
        t = self.topic()
        sub.mqtt_subscribe([(t, 0)])
        pub = self.raw_connected()
        pub.publish(t, b"q0")
        p = sub.next_publish()
        self.assertEqual((p.topic, p.payload, p.qos, p.pid), (t, b"q0", 0, None))

    def test_qos1_puback_has_publish_packet_id(self):
        pub = self.raw_connected()
        pub.send(m.publish(self.topic(), b"x", qos=1, pid=4242))
        ack = pub.expect(m.PUBACK)
        self.assertEqual(ack.pid, 4242)

    def test_qos2_pubrec_pubrel_pubcomp(self):
        pub = self.raw_connected()
        pub.send(m.publish(self.topic(), b"x", qos=2, pid=777))
        self.assertEqual(pub.expect(m.PUBREC).pid, 777)
        pub.send(m.pubrel(777))
        self.assertEqual(pub.expect(m.PUBCOMP).pid, 777)

    def test_qos2_exactly_once(self):
        t = self.topic()
        sub = self.raw_connected()
        sub.mqtt_subscribe([(t, 2), (t + "/m", 0)])
        pub = self.raw_connected()
        pub.send(m.publish(t, b"once", qos=2, pid=9))
        self.assertEqual(pub.expect(m.PUBREC).pid, 9)
        # The sender did not see the PUBREC (as far as the broker knows) and resends.
        pub.send(m.publish(t, b"once", qos=2, pid=9, dup=True))
        self.assertEqual(pub.expect(m.PUBREC).pid, 9)
        pub.send(m.pubrel(9))
        self.assertEqual(pub.expect(m.PUBCOMP).pid, 9)
        # A resent PUBREL after PUBCOMP is answered again and delivers nothing.
        pub.send(m.pubrel(9))
        self.assertEqual(pub.expect(m.PUBCOMP).pid, 9)
        pub.publish(t + "/m", b"marker")
        got = []
        while True:
            p = sub.next_publish()
            if p.payload == b"marker":
                break
            got.append(p.payload)
            sub.ack(p)
        self.assertEqual(got, [b"once"])

    def test_qos_downgraded_to_subscription_qos(self):
        t = self.topic()
        s0, s1, s2 = self.raw_connected(), self.raw_connected(), self.raw_connected()
        s0.mqtt_subscribe([(t, 0)])
        s1.mqtt_subscribe([(t, 1)])
        s2.mqtt_subscribe([(t, 2)])
        self.raw_connected().publish(t, b"d", qos=2)
        self.assertEqual(s0.next_publish().qos, 0)
        self.assertEqual(s1.next_publish().qos, 1)
        self.assertEqual(s2.next_publish().qos, 2)

    def test_qos1_publish_to_qos2_subscriber_stays_qos1(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 2)])
        self.raw_connected().publish(t, b"d", qos=1)
        p = s.next_publish()
        self.assertEqual(p.qos, 1)
        self.assertIsNotNone(p.pid)
        self.assertNotEqual(p.pid, 0)

    def test_qos2_outbound_handshake(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 2)])
        self.raw_connected().publish(t, b"d2", qos=2)
        p = s.next_publish()
        self.assertEqual(p.qos, 2)
        s.send(m.pubrec(p.pid))
        self.assertEqual(s.expect(m.PUBREL).pid, p.pid)
        s.send(m.pubcomp(p.pid))
        s.ping()

    def _redelivery(self, version, props):
        cid, t = uid("rd"), self.topic()
        sub = self.raw_connected(cid, version, clean=False, props=props)
        sub.mqtt_subscribe([(t, 1)])
        self.raw_connected(None, version).publish(t, b"redeliver-me", qos=1)
        first = sub.next_publish()
        self.assertFalse(first.dup)
        sub.abort()  # no PUBACK, no DISCONNECT
        sub = self.raw_connected(cid, version, clean=False, props=props)
        self.assertTrue(sub.connack.session_present)
        again = sub.next_publish()
        self.assertEqual(again.payload, b"redeliver-me")
        self.assertTrue(again.dup, "redelivered PUBLISH must carry DUP=1")
        self.assertEqual(again.pid, first.pid, "redelivery must reuse the packet id")
        sub.ack(again)

    def test_redelivery_with_dup_after_reconnect(self):
        self._redelivery(m.V311, None)

    def test_redelivery_with_dup_after_reconnect_v5(self):
        self._redelivery(m.V5, [(m.SESSION_EXPIRY, 60)])

    def test_qos2_pubrel_resent_after_reconnect(self):
        cid, t = uid("rr"), self.topic()
        sub = self.raw_connected(cid, clean=False)
        sub.mqtt_subscribe([(t, 2), (t + "/m", 0)])
        self.raw_connected().publish(t, b"two", qos=2)
        p = sub.next_publish()
        sub.send(m.pubrec(p.pid))
        self.assertEqual(sub.expect(m.PUBREL).pid, p.pid)
        sub.abort()  # no PUBCOMP
        sub = self.raw_connected(cid, clean=False)
        rel = sub.expect(m.PUBREL)
        self.assertEqual(rel.pid, p.pid)
        sub.send(m.pubcomp(rel.pid))
        self.raw_connected().publish(t + "/m", b"marker")
        self.assertEqual(sub.next_publish().payload, b"marker",
                         "the QoS 2 message was delivered twice")

    def test_offline_qos1_messages_delivered_on_reconnect(self):
        cid, t = uid("off"), self.topic()
        sub = self.raw_connected(cid, clean=False)
        sub.mqtt_subscribe([(t, 1)])
        sub.send(m.disconnect())
        sub.expect_closed()
        pub = self.raw_connected()
        for i in range(5):
            pub.publish(t, b"off-%d" % i, qos=1, pid=i + 1)
        sub = self.raw_connected(cid, clean=False)
        got = []
        for _ in range(5):
            p = sub.next_publish()
            got.append(p.payload)
            sub.ack(p)
        self.assertEqual(got, [b"off-%d" % i for i in range(5)])

    def _ordering(self, qos, protocol, n=300):
        t = self.topic()
        sub = self.paho(protocol=protocol)
        sub.subscribe(t, qos)
        pub = self.paho(protocol=protocol, max_inflight=20)
        infos = [pub.publish(t, b"%06d" % i, qos=qos, wait=False) for i in range(n)]
        for info in infos:
            if qos:
                info.wait_for_publish(10)
        got = [msg.payload for msg in sub.get_n(n, timeout=30)]
        self.assertEqual(got, [b"%06d" % i for i in range(n)])

    def test_per_topic_ordering_qos0(self):
        self._ordering(0, "v311")

    def test_per_topic_ordering_qos1(self):
        self._ordering(1, "v311")

    def test_per_topic_ordering_qos2_v5(self):
        self._ordering(2, "v5")

    def test_qos1_both_directions_v31(self):
        t = self.topic()
        c = self.paho(protocol="v31")
        c.subscribe(t, 1)
        c.publish(t, b"v31-q1", qos=1)
        msg = c.get()
        self.assertEqual((msg.payload, msg.qos), (b"v31-q1", 1))

    def test_puback_for_unknown_id_is_harmless(self):
        c = self.raw_connected()
        c.send(m.puback(31337))
        c.ping()
        self.assert_broker_serves()


if __name__ == "__main__":
    unittest.main()
