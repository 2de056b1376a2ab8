"""tests/engine/test_websockets.py — MQTT over WebSockets (RFC 6455, the
"mqtt" subprotocol), plain and over TLS: paho-mqtt's websockets transport,
and a byte-level client (wsraw.py) for what paho does not do: several MQTT
packets in one frame, a packet split across frames, fragmented messages,
ping / pong, the close handshake, and bad input (unmasked or text frames,
oversized frames, bad upgrade requests), each closing only its own
connection. The same tests run against mosquitto's websockets listener
(GANNET_BROKER=mosquitto) except where marked."""

import struct
import unittest

import mqttraw
import tlsenv
import wsraw
from harness import TIMEOUT, BrokerTestCase, gannetd_only, uid

PORTS = tlsenv.Ports()


class WebSocketsTest(BrokerTestCase):
    shards = 2
    gannetd_conf = tlsenv.gannetd_conf(PORTS, "optional", "ws_max_frame 65536")
    mosquitto_conf = tlsenv.mosquitto_conf(PORTS)

    def ws(self, tls=False):
        w = wsraw.WsClient(PORTS.wss if tls else PORTS.ws,
                           ctx=tlsenv.client_context() if tls else None, timeout=TIMEOUT)
        self.clients.append(w)
        return w

    def ws_connected(self, tls=False, client_id=None):
        w = self.ws(tls)
        status, headers = w.handshake()
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-protocol"), "mqtt")
        w.send_mqtt(mqttraw.connect(client_id or uid("w")))
        p = w.read_packet()
        self.assertEqual(p.type, mqttraw.CONNACK)
        return w

    def paho_ws(self, tls=False, protocol="v311"):
        c = self.broker.paho(protocol=protocol, port=PORTS.wss if tls else PORTS.ws,
                             transport="websockets", tls=tlsenv.client_context() if tls else None)
        self.clients.append(c)
        return c

    # -- real clients

    def test_paho_websockets_pub_sub(self):
        t = self.topic()
        sub = self.paho_ws(protocol="v5")
        sub.subscribe(t, qos=1)
        pub = self.paho_ws()
        for i in range(10):
            pub.publish(t, b"w%d" % i, qos=1)
        self.assertEqual([sub.get().payload for _ in range(10)], [b"w%d" % i for i in range(10)])

    def test_paho_websockets_over_tls(self):
        t = self.topic()
        sub = self.paho_ws(tls=True)
        sub.subscribe(t, qos=1)
        pub = self.paho_ws(tls=True, protocol="v5")
        big = bytes(range(256)) * 200       # 51 KiB: frames and TLS records of several sizes
        pub.publish(t, big, qos=1)
        pub.publish(t, b"small", qos=0)
        self.assertEqual(sub.get().payload, big)
        self.assertEqual(sub.get().payload, b"small")

    def test_websocket_and_tcp_clients_meet(self):
        t = self.topic()
        sub = self.paho_ws()
        sub.subscribe(t)
        tcp = self.paho()
        tcp.publish(t, b"from-tcp")
        self.assertEqual(sub.get().payload, b"from-tcp")

    # -- framing

    def test_several_packets_in_one_frame_and_one_packet_over_frames(self):
        t = self.topic()
        w = self.ws_connected()
        w.send_mqtt(mqttraw.subscribe(1, [(t, 0)]))
        self.assertEqual(w.read_packet().type, mqttraw.SUBACK)
        three = b"".join(mqttraw.publish(t, b"p%d" % i) for i in range(3))
        w.send_mqtt(three + mqttraw.pingreq())
        split = mqttraw.publish(t, b"s" * 300)
        for i in range(0, len(split), 7):          # 7-byte frames, each its own message
            w.send(wsraw.frame(0x2, split[i:i + 7]))
        got = [w.read_packet() for _ in range(5)]
        pubs = [p.payload for p in got if p.type == mqttraw.PUBLISH]
        self.assertEqual(pubs, [b"p0", b"p1", b"p2", b"s" * 300])
        self.assertIn(mqttraw.PINGRESP, [p.type for p in got])

    def test_fragmented_message_with_ping_between(self):
        t = self.topic()
        w = self.ws_connected()
        w.send_mqtt(mqttraw.subscribe(1, [(t, 0)]))
        w.read_packet()
        data = mqttraw.publish(t, b"fragmented")
        w.send(wsraw.frame(0x2, data[:5], fin=False) + wsraw.frame(0x9, b"hi") +
               wsraw.frame(0x0, data[5:9], fin=False) + wsraw.frame(0x0, data[9:]))
        fin, op, payload = w.read_frame()
        self.assertEqual((op, payload), (0xA, b"hi"))       # pong echoes the ping
        self.assertEqual(w.read_packet().payload, b"fragmented")

    def test_close_handshake(self):
        w = self.ws_connected()
        w.send(wsraw.frame(0x8, struct.pack("!H", 1000)))
        frames = w.expect_closed()
        self.assertIn((True, 0x8, struct.pack("!H", 1000)), frames)

    # -- bad input: only that connection closes

    def _expect_close_code(self, w, code):
        frames = w.expect_closed()
        closes = [f for f in frames if f[1] == 0x8]
        self.assertTrue(closes, "no close frame before the broker closed: %r" % frames)
        self.assertEqual(struct.unpack("!H", closes[0][2][:2])[0], code)

    @gannetd_only("close code 1002 for an unmasked frame")
    def test_unmasked_frame_closes_1002(self):
        keep = self.ws_connected()
        w = self.ws_connected()
        w.send(wsraw.frame(0x2, mqttraw.pingreq(), mask=False))
        self._expect_close_code(w, 1002)
        keep.send_mqtt(mqttraw.pingreq())
        self.assertEqual(keep.read_packet().type, mqttraw.PINGRESP)
        self.assert_broker_serves()

    @gannetd_only("close codes 1003 / 1009 / 1002")
    def test_text_oversized_reserved_and_bad_control_frames(self):
        cases = [(wsraw.frame(0x1, b"text"), 1003),
                 (wsraw.frame(0x2, b"\0" * 70000), 1009),
                 (wsraw.frame(0x2, b"x", rsv=4), 1002),
                 (wsraw.frame(0x9, b"p", fin=False), 1002),
                 (wsraw.frame(0x0, b"orphan continuation"), 1002),
                 (wsraw.frame(0x2, b"a", fin=False) + wsraw.frame(0x2, b"b"), 1002),
                 (wsraw.frame(0x3, b""), 1002)]
        for data, code in cases:
            w = self.ws_connected()
            w.send(data)
            self._expect_close_code(w, code)
        self.assert_broker_serves()

    def test_malformed_mqtt_inside_a_frame(self):
        w = self.ws_connected()
        w.send_mqtt(b"\xf0\x00")        # reserved packet type
        w.expect_closed()
        self.assert_broker_serves()

    @gannetd_only("Debian's mosquitto 2.0.11 refuses further WebSocket connections after these requests")
    def test_bad_upgrades(self):
        cases = [(wsraw.upgrade_request(path="/other"), (400, 404, 101)),    # mosquitto ignores the path
                 (wsraw.upgrade_request(key="short"), (400,)),
                 (wsraw.upgrade_request(version="8"), (400, 426)),
                 (wsraw.upgrade_request(protocol="chat"), (400, 404, 101)),
                 (b"POST /mqtt HTTP/1.1\r\nHost: x\r\n\r\n", (400, 404, 405)),
                 (b"GET /mqtt HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 9000 + b"\r\n\r\n",
                  (400, 431, None))]
        for req, statuses in cases:
            w = self.ws()
            try:
                status, _ = w.handshake(req)
            except mqttraw.ConnectionClosed:
                status = None
            self.assertIn(status, statuses, req[:60])
            if status != 101:
                w.expect_closed()
        self.assert_broker_serves()

    @gannetd_only("exact statuses and the upgrade path option")
    def test_bad_upgrade_statuses(self):
        for req, status in [(wsraw.upgrade_request(path="/other"), 404),
                            (wsraw.upgrade_request(key="short"), 400),
                            (wsraw.upgrade_request(version="8"), 426),
                            (wsraw.upgrade_request(protocol="chat"), 400),
                            (b"POST /mqtt HTTP/1.1\r\n\r\n", 405),
                            (b"GET /mqtt HTTP/1.1\r\n" + b"X: " + b"a" * 9000 + b"\r\n\r\n", 431)]:
            w = self.ws()
            self.assertEqual(w.handshake(req)[0], status)
            w.expect_closed()
        w = self.ws()
        self.assertEqual(w.handshake(wsraw.upgrade_request(path="/mqtt?x=1", protocol=None))[0], 101)

    def test_upgrade_in_small_pieces_with_connect_behind_it(self):
        w = self.ws()
        req = wsraw.upgrade_request() + wsraw.frame(0x2, mqttraw.connect(uid("piece")))
        for i in range(0, len(req), 5):
            w.send(req[i:i + 5])
        status, _ = w.handshake(b"")
        self.assertEqual(status, 101)
        self.assertEqual(w.read_packet().type, mqttraw.CONNACK)

    def test_wss_raw_client_moves_shards(self):
        t = self.topic()
        sub = self.ws_connected(tls=True)
        sub.send_mqtt(mqttraw.subscribe(1, [(t + "/#", 0)]))
        sub.read_packet()
        for i in range(8):
            w = self.ws_connected(tls=True, client_id=uid("wm%d" % i))
            w.send_mqtt(mqttraw.publish("%s/%d" % (t, i), b"m"))
        got = sorted(sub.read_packet().topic for _ in range(8))
        self.assertEqual(got, sorted("%s/%d" % (t, i) for i in range(8)))


if __name__ == "__main__":
    unittest.main()
