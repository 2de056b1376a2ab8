"""tests/engine/test_will.py — will messages: sent on network loss,
keep-alive expiry, protocol error and takeover; not on a normal DISCONNECT;
MQTT 5 will delay, DISCONNECT with will (0x04), will properties."""

import time
import unittest

import mqttraw as m
from harness import BrokerTestCase, TIMEOUT, uid


class WillTest(BrokerTestCase):

    def _watch(self, topic, qos=1, version=m.V311):
        w = self.raw_connected(None, version)
        w.mqtt_subscribe([(topic, qos), (topic + "/marker", 0)])
        return w

    def _marker(self, w, topic):
        """Everything w receives before a marker published now."""
        self.pub().publish(topic + "/marker", b"marker")
        got = []
        while True:
            pk = w.next_publish()
            if pk.topic == topic + "/marker":
                return got
            got.append(pk)
            w.ack(pk)

    def _will_client(self, topic, version=m.V311, payload=b"gone", qos=1, retain=False,
                     will_props=None, cid=None, **kw):
        will = dict(topic=topic, payload=payload, qos=qos, retain=retain, props=will_props)
        return self.raw_connected(cid or uid("w"), version, will=will, **kw)

    def test_will_sent_on_network_loss(self):
        t = self.topic()
        w = self._watch(t)
        c = self._will_client(t)
        c.abort()
        pk = w.next_publish()
        self.assertEqual((pk.topic, pk.payload, pk.qos), (t, b"gone", 1))

    def test_will_sent_on_keepalive_expiry(self):
        t = self.topic()
        w = self._watch(t)
        self._will_client(t, keepalive=1)  # then silent, socket held open
        pk = w.next_publish(timeout=TIMEOUT)
        self.assertEqual(pk.payload, b"gone")

    def test_will_not_sent_on_normal_disconnect(self):
        t = self.topic()
        w = self._watch(t)
        c = self._will_client(t)
        c.send(m.disconnect())
        c.expect_closed()
        self.assertEqual(self._marker(w, t), [], "will sent after a normal DISCONNECT")

    def test_will_not_sent_on_normal_disconnect_v5(self):
        t = self.topic()
        w = self._watch(t)
        c = self._will_client(t, m.V5)
        c.send(m.disconnect(rc=0, version=m.V5))
        c.expect_closed()
        self.assertEqual(self._marker(w, t), [])

    def test_will_sent_on_protocol_error(self):
        t = self.topic()
        w = self._watch(t)
        c = self._will_client(t)
        c.send(bytes([0x36, 0x03, 0x00, 0x01, 0x61]))  # PUBLISH with QoS 3
        c.expect_closed()
        self.assertEqual(w.next_publish().payload, b"gone")

    def test_will_sent_on_takeover(self):
        t, cid = self.topic(), uid("wt")
        w = self._watch(t)
        old = self._will_client(t, cid=cid)
        self.raw_connected(cid)
        old.expect_closed()
        self.assertEqual(w.next_publish().payload, b"gone")

    def test_will_retained(self):
        t = self.topic()
        c = self._will_client(t, retain=True, payload=b"retained-will")
        c.abort()
        w = self.raw_connected()
        deadline = time.monotonic() + TIMEOUT
        while True:  # the will is published asynchronously; poll by subscribing
            w.mqtt_subscribe([(t, 1), (t + "/marker", 0)], pid=1)
            got = self._marker(w, t)
            if got or time.monotonic() > deadline:
                break
            w.mqtt_unsubscribe([t])
            time.sleep(0.1)
        self.assertEqual([(p.payload, p.retain) for p in got], [(b"retained-will", True)])
        with self.broker.raw_connected() as p:
            p.publish(t, b"", qos=1, retain=True)

    def test_will_qos2_delivered_at_qos2(self):
        t = self.topic()
        w = self._watch(t, qos=2)
        self._will_client(t, qos=2).abort()
        pk = w.next_publish()
        self.assertEqual((pk.payload, pk.qos), (b"gone", 2))
        w.ack(pk)

    def test_will_from_v31_client(self):
        t = self.topic()
        w = self._watch(t)
        self._will_client(t, m.V31, payload=b"v31-will").abort()
        self.assertEqual(w.next_publish().payload, b"v31-will")

    def test_will_delay_interval(self):
        t = self.topic()
        w = self._watch(t, version=m.V5)
        c = self._will_client(t, m.V5, will_props=[(m.WILL_DELAY, 2)],
                              props=[(m.SESSION_EXPIRY, 30)])
        lost = time.monotonic()
        c.abort()
        pk = w.next_publish(timeout=TIMEOUT)
        elapsed = time.monotonic() - lost
        self.assertEqual(pk.payload, b"gone")
        self.assertGreaterEqual(elapsed, 1.8, "will sent %.2fs after loss, before its 2 s delay"
                                % elapsed)

    def test_will_delay_cancelled_by_reconnect(self):
        t, cid = self.topic(), uid("wd")
        w = self._watch(t, version=m.V5)
        c = self._will_client(t, m.V5, cid=cid, will_props=[(m.WILL_DELAY, 2)],
                              props=[(m.SESSION_EXPIRY, 30)])
        c.abort()
        self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 30)])
        time.sleep(3.0)  # past the will delay: the will must not come
        self.assertEqual(self._marker(w, t), [], "will sent although the client came back")

    def test_will_sent_at_session_end_before_delay(self):
        # Will delay 30 s but the session expires after 1 s: the will goes at session end.
        t = self.topic()
        w = self._watch(t, version=m.V5)
        c = self._will_client(t, m.V5, will_props=[(m.WILL_DELAY, 30)],
                              props=[(m.SESSION_EXPIRY, 1)])
        c.abort()
        self.assertEqual(w.next_publish(timeout=TIMEOUT).payload, b"gone")

    def test_disconnect_with_will_message_0x04(self):
        t = self.topic()
        w = self._watch(t, version=m.V5)
        c = self._will_client(t, m.V5)
        c.send(m.disconnect(rc=m.RC_DISCONNECT_WITH_WILL, version=m.V5))
        c.expect_closed()
        self.assertEqual(w.next_publish().payload, b"gone")

    def test_will_v5_properties_pass_through(self):
        t = self.topic()
        w = self._watch(t, version=m.V5)
        props = [(m.CONTENT_TYPE, "application/x-test"), (m.USER_PROPERTY, ("why", "lost")),
                 (m.RESPONSE_TOPIC, "reply/here"), (m.CORRELATION_DATA, b"\x01\x02")]
        self._will_client(t, m.V5, will_props=props).abort()
        pk = w.next_publish()
        self.assertEqual(pk.prop(m.CONTENT_TYPE), "application/x-test")
        self.assertEqual(pk.props_all(m.USER_PROPERTY), [("why", "lost")])
        self.assertEqual(pk.prop(m.RESPONSE_TOPIC), "reply/here")
        self.assertEqual(pk.prop(m.CORRELATION_DATA), b"\x01\x02")

    def test_paho_will_on_v5_disconnect_with_will(self):
        t = self.topic()
        w = self.paho(protocol="v5")
        w.subscribe(t, 1)
        c = self.paho(protocol="v5", will=dict(topic=t, payload=b"paho-will", qos=1))
        c.disconnect(reasoncode=m.RC_DISCONNECT_WITH_WILL)
        self.assertEqual(w.get().payload, b"paho-will")


if __name__ == "__main__":
    unittest.main()
