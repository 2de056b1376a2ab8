"""tests/engine/test_connect.py — CONNECT for MQTT 3.1, 3.1.1 and 5.0:
protocol versions, clean session / clean start, session present, session
expiry, client identifiers, takeover, keep-alive and ping."""

import os
import time
import unittest

import mqttraw as m
from harness import BrokerTestCase, IS_GANNETD, NO_SKIP, SCALE, TIMEOUT, uid


class ConnectTest(BrokerTestCase):

    def _roundtrip(self, protocol):
        c = self.paho(protocol=protocol)
        t = self.topic()
        c.subscribe(t, 1)
        c.publish(t, b"hello " + protocol.encode(), qos=1)
        msg = c.get()
        self.assertEqual(msg.topic, t)
        self.assertEqual(msg.payload, b"hello " + protocol.encode())

    def test_v31_mqisdp_client_connects_and_receives(self):
        with self.broker.raw(m.V31) as r:
            ack = r.mqtt_connect(uid("v31"), version=m.V31)
            self.assertEqual(ack.rc, 0)
        self._roundtrip("v31")

    def test_v311_client_connects_and_receives(self):
        self._roundtrip("v311")

    def test_v5_client_connects_and_receives(self):
        self._roundtrip("v5")

    def test_v311_persistent_session_present_and_kept(self):
        cid, t = uid("ps"), self.topic()
        c = self.raw_connected(cid, clean=False)
        self.assertFalse(c.connack.session_present)
        c.mqtt_subscribe([(t, 1)])
        c.send(m.disconnect())
        c.expect_closed()
        c = self.raw_connected(cid, clean=False)
        self.assertTrue(c.connack.session_present, "session present must be 1")
        with self.broker.raw_connected() as p:
            p.publish(t, b"kept", qos=1)
        self.assertEqual(c.next_publish().payload, b"kept")

    def test_clean_session_discards_previous_session(self):
        cid, t = uid("cs"), self.topic()
        c = self.raw_connected(cid, clean=False)
        c.mqtt_subscribe([(t, 1)])
        c.send(m.disconnect())
        c.expect_closed()
        c = self.raw_connected(cid, clean=True)
        self.assertFalse(c.connack.session_present)
        c.mqtt_subscribe([(t + "/marker", 0)])
        with self.broker.raw_connected() as p:
            p.publish(t, b"old-subscription", qos=1)
            p.publish(t + "/marker", b"marker")
        self.assertEqual(c.next_publish().payload, b"marker",
                         "the discarded subscription still delivered")

    def test_v5_clean_start_false_session_present(self):
        cid = uid("v5ps")
        c = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 60)])
        self.assertFalse(c.connack.session_present)
        c.send(m.disconnect(version=m.V5))
        c.expect_closed()
        c = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 60)])
        self.assertTrue(c.connack.session_present)
        c.send(m.disconnect(version=m.V5))
        c.expect_closed()
        c = self.raw_connected(cid, m.V5, clean=True)
        self.assertFalse(c.connack.session_present, "clean start must discard the session")

    def test_v311_empty_client_id_requires_clean_session(self):
        with self.broker.raw() as r:
            r.send(m.connect("", clean=False))
            ack = r.expect(m.CONNACK)
            self.assertEqual(ack.rc, m.V3_IDENTIFIER_REJECTED)
            r.expect_closed()
        with self.broker.raw() as r:
            ack = r.mqtt_connect("", clean=True)
            self.assertEqual(ack.rc, 0)
            r.ping()

    def test_assigned_client_identifier(self):
        ids = []
        for _ in range(2):
            c = self.raw_connected("", m.V5)
            assigned = c.connack.prop(m.ASSIGNED_CLIENT_ID)
            self.assertTrue(assigned, "CONNACK lacks an Assigned Client Identifier: %r" % c.connack)
            ids.append(assigned)
            c.ping()
        self.assertNotEqual(ids[0], ids[1], "two clients were assigned the same id")

    def test_session_expiry(self):
        cid, t = uid("se"), self.topic()
        c = self.raw_connected(cid, m.V5, clean=True, props=[(m.SESSION_EXPIRY, 1)])
        c.mqtt_subscribe([(t, 1)])
        c.send(m.disconnect(version=m.V5))
        c.expect_closed()
        # Within the interval the session is there.
        c = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 1)])
        self.assertTrue(c.connack.session_present)
        c.send(m.disconnect(version=m.V5))
        c.expect_closed()
        time.sleep(2.5)  # the expiry itself is what is under test
        c = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 1)])
        self.assertFalse(c.connack.session_present, "session outlived its expiry interval")
        c.mqtt_subscribe([(t + "/m", 0)])
        with self.broker.raw_connected() as p:
            p.publish(t, b"expired-subscription", qos=1)
            p.publish(t + "/m", b"marker")
        self.assertEqual(c.next_publish().payload, b"marker")

    def test_session_expiry_zero_ends_session_at_disconnect(self):
        cid = uid("se0")
        c = self.raw_connected(cid, m.V5, clean=False)
        c.send(m.disconnect(version=m.V5))
        c.expect_closed()
        c = self.raw_connected(cid, m.V5, clean=False)
        self.assertFalse(c.connack.session_present)

    def test_takeover_closes_old_with_0x8e(self):
        cid = uid("to")
        old = self.raw_connected(cid, m.V5)
        new = self.raw_connected(cid, m.V5)
        got = old.expect_closed()
        self.assertTrue(got and got[-1].type == m.DISCONNECT,
                        "old connection got no DISCONNECT: %r" % got)
        self.assertEqual(got[-1].rc, m.RC_SESSION_TAKEN_OVER)
        new.ping()

    def test_takeover_v311_closes_old_connection(self):
        cid = uid("to3")
        old = self.raw_connected(cid)
        new = self.raw_connected(cid)
        old.expect_closed()
        new.ping()

    def test_takeover_keeps_session_when_clean_start_false(self):
        cid, t = uid("tk"), self.topic()
        old = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 60)])
        old.mqtt_subscribe([(t, 1)])
        new = self.raw_connected(cid, m.V5, clean=False, props=[(m.SESSION_EXPIRY, 60)])
        self.assertTrue(new.connack.session_present)
        old.expect_closed()
        with self.broker.raw_connected() as p:
            p.publish(t, b"after-takeover", qos=1)
        msg = new.next_publish()
        self.assertEqual(msg.payload, b"after-takeover")
        new.ack(msg)
        new.send(m.disconnect(rc=0, props=[(m.SESSION_EXPIRY, 0)], version=m.V5))

    def test_unsupported_protocol_version_refused(self):
        with self.broker.raw() as r:
            pkt = bytearray(m.connect(uid("bad"), version=m.V311))
            pkt[8] = 7  # protocol level byte after "MQTT"
            r.send(bytes(pkt))
            got = r.expect_closed()
            for p in got:
                self.assertEqual(p.type, m.CONNACK)
                self.assertIn(p.rc, (m.V3_BAD_PROTOCOL, m.RC_UNSUPPORTED_PROTOCOL_VERSION))

    def test_first_packet_not_connect_closes(self):
        with self.broker.raw() as r:
            r.send(m.subscribe(1, [("a/b", 0)]))
            got = r.expect_closed()
            self.assertFalse([p for p in got if p.type == m.SUBACK], "SUBACK before CONNECT")

    def test_second_connect_is_protocol_error(self):
        c = self.raw_connected(None, m.V5)
        c.send(m.connect(uid("again"), version=m.V5))
        got = c.expect_closed()
        for p in got:
            self.assertEqual(p.type, m.DISCONNECT)
            self.assertEqual(p.rc, m.RC_PROTOCOL_ERROR)

    def test_username_password_accepted_by_default(self):
        c = self.raw_connected(None, username="user", password=b"secret")
        self.assertEqual(c.connack.rc, 0)
        c5 = self.raw_connected(None, m.V5, username="user", password=b"secret")
        self.assertEqual(c5.connack.rc, 0)

    def test_long_client_id_accepted(self):
        c = self.raw_connected("x" * 100 + uid(""))
        c.ping()

    def test_pingreq_gets_pingresp(self):
        for v in (m.V31, m.V311, m.V5):
            c = self.raw_connected(None, v)
            self.assertEqual(c.ping().type, m.PINGRESP)

    def test_keepalive_expiry_closes_connection(self):
        # Enforced at 1.5 x the client's keep-alive; 1.5 s of slack for a busy machine.
        keepalive = 2
        c = self.raw_connected(None, m.V5, keepalive=keepalive)
        start = time.monotonic()
        got = c.expect_closed(timeout=TIMEOUT)
        elapsed = time.monotonic() - start
        self.assertGreaterEqual(elapsed, keepalive - 0.1, "closed before the keep-alive ran out")
        self.assertLess(elapsed, 1.5 * keepalive + 1.5 * SCALE,
                        "keep-alive of %d s enforced only after %.1fs" % (keepalive, elapsed))
        for p in got:
            self.assertEqual(p.type, m.DISCONNECT)
            self.assertEqual(p.rc, m.RC_KEEP_ALIVE_TIMEOUT)

    def test_closed_connections_release_their_sockets(self):
        """Every connection the broker lets go gives its socket back: after
        a burst that ends with DISCONNECT, with an RST and with a plain
        close, the broker holds as many descriptors as before."""
        fd_dir = "/proc/%d/fd" % self.broker.proc.pid
        before = len(os.listdir(fd_dir))
        clients = [self.raw_connected(uid("fd%d" % i)) for i in range(60)]
        for i, c in enumerate(clients):
            if i % 3 == 0:
                c.send(m.disconnect())
                c.expect_closed()
            elif i % 3 == 1:
                c.abort()
            else:
                c.close()
        deadline = time.monotonic() + TIMEOUT
        while len(os.listdir(fd_dir)) > before and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertLessEqual(len(os.listdir(fd_dir)), before)

    def test_pingreq_keeps_connection_alive(self):
        c = self.raw_connected(None, keepalive=1)
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            c.ping()
            time.sleep(0.4)
        self.assertTrue(c.is_open())
        c.ping()


class ZeroLengthClientIdRefusedTest(BrokerTestCase):
    mosquitto_conf = "allow_zero_length_clientid false\n"
    gannetd_conf = "allow_zero_length_clientid false\n"

    def test_empty_client_id_refused_v5_0x85(self):
        with self.broker.raw(m.V5) as r:
            r.send(m.connect("", version=m.V5))
            rc = r.expect(m.CONNACK).rc
            self.assertGreaterEqual(rc, 0x80, "empty client id accepted")
            if IS_GANNETD or NO_SKIP:  # 0x85 is a MAY; mosquitto says 0x80
                self.assertEqual(rc, m.RC_CLIENT_ID_NOT_VALID)
            r.expect_closed()

    def test_empty_client_id_refused_v311(self):
        with self.broker.raw() as r:
            r.send(m.connect("", clean=True))
            self.assertEqual(r.expect(m.CONNACK).rc, m.V3_IDENTIFIER_REJECTED)
            r.expect_closed()

    def test_named_client_still_accepted(self):
        self.raw_connected(uid("named")).ping()


class AnonymousRefusedTest(BrokerTestCase):
    mosquitto_conf = "allow_anonymous false\n"
    gannetd_conf = "allow_anonymous false\n"

    def test_anonymous_refused_v311_rc5(self):
        with self.broker.raw() as r:
            r.send(m.connect(uid("anon")))
            self.assertEqual(r.expect(m.CONNACK).rc, 5)
            r.expect_closed()

    def test_anonymous_refused_v5_0x87(self):
        with self.broker.raw(m.V5) as r:
            r.send(m.connect(uid("anon"), version=m.V5))
            self.assertEqual(r.expect(m.CONNACK).rc, 0x87)
            r.expect_closed()


if __name__ == "__main__":
    unittest.main()
