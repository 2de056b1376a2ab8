"""tests/engine/test_protocol_errors.py — malformed input and protocol
violations: each closes the offending connection (MQTT 5: after a
DISCONNECT with the right reason code), and the broker keeps serving
everyone else without crashing or leaking (the ASan build checks the log)."""

import random
import socket
import time
import unittest

import mqttraw as m
from harness import BrokerTestCase, IS_GANNETD, NO_SKIP, TIMEOUT, uid

MALFORMED_OR_PROTOCOL = (m.RC_MALFORMED, m.RC_PROTOCOL_ERROR)


class ProtocolErrorTest(BrokerTestCase):

    def _closed(self, c, rcs=None):
        """The connection must close. For MQTT 5 with rcs given: a DISCONNECT
        before the close must carry one of rcs; gannetd must send one."""
        try:
            got = c.expect_closed()
        except TimeoutError:
            self.fail("the broker kept the connection open after a protocol error")
        acks = [p for p in got if p.type not in (m.DISCONNECT,)]
        if rcs is not None and c.version == m.V5:
            disc = [p for p in got if p.type == m.DISCONNECT]
            if IS_GANNETD or NO_SKIP:
                self.assertTrue(disc, "no DISCONNECT with a reason code before the close")
            for d in disc:
                self.assertIn(d.rc, rcs, "DISCONNECT reason 0x%02x" % d.rc)
        return acks

    def _v5(self):
        return self.raw_connected(None, m.V5)

    # -- framing ---------------------------------------------------------

    def test_malformed_remaining_length_closes(self):
        c = self._v5()
        c.send(b"\x30\xff\xff\xff\xff\x01")  # five length bytes
        self._closed(c, MALFORMED_OR_PROTOCOL)
        self.assert_broker_serves()

    def test_malformed_remaining_length_before_connect_closes(self):
        c = self.raw()
        c.send(b"\x10\xff\xff\xff\xff\xff\xff")
        self.assertEqual(self._closed(c), [])

    def test_huge_declared_length_then_close_is_harmless(self):
        c = self.raw_connected()
        c.send(b"\x30\xff\xff\xff\x7f" + b"\x00\x03abc" + b"x" * 100)
        time.sleep(0.1)
        c.abort()
        self.assert_broker_serves()

    def test_truncated_packet_then_close_is_harmless(self):
        c = self.raw_connected()
        c.send(m.publish(self.topic(), b"y" * 500)[:100])
        c.close()
        self.assert_broker_serves()

    def test_reserved_packet_type_0_closes(self):
        c = self._v5()
        c.send(b"\x00\x00")
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_server_only_packet_from_client_closes(self):
        c = self._v5()
        c.send(b"\x20\x03\x00\x00\x00")  # CONNACK from a client
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_auth_packet_in_v311_closes(self):
        c = self.raw_connected()
        c.send(b"\xf0\x00")
        self._closed(c)

    # -- CONNECT -----------------------------------------------------------

    def test_connect_reserved_flag_closes(self):
        c = self.raw()
        pkt = bytearray(m.connect(uid("rf")))
        pkt[9] |= 0x01
        c.send(bytes(pkt))
        acks = self._closed(c)
        self.assertFalse([p for p in acks if p.type == m.CONNACK and p.rc == 0])

    def test_connect_will_qos3_closes(self):
        c = self.raw()
        pkt = bytearray(m.connect(uid("wq"), will=dict(topic="w", payload=b"x", qos=1)))
        pkt[9] |= 0x18  # will QoS 3
        c.send(bytes(pkt))
        acks = self._closed(c)
        self.assertFalse([p for p in acks if p.type == m.CONNACK and p.rc == 0])

    def test_connect_will_qos_without_will_flag_closes(self):
        c = self.raw()
        pkt = bytearray(m.connect(uid("wf")))
        pkt[9] |= 0x08  # will QoS 1, will flag 0
        c.send(bytes(pkt))
        acks = self._closed(c)
        self.assertFalse([p for p in acks if p.type == m.CONNACK and p.rc == 0])

    def test_connect_wrong_protocol_name_closes(self):
        c = self.raw()
        pkt = bytearray(m.connect(uid("pn")))
        pkt[4:8] = b"MQTX"
        c.send(bytes(pkt))
        acks = self._closed(c)
        self.assertFalse([p for p in acks if p.type == m.CONNACK and p.rc == 0])

    def test_connect_duplicate_property_is_protocol_error(self):
        c = self.raw(m.V5)
        c.send(m.connect(uid("dp"), version=m.V5,
                         props=[(m.SESSION_EXPIRY, 1), (m.SESSION_EXPIRY, 2)]))
        got = c.expect_closed()
        for p in got:
            self.assertIn(p.type, (m.CONNACK, m.DISCONNECT))
            self.assertIn(p.rc, MALFORMED_OR_PROTOCOL)

    def test_garbage_instead_of_connect_closes(self):
        c = self.raw()
        # 'G' reads as a packet type 4 with length 'E' (69): pad so it is complete.
        c.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + b"\r\n" * 64)
        self.assertEqual(self._closed(c), [])

    # -- PUBLISH -----------------------------------------------------------

    def test_qos3_publish_closes_with_0x81(self):
        c = self._v5()
        c.send(bytes([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]))
        self._closed(c, (m.RC_MALFORMED,))

    def test_qos3_publish_closes_v311(self):
        c = self.raw_connected()
        c.send(bytes([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]))
        self._closed(c)

    def test_publish_qos1_packet_id_zero_closes(self):
        c = self._v5()
        c.send(m.publish(self.topic(), b"x", qos=1, pid=0, version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_publish_topic_with_wildcard_closes(self):
        for topic in ("a/+/b", "a/#"):
            c = self._v5()
            c.send(m.publish(topic, b"x", version=m.V5))
            self._closed(c, (m.RC_TOPIC_NAME_INVALID,) + MALFORMED_OR_PROTOCOL)

    def test_publish_invalid_utf8_topic_closes(self):
        c = self._v5()
        c.send(m.fixed(m.PUBLISH, 0, b"\x00\x03a\xc0\xaf" + b"\x00"))
        self._closed(c, (m.RC_TOPIC_NAME_INVALID,) + MALFORMED_OR_PROTOCOL)

    def test_publish_topic_with_nul_closes(self):
        c = self._v5()
        c.send(m.fixed(m.PUBLISH, 0, b"\x00\x03a\x00b" + b"\x00"))
        self._closed(c, (m.RC_TOPIC_NAME_INVALID,) + MALFORMED_OR_PROTOCOL)

    def test_publish_empty_topic_v311_closes(self):
        c = self.raw_connected()
        c.send(m.publish("", b"x"))
        self._closed(c)

    def test_publish_unknown_property_is_malformed(self):
        c = self._v5()
        body = m.utf8(self.topic()) + b"\x02\x7f\x00" + b"payload"
        c.send(m.fixed(m.PUBLISH, 0, body))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_publish_properties_longer_than_packet_is_malformed(self):
        c = self._v5()
        body = m.utf8(self.topic()) + b"\x40\x01\x00"
        c.send(m.fixed(m.PUBLISH, 0, body))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_publish_topic_longer_than_packet_is_malformed(self):
        c = self.raw_connected(None, m.V5)
        c.send(m.fixed(m.PUBLISH, 0, b"\x00\x40abc"))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_publish_qos0_with_dup_closes(self):
        # [MQTT-3.3.1-2]: DUP must be 0 for QoS 0.
        c = self._v5()
        c.send(m.publish(self.topic(), b"x", dup=True, version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_publish_with_subscription_identifier_closes(self):
        # [MQTT-3.3.4-6]: a client PUBLISH must not carry a Subscription Identifier.
        c = self._v5()
        c.send(m.publish(self.topic(), b"x", props=[(m.SUBSCRIPTION_ID, 3)], version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_connect_receive_maximum_zero_is_protocol_error(self):
        c = self.raw(m.V5)
        c.send(m.connect(uid("rm0"), version=m.V5, props=[(m.RECEIVE_MAXIMUM, 0)]))
        got = c.expect_closed()
        for p in got:
            self.assertIn(p.type, (m.CONNACK, m.DISCONNECT))
            self.assertIn(p.rc, MALFORMED_OR_PROTOCOL)

    def test_connect_maximum_packet_size_zero_is_protocol_error(self):
        c = self.raw(m.V5)
        c.send(m.connect(uid("mp0"), version=m.V5, props=[(m.MAXIMUM_PACKET_SIZE, 0)]))
        got = c.expect_closed()
        for p in got:
            self.assertIn(p.type, (m.CONNACK, m.DISCONNECT))
            self.assertIn(p.rc, MALFORMED_OR_PROTOCOL)

    # -- SUBSCRIBE / UNSUBSCRIBE / PUBREL ------------------------------------

    def test_subscription_identifier_zero_is_protocol_error(self):
        c = self._v5()
        c.send(m.subscribe(1, [(self.topic(), 0)], props=[(m.SUBSCRIPTION_ID, 0)], version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_subscribe_wrong_fixed_header_flags_closes(self):
        c = self._v5()
        pkt = bytearray(m.subscribe(1, [("a/b", 0)], version=m.V5))
        pkt[0] = 0x80  # flags must be 0b0010
        c.send(bytes(pkt))
        acks = self._closed(c, MALFORMED_OR_PROTOCOL)
        self.assertFalse([p for p in acks if p.type == m.SUBACK])

    def test_subscribe_without_topics_closes(self):
        c = self._v5()
        c.send(m.subscribe(1, [], version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_subscribe_reserved_option_bits_close(self):
        c = self._v5()
        c.send(m.subscribe(1, [("a/b", 0xC0)], version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_subscribe_qos3_closes(self):
        c = self.raw_connected()
        c.send(m.subscribe(1, [("a/b", 3)]))
        self._closed(c)

    def test_subscribe_invalid_filter_rejected(self):
        for flt in ("a/#/b", "a/b#", "a+/b"):
            c = self._v5()
            c.send(m.subscribe(4, [(flt, 0)], version=m.V5))
            try:
                p = c.read_packet()
            except m.ConnectionClosed:
                continue  # closing is allowed for a malformed filter
            if p.type == m.SUBACK:
                self.assertEqual(p.pid, 4)
                self.assertGreaterEqual(p.codes[0], 0x80, "invalid filter %r accepted" % flt)
            else:
                self.assertEqual(p.type, m.DISCONNECT)
                self.assertIn(p.rc, (m.RC_TOPIC_FILTER_INVALID,) + MALFORMED_OR_PROTOCOL)

    def test_unsubscribe_without_topics_closes(self):
        c = self._v5()
        c.send(m.unsubscribe(1, [], version=m.V5))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    def test_pubrel_wrong_flags_closes(self):
        c = self._v5()
        c.send(m.fixed(m.PUBREL, 0, b"\x00\x01"))
        self._closed(c, MALFORMED_OR_PROTOCOL)

    # -- survival ----------------------------------------------------------

    def test_random_bytes_never_take_the_broker_down(self):
        rng = random.Random(1234)
        for i in range(150):
            s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=TIMEOUT)
            data = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
            if i % 2:
                data = m.connect(uid("fz"), version=rng.choice((m.V311, m.V5))) + data
            try:
                s.sendall(data)
            except OSError:
                pass
            s.close()
        self.assert_broker_serves()

    def test_mutated_valid_packets_never_take_the_broker_down(self):
        rng = random.Random(4321)
        t = self.topic()
        valid = [m.publish(t, b"p" * 20, qos=1, pid=3, version=m.V5,
                           props=[(m.USER_PROPERTY, ("a", "b")), (m.TOPIC_ALIAS, 1)]),
                 m.subscribe(2, [(t + "/#", 0x2d)], props=[(m.SUBSCRIPTION_ID, 9)], version=m.V5),
                 m.unsubscribe(5, [t], version=m.V5), m.pubrel(3, version=m.V5),
                 m.disconnect(rc=4, props=[(m.REASON_STRING, "x")], version=m.V5)]
        for _ in range(150):
            pkt = bytearray(rng.choice(valid))
            for _ in range(rng.randint(1, 4)):
                pkt[rng.randrange(len(pkt))] = rng.getrandbits(8)
            s = socket.create_connection(("127.0.0.1", self.broker.port), timeout=TIMEOUT)
            try:
                s.sendall(m.connect(uid("mu"), version=m.V5) + bytes(pkt))
            except OSError:
                pass
            s.close()
        self.assert_broker_serves()

    def test_many_abrupt_disconnects_mid_handshake(self):
        for i in range(100):
            c = self.broker.raw()
            c.send(m.connect(uid("ab"), version=m.V5)[: (i % 20) + 1])
            c.abort()
        self.assert_broker_serves()


if __name__ == "__main__":
    unittest.main()
