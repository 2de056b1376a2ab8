"""tests/engine/test_tls.py — MQTT over TLS with real clients: paho-mqtt
(server verification, TLS 1.2 and 1.3, mutual TLS: good, wrong CA,
expired and missing client certificates), mosquitto_pub / mosquitto_sub
with --cafile and --cert/--key, ALPN on one port for MQTT and WebSockets,
clients moving shards with their TLS session, and bad input (plain MQTT
and garbage on a TLS port) closing only that connection. Certificates come
from tools/gannet-certs (tlsenv.py). The same tests run against mosquitto
with the same certificates (GANNET_BROKER=mosquitto), except ALPN."""

import json
import os
import queue
import socket
import ssl
import subprocess
import time
import unittest
import warnings

import mqttraw
import tlsenv
import wsraw
from test_flow_control import WindowedPublisher, drain, wait_stall
from harness import (HOST, IS_GANNETD, TIMEOUT, BrokerTestCase, MosquittoSub, gannetd_only,
                     mosquitto_pub, uid)

PORTS = tlsenv.Ports()


def refused(port, ctx):
    """True when a TLS client with ctx cannot get a CONNACK on port."""
    try:
        c = tlsenv.tls_raw(port, ctx, timeout=TIMEOUT)
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    try:
        c.send(mqttraw.connect(uid("x")))
        c.expect(mqttraw.CONNACK)
        return False
    except (mqttraw.ConnectionClosed, ssl.SSLError, ConnectionError, OSError):
        return True
    finally:
        c.close()


class TlsOptionalCertTest(BrokerTestCase):
    """Client certificates optional: verified when sent."""
    shards = 2
    gannetd_conf = tlsenv.gannetd_conf(PORTS, "optional", "log_level debug")
    mosquitto_conf = tlsenv.mosquitto_conf(PORTS)

    def tls_paho(self, protocol="v311", ctx=None, **kw):
        c = self.broker.paho(protocol=protocol, port=PORTS.tls, tls=ctx or tlsenv.client_context(),
                             **kw)
        self.clients.append(c)
        return c

    def test_paho_server_verification_pub_sub(self):
        t = self.topic()
        sub = self.tls_paho("v5")
        sub.subscribe(t, qos=1)
        pub = self.tls_paho("v311")
        for i in range(20):
            pub.publish(t, b"m%d" % i, qos=i % 2)
        got = [sub.get().payload for _ in range(20)]
        self.assertEqual(got, [b"m%d" % i for i in range(20)])

    def test_large_messages_cross_tls_records(self):
        t = self.topic()
        sub = self.tls_paho()
        sub.subscribe(t, qos=1)
        pub = self.tls_paho()
        big = bytes(range(256)) * 1024          # 256 KiB: many TLS records each way
        pub.publish(t, big, qos=1)
        self.assertEqual(sub.get().payload, big)

    def test_tls12_and_tls13(self):
        for ver in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            c = tlsenv.tls_raw(PORTS.tls, tlsenv.client_context(max_version=ver))
            self.clients.append(c)
            self.assertEqual(c.sock.version(), {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
                                                ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[ver])
            c.mqtt_connect(uid("v"))
            c.send(mqttraw.pingreq())
            c.expect(mqttraw.PINGRESP)

    def test_client_certificate_accepted(self):
        c = tlsenv.tls_raw(PORTS.tls, tlsenv.client_context(cert="client-t1-good"))
        self.clients.append(c)
        c.mqtt_connect(uid("m"))
        if IS_GANNETD:
            self.assertIn("client certificate CN d:t1:good", self.broker.log())

    def test_wrong_ca_on_the_client_fails_verification(self):
        ctx = tlsenv.client_context(ca="other/ca.crt")
        with self.assertRaises(ssl.SSLCertVerificationError):
            tlsenv.tls_raw(PORTS.tls, ctx)
        self.assert_broker_serves()

    @gannetd_only("tls_client_cert optional asks for a certificate; mosquitto asks only when it requires one")
    def test_certificate_from_another_ca_refused(self):
        self.assertTrue(refused(PORTS.tls, tlsenv.client_context(cert="other/client-t1-stranger")))
        self.assert_broker_serves()

    @gannetd_only("tls_client_cert optional asks for a certificate; mosquitto asks only when it requires one")
    def test_expired_client_certificate_refused(self):
        self.assertTrue(refused(PORTS.tls, tlsenv.client_context(cert="client-t1-expired")))
        self.assert_broker_serves()

    def test_mosquitto_clients_with_cafile_and_client_cert(self):
        t = self.topic()
        tls = ["--cafile", tlsenv.path("ca.crt")]
        mtls = tls + ["--cert", tlsenv.path("client-t1-good.crt"),
                      "--key", tlsenv.path("client-t1-good.key")]
        sub = MosquittoSub(PORTS.tls, t, qos=1, extra=mtls)
        self.clients.append(sub)
        sub.port = PORTS.tls
        wait_subscribed_tls(sub, tls)
        mosquitto_pub(PORTS.tls, t, "over-tls", qos=1, extra=tls)
        mosquitto_pub(PORTS.tls, t, "over-mtls", qos=1, version="mqttv5", extra=mtls)
        self.assertEqual(sub.get_lines(2), [t + " over-tls", t + " over-mtls"])

    def test_plain_mqtt_on_tls_port_closes_only_that_connection(self):
        keep = self.tls_paho()
        t = self.topic()
        keep.subscribe(t)
        c = mqttraw.RawClient(PORTS.tls, HOST, timeout=TIMEOUT)
        self.clients.append(c)
        c.send(mqttraw.connect(uid("plain")))
        # The broker answers with a TLS alert or nothing, never a CONNACK, and closes.
        with self.assertRaises((mqttraw.ConnectionClosed, mqttraw.MqttError)):
            for _ in range(3):
                p = c.read_packet()
                self.assertNotEqual(p.type, mqttraw.CONNACK)
        g = socket.create_connection((HOST, PORTS.tls), timeout=TIMEOUT)
        g.sendall(b"\x16\x03\x01\x00\x05hello" + bytes(range(256)) * 8)
        g.settimeout(TIMEOUT)
        try:
            while g.recv(4096):
                pass
        except ConnectionResetError:
            pass
        g.close()
        pub = self.tls_paho()
        pub.publish(t, b"still-here")
        self.assertEqual(keep.get().payload, b"still-here")
        self.assert_broker_serves()

    @gannetd_only("TLS 1.3 tickets issued once the client is on its owner shard")
    def test_tls13_session_resumption_after_shard_move(self):
        ctx = tlsenv.client_context()
        for i in range(4):      # client ids on either shard: some connections move
            cid = uid("res%d" % i)
            c = tlsenv.tls_raw(PORTS.tls, ctx)
            c.mqtt_connect(cid)
            c.send(mqttraw.pingreq())
            c.expect(mqttraw.PINGRESP)      # the ticket came before or with these
            session = c.sock.session
            c.close()
            self.assertIsNotNone(session)
            self.assertTrue(session.has_ticket, "no TLS 1.3 session ticket issued")
            again = tlsenv.tls_raw(PORTS.tls, ctx, session=session)
            self.clients.append(again)
            self.assertTrue(again.sock.session_reused, "TLS session not resumed")
            again.mqtt_connect(cid)

    def test_handshake_cut_midway(self):
        raw = socket.create_connection((HOST, PORTS.tls), timeout=TIMEOUT)
        ctx = tlsenv.client_context()
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname=HOST)
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        raw.sendall(out.read()[:40])    # half a ClientHello, then gone
        raw.close()
        self.assert_broker_serves()

    def test_clients_move_shards_with_their_tls_state(self):
        # Client ids hash to either shard; each connection is accepted by
        # whichever shard SO_REUSEPORT picks, so some move with their SSL.
        t = self.topic()
        sub = self.tls_paho()
        sub.subscribe(t + "/#", qos=1)
        pubs = [self.tls_paho(client_id=uid("mv%d" % i)) for i in range(12)]
        for i, p in enumerate(pubs):
            p.publish("%s/%d" % (t, i), b"x" * (100 + i * 300), qos=1)
        got = sorted(sub.get().topic for _ in pubs)
        self.assertEqual(got, sorted("%s/%d" % (t, i) for i in range(12)))


def wait_subscribed_tls(sub, tls):
    """MosquittoSub.wait_subscribed over TLS: publish probes until one comes
    back (get_lines skips probes)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        mosquitto_pub(sub.port, sub.probe_topic, "probe", extra=tls)
        try:
            line = sub.lines.get(timeout=0.3)
        except queue.Empty:
            continue
        if line.startswith(sub.probe_topic + " "):
            return
        sub.lines.put(line)
    raise AssertionError("mosquitto_sub over TLS never subscribed")


class TlsCase(BrokerTestCase):
    """A broker with fresh ports for its TLS / WebSocket listeners."""
    client_cert = "optional"
    extra_conf = "log_level debug"

    @classmethod
    def setUpClass(cls):
        cls.ports = tlsenv.Ports()
        cls.gannetd_conf = tlsenv.gannetd_conf(cls.ports, cls.client_cert, cls.extra_conf)
        cls.mosquitto_conf = tlsenv.mosquitto_conf(cls.ports, cls.client_cert == "required")
        super().setUpClass()


class TlsRequiredCertTest(TlsCase):
    """Client certificates required."""
    client_cert = "required"

    def test_good_certificate(self):
        c = tlsenv.tls_raw(self.ports.tls, tlsenv.client_context(cert="client-t1-good"))
        self.clients.append(c)
        c.mqtt_connect(uid("g"))

    def test_missing_certificate_refused(self):
        self.assertTrue(refused(self.ports.tls, tlsenv.client_context()))
        self.assert_broker_serves()

    def test_expired_certificate_refused(self):
        self.assertTrue(refused(self.ports.tls, tlsenv.client_context(cert="client-t1-expired")))

    def test_stranger_certificate_refused(self):
        self.assertTrue(refused(self.ports.tls, tlsenv.client_context(cert="other/client-t1-stranger")))

    @gannetd_only("failure classes in the debug log")
    def test_failures_are_named_in_the_log(self):
        refused(self.ports.tls, tlsenv.client_context())
        refused(self.ports.tls, tlsenv.client_context(cert="client-t1-expired"))
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            log = self.broker.log()
            if "client certificate missing" in log and "client certificate not valid" in log:
                return
            time.sleep(0.1)
        self.fail("failure classes not logged:\n" + self.broker.log()[-2000:])


@gannetd_only("gannetd pauses publishers instead of dropping QoS 1 (test_flow_control.py)")
class TlsBackpressureTest(TlsCase):
    """Paused reading with TLS: the plaintext waits in the carry, the
    ciphertext is already decrypted, nothing is lost or reordered; also
    with payloads spanning several TLS records and WebSocket frames."""
    extra_conf = "max_queued_messages 50"

    class _Via:
        def __init__(self, connect):
            self.raw_connected = connect

    def tls_connected(self, cid, version=mqttraw.V311, **kw):
        c = tlsenv.tls_raw(self.ports.tls, version=version)
        self.clients.append(c)
        c.connack = c.mqtt_connect(cid, **kw)
        return c

    def _run(self, size):
        t, n = self.topic(), 1500
        sub = self.tls_connected(uid("slow"), mqttraw.V5, props=[(mqttraw.RECEIVE_MAXIMUM, 10)])
        sub.mqtt_subscribe([(t, 1)])
        pub = WindowedPublisher(self._Via(self.tls_connected), t, n, size=size)
        pub.start()
        time.sleep(0.5)
        self.assertTrue(wait_stall(pub), "publisher never settled")
        self.assertLess(pub.acked, n, "the broker absorbed the whole stream")
        seqs = drain(sub, n)
        pub.join(TIMEOUT * 6)
        self.assertIsNone(pub.error)
        self.assertEqual(seqs, list(range(n)), "QoS 1 over TLS lost, duplicated or reordered")
        self.assertEqual(pub.acked, n, "the TLS publisher was not resumed")

    def test_small_messages(self):
        self._run(64)

    def test_messages_spanning_records(self):
        self._run(40000)


GNLOAD = os.path.join(os.path.dirname(os.environ.get("GANNETD", "")), "..", "..", "bench",
                      "loadgen", "gnload")


@unittest.skipUnless(os.access(GNLOAD, os.X_OK), "gnload not built next to gannetd")
@gannetd_only("mosquitto drops QoS 1 at gnload's unthrottled rate (PERFORMANCE.md)")
class GnloadTlsWsTest(TlsCase):
    """bench/loadgen's TLS and WebSocket client modes lose nothing (QoS 1 fan-in)."""

    def run_gnload(self, port, *extra):
        cmd = [GNLOAD, "--port", str(port), "--mode", "fanin", "--qos", "1", "--pubs", "2",
               "--subs", "1", "--count", "3000", "--json"] + list(extra)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT * 6)
        res = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertTrue(res["ok"], res)
        self.assertEqual((res["lost"], res["duplicates"], res["unique"]), (0, 0, 3000), res)

    def test_tls(self):
        self.run_gnload(self.ports.tls, "--cafile", tlsenv.path("ca.crt"))

    def test_tls12_with_client_certificate(self):
        self.run_gnload(self.ports.tls, "--tls12", "--cafile", tlsenv.path("ca.crt"),
                        "--cert", tlsenv.path("client-t1-good.crt"),
                        "--key", tlsenv.path("client-t1-good.key"))

    def test_ws_and_wss(self):
        self.run_gnload(self.ports.ws, "--ws")
        self.run_gnload(self.ports.wss, "--ws", "--cafile", tlsenv.path("ca.crt"))


@gannetd_only("tls_ciphers / tls_min_version are gannetd keys")
class TlsCipherPolicyTest(TlsCase):
    client_cert = "none"
    extra_conf = "tls_ciphers ECDHE-ECDSA-AES128-GCM-SHA256\ntls_ciphersuites TLS_AES_128_GCM_SHA256"

    def _ctx(self, ciphers=None, version=ssl.TLSVersion.TLSv1_2):
        ctx = tlsenv.client_context(max_version=version)
        if ciphers:
            ctx.set_ciphers(ciphers)
        return ctx

    def test_tls12_cipher_list_enforced(self):
        c = tlsenv.tls_raw(self.ports.tls, self._ctx("ECDHE-ECDSA-AES128-GCM-SHA256"))
        self.clients.append(c)
        self.assertEqual(c.sock.cipher()[0], "ECDHE-ECDSA-AES128-GCM-SHA256")
        c.mqtt_connect(uid("c"))
        with self.assertRaises(ssl.SSLError):
            tlsenv.tls_raw(self.ports.tls, self._ctx("ECDHE-ECDSA-AES256-GCM-SHA384"))
        self.assert_broker_serves()

    def test_tls13_suites(self):
        c = tlsenv.tls_raw(self.ports.tls, self._ctx(version=ssl.TLSVersion.TLSv1_3))
        self.clients.append(c)
        self.assertEqual(c.sock.cipher()[0], "TLS_AES_128_GCM_SHA256")

    def test_tls11_refused(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        # The broker's answer, not a local refusal: a protocol_version alert.
        with self.assertRaisesRegex(ssl.SSLError, "PROTOCOL_VERSION"):
            tlsenv.tls_raw(self.ports.tls, ctx)
        self.assert_broker_serves()


@gannetd_only("ALPN on one port (mosquitto has no ALPN listener)")
class AlpnTest(TlsCase):
    """alpn_port: "mqtt" and "http/1.1" (WebSockets) on one TLS port."""

    def test_alpn_mqtt(self):
        c = tlsenv.tls_raw(self.ports.alpn, tlsenv.client_context(alpn=["mqtt"]))
        self.clients.append(c)
        self.assertEqual(c.sock.selected_alpn_protocol(), "mqtt")
        c.mqtt_connect(uid("a"))

    def test_alpn_http_is_websockets(self):
        w = wsraw.WsClient(self.ports.alpn, ctx=tlsenv.client_context(alpn=["http/1.1"]))
        self.clients.append(w)
        self.assertEqual(w.sock.selected_alpn_protocol(), "http/1.1")
        status, headers = w.handshake()
        self.assertEqual(status, 101)
        w.send_mqtt(mqttraw.connect(uid("aw")))
        self.assertEqual(w.read_packet().type, mqttraw.CONNACK)

    def test_paho_websockets_over_alpn_port(self):
        t = self.topic()
        sub = self.broker.paho(port=self.ports.alpn, transport="websockets",
                               tls=tlsenv.client_context(alpn=["http/1.1"]))
        self.clients.append(sub)
        sub.subscribe(t)
        pub = self.broker.paho(port=self.ports.alpn, tls=tlsenv.client_context(alpn=["mqtt"]))
        self.clients.append(pub)
        pub.publish(t, b"alpn")
        self.assertEqual(sub.get().payload, b"alpn")

    def test_no_alpn_is_mqtt_by_default(self):
        c = tlsenv.tls_raw(self.ports.alpn, tlsenv.client_context())
        self.clients.append(c)
        self.assertIsNone(c.sock.selected_alpn_protocol())
        c.mqtt_connect(uid("n"))

    def test_unknown_alpn_refused(self):
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            tlsenv.tls_raw(self.ports.alpn, tlsenv.client_context(alpn=["h2"]))
        self.assert_broker_serves()


@gannetd_only("alpn_default websockets")
class AlpnDefaultWebSocketsTest(TlsCase):
    client_cert = "none"
    extra_conf = "alpn_default websockets"

    def test_no_alpn_gets_websockets(self):
        w = wsraw.WsClient(self.ports.alpn, ctx=tlsenv.client_context())
        self.clients.append(w)
        status, _ = w.handshake()
        self.assertEqual(status, 101)


@gannetd_only("start-up log without certificates")
class NoCertificateTest(BrokerTestCase):

    @classmethod
    def setUpClass(cls):
        cls.tls_port = tlsenv.Ports().tls
        cls.gannetd_conf = "tls_port %d\n" % cls.tls_port
        super().setUpClass()

    def test_tls_off_and_log_says_how_to_enable(self):
        self.assertIn("TLS listeners off", self.broker.log())
        self.assertIn("gannet-certs", self.broker.log())
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection((HOST, self.tls_port), timeout=TIMEOUT).close()


if __name__ == "__main__":
    unittest.main()
