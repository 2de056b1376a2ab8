"""tests/engine/test_mqtt5.py — MQTT 5 features: topic aliases both ways,
message expiry, maximum packet size both ways, request/response and user
properties passed through, server keep alive, PUBACK reason codes."""

import time
import unittest

import mqttraw as m
from harness import (BrokerTestCase, IS_GANNETD, IS_MOSQUITTO, NO_SKIP, SCALE, TIMEOUT,
                     gannetd_only, uid)


class Mqtt5Test(BrokerTestCase):

    def _sub(self, topic, qos=0, **kw):
        c = self.raw_connected(None, m.V5, **kw)
        c.mqtt_subscribe([(topic, qos), (topic + "/m", 0)])
        return c

    def _until_marker(self, c, marker_topic):
        got = []
        while True:
            p = c.next_publish()
            if p.topic == marker_topic:
                return got
            got.append(p)
            c.ack(p)

    def _marker(self, topic):
        """Publish the marker through this test's publisher (self.pub()):
        it follows the messages that went the same way."""
        self.pub().publish(topic + "/m", b"marker")

    def _expect_disconnect(self, c, rc):
        got = c.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT,
                        "expected DISCONNECT 0x%02x before close, got %r" % (rc, got))
        self.assertEqual(got[-1].rc, rc, "DISCONNECT reason")

    # -- topic aliases -------------------------------------------------

    def test_topic_alias_inbound(self):
        t = self.topic()
        s = self._sub(t)
        p = self.raw_connected(None, m.V5)
        tam = p.connack.prop(m.TOPIC_ALIAS_MAXIMUM, 0)
        if tam < 1:
            self.fail("broker accepts no inbound topic aliases (Topic Alias Maximum %d)" % tam)
        p.publish(t, b"first", props=[(m.TOPIC_ALIAS, 1)])
        p.publish("", b"second", props=[(m.TOPIC_ALIAS, 1)])
        p.publish("", b"third", qos=1, props=[(m.TOPIC_ALIAS, 1)])
        got = [(x.topic, x.payload) for x in (s.next_publish(), s.next_publish(), s.next_publish())]
        self.assertEqual(got, [(t, b"first"), (t, b"second"), (t, b"third")])

    def test_topic_alias_rebind(self):
        a, b = self.topic("/a"), self.topic("/b")
        s = self.raw_connected(None, m.V5)
        s.mqtt_subscribe([(a, 0), (b, 0)])
        p = self.raw_connected(None, m.V5)
        p.publish(a, b"1", props=[(m.TOPIC_ALIAS, 1)])
        p.publish(b, b"2", props=[(m.TOPIC_ALIAS, 1)])
        p.publish("", b"3", props=[(m.TOPIC_ALIAS, 1)])
        got = [(x.topic, x.payload) for x in (s.next_publish(), s.next_publish(), s.next_publish())]
        self.assertEqual(got, [(a, b"1"), (b, b"2"), (b, b"3")])

    def test_topic_alias_not_forwarded_to_subscriber(self):
        t = self.topic()
        s = self._sub(t)
        p = self.raw_connected(None, m.V5)
        p.publish(t, b"x", props=[(m.TOPIC_ALIAS, 1)])
        got = s.next_publish()
        self.assertEqual(got.topic, t)
        self.assertEqual(got.props_all(m.TOPIC_ALIAS), [],
                         "the publisher's alias leaked to a subscriber that allows none")

    def test_topic_alias_zero_is_error(self):
        # [MQTT-3.3.2-8] forbids alias 0 without naming a code: 0x94, 0x82 or 0x81.
        p = self.raw_connected(None, m.V5)
        p.send(m.publish(self.topic(), b"x", props=[(m.TOPIC_ALIAS, 0)], version=m.V5))
        got = p.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT, got)
        self.assertIn(got[-1].rc, (m.RC_TOPIC_ALIAS_INVALID, m.RC_PROTOCOL_ERROR, m.RC_MALFORMED))

    def test_topic_alias_above_maximum_is_error(self):
        p = self.raw_connected(None, m.V5)
        tam = p.connack.prop(m.TOPIC_ALIAS_MAXIMUM, 0)
        p.send(m.publish(self.topic(), b"x", props=[(m.TOPIC_ALIAS, tam + 1)], version=m.V5))
        self._expect_disconnect(p, m.RC_TOPIC_ALIAS_INVALID)

    def test_unknown_topic_alias_is_protocol_error(self):
        p = self.raw_connected(None, m.V5)
        p.send(m.publish("", b"x", props=[(m.TOPIC_ALIAS, 1)], version=m.V5))
        self._expect_disconnect(p, m.RC_PROTOCOL_ERROR)

    def test_topic_alias_outbound(self):
        t = self.topic()
        s = self._sub(t, props=[(m.TOPIC_ALIAS_MAXIMUM, 4)])
        with self.broker.raw_connected() as p:
            for i in range(5):
                p.publish(t, b"%d" % i)
        aliases, resolved, empty = {}, [], 0
        for _ in range(5):
            x = s.next_publish()
            alias = x.prop(m.TOPIC_ALIAS)
            if alias is not None:
                self.assertTrue(1 <= alias <= 4, "alias %d outside the client's maximum" % alias)
                if x.topic:
                    aliases[alias] = x.topic
                else:
                    empty += 1
                    self.assertIn(alias, aliases, "alias used before it was set")
            resolved.append((x.topic or aliases.get(alias), x.payload))
        self.assertEqual(resolved, [(t, b"%d" % i) for i in range(5)])
        if IS_GANNETD or NO_SKIP:
            self.assertGreater(empty, 0, "gannetd should send repeated topics as aliases")

    def test_no_outbound_alias_without_client_maximum(self):
        t = self.topic()
        s = self._sub(t)
        with self.broker.raw_connected() as p:
            for i in range(3):
                p.publish(t, b"%d" % i)
        for _ in range(3):
            x = s.next_publish()
            self.assertEqual(x.topic, t)
            self.assertIsNone(x.prop(m.TOPIC_ALIAS))

    # -- message expiry ------------------------------------------------

    def test_message_expiry_drops_stale(self):
        cid, t = uid("me"), self.topic()
        s = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 60)])
        s.mqtt_subscribe([(t, 1), (t + "/m", 1)])
        s.send(m.disconnect(version=m.V5))
        s.expect_closed()
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, b"stale", qos=1, props=[(m.MESSAGE_EXPIRY, 1)])
            p.publish(t, b"fresh", qos=1, pid=2, props=[(m.MESSAGE_EXPIRY, 60)])
            p.publish(t, b"forever", qos=1, pid=3)
        time.sleep(2.2)  # the expiry itself is what is under test
        s = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 0)])
        got = [s.next_publish(), s.next_publish()]
        for x in got:
            s.ack(x)
        self._marker(t)
        got += self._until_marker(s, t + "/m")
        self.assertEqual([x.payload for x in got], [b"fresh", b"forever"])
        fresh = got[0].prop(m.MESSAGE_EXPIRY)
        self.assertIsNotNone(fresh, "message expiry interval must be forwarded")
        self.assertLessEqual(fresh, 58, "expiry not decremented by the time spent queued")
        self.assertIsNone(got[1].prop(m.MESSAGE_EXPIRY))

    def test_message_expiry_forwarded_on_live_delivery(self):
        t = self.topic()
        s = self._sub(t)
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, b"x", props=[(m.MESSAGE_EXPIRY, 100)])
        e = s.next_publish().prop(m.MESSAGE_EXPIRY)
        self.assertIsNotNone(e)
        self.assertTrue(98 <= e <= 100, e)

    # -- maximum packet size -------------------------------------------

    def test_maximum_packet_size_respected(self):
        t = self.topic()
        s = self._sub(t, props=[(m.MAXIMUM_PACKET_SIZE, 256)])
        self.pub().publish(t, b"B" * 1000)
        self.pub().publish(t, b"small")
        self._marker(t)
        got = self._until_marker(s, t + "/m")
        self.assertEqual([x.payload for x in got], [b"small"],
                         "a packet over the client's Maximum Packet Size was sent")
        s.ping()

    # -- properties passed through ---------------------------------------

    def test_request_response_properties_pass_through(self):
        t = self.topic()
        s = self._sub(t)
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, b"req", qos=1, props=[(m.RESPONSE_TOPIC, t + "/reply"),
                                              (m.CORRELATION_DATA, b"\x00corr\xff")])
        x = s.next_publish()
        self.assertEqual(x.prop(m.RESPONSE_TOPIC), t + "/reply")
        self.assertEqual(x.prop(m.CORRELATION_DATA), b"\x00corr\xff")

    def test_user_properties_pass_through(self):
        t = self.topic()
        s = self._sub(t)
        ups = [(m.USER_PROPERTY, ("b", "2")), (m.USER_PROPERTY, ("a", "1")),
               (m.USER_PROPERTY, ("b", "3")), (m.USER_PROPERTY, ("ü", "ñ"))]
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, b"up", props=ups)
        x = s.next_publish()
        self.assertEqual(x.props_all(m.USER_PROPERTY), [v for _, v in ups],
                         "user properties must keep order and duplicates")

    def test_payload_format_and_content_type_pass_through(self):
        t = self.topic()
        s = self._sub(t)
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, "texte".encode(), props=[(m.PAYLOAD_FORMAT, 1),
                                                 (m.CONTENT_TYPE, "text/plain; charset=utf-8")])
        x = s.next_publish()
        self.assertEqual(x.prop(m.PAYLOAD_FORMAT), 1)
        self.assertEqual(x.prop(m.CONTENT_TYPE), "text/plain; charset=utf-8")

    def test_v5_properties_dropped_for_v311_subscriber(self):
        t = self.topic()
        s = self.raw_connected()
        s.mqtt_subscribe([(t, 0)])
        with self.broker.raw_connected(None, m.V5) as p:
            p.publish(t, b"plain", props=[(m.USER_PROPERTY, ("k", "v"))])
        x = s.next_publish()
        self.assertEqual((x.topic, x.payload), (t, b"plain"))

    def test_paho_v5_properties_round_trip(self):
        from harness import props
        t = self.topic()
        c = self.paho(protocol="v5")
        c.subscribe(t, 1)
        pp = props("PUBLISH", ResponseTopic="r/t", CorrelationData=b"cd",
                   UserProperty=[("x", "y")])
        c.publish(t, b"p", qos=1, properties=pp)
        msg = c.get()
        self.assertEqual(msg.properties.ResponseTopic, "r/t")
        self.assertEqual(msg.properties.CorrelationData, b"cd")
        self.assertEqual(msg.properties.UserProperty, [("x", "y")])

    def test_puback_reason_when_no_subscribers(self):
        with self.broker.raw_connected(None, m.V5) as p:
            ack = p.publish(self.topic("/nobody"), b"x", qos=1)
        self.assertIn(ack.rc, (m.RC_SUCCESS, m.RC_NO_MATCHING_SUBSCRIBERS))

    @gannetd_only("a Reason String is optional; gannetd always explains a server DISCONNECT")
    def test_reason_string_on_server_disconnect(self):
        c = self.raw_connected(None, m.V5)
        c.send(bytes([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]))  # QoS 3
        got = c.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT, got)
        self.assertTrue(got[-1].prop(m.REASON_STRING), "DISCONNECT without a Reason String")


class PacketLimitTest(BrokerTestCase):
    """Broker configured with a small Maximum Packet Size and keep-alive cap."""

    # mosquitto refuses a max_keepalive under 10 s.
    KEEPALIVE_CAP = 10 if IS_MOSQUITTO else 2
    mosquitto_conf = "max_packet_size 2000\nmax_keepalive 10\n"
    gannetd_conf = "max_packet_size 2000\nmax_keepalive 2\n"

    def test_maximum_packet_size_advertised(self):
        c = self.raw_connected(None, m.V5)
        self.assertEqual(c.connack.prop(m.MAXIMUM_PACKET_SIZE), 2000)

    def test_maximum_packet_size_inbound_enforced(self):
        c = self.raw_connected(None, m.V5)
        c.send(m.publish(self.topic(), b"Z" * 3000, version=m.V5))
        got = c.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT, got)
        self.assertEqual(got[-1].rc, m.RC_PACKET_TOO_LARGE)
        self.assert_broker_serves()

    def test_packet_just_under_maximum_accepted(self):
        t = self.topic()
        s = self.raw_connected(None, m.V5)
        s.mqtt_subscribe([(t, 0)])
        body = 2000 - 5 - 2 - len(t) - 1  # fixed header (<=5), topic, empty properties
        s.publish(t, b"Y" * body)
        self.assertEqual(len(s.next_publish().payload), body)

    def test_zero_keepalive_gets_server_keep_alive(self):
        c = self.raw_connected(None, m.V5, keepalive=0)
        self.assertEqual(c.connack.prop(m.SERVER_KEEP_ALIVE), self.KEEPALIVE_CAP)

    def test_keepalive_below_cap_kept(self):
        c = self.raw_connected(None, m.V5, keepalive=1)
        self.assertIn(c.connack.prop(m.SERVER_KEEP_ALIVE), (None, 1))

    def test_server_keep_alive(self):
        c = self.raw_connected(None, m.V5, keepalive=60)
        cap = self.KEEPALIVE_CAP
        self.assertEqual(c.connack.prop(m.SERVER_KEEP_ALIVE), cap)
        start = time.monotonic()
        c.expect_closed(timeout=TIMEOUT + 2 * cap)
        elapsed = time.monotonic() - start
        self.assertLess(elapsed, 1.5 * cap + 1.5 * SCALE, "server keep alive of %d s enforced after %.1fs"
                        % (cap, elapsed))


class MaxQosTest(BrokerTestCase):
    """Broker configured with a maximum QoS of 1."""

    mosquitto_conf = "max_qos 1\n"
    gannetd_conf = "max_qos 1\n"

    def test_maximum_qos_advertised(self):
        c = self.raw_connected(None, m.V5)
        self.assertEqual(c.connack.prop(m.MAXIMUM_QOS), 1)

    def test_subscription_granted_at_most_maximum_qos(self):
        c = self.raw_connected(None, m.V5)
        self.assertEqual(c.mqtt_subscribe([(self.topic(), 2)]).codes, [1])

    def test_publish_above_maximum_qos_closes_with_0x9b(self):
        c = self.raw_connected(None, m.V5)
        c.send(m.publish(self.topic(), b"q2", qos=2, pid=1, version=m.V5))
        got = c.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT, got)
        self.assertEqual(got[-1].rc, m.RC_QOS_NOT_SUPPORTED)
        self.assert_broker_serves()


@gannetd_only("mosquitto 2.0 has no cap on the Session Expiry Interval")
class SessionExpiryCapTest(BrokerTestCase):
    gannetd_conf = "max_session_expiry_interval 10\n"

    def test_session_expiry_capped_and_returned_in_connack(self):
        c = self.raw_connected(None, m.V5, props=[(m.SESSION_EXPIRY, 3600)])
        self.assertEqual(c.connack.prop(m.SESSION_EXPIRY), 10)

    def test_session_expiry_below_cap_kept(self):
        c = self.raw_connected(None, m.V5, props=[(m.SESSION_EXPIRY, 5)])
        self.assertIn(c.connack.prop(m.SESSION_EXPIRY), (None, 5))


if __name__ == "__main__":
    unittest.main()
